/*
 * HTTP frame of attestd: the libmicrohttpd daemon, the route table and the
 * checks that every request passes before its handler runs.
 *
 * NOTE: libmicrohttpd closes a connection whose response was queued before
 * its body was read. A request rejected early (413, 401, ...) therefore costs
 * the client its keep-alive connection, which is intended for hostile clients.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api_admin.h"
#include "api_attest.h"
#include "api_bigdl.h"
#include "api_azure.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"

/* Connections above max_connections that libmicrohttpd still accepts, so they get a 503 response.
 */
#define CONNECTION_MARGIN 64
#define TLS_FILE_MAX_SIZE (1024 * 1024)
#define TLS_PRIORITIES "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-SSL3.0"

enum { METHOD_GET = 1, METHOD_POST = 2, METHOD_PUT = 4, METHOD_DELETE = 8 };

typedef enum body_kind {
    BODY_NONE,
    BODY_JSON, /* application/json, parsed and depth-checked */
} body_kind;

typedef struct route {
    size_t template_index;
    unsigned method;
    unsigned role_mask; /* 0: no API key needed */
    body_kind body;
    attestd_handler handler;
} route;

#define ROLE_ADMIN (1u << ATTESTD_ROLE_ADMINISTRATOR)
#define ROLE_ANY ((1u << ATTESTD_ROLE_ADMINISTRATOR) | (1u << ATTESTD_ROLE_AUDITOR))

/* Route templates, in the order of attestd_http_route_names. */
typedef enum route_template {
    ROUTE_UNMATCHED,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_METRICS,
    ROUTE_APPLICATIONS,
    ROUTE_APPLICATION,
    ROUTE_POLICIES,
    ROUTE_POLICY,
    ROUTE_POLICY_ACTIVATE,
    ROUTE_KEYS,
    ROUTE_KEY,
    ROUTE_AUDIT,
    ROUTE_NONCE,
    ROUTE_ATTEST,
    ROUTE_DRY_RUN,
    ROUTE_JWKS,
    ROUTE_OPENID_CONFIGURATION,
    ROUTE_SIGNING_KEY_ROTATE,
    ROUTE_COLLATERAL_REFRESH,
    ROUTE_BIGDL_ENROLL,
    ROUTE_BIGDL_REGISTER_POLICY,
    ROUTE_BIGDL_VERIFY_QUOTE,
    ROUTE_AZURE_ATTEST_SGX,
    ROUTE_AZURE_ATTEST_TDX,
    ROUTE_AZURE_CERTS,
    ROUTE_AZURE_OPENID_CONFIGURATION,
    ROUTE_COUNT_
} route_template;

const char *const attestd_http_route_names[] = {
    "unmatched",
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/applications",
    "/v1/applications/{application}",
    "/v1/applications/{application}/policies",
    "/v1/applications/{application}/policies/{version}",
    "/v1/applications/{application}/policies/{version}/activate",
    "/v1/keys",
    "/v1/keys/{key}",
    "/v1/audit",
    "/v1/nonce",
    "/v1/attest",
    "/v1/applications/{application}/dry-run",
    "/.well-known/jwks.json",
    "/.well-known/openid-configuration",
    "/v1/signing-keys/rotate",
    "/v1/collateral/refresh",
    "/enroll",
    "/registerPolicy",
    "/verifyQuote",
    "/compat/azure/{application}/attest/SgxEnclave",
    "/compat/azure/{application}/attest/TdxVm",
    "/compat/azure/{application}/certs",
    "/compat/azure/{application}/.well-known/openid-configuration",
};
const size_t attestd_http_route_count =
    sizeof(attestd_http_route_names) / sizeof(attestd_http_route_names[0]);
_Static_assert(sizeof(attestd_http_route_names) / sizeof(attestd_http_route_names[0]) ==
                   ROUTE_COUNT_,
               "every route template needs a name");

static void handle_healthz(const attestd_request *request, attestd_response *response);
static void handle_readyz(const attestd_request *request, attestd_response *response);
static void handle_metrics(const attestd_request *request, attestd_response *response);

