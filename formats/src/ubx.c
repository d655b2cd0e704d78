/* u-blox UBX binary protocol (gnss.h): frame check and build, the class/id
 * names, the NAV-PVT payload, and the "ubx" decoder of decode.h. Implements
 * the UBX frame structure of the u-blox protocol specifications (interface
 * descriptions, "UBX protocol" chapter): sync chars 0xB5 0x62, message class,
 * message id, little-endian u16 payload length, payload, and the 8-bit
 * Fletcher checksum CK_A/CK_B over class, id, length and payload. NAV-PVT
 * (class 0x01 id 0x07) is decoded field by field at the offsets of the
 * specification's payload table (92 bytes since protocol 15, 84 before);
 * other messages are named and their length reported.
 *
 * JSON field names are the specification's names in snake case with the
 * unit as suffix after scaling to plain units (lon/lat in degrees like the
 * NMEA decoder, mm -> m, mm/s -> m/s, 1e-5 deg -> deg). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "roadlog/decode.h"
#include "roadlog/gnss.h"

#define DEG_1E7    1e-7
#define DEG_1E5    1e-5
#define DEG_1E2    1e-2
#define MM_TO_M    1e-3
#define DOP_SCALE  0.01
#define DIGITS_DEG 12
#define DIGITS_VAL 9

#define NAV_PVT_HEAD_VEH_OFF 84
#define NAV_PVT_MAG_DEC_OFF  88
#define NAV_PVT_MAG_ACC_OFF  90

#define DETECT_CERTAIN   100
#define DETECT_SYNC_ONLY 20

_Static_assert(RL_UBX_OVERHEAD == RL_UBX_HEADER_LEN + 2,
               "UBX overhead is header + 2 checksum bytes");

void rl_ubx_checksum(const uint8_t *p, size_t n, uint8_t *ck_a, uint8_t *ck_b)
{
    uint8_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (uint8_t)(a + p[i]);
        b = (uint8_t)(b + a);
    }
    *ck_a = a;
    *ck_b = b;
}

int rl_ubx_parse(const uint8_t *p, size_t len, struct rl_ubx_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 2)
        return RL_ETRUNC;
    if (p[0] != RL_UBX_SYNC1 || p[1] != RL_UBX_SYNC2)
        return RL_ECORRUPT;
    if (len < RL_UBX_HEADER_LEN)
        return RL_ETRUNC;
    uint16_t plen = rl__get_u16le(p + 4);
    if (plen > RL_UBX_MAX_PAYLOAD)
        return RL_ETOOBIG;
    size_t total = (size_t)plen + RL_UBX_OVERHEAD;
    if (len < total)
        return RL_ETRUNC;
    if (len > total)
        return RL_ECORRUPT;
    uint8_t a, b;
    rl_ubx_checksum(p + 2, (size_t)plen + 4, &a, &b);
    out->cls = p[2];
    out->id = p[3];
    out->len = plen;
    out->payload = p + RL_UBX_HEADER_LEN;
    if (a != p[total - 2] || b != p[total - 1])
        return RL_ECRC;
    return 0;
}

int rl_ubx_frame(uint8_t cls, uint8_t id, const uint8_t *payload, size_t len, uint8_t *out,
                 size_t cap)
{
    if (len > RL_UBX_MAX_PAYLOAD)
        return RL_ETOOBIG;
    if (cap < len + RL_UBX_OVERHEAD)
        return -ENOBUFS;
    out[0] = RL_UBX_SYNC1;
    out[1] = RL_UBX_SYNC2;
    out[2] = cls;
    out[3] = id;
    rl__put_u16le(out + 4, (uint16_t)len);
    if (len > 0)
        memmove(out + RL_UBX_HEADER_LEN, payload, len);
    rl_ubx_checksum(out + 2, len + 4, &out[RL_UBX_HEADER_LEN + len],
                    &out[RL_UBX_HEADER_LEN + len + 1]);
    return (int)(len + RL_UBX_OVERHEAD);
}

/* Message names from the u-blox protocol specifications (M8, F9 HPG/HPS/R). */
static const struct {
    uint8_t cls, id;
    const char *name;
} names[] = {
    {0x01, 0x01, "NAV-POSECEF"},  {0x01, 0x02, "NAV-POSLLH"},  {0x01, 0x03, "NAV-STATUS"},
    {0x01, 0x04, "NAV-DOP"},      {0x01, 0x05, "NAV-ATT"},     {0x01, 0x06, "NAV-SOL"},
    {0x01, 0x07, "NAV-PVT"},      {0x01, 0x09, "NAV-ODO"},     {0x01, 0x10, "NAV-RESETODO"},
    {0x01, 0x11, "NAV-VELECEF"},  {0x01, 0x12, "NAV-VELNED"},  {0x01, 0x13, "NAV-HPPOSECEF"},
    {0x01, 0x14, "NAV-HPPOSLLH"}, {0x01, 0x20, "NAV-TIMEGPS"}, {0x01, 0x21, "NAV-TIMEUTC"},
    {0x01, 0x22, "NAV-CLOCK"},    {0x01, 0x23, "NAV-TIMEGLO"}, {0x01, 0x24, "NAV-TIMEBDS"},
    {0x01, 0x25, "NAV-TIMEGAL"},  {0x01, 0x26, "NAV-TIMELS"},  {0x01, 0x27, "NAV-TIMEQZSS"},
    {0x01, 0x30, "NAV-SVINFO"},   {0x01, 0x31, "NAV-DGPS"},    {0x01, 0x32, "NAV-SBAS"},
    {0x01, 0x34, "NAV-ORB"},      {0x01, 0x35, "NAV-SAT"},     {0x01, 0x36, "NAV-COV"},
    {0x01, 0x39, "NAV-GEOFENCE"}, {0x01, 0x3B, "NAV-SVIN"},    {0x01, 0x3C, "NAV-RELPOSNED"},
    {0x01, 0x42, "NAV-SLAS"},     {0x01, 0x43, "NAV-SIG"},     {0x01, 0x60, "NAV-AOPSTATUS"},
    {0x01, 0x61, "NAV-EOE"},      {0x02, 0x13, "RXM-SFRBX"},   {0x02, 0x14, "RXM-MEASX"},
    {0x02, 0x15, "RXM-RAWX"},     {0x02, 0x32, "RXM-RTCM"},    {0x02, 0x33, "RXM-SPARTN"},
    {0x02, 0x34, "RXM-COR"},      {0x02, 0x41, "RXM-PMREQ"},   {0x02, 0x59, "RXM-RLM"},
    {0x04, 0x00, "INF-ERROR"},    {0x04, 0x01, "INF-WARNING"}, {0x04, 0x02, "INF-NOTICE"},
    {0x04, 0x03, "INF-TEST"},     {0x04, 0x04, "INF-DEBUG"},   {0x05, 0x00, "ACK-NAK"},
    {0x05, 0x01, "ACK-ACK"},      {0x06, 0x00, "CFG-PRT"},     {0x06, 0x01, "CFG-MSG"},
    {0x06, 0x02, "CFG-INF"},      {0x06, 0x04, "CFG-RST"},     {0x06, 0x08, "CFG-RATE"},
    {0x06, 0x09, "CFG-CFG"},      {0x06, 0x24, "CFG-NAV5"},    {0x06, 0x3E, "CFG-GNSS"},
    {0x06, 0x8A, "CFG-VALSET"},   {0x06, 0x8B, "CFG-VALGET"},  {0x06, 0x8C, "CFG-VALDEL"},
    {0x09, 0x14, "UPD-SOS"},      {0x0A, 0x02, "MON-IO"},      {0x0A, 0x04, "MON-VER"},
    {0x0A, 0x06, "MON-MSGPP"},    {0x0A, 0x07, "MON-RXBUF"},   {0x0A, 0x08, "MON-TXBUF"},
    {0x0A, 0x09, "MON-HW"},       {0x0A, 0x0B, "MON-HW2"},     {0x0A, 0x21, "MON-RXR"},
    {0x0A, 0x27, "MON-PATCH"},    {0x0A, 0x28, "MON-GNSS"},    {0x0A, 0x31, "MON-SPAN"},
    {0x0A, 0x36, "MON-COMMS"},    {0x0A, 0x37, "MON-HW3"},     {0x0A, 0x38, "MON-RF"},
    {0x0A, 0x39, "MON-SYS"},      {0x0D, 0x01, "TIM-TP"},      {0x0D, 0x03, "TIM-TM2"},
    {0x0D, 0x04, "TIM-SVIN"},     {0x0D, 0x06, "TIM-VRFY"},    {0x0D, 0x12, "TIM-TOS"},
    {0x10, 0x02, "ESF-MEAS"},     {0x10, 0x03, "ESF-RAW"},     {0x10, 0x10, "ESF-STATUS"},
    {0x10, 0x14, "ESF-ALG"},      {0x10, 0x15, "ESF-INS"},     {0x27, 0x03, "SEC-UNIQID"},
    {0x27, 0x09, "SEC-SIG"},      {0x28, 0x00, "HNR-PVT"},     {0x28, 0x01, "HNR-ATT"},
    {0x28, 0x02, "HNR-INS"},
};

