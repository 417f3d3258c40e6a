/* attest token: signing keys, JWKS, signing claims and verifying tokens. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <attest/token.h>

#include "cli.h"
#include "util/file.h"

/* Limits on the files this command reads. */
#define KEY_FILE_MAX_SIZE (64 * 1024)
#define CLAIMS_FILE_MAX_SIZE (256 * 1024)
#define MAX_KEY_OPTIONS ATTEST_KEYSET_MAX_KEYS

static void token_usage(FILE *out)
{
    fprintf(out,
            "usage: attest token keygen [--alg ES256|RS256|PS384] --out KEY.pem [--at SECONDS]\n"
            "       attest token jwks --key KEY.pem [--key OLD.pem ...] --out FILE\n"
            "       attest token sign --key KEY.pem --claims FILE.json --out TOKEN\n"
            "       attest token verify (--token FILE | TOKEN) --jwks FILE|URL [--at SECONDS]\n"
            "                           [--audience AUD] [--issuer ISS] [--app ID] [--nonce N]\n"
            "                           [--cacert FILE] [--insecure-tls] [--json]\n"
            "\n"
            "keygen: writes a new private key (ES256: P-256; RS256, PS384: RSA 3072) and its\n"
            "        self-signed certificate to KEY.pem (mode 0600) and prints its kid.\n"
            "        --at sets the certificate's notBefore in Unix seconds (default: now).\n"
            "jwks:   writes the public JWKS of the keys (the first is the current key).\n"
            "sign:   signs the JSON object in FILE.json as a JWT, as is (no claim added).\n"
            "verify: checks the token's header, kid, signature, exp, nbf and iat at --at\n"
            "        (default: now) with %d s of clock skew, and iss and aud when given.\n"
            "        A token with an aud claim needs --audience. --app checks sub, --nonce\n"
            "        nonce and eat_nonce. TOKEN is a file or the token text. --jwks URL fetches the\n"
            "        service's JWKS (https, verified with the system CAs or --cacert);\n"
            "        keys named inside a token (jku, x5u, jwk, x5c) are rejected.\n"
            "        Prints the claims. --json prints a JSON object for every outcome,\n"
            "        errors included.\n"
            "\n"
            "exit status: 0 done or token valid, 1 token invalid, 2 usage or file error\n",
            ATTEST_TOKEN_CLOCK_SKEW_DEFAULT);
}

static int usage_error(const char *format, const char *value)
{
    fprintf(stderr, "attest token: ");
    fprintf(stderr, format, value);
    fprintf(stderr, "\n");
    return CLI_EXIT_USAGE;
}

/* Prints err with its detail for the file at path and returns CLI_EXIT_USAGE. */
static int file_error(const char *action, const char *path, attest_err err,
                      const attest_diag *diag)
{
    fprintf(stderr, "attest token: %s %s failed: %s: %s\n", action, path, attest_err_code(err),
            diag->message[0] != '\0' ? diag->message : attest_err_message(err));
    return CLI_EXIT_USAGE;
}

