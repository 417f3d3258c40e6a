/* Unit tests of the attestd configuration: defaults, file, flags and each rejected value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static void test_config_defaults(void **state)
{
    (void)state;
    attestd_config config;
    attestd_config_init_defaults(&config);

    assert_string_equal(config.listen_address, "127.0.0.1");
    assert_int_equal(config.listen_port, 8443);
    assert_string_equal(config.data_dir, "/var/lib/attestd");
    assert_false(config.insecure_http);
    assert_string_equal(config.tls_cert_file, "");
    assert_int_equal(config.threads, attestd_config_default_threads());
    assert_in_range(config.threads, 2, 256);
    assert_int_equal(config.max_connections, 256);
    assert_int_equal(config.sqlite_synchronous, ATTESTD_SQLITE_SYNCHRONOUS_NORMAL);
    assert_false(config.read_only);
    assert_int_equal(config.limits.max_body_size, 256 * 1024);
    assert_int_equal(config.limits.max_unauthenticated_body_size, 16 * 1024);
    assert_true(config.limits.max_unauthenticated_body_size < config.limits.max_body_size);
    assert_int_equal(config.limits.max_evidence_size, 64 * 1024);
    assert_int_equal(config.limits.max_json_depth, 32);
    assert_true(config.limits.rate_limit_per_second == 50.0);
    assert_int_equal(config.limits.rate_limit_burst, 100);
}

static void test_config_defaults_need_tls_files(void **state)
{
    (void)state;
    attestd_config config;
    attestd_config_init_defaults(&config);
    attest_diag diag = {{0}};

    assert_int_equal(attestd_config_check(&config, &diag), ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "tls_cert_file and tls_key_file are required"));

    config.insecure_http = true;
    assert_int_equal(attestd_config_check(&config, &diag), ATTEST_OK);
}

static void test_config_json_every_key(void **state)
{
    (void)state;
    static const char text[] =
        "{\"listen_address\": \"::1\", \"listen_port\": 9000, \"data_dir\": \"/tmp/a\","
        " \"insecure_http\": true, \"tls_cert_file\": \"/c.pem\", \"tls_key_file\": \"/k.pem\","
        " \"threads\": 8, \"max_connections\": 10, \"connection_timeout_seconds\": 5,"
        " \"drain_timeout_seconds\": 0, \"sqlite_synchronous\": \"full\", \"read_only\": true,"
        " \"max_body_size\": 2048, \"max_unauthenticated_body_size\": 512,"
        " \"max_evidence_size\": 4096, \"max_json_depth\": 3,"
        " \"rate_limit_per_second\": 0.5, \"rate_limit_burst\": 2}";
    attestd_config config;
    attestd_config_init_defaults(&config);
    attest_diag diag = {{0}};

    assert_int_equal(attestd_config_apply_json(&config, text, strlen(text), &diag), ATTEST_OK);
    assert_string_equal(config.listen_address, "::1");
    assert_int_equal(config.listen_port, 9000);
    assert_string_equal(config.data_dir, "/tmp/a");
    assert_true(config.insecure_http);
    assert_string_equal(config.tls_cert_file, "/c.pem");
    assert_string_equal(config.tls_key_file, "/k.pem");
    assert_int_equal(config.threads, 8);
    assert_int_equal(config.max_connections, 10);
    assert_int_equal(config.connection_timeout_seconds, 5);
    assert_int_equal(config.drain_timeout_seconds, 0);
    assert_int_equal(config.sqlite_synchronous, ATTESTD_SQLITE_SYNCHRONOUS_FULL);
    assert_true(config.read_only);
    assert_int_equal(config.limits.max_body_size, 2048);
    assert_int_equal(config.limits.max_unauthenticated_body_size, 512);
    assert_int_equal(config.limits.max_evidence_size, 4096);
    assert_int_equal(config.limits.max_json_depth, 3);
    assert_true(config.limits.rate_limit_per_second == 0.5);
    assert_int_equal(config.limits.rate_limit_burst, 2);
}

static void test_config_flags_override_file(void **state)
{
    (void)state;
    static const char text[] = "{\"listen_port\": 9000, \"threads\": 2}";
    attestd_config config;
    attestd_config_init_defaults(&config);
    attest_diag diag = {{0}};

    assert_int_equal(attestd_config_apply_json(&config, text, strlen(text), &diag), ATTEST_OK);
    assert_int_equal(attestd_config_set(&config, "listen_port", "9100", &diag), ATTEST_OK);
    assert_int_equal(attestd_config_set(&config, "insecure_http", "true", &diag), ATTEST_OK);
    assert_int_equal(attestd_config_set(&config, "sqlite_synchronous", "full", &diag), ATTEST_OK);
    assert_int_equal(attestd_config_set(&config, "rate_limit_per_second", "2.5", &diag), ATTEST_OK);

    assert_int_equal(config.listen_port, 9100);
    assert_int_equal(config.threads, 2);
    assert_true(config.insecure_http);
    assert_int_equal(config.sqlite_synchronous, ATTESTD_SQLITE_SYNCHRONOUS_FULL);
    assert_true(config.limits.rate_limit_per_second == 2.5);
}

static void test_config_file_read(void **state)
{
    (void)state;
    char path[] = "/tmp/attestd-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "{\"max_json_depth\": 7}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    attestd_config config;
    attestd_config_init_defaults(&config);
    attest_diag diag = {{0}};
    assert_int_equal(attestd_config_apply_file(&config, path, &diag), ATTEST_OK);
    assert_int_equal(config.limits.max_json_depth, 7);
    unlink(path);

    assert_int_equal(attestd_config_apply_file(&config, path, &diag), ATTEST_ERR_IO);
    assert_non_null(strstr(diag.message, "cannot open"));
}

/* One rejected configuration file: how it is broken and the error it must give. */
typedef struct invalid_case {
    const char *how;
    const char *text;
    attest_err err;
    const char *message;
} invalid_case;

