/* Unit tests of the GNSS formats: the NMEA 0183 parser, encoders and
 * decoder (nmea.c), UBX frames and NAV-PVT (ubx.c), and the serial framer
 * (serial_framer.c). Synthetic inputs only: edge values, empty fields, bad
 * checksums, truncation. Checksums in the fixtures were computed by hand
 * (XOR of the characters between '$' and '*'). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_min.h"
#include "roadlog/decode.h"
#include "roadlog/framer.h"
#include "roadlog/gnss.h"

#define DEG_EPS    1e-9
#define VAL_EPS    1e-9
#define JSON_LIMIT 65536

static int parse(const char *s, struct rl_nmea *m)
{
    return rl_nmea_parse(s, strlen(s), m);
}

/* A sentence from a body ("GPGGA,...") with a correct checksum appended. */
static void with_checksum(const char *body, char *out, size_t cap)
{
    uint8_t x = rl_nmea_checksum(body, strlen(body));
    (void)snprintf(out, cap, "$%s*%02X\r\n", body, x);
}

/* Runs a decoder on a payload and parses its JSON; NULL when it failed. */
static struct json_value *decode_json(const struct rl_decoder *d, const void *p, size_t len,
                                      int *rc_out, char *err, size_t err_len)
{
    struct rl_jw w;
    struct rl_payload pl = {.data = p, .len = len, .linktype = RL_LINKTYPE_PAYLOAD};
    struct rl_decode_ctx ctx = {0};
    char jerr[128];
    rl_jw_init(&w, JSON_LIMIT);
    rl_jw_obj_begin(&w);
    err[0] = '\0';
    int rc = d->decode(&ctx, &pl, &w, err, err_len);
    rl_jw_obj_end(&w);
    *rc_out = rc;
    struct json_value *v = NULL;
    if (rc == 0) {
        size_t n;
        const char *s = rl_jw_str_out(&w, &n);
        assert_false(rl_jw_failed(&w));
        v = json_parse(s, n, jerr, sizeof(jerr));
        assert_non_null(v);
    }
    rl_jw_release(&w);
    return v;
}

static const char *jstr(const struct json_value *o, const char *key)
{
    const struct json_value *v = json_get(o, key);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_STRING);
    return v->text;
}

static double jnum(const struct json_value *o, const char *key)
{
    const struct json_value *v = json_get(o, key);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_NUMBER);
    char *end;
    double d = strtod(v->text, &end);
    assert_true(*end == '\0');
    return d;
}

static void assert_jnull(const struct json_value *o, const char *key)
{
    const struct json_value *v = json_get(o, key);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_NULL);
}

/* ---- NMEA parsing ------------------------------------------------------ */

static void test_gga_full(void **state)
{
    (void)state;
    struct rl_nmea m;
    assert_int_equal(parse("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47", &m),
                     0);
    assert_int_equal(m.kind, RL_NMEA_GGA);
    assert_string_equal(m.talker, "GP");
    assert_string_equal(m.sentence, "GGA");
    assert_true(m.checksum_present);
    assert_int_equal(m.checksum, 0x47);
    const struct rl_nmea_gga *g = &m.u.gga;
    assert_true(g->time.valid);
    assert_int_equal(g->time.tod_ns, (12 * 3600 + 35 * 60 + 19) * 1000000000LL);
    assert_float_equal(g->lat_deg, 48.0 + 7.038 / 60.0, DEG_EPS);
    assert_float_equal(g->lon_deg, 11.0 + 31.0 / 60.0, DEG_EPS);
    assert_int_equal(g->fix_quality, 1);
    assert_int_equal(g->num_satellites, 8);
    assert_float_equal(g->hdop, 0.9, VAL_EPS);
    assert_float_equal(g->altitude_m, 545.4, VAL_EPS);
    assert_float_equal(g->geoid_separation_m, 46.9, VAL_EPS);
    assert_true(isnan(g->dgps_age_s));
    assert_int_equal(g->dgps_station, RL_NMEA_ABSENT);
}

static void test_gga_empty_fields(void **state)
{
    (void)state;
    struct rl_nmea m;
    /* Hemisphere without a fix: every field empty but the quality. */
    assert_int_equal(parse("$GPGGA,,,,,,0,,,,M,,M,,*66", &m), 0);
    const struct rl_nmea_gga *g = &m.u.gga;
    assert_false(g->time.valid);
    assert_true(isnan(g->lat_deg));
    assert_true(isnan(g->lon_deg));
    assert_int_equal(g->fix_quality, 0);
    assert_int_equal(g->num_satellites, RL_NMEA_ABSENT);
    assert_true(isnan(g->hdop));
    assert_true(isnan(g->altitude_m));
    assert_true(isnan(g->geoid_separation_m));
    /* Fewer fields than the type has: the missing ones are absent. */
    assert_int_equal(parse("$GPHDT*4F", &m), 0);
    assert_int_equal(m.kind, RL_NMEA_HDT);
    assert_true(isnan(m.u.hdt.heading_deg));
}

