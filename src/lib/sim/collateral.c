/*
 * Collateral issued by the simulated platform: the root CA CRL and PCK CRL,
 * the issuer chains, TCB info (SGX or TDX, version 3) and QE identity (QE or
 * TD_QE, version 2). The simulated TCB signing key signs the exact bytes of
 * each JSON text, as Intel signs them.
 *
 * The TCB info lists the level the platform's TCB matches with the status
 * the caller chose, a newer UpToDate level above it when that status is not
 * UpToDate, and an older OutOfDate level below. Advisory IDs are fixed per
 * status; they reuse Intel's names but describe nothing about the simulation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sim/sim_internal.h"
#include "util/hex.h"

#define DAY_SECONDS ((time_t)86400)
#define TCB_EVALUATION_DATA_NUMBER 17

/* One TCB level of the simulated TCB info. */
typedef struct sim_level {
    uint8_t sgx_components[16];
    uint16_t pcesvn;
    uint8_t tdx_components[16];
    attest_tcb_status status;
    const char *tcb_date;
} sim_level;

void attest_sim_collateral_options_init(attest_sim_collateral_options *options,
                                        attest_sim_tee tee, time_t at)
{
    memset(options, 0, sizeof(*options));
    options->tee = tee;
    options->at = at;
    options->platform_status = ATTEST_TCB_UP_TO_DATE;
    options->module_status = ATTEST_TCB_UP_TO_DATE;
    options->qe_status = ATTEST_TCB_UP_TO_DATE;
    memcpy(options->fmspc, sim_fmspc, sizeof(options->fmspc));
}

/* Writes the fixed advisory IDs of a level with status to out and returns their count. */
static size_t status_advisories(attest_tcb_status status, const char *out[2])
{
    switch (status) {
    case ATTEST_TCB_UP_TO_DATE:
    case ATTEST_TCB_TD_RELAUNCH_ADVISED:
    case ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED:
        return 0;
    case ATTEST_TCB_SW_HARDENING_NEEDED:
        out[0] = "INTEL-SA-00615";
        return 1;
    case ATTEST_TCB_CONFIGURATION_NEEDED:
        out[0] = "INTEL-SA-00289";
        return 1;
    case ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
        out[0] = "INTEL-SA-00289";
        out[1] = "INTEL-SA-00615";
        return 2;
    case ATTEST_TCB_OUT_OF_DATE:
    case ATTEST_TCB_REVOKED:
        out[0] = "INTEL-SA-00828";
        return 1;
    case ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED:
        out[0] = "INTEL-SA-00289";
        out[1] = "INTEL-SA-00828";
        return 2;
    }
    return 0;
}

/* ---- JSON building: every helper returns NULL when out of memory ---- */

static json_t *hex_string(const uint8_t *data, size_t size)
{
    char text[2 * 48 + 1];
    if (size > 48) {
        return NULL;
    }
    attest_hex_encode(data, size, text);
    /* Intel writes hex fields of collateral in upper case. */
    for (size_t i = 0; text[i] != '\0'; i++) {
        if (text[i] >= 'a' && text[i] <= 'f') {
            text[i] = (char)(text[i] - 'a' + 'A');
        }
    }
    return json_string(text);
}

static json_t *time_string(time_t t)
{
    char text[21];
    attest_time_format(t, text);
    return json_string(text);
}

static json_t *components_array(const uint8_t components[16])
{
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < 16; i++) {
        if (json_array_append_new(array, json_pack("{s:i}", "svn", (int)components[i])) != 0) {
            json_decref(array);
            array = NULL;
        }
    }
    return array;
}

/* Adds "tcbDate", "tcbStatus" and, when there are any, "advisoryIDs" to level. */
static bool level_status_set(json_t *level, const char *tcb_date, attest_tcb_status status,
                             const char *const *advisories, size_t advisory_count)
{
    if (json_object_set_new(level, "tcbDate", json_string(tcb_date)) != 0 ||
        json_object_set_new(level, "tcbStatus", json_string(attest_tcb_status_name(status))) !=
            0) {
        return false;
    }
    if (advisory_count == 0) {
        return true;
    }
    json_t *ids = json_array();
    for (size_t i = 0; ids != NULL && i < advisory_count; i++) {
        if (json_array_append_new(ids, json_string(advisories[i])) != 0) {
            json_decref(ids);
            ids = NULL;
        }
    }
    return json_object_set_new(level, "advisoryIDs", ids) == 0;
}

