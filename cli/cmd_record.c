/* `roadlog record` (cli.md, docs/record.md): parses the flags, opens the
 * sources through the recorder (recorder.h), drops privileges (-Z), listens
 * on the control socket (control.h: mark, status, quit), and runs the
 * terminal side: the `m` and `q` keys when stdin is a terminal (cbreak mode,
 * restored on every exit path), the live status (--status: a line per
 * source; else one progress line; nothing when stderr is not a terminal or
 * with -q), warnings as they come, and the summary table at the end.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked in every thread and read
 * from a signalfd in the main loop, so no handler and no global is needed;
 * each asks the recorder for a clean finish (exit 0). SIGXFSZ is ignored so
 * that a file size limit shows up as EFBIG, handled like a full disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "roadlog/control.h"
#include "roadlog/jsonw.h"
#include "roadlog/recorder.h"

#define CMD             "record"
#define MAX_META        64
#define LOOP_MS         50
#define STATUS_EVERY_NS UINT64_C(1000000000)
#define CMDLINE_MAX     8192
#define STATUS_JSON_MAX ((size_t)256 << 10)
#define NS_PER_S        1e9
#define EVENT_LEN       256

enum {
    OPT_OUTPUT_DIR = CLI_OPT_LOCAL,
    OPT_SOURCE,
    OPT_DURATION,
    OPT_SPLIT_SIZE,
    OPT_SPLIT_DURATION,
    OPT_FSYNC,
    OPT_MIN_FREE,
    OPT_MAX_MEMORY,
    OPT_META,
    OPT_SNAPSHOT,
    OPT_CONTROL,
    OPT_STATUS,
    OPT_USER,
    OPT_WORKERS,
    OPT_RUN_ID,
};

static const char help_text[] =
    "usage: roadlog record (-o OUT.mcap | -O DIR) --source NAME=SPEC... [options]\n"
    "\n"
    "Record every source into one MCAP log, one channel per source. Capture never\n"
    "waits for the disk: when memory is full, frames are dropped and counted, and\n"
    "the counts are in the log (/roadlog/health). A file cut at any moment opens\n"
    "without repair; Ctrl-C, SIGTERM and SIGHUP finish it cleanly (exit 0).\n"
    "\n"
    "Sources (SPEC), each with optional ,key=value options:\n"
    "  pcap:IFACE[,filter=BPF]  libpcap on an interface (Ethernet, lo, any, CAN);\n"
    "                           also snaplen=N, immediate=0|1, direction=in|inout\n"
    "  can:IFACE                SocketCAN raw socket (CAN and CAN FD)\n"
    "  serial:DEVICE[,baud=N]   tty in raw mode, framed into NMEA / UBX / RTCM 3\n"
    "  udp:[ADDR:]PORT          UDP socket, 127.0.0.1 unless ADDR is given\n"
    "  any source: decoder=NAME (else detected from the first frames),\n"
    "  replay_dest=SINK, rate=HZ (expected rate, for --status), buffer=BYTES\n"
    "  e.g. --source lidar=udp:2368,decoder=velodyne --source obu=pcap:eth1,filter='udp'\n"
    "\n"
    "  -o, --output FILE        write FILE (with a split: FILE-partNNN.mcap)\n"
    "  -O, --output-dir DIR     write DIR/RUNID-partNNN.mcap\n"
    "  --source NAME=SPEC       a source; NAME is its topic (/NAME); repeatable\n"
    "  --duration D             stop after D (90s, 1h, 2m30s)\n"
    "  --split-size BYTES       start a new part before a file reaches BYTES\n"
    "  --split-duration D       start a new part every D of log time\n"
    "  --compression zstd|lz4|none  chunk compression (default zstd)\n"
    "  --level N                compression level (default 1 here: recording must\n"
    "                           keep up; 3 and up give smaller files, more CPU)\n"
    "  --chunk-size BYTES       uncompressed chunk size (default 4M)\n"
    "  --fsync-interval D       flush the open chunk and fdatasync every D\n"
    "                           (default 1s): a power cut loses at most this\n"
    "  --min-free BYTES         stop cleanly (exit 2) before free space falls\n"
    "                           below BYTES (default: 1G or 5%% of the file\n"
    "                           system, whichever is smaller)\n"
    "  --max-memory BYTES       memory for rings, chunks and kernel buffers\n"
    "                           (default 256M)\n"
    "  --meta KEY=VALUE         run metadata (site, vehicle, driver, route,\n"
    "                           weather, software...); repeatable\n"
    "  --run-id ID              the run's id (default: UTC start time + random)\n"
    "  --snapshot D             keep the last D in memory; write it, and what\n"
    "                           follows until D after the last marker, on each\n"
    "                           marker; nothing else is written\n"
    "  --control PATH           control socket (default\n"
    "                           $XDG_RUNTIME_DIR/roadlog/record.sock)\n"
    "  --status                 live line per source on a terminal\n"
    "  -Z, --user USER          after opening the sources, run as USER\n"
    "  --workers N              compression threads (default: from the CPUs)\n"
    "  -q, --quiet              no progress, no summary\n"
    "  -h, --help               show this help\n"
    "\n"
    "Keys (stdin a terminal): m sets a marker, q stops. 'roadlog mark LABEL' sets\n"
    "one from anywhere.\n"
    "\n"
    "Exit codes: 0 stopped as asked (signal, q, quit, --duration); 1 usage error;\n"
    "2 a source cannot be opened or failed, the disk budget was reached (the file\n"
    "is complete), or a write failed (the file is cut at its last whole chunk).\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"quiet", 'q', false, CLI_OPT_QUIET},
    {"output", 'o', true, CLI_OPT_OUTPUT},
    {"output-dir", 'O', true, OPT_OUTPUT_DIR},
    {"source", 0, true, OPT_SOURCE},
    {"duration", 0, true, OPT_DURATION},
    {"split-size", 0, true, OPT_SPLIT_SIZE},
    {"split-duration", 0, true, OPT_SPLIT_DURATION},
    {"fsync-interval", 0, true, OPT_FSYNC},
    {"min-free", 0, true, OPT_MIN_FREE},
    {"max-memory", 0, true, OPT_MAX_MEMORY},
    {"meta", 0, true, OPT_META},
    {"snapshot", 0, true, OPT_SNAPSHOT},
    {"control", 0, true, OPT_CONTROL},
    {"status", 0, false, OPT_STATUS},
    {"user", 'Z', true, OPT_USER},
    {"workers", 0, true, OPT_WORKERS},
    {"run-id", 0, true, OPT_RUN_ID},
    CLI_WRITER_OPTS,
    {NULL, 0, false, 0},
};

struct rec_cli {
    struct rl_recorder_options opts;
    struct rl_source_spec *specs;
    size_t n_specs;
    struct rl_kv meta[MAX_META];
    char *meta_buf[MAX_META];
    size_t n_meta;
    const char *control;
    const char *user;
    bool quiet, status;
    char cmdline[CMDLINE_MAX];

    struct rl_recorder *rec;
    struct rl_ctl_server *ctl;
    char ctl_path[RL_REC_PATH_MAX];
    int sigfd;
    bool tty_keys, tty_saved;
    struct termios tty_orig;
    bool tty_err;     /* stderr is a terminal and not -q */
    int status_lines; /* lines of the live display on screen */
    uint64_t next_status;
    unsigned key_marks;
    int signals;
    struct rl_jw jw;
};

