/* rl_bench_mcap: write and read speed of roadlog's MCAP writer, chunk
 * pipeline and reader on realistic LiDAR traffic (bench/run.sh puts the
 * figures beside the zstd command-line tool's on the same bytes).
 *
 * The payload is a stream of VLP-16 data packets (1206 bytes, built with
 * rl_velodyne_encode_packet) from a synthetic street scanned by a sensor
 * 1.9 m up on a car driving at 8 m/s: flat ground with lane markings,
 * building fronts with gaps, parked cars, poles and a car ahead, ranges
 * with 2 cm of seeded noise, 300 rpm (0.2 degrees per block), 754 packets
 * per second. It is generated into memory before any timing, so the timed
 * parts are only the library's.
 *
 * Phases, each timed with CLOCK_MONOTONIC and repeated --repeat times
 * (best kept): write with the plain writer (one thread, open to close);
 * read back in log-time order with the reader (open to close, touching
 * each payload); write through the chunk pipeline with --threads workers
 * (its file must equal the single-threaded one byte for byte); and the cost
 * of `info`: open + file info + message count + close.
 * Speeds are payload bytes (1 MB = 10^6 bytes) and messages per second. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roadlog/lidar.h"
#include "roadlog/pipeline.h"
#include "roadlog/reader.h"
#include "roadlog/writer.h"

#define PACKETS_PER_S 754u
#define ROTATION_HZ   5.0 /* 300 rpm: 0.199 degrees per block */
#define SENSOR_H_M    1.9
#define SPEED_M_S     8.0
#define MAX_RANGE_M   100.0
#define NOISE_M       0.02                   /* +- range noise (triangular) */
#define START_NS      1795249800000000000ull /* 2026-11-21T08:30:00Z */
#define MAX_OBJECTS   128
#define OBJ_REFRESH   256 /* packets between rebuilds of the static object list */
#define INFO_RUNS     20
#define CMP_BUF_BYTES (1u << 20)
#define VLP16_LASERS  16
#define VLP16_FIRINGS 2 /* firing sequences per block */
#define DEG           (3.14159265358979323846 / 180.0)

_Static_assert(RL_VELODYNE_CHANNELS == VLP16_LASERS * VLP16_FIRINGS, "VLP-16 block layout");

/* ---- the synthetic street ---- */

/* A vertical box (parked car, car ahead, pole as a thin box) in world
 * coordinates: x along the road, y to the left, ground at z = 0. */
struct box {
    double x0, x1, y0, y1, top;
    uint8_t refl;
};

struct scene {
    uint64_t rng;
    double tan_e[VLP16_LASERS], cos_e[VLP16_LASERS];
    struct box obj[MAX_OBJECTS];
    size_t n_static, n_obj;
    double built_at_x;
};

/* A hit along one firing direction: entry and exit distance in the
 * horizontal plane, and what stands there. */
