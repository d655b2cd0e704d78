/* Unit tests of the test-zone simulator (sim/): the route and the local
 * tangent plane, the traffic light plan and the SPAT countdowns, the
 * consistency of what different sources say about the same world (CAN
 * speed against GNSS motion, BSM positions against the vehicles the LiDAR
 * sees), that every frame decodes with roadlog's own decoders, that the
 * ego obeys the light, and that a seed always gives the same bytes. */
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

#include "roadlog/can.h"
#include "roadlog/decode.h"
#include "roadlog/gnss.h"
#include "roadlog/jsonw.h"
#include "roadlog/lidar.h"
#include "roadlog/sim.h"
#include "roadlog/v2x.h"

#define NS_PER_S       1000000000ull
#define NS_PER_MS      1000000ull
#define MS_PER_MINUTE  60000ull
#define KNOWN_START_NS 1795249800000000000ull /* 2026-11-21T08:30:00Z */
#define JSON_LIMIT     (1u << 20)
#define LIGHT_RED      3
#define LIGHT_GREEN    5
#define LIGHT_YELLOW   7
#define MAX_REMOTE     8
#define TEST_PI        3.14159265358979323846

static struct rl_sim *make_sim(uint64_t seed, uint64_t start_ns, double seconds)
{
    struct rl_sim_options o;
    rl_sim_options_init(&o);
    o.seed = seed;
    o.start_time_ns = start_ns;
    o.duration_ns = (uint64_t)(seconds * (double)NS_PER_S);
    struct rl_sim *sim = NULL;
    char err[256];
    assert_int_equal(rl_sim_new(&sim, &o, err, sizeof(err)), 0);
    return sim;
}

static double dist(double ax, double ay, double bx, double by)
{
    return hypot(ax - bx, ay - by);
}

/* ---- route and geodesy ---------------------------------------------------- */

static void test_route_geometry(void **state)
{
    (void)state;
    struct rl_sim *sim = make_sim(1, 0, 1);
    double len = rl_sim_route_length_m(sim);
    assert_true(len > 2000 && len < 3000);
    struct rl_sim_pose a, b, prev;
    rl_sim_route_pose(sim, 0, 0, &a);
    rl_sim_route_pose(sim, len, 0, &b);
    assert_true(dist(a.e_m, a.n_m, b.e_m, b.n_m) < 1e-6); /* a closed loop */
    /* Continuous: no jumps in position or heading, curvature bounded by the
     * 30 m corners, everything within a kilometre of the origin. */
    rl_sim_route_pose(sim, 0, 0, &prev);
    double turned = 0;
    for (double s = 0.5; s <= len; s += 0.5) {
        struct rl_sim_pose p;
        rl_sim_route_pose(sim, s, 0, &p);
        assert_true(fabs(dist(p.e_m, p.n_m, prev.e_m, prev.n_m) - 0.5) < 0.01);
        double dh = fmod(p.heading_deg - prev.heading_deg + 540.0, 360.0) - 180.0;
        assert_true(fabs(dh) < 1.0);
        turned += dh;
        assert_true(fabs(p.curvature_pm) <= 1.0 / 30.0 + 1e-9);
        assert_true(hypot(p.e_m, p.n_m) < 1000.0);
        prev = p;
    }
    assert_true(fabs(turned + 360.0) < 1.0); /* one counterclockwise lap: -360 in compass terms */
    /* A lane 1.75 m to the right: parallel to the centreline, the same heading. */
    struct rl_sim_pose c, r;
    rl_sim_route_pose(sim, 100, 0, &c);
    rl_sim_route_pose(sim, 100, -1.75, &r);
    assert_true(fabs(dist(c.e_m, c.n_m, r.e_m, r.n_m) - 1.75) < 1e-9);
    assert_true(fabs(c.heading_deg - r.heading_deg) < 1e-9);
    double xs = rl_sim_intersection_s_m(sim);
    assert_true(xs > 0 && xs < len);
    rl_sim_free(sim);
}

