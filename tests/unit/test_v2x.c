/* Unit tests of the C-V2X codec (no shared data needed): the unaligned PER
 * bit reader and writer primitive by primitive at their boundary values
 * (uper.h), extension bits of SEQUENCE / CHOICE / ENUMERATED / BIT STRING,
 * encode -> decode -> equal round trips of BSM, MAP, SPAT, RSI and RSM at the
 * minimum and maximum of every constrained integer and with empty (absent)
 * and full lists, truncated and garbage input (an error with a field path,
 * never a crash), the framings (vendor header, batch, DSMP) and the two
 * decoders of decode.h (v2x.csae, v2x.j2735).
 *
 * `test_v2x --write-corpus DIR` writes the seed corpus of fuzz_v2x from the
 * same messages instead of running the tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_min.h"
#include "roadlog/v2x.h"
#include "uper.h"
#include "v2x_csae_internal.h"

#define BUF_BYTES 65536

/* ---- helpers ------------------------------------------------------------ */

static struct rl_v2x_msg *new_msg(void)
{
    struct rl_v2x_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    return m;
}

/* JSON text of a message (malloc'd), checked to be valid JSON when parse. */
static char *json_text(const struct rl_v2x_msg *m, bool parse)
{
    struct rl_jw jw;
    char err[512];
    rl_jw_init(&jw, 1 << 22);
    rl_jw_obj_begin(&jw);
    int rc = rl_v2x_to_json(m, &jw, err, sizeof(err));
    if (rc)
        fail_msg("to_json: %s", err);
    rl_jw_obj_end(&jw);
    assert_false(rl_jw_failed(&jw));
    char *s = strdup(rl_jw_str_out(&jw, NULL));
    rl_jw_release(&jw);
    assert_non_null(s);
    if (parse) {
        char perr[128];
        struct json_value *v = json_parse(s, strlen(s), perr, sizeof(perr));
        if (!v)
            fail_msg("invalid JSON (%s): %s", perr, s);
        json_free(v);
    }
    return s;
}

static char *json_of(const struct rl_v2x_msg *m)
{
    return json_text(m, true);
}

/* encode -> decode -> JSON equal, and the second encoding byte-identical. */
static void round_trip(const struct rl_v2x_msg *m, const char *what)
{
    uint8_t *a = malloc(BUF_BYTES), *b = malloc(BUF_BYTES);
    struct rl_v2x_msg *d = new_msg();
    size_t na, nb;
    char err[512];
    assert_non_null(a);
    assert_non_null(b);
    if (rl_v2x_encode(m, a, BUF_BYTES, &na, err, sizeof(err)))
        fail_msg("%s: encode: %s", what, err);
    if (rl_v2x_decode(a, na, d, err, sizeof(err)))
        fail_msg("%s: decode: %s", what, err);
    char *ja = json_of(m), *jb = json_of(d);
    if (strcmp(ja, jb) != 0)
        fail_msg("%s: decoded differs\n  in:  %s\n  out: %s", what, ja, jb);
    if (rl_v2x_encode(d, b, BUF_BYTES, &nb, err, sizeof(err)))
        fail_msg("%s: re-encode: %s", what, err);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(ja);
    free(jb);
    free(a);
    free(b);
    free(d);
}

static size_t encode_or_fail(const struct rl_v2x_msg *m, uint8_t *out, size_t cap)
{
    size_t n;
    char err[512];
    if (rl_v2x_encode(m, out, cap, &n, err, sizeof(err)))
        fail_msg("encode: %s", err);
    return n;
}

/* ---- PER primitives ------------------------------------------------------ */

struct cons_case {
    int64_t lb, ub, v;
    unsigned bits;  /* expected field width */
    uint64_t coded; /* expected field value */
};

static const struct cons_case cons_cases[] = {
    {0, 0, 0, 0, 0}, /* zero-bit case */
    {5, 5, 5, 0, 0},
    {0, 1, 1, 1, 1},
    {0, 7, 5, 3, 5},
    {0, 127, 127, 7, 127}, /* MsgCount */
    {0, 255, 0, 8, 0},
    {0, 256, 256, 9, 256},
    {-126, 127, -126, 8, 0}, /* SteeringWheelAngle */
    {-126, 127, 127, 8, 253},
    {0, 36001, 36001, 16, 36001},               /* TimeMark */
    {0, 527040, 527040, 20, 527040},            /* MinuteOfTheYear */
    {-4096, 61439, 61439, 16, 65535},           /* Elevation */
    {-900000000, 900000001, -900000000, 31, 0}, /* Latitude */
    {-900000000, 900000001, 900000001, 31, 1800000001},
    {-1799999999, 1800000001, 1800000001, 32, 3600000000u}, /* Longitude */
    {INT64_MIN, INT64_MAX, INT64_MAX, 64, UINT64_MAX},
};

static void test_cons(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cons_cases) / sizeof(cons_cases[0]); i++) {
        const struct cons_case *t = &cons_cases[i];
        uint8_t buf[16];
        struct rl_uper_w w;
        struct rl_uper_r r;
        rl__uper_w_init(&w, buf, sizeof(buf));
        assert_int_equal(rl__uper_write_bits(&w, 1, 1), 0); /* misalign on purpose */
        assert_int_equal(rl__uper_write_cons(&w, t->lb, t->ub, t->v), 0);
        assert_int_equal(w.pos, 1 + t->bits);
        rl__uper_r_init(&r, buf, sizeof(buf));
        uint64_t lead, field;
        assert_int_equal(rl__uper_read_bits(&r, 1, &lead), 0);
        assert_int_equal(rl__uper_read_bits(&r, t->bits, &field), 0);
        assert_true(field == t->coded);
        rl__uper_r_init(&r, buf, sizeof(buf));
        int64_t v;
        assert_int_equal(rl__uper_read_bits(&r, 1, &lead), 0);
        assert_int_equal(rl__uper_read_cons(&r, t->lb, t->ub, &v), 0);
        assert_true(v == t->v);
        assert_int_equal(r.pos, 1 + t->bits);
    }
    /* Outside the range: refused on write; above ub on read is corrupt. */
    uint8_t buf[4] = {0xe0};
    struct rl_uper_w w;
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_cons(&w, 0, 127, 128), -EINVAL);
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_cons(&w, -5, 5, -6), -EINVAL);
    buf[0] = 0xe0; /* 111 in a 0..5 field (3 bits) */
    struct rl_uper_r r;
    rl__uper_r_init(&r, buf, 1);
    int64_t v;
    assert_int_equal(rl__uper_read_cons(&r, 0, 5, &v), RL_ECORRUPT);
    assert_non_null(strstr(r.msg, "above upper bound"));
}

struct bytes_case {
    int64_t v;
    const char *hex; /* expected encoding, whole octets */
};

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

static void test_semi_unc(void **state)
{
    (void)state;
    static const struct bytes_case semi[] = {
        {0, "0100"},     {1, "0101"},       {255, "01ff"},
        {256, "020100"}, {65535, "02ffff"}, {INT64_MAX, "087fffffffffffffff"},
    };
    static const struct bytes_case unc[] = {
        {0, "0100"},
        {-1, "01ff"},
        {127, "017f"},
        {128, "020080"},
        {-128, "0180"},
        {-129, "02ff7f"},
        {INT64_MAX, "087fffffffffffffff"},
        {INT64_MIN, "088000000000000000"},
    };
    for (size_t i = 0; i < sizeof(semi) / sizeof(semi[0]); i++) {
        uint8_t buf[16];
        char hex[40];
        struct rl_uper_w w;
        struct rl_uper_r r;
        int64_t v;
        rl__uper_w_init(&w, buf, sizeof(buf));
        assert_int_equal(rl__uper_write_semi(&w, 0, semi[i].v), 0);
        hex_of(buf, w.pos / 8, hex);
        assert_string_equal(hex, semi[i].hex);
        rl__uper_r_init(&r, buf, w.pos / 8);
        assert_int_equal(rl__uper_read_semi(&r, 0, &v), 0);
        assert_true(v == semi[i].v);
    }
    /* A lower bound shifts the value. */
    {
        uint8_t buf[4];
        struct rl_uper_w w;
        struct rl_uper_r r;
        int64_t v;
        rl__uper_w_init(&w, buf, sizeof(buf));
        assert_int_equal(rl__uper_write_semi(&w, -5, -5), 0);
        assert_int_equal(buf[0], 1);
        assert_int_equal(buf[1], 0);
        assert_int_equal(rl__uper_write_semi(&w, -5, -6), -EINVAL);
        rl__uper_r_init(&r, buf, 2);
        assert_int_equal(rl__uper_read_semi(&r, -5, &v), 0);
        assert_true(v == -5);
    }
    for (size_t i = 0; i < sizeof(unc) / sizeof(unc[0]); i++) {
        uint8_t buf[16];
        char hex[40];
        struct rl_uper_w w;
        struct rl_uper_r r;
        int64_t v;
        rl__uper_w_init(&w, buf, sizeof(buf));
        assert_int_equal(rl__uper_write_unc(&w, unc[i].v), 0);
        hex_of(buf, w.pos / 8, hex);
        assert_string_equal(hex, unc[i].hex);
        rl__uper_r_init(&r, buf, w.pos / 8);
        assert_int_equal(rl__uper_read_unc(&r, &v), 0);
        assert_true(v == unc[i].v);
    }
    /* Zero-length and over-long integers are reported. */
    uint8_t zero[2] = {0x00, 0x00}, nine[10] = {0x09};
    struct rl_uper_r r;
    int64_t v;
    rl__uper_r_init(&r, zero, sizeof(zero));
    assert_int_equal(rl__uper_read_unc(&r, &v), RL_ECORRUPT);
    rl__uper_r_init(&r, nine, sizeof(nine));
    assert_int_equal(rl__uper_read_semi(&r, 0, &v), RL_EUNSUPPORTED);
}

