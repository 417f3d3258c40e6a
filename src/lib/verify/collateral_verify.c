/*
 * The time-independent checks of collateral: the CRLs (stage pck_chain) and
 * the TCB info and QE identity documents (stage collateral), each with its
 * issuer chain. The result is immutable and cached by the digest of the raw
 * collateral; validity windows are recorded and checked per quote.
 *
 * Checks that need the quote's PCK chain (revocation of the PCK certificate
 * and its CA, roots matching the PCK chain's) are made in verify.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "verify/internal.h"

/* The fields of a collateral, in one order for copying and comparing. */
static attest_bytes *collateral_fields(attest_collateral *collateral, size_t index)
{
    attest_bytes *fields[] = {
        &collateral->pck_crl_issuer_chain, &collateral->root_ca_crl,
        &collateral->pck_crl,              &collateral->tcb_info_issuer_chain,
        &collateral->tcb_info,             &collateral->tcb_info_signature,
        &collateral->qe_identity_issuer_chain, &collateral->qe_identity,
        &collateral->qe_identity_signature,
    };
    return index < sizeof(fields) / sizeof(fields[0]) ? fields[index] : NULL;
}

bool attest_collateral_equal(const attest_collateral *a, const attest_collateral *b)
{
    for (size_t i = 0; collateral_fields((attest_collateral *)a, i) != NULL; i++) {
        const attest_bytes *x = collateral_fields((attest_collateral *)a, i);
        const attest_bytes *y = collateral_fields((attest_collateral *)b, i);
        if (x->size != y->size || (x->size > 0 && memcmp(x->data, y->data, x->size) != 0)) {
            return false;
        }
    }
    return true;
}

static attest_err collateral_copy(const attest_collateral *from, attest_collateral *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; collateral_fields(out, i) != NULL; i++) {
        const attest_bytes *source = collateral_fields((attest_collateral *)from, i);
        attest_bytes *target = collateral_fields(out, i);
        target->data = malloc(source->size > 0 ? source->size : 1);
        if (target->data == NULL) {
            attest_collateral_clear(out);
            return ATTEST_ERR_NOMEM;
        }
        if (source->size > 0) {
            memcpy(target->data, source->data, source->size);
        }
        target->size = source->size;
    }
    return ATTEST_OK;
}

/* Parses a CRL in DER, or in PEM when it starts like PEM. */
static X509_CRL *crl_parse(const attest_bytes *bytes)
{
    if (bytes->size == 0 || bytes->size > INT32_MAX) {
        return NULL;
    }
    if (bytes->size > 10 && memcmp(bytes->data, "-----BEGIN", 10) == 0) {
        BIO *bio = BIO_new_mem_buf(bytes->data, (int)bytes->size);
        X509_CRL *crl = bio != NULL ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        return crl;
    }
    const unsigned char *cursor = bytes->data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &cursor, (long)bytes->size);
    if (crl != NULL && cursor != bytes->data + bytes->size) {
        /* Bytes after the DER structure: not a well-formed CRL file. */
        X509_CRL_free(crl);
        return NULL;
    }
    return crl;
}

/* Check names of one CRL: parse, issuer, signature, validity. */
typedef struct crl_checks {
    const char *what;
    const char *parse;
    const char *issuer;
    const char *signature;
    const char *validity;
} crl_checks;

static const crl_checks root_ca_crl_checks = {
    "root CA CRL", "root_ca_crl_parse", "root_ca_crl_issuer", "root_ca_crl_signature",
    "root_ca_crl_validity",
};

static const crl_checks pck_crl_checks = {
    "PCK CRL", "pck_crl_parse", "pck_crl_issuer", "pck_crl_signature", "pck_crl_validity",
};

/*
 * Parses and checks a CRL signed by issuer: issuer name, signature and the
 * validity window. Returns the CRL only when every check passed.
 */
