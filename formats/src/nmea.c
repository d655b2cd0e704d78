/* NMEA 0183 sentences (gnss.h): the typed parser and the "nmea" decoder of
 * decode.h (the encoders are in nmea_format.c). Implements the NMEA 0183
 * sentence structure (start '$' or '!', address = two-character talker +
 * sentence formatter or 'P' + manufacturer code, comma-separated fields,
 * optional "*hh" XOR checksum over the characters between the start and '*',
 * CR LF) and the field layouts of GGA, RMC, VTG, HDT, GST, GSA, GSV, ZDA and
 * GNS up to NMEA 4.11 (RMC/GNS navigational status, GSA system id, GSV
 * signal id). Every other sentence, proprietary ones included, is reported
 * with its raw fields.
 *
 * Leniency follows what real receivers send: sentences up to RL_NMEA_MAX_LEN
 * characters (the standard's 82 is exceeded by Unicore and others), extra
 * trailing fields (SiRF adds one to GGA), a missing checksum (accepted and
 * flagged) and a non-integer GSA system id (SiRF writes a float there; it is
 * left absent). A wrong checksum or a malformed field of a decoded type is
 * an error. Numbers are parsed by hand (no strtod): digits only, so the C
 * locale cannot change the result and "inf"/"0x1p3" are refused. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nmea_internal.h"
#include "roadlog/decode.h"
#include "roadlog/gnss.h"

#define NS_PER_S             RL__NMEA_NS_PER_S
#define KNOT_MPS             RL__NMEA_KNOT_MPS
#define KMH_MPS              RL__NMEA_KMH_MPS
#define MAX_NUM_DIGITS       18 /* fits a uint64_t mantissa */
#define MAX_FRAC_DIGITS      9  /* nanoseconds in a time field */
#define TWO_DIGIT_YEAR_PIVOT 80 /* yy < 80 -> 20yy, else 19yy */
#define DIGITS_DEG           12 /* significant digits of lat/lon in JSON */
#define DIGITS_VAL           9
#define MAX_LATLON_FRAC      12 /* read: keeps 100 * 10^frac within uint64_t */
#define CHECKSUM_SUFFIX_LEN  3  /* "*hh" */

/* Detection scores (decode.h): certain with a valid checksum. */
#define DETECT_CHECKSUM_OK  95
#define DETECT_NO_CHECKSUM  60
#define DETECT_BAD_CHECKSUM 30

static const double pow10_tab[MAX_NUM_DIGITS + 1] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
                                                     1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                                     1e14, 1e15, 1e16, 1e17, 1e18};

uint8_t rl_nmea_checksum(const char *body, size_t len)
{
    uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= (uint8_t)body[i];
    return x;
}

