/*
 * The scenario matrix of the simulated platform, verified with the library's
 * verifier and the simulated root trusted: every scenario of both TEEs gives
 * its one expected outcome. Also checks that simulated and real evidence
 * never vouch for each other, and that the simulated root is trusted only
 * when added.
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
#include <unistd.h>

#include <attest/attest.h>
#include <attest/sim.h>

#include "support.h"
#include "util/file.h"

/* Verification time of every scenario here: 2025-10-09T08:53:20Z. */
#define AT ((time_t)1760000000)

typedef struct fixture {
    char dir[64];
    attest_sim_platform *platform;
    uint8_t *root_der;
    size_t root_der_size;
    attest_report report;
} fixture;

static int platform_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/attest-sim-scenarios-XXXXXX");
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

/* One expected outcome. status NULL: the quote is not valid and stage/code name the error. */
typedef struct outcome {
    const char *name;
    bool sgx;
    bool tdx;
    const char *status;
    const char *advisories; /* comma-separated, "" for none */
    const char *stage;
    const char *code;
    bool debug;
} outcome;

static const outcome matrix[] = {
    {"up-to-date", true, true, "UpToDate", "", NULL, NULL, false},
    {"sw-hardening-needed", true, true, "SWHardeningNeeded", "INTEL-SA-00615", NULL, NULL, false},
    {"configuration-needed", true, true, "ConfigurationNeeded", "INTEL-SA-00289", NULL, NULL,
     false},
    {"configuration-and-sw-hardening-needed", true, true, "ConfigurationAndSWHardeningNeeded",
     "INTEL-SA-00289,INTEL-SA-00615", NULL, NULL, false},
    {"out-of-date", true, true, "OutOfDate", "INTEL-SA-00828", NULL, NULL, false},
    {"out-of-date-configuration-needed", true, true, "OutOfDateConfigurationNeeded",
     "INTEL-SA-00289,INTEL-SA-00828", NULL, NULL, false},
    {"tcb-revoked", true, true, "Revoked", "INTEL-SA-00828", NULL, NULL, false},
    {"qe-out-of-date", true, true, "OutOfDate", "INTEL-SA-00477", NULL, NULL, false},
    {"qe-revoked", true, true, "Revoked", "INTEL-SA-00477", NULL, NULL, false},
    {"tdx-module-out-of-date", false, true, "OutOfDate", "INTEL-SA-00837", NULL, NULL, false},
    {"pck-revoked", true, true, NULL, "", "pck_chain", "certificate_revoked", false},
    {"intermediate-revoked", true, true, NULL, "", "pck_chain", "certificate_revoked", false},
    {"crl-expired", true, true, NULL, "", "pck_chain", "crl_expired", false},
    {"tcb-info-expired", true, true, NULL, "", "collateral", "collateral_expired", false},
    {"wrong-fmspc", true, true, NULL, "", "collateral", "fmspc_mismatch", false},
    {"debug", true, true, "UpToDate", "", NULL, NULL, true},
    {"tampered-body", true, true, NULL, "", "quote_signature", "quote_signature_invalid", false},
    {"tampered-qe-report", true, true, NULL, "", "qe_report", "qe_report_signature_invalid",
     false},
    {"wrong-qe-report-data", true, true, NULL, "", "qe_report", "qe_report_data_mismatch", false},
    {"td-relaunch-advised", false, true, "TDRelaunchAdvised", "INTEL-SA-00837", NULL, NULL,
     false},
};

#define MATRIX_SIZE (sizeof(matrix) / sizeof(matrix[0]))

/* Joins the advisory IDs of report with commas into out. */
static void advisories_join(const attest_report *report, char *out, size_t out_size)
{
    out[0] = '\0';
    for (size_t i = 0; i < report->advisories.count; i++) {
        size_t used = strlen(out);
        snprintf(out + used, out_size - used, "%s%s", i == 0 ? "" : ",",
                 report->advisories.ids[i]);
    }
}

/* Verifies output with the simulated root trusted (when trust_sim_root) into f->report. */
static void verify_output(fixture *f, const uint8_t *quote, size_t quote_size,
                          const attest_collateral *collateral, time_t at, bool trust_sim_root)
{
    attest_verifier *verifier = NULL;
    attest_diag diag = {{0}};
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    if (trust_sim_root) {
        assert_int_equal(attest_verifier_add_root(verifier, f->root_der, f->root_der_size, &diag),
                         ATTEST_OK);
    }
    attest_err err = attest_verify_quote(verifier, quote, quote_size, collateral, at, NULL,
                                         &f->report);
    /* The call returns report.err, so the report decides; a bare failure would be a bug. */
    assert_int_equal(err, f->report.err);
    attest_verifier_free(verifier);
}

