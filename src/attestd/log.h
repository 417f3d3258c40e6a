/*
 * Structured log of attestd: one JSON object per line on stderr, with the
 * keys "time" (RFC 3339, UTC), "level" and "event" first.
 *
 * Callers never pass an API key, a token or an evidence body in fields.
 * Failed requests go through attestd_log_request_failure, which logs the
 * first few identical failures (same status, route and error code) of each
 * 10-second window and then only a count of the ones it left out.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef ATTESTD_LOG_H
#define ATTESTD_LOG_H

#include <jansson.h>

/* Writes one line; fields (may be NULL) is a JSON object whose reference is taken. */
void attestd_log(const char *level, const char *event, json_t *fields);

/* Details of one failed request. Text fields may be empty, never NULL. */
typedef struct attestd_request_failure {
    unsigned status;
    const char *method;
    const char *route;
    const char *request_id;
    const char *application;
    const char *client_address;
    const char *error_code;
    const char *message;
} attestd_request_failure;

/* Logs a failed request unless identical failures already filled this window. */
void attestd_log_request_failure(const attestd_request_failure *failure);

/* Writes the counts of failures left out so far; called at stop. */
void attestd_log_flush(void);

#endif