/* ---- flags ---- */

static bool plain_arg(const char *a)
{
    if (!*a)
        return false;
    for (; *a; a++)
        if (!((*a >= 'a' && *a <= 'z') || (*a >= 'A' && *a <= 'Z') || (*a >= '0' && *a <= '9') ||
              strchr("_./:=,@+-%", *a)))
            return false;
    return true;
}

/* The command line for roadlog.run, shell-quoted where needed. */
static void join_cmdline(char *buf, size_t cap, int argc, char **argv)
{
    size_t n = (size_t)snprintf(buf, cap, "roadlog");
    for (int i = 0; i < argc && n < cap; i++) {
        if (plain_arg(argv[i])) {
            n += (size_t)snprintf(buf + n, cap - n, " %s", argv[i]);
            continue;
        }
        n += (size_t)snprintf(buf + n, cap - n, " '");
        for (const char *c = argv[i]; *c && n < cap; c++)
            n += (size_t)snprintf(buf + n, cap - n, *c == '\'' ? "'\\''" : "%c", *c);
        if (n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "'");
    }
}

static int parse_args(struct rec_cli *c, int argc, char **argv)
{
    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    if (!pos) {
        cli_err(CMD, "out of memory");
        return CLI_EXIT_INPUT;
    }
    struct cli_parser p;
    cli_parser_init(&p, CMD, argc, argv, pos);
    int id, rc = CLI_EXIT_OK;
    const char *val, *flag;
    uint64_t v;
    char err[RL_REC_MSG_MAX];
    int r;
    while ((r = cli_parser_next(&p, options, &id, &val, &flag)) == 1) {
        int w = cli_writer_opt(&c->opts.writer, CMD, id, flag, val);
        if (w < 0) {
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        if (w == 1)
            continue;
        switch (id) {
        case CLI_OPT_HELP:
            rc = -1;
            goto out;
        case CLI_OPT_QUIET:
            c->quiet = true;
            break;
        case CLI_OPT_OUTPUT:
            c->opts.output_path = val;
            break;
        case OPT_OUTPUT_DIR:
            c->opts.output_dir = val;
            break;
        case OPT_SOURCE:
            if (c->n_specs == RL_REC_MAX_SOURCES) {
                rc = cli_usage_err(CMD, "at most %d sources", RL_REC_MAX_SOURCES);
                goto out;
            }
            if (rl_source_spec_parse(val, &c->specs[c->n_specs], err, sizeof(err)) < 0) {
                rc = cli_usage_err(CMD, "--source: %s", err);
                goto out;
            }
            c->n_specs++;
            break;
        case OPT_DURATION:
        case OPT_SPLIT_DURATION:
        case OPT_FSYNC:
        case OPT_SNAPSHOT:
            if (cli_parse_duration(val, &v) < 0 || v == 0) {
                rc = cli_usage_err(CMD, "bad duration '%s' for %s", val, flag);
                goto out;
            }
            if (id == OPT_DURATION)
                c->opts.duration_ns = v;
            else if (id == OPT_SPLIT_DURATION)
                c->opts.split_ns = v;
            else if (id == OPT_FSYNC)
                c->opts.fsync_interval_ns = v;
            else
                c->opts.snapshot_ns = v;
            break;
        case OPT_SPLIT_SIZE:
        case OPT_MIN_FREE:
        case OPT_MAX_MEMORY:
            if (cli_parse_size(val, &v) < 0 || (v == 0 && id != OPT_MIN_FREE)) {
                rc = cli_usage_err(CMD, "bad size '%s' for %s", val, flag);
                goto out;
            }
            if (id == OPT_SPLIT_SIZE) {
                c->opts.split_bytes = v;
            } else if (id == OPT_MIN_FREE) {
                c->opts.min_free_bytes = v;
                c->opts.min_free_set = true;
            } else {
                c->opts.max_memory_bytes = v;
            }
            break;
        case OPT_META: {
            const char *eq = strchr(val, '=');
            if (!eq || eq == val) {
                rc = cli_usage_err(CMD, "--meta needs KEY=VALUE, got '%s'", val);
                goto out;
            }
            if (c->n_meta == MAX_META) {
                rc = cli_usage_err(CMD, "at most %d --meta", MAX_META);
                goto out;
            }
            char *k = strdup(val);
            if (!k) {
                cli_err(CMD, "out of memory");
                rc = CLI_EXIT_INPUT;
                goto out;
            }
            k[eq - val] = '\0';
            c->meta_buf[c->n_meta] = k;
            c->meta[c->n_meta].key = k;
            c->meta[c->n_meta].value = k + (eq - val) + 1;
            c->n_meta++;
            break;
        }
        case OPT_CONTROL:
            c->control = val;
            break;
        case OPT_STATUS:
            c->status = true;
            break;
        case OPT_USER:
            c->user = val;
            break;
        case OPT_WORKERS:
            if (cli_parse_u64(val, &v) < 0 || v == 0 || v > 64) {
                rc = cli_usage_err(CMD, "bad --workers '%s' (1..64)", val);
                goto out;
            }
            c->opts.workers = (unsigned)v;
            break;
        case OPT_RUN_ID:
            if (!plain_arg(val) || strlen(val) >= 64 || strchr(val, '/')) {
                rc =
                    cli_usage_err(CMD, "bad --run-id '%s' (up to 63 of A-Z a-z 0-9 _.:=,@+-)", val);
                goto out;
            }
            c->opts.run_id = val;
            break;
        default:
            break;
        }
    }
    if (r < 0) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (p.n_pos > 0) {
        rc = cli_usage_err(CMD, "unexpected argument '%s'", pos[0]);
        goto out;
    }
    if (!c->opts.output_path && !c->opts.output_dir) {
        rc = cli_usage_err(CMD, "give -o FILE or -O DIR");
        goto out;
    }
    if (c->opts.output_path && c->opts.output_dir) {
        rc = cli_usage_err(CMD, "give -o FILE or -O DIR, not both");
        goto out;
    }
    if (c->n_specs == 0) {
        rc = cli_usage_err(CMD, "give at least one --source NAME=SPEC");
        goto out;
    }
out:
    free(pos);
    return rc;
}

/* ---- privileges, terminal, signals ---- */

static int drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        cli_err(CMD, "-Z: no user '%s'", user);
        return CLI_EXIT_USAGE;
    }
    if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
        return 0;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        cli_err(CMD, "-Z: cannot run as '%s': %s", user, strerror(errno));
        return CLI_EXIT_INPUT;
    }
    if (setuid(0) == 0) { /* must not be able to get root back */
        cli_err(CMD, "-Z: privileges could not be dropped");
        return CLI_EXIT_INPUT;
    }
    return 0;
}

