/*
 * SGX REPORT (432 bytes) and TARGETINFO (512 bytes), parse and serialize
 * side by side. See local.h for the layouts. Both formats have a fixed
 * size, so a shorter input fails on the first field it cuts and a longer
 * one on its trailing bytes.
 */
#include <assert.h>
#include <string.h>

#include <attest/local.h>

#include "util/reader.h"

static_assert(ATTEST_SGX_REPORT_BODY_SIZE == 384, "SGX report body is 384 bytes");
static_assert(ATTEST_SGX_REPORT_SIZE == 384 + 32 + 16, "SGX report is 432 bytes");
static_assert(ATTEST_SGX_TARGET_INFO_SIZE == 32 + 16 + 2 + 2 + 4 + 8 + 64 + 384,
              "SGX target info is 512 bytes");
static_assert(sizeof(((attest_sgx_target_info *)0)->reserved3) == 384,
              "target info ends with 384 reserved bytes");

/* Which format is read, for the error code and message. */
typedef struct local_format {
    const char *name;
    attest_err truncated;
} local_format;

static const local_format report_format = {"SGX report", ATTEST_ERR_SGX_REPORT_TRUNCATED};
static const local_format target_info_format = {"SGX target info",
                                                ATTEST_ERR_TARGET_INFO_TRUNCATED};

static attest_err truncated(const local_format *format, const attest_reader *reader,
                            const char *field, size_t needed, attest_diag *diag)
{
    return attest_diag_set(diag, format->truncated,
                           "%s ends at offset %zu inside %s (%zu bytes needed, %zu left)",
                           format->name, attest_reader_position(reader), field, needed,
                           attest_reader_remaining(reader));
}

#define READ_BYTES(out, field)                                                               \
    do {                                                                                     \
        if (!attest_reader_bytes(reader, (out), sizeof(out))) {                              \
            return truncated(format, reader, (field), sizeof(out), diag);                    \
        }                                                                                    \
    } while (0)

#define READ_U16(out, field)                                                                 \
    do {                                                                                     \
        if (!attest_reader_u16(reader, (out))) {                                             \
            return truncated(format, reader, (field), 2, diag);                              \
        }                                                                                    \
    } while (0)

#define READ_U32(out, field)                                                                 \
    do {                                                                                     \
        if (!attest_reader_u32(reader, (out))) {                                             \
            return truncated(format, reader, (field), 4, diag);                              \
        }                                                                                    \
    } while (0)

static attest_err read_body(attest_reader *reader, const local_format *format,
                            attest_sgx_report_body *out, attest_diag *diag)
{
    READ_BYTES(out->cpu_svn, "body.cpu_svn");
    READ_U32(&out->misc_select, "body.misc_select");
    READ_BYTES(out->reserved1, "body.reserved1");
    READ_BYTES(out->isv_ext_prod_id, "body.isv_ext_prod_id");
    READ_BYTES(out->attributes, "body.attributes");
    READ_BYTES(out->mr_enclave, "body.mr_enclave");
    READ_BYTES(out->reserved2, "body.reserved2");
    READ_BYTES(out->mr_signer, "body.mr_signer");
    READ_BYTES(out->reserved3, "body.reserved3");
    READ_BYTES(out->config_id, "body.config_id");
    READ_U16(&out->isv_prod_id, "body.isv_prod_id");
    READ_U16(&out->isv_svn, "body.isv_svn");
    READ_U16(&out->config_svn, "body.config_svn");
    READ_BYTES(out->reserved4, "body.reserved4");
    READ_BYTES(out->isv_family_id, "body.isv_family_id");
    READ_BYTES(out->report_data, "body.report_data");
    return ATTEST_OK;
}

static attest_err check_end(const attest_reader *reader, const local_format *format,
                            size_t expected_size, attest_diag *diag)
{
    if (attest_reader_remaining(reader) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_LOCAL_TRAILING,
                               "%s is %zu bytes, %zu bytes longer than the %zu of the format",
                               format->name, reader->size, attest_reader_remaining(reader),
                               expected_size);
    }
    return ATTEST_OK;
}

