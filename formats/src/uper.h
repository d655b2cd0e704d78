/* Unaligned PER (ITU-T X.691, "UNALIGNED" variant, BASIC-PER) for the V2X
 * message sets: a bounds-checked bit reader, a bit writer, and on top of them
 * a schema walker that codes one ASN.1 type with one function in three modes
 * (decode into a C struct, encode from it, or write it as JSON in the style
 * of the ASN.1 JSON encoding rules, X.697), so decoder, encoder and JSON view
 * of a type cannot disagree.
 *
 * Reader and writer (X.691 clauses in brackets): constrained whole numbers
 * incl. the zero-bit case [11.5.7, 11.6], semi-constrained [11.7] and
 * unconstrained [11.8] whole numbers, normally small non-negative whole
 * numbers [11.6] and normally small lengths [11.9.3.4], unconstrained length
 * determinants [11.9.3.5-7] (fragmented lengths, 16K and up, are refused),
 * bit fields and octets at any bit position. Every read checks the bits left;
 * the first failure is sticky and carries a message with the bit offset.
 * Not thread-safe; one reader/writer/walker per thread. */
#ifndef RL_UPER_H
#define RL_UPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"
#include "roadlog/jsonw.h"

/* Lengths from 16384 up need fragmentation (X.691 11.9.3.8); refused. */
#define RL_UPER_MAX_UNFRAGMENTED 16383u

/* ---- bit reader ---------------------------------------------------------- */

struct rl_uper_r {
    const uint8_t *p;
    size_t pos;   /* next bit to read, counted from bit 7 of p[0] */
    size_t end;   /* one past the last readable bit */
    int err;      /* 0, or the first error (RL_ETRUNC, RL_ECORRUPT, ...) */
    char msg[96]; /* detail of the first error, e.g. "need 12 bits at bit 1043, 8 left" */
};