struct hit {
    double t_in, t_out, top;
    uint8_t refl;
};

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: fixed seed, same stream on every run. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static uint32_t hash32(int64_t k)
{
    uint32_t x = (uint32_t)(k * 2654435761u) ^ 0x9e3779b9u;
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static double unit(uint32_t h)
{
    return (double)(h & 0xffffu) / 65535.0;
}

/* Parked cars along both curbs every 9 m (most places taken) and poles
 * every 25 m, within MAX_RANGE_M of x. */
static void build_static(struct scene *sc, double x)
{
    size_t n = 0;
    for (int64_t k = (int64_t)floor((x - MAX_RANGE_M) / 9.0);
         k <= (int64_t)ceil((x + MAX_RANGE_M) / 9.0); k++) {
        for (int side = 0; side < 2; side++) {
            uint32_t h = hash32(k * 2 + side);
            if (h % 10 < 3 || n == MAX_OBJECTS - 1)
                continue;
            double cx = (double)k * 9.0 + 2.0 * unit(h >> 3);
            double y0 = side ? 5.2 : -8.8;
            sc->obj[n++] =
                (struct box){cx,       cx + 4.4 + 0.5 * unit(h >> 7), y0,
                             y0 + 1.8, 1.4 + 0.3 * unit(h >> 11),     (uint8_t)(20 + h % 70)};
        }
    }
    for (int64_t k = (int64_t)floor((x - MAX_RANGE_M) / 25.0);
         k <= (int64_t)ceil((x + MAX_RANGE_M) / 25.0) && n < MAX_OBJECTS - 2; k++) {
        double px = (double)k * 25.0;
        sc->obj[n++] = (struct box){px, px + 0.25, 9.4, 9.65, 7.0, 50};
        sc->obj[n++] = (struct box){px + 12.0, px + 12.25, -10.9, -10.65, 7.0, 50};
    }
    sc->n_static = n;
    sc->built_at_x = x;
}

/* Horizontal ray (origin ox, oy, direction dx, dy) against a box: 2-D slab
 * test. Returns false when it misses or the box is behind. */
static bool ray_box(double ox, double oy, double dx, double dy, const struct box *b, struct hit *h)
{
    double t0 = 0.0, t1 = MAX_RANGE_M;
    const double lo[2] = {b->x0 - ox, b->y0 - oy}, hi[2] = {b->x1 - ox, b->y1 - oy};
    const double d[2] = {dx, dy};
    for (int a = 0; a < 2; a++) {
        if (fabs(d[a]) < 1e-12) {
            if (lo[a] > 0 || hi[a] < 0)
                return false;
            continue;
        }
        double ta = lo[a] / d[a], tb = hi[a] / d[a];
        if (ta > tb) {
            double s = ta;
            ta = tb;
            tb = s;
        }
        t0 = ta > t0 ? ta : t0;
        t1 = tb < t1 ? tb : t1;
        if (t0 > t1)
            return false;
    }
    *h = (struct hit){t0, t1, b->top, b->refl};
    return true;
}

/* Building fronts at y = +12 and y = -14: 26 m buildings with 4 m gaps,
 * heights 8 to 14 m. A gap shows nothing behind (open space). */
static bool ray_wall(double ox, double dx, double dy, struct hit *h)
{
    double wy = dy > 0 ? 12.0 : -14.0;
    if (fabs(dy) < 1e-9)
        return false;
    double t = wy / dy;
    if (t <= 0 || t > MAX_RANGE_M)
        return false;
    double hx = ox + t * dx + (dy > 0 ? 0.0 : 13.0);
    int64_t k = (int64_t)floor(hx / 30.0);
    if (hx - (double)k * 30.0 > 26.0)
        return false;
    uint32_t hk = hash32(k * 3 + (dy > 0));
    *h = (struct hit){t, INFINITY, 8.0 + 6.0 * unit(hk), (uint8_t)(40 + hk % 40)};
    return true;
}

/* Range and reflectivity of one laser along a firing direction, given the
 * hits found for that direction. */
static void shoot(const struct scene *sc, unsigned laser, const struct hit *hits, size_t n_hits,
                  double ox, double dx, double dy, double *range_m, uint8_t *refl)
{
    double tan_e = sc->tan_e[laser];
    double best = INFINITY;
    uint8_t r = 0;
    if (tan_e < 0) {
        best = SENSOR_H_M / -tan_e; /* the ground */
        double gy = best * dy, gx = ox + best * dx;
        bool marking = (fabs(gy - 1.75) < 0.08 || fabs(gy + 1.75) < 0.08) && fmod(gx, 9.0) < 3.0;
        r = marking ? 90 : fabs(gy) > 4.5 ? 30 : 12;
    }
    for (size_t i = 0; i < n_hits; i++) {
        const struct hit *h = &hits[i];
        if (h->t_in >= best)
            continue;
        double z = SENSOR_H_M + h->t_in * tan_e;
        if (z >= 0 && z <= h->top) {
            best = h->t_in; /* a face */
            r = h->refl;
        } else if (z > h->top && tan_e < 0) {
            double t_roof = (SENSOR_H_M - h->top) / -tan_e;
            if (t_roof <= h->t_out && t_roof < best) {
                best = t_roof;
                r = h->refl;
            }
        }
    }
    if (!(best <= MAX_RANGE_M)) {
        *range_m = 0;
        *refl = 0;
        return;
    }
    *range_m = best / sc->cos_e[laser];
    *refl = r;
}

static void scene_init(struct scene *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->rng = 0x2545f4914f6cdd1dull;
    for (unsigned k = 0; k < VLP16_LASERS; k++) {
        double e = rl_velodyne_elevation_deg(RL_VELODYNE_VLP16, k) * DEG;
        sc->tan_e[k] = tan(e);
        sc->cos_e[k] = cos(e);
    }
    build_static(sc, 0.0);
}

/* Builds packet i of the stream into out (RL_VELODYNE_DATA_LEN bytes). */
static int make_packet(struct scene *sc, uint64_t i, uint64_t log_time_ns, uint8_t *out)
{
    struct rl_velodyne_frame f;
    struct hit hits[MAX_OBJECTS + 1];
    const double block_deg = 360.0 * ROTATION_HZ / (PACKETS_PER_S * (double)RL_VELODYNE_BLOCKS);
    double t_s = (double)i / PACKETS_PER_S;
    double ox = SPEED_M_S * t_s;

    if (fabs(ox - sc->built_at_x) > 2.0 || i % OBJ_REFRESH == 0)
        build_static(sc, ox);
    /* The car ahead, keeping 14 +- 3 m. */
    double lead = ox + 14.0 + 3.0 * sin(0.2 * t_s);
    sc->obj[sc->n_static] = (struct box){lead, lead + 4.6, -0.9, 0.9, 1.45, 70};
    sc->n_obj = sc->n_static + 1;

    memset(&f, 0, sizeof(f));
    f.model = RL_VELODYNE_VLP16;
    f.return_mode = RL_LIDAR_RETURN_STRONGEST;
    f.timestamp_us = (uint32_t)((log_time_ns / 1000u) % 3600000000ull);
    for (unsigned b = 0; b < RL_VELODYNE_BLOCKS; b++) {
        double az = fmod((double)(i * RL_VELODYNE_BLOCKS + b) * block_deg, 360.0);
        f.azimuth_cdeg[b] = (uint16_t)((unsigned)(az * 100.0) % 36000u);
        for (unsigned s = 0; s < VLP16_FIRINGS; s++) {
            /* Azimuth clockwise from the driving direction (+x). */
            double a = (az + s * block_deg / 2.0) * DEG;
            double dx = cos(a), dy = -sin(a);
            size_t n = 0;
            if (ray_wall(ox, dx, dy, &hits[n]))
                n++;
            for (size_t k = 0; k < sc->n_obj; k++) {
                if (ray_box(ox, 0.0, dx, dy, &sc->obj[k], &hits[n]))
                    n++;
            }
            for (unsigned l = 0; l < VLP16_LASERS; l++) {
                double range;
                uint8_t refl;
                shoot(sc, l, hits, n, ox, dx, dy, &range, &refl);
                uint64_t r = rng_next(&sc->rng);
                if (range > 0 && (r & 0x3ff) < 5)
                    range = 0; /* a dropout now and then */
                if (range > 0) {
                    double noise = (unit((uint32_t)(r >> 16)) + unit((uint32_t)(r >> 32)) - 1.0);
                    range += NOISE_M * noise;
                    int rv = (int)refl + (int)((r >> 48) % 7) - 3;
                    refl = (uint8_t)(rv < 0 ? 0 : rv > 255 ? 255 : rv);
                }
                f.distance_m[b][s * VLP16_LASERS + l] = (float)range;
                f.intensity[b][s * VLP16_LASERS + l] = refl;
            }
        }
    }
    return rl_velodyne_encode_packet(&f, out, RL_VELODYNE_DATA_LEN);
}

/* ---- options ---- */

struct opts {
    uint64_t bytes;
    int level;
    uint64_t chunk_size;
    unsigned threads, inflight, repeat;
    const char *out, *dump, *dir;
    bool json;
};

static void usage(FILE *f)
{
    fputs("usage: rl_bench_mcap [--bytes N[K|M|G]] [--level N] [--chunk-size N[K|M|G]]\n"
          "                     [--threads N] [--inflight N] [--repeat N] [--out LOG]\n"
          "                     [--dump-payload FILE] [--dir DIR] [--json]\n"
          "  --bytes         payload to generate (default 1G; K, M, G are powers of 1024)\n"
          "  --level         zstd level (default 3)\n"
          "  --chunk-size    chunk size (default 4M)\n"
          "  --threads       compression workers of the pipeline run (default 2; 0 skips it)\n"
          "  --inflight      pipeline in-flight chunk budget (default 0: 2 * threads + 1)\n"
          "  --repeat        runs of each phase, best kept (default 1)\n"
          "  --out           keep the single-threaded log at LOG (default: a temp file)\n"
          "  --dump-payload  write the concatenated packets to FILE (for zstd)\n"
          "  --dir           directory of the temporary logs (default $TMPDIR or /tmp)\n"
          "  --json          one JSON object on stdout instead of a table\n",
          f);
}

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s)
        return false;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift != 0)
        end++;
    if (*end != '\0' || v > (UINT64_MAX >> shift))
        return false;
    *out = (uint64_t)v << shift;
    return true;
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    uint64_t v;
    if (!parse_size(s, &v) || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    unsigned level = 3;
    o->bytes = (uint64_t)1 << 30;
    o->chunk_size = (uint64_t)4 << 20;
    o->threads = 2;
    o->repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "rl_bench_mcap: %s: missing value or unknown option\n", a);
            return 1;
        }
        i++;
        if (strcmp(a, "--bytes") == 0)
            ok = parse_size(v, &o->bytes) && o->bytes >= RL_VELODYNE_DATA_LEN;
        else if (strcmp(a, "--level") == 0)
            ok = parse_uint(v, 22, &level) && level >= 1;
        else if (strcmp(a, "--chunk-size") == 0)
            ok = parse_size(v, &o->chunk_size) && o->chunk_size > 0 &&
                 o->chunk_size <= ((uint64_t)1 << 30);
        else if (strcmp(a, "--threads") == 0)
            ok = parse_uint(v, RL_PIPELINE_MAX_WORKERS, &o->threads);
        else if (strcmp(a, "--inflight") == 0)
            ok = parse_uint(v, RL_PIPELINE_MAX_INFLIGHT, &o->inflight);
        else if (strcmp(a, "--repeat") == 0)
            ok = parse_uint(v, 100, &o->repeat) && o->repeat >= 1;
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--dump-payload") == 0)
            o->dump = v;
        else if (strcmp(a, "--dir") == 0)
            o->dir = v;
        else {
            fprintf(stderr, "rl_bench_mcap: unknown option '%s'\n", a);
            return 1;
        }
        if (!ok) {
            fprintf(stderr, "rl_bench_mcap: bad value '%s' for %s\n", v, a);
            return 1;
        }
    }
    o->level = (int)level;
    return 0;
}

