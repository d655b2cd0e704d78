/* SAE J2735 (2016) MessageFrame detection and the BasicSafetyMessage core
 * data (BSMcoreData, "Part I"), and the "v2x.j2735" decoder of decode.h.
 *
 * MessageFrame ::= SEQUENCE { messageId DSRCmsgID (0..32767), value open
 * type, ... } in UPER is an extension bit, 15 bits of id, a length and the
 * value: a BSM starts 00 14. It arrives bare, inside IEEE 1609.2
 * Ieee1609Dot2Data (protocolVersion 3, content unsecuredData [0] with an
 * OER length, or signedData whose payload holds the same), or after a log
 * header; frames are found by that structure (a known id whose length fits
 * the bytes left), not by position. BasicSafetyMessage ::= SEQUENCE {
 * coreData BSMcoreData, partII ... OPTIONAL, regional ... OPTIONAL, ... }
 * and BSMcoreData is a fixed layout of 290 bits (no optional members, no
 * extension marker): msgCnt 7, id 32, secMark 16, lat 31, long 32, elev 16,
 * accuracy 8+8+16, transmission 3, speed 13, heading 15, angle 8, accelSet
 * 12+12+8+16, brakes 5+2+2+2+2+2, size 10+12. Part II is not decoded. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "roadlog/v2x.h"
#include "uper.h"

#define J2735_ID_BSM   20
#define J2735_ID_FIRST 18 /* mapData */
#define J2735_ID_LAST  32 /* personalSafetyMessage */
/* Ids in use (incl. test messages 240..255) fit one octet after the 00. */
#define J2735_ID_MAX_BARE      255
#define IEEE1609DOT2_VERSION   3
#define IEEE1609DOT2_UNSECURED 0x80
#define IEEE1609DOT2_SIGNED    0x81

static const char *const transmission_ids[] = {
    "neutral",   "park",      "forwardGears", "reverseGears",
    "reserved1", "reserved2", "reserved3",    "unavailable",
};
static const char *const control_ids[] = {"unavailable", "off", "on", "engaged"};
static const char *const boost_ids[] = {"unavailable", "off", "on"};
static const char *const aux_ids[] = {"unavailable", "off", "on", "reserved"};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A MessageFrame header at p: id and total frame length, if its length
 * determinant fits the len bytes. */
static bool frame_at(const uint8_t *p, size_t len, uint32_t *id, size_t *frame_len)
{
    if (len < 4 || (p[0] & 0x80))
        return false;
    *id = (uint32_t)(p[0] & 0x7f) << 8 | p[1];
    size_t n, hdr;
    if ((p[2] & 0x80) == 0) {
        n = p[2];
        hdr = 3;
    } else if ((p[2] & 0xc0) == 0x80) {
        n = (size_t)(p[2] & 0x3f) << 8 | p[3];
        hdr = 4;
    } else {
        return false;
    }
    if (n == 0 || n > len - hdr)
        return false;
    *frame_len = hdr + n;
    return true;
}

static bool known_id(uint32_t id)
{
    return id >= J2735_ID_FIRST && id <= J2735_ID_LAST;
}

/* The OER length of 1609.2 unsecuredData at p: value and octets used. */
static size_t oer_length(const uint8_t *p, size_t len, size_t *n)
{
    if (len < 1)
        return 0;
    if ((p[0] & 0x80) == 0) {
        *n = p[0];
        return 1;
    }
    size_t k = p[0] & 0x7f;
    if (k == 0 || k > 2 || len < 1 + k)
        return 0;
    *n = 0;
    for (size_t i = 0; i < k; i++)
        *n = *n << 8 | p[1 + i];
    return 1 + k;
}

int rl_j2735_find_frame(const uint8_t *p, size_t len, size_t *off, size_t *frame_len,
                        uint32_t *message_id)
{
    uint32_t id;
    size_t fl;
    if (!p)
        return RL_ENOTFOUND;
    /* 1609.2 unsecured data holding exactly one frame (checked first: its
     * 03 80 header would also pass for a frame header). */
    if (len > 3 && p[0] == IEEE1609DOT2_VERSION && p[1] == IEEE1609DOT2_UNSECURED) {
        size_t n, k = oer_length(p + 2, len - 2, &n);
        if (k && n == len - 2 - k && frame_at(p + 2 + k, n, &id, &fl) && fl == n) {
            *off = 2 + k;
            *frame_len = fl;
            *message_id = id;
            return 0;
        }
    }
    /* A bare frame filling the payload. */
    if (frame_at(p, len, &id, &fl) && fl == len && id <= J2735_ID_MAX_BARE) {
        *off = 0;
        *frame_len = fl;
        *message_id = id;
        return 0;
    }
    /* Anywhere else (signed data, log headers): the first known id whose
     * length fits. */
    for (size_t i = 0; i + 4 <= len; i++) {
        if (p[i] == 0 && frame_at(p + i, len - i, &id, &fl) && known_id(id)) {
            *off = i;
            *frame_len = fl;
            *message_id = id;
            return 0;
        }
    }
    return RL_ENOTFOUND;
}

