/*
 * The "sgx" and "tdx" sections of a policy: which enclave or TD identities
 * pass. Every key is optional on its own. But a section must pin the
 * identity with at least one list of measurements, so that no section
 * accepts every enclave or TD.
 */
#include <string.h>

#include "appraisal/internal.h"
#include "collateral/json.h"

#define SGX_PATH "$.sgx"
#define TDX_PATH "$.tdx"

static bool has_key(const json_t *object, const char *key)
{
    return json_object_get(object, key) != NULL;
}

/* Reads the optional list key into out_values. An absent key leaves a count of 0. */
static attest_err get_optional_values(const json_t *section, const char *path, const char *key,
                                      size_t size, policy_values *out_values, attest_diag *diag)
{
    if (!has_key(section, key)) {
        return ATTEST_OK;
    }
    return policy_get_values(section, path, key, size, out_values, diag);
}

static attest_err get_optional_masked(const json_t *section, const char *path,
                                      const char *key, size_t size, policy_masked *out_masked,
                                      attest_diag *diag)
{
    if (!has_key(section, key)) {
        return ATTEST_OK;
    }
    return policy_get_masked(section, path, key, size, out_masked, diag);
}

/* Reads the optional 16-bit integer key. */
static attest_err get_optional_u16(const json_t *section, const char *path, const char *key,
                                   bool *out_present, uint16_t *out_value, attest_diag *diag)
{
    if (!has_key(section, key)) {
        return ATTEST_OK;
    }
    uint64_t number = 0;
    attest_err err = attest_json_get_uint(section, path, key, UINT16_MAX, &number, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    *out_present = true;
    *out_value = (uint16_t)number;
    return ATTEST_OK;
}

static attest_err sgx_identity_check(const policy_sgx *sgx, attest_diag *diag)
{
    if (sgx->mrenclave.count == 0 && sgx->mrsigner.count == 0) {
        return attest_diag_set(diag, ATTEST_ERR_POLICY_INVALID,
                               SGX_PATH ": needs \"mrenclave\" or \"mrsigner\", so that it "
                                        "pins the enclave's identity");
    }
    /* One signer signs many enclaves and versions, so MRSIGNER alone would pin too little. */
    if (sgx->mrsigner.count > 0 && (!sgx->has_isvprodid || !sgx->has_min_isvsvn)) {
        return attest_diag_set(diag, ATTEST_ERR_POLICY_INVALID,
                               SGX_PATH ": \"mrsigner\" needs both \"isvprodid\" and "
                                        "\"min_isvsvn\"");
    }
    return ATTEST_OK;
}

attest_err policy_parse_sgx(const json_t *section, policy_sgx *out_sgx, attest_diag *diag)
{
    if (!json_is_object(section)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, SGX_PATH ": expected an object");
    }
    static const char *const keys[] = {"mrenclave",  "mrsigner",   "isvprodid",
                                       "min_isvsvn", "attributes", "miscselect"};
    attest_err err = policy_check_keys(section, SGX_PATH, keys, sizeof(keys) / sizeof(keys[0]),
                                       diag);
    if (err != ATTEST_OK) {
        return err;
    }

    policy_sgx sgx;
    memset(&sgx, 0, sizeof(sgx));
    err = get_optional_values(section, SGX_PATH, "mrenclave", 32, &sgx.mrenclave, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_values(section, SGX_PATH, "mrsigner", 32, &sgx.mrsigner, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_u16(section, SGX_PATH, "isvprodid", &sgx.has_isvprodid, &sgx.isvprodid,
                           diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_u16(section, SGX_PATH, "min_isvsvn", &sgx.has_min_isvsvn,
                           &sgx.min_isvsvn, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_masked(section, SGX_PATH, "attributes", 16, &sgx.attributes, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_masked(section, SGX_PATH, "miscselect", 4, &sgx.miscselect, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    err = sgx_identity_check(&sgx, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    *out_sgx = sgx;
    return ATTEST_OK;
}

static const char *const rtmr_keys[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};

/* Reads the six measurement lists of a TDX section. */
static attest_err tdx_measurements_parse(const json_t *section, policy_tdx *tdx,
                                         attest_diag *diag)
{
    attest_err err = get_optional_values(section, TDX_PATH, "mrtd", 48, &tdx->mrtd, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    for (size_t i = 0; i < 4; i++) {
        err = get_optional_values(section, TDX_PATH, rtmr_keys[i], 48, &tdx->rtmr[i], diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    err = get_optional_values(section, TDX_PATH, "mr_config_id", 48, &tdx->mr_config_id, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return get_optional_values(section, TDX_PATH, "mr_owner", 48, &tdx->mr_owner, diag);
}

attest_err policy_parse_tdx(const json_t *section, policy_tdx *out_tdx, attest_diag *diag)
{
    if (!json_is_object(section)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, TDX_PATH ": expected an object");
    }
    static const char *const keys[] = {"mrtd",          "rtmr0",          "rtmr1",
                                       "rtmr2",         "rtmr3",          "mr_config_id",
                                       "mr_owner",      "td_attributes",  "xfam",
                                       "min_tee_tcb_svn"};
    attest_err err = policy_check_keys(section, TDX_PATH, keys, sizeof(keys) / sizeof(keys[0]),
                                       diag);
    if (err != ATTEST_OK) {
        return err;
    }

    policy_tdx tdx;
    memset(&tdx, 0, sizeof(tdx));
    err = tdx_measurements_parse(section, &tdx, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_masked(section, TDX_PATH, "td_attributes", 8, &tdx.td_attributes, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_masked(section, TDX_PATH, "xfam", 8, &tdx.xfam, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (has_key(section, "min_tee_tcb_svn")) {
        err = attest_json_get_hex(section, TDX_PATH, "min_tee_tcb_svn", tdx.min_tee_tcb_svn,
                                  sizeof(tdx.min_tee_tcb_svn), diag);
        if (err != ATTEST_OK) {
            return err;
        }
        tdx.has_min_tee_tcb_svn = true;
    }

    bool pinned = tdx.mrtd.count > 0 || tdx.mr_config_id.count > 0 || tdx.mr_owner.count > 0;
    for (size_t i = 0; i < 4; i++) {
        pinned = pinned || tdx.rtmr[i].count > 0;
    }
    if (!pinned) {
        return attest_diag_set(diag, ATTEST_ERR_POLICY_INVALID,
                               TDX_PATH ": needs at least one of \"mrtd\", \"rtmr0\" to "
                                        "\"rtmr3\", \"mr_config_id\" or \"mr_owner\", so that "
                                        "it pins the TD's identity");
    }
    *out_tdx = tdx;
    return ATTEST_OK;
}