static json_t *platform_level_json(const sim_level *level, bool tdx)
{
    json_t *tcb = json_object();
    json_t *object = json_object();
    bool built = tcb != NULL && object != NULL &&
                 json_object_set_new(tcb, "sgxtcbcomponents",
                                     components_array(level->sgx_components)) == 0 &&
                 json_object_set_new(tcb, "pcesvn", json_integer(level->pcesvn)) == 0 &&
                 (!tdx || json_object_set_new(tcb, "tdxtcbcomponents",
                                              components_array(level->tdx_components)) == 0);
    built = built && json_object_set(object, "tcb", tcb) == 0;
    const char *advisories[2];
    size_t count = status_advisories(level->status, advisories);
    built = built && level_status_set(object, level->tcb_date, level->status, advisories, count);
    json_decref(tcb);
    if (!built) {
        json_decref(object);
        return NULL;
    }
    return object;
}

/* A level of a QE identity or TDX module identity: {"tcb":{"isvsvn":n},...}. */
static json_t *isvsvn_level_json(uint16_t isvsvn, const char *tcb_date, attest_tcb_status status,
                                 const char *advisory)
{
    json_t *object = json_pack("{s:{s:i}}", "tcb", "isvsvn", (int)isvsvn);
    const char *advisories[1] = {advisory};
    if (object == NULL ||
        !level_status_set(object, tcb_date, status, advisories, advisory != NULL ? 1 : 0)) {
        json_decref(object);
        return NULL;
    }
    return object;
}

/*
 * Builds two identity levels. For status UpToDate, the current ISVSVN is
 * UpToDate above an older OutOfDate one. For another status, a newer
 * UpToDate ISVSVN is above the current one, which gets that status.
 */
static json_t *isvsvn_levels_json(uint16_t current, attest_tcb_status status, const char *advisory)
{
    json_t *levels = json_array();
    bool current_up_to_date = status == ATTEST_TCB_UP_TO_DATE;
    uint16_t newer = current_up_to_date ? current : (uint16_t)(current + 2);
    uint16_t older = current_up_to_date ? (uint16_t)(current - 2) : current;
    attest_tcb_status older_status = current_up_to_date ? ATTEST_TCB_OUT_OF_DATE : status;
    if (levels == NULL ||
        json_array_append_new(levels, isvsvn_level_json(newer, "2024-11-13T00:00:00Z",
                                                        ATTEST_TCB_UP_TO_DATE, NULL)) != 0 ||
        json_array_append_new(levels, isvsvn_level_json(older, "2023-02-15T00:00:00Z",
                                                        older_status, advisory)) != 0) {
        json_decref(levels);
        return NULL;
    }
    return levels;
}

