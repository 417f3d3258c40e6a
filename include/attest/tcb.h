/*
 * Intel TCB info and QE identity documents, TCB level matching and the
 * merging of platform, TDX module and QE statuses into one TCB status.
 *
 * Parsing here checks the JSON shape and values only; signatures and
 * validity windows are checked by the verifier (verify.h). Hex fields are
 * decoded to bytes, so they compare equal whatever case Intel wrote them in.
 */
#ifndef ATTEST_TCB_H
#define ATTEST_TCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <attest/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits on collateral documents: real ones are below 16 KiB and depth 6. */
#define ATTEST_JSON_MAX_SIZE (1024 * 1024)
#define ATTEST_JSON_MAX_DEPTH 16
#define ATTEST_TCB_MAX_LEVELS 256
#define ATTEST_TCB_MAX_ADVISORIES 64
#define ATTEST_TDX_MAX_MODULE_IDENTITIES 16

/* TCB statuses, named exactly as Intel writes them (attest_tcb_status_name). */
typedef enum attest_tcb_status {
    ATTEST_TCB_UP_TO_DATE,
    ATTEST_TCB_SW_HARDENING_NEEDED,
    ATTEST_TCB_CONFIGURATION_NEEDED,
    ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    ATTEST_TCB_OUT_OF_DATE,
    ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    ATTEST_TCB_REVOKED,
    ATTEST_TCB_TD_RELAUNCH_ADVISED,
    ATTEST_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
} attest_tcb_status;

/* Returns "UpToDate", "SWHardeningNeeded", ... for status. */
const char *attest_tcb_status_name(attest_tcb_status status);

/* Parses an Intel status name; ATTEST_ERR_TCB_STATUS_UNKNOWN for any other text. */
ATTEST_MUST_USE attest_err attest_tcb_status_parse(const char *name,
                                                   attest_tcb_status *out_status);

/* Advisory IDs of one level, such as "INTEL-SA-00615". */
typedef struct attest_advisories {
    size_t count;
    char ids[ATTEST_TCB_MAX_ADVISORIES][32];
} attest_advisories;

typedef struct attest_tcb_level {
    uint8_t sgx_components[16];
    uint16_t pcesvn;
    uint8_t tdx_components[16]; /* TDX TCB info only */
    attest_tcb_status status;
    time_t tcb_date;
    attest_advisories advisories;
} attest_tcb_level;

/* A level of a TDX module identity or of a QE identity: matched by ISVSVN. */
typedef struct attest_isvsvn_level {
    uint16_t isvsvn;
    attest_tcb_status status;
    time_t tcb_date;
    attest_advisories advisories;
} attest_isvsvn_level;

typedef struct attest_tdx_module_identity {
    char id[16]; /* "TDX_01", "TDX_03", ... */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    size_t level_count;
    attest_isvsvn_level *levels;
} attest_tdx_module_identity;

typedef enum attest_tcb_info_id {
    ATTEST_TCB_INFO_SGX,
    ATTEST_TCB_INFO_TDX,
} attest_tcb_info_id;

typedef struct attest_tcb_info {
    attest_tcb_info_id id;
    int version; /* 2 or 3 */
    time_t issue_date;
    time_t next_update;
    uint8_t fmspc[6];
    uint8_t pce_id[2];
    int tcb_type;
    uint32_t tcb_evaluation_data_number;

    /* TDX only */
    bool has_tdx_module;
    uint8_t tdx_module_mrsigner[48];
    uint8_t tdx_module_attributes[8];
    uint8_t tdx_module_attributes_mask[8];
    size_t tdx_module_identity_count;
    attest_tdx_module_identity *tdx_module_identities;

    size_t level_count;
    attest_tcb_level *levels; /* in the document's order, newest first */
} attest_tcb_info;

typedef enum attest_qe_identity_id {
    ATTEST_QE_IDENTITY_QE,
    ATTEST_QE_IDENTITY_TD_QE,
} attest_qe_identity_id;

typedef struct attest_qe_identity {
    attest_qe_identity_id id;
    int version;
    time_t issue_date;
    time_t next_update;
    uint32_t tcb_evaluation_data_number;
    uint32_t miscselect;
    uint32_t miscselect_mask;
    uint8_t attributes[16];
    uint8_t attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    size_t level_count;
    attest_isvsvn_level *levels;
} attest_qe_identity;

/*
 * Parses the signed TCB info object (the text of {"id":...,"tcbLevels":[...]})
 * into out_info, which the caller releases with attest_tcb_info_free.
 * Rejects duplicate keys, nesting deeper than ATTEST_JSON_MAX_DEPTH, unknown
 * ids or versions (SGX 2 or 3, TDX 3), unknown status names and bad hex.
 */
