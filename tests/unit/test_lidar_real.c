/* Golden checks of the LiDAR decoders on real captures from the shared data
 * folder (real/velodyne-vlp16, real/velodyne-vlp32c, real/hesai-pandar40p):
 * packet classification, azimuth progress, point counts against an
 * independent count of non-zero distances, plausible ranges, the position
 * packets' $GPRMC, the Pandar40P tail fields and the angle-correction
 * file. The shared data directory comes from argv[1] or $RL_SHARED_DATA;
 * without it the test is skipped (exit 77).
 *
 * Facts of the captures these checks rest on (see each PROVENANCE.txt and
 * the notes below): both Velodyne captures carry factory bytes 0x37 0x21,
 * i.e. product id HDL-32E. The "VLP-16" capture's timing (1327 us = 24 x
 * 55.296 us per packet, ~0.4 degree per block at 10 Hz) is a VLP-16's, so
 * its firmware predates meaningful product ids; the "VLP-32C" capture's
 * timing (553 us = 12 x 46.08 us per packet), its position packets' gyro
 * bytes and its 2012 date are an HDL-32E's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_min.h"
#include "pcap_min.h"
#include "roadlog/decode.h"
#include "roadlog/lidar.h"

static const char *shared_dir;

static void load(const char *rel, struct pcap_min *pc)
{
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/%s", shared_dir, rel);
    if (pcap_min_load(path, pc, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static unsigned count_nonzero(const uint8_t *p, unsigned blocks, size_t first, size_t block_len,
                              unsigned channels, size_t point_len)
{
    unsigned n = 0;
    for (unsigned b = 0; b < blocks; b++)
        for (unsigned ch = 0; ch < channels; ch++) {
            const uint8_t *q = p + first + b * block_len + 4 + ch * point_len;
            n += (q[0] | q[1]) != 0;
        }
    return n;
}

static double range_of(const struct rl_lidar_point *p)
{
    return sqrt((double)p->x * p->x + (double)p->y * p->y + (double)p->z * p->z);
}

/* Decodes with the registered decoder and returns the parsed JSON. */
static struct json_value *decode_json(const struct rl_decoder *dec,
                                      const struct pcap_min_packet *pk)
{
    struct rl_payload pl = {.data = pk->payload,
                            .len = pk->len,
                            .linktype = RL_LINKTYPE_PAYLOAD,
                            .src_port = pk->src_port,
                            .dst_port = pk->dst_port};
    struct rl_decode_ctx ctx = {0};
    struct rl_jw w;
    char err[256] = "", jerr[128];
    rl_jw_init(&w, 1u << 20);
    rl_jw_obj_begin(&w);
    int rc = dec->decode(&ctx, &pl, &w, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s decode failed: %s", dec->name, err);
    rl_jw_obj_end(&w);
    size_t n;
    const char *s = rl_jw_str_out(&w, &n);
    struct json_value *j = json_parse(s, n, jerr, sizeof(jerr));
    if (!j)
        fail_msg("bad JSON (%s): %s", jerr, s);
    rl_jw_release(&w);
    return j;
}

static double jnum(const struct json_value *o, const char *key)
{
    const struct json_value *v = json_get(o, key);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_NUMBER);
    return strtod(v->text, NULL);
}

static const char *jstr(const struct json_value *o, const char *key)
{
    const struct json_value *v = json_get(o, key);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_STRING);
    return v->text;
}

struct velodyne_golden {
    const char *file;
    enum rl_velodyne_model model; /* what the sensor really is */
    size_t data, position;
    double step_min_deg, step_max_deg; /* azimuth change per block */
    unsigned total_points;
    uint32_t first_timestamp_us;
    uint16_t first_azimuth_cdeg;
};

