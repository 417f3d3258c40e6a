/*
 * Collateral source for a PCCS or Intel's PCS, API version 4.
 *
 * Route paths, query parameters and header names follow Intel's PCCS
 * (SGXDataCenterAttestationPrimitives, QuoteGeneration/pccs: routes,
 * constants and controllers) and its PCS client tools. A PCCS returns the
 * root CA CRL as hex text of the DER (older releases) or as DER, and some
 * releases return the PCK CRL as hex too, so both CRL bodies accept either.
 *
 * NOTE: the source checks shapes only (status, header, JSON split, CRL
 * DER). Signatures, issuers and validity are the verifier's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pccs/internal.h"
#include "util/hex.h"

#define MAX_BASE_URL_SIZE 512
#define MAX_URL_SIZE 768
#define PEM_CERTIFICATE_BEGIN "-----BEGIN CERTIFICATE-----"

void attest_pccs_options_init(attest_pccs_options *options)
{
    memset(options, 0, sizeof(*options));
    options->connect_timeout_ms = ATTEST_PCCS_DEFAULT_CONNECT_TIMEOUT_MS;
    options->timeout_ms = ATTEST_PCCS_DEFAULT_TIMEOUT_MS;
    options->max_body_size = ATTEST_PCCS_DEFAULT_MAX_BODY_SIZE;
    options->max_header_size = ATTEST_PCCS_DEFAULT_MAX_HEADER_SIZE;
    options->update = ATTEST_PCCS_UPDATE_DEFAULT;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

attest_err attest_pccs_url_decode(const char *text, size_t size, char **out_text,
                                  size_t *out_size, attest_diag *diag)
{
    if (text == NULL || out_text == NULL || out_size == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "header text or output is NULL");
    }
    char *decoded = malloc(size + 1);
    if (decoded == NULL) {
        return ATTEST_ERR_NOMEM;
    }

    size_t length = 0;
    for (size_t i = 0; i < size; i++) {
        char c = text[i];
        if (c == '%') {
            if (size - i < 3 || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) {
                free(decoded);
                return attest_diag_set(diag, ATTEST_ERR_SOURCE_HEADER,
                                       "'%%' at offset %zu of the issuer chain header is not "
                                       "followed by two hex digits",
                                       i);
            }
            c = (char)(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        }
        if (c == '\0') {
            free(decoded);
            return attest_diag_set(diag, ATTEST_ERR_SOURCE_HEADER,
                                   "issuer chain header decodes to a NUL byte at offset %zu", i);
        }
        decoded[length++] = c;
    }
    decoded[length] = '\0';

    *out_text = decoded;
    *out_size = length;
    return ATTEST_OK;
}

attest_err attest_pccs_crl_distribution_point(const uint8_t *pem, size_t size, char **out_url,
                                              attest_diag *diag)
{
    if (pem == NULL || out_url == NULL || size > INT32_MAX) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "chain or output is NULL, or too long");
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)size);
    X509 *cert = bio == NULL ? NULL : PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (cert == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_CERT_PARSE,
                               "first certificate of the PCK CRL issuer chain does not parse");
    }

    STACK_OF(DIST_POINT) *points = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    X509_free(cert);
    char *url = NULL;
    for (int i = 0; points != NULL && url == NULL && i < sk_DIST_POINT_num(points); i++) {
        DIST_POINT *point = sk_DIST_POINT_value(points, i);
        if (point->distpoint == NULL || point->distpoint->type != 0) {
            continue;
        }
        GENERAL_NAMES *names = point->distpoint->name.fullname;
        for (int j = 0; url == NULL && j < sk_GENERAL_NAME_num(names); j++) {
            GENERAL_NAME *name = sk_GENERAL_NAME_value(names, j);
            if (name->type != GEN_URI) {
                continue;
            }
            const unsigned char *data = ASN1_STRING_get0_data(name->d.uniformResourceIdentifier);
            int length = ASN1_STRING_length(name->d.uniformResourceIdentifier);
            url = length > 0 ? strndup((const char *)data, (size_t)length) : NULL;
            if (url == NULL || strlen(url) != (size_t)length) {
                free(url);
                url = NULL;
            }
        }
    }
    sk_DIST_POINT_pop_free(points, DIST_POINT_free);
    if (url == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_HEADER,
                               "PCK CA certificate has no CRL distribution point URI");
    }
    *out_url = url;
    return ATTEST_OK;
}

/* The source's copy of its options. */
typedef struct pccs_source {
    char base_url[MAX_BASE_URL_SIZE];
    char *ca_file;
    pccs_http_config http;
    attest_pccs_update update;
    bool root_ca_crl_from_distribution_point;
} pccs_source;

