/*
 * Strict JSON reading for collateral documents (see json.h).
 *
 * jansson gives no byte offsets of values, so attest_json_find_member_span
 * walks the raw text with a small value skipper. It runs only on text that
 * jansson has already accepted, and every step is still bounds-checked.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/json.h"
#include "util/hex.h"

void attest_json_path_format(char *out, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(out, ATTEST_JSON_PATH_SIZE, format, args);
    va_end(args);
}

attest_err attest_json_check_depth(const char *text, size_t size, attest_diag *diag)
{
    size_t depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < size; i++) {
        char c = text[i];
        if (in_string) {
            /* A backslash escapes the next byte, so \" does not end the string. */
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
            if (depth > ATTEST_JSON_MAX_DEPTH) {
                return attest_diag_set(diag, ATTEST_ERR_JSON_DEPTH,
                                       "nesting exceeds depth %d at offset %zu",
                                       ATTEST_JSON_MAX_DEPTH, i);
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return ATTEST_OK;
}

attest_err attest_json_parse(const char *text, size_t size, json_t **out_root,
                             attest_diag *diag)
{
    if (text == NULL || out_root == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "JSON text or output is NULL");
    }
    if (size > ATTEST_JSON_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "JSON text of %zu bytes exceeds the limit of %d bytes", size,
                               ATTEST_JSON_MAX_SIZE);
    }

    const char *nul = memchr(text, '\0', size);
    if (nul != NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_SYNTAX, "NUL byte at offset %zu",
                               (size_t)(nul - text));
    }

    attest_err err = attest_json_check_depth(text, size, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    json_error_t error;
    json_t *root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        if (json_error_code(&error) == json_error_duplicate_key) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_DUPLICATE_KEY,
                                   "line %d, column %d: %s", error.line, error.column,
                                   error.text);
        }
        return attest_diag_set(diag, ATTEST_ERR_JSON_SYNTAX, "line %d, column %d: %s",
                               error.line, error.column, error.text);
    }

    *out_root = root;
    return ATTEST_OK;
}

/* The span finder's skipper. Each returns the offset just past what it skipped. */

static size_t skip_whitespace(const char *text, size_t size, size_t offset)
{
    while (offset < size && (text[offset] == ' ' || text[offset] == '\t' ||
                             text[offset] == '\n' || text[offset] == '\r')) {
        offset++;
    }
    return offset;
}

/* Skips the string that starts at text[offset] == '"'. */
static bool skip_string(const char *text, size_t size, size_t offset, size_t *out_end)
{
    for (size_t i = offset + 1; i < size; i++) {
        if (text[i] == '\\') {
            i++;
        } else if (text[i] == '"') {
            *out_end = i + 1;
            return true;
        }
    }
    return false;
}

static bool skip_value(const char *text, size_t size, size_t offset, size_t *out_end)
{
    if (offset >= size) {
        return false;
    }

    if (text[offset] == '"') {
        return skip_string(text, size, offset, out_end);
    }

    if (text[offset] == '{' || text[offset] == '[') {
        size_t depth = 0;
        for (size_t i = offset; i < size; i++) {
            char c = text[i];
            if (c == '"') {
                size_t end = 0;
                if (!skip_string(text, size, i, &end)) {
                    return false;
                }
                i = end - 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
                if (depth == 0) {
                    *out_end = i + 1;
                    return true;
                }
            }
        }
        return false;
    }

    /* A number or a literal ends at the first delimiter. */
    size_t i = offset;
    while (i < size && strchr(",}] \t\r\n", text[i]) == NULL) {
        i++;
    }
    if (i == offset) {
        return false;
    }
    *out_end = i;
    return true;
}

/* Decodes the raw key text[start, end) with jansson and compares it with key. */
static bool key_equals(const char *text, size_t start, size_t end, const char *key)
{
    json_error_t error;
    json_t *decoded = json_loadb(text + start, end - start, JSON_DECODE_ANY, &error);
    if (decoded == NULL) {
        return false;
    }
    bool equal = json_is_string(decoded) && json_string_length(decoded) == strlen(key) &&
                 memcmp(json_string_value(decoded), key, strlen(key)) == 0;
    json_decref(decoded);
    return equal;
}