static void test_tangent_plane(void **state)
{
    (void)state;
    double lat, lon, h, e, n, u;
    rl_sim_enu_to_llh(0, 0, 0, &lat, &lon, &h);
    assert_true(fabs(lat - RL_SIM_ORIGIN_LAT_DEG) < 1e-10);
    assert_true(fabs(lon - RL_SIM_ORIGIN_LON_DEG) < 1e-10);
    assert_true(fabs(h - RL_SIM_ORIGIN_H_M) < 1e-6);
    /* 1 km north is 1/110.8 km per degree of latitude here (WGS-84, 29.7 N). */
    rl_sim_enu_to_llh(0, 1000, 0, &lat, &lon, &h);
    assert_true(fabs((lat - RL_SIM_ORIGIN_LAT_DEG) * 110853.0 - 1000.0) < 2.0);
    assert_true(fabs(h - RL_SIM_ORIGIN_H_M - 0.0785) < 0.01); /* the plane rises off the earth */
    /* 1 km east: 96.8 km per degree of longitude at 29.72 N. */
    rl_sim_enu_to_llh(1000, 0, 0, &lat, &lon, &h);
    assert_true(fabs((lon - RL_SIM_ORIGIN_LON_DEG) * 96800.0 - 1000.0) < 3.0);
    /* Round trips to the millimetre. */
    const double pts[][3] = {{0, 0, 0}, {-523.1, 211.7, 1.9}, {812.0, -377.5, -3.0}};
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        rl_sim_enu_to_llh(pts[i][0], pts[i][1], pts[i][2], &lat, &lon, &h);
        rl_sim_llh_to_enu(lat, lon, h, &e, &n, &u);
        assert_true(fabs(e - pts[i][0]) < 1e-3 && fabs(n - pts[i][1]) < 1e-3 &&
                    fabs(u - pts[i][2]) < 1e-3);
    }
}

/* ---- the light plan and SPAT ---------------------------------------------- */

static uint64_t at_ms(uint64_t ms)
{
    return KNOWN_START_NS + ms * NS_PER_MS; /* KNOWN_START is a whole minute */
}

