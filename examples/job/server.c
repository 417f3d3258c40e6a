/*
 * attest-job-server: the server of the demonstration job. Started through
 * attest exec, it waits for --workers workers on one TCP port. To each
 * connection it first sends its own token, then verifies the worker's
 * token, and takes the worker's vector only after accepting that token.
 * Each jti is accepted once, so one token fills at most one worker slot.
 * When every worker has sent its vector, it sends each of them the
 * element-wise sum and exits with 0.
 *
 * Connections are handled one after another, each within
 * --connection-timeout and all within --timeout, so an idle or slow client
 * is dropped after the connection timeout and the server goes on accepting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "job.h"

#define PROGRAM "attest-job-server"
#define MAX_WORKERS 64
#define JWKS_PATH "/.well-known/jwks.json"
#define URL_MAX_SIZE 2048

typedef struct server_options {
    const char *address;
    long port;
    long workers;
    const char *service; /* base URL of attestd */
    const char *jwks_url;
    const char *issuer;
    const char *worker_app;
    const char *ca_file;
    bool insecure_tls;
    int timeout_ms;            /* for the whole job */
    int connection_timeout_ms; /* for one connection, from accept to the vector */
} server_options;

/* A worker whose token was verified and whose vector was added. */
typedef struct worker_slot {
    int fd;
    char peer[64];
    char jti[JOB_JTI_SIZE]; /* of the worker's token, accepted once per job */
} worker_slot;

typedef struct server_state {
    const server_options *options;
    job_relying_party party;
    char *own_token;
    size_t own_token_size;
    worker_slot workers[MAX_WORKERS];
    size_t worker_count;
    int64_t sum[JOB_MAX_NUMBERS];
    size_t number_count; /* of the first vector, which every other one must match */
    int64_t deadline_ms; /* of the whole job, on the monotonic clock */
    uint8_t buffer[ATTEST_TOKEN_MAX_SIZE];
} server_state;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROGRAM " --service URL --workers N [--port PORT] [--address IPV4]\n"
            "       [--jwks URL] [--issuer ISS] [--worker-app ID] [--cacert FILE]\n"
            "       [--insecure-tls] [--timeout SECONDS] [--connection-timeout SECONDS]\n"
            "\n"
            "  --service URL      attestd base URL; the JWKS is URL" JWKS_PATH "\n"
            "  --workers N        workers to wait for, 1 to %d\n"
            "  --port PORT        TCP port; 0 (the default) picks a free one, printed at start\n"
            "  --address IPV4     listening address (default: 127.0.0.1)\n"
            "  --jwks URL         the JWKS URL, instead of the one of --service\n"
            "  --issuer ISS       iss that workers' tokens must have (default: --service URL)\n"
            "  --worker-app ID    sub that workers' tokens must have (default: job-worker)\n"
            "  --cacert FILE      CA certificates for the JWKS fetch (default: system store)\n"
            "  --insecure-tls     do not verify the JWKS server's certificate (insecure)\n"
            "  --timeout SECONDS  wait for all workers, and so the whole job (default: %d)\n"
            "  --connection-timeout SECONDS\n"
            "                     time for one connection, from accept to the worker's vector;\n"
            "                     an idle or slow client is dropped after it (default: %d)\n"
            "\n"
            "Reads its own token from ATTEST_TOKEN_FILE, which attest exec sets.\n"
            "exit status: 0 every worker got the result, 1 otherwise, 2 usage error\n",
            MAX_WORKERS, JOB_DEFAULT_TIMEOUT_SECONDS, JOB_DEFAULT_CONNECTION_TIMEOUT_SECONDS);
}

/* Parses a decimal integer from minimum to maximum; returns -1 when text is not one. */
static int integer_parse(const char *text, long minimum, long maximum, long *out_value)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || value < minimum || value > maximum) {
        return -1;
    }
    *out_value = value;
    return 0;
}