attest_err attest_json_find_member_span(const char *text, size_t size, const char *key,
                                        size_t *out_offset, size_t *out_size,
                                        attest_diag *diag)
{
    size_t i = skip_whitespace(text, size, 0);
    if (i >= size || text[i] != '{') {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "top level: expected an object");
    }
    i++;

    for (;;) {
        i = skip_whitespace(text, size, i);
        if (i < size && text[i] == '}') {
            break;
        }

        size_t key_start = i;
        size_t key_end = 0;
        if (i >= size || text[i] != '"' || !skip_string(text, size, i, &key_end)) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_SYNTAX,
                                   "expected a member name at offset %zu", i);
        }

        i = skip_whitespace(text, size, key_end);
        if (i >= size || text[i] != ':') {
            return attest_diag_set(diag, ATTEST_ERR_JSON_SYNTAX,
                                   "expected ':' at offset %zu", i);
        }
        size_t value_start = skip_whitespace(text, size, i + 1);
        size_t value_end = 0;
        if (!skip_value(text, size, value_start, &value_end)) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_SYNTAX,
                                   "malformed value at offset %zu", value_start);
        }

        if (key_equals(text, key_start, key_end, key)) {
            *out_offset = value_start;
            *out_size = value_end - value_start;
            return ATTEST_OK;
        }

        i = skip_whitespace(text, size, value_end);
        if (i < size && text[i] == ',') {
            i++;
            continue;
        }
        if (i < size && text[i] == '}') {
            break;
        }
        return attest_diag_set(diag, ATTEST_ERR_JSON_SYNTAX,
                               "expected ',' or '}' at offset %zu", i);
    }

    return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s: missing", key);
}

static attest_err get_member(const json_t *object, const char *path, const char *key,
                             json_t **out_value, attest_diag *diag)
{
    json_t *value = json_object_get(object, key);
    if (value == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: missing", path, key);
    }
    *out_value = value;
    return ATTEST_OK;
}

attest_err attest_json_get_object(const json_t *object, const char *path, const char *key,
                                  json_t **out_value, attest_diag *diag)
{
    json_t *value = NULL;
    attest_err err = get_member(object, path, key, &value, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!json_is_object(value)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: expected an object", path,
                               key);
    }
    *out_value = value;
    return ATTEST_OK;
}

attest_err attest_json_get_array(const json_t *object, const char *path, const char *key,
                                 json_t **out_value, attest_diag *diag)
{
    json_t *value = NULL;
    attest_err err = get_member(object, path, key, &value, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!json_is_array(value)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: expected an array", path,
                               key);
    }
    *out_value = value;
    return ATTEST_OK;
}

attest_err attest_json_get_string(const json_t *object, const char *path, const char *key,
                                  const char **out_text, size_t *out_size, attest_diag *diag)
{
    json_t *value = NULL;
    attest_err err = get_member(object, path, key, &value, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!json_is_string(value)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: expected a string", path,
                               key);
    }
    *out_text = json_string_value(value);
    *out_size = json_string_length(value);
    return ATTEST_OK;
}

attest_err attest_json_get_uint(const json_t *object, const char *path, const char *key,
                                uint64_t max, uint64_t *out_value, attest_diag *diag)
{
    json_t *value = NULL;
    attest_err err = get_member(object, path, key, &value, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!json_is_integer(value)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: expected an integer",
                               path, key);
    }
    json_int_t number = json_integer_value(value);
    if (number < 0 || (uint64_t)number > max) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: %lld is outside the range 0 to %llu", path, key,
                               (long long)number, (unsigned long long)max);
    }
    *out_value = (uint64_t)number;
    return ATTEST_OK;
}

attest_err attest_json_get_hex(const json_t *object, const char *path, const char *key,
                               uint8_t *out, size_t size, attest_diag *diag)
{
    const char *text = NULL;
    size_t text_size = 0;
    attest_err err = attest_json_get_string(object, path, key, &text, &text_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (text_size != 2 * size) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: expected %zu hex digits (%zu bytes), got %zu characters",
                               path, key, 2 * size, size, text_size);
    }
    if (attest_hex_decode_exact(text, text_size, out, size) != ATTEST_OK) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: invalid hex digit", path,
                               key);
    }
    return ATTEST_OK;
}

attest_err attest_json_get_hex_alloc(const json_t *object, const char *path, const char *key,
                                     uint8_t **out_data, size_t *out_size, attest_diag *diag)
{
    const char *text = NULL;
    size_t text_size = 0;
    attest_err err = attest_json_get_string(object, path, key, &text, &text_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (text_size == 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: empty hex string", path,
                               key);
    }
    if (text_size % 2 != 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: odd number of hex digits (%zu)", path, key, text_size);
    }
    err = attest_hex_decode_alloc(text, text_size, out_data, out_size);
    if (err == ATTEST_ERR_NOMEM) {
        return err;
    }
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: invalid hex digit", path,
                               key);
    }
    return ATTEST_OK;
}

