/*
 * The PCCS collateral source, the collateral cache and the simulated PCCS.
 *
 * A small HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) runs in
 * a thread of this test and responds with attest_pccs_sim_respond, or with a
 * deliberately broken response for the hostile cases. Nothing here talks to
 * another host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <attest/attest.h>
#include <attest/pccs.h>
#include <attest/sim.h>

#include "support.h"
#include "util/file.h"

/* Collateral issue and verification time: 2025-10-09T08:53:20Z. nextUpdate is AT + 29 days. */
#define AT ((time_t)1760000000)
#define DAY ((time_t)86400)
#define SIM_FMSPC {0x53, 0x49, 0x4D, 0x00, 0x00, 0x00}

typedef enum fault {
    FAULT_NONE,
    FAULT_MISSING_HEADER,    /* no issuer chain header */
    FAULT_BAD_ENCODING,      /* issuer chain header with "%ZZ" */
    FAULT_REPEATED_HEADER,   /* issuer chain header twice */
    FAULT_NOT_PEM,           /* issuer chain header without a certificate */
    FAULT_MALFORMED_BODY,    /* body is not JSON */
    FAULT_OVERSIZED_BODY,    /* 64 KiB body with Content-Length */
    FAULT_OVERSIZED_UNSIZED, /* 64 KiB body without Content-Length */
    FAULT_OVERSIZED_HEADER,  /* one 64 KiB header line */
    FAULT_STALL,             /* no response for 1.5 s */
} fault;

typedef struct server {
    int listener;
    unsigned port;
    pthread_t thread;
    volatile int stop;
    attest_pccs_sim *sim;
    pthread_mutex_t lock;
    fault fault;
    const char *fault_path; /* the fault applies to paths that contain this text */
} server;

typedef struct fixture {
    char dir[64];
    attest_sim_platform *platform;
    uint8_t *root_der;
    size_t root_der_size;
    server server;
    char base_url[64];
} fixture;

/* ---- Test HTTP server ---- */

static void send_all(int socket_fd, const void *data, size_t size)
{
    const char *cursor = data;
    while (size > 0) {
        ssize_t sent = send(socket_fd, cursor, size, MSG_NOSIGNAL);
        if (sent <= 0) {
            return;
        }
        cursor += sent;
        size -= (size_t)sent;
    }
}

static void send_response(int socket_fd, unsigned status, const char *headers, const void *body,
                          size_t body_size, bool with_length)
{
    char head[512];
    int length = snprintf(head, sizeof(head), "HTTP/1.1 %u X\r\nConnection: close\r\n", status);
    if (with_length) {
        length += snprintf(head + length, sizeof(head) - (size_t)length,
                           "Content-Length: %zu\r\n", body_size);
    }
    send_all(socket_fd, head, (size_t)length);
    send_all(socket_fd, headers, strlen(headers));
    send_all(socket_fd, "\r\n", 2);
    send_all(socket_fd, body, body_size);
}

/* Sends the simulated PCCS's response to path?query, broken as s->fault says. */
static void answer(server *s, int socket_fd, const char *method, const char *path,
                   const char *query)
{
    pthread_mutex_lock(&s->lock);
    fault active = s->fault_path != NULL && strstr(path, s->fault_path) != NULL ? s->fault
                                                                                : FAULT_NONE;
    pthread_mutex_unlock(&s->lock);

    if (active == FAULT_STALL) {
        usleep(1500 * 1000);
        return;
    }
    if (active == FAULT_OVERSIZED_BODY || active == FAULT_OVERSIZED_UNSIZED ||
        active == FAULT_OVERSIZED_HEADER) {
        size_t size = 64 * 1024;
        char *filler = malloc(size + 32);
        memset(filler, 'a', size + 32);
        if (active == FAULT_OVERSIZED_HEADER) {
            memcpy(filler, "X-Filler: ", 10);
            memcpy(filler + size, "\r\n", 3);
            send_response(socket_fd, 200, filler, "{}", 2, true);
        } else {
            send_response(socket_fd, 200, "", filler, size, active == FAULT_OVERSIZED_BODY);
        }
        free(filler);
        return;
    }

    attest_pccs_response response;
    attest_diag diag = {{0}};
    if (attest_pccs_sim_respond(s->sim, method, path, query, &response, &diag) != ATTEST_OK) {
        send_response(socket_fd, 500, "", "", 0, true);
        return;
    }
    size_t headers_size = 256 + (response.chain_value == NULL ? 0 : 2 * strlen(response.chain_value));
    char *headers = malloc(headers_size);
    int length = snprintf(headers, headers_size, "Content-Type: %s\r\n", response.content_type);
    if (response.chain_header != NULL) {
        const char *value = response.chain_value;
        if (active == FAULT_BAD_ENCODING) {
            value = "-----BEGIN%20CERTIFICATE-----%ZZ";
        } else if (active == FAULT_NOT_PEM) {
            value = "hello%20world";
        }
        if (active != FAULT_MISSING_HEADER) {
            length += snprintf(headers + length, headers_size - (size_t)length, "%s: %s\r\n",
                               response.chain_header, value);
        }
        if (active == FAULT_REPEATED_HEADER) {
            snprintf(headers + length, headers_size - (size_t)length, "%s: %s\r\n",
                     response.chain_header, value);
        }
    }
    if (active == FAULT_MALFORMED_BODY) {
        static const char broken[] = "{\"tcbInfo\": [1, 2";
        send_response(socket_fd, response.status, headers, broken, sizeof(broken) - 1, true);
    } else {
        send_response(socket_fd, response.status, headers, response.body, response.body_size,
                      true);
    }
    free(headers);
    attest_pccs_response_clear(&response);
}