static void check_velodyne(const struct velodyne_golden *g, struct pcap_min *pc)
{
    size_t data = 0, position = 0;
    unsigned total = 0;
    struct rl_lidar_point pts[RL_VELODYNE_MAX_POINTS];
    load(g->file, pc);
    assert_int_equal(pc->frames, 100);
    assert_int_equal(pc->n, 100);
    for (size_t i = 0; i < pc->n; i++) {
        const struct pcap_min_packet *pk = &pc->pkts[i];
        struct rl_payload pl = {.data = pk->payload,
                                .len = pk->len,
                                .src_port = pk->src_port,
                                .dst_port = pk->dst_port};
        enum rl_velodyne_kind kind = rl_velodyne_identify(pk->payload, pk->len, pk->dst_port);
        if (kind == RL_VELODYNE_KIND_DATA) {
            struct rl_velodyne_data d;
            assert_int_equal(pk->dst_port, RL_VELODYNE_DATA_PORT);
            assert_int_equal(rl_decoder_velodyne.detect(&pl), 95);
            assert_int_equal(rl_velodyne_parse_data(pk->payload, pk->len, &d), 0);
            if (data == 0) {
                assert_int_equal(d.timestamp_us, g->first_timestamp_us);
                assert_int_equal(d.azimuth_cdeg[0], g->first_azimuth_cdeg);
            }
            data++;
            assert_int_equal(d.return_mode, RL_LIDAR_RETURN_STRONGEST);
            assert_int_equal(d.product_id, RL_VELODYNE_PRODUCT_HDL32E);
            for (unsigned b = 1; b < RL_VELODYNE_BLOCKS; b++) {
                int step = (d.azimuth_cdeg[b] - d.azimuth_cdeg[b - 1] + 36000) % 36000;
                if (step < g->step_min_deg * 100 || step > g->step_max_deg * 100)
                    fail_msg("%s packet %zu block %u: azimuth step %d cdeg", g->file, i, b, step);
            }
            unsigned nz = count_nonzero(pk->payload, RL_VELODYNE_BLOCKS, 0, 100, 32, 3);
            assert_int_equal(d.valid_points, nz);
            size_t n;
            assert_int_equal(rl_velodyne_decode_points(g->model, pk->payload, pk->len, pts,
                                                       RL_VELODYNE_MAX_POINTS, &n),
                             0);
            assert_int_equal(n, nz);
            for (size_t k = 0; k < n; k++) {
                double r = range_of(&pts[k]);
                if (r < 0.4 || r > 120.0)
                    fail_msg("%s packet %zu point %zu: range %.3f m", g->file, i, k, r);
            }
            total += nz;
            struct json_value *j = decode_json(&rl_decoder_velodyne, pk);
            assert_string_equal(jstr(j, "type"), "velodyne.data");
            assert_string_equal(jstr(j, "model"), "HDL-32E"); /* as the bytes say */
            assert_true(jnum(j, "points") == nz);
            assert_int_equal(json_get(j, "azimuths")->n, 12);
            json_free(j);
        } else {
            assert_int_equal(kind, RL_VELODYNE_KIND_POSITION);
            assert_int_equal(pk->dst_port, RL_VELODYNE_POSITION_PORT);
            assert_int_equal(pk->len, RL_VELODYNE_POSITION_LEN);
            assert_int_equal(rl_decoder_velodyne.detect(&pl), 90);
            position++;
        }
    }
    assert_int_equal(data, g->data);
    assert_int_equal(position, g->position);
    assert_int_equal(total, g->total_points);
}

static void test_vlp16(void **state)
{
    (void)state;
    struct pcap_min pc;
    /* ~0.4 degree per block: two 55.296 us firings per block at 10 Hz. */
    static const struct velodyne_golden g = {"real/velodyne-vlp16/velodyne_vlp16.pcap",
                                             RL_VELODYNE_VLP16,
                                             84,
                                             16,
                                             0.35,
                                             0.45,
                                             19579,
                                             332917037,
                                             25035};
    check_velodyne(&g, &pc);
    /* Position packets: no GPS attached, PPS absent, empty NMEA. */
    size_t seen = 0;
    for (size_t i = 0; i < pc.n; i++) {
        struct rl_velodyne_position pos;
        if (pc.pkts[i].len != RL_VELODYNE_POSITION_LEN)
            continue;
        assert_int_equal(rl_velodyne_parse_position(pc.pkts[i].payload, pc.pkts[i].len, &pos), 0);
        assert_int_equal(pos.pps_status, 0);
        assert_int_equal(pos.nmea_len, 0);
        assert_false(pos.has_fix);
        /* Microseconds past the hour, between the data packets' stamps. */
        assert_true(pos.timestamp_us > 332917037u && pos.timestamp_us < 333100000u);
        struct json_value *j = decode_json(&rl_decoder_velodyne, &pc.pkts[i]);
        assert_string_equal(jstr(j, "type"), "velodyne.position");
        assert_string_equal(jstr(j, "pps"), "absent");
        assert_null(json_get(j, "lat"));
        json_free(j);
        seen++;
    }
    assert_int_equal(seen, 16);
    pcap_min_free(&pc);
}

