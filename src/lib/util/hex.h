/* Hexadecimal text to bytes and back. */
#ifndef ATTEST_UTIL_HEX_H
#define ATTEST_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>

/*
 * Decodes exactly size bytes from text of exactly 2 * size hex digits, in
 * either case. Errors: ATTEST_ERR_HEX. out is written only on success.
 */
ATTEST_MUST_USE attest_err attest_hex_decode_exact(const char *text, size_t text_size,
                                                   uint8_t *out, size_t size);

/*
 * Decodes text of any even length into a new buffer the caller frees.
 * Errors: ATTEST_ERR_HEX, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_hex_decode_alloc(const char *text, size_t text_size,
                                                   uint8_t **out, size_t *out_size);

/* Writes 2 * size lowercase hex digits and a NUL to out. */
void attest_hex_encode(const uint8_t *data, size_t size, char *out);

#endif
