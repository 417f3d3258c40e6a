/*
 * A caching collateral source: an in-memory table of collateral by request,
 * refreshed on an interval, served while the inner source fails until the
 * collateral's earliest nextUpdate, and then failing closed.
 *
 * NOTE: the cache never checks signatures. A forged entry could only come
 * from the inner source, and the verifier rejects it at every use.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include <attest/pccs.h>
#include <attest/sim.h>
#include <attest/tcb.h>

#include "util/hex.h"

#define KEY_SIZE 32

typedef struct cache_entry {
    char key[KEY_SIZE];
    attest_collateral collateral;
    time_t fetched_at;
    time_t next_update;
    const char *next_update_source; /* static name of the document that expires first */
} cache_entry;

struct attest_collateral_cache {
    pthread_mutex_t lock;
    attest_collateral_source inner;
    attest_collateral_cache_options options;
    cache_entry *entries;
    size_t entry_count;
    attest_collateral_cache_stats stats;
};

void attest_collateral_cache_options_init(attest_collateral_cache_options *options)
{
    memset(options, 0, sizeof(*options));
    options->refresh_seconds = ATTEST_CACHE_DEFAULT_REFRESH_SECONDS;
    options->max_entries = ATTEST_CACHE_DEFAULT_MAX_ENTRIES;
}

/* ---- Earliest nextUpdate ---- */

static attest_err crl_next_update(const attest_bytes *der, const char *name, time_t *out_time,
                                  attest_diag *diag)
{
    const unsigned char *cursor = der->data;
    X509_CRL *crl = der->size > INT32_MAX ? NULL : d2i_X509_CRL(NULL, &cursor, (long)der->size);
    const ASN1_TIME *next = crl == NULL ? NULL : X509_CRL_get0_nextUpdate(crl);
    struct tm fields;
    memset(&fields, 0, sizeof(fields));
    bool ok = next != NULL && ASN1_TIME_to_tm(next, &fields) == 1;
    X509_CRL_free(crl);
    if (!ok) {
        return attest_diag_set(diag, ATTEST_ERR_CRL_PARSE,
                               "%s does not parse or has no nextUpdate (%zu bytes)", name,
                               der->size);
    }
    *out_time = timegm(&fields);
    return ATTEST_OK;
}

