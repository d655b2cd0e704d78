/* `roadlog import IN -o OUT.mcap`: turns a capture made by other tools into
 * a roadlog log, one channel per source, every frame's bytes kept exactly.
 *
 *   pcap, pcapng   one channel per interface (pcapng IDB; the one implied
 *                  interface of a pcap), metadata linktype, interface
 *                  (if_name), snaplen, tsresol and a decoder guess;
 *                  log_time = the capture timestamp (ns).
 *   candump -l     one channel per CAN interface (and per direction flag
 *                  when an interface has frames with different flags), the
 *                  frames as LINKTYPE_CAN_SOCKETCAN (linktype 227), the
 *                  direction in metadata candump_direction; log_time = the
 *                  line's timestamp.
 *   NMEA/UBX logs  a raw serial byte stream, split by the GNSS framer into
 *                  one message per NMEA sentence, UBX frame or RTCM 3 frame,
 *                  on one channel with linktype "payload". Such a file holds
 *                  no times: messages are spaced 1/--rate seconds apart
 *                  (default 10 per second) and the last one is stamped with
 *                  the file's modification time, when the logging most
 *                  likely ended; the metadata key time_source says so.
 *
 * The input is read twice: the first pass finds the sources (a pcapng file
 * may describe an interface anywhere) and samples payloads for the decoder
 * guess, so every channel is complete before its first message; the second
 * writes. OUT is written as OUT.tmp and renamed when finished. An input that
 * is cut off or has bad lines is imported up to the damage (every line or
 * packet before it), reported, and the command exits 3. */
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
#include "roadlog/framer.h"
#include "roadlog/net.h"
#include "roadlog/pcapio.h"

#ifndef RL_VERSION
#define RL_VERSION "unknown"
#endif

#define CMD         "import"
#define TMP_SUFFIX  ".tmp"
#define SNIFF_BYTES 65536
#define READ_BYTES  65536
/* Payloads per source given to the decoders' detect(), and the average
 * score a guess needs. */
#define DETECT_SAMPLES      32
#define DETECT_MAX_DECODERS 32
#define DETECT_MIN_SCORE    50
#define DEFAULT_RATE_HZ     10
#define NS_PER_S            1000000000ull
#define MAX_SOURCES         RL_PCAP_MAX_IFACES
#define NAME_MAX_BYTES      64
#define TOPIC_MAX_BYTES     256
#define MAX_META            8
/* Bad candump lines named one by one before only counting them. */
#define REPORTED_LINES 5
#define LINE_BUF_BYTES (RL_CANDUMP_LINE_MAX + 2)
#define PROGRESS_EVERY 8192

/* Not yet in cli.h's list of subcommands. */

enum { OPT_SOURCE_NAME = CLI_OPT_LOCAL, OPT_FORMAT, OPT_RATE };

enum in_format { FMT_AUTO = 0, FMT_PCAP, FMT_PCAPNG, FMT_CANDUMP, FMT_BYTES };

static const char *const format_names[] = {"auto", "pcap", "pcapng", "candump", "nmea"};

