/* Unit tests of attestd's base64 and base64url decoders: accepted texts, size caps and rejects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attestation.h"

/* Decodes text with cap and returns whether it was accepted, checking the bytes when it was. */
static bool decode(bool url, const char *text, size_t cap, const char *expected,
                   size_t expected_size)
{
    uint8_t *out = NULL;
    size_t out_size = 0;
    bool accepted = url ? attestd_base64url_decode(text, strlen(text), cap, &out, &out_size)
                        : attestd_base64_decode(text, strlen(text), cap, &out, &out_size);
    if (accepted) {
        assert_int_equal(out_size, expected_size);
        assert_memory_equal(out, expected, expected_size);
        free(out);
    }
    return accepted;
}

/* A cap of SIZE_MAX means no cap, so the early size check must not wrap max_size + 2 around. */
static void test_base64_cap_size_max(void **state)
{
    (void)state;
    assert_true(decode(false, "Zm9vYmFy", SIZE_MAX, "foobar", 6));
    assert_true(decode(false, "Zm8=", SIZE_MAX, "fo", 2));
    assert_true(decode(true, "Zm9vYg", SIZE_MAX, "foob", 4));
    assert_true(decode(true, "Zm9vYg==", SIZE_MAX, "foob", 4));
}

static void test_base64_cap_boundary(void **state)
{
    (void)state;
    assert_true(decode(false, "Zm9vYmE=", 5, "fooba", 5));
    assert_false(decode(false, "Zm9vYmE=", 4, NULL, 0));
    assert_true(decode(false, "Zg==", 1, "f", 1));
    assert_false(decode(false, "Zg==", 0, NULL, 0));
    assert_true(decode(false, "", 0, "", 0));
    assert_true(decode(true, "Zm9vYmE", 5, "fooba", 5));
    assert_false(decode(true, "Zm9vYmE", 4, NULL, 0));
}

static void test_base64_invalid_texts(void **state)
{
    (void)state;
    static const struct {
        bool url;
        const char *text;
        const char *broken;
    } cases[] = {
        {false, "Zm9", "size not a multiple of 4"},
        {false, "Zm9v\n", "whitespace"},
        {false, "Zg=a", "padding before a data character"},
        {false, "Z===", "three padding characters"},
        {false, "====", "padding only"},
        {false, "Zm-_", "base64url alphabet"},
        {true, "Zm+/", "standard alphabet"},
        {true, "Z", "one character left over"},
        {true, "Zg=", "padding that does not reach a multiple of 4"},
        {true, "Zm9vY===", "three padding characters"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (decode(cases[i].url, cases[i].text, SIZE_MAX, NULL, 0)) {
            fail_msg("accepted \"%s\" (%s)", cases[i].text, cases[i].broken);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_cap_size_max),
        cmocka_unit_test(test_base64_cap_boundary),
        cmocka_unit_test(test_base64_invalid_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