static const invalid_case invalid_json_cases[] = {
    {"unknown key", "{\"colour\": 1}", ATTEST_ERR_ARGUMENT, "unknown key 'colour'"},
    {"not JSON", "{\"threads\": ", ATTEST_ERR_JSON_SYNTAX, "invalid JSON at line 1"},
    {"duplicate key", "{\"threads\": 1, \"threads\": 2}", ATTEST_ERR_JSON_SYNTAX, "invalid JSON"},
    {"array at top level", "[]", ATTEST_ERR_ARGUMENT, "top level is not an object"},
    {"port zero", "{\"listen_port\": 0}", ATTEST_ERR_ARGUMENT,
     "listen_port 0 is outside the range 1 to 65535"},
    {"port too large", "{\"listen_port\": 70000}", ATTEST_ERR_ARGUMENT,
     "listen_port 70000 is outside the range"},
    {"port as string", "{\"listen_port\": \"80\"}", ATTEST_ERR_ARGUMENT,
     "listen_port is not an integer"},
    {"threads fraction", "{\"threads\": 1.5}", ATTEST_ERR_ARGUMENT, "threads is not an integer"},
    {"threads zero", "{\"threads\": 0}", ATTEST_ERR_ARGUMENT, "threads 0 is outside the range"},
    {"negative connections", "{\"max_connections\": -1}", ATTEST_ERR_ARGUMENT,
     "max_connections -1 is outside the range"},
    {"body size below minimum", "{\"max_body_size\": 10}", ATTEST_ERR_ARGUMENT,
     "max_body_size 10 is outside the range"},
    {"depth one", "{\"max_json_depth\": 1}", ATTEST_ERR_ARGUMENT,
     "max_json_depth 1 is outside the range"},
    {"rate zero", "{\"rate_limit_per_second\": 0}", ATTEST_ERR_ARGUMENT,
     "rate_limit_per_second 0 is outside the range"},
    {"rate as text", "{\"rate_limit_per_second\": \"fast\"}", ATTEST_ERR_ARGUMENT,
     "rate_limit_per_second is not a number"},
    {"boolean as string", "{\"insecure_http\": \"yes\"}", ATTEST_ERR_ARGUMENT,
     "insecure_http is not true or false"},
    {"boolean as number", "{\"read_only\": 1}", ATTEST_ERR_ARGUMENT,
     "read_only is not true or false"},
    {"synchronous unknown", "{\"sqlite_synchronous\": \"off\"}", ATTEST_ERR_ARGUMENT,
     "sqlite_synchronous 'off' is not \"normal\" or \"full\""},
    {"address not IP", "{\"listen_address\": \"localhost\"}", ATTEST_ERR_ARGUMENT,
     "listen_address 'localhost' is not an IPv4 or IPv6 address"},
    {"data dir empty", "{\"data_dir\": \"\"}", ATTEST_ERR_ARGUMENT, "data_dir is empty"},
    {"data dir number", "{\"data_dir\": 5}", ATTEST_ERR_ARGUMENT, "data_dir is not a string"},
    {"NUL in path", "{\"tls_cert_file\": \"a\\u0000b\"}", ATTEST_ERR_JSON_SYNTAX,
     "u0000 is not allowed"},
};

static void test_config_json_invalid_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(invalid_json_cases) / sizeof(invalid_json_cases[0]); i++) {
        const invalid_case *entry = &invalid_json_cases[i];
        attestd_config config;
        attestd_config_init_defaults(&config);
        attestd_config before = config;
        attest_diag diag = {{0}};

        attest_err err =
            attestd_config_apply_json(&config, entry->text, strlen(entry->text), &diag);
        if (err != entry->err || strstr(diag.message, entry->message) == NULL) {
            fail_msg("case '%s': got %s '%s', expected %s containing '%s'", entry->how,
                     attest_err_code(err), diag.message, attest_err_code(entry->err),
                     entry->message);
        }
        assert_memory_equal(&config, &before, sizeof(config));
    }
}

