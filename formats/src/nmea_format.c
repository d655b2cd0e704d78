/* NMEA 0183 encoders (gnss.h) for the simulator: GGA, RMC, VTG and HDT
 * sentences with the field layouts of NMEA 0183 4.11, "*hh" checksum and CR
 * LF, never longer than the standard's 82 characters. Positions are written
 * as ddmm.mmmmm / dddmm.mmmmm (1e-5 minute, about 2 cm), times as
 * hhmmss.ss; absent values become empty fields. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nmea_internal.h"
#include "roadlog/gnss.h"

#define LATLON_MIN_DECIMALS 5
#define LATLON_MIN_UNIT     100000LL /* 10^LATLON_MIN_DECIMALS */
#define MAX_ABS_VALUE       1e12     /* larger magnitudes cannot fit a sentence */
#define RMC_YEAR_MIN        1980     /* two-digit years: 1980..2079 */
#define RMC_YEAR_MAX        2079

struct sbuf {
    char buf[RL_NMEA_MAX_LEN + 1];
    size_t len;
    bool bad; /* value out of range or not encodable */
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->buf + b->len, sizeof(b->buf) - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(b->buf) - b->len) {
        b->bad = true;
        return;
    }
    b->len += (size_t)n;
}

static bool talker_ok(const char *t)
{
    return t && rl__nmea_addr_char(t[0]) && rl__nmea_addr_char(t[1]) && t[2] == '\0' && t[0] != 'P';
}

static void put_double(struct sbuf *b, double v, int decimals)
{
    if (isnan(v)) {
        sb_printf(b, ",");
        return;
    }
    if (!isfinite(v) || fabs(v) > MAX_ABS_VALUE) {
        b->bad = true;
        return;
    }
    sb_printf(b, ",%.*f", decimals, v);
}

static void put_uint(struct sbuf *b, int v, int width, int max)
{
    if (v == RL_NMEA_ABSENT) {
        sb_printf(b, ",");
        return;
    }
    if (v < 0 || v > max) {
        b->bad = true;
        return;
    }
    sb_printf(b, ",%0*d", width, v);
}

static void put_char(struct sbuf *b, char c)
{
    if (c == '\0') {
        sb_printf(b, ",");
        return;
    }
    if (!rl__nmea_addr_char(c)) {
        b->bad = true;
        return;
    }
    sb_printf(b, ",%c", c);
}

#define CENTI_NS 10000000LL

static void put_time(struct sbuf *b, const struct rl_nmea_time *t)
{
    if (!t->valid) {
        sb_printf(b, ",");
        return;
    }
    if (t->tod_ns < 0 || t->tod_ns >= (RL__NMEA_S_PER_DAY + 1) * RL__NMEA_NS_PER_S) {
        b->bad = true;
        return;
    }
    int64_t cs = t->tod_ns / CENTI_NS;
    int hms[3];
    rl__nmea_split_tod(cs / 100, hms);
    sb_printf(b, ",%02d%02d%02d.%02d", hms[0], hms[1], hms[2], (int)(cs % 100));
}

/* Degrees to "ddmm.mmmmm,H" (lat) or "dddmm.mmmmm,H" (lon). */
static void put_latlon(struct sbuf *b, double deg, bool is_lat)
{
    if (isnan(deg)) {
        sb_printf(b, ",,");
        return;
    }
    double lim = is_lat ? 90.0 : 180.0;
    if (!isfinite(deg) || fabs(deg) > lim) {
        b->bad = true;
        return;
    }
    const long long unit = LATLON_MIN_UNIT;
    long long total = llround(fabs(deg) * 60.0 * (double)unit);
    long long d = total / (60 * unit), m = total % (60 * unit);
    char h = is_lat ? (deg < 0 ? 'S' : 'N') : (deg < 0 ? 'W' : 'E');
    sb_printf(b, ",%0*lld%02lld.%0*lld,%c", is_lat ? 2 : 3, d, m / unit, LATLON_MIN_DECIMALS,
              m % unit, h);
}

static int finish(struct sbuf *b, char *out, size_t cap)
{
    if (b->bad)
        return -EINVAL;
    uint8_t x = rl_nmea_checksum(b->buf + 1, b->len - 1);
    sb_printf(b, "*%02X\r\n", x);
    if (b->bad || b->len > RL_NMEA_STD_MAX_LEN)
        return -EINVAL;
    if (b->len + 1 > cap)
        return -ENOBUFS;
    memcpy(out, b->buf, b->len + 1);
    return (int)b->len;
}

