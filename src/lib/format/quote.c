/*
 * Framing of Intel DCAP ECDSA quotes (versions 3, 4 and 5), parse and
 * serialize side by side. See quote.h for the layout.
 *
 * Caveats: certification data types 1 to 4 (encrypted PPID forms) are
 * rejected, because they carry no PCK chain to verify; a verifier would need
 * the PCK certificate from a PCCS for them.
 */
#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <attest/quote.h>

#include "util/file.h"
#include "util/hex.h"
#include "util/reader.h"

static_assert(ATTEST_QUOTE_HEADER_SIZE == 48, "quote header is 48 bytes");
static_assert(ATTEST_SGX_REPORT_BODY_SIZE == 16 + 4 + 12 + 16 + 16 + 32 + 32 + 32 + 32 + 64 +
                                                 2 + 2 + 2 + 42 + 16 + 64,
              "SGX report body is 384 bytes");
static_assert(ATTEST_TD10_REPORT_BODY_SIZE == 16 + 48 + 48 + 8 + 8 + 8 + 48 * 4 + 48 * 4 + 64,
              "TD 1.0 report body is 584 bytes");
static_assert(ATTEST_TD15_REPORT_BODY_SIZE == ATTEST_TD10_REPORT_BODY_SIZE + 16 + 48,
              "TD 1.5 report body is 648 bytes");

/* Intel's QE vendor id, 939a7233-f79c-4ca9-940a-0db3957f0607. */
static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                               0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

static attest_err truncated(attest_diag *diag, const attest_reader *reader, const char *field,
                            size_t needed)
{
    return attest_diag_set(diag, ATTEST_ERR_QUOTE_TRUNCATED,
                           "quote ends at offset 0x%zx inside %s (%zu bytes needed, %zu left)",
                           attest_reader_position(reader), field, needed,
                           attest_reader_remaining(reader));
}

/* Reads a fixed-size field or returns ATTEST_ERR_QUOTE_TRUNCATED naming it. */
#define READ_BYTES(reader, out, field)                                                       \
    do {                                                                                     \
        if (!attest_reader_bytes((reader), (out), sizeof(out))) {                            \
            return truncated(diag, (reader), (field), sizeof(out));                          \
        }                                                                                    \
    } while (0)

#define READ_U16(reader, out, field)                                                         \
    do {                                                                                     \
        if (!attest_reader_u16((reader), (out))) {                                           \
            return truncated(diag, (reader), (field), 2);                                    \
        }                                                                                    \
    } while (0)

#define READ_U32(reader, out, field)                                                         \
    do {                                                                                     \
        if (!attest_reader_u32((reader), (out))) {                                           \
            return truncated(diag, (reader), (field), 4);                                    \
        }                                                                                    \
    } while (0)

static attest_err parse_header(attest_reader *reader, attest_quote_header *out,
                               attest_diag *diag)
{
    READ_U16(reader, &out->version, "header.version");
    READ_U16(reader, &out->attestation_key_type, "header.attestation_key_type");
    READ_U32(reader, &out->tee_type, "header.tee_type");
    READ_U16(reader, &out->qe_svn, "header.qe_svn");
    READ_U16(reader, &out->pce_svn, "header.pce_svn");
    READ_BYTES(reader, out->qe_vendor_id, "header.qe_vendor_id");
    READ_BYTES(reader, out->user_data, "header.user_data");
    return ATTEST_OK;
}

/* Reads a 384-byte SGX report body (an enclave's report or the QE report). */
static attest_err parse_sgx_body(attest_reader *reader, attest_sgx_report_body *out,
                                 const char *name, attest_diag *diag)
{
    if (attest_reader_remaining(reader) < ATTEST_SGX_REPORT_BODY_SIZE) {
        return truncated(diag, reader, name, ATTEST_SGX_REPORT_BODY_SIZE);
    }
    /* The size was checked once above, so the reads below cannot fail. */
    READ_BYTES(reader, out->cpu_svn, name);
    READ_U32(reader, &out->misc_select, name);
    READ_BYTES(reader, out->reserved1, name);
    READ_BYTES(reader, out->isv_ext_prod_id, name);
    READ_BYTES(reader, out->attributes, name);
    READ_BYTES(reader, out->mr_enclave, name);
    READ_BYTES(reader, out->reserved2, name);
    READ_BYTES(reader, out->mr_signer, name);
    READ_BYTES(reader, out->reserved3, name);
    READ_BYTES(reader, out->config_id, name);
    READ_U16(reader, &out->isv_prod_id, name);
    READ_U16(reader, &out->isv_svn, name);
    READ_U16(reader, &out->config_svn, name);
    READ_BYTES(reader, out->reserved4, name);
    READ_BYTES(reader, out->isv_family_id, name);
    READ_BYTES(reader, out->report_data, name);
    return ATTEST_OK;
}