static void check_outcome(fixture *f, attest_sim_tee tee, const outcome *row)
{
    const char *tee_name = tee == ATTEST_SIM_TDX ? "TDX" : "SGX";
    attest_sim_scenario_output output;
    attest_diag diag = {{0}};
    attest_err err = attest_sim_scenario(f->platform, tee, row->name, AT, &output, &diag);
    if (err != ATTEST_OK) {
        fail_msg("%s %s: %s", tee_name, row->name, diag.message);
    }
    assert_int_equal(output.at, AT);
    verify_output(f, output.quote, output.quote_size, &output.collateral, output.at, true);
    const attest_report *report = &f->report;

    if (row->status != NULL) {
        if (!report->valid) {
            fail_msg("%s %s: expected valid, got %s at %s: %s", tee_name, row->name,
                     attest_err_code(report->err), attest_stage_name(report->error_stage),
                     report->error_message);
        }
        assert_true(report->has_tcb_status);
        assert_string_equal(attest_tcb_status_name(report->tcb_status), row->status);
    } else {
        if (report->valid) {
            fail_msg("%s %s: expected %s, got valid", tee_name, row->name, row->code);
        }
        assert_string_equal(attest_stage_name(report->error_stage), row->stage);
        assert_string_equal(attest_err_code(report->err), row->code);
    }
    char advisories[512];
    advisories_join(report, advisories, sizeof(advisories));
    assert_string_equal(advisories, row->advisories);
    assert_int_equal(report->debug, row->debug);
    attest_sim_scenario_output_clear(&output);
}

static void test_scenarios_sgx_matrix(void **state)
{
    for (size_t i = 0; i < MATRIX_SIZE; i++) {
        if (matrix[i].sgx) {
            check_outcome(*state, ATTEST_SIM_SGX, &matrix[i]);
        }
    }
}

static void test_scenarios_tdx_matrix(void **state)
{
    for (size_t i = 0; i < MATRIX_SIZE; i++) {
        if (matrix[i].tdx) {
            check_outcome(*state, ATTEST_SIM_TDX, &matrix[i]);
        }
    }
}

/* The library's scenario list and this matrix name the same scenarios in the same order. */
static void test_scenarios_list_matches_matrix(void **state)
{
    (void)state;
    assert_int_equal(attest_sim_scenario_count(), MATRIX_SIZE);
    for (size_t i = 0; i < MATRIX_SIZE; i++) {
        assert_string_equal(attest_sim_scenario_name(i), matrix[i].name);
        assert_int_equal(attest_sim_scenario_supports(matrix[i].name, ATTEST_SIM_SGX),
                         matrix[i].sgx);
        assert_int_equal(attest_sim_scenario_supports(matrix[i].name, ATTEST_SIM_TDX),
                         matrix[i].tdx);
    }
    assert_null(attest_sim_scenario_name(MATRIX_SIZE));
}

static void test_scenarios_reject_bad_names(void **state)
{
    fixture *f = *state;
    attest_sim_scenario_output output;
    memset(&output, 0x5a, sizeof(output));
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_scenario(f->platform, ATTEST_SIM_SGX, "td-relaunch-advised", AT,
                                         &output, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "TDX only"));
    assert_int_equal(attest_sim_scenario(f->platform, ATTEST_SIM_SGX, "tdx-module-out-of-date",
                                         AT, &output, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_sim_scenario(f->platform, ATTEST_SIM_TDX, "no-such-scenario", AT,
                                         &output, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "no-such-scenario"));
    /* The output stays untouched on failure. */
    assert_int_equal(((const uint8_t *)&output)[0], 0x5a);
}

static void test_sim_quote_needs_sim_root(void **state)
{
    fixture *f = *state;
    attest_sim_tee tees[] = {ATTEST_SIM_SGX, ATTEST_SIM_TDX};
    for (size_t i = 0; i < 2; i++) {
        attest_sim_scenario_output output;
        assert_int_equal(attest_sim_scenario(f->platform, tees[i], "up-to-date", AT, &output,
                                             NULL),
                         ATTEST_OK);
        verify_output(f, output.quote, output.quote_size, &output.collateral, AT, false);
        assert_false(f->report.valid);
        assert_string_equal(attest_stage_name(f->report.error_stage), "pck_chain");
        assert_string_equal(attest_err_code(f->report.err), "root_untrusted");
        attest_sim_scenario_output_clear(&output);
    }
}