/* Reads one request head and answers it. */
static void connection_serve(server *s, int socket_fd)
{
    char request[8192];
    size_t used = 0;
    while (used < sizeof(request) - 1) {
        ssize_t got = recv(socket_fd, request + used, sizeof(request) - 1 - used, 0);
        if (got <= 0) {
            return;
        }
        used += (size_t)got;
        request[used] = '\0';
        if ((uint8_t)request[0] == 0x16) {
            /* A TLS ClientHello: answer like a plain HTTP server does, with 400. */
            send_response(socket_fd, 400, "", "", 0, true);
            return;
        }
        if (strstr(request, "\r\n\r\n") != NULL) {
            break;
        }
    }
    char method[16];
    char target[2048];
    if (sscanf(request, "%15s %2047s", method, target) != 2) {
        return;
    }
    char *query = strchr(target, '?');
    if (query != NULL) {
        *query++ = '\0';
    }
    answer(s, socket_fd, method, target, query);
}

static void *server_run(void *context)
{
    server *s = context;
    while (!s->stop) {
        struct pollfd poll_fd = {s->listener, POLLIN, 0};
        if (poll(&poll_fd, 1, 50) <= 0) {
            continue;
        }
        int socket_fd = accept(s->listener, NULL, NULL);
        if (socket_fd < 0) {
            continue;
        }
        connection_serve(s, socket_fd);
        shutdown(socket_fd, SHUT_RDWR);
        close(socket_fd);
    }
    return NULL;
}

static int server_start(server *s, const char *dir)
{
    attest_diag diag = {{0}};
    if (attest_pccs_sim_new(dir, AT, 0, &s->sim, &diag) != ATTEST_OK) {
        fprintf(stderr, "simulated PCCS: %s\n", diag.message);
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    if (s->listener < 0 || bind(s->listener, (struct sockaddr *)&address, sizeof(address)) != 0 ||
        listen(s->listener, 16) != 0 ||
        getsockname(s->listener, (struct sockaddr *)&address, &size) != 0) {
        return -1;
    }
    s->port = ntohs(address.sin_port);
    return pthread_create(&s->thread, NULL, server_run, s) == 0 ? 0 : -1;
}

static void server_stop(server *s)
{
    s->stop = 1;
    pthread_join(s->thread, NULL);
    close(s->listener);
    attest_pccs_sim_free(s->sim);
    pthread_mutex_destroy(&s->lock);
}

static void server_fault(server *s, fault kind, const char *path)
{
    pthread_mutex_lock(&s->lock);
    s->fault = kind;
    s->fault_path = path;
    pthread_mutex_unlock(&s->lock);
}

/* ---- Fixture ---- */

static int group_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/attest-pccs-XXXXXX");
    attest_diag diag = {{0}};
    char path[128];
    if (mkdtemp(f->dir) == NULL || attest_sim_platform_init(f->dir, &diag) != ATTEST_OK ||
        attest_sim_platform_open(f->dir, &f->platform, &diag) != ATTEST_OK ||
        snprintf(path, sizeof(path), "%s/root-ca.der", f->dir) <= 0 ||
        attest_file_read(path, 65536, &f->root_der, &f->root_der_size, &diag) != ATTEST_OK ||
        server_start(&f->server, f->dir) != 0) {
        fprintf(stderr, "setup failed: %s\n", diag.message);
        return -1;
    }
    snprintf(f->base_url, sizeof(f->base_url), "http://127.0.0.1:%u", f->server.port);
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *f = *state;
    server_stop(&f->server);
    attest_sim_platform_free(f->platform);
    free(f->root_der);
    test_remove_dir(f->dir);
    free(f);
    return 0;
}

/* Puts the server back to normal before each test. */
static int test_setup(void **state)
{
    fixture *f = *state;
    server_fault(&f->server, FAULT_NONE, NULL);
    attest_pccs_sim_set_unavailable(f->server.sim, false);
    return 0;
}

static void source_open(const fixture *f, attest_pccs_options *options,
                        attest_collateral_source *out_source)
{
    attest_pccs_options defaults;
    if (options == NULL) {
        attest_pccs_options_init(&defaults);
        options = &defaults;
    }
    options->base_url = f->base_url;
    attest_diag diag = {{0}};
    assert_int_equal(attest_collateral_source_pccs(options, out_source, &diag), ATTEST_OK);
}

static attest_collateral_request request_make(bool tdx)
{
    attest_collateral_request request = {tdx ? 1 : 0, SIM_FMSPC,
                                         tdx ? "platform" : "processor"};
    return request;
}

/* Fetches with a fresh default source and returns the error; diag receives the detail. */
static attest_err fetch_once(const fixture *f, attest_pccs_options *options, bool tdx,
                             attest_diag *diag)
{
    attest_collateral_source source;
    source_open(f, options, &source);
    attest_collateral_request request = request_make(tdx);
    attest_collateral collateral;
    memset(&collateral, 0, sizeof(collateral));
    attest_err err = source.get(source.context, &request, &collateral, diag);
    attest_collateral_clear(&collateral);
    source.destroy(source.context);
    return err;
}

static void bytes_assert_equal(const attest_bytes *actual, const attest_bytes *expected)
{
    assert_int_equal(actual->size, expected->size);
    assert_memory_equal(actual->data, expected->data, expected->size);
}

