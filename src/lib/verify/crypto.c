/*
 * OpenSSL helpers of the verifier. Every OpenSSL call counts as successful
 * only when it returns 1.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "verify/internal.h"

attest_err attest_p256_key_from_raw(const uint8_t xy[64], EVP_PKEY **out_key)
{
    /* An uncompressed SEC1 point: 0x04 || x || y. Decoding it checks that it is on the curve. */
    uint8_t point[65];
    point[0] = 0x04;
    memcpy(point + 1, xy, 64);

    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
        OSSL_PARAM_construct_end(),
    };

    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    attest_err err = ATTEST_ERR_ATTESTATION_KEY;
    if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1) {
        err = ATTEST_OK;
    }
    EVP_PKEY_CTX_free(ctx);
    if (err != ATTEST_OK) {
        EVP_PKEY_free(key);
        return err;
    }
    *out_key = key;
    return ATTEST_OK;
}

bool attest_key_is_p256(EVP_PKEY *key)
{
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        return false;
    }
    char group[32] = {0};
    size_t group_size = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &group_size) != 1) {
        return false;
    }
    return strcmp(group, "prime256v1") == 0;
}

void attest_sha256(const uint8_t *data, size_t size, uint8_t out[32])
{
    SHA256(data, size, out);
}

attest_err attest_ecdsa_verify_digest(EVP_PKEY *key, const uint8_t digest[32],
                                      const uint8_t signature[64], attest_err failure_err)
{
    /* The quote stores r || s; OpenSSL verifies the DER form of ECDSA-Sig-Value. */
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(signature, 32, NULL);
    BIGNUM *s = BN_bin2bn(signature + 32, 32, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        ECDSA_SIG_free(sig);
        BN_free(r);
        BN_free(s);
        return ATTEST_ERR_CRYPTO;
    }

    uint8_t der[80];
    uint8_t *cursor = der;
    int der_size = i2d_ECDSA_SIG(sig, NULL);
    attest_err err = ATTEST_ERR_CRYPTO;
    if (der_size > 0 && (size_t)der_size <= sizeof(der) && i2d_ECDSA_SIG(sig, &cursor) == der_size) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
        if (ctx != NULL && EVP_PKEY_verify_init(ctx) == 1) {
            int result = EVP_PKEY_verify(ctx, der, (size_t)der_size, digest, 32);
            err = result == 1 ? ATTEST_OK : failure_err;
        }
        EVP_PKEY_CTX_free(ctx);
    }
    ECDSA_SIG_free(sig);
    return err;
}

attest_err attest_ecdsa_verify_raw(EVP_PKEY *key, const uint8_t *data, size_t size,
                                   const uint8_t signature[64], attest_err failure_err)
{
    uint8_t digest[32];
    attest_sha256(data, size, digest);
    return attest_ecdsa_verify_digest(key, digest, signature, failure_err);
}

bool attest_asn1_time_to_time_t(const ASN1_TIME *asn1, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (asn1 == NULL || ASN1_TIME_to_tm(asn1, &tm) != 1) {
        return false;
    }
    *out = timegm(&tm);
    return true;
}

bool attest_bytes_equal(const uint8_t *a, const uint8_t *b, size_t size)
{
    return CRYPTO_memcmp(a, b, size) == 0;
}

const attest_root *attest_root_find(const attest_root *roots, size_t root_count, X509 *cert)
{
    unsigned char *der = NULL;
    int der_size = i2d_X509(cert, &der);
    const attest_root *found = NULL;
    for (size_t i = 0; der_size > 0 && i < root_count && found == NULL; i++) {
        if (roots[i].der_size == (size_t)der_size &&
            memcmp(roots[i].der, der, roots[i].der_size) == 0) {
            found = &roots[i];
        }
    }
    OPENSSL_free(der);
    return found;
}

/* True when only whitespace and NUL bytes remain in data[0..size). */
static bool only_padding(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        uint8_t c = data[i];
        if (c != '\0' && c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            return false;
        }
    }
    return true;
}

