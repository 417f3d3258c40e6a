/*
 * Appraisal of a verification report against a policy.
 *
 * The checks run in a fixed order and every one runs, so that the result
 * lists all that failed. There is one exception. When the evidence is not
 * valid, its claims are not trusted, so appraisal stops after
 * "evidence_valid". The section checks of an evidence type that the policy
 * does not allow are not run either, because that section does not exist.
 *
 * Caveat: the TCB evaluation data number compared is the TCB info's. The QE
 * identity's own number is not in the report, so it is not checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include <attest/evidence.h>

#include "appraisal/internal.h"
#include "util/hex.h"

/* Hex text of up to 48 bytes. */
typedef struct hex_text {
    char text[2 * POLICY_VALUE_MAX_SIZE + 1];
} hex_text;

static hex_text hex_of(const uint8_t *data, size_t size)
{
    hex_text hex;
    attest_hex_encode(data, size, hex.text);
    return hex;
}

static void check_add(attest_appraisal *appraisal, const char *name, attest_outcome outcome,
                      attest_err err, const char *format, ...) ATTEST_PRINTF(5, 6);

static void check_add(attest_appraisal *appraisal, const char *name, attest_outcome outcome,
                      attest_err err, const char *format, ...)
{
    /* NOTE: the fixed check list is at most 18 long, far below the array's capacity. */
    if (appraisal->check_count >= ATTEST_APPRAISAL_MAX_CHECKS) {
        return;
    }
    attest_appraisal_check *check = &appraisal->checks[appraisal->check_count];
    check->name = name;
    check->outcome = outcome;
    check->err = outcome == ATTEST_CHECK_FAIL ? err : ATTEST_OK;
    va_list args;
    va_start(args, format);
    vsnprintf(check->detail, sizeof(check->detail), format, args);
    va_end(args);

    if (outcome == ATTEST_CHECK_FAIL && appraisal->pass) {
        appraisal->pass = false;
        appraisal->failed_index = appraisal->check_count;
        appraisal->err = err;
    }
    appraisal->check_count++;
}

/* Checks that claim[0..values->size) is in the policy's list, or skips when the list is absent. */
static void values_check(attest_appraisal *appraisal, const char *name, const char *label,
                         const policy_values *values, const uint8_t *claim)
{
    /* An absent list has no size, so the claim is not shown. */
    if (values->count == 0) {
        check_add(appraisal, name, ATTEST_CHECK_SKIP, ATTEST_OK,
                  "policy lists no %s values, so %s is not checked", label, label);
        return;
    }
    hex_text actual = hex_of(claim, values->size);
    for (size_t i = 0; i < values->count; i++) {
        if (memcmp(values->values[i], claim, values->size) == 0) {
            check_add(appraisal, name, ATTEST_CHECK_PASS, ATTEST_OK,
                      "%s %s is allowed value %zu of %zu", label, actual.text, i + 1,
                      values->count);
            return;
        }
    }
    check_add(appraisal, name, ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_MEASUREMENT,
              "%s %s is not among the %zu allowed values", label, actual.text, values->count);
}

/* Checks (claim & mask) == value byte by byte, or skips when the policy has no such key. */
static void masked_check(attest_appraisal *appraisal, const char *name, const char *label,
                         const policy_masked *masked, const uint8_t *claim, size_t size)
{
    hex_text actual = hex_of(claim, size);
    if (!masked->present) {
        check_add(appraisal, name, ATTEST_CHECK_SKIP, ATTEST_OK, "policy sets no %s; %s is %s",
                  label, label, actual.text);
        return;
    }
    bool equal = true;
    for (size_t i = 0; i < size; i++) {
        equal = equal && (claim[i] & masked->mask[i]) == masked->value[i];
    }
    hex_text value = hex_of(masked->value, size);
    hex_text mask = hex_of(masked->mask, size);
    if (equal) {
        check_add(appraisal, name, ATTEST_CHECK_PASS, ATTEST_OK,
                  "%s %s under mask %s equals %s", label, actual.text, mask.text, value.text);
    } else {
        check_add(appraisal, name, ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_ATTRIBUTES,
                  "%s %s under mask %s differs from the expected %s", label, actual.text,
                  mask.text, value.text);
    }
}

