#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "support.h"
#include "util/file.h"

const char *test_real_dir(void)
{
    const char *dir = getenv("ATTEST_REAL_DATA");
    return dir != NULL ? dir : "../shared/data/real";
}

const char *test_real_path(const char *relative)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", test_real_dir(), relative);
    return path;
}

uint8_t *test_read_real(const char *relative, size_t *out_size)
{
    uint8_t *data = NULL;
    attest_diag diag = {{0}};
    attest_err err = attest_file_read(test_real_path(relative), 16 * 1024 * 1024, &data,
                                      out_size, &diag);
    if (err != ATTEST_OK) {
        fail_msg("cannot read %s: %s", test_real_path(relative), diag.message);
    }
    return data;
}

void test_remove_dir(const char *dir)
{
    DIR *stream = opendir(dir);
    struct dirent *entry = NULL;
    while (stream != NULL && (entry = readdir(stream)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
            char path[512];
            snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
            remove(path);
        }
    }
    if (stream != NULL) {
        closedir(stream);
    }
    rmdir(dir);
}
