/*
 * TCB level matching on the real Intel TCB info documents, the TDX module
 * checks, TD 1.5 relaunch advice and the status merge rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include <attest/tcb.h>

#include "support.h"

static void load_tcb_info(const char *relative, attest_tcb_info *out_info)
{
    size_t size = 0;
    uint8_t *data = test_read_real(relative, &size);
    json_error_t error;
    json_t *root = json_loadb((const char *)data, size, 0, &error);
    assert_non_null(root);
    const char *text = json_string_value(json_object_get(root, "tcb_info"));
    assert_non_null(text);
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), out_info, &diag), ATTEST_OK);
    json_decref(root);
    free(data);
}

static void load_qe_identity(const char *relative, attest_qe_identity *out_identity)
{
    size_t size = 0;
    uint8_t *data = test_read_real(relative, &size);
    json_error_t error;
    json_t *root = json_loadb((const char *)data, size, 0, &error);
    assert_non_null(root);
    const char *text = json_string_value(json_object_get(root, "qe_identity"));
    assert_non_null(text);
    attest_diag diag = {{0}};
    assert_int_equal(attest_qe_identity_parse(text, strlen(text), out_identity, &diag),
                     ATTEST_OK);
    json_decref(root);
    free(data);
}

/* Inputs for the TD 1.5 collateral: the SGX components of its newest level. */
static attest_tcb_inputs td15_inputs(uint8_t svn0, uint8_t svn1, uint8_t svn2)
{
    attest_tcb_inputs inputs;
    memset(&inputs, 0, sizeof(inputs));
    static const uint8_t sgx[16] = {3, 3, 2, 2, 4, 1, 0, 5};
    memcpy(inputs.sgx_components, sgx, sizeof(sgx));
    inputs.pcesvn = 13;
    inputs.tdx = true;
    inputs.tee_tcb_svn[0] = svn0;
    inputs.tee_tcb_svn[1] = svn1;
    inputs.tee_tcb_svn[2] = svn2;
    return inputs;
}

static void sgx_v3_real_selects_configuration(void **state)
{
    (void)state;
    attest_tcb_info info;
    load_tcb_info("sgx/phala-sgx-v3.collateral.json", &info);

    attest_tcb_inputs inputs;
    memset(&inputs, 0, sizeof(inputs));
    static const uint8_t pck[16] = {11, 11, 2, 2, 255, 1, 0, 0};
    memcpy(inputs.sgx_components, pck, sizeof(pck));
    inputs.pcesvn = 13;

    attest_tcb_match match;
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
    assert_ptr_equal(match.level, &info.levels[1]);
    assert_int_equal(match.status, ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    assert_int_equal(match.platform_status, ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    assert_false(match.has_module);
    assert_false(match.relaunch_advised);
    assert_int_equal(match.level->advisories.count, 2);
    assert_string_equal(match.level->advisories.ids[0], "INTEL-SA-00289");
    assert_string_equal(match.level->advisories.ids[1], "INTEL-SA-00615");

    /* PCESVN below every level matches nothing. */
    inputs.pcesvn = 1;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TCB_LEVEL);
    assert_string_equal(diag.message, "no TCB level matches PCK components "
                                      "11,11,2,2,255,1,0,0,0,0,0,0,0,0,0,0 and PCESVN 1");

    /* TDX inputs against SGX TCB info fail closed. */
    inputs.tdx = true;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TEE_MISMATCH);
    attest_tcb_info_free(&info);
}

static void qe_identity_real_levels(void **state)
{
    (void)state;
    attest_qe_identity identity;
    load_qe_identity("sgx/phala-sgx-v3.collateral.json", &identity);
    const attest_isvsvn_level *level = NULL;
    attest_diag diag = {{0}};

    assert_int_equal(attest_qe_level_match(&identity, 8, &level, &diag), ATTEST_OK);
    assert_ptr_equal(level, &identity.levels[0]);
    assert_int_equal(level->status, ATTEST_TCB_UP_TO_DATE);
    assert_int_equal(attest_qe_level_match(&identity, 7, &level, &diag), ATTEST_OK);
    assert_ptr_equal(level, &identity.levels[1]);
    assert_int_equal(level->status, ATTEST_TCB_OUT_OF_DATE);

    level = NULL;
    assert_int_equal(attest_qe_level_match(&identity, 0, &level, &diag), ATTEST_ERR_QE_TCB_LEVEL);
    assert_null(level);
    attest_qe_identity_free(&identity);
}