static X509_CRL *check_crl(attest_check_list *list, const attest_bytes *bytes,
                           const crl_checks *names, X509 *issuer)
{
    X509_CRL *crl = crl_parse(bytes);
    if (crl == NULL || X509_CRL_get0_nextUpdate(crl) == NULL) {
        ERR_clear_error();
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, names->parse, ATTEST_ERR_CRL_PARSE,
                              "%s cannot be parsed as DER or has no nextUpdate", names->what);
        X509_CRL_free(crl);
        return NULL;
    }
    if (issuer == NULL) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, names->issuer, ATTEST_ERR_CRL_ISSUER,
                              "%s cannot be checked: its issuer chain is invalid", names->what);
        X509_CRL_free(crl);
        return NULL;
    }

    bool passed = true;
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, names->issuer, ATTEST_ERR_CRL_ISSUER,
                              "%s issuer is not the CA it covers", names->what);
        passed = false;
    } else {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, names->issuer, ATTEST_OK,
                              "%s issued by its CA", names->what);
    }

    EVP_PKEY *key = X509_get0_pubkey(issuer);
    if (key != NULL && X509_CRL_verify(crl, key) == 1) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, names->signature, ATTEST_OK,
                              "%s signature valid", names->what);
    } else {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, names->signature,
                              ATTEST_ERR_CRL_SIGNATURE, "%s signature invalid", names->what);
        passed = false;
    }
    ERR_clear_error();

    attest_check_list_window(list, ATTEST_STAGE_PCK_CHAIN, names->validity, names->what, NULL,
                             crl);
    if (!passed) {
        X509_CRL_free(crl);
        return NULL;
    }
    return crl;
}

/*
 * Parses an issuer chain of two certificates (signer, root) and checks that
 * its root is trusted and matches expected_root (when not NULL), and that
 * the root signed the signer. Returns the chain, or NULL after recording why.
 */
static STACK_OF(X509) *check_issuer_chain(attest_check_list *list, attest_stage stage,
                                          const attest_bytes *pem, const char *check,
                                          const char *what, const attest_root *roots,
                                          size_t root_count, const attest_root **inout_root)
{
    attest_diag diag = {{0}};
    STACK_OF(X509) *chain = NULL;
    attest_err err = attest_pem_chain_parse(pem->data, pem->size, 2, what, roots, root_count,
                                            NULL, &chain, &diag);
    if (err != ATTEST_OK) {
        attest_check_list_add(list, stage, check, err, "%s", diag.message);
        return NULL;
    }

    X509 *signer = sk_X509_value(chain, 0);
    X509 *root = sk_X509_value(chain, 1);
    const attest_root *trusted = attest_root_find(roots, root_count, root);
    if (trusted == NULL) {
        attest_check_list_add(list, stage, check, ATTEST_ERR_ROOT_UNTRUSTED,
                              "%s ends at a root that is not byte-identical to a trusted root",
                              what);
        sk_X509_pop_free(chain, X509_free);
        return NULL;
    }
    if (*inout_root != NULL && *inout_root != trusted) {
        attest_check_list_add(list, stage, check, ATTEST_ERR_ROOT_MIXED,
                              "%s ends at another trusted root than the other collateral", what);
        sk_X509_pop_free(chain, X509_free);
        return NULL;
    }
    *inout_root = trusted;

    if (X509_verify(signer, trusted->key) != 1 ||
        X509_NAME_cmp(X509_get_issuer_name(signer), X509_get_subject_name(trusted->cert)) != 0) {
        ERR_clear_error();
        attest_check_list_add(list, stage, check, ATTEST_ERR_CERT_SIGNATURE,
                              "%s: certificate signature by the root is invalid", what);
        sk_X509_pop_free(chain, X509_free);
        return NULL;
    }
    if (X509_check_ca(signer) != 1 && strcmp(check, "pck_crl_issuer_chain") == 0) {
        attest_check_list_add(list, stage, check, ATTEST_ERR_CERT_CA,
                              "%s: the CRL issuer is not a CA", what);
        sk_X509_pop_free(chain, X509_free);
        return NULL;
    }
    attest_check_list_add(list, stage, check, ATTEST_OK, "%s chains to the trusted root", what);
    return chain;
}

