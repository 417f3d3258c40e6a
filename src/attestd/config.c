/*
 * Configuration settings of attestd. One table lists every key with its type
 * and range, so the file and the flags are checked alike.
 */
#define _GNU_SOURCE /* sched_getaffinity and CPU_COUNT */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>

#include <attest/token.h>

#include "config.h"

typedef enum setting_type {
    SETTING_STRING,
    SETTING_PATH,
    SETTING_ADDRESS,
    SETTING_UNSIGNED,
    SETTING_SIZE,
    SETTING_PORT,
    SETTING_DOUBLE,
    SETTING_BOOL,
    SETTING_SYNCHRONOUS,
} setting_type;

typedef struct setting {
    const char *key;
    setting_type type;
    size_t offset;
    size_t capacity; /* bytes of the char array for string types */
    double min;
    double max;
} setting;

#define FIELD(member) offsetof(attestd_config, member)
#define TEXT(member) sizeof(((attestd_config *)0)->member)

static const setting settings[] = {
    {"listen_address", SETTING_ADDRESS, FIELD(listen_address), TEXT(listen_address), 0, 0},
    {"listen_port", SETTING_PORT, FIELD(listen_port), 0, 1, 65535},
    {"data_dir", SETTING_PATH, FIELD(data_dir), TEXT(data_dir), 0, 0},
    {"insecure_http", SETTING_BOOL, FIELD(insecure_http), 0, 0, 0},
    {"tls_cert_file", SETTING_PATH, FIELD(tls_cert_file), TEXT(tls_cert_file), 0, 0},
    {"tls_key_file", SETTING_PATH, FIELD(tls_key_file), TEXT(tls_key_file), 0, 0},
    {"threads", SETTING_UNSIGNED, FIELD(threads), 0, 1, 256},
    {"max_connections", SETTING_UNSIGNED, FIELD(max_connections), 0, 1, 100000},
    {"max_connections_per_client", SETTING_UNSIGNED, FIELD(max_connections_per_client), 0, 0,
     100000},
    {"connection_timeout_seconds", SETTING_UNSIGNED, FIELD(connection_timeout_seconds), 0, 1, 3600},
    {"purge_interval_seconds", SETTING_UNSIGNED, FIELD(purge_interval_seconds), 0, 1, 86400},
    {"nonce_purge_delay_seconds", SETTING_UNSIGNED, FIELD(nonce_purge_delay_seconds), 0, 1, 86400},
    {"drain_timeout_seconds", SETTING_UNSIGNED, FIELD(drain_timeout_seconds), 0, 0, 3600},
    {"sqlite_synchronous", SETTING_SYNCHRONOUS, FIELD(sqlite_synchronous), 0, 0, 0},
    {"read_only", SETTING_BOOL, FIELD(read_only), 0, 0, 0},
    {"collateral_path", SETTING_STRING, FIELD(collateral_path), TEXT(collateral_path), 0, 0},
    {"pccs_url", SETTING_STRING, FIELD(pccs_url), TEXT(pccs_url), 0, 0},
    {"pccs_ca_file", SETTING_STRING, FIELD(pccs_ca_file), TEXT(pccs_ca_file), 0, 0},
    {"collateral_refresh_seconds", SETTING_UNSIGNED, FIELD(collateral_refresh_seconds), 0, 10,
     86400},
    {"pccs_update", SETTING_STRING, FIELD(pccs_update), TEXT(pccs_update), 0, 0},
    {"pccs_intel_root_ca_crl", SETTING_BOOL, FIELD(pccs_intel_root_ca_crl), 0, 0, 0},
    {"trust_root", SETTING_STRING, FIELD(trust_root), TEXT(trust_root), 0, 0},
    {"token_algorithm", SETTING_STRING, FIELD(token_algorithm), TEXT(token_algorithm), 0, 0},
    {"issuer", SETTING_STRING, FIELD(issuer), TEXT(issuer), 0, 0},
    {"nonce_lifetime_seconds", SETTING_UNSIGNED, FIELD(nonce_lifetime_seconds), 0, 1, 86400},
    {"max_token_lifetime_seconds", SETTING_UNSIGNED, FIELD(max_token_lifetime_seconds), 0, 60,
     86400},
    {"max_body_size", SETTING_SIZE, FIELD(limits.max_body_size), 0, 1024, 16 * 1024 * 1024},
    {"max_unauthenticated_body_size", SETTING_SIZE, FIELD(limits.max_unauthenticated_body_size), 0,
     256, 16 * 1024 * 1024},
    {"max_evidence_size", SETTING_SIZE, FIELD(limits.max_evidence_size), 0, 1024, 16 * 1024 * 1024},
    {"max_json_depth", SETTING_UNSIGNED, FIELD(limits.max_json_depth), 0, 2, 1000},
    {"rate_limit_per_second", SETTING_DOUBLE, FIELD(limits.rate_limit_per_second), 0, 0.01,
     1000000},
    {"rate_limit_burst", SETTING_UNSIGNED, FIELD(limits.rate_limit_burst), 0, 1, 1000000},
};