/* Verifies a fresh simulated quote of tee with collateral at AT; asserts valid and UpToDate. */
static void quote_verify(fixture *f, attest_sim_tee tee, const attest_collateral *collateral)
{
    attest_sim_quote_options options;
    attest_sim_quote_options_init(&options, tee);
    uint8_t *quote = NULL;
    size_t quote_size = 0;
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_quote(f->platform, &options, &quote, &quote_size, &diag),
                     ATTEST_OK);

    attest_verifier *verifier = NULL;
    assert_int_equal(attest_verifier_new(&verifier), ATTEST_OK);
    assert_int_equal(attest_verifier_add_root(verifier, f->root_der, f->root_der_size, &diag),
                     ATTEST_OK);
    attest_report report;
    attest_err err = attest_verify_quote(verifier, quote, quote_size, collateral, AT, NULL,
                                         &report);
    if (err != ATTEST_OK) {
        fail_msg("verification failed: %s at %s: %s", attest_err_code(report.err),
                 attest_stage_name(report.error_stage), report.error_message);
    }
    assert_true(report.valid);
    assert_string_equal(attest_tcb_status_name(report.tcb_status), "UpToDate");
    attest_verifier_free(verifier);
    free(quote);
}

/* ---- Fetch and verify ---- */

static void fetch_and_verify(fixture *f, bool tdx)
{
    attest_collateral_source source;
    source_open(f, NULL, &source);
    attest_collateral_request request = request_make(tdx);
    attest_collateral fetched;
    attest_diag diag = {{0}};
    attest_err err = source.get(source.context, &request, &fetched, &diag);
    if (err != ATTEST_OK) {
        fail_msg("fetch failed: %s: %s", attest_err_code(err), diag.message);
    }

    /* Chains and documents are deterministic; signatures are not, so they are only sized. */
    attest_sim_collateral_options options;
    attest_sim_collateral_options_init(&options, tdx ? ATTEST_SIM_TDX : ATTEST_SIM_SGX, AT);
    attest_collateral expected;
    assert_int_equal(attest_sim_collateral(f->platform, &options, &expected, &diag), ATTEST_OK);
    bytes_assert_equal(&fetched.pck_crl_issuer_chain, &expected.pck_crl_issuer_chain);
    bytes_assert_equal(&fetched.tcb_info_issuer_chain, &expected.tcb_info_issuer_chain);
    bytes_assert_equal(&fetched.qe_identity_issuer_chain, &expected.qe_identity_issuer_chain);
    bytes_assert_equal(&fetched.tcb_info, &expected.tcb_info);
    bytes_assert_equal(&fetched.qe_identity, &expected.qe_identity);
    assert_int_equal(fetched.tcb_info_signature.size, 64);
    assert_int_equal(fetched.qe_identity_signature.size, 64);
    assert_true(fetched.pck_crl.size > 0 && fetched.pck_crl.data[0] == 0x30);
    assert_true(fetched.root_ca_crl.size > 0 && fetched.root_ca_crl.data[0] == 0x30);

    quote_verify(f, tdx ? ATTEST_SIM_TDX : ATTEST_SIM_SGX, &fetched);
    attest_collateral_clear(&expected);
    attest_collateral_clear(&fetched);
    source.destroy(source.context);
}

static void test_pccs_sgx_fetch_verifies(void **state)
{
    fetch_and_verify(*state, false);
}

static void test_pccs_tdx_fetch_verifies(void **state)
{
    fetch_and_verify(*state, true);
}

static void test_pccs_update_parameter_accepted(void **state)
{
    attest_pccs_options options;
    attest_pccs_options_init(&options);
    options.update = ATTEST_PCCS_UPDATE_EARLY;
    attest_diag diag = {{0}};
    assert_int_equal(fetch_once(*state, &options, true, &diag), ATTEST_OK);
    options.update = ATTEST_PCCS_UPDATE_STANDARD;
    assert_int_equal(fetch_once(*state, &options, false, &diag), ATTEST_OK);
}

/* ---- Header decoding ---- */

typedef struct decode_case {
    const char *input;
    const char *expected; /* NULL: ATTEST_ERR_SOURCE_HEADER */
    const char *defect;
} decode_case;

