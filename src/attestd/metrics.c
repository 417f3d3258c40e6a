/* Counters and the request latency histogram behind /metrics. */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define ROUTE_MAX_COUNT 32
#define STATUS_SLOT_COUNT 16

/* Upper bounds of the latency histogram, in seconds. */
static const double latency_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,   1.0,  2.5,   5.0,  10.0};
#define LATENCY_BOUND_COUNT (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

typedef struct route_metrics {
    unsigned statuses[STATUS_SLOT_COUNT];
    unsigned long long status_counts[STATUS_SLOT_COUNT];
    unsigned long long buckets[LATENCY_BOUND_COUNT];
    unsigned long long count;
    double sum_seconds;
} route_metrics;

static const char *const stage_names[ATTESTD_STAGE_COUNT_] = {
    "request",         "nonce",       "parse", "collateral", "pck_chain", "qe_report",
    "quote_signature", "qe_identity", "tcb",   "appraisal",  "token",     "audit",
};
static const char *const evidence_names[ATTESTD_METRICS_EVIDENCE_COUNT_] = {"sgx", "tdx"};
static const char *const collateral_names[ATTESTD_COLLATERAL_EVENT_COUNT_] = {"hit", "miss",
                                                                              "fetch_error"};

static pthread_mutex_t metrics_mutex = PTHREAD_MUTEX_INITIALIZER;
static route_metrics routes[ROUTE_MAX_COUNT];
static unsigned long long attestations[ATTESTD_METRICS_EVIDENCE_COUNT_][2];
static unsigned long long stage_failures[ATTESTD_STAGE_COUNT_];
static unsigned long long collateral_events[ATTESTD_COLLATERAL_EVENT_COUNT_];

void attestd_metrics_request(size_t route_index, unsigned status, double duration_seconds)
{
    if (route_index >= ROUTE_MAX_COUNT) {
        return;
    }

    pthread_mutex_lock(&metrics_mutex);
    route_metrics *route = &routes[route_index];
    for (size_t i = 0; i < STATUS_SLOT_COUNT; i++) {
        if (route->statuses[i] == status || route->statuses[i] == 0) {
            route->statuses[i] = status;
            route->status_counts[i]++;
            break;
        }
    }
    for (size_t i = 0; i < LATENCY_BOUND_COUNT; i++) {
        if (duration_seconds <= latency_bounds[i]) {
            route->buckets[i]++;
        }
    }
    route->count++;
    route->sum_seconds += duration_seconds;
    pthread_mutex_unlock(&metrics_mutex);
}

void attestd_metrics_attestation(attestd_metrics_evidence evidence, int accepted)
{
    pthread_mutex_lock(&metrics_mutex);
    attestations[evidence][accepted ? 0 : 1]++;
    pthread_mutex_unlock(&metrics_mutex);
}

bool attestd_metrics_stage_find(const char *name, attestd_stage *out_stage)
{
    for (int stage = 0; stage < ATTESTD_STAGE_COUNT_; stage++) {
        if (strcmp(stage_names[stage], name) == 0) {
            *out_stage = (attestd_stage)stage;
            return true;
        }
    }
    return false;
}

void attestd_metrics_stage_failure(attestd_stage stage)
{
    pthread_mutex_lock(&metrics_mutex);
    stage_failures[stage]++;
    pthread_mutex_unlock(&metrics_mutex);
}

void attestd_metrics_collateral(attestd_collateral_event event)
{
    pthread_mutex_lock(&metrics_mutex);
    collateral_events[event]++;
    pthread_mutex_unlock(&metrics_mutex);
}

/* Output buffer that grows by doubling; a failed growth marks it failed. */
typedef struct text_buffer {
    char *data;
    size_t size;
    size_t capacity;
    bool failed;
} text_buffer;

static void append(text_buffer *buffer, const char *format, ...) ATTEST_PRINTF(2, 3);

