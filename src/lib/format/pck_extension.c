/*
 * Decoder of the Intel SGX extension of a PCK certificate (include/attest/pck.h).
 *
 * OpenSSL's ASN.1 decoder reads each SEQUENCE level as a stack of ASN1_TYPE.
 * Every SEQUENCE is encoded again and compared with its input bytes, so only
 * DER passes: no indefinite lengths, no long-form lengths where a short one
 * fits, no padded INTEGERs.
 *
 * Caveats: CPUSVN is not compared with the 16 component SVNs, because how
 * the components derive from CPUSVN depends on the TCB type that the TCB
 * info states. The values are decoded only; the certificate chain that
 * vouches for them is checked elsewhere (attest_verify_quote).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>

#include <attest/pck.h>

/* Real extensions are below 600 bytes, so a DER value past this limit is rejected. */
#define PCK_EXTENSION_MAX_SIZE 16384

#define TCB_PCESVN_INDEX 17
#define TCB_CPUSVN_INDEX 18
#define TCB_ENTRY_COUNT 18

/* Entries of the extension, numbered as the last arc of their OID. */
enum sgx_entry {
    SGX_ENTRY_PPID = 1,
    SGX_ENTRY_TCB = 2,
    SGX_ENTRY_PCE_ID = 3,
    SGX_ENTRY_FMSPC = 4,
    SGX_ENTRY_SGX_TYPE = 5,
    SGX_ENTRY_PLATFORM_INSTANCE_ID = 6,
    SGX_ENTRY_CONFIGURATION = 7,
    SGX_ENTRY_MAX = 7,
};

static const char *const sgx_entry_names[SGX_ENTRY_MAX + 1] = {
    [SGX_ENTRY_PPID] = "PPID",
    [SGX_ENTRY_TCB] = "TCB",
    [SGX_ENTRY_PCE_ID] = "PCE-ID",
    [SGX_ENTRY_FMSPC] = "FMSPC",
    [SGX_ENTRY_SGX_TYPE] = "SGX type",
    [SGX_ENTRY_PLATFORM_INSTANCE_ID] = "platform instance ID",
    [SGX_ENTRY_CONFIGURATION] = "configuration",
};

/* Entries of the configuration SEQUENCE (OID arc 7.x). */
enum config_entry {
    CONFIG_DYNAMIC_PLATFORM = 1,
    CONFIG_CACHED_KEYS = 2,
    CONFIG_SMT_ENABLED = 3,
    CONFIG_MAX = 3,
};

static const char *const config_entry_names[CONFIG_MAX + 1] = {
    [CONFIG_DYNAMIC_PLATFORM] = "dynamic platform",
    [CONFIG_CACHED_KEYS] = "cached keys",
    [CONFIG_SMT_ENABLED] = "SMT enabled",
};

/* Returns the ASN.1 name of a universal tag, such as "OCTET STRING". */
static const char *type_name(int type)
{
    if (type < 0 || type > 30) {
        return "a non-universal type";
    }
    return ASN1_tag2str(type);
}

/*
 * Decodes der[0..size) as one DER SEQUENCE into out_sequence, which the
 * caller frees with sk_ASN1_TYPE_pop_free(..., ASN1_TYPE_free).
 */
static attest_err decode_sequence(const char *label, const uint8_t *der, size_t size,
                                  ASN1_SEQUENCE_ANY **out_sequence, attest_diag *diag)
{
    const unsigned char *cursor = der;
    ASN1_SEQUENCE_ANY *sequence = d2i_ASN1_SEQUENCE_ANY(NULL, &cursor, (long)size);
    if (sequence == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "%s: not a valid DER SEQUENCE (%zu bytes)", label, size);
    }

    size_t used = (size_t)(cursor - der);
    if (used != size) {
        sk_ASN1_TYPE_pop_free(sequence, ASN1_TYPE_free);
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "%s: the SEQUENCE ends at byte %zu of %zu", label, used, size);
    }

    /* OpenSSL also accepts BER, so only input that encodes back to itself is DER. */
    unsigned char *encoded = NULL;
    int encoded_size = i2d_ASN1_SEQUENCE_ANY(sequence, &encoded);
    bool is_der = encoded_size >= 0 && (size_t)encoded_size == size &&
                  memcmp(encoded, der, size) == 0;
    OPENSSL_free(encoded);
    if (!is_der) {
        sk_ASN1_TYPE_pop_free(sequence, ASN1_TYPE_free);
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "%s: SEQUENCE is BER but not DER", label);
    }

    *out_sequence = sequence;
    return ATTEST_OK;
}

