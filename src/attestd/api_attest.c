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

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "api_attest.h"
#include "attestation.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "util/hex.h"


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
    attestd_report_level report_level; /* "checks" when the request has no "report" */
    bool has_report_level;
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
    static const char *const known[] = {"application", "evidence", "evidence_type", "nonce",
                                        "runtime_data", "audience", "report",        "policy",
                                        "nonce_value"};
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach((json_t *)json, key, value) {
        bool found = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !found; i++) {
            found = strcmp(key, known[i]) == 0;
        }
        bool dry_run_only = strcmp(key, "policy") == 0 || strcmp(key, "nonce_value") == 0;
        /* A dry run names its application in the path and consumes no nonce. */
        bool attest_only = strcmp(key, "application") == 0 || strcmp(key, "nonce") == 0 ||
                           strcmp(key, "audience") == 0;
        if (!needs_application && attest_only) {
            attestd_response_error(response, 400, "field_unknown",
                                   "field \"%.40s\" belongs to /v1/attest; a dry run takes the "
                                   "application from its path and a nonce as nonce_value",
                                   key);
            return false;
        }
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
    const char *report = NULL;
    if (!optional_string(json, "report", &report) ||
        !attestd_report_level_parse(report, ATTESTD_REPORT_CHECKS, &out->report_level)) {
        attestd_response_error(response, 400, "request_invalid",
                               "report must be \"checks\", \"details\" or \"full\"");
        return false;
    }
    out->has_report_level = report != NULL;
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
    if (!attestd_base64_decode(evidence_text, strlen(evidence_text), request->limits->max_evidence_size,
                       &out->evidence, &out->evidence_size) ||
        out->evidence_size == 0) {
        request_body_clear(out);
        attestd_response_error(response, 400, "evidence_invalid",
                               "evidence is not standard base64 of 1 to %zu bytes",
                               request->limits->max_evidence_size);
        return false;
    }
    if (runtime_text != NULL &&
        !attestd_base64_decode(runtime_text, strlen(runtime_text), request->limits->max_evidence_size,
                       &out->runtime_data, &out->runtime_data_size)) {
        request_body_clear(out);
        attestd_response_error(response, 400, "runtime_data_invalid",
                               "runtime_data is not standard base64 of at most %zu bytes",
                               request->limits->max_evidence_size);
        return false;
    }
    return true;
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

/*
 * Checks the nonce's MAC and expiry and writes its bytes, its expiry and the
 * report data it binds. The audit record's transaction consumes it later
 * (attestd_audit_write), so a replay is found there.
 */
static attest_err nonce_check(const attestd_request *request, const attest_request_body *body,
                              time_t now, uint8_t out_raw[ATTEST_NONCE_RAW_SIZE],
                              time_t *out_expiry, uint8_t out_report_data[ATTEST_REPORT_DATA_SIZE],
                              attest_diag *diag)
{
    attest_err err = attestd_service_nonce_check(request->service, body->nonce, now, out_raw,
                                                 out_expiry, diag);
    if (err == ATTEST_OK) {
        err = attest_report_data_bind(out_raw, body->runtime_data, body->runtime_data_size,
                                      out_report_data);
    }
    return err;
}

/* Frees *token after wiping it, because a signed token that no response carried is still valid. */
static void token_discard(char **token)
{
    if (*token != NULL) {
        OPENSSL_cleanse(*token, strlen(*token));
        free(*token);
        *token = NULL;
    }
}

/* Rejects the evaluation at the nonce stage with diag's message and a hint. */
static void nonce_reject(attestd_evaluation *result, attest_err err, const attest_diag *diag)
{
    char message[sizeof(diag->message) + 64];
    snprintf(message, sizeof(message), "%s; request a new nonce with POST /v1/nonce",
             strncmp(diag->message, "store: ", 7) == 0 ? diag->message + 7 : diag->message);
    attestd_evaluation_reject(result, "nonce", err, message);
}

/*
 * Verifies and appraises body's evidence under the policy's own nonce rule:
 * expected_report_data is the 64 bytes the nonce binds, or NULL without one.
 */
