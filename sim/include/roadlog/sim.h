/* The test-zone simulator (sim/): the traffic one test vehicle sees while it
 * drives a loop through Xiantao Data Valley (Yubei, Chongqing), built from
 * the packet encoders of formats/ so that every frame is byte-exact:
 * a Velodyne VLP-16 (data + position packets), a Hesai Pandar40P, a GNSS/INS
 * receiver speaking NMEA, an OBU forwarding C-V2X messages (T/CSAE 53-2017
 * in the Hisense vendor framing) of three remote vehicles and of an RSU at
 * an intersection on the route, and the chassis CAN bus (SocketCAN frames,
 * described by the DBC the simulator embeds). docs/sim.md describes what
 * is simulated, the ports and the DBC.
 *
 * One world drives every source: the vehicles move on the route with a
 * car-following model and stop at the RSU's traffic light, so the ego's CAN
 * speed is its GNSS motion, the remote vehicles' BSM positions are the
 * boxes the LiDARs see, and SPAT counts down the light the vehicles obey.
 *
 * A simulator is a pure, deterministic frame generator: rl_sim_next()
 * returns the frames of all sources merged in time order, and the same
 * options (seed, start time) give the same bytes. It never sleeps, never
 * opens a socket and never prints; pacing and output are the caller's
 * (cli/cmd_sim.c). One thread at a time per simulator; simulators share
 * nothing. */
#ifndef ROADLOG_SIM_H
#define ROADLOG_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

/* Largest frame rl_sim_next() returns (a Pandar40P packet is 1266 bytes). */
#define RL_SIM_MAX_FRAME_BYTES 1536

/* roadlog.run metadata values of a simulated run. */
#define RL_SIM_SITE    "xiantao-data-valley"
#define RL_SIM_ROUTE   "xiantao-dv-loop"
#define RL_SIM_VEHICLE "roadlog-sim-ego"

/* The chassis DBC attached to `sim -o` logs. */
#define RL_SIM_DBC_NAME       "roadlog_chassis.dbc"
#define RL_SIM_DBC_MEDIA_TYPE "application/x-dbc"

/* Origin of the site's local tangent plane (ENU): WGS-84 latitude,
 * longitude (degrees) and ellipsoidal height (metres) of the ground there. */
#define RL_SIM_ORIGIN_LAT_DEG 29.7200
#define RL_SIM_ORIGIN_LON_DEG 106.6300
#define RL_SIM_ORIGIN_H_M     370.4

/* The sources, one channel each. */
enum rl_sim_source {
    RL_SIM_SRC_VLP16 = 0,      /* /lidar/top: VLP-16 data packets, UDP 2368 */
    RL_SIM_SRC_VLP16_POSITION, /* /lidar/top/position: VLP-16 position packets, UDP 8308 */
    RL_SIM_SRC_PANDAR40P,      /* /lidar/front: Pandar40P packets, UDP 2369 */
    RL_SIM_SRC_GNSS,           /* /gnss/main: NMEA sentences, UDP 9001 */
    RL_SIM_SRC_V2X,            /* /v2x/obu: C-V2X in vendor framing, UDP 9101 */
    RL_SIM_SRC_CAN,            /* /can/chassis: SocketCAN frames, UDP 9301 */
    RL_SIM_SRC_MARKERS,        /* /roadlog/markers: JSON markers, never sent */
    RL_SIM_N_SOURCES
};

struct rl_sim_source_info {
    const char *topic;
    uint16_t port;       /* UDP destination port; 0: not sent over the network */
    const char *decoder; /* decoder hint (decode.h), NULL for the markers */
    bool can;            /* frames are LINKTYPE_CAN_SOCKETCAN frames */
    const char *what;    /* one line for --help and docs */
};

/* The description of a source, NULL for an unknown one. */
const struct rl_sim_source_info *rl_sim_source_info(int source);

struct rl_sim_options {
    uint64_t seed;
    /* UTC time of simulated time 0, ns since the Unix epoch; 0 takes
     * rl_sim_default_start_ns(seed). */
    uint64_t start_time_ns;
    /* Frames with time_ns < duration_ns are produced; 0: no end. */
    uint64_t duration_ns;
};

/* Seed 1, derived start time, no end. */
void rl_sim_options_init(struct rl_sim_options *opts);

/* The start time a seed stands for: 2026-11-21, between 08:30 and 16:30
 * Beijing time, whole milliseconds. */
uint64_t rl_sim_default_start_ns(uint64_t seed);

struct rl_sim;

/* Creates a simulator (builds the route, the scene and the traffic; about
 * 1 MB). Returns 0, -ENOMEM, or RL_ECORRUPT when the embedded DBC does not
 * parse (a build error), with the detail in err (may be NULL). */
int rl_sim_new(struct rl_sim **out, const struct rl_sim_options *opts, char *err,
               size_t err_len) RL_WARN_UNUSED;
void rl_sim_free(struct rl_sim *sim);

/* One frame, borrowed from the simulator. */
struct rl_sim_frame {
    int source;               /* enum rl_sim_source */
    uint64_t time_ns;         /* simulated time since the start: when it is sent */
    uint64_t log_time_ns;     /* start_time_ns + time_ns */
    uint64_t publish_time_ns; /* the sensor's own time in the frame, else log_time_ns */
    const uint8_t *data;      /* valid until the next rl_sim_next() or rl_sim_free() */
    size_t len;
};

/* The next frame of all sources in time order (ties in source order).
 * Returns 1 with *f, 0 at the end of the duration, or an RL_E code when an
 * encoder refused a value (a simulator bug), with rl_sim_errmsg(). */