const char *rl_ubx_name(uint8_t cls, uint8_t id)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].cls == cls && names[i].id == id)
            return names[i].name;
    return NULL;
}

static int32_t get_i32(const uint8_t *p)
{
    uint32_t u = rl__get_u32le(p);
    return u <= INT32_MAX ? (int32_t)u : -(int32_t)(UINT32_MAX - u) - 1;
}

static int16_t get_i16(const uint8_t *p)
{
    uint16_t u = rl__get_u16le(p);
    return u <= INT16_MAX ? (int16_t)u : (int16_t)(-(int)(UINT16_MAX - u) - 1);
}

int rl_ubx_nav_pvt_parse(const uint8_t *payload, size_t len, struct rl_ubx_nav_pvt *out)
{
    struct rl_cursor c;
    const uint8_t *b;
    memset(out, 0, sizeof(*out));
    if (len < RL_UBX_NAV_PVT_LEN_V14)
        return RL_ETRUNC;
    rl__cursor_init(&c, payload, len);
    out->itow_ms = rl__cursor_u32(&c);
    out->year = rl__cursor_u16(&c);
    out->month = rl__cursor_u8(&c);
    out->day = rl__cursor_u8(&c);
    out->hour = rl__cursor_u8(&c);
    out->min = rl__cursor_u8(&c);
    out->sec = rl__cursor_u8(&c);
    out->valid = rl__cursor_u8(&c);
    out->t_acc_ns = rl__cursor_u32(&c);
    if (rl__cursor_take(&c, 4, &b))
        out->nano_ns = get_i32(b);
    out->fix_type = rl__cursor_u8(&c);
    out->flags = rl__cursor_u8(&c);
    out->flags2 = rl__cursor_u8(&c);
    out->num_sv = rl__cursor_u8(&c);
    /* Twelve signed/unsigned 32-bit fields from lon to gSpeed, then headMot. */
    int32_t v[11];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        v[i] = rl__cursor_take(&c, 4, &b) ? get_i32(b) : 0;
    out->lon_deg = v[0] * DEG_1E7;
    out->lat_deg = v[1] * DEG_1E7;
    out->height_m = v[2] * MM_TO_M;
    out->hmsl_m = v[3] * MM_TO_M;
    out->h_acc_m = (uint32_t)v[4] * MM_TO_M;
    out->v_acc_m = (uint32_t)v[5] * MM_TO_M;
    out->vel_n_mps = v[6] * MM_TO_M;
    out->vel_e_mps = v[7] * MM_TO_M;
    out->vel_d_mps = v[8] * MM_TO_M;
    out->g_speed_mps = v[9] * MM_TO_M;
    out->head_mot_deg = v[10] * DEG_1E5;
    out->s_acc_mps = rl__cursor_u32(&c) * MM_TO_M;
    out->head_acc_deg = rl__cursor_u32(&c) * DEG_1E5;
    out->p_dop = rl__cursor_u16(&c) * DOP_SCALE;
    out->flags3 = rl__cursor_u16(&c);
    if (c.failed)
        return RL_ETRUNC;
    if (len >= RL_UBX_NAV_PVT_LEN) {
        out->has_head_veh = true;
        out->head_veh_deg = get_i32(payload + NAV_PVT_HEAD_VEH_OFF) * DEG_1E5;
        out->mag_dec_deg = get_i16(payload + NAV_PVT_MAG_DEC_OFF) * DEG_1E2;
        out->mag_acc_deg = rl__get_u16le(payload + NAV_PVT_MAG_ACC_OFF) * DEG_1E2;
    }
    return 0;
}

