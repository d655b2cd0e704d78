/* Shared helpers of the `roadlog` command: error lines, the option parser,
 * number/size/duration/TIME parsing, ISO time formatting, marker lookup,
 * channel selection, writer options, buffered output and the progress line.
 * See cli.h for the contracts; cli.md for the conventions they implement. */
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <libgen.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define NS_PER_S             UINT64_C(1000000000)
#define NS_PER_MS            UINT64_C(1000000)
#define NS_PER_US            UINT64_C(1000)
#define LINE_MAX_BYTES       2048
#define LEVEL_MIN            (-7)
#define LEVEL_MAX            22
#define CHUNK_SIZE_MIN_BYTES UINT64_C(1)
#define CHUNK_SIZE_MAX_BYTES (RL_MCAP_MAX_CHUNK_UNCOMPRESSED / 2)

/* ---- messages ---- */

static void vline(const char *cmd, const char *suffix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vline(const char *cmd, const char *suffix, const char *fmt, va_list ap)
{
    char line[LINE_MAX_BYTES];
    int n = snprintf(line, sizeof(line), "roadlog %s: ", cmd);
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    int m = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
    if (m > 0)
        used += (size_t)m < sizeof(line) - used ? (size_t)m : sizeof(line) - used - 1;
    if (suffix) {
        m = snprintf(line + used, sizeof(line) - used, "%s", suffix);
        if (m > 0)
            used += (size_t)m < sizeof(line) - used ? (size_t)m : sizeof(line) - used - 1;
    }
    /* One line whatever the message holds. */
    for (size_t i = 0; i < used; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    if (used < sizeof(line) - 1)
        line[used++] = '\n';
    else
        line[sizeof(line) - 2] = '\n';
    (void)fwrite(line, 1, used, stderr);
    (void)fflush(stderr);
}

void cli_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, NULL, fmt, ap);
    va_end(ap);
}

