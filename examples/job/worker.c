/*
 * attest-job-worker: a worker of the demonstration job. Started through
 * attest exec, it connects to the server and verifies the server's token
 * before it sends its own. Only after the server accepted that token does
 * it send its vector, and it prints the combined result that the server
 * returns, which must have as many numbers as the vector.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "job.h"

#define PROGRAM "attest-job-worker"
#define JWKS_PATH "/.well-known/jwks.json"
#define URL_MAX_SIZE 2048

typedef struct worker_options {
    const char *name;
    char host[256];
    const char *port;
    const char *service;
    const char *jwks_url;
    const char *issuer;
    const char *server_app;
    const char *ca_file;
    bool insecure_tls;
    int timeout_ms;
    int64_t numbers[JOB_MAX_NUMBERS];
    size_t number_count;
} worker_options;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROGRAM " --connect HOST:PORT --service URL --data N,N,...\n"
            "       [--name NAME] [--jwks URL] [--issuer ISS] [--server-app ID]\n"
            "       [--cacert FILE] [--insecure-tls] [--timeout SECONDS]\n"
            "\n"
            "  --connect HOST:PORT  the job server\n"
            "  --service URL        attestd base URL; the JWKS is URL" JWKS_PATH "\n"
            "  --data N,N,...       this worker's vector: 1 to %d signed 64-bit integers\n"
            "  --name NAME          name in this worker's output (default: worker)\n"
            "  --jwks URL           the JWKS URL, instead of the one of --service\n"
            "  --issuer ISS         iss that the server's token must have (default: --service)\n"
            "  --server-app ID      sub that the server's token must have (default: job-server)\n"
            "  --cacert FILE        CA certificates for the JWKS fetch (default: system store)\n"
            "  --insecure-tls       do not verify the JWKS server's certificate (insecure)\n"
            "  --timeout SECONDS    wait for the connection and for each message (default: %d)\n"
            "\n"
            "Reads its own token from ATTEST_TOKEN_FILE, which attest exec sets.\n"
            "exit status: 0 result received, 1 rejected or failed, 2 usage error\n",
            JOB_MAX_NUMBERS, JOB_DEFAULT_TIMEOUT_SECONDS);
}

/* Splits HOST:PORT (the port after the last colon) into out. */
static int connect_parse(const char *text, worker_options *out)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || colon[1] == '\0' ||
        (size_t)(colon - text) >= sizeof(out->host)) {
        fprintf(stderr, PROGRAM ": invalid --connect \"%s\": expected HOST:PORT\n", text);
        return -1;
    }
    memcpy(out->host, text, (size_t)(colon - text));
    out->host[colon - text] = '\0';
    out->port = colon + 1;
    return 0;
}

static int options_parse(int argc, char **argv, worker_options *out, char *jwks_url)
{
    static const struct option long_options[] = {
        {"connect", required_argument, NULL, 'C'},  {"service", required_argument, NULL, 's'},
        {"data", required_argument, NULL, 'd'},     {"name", required_argument, NULL, 'n'},
        {"jwks", required_argument, NULL, 'j'},     {"issuer", required_argument, NULL, 'i'},
        {"server-app", required_argument, NULL, 'S'}, {"cacert", required_argument, NULL, 'c'},
        {"insecure-tls", no_argument, NULL, 'k'},   {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    out->name = "worker";
    out->server_app = "job-server";
    out->timeout_ms = JOB_DEFAULT_TIMEOUT_SECONDS * 1000;
    char error[JOB_MESSAGE_SIZE];
    int option;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        switch (option) {
        case 'C':
            if (connect_parse(optarg, out) != 0) {
                return -1;
            }
            break;
        case 's':
            out->service = optarg;
            break;
        case 'd':
            if (job_numbers_parse(optarg, out->numbers, &out->number_count, error) != 0) {
                fprintf(stderr, PROGRAM ": invalid --data: %s\n", error);
                return -1;
            }
            break;
        case 'n':
            out->name = optarg;
            break;
        case 'j':
            out->jwks_url = optarg;
            break;
        case 'i':
            out->issuer = optarg;
            break;
        case 'S':
            out->server_app = optarg;
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
        case 'h':
            usage(stdout);
            exit(0);
        default:
            fprintf(stderr, PROGRAM ": unknown option or missing value: %s\n", argv[optind - 1]);
            usage(stderr);
            return -1;
        }
    }
    if (out->port == NULL || out->service == NULL || out->number_count == 0 || optind != argc) {
        fprintf(stderr, PROGRAM ": --connect, --service and --data are required, and nothing "
                        "else\n");
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

/* Connects to one address within timeout_ms; returns the socket or -1 with errno set. */
static int connect_address(const struct addrinfo *address, int timeout_ms)
{
    int fd = socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    address->ai_protocol);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        struct pollfd entry = {.fd = fd, .events = POLLOUT};
        int ready;
        do {
            ready = poll(&entry, 1, timeout_ms);
        } while (ready < 0 && errno == EINTR);
        int result = 0;
        socklen_t size = sizeof(result);
        if (ready == 0) {
            result = ETIMEDOUT;
        } else if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &size) != 0) {
            result = errno;
        }
        if (result != 0) {
            close(fd);
            errno = result;
            return -1;
        }
    }
    return fd;
}

