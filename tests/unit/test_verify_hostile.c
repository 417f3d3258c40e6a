/*
 * The verifier on hostile evidence and collateral built from the real data:
 * each broken input must give its specific error in the right stage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <attest/attest.h>

#include "support.h"

#define SGX_QUOTE "sgx/phala-sgx-v3.quote"
#define SGX_COLLATERAL "sgx/phala-sgx-v3.collateral.json"
#define SGX_TIME 1752919277

typedef struct fixture {
    uint8_t *quote_data;
    size_t quote_size;
    attest_quote quote;
    attest_collateral collateral;
    attest_verifier *verifier;
    attest_report *report;
} fixture;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->quote_data = test_read_real(SGX_QUOTE, &f->quote_size);
    assert_int_equal(attest_quote_parse(f->quote_data, f->quote_size, &f->quote, NULL), ATTEST_OK);
    assert_int_equal(attest_collateral_load(test_real_path(SGX_COLLATERAL), &f->collateral, NULL),
                     ATTEST_OK);
    assert_int_equal(attest_verifier_new(&f->verifier), ATTEST_OK);
    f->report = malloc(sizeof(*f->report));
    assert_non_null(f->report);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    attest_verifier_free(f->verifier);
    attest_collateral_clear(&f->collateral);
    free(f->report);
    free(f->quote_data);
    free(f);
    return 0;
}

/* Serializes quote (with a replaced PCK chain) and verifies it against f's collateral. */
static attest_err verify_with_chain(fixture *f, const char *chain, size_t chain_size)
{
    attest_quote quote = f->quote;
    quote.pck_chain = (const uint8_t *)chain;
    quote.pck_chain_size = (uint32_t)chain_size;
    size_t size = 0;
    assert_int_equal(attest_quote_serialize(&quote, NULL, 0, &size), ATTEST_OK);
    uint8_t *bytes = malloc(size);
    assert_non_null(bytes);
    assert_int_equal(attest_quote_serialize(&quote, bytes, size, &size), ATTEST_OK);
    attest_err err = attest_verify_quote(f->verifier, bytes, size, &f->collateral, SGX_TIME, NULL,
                                         f->report);
    free(bytes);
    return err;
}

static const attest_check *find_check(const attest_report *report, const char *name)
{
    for (size_t i = 0; i < report->check_count; i++) {
        if (strcmp(report->checks[i].name, name) == 0) {
            return &report->checks[i];
        }
    }
    return NULL;
}

/* Returns the start of the n-th (0-based) "-----BEGIN" in the chain text. */
static const char *pem_block(const char *chain, int n)
{
    const char *cursor = chain;
    for (int i = 0; cursor != NULL; i++) {
        cursor = strstr(cursor, "-----BEGIN CERTIFICATE-----");
        if (i == n || cursor == NULL) {
            return cursor;
        }
        cursor++;
    }
    return NULL;
}

static void test_verify_chain_missing_root(void **state)
{
    fixture *f = *state;
    const char *chain = (const char *)f->quote.pck_chain;
    const char *root = pem_block(chain, 2);
    assert_non_null(root);
    assert_int_equal(verify_with_chain(f, chain, (size_t)(root - chain)), ATTEST_ERR_CHAIN_DEPTH);
    assert_int_equal(f->report->error_stage, ATTEST_STAGE_PCK_CHAIN);
}

static void test_verify_chain_extra_certificate(void **state)
{
    fixture *f = *state;
    const char *chain = (const char *)f->quote.pck_chain;
    size_t text_size = strnlen(chain, f->quote.pck_chain_size);
    const char *root = pem_block(chain, 2);
    size_t root_size = text_size - (size_t)(root - chain);
    char *longer = malloc(text_size + root_size);
    assert_non_null(longer);
    memcpy(longer, chain, text_size);
    memcpy(longer + text_size, root, root_size);
    assert_int_equal(verify_with_chain(f, longer, text_size + root_size), ATTEST_ERR_CHAIN_DEPTH);
    free(longer);
}

static void test_verify_chain_bad_pem(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *name;
        const char *chain;
        attest_err expected;
    } cases[] = {
        {"empty chain", "", ATTEST_ERR_CHAIN_DEPTH},
        {"text that is not PEM", "hello", ATTEST_ERR_CERT_PARSE},
        {"a PEM block with bad base64",
         "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", ATTEST_ERR_CERT_PARSE},
        {"a PEM block that is not a certificate",
         "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", ATTEST_ERR_CERT_PARSE},
        {"a certificate block holding garbage DER",
         "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",
         ATTEST_ERR_CERT_PARSE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        attest_err err = verify_with_chain(f, cases[i].chain, strlen(cases[i].chain));
        if (err != cases[i].expected || f->report->error_stage != ATTEST_STAGE_PCK_CHAIN) {
            fail_msg("%s: got %s in stage %s, expected %s", cases[i].name, attest_err_code(err),
                     attest_stage_name(f->report->error_stage), attest_err_code(cases[i].expected));
        }
    }
}

