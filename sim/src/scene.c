/* The street the LiDARs see (sim_internal.h): the loop road's kerbs, the
 * cross street at the intersection, office blocks along both sides,
 * street lights, trees and traffic-light poles, laid out once from the
 * route with a fixed generator (the site does not change with the seed),
 * plus the moving vehicles and the road-works cones at the time of a
 * packet.
 *
 * Everything is a vertical prism between two heights: a wall segment (a
 * kerb face), a cylinder (pole, trunk, canopy, cone) or an oriented box
 * (building, vehicle). Static prisms sit in a uniform grid; a LiDAR firing
 * shares one horizontal ray per azimuth: rl__scene_cast walks the grid
 * cells along it (Amanatides & Woo 1987), collecting every prism it enters
 * (a mailbox stamp tests each prism once per ray) until a prism covers the
 * height of every laser at its distance; rl__hits_resolve then finds, per
 * laser, where its sloped ray first meets a prism's side, top or bottom,
 * or the ground plane z = 0. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define CELL_M               16.0
#define GRID_MARGIN_M        40.0
#define MAX_GRID_CELLS       1024 /* per axis: 16 km */
#define KERB_H_M             0.15
#define KERB_SAG_M           0.05 /* chord error allowed on curved kerbs */
#define KERB_REFL            35
#define CROSS_STREET_M       150.0
#define INTERSECTION_CLEAR_M 20.0 /* no buildings or poles this close to the cross street */
#define SIDEWALK_M           4.0
#define SETBACK_MIN_M        2.0
#define SETBACK_MAX_M        10.0
#define FRONTAGE_MIN_M       18.0
#define FRONTAGE_MAX_M       55.0
#define GAP_MIN_M            6.0
#define GAP_MAX_M            20.0
#define DEPTH_MIN_M          12.0
#define DEPTH_MAX_M          35.0
#define HEIGHT_MIN_M         9.0
#define HEIGHT_MAX_M         60.0
#define BUILDING_REFL_MIN    30
#define BUILDING_REFL_SPAN   55
#define STRAIGHT_KAPPA       1e-4
#define POLE_SPACING_M       35.0
#define POLE_OFFSET_M        9.0
#define POLE_R_M             0.11
#define POLE_H_M             9.0
#define POLE_REFL            70
#define TREE_OFFSET_M        10.5
#define TRUNK_R_M            0.18
#define TRUNK_H_M            2.6
#define TRUNK_REFL           28
#define CANOPY_R_M           2.0
#define CANOPY_H_M           7.0
#define CANOPY_REFL          18
#define SIGNAL_POLE_R_M      0.2
#define SIGNAL_POLE_H_M      6.5
#define SIGNAL_POLE_REFL     80
#define SIGNAL_POLE_AT_M     9.5
#define VEHICLE_ZLO_M        0.3
#define CONE_R_M             0.15
#define CONE_H_M             0.7
#define CONE_REFL            200
#define CONE_SPACING_M       4.0
#define SCENE_SEED           0x58545356ull /* the site's layout */
#define EPS                  1e-12

struct builder {
    struct rl__obj *obj;
    size_t n, cap;
    bool failed;
};

static void add(struct builder *b, const struct rl__obj *o)
{
    if (b->failed)
        return;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        struct rl__obj *no = realloc(b->obj, nc * sizeof(*no));
        if (!no) {
            b->failed = true;
            return;
        }
        b->obj = no;
        b->cap = nc;
    }
    b->obj[b->n++] = *o;
}

static void add_segment(struct builder *b, double x0, double y0, double x1, double y1, double zlo,
                        double zhi, uint8_t refl)
{
    struct rl__obj o = {.x0 = x0,
                        .y0 = y0,
                        .x1 = x1,
                        .y1 = y1,
                        .zlo = (float)zlo,
                        .zhi = (float)zhi,
                        .kind = RL__OBJ_SEGMENT,
                        .reflectivity = refl};
    add(b, &o);
}

