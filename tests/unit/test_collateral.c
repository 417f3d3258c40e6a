/*
 * Collateral bundles, PCS-style directories, PCS body splitting and the file
 * source, on the real Intel collateral and on hostile variants.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <attest/collateral.h>

#include "support.h"

#define GOOGLE_DIR "tdx/google-spr-e4-pcs"
#define GOOGLE_BUNDLE "tdx/google-spr-e4-v4.collateral.json"

static const char signature_hex[] =
    "b6a601f05de27f2ca5105eec24bdd4bf7dd1b8bbfffc76dffe4f4d16b8a39584"
    "3e4b92d430fd6744b0648bf44302c528412fcb9cbf3cc9ce6922a3057932b6a6";

static void assert_bytes_equal(const attest_bytes *a, const attest_bytes *b, const char *name)
{
    if (a->size != b->size || memcmp(a->data, b->data, a->size) != 0) {
        fail_msg("%s differs (%zu and %zu bytes)", name, a->size, b->size);
    }
}

static void assert_collateral_equal(const attest_collateral *a, const attest_collateral *b)
{
    assert_bytes_equal(&a->pck_crl_issuer_chain, &b->pck_crl_issuer_chain,
                       "pck_crl_issuer_chain");
    assert_bytes_equal(&a->root_ca_crl, &b->root_ca_crl, "root_ca_crl");
    assert_bytes_equal(&a->pck_crl, &b->pck_crl, "pck_crl");
    assert_bytes_equal(&a->tcb_info_issuer_chain, &b->tcb_info_issuer_chain,
                       "tcb_info_issuer_chain");
    assert_bytes_equal(&a->tcb_info, &b->tcb_info, "tcb_info");
    assert_bytes_equal(&a->tcb_info_signature, &b->tcb_info_signature, "tcb_info_signature");
    assert_bytes_equal(&a->qe_identity_issuer_chain, &b->qe_identity_issuer_chain,
                       "qe_identity_issuer_chain");
    assert_bytes_equal(&a->qe_identity, &b->qe_identity, "qe_identity");
    assert_bytes_equal(&a->qe_identity_signature, &b->qe_identity_signature,
                       "qe_identity_signature");
}

static void bundle_sgx_real(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("sgx/phala-sgx-v3.collateral.json", &size);
    attest_collateral collateral;
    attest_diag diag = {{0}};

    assert_int_equal(attest_collateral_from_bundle((const char *)data, size, &collateral, &diag),
                     ATTEST_OK);
    assert_int_equal(collateral.tcb_info_signature.size, 64);
    assert_int_equal(collateral.qe_identity_signature.size, 64);
    assert_int_equal(collateral.tcb_info_signature.data[0], 0x9a);
    assert_int_equal(collateral.root_ca_crl.data[0], 0x30); /* DER SEQUENCE */
    assert_int_equal(collateral.pck_crl.data[0], 0x30);
    assert_memory_equal(collateral.tcb_info.data, "{\"id\":\"SGX\",\"version\":3,", 24);
    assert_memory_equal(collateral.pck_crl_issuer_chain.data, "-----BEGIN CERTIFICATE-----", 27);

    attest_collateral_clear(&collateral);
    assert_null(collateral.tcb_info.data);
    assert_int_equal(collateral.tcb_info.size, 0);
    attest_collateral_clear(NULL);
    free(data);
}

static void dir_and_bundle_identical(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real(GOOGLE_BUNDLE, &size);
    attest_collateral from_bundle;
    attest_collateral from_dir;
    attest_diag diag = {{0}};

    assert_int_equal(attest_collateral_from_bundle((const char *)data, size, &from_bundle, &diag),
                     ATTEST_OK);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", test_real_path(GOOGLE_DIR));
    assert_int_equal(attest_collateral_from_dir(dir, &from_dir, &diag), ATTEST_OK);
    assert_collateral_equal(&from_bundle, &from_dir);

    attest_collateral_clear(&from_bundle);
    attest_collateral_clear(&from_dir);
    free(data);
}

