/* `roadlog export LOG -o OUT.pcapng|OUT.pcap|OUT.log`: writes the frames of
 * a log back out in the formats other tools read, the inverse of import.
 *
 *   pcapng   one Interface Description Block per exported channel (if_name =
 *            the channel's interface metadata, else its topic; LinkType from
 *            its linktype metadata; if_tsresol 9), Enhanced Packet Blocks
 *            with the messages' log times in nanoseconds;
 *   pcap     only when every exported channel has the same link type (a
 *            pcap file has one); microsecond timestamps when every channel
 *            came from a microsecond capture (metadata tsresol 6), else
 *            nanosecond;
 *   candump  the SocketCAN channels (linktype 227) as candump -l lines, with
 *            the interface from the channel's metadata and the direction
 *            flag it was imported with.
 *
 * Only channels that hold link-layer frames are exported: channels without
 * a numeric linktype (markers, health, payload-only sources) are skipped and
 * named on stderr. Messages go out in the order they are stored, which for an
 * imported capture is its own order; --sort orders them by log time. OUT is
 * written as OUT.tmp and renamed when finished. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "roadlog/can.h"
#include "roadlog/decode.h"
#include "roadlog/pcapio.h"

#define CMD                "export"
#define TMP_SUFFIX         ".tmp"
#define OUT_BUFFER_BYTES   ((size_t)1 << 20)
#define TSRESOL_US         6
#define NO_IFACE           UINT32_MAX
#define PROGRESS_EVERY     8192
#define SKIPPED_LIST_BYTES 512

/* Not yet in cli.h's list of subcommands. */

enum { OPT_CHANNELS = CLI_OPT_LOCAL, OPT_EXCLUDE, OPT_START, OPT_END, OPT_FORMAT, OPT_SORT };

enum out_format { OUT_UNSET = 0, OUT_PCAPNG, OUT_PCAP, OUT_CANDUMP };

static const char help_text[] =
    "usage: roadlog export LOG -o OUT.pcapng|OUT.pcap|OUT.log [--channels RE] [--exclude RE]\n"
    "                      [--start T] [--end T] [--format pcapng|pcap|candump] [--sort] [-q]\n"
    "\n"
    "Write the frames of a log as a capture file: pcapng with one interface per\n"
    "channel, pcap (all exported channels must share one link type), or a\n"
    "candump -l log of the SocketCAN channels. The format follows OUT's extension\n"
    "(.pcapng, .pcap, .log) unless --format says otherwise. Each packet gets its\n"
    "message's log time and bytes, unchanged. Channels without a pcap link type\n"
    "(markers, health, payload-only sources) are skipped.\n"
    "\n"
    "  -o, --output OUT  the file to write (written as OUT.tmp, renamed when done)\n"
    "  --channels RE     only channels whose topic matches the POSIX extended regex\n"
    "  --exclude RE      leave out channels whose topic matches\n"
    "  --start T         first log time to export (inclusive)\n"
    "  --end T           log time to stop at (exclusive)\n"
    "  --format F        pcapng, pcap or candump\n"
    "  --sort            order packets by log time (default: as stored in LOG)\n"
    "  -q, --quiet       no progress line, no summary\n"
    "  -h, --help        show this help\n"
    "\n"
    "T is seconds from the log's first message (12.5, 90s, 1m30s), an absolute UTC\n"
    "time (2026-11-21T08:30:00.250Z) or @LABEL.\n"
    "\n"
    "Exit codes: 0 ok, 1 usage error (no exportable channel, link types that a\n"
    "pcap cannot hold), 2 LOG cannot be read or OUT cannot be written, 3 LOG is\n"
    "damaged: OUT holds what could be read.\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"quiet", 'q', false, CLI_OPT_QUIET},
    {"output", 'o', true, CLI_OPT_OUTPUT},
    {"channels", 0, true, OPT_CHANNELS},
    {"exclude", 0, true, OPT_EXCLUDE},
    {"start", 0, true, OPT_START},
    {"end", 0, true, OPT_END},
    {"format", 0, true, OPT_FORMAT},
    {"sort", 0, false, OPT_SORT},
    {NULL, 0, false, 0},
};

struct export
{
    const char *path;
    enum out_format fmt;
    struct rl_reader *r;
    uint8_t *set;    /* exported channels */
    uint32_t *iface; /* channel id -> writer interface */
    uint32_t *limit; /* channel id -> largest packet its interface holds */
    struct rl_pcap_writer *pw;
    struct cli_out co; /* candump output */
    uint64_t packets, bytes, bad, problems;
};

