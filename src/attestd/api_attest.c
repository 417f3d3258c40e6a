/*
 * Attestation API of attestd: nonces, attestation with appraisal and token,
 * the dry run of a draft policy, the published keys, and the admin calls
 * that rotate the signing key and refresh collateral. docs/api.md describes
 * every endpoint.
 *
 * An attestation request that is well formed always gets HTTP 200 with a
 * verdict: "accepted" with a token, or "rejected" with the failing check.
 * Malformed requests get 4xx, and a failure to record the audit entry gets
 * 503 with no token, because no token may exist without its audit record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "api_attest.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "util/hex.h"

#define VERIFIER_DEVELOPER "attest"
#define VERIFIER_BUILD "attestd 0.1.0"

/*
 * Decodes standard base64 text (padding required, no whitespace) into a new
 * buffer of at most max_size bytes. Returns false when text is not base64
 * or decodes to more than max_size bytes.
 */
static bool base64_decode(const char *text, size_t text_size, size_t max_size, uint8_t **out,
                          size_t *out_size)
{
    if (text_size % 4 != 0 || text_size / 4 * 3 > max_size + 2 || text_size > INT32_MAX) {
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
    /* EVP_DecodeBlock counts the padding as zero bytes; drop them. */
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

/* Reads an optional string member; false when present but not a string. */
static bool optional_string(const json_t *object, const char *key, const char **out)
{
    json_t *value = json_object_get(object, key);
    *out = NULL;
    if (value == NULL || json_is_null(value)) {
        return true;
    }
    if (!json_is_string(value)) {
        return false;
    }
    *out = json_string_value(value);
    return true;
}

/* The fields of an attestation or dry-run request. */
typedef struct attest_request_body {
    const char *application;
    const char *evidence_type;
    const char *nonce;
    const char *audience;
    uint8_t *evidence;
    size_t evidence_size;
    uint8_t *runtime_data;
    size_t runtime_data_size;
} attest_request_body;

static void request_body_clear(attest_request_body *body)
{
    free(body->evidence);
    free(body->runtime_data);
    memset(body, 0, sizeof(*body));
}

/* Parses the JSON body of an attestation request; sets a 400 response on error. */
static bool request_body_parse(const attestd_request *request, bool needs_application,
                               attest_request_body *out, attestd_response *response)
{
    const json_t *json = request->json;
    memset(out, 0, sizeof(*out));
    const char *evidence_text = NULL;
    const char *runtime_text = NULL;
    if (!json_is_object(json)) {
        attestd_response_error(response, 400, "request_invalid", "the body must be a JSON object");
        return false;
    }
    /* A misspelt field must not be dropped silently: "audiance" would lose the token's aud. */
    static const char *const known[] = {"application", "evidence",  "evidence_type", "nonce",
                                        "runtime_data", "audience", "policy",        "nonce_value"};
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach((json_t *)json, key, value) {
        bool found = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !found; i++) {
            found = strcmp(key, known[i]) == 0;
        }
        bool dry_run_only = strcmp(key, "policy") == 0 || strcmp(key, "nonce_value") == 0;
        if (!found || (needs_application && dry_run_only)) {
            attestd_response_error(response, 400, "field_unknown",
                                   "unknown field \"%.40s\"; docs/api.md lists the fields", key);
            return false;
        }
    }
    if (!optional_string(json, "application", &out->application) ||
        !optional_string(json, "evidence_type", &out->evidence_type) ||
        !optional_string(json, "nonce", &out->nonce) ||
        !optional_string(json, "audience", &out->audience) ||
        !optional_string(json, "evidence", &evidence_text) ||
        !optional_string(json, "runtime_data", &runtime_text)) {
        attestd_response_error(response, 400, "request_invalid",
                               "application, evidence_type, nonce, audience, evidence and "
                               "runtime_data must be strings when present");
        return false;
    }
    if (needs_application && out->application == NULL) {
        attestd_response_error(response, 400, "request_invalid", "application is missing");
        return false;
    }
    if (evidence_text == NULL) {
        attestd_response_error(response, 400, "request_invalid",
                               "evidence is missing: the quote in standard base64");
        return false;
    }
    if (out->evidence_type != NULL && strcmp(out->evidence_type, "sgx") != 0 &&
        strcmp(out->evidence_type, "tdx") != 0) {
        attestd_response_error(response, 400, "evidence_type_unsupported",
                               "evidence_type \"%.32s\" is not \"sgx\" or \"tdx\"",
                               out->evidence_type);
        return false;
    }
    if (!base64_decode(evidence_text, strlen(evidence_text), request->limits->max_evidence_size,
                       &out->evidence, &out->evidence_size) ||
        out->evidence_size == 0) {
        attestd_response_error(response, 400, "evidence_invalid",
                               "evidence is not standard base64 of 1 to %zu bytes",
                               request->limits->max_evidence_size);
        return false;
    }
    if (runtime_text != NULL &&
        !base64_decode(runtime_text, strlen(runtime_text), request->limits->max_evidence_size,
                       &out->runtime_data, &out->runtime_data_size)) {
        request_body_clear(out);
        attestd_response_error(response, 400, "runtime_data_invalid",
                               "runtime_data is not standard base64 of at most %zu bytes",
                               request->limits->max_evidence_size);
        return false;
    }
    return true;
}

static attestd_stage metrics_stage(attest_stage stage)
{
    switch (stage) {
    case ATTEST_STAGE_PARSE:
        return ATTESTD_STAGE_PARSE;
    case ATTEST_STAGE_PCK_CHAIN:
        return ATTESTD_STAGE_PCK_CHAIN;
    case ATTEST_STAGE_COLLATERAL:
        return ATTESTD_STAGE_COLLATERAL;
    case ATTEST_STAGE_QE_REPORT:
        return ATTESTD_STAGE_QE_REPORT;
    case ATTEST_STAGE_QUOTE_SIGNATURE:
        return ATTESTD_STAGE_QUOTE_SIGNATURE;
    case ATTEST_STAGE_QE_IDENTITY:
        return ATTESTD_STAGE_QE_IDENTITY;
    case ATTEST_STAGE_TCB:
        return ATTESTD_STAGE_TCB;
    }
    return ATTESTD_STAGE_REQUEST;
}

static json_t *appraisal_json(const attest_appraisal *appraisal)
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
        json_object_set_new(item, "detail", json_string(check->detail));
        json_array_append_new(checks, item);
    }
    json_t *object = json_object();
    json_object_set_new(object, "pass", json_boolean(appraisal->pass));
    json_object_set_new(object, "degraded", json_boolean(appraisal->degraded));
    json_object_set_new(object, "checks", checks);
    return object;
}