static void test_southern_western_and_edges(void **state)
{
    (void)state;
    char s[128];
    struct rl_nmea m;
    with_checksum(
        "GNGGA,235960.123456789,9000.0000,S,18000.0000,W,4,12,0.5,-12.5,M,-33.3,M,1.5,0042", s,
        sizeof(s));
    assert_int_equal(parse(s, &m), 0);
    assert_float_equal(m.u.gga.lat_deg, -90.0, DEG_EPS);
    assert_float_equal(m.u.gga.lon_deg, -180.0, DEG_EPS);
    assert_int_equal(m.u.gga.time.tod_ns, 86400LL * 1000000000LL + 123456789);
    assert_int_equal(m.u.gga.time.frac_digits, 9);
    assert_float_equal(m.u.gga.altitude_m, -12.5, VAL_EPS);
    assert_float_equal(m.u.gga.dgps_age_s, 1.5, VAL_EPS);
    assert_int_equal(m.u.gga.dgps_station, 42);

    static const char *const bad[] = {
        "GPGGA,123519,9000.0001,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", /* lat > 90 */
        "GPGGA,123519,4860.000,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",  /* 60 minutes */
        "GPGGA,240000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",  /* hour 24 */
        "GPGGA,123519,4807.038,X,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",  /* hemisphere */
        "GPGGA,123519,4807.038,,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",   /* lat w/o N/S */
        "GPGGA,123519,4807.038,N,01131.000,E,1,8a,0.9,545.4,M,46.9,M,,",  /* sats */
        "GPGGA,123519,4807.038,N,01131.000,E,1,08,inf,545.4,M,46.9,M,,",  /* hdop */
        "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,5.4.4,M,46.9,M,,",  /* two dots */
        "GPGGA,1235,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",    /* short time */
        "GPGGA,123519,-4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", /* signed lat */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        with_checksum(bad[i], s, sizeof(s));
        assert_int_equal(parse(s, &m), RL_ECORRUPT);
        assert_true(m.bad_field >= 0);
    }
}

static void test_checksums(void **state)
{
    (void)state;
    struct rl_nmea m;
    /* Wrong checksum: an error, the address is still known. */
    assert_int_equal(parse("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48", &m),
                     RL_ECRC);
    assert_string_equal(m.address, "GPGGA");
    /* Lower-case hex digits are accepted. */
    assert_int_equal(parse("$GPHDT,,T*1b", &m), 0);
    /* No checksum: accepted and flagged. */
    assert_int_equal(parse("$GPHDT,274.07,T", &m), 0);
    assert_false(m.checksum_present);
    assert_float_equal(m.u.hdt.heading_deg, 274.07, VAL_EPS);
    /* Malformed checksum suffixes. */
    assert_int_equal(parse("$GPHDT,,T*1", &m), RL_ECORRUPT);
    assert_int_equal(parse("$GPHDT,,T*1G", &m), RL_ECORRUPT);
    assert_int_equal(parse("$GPHDT,,T*1B1", &m), RL_ECORRUPT);
    assert_int_equal(parse("$GPHDT,*,T*1B", &m), RL_ECORRUPT);
    assert_int_equal(rl_nmea_checksum("GPHDT,,T", 8), 0x1B);
}

static void test_framing_errors(void **state)
{
    (void)state;
    struct rl_nmea m;
    char big[RL_NMEA_MAX_LEN + 16];
    assert_int_equal(rl_nmea_parse("", 0, &m), RL_ECORRUPT);
    assert_int_equal(parse("$", &m), RL_ECORRUPT);
    assert_int_equal(parse("$G", &m), RL_ECORRUPT);
    assert_int_equal(parse("GPGGA,1*00", &m), RL_ECORRUPT);
    assert_int_equal(parse("$GP", &m), RL_ECORRUPT); /* a talker without a sentence id */
    assert_int_equal(parse("$GPX", &m), 0);          /* shortest address: unknown type */
    assert_int_equal(m.kind, RL_NMEA_UNKNOWN);
    assert_int_equal(parse("$gpgga,1", &m), RL_ECORRUPT);
    assert_int_equal(parse("$GPGGA,1\x01,2", &m), RL_ECORRUPT);
    assert_int_equal(parse("$GPGGA,1,$GPRMC,2", &m), RL_ECORRUPT);
    assert_int_equal(parse("$1PGGA,1", &m), RL_ECORRUPT);
    assert_int_equal(parse("$GPGGAGPGGAGP,1", &m), RL_ECORRUPT);
    memset(big, 'A', sizeof(big));
    big[0] = '$';
    assert_int_equal(rl_nmea_parse(big, RL_NMEA_MAX_LEN + 1, &m), RL_ETOOBIG);
    /* More than RL_NMEA_MAX_FIELDS fields. */
    memcpy(big, "$GPXXX", 6);
    for (size_t i = 6; i < 6 + RL_NMEA_MAX_FIELDS + 1; i++)
        big[i] = ',';
    assert_int_equal(rl_nmea_parse(big, 6 + RL_NMEA_MAX_FIELDS + 1, &m), RL_ETOOBIG);
    assert_int_equal(rl_nmea_parse(big, 6 + RL_NMEA_MAX_FIELDS, &m), 0);
    assert_int_equal(m.n_fields, RL_NMEA_MAX_FIELDS);
    /* Not NUL-terminated: the length is what counts. */
    assert_int_equal(rl_nmea_parse("$GPHDT,1.5,T*XXjunk", 11, &m), 0);
    assert_float_equal(m.u.hdt.heading_deg, 1.5, VAL_EPS);
}