static const route routes[] = {
    {ROUTE_HEALTHZ, METHOD_GET, 0, BODY_NONE, handle_healthz},
    {ROUTE_READYZ, METHOD_GET, 0, BODY_NONE, handle_readyz},
    {ROUTE_METRICS, METHOD_GET, 0, BODY_NONE, handle_metrics},
    {ROUTE_APPLICATIONS, METHOD_POST, ROLE_ADMIN, BODY_JSON, attestd_admin_application_create},
    {ROUTE_APPLICATIONS, METHOD_GET, ROLE_ANY, BODY_NONE, attestd_admin_application_list},
    {ROUTE_APPLICATION, METHOD_GET, ROLE_ANY, BODY_NONE, attestd_admin_application_get},
    {ROUTE_APPLICATION, METHOD_DELETE, ROLE_ADMIN, BODY_NONE, attestd_admin_application_delete},
    {ROUTE_POLICIES, METHOD_PUT, ROLE_ADMIN, BODY_JSON, attestd_admin_policy_put},
    {ROUTE_POLICIES, METHOD_GET, ROLE_ANY, BODY_NONE, attestd_admin_policy_list},
    {ROUTE_POLICY, METHOD_GET, ROLE_ANY, BODY_NONE, attestd_admin_policy_get},
    {ROUTE_POLICY_ACTIVATE, METHOD_POST, ROLE_ADMIN, BODY_NONE, attestd_admin_policy_activate},
    {ROUTE_KEYS, METHOD_POST, ROLE_ADMIN, BODY_JSON, attestd_admin_key_create},
    {ROUTE_KEYS, METHOD_GET, ROLE_ANY, BODY_NONE, attestd_admin_key_list},
    {ROUTE_KEY, METHOD_DELETE, ROLE_ADMIN, BODY_NONE, attestd_admin_key_revoke},
    {ROUTE_AUDIT, METHOD_GET, ROLE_ANY, BODY_NONE, attestd_admin_audit_list},
    {ROUTE_NONCE, METHOD_POST, 0, BODY_NONE, attestd_api_nonce},
    {ROUTE_ATTEST, METHOD_POST, 0, BODY_JSON, attestd_api_attest},
    {ROUTE_DRY_RUN, METHOD_POST, ROLE_ADMIN, BODY_JSON, attestd_api_dry_run},
    {ROUTE_JWKS, METHOD_GET, 0, BODY_NONE, attestd_api_jwks},
    {ROUTE_OPENID_CONFIGURATION, METHOD_GET, 0, BODY_NONE, attestd_api_openid_configuration},
    {ROUTE_SIGNING_KEY_ROTATE, METHOD_POST, ROLE_ADMIN, BODY_NONE, attestd_api_key_rotate},
    {ROUTE_COLLATERAL_REFRESH, METHOD_POST, ROLE_ADMIN, BODY_JSON,
     attestd_api_collateral_refresh},
    /* BigDL PPML API: the handlers check appID and apiKey from the body. */
    {ROUTE_BIGDL_ENROLL, METHOD_GET, ROLE_ADMIN, BODY_NONE, attestd_bigdl_enroll},
    {ROUTE_BIGDL_REGISTER_POLICY, METHOD_POST, 0, BODY_JSON, attestd_bigdl_register_policy},
    {ROUTE_BIGDL_VERIFY_QUOTE, METHOD_POST, 0, BODY_JSON, attestd_bigdl_verify_quote},
    {ROUTE_AZURE_ATTEST_SGX, METHOD_POST, 0, BODY_JSON, attestd_azure_attest_sgx},
    {ROUTE_AZURE_ATTEST_TDX, METHOD_POST, 0, BODY_JSON, attestd_azure_attest_tdx},
    {ROUTE_AZURE_CERTS, METHOD_GET, 0, BODY_NONE, attestd_azure_certs},
    {ROUTE_AZURE_OPENID_CONFIGURATION, METHOD_GET, 0, BODY_NONE,
     attestd_azure_openid_configuration},
};

struct attestd_server {
    struct MHD_Daemon *daemon;
    attestd_store *store;
    struct attestd_service *service;
    attestd_ratelimit *limiter;
    pthread_mutex_t limits_mutex;
    attestd_limits limits;
    unsigned max_connections;
    atomic_uint open_connections;
    atomic_uint in_flight;
    atomic_bool draining; /* set by attestd_server_quiesce */
    char *tls_cert;
    char *tls_key;
    size_t tls_key_size;
};

/* State of one request across the calls of the access handler. */
typedef struct request_state {
    attestd_request request;
    attestd_limits limits;
    const route *matched;
    size_t template_index;
    struct timespec started;
    uint8_t *body;
    size_t body_size;
    size_t body_limit;
    bool rejected; /* a response is decided; remaining body bytes are discarded */
    attestd_response response;
} request_state;

void attestd_response_json(attestd_response *response, unsigned status, json_t *body)
{
    json_decref(response->json);
    response->status = status;
    response->json = body;
}

void attestd_response_error(attestd_response *response, unsigned status, const char *code,
                            const char *format, ...)
{
    char message[512];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof(message), format, arguments);
    va_end(arguments);

    free(response->raw_body);
    response->raw_body = NULL;
    snprintf(response->error_code, sizeof(response->error_code), "%s", code);
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    if (body == NULL) {
        /* The message quoted client bytes that are not valid UTF-8. */
        body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message",
                         "request contains bytes that are not valid UTF-8");
    }
    attestd_response_json(response, status, body);
}

void attestd_response_header(attestd_response *response, const char *name, const char *value)
{
    for (size_t i = 0; i < 2; i++) {
        if (response->header_name[i][0] == '\0') {
            snprintf(response->header_name[i], sizeof(response->header_name[i]), "%s", name);
            snprintf(response->header_value[i], sizeof(response->header_value[i]), "%s", value);
            return;
        }
    }
}

