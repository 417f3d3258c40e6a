/*
 * TCB level matching for SGX and TDX, the TDX module check, TD 1.5 relaunch
 * advice and the merging of statuses.
 *
 * The rules follow Intel's Quote Verification Library
 * (intel/SGX-TDX-DCAP-QuoteVerificationLibrary, Src/AttestationLibrary/src/
 * Verifiers/Checks/: TcbLevelCheck.cpp at commit 139705ae, TdxModuleCheck.cpp
 * at 0e3dfb18 and TDRelaunchCheck.cpp at 26f9641f).
 *
 * NOTE: Intel sorts levels by their TCB components before matching, while this
 * code takes them in document order. Every real document here lists them
 * newest first, but a document in another order can select another level.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <attest/tcb.h>

static bool sgx_meets(const attest_tcb_inputs *inputs, const attest_tcb_level *level)
{
    for (size_t i = 0; i < 16; i++) {
        if (inputs->sgx_components[i] < level->sgx_components[i]) {
            return false;
        }
    }
    return inputs->pcesvn >= level->pcesvn;
}

/*
 * TDX components 0 and 1 describe the TDX module. When TEE_TCB_SVN[1] names a
 * module identity, that identity rates the module, so they are not compared.
 */
static bool tdx_meets(const uint8_t tee_tcb_svn[16], const attest_tcb_level *level)
{
    size_t first = tee_tcb_svn[1] != 0 ? 2 : 0;
    for (size_t i = first; i < 16; i++) {
        if (tee_tcb_svn[i] < level->tdx_components[i]) {
            return false;
        }
    }
    return true;
}

static bool is_configuration_needed(attest_tcb_status status)
{
    switch (status) {
    case ATTEST_TCB_CONFIGURATION_NEEDED:
    case ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
    case ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED:
    case ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED:
        return true;
    case ATTEST_TCB_UP_TO_DATE:
    case ATTEST_TCB_SW_HARDENING_NEEDED:
    case ATTEST_TCB_OUT_OF_DATE:
    case ATTEST_TCB_REVOKED:
    case ATTEST_TCB_TD_RELAUNCH_ADVISED:
        return false;
    }
    return false;
}

/*
 * Applies an OutOfDate or Revoked rating of the TDX module or the QE to a
 * platform status. The two merges follow the same rule in Intel's library.
 */
static attest_tcb_status merge_component(attest_tcb_status platform,
                                         attest_tcb_status component)
{
    if (component == ATTEST_TCB_REVOKED) {
        return ATTEST_TCB_REVOKED;
    }
    if (component != ATTEST_TCB_OUT_OF_DATE) {
        return platform;
    }
    switch (platform) {
    case ATTEST_TCB_UP_TO_DATE:
    case ATTEST_TCB_SW_HARDENING_NEEDED:
        return ATTEST_TCB_OUT_OF_DATE;
    case ATTEST_TCB_CONFIGURATION_NEEDED:
    case ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
        return ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    case ATTEST_TCB_OUT_OF_DATE:
    case ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED:
    case ATTEST_TCB_REVOKED:
    case ATTEST_TCB_TD_RELAUNCH_ADVISED:
    case ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED:
        return platform;
    }
    return platform;
}

/* Finds the module identity "TDX_%02X" of version; ids compare case-insensitively. */
static const attest_tdx_module_identity *find_module_identity(const attest_tcb_info *info,
                                                              uint8_t version)
{
    char wanted[16];
    snprintf(wanted, sizeof(wanted), "TDX_%02X", version);
    for (size_t i = 0; i < info->tdx_module_identity_count; i++) {
        const char *id = info->tdx_module_identities[i].id;
        size_t j = 0;
        while (wanted[j] != '\0' && toupper((unsigned char)id[j]) == wanted[j]) {
            j++;
        }
        if (wanted[j] == '\0' && id[j] == '\0') {
            return &info->tdx_module_identities[i];
        }
    }
    return NULL;
}

/*
 * True when reported & mask equals expected as written. Intel's QVL does not
 * mask the expected value, so an expected value with bits outside its mask
 * matches nothing.
 */
static bool masked_equal(const uint8_t *reported, const uint8_t *expected, const uint8_t *mask,
                         size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if ((reported[i] & mask[i]) != expected[i]) {
            return false;
        }
    }
    return true;
}

/*
 * Rates the TDX module of inputs. With TEE_TCB_SVN[1] zero, only the identity
 * in "tdxModule" is checked and the module adds no status; otherwise module
 * identity TDX_0N (N = TEE_TCB_SVN[1]) is checked and its first level with
 * ISVSVN at most TEE_TCB_SVN[0] gives the module status.
 */