/* Reports whether cert is listed in the root CA CRL. */
static void check_not_revoked(attest_check_list *list, attest_stage stage, const char *check,
                              const char *what, X509_CRL *root_ca_crl, X509 *cert)
{
    if (root_ca_crl == NULL) {
        attest_check_list_add(list, stage, check, ATTEST_ERR_CRL_PARSE,
                              "%s revocation cannot be checked: the root CA CRL is unusable",
                              what);
        return;
    }
    X509_REVOKED *entry = NULL;
    if (X509_CRL_get0_by_cert(root_ca_crl, &entry, cert) == 1) {
        attest_check_list_add(list, stage, check, ATTEST_ERR_CERT_REVOKED,
                              "%s is revoked by the root CA CRL", what);
    } else {
        attest_check_list_add(list, stage, check, ATTEST_OK,
                              "%s is not in the root CA CRL", what);
    }
}

/* The parts of a signed document (TCB info or QE identity) and their check names. */
typedef struct signed_document {
    const attest_bytes *text;
    const attest_bytes *signature;
    const attest_bytes *issuer_chain;
    const char *what;          /* "TCB info" */
    const char *chain_check;   /* "tcb_info_issuer_chain" */
    const char *revoked_check; /* "tcb_info_signer_revocation" */
    const char *signer_window; /* "tcb_info_signer_validity" */
    const char *signature_check;
    const char *parse_check;
    const char *window_check;
    const attest_bytes *same_as;   /* an issuer chain already verified, or NULL */
    STACK_OF(X509) *same_as_chain; /* its parsed certificates */
} signed_document;

/*
 * Checks the issuer chain and signature of doc and returns its signer chain,
 * or NULL. The signature covers the exact bytes of the document text.
 */
static STACK_OF(X509) *check_signed_document(attest_verified_collateral *verified,
                                             const signed_document *doc,
                                             const attest_root *roots, size_t root_count,
                                             bool *out_signature_valid)
{
    attest_check_list *list = &verified->list;
    *out_signature_valid = false;
    STACK_OF(X509) *chain = NULL;
    if (doc->same_as != NULL && doc->same_as_chain != NULL &&
        doc->same_as->size == doc->issuer_chain->size &&
        memcmp(doc->same_as->data, doc->issuer_chain->data, doc->issuer_chain->size) == 0) {
        /* Intel signs TCB info and QE identity with one certificate: verify its chain once. */
        chain = X509_chain_up_ref(doc->same_as_chain);
        if (chain != NULL) {
            attest_check_list_add(list, ATTEST_STAGE_COLLATERAL, doc->chain_check, ATTEST_OK,
                                  "%s issuer chain is byte-identical to the TCB info's, verified "
                                  "above",
                                  doc->what);
        }
    }
    if (chain == NULL) {
        chain = check_issuer_chain(list, ATTEST_STAGE_COLLATERAL, doc->issuer_chain,
                                   doc->chain_check, doc->what, roots, root_count, &verified->root);
    }
    if (chain == NULL) {
        return NULL;
    }
    X509 *signer = sk_X509_value(chain, 0);
    check_not_revoked(list, ATTEST_STAGE_COLLATERAL, doc->revoked_check,
                      "TCB signing certificate", verified->root_ca_crl, signer);
    attest_check_list_window(list, ATTEST_STAGE_COLLATERAL, doc->signer_window,
                             "TCB signing certificate", signer, NULL);

    EVP_PKEY *key = X509_get0_pubkey(signer);
    if (doc->signature->size != 64 || !attest_key_is_p256(key)) {
        attest_check_list_add(list, ATTEST_STAGE_COLLATERAL, doc->signature_check,
                              ATTEST_ERR_COLLATERAL_SIGNATURE,
                              "%s signature is %zu bytes (expected 64) or its signer key is "
                              "not P-256",
                              doc->what, doc->signature->size);
        return chain;
    }
    attest_err err = attest_ecdsa_verify_raw(key, doc->text->data, doc->text->size,
                                             doc->signature->data, ATTEST_ERR_COLLATERAL_SIGNATURE);
    if (err == ATTEST_OK) {
        *out_signature_valid = true;
        attest_check_list_add(list, ATTEST_STAGE_COLLATERAL, doc->signature_check, ATTEST_OK,
                              "%s signature by the TCB signing certificate valid", doc->what);
    } else {
        attest_check_list_add(list, ATTEST_STAGE_COLLATERAL, doc->signature_check, err,
                              "%s signature by the TCB signing certificate invalid", doc->what);
    }
    return chain;
}

