/*
 * configfs-tsm: the Linux interface (since 6.7) through which TDX and
 * SEV-SNP guests get evidence, used as follows:
 *
 *   mkdir ROOT/NAME                       a private entry
 *   read  ROOT/NAME/generation            g0, decimal text
 *   write ROOT/NAME/inblob                the 64 bytes of report data
 *   read  ROOT/NAME/outblob               the quote (TDX) or report (SNP)
 *   read  ROOT/NAME/auxblob               optional (SNP certificates)
 *   read  ROOT/NAME/provider              "tdx_guest", "sev_guest", ...
 *   read  ROOT/NAME/generation            must be g0 + 1
 *   rmdir ROOT/NAME
 *
 * NAME is random unless the caller names an entry. A named entry that
 * already exists is used as it is and kept, so that an administrator can
 * set its options beforehand.
 *
 * The kernel increments generation on each write to inblob or another
 * option, so any value other than g0 + 1 means another process wrote to the
 * same entry between our write and our read, and the outblob may cover its
 * inblob. The report data decoded from outblob is compared too.
 *
 * Caveats: privlevel and the service provider options of newer kernels are
 * left at their defaults.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "evidence/internal.h"
#include "util/hex.h"

/* Parses generation's decimal text. */
static attest_err parse_generation(const char *text, const char *path, uint64_t *out,
                                   attest_diag *diag)
{
    uint64_t value = 0;
    if (text[0] == '\0') {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_INTERFACE, "%s is empty, expected a "
                               "decimal number", path);
    }
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9' || value > (UINT64_MAX - 9) / 10) {
            return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_INTERFACE,
                                   "%s contains \"%.40s\", expected a decimal number", path, text);
        }
        value = value * 10 + (uint64_t)(*c - '0');
    }
    *out = value;
    return ATTEST_OK;
}

static attest_err read_generation(const attest_fileops *ops, const char *entry, uint64_t *out,
                                  attest_diag *diag)
{
    char path[EVIDENCE_PATH_MAX];
    char text[32];
    attest_err err = evidence_path(entry, "generation", path, sizeof(path), diag);
    if (err == ATTEST_OK) {
        err = evidence_read_text(ops, path, text, sizeof(text), diag);
    }
    if (err == ATTEST_OK) {
        err = parse_generation(text, path, out, diag);
    }
    return err;
}

/* Reads a blob; an empty one is a short read. */
static attest_err read_blob(const attest_fileops *ops, const char *entry, const char *name,
                            uint8_t **out_data, size_t *out_size, attest_diag *diag)
{
    char path[EVIDENCE_PATH_MAX];
    attest_err err = evidence_path(entry, name, path, sizeof(path), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    int error = ops->read_file(ops->context, path, ATTEST_EVIDENCE_MAX_SIZE, &data, &size);
    if (error != 0) {
        return evidence_errno(error, "read", path, diag);
    }
    if (size == 0) {
        free(data);
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_SHORT_READ,
                               "%s is empty: the TSM produced no evidence", path);
    }
    *out_data = data;
    *out_size = size;
    return ATTEST_OK;
}

