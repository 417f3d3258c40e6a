/*
 * Quotes of the simulated platform: each kind parses, serializes back byte
 * for byte, has the framing of the real quote of the same version, carries
 * the options it was made with, and verifies with the simulated root.
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

typedef struct fixture {
    char dir[64];
    attest_sim_platform *platform;
    uint8_t *root_der;
    size_t root_der_size;
} fixture;

/* Removes the files of the flat directory dir, then dir. */
static int platform_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/attest-sim-quote-XXXXXX");
    attest_diag diag = {{0}};
    if (mkdtemp(f->dir) == NULL || attest_sim_platform_init(f->dir, &diag) != ATTEST_OK ||
        attest_sim_platform_open(f->dir, &f->platform, &diag) != ATTEST_OK) {
        fprintf(stderr, "simulated platform setup failed: %s\n", diag.message);
        return -1;
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/root-ca.der", f->dir);
    if (attest_file_read(path, 65536, &f->root_der, &f->root_der_size, &diag) != ATTEST_OK) {
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

/* One kind of simulated quote and the real quote whose framing it must share. */
typedef struct quote_kind {
    const char *name;
    attest_sim_tee tee;
    int version;
    bool td15;
    const char *real; /* NULL when no real quote of this kind is available */
    attest_body_type body_type;
    size_t signed_size;
} quote_kind;

static const quote_kind kinds[] = {
    {"SGX v3", ATTEST_SIM_SGX, 3, false, "sgx/phala-sgx-v3.quote", ATTEST_BODY_SGX, 48 + 384},
    {"TDX v4 TD 1.0", ATTEST_SIM_TDX, 4, false, "tdx/phala-tdx-v4.quote", ATTEST_BODY_TD10,
     48 + 584},
    {"TDX v5 TD 1.0", ATTEST_SIM_TDX, 5, false, NULL, ATTEST_BODY_TD10, 48 + 6 + 584},
    {"TDX v5 TD 1.5", ATTEST_SIM_TDX, 5, true, "tdx/phala-tdx-v5-td15.quote", ATTEST_BODY_TD15,
     48 + 6 + 648},
};

static uint8_t *quote_make(fixture *f, const attest_sim_quote_options *options, size_t *out_size)
{
    uint8_t *quote = NULL;
    attest_diag diag = {{0}};
    attest_err err = attest_sim_quote(f->platform, options, &quote, out_size, &diag);
    if (err != ATTEST_OK) {
        fail_msg("attest_sim_quote: %s: %s", attest_err_code(err), diag.message);
    }
    return quote;
}

static void options_for(const quote_kind *kind, attest_sim_quote_options *options)
{
    attest_sim_quote_options_init(options, kind->tee);
    options->version = kind->version;
    options->td15 = kind->td15;
}

static void test_quote_round_trip(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        attest_sim_quote_options options;
        options_for(&kinds[i], &options);
        size_t size = 0;
        uint8_t *data = quote_make(f, &options, &size);

        attest_quote quote;
        attest_diag diag = {{0}};
        assert_int_equal(attest_quote_parse(data, size, &quote, &diag), ATTEST_OK);
        uint8_t *copy = malloc(size);
        assert_non_null(copy);
        size_t copy_size = 0;
        assert_int_equal(attest_quote_serialize(&quote, copy, size, &copy_size), ATTEST_OK);
        assert_int_equal(copy_size, size);
        assert_memory_equal(copy, data, size);
        free(copy);
        free(data);
    }
}

/* Compares the framing of each simulated quote with the real quote of its kind. */
static void test_quote_framing_matches_real(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const quote_kind *kind = &kinds[i];
        attest_sim_quote_options options;
        options_for(kind, &options);
        size_t size = 0;
        uint8_t *data = quote_make(f, &options, &size);
        attest_quote sim;
        assert_int_equal(attest_quote_parse(data, size, &sim, NULL), ATTEST_OK);

        assert_int_equal(sim.header.version, kind->version);
        assert_int_equal(sim.body_type, kind->body_type);
        assert_int_equal(sim.signed_size, kind->signed_size);
        assert_int_equal(sim.cert_data_type, kind->version == 3 ? 5 : 6);
        assert_int_equal(sim.qe_auth_data_size, 32);
        assert_int_equal(sim.trailing_size, 0);
        /* The PEM chain of PCK, CA and root ends in one NUL, as in real quotes. */
        assert_int_equal(sim.pck_chain[sim.pck_chain_size - 1], 0);
        assert_int_not_equal(sim.pck_chain[sim.pck_chain_size - 2], 0);
        size_t begin_count = 0;
        for (const char *p = (const char *)sim.pck_chain;
             (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++) {
            begin_count++;
        }
        assert_int_equal(begin_count, 3);

        /* The signature data is exactly signature, key, QE report region and chain. */
        size_t region = 384 + 64 + 2 + sim.qe_auth_data_size + 2 + 4 + sim.pck_chain_size;
        assert_int_equal(sim.signature_data_size, 64 + 64 + (kind->version == 3 ? 0 : 6) + region);
        assert_int_equal(size, sim.signed_size + 4 + sim.signature_data_size);

        if (kind->real != NULL) {
            size_t real_size = 0;
            uint8_t *real_data = NULL;
            attest_diag diag = {{0}};
            assert_int_equal(attest_quote_read_file(test_real_path(kind->real), &real_data,
                                                    &real_size, &diag),
                             ATTEST_OK);
            attest_quote real;
            assert_int_equal(attest_quote_parse(real_data, real_size, &real, NULL), ATTEST_OK);
            assert_int_equal(sim.header.version, real.header.version);
            assert_int_equal(sim.header.tee_type, real.header.tee_type);
            assert_int_equal(sim.header.attestation_key_type, real.header.attestation_key_type);
            assert_memory_equal(sim.header.qe_vendor_id, real.header.qe_vendor_id, 16);
            assert_int_equal(sim.body_type, real.body_type);
            assert_int_equal(sim.body_size, real.body_size);
            assert_int_equal(sim.signed_size, real.signed_size);
            assert_int_equal(sim.cert_data_type, real.cert_data_type);
            assert_int_equal(sim.qe_auth_data_size, real.qe_auth_data_size);
            assert_int_equal(real.pck_chain[real.pck_chain_size - 1], 0);
            assert_int_equal(sim.qe_report.isv_prod_id, real.qe_report.isv_prod_id);
            free(real_data);
        }
        free(data);
    }
}

/* Verifies quote with default collateral at a fixed time and the simulated root trusted. */
static void verify_sim(fixture *f, attest_sim_tee tee, const uint8_t *quote, size_t size,
                       attest_report *report)
{
    const time_t at = 1760000000;
    attest_sim_collateral_options options;
    attest_sim_collateral_options_init(&options, tee, at);
    attest_collateral collateral;
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_collateral(f->platform, &options, &collateral, &diag), ATTEST_OK);

    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    assert_int_equal(attest_verifier_add_root(verifier, f->root_der, f->root_der_size, &diag),
                     ATTEST_OK);
    attest_err err = attest_verify_quote(verifier, quote, size, &collateral, at, NULL, report);
    if (err != ATTEST_OK) {
        fail_msg("verification failed: %s: %s", attest_err_code(err), report->error_message);
    }
    attest_verifier_free(verifier);
    attest_collateral_clear(&collateral);
}

