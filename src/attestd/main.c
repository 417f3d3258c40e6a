/*
 * attestd: the attestation service. `attestd init` creates the database and
 * the first administrator key. `attestd serve` (the default) runs the HTTP
 * service until SIGTERM or SIGINT and reloads its configuration on SIGHUP.
 *
 * Signals are blocked in every thread and read from a signalfd in the main
 * loop, so no work runs in a signal handler.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api_admin.h"
#include "config.h"
#include "service.h"
#include "http.h"
#include "log.h"

#define FLAG_MAX_COUNT 32
#define FIRST_KEY_NAME "admin"

typedef struct options {
    const char *command;
    const char *config_path; /* NULL without --config */
    size_t flag_count;
    const char *flag_keys[FLAG_MAX_COUNT];
    const char *flag_values[FLAG_MAX_COUNT];
} options;

/* Flags that take a value, with the configuration key each sets. */
static const struct {
    const char *flag;
    const char *key;
} value_flags[] = {
    {"--data-dir", "data_dir"},
    {"--listen-address", "listen_address"},
    {"--port", "listen_port"},
    {"--tls-cert", "tls_cert_file"},
    {"--tls-key", "tls_key_file"},
    {"--threads", "threads"},
    {"--max-connections", "max_connections"},
    {"--max-body-size", "max_body_size"},
    {"--max-unauthenticated-body-size", "max_unauthenticated_body_size"},
    {"--max-json-depth", "max_json_depth"},
    {"--rate-limit", "rate_limit_per_second"},
    {"--rate-limit-burst", "rate_limit_burst"},
    {"--sqlite-synchronous", "sqlite_synchronous"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: attestd [init|serve] [--config FILE] [options]\n"
                 "\n"
                 "  init                      create DATA_DIR/attestd.db and print the first\n"
                 "                            administrator API key once\n"
                 "  serve                     run the service (the default command)\n"
                 "\n"
                 "  --config FILE             JSON configuration file (docs/attestd.md)\n"
                 "  --data-dir DIR            state folder (default /var/lib/attestd)\n"
                 "  --listen-address ADDRESS  IP address to listen on (default 127.0.0.1)\n"
                 "  --port PORT               TCP port (default 8443)\n"
                 "  --tls-cert FILE           PEM certificate chain for HTTPS\n"
                 "  --tls-key FILE            PEM private key for HTTPS\n"
                 "  --insecure-http           serve plain HTTP without TLS\n"
                 "  --read-only               open the database read-only; writes get 503\n"
                 "  --threads N               worker threads (default 4)\n"
                 "  --max-connections N       open connections before 503 (default 256)\n"
                 "  --max-body-size BYTES     body limit after authentication (default 262144)\n"
                 "  --max-unauthenticated-body-size BYTES\n"
                 "                            body limit before authentication (default 16384)\n"
                 "  --max-json-depth N        JSON nesting limit (default 32)\n"
                 "  --rate-limit N            requests per second per client address (default 50)\n"
                 "  --rate-limit-burst N      burst per client address (default 100)\n"
                 "  --sqlite-synchronous normal|full   (default normal)\n");
}

static bool parse_options(int argc, char **argv, options *out_options)
{
    options parsed = {.command = "serve"};
    int index = 1;
    if (index < argc && argv[index][0] != '-') {
        parsed.command = argv[index++];
    }
    for (; index < argc; index++) {
        const char *arg = argv[index];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout);
            exit(0);
        }
        if (parsed.flag_count == FLAG_MAX_COUNT) {
            fprintf(stderr, "attestd: more than %d options\n", FLAG_MAX_COUNT);
            return false;
        }
        if (strcmp(arg, "--insecure-http") == 0 || strcmp(arg, "--read-only") == 0) {
            parsed.flag_keys[parsed.flag_count] =
                strcmp(arg, "--insecure-http") == 0 ? "insecure_http" : "read_only";
            parsed.flag_values[parsed.flag_count++] = "true";
            continue;
        }
        if (strcmp(arg, "--config") == 0 && index + 1 < argc) {
            parsed.config_path = argv[++index];
            continue;
        }
        bool matched = false;
        for (size_t i = 0; i < sizeof(value_flags) / sizeof(value_flags[0]); i++) {
            if (strcmp(arg, value_flags[i].flag) == 0 && index + 1 < argc) {
                parsed.flag_keys[parsed.flag_count] = value_flags[i].key;
                parsed.flag_values[parsed.flag_count++] = argv[++index];
                matched = true;
                break;
            }
        }
        if (!matched) {
            fprintf(stderr, "attestd: unknown option or missing value: %s\n", arg);
            print_usage(stderr);
            return false;
        }
    }
    if (strcmp(parsed.command, "serve") != 0 && strcmp(parsed.command, "init") != 0) {
        fprintf(stderr, "attestd: unknown command '%s'; expected init or serve\n", parsed.command);
        return false;
    }
    *out_options = parsed;
    return true;
}

