/* SocketCAN frames (can.h): the pcap LINKTYPE_CAN_SOCKETCAN layout
 * (tcpdump.org link-layer header types: CAN ID and flags u32 big-endian,
 * payload length, FD flags, reserved, len8_dlc, payload, padding; 16-byte
 * classic and 72-byte CAN FD frames), the candump log line format of
 * can-utils (lib.c's compact ASCII frame representation), and the "can"
 * decoder of decode.h with DBC signal decoding through dbc.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roadlog/can.h"
#include "roadlog/decode.h"

#define SFF_ID_DIGITS     3
#define EFF_ID_DIGITS     8
#define USEC_PER_S        1000000ULL
#define NS_PER_S          1000000000ULL
#define NS_PER_US         1000ULL
#define MAX_FRAC_DIGITS   9
#define MAX_SEC_DIGITS    12
#define LEN8_DLC_MIN      9
#define LEN8_DLC_MAX      15
#define CAN_ID_FLAGS_MASK 0xE0000000u
#define SIGNAL_DIGITS     12
#define DETECT_LINKTYPE   100
#define DETECT_SHAPE      25

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int rl_socketcan_parse(const uint8_t *p, size_t len, struct rl_can_frame *out)
{
    memset(out, 0, sizeof(*out));
    if (len < RL_SOCKETCAN_HEADER_LEN)
        return RL_ETRUNC;
    if (p[4] & RL_CANXL_FLAG_BYTE)
        return RL_EUNSUPPORTED;
    uint32_t word = get_be32(p);
    out->extended = word & RL_CAN_EFF_FLAG;
    out->rtr = word & RL_CAN_RTR_FLAG;
    out->error = word & RL_CAN_ERR_FLAG;
    out->id = word & (out->extended ? RL_CAN_EFF_MASK : RL_CAN_SFF_MASK);
    if (!out->extended && (word & RL_CAN_EFF_MASK & ~RL_CAN_SFF_MASK) && !out->error)
        return RL_ECORRUPT; /* a standard id with bits above 11 */
    if (out->error)
        out->id = word & RL_CAN_EFF_MASK;
    uint8_t plen = p[4], flags = p[5];
    out->fd = (flags & RL_CANFD_FDF) || len == RL_SOCKETCAN_FD_MTU ||
              (len != RL_SOCKETCAN_MTU && plen > RL_CAN_MAX_DLEN);
    if (out->fd) {
        if (plen > RL_CANFD_MAX_DLEN || out->rtr)
            return RL_ECORRUPT;
        out->fd_flags = flags & (RL_CANFD_BRS | RL_CANFD_ESI);
    } else {
        if (plen > RL_CAN_MAX_DLEN)
            return RL_ECORRUPT;
        if (plen == RL_CAN_MAX_DLEN && p[7] >= LEN8_DLC_MIN && p[7] <= LEN8_DLC_MAX)
            out->len8_dlc = p[7];
    }
    out->len = plen;
    size_t have = len - RL_SOCKETCAN_HEADER_LEN;
    if (out->rtr) /* a remote frame carries no data; len is the requested length */
        return 0;
    if (have < plen)
        return RL_ETRUNC;
    memcpy(out->data, p + RL_SOCKETCAN_HEADER_LEN, plen);
    return 0;
}

static bool frame_ok(const struct rl_can_frame *f)
{
    uint32_t mask = f->extended || f->error ? RL_CAN_EFF_MASK : RL_CAN_SFF_MASK;
    if (f->id & ~mask)
        return false;
    if (f->fd)
        return f->len <= RL_CANFD_MAX_DLEN && !f->rtr && !f->error;
    return f->len <= RL_CAN_MAX_DLEN &&
           (f->len8_dlc == 0 || (f->len == RL_CAN_MAX_DLEN && f->len8_dlc >= LEN8_DLC_MIN &&
                                 f->len8_dlc <= LEN8_DLC_MAX));
}

