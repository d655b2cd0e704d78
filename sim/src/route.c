/* The route of the simulator (sim_internal.h, sim.h): a 2.3 km loop of
 * local-metre geometry around RL_SIM_ORIGIN in Xiantao Data Valley, driven
 * counterclockwise on the right (Chinese traffic). Four sides, each corner a
 * 90 degree left turn of radius 30 m between two 15 m clothoids (curvature
 * grows linearly, so the steering wheel turns smoothly), and a chicane of
 * two 12 degree bends on the long sides. The long sides are the same pieces
 * in the same order, and so are the short ones, which closes the loop
 * exactly. The intersection with the RSU sits 100 m into the third side.
 *
 * The centreline is integrated once (midpoint rule on the curvature, step
 * ds/8) and sampled every ds ~ 0.5 m; lookups interpolate linearly. Speed
 * caps per lane come from a lateral-acceleration limit in the curves,
 * smoothed backwards so that braking into a curve is comfortable.
 *
 * The local tangent plane is WGS-84 East-North-Up at RL_SIM_ORIGIN,
 * converted through ECEF in both directions. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* WGS-84 */
#define WGS84_A        6378137.0
#define WGS84_F        (1.0 / 298.257223563)
#define WGS84_E2       (WGS84_F * (2.0 - WGS84_F))
#define LLH_ITERATIONS 6

/* Geometry of the loop, metres and degrees. */
#define SIDE_A_FIRST_M           200.0 /* straight before the chicane; the intersection sits in it */
#define SIDE_A_MIDDLE_M          40.0  /* between the chicane's bends */
#define SIDE_A_LAST_M            360.0
#define SIDE_B_M                 330.0
#define CHICANE_DEG              12.0
#define CHICANE_R_M              120.0
#define CHICANE_CLOTHOID_M       20.0
#define CORNER_R_M               30.0
#define CORNER_CLOTHOID_M        15.0
#define INTERSECTION_INTO_SIDE_M 100.0
#define INTEGRATION_SUBSTEPS     8

/* Speed caps. */
#define SPEED_LIMIT_MPS    (50.0 / 3.6)
#define LATERAL_ACCEL_MPS2 1.8
#define PROFILE_DECEL_MPS2 1.2
#define MIN_CURVATURE      1e-6
#define PROFILE_PASSES     2

/* One piece of the curvature function: kappa goes linearly from k0 to k1
 * over len metres. */
struct piece {
    double len, k0, k1;
};

#define MAX_PIECES 64

struct plan {
    struct piece p[MAX_PIECES];
    int n;
    double s_intersection;
};

static void add_piece(struct plan *pl, double len, double k0, double k1)
{
    if (pl->n < MAX_PIECES)
        pl->p[pl->n++] = (struct piece){len, k0, k1};
}

/* A bend of turn_deg (positive left) of radius r between two clothoids. */
static void add_bend(struct plan *pl, double turn_deg, double r, double clothoid)
{
    double k = (turn_deg > 0 ? 1.0 : -1.0) / r;
    double arc = (fabs(turn_deg) * RL__DEG - clothoid / r) * r;
    add_piece(pl, clothoid, 0, k);
    add_piece(pl, arc, k, k);
    add_piece(pl, clothoid, k, 0);
}

static double plan_length(const struct plan *pl)
{
    double s = 0;
    for (int i = 0; i < pl->n; i++)
        s += pl->p[i].len;
    return s;
}

static void make_plan(struct plan *pl)
{
    memset(pl, 0, sizeof(*pl));
    for (int side = 0; side < 4; side++) {
        if (side % 2 == 0) {
            if (side == 2)
                pl->s_intersection = plan_length(pl) + INTERSECTION_INTO_SIDE_M;
            add_piece(pl, SIDE_A_FIRST_M, 0, 0);
            add_bend(pl, CHICANE_DEG, CHICANE_R_M, CHICANE_CLOTHOID_M);
            add_piece(pl, SIDE_A_MIDDLE_M, 0, 0);
            add_bend(pl, -CHICANE_DEG, CHICANE_R_M, CHICANE_CLOTHOID_M);
            add_piece(pl, SIDE_A_LAST_M, 0, 0);
        } else {
            add_piece(pl, SIDE_B_M, 0, 0);
        }
        add_bend(pl, 90.0, CORNER_R_M, CORNER_CLOTHOID_M);
    }
}

/* Curvature at s, walking the pieces from *idx (s only grows). */
static double plan_kappa(const struct plan *pl, double s, int *idx, double *base)
{
    while (*idx < pl->n - 1 && s >= *base + pl->p[*idx].len) {
        *base += pl->p[*idx].len;
        (*idx)++;
    }
    const struct piece *p = &pl->p[*idx];
    double u = p->len > 0 ? (s - *base) / p->len : 0;
    if (u < 0)
        u = 0;
    if (u > 1)
        u = 1;
    return p->k0 + (p->k1 - p->k0) * u;
}

