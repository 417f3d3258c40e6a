/*
 * SGX local attestation: REPORT and TARGETINFO framing, the simulated report
 * key and MAC (against values computed with the openssl command line), and
 * reports between simulated enclaves on one platform, on two platforms and
 * through a stand-in for Gramine's /dev/attestation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <attest/local.h>
#include <attest/sim.h>

#include "support.h"
#include "util/hex.h"

/* ---- fixtures ---- */

static void fill_secret(uint8_t secret[32], uint8_t first)
{
    for (size_t i = 0; i < 32; i++) {
        secret[i] = (uint8_t)(first + i);
    }
}

static void make_enclave(attest_local_enclave *enclave, uint8_t measurement)
{
    attest_local_enclave_init(enclave);
    memset(enclave->mr_enclave, measurement, sizeof(enclave->mr_enclave));
    memset(enclave->mr_signer, 0x5a, sizeof(enclave->mr_signer));
    enclave->isv_prod_id = 3;
    enclave->isv_svn = 9;
}

/* Bytes 0, 1, 2, ... as a 432-byte report, so every field has a distinct value. */
static void pattern_report(uint8_t out[ATTEST_SGX_REPORT_SIZE])
{
    for (size_t i = 0; i < ATTEST_SGX_REPORT_SIZE; i++) {
        out[i] = (uint8_t)i;
    }
}

static void pattern_target_info(uint8_t out[ATTEST_SGX_TARGET_INFO_SIZE])
{
    for (size_t i = 0; i < ATTEST_SGX_TARGET_INFO_SIZE; i++) {
        out[i] = (uint8_t)(i * 7 + 1);
    }
}

/* ---- framing ---- */

static void test_report_field_offsets(void **state)
{
    (void)state;
    uint8_t bytes[ATTEST_SGX_REPORT_SIZE];
    pattern_report(bytes);
    attest_sgx_report report;
    assert_int_equal(attest_sgx_report_parse(bytes, sizeof(bytes), &report, NULL), ATTEST_OK);

    assert_int_equal(report.body.cpu_svn[0], 0);
    assert_int_equal(report.body.misc_select, 0x13121110u);
    assert_int_equal(report.body.attributes[0], 48);
    assert_int_equal(report.body.mr_enclave[0], 64);
    assert_int_equal(report.body.mr_signer[0], 128);
    assert_int_equal(report.body.config_id[0], 192);
    assert_int_equal(report.body.isv_prod_id, 0x0100);
    assert_int_equal(report.body.isv_svn, 0x0302);
    assert_int_equal(report.body.config_svn, 0x0504);
    assert_int_equal(report.body.isv_family_id[0], (uint8_t)304);
    assert_int_equal(report.body.report_data[0], (uint8_t)320);
    assert_int_equal(report.key_id[0], (uint8_t)384);
    assert_int_equal(report.mac[0], (uint8_t)416);
    assert_int_equal(report.mac[15], (uint8_t)431);
}

static void test_report_round_trip(void **state)
{
    (void)state;
    uint8_t bytes[ATTEST_SGX_REPORT_SIZE];
    uint8_t out[ATTEST_SGX_REPORT_SIZE];
    pattern_report(bytes);
    attest_sgx_report report;
    assert_int_equal(attest_sgx_report_parse(bytes, sizeof(bytes), &report, NULL), ATTEST_OK);
    attest_sgx_report_serialize(&report, out);
    assert_memory_equal(out, bytes, sizeof(bytes));
}

static void test_target_info_fields(void **state)
{
    (void)state;
    uint8_t bytes[ATTEST_SGX_TARGET_INFO_SIZE] = {0};
    memset(bytes, 0xee, 32);              /* MRENCLAVE */
    bytes[32] = 0x07;                     /* ATTRIBUTES.FLAGS */
    bytes[50] = 0x34;                     /* CONFIGSVN */
    bytes[51] = 0x12;
    bytes[52] = 0x78;                     /* MISCSELECT */
    bytes[55] = 0x56;
    bytes[64] = 0xc1;                     /* CONFIGID */
    bytes[127] = 0xc2;
    attest_sgx_target_info target;
    assert_int_equal(attest_sgx_target_info_parse(bytes, sizeof(bytes), &target, NULL),
                     ATTEST_OK);

    assert_int_equal(target.mr_enclave[31], 0xee);
    assert_int_equal(target.attributes[0], 0x07);
    assert_int_equal(target.config_svn, 0x1234);
    assert_int_equal(target.misc_select, 0x56000078u);
    assert_int_equal(target.config_id[0], 0xc1);
    assert_int_equal(target.config_id[63], 0xc2);
}

