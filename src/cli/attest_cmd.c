/*
 * attest attest and attest exec: attest this process to an attestd service,
 * store the token, and for exec start a program only when accepted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <attest/attest.h>

#include "cli.h"
#include "util/file.h"

/* attest exec: 5 attempts, 0.2 s before the second, doubling (3 s of waiting in all). */
#define EXEC_MAX_ATTEMPTS 5u
#define EXEC_RETRY_DELAY_MS 200u

typedef struct attest_cmd {
    const char *name; /* "attest" or "exec", for messages */
    attest_client_options client;
    const char *token_file;
    bool json;
    bool program_measure;
    uint8_t *runtime_data;
    uint8_t measurement[ATTEST_CLIENT_MEASUREMENT_MAX_SIZE];
} attest_cmd;

static void attest_usage(FILE *out, bool exec)
{
    fprintf(out,
            "usage: attest %s --service URL --app ID [--backend auto|sim|configfs-tsm|gramine]\n"
            "       [--sim-dir DIR] [--tee sgx|tdx] [--runtime-data FILE] [--audience AUD]\n"
            "       [--token-file FILE] [--cacert FILE] [--insecure-tls] [--json]%s\n"
            "\n"
            "  --service URL         attestd base URL (http or https)\n"
            "  --app ID              application whose active policy appraises the evidence\n"
            "  --backend NAME        evidence backend (default: auto)\n"
            "  --sim-dir DIR         simulated platform (default: $ATTEST_SIM_DIR)\n"
            "  --tee sgx|tdx         what the simulated platform quotes (default: sgx)\n"
            "  --runtime-data FILE   bytes bound with the nonce and sent (at most 64 KiB)\n"
            "  --audience AUD        the token's aud claim\n"
            "  --token-file FILE     where the token is written, mode 0600, replaced atomically\n"
            "  --cacert FILE         CA certificates for TLS (default: the system CA store)\n"
            "  --insecure-tls        do not verify the server certificate (insecure)\n"
            "  --json                print the service's whole report, token included\n",
            exec ? "exec" : "attest", exec ? " [--program-measure]\n       -- PROGRAM [ARGS...]" : "");
    if (exec) {
        fprintf(out,
                "  --program-measure     accepted for compatibility: with the sim backend (also\n"
                "                        when auto selects it) the quote always carries\n"
                "                        MRENCLAVE = SHA-256 (SGX) or MRTD = SHA-384 (TDX) of the\n"
                "                        PROGRAM file; with another backend it is an error\n"
                "\n"
                "On acceptance PROGRAM replaces this process, with ATTEST_TOKEN_FILE naming the\n"
                "token file (default: a new 0600 file in $XDG_RUNTIME_DIR or /tmp). An\n"
                "unreachable service or HTTP 5xx gets at most 5 attempts, 0.2 s apart, doubling.\n");
    }
    fprintf(out, "\nexit status: 0 accepted, 1 rejected, 2 usage, file or service error\n");
}

/* Writes token to path through a 0600 temporary file in the same folder and rename(2). */
static int token_write_atomic(const char *command, const char *path, const char *token)
{
    size_t path_size = strlen(path);
    char *temp = malloc(path_size + sizeof(".XXXXXX"));
    if (temp == NULL) {
        fprintf(stderr, "attest %s: out of memory\n", command);
        return -1;
    }
    memcpy(temp, path, path_size);
    memcpy(temp + path_size, ".XXXXXX", sizeof(".XXXXXX"));
    int fd = mkstemp(temp); /* mkstemp creates the file with mode 0600 */
    if (fd < 0) {
        fprintf(stderr, "attest %s: cannot create a temporary file beside %s: %s\n", command,
                path, strerror(errno));
        free(temp);
        return -1;
    }
    size_t size = strlen(token);
    bool ok = fchmod(fd, S_IRUSR | S_IWUSR) == 0 && write(fd, token, size) == (ssize_t)size &&
              fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(temp, path) != 0) {
        saved = errno;
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "attest %s: cannot write the token file %s: %s\n", command, path,
                strerror(saved));
        unlink(temp);
    }
    free(temp);
    return ok ? 0 : -1;
}

/* Writes token to a new 0600 file in $XDG_RUNTIME_DIR or /tmp; returns its path or NULL. */
static char *token_write_new(const char *token)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (dir == NULL || dir[0] == '\0') {
        dir = "/tmp";
    }
    size_t size = strlen(dir) + sizeof("/attest-token-XXXXXX");
    char *path = malloc(size);
    if (path == NULL) {
        fprintf(stderr, "attest exec: out of memory\n");
        return NULL;
    }
    snprintf(path, size, "%s/attest-token-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "attest exec: cannot create a token file in %s: %s\n", dir,
                strerror(errno));
        free(path);
        return NULL;
    }
    size_t token_size = strlen(token);
    bool ok = write(fd, token, token_size) == (ssize_t)token_size;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "attest exec: cannot write the token file %s: %s\n", path,
                strerror(saved));
        unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

