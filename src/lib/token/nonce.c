/* Stateless nonces: random value, issue time and expiry under an HMAC (nonce.h). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <attest/nonce.h>

#include "token/internal.h"

#define NONCE_VERSION 1
#define NONCE_MAC_SIZE 32
#define NONCE_SIGNED_SIZE (1 + ATTEST_NONCE_RAW_SIZE + 8 + 8)
#define NONCE_SIZE (NONCE_SIGNED_SIZE + NONCE_MAC_SIZE)
/* Prefix of the MAC input, so that a MAC made with the secret for another purpose never fits. */
#define NONCE_MAC_LABEL "attest nonce v1"

_Static_assert(TOKEN_B64URL_LENGTH(NONCE_SIZE) == ATTEST_NONCE_TEXT_LENGTH,
               "nonce text length must match the encoded layout");

static void put_be64(uint8_t *out, int64_t value)
{
    uint64_t bits = (uint64_t)value;
    for (size_t i = 0; i < 8; i++) {
        out[i] = (uint8_t)(bits >> (56 - 8 * i));
    }
}

static int64_t get_be64(const uint8_t *in)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < 8; i++) {
        bits = (bits << 8) | in[i];
    }
    return (int64_t)bits;
}

/* Computes the MAC over the label and signed[0..NONCE_SIGNED_SIZE). */
static bool nonce_mac(const uint8_t secret[ATTEST_NONCE_SECRET_SIZE], const uint8_t *signed_bytes,
                      uint8_t out_mac[NONCE_MAC_SIZE])
{
    uint8_t input[sizeof(NONCE_MAC_LABEL) - 1 + NONCE_SIGNED_SIZE];
    memcpy(input, NONCE_MAC_LABEL, sizeof(NONCE_MAC_LABEL) - 1);
    memcpy(input + sizeof(NONCE_MAC_LABEL) - 1, signed_bytes, NONCE_SIGNED_SIZE);
    size_t mac_size = 0;
    bool computed = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret,
                              ATTEST_NONCE_SECRET_SIZE, input, sizeof(input), out_mac,
                              NONCE_MAC_SIZE, &mac_size) != NULL &&
                    mac_size == NONCE_MAC_SIZE;
    OPENSSL_cleanse(input, sizeof(input));
    return computed;
}

attest_err attest_nonce_issue(const uint8_t secret[ATTEST_NONCE_SECRET_SIZE], time_t now,
                              uint32_t lifetime, char out_text[ATTEST_NONCE_TEXT_SIZE],
                              uint8_t out_raw[ATTEST_NONCE_RAW_SIZE])
{
    if (secret == NULL || out_text == NULL || out_raw == NULL || lifetime == 0 ||
        lifetime > ATTEST_NONCE_MAX_LIFETIME) {
        return ATTEST_ERR_ARGUMENT;
    }

    uint8_t nonce[NONCE_SIZE];
    nonce[0] = NONCE_VERSION;
    if (RAND_bytes(nonce + 1, ATTEST_NONCE_RAW_SIZE) != 1) {
        return ATTEST_ERR_CRYPTO;
    }
    put_be64(nonce + 1 + ATTEST_NONCE_RAW_SIZE, (int64_t)now);
    put_be64(nonce + 1 + ATTEST_NONCE_RAW_SIZE + 8, (int64_t)now + lifetime);
    if (!nonce_mac(secret, nonce, nonce + NONCE_SIGNED_SIZE)) {
        OPENSSL_cleanse(nonce, sizeof(nonce));
        return ATTEST_ERR_CRYPTO;
    }

    token_b64url_encode(nonce, sizeof(nonce), out_text);
    memcpy(out_raw, nonce + 1, ATTEST_NONCE_RAW_SIZE);
    OPENSSL_cleanse(nonce, sizeof(nonce));
    return ATTEST_OK;
}

attest_err attest_nonce_check(const uint8_t secret[ATTEST_NONCE_SECRET_SIZE], const char *text,
                              time_t now, uint8_t out_raw[ATTEST_NONCE_RAW_SIZE],
                              time_t *out_expiry, attest_diag *diag)
{
    if (secret == NULL || text == NULL || out_raw == NULL || out_expiry == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "nonce secret, text or output is NULL");
    }

    /* Format: exact length, canonical base64url, known version. */
    size_t length = strnlen(text, ATTEST_NONCE_TEXT_LENGTH + 1);
    if (length != ATTEST_NONCE_TEXT_LENGTH) {
        return attest_diag_set(diag, ATTEST_ERR_NONCE_MALFORMED,
                               "nonce has %s%zu characters, not %d",
                               length > ATTEST_NONCE_TEXT_LENGTH ? "more than " : "",
                               length > ATTEST_NONCE_TEXT_LENGTH ? (size_t)ATTEST_NONCE_TEXT_LENGTH
                                                                 : length,
                               ATTEST_NONCE_TEXT_LENGTH);
    }
    uint8_t nonce[NONCE_SIZE];
    size_t size = 0;
    if (!token_b64url_decode(text, length, nonce, sizeof(nonce), &size) || size != NONCE_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_NONCE_MALFORMED,
                               "nonce is not canonical base64url");
    }
    if (nonce[0] != NONCE_VERSION) {
        return attest_diag_set(diag, ATTEST_ERR_NONCE_MALFORMED, "nonce version is %u, not %d",
                               nonce[0], NONCE_VERSION);
    }

    /* MAC, compared in constant time, before the times are trusted. */
    uint8_t expected[NONCE_MAC_SIZE];
    if (!nonce_mac(secret, nonce, expected)) {
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "HMAC-SHA-256 of the nonce failed");
    }
    bool mac_valid = CRYPTO_memcmp(expected, nonce + NONCE_SIGNED_SIZE, NONCE_MAC_SIZE) == 0;
    OPENSSL_cleanse(expected, sizeof(expected));
    if (!mac_valid) {
        return attest_diag_set(diag, ATTEST_ERR_NONCE_MAC,
                               "nonce MAC does not verify with the service secret");
    }

    int64_t issued_at = get_be64(nonce + 1 + ATTEST_NONCE_RAW_SIZE);
    int64_t expiry = get_be64(nonce + 1 + ATTEST_NONCE_RAW_SIZE + 8);
    if ((int64_t)now >= expiry) {
        return attest_diag_set(diag, ATTEST_ERR_NONCE_EXPIRED,
                               "nonce expired at %lld, not after the time %lld",
                               (long long)expiry, (long long)now);
    }
    if (issued_at > (int64_t)now + ATTEST_NONCE_CLOCK_SKEW) {
        return attest_diag_set(diag, ATTEST_ERR_NONCE_NOT_YET_VALID,
                               "nonce issue time %lld is later than %lld plus %d s of clock skew",
                               (long long)issued_at, (long long)now, ATTEST_NONCE_CLOCK_SKEW);
    }

    memcpy(out_raw, nonce + 1, ATTEST_NONCE_RAW_SIZE);
    *out_expiry = (time_t)expiry;
    return ATTEST_OK;
}
