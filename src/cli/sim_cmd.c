/* attest sim: the simulated Intel platform (init, quote, collateral, scenario). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include <attest/attest.h>
#include <attest/sim.h>

#include "cli.h"
#include "util/hex.h"

static void sim_usage(FILE *out)
{
    fprintf(out,
            "usage: attest sim init --dir DIR\n"
            "       attest sim quote --dir DIR --tee sgx|tdx [--report-data HEX] --out FILE "
            "[OPTIONS]\n"
            "       attest sim collateral --dir DIR [--tee sgx|tdx] (--out FILE | --pcs-dir DIR) "
            "[OPTIONS]\n"
            "       attest sim scenario --dir DIR --tee sgx|tdx --name NAME --out DIR "
            "[--at SECONDS]\n"
            "       attest sim scenario --list [--tee sgx|tdx]\n"
            "       attest sim pccs --dir DIR --listen 127.0.0.1:PORT [OPTIONS] (see --help)\n"
            "\n"
            "init: creates a simulated platform (keys, certificates, DIR/root-ca.der) in DIR.\n"
            "\n"
            "quote options:\n"
            "  --report-data HEX    up to 64 bytes of report data, padded with zero bytes\n"
            "  --program FILE       MRENCLAVE (SGX, SHA-256) or MRTD (TDX, SHA-384) of FILE\n"
            "  --debug              debug enclave (SGX) or debug TD (TDX)\n"
            "  SGX: --mrenclave HEX (32 bytes), --mrsigner HEX (32 bytes), --isv-prod-id N,\n"
            "       --isv-svn N, --attributes HEX (16 bytes), --misc-select HEX (4 bytes)\n"
            "  TDX: --version 4|5 (default 4), --body td10|td15 (td15 needs version 5),\n"
            "       --mrtd HEX, --rtmr0 HEX .. --rtmr3 HEX, --mr-config-id HEX,\n"
            "       --mr-owner HEX (48 bytes each), --td-attributes HEX, --xfam HEX (8 bytes)\n"
            "\n"
            "collateral options:\n"
            "  --out FILE           write a JSON bundle\n"
            "  --pcs-dir DIR        write PCS-style files (tcb-info.json, qe-identity.json, ...)\n"
            "  --at SECONDS         issue time in Unix seconds (default: now); issueDate is\n"
            "                       one day before, nextUpdate 29 days after\n"
            "  --tcb-status NAME    status of the platform's TCB level (default UpToDate)\n"
            "  --qe-status NAME     status of the QE identity level (default UpToDate)\n"
            "  --revoke-pck         list the PCK certificate in the PCK CRL\n"
            "  --revoke-intermediate  list the PCK CA certificate in the root CA CRL\n"
            "\n"
            "scenario: writes DIR/quote.bin, DIR/collateral.json and DIR/at (the verification\n"
            "time in Unix seconds, --at or now). --list prints the scenario names.\n"
            "\n"
            "exit status: 0 done, 2 usage or file error\n");
}

static int usage_error(const char *format, const char *value)
{
    fprintf(stderr, "attest sim: ");
    fprintf(stderr, format, value);
    fprintf(stderr, "\n");
    return CLI_EXIT_USAGE;
}

static int parse_tee(const char *text, attest_sim_tee *out_tee)
{
    if (text == NULL) {
        fprintf(stderr, "attest sim: --tee sgx|tdx is required\n");
        return -1;
    }
    if (strcmp(text, "sgx") == 0) {
        *out_tee = ATTEST_SIM_SGX;
        return 0;
    }
    if (strcmp(text, "tdx") == 0) {
        *out_tee = ATTEST_SIM_TDX;
        return 0;
    }
    fprintf(stderr, "attest sim: --tee \"%s\" is neither sgx nor tdx\n", text);
    return -1;
}

/* Decodes exactly size bytes of hex for option; prints the error and returns -1 on failure. */
static int parse_hex(const char *option, const char *text, uint8_t *out, size_t size)
{
    size_t length = strlen(text);
    if (length != 2 * size || attest_hex_decode_exact(text, length, out, size) != ATTEST_OK) {
        fprintf(stderr,
                "attest sim: %s \"%.140s\" is not %zu bytes of hex (%zu hex digits expected, "
                "got %zu)\n",
                option, text, size, 2 * size, length);
        return -1;
    }
    return 0;
}