static const char help_text[] =
    "usage: roadlog import IN -o OUT.mcap [--source-name NAME] [--format F] [--rate HZ]\n"
    "                      [--compression zstd|lz4|none] [--level N] [--chunk-size BYTES]\n"
    "                      [-q]\n"
    "\n"
    "Import a pcap or pcapng capture, a candump -l log, or an NMEA/UBX serial byte\n"
    "log into a roadlog log, keeping every frame's bytes exactly as captured.\n"
    "Each source becomes a channel: a capture interface, a CAN interface, the\n"
    "serial stream. Topics are /NAME for one source and /NAME/<interface> for\n"
    "several; NAME is --source-name or the input's file name without extension.\n"
    "Channel metadata: linktype (pcap LINKTYPE_ number, or \"payload\"),\n"
    "interface, snaplen, decoder (a guess from the first frames), and for\n"
    "candump logs candump_direction.\n"
    "\n"
    "Times: pcap, pcapng and candump frames keep their capture timestamps as log\n"
    "time. NMEA/UBX byte logs hold no times: their messages are spaced 1/HZ\n"
    "seconds apart and end at the file's modification time.\n"
    "\n"
    "  -o, --output OUT             the log to write (written as OUT.tmp, renamed\n"
    "                               when complete)\n"
    "  --source-name NAME           topic name (default: the input's file name)\n"
    "  --format F                   auto (default), pcap, pcapng, candump, nmea\n"
    "                               (an NMEA/UBX/RTCM byte log)\n"
    "  --rate HZ                    messages per second for byte logs (default "
    "10)\n" CLI_WRITER_OPTS_HELP "  -q, --quiet                  no progress line, no summary\n"
    "  -h, --help                   show this help\n"
    "\n"
    "Exit codes: 0 ok, 1 usage error, 2 IN cannot be read or is of no known format,\n"
    "or OUT cannot be written, 3 IN is damaged (cut off, bad lines): OUT holds\n"
    "everything before the damage.\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"quiet", 'q', false, CLI_OPT_QUIET},
    {"output", 'o', true, CLI_OPT_OUTPUT},
    {"source-name", 0, true, OPT_SOURCE_NAME},
    {"format", 0, true, OPT_FORMAT},
    {"rate", 0, true, OPT_RATE},
    CLI_WRITER_OPTS,
    {NULL, 0, false, 0},
};

struct source {
    char sub[NAME_MAX_BYTES];   /* topic part when there are several sources */
    char iface[NAME_MAX_BYTES]; /* interface metadata, "" when unknown */
    char topic[TOPIC_MAX_BYTES];
    char linktype_s[16], snaplen_s[16], tsresol_s[16], dir_s[2];
    int linktype;            /* RL_LINKTYPE_PAYLOAD for byte logs */
    uint32_t snaplen;        /* 0 unknown */
    int tsresol;             /* pcapng if_tsresol; -1 when not a capture */
    char direction;          /* candump flag or '\0' */
    const char *decoder;     /* set, or guessed from samples */
    const char *time_source; /* metadata time_source, or NULL */
    uint16_t channel_id;
    uint32_t seq;
    uint64_t count;
    unsigned samples;
    long score[DETECT_MAX_DECODERS];
};

struct import {
    const char *path, *name;
    enum in_format fmt;
    uint64_t period_ns;
    struct source *src;
    size_t n_src, cap_src;
    struct rl_writer *w;
    uint64_t messages, bytes;
    uint64_t damaged;       /* bad lines, or 1 for a capture cut off */
    uint64_t snapped;       /* packets shorter than on the wire */
    uint64_t no_ts;         /* Simple Packet Blocks */
    uint64_t skipped_bytes; /* byte logs: bytes in no frame */
    struct cli_progress prog;
};

/* ---- small helpers ---- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Copies s into out (cap bytes) keeping [A-Za-z0-9_.-] and '/' when
 * allow_slash, others as '_'. */
static void sanitize(char *out, size_t cap, const char *s, size_t n, bool allow_slash)
{
    size_t k = 0;
    for (size_t i = 0; i < n && s[i] && k + 1 < cap; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-' || (allow_slash && c == '/');
        out[k++] = ok ? c : '_';
    }
    out[k] = '\0';
}

static struct source *source_add(struct import *im)
{
    if (im->n_src >= MAX_SOURCES)
        return NULL;
    if (im->n_src == im->cap_src) {
        size_t nc = im->cap_src ? im->cap_src * 2 : 8;
        struct source *ns = realloc(im->src, nc * sizeof *ns);
        if (!ns)
            return NULL;
        im->src = ns;
        im->cap_src = nc;
    }
    struct source *s = &im->src[im->n_src++];
    memset(s, 0, sizeof *s);
    s->tsresol = -1;
    s->linktype = RL_LINKTYPE_PAYLOAD;
    return s;
}

