/* DBC signal databases (can.h): parser, lookup, signal decode and encode.
 * Implements the DBC file format as documented by Vector ("DBC File Format
 * Documentation", version 1.0.1): VERSION, NS_, BS_, BU_, BO_ id name:
 * size transmitter, SG_ name [M|mN|mNM] : start|length@order sign
 * (factor,offset) [min|max] "unit" receivers, VAL_, SIG_VALTYPE_, BA_DEF_ and
 * BA_ (the VFrameFormat attribute marks CAN FD messages), CM_ and the other
 * ';'-terminated sections (checked for termination and skipped).
 *
 * Bit numbering: bit b of the payload is bit (b % 8) of byte b / 8, bit 0
 * the least significant. An Intel (@1) signal starts at its LSB and grows
 * upward. A Motorola (@0) signal's start bit is its MSB; the next bit is
 * b - 1 within a byte and wraps from bit 0 of byte k to bit 7 of byte k + 1
 * (b + 15): the "sawtooth" numbering of Vector's tools.
 *
 * Statements: a statement starts with a keyword at the start of a line.
 * BO_, SG_, BU_, BS_, VERSION end at the line end (NS_ takes its indented
 * continuation lines); the others end at ';' outside a quoted string and
 * may span lines (multi-line comments), but a line starting with a keyword
 * outside a string ends an unterminated statement, so one broken statement
 * cannot swallow the file. Anything that cannot be understood is skipped
 * and recorded as a problem with its line number (RL_DBC_STRICT makes the
 * first one an error). Multiplexed signals (mN) are decoded when the
 * message's multiplexer (M) has raw value N; extended multiplexing
 * (SG_MUL_VAL_) is not supported: an mNM signal is treated as mN. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/can.h"

#define ARENA_BLOCK_SIZE  65536
#define ARENA_ALIGN       8
#define MAX_VFRAME_LABELS 64
#define MAX_NUMBER_TOKEN  63
#define PROBLEM_TEXT_MAX  200
#define SNIPPET_MAX       40
#define BITS_PER_BYTE     8
#define MAX_BITS          (RL_DBC_MAX_BYTES * BITS_PER_BYTE)
#define DBC_ID_EXTENDED   0x80000000u
#define DBC_ID_PSEUDO     0x60000000u /* VECTOR__INDEPENDENT_SIG_MSG and similar */
#define MAX_SIGNAL_BITS   64
#define FLOAT32_BITS      32

