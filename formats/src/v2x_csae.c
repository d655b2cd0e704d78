/* T/CSAE 53-2017 MessageFrame (module MsgFrame: CHOICE of bsmFrame,
 * mapFrame, rsmFrame, spatFrame, rsiFrame, ...) in unaligned PER: the public
 * decode / encode / JSON entry points of v2x.h, and the data frames shared by
 * the messages (modules DefPosition, DefPositionOffset, DefMotion,
 * DefAcceleration, VehSize, VehClass, MapNode). The messages themselves are
 * in v2x_csae_bsm.c, _map.c, _spat.c, _rsi.c, _rsm.c; the PER machinery in
 * uper.c / uper_walk.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "v2x_csae_internal.h"

/* Decoders keep one message on the stack (decode.h: no allocation per frame). */
_Static_assert(sizeof(struct rl_v2x_msg) <= 64 * 1024, "struct rl_v2x_msg outgrew 64 KB");

const char *const rl__v2x_time_confidence_ids[40] = {
    "unavailable",
    "time-100-000",
    "time-050-000",
    "time-020-000",
    "time-010-000",
    "time-002-000",
    "time-001-000",
    "time-000-500",
    "time-000-200",
    "time-000-100",
    "time-000-050",
    "time-000-020",
    "time-000-010",
    "time-000-005",
    "time-000-002",
    "time-000-001",
    "time-000-000-5",
    "time-000-000-2",
    "time-000-000-1",
    "time-000-000-05",
    "time-000-000-02",
    "time-000-000-01",
    "time-000-000-005",
    "time-000-000-002",
    "time-000-000-001",
    "time-000-000-000-5",
    "time-000-000-000-2",
    "time-000-000-000-1",
    "time-000-000-000-05",
    "time-000-000-000-02",
    "time-000-000-000-01",
    "time-000-000-000-005",
    "time-000-000-000-002",
    "time-000-000-000-001",
    "time-000-000-000-000-5",
    "time-000-000-000-000-2",
    "time-000-000-000-000-1",
    "time-000-000-000-000-05",
    "time-000-000-000-000-02",
    "time-000-000-000-000-01",
};

const char *const rl__v2x_transmission_ids[8] = {
    "neutral",   "park",      "forwardGears", "reverseGears",
    "reserved1", "reserved2", "reserved3",    "unavailable",
};

static const char *const position_confidence_ids[] = {
    "unavailable", "a500m", "a200m", "a100m", "a50m",  "a20m", "a10m", "a5m",
    "a2m",         "a1m",   "a50cm", "a20cm", "a10cm", "a5cm", "a2cm", "a1cm",
};

static const char *const elevation_confidence_ids[] = {
    "unavailable", "elev-500-00", "elev-200-00", "elev-100-00", "elev-050-00", "elev-020-00",
    "elev-010-00", "elev-005-00", "elev-002-00", "elev-001-00", "elev-000-50", "elev-000-20",
    "elev-000-10", "elev-000-05", "elev-000-02", "elev-000-01",
};

static const char *const speed_confidence_ids[] = {
    "unavailable", "prec100ms", "prec10ms",   "prec5ms",
    "prec1ms",     "prec0-1ms", "prec0-05ms", "prec0-01ms",
};

static const char *const heading_confidence_ids[] = {
    "unavailable", "prec10deg",   "prec05deg",   "prec01deg",
    "prec0-1deg",  "prec0-05deg", "prec0-01deg", "prec0-0125deg",
};

static const char *const steer_confidence_ids[] = {
    "unavailable",
    "prec2deg",
    "prec1deg",
    "prec0-02deg",
};

/* PositionOffsetLL alternatives and the bounds of their lon/lat. */
static const char *const offset_ll_alts[] = {
    "position-LL1", "position-LL2", "position-LL3",    "position-LL4",
    "position-LL5", "position-LL6", "position-LatLon",
};
static const int64_t offset_ll_bound[] = {2048, 8192, 32768, 131072, 2097152, 8388608};

/* VerticalOffset alternatives and their lower bounds (upper = -lb - 1). */
static const char *const vert_alts[] = {
    "offset1", "offset2", "offset3", "offset4", "offset5", "offset6", "elevation",
};
static const int64_t vert_bound[] = {64, 128, 256, 512, 1024, 2048};

