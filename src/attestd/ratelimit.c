/* Token buckets by client address, in a fixed-size table with linear probing. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define BUCKET_COUNT 4096
#define PROBE_COUNT 16
#define ADDRESS_MAX_SIZE 64

typedef struct bucket {
    char address[ADDRESS_MAX_SIZE];
    double tokens;
    uint64_t updated_ms;
} bucket;

struct attestd_ratelimit {
    pthread_mutex_t mutex;
    double rate_per_second;
    double burst;
    bucket buckets[BUCKET_COUNT];
};

attest_err attestd_ratelimit_create(double rate_per_second, unsigned burst,
                                    attestd_ratelimit **out_limiter)
{
    attestd_ratelimit *limiter = calloc(1, sizeof(*limiter));
    if (limiter == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    pthread_mutex_init(&limiter->mutex, NULL);
    limiter->rate_per_second = rate_per_second;
    limiter->burst = burst;
    *out_limiter = limiter;
    return ATTEST_OK;
}

void attestd_ratelimit_configure(attestd_ratelimit *limiter, double rate_per_second, unsigned burst)
{
    pthread_mutex_lock(&limiter->mutex);
    limiter->rate_per_second = rate_per_second;
    limiter->burst = burst;
    for (size_t i = 0; i < BUCKET_COUNT; i++) {
        if (limiter->buckets[i].tokens > burst) {
            limiter->buckets[i].tokens = burst;
        }
    }
    pthread_mutex_unlock(&limiter->mutex);
}

/* FNV-1a over the address text. */
static uint32_t hash_address(const char *address)
{
    uint32_t hash = 2166136261u;
    for (const char *c = address; *c != '\0'; c++) {
        hash ^= (uint8_t)*c;
        hash *= 16777619u;
    }
    return hash;
}

/* Finds the bucket of address, or claims a free or the longest idle one. */
static bucket *find_bucket(attestd_ratelimit *limiter, const char *address, uint64_t now_ms)
{
    uint32_t start = hash_address(address) % BUCKET_COUNT;
    bucket *oldest = NULL;
    for (uint32_t i = 0; i < PROBE_COUNT; i++) {
        bucket *candidate = &limiter->buckets[(start + i) % BUCKET_COUNT];
        if (strncmp(candidate->address, address, ADDRESS_MAX_SIZE - 1) == 0) {
            return candidate;
        }
        if (candidate->address[0] == '\0') {
            oldest = candidate;
            break;
        }
        if (oldest == NULL || candidate->updated_ms < oldest->updated_ms) {
            oldest = candidate;
        }
    }

    snprintf(oldest->address, sizeof(oldest->address), "%s", address);
    oldest->tokens = limiter->burst;
    oldest->updated_ms = now_ms;
    return oldest;
}

bool attestd_ratelimit_take(attestd_ratelimit *limiter, const char *address, uint64_t now_ms,
                            unsigned *out_retry_after_seconds)
{
    pthread_mutex_lock(&limiter->mutex);
    bucket *entry = find_bucket(limiter, address, now_ms);

    if (now_ms > entry->updated_ms) {
        double elapsed_seconds = (double)(now_ms - entry->updated_ms) / 1000.0;
        entry->tokens += elapsed_seconds * limiter->rate_per_second;
        if (entry->tokens > limiter->burst) {
            entry->tokens = limiter->burst;
        }
        entry->updated_ms = now_ms;
    }

    bool allowed = entry->tokens >= 1.0;
    if (allowed) {
        entry->tokens -= 1.0;
    } else {
        double wait_seconds = (1.0 - entry->tokens) / limiter->rate_per_second;
        unsigned whole_seconds = (unsigned)wait_seconds;
        if ((double)whole_seconds < wait_seconds) {
            whole_seconds++;
        }
        *out_retry_after_seconds = whole_seconds < 1 ? 1 : whole_seconds;
    }
    pthread_mutex_unlock(&limiter->mutex);
    return allowed;
}

void attestd_ratelimit_free(attestd_ratelimit *limiter)
{
    if (limiter == NULL) {
        return;
    }
    pthread_mutex_destroy(&limiter->mutex);
    free(limiter);
}