static void test_signal_plan(void **state)
{
    (void)state;
    struct rl_sim_signal s;
    assert_int_equal(rl_sim_signal_at(9, at_ms(0), &s), -EINVAL);
    /* The loop: 30 s green, 3 s yellow, 27 s red. */
    static const struct {
        int phase;
        uint64_t ms;
        int light;
        uint64_t remaining, duration;
    } cases[] = {
        {RL_SIM_PHASE_LOOP, 0, LIGHT_GREEN, 30000, 30000},
        {RL_SIM_PHASE_LOOP, 29999, LIGHT_GREEN, 1, 30000},
        {RL_SIM_PHASE_LOOP, 30000, LIGHT_YELLOW, 3000, 3000},
        {RL_SIM_PHASE_LOOP, 33000, LIGHT_RED, 27000, 27000},
        {RL_SIM_PHASE_LOOP, 59999, LIGHT_RED, 1, 27000},
        {RL_SIM_PHASE_LOOP, 60000, LIGHT_GREEN, 30000, 30000},
        {RL_SIM_PHASE_CROSS, 0, LIGHT_RED, 34000, 35000},
        {RL_SIM_PHASE_CROSS, 34000, LIGHT_GREEN, 22000, 22000},
        {RL_SIM_PHASE_CROSS, 56000, LIGHT_YELLOW, 3000, 3000},
        {RL_SIM_PHASE_CROSS, 59000, LIGHT_RED, 35000, 35000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(rl_sim_signal_at(cases[i].phase, at_ms(cases[i].ms), &s), 0);
        assert_int_equal(s.light, cases[i].light);
        assert_int_equal(s.remaining_ms, cases[i].remaining);
        assert_int_equal(s.duration_ms, cases[i].duration);
        assert_int_equal(s.elapsed_ms + s.remaining_ms, s.duration_ms);
    }
    /* Never both directions moving; an all-red second after each yellow. */
    int all_red = 0;
    for (uint64_t ms = 0; ms < 60000; ms += 100) {
        struct rl_sim_signal a, b;
        assert_int_equal(rl_sim_signal_at(RL_SIM_PHASE_LOOP, at_ms(ms), &a), 0);
        assert_int_equal(rl_sim_signal_at(RL_SIM_PHASE_CROSS, at_ms(ms), &b), 0);
        assert_false(a.light != LIGHT_RED && b.light != LIGHT_RED);
        all_red += a.light == LIGHT_RED && b.light == LIGHT_RED;
    }
    assert_int_equal(all_red, 20);
}

/* The UTC ms of a ms-of-the-minute stamp taken at most a minute before ref_ms. */
static uint64_t utc_of_sec_mark(uint64_t ref_ms, uint64_t sec_mark)
{
    uint64_t t = ref_ms / MS_PER_MINUTE * MS_PER_MINUTE + sec_mark;
    return t > ref_ms ? t - MS_PER_MINUTE : t;
}

static int32_t tenths(uint64_t ms)
{
    return (int32_t)((ms + 50) / 100);
}

struct v2x_frame {
    struct rl_v2x_msg *m;
    uint64_t publish_ms;
};

static bool decode_v2x(const struct rl_sim_frame *f, struct v2x_frame *out)
{
    struct rl_v2x_frames fr;
    char err[256];
    assert_int_equal(rl_v2x_unframe(NULL, 0, f->data, f->len, &fr, err, sizeof(err)), 0);
    assert_int_equal(fr.framing, RL_V2X_FRAMING_VENDOR);
    assert_int_equal(fr.n, 1);
    assert_int_equal(rl_v2x_decode(fr.f[0].p, fr.f[0].len, out->m, err, sizeof(err)), 0);
    out->publish_ms = fr.vendor_time_ms;
    assert_int_equal(f->publish_time_ns, fr.vendor_time_ms * NS_PER_MS);
    return true;
}

static void test_spat_countdowns(void **state)
{
    (void)state;
    struct rl_sim *sim = make_sim(7, 0, 70);
    struct v2x_frame vf = {malloc(sizeof(struct rl_v2x_msg)), 0};
    assert_non_null(vf.m);
    struct rl_sim_frame f;
    int rc, n_spat = 0, changes = 0, prev_light = -1;
    while ((rc = rl_sim_next(sim, &f)) == 1) {
        if (f.source != RL_SIM_SRC_V2X)
            continue;
        decode_v2x(&f, &vf);
        if (vf.m->kind != RL_V2X_SPAT)
            continue;
        n_spat++;
        const struct rl_v2x_spat *sp = &vf.m->u.spat;
        assert_int_equal(sp->n_intersections, 1);
        const struct rl_v2x_intersection_state *is = &sp->intersections[0];
        assert_int_equal(is->intersectionId.id, 1);
        assert_int_equal(is->phases.count, 2);
        uint64_t gen_ms = utc_of_sec_mark(vf.publish_ms, (uint64_t)sp->timeStamp);
        for (int p = 0; p < 2; p++) {
            const struct rl_v2x_phase *ph = &sp->phase_pool[is->phases.first + p];
            assert_int_equal(ph->phaseStates.count, 3);
            struct rl_sim_signal sig;
            assert_int_equal(rl_sim_signal_at(ph->id, gen_ms * NS_PER_MS, &sig), 0);
            const struct rl_v2x_phase_state *st = &sp->state_pool[ph->phaseStates.first];
            /* The current light first, counting down what is left. */
            assert_int_equal(st[0].light, sig.light);
            assert_int_equal(st[0].timing.kind, RL_V2X_TIMING_COUNTING);
            assert_int_equal(st[0].timing.start, 0);
            assert_int_equal(st[0].timing.likelyEnd, tenths(sig.remaining_ms));
            assert_true(st[0].timing.has_minEnd && st[0].timing.has_maxEnd);
            assert_int_equal(st[0].timing.minEnd, st[0].timing.likelyEnd);
            assert_int_equal(st[0].timing.maxEnd, st[0].timing.likelyEnd);
            assert_int_equal(st[0].timing.nextEnd, tenths(sig.duration_ms));
            /* Then the next two, in the order green, yellow, red, each
             * starting where the one before ends; a cycle is 60 s. */
            for (int k = 1; k < 3; k++) {
                int want = st[k - 1].light == LIGHT_GREEN    ? LIGHT_YELLOW
                           : st[k - 1].light == LIGHT_YELLOW ? LIGHT_RED
                                                             : LIGHT_GREEN;
                assert_int_equal(st[k].light, want);
                assert_true(abs(st[k].timing.start - st[k - 1].timing.likelyEnd) <= 1);
                assert_true(abs(st[k].timing.nextStart - st[k].timing.start - 600) <= 1);
            }
            assert_true(abs(st[0].timing.nextStart - st[2].timing.likelyEnd) <= 1);
            if (p == 0) {
                changes += prev_light >= 0 && prev_light != st[0].light;
                prev_light = st[0].light;
            }
        }
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n_spat, 700); /* 10 Hz */
    assert_int_equal(changes, 3);  /* green, yellow, red and back within 70 s */
    free(vf.m);
    rl_sim_free(sim);
}

/* ---- consistency between sources ------------------------------------------ */

struct can_sample {
    uint64_t t_ns;
    double speed_mps, yaw_dps;
};

static double can_signal(const struct rl_dbc_message *m, const struct rl_can_frame *fr,
                         const char *name)
{
    for (size_t i = 0; i < m->n_signals; i++) {
        if (strcmp(m->signals[i].name, name) != 0)
            continue;
        struct rl_dbc_decoded d;
        assert_int_equal(rl_dbc_decode_signal(m, i, fr->data, fr->len, &d), 1);
        return d.value;
    }
    fail_msg("no signal %s", name);
    return NAN;
}

static void test_can_matches_gnss(void **state)
{
    (void)state;
    struct rl_sim *sim = make_sim(3, 0, 40);
    size_t dbc_len;
    const char *dbc_text = rl_sim_dbc(&dbc_len);
    struct rl_dbc *dbc = NULL;
    char err[256];
    assert_int_equal(rl_dbc_parse_ex(dbc_text, dbc_len, RL_DBC_STRICT, &dbc, err, sizeof(err)), 0);
    enum { MAX_CAN = 4000, MAX_FIX = 400 };
    struct can_sample *can = calloc(MAX_CAN, sizeof(*can));
    struct {
        uint64_t t_ns;
        double e, n, speed, heading;
    } *fix = calloc(MAX_FIX, sizeof(*fix));
    assert_non_null(can);
    assert_non_null(fix);
    size_t n_can = 0, n_fix = 0;
    double ggae = NAN, ggan = NAN;
    struct rl_sim_frame f;
    int rc;
    while ((rc = rl_sim_next(sim, &f)) == 1) {
        if (f.source == RL_SIM_SRC_CAN) {
            struct rl_can_frame fr;
            assert_int_equal(rl_socketcan_parse(f.data, f.len, &fr), 0);
            if (fr.id != 0x0A0)
                continue;
            const struct rl_dbc_message *m = rl_dbc_find(dbc, fr.id);
            assert_non_null(m);
            assert_true(n_can < MAX_CAN);
            can[n_can++] =
                (struct can_sample){f.publish_time_ns, can_signal(m, &fr, "VehicleSpeed") / 3.6,
                                    can_signal(m, &fr, "YawRate")};
        } else if (f.source == RL_SIM_SRC_GNSS) {
            struct rl_nmea nm;
            assert_int_equal(rl_nmea_parse((const char *)f.data, f.len, &nm), 0);
            if (strcmp(nm.talker, "GN") != 0)
                continue;
            double u;
            if (nm.kind == RL_NMEA_GGA) {
                rl_sim_llh_to_enu(nm.u.gga.lat_deg, nm.u.gga.lon_deg,
                                  nm.u.gga.altitude_m + nm.u.gga.geoid_separation_m, &ggae, &ggan,
                                  &u);
                assert_true(fabs(u - 1.75) < 0.2); /* the antenna on the roof */
            } else if (nm.kind == RL_NMEA_RMC) {
                assert_true(n_fix < MAX_FIX);
                fix[n_fix].t_ns = f.publish_time_ns;
                fix[n_fix].e = ggae; /* GGA comes first in an epoch */
                fix[n_fix].n = ggan;
                fix[n_fix].speed = nm.u.rmc.speed_mps;
                n_fix++;
            } else if (nm.kind == RL_NMEA_HDT && n_fix > 0) {
                fix[n_fix - 1].heading = nm.u.hdt.heading_deg;
            }
        }
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n_fix, 400);
    size_t checked = 0, j = 0;
    for (size_t i = 0; i < n_fix; i++) {
        /* The CAN speed frame nearest the epoch: within 5 ms. */
        while (j + 1 < n_can && can[j + 1].t_ns <= fix[i].t_ns)
            j++;
        size_t k =
            j + 1 < n_can && can[j + 1].t_ns - fix[i].t_ns < fix[i].t_ns - can[j].t_ns ? j + 1 : j;
        if (llabs((long long)(can[k].t_ns - fix[i].t_ns)) > 5 * (long long)NS_PER_MS)
            continue;
        assert_true(fabs(can[k].speed_mps - fix[i].speed) < 0.08);
        checked++;
        /* Over one second: the distance the GNSS positions moved is the CAN
         * speed integrated, and the heading turned by the CAN yaw rate. */
        if (i >= 10) {
            double moved = dist(fix[i].e, fix[i].n, fix[i - 10].e, fix[i - 10].n);
            double integ = 0, yaw = 0;
            int nk = 0;
            for (size_t q = 0; q < n_can; q++) {
                if (can[q].t_ns >= fix[i - 10].t_ns && can[q].t_ns < fix[i].t_ns) {
                    integ += can[q].speed_mps * 0.01;
                    yaw += can[q].yaw_dps * 0.01;
                    nk++;
                }
            }
            assert_int_equal(nk, 100);
            assert_true(fabs(moved - integ) < 0.15);
            double turned = fmod(fix[i].heading - fix[i - 10].heading + 540.0, 360.0) - 180.0;
            assert_true(fabs(turned + yaw) <
                        0.5); /* compass clockwise, yaw rate counterclockwise */
        }
    }
    assert_true(checked > 350);
    free(can);
    free(fix);
    rl_dbc_free(dbc);
    rl_sim_free(sim);
}

/* Counts the decoded Pandar40P points inside each remote vehicle's box. */
static void count_points_in_vehicles(struct rl_sim *sim, const struct rl_sim_frame *f,
                                     struct rl_lidar_point *pts, unsigned *hits)
{
    size_t n;
    assert_int_equal(rl_hesai_decode_points(NULL, f->data, f->len, pts, RL_HESAI_MAX_POINTS, &n),
                     0);
    struct rl_sim_sensor_pose sp;
    assert_int_equal(rl_sim_lidar_pose(sim, RL_SIM_SRC_PANDAR40P, f->time_ns, &sp), 0);
    double h = sp.heading_deg * TEST_PI / 180.0;
    for (size_t v = 1; v < rl_sim_vehicle_count(sim) && v < MAX_REMOTE; v++) {
        struct rl_sim_vehicle veh;
        assert_int_equal(rl_sim_vehicle_at(sim, v, f->time_ns, &veh), 0);
        double vh = veh.heading_deg * TEST_PI / 180.0;
        for (size_t i = 0; i < n; i++) {
            /* Sensor frame: y along azimuth 0 (the heading), x to its right. */
            double e = sp.e_m + pts[i].y * sin(h) + pts[i].x * cos(h);
            double no = sp.n_m + pts[i].y * cos(h) - pts[i].x * sin(h);
            double z = sp.z_m + pts[i].z;
            double de = e - veh.e_m, dn = no - veh.n_m;
            double along = de * sin(vh) + dn * cos(vh), across = de * cos(vh) - dn * sin(vh);
            if (fabs(along) <= veh.length_m / 2 + 0.2 && fabs(across) <= veh.width_m / 2 + 0.2 &&
                z > 0.2 && z <= veh.height_m + 0.2)
                hits[v]++;
        }
    }
}

static void test_bsm_matches_scene(void **state)
{
    (void)state;
    struct rl_sim *sim = make_sim(5, 0, 25);
    size_t nv = rl_sim_vehicle_count(sim);
    assert_true(nv >= 4 && nv <= MAX_REMOTE); /* the ego and at least three others */
    struct v2x_frame vf = {malloc(sizeof(struct rl_v2x_msg)), 0};
    struct rl_lidar_point *pts = malloc(RL_HESAI_MAX_POINTS * sizeof(*pts));
    assert_non_null(vf.m);
    assert_non_null(pts);
    unsigned bsm[MAX_REMOTE] = {0}, lidar_hits[MAX_REMOTE] = {0};
    double closest[MAX_REMOTE];
    for (size_t v = 0; v < MAX_REMOTE; v++)
        closest[v] = INFINITY;
    uint64_t p40 = 0, start_ms = rl_sim_start_ns(sim) / NS_PER_MS;
    struct rl_sim_frame f;
    int rc;
    while ((rc = rl_sim_next(sim, &f)) == 1) {
        if (f.source == RL_SIM_SRC_PANDAR40P && p40++ % 5 == 0) {
            count_points_in_vehicles(sim, &f, pts, lidar_hits);
            struct rl_sim_vehicle ego, veh;
            assert_int_equal(rl_sim_vehicle_at(sim, 0, f.time_ns, &ego), 0);
            for (size_t v = 1; v < nv; v++) {
                assert_int_equal(rl_sim_vehicle_at(sim, v, f.time_ns, &veh), 0);
                closest[v] = fmin(closest[v], dist(ego.e_m, ego.n_m, veh.e_m, veh.n_m));
            }
        }
        if (f.source != RL_SIM_SRC_V2X)
            continue;
        decode_v2x(&f, &vf);
        if (vf.m->kind != RL_V2X_BSM)
            continue;
        const struct rl_v2x_bsm *b = &vf.m->u.bsm;
        size_t v = 1;
        struct rl_sim_vehicle veh;
        for (; v < nv; v++) {
            assert_int_equal(rl_sim_vehicle_at(sim, v, f.time_ns, &veh), 0);
            if (memcmp(veh.id, b->id, 8) == 0)
                break;
        }
        assert_true(v < nv);
        bsm[v]++;
        /* The vehicle where and when the BSM says it is. */
        uint64_t gen_ms = utc_of_sec_mark(vf.publish_ms, (uint64_t)b->secMark);
        assert_true(gen_ms >= start_ms);
        assert_int_equal(rl_sim_vehicle_at(sim, v, (gen_ms - start_ms) * NS_PER_MS, &veh), 0);
        double e, n, u;
        rl_sim_llh_to_enu(b->pos.lat * 1e-7, b->pos.lon * 1e-7, b->pos.elevation * 0.1, &e, &n, &u);
        assert_true(dist(e, n, veh.e_m, veh.n_m) < 0.03);
        assert_true(fabs(b->speed * 0.02 - veh.speed_mps) <= 0.011);
        double dh = fmod(b->heading * 0.0125 - veh.heading_deg + 540.0, 360.0) - 180.0;
        assert_true(fabs(dh) < 0.01);
        assert_int_equal(b->size.length, (int)lround(veh.length_m * 100));
    }
    assert_int_equal(rc, 0);
    for (size_t v = 1; v < nv; v++) {
        assert_int_equal(bsm[v], 250); /* 10 Hz */
        /* Each vehicle that came near the ego is seen by the LiDAR, in the
         * box its BSMs describe. */
        if (closest[v] < 30.0)
            assert_true(lidar_hits[v] > 50);
    }
    int near = 0;
    for (size_t v = 1; v < nv; v++)
        near += closest[v] < 30.0;
    assert_true(near >= 3);
    free(pts);
    free(vf.m);
    rl_sim_free(sim);
}

/* ---- decoding, behaviour, determinism ------------------------------------- */

static void test_every_frame_decodes(void **state)
{
    (void)state;
    struct rl_sim *sim = make_sim(11, 0, 8);
    struct rl_decode_env *env = NULL;
    char why[256];
    assert_int_equal(rl_decode_env_new(&env, NULL, why, sizeof(why)), 0);
    size_t dbc_len;
    const char *dbc = rl_sim_dbc(&dbc_len);
    assert_int_equal(rl_decode_env_set_dbc(env, dbc, dbc_len, why, sizeof(why)), 0);
    struct rl_jw jw;
    rl_jw_init(&jw, JSON_LIMIT);
    uint64_t per_source[RL_SIM_N_SOURCES] = {0};
    struct rl_sim_frame f;
    int rc;
    while ((rc = rl_sim_next(sim, &f)) == 1) {
        per_source[f.source]++;
        assert_true(f.len <= RL_SIM_MAX_FRAME_BYTES);
        assert_true(f.log_time_ns == rl_sim_start_ns(sim) + f.time_ns);
        if (f.source == RL_SIM_SRC_MARKERS)
            continue;
        rl_jw_reset(&jw);
        int drc = rl_decode_frame(rl_decode_env_ctx(env), rl_sim_source_info(f.source)->decoder,
                                  RL_LINKTYPE_PAYLOAD, f.data, f.len, f.log_time_ns, &jw);
        size_t len;
        const char *s = rl_jw_str_out(&jw, &len);
        if (drc != 0 || strstr(s, "\"error\""))
            fail_msg("%s: %s", rl_sim_source_info(f.source)->topic, s);
        if (f.source == RL_SIM_SRC_CAN)
            assert_non_null(strstr(s, "\"signals\""));
    }
    assert_int_equal(rc, 0);
    assert_int_equal(per_source[RL_SIM_SRC_VLP16], 6029);      /* 8 s / 1327.104 us */
    assert_int_equal(per_source[RL_SIM_SRC_PANDAR40P], 14398); /* 1800/s from 0.6 ms */
    assert_int_equal(per_source[RL_SIM_SRC_CAN], 8 * 180);
    rl_jw_release(&jw);
    rl_decode_env_free(env);
    rl_sim_free(sim);
}

static void test_ego_obeys_the_light(void **state)
{
    (void)state;
    /* Several seeds put the light in different states when the ego comes;
     * stepping the world through the vehicle queries is cheap. */
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct rl_sim *sim = make_sim(seed, 0, 0);
        double xs = rl_sim_intersection_s_m(sim), len = rl_sim_route_length_m(sim);
        double stop = xs - 10.5, prev_to = -1;
        int crossings = 0, stops = 0;
        bool was_moving = true;
        for (uint64_t t = 0; t < 200 * NS_PER_S; t += 10 * NS_PER_MS) {
            struct rl_sim_vehicle ego;
            assert_int_equal(rl_sim_vehicle_at(sim, 0, t, &ego), 0);
            double to = fmod(stop - ego.route_s_m + 2 * len, len);
            if (prev_to >= 0 && to > prev_to + len / 2) {
                /* The front crossed the stop line: never on red. */
                struct rl_sim_signal sig;
                assert_int_equal(
                    rl_sim_signal_at(RL_SIM_PHASE_LOOP, rl_sim_start_ns(sim) + t, &sig), 0);
                assert_int_not_equal(sig.light, LIGHT_RED);
                crossings++;
            }
            if (was_moving && ego.speed_mps < 0.05 && to < 20.0)
                stops++;
            was_moving = ego.speed_mps >= 0.05;
            assert_true(ego.speed_mps >= 0 && ego.speed_mps < 14.0);
            assert_true(fabs(ego.accel_mps2) < 7.01);
            prev_to = to;
        }
        assert_true(crossings >= 1);
        (void)stops;
        rl_sim_free(sim);
    }
}