static void test_vlp32(void **state)
{
    (void)state;
    struct pcap_min pc;
    /* ~0.2 degree per block: one 46.08 us sequence per block. */
    static const struct velodyne_golden g = {"real/velodyne-vlp32c/velodyne_vlp32.pcap",
                                             RL_VELODYNE_HDL32E,
                                             91,
                                             9,
                                             0.15,
                                             0.25,
                                             30596,
                                             2777070101u,
                                             22173};
    check_velodyne(&g, &pc);
    size_t seen = 0;
    for (size_t i = 0; i < pc.n; i++) {
        struct rl_velodyne_position pos;
        if (pc.pkts[i].len != RL_VELODYNE_POSITION_LEN)
            continue;
        assert_int_equal(rl_velodyne_parse_position(pc.pkts[i].payload, pc.pkts[i].len, &pos), 0);
        assert_string_equal(pos.nmea,
                            "$GPRMC,214616,A,3708.3443,N,12139.4299,W,009.7,040.6,111212,013.8,"
                            "E,D*0E");
        assert_true(pos.has_fix);
        assert_true(fabs(pos.lat_deg - 37.1390717) < 1e-6);
        assert_true(fabs(pos.lon_deg + 121.6571650) < 1e-6);
        assert_true(pos.has_utc);
        assert_int_equal(pos.year, 2012);
        assert_int_equal(pos.month, 12);
        assert_int_equal(pos.day, 11);
        assert_int_equal(pos.hour, 21);
        assert_int_equal(pos.minute, 46);
        assert_true(pos.second == 16.0);
        struct json_value *j = decode_json(&rl_decoder_velodyne, &pc.pkts[i]);
        assert_string_equal(jstr(j, "utc"), "2012-12-11T21:46:16.000Z");
        assert_true(fabs(jnum(j, "lat") - 37.1390717) < 1e-6);
        assert_true(fabs(jnum(j, "lon") + 121.657165) < 1e-6);
        json_free(j);
        seen++;
    }
    assert_int_equal(seen, 9);
    pcap_min_free(&pc);
}

static void check_hesai_packet(const struct pcap_min_packet *pk, const struct rl_hesai_calib *cal,
                               struct rl_hesai_packet *h)
{
    struct rl_lidar_point pts[RL_HESAI_MAX_POINTS];
    struct rl_payload pl = {.data = pk->payload, .len = pk->len};
    assert_int_equal(pk->len, RL_HESAI_P40_SEQ_LEN);
    assert_int_equal(rl_hesai_identify(pk->payload, pk->len), RL_HESAI_PANDAR40P);
    assert_int_equal(rl_decoder_hesai.detect(&pl), 95);
    assert_int_equal(rl_hesai_parse(pk->payload, pk->len, h), 0);
    assert_int_equal(h->blocks, 10);
    assert_true(h->has_udp_seq);
    assert_int_equal(h->factory, 0x42);
    assert_int_equal(h->return_mode, RL_LIDAR_RETURN_LAST);
    assert_false(h->high_temp);
    assert_int_equal(h->year, 2017);
    assert_int_equal(h->month, 9);
    assert_int_equal(h->day, 6);
    /* Azimuths increase within the packet, by under a degree per block. */
    for (unsigned b = 1; b < 10; b++) {
        int step = (h->azimuth_cdeg[b] - h->azimuth_cdeg[b - 1] + 36000) % 36000;
        assert_true(step > 0 && step < 100);
    }
    unsigned nz = count_nonzero(pk->payload, 10, 0, 124, 40, 3);
    assert_int_equal(h->valid_points, nz);
    size_t n;
    assert_int_equal(
        rl_hesai_decode_points(cal, pk->payload, pk->len, pts, RL_HESAI_MAX_POINTS, &n), 0);
    assert_int_equal(n, nz);
    for (size_t k = 0; k < n; k++) {
        double r = range_of(&pts[k]);
        assert_true(r >= 0.1 && r <= 200.0);
        if (cal) {
            double e, a;
            assert_true(rl_hesai_calib_get(cal, pts[k].ring, &e, &a));
            double elev = asin(pts[k].z / r) * 180.0 / M_PI;
            assert_true(fabs(elev - e) < 1e-3);
        }
        assert_true(pts[k].time_offset_ns <= 9 * 55560 + 54670);
    }
}

