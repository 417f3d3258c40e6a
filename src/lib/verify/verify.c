/*
 * The DCAP quote verification pipeline (stage order in verify.h).
 *
 * Verified PCK chains and verified collateral are cached by the SHA-256 of
 * their exact bytes. A cached object keeps only time-independent outcomes
 * and its validity windows; the windows, revocation of the quote's own
 * certificates and every quote-specific check run again for each quote, so
 * a cached result is never honoured outside its validity and CRL windows.
 *
 * Caveat: the caches are small and evict the oldest entry; they are sized
 * for a service that sees a few platform types at a time.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "util/file.h"
#include "util/hex.h"
#include "verify/internal.h"

#define MAX_ROOTS 8
#define CHAIN_CACHE_SIZE 32
#define COLLATERAL_CACHE_SIZE 8

struct attest_verifier {
    attest_root roots[MAX_ROOTS];
    size_t root_count;

    attest_chain *chains[CHAIN_CACHE_SIZE];
    size_t chain_next;

    attest_verified_collateral *collaterals[COLLATERAL_CACHE_SIZE];
    size_t collateral_next;

    /* The last attestation key imported, since one QE signs many quotes. */
    bool has_attestation_key;
    uint8_t attestation_key_raw[ATTEST_ECDSA_KEY_SIZE];
    EVP_PKEY *attestation_key;
};

/* ---- Trust anchors and caches ---- */

static attest_err root_add(attest_verifier *verifier, const uint8_t *der, size_t size,
                           attest_diag *diag)
{
    /* A root that is already trusted stays one anchor, so its chains never look mixed. */
    for (size_t i = 0; i < verifier->root_count; i++) {
        if (verifier->roots[i].der_size == size && memcmp(verifier->roots[i].der, der, size) == 0) {
            return ATTEST_OK;
        }
    }
    if (verifier->root_count >= MAX_ROOTS) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "at most %d trusted roots", MAX_ROOTS);
    }
    const unsigned char *cursor = der;
    X509 *cert = d2i_X509(NULL, &cursor, (long)size);
    if (cert == NULL || cursor != der + size) {
        X509_free(cert);
        ERR_clear_error();
        return attest_diag_set(diag, ATTEST_ERR_CERT_PARSE,
                               "trusted root of %zu bytes is not one DER certificate", size);
    }
    uint8_t *copy = malloc(size);
    if (copy == NULL) {
        X509_free(cert);
        return ATTEST_ERR_NOMEM;
    }
    memcpy(copy, der, size);

    attest_root *root = &verifier->roots[verifier->root_count++];
    root->cert = cert;
    root->der = copy;
    root->der_size = size;
    root->key = X509_get0_pubkey(cert);

    /* Checked once here, so chains that end at this root need not check it again. */
    if (root->key == NULL || X509_verify(cert, root->key) != 1) {
        ERR_clear_error();
        verifier->root_count--;
        X509_free(cert);
        free(copy);
        return attest_diag_set(diag, ATTEST_ERR_CERT_SIGNATURE,
                               "trusted root is not validly self-signed");
    }
    return ATTEST_OK;
}

static void caches_clear(attest_verifier *verifier)
{
    for (size_t i = 0; i < CHAIN_CACHE_SIZE; i++) {
        attest_chain_free(verifier->chains[i]);
        verifier->chains[i] = NULL;
    }
    for (size_t i = 0; i < COLLATERAL_CACHE_SIZE; i++) {
        attest_verified_collateral_free(verifier->collaterals[i]);
        verifier->collaterals[i] = NULL;
    }
}