int rl_socketcan_format(const struct rl_can_frame *f, uint8_t *out, size_t cap)
{
    size_t n = f->fd ? RL_SOCKETCAN_FD_MTU : RL_SOCKETCAN_MTU;
    if (!frame_ok(f))
        return -EINVAL;
    if (cap < n)
        return -ENOBUFS;
    memset(out, 0, n);
    uint32_t word = f->id | (f->extended ? RL_CAN_EFF_FLAG : 0) | (f->rtr ? RL_CAN_RTR_FLAG : 0) |
                    (f->error ? RL_CAN_ERR_FLAG : 0);
    put_be32(out, word);
    out[4] = f->len;
    if (f->fd)
        out[5] = (uint8_t)(RL_CANFD_FDF | (f->fd_flags & (RL_CANFD_BRS | RL_CANFD_ESI)));
    else
        out[7] = f->len8_dlc;
    if (!f->rtr)
        memcpy(out + RL_SOCKETCAN_HEADER_LEN, f->data, f->len);
    return (int)n;
}

/* ---- candump ------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* "(sec.frac)" */
static bool parse_time(const char **pp, const char *end, uint64_t *ns)
{
    const char *p = *pp;
    uint64_t sec = 0, frac = 0, scale = NS_PER_S;
    int nd = 0;
    if (p >= end || *p++ != '(')
        return false;
    while (p < end && *p >= '0' && *p <= '9') {
        if (++nd > MAX_SEC_DIGITS)
            return false;
        sec = sec * 10 + (uint64_t)(*p++ - '0');
    }
    if (nd == 0 || p >= end || *p++ != '.')
        return false;
    nd = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (++nd > MAX_FRAC_DIGITS)
            return false;
        scale /= 10;
        frac += (uint64_t)(*p++ - '0') * scale;
    }
    if (nd == 0 || p >= end || *p++ != ')')
        return false;
    *ns = sec * NS_PER_S + frac;
    *pp = p;
    return true;
}

/* Hex data bytes, optionally '.'-separated, up to max bytes. */
static bool parse_data(const char **pp, const char *end, uint8_t *data, size_t max, uint8_t *n)
{
    const char *p = *pp;
    size_t k = 0;
    while (p < end && hexval(*p) >= 0) {
        if (k >= max || p + 1 >= end || hexval(p[1]) < 0)
            return false;
        data[k++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
        p += 2;
        if (p < end && *p == '.' && p + 1 < end && hexval(p[1]) >= 0)
            p++;
    }
    *n = (uint8_t)k;
    *pp = p;
    return true;
}

static bool parse_frame(const char **pp, const char *end, struct rl_can_frame *f)
{
    const char *p = *pp, *id0 = p;
    uint32_t id = 0;
    while (p < end && hexval(*p) >= 0) {
        if (p - id0 >= EFF_ID_DIGITS)
            return false;
        id = id << 4 | (uint32_t)hexval(*p++);
    }
    size_t digits = (size_t)(p - id0);
    if (p >= end || *p++ != '#')
        return false;
    if (digits == SFF_ID_DIGITS) {
        if (id > RL_CAN_SFF_MASK)
            return false;
        f->id = id;
    } else if (digits == EFF_ID_DIGITS) {
        if (id & (RL_CAN_EFF_FLAG | RL_CAN_RTR_FLAG))
            return false;
        f->error = id & RL_CAN_ERR_FLAG;
        f->extended = !f->error;
        f->id = id & RL_CAN_EFF_MASK;
    } else {
        return false;
    }
    if (p < end && *p == '#') { /* CAN FD: flags nibble, data */
        p++;
        int fl = p < end ? hexval(*p) : -1;
        if (fl < 0 || f->error)
            return false;
        p++;
        f->fd = true;
        f->fd_flags = (uint8_t)fl & (RL_CANFD_BRS | RL_CANFD_ESI);
        if (!parse_data(&p, end, f->data, RL_CANFD_MAX_DLEN, &f->len))
            return false;
    } else if (p < end && (*p == 'R' || *p == 'r')) { /* remote: optional length digit */
        p++;
        f->rtr = true;
        if (p < end && *p >= '0' && *p <= '8')
            f->len = (uint8_t)(*p++ - '0');
    } else {
        if (!parse_data(&p, end, f->data, RL_CAN_MAX_DLEN, &f->len))
            return false;
        if (p < end && *p == '_') { /* len8_dlc */
            int d = p + 1 < end ? hexval(p[1]) : -1;
            if (f->len != RL_CAN_MAX_DLEN || d < LEN8_DLC_MIN)
                return false;
            f->len8_dlc = (uint8_t)d;
            p += 2;
        }
    }
    *pp = p;
    return true;
}

int rl_candump_parse(const char *line, size_t len, struct rl_candump_line *out)
{
    memset(out, 0, sizeof(*out));
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || is_space(line[len - 1])))
        len--;
    if (len > RL_CANDUMP_LINE_MAX)
        return RL_ETOOBIG;
    const char *p = line, *end = line + len;
    while (p < end && is_space(*p))
        p++;
    if (!parse_time(&p, end, &out->time_ns))
        return RL_ECORRUPT;
    if (p >= end || !is_space(*p))
        return RL_ECORRUPT;
    while (p < end && is_space(*p))
        p++;
    size_t n = 0;
    while (p < end && !is_space(*p)) {
        if (n >= RL_CANDUMP_IFACE_MAX || *p < '!' || *p > '~')
            return RL_ECORRUPT;
        out->iface[n++] = *p++;
    }
    if (n == 0 || p >= end)
        return RL_ECORRUPT;
    out->iface[n] = '\0';
    while (p < end && is_space(*p))
        p++;
    if (!parse_frame(&p, end, &out->frame))
        return RL_ECORRUPT;
    if (p < end) {
        if (!is_space(*p))
            return RL_ECORRUPT;
        while (p < end && is_space(*p))
            p++;
        if (end - p != 1 || (*p != 'R' && *p != 'T'))
            return RL_ECORRUPT;
        out->direction = *p;
    }
    return 0;
}

