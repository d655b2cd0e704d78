/* BasicSafetyMessage of T/CSAE 53-2017 (modules BSM, VehBrake, VehStatus,
 * VehSafetyExt, VehEmgExt, DefTime's DDateTime): the vehicle's id, time,
 * position, motion, brakes, size and class, and its safety (events, path
 * history and prediction, lights) and emergency extensions, coded by the
 * UPER walker (uper.h). */
#include "v2x_csae_internal.h"

static const char *const brake_pedal_ids[] = {"unavailable", "off", "on"};
static const char *const control_ids[] = {"unavailable", "off", "on", "engaged"};
static const char *const boost_ids[] = {"unavailable", "off", "on"};
static const char *const aux_brake_ids[] = {"unavailable", "off", "on", "reserved"};
static const char *const response_type_ids[] = {
    "notInUseOrNotEquipped", "emergency", "nonEmergency", "pursuit", "stationary", "slowMoving",
    "stopAndGoMovement",
};
static const char *const siren_ids[] = {"unavailable", "notInUse", "inUse", "reserved"};
static const char *const lightbar_ids[] = {
    "unavailable",      "notInUse",          "inUse",     "yellowCautionLights", "schooldBusLights",
    "arrowSignsActive", "slowMovingVehicle", "freqStops",
};

static void brakes(struct rl_per *c, struct rl_v2x_brakes *v)
{
    bool opt[7] = {v->has_brakePadel, v->has_wheelBrakes, v->has_traction, v->has_abs,
                   v->has_scs,        v->has_brakeBoost,  v->has_auxBrakes};
    if (rl__per_seq_begin(c, "brakes", false, opt, 7)) {
        if (opt[0])
            rl__per_enum(c, "brakePadel", &v->brakePadel, brake_pedal_ids, 3, false);
        if (opt[1])
            rl__per_bits(c, "wheelBrakes", &v->wheelBrakes, 5);
        if (opt[2])
            rl__per_enum(c, "traction", &v->traction, control_ids, 4, false);
        if (opt[3])
            rl__per_enum(c, "abs", &v->abs, control_ids, 4, false);
        if (opt[4])
            rl__per_enum(c, "scs", &v->scs, control_ids, 4, false);
        if (opt[5])
            rl__per_enum(c, "brakeBoost", &v->brakeBoost, boost_ids, 3, false);
        if (opt[6])
            rl__per_enum(c, "auxBrakes", &v->auxBrakes, aux_brake_ids, 4, false);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_brakePadel = opt[0];
        v->has_wheelBrakes = opt[1];
        v->has_traction = opt[2];
        v->has_abs = opt[3];
        v->has_scs = opt[4];
        v->has_brakeBoost = opt[5];
        v->has_auxBrakes = opt[6];
    }
}

static void ddatetime(struct rl_per *c, struct rl_v2x_ddatetime *v)
{
    bool opt[7] = {v->has_year,   v->has_month,  v->has_day,   v->has_hour,
                   v->has_minute, v->has_second, v->has_offset};
    if (rl__per_seq_begin(c, "utcTime", false, opt, 7)) {
        if (opt[0])
            rl__per_int(c, "year", &v->year, 0, 4095);
        if (opt[1])
            rl__per_int(c, "month", &v->month, 0, 12);
        if (opt[2])
            rl__per_int(c, "day", &v->day, 0, 31);
        if (opt[3])
            rl__per_int(c, "hour", &v->hour, 0, 24);
        if (opt[4])
            rl__per_int(c, "minute", &v->minute, 0, 60);
        if (opt[5])
            rl__per_int(c, "second", &v->second, 0, 65535);
        if (opt[6])
            rl__per_int(c, "offset", &v->offset, -720, 721);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_year = opt[0];
        v->has_month = opt[1];
        v->has_day = opt[2];
        v->has_hour = opt[3];
        v->has_minute = opt[4];
        v->has_second = opt[5];
        v->has_offset = opt[6];
    }
}