double rl__lane_offset_m(int lane)
{
    static const double offsets[RL__N_LANES] = {-0.5 * RL__LANE_WIDTH_M, -1.5 * RL__LANE_WIDTH_M,
                                                0.5 * RL__LANE_WIDTH_M, 1.5 * RL__LANE_WIDTH_M};
    return lane >= 0 && lane < RL__N_LANES ? offsets[lane] : 0;
}

int rl__lane_direction(int lane)
{
    return lane < 2 ? 1 : -1;
}

static void build_profile(struct rl__route *r, int lane, double ds)
{
    double *v = r->vmax[lane];
    double d = rl__lane_offset_m(lane);
    size_t n = r->n;
    for (size_t i = 0; i < n; i++) {
        double k = fabs(r->k[i] / (1.0 - r->k[i] * d));
        double vc = k > MIN_CURVATURE ? sqrt(LATERAL_ACCEL_MPS2 / k) : SPEED_LIMIT_MPS;
        v[i] = vc < SPEED_LIMIT_MPS ? vc : SPEED_LIMIT_MPS;
    }
    /* Braking feasibility in the direction of travel, twice around the
     * loop so that the wrap propagates. */
    for (int pass = 0; pass < PROFILE_PASSES; pass++) {
        if (rl__lane_direction(lane) > 0) {
            for (size_t j = n; j-- > 0;) {
                size_t nx = (j + 1) % n;
                double dl = ds * fabs(1.0 - r->k[j] * d);
                double lim = sqrt(v[nx] * v[nx] + 2.0 * PROFILE_DECEL_MPS2 * dl);
                if (v[j] > lim)
                    v[j] = lim;
            }
        } else {
            for (size_t j = 0; j < n; j++) {
                size_t pv = (j + n - 1) % n;
                double dl = ds * fabs(1.0 - r->k[j] * d);
                double lim = sqrt(v[pv] * v[pv] + 2.0 * PROFILE_DECEL_MPS2 * dl);
                if (v[j] > lim)
                    v[j] = lim;
            }
        }
    }
}

int rl__route_build(struct rl__route *r)
{
    memset(r, 0, sizeof(*r));
    struct plan pl;
    make_plan(&pl);
    double len = plan_length(&pl);
    size_t n = (size_t)llround(len / RL__ROUTE_DS_M);
    double ds = len / (double)n;
    r->n = n;
    r->length_m = len;
    r->s_intersection = pl.s_intersection;
    double **arrays[] = {&r->x,       &r->y,       &r->th,      &r->k,
                         &r->vmax[0], &r->vmax[1], &r->vmax[2], &r->vmax[3]};
    for (size_t a = 0; a < sizeof(arrays) / sizeof(arrays[0]); a++) {
        *arrays[a] = calloc(n + 1, sizeof(double));
        if (!*arrays[a])
            goto fail;
    }
    /* Integrate from (0, 0) heading east, then centre the loop's bounding
     * box on the origin. */
    int idx = 0;
    double base = 0, x = 0, y = 0, th = 0, h = ds / INTEGRATION_SUBSTEPS;
    double minx = 0, maxx = 0, miny = 0, maxy = 0;
    for (size_t i = 0; i <= n; i++) {
        double s = (double)i * ds;
        r->x[i] = x;
        r->y[i] = y;
        r->th[i] = th;
        r->k[i] = plan_kappa(&pl, s, &idx, &base);
        minx = fmin(minx, x);
        maxx = fmax(maxx, x);
        miny = fmin(miny, y);
        maxy = fmax(maxy, y);
        if (i == n)
            break;
        for (int k = 0; k < INTEGRATION_SUBSTEPS; k++) {
            double sm = s + ((double)k + 0.5) * h;
            double km = plan_kappa(&pl, sm, &idx, &base);
            double thm = th + 0.5 * h * km;
            x += h * cos(thm);
            y += h * sin(thm);
            th += h * km;
        }
    }
    double cx = 0.5 * (minx + maxx), cy = 0.5 * (miny + maxy);
    for (size_t i = 0; i <= n; i++) {
        r->x[i] -= cx;
        r->y[i] -= cy;
    }
    for (int lane = 0; lane < RL__N_LANES; lane++)
        build_profile(r, lane, ds);
    return 0;
fail:
    rl__route_release(r);
    return -ENOMEM;
}

void rl__route_release(struct rl__route *r)
{
    free(r->x);
    free(r->y);
    free(r->th);
    free(r->k);
    for (int lane = 0; lane < RL__N_LANES; lane++)
        free(r->vmax[lane]);
    memset(r, 0, sizeof(*r));
}

double rl__route_wrap(const struct rl__route *r, double s)
{
    double w = fmod(s, r->length_m);
    if (w < 0)
        w += r->length_m;
    if (w >= r->length_m)
        w = 0;
    return w;
}

