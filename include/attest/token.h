/*
 * Attestation tokens: signing keys, the published key set (JWKS), issuing a
 * token from a verification report and verifying a token as a relying party.
 *
 * A token is a JWT in JWS compact serialization (RFC 7515, RFC 7519) with the
 * protected header {"alg", "kid", "typ": "JWT"}. Signing and signature
 * verification go through libjose; key generation, PEM and X.509 through
 * OpenSSL. The claims follow draft-ietf-rats-ear (EAT Attestation Results)
 * plus the TEE claims as Intel Trust Authority names them; docs/token.md
 * lists them.
 *
 * Algorithms: ES256 (P-256), RS256 and PS384 (RSA 3072 when generated here).
 * A key's kid is its RFC 7638 JWK thumbprint (SHA-256, base64url).
 *
 * The library reads no clock: every time is an input in Unix seconds.
 *
 * Thread safety: a signing key and a key set may be read from several
 * threads at once (signing and publishing only read them), but changing a
 * key set (rotate, add, prune) needs the caller's lock.
 *
 * Caveats: the private key's JWK form that libjose signs with lives in
 * jansson strings, which this code wipes before freeing, but libjose's own
 * temporary copies of the key are freed without being wiped.
 */
#ifndef ATTEST_TOKEN_H
#define ATTEST_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include <attest/error.h>
#include <attest/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum attest_token_alg {
    ATTEST_TOKEN_ES256,
    ATTEST_TOKEN_RS256,
    ATTEST_TOKEN_PS384,
} attest_token_alg;

/* Bit of alg in attest_token_verify_options.allowed_algs. */
#define ATTEST_TOKEN_ALG_BIT(alg) (1u << (unsigned)(alg))
#define ATTEST_TOKEN_ALGS_ALL                                                                  \
    (ATTEST_TOKEN_ALG_BIT(ATTEST_TOKEN_ES256) | ATTEST_TOKEN_ALG_BIT(ATTEST_TOKEN_RS256) |      \
     ATTEST_TOKEN_ALG_BIT(ATTEST_TOKEN_PS384))

/* Largest token accepted by attest_token_verify, in bytes. */
#define ATTEST_TOKEN_MAX_SIZE (64 * 1024)
/* Largest JWKS accepted by attest_jwks_parse, in bytes. */
#define ATTEST_JWKS_MAX_SIZE (256 * 1024)
/* Largest key set: current key plus retired keys still published. */
#define ATTEST_KEYSET_MAX_KEYS 16
/* Default clock skew allowed between issuer and relying party, in seconds. */
#define ATTEST_TOKEN_CLOCK_SKEW_DEFAULT 60
/* Validity of the self-signed certificate of a new signing key, in days. */
#define ATTEST_SIGNING_CERT_DAYS 3650
/* kid: 43 base64url characters of a SHA-256 thumbprint, and a NUL. */
#define ATTEST_TOKEN_KID_SIZE 44

/* Returns "ES256", "RS256" or "PS384". */
const char *attest_token_alg_name(attest_token_alg alg);

/* Parses an algorithm name; ATTEST_ERR_TOKEN_ALG for any name not listed above. */
ATTEST_MUST_USE attest_err attest_token_alg_parse(const char *name, attest_token_alg *out_alg);

/* ---- signing keys ---- */

typedef struct attest_signing_key attest_signing_key;

/*
 * Generates a key for alg (P-256 for ES256, RSA 3072 for RS256 and PS384)
 * and a self-signed X.509 certificate valid from now for
 * ATTEST_SIGNING_CERT_DAYS. Free with attest_signing_key_free.
 * Errors: ATTEST_ERR_CRYPTO, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_signing_key_generate(attest_token_alg alg, time_t now,
                                                       attest_signing_key **out_key);

/*
 * Serializes key as text: a line "attest-token-alg: ALG", the PKCS#8 private
 * key PEM (unencrypted) and the certificate PEM. The caller wipes and frees
 * *out_pem with attest_signing_key_pem_free.
 */
ATTEST_MUST_USE attest_err attest_signing_key_to_pem(const attest_signing_key *key, char **out_pem,
                                                     size_t *out_size);

