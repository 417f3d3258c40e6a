/*
 * Collateral from a PCCS or from Intel's PCS (API version 4), a cache that
 * wraps any collateral source, and the responder of the simulated PCCS.
 *
 * The PCCS source fetches, for one attest_collateral_request:
 *   {sgx|tdx}/certification/v4/tcb?fmspc=HEX      TCB info, TCB-Info-Issuer-Chain
 *   {sgx|tdx}/certification/v4/qe/identity        QE identity, SGX-Enclave-Identity-Issuer-Chain
 *   sgx/certification/v4/pckcrl?ca=CA&encoding=der PCK CRL, SGX-PCK-CRL-Issuer-Chain
 *   sgx/certification/v4/rootcacrl                root CA CRL (PCCS only), hex or DER
 * Issuer chains arrive URL-encoded in the named response headers. Nothing
 * here checks a signature: the verifier does, against its trusted roots.
 */
#ifndef ATTEST_PCCS_H
#define ATTEST_PCCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <attest/collateral.h>
#include <attest/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults of attest_pccs_options_init. */
#define ATTEST_PCCS_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define ATTEST_PCCS_DEFAULT_TIMEOUT_MS 30000L
#define ATTEST_PCCS_DEFAULT_MAX_BODY_SIZE ATTEST_COLLATERAL_MAX_FILE_SIZE
#define ATTEST_PCCS_DEFAULT_MAX_HEADER_SIZE (32 * 1024)

/* The update parameter of the tcb and qe/identity routes. */
typedef enum attest_pccs_update {
    ATTEST_PCCS_UPDATE_DEFAULT,  /* no parameter: the server's default (standard) */
    ATTEST_PCCS_UPDATE_EARLY,    /* update=early */
    ATTEST_PCCS_UPDATE_STANDARD, /* update=standard */
} attest_pccs_update;

typedef struct attest_pccs_options {
    /*
     * Base URL without the route, such as "https://pccs.example:8081" or
     * "https://api.trustedservices.intel.com". HTTPS is the default. Plain
     * HTTP is used only when the URL starts with "http://", which is meant
     * for a simulated PCCS on the loopback interface.
     */
    const char *base_url;
    /* PEM file of CA certificates that verify the server; NULL: the system's. */
    const char *ca_file;
    long connect_timeout_ms; /* connection set-up, including TLS */
    long timeout_ms;         /* one whole request */
    size_t max_body_size;    /* larger bodies fail with ATTEST_ERR_LIMIT */
    size_t max_header_size;  /* any one response header line; larger fail with ATTEST_ERR_LIMIT */
    attest_pccs_update update;
    /*
     * For Intel's PCS, which has no rootcacrl route: fetch the root CA CRL
     * from the CRL distribution point (an https URL) of the PCK CA
     * certificate in the PCK CRL issuer chain. Off by default, so a PCCS
     * source never contacts a host other than base_url.
     */
    bool root_ca_crl_from_distribution_point;
} attest_pccs_options;

/* Fills options with the defaults above, base_url NULL and the distribution point off. */
void attest_pccs_options_init(attest_pccs_options *options);

