/* The simulated LiDARs (sim_internal.h): a Velodyne VLP-16 on the roof
 * (/lidar/top) and a Hesai Pandar40P at the front of the roof
 * (/lidar/front), both at 600 rpm in strongest-return mode, built with the
 * packet encoders of lidar.h and the timing of their manuals:
 *
 *   VLP-16 (User Manual 63-9243 Rev D, ch. 9): a firing sequence every
 *   55.296 us, two per block, 12 blocks per 1206-byte packet: a packet every
 *   1327.104 us, 753.5 packets/s; the timestamp marks the first firing, in
 *   us past the UTC hour. Position packets (512 bytes, port 8308) carry the
 *   last $GPRMC the sensor received with its PPS; "the ratio of data packets
 *   to position packets is about 14 to 1" (9.3.3), so one follows every
 *   14th data packet.
 *   Pandar40P (User's Manual, ch. 3 and appendices I, II): a block every
 *   55.56 us, 10 per packet (1800 packets/s at 10 Hz), the packet time t0
 *   28.58 us after the last block's end; 1266 bytes with the UDP sequence.
 *
 * Each firing's lasers share one horizontal ray (scene.c) at the azimuth
 * the decoder will give them: for the VLP-16 the middle of the firing
 * sequence, for the Pandar40P one ray per azimuth-offset column of its
 * channel layout. The Pandar40P's elevations and column offsets are read
 * back from the decoder (rl_hesai_decode_points of a probe packet), so the
 * simulated points land where roadlog's own decoder puts them. Ranges get
 * ~1 cm of noise, a few returns drop out (more at long range). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"

#define DEG_PER_NS          (360.0 * 10.0 / 1e9) /* 600 rpm */
#define VLP_SEQUENCE_NS     55296ull
#define VLP_BLOCK_NS        (2 * VLP_SEQUENCE_NS)
#define VLP_PACKET_NS       (RL_VELODYNE_BLOCKS * VLP_BLOCK_NS)
#define VLP_FIRING_NS       2304.0
#define VLP_LASERS          16
#define VLP_MID_FIRING_NS   (7.5 * VLP_FIRING_NS) /* middle of the 16 firings */
#define VLP_POSITION_EVERY  14
#define VLP_MAX_RANGE_M     100.0
#define VLP_NOISE_M         0.012
#define VLP_MOUNT_FWD_M     (-0.6)
#define VLP_MOUNT_H_M       2.10
#define P40_BLOCK_NS        55560ull
#define P40_PACKET_NS       (RL_HESAI_P40_BLOCKS * P40_BLOCK_NS)
#define P40_T0_AFTER_END_NS 28580ull
#define P40_FIRST_T0_NS     600000ull /* t0 of packet 0: its blocks fire after time 0 */
#define P40_MAX_RANGE_M     200.0
#define P40_NOISE_M         0.010
#define P40_MOUNT_FWD_M     0.8
#define P40_MOUNT_H_M       1.95
#define P40_RPM             600
#define PROBE_RANGE_M       10.0
#define PROBE_YEAR          2026
#define DROP_BASE           0.002
#define DROP_FAR            0.25
#define DROP_BASE_U16       131 /* DROP_BASE * 65536 */
#define DROP_FAR_FROM       0.3 /* below this fraction of the range the far term is < 2e-3 */
#define INTENSITY_NOISE     4.0
#define SQRT6               2.449489742783178
#define SQRT12              3.4641016151377544
#define PPS_DELAY_NS        (100 * RL__NS_PER_MS) /* $GPRMC arrives this long after its PPS */
#define PPS_SYNCING         1
#define PPS_LOCKED          2
#define US_PER_HOUR         3600000000ull
#define RMC_MAX             96
#define RNG_VLP             0x564c5031ull
#define RNG_P40             0x50343031ull
#define MAX_DYNAMIC         RL__MAX_VEHICLES

static double wrap360(double a)
{
    a = fmod(a, 360.0);
    return a < 0 ? a + 360.0 : a;
}

static uint16_t to_cdeg(double deg)
{
    long c = lround(wrap360(deg) * 100.0);
    return (uint16_t)(c % 36000);
}

