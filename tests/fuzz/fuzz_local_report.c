/*
 * libFuzzer target: SGX REPORT and TARGETINFO framing. Any input that parses
 * must serialize back to the same bytes, and the simulated MAC check must
 * run on any report without crashing (with a fixed platform secret, it
 * fails on all but the rarest inputs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <attest/local.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8};

    attest_sgx_report report;
    attest_diag diag;
    if (attest_sgx_report_parse(data, size, &report, &diag) == ATTEST_OK) {
        uint8_t out[ATTEST_SGX_REPORT_SIZE];
        attest_sgx_report_serialize(&report, out);
        if (size != sizeof(out) || memcmp(out, data, size) != 0) {
            abort();
        }
        attest_local_enclave verifier;
        attest_local_enclave_init(&verifier);
        memcpy(verifier.mr_enclave, report.body.mr_enclave, sizeof(verifier.mr_enclave));
        attest_err err = attest_local_sim_report_verify(secret, &verifier, &report, &diag);
        if (err != ATTEST_OK && err != ATTEST_ERR_REPORT_MAC) {
            abort();
        }
    }

    attest_sgx_target_info target;
    if (attest_sgx_target_info_parse(data, size, &target, &diag) == ATTEST_OK) {
        uint8_t out[ATTEST_SGX_TARGET_INFO_SIZE];
        attest_sgx_target_info_serialize(&target, out);
        if (size != sizeof(out) || memcmp(out, data, size) != 0) {
            abort();
        }
    }
    return 0;
}
