/* Quote framing on the real SGX and TDX quotes: decoded fields and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <cmocka.h>

#include <attest/quote.h>

#include "support.h"
#include "util/hex.h"

static void assert_hex(const uint8_t *bytes, size_t size, const char *expected)
{
    char text[2 * 128 + 1];
    assert_true(size <= 128);
    attest_hex_encode(bytes, size, text);
    assert_string_equal(text, expected);
}

static void assert_round_trip(const uint8_t *data, size_t size, const attest_quote *quote)
{
    size_t out_size = 0;
    assert_int_equal(attest_quote_serialize(quote, NULL, 0, &out_size), ATTEST_OK);
    assert_int_equal(out_size, size);
    uint8_t *out = malloc(out_size);
    assert_non_null(out);
    assert_int_equal(attest_quote_serialize(quote, out, out_size, &out_size), ATTEST_OK);
    assert_memory_equal(out, data, size);

    /* One byte too little room must fail, not write past the end. */
    assert_int_equal(attest_quote_serialize(quote, out, out_size - 1, &out_size), ATTEST_ERR_LIMIT);
    free(out);
}

static void test_quote_sgx_v3_fields(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("sgx/phala-sgx-v3.quote", &size);
    attest_quote quote;
    attest_diag diag = {{0}};
    assert_int_equal(attest_quote_parse(data, size, &quote, &diag), ATTEST_OK);

    assert_int_equal(quote.header.version, 3);
    assert_int_equal(quote.header.tee_type, ATTEST_TEE_TYPE_SGX);
    assert_int_equal(quote.body_type, ATTEST_BODY_SGX);
    assert_false(attest_quote_is_tdx(&quote));
    assert_false(attest_quote_is_debug(&quote));
    assert_hex(quote.body.sgx.mr_enclave, 32,
               "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
    assert_hex(quote.body.sgx.mr_signer, 32,
               "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
    assert_int_equal(quote.body.sgx.isv_prod_id, 0);
    assert_int_equal(quote.body.sgx.isv_svn, 0);
    assert_memory_equal(quote.body.sgx.report_data, "Hello, world!", 13);
    for (size_t i = 13; i < 64; i++) {
        assert_int_equal(quote.body.sgx.report_data[i], 0);
    }
    assert_int_equal(quote.cert_data_type, ATTEST_CERT_DATA_PCK_CHAIN);
    assert_int_equal(quote.trailing_size, 0);
    assert_round_trip(data, size, &quote);
    free(data);
}

static void test_quote_sgx_v3_debug(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("sgx/trustee-occlum-debug-v3.quote", &size);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
    assert_true(attest_quote_is_debug(&quote));
    assert_int_equal(quote.body.sgx.attributes[0], 0x07);
    assert_int_equal(quote.body.sgx.misc_select, 1);
    assert_hex(quote.body.sgx.mr_enclave, 32,
               "8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68");
    assert_hex(quote.body.sgx.mr_signer, 32,
               "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e");
    assert_memory_equal(quote.body.sgx.report_data, "test", 4);
    assert_round_trip(data, size, &quote);
    free(data);
}

static void test_quote_tdx_v4_trailing_zeros(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/phala-tdx-v4.quote", &size);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
    assert_int_equal(quote.header.version, 4);
    assert_int_equal(quote.body_type, ATTEST_BODY_TD10);
    assert_int_equal(quote.cert_data_type, ATTEST_CERT_DATA_QE_REPORT);
    assert_int_equal(quote.trailing_size, 70);
    for (size_t i = 0; i < quote.trailing_size; i++) {
        assert_int_equal(quote.trailing[i], 0);
    }
    assert_hex(quote.body.td.mr_td, 48,
               "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
    assert_hex(quote.body.td.td_attributes, 8, "0000001000000000");
    assert_hex(quote.body.td.tee_tcb_svn, 16, "06010300000000000000000000000000");
    assert_round_trip(data, size, &quote);
    free(data);
}

static void test_quote_tdx_v4_trailing_text(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/google-spr-e4-v4.quote", &size);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
    static const char text[] = "\nextra bytes(only for testing purpose)\n";
    assert_int_equal(quote.trailing_size, sizeof(text) - 1);
    assert_memory_equal(quote.trailing, text, sizeof(text) - 1);
    assert_int_equal(quote.cert_data_size, 0x1045);
    assert_hex(quote.body.td.mr_seam, 48,
               "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656");
    assert_hex(quote.body.td.rtmr[0], 48,
               "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a");
    assert_hex(quote.body.td.xfam, 8, "e71a060000000000");
    assert_hex(quote.body.td.td_attributes, 8, "0000004000000000");
    assert_round_trip(data, size, &quote);
    free(data);
}

static void test_quote_tdx_v5_td15(void **state)
{
    (void)state;
    static const char *const files[] = {"tdx/phala-tdx-v5-td15.quote",
                                        "tdx/google-v5-td15-sample.quote"};
    for (size_t f = 0; f < 2; f++) {
        size_t size = 0;
        uint8_t *data = test_read_real(files[f], &size);
        attest_quote quote;
        assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
        assert_int_equal(quote.header.version, 5);
        assert_int_equal(quote.body_type, ATTEST_BODY_TD15);
        assert_int_equal(quote.body_size, ATTEST_TD15_REPORT_BODY_SIZE);
        /* The signed region covers the header, the 6-byte body descriptor and the body. */
        assert_int_equal(quote.signed_size, 48 + 6 + 648);
        for (size_t i = 0; i < 48; i++) {
            assert_int_equal(quote.body.td.mr_service_td[i], 0);
        }
        assert_round_trip(data, size, &quote);
        free(data);
    }
}

static void test_quote_tdx_v5_td15_fields(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/phala-tdx-v5-td15.quote", &size);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
    assert_hex(quote.body.td.tee_tcb_svn, 16, "07010300000000000000000000000000");
    assert_int_equal(quote.body.td.tee_tcb_svn2[0], 0x0d);
    assert_int_equal(quote.body.td.tee_tcb_svn2[1], 0x01);
    assert_int_equal(quote.body.td.tee_tcb_svn2[2], 0x03);
    assert_hex(quote.body.td.mr_td, 48,
               "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd");
    free(data);
}

static void test_quote_trustee_debug_td(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/trustee-debug-v4.quote", &size);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
    assert_true(attest_quote_is_tdx(&quote));
    assert_true(attest_quote_is_debug(&quote));
    assert_hex(quote.body.td.td_attributes, 8, "0100001000000000");
    assert_round_trip(data, size, &quote);
    free(data);
}

static void test_quote_read_hex_file(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *binary = test_read_real("sgx/phala-sgx-v3.quote", &size);

    /* Hex text with a 0x prefix and line breaks reads as the same bytes. */
    char path[] = "/tmp/attest-test-quote-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *file = fdopen(fd, "w");
    assert_non_null(file);
    fputs("0x", file);
    for (size_t i = 0; i < size; i++) {
        fprintf(file, "%02X%s", binary[i], i % 32 == 31 ? "\n" : "");
    }
    fclose(file);

    uint8_t *decoded = NULL;
    size_t decoded_size = 0;
    assert_int_equal(attest_quote_read_file(path, &decoded, &decoded_size, NULL), ATTEST_OK);
    assert_int_equal(decoded_size, size);
    assert_memory_equal(decoded, binary, size);
    remove(path);
    free(decoded);
    free(binary);
}

/* A file that starts as hex text but has another character names it and its offset. */
static void test_quote_read_hex_stray_character(void **state)
{
    (void)state;
    static const char *const texts[] = {"0300020000 # comment\n", "03:00:02:00\n",
                                        ("\xef\xbb\xbf" "0300g2\n")};
    for (size_t i = 0; i < 3; i++) {
        char path[] = "/tmp/attest-test-quote-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *file = fdopen(fd, "w");
        assert_non_null(file);
        fputs(texts[i], file);
        fclose(file);
        uint8_t *data = NULL;
        size_t size = 0;
        attest_diag diag = {{0}};
        assert_int_equal(attest_quote_read_file(path, &data, &size, &diag), ATTEST_ERR_HEX);
        assert_non_null(strstr(diag.message, "at offset"));
        remove(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_sgx_v3_fields),
        cmocka_unit_test(test_quote_sgx_v3_debug),
        cmocka_unit_test(test_quote_tdx_v4_trailing_zeros),
        cmocka_unit_test(test_quote_tdx_v4_trailing_text),
        cmocka_unit_test(test_quote_tdx_v5_td15),
        cmocka_unit_test(test_quote_tdx_v5_td15_fields),
        cmocka_unit_test(test_quote_trustee_debug_td),
        cmocka_unit_test(test_quote_read_hex_file),
        cmocka_unit_test(test_quote_read_hex_stray_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
