/*
 * The simulated Intel PKI: P-256 keys, certificates with the subjects and
 * extensions of Intel's SGX PKI, the Intel SGX extension of PCK
 * certificates, CRLs and raw ECDSA signatures.
 *
 * Subjects carry O = "attest simulated platform", so a simulated certificate
 * never passes for an Intel one by name. The PCK CA names keep Intel's
 * common names exactly, because the verifier decides Platform or Processor
 * CA by the common name.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <attest/pck.h>

#include "sim/sim_internal.h"

#define SIM_ORGANIZATION "attest simulated platform"

const uint8_t sim_sgx_components[16] = {4, 4, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
/* TEE_TCB_SVN: module minor SVN 5, module major version 1 (TDX_01), microcode SVN 2. */
const uint8_t sim_tee_tcb_svn[16] = {5, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
/* "SIM" in ASCII, so a simulated FMSPC never equals a real one by chance. */
const uint8_t sim_fmspc[6] = {0x53, 0x49, 0x4d, 0x00, 0x00, 0x00};
const uint8_t sim_pce_id[2] = {0x00, 0x00};

static attest_err crypto_failed(attest_diag *diag, const char *what)
{
    unsigned long code = ERR_peek_last_error();
    char reason[128] = "no OpenSSL error queued";
    if (code != 0) {
        ERR_error_string_n(code, reason, sizeof(reason));
    }
    ERR_clear_error();
    return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "%s failed: %s", what, reason);
}

attest_err sim_key_generate(EVP_PKEY **out_key, attest_diag *diag)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (key == NULL) {
        return crypto_failed(diag, "P-256 key generation");
    }
    *out_key = key;
    return ATTEST_OK;
}

/* Builds the subject name CN = common_name, O = SIM_ORGANIZATION, L, ST, C as Intel orders them. */
static X509_NAME *name_build(const char *common_name)
{
    X509_NAME *name = X509_NAME_new();
    const char *fields[][2] = {
        {"CN", common_name}, {"O", SIM_ORGANIZATION}, {"L", "Santa Clara"},
        {"ST", "CA"},        {"C", "US"},
    };
    for (size_t i = 0; name != NULL && i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (X509_NAME_add_entry_by_txt(name, fields[i][0], MBSTRING_UTF8,
                                       (const unsigned char *)fields[i][1], -1, -1, 0) != 1) {
            X509_NAME_free(name);
            name = NULL;
        }
    }
    return name;
}

/* Sets a random positive 20-byte serial number, as Intel's certificates have. */
static bool serial_set(X509 *cert)
{
    uint8_t bytes[20];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return false;
    }
    bytes[0] = (uint8_t)((bytes[0] & 0x7f) | 0x01);
    BIGNUM *number = BN_bin2bn(bytes, sizeof(bytes), NULL);
    ASN1_INTEGER *serial = number != NULL ? BN_to_ASN1_INTEGER(number, NULL) : NULL;
    bool set = serial != NULL && X509_set_serialNumber(cert, serial) == 1;
    ASN1_INTEGER_free(serial);
    BN_free(number);
    return set;
}

static bool extension_add(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *extension = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    bool added = extension != NULL && X509_add_ext(cert, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    return added;
}

/* Adds the Intel SGX extension (OID 1.2.840.113741.1.13.1, not critical) with value der. */
static bool sgx_extension_add(X509 *cert, const uint8_t *der, size_t size)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(ATTEST_SGX_EXTENSION_OID, 1);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    X509_EXTENSION *extension = NULL;
    bool added = oid != NULL && value != NULL && size <= INT32_MAX &&
                 ASN1_OCTET_STRING_set(value, der, (int)size) == 1 &&
                 (extension = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, value)) != NULL &&
                 X509_add_ext(cert, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(oid);
    return added;
}