static void test_talkers_and_kinds(void **state)
{
    (void)state;
    struct rl_nmea m;
    assert_int_equal(parse("$BDGSV,2,2,07,05,27,090,,13,19,016,,11,07,147,*5E", &m), 0);
    assert_int_equal(m.kind, RL_NMEA_GSV);
    assert_string_equal(m.talker, "BD");
    assert_int_equal(m.u.gsv.n_sats, 3);
    assert_int_equal(m.u.gsv.sats[0].prn, 5);
    assert_int_equal(m.u.gsv.sats[0].elevation_deg, 27);
    assert_int_equal(m.u.gsv.sats[0].azimuth_deg, 90);
    assert_int_equal(m.u.gsv.sats[0].snr_dbhz, RL_NMEA_ABSENT);
    assert_int_equal(m.u.gsv.signal_id, RL_NMEA_ABSENT);
    /* NMEA 4.1 GSV: one block and the signal id. */
    assert_int_equal(parse("$GPGSV,4,4,13,51,37,160,,1*51", &m), 0);
    assert_int_equal(m.u.gsv.n_sats, 1);
    assert_int_equal(m.u.gsv.signal_id, 1);
    assert_int_equal(m.u.gsv.num_messages, 4);
    assert_int_equal(m.u.gsv.satellites_in_view, 13);
    /* Any two-character talker is parsed generically. */
    char s[96];
    with_checksum("ZZVTG,054.7,T,034.4,M,005.5,N,010.2,K,A", s, sizeof(s));
    assert_int_equal(parse(s, &m), 0);
    assert_int_equal(m.kind, RL_NMEA_VTG);
    assert_string_equal(m.talker, "ZZ");
    assert_float_equal(m.u.vtg.course_true_deg, 54.7, VAL_EPS);
    assert_float_equal(m.u.vtg.course_mag_deg, 34.4, VAL_EPS);
    assert_float_equal(m.u.vtg.speed_knots, 5.5, VAL_EPS);
    assert_float_equal(m.u.vtg.speed_kmh, 10.2, VAL_EPS);
    assert_float_equal(m.u.vtg.speed_mps, 5.5 * 1852.0 / 3600.0, VAL_EPS);
    assert_int_equal(m.u.vtg.mode, 'A');
    /* Proprietary and unknown sentences keep their raw fields. */
    assert_int_equal(parse("$PSRFEPE,074150.799,V,,,,,*23", &m), 0);
    assert_int_equal(m.kind, RL_NMEA_PROPRIETARY);
    assert_string_equal(m.talker, "");
    assert_string_equal(m.sentence, "SRFEPE");
    assert_int_equal(m.n_fields, 7);
    assert_int_equal(m.fields[0].len, 10);
    assert_memory_equal(m.text + m.fields[0].off, "074150.799", 10);
    assert_int_equal(parse("$GNTXT,01,01,02,u-blox AG*4E", &m), RL_ECRC);
    with_checksum("GNTXT,01,01,02,u-blox AG", s, sizeof(s));
    assert_int_equal(parse(s, &m), 0);
    assert_int_equal(m.kind, RL_NMEA_UNKNOWN);
    assert_string_equal(m.sentence, "TXT");
    assert_string_equal(rl_nmea_kind_name(RL_NMEA_GNS), "GNS");
    assert_string_equal(rl_nmea_kind_name(RL_NMEA_UNKNOWN), "unknown");
    /* Encapsulation sentences start with '!'. */
    with_checksum("AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0", s, sizeof(s));
    s[0] = '!';
    assert_int_equal(parse(s, &m), 0);
    assert_int_equal(m.start, '!');
}

static void test_rmc_gsa_gst_zda_gns(void **state)
{
    (void)state;
    struct rl_nmea m;
    char s[128];
    with_checksum("GNRMC,000653.00,A,4404.12994,N,12118.84613,W,0.052,12.5,290224,3.1,W,A,V", s,
                  sizeof(s));
    assert_int_equal(parse(s, &m), 0);
    const struct rl_nmea_rmc *r = &m.u.rmc;
    assert_int_equal(r->status, 'A');
    assert_float_equal(r->lat_deg, 44.0 + 4.12994 / 60.0, DEG_EPS);
    assert_float_equal(r->lon_deg, -(121.0 + 18.84613 / 60.0), DEG_EPS);
    assert_float_equal(r->speed_knots, 0.052, VAL_EPS);
    assert_float_equal(r->speed_mps, 0.052 * 1852.0 / 3600.0, VAL_EPS);
    assert_float_equal(r->course_deg, 12.5, VAL_EPS);
    assert_true(r->date.valid);
    assert_int_equal(r->date.year, 2024);
    assert_int_equal(r->date.month, 2);
    assert_int_equal(r->date.day, 29);
    assert_float_equal(r->mag_variation_deg, -3.1, VAL_EPS);
    assert_int_equal(r->mode, 'A');
    assert_int_equal(r->nav_status, 'V');
    with_checksum("GNRMC,000653.00,A,4404.12994,N,12118.84613,W,0.052,,290223,,,A", s, sizeof(s));
    assert_int_equal(parse(s, &m), RL_ECORRUPT); /* 2023 had no 29 February */
    with_checksum("GNRMC,000653.00,A,4404.12994,N,12118.84613,W,0.052,,010199,,,A", s, sizeof(s));
    assert_int_equal(parse(s, &m), 0);
    assert_int_equal(m.u.rmc.date.year, 1999);
    assert_true(isnan(m.u.rmc.course_deg));
    assert_int_equal(m.u.rmc.nav_status, '\0');

    assert_int_equal(parse("$GNGSA,A,3,08,10,23,27,32,24,28,21,44,48,18,,1.05,0.69,0.79,1*02", &m),
                     0);
    assert_int_equal(m.u.gsa.mode, 'A');
    assert_int_equal(m.u.gsa.fix_type, 3);
    assert_int_equal(m.u.gsa.prn[0], 8);
    assert_int_equal(m.u.gsa.prn[10], 18);
    assert_int_equal(m.u.gsa.prn[11], RL_NMEA_ABSENT);
    assert_float_equal(m.u.gsa.pdop, 1.05, VAL_EPS);
    assert_float_equal(m.u.gsa.vdop, 0.79, VAL_EPS);
    assert_int_equal(m.u.gsa.system_id, 1);
    /* SiRF's float in the system id field is left absent, not an error. */
    assert_int_equal(parse("$BDGSA,A,3,02,03,04,,,,,,,,,,2.1,1.1,1.8,1.2*2D", &m), 0);
    assert_int_equal(m.u.gsa.system_id, RL_NMEA_ABSENT);
    assert_float_equal(m.u.gsa.hdop, 1.1, VAL_EPS);

    assert_int_equal(parse("$GNGST,231408.00,32,0.19,0.12,97,0.049,0.078,0.088*43", &m), 0);
    assert_int_equal(m.kind, RL_NMEA_GST);
    assert_float_equal(m.u.gst.rms_m, 32, VAL_EPS);
    assert_float_equal(m.u.gst.orientation_deg, 97, VAL_EPS);
    assert_float_equal(m.u.gst.alt_sigma_m, 0.088, VAL_EPS);

    assert_int_equal(parse("$GPZDA,193913.00,07,09,2018,00,00*63", &m), 0);
    assert_true(m.u.zda.date.valid);
    assert_int_equal(m.u.zda.date.year, 2018);
    assert_int_equal(m.u.zda.date.month, 9);
    assert_int_equal(m.u.zda.date.day, 7);
    assert_int_equal(m.u.zda.local_zone_hours, 0);
    with_checksum("GPZDA,193913.00,07,,2018,-05,30", s, sizeof(s));
    assert_int_equal(parse(s, &m), 0);
    assert_false(m.u.zda.date.valid);
    assert_int_equal(m.u.zda.local_zone_hours, -5);
    assert_int_equal(m.u.zda.local_zone_minutes, 30);

    assert_int_equal(
        parse("$GNGNS,074159.799,3114.8943,N,12135.2444,E,ANNA,07,1.1,196.4,8.3,,0000*54", &m), 0);
    assert_int_equal(m.kind, RL_NMEA_GNS);
    assert_string_equal(m.u.gns.mode, "ANNA");
    assert_int_equal(m.u.gns.num_satellites, 7);
    assert_float_equal(m.u.gns.geoid_separation_m, 8.3, VAL_EPS);
    assert_int_equal(m.u.gns.dgps_station, 0);
    assert_int_equal(m.u.gns.nav_status, '\0');
}

