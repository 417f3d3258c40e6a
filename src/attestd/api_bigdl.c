/*
 * The BigDL PPML attestation service API (api_bigdl.h, docs/api-bigdl.md).
 *
 * BigDL's requests carry the application (appID) and its key (apiKey) in
 * the JSON body, not in an Authorization header, so the HTTP frame passes
 * /registerPolicy and /verifyQuote through without a key and the handlers
 * check the scoped key themselves. /enroll takes an administrator key in the
 * Authorization header, which BigDL's own service does not ask for.
 *
 * The quote of /verifyQuote is appraised against the named policy version,
 * or the application's active one, with the report data binding rule "none":
 * BigDL's client binds no nonce, so the policy's nonce rule is skipped and
 * the response names the rule. A quote without any policy does not pass.
 *
 * NOTE: without a nonce, a recorded quote can be replayed by anyone holding
 * the apiKey. That is BigDL's protocol; the native /v1/attest API binds a nonce.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api_admin.h"
#include "api_bigdl.h"
#include "api_bigdl_internal.h"
#include "attestation.h"
#include "log.h"
#include "metrics.h"
#include "util/hex.h"

/* BigDL's result codes of /verifyQuote. */
#define BIGDL_RESULT_PASS 0
#define BIGDL_RESULT_WARNING 1 /* passed on a degraded TCB that the policy accepts */
#define BIGDL_RESULT_FAIL (-1)

/* appID and policyID: a random UUID in its 36-character text form. */
#define BIGDL_UUID_TEXT_SIZE 36

/* The report data binding rule of this API: nothing is bound. */
#define BIGDL_BINDING_RULE "none"

static bool error_set(bigdl_error *error, unsigned status, const char *code, const char *format,
                      ...) ATTEST_PRINTF(4, 5);

/* Records the failure and returns false, so a step can end with `return error_set(...)`. */
static bool error_set(bigdl_error *error, unsigned status, const char *code, const char *format,
                      ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error->message, sizeof(error->message), format, arguments);
    va_end(arguments);
    error->status = status;
    snprintf(error->code, sizeof(error->code), "%s", code);
    return false;
}

static bool error_set_store(bigdl_error *error, attest_err err, const attest_diag *diag)
{
    error->store_err = err;
    error->diag = *diag;
    return false;
}

/*
 * Writes the error response. with_result adds BigDL's "result": -1, which
 * BigDL's clients read from every /verifyQuote response.
 */
static void error_respond(const bigdl_error *error, bool with_result, attestd_response *response)
{
    if (error->store_err != ATTEST_OK) {
        attestd_response_store_error(response, error->store_err, &error->diag);
    } else {
        attestd_response_error(response, error->status, error->code, "%s", error->message);
    }
    if (with_result) {
        json_object_set_new(response->json, "result", json_integer(BIGDL_RESULT_FAIL));
    }
}

/* Writes a random (version 4) UUID in lowercase. */
static bool uuid_generate(char out[BIGDL_UUID_TEXT_SIZE + 1])
{
    uint8_t bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return false;
    }
    bytes[6] = (uint8_t)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (uint8_t)((bytes[8] & 0x3f) | 0x80); /* RFC 9562 variant */
    char hex[2 * sizeof(bytes) + 1];
    attest_hex_encode(bytes, sizeof(bytes), hex);
    snprintf(out, BIGDL_UUID_TEXT_SIZE + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
    return true;
}

/* Reads string member key; a missing member is an error only when required. */
static bool string_field(const json_t *json, const char *key, bool required, const char **out,
                         bigdl_error *error)
{
    json_t *value = json_object_get(json, key);
    *out = NULL;
    if (value == NULL) {
        if (required) {
            return error_set(error, 400, "field_missing", "%s is missing", key);
        }
        return true;
    }
    if (!json_is_string(value)) {
        return error_set(error, 400, "field_invalid", "%s must be a string", key);
    }
    *out = json_string_value(value);
    return true;
}

/* Rejects a member that allowed does not list, so that a misspelt field is not ignored. */
static bool fields_check(const json_t *json, const char *const *allowed, size_t allowed_count,
                         bigdl_error *error)
{
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach((json_t *)json, key, value) {
        bool found = false;
        for (size_t i = 0; i < allowed_count && !found; i++) {
            found = strcmp(key, allowed[i]) == 0;
        }
        if (!found) {
            return error_set(error, 400, "field_unknown",
                             "unknown field \"%.40s\"; docs/api-bigdl.md lists the fields", key);
        }
    }
    return true;
}