static attest_err parse_td_body(attest_reader *reader, bool td15, attest_td_report_body *out,
                                attest_diag *diag)
{
    size_t size = td15 ? ATTEST_TD15_REPORT_BODY_SIZE : ATTEST_TD10_REPORT_BODY_SIZE;
    if (attest_reader_remaining(reader) < size) {
        return truncated(diag, reader, "TD report body", size);
    }
    READ_BYTES(reader, out->tee_tcb_svn, "body.tee_tcb_svn");
    READ_BYTES(reader, out->mr_seam, "body.mr_seam");
    READ_BYTES(reader, out->mr_signer_seam, "body.mr_signer_seam");
    READ_BYTES(reader, out->seam_attributes, "body.seam_attributes");
    READ_BYTES(reader, out->td_attributes, "body.td_attributes");
    READ_BYTES(reader, out->xfam, "body.xfam");
    READ_BYTES(reader, out->mr_td, "body.mr_td");
    READ_BYTES(reader, out->mr_config_id, "body.mr_config_id");
    READ_BYTES(reader, out->mr_owner, "body.mr_owner");
    READ_BYTES(reader, out->mr_owner_config, "body.mr_owner_config");
    for (size_t i = 0; i < 4; i++) {
        READ_BYTES(reader, out->rtmr[i], "body.rtmr");
    }
    READ_BYTES(reader, out->report_data, "body.report_data");
    if (td15) {
        READ_BYTES(reader, out->tee_tcb_svn2, "body.tee_tcb_svn2");
        READ_BYTES(reader, out->mr_service_td, "body.mr_service_td");
    } else {
        memset(out->tee_tcb_svn2, 0, sizeof(out->tee_tcb_svn2));
        memset(out->mr_service_td, 0, sizeof(out->mr_service_td));
    }
    return ATTEST_OK;
}

/*
 * Checks the version against the TEE type and reads the body, with the v5
 * body descriptor when present.
 */
static attest_err parse_body(attest_reader *reader, attest_quote *quote, attest_diag *diag)
{
    const attest_quote_header *header = &quote->header;
    bool tdx = header->tee_type == ATTEST_TEE_TYPE_TDX;

    if (header->version == 5) {
        uint16_t body_type = 0;
        uint32_t body_size = 0;
        READ_U16(reader, &body_type, "body descriptor type");
        READ_U32(reader, &body_size, "body descriptor size");

        uint32_t expected_size = 0;
        bool type_matches_tee = false;
        switch (body_type) {
        case ATTEST_BODY_SGX:
            expected_size = ATTEST_SGX_REPORT_BODY_SIZE;
            type_matches_tee = !tdx;
            break;
        case ATTEST_BODY_TD10:
            expected_size = ATTEST_TD10_REPORT_BODY_SIZE;
            type_matches_tee = tdx;
            break;
        case ATTEST_BODY_TD15:
            expected_size = ATTEST_TD15_REPORT_BODY_SIZE;
            type_matches_tee = tdx;
            break;
        default:
            return attest_diag_set(diag, ATTEST_ERR_QUOTE_BODY_TYPE,
                                   "body type %u is not 1 (SGX), 2 (TD 1.0) or 3 (TD 1.5)",
                                   body_type);
        }
        if (!type_matches_tee) {
            return attest_diag_set(diag, ATTEST_ERR_QUOTE_BODY_TYPE,
                                   "body type %u does not fit TEE type 0x%02x", body_type,
                                   header->tee_type);
        }
        if (body_size != expected_size) {
            return attest_diag_set(diag, ATTEST_ERR_QUOTE_BODY_SIZE,
                                   "body size %u does not match body type %u (expected %u)",
                                   body_size, body_type, expected_size);
        }
        quote->body_type = (attest_body_type)body_type;
        quote->body_size = body_size;
    } else {
        if (header->version == 3 && tdx) {
            return attest_diag_set(diag, ATTEST_ERR_QUOTE_TEE_TYPE,
                                   "a version 3 quote is SGX-only, but its TEE type is TDX "
                                   "(0x%02x)",
                                   header->tee_type);
        }
        quote->body_type = tdx ? ATTEST_BODY_TD10 : ATTEST_BODY_SGX;
        quote->body_size = tdx ? ATTEST_TD10_REPORT_BODY_SIZE : ATTEST_SGX_REPORT_BODY_SIZE;
    }

    if (quote->body_type == ATTEST_BODY_SGX) {
        return parse_sgx_body(reader, &quote->body.sgx, "report body", diag);
    }
    return parse_td_body(reader, quote->body_type == ATTEST_BODY_TD15, &quote->body.td, diag);
}

