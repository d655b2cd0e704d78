/* `roadlog recover LOG -o OUT`: rewrites a damaged or cut-off log as a
 * complete one. The reader opens LOG (scanning when there is no usable
 * Summary), rl_recover_copy() copies everything readable through a writer
 * into OUT.tmp, and only a finished, synced file is renamed to OUT: a failure
 * never leaves a half-written OUT behind. Exit 0 when LOG was already
 * complete and clean, 3 when salvage happened (LOG was cut off or had damaged
 * chunks), 2 on I/O errors. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CMD        "recover"
#define TMP_SUFFIX ".tmp"

static const char help_text[] =
    "usage: roadlog recover LOG -o OUT [--compression zstd|lz4|none] [--level N]\n"
    "                       [--chunk-size BYTES] [-q]\n"
    "\n"
    "Rewrite a damaged or cut-off log as a complete one: schemas, channels,\n"
    "every message of every readable chunk, metadata and attachments, followed\n"
    "by a fresh summary and footer. A recording cut by a power loss loses only\n"
    "the chunk that was being written; a chunk that fails its CRC or does not\n"
    "decompress is reported and skipped. OUT is written as OUT.tmp and renamed\n"
    "when complete; OUT must not be LOG.\n"
    "\n"
    "  -o, --output OUT             the log to write\n" CLI_WRITER_OPTS_HELP
    "  -q, --quiet                  no progress line\n"
    "  -h, --help                   show this help\n"
    "\n"
    "Exit codes: 0 LOG was complete and clean (OUT is a rewritten copy), 1 usage\n"
    "error, 2 LOG cannot be read or OUT cannot be written, 3 salvage happened:\n"
    "LOG was cut off or damaged and OUT holds what could be read.\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"quiet", 'q', false, CLI_OPT_QUIET},
    {"output", 'o', true, CLI_OPT_OUTPUT},
    CLI_WRITER_OPTS,
    {NULL, 0, false, 0},
};

struct recover {
    const char *path;
    uint64_t problems;
};

static void on_problem(void *ud, int code, uint64_t offset, const char *msg)
{
    struct recover *c = ud;
    (void)code;
    (void)offset;
    c->problems++;
    cli_err(CMD, "%s: %s", c->path, msg);
}

int cmd_recover(int argc, char **argv)
{
    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    struct rl_reader *r = NULL;
    struct rl_writer *w = NULL;
    char *tmp = NULL;
    bool tmp_made = false;
    const char *out = NULL, *val, *flag;
    bool quiet = false;
    int id, rc, exit_code = CLI_EXIT_OK;
    struct rl_writer_options wo;
    rl_writer_options_init(&wo);

    if (!pos) {
        cli_err(CMD, "out of memory");
        return CLI_EXIT_INPUT;
    }
    struct cli_parser p;
    cli_parser_init(&p, CMD, argc, argv, pos);
    while ((rc = cli_parser_next(&p, options, &id, &val, &flag)) == 1) {
        switch (id) {
        case CLI_OPT_HELP:
            exit_code = cli_help(help_text);
            goto done;
        case CLI_OPT_QUIET:
            quiet = true;
            break;
        case CLI_OPT_OUTPUT:
            out = val;
            break;
        default:
            if (cli_writer_opt(&wo, CMD, id, flag, val) < 0) {
                exit_code = CLI_EXIT_USAGE;
                goto done;
            }
            break;
        }
    }
    if (rc < 0) {
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    if (p.n_pos != 1) {
        exit_code = cli_usage_err(CMD, p.n_pos == 0 ? "no LOG given" : "more than one LOG given");
        goto done;
    }
    const char *path = pos[0];
    if (!out || !out[0]) {
        exit_code = cli_usage_err(CMD, "no output given: use -o OUT");
        goto done;
    }
    if (cli_same_file(path, out)) {
        exit_code = cli_usage_err(CMD, "refusing to write '%s' over the log being recovered", out);
        goto done;
    }

    struct recover c = {path, 0};
    struct rl_reader_options ro;
    rl_reader_options_init(&ro);
    ro.verify_crc = true;
    ro.problem = on_problem;
    ro.problem_ud = &c;
    if ((exit_code = cli_open_reader(CMD, path, &ro, &r)) != 0)
        goto done;
    struct rl_file_info fi;
    rl_reader_file_info(r, &fi);

    size_t out_len = strlen(out);
    tmp = malloc(out_len + sizeof(TMP_SUFFIX));
    if (!tmp) {
        cli_err(CMD, "out of memory");
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    memcpy(tmp, out, out_len);
    memcpy(tmp + out_len, TMP_SUFFIX, sizeof(TMP_SUFFIX));
    if (cli_same_file(path, tmp)) {
        exit_code = cli_usage_err(CMD, "refusing to write '%s' over the log being recovered", tmp);
        goto done;
    }

    wo.profile = fi.profile; /* keep the recording's profile */
    rc = rl_writer_open(&w, tmp, &wo);
    if (rc < 0) {
        cli_err(CMD, "cannot create '%s': %s", tmp, rl_strerror(rc));
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    tmp_made = true;

    struct cli_progress prog;
    cli_progress_init(&prog, quiet);
    char size[32];
    cli_progress_show(&prog, "recovering %s (%s, %zu chunks)", path,
                      cli_format_bytes(fi.file_bytes, size, sizeof(size)),
                      rl_reader_chunk_count(r));
    struct rl_recover_report rep;
    rc = rl_recover_copy(r, w, &rep);
    cli_progress_clear(&prog);
    if (rc < 0) {
        const char *why = rl_writer_errmsg(w);
        cli_err(CMD, "writing '%s' failed: %s", tmp, why[0] ? why : rl_strerror(rc));
        rl_writer_abort(w);
        w = NULL;
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    rc = rl_writer_close(w);
    w = NULL;
    if (rc < 0) {
        cli_err(CMD, "finishing '%s' failed: %s", tmp, rl_strerror(rc));
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    if (cli_commit_output(CMD, tmp, out) < 0) {
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    tmp_made = false;

    bool salvage = !fi.complete || rep.chunks_damaged > 0 || c.problems > 0;
    printf("%s -> %s: %llu messages from %llu chunks, %llu damaged chunks skipped, "
           "%llu metadata, %llu attachments; input %s, %llu bytes lost\n",
           path, out, (unsigned long long)rep.messages, (unsigned long long)rep.chunks_read,
           (unsigned long long)rep.chunks_damaged, (unsigned long long)rep.metadata,
           (unsigned long long)rep.attachments,
           !fi.complete ? "was incomplete (recording cut off)"
           : salvage    ? "was damaged"
                        : "was complete and clean",
           (unsigned long long)fi.lost_bytes);
    exit_code = salvage ? CLI_EXIT_DAMAGE : CLI_EXIT_OK;
done:
    rl_writer_abort(w);
    if (tmp_made && unlink(tmp) != 0 && errno != ENOENT)
        cli_err(CMD, "warning: removing '%s' failed: %s", tmp, strerror(errno));
    rl_reader_close(r);
    free(tmp);
    free(pos);
    return exit_code;
}
