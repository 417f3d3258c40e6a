/*
 * Token signing keys: generation, PEM, self-signed certificate, JWK and kid.
 *
 * The algorithm of an RSA key (RS256 or PS384) cannot be derived from the key,
 * so the PEM text starts with a line "attest-token-alg: ALG". OpenSSL's PEM
 * reader skips text outside BEGIN/END blocks, so other tools still read the
 * file as an ordinary key and certificate.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <jose/jwk.h>

#include "token/internal.h"

#define ALG_LINE_PREFIX "attest-token-alg: "
#define RSA_GENERATED_BITS 3072
#define RSA_MIN_BITS 2048

struct attest_signing_key {
    attest_token_alg alg;
    EVP_PKEY *pkey;
    X509 *certificate;
    json_t *public_jwk; /* kty parameters, kid, alg, use, x5c */
    json_t *private_jwk; /* the key for libjose, built once instead of for every signature */
    char kid[ATTEST_TOKEN_KID_SIZE];
};

const char *attest_token_alg_name(attest_token_alg alg)
{
    switch (alg) {
    case ATTEST_TOKEN_ES256:
        return "ES256";
    case ATTEST_TOKEN_RS256:
        return "RS256";
    case ATTEST_TOKEN_PS384:
        return "PS384";
    }
    return "unknown";
}

attest_err attest_token_alg_parse(const char *name, attest_token_alg *out_alg)
{
    static const attest_token_alg algs[] = {ATTEST_TOKEN_ES256, ATTEST_TOKEN_RS256,
                                            ATTEST_TOKEN_PS384};
    if (name == NULL) {
        return ATTEST_ERR_TOKEN_ALG;
    }
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcmp(name, attest_token_alg_name(algs[i])) == 0) {
            *out_alg = algs[i];
            return ATTEST_OK;
        }
    }
    return ATTEST_ERR_TOKEN_ALG;
}

void attest_signing_key_free(attest_signing_key *key)
{
    if (key == NULL) {
        return;
    }
    /* EVP_PKEY_free clears the private key material of OpenSSL's providers. */
    EVP_PKEY_free(key->pkey);
    X509_free(key->certificate);
    json_decref(key->public_jwk);
    token_json_wipe_decref(key->private_jwk);
    OPENSSL_cleanse(key, sizeof(*key));
    free(key);
}

attest_token_alg attest_signing_key_alg(const attest_signing_key *key)
{
    return key->alg;
}

const char *attest_signing_key_kid(const attest_signing_key *key)
{
    return key->kid;
}

const json_t *attest_signing_key_public_jwk(const attest_signing_key *key)
{
    return key->public_jwk;
}

