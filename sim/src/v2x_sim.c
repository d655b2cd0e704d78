/* The simulated OBU (sim_internal.h): the ego's C-V2X unit forwarding what
 * it receives over UDP, one T/CSAE 53-2017 MessageFrame per datagram behind
 * the Hisense vendor header (8-byte ASCII id, 8-byte LE epoch ms, 2-byte LE
 * length; v2x.h), encoded with roadlog's UPER encoder:
 *
 *   BSM   of every remote vehicle, 10 Hz each (own phase);
 *   SPAT  of the RSU's intersection, 10 Hz: both phases with their current
 *         and next two lights and TimeCountingDown countdowns (startTime,
 *         minEndTime = maxEndTime = likelyEndTime of a fixed-time plan,
 *         nextStartTime, nextDuration) in tenths of a second;
 *   RSM   10 Hz: the vehicles the RSU perceives within 150 m;
 *   MAP   1 Hz: the intersection node, its four incoming links with two
 *         lanes each, movements and connections tied to the SPAT phases;
 *   RSI   1 Hz while a road event is on (traffic.c): one RTE (the event)
 *         and one RTS (the GB 5768.2 sign), with their reference path.
 *
 * A message is built at its generation time from the world's state and
 * reaches the OBU's output FORWARD_NS later. Positions are WGS-84 1e-7
 * degrees; offsets take the smallest PositionOffsetLL alternative that
 * holds them. RSI event types are illustrative codes in the style of
 * GB/T 29100-2012 (docs/sim.md). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define OBU_ID                  "HSOBU042"
#define RSU_ID                  "RSU00001"
#define INTERSECTION_NAME       "xiantao-dv-int-1"
#define FORWARD_NS              (3 * RL__NS_PER_MS)
#define PERIOD_10HZ_NS          (100 * RL__NS_PER_MS)
#define PERIOD_1HZ_NS           RL__NS_PER_S
#define SPAT_AT_NS              (50 * RL__NS_PER_MS)
#define RSM_AT_NS               (75 * RL__NS_PER_MS)
#define MAP_AT_NS               (310 * RL__NS_PER_MS)
#define RSI_AT_NS               (620 * RL__NS_PER_MS)
#define BSM_AT_NS               (11 * RL__NS_PER_MS)
#define BSM_STAGGER_NS          (17 * RL__NS_PER_MS)
#define MSG_COUNT_MOD           128
#define STATUS_FIXED_TIME       0x0400u /* IntersectionStatusObject bit 5: fixedTimeOperation */
#define RSM_RANGE_M             150.0
#define LINK_LENGTH_M           150.0
#define LANE_LENGTH_M           60.0
#define SPEED_UNIT_MPS          0.02
#define HEADING_UNIT_DEG        0.0125
#define HEADING_UNITS           28800
#define ANGLE_UNIT_DEG          1.5
#define ACCEL_UNIT              0.01
#define YAW_UNIT_DPS            0.01
#define HEIGHT_UNIT_M           0.05
#define SPEED_MAX               8191
#define SPEED_LIMIT_TYPE        5 /* vehicleMaxSpeed */
#define SPEED_LIMIT_MPS         (50.0 / 3.6)
#define LANE_WIDTH_CM           350
#define LINK_WIDTH_CM           750
#define MANEUVER_STRAIGHT       0x800u
#define MANEUVER_LEFT           0x400u
#define MANEUVER_RIGHT          0x200u
#define TRANSMISSION_FORWARD    2
#define BRAKE_OFF               1
#define BRAKE_ON                2
#define BRAKING_MPS2            (-0.3)
#define STOPPED_MPS             0.05
#define PTC_MOTOR               1
#define SOURCE_INTEGRATED       7
#define POS_CONF_20CM           11
#define SEMI_MAJOR_20CM         4
#define SEMI_MINOR_15CM         3
#define TENTHS_MAX              36000
#define ELEVATION_MIN           (-4096) /* Elevation, 0.1 m */
#define ELEVATION_MAX           61439
#define ANGLE_MIN               (-126) /* SteeringWheelAngle */
#define ANGLE_MAX               127
#define ACCEL_MIN               (-2000) /* AccelerationSet4Way long/lat, 0.01 m/s^2 */
#define ACCEL_MAX               2001
#define YAW_LIMIT               32767
#define EVENT_SOURCE_GOVERNMENT 2
#define EVENT_SOURCE_WEATHER    3
#define PATH_BACK_M             200.0
#define PATH_POINTS             3
/* RSI codes: RTE eventType in the style of GB/T 29100-2012 (illustrative,
 * docs/sim.md), RTS signType of GB 5768.2 as RSI.asn lists them. */