/*
 * Creates a source that fetches collateral from the PCCS or PCS at
 * options->base_url. The options are copied. get may be called from several
 * threads at once (each call uses its own connection); destroy must not
 * race with them. get requires request->pck_ca to be "platform" or
 * "processor".
 * Errors of get, each with a diagnostic that names the URL:
 *   ATTEST_ERR_SOURCE_UNREACHABLE  connection failed or timed out
 *   ATTEST_ERR_SOURCE_TLS          TLS handshake or server certificate
 *   ATTEST_ERR_SOURCE_NOT_FOUND    HTTP 404
 *   ATTEST_ERR_SOURCE_HTTP_STATUS  any other status but 200
 *   ATTEST_ERR_SOURCE_HEADER       issuer chain header missing, repeated or not URL-encoded PEM
 *   ATTEST_ERR_LIMIT               body or header line over its limit
 *   ATTEST_ERR_CRL_PARSE           a CRL that is neither DER nor hex text of DER
 *   the errors of attest_collateral_split_pcs_body for a malformed TCB info or QE identity,
 *   ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_collateral_source_pccs(const attest_pccs_options *options,
                                                         attest_collateral_source *out_source,
                                                         attest_diag *diag);

/*
 * Decodes a URL-encoded (percent-encoded) header value into a new
 * NUL-terminated buffer that the caller frees. '+' stays '+', because PEM
 * base64 uses it. Errors: ATTEST_ERR_SOURCE_HEADER for a '%' not followed by
 * two hex digits or a decoded NUL byte, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_pccs_url_decode(const char *text, size_t size, char **out_text,
                                                  size_t *out_size, attest_diag *diag);

/*
 * Copies the first URI of the CRL distribution points extension of the
 * first certificate in the PEM chain into a new string the caller frees.
 * Errors: ATTEST_ERR_CERT_PARSE, ATTEST_ERR_SOURCE_HEADER when the
 * certificate has no such URI, ATTEST_ERR_NOMEM.
 */
ATTEST_MUST_USE attest_err attest_pccs_crl_distribution_point(const uint8_t *pem, size_t size,
                                                              char **out_url, attest_diag *diag);

/* ---- Cache ---- */

#define ATTEST_CACHE_DEFAULT_REFRESH_SECONDS 3600
#define ATTEST_CACHE_DEFAULT_MAX_ENTRIES 256

/*
 * Persistence hooks, so a service can keep cached collateral in its
 * database. The key names the request ("sgx:53494D000000:processor"); the
 * blob is a JSON collateral bundle (attest_collateral_from_bundle reads it).
 * load sets *out_blob to NULL when it has nothing under key; a blob it
 * returns is freed by the cache with free(). Both are called without the
 * cache's lock held and may be called from several threads at once.
 */
typedef struct attest_collateral_cache_store {
    void *context;
    attest_err (*load)(void *context, const char *key, uint8_t **out_blob, size_t *out_size,
                       attest_diag *diag);
    attest_err (*save)(void *context, const char *key, const uint8_t *blob, size_t size,
                       attest_diag *diag);
} attest_collateral_cache_store;

typedef struct attest_collateral_cache_options {
    /* Seconds after a fetch before the next get asks the source again. */
    unsigned refresh_seconds;
    size_t max_entries; /* the entry fetched longest ago makes room for a new one */
    /* Current time in Unix seconds; NULL: time(NULL). Tests set a fake clock. */
    time_t (*clock)(void *context);
    void *clock_context;
    /* Optional; copied. NULL load or save disables that direction. */
    attest_collateral_cache_store store;
} attest_collateral_cache_options;

/* Fills options with the defaults: 3600 s, 256 entries, the system clock, no store. */
void attest_collateral_cache_options_init(attest_collateral_cache_options *options);

/* Counters of a cache since its creation. */
typedef struct attest_collateral_cache_stats {
    uint64_t hits;            /* served from memory without asking the source */
    uint64_t misses;          /* no entry in memory: the source was asked */
    uint64_t refreshes;       /* entry due (interval or nextUpdate) or a forced refresh */
    uint64_t fetch_errors;    /* the source failed or returned unusable collateral */
    uint64_t stale_served;    /* served a cached entry because the source failed */
    uint64_t expired_failures; /* source failed and the cached entry was past nextUpdate */
    uint64_t store_loads;     /* entries taken from the store after a source failure */
    uint64_t store_errors;    /* store load or save calls that failed */
    size_t entries;
} attest_collateral_cache_stats;

typedef struct attest_collateral_cache attest_collateral_cache;