void attestd_response_store_error(attestd_response *response, attest_err err,
                                  const attest_diag *diag)
{
    const char *detail =
        diag != NULL && diag->message[0] != '\0' ? diag->message : attest_err_message(err);
    /* The store's own wording ("store: ...", SQLite codes) stays in the log, not the API. */
    if (strncmp(detail, "store: ", 7) == 0) {
        detail += 7;
    }
    if (err == ATTEST_ERR_ALREADY_EXISTS || strstr(detail, "SQLite code") != NULL) {
        detail = attest_err_message(err);
    }
    unsigned status;
    switch (err) {
    case ATTEST_ERR_NOT_FOUND:
        status = 404;
        break;
    case ATTEST_ERR_ALREADY_EXISTS:
    case ATTEST_ERR_STORE_INITIALIZED:
        status = 409;
        break;
    case ATTEST_ERR_ARGUMENT:
    case ATTEST_ERR_LIMIT: /* a field too long; api_admin.c checks whole bodies itself */
        status = 400;
        break;
    case ATTEST_ERR_STORE_READ_ONLY:
    case ATTEST_ERR_STORE_BUSY:
        status = 503;
        break;
    default:
        status = 500;
        break;
    }
    attestd_response_error(response, status, attest_err_code(err), "%s", detail);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static uint64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

static void handle_healthz(const attestd_request *request, attestd_response *response)
{
    (void)request;
    attestd_response_json(response, 200, json_pack("{s:s}", "status", "alive"));
}

static void handle_readyz(const attestd_request *request, attestd_response *response)
{
    bool initialized = false;
    attest_diag diag = {{0}};
    attest_err err = attestd_store_is_initialized(request->store, &initialized, &diag);
    if (err != ATTEST_OK) {
        attestd_response_error(response, 503, attest_err_code(err), "database is not reachable: %s",
                               diag.message);
        return;
    }
    if (!initialized) {
        attestd_response_error(response, 503, "store_not_initialized",
                               "database has no administrator key; run attestd init");
        return;
    }
    attestd_response_json(response, 200, json_pack("{s:s}", "status", "ready"));
}

static void handle_metrics(const attestd_request *request, attestd_response *response)
{
    (void)request;
    char *text = NULL;
    size_t size = 0;
    if (attestd_metrics_render(attestd_http_route_names, attestd_http_route_count, &text, &size) !=
        ATTEST_OK) {
        attestd_response_error(response, 500, "out_of_memory", "rendering metrics failed");
        return;
    }
    response->status = 200;
    response->raw_body = text;
    response->raw_size = size;
    response->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static unsigned method_bit(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        return METHOD_GET;
    }
    if (strcmp(method, "POST") == 0) {
        return METHOD_POST;
    }
    if (strcmp(method, "PUT") == 0) {
        return METHOD_PUT;
    }
    if (strcmp(method, "DELETE") == 0) {
        return METHOD_DELETE;
    }
    return 0;
}

/* Copies one path segment into out (capacity bytes); false when it does not fit or is empty. */
static bool copy_segment(const char *segment, size_t length, char *out, size_t capacity)
{
    if (length == 0 || length >= capacity) {
        return false;
    }
    memcpy(out, segment, length);
    out[length] = '\0';
    return true;
}

/*
 * Matches the Azure-compatible routes, /compat/azure/APPLICATION/REST, where
 * REST has one or two segments, and fills request->application.
 */
static size_t match_azure_template(const char *const *segments, const size_t *lengths,
                                   size_t count, attestd_request *request)
{
#define SEGMENT_IS(i, text)                                                                        \
    (lengths[i] == strlen(text) && memcmp(segments[i], text, lengths[i]) == 0)
    if (count < 4 || !SEGMENT_IS(1, "azure") ||
        !copy_segment(segments[2], lengths[2], request->application,
                      sizeof(request->application))) {
        return ROUTE_UNMATCHED;
    }
    if (count == 4) {
        return SEGMENT_IS(3, "certs") ? ROUTE_AZURE_CERTS : ROUTE_UNMATCHED;
    }
    if (count != 5) {
        return ROUTE_UNMATCHED;
    }
    if (SEGMENT_IS(3, ".well-known")) {
        return SEGMENT_IS(4, "openid-configuration") ? ROUTE_AZURE_OPENID_CONFIGURATION
                                                     : ROUTE_UNMATCHED;
    }
    if (!SEGMENT_IS(3, "attest")) {
        return ROUTE_UNMATCHED;
    }
    if (SEGMENT_IS(4, "SgxEnclave")) {
        return ROUTE_AZURE_ATTEST_SGX;
    }
    return SEGMENT_IS(4, "TdxVm") ? ROUTE_AZURE_ATTEST_TDX : ROUTE_UNMATCHED;
#undef SEGMENT_IS
}

/*
 * Matches url against the templates; returns the template (ROUTE_UNMATCHED
 * when none matches) and fills the path parameters of request.
 */
static size_t match_template(const char *url, attestd_request *request)
{
    const char *segments[8];
    size_t lengths[8];
    size_t count = 0;
    if (url[0] != '/') {
        return ROUTE_UNMATCHED;
    }
    const char *cursor = url + 1;
    while (*cursor != '\0') {
        const char *end = strchr(cursor, '/');
        size_t length = end != NULL ? (size_t)(end - cursor) : strlen(cursor);
        if (count == 8) {
            return ROUTE_UNMATCHED;
        }
        segments[count] = cursor;
        lengths[count] = length;
        count++;
        cursor += length;
        if (*cursor == '/') {
            cursor++;
            if (*cursor == '\0') {
                return ROUTE_UNMATCHED; /* trailing slash */
            }
        }
    }

#define SEGMENT_IS(i, text)                                                                        \
    (lengths[i] == strlen(text) && memcmp(segments[i], text, lengths[i]) == 0)
    if (count == 1 && SEGMENT_IS(0, "healthz")) {
        return ROUTE_HEALTHZ;
    }
    if (count == 1 && SEGMENT_IS(0, "readyz")) {
        return ROUTE_READYZ;
    }
    if (count == 1 && SEGMENT_IS(0, "metrics")) {
        return ROUTE_METRICS;
    }
    if (count == 1 && SEGMENT_IS(0, "enroll")) {
        return ROUTE_BIGDL_ENROLL;
    }
    if (count == 1 && SEGMENT_IS(0, "registerPolicy")) {
        return ROUTE_BIGDL_REGISTER_POLICY;
    }
    if (count == 1 && SEGMENT_IS(0, "verifyQuote")) {
        return ROUTE_BIGDL_VERIFY_QUOTE;
    }
    if (count == 2 && SEGMENT_IS(0, ".well-known")) {
        if (SEGMENT_IS(1, "jwks.json")) {
            return ROUTE_JWKS;
        }
        return SEGMENT_IS(1, "openid-configuration") ? ROUTE_OPENID_CONFIGURATION
                                                      : ROUTE_UNMATCHED;
    }
    if (count >= 1 && SEGMENT_IS(0, "compat")) {
        return match_azure_template(segments, lengths, count, request);
    }
    if (count < 2 || !SEGMENT_IS(0, "v1")) {
        return ROUTE_UNMATCHED;
    }
    if (SEGMENT_IS(1, "audit")) {
        return count == 2 ? ROUTE_AUDIT : ROUTE_UNMATCHED;
    }
    if (SEGMENT_IS(1, "nonce")) {
        return count == 2 ? ROUTE_NONCE : ROUTE_UNMATCHED;
    }
    if (SEGMENT_IS(1, "attest")) {
        return count == 2 ? ROUTE_ATTEST : ROUTE_UNMATCHED;
    }
    if (SEGMENT_IS(1, "signing-keys")) {
        return count == 3 && SEGMENT_IS(2, "rotate") ? ROUTE_SIGNING_KEY_ROTATE : ROUTE_UNMATCHED;
    }
    if (SEGMENT_IS(1, "collateral")) {
        return count == 3 && SEGMENT_IS(2, "refresh") ? ROUTE_COLLATERAL_REFRESH : ROUTE_UNMATCHED;
    }
    if (SEGMENT_IS(1, "keys")) {
        if (count == 2) {
            return ROUTE_KEYS;
        }
        bool named =
            copy_segment(segments[2], lengths[2], request->key_name, sizeof(request->key_name));
        return count == 3 && named ? ROUTE_KEY : ROUTE_UNMATCHED;
    }
    if (!SEGMENT_IS(1, "applications")) {
        return ROUTE_UNMATCHED;
    }
    if (count == 2) {
        return ROUTE_APPLICATIONS;
    }
    if (!copy_segment(segments[2], lengths[2], request->application,
                      sizeof(request->application))) {
        return ROUTE_UNMATCHED;
    }
    if (count == 3) {
        return ROUTE_APPLICATION;
    }
    if (count == 4 && SEGMENT_IS(3, "dry-run")) {
        return ROUTE_DRY_RUN;
    }
    if (!SEGMENT_IS(3, "policies")) {
        return ROUTE_UNMATCHED;
    }
    if (count == 4) {
        return ROUTE_POLICIES;
    }
    if (!copy_segment(segments[4], lengths[4], request->version, sizeof(request->version))) {
        return ROUTE_UNMATCHED;
    }
    if (count == 5) {
        return ROUTE_POLICY;
    }
    return count == 6 && SEGMENT_IS(5, "activate") ? ROUTE_POLICY_ACTIVATE : ROUTE_UNMATCHED;
#undef SEGMENT_IS
}

/* Returns the greatest nesting depth of arrays and objects in text, outside strings. */
static unsigned json_nesting_depth(const uint8_t *text, size_t size)
{
    unsigned depth = 0;
    unsigned max_depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < size; i++) {
        uint8_t c = text[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            depth++;
            if (depth > max_depth) {
                max_depth = depth;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max_depth;
}

static bool content_type_is_json(const char *value)
{
    if (value == NULL) {
        return false;
    }
    size_t length = strlen("application/json");
    if (strncasecmp(value, "application/json", length) != 0) {
        return false;
    }
    return value[length] == '\0' || value[length] == ';' || value[length] == ' ';
}

/* Reads "Bearer KEY"; returns NULL when the header is missing or has another scheme. */
static const char *bearer_key(struct MHD_Connection *connection)
{
    const char *header =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0) {
        return NULL;
    }
    const char *key = header + 7;
    while (*key == ' ') {
        key++;
    }
    return *key == '\0' ? NULL : key;
}

/* Verifies the API key and the role; sets an error response on failure. */
static bool authenticate(attestd_server *server, request_state *state)
{
    attestd_request *request = &state->request;
    attestd_response *response = &state->response;
    const char *key = bearer_key(request->connection);
    if (key == NULL) {
        attestd_response_error(response, 401, "api_key_missing",
                               "Authorization header with 'Bearer KEY' is missing");
        attestd_response_header(response, "WWW-Authenticate", "Bearer");
        return false;
    }
    if (strlen(key) > ATTESTD_API_KEY_MAX_SIZE) {
        attestd_response_error(response, 401, "api_key_unknown", "API key is not valid");
        return false;
    }

    attest_diag diag = {{0}};
    attest_err err = attestd_store_api_key_lookup(server->store, key, &request->caller, &diag);
    /* A malformed key gets the same 401 as a wrong one. */
    if (err == ATTEST_ERR_API_KEY_UNKNOWN || err == ATTEST_ERR_API_KEY_REVOKED ||
        err == ATTEST_ERR_ARGUMENT || err == ATTEST_ERR_LIMIT) {
        /* Revoked and unknown keys get the same response, so a client cannot tell them apart. */
        attestd_response_error(response, 401, "api_key_unknown", "API key is not valid");
        attestd_response_header(response, "WWW-Authenticate", "Bearer");
        return false;
    }
    if (err != ATTEST_OK) {
        attestd_response_store_error(response, err, &diag);
        return false;
    }
    request->authenticated = true;

    if ((state->matched->role_mask & (1u << request->caller.role)) == 0) {
        attestd_response_error(response, 403, "role_not_allowed",
                               "API key '%s' has a role that may not %s this resource",
                               request->caller.name, request->method);
        return false;
    }
    return true;
}

static bool declared_length(struct MHD_Connection *connection, unsigned long long *out_length)
{
    const char *header =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (header == NULL) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long length = strtoull(header, &end, 10);
    if (errno != 0 || end == header || *end != '\0') {
        return false;
    }
    *out_length = length;
    return true;
}

/* The settings behind the two body limits, as the 413 message names them. */
#define UNAUTHENTICATED_LIMIT "of a request without an Authorization header (max_unauthenticated_body_size)"
#define AUTHENTICATED_LIMIT "of an authenticated request (max_body_size)"

static void reject_too_large(attestd_response *response, size_t limit, const char *which)
{
    attestd_response_error(response, 413, "body_too_large",
                           "request body exceeds the limit of %zu bytes %s", limit, which);
}

/* Finds the route of url and method; sets a 404 or 405 response when there is none. */
static bool match_route(request_state *state, const char *url)
{
    attestd_request *request = &state->request;
    attestd_response *response = &state->response;
    state->template_index = match_template(url, request);
    if (state->template_index == ROUTE_UNMATCHED) {
        attestd_response_error(response, 404, "route_not_found", "no endpoint at this path");
        return false;
    }
    unsigned method = method_bit(request->method);
    char allowed[48] = "";
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (routes[i].template_index != state->template_index) {
            continue;
        }
        if (routes[i].method == method) {
            state->matched = &routes[i];
        }
        const char *name = routes[i].method == METHOD_GET    ? "GET"
                           : routes[i].method == METHOD_POST ? "POST"
                           : routes[i].method == METHOD_PUT  ? "PUT"
                                                             : "DELETE";
        size_t used = strlen(allowed);
        snprintf(allowed + used, sizeof(allowed) - used, "%s%s", used > 0 ? ", " : "", name);
    }
    if (state->matched == NULL) {
        attestd_response_error(response, 405, "method_not_allowed",
                               "%.16s is not allowed here; allowed: %s", request->method, allowed);
        attestd_response_header(response, "Allow", allowed);
        return false;
    }
    return true;
}

/* Runs the checks that need only the request line and headers. */
static void begin_request(attestd_server *server, request_state *state, const char *url)
{
    attestd_request *request = &state->request;
    attestd_response *response = &state->response;

    /* RFC 9112 section 6.1: both framings at once is how requests are smuggled past proxies. */
    if (MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, "Transfer-Encoding") !=
            NULL &&
        MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, "Content-Length") !=
            NULL) {
        attestd_response_error(response, 400, "request_ambiguous",
                               "the request has both Content-Length and Transfer-Encoding");
        attestd_response_header(response, "Connection", "close");
        return;
    }

    if (atomic_load(&server->draining)) {
        attestd_response_error(response, 503, "shutting_down",
                               "the server is stopping; retry with another replica or later");
        attestd_response_header(response, "Retry-After", "1");
        return;
    }

    if (atomic_load(&server->open_connections) > server->max_connections) {
        attestd_response_error(response, 503, "too_many_connections",
                               "the server has more than %u open connections; retry later",
                               server->max_connections);
        attestd_response_header(response, "Retry-After", "1");
        return;
    }

    unsigned retry_after = 0;
    if (!attestd_ratelimit_take(server->limiter, request->client_address, monotonic_ms(),
                                &retry_after)) {
        char value[16];
        snprintf(value, sizeof(value), "%u", retry_after);
        attestd_response_error(response, 429, "rate_limited",
                               "too many requests from %s; retry after %u seconds",
                               request->client_address, retry_after);
        attestd_response_header(response, "Retry-After", value);
        return;
    }

    if (!match_route(state, url)) {
        return;
    }

    /*
     * A request without credentials gets the tighter limit before any
     * database lookup; one with credentials has them checked first.
     */
    unsigned long long length = 0;
    bool has_length = declared_length(request->connection, &length);
    bool has_credentials = MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_AUTHORIZATION) != NULL;
    state->body_limit = state->limits.max_unauthenticated_body_size;
    if (!has_credentials && has_length && length > state->body_limit) {
        reject_too_large(response, state->body_limit, UNAUTHENTICATED_LIMIT);
        return;
    }

    if (state->matched->role_mask != 0) {
        if (!authenticate(server, state)) {
            return;
        }
        state->body_limit = state->limits.max_body_size;
    }
    if (has_length && length > state->body_limit) {
        reject_too_large(response, state->body_limit, AUTHENTICATED_LIMIT);
        return;
    }

    if (state->matched->body == BODY_JSON) {
        const char *type = MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!content_type_is_json(type)) {
            attestd_response_error(response, 415, "unsupported_media_type",
                                   "Content-Type is '%.64s'; expected application/json",
                                   type != NULL ? type : "");
        }
    }
}