/* ---- NMEA encoders ------------------------------------------------------- */

static void test_encoders_roundtrip(void **state)
{
    (void)state;
    char out[RL_NMEA_MAX_LEN];
    struct rl_nmea m;
    struct rl_nmea_gga g = {
        .time = {.valid = true, .tod_ns = (8 * 3600 + 30 * 60 + 0) * 1000000000LL + 250000000},
        .lat_deg = 30.4567891,
        .lon_deg = -114.1234567,
        .fix_quality = 4,
        .num_satellites = 17,
        .hdop = 0.71,
        .altitude_m = 23.456,
        .geoid_separation_m = -11.2,
        .dgps_age_s = NAN,
        .dgps_station = RL_NMEA_ABSENT,
    };
    int n = rl_nmea_format_gga(out, sizeof(out), "GN", &g);
    assert_true(n > 0 && n <= RL_NMEA_STD_MAX_LEN);
    assert_int_equal((size_t)n, strlen(out));
    assert_memory_equal(out + n - 2, "\r\n", 2);
    assert_int_equal(rl_nmea_parse(out, (size_t)n, &m), 0);
    assert_true(m.checksum_present);
    assert_int_equal(m.kind, RL_NMEA_GGA);
    assert_int_equal(m.u.gga.time.tod_ns, g.time.tod_ns);
    assert_float_equal(m.u.gga.lat_deg, g.lat_deg, 1e-6 / 60.0);
    assert_float_equal(m.u.gga.lon_deg, g.lon_deg, 1e-6 / 60.0);
    assert_int_equal(m.u.gga.fix_quality, 4);
    assert_int_equal(m.u.gga.num_satellites, 17);
    assert_float_equal(m.u.gga.altitude_m, 23.456, 1e-9);
    assert_true(isnan(m.u.gga.dgps_age_s));
    assert_int_equal(m.u.gga.dgps_station, RL_NMEA_ABSENT);

    struct rl_nmea_rmc r = {
        .time = {.valid = true, .tod_ns = 86399LL * 1000000000LL},
        .status = 'A',
        .lat_deg = -0.5,
        .lon_deg = 0.25,
        .speed_knots = NAN,
        .speed_mps = 10.0,
        .course_deg = 359.99,
        .date = {.valid = true, .year = 2026, .month = 11, .day = 21},
        .mag_variation_deg = -4.5,
        .mode = 'D',
        .nav_status = 'S',
    };
    n = rl_nmea_format_rmc(out, sizeof(out), "GP", &r);
    assert_true(n > 0);
    assert_int_equal(rl_nmea_parse(out, (size_t)n, &m), 0);
    assert_int_equal(m.kind, RL_NMEA_RMC);
    assert_int_equal(m.u.rmc.time.tod_ns, r.time.tod_ns);
    assert_float_equal(m.u.rmc.lat_deg, -0.5, 1e-9);
    assert_float_equal(m.u.rmc.speed_mps, 10.0, 0.001);
    assert_int_equal(m.u.rmc.date.year, 2026);
    assert_float_equal(m.u.rmc.mag_variation_deg, -4.5, 1e-9);
    assert_int_equal(m.u.rmc.nav_status, 'S');

    struct rl_nmea_vtg v = {.course_true_deg = 90.0,
                            .course_mag_deg = NAN,
                            .speed_knots = NAN,
                            .speed_kmh = NAN,
                            .speed_mps = 3.6,
                            .mode = 'A'};
    n = rl_nmea_format_vtg(out, sizeof(out), "GN", &v);
    assert_true(n > 0);
    assert_int_equal(rl_nmea_parse(out, (size_t)n, &m), 0);
    assert_float_equal(m.u.vtg.speed_kmh, 12.96, 1e-9);
    assert_true(isnan(m.u.vtg.course_mag_deg));

    struct rl_nmea_hdt h = {.heading_deg = 274.07};
    n = rl_nmea_format_hdt(out, sizeof(out), "HE", &h);
    assert_string_equal(out, "$HEHDT,274.07,T*19\r\n");
    h.heading_deg = NAN;
    n = rl_nmea_format_hdt(out, sizeof(out), "GP", &h);
    assert_string_equal(out, "$GPHDT,,T*1B\r\n");

    /* Errors: bad talker, out-of-range values, short buffer. */
    assert_int_equal(rl_nmea_format_hdt(out, sizeof(out), "G", &h), -EINVAL);
    assert_int_equal(rl_nmea_format_hdt(out, sizeof(out), "PX", &h), -EINVAL);
    assert_int_equal(rl_nmea_format_hdt(out, sizeof(out), NULL, &h), -EINVAL);
    g.lat_deg = 91.0;
    assert_int_equal(rl_nmea_format_gga(out, sizeof(out), "GP", &g), -EINVAL);
    g.lat_deg = 1.0;
    g.hdop = INFINITY;
    assert_int_equal(rl_nmea_format_gga(out, sizeof(out), "GP", &g), -EINVAL);
    g.hdop = 1.0;
    assert_int_equal(rl_nmea_format_gga(out, 10, "GP", &g), -ENOBUFS);
    r.date.year = 2100;
    assert_int_equal(rl_nmea_format_rmc(out, sizeof(out), "GP", &r), -EINVAL);
}

