/* Hesai Pandar40P and PandarXT32 point cloud packets: the "hesai" decoder of
 * decode.h, the typed API of lidar.h and the angle-correction CSV parser.
 * Implements, from the Pandar40P User's Manual ch. 3 "Data Structure"
 * (3.1.2 UDP data: 10 blocks of 0xFFEE flag (0xFF first), azimuth in 0.01
 * degree, 40 x (distance in 4 mm units, reflectivity); Table 3.4 additional
 * information: 5 reserved bytes, high-temperature shutdown flag, 2
 * reserved, motor speed in RPM, timestamp in us within the second, return
 * mode 0x37/0x38/0x39, factory byte 0x42/0x43, UTC date and time as
 * year-2000, month, day, hour, minute, second; 4-byte UDP sequence when
 * enabled, 1262 or 1266 bytes in all), Appendix I channel distribution
 * (nominal elevations and azimuth offsets, clockwise positive) and Appendix
 * II laser firing time (block end times t0 - 28.58 us - 55.56 us x (10 - N),
 * Table II.4 per-laser firing times before the block end). From the
 * PandarXT User's Manual 3.1.2: pre-header 0xEE 0xFF, protocol 6.1, two
 * reserved bytes; header: laser count 32, block count 8, first block
 * return, distance unit (4 mm), return number, UDP sequence flag; body of 8
 * blocks x (azimuth + 32 x (distance, reflectivity, reserved)); tail of 10
 * reserved bytes, return mode (0x33 first ... 0x3C dual first+strongest),
 * motor speed, date and time (year-1900), timestamp, factory byte, then
 * the UDP sequence (1080 bytes); Appendix I (design elevations +15 to -16
 * degrees in 1 degree steps, no azimuth offsets) and Appendix II (the
 * packet time is the trigger of the round of firing in block 8). All
 * multi-byte fields little-endian. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "roadlog/decode.h"
#include "roadlog/lidar.h"

#define DEG_TO_RAD        0.017453292519943295
#define AZIMUTH_FULL_CDEG 36000u
#define SECOND_US         1000000u

/* Pandar40P layout. */
#define P40_FLAG_0       0xFF
#define P40_FLAG_1       0xEE
#define P40_POINT_LEN    3
#define P40_BLOCK_LEN    (4 + RL_HESAI_P40_CHANNELS * P40_POINT_LEN)
#define P40_BODY_LEN     (RL_HESAI_P40_BLOCKS * P40_BLOCK_LEN)
#define P40_TAIL_LEN     22
#define P40_SEQ_LEN      4
#define P40_YEAR_BASE    2000
#define P40_DIST_UNIT_MM 4

/* PandarXT32 layout. */
#define XT_SOP_0          0xEE
#define XT_SOP_1          0xFF
#define XT_PROTOCOL_MAJOR 6
#define XT_PROTOCOL_MINOR 1
#define XT_HEAD_LEN       12
#define XT_POINT_LEN      4
#define XT_BLOCK_LEN      (2 + RL_HESAI_XT32_CHANNELS * XT_POINT_LEN)
#define XT_BODY_LEN       (RL_HESAI_XT32_BLOCKS * XT_BLOCK_LEN)
#define XT_TAIL_LEN       24
#define XT_SEQ_LEN        4
#define XT_YEAR_BASE      1900
#define XT_DIST_UNIT_MM   4

#define FACTORY_BYTE  0x42
#define CSV_MAX_BYTES ((size_t)1 << 20)
#define CSV_FIELD_MAX 32

_Static_assert(P40_BLOCK_LEN == 124, "Pandar40P block size");
_Static_assert(P40_BODY_LEN + P40_TAIL_LEN == RL_HESAI_P40_LEN, "Pandar40P packet size");
_Static_assert(RL_HESAI_P40_LEN + P40_SEQ_LEN == RL_HESAI_P40_SEQ_LEN, "Pandar40P + sequence");
_Static_assert(XT_BLOCK_LEN == 130, "XT32 block size");
_Static_assert(XT_HEAD_LEN + XT_BODY_LEN + XT_TAIL_LEN + XT_SEQ_LEN == RL_HESAI_XT32_LEN,
               "XT32 packet size");

/* Pandar40P timing (ns): Appendix II. */
#define P40_LAST_BLOCK_END_NS 28580 /* t0 - end of the last block */
#define P40_BLOCK_NS          55560
#define P40_MAX_FIRE_NS       54670 /* earliest firing before a block's end */