static void test_markers(void **state)
{
    (void)state;
    struct rl_sim *sim = make_sim(1, 0, 30);
    struct rl_sim_frame f;
    int rc;
    bool approach = false, cross = false, event = false;
    uint64_t last = 0;
    while ((rc = rl_sim_next(sim, &f)) == 1) {
        assert_true(f.time_ns >= last); /* one stream, in time order */
        last = f.time_ns;
        if (f.source != RL_SIM_SRC_MARKERS)
            continue;
        char text[512];
        assert_true(f.len < sizeof(text));
        memcpy(text, f.data, f.len);
        text[f.len] = '\0';
        assert_non_null(strstr(text, "\"by\":\"roadlog sim\""));
        approach = approach || strstr(text, "\"label\":\"intersection-approach\"");
        cross = cross || strstr(text, "\"label\":\"intersection-cross\"");
        event = event || strstr(text, "\"label\":\"road-event\"");
    }
    assert_int_equal(rc, 0);
    assert_true(approach && cross && event);
    rl_sim_free(sim);
}

static void test_raycast(void **state)
{
    (void)state;
    struct rl_sim *sim = make_sim(1, 0, 1);
    struct rl_sim_vehicle ego;
    assert_int_equal(rl_sim_vehicle_at(sim, 0, 0, &ego), 0);
    /* Down the road, 10 degrees down from 2 m: the ground at 2 / sin(10). */
    double r = rl_sim_raycast(sim, 0, ego.e_m, ego.n_m, 2.0, ego.heading_deg, -10.0, 100.0);
    assert_true(fabs(r - 2.0 / sin(10.0 * TEST_PI / 180.0)) < 1e-6);
    /* Straight up: nothing. Sideways at 3 m: the buildings, within 40 m. */
    assert_true(rl_sim_raycast(sim, 0, ego.e_m, ego.n_m, 2.0, 0, 89.0, 100.0) == 0);
    double side = rl_sim_raycast(sim, 0, ego.e_m, ego.n_m, 3.0, ego.heading_deg + 90, 0, 100.0);
    assert_true(side > 7.0 && side < 40.0);
    rl_sim_free(sim);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct rl_sim *a = make_sim(42, 0, 3), *b = make_sim(42, 0, 3), *c = make_sim(43, 0, 3);
    assert_int_equal(rl_sim_start_ns(a), rl_sim_default_start_ns(42));
    assert_int_not_equal(rl_sim_start_ns(a), rl_sim_start_ns(c));
    struct rl_sim_frame fa, fb, fc;
    uint64_t n = 0, differ = 0;
    for (;;) {
        int ra = rl_sim_next(a, &fa), rb = rl_sim_next(b, &fb), rc = rl_sim_next(c, &fc);
        assert_int_equal(ra, rb);
        if (ra == 0)
            break;
        assert_int_equal(ra, 1);
        assert_int_equal(fa.source, fb.source);
        assert_int_equal(fa.time_ns, fb.time_ns);
        assert_int_equal(fa.publish_time_ns, fb.publish_time_ns);
        assert_int_equal(fa.len, fb.len);
        assert_memory_equal(fa.data, fb.data, fa.len);
        if (rc == 1 && fa.source == RL_SIM_SRC_VLP16 && fc.source == RL_SIM_SRC_VLP16 &&
            fa.len == fc.len && memcmp(fa.data, fc.data, fa.len) != 0)
            differ++;
        n++;
    }
    assert_true(n > 8000);
    assert_true(differ > 100); /* another seed, other noise and another start time */
    /* An explicit start time is used as given. */
    struct rl_sim *d = make_sim(42, KNOWN_START_NS, 1);
    assert_int_equal(rl_sim_start_ns(d), KNOWN_START_NS);
    rl_sim_free(a);
    rl_sim_free(b);
    rl_sim_free(c);
    rl_sim_free(d);
}

