/*
 * Recording checks into a verification report, and formatting the report as
 * JSON (jansson) or as text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/hex.h"
#include "verify/internal.h"

static const char *const stage_names[] = {
    [ATTEST_STAGE_PARSE] = "parse",
    [ATTEST_STAGE_PCK_CHAIN] = "pck_chain",
    [ATTEST_STAGE_COLLATERAL] = "collateral",
    [ATTEST_STAGE_QE_REPORT] = "qe_report",
    [ATTEST_STAGE_QUOTE_SIGNATURE] = "quote_signature",
    [ATTEST_STAGE_QE_IDENTITY] = "qe_identity",
    [ATTEST_STAGE_TCB] = "tcb",
};

const char *attest_stage_name(attest_stage stage)
{
    if ((unsigned)stage >= sizeof(stage_names) / sizeof(stage_names[0])) {
        return "unknown";
    }
    return stage_names[stage];
}

const char *attest_outcome_name(attest_outcome outcome)
{
    switch (outcome) {
    case ATTEST_CHECK_PASS:
        return "pass";
    case ATTEST_CHECK_FAIL:
        return "fail";
    case ATTEST_CHECK_SKIP:
        return "skip";
    }
    return "unknown";
}

static void check_fill(attest_check *check, attest_stage stage, const char *name, attest_err err,
                       const char *format, va_list args)
{
    check->stage = stage;
    check->name = name;
    check->err = err;
    check->outcome = err == ATTEST_OK ? ATTEST_CHECK_PASS : ATTEST_CHECK_FAIL;
    vsnprintf(check->detail, sizeof(check->detail), format, args);

    /*
     * Details quote text from unsigned documents and certificates: keep
     * printable ASCII only, so a cut multibyte character or a control
     * sequence can neither break the JSON report nor reach a terminal.
     */
    for (char *c = check->detail; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
            *c = '?';
        }
    }
}

void attest_check_list_add(attest_check_list *list, attest_stage stage, const char *name,
                           attest_err err, const char *format, ...)
{
    if (list->check_count >= ATTEST_CACHED_MAX_CHECKS) {
        return;
    }
    va_list args;
    va_start(args, format);
    check_fill(&list->checks[list->check_count++], stage, name, err, format, args);
    va_end(args);
}

void attest_check_list_window(attest_check_list *list, attest_stage stage, const char *name,
                              const char *subject, const X509 *cert, const X509_CRL *crl)
{
    if (list->window_count >= ATTEST_CACHED_MAX_WINDOWS) {
        return;
    }
    attest_window window = {stage, name, subject, 0, 0, ATTEST_OK, ATTEST_OK};
    bool converted = false;
    if (cert != NULL) {
        window.expired = ATTEST_ERR_CERT_EXPIRED;
        window.not_yet_valid = ATTEST_ERR_CERT_NOT_YET_VALID;
        converted = attest_asn1_time_to_time_t(X509_get0_notBefore(cert), &window.not_before) &&
                    attest_asn1_time_to_time_t(X509_get0_notAfter(cert), &window.not_after);
    } else if (crl != NULL) {
        window.expired = ATTEST_ERR_CRL_EXPIRED;
        window.not_yet_valid = ATTEST_ERR_CRL_NOT_YET_VALID;
        converted = attest_asn1_time_to_time_t(X509_CRL_get0_lastUpdate(crl), &window.not_before) &&
                    attest_asn1_time_to_time_t(X509_CRL_get0_nextUpdate(crl), &window.not_after);
    }
    if (!converted) {
        attest_check_list_add(list, stage, name, cert != NULL ? ATTEST_ERR_CERT_PARSE
                                                              : ATTEST_ERR_CRL_PARSE,
                              "%s validity dates cannot be read", subject);
        return;
    }
    list->windows[list->window_count++] = window;
}

bool attest_check_list_passed(const attest_check_list *list)
{
    for (size_t i = 0; i < list->check_count; i++) {
        if (list->checks[i].outcome == ATTEST_CHECK_FAIL) {
            return false;
        }
    }
    return true;
}

