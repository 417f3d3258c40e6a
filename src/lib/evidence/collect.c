/*
 * Evidence collection: backend selection, the simulated backend, and the
 * helpers the configfs-tsm and Gramine backends share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <attest/quote.h>

#include "evidence/internal.h"

/* Size of an SEV-SNP ATTESTATION_REPORT (versions 2 and 3) and where its REPORT_DATA lies. */
#define SNP_REPORT_SIZE 0x4a0
#define SNP_REPORT_DATA_OFFSET 0x50

attest_err evidence_errno(int error, const char *action, const char *path, attest_diag *diag)
{
    switch (error) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_DEVICE_MISSING,
                               "cannot %s %s: %s (is this process inside the TEE?)", action, path,
                               strerror(error));
    case EACCES:
    case EPERM:
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_PERMISSION,
                               "cannot %s %s: %s (run as root, or grant this user access)",
                               action, path, strerror(error));
    case EBUSY:
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_BUSY,
                               "cannot %s %s: %s (another request is in progress; retry)",
                               action, path, strerror(error));
    case EFBIG:
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "cannot %s %s: larger than %u bytes",
                               action, path, ATTEST_EVIDENCE_MAX_SIZE);
    case ENOMEM:
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "cannot %s %s: out of memory", action,
                               path);
    default:
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot %s %s: %s", action, path,
                               strerror(error));
    }
}

attest_err evidence_path(const char *root, const char *name, char *out, size_t capacity,
                         attest_diag *diag)
{
    int length = snprintf(out, capacity, "%s/%s", root, name);
    if (length < 0 || (size_t)length >= capacity) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "path %s/%s is longer than %zu bytes", root,
                               name, capacity - 1);
    }
    return ATTEST_OK;
}

attest_err evidence_read_text(const attest_fileops *ops, const char *path, char *out,
                              size_t capacity, attest_diag *diag)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int error = ops->read_file(ops->context, path, capacity - 1, &data, &size);
    if (error == EFBIG) {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_INTERFACE,
                               "%s is longer than the %zu bytes expected", path, capacity - 1);
    }
    if (error != 0) {
        return evidence_errno(error, "read", path, diag);
    }

    /* Kernel attributes end in a newline; Gramine's may end in NUL. */
    while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == ' ' ||
                        data[size - 1] == '\0')) {
        size--;
    }
    for (size_t i = 0; i < size; i++) {
        uint8_t byte = data[i];
        if (byte < 0x20 || byte > 0x7e) {
            free(data);
            return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_INTERFACE,
                                   "%s contains byte 0x%02x at offset %zu, expected text", path,
                                   byte, i);
        }
    }
    memcpy(out, data, size);
    out[size] = '\0';
    free(data);
    return ATTEST_OK;
}

const char *attest_evidence_backend_name(attest_evidence_backend backend)
{
    switch (backend) {
    case ATTEST_EVIDENCE_AUTO:
        return "auto";
    case ATTEST_EVIDENCE_SIM:
        return "sim";
    case ATTEST_EVIDENCE_CONFIGFS_TSM:
        return "configfs-tsm";
    case ATTEST_EVIDENCE_GRAMINE:
        return "gramine";
    }
    return "unknown";
}

attest_err attest_evidence_backend_parse(const char *name, attest_evidence_backend *out_backend)
{
    static const attest_evidence_backend all[] = {ATTEST_EVIDENCE_AUTO, ATTEST_EVIDENCE_SIM,
                                                  ATTEST_EVIDENCE_CONFIGFS_TSM,
                                                  ATTEST_EVIDENCE_GRAMINE};
    if (name == NULL || out_backend == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, attest_evidence_backend_name(all[i])) == 0) {
            *out_backend = all[i];
            return ATTEST_OK;
        }
    }
    return ATTEST_ERR_ARGUMENT;
}

void attest_evidence_options_init(attest_evidence_options *options)
{
    memset(options, 0, sizeof(*options));
    options->backend = ATTEST_EVIDENCE_AUTO;
    options->sim_tee = ATTEST_SIM_SGX;
}