unsigned attestd_config_default_threads(void)
{
    /*
     * One worker per CPU this process may run on: more only add context
     * switches, because requests rarely wait. A cgroup CPU quota is not seen.
     */
    cpu_set_t allowed;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
        cpus = CPU_COUNT(&allowed);
    }
    if (cpus < 2) {
        return 2;
    }
    if (cpus > 256) {
        return 256;
    }
    return (unsigned)cpus;
}

void attestd_config_init_defaults(attestd_config *out_config)
{
    memset(out_config, 0, sizeof(*out_config));
    snprintf(out_config->listen_address, sizeof(out_config->listen_address), "%s", "127.0.0.1");
    out_config->listen_port = 8443;
    snprintf(out_config->data_dir, sizeof(out_config->data_dir), "%s", "/var/lib/attestd");
    out_config->threads = attestd_config_default_threads();
    out_config->max_connections = 256;
    out_config->max_connections_per_client = 64;
    out_config->connection_timeout_seconds = 30;
    out_config->purge_interval_seconds = 60;
    out_config->nonce_purge_delay_seconds = 300;
    out_config->drain_timeout_seconds = 30;
    out_config->sqlite_synchronous = ATTESTD_SQLITE_SYNCHRONOUS_NORMAL;
    out_config->collateral_refresh_seconds = 3600;
    snprintf(out_config->token_algorithm, sizeof(out_config->token_algorithm), "%s", "ES256");
    snprintf(out_config->issuer, sizeof(out_config->issuer), "%s", "https://127.0.0.1:8443");
    out_config->nonce_lifetime_seconds = 300;
    out_config->max_token_lifetime_seconds = 3600;
    out_config->limits.max_body_size = 256 * 1024;
    out_config->limits.max_unauthenticated_body_size = 16 * 1024;
    out_config->limits.max_evidence_size = 64 * 1024;
    out_config->limits.max_json_depth = 32;
    out_config->limits.rate_limit_per_second = 50;
    out_config->limits.rate_limit_burst = 100;
}

const char *attestd_config_synchronous_name(attestd_sqlite_synchronous synchronous)
{
    switch (synchronous) {
    case ATTESTD_SQLITE_SYNCHRONOUS_NORMAL:
        return "normal";
    case ATTESTD_SQLITE_SYNCHRONOUS_FULL:
        return "full";
    }
    return "unknown";
}

static const setting *find_setting(const char *key)
{
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        if (strcmp(settings[i].key, key) == 0) {
            return &settings[i];
        }
    }
    return NULL;
}