static void add_circle(struct builder *b, double x, double y, double r, double zlo, double zhi,
                       uint8_t refl)
{
    struct rl__obj o = {.x0 = x,
                        .y0 = y,
                        .r = r,
                        .zlo = (float)zlo,
                        .zhi = (float)zhi,
                        .kind = RL__OBJ_CIRCLE,
                        .reflectivity = refl};
    add(b, &o);
}

static struct rl__obj make_box(double cx, double cy, double th, double hx, double hy, double zlo,
                               double zhi, uint8_t refl)
{
    return (struct rl__obj){.x0 = cx,
                            .y0 = cy,
                            .x1 = cos(th),
                            .y1 = sin(th),
                            .hx = hx,
                            .hy = hy,
                            .r = hypot(hx, hy),
                            .zlo = (float)zlo,
                            .zhi = (float)zhi,
                            .kind = RL__OBJ_BOX,
                            .reflectivity = refl};
}

/* Point at arc length s, offset d to the left, and the centreline direction. */
static void at(const struct rl__route *r, double s, double d, double *x, double *y, double *th)
{
    double cx, cy, k;
    rl__route_at(r, s, &cx, &cy, th, &k);
    *x = cx - d * sin(*th);
    *y = cy + d * cos(*th);
}

static bool near_intersection(const struct rl__route *r, double s, double margin)
{
    double d =
        fabs(rl__route_wrap(r, s - r->s_intersection + 0.5 * r->length_m) - 0.5 * r->length_m);
    return d < margin;
}

/* A kerb line at offset d: vertices where the chord error would pass
 * KERB_SAG_M or straight and curved parts meet; broken at the cross street. */
static void add_kerb(struct builder *b, const struct rl__route *r, double d)
{
    double ds = r->length_m / (double)r->n;
    bool open = false;
    double px = 0, py = 0, run = 0;
    for (size_t i = 0; i <= r->n; i++) {
        double s = (double)i * ds, x, y, th;
        bool gap = near_intersection(r, s, RL__INTERSECTION_HALF_M);
        at(r, s, d, &x, &y, &th);
        if (gap) {
            open = false;
            continue;
        }
        if (!open) {
            px = x;
            py = y;
            run = 0;
            open = true;
            continue;
        }
        size_t j = i % r->n, jn = (i + 1) % r->n;
        double k = fabs(r->k[j] / (1.0 - r->k[j] * d));
        bool bend = (r->k[j] == 0) != (r->k[jn] == 0);
        run += ds;
        double max_chord = k > 0 ? sqrt(8.0 * KERB_SAG_M / k) : INFINITY;
        if (i == r->n || bend || run + ds > max_chord ||
            near_intersection(r, s + ds, RL__INTERSECTION_HALF_M)) {
            add_segment(b, px, py, x, y, 0, KERB_H_M, KERB_REFL);
            px = x;
            py = y;
            run = 0;
        }
    }
}

/* The cross street's kerbs, perpendicular to the route at the intersection. */
static void add_cross_street(struct builder *b, const struct rl__route *r)
{
    double cx, cy, th;
    at(r, r->s_intersection, 0, &cx, &cy, &th);
    double tx = cos(th), ty = sin(th), nx = -ty, ny = tx;
    for (int side = -1; side <= 1; side += 2)
        for (int along = -1; along <= 1; along += 2) {
            double ox = cx + along * RL__INTERSECTION_HALF_M * tx;
            double oy = cy + along * RL__INTERSECTION_HALF_M * ty;
            add_segment(b, ox + side * RL__ROAD_HALF_M * nx, oy + side * RL__ROAD_HALF_M * ny,
                        ox + side * CROSS_STREET_M * nx, oy + side * CROSS_STREET_M * ny, 0,
                        KERB_H_M, KERB_REFL);
            add_circle(b, cx + along * SIGNAL_POLE_AT_M * tx + side * SIGNAL_POLE_AT_M * nx,
                       cy + along * SIGNAL_POLE_AT_M * ty + side * SIGNAL_POLE_AT_M * ny,
                       SIGNAL_POLE_R_M, 0, SIGNAL_POLE_H_M, SIGNAL_POLE_REFL);
        }
}

