/*
 * attest local: SGX local attestation between enclaves.
 *
 *   target-info  writes the TARGETINFO of a simulated enclave, or reads this
 *                enclave's own from Gramine
 *   report       makes a REPORT of one enclave targeted at another, on the
 *                simulated platform or through Gramine
 *   verify       checks a REPORT's MAC as the target enclave would, on the
 *                simulated platform
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <attest/attest.h>

#include "cli.h"
#include "util/file.h"
#include "util/hex.h"

/* Codes of the enclave identity options, shared by the option tables below. */
enum {
    OPT_MRENCLAVE = 256,
    OPT_MRSIGNER,
    OPT_ATTRIBUTES,
    OPT_MISC_SELECT,
    OPT_ISV_PROD_ID,
    OPT_ISV_SVN,
    OPT_CONFIG_SVN,
    OPT_CONFIG_ID,
    OPT_CPU_SVN,
    OPT_SIM_DIR,
    OPT_TARGET_INFO,
    OPT_REPORT_DATA,
    OPT_REPORT,
    OPT_OUT,
    OPT_BACKEND,
    OPT_GRAMINE_ROOT,
    OPT_JSON,
    OPT_HELP,
};

static void local_usage(FILE *out)
{
    fprintf(out,
            "usage: attest local target-info [--backend sim|gramine] IDENTITY --out FILE\n"
            "       attest local report [--backend sim|gramine] [--sim-dir DIR]\n"
            "                           --target-info FILE --report-data HEX IDENTITY\n"
            "                           --out FILE\n"
            "       attest local verify [--sim-dir DIR] --report FILE --as-mrenclave HEX\n"
            "                           [--as-attributes HEX] [--as-misc-select HEX]\n"
            "                           [--as-config-svn N] [--json]\n"
            "\n"
            "IDENTITY of a simulated enclave (target-info uses the first five):\n"
            "  --mrenclave HEX     MRENCLAVE, 64 hex digits (required)\n"
            "  --attributes HEX    ATTRIBUTES as 32 hex digits in report byte order\n"
            "                      (default 05000000000000000300000000000000)\n"
            "  --misc-select HEX   MISCSELECT as a hexadecimal number (default 0)\n"
            "  --config-svn N      CONFIGSVN (default 0)\n"
            "  --config-id HEX     CONFIGID, 128 hex digits (default zeros)\n"
            "  --mrsigner HEX      MRSIGNER, 64 hex digits (default zeros)\n"
            "  --isv-prod-id N     ISVPRODID (default 0)\n"
            "  --isv-svn N         ISVSVN (default 0)\n"
            "  --cpu-svn HEX       CPUSVN, 32 hex digits (default zeros)\n"
            "\n"
            "  --sim-dir DIR       simulated platform (default: $ATTEST_SIM_DIR)\n"
            "  --gramine-root DIR  Gramine attestation directory (default " ATTEST_GRAMINE_ROOT
            ")\n"
            "  --report-data HEX   64 bytes as 128 hex digits\n"
            "  --as-...            the identity of the verifying (target) enclave\n"
            "\n"
            "exit status: 0 success or valid report, 1 invalid report or failed backend,\n"
            "2 usage or file error\n");
}

/* Decodes exactly size bytes of hex from the value of option name. Returns 0 on success. */
static int parse_hex_option(const char *name, const char *text, uint8_t *out, size_t size)
{
    if (attest_hex_decode_exact(text, strlen(text), out, size) != ATTEST_OK) {
        fprintf(stderr, "attest local: --%s must be %zu hex digits (%zu bytes)\n", name,
                2 * size, size);
        return -1;
    }
    return 0;
}

/* Parses an unsigned number in base (0: decimal or 0x) no larger than max. */
static int parse_number_option(const char *name, const char *text, int base,
                               unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, base);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > max) {
        fprintf(stderr, "attest local: --%s \"%s\" is not a number from 0 to %lu\n", name, text,
                max);
        return -1;
    }
    *out = value;
    return 0;
}