/* Table II.4: laser (1..40, index 0..39) -> firing time before the block
 * end, ns. */
static const uint32_t p40_fire_before_end_ns[RL_HESAI_P40_CHANNELS] = {
    42220, 28470, 16040, 3620,  45490, 31740, 47460, 54670, 20620, 33710,
    40910, 8190,  20620, 27160, 50730, 8190,  14740, 36980, 45490, 52700,
    23890, 31740, 38950, 11470, 18650, 25190, 48760, 6230,  12770, 35010,
    21920, 9500,  43520, 29770, 17350, 4920,  42220, 28470, 16040, 3620};

/* Appendix I design values: elevation, azimuth offset (degrees). */
static const double p40_elev[RL_HESAI_P40_CHANNELS] = {
    15,    11,     8,      5,      3,      2,      1.667,  1.333,  1,      0.667,
    0.333, 0,      -0.333, -0.667, -1,     -1.333, -1.667, -2,     -2.333, -2.667,
    -3,    -3.333, -3.667, -4,     -4.333, -4.667, -5,     -5.333, -5.667, -6,
    -7,    -8,     -9,     -10,    -11,    -12,    -13,    -14,    -19,    -25};

static double p40_azoff(unsigned ch)
{
    static const double cycle[3] = {3.125, -5.208, -1.042};
    /* Channels 7..30 (index 6..29) cycle through three columns; the rest
     * sit at -1.042 degrees. */
    if (ch >= 6 && ch < 30)
        return cycle[(ch - 6) % 3];
    return -1.042;
}

/* PandarXT timing (ns): Appendix II. */
#define XT_START_AFTER_T0_NS 3280
#define XT_BLOCK_NS          50000
#define XT_CHANNEL_NS        1512
#define XT_FIRST_CHANNEL_NS  280

struct rl_hesai_calib {
    unsigned channels;
    double elevation_deg[RL_HESAI_CALIB_MAX_CHANNELS];
    double azimuth_deg[RL_HESAI_CALIB_MAX_CHANNELS];
};

const char *rl_hesai_model_name(enum rl_hesai_model model)
{
    switch (model) {
    case RL_HESAI_PANDAR40P:
        return "Pandar40P";
    case RL_HESAI_PANDARXT32:
        return "PandarXT32";
    case RL_HESAI_UNKNOWN:
        break;
    }
    return "unknown";
}

static bool p40_flagged(const uint8_t *p)
{
    for (unsigned b = 0; b < RL_HESAI_P40_BLOCKS; b++)
        if (p[b * P40_BLOCK_LEN] != P40_FLAG_0 || p[b * P40_BLOCK_LEN + 1] != P40_FLAG_1)
            return false;
    return true;
}

static bool xt_len_ok(const uint8_t *p, size_t len)
{
    size_t want = RL_HESAI_XT32_LEN - ((p[11] & 1) ? 0 : XT_SEQ_LEN);
    return len == want;
}

enum rl_hesai_model rl_hesai_identify(const uint8_t *p, size_t len)
{
    if (!p)
        return RL_HESAI_UNKNOWN;
    if ((len == RL_HESAI_P40_LEN || len == RL_HESAI_P40_SEQ_LEN) && p40_flagged(p))
        return RL_HESAI_PANDAR40P;
    if (len >= XT_HEAD_LEN && p[0] == XT_SOP_0 && p[1] == XT_SOP_1 && p[2] == XT_PROTOCOL_MAJOR &&
        p[6] == RL_HESAI_XT32_CHANNELS && p[7] == RL_HESAI_XT32_BLOCKS && xt_len_ok(p, len))
        return RL_HESAI_PANDARXT32;
    return RL_HESAI_UNKNOWN;
}

static bool dual_mode(uint8_t mode)
{
    return mode == RL_LIDAR_RETURN_DUAL || mode == RL_LIDAR_RETURN_DUAL_LAST_FIRST ||
           mode == RL_LIDAR_RETURN_DUAL_FIRST_STRONGEST;
}

/* Accumulates valid-point statistics of one distance. */
static void count_distance(struct rl_hesai_packet *out, uint16_t d)
{
    if (d == 0)
        return;
    if (out->valid_points == 0 || d < out->min_distance)
        out->min_distance = d;
    if (d > out->max_distance)
        out->max_distance = d;
    out->valid_points++;
}