/* Connects to the server; returns the socket or -1 after printing why. */
static int server_connect(const worker_options *options)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *addresses = NULL;
    int err = getaddrinfo(options->host, options->port, &hints, &addresses);
    if (err != 0) {
        fprintf(stderr, PROGRAM ": cannot resolve %s:%s: %s\n", options->host, options->port,
                gai_strerror(err));
        return -1;
    }
    int fd = -1;
    int saved = 0;
    for (const struct addrinfo *address = addresses; address != NULL && fd < 0;
         address = address->ai_next) {
        fd = connect_address(address, options->timeout_ms);
        saved = errno;
    }
    freeaddrinfo(addresses);
    if (fd < 0) {
        fprintf(stderr, PROGRAM ": cannot connect to %s:%s: %s\n", options->host, options->port,
                strerror(saved));
    }
    return fd;
}

/*
 * Reads the server's token and verifies it, rejecting it to the server on
 * failure. Returns 0, or -1 after printing why.
 */
static int server_token_check(const worker_options *options, job_relying_party *party, int fd,
                              uint8_t *buffer, size_t capacity)
{
    char error[JOB_MESSAGE_SIZE];
    char printable[JOB_PEER_TEXT_SIZE];
    uint8_t type = 0;
    size_t size = 0;
    if (job_frame_read(fd, &type, buffer, capacity, &size, options->timeout_ms, error) != 0) {
        printf("worker %s: no token from the server: %s\n", options->name, error);
        return -1;
    }
    if (type == JOB_MESSAGE_REJECT) {
        job_text_sanitize(buffer, size, printable);
        printf("worker %s: the server rejected this worker: %s\n", options->name, printable);
        return -1;
    }
    if (type != JOB_MESSAGE_TOKEN) {
        printf("worker %s: expected the server's token, got message type 0x%02x\n",
               options->name, type);
        return -1;
    }

    job_token_summary summary;
    char failure[JOB_MESSAGE_SIZE];
    if (job_token_check(party, (const char *)buffer, size, &summary, failure) != 0) {
        job_text_sanitize(failure, strlen(failure), printable);
        printf("worker %s: server's token rejected: %s\n", options->name, printable);
        (void)job_frame_write(fd, JOB_MESSAGE_REJECT, failure,
                              strnlen(failure, JOB_MAX_REASON_SIZE), options->timeout_ms, error);
        return -1;
    }
    printf("worker %s: server verified: application %s, policy %s, TCB %s, token jti %s\n",
           options->name, summary.application, summary.policy, summary.tcb_status, summary.jti);
    return 0;
}

