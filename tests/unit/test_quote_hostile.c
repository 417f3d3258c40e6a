/* Quote framing on hostile input: each broken quote must give its exact error, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <attest/quote.h>

#include "support.h"

static const char *const real_quotes[] = {
    "sgx/phala-sgx-v3.quote",      "sgx/trustee-occlum-debug-v3.quote",
    "tdx/phala-tdx-v4.quote",      "tdx/google-spr-e4-v4.quote",
    "tdx/phala-tdx-v5-td15.quote", "tdx/google-v5-td15-sample.quote",
    "tdx/trustee-debug-v4.quote",
};

static void put_u16(uint8_t *at, uint16_t value)
{
    at[0] = (uint8_t)value;
    at[1] = (uint8_t)(value >> 8);
}

static void put_u32(uint8_t *at, uint32_t value)
{
    for (size_t i = 0; i < 4; i++) {
        at[i] = (uint8_t)(value >> (8 * i));
    }
}

/* Parses a copy of data with one change applied by the caller, returning the error. */
static attest_err parse_copy(const uint8_t *data, size_t size, attest_diag *diag)
{
    attest_quote quote;
    return attest_quote_parse(data, size, &quote, diag);
}

/*
 * Every proper prefix of a real quote must fail. Prefixes that end inside the
 * signature data fail on its declared size; shorter ones on a truncated field.
 */
static void test_quote_every_truncation(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof(real_quotes) / sizeof(real_quotes[0]); f++) {
        size_t size = 0;
        uint8_t *data = test_read_real(real_quotes[f], &size);
        attest_quote full;
        assert_int_equal(attest_quote_parse(data, size, &full, NULL), ATTEST_OK);
        size_t signature_start = full.signed_size + 4;
        size_t signature_end = signature_start + full.signature_data_size;

        for (size_t length = 0; length < signature_end; length++) {
            /* A fresh allocation of the exact length lets ASan catch any over-read. */
            uint8_t *prefix = malloc(length > 0 ? length : 1);
            assert_non_null(prefix);
            memcpy(prefix, data, length);
            attest_diag diag = {{0}};
            attest_err err = parse_copy(prefix, length, &diag);
            if (length < signature_start) {
                assert_int_equal(err, ATTEST_ERR_QUOTE_TRUNCATED);
            } else {
                assert_int_equal(err, ATTEST_ERR_QUOTE_SIGNATURE_DATA_SIZE);
            }
            assert_true(strlen(diag.message) > 0);
            free(prefix);
        }
        free(data);
    }
}

typedef struct length_case {
    const char *name;     /* how the quote was broken */
    size_t offset_from;   /* 0: from the start; 1: from the signature data */
    size_t offset;
    uint32_t value;
    int width;            /* 2 or 4 bytes */
    attest_err expected;
} length_case;

/* Offsets in the TDX v4 quote google-spr-e4-v4 (header 48, body 584). */
static const length_case tdx_v4_cases[] = {
    {"signature data size 0xffffffff", 0, 632, 0xffffffffu, 4,
     ATTEST_ERR_QUOTE_SIGNATURE_DATA_SIZE},
    {"signature data size one byte short", 0, 632, 0, 4, ATTEST_ERR_QUOTE_CERT_DATA_SIZE},
    {"outer certification data type 5", 1, 128, 5, 2, ATTEST_ERR_QUOTE_CERT_DATA_TYPE},
    {"outer certification data size 0xffffffff", 1, 130, 0xffffffffu, 4,
     ATTEST_ERR_QUOTE_CERT_DATA_SIZE},
    {"outer certification data size 1 less", 1, 130, 0, 4, ATTEST_ERR_QUOTE_CERT_DATA_SIZE},
    {"QE authentication data size 0xffff", 1, 134 + 384 + 64, 0xffff, 2,
     ATTEST_ERR_QUOTE_QE_AUTH_SIZE},
    {"version 2", 0, 0, 2, 2, ATTEST_ERR_QUOTE_VERSION},
    {"version 6", 0, 0, 6, 2, ATTEST_ERR_QUOTE_VERSION},
    {"attestation key type 3 (P-384)", 0, 2, 3, 2, ATTEST_ERR_QUOTE_KEY_TYPE},
    {"TEE type 0x80", 0, 4, 0x80, 4, ATTEST_ERR_QUOTE_TEE_TYPE},
    {"QE vendor id changed", 0, 12, 0, 2, ATTEST_ERR_QUOTE_QE_VENDOR},
};