#define EVENT_ROAD_WORKS        401
#define EVENT_SLIPPERY          502
#define SIGN_UNDER_CONSTRUCTION 38
#define SIGN_SLIPPY             17
#define PRIORITY_ROAD_WORKS     0xA0 /* RSIPriority: upper 3 bits, 0xE0 highest */
#define PRIORITY_SLIPPERY       0xC0
#define RADIUS_ROAD_WORKS_DM    500 /* Radius, 0.1 m */
#define RADIUS_SLIPPERY_DM      1000
#define ITEM_ID_MOD             256
#define DM_PER_M                10.0
#define CM_PER_M                100.0
#define LATLON_UNITS            1e7

static const int64_t ll_bound[] = {2048, 8192, 32768, 131072, 2097152, 8388608};

static uint64_t stream_offset(int stream)
{
    switch (stream) {
    case RL__V2X_SPAT:
        return SPAT_AT_NS;
    case RL__V2X_RSM:
        return RSM_AT_NS;
    case RL__V2X_MAP:
        return MAP_AT_NS;
    case RL__V2X_RSI:
        return RSI_AT_NS;
    default:
        return BSM_AT_NS + (uint64_t)(stream - RL__V2X_BSM0) * BSM_STAGGER_NS;
    }
}

static uint64_t stream_period(int stream)
{
    return stream == RL__V2X_MAP || stream == RL__V2X_RSI ? PERIOD_1HZ_NS : PERIOD_10HZ_NS;
}

/* Generation time of the stream's next message. */
static uint64_t gen_ns(const struct rl__v2x *v, int stream)
{
    return stream_offset(stream) + v->slot[stream] * stream_period(stream);
}

int rl__v2x_init(struct rl_sim *sim)
{
    struct rl__v2x *v = &sim->v2x;
    memset(v, 0, sizeof(*v));
    v->msg = malloc(sizeof(*v->msg));
    if (!v->msg)
        return -ENOMEM;
    v->n_streams = RL__V2X_BSM0 + (int)sim->world.n_vehicles - 1;
    for (int i = 0; i < v->n_streams; i++)
        v->next_ns[i] = gen_ns(v, i) + FORWARD_NS;
    return 0;
}

void rl__v2x_release(struct rl_sim *sim)
{
    free(sim->v2x.msg);
    sim->v2x.msg = NULL;
}

static int next_stream(const struct rl__v2x *v)
{
    int best = 0;
    for (int i = 1; i < v->n_streams; i++)
        if (v->next_ns[i] < v->next_ns[best])
            best = i;
    return best;
}

uint64_t rl__v2x_next_ns(const struct rl_sim *sim)
{
    return sim->v2x.next_ns[next_stream(&sim->v2x)];
}

/* ---- positions ---- */

