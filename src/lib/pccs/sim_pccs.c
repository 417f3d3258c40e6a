/*
 * Responses of the simulated PCCS: the simulated platform's collateral in
 * the shapes of the PCCS API version 4 routes. The HTTP server around it is
 * the caller's (attest sim pccs uses libmicrohttpd; the unit tests use a
 * small socket server).
 *
 * SGX quotes of the simulated platform carry a Processor CA PCK certificate
 * and TDX quotes a Platform CA one, so ca=processor serves the PCK CRL of
 * the SGX collateral and ca=platform that of the TDX collateral.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <attest/pccs.h>
#include <attest/sim.h>
#include <attest/tcb.h>

#include "util/hex.h"

#define MAX_PARAMETERS 8
#define MAX_PARAMETER_SIZE 64

struct attest_pccs_sim {
    attest_collateral sgx;
    attest_collateral tdx;
    uint8_t sgx_fmspc[6];
    uint8_t tdx_fmspc[6];
    unsigned fail_after;
    pthread_mutex_t lock;
    unsigned long request_count;
    bool unavailable;
};

void attest_pccs_response_clear(attest_pccs_response *response)
{
    if (response == NULL) {
        return;
    }
    free(response->chain_value);
    free(response->body);
    memset(response, 0, sizeof(*response));
}

static attest_err tcb_info_fmspc(const attest_collateral *collateral, uint8_t out_fmspc[6],
                                 attest_diag *diag)
{
    attest_tcb_info info;
    attest_err err = attest_tcb_info_parse((const char *)collateral->tcb_info.data,
                                           collateral->tcb_info.size, &info, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    memcpy(out_fmspc, info.fmspc, 6);
    attest_tcb_info_free(&info);
    return ATTEST_OK;
}

attest_err attest_pccs_sim_new(const char *dir, time_t at, unsigned fail_after,
                               attest_pccs_sim **out_sim, attest_diag *diag)
{
    if (dir == NULL || out_sim == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "directory or output is NULL");
    }
    attest_sim_platform *platform = NULL;
    attest_err err = attest_sim_platform_open(dir, &platform, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    attest_pccs_sim *sim = calloc(1, sizeof(*sim));
    if (sim == NULL || pthread_mutex_init(&sim->lock, NULL) != 0) {
        free(sim);
        attest_sim_platform_free(platform);
        return ATTEST_ERR_NOMEM;
    }
    sim->fail_after = fail_after;

    attest_sim_collateral_options options;
    attest_sim_collateral_options_init(&options, ATTEST_SIM_SGX, at);
    err = attest_sim_collateral(platform, &options, &sim->sgx, diag);
    if (err == ATTEST_OK) {
        attest_sim_collateral_options_init(&options, ATTEST_SIM_TDX, at);
        err = attest_sim_collateral(platform, &options, &sim->tdx, diag);
    }
    attest_sim_platform_free(platform);
    if (err == ATTEST_OK) {
        err = tcb_info_fmspc(&sim->sgx, sim->sgx_fmspc, diag);
    }
    if (err == ATTEST_OK) {
        err = tcb_info_fmspc(&sim->tdx, sim->tdx_fmspc, diag);
    }
    if (err != ATTEST_OK) {
        attest_pccs_sim_free(sim);
        return err;
    }
    *out_sim = sim;
    return ATTEST_OK;
}

void attest_pccs_sim_free(attest_pccs_sim *sim)
{
    if (sim == NULL) {
        return;
    }
    attest_collateral_clear(&sim->sgx);
    attest_collateral_clear(&sim->tdx);
    pthread_mutex_destroy(&sim->lock);
    free(sim);
}

void attest_pccs_sim_set_unavailable(attest_pccs_sim *sim, bool unavailable)
{
    pthread_mutex_lock(&sim->lock);
    sim->unavailable = unavailable;
    pthread_mutex_unlock(&sim->lock);
}

unsigned long attest_pccs_sim_request_count(attest_pccs_sim *sim)
{
    pthread_mutex_lock(&sim->lock);
    unsigned long count = sim->request_count;
    pthread_mutex_unlock(&sim->lock);
    return count;
}

/* ---- Query parameters ---- */

