/* Internals of the simulator (sim/src/): the state of one struct rl_sim and
 * the cross-file functions of its parts, in the order the data flows:
 *
 *   route.c      the loop's centreline (clothoid corners), the local tangent
 *                plane, speed profiles per lane;
 *   traffic.c    the world: the traffic light plan, the vehicles stepped at
 *                100 Hz with a car-following model (IDM) that stops at red,
 *                the road events, the markers;
 *   scene.c      the static street (kerbs, buildings, poles, trees) in a
 *                uniform grid, and the ray caster the LiDARs use;
 *   lidar_sim.c  VLP-16 data/position packets and Pandar40P packets;
 *   gnss_sim.c   NMEA sentences of the GNSS/INS receiver;
 *   v2x_sim.c    BSM/SPAT/MAP/RSI/RSM in the OBU's vendor framing;
 *   can_sim.c    chassis CAN frames encoded with the embedded DBC;
 *   sim.c        the public API: options, the time-ordered merge of the
 *                sources, the random numbers.
 *
 * Invariants: every source produces frames in non-decreasing time; the
 * merge asks each for its next time and lets the earliest emit. The world
 * is computed ahead lazily (rl__world_advance) and keeps RL__HIST steps of
 * history, far more than any source looks back (1.1 s). All randomness comes
 * from per-source generators seeded from the options' seed, so the output
 * depends on the seed and the start time only. */
#ifndef ROADLOG_SIM_INTERNAL_H
#define ROADLOG_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/can.h"
#include "roadlog/lidar.h"
#include "roadlog/sim.h"
#include "roadlog/v2x.h"

#define RL__NS_PER_S  1000000000ull
#define RL__NS_PER_MS 1000000ull
#define RL__NS_PER_US 1000ull
#define RL__PI        3.14159265358979323846
#define RL__DEG       (RL__PI / 180.0)

/* ---- random numbers (sim.c): xoshiro256** seeded by splitmix64 ---------- */

struct rl__rng {
    uint64_t s[4];
};
void rl__rng_seed(struct rl__rng *r, uint64_t seed, uint64_t stream);
static inline uint64_t rl__rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman, Vigna 2018). Inline: it runs once per laser return. */
static inline uint64_t rl__rng_next(struct rl__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rl__rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rl__rotl64(s[3], 45);
    return result;
}
/* Uniform in [0, 1). */
double rl__rng_uniform(struct rl__rng *r);
/* Approximately standard normal (Irwin-Hall of four uniforms, scaled). */
double rl__rng_gauss(struct rl__rng *r);
/* splitmix64 step, also a good 64-bit mixer. */
uint64_t rl__mix64(uint64_t x);

/* ---- route.c ------------------------------------------------------------ */

#define RL__LANE_WIDTH_M 3.5
#define RL__ROAD_HALF_M  7.5 /* centreline to kerb: two lanes and a shoulder */
#define RL__N_LANES      4   /* two each way */
#define RL__ROUTE_DS_M   0.5 /* sample spacing */

/* Lane l: 0, 1 along the route (right of the centreline, inner then
 * outer), 2, 3 against it (left of it, inner then outer). */
double rl__lane_offset_m(int lane);
int rl__lane_direction(int lane);

struct rl__route {
    size_t n;                  /* samples; sample n wraps to sample 0 */
    double length_m;           /* n * RL__ROUTE_DS_M */
    double *x, *y;             /* centreline, ENU metres */
    double *th;                /* direction, radians counterclockwise from east */
    double *k;                 /* curvature, 1/m, positive to the left */
    double *vmax[RL__N_LANES]; /* desired-speed cap per lane (curves, braking into them) */
    double s_intersection;     /* arc length of the intersection centre */
};

int rl__route_build(struct rl__route *r) RL_WARN_UNUSED;
void rl__route_release(struct rl__route *r);
/* s wrapped into [0, length). */
double rl__route_wrap(const struct rl__route *r, double s);
/* Centreline position, direction and curvature at s (interpolated). */
void rl__route_at(const struct rl__route *r, double s, double *x, double *y, double *th, double *k);
/* The speed cap of a lane at s. */
double rl__route_vmax(const struct rl__route *r, int lane, double s);

/* ---- traffic.c ---------------------------------------------------------- */

#define RL__STEP_NS             (10 * RL__NS_PER_MS) /* world step: 100 Hz */
#define RL__HIST                2048                 /* steps of history kept (20.48 s) */
#define RL__MAX_VEHICLES        8
#define RL__N_MARKERS_Q         32
#define RL__LABEL_MAX           40
#define RL__NOTE_MAX            192
#define RL__MARKER_JSON_KEYS    64 /* {"label":"","note":"","by":"roadlog sim"} */
#define RL__INTERSECTION_ID     1
#define RL__INTERSECTION_HALF_M 7.5  /* half-width of the crossing box */
#define RL__STOP_LINE_BACK_M    10.5 /* stop line before the intersection centre */