static int options_parse(int argc, char **argv, server_options *out, char *jwks_url)
{
    static const struct option long_options[] = {
        {"service", required_argument, NULL, 's'},  {"workers", required_argument, NULL, 'w'},
        {"port", required_argument, NULL, 'p'},     {"address", required_argument, NULL, 'a'},
        {"jwks", required_argument, NULL, 'j'},     {"issuer", required_argument, NULL, 'i'},
        {"worker-app", required_argument, NULL, 'W'}, {"cacert", required_argument, NULL, 'c'},
        {"insecure-tls", no_argument, NULL, 'k'},   {"timeout", required_argument, NULL, 't'},
        {"connection-timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    *out = (server_options){
        .address = "127.0.0.1",
        .worker_app = "job-worker",
        .timeout_ms = JOB_DEFAULT_TIMEOUT_SECONDS * 1000,
        .connection_timeout_ms = JOB_DEFAULT_CONNECTION_TIMEOUT_SECONDS * 1000,
    };
    int option;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        switch (option) {
        case 's':
            out->service = optarg;
            break;
        case 'w':
            if (integer_parse(optarg, 1, MAX_WORKERS, &out->workers) != 0) {
                fprintf(stderr, PROGRAM ": invalid --workers \"%s\": expected 1 to %d\n", optarg,
                        MAX_WORKERS);
                return -1;
            }
            break;
        case 'p':
            if (integer_parse(optarg, 0, 65535, &out->port) != 0) {
                fprintf(stderr, PROGRAM ": invalid --port \"%s\": expected 0 to 65535\n", optarg);
                return -1;
            }
            break;
        case 'a':
            out->address = optarg;
            break;
        case 'j':
            out->jwks_url = optarg;
            break;
        case 'i':
            out->issuer = optarg;
            break;
        case 'W':
            out->worker_app = optarg;
            break;
        case 'c':
            out->ca_file = optarg;
            break;
        case 'k':
            out->insecure_tls = true;
            break;
        case 't':
            if (job_seconds_parse(optarg, &out->timeout_ms) != 0) {
                fprintf(stderr, PROGRAM ": invalid --timeout \"%s\": expected 1 to 3600 seconds\n",
                        optarg);
                return -1;
            }
            break;
        case 'T':
            if (job_seconds_parse(optarg, &out->connection_timeout_ms) != 0) {
                fprintf(stderr,
                        PROGRAM ": invalid --connection-timeout \"%s\": expected 1 to 3600 "
                                "seconds\n",
                        optarg);
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            fprintf(stderr, PROGRAM ": unknown option or missing value: %s\n", argv[optind - 1]);
            usage(stderr);
            return -1;
        }
    }
    if (out->service == NULL || out->workers == 0 || optind != argc) {
        fprintf(stderr, PROGRAM ": --service and --workers are required, and nothing else\n");
        usage(stderr);
        return -1;
    }
    if (out->jwks_url == NULL) {
        size_t length = strlen(out->service);
        while (length > 0 && out->service[length - 1] == '/') {
            length--;
        }
        int written = snprintf(jwks_url, URL_MAX_SIZE, "%.*s" JWKS_PATH, (int)length, out->service);
        if (written < 0 || written >= URL_MAX_SIZE) {
            fprintf(stderr, PROGRAM ": --service URL is longer than %d bytes\n", URL_MAX_SIZE / 2);
            return -1;
        }
        out->jwks_url = jwks_url;
    }
    if (out->issuer == NULL) {
        out->issuer = out->service;
    }
    return 0;
}

/* Opens the listening socket and prints the address; returns it or -1. */
static int listen_open(const server_options *options)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)options->port)};
    if (inet_pton(AF_INET, options->address, &address.sin_addr) != 1) {
        fprintf(stderr, PROGRAM ": invalid --address \"%s\": expected an IPv4 address\n",
                options->address);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int reuse = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)) != 0 ||
        bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0 ||
        listen(fd, MAX_WORKERS) != 0) {
        fprintf(stderr, PROGRAM ": cannot listen on %s:%ld: %s\n", options->address,
                options->port, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    socklen_t size = sizeof(address);
    if (getsockname(fd, (struct sockaddr *)&address, &size) != 0) {
        fprintf(stderr, PROGRAM ": getsockname failed: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    printf("server: listening on %s:%u for %ld worker%s\n", options->address,
           (unsigned)ntohs(address.sin_port), options->workers, options->workers == 1 ? "" : "s");
    return fd;
}

/* Returns the milliseconds left until deadline (monotonic), at least 0. */
static int remaining_ms(int64_t deadline)
{
    int64_t remaining = deadline - job_monotonic_ms();
    return remaining > 0 ? (int)remaining : 0;
}

/* Sends a rejection to the peer, best effort, since the connection is closed anyway. */
static void reject_send(int fd, const char *reason, int64_t deadline)
{
    char error[JOB_MESSAGE_SIZE];
    size_t size = strnlen(reason, JOB_MAX_REASON_SIZE);
    (void)job_frame_write(fd, JOB_MESSAGE_REJECT, reason, size, remaining_ms(deadline), error);
}

/* Returns the slot of the worker that was accepted with jti, or NULL. */
static const worker_slot *worker_find_jti(const server_state *state, const char *jti)
{
    for (size_t i = 0; i < state->worker_count; i++) {
        if (strcmp(state->workers[i].jti, jti) == 0) {
            return &state->workers[i];
        }
    }
    return NULL;
}

/*
 * Verifies the worker's token in state->buffer (size bytes) and that no
 * other worker of this job was accepted with its jti. Returns 0 with
 * out_summary filled, or -1 after printing why and sending it to the worker.
 */
static int worker_token_check(server_state *state, int fd, const char *peer, size_t size,
                              int64_t deadline, job_token_summary *out_summary)
{
    job_token_summary summary;
    char failure[JOB_MESSAGE_SIZE];
    char printable[JOB_PEER_TEXT_SIZE];
    if (job_token_check(&state->party, (const char *)state->buffer, size, &summary, failure) != 0) {
        job_text_sanitize(failure, strlen(failure), printable);
        printf("server: worker %s rejected: %s\n", peer, printable);
        reject_send(fd, failure, deadline);
        return -1;
    }

    /* A bearer token can be copied: without this, one token could fill every slot. */
    const worker_slot *holder = worker_find_jti(state, summary.jti);
    if (holder != NULL) {
        snprintf(failure, sizeof(failure),
                 "check jti failed: token %s was already used by another worker (%s)",
                 summary.jti, holder->peer);
        printf("server: worker %s rejected: %s\n", peer, failure);
        reject_send(fd, failure, deadline);
        return -1;
    }
    *out_summary = summary;
    return 0;
}

/*
 * Runs the exchange with one connected worker up to its vector, all before
 * deadline (monotonic). Returns 1 when the worker was verified and its
 * vector added (fd stays open and out_jti contains its token's jti), 0 when
 * the worker was rejected or failed (the caller closes fd).
 */
static int worker_serve(server_state *state, int fd, const char *peer, int64_t deadline,
                        char *out_jti)
{
    char error[JOB_MESSAGE_SIZE];
    char printable[JOB_PEER_TEXT_SIZE];
    uint8_t type = 0;
    size_t size = 0;

    /* 1. Our token first, so the worker can verify us before it sends its own. */
    if (job_frame_write(fd, JOB_MESSAGE_TOKEN, state->own_token, state->own_token_size,
                        remaining_ms(deadline), error) != 0) {
        printf("server: worker %s: sending the server's token failed: %s\n", peer, error);
        return 0;
    }

    /* 2. The worker's token, or its rejection of ours. */
    if (job_frame_read(fd, &type, state->buffer, sizeof(state->buffer), &size,
                       remaining_ms(deadline), error) != 0) {
        printf("server: worker %s rejected: no token read: %s\n", peer, error);
        return 0;
    }
    if (type == JOB_MESSAGE_REJECT) {
        job_text_sanitize(state->buffer, size, printable);
        printf("server: worker %s rejected the server's token: %s\n", peer, printable);
        return 0;
    }
    if (type != JOB_MESSAGE_TOKEN) {
        printf("server: worker %s rejected: expected a token message, got type 0x%02x\n", peer,
               type);
        reject_send(fd, "protocol error: expected a token message", deadline);
        return 0;
    }
    job_token_summary summary;
    if (worker_token_check(state, fd, peer, size, deadline, &summary) != 0) {
        return 0;
    }
    printf("server: worker %s verified: application %s, policy %s, TCB %s, token jti %s\n", peer,
           summary.application, summary.policy, summary.tcb_status, summary.jti);

    /* 3. Tell the worker its token was accepted; only then does it send its vector. */
    if (job_frame_write(fd, JOB_MESSAGE_ACCEPT, summary.jti, strlen(summary.jti),
                        remaining_ms(deadline), error) != 0) {
        printf("server: worker %s: sending the acceptance failed: %s\n", peer, error);
        return 0;
    }
    if (job_frame_read(fd, &type, state->buffer, sizeof(state->buffer), &size,
                       remaining_ms(deadline), error) != 0) {
        printf("server: worker %s: no data read: %s\n", peer, error);
        return 0;
    }
    int64_t numbers[JOB_MAX_NUMBERS];
    size_t count = 0;
    if (type != JOB_MESSAGE_DATA ||
        job_numbers_decode(state->buffer, size, numbers, &count, error) != 0) {
        if (type != JOB_MESSAGE_DATA) {
            snprintf(error, sizeof(error), "expected a data message, got type 0x%02x", type);
        }
        printf("server: worker %s: invalid data: %s\n", peer, error);
        reject_send(fd, "protocol error: invalid data message", deadline);
        return 0;
    }

    /* 4. Add the vector to the sum, rejecting a length mismatch or an overflow. */
    if (state->worker_count > 0 && count != state->number_count) {
        printf("server: worker %s: vector of %zu numbers, expected %zu\n", peer, count,
               state->number_count);
        reject_send(fd, "vector length differs from the other workers'", deadline);
        return 0;
    }
    int64_t sum[JOB_MAX_NUMBERS];
    for (size_t i = 0; i < count; i++) {
        int64_t previous = state->worker_count > 0 ? state->sum[i] : 0;
        if (__builtin_add_overflow(previous, numbers[i], &sum[i])) {
            printf("server: worker %s: number %zu overflows the 64-bit sum\n", peer, i + 1);
            reject_send(fd, "a number overflows the 64-bit sum", deadline);
            return 0;
        }
    }
    memcpy(state->sum, sum, count * sizeof(sum[0]));
    state->number_count = count;
    memcpy(out_jti, summary.jti, sizeof(summary.jti));
    char text[256];
    job_numbers_format(numbers, count, text, sizeof(text));
    printf("server: worker %s sent %zu numbers: %s\n", peer, count, text);
    return 1;
}

/*
 * Accepts and serves connections until options->workers have sent their
 * vectors or the job's deadline passes. Each connection gets at most
 * --connection-timeout of it, so an idle client cannot hold the job.
 */
static int workers_gather(server_state *state, int listen_fd)
{
    const server_options *options = state->options;
    while (state->worker_count < (size_t)options->workers) {
        int remaining = remaining_ms(state->deadline_ms);
        if (remaining == 0) {
            fprintf(stderr, PROGRAM ": timed out after %d s with %zu of %ld workers\n",
                    options->timeout_ms / 1000, state->worker_count, options->workers);
            return -1;
        }
        struct pollfd entry = {.fd = listen_fd, .events = POLLIN};
        int ready = poll(&entry, 1, remaining);
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, PROGRAM ": poll failed: %s\n", strerror(errno));
            return -1;
        }
        if (ready <= 0) {
            continue;
        }

        struct sockaddr_in address;
        socklen_t address_size = sizeof(address);
        int fd = accept(listen_fd, (struct sockaddr *)&address, &address_size);
        if (fd < 0) {
            printf("server: accept failed: %s\n", strerror(errno));
            continue;
        }
        char peer[64];
        char host[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &address.sin_addr, host, sizeof(host));
        snprintf(peer, sizeof(peer), "%s:%u", host, (unsigned)ntohs(address.sin_port));

        /* The connection's own deadline, never beyond the job's. */
        int64_t deadline = job_monotonic_ms() + options->connection_timeout_ms;
        if (deadline > state->deadline_ms) {
            deadline = state->deadline_ms;
        }
        worker_slot *slot = &state->workers[state->worker_count];
        if (worker_serve(state, fd, peer, deadline, slot->jti) == 1) {
            slot->fd = fd;
            memcpy(slot->peer, peer, sizeof(peer));
            state->worker_count++;
        } else {
            close(fd);
        }
    }
    return 0;
}

