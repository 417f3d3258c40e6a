/*
 * A relying party's copy of a service's JWKS (token.h), fetched with libcurl
 * from the one configured URL. The copy is kept until a token names an
 * unknown kid or the copy is too old. Refetches are rate-limited, so tokens
 * with made-up kids cannot flood the service.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <attest/token.h>

struct attest_jwks_cache {
    char *url;
    char *ca_file;
    bool insecure_tls;
    long timeout_ms;
    uint32_t min_refetch_seconds;
    uint32_t max_age_seconds;
    json_t *jwks;       /* NULL until the first fetch */
    time_t fetched_at;  /* time of the last fetch attempt that succeeded */
    time_t attempted_at;
    bool attempted;
    unsigned long fetch_count;
};

void attest_jwks_cache_options_init(attest_jwks_cache_options *options)
{
    memset(options, 0, sizeof(*options));
    options->timeout_ms = 10000;
    options->min_refetch_seconds = 60;
    options->max_age_seconds = 3600;
}

attest_err attest_jwks_cache_new(const attest_jwks_cache_options *options,
                                 attest_jwks_cache **out_cache, attest_diag *diag)
{
    if (options == NULL || options->url == NULL || out_cache == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    if (strncmp(options->url, "https://", 8) != 0 && strncmp(options->url, "http://", 7) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "JWKS URL \"%.100s\" is not an http:// or https:// URL",
                               options->url);
    }
    attest_jwks_cache *cache = calloc(1, sizeof(*cache));
    if (cache == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    cache->url = strdup(options->url);
    cache->ca_file = options->ca_file != NULL ? strdup(options->ca_file) : NULL;
    if (cache->url == NULL || (options->ca_file != NULL && cache->ca_file == NULL)) {
        attest_jwks_cache_free(cache);
        return ATTEST_ERR_NOMEM;
    }
    cache->insecure_tls = options->insecure_tls;
    cache->timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : 10000;
    cache->min_refetch_seconds = options->min_refetch_seconds;
    cache->max_age_seconds = options->max_age_seconds > 0 ? options->max_age_seconds : 3600;
    *out_cache = cache;
    return ATTEST_OK;
}

void attest_jwks_cache_free(attest_jwks_cache *cache)
{
    if (cache == NULL) {
        return;
    }
    json_decref(cache->jwks);
    free(cache->url);
    free(cache->ca_file);
    free(cache);
}

unsigned long attest_jwks_cache_fetch_count(const attest_jwks_cache *cache)
{
    return cache->fetch_count;
}

/* A response body with a size cap. */
typedef struct fetch_body {
    char *data;
    size_t size;
    bool overflow;
} fetch_body;

static size_t fetch_write(char *data, size_t size, size_t count, void *context)
{
    fetch_body *body = context;
    size_t total = size * count;
    if (total > ATTEST_JWKS_MAX_SIZE - body->size) {
        body->overflow = true;
        return 0;
    }
    char *grown = realloc(body->data, body->size + total + 1);
    if (grown == NULL) {
        return 0;
    }
    body->data = grown;
    memcpy(body->data + body->size, data, total);
    body->size += total;
    body->data[body->size] = '\0';
    return total;
}

/* Fetches and parses the JWKS; on success replaces the cached set. */
static attest_err jwks_fetch(attest_jwks_cache *cache, time_t now, attest_diag *diag)
{
    CURL *handle = curl_easy_init();
    if (handle == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    fetch_body body = {NULL, 0, false};
    curl_easy_setopt(handle, CURLOPT_URL, cache->url);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, cache->timeout_ms);
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
    if (cache->ca_file != NULL) {
        curl_easy_setopt(handle, CURLOPT_CAINFO, cache->ca_file);
    }
    if (cache->insecure_tls) {
        curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    CURLcode result = curl_easy_perform(handle);
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(handle);

    attest_err err = ATTEST_OK;
    if (body.overflow) {
        err = attest_diag_set(diag, ATTEST_ERR_LIMIT, "JWKS at %s is larger than %d bytes",
                              cache->url, ATTEST_JWKS_MAX_SIZE);
    } else if (result == CURLE_PEER_FAILED_VERIFICATION || result == CURLE_SSL_CONNECT_ERROR ||
               result == CURLE_SSL_CERTPROBLEM || result == CURLE_SSL_CIPHER ||
               result == CURLE_SSL_CACERT_BADFILE) {
        err = attest_diag_set(diag, ATTEST_ERR_SERVICE_TLS,
                              "TLS with %.120s failed: %s; pass the service's CA with --cacert"
                              " FILE",
                              cache->url, curl_easy_strerror(result));
    } else if (result != CURLE_OK) {
        err = attest_diag_set(diag, ATTEST_ERR_SERVICE_UNREACHABLE, "fetching %.120s failed: %s",
                              cache->url, curl_easy_strerror(result));
    } else if (status != 200) {
        err = attest_diag_set(diag, ATTEST_ERR_SERVICE_HTTP_STATUS,
                              "fetching %.120s returned HTTP %ld", cache->url, status);
    }
    json_t *jwks = NULL;
    if (err == ATTEST_OK) {
        attest_diag parse_diag = {{0}};
        err = attest_jwks_parse(body.data != NULL ? body.data : "", body.size, &jwks,
                                &parse_diag);
        if (err != ATTEST_OK) {
            attest_diag_set(diag, err, "JWKS at %.120s: %s", cache->url, parse_diag.message);
        }
    }
    free(body.data);
    if (err != ATTEST_OK) {
        return err;
    }
    json_decref(cache->jwks);
    cache->jwks = jwks;
    cache->fetched_at = now;
    cache->fetch_count++;
    return ATTEST_OK;
}

static bool jwks_has_kid(const json_t *jwks, const char *kid)
{
    const json_t *keys = json_object_get(jwks, "keys");
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const char *key_kid = json_string_value(json_object_get(json_array_get(keys, i), "kid"));
        if (key_kid != NULL && kid != NULL && strcmp(key_kid, kid) == 0) {
            return true;
        }
    }
    return false;
}

attest_err attest_jwks_cache_get(attest_jwks_cache *cache, const char *kid, time_t now,
                                 json_t **out_jwks, attest_diag *diag)
{
    if (cache == NULL || out_jwks == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    bool stale = cache->jwks == NULL || now - cache->fetched_at >= (time_t)cache->max_age_seconds;
    bool unknown = cache->jwks != NULL && !jwks_has_kid(cache->jwks, kid);
    bool may_refetch = !cache->attempted ||
                       now - cache->attempted_at >= (time_t)cache->min_refetch_seconds;
    if (stale || (unknown && may_refetch)) {
        cache->attempted = true;
        cache->attempted_at = now;
        attest_err err = jwks_fetch(cache, now, diag);
        /* A failed refresh keeps serving the cached set, and fails only when there is none. */
        if (err != ATTEST_OK && cache->jwks == NULL) {
            return err;
        }
    }
    json_incref(cache->jwks);
    *out_jwks = cache->jwks;
    return ATTEST_OK;
}
