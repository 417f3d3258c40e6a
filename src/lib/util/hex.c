#include <stdlib.h>

#include "util/hex.h"

static int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static attest_err hex_decode_into(const char *text, size_t size, uint8_t *out)
{
    for (size_t i = 0; i < size; i++) {
        int high = hex_digit_value(text[2 * i]);
        int low = hex_digit_value(text[2 * i + 1]);
        if (high < 0 || low < 0) {
            return ATTEST_ERR_HEX;
        }
        out[i] = (uint8_t)((high << 4) | low);
    }
    return ATTEST_OK;
}

attest_err attest_hex_decode_exact(const char *text, size_t text_size, uint8_t *out,
                                   size_t size)
{
    if (text == NULL || text_size != 2 * size) {
        return ATTEST_ERR_HEX;
    }

    /* Decode into a scratch copy first, so out is untouched on failure. */
    uint8_t scratch[256];
    if (size <= sizeof(scratch)) {
        attest_err err = hex_decode_into(text, size, scratch);
        if (err != ATTEST_OK) {
            return err;
        }
        for (size_t i = 0; i < size; i++) {
            out[i] = scratch[i];
        }
        return ATTEST_OK;
    }

    uint8_t *buffer = NULL;
    size_t buffer_size = 0;
    attest_err err = attest_hex_decode_alloc(text, text_size, &buffer, &buffer_size);
    if (err != ATTEST_OK) {
        return err;
    }
    for (size_t i = 0; i < size; i++) {
        out[i] = buffer[i];
    }
    free(buffer);
    return ATTEST_OK;
}

attest_err attest_hex_decode_alloc(const char *text, size_t text_size, uint8_t **out,
                                   size_t *out_size)
{
    if (text == NULL || text_size % 2 != 0) {
        return ATTEST_ERR_HEX;
    }
    size_t size = text_size / 2;
    uint8_t *buffer = malloc(size > 0 ? size : 1);
    if (buffer == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = hex_decode_into(text, size, buffer);
    if (err != ATTEST_OK) {
        free(buffer);
        return err;
    }
    *out = buffer;
    *out_size = size;
    return ATTEST_OK;
}

void attest_hex_encode(const uint8_t *data, size_t size, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    out[2 * size] = '\0';
}