/* Reads a PCK chain (type 5) that must fill its region exactly. */
static attest_err parse_pck_chain_data(attest_reader *reader, attest_quote *quote,
                                       attest_diag *diag)
{
    uint16_t type = 0;
    uint32_t size = 0;
    READ_U16(reader, &type, "certification data type");
    READ_U32(reader, &size, "certification data size");

    if (type != ATTEST_CERT_DATA_PCK_CHAIN) {
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_CERT_DATA_TYPE,
                               "certification data type %u at offset 0x%zx, expected 5 "
                               "(PCK certificate chain)",
                               type, attest_reader_position(reader) - 6);
    }
    if (size != attest_reader_remaining(reader)) {
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_CERT_DATA_SIZE,
                               "certification data size does not match (declared 0x%x, "
                               "present 0x%zx)",
                               size, attest_reader_remaining(reader));
    }
    if (!attest_reader_span(reader, size, &quote->pck_chain)) {
        return truncated(diag, reader, "PCK certificate chain", size);
    }
    quote->pck_chain_size = size;
    return ATTEST_OK;
}

/*
 * Reads the QE report, its signature and the QE authentication data, then
 * the nested PCK chain, which must end exactly at the end of the region.
 */
static attest_err parse_qe_report_region(attest_reader *reader, attest_quote *quote,
                                         attest_diag *diag)
{
    if (attest_reader_remaining(reader) >= ATTEST_SGX_REPORT_BODY_SIZE) {
        quote->qe_report_raw = attest_reader_cursor(reader);
    }
    attest_err err = parse_sgx_body(reader, &quote->qe_report, "QE report", diag);
    if (err != ATTEST_OK) {
        return err;
    }
    READ_BYTES(reader, quote->qe_report_signature, "QE report signature");

    READ_U16(reader, &quote->qe_auth_data_size, "QE authentication data size");
    if (!attest_reader_span(reader, quote->qe_auth_data_size, &quote->qe_auth_data)) {
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_QE_AUTH_SIZE,
                               "QE authentication data size %u exceeds the %zu bytes left at "
                               "offset 0x%zx",
                               quote->qe_auth_data_size, attest_reader_remaining(reader),
                               attest_reader_position(reader));
    }
    return parse_pck_chain_data(reader, quote, diag);
}