/* Decodes the SEQUENCE that value contains, after checking its type. */
static attest_err decode_nested_sequence(const char *label, const ASN1_TYPE *value,
                                         ASN1_SEQUENCE_ANY **out_sequence, attest_diag *diag)
{
    if (value->type != V_ASN1_SEQUENCE) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: expected SEQUENCE, got %s",
                               label, type_name(value->type));
    }
    const ASN1_STRING *raw = value->value.sequence;
    return decode_sequence(label, ASN1_STRING_get0_data(raw), (size_t)ASN1_STRING_length(raw),
                           out_sequence, diag);
}

/*
 * Decodes element as an entry SEQUENCE { OID, value }. out_pair owns what
 * out_oid and out_value point to, and the caller frees it.
 */
static attest_err decode_entry(const char *label, const ASN1_TYPE *element,
                               ASN1_SEQUENCE_ANY **out_pair, const ASN1_OBJECT **out_oid,
                               const ASN1_TYPE **out_value, attest_diag *diag)
{
    ASN1_SEQUENCE_ANY *pair = NULL;
    attest_err err = decode_nested_sequence(label, element, &pair, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    int count = sk_ASN1_TYPE_num(pair);
    if (count != 2 || sk_ASN1_TYPE_value(pair, 0)->type != V_ASN1_OBJECT) {
        sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "%s: expected SEQUENCE { OBJECT, value }", label);
    }

    *out_oid = sk_ASN1_TYPE_value(pair, 0)->value.object;
    *out_value = sk_ASN1_TYPE_value(pair, 1);
    *out_pair = pair;
    return ATTEST_OK;
}

/*
 * DER contents of the OID 1.2.840.113741.1.13.1 (ATTEST_SGX_EXTENSION_OID)
 * and of its TCB (.2) and configuration (.7) arcs. Comparing these bytes
 * spares converting every OID to text, which dominated the parse time.
 */
static const uint8_t sgx_oid_der[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
static const uint8_t tcb_oid_der[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x02};
static const uint8_t configuration_oid_der[] = {0x2a, 0x86, 0x48, 0x86, 0xf8,
                                                0x4d, 0x01, 0x0d, 0x01, 0x07};

/*
 * Returns n when oid is "<prefix>.n" with 1 <= n <= max (max below 128, so
 * n is one DER byte), else 0. On 0, writes the OID's dotted text to text for
 * the error message.
 */
static int oid_arc_under(const ASN1_OBJECT *oid, const uint8_t *prefix, size_t prefix_size,
                         int max, char *text, size_t text_size)
{
    const unsigned char *data = OBJ_get0_data(oid);
    size_t size = OBJ_length(oid);
    if (data != NULL && size == prefix_size + 1 && memcmp(data, prefix, prefix_size) == 0 &&
        data[prefix_size] >= 1 && data[prefix_size] <= max) {
        return data[prefix_size];
    }
    int length = OBJ_obj2txt(text, (int)text_size, oid, 1);
    if (length <= 0 || (size_t)length >= text_size) {
        snprintf(text, text_size, "(unprintable)");
    }
    return 0;
}

static attest_err read_octets(const char *label, const ASN1_TYPE *value, uint8_t *out,
                              size_t size, attest_diag *diag)
{
    if (value->type != V_ASN1_OCTET_STRING) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "%s: expected OCTET STRING of %zu bytes, got %s", label, size,
                               type_name(value->type));
    }
    int length = ASN1_STRING_length(value->value.octet_string);
    if (length < 0 || (size_t)length != size) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "%s: expected OCTET STRING of %zu bytes, got %d", label, size,
                               length);
    }
    memcpy(out, ASN1_STRING_get0_data(value->value.octet_string), size);
    return ATTEST_OK;
}

