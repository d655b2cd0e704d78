/* The schema walker of uper.h: one function per ASN.1 type codes it in
 * three modes (decode, encode, JSON) on top of the bit reader and writer of
 * uper.c. It keeps the path of names and indices from the outermost type to
 * the current field, so every error says where it happened
 * ("SPAT.intersections[0].phases[2].id: need 8 bits at bit 1043, 5 left").
 * JSON follows the ASN.1 JSON encoding rules (X.697): SEQUENCE as object
 * without absent members, CHOICE as a one-member object, SEQUENCE OF as
 * array, ENUMERATED as its identifier, BIT and OCTET STRING as hex. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "uper.h"

/* ---- walker -------------------------------------------------------------- */

static void per_init(struct rl_per *c, enum rl_per_mode mode)
{
    memset(c, 0, sizeof(*c));
    c->mode = mode;
}

void rl__per_init_decode(struct rl_per *c, const uint8_t *p, size_t len)
{
    per_init(c, RL_PER_DECODE);
    rl__uper_r_init(&c->r, p, len);
}

void rl__per_init_encode(struct rl_per *c, uint8_t *out, size_t cap)
{
    per_init(c, RL_PER_ENCODE);
    rl__uper_w_init(&c->w, out, cap);
}

void rl__per_init_json(struct rl_per *c, struct rl_jw *jw)
{
    per_init(c, RL_PER_JSON);
    c->jw = jw;
    c->inline_top = true;
}

void rl__per_fail(struct rl_per *c, const char *name, int err, const char *fmt, ...)
{
    if (c->err)
        return;
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    c->err = err;
    snprintf(c->msg, sizeof(c->msg), "%s%s%s: %s", c->path, (c->path_len && name) ? "." : "",
             name ? name : "", detail);
}

/* Turns a failed reader/writer call into the walker's error. */
static bool check(struct rl_per *c, const char *name, int rc)
{
    if (!rc)
        return true;
    const char *m = c->mode == RL_PER_DECODE ? c->r.msg : c->w.msg;
    rl__per_fail(c, name, rc, "%s", m);
    return false;
}

static void push(struct rl_per *c, const char *name, int index)
{
    if (c->depth >= RL_PER_MAX_DEPTH) {
        rl__per_fail(c, name, RL_ETOOBIG, "nesting deeper than %d", RL_PER_MAX_DEPTH);
        return;
    }
    c->path_mark[c->depth] = (uint16_t)c->path_len;
    c->ext_seen[c->depth] = false;
    c->json_open[c->depth] = false;
    c->depth++;
    int n = 0;
    size_t room = sizeof(c->path) - c->path_len;
    if (name)
        n = snprintf(c->path + c->path_len, room, "%s%s", c->path_len ? "." : "", name);
    else if (index >= 0)
        n = snprintf(c->path + c->path_len, room, "[%d]", index);
    if (n > 0)
        c->path_len += (size_t)n < room ? (size_t)n : room - 1;
}

static void pop(struct rl_per *c)
{
    if (c->depth <= 0)
        return;
    c->depth--;
    c->path_len = c->path_mark[c->depth];
    c->path[c->path_len] = '\0';
}

static void json_key(struct rl_per *c, const char *name)
{
    if (name)
        rl_jw_key(c->jw, name);
}

bool rl__per_seq_begin(struct rl_per *c, const char *name, bool extensible, bool *opt, int nopt)
{
    push(c, name, -1);
    if (c->err)
        return false;
    int d = c->depth - 1;
    switch (c->mode) {
    case RL_PER_DECODE: {
        uint64_t b = 0;
        if (extensible && !check(c, NULL, rl__uper_read_bits(&c->r, 1, &b)))
            return false;
        c->ext_seen[d] = b != 0;
        for (int i = 0; i < nopt; i++) {
            if (!check(c, NULL, rl__uper_read_bits(&c->r, 1, &b)))
                return false;
            opt[i] = b != 0;
        }
        break;
    }
    case RL_PER_ENCODE:
        if (extensible && !check(c, NULL, rl__uper_write_bits(&c->w, 1, 0)))
            return false;
        for (int i = 0; i < nopt; i++)
            if (!check(c, NULL, rl__uper_write_bits(&c->w, 1, opt[i] ? 1 : 0)))
                return false;
        break;
    case RL_PER_JSON:
        if (!(c->inline_top && c->depth == 1)) {
            json_key(c, name);
            rl_jw_obj_begin(c->jw);
            c->json_open[d] = true;
        }
        break;
    }
    return true;
}