/* Reads len bytes from p (borrowed for the reader's lifetime). */
void rl__uper_r_init(struct rl_uper_r *r, const uint8_t *p, size_t len);
/* Bits not yet read. */
size_t rl__uper_r_left(const struct rl_uper_r *r);
/* Sets the sticky error (if none yet) with a printf-style detail. */
void rl__uper_r_fail(struct rl_uper_r *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* n (0..64) bits, most significant first. */
RL_WARN_UNUSED int rl__uper_read_bits(struct rl_uper_r *r, unsigned n, uint64_t *v);
RL_WARN_UNUSED int rl__uper_skip_bits(struct rl_uper_r *r, size_t n);
/* n whole octets at the current bit position; out may be NULL to skip. */
RL_WARN_UNUSED int rl__uper_read_octets(struct rl_uper_r *r, uint8_t *out, size_t n);
/* Constrained whole number lb..ub (lb <= ub, ub - lb < 2^63): ceil(log2(range))
 * bits, none when lb == ub. A value above ub is RL_ECORRUPT. */
RL_WARN_UNUSED int rl__uper_read_cons(struct rl_uper_r *r, int64_t lb, int64_t ub, int64_t *v);
/* Semi-constrained whole number with lower bound lb: length + octets. */
RL_WARN_UNUSED int rl__uper_read_semi(struct rl_uper_r *r, int64_t lb, int64_t *v);
/* Unconstrained whole number: length + two's-complement octets (1..8). */
RL_WARN_UNUSED int rl__uper_read_unc(struct rl_uper_r *r, int64_t *v);
/* Unconstrained length determinant (0..16383). */
RL_WARN_UNUSED int rl__uper_read_len(struct rl_uper_r *r, size_t *n);
/* Length constrained to lb..ub: constrained whole number when ub < 64K
 * (zero bits when fixed), else an unconstrained length. */
RL_WARN_UNUSED int rl__uper_read_len_c(struct rl_uper_r *r, size_t lb, size_t ub, size_t *n);
/* Normally small non-negative whole number. */
RL_WARN_UNUSED int rl__uper_read_nsnn(struct rl_uper_r *r, uint64_t *v);
/* Normally small length (>= 1), as for the extension-addition bitmap. */
RL_WARN_UNUSED int rl__uper_read_nslen(struct rl_uper_r *r, size_t *n);
/* Open type: a length in octets followed by that many octets. Returns a
 * reader over the contents in sub (when not NULL) and moves past them. */
RL_WARN_UNUSED int rl__uper_read_open(struct rl_uper_r *r, struct rl_uper_r *sub, size_t *nbytes);

/* ---- bit writer ---------------------------------------------------------- */

struct rl_uper_w {
    uint8_t *p;
    size_t pos; /* bits written */
    size_t cap; /* capacity in bits */
    int err;
    char msg[96];
};

/* Writes into cap bytes at p (zeroed here). */
void rl__uper_w_init(struct rl_uper_w *w, uint8_t *p, size_t cap);
void rl__uper_w_fail(struct rl_uper_w *w, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Bytes used, the last one padded with zero bits; at least 1 (X.691 11.1:
 * an empty encoding is one zero octet). */
size_t rl__uper_w_bytes(const struct rl_uper_w *w);

RL_WARN_UNUSED int rl__uper_write_bits(struct rl_uper_w *w, unsigned n, uint64_t v);
RL_WARN_UNUSED int rl__uper_write_octets(struct rl_uper_w *w, const uint8_t *p, size_t n);
/* Value outside lb..ub is -EINVAL. */
RL_WARN_UNUSED int rl__uper_write_cons(struct rl_uper_w *w, int64_t lb, int64_t ub, int64_t v);
RL_WARN_UNUSED int rl__uper_write_semi(struct rl_uper_w *w, int64_t lb, int64_t v);
RL_WARN_UNUSED int rl__uper_write_unc(struct rl_uper_w *w, int64_t v);
/* n > 16383 is RL_EUNSUPPORTED (fragmentation). */
RL_WARN_UNUSED int rl__uper_write_len(struct rl_uper_w *w, size_t n);
RL_WARN_UNUSED int rl__uper_write_len_c(struct rl_uper_w *w, size_t lb, size_t ub, size_t n);
RL_WARN_UNUSED int rl__uper_write_nsnn(struct rl_uper_w *w, uint64_t v);
RL_WARN_UNUSED int rl__uper_write_nslen(struct rl_uper_w *w, size_t n);
/* Open type holding n octets of an already complete encoding. */
RL_WARN_UNUSED int rl__uper_write_open(struct rl_uper_w *w, const uint8_t *p, size_t n);

/* ---- schema walker --------------------------------------------------------
 *
 * A type is written once as a function of (walker, name, value pointer):
 *
 *     bool opt[1] = {v->has_moy};           // absent/present, read or written
 *     rl__per_seq_begin(c, "SPAT", true, opt, 1);
 *     rl__per_int(c, "msgCnt", &v->msgCnt, 0, 127);
 *     if (opt[0]) rl__per_int(c, "moy", &v->moy, 0, 527040);
 *     rl__per_seq_end(c);
 *     v->has_moy = opt[0];                  // decode stores what it read
 *
 * Names build the error path ("SPAT.intersections[0].phases[2].id") and are
 * the JSON keys; name NULL marks an item of a SEQUENCE OF (no key). After the
 * first error every call does nothing and returns false; callers check once
 * at the end (rl__per_err) and bound every loop by a checked count. */

enum rl_per_mode { RL_PER_DECODE, RL_PER_ENCODE, RL_PER_JSON };

#define RL_PER_MAX_DEPTH 32

struct rl_per {
    enum rl_per_mode mode;
    struct rl_uper_r r; /* RL_PER_DECODE */
    struct rl_uper_w w; /* RL_PER_ENCODE */
    struct rl_jw *jw;   /* RL_PER_JSON */
    int err;
    char msg[400]; /* "path: detail" of the first error */
    char path[192];
    size_t path_len;
    int depth;
    uint16_t path_mark[RL_PER_MAX_DEPTH];
    bool ext_seen[RL_PER_MAX_DEPTH];  /* decode: the SEQUENCE's extension bit */
    bool json_open[RL_PER_MAX_DEPTH]; /* JSON: this level opened an object/array */
    bool inline_top;      /* JSON: the outermost SEQUENCE's members go into the open object */
    uint32_t ext_skipped; /* decode: unknown extension additions skipped */
};

void rl__per_init_decode(struct rl_per *c, const uint8_t *p, size_t len);
void rl__per_init_encode(struct rl_per *c, uint8_t *out, size_t cap);
/* JSON into an object the caller has opened: the outermost SEQUENCE's
 * members are written into it. */
void rl__per_init_json(struct rl_per *c, struct rl_jw *jw);
static inline int rl__per_err(const struct rl_per *c)
{
    return c->err;
}
static inline bool rl__per_decoding(const struct rl_per *c)
{
    return c->mode == RL_PER_DECODE;
}
/* Records the first error as "<path>[.<name>]: <detail>". */
void rl__per_fail(struct rl_per *c, const char *name, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* SEQUENCE: the extension bit (when extensible) and the presence bitmap of
 * its nopt OPTIONAL members, then the members. seq_end skips (and counts)
 * extension additions on decode. */
bool rl__per_seq_begin(struct rl_per *c, const char *name, bool extensible, bool *opt, int nopt);
void rl__per_seq_end(struct rl_per *c);

/* INTEGER (lb..ub). */
bool rl__per_int(struct rl_per *c, const char *name, int32_t *v, int64_t lb, int64_t ub);
/* ENUMERATED whose n_root values are 0..n_root-1 (ids are their
 * identifiers). When extensible, value n_root + k stands for the unknown
 * extension addition k: it is decoded, re-encoded and reported as
 * "unknown-extension-k", never mapped to a root value. */
bool rl__per_enum(struct rl_per *c, const char *name, int32_t *v, const char *const *ids,
                  int n_root, bool extensible);
/* BIT STRING (SIZE(nbits)), nbits <= 32; bit 0 of the ASN.1 value is the
 * most significant of the nbits in *v. JSON: hex, left-aligned (X.697). */
bool rl__per_bits(struct rl_per *c, const char *name, uint32_t *v, int nbits);
/* BIT STRING (SIZE(root, ...)): *len bits (<= 64) in *v as above. JSON:
 * {"value": hex, "length": n}. */
bool rl__per_bits_ext(struct rl_per *c, const char *name, uint64_t *v, int32_t *len, int root);
/* OCTET STRING (SIZE(lb..ub)) into p (room for ub); len may be NULL when
 * lb == ub. JSON: hex. */
bool rl__per_octets(struct rl_per *c, const char *name, uint8_t *p, int32_t *len, int lb, int ub);
/* IA5String (SIZE(lb..ub)) as a NUL-terminated string in s (room for ub + 1). */
bool rl__per_ia5(struct rl_per *c, const char *name, char *s, int lb, int ub);

/* CHOICE of n_root alternatives. Returns true when the caller must now code
 * alternative *idx (under the alternative's name), then call choice_end.
 * Returns false on error, or after an unknown extension alternative (decode:
 * skipped, *idx = n_root + k; JSON: {"unknown-extension": k}); choice_end
 * is still due. Encoding an unknown alternative fails. */
bool rl__per_choice_begin(struct rl_per *c, const char *name, int32_t *idx, int n_root,
                          bool extensible);
void rl__per_choice_end(struct rl_per *c);

/* SEQUENCE (SIZE(lb..ub)) OF held in an array of cap items with count *n. */
bool rl__per_list_begin(struct rl_per *c, const char *name, int32_t *n, int lb, int ub, int cap);
/* SEQUENCE OF stored as a span (*first, *count) of a pool of pool_cap items
 * of which *pool_used are taken. Decode takes *count items from the pool;
 * encode and JSON check the span lies in the used part. */
bool rl__per_span_begin(struct rl_per *c, const char *name, uint16_t *first, uint16_t *count,
                        uint16_t *pool_used, int pool_cap, int lb, int ub);
void rl__per_list_end(struct rl_per *c);
/* Brackets item i of the list being coded (for the path). */
void rl__per_item_begin(struct rl_per *c, int i);
void rl__per_item_end(struct rl_per *c);

#endif
