/*
 * libFuzzer target: attestd's base64 and base64url decoders.
 *
 * The input is the text. Its first byte also picks the size cap: no cap
 * (SIZE_MAX), exactly the decoded size, one byte less, or a multiple of 64.
 * Checks, for each decoder:
 * - it accepts exactly the texts that a simple independent check calls valid
 *   and whose decoded size fits the cap;
 * - an accepted text decodes to no more than the cap;
 * - the decoded bytes encode back (attest_base64_encode and
 *   attest_base64url_encode) to the canonical form of the text, which is the
 *   text with the unused low bits of its last character cleared and, for
 *   base64url, without padding.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation.h"
#include "util/base64.h"

static const char standard_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void fail(const char *decoder, const char *message)
{
    fprintf(stderr, "%s: %s\n", decoder, message);
    abort();
}

/* Returns the 6-bit value of c in alphabet, or -1 when c is not in it. */
static int digit_value(const char *alphabet, char c)
{
    for (int i = 0; i < 64; i++) {
        if (alphabet[i] == c) {
            return i;
        }
    }
    return -1;
}

/*
 * Checks text the way RFC 4648 describes it, apart from the unused bits of
 * the last character, which the decoders do not check. For standard base64
 * the size is a multiple of 4 with at most two '=' at the end. For
 * base64url padding is optional, but when present it makes the size a
 * multiple of 4. Writes the count of data characters and the decoded size.
 */
static bool text_valid(const char *alphabet, bool padding_required, const uint8_t *text,
                       size_t size, size_t *out_data_size, size_t *out_decoded_size)
{
    size_t data_size = size;
    if (size % 4 == 0 && size >= 4 && text[size - 1] == '=') {
        data_size = text[size - 2] == '=' ? size - 2 : size - 1;
    }
    if (padding_required && size % 4 != 0) {
        return false;
    }
    if (data_size % 4 == 1) {
        return false;
    }
    for (size_t i = 0; i < data_size; i++) {
        if (digit_value(alphabet, (char)text[i]) < 0) {
            return false;
        }
    }
    size_t tail = data_size % 4;
    *out_data_size = data_size;
    *out_decoded_size = data_size / 4 * 3 + (tail == 0 ? 0 : tail - 1);
    return true;
}

/*
 * Returns the canonical text of data_size valid characters as a new string:
 * the low bits of the last character that carry no data are cleared, and
 * with_padding appends '=' up to a multiple of 4.
 */
static char *text_canonical(const char *alphabet, const uint8_t *text, size_t data_size,
                            bool with_padding)
{
    char *canonical = malloc(data_size + 4);
    if (canonical == NULL) {
        abort();
    }
    memcpy(canonical, text, data_size);
    size_t tail = data_size % 4;
    if (tail != 0) {
        /* 2 characters carry 1 byte (4 unused bits), 3 carry 2 bytes (2 unused bits). */
        int unused_mask = tail == 2 ? 0x0f : 0x03;
        int value = digit_value(alphabet, canonical[data_size - 1]);
        canonical[data_size - 1] = alphabet[value & ~unused_mask];
    }
    size_t size = data_size;
    while (with_padding && size % 4 != 0) {
        canonical[size++] = '=';
    }
    canonical[size] = '\0';
    return canonical;
}

/* Picks the size cap from selector and the decoded size of a valid text. */
static size_t cap_pick(uint8_t selector, bool valid, size_t decoded_size)
{
    switch (selector % 4) {
    case 0:
        return SIZE_MAX;
    case 1:
        return valid ? decoded_size : 0;
    case 2:
        return valid && decoded_size > 0 ? decoded_size - 1 : 0;
    default:
        return (size_t)(selector / 4) * 64;
    }
}

static void decoder_check(bool url, const uint8_t *data, size_t size)
{
    const char *name = url ? "attestd_base64url_decode" : "attestd_base64_decode";
    const char *alphabet = url ? url_alphabet : standard_alphabet;
    size_t data_size = 0;
    size_t decoded_size = 0;
    bool valid = text_valid(alphabet, !url, data, size, &data_size, &decoded_size);
    size_t cap = cap_pick(size > 0 ? data[0] : 0, valid, decoded_size);

    uint8_t *out = NULL;
    size_t out_size = 0;
    bool accepted = url ? attestd_base64url_decode((const char *)data, size, cap, &out, &out_size)
                        : attestd_base64_decode((const char *)data, size, cap, &out, &out_size);
    bool expected = valid && decoded_size <= cap;
    if (accepted && !valid) {
        fail(name, "accepted a text that is not valid");
    }
    if (!accepted && expected) {
        fail(name, "rejected a valid text whose decoded size fits the cap");
    }
    if (accepted && decoded_size > cap) {
        fail(name, "accepted a text that decodes to more than the cap");
    }
    if (!accepted) {
        return;
    }

    if (out_size > cap) {
        fail(name, "decoded more bytes than the cap");
    }
    if (out_size != decoded_size) {
        fail(name, "decoded size differs from the size the text encodes");
    }
    char *encoded =
        url ? attest_base64url_encode(out, out_size) : attest_base64_encode(out, out_size);
    char *canonical = text_canonical(alphabet, data, data_size, !url);
    if (encoded == NULL) {
        abort();
    }
    if (strcmp(encoded, canonical) != 0) {
        fail(name, "decoded bytes do not encode back to the canonical text");
    }
    free(canonical);
    free(encoded);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decoder_check(false, data, size);
    decoder_check(true, data, size);
    return 0;
}