/* Skips the extension additions of a SEQUENCE whose extension bit was set:
 * a normally small length, the presence bitmap, one open type per bit set. */
static void skip_additions(struct rl_per *c)
{
    size_t n, present = 0;
    if (!check(c, NULL, rl__uper_read_nslen(&c->r, &n)))
        return;
    for (size_t i = 0; i < n; i++) {
        uint64_t b;
        if (!check(c, NULL, rl__uper_read_bits(&c->r, 1, &b)))
            return;
        present += b != 0;
    }
    for (size_t i = 0; i < present; i++) {
        size_t len;
        if (!check(c, NULL, rl__uper_read_open(&c->r, NULL, &len)))
            return;
        c->ext_skipped++;
    }
}

static void close_level(struct rl_per *c, bool array)
{
    int d = c->depth - 1;
    if (d >= 0 && c->json_open[d]) {
        if (array)
            rl_jw_arr_end(c->jw);
        else
            rl_jw_obj_end(c->jw);
        c->json_open[d] = false;
    }
    pop(c);
}

void rl__per_seq_end(struct rl_per *c)
{
    int d = c->depth - 1;
    if (!c->err && c->mode == RL_PER_DECODE && d >= 0 && c->ext_seen[d])
        skip_additions(c);
    close_level(c, false);
}

bool rl__per_int(struct rl_per *c, const char *name, int32_t *v, int64_t lb, int64_t ub)
{
    if (c->err)
        return false;
    switch (c->mode) {
    case RL_PER_DECODE: {
        int64_t x;
        if (!check(c, name, rl__uper_read_cons(&c->r, lb, ub, &x)))
            return false;
        *v = (int32_t)x;
        return true;
    }
    case RL_PER_ENCODE:
        return check(c, name, rl__uper_write_cons(&c->w, lb, ub, *v));
    case RL_PER_JSON:
        json_key(c, name);
        rl_jw_i64(c->jw, *v);
        return true;
    }
    return false;
}

bool rl__per_enum(struct rl_per *c, const char *name, int32_t *v, const char *const *ids,
                  int n_root, bool extensible)
{
    if (c->err)
        return false;
    switch (c->mode) {
    case RL_PER_DECODE: {
        uint64_t e = 0;
        if (extensible && !check(c, name, rl__uper_read_bits(&c->r, 1, &e)))
            return false;
        if (e) {
            uint64_t k;
            if (!check(c, name, rl__uper_read_nsnn(&c->r, &k)))
                return false;
            if (k > 1000) {
                rl__per_fail(c, name, RL_ECORRUPT, "enumeration extension index %llu",
                             (unsigned long long)k);
                return false;
            }
            *v = n_root + (int32_t)k;
            return true;
        }
        int64_t x;
        if (!check(c, name, rl__uper_read_cons(&c->r, 0, n_root - 1, &x)))
            return false;
        *v = (int32_t)x;
        return true;
    }
    case RL_PER_ENCODE:
        if (*v < 0 || (*v >= n_root && !extensible) || *v > n_root + 1000) {
            rl__per_fail(c, name, -EINVAL, "value %d is not in the enumeration", (int)*v);
            return false;
        }
        if (*v >= n_root)
            return check(c, name, rl__uper_write_bits(&c->w, 1, 1)) &&
                   check(c, name, rl__uper_write_nsnn(&c->w, (uint64_t)(*v - n_root)));
        if (extensible && !check(c, name, rl__uper_write_bits(&c->w, 1, 0)))
            return false;
        return check(c, name, rl__uper_write_cons(&c->w, 0, n_root - 1, *v));
    case RL_PER_JSON:
        if (*v < 0 || (*v >= n_root && !extensible)) {
            rl__per_fail(c, name, -EINVAL, "value %d is not in the enumeration", (int)*v);
            return false;
        }
        json_key(c, name);
        if (*v < n_root) {
            rl_jw_str(c->jw, ids[*v]);
        } else {
            char s[40];
            snprintf(s, sizeof(s), "unknown-extension-%ld", (long)*v - n_root);
            rl_jw_str(c->jw, s);
        }
        return true;
    }
    return false;
}