static bool straight_between(const struct rl__route *r, double s0, double s1)
{
    double ds = r->length_m / (double)r->n;
    for (double s = s0; s <= s1; s += ds) {
        double x, y, th, k;
        rl__route_at(r, s, &x, &y, &th, &k);
        if (fabs(k) > STRAIGHT_KAPPA)
            return false;
    }
    return true;
}

static double span(struct rl__rng *g, double lo, double hi)
{
    return lo + (hi - lo) * rl__rng_uniform(g);
}

/* Office blocks along one side (side +1 left, -1 right of the route). */
static void add_buildings(struct builder *b, const struct rl__route *r, int side, struct rl__rng *g)
{
    double s = span(g, 0, GAP_MAX_M);
    while (s < r->length_m) {
        double f = span(g, FRONTAGE_MIN_M, FRONTAGE_MAX_M);
        double setback = RL__ROAD_HALF_M + SIDEWALK_M + span(g, SETBACK_MIN_M, SETBACK_MAX_M);
        double depth = span(g, DEPTH_MIN_M, DEPTH_MAX_M);
        double h = span(g, HEIGHT_MIN_M, HEIGHT_MAX_M);
        uint8_t refl = (uint8_t)(BUILDING_REFL_MIN + rl__rng_next(g) % BUILDING_REFL_SPAN);
        double mid = s + 0.5 * f;
        bool clear =
            !near_intersection(r, mid, 0.5 * f + RL__INTERSECTION_HALF_M + INTERSECTION_CLEAR_M);
        if (clear && s + f < r->length_m && straight_between(r, s, s + f)) {
            double x, y, th;
            at(r, mid, side * (setback + 0.5 * depth), &x, &y, &th);
            struct rl__obj o = make_box(x, y, th, 0.5 * f, 0.5 * depth, 0, h, refl);
            add(b, &o);
        }
        s += f + span(g, GAP_MIN_M, GAP_MAX_M);
    }
}

static void add_street_furniture(struct builder *b, const struct rl__route *r)
{
    for (double s = 0; s + POLE_SPACING_M <= r->length_m; s += POLE_SPACING_M) {
        for (int side = -1; side <= 1; side += 2) {
            double x, y, th;
            if (!near_intersection(r, s, RL__INTERSECTION_HALF_M + 4.0)) {
                at(r, s, side * POLE_OFFSET_M, &x, &y, &th);
                add_circle(b, x, y, POLE_R_M, 0, POLE_H_M, POLE_REFL);
            }
            double st = s + 0.5 * POLE_SPACING_M;
            if (!near_intersection(r, st, RL__INTERSECTION_HALF_M + CANOPY_R_M + 2.0)) {
                at(r, st, side * TREE_OFFSET_M, &x, &y, &th);
                struct rl__obj tree = {.x0 = x,
                                       .y0 = y,
                                       .r = CANOPY_R_M,
                                       .hx = TRUNK_R_M,
                                       .zlo = (float)TRUNK_H_M,
                                       .zhi = (float)CANOPY_H_M,
                                       .kind = RL__OBJ_TREE,
                                       .reflectivity = CANOPY_REFL};
                add(b, &tree);
            }
        }
    }
}

/* Bounding box of an object in the plane. */
static void obj_bounds(const struct rl__obj *o, double *x0, double *y0, double *x1, double *y1)
{
    switch (o->kind) {
    case RL__OBJ_SEGMENT:
        *x0 = fmin(o->x0, o->x1);
        *x1 = fmax(o->x0, o->x1);
        *y0 = fmin(o->y0, o->y1);
        *y1 = fmax(o->y0, o->y1);
        break;
    case RL__OBJ_CIRCLE:
    case RL__OBJ_TREE:
        *x0 = o->x0 - o->r;
        *x1 = o->x0 + o->r;
        *y0 = o->y0 - o->r;
        *y1 = o->y0 + o->r;
        break;
    default: {
        double ex = fabs(o->x1) * o->hx + fabs(o->y1) * o->hy;
        double ey = fabs(o->y1) * o->hx + fabs(o->x1) * o->hy;
        *x0 = o->x0 - ex;
        *x1 = o->x0 + ex;
        *y0 = o->y0 - ey;
        *y1 = o->y0 + ey;
        break;
    }
    }
}

