/*
 * Stateless nonces: issue and check, expiry and clock skew, and each way a
 * nonce is rejected (tampered, wrong secret, garbage), with its exact error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <attest/nonce.h>

#define NOW 1750000000
#define LIFETIME 300

static const uint8_t secret[ATTEST_NONCE_SECRET_SIZE] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* Checks text at now; outputs must stay untouched on failure. */
static attest_err check_at(const char *text, time_t now)
{
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    memset(raw, 0x5a, sizeof(raw));
    time_t expiry = 12345;
    attest_diag diag = {{0}};
    attest_err err = attest_nonce_check(secret, text, now, raw, &expiry, &diag);
    if (err != ATTEST_OK) {
        assert_int_equal(expiry, 12345);
        for (size_t i = 0; i < sizeof(raw); i++) {
            assert_int_equal(raw[i], 0x5a);
        }
        assert_true(diag.message[0] != '\0');
    }
    return err;
}

static void issue(char text[ATTEST_NONCE_TEXT_SIZE], uint8_t raw[ATTEST_NONCE_RAW_SIZE])
{
    assert_int_equal(attest_nonce_issue(secret, NOW, LIFETIME, text, raw), ATTEST_OK);
}

static void test_nonce_round_trip(void **state)
{
    (void)state;
    char text[ATTEST_NONCE_TEXT_SIZE];
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    issue(text, raw);
    assert_int_equal(strlen(text), ATTEST_NONCE_TEXT_LENGTH);
    assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     ATTEST_NONCE_TEXT_LENGTH);

    uint8_t checked[ATTEST_NONCE_RAW_SIZE];
    time_t expiry = 0;
    assert_int_equal(attest_nonce_check(secret, text, NOW + 1, checked, &expiry, NULL), ATTEST_OK);
    assert_memory_equal(checked, raw, sizeof(raw));
    assert_int_equal(expiry, NOW + LIFETIME);
}

static void test_nonce_values_differ(void **state)
{
    (void)state;
    char first[ATTEST_NONCE_TEXT_SIZE];
    char second[ATTEST_NONCE_TEXT_SIZE];
    uint8_t first_raw[ATTEST_NONCE_RAW_SIZE];
    uint8_t second_raw[ATTEST_NONCE_RAW_SIZE];
    issue(first, first_raw);
    issue(second, second_raw);
    assert_string_not_equal(first, second);
    assert_memory_not_equal(first_raw, second_raw, sizeof(first_raw));
}

static void test_nonce_expiry(void **state)
{
    (void)state;
    char text[ATTEST_NONCE_TEXT_SIZE];
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    issue(text, raw);
    assert_int_equal(check_at(text, NOW + LIFETIME - 1), ATTEST_OK);
    assert_int_equal(check_at(text, NOW + LIFETIME), ATTEST_ERR_NONCE_EXPIRED);
    assert_int_equal(check_at(text, NOW + 100 * LIFETIME), ATTEST_ERR_NONCE_EXPIRED);
}

static void test_nonce_issued_in_future(void **state)
{
    (void)state;
    char text[ATTEST_NONCE_TEXT_SIZE];
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    issue(text, raw);
    assert_int_equal(check_at(text, NOW - ATTEST_NONCE_CLOCK_SKEW), ATTEST_OK);
    assert_int_equal(check_at(text, NOW - ATTEST_NONCE_CLOCK_SKEW - 1),
                     ATTEST_ERR_NONCE_NOT_YET_VALID);
}

static void test_nonce_wrong_secret(void **state)
{
    (void)state;
    char text[ATTEST_NONCE_TEXT_SIZE];
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    issue(text, raw);
    uint8_t other[ATTEST_NONCE_SECRET_SIZE];
    memcpy(other, secret, sizeof(other));
    other[31] ^= 0x80;
    time_t expiry = 0;
    assert_int_equal(attest_nonce_check(other, text, NOW, raw, &expiry, NULL),
                     ATTEST_ERR_NONCE_MAC);
}

/*
 * Each character of the text changed to another one: a change of the
 * version byte gives nonce_malformed, every other change breaks the MAC.
 * The 81 bytes fill 27 groups of 4 characters, so no character has unused bits.
 */