static void tdx_td10_real_up_to_date(void **state)
{
    (void)state;
    attest_tcb_info info;
    load_tcb_info("tdx/phala-tdx-v4.collateral.json", &info);

    attest_tcb_inputs inputs;
    memset(&inputs, 0, sizeof(inputs));
    static const uint8_t sgx[16] = {2, 2, 2, 2, 3, 1, 0, 5};
    memcpy(inputs.sgx_components, sgx, sizeof(sgx));
    inputs.pcesvn = 11;
    inputs.tdx = true;
    inputs.tee_tcb_svn[0] = 6;
    inputs.tee_tcb_svn[1] = 1;
    inputs.tee_tcb_svn[2] = 3;

    attest_tcb_match match;
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
    assert_ptr_equal(match.level, &info.levels[0]);
    assert_true(match.has_module);
    assert_string_equal(match.module_id, "TDX_01");
    assert_int_equal(match.module_status, ATTEST_TCB_UP_TO_DATE);
    assert_int_equal(match.status, ATTEST_TCB_UP_TO_DATE);
    assert_int_equal(match.level->advisories.count, 0);
    attest_tcb_info_free(&info);
}

/* The TD 1.5 quote's PCK has SGX component 8 at 3; every level needs 5. */
static void tdx_td15_real_no_level(void **state)
{
    (void)state;
    attest_tcb_info info;
    load_tcb_info("tdx/phala-tdx-v5-td15.collateral.json", &info);

    attest_tcb_inputs inputs = td15_inputs(7, 1, 3);
    inputs.sgx_components[7] = 3;
    inputs.td15 = true;
    inputs.tee_tcb_svn2[0] = 0x0d;
    inputs.tee_tcb_svn2[1] = 1;
    inputs.tee_tcb_svn2[2] = 3;

    attest_tcb_match match;
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TCB_LEVEL);

    /* With component 8 at 5 the same TD is UpToDate. */
    inputs.sgx_components[7] = 5;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
    assert_int_equal(match.status, ATTEST_TCB_UP_TO_DATE);
    assert_false(match.relaunch_advised);
    attest_tcb_info_free(&info);
}

/* TEE_TCB_SVN 03 00 04: component 2 is below every level's 5. */
static void tdx_google_real_no_level(void **state)
{
    (void)state;
    attest_tcb_info info;
    load_tcb_info("tdx/google-spr-e4-v4.collateral.json", &info);

    attest_tcb_inputs inputs;
    memset(&inputs, 0, sizeof(inputs));
    static const uint8_t sgx[16] = {5, 5, 2, 2, 3, 1, 0, 3};
    memcpy(inputs.sgx_components, sgx, sizeof(sgx));
    inputs.pcesvn = 11;
    inputs.tdx = true;
    inputs.tee_tcb_svn[0] = 3;
    inputs.tee_tcb_svn[2] = 4;

    attest_tcb_match match;
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TCB_LEVEL);
    assert_non_null(strstr(diag.message, "TEE_TCB_SVN 3,0,4,0"));

    /* Component 2 at 5 matches level 0, and the module is checked against tdxModule. */
    inputs.tee_tcb_svn[2] = 5;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
    assert_int_equal(match.status, ATTEST_TCB_UP_TO_DATE);
    assert_false(match.has_module);

    inputs.mr_signer_seam[47] = 1;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TDX_MODULE);
    inputs.mr_signer_seam[47] = 0;
    inputs.seam_attributes[7] = 0x80;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TDX_MODULE);

    /* Bits outside the mask do not count. */
    info.tdx_module_attributes_mask[7] = 0x7F;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);

    /* This document has no module identities, so TEE_TCB_SVN[1] = 1 finds none. */
    inputs.tee_tcb_svn[1] = 1;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TDX_MODULE_IDENTITY);
    attest_tcb_info_free(&info);
}