/* Reads an INTEGER or ENUMERATED (type) in 0..max. */
static attest_err read_unsigned(const char *label, const ASN1_TYPE *value, int type,
                                int64_t max, int64_t *out, attest_diag *diag)
{
    if (value->type != type) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: expected %s 0..%lld, got %s",
                               label, type_name(type), (long long)max,
                               type_name(value->type));
    }

    int64_t number = 0;
    int ok = type == V_ASN1_ENUMERATED
                 ? ASN1_ENUMERATED_get_int64(&number, value->value.enumerated)
                 : ASN1_INTEGER_get_int64(&number, value->value.integer);
    if (ok != 1) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "%s: expected %s 0..%lld, got a value beyond 64 bits", label,
                               type_name(type), (long long)max);
    }
    if (number < 0 || number > max) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: expected %s 0..%lld, got %lld",
                               label, type_name(type), (long long)max, (long long)number);
    }
    *out = number;
    return ATTEST_OK;
}

static attest_err read_boolean(const char *label, const ASN1_TYPE *value, bool *out,
                               attest_diag *diag)
{
    if (value->type != V_ASN1_BOOLEAN) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: expected BOOLEAN, got %s",
                               label, type_name(value->type));
    }

    /* OpenSSL keeps the content byte; DER allows only 0x00 and 0xFF. */
    if (value->value.boolean != 0 && value->value.boolean != 0xff) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "%s: BOOLEAN content 0x%02x is not DER (0x00 or 0xFF)", label,
                               (unsigned)value->value.boolean & 0xffu);
    }
    *out = value->value.boolean != 0;
    return ATTEST_OK;
}

/* Names TCB entry arc (1..18) for messages, such as "TCB component 3 SVN". */
static void tcb_entry_label(int arc, char *label, size_t label_size)
{
    if (arc == TCB_PCESVN_INDEX) {
        snprintf(label, label_size, "SGX extension TCB PCESVN");
    } else if (arc == TCB_CPUSVN_INDEX) {
        snprintf(label, label_size, "SGX extension TCB CPUSVN");
    } else {
        snprintf(label, label_size, "SGX extension TCB component %d SVN", arc);
    }
}

