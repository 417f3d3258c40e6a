/*
 * A simulated Intel SGX/TDX platform. It has a simulated Intel PKI (root CA,
 * PCK Platform and Processor CAs, PCK certificates with the Intel SGX
 * extension, a TCB signing certificate, CRLs). It issues collateral signed
 * the way Intel signs it, and quotes in the exact Intel formats.
 *
 * A platform lives in a directory (keys and certificates), so a platform
 * created once is reused by later commands and tests. Its root certificate
 * is DIR/root-ca.der; a verifier accepts its evidence only when that root is
 * added explicitly (attest_verifier_add_root).
 */
#ifndef ATTEST_SIM_H
#define ATTEST_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <attest/collateral.h>
#include <attest/error.h>
#include <attest/tcb.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct attest_sim_platform attest_sim_platform;

typedef enum attest_sim_tee {
    ATTEST_SIM_SGX,
    ATTEST_SIM_TDX,
} attest_sim_tee;

/* Creates a new platform in dir (created when missing; existing platform files are an error). */
ATTEST_MUST_USE attest_err attest_sim_platform_init(const char *dir, attest_diag *diag);

/* Opens the platform in dir. */
ATTEST_MUST_USE attest_err attest_sim_platform_open(const char *dir,
                                                    attest_sim_platform **out_platform,
                                                    attest_diag *diag);

void attest_sim_platform_free(attest_sim_platform *platform);

/*
 * Copies the platform's 32-byte secret, from which the simulated hardware
 * derives report keys for local attestation.
 */
ATTEST_MUST_USE attest_err attest_sim_platform_secret(const attest_sim_platform *platform,
                                                      uint8_t out_secret[32]);

/* What a simulated quote states. Fields not set keep the defaults of attest_sim_quote_options_init. */
typedef struct attest_sim_quote_options {
    attest_sim_tee tee;
    int version;          /* SGX: 3 (default); TDX: 4 (default) or 5 */
    bool td15;            /* TDX version 5 only: TD 1.5 body */
    uint8_t report_data[64];
    bool debug;

    /* SGX */
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint8_t attributes[16];
    uint32_t misc_select;

    /* TDX */
    uint8_t mr_td[48];
    uint8_t rtmr[4][48];
    uint8_t mr_config_id[48];
    uint8_t mr_owner[48];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
} attest_sim_quote_options;

/* Fills options with the defaults for tee: a production (non-debug) enclave or TD. */
void attest_sim_quote_options_init(attest_sim_quote_options *options, attest_sim_tee tee);

/*
 * Generates a quote on platform with options into a new buffer the caller
 * frees with free().
 */
ATTEST_MUST_USE attest_err attest_sim_quote(attest_sim_platform *platform,
                                            const attest_sim_quote_options *options,
                                            uint8_t **out_quote, size_t *out_size,
                                            attest_diag *diag);

/*
 * What simulated collateral states. attest_sim_collateral_options_init sets
 * collateral that rates the platform UpToDate and is valid at the given time.
 */
typedef struct attest_sim_collateral_options {
    attest_sim_tee tee;
    /* Issue time: issueDate and CRL thisUpdate are at - 1 day, nextUpdate at + 29 days. */
    time_t at;
    /*
     * Status of the TCB level that the platform's TCB matches. Every status
     * but UpToDate gets a newer UpToDate level above it and fixed advisory
     * IDs (docs/sim.md lists them).
     */
    attest_tcb_status platform_status;
    /* TDX: status of the TDX module identity level: UpToDate or OutOfDate. */
    attest_tcb_status module_status;
    /* Status of the QE identity level: UpToDate, OutOfDate or Revoked. */
    attest_tcb_status qe_status;
    /* The TCB info FMSPC; the default is the platform's. */
    uint8_t fmspc[6];
    bool revoke_pck;          /* list the PCK certificate in the PCK CRL */
    bool revoke_intermediate; /* list the PCK CA certificate in the root CA CRL */
    bool pck_crl_expired;     /* PCK CRL nextUpdate at - 1 day */
    bool tcb_info_expired;    /* TCB info nextUpdate at - 1 day */
} attest_sim_collateral_options;

/* Fills options with the defaults for tee at time at. */
void attest_sim_collateral_options_init(attest_sim_collateral_options *options,
                                        attest_sim_tee tee, time_t at);

/*
 * Issues collateral (CRLs, issuer chains, signed TCB info and QE identity) on
 * platform into out_collateral, which the caller releases with
 * attest_collateral_clear. The TCB info is SGX or TDX version 3, the QE
 * identity QE or TD_QE version 2, each signed like Intel's: ECDSA P-256 over
 * the exact bytes of the JSON object text.
 * Errors: ATTEST_ERR_ARGUMENT for a status the document cannot carry,
 * ATTEST_ERR_CRYPTO, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_sim_collateral(attest_sim_platform *platform,
                                                 const attest_sim_collateral_options *options,
                                                 attest_collateral *out_collateral,
                                                 attest_diag *diag);

/*
 * Formats collateral as a JSON bundle (the keys attest_collateral_from_bundle
 * reads) into a new NUL-terminated string the caller frees with free().
 */
ATTEST_MUST_USE attest_err attest_sim_collateral_to_bundle(const attest_collateral *collateral,
                                                           char **out_json, attest_diag *diag);

/*
 * Writes collateral as PCS-style files into dir (created when missing):
 * tcb-info.json, qe-identity.json, pck-crl.der, root-ca-crl.der and the
 * three issuer chains in PEM, as attest_collateral_from_dir reads them.
 */
ATTEST_MUST_USE attest_err attest_sim_collateral_write_dir(const attest_collateral *collateral,
                                                           const char *dir, attest_diag *diag);

/* Number of scenarios; attest_sim_scenario_name(i) names each, in docs/sim.md order. */
size_t attest_sim_scenario_count(void);
const char *attest_sim_scenario_name(size_t index);

/* True when scenario name exists and applies to tee. */
bool attest_sim_scenario_supports(const char *name, attest_sim_tee tee);

/* Evidence of one scenario: a quote, its collateral and the verification time. */
typedef struct attest_sim_scenario_output {
    uint8_t *quote;
    size_t quote_size;
    attest_collateral collateral;
    time_t at;
} attest_sim_scenario_output;

/*
 * Builds the quote and collateral of scenario name for tee, to be verified
 * at time at, into out_output (released with attest_sim_scenario_output_clear).
 * Each scenario makes exactly one check fail or one TCB status differ from
 * up-to-date; docs/sim.md lists the expected outcomes.
 * Errors: ATTEST_ERR_ARGUMENT for an unknown name or one that does not
 * apply to tee, and the errors of attest_sim_quote and attest_sim_collateral.
 */
ATTEST_MUST_USE attest_err attest_sim_scenario(attest_sim_platform *platform, attest_sim_tee tee,
                                               const char *name, time_t at,
                                               attest_sim_scenario_output *out_output,
                                               attest_diag *diag);

/* Releases the buffers of output and zeroes it. NULL is allowed. */
void attest_sim_scenario_output_clear(attest_sim_scenario_output *output);

#ifdef __cplusplus
}
#endif

#endif