const char *rl_nmea_kind_name(enum rl_nmea_kind kind)
{
    switch (kind) {
    case RL_NMEA_GGA:
        return "GGA";
    case RL_NMEA_RMC:
        return "RMC";
    case RL_NMEA_VTG:
        return "VTG";
    case RL_NMEA_HDT:
        return "HDT";
    case RL_NMEA_GST:
        return "GST";
    case RL_NMEA_GSA:
        return "GSA";
    case RL_NMEA_GSV:
        return "GSV";
    case RL_NMEA_ZDA:
        return "ZDA";
    case RL_NMEA_GNS:
        return "GNS";
    case RL_NMEA_PROPRIETARY:
        return "proprietary";
    case RL_NMEA_UNKNOWN:
        break;
    }
    return "unknown";
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* ---- field access ------------------------------------------------------ */

/* Field reading state: the first malformed field is remembered. */
struct fields {
    const struct rl_nmea *m;
    int bad;
};

static bool field(const struct fields *f, size_t i, const char **p, size_t *n)
{
    if (i >= f->m->n_fields || f->m->fields[i].len == 0)
        return false;
    *p = f->m->text + f->m->fields[i].off;
    *n = f->m->fields[i].len;
    return true;
}

static void mark_bad(struct fields *f, size_t i)
{
    if (f->bad < 0)
        f->bad = (int)i;
}

/* Decimal "[+-]digits[.digits]" into mantissa and fraction digit count. */
static bool parse_decimal(const char *p, size_t n, bool *neg, uint64_t *mant, int *frac)
{
    size_t i = 0;
    int digits = 0;
    bool dot = false;
    *neg = false;
    *mant = 0;
    *frac = 0;
    if (n > 0 && (p[0] == '-' || p[0] == '+')) {
        *neg = p[0] == '-';
        i = 1;
    }
    for (; i < n; i++) {
        if (p[i] == '.') {
            if (dot)
                return false;
            dot = true;
            continue;
        }
        if (p[i] < '0' || p[i] > '9')
            return false;
        if (++digits > MAX_NUM_DIGITS)
            return false;
        *mant = *mant * 10 + (uint64_t)(p[i] - '0');
        if (dot)
            (*frac)++;
    }
    return digits > 0;
}

static double f_double(struct fields *f, size_t i)
{
    const char *p;
    size_t n;
    bool neg;
    uint64_t mant;
    int frac;
    if (!field(f, i, &p, &n))
        return NAN;
    if (!parse_decimal(p, n, &neg, &mant, &frac)) {
        mark_bad(f, i);
        return NAN;
    }
    double v = (double)mant / pow10_tab[frac];
    return neg ? -v : v;
}

/* A non-negative integer field ("07", "0000"); RL_NMEA_ABSENT when empty. */
static int f_uint(struct fields *f, size_t i, int max)
{
    const char *p;
    size_t n;
    bool neg;
    uint64_t mant;
    int frac;
    if (!field(f, i, &p, &n))
        return RL_NMEA_ABSENT;
    if (!parse_decimal(p, n, &neg, &mant, &frac) || neg || frac > 0 || memchr(p, '.', n) ||
        mant > (uint64_t)max) {
        mark_bad(f, i);
        return RL_NMEA_ABSENT;
    }
    return (int)mant;
}

/* A signed integer field (ZDA local zone hours). */
static int f_int(struct fields *f, size_t i, int lim, bool *present)
{
    const char *p;
    size_t n;
    bool neg;
    uint64_t mant;
    int frac;
    *present = false;
    if (!field(f, i, &p, &n))
        return 0;
    if (!parse_decimal(p, n, &neg, &mant, &frac) || memchr(p, '.', n) || mant > (uint64_t)lim) {
        mark_bad(f, i);
        return 0;
    }
    *present = true;
    return neg ? -(int)mant : (int)mant;
}

static char f_char(struct fields *f, size_t i)
{
    const char *p;
    size_t n;
    if (!field(f, i, &p, &n))
        return '\0';
    if (n != 1) {
        mark_bad(f, i);
        return '\0';
    }
    return p[0];
}

/* "ddmm.mmmm" / "dddmm.mmmm" plus its hemisphere field, to signed degrees.
 * Both empty: absent. One without the other: malformed. */
static double f_latlon(struct fields *f, size_t i, bool is_lat)
{
    const char *p, *h;
    size_t n, hn;
    bool has_v = field(f, i, &p, &n), has_h = field(f, i + 1, &h, &hn);
    bool neg;
    uint64_t mant;
    int frac;
    if (!has_v && !has_h)
        return NAN;
    if (!has_v || !has_h || hn != 1) {
        /* Name a field that is there: the hemisphere when present, else the
         * value lacking it. */
        mark_bad(f, has_h ? i + 1 : i);
        return NAN;
    }
    if (!parse_decimal(p, n, &neg, &mant, &frac) || neg || frac > MAX_LATLON_FRAC) {
        mark_bad(f, i);
        return NAN;
    }
    uint64_t scale = (uint64_t)pow10_tab[frac];
    uint64_t deg = mant / (100 * scale), min_scaled = mant % (100 * scale);
    double v = (double)deg + (double)min_scaled / (double)scale / 60.0;
    char hemi = h[0];
    bool hemi_ok = is_lat ? (hemi == 'N' || hemi == 'S') : (hemi == 'E' || hemi == 'W');
    if (!hemi_ok) {
        mark_bad(f, i + 1);
        return NAN;
    }
    if (min_scaled >= 60 * scale || v > (is_lat ? 90.0 : 180.0)) {
        mark_bad(f, i);
        return NAN;
    }
    return (hemi == 'S' || hemi == 'W') ? -v : v;
}

static bool two_digits(const char *p, int *out)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return false;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

/* "hhmmss[.f...]" */
static struct rl_nmea_time f_time(struct fields *f, size_t i)
{
    struct rl_nmea_time t = {0};
    const char *p;
    size_t n;
    int hh, mm, ss;
    if (!field(f, i, &p, &n))
        return t;
    if (n < 6 || !two_digits(p, &hh) || !two_digits(p + 2, &mm) || !two_digits(p + 4, &ss) ||
        hh > 23 || mm > 59 || ss > 60)
        goto bad;
    int64_t frac_ns = 0;
    if (n > 6) {
        size_t nd = n - 7;
        if (p[6] != '.' || nd > MAX_FRAC_DIGITS)
            goto bad;
        int64_t scale = NS_PER_S;
        for (size_t k = 0; k < nd; k++) {
            char c = p[7 + k];
            if (c < '0' || c > '9')
                goto bad;
            scale /= 10;
            frac_ns += (c - '0') * scale;
        }
        t.frac_digits = (uint8_t)nd;
    }
    t.tod_ns = ((int64_t)hh * 3600 + mm * 60 + ss) * NS_PER_S + frac_ns;
    t.valid = true;
    return t;
bad:
    mark_bad(f, i);
    return t;
}

static int days_in_month(int year, int month)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : mdays[month - 1];
}

