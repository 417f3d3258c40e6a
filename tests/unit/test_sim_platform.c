/*
 * The simulated platform's state directory, its PKI (certificates shaped
 * like Intel's, the SGX extension, CRLs) and its collateral documents, each
 * read back with the parsers the verifier uses.
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
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <attest/attest.h>
#include <attest/sim.h>

#include "support.h"
#include "util/file.h"

#define AT ((time_t)1760000000)

typedef struct fixture {
    char dir[64];
    attest_sim_platform *platform;
} fixture;

static int platform_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/attest-sim-platform-XXXXXX");
    attest_diag diag = {{0}};
    if (mkdtemp(f->dir) == NULL || attest_sim_platform_init(f->dir, &diag) != ATTEST_OK ||
        attest_sim_platform_open(f->dir, &f->platform, &diag) != ATTEST_OK) {
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
    test_remove_dir(f->dir);
    free(f);
    return 0;
}

static X509 *cert_read(const fixture *f, const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    X509 *cert = PEM_read_X509(file, NULL, NULL, NULL);
    fclose(file);
    assert_non_null(cert);
    return cert;
}

static void name_entry(X509_NAME *name, int nid, char *out, size_t size)
{
    assert_true(X509_NAME_get_text_by_NID(name, nid, out, (int)size) > 0);
}

static void test_platform_files_and_modes(void **state)
{
    fixture *f = *state;
    const char *keys[] = {"root-ca-key.pem",      "platform-ca-key.pem", "processor-ca-key.pem",
                          "tcb-signing-key.pem",  "pck-platform-key.pem",
                          "pck-processor-key.pem", "attestation-key.pem", "platform-secret.bin"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", f->dir, keys[i]);
        struct stat status;
        assert_int_equal(stat(path, &status), 0);
        assert_int_equal(status.st_mode & 0777, 0600);
    }

    /* root-ca.der is one DER certificate, the same as root-ca.pem. */
    char path[128];
    snprintf(path, sizeof(path), "%s/root-ca.der", f->dir);
    uint8_t *der = NULL;
    size_t der_size = 0;
    assert_int_equal(attest_file_read(path, 65536, &der, &der_size, NULL), ATTEST_OK);
    const unsigned char *cursor = der;
    X509 *root = d2i_X509(NULL, &cursor, (long)der_size);
    assert_non_null(root);
    assert_ptr_equal(cursor, der + der_size);
    X509 *root_pem = cert_read(f, "root-ca.pem");
    assert_int_equal(X509_cmp(root, root_pem), 0);
    X509_free(root_pem);
    X509_free(root);
    free(der);
}

static void test_platform_init_rejects_existing(void **state)
{
    fixture *f = *state;
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_platform_init(f->dir, &diag), ATTEST_ERR_IO);
    assert_non_null(strstr(diag.message, "cannot create"));
}

static void test_platform_open_missing(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/attest-sim-empty-XXXXXX");
    assert_non_null(mkdtemp(dir));
    attest_sim_platform *platform = NULL;
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_platform_open(dir, &platform, &diag), ATTEST_ERR_IO);
    assert_null(platform);
    assert_non_null(strstr(diag.message, "attest sim init"));
    rmdir(dir);
}

static void test_platform_secret_stable(void **state)
{
    fixture *f = *state;
    attest_sim_platform *again = NULL;
    assert_int_equal(attest_sim_platform_open(f->dir, &again, NULL), ATTEST_OK);
    uint8_t first[32];
    uint8_t second[32];
    assert_int_equal(attest_sim_platform_secret(f->platform, first), ATTEST_OK);
    assert_int_equal(attest_sim_platform_secret(again, second), ATTEST_OK);
    assert_memory_equal(first, second, 32);
    static const uint8_t zeros[32] = {0};
    assert_memory_not_equal(first, zeros, 32);
    attest_sim_platform_free(again);
}