/* The outcome of one evaluation, before the response is written. */
typedef struct evaluation {
    bool accepted;
    char stage[24];       /* "request", "nonce", "collateral", a verification stage, "appraisal" */
    char code[64];
    char message[384];
    attest_report *report;
    bool has_report;
    attest_appraisal appraisal;
    bool has_appraisal;
} evaluation;

static void evaluation_reject(evaluation *result, const char *stage, attest_err err,
                              const char *message)
{
    result->accepted = false;
    snprintf(result->stage, sizeof(result->stage), "%s", stage);
    snprintf(result->code, sizeof(result->code), "%s", attest_err_code(err));
    snprintf(result->message, sizeof(result->message), "%s", message);
}

/*
 * Verifies the evidence and appraises it against policy. expected_report_data
 * is NULL when no nonce binding is checked.
 */
static void evaluate(const attestd_request *request, const attest_policy *policy,
                     const attest_request_body *body, const uint8_t *expected_report_data,
                     time_t now, evaluation *result)
{
    attestd_service *service = request->service;
    attest_diag diag = {{0}};
    /* A report with no check means verification never ran: the collateral was not to be had. */
    result->report->check_count = 0;
    attest_err err = attestd_service_verify(service, body->evidence, body->evidence_size, now,
                                            result->report, &diag);
    if (err != ATTEST_OK && result->report->check_count == 0) {
        /* The collateral source failed: fail closed and report why. */
        attestd_metrics_collateral(ATTESTD_COLLATERAL_FETCH_ERROR);
        attestd_metrics_stage_failure(ATTESTD_STAGE_COLLATERAL);
        evaluation_reject(result, "collateral", err, diag.message);
        /* The service's own collateral is at fault, not the attester: the operator must know. */
        attestd_log("error", "collateral_unavailable",
                    json_pack("{s:s, s:s, s:s}", "request_id", request->request_id, "error",
                              attest_err_code(err), "message", diag.message));
        return;
    }
    result->has_report = true;
    if (!result->report->valid) {
        attestd_metrics_stage_failure(metrics_stage(result->report->error_stage));
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
        evaluation_reject(result, attest_stage_name(result->report->error_stage),
                          result->report->err, result->report->error_message);
        return;
    }

    bool tdx = attest_quote_is_tdx(&result->report->quote);
    if (body->evidence_type != NULL && strcmp(body->evidence_type, tdx ? "tdx" : "sgx") != 0) {
        attestd_metrics_stage_failure(ATTESTD_STAGE_REQUEST);
        evaluation_reject(result, "request", ATTEST_ERR_APPRAISAL_EVIDENCE_TYPE,
                          "evidence_type does not match the quote's TEE");
        return;
    }

    attest_err appraised = attest_policy_appraise(policy, result->report, expected_report_data,
                                                  &result->appraisal);
    result->has_appraisal = appraised != ATTEST_ERR_ARGUMENT;
    if (!result->appraisal.pass) {
        const attest_appraisal_check *failed = attest_appraisal_failed_check(&result->appraisal);
        attestd_metrics_stage_failure(ATTESTD_STAGE_APPRAISAL);
        const char *detail = failed != NULL ? failed->detail : "appraisal failed";
        if (result->appraisal.err == ATTEST_ERR_APPRAISAL_NONCE_MISSING) {
            detail = "the active policy requires a nonce: get one from POST /v1/nonce, bind its "
                     "value into the report data and send it in the nonce field";
        }
        evaluation_reject(result, "appraisal", result->appraisal.err, detail);
        if (failed != NULL) {
            snprintf(result->stage, sizeof(result->stage), "appraisal");
        }
        return;
    }
    result->accepted = true;
}