bool rl__nmea_date_ok(int year, int month, int day)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

/* RMC "ddmmyy" */
static struct rl_nmea_date f_date6(struct fields *f, size_t i)
{
    struct rl_nmea_date d = {0};
    const char *p;
    size_t n;
    int dd, mo, yy;
    if (!field(f, i, &p, &n))
        return d;
    if (n != 6 || !two_digits(p, &dd) || !two_digits(p + 2, &mo) || !two_digits(p + 4, &yy)) {
        mark_bad(f, i);
        return d;
    }
    int year = yy < TWO_DIGIT_YEAR_PIVOT ? 2000 + yy : 1900 + yy;
    if (!rl__nmea_date_ok(year, mo, dd)) {
        mark_bad(f, i);
        return d;
    }
    d.valid = true;
    d.year = (uint16_t)year;
    d.month = (uint8_t)mo;
    d.day = (uint8_t)dd;
    return d;
}

/* ---- per-sentence decoding --------------------------------------------- */

static void dec_gga(struct fields *f, struct rl_nmea_gga *g)
{
    g->time = f_time(f, 0);
    g->lat_deg = f_latlon(f, 1, true);
    g->lon_deg = f_latlon(f, 3, false);
    g->fix_quality = f_uint(f, 5, 9);
    g->num_satellites = f_uint(f, 6, 999);
    g->hdop = f_double(f, 7);
    g->altitude_m = f_double(f, 8);
    g->geoid_separation_m = f_double(f, 10);
    g->dgps_age_s = f_double(f, 12);
    g->dgps_station = f_uint(f, 13, 9999);
}

static void dec_rmc(struct fields *f, struct rl_nmea_rmc *r)
{
    r->time = f_time(f, 0);
    r->status = f_char(f, 1);
    r->lat_deg = f_latlon(f, 2, true);
    r->lon_deg = f_latlon(f, 4, false);
    r->speed_knots = f_double(f, 6);
    r->speed_mps = r->speed_knots * KNOT_MPS;
    r->course_deg = f_double(f, 7);
    r->date = f_date6(f, 8);
    r->mag_variation_deg = f_double(f, 9);
    char ew = f_char(f, 10);
    if (ew == 'W')
        r->mag_variation_deg = -r->mag_variation_deg;
    else if (ew != 'E' && ew != '\0')
        mark_bad(f, 10);
    r->mode = f_char(f, 11);
    r->nav_status = f_char(f, 12);
}

static void dec_vtg(struct fields *f, struct rl_nmea_vtg *v)
{
    v->course_true_deg = f_double(f, 0);
    v->course_mag_deg = f_double(f, 2);
    v->speed_knots = f_double(f, 4);
    v->speed_kmh = f_double(f, 6);
    v->speed_mps = !isnan(v->speed_knots) ? v->speed_knots * KNOT_MPS : v->speed_kmh * KMH_MPS;
    v->mode = f_char(f, 8);
}

static void dec_gst(struct fields *f, struct rl_nmea_gst *g)
{
    g->time = f_time(f, 0);
    g->rms_m = f_double(f, 1);
    g->major_m = f_double(f, 2);
    g->minor_m = f_double(f, 3);
    g->orientation_deg = f_double(f, 4);
    g->lat_sigma_m = f_double(f, 5);
    g->lon_sigma_m = f_double(f, 6);
    g->alt_sigma_m = f_double(f, 7);
}

#define GSA_FIRST_PRN  2
#define GSA_PDOP       (GSA_FIRST_PRN + RL_NMEA_GSA_PRNS)
#define GSA_SYSTEM_ID  (GSA_PDOP + 3)
#define GSV_FIRST_SAT  3
#define GSV_SAT_FIELDS 4
#define MAX_PRN        999