static void test_quote_verifies_with_sim_root(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        attest_sim_quote_options options;
        options_for(&kinds[i], &options);
        size_t size = 0;
        uint8_t *data = quote_make(f, &options, &size);
        attest_report *report = malloc(sizeof(*report));
        assert_non_null(report);
        verify_sim(f, kinds[i].tee, data, size, report);
        assert_true(report->valid);
        assert_true(report->has_tcb_status);
        assert_int_equal(report->tcb_status, ATTEST_TCB_UP_TO_DATE);
        assert_false(report->debug);
        assert_int_equal(report->pck_ca, kinds[i].tee == ATTEST_SIM_TDX ? ATTEST_PCK_CA_PLATFORM
                                                                        : ATTEST_PCK_CA_PROCESSOR);
        free(report);
        free(data);
    }
}

static void test_quote_sgx_options_carried(void **state)
{
    fixture *f = *state;
    attest_sim_quote_options options;
    attest_sim_quote_options_init(&options, ATTEST_SIM_SGX);
    memset(options.mr_enclave, 0xa1, sizeof(options.mr_enclave));
    memset(options.mr_signer, 0xb2, sizeof(options.mr_signer));
    memset(options.report_data, 0xc3, sizeof(options.report_data));
    options.isv_prod_id = 7;
    options.isv_svn = 9;
    options.misc_select = 0x12345678;
    options.debug = true;

    size_t size = 0;
    uint8_t *data = quote_make(f, &options, &size);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
    assert_memory_equal(quote.body.sgx.mr_enclave, options.mr_enclave, 32);
    assert_memory_equal(quote.body.sgx.mr_signer, options.mr_signer, 32);
    assert_memory_equal(quote.body.sgx.report_data, options.report_data, 64);
    assert_int_equal(quote.body.sgx.isv_prod_id, 7);
    assert_int_equal(quote.body.sgx.isv_svn, 9);
    assert_int_equal(quote.body.sgx.misc_select, 0x12345678);
    assert_true(attest_quote_is_debug(&quote));
    /* The simulated QE: ISVPRODID 1 for SGX. */
    assert_int_equal(quote.qe_report.isv_prod_id, 1);

    attest_report *report = malloc(sizeof(*report));
    assert_non_null(report);
    verify_sim(f, ATTEST_SIM_SGX, data, size, report);
    assert_true(report->valid);
    assert_true(report->debug);
    free(report);
    free(data);
}

