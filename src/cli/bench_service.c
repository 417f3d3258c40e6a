/*
 * attest bench service: nonce + attest round trips against attestd over
 * keep-alive connections, with simulated SGX evidence.
 *
 * Without --url it starts its own attestd on a free loopback port, with a
 * temporary data folder, a simulated platform whose root attestd trusts, an
 * application and a policy, and stops it afterwards. It also measures the
 * library's cached verification rate of the same quote in the same run, so
 * the service rate compares as a ratio.
 *
 * Each round trip requests a nonce, quotes a simulated enclave whose report
 * data binds it, and sends both, so the service issues, checks and consumes
 * a nonce, verifies, checks the binding, appraises, writes the audit record
 * and signs a token every time. With --url the quotes come from the
 * simulated platform of --sim-dir, whose root that attestd must trust.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include <attest/attest.h>

#include "cli.h"
#include "util/base64.h"
#include "util/hex.h"

#define MAX_CONNECTIONS 1024
#define ACCEPTED_PREFIX "{\"verdict\":\"accepted\","
#define MRENCLAVE_HEX "4242424242424242424242424242424242424242424242424242424242424242"

typedef struct bench_config {
    const char *url;
    const char *sim_dir; /* with --url: the platform that quotes */
    const char *attestd;
    unsigned connections;
    double seconds;
    bool json;
} bench_config;

typedef struct bench_shared {
    const char *base_url;
    const char *application;
    const char *platform_dir; /* simulated platform that quotes per round trip */
    double deadline;
} bench_shared;

typedef struct bench_worker {
    pthread_t thread;
    const bench_shared *shared;
    unsigned long round_trips;
    unsigned long errors;
    double *latencies; /* seconds per round trip */
    size_t latency_count;
    size_t latency_capacity;
    char first_error[256];
} bench_worker;

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A response body, capped so a broken server cannot exhaust memory. */
typedef struct body_buffer {
    char data[64 * 1024];
    size_t size;
    bool overflow;
} body_buffer;

static size_t body_write(char *data, size_t size, size_t count, void *context)
{
    body_buffer *body = context;
    size_t total = size * count;
    if (total > sizeof(body->data) - 1 - body->size) {
        body->overflow = true;
        return 0;
    }
    memcpy(body->data + body->size, data, total);
    body->size += total;
    body->data[body->size] = '\0';
    return total;
}

/* POSTs json_body to base_url + path on handle; returns the HTTP status, or 0 on failure. */
static long http_post(CURL *handle, const char *base_url, const char *path, const char *json_body,
                      const char *api_key, body_buffer *out)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", base_url, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    char authorization[160];
    if (api_key != NULL) {
        snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", api_key);
        headers = curl_slist_append(headers, authorization);
    }
    out->size = 0;
    out->overflow = false;
    out->data[0] = '\0';
    curl_easy_setopt(handle, CURLOPT_URL, url);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, json_body != NULL ? json_body : "");
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, out);
    CURLcode result = curl_easy_perform(handle);
    curl_slist_free_all(headers);
    long status = 0;
    if (result == CURLE_OK) {
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    }
    return status;
}

static CURL *http_handle(void)
{
    CURL *handle = curl_easy_init();
    if (handle != NULL) {
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
    }
    return handle;
}

static void worker_error(bench_worker *worker, const char *format, const char *detail)
{
    worker->errors++;
    if (worker->first_error[0] == '\0') {
        snprintf(worker->first_error, sizeof(worker->first_error), format, detail);
    }
}

/* Quotes a simulated enclave whose report data binds the nonce, as base64 into out. */
static bool quote_for_nonce(attest_sim_platform *platform, const char *nonce_value, char **out)
{
    uint8_t nonce[ATTEST_NONCE_SIZE];
    attest_sim_quote_options options;
    attest_sim_quote_options_init(&options, ATTEST_SIM_SGX);
    memset(options.mr_enclave, 0x42, sizeof(options.mr_enclave));
    if (nonce_value == NULL ||
        attest_hex_decode_exact(nonce_value, strlen(nonce_value), nonce, sizeof(nonce)) != ATTEST_OK ||
        attest_report_data_bind(nonce, NULL, 0, options.report_data) != ATTEST_OK) {
        return false;
    }
    uint8_t *quote = NULL;
    size_t size = 0;
    if (attest_sim_quote(platform, &options, &quote, &size, NULL) != ATTEST_OK) {
        return false;
    }
    *out = attest_base64_encode(quote, size);
    free(quote);
    return *out != NULL;
}

