/*
 * Intel QE identity documents (enclave identity version 2, ids "QE" for SGX
 * and "TD_QE" for TDX).
 *
 * Caveats: Intel's "QVE" identity is rejected as unsupported, and level
 * statuses other than UpToDate, OutOfDate and Revoked are rejected, because
 * the QE status merge (attest_tcb_status_merge_qe) defines no others.
 */
#include <stdlib.h>
#include <string.h>

#include <attest/tcb.h>

#include "collateral/json.h"

#define PATH "enclaveIdentity"

static attest_err get_id_and_version(const json_t *root, attest_qe_identity *identity,
                                     attest_diag *diag)
{
    const char *id = NULL;
    size_t id_size = 0;
    attest_err err = attest_json_get_string(root, PATH, "id", &id, &id_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (strcmp(id, "QE") == 0) {
        identity->id = ATTEST_QE_IDENTITY_QE;
    } else if (strcmp(id, "TD_QE") == 0) {
        identity->id = ATTEST_QE_IDENTITY_TD_QE;
    } else {
        return attest_diag_set(diag, ATTEST_ERR_QE_IDENTITY_VERSION,
                               PATH ".id: \"%.32s\" is not supported (QE or TD_QE)", id);
    }

    json_t *version = json_object_get(root, "version");
    if (version == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, PATH ".version: missing");
    }
    if (!json_is_integer(version)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, PATH ".version: expected an integer");
    }
    if (json_integer_value(version) != 2) {
        return attest_diag_set(diag, ATTEST_ERR_QE_IDENTITY_VERSION,
                               PATH ".version: %lld is not supported (only 2)",
                               (long long)json_integer_value(version));
    }
    identity->version = 2;
    return ATTEST_OK;
}

/* Reads a 4-byte hex field as the number its text spells: "00000001" is 1. */
static attest_err get_hex_u32(const json_t *root, const char *key, uint32_t *out_value,
                              attest_diag *diag)
{
    uint8_t bytes[4];
    attest_err err = attest_json_get_hex(root, PATH, key, bytes, sizeof(bytes), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    *out_value = ((uint32_t)bytes[0] << 24) | ((uint32_t)bytes[1] << 16) |
                 ((uint32_t)bytes[2] << 8) | (uint32_t)bytes[3];
    return ATTEST_OK;
}

static attest_err qe_identity_from_json(const json_t *root, attest_qe_identity *identity,
                                        attest_diag *diag)
{
    if (!json_is_object(root)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, PATH ": expected an object");
    }

    attest_err err = get_id_and_version(root, identity, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    err = attest_json_get_time(root, PATH, "issueDate", &identity->issue_date, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_time(root, PATH, "nextUpdate", &identity->next_update, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    uint64_t number = 0;
    err = attest_json_get_uint(root, PATH, "tcbEvaluationDataNumber", UINT32_MAX, &number, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    identity->tcb_evaluation_data_number = (uint32_t)number;

    err = get_hex_u32(root, "miscselect", &identity->miscselect, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_hex_u32(root, "miscselectMask", &identity->miscselect_mask, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(root, PATH, "attributes", identity->attributes,
                              sizeof(identity->attributes), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(root, PATH, "attributesMask", identity->attributes_mask,
                              sizeof(identity->attributes_mask), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(root, PATH, "mrsigner", identity->mrsigner,
                              sizeof(identity->mrsigner), diag);
    if (err != ATTEST_OK) {
        return err;
    }

    err = attest_json_get_uint(root, PATH, "isvprodid", UINT16_MAX, &number, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    identity->isvprodid = (uint16_t)number;

    return attest_json_get_isvsvn_levels(root, PATH, &identity->levels, &identity->level_count,
                                         diag);
}

attest_err attest_qe_identity_parse(const char *json, size_t size,
                                    attest_qe_identity *out_identity, attest_diag *diag)
{
    if (json == NULL || out_identity == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "QE identity text or output is NULL");
    }

    json_t *root = NULL;
    attest_err err = attest_json_parse(json, size, &root, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_qe_identity identity;
    memset(&identity, 0, sizeof(identity));
    err = qe_identity_from_json(root, &identity, diag);
    json_decref(root);
    if (err != ATTEST_OK) {
        attest_qe_identity_free(&identity);
        return err;
    }

    *out_identity = identity;
    return ATTEST_OK;
}

void attest_qe_identity_free(attest_qe_identity *identity)
{
    if (identity == NULL) {
        return;
    }
    free(identity->levels);
    memset(identity, 0, sizeof(*identity));
}