/* Builds the common response object of an attestation or dry run. */
static json_t *evaluation_json(const evaluation *result, const char *application,
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
    json_t *verification = result->has_report ? attest_report_to_json_object(result->report) : NULL;
    if (verification == NULL) {
        verification = json_null();
    }
    json_object_set_new(object, "verification", verification);
    json_object_set_new(object, "appraisal",
                        result->has_appraisal ? appraisal_json(&result->appraisal) : json_null());
    return object;
}

/* Returns runtime data parsed as a JWK (a JSON object with "kty"), or NULL. */
static json_t *runtime_data_jwk(const attest_request_body *body)
{
    if (body->runtime_data == NULL || body->runtime_data_size == 0) {
        return NULL;
    }
    json_error_t error;
    json_t *jwk = json_loadb((const char *)body->runtime_data, body->runtime_data_size,
                             JSON_REJECT_DUPLICATES, &error);
    if (jwk == NULL || !json_is_object(jwk) || !json_is_string(json_object_get(jwk, "kty"))) {
        json_decref(jwk);
        return NULL;
    }
    return jwk;
}

/* Loads and parses the active policy of application; sets an error response on failure. */
static bool active_policy_load(const attestd_request *request, const char *application,
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

void attestd_api_nonce(const attestd_request *request, attestd_response *response)
{
    char text[ATTEST_NONCE_TEXT_SIZE];
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    time_t expiry = 0;
    time_t now = time(NULL);
    attest_err err = attestd_service_nonce_issue(request->service, now, text, raw, &expiry);
    if (err != ATTEST_OK) {
        attestd_response_error(response, 500, attest_err_code(err), "issuing a nonce failed");
        return;
    }
    char value[2 * ATTEST_NONCE_RAW_SIZE + 1];
    attest_hex_encode(raw, sizeof(raw), value);
    char expires[21];
    attest_time_format(expiry, expires);

    json_t *body = json_object();
    json_object_set_new(body, "nonce", json_string(text));
    json_object_set_new(body, "value", json_string(value));
    json_object_set_new(body, "expires_at", json_string(expires));
    attestd_response_json(response, 200, body);
}

/* Checks and consumes the nonce; on success writes the expected report data. */
static attest_err nonce_use(const attestd_request *request, const attest_request_body *body,
                            time_t now, uint8_t out_report_data[ATTEST_REPORT_DATA_SIZE],
                            attest_diag *diag)
{
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    time_t expiry = 0;
    attest_err err = attestd_service_nonce_check(request->service, body->nonce, now, raw, &expiry,
                                                 diag);
    if (err == ATTEST_OK) {
        err = attestd_store_nonce_consume(request->store, raw, (int64_t)expiry, (int64_t)now, diag);
    }
    if (err == ATTEST_OK) {
        err = attest_report_data_bind(raw, body->runtime_data, body->runtime_data_size,
                                      out_report_data);
    }
    return err;
}

void attestd_api_attest(const attestd_request *request, attestd_response *response)
{
    attest_request_body body;
    if (!request_body_parse(request, true, &body, response)) {
        attestd_metrics_stage_failure(ATTESTD_STAGE_REQUEST);
        return;
    }
    attestd_policy stored;
    attest_policy *policy = NULL;
    if (!active_policy_load(request, body.application, &stored, &policy, response)) {
        request_body_clear(&body);
        return;
    }

    time_t now = time(NULL);
    char *token = NULL;
    json_t *claims = NULL;
    evaluation result;
    memset(&result, 0, sizeof(result));
    result.report = calloc(1, sizeof(*result.report));
    if (result.report == NULL) {
        attestd_response_error(response, 500, "out_of_memory", "out of memory");
        goto out;
    }

    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    bool has_report_data = false;
    attest_diag diag = {{0}};
    if (body.nonce != NULL) {
        attest_err err = nonce_use(request, &body, now, report_data, &diag);
        if (err != ATTEST_OK) {
            attestd_metrics_stage_failure(ATTESTD_STAGE_NONCE);
            char message[sizeof(diag.message) + 64];
            snprintf(message, sizeof(message), "%s; request a new nonce with POST /v1/nonce",
                     strncmp(diag.message, "store: ", 7) == 0 ? diag.message + 7 : diag.message);
            evaluation_reject(&result, "nonce", err, message);
        }
        has_report_data = err == ATTEST_OK;
    }
    if (body.nonce == NULL || has_report_data) {
        evaluate(request, policy, &body, has_report_data ? report_data : NULL, now, &result);
    }

    bool tdx = result.has_report && attest_quote_is_tdx(&result.report->quote);
    attestd_metrics_attestation(tdx ? ATTESTD_METRICS_EVIDENCE_TDX : ATTESTD_METRICS_EVIDENCE_SGX,
                                result.accepted);

    /* The token exists only once the audit record that names it is stored. */
    if (result.accepted) {
        char policy_hash[2 * SHA256_DIGEST_LENGTH + 1];
        attest_hex_encode(stored.info.sha256, sizeof(stored.info.sha256), policy_hash);
        char policy_id[ATTESTD_NAME_MAX_SIZE + 32];
        snprintf(policy_id, sizeof(policy_id), "%s/%lld", body.application,
                 (long long)stored.info.version);
        json_t *jwk = runtime_data_jwk(&body);
        attest_token_params params = {
            .issuer = attestd_service_issuer(request->service),
            .subject = body.application,
            .audience = body.audience,
            .nonce = body.nonce,
            /* A policy stored before the maximum was lowered gets the maximum. */
            .lifetime = attest_policy_token_lifetime(policy) <
                                attestd_service_max_token_lifetime(request->service)
                            ? attest_policy_token_lifetime(policy)
                            : attestd_service_max_token_lifetime(request->service),
            .verifier_developer = VERIFIER_DEVELOPER,
            .verifier_build = VERIFIER_BUILD,
            .status = result.appraisal.degraded ? ATTEST_EAR_WARNING : ATTEST_EAR_AFFIRMING,
            .policy_id = policy_id,
            .policy_version = (uint64_t)stored.info.version,
            .policy_hash = policy_hash,
            .cnf_jwk = jwk,
        };
        attest_err err = attestd_service_token_issue(request->service, result.report, &params, now,
                                                     &token, &claims, &diag);
        json_decref(jwk);
        if (err != ATTEST_OK) {
            /* Still audited: every attestation is recorded, the failed ones too. */
            attestd_metrics_stage_failure(ATTESTD_STAGE_TOKEN);
            evaluation_reject(&result, "token", err, diag.message);
            attestd_log("error", "token_issue_failed",
                        json_pack("{s:s, s:s, s:s}", "request_id", request->request_id, "error",
                                  attest_err_code(err), "message", diag.message));
        }
    }

    attestd_audit_record record;
    memset(&record, 0, sizeof(record));
    record.time = (int64_t)now;
    snprintf(record.application, sizeof(record.application), "%s", body.application);
    const char *evidence_type = "unknown";
    if (result.has_report) {
        evidence_type = tdx ? "tdx" : "sgx";
    }
    snprintf(record.evidence_type, sizeof(record.evidence_type), "%s", evidence_type);
    /* The hash covers the quote without its unsigned trailing bytes, so padding cannot vary it. */
    size_t hashed_size = body.evidence_size;
    if (result.has_report && result.report->parsed &&
        result.report->quote.trailing_size <= body.evidence_size) {
        hashed_size = body.evidence_size - result.report->quote.trailing_size;
    }
    SHA256(body.evidence, hashed_size, record.evidence_sha256);
    record.verdict = result.accepted ? ATTESTD_VERDICT_ACCEPTED : ATTESTD_VERDICT_REJECTED;
    if (!result.accepted) {
        /* "stage: code", cut to the record's size. */
        char failing[sizeof(result.stage) + sizeof(result.code) + 2];
        snprintf(failing, sizeof(failing), "%s: %s", result.stage, result.code);
        size_t length = strlen(failing);
        if (length >= sizeof(record.failing_check)) {
            length = sizeof(record.failing_check) - 1;
        }
        memcpy(record.failing_check, failing, length);
        record.failing_check[length] = '\0';
    }
    record.policy_version = stored.info.version;
    if (claims != NULL && json_is_string(json_object_get(claims, "jti"))) {
        snprintf(record.token_id, sizeof(record.token_id), "%s",
                 json_string_value(json_object_get(claims, "jti")));
    }
    snprintf(record.client_address, sizeof(record.client_address), "%s", request->client_address);
    snprintf(record.request_id, sizeof(record.request_id), "%s", request->request_id);
    int64_t audit_id = 0;
    attest_err err = attestd_store_audit_insert(request->store, &record, &audit_id, &diag);
    if (err != ATTEST_OK) {
        attestd_response_error(response, 503, attest_err_code(err),
                               "the audit record cannot be written, so no token is issued: %s",
                               diag.message);
        goto out;
    }

    json_t *out = evaluation_json(&result, body.application, stored.info.version);
    json_object_set_new(out, "token", token != NULL ? json_string(token) : json_null());
    json_object_set_new(out, "audit_id", json_integer(audit_id));
    attestd_response_json(response, 200, out);

out:
    free(token);
    json_decref(claims);
    free(result.report);
    attest_policy_free(policy);
    attestd_policy_free(&stored);
    request_body_clear(&body);
}

void attestd_api_dry_run(const attestd_request *request, attestd_response *response)
{
    attest_request_body body;
    if (!request_body_parse(request, false, &body, response)) {
        return;
    }
    /* A draft policy in the body, or the application's active one. */
    attest_policy *policy = NULL;
    attestd_policy stored;
    memset(&stored, 0, sizeof(stored));
    bool has_stored = false;
    attest_diag diag = {{0}};
    json_t *draft = json_object_get(request->json, "policy");
    if (draft != NULL) {
        char *text = json_dumps(draft, JSON_COMPACT | JSON_PRESERVE_ORDER);
        attest_err err = text != NULL ? attest_policy_parse(text, strlen(text), &policy, &diag)
                                      : ATTEST_ERR_NOMEM;
        free(text);
        if (err != ATTEST_OK) {
            attestd_response_error(response, 400, attest_err_code(err), "policy: %s", diag.message);
            request_body_clear(&body);
            return;
        }
    } else {
        if (!active_policy_load(request, request->application, &stored, &policy, response)) {
            request_body_clear(&body);
            return;
        }
        has_stored = true;
    }

    /* A dry run consumes no nonce: it only checks the binding when a nonce value is given. */
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    bool has_report_data = false;
    const char *nonce_value = NULL;
    time_t now = time(NULL);
    if (optional_string(request->json, "nonce_value", &nonce_value) && nonce_value != NULL) {
        uint8_t raw[ATTEST_NONCE_RAW_SIZE];
        if (attest_hex_decode_exact(nonce_value, strlen(nonce_value), raw, sizeof(raw)) != ATTEST_OK ||
            attest_report_data_bind(raw, body.runtime_data, body.runtime_data_size, report_data) !=
                ATTEST_OK) {
            attestd_response_error(response, 400, "request_invalid",
                                   "nonce_value must be 64 hex digits");
            goto out;
        }
        has_report_data = true;
    }

    evaluation result;
    memset(&result, 0, sizeof(result));
    result.report = calloc(1, sizeof(*result.report));
    if (result.report == NULL) {
        attestd_response_error(response, 500, "out_of_memory", "out of memory");
        goto out;
    }
    evaluate(request, policy, &body, has_report_data ? report_data : NULL, now, &result);
    json_t *out = evaluation_json(&result, request->application, has_stored ? stored.info.version : 0);
    json_object_set_new(out, "dry_run", json_true());
    json_object_set_new(out, "token", json_null());
    attestd_response_json(response, 200, out);
    free(result.report);

out:
    attest_policy_free(policy);
    if (has_stored) {
        attestd_policy_free(&stored);
    }
    request_body_clear(&body);
}

void attestd_api_jwks(const attestd_request *request, attestd_response *response)
{
    char *text = NULL;
    attest_err err = attestd_service_jwks(request->service, time(NULL), &text);
    if (err != ATTEST_OK) {
        attestd_response_error(response, 500, attest_err_code(err), "the key set cannot be published");
        return;
    }
    json_error_t error;
    json_t *jwks = json_loads(text, 0, &error);
    free(text);
    if (jwks == NULL) {
        attestd_response_error(response, 500, "out_of_memory", "the key set cannot be published");
        return;
    }
    attestd_response_json(response, 200, jwks);
}

void attestd_api_openid_configuration(const attestd_request *request, attestd_response *response)
{
    const char *issuer = attestd_service_issuer(request->service);
    char jwks_uri[ATTESTD_ISSUER_MAX_SIZE + 32];
    snprintf(jwks_uri, sizeof(jwks_uri), "%s/.well-known/jwks.json", issuer);
    json_t *body = json_object();
    json_object_set_new(body, "issuer", json_string(issuer));
    json_object_set_new(body, "jwks_uri", json_string(jwks_uri));
    json_t *algs = json_array();
    json_array_append_new(algs, json_string("ES256"));
    json_array_append_new(algs, json_string("RS256"));
    json_array_append_new(algs, json_string("PS384"));
    json_object_set_new(body, "id_token_signing_alg_values_supported", algs);
    json_t *types = json_array();
    json_array_append_new(types, json_string("sgx"));
    json_array_append_new(types, json_string("tdx"));
    json_object_set_new(body, "evidence_types_supported", types);
    attestd_response_json(response, 200, body);
}

void attestd_api_key_rotate(const attestd_request *request, attestd_response *response)
{
    char kid[ATTEST_TOKEN_KID_SIZE];
    attest_diag diag = {{0}};
    attest_err err = attestd_service_rotate_key(request->service, time(NULL), kid, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }
    json_t *body = json_object();
    json_object_set_new(body, "kid", json_string(kid));
    attestd_response_json(response, 200, body);
}

void attestd_api_collateral_refresh(const attestd_request *request, attestd_response *response)
{
    const char *tee = NULL;
    const char *fmspc = NULL;
    const char *ca = NULL;
    if (!json_is_object(request->json) || !optional_string(request->json, "tee", &tee) ||
        !optional_string(request->json, "fmspc", &fmspc) ||
        !optional_string(request->json, "ca", &ca) || tee == NULL || fmspc == NULL ||
        (strcmp(tee, "sgx") != 0 && strcmp(tee, "tdx") != 0)) {
        attestd_response_error(response, 400, "request_invalid",
                               "expected {\"tee\": \"sgx\"|\"tdx\", \"fmspc\": \"12 hex digits\", "
                               "\"ca\": \"platform\"|\"processor\"}");
        return;
    }
    attest_collateral_request refresh;
    memset(&refresh, 0, sizeof(refresh));
    refresh.tdx = strcmp(tee, "tdx") == 0;
    refresh.pck_ca = ca != NULL && strcmp(ca, "processor") == 0 ? "processor" : "platform";
    if (attest_hex_decode_exact(fmspc, strlen(fmspc), refresh.fmspc, sizeof(refresh.fmspc)) !=
        ATTEST_OK) {
        attestd_response_error(response, 400, "request_invalid", "fmspc \"%.32s\" is not 12 hex digits",
                               fmspc);
        return;
    }
    attest_diag diag = {{0}};
    attest_err err = attestd_service_collateral_refresh(request->service, &refresh, &diag);
    if (err != ATTEST_OK) {
        attestd_response_error(response, err == ATTEST_ERR_ARGUMENT ? 409 : 502, attest_err_code(err),
                               "%s", diag.message);
        return;
    }
    json_t *body = json_object();
    json_object_set_new(body, "refreshed", json_true());
    attestd_response_json(response, 200, body);
}