/* Applies one identity option to enclave. Returns 0 on success. */
static int set_identity(int code, const char *name, const char *value,
                        attest_local_enclave *enclave, bool *mrenclave_set)
{
    unsigned long number = 0;
    switch (code) {
    case OPT_MRENCLAVE:
        *mrenclave_set = true;
        return parse_hex_option(name, value, enclave->mr_enclave, sizeof(enclave->mr_enclave));
    case OPT_MRSIGNER:
        return parse_hex_option(name, value, enclave->mr_signer, sizeof(enclave->mr_signer));
    case OPT_ATTRIBUTES:
        return parse_hex_option(name, value, enclave->attributes, sizeof(enclave->attributes));
    case OPT_CONFIG_ID:
        return parse_hex_option(name, value, enclave->config_id, sizeof(enclave->config_id));
    case OPT_CPU_SVN:
        return parse_hex_option(name, value, enclave->cpu_svn, sizeof(enclave->cpu_svn));
    case OPT_MISC_SELECT:
        if (parse_number_option(name, value, 16, 0xffffffffUL, &number) != 0) {
            return -1;
        }
        enclave->misc_select = (uint32_t)number;
        return 0;
    case OPT_ISV_PROD_ID:
    case OPT_ISV_SVN:
    case OPT_CONFIG_SVN:
        if (parse_number_option(name, value, 0, 0xffff, &number) != 0) {
            return -1;
        }
        if (code == OPT_ISV_PROD_ID) {
            enclave->isv_prod_id = (uint16_t)number;
        } else if (code == OPT_ISV_SVN) {
            enclave->isv_svn = (uint16_t)number;
        } else {
            enclave->config_svn = (uint16_t)number;
        }
        return 0;
    default:
        return -1;
    }
}

static bool is_identity_option(int code)
{
    return code >= OPT_MRENCLAVE && code <= OPT_CPU_SVN;
}

/* Returns the long name of the option with code in options. */
static const char *option_name(const struct option *options, int code)
{
    for (size_t i = 0; options[i].name != NULL; i++) {
        if (options[i].val == code) {
            return options[i].name;
        }
    }
    return "?";
}