static void test_pki_ca_certificates(void **state)
{
    fixture *f = *state;
    X509 *root = cert_read(f, "root-ca.pem");
    char text[128];
    name_entry(X509_get_subject_name(root), NID_commonName, text, sizeof(text));
    assert_string_equal(text, "attest Simulated SGX Root CA");
    name_entry(X509_get_subject_name(root), NID_organizationName, text, sizeof(text));
    assert_string_equal(text, "attest simulated platform");
    assert_int_equal(X509_check_ca(root), 1);
    assert_int_equal(X509_verify(root, X509_get0_pubkey(root)), 1);

    const char *cas[][2] = {{"platform-ca.pem", "Intel SGX PCK Platform CA"},
                            {"processor-ca.pem", "Intel SGX PCK Processor CA"},
                            {"tcb-signing.pem", "attest Simulated SGX TCB Signing"}};
    for (size_t i = 0; i < 3; i++) {
        X509 *cert = cert_read(f, cas[i][0]);
        name_entry(X509_get_subject_name(cert), NID_commonName, text, sizeof(text));
        assert_string_equal(text, cas[i][1]);
        assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(root)),
                         0);
        assert_int_equal(X509_verify(cert, X509_get0_pubkey(root)), 1);
        /* The PCK CAs sign certificates and CRLs; the TCB signing certificate is no CA. */
        bool ca = i < 2;
        assert_int_equal(X509_check_ca(cert) == 1, ca);
        uint32_t usage = X509_get_key_usage(cert);
        assert_int_equal((usage & KU_KEY_CERT_SIGN) != 0, ca);
        assert_int_equal((usage & KU_CRL_SIGN) != 0, ca);
        assert_int_equal((usage & KU_DIGITAL_SIGNATURE) != 0, !ca);
        X509_free(cert);
    }
    X509_free(root);
}

/* Decodes the SGX extension of the PCK certificate in file name. */
static void pck_extension_read(const fixture *f, const char *name, attest_pck_info *out_info,
                               X509 **out_cert)
{
    X509 *cert = cert_read(f, name);
    ASN1_OBJECT *oid = OBJ_txt2obj(ATTEST_SGX_EXTENSION_OID, 1);
    int index = X509_get_ext_by_OBJ(cert, oid, -1);
    ASN1_OBJECT_free(oid);
    assert_true(index >= 0);
    X509_EXTENSION *extension = X509_get_ext(cert, index);
    assert_int_equal(X509_EXTENSION_get_critical(extension), 0);
    const ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(extension);
    attest_diag diag = {{0}};
    attest_err err = attest_pck_extension_parse(ASN1_STRING_get0_data(value),
                                                (size_t)ASN1_STRING_length(value), out_info,
                                                &diag);
    if (err != ATTEST_OK) {
        fail_msg("%s: %s", name, diag.message);
    }
    *out_cert = cert;
}

static void test_pki_pck_certificates(void **state)
{
    fixture *f = *state;
    static const uint8_t fmspc[6] = {0x53, 0x49, 0x4d, 0x00, 0x00, 0x00};
    static const uint8_t components[16] = {4, 4, 2, 2, 3, 1, 0, 5};

    attest_pck_info platform;
    attest_pck_info processor;
    X509 *platform_cert = NULL;
    X509 *processor_cert = NULL;
    pck_extension_read(f, "pck-platform.pem", &platform, &platform_cert);
    pck_extension_read(f, "pck-processor.pem", &processor, &processor_cert);

    const attest_pck_info *infos[2] = {&platform, &processor};
    for (size_t i = 0; i < 2; i++) {
        assert_memory_equal(infos[i]->fmspc, fmspc, 6);
        assert_memory_equal(infos[i]->tcb_components, components, 16);
        assert_memory_equal(infos[i]->cpusvn, components, 16);
        assert_int_equal(infos[i]->pcesvn, 11);
    }
    /* One platform: the same PPID in both certificates. */
    assert_memory_equal(platform.ppid, processor.ppid, 16);
    assert_true(platform.has_platform_instance_id);
    assert_true(platform.has_configuration);
    assert_true(platform.dynamic_platform);
    assert_true(platform.cached_keys);
    assert_true(platform.smt_enabled);
    assert_int_equal(platform.sgx_type, ATTEST_SGX_TYPE_SCALABLE);
    assert_false(processor.has_platform_instance_id);
    assert_int_equal(processor.sgx_type, ATTEST_SGX_TYPE_STANDARD);

    X509 *platform_ca = cert_read(f, "platform-ca.pem");
    X509 *processor_ca = cert_read(f, "processor-ca.pem");
    assert_int_equal(X509_verify(platform_cert, X509_get0_pubkey(platform_ca)), 1);
    assert_int_equal(X509_verify(processor_cert, X509_get0_pubkey(processor_ca)), 1);
    assert_int_not_equal(X509_check_ca(platform_cert), 1);
    uint32_t usage = X509_get_key_usage(platform_cert);
    assert_true((usage & KU_DIGITAL_SIGNATURE) != 0);
    assert_true((usage & KU_NON_REPUDIATION) != 0);
    assert_true((usage & KU_KEY_CERT_SIGN) == 0);
    X509_free(platform_ca);
    X509_free(processor_ca);
    X509_free(platform_cert);
    X509_free(processor_cert);
}

