/* `roadlog check LOG...`: integrity check. Opens each log with the reader
 * and runs rl_reader_verify(), which decompresses every chunk and checks
 * CRCs, indexes against contents, message times against chunk ranges and
 * attachment CRCs. Each problem is printed as `roadlog check: <path>: <msg>`
 * (the library's messages name offsets). A log without a valid
 * Summary/Footer is damage too: the recording was cut off.
 * Exit 0 when every log is clean, 3 when damage was found, 2 when a log
 * could not be opened or read (2 wins over 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CMD "check"

static const char help_text[] =
    "usage: roadlog check LOG... [-q]\n"
    "\n"
    "Verify logs: every chunk is decompressed and its CRC checked, the data\n"
    "section and summary CRCs, the summary's indexes against what the file\n"
    "holds, message indexes against chunk contents, message times against\n"
    "their chunk's time range, attachment CRCs. A log that has no valid\n"
    "summary and footer (the recording was cut off) counts as damaged.\n"
    "Each problem is printed on stderr with its file offset; a clean log\n"
    "prints '<LOG>: ok, N messages in M chunks' on stdout.\n"
    "\n"
    "  -q, --quiet  no progress line\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit codes: 0 all clean, 1 usage error, 2 a LOG cannot be read or is not\n"
    "MCAP, 3 damage found ('roadlog recover' rewrites a damaged log).\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"quiet", 'q', false, CLI_OPT_QUIET},
    {NULL, 0, false, 0},
};

struct check {
    const char *path;
    uint64_t problems;
};

static void on_problem(void *ud, int code, uint64_t offset, const char *msg)
{
    struct check *c = ud;
    (void)code;
    (void)offset;
    c->problems++;
    cli_err(CMD, "%s: %s", c->path, msg);
}

/* Checks one log; returns its exit code. */
static int check_one(const char *path, struct cli_progress *prog)
{
    struct check c = {path, 0};
    struct rl_reader_options ro;
    rl_reader_options_init(&ro);
    ro.verify_crc = true;
    ro.problem = on_problem;
    ro.problem_ud = &c;
    struct rl_reader *r = NULL;
    int exit_code = cli_open_reader(CMD, path, &ro, &r);
    if (exit_code != 0)
        return exit_code;
    struct rl_file_info fi;
    rl_reader_file_info(r, &fi);
    char size[32];
    cli_progress_show(prog, "checking %s (%s, %zu chunks)", path,
                      cli_format_bytes(fi.file_bytes, size, sizeof(size)),
                      rl_reader_chunk_count(r));
    int64_t n = rl_reader_verify(r);
    if (n >= 0 && rl_reader_count_messages(r) < 0)
        n = -1;
    cli_progress_clear(prog);
    if (n < 0) {
        const char *why = rl_reader_errmsg(r);
        cli_err(CMD, "checking '%s' failed: %s", path,
                why[0] ? why : rl_strerror((int)(n < INT32_MIN ? -1 : n)));
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    /* Problems reached us through the callback; verify's count is a floor. */
    if ((uint64_t)n > c.problems)
        c.problems = (uint64_t)n;
    rl_reader_file_info(r, &fi);
    /* A cut-off recording is damage even when what is left reads cleanly;
     * say so unless verify already did. */
    if (!fi.complete && c.problems == 0) {
        c.problems++;
        cli_err(CMD,
                "%s: incomplete: no valid summary/footer (recording cut off?); %llu chunks "
                "found by scanning, %llu bytes unusable after offset %llu",
                path, (unsigned long long)fi.salvaged_chunks, (unsigned long long)fi.lost_bytes,
                (unsigned long long)fi.valid_bytes);
    }
    if (c.problems > 0) {
        printf("%s: DAMAGED, %llu problem%s\n", path, (unsigned long long)c.problems,
               c.problems == 1 ? "" : "s");
        exit_code = CLI_EXIT_DAMAGE;
    } else {
        printf("%s: ok, %llu messages in %zu chunks\n", path, (unsigned long long)fi.message_count,
               rl_reader_chunk_count(r));
    }
done:
    rl_reader_close(r);
    return exit_code;
}

int cmd_check(int argc, char **argv)
{
    const char **logs = calloc((size_t)argc + 1, sizeof(*logs));
    if (!logs) {
        cli_err(CMD, "out of memory");
        return CLI_EXIT_INPUT;
    }
    struct cli_parser p;
    cli_parser_init(&p, CMD, argc, argv, logs);
    bool quiet = false;
    int id, rc, exit_code = CLI_EXIT_OK;
    const char *val, *flag;
    while ((rc = cli_parser_next(&p, options, &id, &val, &flag)) == 1) {
        if (id == CLI_OPT_HELP) {
            exit_code = cli_help(help_text);
            goto done;
        }
        if (id == CLI_OPT_QUIET)
            quiet = true;
    }
    if (rc < 0) {
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    if (p.n_pos == 0) {
        exit_code = cli_usage_err(CMD, "no LOG given");
        goto done;
    }
    struct cli_progress prog;
    cli_progress_init(&prog, quiet);
    for (int i = 0; i < p.n_pos; i++) {
        rc = check_one(logs[i], &prog);
        /* Exit with the most serious outcome: input error, then damage. */
        if (rc == CLI_EXIT_INPUT || (rc == CLI_EXIT_DAMAGE && exit_code == CLI_EXIT_OK))
            exit_code = rc;
    }
done:
    free(logs);
    return exit_code;
}