/* Copies body into a new buffer and checks that it is one DER CRL; hex text of the DER is decoded first. */
static attest_err crl_from_body(const pccs_http_result *response, const char *what,
                                const char *url, attest_bytes *out_crl, attest_diag *diag)
{
    uint8_t *der = NULL;
    size_t der_size = 0;
    const uint8_t *body = response->body;
    size_t size = response->body_size;

    if (size > 0 && body[0] == 0x30) {
        der = malloc(size);
        if (der == NULL) {
            return ATTEST_ERR_NOMEM;
        }
        memcpy(der, body, size);
        der_size = size;
    } else {
        while (size > 0 && (body[size - 1] == '\n' || body[size - 1] == '\r' ||
                            body[size - 1] == ' ')) {
            size--;
        }
        if (size == 0 ||
            attest_hex_decode_alloc((const char *)body, size, &der, &der_size) != ATTEST_OK) {
            return attest_diag_set(diag, ATTEST_ERR_CRL_PARSE,
                                   "%s from %.120s is neither DER nor hex text of DER (%zu bytes)",
                                   what, url, response->body_size);
        }
    }

    const unsigned char *cursor = der;
    X509_CRL *crl = der_size > INT32_MAX ? NULL : d2i_X509_CRL(NULL, &cursor, (long)der_size);
    bool whole = crl != NULL && cursor == der + der_size;
    X509_CRL_free(crl);
    if (!whole) {
        free(der);
        return attest_diag_set(diag, ATTEST_ERR_CRL_PARSE,
                               "%s from %.120s is not one DER CRL (%zu bytes)", what, url,
                               der_size);
    }
    out_crl->data = der;
    out_crl->size = der_size;
    return ATTEST_OK;
}

/* Decodes the captured issuer chain header into out_chain (PEM). */
static attest_err chain_from_header(const pccs_http_result *response, const char *header,
                                    const char *url, attest_bytes *out_chain, attest_diag *diag)
{
    if (response->header_value == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_HEADER,
                               "response from %.120s has no %s header", url, header);
    }
    char *pem = NULL;
    size_t pem_size = 0;
    attest_diag inner = {{0}};
    attest_err err = attest_pccs_url_decode(response->header_value, response->header_size, &pem,
                                            &pem_size, &inner);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err, "%s from %.100s: %s", header, url, inner.message);
    }
    if (strstr(pem, PEM_CERTIFICATE_BEGIN) == NULL) {
        free(pem);
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_HEADER,
                               "%s from %.120s holds no PEM certificate", header, url);
    }
    out_chain->data = (uint8_t *)pem;
    out_chain->size = pem_size;
    return ATTEST_OK;
}

/* GETs url and fails on any status but 200. */
static attest_err fetch(const pccs_source *source, const char *url,
                        const char *const *header_names, pccs_http_result *out_response,
                        attest_diag *diag)
{
    pccs_http_result response;
    memset(&response, 0, sizeof(response));
    attest_err err = pccs_http_get(&source->http, url, header_names, &response, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (response.status == 404) {
        pccs_http_result_clear(&response);
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_NOT_FOUND, "GET %.120s returned 404", url);
    }
    if (response.status != 200) {
        long status = response.status;
        pccs_http_result_clear(&response);
        return attest_diag_set(diag, ATTEST_ERR_SOURCE_HTTP_STATUS,
                               "GET %.120s returned status %ld, expected 200", url, status);
    }
    *out_response = response;
    return ATTEST_OK;
}

static const char *update_query(attest_pccs_update update, char separator, char *out,
                                size_t out_size)
{
    const char *value = NULL;
    switch (update) {
    case ATTEST_PCCS_UPDATE_DEFAULT:
        return "";
    case ATTEST_PCCS_UPDATE_EARLY:
        value = "early";
        break;
    case ATTEST_PCCS_UPDATE_STANDARD:
        value = "standard";
        break;
    }
    if (value == NULL) {
        return "";
    }
    snprintf(out, out_size, "%cupdate=%s", separator, value);
    return out;
}

