/*
 * SGX local attestation: one enclave proves its identity to another enclave
 * on the same machine.
 *
 * Enclave A runs EREPORT with the TARGETINFO of enclave B. The CPU fills a
 * REPORT with A's identity and report data and MACs the report body with B's
 * report key. Only B can obtain that key (EGETKEY with the report's KEYID),
 * so only B can check the MAC, and a report proves nothing to anyone else.
 *
 * Layouts (integers little-endian):
 *   REPORT (432):     body(384, as attest_sgx_report_body) KEYID(32) MAC(16)
 *   TARGETINFO (512): MRENCLAVE(32) ATTRIBUTES(16) reserved(2) CONFIGSVN(2)
 *                     MISCSELECT(4) reserved(8) CONFIGID(64) reserved(384)
 * The MAC is AES-128-CMAC over the 384 body bytes only; KEYID is not
 * covered, but it selects the key.
 *
 * On the simulated platform, report keys are derived from the platform's
 * secret (see attest_local_sim_report_key). On Gramine, reports come from
 * /dev/attestation through attest_gramine_local_report.
 */
#ifndef ATTEST_LOCAL_H
#define ATTEST_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>
#include <attest/evidence.h>
#include <attest/quote.h>
#include <attest/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTEST_SGX_KEY_ID_SIZE 32
#define ATTEST_SGX_MAC_SIZE 16
#define ATTEST_SGX_REPORT_SIZE (ATTEST_SGX_REPORT_BODY_SIZE + ATTEST_SGX_KEY_ID_SIZE + ATTEST_SGX_MAC_SIZE)
#define ATTEST_SGX_TARGET_INFO_SIZE 512
#define ATTEST_SGX_REPORT_KEY_SIZE 16

typedef struct attest_sgx_report {
    attest_sgx_report_body body;
    uint8_t key_id[ATTEST_SGX_KEY_ID_SIZE];
    uint8_t mac[ATTEST_SGX_MAC_SIZE];
} attest_sgx_report;

typedef struct attest_sgx_target_info {
    uint8_t mr_enclave[32];
    uint8_t attributes[16];
    uint8_t reserved1[2];
    uint16_t config_svn;
    uint32_t misc_select;
    uint8_t reserved2[8];
    uint8_t config_id[64];
    uint8_t reserved3[384];
} attest_sgx_target_info;

/*
 * Parses exactly ATTEST_SGX_REPORT_SIZE bytes into out_report. Reserved
 * fields are kept as they are, so serializing gives the same bytes.
 * Errors: ATTEST_ERR_SGX_REPORT_TRUNCATED naming the field,
 * ATTEST_ERR_LOCAL_TRAILING for longer input.
 */
ATTEST_MUST_USE attest_err attest_sgx_report_parse(const uint8_t *data, size_t size,
                                                   attest_sgx_report *out_report,
                                                   attest_diag *diag);

/* Writes the 432 bytes of report. */
void attest_sgx_report_serialize(const attest_sgx_report *report,
                                 uint8_t out[ATTEST_SGX_REPORT_SIZE]);

/* Writes the 384 bytes of an SGX report body, the bytes its MAC or a quote covers. */
void attest_sgx_report_body_serialize(const attest_sgx_report_body *body,
                                      uint8_t out[ATTEST_SGX_REPORT_BODY_SIZE]);

/*
 * Parses exactly ATTEST_SGX_TARGET_INFO_SIZE bytes. Errors:
 * ATTEST_ERR_TARGET_INFO_TRUNCATED naming the field, ATTEST_ERR_LOCAL_TRAILING.
 */
ATTEST_MUST_USE attest_err attest_sgx_target_info_parse(const uint8_t *data, size_t size,
                                                        attest_sgx_target_info *out_target_info,
                                                        attest_diag *diag);

/* Writes the 512 bytes of target_info. */
void attest_sgx_target_info_serialize(const attest_sgx_target_info *target_info,
                                      uint8_t out[ATTEST_SGX_TARGET_INFO_SIZE]);

/*
 * The identity of a simulated enclave: what EREPORT puts into its reports
 * and what its own report key derives from.
 */
