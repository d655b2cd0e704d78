/* `roadlog cat LOG`: every message in log-time order, one line each, as
 * text or JSON Lines (cli.md), filtered by channel regexes and a half-open
 * time range. This is a hot path: output goes through one large buffer
 * straight to fd 1 (no stdio), the JSON writer's buffer is reused, and
 * nothing is allocated per message. A reader that goes away
 * (`roadlog cat x | head`) ends the output quietly with exit 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "roadlog/decode.h"
#include "roadlog/jsonw.h"

#define CMD              "cat"
#define OUT_BUFFER_BYTES ((size_t)1 << 20)
/* A message's JSON line holds its data in base64: room for the largest
 * chunk MCAP allows us to load, and then some. */
#define JSON_LINE_LIMIT_BYTES ((size_t)2 << 30)
#define PREVIEW_BYTES         16
#define DBC_MAX_BYTES         ((size_t)16 << 20)
#define NS_PER_S              UINT64_C(1000000000)

enum { OPT_CHANNELS = CLI_OPT_LOCAL, OPT_EXCLUDE, OPT_START, OPT_END, OPT_DECODE, OPT_DBC };

static const char help_text[] =
    "usage: roadlog cat LOG [--channels RE] [--exclude RE] [--start T] [--end T]\n"
    "                       [--json] [--decode]\n"
    "\n"
    "Print the messages of a log in log-time order, one line per message:\n"
    "  <log time, UTC> <topic> seq=<sequence> <size> bytes <first bytes in hex>\n"
    "or with --json one JSON object per line (JSON Lines) with channel_id, topic,\n"
    "sequence, log_time_ns, publish_time_ns, size and data_b64 (the bytes in\n"
    "base64).\n"
    "\n"
    "  --channels RE  only channels whose topic matches the POSIX extended regex\n"
    "  --exclude RE   leave out channels whose topic matches\n"
    "  --start T      first log time to print (inclusive)\n"
    "  --end T        log time to stop at (exclusive): the range is [start, end)\n"
    "  --json         JSON Lines instead of text\n"
    "  --decode       add \"decoded\": the frame's fields as its decoder reads\n"
    "                 them (LiDAR, NMEA/UBX, CAN with the log's DBC, C-V2X), or\n"
    "                 {\"error\": \"...\"} when it cannot be decoded\n"
    "  --dbc FILE     decode CAN frames with this DBC (default: the log's\n"
    "                 attached DBC, if any)\n"
    "  -h, --help     show this help\n"
    "\n"
    "T is seconds from the log's first message (12.5, +12.5, 90s, 1m30s,\n"
    "1h2m3.5s, 250ms), an absolute UTC time (2026-11-21T08:30:00.250Z), or\n"
    "@LABEL, the time of the first marker with that label.\n"
    "\n"
    "Exit codes: 0 ok, 1 usage error, 2 LOG cannot be read or is not MCAP.\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"json", 0, false, CLI_OPT_JSON},
    {"channels", 0, true, OPT_CHANNELS},
    {"exclude", 0, true, OPT_EXCLUDE},
    {"start", 0, true, OPT_START},
    {"end", 0, true, OPT_END},
    {"decode", 0, false, OPT_DECODE},
    {"dbc", 0, true, OPT_DBC},
    {NULL, 0, false, 0},
};

struct cat {
    const char *path;
    bool json, decode;
    struct cli_out out;
    struct rl_jw jw;
    struct rl_jw djw; /* the decoded object, in text mode */
    struct rl_decode_env *env;
    /* Text mode: "YYYY-MM-DDTHH:MM:SS" of the last second printed. */
    uint64_t iso_sec;
    bool iso_valid;
    char iso[CLI_ISO_LEN];
    size_t iso_len;
};

static void on_problem(void *ud, int code, uint64_t offset, const char *msg)
{
    const char *path = ud;
    (void)code;
    (void)offset;
    cli_err(CMD, "warning: %s: %s", path, msg);
}

static void put_time(struct cat *c, uint64_t ns)
{
    uint64_t sec = ns / NS_PER_S;
    if (!c->iso_valid || sec != c->iso_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            c->iso_len = strftime(c->iso, sizeof(c->iso), "%Y-%m-%dT%H:%M:%S", &tm);
        else
            c->iso_len = 0;
        c->iso_sec = sec;
        c->iso_valid = true;
    }
    char frac[12];
    uint64_t f = ns % NS_PER_S;
    frac[0] = '.';
    for (int i = 9; i >= 1; i--) {
        frac[i] = (char)('0' + f % 10);
        f /= 10;
    }
    frac[10] = 'Z';
    cli_out_put(&c->out, c->iso, c->iso_len);
    cli_out_put(&c->out, frac, 11);
}

