/*
 * HTTP frame of attestd on libmicrohttpd: routing, limits, authentication,
 * request ids, JSON errors, metrics and failure logs. Endpoint handlers
 * (api_admin.c and later the attestation API) receive a checked request and
 * fill a response.
 *
 * Every request passes these checks, cheapest first:
 * - open connections (503) and the rate limit by client address (429);
 * - route and method (404, 405);
 * - without an Authorization header, the declared body size against the
 *   unauthenticated limit (413);
 * - API key (401) and role (403), then the authenticated body limit (413);
 * - content type (415), then JSON depth and syntax (400).
 *
 * Thread safety: handlers run on the server's worker threads, several at a
 * time; the store they use is thread-safe.
 */
#ifndef ATTESTD_HTTP_H
#define ATTESTD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "store.h"

#define ATTESTD_REQUEST_ID_SIZE 32 /* hex characters */

/* One checked request passed to a handler, valid until the handler returns. */
struct attestd_service;

typedef struct attestd_request {
    struct MHD_Connection *connection;
    attestd_store *store;
    struct attestd_service *service; /* attestation state (service.h) */
    const attestd_limits *limits;
    const char *method;
    char request_id[ATTESTD_REQUEST_ID_SIZE + 1];
    char client_address[ATTESTD_CLIENT_ADDRESS_MAX_SIZE + 1];
    /* Path parameters, empty when the route has none. */
    char application[ATTESTD_NAME_MAX_SIZE + 1];
    char key_name[ATTESTD_NAME_MAX_SIZE + 1];
    char version[24];
    /* Caller's key, set on routes that require a role. */
    bool authenticated;
    attestd_api_key caller;
    /* Body bytes (NUL-terminated, the NUL not counted) and, for JSON routes, the parsed body. */
    const uint8_t *body;
    size_t body_size;
    const json_t *json;
} attestd_request;

/* A handler's result: a JSON object, or raw bytes with their content type. */
typedef struct attestd_response {
    unsigned status;
    json_t *json;
    char *raw_body; /* freed with free */
    size_t raw_size;
    const char *content_type;
    char error_code[64];
    char header_name[2][32];
    char header_value[2][96];
} attestd_response;

typedef void (*attestd_handler)(const attestd_request *request, attestd_response *response);

/* Sets an error response: {"error": {"code": code, "message": ...}}. */
void attestd_response_error(attestd_response *response, unsigned status, const char *code,
                            const char *format, ...) ATTEST_PRINTF(4, 5);

/* Sets a JSON response and takes the reference of body. */
void attestd_response_json(attestd_response *response, unsigned status, json_t *body);

/* Adds a response header; at most two per response. */
void attestd_response_header(attestd_response *response, const char *name, const char *value);

/*
 * Maps a store error to a response: 404 not found, 409 already exists, 400
 * invalid argument or a field over its size limit, 503 read-only or busy
 * database, 500 otherwise.
 */
void attestd_response_store_error(attestd_response *response, attest_err err,
                                  const attest_diag *diag);

/* Names of the route templates, the label values of the request metrics. */
extern const char *const attestd_http_route_names[];
extern const size_t attestd_http_route_count;

typedef struct attestd_server attestd_server;

/*
 * Starts listening with config; store and service stay owned by the caller
 * and must outlive the server. Errors: ATTEST_ERR_IO (TLS files, bind), ATTEST_ERR_ARGUMENT,
 * ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attestd_server_start(const attestd_config *config, attestd_store *store,
                                                struct attestd_service *service,
                                                attestd_server **out_server, attest_diag *diag);

/* Applies new limits to requests that start from now on. */
void attestd_server_set_limits(attestd_server *server, const attestd_limits *limits);

/* Rejects new requests with 503 shutting_down while requests in flight continue. */
void attestd_server_quiesce(attestd_server *server);

/* Returns how many requests have started and not yet completed. */
unsigned attestd_server_in_flight(const attestd_server *server);

/* Stops the server, closes every connection and frees it; NULL is ignored. */
void attestd_server_stop(attestd_server *server);

#endif