ATTEST_MUST_USE static attest_err set_text(attestd_config *config, const setting *entry,
                                           const char *value, attest_diag *diag)
{
    size_t size = strlen(value);
    if (size >= entry->capacity) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "config: %s is %zu bytes, longer than the maximum %zu", entry->key,
                               size, entry->capacity - 1);
    }
    if (entry->type == SETTING_ADDRESS) {
        unsigned char address[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, value, address) != 1 && inet_pton(AF_INET6, value, address) != 1) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "config: %s '%s' is not an IPv4 or IPv6 address", entry->key,
                                   value);
        }
    }
    if (entry->type == SETTING_PATH && size == 0 && strcmp(entry->key, "data_dir") == 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: %s is empty", entry->key);
    }

    char *target = (char *)config + entry->offset;
    memcpy(target, value, size + 1);
    return ATTEST_OK;
}

ATTEST_MUST_USE static attest_err set_number(attestd_config *config, const setting *entry,
                                             double value, attest_diag *diag)
{
    if (!(value >= entry->min && value <= entry->max)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "config: %s %g is outside the range %g to %g", entry->key, value,
                               entry->min, entry->max);
    }
    if (entry->type != SETTING_DOUBLE && value != (double)(unsigned long long)value) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: %s %g is not an integer",
                               entry->key, value);
    }

    char *target = (char *)config + entry->offset;
    switch (entry->type) {
    case SETTING_UNSIGNED: {
        unsigned number = (unsigned)value;
        memcpy(target, &number, sizeof(number));
        break;
    }
    case SETTING_SIZE: {
        size_t number = (size_t)value;
        memcpy(target, &number, sizeof(number));
        break;
    }
    case SETTING_PORT: {
        uint16_t number = (uint16_t)value;
        memcpy(target, &number, sizeof(number));
        break;
    }
    case SETTING_DOUBLE:
        memcpy(target, &value, sizeof(value));
        break;
    default:
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: %s is not a number", entry->key);
    }
    return ATTEST_OK;
}

ATTEST_MUST_USE static attest_err set_bool(attestd_config *config, const setting *entry, bool value)
{
    char *target = (char *)config + entry->offset;
    memcpy(target, &value, sizeof(value));
    return ATTEST_OK;
}

ATTEST_MUST_USE static attest_err set_synchronous(attestd_config *config, const setting *entry,
                                                  const char *value, attest_diag *diag)
{
    attestd_sqlite_synchronous synchronous;
    if (strcmp(value, "normal") == 0) {
        synchronous = ATTESTD_SQLITE_SYNCHRONOUS_NORMAL;
    } else if (strcmp(value, "full") == 0) {
        synchronous = ATTESTD_SQLITE_SYNCHRONOUS_FULL;
    } else {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "config: %s '%s' is not \"normal\" or \"full\"", entry->key, value);
    }

    char *target = (char *)config + entry->offset;
    memcpy(target, &synchronous, sizeof(synchronous));
    return ATTEST_OK;
}

static bool is_numeric(setting_type type)
{
    return type == SETTING_UNSIGNED || type == SETTING_SIZE || type == SETTING_PORT ||
           type == SETTING_DOUBLE;
}

static bool is_text(setting_type type)
{
    return type == SETTING_STRING || type == SETTING_PATH || type == SETTING_ADDRESS ||
           type == SETTING_SYNCHRONOUS;
}

/* Applies one JSON value to a copy of the configuration. */
ATTEST_MUST_USE static attest_err apply_json_value(attestd_config *config, const char *key,
                                                   const json_t *value, attest_diag *diag)
{
    const setting *entry = find_setting(key);
    if (entry == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: unknown key '%.64s'", key);
    }

    if (is_text(entry->type)) {
        if (!json_is_string(value)) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: %s is not a string", key);
        }
        /* json_loadb without JSON_ALLOW_NUL has rejected strings with a NUL byte. */
        const char *text = json_string_value(value);
        if (entry->type == SETTING_SYNCHRONOUS) {
            return set_synchronous(config, entry, text, diag);
        }
        return set_text(config, entry, text, diag);
    }
    if (is_numeric(entry->type)) {
        bool integer_only = entry->type != SETTING_DOUBLE;
        if (integer_only ? !json_is_integer(value) : !json_is_number(value)) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: %s is not %s", key,
                                   integer_only ? "an integer" : "a number");
        }
        return set_number(config, entry, json_number_value(value), diag);
    }
    if (!json_is_boolean(value)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: %s is not true or false", key);
    }
    return set_bool(config, entry, json_is_true(value));
}