/* Writes the decoded object of a message (or {"error": ...}). */
static void decode_into(struct cat *c, const struct rl_message *m, struct rl_jw *w)
{
    if (strcmp(m->channel->message_encoding, "json") == 0) {
        /* roadlog's own topics (markers, health) are JSON text already. */
        rl_jw_obj_begin(w);
        rl_jw_kstr(w, "type", "json");
        rl_jw_key(w, "text");
        rl_jw_strn(w, (const char *)m->data, m->len);
        rl_jw_obj_end(w);
        return;
    }
    (void)rl_decode_frame(rl_decode_env_ctx(c->env), rl_channel_decoder(m->channel),
                          rl_channel_linktype(m->channel), m->data, m->len, m->log_time_ns, w);
}

static void print_text(struct cat *c, const struct rl_message *m)
{
    static const char hex[] = "0123456789abcdef";
    put_time(c, m->log_time_ns);
    cli_out_put(&c->out, " ", 1);
    cli_out_str(&c->out, m->channel->topic[0] ? m->channel->topic : "?");
    cli_out_put(&c->out, " seq=", 5);
    cli_out_u64(&c->out, m->sequence);
    cli_out_put(&c->out, " ", 1);
    cli_out_u64(&c->out, m->len);
    cli_out_put(&c->out, " bytes", 6);
    size_t n = m->len < PREVIEW_BYTES ? m->len : PREVIEW_BYTES;
    if (n > 0) {
        char pv[PREVIEW_BYTES * 3 + 4];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            pv[k++] = ' ';
            pv[k++] = hex[m->data[i] >> 4];
            pv[k++] = hex[m->data[i] & 15];
        }
        if (m->len > n) {
            memcpy(pv + k, " ..", 3);
            k += 3;
        }
        cli_out_put(&c->out, pv, k);
    }
    if (c->decode) {
        rl_jw_reset(&c->djw);
        decode_into(c, m, &c->djw);
        size_t len;
        const char *s = rl_jw_str_out(&c->djw, &len);
        cli_out_put(&c->out, " decoded=", 9);
        cli_out_put(&c->out, s, len);
    }
    cli_out_put(&c->out, "\n", 1);
}