static void dec_gsa(struct fields *f, struct rl_nmea_gsa *g)
{
    g->mode = f_char(f, 0);
    g->fix_type = f_uint(f, 1, 9);
    for (size_t k = 0; k < RL_NMEA_GSA_PRNS; k++)
        g->prn[k] = f_uint(f, GSA_FIRST_PRN + k, MAX_PRN);
    g->pdop = f_double(f, GSA_PDOP);
    g->hdop = f_double(f, GSA_PDOP + 1);
    g->vdop = f_double(f, GSA_PDOP + 2);
    /* The system id is an integer since NMEA 4.1; SiRF puts a float there.
     * Read it on a scratch state so a non-integer leaves it absent. */
    struct fields scratch = {f->m, -1};
    g->system_id = f_uint(&scratch, GSA_SYSTEM_ID, 15);
}

static void dec_gsv(struct fields *f, struct rl_nmea_gsv *g)
{
    g->num_messages = f_uint(f, 0, 99);
    g->message_number = f_uint(f, 1, 99);
    g->satellites_in_view = f_uint(f, 2, 999);
    g->signal_id = RL_NMEA_ABSENT;
    g->n_sats = 0;
    size_t n = f->m->n_fields > GSV_FIRST_SAT ? f->m->n_fields - GSV_FIRST_SAT : 0;
    size_t blocks = n / GSV_SAT_FIELDS;
    if (n % GSV_SAT_FIELDS == 1) {
        /* NMEA 4.1 signal id: one hexadecimal digit after the blocks. */
        const char *p;
        size_t pn;
        size_t idx = f->m->n_fields - 1;
        if (field(f, idx, &p, &pn)) {
            int h = pn == 1 ? hexval(p[0]) : -1;
            if (h < 0)
                mark_bad(f, idx);
            g->signal_id = h;
        }
    }
    if (blocks > RL_NMEA_GSV_SATS)
        blocks = RL_NMEA_GSV_SATS;
    for (size_t b = 0; b < blocks; b++) {
        size_t i = GSV_FIRST_SAT + b * GSV_SAT_FIELDS;
        struct rl_nmea_gsv_sat s = {
            .prn = f_uint(f, i, MAX_PRN),
            .elevation_deg = f_uint(f, i + 1, 90),
            .azimuth_deg = f_uint(f, i + 2, 360),
            .snr_dbhz = f_uint(f, i + 3, 99),
        };
        if (s.prn != RL_NMEA_ABSENT)
            g->sats[g->n_sats++] = s;
    }
}

static void dec_zda(struct fields *f, struct rl_nmea_zda *z)
{
    z->time = f_time(f, 0);
    int day = f_uint(f, 1, 31), month = f_uint(f, 2, 12), year = f_uint(f, 3, 9999);
    z->date.valid = false;
    if (day != RL_NMEA_ABSENT && month != RL_NMEA_ABSENT && year != RL_NMEA_ABSENT) {
        if (!rl__nmea_date_ok(year, month, day))
            mark_bad(f, 1);
        else
            z->date = (struct rl_nmea_date){true, (uint16_t)year, (uint8_t)month, (uint8_t)day};
    }
    bool present;
    z->local_zone_hours = f_int(f, 4, 13, &present);
    if (!present)
        z->local_zone_hours = RL_NMEA_ABSENT;
    z->local_zone_minutes = f_uint(f, 5, 59);
}

static void dec_gns(struct fields *f, struct rl_nmea_gns *g)
{
    const char *p;
    size_t n;
    g->time = f_time(f, 0);
    g->lat_deg = f_latlon(f, 1, true);
    g->lon_deg = f_latlon(f, 3, false);
    g->mode[0] = '\0';
    if (field(f, 5, &p, &n)) {
        bool ok = n <= RL_NMEA_MODE_MAX;
        for (size_t k = 0; ok && k < n; k++)
            ok = p[k] >= 'A' && p[k] <= 'Z';
        if (ok) {
            memcpy(g->mode, p, n);
            g->mode[n] = '\0';
        } else {
            mark_bad(f, 5);
        }
    }
    g->num_satellites = f_uint(f, 6, 999);
    g->hdop = f_double(f, 7);
    g->altitude_m = f_double(f, 8);
    g->geoid_separation_m = f_double(f, 9);
    g->dgps_age_s = f_double(f, 10);
    g->dgps_station = f_uint(f, 11, 9999);
    g->nav_status = f_char(f, 12);
}