int cli_usage_err(const char *cmd, const char *fmt, ...)
{
    char suffix[64];
    snprintf(suffix, sizeof(suffix), " (see 'roadlog %s --help')", cmd);
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, suffix, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_help(const char *text)
{
    if (fputs(text, stdout) == EOF)
        return CLI_EXIT_INPUT;
    return CLI_EXIT_OK;
}

/* ---- option parsing ---- */

void cli_parser_init(struct cli_parser *p, const char *cmd, int argc, char **argv, const char **pos)
{
    p->cmd = cmd;
    p->argc = argc;
    p->argv = argv;
    p->next = 1;
    p->only_pos = false;
    p->pos = pos;
    p->n_pos = 0;
}

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t n)
{
    for (const struct cli_opt *o = opts; o->name; o++)
        if (strlen(o->name) == n && memcmp(o->name, name, n) == 0)
            return o;
    return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
    for (const struct cli_opt *o = opts; o->name; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

static int opt_err(const struct cli_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int opt_err(const struct cli_parser *p, const char *fmt, ...)
{
    char suffix[64];
    snprintf(suffix, sizeof(suffix), " (see 'roadlog %s --help')", p->cmd);
    va_list ap;
    va_start(ap, fmt);
    vline(p->cmd, suffix, fmt, ap);
    va_end(ap);
    return -1;
}

int cli_parser_next(struct cli_parser *p, const struct cli_opt *opts, int *id, const char **val,
                    const char **flag)
{
    while (p->next < p->argc) {
        char *a = p->argv[p->next++];
        if (p->only_pos || a[0] != '-' || a[1] == '\0') {
            p->pos[p->n_pos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            p->only_pos = true;
            continue;
        }
        const struct cli_opt *o;
        const char *inline_val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(opts, name, n);
            if (!o) {
                if (eq)
                    return opt_err(p, "unknown option '--%.*s'", (int)n, name);
                return opt_err(p, "unknown option '%s'", a);
            }
            if (eq)
                inline_val = eq + 1;
            if (eq && !o->has_arg)
                return opt_err(p, "option '--%s' takes no value", o->name);
        } else {
            o = find_short(opts, a[1]);
            if (!o)
                return opt_err(p, "unknown option '-%c'", a[1]);
            if (a[2] != '\0') {
                if (!o->has_arg)
                    return opt_err(p, "unknown option '%s'", a);
                inline_val = a + 2;
            }
        }
        *id = o->id;
        *val = NULL;
        /* Name the option as the user wrote it: "--start" or "-o". */
        if (a[1] == '-')
            snprintf(p->flag, sizeof(p->flag), "--%s", o->name);
        else
            snprintf(p->flag, sizeof(p->flag), "-%c", a[1]);
        *flag = p->flag;
        if (o->has_arg) {
            if (inline_val)
                *val = inline_val;
            else if (p->next < p->argc)
                *val = p->argv[p->next++];
            else
                return opt_err(p, "option '%s' needs a value", p->flag);
        }
        return 1;
    }
    return 0;
}

/* ---- numbers ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (!is_digit(s[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    if (!is_digit(s[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    uint64_t mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = UINT64_C(1) << 10;
        end++;
        break;
    case 'm':
    case 'M':
        mult = UINT64_C(1) << 20;
        end++;
        break;
    case 'g':
    case 'G':
        mult = UINT64_C(1) << 30;
        end++;
        break;
    default:
        break;
    }
    if (mult > 1 && strcmp(end, "iB") == 0)
        end += 2;
    else if (strcmp(end, "B") == 0)
        end += 1;
    if (*end != '\0' || (uint64_t)v > UINT64_MAX / mult)
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

/* Parses a decimal number with up to 9 fraction digits at *sp, times unit_ns,
 * exactly. Advances *sp. 0 or -1 (no digits, overflow). */
static int parse_scaled(const char **sp, uint64_t unit_ns, uint64_t *out)
{
    const char *s = *sp;
    uint64_t whole = 0;
    bool digits = false;
    while (is_digit(*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (whole > (UINT64_MAX - d) / 10)
            return -1;
        whole = whole * 10 + d;
        s++;
        digits = true;
    }
    uint64_t frac_ns = 0;
    if (*s == '.') {
        s++;
        /* Fraction of unit_ns, to the nanosecond: digits beyond ns precision
         * are dropped. */
        uint64_t scale = unit_ns;
        uint64_t acc = 0;
        while (is_digit(*s)) {
            digits = true;
            if (scale >= 10) {
                scale /= 10;
                acc += (uint64_t)(*s - '0') * scale;
            }
            s++;
        }
        frac_ns = acc;
    }
    if (!digits)
        return -1;
    if (whole > (UINT64_MAX - frac_ns) / unit_ns)
        return -1;
    *out = whole * unit_ns + frac_ns;
    *sp = s;
    return 0;
}

/* Duration units, largest first: in a duration each may appear once, in
 * this order ("1h2m3.5s", not "3s1m"). */
static const struct {
    const char *name;
    uint64_t ns;
} duration_units[] = {{"h", 3600 * NS_PER_S}, {"m", 60 * NS_PER_S}, {"s", NS_PER_S},
                      {"ms", NS_PER_MS},      {"us", NS_PER_US},    {"ns", 1}};
#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

int cli_parse_duration(const char *s, uint64_t *ns)
{
    const char *p = s;
    uint64_t total = 0;
    /* Plain seconds: the whole string is a number. */
    if (parse_scaled(&p, NS_PER_S, &total) == 0 && *p == '\0') {
        *ns = total;
        return 0;
    }
    p = s;
    total = 0;
    size_t next_unit = 0;
    while (*p) {
        const char *q = p; /* the unit after the number decides the scale */
        while (is_digit(*q) || *q == '.')
            q++;
        const char *u_end = q;
        while (*u_end >= 'a' && *u_end <= 'z')
            u_end++;
        size_t u_len = (size_t)(u_end - q);
        size_t u = next_unit;
        while (u < N_DURATION_UNITS && (strlen(duration_units[u].name) != u_len ||
                                        memcmp(duration_units[u].name, q, u_len) != 0))
            u++;
        if (u == N_DURATION_UNITS)
            return -1; /* unknown unit, or out of order */
        uint64_t v;
        if (parse_scaled(&p, duration_units[u].ns, &v) < 0 || p != q || v > UINT64_MAX - total)
            return -1;
        total += v;
        p = u_end;
        next_unit = u + 1;
    }
    if (p == s)
        return -1;
    *ns = total;
    return 0;
}

/* Reads exactly n digits at *sp into *v. */
static int fixed_digits(const char **sp, int n, int *v)
{
    int acc = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*sp)[i]))
            return -1;
        acc = acc * 10 + ((*sp)[i] - '0');
    }
    *sp += n;
    *v = acc;
    return 0;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* YYYY-MM-DDTHH:MM:SS[.fraction]Z, UTC. */
static int parse_iso(const char *s, uint64_t *ns)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int Y, M, D, h, m, sec;
    const char *p = s;
    if (fixed_digits(&p, 4, &Y) || *p++ != '-' || fixed_digits(&p, 2, &M) || *p++ != '-' ||
        fixed_digits(&p, 2, &D) || (*p != 'T' && *p != 't'))
        return -1;
    p++;
    if (fixed_digits(&p, 2, &h) || *p++ != ':' || fixed_digits(&p, 2, &m) || *p++ != ':' ||
        fixed_digits(&p, 2, &sec))
        return -1;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 60)
        return -1;
    int dim = mdays[M - 1] + (M == 2 && is_leap(Y));
    if (D > dim)
        return -1;
    uint64_t frac = 0;
    if (*p == '.') {
        p++;
        uint64_t scale = NS_PER_S;
        bool digits = false;
        while (is_digit(*p)) {
            if (scale >= 10) {
                scale /= 10;
                frac += (uint64_t)(*p - '0') * scale;
            }
            p++;
            digits = true;
        }
        if (!digits)
            return -1;
    }
    if ((*p != 'Z' && *p != 'z') || p[1] != '\0')
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    errno = 0;
    time_t t = timegm(&tm);
    if (t < 0 || errno != 0)
        return -1;
    if ((uint64_t)t > (UINT64_MAX - frac) / NS_PER_S)
        return -1;
    *ns = (uint64_t)t * NS_PER_S + frac;
    return 0;
}

