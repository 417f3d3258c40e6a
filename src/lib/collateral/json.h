/*
 * Strict JSON reading for collateral documents, on top of jansson.
 *
 * attest_json_parse enforces the limits of tcb.h (size, depth) before
 * jansson sees the text and rejects duplicate keys. The getters check one
 * field each and fail with ATTEST_ERR_JSON_FIELD and a message that names the
 * field by its path, such as "tcbInfo.tcbLevels[3].tcbStatus: expected a
 * string". A path names the object that contains the field; the getters
 * append ".key" to it.
 */
#ifndef ATTEST_COLLATERAL_JSON_H
#define ATTEST_COLLATERAL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include <attest/error.h>
#include <attest/tcb.h>

/* Size of a buffer that holds a field path such as "tcbInfo.tcbLevels[255].tcb". */
#define ATTEST_JSON_PATH_SIZE 128

/* Formats a field path into out, a buffer of ATTEST_JSON_PATH_SIZE bytes. A longer path is cut. */
void attest_json_path_format(char *out, const char *format, ...) ATTEST_PRINTF(2, 3);

/*
 * Checks that text nests objects and arrays at most ATTEST_JSON_MAX_DEPTH
 * deep, without parsing it. Brackets inside strings do not count. Errors:
 * ATTEST_ERR_JSON_DEPTH with the offset of the bracket that goes too deep.
 */
ATTEST_MUST_USE attest_err attest_json_check_depth(const char *text, size_t size,
                                                   attest_diag *diag);

/*
 * Parses text (not NUL-terminated; size bytes) into out_root, which the caller
 * releases with json_decref. Errors: ATTEST_ERR_LIMIT above
 * ATTEST_JSON_MAX_SIZE, ATTEST_ERR_JSON_SYNTAX for a NUL byte or malformed
 * text (with line and column), ATTEST_ERR_JSON_DEPTH, and
 * ATTEST_ERR_JSON_DUPLICATE_KEY with the line and column (jansson does not report the key).
 */
ATTEST_MUST_USE attest_err attest_json_parse(const char *text, size_t size, json_t **out_root,
                                             attest_diag *diag);

/*
 * Finds the value of the top-level member key of the object in text and
 * returns its byte span: out_offset is where the value starts and out_size its
 * length, exactly as written. Call it only on text that attest_json_parse
 * accepted. Errors: ATTEST_ERR_JSON_FIELD when text is not an object or has no
 * member key.
 */
ATTEST_MUST_USE attest_err attest_json_find_member_span(const char *text, size_t size,
                                                        const char *key, size_t *out_offset,
                                                        size_t *out_size, attest_diag *diag);

/* Typed getters. Each writes its output only on success. */
ATTEST_MUST_USE attest_err attest_json_get_object(const json_t *object, const char *path,
                                                  const char *key, json_t **out_value,
                                                  attest_diag *diag);
ATTEST_MUST_USE attest_err attest_json_get_array(const json_t *object, const char *path,
                                                 const char *key, json_t **out_value,
                                                 attest_diag *diag);

/* out_text points into object's storage and is NUL-terminated; out_size excludes the NUL. */
ATTEST_MUST_USE attest_err attest_json_get_string(const json_t *object, const char *path,
                                                  const char *key, const char **out_text,
                                                  size_t *out_size, attest_diag *diag);

/* Reads an integer from 0 to max. */
ATTEST_MUST_USE attest_err attest_json_get_uint(const json_t *object, const char *path,
                                                const char *key, uint64_t max,
                                                uint64_t *out_value, attest_diag *diag);

/* Reads a hex string of exactly 2 * size digits, in either case, into out. */
ATTEST_MUST_USE attest_err attest_json_get_hex(const json_t *object, const char *path,
                                               const char *key, uint8_t *out, size_t size,
                                               attest_diag *diag);

/* Reads a non-empty hex string of any even length into a new buffer the caller frees. */
ATTEST_MUST_USE attest_err attest_json_get_hex_alloc(const json_t *object, const char *path,
                                                     const char *key, uint8_t **out_data,
                                                     size_t *out_size, attest_diag *diag);

/* Reads a "YYYY-MM-DDThh:mm:ssZ" date. Errors: ATTEST_ERR_TIME_FORMAT naming the field. */
ATTEST_MUST_USE attest_err attest_json_get_time(const json_t *object, const char *path,
                                                const char *key, time_t *out_time,
                                                attest_diag *diag);

/*
 * Reads a TCB status name. allowed is a bit mask of (1u << status) values the
 * document may use here. A known name outside it fails with
 * ATTEST_ERR_JSON_FIELD, and an unknown one with ATTEST_ERR_TCB_STATUS_UNKNOWN.
 */
ATTEST_MUST_USE attest_err attest_json_get_tcb_status(const json_t *object, const char *path,
                                                      const char *key, unsigned allowed,
                                                      attest_tcb_status *out_status,
                                                      attest_diag *diag);

/* Statuses a platform TCB level may have: all but the two TDRelaunchAdvised ones. */
#define ATTEST_JSON_PLATFORM_STATUSES                                                      \
    ((1u << ATTEST_TCB_UP_TO_DATE) | (1u << ATTEST_TCB_SW_HARDENING_NEEDED) |              \
     (1u << ATTEST_TCB_CONFIGURATION_NEEDED) |                                             \
     (1u << ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED) |                            \
     (1u << ATTEST_TCB_OUT_OF_DATE) | (1u << ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) | \
     (1u << ATTEST_TCB_REVOKED))

/* Statuses a TDX module identity level or a QE identity level may have. */
#define ATTEST_JSON_ISVSVN_STATUSES                                                        \
    ((1u << ATTEST_TCB_UP_TO_DATE) | (1u << ATTEST_TCB_OUT_OF_DATE) |                      \
     (1u << ATTEST_TCB_REVOKED))

/* Reads the optional "advisoryIDs" array; absent means no advisories. */
ATTEST_MUST_USE attest_err attest_json_get_advisories(const json_t *object, const char *path,
                                                      attest_advisories *out_advisories,
                                                      attest_diag *diag);

/*
 * Reads a "tcbLevels" array of {"tcb":{"isvsvn":n},"tcbDate","tcbStatus",
 * "advisoryIDs"?} levels, as QE identities and TDX module identities have
 * them, into a new array the caller frees. The array must hold 1 to
 * ATTEST_TCB_MAX_LEVELS levels.
 */
ATTEST_MUST_USE attest_err attest_json_get_isvsvn_levels(const json_t *object, const char *path,
                                                         attest_isvsvn_level **out_levels,
                                                         size_t *out_count, attest_diag *diag);

#endif