static void tty_setup(struct rec_cli *c)
{
    if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp())
        return;
    if (tcgetattr(STDIN_FILENO, &c->tty_orig) != 0)
        return;
    struct termios t = c->tty_orig;
    t.c_lflag &= (tcflag_t) ~(ICANON | ECHO); /* keys one by one; Ctrl-C still signals */
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
        c->tty_saved = true;
        c->tty_keys = true;
    }
}

static void tty_restore(struct rec_cli *c)
{
    if (c->tty_saved)
        (void)tcsetattr(STDIN_FILENO, TCSANOW, &c->tty_orig);
    c->tty_saved = false;
}

static int signals_block(struct rec_cli *c)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* Before any thread exists, so every thread inherits the mask. */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
        cli_err(CMD, "cannot block signals");
        return CLI_EXIT_INPUT;
    }
    c->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (c->sigfd < 0) {
        cli_err(CMD, "signalfd: %s", strerror(errno));
        return CLI_EXIT_INPUT;
    }
    if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR) {
        cli_err(CMD, "cannot ignore SIGXFSZ: %s", strerror(errno));
        return CLI_EXIT_INPUT;
    }
    return 0;
}

/* ---- display ---- */

static void clear_status(struct rec_cli *c)
{
    if (c->status_lines > 0) {
        fprintf(stderr, "\r\033[%dA\033[J", c->status_lines);
        c->status_lines = 0;
    }
}

