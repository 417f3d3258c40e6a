/*
 * Claims of an attestation token, built from a valid verification report
 * and the service's inputs.
 *
 * Layout: registered JWT claims (iss, sub, aud, iat, nbf, exp, jti), then
 * the EAR claims of draft-ietf-rats-ear (eat_profile, ear.verifier-id, and
 * submods with one entry named for the attester type). Then come the TCB
 * and policy claims, and the quote's measurements as lowercase hex under
 * the names Intel Trust Authority uses (sgx_* or tdx_*). docs/token.md
 * lists every claim.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "token/internal.h"
#include "util/hex.h"

#define EAR_PROFILE "tag:github.com,2023:veraison/ear"
#define JTI_SIZE 16

const char *attest_ear_status_name(attest_ear_status status)
{
    switch (status) {
    case ATTEST_EAR_AFFIRMING:
        return "affirming";
    case ATTEST_EAR_WARNING:
        return "warning";
    }
    return "unknown";
}

/* Sets claims[name] to the lowercase hex of data[0..size) (at most 64 bytes). */
static bool set_hex(json_t *claims, const char *name, const uint8_t *data, size_t size)
{
    char text[2 * 64 + 1];
    if (size > 64) {
        return false;
    }
    attest_hex_encode(data, size, text);
    return json_object_set_new(claims, name, json_string(text)) == 0;
}

static bool set_value(json_t *claims, const char *name, json_t *value)
{
    return value != NULL && json_object_set_new(claims, name, value) == 0;
}

static bool add_sgx_claims(json_t *claims, const attest_quote *quote)
{
    const attest_sgx_report_body *body = &quote->body.sgx;
    return set_hex(claims, "sgx_mrenclave", body->mr_enclave, sizeof(body->mr_enclave)) &&
           set_hex(claims, "sgx_mrsigner", body->mr_signer, sizeof(body->mr_signer)) &&
           set_value(claims, "sgx_isvprodid", json_integer(body->isv_prod_id)) &&
           set_value(claims, "sgx_isvsvn", json_integer(body->isv_svn)) &&
           set_value(claims, "sgx_is_debuggable", json_boolean(attest_quote_is_debug(quote))) &&
           set_hex(claims, "sgx_report_data", body->report_data, sizeof(body->report_data));
}

static bool add_tdx_claims(json_t *claims, const attest_quote *quote)
{
    const attest_td_report_body *body = &quote->body.td;
    static const char *const rtmr_names[4] = {"tdx_rtmr0", "tdx_rtmr1", "tdx_rtmr2",
                                              "tdx_rtmr3"};
    if (!set_hex(claims, "tdx_mrtd", body->mr_td, sizeof(body->mr_td))) {
        return false;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!set_hex(claims, rtmr_names[i], body->rtmr[i], sizeof(body->rtmr[i]))) {
            return false;
        }
    }
    return set_hex(claims, "tdx_mrconfigid", body->mr_config_id, sizeof(body->mr_config_id)) &&
           set_hex(claims, "tdx_mrowner", body->mr_owner, sizeof(body->mr_owner)) &&
           set_hex(claims, "tdx_mrownerconfig", body->mr_owner_config,
                   sizeof(body->mr_owner_config)) &&
           set_hex(claims, "tdx_mrseam", body->mr_seam, sizeof(body->mr_seam)) &&
           set_hex(claims, "tdx_td_attributes", body->td_attributes,
                   sizeof(body->td_attributes)) &&
           set_hex(claims, "tdx_xfam", body->xfam, sizeof(body->xfam)) &&
           set_hex(claims, "tdx_tee_tcb_svn", body->tee_tcb_svn, sizeof(body->tee_tcb_svn)) &&
           set_value(claims, "tdx_is_debuggable", json_boolean(attest_quote_is_debug(quote))) &&
           set_hex(claims, "tdx_report_data", body->report_data, sizeof(body->report_data));
}

/* Formats t as Intel writes TCB dates, "YYYY-MM-DDThh:mm:ssZ". */
static json_t *time_json(time_t t)
{
    struct tm parts;
    char text[32];
    if (gmtime_r(&t, &parts) == NULL ||
        strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts) == 0) {
        return NULL;
    }
    return json_string(text);
}

static json_t *advisories_json(const attest_advisories *advisories)
{
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < advisories->count; i++) {
        if (json_array_append_new(array, json_string(advisories->ids[i])) != 0) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

/* Checks the parameters and that the EAR status fits the report. */
static attest_err params_check(const attest_report *report, const attest_token_params *params,
                               attest_diag *diag)
{
    if (report == NULL || params == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "report or parameters are NULL");
    }
    if (!report->valid || !report->parsed || !report->has_tcb_status) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "report is not valid (error %s), so no token is issued",
                               attest_err_code(report->err));
    }
    const char *required[][2] = {{"issuer", params->issuer},
                                 {"subject", params->subject},
                                 {"verifier_developer", params->verifier_developer},
                                 {"verifier_build", params->verifier_build},
                                 {"policy_id", params->policy_id},
                                 {"policy_hash", params->policy_hash}};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (required[i][1] == NULL || required[i][1][0] == '\0') {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "token parameter %s is missing",
                                   required[i][0]);
        }
    }
    if (params->lifetime == 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "token lifetime is 0 seconds");
    }
    if (params->cnf_jwk != NULL && !json_is_object(params->cnf_jwk)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "cnf JWK is not a JSON object");
    }

    switch (params->status) {
    case ATTEST_EAR_AFFIRMING:
        /* Fail closed: a degraded result must be marked as the warning the policy accepted. */
        if (report->tcb_status != ATTEST_TCB_UP_TO_DATE || report->debug || report->simulated) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "EAR status affirming needs TCB status UpToDate, no debug "
                                   "mode and hardware evidence, but the TCB status is %s%s%s; "
                                   "pass warning",
                                   attest_tcb_status_name(report->tcb_status),
                                   report->debug ? " in debug mode" : "",
                                   report->simulated ? " from a simulated platform" : "");
        }
        return ATTEST_OK;
    case ATTEST_EAR_WARNING:
        return ATTEST_OK;
    }
    return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "EAR status %d is unknown",
                           (int)params->status);
}

