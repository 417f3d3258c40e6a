/* Internal interfaces of the collateral sources in src/lib/pccs. */
#ifndef ATTEST_PCCS_INTERNAL_H
#define ATTEST_PCCS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/pccs.h>

/* Limits and TLS settings of one GET. */
typedef struct pccs_http_config {
    const char *ca_file; /* NULL: the system's CA store */
    bool allow_http;     /* false: https only */
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_body_size;
    size_t max_header_size;
} pccs_http_config;

/* What one GET returned. header_value is the raw (still URL-encoded) value or NULL. */
typedef struct pccs_http_result {
    long status;
    uint8_t *body;
    size_t body_size;
    char *header_value;
    size_t header_size;
} pccs_http_result;

void pccs_http_result_clear(pccs_http_result *result);

/*
 * GETs url and captures the one response header named by any of
 * header_names (a NULL-terminated list of alternatives, compared without
 * regard to case; NULL for none). A second matching header fails with
 * ATTEST_ERR_SOURCE_HEADER. Any HTTP status is a success here; the caller
 * decides. Errors: ATTEST_ERR_SOURCE_UNREACHABLE, ATTEST_ERR_SOURCE_TLS,
 * ATTEST_ERR_LIMIT, ATTEST_ERR_ARGUMENT (URL or scheme), ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err pccs_http_get(const pccs_http_config *config, const char *url,
                                         const char *const *header_names,
                                         pccs_http_result *out_result, attest_diag *diag);

#endif
