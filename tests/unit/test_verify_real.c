/*
 * Verification of the real Intel evidence: every SGX and TDX row of the real
 * data README, with the exact status, advisories, stage and error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <attest/attest.h>

#include "support.h"
#include "util/hex.h"

typedef struct real_case {
    const char *name;
    const char *quote;
    const char *collateral; /* NULL: none */
    time_t at;
    long offset;            /* byte to change, or -1 */
    uint8_t value;
    bool flip;              /* xor value into the byte instead of setting it */
    bool valid;
    const char *status;     /* when valid */
    const char *advisories; /* when valid: space-separated, in any order */
    attest_stage stage;     /* when not valid */
    attest_err err;         /* when not valid */
} real_case;

static const real_case cases[] = {
    {"SGX v3 ConfigurationAndSWHardeningNeeded", "sgx/phala-sgx-v3.quote",
     "sgx/phala-sgx-v3.collateral.json", 1752919277, -1, 0, false, true,
     "ConfigurationAndSWHardeningNeeded", "INTEL-SA-00289 INTEL-SA-00615", 0, ATTEST_OK},
    {"SGX v3 MRENCLAVE byte changed", "sgx/phala-sgx-v3.quote", "sgx/phala-sgx-v3.collateral.json",
     1752919277, 48 + 64, 0x01, true, false, NULL, NULL, ATTEST_STAGE_QUOTE_SIGNATURE,
     ATTEST_ERR_QUOTE_SIGNATURE},
    {"SGX v3 after QE identity nextUpdate", "sgx/phala-sgx-v3.quote",
     "sgx/phala-sgx-v3.collateral.json", 1752920000, -1, 0, false, false, NULL, NULL,
     ATTEST_STAGE_COLLATERAL, ATTEST_ERR_COLLATERAL_EXPIRED},
    {"TDX v4 UpToDate", "tdx/phala-tdx-v4.quote", "tdx/phala-tdx-v4.collateral.json", 1752919234,
     -1, 0, false, true, "UpToDate", "", 0, ATTEST_OK},
    {"TDX v5 TD 1.5 no TCB level", "tdx/phala-tdx-v5-td15.quote",
     "tdx/phala-tdx-v5-td15.collateral.json", 1774003274, -1, 0, false, false, NULL, NULL,
     ATTEST_STAGE_TCB, ATTEST_ERR_TCB_LEVEL},
    {"TDX v4 google PCS directory no TCB level", "tdx/google-spr-e4-v4.quote",
     "tdx/google-spr-e4-pcs", 1688173200, -1, 0, false, false, NULL, NULL, ATTEST_STAGE_TCB,
     ATTEST_ERR_TCB_LEVEL},
    {"TDX v4 google bundle no TCB level", "tdx/google-spr-e4-v4.quote",
     "tdx/google-spr-e4-v4.collateral.json", 1688173200, -1, 0, false, false, NULL, NULL,
     ATTEST_STAGE_TCB, ATTEST_ERR_TCB_LEVEL},
    {"TDX v4 version set to 3", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs",
     1688173200, 0x00, 3, false, false, NULL, NULL, ATTEST_STAGE_PARSE,
     ATTEST_ERR_QUOTE_TEE_TYPE},
    {"TDX v4 signature data size changed", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs",
     1688173200, 0x278, 0x10, false, false, NULL, NULL, ATTEST_STAGE_PARSE,
     ATTEST_ERR_QUOTE_CERT_DATA_SIZE},
    {"TDX v4 root PEM broken", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs", 1688173200,
     0x1343, 0x32, false, false, NULL, NULL, ATTEST_STAGE_PCK_CHAIN, ATTEST_ERR_CERT_PARSE},
    {"TDX v4 root differs from pinned", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs",
     1688173200, 0x1329, 0x32, false, false, NULL, NULL, ATTEST_STAGE_PCK_CHAIN,
     ATTEST_ERR_ROOT_UNTRUSTED},
    {"TDX v4 intermediate signature", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs",
     1688173200, 0xF5F, 0x32, false, false, NULL, NULL, ATTEST_STAGE_PCK_CHAIN,
     ATTEST_ERR_CERT_SIGNATURE},
    {"TDX v4 PCK certificate signature", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs",
     1688173200, 0xB77, 0x32, false, false, NULL, NULL, ATTEST_STAGE_PCK_CHAIN,
     ATTEST_ERR_CERT_SIGNATURE},
    {"TDX v4 header byte 0x1E", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs", 1688173200,
     0x1E, 0x32, false, false, NULL, NULL, ATTEST_STAGE_QUOTE_SIGNATURE,
     ATTEST_ERR_QUOTE_SIGNATURE},
    {"TDX v4 body byte 0x3C", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs", 1688173200,
     0x3C, 0x32, false, false, NULL, NULL, ATTEST_STAGE_QUOTE_SIGNATURE,
     ATTEST_ERR_QUOTE_SIGNATURE},
    {"TDX v4 in 2048", "tdx/google-spr-e4-v4.quote", "tdx/google-spr-e4-pcs", 2461795200, -1, 0,
     false, false, NULL, NULL, ATTEST_STAGE_PCK_CHAIN, ATTEST_ERR_CERT_EXPIRED},
    {"TDX v5 sample without collateral", "tdx/google-v5-td15-sample.quote", NULL, 1770080400, -1,
     0, false, false, NULL, NULL, ATTEST_STAGE_COLLATERAL, ATTEST_ERR_COLLATERAL_MISSING},
    {"TDX v5 sample UpToDate", "tdx/google-v5-td15-sample.quote",
     "tdx/phala-tdx-v5-td15.collateral.json", 1774003274, -1, 0, false, true, "UpToDate", "", 0,
     ATTEST_OK},
};

