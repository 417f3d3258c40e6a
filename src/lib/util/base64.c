/*
 * Base64 encoding through OpenSSL's EVP_EncodeBlock (base64.h).
 */
#include <stdlib.h>

#include <openssl/evp.h>

#include "util/base64.h"

/* EVP_EncodeBlock takes an int length, so inputs stay far below INT_MAX. */
#define BASE64_MAX_INPUT_SIZE ((size_t)1 << 30)

char *attest_base64_encode(const uint8_t *data, size_t size)
{
    if (size > BASE64_MAX_INPUT_SIZE) {
        return NULL;
    }
    char *text = malloc(4 * ((size + 2) / 3) + 1);
    if (text == NULL) {
        return NULL;
    }
    EVP_EncodeBlock((unsigned char *)text, data, (int)size);
    return text;
}

char *attest_base64url_encode(const uint8_t *data, size_t size)
{
    char *text = attest_base64_encode(data, size);
    if (text == NULL) {
        return NULL;
    }
    size_t length = 0;
    for (; text[length] != '\0' && text[length] != '='; length++) {
        if (text[length] == '+') {
            text[length] = '-';
        } else if (text[length] == '/') {
            text[length] = '_';
        }
    }
    text[length] = '\0';
    return text;
}