/*
 * Checks appID and apiKey against the application's scoped key and writes
 * the appID. An unknown appID and a wrong apiKey get the same 401.
 */
static bool credentials_check(const attestd_request *request, const char **out_app_id,
                              bigdl_error *error)
{
    const char *app_id = NULL;
    const char *api_key = NULL;
    if (!string_field(request->json, "appID", true, &app_id, error) ||
        !string_field(request->json, "apiKey", true, &api_key, error)) {
        return false;
    }
    attest_diag diag = {{0}};
    attest_err err = ATTEST_ERR_API_KEY_UNKNOWN;
    if (attestd_store_name_valid(app_id) && strlen(api_key) <= ATTESTD_API_KEY_MAX_SIZE) {
        err = attestd_store_application_key_check(request->store, app_id, api_key, &diag);
    }
    if (err == ATTEST_ERR_API_KEY_UNKNOWN || err == ATTEST_ERR_ARGUMENT || err == ATTEST_ERR_LIMIT) {
        return error_set(error, 401, "api_key_unknown",
                         "appID \"%.64s\" does not exist or apiKey is not its key; get both "
                         "from GET /enroll",
                         app_id);
    }
    if (err != ATTEST_OK) {
        return error_set_store(error, err, &diag);
    }
    *out_app_id = app_id;
    return true;
}

void attestd_bigdl_enroll(const attestd_request *request, attestd_response *response)
{
    /* HEAD would create an application without returning its key. */
    if (strcmp(request->method, "GET") != 0) {
        attestd_response_error(response, 405, "method_not_allowed",
                               "%.16s is not allowed on /enroll, which creates an application; "
                               "use GET",
                               request->method);
        attestd_response_header(response, "Allow", "GET");
        return;
    }
    char app_id[BIGDL_UUID_TEXT_SIZE + 1];
    char api_key[ATTESTD_API_KEY_TEXT_SIZE + 1];
    if (!uuid_generate(app_id) || attestd_api_key_generate(api_key) != ATTEST_OK) {
        attestd_response_error(response, 500, "crypto_failed", "the random generator failed");
        return;
    }

    attest_diag diag = {{0}};
    attest_err err =
        attestd_store_application_enroll(request->store, app_id, api_key, time(NULL), NULL, &diag);
    if (err != ATTEST_OK) {
        OPENSSL_cleanse(api_key, sizeof(api_key));
        attestd_response_store_error(response, err, &diag);
        return;
    }
    attestd_log("info", "bigdl_enrolled",
                json_pack("{s:s, s:s, s:s}", "request_id", request->request_id, "application",
                          app_id, "api_key_name", request->caller.name));

    json_t *body = json_object();
    json_object_set_new(body, "appID", json_string(app_id));
    json_object_set_new(body, "apiKey", json_string(api_key));
    OPENSSL_cleanse(api_key, sizeof(api_key));
    attestd_response_json(response, 200, body);
}

/* A BigDL policy type and the request fields that it requires. */
typedef struct policy_type {
    const char *name;
    const char *tee; /* "sgx" or "tdx": the evidence type and the policy section */
    const char *fields[5];
    size_t field_count;
} policy_type;

static const policy_type policy_types[] = {
    {"SGXMREnclavePolicy", "sgx", {"mrEnclave"}, 1},
    {"SGXMRSignerPolicy", "sgx", {"mrSigner", "isvProdID"}, 2},
    /* TDX types: TDXMRTDPolicy and its mrTD field are BigDL's, TDXMRTDRTMRPolicy is attestd's. */
    {"TDXMRTDPolicy", "tdx", {"mrTD"}, 1},
    {"TDXMRTDRTMRPolicy", "tdx", {"mrTD", "rtmr0", "rtmr1", "rtmr2", "rtmr3"}, 5},
};

/* A measurement field, its key in the attestd policy and its size in bytes. */
typedef struct measurement_field {
    const char *field;
    const char *key;
    size_t size;
} measurement_field;

static const measurement_field measurement_fields[] = {
    {"mrEnclave", "mrenclave", 32}, {"mrSigner", "mrsigner", 32}, {"mrTD", "mrtd", 48},
    {"rtmr0", "rtmr0", 48},         {"rtmr1", "rtmr1", 48},       {"rtmr2", "rtmr2", 48},
    {"rtmr3", "rtmr3", 48},
};