attest_err attest_collateral_earliest_next_update(const attest_collateral *collateral,
                                                  time_t *out_next_update,
                                                  const char **out_which, attest_diag *diag)
{
    if (collateral == NULL || out_next_update == NULL || out_which == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "collateral or output is NULL");
    }

    attest_tcb_info info;
    attest_err err = attest_tcb_info_parse((const char *)collateral->tcb_info.data,
                                           collateral->tcb_info.size, &info, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    time_t earliest = info.next_update;
    const char *which = "tcb_info";
    attest_tcb_info_free(&info);

    attest_qe_identity identity;
    err = attest_qe_identity_parse((const char *)collateral->qe_identity.data,
                                   collateral->qe_identity.size, &identity, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (identity.next_update < earliest) {
        earliest = identity.next_update;
        which = "qe_identity";
    }
    attest_qe_identity_free(&identity);

    const struct {
        const attest_bytes *der;
        const char *name;
    } crls[] = {{&collateral->pck_crl, "pck_crl"}, {&collateral->root_ca_crl, "root_ca_crl"}};
    for (size_t i = 0; i < sizeof(crls) / sizeof(crls[0]); i++) {
        time_t next = 0;
        err = crl_next_update(crls[i].der, crls[i].name, &next, diag);
        if (err != ATTEST_OK) {
            return err;
        }
        if (next < earliest) {
            earliest = next;
            which = crls[i].name;
        }
    }

    *out_next_update = earliest;
    *out_which = which;
    return ATTEST_OK;
}

/* ---- Copies ---- */

static attest_err bytes_copy(const attest_bytes *from, attest_bytes *to)
{
    to->data = malloc(from->size + 1);
    if (to->data == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    if (from->size > 0) {
        memcpy(to->data, from->data, from->size);
    }
    to->data[from->size] = 0;
    to->size = from->size;
    return ATTEST_OK;
}

static attest_err collateral_copy(const attest_collateral *from, attest_collateral *out_copy)
{
    const attest_bytes *sources[] = {
        &from->pck_crl_issuer_chain,     &from->root_ca_crl, &from->pck_crl,
        &from->tcb_info_issuer_chain,    &from->tcb_info,    &from->tcb_info_signature,
        &from->qe_identity_issuer_chain, &from->qe_identity, &from->qe_identity_signature,
    };
    attest_collateral copy;
    memset(&copy, 0, sizeof(copy));
    attest_bytes *targets[] = {
        &copy.pck_crl_issuer_chain,     &copy.root_ca_crl, &copy.pck_crl,
        &copy.tcb_info_issuer_chain,    &copy.tcb_info,    &copy.tcb_info_signature,
        &copy.qe_identity_issuer_chain, &copy.qe_identity, &copy.qe_identity_signature,
    };
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        if (bytes_copy(sources[i], targets[i]) != ATTEST_OK) {
            attest_collateral_clear(&copy);
            return ATTEST_ERR_NOMEM;
        }
    }
    *out_copy = copy;
    return ATTEST_OK;
}

/* ---- Table (callers hold the lock) ---- */

static void request_key(const attest_collateral_request *request, char out[KEY_SIZE])
{
    char fmspc[13];
    attest_hex_encode(request->fmspc, sizeof(request->fmspc), fmspc);
    for (size_t i = 0; fmspc[i] != '\0'; i++) {
        if (fmspc[i] >= 'a' && fmspc[i] <= 'f') {
            fmspc[i] = (char)(fmspc[i] - 'a' + 'A');
        }
    }
    snprintf(out, KEY_SIZE, "%s:%s:%.9s", request->tdx ? "tdx" : "sgx", fmspc,
             request->pck_ca == NULL ? "" : request->pck_ca);
}

static cache_entry *entry_find(attest_collateral_cache *cache, const char *key)
{
    for (size_t i = 0; i < cache->entry_count; i++) {
        if (strcmp(cache->entries[i].key, key) == 0) {
            return &cache->entries[i];
        }
    }
    return NULL;
}

/* Stores collateral (taking ownership) under key, replacing an entry or the oldest one. */
static void entry_put(attest_collateral_cache *cache, const char *key,
                      attest_collateral *collateral, time_t fetched_at, time_t next_update,
                      const char *next_update_source)
{
    cache_entry *entry = entry_find(cache, key);
    if (entry == NULL && cache->entry_count < cache->options.max_entries) {
        entry = &cache->entries[cache->entry_count++];
        memset(entry, 0, sizeof(*entry));
    }
    if (entry == NULL) {
        entry = &cache->entries[0];
        for (size_t i = 1; i < cache->entry_count; i++) {
            if (cache->entries[i].fetched_at < entry->fetched_at) {
                entry = &cache->entries[i];
            }
        }
    }
    attest_collateral_clear(&entry->collateral);
    snprintf(entry->key, sizeof(entry->key), "%s", key);
    entry->collateral = *collateral;
    memset(collateral, 0, sizeof(*collateral));
    entry->fetched_at = fetched_at;
    entry->next_update = next_update;
    entry->next_update_source = next_update_source;
}

static time_t cache_now(const attest_collateral_cache *cache)
{
    if (cache->options.clock != NULL) {
        return cache->options.clock(cache->options.clock_context);
    }
    return time(NULL);
}

/* ---- Store hooks ---- */

static void store_save(attest_collateral_cache *cache, const char *key,
                       const attest_collateral *collateral)
{
    if (cache->options.store.save == NULL) {
        return;
    }
    char *blob = NULL;
    attest_diag diag = {{0}};
    attest_err err = attest_sim_collateral_to_bundle(collateral, &blob, &diag);
    if (err == ATTEST_OK) {
        err = cache->options.store.save(cache->options.store.context, key, (const uint8_t *)blob,
                                        strlen(blob), &diag);
    }
    free(blob);
    if (err != ATTEST_OK) {
        pthread_mutex_lock(&cache->lock);
        cache->stats.store_errors++;
        pthread_mutex_unlock(&cache->lock);
    }
}

/* Loads collateral saved under key; ATTEST_OK with *out_found false when there is none. */
static attest_err store_load(attest_collateral_cache *cache, const char *key,
                             attest_collateral *out_collateral, bool *out_found)
{
    *out_found = false;
    if (cache->options.store.load == NULL) {
        return ATTEST_OK;
    }
    uint8_t *blob = NULL;
    size_t size = 0;
    attest_diag diag = {{0}};
    attest_err err = cache->options.store.load(cache->options.store.context, key, &blob, &size,
                                               &diag);
    if (err == ATTEST_OK && blob != NULL) {
        err = attest_collateral_from_bundle((const char *)blob, size, out_collateral, &diag);
        *out_found = err == ATTEST_OK;
    }
    free(blob);
    return err;
}

/* ---- Source ---- */

/* Fetches from inner and checks that the nextUpdate fields parse. */
static attest_err inner_fetch(attest_collateral_cache *cache,
                              const attest_collateral_request *request,
                              attest_collateral *out_collateral, time_t *out_next_update,
                              const char **out_which, attest_diag *diag)
{
    attest_collateral fetched;
    memset(&fetched, 0, sizeof(fetched));
    attest_err err = cache->inner.get(cache->inner.context, request, &fetched, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_collateral_earliest_next_update(&fetched, out_next_update, out_which, diag);
    if (err != ATTEST_OK) {
        attest_collateral_clear(&fetched);
        return err;
    }
    *out_collateral = fetched;
    return ATTEST_OK;
}

/* After a failed fetch: serves the entry (or a stored copy) until its nextUpdate. */
static attest_err serve_after_failure(attest_collateral_cache *cache, const char *key,
                                      time_t now, attest_err source_err,
                                      const attest_diag *source_diag,
                                      attest_collateral *out_collateral, attest_diag *diag)
{
    attest_collateral stored;
    memset(&stored, 0, sizeof(stored));
    bool found = false;
    time_t stored_next_update = 0;
    const char *stored_which = NULL;

    pthread_mutex_lock(&cache->lock);
    bool in_memory = entry_find(cache, key) != NULL;
    pthread_mutex_unlock(&cache->lock);
    if (!in_memory) {
        attest_err err = store_load(cache, key, &stored, &found);
        if (err == ATTEST_OK && found) {
            err = attest_collateral_earliest_next_update(&stored, &stored_next_update,
                                                         &stored_which, NULL);
            found = err == ATTEST_OK;
        }
        if (err != ATTEST_OK) {
            attest_collateral_clear(&stored);
            found = false;
            pthread_mutex_lock(&cache->lock);
            cache->stats.store_errors++;
            pthread_mutex_unlock(&cache->lock);
        }
    }

    pthread_mutex_lock(&cache->lock);
    if (found) {
        /* fetched_at 0 makes the next get ask the source first. */
        entry_put(cache, key, &stored, 0, stored_next_update, stored_which);
        cache->stats.store_loads++;
    }
    cache_entry *entry = entry_find(cache, key);
    attest_err err = source_err;
    if (entry == NULL) {
        attest_diag_set(diag, source_err, "%s", source_diag->message);
    } else if (now < entry->next_update) {
        err = collateral_copy(&entry->collateral, out_collateral);
        cache->stats.stale_served += err == ATTEST_OK ? 1 : 0;
    } else {
        char expiry[21];
        attest_time_format(entry->next_update, expiry);
        cache->stats.expired_failures++;
        err = attest_diag_set(diag, ATTEST_ERR_SOURCE_CACHE_EXPIRED,
                              "source failed (%s: %.120s) and cached %s expired at %s (%s)",
                              attest_err_code(source_err), source_diag->message, key, expiry,
                              entry->next_update_source);
    }
    pthread_mutex_unlock(&cache->lock);
    attest_collateral_clear(&stored);
    return err;
}

static attest_err cache_get(void *context, const attest_collateral_request *request,
                            attest_collateral *out_collateral, attest_diag *diag)
{
    attest_collateral_cache *cache = context;
    if (cache == NULL || request == NULL || out_collateral == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "cache, request or output is NULL");
    }
    char key[KEY_SIZE];
    request_key(request, key);
    time_t now = cache_now(cache);

    /* A fresh entry is served without asking the source. */
    pthread_mutex_lock(&cache->lock);
    cache_entry *entry = entry_find(cache, key);
    bool fresh = entry != NULL && now < entry->next_update &&
                 now - entry->fetched_at < (time_t)cache->options.refresh_seconds &&
                 now >= entry->fetched_at;
    attest_err err = ATTEST_OK;
    if (fresh) {
        err = collateral_copy(&entry->collateral, out_collateral);
        cache->stats.hits += err == ATTEST_OK ? 1 : 0;
    } else if (entry == NULL) {
        cache->stats.misses++;
    } else {
        cache->stats.refreshes++;
    }
    pthread_mutex_unlock(&cache->lock);
    if (fresh) {
        return err;
    }

    attest_collateral fetched;
    memset(&fetched, 0, sizeof(fetched));
    time_t next_update = 0;
    const char *which = NULL;
    attest_diag source_diag = {{0}};
    err = inner_fetch(cache, request, &fetched, &next_update, &which, &source_diag);
    if (err != ATTEST_OK) {
        pthread_mutex_lock(&cache->lock);
        cache->stats.fetch_errors++;
        pthread_mutex_unlock(&cache->lock);
        return serve_after_failure(cache, key, now, err, &source_diag, out_collateral, diag);
    }

    attest_collateral copy;
    err = collateral_copy(&fetched, &copy);
    if (err != ATTEST_OK) {
        attest_collateral_clear(&fetched);
        return err;
    }
    store_save(cache, key, &fetched);
    pthread_mutex_lock(&cache->lock);
    entry_put(cache, key, &fetched, now, next_update, which);
    pthread_mutex_unlock(&cache->lock);
    *out_collateral = copy;
    return ATTEST_OK;
}

attest_err attest_collateral_cache_refresh(attest_collateral_cache *cache,
                                           const attest_collateral_request *request,
                                           attest_diag *diag)
{
    if (cache == NULL || request == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "cache or request is NULL");
    }
    char key[KEY_SIZE];
    request_key(request, key);
    time_t now = cache_now(cache);

    attest_collateral fetched;
    memset(&fetched, 0, sizeof(fetched));
    time_t next_update = 0;
    const char *which = NULL;
    attest_err err = inner_fetch(cache, request, &fetched, &next_update, &which, diag);
    if (err != ATTEST_OK) {
        pthread_mutex_lock(&cache->lock);
        cache->stats.fetch_errors++;
        pthread_mutex_unlock(&cache->lock);
        return err;
    }
    store_save(cache, key, &fetched);
    pthread_mutex_lock(&cache->lock);
    cache->stats.refreshes++;
    entry_put(cache, key, &fetched, now, next_update, which);
    pthread_mutex_unlock(&cache->lock);
    return ATTEST_OK;
}

