/* Velodyne VLP-16, VLP-32C and HDL-32E packets: the "velodyne" decoder of
 * decode.h and the typed API of lidar.h. Implements, from the VLP-16 User
 * Manual (63-9243 Rev D) ch. 9 "Sensor Data": 9.3.1 packet types and
 * definitions (data point = 2-byte distance in 2 mm units + reflectivity;
 * azimuth in 0.01 degree; 4-byte timestamp in microseconds past the hour),
 * 9.3.1.7 factory bytes (offsets 0x4DE/0x4DF of the frame: return mode 0x37
 * strongest, 0x38 last, 0x39 dual; product id 0x21 HDL-32E, 0x22 VLP-16,
 * 0x28 VLP-32C), 9.3.2 data packet structure (12 blocks of 0xFFEE flag,
 * azimuth, 32 data points), 9.3.3 position packet structure (timestamp,
 * PPS status byte 0..3, NMEA $GPRMC text padded with NULs; payload offsets
 * 198, 202, 206) and 9.4/9.5 firing timing and precision azimuth (16
 * firings 2.304 us apart, 55.296 us per sequence, two sequences per block,
 * dual-return block pairs). VLP-32C User Manual: lasers fired in pairs
 * (Table 9-5 elevation angles; 2.304 us per pair, 55.296 us per sequence,
 * one sequence per block) and the azimuth offsets of Table 9-2/9-6.
 * HDL-32E User's Manual: the laser order and vertical angles of the firing
 * table (-30.67 .. +10.67 degrees) and its 1.152 us firing cycle, 40 cycles
 * (46.08 us) per sequence. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "roadlog/decode.h"
#include "roadlog/lidar.h"

#define BLOCK_FLAG_0      0xFF
#define BLOCK_FLAG_1      0xEE
#define BLOCK_LEN         100
#define POINT_LEN         3
#define DATA_BLOCKS_LEN   (RL_VELODYNE_BLOCKS * BLOCK_LEN)
#define DATA_TAIL_LEN     6 /* timestamp + 2 factory bytes */
#define AZIMUTH_FULL_CDEG 36000u
#define HOUR_US           3600000000u
#define DEG_TO_RAD        0.017453292519943295

/* Position packet (payload offsets). */
#define POS_TIMESTAMP_OFF 198
#define POS_PPS_OFF       202
#define POS_NMEA_OFF      206

/* Timing, in nanoseconds. */
#define VLP16_FIRING_NS    2304
#define VLP16_SEQUENCE_NS  55296
#define VLP32C_PAIR_NS     2304
#define VLP32C_SEQUENCE_NS 55296
#define HDL32E_FIRING_NS   1152
#define HDL32E_SEQUENCE_NS 46080

/* An azimuth step between blocks larger than this is a glitch (a packet at
 * the start of a scan, or a corrupt block), not motion: interpolate with 0. */
#define MAX_BLOCK_GAP_CDEG 1000u

_Static_assert(RL_VELODYNE_BLOCKS *(4 + RL_VELODYNE_CHANNELS * POINT_LEN) == DATA_BLOCKS_LEN,
               "block layout");
_Static_assert(DATA_BLOCKS_LEN + DATA_TAIL_LEN == RL_VELODYNE_DATA_LEN, "data packet size");
_Static_assert(POS_NMEA_OFF + RL_VELODYNE_NMEA_MAX <= RL_VELODYNE_POSITION_LEN,
               "position packet layout");

/* VLP-16 manual Table 9-1: laser id -> elevation, interleaved. */
static const double vlp16_elev[16] = {-15, 1, -13, 3, -11, 5, -9, 7, -7, 9, -5, 11, -3, 13, -1, 15};

/* VLP-32C manual Table 9-5: laser id -> elevation. */
static const double vlp32c_elev[32] = {
    -25,    -1,     -1.667, -15.639, -11.31, 0,      -0.667, -8.843, -7.254, 0.333,  -0.333,
    -6.148, -5.333, 1.333,  0.667,   -4,     -4.667, 1.667,  1,      -3.667, -3.333, 3.333,
    2.333,  -2.667, -3,     7,       4.667,  -2.333, -2,     15,     10.333, -1.333};