static void cell_range(const struct rl__scene *sc, const struct rl__obj *o, int *i0, int *j0,
                       int *i1, int *j1)
{
    double x0, y0, x1, y1;
    obj_bounds(o, &x0, &y0, &x1, &y1);
    *i0 = (int)floor((x0 - sc->gx0) / CELL_M);
    *i1 = (int)floor((x1 - sc->gx0) / CELL_M);
    *j0 = (int)floor((y0 - sc->gy0) / CELL_M);
    *j1 = (int)floor((y1 - sc->gy0) / CELL_M);
    *i0 = *i0 < 0 ? 0 : *i0;
    *j0 = *j0 < 0 ? 0 : *j0;
    *i1 = *i1 >= sc->gnx ? sc->gnx - 1 : *i1;
    *j1 = *j1 >= sc->gny ? sc->gny - 1 : *j1;
}

static int build_grid(struct rl__scene *sc)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < sc->n_obj; i++) {
        double a, b, c, d;
        obj_bounds(&sc->obj[i], &a, &b, &c, &d);
        x0 = fmin(x0, a);
        y0 = fmin(y0, b);
        x1 = fmax(x1, c);
        y1 = fmax(y1, d);
    }
    sc->gx0 = x0 - GRID_MARGIN_M;
    sc->gy0 = y0 - GRID_MARGIN_M;
    double nx = ceil((x1 - x0 + 2 * GRID_MARGIN_M) / CELL_M);
    double ny = ceil((y1 - y0 + 2 * GRID_MARGIN_M) / CELL_M);
    if (!(nx >= 1 && nx <= MAX_GRID_CELLS && ny >= 1 && ny <= MAX_GRID_CELLS))
        return -EINVAL;
    sc->gnx = (int)nx;
    sc->gny = (int)ny;
    size_t cells = (size_t)sc->gnx * (size_t)sc->gny;
    sc->cell_start = calloc(cells + 1, sizeof(uint32_t));
    if (!sc->cell_start)
        return -ENOMEM;
    size_t total = 0;
    for (size_t i = 0; i < sc->n_obj; i++) {
        int a, b, c, d;
        cell_range(sc, &sc->obj[i], &a, &b, &c, &d);
        for (int jy = b; jy <= d; jy++)
            for (int ix = a; ix <= c; ix++) {
                sc->cell_start[(size_t)jy * sc->gnx + ix + 1]++;
                total++;
            }
    }
    for (size_t c = 0; c < cells; c++)
        sc->cell_start[c + 1] += sc->cell_start[c];
    sc->cell_item = malloc((total ? total : 1) * sizeof(uint32_t));
    uint32_t *fill = malloc((cells ? cells : 1) * sizeof(uint32_t));
    if (!sc->cell_item || !fill) {
        free(fill);
        return -ENOMEM;
    }
    memcpy(fill, sc->cell_start, cells * sizeof(uint32_t));
    for (size_t i = 0; i < sc->n_obj; i++) {
        int a, b, c, d;
        cell_range(sc, &sc->obj[i], &a, &b, &c, &d);
        for (int jy = b; jy <= d; jy++)
            for (int ix = a; ix <= c; ix++)
                sc->cell_item[fill[(size_t)jy * sc->gnx + ix]++] = (uint32_t)i;
    }
    free(fill);
    return 0;
}

