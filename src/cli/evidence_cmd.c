/* attest evidence: collect evidence from the TEE this process runs in. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <attest/attest.h>

#include "cli.h"
#include "util/file.h"
#include "util/hex.h"

/* Largest --runtime-data file. */
#define RUNTIME_DATA_MAX_SIZE (16u * 1024 * 1024)

static void evidence_usage(FILE *out)
{
    fprintf(out,
            "usage: attest evidence [--backend NAME] (--report-data HEX | --nonce HEX\n"
            "                       [--runtime-data FILE]) --out FILE [--aux-out FILE]\n"
            "                       [--sim-dir DIR] [--tee sgx|tdx]\n"
            "\n"
            "  --backend NAME        auto (default), configfs-tsm, gramine or sim\n"
            "  --report-data HEX     the 64 bytes of report data, as 128 hex digits\n"
            "  --nonce HEX           a 32-byte verifier nonce (64 hex digits); the report\n"
            "                        data is then SHA-512(nonce || runtime data)\n"
            "  --runtime-data FILE   bytes bound with --nonce (default: none)\n"
            "  --out FILE            where the evidence is written (quote or outblob)\n"
            "  --aux-out FILE        where configfs-tsm's auxblob is written, if any\n"
            "  --sim-dir DIR         simulated platform (default: $ATTEST_SIM_DIR)\n"
            "  --tee sgx|tdx         what the simulated platform quotes (default: sgx)\n"
            "  --configfs-root DIR   configfs-tsm report root (default:\n"
            "                        " ATTEST_CONFIGFS_TSM_ROOT ")\n"
            "  --configfs-entry NAME use the entry ROOT/NAME, kept when it exists already\n"
            "                        (default: a private entry, removed afterwards)\n"
            "  --gramine-root DIR    Gramine attestation directory (default:\n"
            "                        " ATTEST_GRAMINE_ROOT ")\n"
            "\n"
            "auto uses configfs-tsm when its root exists, then Gramine when\n"
            "ROOT/quote exists, then the simulated platform when one is configured.\n"
            "\n"
            "exit status: 0 evidence written, 1 the backend failed, 2 usage or file error\n");
}