/* VLP-32C azimuth offsets (delta, degrees) of each laser: four columns at
 * +4.2, +1.4, -1.4, -4.2 degrees (manual Table 9-2). */
static const double vlp32c_azoff[32] = {
    1.4, -4.2, 1.4, -1.4, 1.4, -1.4, 4.2, -1.4, 1.4, -4.2, 1.4, -1.4, 4.2, -1.4, 4.2, -1.4,
    1.4, -4.2, 1.4, -4.2, 4.2, -1.4, 1.4, -1.4, 1.4, -1.4, 1.4, -4.2, 4.2, -1.4, 1.4, -1.4};

/* HDL-32E manual, laser firing sequence table: DSR order (= packet order)
 * -> vertical angle. */
static const double hdl32e_elev[32] = {-30.67, -9.33, -29.33, -8.00, -28.00, -6.66, -26.66, -5.33,
                                       -25.33, -4.00, -24.00, -2.67, -22.67, -1.33, -21.33, 0.00,
                                       -20.00, 1.33,  -18.67, 2.67,  -17.33, 4.00,  -16.00, 5.33,
                                       -14.67, 6.67,  -13.33, 8.00,  -12.00, 9.33,  -10.67, 10.67};

const char *rl_lidar_return_mode_name(uint8_t mode)
{
    switch (mode) {
    case RL_LIDAR_RETURN_FIRST:
        return "first";
    case RL_LIDAR_RETURN_STRONGEST:
        return "strongest";
    case RL_LIDAR_RETURN_LAST:
        return "last";
    case RL_LIDAR_RETURN_DUAL:
        return "dual";
    case RL_LIDAR_RETURN_DUAL_LAST_FIRST:
        return "dual_last_first";
    case RL_LIDAR_RETURN_DUAL_FIRST_STRONGEST:
        return "dual_first_strongest";
    default:
        return "unknown";
    }
}

enum rl_velodyne_model rl_velodyne_model_from_product(uint8_t product_id)
{
    switch (product_id) {
    case RL_VELODYNE_PRODUCT_VLP16:
        return RL_VELODYNE_VLP16;
    case RL_VELODYNE_PRODUCT_VLP32C:
        return RL_VELODYNE_VLP32C;
    case RL_VELODYNE_PRODUCT_HDL32E:
        return RL_VELODYNE_HDL32E;
    default:
        return RL_VELODYNE_UNKNOWN;
    }
}

const char *rl_velodyne_model_name(enum rl_velodyne_model model)
{
    switch (model) {
    case RL_VELODYNE_VLP16:
        return "VLP-16";
    case RL_VELODYNE_VLP32C:
        return "VLP-32C";
    case RL_VELODYNE_HDL32E:
        return "HDL-32E";
    case RL_VELODYNE_UNKNOWN:
        break;
    }
    return "unknown";
}

double rl_velodyne_elevation_deg(enum rl_velodyne_model model, unsigned laser)
{
    switch (model) {
    case RL_VELODYNE_VLP16:
        return laser < 16 ? vlp16_elev[laser] : NAN;
    case RL_VELODYNE_VLP32C:
        return laser < 32 ? vlp32c_elev[laser] : NAN;
    case RL_VELODYNE_HDL32E:
        return laser < 32 ? hdl32e_elev[laser] : NAN;
    case RL_VELODYNE_UNKNOWN:
        break;
    }
    return NAN;
}

static bool blocks_flagged(const uint8_t *p)
{
    for (unsigned b = 0; b < RL_VELODYNE_BLOCKS; b++)
        if (p[b * BLOCK_LEN] != BLOCK_FLAG_0 || p[b * BLOCK_LEN + 1] != BLOCK_FLAG_1)
            return false;
    return true;
}

enum rl_velodyne_kind rl_velodyne_identify(const uint8_t *p, size_t len, uint16_t port)
{
    if (!p)
        return RL_VELODYNE_NOT_VELODYNE;
    if (len == RL_VELODYNE_DATA_LEN && blocks_flagged(p))
        return RL_VELODYNE_KIND_DATA;
    if (len == RL_VELODYNE_POSITION_LEN &&
        (port == RL_VELODYNE_POSITION_PORT || p[POS_NMEA_OFF] == '$'))
        return RL_VELODYNE_KIND_POSITION;
    return RL_VELODYNE_NOT_VELODYNE;
}

