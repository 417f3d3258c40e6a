/*
 * Structured log lines and the repeat limit of failed-request lines.
 * NOTE: the repeat table has a fixed number of slots. When all of them hold
 * distinct failures of the current window, a new kind of failure is logged
 * without a limit, so no failure is dropped silently.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Identical failures logged in full per window before only counting them. */
#define REPEAT_LOGGED_MAX 5
#define REPEAT_WINDOW_SECONDS 10
#define REPEAT_SLOT_COUNT 64
#define REPEAT_KEY_MAX_SIZE 160

typedef struct repeat_slot {
    char key[REPEAT_KEY_MAX_SIZE];
    time_t window_start;
    unsigned long logged;
    unsigned long suppressed;
} repeat_slot;

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static repeat_slot repeat_slots[REPEAT_SLOT_COUNT];

/* Writes one line; the caller holds log_mutex. */
static void write_line(const char *level, const char *event, json_t *fields)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char time_text[40];
    size_t length = strftime(time_text, sizeof(time_text), "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(time_text + length, sizeof(time_text) - length, ".%03ldZ", now.tv_nsec / 1000000L);

    json_t *line = json_object();
    if (line == NULL) {
        return;
    }
    json_object_set_new(line, "time", json_string(time_text));
    json_object_set_new(line, "level", json_string(level));
    json_object_set_new(line, "event", json_string(event));
    if (fields != NULL) {
        json_object_update(line, fields);
    }

    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(line);
    if (text != NULL) {
        fprintf(stderr, "%s\n", text);
        fflush(stderr);
        free(text);
    }
}

void attestd_log(const char *level, const char *event, json_t *fields)
{
    pthread_mutex_lock(&log_mutex);
    write_line(level, event, fields);
    pthread_mutex_unlock(&log_mutex);
    json_decref(fields);
}

/* Logs how many identical failures a slot left out; the caller holds log_mutex. */
static void write_suppressed(const repeat_slot *slot)
{
    json_t *fields =
        json_pack("{s:s, s:I, s:i}", "failure", slot->key, "count", (json_int_t)slot->suppressed,
                  "window_seconds", REPEAT_WINDOW_SECONDS);
    write_line("warning", "request_failures_suppressed", fields);
    json_decref(fields);
}

/* Returns whether this failure is logged in full; the caller holds log_mutex. */
static bool repeat_admit(const char *key, time_t now)
{
    repeat_slot *free_slot = NULL;
    for (size_t i = 0; i < REPEAT_SLOT_COUNT; i++) {
        repeat_slot *slot = &repeat_slots[i];
        if (slot->key[0] != '\0' && now - slot->window_start >= REPEAT_WINDOW_SECONDS) {
            if (slot->suppressed > 0) {
                write_suppressed(slot);
            }
            slot->key[0] = '\0';
        }
        if (slot->key[0] == '\0') {
            if (free_slot == NULL) {
                free_slot = slot;
            }
            continue;
        }
        if (strcmp(slot->key, key) == 0) {
            if (slot->logged < REPEAT_LOGGED_MAX) {
                slot->logged++;
                return true;
            }
            slot->suppressed++;
            return false;
        }
    }

    if (free_slot != NULL) {
        snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
        free_slot->window_start = now;
        free_slot->logged = 1;
        free_slot->suppressed = 0;
    }
    return true;
}

static void set_text(json_t *fields, const char *name, const char *value)
{
    if (value != NULL && value[0] != '\0') {
        json_object_set_new(fields, name, json_string(value));
    }
}

/*
 * Returns the method when HTTP defines it, else "other", so that a client
 * cannot make every failure a new kind by inventing method names.
 */
static const char *method_class(const char *method)
{
    static const char *const known[] = {"GET",     "HEAD",    "POST",  "PUT",    "DELETE",
                                        "OPTIONS", "CONNECT", "TRACE", "PATCH"};
    for (size_t i = 0; method != NULL && i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(method, known[i]) == 0) {
            return known[i];
        }
    }
    return "other";
}

void attestd_log_request_failure(const attestd_request_failure *failure)
{
    const char *method = method_class(failure->method);
    char key[REPEAT_KEY_MAX_SIZE];
    snprintf(key, sizeof(key), "%u %s %s %s", failure->status, method, failure->route,
             failure->error_code);

    pthread_mutex_lock(&log_mutex);
    if (!repeat_admit(key, time(NULL))) {
        pthread_mutex_unlock(&log_mutex);
        return;
    }

    json_t *fields = json_object();
    if (fields != NULL) {
        json_object_set_new(fields, "status", json_integer(failure->status));
        set_text(fields, "method", method);
        set_text(fields, "route", failure->route);
        set_text(fields, "request_id", failure->request_id);
        set_text(fields, "application", failure->application);
        set_text(fields, "client_address", failure->client_address);
        set_text(fields, "error", failure->error_code);
        set_text(fields, "message", failure->message);
    }
    write_line(failure->status >= 500 ? "error" : "warning", "request_failed", fields);
    json_decref(fields);
    pthread_mutex_unlock(&log_mutex);
}

void attestd_log_flush(void)
{
    pthread_mutex_lock(&log_mutex);
    for (size_t i = 0; i < REPEAT_SLOT_COUNT; i++) {
        repeat_slot *slot = &repeat_slots[i];
        if (slot->key[0] != '\0' && slot->suppressed > 0) {
            write_suppressed(slot);
        }
        slot->key[0] = '\0';
    }
    pthread_mutex_unlock(&log_mutex);
}
