/* The job's frames and vectors on the wire (format in job.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "job.h"

int64_t job_monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * Waits until fd is ready for events or deadline (monotonic milliseconds)
 * passes. Returns 0 when ready, or -1 with the reason in error.
 */
static int wait_ready(int fd, short events, int64_t deadline, char *error)
{
    while (true) {
        int64_t remaining = deadline - job_monotonic_ms();
        if (remaining <= 0) {
            snprintf(error, JOB_MESSAGE_SIZE, "timed out");
            return -1;
        }
        struct pollfd entry = {.fd = fd, .events = events};
        int count = poll(&entry, 1, (int)remaining);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            snprintf(error, JOB_MESSAGE_SIZE, "poll failed: %s", strerror(errno));
            return -1;
        }
        if (count > 0) {
            return 0;
        }
    }
}

/* Sends size bytes before deadline; returns 0 or -1 with the reason in error. */
static int send_all(int fd, const uint8_t *data, size_t size, int64_t deadline, char *error)
{
    size_t offset = 0;
    while (offset < size) {
        if (wait_ready(fd, POLLOUT, deadline, error) != 0) {
            return -1;
        }
        /* MSG_NOSIGNAL: a peer that closed early gives EPIPE, not SIGPIPE. */
        ssize_t sent = send(fd, data + offset, size - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            continue;
        }
        if (sent < 0) {
            snprintf(error, JOB_MESSAGE_SIZE, "send failed: %s", strerror(errno));
            return -1;
        }
        offset += (size_t)sent;
    }
    return 0;
}

/* Receives exactly size bytes before deadline; returns 0 or -1 with the reason in error. */
static int receive_all(int fd, uint8_t *data, size_t size, int64_t deadline, char *error)
{
    size_t offset = 0;
    while (offset < size) {
        if (wait_ready(fd, POLLIN, deadline, error) != 0) {
            return -1;
        }
        ssize_t received = recv(fd, data + offset, size - offset, MSG_DONTWAIT);
        if (received < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            continue;
        }
        if (received < 0) {
            snprintf(error, JOB_MESSAGE_SIZE, "receive failed: %s", strerror(errno));
            return -1;
        }
        if (received == 0) {
            snprintf(error, JOB_MESSAGE_SIZE, "connection closed by the peer");
            return -1;
        }
        offset += (size_t)received;
    }
    return 0;
}

int job_frame_write(int fd, uint8_t type, const void *payload, size_t size, int timeout_ms,
                    char *error)
{
    if (size == 0 || size > UINT32_MAX) {
        snprintf(error, JOB_MESSAGE_SIZE, "payload of %zu bytes cannot be framed", size);
        return -1;
    }
    int64_t deadline = job_monotonic_ms() + timeout_ms;
    uint8_t header[JOB_FRAME_HEADER_SIZE] = {
        type,
        (uint8_t)(size >> 24),
        (uint8_t)(size >> 16),
        (uint8_t)(size >> 8),
        (uint8_t)size,
    };
    if (send_all(fd, header, sizeof(header), deadline, error) != 0) {
        return -1;
    }
    return send_all(fd, payload, size, deadline, error);
}

int job_frame_read(int fd, uint8_t *out_type, uint8_t *buffer, size_t capacity,
                   size_t *out_size, int timeout_ms, char *error)
{
    int64_t deadline = job_monotonic_ms() + timeout_ms;
    uint8_t header[JOB_FRAME_HEADER_SIZE];
    if (receive_all(fd, header, sizeof(header), deadline, error) != 0) {
        return -1;
    }

    /* The size is the peer's claim: check it before reading the payload. */
    uint32_t size = (uint32_t)header[1] << 24 | (uint32_t)header[2] << 16 |
                    (uint32_t)header[3] << 8 | (uint32_t)header[4];
    if (size == 0) {
        snprintf(error, JOB_MESSAGE_SIZE, "message of type 0x%02x has an empty payload",
                 header[0]);
        return -1;
    }
    if (size > capacity) {
        snprintf(error, JOB_MESSAGE_SIZE,
                 "message of type 0x%02x states %" PRIu32 " bytes, above the limit of %zu",
                 header[0], size, capacity);
        return -1;
    }
    if (receive_all(fd, buffer, size, deadline, error) != 0) {
        return -1;
    }
    *out_type = header[0];
    *out_size = size;
    return 0;
}

