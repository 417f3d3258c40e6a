/* attest sim pccs: not implemented yet. */
#include <stdio.h>

#include "cli.h"

int cli_sim_pccs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "attest sim pccs: not implemented yet\n");
    return CLI_EXIT_USAGE;
}