attest_err attest_jwk_thumbprint(const json_t *jwk, char out_kid[ATTEST_TOKEN_KID_SIZE])
{
    uint8_t digest[32];
    jose_cfg_t *cfg = token_jose_cfg_new();
    if (cfg == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    /* libjose hashes the members RFC 7638 requires for the kty, in lexical order. */
    size_t size = jose_jwk_thp_buf(cfg, jwk, "S256", digest, sizeof(digest));
    jose_cfg_decref(cfg);
    if (size != sizeof(digest)) {
        return ATTEST_ERR_ARGUMENT;
    }
    token_b64url_encode(digest, sizeof(digest), out_kid);
    return ATTEST_OK;
}

/* Sets jwk[name] to the base64url of bn as a big-endian number of pad_size bytes (0: minimal). */
static bool jwk_set_bn(json_t *jwk, const char *name, const BIGNUM *bn, size_t pad_size)
{
    size_t size = pad_size != 0 ? pad_size : (size_t)BN_num_bytes(bn);
    if (size == 0 || size > 1024) {
        return false;
    }
    uint8_t bytes[1024];
    char text[TOKEN_B64URL_LENGTH(1024) + 1];
    if (BN_bn2binpad(bn, bytes, (int)size) != (int)size) {
        return false;
    }
    token_b64url_encode(bytes, size, text);
    bool set = json_object_set_new(jwk, name, json_string(text)) == 0;
    OPENSSL_cleanse(bytes, size);
    OPENSSL_cleanse(text, sizeof(text));
    return set;
}

/*
 * Builds the JWK (RFC 7518 section 6) of pkey from its OpenSSL parameters:
 * public members only, or with private_members the private ones as well.
 */
static attest_err jwk_from_pkey(const EVP_PKEY *pkey, bool private_members, json_t **out_jwk)
{
    static const struct {
        const char *member;
        const char *param;
        bool private_member;
    } rsa_members[] = {
        {"n", OSSL_PKEY_PARAM_RSA_N, false},
        {"e", OSSL_PKEY_PARAM_RSA_E, false},
        {"d", OSSL_PKEY_PARAM_RSA_D, true},
        {"p", OSSL_PKEY_PARAM_RSA_FACTOR1, true},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2, true},
        {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1, true},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2, true},
        {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1, true},
    };
    static const struct {
        const char *member;
        const char *param;
        bool private_member;
    } ec_members[] = {
        {"x", OSSL_PKEY_PARAM_EC_PUB_X, false},
        {"y", OSSL_PKEY_PARAM_EC_PUB_Y, false},
        {"d", OSSL_PKEY_PARAM_PRIV_KEY, true},
    };

    bool rsa = EVP_PKEY_is_a(pkey, "RSA");
    json_t *jwk = rsa ? json_pack("{s:s}", "kty", "RSA")
                      : json_pack("{s:s,s:s}", "kty", "EC", "crv", "P-256");
    if (jwk == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    size_t count = rsa ? sizeof(rsa_members) / sizeof(rsa_members[0])
                       : sizeof(ec_members) / sizeof(ec_members[0]);
    for (size_t i = 0; i < count; i++) {
        const char *member = rsa ? rsa_members[i].member : ec_members[i].member;
        const char *param = rsa ? rsa_members[i].param : ec_members[i].param;
        bool private_member = rsa ? rsa_members[i].private_member : ec_members[i].private_member;
        if (private_member && !private_members) {
            continue;
        }
        /* EC coordinates and d have the fixed size of the P-256 field (RFC 7518 6.2.1.2). */
        BIGNUM *bn = NULL;
        bool set = EVP_PKEY_get_bn_param(pkey, param, &bn) == 1 &&
                   jwk_set_bn(jwk, member, bn, rsa ? 0 : 32);
        BN_clear_free(bn);
        if (!set) {
            token_json_wipe_decref(jwk);
            return ATTEST_ERR_CRYPTO;
        }
    }
    *out_jwk = jwk;
    return ATTEST_OK;
}

/* Checks that pkey suits alg: P-256 for ES256, RSA of RSA_MIN_BITS or more otherwise. */
static attest_err key_check_type(const EVP_PKEY *pkey, attest_token_alg alg, attest_diag *diag)
{
    switch (alg) {
    case ATTEST_TOKEN_ES256: {
        char group[32] = "";
        size_t group_size = 0;
        if (!EVP_PKEY_is_a(pkey, "EC") ||
            EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof(group), &group_size) != 1 ||
            strcmp(group, "prime256v1") != 0) {
            return attest_diag_set(diag, ATTEST_ERR_SIGNING_KEY,
                                   "signing key for ES256 is not an EC P-256 key");
        }
        return ATTEST_OK;
    }
    case ATTEST_TOKEN_RS256:
    case ATTEST_TOKEN_PS384:
        if (!EVP_PKEY_is_a(pkey, "RSA")) {
            return attest_diag_set(diag, ATTEST_ERR_SIGNING_KEY,
                                   "signing key for %s is not an RSA key",
                                   attest_token_alg_name(alg));
        }
        if (EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS) {
            return attest_diag_set(diag, ATTEST_ERR_SIGNING_KEY,
                                   "RSA signing key has %d bits, fewer than %d",
                                   EVP_PKEY_get_bits(pkey), RSA_MIN_BITS);
        }
        return ATTEST_OK;
    }
    return attest_diag_set(diag, ATTEST_ERR_TOKEN_ALG, "unknown token algorithm %d", (int)alg);
}