static const struct {
    const char *name;
    enum rl_nmea_kind kind;
} kinds[] = {
    {"GGA", RL_NMEA_GGA}, {"RMC", RL_NMEA_RMC}, {"VTG", RL_NMEA_VTG},
    {"HDT", RL_NMEA_HDT}, {"GST", RL_NMEA_GST}, {"GSA", RL_NMEA_GSA},
    {"GSV", RL_NMEA_GSV}, {"ZDA", RL_NMEA_ZDA}, {"GNS", RL_NMEA_GNS},
};

/* ---- framing ----------------------------------------------------------- */

/* Splits the address and fields; checks characters and the checksum. */
static int split(const char *s, size_t len, struct rl_nmea *out)
{
    size_t body_end = len;
    if (len < 2 || (s[0] != '$' && s[0] != '!'))
        return RL_ECORRUPT;
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7E || c == '$')
            return RL_ECORRUPT;
        if (c == '*' && body_end == len)
            body_end = i;
    }
    if (body_end != len) {
        if (len - body_end != CHECKSUM_SUFFIX_LEN)
            return RL_ECORRUPT;
        int hi = hexval(s[body_end + 1]), lo = hexval(s[body_end + 2]);
        if (hi < 0 || lo < 0)
            return RL_ECORRUPT;
        out->checksum_present = true;
        out->checksum = (uint8_t)(hi << 4 | lo);
    }
    size_t i = 1, a = 0;
    while (i < body_end && s[i] != ',') {
        if (a >= RL_NMEA_MAX_ADDRESS || !rl__nmea_addr_char(s[i]))
            return RL_ECORRUPT;
        out->address[a++] = s[i++];
    }
    out->address[a] = '\0';
    if (a < 2)
        return RL_ECORRUPT;
    if (out->address[0] == 'P') {
        out->kind = RL_NMEA_PROPRIETARY;
        memcpy(out->sentence, out->address + 1, a);
    } else {
        if (a < 3 || out->address[0] < 'A' || out->address[0] > 'Z')
            return RL_ECORRUPT;
        memcpy(out->talker, out->address, 2);
        out->talker[2] = '\0';
        memcpy(out->sentence, out->address + 2, a - 1);
    }
    while (i < body_end) { /* s[i] == ',' */
        size_t start = ++i;
        while (i < body_end && s[i] != ',')
            i++;
        if (out->n_fields >= RL_NMEA_MAX_FIELDS)
            return RL_ETOOBIG;
        out->fields[out->n_fields].off = (uint16_t)start;
        out->fields[out->n_fields].len = (uint16_t)(i - start);
        out->n_fields++;
    }
    if (out->checksum_present && rl_nmea_checksum(s + 1, body_end - 1) != out->checksum)
        return RL_ECRC;
    return 0;
}

int rl_nmea_parse(const char *s, size_t len, struct rl_nmea *out)
{
    memset(out, 0, sizeof(*out));
    out->bad_field = -1;
    out->text = s;
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    if (len > RL_NMEA_MAX_LEN)
        return RL_ETOOBIG;
    if (len > 0)
        out->start = s[0];
    int rc = split(s, len, out);
    if (rc < 0)
        return rc;
    if (out->kind == RL_NMEA_PROPRIETARY)
        return 0;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (strcmp(out->sentence, kinds[k].name) == 0)
            out->kind = kinds[k].kind;
    struct fields f = {out, -1};
    switch (out->kind) {
    case RL_NMEA_GGA:
        dec_gga(&f, &out->u.gga);
        break;
    case RL_NMEA_RMC:
        dec_rmc(&f, &out->u.rmc);
        break;
    case RL_NMEA_VTG:
        dec_vtg(&f, &out->u.vtg);
        break;
    case RL_NMEA_HDT:
        out->u.hdt.heading_deg = f_double(&f, 0);
        break;
    case RL_NMEA_GST:
        dec_gst(&f, &out->u.gst);
        break;
    case RL_NMEA_GSA:
        dec_gsa(&f, &out->u.gsa);
        break;
    case RL_NMEA_GSV:
        dec_gsv(&f, &out->u.gsv);
        break;
    case RL_NMEA_ZDA:
        dec_zda(&f, &out->u.zda);
        break;
    case RL_NMEA_GNS:
        dec_gns(&f, &out->u.gns);
        break;
    case RL_NMEA_UNKNOWN:
    case RL_NMEA_PROPRIETARY:
        break;
    }
    if (f.bad >= 0) {
        out->bad_field = f.bad;
        return RL_ECORRUPT;
    }
    return 0;
}