static void say(struct rec_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct rec_cli *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    clear_status(c);
    cli_err(CMD, "%s", line);
    c->next_status = 0;
}

static void fmt_duration(uint64_t ns, char *buf, size_t len)
{
    uint64_t s = ns / 1000000000u;
    snprintf(buf, len, "%02u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
             (unsigned)(s % 60));
}

static void show_status(struct rec_cli *c)
{
    struct rl_recorder_stats st;
    rl_recorder_get_stats(c->rec, &st);
    char el[16], fb[32], df[32], left[48];
    fmt_duration(st.elapsed_ns, el, sizeof(el));
    cli_format_bytes(st.file_bytes, fb, sizeof(fb));
    cli_format_bytes(st.disk_free_bytes, df, sizeof(df));
    double min = st.disk_seconds_left / 60;
    if (st.disk_seconds_left < 0)
        snprintf(left, sizeof(left), "time left unknown");
    else if (min < 120)
        snprintf(left, sizeof(left), "%.0f min left", min);
    else if (min < 48 * 60)
        snprintf(left, sizeof(left), "%.0f h left", min / 60);
    else
        snprintf(left, sizeof(left), "%.0f days left", min / 1440);
    uint64_t frames = 0, drops = 0;
    for (size_t i = 0; i < st.n_sources; i++) {
        frames += st.sources[i].frames;
        drops += st.sources[i].kernel_drops + st.sources[i].ring_drops;
    }
    char buf[16384];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                          "recording %s  part %u  %s  %" PRIu64 " frames  %" PRIu64
                          " dropped  disk %s free, %s",
                          el, st.part, fb, frames, drops, df, left);
    int lines = 1;
    if (c->status) {
        for (size_t i = 0; i < st.n_sources && n < sizeof(buf) - 256; i++) {
            const struct rl_recorder_source_stats *s = &st.sources[i];
            char exp[32] = "";
            if (s->expected_hz > 0)
                snprintf(exp, sizeof(exp), " of %.0f", s->expected_hz);
            bool low = s->expected_hz > 0 && s->rate_hz < 0.9 * s->expected_hz;
            n += (size_t)snprintf(
                buf + n, sizeof(buf) - n,
                "\n  %-20s %9.0f/s%-10s %8.2f MB/s  drops %" PRIu64 " kernel, %" PRIu64 " ring%s",
                s->topic, s->rate_hz, exp, s->bytes_per_s / 1e6, s->kernel_drops, s->ring_drops,
                s->failed  ? "  FAILED"
                : s->ended ? "  ended"
                : low      ? "  LOW"
                           : "");
            lines++;
        }
    }
    clear_status(c);
    if (n > 0 && (size_t)n < sizeof(buf)) {
        fwrite(buf, 1, n, stderr);
        fputc('\n', stderr);
        fflush(stderr);
        c->status_lines = lines;
    }
}