/* Scores one frame against every registered decoder. */
static void detect_sample(struct source *s, const uint8_t *frame, size_t len, uint64_t ts_ns)
{
    if (s->decoder || s->samples >= DETECT_SAMPLES)
        return;
    struct rl_payload pl = {frame, len, s->linktype, 0, 0, ts_ns, NULL};
    struct rl_net_frame nf;
    if (s->linktype != RL_LINKTYPE_PAYLOAD && rl_net_parse(s->linktype, frame, len, &nf) == 0 &&
        (nf.layers & RL_NET_L_UDP)) {
        pl.data = nf.payload;
        pl.len = nf.payload_len;
        pl.src_port = nf.src_port;
        pl.dst_port = nf.dst_port;
    }
    for (size_t i = 0; i < DETECT_MAX_DECODERS && rl_decoders[i]; i++)
        s->score[i] += rl_decoders[i]->detect(&pl);
    s->samples++;
}

static const char *detect_pick(const struct source *s)
{
    if (s->decoder)
        return s->decoder;
    if (s->samples == 0)
        return NULL;
    long best = 0;
    const char *name = NULL;
    for (size_t i = 0; i < DETECT_MAX_DECODERS && rl_decoders[i]; i++) {
        if (s->score[i] > best) {
            best = s->score[i];
            name = rl_decoders[i]->name;
        }
    }
    return best >= (long)DETECT_MIN_SCORE * (long)s->samples ? name : NULL;
}

/* Gives every source its topic (unique) and registers its channel. */
static int add_channels(struct import *im)
{
    char base[TOPIC_MAX_BYTES / 2];
    const char *name = im->name;
    size_t n;
    if (name) {
        n = strlen(name);
    } else {
        name = base_name(im->path);
        const char *dot = strrchr(name, '.');
        n = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    }
    while (n > 0 && name[0] == '/') {
        name++;
        n--;
    }
    sanitize(base, sizeof base, name, n, true);
    if (!base[0])
        snprintf(base, sizeof base, "import");
    for (size_t i = 0; i < im->n_src; i++) {
        struct source *s = &im->src[i];
        if (im->n_src == 1)
            snprintf(s->topic, sizeof s->topic, "/%s", base);
        else
            snprintf(s->topic, sizeof s->topic, "/%s/%s", base, s->sub);
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s->topic, im->src[k].topic) == 0) {
                snprintf(s->topic, sizeof s->topic, "/%s/%s-%zu", base, s->sub, i);
                break;
            }
        }
        struct rl_kv meta[MAX_META];
        size_t nm = 0;
        if (s->linktype == RL_LINKTYPE_PAYLOAD)
            snprintf(s->linktype_s, sizeof s->linktype_s, "payload");
        else
            snprintf(s->linktype_s, sizeof s->linktype_s, "%d", s->linktype);
        meta[nm++] = (struct rl_kv){"linktype", s->linktype_s};
        if (s->iface[0])
            meta[nm++] = (struct rl_kv){"interface", s->iface};
        if (s->snaplen) {
            snprintf(s->snaplen_s, sizeof s->snaplen_s, "%u", s->snaplen);
            meta[nm++] = (struct rl_kv){"snaplen", s->snaplen_s};
        }
        if (s->tsresol >= 0) {
            snprintf(s->tsresol_s, sizeof s->tsresol_s, "%d", s->tsresol);
            meta[nm++] = (struct rl_kv){"tsresol", s->tsresol_s};
        }
        if (s->direction) {
            s->dir_s[0] = s->direction;
            s->dir_s[1] = '\0';
            meta[nm++] = (struct rl_kv){"candump_direction", s->dir_s};
        }
        const char *dec = detect_pick(s);
        if (dec)
            meta[nm++] = (struct rl_kv){"decoder", dec};
        if (s->time_source)
            meta[nm++] = (struct rl_kv){"time_source", s->time_source};
        int rc = rl_writer_add_channel(im->w, 0, 0, s->topic, "", meta, nm, &s->channel_id);
        if (rc < 0) {
            cli_err(CMD, "adding channel '%s' failed: %s", s->topic, rl_strerror(rc));
            return rc;
        }
    }
    const struct rl_kv md[] = {{"source_file", base_name(im->path)},
                               {"source_format", format_names[im->fmt]},
                               {"importer", "roadlog " RL_VERSION}};
    int rc = rl_writer_write_metadata(im->w, "roadlog.import", md, sizeof md / sizeof md[0]);
    if (rc < 0)
        cli_err(CMD, "writing metadata failed: %s", rl_strerror(rc));
    return rc;
}

