/* Helpers shared by the unit tests: locating and reading the real data. */
#ifndef ATTEST_TEST_SUPPORT_H
#define ATTEST_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Returns the real data folder: ATTEST_REAL_DATA, or ../shared/data/real. */
const char *test_real_dir(void);

/* Builds test_real_dir()/relative into a static buffer and returns it. */
const char *test_real_path(const char *relative);

/* Reads test_real_dir()/relative whole, NUL-terminated; fails the test when unreadable. */
uint8_t *test_read_real(const char *relative, size_t *out_size);

/* Removes dir and the files directly inside it (no subfolders). */
void test_remove_dir(const char *dir);

#endif