/* ---- the phases ---- */

struct payload {
    uint8_t *data;
    uint64_t n;   /* packets */
    uint64_t sum; /* of each packet's first and last byte */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t log_time_of(uint64_t i)
{
    return START_NS + i * 1000000000ull / PACKETS_PER_S;
}

static int generate(struct payload *pl, uint64_t bytes)
{
    struct scene sc;
    pl->n = bytes / RL_VELODYNE_DATA_LEN;
    pl->data = malloc((size_t)(pl->n * RL_VELODYNE_DATA_LEN));
    if (!pl->data) {
        fprintf(stderr, "rl_bench_mcap: out of memory for %" PRIu64 " bytes of payload\n", bytes);
        return -ENOMEM;
    }
    scene_init(&sc);
    pl->sum = 0;
    for (uint64_t i = 0; i < pl->n; i++) {
        uint8_t *p = pl->data + i * RL_VELODYNE_DATA_LEN;
        int rc = make_packet(&sc, i, log_time_of(i), p);
        if (rc < 0) {
            fprintf(stderr, "rl_bench_mcap: packet %" PRIu64 ": %s\n", i, rl_strerror(rc));
            return rc;
        }
        pl->sum += p[0] + p[RL_VELODYNE_DATA_LEN - 1];
    }
    return 0;
}

static int dump_payload(const struct payload *pl, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "rl_bench_mcap: cannot create '%s': %s\n", path, strerror(errno));
        return -errno;
    }
    size_t len = (size_t)(pl->n * RL_VELODYNE_DATA_LEN);
    bool ok = fwrite(pl->data, 1, len, f) == len;
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "rl_bench_mcap: writing '%s' failed: %s\n", path, strerror(errno));
        return -EIO;
    }
    return 0;
}

