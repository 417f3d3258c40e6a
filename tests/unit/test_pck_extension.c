/*
 * Tests of attest_pck_extension_parse on the SGX extensions of the real PCK
 * certificates inside the real quotes, and on hostile variants of them.
 *
 * Hostile variants are made two ways: by changing bytes of a real DER value
 * at offsets read off `openssl asn1parse` (table byte_edit_cases), or by
 * decoding a real value with OpenSSL, editing one entry and encoding again
 * (table openssl_edit_cases). Each row names the change that broke its input
 * and the exact diagnostic expected.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <attest/pck.h>

#include "support.h"

#define SGX ATTEST_SGX_EXTENSION_OID

typedef struct der_buf {
    uint8_t *data;
    size_t size;
} der_buf;

static const uint8_t *find_bytes(const uint8_t *data, size_t size, const char *needle)
{
    size_t needle_size = strlen(needle);
    for (size_t i = 0; i + needle_size <= size; i++) {
        if (memcmp(data + i, needle, needle_size) == 0) {
            return data + i;
        }
    }
    return NULL;
}

/* Returns the SGX extension value of the PCK certificate (the first PEM) in a real quote. */
static der_buf load_real_extension(const char *quote_path)
{
    size_t quote_size = 0;
    uint8_t *quote = test_read_real(quote_path, &quote_size);
    const uint8_t *pem = find_bytes(quote, quote_size, "-----BEGIN CERTIFICATE-----");
    assert_non_null(pem);

    BIO *bio = BIO_new_mem_buf(pem, (int)(quote_size - (size_t)(pem - quote)));
    assert_non_null(bio);
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    assert_non_null(cert);

    ASN1_OBJECT *oid = OBJ_txt2obj(SGX, 1);
    assert_non_null(oid);
    int index = X509_get_ext_by_OBJ(cert, oid, -1);
    assert_true(index >= 0);
    const ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(X509_get_ext(cert, index));
    assert_non_null(value);

    der_buf der = {NULL, (size_t)ASN1_STRING_length(value)};
    der.data = malloc(der.size);
    assert_non_null(der.data);
    memcpy(der.data, ASN1_STRING_get0_data(value), der.size);

    ASN1_OBJECT_free(oid);
    X509_free(cert);
    BIO_free(bio);
    free(quote);
    return der;
}

static void expect_bytes(const uint8_t *actual, const char *hex)
{
    size_t size = strlen(hex) / 2;
    for (size_t i = 0; i < size; i++) {
        unsigned byte = 0;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
        assert_int_equal(actual[i], byte);
    }
}

static void expect_components(const attest_pck_info *info, const uint8_t expected[16])
{
    for (int i = 0; i < 16; i++) {
        assert_int_equal(info->tcb_components[i], expected[i]);
    }
}

static void expect_error(const der_buf *der, const char *expected_message)
{
    attest_pck_info info;
    memset(&info, 0xa5, sizeof(info));
    attest_pck_info untouched = info;
    attest_diag diag = {{0}};

    attest_err err = attest_pck_extension_parse(der->data, der->size, &info, &diag);
    assert_int_equal(err, ATTEST_ERR_PCK_EXTENSION);
    assert_string_equal(diag.message, expected_message);
    assert_memory_equal(&info, &untouched, sizeof(info));
}

static attest_pck_info expect_parse(const der_buf *der)
{
    attest_pck_info info;
    attest_diag diag = {{0}};
    attest_err err = attest_pck_extension_parse(der->data, der->size, &info, &diag);
    if (err != ATTEST_OK) {
        fail_msg("parse failed: %s: %s", attest_err_code(err), diag.message);
    }
    return info;
}

/* ---- real certificates ---- */

