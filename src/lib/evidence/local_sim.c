/*
 * SGX local attestation on the simulated platform: EREPORT and the report
 * key check that EGETKEY enables on hardware, both derived from the
 * platform's secret. See attest_local_sim_report_key in local.h for the
 * derivation.
 *
 * Caveats: the simulated key derivation follows the shape of the
 * hardware's (platform secret, the target's identity, a key id) but not its
 * exact inputs (no OWNEREPOCH, CPUSVN or CONFIGID), so simulated reports
 * never verify on hardware and the reverse.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <attest/local.h>

#define KEY_REQUEST_LABEL "attest-sim-report-key-v1"
#define KEY_REQUEST_LABEL_SIZE (sizeof(KEY_REQUEST_LABEL) - 1)
#define KEY_REQUEST_SIZE (KEY_REQUEST_LABEL_SIZE + 32 + 16 + 4 + 2 + ATTEST_SGX_KEY_ID_SIZE)

static const char derivation_info[] = "attest sim SGX report key";

void attest_local_enclave_init(attest_local_enclave *enclave)
{
    memset(enclave, 0, sizeof(*enclave));
    enclave->attributes[0] = 0x05; /* flags: INIT | MODE64BIT, not DEBUG */
    enclave->attributes[8] = 0x03; /* XFRM: x87 | SSE */
}

void attest_local_enclave_target_info(const attest_local_enclave *enclave,
                                      attest_sgx_target_info *out_target_info)
{
    attest_sgx_target_info target;
    memset(&target, 0, sizeof(target));
    memcpy(target.mr_enclave, enclave->mr_enclave, sizeof(target.mr_enclave));
    memcpy(target.attributes, enclave->attributes, sizeof(target.attributes));
    target.config_svn = enclave->config_svn;
    target.misc_select = enclave->misc_select;
    memcpy(target.config_id, enclave->config_id, sizeof(target.config_id));
    *out_target_info = target;
}

/* out = AES-128-CMAC(key, data). */
static attest_err aes_cmac(const uint8_t key[16], const uint8_t *data, size_t size,
                           uint8_t out[16])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *context = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    attest_err err = ATTEST_ERR_CRYPTO;
    if (context == NULL) {
        goto out;
    }

    char cipher[] = "AES-128-CBC";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
        OSSL_PARAM_construct_end(),
    };
    size_t mac_size = 0;
    if (EVP_MAC_init(context, key, 16, params) != 1) {
        goto out;
    }
    if (EVP_MAC_update(context, data, size) != 1) {
        goto out;
    }
    if (EVP_MAC_final(context, out, &mac_size, 16) != 1 || mac_size != 16) {
        goto out;
    }
    err = ATTEST_OK;

out:
    EVP_MAC_CTX_free(context);
    EVP_MAC_free(mac);
    return err;
}

/* out = the first 16 bytes of HKDF-SHA-256(secret, no salt, derivation_info). */
static attest_err derivation_key(const uint8_t secret[32], uint8_t out[16])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *context = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    attest_err err = ATTEST_ERR_CRYPTO;
    if (context == NULL) {
        goto out;
    }

    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)derivation_info,
                                          sizeof(derivation_info) - 1),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_KDF_derive(context, out, 16, params) != 1) {
        goto out;
    }
    err = ATTEST_OK;

out:
    EVP_KDF_CTX_free(context);
    EVP_KDF_free(kdf);
    return err;
}

attest_err attest_local_sim_report_key(const uint8_t platform_secret[32],
                                       const attest_sgx_target_info *target_info,
                                       const uint8_t key_id[ATTEST_SGX_KEY_ID_SIZE],
                                       uint8_t out_key[ATTEST_SGX_REPORT_KEY_SIZE])
{
    if (platform_secret == NULL || target_info == NULL || key_id == NULL || out_key == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }

    /* The key request: a label, then the target's identity and the key id, integers little-endian. */
    uint8_t request[KEY_REQUEST_SIZE];
    size_t offset = 0;
    memcpy(request, KEY_REQUEST_LABEL, KEY_REQUEST_LABEL_SIZE);
    offset += KEY_REQUEST_LABEL_SIZE;
    memcpy(request + offset, target_info->mr_enclave, 32);
    offset += 32;
    memcpy(request + offset, target_info->attributes, 16);
    offset += 16;
    for (size_t i = 0; i < 4; i++) {
        request[offset++] = (uint8_t)(target_info->misc_select >> (8 * i));
    }
    request[offset++] = (uint8_t)target_info->config_svn;
    request[offset++] = (uint8_t)(target_info->config_svn >> 8);
    memcpy(request + offset, key_id, ATTEST_SGX_KEY_ID_SIZE);

    uint8_t root_key[16];
    uint8_t key[ATTEST_SGX_REPORT_KEY_SIZE];
    attest_err err = derivation_key(platform_secret, root_key);
    if (err == ATTEST_OK) {
        err = aes_cmac(root_key, request, sizeof(request), key);
    }
    if (err == ATTEST_OK) {
        memcpy(out_key, key, sizeof(key));
    }
    OPENSSL_cleanse(root_key, sizeof(root_key));
    OPENSSL_cleanse(key, sizeof(key));
    return err;
}