typedef struct parameter {
    char name[MAX_PARAMETER_SIZE];
    char value[MAX_PARAMETER_SIZE];
} parameter;

typedef struct parameters {
    size_t count;
    parameter items[MAX_PARAMETERS];
} parameters;

/*
 * Splits query into name=value pairs. Returns false for more than
 * MAX_PARAMETERS, an over-long name or value, a repeated name, or a '%'
 * (no parameter of these routes needs percent-encoding).
 */
static bool query_parse(const char *query, parameters *out)
{
    memset(out, 0, sizeof(*out));
    if (query == NULL || query[0] == '\0') {
        return true;
    }
    const char *cursor = query;
    while (*cursor != '\0') {
        size_t length = strcspn(cursor, "&");
        const char *equals = memchr(cursor, '=', length);
        size_t name_length = equals == NULL ? length : (size_t)(equals - cursor);
        size_t value_length = equals == NULL ? 0 : length - name_length - 1;
        if (out->count == MAX_PARAMETERS || name_length == 0 ||
            name_length >= MAX_PARAMETER_SIZE || value_length >= MAX_PARAMETER_SIZE ||
            memchr(cursor, '%', length) != NULL) {
            return false;
        }
        parameter *item = &out->items[out->count];
        memcpy(item->name, cursor, name_length);
        if (equals != NULL) {
            memcpy(item->value, equals + 1, value_length);
        }
        for (size_t i = 0; i < out->count; i++) {
            if (strcmp(out->items[i].name, item->name) == 0) {
                return false;
            }
        }
        out->count++;
        cursor += length;
        if (*cursor == '&') {
            cursor++;
        }
    }
    return true;
}

static const char *parameter_get(const parameters *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i].name, name) == 0) {
            return list->items[i].value;
        }
    }
    return NULL;
}

/* True when every parameter is one of the NULL-terminated allowed names. */
static bool parameters_allowed(const parameters *list, const char *const *allowed)
{
    for (size_t i = 0; i < list->count; i++) {
        bool known = false;
        for (size_t j = 0; allowed[j] != NULL && !known; j++) {
            known = strcmp(list->items[i].name, allowed[j]) == 0;
        }
        if (!known) {
            return false;
        }
    }
    return true;
}

/* ---- Response bodies ---- */

