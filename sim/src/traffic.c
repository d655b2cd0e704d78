/* The world of the simulator (sim_internal.h): the traffic light plan of
 * the RSU's intersection, the vehicles, the road events and the markers.
 *
 * Vehicles live on lanes of the route (route.c) and are stepped together
 * every 10 ms (RL__STEP_NS) with the Intelligent Driver Model (Treiber,
 * Hennecke, Helbing 2000): a desired speed (the vehicle's cruise speed,
 * capped by the lane's curve profile), the gap to the vehicle ahead in the
 * same lane, and the stop line as a standing obstacle while the light is
 * red, or yellow and the vehicle can still stop comfortably (else it
 * commits and crosses). A vehicle's speed is its speed along its lane;
 * its progress along the centreline is scaled by 1 / (1 - kappa * offset)
 * so that positions, GNSS speed and CAN speed agree in the curves.
 *
 * State machine of the history: steps 0 .. n_steps-1 are computed, the
 * last RL__HIST of them kept in a ring; a state at time t is interpolated
 * between steps floor(t/step) and the next. Computing ahead never changes
 * a step (each depends on the one before only), so queries in any order
 * give the same frames. Markers are queued as the ego's steps are computed,
 * at their step's time. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* ---- the traffic light plan -------------------------------------------- */

#define CYCLE_MS 60000u

enum {
    LIGHT_RED = 3,   /* T/CSAE 53 LightState values */
    LIGHT_GREEN = 5, /* permissive-green */
    LIGHT_YELLOW = 7,
};

struct phase_plan {
    int phase;
    uint32_t offset_ms, green_ms, yellow_ms, red_ms;
};

/* Loop: green 0..30 s, yellow ..33 s, red ..60 s. Cross: green 34..56 s,
 * yellow ..59 s, red ..94 s; one second of all-red after each yellow. */
static const struct phase_plan phase_plans[] = {
    {RL_SIM_PHASE_LOOP, 0, 30000, 3000, 27000},
    {RL_SIM_PHASE_CROSS, 34000, 22000, 3000, 35000},
};

static void plan_signal(const struct phase_plan *p, uint64_t utc_ns, struct rl_sim_signal *out)
{
    uint64_t ms = utc_ns / RL__NS_PER_MS;
    uint64_t pos = (ms + CYCLE_MS - p->offset_ms) % CYCLE_MS;
    if (pos < p->green_ms) {
        *out = (struct rl_sim_signal){LIGHT_GREEN, pos, p->green_ms - pos, p->green_ms};
    } else if (pos < p->green_ms + p->yellow_ms) {
        pos -= p->green_ms;
        *out = (struct rl_sim_signal){LIGHT_YELLOW, pos, p->yellow_ms - pos, p->yellow_ms};
    } else {
        pos -= p->green_ms + p->yellow_ms;
        *out = (struct rl_sim_signal){LIGHT_RED, pos, p->red_ms - pos, p->red_ms};
    }
}

/* The light the loop's traffic sees. */
static void loop_signal(uint64_t utc_ns, struct rl_sim_signal *out)
{
    plan_signal(&phase_plans[0], utc_ns, out);
}

