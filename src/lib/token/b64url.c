/* Base64url (RFC 4648 section 5) without padding, strict on decoding. */
#include <string.h>

#include <openssl/crypto.h>

#include "token/internal.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void token_b64url_encode(const uint8_t *data, size_t size, char *out)
{
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        uint32_t group = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[o++] = b64url_alphabet[(group >> 18) & 63];
        out[o++] = b64url_alphabet[(group >> 12) & 63];
        out[o++] = b64url_alphabet[(group >> 6) & 63];
        out[o++] = b64url_alphabet[group & 63];
    }
    if (size - i == 1) {
        uint32_t group = (uint32_t)data[i] << 16;
        out[o++] = b64url_alphabet[(group >> 18) & 63];
        out[o++] = b64url_alphabet[(group >> 12) & 63];
    } else if (size - i == 2) {
        uint32_t group = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        out[o++] = b64url_alphabet[(group >> 18) & 63];
        out[o++] = b64url_alphabet[(group >> 12) & 63];
        out[o++] = b64url_alphabet[(group >> 6) & 63];
    }
    out[o] = '\0';
}

/* Returns the 6-bit value of c, or -1 for a character outside the alphabet. */
static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

bool token_b64url_decode(const char *text, size_t length, uint8_t *out, size_t capacity,
                         size_t *out_size)
{
    /* A final group of one character cannot hold a whole byte. */
    if (length % 4 == 1) {
        return false;
    }
    size_t size = (length / 4) * 3 + (length % 4 == 0 ? 0 : length % 4 - 1);
    if (size > capacity) {
        return false;
    }

    uint32_t accumulator = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < length; i++) {
        int value = b64url_value(text[i]);
        if (value < 0) {
            return false;
        }
        accumulator = (accumulator << 6) | (uint32_t)value;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(accumulator >> bits);
            accumulator &= (1u << bits) - 1;
        }
    }

    /* The bits left over after the last byte must be zero (canonical encoding). */
    if (accumulator != 0) {
        OPENSSL_cleanse(out, o);
        return false;
    }
    *out_size = o;
    return true;
}

bool token_b64url_check(const char *text, size_t length)
{
    if (length % 4 == 1) {
        return false;
    }
    for (size_t i = 0; i < length; i++) {
        if (b64url_value(text[i]) < 0) {
            return false;
        }
    }
    /* A final group of 2 or 3 characters leaves 4 or 2 unused low bits in its last one. */
    if (length % 4 != 0) {
        unsigned unused_mask = length % 4 == 2 ? 0x0f : 0x03;
        return ((unsigned)b64url_value(text[length - 1]) & unused_mask) == 0;
    }
    return true;
}