/* The steps inside an existing entry; evidence is filled as they go. */
static attest_err collect_in_entry(const attest_fileops *ops, const char *entry,
                                   const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                   attest_evidence *evidence, attest_diag *diag)
{
    uint64_t before = 0;
    attest_err err = read_generation(ops, entry, &before, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    char path[EVIDENCE_PATH_MAX];
    err = evidence_path(entry, "inblob", path, sizeof(path), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int error = ops->write_file(ops->context, path, report_data, ATTEST_REPORT_DATA_SIZE);
    if (error != 0) {
        return evidence_errno(error, "write", path, diag);
    }

    err = read_blob(ops, entry, "outblob", &evidence->data, &evidence->size, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    /* auxblob is absent for TDX and hidden or empty on kernels without it. */
    err = evidence_path(entry, "auxblob", path, sizeof(path), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (ops->exists(ops->context, path)) {
        error = ops->read_file(ops->context, path, ATTEST_EVIDENCE_MAX_SIZE, &evidence->aux,
                               &evidence->aux_size);
        if (error == EOPNOTSUPP || error == ENODATA || error == ENOENT) {
            evidence->aux = NULL;
            evidence->aux_size = 0;
        } else if (error != 0) {
            return evidence_errno(error, "read", path, diag);
        }
        if (evidence->aux != NULL && evidence->aux_size == 0) {
            free(evidence->aux);
            evidence->aux = NULL;
        }
    }

    err = evidence_path(entry, "provider", path, sizeof(path), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = evidence_read_text(ops, path, evidence->provider, sizeof(evidence->provider), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (evidence->provider[0] == '\0') {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_INTERFACE, "%s is empty", path);
    }

    uint64_t after = 0;
    err = read_generation(ops, entry, &after, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (before == UINT64_MAX || after != before + 1) {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_GENERATION,
                               "generation changed: concurrent writer (%s/generation was %" PRIu64
                               " before writing inblob and %" PRIu64 " after reading outblob, "
                               "expected %" PRIu64 ")",
                               entry, before, after, before + 1);
    }

    return evidence_check_report_data(evidence, report_data, diag);
}

/* Writes a fresh entry name, so concurrent agents each get their own entry. */
static attest_err random_entry_name(char *out, size_t capacity)
{
    uint8_t random[8];
    if (RAND_bytes(random, sizeof(random)) != 1) {
        return ATTEST_ERR_CRYPTO;
    }
    char hex[2 * sizeof(random) + 1];
    attest_hex_encode(random, sizeof(random), hex);
    snprintf(out, capacity, "attest-%ld-%s", (long)getpid(), hex);
    return ATTEST_OK;
}

attest_err evidence_configfs_tsm_collect(const attest_fileops *ops, const char *root,
                                         const char *entry_name,
                                         const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                         attest_evidence *out_evidence, attest_diag *diag)
{
    if (!ops->exists(ops->context, root)) {
        return attest_diag_set(diag, ATTEST_ERR_EVIDENCE_DEVICE_MISSING,
                               "configfs-tsm root %s not found: not a TDX or SEV-SNP guest, a "
                               "kernel before 6.7, or configfs not mounted on /sys/kernel/config",
                               root);
    }

    char name[64];
    if (entry_name == NULL) {
        attest_err err = random_entry_name(name, sizeof(name));
        if (err != ATTEST_OK) {
            return err;
        }
        entry_name = name;
    } else if (entry_name[0] == '\0' || strchr(entry_name, '/') != NULL ||
               strcmp(entry_name, ".") == 0 || strcmp(entry_name, "..") == 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "configfs-tsm entry name \"%.64s\" is not a single directory name",
                               entry_name);
    }
    char entry[EVIDENCE_PATH_MAX];
    attest_err err = evidence_path(root, entry_name, entry, sizeof(entry), diag);
    if (err != ATTEST_OK) {
        return err;
    }

    /* An entry that already exists was set up by someone else and stays. */
    bool created = false;
    if (entry_name == name || !ops->exists(ops->context, entry)) {
        int error = ops->mkdir(ops->context, entry);
        if (error != 0) {
            return evidence_errno(error, "create the entry", entry, diag);
        }
        created = true;
    }

    attest_evidence evidence = {.backend = ATTEST_EVIDENCE_CONFIGFS_TSM};
    err = collect_in_entry(ops, entry, report_data, &evidence, diag);

    /* A created entry goes on every path; a failure to remove it is reported unless an earlier error is. */
    if (created) {
        int error = ops->rmdir(ops->context, entry);
        if (error != 0 && err == ATTEST_OK) {
            err = evidence_errno(error, "remove the entry", entry, diag);
        }
    }

    if (err != ATTEST_OK) {
        attest_evidence_clear(&evidence);
        return err;
    }
    *out_evidence = evidence;
    return ATTEST_OK;
}
