/*
 * Azure Attestation-compatible API of attestd: Azure's request shapes and
 * token claims over attestd's verification, appraisal and audit.
 *
 * The application's active policy applies, except its nonce rule. Azure's
 * binding applies instead: SHA-256 of the runtime data must equal the first
 * 32 bytes of report data. Without runtime data nothing is bound and the
 * token records that. The request's nonce is only echoed in the token.
 *
 * Caveats, each documented in docs/api-azure.md:
 * - initTimeData and draftPolicyForAttestation are rejected, because the
 *   init-time data check is not specified well enough to verify, and a
 *   draft would be in Azure's policy language, which attestd does not speak.
 * - x-ms-sgx-collateral, x-ms-policy-signer, x-ms-compliance-status and the
 *   EAT claims eat_profile and intuse are not emitted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "api_azure.h"
#include "api_azure_internal.h"
#include "attestation.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "util/base64.h"
#include "util/hex.h"

#define AZURE_BINDING_RULE "azure-runtime-data-sha256"
#define AZURE_BINDING_SIZE 32 /* SHA-256 in the first 32 bytes of report data */
#define AZURE_CLAIMS_VERSION "1.0"
#define AZURE_JTI_SIZE 32
#define AZURE_ISSUER_MAX_SIZE (ATTESTD_ISSUER_MAX_SIZE + ATTESTD_NAME_MAX_SIZE + 32)

/* Sets an error in Azure's shape, {"error": {"code", "message"}}, and x-ms-error-code. */
#define AZURE_ERROR(response, status, code, ...)                                                   \
    do {                                                                                           \
        attestd_response_error((response), (status), (code), __VA_ARGS__);                        \
        attestd_response_header((response), "x-ms-error-code", (code));                           \
    } while (0)

/* The api-version values accepted per operation, as Azure's REST reference lists them. */
static const char *const sgx_api_versions[] = {"2020-10-01", "2022-08-01", "2025-06-01", NULL};
static const char *const tdx_api_versions[] = {"2023-04-01-preview", "2025-06-01", NULL};

/* Request fields per operation. TdxVm takes no draft policy. */
static const char *const sgx_fields[] = {"quote", "runtimeData", "initTimeData",
                                         "draftPolicyForAttestation", "nonce", NULL};
static const char *const tdx_fields[] = {"quote", "runtimeData", "initTimeData", "nonce", NULL};

void attestd_azure_request_clear(azure_request_body *body)
{
    free(body->quote);
    free(body->runtime.bytes);
    json_decref(body->runtime.json);
    memset(body, 0, sizeof(*body));
}