/*
 * The TCB statuses that BigDL's verifier (BigDL-core quote_verification.cpp)
 * passes: UpToDate with result 0, the others with result 1. Revoked and the
 * TD relaunch statuses fail there, so they fail here too.
 */
static const char *const bigdl_tcb_statuses[] = {
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
};

static const policy_type *policy_type_find(const char *name)
{
    for (size_t i = 0; i < sizeof(policy_types) / sizeof(policy_types[0]); i++) {
        if (strcmp(policy_types[i].name, name) == 0) {
            return &policy_types[i];
        }
    }
    return NULL;
}

static bool policy_type_has_field(const policy_type *type, const char *field)
{
    for (size_t i = 0; i < type->field_count; i++) {
        if (strcmp(type->fields[i], field) == 0) {
            return true;
        }
    }
    return false;
}

/* Rejects fields that belong neither to the request nor to the policy type. */
static bool register_fields_check(const json_t *json, const policy_type *type, bigdl_error *error)
{
    static const char *const common[] = {"appID", "apiKey", "policyType", "simulatedAllowed"};
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach((json_t *)json, key, value) {
        bool found = policy_type_has_field(type, key);
        for (size_t i = 0; i < sizeof(common) / sizeof(common[0]) && !found; i++) {
            found = strcmp(key, common[i]) == 0;
        }
        if (found) {
            continue;
        }
        for (size_t i = 0; i < sizeof(policy_types) / sizeof(policy_types[0]); i++) {
            if (policy_type_has_field(&policy_types[i], key)) {
                return error_set(error, 400, "field_unknown",
                                 "field \"%s\" does not belong to policyType %s", key, type->name);
            }
        }
        return error_set(error, 400, "field_unknown",
                         "unknown field \"%.40s\"; docs/api-bigdl.md lists the fields", key);
    }
    return true;
}

/* Adds measurement field as a one-value list to section, in lowercase hex. */
static bool measurement_add(const json_t *json, const measurement_field *measurement,
                            json_t *section, bigdl_error *error)
{
    const char *text = NULL;
    if (!string_field(json, measurement->field, true, &text, error)) {
        return false;
    }
    uint8_t bytes[48];
    size_t length = strlen(text);
    if (attest_hex_decode_exact(text, length, bytes, measurement->size) != ATTEST_OK) {
        return error_set(error, 400, "field_invalid",
                         "%s: expected %zu hex digits (%zu bytes), got %zu characters that are "
                         "not all hex digits or not that many",
                         measurement->field, 2 * measurement->size, measurement->size, length);
    }
    char hex[2 * sizeof(bytes) + 1];
    attest_hex_encode(bytes, measurement->size, hex);
    json_object_set_new(section, measurement->key, json_pack("[s]", hex));
    return true;
}

/*
 * Reads isvProdID: a string of 1 to 4 hex digits, as BigDL's service compares
 * it (the hex text of the quote's two ISVPRODID bytes), or an integer.
 */
static bool isv_prod_id_read(const json_t *json, long *out_value, bigdl_error *error)
{
    json_t *value = json_object_get(json, "isvProdID");
    if (value == NULL) {
        return error_set(error, 400, "field_missing", "isvProdID is missing");
    }
    if (json_is_integer(value)) {
        json_int_t number = json_integer_value(value);
        if (number < 0 || number > 65535) {
            return error_set(error, 400, "field_invalid",
                             "isvProdID %lld is not in the range 0 to 65535", (long long)number);
        }
        *out_value = (long)number;
        return true;
    }
    const char *text = json_is_string(value) ? json_string_value(value) : "";
    size_t length = strlen(text);
    bool valid = length >= 1 && length <= 4;
    long parsed = 0;
    for (size_t i = 0; i < length && valid; i++) {
        char c = text[i];
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        valid = digit >= 0;
        parsed = parsed * 16 + digit;
    }
    if (!valid) {
        return error_set(error, 400, "field_invalid",
                         "isvProdID \"%.16s\" is not 1 to 4 hex digits (BigDL writes ISVPRODID "
                         "in hex) or an integer 0 to 65535",
                         text);
    }
    *out_value = parsed;
    return true;
}