static attest_err read_tcb_entry(int arc, const ASN1_TYPE *value, attest_pck_info *info,
                                 attest_diag *diag)
{
    char label[64];
    tcb_entry_label(arc, label, sizeof(label));

    if (arc == TCB_CPUSVN_INDEX) {
        return read_octets(label, value, info->cpusvn, sizeof(info->cpusvn), diag);
    }

    int64_t number = 0;
    int64_t max = arc == TCB_PCESVN_INDEX ? UINT16_MAX : UINT8_MAX;
    attest_err err = read_unsigned(label, value, V_ASN1_INTEGER, max, &number, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (arc == TCB_PCESVN_INDEX) {
        info->pcesvn = (uint16_t)number;
    } else {
        info->tcb_components[arc - 1] = (uint8_t)number;
    }
    return ATTEST_OK;
}

/*
 * Reads the TCB SEQUENCE: 16 component SVNs, PCESVN and CPUSVN, each exactly
 * once. Unknown entries are rejected here, unlike at the top level, because
 * TCB level matching needs exactly these 18 values.
 */
static attest_err read_tcb(const ASN1_TYPE *value, attest_pck_info *info, attest_diag *diag)
{
    ASN1_SEQUENCE_ANY *entries = NULL;
    attest_err err = decode_nested_sequence("SGX extension TCB", value, &entries, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    bool seen[TCB_ENTRY_COUNT + 1] = {false};
    for (int i = 0; i < sk_ASN1_TYPE_num(entries) && err == ATTEST_OK; i++) {
        char label[64];
        snprintf(label, sizeof(label), "SGX extension TCB entry %d", i + 1);

        ASN1_SEQUENCE_ANY *pair = NULL;
        const ASN1_OBJECT *oid = NULL;
        const ASN1_TYPE *entry_value = NULL;
        err = decode_entry(label, sk_ASN1_TYPE_value(entries, i), &pair, &oid, &entry_value,
                           diag);
        if (err != ATTEST_OK) {
            break;
        }

        char oid_text[96];
        int arc = oid_arc_under(oid, tcb_oid_der, sizeof(tcb_oid_der), TCB_ENTRY_COUNT,
                                oid_text, sizeof(oid_text));
        if (arc == 0) {
            err = attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: unknown OID %s", label,
                                  oid_text);
        } else if (seen[arc]) {
            tcb_entry_label(arc, label, sizeof(label));
            err = attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: duplicate entry", label);
        } else {
            seen[arc] = true;
            err = read_tcb_entry(arc, entry_value, info, diag);
        }
        sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    }
    sk_ASN1_TYPE_pop_free(entries, ASN1_TYPE_free);
    if (err != ATTEST_OK) {
        return err;
    }

    for (int arc = 1; arc <= TCB_ENTRY_COUNT; arc++) {
        if (!seen[arc]) {
            char label[64];
            tcb_entry_label(arc, label, sizeof(label));
            return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: missing", label);
        }
    }
    return ATTEST_OK;
}

/*
 * Reads the configuration SEQUENCE of a Platform CA certificate. Each of its
 * three BOOLEAN entries is optional, and an absent one reads as false.
 * Unknown entries are skipped, as at the top level.
 */
static attest_err read_configuration(const ASN1_TYPE *value, attest_pck_info *info,
                                     attest_diag *diag)
{
    ASN1_SEQUENCE_ANY *entries = NULL;
    attest_err err = decode_nested_sequence("SGX extension configuration", value, &entries, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    bool seen[CONFIG_MAX + 1] = {false};
    for (int i = 0; i < sk_ASN1_TYPE_num(entries) && err == ATTEST_OK; i++) {
        char label[64];
        snprintf(label, sizeof(label), "SGX extension configuration entry %d", i + 1);

        ASN1_SEQUENCE_ANY *pair = NULL;
        const ASN1_OBJECT *oid = NULL;
        const ASN1_TYPE *entry_value = NULL;
        err = decode_entry(label, sk_ASN1_TYPE_value(entries, i), &pair, &oid, &entry_value,
                           diag);
        if (err != ATTEST_OK) {
            break;
        }

        char oid_text[96];
        int arc = oid_arc_under(oid, configuration_oid_der, sizeof(configuration_oid_der),
                                CONFIG_MAX, oid_text, sizeof(oid_text));
        if (arc != 0) {
            snprintf(label, sizeof(label), "SGX extension configuration %s",
                     config_entry_names[arc]);
        }
        if (arc != 0 && seen[arc]) {
            err = attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: duplicate entry", label);
        } else if (arc != 0) {
            seen[arc] = true;
            bool *flags[CONFIG_MAX + 1] = {
                [CONFIG_DYNAMIC_PLATFORM] = &info->dynamic_platform,
                [CONFIG_CACHED_KEYS] = &info->cached_keys,
                [CONFIG_SMT_ENABLED] = &info->smt_enabled,
            };
            err = read_boolean(label, entry_value, flags[arc], diag);
        }
        sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    }
    sk_ASN1_TYPE_pop_free(entries, ASN1_TYPE_free);
    if (err != ATTEST_OK) {
        return err;
    }

    info->has_configuration = true;
    return ATTEST_OK;
}

static attest_err read_sgx_entry(int arc, const ASN1_TYPE *value, attest_pck_info *info,
                                 attest_diag *diag)
{
    char label[64];
    snprintf(label, sizeof(label), "SGX extension %s", sgx_entry_names[arc]);

    int64_t sgx_type = 0;
    attest_err err = ATTEST_OK;
    switch ((enum sgx_entry)arc) {
    case SGX_ENTRY_PPID:
        return read_octets(label, value, info->ppid, sizeof(info->ppid), diag);
    case SGX_ENTRY_TCB:
        return read_tcb(value, info, diag);
    case SGX_ENTRY_PCE_ID:
        return read_octets(label, value, info->pce_id, sizeof(info->pce_id), diag);
    case SGX_ENTRY_FMSPC:
        return read_octets(label, value, info->fmspc, sizeof(info->fmspc), diag);
    case SGX_ENTRY_SGX_TYPE:
        err = read_unsigned(label, value, V_ASN1_ENUMERATED,
                            ATTEST_SGX_TYPE_SCALABLE_WITH_INTEGRITY, &sgx_type, diag);
        if (err == ATTEST_OK) {
            info->sgx_type = (attest_sgx_type)sgx_type;
        }
        return err;
    case SGX_ENTRY_PLATFORM_INSTANCE_ID:
        err = read_octets(label, value, info->platform_instance_id,
                          sizeof(info->platform_instance_id), diag);
        info->has_platform_instance_id = err == ATTEST_OK;
        return err;
    case SGX_ENTRY_CONFIGURATION:
        return read_configuration(value, info, diag);
    }
    return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "%s: unhandled entry", label);
}

/*
 * Reads one top-level entry, marking it in seen. An entry with an OID that
 * is not one of the seven known is skipped once its { OID, value } shape is
 * checked.
 */
static attest_err read_top_entry(int index, const ASN1_TYPE *element, bool *seen,
                                 attest_pck_info *info, attest_diag *diag)
{
    char label[64];
    snprintf(label, sizeof(label), "SGX extension entry %d", index + 1);

    ASN1_SEQUENCE_ANY *pair = NULL;
    const ASN1_OBJECT *oid = NULL;
    const ASN1_TYPE *value = NULL;
    attest_err err = decode_entry(label, element, &pair, &oid, &value, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    /*
     * NOTE: unknown entries are skipped because Intel has added optional
     * entries to this extension before: arcs 6 and 7 were redefined as the
     * platform instance ID and configuration. Parsers that rejected unknown
     * entries failed on the first certificates that carried them.
     */
    char oid_text[96];
    int arc = oid_arc_under(oid, sgx_oid_der, sizeof(sgx_oid_der), SGX_ENTRY_MAX, oid_text,
                            sizeof(oid_text));
    if (arc != 0 && seen[arc]) {
        err = attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "SGX extension %s: duplicate entry",
                              sgx_entry_names[arc]);
    } else if (arc != 0) {
        seen[arc] = true;
        err = read_sgx_entry(arc, value, info, diag);
    }
    sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    return err;
}

attest_err attest_pck_extension_parse(const uint8_t *der, size_t size, attest_pck_info *out_info,
                                      attest_diag *diag)
{
    if (out_info == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "SGX extension: no output given");
    }
    if (der == NULL || size == 0) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "SGX extension: empty value");
    }
    if (size > PCK_EXTENSION_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION,
                               "SGX extension: %zu bytes exceed the limit of %d", size,
                               PCK_EXTENSION_MAX_SIZE);
    }

    ASN1_SEQUENCE_ANY *entries = NULL;
    attest_err err = decode_sequence("SGX extension", der, size, &entries, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_pck_info info;
    memset(&info, 0, sizeof(info));
    bool seen[SGX_ENTRY_MAX + 1] = {false};
    for (int i = 0; i < sk_ASN1_TYPE_num(entries) && err == ATTEST_OK; i++) {
        err = read_top_entry(i, sk_ASN1_TYPE_value(entries, i), seen, &info, diag);
    }
    sk_ASN1_TYPE_pop_free(entries, ASN1_TYPE_free);
    if (err != ATTEST_OK) {
        return err;
    }

    /* Entries 1 to 5 are mandatory. Only Platform CA certificates carry 6 and 7. */
    for (int arc = SGX_ENTRY_PPID; arc <= SGX_ENTRY_SGX_TYPE; arc++) {
        if (!seen[arc]) {
            return attest_diag_set(diag, ATTEST_ERR_PCK_EXTENSION, "SGX extension %s: missing",
                                   sgx_entry_names[arc]);
        }
    }

    *out_info = info;
    return ATTEST_OK;
}