/* JSON hex of an nbits-wide bit string held right-aligned in v. */
static void json_bits(struct rl_jw *jw, uint64_t v, int nbits)
{
    uint8_t b[8];
    int n = (nbits + 7) / 8;
    uint64_t left = nbits > 0 ? v << (n * 8 - nbits) : 0;
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(left >> (8 * (n - 1 - i)));
    rl_jw_hex(jw, b, (size_t)n);
}

bool rl__per_bits(struct rl_per *c, const char *name, uint32_t *v, int nbits)
{
    if (c->err)
        return false;
    switch (c->mode) {
    case RL_PER_DECODE: {
        uint64_t x;
        if (!check(c, name, rl__uper_read_bits(&c->r, (unsigned)nbits, &x)))
            return false;
        *v = (uint32_t)x;
        return true;
    }
    case RL_PER_ENCODE:
        return check(c, name, rl__uper_write_bits(&c->w, (unsigned)nbits, *v));
    case RL_PER_JSON:
        if (nbits < 32 && (*v >> nbits) != 0) {
            rl__per_fail(c, name, -EINVAL, "value 0x%x does not fit %d bits", (unsigned)*v, nbits);
            return false;
        }
        json_key(c, name);
        json_bits(c->jw, *v, nbits);
        return true;
    }
    return false;
}

bool rl__per_bits_ext(struct rl_per *c, const char *name, uint64_t *v, int32_t *len, int root)
{
    if (c->err)
        return false;
    switch (c->mode) {
    case RL_PER_DECODE: {
        uint64_t e;
        size_t n = (size_t)root;
        if (!check(c, name, rl__uper_read_bits(&c->r, 1, &e)))
            return false;
        if (e && !check(c, name, rl__uper_read_len(&c->r, &n)))
            return false;
        if (n > 64) {
            rl__per_fail(c, name, RL_ETOOBIG, "bit string of %zu bits (at most 64 kept)", n);
            return false;
        }
        if (!check(c, name, rl__uper_read_bits(&c->r, (unsigned)n, v)))
            return false;
        *len = (int32_t)n;
        return true;
    }
    case RL_PER_ENCODE:
        if (*len < 0 || *len > 64) {
            rl__per_fail(c, name, -EINVAL, "bit string length %d not in 0..64", (int)*len);
            return false;
        }
        if (*len == root)
            return check(c, name, rl__uper_write_bits(&c->w, 1, 0)) &&
                   check(c, name, rl__uper_write_bits(&c->w, (unsigned)root, *v));
        return check(c, name, rl__uper_write_bits(&c->w, 1, 1)) &&
               check(c, name, rl__uper_write_len(&c->w, (size_t)*len)) &&
               check(c, name, rl__uper_write_bits(&c->w, (unsigned)*len, *v));
    case RL_PER_JSON:
        if (*len < 0 || *len > 64) {
            rl__per_fail(c, name, -EINVAL, "bit string length %d not in 0..64", (int)*len);
            return false;
        }
        json_key(c, name);
        rl_jw_obj_begin(c->jw);
        rl_jw_key(c->jw, "value");
        json_bits(c->jw, *v, *len);
        rl_jw_ki64(c->jw, "length", *len);
        rl_jw_obj_end(c->jw);
        return true;
    }
    return false;
}