static void load_file_and_dir(void **state)
{
    (void)state;
    attest_collateral from_file;
    attest_collateral from_dir;
    attest_diag diag = {{0}};
    char path[4096];

    snprintf(path, sizeof(path), "%s", test_real_path(GOOGLE_BUNDLE));
    assert_int_equal(attest_collateral_load(path, &from_file, &diag), ATTEST_OK);
    snprintf(path, sizeof(path), "%s", test_real_path(GOOGLE_DIR));
    assert_int_equal(attest_collateral_load(path, &from_dir, &diag), ATTEST_OK);
    assert_collateral_equal(&from_file, &from_dir);
    attest_collateral_clear(&from_file);
    attest_collateral_clear(&from_dir);

    assert_int_equal(attest_collateral_load("/nonexistent/collateral", &from_file, &diag),
                     ATTEST_ERR_IO);
    assert_non_null(strstr(diag.message, "/nonexistent/collateral"));
    assert_int_equal(attest_collateral_load("/dev/null", &from_file, &diag),
                     ATTEST_ERR_COLLATERAL_FORMAT);

    /* A bundle that is no JSON names the file. */
    snprintf(path, sizeof(path), "%s", test_real_path("sgx/phala-sgx-v3.quote"));
    assert_int_equal(attest_collateral_load(path, &from_file, &diag), ATTEST_ERR_JSON_SYNTAX);
    assert_non_null(strstr(diag.message, "phala-sgx-v3.quote: "));
}

static void source_path_copies(void **state)
{
    (void)state;
    attest_collateral_source source;
    attest_diag diag = {{0}};
    char path[4096];
    snprintf(path, sizeof(path), "%s", test_real_path(GOOGLE_DIR));
    assert_int_equal(attest_collateral_source_path(path, &source, &diag), ATTEST_OK);

    attest_collateral_request request = {1, {0x50, 0x80, 0x6f, 0, 0, 0}, "platform"};
    attest_collateral first;
    attest_collateral second;
    assert_int_equal(source.get(source.context, &request, &first, &diag), ATTEST_OK);
    assert_int_equal(source.get(source.context, &request, &second, &diag), ATTEST_OK);
    assert_collateral_equal(&first, &second);
    assert_ptr_not_equal(first.tcb_info.data, second.tcb_info.data);

    /* A copy outlives its source. */
    source.destroy(source.context);
    assert_int_equal(first.qe_identity_signature.size, 64);
    attest_collateral_clear(&first);
    attest_collateral_clear(&second);

    assert_int_equal(attest_collateral_source_path("/nonexistent", &source, &diag),
                     ATTEST_ERR_IO);
}

typedef struct split_case {
    const char *name;
    const char *body;
    const char *key;
    attest_err expected;
    const char *object; /* expected inner object on success */
} split_case;

#define SIG "\"signature\":\"b6a601f05de27f2ca5105eec24bdd4bf7dd1b8bbfffc76dffe4f4d16b8a39584" \
            "3e4b92d430fd6744b0648bf44302c528412fcb9cbf3cc9ce6922a3057932b6a6\""

