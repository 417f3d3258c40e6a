/*
 * Appraisal policies: parsing of valid and hostile documents, and appraisal
 * of real reports. The reports come from quotes of the simulated platform,
 * verified with its root trusted, and from the real quotes of the shared data.
 * Each appraisal row names how the policy or the evidence was changed and
 * which check must fail first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <libgen.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include <attest/attest.h>
#include <attest/policy.h>
#include <attest/sim.h>

#include "support.h"
#include "util/file.h"
#include "util/hex.h"

/* Verification time of the simulated evidence: 2025-10-09T08:53:20Z. */
#define AT ((time_t)1760000000)

/* ---- policy parsing helpers ---- */

static attest_err parse_text(const char *text, attest_policy **out_policy, attest_diag *diag)
{
    return attest_policy_parse(text, strlen(text), out_policy, diag);
}

/* Returns size bytes of byte as a new JSON hex string. */
static json_t *hex_json(uint8_t byte, size_t size)
{
    uint8_t data[64];
    char text[129];
    memset(data, byte, size);
    attest_hex_encode(data, size, text);
    return json_string(text);
}

/* Applies the JSON merge patch (RFC 7396) patch to target: null deletes a key. */
static void merge_patch(json_t *target, json_t *patch)
{
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach (patch, key, value) {
        json_t *current = json_object_get(target, key);
        if (json_is_null(value)) {
            json_object_del(target, key);
        } else if (json_is_object(value) && json_is_object(current)) {
            merge_patch(current, value);
        } else {
            json_object_set(target, key, value);
        }
    }
}

/* ---- the evidence of the simulated platform ---- */

typedef struct fixture {
    char dir[64];
    attest_sim_platform *platform;
    uint8_t *root_der;
    size_t root_der_size;
    attest_report report;
    attest_appraisal appraisal;
} fixture;

