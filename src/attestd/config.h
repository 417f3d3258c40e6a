/*
 * Configuration of attestd: defaults, the JSON configuration file and the
 * command-line overrides, all checked by the same table of settings.
 *
 * A configuration is built in three layers: attestd_config_init_defaults,
 * then attestd_config_apply_json (the file), then attestd_config_set (one
 * call per command-line flag). Each layer rejects unknown keys and values out
 * of range, and names the key and the failed check in diag.
 *
 * Thread safety: the functions touch only the configuration they are given.
 */
#ifndef ATTESTD_CONFIG_H
#define ATTESTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>

#include "store.h"

#define ATTESTD_CONFIG_PATH_MAX_SIZE 4096
#define ATTESTD_CONFIG_ADDRESS_MAX_SIZE 64
/* Largest configuration file that attestd reads. */
#define ATTESTD_CONFIG_FILE_MAX_SIZE (64 * 1024)

/* Settings that a SIGHUP applies to the running service. */
typedef struct attestd_limits {
    size_t max_body_size;                 /* bytes, after the API key is verified */
    size_t max_unauthenticated_body_size; /* bytes, before any API key is verified */
    size_t max_evidence_size;             /* bytes of evidence in one attestation request */
    unsigned max_json_depth;              /* nesting of arrays and objects */
    double rate_limit_per_second;         /* requests per second per client address */
    unsigned rate_limit_burst;            /* bucket size per client address */
} attestd_limits;

typedef struct attestd_config {
    /* The following settings need a restart. */
    char listen_address[ATTESTD_CONFIG_ADDRESS_MAX_SIZE + 1]; /* IPv4 or IPv6 literal */
    uint16_t listen_port;
    char data_dir[ATTESTD_CONFIG_PATH_MAX_SIZE + 1];
    bool insecure_http;
    char tls_cert_file[ATTESTD_CONFIG_PATH_MAX_SIZE + 1]; /* empty when unset */
    char tls_key_file[ATTESTD_CONFIG_PATH_MAX_SIZE + 1];  /* empty when unset */
    unsigned threads;
    unsigned max_connections;
    unsigned max_connections_per_client; /* per client IP address; 0: no limit of its own */
    unsigned connection_timeout_seconds;
    unsigned purge_interval_seconds;
    unsigned nonce_purge_delay_seconds; /* how long a consumed nonce's row outlives its expiry */
    unsigned drain_timeout_seconds;
    attestd_sqlite_synchronous sqlite_synchronous;
    bool read_only;

    /* Attestation settings, also applied at start only. */
    char collateral_path[ATTESTD_CONFIG_PATH_MAX_SIZE + 1]; /* bundle file or PCS-style directory */
    char pccs_url[ATTESTD_CONFIG_PATH_MAX_SIZE + 1];        /* PCCS or Intel PCS base URL */
    char pccs_ca_file[ATTESTD_CONFIG_PATH_MAX_SIZE + 1];
    unsigned collateral_refresh_seconds;
    char pccs_update[16];              /* "", "early" or "standard" */
    bool pccs_intel_root_ca_crl;       /* fetch the root CA CRL from its distribution point */
    char trust_root[ATTESTD_CONFIG_PATH_MAX_SIZE + 1]; /* an extra root, such as a simulated one */
    char token_algorithm[16];                          /* ES256, RS256 or PS384 */
    char issuer[257];                                  /* iss of tokens, base of jwks_uri */
    unsigned nonce_lifetime_seconds;
    unsigned max_token_lifetime_seconds;

    /* The following settings are applied again on SIGHUP. */
    attestd_limits limits;
} attestd_config;

/* Writes the documented defaults into out_config. */
void attestd_config_init_defaults(attestd_config *out_config);

/* Returns the default of threads: the CPUs this process may run on, 2 to 256. */
unsigned attestd_config_default_threads(void);

/*
 * Applies the JSON object text[0..size) over config, which is left unchanged
 * on error. Errors: ATTEST_ERR_JSON_SYNTAX, ATTEST_ERR_ARGUMENT (unknown key,
 * wrong type, value out of range), ATTEST_ERR_LIMIT (text too large).
 */
ATTEST_MUST_USE attest_err attestd_config_apply_json(attestd_config *config, const char *text,
                                                     size_t size, attest_diag *diag);

/* Reads the file at path and applies it as attestd_config_apply_json does. */
ATTEST_MUST_USE attest_err attestd_config_apply_file(attestd_config *config, const char *path,
                                                     attest_diag *diag);

/*
 * Sets one key from its text form, as a command-line flag gives it: numbers
 * in decimal, booleans as "true" or "false". config is unchanged on error.
 * Errors: ATTEST_ERR_ARGUMENT.
 */
ATTEST_MUST_USE attest_err attestd_config_set(attestd_config *config, const char *key,
                                              const char *value, attest_diag *diag);

/*
 * Checks the settings that depend on each other: TLS files are required
 * unless insecure_http is set. Errors: ATTEST_ERR_ARGUMENT.
 */
ATTEST_MUST_USE attest_err attestd_config_check(const attestd_config *config, attest_diag *diag);

/* Returns "normal" or "full". */
const char *attestd_config_synchronous_name(attestd_sqlite_synchronous synchronous);

#endif
