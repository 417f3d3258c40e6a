/*
 * libFuzzer target: arbitrary bytes as the DER value of the SGX extension of
 * a PCK certificate. The parser must return ATTEST_OK or
 * ATTEST_ERR_PCK_EXTENSION, and an SGX type in range after ATTEST_OK. Any
 * crash, leak or sanitizer report is a finding too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <attest/pck.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attest_pck_info info;
    attest_diag diag = {{0}};
    attest_err err = attest_pck_extension_parse(data, size, &info, &diag);

    if (err == ATTEST_OK && (unsigned)info.sgx_type > ATTEST_SGX_TYPE_SCALABLE_WITH_INTEGRITY) {
        abort();
    }
    if (err != ATTEST_OK && err != ATTEST_ERR_PCK_EXTENSION) {
        abort();
    }
    return 0;
}