struct rl__vehicle_spec {
    char id[9];
    bool ego;
    int lane;
    double length_m, width_m, height_m;
    double cruise_mps, a_max_mps2;
    uint8_t reflectivity;
    int vehicle_class; /* T/CSAE 53 BasicVehicleClass */
};

struct rl__vehicle_dyn {
    double s, v, a; /* centreline arc length, speed along the lane, acceleration */
    bool committed; /* decided to cross on yellow */
};

struct rl__marker {
    uint64_t time_ns;
    char label[RL__LABEL_MAX];
    char note[RL__NOTE_MAX];
};

/* A road event the RSU announces (RSI), active during [start, end). */
struct rl__road_event {
    int kind;  /* 0 road works, 1 slippery road */
    int index; /* which occurrence, from 0 */
    uint64_t start_ns, end_ns;
    double s_m; /* where on the route */
    double offset_m;
};

struct rl__world {
    const struct rl__route *route;
    uint64_t start_utc_ns;
    size_t n_vehicles;
    struct rl__vehicle_spec spec[RL__MAX_VEHICLES];
    struct rl__vehicle_dyn *hist; /* RL__HIST x RL__MAX_VEHICLES, ring by step */
    uint64_t n_steps;             /* steps computed: 0 .. n_steps-1 */
    /* ego progress, for the markers */
    double ego_travelled_m;
    int laps;
    bool approach_marked, stop_marked;
    int road_event_marked; /* index of the last event marked, -1 none */
    struct rl__marker mq[RL__N_MARKERS_Q];
    unsigned mq_head, mq_len;
};

int rl__world_init(struct rl__world *w, const struct rl__route *r, uint64_t start_utc_ns,
                   uint64_t seed) RL_WARN_UNUSED;
void rl__world_release(struct rl__world *w);
/* Computes steps until the state at t_ns can be interpolated. */
void rl__world_advance(struct rl__world *w, uint64_t t_ns);
/* Vehicle i at t_ns, interpolated between steps; 0, -EINVAL, RL_ESTATE. */
int rl__world_vehicle(struct rl__world *w, size_t i, uint64_t t_ns, struct rl_sim_vehicle *out);
/* The oldest queued marker, without removing it; NULL when none. */
const struct rl__marker *rl__world_marker_peek(const struct rl__world *w);
void rl__world_marker_pop(struct rl__world *w);
/* The road event active at t_ns (sim time): true with *ev. */
bool rl__road_event_at(const struct rl__route *r, uint64_t t_ns, struct rl__road_event *ev);
/* Stop-line arc length for a direction of travel. */
double rl__stop_line_s(const struct rl__route *r, int direction);

/* ---- scene.c ------------------------------------------------------------ */

enum rl__obj_kind {
    RL__OBJ_SEGMENT = 0,
    RL__OBJ_CIRCLE,
    RL__OBJ_BOX,
    RL__OBJ_TREE, /* a canopy cylinder (r, zlo..zhi) over a trunk (radius hx, 0..zlo) */
};

/* A vertical prism: a wall segment, a cylinder or an oriented box, between
 * heights zlo and zhi; or a tree. */
struct rl__obj {
    double x0, y0; /* segment start, circle or box centre */
    double x1, y1; /* segment end; box: unit vector of its long axis */
    double r;      /* circle radius; box: radius of its enclosing circle */
    double hx, hy; /* box half-length (along the axis) and half-width */
    float zlo, zhi;
    uint8_t kind, reflectivity;
};

#define RL__MAX_HITS 32

struct rl__hit {
    double t_in, t_out; /* horizontal distances where the ray enters and leaves */
    float zlo, zhi;
    uint8_t reflectivity;
};

struct rl__hits {
    int n;
    struct rl__hit h[RL__MAX_HITS]; /* sorted by t_in */
};

struct rl__scene {
    struct rl__obj *obj;
    size_t n_obj;
    double gx0, gy0; /* grid origin */
    int gnx, gny;
    uint32_t *cell_start; /* gnx * gny + 1 */
    uint32_t *cell_item;
    uint32_t *stamp; /* mailbox per object: the last ray that tested it */
    uint32_t ray_id;
    /* The road-works cones: objects only while the event is on, tested
     * after their enclosing circle. */
    size_t n_cones;
    struct rl__obj cones[24];
    double cone_s_m;
    double cones_x, cones_y, cones_r;
};