/* ---- NMEA decoder ------------------------------------------------------- */

static void test_nmea_decoder(void **state)
{
    (void)state;
    char err[256];
    int rc;
    const char *s = "$GNGGA,000653.00,4404.12994,N,12118.84613,W,1,29,0.69,1109.2,M,,M,,*71\r\n";
    struct json_value *v = decode_json(&rl_decoder_nmea, s, strlen(s), &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_string_equal(jstr(v, "type"), "nmea.GGA");
    assert_string_equal(jstr(v, "talker"), "GN");
    assert_string_equal(jstr(v, "checksum"), "ok");
    assert_string_equal(jstr(v, "utc_time"), "00:06:53.00");
    assert_float_equal(jnum(v, "lat"), 44.068832333, 1e-9);
    assert_float_equal(jnum(v, "lon"), -121.314102167, 1e-9);
    assert_float_equal(jnum(v, "fix_quality"), 1, 0);
    assert_float_equal(jnum(v, "num_satellites"), 29, 0);
    assert_float_equal(jnum(v, "altitude_m"), 1109.2, 1e-9);
    assert_jnull(v, "geoid_separation_m");
    assert_jnull(v, "dgps_age_s");
    json_free(v);

    s = "$GPRMC,,V,,,,,,,,,,N*53";
    v = decode_json(&rl_decoder_nmea, s, strlen(s), &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_string_equal(jstr(v, "type"), "nmea.RMC");
    assert_jnull(v, "utc_time");
    assert_jnull(v, "lat");
    assert_jnull(v, "date");
    assert_jnull(v, "speed_knots");
    assert_string_equal(jstr(v, "status"), "V");
    json_free(v);

    s = "$PSRF151,3,1833,28692,0x7EFFFFFF*15";
    v = decode_json(&rl_decoder_nmea, s, strlen(s), &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_string_equal(jstr(v, "type"), "nmea.proprietary");
    assert_string_equal(jstr(v, "address"), "PSRF151");
    const struct json_value *f = json_get(v, "fields");
    assert_non_null(f);
    assert_int_equal(f->n, 4);
    assert_string_equal(json_at(f, 3)->text, "0x7EFFFFFF");
    json_free(v);

    s = "$GPGSV,4,4,13,51,37,160,,1*51";
    v = decode_json(&rl_decoder_nmea, s, strlen(s), &rc, err, sizeof(err));
    const struct json_value *sats = json_get(v, "satellites");
    assert_int_equal(sats->n, 1);
    assert_float_equal(jnum(json_at(sats, 0), "prn"), 51, 0);
    assert_jnull(json_at(sats, 0), "snr_dbhz");
    json_free(v);

    /* Missing checksum: decoded, flagged. */
    s = "$GPHDT,12.5,T\r\n";
    v = decode_json(&rl_decoder_nmea, s, strlen(s), &rc, err, sizeof(err));
    assert_string_equal(jstr(v, "checksum"), "missing");
    assert_float_equal(jnum(v, "heading_deg"), 12.5, 1e-12);
    json_free(v);

    /* Errors name the problem. */
    s = "$GPHDT,12.5,T*00";
    v = decode_json(&rl_decoder_nmea, s, strlen(s), &rc, err, sizeof(err));
    assert_null(v);
    assert_int_equal(rc, RL_ECRC);
    assert_non_null(strstr(err, "checksum"));
    s = "$GPHDT,12x5,T";
    v = decode_json(&rl_decoder_nmea, s, strlen(s), &rc, err, sizeof(err));
    assert_int_equal(rc, RL_ECORRUPT);
    assert_non_null(strstr(err, "12x5"));

    /* Detection scores. */
    struct rl_payload pl = {.data = (const uint8_t *)"$GPHDT,,T*1B", .len = 12};
    assert_int_equal(rl_decoder_nmea.detect(&pl), 95);
    pl.data = (const uint8_t *)"$GPHDT,,T";
    pl.len = 9;
    assert_true(rl_decoder_nmea.detect(&pl) > 0 && rl_decoder_nmea.detect(&pl) < 95);
    pl.data = (const uint8_t *)"\xb5\x62\x01\x07";
    pl.len = 4;
    assert_int_equal(rl_decoder_nmea.detect(&pl), 0);
}

/* ---- UBX --------------------------------------------------------------- */

static void test_ubx_frames(void **state)
{
    (void)state;
    /* UBX-ACK-ACK for CFG-PRT: checksum computed by hand, 0x0E 0x37. */
    static const uint8_t ack[] = {0xB5, 0x62, 0x05, 0x01, 0x02, 0x00, 0x06, 0x00, 0x0E, 0x37};
    uint8_t out[64];
    const uint8_t pl[] = {0x06, 0x00};
    assert_int_equal(rl_ubx_frame(0x05, 0x01, pl, 2, out, sizeof(out)), 10);
    assert_memory_equal(out, ack, sizeof(ack));
    struct rl_ubx_msg m;
    assert_int_equal(rl_ubx_parse(ack, sizeof(ack), &m), 0);
    assert_int_equal(m.cls, 5);
    assert_int_equal(m.id, 1);
    assert_int_equal(m.len, 2);
    assert_ptr_equal(m.payload, ack + 6);
    assert_string_equal(rl_ubx_name(5, 1), "ACK-ACK");
    assert_string_equal(rl_ubx_name(0x10, 0x15), "ESF-INS");
    assert_string_equal(rl_ubx_name(1, 3), "NAV-STATUS");
    assert_null(rl_ubx_name(0x7F, 0x7F));

    uint8_t bad[sizeof(ack)];
    memcpy(bad, ack, sizeof(ack));
    bad[9] ^= 1;
    assert_int_equal(rl_ubx_parse(bad, sizeof(bad), &m), RL_ECRC);
    for (size_t n = 0; n < sizeof(ack); n++)
        assert_int_equal(rl_ubx_parse(ack, n, &m), RL_ETRUNC);
    bad[9] ^= 1;
    bad[1] = 0x63;
    assert_int_equal(rl_ubx_parse(bad, sizeof(bad), &m), RL_ECORRUPT);
    uint8_t longer[sizeof(ack) + 1];
    memcpy(longer, ack, sizeof(ack));
    assert_int_equal(rl_ubx_parse(longer, sizeof(longer), &m), RL_ECORRUPT);
    static const uint8_t huge[] = {0xB5, 0x62, 0x01, 0x07, 0xFF, 0xFF};
    assert_int_equal(rl_ubx_parse(huge, sizeof(huge), &m), RL_ETOOBIG);
    assert_int_equal(rl_ubx_frame(1, 1, NULL, RL_UBX_MAX_PAYLOAD + 1, out, sizeof(out)),
                     RL_ETOOBIG);
    assert_int_equal(rl_ubx_frame(5, 1, pl, 2, out, 9), -ENOBUFS);
    assert_int_equal(rl_ubx_frame(5, 1, NULL, 0, out, 8), 8);
}

static void test_nav_pvt(void **state)
{
    (void)state;
    struct rl_ubx_nav_pvt in = {
        .itow_ms = 515666000,
        .year = 2025,
        .month = 4,
        .day = 11,
        .hour = 23,
        .min = 14,
        .sec = 8,
        .valid = 0x37,
        .t_acc_ns = 21,
        .nano_ns = -183620,
        .fix_type = 3,
        .flags = 0x43,
        .flags2 = 0xEA,
        .num_sv = 25,
        .lon_deg = -7.6590613,
        .lat_deg = 45.065772,
        .height_m = 304.639,
        .hmsl_m = -1.5,
        .h_acc_m = 0.092,
        .v_acc_m = 0.088,
        .vel_n_mps = -0.007,
        .vel_e_mps = 0.0,
        .vel_d_mps = 0.033,
        .g_speed_mps = 0.007,
        .head_mot_deg = 190.0427,
        .s_acc_mps = 0.196,
        .head_acc_deg = 180.0,
        .p_dop = 1.42,
        .flags3 = 1,
        .head_veh_deg = -10.5,
        .mag_dec_deg = -2.5,
        .mag_acc_deg = 1.25,
    };
    uint8_t pl[RL_UBX_NAV_PVT_LEN], frame[RL_UBX_NAV_PVT_LEN + RL_UBX_OVERHEAD];
    assert_int_equal(rl_ubx_nav_pvt_encode(&in, pl, sizeof(pl)), RL_UBX_NAV_PVT_LEN);
    assert_int_equal(rl_ubx_nav_pvt_encode(&in, pl, 10), -ENOBUFS);
    /* Spot-check the wire layout: lon at 24 (1e-7 deg, signed), pDOP at 76. */
    uint32_t lon =
        (uint32_t)pl[24] | (uint32_t)pl[25] << 8 | (uint32_t)pl[26] << 16 | (uint32_t)pl[27] << 24;
    assert_int_equal(lon, (uint32_t)-76590613);
    assert_int_equal(pl[76] | pl[77] << 8, 142);
    assert_int_equal(pl[20], 3);
    assert_int_equal(pl[23], 25);
    struct rl_ubx_nav_pvt out;
    assert_int_equal(rl_ubx_nav_pvt_parse(pl, sizeof(pl), &out), 0);
    assert_int_equal(out.itow_ms, in.itow_ms);
    assert_int_equal(out.year, 2025);
    assert_int_equal(out.nano_ns, -183620);
    assert_float_equal(out.lon_deg, in.lon_deg, 1e-9);
    assert_float_equal(out.lat_deg, in.lat_deg, 1e-9);
    assert_float_equal(out.height_m, 304.639, 1e-9);
    assert_float_equal(out.hmsl_m, -1.5, 1e-9);
    assert_float_equal(out.vel_n_mps, -0.007, 1e-9);
    assert_float_equal(out.head_mot_deg, 190.0427, 1e-9);
    assert_float_equal(out.p_dop, 1.42, 1e-9);
    assert_true(out.has_head_veh);
    assert_float_equal(out.head_veh_deg, -10.5, 1e-9);
    assert_float_equal(out.mag_dec_deg, -2.5, 1e-9);
    assert_float_equal(out.mag_acc_deg, 1.25, 1e-9);
    /* The 84-byte protocol 14 version has no headVeh; shorter is truncated. */
    assert_int_equal(rl_ubx_nav_pvt_parse(pl, RL_UBX_NAV_PVT_LEN_V14, &out), 0);
    assert_false(out.has_head_veh);
    assert_int_equal(rl_ubx_nav_pvt_parse(pl, RL_UBX_NAV_PVT_LEN_V14 - 1, &out), RL_ETRUNC);

    int n = rl_ubx_frame(RL_UBX_CLASS_NAV, RL_UBX_ID_NAV_PVT, pl, sizeof(pl), frame, sizeof(frame));
    assert_int_equal(n, (int)sizeof(frame));
    char err[256];
    int rc;
    struct json_value *v =
        decode_json(&rl_decoder_ubx, frame, sizeof(frame), &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_string_equal(jstr(v, "type"), "ubx.NAV-PVT");
    assert_float_equal(jnum(v, "lat"), 45.065772, 1e-9);
    assert_float_equal(jnum(v, "lon"), -7.6590613, 1e-9);
    assert_float_equal(jnum(v, "year"), 2025, 0);
    assert_float_equal(jnum(v, "num_sv"), 25, 0);
    assert_float_equal(jnum(v, "carr_soln"), 1, 0);
    /* 2025-04-11T23:14:08Z = 1744413248 s; nano is negative here. */
    assert_float_equal(jnum(v, "utc_ns"), 1744413248e9 - 183620, 1.0);
    assert_true(json_get(v, "invalid_llh")->boolean);
    json_free(v);
    struct rl_payload p = {.data = frame, .len = sizeof(frame)};
    assert_int_equal(rl_decoder_ubx.detect(&p), 100);
    frame[sizeof(frame) - 1] ^= 0xFF;
    v = decode_json(&rl_decoder_ubx, frame, sizeof(frame), &rc, err, sizeof(err));
    assert_null(v);
    assert_int_equal(rc, RL_ECRC);
    assert_true(rl_decoder_ubx.detect(&p) < 100);

    /* A message without a decoder: named, length given. */
    uint8_t st[128];
    memset(st, 0, sizeof(st));
    n = rl_ubx_frame(0x01, 0x03, st, 16, st, sizeof(st));
    assert_int_equal(n, 16 + RL_UBX_OVERHEAD);
    v = decode_json(&rl_decoder_ubx, st, (size_t)n, &rc, err, sizeof(err));
    assert_string_equal(jstr(v, "type"), "ubx.NAV-STATUS");
    assert_float_equal(jnum(v, "length"), 16, 0);
    json_free(v);
    n = rl_ubx_frame(0x7E, 0x01, NULL, 0, st, sizeof(st));
    v = decode_json(&rl_decoder_ubx, st, (size_t)n, &rc, err, sizeof(err));
    assert_string_equal(jstr(v, "type"), "ubx.unknown");
    assert_float_equal(jnum(v, "class"), 0x7E, 0);
    json_free(v);
    /* A NAV-PVT frame with a short payload is an error. */
    n = rl_ubx_frame(RL_UBX_CLASS_NAV, RL_UBX_ID_NAV_PVT, pl, 20, st, sizeof(st));
    v = decode_json(&rl_decoder_ubx, st, (size_t)n, &rc, err, sizeof(err));
    assert_int_equal(rc, RL_ETRUNC);
}

/* ---- serial framer ------------------------------------------------------- */

/* An RTCM 3 frame: 0xD3, length, payload, CRC-24Q. */
static size_t rtcm3_frame(const uint8_t *payload, size_t n, uint8_t *out)
{
    out[0] = RL_RTCM3_PREAMBLE;
    out[1] = (uint8_t)(n >> 8);
    out[2] = (uint8_t)n;
    memcpy(out + 3, payload, n);
    uint32_t crc = rl_rtcm3_crc24q(out, n + 3);
    out[n + 3] = (uint8_t)(crc >> 16);
    out[n + 4] = (uint8_t)(crc >> 8);
    out[n + 5] = (uint8_t)crc;
    return n + 6;
}

struct collected {
    int nmea, ubx, rtcm3;
    int nmea_bad;
    size_t bytes;
    uint16_t rtcm_types[8];
};

static void collect(struct rl_framer *f, struct collected *c)
{
    struct rl_frame fr;
    while (rl_framer_next(f, &fr) == 1) {
        c->bytes += fr.len;
        if (fr.kind == RL_FRAME_NMEA) {
            c->nmea++;
            c->nmea_bad += !fr.checksum_ok;
            assert_true(fr.data[0] == '$' || fr.data[0] == '!');
        } else if (fr.kind == RL_FRAME_UBX) {
            struct rl_ubx_msg m;
            assert_int_equal(rl_ubx_parse(fr.data, fr.len, &m), 0);
            c->ubx++;
        } else {
            if (c->rtcm3 < 8)
                c->rtcm_types[c->rtcm3] = fr.rtcm3_type;
            c->rtcm3++;
        }
    }
}

static void feed(const uint8_t *p, size_t n, size_t chunk, struct collected *c,
                 struct rl_framer_stats *st)
{
    struct rl_framer *f = malloc(sizeof(*f));
    assert_non_null(f);
    rl_framer_init(f);
    memset(c, 0, sizeof(*c));
    while (n > 0) {
        size_t k = n < chunk ? n : chunk;
        size_t t = rl_framer_push(f, p, k);
        assert_true(t > 0);
        p += t;
        n -= t;
        collect(f, c);
    }
    rl_framer_finish(f);
    collect(f, c);
    *st = f->stats;
    free(f);
}

static void test_crc24q(void **state)
{
    (void)state;
    /* The CRC-24Q check value of "123456789". */
    assert_int_equal(rl_rtcm3_crc24q((const uint8_t *)"123456789", 9), 0xCDE703);
    assert_int_equal(rl_rtcm3_crc24q(NULL, 0), 0);
}

static void test_framer_mixed(void **state)
{
    (void)state;
    uint8_t s[4096];
    size_t n = 0;
#define PUT(str) (memcpy(s + n, str, sizeof(str) - 1), n += sizeof(str) - 1)
    PUT("# comment line $GPGGA with a dollar\n"); /* 36 bytes of garbage (no valid address) */
    PUT("$GPHDT,274.07,T*03\r\n");                /* good */
    uint8_t ubx[32];
    uint8_t pay[4] = {1, 2, 3, 4};
    int un = rl_ubx_frame(0x0A, 0x38, pay, sizeof(pay), ubx, sizeof(ubx));
    memcpy(s + n, ubx, (size_t)un);
    n += (size_t)un;
    uint8_t rt[64];
    uint8_t rpay[5] = {0x43, 0x50, 0x00, 0x11, 0x22}; /* message 1077 */
    size_t rn = rtcm3_frame(rpay, sizeof(rpay), rt);
    memcpy(s + n, rt, rn);
    n += rn;
    PUT("\xb5\x62\x01");         /* a UBX start that goes nowhere: 3 bytes skipped */
    PUT("$GPHDT,274.07,T*00\n"); /* bad checksum, bare LF: emitted, flagged */
    memcpy(s + n, rt, rn);       /* RTCM with a broken CRC: skipped */
    s[n + rn - 1] ^= 0x55;
    n += rn;
    PUT("\xd3\xff\x00");            /* reserved bits set: skipped */
    memcpy(s + n, ubx, (size_t)un); /* UBX with a broken checksum: skipped */
    s[n + (size_t)un - 1] ^= 1;
    n += (size_t)un;
    PUT("$GPHDT,1,T\r");   /* bare CR, no checksum */
    PUT("$GP\x01HDT\r\n"); /* non-printable: skipped byte by byte */
    memcpy(s + n, ubx, (size_t)un);
    n += (size_t)un;
    PUT("$GNGGA,,,,,,0,,,,M,,M,,*78"); /* last line without its line end */
#undef PUT
    size_t garbage = 36 + 3 + rn + 3 + (size_t)un + 9;
    static const size_t chunks[] = {1, 2, 3, 7, 64, 4096};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        struct collected col;
        struct rl_framer_stats st;
        feed(s, n, chunks[c], &col, &st);
        assert_int_equal(col.nmea, 4);
        assert_int_equal(col.ubx, 2);
        assert_int_equal(col.rtcm3, 1);
        assert_int_equal(col.rtcm_types[0], 1077);
        assert_int_equal(col.nmea_bad, 1);
        assert_int_equal(st.nmea, 4);
        assert_int_equal(st.nmea_bad_checksum, 1);
        assert_int_equal(st.nmea_no_checksum, 1);
        assert_int_equal(st.ubx_bad_checksum, 1);
        assert_int_equal(st.rtcm3_bad_crc, 1);
        /* Every byte is either in a frame or counted as skipped. */
        assert_int_equal(col.bytes + st.skipped_bytes, n);
        assert_int_equal(st.skipped_bytes, garbage);
    }
}

static void test_framer_limits(void **state)
{
    (void)state;
    struct rl_framer *f = malloc(sizeof(*f));
    struct rl_frame fr;
    assert_non_null(f);
    rl_framer_init(f);
    /* An NMEA-looking line longer than RL_NMEA_MAX_LEN is garbage. */
    static uint8_t line[RL_NMEA_MAX_LEN + 8];
    memset(line, 'A', sizeof(line));
    memcpy(line, "$GPXXX,", 7);
    line[sizeof(line) - 1] = '\n';
    assert_int_equal(rl_framer_push(f, line, sizeof(line)), sizeof(line));
    assert_int_equal(rl_framer_next(f, &fr), 0);
    assert_int_equal(f->stats.skipped_bytes, sizeof(line));
    /* A huge UBX length cannot be waited for. */
    static const uint8_t big[] = {0xB5, 0x62, 0x01, 0x07, 0xFF, 0x7F};
    rl_framer_reset(f);
    f->stats.skipped_bytes = 0;
    assert_int_equal(rl_framer_push(f, big, sizeof(big)), sizeof(big));
    assert_int_equal(rl_framer_next(f, &fr), 0);
    assert_true(f->stats.skipped_bytes >= 1);
    /* The buffer is bounded: a long stream of a waiting candidate fills it,
     * push takes what fits, and next() makes room again. */
    rl_framer_reset(f);
    static uint8_t junk[3 * RL_FRAMER_BUF_SIZE];
    memset(junk, 0x55, sizeof(junk));
    size_t off = 0;
    while (off < sizeof(junk)) {
        size_t k = rl_framer_push(f, junk + off, sizeof(junk) - off);
        assert_true(k > 0);
        assert_true(k <= RL_FRAMER_BUF_SIZE);
        off += k;
        while (rl_framer_next(f, &fr) == 1)
            fail();
    }
    /* An incomplete UBX frame at the end of the stream is skipped. */
    rl_framer_reset(f);
    f->stats.skipped_bytes = 0;
    static const uint8_t partial[] = {0xB5, 0x62, 0x01, 0x07, 0x04, 0x00, 0x01};
    assert_int_equal(rl_framer_push(f, partial, sizeof(partial)), sizeof(partial));
    assert_int_equal(rl_framer_next(f, &fr), 0);
    rl_framer_finish(f);
    assert_int_equal(rl_framer_next(f, &fr), 0);
    assert_int_equal(f->stats.skipped_bytes, sizeof(partial));
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gga_full),
        cmocka_unit_test(test_gga_empty_fields),
        cmocka_unit_test(test_southern_western_and_edges),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_framing_errors),
        cmocka_unit_test(test_talkers_and_kinds),
        cmocka_unit_test(test_rmc_gsa_gst_zda_gns),
        cmocka_unit_test(test_encoders_roundtrip),
        cmocka_unit_test(test_nmea_decoder),
        cmocka_unit_test(test_ubx_frames),
        cmocka_unit_test(test_nav_pvt),
        cmocka_unit_test(test_crc24q),
        cmocka_unit_test(test_framer_mixed),
        cmocka_unit_test(test_framer_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
