/* Internal helpers of the attestation client. */
#ifndef ATTEST_CLIENT_INTERNAL_H
#define ATTEST_CLIENT_INTERNAL_H

#include <stddef.h>

#include <attest/client.h>

/* A response of client_http_post: the status and the NUL-terminated body. */
typedef struct client_http_response {
    long status;
    char *body;
    size_t body_size;
} client_http_response;

/*
 * POSTs the JSON text body to url with the TLS and timeout settings of
 * options. Any HTTP status is a success; the caller frees out_response->body.
 * Errors: ATTEST_ERR_SERVICE_UNREACHABLE (connect failure, timeout),
 * ATTEST_ERR_SERVICE_TLS, ATTEST_ERR_LIMIT (body over
 * ATTEST_CLIENT_MAX_RESPONSE_SIZE), ATTEST_ERR_ARGUMENT, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err client_http_post(const attest_client_options *options,
                                            const char *url, const char *body,
                                            client_http_response *out_response,
                                            attest_diag *diag);

#endif