int rl__scene_build(struct rl__scene *sc, const struct rl__route *r) RL_WARN_UNUSED;
void rl__scene_release(struct rl__scene *sc);

/* One horizontal ray: origin (ox, oy) at height oz, unit direction (dx,
 * dy), up to max_t metres horizontally. tan_min/tan_max bound the lasers
 * that will use the hits: a surface that covers every one of them at its
 * distance ends the walk. dyn: moving objects tested besides the grid. */
struct rl__ray {
    double ox, oy, oz, dx, dy, max_t;
    double tan_min, tan_max;
    bool cones; /* the road-works cones are out */
};
void rl__scene_cast(struct rl__scene *sc, const struct rl__ray *ray, const struct rl__obj *dyn,
                    size_t n_dyn, struct rl__hits *out);
#define RL__GROUND_REFL 12

/* The first surface along the ray's hits for a laser of slope tan_e from
 * height oz, the ground (z = 0, reached at t_ground: oz / -tan_e, or
 * INFINITY) included: horizontal distance and reflectivity, or a negative
 * value when nothing is hit before max_t. Inline: it runs once per laser
 * firing. */
static inline double rl__hits_resolve(const struct rl__hits *h, double oz, double tan_e,
                                      double t_ground, double max_t, uint8_t *reflectivity)
{
    for (int i = 0; i < h->n; i++) {
        const struct rl__hit *x = &h->h[i];
        if (x->t_in >= t_ground || x->t_in > max_t)
            break;
        double z = oz + tan_e * x->t_in;
        double t = -1;
        if (z >= x->zlo && z <= x->zhi)
            t = x->t_in;
        else if (z > x->zhi && tan_e < 0)
            t = (x->zhi - oz) / tan_e; /* comes down onto the top */
        else if (z < x->zlo && tan_e > 0)
            t = (x->zlo - oz) / tan_e; /* goes up into the underside */
        if (t >= x->t_in && t <= x->t_out && t < t_ground) {
            if (t > max_t)
                return -1;
            *reflectivity = x->reflectivity;
            return t;
        }
    }
    if (t_ground <= max_t) {
        *reflectivity = RL__GROUND_REFL;
        return t_ground;
    }
    return -1;
}
/* Fills dyn (cap entries) with the vehicles other than the ego within
 * range_m of (x, y) at t_ns. Returns the count. */
/* Whether the road-works cones stand at t_ns. */
bool rl__scene_cones_on(const struct rl_sim *sim, uint64_t t_ns);
size_t rl__scene_dynamic(struct rl_sim *sim, uint64_t t_ns, double x, double y, double range_m,
                         struct rl__obj *dyn, size_t cap);

/* ---- the sources -------------------------------------------------------- */

#define RL__NO_TIME UINT64_MAX

/* A laser's constants: slope, 1/cos of its elevation, where it meets the
 * ground and its horizontal reach. */
struct rl__laser {
    double tan_e, inv_cos, t_ground, max_t;
};

struct rl__lidar_vlp {
    uint64_t packet;   /* index of the next data packet */
    uint64_t position; /* index of the next position packet */
    double az0_deg;
    struct rl__laser laser[16];
    struct rl__rng rng;
    struct rl_velodyne_frame frame;
};

#define RL__P40_MAX_COLUMNS 4

struct rl__lidar_p40 {
    uint64_t packet;
    uint32_t udp_seq;
    double az0_deg;
    struct rl__laser laser[RL_HESAI_P40_CHANNELS];
    int n_columns;
    double column_az[RL__P40_MAX_COLUMNS]; /* azimuth offset of each column */
    double column_sin[RL__P40_MAX_COLUMNS], column_cos[RL__P40_MAX_COLUMNS];
    double column_tan_min[RL__P40_MAX_COLUMNS], column_tan_max[RL__P40_MAX_COLUMNS];
    int column_n[RL__P40_MAX_COLUMNS];                             /* channels per column */
    uint8_t column_ch[RL__P40_MAX_COLUMNS][RL_HESAI_P40_CHANNELS]; /* and which */
    struct rl__rng rng;
    struct rl_hesai_frame frame;
};

struct rl__gnss {
    uint64_t epoch;          /* index of the current 10 Hz epoch */
    int sentence;            /* next sentence of the epoch */
    uint64_t first_epoch_ns; /* sim time of epoch 0 (a UTC 100 ms boundary) */
    uint64_t key;            /* noise generator key */
};

