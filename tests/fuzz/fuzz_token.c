/*
 * Fuzzes token verification (header parsing, kid lookup, signature, claims),
 * JWKS parsing and nonce checking with arbitrary bytes.
 *
 * The seeds in tests/fuzz/seeds/token/ are tokens that `attest token sign`
 * made with the ES256 key whose public JWK is below; the key's private half
 * was not kept. Verification runs at the seeds' iat, so the seeds reach the
 * claim checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <attest/nonce.h>
#include <attest/token.h>

static const char fuzz_jwks[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
    "\"x\":\"J0_vC8NHqTfEBs9-jZ3QFRUdY8aW2w8lyFVCteveTqI\","
    "\"y\":\"0syb0KVnuZ51NcKzWfKf6ADYlKSe5Myh0DwLyQ-oOAw\","
    "\"kid\":\"SVyZ-yg8Nrc2aeeID9nNmE_pxTIZxZtOk_UulI28t-g\",\"alg\":\"ES256\",\"use\":\"sig\"},"
    "{\"kty\":\"RSA\",\"kid\":\"rsa-without-members\",\"alg\":\"RS256\"},"
    "{\"kty\":\"EC\",\"kid\":\"no-alg\",\"crv\":\"P-256\","
    "\"x\":\"J0_vC8NHqTfEBs9-jZ3QFRUdY8aW2w8lyFVCteveTqI\","
    "\"y\":\"0syb0KVnuZ51NcKzWfKf6ADYlKSe5Myh0DwLyQ-oOAw\"}]}";

static const uint8_t nonce_secret[ATTEST_NONCE_SECRET_SIZE] = {1, 2, 3};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *jwks = NULL;
    if (jwks == NULL && attest_jwks_parse(fuzz_jwks, strlen(fuzz_jwks), &jwks, NULL) != ATTEST_OK) {
        abort();
    }

    attest_token_verify_options options;
    attest_token_verify_options_init(&options, 1750000000);
    options.audience = "key-broker";
    json_t *claims = NULL;
    attest_diag diag = {{0}};
    if (attest_token_verify((const char *)data, size, jwks, &options, &claims, &diag) ==
        ATTEST_OK) {
        json_decref(claims);
    }

    json_t *parsed = NULL;
    if (attest_jwks_parse((const char *)data, size, &parsed, &diag) == ATTEST_OK) {
        json_decref(parsed);
    }

    /* attest_nonce_check reads NUL-terminated text. */
    char *text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    time_t expiry = 0;
    (void)attest_nonce_check(nonce_secret, text, 1750000000, raw, &expiry, &diag);
    free(text);
    return 0;
}
