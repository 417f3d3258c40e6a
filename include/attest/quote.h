/*
 * Intel DCAP ECDSA quotes: SGX versions 3, 4 and 5, TDX versions 4 and 5.
 *
 * Parsing only frames the bytes: it checks every length, type and version
 * and copies the fixed-size fields out, but decodes no certificate and checks
 * no signature (that is attest_verify's work). A parsed quote borrows the
 * variable-size regions (QE authentication data, PCK chain, trailing bytes)
 * from the caller's buffer, so that buffer must outlive the attest_quote.
 *
 * Layout (all integers little-endian):
 *   v3:    header(48) sgx_body(384) u32 sig_size sig_data
 *   v4:    header(48) body(384 SGX | 584 TDX) u32 sig_size sig_data
 *   v5:    header(48) u16 body_type u32 body_size body u32 sig_size sig_data
 *   v3 sig_data: sig(64) key(64) qe_report(384) qe_sig(64) u16 auth_size auth
 *                u16 cert_type(5) u32 cert_size pem
 *   v4/5 sig_data: sig(64) key(64) u16 cert_type(6) u32 size
 *                  [qe_report(384) qe_sig(64) u16 auth_size auth
 *                   u16 cert_type(5) u32 cert_size pem]
 * Bytes after sig_data are allowed (real quotes carry padding there) and
 * reported in trailing_size; they are covered by no signature.
 */
#ifndef ATTEST_QUOTE_H
#define ATTEST_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTEST_QUOTE_HEADER_SIZE 48
#define ATTEST_SGX_REPORT_BODY_SIZE 384
#define ATTEST_TD10_REPORT_BODY_SIZE 584
#define ATTEST_TD15_REPORT_BODY_SIZE 648
#define ATTEST_ECDSA_SIGNATURE_SIZE 64
#define ATTEST_ECDSA_KEY_SIZE 64
/* Largest quote accepted, a limit far above any real quote (about 5 KiB). */
#define ATTEST_QUOTE_MAX_SIZE (1024 * 1024)

#define ATTEST_TEE_TYPE_SGX 0x00000000u
#define ATTEST_TEE_TYPE_TDX 0x00000081u

#define ATTEST_KEY_TYPE_ECDSA_P256 2

#define ATTEST_CERT_DATA_PCK_CHAIN 5
#define ATTEST_CERT_DATA_QE_REPORT 6

/* Version 5 body descriptor types. */
typedef enum attest_body_type {
    ATTEST_BODY_SGX = 1,
    ATTEST_BODY_TD10 = 2,
    ATTEST_BODY_TD15 = 3,
} attest_body_type;

typedef struct attest_quote_header {
    uint16_t version;
    uint16_t attestation_key_type;
    uint32_t tee_type;
    uint16_t qe_svn;  /* version 3; reserved in 4 and 5 */
    uint16_t pce_svn; /* version 3; reserved in 4 and 5 */
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
} attest_quote_header;

/* SGX report body: the enclave's report, and also the QE report. */
typedef struct attest_sgx_report_body {
    uint8_t cpu_svn[16];
    uint32_t misc_select;
    uint8_t reserved1[12];
    uint8_t isv_ext_prod_id[16];
    uint8_t attributes[16];
    uint8_t mr_enclave[32];
    uint8_t reserved2[32];
    uint8_t mr_signer[32];
    uint8_t reserved3[32];
    uint8_t config_id[64];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t reserved4[42];
    uint8_t isv_family_id[16];
    uint8_t report_data[64];
} attest_sgx_report_body;

/* TD report body; the last two fields exist only in TD 1.5 bodies. */
typedef struct attest_td_report_body {
    uint8_t tee_tcb_svn[16];
    uint8_t mr_seam[48];
    uint8_t mr_signer_seam[48];
    uint8_t seam_attributes[8];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mr_td[48];
    uint8_t mr_config_id[48];
    uint8_t mr_owner[48];
    uint8_t mr_owner_config[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    uint8_t tee_tcb_svn2[16];
    uint8_t mr_service_td[48];
} attest_td_report_body;

typedef struct attest_quote {
    attest_quote_header header;

    /* SGX, TD10 or TD15; for versions 3 and 4 derived from the TEE type. */
    attest_body_type body_type;
    uint32_t body_size; /* 384, 584 or 648 */
    union {
        attest_sgx_report_body sgx;
        attest_td_report_body td;
    } body;

    /* Header, optional v5 body descriptor and body: what the quote signature covers. */
    const uint8_t *signed_data;
    size_t signed_size;

    uint32_t signature_data_size;
    uint8_t signature[ATTEST_ECDSA_SIGNATURE_SIZE];     /* r || s, big-endian */
    uint8_t attestation_key[ATTEST_ECDSA_KEY_SIZE];     /* x || y, big-endian */
    uint16_t cert_data_type;                            /* outer type: 5 (v3) or 6 */
    uint32_t cert_data_size;                            /* outer size */

    attest_sgx_report_body qe_report;
    const uint8_t *qe_report_raw; /* the 384 bytes the QE signature covers */
    uint8_t qe_report_signature[ATTEST_ECDSA_SIGNATURE_SIZE];
    const uint8_t *qe_auth_data;
    uint16_t qe_auth_data_size;

    /* PEM PCK chain of the type 5 certification data, as declared (may end in NUL). */
    uint32_t pck_chain_size;
    const uint8_t *pck_chain;

    /* Bytes after the signature data, covered by no signature. */
    const uint8_t *trailing;
    size_t trailing_size;

    size_t quote_size; /* total bytes given to attest_quote_parse */
} attest_quote;

/*
 * Frames data[0..size) as a quote into out_quote, which borrows data.
 * Errors: ATTEST_ERR_QUOTE_* (stage parse), ATTEST_ERR_LIMIT above
 * ATTEST_QUOTE_MAX_SIZE. diag, when not NULL, gets the offset and values.
 */
ATTEST_MUST_USE attest_err attest_quote_parse(const uint8_t *data, size_t size,
                                              attest_quote *out_quote, attest_diag *diag);

/* True when the quote's TEE is TDX. */
bool attest_quote_is_tdx(const attest_quote *quote);

/* True when the enclave or TD runs in debug mode (SGX ATTRIBUTES bit 1, TD_ATTRIBUTES bit 0). */
bool attest_quote_is_debug(const attest_quote *quote);

/*
 * Serializes quote into out (capacity out_capacity) and writes the byte count
 * to out_size. With out NULL only out_size is computed. Trailing bytes are
 * written too, so a parsed quote serializes to the same bytes.
 * Errors: ATTEST_ERR_ARGUMENT, ATTEST_ERR_LIMIT when out is too small.
 */
ATTEST_MUST_USE attest_err attest_quote_serialize(const attest_quote *quote, uint8_t *out,
                                                  size_t out_capacity, size_t *out_size);

/*
 * Reads a quote file that is either binary or hex text (optional 0x prefix,
 * whitespace ignored) into a new buffer the caller frees with free().
 */
ATTEST_MUST_USE attest_err attest_quote_read_file(const char *path, uint8_t **out_data,
                                                  size_t *out_size, attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