static void pck_extension_phala_sgx_processor_ca(void **state)
{
    (void)state;
    der_buf der = load_real_extension("sgx/phala-sgx-v3.quote");
    attest_pck_info info = expect_parse(&der);

    static const uint8_t components[16] = {11, 11, 2, 2, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_components(&info, components);
    assert_int_equal(info.pcesvn, 13);
    expect_bytes(info.cpusvn, "0b0b0202ff0100000000000000000000");
    expect_bytes(info.ppid, "d04ec06d4e6d92dc90d0ad3cf5ee2ddf");
    expect_bytes(info.pce_id, "0000");
    expect_bytes(info.fmspc, "00a067110000");
    assert_int_equal(info.sgx_type, ATTEST_SGX_TYPE_STANDARD);
    assert_false(info.has_platform_instance_id);
    assert_false(info.has_configuration);
    free(der.data);
}

static void pck_extension_trustee_tdx_platform_ca(void **state)
{
    (void)state;
    der_buf der = load_real_extension("tdx/trustee-debug-v4.quote");
    attest_pck_info info = expect_parse(&der);

    static const uint8_t components[16] = {5, 5, 13, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_components(&info, components);
    assert_int_equal(info.pcesvn, 11);
    expect_bytes(info.cpusvn, "05050d02030100030000000000000000");
    expect_bytes(info.fmspc, "50806f000000");
    assert_int_equal(info.sgx_type, ATTEST_SGX_TYPE_SCALABLE);
    assert_true(info.has_platform_instance_id);
    expect_bytes(info.platform_instance_id, "021ac64d355ba904e2d5948d228d5482");
    assert_true(info.has_configuration);
    assert_true(info.dynamic_platform);
    assert_true(info.cached_keys);
    assert_true(info.smt_enabled);
    free(der.data);
}

static void pck_extension_google_spr_configuration(void **state)
{
    (void)state;
    der_buf der = load_real_extension("tdx/google-spr-e4-v4.quote");
    attest_pck_info info = expect_parse(&der);

    static const uint8_t components[16] = {3, 3, 2, 2, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_components(&info, components);
    assert_int_equal(info.pcesvn, 11);
    expect_bytes(info.fmspc, "50806f000000");
    expect_bytes(info.platform_instance_id, "8c314d17d205dfafcbecbb00fc87eff7");
    assert_true(info.has_configuration);
    assert_true(info.dynamic_platform);
    assert_false(info.cached_keys);
    assert_true(info.smt_enabled);
    free(der.data);
}

static void pck_extension_every_real_quote(void **state)
{
    (void)state;
    static const struct {
        const char *quote;
        const char *fmspc;
        bool platform_ca;
    } cases[] = {
        {"sgx/phala-sgx-v3.quote", "00a067110000", false},
        {"sgx/trustee-occlum-debug-v3.quote", "00606a000000", true},
        {"tdx/phala-tdx-v4.quote", "b0c06f000000", true},
        {"tdx/phala-tdx-v5-td15.quote", "90c06f000000", true},
        {"tdx/google-spr-e4-v4.quote", "50806f000000", true},
        {"tdx/google-v5-td15-sample.quote", "90c06f000000", true},
        {"tdx/trustee-debug-v4.quote", "50806f000000", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        der_buf der = load_real_extension(cases[i].quote);
        attest_pck_info info = expect_parse(&der);
        expect_bytes(info.fmspc, cases[i].fmspc);
        assert_int_equal(info.has_platform_instance_id, cases[i].platform_ca);
        assert_int_equal(info.has_configuration, cases[i].platform_ca);
        free(der.data);
    }
}

/* ---- hostile inputs from byte edits ---- */

static void pck_extension_every_truncation(void **state)
{
    (void)state;
    static const char *const quotes[] = {"sgx/phala-sgx-v3.quote", "tdx/trustee-debug-v4.quote"};
    for (size_t q = 0; q < 2; q++) {
        der_buf der = load_real_extension(quotes[q]);
        for (size_t size = 0; size < der.size; size++) {
            der_buf truncated = {der.data, size};
            char expected[128];
            if (size == 0) {
                snprintf(expected, sizeof(expected), "SGX extension: empty value");
            } else {
                snprintf(expected, sizeof(expected),
                         "SGX extension: not a valid DER SEQUENCE (%zu bytes)", size);
            }
            expect_error(&truncated, expected);
        }
        free(der.data);
    }
}

enum base_quote { PHALA_SGX, TRUSTEE_TDX };

static const char *const base_quotes[] = {
    [PHALA_SGX] = "sgx/phala-sgx-v3.quote",
    [TRUSTEE_TDX] = "tdx/trustee-debug-v4.quote",
};

/*
 * Offsets are those `openssl asn1parse` prints for the header of each item
 * of the extension value. Content starts 2 bytes later for these short items.
 */
static const struct {
    const char *change;
    enum base_quote base;
    size_t edit_count;
    struct {
        size_t offset;
        uint8_t from;
        uint8_t to;
    } edits[2];
    const char *expected;
} byte_edit_cases[] = {
    {"TCB component 5 SVN INTEGER 00 FF made 01 00 (256)", PHALA_SGX, 2,
     {{145, 0x00, 0x01}, {146, 0xff, 0x00}},
     "SGX extension TCB component 5 SVN: expected INTEGER 0..255, got 256"},
    {"TCB component 1 SVN 0x0B made 0x8B (negative)", PHALA_SGX, 1, {{73, 0x0b, 0x8b}},
     "SGX extension TCB component 1 SVN: expected INTEGER 0..255, got -117"},
    {"TCB PCESVN tag INTEGER made ENUMERATED", PHALA_SGX, 1, {{360, 0x02, 0x0a}},
     "SGX extension TCB PCESVN: expected INTEGER 0..65535, got ENUMERATED"},
    {"TCB CPUSVN tag OCTET STRING made INTEGER", PHALA_SGX, 1, {{378, 0x04, 0x02}},
     "SGX extension TCB CPUSVN: expected OCTET STRING of 16 bytes, got INTEGER"},
    {"TCB component 5 OID last arc 5 made 19", PHALA_SGX, 1, {{142, 0x05, 0x13}},
     "SGX extension TCB entry 5: unknown OID " SGX ".2.19"},
    {"TCB component 5 OID last arc 5 made 4 (duplicate)", PHALA_SGX, 1, {{142, 0x05, 0x04}},
     "SGX extension TCB component 4 SVN: duplicate entry"},
    {"PPID OID last arc 1 made 4 (a 16-byte FMSPC)", PHALA_SGX, 1, {{17, 0x01, 0x04}},
     "SGX extension FMSPC: expected OCTET STRING of 6 bytes, got 16"},
    {"FMSPC OID last arc 4 made 1 (second PPID)", PHALA_SGX, 1, {{427, 0x04, 0x01}},
     "SGX extension PPID: duplicate entry"},
    {"FMSPC OID last arc 4 made 8 (unknown, so FMSPC is missing)", PHALA_SGX, 1,
     {{427, 0x04, 0x08}}, "SGX extension FMSPC: missing"},
    {"FMSPC tag OCTET STRING made INTEGER", PHALA_SGX, 1, {{428, 0x04, 0x02}},
     "SGX extension FMSPC: expected OCTET STRING of 6 bytes, got INTEGER"},
    {"SGX type tag ENUMERATED made INTEGER", PHALA_SGX, 1, {{450, 0x0a, 0x02}},
     "SGX extension SGX type: expected ENUMERATED 0..2, got INTEGER"},
    {"SGX type value 0 made 3", PHALA_SGX, 1, {{452, 0x00, 0x03}},
     "SGX extension SGX type: expected ENUMERATED 0..2, got 3"},
    {"PPID entry OID tag OBJECT made OCTET STRING", PHALA_SGX, 1, {{6, 0x06, 0x04}},
     "SGX extension entry 1: expected SEQUENCE { OBJECT, value }"},
    {"PPID entry tag SEQUENCE made SET", PHALA_SGX, 1, {{4, 0x30, 0x31}},
     "SGX extension entry 1: expected SEQUENCE, got SET"},
    {"configuration dynamic platform BOOLEAN content 0xFF made 0x01", TRUSTEE_TDX, 1,
     {{517, 0xff, 0x01}},
     "SGX extension configuration dynamic platform: BOOLEAN content 0x01 is not DER "
     "(0x00 or 0xFF)"},
    {"configuration dynamic platform tag BOOLEAN made INTEGER", TRUSTEE_TDX, 1,
     {{515, 0x01, 0x02}},
     "SGX extension configuration dynamic platform: expected BOOLEAN, got INTEGER"},
    {"configuration dynamic platform OID last arc 1 made 3 (duplicate SMT enabled)",
     TRUSTEE_TDX, 1, {{514, 0x01, 0x03}},
     "SGX extension configuration SMT enabled: duplicate entry"},
    {"platform instance ID tag OCTET STRING made IA5String", TRUSTEE_TDX, 1,
     {{466, 0x04, 0x16}},
     "SGX extension platform instance ID: expected OCTET STRING of 16 bytes, got IA5STRING"},
    {"platform instance ID tag OCTET STRING made BIT STRING (first content byte 0x02 is "
     "taken as unused bits, which DER forbids here)",
     TRUSTEE_TDX, 1, {{466, 0x04, 0x03}},
     "SGX extension entry 6: SEQUENCE is BER but not DER"},
};

static void pck_extension_byte_edits(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(byte_edit_cases) / sizeof(byte_edit_cases[0]); i++) {
        print_message("byte edit: %s\n", byte_edit_cases[i].change);
        der_buf der = load_real_extension(base_quotes[byte_edit_cases[i].base]);
        for (size_t e = 0; e < byte_edit_cases[i].edit_count; e++) {
            size_t offset = byte_edit_cases[i].edits[e].offset;
            assert_true(offset < der.size);
            assert_int_equal(der.data[offset], byte_edit_cases[i].edits[e].from);
            der.data[offset] = byte_edit_cases[i].edits[e].to;
        }
        expect_error(&der, byte_edit_cases[i].expected);
        free(der.data);
    }
}

static void pck_extension_trailing_byte(void **state)
{
    (void)state;
    der_buf der = load_real_extension("sgx/phala-sgx-v3.quote");
    uint8_t *longer = realloc(der.data, der.size + 1);
    assert_non_null(longer);
    longer[der.size] = 0x00;
    der_buf padded = {longer, der.size + 1};
    expect_error(&padded, "SGX extension: the SEQUENCE ends at byte 453 of 454");
    free(longer);
}

/* Outer header 30 82 01 C1 made 30 80 with end-of-contents 00 00 appended. */
static void pck_extension_indefinite_length(void **state)
{
    (void)state;
    der_buf der = load_real_extension("sgx/phala-sgx-v3.quote");
    assert_memory_equal(der.data, "\x30\x82\x01\xc1", 4);

    der_buf ber = {malloc(der.size), der.size};
    assert_non_null(ber.data);
    ber.data[0] = 0x30;
    ber.data[1] = 0x80;
    memcpy(ber.data + 2, der.data + 4, der.size - 4);
    ber.data[der.size - 2] = 0x00;
    ber.data[der.size - 1] = 0x00;
    expect_error(&ber, "SGX extension: SEQUENCE is BER but not DER");
    free(ber.data);
    free(der.data);
}

/*
 * PCE-ID OCTET STRING length 02 written in long form 81 02. The lengths of
 * its entry (0x10 to 0x11) and of the outer SEQUENCE (0x1C1 to 0x1C2) grow too.
 */
static void pck_extension_long_form_length(void **state)
{
    (void)state;
    der_buf der = load_real_extension("sgx/phala-sgx-v3.quote");
    const size_t entry = 396;    /* 30 10, then the OID 06 0a and its 10 bytes */
    const size_t octets = 410;   /* 04 02 00 00 */
    const size_t entry_end = 414;
    assert_int_equal(der.data[entry + 1], 0x10);
    assert_memory_equal(der.data + octets, "\x04\x02\x00\x00", 4);

    der_buf ber = {malloc(der.size + 1), der.size + 1};
    assert_non_null(ber.data);
    memcpy(ber.data, der.data, octets);
    ber.data[3] = 0xc2;
    ber.data[entry + 1] = 0x11;
    memcpy(ber.data + octets, "\x04\x81\x02\x00\x00", 5);
    memcpy(ber.data + entry_end + 1, der.data + entry_end, der.size - entry_end);
    expect_error(&ber, "SGX extension entry 3: SEQUENCE is BER but not DER");
    free(ber.data);
    free(der.data);
}

static void pck_extension_size_limit(void **state)
{
    (void)state;
    der_buf big = {calloc(16385, 1), 16385};
    assert_non_null(big.data);
    expect_error(&big, "SGX extension: 16385 bytes exceed the limit of 16384");
    free(big.data);
}

static void pck_extension_null_output(void **state)
{
    (void)state;
    static const uint8_t der[] = {0x30, 0x00};
    attest_diag diag = {{0}};
    assert_int_equal(attest_pck_extension_parse(der, sizeof(der), NULL, &diag),
                     ATTEST_ERR_ARGUMENT);
}

/* ---- hostile inputs encoded by OpenSSL ---- */

static ASN1_SEQUENCE_ANY *decode_entries(const der_buf *der)
{
    const unsigned char *cursor = der->data;
    ASN1_SEQUENCE_ANY *entries = d2i_ASN1_SEQUENCE_ANY(NULL, &cursor, (long)der->size);
    assert_non_null(entries);
    return entries;
}

static der_buf encode_entries(const ASN1_SEQUENCE_ANY *entries)
{
    unsigned char *encoded = NULL;
    int size = i2d_ASN1_SEQUENCE_ANY(entries, &encoded);
    assert_true(size > 0);
    der_buf der = {malloc((size_t)size), (size_t)size};
    assert_non_null(der.data);
    memcpy(der.data, encoded, der.size);
    OPENSSL_free(encoded);
    return der;
}

/* Wraps the DER of a SEQUENCE as an ASN1_TYPE. */
static ASN1_TYPE *sequence_value(const der_buf *der)
{
    ASN1_STRING *raw = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
    assert_non_null(raw);
    assert_int_equal(ASN1_STRING_set(raw, der->data, (int)der->size), 1);
    ASN1_TYPE *value = ASN1_TYPE_new();
    assert_non_null(value);
    ASN1_TYPE_set(value, V_ASN1_SEQUENCE, raw);
    return value;
}

/* Builds the entry SEQUENCE { OBJECT oid, value }, taking value. */
static ASN1_TYPE *entry_value(const char *oid, ASN1_TYPE *value)
{
    ASN1_TYPE *object = ASN1_TYPE_new();
    assert_non_null(object);
    ASN1_OBJECT *parsed_oid = OBJ_txt2obj(oid, 1);
    assert_non_null(parsed_oid);
    ASN1_TYPE_set(object, V_ASN1_OBJECT, parsed_oid);

    ASN1_SEQUENCE_ANY *pair = sk_ASN1_TYPE_new_null();
    assert_non_null(pair);
    assert_true(sk_ASN1_TYPE_push(pair, object) > 0);
    assert_true(sk_ASN1_TYPE_push(pair, value) > 0);
    der_buf der = encode_entries(pair);
    sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);

    ASN1_TYPE *entry = sequence_value(&der);
    free(der.data);
    return entry;
}

/* Returns the DER of the value of entry (a SEQUENCE { OID, SEQUENCE }) and its OID text. */
static der_buf entry_inner(const ASN1_TYPE *entry, char *oid_text, size_t oid_text_size)
{
    der_buf entry_der = {entry->value.sequence->data, (size_t)entry->value.sequence->length};
    ASN1_SEQUENCE_ANY *pair = decode_entries(&entry_der);
    OBJ_obj2txt(oid_text, (int)oid_text_size, sk_ASN1_TYPE_value(pair, 0)->value.object, 1);

    der_buf inner = {NULL, 0};
    const ASN1_TYPE *value = sk_ASN1_TYPE_value(pair, 1);
    if (value->type == V_ASN1_SEQUENCE) {
        inner.size = (size_t)value->value.sequence->length;
        inner.data = malloc(inner.size);
        assert_non_null(inner.data);
        memcpy(inner.data, value->value.sequence->data, inner.size);
    }
    sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    return inner;
}

static int find_entry(const ASN1_SEQUENCE_ANY *entries, const char *oid)
{
    for (int i = 0; i < sk_ASN1_TYPE_num(entries); i++) {
        char text[96];
        der_buf inner = entry_inner(sk_ASN1_TYPE_value(entries, i), text, sizeof(text));
        free(inner.data);
        if (strcmp(text, oid) == 0) {
            return i;
        }
    }
    return -1;
}

enum edit_op { EDIT_REPLACE, EDIT_REMOVE, EDIT_DUPLICATE, EDIT_APPEND };

/* Puts entry at index, freeing the old one (sk_ASN1_TYPE_set returns the new one). */
static void replace_entry(ASN1_SEQUENCE_ANY *entries, int index, ASN1_TYPE *entry)
{
    ASN1_TYPE *old = sk_ASN1_TYPE_value(entries, index);
    assert_non_null(sk_ASN1_TYPE_set(entries, index, entry));
    ASN1_TYPE_free(old);
}

/*
 * Applies op to the entry oid of the entries in base, or of the entries
 * inside the value of entry parent when parent is not NULL. Takes value.
 */
static der_buf edit_entries(const der_buf *base, const char *parent, const char *oid,
                            enum edit_op op, ASN1_TYPE *value)
{
    ASN1_SEQUENCE_ANY *entries = decode_entries(base);

    if (parent != NULL) {
        int index = find_entry(entries, parent);
        assert_true(index >= 0);
        char text[96];
        der_buf inner = entry_inner(sk_ASN1_TYPE_value(entries, index), text, sizeof(text));
        der_buf edited = edit_entries(&inner, NULL, oid, op, value);
        replace_entry(entries, index, entry_value(parent, sequence_value(&edited)));
        free(inner.data);
        free(edited.data);
    } else if (op == EDIT_APPEND) {
        assert_true(sk_ASN1_TYPE_push(entries, entry_value(oid, value)) > 0);
    } else {
        int index = find_entry(entries, oid);
        assert_true(index >= 0);
        if (op == EDIT_REPLACE) {
            replace_entry(entries, index, entry_value(oid, value));
        } else if (op == EDIT_REMOVE) {
            ASN1_TYPE_free(sk_ASN1_TYPE_delete(entries, index));
        } else {
            ASN1_TYPE *copy = ASN1_TYPE_new();
            assert_non_null(copy);
            const ASN1_STRING *raw = sk_ASN1_TYPE_value(entries, index)->value.sequence;
            ASN1_TYPE_set1(copy, V_ASN1_SEQUENCE, raw);
            assert_true(sk_ASN1_TYPE_push(entries, copy) > 0);
        }
    }

    der_buf der = encode_entries(entries);
    sk_ASN1_TYPE_pop_free(entries, ASN1_TYPE_free);
    return der;
}

static ASN1_TYPE *make_none(int64_t unused)
{
    (void)unused;
    return NULL;
}

static ASN1_TYPE *make_integer(int64_t number)
{
    ASN1_INTEGER *integer = ASN1_INTEGER_new();
    assert_non_null(integer);
    assert_int_equal(ASN1_INTEGER_set_int64(integer, number), 1);
    ASN1_TYPE *value = ASN1_TYPE_new();
    assert_non_null(value);
    ASN1_TYPE_set(value, V_ASN1_INTEGER, integer);
    return value;
}

/* An INTEGER of 2^bits. */
static ASN1_TYPE *make_power_of_two(int64_t bits)
{
    BIGNUM *number = BN_new();
    assert_non_null(number);
    assert_int_equal(BN_set_bit(number, (int)bits), 1);
    ASN1_INTEGER *integer = BN_to_ASN1_INTEGER(number, NULL);
    assert_non_null(integer);
    BN_free(number);
    ASN1_TYPE *value = ASN1_TYPE_new();
    assert_non_null(value);
    ASN1_TYPE_set(value, V_ASN1_INTEGER, integer);
    return value;
}

static ASN1_TYPE *make_octets(int64_t size)
{
    ASN1_OCTET_STRING *octets = ASN1_OCTET_STRING_new();
    assert_non_null(octets);
    uint8_t bytes[64] = {0};
    assert_true(size >= 0 && (size_t)size <= sizeof(bytes));
    assert_int_equal(ASN1_OCTET_STRING_set(octets, bytes, (int)size), 1);
    ASN1_TYPE *value = ASN1_TYPE_new();
    assert_non_null(value);
    ASN1_TYPE_set(value, V_ASN1_OCTET_STRING, octets);
    return value;
}

static ASN1_TYPE *make_boolean(int64_t truth)
{
    ASN1_TYPE *value = ASN1_TYPE_new();
    assert_non_null(value);
    /* ASN1_TYPE_set stores any non-NULL pointer as TRUE (0xFF) for a BOOLEAN. */
    ASN1_TYPE_set(value, V_ASN1_BOOLEAN, truth ? (void *)value : NULL);
    return value;
}

static ASN1_TYPE *make_null(int64_t unused)
{
    (void)unused;
    ASN1_TYPE *value = ASN1_TYPE_new();
    assert_non_null(value);
    ASN1_TYPE_set(value, V_ASN1_NULL, NULL);
    return value;
}

static const struct {
    const char *change;
    enum base_quote base;
    const char *parent;
    const char *oid;
    enum edit_op op;
    ASN1_TYPE *(*make)(int64_t argument);
    int64_t argument;
    const char *expected;
} openssl_edit_cases[] = {
    {"TCB PCESVN replaced by INTEGER 65536", PHALA_SGX, SGX ".2", SGX ".2.17", EDIT_REPLACE,
     make_integer, 65536, "SGX extension TCB PCESVN: expected INTEGER 0..65535, got 65536"},
    {"TCB component 16 SVN replaced by INTEGER 2^70", PHALA_SGX, SGX ".2", SGX ".2.16",
     EDIT_REPLACE, make_power_of_two, 70,
     "SGX extension TCB component 16 SVN: expected INTEGER 0..255, got a value beyond 64 bits"},
    {"TCB component 3 SVN replaced by OCTET STRING of 1 byte", PHALA_SGX, SGX ".2", SGX ".2.3",
     EDIT_REPLACE, make_octets, 1,
     "SGX extension TCB component 3 SVN: expected INTEGER 0..255, got OCTET STRING"},
    {"TCB CPUSVN replaced by OCTET STRING of 15 bytes", PHALA_SGX, SGX ".2", SGX ".2.18",
     EDIT_REPLACE, make_octets, 15,
     "SGX extension TCB CPUSVN: expected OCTET STRING of 16 bytes, got 15"},
    {"TCB component 16 SVN removed", PHALA_SGX, SGX ".2", SGX ".2.16", EDIT_REMOVE, make_none, 0,
     "SGX extension TCB component 16 SVN: missing"},
    {"TCB CPUSVN removed", PHALA_SGX, SGX ".2", SGX ".2.18", EDIT_REMOVE, make_none, 0,
     "SGX extension TCB CPUSVN: missing"},
    {"TCB PCESVN appended a second time", PHALA_SGX, SGX ".2", SGX ".2.17", EDIT_DUPLICATE,
     make_none, 0, "SGX extension TCB PCESVN: duplicate entry"},
    {"TCB replaced by OCTET STRING of 16 bytes", PHALA_SGX, NULL, SGX ".2", EDIT_REPLACE,
     make_octets, 16, "SGX extension TCB: expected SEQUENCE, got OCTET STRING"},
    {"TCB removed", PHALA_SGX, NULL, SGX ".2", EDIT_REMOVE, make_none, 0,
     "SGX extension TCB: missing"},
    {"TCB appended a second time", PHALA_SGX, NULL, SGX ".2", EDIT_DUPLICATE, make_none, 0,
     "SGX extension TCB: duplicate entry"},
    {"PPID removed", PHALA_SGX, NULL, SGX ".1", EDIT_REMOVE, make_none, 0,
     "SGX extension PPID: missing"},
    {"PPID replaced by OCTET STRING of 17 bytes", PHALA_SGX, NULL, SGX ".1", EDIT_REPLACE,
     make_octets, 17, "SGX extension PPID: expected OCTET STRING of 16 bytes, got 17"},
    {"PCE-ID removed", PHALA_SGX, NULL, SGX ".3", EDIT_REMOVE, make_none, 0,
     "SGX extension PCE-ID: missing"},
    {"PCE-ID replaced by OCTET STRING of 3 bytes", PHALA_SGX, NULL, SGX ".3", EDIT_REPLACE,
     make_octets, 3, "SGX extension PCE-ID: expected OCTET STRING of 2 bytes, got 3"},
    {"FMSPC removed", PHALA_SGX, NULL, SGX ".4", EDIT_REMOVE, make_none, 0,
     "SGX extension FMSPC: missing"},
    {"FMSPC replaced by OCTET STRING of 5 bytes", PHALA_SGX, NULL, SGX ".4", EDIT_REPLACE,
     make_octets, 5, "SGX extension FMSPC: expected OCTET STRING of 6 bytes, got 5"},
    {"FMSPC appended a second time", PHALA_SGX, NULL, SGX ".4", EDIT_DUPLICATE, make_none, 0,
     "SGX extension FMSPC: duplicate entry"},
    {"SGX type removed", PHALA_SGX, NULL, SGX ".5", EDIT_REMOVE, make_none, 0,
     "SGX extension SGX type: missing"},
    {"SGX type replaced by NULL", PHALA_SGX, NULL, SGX ".5", EDIT_REPLACE, make_null, 0,
     "SGX extension SGX type: expected ENUMERATED 0..2, got NULL"},
    {"platform instance ID of 15 bytes appended to a Processor CA extension", PHALA_SGX, NULL,
     SGX ".6", EDIT_APPEND, make_octets, 15,
     "SGX extension platform instance ID: expected OCTET STRING of 16 bytes, got 15"},
    {"platform instance ID appended a second time", TRUSTEE_TDX, NULL, SGX ".6",
     EDIT_DUPLICATE, make_none, 0, "SGX extension platform instance ID: duplicate entry"},
    {"configuration replaced by BOOLEAN", TRUSTEE_TDX, NULL, SGX ".7", EDIT_REPLACE,
     make_boolean, 1, "SGX extension configuration: expected SEQUENCE, got BOOLEAN"},
    {"configuration appended a second time", TRUSTEE_TDX, NULL, SGX ".7", EDIT_DUPLICATE,
     make_none, 0, "SGX extension configuration: duplicate entry"},
    {"configuration cached keys replaced by NULL", TRUSTEE_TDX, SGX ".7", SGX ".7.2",
     EDIT_REPLACE, make_null, 0,
     "SGX extension configuration cached keys: expected BOOLEAN, got NULL"},
    {"configuration SMT enabled appended a second time", TRUSTEE_TDX, SGX ".7", SGX ".7.3",
     EDIT_DUPLICATE, make_none, 0, "SGX extension configuration SMT enabled: duplicate entry"},
};

static void pck_extension_openssl_edits(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(openssl_edit_cases) / sizeof(openssl_edit_cases[0]); i++) {
        print_message("OpenSSL edit: %s\n", openssl_edit_cases[i].change);
        der_buf base = load_real_extension(base_quotes[openssl_edit_cases[i].base]);
        der_buf edited = edit_entries(&base, openssl_edit_cases[i].parent,
                                      openssl_edit_cases[i].oid, openssl_edit_cases[i].op,
                                      openssl_edit_cases[i].make(openssl_edit_cases[i].argument));
        expect_error(&edited, openssl_edit_cases[i].expected);
        free(edited.data);
        free(base.data);
    }
}

/* The edit machinery itself: re-encoding an unedited value gives the same bytes. */
static void pck_extension_reencoding_is_identity(void **state)
{
    (void)state;
    der_buf base = load_real_extension("tdx/trustee-debug-v4.quote");
    ASN1_SEQUENCE_ANY *entries = decode_entries(&base);
    der_buf again = encode_entries(entries);
    assert_int_equal(again.size, base.size);
    assert_memory_equal(again.data, base.data, base.size);
    sk_ASN1_TYPE_pop_free(entries, ASN1_TYPE_free);
    free(again.data);
    free(base.data);
}

/* ---- entries that are allowed ---- */

static void pck_extension_unknown_entries_skipped(void **state)
{
    (void)state;
    der_buf base = load_real_extension("sgx/phala-sgx-v3.quote");
    der_buf with_arc_8 = edit_entries(&base, NULL, SGX ".8", EDIT_APPEND, make_null(0));
    der_buf with_foreign = edit_entries(&with_arc_8, NULL, "1.2.3.4", EDIT_APPEND,
                                        make_octets(3));

    attest_pck_info info = expect_parse(&with_foreign);
    expect_bytes(info.fmspc, "00a067110000");
    assert_int_equal(info.pcesvn, 13);
    assert_false(info.has_platform_instance_id);

    der_buf twice = edit_entries(&with_foreign, NULL, SGX ".8", EDIT_APPEND, make_null(0));
    info = expect_parse(&twice);
    expect_bytes(info.fmspc, "00a067110000");

    free(twice.data);
    free(with_foreign.data);
    free(with_arc_8.data);
    free(base.data);
}

static void pck_extension_unknown_configuration_entry_skipped(void **state)
{
    (void)state;
    der_buf base = load_real_extension("tdx/google-spr-e4-v4.quote");
    der_buf edited = edit_entries(&base, SGX ".7", SGX ".7.4", EDIT_APPEND, make_boolean(1));
    attest_pck_info info = expect_parse(&edited);
    assert_true(info.dynamic_platform);
    assert_false(info.cached_keys);
    assert_true(info.smt_enabled);
    free(edited.data);
    free(base.data);
}

static void pck_extension_unknown_tcb_entry_rejected(void **state)
{
    (void)state;
    der_buf base = load_real_extension("sgx/phala-sgx-v3.quote");
    der_buf edited = edit_entries(&base, SGX ".2", SGX ".2.19", EDIT_APPEND, make_integer(1));
    expect_error(&edited, "SGX extension TCB entry 19: unknown OID " SGX ".2.19");
    free(edited.data);
    free(base.data);
}

/* Configuration entries are each optional: without them all flags read false. */
static void pck_extension_configuration_entries_optional(void **state)
{
    (void)state;
    der_buf base = load_real_extension("tdx/trustee-debug-v4.quote");
    der_buf without_1 = edit_entries(&base, SGX ".7", SGX ".7.1", EDIT_REMOVE, NULL);
    der_buf without_2 = edit_entries(&without_1, SGX ".7", SGX ".7.2", EDIT_REMOVE, NULL);
    der_buf without_3 = edit_entries(&without_2, SGX ".7", SGX ".7.3", EDIT_REMOVE, NULL);

    attest_pck_info info = expect_parse(&without_2);
    assert_false(info.dynamic_platform);
    assert_false(info.cached_keys);
    assert_true(info.smt_enabled);

    info = expect_parse(&without_3);
    assert_true(info.has_configuration);
    assert_false(info.dynamic_platform);
    assert_false(info.cached_keys);
    assert_false(info.smt_enabled);

    free(without_3.data);
    free(without_2.data);
    free(without_1.data);
    free(base.data);
}

/* Boundary values that are allowed: SVN 255, PCESVN 65535, SGX type 2. */
static void pck_extension_boundary_values(void **state)
{
    (void)state;
    der_buf base = load_real_extension("sgx/phala-sgx-v3.quote");
    der_buf svn = edit_entries(&base, SGX ".2", SGX ".2.16", EDIT_REPLACE, make_integer(255));
    der_buf pcesvn = edit_entries(&svn, SGX ".2", SGX ".2.17", EDIT_REPLACE,
                                  make_integer(65535));

    ASN1_ENUMERATED *enumerated = ASN1_ENUMERATED_new();
    assert_non_null(enumerated);
    assert_int_equal(ASN1_ENUMERATED_set_int64(enumerated, 2), 1);
    ASN1_TYPE *sgx_type = ASN1_TYPE_new();
    assert_non_null(sgx_type);
    ASN1_TYPE_set(sgx_type, V_ASN1_ENUMERATED, enumerated);
    der_buf type_2 = edit_entries(&pcesvn, NULL, SGX ".5", EDIT_REPLACE, sgx_type);

    attest_pck_info info = expect_parse(&type_2);
    assert_int_equal(info.tcb_components[15], 255);
    assert_int_equal(info.pcesvn, 65535);
    assert_int_equal(info.sgx_type, ATTEST_SGX_TYPE_SCALABLE_WITH_INTEGRITY);

    free(type_2.data);
    free(pcesvn.data);
    free(svn.data);
    free(base.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pck_extension_phala_sgx_processor_ca),
        cmocka_unit_test(pck_extension_trustee_tdx_platform_ca),
        cmocka_unit_test(pck_extension_google_spr_configuration),
        cmocka_unit_test(pck_extension_every_real_quote),
        cmocka_unit_test(pck_extension_every_truncation),
        cmocka_unit_test(pck_extension_byte_edits),
        cmocka_unit_test(pck_extension_trailing_byte),
        cmocka_unit_test(pck_extension_indefinite_length),
        cmocka_unit_test(pck_extension_long_form_length),
        cmocka_unit_test(pck_extension_size_limit),
        cmocka_unit_test(pck_extension_null_output),
        cmocka_unit_test(pck_extension_reencoding_is_identity),
        cmocka_unit_test(pck_extension_openssl_edits),
        cmocka_unit_test(pck_extension_unknown_entries_skipped),
        cmocka_unit_test(pck_extension_unknown_configuration_entry_skipped),
        cmocka_unit_test(pck_extension_unknown_tcb_entry_rejected),
        cmocka_unit_test(pck_extension_configuration_entries_optional),
        cmocka_unit_test(pck_extension_boundary_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
