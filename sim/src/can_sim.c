/* The ego's chassis CAN bus (sim_internal.h), sent as SocketCAN frames
 * over UDP: each datagram is one 16-byte frame in the LINKTYPE_CAN_SOCKETCAN
 * layout of can.h (CAN id and flags big-endian, length, padding, 8 data
 * bytes), the same bytes a recorder stores for a CAN interface.
 *
 * The messages are those of the embedded DBC (sim/data/roadlog_chassis.dbc),
 * parsed strictly when the simulator starts and used to encode every signal
 * (rl_dbc_encode_signal), so a log decodes with the DBC attached to it:
 *
 *   0x0A0 ESP_VehicleSpeed   every 10 ms   speed, direction, accel, yaw rate
 *   0x0C0 EPS_SteeringAngle  every 20 ms   steering wheel angle and rate
 *   0x0D0 IBC_Brake          every 50 ms   pedal, pressure, position
 *   0x0E0 TCU_Gear           every 100 ms  lever position, gear engaged
 *
 * Values come from the ego's state at the frame's time: the speed the GNSS
 * measures, the yaw rate and steering of the path's curvature, the brake of
 * its deceleration. Byte 6 holds a 4-bit alive counter, byte 7 the sum of
 * bytes 0..6 and the id's low byte (mod 256). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"

#define MAX_SIGNALS       8
#define DATA_LEN          8
#define CHECKSUM_BYTES    7
#define COUNTER_MOD       16
#define STOPPED_MPS       0.05
#define BRAKE_FROM_MPS2   0.4 /* deceleration beyond engine drag needs the brake */
#define BAR_PER_MPS2      14.0
#define HOLD_BAR          18.0 /* held at standstill */
#define PEDAL_PCT_PER_BAR 2.0
#define LEVER_D           3
#define MPS_TO_KMH        3.6

struct can_def {
    uint32_t id;
    uint64_t period_ns, offset_ns;
    const char *signals[MAX_SIGNALS]; /* in the order values are computed */
};

static const struct can_def defs[RL__CAN_N_MESSAGES] = {
    {0x0A0,
     10 * RL__NS_PER_MS,
     1 * RL__NS_PER_MS,
     {"VehicleSpeed", "VehicleSpeedValid", "DrivingDirection", "LongAccel", "YawRate", NULL}},
    {0x0C0,
     20 * RL__NS_PER_MS,
     3 * RL__NS_PER_MS,
     {"SteeringWheelAngle", "SteeringWheelSpeed", "SteeringAngleValid", NULL}},
    {0x0D0,
     50 * RL__NS_PER_MS,
     5 * RL__NS_PER_MS,
     {"BrakePedalPressed", "BrakePressure", "BrakePedalPosition", NULL}},
    {0x0E0, 100 * RL__NS_PER_MS, 7 * RL__NS_PER_MS, {"GearLeverPosition", "CurrentGear", NULL}},
};

/* Gear engaged by speed (m/s upper bounds of gears 1..5). */
static const double gear_up_mps[] = {4.0, 7.0, 10.5, 14.0, 18.0};

static const struct rl_dbc_signal *find_signal(const struct rl_dbc_message *m, const char *name,
                                               bool suffix)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < m->n_signals; i++) {
        const char *s = m->signals[i].name;
        size_t sl = strlen(s);
        if (suffix ? sl >= nl && strcmp(s + sl - nl, name) == 0 : strcmp(s, name) == 0)
            return &m->signals[i];
    }
    return NULL;
}

int rl__can_init(struct rl_sim *sim, char *err, size_t err_len)
{
    struct rl__can *c = &sim->can;
    memset(c, 0, sizeof(*c));
    int rc =
        rl_dbc_parse_ex(rl__sim_dbc_text, rl__sim_dbc_len, RL_DBC_STRICT, &c->dbc, err, err_len);
    if (rc < 0)
        return rc == -ENOMEM ? rc : RL_ECORRUPT;
    for (int i = 0; i < RL__CAN_N_MESSAGES; i++) {
        c->msg[i] = rl_dbc_find(c->dbc, defs[i].id);
        bool ok = c->msg[i] && find_signal(c->msg[i], "_AliveCounter", true) &&
                  find_signal(c->msg[i], "_Checksum", true);
        for (int k = 0; ok && defs[i].signals[k]; k++)
            ok = find_signal(c->msg[i], defs[i].signals[k], false) != NULL;
        if (!ok) {
            if (err && err_len)
                snprintf(err, err_len, "embedded DBC lacks message 0x%03X or its signals",
                         (unsigned)defs[i].id);
            rl__can_release(sim);
            return RL_ECORRUPT;
        }
        c->next_ns[i] = defs[i].offset_ns;
    }
    return 0;
}