/* Appends upload bytes; sets a 413 response once the limit is exceeded. */
static void append_body(request_state *state, const char *data, size_t size)
{
    if (size > state->body_limit - state->body_size) {
        reject_too_large(&state->response, state->body_limit,
                         state->request.authenticated ? AUTHENTICATED_LIMIT
                                                      : UNAUTHENTICATED_LIMIT);
        free(state->body);
        state->body = NULL;
        state->body_size = 0;
        state->rejected = true;
        return;
    }

    uint8_t *grown = realloc(state->body, state->body_size + size + 1);
    if (grown == NULL) {
        attestd_response_error(&state->response, 500, "out_of_memory", "request body buffer");
        state->rejected = true;
        return;
    }
    memcpy(grown + state->body_size, data, size);
    state->body = grown;
    state->body_size += size;
    state->body[state->body_size] = '\0';
}

/* Checks and parses the body, then runs the handler. */
static void run_handler(request_state *state)
{
    attestd_request *request = &state->request;
    attestd_response *response = &state->response;
    json_t *parsed = NULL;

    request->body = state->body != NULL ? state->body : (const uint8_t *)"";
    request->body_size = state->body_size;
    if (state->matched->body == BODY_JSON) {
        if (state->body_size == 0) {
            attestd_response_error(response, 400, "body_missing", "request body is empty");
            return;
        }
        unsigned depth = json_nesting_depth(state->body, state->body_size);
        if (depth > state->limits.max_json_depth) {
            attestd_response_error(response, 400, "json_too_deep",
                                   "JSON nesting depth %u exceeds the limit %u", depth,
                                   state->limits.max_json_depth);
            return;
        }
        json_error_t error;
        parsed =
            json_loadb((const char *)state->body, state->body_size, JSON_REJECT_DUPLICATES, &error);
        if (parsed == NULL) {
            attestd_response_error(response, 400, "json_malformed",
                                   "invalid JSON at line %d column %d: %s", error.line,
                                   error.column, error.text);
            return;
        }
        if (!json_is_object(parsed)) {
            json_decref(parsed);
            attestd_response_error(response, 400, "json_malformed",
                                   "request body is not a JSON object");
            return;
        }
        request->json = parsed;
    }

    state->matched->handler(request, response);
    request->json = NULL;
    json_decref(parsed);
    if (response->status == 0) {
        attestd_response_error(response, 500, "internal_error", "handler set no response");
    }
}

