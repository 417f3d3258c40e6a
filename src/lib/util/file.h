/* Reading whole files with a size limit. */
#ifndef ATTEST_UTIL_FILE_H
#define ATTEST_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>

/*
 * Reads the file at path into a new buffer (NUL-terminated, the NUL not
 * counted in out_size) that the caller frees. Files above max_size fail with
 * ATTEST_ERR_LIMIT; unreadable files with ATTEST_ERR_IO naming path and errno.
 */
ATTEST_MUST_USE attest_err attest_file_read(const char *path, size_t max_size, uint8_t **out,
                                            size_t *out_size, attest_diag *diag);

#endif