attest_err attest_json_get_time(const json_t *object, const char *path, const char *key,
                                time_t *out_time, attest_diag *diag)
{
    const char *text = NULL;
    size_t text_size = 0;
    attest_err err = attest_json_get_string(object, path, key, &text, &text_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_time_parse(text, out_time);
    if (err != ATTEST_OK) {
        return attest_diag_set(diag, err,
                               "%s.%s: \"%.40s\" is not a date YYYY-MM-DDThh:mm:ssZ", path,
                               key, text);
    }
    return ATTEST_OK;
}

attest_err attest_json_get_tcb_status(const json_t *object, const char *path, const char *key,
                                      unsigned allowed, attest_tcb_status *out_status,
                                      attest_diag *diag)
{
    const char *text = NULL;
    size_t text_size = 0;
    attest_err err = attest_json_get_string(object, path, key, &text, &text_size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    attest_tcb_status status;
    if (attest_tcb_status_parse(text, &status) != ATTEST_OK) {
        return attest_diag_set(diag, ATTEST_ERR_TCB_STATUS_UNKNOWN,
                               "%s.%s: unknown TCB status \"%.64s\"", path, key, text);
    }
    if ((allowed & (1u << status)) == 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: status %s is not allowed here", path, key, text);
    }
    *out_status = status;
    return ATTEST_OK;
}

attest_err attest_json_get_advisories(const json_t *object, const char *path,
                                      attest_advisories *out_advisories, attest_diag *diag)
{
    attest_advisories advisories;
    memset(&advisories, 0, sizeof(advisories));

    if (json_object_get(object, "advisoryIDs") == NULL) {
        *out_advisories = advisories;
        return ATTEST_OK;
    }

    json_t *array = NULL;
    attest_err err = attest_json_get_array(object, path, "advisoryIDs", &array, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (json_array_size(array) > ATTEST_TCB_MAX_ADVISORIES) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "%s.advisoryIDs: %zu advisories exceed the limit of %d", path,
                               json_array_size(array), ATTEST_TCB_MAX_ADVISORIES);
    }

    for (size_t i = 0; i < json_array_size(array); i++) {
        json_t *id = json_array_get(array, i);
        if (!json_is_string(id)) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                                   "%s.advisoryIDs[%zu]: expected a string", path, i);
        }
        size_t length = json_string_length(id);
        if (length == 0 || length >= sizeof(advisories.ids[0])) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                                   "%s.advisoryIDs[%zu]: length %zu is outside 1 to %zu", path,
                                   i, length, sizeof(advisories.ids[0]) - 1);
        }
        memcpy(advisories.ids[i], json_string_value(id), length + 1);
    }
    advisories.count = json_array_size(array);

    *out_advisories = advisories;
    return ATTEST_OK;
}

static attest_err get_isvsvn_level(const json_t *level, const char *path,
                                   attest_isvsvn_level *out_level, attest_diag *diag)
{
    attest_isvsvn_level result;
    memset(&result, 0, sizeof(result));

    if (!json_is_object(level)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s: expected an object", path);
    }

    json_t *tcb = NULL;
    attest_err err = attest_json_get_object(level, path, "tcb", &tcb, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    char tcb_path[ATTEST_JSON_PATH_SIZE];
    attest_json_path_format(tcb_path, "%s.tcb", path);
    uint64_t isvsvn = 0;
    err = attest_json_get_uint(tcb, tcb_path, "isvsvn", UINT16_MAX, &isvsvn, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    result.isvsvn = (uint16_t)isvsvn;

    err = attest_json_get_time(level, path, "tcbDate", &result.tcb_date, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_tcb_status(level, path, "tcbStatus", ATTEST_JSON_ISVSVN_STATUSES,
                                     &result.status, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_advisories(level, path, &result.advisories, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    *out_level = result;
    return ATTEST_OK;
}

attest_err attest_json_get_isvsvn_levels(const json_t *object, const char *path,
                                         attest_isvsvn_level **out_levels, size_t *out_count,
                                         attest_diag *diag)
{
    json_t *array = NULL;
    attest_err err = attest_json_get_array(object, path, "tcbLevels", &array, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    size_t count = json_array_size(array);
    if (count == 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.tcbLevels: empty array", path);
    }
    if (count > ATTEST_TCB_MAX_LEVELS) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "%s.tcbLevels: %zu levels exceed the limit of %d", path, count,
                               ATTEST_TCB_MAX_LEVELS);
    }

    attest_isvsvn_level *levels = calloc(count, sizeof(*levels));
    if (levels == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        char level_path[ATTEST_JSON_PATH_SIZE];
        attest_json_path_format(level_path, "%s.tcbLevels[%zu]", path, i);
        err = get_isvsvn_level(json_array_get(array, i), level_path, &levels[i], diag);
        if (err != ATTEST_OK) {
            free(levels);
            return err;
        }
    }

    *out_levels = levels;
    *out_count = count;
    return ATTEST_OK;
}