static bool name_listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        if (strcmp(names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* Returns the nesting depth of arrays and objects in value. jansson's parser bounds it. */
static unsigned json_depth(const json_t *value)
{
    unsigned deepest = 0;
    if (json_is_object(value)) {
        const char *key = NULL;
        json_t *member = NULL;
        json_object_foreach((json_t *)value, key, member) {
            unsigned depth = json_depth(member);
            deepest = depth > deepest ? depth : deepest;
        }
        return deepest + 1;
    }
    if (json_is_array(value)) {
        size_t index = 0;
        json_t *item = NULL;
        json_array_foreach(value, index, item) {
            unsigned depth = json_depth(item);
            deepest = depth > deepest ? depth : deepest;
        }
        return deepest + 1;
    }
    return 0;
}

/* Checks the api-version query parameter and sets a 400 response when it is missing or unknown. */
static bool api_version_check(const attestd_request *request, azure_tee tee,
                              attestd_response *response)
{
    const char *const *versions = tee == AZURE_TEE_SGX ? sgx_api_versions : tdx_api_versions;
    const char *operation = tee == AZURE_TEE_SGX ? "attest/SgxEnclave" : "attest/TdxVm";
    const char *accepted = tee == AZURE_TEE_SGX ? "2020-10-01, 2022-08-01, 2025-06-01"
                                                : "2023-04-01-preview, 2025-06-01";
    const char *version = MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND,
                                                      "api-version");
    if (version == NULL || version[0] == '\0') {
        AZURE_ERROR(response, 400, "api_version_missing",
                    "the api-version query parameter is missing; %s accepts %s", operation,
                    accepted);
        return false;
    }
    if (!name_listed(versions, version)) {
        AZURE_ERROR(response, 400, "api_version_unsupported",
                    "api-version \"%.40s\" is not supported by %s; use one of %s", version,
                    operation, accepted);
        return false;
    }
    return true;
}

/* Checks the base path's application name as the store does, with a 400 response if invalid. */
static bool application_name_check(const attestd_request *request, attestd_response *response)
{
    if (!attestd_store_name_valid(request->application)) {
        AZURE_ERROR(response, 400, "application_name_invalid",
                    "application name \"%.64s\" is not 1 to 64 bytes of [a-z0-9._-]",
                    request->application);
        return false;
    }
    return true;
}

/* Parses runtimeData: {"data": base64url, "dataType": "Binary" | "JSON"}. */
static bool runtime_data_parse(const attestd_request *request, const json_t *value,
                               azure_runtime_data *out, attestd_response *response)
{
    if (!json_is_object(value)) {
        AZURE_ERROR(response, 400, "runtime_data_invalid",
                    "runtimeData must be an object {\"data\": base64url, \"dataType\": "
                    "\"Binary\" or \"JSON\"}");
        return false;
    }
    const char *key = NULL;
    json_t *member = NULL;
    json_object_foreach((json_t *)value, key, member) {
        if (strcmp(key, "data") != 0 && strcmp(key, "dataType") != 0) {
            AZURE_ERROR(response, 400, "field_unknown",
                        "unknown field \"runtimeData.%.40s\"; runtimeData has data and dataType",
                        key);
            return false;
        }
    }
    json_t *data = json_object_get(value, "data");
    json_t *type = json_object_get(value, "dataType");
    const char *type_name = json_is_string(type) ? json_string_value(type) : NULL;
    if (!json_is_string(data)) {
        AZURE_ERROR(response, 400, "runtime_data_invalid",
                    "runtimeData.data is missing or not a string: it must be base64url");
        return false;
    }
    /* Azure's type values. A missing dataType means "Binary". */
    if (type != NULL && (type_name == NULL || (strcmp(type_name, "Binary") != 0 &&
                                               strcmp(type_name, "JSON") != 0))) {
        AZURE_ERROR(response, 400, "runtime_data_invalid",
                    "runtimeData.dataType must be \"Binary\" or \"JSON\"");
        return false;
    }
    size_t max_size = request->limits->max_evidence_size;
    if (!attestd_base64url_decode(json_string_value(data), json_string_length(data), max_size,
                                  &out->bytes, &out->size)) {
        AZURE_ERROR(response, 400, "runtime_data_invalid",
                    "runtimeData.data is not base64url of at most %zu bytes", max_size);
        return false;
    }
    out->present = true;
    if (type_name == NULL || strcmp(type_name, "JSON") != 0) {
        return true;
    }

    /* Azure puts JSON runtime data in the x-ms-runtime claim, which is an object. */
    json_error_t error;
    out->json = json_loadb((const char *)out->bytes, out->size, JSON_REJECT_DUPLICATES, &error);
    if (out->json == NULL || !json_is_object(out->json)) {
        AZURE_ERROR(response, 400, "runtime_data_invalid",
                    "runtimeData has dataType \"JSON\" but its data is not a JSON object");
        return false;
    }
    if (json_depth(out->json) > request->limits->max_json_depth) {
        AZURE_ERROR(response, 400, "runtime_data_invalid",
                    "runtimeData JSON nesting depth exceeds the limit %u",
                    request->limits->max_json_depth);
        return false;
    }
    return true;
}

/* Rejects fields that are not in fields, and the ones attestd cannot honor. */
static bool fields_check(const json_t *json, azure_tee tee, attestd_response *response)
{
    const char *const *fields = tee == AZURE_TEE_SGX ? sgx_fields : tdx_fields;
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach((json_t *)json, key, value) {
        /* A misspelt runtimeData would silently drop the binding, so unknown fields are errors. */
        if (!name_listed(fields, key)) {
            AZURE_ERROR(response, 400, "field_unknown",
                        "unknown field \"%.40s\"; docs/api-azure.md lists the fields of %s", key,
                        tee == AZURE_TEE_SGX ? "attest/SgxEnclave" : "attest/TdxVm");
            return false;
        }
        if (json_is_null(value)) {
            continue;
        }
        if (strcmp(key, "initTimeData") == 0) {
            AZURE_ERROR(response, 400, "init_time_data_unsupported",
                        "initTimeData is not supported: attestd cannot verify that the enclave "
                        "or TD knew it; bind such data through runtimeData instead");
            return false;
        }
        if (strcmp(key, "draftPolicyForAttestation") == 0) {
            AZURE_ERROR(response, 400, "draft_policy_unsupported",
                        "draftPolicyForAttestation is not supported: attestd policies are JSON, "
                        "not Azure's policy language; try a draft with POST "
                        "/v1/applications/APP/dry-run");
            return false;
        }
    }
    return true;
}

bool attestd_azure_request_parse(const attestd_request *request, azure_tee tee,
                                 azure_request_body *out, attestd_response *response)
{
    const json_t *json = request->json;
    memset(out, 0, sizeof(*out));
    if (!fields_check(json, tee, response)) {
        return false;
    }

    json_t *quote = json_object_get(json, "quote");
    if (!json_is_string(quote)) {
        AZURE_ERROR(response, 400, "quote_missing",
                    "quote is missing or not a string: it must be the quote in base64url");
        return false;
    }
    size_t max_size = request->limits->max_evidence_size;
    if (!attestd_base64url_decode(json_string_value(quote), json_string_length(quote), max_size,
                                  &out->quote, &out->quote_size) ||
        out->quote_size == 0) {
        attestd_azure_request_clear(out);
        AZURE_ERROR(response, 400, "quote_invalid",
                    "quote is not base64url of 1 to %zu bytes", max_size);
        return false;
    }

    json_t *nonce = json_object_get(json, "nonce");
    if (nonce != NULL && !json_is_null(nonce)) {
        if (!json_is_string(nonce) || json_string_length(nonce) > AZURE_NONCE_MAX_SIZE) {
            attestd_azure_request_clear(out);
            AZURE_ERROR(response, 400, "nonce_invalid",
                        "nonce must be a string of at most %d bytes", AZURE_NONCE_MAX_SIZE);
            return false;
        }
        out->nonce = json_string_value(nonce);
    }

    json_t *runtime = json_object_get(json, "runtimeData");
    if (runtime != NULL && !json_is_null(runtime) &&
        !runtime_data_parse(request, runtime, &out->runtime, response)) {
        attestd_azure_request_clear(out);
        return false;
    }
    return true;
}

/* Writes the issuer of APP's tokens: the service's issuer and the API's base path. */
static void azure_issuer(const attestd_request *request, char out[AZURE_ISSUER_MAX_SIZE])
{
    snprintf(out, AZURE_ISSUER_MAX_SIZE, "%s/compat/azure/%s",
             attestd_service_issuer(request->service), request->application);
}

static bool set_value(json_t *claims, const char *name, json_t *value)
{
    return value != NULL && json_object_set_new(claims, name, value) == 0;
}

/* Sets claims[name] to the lowercase hex of data (at most 64 bytes). */
static bool set_hex(json_t *claims, const char *name, const uint8_t *data, size_t size)
{
    char text[2 * 64 + 1];
    if (size > 64) {
        return false;
    }
    attest_hex_encode(data, size, text);
    return set_value(claims, name, json_string(text));
}

/* Adds the SGX claims of Azure's claim sets, from the verified report body. */
static bool sgx_claims_add(json_t *claims, const attest_quote *quote,
                           const azure_runtime_data *runtime)
{
    const attest_sgx_report_body *body = &quote->body.sgx;
    bool added =
        set_value(claims, "x-ms-sgx-is-debuggable", json_boolean(attest_quote_is_debug(quote))) &&
        set_value(claims, "x-ms-sgx-product-id", json_integer(body->isv_prod_id)) &&
        set_hex(claims, "x-ms-sgx-mrenclave", body->mr_enclave, sizeof(body->mr_enclave)) &&
        set_hex(claims, "x-ms-sgx-mrsigner", body->mr_signer, sizeof(body->mr_signer)) &&
        set_value(claims, "x-ms-sgx-svn", json_integer(body->isv_svn)) &&
        set_hex(claims, "x-ms-sgx-report-data", body->report_data, sizeof(body->report_data));
    if (!added) {
        return false;
    }

    /* Azure puts binary runtime data in x-ms-sgx-ehd as BASE64URL, and JSON in x-ms-runtime. */
    if (runtime->present && runtime->json == NULL) {
        char *ehd = attest_base64url_encode(runtime->bytes, runtime->size);
        if (!set_value(claims, "x-ms-sgx-ehd", ehd != NULL ? json_string(ehd) : NULL)) {
            free(ehd);
            return false;
        }
        free(ehd);
    }

    /* Azure emits the KSS fields only for enclaves with Key Separation and Sharing, FLAGS bit 7. */
    if ((body->attributes[0] & 0x80) == 0) {
        return true;
    }
    return set_hex(claims, "x-ms-sgx-config-id", body->config_id, sizeof(body->config_id)) &&
           set_value(claims, "x-ms-sgx-config-svn", json_integer(body->config_svn)) &&
           set_hex(claims, "x-ms-sgx-isv-extended-product-id", body->isv_ext_prod_id,
                   sizeof(body->isv_ext_prod_id)) &&
           set_hex(claims, "x-ms-sgx-isv-family-id", body->isv_family_id,
                   sizeof(body->isv_family_id));
}

/* Returns bit (0 to 63) of a little-endian 8-byte attribute field. */
static bool attribute_bit(const uint8_t field[8], unsigned bit)
{
    return (field[bit / 8] >> (bit % 8) & 1) != 0;
}

/* Adds the TDX claims of Azure's TDX EAT profile, from the verified TD report body. */
static bool tdx_claims_add(json_t *claims, const attest_report *report)
{
    const attest_td_report_body *body = &report->quote.body.td;
    static const char *const rtmr_names[4] = {"tdx_rtmr0", "tdx_rtmr1", "tdx_rtmr2",
                                              "tdx_rtmr3"};
    for (size_t i = 0; i < 4; i++) {
        if (!set_hex(claims, rtmr_names[i], body->rtmr[i], sizeof(body->rtmr[i]))) {
            return false;
        }
    }
    /* TEE_TCB_SVN byte 0 is the TDX module's minor SVN and byte 1 its major SVN. */
    json_int_t seam_svn = (json_int_t)body->tee_tcb_svn[1] << 8 | body->tee_tcb_svn[0];
    /* TD_ATTRIBUTES bits: 0 DEBUG, 28 SEPT_VE_DISABLE, 30 PKS, 31 KL, 63 PERFMON. */
    const uint8_t *attributes = body->td_attributes;
    bool debug = attest_quote_is_debug(&report->quote);
    return set_hex(claims, "tdx_mrsignerseam", body->mr_signer_seam,
                   sizeof(body->mr_signer_seam)) &&
           set_hex(claims, "tdx_mrseam", body->mr_seam, sizeof(body->mr_seam)) &&
           set_hex(claims, "tdx_mrtd", body->mr_td, sizeof(body->mr_td)) &&
           set_hex(claims, "tdx_mrconfigid", body->mr_config_id, sizeof(body->mr_config_id)) &&
           set_hex(claims, "tdx_mrowner", body->mr_owner, sizeof(body->mr_owner)) &&
           set_hex(claims, "tdx_mrownerconfig", body->mr_owner_config,
                   sizeof(body->mr_owner_config)) &&
           set_hex(claims, "tdx_report_data", body->report_data, sizeof(body->report_data)) &&
           set_hex(claims, "tdx_seam_attributes", body->seam_attributes,
                   sizeof(body->seam_attributes)) &&
           set_hex(claims, "tdx_tee_tcb_svn", body->tee_tcb_svn, sizeof(body->tee_tcb_svn)) &&
           set_hex(claims, "tdx_xfam", body->xfam, sizeof(body->xfam)) &&
           set_value(claims, "tdx_seamsvn", json_integer(seam_svn)) &&
           set_hex(claims, "tdx_td_attributes", attributes, sizeof(body->td_attributes)) &&
           set_value(claims, "tdx_td_attributes_debug", json_boolean(debug)) &&
           set_value(claims, "tdx_td_attributes_septve_disable",
                     json_boolean(attribute_bit(attributes, 28))) &&
           set_value(claims, "tdx_td_attributes_protection_keys",
                     json_boolean(attribute_bit(attributes, 30))) &&
           set_value(claims, "tdx_td_attributes_key_locker",
                     json_boolean(attribute_bit(attributes, 31))) &&
           set_value(claims, "tdx_td_attributes_perfmon",
                     json_boolean(attribute_bit(attributes, 63))) &&
           set_value(claims, "attester_tcb_status",
                     json_string(attest_tcb_status_name(report->tcb_status))) &&
           set_value(claims, "dbgstat", json_string(debug ? "enabled" : "disabled"));
}

/* Computes x-ms-policy-hash: BASE64URL(SHA256(UTF8(BASE64URL(UTF8(policy text))))). */
static json_t *policy_hash_json(const attestd_policy *stored)
{
    char *encoded = attest_base64url_encode(stored->document, stored->info.document_size);
    if (encoded == NULL) {
        return NULL;
    }
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)encoded, strlen(encoded), digest);
    free(encoded);
    char *hash = attest_base64url_encode(digest, sizeof(digest));
    json_t *value = hash != NULL ? json_string(hash) : NULL;
    free(hash);
    return value;
}