static void add_document_window(attest_check_list *list, const char *check, const char *what,
                                time_t issue_date, time_t next_update)
{
    if (list->window_count >= ATTEST_CACHED_MAX_WINDOWS) {
        return;
    }
    attest_window *window = &list->windows[list->window_count++];
    window->stage = ATTEST_STAGE_COLLATERAL;
    window->name = check;
    window->subject = what;
    window->not_before = issue_date;
    window->not_after = next_update;
    window->expired = ATTEST_ERR_COLLATERAL_EXPIRED;
    window->not_yet_valid = ATTEST_ERR_COLLATERAL_NOT_YET_VALID;
}

static void verify_crls(attest_verified_collateral *verified, const attest_collateral *collateral,
                        const attest_root *roots, size_t root_count)
{
    attest_check_list *list = &verified->list;
    verified->pck_crl_chain = check_issuer_chain(list, ATTEST_STAGE_PCK_CHAIN,
                                                 &collateral->pck_crl_issuer_chain,
                                                 "pck_crl_issuer_chain", "PCK CRL issuer chain",
                                                 roots, root_count, &verified->root);

    X509 *root_cert = verified->root != NULL ? verified->root->cert : NULL;
    verified->root_ca_crl = check_crl(list, &collateral->root_ca_crl, &root_ca_crl_checks,
                                      root_cert);

    if (verified->pck_crl_chain != NULL) {
        verified->pck_crl_issuer = sk_X509_value(verified->pck_crl_chain, 0);
        unsigned char *der = NULL;
        int der_size = i2d_X509(verified->pck_crl_issuer, &der);
        if (der_size > 0) {
            verified->pck_crl_issuer_der = der;
            verified->pck_crl_issuer_known.cert = verified->pck_crl_issuer;
            verified->pck_crl_issuer_known.der = der;
            verified->pck_crl_issuer_known.der_size = (size_t)der_size;
        }
        check_not_revoked(list, ATTEST_STAGE_PCK_CHAIN, "pck_crl_issuer_revocation",
                          "PCK CRL issuer CA", verified->root_ca_crl, verified->pck_crl_issuer);
        attest_check_list_window(list, ATTEST_STAGE_PCK_CHAIN, "pck_crl_issuer_validity",
                                 "PCK CRL issuer CA certificate", verified->pck_crl_issuer, NULL);
    }
    verified->pck_crl = check_crl(list, &collateral->pck_crl, &pck_crl_checks,
                                  verified->pck_crl_issuer);
}

static void verify_tcb_info(attest_verified_collateral *verified,
                            const attest_collateral *collateral, const attest_root *roots,
                            size_t root_count)
{
    static const signed_document doc = {
        NULL, NULL, NULL, "TCB info", "tcb_info_issuer_chain", "tcb_info_signer_revocation",
        "tcb_info_signer_validity", "tcb_info_signature", "tcb_info_parse", "tcb_info_validity",
        NULL, NULL,
    };
    signed_document tcb = doc;
    tcb.text = &collateral->tcb_info;
    tcb.signature = &collateral->tcb_info_signature;
    tcb.issuer_chain = &collateral->tcb_info_issuer_chain;

    bool signature_valid = false;
    verified->tcb_info_chain = check_signed_document(verified, &tcb, roots, root_count,
                                                     &signature_valid);

    /* The document is decoded even when unsigned, so the report can show it, but never trusted. */
    attest_diag diag = {{0}};
    attest_err err = attest_tcb_info_parse((const char *)collateral->tcb_info.data,
                                           collateral->tcb_info.size, &verified->tcb_info, &diag);
    if (err != ATTEST_OK) {
        attest_check_list_add(&verified->list, ATTEST_STAGE_COLLATERAL, tcb.parse_check, err,
                              "TCB info: %s", diag.message);
        return;
    }
    verified->tcb_info_parsed = true;
    attest_check_list_add(&verified->list, ATTEST_STAGE_COLLATERAL, tcb.parse_check, ATTEST_OK,
                          "TCB info %s version %d, TCB levels: %zu",
                          verified->tcb_info.id == ATTEST_TCB_INFO_TDX ? "TDX" : "SGX",
                          verified->tcb_info.version, verified->tcb_info.level_count);
    add_document_window(&verified->list, tcb.window_check, "TCB info",
                        verified->tcb_info.issue_date, verified->tcb_info.next_update);
}