static void on_problem(void *ud, int code, uint64_t offset, const char *msg)
{
    struct export *e = ud;
    (void)code;
    (void)offset;
    e->problems++;
    cli_err(CMD, "%s: %s", e->path, msg);
}

/* The channel's linktype metadata as a number, or -1. */
static long channel_linktype(const struct rl_channel *ch)
{
    const char *s = rl_channel_meta(ch, "linktype");
    if (!s || !s[0])
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 0xFFFF)
        return -1;
    return v;
}

static uint32_t channel_u32(const struct rl_channel *ch, const char *key, uint32_t dflt)
{
    const char *s = rl_channel_meta(ch, key);
    if (!s)
        return dflt;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
        return dflt;
    return (uint32_t)v;
}

static bool in_set(const uint8_t *set, uint16_t id)
{
    return (set[id / 8] >> (id % 8)) & 1;
}

static enum out_format format_from_name(const char *s)
{
    if (strcmp(s, "pcapng") == 0)
        return OUT_PCAPNG;
    if (strcmp(s, "pcap") == 0)
        return OUT_PCAP;
    if (strcmp(s, "candump") == 0 || strcmp(s, "log") == 0)
        return OUT_CANDUMP;
    return OUT_UNSET;
}

static enum out_format format_from_path(const char *out)
{
    const char *dot = strrchr(out, '.');
    const char *slash = strrchr(out, '/');
    if (!dot || (slash && dot < slash))
        return OUT_UNSET;
    return format_from_name(dot + 1);
}

/* Narrows the selection to the channels the format can hold and checks
 * that a pcap gets one link type. Returns 0 or an exit code. */