/* Builds the attestd policy document of a BigDL policy; docs/api-bigdl.md shows the result. */
static json_t *policy_document_build(const json_t *json, const policy_type *type, bool simulated,
                                     bigdl_error *error)
{
    json_t *section = json_object();
    for (size_t i = 0; i < type->field_count; i++) {
        const char *field = type->fields[i];
        if (strcmp(field, "isvProdID") == 0) {
            long isv_prod_id = 0;
            if (!isv_prod_id_read(json, &isv_prod_id, error)) {
                json_decref(section);
                return NULL;
            }
            json_object_set_new(section, "isvprodid", json_integer(isv_prod_id));
            /* BigDL compares no ISVSVN, so every ISVSVN passes. */
            json_object_set_new(section, "min_isvsvn", json_integer(0));
            continue;
        }
        for (size_t j = 0; j < sizeof(measurement_fields) / sizeof(measurement_fields[0]); j++) {
            if (strcmp(measurement_fields[j].field, field) == 0 &&
                !measurement_add(json, &measurement_fields[j], section, error)) {
                json_decref(section);
                return NULL;
            }
        }
    }

    json_t *statuses = json_array();
    for (size_t i = 0; i < sizeof(bigdl_tcb_statuses) / sizeof(bigdl_tcb_statuses[0]); i++) {
        json_array_append_new(statuses, json_string(bigdl_tcb_statuses[i]));
    }
    json_t *document = json_object();
    json_object_set_new(document, "evidence_types", json_pack("[s]", type->tee));
    json_object_set_new(document, type->tee, section);
    json_object_set_new(document, "accepted_tcb_statuses", statuses);
    /* BigDL's verifier passes a degraded status whatever advisories it carries. */
    json_object_set_new(document, "accepted_advisory_ids", json_string("*"));
    json_object_set_new(document, "simulated_allowed", json_boolean(simulated));
    return document;
}

/* Stores document as a new version, activates it and names it with a new policyID. */
static bool policy_register(const attestd_request *request, const char *app_id,
                            const char *document, int64_t *out_version,
                            char out_policy_id[BIGDL_UUID_TEXT_SIZE + 1], bigdl_error *error)
{
    attest_diag diag = {{0}};
    attest_policy *parsed = NULL;
    attest_err err = attest_policy_parse(document, strlen(document), &parsed, &diag);
    attest_policy_free(parsed);
    if (err != ATTEST_OK) {
        /* The fields were checked above, so this is a translation fault, not the client's. */
        return error_set(error, 500, attest_err_code(err),
                         "the translated policy does not parse: %s", diag.message);
    }

    int64_t now = (int64_t)time(NULL);
    int64_t version = 0;
    err = attestd_store_policy_put(request->store, app_id, (const uint8_t *)document,
                                   strlen(document), now, &version, &diag);
    /*
     * Only an application's first policy is activated: an active policy,
     * perhaps an administrator's stricter one, also governs /v1/attest and
     * the Azure-compatible API, which an application key must not change.
     */
    attestd_policy active;
    if (err == ATTEST_OK) {
        err = attestd_store_policy_get_active(request->store, app_id, &active, &diag);
        if (err == ATTEST_OK) {
            attestd_policy_free(&active);
        } else if (err == ATTEST_ERR_NOT_FOUND) {
            err = attestd_store_policy_activate(request->store, app_id, version, &diag);
        }
    }
    if (err != ATTEST_OK) {
        return error_set_store(error, err, &diag);
    }
    if (!uuid_generate(out_policy_id)) {
        return error_set(error, 500, "crypto_failed", "the random generator failed");
    }
    err = attestd_store_policy_id_create(request->store, out_policy_id, app_id, version, now, &diag);
    if (err != ATTEST_OK) {
        return error_set_store(error, err, &diag);
    }
    *out_version = version;
    return true;
}