static void verify_qe_identity(attest_verified_collateral *verified,
                               const attest_collateral *collateral, const attest_root *roots,
                               size_t root_count)
{
    static const signed_document doc = {
        NULL,
        NULL,
        NULL,
        "QE identity",
        "qe_identity_issuer_chain",
        "qe_identity_signer_revocation",
        "qe_identity_signer_validity",
        "qe_identity_signature",
        "qe_identity_parse",
        "qe_identity_validity",
        NULL,
        NULL,
    };
    signed_document qe = doc;
    qe.text = &collateral->qe_identity;
    qe.signature = &collateral->qe_identity_signature;
    qe.issuer_chain = &collateral->qe_identity_issuer_chain;
    qe.same_as = &collateral->tcb_info_issuer_chain;
    qe.same_as_chain = verified->tcb_info_chain;

    bool signature_valid = false;
    verified->qe_identity_chain = check_signed_document(verified, &qe, roots, root_count,
                                                        &signature_valid);

    attest_diag diag = {{0}};
    attest_err err = attest_qe_identity_parse((const char *)collateral->qe_identity.data,
                                              collateral->qe_identity.size,
                                              &verified->qe_identity, &diag);
    if (err != ATTEST_OK) {
        attest_check_list_add(&verified->list, ATTEST_STAGE_COLLATERAL, qe.parse_check, err,
                              "QE identity: %s", diag.message);
        return;
    }
    verified->qe_identity_parsed = true;
    attest_check_list_add(&verified->list, ATTEST_STAGE_COLLATERAL, qe.parse_check, ATTEST_OK,
                          "QE identity %s version %d, TCB levels: %zu",
                          verified->qe_identity.id == ATTEST_QE_IDENTITY_TD_QE ? "TD_QE" : "QE",
                          verified->qe_identity.version, verified->qe_identity.level_count);
    add_document_window(&verified->list, qe.window_check, "QE identity",
                        verified->qe_identity.issue_date, verified->qe_identity.next_update);
}

attest_err attest_collateral_verify(const attest_root *roots, size_t root_count,
                                    const attest_collateral *collateral,
                                    attest_verified_collateral **out)
{
    attest_verified_collateral *verified = calloc(1, sizeof(*verified));
    if (verified == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = collateral_copy(collateral, &verified->source);
    if (err != ATTEST_OK) {
        free(verified);
        return err;
    }

    verify_crls(verified, collateral, roots, root_count);
    verify_tcb_info(verified, collateral, roots, root_count);
    verify_qe_identity(verified, collateral, roots, root_count);
    ERR_clear_error();

    *out = verified;
    return ATTEST_OK;
}

void attest_verified_collateral_free(attest_verified_collateral *verified)
{
    if (verified == NULL) {
        return;
    }
    attest_collateral_clear(&verified->source);
    OPENSSL_free(verified->pck_crl_issuer_der);
    X509_CRL_free(verified->root_ca_crl);
    X509_CRL_free(verified->pck_crl);
    sk_X509_pop_free(verified->pck_crl_chain, X509_free);
    sk_X509_pop_free(verified->tcb_info_chain, X509_free);
    sk_X509_pop_free(verified->qe_identity_chain, X509_free);
    if (verified->tcb_info_parsed) {
        attest_tcb_info_free(&verified->tcb_info);
    }
    if (verified->qe_identity_parsed) {
        attest_qe_identity_free(&verified->qe_identity);
    }
    free(verified);
}