static void log_failure(const request_state *state)
{
    const attestd_response *response = &state->response;
    const char *message = "";
    json_t *error = json_object_get(json_object_get(response->json, "error"), "message");
    if (json_is_string(error)) {
        message = json_string_value(error);
    }
    attestd_request_failure failure = {
        .status = response->status,
        .method = state->request.method,
        .route = attestd_http_route_names[state->template_index],
        .request_id = state->request.request_id,
        .application = state->request.application,
        .client_address = state->request.client_address,
        .error_code = response->error_code,
        .message = message,
    };
    attestd_log_request_failure(&failure);
}

static enum MHD_Result send_response(request_state *state)
{
    attestd_response *response = &state->response;
    char *text = NULL;
    size_t size = 0;
    const char *content_type = "application/json";
    if (response->raw_body != NULL) {
        text = response->raw_body;
        size = response->raw_size;
        response->raw_body = NULL;
        content_type = response->content_type != NULL ? response->content_type : content_type;
    } else if (response->json != NULL) {
        text = json_dumps(response->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text == NULL) {
            return MHD_NO;
        }
        size = strlen(text);
    }

    struct MHD_Response *reply = MHD_create_response_from_buffer(
        size, text != NULL ? text : (char *)"", MHD_RESPMEM_MUST_COPY);
    free(text);
    if (reply == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(reply, "X-Request-Id", state->request.request_id);
    if (size > 0) {
        MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    }
    for (size_t i = 0; i < 2; i++) {
        if (response->header_name[i][0] != '\0') {
            MHD_add_response_header(reply, response->header_name[i], response->header_value[i]);
        }
    }

    if (response->status >= 400) {
        log_failure(state);
    }
    attestd_metrics_request(state->template_index, response->status,
                            seconds_since(&state->started));
    enum MHD_Result result = MHD_queue_response(state->request.connection, response->status, reply);
    MHD_destroy_response(reply);
    return result;
}

static void client_address_text(struct MHD_Connection *connection, char *out, size_t capacity)
{
    snprintf(out, capacity, "%s", "unknown");
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) {
        return;
    }
    const struct sockaddr *address = info->client_addr;
    if (address->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)address)->sin_addr, out,
                  (socklen_t)capacity);
    } else if (address->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)address)->sin6_addr, out,
                  (socklen_t)capacity);
    }
}