static void test_target_info_round_trip(void **state)
{
    (void)state;
    uint8_t bytes[ATTEST_SGX_TARGET_INFO_SIZE];
    uint8_t out[ATTEST_SGX_TARGET_INFO_SIZE];
    pattern_target_info(bytes);
    attest_sgx_target_info target;
    assert_int_equal(attest_sgx_target_info_parse(bytes, sizeof(bytes), &target, NULL),
                     ATTEST_OK);
    attest_sgx_target_info_serialize(&target, out);
    assert_memory_equal(out, bytes, sizeof(bytes));
}

/* Field that a report cut to length bytes ends in. */
static const char *report_field_at(size_t length)
{
    static const struct {
        size_t end;
        const char *name;
    } fields[] = {
        {16, "body.cpu_svn"},     {20, "body.misc_select"},     {32, "body.reserved1"},
        {48, "body.isv_ext_prod_id"}, {64, "body.attributes"},  {96, "body.mr_enclave"},
        {128, "body.reserved2"},  {160, "body.mr_signer"},      {192, "body.reserved3"},
        {256, "body.config_id"},  {258, "body.isv_prod_id"},    {260, "body.isv_svn"},
        {262, "body.config_svn"}, {304, "body.reserved4"},      {320, "body.isv_family_id"},
        {384, "body.report_data"}, {416, "key_id"},             {432, "mac"},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (length < fields[i].end) {
            return fields[i].name;
        }
    }
    return NULL;
}

static void test_report_every_truncation(void **state)
{
    (void)state;
    uint8_t bytes[ATTEST_SGX_REPORT_SIZE];
    pattern_report(bytes);
    for (size_t length = 0; length < ATTEST_SGX_REPORT_SIZE; length++) {
        /* An allocation of the exact length lets ASan catch any over-read. */
        uint8_t *prefix = malloc(length > 0 ? length : 1);
        assert_non_null(prefix);
        memcpy(prefix, bytes, length);
        attest_sgx_report report;
        memset(&report, 0x77, sizeof(report));
        attest_diag diag = {{0}};

        assert_int_equal(attest_sgx_report_parse(prefix, length, &report, &diag),
                         ATTEST_ERR_SGX_REPORT_TRUNCATED);
        char expected[64];
        snprintf(expected, sizeof(expected), "inside %s ", report_field_at(length));
        if (strstr(diag.message, expected) == NULL) {
            fail_msg("length %zu: \"%s\" does not name %s", length, diag.message, expected);
        }
        assert_int_equal(report.body.misc_select, 0x77777777u); /* untouched on failure */
        free(prefix);
    }
}

static void test_report_trailing_byte(void **state)
{
    (void)state;
    uint8_t bytes[ATTEST_SGX_REPORT_SIZE + 1];
    pattern_report(bytes);
    bytes[ATTEST_SGX_REPORT_SIZE] = 0;
    attest_sgx_report report;
    attest_diag diag = {{0}};
    assert_int_equal(attest_sgx_report_parse(bytes, sizeof(bytes), &report, &diag),
                     ATTEST_ERR_LOCAL_TRAILING);
    assert_non_null(strstr(diag.message, "433 bytes"));
}

static const char *target_info_field_at(size_t length)
{
    static const struct {
        size_t end;
        const char *name;
    } fields[] = {
        {32, "mr_enclave"}, {48, "attributes"}, {50, "reserved1"}, {52, "config_svn"},
        {56, "misc_select"}, {64, "reserved2"}, {128, "config_id"}, {512, "reserved3"},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (length < fields[i].end) {
            return fields[i].name;
        }
    }
    return NULL;
}

