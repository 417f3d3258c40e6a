/* Helpers shared by the token and nonce files; not part of the public API. */
#ifndef ATTEST_TOKEN_INTERNAL_H
#define ATTEST_TOKEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <jose/cfg.h>

#include <attest/error.h>
#include <attest/token.h>

/* Base64url characters needed for size bytes, without padding. */
#define TOKEN_B64URL_LENGTH(size) (((size) / 3) * 4 + (((size) % 3) * 4 + 2) / 3)

/*
 * Writes data[0..size) as base64url without padding and a NUL to out, which has room for
 * TOKEN_B64URL_LENGTH(size) + 1 bytes.
 */
void token_b64url_encode(const uint8_t *data, size_t size, char *out);

/*
 * Decodes base64url text[0..length) without padding into out (capacity
 * bytes). Rejects any other character, a length of 1 mod 4, and unused low
 * bits that are not zero, so each byte string has exactly one encoding.
 * Returns false on any of these or when out is too small.
 */
bool token_b64url_decode(const char *text, size_t length, uint8_t *out, size_t capacity,
                         size_t *out_size);

/* Returns true when text[0..length) would pass token_b64url_decode, without decoding it. */
bool token_b64url_check(const char *text, size_t length);

/* Creates a libjose configuration whose errors are dropped instead of printed. */
jose_cfg_t *token_jose_cfg_new(void);

/* Overwrites every string in value (recursively) with zero bytes, then releases it. */
void token_json_wipe_decref(json_t *value);

/*
 * Returns a new copy of the private JWK of key with alg and kid, for libjose
 * to sign with. Release it with token_json_wipe_decref.
 */
ATTEST_MUST_USE attest_err token_signing_key_private_jwk(const attest_signing_key *key,
                                                         json_t **out_jwk);

#endif
