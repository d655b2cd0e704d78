/* A small JSON writer into a growable memory buffer with a hard cap, used by
 * the decoders (`cat --decode --json`) and the command line's --json
 * output. Calls never fail individually: an allocation failure or the cap
 * sets a sticky failed flag, checked once at the end (rl_jw_failed).
 * Commas and nesting are tracked by the writer. Strings are escaped per RFC
 * 8259; bytes that are not valid UTF-8 are written as \u00XX escapes of
 * their Latin-1 value, so output is always valid JSON. Not thread-safe;
 * one writer per thread. */
#ifndef ROADLOG_JSONW_H
#define ROADLOG_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_JW_MAX_DEPTH 64

struct rl_jw {
    char *buf;
    size_t len, cap, limit;
    int depth;
    bool first[RL_JW_MAX_DEPTH]; /* no element written yet at this depth */
    bool after_key;
    bool failed;
};

/* Starts an empty writer holding at most limit_bytes of output. */
void rl_jw_init(struct rl_jw *w, size_t limit_bytes);
/* Frees the buffer. */
void rl_jw_release(struct rl_jw *w);
/* Empties the output (keeps the buffer) for the next document. */
void rl_jw_reset(struct rl_jw *w);
/* The output so far, NUL-terminated (valid until the next call). */
const char *rl_jw_str_out(const struct rl_jw *w, size_t *len);
bool rl_jw_failed(const struct rl_jw *w);

/* A saved position to go back to, discarding what was written after it. */
struct rl_jw_mark {
    size_t len;
    int depth;
    bool first_at_depth, after_key, failed;
};
void rl_jw_mark(const struct rl_jw *w, struct rl_jw_mark *m);
void rl_jw_rewind(struct rl_jw *w, const struct rl_jw_mark *m);

void rl_jw_obj_begin(struct rl_jw *w);
void rl_jw_obj_end(struct rl_jw *w);
void rl_jw_arr_begin(struct rl_jw *w);
void rl_jw_arr_end(struct rl_jw *w);
void rl_jw_key(struct rl_jw *w, const char *key);

void rl_jw_str(struct rl_jw *w, const char *s);
void rl_jw_strn(struct rl_jw *w, const char *s, size_t n);
void rl_jw_u64(struct rl_jw *w, uint64_t v);
void rl_jw_i64(struct rl_jw *w, int64_t v);
/* Writes a finite double with up to `digits` significant digits (%.*g);
 * NaN and infinities are written as null. */
void rl_jw_double(struct rl_jw *w, double v, int digits);
void rl_jw_bool(struct rl_jw *w, bool v);
void rl_jw_null(struct rl_jw *w);
/* Writes already-valid JSON text as one value. */
void rl_jw_raw(struct rl_jw *w, const char *json, size_t n);
/* Base64 (RFC 4648, with padding) of bytes, as a JSON string. */
void rl_jw_base64(struct rl_jw *w, const uint8_t *p, size_t n);
/* Lowercase hex of bytes, as a JSON string. */
void rl_jw_hex(struct rl_jw *w, const uint8_t *p, size_t n);

/* key + value shorthands */
void rl_jw_kstr(struct rl_jw *w, const char *key, const char *s);
void rl_jw_ku64(struct rl_jw *w, const char *key, uint64_t v);
void rl_jw_ki64(struct rl_jw *w, const char *key, int64_t v);
void rl_jw_kdouble(struct rl_jw *w, const char *key, double v, int digits);
void rl_jw_kbool(struct rl_jw *w, const char *key, bool v);

#endif
