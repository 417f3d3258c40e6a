/*
 * Handlers of the administration API. The HTTP frame has already checked
 * the API key, the role, the body size, the content type and the JSON
 * syntax and depth. The handlers check the fields and call the store.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <attest/policy.h>

#include "api_admin.h"
#include "service.h"

#define AUDIT_DEFAULT_LIMIT 100

attest_err attestd_api_key_generate(char out_key[ATTESTD_API_KEY_TEXT_SIZE + 1])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t random[32];
    if (RAND_bytes(random, sizeof(random)) != 1) {
        return ATTEST_ERR_CRYPTO;
    }

    /* base64url without padding: 32 bytes give 42 full sextets and 2 bits more. */
    char key[ATTESTD_API_KEY_TEXT_SIZE + 1];
    size_t out = 0;
    uint32_t bits = 0;
    int bit_count = 0;
    for (size_t i = 0; i < sizeof(random); i++) {
        bits = (bits << 8) | random[i];
        bit_count += 8;
        while (bit_count >= 6) {
            bit_count -= 6;
            key[out++] = alphabet[(bits >> bit_count) & 0x3f];
        }
    }
    if (bit_count > 0) {
        key[out++] = alphabet[(bits << (6 - bit_count)) & 0x3f];
    }
    key[out] = '\0';
    OPENSSL_cleanse(random, sizeof(random));

    memcpy(out_key, key, sizeof(key));
    OPENSSL_cleanse(key, sizeof(key));
    return ATTEST_OK;
}

static void sha256_hex(const uint8_t digest[ATTESTD_SHA256_SIZE],
                       char out[2 * ATTESTD_SHA256_SIZE + 1])
{
    for (size_t i = 0; i < ATTESTD_SHA256_SIZE; i++) {
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
}

static const char *role_name(attestd_role role)
{
    switch (role) {
    case ATTESTD_ROLE_ADMINISTRATOR:
        return "administrator";
    case ATTESTD_ROLE_AUDITOR:
        return "auditor";
    }
    return "unknown";
}

/*
 * Reads the string field name of the request body; rejects any key not in
 * allowed (NULL-terminated). Sets a 400 response and returns NULL on error.
 */
static const char *body_string(const attestd_request *request, attestd_response *response,
                               const char *name, const char *const *allowed)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)request->json, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL; i++) {
            known = known || strcmp(key, allowed[i]) == 0;
        }
        if (!known) {
            attestd_response_error(response, 400, "field_unknown",
                                   "request body has the unknown field '%.64s'", key);
            return NULL;
        }
    }

    const json_t *field = json_object_get(request->json, name);
    if (!json_is_string(field)) {
        attestd_response_error(response, 400, "field_invalid",
                               "request body field '%s' is missing or not a string", name);
        return NULL;
    }
    return json_string_value(field);
}

/* Parses a policy version from the path: decimal, 1 or more. */
static bool parse_version(const attestd_request *request, attestd_response *response,
                          int64_t *out_version)
{
    const char *text = request->version;
    char *end = NULL;
    errno = 0;
    long long version = strtoll(text, &end, 10);
    if (text[0] < '1' || text[0] > '9' || errno != 0 || *end != '\0' || version < 1) {
        attestd_response_error(response, 400, "version_invalid",
                               "policy version '%.24s' is not a positive decimal integer", text);
        return false;
    }
    *out_version = version;
    return true;
}

void attestd_admin_application_create(const attestd_request *request, attestd_response *response)
{
    static const char *const allowed[] = {"name", NULL};
    const char *name = body_string(request, response, "name", allowed);
    if (name == NULL) {
        return;
    }

    attest_diag diag = {{0}};
    int64_t now = time(NULL);
    int64_t id = 0;
    attest_err err = attestd_store_application_create(request->store, name, now, &id, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }
    attestd_response_json(response, 201,
                          json_pack("{s:s, s:I}", "name", name, "created_at", (json_int_t)now));
}

void attestd_admin_application_list(const attestd_request *request, attestd_response *response)
{
    attestd_application_list list = {0};
    attest_diag diag = {{0}};
    attest_err err = attestd_store_application_list(request->store, &list, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }

    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++) {
        json_array_append_new(items, json_pack("{s:s, s:I}", "name", list.items[i].name,
                                               "created_at", (json_int_t)list.items[i].created_at));
    }
    attestd_application_list_free(&list);
    attestd_response_json(response, 200, json_pack("{s:o}", "applications", items));
}