static attest_err pck_crl_fetch(const pccs_source *source, const char *pck_ca,
                                attest_collateral *collateral, attest_diag *diag)
{
    static const char *const headers[] = {"SGX-PCK-CRL-Issuer-Chain", NULL};
    char url[MAX_URL_SIZE];
    snprintf(url, sizeof(url), "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
             source->base_url, pck_ca);

    pccs_http_result response;
    attest_err err = fetch(source, url, headers, &response, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = chain_from_header(&response, headers[0], url, &collateral->pck_crl_issuer_chain, diag);
    if (err == ATTEST_OK) {
        err = crl_from_body(&response, "PCK CRL", url, &collateral->pck_crl, diag);
    }
    pccs_http_result_clear(&response);
    return err;
}

/* Fetches a TCB info or QE identity body and splits it at key. */
static attest_err signed_body_fetch(const pccs_source *source, const char *url,
                                    const char *const *headers, const char *key,
                                    attest_bytes *out_chain, attest_bytes *out_object,
                                    attest_bytes *out_signature, attest_diag *diag)
{
    pccs_http_result response;
    attest_err err = fetch(source, url, headers, &response, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = chain_from_header(&response, headers[0], url, out_chain, diag);
    if (err == ATTEST_OK) {
        attest_diag inner = {{0}};
        err = attest_collateral_split_pcs_body((const char *)response.body, response.body_size,
                                               key, out_object, out_signature, &inner);
        if (err != ATTEST_OK) {
            err = attest_diag_set(diag, err, "body from %.100s: %s", url, inner.message);
        }
    }
    pccs_http_result_clear(&response);
    return err;
}

static attest_err root_ca_crl_fetch(const pccs_source *source, attest_collateral *collateral,
                                    attest_diag *diag)
{
    char url[MAX_URL_SIZE];
    if (source->root_ca_crl_from_distribution_point) {
        char *point = NULL;
        attest_err err = attest_pccs_crl_distribution_point(
            collateral->pck_crl_issuer_chain.data, collateral->pck_crl_issuer_chain.size, &point,
            diag);
        if (err != ATTEST_OK) {
            return err;
        }
        /* The URL comes from a certificate that is not verified yet, so only https is used. */
        if (strncmp(point, "https://", 8) != 0 || strlen(point) >= sizeof(url)) {
            err = attest_diag_set(diag, ATTEST_ERR_CERT_PARSE,
                                  "CRL distribution point %.120s of the PCK CA certificate is "
                                  "not an https URL of at most %zu bytes",
                                  point, sizeof(url) - 1);
            free(point);
            return err;
        }
        snprintf(url, sizeof(url), "%s", point);
        free(point);
    } else {
        snprintf(url, sizeof(url), "%s/sgx/certification/v4/rootcacrl", source->base_url);
    }

    pccs_http_config http = source->http;
    if (source->root_ca_crl_from_distribution_point) {
        http.allow_http = false;
    }
    pccs_http_result response;
    memset(&response, 0, sizeof(response));
    attest_err err = pccs_http_get(&http, url, NULL, &response, diag);
    if (err == ATTEST_OK && response.status != 200) {
        err = attest_diag_set(diag,
                              response.status == 404 ? ATTEST_ERR_SOURCE_NOT_FOUND
                                                     : ATTEST_ERR_SOURCE_HTTP_STATUS,
                              "GET %.120s returned status %ld, expected 200", url,
                              response.status);
    }
    if (err == ATTEST_OK) {
        err = crl_from_body(&response, "root CA CRL", url, &collateral->root_ca_crl, diag);
    }
    pccs_http_result_clear(&response);
    return err;
}

static attest_err collateral_fetch(const pccs_source *source,
                                   const attest_collateral_request *request,
                                   attest_collateral *collateral, attest_diag *diag)
{
    static const char *const tcb_headers[] = {"TCB-Info-Issuer-Chain",
                                              "SGX-TCB-Info-Issuer-Chain", NULL};
    static const char *const identity_headers[] = {"SGX-Enclave-Identity-Issuer-Chain", NULL};
    const char *tee = request->tdx ? "tdx" : "sgx";
    char fmspc[13];
    attest_hex_encode(request->fmspc, sizeof(request->fmspc), fmspc);
    for (size_t i = 0; fmspc[i] != '\0'; i++) {
        if (fmspc[i] >= 'a' && fmspc[i] <= 'f') {
            fmspc[i] = (char)(fmspc[i] - 'a' + 'A');
        }
    }
    char update[32];

    attest_err err = pck_crl_fetch(source, request->pck_ca, collateral, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    char url[MAX_URL_SIZE];
    snprintf(url, sizeof(url), "%s/%s/certification/v4/tcb?fmspc=%s%s", source->base_url, tee,
             fmspc, update_query(source->update, '&', update, sizeof(update)));
    err = signed_body_fetch(source, url, tcb_headers, "tcbInfo",
                            &collateral->tcb_info_issuer_chain, &collateral->tcb_info,
                            &collateral->tcb_info_signature, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    snprintf(url, sizeof(url), "%s/%s/certification/v4/qe/identity%s", source->base_url, tee,
             update_query(source->update, '?', update, sizeof(update)));
    err = signed_body_fetch(source, url, identity_headers, "enclaveIdentity",
                            &collateral->qe_identity_issuer_chain, &collateral->qe_identity,
                            &collateral->qe_identity_signature, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    return root_ca_crl_fetch(source, collateral, diag);
}

static attest_err pccs_source_get(void *context, const attest_collateral_request *request,
                                  attest_collateral *out_collateral, attest_diag *diag)
{
    const pccs_source *source = context;
    if (source == NULL || request == NULL || out_collateral == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "source, request or output is NULL");
    }
    if (request->pck_ca == NULL ||
        (strcmp(request->pck_ca, "platform") != 0 && strcmp(request->pck_ca, "processor") != 0)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "request pck_ca \"%.40s\" is neither platform nor processor",
                               request->pck_ca == NULL ? "(null)" : request->pck_ca);
    }

    attest_collateral collateral;
    memset(&collateral, 0, sizeof(collateral));
    attest_err err = collateral_fetch(source, request, &collateral, diag);
    if (err != ATTEST_OK) {
        attest_collateral_clear(&collateral);
        return err;
    }
    *out_collateral = collateral;
    return ATTEST_OK;
}

static void pccs_source_destroy(void *context)
{
    pccs_source *source = context;
    if (source != NULL) {
        free(source->ca_file);
        free(source);
    }
}

attest_err attest_collateral_source_pccs(const attest_pccs_options *options,
                                         attest_collateral_source *out_source,
                                         attest_diag *diag)
{
    if (options == NULL || options->base_url == NULL || out_source == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "options, base URL or output is NULL");
    }
    const char *base = options->base_url;
    bool https = strncmp(base, "https://", 8) == 0;
    bool http = strncmp(base, "http://", 7) == 0;
    size_t length = strlen(base);
    while (length > 0 && base[length - 1] == '/') {
        length--;
    }
    if ((!https && !http) || length >= MAX_BASE_URL_SIZE || length <= (size_t)(https ? 8 : 7) ||
        strpbrk(base, "?# \r\n") != NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "base URL \"%.120s\" is not an http:// or https:// URL of at most "
                               "%d bytes without query or fragment",
                               base, MAX_BASE_URL_SIZE - 1);
    }
    if (options->connect_timeout_ms <= 0 || options->timeout_ms <= 0 ||
        options->max_body_size == 0 || options->max_header_size == 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "timeouts and size limits must be positive (connect %ld ms, "
                               "total %ld ms, body %zu, header %zu)",
                               options->connect_timeout_ms, options->timeout_ms,
                               options->max_body_size, options->max_header_size);
    }

    pccs_source *source = calloc(1, sizeof(*source));
    if (source == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    memcpy(source->base_url, base, length);
    source->base_url[length] = '\0';
    if (options->ca_file != NULL) {
        source->ca_file = strdup(options->ca_file);
        if (source->ca_file == NULL) {
            free(source);
            return ATTEST_ERR_NOMEM;
        }
    }
    source->http.ca_file = source->ca_file;
    source->http.allow_http = http;
    source->http.connect_timeout_ms = options->connect_timeout_ms;
    source->http.timeout_ms = options->timeout_ms;
    source->http.max_body_size = options->max_body_size;
    source->http.max_header_size = options->max_header_size;
    source->update = options->update;
    source->root_ca_crl_from_distribution_point = options->root_ca_crl_from_distribution_point;

    out_source->context = source;
    out_source->get = pccs_source_get;
    out_source->destroy = pccs_source_destroy;
    return ATTEST_OK;
}
