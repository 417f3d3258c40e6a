/*
 * The state directory of a simulated platform: creating it (keys,
 * certificates, platform secret) and opening it again.
 *
 * Layout, with keys and the secret written with mode 0600:
 *   root-ca.der, root-ca.pem, root-ca-key.pem          simulated SGX root CA
 *   platform-ca.pem, platform-ca-key.pem               Intel SGX PCK Platform CA
 *   processor-ca.pem, processor-ca-key.pem             Intel SGX PCK Processor CA
 *   tcb-signing.pem, tcb-signing-key.pem               TCB info and QE identity signer
 *   pck-platform.pem, pck-platform-key.pem             PCK certificate of TDX quotes
 *   pck-processor.pem, pck-processor-key.pem           PCK certificate of SGX quotes
 *   attestation-key.pem                                the QE's attestation key
 *   platform-secret.bin                                32 bytes for local attestation
 * root-ca.der is written last, so a directory without it holds no complete platform.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "sim/sim_internal.h"
#include "util/file.h"

#define STATE_FILE_MAX_SIZE (64 * 1024)
#define SECRET_FILE "platform-secret.bin"
#define ROOT_DER_FILE "root-ca.der"

/* A key and certificate pair of the platform and the files that store them. */
typedef struct pair_slot {
    const char *key_file;
    const char *cert_file; /* NULL for the attestation key, which has no certificate */
    EVP_PKEY **key;
    X509 **cert;
} pair_slot;

static size_t pair_slots(attest_sim_platform *platform, pair_slot out[7])
{
    const pair_slot slots[] = {
        {"root-ca-key.pem", "root-ca.pem", &platform->root_key, &platform->root},
        {"platform-ca-key.pem", "platform-ca.pem", &platform->platform_ca_key,
         &platform->platform_ca},
        {"processor-ca-key.pem", "processor-ca.pem", &platform->processor_ca_key,
         &platform->processor_ca},
        {"tcb-signing-key.pem", "tcb-signing.pem", &platform->tcb_signing_key,
         &platform->tcb_signing},
        {"pck-platform-key.pem", "pck-platform.pem", &platform->pck_platform_key,
         &platform->pck_platform},
        {"pck-processor-key.pem", "pck-processor.pem", &platform->pck_processor_key,
         &platform->pck_processor},
        {"attestation-key.pem", NULL, &platform->attestation_key, NULL},
    };
    memcpy(out, slots, sizeof(slots));
    return sizeof(slots) / sizeof(slots[0]);
}

static char *path_join(const char *dir, const char *name)
{
    size_t size = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(size);
    if (path != NULL) {
        snprintf(path, size, "%s/%s", dir, name);
    }
    return path;
}

/* Creates dir/name with mode; an existing file is an error, so no platform is overwritten. */
static attest_err file_create(const char *dir, const char *name, const void *data, size_t size,
                              mode_t mode, attest_diag *diag)
{
    char *path = path_join(dir, name);
    if (path == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        attest_err err = attest_diag_set(diag, ATTEST_ERR_IO, "cannot create %s: %s", path,
                                         strerror(errno));
        free(path);
        return err;
    }

    const uint8_t *cursor = data;
    size_t left = size;
    while (left > 0) {
        ssize_t written = write(fd, cursor, left);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            attest_err err = attest_diag_set(diag, ATTEST_ERR_IO, "writing %s failed: %s", path,
                                             strerror(errno));
            close(fd);
            free(path);
            return err;
        }
        cursor += written;
        left -= (size_t)written;
    }
    if (close(fd) != 0) {
        attest_err err = attest_diag_set(diag, ATTEST_ERR_IO, "closing %s failed: %s", path,
                                         strerror(errno));
        free(path);
        return err;
    }
    free(path);
    return ATTEST_OK;
}

/* Writes the contents of the memory BIO bio to dir/name. */
static attest_err bio_save(BIO *bio, const char *dir, const char *name, mode_t mode,
                           attest_diag *diag)
{
    char *data = NULL;
    long size = BIO_get_mem_data(bio, &data);
    if (size <= 0) {
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "encoding %s produced no bytes", name);
    }
    return file_create(dir, name, data, (size_t)size, mode, diag);
}

static attest_err key_save(EVP_PKEY *key, const char *dir, const char *name, attest_diag *diag)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "encoding the key %s failed", name);
    }
    attest_err err = bio_save(bio, dir, name, 0600, diag);

    /* The memory BIO held the private key in PEM: wipe it before it is freed. */
    char *data = NULL;
    long size = BIO_get_mem_data(bio, &data);
    if (size > 0) {
        OPENSSL_cleanse(data, (size_t)size);
    }
    BIO_free(bio);
    return err;
}

static attest_err cert_save(X509 *cert, const char *dir, const char *name, attest_diag *diag)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
        BIO_free(bio);
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "encoding the certificate %s failed",
                               name);
    }
    attest_err err = bio_save(bio, dir, name, 0644, diag);
    BIO_free(bio);
    return err;
}