/* Adds an X.509v3 extension given in OpenSSL's configuration syntax. */
static bool certificate_add_extension(X509 *certificate, int nid, const char *value)
{
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
    if (extension == NULL) {
        return false;
    }
    bool added = X509_add_ext(certificate, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    return added;
}

/*
 * Makes a self-signed certificate for pkey, valid from now for
 * ATTEST_SIGNING_CERT_DAYS, with subject CN "attest token key KID" (at most 64 characters).
 */
static attest_err certificate_self_sign(EVP_PKEY *pkey, const char *kid, time_t now,
                                        X509 **out_certificate)
{
    attest_err err = ATTEST_ERR_CRYPTO;
    X509 *certificate = X509_new();
    ASN1_INTEGER *serial = NULL;
    BIGNUM *serial_number = NULL;
    char common_name[96];
    uint8_t serial_bytes[16];

    if (certificate == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    if (X509_set_version(certificate, X509_VERSION_3) != 1) {
        goto out;
    }

    /* A positive random serial of at most 127 bits (RFC 5280 allows 20 octets). */
    if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) {
        goto out;
    }
    serial_bytes[0] &= 0x7f;
    serial_number = BN_bin2bn(serial_bytes, sizeof(serial_bytes), NULL);
    if (serial_number == NULL) {
        goto out;
    }
    serial = BN_to_ASN1_INTEGER(serial_number, NULL);
    if (serial == NULL || X509_set_serialNumber(certificate, serial) != 1) {
        goto out;
    }

    time_t not_before = now;
    if (X509_time_adj_ex(X509_getm_notBefore(certificate), 0, 0, &not_before) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(certificate), ATTEST_SIGNING_CERT_DAYS, 0,
                         &not_before) == NULL) {
        goto out;
    }

    snprintf(common_name, sizeof(common_name), "attest token key %s", kid);
    X509_NAME *name = X509_get_subject_name(certificate);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name,
                                   -1, -1, 0) != 1 ||
        X509_set_issuer_name(certificate, name) != 1 || X509_set_pubkey(certificate, pkey) != 1) {
        goto out;
    }
    if (!certificate_add_extension(certificate, NID_basic_constraints, "critical,CA:FALSE") ||
        !certificate_add_extension(certificate, NID_key_usage, "critical,digitalSignature") ||
        !certificate_add_extension(certificate, NID_subject_key_identifier, "hash")) {
        goto out;
    }

    /* X509_sign returns the signature size, so any positive value is success. */
    if (X509_sign(certificate, pkey, EVP_sha256()) <= 0) {
        goto out;
    }

    *out_certificate = certificate;
    certificate = NULL;
    err = ATTEST_OK;

out:
    X509_free(certificate);
    ASN1_INTEGER_free(serial);
    BN_free(serial_number);
    return err;
}

/* Adds x5c: an array with the DER certificate in standard base64 (RFC 7517 section 4.7). */
static attest_err jwk_add_x5c(json_t *jwk, X509 *certificate)
{
    unsigned char *der = NULL;
    int der_size = i2d_X509(certificate, &der);
    if (der_size <= 0) {
        return ATTEST_ERR_CRYPTO;
    }
    size_t text_capacity = 4 * (((size_t)der_size + 2) / 3) + 1;
    char *text = malloc(text_capacity);
    if (text == NULL) {
        OPENSSL_free(der);
        return ATTEST_ERR_NOMEM;
    }
    int text_size = EVP_EncodeBlock((unsigned char *)text, der, der_size);
    OPENSSL_free(der);
    if (text_size <= 0) {
        free(text);
        return ATTEST_ERR_CRYPTO;
    }
    json_t *chain = json_pack("[s#]", text, (size_t)text_size);
    free(text);
    if (chain == NULL || json_object_set_new(jwk, "x5c", chain) != 0) {
        return ATTEST_ERR_NOMEM;
    }
    return ATTEST_OK;
}

/*
 * Builds the public JWK of pkey (kty parameters only), then the kid from
 * its thumbprint, and returns both.
 */
static attest_err key_public_jwk(EVP_PKEY *pkey, json_t **out_jwk,
                                 char out_kid[ATTEST_TOKEN_KID_SIZE])
{
    json_t *jwk = NULL;
    attest_err err = jwk_from_pkey(pkey, false, &jwk);
    if (err != ATTEST_OK) {
        return err;
    }
    char kid[ATTEST_TOKEN_KID_SIZE];
    err = attest_jwk_thumbprint(jwk, kid);
    if (err != ATTEST_OK) {
        json_decref(jwk);
        return err;
    }
    *out_jwk = jwk;
    memcpy(out_kid, kid, sizeof(kid));
    return ATTEST_OK;
}