/* Writes data to path, created or truncated, with permissions mode. */
static int write_file(const char *path, const void *data, size_t size, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "attest token: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* An existing file keeps its permissions on O_TRUNC, so set them again. */
    bool written = fchmod(fd, mode) == 0;
    const char *bytes = data;
    size_t offset = 0;
    while (written && offset < size) {
        ssize_t count = write(fd, bytes + offset, size - offset);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        written = count > 0;
        offset += count > 0 ? (size_t)count : 0;
    }
    if (close(fd) != 0 || !written) {
        fprintf(stderr, "attest token: writing %s failed: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes text and a newline to path. */
static int write_text_line(const char *path, const char *text, mode_t mode)
{
    size_t length = strlen(text);
    char *line = malloc(length + 1);
    if (line == NULL) {
        fprintf(stderr, "attest token: out of memory writing %s\n", path);
        return -1;
    }
    memcpy(line, text, length);
    line[length] = '\n';
    int result = write_file(path, line, length + 1, mode);
    free(line);
    return result;
}

/* Parses --at into out_at; returns -1 after printing why it is invalid. */
static int parse_at(const char *text, time_t *out_at)
{
    long long seconds = 0;
    if (cli_parse_seconds(text, &seconds) != 0) {
        usage_error("--at \"%s\" is not a number of Unix seconds", text);
        return -1;
    }
    *out_at = (time_t)seconds;
    return 0;
}

/* Loads the signing key in the PEM file at path. */
static int load_key(const char *path, time_t now, attest_signing_key **out_key)
{
    uint8_t *pem = NULL;
    size_t size = 0;
    attest_diag diag = {{0}};
    attest_err err = attest_file_read(path, KEY_FILE_MAX_SIZE, &pem, &size, &diag);
    if (err != ATTEST_OK) {
        file_error("reading", path, err, &diag);
        return -1;
    }
    err = attest_signing_key_from_pem((const char *)pem, size, now, out_key, &diag);
    attest_signing_key_pem_free((char *)pem, size);
    if (err != ATTEST_OK) {
        file_error("loading the signing key", path, err, &diag);
        return -1;
    }
    return 0;
}

static int token_keygen(int argc, char **argv)
{
    static const struct option options[] = {
        {"alg", required_argument, NULL, 'a'},
        {"out", required_argument, NULL, 'o'},
        {"at", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *alg_name = "ES256";
    const char *out_path = NULL;
    time_t now = time(NULL);
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'a':
            alg_name = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 't':
            if (parse_at(optarg, &now) != 0) {
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            token_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            return usage_error("keygen: invalid option or missing value near \"%s\"",
                               argv[optind - 1]);
        }
    }
    attest_token_alg alg;
    if (attest_token_alg_parse(alg_name, &alg) != ATTEST_OK) {
        return usage_error("keygen: --alg \"%s\" is not ES256, RS256 or PS384", alg_name);
    }
    if (out_path == NULL || optind != argc) {
        return usage_error("keygen: --out KEY.pem is required and takes no other argument%s",
                           "");
    }

    attest_signing_key *key = NULL;
    attest_err err = attest_signing_key_generate(alg, now, &key);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest token keygen: %s: %s\n", attest_err_code(err),
                attest_err_message(err));
        return CLI_EXIT_USAGE;
    }
    char *pem = NULL;
    size_t size = 0;
    err = attest_signing_key_to_pem(key, &pem, &size);
    int status = CLI_EXIT_USAGE;
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest token keygen: %s: %s\n", attest_err_code(err),
                attest_err_message(err));
    } else if (write_file(out_path, pem, size, 0600) == 0) {
        printf("kid: %s\nalg: %s\n", attest_signing_key_kid(key), alg_name);
        status = CLI_EXIT_VALID;
    }
    attest_signing_key_pem_free(pem, size);
    attest_signing_key_free(key);
    return status;
}