static const struct rl_kv channel_meta[] = {
    {"decoder", "velodyne.vlp16"},
    {"interface", "synthetic"},
    {"linktype", "payload"},
    {"replay_dest", "udp:127.0.0.1:2368"},
};
static const struct rl_kv run_meta[] = {
    {"command", "rl_bench_mcap"},
    {"route", "synthetic street, 8 m/s"},
    {"site", "bench"},
};

/* Writes the whole payload to path as one channel, through a pipeline of
 * `threads` workers (0: the plain writer). */
static int write_log(const struct payload *pl, const struct opts *o, const char *path,
                     unsigned threads, double *secs, unsigned *peak)
{
    struct rl_writer_options wo;
    struct rl_writer *w = NULL;
    struct rl_pipeline *p = NULL;
    uint16_t ch;
    int rc;
    const char *what = "open";

    rl_writer_options_init(&wo);
    wo.compression = RL_COMPRESS_ZSTD;
    wo.level = o->level;
    wo.chunk_size_bytes = o->chunk_size;
    double t0 = now_s();
    if ((rc = rl_writer_open(&w, path, &wo)) < 0)
        goto fail;
    what = "write";
    if ((rc = rl_writer_write_metadata(w, "roadlog.run", run_meta, 3)) < 0)
        goto fail;
    if ((rc = rl_writer_add_channel(w, 0, 0, "/lidar/top", "", channel_meta, 4, &ch)) < 0)
        goto fail;
    if (threads > 0 && (rc = rl_pipeline_open(&p, w, threads, o->inflight)) < 0)
        goto fail;
    for (uint64_t i = 0; i < pl->n; i++) {
        const uint8_t *d = pl->data + i * RL_VELODYNE_DATA_LEN;
        uint64_t t = log_time_of(i);
        rc = p ? rl_pipeline_write_message(p, ch, (uint32_t)i, t, t, d, RL_VELODYNE_DATA_LEN)
               : rl_writer_write_message(w, ch, (uint32_t)i, t, t, d, RL_VELODYNE_DATA_LEN);
        if (rc < 0)
            goto fail;
    }
    if (p) {
        *peak = rl_pipeline_peak_inflight(p);
        rc = rl_pipeline_close(p);
        p = NULL;
        if (rc < 0)
            goto fail;
    }
    what = "close";
    rc = rl_writer_close(w);
    w = NULL;
    if (rc < 0)
        goto fail;
    *secs = now_s() - t0;
    return 0;
fail:
    fprintf(stderr, "rl_bench_mcap: %s '%s' failed: %s%s%s\n", what, path, rl_strerror(rc),
            w ? ": " : "", w ? rl_writer_errmsg(w) : "");
    if (p && rl_pipeline_close(p) < 0)
        rc = rc < 0 ? rc : -EIO;
    rl_writer_abort(w);
    return rc;
}

