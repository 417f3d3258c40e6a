/* libFuzzer target: TCB info parsing, then matching against fixed inputs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <attest/tcb.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attest_tcb_info info;
    attest_diag diag = {{0}};
    if (attest_tcb_info_parse((const char *)data, size, &info, &diag) != ATTEST_OK) {
        return 0;
    }

    /* Match a low and a high platform, as SGX or TDX as the document is, TD 1.5 included. */
    attest_tcb_inputs inputs;
    for (int fill = 0; fill <= 255; fill += 255) {
        memset(&inputs, fill, sizeof(inputs));
        inputs.tdx = info.id == ATTEST_TCB_INFO_TDX;
        inputs.td15 = true;
        inputs.tee_tcb_svn[1] = (uint8_t)(fill == 0 ? 0 : 1);
        inputs.tee_tcb_svn2[1] = (uint8_t)(fill == 0 ? 0 : 3);
        attest_tcb_match match;
        if (attest_tcb_level_match(&info, &inputs, &match, &diag) == ATTEST_OK) {
            (void)attest_tcb_status_name(match.status);
            (void)attest_tcb_match_merge_qe(&match, ATTEST_TCB_OUT_OF_DATE);
        }
    }

    attest_tcb_info_free(&info);
    return 0;
}