static void read_date(struct rl_cursor *c, int year_base, struct rl_hesai_packet *out)
{
    out->year = year_base + rl__cursor_u8(c);
    out->month = rl__cursor_u8(c);
    out->day = rl__cursor_u8(c);
    out->hour = rl__cursor_u8(c);
    out->minute = rl__cursor_u8(c);
    out->second = rl__cursor_u8(c);
}

static int parse_p40(const uint8_t *p, size_t len, struct rl_hesai_packet *out)
{
    struct rl_cursor c;
    const uint8_t *skip;
    rl__cursor_init(&c, p, len);
    out->model = RL_HESAI_PANDAR40P;
    out->blocks = RL_HESAI_P40_BLOCKS;
    out->channels = RL_HESAI_P40_CHANNELS;
    out->dist_unit_mm = P40_DIST_UNIT_MM;
    for (unsigned b = 0; b < RL_HESAI_P40_BLOCKS; b++) {
        const uint8_t *blk;
        if (!rl__cursor_take(&c, P40_BLOCK_LEN, &blk))
            return RL_ETRUNC;
        if (blk[0] != P40_FLAG_0 || blk[1] != P40_FLAG_1)
            return RL_ECORRUPT;
        out->azimuth_cdeg[b] = rl__get_u16le(blk + 2);
        for (unsigned ch = 0; ch < RL_HESAI_P40_CHANNELS; ch++)
            count_distance(out, rl__get_u16le(blk + 4 + ch * P40_POINT_LEN));
    }
    (void)rl__cursor_take(&c, 5, &skip); /* reserved */
    out->high_temp = rl__cursor_u8(&c) != 0;
    (void)rl__cursor_take(&c, 2, &skip); /* reserved */
    out->motor_rpm = rl__cursor_u16(&c);
    out->timestamp_us = rl__cursor_u32(&c);
    out->return_mode = rl__cursor_u8(&c);
    out->factory = rl__cursor_u8(&c);
    read_date(&c, P40_YEAR_BASE, out);
    if (c.failed)
        return RL_ETRUNC;
    if (c.left == P40_SEQ_LEN) {
        out->has_udp_seq = true;
        out->udp_seq = rl__cursor_u32(&c);
    }
    out->dual = dual_mode(out->return_mode);
    unsigned rounds = out->dual ? RL_HESAI_P40_BLOCKS / 2 : RL_HESAI_P40_BLOCKS;
    out->first_point_offset_ns =
        -(int32_t)(P40_LAST_BLOCK_END_NS + P40_BLOCK_NS * (rounds - 1) + P40_MAX_FIRE_NS);
    return c.left == 0 && !c.failed ? 0 : RL_ECORRUPT;
}

static int parse_xt(const uint8_t *p, size_t len, struct rl_hesai_packet *out)
{
    struct rl_cursor c;
    const uint8_t *skip;
    rl__cursor_init(&c, p, len);
    out->model = RL_HESAI_PANDARXT32;
    out->blocks = RL_HESAI_XT32_BLOCKS;
    out->channels = RL_HESAI_XT32_CHANNELS;
    uint8_t sop0 = rl__cursor_u8(&c), sop1 = rl__cursor_u8(&c);
    out->protocol_major = rl__cursor_u8(&c);
    out->protocol_minor = rl__cursor_u8(&c);
    (void)rl__cursor_take(&c, 2, &skip);
    uint8_t lasers = rl__cursor_u8(&c), blocks = rl__cursor_u8(&c);
    (void)rl__cursor_u8(&c); /* first block return */
    out->dist_unit_mm = rl__cursor_u8(&c);
    (void)rl__cursor_u8(&c); /* return number */
    bool seq_on = (rl__cursor_u8(&c) & 1) != 0;
    if (c.failed)
        return RL_ETRUNC;
    if (sop0 != XT_SOP_0 || sop1 != XT_SOP_1 || out->protocol_major != XT_PROTOCOL_MAJOR ||
        lasers != RL_HESAI_XT32_CHANNELS || blocks != RL_HESAI_XT32_BLOCKS ||
        out->dist_unit_mm == 0)
        return RL_ECORRUPT;
    for (unsigned b = 0; b < RL_HESAI_XT32_BLOCKS; b++) {
        const uint8_t *blk;
        if (!rl__cursor_take(&c, XT_BLOCK_LEN, &blk))
            return RL_ETRUNC;
        out->azimuth_cdeg[b] = rl__get_u16le(blk);
        for (unsigned ch = 0; ch < RL_HESAI_XT32_CHANNELS; ch++)
            count_distance(out, rl__get_u16le(blk + 2 + ch * XT_POINT_LEN));
    }
    (void)rl__cursor_take(&c, 10, &skip); /* reserved */
    out->return_mode = rl__cursor_u8(&c);
    out->motor_rpm = rl__cursor_u16(&c);
    read_date(&c, XT_YEAR_BASE, out);
    out->timestamp_us = rl__cursor_u32(&c);
    out->factory = rl__cursor_u8(&c);
    if (seq_on) {
        out->has_udp_seq = true;
        out->udp_seq = rl__cursor_u32(&c);
    }
    if (c.failed)
        return RL_ETRUNC;
    out->dual = dual_mode(out->return_mode);
    unsigned rounds = out->dual ? RL_HESAI_XT32_BLOCKS / 2 : RL_HESAI_XT32_BLOCKS;
    out->first_point_offset_ns = XT_START_AFTER_T0_NS - (int32_t)(XT_BLOCK_NS * (rounds - 1));
    return c.left == 0 ? 0 : RL_ECORRUPT;
}