/* The "tdxModule" identity and the identities "TDX_01" (the simulated module) and "TDX_03". */
static bool tdx_module_add(json_t *info, attest_tcb_status module_status)
{
    static const uint8_t zeros[48] = {0};
    static const uint8_t mask[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    json_t *module = json_pack("{s:o,s:o,s:o}", "mrsigner", hex_string(zeros, 48), "attributes",
                               hex_string(zeros, 8), "attributesMask", hex_string(mask, 8));
    json_t *module_03 = json_pack(
        "{s:s,s:o,s:o,s:o,s:[o]}", "id", "TDX_03", "mrsigner", hex_string(zeros, 48),
        "attributes", hex_string(zeros, 8), "attributesMask", hex_string(mask, 8), "tcbLevels",
        isvsvn_level_json(3, "2024-11-13T00:00:00Z", ATTEST_TCB_UP_TO_DATE, NULL));
    json_t *module_01 = json_pack(
        "{s:s,s:o,s:o,s:o,s:o}", "id", "TDX_01", "mrsigner", hex_string(zeros, 48),
        "attributes", hex_string(zeros, 8), "attributesMask", hex_string(mask, 8), "tcbLevels",
        isvsvn_levels_json(sim_tee_tcb_svn[0], module_status, "INTEL-SA-00837"));
    /* json_pack takes the references of "o" arguments, also when it fails on a NULL one. */
    json_t *identities = json_pack("[o,o]", module_03, module_01);
    bool added = module != NULL && identities != NULL &&
                 json_object_set(info, "tdxModule", module) == 0 &&
                 json_object_set(info, "tdxModuleIdentities", identities) == 0;
    json_decref(module);
    json_decref(identities);
    return added;
}

/* Fills levels (newest first) around the platform's TCB; returns their count. */
static size_t levels_build(attest_tcb_status platform_status, sim_level levels[3])
{
    sim_level platform;
    memcpy(platform.sgx_components, sim_sgx_components, 16);
    platform.pcesvn = SIM_PCESVN;
    memcpy(platform.tdx_components, sim_tee_tcb_svn, 16);
    platform.status = platform_status;
    platform.tcb_date = "2024-03-13T00:00:00Z";

    /* A newer level the platform does not meet: higher SGX components 0 and 1, PCESVN, TDX 2. */
    sim_level newer = platform;
    newer.sgx_components[0]++;
    newer.sgx_components[1]++;
    newer.pcesvn = SIM_PCESVN + 2;
    newer.tdx_components[2]++;
    newer.status = ATTEST_TCB_UP_TO_DATE;
    newer.tcb_date = "2024-11-13T00:00:00Z";

    sim_level older = platform;
    older.sgx_components[0] -= 2;
    older.sgx_components[1] -= 2;
    older.pcesvn = SIM_PCESVN - 6;
    older.tdx_components[2]--;
    older.status = ATTEST_TCB_OUT_OF_DATE;
    older.tcb_date = "2023-02-15T00:00:00Z";

    size_t count = 0;
    if (platform_status != ATTEST_TCB_UP_TO_DATE) {
        levels[count++] = newer;
    }
    levels[count++] = platform;
    levels[count++] = older;
    return count;
}

/* Writes the compact JSON text of object into a new malloc'ed buffer. */
static attest_err json_text(const json_t *object, attest_bytes *out_text)
{
    char *text = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    out_text->data = (uint8_t *)text;
    out_text->size = strlen(text);
    return ATTEST_OK;
}

static attest_err tcb_info_text(const attest_sim_collateral_options *options,
                                attest_bytes *out_text)
{
    bool tdx = options->tee == ATTEST_SIM_TDX;
    time_t issue = options->at - DAY_SECONDS;
    time_t next = options->tcb_info_expired ? options->at - DAY_SECONDS
                                            : options->at + 29 * DAY_SECONDS;
    if (options->tcb_info_expired) {
        issue = options->at - 31 * DAY_SECONDS;
    }
    json_t *info = json_pack("{s:s,s:i,s:o,s:o,s:o,s:o,s:i,s:i}", "id", tdx ? "TDX" : "SGX",
                             "version", 3, "issueDate", time_string(issue), "nextUpdate",
                             time_string(next), "fmspc", hex_string(options->fmspc, 6), "pceId",
                             hex_string(sim_pce_id, 2), "tcbType", 0, "tcbEvaluationDataNumber",
                             TCB_EVALUATION_DATA_NUMBER);
    if (info == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    if (tdx && !tdx_module_add(info, options->module_status)) {
        json_decref(info);
        return ATTEST_ERR_NOMEM;
    }

    sim_level levels[3];
    size_t count = levels_build(options->platform_status, levels);
    json_t *array = json_array();
    bool built = array != NULL;
    for (size_t i = 0; built && i < count; i++) {
        built = json_array_append_new(array, platform_level_json(&levels[i], tdx)) == 0;
    }
    built = built && json_object_set(info, "tcbLevels", array) == 0;
    json_decref(array);
    attest_err err = built ? json_text(info, out_text) : ATTEST_ERR_NOMEM;
    json_decref(info);
    return err;
}

static attest_err qe_identity_text(const attest_sim_collateral_options *options,
                                   attest_bytes *out_text)
{
    bool tdx = options->tee == ATTEST_SIM_TDX;
    static const uint8_t miscselect[4] = {0};
    static const uint8_t miscselect_mask[4] = {0xff, 0xff, 0xff, 0xff};
    static const uint8_t attributes[16] = {0x11};
    static const uint8_t attributes_mask[16] = {0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t mrsigner[32];
    sim_qe_mrsigner(mrsigner);

    json_t *identity = json_pack(
        "{s:s,s:i,s:o,s:o,s:i,s:o,s:o,s:o,s:o,s:o,s:i,s:o}", "id", tdx ? "TD_QE" : "QE",
        "version", 2, "issueDate", time_string(options->at - DAY_SECONDS), "nextUpdate",
        time_string(options->at + 29 * DAY_SECONDS), "tcbEvaluationDataNumber",
        TCB_EVALUATION_DATA_NUMBER, "miscselect", hex_string(miscselect, 4), "miscselectMask",
        hex_string(miscselect_mask, 4), "attributes", hex_string(attributes, 16),
        "attributesMask", hex_string(attributes_mask, 16), "mrsigner", hex_string(mrsigner, 32),
        "isvprodid", tdx ? SIM_TD_QE_PROD_ID : SIM_QE_PROD_ID, "tcbLevels",
        isvsvn_levels_json(tdx ? SIM_TD_QE_SVN : SIM_QE_SVN, options->qe_status,
                           "INTEL-SA-00477"));
    if (identity == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = json_text(identity, out_text);
    json_decref(identity);
    return err;
}

/* Moves an OpenSSL-allocated buffer into a malloc'ed attest_bytes. */
static attest_err bytes_from_openssl(uint8_t *data, size_t size, attest_bytes *out_bytes)
{
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy != NULL && size > 0) {
        memcpy(copy, data, size);
    }
    OPENSSL_free(data);
    if (copy == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    out_bytes->data = copy;
    out_bytes->size = size;
    return ATTEST_OK;
}

static attest_err crls_issue(attest_sim_platform *platform,
                             const attest_sim_collateral_options *options,
                             attest_collateral *collateral, attest_diag *diag)
{
    sim_pck pck = sim_platform_pck(platform, options->tee);
    time_t this_update = options->at - DAY_SECONDS;
    time_t next_update = options->at + 29 * DAY_SECONDS;

    uint8_t *der = NULL;
    size_t size = 0;
    X509 *revoked_ca[1] = {pck.ca};
    attest_err err = sim_crl_issue(platform->root, platform->root_key, this_update, next_update,
                                   revoked_ca, options->revoke_intermediate ? 1 : 0, &der, &size,
                                   diag);
    if (err == ATTEST_OK) {
        err = bytes_from_openssl(der, size, &collateral->root_ca_crl);
    }
    if (err != ATTEST_OK) {
        return err;
    }

    time_t pck_this_update = options->pck_crl_expired ? options->at - 31 * DAY_SECONDS
                                                      : this_update;
    time_t pck_next_update = options->pck_crl_expired ? options->at - DAY_SECONDS : next_update;
    X509 *revoked_pck[1] = {pck.cert};
    err = sim_crl_issue(pck.ca, pck.ca_key, pck_this_update, pck_next_update, revoked_pck,
                        options->revoke_pck ? 1 : 0, &der, &size, diag);
    if (err == ATTEST_OK) {
        err = bytes_from_openssl(der, size, &collateral->pck_crl);
    }
    return err;
}

static attest_err chains_issue(attest_sim_platform *platform, attest_sim_tee tee,
                               attest_collateral *collateral, attest_diag *diag)
{
    sim_pck pck = sim_platform_pck(platform, tee);
    X509 *pck_crl_chain[2] = {pck.ca, platform->root};
    X509 *signing_chain[2] = {platform->tcb_signing, platform->root};
    attest_err err = sim_pem_chain(pck_crl_chain, 2, false, &collateral->pck_crl_issuer_chain.data,
                                   &collateral->pck_crl_issuer_chain.size, diag);
    if (err == ATTEST_OK) {
        err = sim_pem_chain(signing_chain, 2, false, &collateral->tcb_info_issuer_chain.data,
                            &collateral->tcb_info_issuer_chain.size, diag);
    }
    if (err == ATTEST_OK) {
        err = sim_pem_chain(signing_chain, 2, false, &collateral->qe_identity_issuer_chain.data,
                            &collateral->qe_identity_issuer_chain.size, diag);
    }
    return err;
}

/* Signs text with the TCB signing key into a new 64-byte r || s buffer. */
static attest_err document_sign(attest_sim_platform *platform, const attest_bytes *text,
                                attest_bytes *out_signature, attest_diag *diag)
{
    uint8_t *signature = malloc(64);
    if (signature == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    attest_err err = sim_sign_raw(platform->tcb_signing_key, text->data, text->size, signature,
                                  diag);
    if (err != ATTEST_OK) {
        free(signature);
        return err;
    }
    out_signature->data = signature;
    out_signature->size = 64;
    return ATTEST_OK;
}

static attest_err options_check(const attest_sim_collateral_options *options, attest_diag *diag)
{
    if (options->tee != ATTEST_SIM_SGX && options->tee != ATTEST_SIM_TDX) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "TEE %d is neither SGX nor TDX",
                               (int)options->tee);
    }
    if (options->platform_status == ATTEST_TCB_TD_RELAUNCH_ADVISED ||
        options->platform_status == ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED ||
        (unsigned)options->platform_status > ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "platform TCB status %s is not one a TCB level can have",
                               attest_tcb_status_name(options->platform_status));
    }
    attest_tcb_status identity_statuses[2] = {options->module_status, options->qe_status};
    const char *identity_names[2] = {"TDX module", "QE identity"};
    for (size_t i = 0; i < 2; i++) {
        if (identity_statuses[i] != ATTEST_TCB_UP_TO_DATE &&
            identity_statuses[i] != ATTEST_TCB_OUT_OF_DATE &&
            identity_statuses[i] != ATTEST_TCB_REVOKED) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "%s status %s is not UpToDate, OutOfDate or Revoked",
                                   identity_names[i],
                                   attest_tcb_status_name(identity_statuses[i]));
        }
    }
    if (options->at < 32 * DAY_SECONDS) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "collateral time %lld is before 1970-02-02",
                               (long long)options->at);
    }
    return ATTEST_OK;
}