int cli_parse_time(const char *s, struct cli_time *t)
{
    memset(t, 0, sizeof(*t));
    if (s[0] == '@') {
        if (s[1] == '\0')
            return -1;
        t->kind = CLI_TIME_MARKER;
        t->label = s + 1;
        return 0;
    }
    /* An absolute time has a date: 4 digits and a dash. */
    if (strlen(s) > 4 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
        s[4] == '-') {
        if (parse_iso(s, &t->ns) < 0)
            return -1;
        t->kind = CLI_TIME_ABSOLUTE;
        return 0;
    }
    const char *p = s[0] == '+' ? s + 1 : s;
    if (cli_parse_duration(p, &t->ns) < 0)
        return -1;
    t->kind = CLI_TIME_OFFSET;
    return 0;
}

struct find_marker {
    const char *label;
    bool found;
    uint64_t time_ns;
};

static int find_marker_cb(void *ud, uint64_t time_ns, const char *label)
{
    struct find_marker *f = ud;
    if (strcmp(label, f->label) != 0)
        return 0;
    f->found = true;
    f->time_ns = time_ns;
    return 1;
}

int cli_time_resolve(struct rl_reader *r, const struct cli_time *t, uint64_t *out_ns, char *why,
                     size_t why_len)
{
    struct rl_file_info info;
    rl_reader_file_info(r, &info);
    switch (t->kind) {
    case CLI_TIME_UNSET:
        break;
    case CLI_TIME_OFFSET:
        *out_ns = t->ns > UINT64_MAX - info.start_ns ? UINT64_MAX : info.start_ns + t->ns;
        return 0;
    case CLI_TIME_ABSOLUTE:
        *out_ns = t->ns;
        return 0;
    case CLI_TIME_MARKER: {
        struct find_marker f = {t->label, false, 0};
        int rc = cli_markers_foreach(r, find_marker_cb, &f);
        if (rc < 0) {
            snprintf(why, why_len, "reading markers failed: %s", rl_reader_errmsg(r));
            return -1;
        }
        if (!f.found) {
            snprintf(why, why_len, "no marker labelled '%s' in the log", t->label);
            return -1;
        }
        *out_ns = f.time_ns;
        return 0;
    }
    }
    snprintf(why, why_len, "no time given");
    return -1;
}