/* Reads every message in log-time order, touching each payload. */
static int read_log(const struct payload *pl, const char *path, double *secs)
{
    struct rl_reader *r = NULL;
    struct rl_iter *it = NULL;
    struct rl_iter_options io;
    struct rl_message m;
    char err[256] = "";
    uint64_t n = 0, bytes = 0, sum = 0;
    int rc;

    double t0 = now_s();
    if ((rc = rl_reader_open(&r, path, NULL, err, sizeof(err))) < 0)
        goto fail;
    rl_iter_options_init(&io);
    io.order = RL_ORDER_LOG_TIME;
    if ((rc = rl_iter_new(r, &io, &it)) < 0)
        goto fail;
    while ((rc = rl_iter_next(it, &m)) == 1) {
        n++;
        bytes += m.len;
        if (m.len > 0)
            sum += m.data[0] + m.data[m.len - 1];
    }
    if (rc < 0)
        goto fail;
    rl_iter_free(it);
    rl_reader_close(r);
    *secs = now_s() - t0;
    if (n != pl->n || bytes != pl->n * RL_VELODYNE_DATA_LEN || sum != pl->sum) {
        fprintf(stderr,
                "rl_bench_mcap: read back %" PRIu64 " messages, %" PRIu64
                " bytes: not what was written\n",
                n, bytes);
        return RL_ECORRUPT;
    }
    return 0;
fail:
    fprintf(stderr, "rl_bench_mcap: reading '%s' failed: %s: %s\n", path, rl_strerror(rc),
            r ? rl_reader_errmsg(r) : err);
    rl_iter_free(it);
    rl_reader_close(r);
    return rc;
}