static void test_verify_chain_bytes_after_nul(void **state)
{
    fixture *f = *state;
    size_t size = f->quote.pck_chain_size;
    char *chain = malloc(size + 2);
    assert_non_null(chain);
    memcpy(chain, f->quote.pck_chain, size);
    chain[size] = '\0';
    chain[size + 1] = 'x';
    assert_int_equal(verify_with_chain(f, chain, size + 2), ATTEST_ERR_CERT_PARSE);
    free(chain);
}

static void test_verify_chain_wrong_order(void **state)
{
    fixture *f = *state;
    /* PCK and intermediate swapped: signatures and issuer names no longer link. */
    const char *chain = (const char *)f->quote.pck_chain;
    const char *second = pem_block(chain, 1);
    const char *third = pem_block(chain, 2);
    size_t text_size = strnlen(chain, f->quote.pck_chain_size);
    size_t first_size = (size_t)(second - chain);
    size_t second_size = (size_t)(third - second);
    char *swapped = malloc(text_size);
    assert_non_null(swapped);
    memcpy(swapped, second, second_size);
    memcpy(swapped + second_size, chain, first_size);
    memcpy(swapped + second_size + first_size, third, text_size - first_size - second_size);
    attest_err err = verify_with_chain(f, swapped, text_size);
    assert_int_equal(f->report->error_stage, ATTEST_STAGE_PCK_CHAIN);
    assert_int_equal(err, ATTEST_ERR_CERT_SIGNATURE);
    free(swapped);
}

/* Replaces one collateral field with text, verifies, and returns the error. */
static attest_err verify_with_field(fixture *f, attest_bytes *field, const char *text, size_t size)
{
    attest_bytes saved = *field;
    field->data = (uint8_t *)text;
    field->size = size;
    attest_err err = attest_verify_quote(f->verifier, f->quote_data, f->quote_size, &f->collateral,
                                         SGX_TIME, NULL, f->report);
    *field = saved;
    return err;
}

/* Returns a copy of the real TCB info with the first occurrence of from replaced by to. */
static char *tcb_info_edited(const fixture *f, const char *from, const char *to, size_t *out_size)
{
    const char *text = (const char *)f->collateral.tcb_info.data;
    size_t size = f->collateral.tcb_info.size;
    char *copy = calloc(1, size + strlen(to) + 1);
    assert_non_null(copy);
    memcpy(copy, text, size);
    char *at = strstr(copy, from);
    assert_non_null(at);
    size_t tail = size - (size_t)(at - copy) - strlen(from);
    memmove(at + strlen(to), at + strlen(from), tail);
    memcpy(at, to, strlen(to));
    *out_size = size - strlen(from) + strlen(to);
    copy[*out_size] = '\0';
    return copy;
}

static void test_verify_tcb_info_hostile(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *name;
        const char *from;
        const char *to;
        attest_err parse_error;
    } cases[] = {
        {"unknown version", "\"version\":3", "\"version\":4", ATTEST_ERR_TCB_INFO_VERSION},
        {"unknown status", "\"tcbStatus\":\"SWHardeningNeeded\"", "\"tcbStatus\":\"Fine\"",
         ATTEST_ERR_TCB_STATUS_UNKNOWN},
        {"duplicate key", "\"version\":3", "\"version\":3,\"version\":3",
         ATTEST_ERR_JSON_DUPLICATE_KEY},
        {"FMSPC of 5 bytes", "\"fmspc\":\"00A067110000\"", "\"fmspc\":\"00A0671100\"",
         ATTEST_ERR_JSON_FIELD},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t size = 0;
        char *edited = tcb_info_edited(f, cases[i].from, cases[i].to, &size);
        attest_err err = verify_with_field(f, &f->collateral.tcb_info, edited, size);

        /* Any change breaks Intel's signature first; the parse failure is reported too. */
        assert_int_equal(err, ATTEST_ERR_COLLATERAL_SIGNATURE);
        assert_int_equal(f->report->error_stage, ATTEST_STAGE_COLLATERAL);
        const attest_check *parse = find_check(f->report, "tcb_info_parse");
        assert_non_null(parse);
        if (parse->err != cases[i].parse_error) {
            fail_msg("%s: tcb_info_parse gave %s, expected %s", cases[i].name,
                     attest_err_code(parse->err), attest_err_code(cases[i].parse_error));
        }
        free(edited);
    }
}