int rl__scene_build(struct rl__scene *sc, const struct rl__route *r)
{
    memset(sc, 0, sizeof(*sc));
    struct builder b = {0};
    struct rl__rng g;
    rl__rng_seed(&g, SCENE_SEED, 0);
    for (int side = -1; side <= 1; side += 2)
        add_kerb(&b, r, side * RL__ROAD_HALF_M);
    add_cross_street(&b, r);
    add_buildings(&b, r, 1, &g);
    add_buildings(&b, r, -1, &g);
    add_street_furniture(&b, r);
    if (b.failed) {
        free(b.obj);
        return -ENOMEM;
    }
    sc->obj = b.obj;
    sc->n_obj = b.n;
    sc->stamp = calloc(sc->n_obj ? sc->n_obj : 1, sizeof(uint32_t));
    int rc = sc->stamp ? build_grid(sc) : -ENOMEM;
    if (rc < 0) {
        rl__scene_release(sc);
        return rc;
    }
    /* The road-works cones, on the shoulder along 2 x 12 x 4 m. */
    struct rl__road_event ev;
    uint64_t t = 0;
    while (!rl__road_event_at(r, t, &ev) || ev.kind != 0)
        t += RL__NS_PER_S;
    sc->cone_s_m = ev.s_m;
    size_t half = sizeof(sc->cones) / sizeof(sc->cones[0]) / 2;
    for (size_t i = 0; i < 2 * half; i++) {
        double x, y, th;
        double s = ev.s_m + ((double)i - (double)half) * CONE_SPACING_M;
        at(r, s, ev.offset_m, &x, &y, &th);
        sc->cones[i] = (struct rl__obj){.x0 = x,
                                        .y0 = y,
                                        .r = CONE_R_M,
                                        .zlo = 0,
                                        .zhi = (float)CONE_H_M,
                                        .kind = RL__OBJ_CIRCLE,
                                        .reflectivity = CONE_REFL};
    }
    sc->n_cones = 2 * half;
    /* Their enclosing circle, tested before them. */
    double minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
    for (size_t i = 0; i < sc->n_cones; i++) {
        minx = fmin(minx, sc->cones[i].x0);
        maxx = fmax(maxx, sc->cones[i].x0);
        miny = fmin(miny, sc->cones[i].y0);
        maxy = fmax(maxy, sc->cones[i].y0);
    }
    sc->cones_x = 0.5 * (minx + maxx);
    sc->cones_y = 0.5 * (miny + maxy);
    sc->cones_r = 0.5 * hypot(maxx - minx, maxy - miny) + CONE_R_M;
    return 0;
}

void rl__scene_release(struct rl__scene *sc)
{
    free(sc->obj);
    free(sc->cell_start);
    free(sc->cell_item);
    free(sc->stamp);
    memset(sc, 0, sizeof(*sc));
}

/* ---- ray casting ---- */

static bool circle_hit(double px, double py, double r, const struct rl__ray *ray, double *t_in,
                       double *t_out)
{
    double bq = px * ray->dx + py * ray->dy;
    double c = px * px + py * py - r * r;
    double disc = bq * bq - c;
    if (disc < 0)
        return false;
    double sq = sqrt(disc);
    double t0 = -bq - sq, t1 = -bq + sq;
    if (t1 <= 0)
        return false;
    *t_in = t0 > 0 ? t0 : 0;
    *t_out = t1;
    return true;
}

/* Entry and exit distances of the ray through an object (a tree: its
 * canopy); false on a miss. */