/* Returns the file that execvp would run for program, in a new string, or NULL. */
static char *program_resolve(const char *program)
{
    if (strchr(program, '/') != NULL) {
        return access(program, X_OK) == 0 ? strdup(program) : NULL;
    }
    const char *search = getenv("PATH");
    if (search == NULL || search[0] == '\0') {
        search = "/usr/local/bin:/usr/bin:/bin";
    }
    while (true) {
        const char *end = strchr(search, ':');
        size_t dir_size = end != NULL ? (size_t)(end - search) : strlen(search);
        /* An empty PATH entry means the current folder. */
        const char *dir = dir_size == 0 ? "." : search;
        size_t used_size = dir_size == 0 ? 1 : dir_size;
        size_t size = used_size + 1 + strlen(program) + 1;
        char *candidate = malloc(size);
        if (candidate == NULL) {
            return NULL;
        }
        snprintf(candidate, size, "%.*s/%s", (int)used_size, dir, program);
        struct stat info;
        if (stat(candidate, &info) == 0 && S_ISREG(info.st_mode) && access(candidate, X_OK) == 0) {
            return candidate;
        }
        free(candidate);
        if (end == NULL) {
            return NULL;
        }
        search = end + 1;
    }
}

enum {
    OPTION_SERVICE = 256,
    OPTION_APP,
    OPTION_BACKEND,
    OPTION_SIM_DIR,
    OPTION_TEE,
    OPTION_RUNTIME_DATA,
    OPTION_AUDIENCE,
    OPTION_TOKEN_FILE,
    OPTION_CACERT,
    OPTION_INSECURE_TLS,
    OPTION_JSON,
    OPTION_PROGRAM_MEASURE,
    OPTION_HELP,
};