int rl_velodyne_parse_data(const uint8_t *p, size_t len, struct rl_velodyne_data *out)
{
    struct rl_cursor c;
    memset(out, 0, sizeof(*out));
    if (!p || len < RL_VELODYNE_DATA_LEN)
        return RL_ETRUNC;
    if (len != RL_VELODYNE_DATA_LEN)
        return RL_ECORRUPT;
    rl__cursor_init(&c, p, len);
    for (unsigned b = 0; b < RL_VELODYNE_BLOCKS; b++) {
        const uint8_t *blk;
        if (!rl__cursor_take(&c, BLOCK_LEN, &blk))
            return RL_ETRUNC;
        if (blk[0] != BLOCK_FLAG_0 || blk[1] != BLOCK_FLAG_1)
            return RL_ECORRUPT;
        out->azimuth_cdeg[b] = rl__get_u16le(blk + 2);
        for (unsigned ch = 0; ch < RL_VELODYNE_CHANNELS; ch++) {
            uint16_t d = rl__get_u16le(blk + 4 + ch * POINT_LEN);
            if (d == 0)
                continue;
            if (out->valid_points == 0 || d < out->min_distance)
                out->min_distance = d;
            if (d > out->max_distance)
                out->max_distance = d;
            out->valid_points++;
        }
    }
    out->timestamp_us = rl__cursor_u32(&c);
    out->return_mode = rl__cursor_u8(&c);
    out->product_id = rl__cursor_u8(&c);
    if (c.failed)
        return RL_ETRUNC;
    out->model = rl_velodyne_model_from_product(out->product_id);
    out->first_point_offset_ns = 0;
    return 0;
}

/* Copies one comma-separated field of an NMEA sentence into buf (NUL-
 * terminated); returns the position after the comma, or NULL at the end. */
static const char *nmea_field(const char *s, const char *end, char *buf, size_t cap)
{
    size_t n = 0;
    if (!s)
        return NULL;
    while (s < end && *s != ',' && *s != '*') {
        if (n + 1 < cap)
            buf[n++] = *s;
        s++;
    }
    buf[n] = '\0';
    return s < end && *s == ',' ? s + 1 : NULL;
}

static bool parse_double(const char *s, double *v)
{
    char *endp;
    if (!*s)
        return false;
    errno = 0;
    *v = strtod(s, &endp);
    return errno == 0 && *endp == '\0' && isfinite(*v);
}