bool rl__per_octets(struct rl_per *c, const char *name, uint8_t *p, int32_t *len, int lb, int ub)
{
    if (c->err)
        return false;
    int32_t n = len ? *len : lb;
    if (c->mode != RL_PER_DECODE && (n < lb || n > ub)) {
        rl__per_fail(c, name, -EINVAL, "%d octets, need %d..%d", (int)n, lb, ub);
        return false;
    }
    switch (c->mode) {
    case RL_PER_DECODE: {
        size_t k;
        if (!check(c, name, rl__uper_read_len_c(&c->r, (size_t)lb, (size_t)ub, &k)) ||
            !check(c, name, rl__uper_read_octets(&c->r, p, k)))
            return false;
        if (len)
            *len = (int32_t)k;
        return true;
    }
    case RL_PER_ENCODE:
        return check(c, name, rl__uper_write_len_c(&c->w, (size_t)lb, (size_t)ub, (size_t)n)) &&
               check(c, name, rl__uper_write_octets(&c->w, p, (size_t)n));
    case RL_PER_JSON:
        json_key(c, name);
        rl_jw_hex(c->jw, p, (size_t)n);
        return true;
    }
    return false;
}

bool rl__per_ia5(struct rl_per *c, const char *name, char *s, int lb, int ub)
{
    if (c->err)
        return false;
    switch (c->mode) {
    case RL_PER_DECODE: {
        size_t k;
        if (!check(c, name, rl__uper_read_len_c(&c->r, (size_t)lb, (size_t)ub, &k)))
            return false;
        for (size_t i = 0; i < k; i++) {
            uint64_t ch;
            if (!check(c, name, rl__uper_read_bits(&c->r, 7, &ch)))
                return false;
            if (ch == 0) {
                rl__per_fail(c, name, RL_ECORRUPT, "NUL character at position %zu", i);
                return false;
            }
            s[i] = (char)ch;
        }
        s[k] = '\0';
        return true;
    }
    case RL_PER_ENCODE: {
        size_t k = strnlen(s, (size_t)ub + 1);
        if (k < (size_t)lb || k > (size_t)ub) {
            rl__per_fail(c, name, -EINVAL, "%zu characters, need %d..%d", k, lb, ub);
            return false;
        }
        if (!check(c, name, rl__uper_write_len_c(&c->w, (size_t)lb, (size_t)ub, k)))
            return false;
        for (size_t i = 0; i < k; i++) {
            unsigned char ch = (unsigned char)s[i];
            if (ch > 127) {
                rl__per_fail(c, name, -EINVAL, "character 0x%02x at %zu is not IA5", ch, i);
                return false;
            }
            if (!check(c, name, rl__uper_write_bits(&c->w, 7, ch)))
                return false;
        }
        return true;
    }
    case RL_PER_JSON:
        json_key(c, name);
        rl_jw_strn(c->jw, s, strnlen(s, (size_t)ub + 1));
        return true;
    }
    return false;
}

bool rl__per_choice_begin(struct rl_per *c, const char *name, int32_t *idx, int n_root,
                          bool extensible)
{
    push(c, name, -1);
    if (c->err)
        return false;
    int d = c->depth - 1;
    switch (c->mode) {
    case RL_PER_DECODE: {
        uint64_t e = 0;
        if (extensible && !check(c, NULL, rl__uper_read_bits(&c->r, 1, &e)))
            return false;
        if (e) {
            uint64_t k;
            size_t len;
            if (!check(c, NULL, rl__uper_read_nsnn(&c->r, &k)) ||
                !check(c, NULL, rl__uper_read_open(&c->r, NULL, &len)))
                return false;
            if (k > 1000) {
                rl__per_fail(c, NULL, RL_ECORRUPT, "choice extension index %llu",
                             (unsigned long long)k);
                return false;
            }
            *idx = n_root + (int32_t)k;
            return false;
        }
        int64_t x;
        if (!check(c, NULL, rl__uper_read_cons(&c->r, 0, n_root - 1, &x)))
            return false;
        *idx = (int32_t)x;
        return true;
    }
    case RL_PER_ENCODE:
        if (*idx < 0 || *idx >= n_root) {
            rl__per_fail(c, NULL, -EINVAL, "alternative %d cannot be encoded (%s)", (int)*idx,
                         *idx >= n_root && extensible ? "unknown extension" : "not an alternative");
            return false;
        }
        if (extensible && !check(c, NULL, rl__uper_write_bits(&c->w, 1, 0)))
            return false;
        return check(c, NULL, rl__uper_write_cons(&c->w, 0, n_root - 1, *idx));
    case RL_PER_JSON:
        if (*idx < 0 || (*idx >= n_root && !extensible)) {
            rl__per_fail(c, NULL, -EINVAL, "alternative %d is not an alternative", (int)*idx);
            return false;
        }
        json_key(c, name);
        rl_jw_obj_begin(c->jw);
        c->json_open[d] = true;
        if (*idx >= n_root) {
            rl_jw_ki64(c->jw, "unknown-extension", *idx - n_root);
            return false;
        }
        return true;
    }
    return false;
}