void attest_evidence_clear(attest_evidence *evidence)
{
    if (evidence == NULL) {
        return;
    }
    free(evidence->data);
    free(evidence->aux);
    memset(evidence, 0, sizeof(*evidence));
}

static bool provider_is_dcap_quote(const char *provider)
{
    return strcmp(provider, "tdx_guest") == 0 || strcmp(provider, "sgx_dcap") == 0 ||
           strcmp(provider, "sim_sgx") == 0 || strcmp(provider, "sim_tdx") == 0;
}

attest_err attest_evidence_report_data(const char *provider, const uint8_t *data, size_t size,
                                       uint8_t out_report_data[ATTEST_REPORT_DATA_SIZE],
                                       attest_diag *diag)
{
    if (provider == NULL || (data == NULL && size > 0) || out_report_data == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }

    if (provider_is_dcap_quote(provider)) {
        attest_quote quote;
        attest_err err = attest_quote_parse(data, size, &quote, diag);
        if (err != ATTEST_OK) {
            return err;
        }
        const uint8_t *report_data = quote.body_type == ATTEST_BODY_SGX
                                         ? quote.body.sgx.report_data
                                         : quote.body.td.report_data;
        memcpy(out_report_data, report_data, ATTEST_REPORT_DATA_SIZE);
        return ATTEST_OK;
    }

    if (strcmp(provider, "sev_guest") == 0) {
        /* NOTE: only the size is checked; the SNP report's version and signature are the verifier's work. */
        if (size < SNP_REPORT_SIZE) {
            return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_SHORT_READ,
                                   "SEV-SNP report has %zu bytes, %u expected", size,
                                   SNP_REPORT_SIZE);
        }
        memcpy(out_report_data, data + SNP_REPORT_DATA_OFFSET, ATTEST_REPORT_DATA_SIZE);
        return ATTEST_OK;
    }

    return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                           "provider \"%.40s\" is not one whose report data is known here "
                           "(tdx_guest, sev_guest, sgx_dcap, sim_sgx, sim_tdx)",
                           provider);
}

attest_err evidence_check_report_data(attest_evidence *evidence,
                                      const uint8_t requested[ATTEST_REPORT_DATA_SIZE],
                                      attest_diag *diag)
{
    uint8_t stated[ATTEST_REPORT_DATA_SIZE];
    attest_err err = attest_evidence_report_data(evidence->provider, evidence->data,
                                                 evidence->size, stated, diag);
    if (err == ATTEST_ERR_ARGUMENT) {
        /* An unknown provider, such as a newer TEE: the verifier checks its report data. */
        evidence->report_data_checked = false;
        return ATTEST_OK;
    }
    if (err != ATTEST_OK) {
        return err;
    }
    if (CRYPTO_memcmp(stated, requested, ATTEST_REPORT_DATA_SIZE) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_REPORT_DATA_MISMATCH,
                               "%s evidence states other report data than written: another "
                               "process wrote the report data between our write and read",
                               evidence->provider);
    }
    evidence->report_data_checked = true;
    return ATTEST_OK;
}

static attest_err collect_sim(const attest_evidence_options *options,
                              attest_evidence *out_evidence, attest_diag *diag)
{
    if (options->sim_dir == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_DEVICE_MISSING,
                               "no simulated platform directory configured (--sim-dir or "
                               "ATTEST_SIM_DIR)");
    }
    if (options->sim_tee != ATTEST_SIM_SGX && options->sim_tee != ATTEST_SIM_TDX) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "simulated TEE %d is not SGX or TDX",
                               (int)options->sim_tee);
    }

    attest_sim_platform *platform = NULL;
    attest_err err = attest_sim_platform_open(options->sim_dir, &platform, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_sim_quote_options quote_options;
    attest_sim_quote_options_init(&quote_options, options->sim_tee);
    memcpy(quote_options.report_data, options->report_data, ATTEST_REPORT_DATA_SIZE);

    attest_evidence evidence = {.backend = ATTEST_EVIDENCE_SIM};
    strcpy(evidence.provider, options->sim_tee == ATTEST_SIM_TDX ? "sim_tdx" : "sim_sgx");
    err = attest_sim_quote(platform, &quote_options, &evidence.data, &evidence.size, diag);
    attest_sim_platform_free(platform);
    if (err == ATTEST_OK) {
        err = evidence_check_report_data(&evidence, options->report_data, diag);
    }
    if (err != ATTEST_OK) {
        attest_evidence_clear(&evidence);
        return err;
    }
    *out_evidence = evidence;
    return ATTEST_OK;
}