static attest_err parse_signature_data(attest_reader *reader, attest_quote *quote,
                                       attest_diag *diag)
{
    READ_BYTES(reader, quote->signature, "quote signature");
    READ_BYTES(reader, quote->attestation_key, "attestation key");

    if (quote->header.version != 3) {
        /* Versions 4 and 5: certification data type 6 wraps the QE report region. */
        uint16_t type = 0;
        uint32_t size = 0;
        READ_U16(reader, &type, "certification data type");
        READ_U32(reader, &size, "certification data size");
        if (type != ATTEST_CERT_DATA_QE_REPORT) {
            return attest_diag_set(diag, ATTEST_ERR_QUOTE_CERT_DATA_TYPE,
                                   "certification data type %u at offset 0x%zx, expected 6 "
                                   "(QE report certification data)",
                                   type, attest_reader_position(reader) - 6);
        }
        if (size != attest_reader_remaining(reader)) {
            return attest_diag_set(diag, ATTEST_ERR_QUOTE_CERT_DATA_SIZE,
                                   "certification data size does not match (declared 0x%x, "
                                   "present 0x%zx)",
                                   size, attest_reader_remaining(reader));
        }
        quote->cert_data_type = type;
        quote->cert_data_size = size;
    }

    /* Version 3 carries the QE report region inline, with a type 5 chain at its end. */
    attest_err err = parse_qe_report_region(reader, quote, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (quote->header.version == 3) {
        quote->cert_data_type = ATTEST_CERT_DATA_PCK_CHAIN;
        quote->cert_data_size = quote->pck_chain_size;
    }
    return ATTEST_OK;
}

attest_err attest_quote_parse(const uint8_t *data, size_t size, attest_quote *out_quote,
                              attest_diag *diag)
{
    if (data == NULL || out_quote == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "quote data or output is NULL");
    }
    if (size > ATTEST_QUOTE_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "quote of %zu bytes exceeds the %d-byte limit",
                               size, ATTEST_QUOTE_MAX_SIZE);
    }

    attest_quote quote;
    memset(&quote, 0, sizeof(quote));
    attest_reader reader = attest_reader_init(data, size);

    attest_err err = parse_header(&reader, &quote.header, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (quote.header.version < 3 || quote.header.version > 5) {
        bool text = data[0] >= 0x20 && data[0] < 0x7f && data[1] >= 0x20 && data[1] < 0x7f;
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_VERSION, "quote version %u is not 3, 4 or 5%s",
                               quote.header.version,
                               text ? " (the data starts with text: a hex quote file must "
                                      "hold only hex digits and whitespace, as xxd -p writes)"
                                    : "");
    }
    if (quote.header.tee_type != ATTEST_TEE_TYPE_SGX &&
        quote.header.tee_type != ATTEST_TEE_TYPE_TDX) {
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_TEE_TYPE,
                               "TEE type 0x%08x is neither SGX (0x00) nor TDX (0x81)",
                               quote.header.tee_type);
    }
    if (quote.header.attestation_key_type != ATTEST_KEY_TYPE_ECDSA_P256) {
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_KEY_TYPE,
                               "attestation key type %u is not ECDSA P-256 (2)",
                               quote.header.attestation_key_type);
    }
    if (memcmp(quote.header.qe_vendor_id, intel_qe_vendor_id, sizeof(intel_qe_vendor_id)) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_QE_VENDOR,
                               "QE vendor id is not Intel's 939a7233f79c4ca9940a0db3957f0607");
    }

    err = parse_body(&reader, &quote, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    quote.signed_data = data;
    quote.signed_size = reader.offset;

    READ_U32(&reader, &quote.signature_data_size, "signature data size");
    attest_reader signature_reader;
    if (!attest_reader_sub(&reader, quote.signature_data_size, &signature_reader)) {
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_SIGNATURE_DATA_SIZE,
                               "signature data size 0x%x exceeds the 0x%zx bytes present "
                               "(is the quote truncated?)",
                               quote.signature_data_size, attest_reader_remaining(&reader));
    }
    err = parse_signature_data(&signature_reader, &quote, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    quote.trailing = attest_reader_cursor(&reader);
    quote.trailing_size = attest_reader_remaining(&reader);
    quote.quote_size = size;
    *out_quote = quote;
    return ATTEST_OK;
}

bool attest_quote_is_tdx(const attest_quote *quote)
{
    return quote->header.tee_type == ATTEST_TEE_TYPE_TDX;
}

bool attest_quote_is_debug(const attest_quote *quote)
{
    if (attest_quote_is_tdx(quote)) {
        /* TD_ATTRIBUTES bit 0 is DEBUG. */
        return (quote->body.td.td_attributes[0] & 0x01) != 0;
    }
    /* SGX ATTRIBUTES.FLAGS bit 1 is DEBUG. */
    return (quote->body.sgx.attributes[0] & 0x02) != 0;
}

/* A bounded writer: every put is checked against the capacity. */
typedef struct quote_writer {
    uint8_t *out; /* NULL when only counting */
    size_t capacity;
    size_t size;
    bool overflow;
} quote_writer;

static void put_bytes(quote_writer *writer, const void *data, size_t count)
{
    if (writer->out != NULL) {
        if (count > writer->capacity - writer->size || writer->overflow) {
            writer->overflow = true;
            return;
        }
        if (count > 0) {
            memcpy(writer->out + writer->size, data, count);
        }
    }
    writer->size += count;
}

