/*
 * Collateral from files: a JSON bundle, a directory of PCS-style files, and
 * the file source built on them.
 *
 * Nothing here checks a signature or a date, because the verifier does. The exact
 * bytes of each signed object are kept, because the TCB info and QE identity
 * signatures cover the text as Intel wrote it, not a re-serialization.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <attest/collateral.h>

#include "collateral/json.h"
#include "util/file.h"
#include "util/hex.h"

#define SIGNATURE_SIZE 64

static void bytes_clear(attest_bytes *bytes)
{
    free(bytes->data);
    bytes->data = NULL;
    bytes->size = 0;
}

void attest_collateral_clear(attest_collateral *collateral)
{
    if (collateral == NULL) {
        return;
    }
    bytes_clear(&collateral->pck_crl_issuer_chain);
    bytes_clear(&collateral->root_ca_crl);
    bytes_clear(&collateral->pck_crl);
    bytes_clear(&collateral->tcb_info_issuer_chain);
    bytes_clear(&collateral->tcb_info);
    bytes_clear(&collateral->tcb_info_signature);
    bytes_clear(&collateral->qe_identity_issuer_chain);
    bytes_clear(&collateral->qe_identity);
    bytes_clear(&collateral->qe_identity_signature);
}

/* Copies size bytes into a new buffer. An empty copy still allocates one byte. */
static attest_err bytes_copy(const void *data, size_t size, attest_bytes *out_bytes)
{
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    if (size > 0) {
        memcpy(copy, data, size);
    }
    out_bytes->data = copy;
    out_bytes->size = size;
    return ATTEST_OK;
}

/* Copies the bytes of a non-empty string member of the bundle. */
static attest_err get_bundle_text(const json_t *root, const char *key, attest_bytes *out_bytes,
                                  attest_diag *diag)
{
    const char *text = NULL;
    size_t size = 0;
    attest_err err = attest_json_get_string(root, "bundle", key, &text, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (size == 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "bundle.%s: empty string", key);
    }
    return bytes_copy(text, size, out_bytes);
}

static attest_err get_bundle_hex(const json_t *root, const char *key, attest_bytes *out_bytes,
                                 attest_diag *diag)
{
    return attest_json_get_hex_alloc(root, "bundle", key, &out_bytes->data, &out_bytes->size,
                                     diag);
}