static attest_err collateral_issue(attest_sim_platform *platform,
                                   const attest_sim_collateral_options *options,
                                   attest_collateral *collateral, attest_diag *diag)
{
    attest_err err = crls_issue(platform, options, collateral, diag);
    if (err == ATTEST_OK) {
        err = chains_issue(platform, options->tee, collateral, diag);
    }
    if (err == ATTEST_OK) {
        err = tcb_info_text(options, &collateral->tcb_info);
    }
    if (err == ATTEST_OK) {
        err = document_sign(platform, &collateral->tcb_info, &collateral->tcb_info_signature,
                            diag);
    }
    if (err == ATTEST_OK) {
        err = qe_identity_text(options, &collateral->qe_identity);
    }
    if (err == ATTEST_OK) {
        err = document_sign(platform, &collateral->qe_identity,
                            &collateral->qe_identity_signature, diag);
    }
    return err;
}

attest_err attest_sim_collateral(attest_sim_platform *platform,
                                 const attest_sim_collateral_options *options,
                                 attest_collateral *out_collateral, attest_diag *diag)
{
    if (platform == NULL || options == NULL || out_collateral == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "platform, options or output is NULL");
    }
    attest_err err = options_check(options, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_collateral collateral;
    memset(&collateral, 0, sizeof(collateral));
    err = collateral_issue(platform, options, &collateral, diag);
    if (err != ATTEST_OK) {
        attest_collateral_clear(&collateral);
        return err;
    }
    *out_collateral = collateral;
    return ATTEST_OK;
}