static int put_message(struct import *im, struct source *s, uint64_t ts_ns, const uint8_t *d,
                       size_t n)
{
    int rc = rl_writer_write_message(im->w, s->channel_id, s->seq++, ts_ns, ts_ns, d, n);
    if (rc < 0) {
        const char *why = rl_writer_errmsg(im->w);
        cli_err(CMD, "writing the log failed: %s", why[0] ? why : rl_strerror(rc));
        return rc;
    }
    im->messages++;
    im->bytes += n;
    if (im->messages % PROGRESS_EVERY == 0)
        cli_progress_show(&im->prog, "importing %s: %llu messages", im->path,
                          (unsigned long long)im->messages);
    return 0;
}

/* ---- format detection ---- */

/* The first line of head that is not empty, or NULL. */
static const char *first_line(const char *head, size_t n, size_t *len)
{
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && head[e] != '\n')
            e++;
        size_t l = e;
        while (l > i && (head[l - 1] == '\r' || head[l - 1] == ' '))
            l--;
        if (l > i) {
            *len = l - i;
            return head + i;
        }
        i = e + 1;
    }
    return NULL;
}

static int sniff(const char *path, enum in_format *fmt)
{
    struct rl_io *io = NULL;
    uint8_t *head = malloc(SNIFF_BYTES);
    size_t got = 0;
    int rc = head ? rl_io_file_open(&io, path, RL_IO_READ) : -ENOMEM;
    if (rc == 0)
        rc = rl_io_pread(io, head, SNIFF_BYTES, 0, &got);
    if (rc < 0) {
        cli_err(CMD, "cannot read '%s': %s", path, rl_strerror(rc));
        goto fail;
    }
    int pf = rl_pcap_detect(head, got);
    if (pf == RL_PCAP_FORMAT_PCAP) {
        *fmt = FMT_PCAP;
        goto done;
    }
    if (pf == RL_PCAP_FORMAT_PCAPNG) {
        *fmt = FMT_PCAPNG;
        goto done;
    }
    size_t ll = 0;
    const char *line = first_line((const char *)head, got, &ll);
    struct rl_candump_line cl;
    if (line && rl_candump_parse(line, ll, &cl) == 0) {
        *fmt = FMT_CANDUMP;
        goto done;
    }
    struct rl_framer *fr = malloc(sizeof *fr);
    if (!fr) {
        rc = -ENOMEM;
        cli_err(CMD, "out of memory");
        goto fail;
    }
    rl_framer_init(fr);
    size_t off = 0, frames = 0;
    struct rl_frame f;
    while (off < got) {
        off += rl_framer_push(fr, head + off, got - off);
        while (rl_framer_next(fr, &f) == 1)
            frames++;
    }
    free(fr);
    if (frames > 0) {
        *fmt = FMT_BYTES;
        goto done;
    }
    rc = RL_EUNSUPPORTED;
    cli_err(CMD, "'%s' is not a pcap, pcapng, candump log or NMEA/UBX byte log", path);
    goto fail;
done:
    rc = 0;
fail:
    if (io) {
        int crc = rl_io_close(io);
        if (rc == 0 && crc < 0) {
            rc = crc;
            cli_err(CMD, "closing '%s' failed: %s", path, rl_strerror(rc));
        }
    }
    free(head);
    return rc;
}

/* ---- pcap / pcapng ---- */

/* One pass over the capture: the first (write false) counts packets and
 * samples them; the second writes the first *n packets. Returns 0, or <0
 * after printing (a read or write failure that is not damage). */
