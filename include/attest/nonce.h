/*
 * Stateless attestation nonces.
 *
 * A nonce is 32 random bytes, its issue time and expiry, and an
 * HMAC-SHA-256 over them with the service's 32-byte secret, encoded as one
 * base64url string (no padding). Any replica that has the secret can
 * check a nonce without shared state:
 *
 *   bytes  0      version (1)
 *          1..32  random value
 *         33..40  issue time, Unix seconds, big-endian signed 64-bit
 *         41..48  expiry, Unix seconds, big-endian signed 64-bit
 *         49..80  HMAC-SHA-256(secret, "attest nonce v1" || bytes 0..48)
 *
 * This check does not stop a nonce from being used twice before it
 * expires: the service records each consumed nonce in its store and
 * rejects a second use. Binding a nonce into report data is
 * attest_report_data_bind's work (evidence.h).
 *
 * Thread safety: the functions keep no state.
 */
#ifndef ATTEST_NONCE_H
#define ATTEST_NONCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <attest/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTEST_NONCE_SECRET_SIZE 32
#define ATTEST_NONCE_RAW_SIZE 32
/* Encoded size of the 81 bytes above: 108 base64url characters. */
#define ATTEST_NONCE_TEXT_LENGTH 108
#define ATTEST_NONCE_TEXT_SIZE (ATTEST_NONCE_TEXT_LENGTH + 1)
/* Maximum nonce lifetime accepted by attest_nonce_issue, in seconds. */
#define ATTEST_NONCE_MAX_LIFETIME (24 * 60 * 60)
/* Seconds by which a nonce's issue time may be ahead of the checker's clock. */
#define ATTEST_NONCE_CLOCK_SKEW 60

/*
 * Issues a nonce at now that expires at now + lifetime (1 to
 * ATTEST_NONCE_MAX_LIFETIME seconds). Writes its text (NUL-terminated) to
 * out_text and its random value to out_raw.
 * Errors: ATTEST_ERR_ARGUMENT, ATTEST_ERR_CRYPTO.
 */
ATTEST_MUST_USE attest_err attest_nonce_issue(const uint8_t secret[ATTEST_NONCE_SECRET_SIZE],
                                              time_t now, uint32_t lifetime,
                                              char out_text[ATTEST_NONCE_TEXT_SIZE],
                                              uint8_t out_raw[ATTEST_NONCE_RAW_SIZE]);

/*
 * Checks the NUL-terminated nonce text at now and writes its random value
 * and expiry. Errors, in the order checked:
 *   ATTEST_ERR_NONCE_MALFORMED       not 108 base64url characters, or version not 1
 *   ATTEST_ERR_NONCE_MAC             MAC does not verify with secret (constant time)
 *   ATTEST_ERR_NONCE_EXPIRED         now >= expiry
 *   ATTEST_ERR_NONCE_NOT_YET_VALID   issue time > now + ATTEST_NONCE_CLOCK_SKEW
 */
ATTEST_MUST_USE attest_err attest_nonce_check(const uint8_t secret[ATTEST_NONCE_SECRET_SIZE],
                                              const char *text, time_t now,
                                              uint8_t out_raw[ATTEST_NONCE_RAW_SIZE],
                                              time_t *out_expiry, attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