static void set_laser(struct rl__laser *l, double elev_rad, double h, double max_range)
{
    l->tan_e = tan(elev_rad);
    l->inv_cos = 1.0 / cos(elev_rad);
    l->t_ground = l->tan_e < 0 ? h / -l->tan_e : INFINITY;
    l->max_t = max_range * cos(elev_rad);
}

/* Reads the Pandar40P's channel angles back from the decoder. */
static int probe_p40(struct rl__lidar_p40 *p)
{
    struct rl_hesai_frame fr;
    memset(&fr, 0, sizeof(fr));
    fr.model = RL_HESAI_PANDAR40P;
    fr.motor_rpm = P40_RPM;
    fr.year = PROBE_YEAR;
    fr.month = fr.day = 1;
    for (unsigned c = 0; c < RL_HESAI_P40_CHANNELS; c++)
        fr.distance_m[0][c] = (float)PROBE_RANGE_M;
    uint8_t pkt[RL_HESAI_P40_SEQ_LEN];
    size_t len;
    int rc = rl_hesai_encode_packet(&fr, pkt, sizeof(pkt), &len);
    if (rc < 0)
        return rc;
    struct rl_lidar_point pts[RL_HESAI_MAX_POINTS];
    size_t n;
    rc = rl_hesai_decode_points(NULL, pkt, len, pts, RL_HESAI_MAX_POINTS, &n);
    if (rc < 0)
        return rc;
    if (n != RL_HESAI_P40_CHANNELS)
        return RL_ECORRUPT;
    p->n_columns = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned ch = pts[i].ring;
        if (ch >= RL_HESAI_P40_CHANNELS)
            return RL_ECORRUPT;
        double r = sqrt((double)pts[i].x * pts[i].x + (double)pts[i].y * pts[i].y +
                        (double)pts[i].z * pts[i].z);
        set_laser(&p->laser[ch], asin(pts[i].z / r), P40_MOUNT_H_M, P40_MAX_RANGE_M);
        double az = wrap360(pts[i].azimuth_deg);
        if (az > 180.0)
            az -= 360.0;
        az = round(az * 1000.0) / 1000.0;
        int c = 0;
        while (c < p->n_columns && fabs(p->column_az[c] - az) > 1e-6)
            c++;
        if (c == p->n_columns) {
            if (p->n_columns == RL__P40_MAX_COLUMNS)
                return RL_ECORRUPT;
            p->column_az[p->n_columns] = az;
            p->column_sin[p->n_columns] = sin(az * RL__DEG);
            p->column_cos[p->n_columns] = cos(az * RL__DEG);
            p->n_columns++;
        }
        p->column_ch[c][p->column_n[c]++] = (uint8_t)ch;
    }
    /* The slopes each column's ray serves, for the blocking test. */
    for (int c = 0; c < p->n_columns; c++) {
        p->column_tan_min[c] = INFINITY;
        p->column_tan_max[c] = -INFINITY;
        for (int k = 0; k < p->column_n[c]; k++) {
            double te = p->laser[p->column_ch[c][k]].tan_e;
            p->column_tan_min[c] = fmin(p->column_tan_min[c], te);
            p->column_tan_max[c] = fmax(p->column_tan_max[c], te);
        }
    }
    return 0;
}

int rl__lidar_init(struct rl_sim *sim)
{
    struct rl__lidar_vlp *v = &sim->vlp;
    struct rl__lidar_p40 *p = &sim->p40;
    memset(v, 0, sizeof(*v));
    memset(p, 0, sizeof(*p));
    rl__rng_seed(&v->rng, sim->opts.seed, RNG_VLP);
    rl__rng_seed(&p->rng, sim->opts.seed, RNG_P40);
    v->az0_deg = 360.0 * rl__rng_uniform(&v->rng);
    p->az0_deg = 360.0 * rl__rng_uniform(&p->rng);
    for (unsigned l = 0; l < VLP_LASERS; l++)
        set_laser(&v->laser[l], rl_velodyne_elevation_deg(RL_VELODYNE_VLP16, l) * RL__DEG,
                  VLP_MOUNT_H_M, VLP_MAX_RANGE_M);
    v->frame.model = RL_VELODYNE_VLP16;
    v->frame.return_mode = RL_LIDAR_RETURN_STRONGEST;
    p->frame.model = RL_HESAI_PANDAR40P;
    p->frame.return_mode = RL_LIDAR_RETURN_STRONGEST;
    p->frame.motor_rpm = P40_RPM;
    p->frame.udp_seq_on = true;
    int rc = probe_p40(p);
    if (rc < 0)
        return rl__sim_fail(sim, rc, "reading the Pandar40P angles back from its decoder failed");
    return 0;
}

