/* libFuzzer target: collateral bundles and PCS response bodies of both kinds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <attest/collateral.h>

static void split(const uint8_t *data, size_t size, const char *key)
{
    attest_bytes object = {NULL, 0};
    attest_bytes signature = {NULL, 0};
    attest_diag diag = {{0}};
    if (attest_collateral_split_pcs_body((const char *)data, size, key, &object, &signature,
                                         &diag) == ATTEST_OK) {
        free(object.data);
        free(signature.data);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attest_collateral collateral;
    attest_diag diag = {{0}};
    if (attest_collateral_from_bundle((const char *)data, size, &collateral, &diag) ==
        ATTEST_OK) {
        attest_collateral_clear(&collateral);
    }

    split(data, size, "tcbInfo");
    split(data, size, "enclaveIdentity");
    return 0;
}