void rl__v2x_position3d(struct rl_per *c, const char *name, struct rl_v2x_position3d *v)
{
    bool opt[1] = {v->has_elevation};
    if (rl__per_seq_begin(c, name, false, opt, 1)) {
        rl__per_int(c, "lat", &v->lat, -900000000, 900000001);
        rl__per_int(c, "long", &v->lon, -1799999999, 1800000001);
        if (opt[0])
            rl__per_int(c, "elevation", &v->elevation, -4096, 61439);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_elevation = opt[0];
}

void rl__v2x_node_ref(struct rl_per *c, const char *name, struct rl_v2x_node_ref *v)
{
    bool opt[1] = {v->has_region};
    if (rl__per_seq_begin(c, name, false, opt, 1)) {
        if (opt[0])
            rl__per_int(c, "region", &v->region, 0, 65535);
        rl__per_int(c, "id", &v->id, 0, 65535);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_region = opt[0];
}

void rl__v2x_offset_llv(struct rl_per *c, const char *name, struct rl_v2x_offset_llv *v)
{
    bool opt[1] = {v->has_offsetV};
    if (rl__per_seq_begin(c, name, false, opt, 1)) {
        int32_t k = v->ll_kind;
        if (rl__per_choice_begin(c, "offsetLL", &k, 7, false)) {
            if (rl__per_seq_begin(c, offset_ll_alts[k], false, NULL, 0)) {
                if (k == RL_V2X_LL_LATLON) {
                    rl__per_int(c, "lon", &v->lon, -1799999999, 1800000001);
                    rl__per_int(c, "lat", &v->lat, -900000000, 900000001);
                } else {
                    int64_t b = offset_ll_bound[k];
                    rl__per_int(c, "lon", &v->lon, -b, b - 1);
                    rl__per_int(c, "lat", &v->lat, -b, b - 1);
                }
            }
            rl__per_seq_end(c);
        }
        rl__per_choice_end(c);
        if (rl__per_decoding(c))
            v->ll_kind = k;
        if (opt[0]) {
            k = v->v_kind;
            if (rl__per_choice_begin(c, "offsetV", &k, 7, false)) {
                if (k == RL_V2X_VERT_ELEVATION)
                    rl__per_int(c, vert_alts[k], &v->v, -4096, 61439);
                else
                    rl__per_int(c, vert_alts[k], &v->v, -vert_bound[k], vert_bound[k] - 1);
            }
            rl__per_choice_end(c);
            if (rl__per_decoding(c))
                v->v_kind = k;
        }
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_offsetV = opt[0];
}

void rl__v2x_pos_confidence(struct rl_per *c, const char *name, struct rl_v2x_pos_confidence *v)
{
    bool opt[1] = {v->has_elevation};
    if (rl__per_seq_begin(c, name, false, opt, 1)) {
        rl__per_enum(c, "pos", &v->pos, position_confidence_ids, RL__NIDS(position_confidence_ids),
                     false);
        if (opt[0])
            rl__per_enum(c, "elevation", &v->elevation, elevation_confidence_ids,
                         RL__NIDS(elevation_confidence_ids), false);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_elevation = opt[0];
}

void rl__v2x_pos_accuracy(struct rl_per *c, const char *name, struct rl_v2x_pos_accuracy *v)
{
    if (rl__per_seq_begin(c, name, false, NULL, 0)) {
        rl__per_int(c, "semiMajor", &v->semiMajor, 0, 255);
        rl__per_int(c, "semiMinor", &v->semiMinor, 0, 255);
        rl__per_int(c, "orientation", &v->orientation, 0, 65535);
    }
    rl__per_seq_end(c);
}

void rl__v2x_motion_cfd(struct rl_per *c, const char *name, struct rl_v2x_motion_cfd *v)
{
    bool opt[3] = {v->has_speedCfd, v->has_headingCfd, v->has_steerCfd};
    if (rl__per_seq_begin(c, name, false, opt, 3)) {
        if (opt[0])
            rl__per_enum(c, "speedCfd", &v->speedCfd, speed_confidence_ids,
                         RL__NIDS(speed_confidence_ids), false);
        if (opt[1])
            rl__per_enum(c, "headingCfd", &v->headingCfd, heading_confidence_ids,
                         RL__NIDS(heading_confidence_ids), false);
        if (opt[2])
            rl__per_enum(c, "steerCfd", &v->steerCfd, steer_confidence_ids,
                         RL__NIDS(steer_confidence_ids), false);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_speedCfd = opt[0];
        v->has_headingCfd = opt[1];
        v->has_steerCfd = opt[2];
    }
}

void rl__v2x_accel4(struct rl_per *c, const char *name, struct rl_v2x_accel4 *v)
{
    if (rl__per_seq_begin(c, name, false, NULL, 0)) {
        rl__per_int(c, "long", &v->lon, -2000, 2001);
        rl__per_int(c, "lat", &v->lat, -2000, 2001);
        rl__per_int(c, "vert", &v->vert, -127, 127);
        rl__per_int(c, "yaw", &v->yaw, -32767, 32767);
    }
    rl__per_seq_end(c);
}

void rl__v2x_vehicle_size(struct rl_per *c, const char *name, struct rl_v2x_vehicle_size *v)
{
    bool opt[1] = {v->has_height};
    if (rl__per_seq_begin(c, name, false, opt, 1)) {
        rl__per_int(c, "width", &v->width, 0, 1023);
        rl__per_int(c, "length", &v->length, 0, 4095);
        if (opt[0])
            rl__per_int(c, "height", &v->height, 0, 127);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_height = opt[0];
}

void rl__v2x_vehicle_class(struct rl_per *c, const char *name, struct rl_v2x_vehicle_class *v)
{
    bool opt[1] = {v->has_fuelType};
    if (rl__per_seq_begin(c, name, true, opt, 1)) {
        rl__per_int(c, "classification", &v->classification, 0, 255);
        if (opt[0])
            rl__per_int(c, "fuelType", &v->fuelType, 0, 15);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_fuelType = opt[0];
}

void rl__v2x_descriptive_name(struct rl_per *c, const char *name, char *s)
{
    rl__per_ia5(c, name, s, 1, 63);
}

/* ---- MessageFrame -------------------------------------------------------- */

/* The alternatives bsmFrame, mapFrame, rsmFrame, spatFrame, rsiFrame are
 * named here by their message, the root of the error path ("SPAT...."). */
static const char *const kind_names[] = {"BSM", "MAP", "RSM", "SPAT", "RSI"};

const char *rl_v2x_kind_name(int32_t kind)
{
    return kind >= 0 && kind < RL_V2X_KIND_EXT ? kind_names[kind] : "unknown";
}

/* The chosen alternative's value, named by its message for the path. */
static void frame_body(struct rl_per *c, int32_t kind, struct rl_v2x_msg *m)
{
    const char *name = kind_names[kind];
    switch (kind) {
    case RL_V2X_BSM:
        rl__v2x_bsm(c, name, &m->u.bsm);
        break;
    case RL_V2X_MAP:
        rl__v2x_map(c, name, &m->u.map);
        break;
    case RL_V2X_RSM:
        rl__v2x_rsm(c, name, &m->u.rsm);
        break;
    case RL_V2X_SPAT:
        rl__v2x_spat(c, name, &m->u.spat);
        break;
    case RL_V2X_RSI:
        rl__v2x_rsi(c, name, &m->u.rsi);
        break;
    default:
        rl__per_fail(c, NULL, -EINVAL, "MessageFrame kind %d", (int)kind);
        break;
    }
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

int rl_v2x_decode(const uint8_t *p, size_t len, struct rl_v2x_msg *out, char *err, size_t errlen)
{
    struct rl_per c;
    memset(out, 0, sizeof(*out));
    rl__per_init_decode(&c, p, len);
    int32_t kind = 0;
    if (rl__per_choice_begin(&c, NULL, &kind, RL_V2X_KIND_EXT, true))
        frame_body(&c, kind, out);
    rl__per_choice_end(&c);
    if (!c.err) {
        size_t left = rl__uper_r_left(&c.r);
        if (left >= 8)
            rl__per_fail(&c, NULL, RL_ECORRUPT,
                         "%zu trailing octets after the MessageFrame at bit %zu", left / 8,
                         c.r.pos);
    }
    if (c.err) {
        set_err(err, errlen, c.msg);
        return c.err;
    }
    out->kind = kind;
    out->ext_skipped = c.ext_skipped;
    return 0;
}

int rl_v2x_encode(const struct rl_v2x_msg *m, uint8_t *out, size_t cap, size_t *len, char *err,
                  size_t errlen)
{
    struct rl_per c;
    /* The walker takes non-const pointers for all three modes; encoding
     * only reads through them. */
    struct rl_v2x_msg *mm = (struct rl_v2x_msg *)(uintptr_t)m;
    *len = 0;
    rl__per_init_encode(&c, out, cap);
    int32_t kind = m->kind;
    if (rl__per_choice_begin(&c, NULL, &kind, RL_V2X_KIND_EXT, true))
        frame_body(&c, kind, mm);
    rl__per_choice_end(&c);
    if (c.err) {
        set_err(err, errlen, c.msg);
        return c.err;
    }
    if (cap == 0) {
        set_err(err, errlen, "output buffer of 0 bytes");
        return RL_ETOOBIG;
    }
    *len = rl__uper_w_bytes(&c.w);
    return 0;
}

int rl_v2x_to_json(const struct rl_v2x_msg *m, struct rl_jw *out, char *err, size_t errlen)
{
    char type[40];
    snprintf(type, sizeof(type), "v2x.csae53.%s", rl_v2x_kind_name(m->kind));
    rl_jw_kstr(out, "type", type);
    if (m->kind < 0) {
        set_err(err, errlen, "negative MessageFrame kind");
        return -EINVAL;
    }
    if (m->kind >= RL_V2X_KIND_EXT) {
        rl_jw_ki64(out, "messageFrameExtension", m->kind - RL_V2X_KIND_EXT);
        return 0;
    }
    struct rl_per c;
    rl__per_init_json(&c, out);
    frame_body(&c, m->kind, (struct rl_v2x_msg *)(uintptr_t)m);
    if (c.err) {
        set_err(err, errlen, c.msg);
        return c.err;
    }
    if (m->ext_skipped)
        rl_jw_ku64(out, "unknownExtensions", m->ext_skipped);
    return 0;
}
