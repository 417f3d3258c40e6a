/*
 * Internals of the DCAP verifier: OpenSSL helpers, the verified PCK chain,
 * the verified collateral and their caches, and report recording.
 */
#ifndef ATTEST_VERIFY_INTERNAL_H
#define ATTEST_VERIFY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <attest/verify.h>

extern const uint8_t attest_intel_sgx_root_ca_der[];
extern const size_t attest_intel_sgx_root_ca_der_size;

/* ---- OpenSSL helpers (crypto.c) ---- */

/* Imports a raw P-256 public key x || y (64 bytes, big-endian). */
ATTEST_MUST_USE attest_err attest_p256_key_from_raw(const uint8_t xy[64], EVP_PKEY **out_key);

/* True when key is an EC key on P-256. */
bool attest_key_is_p256(EVP_PKEY *key);

/*
 * Verifies the raw ECDSA signature r || s (64 bytes) of SHA-256(data) with key.
 * Returns ATTEST_OK, failure_err when the signature does not verify, or
 * ATTEST_ERR_CRYPTO when OpenSSL fails.
 */
ATTEST_MUST_USE attest_err attest_ecdsa_verify_raw(EVP_PKEY *key, const uint8_t *data,
                                                   size_t size, const uint8_t signature[64],
                                                   attest_err failure_err);

/* Same, over a SHA-256 digest computed by the caller. */
ATTEST_MUST_USE attest_err attest_ecdsa_verify_digest(EVP_PKEY *key, const uint8_t digest[32],
                                                      const uint8_t signature[64],
                                                      attest_err failure_err);

void attest_sha256(const uint8_t *data, size_t size, uint8_t out[32]);

/* Converts an ASN1_TIME to time_t; false when it cannot be converted. */
bool attest_asn1_time_to_time_t(const ASN1_TIME *asn1, time_t *out);

/* Compares two buffers in constant time. */
bool attest_bytes_equal(const uint8_t *a, const uint8_t *b, size_t size);


/* ---- Report recording (report.c) ---- */

/* Appends one check to report; a full report keeps its first checks. */
void attest_report_add(attest_report *report, attest_stage stage, const char *name,
                       attest_err err, const char *format, ...) ATTEST_PRINTF(5, 6);

void attest_report_skip(attest_report *report, attest_stage stage, const char *name,
                        const char *reason);

/* Notes expiry as a candidate for the report's earliest expiry. */
void attest_report_expiry(attest_report *report, time_t expiry, const char *source);

/* ---- Trust anchors ---- */

typedef struct attest_root {
    X509 *cert;
    uint8_t *der;
    size_t der_size;
    EVP_PKEY *key; /* borrowed from cert */
} attest_root;

/* Returns the first of roots whose DER is byte-identical to cert's, or NULL. */
const attest_root *attest_root_find(const attest_root *roots, size_t root_count, X509 *cert);

/* ---- Checks recorded once and replayed for every quote ---- */

/* Validity window of a certificate or CRL, checked at each verification time. */
typedef struct attest_window {
    attest_stage stage;
    const char *name;       /* static check name, such as "pck_certificate_validity" */
    const char *subject;    /* static, for messages: "PCK certificate" */
    time_t not_before;
    time_t not_after;
    attest_err expired;       /* error when past not_after */
    attest_err not_yet_valid; /* error when before not_before */
} attest_window;

#define ATTEST_CACHED_MAX_CHECKS 40
#define ATTEST_CACHED_MAX_WINDOWS 16

/* Time-independent checks and validity windows, kept with a cached object. */
typedef struct attest_check_list {
    size_t check_count;
    attest_check checks[ATTEST_CACHED_MAX_CHECKS];
    size_t window_count;
    attest_window windows[ATTEST_CACHED_MAX_WINDOWS];
} attest_check_list;

/* Records a check outcome in list; err ATTEST_OK is a pass. */
void attest_check_list_add(attest_check_list *list, attest_stage stage, const char *name,
                           attest_err err, const char *format, ...) ATTEST_PRINTF(5, 6);

/* Records the validity window of cert or crl (exactly one is not NULL). */
void attest_check_list_window(attest_check_list *list, attest_stage stage, const char *name,
                              const char *subject, const X509 *cert, const X509_CRL *crl);

