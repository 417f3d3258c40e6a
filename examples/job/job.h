/*
 * Shared parts of the demonstration job: the wire format between a worker
 * and the server, and the relying party's token check.
 *
 * Wire format, over one TCP connection per worker. Every message is a frame:
 *
 *   type (1 byte) | payload size (4 bytes, big-endian) | payload
 *
 *   'T' token   the sender's attestation token (compact JWS), 1 to
 *               ATTEST_TOKEN_MAX_SIZE bytes
 *   'A' accept  sent by the server after it verified the worker's token:
 *               the jti of that token, ASCII
 *   'R' reject  why the sender rejects the peer, UTF-8 text, 1 to
 *               JOB_MAX_REASON_SIZE bytes; the sender closes afterwards
 *   'D' data    the worker's vector: 1 to JOB_MAX_NUMBERS signed 64-bit
 *               integers, 8 bytes each, big-endian
 *   'S' result  the combined vector, in the same encoding as 'D', with as
 *               many numbers as the worker sent
 *
 * Exchange: server 'T', worker 'T' or 'R', server 'A' or 'R', worker 'D',
 * server 'S' or 'R'. The server presents its token first, so a worker sends
 * its own token only to a peer that showed a valid token of the server. Data
 * is sent only after both tokens were verified: the worker sends 'D' only
 * after its check of the server's token and the server's 'A'. The server
 * accepts each token's jti once per job, so one token fills one worker slot.
 * Each connection has its own deadline (--connection-timeout), so an idle
 * or slow peer is dropped and the server goes on accepting.
 *
 * Caveats: the tokens are bearer tokens and the connection is plain TCP.
 * The server shows its token to every client that connects, so any such
 * client can present a copy to a worker and pose as the server. A worker
 * cannot tell the copy from the original, so that party then gets the
 * worker's token and vector. A real job would bind each token to a key of
 * its channel, for example by attesting with runtime data that is the
 * public key of a TLS certificate. Peer connections are served one after
 * another, so each idle peer delays the genuine workers by up to the
 * connection timeout, and enough of them use up the whole --timeout.
 * Peer text (rejection reasons) is printed only through job_text_sanitize.
 */
#ifndef ATTEST_JOB_H
#define ATTEST_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/token.h>

#define JOB_MESSAGE_TOKEN 'T'
#define JOB_MESSAGE_ACCEPT 'A'
#define JOB_MESSAGE_REJECT 'R'
#define JOB_MESSAGE_DATA 'D'
#define JOB_MESSAGE_RESULT 'S'

/* Frame header: type and payload size. */
#define JOB_FRAME_HEADER_SIZE 5
/* Maximum count of numbers in one vector, and so 8 KiB of payload. */
#define JOB_MAX_NUMBERS 1024
#define JOB_NUMBER_SIZE 8
#define JOB_MAX_REASON_SIZE 512
/* Room for one error or rejection message, with its NUL. */
#define JOB_MESSAGE_SIZE 640

/* Default wait of a worker for one message, and of the server for the whole job, in seconds. */
#define JOB_DEFAULT_TIMEOUT_SECONDS 30
/* Default time the server gives one connection, from accept to the worker's vector, in seconds. */
#define JOB_DEFAULT_CONNECTION_TIMEOUT_SECONDS 5
/* Maximum bytes of peer text that are printed. The rest is cut and marked with "...". */
#define JOB_MAX_PEER_TEXT_SIZE 200
/* Room for peer text after job_text_sanitize: 4 bytes per escaped byte, "..." and the NUL. */
#define JOB_PEER_TEXT_SIZE (JOB_MAX_PEER_TEXT_SIZE * 4 + 4)

/*
 * Writes one frame to fd within timeout_ms. Returns 0, or -1 with the
 * reason in error (JOB_MESSAGE_SIZE bytes).
 */
int job_frame_write(int fd, uint8_t type, const void *payload, size_t size, int timeout_ms,
                    char *error);

/* Returns the monotonic clock in milliseconds. */
int64_t job_monotonic_ms(void);