static int token_jwks(int argc, char **argv)
{
    static const struct option options[] = {
        {"key", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key_paths[MAX_KEY_OPTIONS];
    size_t key_count = 0;
    const char *out_path = NULL;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'k':
            if (key_count == MAX_KEY_OPTIONS) {
                return usage_error("jwks: at most %s --key options", "16");
            }
            key_paths[key_count++] = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            token_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            return usage_error("jwks: invalid option or missing value near \"%s\"",
                               argv[optind - 1]);
        }
    }
    if (key_count == 0 || out_path == NULL || optind != argc) {
        return usage_error("jwks: --key KEY.pem and --out FILE are required%s", "");
    }

    /* Every key given is published: the retired ones as if retired just now. */
    time_t now = time(NULL);
    attest_keyset *set = NULL;
    if (attest_keyset_new(24 * 60 * 60, &set) != ATTEST_OK) {
        return CLI_EXIT_USAGE;
    }
    int status = CLI_EXIT_USAGE;
    char *jwks = NULL;
    for (size_t i = 0; i < key_count; i++) {
        attest_signing_key *key = NULL;
        if (load_key(key_paths[i], now, &key) != 0) {
            goto out;
        }
        attest_err err = i == 0 ? attest_keyset_rotate(set, key, now)
                                : attest_keyset_add_retired(set, key, now);
        if (err != ATTEST_OK) {
            fprintf(stderr, "attest token jwks: key %s: %s (the same key given twice?)\n",
                    key_paths[i], attest_err_code(err));
            attest_signing_key_free(key);
            goto out;
        }
    }
    if (attest_keyset_jwks(set, now, &jwks) != ATTEST_OK) {
        fprintf(stderr, "attest token jwks: building the JWKS failed\n");
        goto out;
    }
    if (write_text_line(out_path, jwks, 0644) == 0) {
        status = CLI_EXIT_VALID;
    }

out:
    free(jwks);
    attest_keyset_free(set);
    return status;
}

static int token_sign(int argc, char **argv)
{
    static const struct option options[] = {
        {"key", required_argument, NULL, 'k'},
        {"claims", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL;
    const char *claims_path = NULL;
    const char *out_path = NULL;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'k':
            key_path = optarg;
            break;
        case 'c':
            claims_path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            token_usage(stdout);
            return CLI_EXIT_VALID;
        default:
            return usage_error("sign: invalid option or missing value near \"%s\"",
                               argv[optind - 1]);
        }
    }
    if (key_path == NULL || claims_path == NULL || out_path == NULL || optind != argc) {
        return usage_error("sign: --key KEY.pem, --claims FILE.json and --out TOKEN are "
                           "required%s",
                           "");
    }

    uint8_t *text = NULL;
    size_t size = 0;
    attest_diag diag = {{0}};
    attest_err err = attest_file_read(claims_path, CLAIMS_FILE_MAX_SIZE, &text, &size, &diag);
    if (err != ATTEST_OK) {
        return file_error("reading", claims_path, err, &diag);
    }
    json_error_t error;
    json_t *claims = json_loadb((const char *)text, size, JSON_REJECT_DUPLICATES, &error);
    free(text);
    if (!json_is_object(claims)) {
        fprintf(stderr, "attest token sign: %s is not a JSON object: %s (line %d)\n",
                claims_path, claims == NULL ? error.text : "another JSON type",
                claims == NULL ? error.line : 0);
        json_decref(claims);
        return CLI_EXIT_USAGE;
    }

    attest_signing_key *key = NULL;
    int status = CLI_EXIT_USAGE;
    char *token = NULL;
    if (load_key(key_path, time(NULL), &key) != 0) {
        goto out;
    }
    err = attest_token_sign(key, claims, &token, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest token sign: %s: %s\n", attest_err_code(err),
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        goto out;
    }
    if (write_text_line(out_path, token, 0644) == 0) {
        status = CLI_EXIT_VALID;
    }

out:
    free(token);
    attest_signing_key_free(key);
    json_decref(claims);
    return status;
}

typedef struct verify_args {
    const char *token_path;
    const char *token_argument; /* positional TOKEN: a file, or the token text itself */
    const char *jwks_path;      /* a file, or an http:// or https:// URL */
    time_t at;
    const char *audience;
    const char *issuer;
    const char *app;            /* sub must equal it */
    const char *nonce;          /* nonce must equal it */
    const char *ca_file;
    bool insecure_tls;
    bool json;
} verify_args;