/* The inputs of one token besides the verified report. */
typedef struct azure_token_inputs {
    azure_tee tee;
    const azure_request_body *body;
    const attestd_policy *stored;
    uint32_t lifetime;
    time_t now;
} azure_token_inputs;

/* Adds the registered JWT claims, the common x-ms claims and attestd's own claims. */
static bool common_claims_add(const attestd_request *request, json_t *claims,
                              const attest_report *report, const azure_token_inputs *inputs)
{
    uint8_t jti_bytes[AZURE_JTI_SIZE];
    char jti[2 * AZURE_JTI_SIZE + 1];
    if (RAND_bytes(jti_bytes, sizeof(jti_bytes)) != 1) {
        return false;
    }
    attest_hex_encode(jti_bytes, sizeof(jti_bytes), jti);
    char issuer[AZURE_ISSUER_MAX_SIZE];
    azure_issuer(request, issuer);
    char policy_id[ATTESTD_NAME_MAX_SIZE + 32];
    char policy_sha256[65];
    attestd_policy_names(inputs->stored, request->application, policy_id, sizeof(policy_id),
                         policy_sha256);
    const azure_runtime_data *runtime = &inputs->body->runtime;
    json_int_t issued = (json_int_t)inputs->now;

    return set_value(claims, "iss", json_string(issuer)) &&
           set_value(claims, "sub", json_string(request->application)) &&
           set_value(claims, "iat", json_integer(issued)) &&
           set_value(claims, "nbf", json_integer(issued)) &&
           set_value(claims, "exp", json_integer(issued + (json_int_t)inputs->lifetime)) &&
           set_value(claims, "jti", json_string(jti)) &&
           (inputs->body->nonce == NULL ||
            set_value(claims, "nonce", json_string(inputs->body->nonce))) &&
           set_value(claims, "x-ms-ver", json_string(AZURE_CLAIMS_VERSION)) &&
           set_value(claims, "x-ms-attestation-type",
                     json_string(inputs->tee == AZURE_TEE_SGX ? "sgx" : "tdxvm")) &&
           set_value(claims, "x-ms-policy-hash", policy_hash_json(inputs->stored)) &&
           (runtime->json == NULL ||
            set_value(claims, "x-ms-runtime", json_deep_copy(runtime->json))) &&
           set_value(claims, "attestd_binding",
                     json_pack("{s:s, s:b}", "rule", AZURE_BINDING_RULE, "checked",
                               runtime->present)) &&
           set_value(claims, "attestd_policy_id", json_string(policy_id)) &&
           set_value(claims, "attestd_tcb_status",
                     json_string(attest_tcb_status_name(report->tcb_status))) &&
           set_value(claims, "attestd_simulated", json_boolean(report->simulated));
}