/* ---- shared ---- */

struct pose {
    double x, y, z, heading_deg;
};

/* The sensor's pose at t_ns: mounted fwd metres ahead of the ego's centre. */
static int sensor_pose(struct rl_sim *sim, uint64_t t_ns, double fwd, double h, struct pose *out)
{
    struct rl_sim_vehicle ego;
    int rc = rl__sim_vehicle(sim, 0, t_ns, &ego);
    if (rc < 0)
        return rc;
    double hd = ego.heading_deg * RL__DEG;
    out->x = ego.e_m + fwd * sin(hd);
    out->y = ego.n_m + fwd * cos(hd);
    out->z = h;
    out->heading_deg = ego.heading_deg;
    return 0;
}

int rl_sim_lidar_pose(struct rl_sim *sim, int source, uint64_t time_ns,
                      struct rl_sim_sensor_pose *out)
{
    struct pose ps;
    int rc;
    if (source == RL_SIM_SRC_VLP16)
        rc = sensor_pose(sim, time_ns, VLP_MOUNT_FWD_M, VLP_MOUNT_H_M, &ps);
    else if (source == RL_SIM_SRC_PANDAR40P)
        rc = sensor_pose(sim, time_ns, P40_MOUNT_FWD_M, P40_MOUNT_H_M, &ps);
    else
        return -EINVAL;
    if (rc < 0)
        return rc;
    *out = (struct rl_sim_sensor_pose){ps.x, ps.y, ps.z, ps.heading_deg};
    return 0;
}

/* One laser's measurement from the ray's hits: range in metres (0: none).
 * One 64-bit draw gives the drop-out (16 bits), the range noise (two 16-bit
 * uniforms: triangular, unit variance) and the intensity noise (16 bits,
 * uniform, unit variance). */
static float measure(const struct rl__hits *h, struct rl__rng *g, double oz,
                     const struct rl__laser *l, double inv_max_range, double noise,
                     uint8_t *intensity)
{
    uint8_t refl = 0;
    double t = rl__hits_resolve(h, oz, l->tan_e, l->t_ground, l->max_t, &refl);
    if (t < 0)
        return 0;
    double r = t * l->inv_cos;
    double far = r * inv_max_range;
    uint64_t x = rl__rng_next(g);
    uint32_t drop = (uint32_t)(x & 0xFFFFu);
    if (drop < DROP_BASE_U16 ||
        (far > DROP_FAR_FROM && drop < (DROP_BASE + DROP_FAR * far * far * far * far) * 65536.0))
        return 0;
    int64_t tri = (int64_t)((x >> 16) & 0xFFFFu) + (int64_t)((x >> 32) & 0xFFFFu) - 65535;
    r += noise * SQRT6 / 65536.0 * (double)tri;
    if (r <= 0 || r * inv_max_range >= 1.0)
        return 0;
    double in = refl + INTENSITY_NOISE * SQRT12 / 65536.0 * (double)((int64_t)(x >> 48) - 32768);
    *intensity = (uint8_t)(in < 0 ? 0 : in > 255 ? 255 : in + 0.5);
    return (float)r;
}

static void make_ray(const struct pose *ps, double az_sensor_deg, double max_t, double tan_min,
                     double tan_max, bool cones, struct rl__ray *ray)
{
    double a = (ps->heading_deg + az_sensor_deg) * RL__DEG;
    *ray = (struct rl__ray){ps->x, ps->y, ps->z, sin(a), cos(a), max_t, tan_min, tan_max, cones};
}

/* ---- VLP-16 ---- */

uint64_t rl__vlp_next_ns(const struct rl_sim *sim)
{
    return sim->vlp.packet * VLP_PACKET_NS;
}