void attestd_admin_application_get(const attestd_request *request, attestd_response *response)
{
    attestd_application application;
    attest_diag diag = {{0}};
    attest_err err =
        attestd_store_application_get(request->store, request->application, &application, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }
    attestd_policy_version_list versions = {0};
    err = attestd_store_policy_list(request->store, request->application, &versions, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }

    json_t *active = json_null();
    for (size_t i = 0; i < versions.count; i++) {
        if (versions.items[i].active) {
            json_decref(active);
            active = json_integer(versions.items[i].version);
        }
    }
    json_t *body = json_pack("{s:s, s:I, s:I, s:o}", "name", application.name, "created_at",
                             (json_int_t)application.created_at, "policy_count",
                             (json_int_t)versions.count, "active_policy_version", active);
    attestd_policy_version_list_free(&versions);
    attestd_response_json(response, 200, body);
}

void attestd_admin_application_delete(const attestd_request *request, attestd_response *response)
{
    attest_diag diag = {{0}};
    attest_err err = attestd_store_application_delete(request->store, request->application, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }
    attestd_response_json(response, 200,
                          json_pack("{s:s, s:b}", "name", request->application, "deleted", 1));
}

static json_t *policy_version_json(const attestd_policy_version *version)
{
    char digest[2 * ATTESTD_SHA256_SIZE + 1];
    sha256_hex(version->sha256, digest);
    return json_pack("{s:I, s:s, s:I, s:I, s:b}", "version", (json_int_t)version->version, "sha256",
                     digest, "size", (json_int_t)version->document_size, "created_at",
                     (json_int_t)version->created_at, "active", version->active);
}

