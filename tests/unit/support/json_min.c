/* The tests' tiny JSON parser (json_min.h): recursive descent over the
 * text with a depth limit, every value allocated as its own node. */
#include "json_min.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH      64
#define MAX_FILE_BYTES ((size_t)64 << 20)

struct parser {
    const char *p, *start, *end;
    char *err;
    size_t err_len;
    bool failed;
};

static void perr(struct parser *ps, const char *what)
{
    if (ps->failed)
        return;
    ps->failed = true;
    size_t line = 1, col = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (ps->err && ps->err_len)
        snprintf(ps->err, ps->err_len, "line %zu, column %zu: %s", line, col, what);
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

struct json_value *json_new(enum json_type type)
{
    struct json_value *v = calloc(1, sizeof(*v));
    if (v)
        v->type = type;
    return v;
}

void json_free(struct json_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        if (v->keys)
            free(v->keys[i]);
        json_free(v->items[i]);
    }
    free(v->keys);
    free(v->items);
    free(v->text);
    free(v);
}

static bool grow_items(struct json_value *v)
{
    /* Capacity is the next power of two >= n + 1. */
    size_t n = v->n;
    if (n && (n & (n - 1)) != 0)
        return true;
    size_t cap = n ? n * 2 : 1;
    struct json_value **items = realloc(v->items, cap * sizeof(*items));
    if (!items)
        return false;
    v->items = items;
    if (v->type == JSON_OBJECT) {
        char **keys = realloc(v->keys, cap * sizeof(*keys));
        if (!keys)
            return false;
        v->keys = keys;
    }
    return true;
}

bool json_push(struct json_value *arr, struct json_value *item)
{
    if (!item || !grow_items(arr)) {
        json_free(item);
        return false;
    }
    arr->items[arr->n++] = item;
    return true;
}

bool json_put(struct json_value *obj, const char *key, struct json_value *item)
{
    char *k = strdup(key);
    if (!item || !k || !grow_items(obj)) {
        free(k);
        json_free(item);
        return false;
    }
    obj->keys[obj->n] = k;
    obj->items[obj->n++] = item;
    return true;
}

struct json_value *json_new_string(const char *s, size_t len)
{
    struct json_value *v = json_new(JSON_STRING);
    if (!v)
        return NULL;
    v->text = malloc(len + 1);
    if (!v->text) {
        free(v);
        return NULL;
    }
    if (len)
        memcpy(v->text, s, len);
    v->text[len] = '\0';
    v->text_len = len;
    return v;
}

struct json_value *json_new_number_u64(unsigned long long val)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%llu", val);
    struct json_value *v = json_new_string(buf, (size_t)n);
    if (v)
        v->type = JSON_NUMBER;
    return v;
}

static void put_utf8(char *out, size_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | cp >> 6);
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xE0 | cp >> 12);
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xF0 | cp >> 18);
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static bool hex4(struct parser *ps, const char *limit, uint32_t *out)
{
    uint32_t v = 0;
    if (limit - ps->p < 4) {
        perr(ps, "short \\u escape");
        return false;
    }
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else {
            perr(ps, "bad hex digit in \\u escape");
            return false;
        }
    }
    *out = v;
    return true;
}

/* Parses a string at ps->p (on the opening quote) into a malloc'd buffer. */
static char *parse_string_raw(struct parser *ps, size_t *len_out)
{
    ps->p++; /* opening quote */
    /* The decoded string is never longer than the encoded one. */
    const char *q = ps->p;
    while (q < ps->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= ps->end) {
        perr(ps, "unterminated string");
        return NULL;
    }
    char *out = malloc((size_t)(q - ps->p) + 1);
    size_t o = 0;
    if (!out) {
        perr(ps, "out of memory");
        return NULL;
    }
    const char *close = q;
    while (ps->p < close) {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20) {
            perr(ps, "control character in string");
            goto fail;
        }
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        if (ps->p >= close) {
            perr(ps, "bad escape in string");
            goto fail;
        }
        c = *ps->p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            out[o++] = c;
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            uint32_t cp;
            if (!hex4(ps, close, &cp))
                goto fail;
            if (cp >= 0xD800 && cp < 0xDC00 && close - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u') {
                uint32_t lo;
                ps->p += 2;
                if (!hex4(ps, close, &lo))
                    goto fail;
                if (lo >= 0xDC00 && lo < 0xE000)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            put_utf8(out, &o, cp);
            break;
        }
        default:
            perr(ps, "bad escape in string");
            goto fail;
        }
    }
    ps->p = close + 1;
    out[o] = '\0';
    *len_out = o;
    return out;
