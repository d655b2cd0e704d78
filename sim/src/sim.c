/* The simulator's public API (sim.h): options, construction, the random
 * numbers every part draws from, UTC calendar fields, and rl_sim_next(),
 * which merges the sources into one time-ordered stream.
 *
 * The merge: each source knows the time of its next frame; the earliest
 * emits (ties go to the lower source number). Before a frame at time t is
 * chosen the world is advanced past t, so every marker up to t has been
 * queued; a marker goes out before any frame later than it. A source may
 * let a slot pass without a frame (RSM with nobody in view, RSI with no
 * event on); the merge then asks again. Frames at or after the duration
 * end the stream. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_internal.h"

/* 2026-11-21T00:30:00Z, 08:30 in Chongqing: the earliest default start. */
#define DEFAULT_START_S       1795221000ull
#define DEFAULT_START_SPAN_MS (8ull * 3600 * 1000)
#define SECONDS_PER_MINUTE    60
#define MINUTES_PER_DAY       1440
#define NS_PER_DAY            (86400ull * RL__NS_PER_S)
#define MARKER_BY             "roadlog sim"

static const struct rl_sim_source_info source_info[RL_SIM_N_SOURCES] = {
    {"/lidar/top", 2368, "velodyne.vlp16", false,
     "Velodyne VLP-16 data packets, 600 rpm, strongest return, 753.5 packets/s"},
    {"/lidar/top/position", 8308, "velodyne.vlp16", false,
     "VLP-16 position packets with $GPRMC and PPS status, one per 14 data packets"},
    {"/lidar/front", 2369, "hesai.pandar40p", false,
     "Hesai Pandar40P packets with UDP sequence, 10 Hz, 1800 packets/s"},
    {"/gnss/main", 9001, "nmea", false,
     "GNSS/INS NMEA: GNGGA GNRMC GNVTG GNHDT at 10 Hz, BDGGA BDRMC at 1 Hz"},
    {"/v2x/obu", 9101, "v2x.csae", false,
     "OBU output (Hisense header): BSM of 4 vehicles, SPAT, RSM at 10 Hz, MAP 1 Hz, RSI"},
    {"/can/chassis", 9301, "can", true,
     "chassis CAN, 16-byte SocketCAN frames: speed 100 Hz, steering 50, brake 20, gear 10"},
    {"/roadlog/markers", 0, NULL, false, "markers at notable moments (JSON), not sent"},
};

const struct rl_sim_source_info *rl_sim_source_info(int source)
{
    return source >= 0 && source < RL_SIM_N_SOURCES ? &source_info[source] : NULL;
}

/* ---- random numbers ---- */

uint64_t rl__mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

void rl__rng_seed(struct rl__rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ rl__mix64(stream);
    for (int i = 0; i < 4; i++) {
        x = rl__mix64(x);
        r->s[i] = x;
    }
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

double rl__rng_uniform(struct rl__rng *r)
{
    return (double)(rl__rng_next(r) >> 11) * 0x1.0p-53;
}

double rl__rng_gauss(struct rl__rng *r)
{
    /* Four 16-bit uniforms: mean 2, variance 4/12; scaled to unit variance. */
    uint64_t x = rl__rng_next(r);
    double sum = 0;
    for (int i = 0; i < 4; i++) {
        sum += (double)(x & 0xFFFFu) / 65536.0;
        x >>= 16;
    }
    return (sum - 2.0) * 1.7320508075688772;
}

/* ---- time ---- */

void rl__utc_split(uint64_t utc_ns, struct rl__utc *out)
{
    time_t secs = (time_t)(utc_ns / RL__NS_PER_S);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!gmtime_r(&secs, &tm))
        memset(&tm, 0, sizeof(tm));
    out->year = tm.tm_year + 1900;
    out->month = tm.tm_mon + 1;
    out->day = tm.tm_mday;
    out->hour = tm.tm_hour;
    out->minute = tm.tm_min;
    out->second = tm.tm_sec;
    out->ms_of_minute =
        (uint32_t)tm.tm_sec * 1000u + (uint32_t)((utc_ns % RL__NS_PER_S) / RL__NS_PER_MS);
    out->minute_of_year =
        (uint32_t)(tm.tm_yday * MINUTES_PER_DAY + tm.tm_hour * SECONDS_PER_MINUTE + tm.tm_min);
    out->ns_of_day = utc_ns % NS_PER_DAY;
}