static attest_err root_der_save(X509 *root, const char *dir, attest_diag *diag)
{
    unsigned char *der = NULL;
    int size = i2d_X509(root, &der);
    if (size <= 0) {
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "encoding the root certificate failed");
    }
    attest_err err = file_create(dir, ROOT_DER_FILE, der, (size_t)size, 0644, diag);
    OPENSSL_free(der);
    return err;
}

/* Issues the PCK certificate of ca with the platform's TCB. */
static attest_err pck_issue(const char *common_name, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
                            const sim_pck_fields *fields, X509 **out_cert, attest_diag *diag)
{
    uint8_t *extension = NULL;
    size_t extension_size = 0;
    attest_err err = sim_sgx_extension_encode(fields, &extension, &extension_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    sim_cert_spec spec = {SIM_CERT_PCK, common_name, key, ca, ca_key, extension, extension_size};
    err = sim_cert_issue(&spec, out_cert, diag);
    OPENSSL_free(extension);
    return err;
}

/* Generates every key and issues every certificate of a new platform. */
static attest_err platform_generate(attest_sim_platform *platform, attest_diag *diag)
{
    pair_slot slots[7];
    size_t count = pair_slots(platform, slots);
    for (size_t i = 0; i < count; i++) {
        attest_err err = sim_key_generate(slots[i].key, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }

    const sim_cert_spec specs[] = {
        {SIM_CERT_ROOT, "attest Simulated SGX Root CA", platform->root_key, NULL, NULL, NULL, 0},
        {SIM_CERT_PCK_CA, "Intel SGX PCK Platform CA", platform->platform_ca_key, NULL,
         platform->root_key, NULL, 0},
        {SIM_CERT_PCK_CA, "Intel SGX PCK Processor CA", platform->processor_ca_key, NULL,
         platform->root_key, NULL, 0},
        {SIM_CERT_TCB_SIGNING, "attest Simulated SGX TCB Signing", platform->tcb_signing_key,
         NULL, platform->root_key, NULL, 0},
    };
    X509 **targets[] = {&platform->root, &platform->platform_ca, &platform->processor_ca,
                        &platform->tcb_signing};
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        sim_cert_spec spec = specs[i];
        if (spec.kind != SIM_CERT_ROOT) {
            spec.issuer = platform->root;
        }
        attest_err err = sim_cert_issue(&spec, targets[i], diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }

    sim_pck_fields fields;
    memset(&fields, 0, sizeof(fields));
    if (RAND_bytes(fields.ppid, sizeof(fields.ppid)) != 1 ||
        RAND_bytes(fields.platform_instance_id, sizeof(fields.platform_instance_id)) != 1 ||
        RAND_bytes(platform->secret, sizeof(platform->secret)) != 1) {
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO,
                               "generating the random PPID, platform instance ID or secret "
                               "failed");
    }
    memcpy(fields.components, sim_sgx_components, sizeof(fields.components));
    fields.pcesvn = SIM_PCESVN;
    memcpy(fields.cpusvn, sim_sgx_components, sizeof(fields.cpusvn));
    memcpy(fields.pce_id, sim_pce_id, sizeof(fields.pce_id));
    memcpy(fields.fmspc, sim_fmspc, sizeof(fields.fmspc));

    /* A Processor CA certificate of a standard SGX part; a Platform CA one of a scalable part. */
    fields.sgx_type = 0;
    fields.platform = false;
    attest_err err = pck_issue("attest Simulated SGX PCK Certificate", platform->pck_processor_key,
                               platform->processor_ca, platform->processor_ca_key, &fields,
                               &platform->pck_processor, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    fields.sgx_type = 1;
    fields.platform = true;
    return pck_issue("attest Simulated SGX PCK Certificate", platform->pck_platform_key,
                     platform->platform_ca, platform->platform_ca_key, &fields,
                     &platform->pck_platform, diag);
}

static attest_err platform_save(attest_sim_platform *platform, const char *dir,
                                attest_diag *diag)
{
    pair_slot slots[7];
    size_t count = pair_slots(platform, slots);
    for (size_t i = 0; i < count; i++) {
        attest_err err = key_save(*slots[i].key, dir, slots[i].key_file, diag);
        if (err == ATTEST_OK && slots[i].cert_file != NULL) {
            err = cert_save(*slots[i].cert, dir, slots[i].cert_file, diag);
        }
        if (err != ATTEST_OK) {
            return err;
        }
    }
    attest_err err =
        file_create(dir, SECRET_FILE, platform->secret, sizeof(platform->secret), 0600, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return root_der_save(platform->root, dir, diag);
}

attest_err attest_sim_platform_init(const char *dir, attest_diag *diag)
{
    if (dir == NULL || dir[0] == '\0') {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "platform directory is empty");
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot create the directory %s: %s", dir,
                               strerror(errno));
    }

    attest_sim_platform *platform = calloc(1, sizeof(*platform));
    if (platform == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = platform_generate(platform, diag);
    if (err == ATTEST_OK) {
        err = platform_save(platform, dir, diag);
    }
    attest_sim_platform_free(platform);
    return err;
}

/* Reads dir/name whole; the buffer is NUL-terminated and wiped by the caller. */
static attest_err state_file_read(const char *dir, const char *name, uint8_t **out_data,
                                  size_t *out_size, attest_diag *diag)
{
    char *path = path_join(dir, name);
    if (path == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = attest_file_read(path, STATE_FILE_MAX_SIZE, out_data, out_size, diag);
    free(path);
    return err;
}

static attest_err key_load(const char *dir, const char *name, EVP_PKEY **out_key,
                           attest_diag *diag)
{
    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err = state_file_read(dir, name, &data, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    BIO *bio = BIO_new_mem_buf(data, (int)size);
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    OPENSSL_clear_free(data, size);
    if (key == NULL || EVP_PKEY_is_a(key, "EC") != 1) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "%s/%s is not a PEM EC private key", dir,
                               name);
    }
    *out_key = key;
    return ATTEST_OK;
}

static attest_err cert_load(const char *dir, const char *name, EVP_PKEY *key, X509 **out_cert,
                            attest_diag *diag)
{
    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err = state_file_read(dir, name, &data, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    BIO *bio = BIO_new_mem_buf(data, (int)size);
    X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    free(data);
    if (cert == NULL) {
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_CERT_PARSE, "%s/%s is not a PEM certificate",
                               dir, name);
    }
    if (X509_check_private_key(cert, key) != 1) {
        X509_free(cert);
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_CERT_KEY,
                               "%s/%s does not match its private key", dir, name);
    }
    *out_cert = cert;
    return ATTEST_OK;
}

static attest_err platform_load(attest_sim_platform *platform, const char *dir,
                                attest_diag *diag)
{
    pair_slot slots[7];
    size_t count = pair_slots(platform, slots);
    for (size_t i = 0; i < count; i++) {
        attest_err err = key_load(dir, slots[i].key_file, slots[i].key, diag);
        if (err == ATTEST_OK && slots[i].cert_file != NULL) {
            err = cert_load(dir, slots[i].cert_file, *slots[i].key, slots[i].cert, diag);
        }
        if (err != ATTEST_OK) {
            return err;
        }
    }

    uint8_t *secret = NULL;
    size_t secret_size = 0;
    attest_err err = state_file_read(dir, SECRET_FILE, &secret, &secret_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (secret_size != sizeof(platform->secret)) {
        OPENSSL_clear_free(secret, secret_size);
        return attest_diag_set(diag, ATTEST_ERR_IO, "%s/%s has %zu bytes, expected %zu", dir,
                               SECRET_FILE, secret_size, sizeof(platform->secret));
    }
    memcpy(platform->secret, secret, sizeof(platform->secret));
    OPENSSL_clear_free(secret, secret_size);
    return ATTEST_OK;
}

attest_err attest_sim_platform_open(const char *dir, attest_sim_platform **out_platform,
                                    attest_diag *diag)
{
    if (dir == NULL || out_platform == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "platform directory or output is NULL");
    }
    char *marker = path_join(dir, ROOT_DER_FILE);
    if (marker == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    struct stat status;
    bool exists = stat(marker, &status) == 0;
    free(marker);
    if (!exists) {
        return attest_diag_set(diag, ATTEST_ERR_IO,
                               "no simulated platform in %s (%s is missing); create one with "
                               "attest sim init --dir %s",
                               dir, ROOT_DER_FILE, dir);
    }

    attest_sim_platform *platform = calloc(1, sizeof(*platform));
    if (platform == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = platform_load(platform, dir, diag);
    if (err == ATTEST_OK) {
        err = sim_quote_parts_prepare(platform, diag);
    }
    if (err != ATTEST_OK) {
        attest_sim_platform_free(platform);
        return err;
    }
    *out_platform = platform;
    return ATTEST_OK;
}

void attest_sim_platform_free(attest_sim_platform *platform)
{
    if (platform == NULL) {
        return;
    }
    sim_quote_parts_clear(platform);
    pair_slot slots[7];
    size_t count = pair_slots(platform, slots);
    for (size_t i = 0; i < count; i++) {
        EVP_PKEY_free(*slots[i].key);
        if (slots[i].cert != NULL) {
            X509_free(*slots[i].cert);
        }
    }
    OPENSSL_clear_free(platform, sizeof(*platform));
}

attest_err attest_sim_platform_secret(const attest_sim_platform *platform,
                                      uint8_t out_secret[32])
{
    if (platform == NULL || out_secret == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    memcpy(out_secret, platform->secret, sizeof(platform->secret));
    return ATTEST_OK;
}

sim_pck sim_platform_pck(const attest_sim_platform *platform, attest_sim_tee tee)
{
    sim_pck pck;
    if (tee == ATTEST_SIM_TDX) {
        pck.cert = platform->pck_platform;
        pck.key = platform->pck_platform_key;
        pck.ca = platform->platform_ca;
        pck.ca_key = platform->platform_ca_key;
    } else {
        pck.cert = platform->pck_processor;
        pck.key = platform->pck_processor_key;
        pck.ca = platform->processor_ca;
        pck.ca_key = platform->processor_ca_key;
    }
    return pck;
}