static int platform_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/attest-policy-XXXXXX");
    attest_diag diag = {{0}};
    char path[128];
    if (mkdtemp(f->dir) == NULL || attest_sim_platform_init(f->dir, &diag) != ATTEST_OK ||
        attest_sim_platform_open(f->dir, &f->platform, &diag) != ATTEST_OK ||
        snprintf(path, sizeof(path), "%s/root-ca.der", f->dir) <= 0 ||
        attest_file_read(path, 65536, &f->root_der, &f->root_der_size, &diag) != ATTEST_OK) {
        fprintf(stderr, "simulated platform setup failed: %s\n", diag.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int platform_teardown(void **state)
{
    fixture *f = *state;
    attest_sim_platform_free(f->platform);
    free(f->root_der);
    test_remove_dir(f->dir);
    free(f);
    return 0;
}

/* The claims of every simulated quote here, before a row changes one. */
static void quote_defaults(attest_sim_quote_options *options, attest_sim_tee tee)
{
    attest_sim_quote_options_init(options, tee);
    for (size_t i = 0; i < 64; i++) {
        options->report_data[i] = (uint8_t)i;
    }
    if (tee == ATTEST_SIM_SGX) {
        memset(options->mr_enclave, 0x11, 32);
        memset(options->mr_signer, 0x22, 32);
        options->isv_prod_id = 7;
        options->isv_svn = 3;
    } else {
        memset(options->mr_td, 0x33, 48);
        for (size_t i = 0; i < 4; i++) {
            memset(options->rtmr[i], 0x40 + (int)i, 48);
        }
        memset(options->mr_config_id, 0x55, 48);
        memset(options->mr_owner, 0x66, 48);
    }
}

/*
 * The policy that the default quote of tee passes. The masks leave out the
 * DEBUG bits, which debug_allowed decides, and SGX XFRM.
 */
static json_t *policy_base(attest_sim_tee tee)
{
    if (tee == ATTEST_SIM_SGX) {
        return json_pack(
            "{s:[s],s:{s:[o,o],s:[o],s:i,s:i,s:{s:s,s:s},s:{s:s,s:s}},s:b,s:i}",
            "evidence_types", "sgx", "sgx", "mrenclave", hex_json(0xab, 32), hex_json(0x11, 32),
            "mrsigner", hex_json(0x22, 32), "isvprodid", 7, "min_isvsvn", 3, "attributes",
            "value", "05000000000000000000000000000000", "mask",
            "fdffffffffffffff0000000000000000", "miscselect", "value", "00000000", "mask",
            "ffffffff", "simulated_allowed", 1, "min_tcb_evaluation_data_number", 17);
    }
    return json_pack("{s:[s],s:{s:[o],s:[o],s:[o],s:[o],s:[o],s:[o],s:[o],s:{s:s,s:s},"
                     "s:{s:s,s:s},s:s},s:b}",
                     "evidence_types", "tdx", "tdx", "mrtd", hex_json(0x33, 48), "rtmr0",
                     hex_json(0x40, 48), "rtmr1", hex_json(0x41, 48), "rtmr2",
                     hex_json(0x42, 48), "rtmr3", hex_json(0x43, 48), "mr_config_id",
                     hex_json(0x55, 48), "mr_owner", hex_json(0x66, 48), "td_attributes",
                     "value", "0000001000000000", "mask", "feffffffffffffff", "xfam", "value",
                     "e71a060000000000", "mask", "ffffffffffffffff", "min_tee_tcb_svn",
                     "05010200000000000000000000000000", "simulated_allowed", 1);
}

/* Quote changes of the rows. */
static void quote_mrenclave_other(attest_sim_quote_options *o) { o->mr_enclave[31] ^= 0x01; }
static void quote_isvsvn_2(attest_sim_quote_options *o) { o->isv_svn = 2; }
static void quote_isvsvn_9(attest_sim_quote_options *o) { o->isv_svn = 9; }
static void quote_isvprodid_8(attest_sim_quote_options *o) { o->isv_prod_id = 8; }
static void quote_provision_key(attest_sim_quote_options *o) { o->attributes[0] |= 0x10; }
static void quote_xfrm_avx(attest_sim_quote_options *o) { o->attributes[8] = 0x07; }
static void quote_misc_select(attest_sim_quote_options *o) { o->misc_select = 1; }
static void quote_debug(attest_sim_quote_options *o) { o->debug = true; }
static void quote_mrtd_other(attest_sim_quote_options *o) { o->mr_td[0] ^= 0x01; }
static void quote_rtmr2_other(attest_sim_quote_options *o) { o->rtmr[2][47] ^= 0x80; }
static void quote_config_id_other(attest_sim_quote_options *o) { o->mr_config_id[5] = 0; }
static void quote_owner_other(attest_sim_quote_options *o) { o->mr_owner[9] = 0; }
static void quote_td_attributes_other(attest_sim_quote_options *o) { o->td_attributes[7] = 0x40; }
static void quote_xfam_other(attest_sim_quote_options *o) { o->xfam[2] = 0x02; }
static void quote_td15(attest_sim_quote_options *o)
{
    o->version = 5;
    o->td15 = true;
}

/* Collateral changes of the rows. */
static void collateral_out_of_date(attest_sim_collateral_options *o)
{
    o->platform_status = ATTEST_TCB_OUT_OF_DATE;
}
static void collateral_sw_hardening(attest_sim_collateral_options *o)
{
    o->platform_status = ATTEST_TCB_SW_HARDENING_NEEDED;
}
static void collateral_tcb_revoked(attest_sim_collateral_options *o)
{
    o->platform_status = ATTEST_TCB_REVOKED;
}
static void collateral_qe_out_of_date(attest_sim_collateral_options *o)
{
    o->qe_status = ATTEST_TCB_OUT_OF_DATE;
}
static void collateral_pck_revoked(attest_sim_collateral_options *o) { o->revoke_pck = true; }

typedef enum report_data_choice {
    REPORT_DATA_QUOTE, /* the quote's own report data */
    REPORT_DATA_OTHER, /* 64 bytes that differ in the last byte */
    REPORT_DATA_NONE,  /* NULL */
} report_data_choice;

typedef struct appraisal_case {
    const char *name; /* how the evidence or the policy differs from the base */
    attest_sim_tee tee;
    attest_sim_tee policy_tee;
    const char *policy_patch; /* JSON merge patch of the base policy, or NULL */
    void (*quote_edit)(attest_sim_quote_options *options);
    void (*collateral_edit)(attest_sim_collateral_options *options);
    report_data_choice report_data;
    const char *failed_check; /* NULL: the appraisal passes */
    attest_err err;
    bool degraded;
} appraisal_case;

#define SGX ATTEST_SIM_SGX
#define TDX ATTEST_SIM_TDX
#define QUOTE REPORT_DATA_QUOTE

static const appraisal_case cases[] = {
    /* passes; simulated evidence always passes degraded */
    {"SGX matching quote", SGX, SGX, NULL, NULL, NULL, QUOTE, NULL, ATTEST_OK, true},
    {"TDX matching quote", TDX, TDX, NULL, NULL, NULL, QUOTE, NULL, ATTEST_OK, true},
    {"TDX version 5 TD 1.5 quote", TDX, TDX, NULL, quote_td15, NULL, QUOTE, NULL, ATTEST_OK,
     true},
    {"SGX MRSIGNER policy, other MRENCLAVE", SGX, SGX, "{\"sgx\":{\"mrenclave\":null}}",
     quote_mrenclave_other, NULL, QUOTE, NULL, ATTEST_OK, true},
    {"SGX MRSIGNER policy, higher ISVSVN", SGX, SGX, "{\"sgx\":{\"mrenclave\":null}}",
     quote_isvsvn_9, NULL, QUOTE, NULL, ATTEST_OK, true},
    {"SGX XFRM bit outside the mask", SGX, SGX, NULL, quote_xfrm_avx, NULL, QUOTE, NULL,
     ATTEST_OK, true},
    {"SGX debug enclave, debug allowed", SGX, SGX, "{\"debug_allowed\":true}", quote_debug, NULL,
     QUOTE, NULL, ATTEST_OK, true},
    {"TDX debug TD, debug allowed", TDX, TDX, "{\"debug_allowed\":true}", quote_debug, NULL,
     QUOTE, NULL, ATTEST_OK, true},
    {"SGX OutOfDate and its advisory accepted", SGX, SGX,
     "{\"accepted_tcb_statuses\":[\"UpToDate\",\"OutOfDate\"],"
     "\"accepted_advisory_ids\":[\"INTEL-SA-00828\"]}",
     NULL, collateral_out_of_date, QUOTE, NULL, ATTEST_OK, true},
    {"TDX SWHardeningNeeded, every advisory accepted", TDX, TDX,
     "{\"accepted_tcb_statuses\":[\"UpToDate\",\"SWHardeningNeeded\"],"
     "\"accepted_advisory_ids\":\"*\"}",
     NULL, collateral_sw_hardening, QUOTE, NULL, ATTEST_OK, true},
    {"SGX no nonce required, none given", SGX, SGX, "{\"nonce_required\":false}", NULL, NULL,
     REPORT_DATA_NONE, NULL, ATTEST_OK, true},

    /* one failure per rule */
    {"SGX evidence not valid (PCK revoked)", SGX, SGX, NULL, NULL, collateral_pck_revoked, QUOTE,
     "evidence_valid", ATTEST_ERR_APPRAISAL_EVIDENCE_INVALID, false},
    {"SGX evidence, TDX-only policy", SGX, TDX, NULL, NULL, NULL, QUOTE, "evidence_type",
     ATTEST_ERR_APPRAISAL_EVIDENCE_TYPE, false},
    {"TDX evidence, SGX-only policy", TDX, SGX, NULL, NULL, NULL, QUOTE, "evidence_type",
     ATTEST_ERR_APPRAISAL_EVIDENCE_TYPE, false},
    {"SGX simulated not allowed", SGX, SGX, "{\"simulated_allowed\":null}", NULL, NULL, QUOTE,
     "simulated", ATTEST_ERR_APPRAISAL_SIMULATED, false},
    {"SGX debug enclave not allowed", SGX, SGX, NULL, quote_debug, NULL, QUOTE, "debug",
     ATTEST_ERR_APPRAISAL_DEBUG, false},
    {"TDX debug TD not allowed", TDX, TDX, NULL, quote_debug, NULL, QUOTE, "debug",
     ATTEST_ERR_APPRAISAL_DEBUG, false},
    {"SGX wrong report data", SGX, SGX, NULL, NULL, NULL, REPORT_DATA_OTHER, "report_data",
     ATTEST_ERR_REPORT_DATA_MISMATCH, false},
    {"TDX wrong report data", TDX, TDX, NULL, NULL, NULL, REPORT_DATA_OTHER, "report_data",
     ATTEST_ERR_REPORT_DATA_MISMATCH, false},
    {"SGX nonce required, none given", SGX, SGX, NULL, NULL, NULL, REPORT_DATA_NONE,
     "report_data", ATTEST_ERR_APPRAISAL_NONCE_MISSING, false},
    {"SGX OutOfDate not accepted", SGX, SGX, NULL, NULL, collateral_out_of_date, QUOTE,
     "tcb_status", ATTEST_ERR_APPRAISAL_TCB_STATUS, false},
    {"TDX QE OutOfDate not accepted", TDX, TDX, NULL, NULL, collateral_qe_out_of_date, QUOTE,
     "tcb_status", ATTEST_ERR_APPRAISAL_TCB_STATUS, false},
    {"SGX Revoked under a policy of every other status", SGX, SGX,
     "{\"accepted_tcb_statuses\":[\"UpToDate\",\"OutOfDate\",\"SWHardeningNeeded\","
     "\"ConfigurationNeeded\",\"ConfigurationAndSWHardeningNeeded\","
     "\"OutOfDateConfigurationNeeded\"],\"accepted_advisory_ids\":\"*\"}",
     NULL, collateral_tcb_revoked, QUOTE, "tcb_status", ATTEST_ERR_APPRAISAL_TCB_STATUS, false},
    {"SGX OutOfDate accepted, its advisory not", SGX, SGX,
     "{\"accepted_tcb_statuses\":[\"UpToDate\",\"OutOfDate\"],"
     "\"accepted_advisory_ids\":[\"INTEL-SA-00615\"]}",
     NULL, collateral_out_of_date, QUOTE, "advisory_ids", ATTEST_ERR_APPRAISAL_ADVISORY, false},
    {"SGX OutOfDate accepted, no advisory listed", SGX, SGX,
     "{\"accepted_tcb_statuses\":[\"UpToDate\",\"OutOfDate\"]}", NULL, collateral_out_of_date,
     QUOTE, "advisory_ids", ATTEST_ERR_APPRAISAL_ADVISORY, false},
    {"SGX TCB evaluation data number too low", SGX, SGX,
     "{\"min_tcb_evaluation_data_number\":18}", NULL, NULL, QUOTE, "tcb_evaluation_data_number",
     ATTEST_ERR_APPRAISAL_TCB_EVALUATION, false},
    {"SGX wrong MRENCLAVE", SGX, SGX, NULL, quote_mrenclave_other, NULL, QUOTE, "sgx_mrenclave",
     ATTEST_ERR_APPRAISAL_MEASUREMENT, false},
    {"SGX wrong MRSIGNER", SGX, SGX, "{\"sgx\":{\"mrsigner\":[\"" 
     "2222222222222222222222222222222222222222222222222222222222222223\"]}}",
     NULL, NULL, QUOTE, "sgx_mrsigner", ATTEST_ERR_APPRAISAL_MEASUREMENT, false},
    {"SGX MRSIGNER policy, ISVSVN too low", SGX, SGX, "{\"sgx\":{\"mrenclave\":null}}",
     quote_isvsvn_2, NULL, QUOTE, "sgx_isvsvn", ATTEST_ERR_APPRAISAL_SVN, false},
    {"SGX MRSIGNER policy, other ISVPRODID", SGX, SGX, "{\"sgx\":{\"mrenclave\":null}}",
     quote_isvprodid_8, NULL, QUOTE, "sgx_isvprodid", ATTEST_ERR_APPRAISAL_PRODUCT_ID, false},
    {"SGX PROVISIONKEY bit under the mask", SGX, SGX, NULL, quote_provision_key, NULL, QUOTE,
     "sgx_attributes", ATTEST_ERR_APPRAISAL_ATTRIBUTES, false},
    {"SGX MISCSELECT bit under the mask", SGX, SGX, NULL, quote_misc_select, NULL, QUOTE,
     "sgx_miscselect", ATTEST_ERR_APPRAISAL_ATTRIBUTES, false},
    {"TDX wrong MRTD", TDX, TDX, NULL, quote_mrtd_other, NULL, QUOTE, "tdx_mrtd",
     ATTEST_ERR_APPRAISAL_MEASUREMENT, false},
    {"TDX RTMR2 mismatch", TDX, TDX, NULL, quote_rtmr2_other, NULL, QUOTE, "tdx_rtmr2",
     ATTEST_ERR_APPRAISAL_MEASUREMENT, false},
    {"TDX wrong MR_CONFIG_ID", TDX, TDX, NULL, quote_config_id_other, NULL, QUOTE,
     "tdx_mr_config_id", ATTEST_ERR_APPRAISAL_MEASUREMENT, false},
    {"TDX wrong MR_OWNER", TDX, TDX, NULL, quote_owner_other, NULL, QUOTE, "tdx_mr_owner",
     ATTEST_ERR_APPRAISAL_MEASUREMENT, false},
    {"TDX TD_ATTRIBUTES bit under the mask", TDX, TDX, NULL, quote_td_attributes_other, NULL,
     QUOTE, "tdx_td_attributes", ATTEST_ERR_APPRAISAL_ATTRIBUTES, false},
    {"TDX XFAM bit under the mask", TDX, TDX, NULL, quote_xfam_other, NULL, QUOTE, "tdx_xfam",
     ATTEST_ERR_APPRAISAL_ATTRIBUTES, false},
    {"TDX TEE_TCB_SVN component 0 too low", TDX, TDX,
     "{\"tdx\":{\"min_tee_tcb_svn\":\"06010200000000000000000000000000\"}}", NULL, NULL, QUOTE,
     "tdx_tee_tcb_svn", ATTEST_ERR_APPRAISAL_SVN, false},
    {"TDX TEE_TCB_SVN component 2 too low", TDX, TDX,
     "{\"tdx\":{\"min_tee_tcb_svn\":\"00000300000000000000000000000000\"}}", NULL, NULL, QUOTE,
     "tdx_tee_tcb_svn", ATTEST_ERR_APPRAISAL_SVN, false},
};

#define CASE_COUNT (sizeof(cases) / sizeof(cases[0]))

/* Generates the row's quote and collateral and verifies them into f->report. */
static uint8_t *evidence_build(fixture *f, const appraisal_case *c, size_t *out_quote_size)
{
    attest_diag diag = {{0}};
    attest_sim_quote_options quote_options;
    quote_defaults(&quote_options, c->tee);
    if (c->quote_edit != NULL) {
        c->quote_edit(&quote_options);
    }
    uint8_t *quote = NULL;
    if (attest_sim_quote(f->platform, &quote_options, &quote, out_quote_size, &diag) !=
        ATTEST_OK) {
        fail_msg("%s: quote: %s", c->name, diag.message);
    }

    attest_sim_collateral_options collateral_options;
    attest_sim_collateral_options_init(&collateral_options, c->tee, AT);
    if (c->collateral_edit != NULL) {
        c->collateral_edit(&collateral_options);
    }
    attest_collateral collateral;
    if (attest_sim_collateral(f->platform, &collateral_options, &collateral, &diag) !=
        ATTEST_OK) {
        fail_msg("%s: collateral: %s", c->name, diag.message);
    }

    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    assert_int_equal(attest_verifier_add_root(verifier, f->root_der, f->root_der_size, &diag),
                     ATTEST_OK);
    attest_err err = attest_verify_quote(verifier, quote, *out_quote_size, &collateral, AT, NULL,
                                         &f->report);
    assert_int_equal(err, f->report.err);
    attest_verifier_free(verifier);
    attest_collateral_clear(&collateral);
    return quote;
}

static attest_policy *policy_build(const appraisal_case *c)
{
    json_t *policy_json = policy_base(c->policy_tee);
    assert_non_null(policy_json);
    if (c->policy_patch != NULL) {
        json_error_t error;
        json_t *patch = json_loads(c->policy_patch, 0, &error);
        if (patch == NULL) {
            fail_msg("%s: patch: %s", c->name, error.text);
        }
        merge_patch(policy_json, patch);
        json_decref(patch);
    }
    char *text = json_dumps(policy_json, JSON_COMPACT);
    json_decref(policy_json);
    assert_non_null(text);

    attest_policy *policy = NULL;
    attest_diag diag = {{0}};
    if (parse_text(text, &policy, &diag) != ATTEST_OK) {
        fail_msg("%s: policy %s: %s", c->name, text, diag.message);
    }
    free(text);
    return policy;
}

static void run_case(fixture *f, const appraisal_case *c)
{
    size_t quote_size = 0;
    uint8_t *quote = evidence_build(f, c, &quote_size);
    attest_policy *policy = policy_build(c);

    uint8_t expected[64];
    for (size_t i = 0; i < 64; i++) {
        expected[i] = (uint8_t)i;
    }
    if (c->report_data == REPORT_DATA_OTHER) {
        expected[63] ^= 0x01;
    }
    const uint8_t *expected_report_data = c->report_data == REPORT_DATA_NONE ? NULL : expected;

    attest_appraisal *appraisal = &f->appraisal;
    attest_err err = attest_policy_appraise(policy, &f->report, expected_report_data, appraisal);
    const attest_appraisal_check *failed = attest_appraisal_failed_check(appraisal);
    assert_int_equal(err, appraisal->err);

    if (c->failed_check == NULL) {
        if (!appraisal->pass) {
            fail_msg("%s: expected a pass, got %s failing: %s", c->name, failed->name,
                     failed->detail);
        }
        assert_null(failed);
        assert_int_equal(err, ATTEST_OK);
    } else {
        if (appraisal->pass) {
            fail_msg("%s: expected %s to fail, got a pass", c->name, c->failed_check);
        }
        assert_non_null(failed);
        if (strcmp(failed->name, c->failed_check) != 0 || err != c->err) {
            fail_msg("%s: expected %s (%s), got %s (%s): %s", c->name, c->failed_check,
                     attest_err_code(c->err), failed->name, attest_err_code(err),
                     failed->detail);
        }
        assert_int_equal(failed->outcome, ATTEST_CHECK_FAIL);
        assert_int_equal(failed->err, c->err);
        assert_true(strlen(failed->detail) > 0);
    }
    if (appraisal->degraded != c->degraded) {
        fail_msg("%s: degraded %d, expected %d", c->name, appraisal->degraded, c->degraded);
    }

    attest_policy_free(policy);
    free(quote);
}

static void test_appraisal_table(void **state)
{
    for (size_t i = 0; i < CASE_COUNT; i++) {
        run_case(*state, &cases[i]);
    }
}

/* Runs the first row of tee (the matching quote) and returns its appraisal. */
static const attest_appraisal *matching_appraisal(fixture *f, attest_sim_tee tee)
{
    for (size_t i = 0; i < CASE_COUNT; i++) {
        if (cases[i].tee == tee && cases[i].quote_edit == NULL && cases[i].policy_patch == NULL &&
            cases[i].collateral_edit == NULL && cases[i].failed_check == NULL) {
            run_case(f, &cases[i]);
            return &f->appraisal;
        }
    }
    fail_msg("no matching row");
    return NULL;
}

static void checks_expect(const attest_appraisal *appraisal, const char *const *names,
                          const attest_outcome *outcomes, size_t count)
{
    assert_int_equal(appraisal->check_count, count);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(appraisal->checks[i].name, names[i]);
        if (appraisal->checks[i].outcome != outcomes[i]) {
            fail_msg("check %s: outcome %s, expected %s (%s)", names[i],
                     attest_outcome_name(appraisal->checks[i].outcome),
                     attest_outcome_name(outcomes[i]), appraisal->checks[i].detail);
        }
    }
}

static void test_appraisal_sgx_check_order(void **state)
{
    static const char *const names[] = {
        "evidence_valid", "evidence_type", "simulated",      "debug",
        "report_data",    "tcb_status",    "advisory_ids",   "tcb_evaluation_data_number",
        "sgx_mrenclave",  "sgx_mrsigner",  "sgx_isvprodid",  "sgx_isvsvn",
        "sgx_attributes", "sgx_miscselect"};
    static const attest_outcome outcomes[] = {
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS,
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_SKIP, ATTEST_CHECK_PASS,
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS,
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS};
    const attest_appraisal *appraisal = matching_appraisal(*state, ATTEST_SIM_SGX);
    checks_expect(appraisal, names, outcomes, sizeof(names) / sizeof(names[0]));
    assert_string_equal(appraisal->checks[8].detail,
                        "MRENCLAVE 1111111111111111111111111111111111111111111111111111111111111111"
                        " is allowed value 2 of 2");
}

static void test_appraisal_tdx_check_order(void **state)
{
    static const char *const names[] = {
        "evidence_valid",   "evidence_type", "simulated",   "debug",
        "report_data",      "tcb_status",    "advisory_ids", "tcb_evaluation_data_number",
        "tdx_mrtd",         "tdx_rtmr0",     "tdx_rtmr1",    "tdx_rtmr2",
        "tdx_rtmr3",        "tdx_mr_config_id", "tdx_mr_owner", "tdx_td_attributes",
        "tdx_xfam",         "tdx_tee_tcb_svn"};
    static const attest_outcome outcomes[] = {
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS,
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_SKIP, ATTEST_CHECK_SKIP,
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS,
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS, ATTEST_CHECK_PASS,
        ATTEST_CHECK_PASS, ATTEST_CHECK_PASS};
    const attest_appraisal *appraisal = matching_appraisal(*state, ATTEST_SIM_TDX);
    checks_expect(appraisal, names, outcomes, sizeof(names) / sizeof(names[0]));
}

/* An invalid report stops appraisal after its first check, because its claims are untrusted. */
static void test_appraisal_invalid_report_stops(void **state)
{
    (void)state;
    attest_policy *policy = NULL;
    attest_diag diag = {{0}};
    assert_int_equal(parse_text("{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[\"" 
                                "0000000000000000000000000000000000000000000000000000000000000000"
                                "\"]},\"nonce_required\":false}",
                                &policy, &diag),
                     ATTEST_OK);
    attest_report *report = calloc(1, sizeof(*report));
    assert_non_null(report);
    report->valid = false;
    report->err = ATTEST_ERR_QUOTE_SIGNATURE;
    report->error_stage = ATTEST_STAGE_QUOTE_SIGNATURE;
    attest_appraisal appraisal;
    assert_int_equal(attest_policy_appraise(policy, report, NULL, &appraisal),
                     ATTEST_ERR_APPRAISAL_EVIDENCE_INVALID);
    assert_int_equal(appraisal.check_count, 1);
    assert_false(appraisal.pass);
    assert_false(appraisal.degraded);
    assert_string_equal(appraisal.checks[0].name, "evidence_valid");
    assert_non_null(strstr(appraisal.checks[0].detail, "quote_signature_invalid"));

    assert_int_equal(attest_policy_appraise(NULL, report, NULL, &appraisal),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_policy_appraise(policy, NULL, NULL, &appraisal),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_policy_appraise(policy, report, NULL, NULL), ATTEST_ERR_ARGUMENT);
    free(report);
    attest_policy_free(policy);
}

/* ---- real evidence: not simulated, so an UpToDate pass is not degraded ---- */

static attest_report *real_report(const char *quote_path, const char *collateral_path,
                                  time_t at, uint8_t **out_quote)
{
    size_t size = 0;
    uint8_t *quote = test_read_real(quote_path, &size);
    attest_collateral collateral = {0};
    attest_diag diag = {{0}};
    if (attest_collateral_load(test_real_path(collateral_path), &collateral, &diag) !=
        ATTEST_OK) {
        fail_msg("loading %s: %s", collateral_path, diag.message);
    }
    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    attest_report *report = calloc(1, sizeof(*report));
    assert_non_null(report);
    assert_int_equal(attest_verify_quote(verifier, quote, size, &collateral, at, NULL, report),
                     ATTEST_OK);
    attest_verifier_free(verifier);
    attest_collateral_clear(&collateral);
    *out_quote = quote;
    return report;
}

static void test_appraisal_real_tdx_affirming(void **state)
{
    (void)state;
    uint8_t *quote = NULL;
    attest_report *report = real_report("tdx/phala-tdx-v4.quote",
                                        "tdx/phala-tdx-v4.collateral.json", 1752919234, &quote);
    assert_false(report->simulated);

    char mrtd[97];
    attest_hex_encode(report->quote.body.td.mr_td, 48, mrtd);
    char text[512];
    snprintf(text, sizeof(text),
             "{\"evidence_types\":[\"tdx\"],\"tdx\":{\"mrtd\":[\"%s\"]}}", mrtd);
    attest_policy *policy = NULL;
    attest_diag diag = {{0}};
    assert_int_equal(parse_text(text, &policy, &diag), ATTEST_OK);

    attest_appraisal appraisal;
    assert_int_equal(attest_policy_appraise(policy, report, report->quote.body.td.report_data,
                                            &appraisal),
                     ATTEST_OK);
    assert_true(appraisal.pass);
    assert_false(appraisal.degraded);

    attest_policy_free(policy);
    free(report);
    free(quote);
}

static void test_appraisal_real_sgx_degraded(void **state)
{
    (void)state;
    uint8_t *quote = NULL;
    attest_report *report = real_report("sgx/phala-sgx-v3.quote",
                                        "sgx/phala-sgx-v3.collateral.json", 1752919277, &quote);
    char mrenclave[65];
    attest_hex_encode(report->quote.body.sgx.mr_enclave, 32, mrenclave);
    const uint8_t *report_data = report->quote.body.sgx.report_data;

    /* The default policy accepts UpToDate only. */
    char text[768];
    snprintf(text, sizeof(text),
             "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[\"%s\"]}}", mrenclave);
    attest_policy *policy = NULL;
    attest_diag diag = {{0}};
    assert_int_equal(parse_text(text, &policy, &diag), ATTEST_OK);
    attest_appraisal appraisal;
    assert_int_equal(attest_policy_appraise(policy, report, report_data, &appraisal),
                     ATTEST_ERR_APPRAISAL_TCB_STATUS);
    assert_string_equal(attest_appraisal_failed_check(&appraisal)->name, "tcb_status");
    assert_string_equal(attest_appraisal_failed_check(&appraisal)->detail,
                        "TCB status ConfigurationAndSWHardeningNeeded is not in "
                        "accepted_tcb_statuses");
    attest_policy_free(policy);

    snprintf(text, sizeof(text),
             "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[\"%s\"]},"
             "\"accepted_tcb_statuses\":[\"UpToDate\",\"ConfigurationAndSWHardeningNeeded\"],"
             "\"accepted_advisory_ids\":[\"INTEL-SA-00615\",\"INTEL-SA-00289\"]}",
             mrenclave);
    assert_int_equal(parse_text(text, &policy, &diag), ATTEST_OK);
    assert_int_equal(attest_policy_appraise(policy, report, report_data, &appraisal), ATTEST_OK);
    assert_true(appraisal.pass);
    assert_true(appraisal.degraded);

    attest_policy_free(policy);
    free(report);
    free(quote);
}

/* ---- parsing ---- */

#define MRENCLAVE_0 "\"0000000000000000000000000000000000000000000000000000000000000000\""
#define MRTD_0                                                                              \
    "\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
    "000000000000\""
#define SGX_MIN "\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[" MRENCLAVE_0 "]}"

static void test_policy_defaults(void **state)
{
    (void)state;
    attest_policy *policy = NULL;
    attest_diag diag = {{0}};
    assert_int_equal(parse_text("{" SGX_MIN "}", &policy, &diag), ATTEST_OK);
    assert_true(attest_policy_nonce_required(policy));
    assert_false(attest_policy_simulated_allowed(policy));
    assert_int_equal(attest_policy_token_lifetime(policy), 300);
    assert_true(attest_policy_evidence_allowed(policy, ATTEST_EVIDENCE_TYPE_SGX));
    assert_false(attest_policy_evidence_allowed(policy, ATTEST_EVIDENCE_TYPE_TDX));
    attest_policy_free(policy);

    assert_int_equal(parse_text("{" SGX_MIN ",\"nonce_required\":false,\"simulated_allowed\":true,"
                                "\"token_lifetime_seconds\":86400}",
                                &policy, &diag),
                     ATTEST_OK);
    assert_false(attest_policy_nonce_required(policy));
    assert_true(attest_policy_simulated_allowed(policy));
    assert_int_equal(attest_policy_token_lifetime(policy), 86400);
    attest_policy_free(policy);
    attest_policy_free(NULL);
}

static void test_policy_hash_document_bytes(void **state)
{
    (void)state;
    const char *texts[2] = {"{" SGX_MIN "}", "{ " SGX_MIN " }"};
    uint8_t hashes[2][ATTEST_POLICY_HASH_SIZE];
    for (size_t i = 0; i < 2; i++) {
        attest_policy *policy = NULL;
        attest_diag diag = {{0}};
        assert_int_equal(parse_text(texts[i], &policy, &diag), ATTEST_OK);
        attest_policy_hash(policy, hashes[i]);

        uint8_t expected[32];
        unsigned int size = 0;
        assert_int_equal(EVP_Digest(texts[i], strlen(texts[i]), expected, &size, EVP_sha256(),
                                    NULL),
                         1);
        assert_memory_equal(hashes[i], expected, 32);

        size_t document_size = 0;
        const char *document = attest_policy_document(policy, &document_size);
        assert_int_equal(document_size, strlen(texts[i]));
        assert_memory_equal(document, texts[i], document_size);
        attest_policy_free(policy);
    }
    /* Whitespace is part of the stored document, so it changes the hash. */
    assert_memory_not_equal(hashes[0], hashes[1], 32);
}

/*
 * Returns the path of relative in the source tree. A relative __FILE__ is
 * relative to the build folder, which is two levels above this executable
 * (BUILD/tests/unit/test_policy), so the test runs from any folder.
 */
static const char *source_path(const char *relative)
{
    static char path[4096];
    char file[1024];
    snprintf(file, sizeof(file), "%s", __FILE__);
    const char *source_dir = dirname(file);
    if (source_dir[0] == '/') {
        snprintf(path, sizeof(path), "%s/../../%s", source_dir, relative);
        return path;
    }

    char executable[2048];
    ssize_t size = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
    assert_true(size > 0);
    executable[size] = '\0';
    char *build_dir = dirname(dirname(dirname(executable)));
    snprintf(path, sizeof(path), "%s/%s/../../%s", build_dir, source_dir, relative);
    return path;
}

static void test_policy_examples_parse(void **state)
{
    (void)state;
    static const char *const examples[] = {"docs/examples/policy-sgx.json",
                                           "docs/examples/policy-tdx.json"};
    for (size_t i = 0; i < 2; i++) {
        uint8_t *text = NULL;
        size_t size = 0;
        attest_diag diag = {{0}};
        const char *path = source_path(examples[i]);
        if (attest_file_read(path, 1024 * 1024, &text, &size, &diag) != ATTEST_OK) {
            fail_msg("%s: %s", path, diag.message);
        }
        attest_policy *policy = NULL;
        if (attest_policy_parse((const char *)text, size, &policy, &diag) != ATTEST_OK) {
            fail_msg("%s: %s", examples[i], diag.message);
        }
        attest_policy_free(policy);
        free(text);
    }
}

typedef struct hostile_case {
    const char *name; /* how the document is broken */
    const char *text;
    attest_err err;
    const char *message; /* the exact diagnostic */
} hostile_case;

static const hostile_case hostile[] = {
    {"empty document", "", ATTEST_ERR_JSON_SYNTAX, NULL},
    {"top level is an array", "[]", ATTEST_ERR_JSON_FIELD, "$: expected an object"},
    {"top-level key misspelt", "{" SGX_MIN ",\"nonce_requried\":false}",
     ATTEST_ERR_POLICY_UNKNOWN_KEY,
     "$: unknown key \"nonce_requried\"; see docs/policy.md for the keys of this object"},
    {"sgx key misspelt", "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclve\":[" MRENCLAVE_0 "]}}",
     ATTEST_ERR_POLICY_UNKNOWN_KEY,
     "$.sgx: unknown key \"mrenclve\"; see docs/policy.md for the keys of this object"},
    {"attributes with an extra key",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[" MRENCLAVE_0 "],"
     "\"attributes\":{\"value\":\"00000000000000000000000000000000\","
     "\"mask\":\"00000000000000000000000000000000\",\"strict\":true}}}",
     ATTEST_ERR_POLICY_UNKNOWN_KEY,
     "$.sgx.attributes: unknown key \"strict\"; see docs/policy.md for the keys of this object"},
    {"duplicate key", "{" SGX_MIN ",\"debug_allowed\":false,\"debug_allowed\":true}",
     ATTEST_ERR_JSON_DUPLICATE_KEY, NULL},
    {"debug_allowed a string", "{" SGX_MIN ",\"debug_allowed\":\"false\"}",
     ATTEST_ERR_JSON_FIELD, "$.debug_allowed: expected true or false"},
    {"nonce_required a number", "{" SGX_MIN ",\"nonce_required\":0}", ATTEST_ERR_JSON_FIELD,
     "$.nonce_required: expected true or false"},
    {"evidence_types a string", "{\"evidence_types\":\"sgx\"}", ATTEST_ERR_JSON_FIELD,
     "$.evidence_types: expected an array"},
    {"evidence_types missing", "{\"sgx\":{\"mrenclave\":[" MRENCLAVE_0 "]}}",
     ATTEST_ERR_JSON_FIELD, "$.evidence_types: missing"},
    {"evidence_types empty", "{\"evidence_types\":[]}", ATTEST_ERR_JSON_FIELD,
     "$.evidence_types: expected at least one of \"sgx\" and \"tdx\""},
    {"evidence type sev-snp", "{\"evidence_types\":[\"sgx\",\"sev-snp\"]}",
     ATTEST_ERR_POLICY_EVIDENCE_TYPE,
     "$.evidence_types[1]: \"sev-snp\" is not supported; use \"sgx\" or \"tdx\""},
    {"evidence type in upper case", "{\"evidence_types\":[\"SGX\"]}",
     ATTEST_ERR_POLICY_EVIDENCE_TYPE,
     "$.evidence_types[0]: \"SGX\" is not supported; use \"sgx\" or \"tdx\""},
    {"evidence type twice", "{\"evidence_types\":[\"sgx\",\"sgx\"]}", ATTEST_ERR_POLICY_INVALID,
     "$.evidence_types[1]: \"sgx\" is listed twice"},
    {"sgx allowed, section missing", "{\"evidence_types\":[\"sgx\"]}", ATTEST_ERR_POLICY_INVALID,
     "$.sgx: missing, but \"evidence_types\" lists \"sgx\""},
    {"tdx section, tdx not allowed", "{" SGX_MIN ",\"tdx\":{\"mrtd\":[" MRTD_0 "]}}",
     ATTEST_ERR_POLICY_INVALID, "$.tdx: present, but \"evidence_types\" does not list \"tdx\""},
    {"sgx section pins nothing", "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"isvprodid\":1}}",
     ATTEST_ERR_POLICY_INVALID,
     "$.sgx: needs \"mrenclave\" or \"mrsigner\", so that it pins the enclave's identity"},
    {"tdx section pins nothing",
     "{\"evidence_types\":[\"tdx\"],\"tdx\":{\"min_tee_tcb_svn\":"
     "\"00000000000000000000000000000000\"}}",
     ATTEST_ERR_POLICY_INVALID,
     "$.tdx: needs at least one of \"mrtd\", \"rtmr0\" to \"rtmr3\", \"mr_config_id\" or "
     "\"mr_owner\", so that it pins the TD's identity"},
    {"mrsigner without isvprodid",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrsigner\":[" MRENCLAVE_0 "],\"min_isvsvn\":1}}",
     ATTEST_ERR_POLICY_INVALID, "$.sgx: \"mrsigner\" needs both \"isvprodid\" and \"min_isvsvn\""},
    {"mrenclave 63 hex digits",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[" MRENCLAVE_0 ","
     "\"000000000000000000000000000000000000000000000000000000000000000\"]}}",
     ATTEST_ERR_JSON_FIELD,
     "$.sgx.mrenclave[1]: expected 64 hex digits (32 bytes), got 63 characters"},
    {"mrtd of SGX length",
     "{\"evidence_types\":[\"tdx\"],\"tdx\":{\"mrtd\":[" MRENCLAVE_0 "]}}", ATTEST_ERR_JSON_FIELD,
     "$.tdx.mrtd[0]: expected 96 hex digits (48 bytes), got 64 characters"},
    {"mrenclave not hex",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":["
     "\"g000000000000000000000000000000000000000000000000000000000000000\"]}}",
     ATTEST_ERR_JSON_FIELD, "$.sgx.mrenclave[0]: invalid hex digit"},
    {"mrenclave a string, not a list",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":" MRENCLAVE_0 "}}",
     ATTEST_ERR_JSON_FIELD, "$.sgx.mrenclave: expected an array"},
    {"mrenclave list empty", "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[]}}",
     ATTEST_ERR_JSON_FIELD, "$.sgx.mrenclave: expected 1 to 64 values, got 0"},
    {"mrenclave value a number", "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[1]}}",
     ATTEST_ERR_JSON_FIELD, "$.sgx.mrenclave[0]: expected a hex string"},
    {"isvprodid above 65535",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[" MRENCLAVE_0 "],\"isvprodid\":65536}}",
     ATTEST_ERR_JSON_FIELD, "$.sgx.isvprodid: 65536 is outside the range 0 to 65535"},
    {"min_isvsvn negative",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[" MRENCLAVE_0 "],\"min_isvsvn\":-1}}",
     ATTEST_ERR_JSON_FIELD, "$.sgx.min_isvsvn: -1 is outside the range 0 to 65535"},
    {"miscselect value outside the mask",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[" MRENCLAVE_0 "],"
     "\"miscselect\":{\"value\":\"01000000\",\"mask\":\"fe000000\"}}}",
     ATTEST_ERR_POLICY_INVALID,
     "$.sgx.miscselect: value has bits outside the mask in byte 0 (value 01, mask fe)"},
    {"miscselect mask missing",
     "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[" MRENCLAVE_0 "],"
     "\"miscselect\":{\"value\":\"00000000\"}}}",
     ATTEST_ERR_JSON_FIELD, "$.sgx.miscselect.mask: missing"},
    {"xfam value 7 bytes",
     "{\"evidence_types\":[\"tdx\"],\"tdx\":{\"mrtd\":[" MRTD_0 "],"
     "\"xfam\":{\"value\":\"e71a0600000000\",\"mask\":\"ffffffffffffffff\"}}}",
     ATTEST_ERR_JSON_FIELD, "$.tdx.xfam.value: expected 16 hex digits (8 bytes), got 14 characters"},
    {"min_tee_tcb_svn 15 bytes",
     "{\"evidence_types\":[\"tdx\"],\"tdx\":{\"mrtd\":[" MRTD_0 "],"
     "\"min_tee_tcb_svn\":\"050102000000000000000000000000\"}}",
     ATTEST_ERR_JSON_FIELD,
     "$.tdx.min_tee_tcb_svn: expected 32 hex digits (16 bytes), got 30 characters"},
    {"TCB status misspelt", "{" SGX_MIN ",\"accepted_tcb_statuses\":[\"UpToDate\",\"OutofDate\"]}",
     ATTEST_ERR_TCB_STATUS_UNKNOWN,
     "$.accepted_tcb_statuses[1]: \"OutofDate\" is not a TCB status Intel defines"},
    {"TCB status Revoked", "{" SGX_MIN ",\"accepted_tcb_statuses\":[\"Revoked\"]}",
     ATTEST_ERR_POLICY_INVALID, "$.accepted_tcb_statuses[0]: Revoked cannot be accepted"},
    {"TCB statuses empty", "{" SGX_MIN ",\"accepted_tcb_statuses\":[]}", ATTEST_ERR_JSON_FIELD,
     "$.accepted_tcb_statuses: expected at least one status, such as \"UpToDate\""},
    {"advisory IDs any other string", "{" SGX_MIN ",\"accepted_advisory_ids\":\"all\"}",
     ATTEST_ERR_JSON_FIELD, "$.accepted_advisory_ids: expected \"*\" or an array of advisory IDs"},
    {"advisory ID with a space", "{" SGX_MIN ",\"accepted_advisory_ids\":[\"INTEL SA 1\"]}",
     ATTEST_ERR_JSON_FIELD,
     "$.accepted_advisory_ids[0]: expected an advisory ID of 1 to 31 letters, digits and '-', "
     "such as \"INTEL-SA-00615\""},
    {"advisory \"*\" inside the list", "{" SGX_MIN ",\"accepted_advisory_ids\":[\"*\"]}",
     ATTEST_ERR_JSON_FIELD,
     "$.accepted_advisory_ids[0]: expected an advisory ID of 1 to 31 letters, digits and '-', "
     "such as \"INTEL-SA-00615\""},
    {"evaluation data number a float", "{" SGX_MIN ",\"min_tcb_evaluation_data_number\":17.5}",
     ATTEST_ERR_JSON_FIELD, "$.min_tcb_evaluation_data_number: expected an integer"},
    {"evaluation data number above 32 bits",
     "{" SGX_MIN ",\"min_tcb_evaluation_data_number\":4294967296}", ATTEST_ERR_JSON_FIELD,
     "$.min_tcb_evaluation_data_number: 4294967296 is outside the range 0 to 4294967295"},
    {"token lifetime 0", "{" SGX_MIN ",\"token_lifetime_seconds\":0}", ATTEST_ERR_JSON_FIELD,
     "$.token_lifetime_seconds: 0 is outside the range 1 to 86400"},
    {"token lifetime 86401", "{" SGX_MIN ",\"token_lifetime_seconds\":86401}",
     ATTEST_ERR_JSON_FIELD, "$.token_lifetime_seconds: 86401 is outside the range 1 to 86400"},
    {"token lifetime a string", "{" SGX_MIN ",\"token_lifetime_seconds\":\"300\"}",
     ATTEST_ERR_JSON_FIELD, "$.token_lifetime_seconds: expected an integer"},
    {"sgx section an array", "{\"evidence_types\":[\"sgx\"],\"sgx\":[]}", ATTEST_ERR_JSON_FIELD,
     "$.sgx: expected an object"},
    {"trailing comma", "{" SGX_MIN ",}", ATTEST_ERR_JSON_SYNTAX, NULL},
};

#define HOSTILE_COUNT (sizeof(hostile) / sizeof(hostile[0]))

static void hostile_expect(const char *name, const char *text, size_t size, attest_err expected,
                           const char *message)
{
    attest_policy *policy = NULL;
    attest_diag diag = {{0}};
    attest_err err = attest_policy_parse(text, size, &policy, &diag);
    if (err != expected) {
        fail_msg("%s: expected %s, got %s: %s", name, attest_err_code(expected),
                 attest_err_code(err), diag.message);
    }
    assert_null(policy);
    if (message != NULL && strcmp(diag.message, message) != 0) {
        fail_msg("%s: message \"%s\", expected \"%s\"", name, diag.message, message);
    }
    assert_true(strlen(diag.message) > 0);
}

static void test_policy_hostile_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < HOSTILE_COUNT; i++) {
        hostile_expect(hostile[i].name, hostile[i].text, strlen(hostile[i].text), hostile[i].err,
                       hostile[i].message);
    }
}