static void put_u16(quote_writer *writer, uint16_t value)
{
    uint8_t bytes[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
    put_bytes(writer, bytes, sizeof(bytes));
}

static void put_u32(quote_writer *writer, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                        (uint8_t)(value >> 24)};
    put_bytes(writer, bytes, sizeof(bytes));
}

static void put_sgx_body(quote_writer *writer, const attest_sgx_report_body *body)
{
    put_bytes(writer, body->cpu_svn, sizeof(body->cpu_svn));
    put_u32(writer, body->misc_select);
    put_bytes(writer, body->reserved1, sizeof(body->reserved1));
    put_bytes(writer, body->isv_ext_prod_id, sizeof(body->isv_ext_prod_id));
    put_bytes(writer, body->attributes, sizeof(body->attributes));
    put_bytes(writer, body->mr_enclave, sizeof(body->mr_enclave));
    put_bytes(writer, body->reserved2, sizeof(body->reserved2));
    put_bytes(writer, body->mr_signer, sizeof(body->mr_signer));
    put_bytes(writer, body->reserved3, sizeof(body->reserved3));
    put_bytes(writer, body->config_id, sizeof(body->config_id));
    put_u16(writer, body->isv_prod_id);
    put_u16(writer, body->isv_svn);
    put_u16(writer, body->config_svn);
    put_bytes(writer, body->reserved4, sizeof(body->reserved4));
    put_bytes(writer, body->isv_family_id, sizeof(body->isv_family_id));
    put_bytes(writer, body->report_data, sizeof(body->report_data));
}

static void put_td_body(quote_writer *writer, const attest_td_report_body *body, bool td15)
{
    put_bytes(writer, body->tee_tcb_svn, sizeof(body->tee_tcb_svn));
    put_bytes(writer, body->mr_seam, sizeof(body->mr_seam));
    put_bytes(writer, body->mr_signer_seam, sizeof(body->mr_signer_seam));
    put_bytes(writer, body->seam_attributes, sizeof(body->seam_attributes));
    put_bytes(writer, body->td_attributes, sizeof(body->td_attributes));
    put_bytes(writer, body->xfam, sizeof(body->xfam));
    put_bytes(writer, body->mr_td, sizeof(body->mr_td));
    put_bytes(writer, body->mr_config_id, sizeof(body->mr_config_id));
    put_bytes(writer, body->mr_owner, sizeof(body->mr_owner));
    put_bytes(writer, body->mr_owner_config, sizeof(body->mr_owner_config));
    put_bytes(writer, body->rtmr, sizeof(body->rtmr));
    put_bytes(writer, body->report_data, sizeof(body->report_data));
    if (td15) {
        put_bytes(writer, body->tee_tcb_svn2, sizeof(body->tee_tcb_svn2));
        put_bytes(writer, body->mr_service_td, sizeof(body->mr_service_td));
    }
}

/* Writes the QE report region that versions 3 (inline) and 4/5 (type 6) share. */
static void put_qe_report_region(quote_writer *writer, const attest_quote *quote)
{
    put_sgx_body(writer, &quote->qe_report);
    put_bytes(writer, quote->qe_report_signature, sizeof(quote->qe_report_signature));
    put_u16(writer, quote->qe_auth_data_size);
    put_bytes(writer, quote->qe_auth_data, quote->qe_auth_data_size);
    put_u16(writer, ATTEST_CERT_DATA_PCK_CHAIN);
    put_u32(writer, quote->pck_chain_size);
    put_bytes(writer, quote->pck_chain, quote->pck_chain_size);
}

static size_t qe_report_region_size(const attest_quote *quote)
{
    return ATTEST_SGX_REPORT_BODY_SIZE + ATTEST_ECDSA_SIGNATURE_SIZE + 2 +
           quote->qe_auth_data_size + 2 + 4 + (size_t)quote->pck_chain_size;
}

