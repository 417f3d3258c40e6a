/*
 * Intel DCAP ECDSA quote verification.
 *
 * The checks run in this order of stages, and the first failing stage
 * decides the error:
 *   parse            framing of the quote (quote.h)
 *   pck_chain        PCK chain to a trusted root: signatures, byte-identical
 *                    root, validity periods, root CA CRL and PCK CRL
 *   collateral       TCB info and QE identity: issuer chains, signatures,
 *                    validity windows, FMSPC and PCE-ID
 *   qe_report        QE report signature by the PCK key, QE report data
 *   quote_signature  attestation key signature over header and body
 *   qe_identity      QE MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES, TCB level
 *   tcb              platform TCB level, TDX module, merged TCB status
 * Where one verification time makes several checks of a stage fail, all of
 * them are reported. The verification time is always an input.
 *
 * Thread safety: an attest_verifier caches verified collateral and PCK
 * chains without locking, so use one verifier per thread.
 */
#ifndef ATTEST_VERIFY_H
#define ATTEST_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <attest/collateral.h>
#include <attest/error.h>
#include <attest/pck.h>
#include <attest/quote.h>
#include <attest/tcb.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum attest_stage {
    ATTEST_STAGE_PARSE,
    ATTEST_STAGE_PCK_CHAIN,
    ATTEST_STAGE_COLLATERAL,
    ATTEST_STAGE_QE_REPORT,
    ATTEST_STAGE_QUOTE_SIGNATURE,
    ATTEST_STAGE_QE_IDENTITY,
    ATTEST_STAGE_TCB,
} attest_stage;

/* Returns "parse", "pck_chain", "collateral", ... */
const char *attest_stage_name(attest_stage stage);

typedef enum attest_outcome {
    ATTEST_CHECK_PASS,
    ATTEST_CHECK_FAIL,
    ATTEST_CHECK_SKIP, /* not run, because its inputs are missing */
} attest_outcome;

/* Returns "pass", "fail" or "skip". */
const char *attest_outcome_name(attest_outcome outcome);

typedef struct attest_check {
    attest_stage stage;
    const char *name; /* static string, such as "pck_certificate_validity" */
    attest_outcome outcome;
    attest_err err;   /* ATTEST_OK unless outcome is fail */
    char detail[192];
} attest_check;

#define ATTEST_REPORT_MAX_CHECKS 96

typedef struct attest_report {
    /* True only when every stage passed, whatever the TCB status. */
    bool valid;

    /* First failure: stage, error and message. err is ATTEST_OK when valid. */
    attest_err err;
    attest_stage error_stage;
    char error_message[256];

    bool parsed;         /* quote decoded: the claims below are set */
    attest_quote quote;  /* borrows the caller's quote bytes */
    bool debug;

    /*
     * Trust anchor of the PCK chain, when the chain ends at a trusted root:
     * simulated is true for any root other than the compiled-in Intel SGX
     * Root CA, that is a root the caller added with attest_verifier_add_root.
     */
    bool has_root;
    bool simulated;
    char root_subject[160];

    bool has_pck;        /* PCK certificate decoded */
    attest_pck_ca pck_ca;
    attest_pck_info pck;

    bool has_collateral;
    bool has_tcb_status;
    attest_tcb_status tcb_status;       /* merged platform, TDX module and QE */
    attest_tcb_status platform_status;
    bool has_module_status;
    attest_tcb_status module_status;
    char module_id[16];
    attest_tcb_status qe_status;
    attest_advisories advisories;       /* union of platform, module and QE levels */
    time_t tcb_date;
    uint32_t tcb_evaluation_data_number;
    bool relaunch_advised;

    /* Soonest nextUpdate or notAfter among the collateral and certificates used. */
    bool has_earliest_expiry;
    time_t earliest_expiry;
    const char *earliest_expiry_source; /* static, such as "qe_identity" */
    bool collateral_expired;
    time_t tcb_info_next_update;
    time_t qe_identity_next_update;

    time_t verification_time;

    size_t check_count;
    attest_check checks[ATTEST_REPORT_MAX_CHECKS];
} attest_report;

typedef struct attest_verifier attest_verifier;

typedef struct attest_verify_options {
    /* Parse and verify the collateral for every quote (benchmark baseline). */
    bool no_collateral_cache;
    /* Verify the PCK chain for every quote (benchmark baseline). */
    bool no_chain_cache;
} attest_verify_options;

/* Creates a verifier that trusts the compiled-in Intel SGX Root CA only. */
ATTEST_MUST_USE attest_err attest_verifier_new(attest_verifier **out_verifier);

/*
 * Adds a root certificate (DER) that the verifier trusts besides Intel's.
 * Used for a simulated platform; never called implicitly.
 */
ATTEST_MUST_USE attest_err attest_verifier_add_root(attest_verifier *verifier,
                                                    const uint8_t *der, size_t size,
                                                    attest_diag *diag);

/* Adds the root certificate in the file at path, DER or PEM, like attest_verifier_add_root. */
ATTEST_MUST_USE attest_err attest_verifier_add_root_file(attest_verifier *verifier,
                                                         const char *path, attest_diag *diag);

void attest_verifier_free(attest_verifier *verifier);

/*
 * Verifies the quote in quote[0..size) at time at, with collateral when not
 * NULL, and fills out_report. Returns report->err: ATTEST_OK when valid.
 * Without collateral the checks that need none run and the result is
 * ATTEST_ERR_COLLATERAL_MISSING. out_report->quote borrows quote.
 */
ATTEST_MUST_USE attest_err attest_verify_quote(attest_verifier *verifier, const uint8_t *quote,
                                               size_t size, const attest_collateral *collateral,
                                               time_t at, const attest_verify_options *options,
                                               attest_report *out_report);

/*
 * Finds which collateral quote needs: its TEE, and the FMSPC and issuing CA
 * of its PCK certificate. Uses and fills the verifier's PCK chain cache, so
 * the verification that follows does not decode the chain again.
 * Errors: the parse errors of the quote, ATTEST_ERR_CERT_PARSE or
 * ATTEST_ERR_PCK_EXTENSION when the PCK certificate cannot be read.
 */
ATTEST_MUST_USE attest_err attest_verifier_collateral_request(attest_verifier *verifier,
                                                              const uint8_t *quote, size_t size,
                                                              attest_collateral_request *out_request,
                                                              attest_diag *diag);

/*
 * Formats report as one JSON object (keys valid, tcb_status, advisory_ids,
 * earliest_expiry, collateral_expired, claims, checks, error) and returns a
 * string the caller frees with free(), or NULL when out of memory.
 */
char *attest_report_to_json(const attest_report *report, bool pretty);

/*
 * Builds the same object as attest_report_to_json as a jansson value, for
 * callers that embed it in a larger document. The caller releases it with
 * json_decref; NULL when out of memory.
 */
struct json_t *attest_report_to_json_object(const attest_report *report);

/*
 * Builds the object of attest_report_to_json_object without its "claims"
 * member: the outcome and every check, for responses that stay small. A
 * check that passed has its "detail" only when pass_details is true; the
 * others always have it.
 */
struct json_t *attest_report_checks_to_json_object(const attest_report *report,
                                                   bool pass_details);

/* Writes report as readable text to file. */
void attest_report_print(const attest_report *report, void *file);

#ifdef __cplusplus
}
#endif

#endif