static void append(text_buffer *buffer, const char *format, ...)
{
    if (buffer->failed) {
        return;
    }
    for (;;) {
        va_list arguments;
        va_start(arguments, format);
        int length = vsnprintf(buffer->data + buffer->size, buffer->capacity - buffer->size, format,
                               arguments);
        va_end(arguments);
        if (length < 0) {
            buffer->failed = true;
            return;
        }
        if ((size_t)length < buffer->capacity - buffer->size) {
            buffer->size += (size_t)length;
            return;
        }
        size_t capacity = buffer->capacity * 2 + (size_t)length;
        char *data = realloc(buffer->data, capacity);
        if (data == NULL) {
            buffer->failed = true;
            return;
        }
        buffer->data = data;
        buffer->capacity = capacity;
    }
}

static void render_requests(text_buffer *out, const char *const *route_names, size_t route_count)
{
    append(out, "# HELP attestd_http_requests_total HTTP requests by route and status.\n"
                "# TYPE attestd_http_requests_total counter\n");
    for (size_t r = 0; r < route_count && r < ROUTE_MAX_COUNT; r++) {
        for (size_t i = 0; i < STATUS_SLOT_COUNT && routes[r].statuses[i] != 0; i++) {
            append(out, "attestd_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                   route_names[r], routes[r].statuses[i], routes[r].status_counts[i]);
        }
    }

    append(out, "# HELP attestd_http_request_duration_seconds Time from the request headers "
                "to the queued response.\n"
                "# TYPE attestd_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r < route_count && r < ROUTE_MAX_COUNT; r++) {
        const route_metrics *route = &routes[r];
        for (size_t i = 0; i < LATENCY_BOUND_COUNT; i++) {
            append(out,
                   "attestd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                   route_names[r], latency_bounds[i], route->buckets[i]);
        }
        append(out, "attestd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
               route_names[r], route->count);
        append(out, "attestd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
               route_names[r], route->sum_seconds);
        append(out, "attestd_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
               route_names[r], route->count);
    }
}

static void render_attestations(text_buffer *out)
{
    append(out, "# HELP attestd_attestations_total Attestation requests by evidence type and "
                "verdict.\n"
                "# TYPE attestd_attestations_total counter\n");
    for (size_t e = 0; e < ATTESTD_METRICS_EVIDENCE_COUNT_; e++) {
        append(out, "attestd_attestations_total{evidence_type=\"%s\",verdict=\"accepted\"} %llu\n",
               evidence_names[e], attestations[e][0]);
        append(out, "attestd_attestations_total{evidence_type=\"%s\",verdict=\"rejected\"} %llu\n",
               evidence_names[e], attestations[e][1]);
    }

    append(out, "# HELP attestd_attestation_failures_total Rejected attestations by the stage "
                "that failed.\n"
                "# TYPE attestd_attestation_failures_total counter\n");
    for (size_t s = 0; s < ATTESTD_STAGE_COUNT_; s++) {
        append(out, "attestd_attestation_failures_total{stage=\"%s\"} %llu\n", stage_names[s],
               stage_failures[s]);
    }

    append(out, "# HELP attestd_collateral_total Collateral cache hits, misses and fetch "
                "errors.\n"
                "# TYPE attestd_collateral_total counter\n");
    for (size_t c = 0; c < ATTESTD_COLLATERAL_EVENT_COUNT_; c++) {
        append(out, "attestd_collateral_total{result=\"%s\"} %llu\n", collateral_names[c],
               collateral_events[c]);
    }
}

attest_err attestd_metrics_render(const char *const *route_names, size_t route_count,
                                  char **out_text, size_t *out_size)
{
    text_buffer buffer = {.data = malloc(4096), .size = 0, .capacity = 4096, .failed = false};
    if (buffer.data == NULL) {
        return ATTEST_ERR_NOMEM;
    }

    pthread_mutex_lock(&metrics_mutex);
    render_requests(&buffer, route_names, route_count);
    render_attestations(&buffer);
    pthread_mutex_unlock(&metrics_mutex);

    if (buffer.failed) {
        free(buffer.data);
        return ATTEST_ERR_NOMEM;
    }
    *out_text = buffer.data;
    *out_size = buffer.size;
    return ATTEST_OK;
}