static void test_policy_hostile_depth(void **state)
{
    (void)state;
    /* 16 nested arrays inside the top-level object: depth 17. */
    char text[128];
    snprintf(text, sizeof(text), "{\"evidence_types\":%s%s}", "[[[[[[[[[[[[[[[[",
             "]]]]]]]]]]]]]]]]");
    hostile_expect("nesting depth 17", text, strlen(text), ATTEST_ERR_JSON_DEPTH,
                   "nesting exceeds depth 16 at offset 33");
}

static void test_policy_hostile_size(void **state)
{
    (void)state;
    /* A valid policy padded with spaces to one byte over the limit. */
    size_t size = ATTEST_POLICY_MAX_SIZE + 1;
    char *text = malloc(size);
    assert_non_null(text);
    memset(text, ' ', size);
    const char *policy = "{" SGX_MIN "}";
    memcpy(text, policy, strlen(policy));
    hostile_expect("65537 bytes", text, size, ATTEST_ERR_LIMIT,
                   "policy of 65537 bytes exceeds the limit of 65536 bytes");

    /* At the limit it parses. */
    attest_policy *parsed = NULL;
    attest_diag diag = {{0}};
    assert_int_equal(attest_policy_parse(text, size - 1, &parsed, &diag), ATTEST_OK);
    attest_policy_free(parsed);
    free(text);
}