attest_err attest_verifier_new(attest_verifier **out_verifier)
{
    if (out_verifier == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    attest_verifier *verifier = calloc(1, sizeof(*verifier));
    if (verifier == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = root_add(verifier, attest_intel_sgx_root_ca_der,
                              attest_intel_sgx_root_ca_der_size, NULL);
    if (err != ATTEST_OK) {
        attest_verifier_free(verifier);
        return err;
    }
    *out_verifier = verifier;
    return ATTEST_OK;
}

attest_err attest_verifier_add_root(attest_verifier *verifier, const uint8_t *der, size_t size,
                                    attest_diag *diag)
{
    if (verifier == NULL || der == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    /* Cached outcomes were computed against the old set of roots. */
    caches_clear(verifier);
    return root_add(verifier, der, size, diag);
}

attest_err attest_verifier_add_root_file(attest_verifier *verifier, const char *path,
                                         attest_diag *diag)
{
    if (verifier == NULL || path == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err = attest_file_read(path, 64 * 1024, &data, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    /* A PEM file is converted to the DER bytes that roots are compared by. */
    if (size > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
        BIO *bio = BIO_new_mem_buf(data, (int)size);
        X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        unsigned char *der = NULL;
        int der_size = cert != NULL ? i2d_X509(cert, &der) : -1;
        X509_free(cert);
        ERR_clear_error();
        free(data);
        if (der_size <= 0) {
            OPENSSL_free(der);
            return attest_diag_set(diag, ATTEST_ERR_CERT_PARSE,
                                   "%s is PEM but holds no valid CERTIFICATE", path);
        }
        err = attest_verifier_add_root(verifier, der, (size_t)der_size, diag);
        OPENSSL_free(der);
    } else {
        err = attest_verifier_add_root(verifier, data, size, diag);
        free(data);
    }
    if (err != ATTEST_OK && diag != NULL) {
        char detail[sizeof(diag->message)];
        snprintf(detail, sizeof(detail), "%s", diag->message);
        attest_diag_set(diag, err, "trusted root %s: %s", path, detail);
    }
    return err;
}

void attest_verifier_free(attest_verifier *verifier)
{
    if (verifier == NULL) {
        return;
    }
    caches_clear(verifier);
    for (size_t i = 0; i < verifier->root_count; i++) {
        X509_free(verifier->roots[i].cert);
        free(verifier->roots[i].der);
    }
    EVP_PKEY_free(verifier->attestation_key);
    free(verifier);
}

/* Returns the verified chain for pem, from the cache or built now (owned by the cache). */
static attest_err chain_get(attest_verifier *verifier, const uint8_t *pem, size_t size,
                            const attest_verified_collateral *verified, bool use_cache,
                            attest_chain **out_chain, bool *out_owned)
{
    if (use_cache) {
        for (size_t i = 0; i < CHAIN_CACHE_SIZE; i++) {
            attest_chain *chain = verifier->chains[i];
            if (chain != NULL && chain->source_size == size &&
                memcmp(chain->source, pem, size) == 0) {
                *out_chain = chain;
                *out_owned = false;
                return ATTEST_OK;
            }
        }
    }

    attest_chain *chain = NULL;
    attest_err err = attest_chain_build(verifier->roots, verifier->root_count, pem, size,
                                        verified != NULL ? &verified->pck_crl_issuer_known : NULL,
                                        verified != NULL ? verified->root : NULL, &chain);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!use_cache) {
        *out_chain = chain;
        *out_owned = true;
        return ATTEST_OK;
    }
    size_t slot = verifier->chain_next++ % CHAIN_CACHE_SIZE;
    attest_chain_free(verifier->chains[slot]);
    verifier->chains[slot] = chain;
    *out_chain = chain;
    *out_owned = false;
    return ATTEST_OK;
}

static attest_err collateral_get(attest_verifier *verifier, const attest_collateral *collateral,
                                 bool use_cache, attest_verified_collateral **out,
                                 bool *out_owned)
{
    if (use_cache) {
        for (size_t i = 0; i < COLLATERAL_CACHE_SIZE; i++) {
            attest_verified_collateral *verified = verifier->collaterals[i];
            if (verified != NULL && attest_collateral_equal(&verified->source, collateral)) {
                *out = verified;
                *out_owned = false;
                return ATTEST_OK;
            }
        }
    }

    attest_verified_collateral *verified = NULL;
    attest_err err = attest_collateral_verify(verifier->roots, verifier->root_count, collateral,
                                              &verified);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!use_cache) {
        *out = verified;
        *out_owned = true;
        return ATTEST_OK;
    }
    size_t slot = verifier->collateral_next++ % COLLATERAL_CACHE_SIZE;
    attest_verified_collateral_free(verifier->collaterals[slot]);
    verifier->collaterals[slot] = verified;
    *out = verified;
    *out_owned = false;
    return ATTEST_OK;
}

static attest_err attestation_key_get(attest_verifier *verifier, const uint8_t raw[64],
                                      EVP_PKEY **out_key)
{
    if (verifier->has_attestation_key &&
        memcmp(verifier->attestation_key_raw, raw, ATTEST_ECDSA_KEY_SIZE) == 0) {
        *out_key = verifier->attestation_key;
        return ATTEST_OK;
    }
    EVP_PKEY *key = NULL;
    attest_err err = attest_p256_key_from_raw(raw, &key);
    ERR_clear_error();
    if (err != ATTEST_OK) {
        return err;
    }
    EVP_PKEY_free(verifier->attestation_key);
    verifier->attestation_key = key;
    memcpy(verifier->attestation_key_raw, raw, ATTEST_ECDSA_KEY_SIZE);
    verifier->has_attestation_key = true;
    *out_key = key;
    return ATTEST_OK;
}

/* ---- Per-quote checks ---- */

static void check_revocation(attest_report *report, const attest_verified_collateral *verified,
                             const attest_chain *chain)
{
    X509 *pck = sk_X509_value(chain->certs, 0);
    X509 *ca = sk_X509_value(chain->certs, 1);

    /* Collateral and evidence must end at the same trusted root, so roots are never mixed. */
    if (verified->root != NULL && chain->root != NULL && verified->root != chain->root) {
        attest_report_add(report, ATTEST_STAGE_PCK_CHAIN, "collateral_root", ATTEST_ERR_ROOT_MIXED,
                          "collateral issuer chains end at another trusted root than the PCK "
                          "chain");
    } else if (verified->root != NULL && chain->root != NULL) {
        attest_report_add(report, ATTEST_STAGE_PCK_CHAIN, "collateral_root", ATTEST_OK,
                          "collateral and PCK chain end at the same root");
    }

    if (verified->root_ca_crl != NULL) {
        X509_REVOKED *entry = NULL;
        if (X509_NAME_cmp(X509_CRL_get_issuer(verified->root_ca_crl),
                          X509_get_issuer_name(ca)) != 0) {
            attest_report_add(report, ATTEST_STAGE_PCK_CHAIN, "intermediate_revocation",
                              ATTEST_ERR_CRL_ISSUER,
                              "root CA CRL is not issued by the intermediate CA's issuer");
        } else if (X509_CRL_get0_by_cert(verified->root_ca_crl, &entry, ca) == 1) {
            attest_report_add(report, ATTEST_STAGE_PCK_CHAIN, "intermediate_revocation",
                              ATTEST_ERR_CERT_REVOKED,
                              "intermediate CA certificate is revoked by the root CA CRL");
        } else {
            attest_report_add(report, ATTEST_STAGE_PCK_CHAIN, "intermediate_revocation", ATTEST_OK,
                              "intermediate CA certificate is not in the root CA CRL");
        }
    }

    if (verified->pck_crl != NULL && verified->pck_crl_issuer != NULL) {
        /* The PCK CRL must come from the very CA that issued this PCK certificate. */
        X509_REVOKED *entry = NULL;
        EVP_PKEY *crl_key = X509_get0_pubkey(verified->pck_crl_issuer);
        EVP_PKEY *ca_key = X509_get0_pubkey(ca);
        if (X509_NAME_cmp(X509_CRL_get_issuer(verified->pck_crl), X509_get_issuer_name(pck)) != 0 ||
            crl_key == NULL || ca_key == NULL || EVP_PKEY_eq(crl_key, ca_key) != 1) {
            attest_report_add(report, ATTEST_STAGE_PCK_CHAIN, "pck_revocation",
                              ATTEST_ERR_CRL_ISSUER,
                              "PCK CRL is not issued by the CA that issued the PCK certificate "
                              "(Platform and Processor CA have separate CRLs)");
        } else if (X509_CRL_get0_by_cert(verified->pck_crl, &entry, pck) == 1) {
            attest_report_add(report, ATTEST_STAGE_PCK_CHAIN, "pck_revocation",
                              ATTEST_ERR_CERT_REVOKED, "PCK certificate is revoked by the PCK CRL");
        } else {
            attest_report_add(report, ATTEST_STAGE_PCK_CHAIN, "pck_revocation", ATTEST_OK,
                              "PCK certificate is not in the PCK CRL");
        }
    }
    ERR_clear_error();
}

/* Checks that the collateral is for this quote's TEE and platform. */
static void check_collateral_match(attest_report *report, const attest_verified_collateral *verified,
                                   const attest_quote *quote)
{
    bool tdx = attest_quote_is_tdx(quote);
    if (verified->tcb_info_parsed) {
        const attest_tcb_info *info = &verified->tcb_info;
        bool info_tdx = info->id == ATTEST_TCB_INFO_TDX;
        attest_report_add(report, ATTEST_STAGE_COLLATERAL, "tcb_info_tee",
                          info_tdx == tdx ? ATTEST_OK : ATTEST_ERR_TEE_MISMATCH,
                          "TCB info is for %s, quote is %s", info_tdx ? "TDX" : "SGX",
                          tdx ? "TDX" : "SGX");
        if (report->has_pck) {
            char expected[13];
            char actual[13];
            attest_hex_encode(info->fmspc, sizeof(info->fmspc), expected);
            attest_hex_encode(report->pck.fmspc, sizeof(report->pck.fmspc), actual);
            bool fmspc_equal = memcmp(info->fmspc, report->pck.fmspc, sizeof(info->fmspc)) == 0;
            attest_report_add(report, ATTEST_STAGE_COLLATERAL, "tcb_info_fmspc",
                              fmspc_equal ? ATTEST_OK : ATTEST_ERR_FMSPC_MISMATCH,
                              "TCB info FMSPC %s, PCK certificate FMSPC %s", expected, actual);

            attest_hex_encode(info->pce_id, sizeof(info->pce_id), expected);
            attest_hex_encode(report->pck.pce_id, sizeof(report->pck.pce_id), actual);
            bool pce_equal = memcmp(info->pce_id, report->pck.pce_id, sizeof(info->pce_id)) == 0;
            attest_report_add(report, ATTEST_STAGE_COLLATERAL, "tcb_info_pce_id",
                              pce_equal ? ATTEST_OK : ATTEST_ERR_PCEID_MISMATCH,
                              "TCB info PCE-ID %s, PCK certificate PCE-ID %s", expected, actual);
        }
        report->tcb_info_next_update = info->next_update;
        report->tcb_evaluation_data_number = info->tcb_evaluation_data_number;
    }
    if (verified->qe_identity_parsed) {
        bool td_qe = verified->qe_identity.id == ATTEST_QE_IDENTITY_TD_QE;
        attest_report_add(report, ATTEST_STAGE_COLLATERAL, "qe_identity_tee",
                          td_qe == tdx ? ATTEST_OK : ATTEST_ERR_QE_IDENTITY_TYPE,
                          "QE identity is %s, quote is %s", td_qe ? "TD_QE" : "QE",
                          tdx ? "TDX" : "SGX");
        report->qe_identity_next_update = verified->qe_identity.next_update;
    }
}

static void check_qe_report(attest_report *report, const attest_quote *quote, EVP_PKEY *pck_key)
{
    attest_err err = attest_ecdsa_verify_raw(pck_key, quote->qe_report_raw,
                                             ATTEST_SGX_REPORT_BODY_SIZE,
                                             quote->qe_report_signature,
                                             ATTEST_ERR_QE_REPORT_SIGNATURE);
    attest_report_add(report, ATTEST_STAGE_QE_REPORT, "qe_report_signature", err,
                      err == ATTEST_OK ? "QE report signature by the PCK key valid"
                                       : "QE report signature by the PCK key invalid");

    /* The QE binds the attestation key: report data = SHA-256(key || auth data) || 32 zero bytes. */
    uint8_t digest[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int digest_size = 0;
    bool hashed = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
                  EVP_DigestUpdate(ctx, quote->attestation_key, ATTEST_ECDSA_KEY_SIZE) == 1 &&
                  EVP_DigestUpdate(ctx, quote->qe_auth_data, quote->qe_auth_data_size) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest, &digest_size) == 1;
    EVP_MD_CTX_free(ctx);
    static const uint8_t zeros[32] = {0};
    const uint8_t *report_data = quote->qe_report.report_data;
    if (!hashed) {
        attest_report_add(report, ATTEST_STAGE_QE_REPORT, "qe_report_data", ATTEST_ERR_CRYPTO,
                          "SHA-256 of the attestation key failed");
    } else if (!attest_bytes_equal(report_data, digest, 32) ||
               !attest_bytes_equal(report_data + 32, zeros, 32)) {
        attest_report_add(report, ATTEST_STAGE_QE_REPORT, "qe_report_data",
                          ATTEST_ERR_QE_REPORT_DATA,
                          "QE report data is not SHA-256(attestation key || QE authentication "
                          "data) followed by 32 zero bytes");
    } else {
        attest_report_add(report, ATTEST_STAGE_QE_REPORT, "qe_report_data", ATTEST_OK,
                          "QE report data binds the attestation key");
    }
}

static void check_quote_signature(attest_verifier *verifier, attest_report *report,
                                  const attest_quote *quote)
{
    EVP_PKEY *key = NULL;
    attest_err err = attestation_key_get(verifier, quote->attestation_key, &key);
    if (err != ATTEST_OK) {
        attest_report_add(report, ATTEST_STAGE_QUOTE_SIGNATURE, "quote_signature", err,
                          "attestation key is not a point on P-256");
        return;
    }
    err = attest_ecdsa_verify_raw(key, quote->signed_data, quote->signed_size, quote->signature,
                                  ATTEST_ERR_QUOTE_SIGNATURE);
    attest_report_add(report, ATTEST_STAGE_QUOTE_SIGNATURE, "quote_signature", err,
                      err == ATTEST_OK
                          ? "attestation key signature over header and body valid"
                          : "attestation key signature over header and body is invalid");
}

static void advisories_add(attest_advisories *into, const attest_advisories *from)
{
    for (size_t i = 0; i < from->count; i++) {
        bool present = false;
        for (size_t j = 0; j < into->count && !present; j++) {
            present = strcmp(into->ids[j], from->ids[i]) == 0;
        }
        if (!present && into->count < ATTEST_TCB_MAX_ADVISORIES) {
            memcpy(into->ids[into->count++], from->ids[i], sizeof(into->ids[0]));
        }
    }
}

/* Checks the QE report against the QE identity; returns the matched level or NULL. */
static const attest_isvsvn_level *check_qe_identity(attest_report *report,
                                                    const attest_qe_identity *identity,
                                                    const attest_sgx_report_body *qe)
{
    char expected[65];
    char actual[65];
    attest_hex_encode(identity->mrsigner, sizeof(identity->mrsigner), expected);
    attest_hex_encode(qe->mr_signer, sizeof(qe->mr_signer), actual);
    bool mrsigner_equal = memcmp(identity->mrsigner, qe->mr_signer, sizeof(qe->mr_signer)) == 0;
    attest_report_add(report, ATTEST_STAGE_QE_IDENTITY, "qe_mrsigner",
                      mrsigner_equal ? ATTEST_OK : ATTEST_ERR_QE_MRSIGNER,
                      "QE MRSIGNER %s, expected %s", actual, expected);

    attest_report_add(report, ATTEST_STAGE_QE_IDENTITY, "qe_isvprodid",
                      qe->isv_prod_id == identity->isvprodid ? ATTEST_OK : ATTEST_ERR_QE_ISVPRODID,
                      "QE ISVPRODID %u, expected %u", qe->isv_prod_id, identity->isvprodid);

    /* As in Intel's QVL, the report is masked and compared with the identity's value as written. */
    uint32_t mask = identity->miscselect_mask;
    bool misc_equal = (qe->misc_select & mask) == identity->miscselect;
    attest_report_add(report, ATTEST_STAGE_QE_IDENTITY, "qe_miscselect",
                      misc_equal ? ATTEST_OK : ATTEST_ERR_QE_MISCSELECT,
                      "QE MISCSELECT %08x under mask %08x, expected %08x", qe->misc_select, mask,
                      identity->miscselect);

    bool attributes_equal = true;
    for (size_t i = 0; i < 16; i++) {
        uint8_t m = identity->attributes_mask[i];
        attributes_equal = attributes_equal && (qe->attributes[i] & m) == identity->attributes[i];
    }
    attest_hex_encode(qe->attributes, sizeof(qe->attributes), actual);
    attest_hex_encode(identity->attributes, sizeof(identity->attributes), expected);
    attest_report_add(report, ATTEST_STAGE_QE_IDENTITY, "qe_attributes",
                      attributes_equal ? ATTEST_OK : ATTEST_ERR_QE_ATTRIBUTES,
                      "QE ATTRIBUTES %s under the mask, expected %s", actual, expected);

    const attest_isvsvn_level *level = NULL;
    attest_diag diag = {{0}};
    attest_err err = attest_qe_level_match(identity, qe->isv_svn, &level, &diag);
    if (err != ATTEST_OK) {
        attest_report_add(report, ATTEST_STAGE_QE_IDENTITY, "qe_tcb_level", err,
                          "QE ISVSVN %u: %s", qe->isv_svn, diag.message);
        return NULL;
    }
    attest_report_add(report, ATTEST_STAGE_QE_IDENTITY, "qe_tcb_level", ATTEST_OK,
                      "QE ISVSVN %u matches level ISVSVN %u: %s", qe->isv_svn, level->isvsvn,
                      attest_tcb_status_name(level->status));
    return level;
}

static void check_tcb(attest_report *report, const attest_tcb_info *info, const attest_quote *quote,
                      const attest_isvsvn_level *qe_level)
{
    attest_tcb_inputs inputs;
    memset(&inputs, 0, sizeof(inputs));
    memcpy(inputs.sgx_components, report->pck.tcb_components, 16);
    inputs.pcesvn = report->pck.pcesvn;
    if (attest_quote_is_tdx(quote)) {
        const attest_td_report_body *td = &quote->body.td;
        inputs.tdx = true;
        memcpy(inputs.tee_tcb_svn, td->tee_tcb_svn, sizeof(inputs.tee_tcb_svn));
        memcpy(inputs.mr_signer_seam, td->mr_signer_seam, sizeof(inputs.mr_signer_seam));
        memcpy(inputs.seam_attributes, td->seam_attributes, sizeof(inputs.seam_attributes));
        inputs.td15 = quote->body_type == ATTEST_BODY_TD15;
        memcpy(inputs.tee_tcb_svn2, td->tee_tcb_svn2, sizeof(inputs.tee_tcb_svn2));
    }

    attest_tcb_match match;
    attest_diag diag = {{0}};
    attest_err err = attest_tcb_level_match(info, &inputs, &match, &diag);
    if (err != ATTEST_OK) {
        attest_report_add(report, ATTEST_STAGE_TCB, "tcb_level", err, "%s", diag.message);
        return;
    }

    char date[21];
    attest_time_format(match.level->tcb_date, date);
    attest_report_add(report, ATTEST_STAGE_TCB, "tcb_level", ATTEST_OK,
                      "platform TCB level of %s: %s", date,
                      attest_tcb_status_name(match.platform_status));
    if (match.has_module) {
        attest_report_add(report, ATTEST_STAGE_TCB, "tdx_module", ATTEST_OK,
                          "TDX module %s: %s", match.module_id,
                          attest_tcb_status_name(match.module_status));
        report->has_module_status = true;
        report->module_status = match.module_status;
        memcpy(report->module_id, match.module_id, sizeof(report->module_id));
    }

    report->has_tcb_status = true;
    report->platform_status = match.platform_status;
    report->tcb_date = match.level->tcb_date;
    report->qe_status = qe_level != NULL ? qe_level->status : ATTEST_TCB_UP_TO_DATE;
    report->tcb_status = qe_level != NULL ? attest_tcb_match_merge_qe(&match, qe_level->status)
                                          : match.status;
    /* An out-of-date or revoked QE withdraws the relaunch advice. */
    report->relaunch_advised = report->tcb_status == ATTEST_TCB_TD_RELAUNCH_ADVISED ||
                               report->tcb_status ==
                                   ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;

    advisories_add(&report->advisories, &match.level->advisories);
    if (match.module_level != NULL) {
        advisories_add(&report->advisories, &match.module_level->advisories);
    }
    if (qe_level != NULL) {
        advisories_add(&report->advisories, &qe_level->advisories);
    }
}

/* Sorts the checks by stage, keeping their order inside a stage. */
static void checks_sort_by_stage(attest_report *report)
{
    for (size_t i = 1; i < report->check_count; i++) {
        attest_check check = report->checks[i];
        size_t j = i;
        while (j > 0 && report->checks[j - 1].stage > check.stage) {
            report->checks[j] = report->checks[j - 1];
            j--;
        }
        report->checks[j] = check;
    }
}

/* Decides validity: the first failing check in stage order names the error. */
static void report_finish(attest_report *report)
{
    checks_sort_by_stage(report);
    report->valid = true;
    report->err = ATTEST_OK;
    for (size_t i = 0; i < report->check_count; i++) {
        const attest_check *check = &report->checks[i];
        if (check->outcome == ATTEST_CHECK_FAIL) {
            report->valid = false;
            report->err = check->err;
            report->error_stage = check->stage;
            snprintf(report->error_message, sizeof(report->error_message), "%s", check->detail);
            break;
        }
    }
    report->collateral_expired =
        report->has_earliest_expiry && report->earliest_expiry < report->verification_time;
    if (!report->valid) {
        report->has_tcb_status = report->has_tcb_status && report->err != ATTEST_ERR_COLLATERAL_MISSING;
    }
}

attest_err attest_verifier_collateral_request(attest_verifier *verifier, const uint8_t *quote,
                                              size_t size, attest_collateral_request *out_request,
                                              attest_diag *diag)
{
    if (verifier == NULL || quote == NULL || out_request == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    attest_quote parsed;
    attest_err err = attest_quote_parse(quote, size, &parsed, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    attest_chain *chain = NULL;
    bool owned = false;
    err = chain_get(verifier, parsed.pck_chain, parsed.pck_chain_size, NULL, true, &chain, &owned);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!chain->has_pck) {
        /* The first failed check of the chain gives the reason the PCK certificate is unreadable. */
        attest_err reason = ATTEST_ERR_CERT_PARSE;
        const char *detail = "PCK certificate cannot be read";
        for (size_t i = 0; i < chain->list.check_count; i++) {
            if (chain->list.checks[i].outcome == ATTEST_CHECK_FAIL) {
                reason = chain->list.checks[i].err;
                detail = chain->list.checks[i].detail;
                break;
            }
        }
        return attest_diag_set(diag, reason, "%s", detail);
    }

    memset(out_request, 0, sizeof(*out_request));
    out_request->tdx = attest_quote_is_tdx(&parsed) ? 1 : 0;
    memcpy(out_request->fmspc, chain->pck.fmspc, sizeof(out_request->fmspc));
    out_request->pck_ca = chain->ca == ATTEST_PCK_CA_PLATFORM ? "platform" : "processor";
    return ATTEST_OK;
}

attest_err attest_verify_quote(attest_verifier *verifier, const uint8_t *quote_data, size_t size,
                               const attest_collateral *collateral, time_t at,
                               const attest_verify_options *options, attest_report *out_report)
{
    if (verifier == NULL || quote_data == NULL || out_report == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    attest_report *report = out_report;
    memset(report, 0, offsetof(attest_report, checks));
    report->check_count = 0;
    report->verification_time = at;
    bool use_chain_cache = options == NULL || !options->no_chain_cache;
    bool use_collateral_cache = options == NULL || !options->no_collateral_cache;

    /* Stage parse: nothing else can run on bytes that do not frame as a quote. */
    attest_diag diag = {{0}};
    attest_err err = attest_quote_parse(quote_data, size, &report->quote, &diag);
    if (err != ATTEST_OK) {
        attest_report_add(report, ATTEST_STAGE_PARSE, "quote_format", err, "%s", diag.message);
        report_finish(report);
        return report->err;
    }
    const attest_quote *quote = &report->quote;
    report->parsed = true;
    report->debug = attest_quote_is_debug(quote);
    attest_report_add(report, ATTEST_STAGE_PARSE, "quote_format", ATTEST_OK,
                      "version %u, %s, %zu bytes after the signature data", quote->header.version,
                      attest_quote_is_tdx(quote) ? "TDX" : "SGX", quote->trailing_size);

    /* Collateral first, because the PCK chain can reuse the CA certificate it verified. */
    attest_verified_collateral *verified = NULL;
    bool verified_owned = false;
    if (collateral != NULL) {
        err = collateral_get(verifier, collateral, use_collateral_cache, &verified, &verified_owned);
        if (err != ATTEST_OK) {
            return err;
        }
    }

    /* Stage pck_chain: the time-independent part may come from the cache. */
    attest_chain *chain = NULL;
    bool chain_owned = false;
    err = chain_get(verifier, quote->pck_chain, quote->pck_chain_size, verified, use_chain_cache,
                    &chain, &chain_owned);
    if (err != ATTEST_OK) {
        if (verified_owned) {
            attest_verified_collateral_free(verified);
        }
        return err;
    }
    attest_check_list_report(&chain->list, at, report);
    if (chain->root != NULL) {
        /* roots[0] is always the compiled-in Intel SGX Root CA. */
        report->has_root = true;
        report->simulated = chain->root != &verifier->roots[0];
        X509_NAME_oneline(X509_get_subject_name(chain->root->cert), report->root_subject,
                          (int)sizeof(report->root_subject));
    }
    if (chain->has_pck) {
        report->has_pck = true;
        report->pck = chain->pck;
        report->pck_ca = chain->ca;
    }

    if (verified != NULL) {
        report->has_collateral = true;
        attest_check_list_report(&verified->list, at, report);
        if (chain->certs != NULL) {
            check_revocation(report, verified, chain);
        }
        check_collateral_match(report, verified, quote);
    } else {
        attest_report_skip(report, ATTEST_STAGE_PCK_CHAIN, "crl_revocation",
                           "no collateral: CRLs not checked");
        attest_report_add(report, ATTEST_STAGE_COLLATERAL, "collateral_present",
                          ATTEST_ERR_COLLATERAL_MISSING,
                          "no collateral was given, so revocation and TCB status are unknown");
    }

    if (chain->pck_key != NULL && quote->qe_report_raw != NULL) {
        check_qe_report(report, quote, chain->pck_key);
    } else {
        attest_report_skip(report, ATTEST_STAGE_QE_REPORT, "qe_report_signature",
                           "no usable PCK key");
    }
    check_quote_signature(verifier, report, quote);

    const attest_isvsvn_level *qe_level = NULL;
    if (verified != NULL && verified->qe_identity_parsed) {
        qe_level = check_qe_identity(report, &verified->qe_identity, &quote->qe_report);
    } else {
        attest_report_skip(report, ATTEST_STAGE_QE_IDENTITY, "qe_identity",
                           "no usable QE identity");
    }
    if (verified != NULL && verified->tcb_info_parsed && report->has_pck) {
        check_tcb(report, &verified->tcb_info, quote, qe_level);
    } else {
        attest_report_skip(report, ATTEST_STAGE_TCB, "tcb_level",
                           "no usable TCB info or PCK certificate");
    }

    report_finish(report);
    if (chain_owned) {
        attest_chain_free(chain);
    }
    if (verified_owned) {
        attest_verified_collateral_free(verified);
    }
    return report->err;
}