/* Sample index and fraction of s. */
static size_t locate(const struct rl__route *r, double s, double *frac)
{
    double u = rl__route_wrap(r, s) / r->length_m * (double)r->n;
    size_t i = (size_t)u;
    if (i >= r->n)
        i = r->n - 1;
    *frac = u - (double)i;
    return i;
}

void rl__route_at(const struct rl__route *r, double s, double *x, double *y, double *th, double *k)
{
    double f;
    size_t i = locate(r, s, &f);
    *x = r->x[i] + (r->x[i + 1] - r->x[i]) * f;
    *y = r->y[i] + (r->y[i + 1] - r->y[i]) * f;
    *th = r->th[i] + (r->th[i + 1] - r->th[i]) * f;
    *k = r->k[i] + (r->k[i + 1] - r->k[i]) * f;
}

double rl__route_vmax(const struct rl__route *r, int lane, double s)
{
    double f;
    size_t i = locate(r, s, &f);
    const double *v = r->vmax[lane];
    double b = i + 1 < r->n ? v[i + 1] : v[0];
    return v[i] + (b - v[i]) * f;
}

/* ---- public route queries ---- */

double rl_sim_route_length_m(const struct rl_sim *sim)
{
    return sim->route.length_m;
}

double rl_sim_intersection_s_m(const struct rl_sim *sim)
{
    return sim->route.s_intersection;
}

void rl_sim_route_pose(const struct rl_sim *sim, double s_m, double offset_m,
                       struct rl_sim_pose *out)
{
    double x, y, th, k;
    rl__route_at(&sim->route, s_m, &x, &y, &th, &k);
    out->e_m = x - offset_m * sin(th);
    out->n_m = y + offset_m * cos(th);
    double hd = fmod(90.0 - th / RL__DEG, 360.0);
    out->heading_deg = hd < 0 ? hd + 360.0 : hd;
    out->curvature_pm = k / (1.0 - k * offset_m);
}

/* ---- the local tangent plane ---- */

static void llh_to_ecef(double lat, double lon, double h, double *x, double *y, double *z)
{
    double sl = sin(lat), cl = cos(lat);
    double nrad = WGS84_A / sqrt(1.0 - WGS84_E2 * sl * sl);
    *x = (nrad + h) * cl * cos(lon);
    *y = (nrad + h) * cl * sin(lon);
    *z = (nrad * (1.0 - WGS84_E2) + h) * sl;
}

void rl_sim_enu_to_llh(double e_m, double n_m, double u_m, double *lat_deg, double *lon_deg,
                       double *h_m)
{
    double lat0 = RL_SIM_ORIGIN_LAT_DEG * RL__DEG, lon0 = RL_SIM_ORIGIN_LON_DEG * RL__DEG;
    double x0, y0, z0;
    llh_to_ecef(lat0, lon0, RL_SIM_ORIGIN_H_M, &x0, &y0, &z0);
    double sp = sin(lat0), cp = cos(lat0), sl = sin(lon0), cl = cos(lon0);
    double x = x0 - sl * e_m - sp * cl * n_m + cp * cl * u_m;
    double y = y0 + cl * e_m - sp * sl * n_m + cp * sl * u_m;
    double z = z0 + cp * n_m + sp * u_m;
    double p = sqrt(x * x + y * y);
    double lat = atan2(z, p * (1.0 - WGS84_E2)), h = 0;
    for (int i = 0; i < LLH_ITERATIONS; i++) {
        double s = sin(lat);
        double nrad = WGS84_A / sqrt(1.0 - WGS84_E2 * s * s);
        h = p / cos(lat) - nrad;
        lat = atan2(z, p * (1.0 - WGS84_E2 * nrad / (nrad + h)));
    }
    *lat_deg = lat / RL__DEG;
    *lon_deg = atan2(y, x) / RL__DEG;
    *h_m = h;
}

void rl_sim_llh_to_enu(double lat_deg, double lon_deg, double h_m, double *e_m, double *n_m,
                       double *u_m)
{
    double lat0 = RL_SIM_ORIGIN_LAT_DEG * RL__DEG, lon0 = RL_SIM_ORIGIN_LON_DEG * RL__DEG;
    double x0, y0, z0, x, y, z;
    llh_to_ecef(lat0, lon0, RL_SIM_ORIGIN_H_M, &x0, &y0, &z0);
    llh_to_ecef(lat_deg * RL__DEG, lon_deg * RL__DEG, h_m, &x, &y, &z);
    double dx = x - x0, dy = y - y0, dz = z - z0;
    double sp = sin(lat0), cp = cos(lat0), sl = sin(lon0), cl = cos(lon0);
    *e_m = -sl * dx + cl * dy;
    *n_m = -sp * cl * dx - sp * sl * dy + cp * dz;
    *u_m = cp * cl * dx + cp * sl * dy + sp * dz;
}