fail:
    free(out);
    return NULL;
}

static struct json_value *parse_value(struct parser *ps, int depth);

static struct json_value *parse_container(struct parser *ps, int depth, bool object)
{
    struct json_value *v = json_new(object ? JSON_OBJECT : JSON_ARRAY);
    char close = object ? '}' : ']';
    if (!v) {
        perr(ps, "out of memory");
        return NULL;
    }
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        size_t klen;
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                perr(ps, "expected a string key");
                goto fail;
            }
            key = parse_string_raw(ps, &klen);
            if (!key)
                goto fail;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                perr(ps, "expected ':'");
                goto fail;
            }
            ps->p++;
        }
        struct json_value *item = parse_value(ps, depth + 1);
        if (!item) {
            free(key);
            goto fail;
        }
        bool ok = object ? json_put(v, key, item) : json_push(v, item);
        free(key);
        if (!ok) {
            perr(ps, "out of memory");
            goto fail;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v;
        }
        perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto fail;
    }
fail:
    json_free(v);
    return NULL;
}

static bool match_word(struct parser *ps, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static struct json_value *parse_number(struct parser *ps)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    const char *digits = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    if (ps->p == digits) {
        perr(ps, "unexpected character");
        return NULL;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    struct json_value *v = json_new_string(s, (size_t)(ps->p - s));
    if (!v) {
        perr(ps, "out of memory");
        return NULL;
    }
    v->type = JSON_NUMBER;
    return v;
}

static struct json_value *parse_value(struct parser *ps, int depth)
{
    if (depth > MAX_DEPTH) {
        perr(ps, "nested too deeply");
        return NULL;
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        perr(ps, "unexpected end of input");
        return NULL;
    }
    struct json_value *v = NULL;
    switch (*ps->p) {
    case '{':
        return parse_container(ps, depth, true);
    case '[':
        return parse_container(ps, depth, false);
    case '"': {
        size_t len;
        char *s = parse_string_raw(ps, &len);
        if (!s)
            return NULL;
        v = json_new(JSON_STRING);
        if (!v) {
            free(s);
            perr(ps, "out of memory");
            return NULL;
        }
        v->text = s;
        v->text_len = len;
        return v;
    }
    default:
        break;
    }
    if (match_word(ps, "true") || match_word(ps, "false")) {
        v = json_new(JSON_BOOL);
        if (v)
            v->boolean = ps->p[-1] == 'e' && ps->p[-2] == 'u';
    } else if (match_word(ps, "null")) {
        v = json_new(JSON_NULL);
    } else {
        return parse_number(ps);
    }
    if (!v)
        perr(ps, "out of memory");
    return v;
}

struct json_value *json_parse(const char *text, size_t len, char *err, size_t err_len)
{
    struct parser ps = {text, text, text + len, err, err_len, false};
    struct json_value *v = parse_value(&ps, 0);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        perr(&ps, "trailing characters after the document");
        json_free(v);
        return NULL;
    }
    return v;
}