/* ddmm.mmmm (or dddmm.mmmm) -> degrees; hemi 'S'/'W' negative. */
static bool nmea_angle(const char *field, const char *hemi, double *deg)
{
    double v;
    if (!parse_double(field, &v) || v < 0)
        return false;
    double whole = floor(v / 100.0);
    double minutes = v - whole * 100.0;
    if (minutes >= 60.0)
        return false;
    *deg = whole + minutes / 60.0;
    if (hemi[0] == 'S' || hemi[0] == 'W')
        *deg = -*deg;
    else if (hemi[0] != 'N' && hemi[0] != 'E')
        return false;
    return true;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Fills the fix and time fields from a $--RMC sentence (NMEA 0183:
 * time, status, lat, N/S, lon, E/W, speed, course, date, ...). A sentence
 * with a checksum that does not match is not used. */
static void parse_rmc(struct rl_velodyne_position *pos)
{
    const char *s = pos->nmea, *end = pos->nmea + pos->nmea_len;
    char f[10][24];
    const char *star = memchr(s, '*', pos->nmea_len);
    if (pos->nmea_len < 7 || s[0] != '$' || memcmp(s + 3, "RMC,", 4) != 0)
        return;
    if (star) {
        uint8_t sum = 0;
        for (const char *q = s + 1; q < star; q++)
            sum ^= (uint8_t)*q;
        if (end - star < 3 || hexval(star[1]) < 0 || hexval(star[2]) < 0 ||
            (uint8_t)(hexval(star[1]) << 4 | hexval(star[2])) != sum)
            return;
        end = star;
    }
    const char *q = s + 7;
    for (int i = 0; i < 10; i++) {
        f[i][0] = '\0';
        if (q)
            q = nmea_field(q, end, f[i], sizeof(f[i]));
    }
    /* f: 0 time, 1 status, 2 lat, 3 N/S, 4 lon, 5 E/W, 6 speed, 7 course, 8 date */
    double lat, lon;
    if (f[1][0] == 'A' && nmea_angle(f[2], f[3], &lat) && nmea_angle(f[4], f[5], &lon) &&
        lat <= 90.0 && lon <= 180.0 && lat >= -90.0 && lon >= -180.0) {
        pos->has_fix = true;
        pos->lat_deg = lat;
        pos->lon_deg = lon;
    }
    double t;
    unsigned dd, mo, yy;
    if (strlen(f[0]) >= 6 && parse_double(f[0], &t) && strlen(f[8]) == 6 &&
        sscanf(f[8], "%2u%2u%2u", &dd, &mo, &yy) == 3) {
        int hh = (int)(t / 10000.0), mm = (int)(t / 100.0) % 100;
        double ss = t - (double)hh * 10000.0 - (double)mm * 100.0;
        if (hh < 24 && mm < 60 && ss >= 0 && ss < 61 && dd >= 1 && dd <= 31 && mo >= 1 &&
            mo <= 12) {
            pos->has_utc = true;
            pos->year = (int)(yy < 80 ? 2000 + yy : 1900 + yy);
            pos->month = (int)mo;
            pos->day = (int)dd;
            pos->hour = hh;
            pos->minute = mm;
            pos->second = ss;
        }
    }
}

int rl_velodyne_parse_position(const uint8_t *p, size_t len, struct rl_velodyne_position *out)
{
    memset(out, 0, sizeof(*out));
    if (!p || len < RL_VELODYNE_POSITION_LEN)
        return RL_ETRUNC;
    if (len != RL_VELODYNE_POSITION_LEN)
        return RL_ECORRUPT;
    out->timestamp_us = rl__get_u32le(p + POS_TIMESTAMP_OFF);
    out->pps_status = p[POS_PPS_OFF];
    /* The sentence ends at its CR/LF, or at the NUL padding. */
    size_t n = 0;
    while (n < RL_VELODYNE_NMEA_MAX) {
        uint8_t ch = p[POS_NMEA_OFF + n];
        if (ch == '\0' || ch == '\r' || ch == '\n')
            break;
        out->nmea[n++] = (char)ch;
    }
    out->nmea[n] = '\0';
    out->nmea_len = n;
    parse_rmc(out);
    return 0;
}

/* Azimuth change over one firing step starting at block b (cdeg): to the
 * next block with a new azimuth, or from the previous one at the end. */
static unsigned block_gap(const uint16_t *az, unsigned b, unsigned step)
{
    unsigned from = b, to = b + step;
    if (to >= RL_VELODYNE_BLOCKS) {
        if (b < step)
            return 0;
        from = b - step;
        to = b;
    }
    unsigned gap = (az[to] + AZIMUTH_FULL_CDEG - az[from] % AZIMUTH_FULL_CDEG) % AZIMUTH_FULL_CDEG;
    return gap > MAX_BLOCK_GAP_CDEG ? 0 : gap;
}

static void set_point(struct rl_lidar_point *pt, double r, double elev_deg, double az_deg,
                      uint8_t intensity, unsigned ring, uint32_t t_ns)
{
    const double d2r = DEG_TO_RAD;
    az_deg = fmod(az_deg, 360.0);
    if (az_deg < 0)
        az_deg += 360.0;
    double ce = cos(elev_deg * d2r);
    pt->x = (float)(r * ce * sin(az_deg * d2r));
    pt->y = (float)(r * ce * cos(az_deg * d2r));
    pt->z = (float)(r * sin(elev_deg * d2r));
    pt->intensity = intensity;
    pt->ring = (uint16_t)ring;
    pt->azimuth_deg = (float)az_deg;
    pt->time_offset_ns = t_ns;
}

int rl_velodyne_decode_points(enum rl_velodyne_model model, const uint8_t *p, size_t len,
                              struct rl_lidar_point *pts, size_t cap, size_t *n)
{
    struct rl_velodyne_data d;
    *n = 0;
    int rc = rl_velodyne_parse_data(p, len, &d);
    if (rc < 0)
        return rc;
    if (model != RL_VELODYNE_VLP16 && model != RL_VELODYNE_VLP32C && model != RL_VELODYNE_HDL32E)
        return RL_EUNSUPPORTED;
    bool dual = d.return_mode == RL_LIDAR_RETURN_DUAL;
    unsigned step = dual ? 2 : 1;
    size_t count = 0;
    bool overflow = false;
    for (unsigned b = 0; b < RL_VELODYNE_BLOCKS; b++) {
        const uint8_t *blk = p + b * BLOCK_LEN;
        double az = d.azimuth_cdeg[b] / 100.0;
        double gap = block_gap(d.azimuth_cdeg, b - (dual ? b % 2 : 0), step) / 100.0;
        for (unsigned ch = 0; ch < RL_VELODYNE_CHANNELS; ch++) {
            uint16_t raw = rl__get_u16le(blk + 4 + ch * POINT_LEN);
            if (raw == 0)
                continue;
            if (count >= cap) {
                overflow = true;
                continue;
            }
            unsigned laser, seq;
            uint32_t t_ns, in_block_ns, block_ns;
            double elev, azoff = 0;
            switch (model) {
            case RL_VELODYNE_VLP16:
                laser = ch % 16;
                seq = dual ? (b - b % 2) + ch / 16 : 2 * b + ch / 16;
                in_block_ns = (ch / 16) * VLP16_SEQUENCE_NS + laser * VLP16_FIRING_NS;
                block_ns = 2 * VLP16_SEQUENCE_NS;
                t_ns = seq * VLP16_SEQUENCE_NS + laser * VLP16_FIRING_NS;
                elev = vlp16_elev[laser];
                break;
            case RL_VELODYNE_VLP32C:
                laser = ch;
                seq = dual ? b / 2 : b;
                in_block_ns = (ch / 2) * VLP32C_PAIR_NS;
                block_ns = VLP32C_SEQUENCE_NS;
                t_ns = seq * VLP32C_SEQUENCE_NS + in_block_ns;
                elev = vlp32c_elev[ch];
                azoff = vlp32c_azoff[ch];
                break;
            default: /* RL_VELODYNE_HDL32E */
                laser = ch;
                seq = dual ? b / 2 : b;
                in_block_ns = ch * HDL32E_FIRING_NS;
                block_ns = HDL32E_SEQUENCE_NS;
                t_ns = seq * HDL32E_SEQUENCE_NS + in_block_ns;
                elev = hdl32e_elev[ch];
                break;
            }
            double a = az + gap * (double)in_block_ns / (double)block_ns + azoff;
            set_point(&pts[count++], raw * RL_VELODYNE_DIST_UNIT_M, elev, a,
                      blk[4 + ch * POINT_LEN + 2], laser, t_ns);
        }
    }
    *n = count;
    return overflow ? RL_ETOOBIG : 0;
}

static uint8_t product_of(enum rl_velodyne_model model)
{
    switch (model) {
    case RL_VELODYNE_VLP16:
        return RL_VELODYNE_PRODUCT_VLP16;
    case RL_VELODYNE_VLP32C:
        return RL_VELODYNE_PRODUCT_VLP32C;
    case RL_VELODYNE_HDL32E:
        return RL_VELODYNE_PRODUCT_HDL32E;
    case RL_VELODYNE_UNKNOWN:
        break;
    }
    return 0;
}

/* Metres -> counts of unit_m, rounded; false when not representable. */
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

int rl_velodyne_encode_packet(const struct rl_velodyne_frame *in, uint8_t *out, size_t out_len)
{
    uint8_t product = product_of(in->model);
    uint8_t mode = in->return_mode ? in->return_mode : RL_LIDAR_RETURN_STRONGEST;
    if (!out || out_len < RL_VELODYNE_DATA_LEN || product == 0 || in->timestamp_us >= HOUR_US)
        return -EINVAL;
    if (mode != RL_LIDAR_RETURN_STRONGEST && mode != RL_LIDAR_RETURN_LAST &&
        mode != RL_LIDAR_RETURN_DUAL)
        return -EINVAL;
    for (unsigned b = 0; b < RL_VELODYNE_BLOCKS; b++) {
        uint8_t *blk = out + b * BLOCK_LEN;
        if (in->azimuth_cdeg[b] >= AZIMUTH_FULL_CDEG)
            return -EINVAL;
        blk[0] = BLOCK_FLAG_0;
        blk[1] = BLOCK_FLAG_1;
        rl__put_u16le(blk + 2, in->azimuth_cdeg[b]);
        for (unsigned ch = 0; ch < RL_VELODYNE_CHANNELS; ch++) {
            uint16_t counts;
            if (!quantize(in->distance_m[b][ch], RL_VELODYNE_DIST_UNIT_M, &counts))
                return -EINVAL;
            rl__put_u16le(blk + 4 + ch * POINT_LEN, counts);
            blk[4 + ch * POINT_LEN + 2] = in->intensity[b][ch];
        }
    }
    rl__put_u32le(out + DATA_BLOCKS_LEN, in->timestamp_us);
    out[DATA_BLOCKS_LEN + 4] = mode;
    out[DATA_BLOCKS_LEN + 5] = product;
    return 0;
}

int rl_velodyne_encode_position(uint32_t timestamp_us, uint8_t pps_status, const char *nmea,
                                uint8_t *out, size_t out_len)
{
    size_t n = nmea ? strlen(nmea) : 0;
    if (!out || out_len < RL_VELODYNE_POSITION_LEN || timestamp_us >= HOUR_US || pps_status > 3 ||
        n + 2 > RL_VELODYNE_NMEA_MAX)
        return -EINVAL;
    memset(out, 0, RL_VELODYNE_POSITION_LEN);
    rl__put_u32le(out + POS_TIMESTAMP_OFF, timestamp_us);
    out[POS_PPS_OFF] = pps_status;
    if (n > 0) {
        memcpy(out + POS_NMEA_OFF, nmea, n);
        out[POS_NMEA_OFF + n] = '\r';
        out[POS_NMEA_OFF + n + 1] = '\n';
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The decoder of decode.h                                              */

static uint16_t payload_port(const struct rl_payload *pl)
{
    if (pl->dst_port == RL_VELODYNE_POSITION_PORT || pl->src_port == RL_VELODYNE_POSITION_PORT)
        return RL_VELODYNE_POSITION_PORT;
    return pl->dst_port ? pl->dst_port : pl->src_port;
}

static int detect(const struct rl_payload *pl)
{
    switch (rl_velodyne_identify(pl->data, pl->len, payload_port(pl))) {
    case RL_VELODYNE_KIND_DATA:
        return 95;
    case RL_VELODYNE_KIND_POSITION:
        return 90;
    case RL_VELODYNE_NOT_VELODYNE:
        break;
    }
    if (pl->dst_port == RL_VELODYNE_DATA_PORT || pl->src_port == RL_VELODYNE_DATA_PORT)
        return 30;
    return 0;
}

/* Writes a raw azimuth as degrees with exactly two decimals. */
static void put_cdeg(struct rl_jw *out, uint16_t cdeg)
{
    char b[16];
    int k = snprintf(b, sizeof(b), "%u.%02u", (unsigned)cdeg / 100u, (unsigned)cdeg % 100u);
    rl_jw_raw(out, b, (size_t)k);
}

static const char *pps_name(uint8_t s)
{
    static const char *const names[] = {"absent", "synchronizing", "locked", "error"};
    return s < 4 ? names[s] : "unknown";
}

static int decode_data(const struct rl_payload *pl, struct rl_jw *out, char *err, size_t err_len)
{
    struct rl_velodyne_data d;
    int rc = rl_velodyne_parse_data(pl->data, pl->len, &d);
    if (rc == RL_ETRUNC) {
        snprintf(err, err_len, "velodyne data packet truncated: %zu of %d bytes", pl->len,
                 RL_VELODYNE_DATA_LEN);
        return rc;
    }
    if (rc < 0) {
        unsigned b = 0;
        while (pl->len == RL_VELODYNE_DATA_LEN && b < RL_VELODYNE_BLOCKS &&
               pl->data[b * BLOCK_LEN] == BLOCK_FLAG_0 &&
               pl->data[b * BLOCK_LEN + 1] == BLOCK_FLAG_1)
            b++;
        if (b < RL_VELODYNE_BLOCKS && pl->len == RL_VELODYNE_DATA_LEN)
            snprintf(err, err_len, "velodyne block %u flag 0x%02x%02x at byte %u, want 0xffee", b,
                     pl->data[b * BLOCK_LEN], pl->data[b * BLOCK_LEN + 1], b * BLOCK_LEN);
        else
            snprintf(err, err_len, "velodyne data packet of %zu bytes, want %d", pl->len,
                     RL_VELODYNE_DATA_LEN);
        return rc;
    }
    rl_jw_kstr(out, "type", "velodyne.data");
    rl_jw_kstr(out, "model", rl_velodyne_model_name(d.model));
    rl_jw_ku64(out, "product_id", d.product_id);
    rl_jw_kstr(out, "return_mode", rl_lidar_return_mode_name(d.return_mode));
    rl_jw_ku64(out, "timestamp_us", d.timestamp_us);
    rl_jw_ku64(out, "points", d.valid_points);
    rl_jw_key(out, "azimuths");
    rl_jw_arr_begin(out);
    for (unsigned b = 0; b < RL_VELODYNE_BLOCKS; b++)
        put_cdeg(out, d.azimuth_cdeg[b]);
    rl_jw_arr_end(out);
    if (d.valid_points > 0) {
        rl_jw_kdouble(out, "range_min_m", d.min_distance * RL_VELODYNE_DIST_UNIT_M, 6);
        rl_jw_kdouble(out, "range_max_m", d.max_distance * RL_VELODYNE_DIST_UNIT_M, 6);
    }
    return 0;
}

static int decode_position(const struct rl_payload *pl, struct rl_jw *out, char *err,
                           size_t err_len)
{
    struct rl_velodyne_position pos;
    int rc = rl_velodyne_parse_position(pl->data, pl->len, &pos);
    if (rc < 0) {
        snprintf(err, err_len, "velodyne position packet of %zu bytes, want %d", pl->len,
                 RL_VELODYNE_POSITION_LEN);
        return rc;
    }
    rl_jw_kstr(out, "type", "velodyne.position");
    rl_jw_ku64(out, "timestamp_us", pos.timestamp_us);
    rl_jw_ku64(out, "pps_status", pos.pps_status);
    rl_jw_kstr(out, "pps", pps_name(pos.pps_status));
    rl_jw_key(out, "nmea");
    rl_jw_strn(out, pos.nmea, pos.nmea_len);
    if (pos.has_fix) {
        rl_jw_kdouble(out, "lat", pos.lat_deg, 10);
        rl_jw_kdouble(out, "lon", pos.lon_deg, 10);
    }
    if (pos.has_utc) {
        char b[64];
        snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%06.3fZ", pos.year, pos.month, pos.day,
                 pos.hour, pos.minute, pos.second);
        rl_jw_kstr(out, "utc", b);
    }
    return 0;
}

static int decode(const struct rl_decode_ctx *ctx, const struct rl_payload *pl, struct rl_jw *out,
                  char *err, size_t err_len)
{
    (void)ctx;
    if (!pl->data || pl->len == 0) {
        snprintf(err, err_len, "empty velodyne packet");
        return RL_ETRUNC;
    }
    /* A 512-byte payload is a position packet unless it starts like a data
     * packet and did not come from the position port: then it is a data
     * packet cut short. */
    bool data_like = pl->data[0] == BLOCK_FLAG_0 && pl->len > 1 && pl->data[1] == BLOCK_FLAG_1;
    if (pl->len == RL_VELODYNE_POSITION_LEN &&
        (!data_like || payload_port(pl) == RL_VELODYNE_POSITION_PORT))
        return decode_position(pl, out, err, err_len);
    if (pl->len < RL_VELODYNE_POSITION_LEN && payload_port(pl) == RL_VELODYNE_POSITION_PORT) {
        snprintf(err, err_len, "velodyne position packet truncated: %zu of %d bytes", pl->len,
                 RL_VELODYNE_POSITION_LEN);
        return RL_ETRUNC;
    }
    return decode_data(pl, out, err, err_len);
}

const struct rl_decoder rl_decoder_velodyne = {
    .name = "velodyne",
    .detect = detect,
    .decode = decode,
};