static uint32_t to_u32(double v, double scale)
{
    double r = round(v / scale);
    if (!(r >= 0))
        return 0;
    return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

static uint32_t to_i32(double v, double scale)
{
    double r = round(v / scale);
    if (isnan(r))
        return 0;
    if (r > INT32_MAX)
        r = INT32_MAX;
    if (r < INT32_MIN)
        r = INT32_MIN;
    int32_t i = (int32_t)r;
    return (uint32_t)i;
}

int rl_ubx_nav_pvt_encode(const struct rl_ubx_nav_pvt *v, uint8_t *out, size_t cap)
{
    if (cap < RL_UBX_NAV_PVT_LEN)
        return -ENOBUFS;
    memset(out, 0, RL_UBX_NAV_PVT_LEN);
    rl__put_u32le(out + 0, v->itow_ms);
    rl__put_u16le(out + 4, v->year);
    out[6] = v->month;
    out[7] = v->day;
    out[8] = v->hour;
    out[9] = v->min;
    out[10] = v->sec;
    out[11] = v->valid;
    rl__put_u32le(out + 12, v->t_acc_ns);
    rl__put_u32le(out + 16, (uint32_t)v->nano_ns);
    out[20] = v->fix_type;
    out[21] = v->flags;
    out[22] = v->flags2;
    out[23] = v->num_sv;
    rl__put_u32le(out + 24, to_i32(v->lon_deg, DEG_1E7));
    rl__put_u32le(out + 28, to_i32(v->lat_deg, DEG_1E7));
    rl__put_u32le(out + 32, to_i32(v->height_m, MM_TO_M));
    rl__put_u32le(out + 36, to_i32(v->hmsl_m, MM_TO_M));
    rl__put_u32le(out + 40, to_u32(v->h_acc_m, MM_TO_M));
    rl__put_u32le(out + 44, to_u32(v->v_acc_m, MM_TO_M));
    rl__put_u32le(out + 48, to_i32(v->vel_n_mps, MM_TO_M));
    rl__put_u32le(out + 52, to_i32(v->vel_e_mps, MM_TO_M));
    rl__put_u32le(out + 56, to_i32(v->vel_d_mps, MM_TO_M));
    rl__put_u32le(out + 60, to_i32(v->g_speed_mps, MM_TO_M));
    rl__put_u32le(out + 64, to_i32(v->head_mot_deg, DEG_1E5));
    rl__put_u32le(out + 68, to_u32(v->s_acc_mps, MM_TO_M));
    rl__put_u32le(out + 72, to_u32(v->head_acc_deg, DEG_1E5));
    uint32_t pdop = to_u32(v->p_dop, DOP_SCALE);
    rl__put_u16le(out + 76, (uint16_t)(pdop > UINT16_MAX ? UINT16_MAX : pdop));
    rl__put_u16le(out + 78, v->flags3);
    rl__put_u32le(out + NAV_PVT_HEAD_VEH_OFF, to_i32(v->head_veh_deg, DEG_1E5));
    double mag_dec = isnan(v->mag_dec_deg)
                         ? 0.0
                         : fmax(INT16_MIN * DEG_1E2, fmin(INT16_MAX * DEG_1E2, v->mag_dec_deg));
    rl__put_u16le(out + NAV_PVT_MAG_DEC_OFF, (uint16_t)to_i32(mag_dec, DEG_1E2));
    uint32_t macc = to_u32(v->mag_acc_deg, DEG_1E2);
    rl__put_u16le(out + NAV_PVT_MAG_ACC_OFF, (uint16_t)(macc > UINT16_MAX ? UINT16_MAX : macc));
    return RL_UBX_NAV_PVT_LEN;
}

/* ---- the decoder --------------------------------------------------------- */

#define PVT_VALID_DATE           0x01
#define PVT_VALID_TIME           0x02
#define PVT_FULLY_RESOLVED       0x04
#define PVT_VALID_MAG            0x08
#define PVT_FLAG_GNSS_FIX_OK     0x01
#define PVT_FLAG_DIFF_SOLN       0x02
#define PVT_FLAG_HEAD_VEH_VALID  0x20
#define PVT_CARR_SOLN_SHIFT      6
#define PVT_FLAG3_INVALID_LLH    0x01
#define NS_PER_S                 1000000000LL
#define SECONDS_PER_DAY          86400LL
#define DAYS_0000_03_01_TO_EPOCH 719468 /* 0000-03-01 .. 1970-01-01 */
/* Years whose times fit int64 ns since 1970 with room to spare. */
#define UTC_YEAR_MIN 1970
#define UTC_YEAR_MAX 2200

/* Days from 1970-01-01 to a proleptic Gregorian date: count from March 1
 * of year 0 so the leap day is the last day of the counted year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    if (m <= 2)
        y -= 1;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - DAYS_0000_03_01_TO_EPOCH;
}

/* The solution's UTC time in ns since the Unix epoch, when date and time are
 * flagged valid and in range. */
static bool pvt_utc_ns(const struct rl_ubx_nav_pvt *p, int64_t *out)
{
    if ((p->valid & (PVT_VALID_DATE | PVT_VALID_TIME)) != (PVT_VALID_DATE | PVT_VALID_TIME))
        return false;
    if (p->year < UTC_YEAR_MIN || p->year > UTC_YEAR_MAX || p->month < 1 || p->month > 12 ||
        p->day < 1 || p->day > 31 || p->hour > 23 || p->min > 59 || p->sec > 60)
        return false;
    int64_t days = days_from_civil(p->year, p->month, p->day);
    int64_t s = days * SECONDS_PER_DAY + p->hour * 3600 + p->min * 60 + p->sec;
    *out = s * NS_PER_S + p->nano_ns;
    return true;
}

static void emit_nav_pvt(struct rl_jw *w, const struct rl_ubx_nav_pvt *p)
{
    rl_jw_ku64(w, "i_tow_ms", p->itow_ms);
    rl_jw_ku64(w, "year", p->year);
    rl_jw_ku64(w, "month", p->month);
    rl_jw_ku64(w, "day", p->day);
    rl_jw_ku64(w, "hour", p->hour);
    rl_jw_ku64(w, "min", p->min);
    rl_jw_ku64(w, "sec", p->sec);
    rl_jw_ki64(w, "nano_ns", p->nano_ns);
    rl_jw_kbool(w, "valid_date", p->valid & PVT_VALID_DATE);
    rl_jw_kbool(w, "valid_time", p->valid & PVT_VALID_TIME);
    rl_jw_kbool(w, "fully_resolved", p->valid & PVT_FULLY_RESOLVED);
    rl_jw_kbool(w, "valid_mag", p->valid & PVT_VALID_MAG);
    int64_t utc_ns;
    rl_jw_key(w, "utc_ns");
    if (pvt_utc_ns(p, &utc_ns))
        rl_jw_i64(w, utc_ns);
    else
        rl_jw_null(w);
    rl_jw_ku64(w, "t_acc_ns", p->t_acc_ns);
    rl_jw_ku64(w, "fix_type", p->fix_type);
    rl_jw_kbool(w, "gnss_fix_ok", p->flags & PVT_FLAG_GNSS_FIX_OK);
    rl_jw_kbool(w, "diff_soln", p->flags & PVT_FLAG_DIFF_SOLN);
    rl_jw_kbool(w, "head_veh_valid", p->flags & PVT_FLAG_HEAD_VEH_VALID);
    rl_jw_ku64(w, "carr_soln", (unsigned)p->flags >> PVT_CARR_SOLN_SHIFT);
    rl_jw_ku64(w, "num_sv", p->num_sv);
    rl_jw_kdouble(w, "lon", p->lon_deg, DIGITS_DEG);
    rl_jw_kdouble(w, "lat", p->lat_deg, DIGITS_DEG);
    rl_jw_kdouble(w, "height_m", p->height_m, DIGITS_VAL);
    rl_jw_kdouble(w, "h_msl_m", p->hmsl_m, DIGITS_VAL);
    rl_jw_kdouble(w, "h_acc_m", p->h_acc_m, DIGITS_VAL);
    rl_jw_kdouble(w, "v_acc_m", p->v_acc_m, DIGITS_VAL);
    rl_jw_kdouble(w, "vel_n_mps", p->vel_n_mps, DIGITS_VAL);
    rl_jw_kdouble(w, "vel_e_mps", p->vel_e_mps, DIGITS_VAL);
    rl_jw_kdouble(w, "vel_d_mps", p->vel_d_mps, DIGITS_VAL);
    rl_jw_kdouble(w, "g_speed_mps", p->g_speed_mps, DIGITS_VAL);
    rl_jw_kdouble(w, "head_mot_deg", p->head_mot_deg, DIGITS_VAL);
    rl_jw_kdouble(w, "s_acc_mps", p->s_acc_mps, DIGITS_VAL);
    rl_jw_kdouble(w, "head_acc_deg", p->head_acc_deg, DIGITS_VAL);
    rl_jw_kdouble(w, "p_dop", p->p_dop, DIGITS_VAL);
    rl_jw_kbool(w, "invalid_llh", p->flags3 & PVT_FLAG3_INVALID_LLH);
    if (p->has_head_veh) {
        rl_jw_kdouble(w, "head_veh_deg", p->head_veh_deg, DIGITS_VAL);
        rl_jw_kdouble(w, "mag_dec_deg", p->mag_dec_deg, DIGITS_VAL);
        rl_jw_kdouble(w, "mag_acc_deg", p->mag_acc_deg, DIGITS_VAL);
    }
}

static int ubx_detect(const struct rl_payload *pl)
{
    struct rl_ubx_msg m;
    if (pl->len < 2 || pl->data[0] != RL_UBX_SYNC1 || pl->data[1] != RL_UBX_SYNC2)
        return 0;
    return rl_ubx_parse(pl->data, pl->len, &m) == 0 ? DETECT_CERTAIN : DETECT_SYNC_ONLY;
}

static int ubx_decode(const struct rl_decode_ctx *ctx, const struct rl_payload *pl, struct rl_jw *w,
                      char *err, size_t err_len)
{
    struct rl_ubx_msg m;
    char type[40];
    (void)ctx;
    int rc = rl_ubx_parse(pl->data, pl->len, &m);
    if (rc < 0) {
        if (rc == RL_ECRC)
            (void)snprintf(err, err_len, "bad UBX checksum (class 0x%02x id 0x%02x, %u bytes)",
                           m.cls, m.id, m.len);
        else
            (void)snprintf(err, err_len, "not a UBX frame of %zu bytes: %s", pl->len,
                           rl_strerror(rc));
        return rc;
    }
    const char *name = rl_ubx_name(m.cls, m.id);
    if (name)
        (void)snprintf(type, sizeof(type), "ubx.%s", name);
    else
        (void)snprintf(type, sizeof(type), "ubx.unknown");
    rl_jw_kstr(w, "type", type);
    rl_jw_ku64(w, "class", m.cls);
    rl_jw_ku64(w, "id", m.id);
    rl_jw_ku64(w, "length", m.len);
    if (m.cls == RL_UBX_CLASS_NAV && m.id == RL_UBX_ID_NAV_PVT) {
        struct rl_ubx_nav_pvt pvt;
        rc = rl_ubx_nav_pvt_parse(m.payload, m.len, &pvt);
        if (rc < 0) {
            (void)snprintf(err, err_len, "NAV-PVT payload of %u bytes, need %d", m.len,
                           RL_UBX_NAV_PVT_LEN_V14);
            return rc;
        }
        emit_nav_pvt(w, &pvt);
    }
    return 0;
}

const struct rl_decoder rl_decoder_ubx = {
    .name = "ubx",
    .detect = ubx_detect,
    .decode = ubx_decode,
};