void attest_report_add(attest_report *report, attest_stage stage, const char *name,
                       attest_err err, const char *format, ...)
{
    if (report->check_count >= ATTEST_REPORT_MAX_CHECKS) {
        return;
    }
    va_list args;
    va_start(args, format);
    check_fill(&report->checks[report->check_count++], stage, name, err, format, args);
    va_end(args);
}

void attest_report_skip(attest_report *report, attest_stage stage, const char *name,
                        const char *reason)
{
    if (report->check_count >= ATTEST_REPORT_MAX_CHECKS) {
        return;
    }
    attest_check *check = &report->checks[report->check_count++];
    check->stage = stage;
    check->name = name;
    check->err = ATTEST_OK;
    check->outcome = ATTEST_CHECK_SKIP;
    snprintf(check->detail, sizeof(check->detail), "%s", reason);
}

void attest_report_expiry(attest_report *report, time_t expiry, const char *source)
{
    if (!report->has_earliest_expiry || expiry < report->earliest_expiry) {
        report->has_earliest_expiry = true;
        report->earliest_expiry = expiry;
        report->earliest_expiry_source = source;
    }
}

void attest_window_report(const attest_window *window, time_t t, attest_report *report)
{
    char before[21];
    char after[21];
    attest_time_format(window->not_before, before);
    attest_time_format(window->not_after, after);

    attest_report_expiry(report, window->not_after, window->name);
    if (t < window->not_before) {
        attest_report_add(report, window->stage, window->name, window->not_yet_valid,
                          "%s is not valid before %s", window->subject, before);
    } else if (t > window->not_after) {
        attest_report_add(report, window->stage, window->name, window->expired,
                          "%s expired at %s", window->subject, after);
    } else {
        attest_report_add(report, window->stage, window->name, ATTEST_OK,
                          "%s valid from %s to %s", window->subject, before, after);
    }
}

void attest_check_list_report(const attest_check_list *list, time_t t, attest_report *report)
{
    for (size_t i = 0; i < list->check_count; i++) {
        if (report->check_count < ATTEST_REPORT_MAX_CHECKS) {
            report->checks[report->check_count++] = list->checks[i];
        }
    }
    for (size_t i = 0; i < list->window_count; i++) {
        attest_window_report(&list->windows[i], t, report);
    }
}

/* ---- JSON ---- */

static json_t *hex_value(const uint8_t *data, size_t size)
{
    char text[2 * 128 + 1];
    if (size > 128) {
        return json_null();
    }
    attest_hex_encode(data, size, text);
    return json_string(text);
}

static json_t *hex_u16(uint16_t value)
{
    uint8_t bytes[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
    return hex_value(bytes, sizeof(bytes));
}

static json_t *hex_u32(uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                        (uint8_t)(value >> 24)};
    return hex_value(bytes, sizeof(bytes));
}

static json_t *time_value(time_t t)
{
    char text[21];
    attest_time_format(t, text);
    return json_string(text);
}