static const attest_check *find_check(const attest_report *report, const char *name)
{
    for (size_t i = 0; i < report->check_count; i++) {
        if (strcmp(report->checks[i].name, name) == 0) {
            return &report->checks[i];
        }
    }
    return NULL;
}

static bool has_advisory(const attest_report *report, const char *id, size_t length)
{
    for (size_t i = 0; i < report->advisories.count; i++) {
        if (strlen(report->advisories.ids[i]) == length &&
            strncmp(report->advisories.ids[i], id, length) == 0) {
            return true;
        }
    }
    return false;
}

static void check_advisories(const real_case *c, const attest_report *report)
{
    size_t expected_count = 0;
    const char *cursor = c->advisories;
    while (*cursor != '\0') {
        const char *end = strchr(cursor, ' ');
        size_t length = end != NULL ? (size_t)(end - cursor) : strlen(cursor);
        if (!has_advisory(report, cursor, length)) {
            fail_msg("%s: advisory %.*s missing", c->name, (int)length, cursor);
        }
        expected_count++;
        cursor += length + (end != NULL ? 1 : 0);
    }
    assert_int_equal(report->advisories.count, expected_count);
}

static void run_case(attest_verifier *verifier, const real_case *c, const attest_verify_options *options,
                     attest_report *report)
{
    size_t size = 0;
    uint8_t *quote = test_read_real(c->quote, &size);
    if (c->offset >= 0) {
        assert_true((size_t)c->offset < size);
        quote[c->offset] = c->flip ? (uint8_t)(quote[c->offset] ^ c->value) : c->value;
    }
    attest_collateral collateral = {0};
    if (c->collateral != NULL) {
        attest_diag diag = {{0}};
        attest_err err = attest_collateral_load(test_real_path(c->collateral), &collateral, &diag);
        if (err != ATTEST_OK) {
            fail_msg("%s: loading collateral: %s", c->name, diag.message);
        }
    }

    attest_err err = attest_verify_quote(verifier, quote, size,
                                         c->collateral != NULL ? &collateral : NULL, c->at,
                                         options, report);
    if (report->valid != c->valid || (!c->valid && (report->err != c->err ||
                                                    report->error_stage != c->stage))) {
        fail_msg("%s: valid %d, stage %s, error %s (%s); expected valid %d, stage %s, error %s",
                 c->name, report->valid, attest_stage_name(report->error_stage),
                 attest_err_code(report->err), report->error_message, c->valid,
                 attest_stage_name(c->stage), attest_err_code(c->err));
    }
    assert_int_equal(err, report->err);
    if (c->valid) {
        assert_true(report->has_tcb_status);
        assert_string_equal(attest_tcb_status_name(report->tcb_status), c->status);
        check_advisories(c, report);
        assert_false(report->collateral_expired);
    }
    attest_collateral_clear(&collateral);
    /* The report borrows the quote; drop the borrowed pointers before freeing it. */
    report->quote.signed_data = NULL;
    report->quote.pck_chain = NULL;
    report->quote.qe_auth_data = NULL;
    report->quote.qe_report_raw = NULL;
    report->quote.trailing = NULL;
    free(quote);
}