/* Runs the exchange on fd; returns the exit status. */
static int exchange_run(const worker_options *options, job_relying_party *party, int fd,
                        const char *own_token, size_t own_token_size)
{
    static uint8_t buffer[ATTEST_TOKEN_MAX_SIZE];
    char error[JOB_MESSAGE_SIZE];
    char printable[JOB_PEER_TEXT_SIZE];
    uint8_t type = 0;
    size_t size = 0;

    /* 1. The server's token: our token and data go only to a verified server. */
    if (server_token_check(options, party, fd, buffer, sizeof(buffer)) != 0) {
        return 1;
    }

    /* 2. Our token, then the server's acceptance of it or its rejection. */
    if (job_frame_write(fd, JOB_MESSAGE_TOKEN, own_token, own_token_size, options->timeout_ms,
                        error) != 0 ||
        job_frame_read(fd, &type, buffer, sizeof(buffer), &size, options->timeout_ms,
                       error) != 0) {
        printf("worker %s: token exchange failed: %s\n", options->name, error);
        return 1;
    }
    if (type == JOB_MESSAGE_REJECT) {
        job_text_sanitize(buffer, size, printable);
        printf("worker %s: the server rejected this worker: %s\n", options->name, printable);
        return 1;
    }
    if (type != JOB_MESSAGE_ACCEPT) {
        printf("worker %s: expected the server's acceptance, got message type 0x%02x\n",
               options->name, type);
        return 1;
    }

    /* 3. Our vector, then the combined result. */
    uint8_t payload[JOB_MAX_NUMBERS * JOB_NUMBER_SIZE];
    job_numbers_encode(options->numbers, options->number_count, payload);
    char text[256];
    job_numbers_format(options->numbers, options->number_count, text, sizeof(text));
    if (job_frame_write(fd, JOB_MESSAGE_DATA, payload, options->number_count * JOB_NUMBER_SIZE,
                        options->timeout_ms, error) != 0) {
        printf("worker %s: sending the data failed: %s\n", options->name, error);
        return 1;
    }
    printf("worker %s: sent %s\n", options->name, text);
    if (job_frame_read(fd, &type, buffer, sizeof(buffer), &size, options->timeout_ms, error) !=
        0) {
        printf("worker %s: no result: %s\n", options->name, error);
        return 1;
    }
    if (type == JOB_MESSAGE_REJECT) {
        job_text_sanitize(buffer, size, printable);
        printf("worker %s: the server rejected the data: %s\n", options->name, printable);
        return 1;
    }
    int64_t result[JOB_MAX_NUMBERS];
    size_t count = 0;
    if (type != JOB_MESSAGE_RESULT) {
        printf("worker %s: expected the result, got message type 0x%02x\n", options->name, type);
        return 1;
    }
    if (job_numbers_decode(buffer, size, result, &count, error) != 0) {
        printf("worker %s: invalid result: %s\n", options->name, error);
        return 1;
    }

    /* An element-wise sum has one number per number sent. */
    if (count != options->number_count) {
        printf("worker %s: invalid result: %zu numbers, expected %zu as sent\n", options->name,
               count, options->number_count);
        return 1;
    }
    job_numbers_format(result, count, text, sizeof(text));
    printf("worker %s: received the result %s\n", options->name, text);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    static worker_options options;
    static char jwks_url[URL_MAX_SIZE];
    if (options_parse(argc, argv, &options, jwks_url) != 0) {
        return 2;
    }
    printf("worker %s: started\n", options.name);

    size_t own_token_size = 0;
    char *own_token = job_own_token_read(PROGRAM, &own_token_size);
    if (own_token == NULL) {
        return 1;
    }
    job_relying_party party;
    int status = 1;
    if (job_relying_party_init(&party, PROGRAM, options.jwks_url, options.ca_file,
                               options.insecure_tls, options.issuer, options.server_app) == 0) {
        int fd = server_connect(&options);
        if (fd >= 0) {
            status = exchange_run(&options, &party, fd, own_token, own_token_size);
            close(fd);
        }
        job_relying_party_free(&party);
    }
    OPENSSL_cleanse(own_token, own_token_size);
    free(own_token);
    return status;
}