static void full_pos(struct rl_per *c, struct rl_v2x_full_pos *v)
{
    bool opt[8] = {v->has_utcTime,        v->has_heading,     v->has_transmission,
                   v->has_speed,          v->has_posAccuracy, v->has_posConficence,
                   v->has_timeConfidence, v->has_motionCfd};
    if (rl__per_seq_begin(c, "initialPosition", true, opt, 8)) {
        if (opt[0])
            ddatetime(c, &v->utcTime);
        rl__v2x_position3d(c, "pos", &v->pos);
        if (opt[1])
            rl__per_int(c, "heading", &v->heading, 0, RL__HEADING_UB);
        if (opt[2])
            rl__per_enum(c, "transmission", &v->transmission, rl__v2x_transmission_ids, 8, false);
        if (opt[3])
            rl__per_int(c, "speed", &v->speed, 0, RL__SPEED_UB);
        if (opt[4])
            rl__v2x_pos_accuracy(c, "posAccuracy", &v->posAccuracy);
        if (opt[5])
            rl__v2x_pos_confidence(c, "posConficence", &v->posConficence);
        if (opt[6])
            rl__per_enum(c, "timeConfidence", &v->timeConfidence, rl__v2x_time_confidence_ids, 40,
                         false);
        if (opt[7])
            rl__v2x_motion_cfd(c, "motionCfd", &v->motionCfd);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_utcTime = opt[0];
        v->has_heading = opt[1];
        v->has_transmission = opt[2];
        v->has_speed = opt[3];
        v->has_posAccuracy = opt[4];
        v->has_posConficence = opt[5];
        v->has_timeConfidence = opt[6];
        v->has_motionCfd = opt[7];
    }
}

static void path_point(struct rl_per *c, struct rl_v2x_path_point *v)
{
    bool opt[3] = {v->has_speed, v->has_posAccuracy, v->has_heading};
    if (rl__per_seq_begin(c, NULL, true, opt, 3)) {
        rl__v2x_offset_llv(c, "llvOffset", &v->llvOffset);
        rl__per_int(c, "timeOffset", &v->timeOffset, 1, 65535);
        if (opt[0])
            rl__per_int(c, "speed", &v->speed, 0, RL__SPEED_UB);
        if (opt[1])
            rl__v2x_pos_confidence(c, "posAccuracy", &v->posAccuracy);
        if (opt[2])
            rl__per_int(c, "heading", &v->heading, 0, 240);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_speed = opt[0];
        v->has_posAccuracy = opt[1];
        v->has_heading = opt[2];
    }
}

static void path_history(struct rl_per *c, struct rl_v2x_path_history *v)
{
    bool opt[2] = {v->has_initialPosition, v->has_currGNSSstatus};
    if (rl__per_seq_begin(c, "pathHistory", true, opt, 2)) {
        if (opt[0])
            full_pos(c, &v->initialPosition);
        if (opt[1])
            rl__per_bits(c, "currGNSSstatus", &v->currGNSSstatus, 8);
        if (rl__per_list_begin(c, "crumbData", &v->n_crumbData, 1, 23, RL_V2X_BSM_MAX_CRUMBS))
            for (int i = 0; i < v->n_crumbData && !rl__per_err(c); i++) {
                rl__per_item_begin(c, i);
                path_point(c, &v->crumbData[i]);
                rl__per_item_end(c);
            }
        rl__per_list_end(c);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_initialPosition = opt[0];
        v->has_currGNSSstatus = opt[1];
    }
}