static bool add_registered_claims(json_t *claims, const attest_token_params *params, time_t now,
                                  const char *jti)
{
    long long issued = (long long)now;
    return set_value(claims, "iss", json_string(params->issuer)) &&
           set_value(claims, "sub", json_string(params->subject)) &&
           (params->audience == NULL ||
            set_value(claims, "aud", json_string(params->audience))) &&
           set_value(claims, "iat", json_integer(issued)) &&
           set_value(claims, "nbf", json_integer(issued)) &&
           set_value(claims, "exp", json_integer(issued + params->lifetime)) &&
           set_value(claims, "jti", json_string(jti)) &&
           (params->nonce == NULL || (set_value(claims, "nonce", json_string(params->nonce)) &&
                                      set_value(claims, "eat_nonce", json_string(params->nonce))));
}

static bool add_ear_claims(json_t *claims, const attest_token_params *params,
                           const char *attester_type)
{
    json_t *verifier = json_pack("{s:s,s:s}", "developer", params->verifier_developer, "build",
                                 params->verifier_build);
    json_t *submods = json_pack("{s:{s:s,s:s}}", attester_type, "ear.status",
                                attest_ear_status_name(params->status), "ear.appraisal-policy-id",
                                params->policy_id);
    return set_value(claims, "eat_profile", json_string(EAR_PROFILE)) &&
           set_value(claims, "ear.verifier-id", verifier) &&
           set_value(claims, "submods", submods);
}

static bool add_appraisal_claims(json_t *claims, const attest_report *report,
                                 const attest_token_params *params, const char *attester_type)
{
    return set_value(claims, "attester_type", json_string(attester_type)) &&
           set_value(claims, "tcb_status",
                     json_string(attest_tcb_status_name(report->tcb_status))) &&
           set_value(claims, "tcb_date", time_json(report->tcb_date)) &&
           set_value(claims, "advisory_ids", advisories_json(&report->advisories)) &&
           set_value(claims, "tcb_evaluation_data_number",
                     json_integer(report->tcb_evaluation_data_number)) &&
           set_value(claims, "policy_id", json_string(params->policy_id)) &&
           set_value(claims, "policy_version", json_integer((json_int_t)params->policy_version)) &&
           set_value(claims, "policy_hash", json_string(params->policy_hash)) &&
           set_value(claims, "simulated", json_boolean(report->simulated));
}

attest_err attest_token_claims_build(const attest_report *report,
                                     const attest_token_params *params, time_t now,
                                     json_t **out_claims, attest_diag *diag)
{
    attest_err err = params_check(report, params, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (params->policy_version > (uint64_t)INT64_MAX) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "policy version does not fit a JSON integer");
    }

    uint8_t jti_bytes[JTI_SIZE];
    char jti[TOKEN_B64URL_LENGTH(JTI_SIZE) + 1];
    if (RAND_bytes(jti_bytes, sizeof(jti_bytes)) != 1) {
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "RAND_bytes failed for the jti");
    }
    token_b64url_encode(jti_bytes, sizeof(jti_bytes), jti);

    bool tdx = attest_quote_is_tdx(&report->quote);
    const char *attester_type = tdx ? "tdx" : "sgx";
    json_t *claims = json_object();
    bool built = claims != NULL && add_registered_claims(claims, params, now, jti) &&
                 add_ear_claims(claims, params, attester_type) &&
                 add_appraisal_claims(claims, report, params, attester_type) &&
                 (tdx ? add_tdx_claims(claims, &report->quote)
                      : add_sgx_claims(claims, &report->quote)) &&
                 (params->cnf_jwk == NULL ||
                  set_value(claims, "cnf",
                            json_pack("{s:O}", "jwk", (json_t *)params->cnf_jwk)));
    if (!built) {
        json_decref(claims);
        return ATTEST_ERR_NOMEM;
    }
    *out_claims = claims;
    return ATTEST_OK;
}

attest_err attest_token_issue(const attest_keyset *set, const attest_report *report,
                              const attest_token_params *params, time_t now, char **out_token,
                              json_t **out_claims, attest_diag *diag)
{
    if (set == NULL || params == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "key set or parameters are NULL");
    }
    const attest_signing_key *key = attest_keyset_current(set);
    if (key == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "key set has no current key");
    }
    if (params->lifetime > attest_keyset_max_token_lifetime(set)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "token lifetime %u s exceeds the key set's maximum of %u s",
                               (unsigned)params->lifetime,
                               (unsigned)attest_keyset_max_token_lifetime(set));
    }

    json_t *claims = NULL;
    attest_err err = attest_token_claims_build(report, params, now, &claims, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    char *token = NULL;
    err = attest_token_sign(key, claims, &token, diag);
    if (err != ATTEST_OK) {
        json_decref(claims);
        return err;
    }
    *out_token = token;
    if (out_claims != NULL) {
        *out_claims = claims;
    } else {
        json_decref(claims);
    }
    return ATTEST_OK;
}
