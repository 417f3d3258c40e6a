/*
 * The time-independent checks of a PCK certificate chain (PCK certificate,
 * Intel SGX PCK Platform or Processor CA, root): parsing, the byte-identical
 * root, signatures, issuer names, CA constraints, the PCK key type and the
 * SGX extension. Validity periods and CRLs depend on the verification time
 * and the collateral, so verify.c checks them for every quote.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <attest/pck.h>

#include "verify/internal.h"

#define PLATFORM_CA_NAME "Intel SGX PCK Platform CA"
#define PROCESSOR_CA_NAME "Intel SGX PCK Processor CA"

/* Reads the subject common name of cert into out; empty when absent. */
static void subject_common_name(X509 *cert, char *out, size_t out_size)
{
    out[0] = '\0';
    X509_NAME *name = X509_get_subject_name(cert);
    if (name != NULL) {
        int length = X509_NAME_get_text_by_NID(name, NID_commonName, out, (int)out_size);
        if (length < 0) {
            out[0] = '\0';
        }
    }
}

/*
 * Checks that issuer signed cert and that cert names issuer as its issuer.
 * The signature check uses issuer's key even when the names differ, so both
 * failures are reported.
 */
static void check_link(attest_check_list *list, const char *check, const char *subject, X509 *cert,
                       X509 *issuer)
{
    EVP_PKEY *issuer_key = X509_get0_pubkey(issuer);
    int verified = issuer_key != NULL ? X509_verify(cert, issuer_key) : -1;
    ERR_clear_error();
    if (verified == 1) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, check, ATTEST_OK,
                              "%s signature valid", subject);
    } else {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, check, ATTEST_ERR_CERT_SIGNATURE,
                              "%s signature invalid", subject);
    }
}

static void check_issuer_name(attest_check_list *list, const char *check, const char *subject,
                              X509 *cert, X509 *issuer)
{
    if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) == 0) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, check, ATTEST_OK,
                              "%s issuer names its CA", subject);
    } else {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, check, ATTEST_ERR_CERT_ISSUER,
                              "%s issuer does not name the next certificate's subject", subject);
    }
}

static void check_ca(attest_check_list *list, const char *check, const char *subject, X509 *cert)
{
    /* X509_check_ca returns 1 for a CA with basic constraints CA:TRUE and, when present, keyCertSign. */
    if (X509_check_ca(cert) == 1) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, check, ATTEST_OK, "%s is a CA",
                              subject);
    } else {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, check, ATTEST_ERR_CERT_CA,
                              "%s lacks basic constraints CA:TRUE or keyCertSign", subject);
    }
}

/* Decodes the Intel SGX extension of the PCK certificate into chain->pck. */
static void decode_sgx_extension(attest_chain *chain, X509 *pck)
{
    attest_check_list *list = &chain->list;
    ASN1_OBJECT *oid = OBJ_txt2obj(ATTEST_SGX_EXTENSION_OID, 1);
    int index = oid != NULL ? X509_get_ext_by_OBJ(pck, oid, -1) : -1;
    ASN1_OBJECT_free(oid);
    if (index < 0) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "pck_sgx_extension",
                              ATTEST_ERR_PCK_EXTENSION,
                              "PCK certificate has no Intel SGX extension (OID %s)",
                              ATTEST_SGX_EXTENSION_OID);
        return;
    }

    X509_EXTENSION *extension = X509_get_ext(pck, index);
    ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(extension);
    attest_diag diag = {{0}};
    attest_err err = attest_pck_extension_parse(ASN1_STRING_get0_data(value),
                                                (size_t)ASN1_STRING_length(value), &chain->pck,
                                                &diag);
    if (err != ATTEST_OK) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "pck_sgx_extension", err, "%s",
                              diag.message);
        return;
    }
    chain->has_pck = true;
    attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "pck_sgx_extension", ATTEST_OK,
                          "Intel SGX extension decoded");
}

