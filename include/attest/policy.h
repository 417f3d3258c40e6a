/*
 * Appraisal policies: what an application's evidence must show.
 *
 * A policy is a JSON document (docs/policy.md, docs/policy.schema.json),
 * one per application version. Parsing is strict so that a typo never
 * weakens a policy. It rejects unknown keys, duplicate keys, nesting deeper
 * than ATTEST_JSON_MAX_DEPTH, documents above ATTEST_POLICY_MAX_SIZE and hex
 * values of the wrong length. Every error names the JSON path of the value,
 * such as "$.sgx.mrenclave[1]".
 *
 * Appraisal runs on an attest_report that attest_verify_quote produced.
 * It trusts the report's claims only when report->valid is true, and every
 * setting that weakens a check is off unless the policy names it: debug
 * enclaves, simulated platforms, TCB statuses other than UpToDate and
 * advisories of a degraded status.
 *
 * Thread safety: a parsed policy is immutable, so several threads may
 * appraise with one policy at the same time.
 */
#ifndef ATTEST_POLICY_H
#define ATTEST_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>
#include <attest/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Maximum size of a policy document, in bytes. */
#define ATTEST_POLICY_MAX_SIZE (64 * 1024)
/* Maximum count of values in one list of measurements or advisory IDs. */
#define ATTEST_POLICY_MAX_VALUES 64
#define ATTEST_POLICY_TOKEN_LIFETIME_DEFAULT 300
#define ATTEST_POLICY_TOKEN_LIFETIME_MAX 86400
#define ATTEST_POLICY_HASH_SIZE 32

/* Evidence types a policy can allow. SEV-SNP and TPM are not supported yet. */
typedef enum attest_evidence_type {
    ATTEST_EVIDENCE_TYPE_SGX,
    ATTEST_EVIDENCE_TYPE_TDX,
} attest_evidence_type;

/* Returns "sgx" or "tdx", the names a policy uses. */
const char *attest_evidence_type_name(attest_evidence_type type);

typedef struct attest_policy attest_policy;

/*
 * Parses the policy document json[0..size) (not NUL-terminated) into a new
 * policy that the caller releases with attest_policy_free. The policy keeps
 * a copy of the bytes, so json may be freed afterwards.
 * Errors: ATTEST_ERR_LIMIT above ATTEST_POLICY_MAX_SIZE,
 * ATTEST_ERR_JSON_SYNTAX, ATTEST_ERR_JSON_DUPLICATE_KEY, ATTEST_ERR_JSON_DEPTH,
 * ATTEST_ERR_JSON_FIELD (wrong type, range or hex length),
 * ATTEST_ERR_POLICY_UNKNOWN_KEY, ATTEST_ERR_POLICY_EVIDENCE_TYPE,
 * ATTEST_ERR_TCB_STATUS_UNKNOWN, ATTEST_ERR_POLICY_INVALID (rules that join
 * several keys), ATTEST_ERR_CRYPTO, ATTEST_ERR_NOMEM. diag, when not NULL,
 * gets the JSON path and the value.
 */
ATTEST_MUST_USE attest_err attest_policy_parse(const char *json, size_t size,
                                               attest_policy **out_policy, attest_diag *diag);

/* Releases policy. NULL is allowed. */
void attest_policy_free(attest_policy *policy);

/* True when appraisal needs the expected report data (key "nonce_required", default true). */
bool attest_policy_nonce_required(const attest_policy *policy);

/* True when evidence from a simulated platform may pass ("simulated_allowed", default false). */
bool attest_policy_simulated_allowed(const attest_policy *policy);

/* Lifetime of the tokens issued under policy, in seconds (default 300, 1 to 86400). */
uint32_t attest_policy_token_lifetime(const attest_policy *policy);

/* True when the policy's "evidence_types" lists type. */
bool attest_policy_evidence_allowed(const attest_policy *policy, attest_evidence_type type);

/* Copies the SHA-256 of the policy document's bytes, as given to attest_policy_parse. */
void attest_policy_hash(const attest_policy *policy,
                        uint8_t out_hash[ATTEST_POLICY_HASH_SIZE]);

/* Returns the policy document's bytes (not NUL-terminated) and their count in out_size. */
const char *attest_policy_document(const attest_policy *policy, size_t *out_size);

/* One policy check of an appraisal. */
typedef struct attest_appraisal_check {
    const char *name;        /* static string, such as "sgx_mrenclave" */
    attest_outcome outcome;  /* pass, fail, or skip when the check does not apply */
    attest_err err;          /* ATTEST_OK unless outcome is fail */
    char detail[256];        /* the expected and the actual value */
} attest_appraisal_check;

#define ATTEST_APPRAISAL_MAX_CHECKS 32

/* Outcome of appraising one report against one policy. */
typedef struct attest_appraisal {
    /* True only when no check failed. */
    bool pass;
    /*
     * True when it passed with a TCB status other than UpToDate, or with a
     * debug enclave or TD, or with simulated evidence: an EAR "warning"
     * rather than "affirming".
     */
    bool degraded;
    /* First failing check: its index in checks, and its error. err is ATTEST_OK on a pass. */
    size_t failed_index;
    attest_err err;

    size_t check_count;
    attest_appraisal_check checks[ATTEST_APPRAISAL_MAX_CHECKS];
} attest_appraisal;

/*
 * Appraises report against policy and fills out_appraisal with every check
 * in a fixed order (docs/policy.md lists them). When expected_report_data is
 * not NULL, it points to 64 bytes that the quote's report data must equal,
 * compared in constant time. When it is NULL, the check passes only if the
 * policy does not require a nonce.
 * Returns out_appraisal->err: ATTEST_OK on a pass, otherwise the error of
 * the first failing check. ATTEST_ERR_ARGUMENT when policy, report or
 * out_appraisal is NULL, and then out_appraisal is not written.
 */
ATTEST_MUST_USE attest_err attest_policy_appraise(const attest_policy *policy,
                                                  const attest_report *report,
                                                  const uint8_t *expected_report_data,
                                                  attest_appraisal *out_appraisal);

/*
 * A report data rule that replaces the policy's nonce rule, for APIs with a
 * binding of their own (Azure's: SHA-256 of the runtime data in the first 32
 * bytes of report data).
 */
typedef struct attest_report_data_binding {
    /* The rule's name in the check's detail; NULL: the policy's nonce rule applies. */
    const char *rule;
    /*
     * The first size bytes (1 to 64) of report data must equal expected,
     * compared in constant time. NULL: nothing is checked, and when rule is
     * not NULL the check is skipped whatever the policy's nonce rule is.
     */
    const uint8_t *expected;
    size_t size;
} attest_report_data_binding;

/*
 * attest_policy_appraise with the report data check of binding.
 * ATTEST_ERR_ARGUMENT also when binding is NULL or its size is out of range.
 */
ATTEST_MUST_USE attest_err attest_policy_appraise_bound(const attest_policy *policy,
                                                        const attest_report *report,
                                                        const attest_report_data_binding *binding,
                                                        attest_appraisal *out_appraisal);

/* Returns the first failing check of appraisal, or NULL when it passed. */
const attest_appraisal_check *attest_appraisal_failed_check(const attest_appraisal *appraisal);

#ifdef __cplusplus
}
#endif

#endif