/* Builds the private JWK of pkey with alg and kid, as libjose signs with it. */
static attest_err private_jwk_build(EVP_PKEY *pkey, attest_token_alg alg, const char *kid,
                                   json_t **out_jwk)
{
    json_t *jwk = NULL;
    attest_err err = jwk_from_pkey(pkey, true, &jwk);
    if (err != ATTEST_OK) {
        return err;
    }
    if (json_object_set_new(jwk, "alg", json_string(attest_token_alg_name(alg))) != 0 ||
        json_object_set_new(jwk, "kid", json_string(kid)) != 0) {
        token_json_wipe_decref(jwk);
        return ATTEST_ERR_NOMEM;
    }
    *out_jwk = jwk;
    return ATTEST_OK;
}

/*
 * Builds a key that takes ownership of pkey (on success only) and of
 * certificate (on success only; NULL makes a self-signed one at now).
 */
static attest_err key_assemble(attest_token_alg alg, EVP_PKEY *pkey, X509 *certificate,
                               time_t now, attest_signing_key **out_key)
{
    attest_signing_key *key = calloc(1, sizeof(*key));
    if (key == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    key->alg = alg;

    attest_err err = key_public_jwk(pkey, &key->public_jwk, key->kid);
    if (err != ATTEST_OK) {
        goto fail;
    }
    if (certificate == NULL) {
        err = certificate_self_sign(pkey, key->kid, now, &key->certificate);
        if (err != ATTEST_OK) {
            goto fail;
        }
    } else {
        key->certificate = certificate;
    }

    err = jwk_add_x5c(key->public_jwk, key->certificate);
    if (err != ATTEST_OK) {
        goto fail;
    }
    if (json_object_set_new(key->public_jwk, "kid", json_string(key->kid)) != 0 ||
        json_object_set_new(key->public_jwk, "alg", json_string(attest_token_alg_name(alg))) !=
            0 ||
        json_object_set_new(key->public_jwk, "use", json_string("sig")) != 0) {
        err = ATTEST_ERR_NOMEM;
        goto fail;
    }

    err = private_jwk_build(pkey, alg, key->kid, &key->private_jwk);
    if (err != ATTEST_OK) {
        goto fail;
    }

    key->pkey = pkey;
    *out_key = key;
    return ATTEST_OK;

fail:
    /* The caller still owns a certificate it passed in. */
    if (key->certificate != certificate) {
        X509_free(key->certificate);
    }
    json_decref(key->public_jwk);
    free(key);
    return err;
}

attest_err attest_signing_key_generate(attest_token_alg alg, time_t now,
                                       attest_signing_key **out_key)
{
    EVP_PKEY *pkey = NULL;
    switch (alg) {
    case ATTEST_TOKEN_ES256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case ATTEST_TOKEN_RS256:
    case ATTEST_TOKEN_PS384:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_GENERATED_BITS);
        break;
    default:
        return ATTEST_ERR_TOKEN_ALG;
    }
    if (pkey == NULL) {
        return ATTEST_ERR_CRYPTO;
    }

    attest_err err = key_assemble(alg, pkey, NULL, now, out_key);
    if (err != ATTEST_OK) {
        EVP_PKEY_free(pkey);
    }
    return err;
}