static void test_config_json_error_leaves_config(void **state)
{
    (void)state;
    static const char text[] = "{\"threads\": 9, \"colour\": 1}";
    attestd_config config;
    attestd_config_init_defaults(&config);
    unsigned default_threads = config.threads;
    attest_diag diag = {{0}};

    assert_int_equal(attestd_config_apply_json(&config, text, strlen(text), &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(config.threads, default_threads);
}

static void test_config_file_too_large(void **state)
{
    (void)state;
    size_t size = ATTESTD_CONFIG_FILE_MAX_SIZE + 1;
    char *text = malloc(size);
    assert_non_null(text);
    memset(text, ' ', size);
    attestd_config config;
    attestd_config_init_defaults(&config);
    attest_diag diag = {{0}};

    assert_int_equal(attestd_config_apply_json(&config, text, size, &diag), ATTEST_ERR_LIMIT);
    assert_non_null(strstr(diag.message, "more than the maximum 65536"));
    free(text);
}

static const invalid_case invalid_flag_cases[] = {
    {"unknown key", "colour=blue", ATTEST_ERR_ARGUMENT, "unknown key 'colour'"},
    {"port not a number", "listen_port=http", ATTEST_ERR_ARGUMENT,
     "listen_port 'http' is not a number"},
    {"port empty", "listen_port=", ATTEST_ERR_ARGUMENT, "listen_port '' is not a number"},
    {"port trailing text", "listen_port=80x", ATTEST_ERR_ARGUMENT, "is not a number"},
    {"threads fraction", "threads=2.5", ATTEST_ERR_ARGUMENT, "threads 2.5 is not an integer"},
    {"boolean word", "insecure_http=yes", ATTEST_ERR_ARGUMENT,
     "insecure_http 'yes' is not true or false"},
    {"synchronous unknown", "sqlite_synchronous=extra", ATTEST_ERR_ARGUMENT,
     "is not \"normal\" or \"full\""},
};

static void test_config_flag_invalid_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(invalid_flag_cases) / sizeof(invalid_flag_cases[0]); i++) {
        const invalid_case *entry = &invalid_flag_cases[i];
        char key[64];
        const char *equals = strchr(entry->text, '=');
        assert_non_null(equals);
        snprintf(key, sizeof(key), "%.*s", (int)(equals - entry->text), entry->text);
        attestd_config config;
        attestd_config_init_defaults(&config);
        attestd_config before = config;
        attest_diag diag = {{0}};

        attest_err err = attestd_config_set(&config, key, equals + 1, &diag);
        if (err != entry->err || strstr(diag.message, entry->message) == NULL) {
            fail_msg("case '%s': got %s '%s', expected %s containing '%s'", entry->how,
                     attest_err_code(err), diag.message, attest_err_code(entry->err),
                     entry->message);
        }
        assert_memory_equal(&config, &before, sizeof(config));
    }
}

static void test_config_path_too_long(void **state)
{
    (void)state;
    char *path = malloc(ATTESTD_CONFIG_PATH_MAX_SIZE + 2);
    assert_non_null(path);
    memset(path, 'a', ATTESTD_CONFIG_PATH_MAX_SIZE + 1);
    path[ATTESTD_CONFIG_PATH_MAX_SIZE + 1] = '\0';
    attestd_config config;
    attestd_config_init_defaults(&config);
    attest_diag diag = {{0}};

    assert_int_equal(attestd_config_set(&config, "data_dir", path, &diag), ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "data_dir is 4097 bytes, longer than the maximum 4096"));
    free(path);
}

/* Attestation settings that only attestd_config_check can judge. */
static void test_config_check_attestation_settings(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *json;
        attest_err expected;
    } cases[] = {
        {"defaults", "{}", ATTEST_OK},
        {"RS256 tokens", "{\"token_algorithm\": \"RS256\"}", ATTEST_OK},
        {"unknown token algorithm", "{\"token_algorithm\": \"HS256\"}", ATTEST_ERR_ARGUMENT},
        {"both collateral sources", "{\"collateral_path\": \"/c\", \"pccs_url\": \"http://x\"}",
         ATTEST_ERR_ARGUMENT},
        {"early updates", "{\"pccs_update\": \"early\"}", ATTEST_OK},
        {"unknown update mode", "{\"pccs_update\": \"late\"}", ATTEST_ERR_ARGUMENT},
        {"empty issuer", "{\"issuer\": \"\"}", ATTEST_ERR_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        attestd_config config;
        attestd_config_init_defaults(&config);
        config.insecure_http = true;
        attest_diag diag = {{0}};
        assert_int_equal(attestd_config_apply_json(&config, cases[i].json, strlen(cases[i].json), &diag),
                         ATTEST_OK);
        attest_err err = attestd_config_check(&config, &diag);
        if (err != cases[i].expected) {
            fail_msg("%s: got %s (%s), expected %s", cases[i].name, attest_err_code(err),
                     diag.message, attest_err_code(cases[i].expected));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_defaults_need_tls_files),
        cmocka_unit_test(test_config_json_every_key),
        cmocka_unit_test(test_config_flags_override_file),
        cmocka_unit_test(test_config_file_read),
        cmocka_unit_test(test_config_json_invalid_values),
        cmocka_unit_test(test_config_json_error_leaves_config),
        cmocka_unit_test(test_config_file_too_large),
        cmocka_unit_test(test_config_flag_invalid_values),
        cmocka_unit_test(test_config_path_too_long),
        cmocka_unit_test(test_config_check_attestation_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
