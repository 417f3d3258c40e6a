/* Simulated measurement of a program file: SHA-256 for SGX, SHA-384 for TDX. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include <attest/client.h>

attest_err attest_client_measure_file(const char *path, attest_sim_tee tee,
                                      uint8_t out_measurement[ATTEST_CLIENT_MEASUREMENT_MAX_SIZE],
                                      size_t *out_size, attest_diag *diag)
{
    if (path == NULL || out_measurement == NULL || out_size == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "path or output is NULL");
    }
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot open %.200s: %s", path,
                               strerror(errno));
    }
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    const EVP_MD *digest = tee == ATTEST_SIM_TDX ? EVP_sha384() : EVP_sha256();
    attest_err err = ATTEST_OK;
    if (context == NULL || EVP_DigestInit_ex(context, digest, NULL) != 1) {
        err = ATTEST_ERR_CRYPTO;
    }
    uint8_t buffer[65536];
    while (err == ATTEST_OK) {
        size_t count = fread(buffer, 1, sizeof(buffer), file);
        if (count > 0 && EVP_DigestUpdate(context, buffer, count) != 1) {
            err = ATTEST_ERR_CRYPTO;
        }
        if (count < sizeof(buffer)) {
            if (ferror(file)) {
                err = attest_diag_set(diag, ATTEST_ERR_IO, "reading %.200s failed", path);
            }
            break;
        }
    }
    unsigned int size = 0;
    if (err == ATTEST_OK && EVP_DigestFinal_ex(context, out_measurement, &size) != 1) {
        err = ATTEST_ERR_CRYPTO;
    }
    EVP_MD_CTX_free(context);
    fclose(file);
    if (err == ATTEST_ERR_CRYPTO) {
        return attest_diag_set(diag, err, "hashing %.200s failed", path);
    }
    if (err == ATTEST_OK) {
        *out_size = size;
    }
    return err;
}