/* Wipes pem[0..size) and frees it. */
void attest_signing_key_pem_free(char *pem, size_t size);

/*
 * Loads a key written by attest_signing_key_to_pem, or any unencrypted
 * private key PEM of a P-256 or RSA (2048 bits or more) key. Without the
 * "attest-token-alg" line, the algorithm is ES256 for P-256 and RS256 for
 * RSA. Without a certificate, a self-signed one valid from now is made.
 * Errors: ATTEST_ERR_SIGNING_KEY (no key, encrypted key, wrong type or size,
 * certificate of another key), ATTEST_ERR_TOKEN_ALG, ATTEST_ERR_CRYPTO.
 */
ATTEST_MUST_USE attest_err attest_signing_key_from_pem(const char *pem, size_t size, time_t now,
                                                       attest_signing_key **out_key,
                                                       attest_diag *diag);

/* Frees key and wipes its private key; NULL is allowed. */
void attest_signing_key_free(attest_signing_key *key);

attest_token_alg attest_signing_key_alg(const attest_signing_key *key);

/* Returns the kid, the RFC 7638 thumbprint; valid while key lives. */
const char *attest_signing_key_kid(const attest_signing_key *key);

/*
 * Returns the public JWK with kid, alg, use "sig" and x5c (the DER
 * certificate in standard base64), borrowed from key.
 */
const json_t *attest_signing_key_public_jwk(const attest_signing_key *key);

/*
 * Computes the RFC 7638 thumbprint (SHA-256, base64url without padding) of
 * the JWK jwk into out_kid. Errors: ATTEST_ERR_ARGUMENT when jwk lacks the
 * members its kty requires.
 */
ATTEST_MUST_USE attest_err attest_jwk_thumbprint(const json_t *jwk,
                                                 char out_kid[ATTEST_TOKEN_KID_SIZE]);

/* ---- key set ---- */

/*
 * The current signing key and the retired keys that are still published.
 * A key retired at time r may have signed a token at r that is valid until
 * r + max_token_lifetime, and relying parties accept it for the clock skew
 * after that, so the key stays in the JWKS until
 * r + max_token_lifetime + ATTEST_TOKEN_CLOCK_SKEW_DEFAULT.
 */
typedef struct attest_keyset attest_keyset;

/* Creates an empty set whose tokens live at most max_token_lifetime seconds (> 0). */
ATTEST_MUST_USE attest_err attest_keyset_new(uint32_t max_token_lifetime,
                                             attest_keyset **out_set);

/* Frees set and all its keys; NULL is allowed. */
void attest_keyset_free(attest_keyset *set);

/*
 * Makes key the current key and retires the previous current key at now.
 * Takes ownership of key on success only. Keys no longer published at now
 * are dropped. Errors: ATTEST_ERR_ARGUMENT (a key with the same kid is
 * already in set), ATTEST_ERR_LIMIT (ATTEST_KEYSET_MAX_KEYS).
 */
ATTEST_MUST_USE attest_err attest_keyset_rotate(attest_keyset *set, attest_signing_key *key,
                                                time_t now);

/*
 * Adds key as a key retired at retired_at, as when reloading a set from a
 * store. Takes ownership on success only. Errors as attest_keyset_rotate.
 */
ATTEST_MUST_USE attest_err attest_keyset_add_retired(attest_keyset *set, attest_signing_key *key,
                                                     time_t retired_at);

/* Drops retired keys that are no longer published at now. */
void attest_keyset_prune(attest_keyset *set, time_t now);

/* Returns the current key, or NULL when the set has none. */
const attest_signing_key *attest_keyset_current(const attest_keyset *set);

/* Returns the number of keys published at now. */
size_t attest_keyset_published_count(const attest_keyset *set, time_t now);

/*
 * Writes the JWKS published at now, {"keys": [...]} with the public JWK of
 * the current key first, as compact JSON text the caller frees with free().
 * Errors: ATTEST_ERR_ARGUMENT when set has no current key, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_keyset_jwks(const attest_keyset *set, time_t now,
                                              char **out_json);

uint32_t attest_keyset_max_token_lifetime(const attest_keyset *set);

/* ---- issuing ---- */

