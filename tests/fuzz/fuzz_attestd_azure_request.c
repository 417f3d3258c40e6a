/*
 * libFuzzer target: the request parser of the Azure-compatible API
 * (attestd_azure_request_parse).
 *
 * The first input byte picks the operation (attest/SgxEnclave or
 * attest/TdxVm); the rest is the request body, parsed as JSON with
 * duplicate keys rejected, as the service parses one. Checks:
 * - a rejected request has status 400, an error code, the same code in the
 *   x-ms-error-code header and in the body, and leaves the parsed body zeroed;
 * - an accepted request has a quote of 1 to max_evidence_size bytes, the
 *   request's nonce (at most 1024 bytes) or none, and runtime data exactly
 *   when runtimeData is given, at most max_evidence_size bytes, with a parsed
 *   JSON object exactly when its dataType is "JSON".
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_azure_internal.h"

/* Room for the real quotes of the seeds, while the fuzzer still reaches the size checks. */
#define FUZZ_MAX_EVIDENCE_SIZE 16384
#define FUZZ_MAX_JSON_DEPTH 32

static void fail(const char *message)
{
    fprintf(stderr, "fuzz_attestd_azure_request: %s\n", message);
    abort();
}

static void rejection_check(const attestd_response *response, const azure_request_body *body)
{
    if (response->status != 400 || response->error_code[0] == '\0') {
        fail("a rejected request has no 400 status or no error code");
    }
    if (strcmp(response->header_name[0], "x-ms-error-code") != 0 ||
        strcmp(response->header_value[0], response->error_code) != 0) {
        fail("a rejected request lacks the x-ms-error-code header of its code");
    }
    const char *code = json_string_value(
        json_object_get(json_object_get(response->json, "error"), "code"));
    if (code == NULL || strcmp(code, response->error_code) != 0) {
        fail("the error body's code differs from the response's code");
    }
    static const azure_request_body zero;
    if (memcmp(body, &zero, sizeof(zero)) != 0) {
        fail("a rejected request left the parsed body filled");
    }
}

static void acceptance_check(const json_t *json, const azure_request_body *body)
{
    if (body->quote == NULL || body->quote_size == 0 ||
        body->quote_size > FUZZ_MAX_EVIDENCE_SIZE) {
        fail("an accepted quote is empty or above max_evidence_size");
    }
    const json_t *nonce = json_object_get(json, "nonce");
    if (json_is_string(nonce)) {
        if (body->nonce != json_string_value(nonce) ||
            json_string_length(nonce) > AZURE_NONCE_MAX_SIZE) {
            fail("the accepted nonce is not the request's, or is too long");
        }
    } else if (body->nonce != NULL) {
        fail("a nonce was accepted that the request does not have");
    }

    const json_t *runtime = json_object_get(json, "runtimeData");
    bool runtime_given = runtime != NULL && !json_is_null(runtime);
    if (body->runtime.present != runtime_given) {
        fail("runtime data is present without runtimeData, or missing with it");
    }
    if (!runtime_given) {
        return;
    }
    if (body->runtime.size > FUZZ_MAX_EVIDENCE_SIZE) {
        fail("accepted runtime data is above max_evidence_size");
    }
    const char *type = json_string_value(json_object_get(runtime, "dataType"));
    bool is_json = type != NULL && strcmp(type, "JSON") == 0;
    if (is_json != (body->runtime.json != NULL) ||
        (is_json && !json_is_object(body->runtime.json))) {
        fail("runtime data is parsed as JSON without dataType JSON, or not as an object");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    azure_tee tee = data[0] % 2 == 0 ? AZURE_TEE_SGX : AZURE_TEE_TDX;
    json_error_t error;
    json_t *json = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &error);
    if (json == NULL) {
        return 0;
    }

    attestd_limits limits = {
        .max_evidence_size = FUZZ_MAX_EVIDENCE_SIZE,
        .max_json_depth = FUZZ_MAX_JSON_DEPTH,
    };
    attestd_request request;
    memset(&request, 0, sizeof(request));
    request.limits = &limits;
    request.json = json;
    attestd_response response;
    memset(&response, 0, sizeof(response));
    azure_request_body body;
    memset(&body, 0xa5, sizeof(body));

    if (attestd_azure_request_parse(&request, tee, &body, &response)) {
        acceptance_check(json, &body);
        attestd_azure_request_clear(&body);
    } else {
        rejection_check(&response, &body);
    }
    json_decref(response.json);
    free(response.raw_body);
    json_decref(json);
    return 0;
}