/* Runs every check that needs the three parsed certificates. */
static void check_parsed_chain(attest_chain *chain, const attest_root *roots, size_t root_count,
                               const attest_known_cert *verified_ca,
                               const attest_root *verified_root)
{
    attest_check_list *list = &chain->list;
    X509 *pck = sk_X509_value(chain->certs, 0);
    X509 *ca = sk_X509_value(chain->certs, 1);
    X509 *root = sk_X509_value(chain->certs, 2);

    /* The root must be a trusted root byte for byte; a look-alike with another key fails here. */
    chain->root = attest_root_find(roots, root_count, root);
    if (chain->root != NULL) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "root_trusted", ATTEST_OK,
                              "root certificate is byte-identical to a trusted root");
    } else {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "root_trusted",
                              ATTEST_ERR_ROOT_UNTRUSTED,
                              "root certificate in the quote differs from every trusted root");
    }

    /* A trusted root's self-signature was checked when it became trusted. */
    if (chain->root != NULL) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "root_signature", ATTEST_OK,
                              "root certificate self-signature verified when it was trusted");
    } else {
        check_link(list, "root_signature", "root certificate", root, root);
    }
    if (verified_ca != NULL && verified_ca->cert != NULL && chain->root != NULL &&
        chain->root == verified_root && X509_cmp(ca, verified_ca->cert) == 0) {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "intermediate_signature", ATTEST_OK,
                              "intermediate CA certificate is byte-identical to the PCK CRL "
                              "issuer verified with the collateral");
    } else {
        check_link(list, "intermediate_signature", "intermediate CA certificate", ca, root);
    }
    check_link(list, "pck_certificate_signature", "PCK certificate", pck, ca);
    check_issuer_name(list, "intermediate_issuer", "intermediate CA certificate", ca, root);
    check_issuer_name(list, "pck_certificate_issuer", "PCK certificate", pck, ca);
    check_ca(list, "root_ca_constraints", "root certificate", root);
    check_ca(list, "intermediate_ca_constraints", "intermediate CA certificate", ca);

    char ca_name[128];
    subject_common_name(ca, ca_name, sizeof(ca_name));
    if (strcmp(ca_name, PLATFORM_CA_NAME) == 0) {
        chain->ca = ATTEST_PCK_CA_PLATFORM;
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "pck_ca_type", ATTEST_OK,
                              "PCK certificate issued by %s", ca_name);
    } else if (strcmp(ca_name, PROCESSOR_CA_NAME) == 0) {
        chain->ca = ATTEST_PCK_CA_PROCESSOR;
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "pck_ca_type", ATTEST_OK,
                              "PCK certificate issued by %s", ca_name);
    } else {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "pck_ca_type",
                              ATTEST_ERR_PCK_CA_UNKNOWN,
                              "intermediate CA common name \"%.64s\" is neither \"%s\" nor \"%s\"",
                              ca_name, PLATFORM_CA_NAME, PROCESSOR_CA_NAME);
    }

    EVP_PKEY *key = X509_get0_pubkey(pck);
    if (attest_key_is_p256(key)) {
        chain->pck_key = key;
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "pck_key_type", ATTEST_OK,
                              "PCK key is ECDSA P-256");
    } else {
        attest_check_list_add(list, ATTEST_STAGE_PCK_CHAIN, "pck_key_type", ATTEST_ERR_CERT_KEY,
                              "PCK certificate key is not ECDSA P-256");
    }

    decode_sgx_extension(chain, pck);

    attest_check_list_window(list, ATTEST_STAGE_PCK_CHAIN, "pck_certificate_validity",
                             "PCK certificate", pck, NULL);
    attest_check_list_window(list, ATTEST_STAGE_PCK_CHAIN, "intermediate_validity",
                             "intermediate CA certificate", ca, NULL);
    attest_check_list_window(list, ATTEST_STAGE_PCK_CHAIN, "root_validity", "root certificate",
                             root, NULL);
    ERR_clear_error();
}

attest_err attest_chain_build(const attest_root *roots, size_t root_count, const uint8_t *pem,
                              size_t size, const attest_known_cert *verified_ca,
                              const attest_root *verified_root, attest_chain **out_chain)
{
    attest_chain *chain = calloc(1, sizeof(*chain));
    if (chain == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    chain->source = malloc(size > 0 ? size : 1);
    if (chain->source == NULL) {
        free(chain);
        return ATTEST_ERR_NOMEM;
    }
    if (size > 0) {
        memcpy(chain->source, pem, size);
    }
    chain->source_size = size;

    attest_diag diag = {{0}};
    attest_err err = attest_pem_chain_parse(pem, size, 3, "PCK certificate chain", roots,
                                            root_count, verified_ca, &chain->certs, &diag);
    if (err == ATTEST_ERR_NOMEM) {
        attest_chain_free(chain);
        return err;
    }
    if (err != ATTEST_OK) {
        attest_check_list_add(&chain->list, ATTEST_STAGE_PCK_CHAIN, "pck_chain_parse", err, "%s",
                              diag.message);
        *out_chain = chain;
        return ATTEST_OK;
    }
    attest_check_list_add(&chain->list, ATTEST_STAGE_PCK_CHAIN, "pck_chain_parse", ATTEST_OK,
                          "3 certificates: PCK, intermediate CA, root");

    check_parsed_chain(chain, roots, root_count, verified_ca, verified_root);
    *out_chain = chain;
    return ATTEST_OK;
}

void attest_chain_free(attest_chain *chain)
{
    if (chain == NULL) {
        return;
    }
    sk_X509_pop_free(chain->certs, X509_free);
    free(chain->source);
    free(chain);
}
