/* The simulated GNSS/INS receiver (sim_internal.h), a dual-antenna RTK unit
 * on the ego's roof sending NMEA 0183 over UDP, one sentence per datagram
 * (CR LF included), with the encoders of gnss.h:
 *
 *   every 100 ms epoch (aligned to UTC):  $GNGGA (RTK fixed), $GNRMC,
 *                                         $GNVTG, $GNHDT (dual-antenna heading)
 *   every whole UTC second, in addition:  $BDGGA, $BDRMC (the BeiDou-only
 *                                         differential solution)
 *
 * An epoch's sentences leave 18 ms after it, 0.6 ms apart, and carry the
 * ego's state at the epoch: the same position, speed and heading the CAN
 * bus and the LiDAR poses come from, plus 1 cm (RTK) or 30 cm (BeiDou
 * DGPS) of position noise, computed once per epoch so that GGA and RMC
 * agree. The antenna is taken at the ego's centre, ANTENNA_H_M up. The
 * VLP-16 gets its own $GPRMC with each PPS (rl__gnss_pps_rmc). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "roadlog/gnss.h"
#include "sim_internal.h"

#define EPOCH_NS           (100 * RL__NS_PER_MS)
#define SEND_DELAY_NS      (18 * RL__NS_PER_MS)
#define SENTENCE_GAP_NS    (600 * RL__NS_PER_US)
#define N_GN_SENTENCES     4
#define N_BD_SENTENCES     2
#define ANTENNA_H_M        1.75
#define GEOID_SEPARATION_M (-27.6) /* EGM96 geoid above the ellipsoid, Yubei */
#define RTK_SIGMA_M        0.01
#define RTK_SIGMA_UP_M     0.02
#define BD_SIGMA_M         0.30
#define SPEED_SIGMA_MPS    0.01
#define HEADING_SIGMA_DEG  0.05
#define FIX_RTK            4
#define FIX_DGPS           2
#define RTK_SATS_MIN       22
#define BD_SATS_MIN        11
#define SATS_SPAN          4
#define SATS_PERIOD        173 /* epochs between changes of the satellite count */
#define RTK_HDOP           0.62
#define BD_HDOP            1.15
#define KNOT_MPS           (1852.0 / 3600.0)
#define RNG_GNSS           0x474e5353ull
#define RNG_PPS            0x50505331ull

/* One epoch's solution. */
struct solution {
    struct rl__utc utc;
    double lat, lon, alt_msl;
    double speed_mps, course_deg, heading_deg;
    int sats;
    double hdop;
};

void rl__gnss_init(struct rl_sim *sim)
{
    struct rl__gnss *g = &sim->gnss;
    memset(g, 0, sizeof(*g));
    g->key = rl__mix64(sim->opts.seed ^ RNG_GNSS);
    uint64_t first = (sim->start_ns + EPOCH_NS - 1) / EPOCH_NS * EPOCH_NS;
    g->first_epoch_ns = first - sim->start_ns;
}

static uint64_t epoch_ns(const struct rl__gnss *g, uint64_t epoch)
{
    return g->first_epoch_ns + epoch * EPOCH_NS;
}

static bool whole_second(const struct rl_sim *sim, uint64_t t_ns)
{
    return (sim->start_ns + t_ns) % RL__NS_PER_S == 0;
}

static int sentences_in(const struct rl_sim *sim, uint64_t epoch)
{
    return N_GN_SENTENCES + (whole_second(sim, epoch_ns(&sim->gnss, epoch)) ? N_BD_SENTENCES : 0);
}

uint64_t rl__gnss_next_ns(const struct rl_sim *sim)
{
    const struct rl__gnss *g = &sim->gnss;
    return epoch_ns(g, g->epoch) + SEND_DELAY_NS + (uint64_t)g->sentence * SENTENCE_GAP_NS;
}

/* An angle in [0, 360) that stays below 360 once printed with 2 decimals. */
static double wrap360(double a)
{
    a = round(fmod(a, 360.0) * 100.0) / 100.0;
    if (a < 0)
        a += 360.0;
    return a >= 360.0 ? a - 360.0 : a;
}

/* The ego's solution at t_ns with sigma metres of noise from rng. */
static int solve(struct rl_sim *sim, uint64_t t_ns, struct rl__rng *rng, double sigma,
                 double sigma_up, struct solution *out)
{
    struct rl_sim_vehicle ego;
    int rc = rl__sim_vehicle(sim, 0, t_ns, &ego);
    if (rc < 0)
        return rc;
    double e = ego.e_m + sigma * rl__rng_gauss(rng);
    double n = ego.n_m + sigma * rl__rng_gauss(rng);
    double u = ANTENNA_H_M + sigma_up * rl__rng_gauss(rng);
    double h;
    rl_sim_enu_to_llh(e, n, u, &out->lat, &out->lon, &h);
    out->alt_msl = h - GEOID_SEPARATION_M;
    out->speed_mps = fmax(0.0, ego.speed_mps + SPEED_SIGMA_MPS * rl__rng_gauss(rng));
    out->heading_deg = wrap360(ego.heading_deg + HEADING_SIGMA_DEG * rl__rng_gauss(rng));
    out->course_deg = wrap360(ego.heading_deg + HEADING_SIGMA_DEG * rl__rng_gauss(rng));
    rl__utc_split(sim->start_ns + t_ns, &out->utc);
    return 0;
}

