/*
 * A simulated Intel SGX/TDX platform: a simulated Intel PKI (root CA, PCK
 * Platform and Processor CAs, PCK certificates with the Intel SGX extension,
 * a TCB signing certificate, CRLs), collateral signed the way Intel signs it,
 * and quotes in the exact Intel formats.
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

#ifdef __cplusplus
}
#endif

#endif
