/*
 * Bounded reader over untrusted bytes.
 *
 * Index-based: a read either succeeds whole and advances, or fails and leaves
 * the reader unchanged. Integers are decoded little-endian explicitly. A
 * sub-reader covers a nested length-prefixed region, so a region's content
 * can never run past its declared end.
 */
#ifndef ATTEST_UTIL_READER_H
#define ATTEST_UTIL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct attest_reader {
    const uint8_t *data;
    size_t size;
    size_t offset;
    size_t base; /* offset of data[0] in the outermost buffer, for messages */
} attest_reader;

static inline attest_reader attest_reader_init(const uint8_t *data, size_t size)
{
    attest_reader reader = {data, size, 0, 0};
    return reader;
}

static inline size_t attest_reader_remaining(const attest_reader *reader)
{
    return reader->size - reader->offset;
}

/* Absolute offset of the next byte in the outermost buffer. */
static inline size_t attest_reader_position(const attest_reader *reader)
{
    return reader->base + reader->offset;
}

static inline const uint8_t *attest_reader_cursor(const attest_reader *reader)
{
    return reader->data + reader->offset;
}

__attribute__((warn_unused_result)) static inline bool
attest_reader_bytes(attest_reader *reader, void *out, size_t count)
{
    if (attest_reader_remaining(reader) < count) {
        return false;
    }
    memcpy(out, reader->data + reader->offset, count);
    reader->offset += count;
    return true;
}

/* Points out at the next count bytes without copying them. */
__attribute__((warn_unused_result)) static inline bool
attest_reader_span(attest_reader *reader, size_t count, const uint8_t **out)
{
    if (attest_reader_remaining(reader) < count) {
        return false;
    }
    *out = reader->data + reader->offset;
    reader->offset += count;
    return true;
}

__attribute__((warn_unused_result)) static inline bool
attest_reader_u16(attest_reader *reader, uint16_t *out)
{
    if (attest_reader_remaining(reader) < 2) {
        return false;
    }
    const uint8_t *p = reader->data + reader->offset;
    *out = (uint16_t)(p[0] | (p[1] << 8));
    reader->offset += 2;
    return true;
}

__attribute__((warn_unused_result)) static inline bool
attest_reader_u32(attest_reader *reader, uint32_t *out)
{
    if (attest_reader_remaining(reader) < 4) {
        return false;
    }
    const uint8_t *p = reader->data + reader->offset;
    *out = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
    reader->offset += 4;
    return true;
}

/* Splits the next count bytes off into out_sub and advances past them. */
__attribute__((warn_unused_result)) static inline bool
attest_reader_sub(attest_reader *reader, size_t count, attest_reader *out_sub)
{
    if (attest_reader_remaining(reader) < count) {
        return false;
    }
    out_sub->data = reader->data + reader->offset;
    out_sub->size = count;
    out_sub->offset = 0;
    out_sub->base = reader->base + reader->offset;
    reader->offset += count;
    return true;
}

#endif