static void test_verify_tcb_info_deep_nesting(void **state)
{
    fixture *f = *state;
    char deep[256];
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        deep[n++] = '[';
    }
    for (int i = 0; i < 40; i++) {
        deep[n++] = ']';
    }
    deep[n] = '\0';
    attest_err err = verify_with_field(f, &f->collateral.tcb_info, deep, n);
    assert_int_equal(err, ATTEST_ERR_COLLATERAL_SIGNATURE);
    const attest_check *parse = find_check(f->report, "tcb_info_parse");
    assert_non_null(parse);
    assert_int_equal(parse->err, ATTEST_ERR_JSON_DEPTH);
}

static void test_verify_collateral_signature_size(void **state)
{
    fixture *f = *state;
    static const char short_signature[63] = {0};
    attest_err err = verify_with_field(f, &f->collateral.qe_identity_signature, short_signature,
                                       sizeof(short_signature));
    assert_int_equal(err, ATTEST_ERR_COLLATERAL_SIGNATURE);
    assert_int_equal(f->report->error_stage, ATTEST_STAGE_COLLATERAL);
}

static void test_verify_crl_garbage(void **state)
{
    fixture *f = *state;
    static const char garbage[] = "not a CRL";
    attest_err err = verify_with_field(f, &f->collateral.pck_crl, garbage, sizeof(garbage) - 1);
    assert_int_equal(err, ATTEST_ERR_CRL_PARSE);
    assert_int_equal(f->report->error_stage, ATTEST_STAGE_PCK_CHAIN);
}

/* A PCK CRL of the other CA (here the root CA CRL) must not pass as the PCK CRL. */
static void test_verify_crl_of_wrong_issuer(void **state)
{
    fixture *f = *state;
    attest_err err = verify_with_field(f, &f->collateral.pck_crl,
                                       (const char *)f->collateral.root_ca_crl.data,
                                       f->collateral.root_ca_crl.size);
    assert_int_equal(err, ATTEST_ERR_CRL_ISSUER);
    assert_int_equal(f->report->error_stage, ATTEST_STAGE_PCK_CHAIN);
}

/* TDX collateral for an SGX quote: another FMSPC and another TEE. */
static void test_verify_collateral_for_other_platform(void **state)
{
    fixture *f = *state;
    attest_collateral tdx = {0};
    assert_int_equal(attest_collateral_load(test_real_path("tdx/phala-tdx-v4.collateral.json"), &tdx,
                                            NULL),
                     ATTEST_OK);
    attest_err err = attest_verify_quote(f->verifier, f->quote_data, f->quote_size, &tdx, SGX_TIME,
                                         NULL, f->report);
    /* Its PCK CRL is the Platform CA's, while this quote's PCK comes from the Processor CA. */
    assert_int_equal(f->report->error_stage, ATTEST_STAGE_PCK_CHAIN);
    assert_int_not_equal(err, ATTEST_OK);
    const attest_check *revocation = find_check(f->report, "pck_revocation");
    assert_non_null(revocation);
    assert_int_equal(revocation->err, ATTEST_ERR_CRL_ISSUER);
    const attest_check *tee = find_check(f->report, "tcb_info_tee");
    assert_non_null(tee);
    assert_int_equal(tee->err, ATTEST_ERR_TEE_MISMATCH);
    const attest_check *fmspc = find_check(f->report, "tcb_info_fmspc");
    assert_non_null(fmspc);
    assert_int_equal(fmspc->err, ATTEST_ERR_FMSPC_MISMATCH);
    attest_collateral_clear(&tdx);
}

static void test_verify_qe_report_data_changed(void **state)
{
    fixture *f = *state;
    attest_quote quote = f->quote;
    uint8_t auth[4] = {1, 2, 3, 4};
    quote.qe_auth_data = auth;
    quote.qe_auth_data_size = sizeof(auth);
    size_t size = 0;
    assert_int_equal(attest_quote_serialize(&quote, NULL, 0, &size), ATTEST_OK);
    uint8_t *bytes = malloc(size);
    assert_non_null(bytes);
    assert_int_equal(attest_quote_serialize(&quote, bytes, size, &size), ATTEST_OK);
    attest_err err = attest_verify_quote(f->verifier, bytes, size, &f->collateral, SGX_TIME, NULL,
                                         f->report);
    assert_int_equal(err, ATTEST_ERR_QE_REPORT_DATA);
    assert_int_equal(f->report->error_stage, ATTEST_STAGE_QE_REPORT);
    free(bytes);
}

