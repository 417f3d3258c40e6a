/*
 * One bounded HTTP GET with libcurl: a size cap on the body and on every
 * header line, timeouts, no redirects, no content decoding, and https only
 * unless the caller allows http.
 *
 * NOTE: curl_global_init is called once per process through pthread_once.
 * curl_global_cleanup is never called, because other parts of the process
 * may still use libcurl.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "pccs/internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_OK;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void pccs_http_result_clear(pccs_http_result *result)
{
    if (result == NULL) {
        return;
    }
    free(result->body);
    free(result->header_value);
    memset(result, 0, sizeof(*result));
}

/* State of one transfer, shared by the write and header callbacks. */
typedef struct transfer {
    const pccs_http_config *config;
    const char *const *header_names;
    uint8_t *body;
    size_t body_size;
    size_t body_capacity;
    char *header_value;
    size_t header_size;
    bool body_too_large;
    bool header_too_large;
    bool header_repeated;
    bool out_of_memory;
} transfer;

static size_t body_write(char *data, size_t size, size_t count, void *context)
{
    transfer *state = context;
    size_t length = size * count;

    if (length > state->config->max_body_size - state->body_size) {
        state->body_too_large = true;
        return 0;
    }
    if (state->body_size + length + 1 > state->body_capacity) {
        size_t capacity = state->body_capacity == 0 ? 16384 : state->body_capacity;
        while (capacity < state->body_size + length + 1) {
            capacity *= 2;
        }
        uint8_t *grown = realloc(state->body, capacity);
        if (grown == NULL) {
            state->out_of_memory = true;
            return 0;
        }
        state->body = grown;
        state->body_capacity = capacity;
    }
    memcpy(state->body + state->body_size, data, length);
    state->body_size += length;
    state->body[state->body_size] = '\0';
    return length;
}

/* Returns the length of name when line starts with "name:" in any case, else 0. */
static size_t header_name_match(const char *line, size_t length, const char *name)
{
    size_t name_length = strlen(name);
    if (length <= name_length || line[name_length] != ':') {
        return 0;
    }
    return strncasecmp(line, name, name_length) == 0 ? name_length : 0;
}

static size_t header_write(char *data, size_t size, size_t count, void *context)
{
    transfer *state = context;
    size_t length = size * count;

    if (length > state->config->max_header_size) {
        state->header_too_large = true;
        return 0;
    }
    if (state->header_names == NULL) {
        return length;
    }

    size_t name_length = 0;
    for (size_t i = 0; state->header_names[i] != NULL && name_length == 0; i++) {
        name_length = header_name_match(data, length, state->header_names[i]);
    }
    if (name_length == 0) {
        return length;
    }
    if (state->header_value != NULL) {
        state->header_repeated = true;
        return 0;
    }

    /* The value runs from after the colon, without surrounding blanks and the CRLF. */
    size_t start = name_length + 1;
    size_t end = length;
    while (start < end && (data[start] == ' ' || data[start] == '\t')) {
        start++;
    }
    while (end > start && isspace((unsigned char)data[end - 1])) {
        end--;
    }
    char *value = malloc(end - start + 1);
    if (value == NULL) {
        state->out_of_memory = true;
        return 0;
    }
    memcpy(value, data + start, end - start);
    value[end - start] = '\0';
    state->header_value = value;
    state->header_size = end - start;
    return length;
}

static attest_err curl_error_map(CURLcode code, const transfer *state, const char *url,
                                 attest_diag *diag)
{
    if (state->out_of_memory) {
        return ATTEST_ERR_NOMEM;
    }
    if (state->body_too_large || code == CURLE_FILESIZE_EXCEEDED) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "response body from %.120s exceeds %zu bytes",
                               url, state->config->max_body_size);
    }
    if (state->header_too_large) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "a response header line from %.120s exceeds %zu bytes", url,
                               state->config->max_header_size);
    }
    if (state->header_repeated) {
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_HEADER,
                               "response from %.120s repeats the issuer chain header", url);
    }

    switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "URL %.120s is invalid: %s", url,
                               curl_easy_strerror(code));
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_TLS, "TLS with %.120s failed: %s", url,
                               curl_easy_strerror(code));
    case CURLE_OPERATION_TIMEDOUT:
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_UNREACHABLE,
                               "GET %.120s timed out (limit %ld ms)", url,
                               state->config->timeout_ms);
    default:
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_UNREACHABLE, "GET %.120s failed: %s", url,
                               curl_easy_strerror(code));
    }
}

/* Sets the options of one GET; returns false when libcurl rejects one. */
static bool handle_configure(CURL *curl, const pccs_http_config *config, const char *url,
                             transfer *state)
{
    const char *protocols = config->allow_http ? "http,https" : "https";
    bool ok = curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, config->connect_timeout_ms) ==
                  CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, config->timeout_ms) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                               (curl_off_t)config->max_body_size) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_WRITEDATA, state) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_write) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_HEADERDATA, state) == CURLE_OK;
    if (ok && config->ca_file != NULL) {
        ok = curl_easy_setopt(curl, CURLOPT_CAINFO, config->ca_file) == CURLE_OK;
    }
    return ok;
}

attest_err pccs_http_get(const pccs_http_config *config, const char *url,
                         const char *const *header_names, pccs_http_result *out_result,
                         attest_diag *diag)
{
    if (config == NULL || url == NULL || out_result == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "HTTP config, URL or output is NULL");
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_UNREACHABLE, "curl_global_init failed: %s",
                               curl_easy_strerror(curl_init_result));
    }

    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    transfer state;
    memset(&state, 0, sizeof(state));
    state.config = config;
    state.header_names = header_names;

    attest_err err = ATTEST_OK;
    if (!handle_configure(curl, config, url, &state)) {
        err = attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "libcurl rejected an option for %.120s",
                              url);
    }
    if (err == ATTEST_OK) {
        CURLcode code = curl_easy_perform(curl);
        if (code != CURLE_OK) {
            err = curl_error_map(code, &state, url, diag);
        }
    }
    long status = 0;
    if (err == ATTEST_OK &&
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
        err = attest_diag_set(diag, ATTEST_ERR_SOURCE_UNREACHABLE,
                              "no HTTP status from %.120s", url);
    }
    curl_easy_cleanup(curl);
    if (err != ATTEST_OK) {
        free(state.body);
        free(state.header_value);
        return err;
    }

    out_result->status = status;
    out_result->body = state.body;
    out_result->body_size = state.body_size;
    out_result->header_value = state.header_value;
    out_result->header_size = state.header_size;
    return ATTEST_OK;
}