/* ---- arena: strings and fixed arrays that live as long as the dbc ------ */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
    struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    struct arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK_SIZE ? n : ARENA_BLOCK_SIZE;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void arena_release(struct arena *a)
{
    while (a->head) {
        struct arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* Grows an array to hold need elements; the old array stays valid on
 * failure (NULL). */
static void *grow_array(void *v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return v;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / elem)
        return NULL;
    void *nv = realloc(v, ncap * elem);
    if (nv)
        *cap = ncap;
    return nv;
}

/* ---- the database -------------------------------------------------------- */

struct sigvec {
    struct rl_dbc_signal *v;
    size_t n, cap;
    bool pseudo; /* the message's id is no frame's (not indexed) */
};

struct rl_dbc {
    struct arena arena;
    const char *version;
    struct rl_dbc_message *msgs;
    struct sigvec *sigs; /* parallel to msgs */
    size_t n_msgs, cap_msgs, cap_sigs;
    size_t *index; /* message indices sorted by key, then file order */
    size_t n_index;
    size_t n_signals;
    size_t n_problems;
    const char *problems[RL_DBC_PROBLEMS_KEPT];
};

static uint32_t msg_key(const struct rl_dbc_message *m)
{
    return m->id | (m->extended ? RL_CAN_EFF_FLAG : 0);
}

const char *rl_dbc_version(const struct rl_dbc *dbc)
{
    return dbc->version ? dbc->version : "";
}

size_t rl_dbc_message_count(const struct rl_dbc *dbc)
{
    return dbc->n_msgs;
}

const struct rl_dbc_message *rl_dbc_message_at(const struct rl_dbc *dbc, size_t i)
{
    return i < dbc->n_msgs ? &dbc->msgs[i] : NULL;
}

size_t rl_dbc_signal_count(const struct rl_dbc *dbc)
{
    return dbc->n_signals;
}

size_t rl_dbc_problem_count(const struct rl_dbc *dbc)
{
    return dbc->n_problems;
}

const char *rl_dbc_problem(const struct rl_dbc *dbc, size_t i)
{
    return i < dbc->n_problems && i < RL_DBC_PROBLEMS_KEPT ? dbc->problems[i] : NULL;
}

const struct rl_dbc_message *rl_dbc_find(const struct rl_dbc *dbc, uint32_t key)
{
    size_t lo = 0, hi = dbc->n_index;
    while (lo < hi) { /* leftmost match: the first definition */
        size_t mid = lo + (hi - lo) / 2;
        if (msg_key(&dbc->msgs[dbc->index[mid]]) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < dbc->n_index && msg_key(&dbc->msgs[dbc->index[lo]]) == key)
        return &dbc->msgs[dbc->index[lo]];
    return NULL;
}

void rl_dbc_free(struct rl_dbc *dbc)
{
    if (!dbc)
        return;
    for (size_t i = 0; i < dbc->n_msgs; i++)
        free(dbc->sigs[i].v);
    free(dbc->sigs);
    free(dbc->msgs);
    free(dbc->index);
    arena_release(&dbc->arena);
    free(dbc);
}

/* ---- scanning one statement --------------------------------------------- */

struct sc {
    const char *p, *e;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static void sc_ws(struct sc *s)
{
    while (s->p < s->e && is_ws(*s->p))
        s->p++;
}

static bool sc_end(struct sc *s)
{
    sc_ws(s);
    return s->p >= s->e;
}

static bool sc_lit(struct sc *s, char c)
{
    sc_ws(s);
    if (s->p < s->e && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static bool sc_ident(struct sc *s, const char **id, size_t *n)
{
    sc_ws(s);
    const char *q = s->p;
    if (q >= s->e || !is_ident_start(*q))
        return false;
    while (q < s->e && is_ident_char(*q))
        q++;
    if ((size_t)(q - s->p) > RL_DBC_MAX_NAME)
        return false;
    *id = s->p;
    *n = (size_t)(q - s->p);
    s->p = q;
    return true;
}

/* Is the identifier at the scanner equal to word (and not longer)? */
static bool sc_word(struct sc *s, const char *word)
{
    struct sc t = *s;
    const char *id;
    size_t n;
    if (!sc_ident(&t, &id, &n) || n != strlen(word) || memcmp(id, word, n) != 0)
        return false;
    *s = t;
    return true;
}

static bool sc_uint(struct sc *s, uint64_t *v, bool allow_hex, uint64_t max)
{
    sc_ws(s);
    const char *q = s->p;
    uint64_t x = 0;
    unsigned base = 10;
    if (allow_hex && s->e - q > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
        base = 16;
        q += 2;
    }
    const char *d0 = q;
    for (; q < s->e; q++) {
        unsigned dv;
        char c = *q;
        if (c >= '0' && c <= '9')
            dv = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            dv = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            dv = (unsigned)(c - 'A' + 10);
        else
            break;
        if (x > (max - dv) / base)
            return false;
        x = x * base + dv;
    }
    if (q == d0 || (q < s->e && is_ident_char(*q)))
        return false;
    *v = x;
    s->p = q;
    return true;
}

static bool sc_int(struct sc *s, int64_t *v)
{
    sc_ws(s);
    bool neg = false;
    uint64_t x;
    if (s->p < s->e && (*s->p == '-' || *s->p == '+')) {
        neg = *s->p == '-';
        s->p++;
    }
    if (s->p >= s->e || *s->p < '0' || *s->p > '9' ||
        !sc_uint(s, &x, false, (uint64_t)INT64_MAX + (neg ? 1u : 0u)))
        return false;
    if (s->p < s->e && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return false;
    *v = neg ? (int64_t)(0 - x) : (int64_t)x;
    return true;
}

static bool sc_number(struct sc *s, double *v)
{
    char buf[MAX_NUMBER_TOKEN + 1];
    size_t n = 0;
    sc_ws(s);
    while (s->p + n < s->e) {
        char c = s->p[n];
        if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E'))
            break;
        if (n >= MAX_NUMBER_TOKEN)
            return false;
        buf[n] = c;
        n++;
    }
    if (n == 0)
        return false;
    buf[n] = '\0';
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    if (end != buf + n || errno == ERANGE || !isfinite(x))
        return false;
    s->p += n;
    *v = x;
    return true;
}

/* A quoted string; \" and \\ are taken as escapes. Returns the raw slice. */
static bool sc_string(struct sc *s, const char **str, size_t *n)
{
    sc_ws(s);
    if (s->p >= s->e || *s->p != '"')
        return false;
    const char *q = s->p + 1;
    while (q < s->e && *q != '"') {
        if (*q == '\\' && q + 1 < s->e)
            q++;
        q++;
    }
    if (q >= s->e)
        return false;
    *str = s->p + 1;
    *n = (size_t)(q - s->p - 1);
    s->p = q + 1;
    return true;
}

/* ---- the parser ---------------------------------------------------------- */

struct pending_val {
    uint32_t key;
    unsigned line;
    const char *signal;
    struct rl_dbc_value *values;
    size_t n;
};

struct pending_type {
    uint32_t key;
    unsigned line;
    const char *signal;
    enum rl_dbc_value_type type;
};

struct pending_fmt {
    uint32_t key;
    unsigned line;
    int64_t index;
};

struct parser {
    struct rl_dbc *dbc;
    const char *text;
    size_t len, pos;
    unsigned line;
    unsigned flags;
    char *err;
    size_t err_len;
    int fatal;
    bool have_msg; /* SG_ lines attach to dbc->msgs[n_msgs - 1] */
    struct pending_val *vals;
    size_t n_vals, cap_vals;
    struct pending_type *types;
    size_t n_types, cap_types;
    struct pending_fmt *fmts;
    size_t n_fmts, cap_fmts;
    const char *vframe[MAX_VFRAME_LABELS];
    size_t n_vframe;
    struct rl_dbc_value *scratch; /* value-table entries of one VAL_ */
};

static void problem(struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct parser *p, unsigned line, const char *fmt, ...)
{
    char buf[PROBLEM_TEXT_MAX];
    va_list ap;
    int n = snprintf(buf, sizeof(buf), "line %u: ", line);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(buf))
        (void)vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    struct rl_dbc *d = p->dbc;
    if (d->n_problems < RL_DBC_PROBLEMS_KEPT) {
        d->problems[d->n_problems] = arena_strndup(&d->arena, buf, strlen(buf));
        if (!d->problems[d->n_problems] && !p->fatal)
            p->fatal = -ENOMEM;
    }
    d->n_problems++;
    if ((p->flags & RL_DBC_STRICT) && !p->fatal) {
        p->fatal = RL_ECORRUPT;
        (void)snprintf(p->err, p->err_len, "%s", buf);
    }
}

static void fatal(struct parser *p, int rc, const char *what)
{
    if (p->fatal)
        return;
    p->fatal = rc;
    (void)snprintf(p->err, p->err_len, "line %u: %s", p->line, what);
}

static const char *const line_keywords[] = {"VERSION", "NS_", "BS_", "BU_", "BO_", "SG_"};
static const char *const semi_keywords[] = {
    "CM_",         "VAL_",         "VAL_TABLE_",       "BA_DEF_",         "BA_",
    "BA_DEF_DEF_", "BA_DEF_REL_",  "BA_REL_",          "BA_DEF_DEF_REL_", "BA_DEF_SGTYPE_",
    "BA_SGTYPE_",  "SIG_VALTYPE_", "SIGTYPE_VALTYPE_", "SG_MUL_VAL_",     "BO_TX_BU_",
    "EV_",         "ENVVAR_DATA_", "SIG_GROUP_",       "SGTYPE_",         "SGTYPE_VAL_",
    "CAT_DEF_",    "CAT_",         "FILTER",           "SIG_TYPE_REF_",   "BU_SG_REL_",
    "BU_EV_REL_",  "BU_BO_REL_",   "NS_DESC_",         "EV_DATA_",
};

enum kw_class { KW_NONE, KW_LINE, KW_SEMI };

static enum kw_class classify(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof(line_keywords) / sizeof(line_keywords[0]); i++)
        if (strlen(line_keywords[i]) == n && memcmp(line_keywords[i], w, n) == 0)
            return KW_LINE;
    for (size_t i = 0; i < sizeof(semi_keywords) / sizeof(semi_keywords[0]); i++)
        if (strlen(semi_keywords[i]) == n && memcmp(semi_keywords[i], w, n) == 0)
            return KW_SEMI;
    return KW_NONE;
}

/* The keyword class of the first token of the line starting at pos. */
static enum kw_class line_starts_with_keyword(const struct parser *p, size_t pos)
{
    while (pos < p->len && (p->text[pos] == ' ' || p->text[pos] == '\t'))
        pos++;
    size_t s = pos;
    while (pos < p->len && is_ident_char(p->text[pos]))
        pos++;
    return pos > s ? classify(p->text + s, pos - s) : KW_NONE;
}

static size_t line_end(const struct parser *p, size_t pos)
{
    const char *nl = memchr(p->text + pos, '\n', p->len - pos);
    return nl ? (size_t)(nl - p->text) : p->len;
}

struct stmt {
    const char *kw;
    size_t kw_len;
    enum kw_class cls;
    const char *s, *e; /* after the keyword .. end (';' excluded) */
    unsigned line;
    bool unterminated;
};

/* Reads the next statement; false at the end of the text. */
static bool next_statement(struct parser *p, struct stmt *st)
{
    while (p->pos < p->len && is_ws(p->text[p->pos])) {
        if (p->text[p->pos] == '\n')
            p->line++;
        p->pos++;
    }
    if (p->pos >= p->len)
        return false;
    memset(st, 0, sizeof(*st));
    st->line = p->line;
    size_t k = p->pos;
    while (k < p->len && is_ident_char(p->text[k]))
        k++;
    st->kw = p->text + p->pos;
    st->kw_len = k - p->pos;
    st->cls = st->kw_len ? classify(st->kw, st->kw_len) : KW_NONE;
    st->s = p->text + k;
    if (st->cls != KW_SEMI) {
        size_t e = line_end(p, k);
        if (st->cls == KW_LINE && st->kw_len == 3 && memcmp(st->kw, "NS_", 3) == 0) {
            /* NS_ : followed by indented lines of keywords. */
            while (e < p->len && e + 1 < p->len &&
                   (p->text[e + 1] == ' ' || p->text[e + 1] == '\t')) {
                size_t ne = line_end(p, e + 1), q = e + 1;
                while (q < ne && is_ws(p->text[q]))
                    q++;
                if (q >= ne)
                    break;
                e = ne;
                p->line++;
            }
        }
        st->e = p->text + e;
        p->pos = e;
        return true;
    }
    bool quoted = false;
    unsigned line = p->line;
    for (size_t i = k; i < p->len; i++) {
        char c = p->text[i];
        if (i - p->pos > RL_DBC_MAX_STATEMENT) {
            /* Too long to be one statement: give up on its first line. */
            size_t e = line_end(p, k);
            st->e = p->text + e;
            st->unterminated = true;
            p->pos = e;
            return true;
        }
        if (quoted) {
            if (c == '\\' && i + 1 < p->len && p->text[i + 1] != '\n')
                i++;
            else if (c == '"')
                quoted = false;
            else if (c == '\n')
                line++;
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == ';') {
            st->e = p->text + i;
            p->pos = i + 1;
            p->line = line;
            return true;
        } else if (c == '\n') {
            if (line_starts_with_keyword(p, i + 1) != KW_NONE) {
                st->e = p->text + i;
                st->unterminated = true;
                p->pos = i;
                p->line = line;
                return true;
            }
            line++;
        }
    }
    st->e = p->text + p->len;
    st->unterminated = true;
    p->pos = p->len;
    p->line = line;
    return true;
}

/* ---- statements ---------------------------------------------------------- */

static const char *dup(struct parser *p, const char *s, size_t n)
{
    const char *d = arena_strndup(&p->dbc->arena, s, n);
    if (!d)
        fatal(p, -ENOMEM, "out of memory");
    return d;
}

/* A quoted string with its escapes removed. */
static const char *dup_unescaped(struct parser *p, const char *s, size_t n)
{
    char *d = arena_alloc(&p->dbc->arena, n + 1);
    size_t k = 0;
    if (!d) {
        fatal(p, -ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
            i++;
        d[k++] = s[i];
    }
    d[k] = '\0';
    return d;
}

static void snippet(const struct stmt *st, char *buf, size_t cap)
{
    size_t n = (size_t)(st->e - st->kw);
    if (n > SNIPPET_MAX)
        n = SNIPPET_MAX;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        char c = st->kw[i];
        buf[k++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    }
    buf[k] = '\0';
}

static void st_version(struct parser *p, const struct stmt *st)
{
    struct sc s = {st->s, st->e};
    const char *v;
    size_t n;
    if (!sc_string(&s, &v, &n) || !sc_end(&s)) {
        problem(p, st->line, "malformed VERSION; ignored");
        return;
    }
    p->dbc->version = dup_unescaped(p, v, n);
}

static void st_message(struct parser *p, const struct stmt *st)
{
    struct rl_dbc *d = p->dbc;
    struct sc s = {st->s, st->e};
    uint64_t raw, size;
    const char *name, *tx = "";
    size_t name_n, tx_n = 0;
    p->have_msg = false;
    if (!sc_uint(&s, &raw, true, UINT32_MAX)) {
        problem(p, st->line, "BO_ without a numeric id; message and its signals skipped");
        return;
    }
    if (!sc_ident(&s, &name, &name_n)) {
        problem(p, st->line, "BO_ %llu without a valid name; message and its signals skipped",
                (unsigned long long)raw);
        return;
    }
    if (!sc_lit(&s, ':') || !sc_uint(&s, &size, false, UINT64_MAX)) {
        problem(p, st->line, "BO_ %.*s without ': size'; message and its signals skipped",
                (int)name_n, name);
        return;
    }
    if (size > RL_DBC_MAX_BYTES) {
        problem(p, st->line, "BO_ %.*s has size %llu > %d; message and its signals skipped",
                (int)name_n, name, (unsigned long long)size, RL_DBC_MAX_BYTES);
        return;
    }
    (void)sc_ident(&s, &tx, &tx_n);
    if (!sc_end(&s))
        problem(p, st->line, "BO_ %.*s: text after the transmitter ignored", (int)name_n, name);
    if (d->n_msgs >= RL_DBC_MAX_MESSAGES) {
        fatal(p, RL_ETOOBIG, "too many messages");
        return;
    }
    struct rl_dbc_message *nm = grow_array(d->msgs, &d->cap_msgs, d->n_msgs + 1, sizeof(*nm));
    if (!nm) {
        fatal(p, -ENOMEM, "out of memory");
        return;
    }
    d->msgs = nm;
    struct sigvec *ns = grow_array(d->sigs, &d->cap_sigs, d->n_msgs + 1, sizeof(*ns));
    if (!ns) {
        fatal(p, -ENOMEM, "out of memory");
        return;
    }
    d->sigs = ns;
    struct rl_dbc_message *m = &d->msgs[d->n_msgs];
    memset(m, 0, sizeof(*m));
    memset(&d->sigs[d->n_msgs], 0, sizeof(d->sigs[0]));
    m->extended = raw & DBC_ID_EXTENDED;
    m->id = (uint32_t)raw & RL_CAN_EFF_MASK;
    if (!m->extended && m->id > RL_CAN_SFF_MASK && !(raw & DBC_ID_PSEUDO)) {
        problem(p, st->line, "BO_ %.*s: standard id %u above 0x7FF; taken as extended", (int)name_n,
                name, (unsigned)m->id);
        m->extended = true;
    }
    m->size = (uint8_t)size;
    m->fd = size > RL_CAN_MAX_DLEN;
    m->line = st->line;
    m->name = dup(p, name, name_n);
    m->transmitter = dup(p, tx, tx_n);
    if (!m->name || !m->transmitter)
        return;
    /* A pseudo id (bits 29/30, e.g. VECTOR__INDEPENDENT_SIG_MSG) holds
     * signals of no frame: it is kept but never found. */
    d->sigs[d->n_msgs].pseudo = raw & DBC_ID_PSEUDO;
    d->n_msgs++;
    p->have_msg = true;
}

/* The last bit position a signal touches, walking from its start bit; false
 * when the walk leaves the 64-byte payload. */
static bool signal_span(unsigned start, unsigned len, bool be, unsigned *last)
{
    unsigned pos = start;
    if (start >= MAX_BITS || len == 0 || len > MAX_SIGNAL_BITS)
        return false;
    if (!be) {
        *last = start + len - 1;
        return *last < MAX_BITS;
    }
    for (unsigned k = 1; k < len; k++) {
        pos = pos % BITS_PER_BYTE == 0 ? pos + 2 * BITS_PER_BYTE - 1 : pos - 1;
        if (pos >= MAX_BITS)
            return false;
    }
    *last = pos;
    return true;
}

/* The number of payload bytes a signal needs. */
static size_t signal_bytes(const struct rl_dbc_signal *s)
{
    unsigned last;
    if (!signal_span(s->start_bit, s->bit_len, s->big_endian, &last))
        return SIZE_MAX;
    if (!s->big_endian)
        return last / BITS_PER_BYTE + 1;
    /* Motorola: the highest byte touched is the last bit's byte. */
    unsigned first_byte = s->start_bit / BITS_PER_BYTE;
    unsigned last_byte = last / BITS_PER_BYTE;
    return (last_byte > first_byte ? last_byte : first_byte) + 1;
}

static void st_signal(struct parser *p, const struct stmt *st)
{
    struct rl_dbc *d = p->dbc;
    struct sc s = {st->s, st->e};
    struct rl_dbc_signal sig;
    const char *name, *mux, *unit;
    size_t name_n, mux_n, unit_n;
    uint64_t start, len;
    memset(&sig, 0, sizeof(sig));
    if (!p->have_msg) {
        problem(p, st->line, "SG_ outside a message; skipped");
        return;
    }
    if (!sc_ident(&s, &name, &name_n)) {
        problem(p, st->line, "SG_ without a valid name; skipped");
        return;
    }
    if (sc_ident(&s, &mux, &mux_n)) {
        size_t k = 1;
        if (mux_n == 1 && mux[0] == 'M') {
            sig.is_multiplexer = true;
        } else if (mux[0] == 'm' && mux_n >= 2) {
            uint64_t v = 0;
            while (k < mux_n && mux[k] >= '0' && mux[k] <= '9' && v <= UINT32_MAX)
                v = v * 10 + (uint64_t)(mux[k++] - '0');
            if (k == 1 || v > UINT32_MAX || (k < mux_n && !(k + 1 == mux_n && mux[k] == 'M')))
                goto bad;
            sig.is_multiplexed = true;
            sig.is_multiplexer = k < mux_n;
            sig.mux_value = (uint32_t)v;
        } else {
            goto bad;
        }
    }
    char order, sign;
    if (!sc_lit(&s, ':') || !sc_uint(&s, &start, false, UINT16_MAX) || !sc_lit(&s, '|') ||
        !sc_uint(&s, &len, false, UINT16_MAX) || !sc_lit(&s, '@') || s.p + 1 >= s.e)
        goto bad;
    order = s.p[0];
    sign = s.p[1];
    s.p += 2;
    if ((order != '0' && order != '1') || (sign != '+' && sign != '-'))
        goto bad;
    if (!sc_lit(&s, '(') || !sc_number(&s, &sig.factor) || !sc_lit(&s, ',') ||
        !sc_number(&s, &sig.offset) || !sc_lit(&s, ')') || !sc_lit(&s, '[') ||
        !sc_number(&s, &sig.min) || !sc_lit(&s, '|') || !sc_number(&s, &sig.max) ||
        !sc_lit(&s, ']') || !sc_string(&s, &unit, &unit_n))
        goto bad;
    /* Receivers follow: names separated by ',' or blanks; not kept. */
    sig.start_bit = (uint16_t)start;
    sig.bit_len = (uint16_t)len;
    sig.big_endian = order == '0';
    sig.is_signed = sign == '-';
    unsigned last;
    if (!signal_span(sig.start_bit, sig.bit_len, sig.big_endian, &last)) {
        problem(p, st->line, "SG_ %.*s: bits %u|%u@%c lie outside a 64-byte frame; skipped",
                (int)name_n, name, sig.start_bit, sig.bit_len, order);
        return;
    }
    struct rl_dbc_message *m = &d->msgs[d->n_msgs - 1];
    struct sigvec *sv = &d->sigs[d->n_msgs - 1];
    for (size_t i = 0; i < sv->n; i++) {
        if (strlen(sv->v[i].name) == name_n && memcmp(sv->v[i].name, name, name_n) == 0) {
            problem(p, st->line, "SG_ %.*s defined twice in %s; second skipped", (int)name_n, name,
                    m->name);
            return;
        }
    }
    if (signal_bytes(&sig) > m->size)
        problem(p, st->line, "SG_ %.*s extends past the %u bytes of %s", (int)name_n, name, m->size,
                m->name);
    if (sv->n >= RL_DBC_MAX_MSG_SIGNALS || d->n_signals >= RL_DBC_MAX_SIGNALS) {
        fatal(p, RL_ETOOBIG, "too many signals");
        return;
    }
    sig.name = dup(p, name, name_n);
    sig.unit = dup_unescaped(p, unit, unit_n);
    if (!sig.name || !sig.unit)
        return;
    struct rl_dbc_signal *nv = grow_array(sv->v, &sv->cap, sv->n + 1, sizeof(*nv));
    if (!nv) {
        fatal(p, -ENOMEM, "out of memory");
        return;
    }
    sv->v = nv;
    sv->v[sv->n++] = sig;
    d->n_signals++;
    return;
bad:
    problem(p, st->line, "malformed SG_ %.*s; skipped", (int)name_n, name);
}

/* VAL_ id signal (value "label")* */
static void st_values(struct parser *p, const struct stmt *st)
{
    struct sc s = {st->s, st->e};
    uint64_t id;
    const char *sig, *label;
    size_t sig_n, label_n, n = 0;
    struct sc t = s;
    const char *envvar;
    size_t envvar_n;
    if (sc_ident(&t, &envvar, &envvar_n))
        return; /* a value table of an environment variable */
    if (!sc_uint(&s, &id, false, UINT32_MAX) || !sc_ident(&s, &sig, &sig_n))
        goto bad;
    while (!sc_end(&s)) {
        int64_t v;
        if (n >= RL_DBC_MAX_VALUES) {
            problem(p, st->line, "VAL_ %.*s: more than %d values; skipped", (int)sig_n, sig,
                    RL_DBC_MAX_VALUES);
            return;
        }
        if (!sc_int(&s, &v) || !sc_string(&s, &label, &label_n))
            goto bad;
        p->scratch[n].value = v;
        p->scratch[n].label = dup_unescaped(p, label, label_n);
        if (!p->scratch[n].label)
            return;
        n++;
    }
    struct pending_val *nv = grow_array(p->vals, &p->cap_vals, p->n_vals + 1, sizeof(*nv));
    if (!nv) {
        fatal(p, -ENOMEM, "out of memory");
        return;
    }
    p->vals = nv;
    struct pending_val *pv = &p->vals[p->n_vals];
    pv->key = (uint32_t)id;
    pv->line = st->line;
    pv->signal = dup(p, sig, sig_n);
    pv->n = n;
    pv->values = n ? arena_alloc(&p->dbc->arena, n * sizeof(*pv->values)) : NULL;
    if (!pv->signal || (n && !pv->values)) {
        fatal(p, -ENOMEM, "out of memory");
        return;
    }
    if (n)
        memcpy(pv->values, p->scratch, n * sizeof(*pv->values));
    p->n_vals++;
    return;
bad:
    problem(p, st->line, "malformed VAL_; skipped");
}

/* SIG_VALTYPE_ id signal : 1|2 */
static void st_valtype(struct parser *p, const struct stmt *st)
{
    struct sc s = {st->s, st->e};
    uint64_t id, type;
    const char *sig;
    size_t sig_n;
    if (!sc_uint(&s, &id, false, UINT32_MAX) || !sc_ident(&s, &sig, &sig_n) || !sc_lit(&s, ':') ||
        !sc_uint(&s, &type, false, RL_DBC_FLOAT64) || !sc_end(&s)) {
        problem(p, st->line, "malformed SIG_VALTYPE_; skipped");
        return;
    }
    struct pending_type *nt = grow_array(p->types, &p->cap_types, p->n_types + 1, sizeof(*nt));
    if (!nt) {
        fatal(p, -ENOMEM, "out of memory");
        return;
    }
    p->types = nt;
    p->types[p->n_types] = (struct pending_type){(uint32_t)id, st->line, dup(p, sig, sig_n),
                                                 (enum rl_dbc_value_type)type};
    if (p->types[p->n_types].signal)
        p->n_types++;
}

/* BA_DEF_ [BU_|BO_|SG_|EV_] "name" type ...: keeps the VFrameFormat enum. */
static void st_attr_def(struct parser *p, const struct stmt *st)
{
    struct sc s = {st->s, st->e};
    const char *name, *lab;
    size_t name_n, lab_n;
    (void)(sc_word(&s, "BU_") || sc_word(&s, "BO_") || sc_word(&s, "SG_") || sc_word(&s, "EV_"));
    if (!sc_string(&s, &name, &name_n)) {
        problem(p, st->line, "malformed BA_DEF_; skipped");
        return;
    }
    if (name_n != strlen("VFrameFormat") || memcmp(name, "VFrameFormat", name_n) != 0)
        return;
    if (!sc_word(&s, "ENUM")) {
        problem(p, st->line, "VFrameFormat is not an ENUM; ignored");
        return;
    }
    p->n_vframe = 0;
    while (sc_string(&s, &lab, &lab_n)) {
        if (p->n_vframe >= MAX_VFRAME_LABELS)
            break;
        p->vframe[p->n_vframe] = dup(p, lab, lab_n);
        if (!p->vframe[p->n_vframe])
            return;
        p->n_vframe++;
        if (!sc_lit(&s, ','))
            break;
    }
}

/* BA_ "name" [BO_ id] value: keeps VFrameFormat of messages. */
static void st_attr(struct parser *p, const struct stmt *st)
{
    struct sc s = {st->s, st->e};
    const char *name;
    size_t name_n;
    uint64_t id;
    int64_t v;
    if (!sc_string(&s, &name, &name_n)) {
        problem(p, st->line, "malformed BA_; skipped");
        return;
    }
    if (name_n != strlen("VFrameFormat") || memcmp(name, "VFrameFormat", name_n) != 0 ||
        !sc_word(&s, "BO_"))
        return;
    if (!sc_uint(&s, &id, false, UINT32_MAX) || !sc_int(&s, &v) || !sc_end(&s)) {
        problem(p, st->line, "malformed BA_ \"VFrameFormat\"; skipped");
        return;
    }
    struct pending_fmt *nf = grow_array(p->fmts, &p->cap_fmts, p->n_fmts + 1, sizeof(*nf));
    if (!nf) {
        fatal(p, -ENOMEM, "out of memory");
        return;
    }
    p->fmts = nf;
    p->fmts[p->n_fmts++] = (struct pending_fmt){(uint32_t)id, st->line, v};
}

static void statement(struct parser *p, const struct stmt *st)
{
    char snip[SNIPPET_MAX + 1];
    if (st->cls == KW_NONE) {
        snippet(st, snip, sizeof(snip));
        problem(p, st->line, "not a DBC statement: '%s'; skipped", snip);
        return;
    }
    if (st->unterminated) {
        snippet(st, snip, sizeof(snip));
        problem(p, st->line, "statement not ended by ';': '%s'; skipped", snip);
        return;
    }
#define IS(word) (st->kw_len == strlen(word) && memcmp(st->kw, word, st->kw_len) == 0)
    if (IS("VERSION"))
        st_version(p, st);
    else if (IS("BO_"))
        st_message(p, st);
    else if (IS("SG_"))
        st_signal(p, st);
    else if (IS("VAL_"))
        st_values(p, st);
    else if (IS("SIG_VALTYPE_"))
        st_valtype(p, st);
    else if (IS("BA_DEF_"))
        st_attr_def(p, st);
    else if (IS("BA_"))
        st_attr(p, st);
#undef IS
    /* NS_, BS_, BU_, CM_, VAL_TABLE_, BA_DEF_DEF_ and the rest: skipped. */
}

/* ---- resolving references after the whole file is read -------------------- */

static int cmp_index(const void *a, const void *b, const struct rl_dbc *d)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    uint32_t ka = msg_key(&d->msgs[ia]), kb = msg_key(&d->msgs[ib]);
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

/* Shell sort of the lookup index: qsort has no context argument for the
 * comparison, and the counts are bounded by RL_DBC_MAX_MESSAGES. */
static void sort_index(struct rl_dbc *d)
{
    size_t n = d->n_index;
    for (size_t gap = n / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < n; i++)
            for (size_t j = i; j >= gap && cmp_index(&d->index[j - gap], &d->index[j], d) > 0;
                 j -= gap) {
                size_t t = d->index[j];
                d->index[j] = d->index[j - gap];
                d->index[j - gap] = t;
            }
}

/* Finds the signal named name in the messages with this DBC id. */
static struct rl_dbc_signal *find_signal(struct rl_dbc *d, uint32_t dbc_id, const char *name)
{
    uint32_t key = (dbc_id & RL_CAN_EFF_MASK) | (dbc_id & DBC_ID_EXTENDED ? RL_CAN_EFF_FLAG : 0);
    for (size_t i = 0; i < d->n_msgs; i++) {
        if (msg_key(&d->msgs[i]) != key)
            continue;
        for (size_t k = 0; k < d->sigs[i].n; k++)
            if (strcmp(d->sigs[i].v[k].name, name) == 0)
                return &d->sigs[i].v[k];
    }
    return NULL;
}

static void resolve(struct parser *p)
{
    struct rl_dbc *d = p->dbc;
    for (size_t i = 0; i < p->n_vals; i++) {
        struct pending_val *v = &p->vals[i];
        struct rl_dbc_signal *s = find_signal(d, v->key, v->signal);
        if (!s) {
            problem(p, v->line, "VAL_ for unknown signal %u %s; skipped", v->key, v->signal);
            continue;
        }
        s->values = v->values;
        s->n_values = v->n;
    }
    for (size_t i = 0; i < p->n_types; i++) {
        struct pending_type *t = &p->types[i];
        struct rl_dbc_signal *s = find_signal(d, t->key, t->signal);
        unsigned want = t->type == RL_DBC_FLOAT32 ? FLOAT32_BITS : MAX_SIGNAL_BITS;
        if (!s)
            problem(p, t->line, "SIG_VALTYPE_ for unknown signal %u %s; skipped", t->key,
                    t->signal);
        else if (t->type != RL_DBC_INTEGER && s->bit_len != want)
            problem(p, t->line, "SIG_VALTYPE_ %s: float needs %u bits, signal has %u; skipped",
                    t->signal, want, s->bit_len);
        else
            s->value_type = t->type;
    }
    for (size_t i = 0; i < p->n_fmts; i++) {
        struct pending_fmt *f = &p->fmts[i];
        uint32_t key =
            (f->key & RL_CAN_EFF_MASK) | (f->key & DBC_ID_EXTENDED ? RL_CAN_EFF_FLAG : 0);
        if (f->index < 0 || (size_t)f->index >= p->n_vframe) {
            problem(p, f->line, "VFrameFormat value %lld not in its ENUM; ignored",
                    (long long)f->index);
            continue;
        }
        bool fd = strstr(p->vframe[f->index], "FD") != NULL;
        for (size_t m = 0; m < d->n_msgs; m++)
            if (msg_key(&d->msgs[m]) == key)
                d->msgs[m].fd = d->msgs[m].fd || fd;
    }
}

static int finish(struct parser *p)
{
    struct rl_dbc *d = p->dbc;
    resolve(p);
    if (p->fatal)
        return p->fatal;
    d->index = malloc((d->n_msgs ? d->n_msgs : 1) * sizeof(*d->index));
    if (!d->index) {
        fatal(p, -ENOMEM, "out of memory");
        return p->fatal;
    }
    for (size_t i = 0; i < d->n_msgs; i++) {
        d->msgs[i].signals = d->sigs[i].v;
        d->msgs[i].n_signals = d->sigs[i].n;
        if (!d->sigs[i].pseudo)
            d->index[d->n_index++] = i;
    }
    sort_index(d);
    return 0;
}

int rl_dbc_parse_ex(const char *text, size_t len, unsigned flags, struct rl_dbc **out, char *err,
                    size_t err_len)
{
    struct parser p;
    struct stmt st;
    int rc;
    memset(&p, 0, sizeof(p));
    *out = NULL;
    if (err_len)
        err[0] = '\0';
    p.text = text;
    p.len = len;
    p.line = 1;
    p.flags = flags;
    p.err = err;
    p.err_len = err_len;
    if (len > RL_DBC_MAX_TEXT) {
        (void)snprintf(err, err_len, "DBC text of %zu bytes exceeds %zu", len, RL_DBC_MAX_TEXT);
        return RL_ETOOBIG;
    }
    p.dbc = calloc(1, sizeof(*p.dbc));
    p.scratch = malloc(RL_DBC_MAX_VALUES * sizeof(*p.scratch));
    if (!p.dbc || !p.scratch) {
        rc = -ENOMEM;
        (void)snprintf(err, err_len, "out of memory");
        goto fail;
    }
    while (!p.fatal && next_statement(&p, &st))
        statement(&p, &st);
    rc = p.fatal ? p.fatal : finish(&p);
    if (rc < 0)
        goto fail;
    *out = p.dbc;
    p.dbc = NULL;
    rc = 0;
fail:
    rl_dbc_free(p.dbc);
    free(p.vals);
    free(p.types);
    free(p.fmts);
    free(p.scratch);
    return rc;
}

int rl_dbc_parse(const char *text, size_t len, struct rl_dbc **out, char *err, size_t err_len)
{
    return rl_dbc_parse_ex(text, len, 0, out, err, err_len);
}

/* ---- signal decode and encode ------------------------------------------- */

static unsigned next_bit(unsigned pos, bool be)
{
    if (!be)
        return pos + 1;
    return pos % BITS_PER_BYTE == 0 ? pos + 2 * BITS_PER_BYTE - 1 : pos - 1;
}

int rl_dbc_signal_raw(const struct rl_dbc_signal *s, const uint8_t *data, size_t len, uint64_t *raw)
{
    if (signal_bytes(s) > len)
        return RL_ETRUNC;
    uint64_t v = 0;
    unsigned pos = s->start_bit;
    for (unsigned k = 0; k < s->bit_len; k++) {
        uint64_t bit = data[pos / BITS_PER_BYTE] >> (pos % BITS_PER_BYTE) & 1u;
        if (s->big_endian)
            v = v << 1 | bit; /* MSB first */
        else
            v |= bit << k; /* LSB first */
        pos = next_bit(pos, s->big_endian);
    }
    if (s->is_signed && s->bit_len < MAX_SIGNAL_BITS && (v >> (s->bit_len - 1) & 1u))
        v |= ~(uint64_t)0 << s->bit_len;
    *raw = v;
    return 0;
}

double rl_dbc_signal_physical(const struct rl_dbc_signal *s, uint64_t raw)
{
    double x;
    if (s->value_type == RL_DBC_FLOAT32) {
        uint32_t b = (uint32_t)raw;
        float f;
        memcpy(&f, &b, sizeof(f));
        x = f;
    } else if (s->value_type == RL_DBC_FLOAT64) {
        memcpy(&x, &raw, sizeof(x));
    } else {
        x = s->is_signed ? (double)(int64_t)raw : (double)raw;
    }
    return x * s->factor + s->offset;
}

static const char *label_of(const struct rl_dbc_signal *s, uint64_t raw)
{
    if (s->value_type != RL_DBC_INTEGER)
        return NULL;
    for (size_t i = 0; i < s->n_values; i++)
        if ((uint64_t)s->values[i].value == raw)
            return s->values[i].label;
    return NULL;
}

int rl_dbc_decode_signal(const struct rl_dbc_message *msg, size_t i, const uint8_t *data,
                         size_t len, struct rl_dbc_decoded *out)
{
    if (i >= msg->n_signals)
        return RL_ECORRUPT;
    const struct rl_dbc_signal *s = &msg->signals[i];
    uint64_t raw;
    if (s->is_multiplexed) {
        const struct rl_dbc_signal *mux = NULL;
        for (size_t k = 0; k < msg->n_signals && !mux; k++)
            if (msg->signals[k].is_multiplexer && !msg->signals[k].is_multiplexed)
                mux = &msg->signals[k];
        if (!mux || rl_dbc_signal_raw(mux, data, len, &raw) < 0 || raw != s->mux_value)
            return 0;
    }
    if (rl_dbc_signal_raw(s, data, len, &raw) < 0)
        return 0;
    out->signal = s;
    out->raw = raw;
    out->value = rl_dbc_signal_physical(s, raw);
    out->label = label_of(s, raw);
    return 1;
}

size_t rl_dbc_decode(const struct rl_dbc_message *msg, const uint8_t *data, size_t len,
                     struct rl_dbc_decoded *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < msg->n_signals && n < cap; i++)
        if (rl_dbc_decode_signal(msg, i, data, len, &out[n]) == 1)
            n++;
    return n;
}

int rl_dbc_pack_raw(const struct rl_dbc_signal *s, uint64_t raw, uint8_t *data, size_t len)
{
    if (signal_bytes(s) > len)
        return RL_ETRUNC;
    if (s->bit_len < MAX_SIGNAL_BITS) {
        uint64_t high = raw >> s->bit_len;
        uint64_t all = ~(uint64_t)0 >> (MAX_SIGNAL_BITS - (s->bit_len));
        /* Fits when the bits above are all zero, or all one for a negative
         * signed value. */
        if (high != 0 &&
            !(s->is_signed && (raw | all) == ~(uint64_t)0 && (raw >> (s->bit_len - 1) & 1u)))
            return -ERANGE;
    }
    unsigned pos = s->start_bit;
    for (unsigned k = 0; k < s->bit_len; k++) {
        unsigned shift = s->big_endian ? s->bit_len - 1 - k : k;
        uint8_t mask = (uint8_t)(1u << (pos % BITS_PER_BYTE));
        if (raw >> shift & 1u)
            data[pos / BITS_PER_BYTE] |= mask;
        else
            data[pos / BITS_PER_BYTE] &= (uint8_t)~mask;
        pos = next_bit(pos, s->big_endian);
    }
    return 0;
}

#define TWO_POW_63 9223372036854775808.0

int rl_dbc_encode_signal(const struct rl_dbc_signal *s, double physical, uint8_t *data, size_t len)
{
    if (!isfinite(physical) || s->factor == 0.0 || !isfinite(s->factor))
        return -EINVAL;
    double x = (physical - s->offset) / s->factor;
    uint64_t raw;
    if (s->value_type == RL_DBC_FLOAT32) {
        float f = (float)x;
        uint32_t b;
        memcpy(&b, &f, sizeof(b));
        raw = b;
    } else if (s->value_type == RL_DBC_FLOAT64) {
        memcpy(&raw, &x, sizeof(raw));
    } else {
        double r = round(x);
        double lo = s->is_signed ? -ldexp(1.0, s->bit_len - 1) : 0.0;
        double hi = s->is_signed ? ldexp(1.0, s->bit_len - 1) : ldexp(1.0, s->bit_len);
        if (!(r >= lo && r < hi))
            return -ERANGE;
        if (s->is_signed)
            raw = r < 0 ? (uint64_t)0 - (uint64_t)(-r) : (uint64_t)r;
        else
            raw = r >= TWO_POW_63 ? (uint64_t)(r - TWO_POW_63) + ((uint64_t)1 << 63) : (uint64_t)r;
        if (s->bit_len < MAX_SIGNAL_BITS)
            raw &= ~(uint64_t)0 >> (MAX_SIGNAL_BITS - s->bit_len);
    }
    return rl_dbc_pack_raw(s, raw, data, len);
}