static void test_lengths(void **state)
{
    (void)state;
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {{0, "00"}, {1, "01"}, {127, "7f"}, {128, "8080"}, {16383, "bfff"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[4];
        char hex[16];
        struct rl_uper_w w;
        struct rl_uper_r r;
        size_t n;
        rl__uper_w_init(&w, buf, sizeof(buf));
        assert_int_equal(rl__uper_write_len(&w, cases[i].n), 0);
        hex_of(buf, w.pos / 8, hex);
        assert_string_equal(hex, cases[i].hex);
        rl__uper_r_init(&r, buf, w.pos / 8);
        assert_int_equal(rl__uper_read_len(&r, &n), 0);
        assert_int_equal(n, cases[i].n);
    }
    /* 16K and up would need fragmentation: refused both ways, clearly. */
    uint8_t buf[4];
    struct rl_uper_w w;
    struct rl_uper_r r;
    size_t n;
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_len(&w, 16384), RL_EUNSUPPORTED);
    assert_non_null(strstr(w.msg, "fragmentation"));
    uint8_t frag[2] = {0xc1, 0x00};
    rl__uper_r_init(&r, frag, sizeof(frag));
    assert_int_equal(rl__uper_read_len(&r, &n), RL_EUNSUPPORTED);
    assert_non_null(strstr(r.msg, "fragmented"));
    /* Constrained lengths: fixed takes no bits, 1..32 takes 5. */
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_len_c(&w, 8, 8, 8), 0);
    assert_int_equal(w.pos, 0);
    assert_int_equal(rl__uper_write_len_c(&w, 8, 8, 7), -EINVAL);
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_len_c(&w, 1, 32, 32), 0);
    assert_int_equal(w.pos, 5);
    assert_int_equal(buf[0], 0xf8);
    rl__uper_r_init(&r, buf, 1);
    assert_int_equal(rl__uper_read_len_c(&r, 1, 32, &n), 0);
    assert_int_equal(n, 32);
    /* Upper bound of 64K or more: an unconstrained length is used. */
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_len_c(&w, 0, 70000, 200), 0);
    assert_int_equal(w.pos, 16);
    rl__uper_r_init(&r, buf, 2);
    assert_int_equal(rl__uper_read_len_c(&r, 0, 70000, &n), 0);
    assert_int_equal(n, 200);
}

static void test_normally_small(void **state)
{
    (void)state;
    static const uint64_t vals[] = {0, 1, 63, 64, 255, 256, 100000};
    static const size_t bits[] = {7, 7, 7, 17, 17, 25, 33};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint8_t buf[16];
        struct rl_uper_w w;
        struct rl_uper_r r;
        uint64_t v;
        rl__uper_w_init(&w, buf, sizeof(buf));
        assert_int_equal(rl__uper_write_nsnn(&w, vals[i]), 0);
        assert_int_equal(w.pos, bits[i]);
        rl__uper_r_init(&r, buf, sizeof(buf));
        assert_int_equal(rl__uper_read_nsnn(&r, &v), 0);
        assert_true(v == vals[i]);
        assert_int_equal(r.pos, bits[i]);
    }
    static const size_t lens[] = {1, 2, 64, 65, 300};
    static const size_t lbits[] = {7, 7, 7, 9, 17};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t buf[8];
        struct rl_uper_w w;
        struct rl_uper_r r;
        size_t n;
        rl__uper_w_init(&w, buf, sizeof(buf));
        assert_int_equal(rl__uper_write_nslen(&w, lens[i]), 0);
        assert_int_equal(w.pos, lbits[i]);
        rl__uper_r_init(&r, buf, sizeof(buf));
        assert_int_equal(rl__uper_read_nslen(&r, &n), 0);
        assert_int_equal(n, lens[i]);
    }
}