void rl__per_choice_end(struct rl_per *c)
{
    close_level(c, false);
}

/* Shared by list_begin and span_begin: the count, already known on encode
 * and JSON, read on decode. */
static bool list_count(struct rl_per *c, const char *name, int32_t *n, int lb, int ub, int cap)
{
    int d = c->depth - 1;
    switch (c->mode) {
    case RL_PER_DECODE: {
        size_t k;
        if (!check(c, NULL, rl__uper_read_len_c(&c->r, (size_t)lb, (size_t)ub, &k)))
            return false;
        if (k > (size_t)cap) {
            rl__per_fail(c, NULL, RL_ETOOBIG, "too many: %zu items, at most %d supported", k, cap);
            return false;
        }
        *n = (int32_t)k;
        return true;
    }
    case RL_PER_ENCODE:
    case RL_PER_JSON:
        if (*n < lb || *n > ub || *n > cap) {
            rl__per_fail(c, NULL, -EINVAL, "%d items, need %d..%d (at most %d here)", (int)*n, lb,
                         ub, cap);
            return false;
        }
        if (c->mode == RL_PER_ENCODE)
            return check(c, NULL, rl__uper_write_len_c(&c->w, (size_t)lb, (size_t)ub, (size_t)*n));
        json_key(c, name);
        rl_jw_arr_begin(c->jw);
        c->json_open[d] = true;
        return true;
    }
    return false;
}

bool rl__per_list_begin(struct rl_per *c, const char *name, int32_t *n, int lb, int ub, int cap)
{
    push(c, name, -1);
    if (c->err)
        return false;
    return list_count(c, name, n, lb, ub, cap);
}

bool rl__per_span_begin(struct rl_per *c, const char *name, uint16_t *first, uint16_t *count,
                        uint16_t *pool_used, int pool_cap, int lb, int ub)
{
    push(c, name, -1);
    if (c->err)
        return false;
    if (c->mode == RL_PER_DECODE) {
        int32_t n;
        if (!list_count(c, name, &n, lb, ub, ub))
            return false;
        if (n > pool_cap - *pool_used) {
            rl__per_fail(c, NULL, RL_ETOOBIG,
                         "too many: %d more items, %d of %d already used in this message", (int)n,
                         (int)*pool_used, pool_cap);
            return false;
        }
        *first = *pool_used;
        *count = (uint16_t)n;
        *pool_used = (uint16_t)(*pool_used + n);
        return true;
    }
    if (*pool_used > pool_cap || *first > *pool_used || *count > *pool_used - *first) {
        rl__per_fail(c, NULL, -EINVAL, "items %u..%u outside the %u filled", (unsigned)*first,
                     (unsigned)(*first + *count), (unsigned)*pool_used);
        return false;
    }
    int32_t n = *count;
    return list_count(c, name, &n, lb, ub, ub);
}

void rl__per_list_end(struct rl_per *c)
{
    close_level(c, true);
}

void rl__per_item_begin(struct rl_per *c, int i)
{
    push(c, NULL, i);
}

void rl__per_item_end(struct rl_per *c)
{
    pop(c);
}