static void sgx_checks(const policy_sgx *sgx, const attest_sgx_report_body *body,
                       attest_appraisal *appraisal)
{
    values_check(appraisal, "sgx_mrenclave", "MRENCLAVE", &sgx->mrenclave, body->mr_enclave);
    values_check(appraisal, "sgx_mrsigner", "MRSIGNER", &sgx->mrsigner, body->mr_signer);

    if (!sgx->has_isvprodid) {
        check_add(appraisal, "sgx_isvprodid", ATTEST_CHECK_SKIP, ATTEST_OK,
                  "policy sets no ISVPRODID; ISVPRODID is %u", body->isv_prod_id);
    } else if (body->isv_prod_id == sgx->isvprodid) {
        check_add(appraisal, "sgx_isvprodid", ATTEST_CHECK_PASS, ATTEST_OK,
                  "ISVPRODID %u equals the expected %u", body->isv_prod_id, sgx->isvprodid);
    } else {
        check_add(appraisal, "sgx_isvprodid", ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_PRODUCT_ID,
                  "ISVPRODID %u differs from the expected %u", body->isv_prod_id,
                  sgx->isvprodid);
    }

    if (!sgx->has_min_isvsvn) {
        check_add(appraisal, "sgx_isvsvn", ATTEST_CHECK_SKIP, ATTEST_OK,
                  "policy sets no minimum ISVSVN; ISVSVN is %u", body->isv_svn);
    } else if (body->isv_svn >= sgx->min_isvsvn) {
        check_add(appraisal, "sgx_isvsvn", ATTEST_CHECK_PASS, ATTEST_OK,
                  "ISVSVN %u is at least the minimum %u", body->isv_svn, sgx->min_isvsvn);
    } else {
        check_add(appraisal, "sgx_isvsvn", ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_SVN,
                  "ISVSVN %u is below the minimum %u", body->isv_svn, sgx->min_isvsvn);
    }

    masked_check(appraisal, "sgx_attributes", "ATTRIBUTES", &sgx->attributes, body->attributes,
                 sizeof(body->attributes));
    /* MISCSELECT in the byte order of the report body, as attest verify --json prints it. */
    uint8_t misc_select[4] = {(uint8_t)body->misc_select, (uint8_t)(body->misc_select >> 8),
                              (uint8_t)(body->misc_select >> 16),
                              (uint8_t)(body->misc_select >> 24)};
    masked_check(appraisal, "sgx_miscselect", "MISCSELECT", &sgx->miscselect, misc_select,
                 sizeof(misc_select));
}

/* Compares TEE_TCB_SVN with the policy's minimum component by component. */
static void tee_tcb_svn_check(const policy_tdx *tdx, const attest_td_report_body *body,
                              attest_appraisal *appraisal)
{
    hex_text actual = hex_of(body->tee_tcb_svn, sizeof(body->tee_tcb_svn));
    if (!tdx->has_min_tee_tcb_svn) {
        check_add(appraisal, "tdx_tee_tcb_svn", ATTEST_CHECK_SKIP, ATTEST_OK,
                  "policy sets no minimum TEE_TCB_SVN; TEE_TCB_SVN is %s", actual.text);
        return;
    }
    hex_text minimum = hex_of(tdx->min_tee_tcb_svn, sizeof(tdx->min_tee_tcb_svn));
    for (size_t i = 0; i < sizeof(body->tee_tcb_svn); i++) {
        if (body->tee_tcb_svn[i] < tdx->min_tee_tcb_svn[i]) {
            check_add(appraisal, "tdx_tee_tcb_svn", ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_SVN,
                      "TEE_TCB_SVN component %zu is %u, below the minimum %u (TEE_TCB_SVN %s, "
                      "minimum %s)",
                      i, body->tee_tcb_svn[i], tdx->min_tee_tcb_svn[i], actual.text,
                      minimum.text);
            return;
        }
    }
    check_add(appraisal, "tdx_tee_tcb_svn", ATTEST_CHECK_PASS, ATTEST_OK,
              "every component of TEE_TCB_SVN %s is at least that of the minimum %s",
              actual.text, minimum.text);
}