/* Prints the JSON object of an outcome to stdout. Returns -1 when out of memory. */
static int verify_print_json(attest_err err, const attest_diag *diag, const json_t *claims)
{
    json_t *root = NULL;
    if (err == ATTEST_OK) {
        root = json_pack("{s:b,s:O}", "valid", 1, "claims", (json_t *)claims);
    } else {
        root = json_pack("{s:b,s:{s:s,s:s,s:s}}", "valid", 0, "error", "code",
                         attest_err_code(err), "message", attest_err_message(err), "detail",
                         diag->message);
    }
    char *text = root != NULL ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (text == NULL) {
        fprintf(stderr, "attest token verify: out of memory formatting the result\n");
        return -1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

/* Prints the outcome of attest token verify, as text or JSON, and returns the exit status. */
static int verify_print(const verify_args *args, attest_err err, const attest_diag *diag,
                        const json_t *claims)
{
    if (args->json) {
        if (verify_print_json(err, diag, claims) != 0) {
            return CLI_EXIT_USAGE;
        }
        return err == ATTEST_OK ? CLI_EXIT_VALID : CLI_EXIT_INVALID;
    }
    if (err != ATTEST_OK) {
        fprintf(stderr, "attest token verify: invalid: %s: %s\n", attest_err_code(err),
                diag->message[0] != '\0' ? diag->message : attest_err_message(err));
        return CLI_EXIT_INVALID;
    }
    char *text = json_dumps(claims, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("result: valid\nclaims: %s\n", text != NULL ? text : "(out of memory)");
    free(text);
    return CLI_EXIT_VALID;
}

/*
 * Reports an error that stopped verification before the token was checked
 * (usage, token file, JWKS), as JSON on stdout with --json and as text on
 * stderr otherwise, and returns CLI_EXIT_USAGE. action and path, when not
 * NULL, say what failed on which file or URL.
 */
static int verify_error(bool json, const char *action, const char *path, attest_err err,
                        const attest_diag *diag)
{
    const char *detail = diag->message[0] != '\0' ? diag->message : attest_err_message(err);
    attest_diag full = {{0}};
    if (action != NULL) {
        attest_diag_set(&full, err, "%s %s failed: %s", action, path, detail);
    } else {
        attest_diag_set(&full, err, "%s", detail);
    }
    if (json) {
        (void)verify_print_json(err, &full, NULL);
    } else {
        fprintf(stderr, "attest token verify: %s: %s\n", attest_err_code(err), full.message);
    }
    return CLI_EXIT_USAGE;
}

/* Parses the arguments of attest token verify. On failure, diag gets the reason. */
static int verify_parse_args(int argc, char **argv, verify_args *out, bool *out_help,
                             attest_diag *diag)
{
    static const struct option options[] = {
        {"token", required_argument, NULL, 'k'},
        {"jwks", required_argument, NULL, 'w'},
        {"at", required_argument, NULL, 't'},
        {"audience", required_argument, NULL, 'a'},
        {"issuer", required_argument, NULL, 'i'},
        {"app", required_argument, NULL, 'p'},
        {"nonce", required_argument, NULL, 'n'},
        {"cacert", required_argument, NULL, 'c'},
        {"insecure-tls", no_argument, NULL, 'x'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long long seconds = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'k':
            out->token_path = optarg;
            break;
        case 'w':
            out->jwks_path = optarg;
            break;
        case 't':
            if (cli_parse_seconds(optarg, &seconds) != 0) {
                attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                "--at \"%.64s\" is not a number of Unix seconds", optarg);
                return -1;
            }
            out->at = (time_t)seconds;
            break;
        case 'a':
            out->audience = optarg;
            break;
        case 'i':
            out->issuer = optarg;
            break;
        case 'p':
            out->app = optarg;
            break;
        case 'n':
            out->nonce = optarg;
            break;
        case 'c':
            out->ca_file = optarg;
            break;
        case 'x':
            out->insecure_tls = true;
            break;
        case 'j':
            out->json = true;
            break;
        case 'h':
            *out_help = true;
            return 0;
        default:
            attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                            "invalid option or missing value near \"%.64s\"", argv[optind - 1]);
            return -1;
        }
    }
    if (optind + 1 == argc && out->token_path == NULL) {
        out->token_argument = argv[optind++];
    }
    if ((out->token_path == NULL && out->token_argument == NULL) || out->jwks_path == NULL ||
        optind != argc) {
        attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                        "a token (--token FILE, or TOKEN) and --jwks FILE|URL are required");
        return -1;
    }
    return 0;
}