/*
 * Decodes one certificate from DER. A certificate byte-identical to a trusted
 * root or to known is not decoded again: that object is shared, which also
 * spares OpenSSL's costly public key decoding.
 */
static X509 *cert_from_der(const uint8_t *der, size_t size, const attest_root *roots,
                           size_t root_count, const attest_known_cert *known)
{
    if (known != NULL && known->cert != NULL && known->der_size == size &&
        memcmp(known->der, der, size) == 0) {
        X509_up_ref(known->cert);
        return known->cert;
    }
    for (size_t i = 0; i < root_count; i++) {
        if (roots[i].der_size == size && memcmp(roots[i].der, der, size) == 0) {
            X509_up_ref(roots[i].cert);
            return roots[i].cert;
        }
    }
    const unsigned char *cursor = der;
    X509 *cert = d2i_X509(NULL, &cursor, (long)size);
    if (cert != NULL && cursor != der + size) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

attest_err attest_pem_chain_parse(const uint8_t *pem, size_t size, size_t expected_count,
                                  const char *name, const attest_root *roots, size_t root_count,
                                  const attest_known_cert *known, STACK_OF(X509) **out_chain,
                                  attest_diag *diag)
{
    if (size > INT32_MAX) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "%s of %zu bytes is too large", name, size);
    }
    /* The PEM reader stops at a NUL byte, which real quotes put at the end of the chain. */
    size_t text_size = 0;
    while (text_size < size && pem[text_size] != '\0') {
        text_size++;
    }
    if (!only_padding(pem + text_size, size - text_size)) {
        return attest_diag_set(diag, ATTEST_ERR_CERT_PARSE,
                               "%s has bytes other than NUL after a NUL at offset %zu", name,
                               text_size);
    }

    BIO *bio = BIO_new_mem_buf(pem, (int)text_size);
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (bio == NULL || chain == NULL) {
        BIO_free(bio);
        sk_X509_free(chain);
        return ATTEST_ERR_NOMEM;
    }

    attest_err err = ATTEST_OK;
    for (;;) {
        /* Stop cleanly once only padding is left; anything else must be a certificate. */
        char *remaining = NULL;
        long remaining_size = BIO_get_mem_data(bio, &remaining);
        if (remaining_size <= 0 || only_padding((const uint8_t *)remaining, (size_t)remaining_size)) {
            break;
        }
        if (sk_X509_num(chain) >= 8) {
            err = attest_diag_set(diag, ATTEST_ERR_CHAIN_DEPTH,
                                  "%s has more than 8 certificates", name);
            break;
        }

        char *block_name = NULL;
        char *block_header = NULL;
        unsigned char *der = NULL;
        long der_size = 0;
        X509 *cert = NULL;
        if (PEM_read_bio(bio, &block_name, &block_header, &der, &der_size) == 1 &&
            strcmp(block_name, PEM_STRING_X509) == 0 && block_header[0] == '\0') {
            cert = cert_from_der(der, (size_t)der_size, roots, root_count, known);
        }
        OPENSSL_free(block_name);
        OPENSSL_free(block_header);
        OPENSSL_free(der);
        if (cert == NULL) {
            err = attest_diag_set(diag, ATTEST_ERR_CERT_PARSE,
                                  "%s: certificate %d is not a valid PEM CERTIFICATE block", name,
                                  sk_X509_num(chain) + 1);
            break;
        }
        if (sk_X509_push(chain, cert) <= 0) {
            X509_free(cert);
            err = ATTEST_ERR_NOMEM;
            break;
        }
    }
    BIO_free(bio);
    ERR_clear_error();

    if (err == ATTEST_OK && (size_t)sk_X509_num(chain) != expected_count) {
        err = attest_diag_set(diag, ATTEST_ERR_CHAIN_DEPTH,
                              "%s has %d certificates, expected %zu", name, sk_X509_num(chain),
                              expected_count);
    }
    if (err != ATTEST_OK) {
        sk_X509_pop_free(chain, X509_free);
        return err;
    }
    *out_chain = chain;
    return ATTEST_OK;
}