static X509_CRL *crl_decode(const attest_bytes *bytes)
{
    const unsigned char *cursor = bytes->data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &cursor, (long)bytes->size);
    assert_non_null(crl);
    return crl;
}

static void test_collateral_revocations(void **state)
{
    fixture *f = *state;
    attest_sim_collateral_options options;
    attest_sim_collateral_options_init(&options, ATTEST_SIM_TDX, AT);
    options.revoke_pck = true;
    options.revoke_intermediate = true;
    attest_collateral collateral;
    assert_int_equal(attest_sim_collateral(f->platform, &options, &collateral, NULL), ATTEST_OK);

    X509 *pck = cert_read(f, "pck-platform.pem");
    X509 *ca = cert_read(f, "platform-ca.pem");
    X509 *root = cert_read(f, "root-ca.pem");
    X509_CRL *pck_crl = crl_decode(&collateral.pck_crl);
    X509_CRL *root_crl = crl_decode(&collateral.root_ca_crl);
    X509_REVOKED *entry = NULL;
    assert_int_equal(X509_CRL_get0_by_cert(pck_crl, &entry, pck), 1);
    assert_int_equal(X509_CRL_get0_by_cert(root_crl, &entry, ca), 1);
    assert_int_equal(X509_CRL_verify(pck_crl, X509_get0_pubkey(ca)), 1);
    assert_int_equal(X509_CRL_verify(root_crl, X509_get0_pubkey(root)), 1);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(pck_crl), X509_get_subject_name(ca)), 0);
    X509_CRL_free(pck_crl);
    X509_CRL_free(root_crl);
    attest_collateral_clear(&collateral);

    /* By default nothing is revoked. */
    attest_sim_collateral_options_init(&options, ATTEST_SIM_TDX, AT);
    assert_int_equal(attest_sim_collateral(f->platform, &options, &collateral, NULL), ATTEST_OK);
    pck_crl = crl_decode(&collateral.pck_crl);
    assert_int_equal(X509_CRL_get0_by_cert(pck_crl, &entry, pck), 0);
    X509_CRL_free(pck_crl);
    attest_collateral_clear(&collateral);
    X509_free(pck);
    X509_free(ca);
    X509_free(root);
}

