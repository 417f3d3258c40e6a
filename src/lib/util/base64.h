/*
 * Base64 encoding for request bodies and claims (RFC 4648, sections 4 and 5).
 */
#ifndef ATTEST_UTIL_BASE64_H
#define ATTEST_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns data in standard base64 with padding as a new string the caller
 * frees, or NULL when out of memory or size is above 1 GiB.
 */
char *attest_base64_encode(const uint8_t *data, size_t size);

/* Returns data in base64url without padding, as attest_base64_encode does. */
char *attest_base64url_encode(const uint8_t *data, size_t size);

#endif