void attestd_admin_policy_put(const attestd_request *request, attestd_response *response)
{
    if (request->body_size > ATTESTD_POLICY_MAX_SIZE) {
        attestd_response_error(response, 413, "body_too_large",
                               "policy is %zu bytes, more than the maximum %d", request->body_size,
                               ATTESTD_POLICY_MAX_SIZE);
        return;
    }
    attest_diag diag = {{0}};
    attest_policy *policy = NULL;
    attest_err err =
        attest_policy_parse((const char *)request->body, request->body_size, &policy, &diag);
    if (err != ATTEST_OK) {
        attestd_response_error(response, err == ATTEST_ERR_LIMIT ? 413 : 400, attest_err_code(err),
                               "policy is invalid: %s",
                               diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return;
    }
    /* A lifetime above the service's maximum could never be honoured: refuse it now. */
    uint32_t lifetime = attest_policy_token_lifetime(policy);
    attest_policy_free(policy);
    if (request->service != NULL && lifetime > attestd_service_max_token_lifetime(request->service)) {
        attestd_response_error(response, 400, "policy_invalid",
                               "token_lifetime_seconds %u exceeds this service's "
                               "max_token_lifetime_seconds %u: lower it, or raise the setting",
                               lifetime, attestd_service_max_token_lifetime(request->service));
        return;
    }

    int64_t version = 0;
    err = attestd_store_policy_put(request->store, request->application, request->body,
                                   request->body_size, time(NULL), &version, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }

    attestd_policy stored = {0};
    err = attestd_store_policy_get(request->store, request->application, version, &stored, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }
    json_t *body = policy_version_json(&stored.info);
    json_object_set_new(body, "application", json_string(request->application));
    attestd_policy_free(&stored);
    attestd_response_json(response, 201, body);
}

void attestd_admin_policy_list(const attestd_request *request, attestd_response *response)
{
    attest_diag diag = {{0}};
    attestd_application application;
    attest_err err =
        attestd_store_application_get(request->store, request->application, &application, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }
    attestd_policy_version_list versions = {0};
    err = attestd_store_policy_list(request->store, request->application, &versions, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }

    json_t *items = json_array();
    for (size_t i = 0; i < versions.count; i++) {
        json_array_append_new(items, policy_version_json(&versions.items[i]));
    }
    attestd_policy_version_list_free(&versions);
    attestd_response_json(
        response, 200,
        json_pack("{s:s, s:o}", "application", request->application, "policies", items));
}

void attestd_admin_policy_get(const attestd_request *request, attestd_response *response)
{
    int64_t version = 0;
    if (!parse_version(request, response, &version)) {
        return;
    }
    attest_diag diag = {{0}};
    attestd_policy policy = {0};
    attest_err err =
        attestd_store_policy_get(request->store, request->application, version, &policy, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }

    /* The document goes back byte for byte; its metadata travels in headers. */
    char *copy = malloc(policy.info.document_size + 1);
    if (copy == NULL) {
        attestd_policy_free(&policy);
        attestd_response_error(response, 500, "out_of_memory", "copying the policy failed");
        return;
    }
    memcpy(copy, policy.document, policy.info.document_size);
    char digest[2 * ATTESTD_SHA256_SIZE + 3];
    digest[0] = '"';
    sha256_hex(policy.info.sha256, digest + 1);
    snprintf(digest + 1 + 2 * ATTESTD_SHA256_SIZE, 2, "%s", "\"");
    response->status = 200;
    response->raw_body = copy;
    response->raw_size = policy.info.document_size;
    response->content_type = "application/json";
    attestd_response_header(response, "ETag", digest);
    attestd_response_header(response, "X-Policy-Active", policy.info.active ? "true" : "false");
    attestd_policy_free(&policy);
}

void attestd_admin_policy_activate(const attestd_request *request, attestd_response *response)
{
    int64_t version = 0;
    if (!parse_version(request, response, &version)) {
        return;
    }
    attest_diag diag = {{0}};
    attest_err err =
        attestd_store_policy_activate(request->store, request->application, version, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }
    attestd_response_json(response, 200,
                          json_pack("{s:s, s:I, s:b}", "application", request->application,
                                    "version", (json_int_t)version, "active", 1));
}

void attestd_admin_key_create(const attestd_request *request, attestd_response *response)
{
    static const char *const allowed[] = {"name", "role", NULL};
    const char *name = body_string(request, response, "name", allowed);
    if (name == NULL) {
        return;
    }
    const char *role_text = body_string(request, response, "role", allowed);
    if (role_text == NULL) {
        return;
    }
    attestd_role role;
    if (strcmp(role_text, "administrator") == 0) {
        role = ATTESTD_ROLE_ADMINISTRATOR;
    } else if (strcmp(role_text, "auditor") == 0) {
        role = ATTESTD_ROLE_AUDITOR;
    } else {
        attestd_response_error(response, 400, "field_invalid",
                               "role '%.32s' is not \"administrator\" or \"auditor\"", role_text);
        return;
    }

    char key[ATTESTD_API_KEY_TEXT_SIZE + 1];
    if (attestd_api_key_generate(key) != ATTEST_OK) {
        attestd_response_error(response, 500, "crypto_error", "generating a random key failed");
        return;
    }
    attest_diag diag = {{0}};
    int64_t now = time(NULL);
    int64_t id = 0;
    attest_err err = attestd_store_api_key_create(request->store, name, role, key, now, &id, &diag);
    if (err != ATTEST_OK) {
        OPENSSL_cleanse(key, sizeof(key));
        attestd_response_store_error(response, err, &diag);
        return;
    }
    attestd_response_json(response, 201,
                          json_pack("{s:s, s:s, s:s, s:I}", "name", name, "role", role_text, "key",
                                    key, "created_at", (json_int_t)now));
    OPENSSL_cleanse(key, sizeof(key));
}

void attestd_admin_key_list(const attestd_request *request, attestd_response *response)
{
    attestd_api_key_list list = {0};
    attest_diag diag = {{0}};
    attest_err err = attestd_store_api_key_list(request->store, &list, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }

    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++) {
        const attestd_api_key *key = &list.items[i];
        json_t *revoked = key->revoked_at != 0 ? json_integer(key->revoked_at) : json_null();
        json_array_append_new(items, json_pack("{s:s, s:s, s:I, s:o}", "name", key->name, "role",
                                               role_name(key->role), "created_at",
                                               (json_int_t)key->created_at, "revoked_at", revoked));
    }
    attestd_api_key_list_free(&list);
    attestd_response_json(response, 200, json_pack("{s:o}", "keys", items));
}

void attestd_admin_key_revoke(const attestd_request *request, attestd_response *response)
{
    attest_diag diag = {{0}};
    int64_t now = time(NULL);
    attest_err err = attestd_store_api_key_revoke(request->store, request->key_name, now, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }
    attestd_response_json(response, 200,
                          json_pack("{s:s, s:b}", "name", request->key_name, "revoked", 1));
}