int rl_sim_next(struct rl_sim *sim, struct rl_sim_frame *f) RL_WARN_UNUSED;

uint64_t rl_sim_start_ns(const struct rl_sim *sim);
const char *rl_sim_errmsg(const struct rl_sim *sim);

/* The embedded chassis DBC (sim/data/roadlog_chassis.dbc), len bytes, not
 * NUL-counted but NUL-terminated. Static storage. */
const char *rl_sim_dbc(size_t *len);

/* ---- the site and the route --------------------------------------------- */

/* Local tangent plane (east, north, up in metres, origin RL_SIM_ORIGIN_*)
 * to WGS-84 latitude/longitude (degrees) and ellipsoidal height, and back.
 * Exact conversions through ECEF. */
void rl_sim_enu_to_llh(double e_m, double n_m, double u_m, double *lat_deg, double *lon_deg,
                       double *h_m);
void rl_sim_llh_to_enu(double lat_deg, double lon_deg, double h_m, double *e_m, double *n_m,
                       double *u_m);

/* Length of the route's centreline, metres (a closed loop). */
double rl_sim_route_length_m(const struct rl_sim *sim);

struct rl_sim_pose {
    double e_m, n_m;     /* position */
    double heading_deg;  /* true heading of the route direction, 0 north, clockwise */
    double curvature_pm; /* of the path at the offset, 1/m, positive turning left */
};

/* The pose at arc length s_m (any value: the loop wraps) of the centreline,
 * moved offset_m to the left (negative: right). */
void rl_sim_route_pose(const struct rl_sim *sim, double s_m, double offset_m,
                       struct rl_sim_pose *out);

/* Route arc length of the intersection's centre. */
double rl_sim_intersection_s_m(const struct rl_sim *sim);

/* ---- the traffic -------------------------------------------------------- */

struct rl_sim_vehicle {
    char id[9]; /* BSM id (8 characters) */
    bool ego;
    double e_m, n_m; /* centre of the vehicle on the ground */
    double lat_deg, lon_deg, h_m;
    double heading_deg; /* true heading, 0 north, clockwise */
    double speed_mps, accel_mps2;
    double yaw_rate_dps; /* positive turning left */
    double steering_wheel_deg;
    double length_m, width_m, height_m;
    double route_s_m; /* centreline arc length */
    double offset_m;  /* lane centre, left of the route direction */
    int direction;    /* +1 along the route, -1 against it */
};

/* Vehicles: index 0 is the ego, the others are the remote vehicles. */
size_t rl_sim_vehicle_count(const struct rl_sim *sim);

/* The state of vehicle i at simulated time time_ns: 0, -EINVAL for a bad
 * index, RL_ESTATE for a time more than 20 s before the newest simulated
 * step (history is kept that long). Advances the world as needed, which
 * does not change what rl_sim_next() produces, as long as it is not asked
 * for more than 20 s beyond the frames (their sources look back up to
 * 1.1 s and would find that history gone). */
int rl_sim_vehicle_at(struct rl_sim *sim, size_t i, uint64_t time_ns,
                      struct rl_sim_vehicle *out) RL_WARN_UNUSED;

/* Where a LiDAR is at simulated time time_ns: its origin (e, n in the
 * plane, z above the ground) and the true heading of its azimuth 0 (the
 * ego's heading: a point at sensor azimuth a lies towards heading + a).
 * source is RL_SIM_SRC_VLP16 or RL_SIM_SRC_PANDAR40P. Returns 0, -EINVAL
 * for another source, RL_ESTATE as rl_sim_vehicle_at. */
struct rl_sim_sensor_pose {
    double e_m, n_m, z_m, heading_deg;
};
int rl_sim_lidar_pose(struct rl_sim *sim, int source, uint64_t time_ns,
                      struct rl_sim_sensor_pose *out) RL_WARN_UNUSED;

/* ---- the traffic light (phases of the RSU's SPAT) ------------------------ */

enum rl_sim_phase {
    RL_SIM_PHASE_LOOP = 1,  /* through traffic on the loop road, both ways */
    RL_SIM_PHASE_CROSS = 2, /* the cross street */
};

struct rl_sim_signal {
    int light;             /* T/CSAE 53 LightState: 3 red, 5 permissive-green, 7 yellow */
    uint64_t elapsed_ms;   /* since this light came on */
    uint64_t remaining_ms; /* until it ends (a fixed-time plan: min = max = likely) */
    uint64_t duration_ms;  /* of this light */
};

/* The light of a phase at UTC time utc_ns: a fixed-time plan with a 60 s
 * cycle locked to UTC (loop: 30 s green, 3 s yellow, 27 s red; cross: red,
 * 22 s green from 34 s, 3 s yellow; 1 s all-red after each yellow). Returns
 * 0 or -EINVAL for an unknown phase. */
int rl_sim_signal_at(int phase, uint64_t utc_ns, struct rl_sim_signal *out) RL_WARN_UNUSED;

/* ---- the scene --------------------------------------------------------- */

/* Casts one laser ray at simulated time time_ns from (e, n, z) towards true
 * azimuth az_deg (0 north, clockwise) and elevation elev_deg through the
 * scene (ground, kerbs, buildings, poles, trees, the vehicles but the ego),
 * without noise. Returns the range in metres to the first surface, or 0
 * when nothing is hit within max_range_m. */
double rl_sim_raycast(struct rl_sim *sim, uint64_t time_ns, double e_m, double n_m, double z_m,
                      double az_deg, double elev_deg, double max_range_m);

#endif