static void *worker_run(void *argument)
{
    bench_worker *worker = argument;
    const bench_shared *shared = worker->shared;
    CURL *handle = http_handle();
    body_buffer *body = malloc(sizeof(*body));
    size_t request_capacity = 64 * 1024;
    char *request = malloc(request_capacity);
    attest_sim_platform *platform = NULL;
    if (handle == NULL || body == NULL || request == NULL) {
        worker_error(worker, "%s", "out of memory");
        goto out;
    }
    if (attest_sim_platform_open(shared->platform_dir, &platform, NULL) != ATTEST_OK) {
        worker_error(worker, "cannot open the simulated platform %s", shared->platform_dir);
        goto out;
    }

    while (monotonic_seconds() < shared->deadline) {
        double start = monotonic_seconds();
        long status = http_post(handle, shared->base_url, "/v1/nonce", NULL, NULL, body);
        json_error_t error;
        json_t *reply = status == 200 ? json_loads(body->data, 0, &error) : NULL;
        const char *nonce = json_string_value(json_object_get(reply, "nonce"));
        char *evidence = NULL;
        if (nonce == NULL ||
            !quote_for_nonce(platform, json_string_value(json_object_get(reply, "value")),
                             &evidence)) {
            worker_error(worker, "POST /v1/nonce or quoting failed: %.100s", body->data);
            json_decref(reply);
            continue;
        }
        int length = snprintf(request, request_capacity,
                              "{\"application\":\"%s\",\"evidence\":\"%s\",\"nonce\":\"%s\"}",
                              shared->application, evidence, nonce);
        free(evidence);
        json_decref(reply);
        if (length < 0 || (size_t)length >= request_capacity) {
            worker_error(worker, "%s", "evidence too large for the request buffer");
            continue;
        }

        status = http_post(handle, shared->base_url, "/v1/attest", request, NULL, body);
        /*
         * The verdict is the response's first member and the token one of
         * its last. Matching them spares parsing the whole report, because
         * that cost would count against the service.
         */
        bool accepted = status == 200 &&
                        strncmp(body->data, ACCEPTED_PREFIX, strlen(ACCEPTED_PREFIX)) == 0 &&
                        strstr(body->data, "\"token\":\"ey") != NULL;
        if (!accepted) {
            const char *failure = strstr(body->data, "\"failure\"");
            worker_error(worker, "POST /v1/attest was not accepted: %.200s",
                         failure != NULL ? failure : body->data);
            continue;
        }

        double latency = monotonic_seconds() - start;
        if (worker->latency_count == worker->latency_capacity) {
            size_t capacity = worker->latency_capacity == 0 ? 4096 : worker->latency_capacity * 2;
            double *grown = realloc(worker->latencies, capacity * sizeof(*grown));
            if (grown == NULL) {
                worker_error(worker, "%s", "out of memory");
                break;
            }
            worker->latencies = grown;
            worker->latency_capacity = capacity;
        }
        worker->latencies[worker->latency_count++] = latency;
        worker->round_trips++;
    }

out:
    attest_sim_platform_free(platform);
    free(request);
    free(body);
    if (handle != NULL) {
        curl_easy_cleanup(handle);
    }
    return NULL;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- the attestd started for the run ---- */

typedef struct local_service {
    char dir[64];
    char url[64];
    char admin_key[128];
    pid_t pid;
    attest_sim_platform *platform;
    uint8_t *quote;
    size_t quote_size;
    attest_collateral collateral;
} local_service;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&address, sizeof(address)) == 0 &&
        getsockname(fd, (struct sockaddr *)&address, &length) == 0) {
        port = ntohs(address.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

/* Finds attestd beside this attest binary (BUILD/src/cli/attest → BUILD/src/attestd/attestd). */
static void attestd_path_default(char *out, size_t size)
{
    char self[2048];
    ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (length <= 0) {
        snprintf(out, size, "attestd");
        return;
    }
    self[length] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    snprintf(out, size, "%s/../attestd/attestd", self);
}

static int run_capture(const char *command, char *out, size_t size)
{
    FILE *pipe = popen(command, "r");
    if (pipe == NULL) {
        return -1;
    }
    size_t count = fread(out, 1, size - 1, pipe);
    out[count] = '\0';
    int status = pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool write_file(const char *path, const char *text, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        return false;
    }
    bool written = fwrite(text, 1, size, file) == size;
    return fclose(file) == 0 && written;
}

/* Prepares the platform, evidence, collateral, database and admin key, then starts attestd. */
static int local_service_start(local_service *service, const char *attestd, attest_diag *diag)
{
    snprintf(service->dir, sizeof(service->dir), "/tmp/attest-bench-XXXXXX");
    if (mkdtemp(service->dir) == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot create a temporary folder: %s",
                               strerror(errno));
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/platform", service->dir);
    attest_err err = attest_sim_platform_init(path, diag);
    if (err == ATTEST_OK) {
        err = attest_sim_platform_open(path, &service->platform, diag);
    }
    if (err != ATTEST_OK) {
        return err;
    }

    attest_sim_quote_options quote_options;
    attest_sim_quote_options_init(&quote_options, ATTEST_SIM_SGX);
    memset(quote_options.mr_enclave, 0x42, sizeof(quote_options.mr_enclave));
    err = attest_sim_quote(service->platform, &quote_options, &service->quote, &service->quote_size,
                           diag);
    attest_sim_collateral_options collateral_options;
    attest_sim_collateral_options_init(&collateral_options, ATTEST_SIM_SGX, time(NULL));
    if (err == ATTEST_OK) {
        err = attest_sim_collateral(service->platform, &collateral_options, &service->collateral,
                                    diag);
    }
    char *bundle = NULL;
    if (err == ATTEST_OK) {
        err = attest_sim_collateral_to_bundle(&service->collateral, &bundle, diag);
    }
    char collateral_path[256];
    snprintf(collateral_path, sizeof(collateral_path), "%s/collateral.json", service->dir);
    if (err == ATTEST_OK && !write_file(collateral_path, bundle, strlen(bundle))) {
        err = attest_diag_set(diag, ATTEST_ERR_IO, "cannot write %s", collateral_path);
    }
    free(bundle);
    if (err != ATTEST_OK) {
        return err;
    }

    char command[4096];
    int command_length = snprintf(command, sizeof(command), "'%s' init --data-dir '%s/data' 2>&1",
                                  attestd, service->dir);
    if (command_length < 0 || (size_t)command_length >= sizeof(command) || strchr(attestd, '\'') != NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "attestd path is too long or has a quote");
    }
    if (run_capture(command, service->admin_key, sizeof(service->admin_key)) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "%s init failed: %.100s", attestd,
                               service->admin_key);
    }
    service->admin_key[strcspn(service->admin_key, "\r\n")] = '\0';

    int port = free_port();
    if (port <= 0) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "no free loopback port");
    }
    snprintf(service->url, sizeof(service->url), "http://127.0.0.1:%d", port);
    char config[2048];
    int length = snprintf(config, sizeof(config),
                          "{\"insecure_http\": true, \"listen_address\": \"127.0.0.1\", "
                          "\"listen_port\": %d, \"data_dir\": \"%s/data\", "
                          "\"collateral_path\": \"%s\", \"trust_root\": \"%s/platform/root-ca.der\", "
                          "\"max_connections\": %d, \"max_connections_per_client\": 0, "
                          "\"rate_limit_per_second\": 1000000, "
                          "\"rate_limit_burst\": 1000000}",
                          port, service->dir, collateral_path, service->dir, MAX_CONNECTIONS);
    snprintf(path, sizeof(path), "%s/attestd.json", service->dir);
    if (length <= 0 || (size_t)length >= sizeof(config) || !write_file(path, config, (size_t)length)) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "cannot write %s", path);
    }

    char log_path[256];
    snprintf(log_path, sizeof(log_path), "%s/attestd.log", service->dir);
    service->pid = fork();
    if (service->pid < 0) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "fork failed: %s", strerror(errno));
    }
    if (service->pid == 0) {
        FILE *log = freopen(log_path, "w", stderr);
        (void)log;
        execl(attestd, attestd, "serve", "--config", path, (char *)NULL);
        _exit(127);
    }

    /* Wait until /healthz returns 200. */
    CURL *handle = http_handle();
    body_buffer *body = malloc(sizeof(*body));
    bool ready = false;
    for (int i = 0; i < 200 && handle != NULL && body != NULL && !ready; i++) {
        char url[128];
        snprintf(url, sizeof(url), "%s/healthz", service->url);
        curl_easy_setopt(handle, CURLOPT_URL, url);
        curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, body_write);
        body->size = 0;
        curl_easy_setopt(handle, CURLOPT_WRITEDATA, body);
        long status = 0;
        if (curl_easy_perform(handle) == CURLE_OK) {
            curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        }
        ready = status == 200;
        if (!ready) {
            struct timespec pause = {0, 50 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }

    /* An application whose active policy accepts this simulated enclave. */
    long created = 0;
    long put = 0;
    long activated = 0;
    if (ready) {
        created = http_post(handle, service->url, "/v1/applications", "{\"name\":\"bench\"}",
                            service->admin_key, body);
        curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "PUT");
        char url[160];
        snprintf(url, sizeof(url), "%s/v1/applications/bench/policies", service->url);
        const char *policy = "{\"evidence_types\":[\"sgx\"],\"sgx\":{\"mrenclave\":[\"" MRENCLAVE_HEX
                             "\"]},\"simulated_allowed\":true,\"nonce_required\":true}";
        struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
        char authorization[160];
        snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", service->admin_key);
        headers = curl_slist_append(headers, authorization);
        curl_easy_setopt(handle, CURLOPT_URL, url);
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(handle, CURLOPT_POSTFIELDS, policy);
        body->size = 0;
        if (curl_easy_perform(handle) == CURLE_OK) {
            curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &put);
        }
        curl_slist_free_all(headers);
        curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, NULL);
        activated = http_post(handle, service->url, "/v1/applications/bench/policies/1/activate", NULL,
                              service->admin_key, body);
    }
    if (handle != NULL) {
        curl_easy_cleanup(handle);
    }
    free(body);
    if (!ready) {
        return attest_diag_set(diag, ATTEST_ERR_IO, "attestd did not start; see %s", log_path);
    }
    if (created != 201 || (put != 200 && put != 201) || activated != 200) {
        return attest_diag_set(diag, ATTEST_ERR_IO,
                               "setting up the application failed (HTTP %ld, %ld, %ld); see %s",
                               created, put, activated, log_path);
    }
    return ATTEST_OK;
}

