/*
 * libFuzzer target: a collateral bundle from the input verified together with
 * a real quote, which drives the CRL, issuer chain, TCB info and QE identity
 * checks of the verifier. ATTEST_FUZZ_QUOTE names the quote file (default:
 * the SGX v3 quote of the real data beside the checkout).
 */
#include <stdint.h>
#include <stdlib.h>

#include <attest/attest.h>

static uint8_t *quote;
static size_t quote_size;
static attest_verifier *verifier;
static attest_report report;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *path = getenv("ATTEST_FUZZ_QUOTE");
    if (path == NULL) {
        path = "../shared/data/real/sgx/phala-sgx-v3.quote";
    }
    if (attest_quote_read_file(path, &quote, &quote_size, NULL) != ATTEST_OK ||
        attest_verifier_new(&verifier) != ATTEST_OK) {
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attest_collateral collateral = {0};
    if (attest_collateral_from_bundle((const char *)data, size, &collateral, NULL) != ATTEST_OK) {
        return 0;
    }
    /* Both the cached and the uncached path must survive any collateral. */
    attest_verify_options uncached = {true, true};
    (void)attest_verify_quote(verifier, quote, quote_size, &collateral, 1752919277, &uncached,
                              &report);
    (void)attest_verify_quote(verifier, quote, quote_size, &collateral, 1752919277, NULL, &report);
    attest_collateral_clear(&collateral);
    return 0;
}
