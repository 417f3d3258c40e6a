/*
 * Collateral for Intel DCAP verification as Intel's PCS/PCCS serves it, and
 * the interface of a collateral source.
 *
 * attest_collateral holds the raw material only; nothing here checks a
 * signature. The verifier (verify.h) turns it into verified collateral.
 */
#ifndef ATTEST_COLLATERAL_H
#define ATTEST_COLLATERAL_H

#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest collateral file read (CRLs of a busy Processor CA stay below 1 MiB). */
#define ATTEST_COLLATERAL_MAX_FILE_SIZE (4 * 1024 * 1024)

/* A byte string owned by the collateral that contains it. */
typedef struct attest_bytes {
    uint8_t *data;
    size_t size;
} attest_bytes;

typedef struct attest_collateral {
    attest_bytes pck_crl_issuer_chain;     /* PEM */
    attest_bytes root_ca_crl;              /* DER */
    attest_bytes pck_crl;                  /* DER */
    attest_bytes tcb_info_issuer_chain;    /* PEM */
    attest_bytes tcb_info;                 /* exact signed JSON text of the TCB info object */
    attest_bytes tcb_info_signature;       /* 64 bytes r || s */
    attest_bytes qe_identity_issuer_chain; /* PEM */
    attest_bytes qe_identity;              /* exact signed JSON text of the QE identity */
    attest_bytes qe_identity_signature;    /* 64 bytes r || s */
} attest_collateral;

/* Releases every buffer of collateral and zeroes it. NULL is allowed. */
void attest_collateral_clear(attest_collateral *collateral);

/*
 * Reads a JSON bundle: an object with the keys pck_crl_issuer_chain,
 * root_ca_crl (hex DER), pck_crl (hex DER), tcb_info_issuer_chain, tcb_info,
 * tcb_info_signature (hex), qe_identity_issuer_chain, qe_identity,
 * qe_identity_signature (hex). Duplicate keys and missing keys are errors.
 */
ATTEST_MUST_USE attest_err attest_collateral_from_bundle(const char *json, size_t size,
                                                         attest_collateral *out_collateral,
                                                         attest_diag *diag);

/*
 * Reads a directory of PCS-style files: tcb-info.json and qe-identity.json
 * (response bodies {"tcbInfo"|"enclaveIdentity": {...}, "signature": "hex"}
 * whose signature covers the exact bytes of the inner object), pck-crl.der,
 * root-ca-crl.der, pck-crl-issuer-chain.pem, tcb-info-issuer-chain.pem and
 * qe-identity-issuer-chain.pem.
 */
ATTEST_MUST_USE attest_err attest_collateral_from_dir(const char *dir,
                                                      attest_collateral *out_collateral,
                                                      attest_diag *diag);

/*
 * Splits a PCS response body {"<key>": {...}, "signature": "hex"} into the
 * exact bytes of the inner object (a copy into out_object) and the decoded
 * signature. key is "tcbInfo" or "enclaveIdentity".
 */
ATTEST_MUST_USE attest_err attest_collateral_split_pcs_body(const char *json, size_t size,
                                                            const char *key,
                                                            attest_bytes *out_object,
                                                            attest_bytes *out_signature,
                                                            attest_diag *diag);

/* Reads a bundle file or a directory, whichever path is. */
ATTEST_MUST_USE attest_err attest_collateral_load(const char *path,
                                                  attest_collateral *out_collateral,
                                                  attest_diag *diag);

/* What a source is asked for: the platform type a quote needs collateral for. */
typedef struct attest_collateral_request {
    int tdx;            /* 1 for TDX (TCB info id TDX, QE identity TD_QE), 0 for SGX */
    uint8_t fmspc[6];
    const char *pck_ca; /* "platform" or "processor": which PCK CRL */
} attest_collateral_request;

/*
 * A collateral source. get fills out_collateral for request or fails with a
 * clear error; the caller releases it with attest_collateral_clear. destroy
 * releases the source. Sources for files exist here; a PCCS client with a
 * cache implements the same interface.
 */
typedef struct attest_collateral_source {
    void *context;
    attest_err (*get)(void *context, const attest_collateral_request *request,
                      attest_collateral *out_collateral, attest_diag *diag);
    void (*destroy)(void *context);
} attest_collateral_source;

/* A source that returns the bundle file or directory at path for every request. */
ATTEST_MUST_USE attest_err attest_collateral_source_path(const char *path,
                                                         attest_collateral_source *out_source,
                                                         attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
