/*
 * The steps every attestation API of attestd shares (attestation.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "attestation.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "util/hex.h"

bool attestd_base64_decode(const char *text, size_t text_size, size_t max_size, uint8_t **out,
                           size_t *out_size)
{
    /*
     * Padding drops at most 2 of the text_size / 4 * 3 bytes, so a text whose
     * smallest decoded size is above max_size is rejected before decoding.
     * This form does not overflow when max_size is SIZE_MAX.
     */
    size_t min_decoded_size = text_size / 4 * 3 > 2 ? text_size / 4 * 3 - 2 : 0;
    if (text_size % 4 != 0 || min_decoded_size > max_size || text_size > INT32_MAX) {
        return false;
    }
    /* Only the standard alphabet, with '=' allowed in the last two places only. */
    for (size_t i = 0; i < text_size; i++) {
        char c = text[i];
        bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/';
        bool padding = c == '=' && i + 2 >= text_size && (i + 1 == text_size || text[i + 1] == '=');
        if (!letter && !padding) {
            return false;
        }
    }
    uint8_t *buffer = malloc(text_size / 4 * 3 + 1);
    if (buffer == NULL) {
        return false;
    }
    int decoded = text_size == 0 ? 0
                                 : EVP_DecodeBlock(buffer, (const unsigned char *)text,
                                                   (int)text_size);
    if (decoded < 0) {
        free(buffer);
        return false;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes, so they are dropped here. */
    size_t size = (size_t)decoded;
    if (text_size >= 1 && text[text_size - 1] == '=') {
        size--;
    }
    if (text_size >= 2 && text[text_size - 2] == '=') {
        size--;
    }
    if (size > max_size) {
        free(buffer);
        return false;
    }
    *out = buffer;
    *out_size = size;
    return true;
}

bool attestd_base64url_decode(const char *text, size_t text_size, size_t max_size, uint8_t **out,
                              size_t *out_size)
{
    /* Padding, when present, must make a multiple of four. */
    size_t data_size = text_size;
    while (data_size > 0 && text[data_size - 1] == '=' && text_size - data_size < 2) {
        data_size--;
    }
    if (data_size != text_size && text_size % 4 != 0) {
        return false;
    }
    if (data_size % 4 == 1 || data_size > INT32_MAX - 4) {
        return false;
    }
    size_t padded_size = (data_size + 3) / 4 * 4;
    char *standard = malloc(padded_size + 1);
    if (standard == NULL) {
        return false;
    }
    for (size_t i = 0; i < data_size; i++) {
        char c = text[i];
        if (c == '+' || c == '/' || c == '=') {
            free(standard);
            return false;
        }
        if (c == '-') {
            c = '+';
        } else if (c == '_') {
            c = '/';
        }
        standard[i] = c;
    }
    memset(standard + data_size, '=', padded_size - data_size);
    standard[padded_size] = '\0';
    bool ok = attestd_base64_decode(standard, padded_size, max_size, out, out_size);
    free(standard);
    return ok;
}

bool attestd_report_level_parse(const char *text, attestd_report_level default_level,
                                attestd_report_level *out_level)
{
    if (text == NULL) {
        *out_level = default_level;
    } else if (strcmp(text, "checks") == 0) {
        *out_level = ATTESTD_REPORT_CHECKS;
    } else if (strcmp(text, "details") == 0) {
        *out_level = ATTESTD_REPORT_DETAILS;
    } else if (strcmp(text, "full") == 0) {
        *out_level = ATTESTD_REPORT_FULL;
    } else {
        return false;
    }
    return true;
}

json_t *attestd_appraisal_json(const attest_appraisal *appraisal, bool pass_details)
{
    json_t *checks = json_array();
    for (size_t i = 0; i < appraisal->check_count; i++) {
        const attest_appraisal_check *check = &appraisal->checks[i];
        json_t *item = json_object();
        json_object_set_new(item, "check", json_string(check->name));
        json_object_set_new(item, "outcome", json_string(attest_outcome_name(check->outcome)));
        if (check->outcome == ATTEST_CHECK_FAIL) {
            json_object_set_new(item, "code", json_string(attest_err_code(check->err)));
        }
        if (pass_details || check->outcome != ATTEST_CHECK_PASS) {
            json_object_set_new(item, "detail", json_string(check->detail));
        }
        json_array_append_new(checks, item);
    }
    json_t *object = json_object();
    json_object_set_new(object, "pass", json_boolean(appraisal->pass));
    json_object_set_new(object, "degraded", json_boolean(appraisal->degraded));
    json_object_set_new(object, "checks", checks);
    return object;
}

bool attestd_evaluation_init(attestd_evaluation *result)
{
    memset(result, 0, sizeof(*result));
    result->report = calloc(1, sizeof(*result->report));
    return result->report != NULL;
}

void attestd_evaluation_clear(attestd_evaluation *result)
{
    free(result->report);
    memset(result, 0, sizeof(*result));
}