static int parse_number(const char *option, const char *text, unsigned long max, int base,
                        unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, base);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > max) {
        fprintf(stderr, "attest sim: %s \"%s\" is not a %s number from 0 to %lu\n", option, text,
                base == 16 ? "hexadecimal" : "decimal", max);
        return -1;
    }
    *out = value;
    return 0;
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "attest sim: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    bool written = size == 0 || fwrite(data, 1, size, file) == size;
    if (fclose(file) != 0 || !written) {
        fprintf(stderr, "attest sim: writing %s failed: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int open_platform(const char *dir, attest_sim_platform **out_platform)
{
    if (dir == NULL) {
        fprintf(stderr, "attest sim: --dir DIR is required\n");
        return -1;
    }
    attest_diag diag = {{0}};
    attest_err err = attest_sim_platform_open(dir, out_platform, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest sim: %s\n", diag.message[0] != '\0' ? diag.message
                                                                   : attest_err_message(err));
        return -1;
    }
    return 0;
}

static int sim_init(int argc, char **argv)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (option == 'd') {
            dir = optarg;
        } else if (option == 'h') {
            sim_usage(stdout);
            return CLI_EXIT_VALID;
        } else {
            sim_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (dir == NULL) {
        return usage_error("%s", "--dir DIR is required");
    }

    /* An existing platform is kept, so scripts can run init before every use. */
    char marker[4096];
    snprintf(marker, sizeof(marker), "%s/root-ca.der", dir);
    struct stat status;
    if (stat(marker, &status) == 0) {
        attest_sim_platform *platform = NULL;
        if (open_platform(dir, &platform) != 0) {
            return CLI_EXIT_USAGE;
        }
        attest_sim_platform_free(platform);
        printf("simulated platform already exists in %s; reusing it\n", dir);
        return CLI_EXIT_VALID;
    }

    attest_diag diag = {{0}};
    attest_err err = attest_sim_platform_init(dir, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest sim init: %s\n",
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return CLI_EXIT_USAGE;
    }
    printf("simulated platform created in %s; its root certificate is %s\n", dir, marker);
    return CLI_EXIT_VALID;
}

/* Digests the file at path with md (SHA-256 or SHA-384) into out. */
static int digest_file(const char *path, const EVP_MD *md, uint8_t *out, size_t size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "attest sim: cannot open --program %s: %s\n", path, strerror(errno));
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;
    uint8_t buffer[65536];
    size_t count = 0;
    while (ok && (count = fread(buffer, 1, sizeof(buffer), file)) > 0) {
        ok = EVP_DigestUpdate(ctx, buffer, count) == 1;
    }
    ok = ok && ferror(file) == 0;
    unsigned int digest_size = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &digest_size) == 1 && digest_size == size;
    EVP_MD_CTX_free(ctx);
    fclose(file);
    if (!ok) {
        fprintf(stderr, "attest sim: reading or hashing --program %s failed\n", path);
        return -1;
    }
    return 0;
}

/* Option values of attest sim quote, applied once --tee is known. */
typedef struct quote_arguments {
    const char *dir;
    const char *tee;
    const char *out;
    const char *report_data;
    const char *program;
    bool debug;
    const char *mrenclave;
    const char *mrsigner;
    const char *isv_prod_id;
    const char *isv_svn;
    const char *attributes;
    const char *misc_select;
    const char *version;
    const char *body;
    const char *mrtd;
    const char *rtmr[4];
    const char *mr_config_id;
    const char *mr_owner;
    const char *td_attributes;
    const char *xfam;
} quote_arguments;

static int apply_report_data(const char *text, attest_sim_quote_options *options)
{
    size_t length = strlen(text);
    if (length % 2 != 0 || length > 2 * sizeof(options->report_data) ||
        attest_hex_decode_exact(text, length, options->report_data, length / 2) != ATTEST_OK) {
        fprintf(stderr,
                "attest sim: --report-data \"%.140s\" is not hex of at most 64 bytes "
                "(%zu hex digits)\n",
                text, length);
        return -1;
    }
    return 0;
}

