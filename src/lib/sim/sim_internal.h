/*
 * Internals of the simulated Intel platform: the platform's keys and
 * certificates, the fixed TCB it reports, and the PKI helpers that the
 * collateral, quote and scenario code share.
 */
#ifndef ATTEST_SIM_INTERNAL_H
#define ATTEST_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <attest/quote.h>
#include <attest/sim.h>

/* The TCB of the simulated platform: what its PCK certificates and quotes state. */
#define SIM_PCESVN 11
#define SIM_QE_SVN 8     /* ISVSVN of the simulated QE (SGX) */
#define SIM_TD_QE_SVN 4  /* ISVSVN of the simulated TD QE */
#define SIM_QE_PROD_ID 1
#define SIM_TD_QE_PROD_ID 2

extern const uint8_t sim_sgx_components[16];
extern const uint8_t sim_tee_tcb_svn[16];
extern const uint8_t sim_fmspc[6];
extern const uint8_t sim_pce_id[2];

/* Validity of every simulated certificate: 2020-01-01T00:00:00Z to 2049-12-31T23:59:59Z. */
#define SIM_CERT_NOT_BEFORE ((time_t)1577836800)
#define SIM_CERT_NOT_AFTER ((time_t)2524607999)

/*
 * What every quote of one TEE repeats: a real QE signs its QE report once,
 * when its attestation key is certified, and every quote carries the same
 * PCK chain. Prepared when the platform opens, so quoting signs only the
 * quote itself.
 */
typedef struct sim_quote_parts {
    attest_sgx_report_body qe_report;
    uint8_t qe_report_signature[64];
    uint8_t *pck_chain_pem; /* PCK, CA and root in PEM, then one NUL, counted in the size */
    size_t pck_chain_pem_size;
} sim_quote_parts;

struct attest_sim_platform {
    EVP_PKEY *root_key;
    X509 *root;
    EVP_PKEY *platform_ca_key;
    X509 *platform_ca;
    EVP_PKEY *processor_ca_key;
    X509 *processor_ca;
    EVP_PKEY *tcb_signing_key;
    X509 *tcb_signing;
    /* TDX quotes carry the Platform CA's PCK certificate, SGX quotes the Processor CA's. */
    EVP_PKEY *pck_platform_key;
    X509 *pck_platform;
    EVP_PKEY *pck_processor_key;
    X509 *pck_processor;
    EVP_PKEY *attestation_key;
    uint8_t secret[32];
    uint8_t attestation_public_key[64]; /* x || y of attestation_key */
    sim_quote_parts quote_parts[2];     /* indexed by attest_sim_tee */
    bool quote_parts_ready;
};

/* The PCK certificate, its key and its CA for quotes of tee. */
typedef struct sim_pck {
    X509 *cert;
    EVP_PKEY *key;
    X509 *ca;
    EVP_PKEY *ca_key;
} sim_pck;

sim_pck sim_platform_pck(const attest_sim_platform *platform, attest_sim_tee tee);

/* ---- pki.c ---- */

/* Generates an ECDSA P-256 key. */
ATTEST_MUST_USE attest_err sim_key_generate(EVP_PKEY **out_key, attest_diag *diag);

/* The kinds of certificate the simulated PKI issues, with Intel's extensions for each. */
typedef enum sim_cert_kind {
    SIM_CERT_ROOT,
    SIM_CERT_PCK_CA,
    SIM_CERT_TCB_SIGNING,
    SIM_CERT_PCK,
} sim_cert_kind;

/* What one certificate states. sgx_extension is the DER of the SGX extension (PCK only). */
typedef struct sim_cert_spec {
    sim_cert_kind kind;
    const char *common_name;
    EVP_PKEY *subject_key;
    X509 *issuer;        /* NULL for the self-signed root */
    EVP_PKEY *issuer_key;
    const uint8_t *sgx_extension;
    size_t sgx_extension_size;
} sim_cert_spec;

ATTEST_MUST_USE attest_err sim_cert_issue(const sim_cert_spec *spec, X509 **out_cert,
                                          attest_diag *diag);

/* What the SGX extension of a PCK certificate states. */
typedef struct sim_pck_fields {
    uint8_t ppid[16];
    uint8_t components[16];
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t pce_id[2];
    uint8_t fmspc[6];
    int sgx_type;
    bool platform;                    /* Platform CA: instance id and configuration */
    uint8_t platform_instance_id[16];
} sim_pck_fields;

/* Encodes the SGX extension value (a DER SEQUENCE) into a buffer freed with OPENSSL_free. */
ATTEST_MUST_USE attest_err sim_sgx_extension_encode(const sim_pck_fields *fields,
                                                    uint8_t **out_der, size_t *out_size,
                                                    attest_diag *diag);

/*
 * Issues a CRL of issuer valid from this_update to next_update that lists
 * the revoked certificates, as DER in a buffer the caller frees with
 * OPENSSL_free.
 */
ATTEST_MUST_USE attest_err sim_crl_issue(X509 *issuer, EVP_PKEY *issuer_key, time_t this_update,
                                         time_t next_update, X509 *const *revoked,
                                         size_t revoked_count, uint8_t **out_der,
                                         size_t *out_size, attest_diag *diag);

/* Signs data with ECDSA P-256 over SHA-256 and writes the signature as r || s. */
ATTEST_MUST_USE attest_err sim_sign_raw(EVP_PKEY *key, const uint8_t *data, size_t size,
                                        uint8_t out_signature[64], attest_diag *diag);

/* Writes the public point of a P-256 key as x || y. */
ATTEST_MUST_USE attest_err sim_public_key_raw(EVP_PKEY *key, uint8_t out_key[64],
                                              attest_diag *diag);

/*
 * Appends the PEM of certs[0..count) to a new buffer the caller frees with
 * free(), with a trailing NUL counted in out_size when with_nul is set.
 */
ATTEST_MUST_USE attest_err sim_pem_chain(X509 *const *certs, size_t count, bool with_nul,
                                         uint8_t **out_pem, size_t *out_size,
                                         attest_diag *diag);

/* SHA-256 or SHA-384 (digest_size 32 or 48) of data. */
ATTEST_MUST_USE attest_err sim_digest(const uint8_t *data, size_t size, size_t digest_size,
                                      uint8_t *out_digest);

/* MRSIGNER of the simulated QE and TD QE, as the simulated QE identity states it. */
void sim_qe_mrsigner(uint8_t out[32]);

/* ---- quote.c ---- */

/* Deviations that scenarios make from a correct quote. */
typedef struct sim_quote_faults {
    bool tamper_body;           /* change a body byte after signing */
    bool tamper_qe_report;      /* change a QE report byte after the PCK signed it */
    bool qe_report_binds_other; /* QE report data binds another attestation key */
    bool has_tee_tcb_svn2;      /* TD 1.5: TEE_TCB_SVN2 other than TEE_TCB_SVN */
    uint8_t tee_tcb_svn2[16];
} sim_quote_faults;

ATTEST_MUST_USE attest_err sim_quote_build(attest_sim_platform *platform,
                                           const attest_sim_quote_options *options,
                                           const sim_quote_faults *faults, uint8_t **out_quote,
                                           size_t *out_size, attest_diag *diag);

/* Prepares platform->quote_parts and platform->attestation_public_key. */
ATTEST_MUST_USE attest_err sim_quote_parts_prepare(attest_sim_platform *platform,
                                                   attest_diag *diag);

/* Frees what sim_quote_parts_prepare allocated. */
void sim_quote_parts_clear(attest_sim_platform *platform);

#endif