int rl_hesai_parse(const uint8_t *p, size_t len, struct rl_hesai_packet *out)
{
    memset(out, 0, sizeof(*out));
    if (!p || len < 2)
        return RL_ETRUNC;
    if (p[0] == XT_SOP_0 && p[1] == XT_SOP_1)
        return parse_xt(p, len, out);
    if (p[0] == P40_FLAG_0 && p[1] == P40_FLAG_1) {
        if (len < RL_HESAI_P40_LEN)
            return RL_ETRUNC;
        if (len != RL_HESAI_P40_LEN && len != RL_HESAI_P40_SEQ_LEN)
            return RL_ECORRUPT;
        return parse_p40(p, len, out);
    }
    return RL_ECORRUPT;
}

/* ------------------------------------------------------------------ */
/* Angle-correction file                                                */

/* Splits [s, e) at commas into up to n trimmed NUL-terminated fields;
 * returns the number found, or -1 when a field is too long. */
static int split_fields(const char *s, const char *e, char f[][CSV_FIELD_MAX], int n)
{
    int k = 0;
    while (k < n) {
        const char *comma = memchr(s, ',', (size_t)(e - s));
        const char *fe = comma ? comma : e;
        while (s < fe && (*s == ' ' || *s == '\t'))
            s++;
        const char *te = fe;
        while (te > s && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if ((size_t)(te - s) >= CSV_FIELD_MAX)
            return -1;
        memcpy(f[k], s, (size_t)(te - s));
        f[k][te - s] = '\0';
        k++;
        if (!comma)
            break;
        s = comma + 1;
    }
    return k;
}

static bool csv_double(const char *s, double *v)
{
    char *endp;
    if (!*s)
        return false;
    errno = 0;
    *v = strtod(s, &endp);
    return errno == 0 && *endp == '\0' && isfinite(*v);
}

int rl_hesai_calib_parse(const char *csv, size_t len, struct rl_hesai_calib **out, char *err,
                         size_t err_len)
{
    struct rl_hesai_calib *cal = NULL;
    bool seen[RL_HESAI_CALIB_MAX_CHANNELS] = {false};
    unsigned line = 0, max_id = 0;
    bool header_done = false;
    int rc = RL_ECORRUPT;
    *out = NULL;
    if (!csv) {
        snprintf(err, err_len, "no calibration text");
        return -EINVAL;
    }
    if (len > CSV_MAX_BYTES) {
        snprintf(err, err_len, "calibration file larger than 1 MiB");
        return RL_ETOOBIG;
    }
    cal = calloc(1, sizeof(*cal));
    if (!cal) {
        snprintf(err, err_len, "out of memory");
        return -ENOMEM;
    }
    const char *s = csv, *end = csv + len;
    if (len >= 3 && (uint8_t)s[0] == 0xEF && (uint8_t)s[1] == 0xBB && (uint8_t)s[2] == 0xBF)
        s += 3; /* UTF-8 byte order mark */
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        line++;
        if (e > s && e[-1] == '\r')
            e--;
        const char *t = s;
        while (t < e && (*t == ' ' || *t == '\t'))
            t++;
        s = nl ? nl + 1 : end;
        if (t == e)
            continue;
        bool numeric = (*t >= '0' && *t <= '9') || *t == '+' || *t == '-';
        if (!numeric && !header_done) {
            header_done = true; /* "Channel,Elevation,Azimuth" or similar */
            continue;
        }
        header_done = true;
        char f[3][CSV_FIELD_MAX];
        char *endp;
        double elev, azim;
        if (split_fields(t, e, f, 3) != 3) {
            snprintf(err, err_len, "calibration line %u: want id,elevation,azimuth", line);
            goto fail;
        }
        errno = 0;
        long id = strtol(f[0], &endp, 10);
        if (errno != 0 || *endp != '\0' || f[0][0] == '\0' || id < 1 ||
            id > RL_HESAI_CALIB_MAX_CHANNELS) {
            snprintf(err, err_len, "calibration line %u: bad channel id", line);
            goto fail;
        }
        if (!csv_double(f[1], &elev) || !csv_double(f[2], &azim) || fabs(elev) > 90.0 ||
            fabs(azim) > 360.0) {
            snprintf(err, err_len, "calibration line %u: bad angle", line);
            goto fail;
        }
        if (seen[id - 1]) {
            snprintf(err, err_len, "calibration line %u: duplicate channel id", line);
            goto fail;
        }
        seen[id - 1] = true;
        cal->elevation_deg[id - 1] = elev;
        cal->azimuth_deg[id - 1] = azim;
        if ((unsigned)id > max_id)
            max_id = (unsigned)id;
    }
    if (max_id == 0) {
        snprintf(err, err_len, "calibration has no channels");
        goto fail;
    }
    for (unsigned i = 0; i < max_id; i++) {
        if (!seen[i]) {
            snprintf(err, err_len, "calibration misses channel %u", i + 1);
            goto fail;
        }
    }
    cal->channels = max_id;
    *out = cal;
    return 0;
fail:
    free(cal);
    return rc;
}