static int rd(struct rl_uper_r *r, int64_t lb, int64_t ub, int32_t *v)
{
    int64_t x;
    int rc = rl__uper_read_cons(r, lb, ub, &x);
    *v = (int32_t)x;
    return rc;
}

static int read_core(struct rl_uper_r *r, struct rl_j2735_bsm_core *b)
{
    uint64_t bits = 0;
    int rc = rd(r, 0, 127, &b->msgCnt);
    if (!rc)
        rc = rl__uper_read_octets(r, b->id, 4);
    if (!rc)
        rc = rd(r, 0, 65535, &b->secMark);
    if (!rc)
        rc = rd(r, -900000000, 900000001, &b->lat);
    if (!rc)
        rc = rd(r, -1799999999, 1800000001, &b->lon);
    if (!rc)
        rc = rd(r, -4096, 61439, &b->elev);
    if (!rc)
        rc = rd(r, 0, 255, &b->semiMajor);
    if (!rc)
        rc = rd(r, 0, 255, &b->semiMinor);
    if (!rc)
        rc = rd(r, 0, 65535, &b->orientation);
    if (!rc)
        rc = rd(r, 0, 7, &b->transmission);
    if (!rc)
        rc = rd(r, 0, 8191, &b->speed);
    if (!rc)
        rc = rd(r, 0, 28800, &b->heading);
    if (!rc)
        rc = rd(r, -126, 127, &b->angle);
    if (!rc)
        rc = rd(r, -2000, 2001, &b->accelLong);
    if (!rc)
        rc = rd(r, -2000, 2001, &b->accelLat);
    if (!rc)
        rc = rd(r, -127, 127, &b->accelVert);
    if (!rc)
        rc = rd(r, -32767, 32767, &b->accelYaw);
    if (!rc)
        rc = rl__uper_read_bits(r, 5, &bits);
    b->wheelBrakes = (uint32_t)bits;
    if (!rc)
        rc = rd(r, 0, 3, &b->traction);
    if (!rc)
        rc = rd(r, 0, 3, &b->abs);
    if (!rc)
        rc = rd(r, 0, 3, &b->scs);
    if (!rc)
        rc = rd(r, 0, 2, &b->brakeBoost);
    if (!rc)
        rc = rd(r, 0, 3, &b->auxBrakes);
    if (!rc)
        rc = rd(r, 0, 1023, &b->width);
    if (!rc)
        rc = rd(r, 0, 4095, &b->length);
    return rc;
}

int rl_j2735_decode(const uint8_t *p, size_t len, uint32_t *message_id,
                    struct rl_j2735_bsm_core *bsm, char *err, size_t errlen)
{
    struct rl_uper_r r, v;
    uint64_t ext = 0, id = 0, bits = 0;
    size_t n;
    rl__uper_r_init(&r, p, len);
    memset(bsm, 0, sizeof(*bsm));
    *message_id = 0;
    int rc = rl__uper_read_bits(&r, 1, &ext);
    if (!rc)
        rc = rl__uper_read_bits(&r, 15, &id);
    if (!rc)
        rc = rl__uper_read_open(&r, &v, &n);
    if (rc) {
        set_err(err, errlen, "MessageFrame: %s", r.msg);
        return rc;
    }
    *message_id = (uint32_t)id;
    if (id != J2735_ID_BSM)
        return 0;
    /* BasicSafetyMessage: extension bit, partII and regional present bits. */
    rc = rl__uper_read_bits(&v, 3, &bits);
    if (!rc)
        rc = read_core(&v, bsm);
    if (rc) {
        set_err(err, errlen, "BSM.coreData: %s", v.msg);
        return rc;
    }
    return 0;
}

