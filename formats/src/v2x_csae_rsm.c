/* RoadsideSafetyMessage of T/CSAE 53-2017 (module RSM): the traffic
 * participants a roadside unit detects, with type, source, position offset,
 * motion and size, coded by the UPER walker (uper.h). */
#include "v2x_csae_internal.h"

static const char *const participant_type_ids[] = {
    "unknown", "motor", "non-motor", "pedestrian", "rsu",
};

static const char *const source_type_ids[] = {
    "unknown", "selfinfo", "v2x", "video", "microwaveRadar", "loop", "lidar", "integrated",
};

static void participant(struct rl_per *c, struct rl_v2x_participant *v)
{
    bool opt[6] = {v->has_id,        v->has_transmission, v->has_angle,
                   v->has_motionCfd, v->has_accelSet,     v->has_vehicleClass};
    if (rl__per_seq_begin(c, NULL, true, opt, 6)) {
        rl__per_enum(c, "ptcType", &v->ptcType, participant_type_ids,
                     RL__NIDS(participant_type_ids), true);
        rl__per_int(c, "ptcId", &v->ptcId, 0, 65535);
        rl__per_enum(c, "source", &v->source, source_type_ids, RL__NIDS(source_type_ids), true);
        if (opt[0])
            rl__per_octets(c, "id", v->id, NULL, 8, 8);
        rl__per_int(c, "secMark", &v->secMark, 0, RL__DSECOND_UB);
        rl__v2x_offset_llv(c, "pos", &v->pos);
        rl__v2x_pos_confidence(c, "posConfidence", &v->posConfidence);
        if (opt[1])
            rl__per_enum(c, "transmission", &v->transmission, rl__v2x_transmission_ids, 8, false);
        rl__per_int(c, "speed", &v->speed, 0, RL__SPEED_UB);
        rl__per_int(c, "heading", &v->heading, 0, RL__HEADING_UB);
        if (opt[2])
            rl__per_int(c, "angle", &v->angle, -126, 127);
        if (opt[3])
            rl__v2x_motion_cfd(c, "motionCfd", &v->motionCfd);
        if (opt[4])
            rl__v2x_accel4(c, "accelSet", &v->accelSet);
        rl__v2x_vehicle_size(c, "size", &v->size);
        if (opt[5])
            rl__v2x_vehicle_class(c, "vehicleClass", &v->vehicleClass);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_id = opt[0];
        v->has_transmission = opt[1];
        v->has_angle = opt[2];
        v->has_motionCfd = opt[3];
        v->has_accelSet = opt[4];
        v->has_vehicleClass = opt[5];
    }
}

void rl__v2x_rsm(struct rl_per *c, const char *name, struct rl_v2x_rsm *v)
{
    if (rl__per_seq_begin(c, name, true, NULL, 0)) {
        rl__per_int(c, "msgCnt", &v->msgCnt, 0, RL__MSGCOUNT_UB);
        rl__per_octets(c, "id", v->id, NULL, 8, 8);
        rl__v2x_position3d(c, "refPos", &v->refPos);
        if (rl__per_list_begin(c, "participants", &v->n_participants, 1, 16,
                               RL_V2X_RSM_MAX_PARTICIPANTS))
            for (int i = 0; i < v->n_participants && !rl__per_err(c); i++) {
                rl__per_item_begin(c, i);
                participant(c, &v->participants[i]);
                rl__per_item_end(c);
            }
        rl__per_list_end(c);
    }
    rl__per_seq_end(c);
}