static void tdx_module_identity_checks(void **state)
{
    (void)state;
    attest_tcb_info info;
    load_tcb_info("tdx/phala-tdx-v5-td15.collateral.json", &info);
    attest_tcb_match match;
    attest_diag diag = {{0}};

    /* TDX_02 does not exist. */
    attest_tcb_inputs inputs = td15_inputs(7, 2, 3);
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TDX_MODULE_IDENTITY);
    assert_non_null(strstr(diag.message, "TDX_02"));

    /* TDX_01's lowest level needs ISVSVN 2. */
    inputs = td15_inputs(1, 1, 3);
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TDX_MODULE_IDENTITY);

    /* ISVSVN 4 is an OutOfDate module, which makes the UpToDate platform OutOfDate. */
    inputs = td15_inputs(4, 1, 3);
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
    assert_ptr_equal(match.level, &info.levels[0]);
    assert_int_equal(match.platform_status, ATTEST_TCB_UP_TO_DATE);
    assert_int_equal(match.module_status, ATTEST_TCB_OUT_OF_DATE);
    assert_int_equal(match.status, ATTEST_TCB_OUT_OF_DATE);
    assert_non_null(match.module_level);
    assert_int_equal(match.module_level->advisories.count, 2);
    assert_string_equal(match.module_level->advisories.ids[0], "INTEL-SA-01036");

    /* With a module identity, TDX components 0 and 1 are not compared. */
    info.levels[0].tdx_components[0] = 200;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
    assert_ptr_equal(match.level, &info.levels[0]);
    info.levels[0].tdx_components[0] = 5;

    /* A lower-case identity id still matches. */
    info.tdx_module_identities[1].id[0] = 't';
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
    info.tdx_module_identities[1].id[0] = 'T';

    /* The identity's MRSIGNER is checked in place of tdxModule's. */
    info.tdx_module_identities[1].mrsigner[0] = 1;
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag),
                     ATTEST_ERR_TDX_MODULE);
    attest_tcb_info_free(&info);
}

typedef struct relaunch_case {
    const char *name;
    uint8_t svn2[3];
    attest_tcb_status sgx_level_status; /* status given to every platform level */
    bool td15;
    attest_err expected_err;
    attest_tcb_status expected_status;
} relaunch_case;

/*
 * TEE_TCB_SVN is 04 01 03: module TDX_01 at ISVSVN 4 is OutOfDate, so the TD
 * is OutOfDate; TEE_TCB_SVN2 decides whether relaunching would help.
 */
static const relaunch_case relaunch_cases[] = {
    {"newest module identity level reached", {6, 1, 3}, ATTEST_TCB_UP_TO_DATE, true, ATTEST_OK,
     ATTEST_TCB_TD_RELAUNCH_ADVISED},
    {"module ISVSVN one below the newest", {5, 1, 3}, ATTEST_TCB_UP_TO_DATE, true, ATTEST_OK,
     ATTEST_TCB_OUT_OF_DATE},
    {"component 2 below the newest level", {6, 1, 2}, ATTEST_TCB_UP_TO_DATE, true, ATTEST_OK,
     ATTEST_TCB_OUT_OF_DATE},
    {"other module identity TDX_03", {3, 3, 3}, ATTEST_TCB_UP_TO_DATE, true, ATTEST_OK,
     ATTEST_TCB_TD_RELAUNCH_ADVISED},
    {"unknown module identity TDX_02", {9, 2, 3}, ATTEST_TCB_UP_TO_DATE, true,
     ATTEST_ERR_TDX_MODULE_IDENTITY, ATTEST_TCB_UP_TO_DATE},
    {"no module version, components reach level 0", {5, 0, 3}, ATTEST_TCB_UP_TO_DATE, true,
     ATTEST_OK, ATTEST_TCB_TD_RELAUNCH_ADVISED},
    {"no module version, component 0 below level 0", {4, 0, 3}, ATTEST_TCB_UP_TO_DATE, true,
     ATTEST_OK, ATTEST_TCB_OUT_OF_DATE},
    {"SGX configuration needed", {6, 1, 3}, ATTEST_TCB_CONFIGURATION_NEEDED, true, ATTEST_OK,
     ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED},
    {"SGX SW hardening needed", {6, 1, 3}, ATTEST_TCB_SW_HARDENING_NEEDED, true, ATTEST_OK,
     ATTEST_TCB_TD_RELAUNCH_ADVISED},
    {"SGX out of date", {6, 1, 3}, ATTEST_TCB_OUT_OF_DATE, true, ATTEST_OK,
     ATTEST_TCB_OUT_OF_DATE},
    {"SGX revoked", {6, 1, 3}, ATTEST_TCB_REVOKED, true, ATTEST_OK, ATTEST_TCB_REVOKED},
    {"TD 1.0 body", {6, 1, 3}, ATTEST_TCB_UP_TO_DATE, false, ATTEST_OK, ATTEST_TCB_OUT_OF_DATE},
};