/* Parses the options into command; returns -1 after printing a usage error. */
static int options_parse(int argc, char **argv, bool exec, attest_cmd *command)
{
    static const struct option options[] = {
        {"service", required_argument, NULL, OPTION_SERVICE},
        {"app", required_argument, NULL, OPTION_APP},
        {"backend", required_argument, NULL, OPTION_BACKEND},
        {"sim-dir", required_argument, NULL, OPTION_SIM_DIR},
        {"tee", required_argument, NULL, OPTION_TEE},
        {"runtime-data", required_argument, NULL, OPTION_RUNTIME_DATA},
        {"audience", required_argument, NULL, OPTION_AUDIENCE},
        {"token-file", required_argument, NULL, OPTION_TOKEN_FILE},
        {"cacert", required_argument, NULL, OPTION_CACERT},
        {"insecure-tls", no_argument, NULL, OPTION_INSECURE_TLS},
        {"json", no_argument, NULL, OPTION_JSON},
        {"program-measure", no_argument, NULL, OPTION_PROGRAM_MEASURE},
        {"help", no_argument, NULL, OPTION_HELP},
        {NULL, 0, NULL, 0},
    };
    attest_client_options *client = &command->client;
    const char *runtime_path = NULL;
    int option;
    opterr = 0;
    optind = 1;
    /* "+" stops at PROGRAM, so the program's own options are not parsed here. */
    while ((option = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        switch (option) {
        case OPTION_SERVICE:
            client->service_url = optarg;
            break;
        case OPTION_APP:
            client->application = optarg;
            break;
        case OPTION_BACKEND:
            if (attest_evidence_backend_parse(optarg, &client->evidence.backend) != ATTEST_OK) {
                fprintf(stderr, "attest %s: invalid --backend \"%s\": expected auto, sim, "
                                "configfs-tsm or gramine\n", command->name, optarg);
                return -1;
            }
            break;
        case OPTION_SIM_DIR:
            client->evidence.sim_dir = optarg;
            break;
        case OPTION_TEE:
            if (strcmp(optarg, "sgx") == 0) {
                client->evidence.sim_tee = ATTEST_SIM_SGX;
            } else if (strcmp(optarg, "tdx") == 0) {
                client->evidence.sim_tee = ATTEST_SIM_TDX;
            } else {
                fprintf(stderr, "attest %s: invalid --tee \"%s\": expected sgx or tdx\n",
                        command->name, optarg);
                return -1;
            }
            break;
        case OPTION_RUNTIME_DATA:
            runtime_path = optarg;
            break;
        case OPTION_AUDIENCE:
            client->audience = optarg;
            break;
        case OPTION_TOKEN_FILE:
            command->token_file = optarg;
            break;
        case OPTION_CACERT:
            client->ca_file = optarg;
            break;
        case OPTION_INSECURE_TLS:
            client->insecure_tls = true;
            break;
        case OPTION_JSON:
            command->json = true;
            break;
        case OPTION_PROGRAM_MEASURE:
            if (!exec) {
                fprintf(stderr, "attest attest: --program-measure applies to attest exec only\n");
                return -1;
            }
            command->program_measure = true;
            break;
        case OPTION_HELP:
            attest_usage(stdout, exec);
            exit(CLI_EXIT_VALID);
        default:
            fprintf(stderr, "attest %s: unknown option or missing value: %s\n", command->name,
                    argv[optind - 1]);
            attest_usage(stderr, exec);
            return -1;
        }
    }

    if (client->service_url == NULL || client->application == NULL) {
        fprintf(stderr, "attest %s: --service and --app are required\n", command->name);
        attest_usage(stderr, exec);
        return -1;
    }
    if (client->evidence.sim_dir == NULL) {
        client->evidence.sim_dir = getenv("ATTEST_SIM_DIR");
    }
    if (runtime_path != NULL) {
        attest_diag diag = {{0}};
        size_t size = 0;
        attest_err err = attest_file_read(runtime_path, ATTEST_CLIENT_MAX_RUNTIME_DATA_SIZE,
                                          &command->runtime_data, &size, &diag);
        if (err != ATTEST_OK) {
            fprintf(stderr, "attest %s: cannot read --runtime-data %s (limit %u bytes): %s\n",
                    command->name, runtime_path, ATTEST_CLIENT_MAX_RUNTIME_DATA_SIZE,
                    diag.message[0] != '\0' ? diag.message : attest_err_message(err));
            return -1;
        }
        client->runtime_data = command->runtime_data;
        client->runtime_data_size = size;
    }
    return 0;
}

/*
 * Runs the attestation and prints the verdict; returns the exit status and
 * leaves the result in out_result for the caller to clear.
 */
static int attestation_run(attest_cmd *command, FILE *out, attest_client_result *out_result)
{
    if (command->client.insecure_tls) {
        fprintf(stderr, "attest %s: warning: --insecure-tls is insecure: the service's TLS "
                        "certificate is not verified\n", command->name);
    }
    attest_diag diag = {{0}};
    attest_err err = attest_client_attest(&command->client, out_result, &diag);
    if (err != ATTEST_OK) {
        const char *message = diag.message[0] != '\0' ? diag.message : attest_err_message(err);
        if (out_result->attempts > 0) {
            fprintf(stderr, "attest %s: attestation failed after %u attempt(s): %s: %s\n",
                    command->name, out_result->attempts, attest_err_code(err), message);
        } else {
            fprintf(stderr, "attest %s: attestation failed before any request: %s: %s\n",
                    command->name, attest_err_code(err), message);
        }
        /* --json prints an object for every outcome, so scripts need not parse stderr. */
        if (command->json) {
            json_t *object = json_pack("{s:s, s:{s:s, s:s, s:s}, s:i}", "verdict", "error",
                                       "error", "stage", "client", "code", attest_err_code(err),
                                       "message", message, "attempts",
                                       (int)out_result->attempts);
            char *text = object != NULL ? json_dumps(object, JSON_COMPACT) : NULL;
            if (text != NULL) {
                fprintf(out, "%s\n", text);
            }
            free(text);
            json_decref(object);
        }
        return CLI_EXIT_USAGE;
    }
    if (command->json) {
        fprintf(out, "%s\n", out_result->report_json);
    } else if (out_result->accepted) {
        fprintf(out, "accepted: application %s\n", command->client.application);
    }
    if (!out_result->accepted) {
        fprintf(stderr, "attest %s: rejected: check %s failed (stage %s): %s\n", command->name,
                out_result->failure_code, out_result->failure_stage,
                out_result->failure_message);
        return CLI_EXIT_INVALID;
    }
    return CLI_EXIT_VALID;
}

int cli_attest(int argc, char **argv)
{
    attest_cmd command;
    memset(&command, 0, sizeof(command));
    command.name = "attest";
    attest_client_options_init(&command.client);
    if (options_parse(argc, argv, false, &command) != 0) {
        free(command.runtime_data);
        return CLI_EXIT_USAGE;
    }
    if (optind != argc) {
        fprintf(stderr, "attest attest: unexpected argument \"%s\"\n", argv[optind]);
        free(command.runtime_data);
        return CLI_EXIT_USAGE;
    }

    attest_client_result result;
    int status = attestation_run(&command, stdout, &result);
    if (status == CLI_EXIT_VALID && command.token_file != NULL &&
        token_write_atomic("attest", command.token_file, result.token) != 0) {
        status = CLI_EXIT_USAGE;
    }
    attest_client_result_clear(&result);
    free(command.runtime_data);
    return status;
}

/*
 * Measures program into the simulated quote when the evidence backend, after
 * resolving auto, is the simulated platform. Real TEEs quote the measurement
 * that their hardware took, so --program-measure is an error with them.
 */
static int program_measure(attest_cmd *command, const char *program)
{
    attest_diag diag = {{0}};
    attest_evidence_backend backend = ATTEST_EVIDENCE_AUTO;
    attest_err err = attest_evidence_backend_resolve(&command->client.evidence, &backend, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest exec: no evidence backend: %s: %s\n", attest_err_code(err),
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return -1;
    }
    if (backend != ATTEST_EVIDENCE_SIM) {
        if (command->program_measure) {
            fprintf(stderr, "attest exec: --program-measure applies to the sim backend only, "
                            "and the backend is %s, whose TEE measures the program itself\n",
                    attest_evidence_backend_name(backend));
            return -1;
        }
        return 0;
    }
    if (command->client.evidence.sim_dir == NULL) {
        fprintf(stderr, "attest exec: --backend sim needs --sim-dir DIR or ATTEST_SIM_DIR\n");
        return -1;
    }

    size_t size = 0;
    err = attest_client_measure_file(program, command->client.evidence.sim_tee,
                                                command->measurement, &size, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest exec: cannot measure %s: %s\n", program,
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return -1;
    }
    command->client.evidence.backend = ATTEST_EVIDENCE_SIM;
    command->client.sim_measurement = command->measurement;
    command->client.sim_measurement_size = size;
    return 0;
}

/* Returns true when the folder that would hold path exists and this user may create files in it. */
static bool folder_writable(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return access(".", W_OK | X_OK) == 0;
    }
    if (slash == path) {
        return access("/", W_OK | X_OK) == 0;
    }
    char *folder = strndup(path, (size_t)(slash - path));
    bool writable = folder != NULL && access(folder, W_OK | X_OK) == 0;
    free(folder);
    return writable;
}