/* Seconds of the day to hours, minutes, seconds; 86400 is the leap second
 * 23:59:60. */
void rl__nmea_split_tod(int64_t s, int hms[3])
{
    if (s >= RL__NMEA_S_PER_DAY) {
        hms[0] = 23;
        hms[1] = 59;
        hms[2] = (int)(60 + s - RL__NMEA_S_PER_DAY);
        return;
    }
    hms[0] = (int)(s / 3600);
    hms[1] = (int)(s / 60 % 60);
    hms[2] = (int)(s % 60);
}
/* ---- the decoder --------------------------------------------------------- */

static void j_int(struct rl_jw *w, const char *key, int v)
{
    rl_jw_key(w, key);
    if (v == RL_NMEA_ABSENT)
        rl_jw_null(w);
    else
        rl_jw_i64(w, v);
}

static void j_char(struct rl_jw *w, const char *key, char c)
{
    rl_jw_key(w, key);
    if (c == '\0')
        rl_jw_null(w);
    else
        rl_jw_strn(w, &c, 1);
}

static void j_time(struct rl_jw *w, const struct rl_nmea_time *t)
{
    char buf[32];
    rl_jw_key(w, "utc_time");
    if (!t->valid) {
        rl_jw_null(w);
        return;
    }
    int64_t ns = t->tod_ns % NS_PER_S;
    int hms[3];
    rl__nmea_split_tod(t->tod_ns / NS_PER_S, hms);
    int n = snprintf(buf, sizeof(buf), "%02d:%02d:%02d", hms[0], hms[1], hms[2]);
    if (t->frac_digits > 0 && n > 0) {
        char frac[16];
        (void)snprintf(frac, sizeof(frac), "%09lld", (long long)ns);
        (void)snprintf(buf + n, sizeof(buf) - (size_t)n, ".%.*s", t->frac_digits, frac);
    }
    rl_jw_str(w, buf);
}

static void j_date(struct rl_jw *w, const struct rl_nmea_date *d)
{
    char buf[16];
    rl_jw_key(w, "date");
    if (!d->valid) {
        rl_jw_null(w);
        return;
    }
    (void)snprintf(buf, sizeof(buf), "%04d-%02d-%02d", d->year, d->month, d->day);
    rl_jw_str(w, buf);
}

static void j_latlon(struct rl_jw *w, double lat, double lon)
{
    rl_jw_kdouble(w, "lat", lat, DIGITS_DEG);
    rl_jw_kdouble(w, "lon", lon, DIGITS_DEG);
}

static void emit_gga(struct rl_jw *w, const struct rl_nmea_gga *g)
{
    j_time(w, &g->time);
    j_latlon(w, g->lat_deg, g->lon_deg);
    j_int(w, "fix_quality", g->fix_quality);
    j_int(w, "num_satellites", g->num_satellites);
    rl_jw_kdouble(w, "hdop", g->hdop, DIGITS_VAL);
    rl_jw_kdouble(w, "altitude_m", g->altitude_m, DIGITS_VAL);
    rl_jw_kdouble(w, "geoid_separation_m", g->geoid_separation_m, DIGITS_VAL);
    rl_jw_kdouble(w, "dgps_age_s", g->dgps_age_s, DIGITS_VAL);
    j_int(w, "dgps_station_id", g->dgps_station);
}

static void emit_rmc(struct rl_jw *w, const struct rl_nmea_rmc *r)
{
    j_time(w, &r->time);
    j_char(w, "status", r->status);
    j_latlon(w, r->lat_deg, r->lon_deg);
    rl_jw_kdouble(w, "speed_knots", r->speed_knots, DIGITS_VAL);
    rl_jw_kdouble(w, "speed_mps", r->speed_mps, DIGITS_VAL);
    rl_jw_kdouble(w, "course_deg", r->course_deg, DIGITS_VAL);
    j_date(w, &r->date);
    rl_jw_kdouble(w, "magnetic_variation_deg", r->mag_variation_deg, DIGITS_VAL);
    j_char(w, "mode", r->mode);
    j_char(w, "nav_status", r->nav_status);
}