/* Computes the MAC of body with the report key of target for key_id. */
static attest_err report_mac(const uint8_t platform_secret[32],
                             const attest_sgx_target_info *target,
                             const attest_sgx_report_body *body,
                             const uint8_t key_id[ATTEST_SGX_KEY_ID_SIZE],
                             uint8_t out_mac[ATTEST_SGX_MAC_SIZE])
{
    uint8_t key[ATTEST_SGX_REPORT_KEY_SIZE];
    attest_err err = attest_local_sim_report_key(platform_secret, target, key_id, key);
    if (err != ATTEST_OK) {
        return err;
    }
    /* As EREPORT does, the MAC covers the 384 body bytes, not KEYID. */
    uint8_t body_bytes[ATTEST_SGX_REPORT_BODY_SIZE];
    attest_sgx_report_body_serialize(body, body_bytes);
    err = aes_cmac(key, body_bytes, sizeof(body_bytes), out_mac);
    OPENSSL_cleanse(key, sizeof(key));
    return err;
}

attest_err attest_local_sim_report_create(const uint8_t platform_secret[32],
                                          const attest_local_enclave *enclave,
                                          const attest_sgx_target_info *target_info,
                                          const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                          attest_sgx_report *out_report)
{
    if (platform_secret == NULL || enclave == NULL || target_info == NULL ||
        report_data == NULL || out_report == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }

    attest_sgx_report report;
    memset(&report, 0, sizeof(report));
    attest_sgx_report_body *body = &report.body;
    memcpy(body->cpu_svn, enclave->cpu_svn, sizeof(body->cpu_svn));
    body->misc_select = enclave->misc_select;
    memcpy(body->attributes, enclave->attributes, sizeof(body->attributes));
    memcpy(body->mr_enclave, enclave->mr_enclave, sizeof(body->mr_enclave));
    memcpy(body->mr_signer, enclave->mr_signer, sizeof(body->mr_signer));
    memcpy(body->config_id, enclave->config_id, sizeof(body->config_id));
    body->isv_prod_id = enclave->isv_prod_id;
    body->isv_svn = enclave->isv_svn;
    body->config_svn = enclave->config_svn;
    memcpy(body->report_data, report_data, ATTEST_REPORT_DATA_SIZE);

    /* Hardware takes KEYID from a value chosen at boot; a fresh random one per report is as good here. */
    if (RAND_bytes(report.key_id, sizeof(report.key_id)) != 1) {
        return ATTEST_ERR_CRYPTO;
    }
    attest_err err = report_mac(platform_secret, target_info, body, report.key_id, report.mac);
    if (err != ATTEST_OK) {
        return err;
    }
    *out_report = report;
    return ATTEST_OK;
}

attest_err attest_local_sim_report_verify(const uint8_t platform_secret[32],
                                          const attest_local_enclave *verifier,
                                          const attest_sgx_report *report, attest_diag *diag)
{
    if (platform_secret == NULL || verifier == NULL || report == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }

    /* The verifier's own identity, not anything in the report, selects the key. */
    attest_sgx_target_info self;
    attest_local_enclave_target_info(verifier, &self);
    uint8_t expected[ATTEST_SGX_MAC_SIZE];
    attest_err err = report_mac(platform_secret, &self, &report->body, report->key_id, expected);
    if (err != ATTEST_OK) {
        return err;
    }

    if (CRYPTO_memcmp(expected, report->mac, sizeof(expected)) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_REPORT_MAC,
                               "report MAC does not verify with the report key of this enclave: "
                               "the report targets another enclave, comes from another "
                               "platform, or was changed");
    }
    return ATTEST_OK;
}

attest_err attest_local_report_create(const attest_sim_platform *platform,
                                      const attest_local_enclave *enclave,
                                      const attest_sgx_target_info *target_info,
                                      const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                      attest_sgx_report *out_report, attest_diag *diag)
{
    if (platform == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    uint8_t secret[32];
    attest_err err = attest_sim_platform_secret(platform, secret);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err, "cannot read the simulated platform's secret");
    }
    err = attest_local_sim_report_create(secret, enclave, target_info, report_data, out_report);
    OPENSSL_cleanse(secret, sizeof(secret));
    return err;
}

attest_err attest_local_report_verify(const attest_sim_platform *platform,
                                      const attest_local_enclave *verifier,
                                      const attest_sgx_report *report, attest_diag *diag)
{
    if (platform == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    uint8_t secret[32];
    attest_err err = attest_sim_platform_secret(platform, secret);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err, "cannot read the simulated platform's secret");
    }
    err = attest_local_sim_report_verify(secret, verifier, report, diag);
    OPENSSL_cleanse(secret, sizeof(secret));
    return err;
}