/* Picks the first backend present, in the order documented in evidence.h. */
static attest_err pick_backend(const attest_fileops *ops, const char *configfs_root,
                               const char *gramine_root, const char *sim_dir,
                               attest_evidence_backend *out_backend, attest_diag *diag)
{
    if (ops->exists(ops->context, configfs_root)) {
        *out_backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
        return ATTEST_OK;
    }

    char quote_path[EVIDENCE_PATH_MAX];
    attest_err err = evidence_path(gramine_root, "quote", quote_path, sizeof(quote_path), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (ops->exists(ops->context, quote_path)) {
        *out_backend = ATTEST_EVIDENCE_GRAMINE;
        return ATTEST_OK;
    }

    if (sim_dir != NULL) {
        *out_backend = ATTEST_EVIDENCE_SIM;
        return ATTEST_OK;
    }
    return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_DEVICE_MISSING,
                           "no TEE interface found: neither %s nor %s exists, and no simulated "
                           "platform directory is configured",
                           configfs_root, quote_path);
}

attest_err attest_evidence_backend_resolve(const attest_evidence_options *options,
                                           attest_evidence_backend *out_backend,
                                           attest_diag *diag)
{
    if (options == NULL || out_backend == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    if (options->backend != ATTEST_EVIDENCE_AUTO) {
        *out_backend = options->backend;
        return ATTEST_OK;
    }
    const attest_fileops *ops = options->fileops != NULL ? options->fileops
                                                         : attest_fileops_posix();
    const char *configfs_root = options->configfs_root != NULL ? options->configfs_root
                                                               : ATTEST_CONFIGFS_TSM_ROOT;
    const char *gramine_root = options->gramine_root != NULL ? options->gramine_root
                                                             : ATTEST_GRAMINE_ROOT;
    return pick_backend(ops, configfs_root, gramine_root, options->sim_dir, out_backend, diag);
}

attest_err attest_evidence_collect(const attest_evidence_options *options,
                                   attest_evidence *out_evidence, attest_diag *diag)
{
    if (options == NULL || out_evidence == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    const attest_fileops *ops = options->fileops != NULL ? options->fileops
                                                         : attest_fileops_posix();
    const char *configfs_root = options->configfs_root != NULL ? options->configfs_root
                                                               : ATTEST_CONFIGFS_TSM_ROOT;
    const char *gramine_root = options->gramine_root != NULL ? options->gramine_root
                                                             : ATTEST_GRAMINE_ROOT;

    attest_evidence_backend backend = ATTEST_EVIDENCE_AUTO;
    attest_err err = attest_evidence_backend_resolve(options, &backend, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    switch (backend) {
    case ATTEST_EVIDENCE_CONFIGFS_TSM:
        return evidence_configfs_tsm_collect(ops, configfs_root, options->configfs_entry,
                                             options->report_data, out_evidence, diag);
    case ATTEST_EVIDENCE_GRAMINE:
        return evidence_gramine_collect(ops, gramine_root, options->report_data, out_evidence,
                                        diag);
    case ATTEST_EVIDENCE_SIM:
        return collect_sim(options, out_evidence, diag);
    case ATTEST_EVIDENCE_AUTO:
        break;
    }
    return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "evidence backend %d is not known",
                           (int)backend);
}