static void test_quote_length_fields(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/google-spr-e4-v4.quote", &size);
    for (size_t i = 0; i < sizeof(tdx_v4_cases) / sizeof(tdx_v4_cases[0]); i++) {
        const length_case *c = &tdx_v4_cases[i];
        uint8_t *copy = malloc(size);
        assert_non_null(copy);
        memcpy(copy, data, size);
        size_t offset = c->offset + (c->offset_from == 1 ? 636 : 0);
        uint32_t value = c->value;
        if (c->value == 0 && c->width == 4) {
            /* "one less": decrement the declared size in place. */
            uint32_t declared = (uint32_t)copy[offset] | ((uint32_t)copy[offset + 1] << 8) |
                                ((uint32_t)copy[offset + 2] << 16) | ((uint32_t)copy[offset + 3] << 24);
            value = declared - 1;
        }
        if (c->width == 2) {
            put_u16(copy + offset, (uint16_t)value);
        } else {
            put_u32(copy + offset, value);
        }
        attest_diag diag = {{0}};
        attest_err err = parse_copy(copy, size, &diag);
        if (err != c->expected) {
            fail_msg("%s: got %s (%s), expected %s", c->name, attest_err_code(err), diag.message,
                     attest_err_code(c->expected));
        }
        free(copy);
    }
    free(data);
}

static void test_quote_v5_body_descriptor(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/phala-tdx-v5-td15.quote", &size);
    static const struct {
        const char *name;
        uint16_t type;
        uint32_t body_size;
        attest_err expected;
    } cases[] = {
        {"body type 4", 4, 648, ATTEST_ERR_QUOTE_BODY_TYPE},
        {"body type 1 (SGX) in a TDX quote", 1, 384, ATTEST_ERR_QUOTE_BODY_TYPE},
        {"TD 1.5 body with size 584", 3, 584, ATTEST_ERR_QUOTE_BODY_SIZE},
        {"TD 1.5 body with size 0xffffffff", 3, 0xffffffffu, ATTEST_ERR_QUOTE_BODY_SIZE},
        {"TD 1.0 body type with 648 bytes", 2, 648, ATTEST_ERR_QUOTE_BODY_SIZE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *copy = malloc(size);
        assert_non_null(copy);
        memcpy(copy, data, size);
        put_u16(copy + 48, cases[i].type);
        put_u32(copy + 50, cases[i].body_size);
        attest_err err = parse_copy(copy, size, NULL);
        if (err != cases[i].expected) {
            fail_msg("%s: got %s, expected %s", cases[i].name, attest_err_code(err),
                     attest_err_code(cases[i].expected));
        }
        free(copy);
    }
    free(data);
}

static void test_quote_v4_as_td10_body_of_v5(void **state)
{
    (void)state;
    /* A TD 1.0 body declared as TD 1.0 in a v5 quote is valid framing: build one from v4. */
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/phala-tdx-v4.quote", &size);
    uint8_t *v5 = malloc(size + 6);
    assert_non_null(v5);
    memcpy(v5, data, 48);
    put_u16(v5, 5);
    put_u16(v5 + 48, 2);
    put_u32(v5 + 50, 584);
    memcpy(v5 + 54, data + 48, size - 48);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(v5, size + 6, &quote, NULL), ATTEST_OK);
    assert_int_equal(quote.body_type, ATTEST_BODY_TD10);
    assert_int_equal(quote.signed_size, 48 + 6 + 584);
    free(v5);
    free(data);
}

static void test_quote_v3_tdx_rejected(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/google-spr-e4-v4.quote", &size);
    data[0] = 3;
    attest_diag diag = {{0}};
    assert_int_equal(parse_copy(data, size, &diag), ATTEST_ERR_QUOTE_TEE_TYPE);
    assert_non_null(strstr(diag.message, "SGX-only"));
    free(data);
}

static void test_quote_size_limit(void **state)
{
    (void)state;
    static uint8_t big[ATTEST_QUOTE_MAX_SIZE + 1];
    assert_int_equal(parse_copy(big, sizeof(big), NULL), ATTEST_ERR_LIMIT);
    assert_int_equal(parse_copy(big, 0, NULL), ATTEST_ERR_QUOTE_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_every_truncation),
        cmocka_unit_test(test_quote_length_fields),
        cmocka_unit_test(test_quote_v5_body_descriptor),
        cmocka_unit_test(test_quote_v4_as_td10_body_of_v5),
        cmocka_unit_test(test_quote_v3_tdx_rejected),
        cmocka_unit_test(test_quote_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