static void test_verify_attestation_key_off_curve(void **state)
{
    fixture *f = *state;
    uint8_t *bytes = malloc(f->quote_size);
    assert_non_null(bytes);
    memcpy(bytes, f->quote_data, f->quote_size);
    /* The attestation key follows the 4-byte size and the 64-byte signature. */
    size_t key_offset = f->quote.signed_size + 4 + 64;
    memset(bytes + key_offset, 0x11, 64);
    attest_err err = attest_verify_quote(f->verifier, bytes, f->quote_size, &f->collateral, SGX_TIME,
                                         NULL, f->report);
    /* The QE report data no longer binds the key, and the key is not on the curve. */
    assert_int_equal(err, ATTEST_ERR_QE_REPORT_DATA);
    const attest_check *signature = find_check(f->report, "quote_signature");
    assert_non_null(signature);
    assert_int_equal(signature->err, ATTEST_ERR_ATTESTATION_KEY);
    free(bytes);
}

static void test_verify_untrusted_extra_root_rejected(void **state)
{
    fixture *f = *state;
    static const uint8_t not_der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    attest_diag diag = {{0}};
    assert_int_equal(attest_verifier_add_root(f->verifier, not_der, sizeof(not_der), &diag),
                     ATTEST_ERR_CERT_PARSE);
    assert_true(strlen(diag.message) > 0);
}

/* Trusting the Intel root a second time must not split it into two anchors. */
static void test_verify_duplicate_root_one_anchor(void **state)
{
    fixture *f = *state;
    size_t size = 0;
    uint8_t *root = test_read_real("intel/sgx-root-ca.der", &size);
    assert_int_equal(attest_verifier_add_root(f->verifier, root, size, NULL), ATTEST_OK);
    assert_int_equal(attest_verifier_add_root_file(f->verifier, test_real_path("intel/sgx-root-ca.der"),
                                                   NULL),
                     ATTEST_OK);
    assert_int_equal(attest_verify_quote(f->verifier, f->quote_data, f->quote_size, &f->collateral,
                                         SGX_TIME, NULL, f->report),
                     ATTEST_OK);
    assert_true(f->report->has_root);
    assert_false(f->report->simulated);
    free(root);
}

/* Text from unsigned collateral must reach the report as printable ASCII only. */
static void test_verify_detail_sanitized(void **state)
{
    fixture *f = *state;
    size_t size = 0;
    char *edited = tcb_info_edited(f, "\"tcbStatus\":\"SWHardeningNeeded\"",
                                   "\"tcbStatus\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                   "\u00e9\\u001b[31m\"",
                                   &size);
    assert_int_equal(verify_with_field(f, &f->collateral.tcb_info, edited, size),
                     ATTEST_ERR_COLLATERAL_SIGNATURE);
    for (size_t i = 0; i < f->report->check_count; i++) {
        for (const char *c = f->report->checks[i].detail; *c != '\0'; c++) {
            assert_true((unsigned char)*c >= 0x20 && (unsigned char)*c <= 0x7e);
        }
    }
    char *json = attest_report_to_json(f->report, false);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"check\":\"tcb_info_parse\",\"outcome\":\"fail\",\"code\":"));
    free(json);
    free(edited);
}

/* A QE identity value with bits outside its mask matches no QE, as in Intel's QVL. */
static void test_verify_qe_identity_unmasked_value(void **state)
{
    fixture *f = *state;
    const char *text = (const char *)f->collateral.qe_identity.data;
    size_t size = f->collateral.qe_identity.size;
    char *copy = malloc(size + 1);
    assert_non_null(copy);
    memcpy(copy, text, size);
    copy[size] = '\0';
    /* miscselect 00000000 under mask FFFFFFFF: make the mask 00000000 with value 00000001. */
    char *value = strstr(copy, "\"miscselect\":\"00000000\"");
    char *mask = strstr(copy, "\"miscselectMask\":\"FFFFFFFF\"");
    assert_non_null(value);
    assert_non_null(mask);
    memcpy(value + strlen("\"miscselect\":\""), "00000001", 8);
    memcpy(mask + strlen("\"miscselectMask\":\""), "00000000", 8);
    assert_int_not_equal(verify_with_field(f, &f->collateral.qe_identity, copy, size), ATTEST_OK);
    bool found = false;
    for (size_t i = 0; i < f->report->check_count; i++) {
        if (strcmp(f->report->checks[i].name, "qe_miscselect") == 0) {
            found = true;
            assert_int_equal(f->report->checks[i].err, ATTEST_ERR_QE_MISCSELECT);
        }
    }
    assert_true(found);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_chain_missing_root, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_chain_extra_certificate, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_chain_bad_pem, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_chain_bytes_after_nul, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_chain_wrong_order, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_tcb_info_hostile, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_tcb_info_deep_nesting, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_collateral_signature_size, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_crl_garbage, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_crl_of_wrong_issuer, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_collateral_for_other_platform, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_qe_report_data_changed, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_attestation_key_off_curve, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_untrusted_extra_root_rejected, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_duplicate_root_one_anchor, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_detail_sanitized, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_qe_identity_unmasked_value, fixture_setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
