#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/file.h"

attest_err attest_file_read(const char *path, size_t max_size, uint8_t **out,
                            size_t *out_size, attest_diag *diag)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot open %s: %s", path,
                               strerror(errno));
    }

    struct stat info;
    if (fstat(fileno(file), &info) == 0 && S_ISDIR(info.st_mode)) {
        fclose(file);
        return attest_diag_set(diag, ATTEST_ERR_IO, "%s is a directory, not a file", path);
    }

    size_t capacity = 4096;
    size_t size = 0;
    uint8_t *buffer = malloc(capacity + 1);
    if (buffer == NULL) {
        fclose(file);
        return ATTEST_ERR_NOMEM;
    }

    for (;;) {
        if (size == capacity) {
            if (capacity > max_size) {
                break;
            }
            size_t grown = capacity * 2;
            uint8_t *bigger = realloc(buffer, grown + 1);
            if (bigger == NULL) {
                free(buffer);
                fclose(file);
                return ATTEST_ERR_NOMEM;
            }
            buffer = bigger;
            capacity = grown;
        }
        size_t count = fread(buffer + size, 1, capacity - size, file);
        size += count;
        if (count == 0) {
            break;
        }
    }

    int read_failed = ferror(file);
    fclose(file);
    if (read_failed) {
        free(buffer);
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    }
    if (size > max_size) {
        free(buffer);
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "%s is larger than %zu bytes", path,
                               max_size);
    }

    buffer[size] = '\0';
    *out = buffer;
    *out_size = size;
    return ATTEST_OK;
}