const char *cli_format_iso(uint64_t ns, char *buf, size_t len)
{
    time_t secs = (time_t)(ns / NS_PER_S);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, len, "%llu", (unsigned long long)ns);
        return buf;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned long long)(ns % NS_PER_S));
    return buf;
}

/* ---- markers ---- */

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends a code point as UTF-8 when it fits. */
static size_t put_utf8(char *out, size_t room, unsigned cp)
{
    if (cp < 0x80 && room >= 1) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800 && room >= 2) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0x800 && room >= 3) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    return 0;
}

int cli_marker_label(const uint8_t *data, size_t len, char *out, size_t out_len)
{
    static const char key[] = "\"label\"";
    const size_t key_len = sizeof(key) - 1;
    const uint8_t *end = data + len;
    if (out_len == 0)
        return -1;
    for (const uint8_t *p = data; p + key_len <= end; p++) {
        if (memcmp(p, key, key_len) != 0)
            continue;
        const uint8_t *q = skip_ws(p + key_len, end);
        if (q >= end || *q != ':')
            continue;
        q = skip_ws(q + 1, end);
        if (q >= end || *q != '"')
            continue;
        q++;
        size_t n = 0;
        while (q < end && *q != '"') {
            uint8_t c = *q++;
            if (c == '\\' && q < end) {
                uint8_t e = *q++;
                unsigned cp = e;
                switch (e) {
                case 'n':
                    cp = '\n';
                    break;
                case 't':
                    cp = '\t';
                    break;
                case 'r':
                    cp = '\r';
                    break;
                case 'b':
                    cp = '\b';
                    break;
                case 'f':
                    cp = '\f';
                    break;
                case 'u': {
                    cp = 0;
                    for (int i = 0; i < 4; i++) {
                        int h = q < end ? hexval(*q) : -1;
                        if (h < 0)
                            return -1;
                        cp = cp << 4 | (unsigned)h;
                        q++;
                    }
                    break;
                }
                default:
                    break; /* \" \\ \/ stand for themselves */
                }
                n += put_utf8(out + n, out_len - 1 - n, cp);
            } else if (n < out_len - 1) {
                out[n++] = (char)c;
            }
        }
        if (q >= end)
            return -1;
        out[n] = '\0';
        return 0;
    }
    return -1;
}

int cli_markers_foreach(struct rl_reader *r, cli_marker_fn fn, void *ud)
{
    if (!rl_reader_channel_by_topic(r, CLI_MARKERS_TOPIC)) {
        /* A log cut off before its summary may define channels only inside
         * chunks: counting registers them. */
        struct rl_file_info fi;
        rl_reader_file_info(r, &fi);
        if (fi.complete || rl_reader_count_messages(r) < 0 ||
            !rl_reader_channel_by_topic(r, CLI_MARKERS_TOPIC))
            return 0;
    }
    uint8_t *set = calloc(1, CLI_CHANNEL_SET_BYTES);
    if (!set)
        return -ENOMEM;
    /* Every channel with the markers topic (a log may repeat it). */
    size_t n = rl_reader_channel_count(r);
    for (size_t i = 0; i < n; i++) {
        const struct rl_channel *c = rl_reader_channel_at(r, i);
        if (strcmp(c->topic, CLI_MARKERS_TOPIC) == 0)
            set[c->id / 8] |= (uint8_t)(1u << (c->id % 8));
    }
    struct rl_iter_options io;
    rl_iter_options_init(&io);
    io.channel_set = set;
    struct rl_iter *it = NULL;
    int rc = rl_iter_new(r, &io, &it);
    free(set);
    if (rc < 0)
        return rc;
    struct rl_message m;
    char label[CLI_LABEL_MAX];
    while ((rc = rl_iter_next(it, &m)) == 1) {
        if (cli_marker_label(m.data, m.len, label, sizeof(label)) < 0)
            continue;
        if (fn(ud, m.log_time_ns, label) != 0) {
            rc = 0;
            break;
        }
    }
    rl_iter_free(it);
    return rc < 0 ? rc : 0;
}