void rl_hesai_calib_free(struct rl_hesai_calib *calib)
{
    free(calib);
}

unsigned rl_hesai_calib_channels(const struct rl_hesai_calib *calib)
{
    return calib ? calib->channels : 0;
}

bool rl_hesai_calib_get(const struct rl_hesai_calib *calib, unsigned channel, double *elevation_deg,
                        double *azimuth_offset_deg)
{
    if (!calib || channel >= calib->channels)
        return false;
    *elevation_deg = calib->elevation_deg[channel];
    *azimuth_offset_deg = calib->azimuth_deg[channel];
    return true;
}

/* ------------------------------------------------------------------ */
/* Points                                                               */

static void set_point(struct rl_lidar_point *pt, double r, double elev_deg, double az_deg,
                      uint8_t intensity, unsigned ring, uint32_t t_ns)
{
    az_deg = fmod(az_deg, 360.0);
    if (az_deg < 0)
        az_deg += 360.0;
    double ce = cos(elev_deg * DEG_TO_RAD);
    pt->x = (float)(r * ce * sin(az_deg * DEG_TO_RAD));
    pt->y = (float)(r * ce * cos(az_deg * DEG_TO_RAD));
    pt->z = (float)(r * sin(elev_deg * DEG_TO_RAD));
    pt->intensity = intensity;
    pt->ring = (uint16_t)ring;
    pt->azimuth_deg = (float)az_deg;
    pt->time_offset_ns = t_ns;
}