static void safety_ext(struct rl_per *c, struct rl_v2x_safety_ext *v)
{
    bool opt[4] = {v->has_events, v->has_pathHistory, v->has_pathPrediction, v->has_lights};
    if (rl__per_seq_begin(c, "safetyExt", true, opt, 4)) {
        if (opt[0])
            rl__per_bits_ext(c, "events", &v->events.v, &v->events.len, 13);
        if (opt[1])
            path_history(c, &v->pathHistory);
        if (opt[2]) {
            if (rl__per_seq_begin(c, "pathPrediction", true, NULL, 0)) {
                rl__per_int(c, "radiusOfCurve", &v->radiusOfCurve, -32767, 32767);
                rl__per_int(c, "confidence", &v->confidence, 0, 200);
            }
            rl__per_seq_end(c);
        }
        if (opt[3])
            rl__per_bits_ext(c, "lights", &v->lights.v, &v->lights.len, 9);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_events = opt[0];
        v->has_pathHistory = opt[1];
        v->has_pathPrediction = opt[2];
        v->has_lights = opt[3];
    }
}

static void emergency_ext(struct rl_per *c, struct rl_v2x_emergency_ext *v)
{
    bool opt[3] = {v->has_responseType, v->has_sirenUse, v->has_lightsUse};
    if (rl__per_seq_begin(c, "emergencyExt", true, opt, 3)) {
        if (opt[0])
            rl__per_enum(c, "responseType", &v->responseType, response_type_ids,
                         RL__NIDS(response_type_ids), true);
        if (opt[1])
            rl__per_enum(c, "sirenUse", &v->sirenUse, siren_ids, 4, false);
        if (opt[2])
            rl__per_enum(c, "lightsUse", &v->lightsUse, lightbar_ids, 8, false);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_responseType = opt[0];
        v->has_sirenUse = opt[1];
        v->has_lightsUse = opt[2];
    }
}

void rl__v2x_bsm(struct rl_per *c, const char *name, struct rl_v2x_bsm *v)
{
    bool opt[7] = {v->has_timeConfidence, v->has_posAccuracy, v->has_posConfidence, v->has_angle,
                   v->has_motionCfd,      v->has_safetyExt,   v->has_emergencyExt};
    if (rl__per_seq_begin(c, name, true, opt, 7)) {
        rl__per_int(c, "msgCnt", &v->msgCnt, 0, RL__MSGCOUNT_UB);
        rl__per_octets(c, "id", v->id, NULL, 8, 8);
        rl__per_int(c, "secMark", &v->secMark, 0, RL__DSECOND_UB);
        if (opt[0])
            rl__per_enum(c, "timeConfidence", &v->timeConfidence, rl__v2x_time_confidence_ids, 40,
                         false);
        rl__v2x_position3d(c, "pos", &v->pos);
        if (opt[1])
            rl__v2x_pos_accuracy(c, "posAccuracy", &v->posAccuracy);
        if (opt[2])
            rl__v2x_pos_confidence(c, "posConfidence", &v->posConfidence);
        rl__per_enum(c, "transmission", &v->transmission, rl__v2x_transmission_ids, 8, false);
        rl__per_int(c, "speed", &v->speed, 0, RL__SPEED_UB);
        rl__per_int(c, "heading", &v->heading, 0, RL__HEADING_UB);
        if (opt[3])
            rl__per_int(c, "angle", &v->angle, -126, 127);
        if (opt[4])
            rl__v2x_motion_cfd(c, "motionCfd", &v->motionCfd);
        rl__v2x_accel4(c, "accelSet", &v->accelSet);
        brakes(c, &v->brakes);
        rl__v2x_vehicle_size(c, "size", &v->size);
        rl__v2x_vehicle_class(c, "vehicleClass", &v->vehicleClass);
        if (opt[5])
            safety_ext(c, &v->safetyExt);
        if (opt[6])
            emergency_ext(c, &v->emergencyExt);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_timeConfidence = opt[0];
        v->has_posAccuracy = opt[1];
        v->has_posConfidence = opt[2];
        v->has_angle = opt[3];
        v->has_motionCfd = opt[4];
        v->has_safetyExt = opt[5];
        v->has_emergencyExt = opt[6];
    }
}
