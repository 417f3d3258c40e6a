/*
 * Intel TCB info documents: SGX versions 2 and 3, TDX version 3, and the
 * names of TCB statuses.
 *
 * Version 2 has no "id" (it is SGX) and names components "sgxtcbcomp01svn"
 * to "sgxtcbcomp16svn"; an "id" of "SGX" is accepted there too. Version 3
 * lists 16 {"svn": n, ...} objects under "sgxtcbcomponents" and, for TDX,
 * "tdxtcbcomponents". Only "tcbType" 0 exists, as in Intel's Quote
 * Verification Library.
 *
 * Caveats: levels are kept in document order and are not checked for
 * duplicates or for being sorted; the matcher takes the first that fits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <attest/tcb.h>

#include "collateral/json.h"

static const char *const status_names[] = {
    [ATTEST_TCB_UP_TO_DATE] = "UpToDate",
    [ATTEST_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [ATTEST_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [ATTEST_TCB_OUT_OF_DATE] = "OutOfDate",
    [ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [ATTEST_TCB_REVOKED] = "Revoked",
    [ATTEST_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] =
        "TDRelaunchAdvisedConfigurationNeeded",
};

#define STATUS_COUNT (sizeof(status_names) / sizeof(status_names[0]))

const char *attest_tcb_status_name(attest_tcb_status status)
{
    if ((size_t)status >= STATUS_COUNT) {
        return "unknown";
    }
    return status_names[status];
}

attest_err attest_tcb_status_parse(const char *name, attest_tcb_status *out_status)
{
    if (name == NULL) {
        return ATTEST_ERR_TCB_STATUS_UNKNOWN;
    }
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out_status = (attest_tcb_status)i;
            return ATTEST_OK;
        }
    }
    return ATTEST_ERR_TCB_STATUS_UNKNOWN;
}

/* Reads 16 {"svn": 0..255} objects of the array key into out. */
static attest_err get_component_array(const json_t *tcb, const char *path, const char *key,
                                      uint8_t out[16], attest_diag *diag)
{
    json_t *array = NULL;
    attest_err err = attest_json_get_array(tcb, path, key, &array, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (json_array_size(array) != 16) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: expected 16 components, got %zu", path, key,
                               json_array_size(array));
    }

    uint8_t components[16];
    for (size_t i = 0; i < 16; i++) {
        char component_path[ATTEST_JSON_PATH_SIZE];
        attest_json_path_format(component_path, "%s.%s[%zu]", path, key, i);
        json_t *component = json_array_get(array, i);
        if (!json_is_object(component)) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s: expected an object",
                                   component_path);
        }
        uint64_t svn = 0;
        err = attest_json_get_uint(component, component_path, "svn", UINT8_MAX, &svn, diag);
        if (err != ATTEST_OK) {
            return err;
        }
        components[i] = (uint8_t)svn;
    }

    memcpy(out, components, sizeof(components));
    return ATTEST_OK;
}

/* Reads "sgxtcbcomp01svn" to "sgxtcbcomp16svn" of a version 2 level into out. */
static attest_err get_v2_components(const json_t *tcb, const char *path, uint8_t out[16],
                                    attest_diag *diag)
{
    uint8_t components[16];
    for (size_t i = 0; i < 16; i++) {
        char key[ATTEST_JSON_PATH_SIZE];
        attest_json_path_format(key, "sgxtcbcomp%02zusvn", i + 1);
        uint64_t svn = 0;
        attest_err err = attest_json_get_uint(tcb, path, key, UINT8_MAX, &svn, diag);
        if (err != ATTEST_OK) {
            return err;
        }
        components[i] = (uint8_t)svn;
    }
    memcpy(out, components, sizeof(components));
    return ATTEST_OK;
}