static const split_case split_cases[] = {
    {"plain", "{\"tcbInfo\":{\"id\":\"TDX\"}," SIG "}", "tcbInfo", ATTEST_OK, "{\"id\":\"TDX\"}"},
    {"signature first and whitespace", " {\n " SIG " ,\n \"tcbInfo\" :\t{ \"a\" : 1 } \n}\n",
     "tcbInfo", ATTEST_OK, "{ \"a\" : 1 }"},
    {"escaped quote and braces in strings",
     "{\"tcbInfo\":{\"a\":\"}\\\"{[\",\"b\":{\"c\":\"\\\\\"},\"d\":[\"]\"]}," SIG "}", "tcbInfo",
     ATTEST_OK, "{\"a\":\"}\\\"{[\",\"b\":{\"c\":\"\\\\\"},\"d\":[\"]\"]}"},
    {"earlier member holds the key in a string",
     "{\"x\":\"\\\"tcbInfo\\\":{}\",\"tcbInfo\":{\"real\":true}," SIG "}", "tcbInfo", ATTEST_OK,
     "{\"real\":true}"},
    {"earlier members of every type",
     "{\"n\":-1.5e3,\"t\":true,\"z\":null,\"a\":[1,{\"b\":[]}],\"enclaveIdentity\":{}," SIG "}",
     "enclaveIdentity", ATTEST_OK, "{}"},
    {"key written with an escape", "{\"tcb\\u0049nfo\":{\"k\":2}," SIG "}", "tcbInfo", ATTEST_OK,
     "{\"k\":2}"},
    {"key missing", "{\"enclaveIdentity\":{}," SIG "}", "tcbInfo", ATTEST_ERR_JSON_FIELD, NULL},
    {"inner value not an object", "{\"tcbInfo\":[1]," SIG "}", "tcbInfo", ATTEST_ERR_JSON_FIELD,
     NULL},
    {"signature missing", "{\"tcbInfo\":{}}", "tcbInfo", ATTEST_ERR_JSON_FIELD, NULL},
    {"signature 63 bytes", "{\"tcbInfo\":{},\"signature\":\"00\"}", "tcbInfo",
     ATTEST_ERR_JSON_FIELD, NULL},
    {"duplicate inner key", "{\"tcbInfo\":{},\"tcbInfo\":{}," SIG "}", "tcbInfo",
     ATTEST_ERR_JSON_DUPLICATE_KEY, NULL},
    {"truncated body", "{\"tcbInfo\":{\"a\":\"}\"}," SIG, "tcbInfo", ATTEST_ERR_JSON_SYNTAX,
     NULL},
    {"body not an object", "[{\"tcbInfo\":{}}]", "tcbInfo", ATTEST_ERR_JSON_FIELD, NULL},
    {"nesting depth 17", "{\"tcbInfo\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]," SIG "}", "tcbInfo",
     ATTEST_ERR_JSON_DEPTH, NULL},
};

static void split_pcs_body_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
        const split_case *row = &split_cases[i];
        attest_bytes object = {NULL, 0};
        attest_bytes signature = {NULL, 0};
        attest_diag diag = {{0}};
        attest_err err = attest_collateral_split_pcs_body(row->body, strlen(row->body), row->key,
                                                          &object, &signature, &diag);
        if (err != row->expected) {
            fail_msg("case \"%s\": expected %s, got %s (%s)", row->name,
                     attest_err_code(row->expected), attest_err_code(err), diag.message);
        }
        if (err != ATTEST_OK) {
            assert_null(object.data);
            continue;
        }
        if (object.size != strlen(row->object) || memcmp(object.data, row->object, object.size)) {
            fail_msg("case \"%s\": object is \"%.*s\"", row->name, (int)object.size,
                     (const char *)object.data);
        }
        assert_int_equal(signature.size, 64);
        assert_int_equal(signature.data[0], 0xb6);
        free(object.data);
        free(signature.data);
    }
}