static void test_verify_real_rows(void **state)
{
    (void)state;
    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    attest_report *report = malloc(sizeof(*report));
    assert_non_null(report);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(verifier, &cases[i], NULL, report);
    }
    attest_verifier_free(verifier);
    free(report);
}

/* Caches must never change an outcome: run every row cached, then uncached, twice. */
static void test_verify_real_cache_agrees(void **state)
{
    (void)state;
    attest_verify_options uncached = {true, true};
    attest_verify_options chain_uncached = {false, true};
    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    attest_report *report = malloc(sizeof(*report));
    assert_non_null(report);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            run_case(verifier, &cases[i], round == 0 ? &uncached : &chain_uncached, report);
            run_case(verifier, &cases[i], NULL, report);
        }
    }
    attest_verifier_free(verifier);
    free(report);
}

/* In 2048 several pck_chain checks fail at once, the PCK certificate's expiry among them. */
static void test_verify_real_2048_reports_all(void **state)
{
    (void)state;
    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    attest_report *report = malloc(sizeof(*report));
    assert_non_null(report);
    run_case(verifier, &cases[15], NULL, report);

    const attest_check *pck = find_check(report, "pck_certificate_validity");
    assert_non_null(pck);
    assert_int_equal(pck->outcome, ATTEST_CHECK_FAIL);
    assert_int_equal(pck->err, ATTEST_ERR_CERT_EXPIRED);
    static const char *const also_failing[] = {"intermediate_validity", "root_ca_crl_validity",
                                               "pck_crl_validity"};
    for (size_t i = 0; i < 3; i++) {
        const attest_check *check = find_check(report, also_failing[i]);
        assert_non_null(check);
        assert_int_equal(check->outcome, ATTEST_CHECK_FAIL);
    }
    assert_true(report->collateral_expired);
    attest_verifier_free(verifier);
    free(report);
}

/* Without collateral the signatures and the chain are still checked, and pass. */
static void test_verify_real_no_collateral_checks(void **state)
{
    (void)state;
    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    attest_report *report = malloc(sizeof(*report));
    assert_non_null(report);
    run_case(verifier, &cases[16], NULL, report);
    static const char *const passing[] = {"quote_signature", "qe_report_signature",
                                          "qe_report_data", "pck_certificate_signature",
                                          "intermediate_signature", "root_trusted",
                                          "pck_certificate_validity"};
    for (size_t i = 0; i < sizeof(passing) / sizeof(passing[0]); i++) {
        const attest_check *check = find_check(report, passing[i]);
        if (check == NULL || check->outcome != ATTEST_CHECK_PASS) {
            fail_msg("check %s did not pass", passing[i]);
        }
    }
    assert_true(report->has_pck);
    char fmspc[13];
    attest_hex_encode(report->pck.fmspc, 6, fmspc);
    assert_string_equal(fmspc, "90c06f000000");
    attest_verifier_free(verifier);
    free(report);
}

static void assert_claim(json_t *claims, const char *object, const char *ours, json_t *expected_object,
                         const char *theirs)
{
    json_t *value = json_object_get(json_object_get(claims, object), ours);
    json_t *expected = json_object_get(expected_object, theirs);
    if (!json_is_string(value) || !json_is_string(expected) ||
        strcmp(json_string_value(value), json_string_value(expected)) != 0) {
        fail_msg("claim %s.%s is %s, expected %s", object, ours,
                 json_is_string(value) ? json_string_value(value) : "(absent)",
                 json_is_string(expected) ? json_string_value(expected) : "(absent)");
    }
}