static int pcap_pass(struct import *im, bool write, uint64_t *n)
{
    struct rl_pcap_reader *r = NULL;
    char err[320];
    int rc = rl_pcap_reader_open(&r, im->path, err, sizeof err);
    if (rc < 0) {
        cli_err(CMD, "cannot read '%s': %s", im->path, err);
        return rc;
    }
    struct rl_pcap_packet k;
    uint64_t seen = 0, last_ts = 0;
    while ((!write || seen < *n) && (rc = rl_pcap_reader_next(r, &k)) == 1) {
        if (!write && k.iface >= im->n_src) {
            while (im->n_src <= k.iface) {
                if (!source_add(im)) {
                    rc = -ENOMEM;
                    cli_err(CMD, "out of memory");
                    goto done;
                }
            }
        }
        if (k.iface >= im->n_src) {
            rc = -EIO;
            cli_err(CMD, "'%s' changed while it was imported", im->path);
            goto done;
        }
        if (k.has_ts)
            last_ts = k.ts_ns;
        struct source *s = &im->src[k.iface];
        seen++;
        if (!write) {
            /* The interface is known by now: its description precedes
             * its packets. */
            s->linktype = k.linktype;
            s->count++;
            detect_sample(s, k.data, k.caplen, last_ts);
            continue;
        }
        if (!k.has_ts)
            im->no_ts++;
        if (k.origlen > k.caplen)
            im->snapped++;
        rc = put_message(im, s, last_ts, k.data, k.caplen);
        if (rc < 0)
            goto done;
    }
    if (rc < 0 && !write) {
        cli_err(CMD, "'%s' is damaged: %s; importing the %llu packets before it", im->path,
                rl_pcap_reader_errmsg(r), (unsigned long long)seen);
        im->damaged = 1;
        rc = 0;
    }
    if (rc < 0) {
        cli_err(CMD, "reading '%s' failed: %s", im->path, rl_pcap_reader_errmsg(r));
        goto done;
    }
    rc = 0;
    if (!write) {
        *n = seen;
        /* Interfaces without packets become channels too. */
        size_t ni = rl_pcap_reader_iface_count(r);
        while (im->n_src < ni) {
            if (!source_add(im)) {
                rc = -ENOMEM;
                cli_err(CMD, "out of memory");
                goto done;
            }
        }
        for (size_t i = 0; i < im->n_src; i++) {
            const struct rl_pcap_iface *it = rl_pcap_reader_iface(r, i);
            struct source *s = &im->src[i];
            s->linktype = it->linktype;
            s->snaplen = it->snaplen;
            s->tsresol = it->tsresol;
            if (it->name) {
                sanitize(s->iface, sizeof s->iface, it->name, strlen(it->name), true);
                sanitize(s->sub, sizeof s->sub, it->name, strlen(it->name), false);
            } else {
                snprintf(s->sub, sizeof s->sub, "if%zu", i);
            }
        }
    } else if (seen < *n) {
        rc = -EIO;
        cli_err(CMD, "'%s' changed while it was imported", im->path);
    }
done:
    rl_pcap_reader_close(r);
    return rc;
}

static int import_pcap(struct import *im)
{
    uint64_t n = 0;
    int rc = pcap_pass(im, false, &n);
    if (rc == 0)
        rc = add_channels(im);
    if (rc == 0)
        rc = pcap_pass(im, true, &n);
    return rc;
}

/* ---- candump ---- */

/* The source of a line's interface and direction; new ones are made only
 * while counting (create). */
static struct source *can_source(struct import *im, const struct rl_candump_line *l, bool create)
{
    char iface[NAME_MAX_BYTES];
    sanitize(iface, sizeof iface, l->iface, strlen(l->iface), false);
    for (size_t i = 0; i < im->n_src; i++)
        if (im->src[i].direction == l->direction && strcmp(im->src[i].iface, iface) == 0)
            return &im->src[i];
    if (!create)
        return NULL;
    struct source *s = source_add(im);
    if (!s)
        return NULL;
    s->linktype = RL_LINKTYPE_CAN_SOCKETCAN;
    s->direction = l->direction;
    s->decoder = "can";
    memcpy(s->iface, iface, sizeof iface);
    return s;
}

/* Names the sub-topics: the interface, plus the direction when one
 * interface has frames with different flags. */