void attest_collateral_cache_stats_get(attest_collateral_cache *cache,
                                       attest_collateral_cache_stats *out_stats)
{
    pthread_mutex_lock(&cache->lock);
    *out_stats = cache->stats;
    out_stats->entries = cache->entry_count;
    pthread_mutex_unlock(&cache->lock);
}

static void cache_destroy(void *context)
{
    attest_collateral_cache *cache = context;
    if (cache == NULL) {
        return;
    }
    for (size_t i = 0; i < cache->entry_count; i++) {
        attest_collateral_clear(&cache->entries[i].collateral);
    }
    free(cache->entries);
    if (cache->inner.destroy != NULL) {
        cache->inner.destroy(cache->inner.context);
    }
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

attest_err attest_collateral_source_cache(attest_collateral_source *inner,
                                          const attest_collateral_cache_options *options,
                                          attest_collateral_source *out_source,
                                          attest_collateral_cache **out_cache, attest_diag *diag)
{
    if (inner == NULL || inner->get == NULL || options == NULL || out_source == NULL) {
        if (inner != NULL && inner->destroy != NULL) {
            inner->destroy(inner->context);
        }
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "inner source, its get, options or output is NULL");
    }
    if (options->refresh_seconds == 0 || options->max_entries == 0 ||
        options->max_entries > 65536) {
        if (inner->destroy != NULL) {
            inner->destroy(inner->context);
        }
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "refresh_seconds %u must be positive and max_entries %zu from 1 "
                               "to 65536",
                               options->refresh_seconds, options->max_entries);
    }

    attest_collateral_cache *cache = calloc(1, sizeof(*cache));
    cache_entry *entries = calloc(options->max_entries, sizeof(*entries));
    if (cache == NULL || entries == NULL || pthread_mutex_init(&cache->lock, NULL) != 0) {
        free(cache);
        free(entries);
        if (inner->destroy != NULL) {
            inner->destroy(inner->context);
        }
        return ATTEST_ERR_NOMEM;
    }
    cache->inner = *inner;
    cache->options = *options;
    cache->entries = entries;

    out_source->context = cache;
    out_source->get = cache_get;
    out_source->destroy = cache_destroy;
    if (out_cache != NULL) {
        *out_cache = cache;
    }
    return ATTEST_OK;
}
