/* The parsed form of an appraisal policy, and the readers of its JSON fields. */
#ifndef ATTEST_APPRAISAL_INTERNAL_H
#define ATTEST_APPRAISAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <attest/policy.h>
#include <attest/tcb.h>

/* Largest measurement: MRTD, RTMRs, MR_CONFIG_ID and MR_OWNER are SHA-384 sized. */
#define POLICY_VALUE_MAX_SIZE 48
/* Largest masked value: SGX ATTRIBUTES. */
#define POLICY_MASKED_MAX_SIZE 16

/* A list of allowed measurements. A count of 0 means that the policy has no such key. */
typedef struct policy_values {
    size_t count;
    size_t size; /* bytes of each value */
    uint8_t values[ATTEST_POLICY_MAX_VALUES][POLICY_VALUE_MAX_SIZE];
} policy_values;

/* A field that passes when (claim & mask) == value. */
typedef struct policy_masked {
    bool present;
    size_t size;
    uint8_t value[POLICY_MASKED_MAX_SIZE];
    uint8_t mask[POLICY_MASKED_MAX_SIZE];
} policy_masked;

typedef struct policy_sgx {
    policy_values mrenclave;
    policy_values mrsigner;
    bool has_isvprodid;
    uint16_t isvprodid;
    bool has_min_isvsvn;
    uint16_t min_isvsvn;
    policy_masked attributes;
    policy_masked miscselect; /* the 4 bytes of the report body, little-endian */
} policy_sgx;

typedef struct policy_tdx {
    policy_values mrtd;
    policy_values rtmr[4];
    policy_values mr_config_id;
    policy_values mr_owner;
    policy_masked td_attributes;
    policy_masked xfam;
    bool has_min_tee_tcb_svn;
    uint8_t min_tee_tcb_svn[16];
} policy_tdx;

struct attest_policy {
    char *document;
    size_t document_size;
    uint8_t hash[ATTEST_POLICY_HASH_SIZE];

    bool sgx_allowed;
    bool tdx_allowed;
    policy_sgx sgx;
    policy_tdx tdx;

    bool debug_allowed;
    unsigned accepted_statuses; /* bit (1u << attest_tcb_status) per accepted status */
    bool any_advisory;          /* "accepted_advisory_ids": "*" */
    attest_advisories accepted_advisories;
    bool has_min_tcb_evaluation_data_number;
    uint32_t min_tcb_evaluation_data_number;
    bool nonce_required;
    bool simulated_allowed;
    uint32_t token_lifetime;
};

/*
 * Readers of policy fields. path names the object that contains key, such as
 * "$.sgx". Each writes its output only on success. A key that is absent is
 * an error for these readers, so callers test for optional keys first.
 */

/* Rejects every key of object that is not in keys[0..count). */
ATTEST_MUST_USE attest_err policy_check_keys(const json_t *object, const char *path,
                                             const char *const *keys, size_t count,
                                             attest_diag *diag);

ATTEST_MUST_USE attest_err policy_get_bool(const json_t *object, const char *path,
                                           const char *key, bool *out_value, attest_diag *diag);

/* Reads an array of 1 to ATTEST_POLICY_MAX_VALUES hex strings of size bytes each. */
ATTEST_MUST_USE attest_err policy_get_values(const json_t *object, const char *path,
                                             const char *key, size_t size,
                                             policy_values *out_values, attest_diag *diag);

/* Reads {"value": hex, "mask": hex} of size bytes each. value must have no bit outside mask. */
ATTEST_MUST_USE attest_err policy_get_masked(const json_t *object, const char *path,
                                             const char *key, size_t size,
                                             policy_masked *out_masked, attest_diag *diag);

/* Reads an array of 1 or more TCB status names into a bit mask. Revoked is rejected. */
ATTEST_MUST_USE attest_err policy_get_statuses(const json_t *object, const char *path,
                                               const char *key, unsigned *out_statuses,
                                               attest_diag *diag);

/* Reads "*" (out_any true) or an array of up to ATTEST_POLICY_MAX_VALUES advisory IDs. */
ATTEST_MUST_USE attest_err policy_get_advisories(const json_t *object, const char *path,
                                                 const char *key, bool *out_any,
                                                 attest_advisories *out_advisories,
                                                 attest_diag *diag);

/* Parses the "sgx" and "tdx" sections of root into policy. */
ATTEST_MUST_USE attest_err policy_parse_sgx(const json_t *section, policy_sgx *out_sgx,
                                            attest_diag *diag);
ATTEST_MUST_USE attest_err policy_parse_tdx(const json_t *section, policy_tdx *out_tdx,
                                            attest_diag *diag);

#endif