void rl__can_release(struct rl_sim *sim)
{
    rl_dbc_free(sim->can.dbc);
    sim->can.dbc = NULL;
}

static int next_message(const struct rl__can *c)
{
    int best = 0;
    for (int i = 1; i < RL__CAN_N_MESSAGES; i++)
        if (c->next_ns[i] < c->next_ns[best])
            best = i;
    return best;
}

uint64_t rl__can_next_ns(const struct rl_sim *sim)
{
    return sim->can.next_ns[next_message(&sim->can)];
}

/* Encodes a physical value, clamped to the signal's range. */
static int put(const struct rl_dbc_message *m, const char *name, double value, uint8_t *data)
{
    const struct rl_dbc_signal *s = find_signal(m, name, false);
    if (!s)
        return RL_ENOTFOUND;
    if (s->max > s->min)
        value = value < s->min ? s->min : value > s->max ? s->max : value;
    return rl_dbc_encode_signal(s, value, data, DATA_LEN);
}

static int values_of(struct rl_sim *sim, int msg, uint64_t t, double *v)
{
    struct rl_sim_vehicle ego;
    int rc = rl__sim_vehicle(sim, 0, t, &ego);
    if (rc < 0)
        return rc;
    bool stopped = ego.speed_mps < STOPPED_MPS;
    switch (msg) {
    case RL__CAN_SPEED:
        v[0] = ego.speed_mps * MPS_TO_KMH;
        v[1] = 1;
        v[2] = stopped ? 0 : 1;
        v[3] = ego.accel_mps2;
        v[4] = ego.yaw_rate_dps;
        break;
    case RL__CAN_STEER: {
        double rate = 0;
        uint64_t dt = defs[RL__CAN_STEER].period_ns;
        if (t >= dt) {
            struct rl_sim_vehicle before;
            rc = rl__sim_vehicle(sim, 0, t - dt, &before);
            if (rc < 0)
                return rc;
            rate = (ego.steering_wheel_deg - before.steering_wheel_deg) /
                   ((double)dt / (double)RL__NS_PER_S);
        }
        v[0] = ego.steering_wheel_deg;
        v[1] = rate;
        v[2] = 1;
        break;
    }
    case RL__CAN_BRAKE: {
        double bar =
            stopped ? HOLD_BAR : fmax(0.0, -ego.accel_mps2 - BRAKE_FROM_MPS2) * BAR_PER_MPS2;
        v[0] = bar > 0 ? 1 : 0;
        v[1] = bar;
        v[2] = bar * PEDAL_PCT_PER_BAR;
        break;
    }
    default: {
        int gear = 1;
        while (gear < (int)(sizeof(gear_up_mps) / sizeof(gear_up_mps[0])) &&
               ego.speed_mps > gear_up_mps[gear - 1])
            gear++;
        v[0] = LEVER_D;
        v[1] = gear;
        break;
    }
    }
    return 0;
}

int rl__can_emit(struct rl_sim *sim, struct rl_sim_frame *f)
{
    struct rl__can *c = &sim->can;
    int i = next_message(c);
    uint64_t t = c->next_ns[i];
    const struct rl_dbc_message *m = c->msg[i];
    double v[MAX_SIGNALS];
    int rc = values_of(sim, i, t, v);
    if (rc < 0)
        return rc;
    struct rl_can_frame fr;
    memset(&fr, 0, sizeof(fr));
    fr.id = defs[i].id;
    fr.len = DATA_LEN;
    for (int k = 0; rc == 0 && defs[i].signals[k]; k++)
        rc = put(m, defs[i].signals[k], v[k], fr.data);
    if (rc == 0)
        rc = rl_dbc_pack_raw(find_signal(m, "_AliveCounter", true), c->count[i] % COUNTER_MOD,
                             fr.data, DATA_LEN);
    unsigned sum = fr.id & 0xFFu;
    for (int b = 0; b < CHECKSUM_BYTES; b++)
        sum += fr.data[b];
    if (rc == 0)
        rc = rl_dbc_pack_raw(find_signal(m, "_Checksum", true), sum & 0xFFu, fr.data, DATA_LEN);
    if (rc < 0)
        return rl__sim_fail(sim, rc, "CAN 0x%03X: a value does not fit its signal",
                            (unsigned)fr.id);
    int n = rl_socketcan_format(&fr, sim->buf, sizeof(sim->buf));
    if (n < 0)
        return rl__sim_fail(sim, n, "CAN 0x%03X: frame refused", (unsigned)fr.id);
    c->count[i]++;
    c->next_ns[i] = defs[i].offset_ns + c->count[i] * defs[i].period_ns;
    f->source = RL_SIM_SRC_CAN;
    f->time_ns = t;
    f->publish_time_ns = sim->start_ns + t;
    f->data = sim->buf;
    f->len = (size_t)n;
    return 1;
}
