/*
 * attest bench verify: verification throughput on one core, with the floor
 * (the irreducible signature work of a quote) measured in the same process
 * and run, so the figures compare as ratios whatever the machine.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <attest/attest.h>

#include "cli.h"
#include "verify/internal.h"

typedef struct bench_input {
    const uint8_t *quote;
    size_t quote_size;
    const attest_collateral *collateral;
    time_t at;
    double seconds;
} bench_input;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs verification repeatedly for input->seconds; returns quotes per second, or -1. */
static double bench_verify(const bench_input *input, const attest_verify_options *options,
                           attest_err expected)
{
    attest_verifier *verifier = NULL;
    attest_report *report = malloc(sizeof(*report));
    if (report == NULL || attest_verifier_new(&verifier) != ATTEST_OK) {
        free(report);
        return -1;
    }

    /* One warm-up verification fills the caches that options leave enabled. */
    attest_err err = attest_verify_quote(verifier, input->quote, input->quote_size,
                                         input->collateral, input->at, options, report);
    long count = 0;
    double start = now_seconds();
    double elapsed = 0;
    while (err == expected && elapsed < input->seconds) {
        for (int i = 0; i < 64 && err == expected; i++) {
            err = attest_verify_quote(verifier, input->quote, input->quote_size, input->collateral,
                                      input->at, options, report);
            count++;
        }
        elapsed = now_seconds() - start;
    }
    attest_verifier_free(verifier);
    free(report);
    if (err != expected) {
        fprintf(stderr, "attest bench: verification result changed to %s during the run\n",
                attest_err_code(err));
        return -1;
    }
    return (double)count / elapsed;
}

/* Loads the PCK certificate's key from the quote's chain. */
static EVP_PKEY *pck_key_from_quote(const attest_quote *quote)
{
    STACK_OF(X509) *chain = NULL;
    if (attest_pem_chain_parse(quote->pck_chain, quote->pck_chain_size, 3, "PCK chain", NULL, 0, NULL, &chain,
                               NULL) != ATTEST_OK) {
        return NULL;
    }
    EVP_PKEY *key = X509_get_pubkey(sk_X509_value(chain, 0));
    sk_X509_pop_free(chain, X509_free);
    return key;
}

/*
 * The floor: two ECDSA P-256 verifications with already-imported keys and
 * one SHA-256 of the signed header and body, the work no verifier can skip.
 * Returns quotes per second, or -1 when the quote's own signatures are invalid.
 */
static double bench_floor(const bench_input *input)
{
    attest_quote quote;
    if (attest_quote_parse(input->quote, input->quote_size, &quote, NULL) != ATTEST_OK) {
        return -1;
    }
    EVP_PKEY *attestation_key = NULL;
    EVP_PKEY *pck_key = pck_key_from_quote(&quote);
    if (pck_key == NULL ||
        attest_p256_key_from_raw(quote.attestation_key, &attestation_key) != ATTEST_OK) {
        EVP_PKEY_free(pck_key);
        return -1;
    }
    uint8_t qe_digest[32];
    attest_sha256(quote.qe_report_raw, ATTEST_SGX_REPORT_BODY_SIZE, qe_digest);

    long count = 0;
    double start = now_seconds();
    double elapsed = 0;
    bool valid = true;
    while (valid && elapsed < input->seconds) {
        for (int i = 0; i < 64 && valid; i++) {
            uint8_t digest[32];
            attest_sha256(quote.signed_data, quote.signed_size, digest);
            valid = attest_ecdsa_verify_digest(attestation_key, digest, quote.signature,
                                               ATTEST_ERR_QUOTE_SIGNATURE) == ATTEST_OK &&
                    attest_ecdsa_verify_digest(pck_key, qe_digest, quote.qe_report_signature,
                                               ATTEST_ERR_QE_REPORT_SIGNATURE) == ATTEST_OK;
            count++;
        }
        elapsed = now_seconds() - start;
    }
    EVP_PKEY_free(attestation_key);
    EVP_PKEY_free(pck_key);
    return valid ? (double)count / elapsed : -1;
}

static void bench_usage(FILE *out)
{
    fprintf(out, "usage: attest bench verify --quote FILE --collateral FILE|DIR --at UNIX_SECONDS "
                 "[--seconds S] [--json]\n"
                 "\n"
                 "  --quote FILE        quote, binary or hex text\n"
                 "  --collateral PATH   JSON bundle file, or directory of PCS-style files\n"
                 "  --at SECONDS        verification time in Unix seconds\n"
                 "  --seconds S         duration of each of the four measurements, in seconds\n"
                 "                      (default 2, at most 600)\n"
                 "  --json              print one JSON object instead of text\n"
                 "\n"
                 "Measures quotes per second on one core: the floor (two ECDSA verifications and\n"
                 "one SHA-256), verification with collateral and PCK chain cached, with the chain\n"
                 "verified for every quote, and with nothing cached.\n");
}