attest_err attestd_config_apply_json(attestd_config *config, const char *text, size_t size,
                                     attest_diag *diag)
{
    if (size > ATTESTD_CONFIG_FILE_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "config: file is %zu bytes, more than the maximum %d", size,
                               ATTESTD_CONFIG_FILE_MAX_SIZE);
    }

    json_error_t error;
    json_t *root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_SYNTAX,
                               "config: invalid JSON at line %d column %d: %s", error.line,
                               error.column, error.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: top level is not an object");
    }

    attestd_config updated = *config;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        attest_err err = apply_json_value(&updated, key, value, diag);
        if (err != ATTEST_OK) {
            json_decref(root);
            return err;
        }
    }
    json_decref(root);

    *config = updated;
    return ATTEST_OK;
}

attest_err attestd_config_apply_file(attestd_config *config, const char *path, attest_diag *diag)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "config: cannot open %s: %s", path,
                               strerror(errno));
    }

    char *text = malloc(ATTESTD_CONFIG_FILE_MAX_SIZE + 1);
    if (text == NULL) {
        fclose(file);
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "config: out of memory reading %s", path);
    }
    size_t size = fread(text, 1, ATTESTD_CONFIG_FILE_MAX_SIZE + 1, file);
    bool read_failed = ferror(file) != 0;
    fclose(file);
    if (read_failed) {
        free(text);
        return attest_diag_set(diag, ATTEST_ERR_IO, "config: reading %s failed", path);
    }

    attest_err err = attestd_config_apply_json(config, text, size, diag);
    free(text);
    return err;
}

/* Parses decimal text into a double; rejects empty text and trailing characters. */
static bool parse_number(const char *value, double *out_number)
{
    if (value[0] == '\0') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    double number = strtod(value, &end);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out_number = number;
    return true;
}

attest_err attestd_config_set(attestd_config *config, const char *key, const char *value,
                              attest_diag *diag)
{
    const setting *entry = find_setting(key);
    if (entry == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: unknown key '%.64s'", key);
    }

    attestd_config updated = *config;
    attest_err err;
    if (entry->type == SETTING_SYNCHRONOUS) {
        err = set_synchronous(&updated, entry, value, diag);
    } else if (is_text(entry->type)) {
        err = set_text(&updated, entry, value, diag);
    } else if (is_numeric(entry->type)) {
        double number;
        if (!parse_number(value, &number)) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: %s '%.32s' is not a number",
                                   key, value);
        }
        err = set_number(&updated, entry, number, diag);
    } else if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
        err = set_bool(&updated, entry, strcmp(value, "true") == 0);
    } else {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: %s '%.32s' is not true or false",
                               key, value);
    }
    if (err != ATTEST_OK) {
        return err;
    }

    *config = updated;
    return ATTEST_OK;
}

attest_err attestd_config_check(const attestd_config *config, attest_diag *diag)
{
    attest_token_alg alg;
    if (attest_token_alg_parse(config->token_algorithm, &alg) != ATTEST_OK) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "config: token_algorithm '%s' is not ES256, RS256 or PS384",
                               config->token_algorithm);
    }
    if (config->collateral_path[0] != '\0' && config->pccs_url[0] != '\0') {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "config: collateral_path and pccs_url exclude each other");
    }
    if (config->pccs_update[0] != '\0' && strcmp(config->pccs_update, "early") != 0 &&
        strcmp(config->pccs_update, "standard") != 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "config: pccs_update '%s' is not \"early\" or \"standard\"",
                               config->pccs_update);
    }
    if (config->issuer[0] == '\0') {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "config: issuer is empty");
    }
    if (config->insecure_http) {
        return ATTEST_OK;
    }
    if (config->tls_cert_file[0] == '\0' || config->tls_key_file[0] == '\0') {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "config: tls_cert_file and tls_key_file are required unless "
                               "insecure_http is true");
    }
    return ATTEST_OK;
}
