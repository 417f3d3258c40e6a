/* libFuzzer target: QE identity parsing and QE level matching. */
#include <stddef.h>
#include <stdint.h>

#include <attest/tcb.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attest_qe_identity identity;
    attest_diag diag = {{0}};
    if (attest_qe_identity_parse((const char *)data, size, &identity, &diag) != ATTEST_OK) {
        return 0;
    }

    const attest_isvsvn_level *level = NULL;
    if (attest_qe_level_match(&identity, 4, &level, &diag) == ATTEST_OK) {
        (void)attest_tcb_status_merge_qe(ATTEST_TCB_UP_TO_DATE, level->status);
    }

    attest_qe_identity_free(&identity);
    return 0;
}
