/* Shared helpers of the `roadlog` command (cli/): the subcommand entry
 * points, one-line error printing in the `roadlog <cmd>: <what>: <why>` form
 * of cli.md, a small option parser that names the offending flag, TIME
 * arguments, channel selection by regex, the writer options shared by every
 * command that writes logs, a buffered stdout writer for the hot output
 * paths, marker lookup, and the terminal progress line. The CLI uses the
 * public headers of formats/ only. */
#ifndef ROADLOG_CLI_H
#define ROADLOG_CLI_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/reader.h"
#include "roadlog/writer.h"

/* Exit codes of cli.md. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_USAGE = 1, /* bad flag or value */
    CLI_EXIT_INPUT = 2, /* unreadable/invalid file, I/O or environment error */
    CLI_EXIT_DAMAGE = 3 /* data damage found (check), salvage happened (recover) */
};

/* Subcommands: argv[0] is the subcommand's name. Each returns an exit code. */
int cmd_info(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_mark(int argc, char **argv);

/* ---- messages ---- */

/* Prints "roadlog <cmd>: <message>\n" to stderr as one write. */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cli_err() and returns CLI_EXIT_USAGE, adding a pointer to --help. */
int cli_usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints text to stdout for --help; returns CLI_EXIT_OK. */
int cli_help(const char *text);

/* ---- option parsing ---- */

struct cli_opt {
    const char *name; /* long name without "--"; NULL ends the table */
    char short_name;  /* 0 when none */
    bool has_arg;
    int id;
};

/* Walks argv[1..]: options in any position, "--name value", "--name=value",
 * "-x value", "-xvalue"; "--" ends options; everything else is positional
 * and collected in pos (storage for argc entries, given by the caller). */
struct cli_parser {
    const char *cmd;
    int argc;
    char **argv;
    int next;
    bool only_pos;
    const char **pos;
    int n_pos;
    char flag[64]; /* the last option as written, for messages */
};
void cli_parser_init(struct cli_parser *p, const char *cmd, int argc, char **argv,
                     const char **pos);
/* 1 with the next option (*id, *val: NULL without argument, *flag: the
 * option as written, for messages), 0 when argv is done, -1 after printing
 * a usage error (unknown option, missing or unexpected value). */
int cli_parser_next(struct cli_parser *p, const struct cli_opt *opts, int *id, const char **val,
                    const char **flag);

/* Option ids shared by several commands; commands number their own from
 * CLI_OPT_LOCAL. */
enum cli_opt_id {
    CLI_OPT_HELP = 1,
    CLI_OPT_QUIET,
    CLI_OPT_JSON,
    CLI_OPT_OUTPUT,
    CLI_OPT_COMPRESSION,
    CLI_OPT_LEVEL,
    CLI_OPT_CHUNK_SIZE,
    CLI_OPT_LOCAL = 100
};

/* ---- numbers, sizes, times ---- */

/* Parses a decimal unsigned integer (whole string). 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);
/* Parses a byte size with an optional k/M/G suffix (powers of 1024; "B" or
 * "iB" may follow: 4M, 4MiB, 512k). 0 or -1. */
int cli_parse_size(const char *s, uint64_t *out);
/* Parses a duration: seconds `12.5`, or units `90s`, `1m30s`, `1h2m3.5s`,
 * `250ms`, `10us`, `5ns`; exact to the nanosecond. 0 or -1. */
int cli_parse_duration(const char *s, uint64_t *ns);

enum cli_time_kind { CLI_TIME_UNSET = 0, CLI_TIME_OFFSET, CLI_TIME_ABSOLUTE, CLI_TIME_MARKER };
struct cli_time {
    enum cli_time_kind kind;
    uint64_t ns;       /* offset from the first message, or ns since the epoch */
    const char *label; /* CLI_TIME_MARKER: the label after '@' (borrowed) */
};
/* Parses a TIME argument: `12.5`, `+12.5`, `90s`, `1m30s`, an absolute UTC
 * time `2026-11-21T08:30:00.250Z`, or `@label`. 0 or -1. */
int cli_parse_time(const char *s, struct cli_time *t);
/* Turns a parsed TIME into log time for reader r: offsets count from the
 * first message, markers are looked up on /roadlog/markers. 0, or -1 with
 * the reason in why. */
int cli_time_resolve(struct rl_reader *r, const struct cli_time *t, uint64_t *out_ns, char *why,
                     size_t why_len);

/* Formats ns since the epoch as `2026-11-21T08:30:00.250000000Z` (31 bytes
 * with the NUL). Returns buf. */
#define CLI_ISO_LEN 32
const char *cli_format_iso(uint64_t ns, char *buf, size_t len);

/* ---- markers (/roadlog/markers, JSON with a "label") ---- */

#define CLI_MARKERS_TOPIC "/roadlog/markers"
#define CLI_LABEL_MAX     256
/* Copies the string value of "label" in a marker message into out (NUL
 * terminated, truncated to out_len - 1). Returns 0, or -1 when there is no
 * label. */
int cli_marker_label(const uint8_t *data, size_t len, char *out, size_t out_len);
/* Calls fn for every marker in log-time order; fn returns 0 to go on, 1 to
 * stop. Returns 0, or <0 (reader status) when iteration failed. */
typedef int (*cli_marker_fn)(void *ud, uint64_t time_ns, const char *label);
int cli_markers_foreach(struct rl_reader *r, cli_marker_fn fn, void *ud);

/* ---- channel selection ---- */

#define CLI_CHANNEL_SET_BYTES (65536 / 8)
struct cli_chansel {
    bool has_include, has_exclude;
    regex_t include, exclude;
};
/* Compiles --channels/--exclude (either may be NULL). Returns 0, or
 * CLI_EXIT_USAGE after printing the regex error naming the flag. */
int cli_chansel_init(struct cli_chansel *s, const char *cmd, const char *include,
                     const char *exclude);
void cli_chansel_release(struct cli_chansel *s);
bool cli_chansel_active(const struct cli_chansel *s);
bool cli_chansel_match(const struct cli_chansel *s, const char *topic);
/* Fills set (CLI_CHANNEL_SET_BYTES) with the reader's channels that match;
 * returns how many. */
size_t cli_chansel_fill(const struct cli_chansel *s, const struct rl_reader *r, uint8_t *set);

/* ---- writer options (--compression, --level, --chunk-size) ---- */

#define CLI_WRITER_OPTS                                                                            \
    {"compression", 0, true, CLI_OPT_COMPRESSION}, {"level", 0, true, CLI_OPT_LEVEL},              \
    {                                                                                              \
        "chunk-size", 0, true, CLI_OPT_CHUNK_SIZE                                                  \
    }
#define CLI_WRITER_OPTS_HELP                                                                       \
    "  --compression zstd|lz4|none  chunk compression (default zstd)\n"                            \
    "  --level N                    compression level, -7..22 (default 3; zstd only)\n"            \
    "  --chunk-size BYTES           uncompressed chunk size, suffix k/M/G (default 4M)\n"
/* Applies one writer option to opts. Returns 1 when id was a writer option
 * and was applied, 0 when id is not a writer option, -1 (after printing the
 * usage error) for a bad value. */
int cli_writer_opt(struct rl_writer_options *opts, const char *cmd, int id, const char *flag,
                   const char *val);

/* ---- buffered output for the hot paths (cat) ---- */

struct cli_out {
    int fd;
    char *buf;
    size_t len, cap;
    int err; /* first write error, -errno; sticky */
};
int cli_out_init(struct cli_out *o, int fd, size_t cap_bytes);
/* Writes are buffered; errors are sticky in o->err. */
void cli_out_put(struct cli_out *o, const void *p, size_t n);
void cli_out_str(struct cli_out *o, const char *s);
void cli_out_u64(struct cli_out *o, uint64_t v);
int cli_out_flush(struct cli_out *o);
void cli_out_release(struct cli_out *o);

/* ---- progress line on a terminal ---- */

struct cli_progress {
    bool on;    /* stderr is a terminal and -q was not given */
    bool shown; /* a line is on screen */
};
void cli_progress_init(struct cli_progress *p, bool quiet);
/* Replaces the progress line with the formatted text. */
void cli_progress_show(struct cli_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Erases the progress line (call before printing anything else). */
void cli_progress_clear(struct cli_progress *p);

/* ---- misc ---- */

/* Human byte count: "1.2 MiB". Returns buf. */
const char *cli_format_bytes(uint64_t n, char *buf, size_t len);
/* Opens path for reading with a reader, printing the one-line error and
 * returning CLI_EXIT_INPUT on failure, 0 on success. */
int cli_open_reader(const char *cmd, const char *path, struct rl_reader_options *opts,
                    struct rl_reader **out);

/* Reads a whole file (at most max_bytes) into a NUL-terminated malloc'd
 * buffer; NULL with errno set on failure (EFBIG when too large). */
char *cli_read_file(const char *path, size_t max_bytes, size_t *len);

/* Whether two paths name the same file (same string, or same inode). */
bool cli_same_file(const char *a, const char *b);
/* Makes the finished file tmp durable (fsync), renames it to out and syncs
 * out's directory, so a crash leaves either no output or a whole one.
 * Reports failures on stderr under cmd's name. Returns 0 or -errno. */
int cli_commit_output(const char *cmd, const char *tmp, const char *out);

#endif