static void test_pccs_url_decode_table(void **state)
{
    (void)state;
    static const decode_case cases[] = {
        {"-----BEGIN%20CERTIFICATE-----%0A", "-----BEGIN CERTIFICATE-----\n", "space, newline"},
        {"a%2Bb+c%2F%3D", "a+b+c/=", "plus stays plus, base64 escapes"},
        {"%4a%4A", "JJ", "either case of hex digits"},
        {"", "", "empty value"},
        {"abc%", NULL, "'%' at the end"},
        {"abc%4", NULL, "'%' with one digit"},
        {"%G1", NULL, "non-hex digit"},
        {"a%00b", NULL, "decoded NUL byte"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *decoded = NULL;
        size_t size = 0;
        attest_diag diag = {{0}};
        attest_err err = attest_pccs_url_decode(cases[i].input, strlen(cases[i].input), &decoded,
                                                &size, &diag);
        if (cases[i].expected == NULL) {
            if (err != ATTEST_ERR_SOURCE_HEADER) {
                fail_msg("case \"%s\" (%s): got %s", cases[i].input, cases[i].defect,
                         attest_err_code(err));
            }
            assert_null(decoded);
        } else {
            assert_int_equal(err, ATTEST_OK);
            assert_int_equal(size, strlen(cases[i].expected));
            assert_string_equal(decoded, cases[i].expected);
            free(decoded);
        }
    }
}

static void test_pccs_distribution_point_real_chain(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *pem = test_read_real("tdx/google-spr-e4-pcs/pck-crl-issuer-chain.pem", &size);
    char *url = NULL;
    attest_diag diag = {{0}};
    assert_int_equal(attest_pccs_crl_distribution_point(pem, size, &url, &diag), ATTEST_OK);
    assert_string_equal(url, "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der");
    free(url);
    free(pem);
}

static void test_pccs_distribution_point_missing(void **state)
{
    fixture *f = *state;
    attest_pccs_options options;
    attest_pccs_options_init(&options);
    options.root_ca_crl_from_distribution_point = true;
    attest_diag diag = {{0}};
    /* The simulated PCK CA certificate has no CRL distribution point, so nothing is fetched. */
    assert_int_equal(fetch_once(f, &options, false, &diag), ATTEST_ERR_SOURCE_HEADER);
    assert_non_null(strstr(diag.message, "distribution point"));
}

/* ---- Hostile responses ---- */

static void test_pccs_unknown_fmspc_not_found(void **state)
{
    fixture *f = *state;
    attest_collateral_source source;
    source_open(f, NULL, &source);
    attest_collateral_request request = {0, {0x00, 0x90, 0x6E, 0xA1, 0x00, 0x00}, "processor"};
    attest_collateral collateral;
    attest_diag diag = {{0}};
    assert_int_equal(source.get(source.context, &request, &collateral, &diag),
                     ATTEST_ERR_SOURCE_NOT_FOUND);
    assert_non_null(strstr(diag.message, "fmspc=00906EA10000"));
    assert_non_null(strstr(diag.message, "404"));
    source.destroy(source.context);
}

static void test_pccs_unavailable_status(void **state)
{
    fixture *f = *state;
    attest_pccs_sim_set_unavailable(f->server.sim, true);
    attest_diag diag = {{0}};
    assert_int_equal(fetch_once(f, NULL, false, &diag), ATTEST_ERR_SOURCE_HTTP_STATUS);
    assert_non_null(strstr(diag.message, "503"));
}

typedef struct hostile_case {
    fault kind;
    const char *path;
    attest_err expected;
    const char *defect;
} hostile_case;

static void test_pccs_hostile_responses(void **state)
{
    fixture *f = *state;
    static const hostile_case cases[] = {
        {FAULT_MISSING_HEADER, "/tcb", ATTEST_ERR_SOURCE_HEADER, "TCB info without chain"},
        {FAULT_MISSING_HEADER, "/qe/identity", ATTEST_ERR_SOURCE_HEADER, "QE identity without chain"},
        {FAULT_MISSING_HEADER, "/pckcrl", ATTEST_ERR_SOURCE_HEADER, "PCK CRL without chain"},
        {FAULT_BAD_ENCODING, "/tcb", ATTEST_ERR_SOURCE_HEADER, "chain with %ZZ"},
        {FAULT_REPEATED_HEADER, "/pckcrl", ATTEST_ERR_SOURCE_HEADER, "chain header twice"},
        {FAULT_NOT_PEM, "/qe/identity", ATTEST_ERR_SOURCE_HEADER, "chain without certificate"},
        {FAULT_MALFORMED_BODY, "/tcb", ATTEST_ERR_JSON_SYNTAX, "TCB info body not JSON"},
        {FAULT_MALFORMED_BODY, "/qe/identity", ATTEST_ERR_JSON_SYNTAX, "QE identity not JSON"},
        {FAULT_MALFORMED_BODY, "/pckcrl", ATTEST_ERR_CRL_PARSE, "PCK CRL body not a CRL"},
        {FAULT_MALFORMED_BODY, "/rootcacrl", ATTEST_ERR_CRL_PARSE, "root CA CRL not a CRL"},
        {FAULT_OVERSIZED_BODY, "/tcb", ATTEST_ERR_LIMIT, "body over limit, with length"},
        {FAULT_OVERSIZED_UNSIZED, "/tcb", ATTEST_ERR_LIMIT, "body over limit, no length"},
        {FAULT_OVERSIZED_HEADER, "/qe/identity", ATTEST_ERR_LIMIT, "header line over limit"},
        {FAULT_STALL, "/pckcrl", ATTEST_ERR_SOURCE_UNREACHABLE, "no response within the timeout"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        server_fault(&f->server, cases[i].kind, cases[i].path);
        attest_pccs_options options;
        attest_pccs_options_init(&options);
        options.max_body_size = 32 * 1024;
        options.max_header_size = 16 * 1024;
        options.timeout_ms = 300;
        attest_diag diag = {{0}};
        attest_err err = fetch_once(f, &options, i % 2 == 1, &diag);
        if (err != cases[i].expected) {
            fail_msg("%s: expected %s, got %s (%s)", cases[i].defect,
                     attest_err_code(cases[i].expected), attest_err_code(err), diag.message);
        }
    }
    server_fault(&f->server, FAULT_NONE, NULL);
}

static void test_pccs_closed_port_unreachable(void **state)
{
    (void)state;
    /* Bind a port and close it, so nothing listens there. */
    int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    assert_int_equal(bind(socket_fd, (struct sockaddr *)&address, sizeof(address)), 0);
    assert_int_equal(getsockname(socket_fd, (struct sockaddr *)&address, &size), 0);
    close(socket_fd);

    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(address.sin_port));
    attest_pccs_options options;
    attest_pccs_options_init(&options);
    options.base_url = url;
    attest_collateral_source source;
    attest_diag diag = {{0}};
    assert_int_equal(attest_collateral_source_pccs(&options, &source, &diag), ATTEST_OK);
    attest_collateral_request request = request_make(false);
    attest_collateral collateral;
    assert_int_equal(source.get(source.context, &request, &collateral, &diag),
                     ATTEST_ERR_SOURCE_UNREACHABLE);
    source.destroy(source.context);
}

static void test_pccs_https_to_plain_server_fails_tls(void **state)
{
    fixture *f = *state;
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", f->server.port);
    attest_pccs_options options;
    attest_pccs_options_init(&options);
    options.base_url = url;
    options.timeout_ms = 2000;
    attest_collateral_source source;
    attest_diag diag = {{0}};
    assert_int_equal(attest_collateral_source_pccs(&options, &source, &diag), ATTEST_OK);
    attest_collateral_request request = request_make(false);
    attest_collateral collateral;
    assert_int_equal(source.get(source.context, &request, &collateral, &diag),
                     ATTEST_ERR_SOURCE_TLS);
    source.destroy(source.context);
}

static void test_pccs_invalid_options_rejected(void **state)
{
    (void)state;
    static const char *const urls[] = {"ftp://127.0.0.1", "127.0.0.1:8081", "https://",
                                       "http://127.0.0.1/?x=1", "http://a b"};
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        attest_pccs_options options;
        attest_pccs_options_init(&options);
        options.base_url = urls[i];
        attest_collateral_source source;
        attest_diag diag = {{0}};
        if (attest_collateral_source_pccs(&options, &source, &diag) != ATTEST_ERR_ARGUMENT) {
            fail_msg("base URL \"%s\" was accepted", urls[i]);
        }
    }
    attest_pccs_options options;
    attest_pccs_options_init(&options);
    options.base_url = "https://pccs.invalid";
    options.timeout_ms = 0;
    attest_collateral_source source;
    attest_diag diag = {{0}};
    assert_int_equal(attest_collateral_source_pccs(&options, &source, &diag), ATTEST_ERR_ARGUMENT);
}