/* Adds the extensions of spec->kind: those of the Intel certificate of the same role. */
static bool extensions_add(X509 *cert, const sim_cert_spec *spec)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, spec->issuer != NULL ? spec->issuer : cert, cert, NULL, NULL, 0);

    bool added = extension_add(cert, &ctx, NID_subject_key_identifier, "hash") &&
                 extension_add(cert, &ctx, NID_authority_key_identifier, "keyid:always");
    switch (spec->kind) {
    case SIM_CERT_ROOT:
        return added && extension_add(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
               extension_add(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:1");
    case SIM_CERT_PCK_CA:
        return added && extension_add(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
               extension_add(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    case SIM_CERT_TCB_SIGNING:
        return added &&
               extension_add(cert, &ctx, NID_key_usage,
                             "critical,digitalSignature,nonRepudiation") &&
               extension_add(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    case SIM_CERT_PCK:
        return added &&
               extension_add(cert, &ctx, NID_key_usage,
                             "critical,digitalSignature,nonRepudiation") &&
               extension_add(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
               sgx_extension_add(cert, spec->sgx_extension, spec->sgx_extension_size);
    }
    return false;
}

attest_err sim_cert_issue(const sim_cert_spec *spec, X509 **out_cert, attest_diag *diag)
{
    if (spec->kind == SIM_CERT_PCK && spec->sgx_extension == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "PCK certificate \"%s\" needs an SGX extension", spec->common_name);
    }
    X509 *cert = X509_new();
    X509_NAME *subject = name_build(spec->common_name);
    X509_NAME *issuer_name = spec->issuer != NULL
                                 ? X509_NAME_dup(X509_get_subject_name(spec->issuer))
                                 : X509_NAME_dup(subject);
    EVP_PKEY *signing_key = spec->issuer != NULL ? spec->issuer_key : spec->subject_key;

    bool built = cert != NULL && subject != NULL && issuer_name != NULL &&
                 X509_set_version(cert, X509_VERSION_3) == 1 && serial_set(cert) &&
                 X509_set_subject_name(cert, subject) == 1 &&
                 X509_set_issuer_name(cert, issuer_name) == 1 &&
                 X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0,
                                  &(time_t){SIM_CERT_NOT_BEFORE}) != NULL &&
                 X509_time_adj_ex(X509_getm_notAfter(cert), 0, 0,
                                  &(time_t){SIM_CERT_NOT_AFTER}) != NULL &&
                 X509_set_pubkey(cert, spec->subject_key) == 1 && extensions_add(cert, spec) &&
                 X509_sign(cert, signing_key, EVP_sha256()) > 0;
    X509_NAME_free(subject);
    X509_NAME_free(issuer_name);
    if (!built) {
        X509_free(cert);
        char what[128];
        snprintf(what, sizeof(what), "issuing the certificate \"%s\"", spec->common_name);
        return crypto_failed(diag, what);
    }
    *out_cert = cert;
    return ATTEST_OK;
}

/* ---- The Intel SGX extension ---- */

/* Wraps value in SEQUENCE { OID oid, value } and pushes it to list; value is owned here. */
static bool entry_push(STACK_OF(ASN1_TYPE) *list, const char *oid_text, ASN1_TYPE *value)
{
    ASN1_TYPE *oid_value = ASN1_TYPE_new();
    ASN1_OBJECT *oid = OBJ_txt2obj(oid_text, 1);
    STACK_OF(ASN1_TYPE) *pair = sk_ASN1_TYPE_new_null();
    if (value == NULL || oid_value == NULL || oid == NULL || pair == NULL) {
        ASN1_TYPE_free(value);
        ASN1_TYPE_free(oid_value);
        ASN1_OBJECT_free(oid);
        sk_ASN1_TYPE_free(pair);
        return false;
    }
    ASN1_TYPE_set(oid_value, V_ASN1_OBJECT, oid);
    if (sk_ASN1_TYPE_push(pair, oid_value) <= 0) {
        ASN1_TYPE_free(oid_value);
        ASN1_TYPE_free(value);
        sk_ASN1_TYPE_free(pair);
        return false;
    }
    if (sk_ASN1_TYPE_push(pair, value) <= 0) {
        ASN1_TYPE_free(value);
        sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
        return false;
    }

    /* A SEQUENCE held in an ASN1_TYPE is its whole DER encoding. */
    unsigned char *der = NULL;
    int der_size = i2d_ASN1_SEQUENCE_ANY(pair, &der);
    sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    ASN1_STRING *sequence = der_size > 0 ? ASN1_STRING_new() : NULL;
    ASN1_TYPE *element = sequence != NULL ? ASN1_TYPE_new() : NULL;
    bool pushed = element != NULL && ASN1_STRING_set(sequence, der, der_size) == 1;
    OPENSSL_free(der);
    if (pushed) {
        ASN1_TYPE_set(element, V_ASN1_SEQUENCE, sequence);
        sequence = NULL;
        pushed = sk_ASN1_TYPE_push(list, element) > 0;
        if (!pushed) {
            ASN1_TYPE_free(element);
        }
    } else {
        ASN1_TYPE_free(element);
    }
    ASN1_STRING_free(sequence);
    return pushed;
}

static ASN1_TYPE *octets_value(const uint8_t *data, size_t size)
{
    ASN1_OCTET_STRING *octets = ASN1_OCTET_STRING_new();
    ASN1_TYPE *value = ASN1_TYPE_new();
    if (octets == NULL || value == NULL || ASN1_OCTET_STRING_set(octets, data, (int)size) != 1) {
        ASN1_OCTET_STRING_free(octets);
        ASN1_TYPE_free(value);
        return NULL;
    }
    ASN1_TYPE_set(value, V_ASN1_OCTET_STRING, octets);
    return value;
}

static ASN1_TYPE *integer_value(int type, int64_t number)
{
    ASN1_INTEGER *integer = type == V_ASN1_ENUMERATED ? ASN1_ENUMERATED_new() : ASN1_INTEGER_new();
    ASN1_TYPE *value = ASN1_TYPE_new();
    int set = integer == NULL ? 0
              : type == V_ASN1_ENUMERATED
                  ? ASN1_ENUMERATED_set_int64(integer, number)
                  : ASN1_INTEGER_set_int64(integer, number);
    if (value == NULL || set != 1) {
        ASN1_INTEGER_free(integer);
        ASN1_TYPE_free(value);
        return NULL;
    }
    ASN1_TYPE_set(value, type, integer);
    return value;
}

static ASN1_TYPE *boolean_value(bool flag)
{
    /* ASN1_TYPE_set stores a BOOLEAN as TRUE (0xFF) for any non-NULL pointer, FALSE for NULL. */
    static const int true_marker = 1;
    ASN1_TYPE *value = ASN1_TYPE_new();
    if (value != NULL) {
        ASN1_TYPE_set(value, V_ASN1_BOOLEAN, flag ? (void *)&true_marker : NULL);
    }
    return value;
}

/* Encodes list as a SEQUENCE inside a new ASN1_TYPE, freeing list. */
static ASN1_TYPE *sequence_value(STACK_OF(ASN1_TYPE) *list)
{
    unsigned char *der = NULL;
    int der_size = list != NULL ? i2d_ASN1_SEQUENCE_ANY(list, &der) : -1;
    sk_ASN1_TYPE_pop_free(list, ASN1_TYPE_free);
    ASN1_STRING *sequence = der_size > 0 ? ASN1_STRING_new() : NULL;
    ASN1_TYPE *value = sequence != NULL ? ASN1_TYPE_new() : NULL;
    if (value == NULL || ASN1_STRING_set(sequence, der, der_size) != 1) {
        OPENSSL_free(der);
        ASN1_STRING_free(sequence);
        ASN1_TYPE_free(value);
        return NULL;
    }
    OPENSSL_free(der);
    ASN1_TYPE_set(value, V_ASN1_SEQUENCE, sequence);
    return value;
}

/* The TCB entry: 16 component SVNs (.2.1 to .2.16), PCESVN (.2.17) and CPUSVN (.2.18). */
static ASN1_TYPE *tcb_value(const sim_pck_fields *fields)
{
    STACK_OF(ASN1_TYPE) *list = sk_ASN1_TYPE_new_null();
    bool built = list != NULL;
    char oid[64];
    for (int i = 0; built && i < 16; i++) {
        snprintf(oid, sizeof(oid), "%s.2.%d", ATTEST_SGX_EXTENSION_OID, i + 1);
        built = entry_push(list, oid, integer_value(V_ASN1_INTEGER, fields->components[i]));
    }
    built = built && entry_push(list, ATTEST_SGX_EXTENSION_OID ".2.17",
                                integer_value(V_ASN1_INTEGER, fields->pcesvn));
    built = built && entry_push(list, ATTEST_SGX_EXTENSION_OID ".2.18",
                                octets_value(fields->cpusvn, sizeof(fields->cpusvn)));
    if (!built) {
        sk_ASN1_TYPE_pop_free(list, ASN1_TYPE_free);
        return NULL;
    }
    return sequence_value(list);
}

/* The configuration entry of Platform CA certificates: dynamic platform, cached keys, SMT. */
static ASN1_TYPE *configuration_value(void)
{
    STACK_OF(ASN1_TYPE) *list = sk_ASN1_TYPE_new_null();
    bool built = list != NULL &&
                 entry_push(list, ATTEST_SGX_EXTENSION_OID ".7.1", boolean_value(true)) &&
                 entry_push(list, ATTEST_SGX_EXTENSION_OID ".7.2", boolean_value(true)) &&
                 entry_push(list, ATTEST_SGX_EXTENSION_OID ".7.3", boolean_value(true));
    if (!built) {
        sk_ASN1_TYPE_pop_free(list, ASN1_TYPE_free);
        return NULL;
    }
    return sequence_value(list);
}

attest_err sim_sgx_extension_encode(const sim_pck_fields *fields, uint8_t **out_der,
                                    size_t *out_size, attest_diag *diag)
{
    STACK_OF(ASN1_TYPE) *list = sk_ASN1_TYPE_new_null();
    bool built =
        list != NULL &&
        entry_push(list, ATTEST_SGX_EXTENSION_OID ".1",
                   octets_value(fields->ppid, sizeof(fields->ppid))) &&
        entry_push(list, ATTEST_SGX_EXTENSION_OID ".2", tcb_value(fields)) &&
        entry_push(list, ATTEST_SGX_EXTENSION_OID ".3",
                   octets_value(fields->pce_id, sizeof(fields->pce_id))) &&
        entry_push(list, ATTEST_SGX_EXTENSION_OID ".4",
                   octets_value(fields->fmspc, sizeof(fields->fmspc))) &&
        entry_push(list, ATTEST_SGX_EXTENSION_OID ".5",
                   integer_value(V_ASN1_ENUMERATED, fields->sgx_type));
    if (built && fields->platform) {
        built = entry_push(list, ATTEST_SGX_EXTENSION_OID ".6",
                           octets_value(fields->platform_instance_id,
                                        sizeof(fields->platform_instance_id))) &&
                entry_push(list, ATTEST_SGX_EXTENSION_OID ".7", configuration_value());
    }

    unsigned char *der = NULL;
    int der_size = built ? i2d_ASN1_SEQUENCE_ANY(list, &der) : -1;
    sk_ASN1_TYPE_pop_free(list, ASN1_TYPE_free);
    if (der_size <= 0) {
        return crypto_failed(diag, "encoding the SGX extension");
    }
    *out_der = der;
    *out_size = (size_t)der_size;
    return ATTEST_OK;
}

/* ---- CRLs ---- */

static bool crl_entry_add(X509_CRL *crl, X509 *cert, time_t revoked_at)
{
    X509_REVOKED *entry = X509_REVOKED_new();
    ASN1_TIME *date = ASN1_TIME_set(NULL, revoked_at);
    ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
    ASN1_INTEGER *serial = ASN1_INTEGER_dup(X509_get0_serialNumber(cert));
    bool added = entry != NULL && date != NULL && reason != NULL && serial != NULL &&
                 X509_REVOKED_set_serialNumber(entry, serial) == 1 &&
                 X509_REVOKED_set_revocationDate(entry, date) == 1 &&
                 ASN1_ENUMERATED_set(reason, 1 /* keyCompromise */) == 1 &&
                 X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, 0, 0) == 1 &&
                 X509_CRL_add0_revoked(crl, entry) == 1;
    if (!added) {
        X509_REVOKED_free(entry);
    }
    ASN1_INTEGER_free(serial);
    ASN1_ENUMERATED_free(reason);
    ASN1_TIME_free(date);
    return added;
}

attest_err sim_crl_issue(X509 *issuer, EVP_PKEY *issuer_key, time_t this_update,
                         time_t next_update, X509 *const *revoked, size_t revoked_count,
                         uint8_t **out_der, size_t *out_size, attest_diag *diag)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = ASN1_TIME_set(NULL, this_update);
    ASN1_TIME *next = ASN1_TIME_set(NULL, next_update);
    ASN1_INTEGER *number = ASN1_INTEGER_new();
    bool built = crl != NULL && last != NULL && next != NULL && number != NULL &&
                 X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
                 X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1 &&
                 X509_CRL_set1_lastUpdate(crl, last) == 1 &&
                 X509_CRL_set1_nextUpdate(crl, next) == 1 && ASN1_INTEGER_set(number, 1) == 1 &&
                 X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) == 1;
    for (size_t i = 0; built && i < revoked_count; i++) {
        built = crl_entry_add(crl, revoked[i], this_update);
    }
    built = built && X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, issuer_key, EVP_sha256()) > 0;
    ASN1_INTEGER_free(number);
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);

    unsigned char *der = NULL;
    int der_size = built ? i2d_X509_CRL(crl, &der) : -1;
    X509_CRL_free(crl);
    if (der_size <= 0) {
        return crypto_failed(diag, "issuing a CRL");
    }
    *out_der = der;
    *out_size = (size_t)der_size;
    return ATTEST_OK;
}

