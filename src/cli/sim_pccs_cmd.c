/*
 * attest sim pccs: serves the simulated platform's collateral over the PCCS
 * API version 4 routes (attest_pccs_sim_respond builds each response) with
 * libmicrohttpd, on a loopback address only, until SIGTERM or SIGINT.
 *
 * NOTE: it speaks plain HTTP. It is a test double and binds only to
 * 127.0.0.0/8, so no other host can reach it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include <attest/pccs.h>

#include "cli.h"

#define MAX_QUERY_SIZE 512

static void sim_pccs_usage(FILE *out)
{
    fprintf(out,
            "usage: attest sim pccs --dir DIR --listen 127.0.0.1:PORT [--at SECONDS]\n"
            "                       [--port-file FILE] [--fail-after N]\n"
            "\n"
            "Serves the collateral of the simulated platform in DIR over the PCCS API v4\n"
            "routes (sgx|tdx/certification/v4/tcb, qe/identity, sgx/certification/v4/pckcrl,\n"
            "rootcacrl) on plain HTTP, until SIGTERM or SIGINT.\n"
            "\n"
            "  --listen ADDR:PORT   IPv4 loopback address (127.0.0.0/8) and port; port 0\n"
            "                       picks a free port\n"
            "  --at SECONDS         issue time of the collateral in Unix seconds (default: now)\n"
            "  --port-file FILE     write the port it listens on to FILE once it listens\n"
            "  --fail-after N       test option: answer 503 to every request after the first N\n"
            "\n"
            "It prints the URL it listens on. exit status: 0 stopped by a signal, 2 usage or\n"
            "start-up error\n");
}

/* Parses "A.B.C.D:PORT" with A.B.C.D in 127.0.0.0/8 into out_address. */
static int listen_parse(const char *text, struct sockaddr_in *out_address)
{
    const char *colon = strrchr(text, ':');
    char host[INET_ADDRSTRLEN];
    if (colon == NULL || (size_t)(colon - text) >= sizeof(host)) {
        fprintf(stderr, "attest sim pccs: --listen \"%s\" is not ADDRESS:PORT\n", text);
        return -1;
    }
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';

    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port > 65535) {
        fprintf(stderr, "attest sim pccs: port \"%s\" is not a number from 0 to 65535\n",
                colon + 1);
        return -1;
    }

    struct sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
        fprintf(stderr, "attest sim pccs: \"%s\" is not an IPv4 address\n", host);
        return -1;
    }
    if ((ntohl(address.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr,
                "attest sim pccs: %s is not a loopback address (127.0.0.0/8); the simulated "
                "PCCS listens on loopback only\n",
                host);
        return -1;
    }
    *out_address = address;
    return 0;
}

/* Appends one query parameter to the query text being rebuilt. */
typedef struct query_text {
    char text[MAX_QUERY_SIZE];
    size_t length;
    bool overflow;
} query_text;

static enum MHD_Result query_append(void *context, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    query_text *query = context;
    int written = snprintf(query->text + query->length, sizeof(query->text) - query->length,
                           "%s%s%s%s", query->length == 0 ? "" : "&", key,
                           value == NULL ? "" : "=", value == NULL ? "" : value);
    if (written < 0 || (size_t)written >= sizeof(query->text) - query->length) {
        query->overflow = true;
        return MHD_NO;
    }
    query->length += (size_t)written;
    return MHD_YES;
}

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned status,
                               const char *content_type, const char *header, const char *value,
                               const void *body, size_t size)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(size, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (header != NULL && value != NULL) {
        MHD_add_response_header(response, header, value);
    }
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result request_handle(void *context, struct MHD_Connection *connection,
                                      const char *url, const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **request_state)
{
    (void)version;
    (void)upload_data;
    attest_pccs_sim *sim = context;
    static int first_call_marker;

    /* The first call only announces the request; the body, if any, is not read. */
    if (*request_state == NULL) {
        *request_state = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }

    query_text query;
    memset(&query, 0, sizeof(query));
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, query_append, &query);
    if (query.overflow) {
        static const char message[] = "query is too long\n";
        return respond(connection, 400, "text/plain", NULL, NULL, message, sizeof(message) - 1);
    }

    attest_pccs_response response;
    attest_diag diag = {{0}};
    attest_err err = attest_pccs_sim_respond(sim, method, url, query.text, &response, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest sim pccs: %s %s: %s: %s\n", method, url, attest_err_code(err),
                diag.message);
        static const char message[] = "internal error\n";
        return respond(connection, 500, "text/plain", NULL, NULL, message, sizeof(message) - 1);
    }
    fprintf(stderr, "attest sim pccs: %s %s%s%s -> %u\n", method, url,
            query.length == 0 ? "" : "?", query.text, response.status);
    enum MHD_Result result = respond(connection, response.status, response.content_type,
                                     response.chain_header, response.chain_value, response.body,
                                     response.body_size);
    attest_pccs_response_clear(&response);
    return result;
}