static int32_t clampi(long long v, long long lo, long long hi)
{
    return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

static void enu_pos(double e, double n, struct rl_v2x_position3d *p)
{
    double lat, lon, h;
    rl_sim_enu_to_llh(e, n, 0, &lat, &lon, &h);
    p->lat = (int32_t)llround(lat * LATLON_UNITS);
    p->lon = (int32_t)llround(lon * LATLON_UNITS);
    p->has_elevation = true;
    p->elevation = clampi(llround(h * DM_PER_M), ELEVATION_MIN, ELEVATION_MAX);
}

/* The offset of p from ref in the smallest alternative that holds it. */
static void offset_ll(const struct rl_v2x_position3d *ref, const struct rl_v2x_position3d *p,
                      struct rl_v2x_offset_llv *o)
{
    int64_t dlat = (int64_t)p->lat - ref->lat, dlon = (int64_t)p->lon - ref->lon;
    memset(o, 0, sizeof(*o));
    for (int k = 0; k < (int)(sizeof(ll_bound) / sizeof(ll_bound[0])); k++) {
        if (dlat >= -ll_bound[k] && dlat < ll_bound[k] && dlon >= -ll_bound[k] &&
            dlon < ll_bound[k]) {
            o->ll_kind = k;
            o->lat = (int32_t)dlat;
            o->lon = (int32_t)dlon;
            return;
        }
    }
    o->ll_kind = RL_V2X_LL_LATLON;
    o->lat = p->lat;
    o->lon = p->lon;
}

/* Intersection frame: centre, route direction t and its left normal n. */
struct frame {
    double cx, cy, tx, ty, nx, ny;
};

static void intersection_frame(const struct rl_sim *sim, struct frame *f)
{
    struct rl_sim_pose p;
    rl_sim_route_pose(sim, sim->route.s_intersection, 0, &p);
    double th = (90.0 - p.heading_deg) * RL__DEG;
    *f = (struct frame){p.e_m, p.n_m, cos(th), sin(th), -sin(th), cos(th)};
}

static void set_common_time(const struct rl_sim *sim, uint64_t t_ns, struct rl__utc *u)
{
    rl__utc_split(sim->start_ns + t_ns, u);
}

/* Clears the message header and the one member of the union a kind uses
 * (the whole struct is 64 KB; a BSM needs 2). */
static void clear_msg(struct rl_v2x_msg *m, int kind)
{
    size_t member;
    switch (kind) {
    case RL_V2X_BSM:
        member = sizeof(m->u.bsm);
        break;
    case RL_V2X_MAP:
        member = sizeof(m->u.map);
        break;
    case RL_V2X_RSM:
        member = sizeof(m->u.rsm);
        break;
    case RL_V2X_SPAT:
        member = sizeof(m->u.spat);
        break;
    default:
        member = sizeof(m->u.rsi);
        break;
    }
    memset(m, 0, offsetof(struct rl_v2x_msg, u) + member);
    m->kind = kind;
}

/* ---- BSM ---- */

static int build_bsm(struct rl_sim *sim, size_t vi, uint64_t t, uint64_t count)
{
    struct rl_sim_vehicle s;
    int rc = rl__sim_vehicle(sim, vi, t, &s);
    if (rc < 0)
        return rc;
    const struct rl__vehicle_spec *sp = &sim->world.spec[vi];
    struct rl__utc u;
    set_common_time(sim, t, &u);
    struct rl_v2x_msg *m = sim->v2x.msg;
    clear_msg(m, RL_V2X_BSM);
    struct rl_v2x_bsm *b = &m->u.bsm;
    b->msgCnt = (int32_t)(count % MSG_COUNT_MOD);
    memcpy(b->id, sp->id, sizeof(b->id));
    b->secMark = (int32_t)u.ms_of_minute;
    enu_pos(s.e_m, s.n_m, &b->pos);
    b->has_posAccuracy = true;
    b->posAccuracy = (struct rl_v2x_pos_accuracy){SEMI_MAJOR_20CM, SEMI_MINOR_15CM, 0};
    b->transmission = TRANSMISSION_FORWARD;
    b->speed = clampi(llround(s.speed_mps / SPEED_UNIT_MPS), 0, SPEED_MAX);
    b->heading = (int32_t)(llround(s.heading_deg / HEADING_UNIT_DEG) % HEADING_UNITS);
    b->has_angle = true;
    b->angle = clampi(llround(s.steering_wheel_deg / ANGLE_UNIT_DEG), ANGLE_MIN, ANGLE_MAX);
    double lat_acc = s.speed_mps * s.yaw_rate_dps * RL__DEG;
    b->accelSet = (struct rl_v2x_accel4){
        clampi(llround(s.accel_mps2 / ACCEL_UNIT), ACCEL_MIN, ACCEL_MAX),
        clampi(llround(lat_acc / ACCEL_UNIT), ACCEL_MIN, ACCEL_MAX), 0,
        clampi(llround(s.yaw_rate_dps / YAW_UNIT_DPS), -YAW_LIMIT, YAW_LIMIT)};
    b->brakes.has_brakePadel = true;
    b->brakes.brakePadel =
        s.accel_mps2 < BRAKING_MPS2 || s.speed_mps < STOPPED_MPS ? BRAKE_ON : BRAKE_OFF;
    b->size = (struct rl_v2x_vehicle_size){(int32_t)llround(s.width_m * CM_PER_M),
                                           (int32_t)llround(s.length_m * CM_PER_M), true,
                                           (int32_t)llround(s.height_m / HEIGHT_UNIT_M)};
    b->vehicleClass.classification = sp->vehicle_class;
    return 0;
}

/* ---- SPAT ---- */

static int32_t tenths(uint64_t ms)
{
    uint64_t t = (ms + 50) / 100;
    return (int32_t)(t > TENTHS_MAX ? TENTHS_MAX : t);
}

static int build_spat(struct rl_sim *sim, uint64_t t, uint64_t count)
{
    struct rl__utc u;
    set_common_time(sim, t, &u);
    uint64_t utc = sim->start_ns + t;
    struct rl_v2x_msg *m = sim->v2x.msg;
    clear_msg(m, RL_V2X_SPAT);
    struct rl_v2x_spat *sp = &m->u.spat;
    sp->msgCnt = (int32_t)(count % MSG_COUNT_MOD);
    sp->has_moy = sp->has_timeStamp = sp->has_name = true;
    sp->moy = (int32_t)u.minute_of_year;
    sp->timeStamp = (int32_t)u.ms_of_minute;
    snprintf(sp->name, sizeof(sp->name), "%s", INTERSECTION_NAME);
    sp->n_intersections = 1;
    struct rl_v2x_intersection_state *is = &sp->intersections[0];
    is->intersectionId.id = RL__INTERSECTION_ID;
    is->status = STATUS_FIXED_TIME;
    is->has_moy = is->has_timeStamp = true;
    is->moy = sp->moy;
    is->timeStamp = sp->timeStamp;
    static const int phases[] = {RL_SIM_PHASE_LOOP, RL_SIM_PHASE_CROSS};
    is->phases = (struct rl_v2x_span){0, 2};
    for (int p = 0; p < 2; p++) {
        struct rl_sim_signal sig[3];
        uint64_t at = utc;
        uint64_t from_now_ms[3];
        for (int k = 0; k < 3; k++) {
            int rc = rl_sim_signal_at(phases[p], at, &sig[k]);
            if (rc < 0)
                return rc;
            from_now_ms[k] = (at - utc) / RL__NS_PER_MS;
            at += sig[k].remaining_ms * RL__NS_PER_MS;
        }
        uint64_t cycle = sig[0].duration_ms + sig[1].duration_ms + sig[2].duration_ms;
        struct rl_v2x_phase *ph = &sp->phase_pool[sp->n_phase_pool++];
        ph->id = phases[p];
        ph->phaseStates = (struct rl_v2x_span){sp->n_state_pool, 3};
        for (int k = 0; k < 3; k++) {
            struct rl_v2x_phase_state *st = &sp->state_pool[sp->n_state_pool++];
            st->light = sig[k].light;
            st->has_timing = true;
            struct rl_v2x_timing *tm = &st->timing;
            tm->kind = RL_V2X_TIMING_COUNTING;
            uint64_t start = from_now_ms[k], end = start + sig[k].remaining_ms;
            /* The current light started before now: its next start is a
             * cycle after its start. */
            uint64_t next = k == 0 ? end + cycle - sig[0].duration_ms : start + cycle;
            tm->start = tenths(start);
            tm->has_minEnd = tm->has_maxEnd = true;
            tm->minEnd = tm->maxEnd = tm->likelyEnd = tenths(end);
            tm->has_nextStart = tm->has_nextEnd = true;
            tm->nextStart = tenths(next);
            tm->nextEnd = tenths(sig[k].duration_ms);
        }
    }
    return 0;
}

/* ---- MAP ---- */

/* Approaches: upstream node, straight, left and right destinations, phase. */
static const struct {
    int up, straight, left, right, phase;
    const char *name;
} approaches[4] = {
    {2, 3, 4, 5, RL_SIM_PHASE_LOOP, "loop-fwd-in"},
    {3, 2, 5, 4, RL_SIM_PHASE_LOOP, "loop-rev-in"},
    {4, 5, 3, 2, RL_SIM_PHASE_CROSS, "cross-left-in"},
    {5, 4, 2, 3, RL_SIM_PHASE_CROSS, "cross-right-in"},
};

/* Heading vector of approach a's traffic and the vector to its right. */
static void approach_axes(const struct frame *f, int a, double *dx, double *dy, double *rx,
                          double *ry)
{
    switch (a) {
    case 0:
        *dx = f->tx, *dy = f->ty;
        break;
    case 1:
        *dx = -f->tx, *dy = -f->ty;
        break;
    case 2:
        *dx = -f->nx, *dy = -f->ny;
        break;
    default:
        *dx = f->nx, *dy = f->ny;
        break;
    }
    *rx = *dy;
    *ry = -*dx;
}

/* A point back metres upstream of the stop line, right metres to the right
 * of the approach's axis, as an offset from ref. */
static void approach_point(const struct frame *f, int a, double back, double right,
                           const struct rl_v2x_position3d *ref, struct rl_v2x_offset_llv *o)
{
    double dx, dy, rx, ry;
    approach_axes(f, a, &dx, &dy, &rx, &ry);
    double along = RL__STOP_LINE_BACK_M + back;
    struct rl_v2x_position3d p;
    enu_pos(f->cx - dx * along + rx * right, f->cy - dy * along + ry * right, &p);
    offset_ll(ref, &p, o);
}

static void node_ref(struct rl_v2x_node_ref *r, int id)
{
    r->has_region = false;
    r->id = id;
}

static struct rl_v2x_span take(uint16_t *used, int n)
{
    struct rl_v2x_span s = {*used, (uint16_t)n};
    *used = (uint16_t)(*used + n);
    return s;
}

static int build_map(struct rl_sim *sim, uint64_t t, uint64_t count)
{
    struct rl__utc u;
    set_common_time(sim, t, &u);
    struct frame f;
    intersection_frame(sim, &f);
    struct rl_v2x_msg *m = sim->v2x.msg;
    clear_msg(m, RL_V2X_MAP);
    struct rl_v2x_map *mp = &m->u.map;
    mp->msgCnt = (int32_t)(count % MSG_COUNT_MOD);
    mp->has_timeStamp = true;
    mp->timeStamp = (int32_t)u.minute_of_year;
    mp->n_nodes = 1;
    struct rl_v2x_node *nd = &mp->nodes[0];
    nd->has_name = true;
    snprintf(nd->name, sizeof(nd->name), "%s", INTERSECTION_NAME);
    node_ref(&nd->id, RL__INTERSECTION_ID);
    enu_pos(f.cx, f.cy, &nd->refPos);
    nd->inLinks = take(&mp->n_link_pool, 4);
    for (int a = 0; a < 4; a++) {
        struct rl_v2x_link *lk = &mp->link_pool[nd->inLinks.first + a];
        lk->has_name = lk->has_linkWidth = true;
        snprintf(lk->name, sizeof(lk->name), "%s", approaches[a].name);
        node_ref(&lk->upstreamNodeId, approaches[a].up);
        lk->linkWidth = LINK_WIDTH_CM;
        lk->speedLimits = take(&mp->n_speed_limit_pool, 1);
        mp->speed_limit_pool[lk->speedLimits.first] = (struct rl_v2x_speed_limit){
            SPEED_LIMIT_TYPE, (int32_t)llround(SPEED_LIMIT_MPS / SPEED_UNIT_MPS)};
        lk->points = take(&mp->n_point_pool, 2);
        approach_point(&f, a, LINK_LENGTH_M, RL__LANE_WIDTH_M, &nd->refPos,
                       &mp->point_pool[lk->points.first]);
        approach_point(&f, a, 0, RL__LANE_WIDTH_M, &nd->refPos,
                       &mp->point_pool[lk->points.first + 1]);
        const int dest[3] = {approaches[a].straight, approaches[a].left, approaches[a].right};
        lk->movements = take(&mp->n_movement_pool, 3);
        for (int k = 0; k < 3; k++) {
            struct rl_v2x_movement *mv = &mp->movement_pool[lk->movements.first + k];
            node_ref(&mv->remoteIntersection, dest[k]);
            mv->has_phaseId = true;
            mv->phaseId = approaches[a].phase;
        }
        lk->lanes = take(&mp->n_lane_pool, 2);
        for (int l = 0; l < 2; l++) {
            struct rl_v2x_lane *ln = &mp->lane_pool[lk->lanes.first + l];
            ln->laneID = l + 1;
            ln->has_laneWidth = ln->has_laneAttributes = ln->has_maneuvers = true;
            ln->laneWidth = LANE_WIDTH_CM;
            ln->laneType = RL_V2X_LANE_VEHICLE;
            ln->laneTypeBits = (struct rl_v2x_bits){8, 0};
            uint32_t turn = l == 0 ? MANEUVER_LEFT : MANEUVER_RIGHT;
            ln->maneuvers = MANEUVER_STRAIGHT | turn;
            ln->connectsTo = take(&mp->n_connection_pool, 2);
            for (int k = 0; k < 2; k++) {
                struct rl_v2x_connection *cn = &mp->connection_pool[ln->connectsTo.first + k];
                node_ref(&cn->remoteIntersection, k == 0 ? dest[0] : dest[1 + l]);
                cn->has_connectingLane = cn->has_maneuver = cn->has_phaseId = true;
                cn->lane = l + 1;
                cn->maneuver = k == 0 ? MANEUVER_STRAIGHT : turn;
                cn->phaseId = approaches[a].phase;
            }
            double right = (l + 0.5) * RL__LANE_WIDTH_M;
            ln->points = take(&mp->n_point_pool, 2);
            approach_point(&f, a, LANE_LENGTH_M, right, &nd->refPos,
                           &mp->point_pool[ln->points.first]);
            approach_point(&f, a, 0, right, &nd->refPos, &mp->point_pool[ln->points.first + 1]);
        }
    }
    return 0;
}

/* ---- RSM ---- */

/* Returns 1 built, 0 when the RSU sees nobody, or an error. */
static int build_rsm(struct rl_sim *sim, uint64_t t, uint64_t count)
{
    struct rl__utc u;
    set_common_time(sim, t, &u);
    struct frame f;
    intersection_frame(sim, &f);
    struct rl_v2x_msg *m = sim->v2x.msg;
    clear_msg(m, RL_V2X_RSM);
    struct rl_v2x_rsm *r = &m->u.rsm;
    r->msgCnt = (int32_t)(count % MSG_COUNT_MOD);
    memcpy(r->id, RSU_ID, sizeof(r->id));
    enu_pos(f.cx, f.cy, &r->refPos);
    for (size_t i = 0; i < sim->world.n_vehicles; i++) {
        struct rl_sim_vehicle s;
        int rc = rl__sim_vehicle(sim, i, t, &s);
        if (rc < 0)
            return rc;
        if (hypot(s.e_m - f.cx, s.n_m - f.cy) > RSM_RANGE_M ||
            r->n_participants == RL_V2X_RSM_MAX_PARTICIPANTS)
            continue;
        struct rl_v2x_participant *p = &r->participants[r->n_participants++];
        p->ptcType = PTC_MOTOR;
        p->ptcId = (int32_t)i + 1;
        p->source = SOURCE_INTEGRATED;
        p->secMark = (int32_t)u.ms_of_minute;
        struct rl_v2x_position3d pos;
        enu_pos(s.e_m, s.n_m, &pos);
        offset_ll(&r->refPos, &pos, &p->pos);
        p->posConfidence.pos = POS_CONF_20CM;
        p->speed = clampi(llround(s.speed_mps / SPEED_UNIT_MPS), 0, SPEED_MAX);
        p->heading = (int32_t)(llround(s.heading_deg / HEADING_UNIT_DEG) % HEADING_UNITS);
        p->size = (struct rl_v2x_vehicle_size){(int32_t)llround(s.width_m * CM_PER_M),
                                               (int32_t)llround(s.length_m * CM_PER_M), true,
                                               (int32_t)llround(s.height_m / HEIGHT_UNIT_M)};
    }
    return r->n_participants > 0 ? 1 : 0;
}

/* ---- RSI ---- */

static void rsi_description(struct rl_v2x_description *d, const char *text)
{
    d->kind = RL_V2X_TEXT_IA5;
    d->len = (int32_t)strlen(text);
    memcpy(d->text, text, (size_t)d->len + 1);
}

/* Points of the path leading to the event along its lane, into the pool. */
static struct rl_v2x_span rsi_path(struct rl_sim *sim, struct rl_v2x_rsi *r,
                                   const struct rl__road_event *ev)
{
    struct rl_v2x_span sp = take(&r->n_path_pool, 1);
    struct rl_v2x_ref_path *rp = &r->path_pool[sp.first];
    rp->activePath = take(&r->n_path_point_pool, PATH_POINTS);
    rp->pathRadius = (int32_t)llround(RL__LANE_WIDTH_M * DM_PER_M);
    for (int k = 0; k < PATH_POINTS; k++) {
        struct rl_sim_pose p;
        double back = PATH_BACK_M * (PATH_POINTS - 1 - k) / (PATH_POINTS - 1);
        rl_sim_route_pose(sim, ev->s_m - back, rl__lane_offset_m(1), &p);
        struct rl_v2x_position3d pos;
        enu_pos(p.e_m, p.n_m, &pos);
        offset_ll(&r->refPos, &pos, &r->path_point_pool[rp->activePath.first + k]);
    }
    return sp;
}

static int build_rsi(struct rl_sim *sim, uint64_t t, uint64_t count)
{
    struct rl__road_event ev;
    if (!rl__road_event_at(&sim->route, t, &ev))
        return 0;
    struct rl__utc u, us, ue;
    set_common_time(sim, t, &u);
    set_common_time(sim, ev.start_ns, &us);
    set_common_time(sim, ev.end_ns, &ue);
    struct frame f;
    intersection_frame(sim, &f);
    struct rl_v2x_msg *m = sim->v2x.msg;
    clear_msg(m, RL_V2X_RSI);
    struct rl_v2x_rsi *r = &m->u.rsi;
    r->msgCnt = (int32_t)(count % MSG_COUNT_MOD);
    r->has_moy = true;
    r->moy = (int32_t)u.minute_of_year;
    memcpy(r->id, RSU_ID, sizeof(r->id));
    enu_pos(f.cx, f.cy, &r->refPos);
    struct rl_sim_pose at;
    rl_sim_route_pose(sim, ev.s_m, ev.offset_m, &at);
    struct rl_v2x_position3d pos;
    enu_pos(at.e_m, at.n_m, &pos);
    bool works = ev.kind == 0;
    r->n_rtes = r->n_rtss = 1;
    for (int k = 0; k < 2; k++) {
        struct rl_v2x_rsi_item *it = k == 0 ? &r->rtes[0] : &r->rtss[0];
        it->itemId = ev.index % ITEM_ID_MOD;
        it->type = k == 0 ? (works ? EVENT_ROAD_WORKS : EVENT_SLIPPERY)
                          : (works ? SIGN_UNDER_CONSTRUCTION : SIGN_SLIPPY);
        it->eventSource = k == 0 ? (works ? EVENT_SOURCE_GOVERNMENT : EVENT_SOURCE_WEATHER) : 0;
        it->has_pos = it->has_description = it->has_timeDetails = it->has_priority = true;
        offset_ll(&r->refPos, &pos, &it->pos);
        rsi_description(&it->description, works ? "Road works ahead: right shoulder closed"
                                                : "Slippery road surface ahead");
        it->timeDetails = (struct rl_v2x_rsi_time){
            true, true, false, (int32_t)us.minute_of_year, (int32_t)ue.minute_of_year, 0};
        it->priority = works ? PRIORITY_ROAD_WORKS : PRIORITY_SLIPPERY;
        it->referencePaths = rsi_path(sim, r, &ev);
        if (k == 0) {
            it->has_eventRadius = true;
            it->eventRadius = works ? RADIUS_ROAD_WORKS_DM : RADIUS_SLIPPERY_DM;
        }
    }
    return 1;
}

/* ---- the stream ---- */

int rl__v2x_emit(struct rl_sim *sim, struct rl_sim_frame *f)
{
    struct rl__v2x *v = &sim->v2x;
    int s = next_stream(v);
    uint64_t t_send = v->next_ns[s], t = gen_ns(v, s), count = v->sent[s];
    v->slot[s]++;
    v->next_ns[s] = gen_ns(v, s) + FORWARD_NS;
    int rc;
    switch (s) {
    case RL__V2X_SPAT:
        rc = build_spat(sim, t, count);
        break;
    case RL__V2X_RSM:
        rc = build_rsm(sim, t, count);
        break;
    case RL__V2X_MAP:
        rc = build_map(sim, t, count);
        break;
    case RL__V2X_RSI:
        rc = build_rsi(sim, t, count);
        break;
    default:
        rc = build_bsm(sim, (size_t)(s - RL__V2X_BSM0) + 1, t, count);
        break;
    }
    if (rc < 0)
        return rc;
    if ((s == RL__V2X_RSM || s == RL__V2X_RSI) && rc == 0)
        return 0; /* nothing to say in this slot */
    size_t len;
    char err[128];
    rc = rl_v2x_encode(v->msg, v->upper, sizeof(v->upper), &len, err, sizeof(err));
    if (rc < 0)
        return rl__sim_fail(sim, rc, "%s message: %s", rl_v2x_kind_name(v->msg->kind), err);
    uint64_t utc = sim->start_ns + t_send;
    uint64_t ms = utc / RL__NS_PER_MS;
    size_t out;
    rc = rl_v2x_vendor_build(OBU_ID, ms, v->upper, len, sim->buf, sizeof(sim->buf), &out);
    if (rc < 0)
        return rl__sim_fail(sim, rc, "%s message of %zu bytes does not fit a frame",
                            rl_v2x_kind_name(v->msg->kind), len);
    v->sent[s]++;
    f->source = RL_SIM_SRC_V2X;
    f->time_ns = t_send;
    f->publish_time_ns = ms * RL__NS_PER_MS;
    f->data = sim->buf;
    f->len = out;
    return 1;
}