static void split_pcs_body_real(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *body = test_read_real(GOOGLE_DIR "/qe-identity.json", &size);
    attest_bytes object = {NULL, 0};
    attest_bytes signature = {NULL, 0};
    attest_diag diag = {{0}};

    assert_int_equal(attest_collateral_split_pcs_body((const char *)body, size, "enclaveIdentity",
                                                      &object, &signature, &diag),
                     ATTEST_OK);
    assert_int_equal(object.data[0], '{');
    assert_int_equal(object.data[object.size - 1], '}');
    assert_memory_equal(object.data, body + strlen("{\"enclaveIdentity\":"), object.size);
    uint8_t expected[64];
    for (size_t i = 0; i < 64; i++) {
        unsigned byte = 0;
        sscanf(signature_hex + 2 * i, "%2x", &byte);
        expected[i] = (uint8_t)byte;
    }
    assert_memory_equal(signature.data, expected, 64);
    free(object.data);
    free(signature.data);

    /* The wrong key for this body. */
    assert_int_equal(attest_collateral_split_pcs_body((const char *)body, size, "tcbInfo",
                                                      &object, &signature, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "PCS body.tcbInfo: missing");
    free(body);
}

static const char *const bundle_keys[] = {
    "pck_crl_issuer_chain", "root_ca_crl",      "pck_crl",
    "tcb_info_issuer_chain", "tcb_info",        "tcb_info_signature",
    "qe_identity_issuer_chain", "qe_identity",  "qe_identity_signature",
};

/* Parses the real bundle, applies edit, and returns the new text. */
static char *edit_bundle(void (*edit)(json_t *root, const char *key), const char *key)
{
    size_t size = 0;
    uint8_t *data = test_read_real(GOOGLE_BUNDLE, &size);
    json_error_t error;
    json_t *root = json_loadb((const char *)data, size, 0, &error);
    assert_non_null(root);
    edit(root, key);
    char *text = json_dumps(root, JSON_COMPACT);
    assert_non_null(text);
    json_decref(root);
    free(data);
    return text;
}

static void remove_key(json_t *root, const char *key)
{
    json_object_del(root, key);
}

static void set_number(json_t *root, const char *key)
{
    json_object_set_new(root, key, json_integer(1));
}

static void set_empty(json_t *root, const char *key)
{
    json_object_set_new(root, key, json_string(""));
}

static void set_odd_hex(json_t *root, const char *key)
{
    json_object_set_new(root, key, json_string("abc"));
}

static void add_unknown(json_t *root, const char *key)
{
    json_object_set_new(root, key, json_string("ignored"));
}

static void bundle_missing_and_wrong_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bundle_keys) / sizeof(bundle_keys[0]); i++) {
        const char *key = bundle_keys[i];
        attest_collateral collateral;
        attest_diag diag = {{0}};
        char expected[128];

        char *text = edit_bundle(remove_key, key);
        assert_int_equal(attest_collateral_from_bundle(text, strlen(text), &collateral, &diag),
                         ATTEST_ERR_JSON_FIELD);
        snprintf(expected, sizeof(expected), "bundle.%s: missing", key);
        assert_string_equal(diag.message, expected);
        free(text);

        text = edit_bundle(set_number, key);
        assert_int_equal(attest_collateral_from_bundle(text, strlen(text), &collateral, &diag),
                         ATTEST_ERR_JSON_FIELD);
        snprintf(expected, sizeof(expected), "bundle.%s: expected a string", key);
        assert_string_equal(diag.message, expected);
        free(text);

        text = edit_bundle(set_empty, key);
        assert_int_equal(attest_collateral_from_bundle(text, strlen(text), &collateral, &diag),
                         ATTEST_ERR_JSON_FIELD);
        free(text);
    }
}