uint64_t rl_sim_default_start_ns(uint64_t seed)
{
    uint64_t ms = rl__mix64(seed) % DEFAULT_START_SPAN_MS;
    return DEFAULT_START_S * RL__NS_PER_S + ms * RL__NS_PER_MS;
}

/* ---- construction ---- */

void rl_sim_options_init(struct rl_sim_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->seed = 1;
}

int rl__sim_fail(struct rl_sim *sim, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sim->err, sizeof(sim->err), fmt, ap);
    va_end(ap);
    return rc;
}

int rl__sim_vehicle(struct rl_sim *sim, size_t i, uint64_t t_ns, struct rl_sim_vehicle *out)
{
    int rc = rl__world_vehicle(&sim->world, i, t_ns, out);
    if (rc < 0)
        return rl__sim_fail(sim, rc, "vehicle %zu at %llu ns: %s", i, (unsigned long long)t_ns,
                            rl_strerror(rc));
    return 0;
}

int rl_sim_new(struct rl_sim **out, const struct rl_sim_options *opts, char *err, size_t err_len)
{
    *out = NULL;
    if (err && err_len)
        err[0] = '\0';
    struct rl_sim *sim = calloc(1, sizeof(*sim));
    if (!sim)
        return -ENOMEM;
    bool route = false, world = false, scene = false, v2x = false, can = false;
    sim->opts = *opts;
    sim->start_ns = opts->start_time_ns ? opts->start_time_ns : rl_sim_default_start_ns(opts->seed);
    int rc = rl__route_build(&sim->route);
    if (rc < 0)
        goto fail;
    route = true;
    rc = rl__world_init(&sim->world, &sim->route, sim->start_ns, opts->seed);
    if (rc < 0)
        goto fail;
    world = true;
    rc = rl__scene_build(&sim->scene, &sim->route);
    if (rc < 0)
        goto fail;
    scene = true;
    rc = rl__can_init(sim, err, err_len);
    if (rc < 0)
        goto fail;
    can = true;
    rc = rl__v2x_init(sim);
    if (rc < 0)
        goto fail;
    v2x = true;
    rc = rl__lidar_init(sim);
    if (rc < 0) {
        if (err && err_len)
            snprintf(err, err_len, "%s", sim->err);
        goto fail;
    }
    rl__gnss_init(sim);
    *out = sim;
    return 0;
fail:
    if (v2x)
        rl__v2x_release(sim);
    if (can)
        rl__can_release(sim);
    if (scene)
        rl__scene_release(&sim->scene);
    if (world)
        rl__world_release(&sim->world);
    if (route)
        rl__route_release(&sim->route);
    free(sim);
    return rc;
}

void rl_sim_free(struct rl_sim *sim)
{
    if (!sim)
        return;
    rl__v2x_release(sim);
    rl__can_release(sim);
    rl__scene_release(&sim->scene);
    rl__world_release(&sim->world);
    rl__route_release(&sim->route);
    free(sim);
}

uint64_t rl_sim_start_ns(const struct rl_sim *sim)
{
    return sim->start_ns;
}

const char *rl_sim_errmsg(const struct rl_sim *sim)
{
    return sim->err;
}

const char *rl_sim_dbc(size_t *len)
{
    *len = rl__sim_dbc_len;
    return rl__sim_dbc_text;
}

/* ---- queries ---- */

size_t rl_sim_vehicle_count(const struct rl_sim *sim)
{
    return sim->world.n_vehicles;
}