/* Rejects the options of the other TEE; names the first one given. */
static int check_tee_options(const quote_arguments *args, attest_sim_tee tee)
{
    const char *sgx_only[][2] = {
        {"--mrenclave", args->mrenclave},   {"--mrsigner", args->mrsigner},
        {"--isv-prod-id", args->isv_prod_id}, {"--isv-svn", args->isv_svn},
        {"--attributes", args->attributes}, {"--misc-select", args->misc_select},
    };
    const char *tdx_only[][2] = {
        {"--version", args->version},     {"--body", args->body},
        {"--mrtd", args->mrtd},           {"--rtmr0", args->rtmr[0]},
        {"--rtmr1", args->rtmr[1]},       {"--rtmr2", args->rtmr[2]},
        {"--rtmr3", args->rtmr[3]},       {"--mr-config-id", args->mr_config_id},
        {"--mr-owner", args->mr_owner},   {"--td-attributes", args->td_attributes},
        {"--xfam", args->xfam},
    };
    const char *(*other)[2] = tee == ATTEST_SIM_TDX ? sgx_only : tdx_only;
    size_t count = tee == ATTEST_SIM_TDX ? sizeof(sgx_only) / sizeof(sgx_only[0])
                                         : sizeof(tdx_only) / sizeof(tdx_only[0]);
    for (size_t i = 0; i < count; i++) {
        if (other[i][1] != NULL) {
            fprintf(stderr, "attest sim: %s applies to %s quotes only\n", other[i][0],
                    tee == ATTEST_SIM_TDX ? "SGX" : "TDX");
            return -1;
        }
    }
    return 0;
}

static int apply_sgx(const quote_arguments *args, attest_sim_quote_options *options)
{
    unsigned long number = 0;
    if ((args->mrenclave != NULL &&
         parse_hex("--mrenclave", args->mrenclave, options->mr_enclave, 32) != 0) ||
        (args->mrsigner != NULL &&
         parse_hex("--mrsigner", args->mrsigner, options->mr_signer, 32) != 0) ||
        (args->attributes != NULL &&
         parse_hex("--attributes", args->attributes, options->attributes, 16) != 0)) {
        return -1;
    }
    if (args->isv_prod_id != NULL) {
        if (parse_number("--isv-prod-id", args->isv_prod_id, UINT16_MAX, 10, &number) != 0) {
            return -1;
        }
        options->isv_prod_id = (uint16_t)number;
    }
    if (args->isv_svn != NULL) {
        if (parse_number("--isv-svn", args->isv_svn, UINT16_MAX, 10, &number) != 0) {
            return -1;
        }
        options->isv_svn = (uint16_t)number;
    }
    if (args->misc_select != NULL) {
        if (parse_number("--misc-select", args->misc_select, UINT32_MAX, 16, &number) != 0) {
            return -1;
        }
        options->misc_select = (uint32_t)number;
    }
    if (args->program != NULL &&
        digest_file(args->program, EVP_sha256(), options->mr_enclave, 32) != 0) {
        return -1;
    }
    return 0;
}

static int apply_tdx(const quote_arguments *args, attest_sim_quote_options *options)
{
    if (args->version != NULL) {
        if (strcmp(args->version, "4") == 0 || strcmp(args->version, "5") == 0) {
            options->version = args->version[0] - '0';
        } else {
            fprintf(stderr, "attest sim: --version \"%s\" is neither 4 nor 5\n", args->version);
            return -1;
        }
    }
    if (args->body != NULL) {
        if (strcmp(args->body, "td15") == 0) {
            options->td15 = true;
            if (args->version == NULL) {
                options->version = 5;
            }
        } else if (strcmp(args->body, "td10") != 0) {
            fprintf(stderr, "attest sim: --body \"%s\" is neither td10 nor td15\n", args->body);
            return -1;
        }
    }
    const struct {
        const char *name;
        const char *text;
        uint8_t *out;
        size_t size;
    } fields[] = {
        {"--mrtd", args->mrtd, options->mr_td, 48},
        {"--rtmr0", args->rtmr[0], options->rtmr[0], 48},
        {"--rtmr1", args->rtmr[1], options->rtmr[1], 48},
        {"--rtmr2", args->rtmr[2], options->rtmr[2], 48},
        {"--rtmr3", args->rtmr[3], options->rtmr[3], 48},
        {"--mr-config-id", args->mr_config_id, options->mr_config_id, 48},
        {"--mr-owner", args->mr_owner, options->mr_owner, 48},
        {"--td-attributes", args->td_attributes, options->td_attributes, 8},
        {"--xfam", args->xfam, options->xfam, 8},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].text != NULL &&
            parse_hex(fields[i].name, fields[i].text, fields[i].out, fields[i].size) != 0) {
            return -1;
        }
    }
    if (args->program != NULL &&
        digest_file(args->program, EVP_sha384(), options->mr_td, 48) != 0) {
        return -1;
    }
    return 0;
}

