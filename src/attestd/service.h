/*
 * The attestation state of attestd shared by every request: the nonce
 * secret, the token signing keys, the collateral source with its cache, the
 * trusted roots and one DCAP verifier per worker thread.
 *
 * Thread safety: every function here may be called from several worker
 * threads at once. The key set is guarded by a read-write lock, the
 * collateral cache locks itself, and verifiers are per thread because an
 * attest_verifier is not thread-safe.
 */
#ifndef ATTESTD_SERVICE_H
#define ATTESTD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <attest/attest.h>

#include "store.h"

#define ATTESTD_MAX_TRUST_ROOTS 4
#define ATTESTD_ISSUER_MAX_SIZE 256

typedef struct attestd_service_options {
    const char *data_dir;
    /* Collateral: a bundle file or PCS-style directory, or a PCCS/PCS base URL; one of them. */
    const char *collateral_path;
    const char *pccs_url;
    const char *pccs_ca_file;
    unsigned collateral_refresh_seconds;
    attest_pccs_update pccs_update;
    bool pccs_intel_root_ca_crl; /* Intel PCS: root CA CRL from the intermediate's CRL distribution point */
    /*
     * Roots trusted besides Intel's, such as a simulated platform's. Evidence
     * that chains to one is marked simulated, and a policy must allow it.
     */
    const char *trust_roots[ATTESTD_MAX_TRUST_ROOTS];
    size_t trust_root_count;
    attest_token_alg token_alg;
    char issuer[ATTESTD_ISSUER_MAX_SIZE + 1];
    uint32_t nonce_lifetime_seconds;
    uint32_t max_token_lifetime_seconds;
} attestd_service_options;

/* Fills options with the defaults: ES256, nonces of 300 s, tokens of at most 3600 s. */
void attestd_service_options_init(attestd_service_options *options);

typedef struct attestd_service attestd_service;

/*
 * Opens the service state: reads or creates DATA_DIR/nonce-secret (mode
 * 0600), loads the signing keys from store or generates and stores the
 * first one, and sets up the collateral source. store must outlive it.
 */
ATTEST_MUST_USE attest_err attestd_service_open(const attestd_service_options *options,
                                                attestd_store *store,
                                                attestd_service **out_service, attest_diag *diag);

void attestd_service_close(attestd_service *service);

/* Issues a nonce at now: its text and its 32 raw bytes, which the evidence binds. */
ATTEST_MUST_USE attest_err attestd_service_nonce_issue(attestd_service *service, time_t now,
                                                       char out_text[ATTEST_NONCE_TEXT_SIZE],
                                                       uint8_t out_raw[ATTEST_NONCE_RAW_SIZE],
                                                       time_t *out_expiry);

/* Checks a nonce's MAC and expiry (not whether it was consumed: the store records that). */
ATTEST_MUST_USE attest_err attestd_service_nonce_check(attestd_service *service, const char *text,
                                                       time_t now,
                                                       uint8_t out_raw[ATTEST_NONCE_RAW_SIZE],
                                                       time_t *out_expiry, attest_diag *diag);

/*
 * Verifies a quote at now with the collateral its PCK certificate names,
 * on this thread's verifier. out_report borrows quote.
 * Returns the report's error, or a collateral source error when the
 * collateral could not be had (then the report is not filled).
 */
ATTEST_MUST_USE attest_err attestd_service_verify(attestd_service *service, const uint8_t *quote,
                                                  size_t size, time_t now,
                                                  attest_report *out_report, attest_diag *diag);

/* Signs a token for report with params at now; the caller frees *out_token. */
ATTEST_MUST_USE attest_err attestd_service_token_issue(attestd_service *service,
                                                       const attest_report *report,
                                                       attest_token_params *params, time_t now,
                                                       char **out_token, json_t **out_claims,
                                                       attest_diag *diag);

/*
 * Signs claims of another API's shape (Azure's, BigDL's) with the current
 * key. claims must hold integer iat and exp with exp - iat between 1 and the
 * service's maximum token lifetime, so key rotation keeps its promise.
 * The caller frees *out_token. Errors: ATTEST_ERR_ARGUMENT, ATTEST_ERR_CRYPTO,
 * ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attestd_service_token_sign(attestd_service *service, const json_t *claims,
                                                      char **out_token, attest_diag *diag);

/* Writes the JWKS published at now as JSON text the caller frees with free(). */
ATTEST_MUST_USE attest_err attestd_service_jwks(attestd_service *service, time_t now,
                                                char **out_json);

/*
 * Generates a new signing key, stores it, and makes it current; the old key
 * stays published until its tokens expire.
 */
ATTEST_MUST_USE attest_err attestd_service_rotate_key(attestd_service *service, time_t now,
                                                      char out_kid[ATTEST_TOKEN_KID_SIZE],
                                                      attest_diag *diag);

/*
 * Reloads the signing keys from the store, as SIGHUP does, so keys rotated
 * by another replica sharing the database are used and published. The
 * running key set stays when the reload fails.
 */
ATTEST_MUST_USE attest_err attestd_service_reload_keys(attestd_service *service, time_t now,
                                                       attest_diag *diag);

/* Forces a collateral refresh for one platform type. */
ATTEST_MUST_USE attest_err attestd_service_collateral_refresh(
    attestd_service *service, const attest_collateral_request *request, attest_diag *diag);

const char *attestd_service_issuer(const attestd_service *service);
uint32_t attestd_service_max_token_lifetime(const attestd_service *service);

/* Copies the collateral cache counters (all zero without a cache). */
void attestd_service_collateral_stats(attestd_service *service,
                                      attest_collateral_cache_stats *out_stats);

#endif