static void tdx_checks(const policy_tdx *tdx, const attest_td_report_body *body,
                       attest_appraisal *appraisal)
{
    static const char *const rtmr_checks[4] = {"tdx_rtmr0", "tdx_rtmr1", "tdx_rtmr2",
                                               "tdx_rtmr3"};
    static const char *const rtmr_labels[4] = {"RTMR0", "RTMR1", "RTMR2", "RTMR3"};

    values_check(appraisal, "tdx_mrtd", "MRTD", &tdx->mrtd, body->mr_td);
    for (size_t i = 0; i < 4; i++) {
        values_check(appraisal, rtmr_checks[i], rtmr_labels[i], &tdx->rtmr[i], body->rtmr[i]);
    }
    values_check(appraisal, "tdx_mr_config_id", "MR_CONFIG_ID", &tdx->mr_config_id,
                 body->mr_config_id);
    values_check(appraisal, "tdx_mr_owner", "MR_OWNER", &tdx->mr_owner, body->mr_owner);
    masked_check(appraisal, "tdx_td_attributes", "TD_ATTRIBUTES", &tdx->td_attributes,
                 body->td_attributes, sizeof(body->td_attributes));
    masked_check(appraisal, "tdx_xfam", "XFAM", &tdx->xfam, body->xfam, sizeof(body->xfam));
    tee_tcb_svn_check(tdx, body, appraisal);
}

/* Checks the evidence type; returns true when the policy allows it. */
static bool evidence_type_check(const attest_policy *policy, attest_evidence_type type,
                                attest_appraisal *appraisal)
{
    const char *name = attest_evidence_type_name(type);
    if (attest_policy_evidence_allowed(policy, type)) {
        check_add(appraisal, "evidence_type", ATTEST_CHECK_PASS, ATTEST_OK,
                  "evidence type %s is allowed", name);
        return true;
    }
    check_add(appraisal, "evidence_type", ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_EVIDENCE_TYPE,
              "evidence type %s is not in the policy's evidence_types", name);
    return false;
}

static void simulated_check(const attest_policy *policy, const attest_report *report,
                            attest_appraisal *appraisal)
{
    if (!report->simulated) {
        check_add(appraisal, "simulated", ATTEST_CHECK_PASS, ATTEST_OK,
                  "evidence chains to the Intel SGX Root CA");
    } else if (policy->simulated_allowed) {
        check_add(appraisal, "simulated", ATTEST_CHECK_PASS, ATTEST_OK,
                  "simulated evidence (root \"%.100s\") is allowed", report->root_subject);
    } else {
        check_add(appraisal, "simulated", ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_SIMULATED,
                  "evidence chains to the added root \"%.100s\", but simulated_allowed is "
                  "false",
                  report->root_subject);
    }
}

static void debug_check(const attest_policy *policy, const attest_report *report,
                        attest_appraisal *appraisal)
{
    if (!report->debug) {
        check_add(appraisal, "debug", ATTEST_CHECK_PASS, ATTEST_OK,
                  "enclave or TD is not in debug mode");
    } else if (policy->debug_allowed) {
        check_add(appraisal, "debug", ATTEST_CHECK_PASS, ATTEST_OK,
                  "enclave or TD is in debug mode, which the policy allows");
    } else {
        check_add(appraisal, "debug", ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_DEBUG,
                  "enclave or TD is in debug mode, but debug_allowed is false");
    }
}