static void can_subs(struct import *im)
{
    for (size_t i = 0; i < im->n_src; i++) {
        struct source *s = &im->src[i];
        bool split = false;
        for (size_t k = 0; k < im->n_src; k++)
            if (k != i && strcmp(im->src[k].iface, s->iface) == 0)
                split = true;
        const char *d = s->direction == 'R' ? "rx" : s->direction == 'T' ? "tx" : "nodir";
        if (split)
            snprintf(s->sub, sizeof s->sub, "%.40s-%s", s->iface, d);
        else
            snprintf(s->sub, sizeof s->sub, "%s", s->iface);
    }
}

static int candump_pass(struct import *im, bool write)
{
    FILE *f = fopen(im->path, "r");
    if (!f) {
        cli_err(CMD, "cannot open '%s': %s", im->path, strerror(errno));
        return -errno;
    }
    char line[LINE_BUF_BYTES];
    uint64_t lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        bool whole = len > 0 && line[len - 1] == '\n';
        if (!whole && !feof(f)) {
            /* Longer than any candump line: skip the rest of it. */
            int c;
            while ((c = getc(f)) != EOF && c != '\n')
                ;
            len = RL_CANDUMP_LINE_MAX + 1;
        }
        size_t l = len <= RL_CANDUMP_LINE_MAX ? len : 0;
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
            l--;
        if (len <= RL_CANDUMP_LINE_MAX && l == 0)
            continue; /* empty line */
        struct rl_candump_line cl;
        int prc = len <= RL_CANDUMP_LINE_MAX ? rl_candump_parse(line, l, &cl) : RL_ETOOBIG;
        if (prc < 0) {
            if (!write) {
                if (im->damaged < REPORTED_LINES)
                    cli_err(CMD, "%s:%llu: not a candump line (%s)", im->path,
                            (unsigned long long)lineno, rl_strerror(prc));
                im->damaged++;
            }
            continue;
        }
        struct source *s = can_source(im, &cl, !write);
        if (!s && write) {
            rc = -EIO;
            cli_err(CMD, "'%s' changed while it was imported", im->path);
            break;
        }
        if (!s) {
            rc = -ENOMEM;
            cli_err(CMD, "out of memory, or more than %u CAN sources", MAX_SOURCES);
            break;
        }
        if (!write) {
            s->count++;
            continue;
        }
        uint8_t frame[RL_SOCKETCAN_FD_MTU];
        int n = rl_socketcan_format(&cl.frame, frame, sizeof frame);
        if (n < 0) {
            im->damaged++;
            cli_err(CMD, "%s:%llu: frame cannot be stored: %s", im->path,
                    (unsigned long long)lineno, rl_strerror(n));
            continue;
        }
        rc = put_message(im, s, cl.time_ns, frame, (size_t)n);
        if (rc < 0)
            break;
    }
    if (rc == 0 && ferror(f)) {
        rc = -EIO;
        cli_err(CMD, "reading '%s' failed", im->path);
    }
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
        cli_err(CMD, "closing '%s' failed: %s", im->path, strerror(errno));
    }
    return rc;
}

static int import_candump(struct import *im)
{
    int rc = candump_pass(im, false);
    if (rc < 0)
        return rc;
    if (im->damaged > REPORTED_LINES)
        cli_err(CMD, "%s: %llu lines in all are not candump lines and were skipped", im->path,
                (unsigned long long)im->damaged);
    can_subs(im);
    rc = add_channels(im);
    if (rc == 0)
        rc = candump_pass(im, true);
    return rc;
}

/* ---- NMEA / UBX byte logs ---- */

/* Runs the framer over the file: counts frames (write false) or writes
 * them with times ending at end_ns. */