static void test_target_info_every_truncation(void **state)
{
    (void)state;
    uint8_t bytes[ATTEST_SGX_TARGET_INFO_SIZE];
    pattern_target_info(bytes);
    for (size_t length = 0; length < ATTEST_SGX_TARGET_INFO_SIZE; length++) {
        uint8_t *prefix = malloc(length > 0 ? length : 1);
        assert_non_null(prefix);
        memcpy(prefix, bytes, length);
        attest_sgx_target_info target;
        attest_diag diag = {{0}};

        assert_int_equal(attest_sgx_target_info_parse(prefix, length, &target, &diag),
                         ATTEST_ERR_TARGET_INFO_TRUNCATED);
        char expected[64];
        snprintf(expected, sizeof(expected), "inside %s ", target_info_field_at(length));
        if (strstr(diag.message, expected) == NULL) {
            fail_msg("length %zu: \"%s\" does not name %s", length, diag.message, expected);
        }
        free(prefix);
    }
}

static void test_target_info_trailing_byte(void **state)
{
    (void)state;
    uint8_t bytes[ATTEST_SGX_TARGET_INFO_SIZE + 1] = {0};
    attest_sgx_target_info target;
    assert_int_equal(attest_sgx_target_info_parse(bytes, sizeof(bytes), &target, NULL),
                     ATTEST_ERR_LOCAL_TRAILING);
}

/* ---- simulated report key and MAC: values from `openssl kdf` and `openssl mac` ---- */

static void kat_target(attest_sgx_target_info *target)
{
    attest_local_enclave enclave;
    attest_local_enclave_init(&enclave);
    memset(enclave.mr_enclave, 0x11, sizeof(enclave.mr_enclave));
    enclave.misc_select = 0x12345678;
    enclave.config_svn = 7;
    attest_local_enclave_target_info(&enclave, target);
}

/*
 * openssl kdf -keylen 16 -kdfopt digest:SHA256 -kdfopt hexkey:404142...5f
 *   -kdfopt hexinfo:<"attest sim SGX report key"> HKDF        -> d36682c9...
 * openssl mac -cipher AES-128-CBC -macopt hexkey:d36682c9... CMAC over
 *   "attest-sim-report-key-v1" 11*32 0500..0300.. 78563412 0700 22*32
 */
static void test_sim_report_key_known_answer(void **state)
{
    (void)state;
    uint8_t secret[32];
    fill_secret(secret, 0x40);
    attest_sgx_target_info target;
    kat_target(&target);
    uint8_t key_id[ATTEST_SGX_KEY_ID_SIZE];
    memset(key_id, 0x22, sizeof(key_id));
    uint8_t expected[16];
    assert_int_equal(attest_hex_decode_exact("0f88e0ae95ef44b3a326b7603810076f", 32, expected,
                                             sizeof(expected)),
                     ATTEST_OK);

    uint8_t key[ATTEST_SGX_REPORT_KEY_SIZE];
    assert_int_equal(attest_local_sim_report_key(secret, &target, key_id, key), ATTEST_OK);
    assert_memory_equal(key, expected, sizeof(key));
}

/*
 * The MAC covers the 384 body bytes only: CMAC with the key above over
 * bytes 0..383 of the pattern is f7fa4067... (over body and KEYID it would
 * be 4582859a...).
 */
static void test_sim_mac_known_answer(void **state)
{
    (void)state;
    uint8_t secret[32];
    fill_secret(secret, 0x40);
    uint8_t bytes[ATTEST_SGX_REPORT_SIZE];
    pattern_report(bytes);
    memset(bytes + 384, 0x22, ATTEST_SGX_KEY_ID_SIZE);
    assert_int_equal(attest_hex_decode_exact("f7fa40674fdaba743a33380ed8a00142", 32, bytes + 416,
                                             ATTEST_SGX_MAC_SIZE),
                     ATTEST_OK);
    attest_sgx_report report;
    assert_int_equal(attest_sgx_report_parse(bytes, sizeof(bytes), &report, NULL), ATTEST_OK);

    attest_local_enclave verifier;
    attest_local_enclave_init(&verifier);
    memset(verifier.mr_enclave, 0x11, sizeof(verifier.mr_enclave));
    verifier.misc_select = 0x12345678;
    verifier.config_svn = 7;
    assert_int_equal(attest_local_sim_report_verify(secret, &verifier, &report, NULL), ATTEST_OK);
}