static void evaluate_with_nonce(const attestd_request *request, const attest_policy *policy,
                                const attest_request_body *body,
                                const uint8_t *expected_report_data, time_t now,
                                attestd_evaluation *result)
{
    attest_report_data_binding binding = {
        .rule = NULL,
        .expected = expected_report_data,
        .size = ATTEST_REPORT_DATA_SIZE,
    };
    attestd_evaluate(request, policy, body->evidence, body->evidence_size, body->evidence_type,
                     &binding, now, result);
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
    if (!attestd_active_policy_load(request, body.application, &stored, &policy, response)) {
        request_body_clear(&body);
        return;
    }

    time_t now = time(NULL);
    char *token = NULL;
    json_t *claims = NULL;
    attestd_evaluation result;
    if (!attestd_evaluation_init(&result)) {
        attestd_response_error(response, 500, "out_of_memory", "out of memory");
        goto out;
    }
    result.report_level = body.report_level;

    uint8_t nonce_raw[ATTEST_NONCE_RAW_SIZE];
    time_t nonce_expiry = 0;
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    bool has_report_data = false;
    attest_diag diag = {{0}};
    if (body.nonce != NULL) {
        attest_err err = nonce_check(request, &body, now, nonce_raw, &nonce_expiry, report_data,
                                     &diag);
        if (err != ATTEST_OK) {
            nonce_reject(&result, err, &diag);
        }
        has_report_data = err == ATTEST_OK;
    }
    if (body.nonce == NULL || has_report_data) {
        evaluate_with_nonce(request, policy, &body, has_report_data ? report_data : NULL, now,
                            &result);
    }

    /* The token exists only once the audit record that names it is stored. */
    if (result.accepted) {
        char policy_hash[65];
        char policy_id[ATTESTD_NAME_MAX_SIZE + 32];
        attestd_policy_names(&stored, body.application, policy_id, sizeof(policy_id), policy_hash);
        json_t *jwk = runtime_data_jwk(&body);
        attest_token_params params = {
            .issuer = attestd_service_issuer(request->service),
            .subject = body.application,
            .audience = body.audience,
            .nonce = body.nonce,
            .lifetime = attestd_token_lifetime(request, policy),
            .verifier_developer = ATTESTD_VERIFIER_DEVELOPER,
            .verifier_build = ATTESTD_VERIFIER_BUILD,
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
            attestd_evaluation_reject(&result, "token", err, diag.message);
            attestd_log("error", "token_issue_failed",
                        json_pack("{s:s, s:s, s:s}", "request_id", request->request_id, "error",
                                  attest_err_code(err), "message", diag.message));
        }
    }

    const char *token_id = NULL;
    if (claims != NULL && json_is_string(json_object_get(claims, "jti"))) {
        token_id = json_string_value(json_object_get(claims, "jti"));
    }
    /*
     * One transaction consumes the nonce and stores the record, so a nonce
     * is used once whatever the verdict, and a replay stores nothing: it is
     * then recorded as rejected, without the token signed for it.
     */
    int64_t audit_id = 0;
    attest_err err = attestd_audit_write(request, body.application, body.evidence,
                                         body.evidence_size, &result, stored.info.version,
                                         token_id, has_report_data ? nonce_raw : NULL,
                                         nonce_expiry, &audit_id, &diag);
    if (err == ATTEST_ERR_NONCE_REPLAYED || err == ATTEST_ERR_NONCE_EXPIRED) {
        nonce_reject(&result, err, &diag);
        token_discard(&token);
        json_decref(claims);
        claims = NULL;
        diag = (attest_diag){{0}};
        err = attestd_audit_write(request, body.application, body.evidence, body.evidence_size,
                                  &result, stored.info.version, NULL, NULL, 0, &audit_id, &diag);
    }
    if (err != ATTEST_OK) {
        /* No token leaves without its record, so the metrics count a rejection. */
        attestd_evaluation_reject(&result, "audit", err, diag.message);
    }
    attestd_evaluation_count(&result);
    if (err != ATTEST_OK) {
        attestd_response_error(response, 503, attest_err_code(err),
                               "the audit record cannot be written, so no token is issued: %s",
                               diag.message);
        goto out;
    }

    json_t *out = attestd_evaluation_json(&result, body.application, stored.info.version);
    json_object_set_new(out, "token", token != NULL ? json_string(token) : json_null());
    json_object_set_new(out, "audit_id", json_integer(audit_id));
    attestd_response_json(response, 200, out);

out:
    token_discard(&token);
    json_decref(claims);
    attestd_evaluation_clear(&result);
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
    if (json_is_null(draft)) {
        draft = NULL;
    }
    if (draft != NULL && !json_is_object(draft)) {
        attestd_response_error(response, 400, "policy_invalid",
                               "policy must be a JSON object: the draft policy document");
        request_body_clear(&body);
        return;
    }
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
        if (!attestd_active_policy_load(request, request->application, &stored, &policy, response)) {
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

    attestd_evaluation result;
    if (!attestd_evaluation_init(&result)) {
        attestd_response_error(response, 500, "out_of_memory", "out of memory");
        goto out;
    }
    /*
     * A dry run debugs a policy, so its report shows the decoded quote unless
     * the request sets another level.
     */
    result.report_level = body.has_report_level ? body.report_level : ATTESTD_REPORT_FULL;
    evaluate_with_nonce(request, policy, &body, has_report_data ? report_data : NULL, now,
                        &result);
    json_t *out = attestd_evaluation_json(&result, request->application,
                                          has_stored ? stored.info.version : 0);
    json_object_set_new(out, "dry_run", json_true());
    json_object_set_new(out, "token", json_null());
    attestd_response_json(response, 200, out);
    attestd_evaluation_clear(&result);

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
    if (err == ATTEST_ERR_LIMIT) {
        /* Not the request's fault: the key set is full until a retired key's grace ends. */
        attestd_response_error(response, 409, "signing_keys_full", "%s", diag.message);
        return;
    }
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
        /* Only a PCCS or Intel PCS source can be refreshed: files are read as they are. */
        attestd_response_error(response, err == ATTEST_ERR_ARGUMENT ? 409 : 502,
                               err == ATTEST_ERR_ARGUMENT ? "collateral_not_refreshable"
                                                          : attest_err_code(err),
                               "%s", diag.message);
        return;
    }
    json_t *body = json_object();
    json_object_set_new(body, "refreshed", json_true());
    attestd_response_json(response, 200, body);
}
