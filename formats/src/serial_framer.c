/* The serial stream framer of framer.h: NMEA 0183 sentences, u-blox UBX
 * frames and RTCM 3 frames (RTCM 10403.x, transport layer: preamble,
 * length, CRC-24Q) out of one byte stream.
 *
 * State machine: the buffer holds unconsumed bytes buf[start, end). At
 * buf[start] the framer tries the one frame kind the byte can start; each
 * attempt answers FRAME (emit it, consume its length), MORE (the candidate
 * is a valid prefix, wait for input) or NO (consume one byte as skipped).
 * Invariant: MORE is only answered for candidates shorter than
 * RL_FRAMER_MAX_FRAME, so after rl_framer_next() returns 0 the buffer
 * (2 * RL_FRAMER_MAX_FRAME) always has room for more input. */
#include <string.h>

#include "cursor.h"
#include "roadlog/framer.h"

#define RTCM3_RESERVED_MASK  0xFC
#define RTCM3_LEN_HI_MASK    0x03
#define CRC24Q_POLY          0x1864CFBu
#define CRC24Q_TOP           0x1000000u
#define CRC24Q_MASK          0xFFFFFFu
#define RTCM3_TYPE_SHIFT     4
#define NMEA_CHECKSUM_SUFFIX 3 /* "*hh" */

_Static_assert(RL_FRAMER_BUF_SIZE >= 2 * RL_FRAMER_MAX_FRAME, "framer buffer too small");
_Static_assert(RL_FRAMER_MAX_FRAME >= RL_FRAMER_NMEA_MAX, "NMEA frames must fit");
_Static_assert(RL_FRAMER_MAX_FRAME >= RL_RTCM3_HEADER_LEN + RL_RTCM3_MAX_PAYLOAD + RL_RTCM3_CRC_LEN,
               "RTCM 3 frames must fit");

enum attempt { NO, MORE, FRAME };

uint32_t rl_rtcm3_crc24q(const uint8_t *p, size_t n)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)p[i] << 16;
        for (int b = 0; b < 8; b++) {
            crc <<= 1;
            if (crc & CRC24Q_TOP)
                crc ^= CRC24Q_POLY;
        }
    }
    return crc & CRC24Q_MASK;
}

void rl_framer_init(struct rl_framer *f)
{
    memset(f, 0, sizeof(*f));
}

void rl_framer_reset(struct rl_framer *f)
{
    f->start = f->end = 0;
    f->eof = false;
}

size_t rl_framer_push(struct rl_framer *f, const uint8_t *data, size_t len)
{
    if (f->start > 0) {
        memmove(f->buf, f->buf + f->start, f->end - f->start);
        f->end -= f->start;
        f->start = 0;
    }
    size_t room = sizeof(f->buf) - f->end;
    size_t k = len < room ? len : room;
    if (k > 0)
        memcpy(f->buf + f->end, data, k);
    f->end += k;
    return k;
}