void attestd_evaluation_reject(attestd_evaluation *result, const char *stage, attest_err err,
                               const char *message)
{
    result->accepted = false;
    snprintf(result->stage, sizeof(result->stage), "%s", stage);
    snprintf(result->code, sizeof(result->code), "%s", attest_err_code(err));
    snprintf(result->message, sizeof(result->message), "%s", message);
}

void attestd_evaluation_count(const attestd_evaluation *result)
{
    attestd_metrics_attestation(attestd_evaluation_is_tdx(result) ? ATTESTD_METRICS_EVIDENCE_TDX
                                                                  : ATTESTD_METRICS_EVIDENCE_SGX,
                                result->accepted);
    attestd_stage stage = ATTESTD_STAGE_REQUEST;
    if (!result->accepted && attestd_metrics_stage_find(result->stage, &stage)) {
        attestd_metrics_stage_failure(stage);
    }
}

bool attestd_evaluation_is_tdx(const attestd_evaluation *result)
{
    return result->has_report && attest_quote_is_tdx(&result->report->quote);
}

void attestd_evaluate(const attestd_request *request, const attest_policy *policy,
                      const uint8_t *evidence, size_t evidence_size, const char *evidence_type,
                      const attest_report_data_binding *binding, time_t now,
                      attestd_evaluation *result)
{
    attestd_service *service = request->service;
    attest_diag diag = {{0}};
    /* A report with no check means verification never ran because no collateral was found. */
    result->report->check_count = 0;
    attest_err err = attestd_service_verify(service, evidence, evidence_size, now, result->report,
                                            &diag);
    if (err != ATTEST_OK && result->report->check_count == 0) {
        /* The collateral source failed, so the evaluation fails closed with the source's error. */
        attestd_metrics_collateral(ATTESTD_COLLATERAL_FETCH_ERROR);
        attestd_evaluation_reject(result, "collateral", err, diag.message);
        /* The service's own collateral is at fault, not the attester: the operator must know. */
        attestd_log("error", "collateral_unavailable",
                    json_pack("{s:s, s:s, s:s}", "request_id", request->request_id, "error",
                              attest_err_code(err), "message", diag.message));
        return;
    }
    result->has_report = true;
    if (!result->report->valid) {
        attest_err failure = result->report->err;
        if (failure == ATTEST_ERR_COLLATERAL_MISSING || failure == ATTEST_ERR_COLLATERAL_EXPIRED ||
            failure == ATTEST_ERR_CRL_EXPIRED || failure == ATTEST_ERR_COLLATERAL_NOT_YET_VALID ||
            failure == ATTEST_ERR_CRL_NOT_YET_VALID) {
            /* Missing or stale collateral is the service's configuration, not the attester's fault. */
            attestd_log("error", "collateral_unusable",
                        json_pack("{s:s, s:s, s:s}", "request_id", request->request_id, "error",
                                  attest_err_code(failure), "message",
                                  result->report->error_message));
        }
        attestd_evaluation_reject(result, attest_stage_name(result->report->error_stage),
                                  result->report->err, result->report->error_message);
        return;
    }

    bool tdx = attest_quote_is_tdx(&result->report->quote);
    if (evidence_type != NULL && strcmp(evidence_type, tdx ? "tdx" : "sgx") != 0) {
        char message[96];
        snprintf(message, sizeof(message), "the request is for %s evidence, but the quote is %s",
                 evidence_type, tdx ? "a TDX quote" : "an SGX quote");
        attestd_evaluation_reject(result, "request", ATTEST_ERR_APPRAISAL_EVIDENCE_TYPE, message);
        return;
    }

    attest_err appraised = attest_policy_appraise_bound(policy, result->report, binding,
                                                        &result->appraisal);
    result->has_appraisal = appraised != ATTEST_ERR_ARGUMENT;
    if (!result->has_appraisal) {
        attestd_evaluation_reject(result, "appraisal", appraised, "appraisal had no valid input");
        return;
    }
    if (!result->appraisal.pass) {
        const attest_appraisal_check *failed = attest_appraisal_failed_check(&result->appraisal);
        const char *detail = failed != NULL ? failed->detail : "appraisal failed";
        if (result->appraisal.err == ATTEST_ERR_APPRAISAL_NONCE_MISSING) {
            detail = "the active policy requires a nonce: get one from POST /v1/nonce, bind its "
                     "value into the report data and send it in the nonce field";
        }
        attestd_evaluation_reject(result, "appraisal", result->appraisal.err, detail);
        return;
    }
    result->accepted = true;
}