static attest_err text_response(unsigned status, const char *text, attest_pccs_response *out)
{
    size_t size = strlen(text);
    out->status = status;
    out->content_type = "text/plain";
    out->body = malloc(size + 1);
    if (out->body == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    memcpy(out->body, text, size + 1);
    out->body_size = size;
    return ATTEST_OK;
}

/* Percent-encodes every byte of pem outside A-Z a-z 0-9 - _ . ~ into a new string. */
static attest_err chain_encode(const attest_bytes *pem, char **out_value)
{
    char *value = malloc(3 * pem->size + 1);
    if (value == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    static const char digits[] = "0123456789ABCDEF";
    size_t length = 0;
    for (size_t i = 0; i < pem->size; i++) {
        uint8_t c = pem->data[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            value[length++] = (char)c;
        } else {
            value[length++] = '%';
            value[length++] = digits[c >> 4];
            value[length++] = digits[c & 15];
        }
    }
    value[length] = '\0';
    *out_value = value;
    return ATTEST_OK;
}

/* Builds {"<key>":<text>,"signature":"<hex>"} with text byte for byte. */
static attest_err signed_body(const char *key, const attest_bytes *text,
                              const attest_bytes *signature, attest_pccs_response *out)
{
    size_t capacity = strlen(key) + text->size + 2 * signature->size + 32;
    char *body = malloc(capacity);
    if (body == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    int prefix = snprintf(body, capacity, "{\"%s\":", key);
    memcpy(body + prefix, text->data, text->size);
    size_t length = (size_t)prefix + text->size;
    length += (size_t)snprintf(body + length, capacity - length, ",\"signature\":\"");
    attest_hex_encode(signature->data, signature->size, body + length);
    length += 2 * signature->size;
    length += (size_t)snprintf(body + length, capacity - length, "\"}");

    out->body = (uint8_t *)body;
    out->body_size = length;
    out->content_type = "application/json";
    return ATTEST_OK;
}

static attest_err crl_body(const attest_bytes *der, bool pem, attest_pccs_response *out)
{
    if (!pem) {
        out->body = malloc(der->size);
        if (out->body == NULL) {
            return ATTEST_ERR_NOMEM;
        }
        memcpy(out->body, der->data, der->size);
        out->body_size = der->size;
        out->content_type = "application/pkix-crl";
        return ATTEST_OK;
    }

    const unsigned char *cursor = der->data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &cursor, (long)der->size);
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long size = 0;
    bool ok = crl != NULL && bio != NULL && PEM_write_bio_X509_CRL(bio, crl) == 1 &&
              (size = BIO_get_mem_data(bio, &data)) > 0;
    if (ok) {
        out->body = malloc((size_t)size);
        ok = out->body != NULL;
    }
    if (ok) {
        memcpy(out->body, data, (size_t)size);
        out->body_size = (size_t)size;
        out->content_type = "application/x-pem-file";
    }
    X509_CRL_free(crl);
    BIO_free(bio);
    return ok ? ATTEST_OK : ATTEST_ERR_CRYPTO;
}

/* ---- Routes ---- */

static bool update_valid(const char *update)
{
    return update == NULL || strcmp(update, "early") == 0 || strcmp(update, "standard") == 0;
}

static attest_err route_pckcrl(attest_pccs_sim *sim, const parameters *query,
                               attest_pccs_response *out)
{
    static const char *const allowed[] = {"ca", "encoding", NULL};
    const char *ca = parameter_get(query, "ca");
    const char *encoding = parameter_get(query, "encoding");
    bool pem = encoding == NULL || strcmp(encoding, "pem") == 0;
    if (!parameters_allowed(query, allowed) || ca == NULL ||
        (strcmp(ca, "processor") != 0 && strcmp(ca, "platform") != 0) ||
        (encoding != NULL && !pem && strcmp(encoding, "der") != 0)) {
        return text_response(400, "ca must be processor or platform, encoding der or pem\n", out);
    }
    const attest_collateral *collateral = strcmp(ca, "processor") == 0 ? &sim->sgx : &sim->tdx;

    out->status = 200;
    out->chain_header = "SGX-PCK-CRL-Issuer-Chain";
    attest_err err = chain_encode(&collateral->pck_crl_issuer_chain, &out->chain_value);
    if (err == ATTEST_OK) {
        err = crl_body(&collateral->pck_crl, pem, out);
    }
    return err;
}

static attest_err route_tcb(attest_pccs_sim *sim, bool tdx, const parameters *query,
                            attest_pccs_response *out)
{
    static const char *const allowed[] = {"fmspc", "update", NULL};
    const char *fmspc_text = parameter_get(query, "fmspc");
    uint8_t fmspc[6];
    if (!parameters_allowed(query, allowed) || fmspc_text == NULL || strlen(fmspc_text) != 12 ||
        attest_hex_decode_exact(fmspc_text, 12, fmspc, sizeof(fmspc)) != ATTEST_OK ||
        !update_valid(parameter_get(query, "update"))) {
        return text_response(400, "fmspc must be 12 hex digits, update early or standard\n", out);
    }
    const attest_collateral *collateral = tdx ? &sim->tdx : &sim->sgx;
    if (memcmp(fmspc, tdx ? sim->tdx_fmspc : sim->sgx_fmspc, sizeof(fmspc)) != 0) {
        return text_response(404, "no TCB info for this fmspc\n", out);
    }

    out->status = 200;
    out->chain_header = "TCB-Info-Issuer-Chain";
    attest_err err = chain_encode(&collateral->tcb_info_issuer_chain, &out->chain_value);
    if (err == ATTEST_OK) {
        err = signed_body("tcbInfo", &collateral->tcb_info, &collateral->tcb_info_signature, out);
    }
    return err;
}

static attest_err route_qe_identity(attest_pccs_sim *sim, bool tdx, const parameters *query,
                                    attest_pccs_response *out)
{
    static const char *const allowed[] = {"update", NULL};
    if (!parameters_allowed(query, allowed) || !update_valid(parameter_get(query, "update"))) {
        return text_response(400, "update must be early or standard\n", out);
    }
    const attest_collateral *collateral = tdx ? &sim->tdx : &sim->sgx;

    out->status = 200;
    out->chain_header = "SGX-Enclave-Identity-Issuer-Chain";
    attest_err err = chain_encode(&collateral->qe_identity_issuer_chain, &out->chain_value);
    if (err == ATTEST_OK) {
        err = signed_body("enclaveIdentity", &collateral->qe_identity,
                          &collateral->qe_identity_signature, out);
    }
    return err;
}

/* Intel's PCCS returns the root CA CRL as hex text of the DER; so does the simulation. */
static attest_err route_rootcacrl(attest_pccs_sim *sim, const parameters *query,
                                  attest_pccs_response *out)
{
    if (query->count != 0) {
        return text_response(400, "rootcacrl takes no parameters\n", out);
    }
    const attest_bytes *der = &sim->sgx.root_ca_crl;
    char *hex = malloc(2 * der->size + 1);
    if (hex == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_hex_encode(der->data, der->size, hex);
    out->status = 200;
    out->content_type = "text/plain";
    out->body = (uint8_t *)hex;
    out->body_size = 2 * der->size;
    return ATTEST_OK;
}

static attest_err route(attest_pccs_sim *sim, const char *path, const parameters *query,
                        attest_pccs_response *out)
{
    if (strcmp(path, "/sgx/certification/v4/pckcrl") == 0) {
        return route_pckcrl(sim, query, out);
    }
    if (strcmp(path, "/sgx/certification/v4/tcb") == 0) {
        return route_tcb(sim, false, query, out);
    }
    if (strcmp(path, "/tdx/certification/v4/tcb") == 0) {
        return route_tcb(sim, true, query, out);
    }
    if (strcmp(path, "/sgx/certification/v4/qe/identity") == 0) {
        return route_qe_identity(sim, false, query, out);
    }
    if (strcmp(path, "/tdx/certification/v4/qe/identity") == 0) {
        return route_qe_identity(sim, true, query, out);
    }
    if (strcmp(path, "/sgx/certification/v4/rootcacrl") == 0) {
        return route_rootcacrl(sim, query, out);
    }
    return text_response(404, "no such route\n", out);
}

attest_err attest_pccs_sim_respond(attest_pccs_sim *sim, const char *method, const char *path,
                                   const char *query, attest_pccs_response *out_response,
                                   attest_diag *diag)
{
    if (sim == NULL || method == NULL || path == NULL || out_response == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "sim, method, path or output is NULL");
    }

    pthread_mutex_lock(&sim->lock);
    sim->request_count++;
    bool unavailable = sim->unavailable ||
                       (sim->fail_after > 0 && sim->request_count > sim->fail_after);
    pthread_mutex_unlock(&sim->lock);

    attest_pccs_response response;
    memset(&response, 0, sizeof(response));
    parameters list;
    attest_err err = ATTEST_OK;
    if (unavailable) {
        err = text_response(503, "simulated PCCS is unavailable (test option)\n", &response);
    } else if (strcmp(method, "GET") != 0) {
        err = text_response(405, "only GET is served\n", &response);
    } else if (!query_parse(query, &list)) {
        err = text_response(400, "query has a repeated, over-long or percent-encoded parameter\n",
                            &response);
    } else {
        err = route(sim, path, &list, &response);
    }
    if (err != ATTEST_OK) {
        attest_pccs_response_clear(&response);
        return attest_diag_set(diag, err, "building the response to %.60s %.120s failed",
                               method, path);
    }
    *out_response = response;
    return ATTEST_OK;
}