static void print_summary(struct rec_cli *c, const struct rl_recorder_result *res)
{
    struct rl_recorder_stats st;
    rl_recorder_get_stats(c->rec, &st);
    double secs = (double)st.elapsed_ns / NS_PER_S;
    fprintf(stderr, "%-24s %12s %12s %13s %11s %10s\n", "topic", "frames", "bytes", "kernel drops",
            "ring drops", "rate Hz");
    for (size_t i = 0; i < st.n_sources; i++) {
        const struct rl_recorder_source_stats *s = &st.sources[i];
        char b[32];
        fprintf(stderr, "%-24s %12" PRIu64 " %12s %13" PRIu64 " %11" PRIu64 " %10.1f%s\n", s->topic,
                s->frames, cli_format_bytes(s->bytes, b, sizeof(b)), s->kernel_drops, s->ring_drops,
                secs > 0 ? (double)s->frames / secs : 0.0, s->failed ? "  (failed)" : "");
    }
    char fb[32];
    fprintf(stderr, "%s: %u part%s, %s, %.1f s, %" PRIu64 " marker%s\n",
            res->last_path[0] ? res->last_path : "(no file)", res->parts,
            res->parts == 1 ? "" : "s", cli_format_bytes(st.file_bytes, fb, sizeof(fb)), secs,
            st.markers, st.markers == 1 ? "" : "s");
    fflush(stderr);
}

/* ---- the loop ---- */

