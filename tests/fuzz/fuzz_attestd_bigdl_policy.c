/*
 * libFuzzer target: the translation of a BigDL /registerPolicy body into an
 * attestd policy document (attestd_bigdl_policy_translate).
 *
 * The input is the request body. It is parsed as the service parses one:
 * at most 256 KiB, a nesting depth of at most 32 (the configuration's
 * defaults), duplicate keys rejected, and an object. Checks:
 * - a failed translation has status 400, or 500 when out of memory, and an
 *   error code;
 * - every document that the translation returns is accepted by
 *   attest_policy_parse;
 * - the policy allows exactly the policy type's TEE, and simulated evidence
 *   exactly when simulatedAllowed is true;
 * - each measurement of the request is in the document as a one-value list
 *   with the request's whole string in lowercase, and isvProdID as its value.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <attest/policy.h>

#include "api_bigdl_internal.h"

/* The defaults of max_body_size and max_json_depth in the attestd configuration. */
#define SERVICE_MAX_BODY_SIZE (256 * 1024)
#define SERVICE_MAX_JSON_DEPTH 32

/* A BigDL measurement field and its section and key in the document. */
typedef struct measurement_key {
    const char *field;
    const char *section;
    const char *key;
} measurement_key;

static const measurement_key measurement_keys[] = {
    {"mrEnclave", "sgx", "mrenclave"}, {"mrSigner", "sgx", "mrsigner"},
    {"mrTD", "tdx", "mrtd"},           {"rtmr0", "tdx", "rtmr0"},
    {"rtmr1", "tdx", "rtmr1"},         {"rtmr2", "tdx", "rtmr2"},
    {"rtmr3", "tdx", "rtmr3"},
};

static void fail(const char *message, const char *detail)
{
    fprintf(stderr, "fuzz_attestd_bigdl_policy: %s%s%s\n", message,
            detail[0] != '\0' ? ": " : "", detail);
    abort();
}

/* Returns the max nesting depth of arrays and objects outside strings, as the service counts it. */
static unsigned nesting_depth(const uint8_t *text, size_t size)
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
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            depth++;
            max_depth = depth > max_depth ? depth : max_depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max_depth;
}

/* Checks that the document contains the request's measurement value as [lowercase hex]. */
static void measurement_check(const json_t *request, const json_t *document,
                              const measurement_key *measurement)
{
    const json_t *value = json_object_get(request, measurement->field);
    if (value == NULL) {
        return;
    }
    const json_t *list = json_object_get(json_object_get(document, measurement->section),
                                         measurement->key);
    if (!json_is_array(list) || json_array_size(list) != 1 ||
        !json_is_string(json_array_get(list, 0))) {
        fail("document lacks a one-value list for", measurement->field);
    }
    const json_t *stored = json_array_get(list, 0);
    size_t size = json_string_length(value);
    if (json_string_length(stored) != size) {
        fail("document's value has another length than the request's", measurement->field);
    }
    const char *expected = json_string_value(value);
    const char *actual = json_string_value(stored);
    for (size_t i = 0; i < size; i++) {
        char lower = expected[i] >= 'A' && expected[i] <= 'F' ? (char)(expected[i] + 32)
                                                                : expected[i];
        if (actual[i] != lower) {
            fail("document's value is not the request's in lowercase", measurement->field);
        }
    }
}

/* Checks isvProdID in the document against the request's integer or hex string. */
static void isv_prod_id_check(const json_t *request, const json_t *document)
{
    const json_t *value = json_object_get(request, "isvProdID");
    if (value == NULL) {
        return;
    }
    json_int_t expected = 0;
    if (json_is_integer(value)) {
        expected = json_integer_value(value);
    } else {
        expected = (json_int_t)strtol(json_string_value(value), NULL, 16);
    }
    const json_t *stored = json_object_get(json_object_get(document, "sgx"), "isvprodid");
    if (!json_is_integer(stored) || json_integer_value(stored) != expected) {
        fail("document's isvprodid differs from isvProdID", "");
    }
}

static void translation_check(const json_t *request, const char *text, const char *type_name)
{
    attest_policy *policy = NULL;
    attest_diag diag = {{0}};
    if (attest_policy_parse(text, strlen(text), &policy, &diag) != ATTEST_OK) {
        fprintf(stderr, "translated document: %s\n", text);
        fail("the translated policy does not parse", diag.message);
    }

    bool tdx = strncmp(type_name, "TDX", 3) == 0;
    if (attest_policy_evidence_allowed(policy, ATTEST_EVIDENCE_TYPE_SGX) == tdx ||
        attest_policy_evidence_allowed(policy, ATTEST_EVIDENCE_TYPE_TDX) != tdx) {
        fail("policy allows another TEE than its type's", type_name);
    }
    bool simulated = json_is_true(json_object_get(request, "simulatedAllowed"));
    if (attest_policy_simulated_allowed(policy) != simulated) {
        fail("policy's simulated_allowed differs from simulatedAllowed", "");
    }
    attest_policy_free(policy);

    json_t *document = json_loads(text, 0, NULL);
    if (document == NULL) {
        fail("translated document is not JSON", text);
    }
    for (size_t i = 0; i < sizeof(measurement_keys) / sizeof(measurement_keys[0]); i++) {
        measurement_check(request, document, &measurement_keys[i]);
    }
    isv_prod_id_check(request, document);
    json_decref(document);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > SERVICE_MAX_BODY_SIZE ||
        nesting_depth(data, size) > SERVICE_MAX_JSON_DEPTH) {
        return 0;
    }
    json_t *request = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(request)) {
        json_decref(request);
        return 0;
    }

    bigdl_error error = {0};
    const char *type_name = NULL;
    char *text = attestd_bigdl_policy_translate(request, &type_name, &error);
    if (text == NULL) {
        bool out_of_memory = error.status == 500 && strcmp(error.code, "out_of_memory") == 0;
        if ((error.status != 400 && !out_of_memory) || error.code[0] == '\0') {
            fail("failed translation has no 400 status and code", error.message);
        }
    } else {
        translation_check(request, text, type_name);
        free(text);
    }
    json_decref(request);
    return 0;
}