int rl_hesai_decode_points(const struct rl_hesai_calib *calib, const uint8_t *p, size_t len,
                           struct rl_lidar_point *pts, size_t cap, size_t *n)
{
    struct rl_hesai_packet h;
    *n = 0;
    int rc = rl_hesai_parse(p, len, &h);
    if (rc < 0)
        return rc;
    bool xt = h.model == RL_HESAI_PANDARXT32;
    bool use_cal = calib && calib->channels >= h.channels;
    size_t block_len = xt ? XT_BLOCK_LEN : P40_BLOCK_LEN;
    size_t body_off = xt ? XT_HEAD_LEN : 0;
    size_t first_point = xt ? 2 : 4, point_len = xt ? XT_POINT_LEN : P40_POINT_LEN;
    double unit_m = h.dist_unit_mm / 1000.0;
    size_t count = 0;
    bool overflow = false;
    for (unsigned b = 0; b < h.blocks; b++) {
        const uint8_t *blk = p + body_off + b * block_len;
        unsigned round = h.dual ? b / 2 : b;
        for (unsigned ch = 0; ch < h.channels; ch++) {
            const uint8_t *pt = blk + first_point + ch * point_len;
            uint16_t raw = rl__get_u16le(pt);
            if (raw == 0)
                continue;
            if (count >= cap) {
                overflow = true;
                continue;
            }
            double elev, azoff;
            uint32_t t_ns;
            if (use_cal) {
                elev = calib->elevation_deg[ch];
                azoff = calib->azimuth_deg[ch];
            } else if (xt) {
                elev = 15.0 - ch;
                azoff = 0;
            } else {
                elev = p40_elev[ch];
                azoff = p40_azoff(ch);
            }
            if (xt)
                t_ns = XT_BLOCK_NS * round + XT_CHANNEL_NS * ch + XT_FIRST_CHANNEL_NS;
            else
                t_ns = P40_BLOCK_NS * round + P40_MAX_FIRE_NS - p40_fire_before_end_ns[ch];
            set_point(&pts[count++], raw * unit_m, elev, h.azimuth_cdeg[b] / 100.0 + azoff, pt[2],
                      ch, t_ns);
        }
    }
    *n = count;
    return overflow ? RL_ETOOBIG : 0;
}

/* ------------------------------------------------------------------ */
/* Encoder                                                              */

static bool quantize(float m, double unit_m, uint16_t *out)
{
    if (!isfinite(m) || m < 0)
        return false;
    double counts = floor((double)m / unit_m + 0.5);
    if (counts > 65535.0)
        return false;
    *out = (uint16_t)counts;
    return true;
}

static bool date_ok(const struct rl_hesai_frame *in, int year_base)
{
    return in->year >= year_base && in->year <= year_base + 255 && in->month >= 1 &&
           in->month <= 12 && in->day >= 1 && in->day <= 31 && in->hour >= 0 && in->hour < 24 &&
           in->minute >= 0 && in->minute < 60 && in->second >= 0 && in->second < 61;
}

static void put_date(uint8_t *o, const struct rl_hesai_frame *in, int year_base)
{
    o[0] = (uint8_t)(in->year - year_base);
    o[1] = (uint8_t)in->month;
    o[2] = (uint8_t)in->day;
    o[3] = (uint8_t)in->hour;
    o[4] = (uint8_t)in->minute;
    o[5] = (uint8_t)in->second;
}

static int encode_body(const struct rl_hesai_frame *in, uint8_t *o, unsigned blocks,
                       unsigned channels, size_t block_len, size_t first_point, size_t point_len,
                       bool flags)
{
    const double unit_m = P40_DIST_UNIT_MM / 1000.0;
    for (unsigned b = 0; b < blocks; b++) {
        uint8_t *blk = o + b * block_len;
        if (in->azimuth_cdeg[b] >= AZIMUTH_FULL_CDEG)
            return -EINVAL;
        if (flags) {
            blk[0] = P40_FLAG_0;
            blk[1] = P40_FLAG_1;
        }
        rl__put_u16le(blk + first_point - 2, in->azimuth_cdeg[b]);
        for (unsigned ch = 0; ch < channels; ch++) {
            uint8_t *pt = blk + first_point + ch * point_len;
            uint16_t counts;
            if (!quantize(in->distance_m[b][ch], unit_m, &counts))
                return -EINVAL;
            rl__put_u16le(pt, counts);
            pt[2] = in->intensity[b][ch];
            if (point_len > 3)
                pt[3] = 0;
        }
    }
    return 0;
}

