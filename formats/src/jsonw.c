/* The JSON writer of jsonw.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/jsonw.h"

void rl_jw_init(struct rl_jw *w, size_t limit_bytes)
{
    memset(w, 0, sizeof(*w));
    w->limit = limit_bytes;
    w->first[0] = true;
}

void rl_jw_release(struct rl_jw *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void rl_jw_reset(struct rl_jw *w)
{
    w->len = 0;
    w->depth = 0;
    w->first[0] = true;
    w->after_key = false;
    w->failed = false;
    if (w->buf)
        w->buf[0] = '\0';
}

const char *rl_jw_str_out(const struct rl_jw *w, size_t *len)
{
    if (len)
        *len = w->len;
    return w->buf ? w->buf : "";
}

bool rl_jw_failed(const struct rl_jw *w)
{
    return w->failed;
}

void rl_jw_mark(const struct rl_jw *w, struct rl_jw_mark *m)
{
    m->len = w->len;
    m->depth = w->depth;
    m->first_at_depth = w->first[w->depth];
    m->after_key = w->after_key;
    m->failed = w->failed;
}

void rl_jw_rewind(struct rl_jw *w, const struct rl_jw_mark *m)
{
    w->len = m->len;
    w->depth = m->depth;
    w->first[w->depth] = m->first_at_depth;
    w->after_key = m->after_key;
    w->failed = m->failed;
    if (w->buf)
        w->buf[w->len] = '\0';
}

static bool reserve(struct rl_jw *w, size_t n)
{
    if (w->failed)
        return false;
    if (n > w->limit - w->len - 1 || w->len + 1 > w->limit) {
        w->failed = true;
        return false;
    }
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        if (cap > w->limit)
            cap = w->limit;
        char *p = realloc(w->buf, cap);
        if (!p) {
            w->failed = true;
            return false;
        }
        w->buf = p;
        w->cap = cap;
    }
    return true;
}

static void put(struct rl_jw *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void putc_(struct rl_jw *w, char c)
{
    put(w, &c, 1);
}

/* Separator before a value: a comma unless first at this depth or after a key. */
static void before_value(struct rl_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        putc_(w, ',');
    w->first[w->depth] = false;
}

static void open_(struct rl_jw *w, char c)
{
    before_value(w);
    putc_(w, c);
    if (w->depth + 1 >= RL_JW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    w->depth++;
    w->first[w->depth] = true;
}

static void close_(struct rl_jw *w, char c)
{
    if (w->depth > 0)
        w->depth--;
    putc_(w, c);
}

void rl_jw_obj_begin(struct rl_jw *w)
{
    open_(w, '{');
}
void rl_jw_obj_end(struct rl_jw *w)
{
    close_(w, '}');
}
void rl_jw_arr_begin(struct rl_jw *w)
{
    open_(w, '[');
}
void rl_jw_arr_end(struct rl_jw *w)
{
    close_(w, ']');
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return k;
}

static void put_escaped(struct rl_jw *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    putc_(w, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            put(w, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(w, esc, 2);
            i++;
        } else if (c == '\n') {
            put(w, "\\n", 2);
            i++;
        } else if (c == '\r') {
            put(w, "\\r", 2);
            i++;
        } else if (c == '\t') {
            put(w, "\\t", 2);
            i++;
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(w, esc, 6);
            i++;
        } else {
            size_t k = utf8_len(p + i, n - i);
            if (k == 0) {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                put(w, esc, 6);
                i++;
            } else {
                put(w, s + i, k);
                i += k;
            }
        }
    }
    putc_(w, '"');
}

void rl_jw_key(struct rl_jw *w, const char *key)
{
    before_value(w);
    put_escaped(w, key, strlen(key));
    putc_(w, ':');
    w->after_key = true;
}

void rl_jw_strn(struct rl_jw *w, const char *s, size_t n)
{
    before_value(w);
    put_escaped(w, s ? s : "", s ? n : 0);
}

void rl_jw_str(struct rl_jw *w, const char *s)
{
    rl_jw_strn(w, s, s ? strlen(s) : 0);
}

void rl_jw_u64(struct rl_jw *w, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
    before_value(w);
    put(w, b, (size_t)n);
}

void rl_jw_i64(struct rl_jw *w, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%lld", (long long)v);
    before_value(w);
    put(w, b, (size_t)n);
}

void rl_jw_double(struct rl_jw *w, double v, int digits)
{
    before_value(w);
    if (!isfinite(v)) {
        put(w, "null", 4);
        return;
    }
    char b[40];
    if (digits < 1 || digits > 17)
        digits = 17;
    int n = snprintf(b, sizeof(b), "%.*g", digits, v);
    put(w, b, (size_t)n);
}

void rl_jw_bool(struct rl_jw *w, bool v)
{
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void rl_jw_null(struct rl_jw *w)
{
    before_value(w);
    put(w, "null", 4);
}

void rl_jw_raw(struct rl_jw *w, const char *json, size_t n)
{
    before_value(w);
    put(w, json, n);
}

void rl_jw_base64(struct rl_jw *w, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    before_value(w);
    if (!reserve(w, (n + 2) / 3 * 4 + 2))
        return;
    char *o = w->buf + w->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
    w->buf[w->len] = '\0';
}

void rl_jw_hex(struct rl_jw *w, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    before_value(w);
    if (!reserve(w, 2 * n + 2))
        return;
    char *o = w->buf + w->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        *o++ = hex[p[i] >> 4];
        *o++ = hex[p[i] & 15];
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
    w->buf[w->len] = '\0';
}

void rl_jw_kstr(struct rl_jw *w, const char *key, const char *s)
{
    rl_jw_key(w, key);
    rl_jw_str(w, s);
}

void rl_jw_ku64(struct rl_jw *w, const char *key, uint64_t v)
{
    rl_jw_key(w, key);
    rl_jw_u64(w, v);
}

void rl_jw_ki64(struct rl_jw *w, const char *key, int64_t v)
{
    rl_jw_key(w, key);
    rl_jw_i64(w, v);
}

void rl_jw_kdouble(struct rl_jw *w, const char *key, double v, int digits)
{
    rl_jw_key(w, key);
    rl_jw_double(w, v, digits);
}

void rl_jw_kbool(struct rl_jw *w, const char *key, bool v)
{
    rl_jw_key(w, key);
    rl_jw_bool(w, v);
}