/* Writes the port to path through a temporary file, so a reader never sees a partial number. */
static int port_file_write(const char *path, unsigned port)
{
    char temporary[4096];
    if (snprintf(temporary, sizeof(temporary), "%s.tmp", path) >= (int)sizeof(temporary)) {
        fprintf(stderr, "attest sim pccs: --port-file path is too long\n");
        return -1;
    }
    FILE *file = fopen(temporary, "w");
    if (file == NULL) {
        fprintf(stderr, "attest sim pccs: cannot create %s: %s\n", temporary, strerror(errno));
        return -1;
    }
    bool written = fprintf(file, "%u\n", port) > 0;
    if (fclose(file) != 0 || !written || rename(temporary, path) != 0) {
        fprintf(stderr, "attest sim pccs: writing %s failed: %s\n", path, strerror(errno));
        remove(temporary);
        return -1;
    }
    return 0;
}

typedef struct sim_pccs_args {
    const char *dir;
    const char *listen;
    const char *port_file;
    long long at;
    unsigned fail_after;
} sim_pccs_args;

static int args_parse(int argc, char **argv, sim_pccs_args *out_args)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"at", required_argument, NULL, 't'},
        {"port-file", required_argument, NULL, 'p'},
        {"fail-after", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sim_pccs_args args = {NULL, NULL, NULL, (long long)time(NULL), 0};
    optind = 1;
    int option = 0;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        long long number = 0;
        switch (option) {
        case 'd':
            args.dir = optarg;
            break;
        case 'l':
            args.listen = optarg;
            break;
        case 'p':
            args.port_file = optarg;
            break;
        case 't':
            if (cli_parse_seconds(optarg, &args.at) != 0) {
                fprintf(stderr, "attest sim pccs: --at \"%s\" is not Unix seconds\n", optarg);
                return -1;
            }
            break;
        case 'f':
            if (cli_parse_seconds(optarg, &number) != 0 || number > 1000000000LL) {
                fprintf(stderr,
                        "attest sim pccs: --fail-after \"%s\" is not a number from 0 to "
                        "1000000000\n",
                        optarg);
                return -1;
            }
            args.fail_after = (unsigned)number;
            break;
        case 'h':
            sim_pccs_usage(stdout);
            exit(CLI_EXIT_VALID);
        default:
            sim_pccs_usage(stderr);
            return -1;
        }
    }
    if (optind != argc || args.dir == NULL || args.listen == NULL) {
        fprintf(stderr, "attest sim pccs: --dir and --listen are required, and nothing else\n");
        sim_pccs_usage(stderr);
        return -1;
    }
    *out_args = args;
    return 0;
}

int cli_sim_pccs(int argc, char **argv)
{
    sim_pccs_args args;
    struct sockaddr_in address;
    if (args_parse(argc, argv, &args) != 0 || listen_parse(args.listen, &address) != 0) {
        return CLI_EXIT_USAGE;
    }

    attest_pccs_sim *sim = NULL;
    attest_diag diag = {{0}};
    attest_err err = attest_pccs_sim_new(args.dir, (time_t)args.at, args.fail_after, &sim, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest sim pccs: %s: %s\n", attest_err_code(err), diag.message);
        return CLI_EXIT_USAGE;
    }

    /* Block the stop signals before the server thread starts, so it inherits the mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, request_handle, sim,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "attest sim pccs: cannot listen on %s (in use or not permitted)\n",
                args.listen);
        attest_pccs_sim_free(sim);
        return CLI_EXIT_USAGE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info == NULL ? 0 : info->port;
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &address.sin_addr, host, sizeof(host));

    int status = CLI_EXIT_VALID;
    if (port == 0 || (args.port_file != NULL && port_file_write(args.port_file, port) != 0)) {
        status = CLI_EXIT_USAGE;
    } else {
        printf("http://%s:%u\n", host, port);
        fflush(stdout);
        fprintf(stderr, "attest sim pccs: listening on http://%s:%u (collateral at %lld%s)\n",
                host, port, args.at, args.fail_after > 0 ? ", --fail-after set" : "");
        int signal_number = 0;
        sigwait(&stop_signals, &signal_number);
        fprintf(stderr, "attest sim pccs: stopping on signal %d after %lu requests\n",
                signal_number, attest_pccs_sim_request_count(sim));
    }

    MHD_stop_daemon(daemon);
    attest_pccs_sim_free(sim);
    return status;
}