/* True when argv has --json, so that a usage error can be reported as JSON as well. */
static bool has_json_option(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (strcmp(argv[i], "--json") == 0) {
            return true;
        }
    }
    return false;
}

/* True when text names a URL rather than a file. */
static bool is_url(const char *text)
{
    return strncmp(text, "https://", 8) == 0 || strncmp(text, "http://", 7) == 0;
}

/* Checks a claim that must equal expected as a string; ATTEST_OK when expected is NULL. */
static attest_err claim_equals(const json_t *claims, const char *name, const char *expected,
                               attest_diag *diag)
{
    if (expected == NULL) {
        return ATTEST_OK;
    }
    const char *actual = json_string_value(json_object_get(claims, name));
    if (actual == NULL || strcmp(actual, expected) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_CLAIM,
                               "claim %s is \"%.80s\", expected \"%.80s\"", name,
                               actual != NULL ? actual : "(absent)", expected);
    }
    return ATTEST_OK;
}

/*
 * Reads the token from --token FILE, or from TOKEN when it names a readable
 * file or is not shaped as a token, or else takes TOKEN as the token text.
 * Trailing newlines are dropped.
 */
static int verify_token_read(const verify_args *args, uint8_t **out_token, size_t *out_size)
{
    attest_diag diag = {{0}};
    uint8_t *token = NULL;
    size_t size = 0;
    /* TOKEN without the two dots of a compact JWS is a path, so a missing file is reported as such. */
    size_t dots = 0;
    for (const char *c = args->token_argument; c != NULL && *c != '\0'; c++) {
        dots += *c == '.';
    }
    if (args->token_path != NULL ||
        (args->token_argument != NULL && (access(args->token_argument, R_OK) == 0 || dots != 2))) {
        const char *path = args->token_path != NULL ? args->token_path : args->token_argument;
        attest_err err = attest_file_read(path, ATTEST_TOKEN_MAX_SIZE + 2, &token, &size, &diag);
        if (err != ATTEST_OK) {
            return verify_error(args->json, "reading the token file", path, err, &diag);
        }
    } else {
        token = (uint8_t *)strdup(args->token_argument);
        if (token == NULL) {
            return verify_error(args->json, NULL, NULL, ATTEST_ERR_NOMEM, &diag);
        }
        size = strlen(args->token_argument);
    }
    /* Files usually end in a newline, which is not part of the token. */
    while (size > 0 && (token[size - 1] == '\n' || token[size - 1] == '\r')) {
        size--;
    }
    *out_token = token;
    *out_size = size;
    return CLI_EXIT_VALID;
}

/*
 * Loads the JWKS from --jwks: fetched from the URL, where the token's kid
 * picks a key, or read from the file.
 */