static attest_err match_module(const attest_tcb_info *info, const attest_tcb_inputs *inputs,
                               attest_tcb_match *match, attest_diag *diag)
{
    uint8_t version = inputs->tee_tcb_svn[1];
    const uint8_t *mrsigner = info->tdx_module_mrsigner;
    const uint8_t *attributes = info->tdx_module_attributes;
    const uint8_t *mask = info->tdx_module_attributes_mask;
    const attest_tdx_module_identity *identity = NULL;

    if (version == 0) {
        if (!info->has_tdx_module) {
            return attest_diag_set(diag, ATTEST_ERR_TDX_MODULE, "TCB info has no tdxModule");
        }
    } else {
        identity = find_module_identity(info, version);
        if (identity == NULL) {
            return attest_diag_set(diag, ATTEST_ERR_TDX_MODULE_IDENTITY,
                                   "TCB info has no TDX module identity TDX_%02X "
                                   "(TEE_TCB_SVN[1] = %u)",
                                   version, version);
        }
        mrsigner = identity->mrsigner;
        attributes = identity->attributes;
        mask = identity->attributes_mask;
    }

    if (memcmp(inputs->mr_signer_seam, mrsigner, 48) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_TDX_MODULE,
                               "MR_SIGNER_SEAM differs from the TCB info's %s",
                               identity != NULL ? identity->id : "tdxModule");
    }
    if (!masked_equal(inputs->seam_attributes, attributes, mask, 8)) {
        return attest_diag_set(diag, ATTEST_ERR_TDX_MODULE,
                               "SEAM attributes under the mask differ from the TCB info's %s",
                               identity != NULL ? identity->id : "tdxModule");
    }

    if (identity == NULL) {
        match->has_module = false;
        match->module_status = ATTEST_TCB_UP_TO_DATE;
        match->module_level = NULL;
        return ATTEST_OK;
    }

    for (size_t i = 0; i < identity->level_count; i++) {
        if (identity->levels[i].isvsvn <= inputs->tee_tcb_svn[0]) {
            match->has_module = true;
            memcpy(match->module_id, identity->id, sizeof(match->module_id));
            match->module_status = identity->levels[i].status;
            match->module_level = &identity->levels[i];
            return ATTEST_OK;
        }
    }
    return attest_diag_set(diag, ATTEST_ERR_TDX_MODULE_IDENTITY,
                           "TDX module identity %s has no level for ISVSVN %u (TEE_TCB_SVN[0])",
                           identity->id, inputs->tee_tcb_svn[0]);
}

/*
 * TD 1.5 relaunch advice, as TDRelaunchCheck.cpp of Intel's library (commit
 * 26f9641f) decides it. A TD is advised to relaunch when all of these hold:
 * - its SGX level is UpToDate, SWHardeningNeeded, ConfigurationNeeded or
 *   ConfigurationAndSWHardeningNeeded;
 * - its TDX status after the module merge is OutOfDate or
 *   OutOfDateConfigurationNeeded, and the module identity rated the module
 *   OutOfDate;
 * - TEE_TCB_SVN2, the TCB the TD would get if launched now, reaches the
 *   newest level. With TEE_TCB_SVN2[1] zero, that means components 0 and 2 of
 *   the first TCB level. Otherwise it means the ISVSVN of the first level of
 *   module identity TDX_0N (N = TEE_TCB_SVN2[1]) and component 2 of the first
 *   TCB level.
 * Intel also requires the QE to be neither OutOfDate nor Revoked, and
 * attest_tcb_match_merge_qe applies that part.
 */
static attest_err advise_relaunch(const attest_tcb_info *info, const attest_tcb_inputs *inputs,
                                  attest_tcb_status sgx_status, attest_tcb_match *match,
                                  attest_diag *diag)
{
    bool sgx_current = sgx_status == ATTEST_TCB_UP_TO_DATE ||
                       sgx_status == ATTEST_TCB_SW_HARDENING_NEEDED ||
                       sgx_status == ATTEST_TCB_CONFIGURATION_NEEDED ||
                       sgx_status == ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED;
    bool tdx_out_of_date = match->status == ATTEST_TCB_OUT_OF_DATE ||
                           match->status == ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    bool module_out_of_date = match->has_module && match->module_status == ATTEST_TCB_OUT_OF_DATE;
    if (!inputs->td15 || !sgx_current || !tdx_out_of_date || !module_out_of_date) {
        return ATTEST_OK;
    }

    const uint8_t *svn2 = inputs->tee_tcb_svn2;
    const attest_tcb_level *newest = &info->levels[0];
    bool reaches_newest = false;
    if (svn2[1] == 0) {
        reaches_newest = svn2[0] >= newest->tdx_components[0] &&
                         svn2[2] >= newest->tdx_components[2];
    } else {
        const attest_tdx_module_identity *identity = find_module_identity(info, svn2[1]);
        if (identity == NULL) {
            return attest_diag_set(diag, ATTEST_ERR_TDX_MODULE_IDENTITY,
                                   "TCB info has no TDX module identity TDX_%02X "
                                   "(TEE_TCB_SVN2[1] = %u)",
                                   svn2[1], svn2[1]);
        }
        reaches_newest = svn2[0] >= identity->levels[0].isvsvn &&
                         svn2[2] >= newest->tdx_components[2];
    }
    if (!reaches_newest) {
        return ATTEST_OK;
    }

    match->relaunch_advised = true;
    if (is_configuration_needed(sgx_status) || is_configuration_needed(match->status)) {
        match->status = ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
    } else {
        match->status = ATTEST_TCB_TD_RELAUNCH_ADVISED;
    }
    return ATTEST_OK;
}