static int choose_channels(struct export *e, bool *pcap_us)
{
    size_t n = rl_reader_channel_count(e->r), kept = 0;
    char skipped[SKIPPED_LIST_BYTES];
    size_t sk = 0, n_skipped = 0;
    bool cut = false;
    long lt0 = -1;
    const char *topic0 = NULL;
    *pcap_us = true;
    skipped[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const struct rl_channel *ch = rl_reader_channel_at(e->r, i);
        if (!in_set(e->set, ch->id))
            continue;
        long lt = channel_linktype(ch);
        bool ok = e->fmt == OUT_CANDUMP ? lt == RL_LINKTYPE_CAN_SOCKETCAN : lt >= 0;
        if (!ok) {
            e->set[ch->id / 8] &= (uint8_t) ~(1u << (ch->id % 8));
            n_skipped++;
            if (sk + strlen(ch->topic) + 8 < sizeof skipped)
                sk += (size_t)snprintf(skipped + sk, sizeof skipped - sk, "%s%s", sk ? ", " : "",
                                       ch->topic);
            else
                cut = true;
            continue;
        }
        if (e->fmt == OUT_PCAP && lt0 >= 0 && lt != lt0) {
            cli_err(CMD,
                    "a pcap file holds one link type, but channel '%s' has %ld and '%s' has "
                    "%ld: export to .pcapng, or choose channels with --channels",
                    topic0, lt0, ch->topic, lt);
            return CLI_EXIT_USAGE;
        }
        if (lt0 < 0) {
            lt0 = lt;
            topic0 = ch->topic;
        }
        if (channel_u32(ch, "tsresol", 0) != TSRESOL_US)
            *pcap_us = false;
        kept++;
    }
    if (n_skipped > 0)
        cli_err(CMD, "note: %zu channel%s without %s skipped: %s%s", n_skipped,
                n_skipped == 1 ? "" : "s",
                e->fmt == OUT_CANDUMP ? "SocketCAN frames (linktype 227)" : "a pcap link type",
                skipped, cut ? ", ..." : "");
    if (kept == 0) {
        cli_err(CMD, "no selected channel of '%s' holds %s", e->path,
                e->fmt == OUT_CANDUMP ? "SocketCAN frames (linktype 227)"
                                      : "link-layer frames (a numeric linktype)");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* Opens the pcap/pcapng writer on path and adds an interface per channel. */
static int open_pcap(struct export *e, const char *path, bool pcap_us)
{
    struct rl_pcap_writer_options o;
    rl_pcap_writer_options_init(&o);
    o.format = e->fmt == OUT_PCAP ? RL_PCAP_FORMAT_PCAP : RL_PCAP_FORMAT_PCAPNG;
    o.pcap_nanosecond = !pcap_us;
    o.application = "roadlog export";
    int rc = rl_pcap_writer_open(&e->pw, path, &o);
    if (rc < 0) {
        cli_err(CMD, "cannot create '%s': %s", path, rl_strerror(rc));
        return rc;
    }
    size_t n = rl_reader_channel_count(e->r);
    uint32_t pcap_snap = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rl_channel *ch = rl_reader_channel_at(e->r, i);
        if (!in_set(e->set, ch->id) || e->iface[ch->id] != NO_IFACE)
            continue;
        const char *name = rl_channel_meta(ch, "interface");
        if (!name || !name[0])
            name = ch->topic;
        /* The capture's own snapshot length, so a capture comes back as it
         * was; without one, no limit (pcapng) or the largest (pcap). */
        uint32_t snap = channel_u32(ch, "snaplen", e->fmt == OUT_PCAP ? RL_PCAP_MAX_CAPLEN : 0);
        if (snap > RL_PCAP_MAX_CAPLEN)
            snap = RL_PCAP_MAX_CAPLEN;
        rc = rl_pcap_writer_add_iface(e->pw, (int)channel_linktype(ch), snap, name,
                                      &e->iface[ch->id]);
        if (rc < 0) {
            cli_err(CMD, "writing '%s' failed: %s", path, rl_pcap_writer_errmsg(e->pw));
            return rc;
        }
        e->limit[ch->id] = snap ? snap : RL_PCAP_MAX_CAPLEN;
        if (snap > pcap_snap)
            pcap_snap = snap;
    }
    /* A pcap file has one snapshot length, the largest. */
    if (e->fmt == OUT_PCAP)
        for (size_t i = 0; i < 65536; i++)
            e->limit[i] = pcap_snap;
    return 0;
}

/* The candump interface of a channel: its metadata, else the topic's last
 * component, cut to a Linux interface name. */
static void can_iface(const struct rl_channel *ch, char *out, size_t cap)
{
    const char *s = rl_channel_meta(ch, "interface");
    if (!s || !s[0]) {
        s = strrchr(ch->topic, '/');
        s = s && s[1] ? s + 1 : ch->topic;
    }
    size_t k = 0;
    for (; s[k] && k + 1 < cap && k < RL_CANDUMP_IFACE_MAX; k++)
        out[k] = s[k] == ' ' ? '_' : s[k];
    out[k] = '\0';
    if (k == 0)
        snprintf(out, cap, "can0");
}

static int write_candump(struct export *e, const struct rl_message *m)
{
    struct rl_candump_line l;
    memset(&l, 0, sizeof l);
    int rc = rl_socketcan_parse(m->data, m->len, &l.frame);
    if (rc < 0) {
        if (e->bad++ == 0)
            cli_err(CMD, "%s: message %u on '%s' is not a SocketCAN frame (%s); skipped", e->path,
                    m->sequence, m->channel->topic, rl_strerror(rc));
        return 0;
    }
    l.time_ns = m->log_time_ns;
    can_iface(m->channel, l.iface, sizeof l.iface);
    const char *d = rl_channel_meta(m->channel, "candump_direction");
    l.direction = d && (d[0] == 'R' || d[0] == 'T') && !d[1] ? d[0] : '\0';
    char line[RL_CANDUMP_LINE_MAX + 2];
    int n = rl_candump_format(&l, line, sizeof line - 1);
    if (n < 0) {
        if (e->bad++ == 0)
            cli_err(CMD, "%s: message %u on '%s' cannot be written as a candump line (%s)", e->path,
                    m->sequence, m->channel->topic, rl_strerror(n));
        return 0;
    }
    line[n] = '\n';
    cli_out_put(&e->co, line, (size_t)n + 1);
    return e->co.err;
}

static int run(struct export *e, const struct rl_iter_options *io, const char *path, bool quiet)
{
    struct rl_iter *it = NULL;
    int rc = rl_iter_new(e->r, io, &it);
    if (rc < 0) {
        cli_err(CMD, "reading '%s' failed: %s", e->path, rl_strerror(rc));
        return rc;
    }
    struct cli_progress prog;
    cli_progress_init(&prog, quiet);
    struct rl_message m;
    while ((rc = rl_iter_next(it, &m)) == 1) {
        int wrc;
        if (e->fmt == OUT_CANDUMP) {
            wrc = write_candump(e, &m);
            if (wrc < 0)
                cli_err(CMD, "writing '%s' failed: %s", path, strerror(-wrc));
        } else if (m.len > e->limit[m.channel_id]) {
            /* Readers would cut it to the snapshot length: better said here. */
            if (e->bad++ == 0)
                cli_err(CMD,
                        "%s: message %u on '%s' has %zu bytes, more than the snapshot length "
                        "%u of its interface; skipped",
                        e->path, m.sequence, m.channel->topic, m.len, e->limit[m.channel_id]);
            continue;
        } else {
            wrc = rl_pcap_writer_write(e->pw, e->iface[m.channel_id], m.log_time_ns, m.data,
                                       (uint32_t)m.len, (uint32_t)m.len);
            if (wrc < 0)
                cli_err(CMD, "writing '%s' failed: %s", path, rl_pcap_writer_errmsg(e->pw));
        }
        if (wrc < 0) {
            rl_iter_free(it);
            cli_progress_clear(&prog);
            return wrc;
        }
        e->packets++;
        e->bytes += m.len;
        if (e->packets % PROGRESS_EVERY == 0)
            cli_progress_show(&prog, "exporting %s: %llu packets", e->path,
                              (unsigned long long)e->packets);
    }
    cli_progress_clear(&prog);
    if (rc < 0) {
        const char *why = rl_reader_errmsg(e->r);
        cli_err(CMD, "reading '%s' failed: %s", e->path, why[0] ? why : rl_strerror(rc));
    }
    rl_iter_free(it);
    return rc < 0 ? rc : 0;
}

static int parse_time_flag(const char *flag, const char *val, struct cli_time *t)
{
    if (cli_parse_time(val, t) < 0)
        return cli_usage_err(CMD,
                             "bad value '%s' for %s: expected seconds from the start (12.5, "
                             "90s, 1m30s), a UTC time (2026-11-21T08:30:00.250Z) or @LABEL",
                             val, flag);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    struct export e;
    memset(&e, 0, sizeof e);
    e.co.fd = -1;
    struct cli_chansel sel;
    memset(&sel, 0, sizeof sel);
    char *tmp = NULL;
    bool tmp_made = false, quiet = false;
    const char *out = NULL, *val, *flag, *include = NULL, *exclude = NULL;
    struct cli_time t_start = {0}, t_end = {0};
    int id, rc, exit_code = CLI_EXIT_OK;
    struct rl_iter_options io;
    rl_iter_options_init(&io);
    io.order = RL_ORDER_FILE;

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
        case OPT_CHANNELS:
            include = val;
            break;
        case OPT_EXCLUDE:
            exclude = val;
            break;
        case OPT_SORT:
            io.order = RL_ORDER_LOG_TIME;
            break;
        case OPT_FORMAT:
            e.fmt = format_from_name(val);
            if (e.fmt == OUT_UNSET) {
                exit_code = cli_usage_err(
                    CMD, "bad value '%s' for %s: expected pcapng, pcap or candump", val, flag);
                goto done;
            }
            break;
        case OPT_START:
        case OPT_END:
            if (parse_time_flag(flag, val, id == OPT_START ? &t_start : &t_end) != 0) {
                exit_code = CLI_EXIT_USAGE;
                goto done;
            }
            break;
        default:
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
    e.path = pos[0];
    if (!out || !out[0]) {
        exit_code = cli_usage_err(CMD, "no output given: use -o OUT.pcapng|OUT.pcap|OUT.log");
        goto done;
    }
    if (e.fmt == OUT_UNSET)
        e.fmt = format_from_path(out);
    if (e.fmt == OUT_UNSET) {
        exit_code = cli_usage_err(CMD,
                                  "cannot tell the format of '%s': name it .pcapng, .pcap or "
                                  ".log, or give --format",
                                  out);
        goto done;
    }
    if (cli_same_file(e.path, out)) {
        exit_code = cli_usage_err(CMD, "refusing to write '%s' over the log", out);
        goto done;
    }
    if ((exit_code = cli_chansel_init(&sel, CMD, include, exclude)) != 0)
        goto done;

    struct rl_reader_options ro;
    rl_reader_options_init(&ro);
    ro.problem = on_problem;
    ro.problem_ud = &e;
    if ((exit_code = cli_open_reader(CMD, e.path, &ro, &e.r)) != 0)
        goto done;
    struct rl_file_info fi;
    rl_reader_file_info(e.r, &fi);
    /* A log cut off before its summary defines channels only inside its
     * chunks: counting finds them. */
    if (!fi.complete && rl_reader_count_messages(e.r) < 0) {
        cli_err(CMD, "reading '%s' failed: %s", e.path, rl_reader_errmsg(e.r));
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    char why[512];
    if (t_start.kind != CLI_TIME_UNSET &&
        cli_time_resolve(e.r, &t_start, &io.start_ns, why, sizeof why) < 0) {
        exit_code = cli_usage_err(CMD, "bad value for --start: %s", why);
        goto done;
    }
    if (t_end.kind != CLI_TIME_UNSET &&
        cli_time_resolve(e.r, &t_end, &io.end_ns, why, sizeof why) < 0) {
        exit_code = cli_usage_err(CMD, "bad value for --end: %s", why);
        goto done;
    }
    if (io.end_ns < io.start_ns) {
        exit_code = cli_usage_err(CMD, "--end is before --start");
        goto done;
    }

    e.set = malloc(CLI_CHANNEL_SET_BYTES);
    e.iface = malloc(65536 * sizeof *e.iface);
    e.limit = calloc(65536, sizeof *e.limit);
    if (!e.set || !e.iface || !e.limit) {
        cli_err(CMD, "out of memory");
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    for (size_t i = 0; i < 65536; i++)
        e.iface[i] = NO_IFACE;
    (void)cli_chansel_fill(&sel, e.r, e.set);
    bool pcap_us = false;
    if ((exit_code = choose_channels(&e, &pcap_us)) != 0)
        goto done;
    io.channel_set = e.set;

    size_t out_len = strlen(out);
    tmp = malloc(out_len + sizeof(TMP_SUFFIX));
    if (!tmp) {
        cli_err(CMD, "out of memory");
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    memcpy(tmp, out, out_len);
    memcpy(tmp + out_len, TMP_SUFFIX, sizeof(TMP_SUFFIX));
    if (e.fmt == OUT_CANDUMP) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            cli_err(CMD, "cannot create '%s': %s", tmp, strerror(errno));
            exit_code = CLI_EXIT_INPUT;
            goto done;
        }
        tmp_made = true;
        if (cli_out_init(&e.co, fd, OUT_BUFFER_BYTES) < 0) {
            cli_err(CMD, "out of memory");
            exit_code = CLI_EXIT_INPUT;
            goto done;
        }
    } else {
        rc = open_pcap(&e, tmp, pcap_us);
        tmp_made = e.pw != NULL;
        if (rc < 0) {
            exit_code = CLI_EXIT_INPUT;
            goto done;
        }
    }
    rc = run(&e, &io, tmp, quiet);
    if (rc < 0) {
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    if (e.fmt == OUT_CANDUMP) {
        rc = cli_out_flush(&e.co);
        int fd = e.co.fd;
        e.co.fd = -1;
        if (close(fd) != 0 && rc == 0)
            rc = -errno;
    } else {
        rc = rl_pcap_writer_close(e.pw);
        e.pw = NULL;
    }
    if (rc < 0)
        cli_err(CMD, "finishing '%s' failed: %s", out, rl_strerror(rc));
    else
        rc = cli_commit_output(CMD, tmp, out);
    if (rc < 0) {
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    tmp_made = false;
    if (e.bad > 1)
        cli_err(CMD, "%s: %llu messages in all could not be exported", e.path,
                (unsigned long long)e.bad);
    if (!quiet)
        printf("%s -> %s: %llu packets, %llu bytes\n", e.path, out, (unsigned long long)e.packets,
               (unsigned long long)e.bytes);
    exit_code = e.bad || e.problems ? CLI_EXIT_DAMAGE : CLI_EXIT_OK;
done:
    if (e.pw) {
        /* Failing already: the file is removed, its close status is moot. */
        int crc = rl_pcap_writer_close(e.pw);
        (void)crc;
    }
    if (e.co.fd >= 0) {
        (void)close(e.co.fd);
    }
    cli_out_release(&e.co);
    if (tmp_made && unlink(tmp) != 0 && errno != ENOENT)
        cli_err(CMD, "warning: removing '%s' failed: %s", tmp, strerror(errno));
    rl_reader_close(e.r);
    cli_chansel_release(&sel);
    free(e.set);
    free(e.iface);
    free(e.limit);
    free(tmp);
    free(pos);
    return exit_code;
}