uint64_t rl__vlp_position_next_ns(const struct rl_sim *sim)
{
    /* In the middle of the 14th data packet's interval. */
    return ((sim->vlp.position + 1) * VLP_POSITION_EVERY - 1) * VLP_PACKET_NS + VLP_PACKET_NS / 2;
}

int rl__vlp_emit(struct rl_sim *sim, struct rl_sim_frame *f)
{
    struct rl__lidar_vlp *v = &sim->vlp;
    uint64_t t = v->packet * VLP_PACKET_NS;
    struct pose ps;
    int rc = sensor_pose(sim, t, VLP_MOUNT_FWD_M, VLP_MOUNT_H_M, &ps);
    if (rc < 0)
        return rc;
    struct rl__obj dyn[MAX_DYNAMIC];
    size_t nd = rl__scene_dynamic(sim, t, ps.x, ps.y, VLP_MAX_RANGE_M, dyn, MAX_DYNAMIC);
    bool cones = rl__scene_cones_on(sim, t);
    uint64_t utc = sim->start_ns + t;
    struct rl_velodyne_frame *fr = &v->frame;
    fr->timestamp_us = (uint32_t)((utc / RL__NS_PER_US) % US_PER_HOUR);
    struct rl__hits hits;
    for (unsigned b = 0; b < RL_VELODYNE_BLOCKS; b++) {
        uint64_t tb = t + b * VLP_BLOCK_NS;
        fr->azimuth_cdeg[b] = to_cdeg(v->az0_deg + DEG_PER_NS * (double)tb);
        for (unsigned q = 0; q < 2; q++) {
            double az =
                v->az0_deg + DEG_PER_NS * ((double)(tb + q * VLP_SEQUENCE_NS) + VLP_MID_FIRING_NS);
            struct rl__ray ray;
            make_ray(&ps, az, VLP_MAX_RANGE_M, v->laser[0].tan_e, v->laser[VLP_LASERS - 1].tan_e,
                     cones, &ray);
            rl__scene_cast(&sim->scene, &ray, dyn, nd, &hits);
            for (unsigned l = 0; l < VLP_LASERS; l++) {
                unsigned ch = q * VLP_LASERS + l;
                uint8_t in = 0;
                fr->distance_m[b][ch] = measure(&hits, &v->rng, ps.z, &v->laser[l],
                                                1.0 / VLP_MAX_RANGE_M, VLP_NOISE_M, &in);
                fr->intensity[b][ch] = in;
            }
        }
    }
    rc = rl_velodyne_encode_packet(fr, sim->buf, sizeof(sim->buf));
    if (rc < 0)
        return rl__sim_fail(sim, rc, "VLP-16 packet %llu: encoder refused it",
                            (unsigned long long)v->packet);
    f->source = RL_SIM_SRC_VLP16;
    f->time_ns = t;
    f->publish_time_ns = utc;
    f->data = sim->buf;
    f->len = RL_VELODYNE_DATA_LEN;
    v->packet++;
    return 1;
}

int rl__vlp_position_emit(struct rl_sim *sim, struct rl_sim_frame *f)
{
    struct rl__lidar_vlp *v = &sim->vlp;
    uint64_t t = rl__vlp_position_next_ns(sim);
    uint64_t utc = sim->start_ns + t;
    char rmc[RMC_MAX];
    const char *nmea = NULL;
    uint8_t pps = PPS_SYNCING;
    /* The last $GPRMC received: that of the last PPS at least PPS_DELAY_NS ago. */
    if (utc >= PPS_DELAY_NS) {
        uint64_t s = (utc - PPS_DELAY_NS) / RL__NS_PER_S;
        if (s * RL__NS_PER_S >= sim->start_ns) {
            int n = rl__gnss_pps_rmc(sim, s, rmc, sizeof(rmc));
            if (n < 0)
                return n;
            while (n > 0 && (rmc[n - 1] == '\r' || rmc[n - 1] == '\n'))
                rmc[--n] = '\0';
            nmea = rmc;
            pps = PPS_LOCKED;
        }
    }
    uint32_t ts = (uint32_t)((utc / RL__NS_PER_US) % US_PER_HOUR);
    int rc = rl_velodyne_encode_position(ts, pps, nmea, sim->buf, sizeof(sim->buf));
    if (rc < 0)
        return rl__sim_fail(sim, rc, "VLP-16 position packet %llu: encoder refused it",
                            (unsigned long long)v->position);
    f->source = RL_SIM_SRC_VLP16_POSITION;
    f->time_ns = t;
    f->publish_time_ns = utc;
    f->data = sim->buf;
    f->len = RL_VELODYNE_POSITION_LEN;
    v->position++;
    return 1;
}

