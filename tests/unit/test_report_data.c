/*
 * Report data binding: SHA-512(nonce || runtime data), checked against
 * digests computed independently (Python's hashlib), and every way the check
 * must fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <attest/evidence.h>

#include "support.h"
#include "util/hex.h"

static const char runtime_text[] = "public key of the attester";

/* hashlib.sha512(bytes(range(32)) + b"public key of the attester") */
static const char bound_hex[] =
    "6d38864aa0348c0445554f54e03ce5ce4354cf721fa4b5a9319fe219f2494966"
    "f1f5ffaa63fe9ebff0c47b8411b6e6bdbd735b6507d6a19aa11f7ceee46c4c1d";

/* hashlib.sha512(bytes(range(32))): no runtime data */
static const char nonce_only_hex[] =
    "3d94eea49c580aef816935762be049559d6d1440dede12e6a125f1841fff8e6f"
    "a9d71862a3e5746b571be3d187b0041046f52ebd850c7cbd5fde8ee38473b649";

static void fill_nonce(uint8_t nonce[ATTEST_NONCE_SIZE])
{
    for (size_t i = 0; i < ATTEST_NONCE_SIZE; i++) {
        nonce[i] = (uint8_t)i;
    }
}

static void decode(const char *hex, uint8_t out[ATTEST_REPORT_DATA_SIZE])
{
    assert_int_equal(attest_hex_decode_exact(hex, strlen(hex), out, ATTEST_REPORT_DATA_SIZE),
                     ATTEST_OK);
}

static void test_bind_known_digest(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    uint8_t expected[ATTEST_REPORT_DATA_SIZE];
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    fill_nonce(nonce);
    decode(bound_hex, expected);

    assert_int_equal(attest_report_data_bind(nonce, (const uint8_t *)runtime_text,
                                             strlen(runtime_text), report_data),
                     ATTEST_OK);
    assert_memory_equal(report_data, expected, ATTEST_REPORT_DATA_SIZE);
}

static void test_bind_empty_runtime_data(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    uint8_t expected[ATTEST_REPORT_DATA_SIZE];
    uint8_t with_null[ATTEST_REPORT_DATA_SIZE];
    uint8_t with_pointer[ATTEST_REPORT_DATA_SIZE];
    fill_nonce(nonce);
    decode(nonce_only_hex, expected);

    assert_int_equal(attest_report_data_bind(nonce, NULL, 0, with_null), ATTEST_OK);
    assert_memory_equal(with_null, expected, ATTEST_REPORT_DATA_SIZE);
    assert_int_equal(attest_report_data_bind(nonce, (const uint8_t *)"x", 0, with_pointer),
                     ATTEST_OK);
    assert_memory_equal(with_pointer, expected, ATTEST_REPORT_DATA_SIZE);
}

static void test_bind_null_runtime_with_size(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    uint8_t untouched[ATTEST_REPORT_DATA_SIZE];
    fill_nonce(nonce);
    memset(report_data, 0xa5, sizeof(report_data));
    memcpy(untouched, report_data, sizeof(untouched));

    assert_int_equal(attest_report_data_bind(nonce, NULL, 3, report_data), ATTEST_ERR_ARGUMENT);
    assert_memory_equal(report_data, untouched, sizeof(untouched));
    assert_int_equal(attest_report_data_bind(NULL, NULL, 0, report_data), ATTEST_ERR_ARGUMENT);
}

static void test_check_accepts_bound_value(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    fill_nonce(nonce);
    decode(bound_hex, report_data);
    attest_diag diag = {{0}};

    assert_int_equal(attest_report_data_check(nonce, (const uint8_t *)runtime_text,
                                              strlen(runtime_text), report_data, &diag),
                     ATTEST_OK);
    assert_string_equal(diag.message, "");
}

/* Each bit of the report data matters. */
static void test_check_every_flipped_bit(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    fill_nonce(nonce);
    decode(bound_hex, report_data);

    for (size_t bit = 0; bit < 8 * ATTEST_REPORT_DATA_SIZE; bit++) {
        uint8_t changed[ATTEST_REPORT_DATA_SIZE];
        memcpy(changed, report_data, sizeof(changed));
        changed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        attest_diag diag = {{0}};
        assert_int_equal(attest_report_data_check(nonce, (const uint8_t *)runtime_text,
                                                  strlen(runtime_text), changed, &diag),
                         ATTEST_ERR_REPORT_DATA_MISMATCH);
        assert_non_null(strstr(diag.message, "SHA-512(nonce || runtime data)"));
    }
}

static void test_check_other_nonce(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    fill_nonce(nonce);
    decode(bound_hex, report_data);
    nonce[31] ^= 0x01;

    assert_int_equal(attest_report_data_check(nonce, (const uint8_t *)runtime_text,
                                              strlen(runtime_text), report_data, NULL),
                     ATTEST_ERR_REPORT_DATA_MISMATCH);
}

static void test_check_other_runtime_data(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    fill_nonce(nonce);
    decode(bound_hex, report_data);

    /* One byte shorter, and the same bytes with the last one changed. */
    assert_int_equal(attest_report_data_check(nonce, (const uint8_t *)runtime_text,
                                              strlen(runtime_text) - 1, report_data, NULL),
                     ATTEST_ERR_REPORT_DATA_MISMATCH);
    char other[sizeof(runtime_text)];
    memcpy(other, runtime_text, sizeof(other));
    other[strlen(other) - 1] = 'x';
    assert_int_equal(attest_report_data_check(nonce, (const uint8_t *)other, strlen(other),
                                              report_data, NULL),
                     ATTEST_ERR_REPORT_DATA_MISMATCH);
}

/* The nonce is not runtime data: moving bytes across the boundary changes the digest's input. */
static void test_check_runtime_data_as_nonce(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    fill_nonce(nonce);
    assert_int_equal(attest_report_data_bind(nonce, NULL, 0, report_data), ATTEST_OK);

    uint8_t zero_nonce[ATTEST_NONCE_SIZE] = {0};
    assert_int_equal(attest_report_data_check(zero_nonce, nonce, sizeof(nonce), report_data,
                                              NULL),
                     ATTEST_ERR_REPORT_DATA_MISMATCH);
}

static void test_check_null_report_data(void **state)
{
    (void)state;
    uint8_t nonce[ATTEST_NONCE_SIZE];
    fill_nonce(nonce);
    assert_int_equal(attest_report_data_check(nonce, NULL, 0, NULL, NULL), ATTEST_ERR_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_known_digest),
        cmocka_unit_test(test_bind_empty_runtime_data),
        cmocka_unit_test(test_bind_null_runtime_with_size),
        cmocka_unit_test(test_check_accepts_bound_value),
        cmocka_unit_test(test_check_every_flipped_bit),
        cmocka_unit_test(test_check_other_nonce),
        cmocka_unit_test(test_check_other_runtime_data),
        cmocka_unit_test(test_check_runtime_data_as_nonce),
        cmocka_unit_test(test_check_null_report_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
