/* Unaligned PER bit reader and bit writer (uper.h; the walker on top of them
 * is uper_walk.c), after
 * ITU-T X.691 (02/2021) for the UNALIGNED variant of BASIC-PER: no padding
 * to octet boundaries anywhere inside an encoding, length determinants of
 * one or two octets (11.9.3.6-7), fragmentation refused, and a complete
 * encoding padded with zero bits to a whole octet (11.1). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "uper.h"

/* Bits needed for a constrained whole number whose range is range_m1 + 1. */
static unsigned bits_for(uint64_t range_m1)
{
    unsigned n = 0;
    while (n < 64 && (range_m1 >> n) != 0)
        n++;
    return n;
}

/* ---- reader -------------------------------------------------------------- */

void rl__uper_r_init(struct rl_uper_r *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->pos = 0;
    r->end = len * 8;
    r->err = 0;
    r->msg[0] = '\0';
}

size_t rl__uper_r_left(const struct rl_uper_r *r)
{
    return r->end - r->pos;
}

void rl__uper_r_fail(struct rl_uper_r *r, int err, const char *fmt, ...)
{
    if (r->err)
        return;
    r->err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
    va_end(ap);
}

int rl__uper_read_bits(struct rl_uper_r *r, unsigned n, uint64_t *v)
{
    *v = 0;
    if (r->err)
        return r->err;
    if (n > 64) {
        rl__uper_r_fail(r, RL_ECORRUPT, "bit field of %u bits", n);
        return r->err;
    }
    if (n > r->end - r->pos) {
        rl__uper_r_fail(r, RL_ETRUNC, "need %u bits at bit %zu, %zu left", n, r->pos,
                        r->end - r->pos);
        return r->err;
    }
    uint64_t x = 0;
    while (n > 0) {
        unsigned avail = 8 - (unsigned)(r->pos & 7);
        unsigned take = n < avail ? n : avail;
        unsigned byte = r->p[r->pos >> 3];
        unsigned bits = (byte >> (avail - take)) & ((1u << take) - 1u);
        x = (take == 64 ? 0 : x << take) | bits;
        r->pos += take;
        n -= take;
    }
    *v = x;
    return 0;
}

int rl__uper_skip_bits(struct rl_uper_r *r, size_t n)
{
    if (r->err)
        return r->err;
    if (n > r->end - r->pos) {
        rl__uper_r_fail(r, RL_ETRUNC, "need %zu bits at bit %zu, %zu left", n, r->pos,
                        r->end - r->pos);
        return r->err;
    }
    r->pos += n;
    return 0;
}

int rl__uper_read_octets(struct rl_uper_r *r, uint8_t *out, size_t n)
{
    if (r->err)
        return r->err;
    if (n > (r->end - r->pos) / 8) {
        rl__uper_r_fail(r, RL_ETRUNC, "need %zu octets at bit %zu, %zu bits left", n, r->pos,
                        r->end - r->pos);
        return r->err;
    }
    if (!out)
        return rl__uper_skip_bits(r, n * 8);
    if ((r->pos & 7) == 0) {
        memcpy(out, r->p + (r->pos >> 3), n);
        r->pos += n * 8;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t b;
        int rc = rl__uper_read_bits(r, 8, &b);
        if (rc)
            return rc;
        out[i] = (uint8_t)b;
    }
    return 0;
}

int rl__uper_read_cons(struct rl_uper_r *r, int64_t lb, int64_t ub, int64_t *v)
{
    *v = lb;
    if (r->err)
        return r->err;
    if (lb > ub) {
        rl__uper_r_fail(r, RL_ECORRUPT, "empty range %lld..%lld", (long long)lb, (long long)ub);
        return r->err;
    }
    uint64_t range_m1 = (uint64_t)ub - (uint64_t)lb;
    uint64_t off;
    size_t at = r->pos;
    int rc = rl__uper_read_bits(r, bits_for(range_m1), &off);
    if (rc)
        return rc;
    if (off > range_m1) {
        rl__uper_r_fail(r, RL_ECORRUPT, "value %lld above upper bound %lld at bit %zu",
                        (long long)((uint64_t)lb + off), (long long)ub, at);
        return r->err;
    }
    *v = (int64_t)((uint64_t)lb + off);
    return 0;
}

int rl__uper_read_len(struct rl_uper_r *r, size_t *n)
{
    uint64_t b;
    *n = 0;
    size_t at = r->pos;
    int rc = rl__uper_read_bits(r, 8, &b);
    if (rc)
        return rc;
    if ((b & 0x80) == 0) {
        *n = (size_t)b;
        return 0;
    }
    if ((b & 0xc0) == 0xc0) {
        rl__uper_r_fail(r, RL_EUNSUPPORTED,
                        "fragmented length (16K or more) at bit %zu is not supported", at);
        return r->err;
    }
    uint64_t lo;
    rc = rl__uper_read_bits(r, 8, &lo);
    if (rc)
        return rc;
    *n = (size_t)(((b & 0x3f) << 8) | lo);
    return 0;
}

