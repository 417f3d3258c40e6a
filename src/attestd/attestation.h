/*
 * The steps every attestation API of attestd shares, whatever its request
 * shape (the native /v1 API, the Azure- and BigDL-compatible ones): decoding
 * the evidence, loading the application's active policy, verifying and
 * appraising, the response's report, and the audit record that must exist
 * before a token does.
 */
#ifndef ATTESTD_ATTESTATION_H
#define ATTESTD_ATTESTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include <attest/attest.h>

#include "http.h"
#include "store.h"

/* The verifier named in tokens (EAR's ear.verifier-id). */
#define ATTESTD_VERIFIER_DEVELOPER "attest"
#define ATTESTD_VERIFIER_BUILD "attestd 0.1.0"

/*
 * Decodes standard base64 (padding required, no whitespace) into a new
 * buffer of at most max_size bytes, freed with free(). Returns false when
 * text is not standard base64 or decodes to more than max_size bytes.
 */
bool attestd_base64_decode(const char *text, size_t text_size, size_t max_size, uint8_t **out,
                           size_t *out_size);

/* The same for base64url, with or without padding (Azure's encoding). */
bool attestd_base64url_decode(const char *text, size_t text_size, size_t max_size, uint8_t **out,
                              size_t *out_size);

/* The outcome of one evaluation, before the response is written. */
/* How much of the evaluation a response shows: the request's "report" field. */
typedef enum attestd_report_level {
    ATTESTD_REPORT_CHECKS,  /* every check, with the detail only of checks that did not pass */
    ATTESTD_REPORT_DETAILS, /* every check with its detail */
    ATTESTD_REPORT_FULL,    /* every check with its detail, and the decoded quote */
} attestd_report_level;

/*
 * Reads "checks", "details" or "full" into out_level, and returns false for
 * any other text. NULL (the field is absent) gives default_level.
 */
bool attestd_report_level_parse(const char *text, attestd_report_level default_level,
                                attestd_report_level *out_level);

typedef struct attestd_evaluation {
    bool accepted;
    /* "request", "nonce", "collateral", a verification stage, "appraisal", "token" or "audit" */
    char stage[24];
    char code[64];
    char message[384];
    attest_report *report; /* allocated by attestd_evaluation_init */
    bool has_report;
    attest_appraisal appraisal;
    bool has_appraisal;
    attestd_report_level report_level;
} attestd_evaluation;

/* Allocates the report and returns false when out of memory. Free it with attestd_evaluation_clear. */
bool attestd_evaluation_init(attestd_evaluation *result);
void attestd_evaluation_clear(attestd_evaluation *result);

/* Marks the evaluation rejected at stage with err and message. */
void attestd_evaluation_reject(attestd_evaluation *result, const char *stage, attest_err err,
                               const char *message);

/*
 * Counts the attestation in the metrics by evidence type and verdict and,
 * when rejected, its stage. Call it once, when the verdict is final.
 */
void attestd_evaluation_count(const attestd_evaluation *result);

/*
 * Verifies evidence at now and appraises it against policy with binding's
 * report data rule. The metrics count the outcome in attestd_evaluation_count.
 * evidence_type, when not NULL, is "sgx" or "tdx" and must match the quote.
 */
void attestd_evaluate(const attestd_request *request, const attest_policy *policy,
                      const uint8_t *evidence, size_t evidence_size, const char *evidence_type,
                      const attest_report_data_binding *binding, time_t now,
                      attestd_evaluation *result);

/* Returns true when the evaluated quote is a TDX quote. */
bool attestd_evaluation_is_tdx(const attestd_evaluation *result);

/*
 * Builds the native response object: verdict, application, policy_version
 * (0: null), failure, verification report and appraisal, as much of
 * them as result->report_level sets.
 */
json_t *attestd_evaluation_json(const attestd_evaluation *result, const char *application,
                                int64_t policy_version);

/*
 * Builds the appraisal's checks as the native response shows them. A check
 * that passed has its "detail" only when pass_details is true.
 */
json_t *attestd_appraisal_json(const attest_appraisal *appraisal, bool pass_details);

/*
 * Loads and parses the active policy of application. On failure sets an
 * error response (404 policy_not_found, a store error, or 500 when the
 * stored policy no longer parses) and returns false.
 */
bool attestd_active_policy_load(const attestd_request *request, const char *application,
                                attestd_policy *out_stored, attest_policy **out_policy,
                                attestd_response *response);

/* Writes the policy id "APPLICATION/VERSION" and the hex SHA-256 of the stored policy. */
void attestd_policy_names(const attestd_policy *stored, const char *application,
                          char *out_id, size_t id_size, char out_hash[65]);

/*
 * Writes the audit record of one evaluation: evidence hash (without the
 * quote's unsigned trailing bytes), verdict, failing check, policy version,
 * token id (NULL: none) and the request's client and id.
 *
 * With a nonce (NULL: none), the same transaction consumes it, valid until
 * nonce_expiry: ATTEST_ERR_NONCE_REPLAYED or ATTEST_ERR_NONCE_EXPIRED then
 * mean that nothing was written.
 */
ATTEST_MUST_USE attest_err attestd_audit_write(const attestd_request *request,
                                               const char *application, const uint8_t *evidence,
                                               size_t evidence_size,
                                               const attestd_evaluation *result,
                                               int64_t policy_version, const char *token_id,
                                               const uint8_t *nonce, time_t nonce_expiry,
                                               int64_t *out_audit_id, attest_diag *diag);

/* Returns the token lifetime of a policy, cut to the service's maximum. */
uint32_t attestd_token_lifetime(const attestd_request *request, const attest_policy *policy);

#endif