struct json_value *json_parse_file(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct json_value *v = NULL;
    if (!f) {
        snprintf(err, err_len, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *p = ncap <= MAX_FILE_BYTES ? realloc(buf, ncap) : NULL;
            if (!p) {
                snprintf(err, err_len, "'%s' is too large", path);
                goto done;
            }
            buf = p;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, err_len, "cannot read '%s'", path);
        goto done;
    }
    v = json_parse(buf, len, err, err_len);
done:
    free(buf);
    if (fclose(f) != 0 && v) {
        json_free(v);
        v = NULL;
        snprintf(err, err_len, "cannot close '%s'", path);
    }
    return v;
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const struct json_value *json_at(const struct json_value *v, size_t i)
{
    if (!v || (v->type != JSON_ARRAY && v->type != JSON_OBJECT) || i >= v->n)
        return NULL;
    return v->items[i];
}

static const char *type_name(enum json_type t)
{
    static const char *const names[] = {"null", "bool", "number", "string", "array", "object"};
    return names[t];
}

/* Append to a path buffer, keeping what fits. */
static void path_key(char *path, size_t cap, const char *key)
{
    size_t n = strlen(path);
    if (n + 1 < cap)
        snprintf(path + n, cap - n, ".%s", key);
}

static void path_index(char *path, size_t cap, size_t i)
{
    size_t n = strlen(path);
    if (n + 1 < cap)
        snprintf(path + n, cap - n, "[%zu]", i);
}

static bool equal_at(const struct json_value *e, const struct json_value *a, char *path,
                     size_t path_cap, char *why, size_t why_len)
{
    char eb[120], ab[120];
    if (e->type != a->type) {
        json_format(e, eb, sizeof(eb));
        json_format(a, ab, sizeof(ab));
        snprintf(why, why_len, "%s: expected %s %s, got %s %s", path[0] ? path : "(root)",
                 type_name(e->type), eb, type_name(a->type), ab);
        return false;
    }
    switch (e->type) {
    case JSON_NULL:
        return true;
    case JSON_BOOL:
        if (e->boolean == a->boolean)
            return true;
        break;
    case JSON_NUMBER:
    case JSON_STRING:
        if (e->text_len == a->text_len && memcmp(e->text, a->text, e->text_len) == 0)
            return true;
        break;
    case JSON_ARRAY: {
        size_t base = strlen(path);
        for (size_t i = 0; i < e->n && i < a->n; i++) {
            path_index(path, path_cap, i);
            if (!equal_at(e->items[i], a->items[i], path, path_cap, why, why_len))
                return false;
            path[base] = '\0';
        }
        if (e->n == a->n)
            return true;
        snprintf(why, why_len, "%s: expected %zu items, got %zu", path[0] ? path : "(root)", e->n,
                 a->n);
        return false;
    }
    case JSON_OBJECT: {
        size_t base = strlen(path);
        for (size_t i = 0; i < e->n; i++) {
            const struct json_value *av = json_get(a, e->keys[i]);
            path_key(path, path_cap, e->keys[i]);
            if (!av) {
                snprintf(why, why_len, "%s: missing", path);
                return false;
            }
            if (!equal_at(e->items[i], av, path, path_cap, why, why_len))
                return false;
            path[base] = '\0';
        }
        for (size_t i = 0; i < a->n; i++) {
            if (!json_get(e, a->keys[i])) {
                path_key(path, path_cap, a->keys[i]);
                snprintf(why, why_len, "%s: not expected", path);
                return false;
            }
        }
        return true;
    }
    }
    json_format(e, eb, sizeof(eb));
    json_format(a, ab, sizeof(ab));
    snprintf(why, why_len, "%s: expected %s, got %s", path[0] ? path : "(root)", eb, ab);
    return false;
}

bool json_equal(const struct json_value *expected, const struct json_value *actual, char *why,
                size_t why_len)
{
    char path[256] = "";
    if (why && why_len)
        why[0] = '\0';
    char dummy[1];
    if (!why || !why_len) {
        why = dummy;
        why_len = sizeof(dummy);
    }
    return equal_at(expected, actual, path, sizeof(path), why, why_len);
}

/* A bounded string builder for json_format. */
struct sb {
    char *buf;
    size_t cap, len;
};

static void sb_put(struct sb *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->len + 1 < s->cap)
            s->buf[s->len] = p[i];
        s->len++;
    }
    if (s->cap)
        s->buf[s->len < s->cap ? s->len : s->cap - 1] = '\0';
}

static void sb_str(struct sb *s, const char *p, size_t n)
{
    sb_put(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_put(s, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            sb_put(s, esc, 6);
        } else {
            sb_put(s, (const char *)&c, 1);
        }
    }
    sb_put(s, "\"", 1);
}

static void format_to(struct sb *s, const struct json_value *v)
{
    switch (v->type) {
    case JSON_NULL:
        sb_put(s, "null", 4);
        break;
    case JSON_BOOL:
        if (v->boolean)
            sb_put(s, "true", 4);
        else
            sb_put(s, "false", 5);
        break;
    case JSON_NUMBER:
        sb_put(s, v->text, v->text_len);
        break;
    case JSON_STRING:
        sb_str(s, v->text, v->text_len);
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        sb_put(s, v->type == JSON_ARRAY ? "[" : "{", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                sb_put(s, ",", 1);
            if (v->type == JSON_OBJECT) {
                sb_str(s, v->keys[i], strlen(v->keys[i]));
                sb_put(s, ":", 1);
            }
            format_to(s, v->items[i]);
        }
        sb_put(s, v->type == JSON_ARRAY ? "]" : "}", 1);
        break;
    }
}

void json_format(const struct json_value *v, char *buf, size_t buf_len)
{
    struct sb s = {buf, buf_len, 0};
    if (buf_len)
        buf[0] = '\0';
    format_to(&s, v);
}