/* What `roadlog info` costs: open, file info, count, close. */
static int info_log(const char *path, uint64_t expect_msgs, double *best_s, double *median_s)
{
    double t[INFO_RUNS];
    char err[256] = "";
    for (int k = 0; k < INFO_RUNS; k++) {
        struct rl_reader *r;
        struct rl_file_info fi;
        double t0 = now_s();
        int rc = rl_reader_open(&r, path, NULL, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "rl_bench_mcap: info '%s': %s\n", path, err);
            return rc;
        }
        rc = rl_reader_count_messages(r);
        rl_reader_file_info(r, &fi);
        size_t n_ch = rl_reader_channel_count(r);
        rl_reader_close(r);
        t[k] = now_s() - t0;
        if (rc < 0 || !fi.complete || fi.message_count != expect_msgs || n_ch != 1) {
            fprintf(stderr, "rl_bench_mcap: info '%s': unexpected file info\n", path);
            return rc < 0 ? rc : RL_ECORRUPT;
        }
    }
    for (int i = 1; i < INFO_RUNS; i++) { /* insertion sort */
        double v = t[i];
        int j = i - 1;
        for (; j >= 0 && t[j] > v; j--)
            t[j + 1] = t[j];
        t[j + 1] = v;
    }
    *best_s = t[0];
    *median_s = t[INFO_RUNS / 2];
    return 0;
}

/* 0 when the two files hold the same bytes. */
static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    uint8_t *ba = malloc(CMP_BUF_BYTES), *bb = malloc(CMP_BUF_BYTES);
    int rc = -EIO;
    if (!fa || !fb || !ba || !bb)
        goto done;
    for (;;) {
        size_t na = fread(ba, 1, CMP_BUF_BYTES, fa), nb = fread(bb, 1, CMP_BUF_BYTES, fb);
        if (na != nb || memcmp(ba, bb, na) != 0) {
            rc = RL_ECORRUPT;
            goto done;
        }
        if (na == 0) {
            rc = ferror(fa) || ferror(fb) ? -EIO : 0;
            goto done;
        }
    }
done:
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    free(ba);
    free(bb);
    return rc;
}

static uint64_t file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (f)
        fclose(f);
    return n < 0 ? 0 : (uint64_t)n;
}

struct results {
    double gen_s, write_s, read_s, mt_s, info_best_s, info_median_s;
    uint64_t file_bytes;
    unsigned peak;
};