static int write_output(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "attest local: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t written = fwrite(data, 1, size, file);
    int closed = fclose(file);
    if (written != size || closed != 0) {
        fprintf(stderr, "attest local: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

/* Reads a small binary file (a report or target info). */
static int read_input(const char *option, const char *path, uint8_t **out_data,
                      size_t *out_size)
{
    attest_diag diag = {{0}};
    attest_err err = attest_file_read(path, 64 * 1024, out_data, out_size, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest local: --%s: %s: %s\n", option, attest_err_code(err),
                diag.message);
        return -1;
    }
    return 0;
}

static const char *sim_dir_or_env(const char *sim_dir)
{
    if (sim_dir != NULL) {
        return sim_dir;
    }
    const char *env = getenv("ATTEST_SIM_DIR");
    return env != NULL && env[0] != '\0' ? env : NULL;
}

/* Opens the simulated platform, printing why on failure. */
static attest_sim_platform *open_platform(const char *sim_dir)
{
    if (sim_dir == NULL) {
        fprintf(stderr, "attest local: no simulated platform: give --sim-dir DIR or set "
                "ATTEST_SIM_DIR\n");
        return NULL;
    }
    attest_sim_platform *platform = NULL;
    attest_diag diag = {{0}};
    attest_err err = attest_sim_platform_open(sim_dir, &platform, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest local: cannot open the simulated platform %s: %s: %s\n", sim_dir,
                attest_err_code(err), diag.message);
        return NULL;
    }
    return platform;
}

static int parse_backend(const char *text, bool *out_gramine)
{
    if (strcmp(text, "sim") == 0 || strcmp(text, "gramine") == 0) {
        *out_gramine = strcmp(text, "gramine") == 0;
        return 0;
    }
    fprintf(stderr, "attest local: --backend \"%s\" is not sim or gramine\n", text);
    return -1;
}

static int local_target_info(int argc, char **argv)
{
    static const struct option options[] = {
        {"mrenclave", required_argument, NULL, OPT_MRENCLAVE},
        {"attributes", required_argument, NULL, OPT_ATTRIBUTES},
        {"misc-select", required_argument, NULL, OPT_MISC_SELECT},
        {"config-svn", required_argument, NULL, OPT_CONFIG_SVN},
        {"config-id", required_argument, NULL, OPT_CONFIG_ID},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"gramine-root", required_argument, NULL, OPT_GRAMINE_ROOT},
        {"out", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    attest_local_enclave enclave;
    attest_local_enclave_init(&enclave);
    bool mrenclave_set = false;
    bool gramine = false;
    const char *gramine_root = NULL;
    const char *out_path = NULL;

    optind = 1;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (is_identity_option(option)) {
            if (set_identity(option, option_name(options, option), optarg, &enclave,
                             &mrenclave_set) != 0) {
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        switch (option) {
        case OPT_BACKEND:
            if (parse_backend(optarg, &gramine) != 0) {
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_GRAMINE_ROOT:
            gramine_root = optarg;
            break;
        case OPT_OUT:
            out_path = optarg;
            break;
        case OPT_HELP:
            local_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            local_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (out_path == NULL || optind != argc || gramine == mrenclave_set) {
        fprintf(stderr, "attest local target-info: --out FILE is required, with --mrenclave "
                "HEX for a simulated enclave or --backend gramine without it\n");
        return CLI_EXIT_USAGE;
    }

    attest_sgx_target_info target;
    if (gramine) {
        attest_diag diag = {{0}};
        attest_err err = attest_gramine_my_target_info(NULL, gramine_root, &target, &diag);
        if (err != ATTEST_OK) {
            fprintf(stderr, "attest local target-info: %s: %s\n", attest_err_code(err),
                    diag.message);
            return CLI_EXIT_INVALID;
        }
    } else {
        attest_local_enclave_target_info(&enclave, &target);
    }
    uint8_t bytes[ATTEST_SGX_TARGET_INFO_SIZE];
    attest_sgx_target_info_serialize(&target, bytes);
    return write_output(out_path, bytes, sizeof(bytes)) == 0 ? CLI_EXIT_VALID : CLI_EXIT_USAGE;
}

static int local_report(int argc, char **argv)
{
    static const struct option options[] = {
        {"mrenclave", required_argument, NULL, OPT_MRENCLAVE},
        {"mrsigner", required_argument, NULL, OPT_MRSIGNER},
        {"attributes", required_argument, NULL, OPT_ATTRIBUTES},
        {"misc-select", required_argument, NULL, OPT_MISC_SELECT},
        {"isv-prod-id", required_argument, NULL, OPT_ISV_PROD_ID},
        {"isv-svn", required_argument, NULL, OPT_ISV_SVN},
        {"config-svn", required_argument, NULL, OPT_CONFIG_SVN},
        {"config-id", required_argument, NULL, OPT_CONFIG_ID},
        {"cpu-svn", required_argument, NULL, OPT_CPU_SVN},
        {"sim-dir", required_argument, NULL, OPT_SIM_DIR},
        {"target-info", required_argument, NULL, OPT_TARGET_INFO},
        {"report-data", required_argument, NULL, OPT_REPORT_DATA},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"gramine-root", required_argument, NULL, OPT_GRAMINE_ROOT},
        {"out", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    attest_local_enclave enclave;
    attest_local_enclave_init(&enclave);
    bool mrenclave_set = false;
    bool gramine = false;
    const char *sim_dir = NULL;
    const char *gramine_root = NULL;
    const char *target_path = NULL;
    const char *report_data_hex = NULL;
    const char *out_path = NULL;

    optind = 1;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (is_identity_option(option)) {
            if (set_identity(option, option_name(options, option), optarg, &enclave,
                             &mrenclave_set) != 0) {
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        switch (option) {
        case OPT_SIM_DIR:
            sim_dir = optarg;
            break;
        case OPT_TARGET_INFO:
            target_path = optarg;
            break;
        case OPT_REPORT_DATA:
            report_data_hex = optarg;
            break;
        case OPT_BACKEND:
            if (parse_backend(optarg, &gramine) != 0) {
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_GRAMINE_ROOT:
            gramine_root = optarg;
            break;
        case OPT_OUT:
            out_path = optarg;
            break;
        case OPT_HELP:
            local_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            local_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (out_path == NULL || target_path == NULL || report_data_hex == NULL || optind != argc ||
        gramine == mrenclave_set) {
        fprintf(stderr, "attest local report: --target-info FILE, --report-data HEX and --out "
                "FILE are required, with --mrenclave HEX for a simulated enclave or "
                "--backend gramine without it\n");
        return CLI_EXIT_USAGE;
    }

    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    if (parse_hex_option("report-data", report_data_hex, report_data, sizeof(report_data)) != 0) {
        return CLI_EXIT_USAGE;
    }
    uint8_t *target_bytes = NULL;
    size_t target_size = 0;
    if (read_input("target-info", target_path, &target_bytes, &target_size) != 0) {
        return CLI_EXIT_USAGE;
    }
    attest_sgx_target_info target;
    attest_diag diag = {{0}};
    attest_err err = attest_sgx_target_info_parse(target_bytes, target_size, &target, &diag);
    free(target_bytes);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest local report: --target-info %s: %s: %s\n", target_path,
                attest_err_code(err), diag.message);
        return CLI_EXIT_USAGE;
    }

    attest_sgx_report report;
    if (gramine) {
        err = attest_gramine_local_report(NULL, gramine_root, &target, report_data, &report,
                                          &diag);
    } else {
        attest_sim_platform *platform = open_platform(sim_dir_or_env(sim_dir));
        if (platform == NULL) {
            return CLI_EXIT_USAGE;
        }
        err = attest_local_report_create(platform, &enclave, &target, report_data, &report,
                                         &diag);
        attest_sim_platform_free(platform);
    }
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest local report: %s: %s\n", attest_err_code(err),
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return CLI_EXIT_INVALID;
    }

    uint8_t bytes[ATTEST_SGX_REPORT_SIZE];
    attest_sgx_report_serialize(&report, bytes);
    return write_output(out_path, bytes, sizeof(bytes)) == 0 ? CLI_EXIT_VALID : CLI_EXIT_USAGE;
}

/* Adds key: hex of data to object. Returns 0 on success. */
static int json_set_hex(json_t *object, const char *key, const uint8_t *data, size_t size)
{
    char text[2 * 64 + 1];
    attest_hex_encode(data, size, text);
    return json_object_set_new(object, key, json_string(text));
}

static json_t *claims_to_json(const attest_sgx_report *report)
{
    const attest_sgx_report_body *body = &report->body;
    json_t *claims = json_object();
    if (claims == NULL) {
        return NULL;
    }
    int failed = 0;
    failed |= json_set_hex(claims, "mr_enclave", body->mr_enclave, sizeof(body->mr_enclave));
    failed |= json_set_hex(claims, "mr_signer", body->mr_signer, sizeof(body->mr_signer));
    failed |= json_set_hex(claims, "attributes", body->attributes, sizeof(body->attributes));
    failed |= json_object_set_new(claims, "debug", json_boolean((body->attributes[0] & 0x02) != 0));
    failed |= json_object_set_new(claims, "misc_select", json_integer(body->misc_select));
    failed |= json_object_set_new(claims, "isv_prod_id", json_integer(body->isv_prod_id));
    failed |= json_object_set_new(claims, "isv_svn", json_integer(body->isv_svn));
    failed |= json_object_set_new(claims, "config_svn", json_integer(body->config_svn));
    failed |= json_set_hex(claims, "config_id", body->config_id, sizeof(body->config_id));
    failed |= json_set_hex(claims, "cpu_svn", body->cpu_svn, sizeof(body->cpu_svn));
    failed |= json_set_hex(claims, "report_data", body->report_data, sizeof(body->report_data));
    failed |= json_set_hex(claims, "key_id", report->key_id, sizeof(report->key_id));
    if (failed != 0) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* Prints claims (and the outcome) as text or as one JSON object. Returns 0 on success. */
static int print_verification(const attest_sgx_report *report, attest_err err,
                              const attest_diag *diag, bool json)
{
    json_t *claims = report != NULL ? claims_to_json(report) : json_object();
    if (claims == NULL) {
        fprintf(stderr, "attest local verify: out of memory\n");
        return -1;
    }

    if (json) {
        json_t *root = json_object();
        int failed = root == NULL;
        if (!failed) {
            failed |= json_object_set_new(root, "valid", json_boolean(err == ATTEST_OK));
            failed |= json_object_set(root, "claims", claims);
            if (err != ATTEST_OK) {
                json_t *error = json_pack("{s:s, s:s}", "code", attest_err_code(err), "message",
                                          diag->message[0] != '\0' ? diag->message
                                                                   : attest_err_message(err));
                failed |= error == NULL || json_object_set_new(root, "error", error) != 0;
            }
        }
        char *text = failed ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        json_decref(claims);
        if (text == NULL) {
            fprintf(stderr, "attest local verify: out of memory formatting JSON\n");
            return -1;
        }
        printf("%s\n", text);
        free(text);
        return 0;
    }

    printf("%s\n", err == ATTEST_OK ? "claims of the reporting enclave:"
                                     : "claims of the report (not authenticated):");
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach(claims, key, value)
    {
        if (json_is_string(value)) {
            printf("  %s: %s\n", key, json_string_value(value));
        } else if (json_is_boolean(value)) {
            printf("  %s: %s\n", key, json_is_true(value) ? "true" : "false");
        } else {
            printf("  %s: %lld\n", key, (long long)json_integer_value(value));
        }
    }
    json_decref(claims);
    if (err == ATTEST_OK) {
        printf("result: valid\n");
    } else {
        printf("result: invalid: %s: %s\n", attest_err_code(err),
               diag->message[0] != '\0' ? diag->message : attest_err_message(err));
    }
    return 0;
}

static int local_verify(int argc, char **argv)
{
    static const struct option options[] = {
        {"as-mrenclave", required_argument, NULL, OPT_MRENCLAVE},
        {"as-attributes", required_argument, NULL, OPT_ATTRIBUTES},
        {"as-misc-select", required_argument, NULL, OPT_MISC_SELECT},
        {"as-config-svn", required_argument, NULL, OPT_CONFIG_SVN},
        {"sim-dir", required_argument, NULL, OPT_SIM_DIR},
        {"report", required_argument, NULL, OPT_REPORT},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    attest_local_enclave verifier;
    attest_local_enclave_init(&verifier);
    bool mrenclave_set = false;
    const char *sim_dir = NULL;
    const char *report_path = NULL;
    bool json = false;

    optind = 1;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (is_identity_option(option)) {
            if (set_identity(option, option_name(options, option), optarg, &verifier,
                             &mrenclave_set) != 0) {
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        switch (option) {
        case OPT_SIM_DIR:
            sim_dir = optarg;
            break;
        case OPT_REPORT:
            report_path = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_HELP:
            local_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            local_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (report_path == NULL || !mrenclave_set || optind != argc) {
        fprintf(stderr, "attest local verify: --report FILE and --as-mrenclave HEX are "
                "required, and no other arguments\n");
        return CLI_EXIT_USAGE;
    }

    uint8_t *bytes = NULL;
    size_t size = 0;
    if (read_input("report", report_path, &bytes, &size) != 0) {
        return CLI_EXIT_USAGE;
    }
    attest_sim_platform *platform = open_platform(sim_dir_or_env(sim_dir));
    if (platform == NULL) {
        free(bytes);
        return CLI_EXIT_USAGE;
    }

    /* A report that does not parse is invalid evidence, like a report whose MAC fails. */
    attest_sgx_report report;
    attest_diag diag = {{0}};
    attest_err err = attest_sgx_report_parse(bytes, size, &report, &diag);
    free(bytes);
    bool parsed = err == ATTEST_OK;
    if (parsed) {
        err = attest_local_report_verify(platform, &verifier, &report, &diag);
    }
    attest_sim_platform_free(platform);
    if (err != ATTEST_OK && err != ATTEST_ERR_REPORT_MAC && parsed) {
        fprintf(stderr, "attest local verify: %s: %s\n", attest_err_code(err),
                attest_err_message(err));
        return CLI_EXIT_USAGE;
    }

    if (print_verification(parsed ? &report : NULL, err, &diag, json) != 0) {
        return CLI_EXIT_USAGE;
    }
    return err == ATTEST_OK ? CLI_EXIT_VALID : CLI_EXIT_INVALID;
}

int cli_local(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        local_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_VALID;
    }
    if (strcmp(argv[1], "target-info") == 0) {
        return local_target_info(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "report") == 0) {
        return local_report(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "verify") == 0) {
        return local_verify(argc - 1, argv + 1);
    }
    fprintf(stderr, "attest local: unknown subcommand \"%s\"\n", argv[1]);
    local_usage(stderr);
    return CLI_EXIT_USAGE;
}
