/*
 * libFuzzer target: the demonstration job's frame reader (examples/job/wire.c)
 * and what its callers do with a frame: decode and print vectors, sanitize
 * peer text.
 *
 * A thread writes the input into one end of a socket pair and closes it.
 * The other end is read with job_frame_read until it fails, once with the
 * capacity that the server and worker use (ATTEST_TOKEN_MAX_SIZE) and once
 * with the capacity of one vector. Checks:
 * - the frames read are exactly the ones that an independent walk over the
 *   input finds (type, size, payload), and reading stops where that walk
 *   predicts: an empty payload, a size above the capacity or the end of input;
 * - every frame read has a payload of 1 to capacity bytes;
 * - the reader never times out, because the writer always closes;
 * - a 'D' or 'S' payload decodes exactly when it is 1 to JOB_MAX_NUMBERS
 *   numbers of 8 bytes, encodes back to the same bytes, and prints as text
 *   that job_numbers_parse reads back to the same numbers;
 * - job_text_sanitize of every payload and of the whole input is printable
 *   ASCII, fits JOB_PEER_TEXT_SIZE and unescapes to the shown bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "job.h"

/* Far above the time that reading at most 64 KiB from a local socket takes. */
#define READ_TIMEOUT_MS 20000

typedef struct writer {
    int fd;
    const uint8_t *data;
    size_t size;
} writer;

static void fail(const char *message, const char *detail)
{
    fprintf(stderr, "fuzz_job_wire: %s%s%s\n", message, detail[0] != '\0' ? ": " : "", detail);
    abort();
}

/* Writes the whole input, then closes, so the reader sees the end of input. */
static void *writer_run(void *argument)
{
    writer *state = argument;
    size_t offset = 0;
    while (offset < state->size) {
        ssize_t sent = send(state->fd, state->data + offset, state->size - offset, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent < 0) {
            /* EPIPE: the reader stopped at an invalid frame and closed its end. */
            break;
        }
        offset += (size_t)sent;
    }
    close(state->fd);
    return NULL;
}

/* Returns the value of hex digit c, or -1. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static void sanitize_check(const uint8_t *text, size_t size)
{
    char out[JOB_PEER_TEXT_SIZE];
    memset(out, 0x7f, sizeof(out));
    job_text_sanitize(text, size, out);
    const char *end = memchr(out, '\0', sizeof(out));
    if (end == NULL) {
        fail("job_text_sanitize", "output is not terminated within JOB_PEER_TEXT_SIZE");
    }
    size_t length = (size_t)(end - out);
    for (size_t i = 0; i < length; i++) {
        if (out[i] < 0x20 || out[i] > 0x7e) {
            fail("job_text_sanitize", "output has a byte that is not printable ASCII");
        }
    }

    /* Unescape the output and compare it with the bytes that are shown. */
    size_t shown_size = size < JOB_MAX_PEER_TEXT_SIZE ? size : JOB_MAX_PEER_TEXT_SIZE;
    size_t position = 0;
    for (size_t i = 0; i < shown_size; i++) {
        int byte = -1;
        if (position < length && out[position] != '\\') {
            byte = (uint8_t)out[position];
            position += 1;
        } else if (position + 1 < length && out[position + 1] == '\\') {
            byte = '\\';
            position += 2;
        } else if (position + 1 < length && out[position + 1] == 'n') {
            byte = '\n';
            position += 2;
        } else if (position + 3 < length && out[position + 1] == 'x' &&
                   hex_value(out[position + 2]) >= 0 && hex_value(out[position + 3]) >= 0) {
            byte = hex_value(out[position + 2]) * 16 + hex_value(out[position + 3]);
            position += 4;
        }
        if (byte != text[i]) {
            fail("job_text_sanitize", "output does not unescape to the input");
        }
    }
    const char *suffix = size > shown_size ? "..." : "";
    if (strcmp(out + position, suffix) != 0) {
        fail("job_text_sanitize", "output does not end in \"...\" exactly when the text was cut");
    }
}