/* Sends the sum to every gathered worker; returns 0 when all of them got it. */
static int result_send(server_state *state)
{
    uint8_t payload[JOB_MAX_NUMBERS * JOB_NUMBER_SIZE];
    job_numbers_encode(state->sum, state->number_count, payload);
    char text[256];
    job_numbers_format(state->sum, state->number_count, text, sizeof(text));
    printf("server: combined the vectors of %zu worker%s: %s\n", state->worker_count,
           state->worker_count == 1 ? "" : "s", text);

    int status = 0;
    for (size_t i = 0; i < state->worker_count; i++) {
        char error[JOB_MESSAGE_SIZE];
        if (job_frame_write(state->workers[i].fd, JOB_MESSAGE_RESULT, payload,
                            state->number_count * JOB_NUMBER_SIZE,
                            state->options->connection_timeout_ms, error) != 0) {
            printf("server: worker %s: sending the result failed: %s\n", state->workers[i].peer,
                   error);
            status = -1;
        }
    }
    if (status == 0) {
        printf("server: sent the result to %zu worker%s\n", state->worker_count,
               state->worker_count == 1 ? "" : "s");
    }
    return status;
}

int main(int argc, char **argv)
{
    /* Line-buffered, so that a log file shows each event when it happens. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    server_options options;
    static char jwks_url[URL_MAX_SIZE];
    if (options_parse(argc, argv, &options, jwks_url) != 0) {
        return 2;
    }

    static server_state state;
    state.options = &options;
    state.own_token = job_own_token_read(PROGRAM, &state.own_token_size);
    if (state.own_token == NULL) {
        return 1;
    }
    int status = 1;
    int listen_fd = -1;
    if (job_relying_party_init(&state.party, PROGRAM, options.jwks_url, options.ca_file,
                               options.insecure_tls, options.issuer, options.worker_app) != 0) {
        goto out;
    }
    listen_fd = listen_open(&options);
    if (listen_fd < 0) {
        goto out;
    }
    state.deadline_ms = job_monotonic_ms() + options.timeout_ms;
    if (workers_gather(&state, listen_fd) == 0 && result_send(&state) == 0) {
        status = 0;
    }

out:
    for (size_t i = 0; i < state.worker_count; i++) {
        close(state.workers[i].fd);
    }
    if (listen_fd >= 0) {
        close(listen_fd);
    }
    job_relying_party_free(&state.party);
    OPENSSL_cleanse(state.own_token, state.own_token_size);
    free(state.own_token);
    return status;
}
