/*
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1):
 * a SEQUENCE of (OID, value) pairs naming the platform and its TCB.
 */
#ifndef ATTEST_PCK_H
#define ATTEST_PCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTEST_SGX_EXTENSION_OID "1.2.840.113741.1.13.1"

typedef enum attest_pck_ca {
    ATTEST_PCK_CA_PROCESSOR,
    ATTEST_PCK_CA_PLATFORM,
} attest_pck_ca;

typedef enum attest_sgx_type {
    ATTEST_SGX_TYPE_STANDARD = 0,
    ATTEST_SGX_TYPE_SCALABLE = 1,
    ATTEST_SGX_TYPE_SCALABLE_WITH_INTEGRITY = 2,
} attest_sgx_type;

typedef struct attest_pck_info {
    uint8_t ppid[16];
    uint8_t tcb_components[16];
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t pce_id[2];
    uint8_t fmspc[6];
    attest_sgx_type sgx_type;

    /* Platform CA certificates only. */
    bool has_platform_instance_id;
    uint8_t platform_instance_id[16];
    bool has_configuration;
    bool dynamic_platform;
    bool cached_keys;
    bool smt_enabled;
} attest_pck_info;

/*
 * Decodes the DER value of the SGX extension (the SEQUENCE inside the
 * extension's OCTET STRING) into out_info, written only on success. Every
 * mandatory entry (PPID, TCB with 16 components, PCESVN and CPUSVN, PCE-ID,
 * FMSPC, SGX type) must appear exactly once with its exact type and size,
 * and the optional platform instance ID and configuration at most once. An
 * entry with another OID at the top level or inside the configuration is
 * skipped, because Intel has added optional entries to this extension
 * before, but inside the TCB it is rejected. Non-DER encodings, bytes after the
 * SEQUENCE and values above 16 KiB are rejected.
 * Errors: ATTEST_ERR_PCK_EXTENSION, or ATTEST_ERR_ARGUMENT when out_info is NULL.
 */
ATTEST_MUST_USE attest_err attest_pck_extension_parse(const uint8_t *der, size_t size,
                                                      attest_pck_info *out_info,
                                                      attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