static void report_data_check(const attest_policy *policy, const uint8_t *report_data,
                              const attest_report_data_binding *binding,
                              attest_appraisal *appraisal)
{
    if (binding->expected == NULL) {
        if (binding->rule != NULL) {
            check_add(appraisal, "report_data", ATTEST_CHECK_SKIP, ATTEST_OK,
                      "binding rule %.48s checks nothing for this request", binding->rule);
        } else if (policy->nonce_required) {
            check_add(appraisal, "report_data", ATTEST_CHECK_FAIL,
                      ATTEST_ERR_APPRAISAL_NONCE_MISSING,
                      "policy requires a nonce, but no expected report data was given");
        } else {
            check_add(appraisal, "report_data", ATTEST_CHECK_SKIP, ATTEST_OK,
                      "policy requires no nonce and no expected report data was given");
        }
        return;
    }

    /* The expected value derives from a nonce or caller data, so compare in constant time. */
    size_t size = binding->size;
    hex_text actual = hex_of(report_data, 16);
    hex_text expected_hex = hex_of(binding->expected, size < 16 ? size : 16);
    const char *rule = binding->rule != NULL ? binding->rule : "nonce";
    if (CRYPTO_memcmp(report_data, binding->expected, size) == 0) {
        check_add(appraisal, "report_data", ATTEST_CHECK_PASS, ATTEST_OK,
                  "report data %s... equals the expected value in its first %zu bytes (rule %.48s)",
                  actual.text, size, rule);
        return;
    }
    check_add(appraisal, "report_data", ATTEST_CHECK_FAIL, ATTEST_ERR_REPORT_DATA_MISMATCH,
              "report data %s... differs from the expected %s... in its first %zu bytes (rule %.48s)",
              actual.text, expected_hex.text, size, rule);
}

static void tcb_status_check(const attest_policy *policy, const attest_report *report,
                             attest_appraisal *appraisal)
{
    if (!report->has_tcb_status) {
        check_add(appraisal, "tcb_status", ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_TCB_STATUS,
                  "the report has no TCB status");
        return;
    }
    const char *name = attest_tcb_status_name(report->tcb_status);
    if ((policy->accepted_statuses & (1u << report->tcb_status)) != 0) {
        check_add(appraisal, "tcb_status", ATTEST_CHECK_PASS, ATTEST_OK,
                  "TCB status %s is accepted", name);
    } else {
        check_add(appraisal, "tcb_status", ATTEST_CHECK_FAIL, ATTEST_ERR_APPRAISAL_TCB_STATUS,
                  "TCB status %s is not in accepted_tcb_statuses", name);
    }
}

