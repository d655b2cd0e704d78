/* The `roadlog` command: dispatches to one subcommand per cmd_<name>.c
 * through the commands[] table (git's builtin style), handles --help,
 * --version and `help CMD`, and checks that standard output was written
 * completely before exiting. A reader of a pipe that closed early
 * (`roadlog cat x | head`) is not an error: SIGPIPE is ignored and EPIPE
 * ends output quietly. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef RL_VERSION
#define RL_VERSION "unknown"
#endif

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"info", cmd_info, "summarize logs: time range, channels, markers, metadata"},
    {"cat", cmd_cat, "print messages in log-time order, as text or JSON Lines"},
    {"check", cmd_check, "verify CRCs, indexes and ordering; exit 3 on damage"},
    {"recover", cmd_recover, "rewrite a damaged or cut-off log as a complete one"},
    {"import", cmd_import, "import a pcap, pcapng, candump log or NMEA/UBX byte log"},
    {"export", cmd_export, "write a log's frames as pcapng, pcap or a candump log"},
    {"record", cmd_record, "record sources (pcap, CAN, serial, UDP) into a log"},
    {"mark", cmd_mark, "set a marker in the running recorder"},
    {"sim", cmd_sim, "the test-zone simulator: drive a loop on loopback, or write a log"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int usage(FILE *f)
{
    if (fprintf(f, "usage: roadlog [--version] [--help] <command> [<args>]\n\n"
                   "Record autonomous-driving test traffic into MCAP logs and replay it.\n\n"
                   "commands:\n") < 0)
        return -1;
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary) < 0)
            return -1;
    if (fprintf(f, "\n'roadlog <command> --help' or 'roadlog help <command>' shows a "
                   "command's options.\n"
                   "Exit codes: 0 ok, 1 usage error, 2 input or environment error, "
                   "3 data damage found.\n") < 0)
        return -1;
    return 0;
}

/* Flushes and closes stdout; a closed pipe is not an error. */
static int finish_stdout(const char *cmd, int rc)
{
    errno = 0;
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    int err = errno;
    if (fclose(stdout) != 0 && !failed) {
        failed = true;
        err = errno;
    }
    if (failed && err != EPIPE) {
        cli_err(cmd, "writing standard output failed: %s", strerror(err ? err : EIO));
        if (rc == CLI_EXIT_OK)
            rc = CLI_EXIT_INPUT;
    }
    return rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        (void)usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
        return usage(stdout) < 0 ? CLI_EXIT_INPUT : CLI_EXIT_OK;
    if (strcmp(a, "--version") == 0 || strcmp(a, "version") == 0)
        return printf("roadlog %s\n", RL_VERSION) < 0 ? CLI_EXIT_INPUT : CLI_EXIT_OK;
    if (strcmp(a, "help") == 0) {
        if (argc < 3)
            return usage(stdout) < 0 ? CLI_EXIT_INPUT : CLI_EXIT_OK;
        const struct command *c = find_command(argv[2]);
        if (!c) {
            cli_err("help", "unknown command '%s' (see 'roadlog --help')", argv[2]);
            return CLI_EXIT_USAGE;
        }
        char help_flag[] = "--help";
        char *sub_argv[] = {argv[2], help_flag, NULL};
        return c->fn(2, sub_argv);
    }
    if (a[0] == '-') {
        fprintf(stderr, "roadlog: unknown option '%s' (see 'roadlog --help')\n", a);
        return CLI_EXIT_USAGE;
    }
    const struct command *c = find_command(a);
    if (!c) {
        fprintf(stderr, "roadlog: unknown command '%s' (see 'roadlog --help')\n", a);
        return CLI_EXIT_USAGE;
    }
    return c->fn(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    /* Writes to a closed pipe fail with EPIPE instead of killing us, so
     * each command can stop quietly. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        fprintf(stderr, "roadlog: cannot ignore SIGPIPE: %s\n", strerror(errno));
        return CLI_EXIT_INPUT;
    }
    int rc = run(argc, argv);
    return finish_stdout(argc >= 2 ? argv[1] : "roadlog", rc);
}