#define SET_HEX(object, body, field) \
    json_object_set_new((object), #field, hex_value((body)->field, sizeof((body)->field)))

/* Every field of an SGX report body, integers as their little-endian bytes in hex. */
static json_t *sgx_body_json(const attest_sgx_report_body *body)
{
    json_t *object = json_object();
    SET_HEX(object, body, cpu_svn);
    json_object_set_new(object, "misc_select", hex_u32(body->misc_select));
    SET_HEX(object, body, reserved1);
    SET_HEX(object, body, isv_ext_prod_id);
    SET_HEX(object, body, attributes);
    SET_HEX(object, body, mr_enclave);
    SET_HEX(object, body, reserved2);
    SET_HEX(object, body, mr_signer);
    SET_HEX(object, body, reserved3);
    SET_HEX(object, body, config_id);
    json_object_set_new(object, "isv_prod_id", hex_u16(body->isv_prod_id));
    json_object_set_new(object, "isv_svn", hex_u16(body->isv_svn));
    json_object_set_new(object, "config_svn", hex_u16(body->config_svn));
    SET_HEX(object, body, reserved4);
    SET_HEX(object, body, isv_family_id);
    SET_HEX(object, body, report_data);
    return object;
}

static json_t *td_body_json(const attest_td_report_body *body, bool td15)
{
    json_t *object = json_object();
    SET_HEX(object, body, tee_tcb_svn);
    SET_HEX(object, body, mr_seam);
    SET_HEX(object, body, mr_signer_seam);
    SET_HEX(object, body, seam_attributes);
    SET_HEX(object, body, td_attributes);
    SET_HEX(object, body, xfam);
    SET_HEX(object, body, mr_td);
    SET_HEX(object, body, mr_config_id);
    SET_HEX(object, body, mr_owner);
    SET_HEX(object, body, mr_owner_config);
    static const char *const rtmr_names[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    for (size_t i = 0; i < 4; i++) {
        json_object_set_new(object, rtmr_names[i], hex_value(body->rtmr[i], sizeof(body->rtmr[i])));
    }
    SET_HEX(object, body, report_data);
    if (td15) {
        SET_HEX(object, body, tee_tcb_svn2);
        SET_HEX(object, body, mr_service_td);
    }
    return object;
}

static json_t *header_json(const attest_quote_header *header)
{
    json_t *object = json_object();
    json_object_set_new(object, "version", json_integer(header->version));
    json_object_set_new(object, "attestation_key_type", json_integer(header->attestation_key_type));
    json_object_set_new(object, "tee_type", hex_u32(header->tee_type));
    json_object_set_new(object, "qe_svn", json_integer(header->qe_svn));
    json_object_set_new(object, "pce_svn", json_integer(header->pce_svn));
    SET_HEX(object, header, qe_vendor_id);
    SET_HEX(object, header, user_data);
    return object;
}

static const char *sgx_type_name(attest_sgx_type type)
{
    switch (type) {
    case ATTEST_SGX_TYPE_STANDARD:
        return "standard";
    case ATTEST_SGX_TYPE_SCALABLE:
        return "scalable";
    case ATTEST_SGX_TYPE_SCALABLE_WITH_INTEGRITY:
        return "scalable_with_integrity";
    }
    return "unknown";
}

static json_t *pck_json(const attest_report *report)
{
    const attest_pck_info *pck = &report->pck;
    json_t *object = json_object();
    json_object_set_new(object, "ca",
                        json_string(report->pck_ca == ATTEST_PCK_CA_PLATFORM ? "platform"
                                                                              : "processor"));
    SET_HEX(object, pck, ppid);
    json_t *components = json_array();
    for (size_t i = 0; i < 16; i++) {
        json_array_append_new(components, json_integer(pck->tcb_components[i]));
    }
    json_object_set_new(object, "tcb_components", components);
    json_object_set_new(object, "pcesvn", json_integer(pck->pcesvn));
    SET_HEX(object, pck, cpusvn);
    SET_HEX(object, pck, pce_id);
    SET_HEX(object, pck, fmspc);
    json_object_set_new(object, "sgx_type", json_string(sgx_type_name(pck->sgx_type)));
    if (pck->has_platform_instance_id) {
        SET_HEX(object, pck, platform_instance_id);
    }
    if (pck->has_configuration) {
        json_t *configuration = json_object();
        json_object_set_new(configuration, "dynamic_platform",
                            json_boolean(pck->dynamic_platform));
        json_object_set_new(configuration, "cached_keys", json_boolean(pck->cached_keys));
        json_object_set_new(configuration, "smt_enabled", json_boolean(pck->smt_enabled));
        json_object_set_new(object, "configuration", configuration);
    }
    return object;
}

static json_t *advisories_json(const attest_advisories *advisories)
{
    json_t *array = json_array();
    for (size_t i = 0; i < advisories->count; i++) {
        json_array_append_new(array, json_string(advisories->ids[i]));
    }
    return array;
}

static json_t *tcb_json(const attest_report *report)
{
    json_t *object = json_object();
    json_object_set_new(object, "status", json_string(attest_tcb_status_name(report->tcb_status)));
    json_object_set_new(object, "platform_status",
                        json_string(attest_tcb_status_name(report->platform_status)));
    json_object_set_new(object, "qe_status", json_string(attest_tcb_status_name(report->qe_status)));
    if (report->has_module_status) {
        json_object_set_new(object, "tdx_module_id", json_string(report->module_id));
        json_object_set_new(object, "tdx_module_status",
                            json_string(attest_tcb_status_name(report->module_status)));
    }
    json_object_set_new(object, "advisory_ids", advisories_json(&report->advisories));
    json_object_set_new(object, "tcb_date", time_value(report->tcb_date));
    json_object_set_new(object, "tcb_evaluation_data_number",
                        json_integer(report->tcb_evaluation_data_number));
    json_object_set_new(object, "relaunch_advised", json_boolean(report->relaunch_advised));
    return object;
}

static const char *body_type_name(attest_body_type type)
{
    switch (type) {
    case ATTEST_BODY_SGX:
        return "sgx";
    case ATTEST_BODY_TD10:
        return "td10";
    case ATTEST_BODY_TD15:
        return "td15";
    }
    return "unknown";
}

static json_t *claims_json(const attest_report *report)
{
    json_t *claims = json_object();
    if (report->parsed) {
        const attest_quote *quote = &report->quote;
        json_object_set_new(claims, "tee", json_string(attest_quote_is_tdx(quote) ? "TDX" : "SGX"));
        json_object_set_new(claims, "debug", json_boolean(report->debug));
        json_object_set_new(claims, "header", header_json(&quote->header));
        json_object_set_new(claims, "body_type", json_string(body_type_name(quote->body_type)));
        if (quote->body_type == ATTEST_BODY_SGX) {
            json_object_set_new(claims, "body", sgx_body_json(&quote->body.sgx));
        } else {
            json_object_set_new(claims, "body",
                                td_body_json(&quote->body.td, quote->body_type == ATTEST_BODY_TD15));
        }
        json_object_set_new(claims, "qe_report", sgx_body_json(&quote->qe_report));
        json_object_set_new(claims, "attestation_key",
                            hex_value(quote->attestation_key, sizeof(quote->attestation_key)));
        json_object_set_new(claims, "quote_size", json_integer((json_int_t)quote->quote_size));
        json_object_set_new(claims, "trailing_size", json_integer((json_int_t)quote->trailing_size));
    }
    if (report->has_root) {
        json_t *anchor = json_object();
        json_object_set_new(anchor, "subject", json_string(report->root_subject));
        json_object_set_new(anchor, "kind", json_string(report->simulated ? "added" : "intel"));
        json_object_set_new(claims, "trust_anchor", anchor);
    }
    if (report->has_pck) {
        json_object_set_new(claims, "pck", pck_json(report));
    }
    if (report->has_tcb_status) {
        json_object_set_new(claims, "tcb", tcb_json(report));
    }
    if (report->has_collateral) {
        json_t *collateral = json_object();
        json_object_set_new(collateral, "tcb_info_next_update",
                            time_value(report->tcb_info_next_update));
        json_object_set_new(collateral, "qe_identity_next_update",
                            time_value(report->qe_identity_next_update));
        json_object_set_new(claims, "collateral", collateral);
    }
    return claims;
}

static json_t *checks_json(const attest_report *report, bool pass_details)
{
    json_t *array = json_array();
    for (size_t i = 0; i < report->check_count; i++) {
        const attest_check *check = &report->checks[i];
        json_t *object = json_object();
        json_object_set_new(object, "stage", json_string(attest_stage_name(check->stage)));
        json_object_set_new(object, "check", json_string(check->name));
        json_object_set_new(object, "outcome", json_string(attest_outcome_name(check->outcome)));
        if (check->outcome == ATTEST_CHECK_FAIL) {
            json_object_set_new(object, "code", json_string(attest_err_code(check->err)));
        }
        if (pass_details || check->outcome != ATTEST_CHECK_PASS) {
            json_object_set_new(object, "detail", json_string(check->detail));
        }
        json_array_append_new(array, object);
    }
    return array;
}

/*
 * Builds the report object, with the decoded quote's claims when with_claims
 * is true and the detail of passed checks when pass_details is true.
 */
static json_t *report_json(const attest_report *report, bool with_claims, bool pass_details)
{
    json_t *root = json_object();
    if (root == NULL) {
        return NULL;
    }
    json_object_set_new(root, "valid", json_boolean(report->valid));
    json_object_set_new(root, "simulated", json_boolean(report->has_root && report->simulated));
    json_object_set_new(root, "tcb_status",
                        report->valid && report->has_tcb_status
                            ? json_string(attest_tcb_status_name(report->tcb_status))
                            : json_null());
    json_object_set_new(root, "advisory_ids",
                        report->valid ? advisories_json(&report->advisories) : json_array());
    json_object_set_new(root, "earliest_expiry",
                        report->has_earliest_expiry ? time_value(report->earliest_expiry)
                                                    : json_null());
    json_object_set_new(root, "earliest_expiry_source",
                        report->has_earliest_expiry ? json_string(report->earliest_expiry_source)
                                                    : json_null());
    json_object_set_new(root, "collateral_expired", json_boolean(report->collateral_expired));
    json_object_set_new(root, "verification_time", time_value(report->verification_time));
    if (with_claims) {
        json_object_set_new(root, "claims", claims_json(report));
    }
    json_object_set_new(root, "checks", checks_json(report, pass_details));
    if (!report->valid) {
        json_t *error = json_object();
        json_object_set_new(error, "stage", json_string(attest_stage_name(report->error_stage)));
        json_object_set_new(error, "code", json_string(attest_err_code(report->err)));
        json_object_set_new(error, "message", json_string(report->error_message));
        json_object_set_new(root, "error", error);
    }
    return root;
}

json_t *attest_report_to_json_object(const attest_report *report)
{
    return report_json(report, true, true);
}

json_t *attest_report_checks_to_json_object(const attest_report *report, bool pass_details)
{
    return report_json(report, false, pass_details);
}

char *attest_report_to_json(const attest_report *report, bool pretty)
{
    json_t *root = attest_report_to_json_object(report);
    if (root == NULL) {
        return NULL;
    }
    char *text = json_dumps(root, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

void attest_report_print(const attest_report *report, void *stream)
{
    FILE *out = stream;
    char when[21];
    attest_time_format(report->verification_time, when);
    fprintf(out, "verification time: %s\n", when);
    if (report->parsed) {
        const attest_quote *quote = &report->quote;
        fprintf(out, "quote: %s version %u, %s body, %zu bytes (%zu trailing)%s\n",
                attest_quote_is_tdx(quote) ? "TDX" : "SGX", quote->header.version,
                body_type_name(quote->body_type), quote->quote_size, quote->trailing_size,
                report->debug ? ", DEBUG" : "");
    }
    if (report->has_root) {
        fprintf(out, "trust anchor: %s%s\n", report->root_subject,
                report->simulated ? " (an added root, not Intel's: SIMULATED evidence)" : "");
    }
    if (report->has_pck) {
        char fmspc[13];
        attest_hex_encode(report->pck.fmspc, sizeof(report->pck.fmspc), fmspc);
        fprintf(out, "PCK: %s CA, FMSPC %s, PCESVN %u\n",
                report->pck_ca == ATTEST_PCK_CA_PLATFORM ? "Platform" : "Processor", fmspc,
                report->pck.pcesvn);
    }
    fprintf(out, "\nchecks:\n");
    for (size_t i = 0; i < report->check_count; i++) {
        const attest_check *check = &report->checks[i];
        fprintf(out, "  %-4s %-15s %-32s %s\n", attest_outcome_name(check->outcome),
                attest_stage_name(check->stage), check->name, check->detail);
    }
    fprintf(out, "\n");
    if (report->has_tcb_status && !report->valid) {
        fprintf(out, "TCB status: none, because the evidence is not valid (the TCB stage matched %s)\n",
                attest_tcb_status_name(report->tcb_status));
    } else if (report->has_tcb_status) {
        fprintf(out, "TCB status: %s", attest_tcb_status_name(report->tcb_status));
        for (size_t i = 0; i < report->advisories.count; i++) {
            fprintf(out, "%s%s", i == 0 ? ", advisories: " : " ", report->advisories.ids[i]);
        }
        fprintf(out, "\n");
    }
    if (report->has_earliest_expiry) {
        attest_time_format(report->earliest_expiry, when);
        fprintf(out, "earliest expiry: %s (%s)%s\n", when, report->earliest_expiry_source,
                report->collateral_expired ? ", EXPIRED at the verification time" : "");
    }
    if (report->valid) {
        fprintf(out, "result: valid\n");
    } else {
        fprintf(out, "result: NOT valid: stage %s, %s: %s\n", attest_stage_name(report->error_stage),
                attest_err_code(report->err), report->error_message);
    }
}
