/*
 * The request parser of the Azure-compatible API (api_azure.c), declared
 * apart from api_azure.h so that the fuzz target can call it without a
 * store, a service or an HTTP connection.
 */
#ifndef ATTESTD_API_AZURE_INTERNAL_H
#define ATTESTD_API_AZURE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http.h"

/* Maximum size of a request's nonce in bytes, which the token echoes. */
#define AZURE_NONCE_MAX_SIZE 1024

typedef enum azure_tee {
    AZURE_TEE_SGX,
    AZURE_TEE_TDX,
} azure_tee;

/* Runtime data: the decoded bytes and, for dataType "JSON", the parsed object. */
typedef struct azure_runtime_data {
    bool present;
    uint8_t *bytes;
    size_t size;
    json_t *json; /* NULL for dataType "Binary" */
} azure_runtime_data;

/* The fields of an attest/SgxEnclave or attest/TdxVm request. */
typedef struct azure_request_body {
    uint8_t *quote;
    size_t quote_size;
    azure_runtime_data runtime;
    const char *nonce; /* borrowed from the request's JSON */
} azure_request_body;

/*
 * Parses request->json as an attestation request for tee, with the sizes of
 * request->limits. On failure sets a 400 response in Azure's error shape,
 * leaves out cleared and returns false. Clear a parsed body with
 * attestd_azure_request_clear.
 */
bool attestd_azure_request_parse(const attestd_request *request, azure_tee tee,
                                 azure_request_body *out, attestd_response *response);

/* Frees what a parsed body owns and zeroes it. */
void attestd_azure_request_clear(azure_request_body *body);

#endif
