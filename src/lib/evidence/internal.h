/* Helpers shared by the evidence backends; not part of the public API. */
#ifndef ATTEST_EVIDENCE_INTERNAL_H
#define ATTEST_EVIDENCE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <attest/evidence.h>
#include <attest/local.h>

/* Longest path that root joined with a name may have. */
#define EVIDENCE_PATH_MAX 4096

/*
 * Turns the errno value error of action ("read", "write", "create", ...) on
 * path into an attest_err: ENOENT, ENODEV and ENXIO give
 * ATTEST_ERR_EVIDENCE_DEVICE_MISSING, EACCES and EPERM
 * ATTEST_ERR_EVIDENCE_PERMISSION, EBUSY ATTEST_ERR_EVIDENCE_BUSY, EFBIG
 * ATTEST_ERR_LIMIT, ENOMEM ATTEST_ERR_NOMEM and any other ATTEST_ERR_IO.
 */
attest_err evidence_errno(int error, const char *action, const char *path, attest_diag *diag);

/* Writes root "/" name into out. Errors: ATTEST_ERR_LIMIT when it does not fit. */
ATTEST_MUST_USE attest_err evidence_path(const char *root, const char *name, char *out,
                                         size_t capacity, attest_diag *diag);

/*
 * Reads a small text file (at most capacity - 1 bytes) into out as a C
 * string without trailing newlines, spaces or NULs. Errors: those of
 * evidence_errno, ATTEST_ERR_EVIDENCE_INTERFACE when the file contains a
 * NUL or control byte before its end or is longer than capacity - 1.
 */
ATTEST_MUST_USE attest_err evidence_read_text(const attest_fileops *ops, const char *path,
                                              char *out, size_t capacity, attest_diag *diag);

/* entry_name NULL: a private entry with a random name. */
ATTEST_MUST_USE attest_err evidence_configfs_tsm_collect(const attest_fileops *ops,
                                                         const char *root,
                                                         const char *entry_name,
                                                         const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                                         attest_evidence *out_evidence,
                                                         attest_diag *diag);

ATTEST_MUST_USE attest_err evidence_gramine_collect(const attest_fileops *ops, const char *root,
                                                    const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                                    attest_evidence *out_evidence,
                                                    attest_diag *diag);

/*
 * Checks that the report data decoded from evidence equals requested, and
 * sets evidence->report_data_checked. A provider whose format is not known
 * is left unchecked. Errors: ATTEST_ERR_REPORT_DATA_MISMATCH and those of
 * attest_evidence_report_data.
 */
ATTEST_MUST_USE attest_err evidence_check_report_data(attest_evidence *evidence,
                                                      const uint8_t requested[ATTEST_REPORT_DATA_SIZE],
                                                      attest_diag *diag);

#endif