static int quote_arguments_parse(int argc, char **argv, quote_arguments *args)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"tee", required_argument, NULL, 'T'},
        {"out", required_argument, NULL, 'o'},
        {"report-data", required_argument, NULL, 'r'},
        {"program", required_argument, NULL, 'p'},
        {"debug", no_argument, NULL, 'g'},
        {"mrenclave", required_argument, NULL, 'E'},
        {"mrsigner", required_argument, NULL, 'S'},
        {"isv-prod-id", required_argument, NULL, 'P'},
        {"isv-svn", required_argument, NULL, 'V'},
        {"attributes", required_argument, NULL, 'A'},
        {"misc-select", required_argument, NULL, 'M'},
        {"version", required_argument, NULL, 'v'},
        {"body", required_argument, NULL, 'b'},
        {"mrtd", required_argument, NULL, 't'},
        {"rtmr0", required_argument, NULL, '0'},
        {"rtmr1", required_argument, NULL, '1'},
        {"rtmr2", required_argument, NULL, '2'},
        {"rtmr3", required_argument, NULL, '3'},
        {"mr-config-id", required_argument, NULL, 'c'},
        {"mr-owner", required_argument, NULL, 'w'},
        {"td-attributes", required_argument, NULL, 'a'},
        {"xfam", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'd': args->dir = optarg; break;
        case 'T': args->tee = optarg; break;
        case 'o': args->out = optarg; break;
        case 'r': args->report_data = optarg; break;
        case 'p': args->program = optarg; break;
        case 'g': args->debug = true; break;
        case 'E': args->mrenclave = optarg; break;
        case 'S': args->mrsigner = optarg; break;
        case 'P': args->isv_prod_id = optarg; break;
        case 'V': args->isv_svn = optarg; break;
        case 'A': args->attributes = optarg; break;
        case 'M': args->misc_select = optarg; break;
        case 'v': args->version = optarg; break;
        case 'b': args->body = optarg; break;
        case 't': args->mrtd = optarg; break;
        case '0': case '1': case '2': case '3': args->rtmr[option - '0'] = optarg; break;
        case 'c': args->mr_config_id = optarg; break;
        case 'w': args->mr_owner = optarg; break;
        case 'a': args->td_attributes = optarg; break;
        case 'x': args->xfam = optarg; break;
        case 'h':
            sim_usage(stdout);
            return 1;
        default:
            sim_usage(stderr);
            return -1;
        }
    }
    return 0;
}

static int sim_quote(int argc, char **argv)
{
    quote_arguments args;
    memset(&args, 0, sizeof(args));
    int parsed = quote_arguments_parse(argc, argv, &args);
    if (parsed != 0) {
        return parsed > 0 ? CLI_EXIT_VALID : CLI_EXIT_USAGE;
    }
    attest_sim_tee tee = ATTEST_SIM_SGX;
    if (parse_tee(args.tee, &tee) != 0) {
        return CLI_EXIT_USAGE;
    }
    if (args.out == NULL) {
        return usage_error("%s", "--out FILE is required");
    }
    if (args.program != NULL && (args.mrenclave != NULL || args.mrtd != NULL)) {
        return usage_error("%s", "--program and --mrenclave/--mrtd both set the measurement");
    }

    attest_sim_quote_options options;
    attest_sim_quote_options_init(&options, tee);
    options.debug = args.debug;
    if (check_tee_options(&args, tee) != 0 ||
        (args.report_data != NULL && apply_report_data(args.report_data, &options) != 0) ||
        (tee == ATTEST_SIM_SGX ? apply_sgx(&args, &options) : apply_tdx(&args, &options)) != 0) {
        return CLI_EXIT_USAGE;
    }

    attest_sim_platform *platform = NULL;
    if (open_platform(args.dir, &platform) != 0) {
        return CLI_EXIT_USAGE;
    }
    uint8_t *quote = NULL;
    size_t size = 0;
    attest_diag diag = {{0}};
    attest_err err = attest_sim_quote(platform, &options, &quote, &size, &diag);
    attest_sim_platform_free(platform);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest sim quote: %s\n",
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return CLI_EXIT_USAGE;
    }
    int written = write_file(args.out, quote, size);
    free(quote);
    return written == 0 ? CLI_EXIT_VALID : CLI_EXIT_USAGE;
}