/* ---- the "v2x.j2735" decoder --------------------------------------------- */

static int j2735_detect(const struct rl_payload *pl)
{
    size_t off, fl;
    uint32_t id;
    if (rl_j2735_find_frame(pl->data, pl->len, &off, &fl, &id))
        return 0;
    if (off == 0 && fl == pl->len)
        return known_id(id) ? 90 : 40;
    if (pl->data[0] == IEEE1609DOT2_VERSION)
        return 85;
    return 40;
}

static void json_enum(struct rl_jw *w, const char *key, const char *const *ids, int n, int32_t v)
{
    rl_jw_key(w, key);
    if (v >= 0 && v < n)
        rl_jw_str(w, ids[v]);
    else
        rl_jw_i64(w, v);
}

static void json_core(struct rl_jw *w, const struct rl_j2735_bsm_core *b)
{
    uint8_t wb = (uint8_t)(b->wheelBrakes << 3); /* 5 bits, left-aligned */
    rl_jw_key(w, "coreData");
    rl_jw_obj_begin(w);
    rl_jw_ki64(w, "msgCnt", b->msgCnt);
    rl_jw_key(w, "id");
    rl_jw_hex(w, b->id, sizeof(b->id));
    rl_jw_ki64(w, "secMark", b->secMark);
    rl_jw_ki64(w, "lat", b->lat);
    rl_jw_ki64(w, "long", b->lon);
    rl_jw_ki64(w, "elev", b->elev);
    rl_jw_key(w, "accuracy");
    rl_jw_obj_begin(w);
    rl_jw_ki64(w, "semiMajor", b->semiMajor);
    rl_jw_ki64(w, "semiMinor", b->semiMinor);
    rl_jw_ki64(w, "orientation", b->orientation);
    rl_jw_obj_end(w);
    json_enum(w, "transmission", transmission_ids, 8, b->transmission);
    rl_jw_ki64(w, "speed", b->speed);
    rl_jw_ki64(w, "heading", b->heading);
    rl_jw_ki64(w, "angle", b->angle);
    rl_jw_key(w, "accelSet");
    rl_jw_obj_begin(w);
    rl_jw_ki64(w, "long", b->accelLong);
    rl_jw_ki64(w, "lat", b->accelLat);
    rl_jw_ki64(w, "vert", b->accelVert);
    rl_jw_ki64(w, "yaw", b->accelYaw);
    rl_jw_obj_end(w);
    rl_jw_key(w, "brakes");
    rl_jw_obj_begin(w);
    rl_jw_key(w, "wheelBrakes");
    rl_jw_hex(w, &wb, 1);
    json_enum(w, "traction", control_ids, 4, b->traction);
    json_enum(w, "abs", control_ids, 4, b->abs);
    json_enum(w, "scs", control_ids, 4, b->scs);
    json_enum(w, "brakeBoost", boost_ids, 3, b->brakeBoost);
    json_enum(w, "auxBrakes", aux_ids, 4, b->auxBrakes);
    rl_jw_obj_end(w);
    rl_jw_key(w, "size");
    rl_jw_obj_begin(w);
    rl_jw_ki64(w, "width", b->width);
    rl_jw_ki64(w, "length", b->length);
    rl_jw_obj_end(w);
    rl_jw_obj_end(w);
}

static int j2735_decode(const struct rl_decode_ctx *ctx, const struct rl_payload *pl,
                        struct rl_jw *out, char *err, size_t err_len)
{
    size_t off, fl;
    uint32_t id;
    struct rl_j2735_bsm_core b;
    (void)ctx;
    if (rl_j2735_find_frame(pl->data, pl->len, &off, &fl, &id)) {
        set_err(err, err_len, "no J2735 MessageFrame in %zu bytes", pl->len);
        return RL_ENOTFOUND;
    }
    int rc = rl_j2735_decode(pl->data + off, fl, &id, &b, err, err_len);
    if (rc)
        return rc;
    rl_jw_kstr(out, "type", id == J2735_ID_BSM ? "v2x.j2735.BSM" : "v2x.j2735.unknown");
    rl_jw_ki64(out, "messageId", id);
    if (id == J2735_ID_BSM)
        json_core(out, &b);
    return 0;
}

const struct rl_decoder rl_decoder_v2x_j2735 = {
    .name = "v2x.j2735",
    .detect = j2735_detect,
    .decode = j2735_decode,
};