static int bytes_pass(struct import *im, bool write, uint64_t n_frames, uint64_t end_ns,
                      uint64_t *kinds)
{
    struct rl_io *io = NULL;
    uint8_t *buf = malloc(READ_BYTES);
    struct rl_framer *fr = malloc(sizeof *fr);
    int rc = buf && fr ? rl_io_file_open(&io, im->path, RL_IO_READ) : -ENOMEM;
    if (rc < 0) {
        cli_err(CMD, "cannot read '%s': %s", im->path, rl_strerror(rc));
        goto done;
    }
    rl_framer_init(fr);
    uint64_t off = 0, i = 0;
    bool eof = false;
    struct source *s = &im->src[0];
    while (!eof) {
        size_t got = 0;
        rc = rl_io_pread(io, buf, READ_BYTES, off, &got);
        if (rc < 0) {
            cli_err(CMD, "reading '%s' failed: %s", im->path, rl_strerror(rc));
            goto done;
        }
        off += got;
        if (got == 0) {
            rl_framer_finish(fr);
            eof = true;
        }
        size_t used = 0;
        struct rl_frame f;
        do {
            used += rl_framer_push(fr, buf + used, got - used);
            while (rl_framer_next(fr, &f) == 1) {
                if (!write) {
                    kinds[f.kind]++;
                    continue;
                }
                if (i >= n_frames) {
                    rc = -EIO;
                    cli_err(CMD, "'%s' changed while it was imported", im->path);
                    goto done;
                }
                uint64_t back = (n_frames - 1 - i) * im->period_ns;
                rc = put_message(im, s, end_ns > back ? end_ns - back : 0, f.data, f.len);
                if (rc < 0)
                    goto done;
                i++;
            }
        } while (used < got);
    }
    im->skipped_bytes = fr->stats.skipped_bytes;
    rc = 0;
done:
    if (io) {
        int crc = rl_io_close(io);
        if (rc == 0 && crc < 0) {
            rc = crc;
            cli_err(CMD, "closing '%s' failed: %s", im->path, rl_strerror(rc));
        }
    }
    free(fr);
    free(buf);
    return rc;
}

static int import_bytes(struct import *im)
{
    struct stat st;
    if (stat(im->path, &st) != 0) {
        cli_err(CMD, "cannot stat '%s': %s", im->path, strerror(errno));
        return -errno;
    }
    uint64_t end_ns = (uint64_t)st.st_mtim.tv_sec * NS_PER_S + (uint64_t)st.st_mtim.tv_nsec;
    struct source *s = source_add(im);
    if (!s) {
        cli_err(CMD, "out of memory");
        return -ENOMEM;
    }
    sanitize(s->iface, sizeof s->iface, base_name(im->path), strlen(base_name(im->path)), false);
    char ts[96];
    snprintf(ts, sizeof ts, "synthetic: %.6g messages/s ending at the file's mtime",
             (double)NS_PER_S / (double)im->period_ns);
    s->time_source = ts;
    uint64_t kinds[RL_FRAME_RTCM3 + 1] = {0};
    int rc = bytes_pass(im, false, 0, 0, kinds);
    if (rc < 0)
        return rc;
    uint64_t n = kinds[RL_FRAME_NMEA] + kinds[RL_FRAME_UBX] + kinds[RL_FRAME_RTCM3];
    s->count = n;
    /* One protocol: that decoder; a mix: left to per-frame detection. */
    if (n > 0 && kinds[RL_FRAME_NMEA] == n)
        s->decoder = "nmea";
    else if (n > 0 && kinds[RL_FRAME_UBX] == n)
        s->decoder = "ubx";
    rc = add_channels(im);
    s->time_source = NULL;
    if (rc == 0 && n > 0)
        rc = bytes_pass(im, true, n, end_ns, kinds);
    return rc;
}

/* ---- the command ---- */

static int parse_format(const char *val, enum in_format *fmt)
{
    for (int i = 0; i < (int)(sizeof format_names / sizeof format_names[0]); i++) {
        if (strcmp(val, format_names[i]) == 0) {
            *fmt = (enum in_format)i;
            return 0;
        }
    }
    if (strcmp(val, "ubx") == 0) {
        *fmt = FMT_BYTES;
        return 0;
    }
    return -1;
}

