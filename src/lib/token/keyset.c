/* The signing key set: the current key, retired keys and the published JWKS. */
#include <stdlib.h>
#include <string.h>

#include "token/internal.h"

typedef struct keyset_entry {
    attest_signing_key *key;
    bool retired;
    time_t retired_at;
} keyset_entry;

struct attest_keyset {
    uint32_t max_token_lifetime;
    size_t count;
    keyset_entry entries[ATTEST_KEYSET_MAX_KEYS]; /* entries[0] is current when not retired */
};

attest_err attest_keyset_new(uint32_t max_token_lifetime, attest_keyset **out_set)
{
    if (max_token_lifetime == 0) {
        return ATTEST_ERR_ARGUMENT;
    }
    attest_keyset *set = calloc(1, sizeof(*set));
    if (set == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    set->max_token_lifetime = max_token_lifetime;
    *out_set = set;
    return ATTEST_OK;
}

void attest_keyset_free(attest_keyset *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        attest_signing_key_free(set->entries[i].key);
    }
    free(set);
}

uint32_t attest_keyset_max_token_lifetime(const attest_keyset *set)
{
    return set->max_token_lifetime;
}

/* True when entry is still in the JWKS at now (see attest_keyset in token.h). */
static bool entry_published(const attest_keyset *set, const keyset_entry *entry, time_t now)
{
    if (!entry->retired) {
        return true;
    }
    long long until = (long long)entry->retired_at + (long long)set->max_token_lifetime +
                      ATTEST_TOKEN_CLOCK_SKEW_DEFAULT;
    return (long long)now < until;
}

void attest_keyset_prune(attest_keyset *set, time_t now)
{
    size_t kept_count = 0;
    for (size_t i = 0; i < set->count; i++) {
        if (entry_published(set, &set->entries[i], now)) {
            set->entries[kept_count++] = set->entries[i];
        } else {
            attest_signing_key_free(set->entries[i].key);
        }
    }
    memset(&set->entries[kept_count], 0, (set->count - kept_count) * sizeof(set->entries[0]));
    set->count = kept_count;
}

static attest_err keyset_check_new(const attest_keyset *set, const attest_signing_key *key)
{
    if (key == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(attest_signing_key_kid(set->entries[i].key), attest_signing_key_kid(key)) ==
            0) {
            return ATTEST_ERR_ARGUMENT;
        }
    }
    if (set->count == ATTEST_KEYSET_MAX_KEYS) {
        return ATTEST_ERR_LIMIT;
    }
    return ATTEST_OK;
}

attest_err attest_keyset_rotate(attest_keyset *set, attest_signing_key *key, time_t now)
{
    attest_keyset_prune(set, now);
    attest_err err = keyset_check_new(set, key);
    if (err != ATTEST_OK) {
        return err;
    }

    if (set->count > 0 && !set->entries[0].retired) {
        set->entries[0].retired = true;
        set->entries[0].retired_at = now;
    }
    memmove(&set->entries[1], &set->entries[0], set->count * sizeof(set->entries[0]));
    set->entries[0] = (keyset_entry){.key = key, .retired = false, .retired_at = 0};
    set->count++;
    return ATTEST_OK;
}

attest_err attest_keyset_add_retired(attest_keyset *set, attest_signing_key *key,
                                     time_t retired_at)
{
    attest_err err = keyset_check_new(set, key);
    if (err != ATTEST_OK) {
        return err;
    }
    set->entries[set->count++] = (keyset_entry){.key = key, .retired = true,
                                                .retired_at = retired_at};
    return ATTEST_OK;
}

const attest_signing_key *attest_keyset_current(const attest_keyset *set)
{
    if (set->count == 0 || set->entries[0].retired) {
        return NULL;
    }
    return set->entries[0].key;
}

size_t attest_keyset_published_count(const attest_keyset *set, time_t now)
{
    size_t count = 0;
    for (size_t i = 0; i < set->count; i++) {
        if (entry_published(set, &set->entries[i], now)) {
            count++;
        }
    }
    return count;
}

attest_err attest_keyset_jwks(const attest_keyset *set, time_t now, char **out_json)
{
    if (attest_keyset_current(set) == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    json_t *keys = json_array();
    json_t *jwks = json_pack("{s:o}", "keys", keys);
    if (jwks == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    for (size_t i = 0; i < set->count; i++) {
        if (!entry_published(set, &set->entries[i], now)) {
            continue;
        }
        /* The public JWK has no secret, so a shared reference is safe. */
        json_t *jwk = (json_t *)attest_signing_key_public_jwk(set->entries[i].key);
        if (json_array_append(keys, jwk) != 0) {
            json_decref(jwks);
            return ATTEST_ERR_NOMEM;
        }
    }
    char *text = json_dumps(jwks, JSON_COMPACT);
    json_decref(jwks);
    if (text == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    *out_json = text;
    return ATTEST_OK;
}