int cli_exec(int argc, char **argv)
{
    attest_cmd command;
    memset(&command, 0, sizeof(command));
    command.name = "exec";
    attest_client_options_init(&command.client);
    command.client.max_attempts = EXEC_MAX_ATTEMPTS;
    command.client.retry_delay_ms = EXEC_RETRY_DELAY_MS;
    if (options_parse(argc, argv, true, &command) != 0) {
        free(command.runtime_data);
        return CLI_EXIT_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "attest exec: PROGRAM is missing after --\n");
        attest_usage(stderr, true);
        free(command.runtime_data);
        return CLI_EXIT_USAGE;
    }
    char **program_argv = argv + optind;
    /*
     * The measured file is the one executed: execv runs this resolved path.
     * NOTE: a file replaced between measuring and execv runs unmeasured, so
     * the program's folder must not be writable by others.
     */
    char *program = program_resolve(program_argv[0]);
    if (program == NULL) {
        fprintf(stderr, "attest exec: program \"%s\" not found or not executable on PATH\n",
                program_argv[0]);
        free(command.runtime_data);
        return CLI_EXIT_USAGE;
    }
    if (program_measure(&command, program) != 0) {
        free(program);
        free(command.runtime_data);
        return CLI_EXIT_USAGE;
    }

    /*
     * An attestation uses up a nonce and an audit record, so a token file
     * that cannot be written fails before any request.
     */
    if (command.token_file != NULL && !folder_writable(command.token_file)) {
        fprintf(stderr, "attest exec: cannot write the token file %s: its folder is missing or "
                        "not writable\n",
                command.token_file);
        free(program);
        free(command.runtime_data);
        return CLI_EXIT_USAGE;
    }

    attest_client_result result;
    int status = attestation_run(&command, stderr, &result);
    char *token_path = NULL;
    if (status == CLI_EXIT_VALID) {
        if (command.token_file != NULL) {
            if (token_write_atomic("exec", command.token_file, result.token) == 0) {
                token_path = strdup(command.token_file);
            }
        } else {
            token_path = token_write_new(result.token);
        }
        if (token_path == NULL) {
            status = CLI_EXIT_USAGE;
        }
    }
    attest_client_result_clear(&result);
    free(command.runtime_data);
    if (status != CLI_EXIT_VALID) {
        free(program);
        return status;
    }

    if (setenv("ATTEST_TOKEN_FILE", token_path, 1) != 0) {
        fprintf(stderr, "attest exec: cannot set ATTEST_TOKEN_FILE: %s\n", strerror(errno));
    } else {
        fflush(stdout);
        execv(program, program_argv);
        fprintf(stderr, "attest exec: cannot execute %s: %s\n", program, strerror(errno));
    }
    unlink(token_path);
    free(token_path);
    free(program);
    return CLI_EXIT_USAGE;
}