/* Builds the configuration: defaults, then the file, then the flags. */
ATTEST_MUST_USE static attest_err load_config(const options *opts, attestd_config *out_config,
                                              attest_diag *diag)
{
    attestd_config config;
    attestd_config_init_defaults(&config);
    if (opts->config_path != NULL) {
        attest_err err = attestd_config_apply_file(&config, opts->config_path, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    for (size_t i = 0; i < opts->flag_count; i++) {
        attest_err err =
            attestd_config_set(&config, opts->flag_keys[i], opts->flag_values[i], diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    *out_config = config;
    return ATTEST_OK;
}

ATTEST_MUST_USE static attest_err open_store(const attestd_config *config, bool read_only,
                                             attestd_store **out_store, attest_diag *diag)
{
    char path[ATTESTD_CONFIG_PATH_MAX_SIZE + 32];
    int length = snprintf(path, sizeof(path), "%s/attestd.db", config->data_dir);
    if (length < 0 || (size_t)length >= sizeof(path)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "data_dir is too long");
    }
    attestd_sqlite_options sqlite_options = {
        .synchronous = config->sqlite_synchronous,
        .connection_count = config->threads,
        .read_only = read_only,
    };
    return attestd_store_open_sqlite(path, &sqlite_options, out_store, diag);
}

static void log_error(const char *event, attest_err err, const attest_diag *diag)
{
    attestd_log("error", event,
                json_pack("{s:s, s:s}", "error", attest_err_code(err), "message",
                          diag->message[0] != '\0' ? diag->message : attest_err_message(err)));
}

static int run_init(const attestd_config *config)
{
    attest_diag diag = {{0}};
    if (mkdir(config->data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "attestd: cannot create data folder %s: %s\n", config->data_dir,
                strerror(errno));
        return 1;
    }
    attestd_store *store = NULL;
    attest_err err = open_store(config, false, &store, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attestd: opening the database in %s failed: %s (%s)\n", config->data_dir,
                diag.message, attest_err_code(err));
        return 1;
    }

    char key[ATTESTD_API_KEY_TEXT_SIZE + 1];
    if (attestd_api_key_generate(key) != ATTEST_OK) {
        attestd_store_close(store);
        fprintf(stderr, "attestd: generating a random key failed\n");
        return 1;
    }
    int64_t id = 0;
    err = attestd_store_initialize(store, FIRST_KEY_NAME, key, time(NULL), &id, &diag);
    attestd_store_close(store);
    if (err == ATTEST_ERR_STORE_INITIALIZED) {
        OPENSSL_cleanse(key, sizeof(key));
        fprintf(stderr,
                "attestd: %s/attestd.db is already initialized; create more keys with "
                "POST /v1/keys\n",
                config->data_dir);
        return 1;
    }
    if (err != ATTEST_OK) {
        OPENSSL_cleanse(key, sizeof(key));
        fprintf(stderr, "attestd: initializing the database failed: %s (%s)\n", diag.message,
                attest_err_code(err));
        return 1;
    }

    printf("%s\n", key);
    fflush(stdout);
    OPENSSL_cleanse(key, sizeof(key));
    fprintf(stderr,
            "attestd: created %s/attestd.db; the line above is the administrator API key "
            "'" FIRST_KEY_NAME "', shown only this once\n",
            config->data_dir);
    return 0;
}

/* Opens the attestation state: nonce secret, signing keys, collateral source, roots. */
static attest_err open_service(const attestd_config *config, attestd_store *store,
                               attestd_service **out_service, attest_diag *diag)
{
    attestd_service_options options;
    attestd_service_options_init(&options);
    options.data_dir = config->data_dir;
    options.collateral_path = config->collateral_path;
    options.pccs_url = config->pccs_url;
    options.pccs_ca_file = config->pccs_ca_file[0] != '\0' ? config->pccs_ca_file : NULL;
    options.collateral_refresh_seconds = config->collateral_refresh_seconds;
    options.pccs_update = strcmp(config->pccs_update, "early") == 0      ? ATTEST_PCCS_UPDATE_EARLY
                          : strcmp(config->pccs_update, "standard") == 0 ? ATTEST_PCCS_UPDATE_STANDARD
                                                                          : ATTEST_PCCS_UPDATE_DEFAULT;
    options.pccs_intel_root_ca_crl = config->pccs_intel_root_ca_crl;
    if (config->trust_root[0] != '\0') {
        options.trust_roots[0] = config->trust_root;
        options.trust_root_count = 1;
    }
    attest_err err = attest_token_alg_parse(config->token_algorithm, &options.token_alg);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err, "token_algorithm '%s' is unknown", config->token_algorithm);
    }
    snprintf(options.issuer, sizeof(options.issuer), "%s", config->issuer);
    options.nonce_lifetime_seconds = config->nonce_lifetime_seconds;
    options.max_token_lifetime_seconds = config->max_token_lifetime_seconds;
    err = attestd_service_open(&options, store, out_service, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (config->trust_root[0] != '\0') {
        /* Evidence that chains to this root is marked simulated in every report and token. */
        attestd_log("warning", "trust_root_added",
                    json_pack("{s:s}", "trust_root", config->trust_root));
    }
    if (config->collateral_path[0] == '\0' && config->pccs_url[0] == '\0') {
        attestd_log("warning", "collateral_not_configured",
                    json_pack("{s:s}", "message",
                              "neither collateral_path nor pccs_url is set, so every attestation "
                              "fails with collateral_missing"));
    }
    return ATTEST_OK;
}

static json_t *limits_json(const attestd_limits *limits)
{
    return json_pack(
        "{s:I, s:I, s:I, s:i, s:f, s:i}", "max_body_size", (json_int_t)limits->max_body_size,
        "max_unauthenticated_body_size", (json_int_t)limits->max_unauthenticated_body_size,
        "max_evidence_size", (json_int_t)limits->max_evidence_size, "max_json_depth",
        (int)limits->max_json_depth, "rate_limit_per_second", limits->rate_limit_per_second,
        "rate_limit_burst", (int)limits->rate_limit_burst);
}

static void log_start(const attestd_config *config)
{
    json_t *fields =
        json_pack("{s:s, s:i, s:s, s:s, s:b, s:b, s:i, s:i, s:s, s:o}", "listen_address",
                  config->listen_address, "listen_port", (int)config->listen_port, "data_dir",
                  config->data_dir, "transport", config->insecure_http ? "http" : "https",
                  "insecure_http", config->insecure_http, "read_only", config->read_only, "threads",
                  (int)config->threads, "max_connections", (int)config->max_connections,
                  "sqlite_synchronous", attestd_config_synchronous_name(config->sqlite_synchronous),
                  "limits", limits_json(&config->limits));
    attestd_log("info", "start", fields);
    if (config->insecure_http) {
        attestd_log("warning", "insecure_http",
                    json_pack("{s:s}", "message",
                              "serving plain HTTP without TLS: API keys and tokens cross the "
                              "network in clear"));
    }
}

/*
 * Deletes consumed nonces and cached collateral whose expiry has passed, so
 * the database does not grow with every attestation. An expired nonce is
 * rejected by its MAC check, so its row is no longer needed against replay.
 */
static void purge_expired(attestd_store *store, const attestd_config *config, time_t now)
{
    uint64_t nonces = 0;
    uint64_t collateral = 0;
    attest_diag diag = {{0}};
    /*
     * A request checks its nonce's expiry before its insert waits for the
     * write lock, so a row is kept well past its expiry: deleted at once, a
     * replay waiting in between would find no row and be accepted. The
     * default delay of 300 s is far longer than SQLite's busy timeout (5 s).
     */
    attest_err err = attestd_store_nonce_purge(
        store, (int64_t)now - (int64_t)config->nonce_purge_delay_seconds, &nonces, &diag);
    if (err == ATTEST_OK) {
        err = attestd_store_collateral_purge(store, (int64_t)now, &collateral, &diag);
    }
    if (err != ATTEST_OK) {
        log_error("purge_failed", err, &diag);
        return;
    }
    if (nonces > 0 || collateral > 0) {
        attestd_log("info", "purged",
                    json_pack("{s:I, s:I}", "nonces", (json_int_t)nonces, "collateral_entries",
                              (json_int_t)collateral));
    }
}

/* Reloads the configuration on SIGHUP; settings that need a restart are logged, not applied. */
static void reload(const options *opts, attestd_config *running, attestd_server *server,
                   attestd_service *service)
{
    attest_diag diag = {{0}};
    attest_err keys = attestd_service_reload_keys(service, time(NULL), &diag);
    if (keys != ATTEST_OK) {
        log_error("signing_keys_reload_failed", keys, &diag);
    }
    attestd_config config;
    attest_err err = load_config(opts, &config, &diag);
    if (err != ATTEST_OK) {
        log_error("config_reload_failed", err, &diag);
        return;
    }

    attestd_config restart_only = config;
    restart_only.limits = running->limits;
    bool restart_needed = memcmp(&restart_only, running, sizeof(restart_only)) != 0;
    attestd_server_set_limits(server, &config.limits);
    running->limits = config.limits;
    attestd_log("info", "config_reload",
                json_pack("{s:o, s:b}", "limits", limits_json(&config.limits),
                          "restart_needed_for_other_changes", restart_needed));
}

/* Waits until no request is in flight or the drain timeout passes. */
static void drain(attestd_server *server, unsigned timeout_seconds)
{
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    unsigned waited_ms = 0;
    while (attestd_server_in_flight(server) > 0 && waited_ms < timeout_seconds * 1000u) {
        nanosleep(&pause, NULL);
        waited_ms += 20;
    }
    unsigned left = attestd_server_in_flight(server);
    if (left > 0) {
        attestd_log("warning", "drain_timeout",
                    json_pack("{s:i, s:i}", "requests_in_flight", (int)left, "timeout_seconds",
                              (int)timeout_seconds));
    }
}

static int run_serve(const options *opts, const attestd_config *initial)
{
    attestd_config config = *initial;
    attest_diag diag = {{0}};
    attest_err err = attestd_config_check(&config, &diag);
    if (err != ATTEST_OK) {
        log_error("start_failed", err, &diag);
        return 2;
    }

    /* Block the signals before any thread starts, so every thread inherits the mask. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &signals, NULL) != 0) {
        return 1;
    }
    int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
    if (signal_fd < 0) {
        attestd_log("error", "start_failed", json_pack("{s:s}", "message", strerror(errno)));
        return 1;
    }

    /* serve never creates the database: that is attestd init's job, with the first key. */
    char database[ATTESTD_CONFIG_PATH_MAX_SIZE + 32];
    struct stat database_info;
    snprintf(database, sizeof(database), "%s/attestd.db", config.data_dir);
    if (stat(database, &database_info) != 0) {
        close(signal_fd);
        char message[sizeof(database) + 128];
        snprintf(message, sizeof(message),
                 "no database at %s (relative paths start at the working folder): run "
                 "'attestd init --data-dir DIR' first",
                 database);
        attestd_log("error", "start_failed",
                    json_pack("{s:s, s:s}", "error", "store_not_initialized", "message", message));
        return 1;
    }

    attestd_store *store = NULL;
    err = open_store(&config, config.read_only, &store, &diag);
    if (err != ATTEST_OK) {
        close(signal_fd);
        log_error("start_failed", err, &diag);
        return 1;
    }
    attestd_service *service = NULL;
    err = open_service(&config, store, &service, &diag);
    if (err != ATTEST_OK) {
        attestd_store_close(store);
        close(signal_fd);
        log_error("start_failed", err, &diag);
        return 1;
    }
    attestd_server *server = NULL;
    err = attestd_server_start(&config, store, service, &server, &diag);
    if (err != ATTEST_OK) {
        attestd_service_close(service);
        attestd_store_close(store);
        close(signal_fd);
        log_error("start_failed", err, &diag);
        return 1;
    }
    log_start(&config);

    int stop_signal = 0;
    time_t next_purge = time(NULL) + (time_t)config.purge_interval_seconds;
    while (stop_signal == 0) {
        /* Wake for a signal, or to purge what expired, which nothing else deletes. */
        time_t now = time(NULL);
        if (now >= next_purge) {
            purge_expired(store, &config, now);
            next_purge = now + (time_t)config.purge_interval_seconds;
        }
        struct pollfd ready = {.fd = signal_fd, .events = POLLIN};
        int polled = poll(&ready, 1, (int)(next_purge - now) * 1000);
        if (polled == 0 || (polled < 0 && errno == EINTR)) {
            continue;
        }
        struct signalfd_siginfo info;
        ssize_t size = read(signal_fd, &info, sizeof(info));
        if (size != (ssize_t)sizeof(info)) {
            if (size < 0 && errno == EINTR) {
                continue;
            }
            attestd_log("error", "signal_read_failed",
                        json_pack("{s:s}", "message", strerror(errno)));
            stop_signal = SIGTERM;
            break;
        }
        if (info.ssi_signo == SIGHUP) {
            reload(opts, &config, server, service);
        } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
            stop_signal = (int)info.ssi_signo;
        }
    }

    attestd_log("info", "stopping",
                json_pack("{s:s, s:i}", "signal", stop_signal == SIGINT ? "SIGINT" : "SIGTERM",
                          "requests_in_flight", (int)attestd_server_in_flight(server)));
    attestd_server_quiesce(server);
    drain(server, config.drain_timeout_seconds);
    attestd_server_stop(server);
    attestd_service_close(service);
    attestd_store_close(store);
    close(signal_fd);
    attestd_log_flush();
    attestd_log("info", "stop", NULL);
    return 0;
}

int main(int argc, char **argv)
{
    options opts;
    if (!parse_options(argc, argv, &opts)) {
        return 2;
    }
    attestd_config config;
    attest_diag diag = {{0}};
    attest_err err = load_config(&opts, &config, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attestd: invalid configuration: %s\n", diag.message);
        return 2;
    }

    if (strcmp(opts.command, "init") == 0) {
        return run_init(&config);
    }
    return run_serve(&opts, &config);
}