enum {
    RL__V2X_SPAT = 0,
    RL__V2X_RSM,
    RL__V2X_MAP,
    RL__V2X_RSI,
    RL__V2X_BSM0, /* one stream per remote vehicle from here */
    RL__V2X_MAX_STREAMS = RL__V2X_BSM0 + RL__MAX_VEHICLES
};

struct rl__v2x {
    int n_streams;
    uint64_t slot[RL__V2X_MAX_STREAMS]; /* schedule slots used per stream */
    uint64_t sent[RL__V2X_MAX_STREAMS]; /* messages produced per stream (msgCnt) */
    uint64_t next_ns[RL__V2X_MAX_STREAMS];
    struct rl_v2x_msg *msg; /* scratch, 64 KB */
    uint8_t upper[1024];
};

enum { RL__CAN_SPEED = 0, RL__CAN_STEER, RL__CAN_BRAKE, RL__CAN_GEAR, RL__CAN_N_MESSAGES };

struct rl__can {
    struct rl_dbc *dbc;
    const struct rl_dbc_message *msg[RL__CAN_N_MESSAGES];
    uint64_t count[RL__CAN_N_MESSAGES];
    uint64_t next_ns[RL__CAN_N_MESSAGES];
};

int rl__lidar_init(struct rl_sim *sim) RL_WARN_UNUSED;
uint64_t rl__vlp_next_ns(const struct rl_sim *sim);
uint64_t rl__vlp_position_next_ns(const struct rl_sim *sim);
uint64_t rl__p40_next_ns(const struct rl_sim *sim);
int rl__vlp_emit(struct rl_sim *sim, struct rl_sim_frame *f) RL_WARN_UNUSED;
int rl__vlp_position_emit(struct rl_sim *sim, struct rl_sim_frame *f) RL_WARN_UNUSED;
int rl__p40_emit(struct rl_sim *sim, struct rl_sim_frame *f) RL_WARN_UNUSED;

void rl__gnss_init(struct rl_sim *sim);
uint64_t rl__gnss_next_ns(const struct rl_sim *sim);
int rl__gnss_emit(struct rl_sim *sim, struct rl_sim_frame *f) RL_WARN_UNUSED;
/* The $GPRMC a receiver sends with the PPS of the UTC second utc_s, for the
 * VLP-16's position packets; length, or <0. */
int rl__gnss_pps_rmc(struct rl_sim *sim, uint64_t utc_s, char *out, size_t cap) RL_WARN_UNUSED;

int rl__v2x_init(struct rl_sim *sim) RL_WARN_UNUSED;
void rl__v2x_release(struct rl_sim *sim);
uint64_t rl__v2x_next_ns(const struct rl_sim *sim);
int rl__v2x_emit(struct rl_sim *sim, struct rl_sim_frame *f) RL_WARN_UNUSED;

int rl__can_init(struct rl_sim *sim, char *err, size_t err_len) RL_WARN_UNUSED;
void rl__can_release(struct rl_sim *sim);
uint64_t rl__can_next_ns(const struct rl_sim *sim);
int rl__can_emit(struct rl_sim *sim, struct rl_sim_frame *f) RL_WARN_UNUSED;

/* ---- the simulator ------------------------------------------------------ */

struct rl_sim {
    struct rl_sim_options opts;
    uint64_t start_ns;
    struct rl__route route;
    struct rl__world world;
    struct rl__scene scene;
    struct rl__lidar_vlp vlp;
    struct rl__lidar_p40 p40;
    struct rl__gnss gnss;
    struct rl__v2x v2x;
    struct rl__can can;
    struct rl__rng rng_latency;
    uint8_t buf[RL_SIM_MAX_FRAME_BYTES];
    char marker_json[RL__NOTE_MAX + RL__LABEL_MAX + RL__MARKER_JSON_KEYS];
    char err[256];
};

/* Records an encoder failure in sim->err and returns rc. */
int rl__sim_fail(struct rl_sim *sim, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Vehicle i at t_ns, or the failure recorded; for the sources. */
int rl__sim_vehicle(struct rl_sim *sim, size_t i, uint64_t t_ns,
                    struct rl_sim_vehicle *out) RL_WARN_UNUSED;

/* UTC calendar fields of ns since the epoch. */
struct rl__utc {
    int year, month, day, hour, minute, second;
    uint32_t ms_of_minute;   /* DSecond: milliseconds within the minute */
    uint32_t minute_of_year; /* MinuteOfTheYear */
    uint64_t ns_of_day;
};
void rl__utc_split(uint64_t utc_ns, struct rl__utc *out);

/* The embedded DBC (generated from sim/data/roadlog_chassis.dbc). */
extern const char rl__sim_dbc_text[];
extern const size_t rl__sim_dbc_len;

#endif