static int parse_status(const char *option, const char *text, attest_tcb_status *out)
{
    if (attest_tcb_status_parse(text, out) != ATTEST_OK) {
        fprintf(stderr,
                "attest sim: %s \"%s\" is not an Intel TCB status name such as UpToDate or "
                "OutOfDate\n",
                option, text);
        return -1;
    }
    return 0;
}

static int sim_collateral(int argc, char **argv)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"tee", required_argument, NULL, 'T'},
        {"out", required_argument, NULL, 'o'},
        {"pcs-dir", required_argument, NULL, 'p'},
        {"at", required_argument, NULL, 't'},
        {"tcb-status", required_argument, NULL, 's'},
        {"qe-status", required_argument, NULL, 'q'},
        {"revoke-pck", no_argument, NULL, 'r'},
        {"revoke-intermediate", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    const char *tee_text = NULL;
    const char *out = NULL;
    const char *pcs_dir = NULL;
    const char *tcb_status = NULL;
    const char *qe_status = NULL;
    bool revoke_pck = false;
    bool revoke_intermediate = false;
    long long at = (long long)time(NULL);
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'd': dir = optarg; break;
        case 'T': tee_text = optarg; break;
        case 'o': out = optarg; break;
        case 'p': pcs_dir = optarg; break;
        case 's': tcb_status = optarg; break;
        case 'q': qe_status = optarg; break;
        case 'r': revoke_pck = true; break;
        case 'i': revoke_intermediate = true; break;
        case 't':
            if (cli_parse_seconds(optarg, &at) != 0) {
                return usage_error("--at \"%s\" is not a number of Unix seconds", optarg);
            }
            break;
        case 'h':
            sim_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            sim_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    /* SGX collateral unless --tee names TDX, because the command's documented form has no --tee. */
    attest_sim_tee tee = ATTEST_SIM_SGX;
    if (tee_text != NULL && parse_tee(tee_text, &tee) != 0) {
        return CLI_EXIT_USAGE;
    }
    if ((out == NULL) == (pcs_dir == NULL)) {
        return usage_error("%s", "give exactly one of --out FILE and --pcs-dir DIR");
    }

    attest_sim_collateral_options collateral_options;
    attest_sim_collateral_options_init(&collateral_options, tee, (time_t)at);
    collateral_options.revoke_pck = revoke_pck;
    collateral_options.revoke_intermediate = revoke_intermediate;
    if ((tcb_status != NULL &&
         parse_status("--tcb-status", tcb_status, &collateral_options.platform_status) != 0) ||
        (qe_status != NULL &&
         parse_status("--qe-status", qe_status, &collateral_options.qe_status) != 0)) {
        return CLI_EXIT_USAGE;
    }

    attest_sim_platform *platform = NULL;
    if (open_platform(dir, &platform) != 0) {
        return CLI_EXIT_USAGE;
    }
    attest_collateral collateral;
    attest_diag diag = {{0}};
    attest_err err = attest_sim_collateral(platform, &collateral_options, &collateral, &diag);
    attest_sim_platform_free(platform);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest sim collateral: %s\n",
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return CLI_EXIT_USAGE;
    }

    int status = CLI_EXIT_VALID;
    if (pcs_dir != NULL) {
        err = attest_sim_collateral_write_dir(&collateral, pcs_dir, &diag);
    } else {
        char *json = NULL;
        err = attest_sim_collateral_to_bundle(&collateral, &json, &diag);
        if (err == ATTEST_OK && write_file(out, json, strlen(json)) != 0) {
            status = CLI_EXIT_USAGE;
        }
        free(json);
    }
    attest_collateral_clear(&collateral);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest sim collateral: %s\n",
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return CLI_EXIT_USAGE;
    }
    return status;
}