/* Builds the token's claims from the verified report, or returns NULL when out of memory. */
static json_t *claims_build(const attestd_request *request, const attest_report *report,
                            const azure_token_inputs *inputs)
{
    json_t *claims = json_object();
    bool built = claims != NULL && common_claims_add(request, claims, report, inputs) &&
                 (inputs->tee == AZURE_TEE_SGX
                      ? sgx_claims_add(claims, &report->quote, &inputs->body->runtime)
                      : tdx_claims_add(claims, report));
    if (!built) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* Signs the token of an accepted evaluation, or marks the evaluation rejected at "token". */
static void token_issue(const attestd_request *request, const azure_token_inputs *inputs,
                        attestd_evaluation *result, char **out_token, json_t **out_claims)
{
    attest_diag diag = {{0}};
    attest_err err = ATTEST_ERR_NOMEM;
    json_t *claims = claims_build(request, result->report, inputs);
    if (claims != NULL) {
        err = attestd_service_token_sign(request->service, claims, out_token, &diag);
    }
    if (err == ATTEST_OK) {
        *out_claims = claims;
        return;
    }
    json_decref(claims);
    /* Still audited: every attestation is recorded, the failed ones too. */
    const char *message = diag.message[0] != '\0' ? diag.message : "building the claims failed";
    attestd_evaluation_reject(result, "token", err, message);
    attestd_log("error", "token_issue_failed",
                json_pack("{s:s, s:s, s:s}", "request_id", request->request_id, "error",
                          attest_err_code(err), "message", result->message));
}

/* Sets the response of a rejected evaluation in Azure's error shape. */
static void rejection_respond(const attestd_evaluation *result, attestd_response *response)
{
    /* The service's own collateral or signing key failed, not the attester's evidence. */
    unsigned status = 400;
    if (strcmp(result->stage, "collateral") == 0) {
        status = 503;
    } else if (strcmp(result->stage, "token") == 0) {
        status = 500;
    }
    AZURE_ERROR(response, status, result->code, "attestation rejected at stage %s: %s",
                result->stage, result->message);
}

/* Runs one Azure attestation: parse, appraise with Azure's binding, audit, then respond. */
static void azure_attest(const attestd_request *request, azure_tee tee,
                         attestd_response *response)
{
    if (!api_version_check(request, tee, response) || !application_name_check(request, response)) {
        attestd_metrics_stage_failure(ATTESTD_STAGE_REQUEST);
        return;
    }
    azure_request_body body;
    if (!attestd_azure_request_parse(request, tee, &body, response)) {
        attestd_metrics_stage_failure(ATTESTD_STAGE_REQUEST);
        return;
    }
    attestd_policy stored;
    attest_policy *policy = NULL;
    if (!attestd_active_policy_load(request, request->application, &stored, &policy, response)) {
        attestd_response_header(response, "x-ms-error-code", response->error_code);
        attestd_azure_request_clear(&body);
        return;
    }

    time_t now = time(NULL);
    char *token = NULL;
    json_t *claims = NULL;
    attestd_evaluation result;
    if (!attestd_evaluation_init(&result)) {
        AZURE_ERROR(response, 500, "out_of_memory", "out of memory");
        goto out;
    }

    /* Azure's rule replaces the policy's nonce rule; without runtime data it checks nothing. */
    uint8_t expected[SHA256_DIGEST_LENGTH];
    if (body.runtime.present) {
        SHA256(body.runtime.bytes, body.runtime.size, expected);
    }
    attest_report_data_binding binding = {
        .rule = AZURE_BINDING_RULE,
        .expected = body.runtime.present ? expected : NULL,
        .size = AZURE_BINDING_SIZE,
    };
    attestd_evaluate(request, policy, body.quote, body.quote_size,
                     tee == AZURE_TEE_SGX ? "sgx" : "tdx", &binding, now, &result);
    if (result.accepted) {
        azure_token_inputs inputs = {
            .tee = tee,
            .body = &body,
            .stored = &stored,
            .lifetime = attestd_token_lifetime(request, policy),
            .now = now,
        };
        token_issue(request, &inputs, &result, &token, &claims);
    }

    /* The token exists only once the audit record that names it is stored. */
    const char *token_id = NULL;
    if (claims != NULL) {
        token_id = json_string_value(json_object_get(claims, "jti"));
    }
    int64_t audit_id = 0;
    attest_diag diag = {{0}};
    attest_err err = attestd_audit_write(request, request->application, body.quote,
                                         body.quote_size, &result, stored.info.version, token_id,
                                         NULL, 0, &audit_id, &diag);
    if (err != ATTEST_OK) {
        /* No token leaves without its record, so the metrics count a rejection. */
        attestd_evaluation_reject(&result, "audit", err, diag.message);
    }
    attestd_evaluation_count(&result);
    if (err != ATTEST_OK) {
        AZURE_ERROR(response, 503, attest_err_code(err),
                    "the audit record cannot be written, so no token is issued: %s",
                    diag.message);
        goto out;
    }
    if (!result.accepted) {
        rejection_respond(&result, response);
        goto out;
    }
    attestd_response_json(response, 200, json_pack("{s:s}", "token", token));

out:
    free(token);
    json_decref(claims);
    attestd_evaluation_clear(&result);
    attest_policy_free(policy);
    attestd_policy_free(&stored);
    attestd_azure_request_clear(&body);
}

void attestd_azure_attest_sgx(const attestd_request *request, attestd_response *response)
{
    azure_attest(request, AZURE_TEE_SGX, response);
}

void attestd_azure_attest_tdx(const attestd_request *request, attestd_response *response)
{
    azure_attest(request, AZURE_TEE_TDX, response);
}

/* Checks that the base path's application exists, with a 404 response when it does not. */
static bool application_exists(const attestd_request *request, attestd_response *response)
{
    if (!application_name_check(request, response)) {
        return false;
    }
    attestd_application application;
    attest_diag diag = {{0}};
    attest_err err =
        attestd_store_application_get(request->store, request->application, &application, &diag);
    if (err == ATTEST_ERR_NOT_FOUND) {
        AZURE_ERROR(response, 404, "application_not_found",
                    "application \"%.64s\" does not exist", request->application);
        return false;
    }
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        attestd_response_header(response, "x-ms-error-code", response->error_code);
        return false;
    }
    return true;
}