static void test_sim_report_key_depends_on_inputs(void **state)
{
    (void)state;
    uint8_t secret[32];
    fill_secret(secret, 0x40);
    attest_sgx_target_info target;
    kat_target(&target);
    uint8_t key_id[ATTEST_SGX_KEY_ID_SIZE] = {0};
    uint8_t base[16];
    uint8_t other[16];
    assert_int_equal(attest_local_sim_report_key(secret, &target, key_id, base), ATTEST_OK);

    key_id[31] = 1;
    assert_int_equal(attest_local_sim_report_key(secret, &target, key_id, other), ATTEST_OK);
    assert_memory_not_equal(base, other, 16);
    key_id[31] = 0;

    attest_sgx_target_info changed = target;
    changed.attributes[0] |= 0x02; /* DEBUG */
    assert_int_equal(attest_local_sim_report_key(secret, &changed, key_id, other), ATTEST_OK);
    assert_memory_not_equal(base, other, 16);

    changed = target;
    changed.misc_select ^= 1;
    assert_int_equal(attest_local_sim_report_key(secret, &changed, key_id, other), ATTEST_OK);
    assert_memory_not_equal(base, other, 16);

    changed = target;
    changed.config_svn++;
    assert_int_equal(attest_local_sim_report_key(secret, &changed, key_id, other), ATTEST_OK);
    assert_memory_not_equal(base, other, 16);

    secret[0] ^= 1;
    assert_int_equal(attest_local_sim_report_key(secret, &target, key_id, other), ATTEST_OK);
    assert_memory_not_equal(base, other, 16);
}

/* ---- reports between enclaves, from a fixed platform secret ---- */