/* ---- Pandar40P ---- */

static uint64_t p40_t0(uint64_t packet)
{
    return P40_FIRST_T0_NS + packet * P40_PACKET_NS;
}

uint64_t rl__p40_next_ns(const struct rl_sim *sim)
{
    return p40_t0(sim->p40.packet);
}

int rl__p40_emit(struct rl_sim *sim, struct rl_sim_frame *f)
{
    struct rl__lidar_p40 *p = &sim->p40;
    uint64_t t0 = p40_t0(p->packet);
    struct pose ps;
    int rc = sensor_pose(sim, t0, P40_MOUNT_FWD_M, P40_MOUNT_H_M, &ps);
    if (rc < 0)
        return rc;
    struct rl__obj dyn[MAX_DYNAMIC];
    size_t nd = rl__scene_dynamic(sim, t0, ps.x, ps.y, P40_MAX_RANGE_M, dyn, MAX_DYNAMIC);
    bool cones = rl__scene_cones_on(sim, t0);
    uint64_t utc = sim->start_ns + t0;
    struct rl__utc u;
    rl__utc_split(utc, &u);
    struct rl_hesai_frame *fr = &p->frame;
    fr->year = u.year;
    fr->month = u.month;
    fr->day = u.day;
    fr->hour = u.hour;
    fr->minute = u.minute;
    fr->second = u.second;
    fr->timestamp_us = (uint32_t)((utc % RL__NS_PER_S) / RL__NS_PER_US);
    fr->udp_seq = p->udp_seq;
    struct rl__hits hits;
    for (unsigned b = 0; b < RL_HESAI_P40_BLOCKS; b++) {
        uint64_t end = t0 - P40_T0_AFTER_END_NS - (RL_HESAI_P40_BLOCKS - 1 - b) * P40_BLOCK_NS;
        uint16_t cdeg = to_cdeg(p->az0_deg + DEG_PER_NS * (double)(end - P40_BLOCK_NS));
        fr->azimuth_cdeg[b] = cdeg;
        /* One sin/cos per block; the columns are fixed rotations of it. */
        double a = (ps.heading_deg + cdeg / 100.0) * RL__DEG, sa = sin(a), ca = cos(a);
        for (int col = 0; col < p->n_columns; col++) {
            struct rl__ray ray = {ps.x,
                                  ps.y,
                                  ps.z,
                                  sa * p->column_cos[col] + ca * p->column_sin[col],
                                  ca * p->column_cos[col] - sa * p->column_sin[col],
                                  P40_MAX_RANGE_M,
                                  p->column_tan_min[col],
                                  p->column_tan_max[col],
                                  cones};
            rl__scene_cast(&sim->scene, &ray, dyn, nd, &hits);
            for (int k = 0; k < p->column_n[col]; k++) {
                unsigned c = p->column_ch[col][k];
                uint8_t in = 0;
                fr->distance_m[b][c] = measure(&hits, &p->rng, ps.z, &p->laser[c],
                                               1.0 / P40_MAX_RANGE_M, P40_NOISE_M, &in);
                fr->intensity[b][c] = in;
            }
        }
    }
    size_t len;
    rc = rl_hesai_encode_packet(fr, sim->buf, sizeof(sim->buf), &len);
    if (rc < 0)
        return rl__sim_fail(sim, rc, "Pandar40P packet %llu: encoder refused it",
                            (unsigned long long)p->packet);
    f->source = RL_SIM_SRC_PANDAR40P;
    f->time_ns = t0;
    f->publish_time_ns = utc;
    f->data = sim->buf;
    f->len = len;
    p->packet++;
    p->udp_seq++;
    return 1;
}