static void handle_ctl(struct rec_cli *c, const struct rl_ctl_cmd *cmd)
{
    char reply[RL_CTL_MAX_LINE];
    uint64_t t = 0;
    int rc;
    switch (cmd->op) {
    case RL_CTL_MARK:
        rc = rl_recorder_mark(c->rec, cmd->label, cmd->note, "control", &t);
        if (rc == 0)
            snprintf(reply, sizeof(reply), "ok {\"time_ns\":%" PRIu64 "}", t);
        else if (rc == -EAGAIN)
            snprintf(reply, sizeof(reply), "error too many markers waiting; try again");
        else
            snprintf(reply, sizeof(reply), "error not recording");
        (void)rl_ctl_server_reply(c->ctl, cmd->client, reply);
        break;
    case RL_CTL_STATUS: {
        rl_jw_reset(&c->jw);
        rl_recorder_status_json(c->rec, &c->jw);
        size_t len;
        const char *js = rl_jw_str_out(&c->jw, &len);
        if (rl_jw_failed(&c->jw)) {
            (void)rl_ctl_server_reply(c->ctl, cmd->client, "error status too large");
            break;
        }
        char *line = malloc(len + 4);
        if (!line) {
            (void)rl_ctl_server_reply(c->ctl, cmd->client, "error out of memory");
            break;
        }
        memcpy(line, "ok ", 3);
        memcpy(line + 3, js, len + 1);
        (void)rl_ctl_server_reply(c->ctl, cmd->client, line);
        free(line);
        break;
    }
    case RL_CTL_QUIT:
        rl_recorder_stop(c->rec);
        (void)rl_ctl_server_reply(c->ctl, cmd->client, "ok");
        break;
    default:
        (void)rl_ctl_server_reply(c->ctl, cmd->client,
                                  "error not a recorder command (mark, status, quit)");
        break;
    }
}

static void handle_key(struct rec_cli *c, char k)
{
    if (k == 'm' || k == 'M') {
        char label[32];
        uint64_t t;
        snprintf(label, sizeof(label), "mark-%u", ++c->key_marks);
        if (rl_recorder_mark(c->rec, label, "", "keyboard", &t) == 0) {
            char iso[CLI_ISO_LEN];
            say(c, "marker %s at %s", label, cli_format_iso(t, iso, sizeof(iso)));
        }
    } else if (k == 'q' || k == 'Q') {
        rl_recorder_stop(c->rec);
    }
}

static void read_signals(struct rec_cli *c)
{
    struct signalfd_siginfo si;
    while (read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        c->signals++;
        rl_recorder_stop(c->rec);
        if (c->signals > 1 && c->tty_err)
            say(c, "finishing the file, please wait");
    }
}

static void run_loop(struct rec_cli *c)
{
    char ev[EVENT_LEN];
    while (!rl_recorder_done(c->rec)) {
        struct rl_ctl_cmd cmd;
        int got = 0;
        if (c->ctl)
            got = rl_ctl_server_poll(c->ctl, LOOP_MS, &cmd);
        if (!c->ctl || got < 0) { /* no socket, or it failed: still pace the loop */
            struct pollfd pfd = {c->sigfd, POLLIN, 0};
            (void)poll(&pfd, 1, LOOP_MS);
        }
        if (got == 1)
            handle_ctl(c, &cmd);
        read_signals(c);
        if (c->tty_keys) {
            char k;
            while (read(STDIN_FILENO, &k, 1) == 1)
                handle_key(c, k);
        }
        while (rl_recorder_next_event(c->rec, ev, sizeof(ev)) == 1)
            say(c, "warning: %s", ev);
        if (c->tty_err) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
            if (now >= c->next_status) {
                show_status(c);
                c->next_status = now + STATUS_EVERY_NS;
            }
        }
    }
    while (rl_recorder_next_event(c->rec, ev, sizeof(ev)) == 1)
        say(c, "warning: %s", ev);
}