/* A real quote, whose PCK chain ends at Intel's root, with simulated collateral. */
static void test_sim_collateral_rejects_real_quote(void **state)
{
    fixture *f = *state;
    const char *quotes[] = {"tdx/phala-tdx-v4.quote", "sgx/phala-sgx-v3.quote"};
    const attest_sim_tee tees[] = {ATTEST_SIM_TDX, ATTEST_SIM_SGX};
    const time_t times[] = {1752919234, 1752919277};
    for (size_t i = 0; i < 2; i++) {
        uint8_t *quote = NULL;
        size_t size = 0;
        assert_int_equal(attest_quote_read_file(test_real_path(quotes[i]), &quote, &size, NULL),
                         ATTEST_OK);
        attest_sim_collateral_options options;
        attest_sim_collateral_options_init(&options, tees[i], times[i]);
        attest_collateral collateral;
        assert_int_equal(attest_sim_collateral(f->platform, &options, &collateral, NULL),
                         ATTEST_OK);

        verify_output(f, quote, size, &collateral, times[i], true);
        assert_false(f->report.valid);
        assert_string_equal(attest_stage_name(f->report.error_stage), "pck_chain");
        assert_string_equal(attest_err_code(f->report.err), "root_mixed");
        attest_collateral_clear(&collateral);
        free(quote);
    }
}

/* A simulated quote with real collateral, whose issuer chains end at Intel's root. */
static void test_real_collateral_rejects_sim_quote(void **state)
{
    fixture *f = *state;
    const char *bundles[] = {"tdx/phala-tdx-v4.collateral.json",
                             "sgx/phala-sgx-v3.collateral.json"};
    const attest_sim_tee tees[] = {ATTEST_SIM_TDX, ATTEST_SIM_SGX};
    const time_t times[] = {1752919234, 1752919277};
    for (size_t i = 0; i < 2; i++) {
        attest_collateral collateral;
        attest_diag diag = {{0}};
        assert_int_equal(attest_collateral_load(test_real_path(bundles[i]), &collateral, &diag),
                         ATTEST_OK);
        attest_sim_scenario_output output;
        assert_int_equal(attest_sim_scenario(f->platform, tees[i], "up-to-date", times[i],
                                             &output, NULL),
                         ATTEST_OK);

        verify_output(f, output.quote, output.quote_size, &collateral, times[i], true);
        assert_false(f->report.valid);
        assert_string_equal(attest_stage_name(f->report.error_stage), "pck_chain");
        assert_string_equal(attest_err_code(f->report.err), "root_mixed");
        attest_sim_scenario_output_clear(&output);
        attest_collateral_clear(&collateral);
    }
}

/* Collateral written as PCS-style files and read back verifies the same as the bundle. */
static void test_scenario_pcs_dir_verifies(void **state)
{
    fixture *f = *state;
    attest_sim_scenario_output output;
    assert_int_equal(attest_sim_scenario(f->platform, ATTEST_SIM_TDX, "sw-hardening-needed", AT,
                                         &output, NULL),
                     ATTEST_OK);
    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/attest-sim-pcs-XXXXXX");
    assert_non_null(mkdtemp(dir));
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_collateral_write_dir(&output.collateral, dir, &diag), ATTEST_OK);
    attest_collateral loaded;
    assert_int_equal(attest_collateral_load(dir, &loaded, &diag), ATTEST_OK);
    test_remove_dir(dir);

    verify_output(f, output.quote, output.quote_size, &loaded, AT, true);
    assert_true(f->report.valid);
    assert_string_equal(attest_tcb_status_name(f->report.tcb_status), "SWHardeningNeeded");
    attest_collateral_clear(&loaded);
    attest_sim_scenario_output_clear(&output);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios_sgx_matrix),
        cmocka_unit_test(test_scenarios_tdx_matrix),
        cmocka_unit_test(test_scenarios_list_matches_matrix),
        cmocka_unit_test(test_scenarios_reject_bad_names),
        cmocka_unit_test(test_sim_quote_needs_sim_root),
        cmocka_unit_test(test_sim_collateral_rejects_real_quote),
        cmocka_unit_test(test_real_collateral_rejects_sim_quote),
        cmocka_unit_test(test_scenario_pcs_dir_verifies),
    };
    return cmocka_run_group_tests(tests, platform_setup, platform_teardown);
}