static void test_pccs_bad_pck_ca_rejected(void **state)
{
    fixture *f = *state;
    attest_collateral_source source;
    source_open(f, NULL, &source);
    attest_collateral_request request = {0, SIM_FMSPC, "bogus"};
    attest_collateral collateral;
    attest_diag diag = {{0}};
    unsigned long before = attest_pccs_sim_request_count(f->server.sim);
    assert_int_equal(source.get(source.context, &request, &collateral, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_pccs_sim_request_count(f->server.sim), before);
    source.destroy(source.context);
}

/* ---- Simulated PCCS responder ---- */

typedef struct route_case {
    const char *method;
    const char *path;
    const char *query;
    unsigned status;
    const char *header; /* NULL: none */
} route_case;

static void test_pccs_sim_routes(void **state)
{
    fixture *f = *state;
    static const route_case cases[] = {
        {"GET", "/sgx/certification/v4/pckcrl", "ca=processor&encoding=der", 200,
         "SGX-PCK-CRL-Issuer-Chain"},
        {"GET", "/sgx/certification/v4/pckcrl", "ca=platform", 200, "SGX-PCK-CRL-Issuer-Chain"},
        {"GET", "/sgx/certification/v4/pckcrl", "ca=other", 400, NULL},
        {"GET", "/sgx/certification/v4/pckcrl", "ca=platform&ca=processor", 400, NULL},
        {"GET", "/sgx/certification/v4/tcb", "fmspc=53494d000000", 200, "TCB-Info-Issuer-Chain"},
        {"GET", "/tdx/certification/v4/tcb", "fmspc=53494D000000&update=early", 200,
         "TCB-Info-Issuer-Chain"},
        {"GET", "/tdx/certification/v4/tcb", "fmspc=53494D00000", 400, NULL},
        {"GET", "/tdx/certification/v4/tcb", "fmspc=53494D000000&update=late", 400, NULL},
        {"GET", "/tdx/certification/v4/tcb", "fmspc=53494D000001", 404, NULL},
        {"GET", "/sgx/certification/v4/qe/identity", NULL, 200,
         "SGX-Enclave-Identity-Issuer-Chain"},
        {"GET", "/tdx/certification/v4/qe/identity", "update=standard", 200,
         "SGX-Enclave-Identity-Issuer-Chain"},
        {"GET", "/sgx/certification/v4/rootcacrl", "", 200, NULL},
        {"GET", "/sgx/certification/v3/tcb", "fmspc=53494D000000", 404, NULL},
        {"POST", "/sgx/certification/v4/rootcacrl", NULL, 405, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        attest_pccs_response response;
        attest_diag diag = {{0}};
        assert_int_equal(attest_pccs_sim_respond(f->server.sim, cases[i].method, cases[i].path,
                                                 cases[i].query, &response, &diag),
                         ATTEST_OK);
        if (response.status != cases[i].status) {
            fail_msg("%s %s?%s: status %u, expected %u", cases[i].method, cases[i].path,
                     cases[i].query == NULL ? "" : cases[i].query, response.status,
                     cases[i].status);
        }
        if (cases[i].header == NULL) {
            assert_null(response.chain_header);
        } else {
            assert_string_equal(response.chain_header, cases[i].header);
            assert_non_null(strstr(response.chain_value, "-----BEGIN%20CERTIFICATE-----"));
        }
        attest_pccs_response_clear(&response);
    }
}

/* ---- Cache ---- */

typedef struct fake_clock {
    time_t now;
} fake_clock;

static time_t fake_clock_now(void *context)
{
    return ((fake_clock *)context)->now;
}

static void cache_open(fixture *f, fake_clock *clock, const attest_collateral_cache_store *store,
                       attest_collateral_source *out_source, attest_collateral_cache **out_cache)
{
    attest_collateral_source inner;
    source_open(f, NULL, &inner);
    attest_collateral_cache_options options;
    attest_collateral_cache_options_init(&options);
    options.clock = fake_clock_now;
    options.clock_context = clock;
    if (store != NULL) {
        options.store = *store;
    }
    attest_diag diag = {{0}};
    assert_int_equal(attest_collateral_source_cache(&inner, &options, out_source, out_cache,
                                                    &diag),
                     ATTEST_OK);
}

static attest_err cache_fetch(attest_collateral_source *source, bool tdx, attest_diag *diag)
{
    attest_collateral_request request = request_make(tdx);
    attest_collateral collateral;
    memset(&collateral, 0, sizeof(collateral));
    attest_err err = source->get(source->context, &request, &collateral, diag);
    attest_collateral_clear(&collateral);
    return err;
}

static void test_cache_hit_refresh_stale_expired(void **state)
{
    fixture *f = *state;
    fake_clock clock = {AT};
    attest_collateral_source source;
    attest_collateral_cache *cache = NULL;
    cache_open(f, &clock, NULL, &source, &cache);
    attest_collateral_cache_stats stats;
    attest_diag diag = {{0}};

    /* First get: a miss that asks the PCCS (four routes). */
    unsigned long requests = attest_pccs_sim_request_count(f->server.sim);
    assert_int_equal(cache_fetch(&source, false, &diag), ATTEST_OK);
    assert_int_equal(attest_pccs_sim_request_count(f->server.sim), requests + 4);

    /* Second get within the interval: a hit, no request. */
    clock.now = AT + 3599;
    assert_int_equal(cache_fetch(&source, false, &diag), ATTEST_OK);
    assert_int_equal(attest_pccs_sim_request_count(f->server.sim), requests + 4);

    /* After the interval: a refresh. */
    clock.now = AT + 3600;
    assert_int_equal(cache_fetch(&source, false, &diag), ATTEST_OK);
    assert_int_equal(attest_pccs_sim_request_count(f->server.sim), requests + 8);

    /* Forced refresh. */
    attest_collateral_request request = request_make(false);
    assert_int_equal(attest_collateral_cache_refresh(cache, &request, &diag), ATTEST_OK);
    assert_int_equal(attest_pccs_sim_request_count(f->server.sim), requests + 12);

    /* Source down, entry due for refresh but before nextUpdate: the cached copy is served. */
    attest_pccs_sim_set_unavailable(f->server.sim, true);
    clock.now = AT + 2 * DAY;
    assert_int_equal(cache_fetch(&source, false, &diag), ATTEST_OK);
    assert_int_equal(attest_collateral_cache_refresh(cache, &request, &diag),
                     ATTEST_ERR_SOURCE_HTTP_STATUS);

    /* Source down past the earliest nextUpdate (AT + 29 days): fail closed. */
    clock.now = AT + 29 * DAY;
    assert_int_equal(cache_fetch(&source, false, &diag), ATTEST_ERR_SOURCE_CACHE_EXPIRED);
    assert_non_null(strstr(diag.message, "source_http_status"));
    assert_non_null(strstr(diag.message, "2025-11-07T08:53:20Z"));
    assert_non_null(strstr(diag.message, "sgx:53494D000000:processor"));

    /* Source back: fresh collateral, though still expired at this time for the verifier. */
    attest_pccs_sim_set_unavailable(f->server.sim, false);
    assert_int_equal(cache_fetch(&source, false, &diag), ATTEST_OK);

    attest_collateral_cache_stats_get(cache, &stats);
    assert_int_equal(stats.misses, 1);
    assert_int_equal(stats.hits, 1);
    assert_int_equal(stats.refreshes, 5); /* interval, forced, down, expired, back */
    assert_int_equal(stats.fetch_errors, 3); /* down, forced while down, expired */
    assert_int_equal(stats.stale_served, 1);
    assert_int_equal(stats.expired_failures, 1);
    assert_int_equal(stats.entries, 1);
    source.destroy(source.context);
}

static void test_cache_source_down_nothing_cached(void **state)
{
    fixture *f = *state;
    fake_clock clock = {AT};
    attest_collateral_source source;
    attest_collateral_cache *cache = NULL;
    cache_open(f, &clock, NULL, &source, &cache);
    attest_pccs_sim_set_unavailable(f->server.sim, true);
    attest_diag diag = {{0}};
    assert_int_equal(cache_fetch(&source, true, &diag), ATTEST_ERR_SOURCE_HTTP_STATUS);
    assert_non_null(strstr(diag.message, "503"));
    attest_collateral_cache_stats stats;
    attest_collateral_cache_stats_get(cache, &stats);
    assert_int_equal(stats.entries, 0);
    source.destroy(source.context);
}

static void test_cache_keys_separate(void **state)
{
    fixture *f = *state;
    fake_clock clock = {AT};
    attest_collateral_source source;
    attest_collateral_cache *cache = NULL;
    cache_open(f, &clock, NULL, &source, &cache);
    attest_diag diag = {{0}};
    assert_int_equal(cache_fetch(&source, false, &diag), ATTEST_OK);
    assert_int_equal(cache_fetch(&source, true, &diag), ATTEST_OK);
    assert_int_equal(cache_fetch(&source, true, &diag), ATTEST_OK);
    attest_collateral_cache_stats stats;
    attest_collateral_cache_stats_get(cache, &stats);
    assert_int_equal(stats.misses, 2);
    assert_int_equal(stats.hits, 1);
    assert_int_equal(stats.entries, 2);
    source.destroy(source.context);
}

/* An in-memory store of the persistence hooks: one slot per key. */
typedef struct memory_store {
    pthread_mutex_t lock;
    size_t count;
    char keys[4][32];
    uint8_t *blobs[4];
    size_t sizes[4];
    unsigned saves;
} memory_store;

static attest_err memory_load(void *context, const char *key, uint8_t **out_blob,
                              size_t *out_size, attest_diag *diag)
{
    (void)diag;
    memory_store *store = context;
    *out_blob = NULL;
    pthread_mutex_lock(&store->lock);
    for (size_t i = 0; i < store->count; i++) {
        if (strcmp(store->keys[i], key) == 0) {
            *out_blob = malloc(store->sizes[i]);
            memcpy(*out_blob, store->blobs[i], store->sizes[i]);
            *out_size = store->sizes[i];
        }
    }
    pthread_mutex_unlock(&store->lock);
    return ATTEST_OK;
}

static attest_err memory_save(void *context, const char *key, const uint8_t *blob, size_t size,
                              attest_diag *diag)
{
    memory_store *store = context;
    pthread_mutex_lock(&store->lock);
    size_t slot = store->count;
    for (size_t i = 0; i < store->count; i++) {
        if (strcmp(store->keys[i], key) == 0) {
            slot = i;
        }
    }
    if (slot == 4) {
        pthread_mutex_unlock(&store->lock);
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "memory store is full");
    }
    if (slot == store->count) {
        store->count++;
    }
    free(store->blobs[slot]);
    snprintf(store->keys[slot], sizeof(store->keys[slot]), "%s", key);
    store->blobs[slot] = malloc(size);
    memcpy(store->blobs[slot], blob, size);
    store->sizes[slot] = size;
    store->saves++;
    pthread_mutex_unlock(&store->lock);
    return ATTEST_OK;
}

static void test_cache_store_survives_restart(void **state)
{
    fixture *f = *state;
    memory_store memory = {.count = 0};
    pthread_mutex_init(&memory.lock, NULL);
    attest_collateral_cache_store store = {&memory, memory_load, memory_save};
    fake_clock clock = {AT};
    attest_diag diag = {{0}};

    /* A first cache fetches and saves. */
    attest_collateral_source first;
    cache_open(f, &clock, &store, &first, NULL);
    assert_int_equal(cache_fetch(&first, true, &diag), ATTEST_OK);
    first.destroy(first.context);
    assert_int_equal(memory.saves, 1);
    assert_string_equal(memory.keys[0], "tdx:53494D000000:platform");

    /* A second cache, with the PCCS down, serves the stored copy. */
    attest_pccs_sim_set_unavailable(f->server.sim, true);
    attest_collateral_source second;
    attest_collateral_cache *cache = NULL;
    cache_open(f, &clock, &store, &second, &cache);
    clock.now = AT + DAY;
    assert_int_equal(cache_fetch(&second, true, &diag), ATTEST_OK);
    attest_collateral_cache_stats stats;
    attest_collateral_cache_stats_get(cache, &stats);
    assert_int_equal(stats.store_loads, 1);
    assert_int_equal(stats.stale_served, 1);

    /* Past its nextUpdate the stored copy is refused too. */
    clock.now = AT + 30 * DAY;
    assert_int_equal(cache_fetch(&second, true, &diag), ATTEST_ERR_SOURCE_CACHE_EXPIRED);
    second.destroy(second.context);

    for (size_t i = 0; i < memory.count; i++) {
        free(memory.blobs[i]);
    }
    pthread_mutex_destroy(&memory.lock);
}

/* A fake inner source that hands out copies of fixed collateral and counts calls. */
typedef struct fake_source {
    pthread_mutex_t lock;
    attest_collateral collateral;
    unsigned long calls;
} fake_source;

static attest_err fake_get(void *context, const attest_collateral_request *request,
                           attest_collateral *out_collateral, attest_diag *diag)
{
    (void)request;
    fake_source *fake = context;
    pthread_mutex_lock(&fake->lock);
    fake->calls++;
    pthread_mutex_unlock(&fake->lock);
    char *bundle = NULL;
    attest_err err = attest_sim_collateral_to_bundle(&fake->collateral, &bundle, diag);
    if (err == ATTEST_OK) {
        err = attest_collateral_from_bundle(bundle, strlen(bundle), out_collateral, diag);
    }
    free(bundle);
    return err;
}

static void fake_destroy(void *context)
{
    (void)context;
}

static void test_cache_unparseable_not_cached(void **state)
{
    fixture *f = *state;
    fake_source fake = {.calls = 0};
    pthread_mutex_init(&fake.lock, NULL);
    attest_sim_collateral_options options;
    attest_sim_collateral_options_init(&options, ATTEST_SIM_SGX, AT);
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_collateral(f->platform, &options, &fake.collateral, &diag),
                     ATTEST_OK);
    /* A TCB info whose nextUpdate is not a date. */
    char *text = (char *)fake.collateral.tcb_info.data;
    char *next = strstr(text, "\"nextUpdate\":\"");
    assert_non_null(next);
    memcpy(next + 14, "XXXX", 4);

    attest_collateral_source inner = {&fake, fake_get, fake_destroy};
    attest_collateral_cache_options cache_options;
    attest_collateral_cache_options_init(&cache_options);
    attest_collateral_source source;
    attest_collateral_cache *cache = NULL;
    assert_int_equal(attest_collateral_source_cache(&inner, &cache_options, &source, &cache,
                                                    &diag),
                     ATTEST_OK);
    assert_int_equal(cache_fetch(&source, false, &diag), ATTEST_ERR_TIME_FORMAT);
    attest_collateral_cache_stats stats;
    attest_collateral_cache_stats_get(cache, &stats);
    assert_int_equal(stats.entries, 0);
    assert_int_equal(stats.fetch_errors, 1);
    source.destroy(source.context);
    attest_collateral_clear(&fake.collateral);
    pthread_mutex_destroy(&fake.lock);
}