static void emit_vtg(struct rl_jw *w, const struct rl_nmea_vtg *v)
{
    rl_jw_kdouble(w, "course_deg", v->course_true_deg, DIGITS_VAL);
    rl_jw_kdouble(w, "course_magnetic_deg", v->course_mag_deg, DIGITS_VAL);
    rl_jw_kdouble(w, "speed_knots", v->speed_knots, DIGITS_VAL);
    rl_jw_kdouble(w, "speed_kmh", v->speed_kmh, DIGITS_VAL);
    rl_jw_kdouble(w, "speed_mps", v->speed_mps, DIGITS_VAL);
    j_char(w, "mode", v->mode);
}

static void emit_gst(struct rl_jw *w, const struct rl_nmea_gst *g)
{
    j_time(w, &g->time);
    rl_jw_kdouble(w, "rms_m", g->rms_m, DIGITS_VAL);
    rl_jw_kdouble(w, "semi_major_m", g->major_m, DIGITS_VAL);
    rl_jw_kdouble(w, "semi_minor_m", g->minor_m, DIGITS_VAL);
    rl_jw_kdouble(w, "orientation_deg", g->orientation_deg, DIGITS_VAL);
    rl_jw_kdouble(w, "lat_sigma_m", g->lat_sigma_m, DIGITS_VAL);
    rl_jw_kdouble(w, "lon_sigma_m", g->lon_sigma_m, DIGITS_VAL);
    rl_jw_kdouble(w, "alt_sigma_m", g->alt_sigma_m, DIGITS_VAL);
}

static void emit_gsa(struct rl_jw *w, const struct rl_nmea_gsa *g)
{
    j_char(w, "mode", g->mode);
    j_int(w, "fix_type", g->fix_type);
    rl_jw_key(w, "prns");
    rl_jw_arr_begin(w);
    for (size_t k = 0; k < RL_NMEA_GSA_PRNS; k++)
        if (g->prn[k] != RL_NMEA_ABSENT)
            rl_jw_i64(w, g->prn[k]);
    rl_jw_arr_end(w);
    rl_jw_kdouble(w, "pdop", g->pdop, DIGITS_VAL);
    rl_jw_kdouble(w, "hdop", g->hdop, DIGITS_VAL);
    rl_jw_kdouble(w, "vdop", g->vdop, DIGITS_VAL);
    j_int(w, "system_id", g->system_id);
}

static void emit_gsv(struct rl_jw *w, const struct rl_nmea_gsv *g)
{
    j_int(w, "num_messages", g->num_messages);
    j_int(w, "message_number", g->message_number);
    j_int(w, "satellites_in_view", g->satellites_in_view);
    rl_jw_key(w, "satellites");
    rl_jw_arr_begin(w);
    for (int k = 0; k < g->n_sats; k++) {
        rl_jw_obj_begin(w);
        j_int(w, "prn", g->sats[k].prn);
        j_int(w, "elevation_deg", g->sats[k].elevation_deg);
        j_int(w, "azimuth_deg", g->sats[k].azimuth_deg);
        j_int(w, "snr_dbhz", g->sats[k].snr_dbhz);
        rl_jw_obj_end(w);
    }
    rl_jw_arr_end(w);
    j_int(w, "signal_id", g->signal_id);
}

static void emit_zda(struct rl_jw *w, const struct rl_nmea_zda *z)
{
    j_time(w, &z->time);
    j_date(w, &z->date);
    j_int(w, "local_zone_hours", z->local_zone_hours);
    j_int(w, "local_zone_minutes", z->local_zone_minutes);
}

static void emit_gns(struct rl_jw *w, const struct rl_nmea_gns *g)
{
    j_time(w, &g->time);
    j_latlon(w, g->lat_deg, g->lon_deg);
    rl_jw_key(w, "mode");
    if (g->mode[0])
        rl_jw_str(w, g->mode);
    else
        rl_jw_null(w);
    j_int(w, "num_satellites", g->num_satellites);
    rl_jw_kdouble(w, "hdop", g->hdop, DIGITS_VAL);
    rl_jw_kdouble(w, "altitude_m", g->altitude_m, DIGITS_VAL);
    rl_jw_kdouble(w, "geoid_separation_m", g->geoid_separation_m, DIGITS_VAL);
    rl_jw_kdouble(w, "dgps_age_s", g->dgps_age_s, DIGITS_VAL);
    j_int(w, "dgps_station_id", g->dgps_station);
    j_char(w, "nav_status", g->nav_status);
}

