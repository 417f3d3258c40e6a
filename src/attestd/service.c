/*
 * Shared attestation state of attestd (service.h).
 *
 * Caveat: verifiers are created per worker thread and freed only when the
 * service closes, so a server whose threads come and go would keep the
 * verifiers of finished threads until then; libmicrohttpd's thread pool
 * keeps its threads for the life of the server.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "metrics.h"
#include "service.h"

#define NONCE_SECRET_FILE "nonce-secret"

/* One verifier of a worker thread, kept in a list so close can free them all. */
typedef struct thread_verifier {
    attest_verifier *verifier;
    struct thread_verifier *next;
} thread_verifier;

struct attestd_service {
    attestd_store *store;
    attestd_service_options options;
    uint8_t nonce_secret[ATTEST_NONCE_SECRET_SIZE];

    pthread_rwlock_t keyset_lock;
    pthread_mutex_t rotate_mutex; /* held through a whole key rotation */
    attest_keyset *keyset;

    bool has_collateral;
    attest_collateral_source collateral;
    attest_collateral_cache *cache; /* NULL for a file or directory source */

    pthread_key_t verifier_key;
    pthread_mutex_t verifiers_lock;
    thread_verifier *verifiers;
};

void attestd_service_options_init(attestd_service_options *options)
{
    memset(options, 0, sizeof(*options));
    options->collateral_refresh_seconds = 3600;
    options->token_alg = ATTEST_TOKEN_ES256;
    snprintf(options->issuer, sizeof(options->issuer), "attestd");
    options->nonce_lifetime_seconds = 300;
    options->max_token_lifetime_seconds = 3600;
}

/* Reads DATA_DIR/nonce-secret, or creates it with 32 random bytes and mode 0600. */
static attest_err nonce_secret_load(const char *data_dir, uint8_t out[ATTEST_NONCE_SECRET_SIZE],
                                    attest_diag *diag)
{
    char path[4096];
    int length = snprintf(path, sizeof(path), "%s/%s", data_dir, NONCE_SECRET_FILE);
    if (length < 0 || (size_t)length >= sizeof(path)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "data directory path is too long");
    }

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        uint8_t buffer[ATTEST_NONCE_SECRET_SIZE + 1];
        ssize_t count = read(fd, buffer, sizeof(buffer));
        close(fd);
        if (count != ATTEST_NONCE_SECRET_SIZE) {
            OPENSSL_cleanse(buffer, sizeof(buffer));
            return attest_diag_set(diag, ATTEST_ERR_IO,
                                   "%s holds %zd bytes, expected exactly %d: remove it to make "
                                   "a new secret (outstanding nonces become invalid)",
                                   path, count, ATTEST_NONCE_SECRET_SIZE);
        }
        memcpy(out, buffer, ATTEST_NONCE_SECRET_SIZE);
        OPENSSL_cleanse(buffer, sizeof(buffer));
        return ATTEST_OK;
    }
    if (errno != ENOENT) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }

    uint8_t secret[ATTEST_NONCE_SECRET_SIZE];
    if (RAND_bytes(secret, sizeof(secret)) != 1) {
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "random bytes for the nonce secret failed");
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        OPENSSL_cleanse(secret, sizeof(secret));
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    ssize_t written = write(fd, secret, sizeof(secret));
    bool synced = fsync(fd) == 0;
    close(fd);
    if (written != (ssize_t)sizeof(secret) || !synced) {
        OPENSSL_cleanse(secret, sizeof(secret));
        unlink(path);
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot write %s", path);
    }
    memcpy(out, secret, sizeof(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    return ATTEST_OK;
}

/* Generates a key, stores it, and returns it (not yet in the key set). */
static attest_err signing_key_create(attestd_service *service, time_t now, bool allow_memory_only,
                                     attest_signing_key **out_key, attest_diag *diag)
{
    attest_signing_key *key = NULL;
    attest_err err = attest_signing_key_generate(service->options.token_alg, now, &key);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err, "generating a %s signing key failed",
                               attest_token_alg_name(service->options.token_alg));
    }
    char *pem = NULL;
    size_t pem_size = 0;
    err = attest_signing_key_to_pem(key, &pem, &pem_size);
    if (err == ATTEST_OK) {
        /* The store keeps the algorithm in its own column and the PEM blocks alone. */
        const char *blocks = strstr(pem, "-----BEGIN ");
        err = blocks != NULL
                  ? attestd_store_signing_key_put(service->store, attest_signing_key_kid(key),
                                                  attest_token_alg_name(attest_signing_key_alg(key)),
                                                  blocks, (int64_t)now, diag)
                  : attest_diag_set(diag, ATTEST_ERR_SIGNING_KEY, "the new key has no PEM block");
        attest_signing_key_pem_free(pem, pem_size);
    }
    if (err == ATTEST_ERR_STORE_READ_ONLY && allow_memory_only) {
        /*
         * A read-only database cannot keep the key, but it cannot keep audit
         * records either, so no token is issued with this key: it only lets
         * the service start and serve reads.
         */
        attestd_log("warning", "signing_key_not_stored",
                    json_pack("{s:s, s:s}", "kid", attest_signing_key_kid(key), "message",
                              "the database is read-only: the signing key lives in memory only"));
        err = ATTEST_OK;
    }
    if (err != ATTEST_OK) {
        attest_signing_key_free(key);
        return err;
    }
    *out_key = key;
    return ATTEST_OK;
}