static inline bool intersect(const struct rl__obj *o, const struct rl__ray *ray, double *t_in,
                             double *t_out)
{
    double px = ray->ox - o->x0, py = ray->oy - o->y0;
    switch (o->kind) {
    case RL__OBJ_SEGMENT: {
        double ex = o->x1 - o->x0, ey = o->y1 - o->y0;
        double den = ray->dx * ey - ray->dy * ex;
        if (fabs(den) < EPS)
            return false;
        /* With w = start - origin = -p: t = (w x e) / den, u = (w x d) / den;
         * signs first, one division for a hit only. */
        double nt = -px * ey + py * ex, nu = -px * ray->dy + py * ray->dx;
        if (den < 0) {
            den = -den;
            nt = -nt;
            nu = -nu;
        }
        if (nt <= 0 || nu < 0 || nu > den)
            return false;
        *t_in = *t_out = nt / den;
        return true;
    }
    case RL__OBJ_CIRCLE:
    case RL__OBJ_TREE:
        return circle_hit(px, py, o->r, ray, t_in, t_out);
    default: {
        /* The enclosing circle first: most rays pass far from a box. */
        double cross = px * ray->dy - py * ray->dx;
        if (cross * cross > o->r * o->r)
            return false;
        double lx = px * o->x1 + py * o->y1, ly = -px * o->y1 + py * o->x1;
        double dlx = ray->dx * o->x1 + ray->dy * o->y1, dly = -ray->dx * o->y1 + ray->dy * o->x1;
        double lo = 0, hi = INFINITY;
        const double pos[2] = {lx, ly}, dir[2] = {dlx, dly}, half[2] = {o->hx, o->hy};
        for (int a = 0; a < 2; a++) {
            if (fabs(dir[a]) < EPS) {
                if (fabs(pos[a]) > half[a])
                    return false;
                continue;
            }
            double ta = (-half[a] - pos[a]) / dir[a], tb = (half[a] - pos[a]) / dir[a];
            if (ta > tb) {
                double tmp = ta;
                ta = tb;
                tb = tmp;
            }
            lo = ta > lo ? ta : lo;
            hi = tb < hi ? tb : hi;
            if (lo > hi)
                return false;
        }
        *t_in = lo;
        *t_out = hi;
        return true;
    }
    }
}

static void add_hit(struct rl__hits *h, double t_in, double t_out, const struct rl__obj *o)
{
    int n = h->n;
    if (n == RL__MAX_HITS) {
        if (t_in >= h->h[n - 1].t_in)
            return;
        n--; /* the farthest goes */
    }
    int i = n;
    while (i > 0 && h->h[i - 1].t_in > t_in) {
        h->h[i] = h->h[i - 1];
        i--;
    }
    h->h[i] = (struct rl__hit){t_in, t_out, o->zlo, o->zhi, o->reflectivity};
    h->n = n + 1;
}

/* Tests o; returns the distance beyond which nothing matters any more (o
 * covers every laser there), or INFINITY. */
static inline double test_object(const struct rl__obj *o, const struct rl__ray *ray,
                                 struct rl__hits *out)
{
    double t_in, t_out;
    if (!intersect(o, ray, &t_in, &t_out) || t_in > ray->max_t)
        return INFINITY;
    add_hit(out, t_in, t_out, o);
    if (o->kind == RL__OBJ_TREE) {
        /* The trunk, inside the canopy's circle, under it. */
        struct rl__obj trunk = {.zlo = 0, .zhi = o->zlo, .reflectivity = TRUNK_REFL};
        if (circle_hit(ray->ox - o->x0, ray->oy - o->y0, o->hx, ray, &t_in, &t_out))
            add_hit(out, t_in, t_out, &trunk);
        return INFINITY;
    }
    double low = ray->oz + t_in * ray->tan_min, high = ray->oz + t_in * ray->tan_max;
    if (o->zlo <= (low > 0 ? low : 0) && o->zhi >= high)
        return t_in;
    return INFINITY;
}

