/* libFuzzer target: quote framing, serialization round trip, and full verification. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <attest/attest.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attest_quote quote;
    attest_diag diag;
    if (attest_quote_parse(data, size, &quote, &diag) == ATTEST_OK) {
        /* A parsed quote must serialize back to exactly the bytes it came from. */
        size_t out_size = 0;
        if (attest_quote_serialize(&quote, NULL, 0, &out_size) != ATTEST_OK || out_size != size) {
            abort();
        }
        uint8_t *out = malloc(out_size);
        if (out == NULL || attest_quote_serialize(&quote, out, out_size, &out_size) != ATTEST_OK ||
            memcmp(out, data, size) != 0) {
            abort();
        }
        free(out);
    }

    /* The verifier must survive any bytes, including a chain that parses. */
    static attest_verifier *verifier;
    static attest_report report;
    if (verifier == NULL && attest_verifier_new(&verifier) != ATTEST_OK) {
        abort();
    }
    (void)attest_verify_quote(verifier, data, size, NULL, 1688173200, NULL, &report);
    return 0;
}