static int scenario_list(const char *tee_text)
{
    attest_sim_tee tee = ATTEST_SIM_SGX;
    if (tee_text != NULL && parse_tee(tee_text, &tee) != 0) {
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < attest_sim_scenario_count(); i++) {
        const char *name = attest_sim_scenario_name(i);
        if (tee_text == NULL || attest_sim_scenario_supports(name, tee)) {
            printf("%s\n", name);
        }
    }
    return CLI_EXIT_VALID;
}

/* Writes quote.bin, collateral.json and at into out_dir. */
static int scenario_write(const attest_sim_scenario_output *output, const char *out_dir)
{
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "attest sim: cannot create the directory %s: %s\n", out_dir,
                strerror(errno));
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/quote.bin", out_dir);
    if (write_file(path, output->quote, output->quote_size) != 0) {
        return -1;
    }

    char *json = NULL;
    attest_diag diag = {{0}};
    if (attest_sim_collateral_to_bundle(&output->collateral, &json, &diag) != ATTEST_OK) {
        fprintf(stderr, "attest sim: %s\n", diag.message);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/collateral.json", out_dir);
    int written = write_file(path, json, strlen(json));
    free(json);
    if (written != 0) {
        return -1;
    }

    char at[32];
    int at_size = snprintf(at, sizeof(at), "%lld\n", (long long)output->at);
    snprintf(path, sizeof(path), "%s/at", out_dir);
    return write_file(path, at, (size_t)at_size);
}

static int sim_scenario(int argc, char **argv)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"tee", required_argument, NULL, 'T'},
        {"name", required_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},
        {"at", required_argument, NULL, 't'},
        {"list", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    const char *tee_text = NULL;
    const char *name = NULL;
    const char *out = NULL;
    bool list = false;
    long long at = (long long)time(NULL);
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'd': dir = optarg; break;
        case 'T': tee_text = optarg; break;
        case 'n': name = optarg; break;
        case 'o': out = optarg; break;
        case 'l': list = true; break;
        case 't':
            if (cli_parse_seconds(optarg, &at) != 0) {
                return usage_error("--at \"%s\" is not a number of Unix seconds", optarg);
            }
            break;
        case 'h':
            sim_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            sim_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (list) {
        return scenario_list(tee_text);
    }
    attest_sim_tee tee = ATTEST_SIM_SGX;
    if (parse_tee(tee_text, &tee) != 0) {
        return CLI_EXIT_USAGE;
    }
    if (name == NULL || out == NULL) {
        return usage_error("%s", "--name NAME and --out DIR are required (or --list)");
    }

    attest_sim_platform *platform = NULL;
    if (open_platform(dir, &platform) != 0) {
        return CLI_EXIT_USAGE;
    }
    attest_sim_scenario_output output;
    attest_diag diag = {{0}};
    attest_err err = attest_sim_scenario(platform, tee, name, (time_t)at, &output, &diag);
    attest_sim_platform_free(platform);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest sim scenario: %s\n",
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return CLI_EXIT_USAGE;
    }
    int written = scenario_write(&output, out);
    attest_sim_scenario_output_clear(&output);
    return written == 0 ? CLI_EXIT_VALID : CLI_EXIT_USAGE;
}

int cli_sim(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        sim_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_VALID;
    }
    const char *command = argv[1];
    optind = 1;
    if (strcmp(command, "init") == 0) {
        return sim_init(argc - 1, argv + 1);
    }
    if (strcmp(command, "quote") == 0) {
        return sim_quote(argc - 1, argv + 1);
    }
    if (strcmp(command, "collateral") == 0) {
        return sim_collateral(argc - 1, argv + 1);
    }
    if (strcmp(command, "scenario") == 0) {
        return sim_scenario(argc - 1, argv + 1);
    }
    if (strcmp(command, "pccs") == 0) {
        return cli_sim_pccs(argc - 1, argv + 1);
    }
    fprintf(stderr,
            "attest sim: unknown subcommand \"%s\" (init, quote, collateral, scenario, pccs)\n",
            command);
    return CLI_EXIT_USAGE;
}
