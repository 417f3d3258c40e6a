/*
 * The default attest_fileops: plain POSIX calls on the real file system.
 *
 * configfs and sysfs attribute files report a size of 4096 whatever their
 * content, so files are read until end of file, never by st_size. configfs
 * commits a binary attribute such as inblob when the file is closed, so the
 * result of close() is part of a write's result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <attest/evidence.h>

static int posix_mkdir(void *context, const char *path)
{
    (void)context;
    return mkdir(path, 0700) == 0 ? 0 : errno;
}

static int posix_rmdir(void *context, const char *path)
{
    (void)context;
    return rmdir(path) == 0 ? 0 : errno;
}

static int posix_read_file(void *context, const char *path, size_t max_size, uint8_t **out_data,
                           size_t *out_size)
{
    (void)context;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }

    size_t capacity = 4096;
    size_t size = 0;
    uint8_t *buffer = malloc(capacity);
    int error = 0;
    if (buffer == NULL) {
        error = ENOMEM;
        goto out;
    }
    for (;;) {
        if (size == capacity) {
            if (capacity > max_size) {
                error = EFBIG;
                goto out;
            }
            uint8_t *bigger = realloc(buffer, capacity * 2);
            if (bigger == NULL) {
                error = ENOMEM;
                goto out;
            }
            buffer = bigger;
            capacity *= 2;
        }
        ssize_t count = read(fd, buffer + size, capacity - size);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            error = errno;
            goto out;
        }
        if (count == 0) {
            break;
        }
        size += (size_t)count;
    }
    if (size > max_size) {
        error = EFBIG;
        goto out;
    }

    *out_data = buffer;
    *out_size = size;
    buffer = NULL;

out:
    free(buffer);
    close(fd);
    return error;
}

static int posix_write_file(void *context, const char *path, const uint8_t *data, size_t size)
{
    (void)context;
    /* No O_CREAT: the kernel or Gramine provides the file, and a missing one means no device. */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }

    int error = 0;
    size_t written = 0;
    while (written < size) {
        ssize_t count = write(fd, data + written, size - written);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            error = count < 0 ? errno : EIO;
            break;
        }
        written += (size_t)count;
    }
    if (close(fd) != 0 && error == 0) {
        error = errno;
    }
    return error;
}

static bool posix_exists(void *context, const char *path)
{
    (void)context;
    struct stat status;
    return stat(path, &status) == 0;
}

const attest_fileops *attest_fileops_posix(void)
{
    static const attest_fileops ops = {
        .context = NULL,
        .mkdir = posix_mkdir,
        .rmdir = posix_rmdir,
        .read_file = posix_read_file,
        .write_file = posix_write_file,
        .exists = posix_exists,
    };
    return &ops;
}