/*
 * Reads one frame from fd within timeout_ms into buffer (capacity bytes).
 * The size field is checked against capacity before any payload is read,
 * and an empty payload is rejected. Returns 0 with *out_type and
 * *out_size set, or -1 with the reason in error: timed out, closed by the
 * peer, a payload above capacity.
 */
int job_frame_read(int fd, uint8_t *out_type, uint8_t *buffer, size_t capacity,
                   size_t *out_size, int timeout_ms, char *error);

/*
 * Parses comma-separated decimal integers ("1,-2,3") into numbers
 * (JOB_MAX_NUMBERS). Returns 0 with *out_count set, or -1 with the reason in error.
 */
int job_numbers_parse(const char *text, int64_t *numbers, size_t *out_count, char *error);

/* Encodes count numbers big-endian into out (count * JOB_NUMBER_SIZE bytes). */
void job_numbers_encode(const int64_t *numbers, size_t count, uint8_t *out);

/*
 * Decodes a 'D' or 'S' payload into numbers (JOB_MAX_NUMBERS). Returns 0
 * with *out_count set, or -1 with the reason in error.
 */
int job_numbers_decode(const uint8_t *payload, size_t size, int64_t *numbers, size_t *out_count,
                       char *error);

/* Formats numbers as "1,2,3" into out, ending in "..." when out_size is too small. */
void job_numbers_format(const int64_t *numbers, size_t count, char *out, size_t out_size);

/*
 * Copies peer text[0..size) into out (JOB_PEER_TEXT_SIZE bytes) for printing:
 * printable ASCII stays, a backslash becomes "\\", a newline "\n" and every
 * other byte "\xHH", so the text cannot add lines or control the terminal.
 * Only the first JOB_MAX_PEER_TEXT_SIZE bytes are copied, followed by "..."
 * when there were more.
 */
void job_text_sanitize(const void *text, size_t size, char *out);

/* What a relying party checks in a peer's token. */
typedef struct job_relying_party {
    attest_jwks_cache *jwks;
    const char *issuer;      /* iss must equal it */
    const char *application; /* sub must equal it */
} job_relying_party;

/* Room for a jti with its NUL. job_token_check rejects a longer jti. */
#define JOB_JTI_SIZE 64

/* The claims of a verified token that the job prints. */
typedef struct job_token_summary {
    char application[128];
    char policy[160];
    char tcb_status[64];
    char jti[JOB_JTI_SIZE];
} job_token_summary;

/*
 * Sets up party to fetch the JWKS from jwks_url, verified with ca_file (NULL:
 * the system CA store) unless insecure_tls. Returns 0, or -1 after printing
 * why with program as the prefix.
 */
int job_relying_party_init(job_relying_party *party, const char *program, const char *jwks_url,
                           const char *ca_file, bool insecure_tls, const char *issuer,
                           const char *application);

void job_relying_party_free(job_relying_party *party);

/*
 * Verifies token[0..size) at the current time: the JWKS key and signature,
 * exp, nbf and iat with the library's clock skew, iss, no aud, sub, and a
 * jti of 1 to 63 printable ASCII characters. Returns 0 with out_summary
 * filled, or -1 with "check NAME failed: DETAIL" in failure
 * (JOB_MESSAGE_SIZE bytes), where NAME is the attest error code, "sub" or
 * "jti".
 */
int job_token_check(job_relying_party *party, const char *token, size_t size,
                    job_token_summary *out_summary, char *failure);

/*
 * Reads this process's own token from the file that ATTEST_TOKEN_FILE names,
 * as attest exec sets it, into a new NUL-terminated string, without the
 * trailing newline. Returns it, or NULL after printing why.
 */
char *job_own_token_read(const char *program, size_t *out_size);

/*
 * Parses a decimal number of seconds from 1 to 3600 into
 * *out_milliseconds. Returns 0, or -1 when text is not one.
 */
int job_seconds_parse(const char *text, int *out_milliseconds);

#endif