static request_state *create_state(attestd_server *server, struct MHD_Connection *connection,
                                   const char *method)
{
    request_state *state = calloc(1, sizeof(*state));
    if (state == NULL) {
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &state->started);
    pthread_mutex_lock(&server->limits_mutex);
    state->limits = server->limits;
    pthread_mutex_unlock(&server->limits_mutex);

    attestd_request *request = &state->request;
    request->connection = connection;
    request->store = server->store;
    request->service = server->service;
    request->limits = &state->limits;
    request->method = method;
    client_address_text(connection, request->client_address, sizeof(request->client_address));

    uint8_t id[ATTESTD_REQUEST_ID_SIZE / 2];
    if (RAND_bytes(id, sizeof(id)) != 1) {
        free(state);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(id); i++) {
        snprintf(request->request_id + 2 * i, 3, "%02x", id[i]);
    }
    return state;
}

static enum MHD_Result handle_access(void *cls, struct MHD_Connection *connection, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **con_cls)
{
    (void)version;
    attestd_server *server = cls;
    request_state *state = *con_cls;

    if (state == NULL) {
        state = create_state(server, connection, method);
        if (state == NULL) {
            return MHD_NO;
        }
        *con_cls = state;
        atomic_fetch_add(&server->in_flight, 1);
        begin_request(server, state, url);
        if (state->response.status != 0) {
            state->rejected = true;
            return send_response(state);
        }
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        if (!state->rejected) {
            append_body(state, upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (state->response.status == 0) {
        run_handler(state);
    }
    return send_response(state);
}

static void handle_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                             enum MHD_RequestTerminationCode code)
{
    (void)connection;
    (void)code;
    attestd_server *server = cls;
    request_state *state = *con_cls;
    if (state == NULL) {
        return;
    }
    json_decref(state->response.json);
    free(state->response.raw_body);
    free(state->body);
    free(state);
    *con_cls = NULL;
    atomic_fetch_sub(&server->in_flight, 1);
}

static void handle_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    (void)connection;
    (void)socket_context;
    attestd_server *server = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&server->open_connections, 1);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&server->open_connections, 1);
    }
}