int rl_sim_signal_at(int phase, uint64_t utc_ns, struct rl_sim_signal *out)
{
    for (size_t i = 0; i < sizeof(phase_plans) / sizeof(phase_plans[0]); i++) {
        if (phase_plans[i].phase == phase) {
            plan_signal(&phase_plans[i], utc_ns, out);
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- road events ---------------------------------------------------------- */

#define EVENT_PERIOD_NS (90 * RL__NS_PER_S)
#define EVENT_START_NS  (2 * RL__NS_PER_S)
#define EVENT_END_NS    (47 * RL__NS_PER_S)
/* Where: road works on the east side, 340 m before the intersection; a
 * slippery patch on the north side, 420 m after it. */
#define ROADWORKS_FROM_INTERSECTION_M (-340.0)
#define SLIPPERY_FROM_INTERSECTION_M  420.0
#define EVENT_SHOULDER_M              (-7.1)

bool rl__road_event_at(const struct rl__route *r, uint64_t t_ns, struct rl__road_event *ev)
{
    uint64_t j = t_ns / EVENT_PERIOD_NS, in = t_ns % EVENT_PERIOD_NS;
    if (in < EVENT_START_NS || in >= EVENT_END_NS)
        return false;
    ev->index = (int)j;
    ev->kind = (int)(j % 2);
    ev->start_ns = j * EVENT_PERIOD_NS + EVENT_START_NS;
    ev->end_ns = j * EVENT_PERIOD_NS + EVENT_END_NS;
    ev->s_m = rl__route_wrap(r, r->s_intersection + (ev->kind == 0 ? ROADWORKS_FROM_INTERSECTION_M
                                                                   : SLIPPERY_FROM_INTERSECTION_M));
    ev->offset_m = EVENT_SHOULDER_M;
    return true;
}

/* ---- vehicles --------------------------------------------------------------- */

#define IDM_DELTA        4.0
#define IDM_T_S          1.4
#define IDM_S0_M         2.5
#define IDM_B_MPS2       2.0
#define MAX_DECEL_MPS2   7.0
#define YELLOW_STOP_MPS2 3.0 /* deceleration a driver accepts to stop at yellow */
#define STOP_LINE_VIEW_M 150.0
#define STOP_MARGIN_M    1.0 /* the front stops this far before the line */
#define WHEELBASE_M      2.8
#define STEERING_RATIO   14.8
#define APPROACH_MARK_M  100.0
#define STOPPED_MPS      0.05
#define STOP_MARK_M      30.0
#define CRUISE_JITTER    0.08

struct vehicle_template {
    const char *id;
    bool ego;
    int lane;
    double length_m, width_m, height_m;
    double cruise_mps, a_max_mps2;
    double start_from_stop_m; /* start position: metres before (+) the stop line of its direction */
    uint8_t reflectivity;
    int vehicle_class;
};

/* The ego drives the inner lane; two cars share the outer lane with it;
 * a bus and a car come the other way. */
static const struct vehicle_template templates[] = {
    {"CQXT0001", true, 0, 4.85, 1.93, 1.72, 11.1, 1.4, 175.0, 60, 10},
    {"CQXT0101", false, 1, 4.70, 1.82, 1.45, 12.0, 1.5, 125.0, 75, 10},
    {"CQXT0102", false, 1, 4.90, 1.95, 1.76, 11.5, 1.3, 215.0, 45, 10},
    {"CQXT0103", false, 2, 12.0, 2.55, 3.20, 9.7, 1.0, 110.0, 55, 54},
    {"CQXT0104", false, 3, 4.60, 1.80, 1.50, 12.5, 1.5, 240.0, 85, 10},
};
#define N_TEMPLATES (sizeof(templates) / sizeof(templates[0]))

double rl__stop_line_s(const struct rl__route *r, int direction)
{
    return rl__route_wrap(r, r->s_intersection - direction * RL__STOP_LINE_BACK_M);
}

static struct rl__vehicle_dyn *dyn_at(struct rl__world *w, uint64_t step, size_t i)
{
    return &w->hist[(step % RL__HIST) * RL__MAX_VEHICLES + i];
}

/* Distance ahead (in the direction of travel) from s to target, in [0, L). */
static double ahead(const struct rl__route *r, int dir, double s, double target)
{
    return rl__route_wrap(r, dir > 0 ? target - s : s - target);
}

int rl__world_init(struct rl__world *w, const struct rl__route *r, uint64_t start_utc_ns,
                   uint64_t seed)
{
    memset(w, 0, sizeof(*w));
    w->route = r;
    w->start_utc_ns = start_utc_ns;
    w->road_event_marked = -1;
    w->hist = calloc((size_t)RL__HIST * RL__MAX_VEHICLES, sizeof(*w->hist));
    if (!w->hist)
        return -ENOMEM;
    struct rl__rng rng;
    rl__rng_seed(&rng, seed, 0x7261666669637321ull);
    w->n_vehicles = N_TEMPLATES;
    for (size_t i = 0; i < N_TEMPLATES; i++) {
        const struct vehicle_template *t = &templates[i];
        struct rl__vehicle_spec *sp = &w->spec[i];
        memcpy(sp->id, t->id, sizeof(sp->id) - 1);
        sp->ego = t->ego;
        sp->lane = t->lane;
        sp->length_m = t->length_m;
        sp->width_m = t->width_m;
        sp->height_m = t->height_m;
        double jitter = t->ego ? 0 : (2.0 * rl__rng_uniform(&rng) - 1.0) * CRUISE_JITTER;
        sp->cruise_mps = t->cruise_mps * (1.0 + jitter);
        sp->a_max_mps2 = t->a_max_mps2;
        sp->reflectivity = t->reflectivity;
        sp->vehicle_class = t->vehicle_class;
        int dir = rl__lane_direction(t->lane);
        double s = rl__route_wrap(r, rl__stop_line_s(r, dir) - dir * t->start_from_stop_m);
        struct rl__vehicle_dyn *d = dyn_at(w, 0, i);
        d->s = s;
        d->v = fmin(sp->cruise_mps, rl__route_vmax(r, t->lane, s));
        d->a = 0;
    }
    w->n_steps = 1;
    return 0;
}

void rl__world_release(struct rl__world *w)
{
    free(w->hist);
    w->hist = NULL;
}

/* IDM acceleration towards an obstacle gap_m ahead moving at v_lead. */
static double idm_interaction(double v, double v_lead, double gap_m, double a_max, double s0)
{
    double s_star = s0 + v * IDM_T_S + v * (v - v_lead) / (2.0 * sqrt(a_max * IDM_B_MPS2));
    if (s_star < s0)
        s_star = s0;
    double g = gap_m > 0.1 ? gap_m : 0.1;
    return -a_max * (s_star / g) * (s_star / g);
}

static void push_marker(struct rl__world *w, uint64_t t_ns, const char *label, const char *note)
{
    if (w->mq_len == RL__N_MARKERS_Q) { /* full: drop the oldest */
        w->mq_head = (w->mq_head + 1) % RL__N_MARKERS_Q;
        w->mq_len--;
    }
    struct rl__marker *m = &w->mq[(w->mq_head + w->mq_len) % RL__N_MARKERS_Q];
    m->time_ns = t_ns;
    snprintf(m->label, sizeof(m->label), "%s", label);
    snprintf(m->note, sizeof(m->note), "%s", note);
    w->mq_len++;
}

static const char *light_name(int light)
{
    return light == LIGHT_GREEN ? "green" : light == LIGHT_YELLOW ? "yellow" : "red";
}

/* Markers at the ego's notable moments between steps prev and cur. */
static void ego_markers(struct rl__world *w, uint64_t t_ns, const struct rl__vehicle_dyn *prev,
                        const struct rl__vehicle_dyn *cur, double moved_m)
{
    const struct rl__route *r = w->route;
    char note[RL__NOTE_MAX];
    struct rl_sim_signal sig;
    loop_signal(w->start_utc_ns + t_ns, &sig);
    double stop = rl__stop_line_s(r, 1);
    double d_prev = ahead(r, 1, prev->s, stop), d_cur = ahead(r, 1, cur->s, stop);
    if (d_cur < APPROACH_MARK_M && d_prev >= APPROACH_MARK_M && !w->approach_marked) {
        snprintf(note, sizeof(note),
                 "ego %.0f m before the stop line of intersection %d, light %s for %.1f s more",
                 APPROACH_MARK_M, RL__INTERSECTION_ID, light_name(sig.light),
                 (double)sig.remaining_ms / 1000.0);
        push_marker(w, t_ns, "intersection-approach", note);
        w->approach_marked = true;
    }
    if (cur->v < STOPPED_MPS && prev->v >= STOPPED_MPS && d_cur < STOP_MARK_M &&
        sig.light != LIGHT_GREEN && !w->stop_marked) {
        snprintf(note, sizeof(note), "ego stopped %.1f m before the stop line, light %s", d_cur,
                 light_name(sig.light));
        push_marker(w, t_ns, "red-light-stop", note);
        w->stop_marked = true;
    }
    double x_prev = ahead(r, 1, prev->s, r->s_intersection);
    double x_cur = ahead(r, 1, cur->s, r->s_intersection);
    if (x_cur > x_prev && moved_m > 0) {
        snprintf(note, sizeof(note), "ego crossed intersection %d at %.1f km/h, light %s",
                 RL__INTERSECTION_ID, cur->v * 3.6, light_name(sig.light));
        push_marker(w, t_ns, "intersection-cross", note);
        w->approach_marked = w->stop_marked = false;
    }
    w->ego_travelled_m += moved_m;
    if (w->ego_travelled_m >= (double)(w->laps + 1) * r->length_m) {
        w->laps++;
        snprintf(note, sizeof(note), "ego completed lap %d of the %.0f m loop", w->laps,
                 r->length_m);
        push_marker(w, t_ns, "lap-complete", note);
    }
    struct rl__road_event ev;
    if (rl__road_event_at(r, t_ns, &ev) && ev.index != w->road_event_marked) {
        snprintf(note, sizeof(note), "RSU announces %s %.0f m along the loop",
                 ev.kind == 0 ? "road works on the right shoulder" : "a slippery road surface",
                 ev.s_m);
        push_marker(w, ev.start_ns > t_ns ? ev.start_ns : t_ns, "road-event", note);
        w->road_event_marked = ev.index;
    }
}

/* Computes step n from step n - 1. */
static void step(struct rl__world *w, uint64_t n)
{
    const struct rl__route *r = w->route;
    const double dt = (double)RL__STEP_NS / (double)RL__NS_PER_S;
    uint64_t t_prev_ns = (n - 1) * RL__STEP_NS;
    struct rl_sim_signal sig;
    loop_signal(w->start_utc_ns + t_prev_ns, &sig);
    for (size_t i = 0; i < w->n_vehicles; i++) {
        const struct rl__vehicle_spec *sp = &w->spec[i];
        const struct rl__vehicle_dyn *p = dyn_at(w, n - 1, i);
        struct rl__vehicle_dyn *c = dyn_at(w, n, i);
        int dir = rl__lane_direction(sp->lane);
        double a_max = sp->a_max_mps2;
        double v0 = fmin(sp->cruise_mps, rl__route_vmax(r, sp->lane, p->s));
        double ratio = v0 > 0.1 ? p->v / v0 : 10.0;
        double acc = a_max * (1.0 - pow(ratio, IDM_DELTA));
        /* The vehicle ahead in the same lane. */
        double best = INFINITY, v_lead = 0, len_lead = 0;
        for (size_t j = 0; j < w->n_vehicles; j++) {
            if (j == i || w->spec[j].lane != sp->lane)
                continue;
            const struct rl__vehicle_dyn *q = dyn_at(w, n - 1, j);
            double d = ahead(r, dir, p->s, q->s);
            if (d > 0 && d < best) {
                best = d;
                v_lead = q->v;
                len_lead = w->spec[j].length_m;
            }
        }
        double inter = 0;
        if (isfinite(best))
            inter = idm_interaction(p->v, v_lead, best - 0.5 * (sp->length_m + len_lead), a_max,
                                    IDM_S0_M);
        /* The stop line, while the light says stop. */
        bool committed = p->committed;
        double to_line = ahead(r, dir, p->s, rl__stop_line_s(r, dir)) - 0.5 * sp->length_m;
        if (sig.light == LIGHT_GREEN || to_line > STOP_LINE_VIEW_M || to_line < 0)
            committed = false;
        else if (!committed && to_line >= 0) {
            bool must_stop = sig.light == LIGHT_RED;
            if (sig.light == LIGHT_YELLOW) {
                double need = p->v * p->v / (2.0 * fmax(to_line - STOP_MARGIN_M, 0.01));
                must_stop = need <= YELLOW_STOP_MPS2;
                committed = !must_stop;
            }
            if (must_stop) {
                double g = to_line - STOP_MARGIN_M + IDM_S0_M;
                double stop_inter = idm_interaction(p->v, 0, g, a_max, IDM_S0_M);
                if (stop_inter < inter)
                    inter = stop_inter;
            }
        }
        acc += inter;
        if (acc > a_max)
            acc = a_max;
        if (acc < -MAX_DECEL_MPS2)
            acc = -MAX_DECEL_MPS2;
        double v = p->v + acc * dt;
        if (v < 0) {
            v = 0;
            acc = -p->v / dt;
        }
        double x, y, th, k;
        rl__route_at(r, p->s, &x, &y, &th, &k);
        double scale = 1.0 - k * rl__lane_offset_m(sp->lane);
        double moved = 0.5 * (p->v + v) * dt;
        c->s = rl__route_wrap(r, p->s + dir * moved / scale);
        c->v = v;
        c->a = acc;
        c->committed = committed;
        if (sp->ego)
            ego_markers(w, n * RL__STEP_NS, p, c, moved);
    }
}

void rl__world_advance(struct rl__world *w, uint64_t t_ns)
{
    uint64_t need = t_ns / RL__STEP_NS + 2; /* steps k and k + 1 */
    while (w->n_steps < need) {
        step(w, w->n_steps);
        w->n_steps++;
    }
}

int rl__world_vehicle(struct rl__world *w, size_t i, uint64_t t_ns, struct rl_sim_vehicle *out)
{
    if (i >= w->n_vehicles)
        return -EINVAL;
    rl__world_advance(w, t_ns);
    uint64_t k = t_ns / RL__STEP_NS;
    if (k + RL__HIST < w->n_steps)
        return RL_ESTATE;
    const struct rl__route *r = w->route;
    const struct rl__vehicle_spec *sp = &w->spec[i];
    const struct rl__vehicle_dyn *d0 = dyn_at(w, k, i), *d1 = dyn_at(w, k + 1, i);
    double f = (double)(t_ns - k * RL__STEP_NS) / (double)RL__STEP_NS;
    double ds = d1->s - d0->s;
    if (ds > 0.5 * r->length_m)
        ds -= r->length_m;
    else if (ds < -0.5 * r->length_m)
        ds += r->length_m;
    double s = rl__route_wrap(r, d0->s + ds * f);
    double x, y, th, k_c;
    rl__route_at(r, s, &x, &y, &th, &k_c);
    int dir = rl__lane_direction(sp->lane);
    double off = rl__lane_offset_m(sp->lane);
    double k_lane = k_c / (1.0 - k_c * off);
    double kv = dir * k_lane;
    double ang = dir > 0 ? th : th + RL__PI;
    memset(out, 0, sizeof(*out));
    memcpy(out->id, sp->id, sizeof(out->id));
    out->ego = sp->ego;
    out->e_m = x - off * sin(th);
    out->n_m = y + off * cos(th);
    double hd = fmod(90.0 - ang / RL__DEG, 360.0);
    if (hd < 0)
        hd += 360.0;
    out->heading_deg = hd;
    out->speed_mps = d0->v + (d1->v - d0->v) * f;
    out->accel_mps2 = d0->a + (d1->a - d0->a) * f;
    out->yaw_rate_dps = kv * out->speed_mps / RL__DEG;
    out->steering_wheel_deg = atan(WHEELBASE_M * kv) / RL__DEG * STEERING_RATIO;
    out->length_m = sp->length_m;
    out->width_m = sp->width_m;
    out->height_m = sp->height_m;
    out->route_s_m = s;
    out->offset_m = off;
    out->direction = dir;
    out->lat_deg = out->lon_deg = out->h_m = NAN;
    return 0;
}

const struct rl__marker *rl__world_marker_peek(const struct rl__world *w)
{
    return w->mq_len ? &w->mq[w->mq_head] : NULL;
}

void rl__world_marker_pop(struct rl__world *w)
{
    if (!w->mq_len)
        return;
    w->mq_head = (w->mq_head + 1) % RL__N_MARKERS_Q;
    w->mq_len--;
}