static bool begin(struct sbuf *b, const char *talker, const char *sentence)
{
    b->len = 0;
    b->bad = false;
    if (!talker_ok(talker))
        return false;
    sb_printf(b, "$%s%s", talker, sentence);
    return true;
}

int rl_nmea_format_gga(char *out, size_t cap, const char *talker, const struct rl_nmea_gga *v)
{
    struct sbuf b;
    if (!begin(&b, talker, "GGA"))
        return -EINVAL;
    put_time(&b, &v->time);
    put_latlon(&b, v->lat_deg, true);
    put_latlon(&b, v->lon_deg, false);
    put_uint(&b, v->fix_quality, 1, 9);
    put_uint(&b, v->num_satellites, 2, 99);
    put_double(&b, v->hdop, 2);
    put_double(&b, v->altitude_m, 3);
    sb_printf(&b, ",M");
    put_double(&b, v->geoid_separation_m, 3);
    sb_printf(&b, ",M");
    put_double(&b, v->dgps_age_s, 1);
    put_uint(&b, v->dgps_station, 4, 9999);
    return finish(&b, out, cap);
}

int rl_nmea_format_rmc(char *out, size_t cap, const char *talker, const struct rl_nmea_rmc *v)
{
    struct sbuf b;
    if (!begin(&b, talker, "RMC"))
        return -EINVAL;
    put_time(&b, &v->time);
    put_char(&b, v->status);
    put_latlon(&b, v->lat_deg, true);
    put_latlon(&b, v->lon_deg, false);
    double kn = !isnan(v->speed_knots) ? v->speed_knots : v->speed_mps / RL__NMEA_KNOT_MPS;
    put_double(&b, kn, 3);
    put_double(&b, v->course_deg, 2);
    if (v->date.valid) {
        if (!rl__nmea_date_ok(v->date.year, v->date.month, v->date.day) ||
            v->date.year < RMC_YEAR_MIN || v->date.year > RMC_YEAR_MAX)
            return -EINVAL;
        sb_printf(&b, ",%02d%02d%02d", v->date.day, v->date.month, v->date.year % 100);
    } else {
        sb_printf(&b, ",");
    }
    if (isnan(v->mag_variation_deg)) {
        sb_printf(&b, ",,");
    } else {
        put_double(&b, fabs(v->mag_variation_deg), 1);
        sb_printf(&b, ",%c", v->mag_variation_deg < 0 ? 'W' : 'E');
    }
    put_char(&b, v->mode);
    if (v->nav_status != '\0')
        put_char(&b, v->nav_status);
    return finish(&b, out, cap);
}

int rl_nmea_format_vtg(char *out, size_t cap, const char *talker, const struct rl_nmea_vtg *v)
{
    struct sbuf b;
    if (!begin(&b, talker, "VTG"))
        return -EINVAL;
    double mps = v->speed_mps;
    if (isnan(mps))
        mps = !isnan(v->speed_knots) ? v->speed_knots * RL__NMEA_KNOT_MPS
                                     : v->speed_kmh * RL__NMEA_KMH_MPS;
    double kn = !isnan(v->speed_knots) ? v->speed_knots : mps / RL__NMEA_KNOT_MPS;
    double kmh = !isnan(v->speed_kmh) ? v->speed_kmh : mps / RL__NMEA_KMH_MPS;
    put_double(&b, v->course_true_deg, 2);
    sb_printf(&b, ",T");
    put_double(&b, v->course_mag_deg, 2);
    sb_printf(&b, ",M");
    put_double(&b, kn, 3);
    sb_printf(&b, ",N");
    put_double(&b, kmh, 3);
    sb_printf(&b, ",K");
    put_char(&b, v->mode);
    return finish(&b, out, cap);
}

int rl_nmea_format_hdt(char *out, size_t cap, const char *talker, const struct rl_nmea_hdt *v)
{
    struct sbuf b;
    if (!begin(&b, talker, "HDT"))
        return -EINVAL;
    put_double(&b, v->heading_deg, 2);
    sb_printf(&b, ",T");
    return finish(&b, out, cap);
}