static void numbers_check(const uint8_t *payload, size_t size)
{
    static int64_t numbers[JOB_MAX_NUMBERS];
    static int64_t parsed[JOB_MAX_NUMBERS];
    static uint8_t encoded[JOB_MAX_NUMBERS * JOB_NUMBER_SIZE];
    /* 20 characters and a comma for each number, and the room for "..." and the NUL
     * that job_numbers_format keeps free. */
    static char text[JOB_MAX_NUMBERS * 21 + sizeof("...")];
    char error[JOB_MESSAGE_SIZE];
    size_t count = 0;

    bool valid = size > 0 && size % JOB_NUMBER_SIZE == 0 &&
                 size / JOB_NUMBER_SIZE <= JOB_MAX_NUMBERS;
    bool decoded = job_numbers_decode(payload, size, numbers, &count, error) == 0;
    if (decoded != valid) {
        fail("job_numbers_decode",
             valid ? "rejected a valid vector" : "accepted an invalid vector");
    }
    if (!decoded) {
        return;
    }
    if (count != size / JOB_NUMBER_SIZE) {
        fail("job_numbers_decode", "count differs from the payload size / 8");
    }
    job_numbers_encode(numbers, count, encoded);
    if (memcmp(encoded, payload, size) != 0) {
        fail("job_numbers_encode", "vector does not encode back to the payload");
    }

    job_numbers_format(numbers, count, text, sizeof(text));
    size_t parsed_count = 0;
    if (job_numbers_parse(text, parsed, &parsed_count, error) != 0) {
        fail("job_numbers_parse", error);
    }
    if (parsed_count != count || memcmp(parsed, numbers, count * sizeof(numbers[0])) != 0) {
        fail("job_numbers_parse", "printed vector does not parse back to the same numbers");
    }

    /* A short buffer gets a terminated prefix that ends in "...". */
    char short_text[32];
    job_numbers_format(numbers, count, short_text, sizeof(short_text));
    if (memchr(short_text, '\0', sizeof(short_text)) == NULL) {
        fail("job_numbers_format", "output is not terminated within its buffer");
    }
}

/* Reads frames from the input with capacity and compares them with an independent walk. */
static void frames_check(const uint8_t *data, size_t size, size_t capacity)
{
    static uint8_t buffer[ATTEST_TOKEN_MAX_SIZE];
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        fail("socketpair failed", strerror(errno));
    }
    writer state = {.fd = fds[1], .data = data, .size = size};
    pthread_t thread;
    if (pthread_create(&thread, NULL, writer_run, &state) != 0) {
        fail("pthread_create failed", "");
    }

    size_t offset = 0;
    while (true) {
        uint8_t type = 0;
        size_t frame_size = 0;
        char error[JOB_MESSAGE_SIZE] = "";
        int status =
            job_frame_read(fds[0], &type, buffer, capacity, &frame_size, READ_TIMEOUT_MS, error);

        /* The frame that the input contains at offset, if it is complete and valid. */
        bool has_header = size - offset >= JOB_FRAME_HEADER_SIZE;
        size_t stated_size = 0;
        if (has_header) {
            const uint8_t *header = data + offset;
            stated_size = (size_t)header[1] << 24 | (size_t)header[2] << 16 |
                          (size_t)header[3] << 8 | header[4];
        }
        bool expected = has_header && stated_size >= 1 && stated_size <= capacity &&
                        size - offset - JOB_FRAME_HEADER_SIZE >= stated_size;

        if (status != 0) {
            if (strstr(error, "timed out") != NULL) {
                fail("job_frame_read timed out, but the writer closed", error);
            }
            if (expected) {
                fail("job_frame_read rejected a complete valid frame", error);
            }
            break;
        }
        if (!expected) {
            fail("job_frame_read accepted a frame that the input does not hold", "");
        }
        if (frame_size < 1 || frame_size > capacity) {
            fail("job_frame_read accepted a payload size outside 1 to capacity", "");
        }
        if (type != data[offset] || frame_size != stated_size ||
            memcmp(buffer, data + offset + JOB_FRAME_HEADER_SIZE, frame_size) != 0) {
            fail("job_frame_read returned a frame that differs from the input", "");
        }
        offset += JOB_FRAME_HEADER_SIZE + frame_size;

        /* What the server and worker do with each type. */
        switch (type) {
        case JOB_MESSAGE_DATA:
        case JOB_MESSAGE_RESULT:
            numbers_check(buffer, frame_size);
            break;
        default:
            sanitize_check(buffer, frame_size);
            break;
        }
    }

    close(fds[0]);
    pthread_join(thread, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sanitize_check(data, size);
    frames_check(data, size, ATTEST_TOKEN_MAX_SIZE);
    frames_check(data, size, JOB_MAX_NUMBERS * JOB_NUMBER_SIZE);
    return 0;
}