typedef struct attest_local_enclave {
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint8_t attributes[16];
    uint32_t misc_select;
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t config_id[64];
    uint8_t cpu_svn[16];
} attest_local_enclave;

/*
 * Fills enclave with zero measurements and the attributes of a production
 * 64-bit enclave: flags 0x05 (INIT, MODE64BIT), XFRM 0x03 (x87, SSE).
 */
void attest_local_enclave_init(attest_local_enclave *enclave);

/* Writes the target info by which other enclaves target enclave. */
void attest_local_enclave_target_info(const attest_local_enclave *enclave,
                                      attest_sgx_target_info *out_target_info);

/*
 * Derives the simulated report key of the enclave that target_info
 * describes, for reports with key_id, from the platform's 32-byte secret:
 *   derivation key = HKDF-SHA-256(secret, info "attest sim SGX report key")[0..16]
 *   report key     = AES-128-CMAC(derivation key, key request)
 *   key request    = "attest-sim-report-key-v1" (24 bytes) || MRENCLAVE(32)
 *                    || ATTRIBUTES(16) || MISCSELECT(4, LE) || CONFIGSVN(2, LE)
 *                    || KEYID(32)
 * so the key depends on the platform, the target's identity and the key id,
 * as EGETKEY's REPORT key does on hardware. Callers wipe out_key with
 * OPENSSL_cleanse. Errors: ATTEST_ERR_CRYPTO.
 */
ATTEST_MUST_USE attest_err attest_local_sim_report_key(const uint8_t platform_secret[32],
                                                       const attest_sgx_target_info *target_info,
                                                       const uint8_t key_id[ATTEST_SGX_KEY_ID_SIZE],
                                                       uint8_t out_key[ATTEST_SGX_REPORT_KEY_SIZE]);

/*
 * Simulates EREPORT on the platform with platform_secret: a report of
 * enclave with report_data, targeted at target_info, with a random key id.
 * Errors: ATTEST_ERR_CRYPTO.
 */
ATTEST_MUST_USE attest_err attest_local_sim_report_create(const uint8_t platform_secret[32],
                                                          const attest_local_enclave *enclave,
                                                          const attest_sgx_target_info *target_info,
                                                          const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                                          attest_sgx_report *out_report);

/*
 * Verifies report as the simulated enclave verifier would: derives its own
 * report key for the report's key id and compares the MAC in constant time.
 * Errors: ATTEST_ERR_REPORT_MAC, ATTEST_ERR_CRYPTO.
 */
ATTEST_MUST_USE attest_err attest_local_sim_report_verify(const uint8_t platform_secret[32],
                                                          const attest_local_enclave *verifier,
                                                          const attest_sgx_report *report,
                                                          attest_diag *diag);

/* The two calls above on an opened simulated platform; the secret copy is wiped. */
ATTEST_MUST_USE attest_err attest_local_report_create(const attest_sim_platform *platform,
                                                      const attest_local_enclave *enclave,
                                                      const attest_sgx_target_info *target_info,
                                                      const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                                      attest_sgx_report *out_report,
                                                      attest_diag *diag);

ATTEST_MUST_USE attest_err attest_local_report_verify(const attest_sim_platform *platform,
                                                      const attest_local_enclave *verifier,
                                                      const attest_sgx_report *report,
                                                      attest_diag *diag);

/*
 * Gets a report from Gramine's /dev/attestation under root (NULL:
 * ATTEST_GRAMINE_ROOT) through fileops (NULL: POSIX): writes target_info
 * and user_report_data, then reads report. Errors: those of
 * attest_evidence_collect for Gramine, and of attest_sgx_report_parse.
 */
ATTEST_MUST_USE attest_err attest_gramine_local_report(const attest_fileops *fileops,
                                                       const char *root,
                                                       const attest_sgx_target_info *target_info,
                                                       const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                                       attest_sgx_report *out_report,
                                                       attest_diag *diag);

/* Reads this enclave's own target info from Gramine's my_target_info. */
ATTEST_MUST_USE attest_err attest_gramine_my_target_info(const attest_fileops *fileops,
                                                         const char *root,
                                                         attest_sgx_target_info *out_target_info,
                                                         attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