static void format_components(const uint8_t components[16], char out[64])
{
    size_t offset = 0;
    for (size_t i = 0; i < 16; i++) {
        offset += (size_t)snprintf(out + offset, 64 - offset, i == 0 ? "%u" : ",%u",
                                   components[i]);
    }
}

attest_err attest_tcb_level_match(const attest_tcb_info *info, const attest_tcb_inputs *inputs,
                                  attest_tcb_match *out_match, attest_diag *diag)
{
    if (info == NULL || inputs == NULL || out_match == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "TCB info, inputs or output is NULL");
    }
    bool tdx_info = info->id == ATTEST_TCB_INFO_TDX;
    if (inputs->tdx != tdx_info) {
        return attest_diag_set(diag, ATTEST_ERR_TEE_MISMATCH,
                               "TCB info is for %s but the quote is %s", tdx_info ? "TDX" : "SGX",
                               inputs->tdx ? "TDX" : "SGX");
    }

    /* The SGX level is the first whose SGX components and PCESVN the PCK meets. */
    const attest_tcb_level *sgx_level = NULL;
    for (size_t i = 0; i < info->level_count && sgx_level == NULL; i++) {
        if (sgx_meets(inputs, &info->levels[i])) {
            sgx_level = &info->levels[i];
        }
    }

    /* For TDX the platform level must also meet the TDX components. */
    const attest_tcb_level *level = sgx_level;
    if (inputs->tdx) {
        level = NULL;
        for (size_t i = 0; i < info->level_count && level == NULL; i++) {
            if (sgx_meets(inputs, &info->levels[i]) &&
                tdx_meets(inputs->tee_tcb_svn, &info->levels[i])) {
                level = &info->levels[i];
            }
        }
    }

    if (level == NULL) {
        char sgx_text[64];
        format_components(inputs->sgx_components, sgx_text);
        if (sgx_level == NULL) {
            return attest_diag_set(diag, ATTEST_ERR_TCB_LEVEL,
                                   "no TCB level matches PCK components %s and PCESVN %u",
                                   sgx_text, inputs->pcesvn);
        }
        char tdx_text[64];
        format_components(inputs->tee_tcb_svn, tdx_text);
        return attest_diag_set(diag, ATTEST_ERR_TCB_LEVEL,
                               "no TCB level matches PCK components %s, PCESVN %u and "
                               "TEE_TCB_SVN %s",
                               sgx_text, inputs->pcesvn, tdx_text);
    }

    attest_tcb_match match;
    memset(&match, 0, sizeof(match));
    match.level = level;
    match.platform_status = level->status;
    match.status = level->status;
    match.module_status = ATTEST_TCB_UP_TO_DATE;

    if (inputs->tdx) {
        attest_err err = match_module(info, inputs, &match, diag);
        if (err != ATTEST_OK) {
            return err;
        }
        match.status = merge_component(level->status, match.module_status);
    }
    match.status_before_relaunch = match.status;

    if (inputs->tdx) {
        attest_err err = advise_relaunch(info, inputs, sgx_level->status, &match, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }

    *out_match = match;
    return ATTEST_OK;
}

attest_err attest_qe_level_match(const attest_qe_identity *identity, uint16_t isvsvn,
                                 const attest_isvsvn_level **out_level, attest_diag *diag)
{
    if (identity == NULL || out_level == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "QE identity or output is NULL");
    }
    for (size_t i = 0; i < identity->level_count; i++) {
        if (identity->levels[i].isvsvn <= isvsvn) {
            *out_level = &identity->levels[i];
            return ATTEST_OK;
        }
    }
    return attest_diag_set(diag, ATTEST_ERR_QE_TCB_LEVEL,
                           "no QE identity level has ISVSVN at most %u", isvsvn);
}

attest_tcb_status attest_tcb_status_merge_qe(attest_tcb_status platform, attest_tcb_status qe)
{
    /*
     * NOTE: Intel gives no relaunch advice when the QE is OutOfDate. This
     * function lacks the status before the advice, so it maps the advice back
     * to OutOfDate(ConfigurationNeeded). attest_tcb_match_merge_qe is exact.
     */
    if (qe == ATTEST_TCB_OUT_OF_DATE && platform == ATTEST_TCB_TD_RELAUNCH_ADVISED) {
        return ATTEST_TCB_OUT_OF_DATE;
    }
    if (qe == ATTEST_TCB_OUT_OF_DATE &&
        platform == ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED) {
        return ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    return merge_component(platform, qe);
}

attest_tcb_status attest_tcb_match_merge_qe(const attest_tcb_match *match, attest_tcb_status qe)
{
    attest_tcb_status platform = match->status;
    if (match->relaunch_advised && (qe == ATTEST_TCB_OUT_OF_DATE || qe == ATTEST_TCB_REVOKED)) {
        platform = match->status_before_relaunch;
    }
    return merge_component(platform, qe);
}