/* True when list has no failed check. */
bool attest_check_list_passed(const attest_check_list *list);

/* A parsed certificate with its exact DER bytes. */
typedef struct attest_known_cert {
    X509 *cert;
    const uint8_t *der;
    size_t der_size;
} attest_known_cert;

/*
 * Parses a PEM chain of certificates into out_chain (leaf first). Text after
 * the last certificate may only be whitespace or NUL bytes. A certificate
 * byte-identical to one of roots, or to known when not NULL, shares that
 * object. Errors:
 * ATTEST_ERR_CERT_PARSE, ATTEST_ERR_CHAIN_DEPTH when the count is not
 * expected_count.
 */
ATTEST_MUST_USE attest_err attest_pem_chain_parse(const uint8_t *pem, size_t size,
                                                  size_t expected_count, const char *name,
                                                  const attest_root *roots, size_t root_count,
                                                  const attest_known_cert *known,
                                                  STACK_OF(X509) **out_chain, attest_diag *diag);

/* ---- Verified PCK chain (chain.c) ---- */

/*
 * A PCK chain whose time-independent checks ran: parsed certificates, the
 * root comparison, signatures, CA constraints and the SGX extension. Keyed by
 * the exact chain bytes.
 */
typedef struct attest_chain {
    uint8_t *source; /* copy of the exact chain bytes: the cache key */
    size_t source_size;
    attest_check_list list;
    STACK_OF(X509) *certs;   /* PCK, intermediate CA, root; NULL when unparsable */
    const attest_root *root; /* the trusted root the chain ends at, or NULL */
    EVP_PKEY *pck_key;       /* borrowed from the PCK certificate; NULL when unusable */
    bool has_pck;
    attest_pck_ca ca;
    attest_pck_info pck;
} attest_chain;

/*
 * Runs the time-independent checks of the PCK chain pem. verified_ca, when
 * not NULL, is a CA certificate already verified against verified_root (the
 * PCK CRL issuer of verified collateral): an intermediate byte-identical to
 * it needs no second signature check.
 */
ATTEST_MUST_USE attest_err attest_chain_build(const attest_root *roots, size_t root_count,
                                              const uint8_t *pem, size_t size,
                                              const attest_known_cert *verified_ca,
                                              const attest_root *verified_root,
                                              attest_chain **out_chain);
void attest_chain_free(attest_chain *chain);

/* ---- Verified collateral (collateral_verify.c) ---- */

/*
 * Collateral whose time-independent checks ran: CRL and document signatures,
 * issuer chains, the root CA CRL against every CA it covers. Keyed by a
 * copy of the exact raw collateral. Checks of stage pck_chain
 * (the CRLs) and collateral (TCB info, QE identity) are both in list.
 */
typedef struct attest_verified_collateral {
    attest_collateral source;
    attest_check_list list;
    const attest_root *root;       /* root every issuer chain ends at, or NULL */
    X509_CRL *root_ca_crl;         /* NULL when unusable */
    X509_CRL *pck_crl;             /* NULL when unusable */
    X509 *pck_crl_issuer;          /* CA that signed pck_crl, from its issuer chain */
    attest_known_cert pck_crl_issuer_known; /* the same, with its DER */
    uint8_t *pck_crl_issuer_der;
    STACK_OF(X509) *pck_crl_chain;
    STACK_OF(X509) *tcb_info_chain;
    STACK_OF(X509) *qe_identity_chain;

    bool tcb_info_parsed;
    attest_tcb_info tcb_info;
    bool qe_identity_parsed;
    attest_qe_identity qe_identity;
} attest_verified_collateral;

ATTEST_MUST_USE attest_err attest_collateral_verify(const attest_root *roots, size_t root_count,
                                                    const attest_collateral *collateral,
                                                    attest_verified_collateral **out);
void attest_verified_collateral_free(attest_verified_collateral *verified);

/* True when a and b hold the same bytes in every field. */
bool attest_collateral_equal(const attest_collateral *a, const attest_collateral *b);

/* Adds the check of window at time t, and its expiry, to report. */
void attest_window_report(const attest_window *window, time_t t, attest_report *report);

/* Copies the checks and windows of list (at time t) into report. */
void attest_check_list_report(const attest_check_list *list, time_t t, attest_report *report);

#endif