/* ---- channel selection ---- */

static int compile_re(regex_t *re, const char *cmd, const char *flag, const char *pattern)
{
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[256];
        regerror(rc, re, why, sizeof(why));
        return cli_usage_err(cmd, "bad regular expression for %s '%s': %s", flag, pattern, why);
    }
    return 0;
}

int cli_chansel_init(struct cli_chansel *s, const char *cmd, const char *include,
                     const char *exclude)
{
    memset(s, 0, sizeof(*s));
    if (include) {
        if (compile_re(&s->include, cmd, "--channels", include) != 0)
            return CLI_EXIT_USAGE;
        s->has_include = true;
    }
    if (exclude) {
        if (compile_re(&s->exclude, cmd, "--exclude", exclude) != 0) {
            cli_chansel_release(s);
            return CLI_EXIT_USAGE;
        }
        s->has_exclude = true;
    }
    return 0;
}

void cli_chansel_release(struct cli_chansel *s)
{
    if (s->has_include)
        regfree(&s->include);
    if (s->has_exclude)
        regfree(&s->exclude);
    s->has_include = s->has_exclude = false;
}

bool cli_chansel_active(const struct cli_chansel *s)
{
    return s->has_include || s->has_exclude;
}

bool cli_chansel_match(const struct cli_chansel *s, const char *topic)
{
    if (s->has_include && regexec(&s->include, topic, 0, NULL, 0) != 0)
        return false;
    if (s->has_exclude && regexec(&s->exclude, topic, 0, NULL, 0) == 0)
        return false;
    return true;
}

size_t cli_chansel_fill(const struct cli_chansel *s, const struct rl_reader *r, uint8_t *set)
{
    memset(set, 0, CLI_CHANNEL_SET_BYTES);
    size_t n = rl_reader_channel_count(r), selected = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rl_channel *ch = rl_reader_channel_at(r, i);
        if (!cli_chansel_match(s, ch->topic))
            continue;
        set[ch->id / 8] |= (uint8_t)(1u << (ch->id % 8));
        selected++;
    }
    return selected;
}

/* ---- writer options ---- */

int cli_writer_opt(struct rl_writer_options *opts, const char *cmd, int id, const char *flag,
                   const char *val)
{
    uint64_t v;
    switch (id) {
    case CLI_OPT_COMPRESSION:
        if (val[0] == '\0' || rl_compression_parse(val, &opts->compression) < 0) {
            (void)cli_usage_err(cmd, "bad value '%s' for %s: expected zstd, lz4 or none", val,
                                flag);
            return -1;
        }
        return 1;
    case CLI_OPT_LEVEL: {
        bool neg = val[0] == '-';
        if (cli_parse_u64(neg ? val + 1 : val, &v) < 0 || (!neg && v > LEVEL_MAX) ||
            (neg && v > (uint64_t)-LEVEL_MIN)) {
            (void)cli_usage_err(cmd, "bad value '%s' for %s: expected an integer from %d to %d",
                                val, flag, LEVEL_MIN, LEVEL_MAX);
            return -1;
        }
        opts->level = neg ? -(int)v : (int)v;
        return 1;
    }
    case CLI_OPT_CHUNK_SIZE:
        if (cli_parse_size(val, &v) < 0 || v < CHUNK_SIZE_MIN_BYTES || v > CHUNK_SIZE_MAX_BYTES) {
            (void)cli_usage_err(cmd,
                                "bad value '%s' for %s: expected a size from 1 to 512M "
                                "(suffix k, M or G)",
                                val, flag);
            return -1;
        }
        opts->chunk_size_bytes = v;
        return 1;
    default:
        return 0;
    }
}

/* ---- buffered output ---- */

int cli_out_init(struct cli_out *o, int fd, size_t cap_bytes)
{
    o->fd = fd;
    o->len = 0;
    o->err = 0;
    o->cap = cap_bytes;
    o->buf = malloc(cap_bytes);
    return o->buf ? 0 : -ENOMEM;
}