#define THREADS 8
#define GETS_PER_THREAD 200

typedef struct worker {
    attest_collateral_source *source;
    int index;
    int failures;
} worker;

static void *worker_run(void *context)
{
    worker *w = context;
    for (int i = 0; i < GETS_PER_THREAD; i++) {
        attest_collateral_request request = request_make((w->index + i) % 2 == 0);
        attest_collateral collateral;
        attest_diag diag = {{0}};
        if (w->source->get(w->source->context, &request, &collateral, &diag) != ATTEST_OK ||
            collateral.tcb_info.size == 0) {
            w->failures++;
            continue;
        }
        attest_collateral_clear(&collateral);
    }
    return NULL;
}

static void test_cache_concurrent_gets(void **state)
{
    fixture *f = *state;
    fake_source fake = {.calls = 0};
    pthread_mutex_init(&fake.lock, NULL);
    attest_sim_collateral_options options;
    attest_sim_collateral_options_init(&options, ATTEST_SIM_SGX, time(NULL));
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_collateral(f->platform, &options, &fake.collateral, &diag),
                     ATTEST_OK);

    attest_collateral_source inner = {&fake, fake_get, fake_destroy};
    attest_collateral_cache_options cache_options;
    attest_collateral_cache_options_init(&cache_options);
    cache_options.max_entries = 1; /* two keys through one slot: constant replacement */
    attest_collateral_source source;
    attest_collateral_cache *cache = NULL;
    assert_int_equal(attest_collateral_source_cache(&inner, &cache_options, &source, &cache,
                                                    &diag),
                     ATTEST_OK);

    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){&source, i, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, worker_run, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].failures, 0);
    }

    attest_collateral_cache_stats stats;
    attest_collateral_cache_stats_get(cache, &stats);
    assert_int_equal(stats.hits + stats.misses + stats.refreshes, THREADS * GETS_PER_THREAD);
    assert_int_equal(stats.misses + stats.refreshes, fake.calls);
    assert_int_equal(stats.fetch_errors, 0);
    assert_int_equal(stats.entries, 1);
    source.destroy(source.context);
    attest_collateral_clear(&fake.collateral);
    pthread_mutex_destroy(&fake.lock);
}