/* ---- Output shapes ---- */

static json_t *hex_json(const attest_bytes *bytes)
{
    char *text = malloc(2 * bytes->size + 1);
    if (text == NULL) {
        return NULL;
    }
    attest_hex_encode(bytes->data, bytes->size, text);
    json_t *string = json_string(text);
    free(text);
    return string;
}

static json_t *text_json(const attest_bytes *bytes)
{
    return json_stringn((const char *)bytes->data, bytes->size);
}

attest_err attest_sim_collateral_to_bundle(const attest_collateral *collateral, char **out_json,
                                           attest_diag *diag)
{
    if (collateral == NULL || out_json == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "collateral or output is NULL");
    }
    json_t *bundle = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "pck_crl_issuer_chain",
        text_json(&collateral->pck_crl_issuer_chain), "root_ca_crl",
        hex_json(&collateral->root_ca_crl), "pck_crl", hex_json(&collateral->pck_crl),
        "tcb_info_issuer_chain", text_json(&collateral->tcb_info_issuer_chain), "tcb_info",
        text_json(&collateral->tcb_info), "tcb_info_signature",
        hex_json(&collateral->tcb_info_signature), "qe_identity_issuer_chain",
        text_json(&collateral->qe_identity_issuer_chain), "qe_identity",
        text_json(&collateral->qe_identity), "qe_identity_signature",
        hex_json(&collateral->qe_identity_signature));
    if (bundle == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_NOMEM,
                               "formatting the collateral bundle failed (out of memory or text "
                               "that is not UTF-8)");
    }
    char *text = json_dumps(bundle, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(bundle);
    if (text == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    *out_json = text;
    return ATTEST_OK;
}

static attest_err file_write(const char *dir, const char *name, const void *data, size_t size,
                             attest_diag *diag)
{
    char path[4096];
    int length = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (length < 0 || (size_t)length >= sizeof(path)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "path %s/%s is too long", dir, name);
    }
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot create %s: %s", path,
                               strerror(errno));
    }
    bool written = size == 0 || fwrite(data, 1, size, file) == size;
    if (fclose(file) != 0 || !written) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "writing %s failed: %s", path,
                               strerror(errno));
    }
    return ATTEST_OK;
}