int rl__uper_read_len_c(struct rl_uper_r *r, size_t lb, size_t ub, size_t *n)
{
    *n = lb;
    if (ub < 65536) {
        int64_t v;
        int rc = rl__uper_read_cons(r, (int64_t)lb, (int64_t)ub, &v);
        if (rc)
            return rc;
        *n = (size_t)v;
        return 0;
    }
    size_t at = r->pos;
    int rc = rl__uper_read_len(r, n);
    if (rc)
        return rc;
    if (*n < lb || *n > ub) {
        rl__uper_r_fail(r, RL_ECORRUPT, "length %zu outside %zu..%zu at bit %zu", *n, lb, ub, at);
        return r->err;
    }
    return 0;
}

/* Reads an n-octet (1..8) big-endian field; n was just read as a length. */
static int read_value_octets(struct rl_uper_r *r, size_t n, size_t at, uint64_t *u)
{
    *u = 0;
    if (n == 0 || n > 8) {
        rl__uper_r_fail(r, n == 0 ? RL_ECORRUPT : RL_EUNSUPPORTED,
                        "integer of %zu octets at bit %zu (1..8 supported)", n, at);
        return r->err;
    }
    return rl__uper_read_bits(r, (unsigned)(n * 8), u);
}

int rl__uper_read_semi(struct rl_uper_r *r, int64_t lb, int64_t *v)
{
    size_t n, at = r->pos;
    uint64_t u;
    *v = lb;
    int rc = rl__uper_read_len(r, &n);
    if (!rc)
        rc = read_value_octets(r, n, at, &u);
    if (rc)
        return rc;
    if (u > (uint64_t)INT64_MAX - (uint64_t)(lb < 0 ? 0 : lb)) {
        rl__uper_r_fail(r, RL_EUNSUPPORTED, "integer at bit %zu does not fit 64 bits", at);
        return r->err;
    }
    *v = (int64_t)((uint64_t)lb + u);
    return 0;
}

int rl__uper_read_unc(struct rl_uper_r *r, int64_t *v)
{
    size_t n, at = r->pos;
    uint64_t u;
    *v = 0;
    int rc = rl__uper_read_len(r, &n);
    if (!rc)
        rc = read_value_octets(r, n, at, &u);
    if (rc)
        return rc;
    unsigned bits = (unsigned)n * 8;
    if (bits < 64 && (u >> (bits - 1)) & 1)
        u |= ~(uint64_t)0 << bits; /* sign-extend */
    memcpy(v, &u, sizeof(*v));
    return 0;
}

int rl__uper_read_nsnn(struct rl_uper_r *r, uint64_t *v)
{
    uint64_t big;
    *v = 0;
    int rc = rl__uper_read_bits(r, 1, &big);
    if (rc)
        return rc;
    if (!big)
        return rl__uper_read_bits(r, 6, v);
    int64_t s;
    rc = rl__uper_read_semi(r, 0, &s);
    if (rc)
        return rc;
    *v = (uint64_t)s;
    return 0;
}

int rl__uper_read_nslen(struct rl_uper_r *r, size_t *n)
{
    uint64_t big, v;
    *n = 0;
    int rc = rl__uper_read_bits(r, 1, &big);
    if (rc)
        return rc;
    if (big)
        return rl__uper_read_len(r, n);
    rc = rl__uper_read_bits(r, 6, &v);
    if (rc)
        return rc;
    *n = (size_t)v + 1;
    return 0;
}

int rl__uper_read_open(struct rl_uper_r *r, struct rl_uper_r *sub, size_t *nbytes)
{
    size_t n;
    *nbytes = 0;
    int rc = rl__uper_read_len(r, &n);
    if (rc)
        return rc;
    if (n > (r->end - r->pos) / 8) {
        rl__uper_r_fail(r, RL_ETRUNC, "open type of %zu octets at bit %zu, %zu bits left", n,
                        r->pos, r->end - r->pos);
        return r->err;
    }
    if (sub) {
        sub->p = r->p;
        sub->pos = r->pos;
        sub->end = r->pos + n * 8;
        sub->err = 0;
        sub->msg[0] = '\0';
    }
    r->pos += n * 8;
    *nbytes = n;
    return 0;
}

/* ---- writer -------------------------------------------------------------- */

void rl__uper_w_init(struct rl_uper_w *w, uint8_t *p, size_t cap)
{
    w->p = p;
    w->pos = 0;
    w->cap = cap * 8;
    w->err = 0;
    w->msg[0] = '\0';
    if (cap)
        memset(p, 0, cap);
}

void rl__uper_w_fail(struct rl_uper_w *w, int err, const char *fmt, ...)
{
    if (w->err)
        return;
    w->err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
    va_end(ap);
}

size_t rl__uper_w_bytes(const struct rl_uper_w *w)
{
    size_t n = (w->pos + 7) / 8;
    return n ? n : 1;
}

