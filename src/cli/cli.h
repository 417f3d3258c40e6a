/* Subcommands of the attest command-line tool. */
#ifndef ATTEST_CLI_H
#define ATTEST_CLI_H

/* Exit statuses shared by every subcommand. */
enum {
    CLI_EXIT_VALID = 0,   /* the evidence is valid / the command succeeded */
    CLI_EXIT_INVALID = 1, /* verification ran and the evidence is not valid */
    CLI_EXIT_USAGE = 2,   /* bad arguments, unreadable files, internal errors */
};

int cli_verify(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_bench_service(int argc, char **argv); /* bench_service.c */
int cli_sim(int argc, char **argv);      /* sim_cmd.c */
int cli_evidence(int argc, char **argv); /* evidence_cmd.c */
int cli_local(int argc, char **argv);    /* local_cmd.c */
int cli_token(int argc, char **argv);    /* token_cmd.c */
int cli_sim_pccs(int argc, char **argv); /* sim_pccs_cmd.c: attest sim pccs */
int cli_attest(int argc, char **argv);   /* attest_cmd.c: attest attest */
int cli_exec(int argc, char **argv);     /* attest_cmd.c: attest exec */

/* Parses a non-negative decimal integer of Unix seconds; returns 0 on success. */
int cli_parse_seconds(const char *text, long long *out);

#endif