static int final_report(struct rec_cli *c, int rc, const struct rl_recorder_result *res)
{
    clear_status(c);
    if (!c->quiet)
        print_summary(c, res);
    switch (res->stop) {
    case RL_REC_STOP_DISK:
        cli_err(CMD, "stopped: %s; '%s' is %s", res->message, res->last_path,
                res->complete ? "complete" : "cut at its last whole chunk");
        return CLI_EXIT_INPUT;
    case RL_REC_STOP_WRITE_ERROR:
        cli_err(CMD,
                "%s; '%s' keeps everything before the failed write and opens as it is "
                "('roadlog recover' completes it)",
                res->message, res->last_path);
        return CLI_EXIT_INPUT;
    case RL_REC_STOP_SOURCES:
        cli_err(CMD, "stopped: %s", res->message);
        return CLI_EXIT_INPUT;
    case RL_REC_STOP_ENDED:
        if (!c->quiet)
            cli_err(CMD, "stopped: every source ended");
        break;
    default:
        break;
    }
    if (rc < 0) {
        cli_err(CMD, "%s", res->message[0] ? res->message : rl_strerror(rc));
        return CLI_EXIT_INPUT;
    }
    if (res->failed_sources > 0) {
        cli_err(CMD, "%zu source%s failed during the recording (see the warnings above)",
                res->failed_sources, res->failed_sources == 1 ? "" : "s");
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

int cmd_record(int argc, char **argv)
{
    struct rec_cli c;
    memset(&c, 0, sizeof(c));
    c.sigfd = -1;
    rl_recorder_options_init(&c.opts);
    rl_jw_init(&c.jw, STATUS_JSON_MAX);
    int ex = CLI_EXIT_INPUT, rc;
    char err[RL_REC_MSG_MAX];
    c.specs = calloc(RL_REC_MAX_SOURCES, sizeof(*c.specs));
    if (!c.specs) {
        cli_err(CMD, "out of memory");
        goto out;
    }
    ex = parse_args(&c, argc, argv);
    if (ex == -1) {
        ex = cli_help(help_text);
        goto out;
    }
    if (ex != CLI_EXIT_OK)
        goto out;
    join_cmdline(c.cmdline, sizeof(c.cmdline), argc, argv);
    c.opts.sources = c.specs;
    c.opts.n_sources = c.n_specs;
    c.opts.meta = c.meta;
    c.opts.n_meta = c.n_meta;
    c.opts.command_line = c.cmdline;
    c.tty_err = !c.quiet && isatty(STDERR_FILENO);

    if ((ex = signals_block(&c)) != 0)
        goto out;
    rc = rl_recorder_new(&c.rec, &c.opts, err, sizeof(err));
    if (rc < 0) {
        cli_err(CMD, "%s", err);
        ex = rc == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_INPUT;
        goto out;
    }
    if (c.user && (ex = drop_privileges(c.user)) != 0)
        goto out;
    if (c.control) {
        snprintf(c.ctl_path, sizeof(c.ctl_path), "%s", c.control);
    } else if ((rc = rl_ctl_default_path("record", true, c.ctl_path, sizeof(c.ctl_path))) < 0) {
        cli_err(CMD, "no control socket (markers only with the m key): %s", strerror(-rc));
        c.ctl_path[0] = '\0';
    }
    if (c.ctl_path[0] && (rc = rl_ctl_server_open(&c.ctl, c.ctl_path)) < 0) {
        if (rc == -EADDRINUSE)
            cli_err(CMD,
                    "another recorder is running: control socket '%s' is in use "
                    "(give --control PATH)",
                    c.ctl_path);
        else
            cli_err(CMD, "cannot listen on control socket '%s': %s", c.ctl_path, rl_strerror(rc));
        ex = CLI_EXIT_INPUT;
        goto out;
    }
    if ((rc = rl_recorder_start(c.rec, err, sizeof(err))) < 0) {
        cli_err(CMD, "%s", err);
        ex = CLI_EXIT_INPUT;
        goto out;
    }
    tty_setup(&c);
    run_loop(&c);
    struct rl_recorder_result res;
    rc = rl_recorder_finish(c.rec, &res);
    tty_restore(&c);
    ex = final_report(&c, rc, &res);
out:
    tty_restore(&c);
    rl_ctl_server_close(c.ctl);
    rl_recorder_free(c.rec);
    if (c.sigfd >= 0)
        close(c.sigfd);
    for (size_t i = 0; i < c.n_meta; i++)
        free(c.meta_buf[i]);
    free(c.specs);
    rl_jw_release(&c.jw);
    return ex;
}