static void out_drain(struct cli_out *o)
{
    size_t done = 0;
    while (done < o->len && o->err == 0) {
        ssize_t n = write(o->fd, o->buf + done, o->len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            o->err = -errno;
            break;
        }
        done += (size_t)n;
    }
    o->len = 0;
}

void cli_out_put(struct cli_out *o, const void *p, size_t n)
{
    if (o->err)
        return;
    if (n > o->cap - o->len) {
        out_drain(o);
        if (o->err)
            return;
    }
    if (n > o->cap) {
        /* Larger than the buffer: write it straight through. */
        const char *s = p;
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(o->fd, s + done, n - done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                o->err = -errno;
                return;
            }
            done += (size_t)w;
        }
        return;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

void cli_out_str(struct cli_out *o, const char *s)
{
    cli_out_put(o, s, strlen(s));
}

void cli_out_u64(struct cli_out *o, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    cli_out_put(o, tmp + sizeof(tmp) - n, n);
}

int cli_out_flush(struct cli_out *o)
{
    if (o->err == 0)
        out_drain(o);
    return o->err;
}

void cli_out_release(struct cli_out *o)
{
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = 0;
}

/* ---- progress ---- */

void cli_progress_init(struct cli_progress *p, bool quiet)
{
    p->on = !quiet && isatty(STDERR_FILENO) == 1;
    p->shown = false;
}

void cli_progress_show(struct cli_progress *p, const char *fmt, ...)
{
    if (!p->on)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    (void)fprintf(stderr, "\r\033[K%s", line);
    (void)fflush(stderr);
    p->shown = true;
}

void cli_progress_clear(struct cli_progress *p)
{
    if (!p->shown)
        return;
    (void)fputs("\r\033[K", stderr);
    (void)fflush(stderr);
    p->shown = false;
}

/* ---- misc ---- */

const char *cli_format_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (n < 1024) {
        snprintf(buf, len, "%llu B", (unsigned long long)n);
        return buf;
    }
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

int cli_open_reader(const char *cmd, const char *path, struct rl_reader_options *opts,
                    struct rl_reader **out)
{
    char why[512];
    why[0] = '\0';
    int rc = rl_reader_open(out, path, opts, why, sizeof(why));
    if (rc < 0) {
        /* The reader's detail names the file only when it could not open it. */
        if (strstr(why, path))
            cli_err(cmd, "%s", why[0] ? why : rl_strerror(rc));
        else
            cli_err(cmd, "cannot read '%s': %s", path, why[0] ? why : rl_strerror(rc));
        return CLI_EXIT_INPUT;
    }
    return 0;
}

char *cli_read_file(const char *path, size_t max_bytes, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max_bytes) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            cap = cap * 2 > max_bytes ? max_bytes : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
                errno = EIO;
            }
            break;
        }
    }
    int saved = errno;
    if (fclose(f) != 0 && buf) {
        free(buf);
        return NULL;
    }
    errno = saved;
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

bool cli_same_file(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* fsync(2) of a file or directory by path. 0 or -errno. */
static int sync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) != 0 ? -errno : 0;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int cli_commit_output(const char *cmd, const char *tmp, const char *out)
{
    int rc = sync_path(tmp, false);
    if (rc < 0) {
        cli_err(cmd, "syncing '%s' failed: %s", tmp, strerror(-rc));
        return rc;
    }
    if (rename(tmp, out) != 0) {
        rc = -errno;
        cli_err(cmd, "renaming '%s' to '%s' failed: %s", tmp, out, strerror(-rc));
        return rc;
    }
    char *copy = strdup(out);
    if (!copy)
        return 0; /* the rename happened; only the directory sync is skipped */
    rc = sync_path(dirname(copy), true);
    /* Some file systems cannot sync directories: not worth failing for. */
    if (rc < 0 && rc != -EINVAL && rc != -EROFS && rc != -EACCES)
        cli_err(cmd, "warning: syncing the directory of '%s' failed: %s", out, strerror(-rc));
    free(copy);
    return 0;
}