static void test_quote_tdx_options_carried(void **state)
{
    fixture *f = *state;
    attest_sim_quote_options options;
    attest_sim_quote_options_init(&options, ATTEST_SIM_TDX);
    options.version = 5;
    options.td15 = true;
    memset(options.mr_td, 0x11, sizeof(options.mr_td));
    for (size_t i = 0; i < 4; i++) {
        memset(options.rtmr[i], (int)(0x20 + i), sizeof(options.rtmr[i]));
    }
    memset(options.mr_config_id, 0x33, sizeof(options.mr_config_id));
    memset(options.mr_owner, 0x44, sizeof(options.mr_owner));
    memset(options.report_data, 0x55, sizeof(options.report_data));

    size_t size = 0;
    uint8_t *data = quote_make(f, &options, &size);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
    const attest_td_report_body *td = &quote.body.td;
    assert_memory_equal(td->mr_td, options.mr_td, 48);
    for (size_t i = 0; i < 4; i++) {
        assert_memory_equal(td->rtmr[i], options.rtmr[i], 48);
    }
    assert_memory_equal(td->mr_config_id, options.mr_config_id, 48);
    assert_memory_equal(td->mr_owner, options.mr_owner, 48);
    assert_memory_equal(td->report_data, options.report_data, 64);
    assert_memory_equal(td->td_attributes, options.td_attributes, 8);
    assert_memory_equal(td->xfam, options.xfam, 8);
    /* Without a pending module update, TEE_TCB_SVN2 equals TEE_TCB_SVN. */
    assert_memory_equal(td->tee_tcb_svn2, td->tee_tcb_svn, 16);
    assert_false(attest_quote_is_debug(&quote));
    /* The simulated TD QE: ISVPRODID 2. */
    assert_int_equal(quote.qe_report.isv_prod_id, 2);
    free(data);
}

static void test_quote_rejects_bad_options(void **state)
{
    fixture *f = *state;
    attest_sim_quote_options options;
    uint8_t *data = NULL;
    size_t size = 0;
    attest_diag diag = {{0}};

    attest_sim_quote_options_init(&options, ATTEST_SIM_SGX);
    options.version = 4;
    assert_int_equal(attest_sim_quote(f->platform, &options, &data, &size, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "SGX quote version 4"));

    attest_sim_quote_options_init(&options, ATTEST_SIM_TDX);
    options.td15 = true;
    assert_int_equal(attest_sim_quote(f->platform, &options, &data, &size, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "version 5"));

    attest_sim_quote_options_init(&options, ATTEST_SIM_TDX);
    options.version = 3;
    assert_int_equal(attest_sim_quote(f->platform, &options, &data, &size, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_null(data);
}

/* Two quotes of one platform differ only in their ECDSA signatures and what the options set. */
static void test_quote_same_key_each_time(void **state)
{
    fixture *f = *state;
    attest_sim_quote_options options;
    attest_sim_quote_options_init(&options, ATTEST_SIM_TDX);
    size_t first_size = 0;
    size_t second_size = 0;
    uint8_t *first = quote_make(f, &options, &first_size);
    uint8_t *second = quote_make(f, &options, &second_size);
    attest_quote a;
    attest_quote b;
    assert_int_equal(attest_quote_parse(first, first_size, &a, NULL), ATTEST_OK);
    assert_int_equal(attest_quote_parse(second, second_size, &b, NULL), ATTEST_OK);
    assert_int_equal(first_size, second_size);
    assert_memory_equal(a.signed_data, b.signed_data, a.signed_size);
    assert_memory_equal(a.attestation_key, b.attestation_key, 64);
    assert_memory_equal(a.pck_chain, b.pck_chain, a.pck_chain_size);
    free(first);
    free(second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_round_trip),
        cmocka_unit_test(test_quote_framing_matches_real),
        cmocka_unit_test(test_quote_verifies_with_sim_root),
        cmocka_unit_test(test_quote_sgx_options_carried),
        cmocka_unit_test(test_quote_tdx_options_carried),
        cmocka_unit_test(test_quote_rejects_bad_options),
        cmocka_unit_test(test_quote_same_key_each_time),
    };
    return cmocka_run_group_tests(tests, platform_setup, platform_teardown);
}