json_t *attestd_evaluation_json(const attestd_evaluation *result, const char *application,
                                int64_t policy_version)
{
    json_t *object = json_object();
    json_object_set_new(object, "verdict", json_string(result->accepted ? "accepted" : "rejected"));
    json_object_set_new(object, "application", application != NULL ? json_string(application)
                                                                   : json_null());
    json_object_set_new(object, "policy_version",
                        policy_version > 0 ? json_integer(policy_version) : json_null());
    if (result->accepted) {
        json_object_set_new(object, "failure", json_null());
    } else {
        json_t *failure = json_object();
        json_object_set_new(failure, "stage", json_string(result->stage));
        json_object_set_new(failure, "code", json_string(result->code));
        json_object_set_new(failure, "message", json_string(result->message));
        json_object_set_new(object, "failure", failure);
    }
    json_t *verification = NULL;
    if (result->has_report) {
        verification = result->report_level == ATTESTD_REPORT_FULL
                           ? attest_report_to_json_object(result->report)
                           : attest_report_checks_to_json_object(
                                 result->report, result->report_level == ATTESTD_REPORT_DETAILS);
    }
    if (verification == NULL) {
        verification = json_null();
    }
    json_object_set_new(object, "verification", verification);
    bool pass_details = result->report_level != ATTESTD_REPORT_CHECKS;
    json_object_set_new(object, "appraisal",
                        result->has_appraisal ? attestd_appraisal_json(&result->appraisal,
                                                                       pass_details)
                                              : json_null());
    return object;
}

bool attestd_active_policy_load(const attestd_request *request, const char *application,
                                attestd_policy *out_stored, attest_policy **out_policy,
                                attestd_response *response)
{
    attest_diag diag = {{0}};
    attest_err err = attestd_store_policy_get_active(request->store, application, out_stored, &diag);
    if (err == ATTEST_ERR_NOT_FOUND) {
        attestd_response_error(response, 404, "policy_not_found",
                               "application \"%.64s\" does not exist or has no active policy",
                               application);
        return false;
    }
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return false;
    }
    err = attest_policy_parse((const char *)out_stored->document, out_stored->info.document_size,
                              out_policy, &diag);
    if (err != ATTEST_OK) {
        attestd_policy_free(out_stored);
        attestd_response_error(response, 500, attest_err_code(err),
                               "the active policy of \"%.64s\" no longer parses: %s", application,
                               diag.message);
        return false;
    }
    return true;
}

void attestd_policy_names(const attestd_policy *stored, const char *application, char *out_id,
                          size_t id_size, char out_hash[65])
{
    attest_hex_encode(stored->info.sha256, sizeof(stored->info.sha256), out_hash);
    snprintf(out_id, id_size, "%s/%lld", application, (long long)stored->info.version);
}

attest_err attestd_audit_write(const attestd_request *request, const char *application,
                               const uint8_t *evidence, size_t evidence_size,
                               const attestd_evaluation *result, int64_t policy_version,
                               const char *token_id, const uint8_t *nonce, time_t nonce_expiry,
                               int64_t *out_audit_id, attest_diag *diag)
{
    attestd_audit_record record;
    memset(&record, 0, sizeof(record));
    record.time = (int64_t)time(NULL);
    snprintf(record.application, sizeof(record.application), "%s", application);
    const char *evidence_type = "unknown";
    if (result->has_report) {
        evidence_type = attestd_evaluation_is_tdx(result) ? "tdx" : "sgx";
    }
    snprintf(record.evidence_type, sizeof(record.evidence_type), "%s", evidence_type);
    /* The hash covers the quote without its unsigned trailing bytes, so padding cannot vary it. */
    size_t hashed_size = evidence_size;
    if (result->has_report && result->report->parsed &&
        result->report->quote.trailing_size <= evidence_size) {
        hashed_size = evidence_size - result->report->quote.trailing_size;
    }
    SHA256(evidence, hashed_size, record.evidence_sha256);
    record.verdict = result->accepted ? ATTESTD_VERDICT_ACCEPTED : ATTESTD_VERDICT_REJECTED;
    if (!result->accepted) {
        /* "stage: code", cut to the record's size. */
        char failing[sizeof(result->stage) + sizeof(result->code) + 2];
        snprintf(failing, sizeof(failing), "%s: %s", result->stage, result->code);
        size_t length = strlen(failing);
        if (length >= sizeof(record.failing_check)) {
            length = sizeof(record.failing_check) - 1;
        }
        memcpy(record.failing_check, failing, length);
        record.failing_check[length] = '\0';
    }
    record.policy_version = policy_version;
    if (token_id != NULL) {
        snprintf(record.token_id, sizeof(record.token_id), "%s", token_id);
    }
    snprintf(record.client_address, sizeof(record.client_address), "%s", request->client_address);
    snprintf(record.request_id, sizeof(record.request_id), "%s", request->request_id);
    if (nonce != NULL) {
        return attestd_store_audit_insert_consuming(request->store, &record, nonce,
                                                    (int64_t)nonce_expiry, record.time,
                                                    out_audit_id, diag);
    }
    return attestd_store_audit_insert(request->store, &record, out_audit_id, diag);
}

uint32_t attestd_token_lifetime(const attestd_request *request, const attest_policy *policy)
{
    /* A policy stored before the maximum was lowered gets the maximum. */
    uint32_t lifetime = attest_policy_token_lifetime(policy);
    uint32_t maximum = attestd_service_max_token_lifetime(request->service);
    return lifetime < maximum ? lifetime : maximum;
}