static void emit_raw_fields(struct rl_jw *w, const struct rl_nmea *m)
{
    rl_jw_key(w, "fields");
    rl_jw_arr_begin(w);
    for (size_t k = 0; k < m->n_fields; k++)
        rl_jw_strn(w, m->text + m->fields[k].off, m->fields[k].len);
    rl_jw_arr_end(w);
}

static int nmea_detect(const struct rl_payload *pl)
{
    struct rl_nmea m;
    if (pl->len < 2 || (pl->data[0] != '$' && pl->data[0] != '!'))
        return 0;
    int rc = rl_nmea_parse((const char *)pl->data, pl->len, &m);
    if (rc == RL_ECRC)
        return DETECT_BAD_CHECKSUM;
    if (rc < 0 && rc != RL_ECORRUPT)
        return 0;
    if (rc == RL_ECORRUPT && m.bad_field < 0)
        return 0;
    return m.checksum_present ? DETECT_CHECKSUM_OK : DETECT_NO_CHECKSUM;
}

static int nmea_decode(const struct rl_decode_ctx *ctx, const struct rl_payload *pl,
                       struct rl_jw *w, char *err, size_t err_len)
{
    struct rl_nmea m;
    char type[32];
    (void)ctx;
    int rc = rl_nmea_parse((const char *)pl->data, pl->len, &m);
    if (rc == RL_ECRC) {
        size_t n = pl->len;
        const char *s = (const char *)pl->data;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
            n--;
        (void)snprintf(
            err, err_len, "bad checksum in %s sentence: computed %02X, sentence has %02X",
            m.address,
            rl_nmea_checksum(s + 1, n > CHECKSUM_SUFFIX_LEN + 1 ? n - CHECKSUM_SUFFIX_LEN - 1 : 0),
            m.checksum);
        return rc;
    }
    if (rc < 0) {
        if (m.bad_field >= 0 && (size_t)m.bad_field < m.n_fields) {
            const struct rl_nmea_field *fd = &m.fields[m.bad_field];
            (void)snprintf(err, err_len, "malformed field %d '%.*s' in %s sentence",
                           m.bad_field + 1, (int)fd->len, m.text + fd->off, m.address);
        } else {
            (void)snprintf(err, err_len, "not an NMEA 0183 sentence (%s)", rl_strerror(rc));
        }
        return rc;
    }
    if (m.kind == RL_NMEA_PROPRIETARY || m.kind == RL_NMEA_UNKNOWN) {
        rl_jw_kstr(w, "type", m.kind == RL_NMEA_PROPRIETARY ? "nmea.proprietary" : "nmea.unknown");
        if (m.kind == RL_NMEA_PROPRIETARY) {
            rl_jw_kstr(w, "address", m.address);
        } else {
            rl_jw_kstr(w, "talker", m.talker);
            rl_jw_kstr(w, "sentence", m.sentence);
        }
    } else {
        (void)snprintf(type, sizeof(type), "nmea.%s", m.sentence);
        rl_jw_kstr(w, "type", type);
        rl_jw_kstr(w, "talker", m.talker);
    }
    rl_jw_kstr(w, "checksum", m.checksum_present ? "ok" : "missing");
    switch (m.kind) {
    case RL_NMEA_GGA:
        emit_gga(w, &m.u.gga);
        break;
    case RL_NMEA_RMC:
        emit_rmc(w, &m.u.rmc);
        break;
    case RL_NMEA_VTG:
        emit_vtg(w, &m.u.vtg);
        break;
    case RL_NMEA_HDT:
        rl_jw_kdouble(w, "heading_deg", m.u.hdt.heading_deg, DIGITS_VAL);
        break;
    case RL_NMEA_GST:
        emit_gst(w, &m.u.gst);
        break;
    case RL_NMEA_GSA:
        emit_gsa(w, &m.u.gsa);
        break;
    case RL_NMEA_GSV:
        emit_gsv(w, &m.u.gsv);
        break;
    case RL_NMEA_ZDA:
        emit_zda(w, &m.u.zda);
        break;
    case RL_NMEA_GNS:
        emit_gns(w, &m.u.gns);
        break;
    case RL_NMEA_UNKNOWN:
    case RL_NMEA_PROPRIETARY:
        emit_raw_fields(w, &m);
        break;
    }
    return 0;
}

const struct rl_decoder rl_decoder_nmea = {
    .name = "nmea",
    .detect = nmea_detect,
    .decode = nmea_decode,
};