int job_numbers_parse(const char *text, int64_t *numbers, size_t *out_count, char *error)
{
    size_t count = 0;
    const char *cursor = text;
    while (true) {
        if (count == JOB_MAX_NUMBERS) {
            snprintf(error, JOB_MESSAGE_SIZE, "more than %d numbers", JOB_MAX_NUMBERS);
            return -1;
        }
        char *end = NULL;
        errno = 0;
        long long value = strtoll(cursor, &end, 10);
        if (end == cursor || errno == ERANGE || (*end != ',' && *end != '\0')) {
            snprintf(error, JOB_MESSAGE_SIZE,
                     "\"%.40s\" is not a 64-bit decimal integer (expected a list such as 1,2,3)",
                     cursor);
            return -1;
        }
        numbers[count++] = (int64_t)value;
        if (*end == '\0') {
            break;
        }
        cursor = end + 1;
    }
    *out_count = count;
    return 0;
}

void job_numbers_encode(const int64_t *numbers, size_t count, uint8_t *out)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t value = (uint64_t)numbers[i];
        for (size_t byte = 0; byte < JOB_NUMBER_SIZE; byte++) {
            out[i * JOB_NUMBER_SIZE + byte] = (uint8_t)(value >> (56 - 8 * byte));
        }
    }
}

int job_numbers_decode(const uint8_t *payload, size_t size, int64_t *numbers, size_t *out_count,
                       char *error)
{
    if (size == 0 || size % JOB_NUMBER_SIZE != 0 || size / JOB_NUMBER_SIZE > JOB_MAX_NUMBERS) {
        snprintf(error, JOB_MESSAGE_SIZE,
                 "vector of %zu bytes is not 1 to %d numbers of %d bytes", size,
                 JOB_MAX_NUMBERS, JOB_NUMBER_SIZE);
        return -1;
    }
    size_t count = size / JOB_NUMBER_SIZE;
    for (size_t i = 0; i < count; i++) {
        uint64_t value = 0;
        for (size_t byte = 0; byte < JOB_NUMBER_SIZE; byte++) {
            value = value << 8 | payload[i * JOB_NUMBER_SIZE + byte];
        }
        /* Two's complement back to signed, without implementation-defined conversion. */
        numbers[i] = value <= INT64_MAX ? (int64_t)value : -(int64_t)(UINT64_MAX - value) - 1;
    }
    *out_count = count;
    return 0;
}

void job_numbers_format(const int64_t *numbers, size_t count, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        char item[24];
        int length = snprintf(item, sizeof(item), "%s%" PRId64, i > 0 ? "," : "", numbers[i]);
        if (used + (size_t)length + sizeof("...") > out_size) {
            snprintf(out + used, out_size - used, "...");
            return;
        }
        memcpy(out + used, item, (size_t)length + 1);
        used += (size_t)length;
    }
}

void job_text_sanitize(const void *text, size_t size, char *out)
{
    const uint8_t *bytes = text;
    size_t shown_size = size < JOB_MAX_PEER_TEXT_SIZE ? size : JOB_MAX_PEER_TEXT_SIZE;
    size_t used = 0;
    for (size_t i = 0; i < shown_size; i++) {
        uint8_t byte = bytes[i];
        if (byte == '\\') {
            used += (size_t)snprintf(out + used, JOB_PEER_TEXT_SIZE - used, "\\\\");
        } else if (byte == '\n') {
            used += (size_t)snprintf(out + used, JOB_PEER_TEXT_SIZE - used, "\\n");
        } else if (byte >= 0x20 && byte < 0x7f) {
            out[used++] = (char)byte;
        } else {
            used += (size_t)snprintf(out + used, JOB_PEER_TEXT_SIZE - used, "\\x%02x", byte);
        }
    }

    /* At most 4 bytes per input byte, so "..." and the NUL always fit. */
    snprintf(out + used, JOB_PEER_TEXT_SIZE - used, "%s", size > shown_size ? "..." : "");
}

int job_seconds_parse(const char *text, int *out_milliseconds)
{
    char *end = NULL;
    errno = 0;
    long seconds = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || seconds < 1 || seconds > 3600) {
        return -1;
    }
    *out_milliseconds = (int)seconds * 1000;
    return 0;
}