/* Loads a stored key, putting back the algorithm line that attest_signing_key_from_pem reads. */
static attest_err signing_key_load(const attestd_signing_key *stored, time_t now,
                                   attest_signing_key **out_key, attest_diag *diag)
{
    size_t pem_size = strlen(stored->private_key_pem);
    size_t size = pem_size + sizeof(stored->algorithm) + 32;
    char *text = malloc(size);
    if (text == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    int length = snprintf(text, size, "attest-token-alg: %s\n%s", stored->algorithm,
                          stored->private_key_pem);
    attest_err err = ATTEST_ERR_NOMEM;
    if (length > 0 && (size_t)length < size) {
        err = attest_signing_key_from_pem(text, (size_t)length, now, out_key, diag);
    }
    OPENSSL_cleanse(text, size);
    free(text);
    return err;
}

/*
 * Loads the stored keys into the key set: retired ones while still
 * published, and the newest unretired one as current. Without one, a new
 * key is generated and stored.
 */
/*
 * Adds a retired key to keyset while tokens it signed may still be valid,
 * and frees it otherwise. A key set already full keeps its newer keys: a
 * database with more retired keys than the set can contain must not stop the
 * service from starting, so the key left out is logged.
 */
static void keyset_add_published(attest_keyset *keyset, attest_signing_key *key, time_t retired_at,
                                 time_t now)
{
    if (retired_at + (time_t)attest_keyset_max_token_lifetime(keyset) <= now) {
        attest_signing_key_free(key);
        return;
    }
    if (attest_keyset_add_retired(keyset, key, retired_at) != ATTEST_OK) {
        attestd_log("warning", "signing_key_not_published",
                    json_pack("{s:s, s:i}", "kid", attest_signing_key_kid(key), "max_keys",
                              ATTEST_KEYSET_MAX_KEYS));
        attest_signing_key_free(key);
    }
}

static attest_err keyset_load(attestd_service *service, attest_keyset *keyset, time_t now,
                              attest_diag *diag)
{
    attestd_signing_key_list list = {0};
    attest_err err = attestd_store_signing_key_list(service->store, &list, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_signing_key *current = NULL;
    for (size_t i = 0; i < list.count && err == ATTEST_OK; i++) {
        const attestd_signing_key *stored = &list.items[i];
        attest_signing_key *key = NULL;
        err = signing_key_load(stored, now, &key, diag);
        if (err != ATTEST_OK) {
            break;
        }
        if (stored->retired_at != 0) {
            keyset_add_published(keyset, key, (time_t)stored->retired_at, now);
            continue;
        }
        /* Items come oldest first, so a later unretired key replaces an earlier one. */
        if (current != NULL) {
            keyset_add_published(keyset, current, (time_t)stored->created_at, now);
        }
        current = key;
    }
    attestd_signing_key_list_free(&list);
    if (err != ATTEST_OK) {
        attest_signing_key_free(current);
        return err;
    }

    if (current == NULL) {
        err = signing_key_create(service, now, true, &current, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    err = attest_keyset_rotate(keyset, current, now);
    if (err != ATTEST_OK) {
        attest_signing_key_free(current);
        return attest_diag_set(diag, err, "the stored signing keys cannot form a key set");
    }
    attest_keyset_prune(keyset, now);
    return ATTEST_OK;
}

/* Cache persistence hooks: collateral blobs kept in the store until their nextUpdate. */
static attest_err cache_load(void *context, const char *key, uint8_t **out_blob, size_t *out_size,
                             attest_diag *diag)
{
    attestd_store *store = context;
    int64_t next_update = 0;
    attest_err err = attestd_store_collateral_get(store, key, (int64_t)time(NULL), out_blob,
                                                  out_size, &next_update, diag);
    if (err == ATTEST_ERR_NOT_FOUND) {
        *out_blob = NULL;
        *out_size = 0;
        return ATTEST_OK;
    }
    return err;
}

static attest_err cache_save(void *context, const char *key, const uint8_t *blob, size_t size,
                             attest_diag *diag)
{
    attestd_store *store = context;
    attest_collateral collateral = {0};
    attest_err err = attest_collateral_from_bundle((const char *)blob, size, &collateral, diag);
    time_t next_update = 0;
    const char *which = NULL;
    if (err == ATTEST_OK) {
        err = attest_collateral_earliest_next_update(&collateral, &next_update, &which, diag);
    }
    attest_collateral_clear(&collateral);
    if (err != ATTEST_OK) {
        return err;
    }
    return attestd_store_collateral_put(store, key, blob, size, (int64_t)next_update, diag);
}

static attest_err collateral_setup(attestd_service *service, attest_diag *diag)
{
    const attestd_service_options *options = &service->options;
    bool has_path = options->collateral_path != NULL && options->collateral_path[0] != '\0';
    bool has_url = options->pccs_url != NULL && options->pccs_url[0] != '\0';
    if (has_path && has_url) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "give either a collateral path or a PCCS URL, not both");
    }
    if (has_path) {
        attest_err err = attest_collateral_source_path(options->collateral_path,
                                                       &service->collateral, diag);
        service->has_collateral = err == ATTEST_OK;
        return err;
    }
    if (!has_url) {
        return ATTEST_OK;
    }

    attest_pccs_options pccs;
    attest_pccs_options_init(&pccs);
    pccs.base_url = options->pccs_url;
    pccs.ca_file = options->pccs_ca_file;
    pccs.update = options->pccs_update;
    pccs.root_ca_crl_from_distribution_point = options->pccs_intel_root_ca_crl;
    attest_collateral_source inner;
    attest_err err = attest_collateral_source_pccs(&pccs, &inner, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    attest_collateral_cache_options cache;
    attest_collateral_cache_options_init(&cache);
    cache.refresh_seconds = options->collateral_refresh_seconds;
    cache.store.context = service->store;
    cache.store.load = cache_load;
    cache.store.save = cache_save;
    err = attest_collateral_source_cache(&inner, &cache, &service->collateral, &service->cache,
                                         diag);
    service->has_collateral = err == ATTEST_OK;
    return err;
}

attest_err attestd_service_open(const attestd_service_options *options, attestd_store *store,
                                attestd_service **out_service, attest_diag *diag)
{
    if (options == NULL || store == NULL || out_service == NULL || options->data_dir == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    attestd_service *service = calloc(1, sizeof(*service));
    if (service == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    service->store = store;
    service->options = *options;
    pthread_rwlock_init(&service->keyset_lock, NULL);
    pthread_mutex_init(&service->rotate_mutex, NULL);
    pthread_mutex_init(&service->verifiers_lock, NULL);
    if (pthread_key_create(&service->verifier_key, NULL) != 0) {
        pthread_rwlock_destroy(&service->keyset_lock);
        pthread_mutex_destroy(&service->rotate_mutex);
        pthread_mutex_destroy(&service->verifiers_lock);
        free(service);
        return ATTEST_ERR_NOMEM;
    }

    time_t now = time(NULL);
    attest_err err = nonce_secret_load(options->data_dir, service->nonce_secret, diag);
    if (err == ATTEST_OK) {
        err = attest_keyset_new(options->max_token_lifetime_seconds, &service->keyset);
    }
    if (err == ATTEST_OK) {
        err = keyset_load(service, service->keyset, now, diag);
    }
    if (err == ATTEST_OK) {
        err = collateral_setup(service, diag);
    }
    /* Each trusted root is checked now, so a bad file fails at start-up, not per request. */
    for (size_t i = 0; err == ATTEST_OK && i < options->trust_root_count; i++) {
        attest_verifier *probe = NULL;
        err = attest_verifier_new(&probe);
        if (err == ATTEST_OK) {
            err = attest_verifier_add_root_file(probe, options->trust_roots[i], diag);
        }
        attest_verifier_free(probe);
    }
    if (err != ATTEST_OK) {
        attestd_service_close(service);
        return err;
    }
    *out_service = service;
    return ATTEST_OK;
}

void attestd_service_close(attestd_service *service)
{
    if (service == NULL) {
        return;
    }
    thread_verifier *entry = service->verifiers;
    while (entry != NULL) {
        thread_verifier *next = entry->next;
        attest_verifier_free(entry->verifier);
        free(entry);
        entry = next;
    }
    pthread_key_delete(service->verifier_key);
    if (service->has_collateral && service->collateral.destroy != NULL) {
        service->collateral.destroy(service->collateral.context);
    }
    attest_keyset_free(service->keyset);
    OPENSSL_cleanse(service->nonce_secret, sizeof(service->nonce_secret));
    pthread_rwlock_destroy(&service->keyset_lock);
    pthread_mutex_destroy(&service->rotate_mutex);
    pthread_mutex_destroy(&service->verifiers_lock);
    free(service);
}

attest_err attestd_service_nonce_issue(attestd_service *service, time_t now,
                                       char out_text[ATTEST_NONCE_TEXT_SIZE],
                                       uint8_t out_raw[ATTEST_NONCE_RAW_SIZE], time_t *out_expiry)
{
    attest_err err = attest_nonce_issue(service->nonce_secret, now,
                                        service->options.nonce_lifetime_seconds, out_text, out_raw);
    if (err == ATTEST_OK) {
        *out_expiry = now + (time_t)service->options.nonce_lifetime_seconds;
    }
    return err;
}

attest_err attestd_service_nonce_check(attestd_service *service, const char *text, time_t now,
                                       uint8_t out_raw[ATTEST_NONCE_RAW_SIZE], time_t *out_expiry,
                                       attest_diag *diag)
{
    return attest_nonce_check(service->nonce_secret, text, now, out_raw, out_expiry, diag);
}

/* Returns this thread's verifier, creating it with the trusted roots on first use. */
static attest_err thread_verifier_get(attestd_service *service, attest_verifier **out,
                                      attest_diag *diag)
{
    attest_verifier *verifier = pthread_getspecific(service->verifier_key);
    if (verifier != NULL) {
        *out = verifier;
        return ATTEST_OK;
    }
    attest_err err = attest_verifier_new(&verifier);
    for (size_t i = 0; err == ATTEST_OK && i < service->options.trust_root_count; i++) {
        err = attest_verifier_add_root_file(verifier, service->options.trust_roots[i], diag);
    }
    thread_verifier *entry = err == ATTEST_OK ? calloc(1, sizeof(*entry)) : NULL;
    if (err == ATTEST_OK && entry == NULL) {
        err = ATTEST_ERR_NOMEM;
    }
    if (err == ATTEST_OK && pthread_setspecific(service->verifier_key, verifier) != 0) {
        err = ATTEST_ERR_NOMEM;
    }
    if (err != ATTEST_OK) {
        free(entry);
        attest_verifier_free(verifier);
        return err;
    }
    entry->verifier = verifier;
    pthread_mutex_lock(&service->verifiers_lock);
    entry->next = service->verifiers;
    service->verifiers = entry;
    pthread_mutex_unlock(&service->verifiers_lock);
    *out = verifier;
    return ATTEST_OK;
}

attest_err attestd_service_verify(attestd_service *service, const uint8_t *quote, size_t size,
                                  time_t now, attest_report *out_report, attest_diag *diag)
{
    attest_verifier *verifier = NULL;
    attest_err err = thread_verifier_get(service, &verifier, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!service->has_collateral) {
        /* Without a source the report fails with collateral_missing, which no policy accepts. */
        return attest_verify_quote(verifier, quote, size, NULL, now, NULL, out_report);
    }

    attest_collateral_request request;
    err = attest_verifier_collateral_request(verifier, quote, size, &request, diag);
    if (err != ATTEST_OK) {
        /* The quote or its PCK chain is unreadable: the report names the failing check. */
        return attest_verify_quote(verifier, quote, size, NULL, now, NULL, out_report);
    }
    attest_collateral collateral = {0};
    attest_collateral_cache_stats before;
    attestd_service_collateral_stats(service, &before);
    err = service->collateral.get(service->collateral.context, &request, &collateral, diag);
    if (service->cache != NULL) {
        /*
         * NOTE: with concurrent requests another thread's fetch can land
         * between the two reads, so a hit and a miss may swap. The totals
         * still add up.
         */
        attest_collateral_cache_stats after;
        attestd_service_collateral_stats(service, &after);
        attestd_metrics_collateral(after.hits > before.hits ? ATTESTD_COLLATERAL_CACHE_HIT
                                                            : ATTESTD_COLLATERAL_CACHE_MISS);
    }
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_verify_quote(verifier, quote, size, &collateral, now, NULL, out_report);
    attest_collateral_clear(&collateral);
    return err;
}

attest_err attestd_service_token_issue(attestd_service *service, const attest_report *report,
                                       attest_token_params *params, time_t now, char **out_token,
                                       json_t **out_claims, attest_diag *diag)
{
    pthread_rwlock_rdlock(&service->keyset_lock);
    attest_err err = attest_token_issue(service->keyset, report, params, now, out_token,
                                        out_claims, diag);
    pthread_rwlock_unlock(&service->keyset_lock);
    return err;
}

attest_err attestd_service_token_sign(attestd_service *service, const json_t *claims,
                                      char **out_token, attest_diag *diag)
{
    json_t *iat = json_object_get(claims, "iat");
    json_t *exp = json_object_get(claims, "exp");
    if (!json_is_integer(iat) || !json_is_integer(exp) ||
        json_integer_value(exp) <= json_integer_value(iat) ||
        json_integer_value(exp) - json_integer_value(iat) >
            (json_int_t)service->options.max_token_lifetime_seconds) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "token claims need iat and exp at most %u s apart",
                               (unsigned)service->options.max_token_lifetime_seconds);
    }
    pthread_rwlock_rdlock(&service->keyset_lock);
    const attest_signing_key *key = attest_keyset_current(service->keyset);
    attest_err err = key != NULL ? attest_token_sign(key, claims, out_token, diag)
                                 : attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "no signing key");
    pthread_rwlock_unlock(&service->keyset_lock);
    return err;
}

attest_err attestd_service_jwks(attestd_service *service, time_t now, char **out_json)
{
    pthread_rwlock_rdlock(&service->keyset_lock);
    attest_err err = attest_keyset_jwks(service->keyset, now, out_json);
    pthread_rwlock_unlock(&service->keyset_lock);
    return err;
}

attest_err attestd_service_rotate_key(attestd_service *service, time_t now,
                                      char out_kid[ATTEST_TOKEN_KID_SIZE], attest_diag *diag)
{
    /* One rotation at a time, so the room checked here is still there below. */
    pthread_mutex_lock(&service->rotate_mutex);
    pthread_rwlock_wrlock(&service->keyset_lock);
    attest_keyset_prune(service->keyset, now);
    size_t published = attest_keyset_published_count(service->keyset, now);
    pthread_rwlock_unlock(&service->keyset_lock);
    if (published >= ATTEST_KEYSET_MAX_KEYS) {
        pthread_mutex_unlock(&service->rotate_mutex);
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "%zu signing keys are published, the most the key set holds: a "
                               "retired key leaves it max_token_lifetime_seconds (%u s) after "
                               "its retirement, so rotate again after that",
                               published, (unsigned)service->options.max_token_lifetime_seconds);
    }

    attest_signing_key *key = NULL;
    attest_err err = signing_key_create(service, now, false, &key, diag);
    if (err != ATTEST_OK) {
        pthread_mutex_unlock(&service->rotate_mutex);
        return err;
    }
    char kid[ATTEST_TOKEN_KID_SIZE];
    snprintf(kid, sizeof(kid), "%s", attest_signing_key_kid(key));

    pthread_rwlock_wrlock(&service->keyset_lock);
    const attest_signing_key *old = attest_keyset_current(service->keyset);
    char old_kid[ATTEST_TOKEN_KID_SIZE] = "";
    if (old != NULL) {
        snprintf(old_kid, sizeof(old_kid), "%s", attest_signing_key_kid(old));
    }
    err = attest_keyset_rotate(service->keyset, key, now);
    pthread_rwlock_unlock(&service->keyset_lock);
    if (err != ATTEST_OK) {
        pthread_mutex_unlock(&service->rotate_mutex);
        attest_signing_key_free(key);
        return attest_diag_set(diag, err, "the new signing key cannot join the key set");
    }
    if (old_kid[0] != '\0') {
        err = attestd_store_signing_key_retire(service->store, old_kid, (int64_t)now, diag);
    }
    pthread_mutex_unlock(&service->rotate_mutex);
    if (err != ATTEST_OK) {
        /*
         * The new key is stored and current. The old one stays unretired in
         * the store, and a later start treats it as retired when the new
         * key was created, which publishes it just as long.
         */
        return err;
    }
    snprintf(out_kid, ATTEST_TOKEN_KID_SIZE, "%s", kid);
    return ATTEST_OK;
}

attest_err attestd_service_reload_keys(attestd_service *service, time_t now, attest_diag *diag)
{
    attest_keyset *fresh = NULL;
    attest_err err = attest_keyset_new(service->options.max_token_lifetime_seconds, &fresh);
    if (err == ATTEST_OK) {
        err = keyset_load(service, fresh, now, diag);
    }
    if (err != ATTEST_OK) {
        attest_keyset_free(fresh);
        return err;
    }
    pthread_rwlock_wrlock(&service->keyset_lock);
    attest_keyset *old = service->keyset;
    service->keyset = fresh;
    pthread_rwlock_unlock(&service->keyset_lock);
    attest_keyset_free(old);
    return ATTEST_OK;
}

attest_err attestd_service_collateral_refresh(attestd_service *service,
                                              const attest_collateral_request *request,
                                              attest_diag *diag)
{
    if (service->cache == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "no PCCS source is configured, so there is no cache to refresh");
    }
    return attest_collateral_cache_refresh(service->cache, request, diag);
}

const char *attestd_service_issuer(const attestd_service *service)
{
    return service->options.issuer;
}

uint32_t attestd_service_max_token_lifetime(const attestd_service *service)
{
    return service->options.max_token_lifetime_seconds;
}

void attestd_service_collateral_stats(attestd_service *service,
                                      attest_collateral_cache_stats *out_stats)
{
    memset(out_stats, 0, sizeof(*out_stats));
    if (service->cache != NULL) {
        attest_collateral_cache_stats_get(service->cache, out_stats);
    }
}
