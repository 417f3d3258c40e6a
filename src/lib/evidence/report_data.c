/*
 * Report data binding: report data = SHA-512(nonce || runtime data), one
 * function for the attester and one for the verifier, so both sides hash
 * the same bytes in the same order.
 */
#include <assert.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <attest/evidence.h>

#include "util/hex.h"

static_assert(ATTEST_REPORT_DATA_SIZE == 64, "report data is one SHA-512 digest");

attest_err attest_report_data_bind(const uint8_t nonce[ATTEST_NONCE_SIZE],
                                   const uint8_t *runtime_data, size_t size,
                                   uint8_t out_report_data[ATTEST_REPORT_DATA_SIZE])
{
    if (nonce == NULL || out_report_data == NULL || (runtime_data == NULL && size > 0)) {
        return ATTEST_ERR_ARGUMENT;
    }

    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    attest_err err = ATTEST_ERR_CRYPTO;
    if (EVP_DigestInit_ex(context, EVP_sha512(), NULL) != 1) {
        goto out;
    }
    if (EVP_DigestUpdate(context, nonce, ATTEST_NONCE_SIZE) != 1) {
        goto out;
    }
    if (size > 0 && EVP_DigestUpdate(context, runtime_data, size) != 1) {
        goto out;
    }
    if (EVP_DigestFinal_ex(context, digest, &digest_size) != 1 ||
        digest_size != ATTEST_REPORT_DATA_SIZE) {
        goto out;
    }

    memcpy(out_report_data, digest, ATTEST_REPORT_DATA_SIZE);
    err = ATTEST_OK;

out:
    EVP_MD_CTX_free(context);
    return err;
}

attest_err attest_report_data_check(const uint8_t nonce[ATTEST_NONCE_SIZE],
                                    const uint8_t *runtime_data, size_t size,
                                    const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                    attest_diag *diag)
{
    if (report_data == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    uint8_t expected[ATTEST_REPORT_DATA_SIZE];
    attest_err err = attest_report_data_bind(nonce, runtime_data, size, expected);
    if (err != ATTEST_OK) {
        return err;
    }

    /* Constant time, so a caller probing with chosen values learns no prefix length. */
    if (CRYPTO_memcmp(expected, report_data, ATTEST_REPORT_DATA_SIZE) != 0) {
        char expected_hex[2 * ATTEST_REPORT_DATA_SIZE + 1];
        char actual_hex[2 * ATTEST_REPORT_DATA_SIZE + 1];
        attest_hex_encode(expected, sizeof(expected), expected_hex);
        attest_hex_encode(report_data, ATTEST_REPORT_DATA_SIZE, actual_hex);
        return attest_diag_set(diag, ATTEST_ERR_REPORT_DATA_MISMATCH,
                               "report data %.32s... is not SHA-512(nonce || runtime data) "
                               "= %.32s... (%zu bytes of runtime data)",
                               actual_hex, expected_hex, size);
    }
    return ATTEST_OK;
}