/* CPU seconds (user + system) that pid has used, or -1. */
static double cpu_seconds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        return -1;
    }
    char line[1024];
    double result = -1;
    if (fgets(line, sizeof(line), file) != NULL) {
        /* Fields 14 and 15 (utime, stime) follow the command name in parentheses. */
        const char *cursor = strrchr(line, ')');
        unsigned long utime = 0;
        unsigned long stime = 0;
        if (cursor != NULL &&
            sscanf(cursor + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                   &stime) == 2) {
            result = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
        }
    }
    fclose(file);
    return result;
}

/* Peak resident memory of pid in KiB (VmHWM), or -1. */
static long peak_rss_kib(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        return -1;
    }
    char line[256];
    long value = -1;
    while (fgets(line, sizeof(line), file) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            value = strtol(line + 6, NULL, 10);
        }
    }
    fclose(file);
    return value;
}

static void local_service_stop(local_service *service)
{
    if (service->pid > 0) {
        kill(service->pid, SIGTERM);
        int status = 0;
        waitpid(service->pid, &status, 0);
        service->pid = 0;
    }
    attest_sim_platform_free(service->platform);
    attest_collateral_clear(&service->collateral);
    free(service->quote);
    if (service->dir[0] != '\0') {
        char command[128];
        snprintf(command, sizeof(command), "rm -rf '%s'", service->dir);
        if (system(command) != 0) {
            fprintf(stderr, "attest bench service: could not remove %s\n", service->dir);
        }
    }
}