void attestd_azure_certs(const attestd_request *request, attestd_response *response)
{
    if (!application_exists(request, response)) {
        return;
    }
    char *text = NULL;
    if (attestd_service_jwks(request->service, time(NULL), &text) != ATTEST_OK) {
        AZURE_ERROR(response, 500, "internal_error", "the key set cannot be published");
        return;
    }
    json_error_t error;
    json_t *jwks = json_loads(text, 0, &error);
    free(text);
    if (jwks == NULL) {
        AZURE_ERROR(response, 500, "internal_error", "the key set cannot be published");
        return;
    }
    attestd_response_json(response, 200, jwks);
}

void attestd_azure_openid_configuration(const attestd_request *request,
                                        attestd_response *response)
{
    if (!application_exists(request, response)) {
        return;
    }
    char issuer[AZURE_ISSUER_MAX_SIZE];
    azure_issuer(request, issuer);
    char jwks_uri[AZURE_ISSUER_MAX_SIZE + 8];
    snprintf(jwks_uri, sizeof(jwks_uri), "%s/certs", issuer);
    json_t *body = json_pack("{s:s, s:s, s:[s, s, s], s:[s], s:[s, s, s, s, s, s, s, s]}",
                             "issuer", issuer, "jwks_uri", jwks_uri,
                             "id_token_signing_alg_values_supported", "ES256", "RS256", "PS384",
                             "response_types_supported", "token", "claims_supported", "iss",
                             "iat", "nbf", "exp", "jti", "nonce", "x-ms-ver",
                             "x-ms-attestation-type");
    if (body == NULL) {
        AZURE_ERROR(response, 500, "out_of_memory", "out of memory");
        return;
    }
    attestd_response_json(response, 200, body);
}