static void test_policy_hostile_nul_byte(void **state)
{
    (void)state;
    const char text[] = "{" SGX_MIN ",\"x\0\":1}";
    hostile_expect("NUL byte in a key", text, sizeof(text) - 1, ATTEST_ERR_JSON_SYNTAX, NULL);
}

static void test_policy_too_many_values(void **state)
{
    (void)state;
    /* 65 MRENCLAVE values: one more than a list may hold. */
    char *text = malloc(8192);
    assert_non_null(text);
    size_t used = (size_t)snprintf(text, 8192, "{\"evidence_types\":[\"sgx\"],\"sgx\":{"
                                                "\"mrenclave\":[");
    for (size_t i = 0; i < 65; i++) {
        used += (size_t)snprintf(text + used, 8192 - used, "%s" MRENCLAVE_0, i == 0 ? "" : ",");
    }
    snprintf(text + used, 8192 - used, "]}}");
    hostile_expect("65 MRENCLAVE values", text, strlen(text), ATTEST_ERR_JSON_FIELD,
                   "$.sgx.mrenclave: expected 1 to 64 values, got 65");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_appraisal_table, platform_setup, platform_teardown),
        cmocka_unit_test_setup_teardown(test_appraisal_sgx_check_order, platform_setup,
                                        platform_teardown),
        cmocka_unit_test_setup_teardown(test_appraisal_tdx_check_order, platform_setup,
                                        platform_teardown),
        cmocka_unit_test(test_appraisal_invalid_report_stops),
        cmocka_unit_test(test_appraisal_real_tdx_affirming),
        cmocka_unit_test(test_appraisal_real_sgx_degraded),
        cmocka_unit_test(test_policy_defaults),
        cmocka_unit_test(test_policy_hash_document_bytes),
        cmocka_unit_test(test_policy_examples_parse),
        cmocka_unit_test(test_policy_hostile_table),
        cmocka_unit_test(test_policy_hostile_depth),
        cmocka_unit_test(test_policy_hostile_size),
        cmocka_unit_test(test_policy_hostile_nul_byte),
        cmocka_unit_test(test_policy_too_many_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