static int verify_jwks_load(const verify_args *args, const uint8_t *token, size_t token_size,
                            json_t **out_jwks)
{
    attest_diag diag = {{0}};
    if (!is_url(args->jwks_path)) {
        uint8_t *text = NULL;
        size_t size = 0;
        attest_err err = attest_file_read(args->jwks_path, ATTEST_JWKS_MAX_SIZE, &text, &size,
                                          &diag);
        if (err != ATTEST_OK) {
            return verify_error(args->json, "reading the JWKS file", args->jwks_path, err, &diag);
        }
        err = attest_jwks_parse((const char *)text, size, out_jwks, &diag);
        free(text);
        if (err != ATTEST_OK) {
            return verify_error(args->json, "parsing the JWKS", args->jwks_path, err, &diag);
        }
        return CLI_EXIT_VALID;
    }

    /* Keys come only from this URL, never from a URL or key inside the token. */
    attest_jwks_cache_options cache_options;
    attest_jwks_cache_options_init(&cache_options);
    cache_options.url = args->jwks_path;
    cache_options.ca_file = args->ca_file;
    cache_options.insecure_tls = args->insecure_tls;
    if (args->insecure_tls) {
        fprintf(stderr, "attest token verify: warning: --insecure-tls: the JWKS server's "
                        "certificate is not verified, which is insecure\n");
    }
    attest_jwks_cache *cache = NULL;
    char kid[ATTEST_TOKEN_KID_SIZE] = "";
    attest_err err = attest_jwks_cache_new(&cache_options, &cache, &diag);
    if (err == ATTEST_OK &&
        attest_token_header_kid((const char *)token, token_size, kid, NULL) != ATTEST_OK) {
        kid[0] = '\0'; /* attest_token_verify reports the malformed token */
    }
    if (err == ATTEST_OK) {
        err = attest_jwks_cache_get(cache, kid, time(NULL), out_jwks, &diag);
    }
    attest_jwks_cache_free(cache);
    if (err != ATTEST_OK) {
        /* The details of the cache's errors name the URL. */
        return verify_error(args->json, NULL, NULL, err, &diag);
    }
    return CLI_EXIT_VALID;
}

static int token_verify(int argc, char **argv)
{
    verify_args args = {.at = time(NULL)};
    bool help = false;
    attest_diag diag = {{0}};
    if (verify_parse_args(argc, argv, &args, &help, &diag) != 0) {
        bool json = has_json_option(argc, argv);
        verify_error(json, NULL, NULL, ATTEST_ERR_ARGUMENT, &diag);
        if (!json) {
            fprintf(stderr, "see: attest token verify --help\n");
        }
        return CLI_EXIT_USAGE;
    }
    if (help) {
        token_usage(stdout);
        return CLI_EXIT_VALID;
    }

    uint8_t *token = NULL;
    size_t token_size = 0;
    int status = verify_token_read(&args, &token, &token_size);
    if (status != CLI_EXIT_VALID) {
        return status;
    }
    json_t *jwks = NULL;
    status = verify_jwks_load(&args, token, token_size, &jwks);
    if (status != CLI_EXIT_VALID) {
        free(token);
        return status;
    }

    attest_token_verify_options options;
    attest_token_verify_options_init(&options, args.at);
    options.audience = args.audience;
    options.issuer = args.issuer;
    json_t *claims = NULL;
    attest_err err = attest_token_verify((const char *)token, token_size, jwks, &options,
                                         &claims, &diag);
    if (err == ATTEST_OK) {
        err = claim_equals(claims, "sub", args.app, &diag);
    }
    /*
     * eat_nonce as well: only the native API sets it, after consuming that
     * nonce and checking its binding, while an API with its own binding rule
     * (Azure's) echoes whatever nonce the caller sent in "nonce".
     */
    if (err == ATTEST_OK) {
        err = claim_equals(claims, "nonce", args.nonce, &diag);
    }
    if (err == ATTEST_OK) {
        err = claim_equals(claims, "eat_nonce", args.nonce, &diag);
    }
    status = verify_print(&args, err, &diag, err == ATTEST_OK ? claims : NULL);
    json_decref(claims);
    json_decref(jwks);
    free(token);
    return status;
}

int cli_token(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        token_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_VALID;
    }
    /* getopt_long starts over at argv[1] of the subcommand. */
    optind = 1;
    if (strcmp(argv[1], "keygen") == 0) {
        return token_keygen(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "jwks") == 0) {
        return token_jwks(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "sign") == 0) {
        return token_sign(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "verify") == 0) {
        return token_verify(argc - 1, argv + 1);
    }
    fprintf(stderr, "attest token: unknown subcommand \"%s\"\n", argv[1]);
    token_usage(stderr);
    return CLI_EXIT_USAGE;
}