static int print_json(struct cat *c, const struct rl_message *m)
{
    struct rl_jw *w = &c->jw;
    rl_jw_reset(w);
    rl_jw_obj_begin(w);
    rl_jw_ku64(w, "channel_id", m->channel_id);
    rl_jw_kstr(w, "topic", m->channel->topic);
    rl_jw_ku64(w, "sequence", m->sequence);
    rl_jw_ku64(w, "log_time_ns", m->log_time_ns);
    rl_jw_ku64(w, "publish_time_ns", m->publish_time_ns);
    rl_jw_ku64(w, "size", m->len);
    rl_jw_key(w, "data_b64");
    rl_jw_base64(w, m->data, m->len);
    if (c->decode) {
        rl_jw_key(w, "decoded");
        decode_into(c, m, w);
    }
    rl_jw_obj_end(w);
    if (rl_jw_failed(w)) {
        cli_err(CMD, "%s: message at %llu on '%s' (%zu bytes) is too large for JSON output",
                c->path, (unsigned long long)m->log_time_ns, m->channel->topic, m->len);
        return -1;
    }
    size_t len;
    const char *s = rl_jw_str_out(w, &len);
    cli_out_put(&c->out, s, len);
    cli_out_put(&c->out, "\n", 1);
    return 0;
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

/* Loads --dbc FILE into the decode environment. Returns an exit code. */
static int load_dbc(struct rl_decode_env *env, const char *path)
{
    size_t len;
    char *text = cli_read_file(path, DBC_MAX_BYTES, &len);
    if (!text) {
        cli_err(CMD, "cannot read DBC '%s': %s", path, strerror(errno));
        return CLI_EXIT_INPUT;
    }
    char why[256];
    int rc = rl_decode_env_set_dbc(env, text, len, why, sizeof(why));
    free(text);
    if (rc < 0) {
        cli_err(CMD, "bad DBC '%s': %s", path, why);
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

/* Iterates and prints. Returns an exit code. */
static int run(struct cat *c, struct rl_reader *r, const struct rl_iter_options *io)
{
    struct rl_iter *it = NULL;
    int rc = rl_iter_new(r, io, &it);
    if (rc < 0) {
        cli_err(CMD, "reading '%s' failed: %s", c->path, rl_strerror(rc));
        return CLI_EXIT_INPUT;
    }
    int exit_code = CLI_EXIT_OK;
    struct rl_message m;
    while ((rc = rl_iter_next(it, &m)) == 1) {
        if (c->json) {
            if (print_json(c, &m) < 0) {
                exit_code = CLI_EXIT_INPUT;
                break;
            }
        } else {
            print_text(c, &m);
        }
        if (c->out.err)
            break;
    }
    if (rc < 0) {
        const char *why = rl_reader_errmsg(r);
        cli_err(CMD, "reading '%s' failed: %s", c->path, why[0] ? why : rl_strerror(rc));
        exit_code = CLI_EXIT_INPUT;
    }
    rl_iter_free(it);
    if (cli_out_flush(&c->out) < 0 && c->out.err != -EPIPE) {
        cli_err(CMD, "writing standard output failed: %s", strerror(-c->out.err));
        exit_code = CLI_EXIT_INPUT;
    }
    return exit_code;
}

int cmd_cat(int argc, char **argv)
{
    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    struct cat c;
    memset(&c, 0, sizeof(c));
    rl_jw_init(&c.jw, JSON_LINE_LIMIT_BYTES);
    rl_jw_init(&c.djw, JSON_LINE_LIMIT_BYTES);
    const char *dbc_path = NULL;
    struct cli_chansel sel;
    memset(&sel, 0, sizeof(sel));
    struct rl_reader *r = NULL;
    uint8_t *set = NULL;
    int exit_code = CLI_EXIT_OK, id, rc;
    const char *val, *flag, *include = NULL, *exclude = NULL;
    struct cli_time t_start = {0}, t_end = {0};

    if (!pos || cli_out_init(&c.out, STDOUT_FILENO, OUT_BUFFER_BYTES) < 0) {
        cli_err(CMD, "out of memory");
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    struct cli_parser p;
    cli_parser_init(&p, CMD, argc, argv, pos);
    while ((rc = cli_parser_next(&p, options, &id, &val, &flag)) == 1) {
        switch (id) {
        case CLI_OPT_HELP:
            exit_code = cli_help(help_text);
            goto done;
        case CLI_OPT_JSON:
            c.json = true;
            break;
        case OPT_DECODE:
            c.decode = true;
            break;
        case OPT_DBC:
            dbc_path = val;
            break;
        case OPT_CHANNELS:
            include = val;
            break;
        case OPT_EXCLUDE:
            exclude = val;
            break;
        case OPT_START:
            if (parse_time_flag(flag, val, &t_start) != 0) {
                exit_code = CLI_EXIT_USAGE;
                goto done;
            }
            break;
        case OPT_END:
            if (parse_time_flag(flag, val, &t_end) != 0) {
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
    c.path = pos[0];
    if ((exit_code = cli_chansel_init(&sel, CMD, include, exclude)) != 0)
        goto done;

    struct rl_reader_options ro;
    rl_reader_options_init(&ro);
    ro.problem = on_problem;
    ro.problem_ud = (void *)c.path;
    if ((exit_code = cli_open_reader(CMD, c.path, &ro, &r)) != 0)
        goto done;

    char why[512];
    if (c.decode) {
        why[0] = '\0';
        rc = rl_decode_env_new(&c.env, r, why, sizeof(why));
        if (rc < 0) {
            cli_err(CMD, "out of memory");
            exit_code = CLI_EXIT_INPUT;
            goto done;
        }
        if (why[0])
            cli_err(CMD, "warning: %s: %s", c.path, why);
        if (dbc_path && (exit_code = load_dbc(c.env, dbc_path)) != 0)
            goto done;
    }
    struct rl_iter_options io;
    rl_iter_options_init(&io);
    if (t_start.kind != CLI_TIME_UNSET &&
        cli_time_resolve(r, &t_start, &io.start_ns, why, sizeof(why)) < 0) {
        exit_code = cli_usage_err(CMD, "bad value for --start: %s", why);
        goto done;
    }
    if (t_end.kind != CLI_TIME_UNSET &&
        cli_time_resolve(r, &t_end, &io.end_ns, why, sizeof(why)) < 0) {
        exit_code = cli_usage_err(CMD, "bad value for --end: %s", why);
        goto done;
    }
    if (io.end_ns < io.start_ns) {
        exit_code = cli_usage_err(CMD, "--end is before --start");
        goto done;
    }
    if (cli_chansel_active(&sel)) {
        /* Channels defined only inside chunks become known by counting. */
        rc = rl_reader_count_messages(r);
        if (rc < 0) {
            cli_err(CMD, "reading '%s' failed: %s", c.path, rl_reader_errmsg(r));
            exit_code = CLI_EXIT_INPUT;
            goto done;
        }
        set = malloc(CLI_CHANNEL_SET_BYTES);
        if (!set) {
            cli_err(CMD, "out of memory");
            exit_code = CLI_EXIT_INPUT;
            goto done;
        }
        if (cli_chansel_fill(&sel, r, set) == 0)
            cli_err(CMD, "warning: %s: no channel matches the selection", c.path);
        io.channel_set = set;
    }
    exit_code = run(&c, r, &io);
done:
    free(set);
    rl_reader_close(r);
    cli_chansel_release(&sel);
    cli_out_release(&c.out);
    rl_jw_release(&c.jw);
    rl_jw_release(&c.djw);
    rl_decode_env_free(c.env);
    free(pos);
    return exit_code;
}