/* Reads a query parameter as a non-negative decimal integer; absent leaves *out_value. */
static bool query_integer(const attestd_request *request, attestd_response *response,
                          const char *name, bool *out_present, int64_t *out_value)
{
    const char *text =
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
    if (text == NULL) {
        *out_present = false;
        return true;
    }
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0') {
        attestd_response_error(response, 400, "query_invalid",
                               "query parameter %s '%.24s' is not a non-negative integer", name,
                               text);
        return false;
    }
    *out_present = true;
    *out_value = value;
    return true;
}

/* Stores the first query parameter that the audit list does not take into *cls. */
static enum MHD_Result audit_query_unknown(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value)
{
    (void)kind;
    (void)value;
    static const char *const known[] = {"application", "verdict", "since", "until", "limit"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(key, known[i]) == 0) {
            return MHD_YES;
        }
    }
    *(const char **)cls = key;
    return MHD_NO;
}

/* Fills the audit filter from the query; sets a 400 response on error. */
static bool audit_filter_from_query(const attestd_request *request, attestd_response *response,
                                    attestd_audit_filter *out_filter)
{
    attestd_audit_filter filter = {.verdict = ATTESTD_VERDICT_ANY, .limit = AUDIT_DEFAULT_LIMIT};
    /* A misspelt filter such as "aplication" would list every record, so it is an error. */
    const char *unknown = NULL;
    MHD_get_connection_values(request->connection, MHD_GET_ARGUMENT_KIND, audit_query_unknown,
                              &unknown);
    if (unknown != NULL) {
        attestd_response_error(response, 400, "query_invalid",
                               "unknown query parameter '%.40s'; the audit list takes "
                               "application, verdict, since, until and limit",
                               unknown);
        return false;
    }
    filter.application =
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "application");

    const char *verdict =
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "verdict");
    if (verdict != NULL && strcmp(verdict, "accepted") == 0) {
        filter.verdict = ATTESTD_VERDICT_ACCEPTED;
    } else if (verdict != NULL && strcmp(verdict, "rejected") == 0) {
        filter.verdict = ATTESTD_VERDICT_REJECTED;
    } else if (verdict != NULL) {
        attestd_response_error(response, 400, "query_invalid",
                               "verdict '%.24s' is not \"accepted\" or \"rejected\"", verdict);
        return false;
    }

    int64_t limit = AUDIT_DEFAULT_LIMIT;
    bool has_limit = false;
    if (!query_integer(request, response, "since", &filter.has_time_from, &filter.time_from) ||
        !query_integer(request, response, "until", &filter.has_time_to, &filter.time_to) ||
        !query_integer(request, response, "limit", &has_limit, &limit)) {
        return false;
    }
    if (limit < 1 || limit > ATTESTD_AUDIT_LIST_MAX_COUNT) {
        attestd_response_error(response, 400, "query_invalid",
                               "limit %" PRId64 " is outside the range 1 to %d", limit,
                               ATTESTD_AUDIT_LIST_MAX_COUNT);
        return false;
    }
    filter.limit = (size_t)limit;
    *out_filter = filter;
    return true;
}

static json_t *audit_record_json(const attestd_audit_record *record)
{
    char digest[2 * ATTESTD_SHA256_SIZE + 1];
    sha256_hex(record->evidence_sha256, digest);
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "id",
                     (json_int_t)record->id, "time", (json_int_t)record->time, "application",
                     record->application, "evidence_type", record->evidence_type, "evidence_sha256",
                     digest, "verdict",
                     record->verdict == ATTESTD_VERDICT_ACCEPTED ? "accepted" : "rejected",
                     "failing_check", record->failing_check, "policy_version",
                     (json_int_t)record->policy_version, "token_id", record->token_id,
                     "client_address", record->client_address, "request_id", record->request_id);
}

void attestd_admin_audit_list(const attestd_request *request, attestd_response *response)
{
    attestd_audit_filter filter;
    if (!audit_filter_from_query(request, response, &filter)) {
        return;
    }
    attestd_audit_list list = {0};
    attest_diag diag = {{0}};
    attest_err err = attestd_store_audit_list(request->store, &filter, &list, &diag);
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return;
    }

    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++) {
        json_array_append_new(items, audit_record_json(&list.items[i]));
    }
    attestd_audit_list_free(&list);
    attestd_response_json(response, 200, json_pack("{s:o}", "records", items));
}