/* The library's cached verification rate of quote with collateral, trusting root_der. */
static double library_cached_rate(const local_service *service, double seconds)
{
    char root[256];
    snprintf(root, sizeof(root), "%s/platform/root-ca.der", service->dir);
    attest_verifier *verifier = NULL;
    attest_report *report = malloc(sizeof(*report));
    double rate = -1;
    if (report != NULL && attest_verifier_new(&verifier) == ATTEST_OK &&
        attest_verifier_add_root_file(verifier, root, NULL) == ATTEST_OK) {
        time_t now = time(NULL);
        attest_err err = attest_verify_quote(verifier, service->quote, service->quote_size,
                                             &service->collateral, now, NULL, report);
        long count = 0;
        double start = monotonic_seconds();
        while (err == ATTEST_OK && monotonic_seconds() - start < seconds) {
            for (int i = 0; i < 64 && err == ATTEST_OK; i++) {
                err = attest_verify_quote(verifier, service->quote, service->quote_size,
                                          &service->collateral, now, NULL, report);
                count++;
            }
        }
        rate = err == ATTEST_OK ? (double)count / (monotonic_seconds() - start) : -1;
    }
    attest_verifier_free(verifier);
    free(report);
    return rate;
}

static void bench_service_usage(FILE *out)
{
    fprintf(out,
            "usage: attest bench service [--url URL --sim-dir DIR] [--connections N] [--seconds S]\n"
            "                            [--json] [--attestd PATH]\n"
            "\n"
            "  --url URL          an attestd to measure, with an application \"bench\" whose\n"
            "                     active policy accepts simulated SGX quotes of MRENCLAVE\n"
            "                     42...42 from --sim-dir; without it, starts its own attestd on\n"
            "                     a free loopback port and stops it afterwards\n"
            "  --sim-dir DIR      with --url: the simulated platform whose root that attestd\n"
            "                     trusts (default: $ATTEST_SIM_DIR)\n"
            "  --connections N    keep-alive connections, one thread each (default 8, at most %d)\n"
            "  --seconds S        duration of the measurement (default 5)\n"
            "  --attestd PATH     attestd binary (default: beside this attest binary)\n"
            "  --json             print one JSON object\n",
            MAX_CONNECTIONS);
}