static void td15_relaunch_table(void **state)
{
    (void)state;
    attest_tcb_info info;
    load_tcb_info("tdx/phala-tdx-v5-td15.collateral.json", &info);

    for (size_t i = 0; i < sizeof(relaunch_cases) / sizeof(relaunch_cases[0]); i++) {
        const relaunch_case *row = &relaunch_cases[i];
        for (size_t j = 0; j < info.level_count; j++) {
            info.levels[j].status = row->sgx_level_status;
        }
        attest_tcb_inputs inputs = td15_inputs(4, 1, 3);
        inputs.td15 = row->td15;
        memcpy(inputs.tee_tcb_svn2, row->svn2, 3);

        attest_tcb_match match;
        attest_diag diag = {{0}};
        attest_err err = attest_tcb_level_match(&info, &inputs, &match, &diag);
        if (err != row->expected_err) {
            fail_msg("case \"%s\": expected %s, got %s (%s)", row->name,
                     attest_err_code(row->expected_err), attest_err_code(err), diag.message);
        }
        if (err != ATTEST_OK) {
            continue;
        }
        if (match.status != row->expected_status) {
            fail_msg("case \"%s\": expected %s, got %s", row->name,
                     attest_tcb_status_name(row->expected_status),
                     attest_tcb_status_name(match.status));
        }
        bool advised = row->expected_status == ATTEST_TCB_TD_RELAUNCH_ADVISED ||
                       row->expected_status == ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
        assert_int_equal(match.relaunch_advised, advised);
    }
    attest_tcb_info_free(&info);
}

typedef struct merge_case {
    const char *name;
    attest_tcb_status platform;
    attest_tcb_status component;
    attest_tcb_status expected;
} merge_case;

/* One table serves both merges: Intel applies the same rule to the module and to the QE. */
static const merge_case merge_cases[] = {
    {"UpToDate with OutOfDate", ATTEST_TCB_UP_TO_DATE, ATTEST_TCB_OUT_OF_DATE,
     ATTEST_TCB_OUT_OF_DATE},
    {"SWHardeningNeeded with OutOfDate", ATTEST_TCB_SW_HARDENING_NEEDED, ATTEST_TCB_OUT_OF_DATE,
     ATTEST_TCB_OUT_OF_DATE},
    {"ConfigurationNeeded with OutOfDate", ATTEST_TCB_CONFIGURATION_NEEDED,
     ATTEST_TCB_OUT_OF_DATE, ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
    {"ConfigurationAndSWHardeningNeeded with OutOfDate",
     ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, ATTEST_TCB_OUT_OF_DATE,
     ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
    {"OutOfDate with OutOfDate", ATTEST_TCB_OUT_OF_DATE, ATTEST_TCB_OUT_OF_DATE,
     ATTEST_TCB_OUT_OF_DATE},
    {"OutOfDateConfigurationNeeded with OutOfDate", ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
     ATTEST_TCB_OUT_OF_DATE, ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
    {"Revoked with OutOfDate", ATTEST_TCB_REVOKED, ATTEST_TCB_OUT_OF_DATE, ATTEST_TCB_REVOKED},
    {"UpToDate with Revoked", ATTEST_TCB_UP_TO_DATE, ATTEST_TCB_REVOKED, ATTEST_TCB_REVOKED},
    {"ConfigurationNeeded with Revoked", ATTEST_TCB_CONFIGURATION_NEEDED, ATTEST_TCB_REVOKED,
     ATTEST_TCB_REVOKED},
    {"OutOfDate with Revoked", ATTEST_TCB_OUT_OF_DATE, ATTEST_TCB_REVOKED, ATTEST_TCB_REVOKED},
    {"UpToDate with UpToDate", ATTEST_TCB_UP_TO_DATE, ATTEST_TCB_UP_TO_DATE,
     ATTEST_TCB_UP_TO_DATE},
    {"SWHardeningNeeded with UpToDate", ATTEST_TCB_SW_HARDENING_NEEDED, ATTEST_TCB_UP_TO_DATE,
     ATTEST_TCB_SW_HARDENING_NEEDED},
    {"ConfigurationAndSWHardeningNeeded with UpToDate",
     ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, ATTEST_TCB_UP_TO_DATE,
     ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED},
    {"OutOfDate with UpToDate", ATTEST_TCB_OUT_OF_DATE, ATTEST_TCB_UP_TO_DATE,
     ATTEST_TCB_OUT_OF_DATE},
    {"Revoked with UpToDate", ATTEST_TCB_REVOKED, ATTEST_TCB_UP_TO_DATE, ATTEST_TCB_REVOKED},
};

static void merge_qe_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
        const merge_case *row = &merge_cases[i];
        attest_tcb_status got = attest_tcb_status_merge_qe(row->platform, row->component);
        if (got != row->expected) {
            fail_msg("QE case \"%s\": got %s", row->name, attest_tcb_status_name(got));
        }
    }
}

/* The module merge, seen through matching: platform level 0, module TDX_01 level 1. */
static void merge_module_table(void **state)
{
    (void)state;
    attest_tcb_info info;
    load_tcb_info("tdx/phala-tdx-v5-td15.collateral.json", &info);

    for (size_t i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
        const merge_case *row = &merge_cases[i];
        info.levels[0].status = row->platform;
        info.tdx_module_identities[1].levels[1].status = row->component;
        attest_tcb_inputs inputs = td15_inputs(4, 1, 3);

        attest_tcb_match match;
        attest_diag diag = {{0}};
        assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
        if (match.status != row->expected) {
            fail_msg("module case \"%s\": got %s", row->name, attest_tcb_status_name(match.status));
        }
        assert_int_equal(match.platform_status, row->platform);
        assert_int_equal(match.module_status, row->component);
    }
    attest_tcb_info_free(&info);
}

static const merge_case relaunch_merge_cases[] = {
    {"advised with QE UpToDate", ATTEST_TCB_TD_RELAUNCH_ADVISED, ATTEST_TCB_UP_TO_DATE,
     ATTEST_TCB_TD_RELAUNCH_ADVISED},
    {"advised with QE OutOfDate", ATTEST_TCB_TD_RELAUNCH_ADVISED, ATTEST_TCB_OUT_OF_DATE,
     ATTEST_TCB_OUT_OF_DATE},
    {"advised with QE Revoked", ATTEST_TCB_TD_RELAUNCH_ADVISED, ATTEST_TCB_REVOKED,
     ATTEST_TCB_REVOKED},
    {"advised configuration with QE UpToDate",
     ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED, ATTEST_TCB_UP_TO_DATE,
     ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED},
    {"advised configuration with QE OutOfDate",
     ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED, ATTEST_TCB_OUT_OF_DATE,
     ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
};

static void merge_qe_relaunch_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(relaunch_merge_cases) / sizeof(relaunch_merge_cases[0]); i++) {
        const merge_case *row = &relaunch_merge_cases[i];
        attest_tcb_status got = attest_tcb_status_merge_qe(row->platform, row->component);
        if (got != row->expected) {
            fail_msg("case \"%s\": got %s", row->name, attest_tcb_status_name(got));
        }
    }
}