int rl_sim_vehicle_at(struct rl_sim *sim, size_t i, uint64_t time_ns, struct rl_sim_vehicle *out)
{
    int rc = rl__world_vehicle(&sim->world, i, time_ns, out);
    if (rc < 0)
        return rc;
    rl_sim_enu_to_llh(out->e_m, out->n_m, 0, &out->lat_deg, &out->lon_deg, &out->h_m);
    return 0;
}

/* ---- the merge ---- */

static uint64_t source_next(const struct rl_sim *sim, int s)
{
    switch (s) {
    case RL_SIM_SRC_VLP16:
        return rl__vlp_next_ns(sim);
    case RL_SIM_SRC_VLP16_POSITION:
        return rl__vlp_position_next_ns(sim);
    case RL_SIM_SRC_PANDAR40P:
        return rl__p40_next_ns(sim);
    case RL_SIM_SRC_GNSS:
        return rl__gnss_next_ns(sim);
    case RL_SIM_SRC_V2X:
        return rl__v2x_next_ns(sim);
    case RL_SIM_SRC_CAN:
        return rl__can_next_ns(sim);
    default:
        return RL__NO_TIME;
    }
}

static int source_emit(struct rl_sim *sim, int s, struct rl_sim_frame *f)
{
    switch (s) {
    case RL_SIM_SRC_VLP16:
        return rl__vlp_emit(sim, f);
    case RL_SIM_SRC_VLP16_POSITION:
        return rl__vlp_position_emit(sim, f);
    case RL_SIM_SRC_PANDAR40P:
        return rl__p40_emit(sim, f);
    case RL_SIM_SRC_GNSS:
        return rl__gnss_emit(sim, f);
    case RL_SIM_SRC_V2X:
        return rl__v2x_emit(sim, f);
    case RL_SIM_SRC_CAN:
        return rl__can_emit(sim, f);
    default:
        return -EINVAL;
    }
}

static int emit_marker(struct rl_sim *sim, struct rl_sim_frame *f)
{
    const struct rl__marker *m = rl__world_marker_peek(&sim->world);
    int n =
        snprintf(sim->marker_json, sizeof(sim->marker_json),
                 "{\"label\":\"%s\",\"note\":\"%s\",\"by\":\"%s\"}", m->label, m->note, MARKER_BY);
    if (n < 0 || (size_t)n >= sizeof(sim->marker_json))
        return rl__sim_fail(sim, RL_ETOOBIG, "marker '%s' too long", m->label);
    f->source = RL_SIM_SRC_MARKERS;
    f->time_ns = m->time_ns;
    f->log_time_ns = f->publish_time_ns = sim->start_ns + m->time_ns;
    f->data = (const uint8_t *)sim->marker_json;
    f->len = (size_t)n;
    rl__world_marker_pop(&sim->world);
    return 1;
}

int rl_sim_next(struct rl_sim *sim, struct rl_sim_frame *f)
{
    uint64_t end = sim->opts.duration_ns ? sim->opts.duration_ns : RL__NO_TIME;
    for (;;) {
        int best = -1;
        uint64_t t = RL__NO_TIME;
        for (int s = 0; s < RL_SIM_SRC_MARKERS; s++) {
            uint64_t ts = source_next(sim, s);
            if (ts < t) {
                t = ts;
                best = s;
            }
        }
        uint64_t horizon = t < end ? t : end;
        if (horizon != RL__NO_TIME)
            rl__world_advance(&sim->world, horizon);
        const struct rl__marker *m = rl__world_marker_peek(&sim->world);
        if (m && m->time_ns < horizon)
            return emit_marker(sim, f);
        if (best < 0 || t >= end)
            return 0;
        memset(f, 0, sizeof(*f));
        int rc = source_emit(sim, best, f);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        f->log_time_ns = sim->start_ns + f->time_ns;
        if (f->publish_time_ns == 0)
            f->publish_time_ns = f->log_time_ns;
        return 1;
    }
}