int rl_hesai_encode_packet(const struct rl_hesai_frame *in, uint8_t *out, size_t out_len,
                           size_t *len)
{
    uint8_t mode = in->return_mode ? in->return_mode : RL_LIDAR_RETURN_STRONGEST;
    int rc;
    *len = 0;
    if (!out || in->timestamp_us >= SECOND_US)
        return -EINVAL;
    if (in->model == RL_HESAI_PANDAR40P) {
        size_t want = in->udp_seq_on ? RL_HESAI_P40_SEQ_LEN : RL_HESAI_P40_LEN;
        if (out_len < want || !date_ok(in, P40_YEAR_BASE) ||
            (mode != RL_LIDAR_RETURN_STRONGEST && mode != RL_LIDAR_RETURN_LAST &&
             mode != RL_LIDAR_RETURN_DUAL))
            return -EINVAL;
        memset(out, 0, want);
        rc = encode_body(in, out, RL_HESAI_P40_BLOCKS, RL_HESAI_P40_CHANNELS, P40_BLOCK_LEN, 4,
                         P40_POINT_LEN, true);
        if (rc < 0)
            return rc;
        uint8_t *t = out + P40_BODY_LEN; /* reserved, flag, reserved: zero */
        rl__put_u16le(t + 8, in->motor_rpm);
        rl__put_u32le(t + 10, in->timestamp_us);
        t[14] = mode;
        t[15] = FACTORY_BYTE;
        put_date(t + 16, in, P40_YEAR_BASE);
        if (in->udp_seq_on)
            rl__put_u32le(out + RL_HESAI_P40_LEN, in->udp_seq);
        *len = want;
        return 0;
    }
    if (in->model == RL_HESAI_PANDARXT32) {
        bool dual = dual_mode(mode);
        if (out_len < RL_HESAI_XT32_LEN || !date_ok(in, XT_YEAR_BASE) ||
            (!dual && mode != RL_LIDAR_RETURN_FIRST && mode != RL_LIDAR_RETURN_STRONGEST &&
             mode != RL_LIDAR_RETURN_LAST))
            return -EINVAL;
        memset(out, 0, RL_HESAI_XT32_LEN);
        out[0] = XT_SOP_0;
        out[1] = XT_SOP_1;
        out[2] = XT_PROTOCOL_MAJOR;
        out[3] = XT_PROTOCOL_MINOR;
        out[6] = RL_HESAI_XT32_CHANNELS;
        out[7] = RL_HESAI_XT32_BLOCKS;
        out[8] = dual ? 1 : 0; /* first block: last return in dual mode */
        out[9] = XT_DIST_UNIT_MM;
        out[10] = dual ? 2 : 1;
        out[11] = 1; /* UDP sequence on */
        rc = encode_body(in, out + XT_HEAD_LEN, RL_HESAI_XT32_BLOCKS, RL_HESAI_XT32_CHANNELS,
                         XT_BLOCK_LEN, 2, XT_POINT_LEN, false);
        if (rc < 0)
            return rc;
        uint8_t *t = out + XT_HEAD_LEN + XT_BODY_LEN; /* 10 reserved bytes: zero */
        t[10] = mode;
        rl__put_u16le(t + 11, in->motor_rpm);
        put_date(t + 13, in, XT_YEAR_BASE);
        rl__put_u32le(t + 19, in->timestamp_us);
        t[23] = FACTORY_BYTE;
        rl__put_u32le(t + 24, in->udp_seq);
        *len = RL_HESAI_XT32_LEN;
        return 0;
    }
    return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* The decoder of decode.h                                              */

static int detect(const struct rl_payload *pl)
{
    switch (rl_hesai_identify(pl->data, pl->len)) {
    case RL_HESAI_PANDAR40P:
    case RL_HESAI_PANDARXT32:
        return 95;
    case RL_HESAI_UNKNOWN:
        break;
    }
    if (pl->dst_port == RL_HESAI_DATA_PORT || pl->src_port == RL_HESAI_DATA_PORT)
        return 20;
    return 0;
}

static void put_cdeg(struct rl_jw *out, uint16_t cdeg)
{
    char b[16];
    int k = snprintf(b, sizeof(b), "%u.%02u", (unsigned)cdeg / 100u, (unsigned)cdeg % 100u);
    rl_jw_raw(out, b, (size_t)k);
}

static bool utc_valid(const struct rl_hesai_packet *h)
{
    return h->month >= 1 && h->month <= 12 && h->day >= 1 && h->day <= 31 && h->hour < 24 &&
           h->minute < 60 && h->second < 61 && h->timestamp_us < SECOND_US;
}

static void explain(const struct rl_payload *pl, int rc, char *err, size_t err_len)
{
    const uint8_t *p = pl->data;
    if (pl->len >= 2 && p[0] == XT_SOP_0 && p[1] == XT_SOP_1) {
        if (rc == RL_ETRUNC)
            snprintf(err, err_len, "hesai XT packet truncated: %zu of %d bytes", pl->len,
                     RL_HESAI_XT32_LEN);
        else if (pl->len >= XT_HEAD_LEN &&
                 (p[2] != XT_PROTOCOL_MAJOR || p[6] != RL_HESAI_XT32_CHANNELS ||
                  p[7] != RL_HESAI_XT32_BLOCKS))
            snprintf(err, err_len,
                     "hesai XT packet: protocol %u.%u, %u lasers x %u blocks not supported", p[2],
                     p[3], p[6], p[7]);
        else
            snprintf(err, err_len, "hesai XT packet of %zu bytes, want %d", pl->len,
                     RL_HESAI_XT32_LEN);
        return;
    }
    if (pl->len >= 2 && p[0] == P40_FLAG_0 && p[1] == P40_FLAG_1) {
        if (rc == RL_ETRUNC) {
            snprintf(err, err_len, "hesai Pandar40P packet truncated: %zu of %d bytes", pl->len,
                     RL_HESAI_P40_LEN);
            return;
        }
        if (pl->len == RL_HESAI_P40_LEN || pl->len == RL_HESAI_P40_SEQ_LEN) {
            for (unsigned b = 0; b < RL_HESAI_P40_BLOCKS; b++) {
                const uint8_t *blk = p + b * P40_BLOCK_LEN;
                if (blk[0] != P40_FLAG_0 || blk[1] != P40_FLAG_1) {
                    snprintf(err, err_len, "hesai block %u flag 0x%02x%02x at byte %u, want 0xffee",
                             b, blk[0], blk[1], b * P40_BLOCK_LEN);
                    return;
                }
            }
        }
        snprintf(err, err_len, "hesai Pandar40P packet of %zu bytes, want %d or %d", pl->len,
                 RL_HESAI_P40_LEN, RL_HESAI_P40_SEQ_LEN);
        return;
    }
    snprintf(err, err_len, "not a hesai packet: starts 0x%02x%02x, want 0xffee or 0xeeff",
             pl->len > 0 ? p[0] : 0, pl->len > 1 ? p[1] : 0);
}

static int decode(const struct rl_decode_ctx *ctx, const struct rl_payload *pl, struct rl_jw *out,
                  char *err, size_t err_len)
{
    struct rl_hesai_packet h;
    (void)ctx;
    int rc = rl_hesai_parse(pl->data, pl->len, &h);
    if (rc < 0) {
        explain(pl, rc, err, err_len);
        return rc;
    }
    bool xt = h.model == RL_HESAI_PANDARXT32;
    rl_jw_kstr(out, "type", xt ? "hesai.pandarxt32" : "hesai.pandar40p");
    rl_jw_kstr(out, "model", rl_hesai_model_name(h.model));
    rl_jw_ku64(out, "blocks", h.blocks);
    rl_jw_kstr(out, "return_mode", rl_lidar_return_mode_name(h.return_mode));
    rl_jw_ku64(out, "motor_rpm", h.motor_rpm);
    rl_jw_ku64(out, "timestamp_us", h.timestamp_us);
    if (utc_valid(&h)) {
        char b[64];
        snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", h.year, h.month, h.day,
                 h.hour, h.minute, h.second, (unsigned)h.timestamp_us);
        rl_jw_kstr(out, "utc", b);
    }
    rl_jw_ku64(out, "factory", h.factory);
    if (h.has_udp_seq)
        rl_jw_ku64(out, "udp_seq", h.udp_seq);
    if (!xt)
        rl_jw_kbool(out, "high_temp", h.high_temp);
    rl_jw_ku64(out, "points", h.valid_points);
    rl_jw_key(out, "azimuths");
    rl_jw_arr_begin(out);
    for (unsigned b = 0; b < h.blocks; b++)
        put_cdeg(out, h.azimuth_cdeg[b]);
    rl_jw_arr_end(out);
    if (h.valid_points > 0) {
        rl_jw_kdouble(out, "range_min_m", h.min_distance * h.dist_unit_mm / 1000.0, 6);
        rl_jw_kdouble(out, "range_max_m", h.max_distance * h.dist_unit_mm / 1000.0, 6);
    }
    return 0;
}

const struct rl_decoder rl_decoder_hesai = {
    .name = "hesai",
    .detect = detect,
    .decode = decode,
};