static attest_err get_bundle_signature(const json_t *root, const char *key,
                                       attest_bytes *out_bytes, attest_diag *diag)
{
    uint8_t signature[SIGNATURE_SIZE];
    attest_err err = attest_json_get_hex(root, "bundle", key, signature, sizeof(signature), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return bytes_copy(signature, sizeof(signature), out_bytes);
}

static attest_err collateral_from_bundle_json(const json_t *root, attest_collateral *collateral,
                                              attest_diag *diag)
{
    if (!json_is_object(root)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "bundle: expected an object");
    }

    attest_err err =
        get_bundle_text(root, "pck_crl_issuer_chain", &collateral->pck_crl_issuer_chain, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_bundle_hex(root, "root_ca_crl", &collateral->root_ca_crl, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_bundle_hex(root, "pck_crl", &collateral->pck_crl, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_bundle_text(root, "tcb_info_issuer_chain", &collateral->tcb_info_issuer_chain,
                          diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_bundle_text(root, "tcb_info", &collateral->tcb_info, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_bundle_signature(root, "tcb_info_signature", &collateral->tcb_info_signature, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_bundle_text(root, "qe_identity_issuer_chain",
                          &collateral->qe_identity_issuer_chain, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_bundle_text(root, "qe_identity", &collateral->qe_identity, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return get_bundle_signature(root, "qe_identity_signature", &collateral->qe_identity_signature,
                                diag);
}

attest_err attest_collateral_from_bundle(const char *json, size_t size,
                                         attest_collateral *out_collateral, attest_diag *diag)
{
    if (json == NULL || out_collateral == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "bundle text or output is NULL");
    }

    json_t *root = NULL;
    attest_err err = attest_json_parse(json, size, &root, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_collateral collateral;
    memset(&collateral, 0, sizeof(collateral));
    err = collateral_from_bundle_json(root, &collateral, diag);
    json_decref(root);
    if (err != ATTEST_OK) {
        attest_collateral_clear(&collateral);
        return err;
    }

    *out_collateral = collateral;
    return ATTEST_OK;
}

attest_err attest_collateral_split_pcs_body(const char *json, size_t size, const char *key,
                                            attest_bytes *out_object,
                                            attest_bytes *out_signature, attest_diag *diag)
{
    if (json == NULL || key == NULL || out_object == NULL || out_signature == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "PCS body, key or output is NULL");
    }

    /* Validate the whole body with jansson before walking its raw text. */
    json_t *root = NULL;
    attest_err err = attest_json_parse(json, size, &root, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "PCS body: expected an object");
    }
    json_t *inner = NULL;
    err = attest_json_get_object(root, "PCS body", key, &inner, diag);
    uint8_t signature[SIGNATURE_SIZE];
    if (err == ATTEST_OK) {
        err = attest_json_get_hex(root, "PCS body", "signature", signature, sizeof(signature),
                                  diag);
    }
    json_decref(root);
    if (err != ATTEST_OK) {
        return err;
    }

    size_t offset = 0;
    size_t object_size = 0;
    err = attest_json_find_member_span(json, size, key, &offset, &object_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_bytes object = {NULL, 0};
    attest_bytes signature_bytes = {NULL, 0};
    err = bytes_copy(json + offset, object_size, &object);
    if (err != ATTEST_OK) {
        return err;
    }
    err = bytes_copy(signature, sizeof(signature), &signature_bytes);
    if (err != ATTEST_OK) {
        bytes_clear(&object);
        return err;
    }

    *out_object = object;
    *out_signature = signature_bytes;
    return ATTEST_OK;
}

/* Reads dir/name whole into out_bytes. Errors name the file. */
static attest_err read_dir_file(const char *dir, const char *name, attest_bytes *out_bytes,
                                attest_diag *diag)
{
    size_t path_size = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(path_size);
    if (path == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    memcpy(path, dir, strlen(dir));
    path[strlen(dir)] = '/';
    memcpy(path + strlen(dir) + 1, name, strlen(name) + 1);

    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err =
        attest_file_read(path, ATTEST_COLLATERAL_MAX_FILE_SIZE, &data, &size, diag);
    free(path);
    if (err != ATTEST_OK) {
        return err;
    }
    if (size == 0) {
        free(data);
        return attest_diag_set(diag, ATTEST_ERR_COLLATERAL_FORMAT, "%s/%s: empty file", dir,
                               name);
    }

    out_bytes->data = data;
    out_bytes->size = size;
    return ATTEST_OK;
}

/* Reads dir/name as a PCS response body and splits it into object and signature. */
static attest_err read_dir_body(const char *dir, const char *name, const char *key,
                                attest_bytes *out_object, attest_bytes *out_signature,
                                attest_diag *diag)
{
    attest_bytes body = {NULL, 0};
    attest_err err = read_dir_file(dir, name, &body, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_diag inner = {{0}};
    err = attest_collateral_split_pcs_body((const char *)body.data, body.size, key, out_object,
                                           out_signature, &inner);
    bytes_clear(&body);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err, "%s/%s: %s", dir, name, inner.message);
    }
    return ATTEST_OK;
}

static attest_err collateral_from_dir(const char *dir, attest_collateral *collateral,
                                      attest_diag *diag)
{
    attest_err err = read_dir_body(dir, "tcb-info.json", "tcbInfo", &collateral->tcb_info,
                                   &collateral->tcb_info_signature, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = read_dir_body(dir, "qe-identity.json", "enclaveIdentity", &collateral->qe_identity,
                        &collateral->qe_identity_signature, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = read_dir_file(dir, "pck-crl.der", &collateral->pck_crl, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = read_dir_file(dir, "root-ca-crl.der", &collateral->root_ca_crl, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = read_dir_file(dir, "pck-crl-issuer-chain.pem", &collateral->pck_crl_issuer_chain, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = read_dir_file(dir, "tcb-info-issuer-chain.pem", &collateral->tcb_info_issuer_chain,
                        diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return read_dir_file(dir, "qe-identity-issuer-chain.pem",
                         &collateral->qe_identity_issuer_chain, diag);
}

attest_err attest_collateral_from_dir(const char *dir, attest_collateral *out_collateral,
                                      attest_diag *diag)
{
    if (dir == NULL || out_collateral == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "directory or output is NULL");
    }

    attest_collateral collateral;
    memset(&collateral, 0, sizeof(collateral));
    attest_err err = collateral_from_dir(dir, &collateral, diag);
    if (err != ATTEST_OK) {
        attest_collateral_clear(&collateral);
        return err;
    }

    *out_collateral = collateral;
    return ATTEST_OK;
}

attest_err attest_collateral_load(const char *path, attest_collateral *out_collateral,
                                  attest_diag *diag)
{
    if (path == NULL || out_collateral == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "collateral path or output is NULL");
    }

    struct stat status;
    if (stat(path, &status) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    if (S_ISDIR(status.st_mode)) {
        return attest_collateral_from_dir(path, out_collateral, diag);
    }
    if (!S_ISREG(status.st_mode)) {
        return attest_diag_set(diag, ATTEST_ERR_COLLATERAL_FORMAT,
                               "%s is neither a bundle file nor a directory", path);
    }

    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err = attest_file_read(path, ATTEST_COLLATERAL_MAX_FILE_SIZE, &data, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    attest_diag inner = {{0}};
    err = attest_collateral_from_bundle((const char *)data, size, out_collateral, &inner);
    free(data);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err, "%s: %s", path, inner.message);
    }
    return ATTEST_OK;
}

/* The file source keeps the collateral loaded at creation and hands out copies. */

static attest_err collateral_copy(const attest_collateral *from, attest_collateral *out_copy)
{
    const attest_bytes *sources[] = {
        &from->pck_crl_issuer_chain,     &from->root_ca_crl, &from->pck_crl,
        &from->tcb_info_issuer_chain,    &from->tcb_info,    &from->tcb_info_signature,
        &from->qe_identity_issuer_chain, &from->qe_identity, &from->qe_identity_signature,
    };
    attest_collateral copy;
    memset(&copy, 0, sizeof(copy));
    attest_bytes *targets[] = {
        &copy.pck_crl_issuer_chain,     &copy.root_ca_crl, &copy.pck_crl,
        &copy.tcb_info_issuer_chain,    &copy.tcb_info,    &copy.tcb_info_signature,
        &copy.qe_identity_issuer_chain, &copy.qe_identity, &copy.qe_identity_signature,
    };

    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        attest_err err = bytes_copy(sources[i]->data, sources[i]->size, targets[i]);
        if (err != ATTEST_OK) {
            attest_collateral_clear(&copy);
            return err;
        }
    }

    *out_copy = copy;
    return ATTEST_OK;
}

static attest_err path_source_get(void *context, const attest_collateral_request *request,
                                  attest_collateral *out_collateral, attest_diag *diag)
{
    (void)request;
    if (context == NULL || out_collateral == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "source context or output is NULL");
    }
    return collateral_copy(context, out_collateral);
}

static void path_source_destroy(void *context)
{
    attest_collateral_clear(context);
    free(context);
}

/*
 * The source loads path once, now, so a broken file fails here and not at the
 * first quote. It ignores the request, because the verifier rejects
 * collateral of another TEE type or FMSPC. get only reads the context, so
 * concurrent calls are safe, but destroy must not race with them.
 */
attest_err attest_collateral_source_path(const char *path, attest_collateral_source *out_source,
                                         attest_diag *diag)
{
    if (path == NULL || out_source == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "collateral path or output is NULL");
    }

    attest_collateral *loaded = calloc(1, sizeof(*loaded));
    if (loaded == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = attest_collateral_load(path, loaded, diag);
    if (err != ATTEST_OK) {
        free(loaded);
        return err;
    }

    out_source->context = loaded;
    out_source->get = path_source_get;
    out_source->destroy = path_source_destroy;
    return ATTEST_OK;
}