/* EAR status of the attester's submodule (draft-ietf-rats-ear). */
typedef enum attest_ear_status {
    ATTEST_EAR_AFFIRMING, /* TCB UpToDate, no debug enclave or TD */
    ATTEST_EAR_WARNING,   /* a degraded result that the policy accepted */
} attest_ear_status;

/* Returns "affirming" or "warning". */
const char *attest_ear_status_name(attest_ear_status status);

/* Service inputs of a token besides the report. Strings are UTF-8. */
typedef struct attest_token_params {
    const char *issuer;             /* iss, required */
    const char *subject;            /* sub: the application, required */
    const char *audience;           /* aud, or NULL for none */
    const char *nonce;              /* nonce and eat_nonce, or NULL for none */
    uint32_t lifetime;              /* exp - iat in seconds, 1 to the key set's maximum */
    const char *verifier_developer; /* ear.verifier-id developer, required */
    const char *verifier_build;     /* ear.verifier-id build, required */
    attest_ear_status status;
    const char *policy_id;          /* required */
    uint64_t policy_version;
    const char *policy_hash;        /* required, such as hex of a SHA-256 */
    const json_t *cnf_jwk;          /* cnf.jwk when the runtime data is a JWK, or NULL */
} attest_token_params;

/*
 * Builds the claims of a token for a valid report at now: registered claims,
 * EAR, TCB, policy and TEE claims (docs/token.md). jti is 16 random bytes.
 * ATTEST_EAR_AFFIRMING needs TCB status UpToDate and no debug enclave or TD.
 * The caller frees *out_claims with json_decref.
 * Errors: ATTEST_ERR_ARGUMENT (report not valid, missing parameter,
 * affirming for a degraded result), ATTEST_ERR_CRYPTO, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_token_claims_build(const attest_report *report,
                                                     const attest_token_params *params,
                                                     time_t now, json_t **out_claims,
                                                     attest_diag *diag);

/*
 * Signs claims (a JSON object) with key as a compact JWS and returns the
 * token text, which the caller frees with free(). Claims are not checked.
 * Errors: ATTEST_ERR_ARGUMENT, ATTEST_ERR_CRYPTO, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_token_sign(const attest_signing_key *key, const json_t *claims,
                                             char **out_token, attest_diag *diag);

/*
 * Builds the claims (attest_token_claims_build) and signs them with the
 * current key of set. params->lifetime must not exceed the set's maximum.
 * out_claims, when not NULL, gets a reference to the signed claims.
 */
ATTEST_MUST_USE attest_err attest_token_issue(const attest_keyset *set,
                                              const attest_report *report,
                                              const attest_token_params *params, time_t now,
                                              char **out_token, json_t **out_claims,
                                              attest_diag *diag);

/* ---- verifying ---- */

typedef struct attest_token_verify_options {
    time_t at;                /* verification time, Unix seconds */
    uint32_t clock_skew;      /* seconds allowed on exp, nbf and iat */
    unsigned allowed_algs;    /* ATTEST_TOKEN_ALG_BIT mask */
    const char *issuer;       /* iss must equal it; NULL: not checked */
    const char *audience;     /* aud must be or contain it; NULL: token must have no aud */
} attest_token_verify_options;

/* Sets options to at, ATTEST_TOKEN_CLOCK_SKEW_DEFAULT, all algorithms, no iss or aud. */
void attest_token_verify_options_init(attest_token_verify_options *options, time_t at);

/*
 * Parses a JWKS text: an object with a "keys" array of JWK objects, each
 * with a string kid that no other key has. The caller frees *out_jwks with
 * json_decref. Errors: ATTEST_ERR_JWKS_INVALID, ATTEST_ERR_LIMIT.
 */
ATTEST_MUST_USE attest_err attest_jwks_parse(const char *text, size_t size, json_t **out_jwks,
                                             attest_diag *diag);