/* ---- Signatures and encodings ---- */

attest_err sim_sign_raw(EVP_PKEY *key, const uint8_t *data, size_t size,
                        uint8_t out_signature[64], attest_diag *diag)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t der_size = sizeof(der);
    bool signed_ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
                     EVP_DigestSign(ctx, der, &der_size, data, size) == 1;
    EVP_MD_CTX_free(ctx);
    if (!signed_ok) {
        return crypto_failed(diag, "ECDSA signing");
    }

    /* OpenSSL writes ECDSA-Sig-Value in DER; Intel's formats carry r and s as 32 bytes each. */
    const unsigned char *cursor = der;
    ECDSA_SIG *signature = d2i_ECDSA_SIG(NULL, &cursor, (long)der_size);
    uint8_t raw[64];
    bool converted = signature != NULL &&
                     BN_bn2binpad(ECDSA_SIG_get0_r(signature), raw, 32) == 32 &&
                     BN_bn2binpad(ECDSA_SIG_get0_s(signature), raw + 32, 32) == 32;
    ECDSA_SIG_free(signature);
    if (!converted) {
        return crypto_failed(diag, "converting an ECDSA signature to r || s");
    }
    memcpy(out_signature, raw, sizeof(raw));
    return ATTEST_OK;
}

attest_err sim_public_key_raw(EVP_PKEY *key, uint8_t out_key[64], attest_diag *diag)
{
    uint8_t point[65];
    size_t point_size = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                        &point_size) != 1 ||
        point_size != sizeof(point) || point[0] != 0x04) {
        return crypto_failed(diag, "reading an uncompressed P-256 public key");
    }
    memcpy(out_key, point + 1, 64);
    return ATTEST_OK;
}