static void log_daemon_message(void *cls, const char *format, va_list arguments)
{
    (void)cls;
    char message[512];
    vsnprintf(message, sizeof(message), format, arguments);
    size_t length = strlen(message);
    while (length > 0 && message[length - 1] == '\n') {
        message[--length] = '\0';
    }
    attestd_log("warning", "http_library", json_pack("{s:s}", "message", message));
}

/* Reads a whole PEM file into a NUL-terminated buffer. */
ATTEST_MUST_USE static attest_err read_pem_file(const char *path, char **out_text, size_t *out_size,
                                                attest_diag *diag)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot open TLS file %s: %s", path,
                               strerror(errno));
    }
    char *text = malloc(TLS_FILE_MAX_SIZE + 1);
    if (text == NULL) {
        fclose(file);
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t size = fread(text, 1, TLS_FILE_MAX_SIZE + 1, file);
    bool failed = ferror(file) != 0;
    fclose(file);
    if (failed || size == 0 || size > TLS_FILE_MAX_SIZE) {
        OPENSSL_cleanse(text, TLS_FILE_MAX_SIZE + 1);
        free(text);
        return attest_diag_set(diag, ATTEST_ERR_IO,
                               "TLS file %s is empty, unreadable or larger than %d bytes", path,
                               TLS_FILE_MAX_SIZE);
    }
    text[size] = '\0';
    *out_text = text;
    *out_size = size;
    return ATTEST_OK;
}