static void report(const struct opts *o, const struct payload *pl, const struct results *r)
{
    double mb = (double)(pl->n * RL_VELODYNE_DATA_LEN) / 1e6, n = (double)pl->n;
    double ratio = (double)(pl->n * RL_VELODYNE_DATA_LEN) / (double)r->file_bytes;
    if (o->json) {
        printf("{\"payload_bytes\": %" PRIu64 ", \"messages\": %" PRIu64
               ", \"packet_bytes\": %d, \"level\": %d, \"chunk_size\": %" PRIu64
               ", \"file_bytes\": %" PRIu64 ", \"compression_ratio\": %.3f, \"gen_s\": %.3f,\n",
               pl->n * RL_VELODYNE_DATA_LEN, pl->n, RL_VELODYNE_DATA_LEN, o->level, o->chunk_size,
               r->file_bytes, ratio, r->gen_s);
        printf(" \"write_s\": %.4f, \"write_mb_s\": %.1f, \"write_msgs_s\": %.0f,\n", r->write_s,
               mb / r->write_s, n / r->write_s);
        printf(" \"read_s\": %.4f, \"read_mb_s\": %.1f, \"read_msgs_s\": %.0f,\n", r->read_s,
               mb / r->read_s, n / r->read_s);
        if (o->threads > 0)
            printf(" \"threads\": %u, \"write_mt_s\": %.4f, \"write_mt_mb_s\": %.1f,"
                   " \"write_mt_msgs_s\": %.0f, \"peak_inflight\": %u,\n",
                   o->threads, r->mt_s, mb / r->mt_s, n / r->mt_s, r->peak);
        printf(" \"info_ms_best\": %.3f, \"info_ms_median\": %.3f}\n", r->info_best_s * 1e3,
               r->info_median_s * 1e3);
        return;
    }
    printf("payload  %" PRIu64 " VLP-16 packets, %.1f MB; log %.1f MB (ratio %.2f), "
           "zstd level %d, chunks of %" PRIu64 " bytes\n",
           pl->n, mb, (double)r->file_bytes / 1e6, ratio, o->level, o->chunk_size);
    printf("%-24s %10s %10s %14s\n", "phase", "seconds", "MB/s", "messages/s");
    printf("%-24s %10.3f %10.1f %14.0f\n", "write (1 thread)", r->write_s, mb / r->write_s,
           n / r->write_s);
    printf("%-24s %10.3f %10.1f %14.0f\n", "read (log-time order)", r->read_s, mb / r->read_s,
           n / r->read_s);
    if (o->threads > 0) {
        char name[32];
        snprintf(name, sizeof(name), "write (%u workers)", o->threads);
        printf("%-24s %10.3f %10.1f %14.0f\n", name, r->mt_s, mb / r->mt_s, n / r->mt_s);
    }
    printf("info: best %.3f ms, median %.3f ms over %d runs\n", r->info_best_s * 1e3,
           r->info_median_s * 1e3, INFO_RUNS);
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    struct payload pl = {0};
    struct results res = {0};
    char tmp_path[4096], mt_path[4200];
    const char *path;
    int rc;

    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 1;
    }
    const char *dir = o.dir ? o.dir : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_path, sizeof(tmp_path), "%s/rl_bench_%ld.mcap", dir, (long)getpid());
    path = o.out ? o.out : tmp_path;
    snprintf(mt_path, sizeof(mt_path), "%s.mt.mcap", path);

    double t0 = now_s();
    if ((rc = generate(&pl, o.bytes)) < 0)
        goto done;
    res.gen_s = now_s() - t0;
    if (o.dump && (rc = dump_payload(&pl, o.dump)) < 0)
        goto done;

    res.write_s = res.read_s = res.mt_s = INFINITY;
    for (unsigned k = 0; k < o.repeat; k++) {
        double s;
        unsigned peak = 0;
        if ((rc = write_log(&pl, &o, path, 0, &s, &peak)) < 0)
            goto done;
        res.write_s = fmin(res.write_s, s);
    }
    res.file_bytes = file_size(path);
    for (unsigned k = 0; k < o.repeat; k++) {
        double s;
        if ((rc = read_log(&pl, path, &s)) < 0)
            goto done;
        res.read_s = fmin(res.read_s, s);
    }
    for (unsigned k = 0; o.threads > 0 && k < o.repeat; k++) {
        double s;
        if ((rc = write_log(&pl, &o, mt_path, o.threads, &s, &res.peak)) < 0)
            goto done;
        res.mt_s = fmin(res.mt_s, s);
    }
    if (o.threads > 0) {
        rc = same_file(path, mt_path);
        if (unlink(mt_path) != 0 && rc == 0)
            rc = -errno;
        if (rc < 0) {
            fprintf(stderr, "rl_bench_mcap: the %u-worker log differs from the 1-thread log\n",
                    o.threads);
            goto done;
        }
    }
    if ((rc = info_log(path, pl.n, &res.info_best_s, &res.info_median_s)) < 0)
        goto done;
    report(&o, &pl, &res);
    rc = 0;
done:
    if (!o.out)
        unlink(tmp_path);
    free(pl.data);
    return rc < 0 ? 2 : 0;
}
