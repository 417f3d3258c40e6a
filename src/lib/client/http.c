/* HTTP POST of JSON bodies to attestd with libcurl. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "internal.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_TIMEOUT_MS 30000L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_OK;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct transfer {
    char *body;
    size_t size;
    bool too_large;
} transfer;

/* Appends a chunk of the response body; returning less than given makes libcurl abort. */
static size_t body_write(char *data, size_t size, size_t count, void *context)
{
    transfer *state = context;
    size_t chunk = size * count;
    if (chunk > ATTEST_CLIENT_MAX_RESPONSE_SIZE - state->size) {
        state->too_large = true;
        return 0;
    }
    char *grown = realloc(state->body, state->size + chunk + 1);
    if (grown == NULL) {
        return 0;
    }
    memcpy(grown + state->size, data, chunk);
    state->body = grown;
    state->size += chunk;
    state->body[state->size] = '\0';
    return chunk;
}

static bool handle_configure(CURL *curl, const attest_client_options *options, const char *url,
                             struct curl_slist *headers, const char *body, transfer *state)
{
    long connect_timeout = options->connect_timeout_ms > 0 ? options->connect_timeout_ms
                                                           : DEFAULT_CONNECT_TIMEOUT_MS;
    long timeout = options->timeout_ms > 0 ? options->timeout_ms : DEFAULT_TIMEOUT_MS;
    bool ok = curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                               (curl_off_t)ATTEST_CLIENT_MAX_RESPONSE_SIZE) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write) == CURLE_OK &&
              curl_easy_setopt(curl, CURLOPT_WRITEDATA, state) == CURLE_OK;
    if (ok && options->ca_file != NULL) {
        ok = curl_easy_setopt(curl, CURLOPT_CAINFO, options->ca_file) == CURLE_OK;
    }
    if (ok && options->insecure_tls) {
        ok = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK;
    }
    return ok;
}

static attest_err curl_error_map(CURLcode code, const transfer *state, const char *url,
                                 attest_diag *diag)
{
    if (state->too_large || code == CURLE_FILESIZE_EXCEEDED) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "response from %.120s exceeds %u bytes",
                               url, ATTEST_CLIENT_MAX_RESPONSE_SIZE);
    }
    switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return attest_diag_set(diag, ATTEST_ERR_SERVICE_TLS,
                               "TLS with %.120s failed: %s; pass the service's CA with --cacert"
                               " FILE",
                               url, curl_easy_strerror(code));
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR:
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "reading the response of %.120s failed",
                               url);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "service URL %.120s is not a valid http or https URL", url);
    default:
        return attest_diag_set(diag, ATTEST_ERR_SERVICE_UNREACHABLE,
                               "request to %.120s failed: %s", url, curl_easy_strerror(code));
    }
}

attest_err client_http_post(const attest_client_options *options, const char *url,
                            const char *body, client_http_response *out_response,
                            attest_diag *diag)
{
    memset(out_response, 0, sizeof(*out_response));
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        return attest_diag_set(diag, ATTEST_ERR_SERVICE_UNREACHABLE,
                               "curl_global_init failed: %s",
                               curl_easy_strerror(curl_init_result));
    }

    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (curl == NULL || headers == NULL) {
        curl_easy_cleanup(curl);
        curl_slist_free_all(headers);
        return ATTEST_ERR_NOMEM;
    }
    transfer state = {NULL, 0, false};

    attest_err err = ATTEST_OK;
    if (!handle_configure(curl, options, url, headers, body, &state)) {
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
        err = attest_diag_set(diag, ATTEST_ERR_SERVICE_UNREACHABLE, "no HTTP status from %.120s",
                              url);
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (err != ATTEST_OK) {
        free(state.body);
        return err;
    }
    if (state.body == NULL) {
        state.body = calloc(1, 1);
        if (state.body == NULL) {
            return ATTEST_ERR_NOMEM;
        }
    }
    out_response->status = status;
    out_response->body = state.body;
    out_response->body_size = state.size;
    return ATTEST_OK;
}
