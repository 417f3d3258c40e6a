/* One attestation against attestd: nonce, evidence, verdict and token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <attest/client.h>

#include "internal.h"
#include "util/base64.h"
#include "util/hex.h"

#define DEFAULT_RETRY_DELAY_MS 200u
/* Maximum wait between two attempts, whatever max_attempts is: 10 s. */
#define MAX_RETRY_DELAY_MS 10000u
#define URL_MAX_SIZE 2048

void attest_client_options_init(attest_client_options *options)
{
    memset(options, 0, sizeof(*options));
    attest_evidence_options_init(&options->evidence);
    options->max_attempts = 1;
    options->retry_delay_ms = DEFAULT_RETRY_DELAY_MS;
}

void attest_client_result_clear(attest_client_result *result)
{
    if (result == NULL) {
        return;
    }
    if (result->token != NULL) {
        OPENSSL_cleanse(result->token, strlen(result->token));
        free(result->token);
    }
    if (result->report_json != NULL) {
        OPENSSL_cleanse(result->report_json, strlen(result->report_json));
        free(result->report_json);
    }
    memset(result, 0, sizeof(*result));
}

/* Joins the service URL, without its trailing slashes, and path into out (URL_MAX_SIZE). */
static attest_err url_join(const char *base, const char *path, char *out, attest_diag *diag)
{
    size_t base_size = strlen(base);
    while (base_size > 0 && base[base_size - 1] == '/') {
        base_size--;
    }
    int written = snprintf(out, URL_MAX_SIZE, "%.*s%s", (int)base_size, base, path);
    if (written < 0 || (size_t)written >= URL_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "service URL is longer than %d bytes",
                               URL_MAX_SIZE - 1);
    }
    return ATTEST_OK;
}

/*
 * Turns a non-200 response into ATTEST_ERR_SERVICE_HTTP_STATUS naming the
 * status and the service's error code; sets *out_retriable for 5xx.
 */
static attest_err status_error(const char *url, const client_http_response *response,
                               bool *out_retriable, attest_diag *diag)
{
    const char *code = "";
    const char *message = "";
    json_t *root = json_loadb(response->body, response->body_size, 0, NULL);
    json_t *error = json_object_get(root, "error");
    if (json_is_string(json_object_get(error, "code"))) {
        code = json_string_value(json_object_get(error, "code"));
    }
    if (json_is_string(json_object_get(error, "message"))) {
        message = json_string_value(json_object_get(error, "message"));
    }
    *out_retriable = response->status >= 500 && response->status <= 599;
    attest_err err = attest_diag_set(diag, ATTEST_ERR_SERVICE_HTTP_STATUS,
                                     "%.120s returned HTTP %ld %.40s: %.80s", url,
                                     response->status, code, message);
    json_decref(root);
    return err;
}