static bool advisory_accepted(const attest_policy *policy, const char *id)
{
    for (size_t i = 0; i < policy->accepted_advisories.count; i++) {
        if (strcmp(policy->accepted_advisories.ids[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/* A degraded status passes only when the policy accepts every advisory ID of the report. */
static void advisories_check(const attest_policy *policy, const attest_report *report,
                             attest_appraisal *appraisal)
{
    size_t count = report->advisories.count;
    if (report->has_tcb_status && report->tcb_status == ATTEST_TCB_UP_TO_DATE) {
        check_add(appraisal, "advisory_ids", ATTEST_CHECK_SKIP, ATTEST_OK,
                  "TCB status is UpToDate, and advisory IDs are checked only for a degraded "
                  "status (%zu listed)",
                  count);
        return;
    }
    if (policy->any_advisory) {
        check_add(appraisal, "advisory_ids", ATTEST_CHECK_PASS, ATTEST_OK,
                  "policy accepts every advisory ID (\"*\"); %zu listed", count);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (!advisory_accepted(policy, report->advisories.ids[i])) {
            check_add(appraisal, "advisory_ids", ATTEST_CHECK_FAIL,
                      ATTEST_ERR_APPRAISAL_ADVISORY,
                      "advisory ID %.31s is not in accepted_advisory_ids (%zu IDs)",
                      report->advisories.ids[i], policy->accepted_advisories.count);
            return;
        }
    }
    check_add(appraisal, "advisory_ids", ATTEST_CHECK_PASS, ATTEST_OK,
              "all %zu advisory IDs are accepted", count);
}

static void evaluation_number_check(const attest_policy *policy, const attest_report *report,
                                    attest_appraisal *appraisal)
{
    uint32_t number = report->tcb_evaluation_data_number;
    if (!policy->has_min_tcb_evaluation_data_number) {
        check_add(appraisal, "tcb_evaluation_data_number", ATTEST_CHECK_SKIP, ATTEST_OK,
                  "policy sets no minimum; the TCB evaluation data number is %u", number);
    } else if (report->has_collateral && number >= policy->min_tcb_evaluation_data_number) {
        check_add(appraisal, "tcb_evaluation_data_number", ATTEST_CHECK_PASS, ATTEST_OK,
                  "TCB evaluation data number %u is at least the minimum %u", number,
                  policy->min_tcb_evaluation_data_number);
    } else {
        check_add(appraisal, "tcb_evaluation_data_number", ATTEST_CHECK_FAIL,
                  ATTEST_ERR_APPRAISAL_TCB_EVALUATION,
                  "TCB evaluation data number %u is below the minimum %u", number,
                  policy->min_tcb_evaluation_data_number);
    }
}

attest_err attest_policy_appraise(const attest_policy *policy, const attest_report *report,
                                  const uint8_t *expected_report_data,
                                  attest_appraisal *out_appraisal)
{
    attest_report_data_binding binding = {
        .rule = NULL,
        .expected = expected_report_data,
        .size = ATTEST_REPORT_DATA_SIZE,
    };
    return attest_policy_appraise_bound(policy, report, &binding, out_appraisal);
}

attest_err attest_policy_appraise_bound(const attest_policy *policy, const attest_report *report,
                                        const attest_report_data_binding *binding,
                                        attest_appraisal *out_appraisal)
{
    if (policy == NULL || report == NULL || out_appraisal == NULL || binding == NULL ||
        (binding->expected != NULL &&
         (binding->size == 0 || binding->size > ATTEST_REPORT_DATA_SIZE))) {
        return ATTEST_ERR_ARGUMENT;
    }
    attest_appraisal *appraisal = out_appraisal;
    memset(appraisal, 0, sizeof(*appraisal));
    appraisal->pass = true;

    /* Only a report that passed every verification stage has claims worth appraising. */
    if (!report->valid || !report->parsed) {
        check_add(appraisal, "evidence_valid", ATTEST_CHECK_FAIL,
                  ATTEST_ERR_APPRAISAL_EVIDENCE_INVALID,
                  "verification failed at stage %s with %s: %.120s",
                  attest_stage_name(report->error_stage), attest_err_code(report->err),
                  report->error_message);
        return appraisal->err;
    }
    check_add(appraisal, "evidence_valid", ATTEST_CHECK_PASS, ATTEST_OK,
              "every verification stage passed");

    const attest_quote *quote = &report->quote;
    bool tdx = attest_quote_is_tdx(quote);
    attest_evidence_type type = tdx ? ATTEST_EVIDENCE_TYPE_TDX : ATTEST_EVIDENCE_TYPE_SGX;
    bool type_allowed = evidence_type_check(policy, type, appraisal);

    simulated_check(policy, report, appraisal);
    debug_check(policy, report, appraisal);
    const uint8_t *report_data = tdx ? quote->body.td.report_data : quote->body.sgx.report_data;
    report_data_check(policy, report_data, binding, appraisal);
    tcb_status_check(policy, report, appraisal);
    advisories_check(policy, report, appraisal);
    evaluation_number_check(policy, report, appraisal);

    if (type_allowed) {
        switch (type) {
        case ATTEST_EVIDENCE_TYPE_SGX:
            sgx_checks(&policy->sgx, &quote->body.sgx, appraisal);
            break;
        case ATTEST_EVIDENCE_TYPE_TDX:
            tdx_checks(&policy->tdx, &quote->body.td, appraisal);
            break;
        }
    }

    appraisal->degraded = appraisal->pass &&
                          (report->tcb_status != ATTEST_TCB_UP_TO_DATE || report->debug ||
                           report->simulated);
    return appraisal->err;
}

const attest_appraisal_check *attest_appraisal_failed_check(const attest_appraisal *appraisal)
{
    if (appraisal->pass || appraisal->failed_index >= appraisal->check_count) {
        return NULL;
    }
    return &appraisal->checks[appraisal->failed_index];
}
