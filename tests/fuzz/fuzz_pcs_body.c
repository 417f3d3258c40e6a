/* libFuzzer target: splitting a PCS response body into its signed object and signature. */
#include <stdint.h>
#include <stdlib.h>

#include <attest/collateral.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"tcbInfo", "enclaveIdentity"};
    for (size_t i = 0; i < 2; i++) {
        attest_bytes object = {0};
        attest_bytes signature = {0};
        if (attest_collateral_split_pcs_body((const char *)data, size, keys[i], &object, &signature,
                                             NULL) == ATTEST_OK) {
            /* The span found must lie inside the body, with a 64-byte signature. */
            if (object.size > size || signature.size != 64) {
                abort();
            }
            free(object.data);
            free(signature.data);
        }
    }
    return 0;
}