char *attestd_bigdl_policy_translate(const json_t *json, const char **out_type_name,
                                     bigdl_error *error)
{
    const char *type_name = NULL;
    if (!string_field(json, "policyType", true, &type_name, error)) {
        return NULL;
    }
    const policy_type *type = policy_type_find(type_name);
    if (type == NULL) {
        error_set(error, 400, "policy_type_unsupported",
                  "policyType \"%.40s\" is not supported; supported: SGXMREnclavePolicy, "
                  "SGXMRSignerPolicy, TDXMRTDPolicy, TDXMRTDRTMRPolicy",
                  type_name);
        return NULL;
    }
    json_t *simulated = json_object_get(json, "simulatedAllowed");
    if (simulated != NULL && !json_is_boolean(simulated)) {
        error_set(error, 400, "field_invalid", "simulatedAllowed must be true or false");
        return NULL;
    }
    if (!register_fields_check(json, type, error)) {
        return NULL;
    }

    json_t *document = policy_document_build(json, type, json_is_true(simulated), error);
    if (document == NULL) {
        return NULL;
    }
    char *text = json_dumps(document, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(document);
    if (text == NULL) {
        error_set(error, 500, "out_of_memory", "out of memory");
        return NULL;
    }
    *out_type_name = type->name;
    return text;
}

void attestd_bigdl_register_policy(const attestd_request *request, attestd_response *response)
{
    bigdl_error error = {0};
    const char *app_id = NULL;
    const char *type_name = NULL;
    if (!credentials_check(request, &app_id, &error)) {
        error_respond(&error, false, response);
        return;
    }
    char *text = attestd_bigdl_policy_translate(request->json, &type_name, &error);
    if (text == NULL) {
        error_respond(&error, false, response);
        return;
    }
    int64_t version = 0;
    char policy_id[BIGDL_UUID_TEXT_SIZE + 1];
    bool registered = policy_register(request, app_id, text, &version, policy_id, &error);
    free(text);
    if (!registered) {
        error_respond(&error, false, response);
        return;
    }
    attestd_log("info", "bigdl_policy_registered",
                json_pack("{s:s, s:s, s:s, s:s, s:I}", "request_id", request->request_id,
                          "application", app_id, "policy_id", policy_id, "policy_type",
                          type_name, "policy_version", (json_int_t)version));

    json_t *body = json_object();
    json_object_set_new(body, "policyID", json_string(policy_id));
    json_object_set_new(body, "policyVersion", json_integer(version));
    attestd_response_json(response, 200, body);
}

/*
 * Loads the policy that policy_id names, which must belong to app_id, or
 * without policy_id the application's active policy.
 */
static bool verify_policy_load(const attestd_request *request, const char *app_id,
                               const char *policy_id, attestd_policy *out_stored,
                               attest_policy **out_policy, bigdl_error *error)
{
    attest_diag diag = {{0}};
    attest_err err;
    if (policy_id != NULL) {
        char owner[ATTESTD_NAME_MAX_SIZE + 1] = "";
        int64_t version = 0;
        err = attestd_store_name_valid(policy_id)
                  ? attestd_store_policy_id_get(request->store, policy_id, owner, &version, &diag)
                  : ATTEST_ERR_NOT_FOUND;
        /* Another application's policyID gets the same response as an unknown one. */
        if (err == ATTEST_ERR_NOT_FOUND || (err == ATTEST_OK && strcmp(owner, app_id) != 0)) {
            return error_set(error, 404, "policy_not_found",
                             "policyID \"%.64s\" is not a policy of appID \"%s\"", policy_id,
                             app_id);
        }
        if (err == ATTEST_OK) {
            err = attestd_store_policy_get(request->store, app_id, version, out_stored, &diag);
        }
    } else {
        err = attestd_store_policy_get_active(request->store, app_id, out_stored, &diag);
        if (err == ATTEST_ERR_NOT_FOUND) {
            return error_set(error, 404, "policy_not_found",
                             "appID \"%s\" has no active policy, and a quote is never checked "
                             "without one; register one with POST /registerPolicy",
                             app_id);
        }
    }
    if (err != ATTEST_OK) {
        return error_set_store(error, err, &diag);
    }

    err = attest_policy_parse((const char *)out_stored->document, out_stored->info.document_size,
                              out_policy, &diag);
    if (err != ATTEST_OK) {
        long long version = (long long)out_stored->info.version;
        attestd_policy_free(out_stored);
        return error_set(error, 500, attest_err_code(err),
                         "policy version %lld of appID \"%s\" no longer parses: %s", version,
                         app_id, diag.message);
    }
    return true;
}

/* Maps an evaluation to BigDL's result code. */
static int result_code(const attestd_evaluation *result)
{
    if (!result->accepted) {
        return BIGDL_RESULT_FAIL;
    }
    bool up_to_date =
        result->report->has_tcb_status && result->report->tcb_status == ATTEST_TCB_UP_TO_DATE;
    return up_to_date ? BIGDL_RESULT_PASS : BIGDL_RESULT_WARNING;
}

/* Builds the /verifyQuote response of an evaluation; docs/api-bigdl.md lists the fields. */
static void verify_respond(const attestd_evaluation *result, const char *app_id,
                           const char *policy_id, int64_t policy_version, int64_t audit_id,
                           attestd_response *response)
{
    int code = result_code(result);
    if (code == BIGDL_RESULT_FAIL) {
        /* BigDL's service returns HTTP 400 for a failed quote. */
        attestd_response_error(response, 400, result->code, "%s: %s", result->stage,
                               result->message);
        json_object_set_new(json_object_get(response->json, "error"), "stage",
                            json_string(result->stage));
    } else {
        attestd_response_json(response, 200, json_object());
    }
    json_t *body = response->json;
    const attest_report *report = result->report;
    json_object_set_new(body, "result", json_integer(code));
    json_object_set_new(body, "appID", json_string(app_id));
    json_object_set_new(body, "policyID", policy_id != NULL ? json_string(policy_id) : json_null());
    json_object_set_new(body, "policyVersion", json_integer(policy_version));
    json_object_set_new(body, "reportDataBinding", json_string(BIGDL_BINDING_RULE));
    bool has_status = result->has_report && report->has_tcb_status;
    json_object_set_new(body, "tcbStatus",
                        has_status ? json_string(attest_tcb_status_name(report->tcb_status))
                                   : json_null());
    json_object_set_new(body, "simulated", json_boolean(result->has_report && report->simulated));
    json_object_set_new(body, "auditID", json_integer(audit_id));
    json_object_set_new(body, "appraisal", result->has_appraisal
                                               ? attestd_appraisal_json(&result->appraisal, true)
                                               : json_null());
}

void attestd_bigdl_verify_quote(const attestd_request *request, attestd_response *response)
{
    static const char *const fields[] = {"appID", "apiKey", "quote", "policyID"};
    bigdl_error error = {0};
    const char *app_id = NULL;
    const char *quote_text = NULL;
    const char *policy_id = NULL;
    if (!credentials_check(request, &app_id, &error) ||
        !fields_check(request->json, fields, sizeof(fields) / sizeof(fields[0]), &error) ||
        !string_field(request->json, "quote", true, &quote_text, &error) ||
        !string_field(request->json, "policyID", false, &policy_id, &error)) {
        attestd_metrics_stage_failure(ATTESTD_STAGE_REQUEST);
        error_respond(&error, true, response);
        return;
    }
    /* BigDL's clients leave policyID out when it is empty, or send it empty. */
    if (policy_id != NULL && policy_id[0] == '\0') {
        policy_id = NULL;
    }

    uint8_t *quote = NULL;
    size_t quote_size = 0;
    if (!attestd_base64_decode(quote_text, strlen(quote_text), request->limits->max_evidence_size,
                               &quote, &quote_size) ||
        quote_size == 0) {
        free(quote);
        attestd_metrics_stage_failure(ATTESTD_STAGE_REQUEST);
        error_set(&error, 400, "evidence_invalid",
                  "quote is not standard base64 of 1 to %zu bytes",
                  request->limits->max_evidence_size);
        error_respond(&error, true, response);
        return;
    }

    attestd_policy stored;
    memset(&stored, 0, sizeof(stored));
    attest_policy *policy = NULL;
    if (!verify_policy_load(request, app_id, policy_id, &stored, &policy, &error)) {
        free(quote);
        error_respond(&error, true, response);
        return;
    }

    attestd_evaluation result;
    if (!attestd_evaluation_init(&result)) {
        error_set(&error, 500, "out_of_memory", "out of memory");
        error_respond(&error, true, response);
        goto out;
    }
    attest_report_data_binding binding = {
        .rule = BIGDL_BINDING_RULE,
        .expected = NULL,
        .size = ATTEST_REPORT_DATA_SIZE,
    };
    attestd_evaluate(request, policy, quote, quote_size, NULL, &binding, time(NULL), &result);

    /* No result without its audit record, the failed ones included. */
    attest_diag diag = {{0}};
    int64_t audit_id = 0;
    attest_err err = attestd_audit_write(request, app_id, quote, quote_size, &result,
                                         stored.info.version, NULL, NULL, 0, &audit_id, &diag);
    if (err != ATTEST_OK) {
        /* No result leaves without its record, so the metrics count a rejection. */
        attestd_evaluation_reject(&result, "audit", err, diag.message);
    }
    attestd_evaluation_count(&result);
    if (err != ATTEST_OK) {
        error_set(&error, 503, attest_err_code(err),
                  "the audit record cannot be written, so the quote gets no result: %s",
                  diag.message);
        error_respond(&error, true, response);
    } else {
        verify_respond(&result, app_id, policy_id, stored.info.version, audit_id, response);
    }
    attestd_evaluation_clear(&result);

out:
    free(quote);
    attest_policy_free(policy);
    attestd_policy_free(&stored);
}