attest_err sim_pem_chain(X509 *const *certs, size_t count, bool with_nul, uint8_t **out_pem,
                         size_t *out_size, attest_diag *diag)
{
    BIO *bio = BIO_new(BIO_s_mem());
    bool written = bio != NULL;
    for (size_t i = 0; written && i < count; i++) {
        written = PEM_write_bio_X509(bio, certs[i]) == 1;
    }
    char *text = NULL;
    long text_size = written ? BIO_get_mem_data(bio, &text) : 0;
    if (!written || text_size <= 0) {
        BIO_free(bio);
        return crypto_failed(diag, "writing a PEM certificate chain");
    }

    size_t size = (size_t)text_size + (with_nul ? 1 : 0);
    uint8_t *pem = malloc(size + 1);
    if (pem == NULL) {
        BIO_free(bio);
        return ATTEST_ERR_NOMEM;
    }
    memcpy(pem, text, (size_t)text_size);
    pem[text_size] = '\0';
    pem[size] = '\0';
    BIO_free(bio);
    *out_pem = pem;
    *out_size = size;
    return ATTEST_OK;
}

attest_err sim_digest(const uint8_t *data, size_t size, size_t digest_size, uint8_t *out_digest)
{
    const EVP_MD *md = digest_size == 48 ? EVP_sha384() : EVP_sha256();
    if (digest_size != 32 && digest_size != 48) {
        return ATTEST_ERR_ARGUMENT;
    }
    unsigned int written = 0;
    if (EVP_Digest(data, size, out_digest, &written, md, NULL) != 1 || written != digest_size) {
        ERR_clear_error();
        return ATTEST_ERR_CRYPTO;
    }
    return ATTEST_OK;
}

void sim_qe_mrsigner(uint8_t out[32])
{
    /* A fixed value, so collateral issued for one platform fits the QE of any other. */
    static const uint8_t mrsigner[32] = "SIMQE attest simulated QE signer";
    memcpy(out, mrsigner, sizeof(mrsigner));
}
