/*
 * Gramine's /dev/attestation pseudo-files inside an SGX enclave, one per
 * line below with what it contains or takes.
 *
 *   attestation_type  "none", "epid" or "dcap" (from sgx.remote_attestation)
 *   user_report_data  write 64 bytes: the report data of the next report/quote
 *   quote             read: a DCAP quote over user_report_data
 *   my_target_info    read: this enclave's 512-byte TARGETINFO
 *   target_info       write 512 bytes: the enclave the next report targets
 *   report            read: a 432-byte REPORT for target_info
 *
 * user_report_data and target_info are shared by all threads of the
 * enclave, so the report data decoded from the quote is compared with the
 * value written.
 */
#include <stdlib.h>
#include <string.h>

#include <attest/quote.h>

#include "evidence/internal.h"

static const char *root_or_default(const char *root)
{
    return root != NULL ? root : ATTEST_GRAMINE_ROOT;
}

static const attest_fileops *ops_or_default(const attest_fileops *ops)
{
    return ops != NULL ? ops : attest_fileops_posix();
}

/* Checks that root exists and that attestation_type is "dcap". */
static attest_err check_attestation_type(const attest_fileops *ops, const char *root,
                                         attest_diag *diag)
{
    if (!ops->exists(ops->context, root)) {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_DEVICE_MISSING,
                               "Gramine attestation interface %s not found: not inside a "
                               "Gramine SGX enclave",
                               root);
    }
    char path[EVIDENCE_PATH_MAX];
    char type[32];
    attest_err err = evidence_path(root, "attestation_type", path, sizeof(path), diag);
    if (err == ATTEST_OK) {
        err = evidence_read_text(ops, path, type, sizeof(type), diag);
    }
    if (err != ATTEST_OK) {
        return err;
    }
    if (strcmp(type, "dcap") != 0) {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_ATTESTATION_TYPE,
                               "%s is \"%s\", expected \"dcap\": set sgx.remote_attestation = "
                               "\"dcap\" in the Gramine manifest",
                               path, type);
    }
    return ATTEST_OK;
}

static attest_err write_named(const attest_fileops *ops, const char *root, const char *name,
                              const uint8_t *data, size_t size, attest_diag *diag)
{
    char path[EVIDENCE_PATH_MAX];
    attest_err err = evidence_path(root, name, path, sizeof(path), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int error = ops->write_file(ops->context, path, data, size);
    if (error != 0) {
        return evidence_errno(error, "write", path, diag);
    }
    return ATTEST_OK;
}

/*
 * Reads ROOT/name into a new buffer. Fewer than min_size bytes is a short
 * read, and more than max_size ATTEST_ERR_LIMIT.
 */
static attest_err read_named(const attest_fileops *ops, const char *root, const char *name,
                             size_t min_size, size_t max_size, uint8_t **out_data,
                             size_t *out_size, attest_diag *diag)
{
    char path[EVIDENCE_PATH_MAX];
    attest_err err = evidence_path(root, name, path, sizeof(path), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    int error = ops->read_file(ops->context, path, max_size, &data, &size);
    if (error != 0) {
        return evidence_errno(error, "read", path, diag);
    }
    if (size < min_size) {
        free(data);
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_SHORT_READ,
                               "%s returned %zu bytes, at least %zu expected", path, size,
                               min_size);
    }
    *out_data = data;
    *out_size = size;
    return ATTEST_OK;
}

attest_err evidence_gramine_collect(const attest_fileops *ops, const char *root,
                                    const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                    attest_evidence *out_evidence, attest_diag *diag)
{
    attest_err err = check_attestation_type(ops, root, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = write_named(ops, root, "user_report_data", report_data, ATTEST_REPORT_DATA_SIZE, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_evidence evidence = {.backend = ATTEST_EVIDENCE_GRAMINE};
    strcpy(evidence.provider, "sgx_dcap");
    err = read_named(ops, root, "quote", ATTEST_QUOTE_HEADER_SIZE, ATTEST_QUOTE_MAX_SIZE,
                     &evidence.data, &evidence.size, diag);
    if (err == ATTEST_OK) {
        err = evidence_check_report_data(&evidence, report_data, diag);
    }
    if (err != ATTEST_OK) {
        attest_evidence_clear(&evidence);
        return err;
    }
    *out_evidence = evidence;
    return ATTEST_OK;
}

attest_err attest_gramine_local_report(const attest_fileops *fileops, const char *root,
                                       const attest_sgx_target_info *target_info,
                                       const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                       attest_sgx_report *out_report, attest_diag *diag)
{
    if (target_info == NULL || report_data == NULL || out_report == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    const attest_fileops *ops = ops_or_default(fileops);
    root = root_or_default(root);

    /* Local reports need no quoting enclave, so any attestation_type works; only the device must exist. */
    if (!ops->exists(ops->context, root)) {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_DEVICE_MISSING,
                               "Gramine attestation interface %s not found: not inside a "
                               "Gramine SGX enclave",
                               root);
    }

    uint8_t target_bytes[ATTEST_SGX_TARGET_INFO_SIZE];
    attest_sgx_target_info_serialize(target_info, target_bytes);
    attest_err err = write_named(ops, root, "target_info", target_bytes, sizeof(target_bytes),
                                 diag);
    if (err == ATTEST_OK) {
        err = write_named(ops, root, "user_report_data", report_data, ATTEST_REPORT_DATA_SIZE,
                          diag);
    }
    if (err != ATTEST_OK) {
        return err;
    }

    uint8_t *data = NULL;
    size_t size = 0;
    err = read_named(ops, root, "report", ATTEST_SGX_REPORT_SIZE, ATTEST_SGX_REPORT_SIZE, &data,
                     &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    attest_sgx_report report;
    err = attest_sgx_report_parse(data, size, &report, diag);
    free(data);
    if (err != ATTEST_OK) {
        return err;
    }
    if (memcmp(report.body.report_data, report_data, ATTEST_REPORT_DATA_SIZE) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_REPORT_DATA_MISMATCH,
                               "%s/report states other report data than written to "
                               "user_report_data: another thread wrote it concurrently",
                               root);
    }
    *out_report = report;
    return ATTEST_OK;
}

attest_err attest_gramine_my_target_info(const attest_fileops *fileops, const char *root,
                                         attest_sgx_target_info *out_target_info,
                                         attest_diag *diag)
{
    if (out_target_info == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    const attest_fileops *ops = ops_or_default(fileops);
    root = root_or_default(root);
    if (!ops->exists(ops->context, root)) {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_DEVICE_MISSING,
                               "Gramine attestation interface %s not found: not inside a "
                               "Gramine SGX enclave",
                               root);
    }

    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err = read_named(ops, root, "my_target_info", ATTEST_SGX_TARGET_INFO_SIZE,
                                ATTEST_SGX_TARGET_INFO_SIZE, &data, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_sgx_target_info_parse(data, size, out_target_info, diag);
    free(data);
    return err;
}
