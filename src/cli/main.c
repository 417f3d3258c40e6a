/* attest: verify attestation evidence from the command line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: attest COMMAND [OPTIONS]\n"
            "\n"
            "commands:\n"
            "  verify       verify an Intel SGX or TDX quote (attest verify --help)\n"
            "  bench verify measure verification throughput (attest bench verify --help)\n"
            "  sim          simulated Intel platform: init, quote, collateral, scenario\n"
            "  evidence     collect evidence from the TEE this process runs in\n"
            "  local        local attestation between enclaves: target-info, report, verify\n"
            "  token        attestation tokens: keygen, sign, jwks, verify\n"
            "  attest       attest to an attestd service and store the token\n"
            "  exec         attest, then run a program with the token (attest exec --help)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_VALID;
    }
    if (strcmp(argv[1], "verify") == 0) {
        return cli_verify(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "bench") == 0) {
        return cli_bench(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "sim") == 0) {
        return cli_sim(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "evidence") == 0) {
        return cli_evidence(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "local") == 0) {
        return cli_local(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "token") == 0) {
        return cli_token(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "attest") == 0) {
        return cli_attest(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "exec") == 0) {
        return cli_exec(argc - 1, argv + 1);
    }
    fprintf(stderr, "attest: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