ATTEST_MUST_USE attest_err attest_tcb_info_parse(const char *json, size_t size,
                                                 attest_tcb_info *out_info,
                                                 attest_diag *diag);
void attest_tcb_info_free(attest_tcb_info *info);

/* Parses the signed QE identity object (QE or TD_QE, version 2) into out_identity. */
ATTEST_MUST_USE attest_err attest_qe_identity_parse(const char *json, size_t size,
                                                    attest_qe_identity *out_identity,
                                                    attest_diag *diag);
void attest_qe_identity_free(attest_qe_identity *identity);

/* Inputs of platform TCB level matching, taken from the PCK certificate and the quote. */
typedef struct attest_tcb_inputs {
    uint8_t sgx_components[16]; /* PCK certificate TCB components */
    uint16_t pcesvn;            /* PCK certificate PCESVN */

    bool tdx;                    /* the rest is used only for TDX quotes */
    uint8_t tee_tcb_svn[16];
    uint8_t mr_signer_seam[48];
    uint8_t seam_attributes[8];
    bool td15;                   /* TD 1.5 body: tee_tcb_svn2 is present */
    uint8_t tee_tcb_svn2[16];
} attest_tcb_inputs;

/* Outcome of platform TCB matching. */
typedef struct attest_tcb_match {
    const attest_tcb_level *level;         /* the matched platform level */
    attest_tcb_status platform_status;     /* status of that level */
    bool has_module;                       /* a TDX module identity decided */
    char module_id[16];
    attest_tcb_status module_status;
    const attest_isvsvn_level *module_level;
    attest_tcb_status status;              /* platform merged with module and relaunch advice */
    bool relaunch_advised;                 /* TD 1.5: relaunching the TD would raise its status */
    attest_tcb_status status_before_relaunch; /* platform merged with module only */
} attest_tcb_match;

/*
 * Selects the first TCB level that inputs meets or exceeds (SGX components,
 * PCESVN and, for TDX, the TDX components), checks the TDX module
 * (MR_SIGNER_SEAM and SEAM attributes under the mask; when TEE_TCB_SVN[1]
 * is not zero, the module identity TDX_0N it names decides the module status
 * from TEE_TCB_SVN[0], and TDX components 0 and 1 are not compared), and for
 * TD 1.5 quotes derives the relaunch advice from TEE_TCB_SVN2.
 * Errors: ATTEST_ERR_TCB_LEVEL, ATTEST_ERR_TDX_MODULE,
 * ATTEST_ERR_TDX_MODULE_IDENTITY. out_match points into info.
 */
ATTEST_MUST_USE attest_err attest_tcb_level_match(const attest_tcb_info *info,
                                                  const attest_tcb_inputs *inputs,
                                                  attest_tcb_match *out_match,
                                                  attest_diag *diag);

/*
 * Selects the first QE identity level whose ISVSVN is at most isvsvn.
 * Errors: ATTEST_ERR_QE_TCB_LEVEL.
 */
ATTEST_MUST_USE attest_err attest_qe_level_match(const attest_qe_identity *identity,
                                                 uint16_t isvsvn,
                                                 const attest_isvsvn_level **out_level,
                                                 attest_diag *diag);

/*
 * Merges the platform status (already merged with the TDX module) with the
 * QE identity level status following Intel's rules: an OutOfDate QE makes
 * UpToDate and SWHardeningNeeded OutOfDate, and ConfigurationNeeded and
 * ConfigurationAndSWHardeningNeeded OutOfDateConfigurationNeeded; a Revoked
 * QE makes the result Revoked; otherwise the platform status stands.
 */
attest_tcb_status attest_tcb_status_merge_qe(attest_tcb_status platform,
                                             attest_tcb_status qe);

/*
 * Merges a match with the QE identity level status as Intel does: relaunch
 * advice stands only while the QE is neither OutOfDate nor Revoked, so for
 * such a QE the status before the advice is merged instead. Prefer this to
 * attest_tcb_status_merge_qe(match->status, qe) for TDX matches.
 */
attest_tcb_status attest_tcb_match_merge_qe(const attest_tcb_match *match,
                                            attest_tcb_status qe);

/* Parses "YYYY-MM-DDThh:mm:ssZ" (UTC) into out_time. */
ATTEST_MUST_USE attest_err attest_time_parse(const char *text, time_t *out_time);

/* Formats t as "YYYY-MM-DDThh:mm:ssZ" into out (at least 21 bytes). */
void attest_time_format(time_t t, char out[21]);

#ifdef __cplusplus
}
#endif

#endif