/*
 * Verifies the compact JWS token[0..size) against jwks (as attest_jwks_parse
 * returns) and options, in this order, and returns its claims:
 *   1. three base64url parts without padding, header a JSON object with
 *      string alg and kid, typ "JWT" when present, no crit:
 *      ATTEST_ERR_TOKEN_MALFORMED (ATTEST_ERR_LIMIT above ATTEST_TOKEN_MAX_SIZE)
 *   2. alg among options->allowed_algs ("none" never is), and equal to the
 *      JWK's alg when the JWK has one: ATTEST_ERR_TOKEN_ALG
 *   3. a JWK with the header's kid: ATTEST_ERR_TOKEN_KID_UNKNOWN
 *   4. the signature, by libjose: ATTEST_ERR_TOKEN_SIGNATURE
 *   5. payload a JSON object with integer exp and iat, integer nbf when
 *      present, and string iss, sub and aud (or an array of strings):
 *      ATTEST_ERR_TOKEN_MALFORMED
 *   6. at < exp + skew: ATTEST_ERR_TOKEN_EXPIRED
 *   7. nbf <= at + skew and iat <= at + skew: ATTEST_ERR_TOKEN_NOT_YET_VALID
 *   8. iss: ATTEST_ERR_TOKEN_ISSUER; aud: ATTEST_ERR_TOKEN_AUDIENCE
 * The caller frees *out_claims with json_decref.
 */
ATTEST_MUST_USE attest_err attest_token_verify(const char *token, size_t size,
                                               const json_t *jwks,
                                               const attest_token_verify_options *options,
                                               json_t **out_claims, attest_diag *diag);

/* ---- a relying party's JWKS, fetched from the service ---- */

/*
 * The JWKS of one service, fetched from its URL and kept until a token names
 * a kid it does not have. Keys come only from this URL: a token's own jku,
 * x5u, jwk or x5c is rejected by attest_token_verify.
 * Thread safety: one cache per thread, or a lock around it.
 */
typedef struct attest_jwks_cache attest_jwks_cache;

typedef struct attest_jwks_cache_options {
    const char *url;          /* https://.../.well-known/jwks.json, or http:// for loopback tests */
    const char *ca_file;      /* CA certificates for TLS; NULL: the system store */
    bool insecure_tls;        /* skip TLS verification: for tests only */
    long timeout_ms;          /* one fetch, connection included; default 10000 */
    uint32_t min_refetch_seconds; /* an unknown kid refetches at most this often; default 60 */
    uint32_t max_age_seconds;     /* refetch when older, whatever the kid; default 3600 */
} attest_jwks_cache_options;

void attest_jwks_cache_options_init(attest_jwks_cache_options *options);

/* Creates a cache for options->url; nothing is fetched yet. */
ATTEST_MUST_USE attest_err attest_jwks_cache_new(const attest_jwks_cache_options *options,
                                                 attest_jwks_cache **out_cache,
                                                 attest_diag *diag);
void attest_jwks_cache_free(attest_jwks_cache *cache);

/*
 * Returns a reference to a JWKS (the caller releases it with json_decref)
 * that has kid when the service publishes it: the cached set, or a fresh
 * one fetched because kid is unknown (at most every min_refetch_seconds) or
 * the set is older than max_age_seconds. When kid is still unknown the set
 * is returned anyway and attest_token_verify reports the unknown kid.
 * Errors: ATTEST_ERR_SERVICE_UNREACHABLE, ATTEST_ERR_SERVICE_TLS,
 * ATTEST_ERR_SERVICE_HTTP_STATUS, ATTEST_ERR_LIMIT, ATTEST_ERR_JWKS_INVALID.
 */
ATTEST_MUST_USE attest_err attest_jwks_cache_get(attest_jwks_cache *cache, const char *kid,
                                                 time_t now, json_t **out_jwks,
                                                 attest_diag *diag);

/* Returns how many times the cache has fetched the JWKS. */
unsigned long attest_jwks_cache_fetch_count(const attest_jwks_cache *cache);

/*
 * Returns the kid in the header of a compact JWS into out_kid, without
 * verifying anything, so that a cache can look the key up.
 * Errors: ATTEST_ERR_TOKEN_MALFORMED.
 */
ATTEST_MUST_USE attest_err attest_token_header_kid(const char *token, size_t size,
                                                   char out_kid[ATTEST_TOKEN_KID_SIZE],
                                                   attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