/* Appends the PEM in bio to text, growing it, and wipes what it copies through. */
static attest_err pem_append(BIO *bio, char **text, size_t *size)
{
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    if (length <= 0) {
        return ATTEST_ERR_CRYPTO;
    }
    char *grown = malloc(*size + (size_t)length + 1);
    if (grown == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    memcpy(grown, *text, *size);
    memcpy(grown + *size, data, (size_t)length);
    grown[*size + (size_t)length] = '\0';
    attest_signing_key_pem_free(*text, *size);
    *text = grown;
    *size += (size_t)length;
    return ATTEST_OK;
}

attest_err attest_signing_key_to_pem(const attest_signing_key *key, char **out_pem,
                                     size_t *out_size)
{
    char header[64];
    int header_size = snprintf(header, sizeof(header), ALG_LINE_PREFIX "%s\n",
                               attest_token_alg_name(key->alg));
    char *text = malloc((size_t)header_size + 1);
    if (text == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    memcpy(text, header, (size_t)header_size + 1);
    size_t size = (size_t)header_size;

    /* A secure-memory BIO wipes the private key PEM when freed. */
    attest_err err = ATTEST_ERR_CRYPTO;
    BIO *key_bio = BIO_new(BIO_s_secmem());
    BIO *certificate_bio = BIO_new(BIO_s_mem());
    if (key_bio == NULL || certificate_bio == NULL) {
        err = ATTEST_ERR_NOMEM;
        goto out;
    }
    if (PEM_write_bio_PrivateKey(key_bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_bio_X509(certificate_bio, key->certificate) != 1) {
        goto out;
    }
    err = pem_append(key_bio, &text, &size);
    if (err != ATTEST_OK) {
        goto out;
    }
    err = pem_append(certificate_bio, &text, &size);

out:
    BIO_free(key_bio);
    BIO_free(certificate_bio);
    if (err != ATTEST_OK) {
        attest_signing_key_pem_free(text, size);
        return err;
    }
    *out_pem = text;
    *out_size = size;
    return ATTEST_OK;
}

void attest_signing_key_pem_free(char *pem, size_t size)
{
    if (pem == NULL) {
        return;
    }
    OPENSSL_cleanse(pem, size);
    free(pem);
}

/* Refuses to prompt for a passphrase: an encrypted key fails to load. */
static int pem_no_passphrase(char *buffer, int size, int rwflag, void *user_data)
{
    (void)buffer;
    (void)size;
    (void)rwflag;
    (void)user_data;
    return -1;
}

/*
 * Reads the "attest-token-alg: ALG" line at the start of pem, if any.
 * Returns ATTEST_OK with *out_found false when the line is absent.
 */
static attest_err pem_read_alg_line(const char *pem, size_t size, bool *out_found,
                                    attest_token_alg *out_alg, attest_diag *diag)
{
    size_t prefix_size = strlen(ALG_LINE_PREFIX);
    if (size < prefix_size || memcmp(pem, ALG_LINE_PREFIX, prefix_size) != 0) {
        *out_found = false;
        return ATTEST_OK;
    }
    char name[16];
    size_t length = 0;
    while (prefix_size + length < size && pem[prefix_size + length] != '\n' &&
           pem[prefix_size + length] != '\r') {
        if (length + 1 >= sizeof(name)) {
            return attest_diag_set(diag, ATTEST_ERR_TOKEN_ALG,
                                   "attest-token-alg line is longer than any algorithm name");
        }
        name[length] = pem[prefix_size + length];
        length++;
    }
    name[length] = '\0';
    if (attest_token_alg_parse(name, out_alg) != ATTEST_OK) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_ALG,
                               "attest-token-alg \"%s\" is not ES256, RS256 or PS384", name);
    }
    *out_found = true;
    return ATTEST_OK;
}

attest_err attest_signing_key_from_pem(const char *pem, size_t size, time_t now,
                                       attest_signing_key **out_key, attest_diag *diag)
{
    if (pem == NULL || size > INT32_MAX) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "signing key PEM is NULL or too large");
    }

    bool alg_given = false;
    attest_token_alg alg = ATTEST_TOKEN_ES256;
    attest_err err = pem_read_alg_line(pem, size, &alg_given, &alg, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    EVP_PKEY *pkey = NULL;
    X509 *certificate = NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)size);
    if (bio == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL) {
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_SIGNING_KEY,
                               "no unencrypted private key PEM block found");
    }
    if (!alg_given) {
        alg = EVP_PKEY_is_a(pkey, "RSA") ? ATTEST_TOKEN_RS256 : ATTEST_TOKEN_ES256;
    }
    err = key_check_type(pkey, alg, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }

    /* The certificate is optional; PEM_read_bio_X509 skips the private key block. */
    bio = BIO_new_mem_buf(pem, (int)size);
    if (bio == NULL) {
        err = ATTEST_ERR_NOMEM;
        goto fail;
    }
    certificate = PEM_read_bio_X509(bio, NULL, pem_no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (certificate != NULL && X509_check_private_key(certificate, pkey) != 1) {
        ERR_clear_error();
        err = attest_diag_set(diag, ATTEST_ERR_SIGNING_KEY,
                              "certificate in the signing key PEM is for another key");
        goto fail;
    }

    err = key_assemble(alg, pkey, certificate, now, out_key);
    if (err != ATTEST_OK) {
        goto fail;
    }
    return ATTEST_OK;

fail:
    X509_free(certificate);
    EVP_PKEY_free(pkey);
    return err;
}

attest_err token_signing_key_private_jwk(const attest_signing_key *key, json_t **out_jwk)
{
    /*
     * A copy for each signature: threads that shared one json_t would race
     * on its reference count, which jansson reads without an atomic load.
     */
    json_t *copy = json_deep_copy(key->private_jwk);
    if (copy == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    *out_jwk = copy;
    return ATTEST_OK;
}
