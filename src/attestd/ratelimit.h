/*
 * Per-client rate limit of attestd: one token bucket per client address,
 * refilled at a steady rate up to a burst size.
 *
 * The table has a fixed number of buckets. When it is full, the bucket idle
 * for the longest time is reused, so a flood of distinct addresses cannot
 * grow memory. NOTE: a reused bucket starts full, so an address evicted that
 * way gets its burst again.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef ATTESTD_RATELIMIT_H
#define ATTESTD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <attest/error.h>

typedef struct attestd_ratelimit attestd_ratelimit;

/* Creates a limiter. Errors: ATTEST_ERR_NOMEM. */
ATTEST_MUST_USE attest_err attestd_ratelimit_create(double rate_per_second, unsigned burst,
                                                    attestd_ratelimit **out_limiter);

/* Changes the rate and burst of every bucket, as a configuration reload does. */
void attestd_ratelimit_configure(attestd_ratelimit *limiter, double rate_per_second,
                                 unsigned burst);

/*
 * Takes one token from the bucket of address at now_ms (monotonic
 * milliseconds). Returns true when allowed; otherwise *out_retry_after_seconds
 * gets the whole seconds until a token is available (at least 1).
 */
bool attestd_ratelimit_take(attestd_ratelimit *limiter, const char *address, uint64_t now_ms,
                            unsigned *out_retry_after_seconds);

void attestd_ratelimit_free(attestd_ratelimit *limiter);

#endif