/* POSTs body to base + path and parses a 200 JSON object response into *out_root. */
static attest_err post_json(const attest_client_options *options, const char *path,
                            const char *body, json_t **out_root, char **out_text,
                            bool *out_retriable, attest_diag *diag)
{
    char url[URL_MAX_SIZE];
    attest_err err = url_join(options->service_url, path, url, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    client_http_response response;
    err = client_http_post(options, url, body, &response, diag);
    if (err != ATTEST_OK) {
        *out_retriable = err == ATTEST_ERR_SERVICE_UNREACHABLE;
        return err;
    }
    if (response.status != 200) {
        err = status_error(url, &response, out_retriable, diag);
        free(response.body);
        return err;
    }
    json_t *root = json_loadb(response.body, response.body_size, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        free(response.body);
        return attest_diag_set(diag, ATTEST_ERR_SERVICE_RESPONSE,
                               "response of %.120s is not a JSON object", url);
    }
    *out_root = root;
    if (out_text != NULL) {
        *out_text = response.body;
    } else {
        free(response.body);
    }
    return ATTEST_OK;
}

/* Fetches a nonce: its opaque text (a new string) and its 32 bytes. */
static attest_err nonce_fetch(const attest_client_options *options, char **out_nonce,
                              uint8_t out_value[ATTEST_NONCE_SIZE], bool *out_retriable,
                              attest_diag *diag)
{
    json_t *root = NULL;
    attest_err err = post_json(options, "/v1/nonce", "{}", &root, NULL, out_retriable, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    const char *nonce = json_string_value(json_object_get(root, "nonce"));
    const char *value = json_string_value(json_object_get(root, "value"));
    if (nonce == NULL || value == NULL ||
        attest_hex_decode_exact(value, strlen(value), out_value, ATTEST_NONCE_SIZE) !=
            ATTEST_OK) {
        json_decref(root);
        return attest_diag_set(diag, ATTEST_ERR_SERVICE_RESPONSE,
                               "nonce response lacks \"nonce\" or a 64-hex-digit \"value\"");
    }
    *out_nonce = strdup(nonce);
    json_decref(root);
    return *out_nonce == NULL ? ATTEST_ERR_NOMEM : ATTEST_OK;
}

/* Produces evidence over report_data: a measured simulated quote or the backend's evidence. */
static attest_err evidence_produce(const attest_client_options *options,
                                   const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                   uint8_t **out_data, size_t *out_size, attest_diag *diag)
{
    if (options->sim_measurement != NULL) {
        attest_sim_platform *platform = NULL;
        attest_err err = attest_sim_platform_open(options->evidence.sim_dir, &platform, diag);
        if (err != ATTEST_OK) {
            return err;
        }
        attest_sim_quote_options quote_options;
        attest_sim_quote_options_init(&quote_options, options->evidence.sim_tee);
        memcpy(quote_options.report_data, report_data, ATTEST_REPORT_DATA_SIZE);
        if (options->evidence.sim_tee == ATTEST_SIM_TDX) {
            memcpy(quote_options.mr_td, options->sim_measurement, sizeof(quote_options.mr_td));
        } else {
            memcpy(quote_options.mr_enclave, options->sim_measurement,
                   sizeof(quote_options.mr_enclave));
        }
        err = attest_sim_quote(platform, &quote_options, out_data, out_size, diag);
        attest_sim_platform_free(platform);
        return err;
    }

    attest_evidence_options evidence_options = options->evidence;
    memcpy(evidence_options.report_data, report_data, ATTEST_REPORT_DATA_SIZE);
    attest_evidence evidence;
    memset(&evidence, 0, sizeof(evidence));
    attest_err err = attest_evidence_collect(&evidence_options, &evidence, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    *out_data = evidence.data;
    *out_size = evidence.size;
    evidence.data = NULL;
    evidence.size = 0;
    attest_evidence_clear(&evidence);
    return ATTEST_OK;
}

/* Builds the JSON body of POST /v1/attest into a new string. */
static attest_err attest_body_build(const attest_client_options *options, const char *nonce,
                                    const uint8_t *evidence, size_t evidence_size,
                                    char **out_body)
{
    char *evidence_text = attest_base64_encode(evidence, evidence_size);
    char *runtime_text = NULL;
    if (options->runtime_data_size > 0) {
        runtime_text = attest_base64_encode(options->runtime_data, options->runtime_data_size);
    }
    json_t *body = json_object();
    bool ok = evidence_text != NULL && body != NULL &&
              (options->runtime_data_size == 0 || runtime_text != NULL);
    ok = ok && json_object_set_new(body, "application", json_string(options->application)) == 0 &&
         json_object_set_new(body, "evidence", json_string(evidence_text)) == 0 &&
         json_object_set_new(body, "nonce", json_string(nonce)) == 0;
    if (ok && runtime_text != NULL) {
        ok = json_object_set_new(body, "runtime_data", json_string(runtime_text)) == 0;
    }
    if (ok && options->audience != NULL) {
        ok = json_object_set_new(body, "audience", json_string(options->audience)) == 0;
    }
    *out_body = ok ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    free(evidence_text);
    free(runtime_text);
    return *out_body == NULL ? ATTEST_ERR_NOMEM : ATTEST_OK;
}

/* Copies the verdict, the failure and the token of a 200 response into out_result. */
static attest_err verdict_read(const json_t *root, attest_client_result *out_result,
                               attest_diag *diag)
{
    const char *verdict = json_string_value(json_object_get(root, "verdict"));
    if (verdict == NULL ||
        (strcmp(verdict, "accepted") != 0 && strcmp(verdict, "rejected") != 0)) {
        return attest_diag_set(diag, ATTEST_ERR_SERVICE_RESPONSE,
                               "attest response has no \"verdict\" of accepted or rejected");
    }
    out_result->accepted = strcmp(verdict, "accepted") == 0;
    if (out_result->accepted) {
        const char *token = json_string_value(json_object_get(root, "token"));
        if (token == NULL) {
            return attest_diag_set(diag, ATTEST_ERR_SERVICE_RESPONSE,
                                   "accepted attest response has no \"token\" string");
        }
        out_result->token = strdup(token);
        return out_result->token == NULL ? ATTEST_ERR_NOMEM : ATTEST_OK;
    }

    json_t *failure = json_object_get(root, "failure");
    const char *stage = json_string_value(json_object_get(failure, "stage"));
    const char *code = json_string_value(json_object_get(failure, "code"));
    const char *message = json_string_value(json_object_get(failure, "message"));
    snprintf(out_result->failure_stage, sizeof(out_result->failure_stage), "%s",
             stage != NULL ? stage : "unknown");
    snprintf(out_result->failure_code, sizeof(out_result->failure_code), "%s",
             code != NULL ? code : "unknown");
    snprintf(out_result->failure_message, sizeof(out_result->failure_message), "%s",
             message != NULL ? message : "");
    return ATTEST_OK;
}

/* Runs one attempt: nonce, evidence, attest. */
static attest_err attempt_run(const attest_client_options *options,
                              attest_client_result *out_result, bool *out_retriable,
                              attest_diag *diag)
{
    *out_retriable = false;
    char *nonce = NULL;
    uint8_t nonce_value[ATTEST_NONCE_SIZE];
    attest_err err = nonce_fetch(options, &nonce, nonce_value, out_retriable, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    uint8_t *evidence = NULL;
    size_t evidence_size = 0;
    char *body = NULL;
    err = attest_report_data_bind(nonce_value, options->runtime_data,
                                  options->runtime_data_size, report_data);
    if (err == ATTEST_OK) {
        err = evidence_produce(options, report_data, &evidence, &evidence_size, diag);
    }
    if (err == ATTEST_OK) {
        err = attest_body_build(options, nonce, evidence, evidence_size, &body);
    }
    json_t *root = NULL;
    char *text = NULL;
    if (err == ATTEST_OK) {
        err = post_json(options, "/v1/attest", body, &root, &text, out_retriable, diag);
    }
    if (err == ATTEST_OK) {
        out_result->report_json = text;
        err = verdict_read(root, out_result, diag);
    }
    json_decref(root);
    free(body);
    free(evidence);
    free(nonce);
    return err;
}

static void sleep_ms(unsigned milliseconds)
{
    struct timespec delay = {(time_t)(milliseconds / 1000), (long)(milliseconds % 1000) * 1000000L};
    while (nanosleep(&delay, &delay) != 0) {
    }
}

static attest_err options_check(const attest_client_options *options, attest_diag *diag)
{
    if (options->service_url == NULL || options->service_url[0] == '\0') {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "service URL is missing");
    }
    if (strncmp(options->service_url, "https://", 8) != 0 &&
        strncmp(options->service_url, "http://", 7) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "service URL \"%.120s\" does not start with https:// or http://",
                               options->service_url);
    }
    if (options->application == NULL || options->application[0] == '\0') {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "application is missing");
    }
    if (options->runtime_data_size > ATTEST_CLIENT_MAX_RUNTIME_DATA_SIZE ||
        (options->runtime_data == NULL && options->runtime_data_size > 0)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "runtime data is missing or larger than %u bytes",
                               ATTEST_CLIENT_MAX_RUNTIME_DATA_SIZE);
    }
    if (options->sim_measurement != NULL) {
        size_t expected = options->evidence.sim_tee == ATTEST_SIM_TDX ? 48 : 32;
        if (options->evidence.backend != ATTEST_EVIDENCE_SIM || options->evidence.sim_dir == NULL) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "a simulated measurement needs the sim backend and a sim directory");
        }
        if (options->sim_measurement_size != expected) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "simulated measurement is %zu bytes, expected %zu",
                                   options->sim_measurement_size, expected);
        }
    }
    return ATTEST_OK;
}

attest_err attest_client_attest(const attest_client_options *options,
                                attest_client_result *out_result, attest_diag *diag)
{
    if (options == NULL || out_result == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "options or result is NULL");
    }
    memset(out_result, 0, sizeof(*out_result));
    attest_err err = options_check(options, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    unsigned attempts = options->max_attempts > 0 ? options->max_attempts : 1;
    unsigned delay = options->retry_delay_ms;
    for (unsigned attempt = 1;; attempt++) {
        bool retriable = false;
        out_result->attempts = attempt;
        err = attempt_run(options, out_result, &retriable, diag);
        if (err == ATTEST_OK || !retriable || attempt >= attempts) {
            break;
        }
        attest_client_result_clear(out_result);
        sleep_ms(delay);
        delay = delay > MAX_RETRY_DELAY_MS / 2 ? MAX_RETRY_DELAY_MS : delay * 2;
    }
    if (err != ATTEST_OK) {
        unsigned attempts_made = out_result->attempts;
        attest_client_result_clear(out_result);
        out_result->attempts = attempts_made;
    }
    return err;
}
