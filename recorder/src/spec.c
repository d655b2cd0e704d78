/* Parsing of the recorder's --source NAME=SPEC arguments (recorder.h,
 * cli.md "roadlog record"): NAME=TYPE:TARGET[,key=value...]. A comma begins
 * a new option only when a known key and '=' follow it, so a BPF filter
 * such as "udp and (port 1 or port 2)" or one with commas stays whole. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/decode.h"
#include "roadlog/recorder.h"

#define MAX_BUFFER_BYTES ((uint64_t)1 << 30)
#define MAX_RATE_HZ      1e7

static const char *const known_keys[] = {
    "filter",  "decoder",   "replay_dest", "rate", "buffer",
    "snaplen", "immediate", "direction",   "baud", NULL,
};

static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err_len)
        vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Length of a known "key=" at s, or 0. */
static size_t known_key_at(const char *s)
{
    for (size_t i = 0; known_keys[i]; i++) {
        size_t n = strlen(known_keys[i]);
        if (strncmp(s, known_keys[i], n) == 0 && s[n] == '=')
            return n;
    }
    return 0;
}

/* End of a value starting at s: the next ",key=" of a known key, or the end. */
static const char *value_end(const char *s)
{
    for (const char *c = strchr(s, ','); c; c = strchr(c + 1, ','))
        if (known_key_at(c + 1))
            return c;
    return s + strlen(s);
}

static int copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int parse_u64(const char *s, uint64_t *out, bool size_suffix)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    uint64_t mul = 1;
    if (size_suffix && *end) {
        switch (*end) {
        case 'k':
        case 'K':
            mul = (uint64_t)1 << 10;
            break;
        case 'M':
            mul = (uint64_t)1 << 20;
            break;
        case 'G':
            mul = (uint64_t)1 << 30;
            break;
        default:
            return -1;
        }
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
            end += strlen(end);
    }
    if (*end != '\0' || (v != 0 && (uint64_t)v > UINT64_MAX / mul))
        return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

static bool valid_baud(uint64_t b)
{
    static const uint32_t rates[] = {1200,    2400,    4800,    9600,    19200,   38400,   57600,
                                     115200,  230400,  460800,  500000,  576000,  921600,  1000000,
                                     1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
        if (rates[i] == b)
            return true;
    return false;
}

static bool valid_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '/';
}

/* udp target "[ADDR:]PORT", ADDR an IPv4 address, a name, or [IPv6]. */
static int parse_udp_target(struct rl_source_spec *s, const char *t, char *err, size_t err_len)
{
    const char *port = t;
    const char *colon = strrchr(t, ':');
    if (colon && !(t[0] == '[' && colon < strchr(t, ']'))) {
        size_t alen = (size_t)(colon - t);
        const char *a = t;
        if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
            a++;
            alen -= 2;
        }
        if (alen == 0 || copy_field(s->target, sizeof(s->target), a, alen) < 0)
            return fail(err, err_len, "bad address in udp source '%s'", s->text);
        port = colon + 1;
    } else {
        snprintf(s->target, sizeof(s->target), "127.0.0.1");
    }
    uint64_t p;
    if (parse_u64(port, &p, false) < 0 || p > 65535)
        return fail(err, err_len, "bad port '%s' in udp source '%s' (0..65535)", port, s->text);
    s->port = (uint16_t)p;
    return 0;
}

static int apply_option(struct rl_source_spec *s, const char *key, size_t klen, const char *v,
                        size_t vlen, char *err, size_t err_len)
{
    char val[RL_REC_FILTER_MAX];
    if (vlen >= sizeof(val))
        return fail(err, err_len, "value of '%.*s' too long in source '%s'", (int)klen, key,
                    s->text);
    memcpy(val, v, vlen);
    val[vlen] = '\0';
#define KEY(k) (klen == strlen(k) && strncmp(key, k, klen) == 0)
    uint64_t n;
    if (KEY("filter")) {
        if (s->type != RL_SOURCE_PCAP)
            return fail(err, err_len, "filter= is for pcap sources only ('%s')", s->text);
        snprintf(s->filter, sizeof(s->filter), "%s", val);
    } else if (KEY("decoder")) {
        if (!rl_decoder_find(val) || copy_field(s->decoder, sizeof(s->decoder), v, vlen) < 0)
            return fail(err, err_len, "unknown decoder '%s' in source '%s'", val, s->text);
    } else if (KEY("replay_dest")) {
        if (vlen == 0 || copy_field(s->replay_dest, sizeof(s->replay_dest), v, vlen) < 0)
            return fail(err, err_len, "bad replay_dest in source '%s'", s->text);
    } else if (KEY("rate")) {
        char *end;
        errno = 0;
        double hz = strtod(val, &end);
        if (errno != 0 || end == val || *end != '\0' || !(hz > 0 && hz <= MAX_RATE_HZ))
            return fail(err, err_len, "bad rate '%s' in source '%s' (frames per second)", val,
                        s->text);
        s->expected_hz = hz;
    } else if (KEY("buffer")) {
        if (parse_u64(val, &n, true) < 0 || n == 0 || n > MAX_BUFFER_BYTES)
            return fail(err, err_len, "bad buffer size '%s' in source '%s' (1..1G)", val, s->text);
        s->buffer_bytes = n;
    } else if (KEY("snaplen")) {
        if (s->type != RL_SOURCE_PCAP)
            return fail(err, err_len, "snaplen= is for pcap sources only ('%s')", s->text);
        if (parse_u64(val, &n, false) < 0 || n < 16 || n > RL_REC_MAX_SNAPLEN)
            return fail(err, err_len, "bad snaplen '%s' in source '%s' (16..%u)", val, s->text,
                        RL_REC_MAX_SNAPLEN);
        s->snaplen = (uint32_t)n;
    } else if (KEY("immediate")) {
        if (s->type != RL_SOURCE_PCAP || (strcmp(val, "0") != 0 && strcmp(val, "1") != 0))
            return fail(err, err_len, "immediate= takes 0 or 1, on pcap sources ('%s')", s->text);
        s->immediate = val[0] == '1';
    } else if (KEY("direction")) {
        if (s->type != RL_SOURCE_PCAP || (strcmp(val, "in") != 0 && strcmp(val, "inout") != 0))
            return fail(err, err_len, "direction= takes in or inout, on pcap sources ('%s')",
                        s->text);
        s->direction_in = strcmp(val, "in") == 0;
    } else if (KEY("baud")) {
        if (s->type != RL_SOURCE_SERIAL)
            return fail(err, err_len, "baud= is for serial sources only ('%s')", s->text);
        if (parse_u64(val, &n, false) < 0 || !valid_baud(n))
            return fail(err, err_len, "unsupported baud rate '%s' in source '%s'", val, s->text);
        s->baud = (uint32_t)n;
    }
#undef KEY
    return 0;
}