/*
 * SGX ConfigurationNeeded with an OutOfDate TDX level gives relaunch advice
 * with configuration. An OutOfDate QE withdraws the advice, so Intel reports
 * the status before it, OutOfDate.
 */
static void match_merge_qe_withdraws_advice(void **state)
{
    (void)state;
    attest_tcb_info info;
    load_tcb_info("tdx/phala-tdx-v5-td15.collateral.json", &info);
    info.levels[0].status = ATTEST_TCB_CONFIGURATION_NEEDED;
    info.levels[0].tdx_components[2] = 9; /* so level 0 is the SGX level only */
    info.levels[1].status = ATTEST_TCB_OUT_OF_DATE;

    attest_tcb_inputs inputs = td15_inputs(4, 1, 3);
    inputs.td15 = true;
    inputs.tee_tcb_svn2[0] = 6;
    inputs.tee_tcb_svn2[1] = 1;
    inputs.tee_tcb_svn2[2] = 9;

    attest_tcb_match match;
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_level_match(&info, &inputs, &match, &diag), ATTEST_OK);
    assert_ptr_equal(match.level, &info.levels[1]);
    assert_true(match.relaunch_advised);
    assert_int_equal(match.status, ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);
    assert_int_equal(match.status_before_relaunch, ATTEST_TCB_OUT_OF_DATE);

    assert_int_equal(attest_tcb_match_merge_qe(&match, ATTEST_TCB_UP_TO_DATE),
                     ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);
    assert_int_equal(attest_tcb_match_merge_qe(&match, ATTEST_TCB_OUT_OF_DATE),
                     ATTEST_TCB_OUT_OF_DATE);
    assert_int_equal(attest_tcb_match_merge_qe(&match, ATTEST_TCB_REVOKED), ATTEST_TCB_REVOKED);
    attest_tcb_info_free(&info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgx_v3_real_selects_configuration),
        cmocka_unit_test(qe_identity_real_levels),
        cmocka_unit_test(tdx_td10_real_up_to_date),
        cmocka_unit_test(tdx_td15_real_no_level),
        cmocka_unit_test(tdx_google_real_no_level),
        cmocka_unit_test(tdx_module_identity_checks),
        cmocka_unit_test(td15_relaunch_table),
        cmocka_unit_test(merge_qe_table),
        cmocka_unit_test(merge_module_table),
        cmocka_unit_test(merge_qe_relaunch_table),
        cmocka_unit_test(match_merge_qe_withdraws_advice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