static void test_report_a_to_b_verifies_as_b(void **state)
{
    (void)state;
    uint8_t secret[32];
    fill_secret(secret, 0x80);
    attest_local_enclave a;
    attest_local_enclave b;
    make_enclave(&a, 0xaa);
    make_enclave(&b, 0xbb);
    attest_sgx_target_info b_target;
    attest_local_enclave_target_info(&b, &b_target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    memset(report_data, 0x3c, sizeof(report_data));

    attest_sgx_report report;
    assert_int_equal(attest_local_sim_report_create(secret, &a, &b_target, report_data, &report),
                     ATTEST_OK);
    assert_memory_equal(report.body.mr_enclave, a.mr_enclave, 32);
    assert_memory_equal(report.body.mr_signer, a.mr_signer, 32);
    assert_memory_equal(report.body.report_data, report_data, sizeof(report_data));
    assert_int_equal(report.body.isv_prod_id, 3);
    assert_int_equal(report.body.isv_svn, 9);

    attest_diag diag = {{0}};
    assert_int_equal(attest_local_sim_report_verify(secret, &b, &report, &diag), ATTEST_OK);
}

static void test_report_a_to_b_fails_as_c(void **state)
{
    (void)state;
    uint8_t secret[32];
    fill_secret(secret, 0x80);
    attest_local_enclave a;
    attest_local_enclave b;
    attest_local_enclave c;
    make_enclave(&a, 0xaa);
    make_enclave(&b, 0xbb);
    make_enclave(&c, 0xcc);
    attest_sgx_target_info b_target;
    attest_local_enclave_target_info(&b, &b_target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};

    attest_sgx_report report;
    assert_int_equal(attest_local_sim_report_create(secret, &a, &b_target, report_data, &report),
                     ATTEST_OK);
    attest_diag diag = {{0}};
    assert_int_equal(attest_local_sim_report_verify(secret, &c, &report, &diag),
                     ATTEST_ERR_REPORT_MAC);
    assert_non_null(strstr(diag.message, "report MAC does not verify"));

    /* Nor does the reporting enclave itself hold the key. */
    assert_int_equal(attest_local_sim_report_verify(secret, &a, &report, NULL),
                     ATTEST_ERR_REPORT_MAC);
}

/* B with another identity element than its target info stated: debug attributes. */
static void test_report_fails_as_debug_b(void **state)
{
    (void)state;
    uint8_t secret[32];
    fill_secret(secret, 0x80);
    attest_local_enclave a;
    attest_local_enclave b;
    make_enclave(&a, 0xaa);
    make_enclave(&b, 0xbb);
    attest_sgx_target_info b_target;
    attest_local_enclave_target_info(&b, &b_target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};
    attest_sgx_report report;
    assert_int_equal(attest_local_sim_report_create(secret, &a, &b_target, report_data, &report),
                     ATTEST_OK);

    b.attributes[0] |= 0x02;
    assert_int_equal(attest_local_sim_report_verify(secret, &b, &report, NULL),
                     ATTEST_ERR_REPORT_MAC);
}

static void test_report_other_platform_fails(void **state)
{
    (void)state;
    uint8_t secret[32];
    uint8_t other_secret[32];
    fill_secret(secret, 0x80);
    fill_secret(other_secret, 0x81);
    attest_local_enclave a;
    attest_local_enclave b;
    make_enclave(&a, 0xaa);
    make_enclave(&b, 0xbb);
    attest_sgx_target_info b_target;
    attest_local_enclave_target_info(&b, &b_target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};
    attest_sgx_report report;
    assert_int_equal(attest_local_sim_report_create(secret, &a, &b_target, report_data, &report),
                     ATTEST_OK);

    assert_int_equal(attest_local_sim_report_verify(other_secret, &b, &report, NULL),
                     ATTEST_ERR_REPORT_MAC);
}

/* Every byte of the body, the key id and the MAC is bound: one flipped bit anywhere fails. */
static void test_report_every_flipped_byte(void **state)
{
    (void)state;
    uint8_t secret[32];
    fill_secret(secret, 0x80);
    attest_local_enclave a;
    attest_local_enclave b;
    make_enclave(&a, 0xaa);
    make_enclave(&b, 0xbb);
    attest_sgx_target_info b_target;
    attest_local_enclave_target_info(&b, &b_target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {1, 2, 3};
    attest_sgx_report report;
    assert_int_equal(attest_local_sim_report_create(secret, &a, &b_target, report_data, &report),
                     ATTEST_OK);
    uint8_t bytes[ATTEST_SGX_REPORT_SIZE];
    attest_sgx_report_serialize(&report, bytes);

    for (size_t offset = 0; offset < sizeof(bytes); offset++) {
        uint8_t changed[ATTEST_SGX_REPORT_SIZE];
        memcpy(changed, bytes, sizeof(changed));
        changed[offset] ^= 0x01;
        attest_sgx_report parsed;
        assert_int_equal(attest_sgx_report_parse(changed, sizeof(changed), &parsed, NULL),
                         ATTEST_OK);
        attest_err err = attest_local_sim_report_verify(secret, &b, &parsed, NULL);
        if (err != ATTEST_ERR_REPORT_MAC) {
            fail_msg("flipping byte %zu gave %s, expected report_mac_invalid", offset,
                     attest_err_code(err));
        }
    }
}

static void test_report_distinct_key_ids(void **state)
{
    (void)state;
    uint8_t secret[32];
    fill_secret(secret, 0x80);
    attest_local_enclave a;
    make_enclave(&a, 0xaa);
    attest_sgx_target_info target;
    attest_local_enclave_target_info(&a, &target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};
    attest_sgx_report first;
    attest_sgx_report second;
    assert_int_equal(attest_local_sim_report_create(secret, &a, &target, report_data, &first),
                     ATTEST_OK);
    assert_int_equal(attest_local_sim_report_create(secret, &a, &target, report_data, &second),
                     ATTEST_OK);
    assert_memory_not_equal(first.key_id, second.key_id, ATTEST_SGX_KEY_ID_SIZE);
    /* A report targeted at its own enclave verifies there. */
    assert_int_equal(attest_local_sim_report_verify(secret, &a, &second, NULL), ATTEST_OK);
}

/* ---- a stand-in for Gramine's /dev/attestation local-report files ---- */

typedef struct gramine_standin {
    const char *root;
    uint8_t secret[32];
    attest_local_enclave self;
    uint8_t target_info[ATTEST_SGX_TARGET_INFO_SIZE];
    bool target_info_written;
    uint8_t user_report_data[ATTEST_REPORT_DATA_SIZE];
    int write_error;          /* returned by every write when nonzero */
    size_t report_size;       /* bytes of report returned; 0 means 432 */
    bool other_thread_writes; /* report data changes between write and read */
} gramine_standin;

static const char *standin_name(const gramine_standin *standin, const char *path)
{
    size_t root_size = strlen(standin->root);
    if (strncmp(path, standin->root, root_size) != 0 || path[root_size] != '/') {
        return NULL;
    }
    return path + root_size + 1;
}

static int standin_mkdir(void *context, const char *path)
{
    (void)context;
    (void)path;
    return EPERM;
}

static int standin_read(void *context, const char *path, size_t max_size, uint8_t **out_data,
                        size_t *out_size)
{
    gramine_standin *standin = context;
    const char *name = standin_name(standin, path);
    uint8_t bytes[ATTEST_SGX_TARGET_INFO_SIZE];
    size_t size = 0;
    if (name != NULL && strcmp(name, "my_target_info") == 0) {
        attest_sgx_target_info target;
        attest_local_enclave_target_info(&standin->self, &target);
        attest_sgx_target_info_serialize(&target, bytes);
        size = ATTEST_SGX_TARGET_INFO_SIZE;
    } else if (name != NULL && strcmp(name, "report") == 0) {
        attest_sgx_target_info target;
        if (!standin->target_info_written ||
            attest_sgx_target_info_parse(standin->target_info, sizeof(standin->target_info),
                                         &target, NULL) != ATTEST_OK) {
            return EINVAL;
        }
        uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
        memcpy(report_data, standin->user_report_data, sizeof(report_data));
        if (standin->other_thread_writes) {
            report_data[0] ^= 0xff;
        }
        attest_sgx_report report;
        if (attest_local_sim_report_create(standin->secret, &standin->self, &target, report_data,
                                           &report) != ATTEST_OK) {
            return EIO;
        }
        attest_sgx_report_serialize(&report, bytes);
        size = standin->report_size != 0 ? standin->report_size : ATTEST_SGX_REPORT_SIZE;
    } else {
        return ENOENT;
    }
    if (size > max_size) {
        return EFBIG;
    }
    *out_data = malloc(size);
    assert_non_null(*out_data);
    memcpy(*out_data, bytes, size);
    *out_size = size;
    return 0;
}

static int standin_write(void *context, const char *path, const uint8_t *data, size_t size)
{
    gramine_standin *standin = context;
    const char *name = standin_name(standin, path);
    if (standin->write_error != 0) {
        return standin->write_error;
    }
    if (name != NULL && strcmp(name, "target_info") == 0 && size == ATTEST_SGX_TARGET_INFO_SIZE) {
        memcpy(standin->target_info, data, size);
        standin->target_info_written = true;
        return 0;
    }
    if (name != NULL && strcmp(name, "user_report_data") == 0 &&
        size == ATTEST_REPORT_DATA_SIZE) {
        memcpy(standin->user_report_data, data, size);
        return 0;
    }
    return name == NULL ? ENOENT : EINVAL;
}

static bool standin_exists(void *context, const char *path)
{
    gramine_standin *standin = context;
    return strcmp(path, standin->root) == 0 || standin_name(standin, path) != NULL;
}

static attest_fileops standin_ops(gramine_standin *standin)
{
    attest_fileops ops = {
        .context = standin,
        .mkdir = standin_mkdir,
        .rmdir = standin_mkdir,
        .read_file = standin_read,
        .write_file = standin_write,
        .exists = standin_exists,
    };
    return ops;
}

static void standin_init(gramine_standin *standin, uint8_t measurement)
{
    memset(standin, 0, sizeof(*standin));
    standin->root = "/standin/dev/attestation";
    fill_secret(standin->secret, 0x80);
    make_enclave(&standin->self, measurement);
}

static void test_gramine_report_verifies_as_target(void **state)
{
    (void)state;
    gramine_standin standin;
    standin_init(&standin, 0xaa);
    attest_fileops ops = standin_ops(&standin);
    attest_local_enclave b;
    make_enclave(&b, 0xbb);
    attest_sgx_target_info b_target;
    attest_local_enclave_target_info(&b, &b_target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    memset(report_data, 0x42, sizeof(report_data));

    attest_sgx_report report;
    attest_diag diag = {{0}};
    assert_int_equal(attest_gramine_local_report(&ops, standin.root, &b_target, report_data,
                                                 &report, &diag),
                     ATTEST_OK);
    assert_memory_equal(report.body.mr_enclave, standin.self.mr_enclave, 32);
    assert_memory_equal(report.body.report_data, report_data, sizeof(report_data));
    assert_int_equal(attest_local_sim_report_verify(standin.secret, &b, &report, NULL), ATTEST_OK);
}

static void test_gramine_my_target_info(void **state)
{
    (void)state;
    gramine_standin standin;
    standin_init(&standin, 0xaa);
    attest_fileops ops = standin_ops(&standin);
    attest_sgx_target_info target;
    assert_int_equal(attest_gramine_my_target_info(&ops, standin.root, &target, NULL), ATTEST_OK);
    assert_memory_equal(target.mr_enclave, standin.self.mr_enclave, 32);
    assert_memory_equal(target.attributes, standin.self.attributes, 16);
}

static void test_gramine_report_missing_device(void **state)
{
    (void)state;
    gramine_standin standin;
    standin_init(&standin, 0xaa);
    attest_fileops ops = standin_ops(&standin);
    attest_sgx_target_info target;
    memset(&target, 0, sizeof(target));
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};
    attest_sgx_report report;
    attest_diag diag = {{0}};
    assert_int_equal(attest_gramine_local_report(&ops, "/standin/elsewhere", &target, report_data,
                                                 &report, &diag),
                     ATTEST_ERR_EVIDENCE_DEVICE_MISSING);
    assert_non_null(strstr(diag.message, "/standin/elsewhere"));
}

static void test_gramine_report_permission_denied(void **state)
{
    (void)state;
    gramine_standin standin;
    standin_init(&standin, 0xaa);
    standin.write_error = EACCES;
    attest_fileops ops = standin_ops(&standin);
    attest_sgx_target_info target;
    memset(&target, 0, sizeof(target));
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};
    attest_sgx_report report;
    attest_diag diag = {{0}};
    assert_int_equal(attest_gramine_local_report(&ops, standin.root, &target, report_data,
                                                 &report, &diag),
                     ATTEST_ERR_EVIDENCE_PERMISSION);
    assert_non_null(strstr(diag.message, "target_info"));
}

static void test_gramine_report_short_read(void **state)
{
    (void)state;
    gramine_standin standin;
    standin_init(&standin, 0xaa);
    standin.report_size = 431;
    attest_fileops ops = standin_ops(&standin);
    attest_sgx_target_info target;
    memset(&target, 0, sizeof(target));
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};
    attest_sgx_report report;
    attest_diag diag = {{0}};
    assert_int_equal(attest_gramine_local_report(&ops, standin.root, &target, report_data,
                                                 &report, &diag),
                     ATTEST_ERR_EVIDENCE_SHORT_READ);
    assert_non_null(strstr(diag.message, "431 bytes"));
}