static void test_dbc_and_sources(void **state)
{
    (void)state;
    size_t len;
    const char *text = rl_sim_dbc(&len);
    assert_true(len > 0 && text[len] == '\0' && strlen(text) == len);
    struct rl_dbc *dbc = NULL;
    char err[256];
    assert_int_equal(rl_dbc_parse_ex(text, len, RL_DBC_STRICT, &dbc, err, sizeof(err)), 0);
    assert_int_equal(rl_dbc_message_count(dbc), 4);
    static const uint32_t ids[] = {0x0A0, 0x0C0, 0x0D0, 0x0E0};
    for (size_t i = 0; i < 4; i++)
        assert_non_null(rl_dbc_find(dbc, ids[i]));
    rl_dbc_free(dbc);
    for (int s = 0; s < RL_SIM_N_SOURCES; s++) {
        const struct rl_sim_source_info *si = rl_sim_source_info(s);
        assert_non_null(si);
        assert_true(si->topic[0] == '/');
        assert_true((si->port == 0) == (s == RL_SIM_SRC_MARKERS));
        if (si->decoder)
            assert_non_null(rl_decoder_find(si->decoder));
    }
    assert_null(rl_sim_source_info(RL_SIM_N_SOURCES));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_geometry),
        cmocka_unit_test(test_tangent_plane),
        cmocka_unit_test(test_signal_plan),
        cmocka_unit_test(test_spat_countdowns),
        cmocka_unit_test(test_can_matches_gnss),
        cmocka_unit_test(test_bsm_matches_scene),
        cmocka_unit_test(test_every_frame_decodes),
        cmocka_unit_test(test_ego_obeys_the_light),
        cmocka_unit_test(test_markers),
        cmocka_unit_test(test_raycast),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_dbc_and_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