void rl_framer_finish(struct rl_framer *f)
{
    f->eof = true;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Address and checksum of a complete line p[0, n) (line end excluded). */
static bool nmea_line(const uint8_t *p, size_t n, struct rl_frame *out)
{
    size_t a = 1;
    while (a < n && ((p[a] >= 'A' && p[a] <= 'Z') || (p[a] >= '0' && p[a] <= '9')))
        a++;
    if (a - 1 < 2 || a - 1 > RL_NMEA_MAX_ADDRESS || (a < n && p[a] != ',' && p[a] != '*'))
        return false;
    const uint8_t *star = memchr(p, '*', n);
    out->checksum_present = star != NULL;
    out->checksum_ok = true;
    if (star) {
        size_t body = (size_t)(star - p);
        int hi = -1, lo = -1;
        if (n - body == NMEA_CHECKSUM_SUFFIX) {
            hi = hexval(star[1]);
            lo = hexval(star[2]);
        }
        uint8_t x = 0;
        for (size_t i = 1; i < body; i++)
            x ^= p[i];
        out->checksum_ok = hi >= 0 && lo >= 0 && x == (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static enum attempt try_nmea(const uint8_t *p, size_t avail, bool eof, struct rl_frame *out)
{
    size_t lim = avail < RL_FRAMER_NMEA_MAX ? avail : RL_FRAMER_NMEA_MAX;
    for (size_t i = 1; i < lim; i++) {
        uint8_t c = p[i];
        if (c == '\n' || c == '\r') {
            size_t total = i + 1;
            if (c == '\r') {
                if (i + 1 >= avail && !eof)
                    return MORE;
                if (i + 1 < avail && p[i + 1] == '\n')
                    total = i + 2;
            }
            if (i > RL_NMEA_MAX_LEN || !nmea_line(p, i, out))
                return NO;
            out->len = total;
            return FRAME;
        }
        if (c < 0x20 || c > 0x7E || c == '$')
            return NO;
    }
    if (avail >= RL_FRAMER_NMEA_MAX)
        return NO;
    if (!eof)
        return MORE;
    /* The stream ends inside a sentence: keep it if it is well formed. */
    if (avail > RL_NMEA_MAX_LEN || !nmea_line(p, avail, out))
        return NO;
    out->len = avail;
    return FRAME;
}

static enum attempt try_ubx(struct rl_framer *f, const uint8_t *p, size_t avail,
                            struct rl_frame *out)
{
    if (avail < 2)
        return MORE;
    if (p[1] != RL_UBX_SYNC2)
        return NO;
    if (avail < RL_UBX_HEADER_LEN)
        return MORE;
    size_t plen = rl__get_u16le(p + 4);
    if (plen > RL_UBX_MAX_PAYLOAD)
        return NO;
    size_t total = plen + RL_UBX_OVERHEAD;
    if (avail < total)
        return MORE;
    uint8_t a, b;
    rl_ubx_checksum(p + 2, plen + 4, &a, &b);
    if (a != p[total - 2] || b != p[total - 1]) {
        f->stats.ubx_bad_checksum++;
        return NO;
    }
    out->len = total;
    out->checksum_present = out->checksum_ok = true;
    return FRAME;
}

static enum attempt try_rtcm3(struct rl_framer *f, const uint8_t *p, size_t avail,
                              struct rl_frame *out)
{
    if (avail < RL_RTCM3_HEADER_LEN)
        return avail >= 2 && (p[1] & RTCM3_RESERVED_MASK) ? NO : MORE;
    if (p[1] & RTCM3_RESERVED_MASK)
        return NO;
    size_t plen = (size_t)(p[1] & RTCM3_LEN_HI_MASK) << 8 | p[2];
    size_t total = RL_RTCM3_HEADER_LEN + plen + RL_RTCM3_CRC_LEN;
    if (avail < total)
        return MORE;
    const uint8_t *c = p + RL_RTCM3_HEADER_LEN + plen;
    uint32_t want = (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
    if (rl_rtcm3_crc24q(p, RL_RTCM3_HEADER_LEN + plen) != want) {
        f->stats.rtcm3_bad_crc++;
        return NO;
    }
    out->len = total;
    out->checksum_present = out->checksum_ok = true;
    out->rtcm3_type =
        plen >= 2 ? (uint16_t)((unsigned)p[3] << RTCM3_TYPE_SHIFT | p[4] >> RTCM3_TYPE_SHIFT) : 0;
    return FRAME;
}

int rl_framer_next(struct rl_framer *f, struct rl_frame *out)
{
    while (f->start < f->end) {
        const uint8_t *p = f->buf + f->start;
        size_t avail = f->end - f->start;
        enum attempt r = NO;
        memset(out, 0, sizeof(*out));
        switch (p[0]) {
        case '$':
        case '!':
            out->kind = RL_FRAME_NMEA;
            r = try_nmea(p, avail, f->eof, out);
            break;
        case RL_UBX_SYNC1:
            out->kind = RL_FRAME_UBX;
            r = try_ubx(f, p, avail, out);
            break;
        case RL_RTCM3_PREAMBLE:
            out->kind = RL_FRAME_RTCM3;
            r = try_rtcm3(f, p, avail, out);
            break;
        default:
            break;
        }
        if (r == MORE && !f->eof)
            return 0;
        if (r != FRAME) {
            f->start++;
            f->stats.skipped_bytes++;
            continue;
        }
        out->data = p;
        f->start += out->len;
        switch (out->kind) {
        case RL_FRAME_NMEA:
            f->stats.nmea++;
            if (!out->checksum_present)
                f->stats.nmea_no_checksum++;
            else if (!out->checksum_ok)
                f->stats.nmea_bad_checksum++;
            break;
        case RL_FRAME_UBX:
            f->stats.ubx++;
            break;
        case RL_FRAME_RTCM3:
            f->stats.rtcm3++;
            break;
        }
        return 1;
    }
    return 0;
}
