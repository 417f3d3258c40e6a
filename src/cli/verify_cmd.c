/* attest verify: verify one quote and print the report. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <attest/attest.h>

#include "cli.h"

static void verify_usage(FILE *out)
{
    fprintf(out,
            "usage: attest verify --quote FILE [--collateral FILE|DIR] [--at UNIX_SECONDS]\n"
            "                     [--trust-root FILE]... [--json]\n"
            "\n"
            "  --quote FILE        quote, binary or hex text (as xxd -p writes it)\n"
            "  --collateral PATH   JSON bundle file, or directory of PCS-style files\n"
            "  --at SECONDS        verification time in Unix seconds (default: now)\n"
            "  --trust-root FILE   also trust this root certificate (DER or PEM) for this call,\n"
            "                      such as a simulated platform's root-ca.der; repeatable\n"
            "  --json              print one JSON object instead of text\n"
            "\n"
            "exit status: 0 valid; 1 not valid, including a malformed quote or collateral;\n"
            "2 usage error or a file that cannot be read\n");
}

int cli_parse_seconds(const char *text, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 0) {
        return -1;
    }
    *out = value;
    return 0;
}

/*
 * Reports a failure that happened before verification could run. With --json
 * it prints the same object shape as a report: valid false and an error.
 * stage is NULL for usage and file errors.
 */
static int verify_fail(bool json, const char *stage, const char *code, const char *message,
                       int status)
{
    if (!json) {
        fprintf(stderr, "attest verify: %s: %s\n", code, message);
        return status;
    }
    json_t *root = json_object();
    json_t *error = json_object();
    json_object_set_new(root, "valid", json_false());
    json_object_set_new(root, "tcb_status", json_null());
    json_object_set_new(root, "advisory_ids", json_array());
    json_object_set_new(root, "checks", json_array());
    json_object_set_new(error, "stage", stage != NULL ? json_string(stage) : json_null());
    json_object_set_new(error, "code", json_string(code));
    json_object_set_new(error, "message", json_string(message));
    json_object_set_new(root, "error", error);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (text != NULL) {
        printf("%s\n", text);
        free(text);
    }
    return status;
}

/* True for errors about reaching a file, as opposed to its content. */
static bool is_file_error(attest_err err)
{
    return err == ATTEST_ERR_IO || err == ATTEST_ERR_NOMEM;
}

typedef struct verify_args {
    const char *quote_path;
    const char *collateral_path;
    long long at;
    bool json;
    const char *trust_roots[4];
    size_t trust_root_count;
} verify_args;

/* Sets *slot to value unless it was set before; returns 0 on success. */
static int set_once(const char **slot, const char *value, const char *option)
{
    if (*slot != NULL) {
        fprintf(stderr, "attest verify: %s given twice (\"%s\" and \"%s\")\n", option, *slot,
                value);
        return -1;
    }
    *slot = value;
    return 0;
}

/* Parses the command line into out; returns -1 after printing why it is invalid. */
static int verify_parse_args(int argc, char **argv, verify_args *out, bool *out_help)
{
    static const struct option options[] = {
        {"quote", required_argument, NULL, 'q'},
        {"collateral", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"trust-root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *at_text = NULL;
    optind = 1;
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'q':
            if (set_once(&out->quote_path, optarg, "--quote") != 0) {
                return -1;
            }
            break;
        case 'c':
            if (set_once(&out->collateral_path, optarg, "--collateral") != 0) {
                return -1;
            }
            break;
        case 't':
            if (set_once(&at_text, optarg, "--at") != 0) {
                return -1;
            }
            if (cli_parse_seconds(optarg, &out->at) != 0) {
                fprintf(stderr, "attest verify: --at \"%s\" is not a number of Unix seconds\n",
                        optarg);
                return -1;
            }
            break;
        case 'j':
            out->json = true;
            break;
        case 'r':
            if (out->trust_root_count == sizeof(out->trust_roots) / sizeof(out->trust_roots[0])) {
                fprintf(stderr, "attest verify: at most %zu --trust-root options\n",
                        sizeof(out->trust_roots) / sizeof(out->trust_roots[0]));
                return -1;
            }
            out->trust_roots[out->trust_root_count++] = optarg;
            break;
        case 'h':
            *out_help = true;
            return 0;
        case ':':
            fprintf(stderr, "attest verify: option %s needs a value\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "attest verify: unknown option %s\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "attest verify: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (out->quote_path == NULL) {
        fprintf(stderr, "attest verify: --quote FILE is required\n");
        return -1;
    }
    return 0;
}

int cli_verify(int argc, char **argv)
{
    verify_args args;
    memset(&args, 0, sizeof(args));
    args.at = (long long)time(NULL);
    bool help = false;
    if (verify_parse_args(argc, argv, &args, &help) != 0) {
        verify_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (help) {
        verify_usage(stdout);
        return CLI_EXIT_VALID;
    }

    attest_diag diag = {{0}};
    uint8_t *quote = NULL;
    size_t quote_size = 0;
    attest_err err = attest_quote_read_file(args.quote_path, &quote, &quote_size, &diag);
    if (err != ATTEST_OK) {
        return verify_fail(args.json, is_file_error(err) ? NULL : "parse", attest_err_code(err),
                           diag.message, is_file_error(err) ? CLI_EXIT_USAGE : CLI_EXIT_INVALID);
    }

    attest_collateral collateral = {0};
    if (args.collateral_path != NULL) {
        err = attest_collateral_load(args.collateral_path, &collateral, &diag);
        if (err != ATTEST_OK) {
            free(quote);
            return verify_fail(args.json, is_file_error(err) ? NULL : "collateral",
                               attest_err_code(err), diag.message,
                               is_file_error(err) ? CLI_EXIT_USAGE : CLI_EXIT_INVALID);
        }
    }

    attest_verifier *verifier = NULL;
    err = attest_verifier_new(&verifier);
    attest_report *report = calloc(1, sizeof(*report));
    int status = CLI_EXIT_USAGE;
    if (err != ATTEST_OK || report == NULL) {
        status = verify_fail(args.json, NULL, attest_err_code(err != ATTEST_OK ? err : ATTEST_ERR_NOMEM),
                             "cannot create the verifier", CLI_EXIT_USAGE);
        goto out;
    }
    for (size_t i = 0; i < args.trust_root_count; i++) {
        err = attest_verifier_add_root_file(verifier, args.trust_roots[i], &diag);
        if (err != ATTEST_OK) {
            status = verify_fail(args.json, NULL, attest_err_code(err), diag.message,
                                 CLI_EXIT_USAGE);
            goto out;
        }
    }

    err = attest_verify_quote(verifier, quote, quote_size,
                              args.collateral_path != NULL ? &collateral : NULL,
                              (time_t)args.at, NULL, report);
    if (err == ATTEST_ERR_NOMEM || (err != ATTEST_OK && report->check_count == 0)) {
        status = verify_fail(args.json, NULL, attest_err_code(err), attest_err_message(err),
                             CLI_EXIT_USAGE);
        goto out;
    }

    if (args.json) {
        char *text = attest_report_to_json(report, true);
        if (text == NULL) {
            status = verify_fail(false, NULL, "out_of_memory", "formatting the JSON report failed",
                                 CLI_EXIT_USAGE);
            goto out;
        }
        printf("%s\n", text);
        free(text);
    } else {
        attest_report_print(report, stdout);
    }
    status = report->valid ? CLI_EXIT_VALID : CLI_EXIT_INVALID;

out:
    free(report);
    attest_verifier_free(verifier);
    attest_collateral_clear(&collateral);
    free(quote);
    return status;
}