attest_err attest_quote_serialize(const attest_quote *quote, uint8_t *out, size_t out_capacity,
                                  size_t *out_size)
{
    if (quote == NULL || out_size == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    if ((quote->qe_auth_data_size > 0 && quote->qe_auth_data == NULL) ||
        (quote->pck_chain_size > 0 && quote->pck_chain == NULL) ||
        (quote->trailing_size > 0 && quote->trailing == NULL)) {
        return ATTEST_ERR_ARGUMENT;
    }

    quote_writer writer = {out, out_capacity, 0, false};
    const attest_quote_header *header = &quote->header;
    put_u16(&writer, header->version);
    put_u16(&writer, header->attestation_key_type);
    put_u32(&writer, header->tee_type);
    put_u16(&writer, header->qe_svn);
    put_u16(&writer, header->pce_svn);
    put_bytes(&writer, header->qe_vendor_id, sizeof(header->qe_vendor_id));
    put_bytes(&writer, header->user_data, sizeof(header->user_data));

    if (header->version == 5) {
        put_u16(&writer, (uint16_t)quote->body_type);
        put_u32(&writer, quote->body_size);
    }
    if (quote->body_type == ATTEST_BODY_SGX) {
        put_sgx_body(&writer, &quote->body.sgx);
    } else {
        put_td_body(&writer, &quote->body.td, quote->body_type == ATTEST_BODY_TD15);
    }

    /* The signature data size is derived from the content, not copied. */
    size_t region_size = qe_report_region_size(quote);
    size_t signature_data_size = ATTEST_ECDSA_SIGNATURE_SIZE + ATTEST_ECDSA_KEY_SIZE +
                                 (header->version == 3 ? region_size : 6 + region_size);
    if (signature_data_size > UINT32_MAX) {
        return ATTEST_ERR_LIMIT;
    }
    put_u32(&writer, (uint32_t)signature_data_size);
    put_bytes(&writer, quote->signature, sizeof(quote->signature));
    put_bytes(&writer, quote->attestation_key, sizeof(quote->attestation_key));
    if (header->version != 3) {
        put_u16(&writer, ATTEST_CERT_DATA_QE_REPORT);
        put_u32(&writer, (uint32_t)region_size);
    }
    put_qe_report_region(&writer, quote);
    put_bytes(&writer, quote->trailing, quote->trailing_size);

    if (writer.overflow) {
        return ATTEST_ERR_LIMIT;
    }
    *out_size = writer.size;
    return ATTEST_OK;
}

/* Length of an optional UTF-8 byte order mark and 0x prefix at the start of data. */
static size_t hex_prefix_size(const uint8_t *data, size_t size)
{
    size_t start = 0;
    if (size >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf) {
        start = 3;
    }
    if (size >= start + 2 && data[start] == '0' && (data[start + 1] == 'x' || data[start + 1] == 'X')) {
        start += 2;
    }
    return start;
}

/*
 * True when data reads as hex text: it starts with two hex digits. No
 * binary quote does, because its first byte is the version (3, 4 or 5).
 */
static bool looks_like_hex(const uint8_t *data, size_t size)
{
    size_t start = hex_prefix_size(data, size);
    if (size < start + 2) {
        return false;
    }
    for (size_t i = start; i < start + 2; i++) {
        if (!isxdigit(data[i])) {
            return false;
        }
    }
    return true;
}

attest_err attest_quote_read_file(const char *path, uint8_t **out_data, size_t *out_size,
                                  attest_diag *diag)
{
    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err = attest_file_read(path, 2 * ATTEST_QUOTE_MAX_SIZE + 64, &data, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (size == 0) {
        free(data);
        return attest_diag_set(diag, ATTEST_ERR_QUOTE_TRUNCATED, "quote file %s is empty", path);
    }

    if (!looks_like_hex(data, size)) {
        *out_data = data;
        *out_size = size;
        return ATTEST_OK;
    }

    /* Compact the hex digits in place, then decode them. */
    size_t start = hex_prefix_size(data, size);
    size_t digit_count = 0;
    for (size_t i = start; i < size; i++) {
        if (isspace(data[i])) {
            continue;
        }
        if (!isxdigit(data[i])) {
            uint8_t c = data[i];
            free(data);
            return attest_diag_set(diag, ATTEST_ERR_HEX,
                                   "%s looks like hex text but has the character 0x%02x at "
                                   "offset %zu, which is neither a hex digit nor whitespace",
                                   path, c, i);
        }
        data[digit_count++] = data[i];
    }
    uint8_t *decoded = NULL;
    size_t decoded_size = 0;
    err = attest_hex_decode_alloc((const char *)data, digit_count, &decoded, &decoded_size);
    free(data);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err, "%s looks like hex text but has an odd number of digits",
                               path);
    }
    *out_data = decoded;
    *out_size = decoded_size;
    return ATTEST_OK;
}