int rl__uper_write_bits(struct rl_uper_w *w, unsigned n, uint64_t v)
{
    if (w->err)
        return w->err;
    if (n > 64 || (n < 64 && (v >> n) != 0)) {
        rl__uper_w_fail(w, -EINVAL, "value %llu does not fit %u bits", (unsigned long long)v, n);
        return w->err;
    }
    if (n > w->cap - w->pos) {
        rl__uper_w_fail(w, RL_ETOOBIG, "output full: need %u bits at bit %zu, %zu left", n, w->pos,
                        w->cap - w->pos);
        return w->err;
    }
    while (n > 0) {
        unsigned room = 8 - (unsigned)(w->pos & 7);
        unsigned take = n < room ? n : room;
        unsigned bits = (unsigned)(v >> (n - take)) & ((1u << take) - 1u);
        w->p[w->pos >> 3] |= (uint8_t)(bits << (room - take));
        w->pos += take;
        n -= take;
    }
    return 0;
}

int rl__uper_write_octets(struct rl_uper_w *w, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = rl__uper_write_bits(w, 8, p[i]);
        if (rc)
            return rc;
    }
    return w->err;
}

int rl__uper_write_cons(struct rl_uper_w *w, int64_t lb, int64_t ub, int64_t v)
{
    if (w->err)
        return w->err;
    if (v < lb || v > ub) {
        rl__uper_w_fail(w, -EINVAL, "value %lld outside %lld..%lld", (long long)v, (long long)lb,
                        (long long)ub);
        return w->err;
    }
    uint64_t range_m1 = (uint64_t)ub - (uint64_t)lb;
    return rl__uper_write_bits(w, bits_for(range_m1), (uint64_t)v - (uint64_t)lb);
}

int rl__uper_write_len(struct rl_uper_w *w, size_t n)
{
    if (n < 128)
        return rl__uper_write_bits(w, 8, n);
    if (n <= RL_UPER_MAX_UNFRAGMENTED)
        return rl__uper_write_bits(w, 16, 0x8000u | n);
    rl__uper_w_fail(w, RL_EUNSUPPORTED, "length %zu needs fragmentation (not supported)", n);
    return w->err;
}

int rl__uper_write_len_c(struct rl_uper_w *w, size_t lb, size_t ub, size_t n)
{
    if (ub < 65536)
        return rl__uper_write_cons(w, (int64_t)lb, (int64_t)ub, (int64_t)n);
    if (n < lb || n > ub) {
        rl__uper_w_fail(w, -EINVAL, "length %zu outside %zu..%zu", n, lb, ub);
        return w->err;
    }
    return rl__uper_write_len(w, n);
}

/* Octets needed for u as an unsigned big-endian number (at least 1). */
static unsigned octets_unsigned(uint64_t u)
{
    unsigned n = 1;
    while (n < 8 && (u >> (8 * n)) != 0)
        n++;
    return n;
}

int rl__uper_write_semi(struct rl_uper_w *w, int64_t lb, int64_t v)
{
    if (v < lb) {
        rl__uper_w_fail(w, -EINVAL, "value %lld below lower bound %lld", (long long)v,
                        (long long)lb);
        return w->err;
    }
    uint64_t u = (uint64_t)v - (uint64_t)lb;
    unsigned n = octets_unsigned(u);
    int rc = rl__uper_write_len(w, n);
    return rc ? rc : rl__uper_write_bits(w, n * 8, u);
}

int rl__uper_write_unc(struct rl_uper_w *w, int64_t v)
{
    unsigned n = 1;
    /* Smallest n with -2^(8n-1) <= v < 2^(8n-1). */
    while (n < 8) {
        int64_t lim = (int64_t)1 << (8 * n - 1);
        if (v >= -lim && v < lim)
            break;
        n++;
    }
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    if (n < 8)
        u &= ((uint64_t)1 << (8 * n)) - 1;
    int rc = rl__uper_write_len(w, n);
    return rc ? rc : rl__uper_write_bits(w, n * 8, u);
}

int rl__uper_write_nsnn(struct rl_uper_w *w, uint64_t v)
{
    if (v <= 63)
        return rl__uper_write_bits(w, 7, v);
    if (v > INT64_MAX) {
        rl__uper_w_fail(w, -EINVAL, "normally small number %llu too large", (unsigned long long)v);
        return w->err;
    }
    int rc = rl__uper_write_bits(w, 1, 1);
    return rc ? rc : rl__uper_write_semi(w, 0, (int64_t)v);
}

int rl__uper_write_nslen(struct rl_uper_w *w, size_t n)
{
    if (n >= 1 && n <= 64)
        return rl__uper_write_bits(w, 7, n - 1);
    int rc = rl__uper_write_bits(w, 1, 1);
    return rc ? rc : rl__uper_write_len(w, n);
}

int rl__uper_write_open(struct rl_uper_w *w, const uint8_t *p, size_t n)
{
    int rc = rl__uper_write_len(w, n);
    return rc ? rc : rl__uper_write_octets(w, p, n);
}