attest_err attest_sgx_report_parse(const uint8_t *data, size_t size,
                                   attest_sgx_report *out_report, attest_diag *diag)
{
    if ((data == NULL && size > 0) || out_report == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    attest_reader whole = attest_reader_init(data, size);
    attest_reader *reader = &whole;
    const local_format *format = &report_format;
    attest_sgx_report report;

    attest_err err = read_body(reader, format, &report.body, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    READ_BYTES(report.key_id, "key_id");
    READ_BYTES(report.mac, "mac");
    err = check_end(reader, format, ATTEST_SGX_REPORT_SIZE, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    *out_report = report;
    return ATTEST_OK;
}

attest_err attest_sgx_target_info_parse(const uint8_t *data, size_t size,
                                        attest_sgx_target_info *out_target_info,
                                        attest_diag *diag)
{
    if ((data == NULL && size > 0) || out_target_info == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    attest_reader whole = attest_reader_init(data, size);
    attest_reader *reader = &whole;
    const local_format *format = &target_info_format;
    attest_sgx_target_info target;

    READ_BYTES(target.mr_enclave, "mr_enclave");
    READ_BYTES(target.attributes, "attributes");
    READ_BYTES(target.reserved1, "reserved1");
    READ_U16(&target.config_svn, "config_svn");
    READ_U32(&target.misc_select, "misc_select");
    READ_BYTES(target.reserved2, "reserved2");
    READ_BYTES(target.config_id, "config_id");
    READ_BYTES(target.reserved3, "reserved3");
    attest_err err = check_end(reader, format, ATTEST_SGX_TARGET_INFO_SIZE, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    *out_target_info = target;
    return ATTEST_OK;
}

/* Writes bytes at *offset and advances it; the callers' sizes are fixed by the static_asserts. */
static void put_bytes(uint8_t *out, size_t *offset, const void *data, size_t size)
{
    memcpy(out + *offset, data, size);
    *offset += size;
}

static void put_u16(uint8_t *out, size_t *offset, uint16_t value)
{
    out[*offset] = (uint8_t)value;
    out[*offset + 1] = (uint8_t)(value >> 8);
    *offset += 2;
}

static void put_u32(uint8_t *out, size_t *offset, uint32_t value)
{
    for (size_t i = 0; i < 4; i++) {
        out[*offset + i] = (uint8_t)(value >> (8 * i));
    }
    *offset += 4;
}

void attest_sgx_report_body_serialize(const attest_sgx_report_body *body,
                                      uint8_t out[ATTEST_SGX_REPORT_BODY_SIZE])
{
    size_t offset = 0;
    put_bytes(out, &offset, body->cpu_svn, sizeof(body->cpu_svn));
    put_u32(out, &offset, body->misc_select);
    put_bytes(out, &offset, body->reserved1, sizeof(body->reserved1));
    put_bytes(out, &offset, body->isv_ext_prod_id, sizeof(body->isv_ext_prod_id));
    put_bytes(out, &offset, body->attributes, sizeof(body->attributes));
    put_bytes(out, &offset, body->mr_enclave, sizeof(body->mr_enclave));
    put_bytes(out, &offset, body->reserved2, sizeof(body->reserved2));
    put_bytes(out, &offset, body->mr_signer, sizeof(body->mr_signer));
    put_bytes(out, &offset, body->reserved3, sizeof(body->reserved3));
    put_bytes(out, &offset, body->config_id, sizeof(body->config_id));
    put_u16(out, &offset, body->isv_prod_id);
    put_u16(out, &offset, body->isv_svn);
    put_u16(out, &offset, body->config_svn);
    put_bytes(out, &offset, body->reserved4, sizeof(body->reserved4));
    put_bytes(out, &offset, body->isv_family_id, sizeof(body->isv_family_id));
    put_bytes(out, &offset, body->report_data, sizeof(body->report_data));
    assert(offset == ATTEST_SGX_REPORT_BODY_SIZE);
}

void attest_sgx_report_serialize(const attest_sgx_report *report,
                                 uint8_t out[ATTEST_SGX_REPORT_SIZE])
{
    attest_sgx_report_body_serialize(&report->body, out);
    size_t offset = ATTEST_SGX_REPORT_BODY_SIZE;
    put_bytes(out, &offset, report->key_id, sizeof(report->key_id));
    put_bytes(out, &offset, report->mac, sizeof(report->mac));
    assert(offset == ATTEST_SGX_REPORT_SIZE);
}

void attest_sgx_target_info_serialize(const attest_sgx_target_info *target_info,
                                      uint8_t out[ATTEST_SGX_TARGET_INFO_SIZE])
{
    size_t offset = 0;
    put_bytes(out, &offset, target_info->mr_enclave, sizeof(target_info->mr_enclave));
    put_bytes(out, &offset, target_info->attributes, sizeof(target_info->attributes));
    put_bytes(out, &offset, target_info->reserved1, sizeof(target_info->reserved1));
    put_u16(out, &offset, target_info->config_svn);
    put_u32(out, &offset, target_info->misc_select);
    put_bytes(out, &offset, target_info->reserved2, sizeof(target_info->reserved2));
    put_bytes(out, &offset, target_info->config_id, sizeof(target_info->config_id));
    put_bytes(out, &offset, target_info->reserved3, sizeof(target_info->reserved3));
    assert(offset == ATTEST_SGX_TARGET_INFO_SIZE);
}
