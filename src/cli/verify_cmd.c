/* attest verify: verify one quote and print the report. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <attest/attest.h>

#include "cli.h"

static void verify_usage(FILE *out)
{
    fprintf(out,
            "usage: attest verify --quote FILE [--collateral FILE|DIR] [--at UNIX_SECONDS] "
            "[--trust-root FILE]... [--json]\n"
            "\n"
            "  --quote FILE        quote, binary or hex text\n"
            "  --collateral PATH   JSON bundle file, or directory of PCS-style files\n"
            "  --at SECONDS        verification time in Unix seconds (default: now)\n"
            "  --trust-root FILE   also trust this root certificate (DER or PEM) for this call,\n"
            "                      such as a simulated platform's root-ca.der; repeatable\n"
            "  --json              print one JSON object instead of text\n"
            "\n"
            "exit status: 0 valid, 1 not valid, 2 usage or file error\n");
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

int cli_verify(int argc, char **argv)
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
    enum { MAX_TRUST_ROOTS = 4 };
    const char *trust_roots[MAX_TRUST_ROOTS];
    size_t trust_root_count = 0;
    const char *quote_path = NULL;
    const char *collateral_path = NULL;
    long long at = (long long)time(NULL);
    int json = 0;

    optind = 1;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'q':
            quote_path = optarg;
            break;
        case 'c':
            collateral_path = optarg;
            break;
        case 't':
            if (cli_parse_seconds(optarg, &at) != 0) {
                fprintf(stderr, "attest verify: --at \"%s\" is not a number of Unix seconds\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'j':
            json = 1;
            break;
        case 'r':
            if (trust_root_count == MAX_TRUST_ROOTS) {
                fprintf(stderr, "attest verify: at most %d --trust-root options\n",
                        MAX_TRUST_ROOTS);
                return CLI_EXIT_USAGE;
            }
            trust_roots[trust_root_count++] = optarg;
            break;
        case 'h':
            verify_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            verify_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (quote_path == NULL || optind != argc) {
        fprintf(stderr, "attest verify: --quote FILE is required, and no other arguments\n");
        verify_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    attest_diag diag = {{0}};
    uint8_t *quote = NULL;
    size_t quote_size = 0;
    attest_err err = attest_quote_read_file(quote_path, &quote, &quote_size, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest verify: %s: %s\n", attest_err_code(err), diag.message);
        return CLI_EXIT_USAGE;
    }

    attest_collateral collateral = {0};
    if (collateral_path != NULL) {
        err = attest_collateral_load(collateral_path, &collateral, &diag);
        if (err != ATTEST_OK) {
            fprintf(stderr, "attest verify: collateral %s: %s: %s\n", collateral_path,
                    attest_err_code(err), diag.message);
            free(quote);
            return CLI_EXIT_USAGE;
        }
    }

    attest_verifier *verifier = NULL;
    err = attest_verifier_new(&verifier);
    attest_report *report = calloc(1, sizeof(*report));
    int status = CLI_EXIT_USAGE;
    if (err != ATTEST_OK || report == NULL) {
        fprintf(stderr, "attest verify: cannot create the verifier: %s\n", attest_err_code(err));
        goto out;
    }
    for (size_t i = 0; i < trust_root_count; i++) {
        err = attest_verifier_add_root_file(verifier, trust_roots[i], &diag);
        if (err != ATTEST_OK) {
            fprintf(stderr, "attest verify: --trust-root: %s: %s\n", attest_err_code(err),
                    diag.message);
            goto out;
        }
    }

    err = attest_verify_quote(verifier, quote, quote_size,
                              collateral_path != NULL ? &collateral : NULL, (time_t)at, NULL,
                              report);
    if (err == ATTEST_ERR_NOMEM || (err != ATTEST_OK && report->check_count == 0)) {
        fprintf(stderr, "attest verify: %s\n", attest_err_message(err));
        goto out;
    }

    if (json) {
        char *text = attest_report_to_json(report, true);
        if (text == NULL) {
            fprintf(stderr, "attest verify: out of memory formatting JSON\n");
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