static void test_nonce_every_character_tampered(void **state)
{
    (void)state;
    char text[ATTEST_NONCE_TEXT_SIZE];
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    issue(text, raw);
    for (size_t i = 0; i < ATTEST_NONCE_TEXT_LENGTH; i++) {
        char tampered[ATTEST_NONCE_TEXT_SIZE];
        memcpy(tampered, text, sizeof(tampered));
        /* 'A' and 'B' differ in the lowest of the 6 bits, 'A' and 'g' in the highest. */
        tampered[i] = text[i] == 'g' ? 'A' : 'g';
        attest_err err = check_at(tampered, NOW);
        if (i < 2) {
            /* Both changes hit the version byte: bits 7..2 in the first, bit 1 in the second. */
            assert_int_equal(err, ATTEST_ERR_NONCE_MALFORMED);
        } else {
            assert_int_equal(err, ATTEST_ERR_NONCE_MAC);
        }
    }
}

static void test_nonce_garbage(void **state)
{
    (void)state;
    char text[ATTEST_NONCE_TEXT_SIZE];
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    issue(text, raw);

    char longer[ATTEST_NONCE_TEXT_SIZE + 4];
    snprintf(longer, sizeof(longer), "%sAAAA", text);
    char shorter[ATTEST_NONCE_TEXT_SIZE];
    memcpy(shorter, text, sizeof(shorter));
    shorter[ATTEST_NONCE_TEXT_LENGTH - 4] = '\0';
    char plus[ATTEST_NONCE_TEXT_SIZE];
    memcpy(plus, text, sizeof(plus));
    plus[50] = '+';
    char padded[ATTEST_NONCE_TEXT_SIZE];
    memcpy(padded, text, sizeof(padded));
    padded[ATTEST_NONCE_TEXT_LENGTH - 1] = '=';
    char spaces[ATTEST_NONCE_TEXT_SIZE];
    memset(spaces, ' ', ATTEST_NONCE_TEXT_LENGTH);
    spaces[ATTEST_NONCE_TEXT_LENGTH] = '\0';
    /* 81 zero bytes encode to 108 'A': version 0. */
    char zeros[ATTEST_NONCE_TEXT_SIZE];
    memset(zeros, 'A', ATTEST_NONCE_TEXT_LENGTH);
    zeros[ATTEST_NONCE_TEXT_LENGTH] = '\0';

    const struct {
        const char *mutation;
        const char *text;
    } cases[] = {
        {"empty", ""},
        {"four characters longer", longer},
        {"four characters shorter", shorter},
        {"standard base64 plus", plus},
        {"padding", padded},
        {"spaces", spaces},
        {"version 0", zeros},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        attest_err err = check_at(cases[i].text, NOW);
        if (err != ATTEST_ERR_NONCE_MALFORMED) {
            fail_msg("%s: got %s", cases[i].mutation, attest_err_code(err));
        }
    }

    time_t expiry = 0;
    assert_int_equal(attest_nonce_check(secret, NULL, NOW, raw, &expiry, NULL),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_nonce_check(NULL, text, NOW, raw, &expiry, NULL),
                     ATTEST_ERR_ARGUMENT);
}

static void test_nonce_issue_arguments(void **state)
{
    (void)state;
    char text[ATTEST_NONCE_TEXT_SIZE] = "";
    uint8_t raw[ATTEST_NONCE_RAW_SIZE];
    assert_int_equal(attest_nonce_issue(secret, NOW, 0, text, raw), ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_nonce_issue(secret, NOW, ATTEST_NONCE_MAX_LIFETIME + 1, text, raw),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_nonce_issue(NULL, NOW, LIFETIME, text, raw), ATTEST_ERR_ARGUMENT);
    assert_string_equal(text, "");
    assert_int_equal(attest_nonce_issue(secret, NOW, ATTEST_NONCE_MAX_LIFETIME, text, raw),
                     ATTEST_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonce_round_trip),
        cmocka_unit_test(test_nonce_values_differ),
        cmocka_unit_test(test_nonce_expiry),
        cmocka_unit_test(test_nonce_issued_in_future),
        cmocka_unit_test(test_nonce_wrong_secret),
        cmocka_unit_test(test_nonce_every_character_tampered),
        cmocka_unit_test(test_nonce_garbage),
        cmocka_unit_test(test_nonce_issue_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