static void test_bits_octets_open(void **state)
{
    (void)state;
    uint8_t buf[32];
    struct rl_uper_w w;
    struct rl_uper_r r, sub;
    static const uint8_t oct[5] = {0xde, 0xad, 0xbe, 0xef, 0x01};
    uint8_t got[5];
    uint64_t v;
    size_t n;
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_bits(&w, 3, 5), 0);
    assert_int_equal(rl__uper_write_octets(&w, oct, sizeof(oct)), 0); /* unaligned */
    assert_int_equal(rl__uper_write_bits(&w, 64, UINT64_MAX), 0);
    assert_int_equal(rl__uper_write_open(&w, oct, 3), 0);
    assert_int_equal(rl__uper_write_bits(&w, 4, 16), -EINVAL); /* does not fit 4 bits */
    rl__uper_r_init(&r, buf, rl__uper_w_bytes(&w));
    assert_int_equal(rl__uper_read_bits(&r, 3, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(rl__uper_read_octets(&r, got, sizeof(got)), 0);
    assert_memory_equal(got, oct, sizeof(oct));
    assert_int_equal(rl__uper_read_bits(&r, 64, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(rl__uper_read_open(&r, &sub, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(rl__uper_read_octets(&sub, got, 3), 0);
    assert_memory_equal(got, oct, 3);
    assert_int_equal(rl__uper_read_bits(&sub, 1, &v), RL_ETRUNC); /* sub-reader ends there */
    /* Truncation: the message names what was needed, where, and what was left. */
    rl__uper_r_init(&r, buf, 1);
    assert_int_equal(rl__uper_read_bits(&r, 12, &v), RL_ETRUNC);
    assert_string_equal(r.msg, "need 12 bits at bit 0, 8 left");
    assert_int_equal(rl__uper_read_bits(&r, 1, &v), RL_ETRUNC); /* sticky */
    /* An open type longer than the input. */
    uint8_t open[3] = {0x05, 0x01, 0x02};
    rl__uper_r_init(&r, open, sizeof(open));
    assert_int_equal(rl__uper_read_open(&r, NULL, &n), RL_ETRUNC);
    /* The writer stops at its capacity. */
    rl__uper_w_init(&w, buf, 1);
    assert_int_equal(rl__uper_write_bits(&w, 9, 0), RL_ETOOBIG);
    assert_int_equal(rl__uper_w_bytes(&w), 1);
}

/* ---- walker: extension bits ---------------------------------------------- */

static const char *const abc_ids[] = {"a", "b", "c"};
static const char *const xy_alts[] = {"x", "y"};

/* A little extensible type: SEQUENCE { e ENUMERATED {a,b,c,...}, ch CHOICE
 * { x INTEGER (0..3), y INTEGER (0..1), ... }, bs BIT STRING (SIZE(4,...)),
 * ... } */
struct little {
    int32_t e, idx, x;
    uint64_t bits;
    int32_t nbits;
};

static void little(struct rl_per *c, struct little *v)
{
    if (rl__per_seq_begin(c, "T", true, NULL, 0)) {
        rl__per_enum(c, "e", &v->e, abc_ids, 3, true);
        if (rl__per_choice_begin(c, "ch", &v->idx, 2, true))
            rl__per_int(c, xy_alts[v->idx], &v->x, 0, v->idx == 0 ? 3 : 1);
        rl__per_choice_end(c);
        rl__per_bits_ext(c, "bs", &v->bits, &v->nbits, 4);
    }
    rl__per_seq_end(c);
}

static void test_extension_bits(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct rl_per c;
    struct little in, out;
    /* memset first: the struct is compared bytewise, padding included. */
    memset(&in, 0, sizeof(in));
    in.e = 2;
    in.idx = 1;
    in.x = 1;
    in.bits = 0xa;
    in.nbits = 4;
    /* Root values: ext bits all 0. */
    rl__per_init_encode(&c, buf, sizeof(buf));
    little(&c, &in);
    assert_int_equal(c.err, 0);
    /* seq ext 0 | enum ext 0, 2 (2 bits) | choice ext 0, 1 (1 bit) | x 1 (1 bit) | bs ext 0 1010 */
    assert_int_equal(c.w.pos, 1 + 3 + 2 + 1 + 5);
    memset(&out, 0, sizeof(out));
    rl__per_init_decode(&c, buf, sizeof(buf));
    little(&c, &out);
    assert_int_equal(c.err, 0);
    assert_memory_equal(&in, &out, sizeof(in));
    /* Extension values: enum addition 5, bit string of 10 bits. */
    in.e = 3 + 5;
    in.nbits = 10;
    in.bits = 0x3ff;
    rl__per_init_encode(&c, buf, sizeof(buf));
    little(&c, &in);
    assert_int_equal(c.err, 0);
    memset(&out, 0, sizeof(out));
    rl__per_init_decode(&c, buf, sizeof(buf));
    little(&c, &out);
    assert_int_equal(c.err, 0);
    assert_memory_equal(&in, &out, sizeof(in));
    /* JSON: the unknown enumeration value is reported as such. */
    struct rl_jw jw;
    rl_jw_init(&jw, 4096);
    rl_jw_obj_begin(&jw);
    rl__per_init_json(&c, &jw);
    little(&c, &in);
    rl_jw_obj_end(&jw);
    assert_int_equal(c.err, 0);
    assert_string_equal(rl_jw_str_out(&jw, NULL), "{\"e\":\"unknown-extension-5\",\"ch\":{\"y\":1},"
                                                  "\"bs\":{\"value\":\"ffc0\",\"length\":10}}");
    rl_jw_release(&jw);
    /* A CHOICE extension alternative and SEQUENCE extension additions,
     * written by hand: skipped, counted, never mis-decoded. */
    struct rl_uper_w w;
    static const uint8_t blob[3] = {1, 2, 3};
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_bits(&w, 1, 1), 0);    /* seq: extended */
    assert_int_equal(rl__uper_write_bits(&w, 1, 0), 0);    /* e: root */
    assert_int_equal(rl__uper_write_cons(&w, 0, 2, 1), 0); /* b */
    assert_int_equal(rl__uper_write_bits(&w, 1, 1), 0);    /* ch: extension */
    assert_int_equal(rl__uper_write_nsnn(&w, 4), 0);       /* addition 4 */
    assert_int_equal(rl__uper_write_open(&w, blob, 3), 0);
    assert_int_equal(rl__uper_write_bits(&w, 5, 0x0f), 0); /* bs: root 1111 */
    assert_int_equal(rl__uper_write_nslen(&w, 3), 0);      /* 3 additions */
    assert_int_equal(rl__uper_write_bits(&w, 3, 5), 0);    /* 1st and 3rd present */
    assert_int_equal(rl__uper_write_open(&w, blob, 2), 0);
    assert_int_equal(rl__uper_write_open(&w, blob, 3), 0);
    memset(&out, 0, sizeof(out));
    rl__per_init_decode(&c, buf, rl__uper_w_bytes(&w));
    little(&c, &out);
    assert_int_equal(c.err, 0);
    assert_int_equal(out.e, 1);
    assert_int_equal(out.idx, 2 + 4);
    assert_int_equal(out.nbits, 4);
    assert_int_equal(out.bits, 0xf);
    assert_int_equal(c.ext_skipped, 2);
    assert_int_equal(c.r.pos, w.pos);
    /* Encoding an unknown CHOICE alternative is refused with the path. */
    rl__per_init_encode(&c, buf, sizeof(buf));
    little(&c, &out);
    assert_int_equal(c.err, -EINVAL);
    assert_non_null(strstr(c.msg, "T.ch: alternative 6 cannot be encoded (unknown extension)"));
}

/* ---- message builders (edge values) --------------------------------------- */

static const int64_t ll_bound[] = {2048, 8192, 32768, 131072, 2097152, 8388608};
static const int64_t vert_bound[] = {64, 128, 256, 512, 1024, 2048};

/* An offset of kind k at its maximum (hi) or minimum, with vertical kind vk
 * (-1: none) likewise. */
static void edge_llv(struct rl_v2x_offset_llv *o, int k, int vk, bool hi)
{
    memset(o, 0, sizeof(*o));
    o->ll_kind = k;
    if (k == RL_V2X_LL_LATLON) {
        o->lon = hi ? 1800000001 : -1799999999;
        o->lat = hi ? 900000001 : -900000000;
    } else {
        o->lon = (int32_t)(hi ? ll_bound[k] - 1 : -ll_bound[k]);
        o->lat = (int32_t)(hi ? -ll_bound[k] : ll_bound[k] - 1);
    }
    if (vk >= 0) {
        o->has_offsetV = true;
        o->v_kind = vk;
        if (vk == RL_V2X_VERT_ELEVATION)
            o->v = hi ? 61439 : -4096;
        else
            o->v = (int32_t)(hi ? vert_bound[vk] - 1 : -vert_bound[vk]);
    }
}

static void max_pos3d(struct rl_v2x_position3d *p, bool hi)
{
    p->lat = hi ? 900000001 : -900000000;
    p->lon = hi ? 1800000001 : -1799999999;
    p->has_elevation = hi;
    p->elevation = 61439;
}

static void max_motion(struct rl_v2x_motion_cfd *m)
{
    m->has_speedCfd = m->has_headingCfd = m->has_steerCfd = true;
    m->speedCfd = 7;
    m->headingCfd = 7;
    m->steerCfd = 3;
}

/* variant 0: every integer at its minimum, nothing optional; 1: every
 * integer at its maximum, everything present, 23 crumbs; 2: extended bit
 * string sizes and an unknown enumeration extension. */
static void build_bsm(struct rl_v2x_msg *m, int variant)
{
    memset(m, 0, sizeof(*m));
    m->kind = RL_V2X_BSM;
    struct rl_v2x_bsm *b = &m->u.bsm;
    bool hi = variant >= 1;
    max_pos3d(&b->pos, hi);
    b->accelSet.lon = b->accelSet.lat = hi ? 2001 : -2000;
    b->accelSet.vert = hi ? 127 : -127;
    b->accelSet.yaw = hi ? 32767 : -32767;
    if (!hi)
        return;
    b->msgCnt = 127;
    memset(b->id, 0xff, sizeof(b->id));
    b->secMark = 65535;
    b->has_timeConfidence = b->has_posAccuracy = b->has_posConfidence = b->has_angle = true;
    b->has_motionCfd = b->has_safetyExt = b->has_emergencyExt = true;
    b->timeConfidence = 39;
    b->posAccuracy = (struct rl_v2x_pos_accuracy){255, 255, 65535};
    b->posConfidence = (struct rl_v2x_pos_confidence){15, true, 15};
    b->transmission = 7;
    b->speed = 8191;
    b->heading = 28800;
    b->angle = 127;
    max_motion(&b->motionCfd);
    struct rl_v2x_brakes *br = &b->brakes;
    br->has_brakePadel = br->has_wheelBrakes = br->has_traction = br->has_abs = true;
    br->has_scs = br->has_brakeBoost = br->has_auxBrakes = true;
    br->brakePadel = 2;
    br->wheelBrakes = 0x1f;
    br->traction = br->abs = br->scs = 3;
    br->brakeBoost = 2;
    br->auxBrakes = 3;
    b->size = (struct rl_v2x_vehicle_size){1023, 4095, true, 127};
    b->vehicleClass = (struct rl_v2x_vehicle_class){255, true, 15};
    struct rl_v2x_safety_ext *s = &b->safetyExt;
    s->has_events = s->has_pathHistory = s->has_pathPrediction = s->has_lights = true;
    s->events = (struct rl_v2x_bits){13, 0x1fff};
    s->lights = (struct rl_v2x_bits){9, 0x1ff};
    s->radiusOfCurve = 32767;
    s->confidence = 200;
    struct rl_v2x_path_history *ph = &s->pathHistory;
    ph->has_initialPosition = ph->has_currGNSSstatus = true;
    ph->currGNSSstatus = 0xff;
    struct rl_v2x_full_pos *fp = &ph->initialPosition;
    fp->has_utcTime = fp->has_heading = fp->has_transmission = fp->has_speed = true;
    fp->has_posAccuracy = fp->has_posConficence = fp->has_timeConfidence = true;
    fp->has_motionCfd = true;
    struct rl_v2x_ddatetime *t = &fp->utcTime;
    *t = (struct rl_v2x_ddatetime){true, true, true, true, true, true,  true,
                                   4095, 12,   31,   24,   60,   65535, 721};
    max_pos3d(&fp->pos, true);
    fp->heading = 28800;
    fp->transmission = 7;
    fp->speed = 8191;
    fp->posAccuracy = b->posAccuracy;
    fp->posConficence = b->posConfidence;
    fp->timeConfidence = 39;
    max_motion(&fp->motionCfd);
    ph->n_crumbData = RL_V2X_BSM_MAX_CRUMBS;
    for (int i = 0; i < ph->n_crumbData; i++) {
        struct rl_v2x_path_point *pp = &ph->crumbData[i];
        edge_llv(&pp->llvOffset, i % 7, i % 8 == 7 ? -1 : i % 7, i % 2 == 0);
        pp->timeOffset = i % 2 ? 1 : 65535;
        pp->has_speed = pp->has_posAccuracy = pp->has_heading = i % 3 != 2;
        pp->speed = 8191;
        pp->posAccuracy = (struct rl_v2x_pos_confidence){i % 16, i % 2 == 0, 15 - i % 16};
        pp->heading = i % 2 ? 0 : 240;
    }
    struct rl_v2x_emergency_ext *e = &b->emergencyExt;
    e->has_responseType = e->has_sirenUse = e->has_lightsUse = true;
    e->responseType = 6;
    e->sirenUse = 3;
    e->lightsUse = 7;
    if (variant == 2) {
        s->events = (struct rl_v2x_bits){40, 0xabcdef0123ull};
        s->lights = (struct rl_v2x_bits){0, 0};
        e->responseType = 7 + 2; /* unknown extension 2 */
        s->has_pathHistory = false;
        s->radiusOfCurve = -32767;
        s->confidence = 0;
    }
}

/* variant 0: minimal; 1: one intersection with 16 phases of 16 states, all
 * optional members, both timing kinds at their bounds; 2: 32 intersections
 * filling the phase and state pools exactly; 3: unknown light extension. */
static void build_spat(struct rl_v2x_msg *m, int variant)
{
    memset(m, 0, sizeof(*m));
    m->kind = RL_V2X_SPAT;
    struct rl_v2x_spat *s = &m->u.spat;
    int ni = variant == 2 ? 32 : 1, np = variant == 1 ? 16 : variant == 2 ? 4 : 1;
    int ns = variant == 1 ? 16 : variant == 2 ? 4 : 1;
    if (variant == 1) {
        s->msgCnt = 127;
        s->has_moy = s->has_timeStamp = s->has_name = true;
        s->moy = 527040;
        s->timeStamp = 65535;
        memset(s->name, '~', 63);
    }
    s->n_intersections = ni;
    for (int i = 0; i < ni; i++) {
        struct rl_v2x_intersection_state *is = &s->intersections[i];
        is->intersectionId.has_region = variant == 1;
        is->intersectionId.region = 65535;
        is->intersectionId.id = variant == 1 ? 65535 : i;
        is->status = variant == 1 ? 0xffff : 0x0400;
        is->has_moy = is->has_timeStamp = is->has_timeConfidence = variant == 1;
        is->moy = 527040;
        is->timeStamp = 65535;
        is->timeConfidence = 39;
        is->phases.first = s->n_phase_pool;
        is->phases.count = (uint16_t)np;
        for (int p = 0; p < np; p++) {
            struct rl_v2x_phase *ph = &s->phase_pool[s->n_phase_pool++];
            ph->id = variant == 1 ? 255 - p : p;
            ph->phaseStates.first = s->n_state_pool;
            ph->phaseStates.count = (uint16_t)ns;
            for (int k = 0; k < ns; k++) {
                struct rl_v2x_phase_state *st = &s->state_pool[s->n_state_pool++];
                st->light = (p + k) % 9;
                st->has_timing = variant != 0;
                struct rl_v2x_timing *t = &st->timing;
                t->kind = k % 2;
                bool top = (k / 2) % 2 == 0;
                int32_t v = top ? 36001 : 0;
                t->start = t->minEnd = t->maxEnd = t->likelyEnd = t->nextStart = t->nextEnd = v;
                t->timeConfidence = top ? 200 : 0;
                t->has_minEnd = t->has_maxEnd = t->has_timeConfidence = variant == 1;
                t->has_nextStart = t->has_nextEnd = variant != 0;
            }
        }
    }
    if (variant == 3)
        s->state_pool[0].light = 9 + 4;
}

static void set_node_ref(struct rl_v2x_node_ref *r, bool hi, int id)
{
    r->has_region = hi;
    r->region = hi ? 65535 : 0;
    r->id = id;
}

static struct rl_v2x_span take(uint16_t *used, int n)
{
    struct rl_v2x_span s = {*used, (uint16_t)n};
    *used = (uint16_t)(*used + n);
    return s;
}

/* variant 0: one node, no links; 1: everything present at its maximum,
 * lane attributes of every kind, lists at their upper bounds; 2: a link
 * with 32 lanes of 2 points at their minimum. */
static void build_map(struct rl_v2x_msg *m, int variant)
{
    memset(m, 0, sizeof(*m));
    m->kind = RL_V2X_MAP;
    struct rl_v2x_map *map = &m->u.map;
    bool hi = variant == 1;
    map->msgCnt = hi ? 127 : 0;
    map->has_timeStamp = hi;
    map->timeStamp = 527040;
    map->n_nodes = variant == 0 ? 1 : 2;
    for (int n = 0; n < map->n_nodes; n++) {
        struct rl_v2x_node *nd = &map->nodes[n];
        nd->has_name = hi;
        memset(nd->name, 'A' + n, 63);
        set_node_ref(&nd->id, hi, hi ? 65535 : n);
        max_pos3d(&nd->refPos, hi);
    }
    if (variant == 0)
        return;
    struct rl_v2x_node *nd = &map->nodes[0];
    int nlinks = hi ? 3 : 1;
    nd->inLinks = take(&map->n_link_pool, nlinks);
    for (int l = 0; l < nlinks; l++) {
        struct rl_v2x_link *lk = &map->link_pool[nd->inLinks.first + l];
        lk->has_name = lk->has_linkWidth = hi;
        strcpy(lk->name, "x");
        set_node_ref(&lk->upstreamNodeId, hi, 100 + l);
        lk->linkWidth = 32767;
        if (hi) {
            lk->speedLimits = take(&map->n_speed_limit_pool, 9);
            for (int i = 0; i < 9; i++) {
                map->speed_limit_pool[lk->speedLimits.first + i].type = i + 4;
                map->speed_limit_pool[lk->speedLimits.first + i].speed = i % 2 ? 0 : 8191;
            }
            lk->points = take(&map->n_point_pool, 31);
            for (int i = 0; i < 31; i++)
                edge_llv(&map->point_pool[lk->points.first + i], i % 7, i % 8 - 1, i % 2);
            lk->movements = take(&map->n_movement_pool, 32);
            for (int i = 0; i < 32; i++) {
                struct rl_v2x_movement *mv = &map->movement_pool[lk->movements.first + i];
                set_node_ref(&mv->remoteIntersection, i % 2, i);
                mv->has_phaseId = i % 3 != 0;
                mv->phaseId = i % 2 ? 255 : 0;
            }
        }
        int nlanes = hi ? 8 : 32;
        lk->lanes = take(&map->n_lane_pool, nlanes);
        for (int i = 0; i < nlanes; i++) {
            struct rl_v2x_lane *ln = &map->lane_pool[lk->lanes.first + i];
            ln->laneID = hi ? 255 : 0;
            ln->points = take(&map->n_point_pool, 2);
            edge_llv(&map->point_pool[ln->points.first], RL_V2X_LL1, -1, false);
            edge_llv(&map->point_pool[ln->points.first + 1], RL_V2X_LL6, RL_V2X_VERT_B07, true);
            if (!hi)
                continue;
            ln->has_laneWidth = ln->has_laneAttributes = ln->has_maneuvers = true;
            ln->laneWidth = 32767;
            ln->has_shareWith = i % 2 == 0;
            ln->shareWith = 0x3ff;
            ln->laneType = i; /* every alternative once */
            ln->laneTypeBits = i == RL_V2X_LANE_VEHICLE ? (struct rl_v2x_bits){8 + l, 0xff}
                                                        : (struct rl_v2x_bits){16, 0xffff};
            ln->maneuvers = 0xfff;
            if (l == 0 && i < 2) {
                ln->connectsTo = take(&map->n_connection_pool, 16);
                for (int k = 0; k < 16; k++) {
                    struct rl_v2x_connection *cn = &map->connection_pool[ln->connectsTo.first + k];
                    set_node_ref(&cn->remoteIntersection, k % 2, 65535 - k);
                    cn->has_connectingLane = k % 3 != 0;
                    cn->has_maneuver = k % 2 == 0;
                    cn->lane = 255;
                    cn->maneuver = 0x800 >> (k % 12);
                    cn->has_phaseId = k % 4 != 0;
                    cn->phaseId = k;
                }
                ln->speedLimits = take(&map->n_speed_limit_pool, 1);
                map->speed_limit_pool[ln->speedLimits.first].type = 13 + 1; /* unknown ext */
                map->speed_limit_pool[ln->speedLimits.first].speed = 1;
            }
        }
    }
}

static void build_description(struct rl_v2x_description *d, int kind, int len)
{
    d->kind = kind;
    d->len = len;
    for (int i = 0; i < len; i++)
        d->text[i] = kind == RL_V2X_TEXT_IA5 ? (uint8_t)(' ' + i % 95) : (uint8_t)(0xb0 + i % 64);
    d->text[len] = 0;
}

/* variant 0: no events or signs; 1: 8 events and 16 signs with everything,
 * filling the path, point and link pools exactly. */
static void build_rsi(struct rl_v2x_msg *m, int variant)
{
    memset(m, 0, sizeof(*m));
    m->kind = RL_V2X_RSI;
    struct rl_v2x_rsi *r = &m->u.rsi;
    bool hi = variant == 1;
    r->msgCnt = hi ? 127 : 0;
    r->has_moy = hi;
    r->moy = 527040;
    memcpy(r->id, "12345\0\0\0", 8);
    max_pos3d(&r->refPos, hi);
    if (!hi)
        return;
    r->n_rtes = RL_V2X_RSI_MAX_RTES;
    r->n_rtss = RL_V2X_RSI_MAX_RTSS;
    for (int i = 0; i < r->n_rtes + r->n_rtss; i++) {
        bool rte = i < r->n_rtes;
        struct rl_v2x_rsi_item *it = rte ? &r->rtes[i] : &r->rtss[i - r->n_rtes];
        it->itemId = i % 2 ? 255 : 0;
        it->type = i % 2 ? 65535 : 0;
        it->eventSource = rte ? (i % 7 == 6 ? 6 + 1 : i % 6) : 0;
        it->has_pos = it->has_description = it->has_timeDetails = it->has_priority = true;
        it->has_eventRadius = it->has_eventConfidence = rte;
        edge_llv(&it->pos, i % 7, i % 7, i % 2);
        it->eventRadius = 65535;
        it->eventConfidence = 200;
        build_description(&it->description, i % 2, i < 2 ? 512 : i % 2 ? 2 : 1);
        it->timeDetails = (struct rl_v2x_rsi_time){i % 2, true, true, 0, 527040, 39};
        it->priority = 0xe0;
        if (rte) {
            it->referencePaths = take(&r->n_path_pool, 8);
            for (int p = 0; p < 8; p++) {
                struct rl_v2x_ref_path *rp = &r->path_pool[it->referencePaths.first + p];
                rp->pathRadius = p % 2 ? 0 : 65535;
                rp->activePath = take(&r->n_path_point_pool, 8);
                for (int k = 0; k < 8; k++)
                    edge_llv(&r->path_point_pool[rp->activePath.first + k], k % 7, k - 1, k % 2);
            }
            it->referenceLinks = take(&r->n_link_pool, 16);
            for (int k = 0; k < 16; k++) {
                struct rl_v2x_ref_link *rl = &r->link_pool[it->referenceLinks.first + k];
                set_node_ref(&rl->upstreamNodeId, k % 2, k);
                set_node_ref(&rl->downstreamNodeId, k % 2 == 0, 65535);
                rl->has_referenceLanes = k % 3 == 0;
                rl->referenceLanes = 0xfffe;
            }
        }
    }
}

/* variant 0: one participant, nothing optional, minima; 1: 16 participants
 * with everything at its maximum. */
static void build_rsm(struct rl_v2x_msg *m, int variant)
{
    memset(m, 0, sizeof(*m));
    m->kind = RL_V2X_RSM;
    struct rl_v2x_rsm *r = &m->u.rsm;
    bool hi = variant == 1;
    r->msgCnt = hi ? 127 : 0;
    memset(r->id, hi ? 0xff : 0, 8);
    max_pos3d(&r->refPos, hi);
    r->n_participants = hi ? RL_V2X_RSM_MAX_PARTICIPANTS : 1;
    for (int i = 0; i < r->n_participants; i++) {
        struct rl_v2x_participant *p = &r->participants[i];
        edge_llv(&p->pos, hi ? i % 7 : RL_V2X_LL1, hi ? i % 8 - 1 : -1, hi);
        p->accelSet = (struct rl_v2x_accel4){-2000, -2000, -127, -32767};
        if (!hi)
            continue;
        p->ptcType = i % 6 == 5 ? 5 + 1 : i % 5;
        p->ptcId = 65535 - i;
        p->source = i % 9 == 8 ? 8 : i % 8;
        p->has_id = p->has_transmission = p->has_angle = true;
        p->has_motionCfd = p->has_accelSet = p->has_vehicleClass = true;
        memset(p->id, 0xa5, 8);
        p->secMark = 65535;
        p->posConfidence = (struct rl_v2x_pos_confidence){15, true, 15};
        p->transmission = 7;
        p->speed = 8191;
        p->heading = 28800;
        p->angle = -126;
        max_motion(&p->motionCfd);
        p->accelSet = (struct rl_v2x_accel4){2001, 2001, 127, 32767};
        p->size = (struct rl_v2x_vehicle_size){1023, 4095, true, 127};
        p->vehicleClass = (struct rl_v2x_vehicle_class){255, true, 15};
    }
}

typedef void (*builder_fn)(struct rl_v2x_msg *m, int variant);
static const struct {
    const char *name;
    builder_fn build;
    int variants;
} builders[] = {
    {"bsm", build_bsm, 3}, {"spat", build_spat, 4}, {"map", build_map, 3},
    {"rsi", build_rsi, 2}, {"rsm", build_rsm, 2},
};

/* ---- round trips --------------------------------------------------------- */

static void test_round_trips(void **state)
{
    (void)state;
    struct rl_v2x_msg *m = new_msg();
    for (size_t b = 0; b < sizeof(builders) / sizeof(builders[0]); b++)
        for (int v = 0; v < builders[b].variants; v++) {
            char what[32];
            snprintf(what, sizeof(what), "%s variant %d", builders[b].name, v);
            builders[b].build(m, v);
            round_trip(m, what);
        }
    free(m);
}

static void test_json_shape(void **state)
{
    (void)state;
    struct rl_v2x_msg *m = new_msg();
    build_spat(m, 3);
    char *j = json_of(m);
    assert_non_null(strstr(j, "{\"type\":\"v2x.csae53.SPAT\",\"msgCnt\":0,\"intersections\":[{"));
    assert_non_null(strstr(j, "\"light\":\"unknown-extension-4\""));
    free(j);
    build_map(m, 1);
    j = json_of(m);
    assert_non_null(strstr(j, "\"laneType\":{\"vehicle\":{\"value\":\"ff\",\"length\":8}}"));
    assert_non_null(strstr(j, "\"laneType\":{\"crosswalk\":\"ffff\"}"));
    assert_non_null(strstr(j, "\"type\":\"unknown-extension-1\""));
    assert_non_null(strstr(j, "\"maneuvers\":\"fff0\""));
    assert_non_null(strstr(j, "\"offsetLL\":{\"position-LL1\":{\"lon\":"));
    free(j);
    free(m);
}

/* ---- malformed input ----------------------------------------------------- */

/* Every proper prefix of every sample fails with a path, and never crashes. */
static void test_truncated(void **state)
{
    (void)state;
    struct rl_v2x_msg *m = new_msg(), *d = new_msg();
    uint8_t *buf = malloc(BUF_BYTES);
    assert_non_null(buf);
    for (size_t b = 0; b < sizeof(builders) / sizeof(builders[0]); b++)
        for (int v = 0; v < builders[b].variants; v++) {
            builders[b].build(m, v);
            size_t n = encode_or_fail(m, buf, BUF_BYTES);
            for (size_t k = 0; k < n; k++) {
                char err[512] = "";
                uint8_t *cut = malloc(k ? k : 1); /* exact size: ASan sees overreads */
                assert_non_null(cut);
                memcpy(cut, buf, k);
                int rc = rl_v2x_decode(cut, k, d, err, sizeof(err));
                free(cut);
                if (rc == 0)
                    fail_msg("%s variant %d: prefix of %zu/%zu bytes decoded", builders[b].name, v,
                             k, n);
                assert_int_equal(rc, RL_ETRUNC);
                assert_non_null(strstr(err, "need "));
                assert_non_null(strstr(err, " left"));
            }
        }
    /* The path names the field: a SPAT cut inside its first phase state. */
    build_spat(m, 1);
    size_t n = encode_or_fail(m, buf, BUF_BYTES);
    (void)n;
    char err[512];
    assert_int_equal(rl_v2x_decode(buf, 80, d, err, sizeof(err)), RL_ETRUNC);
    assert_non_null(strstr(err, "SPAT.intersections[0].phases[0].phaseStates["));
    assert_true(strncmp(err, "SPAT.", 5) == 0);
    free(buf);
    free(m);
    free(d);
}

/* Deterministic garbage: decode may fail (with a message) or succeed; a
 * success re-encodes and decodes to the same JSON. */
static void test_garbage(void **state)
{
    (void)state;
    struct rl_v2x_msg *m = new_msg(), *d = new_msg();
    uint8_t *out = malloc(BUF_BYTES);
    uint32_t x = 12345;
    int ok = 0;
    assert_non_null(out);
    for (int iter = 0; iter < 5000; iter++) {
        uint8_t in[96];
        size_t len = 1 + iter % sizeof(in);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            in[i] = (uint8_t)(x >> 16);
        }
        in[0] &= 0x7f; /* mostly root MessageFrame alternatives */
        char err[512] = "";
        int rc = rl_v2x_decode(in, len, m, err, sizeof(err));
        if (rc) {
            assert_true(err[0] != '\0');
            continue;
        }
        ok++;
        char *j1 = json_of(m);
        size_t n;
        m->ext_skipped = 0;
        rc = rl_v2x_encode(m, out, BUF_BYTES, &n, err, sizeof(err));
        if (rc) {
            assert_non_null(strstr(err, "unknown extension"));
            free(j1);
            continue;
        }
        assert_int_equal(rl_v2x_decode(out, n, d, err, sizeof(err)), 0);
        char *j2 = json_of(m), *j3 = json_of(d);
        assert_string_equal(j2, j3);
        free(j1);
        free(j2);
        free(j3);
    }
    print_message("garbage: %d of 5000 decoded\n", ok);
    free(out);
    free(m);
    free(d);
}

/* Bit flips, cuts and extensions of every valid sample: whatever decodes
 * re-encodes (unless it holds an unknown CHOICE extension) and decodes to
 * the same JSON; whatever does not decode says why. */
static void test_mutations(void **state)
{
    (void)state;
    struct rl_v2x_msg *m = new_msg(), *d = new_msg();
    uint8_t *orig = malloc(BUF_BYTES), *mut = malloc(BUF_BYTES + 8), *out = malloc(BUF_BYTES);
    uint32_t x = 777;
    int decoded = 0, total = 0;
    assert_non_null(orig);
    assert_non_null(mut);
    assert_non_null(out);
    for (size_t b = 0; b < sizeof(builders) / sizeof(builders[0]); b++)
        for (int v = 0; v < builders[b].variants; v++) {
            builders[b].build(m, v);
            size_t n = encode_or_fail(m, orig, BUF_BYTES);
            for (int iter = 0; iter < 400; iter++) {
                size_t len = n;
                memcpy(mut, orig, n);
                x = x * 1103515245u + 12345u;
                int flips = 1 + (int)((x >> 16) % 3);
                for (int f = 0; f < flips; f++) {
                    x = x * 1103515245u + 12345u;
                    size_t bit = (x >> 8) % (n * 8);
                    mut[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
                }
                x = x * 1103515245u + 12345u;
                if ((x >> 16) % 8 == 0)
                    len = (x >> 4) % n + 1;
                else if ((x >> 16) % 8 == 1)
                    mut[len++] = (uint8_t)x;
                char err[512] = "";
                total++;
                if (rl_v2x_decode(mut, len, d, err, sizeof(err))) {
                    assert_true(err[0] != '\0');
                    continue;
                }
                decoded++;
                size_t on;
                d->ext_skipped = 0;
                if (rl_v2x_encode(d, out, BUF_BYTES, &on, err, sizeof(err))) {
                    assert_non_null(strstr(err, "unknown extension"));
                    continue;
                }
                assert_int_equal(rl_v2x_decode(out, on, m, err, sizeof(err)), 0);
                char *j1 = json_text(d, iter % 16 == 0), *j2 = json_text(m, false);
                assert_string_equal(j1, j2);
                free(j1);
                free(j2);
                builders[b].build(m, v);
            }
        }
    print_message("mutations: %d of %d decoded\n", decoded, total);
    free(orig);
    free(mut);
    free(out);
    free(m);
    free(d);
}

static void test_encode_errors(void **state)
{
    (void)state;
    struct rl_v2x_msg *m = new_msg();
    uint8_t buf[2048];
    size_t n;
    char err[512];
    build_spat(m, 1);
    m->u.spat.msgCnt = 128;
    assert_int_equal(rl_v2x_encode(m, buf, sizeof(buf), &n, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "SPAT.msgCnt: value 128 outside 0..127");
    build_spat(m, 1);
    m->u.spat.state_pool[20].timing.likelyEnd = 36002;
    assert_int_equal(rl_v2x_encode(m, buf, sizeof(buf), &n, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "SPAT.intersections[0].phases[1].phaseStates[4].timing."
                                "counting.likelyEndTime: value 36002 outside 0..36001"));
    build_spat(m, 0);
    m->u.spat.intersections[0].phases.count = 17;
    assert_int_equal(rl_v2x_encode(m, buf, sizeof(buf), &n, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "SPAT.intersections[0].phases: items 0..17 outside the 1 filled"));
    build_spat(m, 0);
    m->u.spat.n_intersections = 0;
    assert_int_equal(rl_v2x_encode(m, buf, sizeof(buf), &n, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "SPAT.intersections: 0 items, need 1..32"));
    build_rsm(m, 1);
    m->u.rsm.participants[3].pos.ll_kind = 9;
    assert_int_equal(rl_v2x_encode(m, buf, sizeof(buf), &n, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "RSM.participants[3].pos.offsetLL"));
    build_map(m, 1);
    m->u.map.nodes[0].name[0] = (char)0xc8;
    assert_int_equal(rl_v2x_encode(m, buf, sizeof(buf), &n, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "MAP.nodes[0].name: character 0xc8"));
    build_bsm(m, 1);
    assert_int_equal(rl_v2x_encode(m, buf, 20, &n, err, sizeof(err)), RL_ETOOBIG);
    assert_non_null(strstr(err, "output full"));
    m->kind = RL_V2X_KIND_EXT + 1;
    assert_int_equal(rl_v2x_encode(m, buf, sizeof(buf), &n, err, sizeof(err)), -EINVAL);
    free(m);
}

/* More phases than the pool holds, written by hand: "too many", no crash. */
static void test_too_many(void **state)
{
    (void)state;
    uint8_t buf[4096];
    struct rl_uper_w w;
    struct rl_v2x_msg *m = new_msg();
    char err[512];
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_bits(&w, 1, 0), 0);      /* MessageFrame root */
    assert_int_equal(rl__uper_write_cons(&w, 0, 4, 3), 0);   /* spatFrame */
    assert_int_equal(rl__uper_write_bits(&w, 4, 0), 0);      /* ext, no moy/ts/name */
    assert_int_equal(rl__uper_write_cons(&w, 0, 127, 1), 0); /* msgCnt */
    assert_int_equal(rl__uper_write_cons(&w, 1, 32, 9), 0);  /* 9 intersections */
    for (int i = 0; i < 9; i++) {
        assert_int_equal(rl__uper_write_bits(&w, 4, 0), 0);  /* ext, no options */
        assert_int_equal(rl__uper_write_bits(&w, 1, 0), 0);  /* no region */
        assert_int_equal(rl__uper_write_bits(&w, 16, i), 0); /* id */
        assert_int_equal(rl__uper_write_bits(&w, 16, 0), 0); /* status */
        assert_int_equal(rl__uper_write_cons(&w, 1, 16, 16), 0);
        for (int p = 0; p < 16; p++) {
            assert_int_equal(rl__uper_write_bits(&w, 8, p), 0); /* id */
            assert_int_equal(rl__uper_write_cons(&w, 1, 16, 1), 0);
            assert_int_equal(rl__uper_write_bits(&w, 2, 0), 0); /* ext, no timing */
            assert_int_equal(rl__uper_write_bits(&w, 1, 0), 0); /* light root */
            assert_int_equal(rl__uper_write_cons(&w, 0, 8, 3), 0);
        }
    }
    int rc = rl_v2x_decode(buf, rl__uper_w_bytes(&w), m, err, sizeof(err));
    assert_int_equal(rc, RL_ETOOBIG);
    assert_non_null(strstr(err, "SPAT.intersections[8].phases: too many"));
    free(m);
}

static void test_frame_extensions(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct rl_uper_w w;
    struct rl_v2x_msg *m = new_msg();
    char err[512];
    static const uint8_t blob[4] = {9, 8, 7, 6};
    /* An unknown MessageFrame alternative: reported, not mis-decoded. */
    rl__uper_w_init(&w, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_bits(&w, 1, 1), 0);
    assert_int_equal(rl__uper_write_nsnn(&w, 2), 0);
    assert_int_equal(rl__uper_write_open(&w, blob, sizeof(blob)), 0);
    assert_int_equal(rl_v2x_decode(buf, rl__uper_w_bytes(&w), m, err, sizeof(err)), 0);
    assert_int_equal(m->kind, RL_V2X_KIND_EXT + 2);
    char *j = json_of(m);
    assert_string_equal(j, "{\"type\":\"v2x.csae53.unknown\",\"messageFrameExtension\":2}");
    free(j);
    /* SEQUENCE extension additions after a root RSM: skipped and counted. */
    build_rsm(m, 0);
    size_t n = encode_or_fail(m, buf, sizeof(buf));
    assert_true(n < 200);
    /* Root bits by the walker, then the additions by hand. */
    struct rl_per c;
    rl__per_init_encode(&c, buf, sizeof(buf));
    assert_int_equal(rl__uper_write_bits(&c.w, 1, 0), 0);
    assert_int_equal(rl__uper_write_cons(&c.w, 0, 4, RL_V2X_RSM), 0);
    size_t at = c.w.pos;
    rl__v2x_rsm(&c, "RSM", &m->u.rsm);
    assert_int_equal(c.err, 0);
    buf[at / 8] |= (uint8_t)(0x80 >> (at % 8)); /* set the RSM extension bit */
    assert_int_equal(rl__uper_write_nslen(&c.w, 2), 0);
    assert_int_equal(rl__uper_write_bits(&c.w, 2, 3), 0);
    assert_int_equal(rl__uper_write_open(&c.w, blob, 1), 0);
    assert_int_equal(rl__uper_write_open(&c.w, blob, 4), 0);
    struct rl_v2x_msg *d = new_msg();
    assert_int_equal(rl_v2x_decode(buf, rl__uper_w_bytes(&c.w), d, err, sizeof(err)), 0);
    assert_int_equal(d->ext_skipped, 2);
    j = json_of(d);
    assert_non_null(strstr(j, "\"unknownExtensions\":2"));
    free(j);
    /* Trailing octets after a complete frame are corrupt. */
    n = encode_or_fail(m, buf, sizeof(buf));
    buf[n] = 0;
    assert_int_equal(rl_v2x_decode(buf, n + 1, d, err, sizeof(err)), RL_ECORRUPT);
    assert_non_null(strstr(err, "1 trailing octets"));
    /* Fragmented length inside an open type. */
    uint8_t frag[4];
    rl__uper_w_init(&w, frag, sizeof(frag));
    assert_int_equal(rl__uper_write_bits(&w, 1, 1), 0);
    assert_int_equal(rl__uper_write_nsnn(&w, 0), 0);
    assert_int_equal(rl__uper_write_bits(&w, 8, 0xc1), 0);
    assert_int_equal(rl_v2x_decode(frag, sizeof(frag), d, err, sizeof(err)), RL_EUNSUPPORTED);
    assert_non_null(strstr(err, "fragmented length"));
    free(d);
    free(m);
}

/* ---- framing and decoders -------------------------------------------------- */

static void test_framing(void **state)
{
    (void)state;
    struct rl_v2x_msg *m = new_msg();
    uint8_t frame[4096], dg[4200];
    size_t n, dn;
    char err[256];
    struct rl_v2x_frames fr;
    build_spat(m, 1);
    n = encode_or_fail(m, frame, sizeof(frame));
    /* Vendor header round trip. */
    assert_int_equal(
        rl_v2x_vendor_build("u_id_123", 1605336902333ull, frame, n, dg, sizeof(dg), &dn), 0);
    assert_int_equal(dn, 18 + n);
    assert_int_equal(rl_v2x_unframe(NULL, 0, dg, dn, &fr, err, sizeof(err)), 0);
    assert_int_equal(fr.framing, RL_V2X_FRAMING_VENDOR);
    assert_string_equal(fr.vendor_id, "u_id_123");
    assert_true(fr.vendor_time_ms == 1605336902333ull);
    assert_int_equal(fr.n, 1);
    assert_ptr_equal(fr.f[0].p, dg + 18);
    assert_int_equal(fr.f[0].len, n);
    assert_int_equal(rl_v2x_vendor_build("x", 0, frame, n, dg, 10, &dn), RL_ETOOBIG);
    /* A batch: count, then (LE16 length, frame) each. */
    uint8_t b1[64], b2[512];
    build_rsm(m, 0);
    size_t n1 = encode_or_fail(m, b1, sizeof(b1));
    build_bsm(m, 1);
    size_t n2 = encode_or_fail(m, b2, sizeof(b2));
    memcpy(dg, "OBU_0001", 8);
    memset(dg + 8, 0, 8);
    dg[16] = 2;
    dg[17] = (uint8_t)n1;
    dg[18] = (uint8_t)(n1 >> 8);
    memcpy(dg + 19, b1, n1);
    dg[19 + n1] = (uint8_t)n2;
    dg[20 + n1] = (uint8_t)(n2 >> 8);
    memcpy(dg + 21 + n1, b2, n2);
    dn = 21 + n1 + n2;
    assert_int_equal(rl_v2x_unframe(NULL, 0, dg, dn, &fr, err, sizeof(err)), 0);
    assert_true(fr.batch);
    assert_int_equal(fr.n, 2);
    assert_int_equal(fr.f[1].len, n2);
    /* One byte short: no longer a batch, taken as raw (and fails to decode). */
    assert_int_equal(rl_v2x_unframe(NULL, 0, dg, dn - 1, &fr, err, sizeof(err)), 0);
    assert_int_equal(fr.framing, RL_V2X_FRAMING_RAW);
    /* DSMP with AIDs of every p-encoded size. */
    static const uint32_t aids[] = {0,     111,   127,     128,     3618,
                                    16511, 16512, 2113663, 2113664, 270549119};
    static const size_t aid_len[] = {1, 1, 1, 2, 2, 2, 3, 3, 4, 4};
    for (size_t i = 0; i < sizeof(aids) / sizeof(aids[0]); i++) {
        assert_int_equal(rl_v2x_dsmp_build(aids[i], frame, n, dg, sizeof(dg), &dn), 0);
        assert_int_equal(dn, 1 + aid_len[i] + 2 + n);
        assert_int_equal(dg[0], 0);
        assert_int_equal(rl_v2x_unframe(NULL, 0, dg, dn, &fr, err, sizeof(err)), 0);
        assert_int_equal(fr.framing, RL_V2X_FRAMING_DSMP);
        assert_int_equal(fr.aid, aids[i]);
        assert_ptr_equal(fr.f[0].p, dg + 3 + aid_len[i]);
    }
    assert_int_equal(rl_v2x_dsmp_build(270549120, frame, n, dg, sizeof(dg), &dn), -EINVAL);
    /* Configuration: AIDs accepted, ports with a fixed framing. */
    struct rl_v2x_config cfg;
    rl_v2x_config_default(&cfg);
    cfg.n_aids = 1;
    cfg.aids[0] = 3619;
    assert_int_equal(rl_v2x_dsmp_build(3618, frame, n, dg, sizeof(dg), &dn), 0);
    assert_int_equal(rl_v2x_unframe(&cfg, 0, dg, dn, &fr, err, sizeof(err)), RL_ENOTFOUND);
    assert_string_equal(err, "DSMP AID 3618 is not configured as C-V2X");
    cfg.n_ports = 1;
    cfg.ports[0].port = 30000;
    cfg.ports[0].framing = RL_V2X_FRAMING_VENDOR;
    assert_int_equal(rl_v2x_unframe(&cfg, 30000, dg, dn, &fr, err, sizeof(err)), RL_ECORRUPT);
    cfg.ports[0].framing = RL_V2X_FRAMING_RAW;
    assert_int_equal(rl_v2x_unframe(&cfg, 30000, dg, dn, &fr, err, sizeof(err)), 0);
    assert_int_equal(fr.framing, RL_V2X_FRAMING_RAW);
    dg[0] = 0x10; /* option indicator: extension fields */
    cfg.ports[0].framing = RL_V2X_FRAMING_DSMP;
    assert_int_equal(rl_v2x_unframe(&cfg, 30000, dg, dn, &fr, err, sizeof(err)), RL_EUNSUPPORTED);
    assert_int_equal(rl_v2x_unframe(&cfg, 0, dg, dn, &fr, err, sizeof(err)), 0);
    assert_int_equal(fr.framing, RL_V2X_FRAMING_RAW);
    assert_int_equal(rl_v2x_unframe(NULL, 0, dg, 0, &fr, err, sizeof(err)), RL_ETRUNC);
    free(m);
}

static struct json_value *run_decoder(const struct rl_decoder *dec, const struct rl_decode_ctx *ctx,
                                      const uint8_t *p, size_t len, int *rc)
{
    struct rl_payload pl = {.data = p, .len = len, .linktype = RL_LINKTYPE_PAYLOAD};
    struct rl_jw jw;
    char err[256] = "", perr[128];
    rl_jw_init(&jw, 1 << 22);
    rl_jw_obj_begin(&jw);
    *rc = dec->decode(ctx, &pl, &jw, err, sizeof(err));
    if (*rc) {
        rl_jw_release(&jw);
        assert_true(err[0] != '\0');
        return NULL;
    }
    rl_jw_obj_end(&jw);
    const char *s = rl_jw_str_out(&jw, NULL);
    struct json_value *v = json_parse(s, strlen(s), perr, sizeof(perr));
    if (!v)
        fail_msg("invalid JSON (%s): %s", perr, s);
    rl_jw_release(&jw);
    return v;
}

static const char *jstr(const struct json_value *v, const char *key)
{
    const struct json_value *x = json_get(v, key);
    assert_non_null(x);
    return x->text;
}

static void test_csae_decoder(void **state)
{
    (void)state;
    struct rl_v2x_msg *m = new_msg();
    uint8_t frame[4096], dg[4200];
    size_t n, dn;
    int rc;
    struct rl_v2x_config cfg;
    struct rl_decode_ctx ctx = {0};
    rl_v2x_config_default(&cfg);
    ctx.v2x = &cfg;
    build_map(m, 1);
    n = encode_or_fail(m, frame, sizeof(frame));
    assert_int_equal(rl_v2x_vendor_build("RSU-7", 1, frame, n, dg, sizeof(dg), &dn), 0);
    struct rl_payload pl = {.data = dg, .len = dn, .linktype = RL_LINKTYPE_PAYLOAD};
    assert_int_equal(rl_decoder_v2x_csae.detect(&pl), 95);
    pl.data = frame;
    pl.len = n;
    assert_int_equal(rl_decoder_v2x_csae.detect(&pl), 60);
    assert_string_equal(rl_decoder_v2x_csae.name, "v2x.csae");
    struct json_value *v = run_decoder(&rl_decoder_v2x_csae, &ctx, dg, dn, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(jstr(v, "type"), "v2x.csae53.MAP");
    assert_string_equal(jstr(v, "msgCnt"), "127");
    json_free(v);
    v = run_decoder(&rl_decoder_v2x_csae, NULL, frame, n, &rc);
    assert_int_equal(rc, 0);
    json_free(v);
    /* A broken frame is an error, not a crash. */
    assert_null(run_decoder(&rl_decoder_v2x_csae, &ctx, frame, n / 2, &rc));
    assert_int_equal(rc, RL_ETRUNC);
    /* Unrelated bytes are not detected. */
    static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    pl.data = junk;
    pl.len = sizeof(junk) - 1;
    assert_int_equal(rl_decoder_v2x_csae.detect(&pl), 0);
    free(m);
}

/* A J2735 BSM built by hand (BSMcoreData, 290 bits) inside 1609.2. */
static size_t j2735_bsm(uint8_t *out, size_t cap, int32_t lat, int32_t lon)
{
    uint8_t val[64];
    struct rl_uper_w w;
    rl__uper_w_init(&w, val, sizeof(val));
    assert_int_equal(rl__uper_write_bits(&w, 3, 0), 0); /* ext, no partII/regional */
    assert_int_equal(rl__uper_write_cons(&w, 0, 127, 37), 0);
    static const uint8_t id[4] = {0xde, 0xad, 0xbe, 0xef};
    assert_int_equal(rl__uper_write_octets(&w, id, 4), 0);
    assert_int_equal(rl__uper_write_cons(&w, 0, 65535, 25399), 0);
    assert_int_equal(rl__uper_write_cons(&w, -900000000, 900000001, lat), 0);
    assert_int_equal(rl__uper_write_cons(&w, -1799999999, 1800000001, lon), 0);
    assert_int_equal(rl__uper_write_cons(&w, -4096, 61439, 14409), 0);
    assert_int_equal(rl__uper_write_bits(&w, 32, 0xffffffffu), 0); /* accuracy */
    assert_int_equal(rl__uper_write_cons(&w, 0, 7, 2), 0);
    assert_int_equal(rl__uper_write_cons(&w, 0, 8191, 14), 0);
    assert_int_equal(rl__uper_write_cons(&w, 0, 28800, 25060), 0);
    assert_int_equal(rl__uper_write_cons(&w, -126, 127, 127), 0);
    assert_int_equal(rl__uper_write_cons(&w, -2000, 2001, 2001), 0);
    assert_int_equal(rl__uper_write_cons(&w, -2000, 2001, -2000), 0);
    assert_int_equal(rl__uper_write_cons(&w, -127, 127, -127), 0);
    assert_int_equal(rl__uper_write_cons(&w, -32767, 32767, 0), 0);
    assert_int_equal(rl__uper_write_bits(&w, 5, 0x10), 0);
    assert_int_equal(rl__uper_write_bits(&w, 10, 0), 0); /* traction..auxBrakes */
    assert_int_equal(rl__uper_write_cons(&w, 0, 1023, 180), 0);
    assert_int_equal(rl__uper_write_cons(&w, 0, 4095, 480), 0);
    assert_int_equal(w.pos, 3 + 290);
    size_t vn = rl__uper_w_bytes(&w);
    uint8_t mf[80];
    rl__uper_w_init(&w, mf, sizeof(mf));
    assert_int_equal(rl__uper_write_bits(&w, 16, 20), 0);
    assert_int_equal(rl__uper_write_open(&w, val, vn), 0);
    size_t fn = rl__uper_w_bytes(&w);
    assert_true(cap >= fn + 3);
    out[0] = 3;
    out[1] = 0x80;
    out[2] = (uint8_t)fn;
    memcpy(out + 3, mf, fn);
    return fn + 3;
}

static void test_j2735_decoder(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = j2735_bsm(buf, sizeof(buf), 405659938, -1050317754), off, fl;
    uint32_t id;
    int rc;
    assert_int_equal(rl_j2735_find_frame(buf, n, &off, &fl, &id), 0);
    assert_int_equal(off, 3);
    assert_int_equal(fl, n - 3);
    assert_int_equal(id, 20);
    struct rl_payload pl = {.data = buf, .len = n, .linktype = RL_LINKTYPE_PAYLOAD};
    assert_int_equal(rl_decoder_v2x_j2735.detect(&pl), 85);
    struct json_value *v = run_decoder(&rl_decoder_v2x_j2735, NULL, buf, n, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(jstr(v, "type"), "v2x.j2735.BSM");
    const struct json_value *core = json_get(v, "coreData");
    assert_non_null(core);
    assert_string_equal(jstr(core, "msgCnt"), "37");
    assert_string_equal(jstr(core, "id"), "deadbeef");
    assert_string_equal(jstr(core, "secMark"), "25399");
    assert_string_equal(jstr(core, "lat"), "405659938");
    assert_string_equal(jstr(core, "long"), "-1050317754");
    assert_string_equal(jstr(core, "elev"), "14409");
    assert_string_equal(jstr(core, "speed"), "14");
    assert_string_equal(jstr(core, "heading"), "25060");
    assert_string_equal(jstr(core, "transmission"), "forwardGears");
    assert_string_equal(jstr(json_get(core, "brakes"), "wheelBrakes"), "80");
    json_free(v);
    /* Another message id is reported as unknown with its id. */
    uint8_t other[8] = {0x00, 0x13, 0x03, 0x01, 0x02, 0x03};
    v = run_decoder(&rl_decoder_v2x_j2735, NULL, other, 6, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(jstr(v, "type"), "v2x.j2735.unknown");
    assert_string_equal(jstr(v, "messageId"), "19");
    json_free(v);
    /* Cut short: an error naming the BSM core. */
    buf[2] = (uint8_t)(n - 3); /* unchanged length, fewer bytes given below */
    char err[256];
    struct rl_j2735_bsm_core core2;
    assert_int_equal(rl_j2735_decode(buf + 3, 20, &id, &core2, err, sizeof(err)), RL_ETRUNC);
    assert_non_null(strstr(err, "MessageFrame: open type"));
    /* Nothing J2735 in text. */
    static const uint8_t txt[] = "$GPGGA,123519,4807.038,N";
    assert_int_equal(rl_j2735_find_frame(txt, sizeof(txt) - 1, &off, &fl, &id), RL_ENOTFOUND);
}

/* ---- seed corpus for fuzz_v2x ------------------------------------------------ */

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    int rc = fclose(f);
    return w == n && rc == 0 ? 0 : -1;
}

/* Every sample message raw, behind the vendor header and in DSMP, plus a
 * J2735 BSM in 1609.2; all made by this encoder, none copied from ../shared. */
static int write_corpus(const char *dir)
{
    struct rl_v2x_msg *m = calloc(1, sizeof(*m));
    uint8_t *frame = malloc(BUF_BYTES), *dg = malloc(BUF_BYTES + 64);
    int rc = -1;
    if (!m || !frame || !dg)
        goto fail;
    for (size_t b = 0; b < sizeof(builders) / sizeof(builders[0]); b++)
        for (int v = 0; v < builders[b].variants; v++) {
            char name[64], e[256];
            size_t n, dn;
            builders[b].build(m, v);
            if (rl_v2x_encode(m, frame, BUF_BYTES, &n, e, sizeof(e)))
                goto fail;
            snprintf(name, sizeof(name), "%s-%d.uper", builders[b].name, v);
            if (write_file(dir, name, frame, n))
                goto fail;
            if (rl_v2x_vendor_build("u_id_001", 1605336902333ull, frame, n, dg, BUF_BYTES + 64,
                                    &dn) ||
                (snprintf(name, sizeof(name), "%s-%d.vendor", builders[b].name, v),
                 write_file(dir, name, dg, dn)))
                goto fail;
            if (rl_v2x_dsmp_build(3600 + (uint32_t)b, frame, n, dg, BUF_BYTES + 64, &dn) ||
                (snprintf(name, sizeof(name), "%s-%d.dsmp", builders[b].name, v),
                 write_file(dir, name, dg, dn)))
                goto fail;
        }
    {
        /* A vendor batch of two BSMs (count, then LE16 length + frame each). */
        size_t n0, n1, at = 17;
        char e[256];
        build_bsm(m, 0);
        if (rl_v2x_encode(m, frame, 1024, &n0, e, sizeof(e)))
            goto fail;
        build_bsm(m, 1);
        if (rl_v2x_encode(m, frame + 1024, 1024, &n1, e, sizeof(e)))
            goto fail;
        memcpy(dg, "OBU_0001", 8);
        memset(dg + 8, 0, 8);
        dg[16] = 2;
        dg[at++] = (uint8_t)n0;
        dg[at++] = (uint8_t)(n0 >> 8);
        memcpy(dg + at, frame, n0);
        at += n0;
        dg[at++] = (uint8_t)n1;
        dg[at++] = (uint8_t)(n1 >> 8);
        memcpy(dg + at, frame + 1024, n1);
        if (write_file(dir, "bsm-batch.vendor", dg, at + n1))
            goto fail;
    }
    {
        uint8_t j[128];
        size_t n = j2735_bsm(j, sizeof(j), 410000000, -1080000000);
        if (write_file(dir, "j2735-bsm.1609dot2", j, n))
            goto fail;
    }
    rc = 0;
fail:
    free(m);
    free(frame);
    free(dg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
        if (write_corpus(argv[2])) {
            fprintf(stderr, "test_v2x: cannot write the corpus to '%s'\n", argv[2]);
            return 1;
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cons),
        cmocka_unit_test(test_semi_unc),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_normally_small),
        cmocka_unit_test(test_bits_octets_open),
        cmocka_unit_test(test_extension_bits),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_frame_extensions),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_csae_decoder),
        cmocka_unit_test(test_j2735_decoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