int rl_candump_format(const struct rl_candump_line *l, char *out, size_t cap)
{
    char buf[RL_CANDUMP_LINE_MAX + 1];
    const struct rl_can_frame *f = &l->frame;
    size_t n = 0, iface_n = strnlen(l->iface, sizeof(l->iface));
    if (!frame_ok(f) || iface_n == 0 || iface_n > RL_CANDUMP_IFACE_MAX)
        return -EINVAL;
    for (size_t i = 0; i < iface_n; i++)
        if (l->iface[i] < '!' || l->iface[i] > '~')
            return -EINVAL;
    int k = snprintf(
        buf, sizeof(buf), "(%llu.%06llu) %.*s ", (unsigned long long)(l->time_ns / NS_PER_S),
        (unsigned long long)(l->time_ns % NS_PER_S / NS_PER_US), (int)iface_n, l->iface);
    if (k < 0)
        return -EINVAL;
    n = (size_t)k;
    if (f->error)
        k = snprintf(buf + n, sizeof(buf) - n, "%08X#", (unsigned)(f->id | RL_CAN_ERR_FLAG));
    else if (f->extended)
        k = snprintf(buf + n, sizeof(buf) - n, "%08X#", (unsigned)f->id);
    else
        k = snprintf(buf + n, sizeof(buf) - n, "%03X#", (unsigned)f->id);
    if (k < 0)
        return -EINVAL;
    n += (size_t)k;
    static const char hex[] = "0123456789ABCDEF";
    if (f->fd) {
        buf[n++] = '#';
        buf[n++] = hex[f->fd_flags & (RL_CANFD_BRS | RL_CANFD_ESI)];
    }
    if (f->rtr) {
        buf[n++] = 'R';
        if (f->len > 0)
            buf[n++] = (char)('0' + f->len);
    } else {
        for (size_t i = 0; i < f->len; i++) {
            buf[n++] = hex[f->data[i] >> 4];
            buf[n++] = hex[f->data[i] & 0xF];
        }
        if (f->len8_dlc) {
            buf[n++] = '_';
            buf[n++] = hex[f->len8_dlc];
        }
    }
    if (l->direction == 'R' || l->direction == 'T') {
        buf[n++] = ' ';
        buf[n++] = l->direction;
    } else if (l->direction != '\0') {
        return -EINVAL;
    }
    buf[n] = '\0';
    if (n + 1 > cap)
        return -ENOBUFS;
    memcpy(out, buf, n + 1);
    return (int)n;
}