static void test_pandar40p(void **state)
{
    (void)state;
    struct pcap_min pc;
    struct rl_hesai_packet h;
    struct rl_hesai_calib *cal;
    char path[1024], err[256];
    /* The angle-correction file. */
    snprintf(path, sizeof(path), "%s/real/hesai-pandar40p/Pandar40P_Angle_Correction_File.csv",
             shared_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char csv[4096];
    size_t len = fread(csv, 1, sizeof(csv), f);
    assert_int_equal(fclose(f), 0);
    assert_true(len > 0 && len < sizeof(csv));
    if (rl_hesai_calib_parse(csv, len, &cal, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(rl_hesai_calib_channels(cal), 40);
    double e, a;
    assert_true(rl_hesai_calib_get(cal, 0, &e, &a));
    assert_true(e == 15.21 && a == -1.042);
    assert_true(rl_hesai_calib_get(cal, 6, &e, &a));
    assert_true(e == 2.016 && a == 3.125);
    assert_true(rl_hesai_calib_get(cal, 39, &e, &a));
    assert_true(e == -24.569 && a == -1.042);

    load("real/hesai-pandar40p/lidar_20Hz.pcapng", &pc);
    assert_int_equal(pc.frames, 200);
    assert_int_equal(pc.n, 200);
    unsigned total = 0, min_pts = 1000, max_pts = 0;
    uint32_t prev_seq = 0;
    for (size_t i = 0; i < pc.n; i++) {
        assert_int_equal(pc.pkts[i].src_port, 10000);
        assert_int_equal(pc.pkts[i].dst_port, 2369);
        check_hesai_packet(&pc.pkts[i], i % 2 ? cal : NULL, &h);
        assert_true(h.motor_rpm >= 1190 && h.motor_rpm <= 1210); /* 20 Hz */
        if (i == 0) {
            assert_int_equal(h.udp_seq, 10636899);
            assert_int_equal(h.timestamp_us, 702027);
            assert_int_equal(h.azimuth_cdeg[0], 12980);
            assert_int_equal(h.valid_points, 373);
            assert_int_equal(h.hour, 16);
            assert_int_equal(h.minute, 9);
            assert_int_equal(h.second, 43);
            struct json_value *j = decode_json(&rl_decoder_hesai, &pc.pkts[i]);
            assert_string_equal(jstr(j, "type"), "hesai.pandar40p");
            assert_string_equal(jstr(j, "utc"), "2017-09-06T16:09:43.702027Z");
            assert_true(jnum(j, "points") == 373);
            assert_true(jnum(j, "udp_seq") == 10636899);
            assert_string_equal(jstr(j, "return_mode"), "last");
            assert_string_equal(json_at(json_get(j, "azimuths"), 0)->text, "129.80");
            json_free(j);
        } else {
            assert_int_equal(h.udp_seq, prev_seq + 1);
        }
        prev_seq = h.udp_seq;
        total += h.valid_points;
        if (h.valid_points < min_pts)
            min_pts = h.valid_points;
        if (h.valid_points > max_pts)
            max_pts = h.valid_points;
    }
    assert_int_equal(total, 76934);
    assert_int_equal(min_pts, 341);
    assert_int_equal(max_pts, 400);
    pcap_min_free(&pc);

    load("real/hesai-pandar40p/sample_packet.pcapng", &pc);
    assert_int_equal(pc.n, 1);
    check_hesai_packet(&pc.pkts[0], cal, &h);
    assert_int_equal(h.valid_points, 389);
    assert_int_equal(h.azimuth_cdeg[0], 11666);
    assert_int_equal(h.motor_rpm, 599);
    assert_int_equal(h.udp_seq, 270964);
    assert_int_equal(h.hour, 14);
    assert_int_equal(h.minute, 33);
    assert_int_equal(h.second, 38);
    assert_int_equal(h.timestamp_us, 898262);
    pcap_min_free(&pc);
    rl_hesai_calib_free(cal);
}

int main(int argc, char **argv)
{
    struct stat st;
    char probe[1024];
    shared_dir = argc > 1 ? argv[1] : getenv("RL_SHARED_DATA");
    if (shared_dir)
        snprintf(probe, sizeof(probe), "%s/real/velodyne-vlp16", shared_dir);
    if (!shared_dir || stat(probe, &st) != 0) {
        printf("SKIP: ../shared/data not found (looked for '%s')\n",
               shared_dir ? probe : "$RL_SHARED_DATA");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vlp16),
        cmocka_unit_test(test_vlp32),
        cmocka_unit_test(test_pandar40p),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