int rl_source_spec_parse(const char *arg, struct rl_source_spec *s, char *err, size_t err_len)
{
    memset(s, 0, sizeof(*s));
    s->snaplen = RL_REC_DEFAULT_SNAPLEN;
    s->immediate = 0;
    s->direction_in = -1;
    if (copy_field(s->text, sizeof(s->text), arg, strlen(arg)) < 0)
        return fail(err, err_len, "source argument too long");

    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return fail(err, err_len, "source '%s' is not NAME=TYPE:TARGET (e.g. lidar=udp:2368)", arg);
    size_t nlen = (size_t)(eq - arg);
    for (size_t i = 0; i < nlen; i++)
        if (!valid_name_char(arg[i]))
            return fail(err, err_len, "bad character in source name '%.*s' (letters, digits, _-./)",
                        (int)nlen, arg);
    if (arg[0] == '/')
        s->topic[0] = '\0';
    else
        snprintf(s->topic, sizeof(s->topic), "/");
    if (strlen(s->topic) + nlen >= sizeof(s->topic))
        return fail(err, err_len, "source name too long in '%s'", arg);
    strncat(s->topic, arg, nlen);
    if (strncmp(s->topic, "/roadlog/", 9) == 0)
        return fail(err, err_len, "source topic '%s' is reserved for roadlog", s->topic);

    const char *spec = eq + 1;
    const char *colon = strchr(spec, ':');
    if (!colon)
        return fail(err, err_len, "source '%s' has no TYPE: (pcap:, can:, serial:, udp:)", arg);
    size_t tlen = (size_t)(colon - spec);
    if (tlen == 4 && strncmp(spec, "pcap", 4) == 0)
        s->type = RL_SOURCE_PCAP;
    else if (tlen == 3 && strncmp(spec, "can", 3) == 0)
        s->type = RL_SOURCE_CAN;
    else if (tlen == 6 && strncmp(spec, "serial", 6) == 0)
        s->type = RL_SOURCE_SERIAL;
    else if (tlen == 3 && strncmp(spec, "udp", 3) == 0)
        s->type = RL_SOURCE_UDP;
    else
        return fail(err, err_len, "unknown source type '%.*s' in '%s' (pcap, can, serial, udp)",
                    (int)tlen, spec, arg);

    const char *target = colon + 1;
    const char *tend = value_end(target);
    char tbuf[RL_REC_TARGET_MAX];
    if (tend == target || copy_field(tbuf, sizeof(tbuf), target, (size_t)(tend - target)) < 0)
        return fail(err, err_len, "source '%s' needs a %s", arg,
                    s->type == RL_SOURCE_UDP      ? "port"
                    : s->type == RL_SOURCE_SERIAL ? "device"
                                                  : "interface");
    const char *comma = strchr(tbuf, ',');
    if (comma) {
        size_t k = strspn(comma + 1, "abcdefghijklmnopqrstuvwxyz_");
        if (k > 0 && comma[1 + k] == '=')
            return fail(err, err_len, "unknown option '%.*s' in source '%s'", (int)k, comma + 1,
                        arg);
    }
    if (s->type == RL_SOURCE_UDP) {
        int rc = parse_udp_target(s, tbuf, err, err_len);
        if (rc < 0)
            return rc;
    } else {
        snprintf(s->target, sizeof(s->target), "%s", tbuf);
    }

    const char *p = tend;
    while (*p == ',') {
        const char *key = p + 1;
        size_t klen = known_key_at(key);
        const char *v = key + klen + 1;
        const char *vend = value_end(v);
        int rc = apply_option(s, key, klen, v, (size_t)(vend - v), err, err_len);
        if (rc < 0)
            return rc;
        p = vend;
    }
    return 0;
}