int cli_bench_service(int argc, char **argv)
{
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},      {"connections", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},  {"attestd", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
        {"sim-dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    bench_config config = {NULL, getenv("ATTEST_SIM_DIR"), NULL, 8, 5.0, false};
    char attestd[2560];
    attestd_path_default(attestd, sizeof(attestd));
    config.attestd = attestd;

    optind = 1;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char *end = NULL;
        switch (option) {
        case 'u':
            config.url = optarg;
            break;
        case 'c': {
            long value = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || value < 1 || value > MAX_CONNECTIONS) {
                fprintf(stderr, "attest bench service: --connections \"%s\" must be 1 to %d\n",
                        optarg, MAX_CONNECTIONS);
                return CLI_EXIT_USAGE;
            }
            config.connections = (unsigned)value;
            break;
        }
        case 's':
            config.seconds = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(config.seconds > 0 && config.seconds <= 600)) {
                fprintf(stderr,
                        "attest bench service: --seconds \"%s\" must be a number above 0 and at "
                        "most 600\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'a':
            config.attestd = optarg;
            break;
        case 'd':
            config.sim_dir = optarg;
            break;
        case 'j':
            config.json = true;
            break;
        case 'h':
            bench_service_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            bench_service_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    local_service service;
    memset(&service, 0, sizeof(service));
    attest_diag diag = {{0}};
    double library_rate = -1;
    if (config.url == NULL) {
        attest_err err = local_service_start(&service, config.attestd, &diag);
        if (err != ATTEST_OK) {
            fprintf(stderr, "attest bench service: %s\n", diag.message);
            local_service_stop(&service);
            curl_global_cleanup();
            return CLI_EXIT_INVALID;
        }
        config.url = service.url;
        library_rate = library_cached_rate(&service, config.seconds < 2 ? config.seconds : 2);
    } else if (config.sim_dir == NULL || config.sim_dir[0] == '\0') {
        fprintf(stderr, "attest bench service: with --url, --sim-dir DIR (or ATTEST_SIM_DIR) must "
                        "name the simulated platform whose root that attestd trusts\n");
        curl_global_cleanup();
        return CLI_EXIT_USAGE;
    }

    char platform_dir[96];
    if (service.pid > 0) {
        snprintf(platform_dir, sizeof(platform_dir), "%s/platform", service.dir);
    }
    bench_shared shared = {config.url, "bench", service.pid > 0 ? platform_dir : config.sim_dir,
                           0};
    bench_worker *workers = calloc(config.connections, sizeof(*workers));
    if (workers == NULL) {
        fprintf(stderr, "attest bench service: out of memory\n");
        if (service.pid > 0 || service.dir[0] != '\0') {
            local_service_stop(&service);
        }
        curl_global_cleanup();
        return CLI_EXIT_INVALID;
    }
    double server_cpu_before = service.pid > 0 ? cpu_seconds(service.pid) : -1;
    double start = monotonic_seconds();
    shared.deadline = start + config.seconds;
    unsigned started = 0;
    for (; started < config.connections; started++) {
        workers[started].shared = &shared;
        if (pthread_create(&workers[started].thread, NULL, worker_run, &workers[started]) != 0) {
            break;
        }
    }
    unsigned long round_trips = 0;
    unsigned long errors = 0;
    size_t latency_count = 0;
    const char *first_error = "";
    for (unsigned i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        round_trips += workers[i].round_trips;
        errors += workers[i].errors;
        latency_count += workers[i].latency_count;
        if (first_error[0] == '\0' && workers[i].first_error[0] != '\0') {
            first_error = workers[i].first_error;
        }
    }
    double elapsed = monotonic_seconds() - start;
    long rss = service.pid > 0 ? peak_rss_kib(service.pid) : -1;
    double server_cpu = service.pid > 0 ? cpu_seconds(service.pid) - server_cpu_before : -1;
    double server_cpu_ms = round_trips > 0 && server_cpu >= 0 ? 1000 * server_cpu / (double)round_trips
                                                              : -1;

    double *latencies = malloc((latency_count > 0 ? latency_count : 1) * sizeof(*latencies));
    size_t filled = 0;
    for (unsigned i = 0; i < started && latencies != NULL; i++) {
        if (workers[i].latency_count == 0) {
            continue;
        }
        memcpy(latencies + filled, workers[i].latencies, workers[i].latency_count * sizeof(double));
        filled += workers[i].latency_count;
    }
    double p50 = 0;
    double p99 = 0;
    if (latencies != NULL && filled > 0) {
        qsort(latencies, filled, sizeof(*latencies), compare_doubles);
        p50 = latencies[(size_t)(0.50 * (double)(filled - 1))] * 1000;
        p99 = latencies[(size_t)(0.99 * (double)(filled - 1))] * 1000;
    }
    double rate = (double)round_trips / elapsed;

    if (config.json) {
        printf("{\"connections\": %u, \"seconds\": %.1f, \"attestations\": %lu, \"errors\": %lu, "
               "\"attestations_per_second\": %.0f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
               "\"library_cached_per_second\": %.0f, \"ratio_to_library\": %.3f, "
               "\"attestd_peak_rss_kib\": %ld, \"attestd_cpu_ms_per_attestation\": %.3f}\n",
               started, elapsed, round_trips, errors, rate, p50, p99, library_rate,
               library_rate > 0 ? rate / library_rate : 0, rss, server_cpu_ms);
    } else {
        printf("connections %u, %.1f s: %lu attestations, %lu errors\n", started, elapsed,
               round_trips, errors);
        printf("attestations per second  %10.0f\n", rate);
        printf("latency p50 / p99        %10.2f / %.2f ms\n", p50, p99);
        if (library_rate > 0) {
            printf("library cached per second %9.0f (service at %.3f of it)\n", library_rate,
                   rate / library_rate);
        }
        if (rss > 0) {
            printf("attestd peak resident memory %ld KiB, CPU %.3f ms per attestation\n", rss,
                   server_cpu_ms);
        }
    }
    if (errors > 0) {
        fprintf(stderr, "attest bench service: first error: %s\n", first_error);
    }

    for (unsigned i = 0; i < config.connections; i++) {
        free(workers[i].latencies);
    }
    free(workers);
    free(latencies);
    if (service.pid > 0 || service.dir[0] != '\0') {
        local_service_stop(&service);
    }
    curl_global_cleanup();
    return errors == 0 && round_trips > 0 ? CLI_EXIT_VALID : CLI_EXIT_INVALID;
}