void rl__scene_cast(struct rl__scene *sc, const struct rl__ray *ray, const struct rl__obj *dyn,
                    size_t n_dyn, struct rl__hits *out)
{
    out->n = 0;
    double t_stop = ray->max_t;
    if (++sc->ray_id == 0) {
        memset(sc->stamp, 0, sc->n_obj * sizeof(uint32_t));
        sc->ray_id = 1;
    }
    for (size_t i = 0; i < n_dyn; i++) {
        double t = test_object(&dyn[i], ray, out);
        t_stop = t < t_stop ? t : t_stop;
    }
    double gi, go;
    if (ray->cones &&
        circle_hit(ray->ox - sc->cones_x, ray->oy - sc->cones_y, sc->cones_r, ray, &gi, &go) &&
        gi <= ray->max_t) {
        for (size_t i = 0; i < sc->n_cones; i++)
            (void)test_object(&sc->cones[i], ray, out);
    }
    double gx = (ray->ox - sc->gx0) / CELL_M, gy = (ray->oy - sc->gy0) / CELL_M;
    int ix = (int)floor(gx), iy = (int)floor(gy);
    if (ix < 0 || iy < 0 || ix >= sc->gnx || iy >= sc->gny)
        return;
    int stepx = ray->dx > 0 ? 1 : -1, stepy = ray->dy > 0 ? 1 : -1;
    double tmx = fabs(ray->dx) > EPS ? ((ix + (ray->dx > 0)) * CELL_M + sc->gx0 - ray->ox) / ray->dx
                                     : INFINITY;
    double tmy = fabs(ray->dy) > EPS ? ((iy + (ray->dy > 0)) * CELL_M + sc->gy0 - ray->oy) / ray->dy
                                     : INFINITY;
    double tdx = fabs(ray->dx) > EPS ? CELL_M / fabs(ray->dx) : INFINITY;
    double tdy = fabs(ray->dy) > EPS ? CELL_M / fabs(ray->dy) : INFINITY;
    double t_cell = 0;
    while (t_cell < t_stop) {
        size_t c = (size_t)iy * sc->gnx + ix;
        for (uint32_t k = sc->cell_start[c]; k < sc->cell_start[c + 1]; k++) {
            uint32_t id = sc->cell_item[k];
            if (sc->stamp[id] == sc->ray_id)
                continue;
            sc->stamp[id] = sc->ray_id;
            double t = test_object(&sc->obj[id], ray, out);
            t_stop = t < t_stop ? t : t_stop;
        }
        if (tmx < tmy) {
            t_cell = tmx;
            tmx += tdx;
            ix += stepx;
            if (ix < 0 || ix >= sc->gnx)
                break;
        } else {
            t_cell = tmy;
            tmy += tdy;
            iy += stepy;
            if (iy < 0 || iy >= sc->gny)
                break;
        }
    }
}

bool rl__scene_cones_on(const struct rl_sim *sim, uint64_t t_ns)
{
    struct rl__road_event ev;
    return rl__road_event_at(&sim->route, t_ns, &ev) && ev.kind == 0;
}

size_t rl__scene_dynamic(struct rl_sim *sim, uint64_t t_ns, double x, double y, double range_m,
                         struct rl__obj *dyn, size_t cap)
{
    size_t n = 0;
    struct rl__world *w = &sim->world;
    for (size_t i = 0; i < w->n_vehicles && n < cap; i++) {
        struct rl_sim_vehicle v;
        if (w->spec[i].ego || rl__world_vehicle(w, i, t_ns, &v) < 0)
            continue;
        double dx = v.e_m - x, dy = v.n_m - y;
        double reach = range_m + v.length_m;
        if (dx * dx + dy * dy > reach * reach)
            continue;
        double th = (90.0 - v.heading_deg) * RL__DEG;
        dyn[n++] = make_box(v.e_m, v.n_m, th, 0.5 * v.length_m, 0.5 * v.width_m, VEHICLE_ZLO_M,
                            v.height_m, w->spec[i].reflectivity);
    }
    return n;
}

double rl_sim_raycast(struct rl_sim *sim, uint64_t time_ns, double e_m, double n_m, double z_m,
                      double az_deg, double elev_deg, double max_range_m)
{
    struct rl__obj dyn[RL__MAX_VEHICLES];
    double ce = cos(elev_deg * RL__DEG);
    double max_t = max_range_m * ce;
    size_t nd = rl__scene_dynamic(sim, time_ns, e_m, n_m, max_t, dyn, sizeof(dyn) / sizeof(dyn[0]));
    double te = tan(elev_deg * RL__DEG);
    struct rl__ray ray = {e_m,   n_m, z_m, sin(az_deg * RL__DEG),           cos(az_deg * RL__DEG),
                          max_t, te,  te,  rl__scene_cones_on(sim, time_ns)};
    struct rl__hits hits;
    rl__scene_cast(&sim->scene, &ray, dyn, nd, &hits);
    uint8_t refl;
    double t = rl__hits_resolve(&hits, z_m, te, te < 0 ? z_m / -te : INFINITY, max_t, &refl);
    return t < 0 ? 0 : t / ce;
}