static void bundle_hostile(void **state)
{
    (void)state;
    attest_collateral collateral;
    attest_diag diag = {{0}};

    char *text = edit_bundle(set_odd_hex, "pck_crl");
    assert_int_equal(attest_collateral_from_bundle(text, strlen(text), &collateral, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "bundle.pck_crl: odd number of hex digits (3)");
    free(text);

    text = edit_bundle(set_odd_hex, "tcb_info_signature");
    assert_int_equal(attest_collateral_from_bundle(text, strlen(text), &collateral, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "bundle.tcb_info_signature: expected 128 hex digits (64 "
                                      "bytes), got 3 characters");
    free(text);

    /* Unknown keys are ignored. */
    text = edit_bundle(add_unknown, "comment");
    assert_int_equal(attest_collateral_from_bundle(text, strlen(text), &collateral, &diag),
                     ATTEST_OK);
    attest_collateral_clear(&collateral);

    /* A duplicate key is rejected, even with the same value. */
    char *duplicate = malloc(strlen(text) + 32);
    assert_non_null(duplicate);
    strcpy(duplicate, "{\"comment\":\"ignored\",");
    strcat(duplicate, text + 1);
    assert_int_equal(attest_collateral_from_bundle(duplicate, strlen(duplicate), &collateral,
                                                   &diag),
                     ATTEST_ERR_JSON_DUPLICATE_KEY);
    free(duplicate);

    /* Truncated bundles are syntax errors. */
    assert_int_equal(attest_collateral_from_bundle(text, strlen(text) / 2, &collateral, &diag),
                     ATTEST_ERR_JSON_SYNTAX);
    free(text);

    static const char array[] = "[1,2]";
    assert_int_equal(attest_collateral_from_bundle(array, strlen(array), &collateral, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "bundle: expected an object");
}

/* Copies the real PCS directory into a new temporary one and returns its path. */
static char *copy_pcs_dir(void)
{
    static const char *const names[] = {
        "tcb-info.json",           "qe-identity.json",          "pck-crl.der",
        "root-ca-crl.der",         "pck-crl-issuer-chain.pem",  "tcb-info-issuer-chain.pem",
        "qe-identity-issuer-chain.pem",
    };
    char *dir = strdup("/tmp/attest-test-pcs-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char relative[256];
        snprintf(relative, sizeof(relative), "%s/%s", GOOGLE_DIR, names[i]);
        size_t size = 0;
        uint8_t *data = test_read_real(relative, &size);
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *file = fopen(path, "wb");
        assert_non_null(file);
        assert_int_equal(fwrite(data, 1, size, file), size);
        fclose(file);
        free(data);
    }
    return dir;
}

static void remove_pcs_dir(char *dir)
{
    static const char *const names[] = {
        "tcb-info.json",           "qe-identity.json",          "pck-crl.der",
        "root-ca-crl.der",         "pck-crl-issuer-chain.pem",  "tcb-info-issuer-chain.pem",
        "qe-identity-issuer-chain.pem",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static void dir_hostile(void **state)
{
    (void)state;
    attest_collateral collateral;
    attest_diag diag = {{0}};
    char path[512];

    char *dir = copy_pcs_dir();
    assert_int_equal(attest_collateral_from_dir(dir, &collateral, &diag), ATTEST_OK);
    attest_collateral_clear(&collateral);

    /* A missing file is named. */
    snprintf(path, sizeof(path), "%s/pck-crl.der", dir);
    unlink(path);
    assert_int_equal(attest_collateral_from_dir(dir, &collateral, &diag), ATTEST_ERR_IO);
    assert_non_null(strstr(diag.message, "pck-crl.der"));

    /* An empty file is rejected. */
    write_file(dir, "pck-crl.der", "");
    assert_int_equal(attest_collateral_from_dir(dir, &collateral, &diag),
                     ATTEST_ERR_COLLATERAL_FORMAT);
    assert_non_null(strstr(diag.message, "pck-crl.der: empty file"));

    /* A TCB info body with a duplicate key names the file. */
    write_file(dir, "tcb-info.json", "{\"tcbInfo\":{},\"tcbInfo\":{}}");
    assert_int_equal(attest_collateral_from_dir(dir, &collateral, &diag),
                     ATTEST_ERR_JSON_DUPLICATE_KEY);
    assert_non_null(strstr(diag.message, "tcb-info.json: "));

    /* A QE identity body under the TCB info key is missing its key. */
    write_file(dir, "tcb-info.json", "{\"enclaveIdentity\":{}," SIG "}");
    assert_int_equal(attest_collateral_from_dir(dir, &collateral, &diag), ATTEST_ERR_JSON_FIELD);
    assert_non_null(strstr(diag.message, "tcb-info.json: PCS body.tcbInfo: missing"));

    remove_pcs_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bundle_sgx_real),
        cmocka_unit_test(dir_and_bundle_identical),
        cmocka_unit_test(load_file_and_dir),
        cmocka_unit_test(source_path_copies),
        cmocka_unit_test(split_pcs_body_table),
        cmocka_unit_test(split_pcs_body_real),
        cmocka_unit_test(bundle_missing_and_wrong_fields),
        cmocka_unit_test(bundle_hostile),
        cmocka_unit_test(dir_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