/* ---- the decoder --------------------------------------------------------- */

static int can_detect(const struct rl_payload *pl)
{
    struct rl_can_frame f;
    if (rl_socketcan_parse(pl->data, pl->len, &f) < 0)
        return 0;
    if (pl->linktype == RL_LINKTYPE_CAN_SOCKETCAN)
        return DETECT_LINKTYPE;
    /* Only the exact sizes with zeroed reserved byte look like CAN. */
    if ((pl->len == RL_SOCKETCAN_MTU || pl->len == RL_SOCKETCAN_FD_MTU) && pl->data[6] == 0)
        return DETECT_SHAPE;
    return 0;
}

/* "message", "signals" {name: physical value or value-table label} and
 * "units" {name: unit} for the decoded signals that have one. */
static void emit_signals(const struct rl_dbc_message *m, const struct rl_can_frame *f,
                         struct rl_jw *w)
{
    struct rl_dbc_decoded d;
    rl_jw_kstr(w, "message", m->name);
    rl_jw_key(w, "signals");
    rl_jw_obj_begin(w);
    for (size_t i = 0; i < m->n_signals; i++) {
        if (rl_dbc_decode_signal(m, i, f->data, f->len, &d) != 1)
            continue;
        if (d.label)
            rl_jw_kstr(w, d.signal->name, d.label);
        else
            rl_jw_kdouble(w, d.signal->name, d.value, SIGNAL_DIGITS);
    }
    rl_jw_obj_end(w);
    rl_jw_key(w, "units");
    rl_jw_obj_begin(w);
    for (size_t i = 0; i < m->n_signals; i++)
        if (m->signals[i].unit[0] != '\0' && rl_dbc_decode_signal(m, i, f->data, f->len, &d) == 1)
            rl_jw_kstr(w, m->signals[i].name, m->signals[i].unit);
    rl_jw_obj_end(w);
}

static int can_decode(const struct rl_decode_ctx *ctx, const struct rl_payload *pl, struct rl_jw *w,
                      char *err, size_t err_len)
{
    struct rl_can_frame f;
    int rc = rl_socketcan_parse(pl->data, pl->len, &f);
    if (rc < 0) {
        (void)snprintf(err, err_len, "not a SocketCAN frame (%zu bytes, length byte %d): %s",
                       pl->len, pl->len > 4 ? pl->data[4] : -1, rl_strerror(rc));
        return rc;
    }
    rl_jw_kstr(w, "type", "can.frame");
    rl_jw_ku64(w, "id", f.id);
    rl_jw_kbool(w, "extended", f.extended);
    rl_jw_kbool(w, "rtr", f.rtr);
    rl_jw_kbool(w, "fd", f.fd);
    if (f.error)
        rl_jw_kbool(w, "error_frame", true);
    if (f.fd) {
        rl_jw_kbool(w, "brs", f.fd_flags & RL_CANFD_BRS);
        rl_jw_kbool(w, "esi", f.fd_flags & RL_CANFD_ESI);
    }
    rl_jw_ku64(w, "len", f.len);
    rl_jw_key(w, "data");
    rl_jw_hex(w, f.data, f.rtr ? 0 : f.len);
    if (ctx && ctx->dbc && !f.rtr && !f.error) {
        const struct rl_dbc_message *m =
            rl_dbc_find(ctx->dbc, f.id | (f.extended ? RL_CAN_EFF_FLAG : 0));
        if (m)
            emit_signals(m, &f, w);
    }
    return 0;
}

const struct rl_decoder rl_decoder_can = {
    .name = "can",
    .detect = can_detect,
    .decode = can_decode,
};