int cmd_import(int argc, char **argv)
{
    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    struct import im;
    memset(&im, 0, sizeof im);
    im.period_ns = NS_PER_S / DEFAULT_RATE_HZ;
    char *tmp = NULL;
    bool tmp_made = false, quiet = false;
    const char *out = NULL, *val, *flag;
    int id, rc, exit_code = CLI_EXIT_OK;
    enum in_format want = FMT_AUTO;
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
        case OPT_SOURCE_NAME:
            im.name = val;
            break;
        case OPT_FORMAT:
            if (parse_format(val, &want) < 0) {
                exit_code = cli_usage_err(CMD,
                                          "bad value '%s' for %s: expected auto, pcap, pcapng, "
                                          "candump or nmea",
                                          val, flag);
                goto done;
            }
            break;
        case OPT_RATE: {
            char *end = NULL;
            errno = 0;
            double hz = strtod(val, &end);
            if (errno != 0 || end == val || *end != '\0' || !(hz >= 1e-3 && hz <= 1e9)) {
                exit_code = cli_usage_err(
                    CMD, "bad value '%s' for %s: expected messages per second, 0.001..1e9", val,
                    flag);
                goto done;
            }
            im.period_ns = (uint64_t)((double)NS_PER_S / hz);
            if (im.period_ns == 0)
                im.period_ns = 1;
            break;
        }
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
        exit_code = cli_usage_err(CMD, p.n_pos == 0 ? "no input given" : "more than one input");
        goto done;
    }
    im.path = pos[0];
    if (!out || !out[0]) {
        exit_code = cli_usage_err(CMD, "no output given: use -o OUT.mcap");
        goto done;
    }
    if (im.name && !im.name[0]) {
        exit_code = cli_usage_err(CMD, "empty --source-name");
        goto done;
    }
    if (cli_same_file(im.path, out)) {
        exit_code = cli_usage_err(CMD, "refusing to write '%s' over the input", out);
        goto done;
    }
    if (want == FMT_AUTO) {
        if (sniff(im.path, &im.fmt) < 0) {
            exit_code = CLI_EXIT_INPUT;
            goto done;
        }
    } else {
        im.fmt = want;
    }

    size_t out_len = strlen(out);
    tmp = malloc(out_len + sizeof(TMP_SUFFIX));
    if (!tmp) {
        cli_err(CMD, "out of memory");
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    memcpy(tmp, out, out_len);
    memcpy(tmp + out_len, TMP_SUFFIX, sizeof(TMP_SUFFIX));
    rc = rl_writer_open(&im.w, tmp, &wo);
    if (rc < 0) {
        cli_err(CMD, "cannot create '%s': %s", tmp, rl_strerror(rc));
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    tmp_made = true;
    cli_progress_init(&im.prog, quiet);
    switch (im.fmt) {
    case FMT_PCAP:
    case FMT_PCAPNG:
        rc = import_pcap(&im);
        break;
    case FMT_CANDUMP:
        rc = import_candump(&im);
        break;
    default:
        rc = import_bytes(&im);
        break;
    }
    cli_progress_clear(&im.prog);
    if (rc < 0) {
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    rc = rl_writer_close(im.w);
    im.w = NULL;
    if (rc < 0)
        cli_err(CMD, "finishing '%s' failed: %s", out, rl_strerror(rc));
    else
        rc = cli_commit_output(CMD, tmp, out);
    if (rc < 0) {
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    tmp_made = false;
    if (im.snapped > 0)
        cli_err(CMD,
                "warning: %llu packets were cut to the capture's snapshot length; the log "
                "keeps the captured bytes only, not their original length",
                (unsigned long long)im.snapped);
    if (im.no_ts > 0)
        cli_err(CMD,
                "warning: %llu packets had no timestamp (simple packet blocks) and got the "
                "one before them",
                (unsigned long long)im.no_ts);
    if (!quiet) {
        printf("%s -> %s: %llu messages, %llu bytes on %zu channel%s (%s)", im.path, out,
               (unsigned long long)im.messages, (unsigned long long)im.bytes, im.n_src,
               im.n_src == 1 ? "" : "s", format_names[im.fmt]);
        if (im.fmt == FMT_BYTES)
            printf(", %llu bytes outside frames skipped", (unsigned long long)im.skipped_bytes);
        printf("\n");
    }
    exit_code = im.damaged ? CLI_EXIT_DAMAGE : CLI_EXIT_OK;
done:
    rl_writer_abort(im.w);
    if (tmp_made && unlink(tmp) != 0 && errno != ENOENT)
        cli_err(CMD, "warning: removing '%s' failed: %s", tmp, strerror(errno));
    free(im.src);
    free(tmp);
    free(pos);
    return exit_code;
}