/* Writes a PCS response body {"<key>":<text>,"signature":"<hex>"} with text byte for byte. */
static attest_err pcs_body_write(const char *dir, const char *name, const char *key,
                                 const attest_bytes *text, const attest_bytes *signature,
                                 attest_diag *diag)
{
    char signature_hex[2 * 64 + 1];
    if (signature->size != 64) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "%s signature is %zu bytes, not 64",
                               name, signature->size);
    }
    attest_hex_encode(signature->data, signature->size, signature_hex);

    size_t capacity = strlen(key) + text->size + sizeof(signature_hex) + 32;
    char *body = malloc(capacity);
    if (body == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    int prefix = snprintf(body, capacity, "{\"%s\":", key);
    memcpy(body + prefix, text->data, text->size);
    int suffix = snprintf(body + prefix + text->size, capacity - (size_t)prefix - text->size,
                          ",\"signature\":\"%s\"}", signature_hex);
    attest_err err = file_write(dir, name, body, (size_t)prefix + text->size + (size_t)suffix,
                                diag);
    free(body);
    return err;
}

attest_err attest_sim_collateral_write_dir(const attest_collateral *collateral, const char *dir,
                                           attest_diag *diag)
{
    if (collateral == NULL || dir == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "collateral or directory is NULL");
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot create the directory %s: %s", dir,
                               strerror(errno));
    }

    attest_err err = pcs_body_write(dir, "tcb-info.json", "tcbInfo", &collateral->tcb_info,
                                    &collateral->tcb_info_signature, diag);
    if (err == ATTEST_OK) {
        err = pcs_body_write(dir, "qe-identity.json", "enclaveIdentity", &collateral->qe_identity,
                             &collateral->qe_identity_signature, diag);
    }
    const struct {
        const char *name;
        const attest_bytes *bytes;
    } files[] = {
        {"pck-crl.der", &collateral->pck_crl},
        {"root-ca-crl.der", &collateral->root_ca_crl},
        {"pck-crl-issuer-chain.pem", &collateral->pck_crl_issuer_chain},
        {"tcb-info-issuer-chain.pem", &collateral->tcb_info_issuer_chain},
        {"qe-identity-issuer-chain.pem", &collateral->qe_identity_issuer_chain},
    };
    for (size_t i = 0; err == ATTEST_OK && i < sizeof(files) / sizeof(files[0]); i++) {
        err = file_write(dir, files[i].name, files[i].bytes->data, files[i].bytes->size, diag);
    }
    return err;
}