static void test_cache_earliest_next_update(void **state)
{
    fixture *f = *state;
    attest_sim_collateral_options options;
    attest_sim_collateral_options_init(&options, ATTEST_SIM_TDX, AT);
    options.pck_crl_expired = true;
    attest_collateral collateral;
    attest_diag diag = {{0}};
    assert_int_equal(attest_sim_collateral(f->platform, &options, &collateral, &diag), ATTEST_OK);
    time_t next_update = 0;
    const char *which = NULL;
    assert_int_equal(attest_collateral_earliest_next_update(&collateral, &next_update, &which,
                                                            &diag),
                     ATTEST_OK);
    assert_int_equal(next_update, AT - DAY);
    assert_string_equal(which, "pck_crl");
    attest_collateral_clear(&collateral);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pccs_sgx_fetch_verifies, test_setup),
        cmocka_unit_test_setup(test_pccs_tdx_fetch_verifies, test_setup),
        cmocka_unit_test_setup(test_pccs_update_parameter_accepted, test_setup),
        cmocka_unit_test(test_pccs_url_decode_table),
        cmocka_unit_test(test_pccs_distribution_point_real_chain),
        cmocka_unit_test_setup(test_pccs_distribution_point_missing, test_setup),
        cmocka_unit_test_setup(test_pccs_unknown_fmspc_not_found, test_setup),
        cmocka_unit_test_setup(test_pccs_unavailable_status, test_setup),
        cmocka_unit_test_setup(test_pccs_hostile_responses, test_setup),
        cmocka_unit_test(test_pccs_closed_port_unreachable),
        cmocka_unit_test_setup(test_pccs_https_to_plain_server_fails_tls, test_setup),
        cmocka_unit_test(test_pccs_invalid_options_rejected),
        cmocka_unit_test_setup(test_pccs_bad_pck_ca_rejected, test_setup),
        cmocka_unit_test_setup(test_pccs_sim_routes, test_setup),
        cmocka_unit_test_setup(test_cache_hit_refresh_stale_expired, test_setup),
        cmocka_unit_test_setup(test_cache_source_down_nothing_cached, test_setup),
        cmocka_unit_test_setup(test_cache_keys_separate, test_setup),
        cmocka_unit_test_setup(test_cache_store_survives_restart, test_setup),
        cmocka_unit_test(test_cache_unparseable_not_cached),
        cmocka_unit_test(test_cache_concurrent_gets),
        cmocka_unit_test(test_cache_earliest_next_update),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