static void free_server(attestd_server *server)
{
    attestd_ratelimit_free(server->limiter);
    free(server->tls_cert);
    if (server->tls_key != NULL) {
        OPENSSL_cleanse(server->tls_key, server->tls_key_size);
        free(server->tls_key);
    }
    pthread_mutex_destroy(&server->limits_mutex);
    free(server);
}

/* Fills address from the configured literal and port. */
ATTEST_MUST_USE static attest_err listen_address(const attestd_config *config,
                                                 struct sockaddr_storage *out_address,
                                                 bool *out_ipv6, attest_diag *diag)
{
    struct sockaddr_storage address;
    memset(&address, 0, sizeof(address));
    struct sockaddr_in *ipv4 = (struct sockaddr_in *)&address;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *)&address;
    if (inet_pton(AF_INET, config->listen_address, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons(config->listen_port);
        *out_ipv6 = false;
    } else if (inet_pton(AF_INET6, config->listen_address, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons(config->listen_port);
        *out_ipv6 = true;
    } else {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "listen_address '%s' is not an IP address", config->listen_address);
    }
    *out_address = address;
    return ATTEST_OK;
}

attest_err attestd_server_start(const attestd_config *config, attestd_store *store,
                                struct attestd_service *service,
                                attestd_server **out_server, attest_diag *diag)
{
    struct sockaddr_storage address;
    bool ipv6 = false;
    attest_err err = listen_address(config, &address, &ipv6, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attestd_server *server = calloc(1, sizeof(*server));
    if (server == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "out of memory creating the server");
    }
    pthread_mutex_init(&server->limits_mutex, NULL);
    server->store = store;
    server->service = service;
    server->limits = config->limits;
    server->max_connections = config->max_connections;
    if (attestd_ratelimit_create(config->limits.rate_limit_per_second,
                                 config->limits.rate_limit_burst, &server->limiter) != ATTEST_OK) {
        free_server(server);
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "out of memory creating the rate limiter");
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES) {
        flags |= MHD_USE_EPOLL;
    }
    if (ipv6) {
        flags |= MHD_USE_IPv6;
    }
    if (!config->insecure_http) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            free_server(server);
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "libmicrohttpd was built without TLS; set insecure_http only "
                                   "behind a TLS-terminating proxy");
        }
        size_t cert_size = 0;
        err = read_pem_file(config->tls_cert_file, &server->tls_cert, &cert_size, diag);
        if (err == ATTEST_OK) {
            err =
                read_pem_file(config->tls_key_file, &server->tls_key, &server->tls_key_size, diag);
        }
        if (err != ATTEST_OK) {
            free_server(server);
            return err;
        }
        flags |= MHD_USE_TLS;
    }

    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, server->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, server->tls_key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, NULL}};

    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle_access, server, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&address, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)config->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(config->max_connections + CONNECTION_MARGIN),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)config->max_connections_per_client,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)config->connection_timeout_seconds,
        MHD_OPTION_NOTIFY_COMPLETED, handle_completed, server, MHD_OPTION_NOTIFY_CONNECTION,
        handle_connection, server, MHD_OPTION_EXTERNAL_LOGGER, log_daemon_message, NULL,
        MHD_OPTION_ARRAY, config->insecure_http ? no_options : tls_options, MHD_OPTION_END);
    if (server->daemon == NULL) {
        free_server(server);
        return attest_diag_set(diag, ATTEST_ERR_IO,
                               "cannot listen on %s port %u (address in use, or TLS certificate "
                               "and key invalid)",
                               config->listen_address, (unsigned)config->listen_port);
    }

    *out_server = server;
    return ATTEST_OK;
}

void attestd_server_set_limits(attestd_server *server, const attestd_limits *limits)
{
    pthread_mutex_lock(&server->limits_mutex);
    server->limits = *limits;
    pthread_mutex_unlock(&server->limits_mutex);
    attestd_ratelimit_configure(server->limiter, limits->rate_limit_per_second,
                                limits->rate_limit_burst);
}

void attestd_server_quiesce(attestd_server *server)
{
    /*
     * New requests are answered 503 while the ones in flight finish.
     * NOTE: MHD_quiesce_daemon is not used, because libmicrohttpd 0.9.75
     * with a thread pool and epoll can abort in it ("Failed to remove
     * listen FD from epoll set"), as seen in this project's service tests.
     */
    atomic_store(&server->draining, true);
}

unsigned attestd_server_in_flight(const attestd_server *server)
{
    return atomic_load(&server->in_flight);
}

void attestd_server_stop(attestd_server *server)
{
    if (server == NULL) {
        return;
    }
    MHD_stop_daemon(server->daemon);
    free_server(server);
}