/* The trustee debug TD quote's claims match the values its source project published. */
static void test_verify_real_trustee_claims(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *quote = test_read_real("tdx/trustee-debug-v4.quote", &size);
    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    attest_report *report = malloc(sizeof(*report));
    assert_non_null(report);
    assert_int_equal(attest_verify_quote(verifier, quote, size, NULL, 1688173200, NULL, report),
                     ATTEST_ERR_COLLATERAL_MISSING);
    assert_true(report->debug);
    assert_int_equal(report->pck_ca, ATTEST_PCK_CA_PLATFORM);
    assert_true(report->pck.has_platform_instance_id);
    char instance[33];
    attest_hex_encode(report->pck.platform_instance_id, 16, instance);
    assert_string_equal(instance, "021ac64d355ba904e2d5948d228d5482");

    char *text = attest_report_to_json(report, false);
    assert_non_null(text);
    json_error_t error;
    json_t *ours = json_loads(text, 0, &error);
    assert_non_null(ours);
    json_t *expected = json_load_file(test_real_path("tdx/trustee-debug-v4.expected-claims.json"), 0,
                                      &error);
    assert_non_null(expected);
    json_t *claims = json_object_get(ours, "claims");
    json_t *body = json_object_get(json_object_get(expected, "quote"), "body");
    json_t *header = json_object_get(json_object_get(expected, "quote"), "header");

    static const char *const same_name[] = {"mr_config_id", "mr_owner", "mr_owner_config", "mr_seam",
                                            "mr_td", "report_data", "seam_attributes",
                                            "td_attributes", "xfam"};
    for (size_t i = 0; i < sizeof(same_name) / sizeof(same_name[0]); i++) {
        assert_claim(claims, "body", same_name[i], body, same_name[i]);
    }
    assert_claim(claims, "body", "mr_signer_seam", body, "mrsigner_seam");
    assert_claim(claims, "body", "tee_tcb_svn", body, "tcb_svn");
    assert_claim(claims, "body", "rtmr0", body, "rtmr_0");
    assert_claim(claims, "body", "rtmr1", body, "rtmr_1");
    assert_claim(claims, "body", "rtmr2", body, "rtmr_2");
    assert_claim(claims, "body", "rtmr3", body, "rtmr_3");
    assert_claim(claims, "header", "tee_type", header, "tee_type");
    assert_claim(claims, "header", "user_data", header, "user_data");
    assert_claim(claims, "header", "qe_vendor_id", header, "vendor_id");
    assert_true(json_is_true(json_object_get(claims, "debug")));

    json_decref(ours);
    json_decref(expected);
    free(text);
    attest_verifier_free(verifier);
    free(report);
    free(quote);
}

static void test_verify_real_sgx_debug_claim(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *quote = test_read_real("sgx/trustee-occlum-debug-v3.quote", &size);
    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    attest_report *report = malloc(sizeof(*report));
    assert_non_null(report);
    assert_int_equal(attest_verify_quote(verifier, quote, size, NULL, 1688173200, NULL, report),
                     ATTEST_ERR_COLLATERAL_MISSING);
    assert_true(report->parsed);
    assert_true(report->debug);
    assert_int_equal(report->pck_ca, ATTEST_PCK_CA_PLATFORM);
    char fmspc[13];
    attest_hex_encode(report->pck.fmspc, 6, fmspc);
    assert_string_equal(fmspc, "00606a000000");
    attest_verifier_free(verifier);
    free(report);
    free(quote);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_real_rows),
        cmocka_unit_test(test_verify_real_cache_agrees),
        cmocka_unit_test(test_verify_real_2048_reports_all),
        cmocka_unit_test(test_verify_real_no_collateral_checks),
        cmocka_unit_test(test_verify_real_trustee_claims),
        cmocka_unit_test(test_verify_real_sgx_debug_claim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