static attest_err get_tcb_level(const json_t *level, const char *path,
                                const attest_tcb_info *info, attest_tcb_level *out_level,
                                attest_diag *diag)
{
    if (!json_is_object(level)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s: expected an object", path);
    }

    json_t *tcb = NULL;
    attest_err err = attest_json_get_object(level, path, "tcb", &tcb, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    char tcb_path[ATTEST_JSON_PATH_SIZE];
    attest_json_path_format(tcb_path, "%s.tcb", path);

    if (info->version == 2) {
        err = get_v2_components(tcb, tcb_path, out_level->sgx_components, diag);
    } else {
        err = get_component_array(tcb, tcb_path, "sgxtcbcomponents", out_level->sgx_components,
                                  diag);
    }
    if (err != ATTEST_OK) {
        return err;
    }

    uint64_t pcesvn = 0;
    err = attest_json_get_uint(tcb, tcb_path, "pcesvn", UINT16_MAX, &pcesvn, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    out_level->pcesvn = (uint16_t)pcesvn;

    if (info->id == ATTEST_TCB_INFO_TDX) {
        err = get_component_array(tcb, tcb_path, "tdxtcbcomponents", out_level->tdx_components,
                                  diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }

    err = attest_json_get_time(level, path, "tcbDate", &out_level->tcb_date, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_tcb_status(level, path, "tcbStatus", ATTEST_JSON_PLATFORM_STATUSES,
                                     &out_level->status, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return attest_json_get_advisories(level, path, &out_level->advisories, diag);
}

static attest_err get_tcb_levels(const json_t *root, attest_tcb_info *info, attest_diag *diag)
{
    json_t *array = NULL;
    attest_err err = attest_json_get_array(root, "tcbInfo", "tcbLevels", &array, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    size_t count = json_array_size(array);
    if (count == 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "tcbInfo.tcbLevels: empty array");
    }
    if (count > ATTEST_TCB_MAX_LEVELS) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "tcbInfo.tcbLevels: %zu levels exceed the limit of %d", count,
                               ATTEST_TCB_MAX_LEVELS);
    }

    info->levels = calloc(count, sizeof(*info->levels));
    if (info->levels == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    info->level_count = count;

    for (size_t i = 0; i < count; i++) {
        char path[ATTEST_JSON_PATH_SIZE];
        attest_json_path_format(path, "tcbInfo.tcbLevels[%zu]", i);
        err = get_tcb_level(json_array_get(array, i), path, info, &info->levels[i], diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    return ATTEST_OK;
}

static attest_err get_module_identity(const json_t *object, const char *path,
                                      attest_tdx_module_identity *out_identity,
                                      attest_diag *diag)
{
    if (!json_is_object(object)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s: expected an object", path);
    }

    const char *id = NULL;
    size_t id_size = 0;
    attest_err err = attest_json_get_string(object, path, "id", &id, &id_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (id_size == 0 || id_size >= sizeof(out_identity->id)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.id: length %zu is outside 1 to %zu", path, id_size,
                               sizeof(out_identity->id) - 1);
    }
    memcpy(out_identity->id, id, id_size + 1);

    err = attest_json_get_hex(object, path, "mrsigner", out_identity->mrsigner,
                              sizeof(out_identity->mrsigner), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(object, path, "attributes", out_identity->attributes,
                              sizeof(out_identity->attributes), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(object, path, "attributesMask", out_identity->attributes_mask,
                              sizeof(out_identity->attributes_mask), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return attest_json_get_isvsvn_levels(object, path, &out_identity->levels,
                                         &out_identity->level_count, diag);
}

static attest_err get_tdx_module(const json_t *root, attest_tcb_info *info, attest_diag *diag)
{
    json_t *module = NULL;
    attest_err err = attest_json_get_object(root, "tcbInfo", "tdxModule", &module, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    const char *path = "tcbInfo.tdxModule";
    err = attest_json_get_hex(module, path, "mrsigner", info->tdx_module_mrsigner,
                              sizeof(info->tdx_module_mrsigner), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(module, path, "attributes", info->tdx_module_attributes,
                              sizeof(info->tdx_module_attributes), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(module, path, "attributesMask", info->tdx_module_attributes_mask,
                              sizeof(info->tdx_module_attributes_mask), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    info->has_tdx_module = true;

    /* Module identities are optional, but when present the array is not empty. */
    if (json_object_get(root, "tdxModuleIdentities") == NULL) {
        return ATTEST_OK;
    }
    json_t *array = NULL;
    err = attest_json_get_array(root, "tcbInfo", "tdxModuleIdentities", &array, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    size_t count = json_array_size(array);
    if (count == 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "tcbInfo.tdxModuleIdentities: empty array");
    }
    if (count > ATTEST_TDX_MAX_MODULE_IDENTITIES) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "tcbInfo.tdxModuleIdentities: %zu identities exceed the limit "
                               "of %d",
                               count, ATTEST_TDX_MAX_MODULE_IDENTITIES);
    }

    info->tdx_module_identities = calloc(count, sizeof(*info->tdx_module_identities));
    if (info->tdx_module_identities == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    info->tdx_module_identity_count = count;

    for (size_t i = 0; i < count; i++) {
        char identity_path[ATTEST_JSON_PATH_SIZE];
        attest_json_path_format(identity_path, "tcbInfo.tdxModuleIdentities[%zu]", i);
        err = get_module_identity(json_array_get(array, i), identity_path,
                                  &info->tdx_module_identities[i], diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    return ATTEST_OK;
}

/* Reads "version" and "id" and checks that the pair is supported. */
static attest_err get_id_and_version(const json_t *root, attest_tcb_info *info,
                                     attest_diag *diag)
{
    json_t *version = json_object_get(root, "version");
    if (version == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "tcbInfo.version: missing");
    }
    if (!json_is_integer(version)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "tcbInfo.version: expected an integer");
    }
    json_int_t number = json_integer_value(version);
    if (number != 2 && number != 3) {
        return attest_diag_set(diag, ATTEST_ERR_TCB_INFO_VERSION,
                               "tcbInfo.version: %lld is not supported (2 or 3)",
                               (long long)number);
    }
    info->version = (int)number;

    const char *id = "SGX";
    if (info->version == 3 || json_object_get(root, "id") != NULL) {
        size_t id_size = 0;
        attest_err err = attest_json_get_string(root, "tcbInfo", "id", &id, &id_size, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }

    if (strcmp(id, "SGX") == 0) {
        info->id = ATTEST_TCB_INFO_SGX;
    } else if (strcmp(id, "TDX") == 0 && info->version == 3) {
        info->id = ATTEST_TCB_INFO_TDX;
    } else {
        return attest_diag_set(diag, ATTEST_ERR_TCB_INFO_VERSION,
                               "tcbInfo.id: \"%.32s\" with version %d is not supported (SGX 2 "
                               "or 3, TDX 3)",
                               id, info->version);
    }
    return ATTEST_OK;
}

static attest_err get_header_fields(const json_t *root, attest_tcb_info *info,
                                    attest_diag *diag)
{
    attest_err err = attest_json_get_time(root, "tcbInfo", "issueDate", &info->issue_date, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_time(root, "tcbInfo", "nextUpdate", &info->next_update, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(root, "tcbInfo", "fmspc", info->fmspc, sizeof(info->fmspc), diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(root, "tcbInfo", "pceId", info->pce_id, sizeof(info->pce_id),
                              diag);
    if (err != ATTEST_OK) {
        return err;
    }

    uint64_t tcb_type = 0;
    err = attest_json_get_uint(root, "tcbInfo", "tcbType", INT32_MAX, &tcb_type, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (tcb_type != 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "tcbInfo.tcbType: %llu is not supported (only 0)",
                               (unsigned long long)tcb_type);
    }
    info->tcb_type = 0;

    uint64_t number = 0;
    err = attest_json_get_uint(root, "tcbInfo", "tcbEvaluationDataNumber", UINT32_MAX, &number,
                               diag);
    if (err != ATTEST_OK) {
        return err;
    }
    info->tcb_evaluation_data_number = (uint32_t)number;
    return ATTEST_OK;
}

static attest_err tcb_info_from_json(const json_t *root, attest_tcb_info *info,
                                     attest_diag *diag)
{
    if (!json_is_object(root)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "tcbInfo: expected an object");
    }

    attest_err err = get_id_and_version(root, info, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_header_fields(root, info, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    if (info->id == ATTEST_TCB_INFO_TDX) {
        err = get_tdx_module(root, info, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    } else if (json_object_get(root, "tdxModule") != NULL ||
               json_object_get(root, "tdxModuleIdentities") != NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "tcbInfo.tdxModule: not allowed in SGX TCB info");
    }

    return get_tcb_levels(root, info, diag);
}

attest_err attest_tcb_info_parse(const char *json, size_t size, attest_tcb_info *out_info,
                                 attest_diag *diag)
{
    if (json == NULL || out_info == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "TCB info text or output is NULL");
    }

    json_t *root = NULL;
    attest_err err = attest_json_parse(json, size, &root, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_tcb_info info;
    memset(&info, 0, sizeof(info));
    err = tcb_info_from_json(root, &info, diag);
    json_decref(root);
    if (err != ATTEST_OK) {
        attest_tcb_info_free(&info);
        return err;
    }

    *out_info = info;
    return ATTEST_OK;
}

void attest_tcb_info_free(attest_tcb_info *info)
{
    if (info == NULL) {
        return;
    }
    for (size_t i = 0; i < info->tdx_module_identity_count; i++) {
        free(info->tdx_module_identities[i].levels);
    }
    free(info->tdx_module_identities);
    free(info->levels);
    memset(info, 0, sizeof(*info));
}
