/* attest evidence: not implemented yet. */
#include <stdio.h>

#include "cli.h"

int cli_evidence(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "attest evidence: not implemented yet\n");
    return CLI_EXIT_USAGE;
}