int cli_bench(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "service") == 0) {
        return cli_bench_service(argc - 1, argv + 1);
    }
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        bench_usage(stderr);
        fprintf(stderr, "       attest bench service --help\n");
        return CLI_EXIT_USAGE;
    }
    static const struct option options[] = {
        {"quote", required_argument, NULL, 'q'},   {"collateral", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 't'},      {"seconds", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *quote_path = NULL;
    const char *collateral_path = NULL;
    long long at = -1;
    double seconds = 2.0;
    int json = 0;

    optind = 1;
    int option;
    while ((option = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
        switch (option) {
        case 'q':
            quote_path = optarg;
            break;
        case 'c':
            collateral_path = optarg;
            break;
        case 't':
            if (cli_parse_seconds(optarg, &at) != 0) {
                fprintf(stderr, "attest bench: --at \"%s\" is not a number of Unix seconds\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 's': {
            char *end = NULL;
            seconds = strtod(optarg, &end);
            if (end == optarg || *end != '\0') {
                fprintf(stderr, "attest bench: --seconds \"%s\" is not a number\n", optarg);
                return CLI_EXIT_USAGE;
            }
            if (!(seconds > 0 && seconds <= 600)) {
                fprintf(stderr,
                        "attest bench: --seconds %s must be greater than 0 and at most 600\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        }
        case 'j':
            json = 1;
            break;
        case 'h':
            bench_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            bench_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (quote_path == NULL || collateral_path == NULL || at < 0) {
        fprintf(stderr, "attest bench: --quote, --collateral and --at are required\n");
        bench_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    attest_diag diag = {{0}};
    uint8_t *quote = NULL;
    size_t quote_size = 0;
    attest_collateral collateral = {0};
    attest_err err = attest_quote_read_file(quote_path, &quote, &quote_size, &diag);
    if (err == ATTEST_OK) {
        err = attest_collateral_load(collateral_path, &collateral, &diag);
    }
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest bench: %s: %s\n", attest_err_code(err), diag.message);
        free(quote);
        return CLI_EXIT_USAGE;
    }

    attest_quote parsed;
    err = attest_quote_parse(quote, quote_size, &parsed, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest bench: the quote cannot be measured: %s: %s\n", attest_err_code(err),
                diag.message);
        attest_collateral_clear(&collateral);
        free(quote);
        return CLI_EXIT_INVALID;
    }

    bench_input input = {quote, quote_size, &collateral, (time_t)at, seconds};

    /* The result of the first verification is the one every later run must repeat. */
    attest_verifier *verifier = NULL;
    attest_report *report = malloc(sizeof(*report));
    attest_err expected = ATTEST_ERR_NOMEM;
    if (report != NULL && attest_verifier_new(&verifier) == ATTEST_OK) {
        expected = attest_verify_quote(verifier, quote, quote_size, &collateral, (time_t)at, NULL,
                                       report);
    }
    attest_verifier_free(verifier);
    free(report);

    attest_verify_options cached = {false, false};
    attest_verify_options chain_uncached = {false, true};
    attest_verify_options uncached = {true, true};
    double floor_rate = bench_floor(&input);
    double cached_rate = bench_verify(&input, &cached, expected);
    double chain_rate = bench_verify(&input, &chain_uncached, expected);
    double uncached_rate = bench_verify(&input, &uncached, expected);

    attest_collateral_clear(&collateral);
    free(quote);
    if (floor_rate <= 0) {
        fprintf(stderr, "attest bench: no floor: the quote signature or QE report signature does "
                        "not verify, or the PCK chain cannot be parsed\n");
        return CLI_EXIT_INVALID;
    }
    if (cached_rate <= 0 || chain_rate <= 0 || uncached_rate <= 0) {
        fprintf(stderr, "attest bench: a measurement failed: out of memory, or the result changed "
                        "between verifications\n");
        return CLI_EXIT_INVALID;
    }

    if (json) {
        printf("{\"valid\": %s, \"verification_code\": \"%s\", \"seconds_each\": %.1f, \"floor_per_second\": %.0f, "
               "\"cached_per_second\": %.0f, \"chain_uncached_per_second\": %.0f, "
               "\"uncached_per_second\": %.0f, \"cached_ratio\": %.3f, "
               "\"chain_uncached_ratio\": %.3f, \"uncached_ratio\": %.3f}\n",
               expected == ATTEST_OK ? "true" : "false", attest_err_code(expected), seconds, floor_rate, cached_rate, chain_rate,
               uncached_rate, cached_rate / floor_rate, chain_rate / floor_rate,
               uncached_rate / floor_rate);
    } else {
        printf("verification result of every run: %s\n",
               expected == ATTEST_OK ? "valid" : attest_err_code(expected));
        printf("floor            %10.0f /s\n", floor_rate);
        printf("cached           %10.0f /s  (%.3f of the floor)\n", cached_rate,
               cached_rate / floor_rate);
        printf("chain uncached   %10.0f /s  (%.3f)\n", chain_rate, chain_rate / floor_rate);
        printf("uncached         %10.0f /s  (%.3f)\n", uncached_rate, uncached_rate / floor_rate);
    }
    return CLI_EXIT_VALID;
}