static void test_gramine_report_concurrent_writer(void **state)
{
    (void)state;
    gramine_standin standin;
    standin_init(&standin, 0xaa);
    standin.other_thread_writes = true;
    attest_fileops ops = standin_ops(&standin);
    attest_sgx_target_info target;
    memset(&target, 0, sizeof(target));
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};
    attest_sgx_report report;
    assert_int_equal(attest_gramine_local_report(&ops, standin.root, &target, report_data,
                                                 &report, NULL),
                     ATTEST_ERR_REPORT_DATA_MISMATCH);
}

/* ---- on the simulated platform (needs attest_sim_platform_init) ---- */

typedef struct sim_dirs {
    char first[64];
    char second[64];
} sim_dirs;

static void remove_tree(const char *dir)
{
    char command[256];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    assert_int_equal(system(command), 0);
}

static void make_platform(char *dir, size_t capacity, attest_sim_platform **out_platform)
{
    snprintf(dir, capacity, "/tmp/attest-test-local-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char platform_dir[128];
    snprintf(platform_dir, sizeof(platform_dir), "%s/platform", dir);
    attest_diag diag = {{0}};
    attest_err err = attest_sim_platform_init(platform_dir, &diag);
    if (err != ATTEST_OK) {
        fail_msg("attest_sim_platform_init: %s: %s", attest_err_code(err), diag.message);
    }
    err = attest_sim_platform_open(platform_dir, out_platform, &diag);
    if (err != ATTEST_OK) {
        fail_msg("attest_sim_platform_open: %s: %s", attest_err_code(err), diag.message);
    }
}

static void test_sim_platform_two_enclaves(void **state)
{
    (void)state;
    char dir[64];
    attest_sim_platform *platform = NULL;
    make_platform(dir, sizeof(dir), &platform);
    attest_local_enclave a;
    attest_local_enclave b;
    attest_local_enclave c;
    make_enclave(&a, 0xaa);
    make_enclave(&b, 0xbb);
    make_enclave(&c, 0xcc);
    attest_sgx_target_info b_target;
    attest_local_enclave_target_info(&b, &b_target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    memset(report_data, 0x5e, sizeof(report_data));

    attest_sgx_report report;
    attest_diag diag = {{0}};
    assert_int_equal(attest_local_report_create(platform, &a, &b_target, report_data, &report,
                                                &diag),
                     ATTEST_OK);
    assert_int_equal(attest_local_report_verify(platform, &b, &report, &diag), ATTEST_OK);
    assert_int_equal(attest_local_report_verify(platform, &c, &report, &diag),
                     ATTEST_ERR_REPORT_MAC);

    attest_sim_platform_free(platform);
    remove_tree(dir);
}

static void test_sim_platform_other_platform_fails(void **state)
{
    (void)state;
    sim_dirs dirs;
    attest_sim_platform *first = NULL;
    attest_sim_platform *second = NULL;
    make_platform(dirs.first, sizeof(dirs.first), &first);
    make_platform(dirs.second, sizeof(dirs.second), &second);
    attest_local_enclave a;
    attest_local_enclave b;
    make_enclave(&a, 0xaa);
    make_enclave(&b, 0xbb);
    attest_sgx_target_info b_target;
    attest_local_enclave_target_info(&b, &b_target);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE] = {0};

    attest_sgx_report report;
    assert_int_equal(attest_local_report_create(first, &a, &b_target, report_data, &report, NULL),
                     ATTEST_OK);
    assert_int_equal(attest_local_report_verify(second, &b, &report, NULL),
                     ATTEST_ERR_REPORT_MAC);

    attest_sim_platform_free(first);
    attest_sim_platform_free(second);
    remove_tree(dirs.first);
    remove_tree(dirs.second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_field_offsets),
        cmocka_unit_test(test_report_round_trip),
        cmocka_unit_test(test_target_info_fields),
        cmocka_unit_test(test_target_info_round_trip),
        cmocka_unit_test(test_report_every_truncation),
        cmocka_unit_test(test_report_trailing_byte),
        cmocka_unit_test(test_target_info_every_truncation),
        cmocka_unit_test(test_target_info_trailing_byte),
        cmocka_unit_test(test_sim_report_key_known_answer),
        cmocka_unit_test(test_sim_mac_known_answer),
        cmocka_unit_test(test_sim_report_key_depends_on_inputs),
        cmocka_unit_test(test_report_a_to_b_verifies_as_b),
        cmocka_unit_test(test_report_a_to_b_fails_as_c),
        cmocka_unit_test(test_report_fails_as_debug_b),
        cmocka_unit_test(test_report_other_platform_fails),
        cmocka_unit_test(test_report_every_flipped_byte),
        cmocka_unit_test(test_report_distinct_key_ids),
        cmocka_unit_test(test_gramine_report_verifies_as_target),
        cmocka_unit_test(test_gramine_my_target_info),
        cmocka_unit_test(test_gramine_report_missing_device),
        cmocka_unit_test(test_gramine_report_permission_denied),
        cmocka_unit_test(test_gramine_report_short_read),
        cmocka_unit_test(test_gramine_report_concurrent_writer),
        cmocka_unit_test(test_sim_platform_two_enclaves),
        cmocka_unit_test(test_sim_platform_other_platform_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