/* Writes size bytes to path, replacing the file. Returns 0 on success. */
static int write_output(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "attest evidence: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t written = fwrite(data, 1, size, file);
    int closed = fclose(file);
    if (written != size || closed != 0) {
        fprintf(stderr, "attest evidence: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

/* Sets options->report_data from --nonce and --runtime-data. Returns 0 on success. */
static int bind_nonce(const char *nonce_hex, const char *runtime_path,
                      attest_evidence_options *options)
{
    uint8_t nonce[ATTEST_NONCE_SIZE];
    if (attest_hex_decode_exact(nonce_hex, strlen(nonce_hex), nonce, sizeof(nonce)) !=
        ATTEST_OK) {
        fprintf(stderr, "attest evidence: --nonce must be 64 hex digits (32 bytes)\n");
        return -1;
    }

    uint8_t *runtime_data = NULL;
    size_t runtime_size = 0;
    if (runtime_path != NULL) {
        attest_diag diag = {{0}};
        attest_err err = attest_file_read(runtime_path, RUNTIME_DATA_MAX_SIZE, &runtime_data,
                                          &runtime_size, &diag);
        if (err != ATTEST_OK) {
            fprintf(stderr, "attest evidence: --runtime-data: %s: %s\n", attest_err_code(err),
                    diag.message);
            return -1;
        }
    }
    attest_err err = attest_report_data_bind(nonce, runtime_data, runtime_size,
                                             options->report_data);
    free(runtime_data);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest evidence: cannot bind the nonce: %s\n", attest_err_message(err));
        return -1;
    }
    return 0;
}

int cli_evidence(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"backend", required_argument, NULL, 'b'},
        {"report-data", required_argument, NULL, 'r'},
        {"nonce", required_argument, NULL, 'n'},
        {"runtime-data", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},
        {"aux-out", required_argument, NULL, 'a'},
        {"sim-dir", required_argument, NULL, 's'},
        {"tee", required_argument, NULL, 't'},
        {"configfs-root", required_argument, NULL, 'c'},
        {"configfs-entry", required_argument, NULL, 'e'},
        {"gramine-root", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    attest_evidence_options options;
    attest_evidence_options_init(&options);
    options.sim_dir = getenv("ATTEST_SIM_DIR");
    if (options.sim_dir != NULL && options.sim_dir[0] == '\0') {
        options.sim_dir = NULL;
    }
    const char *report_data_hex = NULL;
    const char *nonce_hex = NULL;
    const char *runtime_path = NULL;
    const char *out_path = NULL;
    const char *aux_path = NULL;

    optind = 1;
    int option;
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (option) {
        case 'b':
            if (attest_evidence_backend_parse(optarg, &options.backend) != ATTEST_OK) {
                fprintf(stderr, "attest evidence: --backend \"%s\" is not auto, configfs-tsm, "
                        "gramine or sim\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'r':
            report_data_hex = optarg;
            break;
        case 'n':
            nonce_hex = optarg;
            break;
        case 'd':
            runtime_path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'a':
            aux_path = optarg;
            break;
        case 's':
            options.sim_dir = optarg;
            break;
        case 't':
            if (strcmp(optarg, "sgx") == 0) {
                options.sim_tee = ATTEST_SIM_SGX;
            } else if (strcmp(optarg, "tdx") == 0) {
                options.sim_tee = ATTEST_SIM_TDX;
            } else {
                fprintf(stderr, "attest evidence: --tee \"%s\" is not sgx or tdx\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'c':
            options.configfs_root = optarg;
            break;
        case 'e':
            options.configfs_entry = optarg;
            break;
        case 'g':
            options.gramine_root = optarg;
            break;
        case 'h':
            evidence_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            evidence_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (out_path == NULL || optind != argc) {
        fprintf(stderr, "attest evidence: --out FILE is required, and no other arguments\n");
        evidence_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if ((report_data_hex == NULL) == (nonce_hex == NULL)) {
        fprintf(stderr, "attest evidence: give exactly one of --report-data and --nonce\n");
        return CLI_EXIT_USAGE;
    }
    if (runtime_path != NULL && nonce_hex == NULL) {
        fprintf(stderr, "attest evidence: --runtime-data needs --nonce\n");
        return CLI_EXIT_USAGE;
    }

    if (report_data_hex != NULL) {
        if (attest_hex_decode_exact(report_data_hex, strlen(report_data_hex), options.report_data,
                                    sizeof(options.report_data)) != ATTEST_OK) {
            fprintf(stderr, "attest evidence: --report-data must be 128 hex digits (64 bytes)\n");
            return CLI_EXIT_USAGE;
        }
    } else if (bind_nonce(nonce_hex, runtime_path, &options) != 0) {
        return CLI_EXIT_USAGE;
    }

    attest_evidence evidence;
    attest_diag diag = {{0}};
    attest_err err = attest_evidence_collect(&options, &evidence, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest evidence: %s: %s\n", attest_err_code(err),
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return CLI_EXIT_INVALID;
    }
    fprintf(stderr, "attest evidence: backend %s, provider %s, %zu bytes%s\n",
            attest_evidence_backend_name(evidence.backend), evidence.provider, evidence.size,
            evidence.report_data_checked ? ", report data checked" : "");

    int status = CLI_EXIT_VALID;
    if (write_output(out_path, evidence.data, evidence.size) != 0) {
        status = CLI_EXIT_USAGE;
    } else if (aux_path != NULL && evidence.aux == NULL) {
        fprintf(stderr, "attest evidence: the backend returned no auxblob, so %s is not "
                "written\n", aux_path);
    } else if (aux_path != NULL &&
               write_output(aux_path, evidence.aux, evidence.aux_size) != 0) {
        status = CLI_EXIT_USAGE;
    }
    attest_evidence_clear(&evidence);
    return status;
}
