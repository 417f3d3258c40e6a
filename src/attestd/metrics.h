/*
 * Prometheus metrics of attestd, rendered in the text exposition format
 * (version 0.0.4) at /metrics.
 *
 * Routes are the fixed route templates of http.c, so label values stay a
 * small, known set. The attestation, failing-stage and collateral counters
 * are exported with zero values from the start, so dashboards and alerts can
 * refer to them before the attestation endpoints increment them.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef ATTESTD_METRICS_H
#define ATTESTD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <attest/error.h>

/* Stages of the verification pipeline that can fail an attestation. */
typedef enum attestd_stage {
    ATTESTD_STAGE_REQUEST,
    ATTESTD_STAGE_NONCE,
    ATTESTD_STAGE_PARSE,
    ATTESTD_STAGE_COLLATERAL,
    ATTESTD_STAGE_PCK_CHAIN,
    ATTESTD_STAGE_QE_REPORT,
    ATTESTD_STAGE_QUOTE_SIGNATURE,
    ATTESTD_STAGE_QE_IDENTITY,
    ATTESTD_STAGE_TCB,
    ATTESTD_STAGE_APPRAISAL,
    ATTESTD_STAGE_TOKEN,
    ATTESTD_STAGE_AUDIT,
    ATTESTD_STAGE_COUNT_
} attestd_stage;

typedef enum attestd_metrics_evidence {
    ATTESTD_METRICS_EVIDENCE_SGX,
    ATTESTD_METRICS_EVIDENCE_TDX,
    ATTESTD_METRICS_EVIDENCE_COUNT_
} attestd_metrics_evidence;

typedef enum attestd_collateral_event {
    ATTESTD_COLLATERAL_CACHE_HIT,
    ATTESTD_COLLATERAL_CACHE_MISS,
    ATTESTD_COLLATERAL_FETCH_ERROR,
    ATTESTD_COLLATERAL_EVENT_COUNT_
} attestd_collateral_event;

/* Records one finished request; route_index is an index into attestd_http_route_names. */
void attestd_metrics_request(size_t route_index, unsigned status, double duration_seconds);

void attestd_metrics_attestation(attestd_metrics_evidence evidence, int accepted);
void attestd_metrics_stage_failure(attestd_stage stage);
/* Finds the stage whose metrics label is name; false when there is none. */
bool attestd_metrics_stage_find(const char *name, attestd_stage *out_stage);
void attestd_metrics_collateral(attestd_collateral_event event);

/*
 * Renders all metrics into a new NUL-terminated buffer that the caller frees.
 * route_names has route_count entries. Errors: ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attestd_metrics_render(const char *const *route_names,
                                                  size_t route_count, char **out_text,
                                                  size_t *out_size);

#endif