static struct rl_nmea_time nmea_time(const struct rl__utc *u)
{
    return (struct rl_nmea_time){true, 2, (int64_t)u->ns_of_day};
}

static int format_gga(char *out, size_t cap, const char *talker, const struct solution *s,
                      int quality)
{
    struct rl_nmea_gga v = {
        .time = nmea_time(&s->utc),
        .lat_deg = s->lat,
        .lon_deg = s->lon,
        .fix_quality = quality,
        .num_satellites = s->sats,
        .hdop = s->hdop,
        .altitude_m = s->alt_msl,
        .geoid_separation_m = GEOID_SEPARATION_M,
        /* Left empty: with them the sentence would pass 82 characters. */
        .dgps_age_s = NAN,
        .dgps_station = RL_NMEA_ABSENT,
    };
    return rl_nmea_format_gga(out, cap, talker, &v);
}

static int format_rmc(char *out, size_t cap, const char *talker, const struct solution *s,
                      char mode)
{
    struct rl_nmea_rmc v = {
        .time = nmea_time(&s->utc),
        .status = 'A',
        .lat_deg = s->lat,
        .lon_deg = s->lon,
        .speed_knots = s->speed_mps / KNOT_MPS,
        .speed_mps = s->speed_mps,
        .course_deg = s->course_deg,
        .date = {true, (uint16_t)s->utc.year, (uint8_t)s->utc.month, (uint8_t)s->utc.day},
        .mag_variation_deg = NAN,
        .mode = mode,
        .nav_status = '\0',
    };
    return rl_nmea_format_rmc(out, cap, talker, &v);
}

int rl__gnss_emit(struct rl_sim *sim, struct rl_sim_frame *f)
{
    struct rl__gnss *g = &sim->gnss;
    uint64_t t_epoch = epoch_ns(g, g->epoch);
    uint64_t t = rl__gnss_next_ns(sim);
    /* Each sentence recomputes its epoch's solution from a generator keyed
     * by the epoch, so GGA, RMC, VTG and HDT of an epoch agree. */
    struct solution s;
    struct rl__rng rng;
    bool bd = g->sentence >= N_GN_SENTENCES;
    rl__rng_seed(&rng, g->key ^ rl__mix64(g->epoch), bd ? RNG_GNSS + 1 : RNG_GNSS);
    int rc = solve(sim, t_epoch, &rng, bd ? BD_SIGMA_M : RTK_SIGMA_M,
                   bd ? 2 * BD_SIGMA_M : RTK_SIGMA_UP_M, &s);
    if (rc < 0)
        return rc;
    s.sats = (bd ? BD_SATS_MIN : RTK_SATS_MIN) + (int)((g->epoch / SATS_PERIOD) % SATS_SPAN);
    s.hdop = bd ? BD_HDOP : RTK_HDOP;
    char *out = (char *)sim->buf;
    size_t cap = sizeof(sim->buf);
    int n;
    switch (g->sentence) {
    case 0:
        n = format_gga(out, cap, "GN", &s, FIX_RTK);
        break;
    case 1:
        n = format_rmc(out, cap, "GN", &s, 'R');
        break;
    case 2: {
        struct rl_nmea_vtg v = {s.course_deg, NAN, NAN, NAN, s.speed_mps, 'D'};
        n = rl_nmea_format_vtg(out, cap, "GN", &v);
        break;
    }
    case 3: {
        struct rl_nmea_hdt v = {s.heading_deg};
        n = rl_nmea_format_hdt(out, cap, "GN", &v);
        break;
    }
    case 4:
        n = format_gga(out, cap, "BD", &s, FIX_DGPS);
        break;
    default:
        n = format_rmc(out, cap, "BD", &s, 'D');
        break;
    }
    if (n < 0)
        return rl__sim_fail(sim, n, "NMEA sentence %d of epoch %llu: encoder refused it",
                            g->sentence, (unsigned long long)g->epoch);
    f->source = RL_SIM_SRC_GNSS;
    f->time_ns = t;
    f->publish_time_ns = sim->start_ns + t_epoch;
    f->data = sim->buf;
    f->len = (size_t)n;
    if (++g->sentence >= sentences_in(sim, g->epoch)) {
        g->sentence = 0;
        g->epoch++;
    }
    return 1;
}

int rl__gnss_pps_rmc(struct rl_sim *sim, uint64_t utc_s, char *out, size_t cap)
{
    uint64_t utc = utc_s * RL__NS_PER_S;
    if (utc < sim->start_ns)
        return rl__sim_fail(sim, -EINVAL, "PPS before the start of the run");
    struct rl__rng rng;
    rl__rng_seed(&rng, sim->opts.seed ^ utc_s, RNG_PPS);
    struct solution s;
    int rc = solve(sim, utc - sim->start_ns, &rng, RTK_SIGMA_M, RTK_SIGMA_UP_M, &s);
    if (rc < 0)
        return rc;
    s.sats = RTK_SATS_MIN;
    s.hdop = RTK_HDOP;
    int n = format_rmc(out, cap, "GP", &s, 'R');
    if (n < 0)
        return rl__sim_fail(sim, n, "$GPRMC for the PPS at %llu: encoder refused it",
                            (unsigned long long)utc_s);
    return n;
}