/*
 * Creates a caching source in front of inner and takes ownership of inner
 * (also on failure). Entries are keyed by (tdx, fmspc, pck_ca). get serves
 * a cached copy until refresh_seconds after its fetch or the earliest
 * nextUpdate of its TCB info, QE identity and CRLs, whichever comes first.
 * Then it asks inner again. When inner fails, get serves the cached copy
 * until that earliest nextUpdate (or, with no entry in memory, a copy from
 * store->load), and after it fails with ATTEST_ERR_SOURCE_CACHE_EXPIRED
 * naming the source's failure and the expiry. With nothing cached, the
 * source's own error is returned. Collateral whose TCB info, QE identity or
 * CRLs do not parse is never cached, and its parse error is returned.
 * out_cache (may be NULL) receives a handle for
 * attest_collateral_cache_refresh and _stats, valid until out_source's
 * destroy, which frees the cache and inner. get, refresh and stats are
 * thread-safe; inner's get is called without the cache's lock held, so
 * two threads that miss on the same key may both ask inner.
 */
ATTEST_MUST_USE attest_err attest_collateral_source_cache(
    attest_collateral_source *inner, const attest_collateral_cache_options *options,
    attest_collateral_source *out_source, attest_collateral_cache **out_cache,
    attest_diag *diag);

/*
 * Fetches collateral for request from the inner source now and replaces
 * the cached entry. On failure the old entry stays and the source's error
 * is returned.
 */
ATTEST_MUST_USE attest_err attest_collateral_cache_refresh(attest_collateral_cache *cache,
                                                           const attest_collateral_request *request,
                                                           attest_diag *diag);

/* Copies the counters into out_stats. */
void attest_collateral_cache_stats_get(attest_collateral_cache *cache,
                                       attest_collateral_cache_stats *out_stats);

/*
 * Finds the earliest nextUpdate among the TCB info, QE identity, PCK CRL and
 * root CA CRL of collateral. out_which names it ("tcb_info", "qe_identity",
 * "pck_crl" or "root_ca_crl"). Errors: the parse errors of the TCB info and
 * QE identity, ATTEST_ERR_CRL_PARSE.
 */
ATTEST_MUST_USE attest_err attest_collateral_earliest_next_update(
    const attest_collateral *collateral, time_t *out_next_update, const char **out_which,
    attest_diag *diag);

/* ---- Simulated PCCS (for tests and demonstrations) ---- */

/* One HTTP response of the simulated PCCS. */
typedef struct attest_pccs_response {
    unsigned status;
    const char *content_type; /* static */
    const char *chain_header; /* static header name, NULL when there is none */
    char *chain_value;        /* URL-encoded PEM */
    uint8_t *body;
    size_t body_size;
} attest_pccs_response;

void attest_pccs_response_clear(attest_pccs_response *response);

typedef struct attest_pccs_sim attest_pccs_sim;

/*
 * Opens the simulated platform in dir and issues its SGX and TDX collateral
 * for time at (attest_sim_collateral_options_init), once, to be served by
 * attest_pccs_sim_respond. fail_after > 0 makes every request after the
 * first fail_after ones return 503 (a test option); 0 disables it.
 */
ATTEST_MUST_USE attest_err attest_pccs_sim_new(const char *dir, time_t at, unsigned fail_after,
                                               attest_pccs_sim **out_sim, attest_diag *diag);
void attest_pccs_sim_free(attest_pccs_sim *sim);

/* Makes every later response 503 (true) or normal again (false). A test option. */
void attest_pccs_sim_set_unavailable(attest_pccs_sim *sim, bool unavailable);

/* Number of requests answered so far. */
unsigned long attest_pccs_sim_request_count(attest_pccs_sim *sim);

/*
 * Builds the response to method and path with query (the text after '?',
 * NULL or "" for none), in the shapes of the v4 routes above: 200 with the
 * body and issuer chain header, 400 for a missing, repeated or invalid
 * parameter, 404 for an unknown route or FMSPC, 405 for a method other
 * than GET, 503 when unavailable. Thread-safe.
 * Errors: ATTEST_ERR_ARGUMENT, ATTEST_ERR_NOMEM, ATTEST_ERR_CRYPTO.
 */
ATTEST_MUST_USE attest_err attest_pccs_sim_respond(attest_pccs_sim *sim, const char *method,
                                                   const char *path, const char *query,
                                                   attest_pccs_response *out_response,
                                                   attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
