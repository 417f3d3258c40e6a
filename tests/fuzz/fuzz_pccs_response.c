/*
 * libFuzzer target: the parts of a PCCS response the client decodes itself,
 * the URL-encoded issuer chain of a response header and the CRL
 * distribution point of the first certificate in a PEM chain.
 */
#include <stdint.h>
#include <stdlib.h>

#include <attest/pccs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *decoded = NULL;
    size_t decoded_size = 0;
    if (attest_pccs_url_decode((const char *)data, size, &decoded, &decoded_size, NULL) ==
        ATTEST_OK) {
        if (decoded_size > size) {
            abort(); /* URL decoding never grows the text */
        }
        char *url = NULL;
        if (attest_pccs_crl_distribution_point((const uint8_t *)decoded, decoded_size, &url, NULL) ==
            ATTEST_OK) {
            free(url);
        }
        free(decoded);
    }
    char *url = NULL;
    if (attest_pccs_crl_distribution_point(data, size, &url, NULL) == ATTEST_OK) {
        free(url);
    }
    return 0;
}