static void test_collateral_documents_parse(void **state)
{
    fixture *f = *state;
    attest_sim_tee tees[] = {ATTEST_SIM_SGX, ATTEST_SIM_TDX};
    for (size_t i = 0; i < 2; i++) {
        bool tdx = tees[i] == ATTEST_SIM_TDX;
        attest_sim_collateral_options options;
        attest_sim_collateral_options_init(&options, tees[i], AT);
        attest_collateral collateral;
        assert_int_equal(attest_sim_collateral(f->platform, &options, &collateral, NULL),
                         ATTEST_OK);
        assert_int_equal(collateral.tcb_info_signature.size, 64);
        assert_int_equal(collateral.qe_identity_signature.size, 64);

        attest_tcb_info info;
        attest_diag diag = {{0}};
        assert_int_equal(attest_tcb_info_parse((const char *)collateral.tcb_info.data,
                                               collateral.tcb_info.size, &info, &diag),
                         ATTEST_OK);
        assert_int_equal(info.id, tdx ? ATTEST_TCB_INFO_TDX : ATTEST_TCB_INFO_SGX);
        assert_int_equal(info.version, 3);
        assert_int_equal(info.issue_date, AT - 86400);
        assert_int_equal(info.next_update, AT + 29 * 86400);
        assert_int_equal(info.level_count, 2);
        assert_int_equal(info.levels[0].status, ATTEST_TCB_UP_TO_DATE);
        assert_int_equal(info.has_tdx_module, tdx);
        if (tdx) {
            assert_int_equal(info.tdx_module_identity_count, 2);
            assert_string_equal(info.tdx_module_identities[0].id, "TDX_03");
            assert_string_equal(info.tdx_module_identities[1].id, "TDX_01");
        }
        attest_tcb_info_free(&info);

        attest_qe_identity identity;
        assert_int_equal(attest_qe_identity_parse((const char *)collateral.qe_identity.data,
                                                  collateral.qe_identity.size, &identity, &diag),
                         ATTEST_OK);
        assert_int_equal(identity.id, tdx ? ATTEST_QE_IDENTITY_TD_QE : ATTEST_QE_IDENTITY_QE);
        assert_int_equal(identity.isvprodid, tdx ? 2 : 1);
        assert_int_equal(identity.version, 2);
        attest_qe_identity_free(&identity);

        /* The bundle text reads back to the same bytes. */
        char *json = NULL;
        assert_int_equal(attest_sim_collateral_to_bundle(&collateral, &json, &diag), ATTEST_OK);
        attest_collateral loaded;
        assert_int_equal(attest_collateral_from_bundle(json, strlen(json), &loaded, &diag),
                         ATTEST_OK);
        assert_int_equal(loaded.tcb_info.size, collateral.tcb_info.size);
        assert_memory_equal(loaded.tcb_info.data, collateral.tcb_info.data,
                            collateral.tcb_info.size);
        assert_memory_equal(loaded.qe_identity_signature.data,
                            collateral.qe_identity_signature.data, 64);
        assert_int_equal(loaded.pck_crl.size, collateral.pck_crl.size);
        assert_memory_equal(loaded.pck_crl.data, collateral.pck_crl.data,
                            collateral.pck_crl.size);
        free(json);
        attest_collateral_clear(&loaded);
        attest_collateral_clear(&collateral);
    }
}

static void test_collateral_rejects_bad_options(void **state)
{
    fixture *f = *state;
    attest_sim_collateral_options options;
    attest_collateral collateral;
    attest_diag diag = {{0}};

    attest_sim_collateral_options_init(&options, ATTEST_SIM_SGX, AT);
    options.qe_status = ATTEST_TCB_CONFIGURATION_NEEDED;
    assert_int_equal(attest_sim_collateral(f->platform, &options, &collateral, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "ConfigurationNeeded"));

    attest_sim_collateral_options_init(&options, ATTEST_SIM_TDX, AT);
    options.platform_status = ATTEST_TCB_TD_RELAUNCH_ADVISED;
    assert_int_equal(attest_sim_collateral(f->platform, &options, &collateral, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "TDRelaunchAdvised"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_platform_files_and_modes),
        cmocka_unit_test(test_platform_init_rejects_existing),
        cmocka_unit_test(test_platform_open_missing),
        cmocka_unit_test(test_platform_secret_stable),
        cmocka_unit_test(test_pki_ca_certificates),
        cmocka_unit_test(test_pki_pck_certificates),
        cmocka_unit_test(test_collateral_revocations),
        cmocka_unit_test(test_collateral_documents_parse),
        cmocka_unit_test(test_collateral_rejects_bad_options),
    };
    return cmocka_run_group_tests(tests, platform_setup, platform_teardown);
}
