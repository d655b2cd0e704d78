/* MapData of T/CSAE 53-2017 (modules Map, MapNode, MapLink, MapLane,
 * MapPoint, MapSpeedLimit): nodes, their incoming links with speed limits,
 * centre-line points and movements, and the links' lanes with attributes,
 * allowed maneuvers, connections and points, coded by the UPER walker
 * (uper.h). Everything below the node list lives in the pools of struct
 * rl_v2x_map. */
#include "v2x_csae_internal.h"

static const char *const speed_limit_type_ids[] = {
    "unknown",
    "maxSpeedInSchoolZone",
    "maxSpeedInSchoolZoneWhenChildrenArePresent",
    "maxSpeedInConstructionZone",
    "vehicleMinSpeed",
    "vehicleMaxSpeed",
    "vehicleNightMaxSpeed",
    "truckMinSpeed",
    "truckMaxSpeed",
    "truckNightMaxSpeed",
    "vehiclesWithTrailersMinSpeed",
    "vehiclesWithTrailersMaxSpeed",
    "vehiclesWithTrailersNightMaxSpeed",
};

static const char *const lane_type_alts[] = {
    "vehicle", "crosswalk", "bikeLane",       "sidewalk",
    "median",  "striping",  "trackedVehicle", "parking",
};

/* SpeedLimitList ::= SEQUENCE (SIZE(1..9)) OF RegulatorySpeedLimit */
static void speed_limits(struct rl_per *c, struct rl_v2x_map *m, struct rl_v2x_span *sp)
{
    if (rl__per_span_begin(c, "speedLimits", &sp->first, &sp->count, &m->n_speed_limit_pool,
                           RL_V2X_MAP_MAX_SPEED_LIMITS, 1, 9))
        for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
            struct rl_v2x_speed_limit *v = &m->speed_limit_pool[sp->first + i];
            rl__per_item_begin(c, i);
            if (rl__per_seq_begin(c, NULL, false, NULL, 0)) {
                rl__per_enum(c, "type", &v->type, speed_limit_type_ids,
                             RL__NIDS(speed_limit_type_ids), true);
                rl__per_int(c, "speed", &v->speed, 0, RL__SPEED_UB);
            }
            rl__per_seq_end(c);
            rl__per_item_end(c);
        }
    rl__per_list_end(c);
}

/* PointList ::= SEQUENCE (SIZE(2..31)) OF RoadPoint; RoadPoint is an
 * extensible SEQUENCE holding posOffset. */
static void points(struct rl_per *c, struct rl_v2x_map *m, struct rl_v2x_span *sp)
{
    if (rl__per_span_begin(c, "points", &sp->first, &sp->count, &m->n_point_pool,
                           RL_V2X_MAP_MAX_POINTS, 2, 31))
        for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
            rl__per_item_begin(c, i);
            if (rl__per_seq_begin(c, NULL, true, NULL, 0))
                rl__v2x_offset_llv(c, "posOffset", &m->point_pool[sp->first + i]);
            rl__per_seq_end(c);
            rl__per_item_end(c);
        }
    rl__per_list_end(c);
}

static void connection(struct rl_per *c, struct rl_v2x_connection *v)
{
    bool opt[2] = {v->has_connectingLane, v->has_phaseId};
    if (rl__per_seq_begin(c, NULL, false, opt, 2)) {
        rl__v2x_node_ref(c, "remoteIntersection", &v->remoteIntersection);
        if (opt[0]) {
            bool man[1] = {v->has_maneuver};
            if (rl__per_seq_begin(c, "connectingLane", false, man, 1)) {
                rl__per_int(c, "lane", &v->lane, 0, 255);
                if (man[0])
                    rl__per_bits(c, "maneuver", &v->maneuver, 12);
            }
            rl__per_seq_end(c);
            if (rl__per_decoding(c))
                v->has_maneuver = man[0];
        }
        if (opt[1])
            rl__per_int(c, "phaseId", &v->phaseId, 0, 255);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_connectingLane = opt[0];
        v->has_phaseId = opt[1];
    }
}

/* LaneAttributes ::= SEQUENCE { shareWith LaneSharing OPTIONAL,
 * laneType LaneTypeAttributes } */
static void lane_attributes(struct rl_per *c, struct rl_v2x_lane *v)
{
    bool opt[1] = {v->has_shareWith};
    if (rl__per_seq_begin(c, "laneAttributes", false, opt, 1)) {
        if (opt[0])
            rl__per_bits(c, "shareWith", &v->shareWith, 10);
        int32_t k = v->laneType;
        if (rl__per_choice_begin(c, "laneType", &k, 8, true)) {
            if (k == RL_V2X_LANE_VEHICLE) {
                rl__per_bits_ext(c, lane_type_alts[k], &v->laneTypeBits.v, &v->laneTypeBits.len, 8);
            } else {
                uint32_t b = (uint32_t)v->laneTypeBits.v;
                rl__per_bits(c, lane_type_alts[k], &b, 16);
                if (rl__per_decoding(c)) {
                    v->laneTypeBits.v = b;
                    v->laneTypeBits.len = 16;
                }
            }
        }
        rl__per_choice_end(c);
        if (rl__per_decoding(c))
            v->laneType = k;
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_shareWith = opt[0];
}

static void lane(struct rl_per *c, struct rl_v2x_map *m, struct rl_v2x_lane *v)
{
    bool opt[6] = {v->has_laneWidth,        v->has_laneAttributes,    v->has_maneuvers,
                   v->connectsTo.count > 0, v->speedLimits.count > 0, v->points.count > 0};
    if (rl__per_seq_begin(c, NULL, true, opt, 6)) {
        rl__per_int(c, "laneID", &v->laneID, 0, 255);
        if (opt[0])
            rl__per_int(c, "laneWidth", &v->laneWidth, 0, 32767);
        if (opt[1])
            lane_attributes(c, v);
        if (opt[2])
            rl__per_bits(c, "maneuvers", &v->maneuvers, 12);
        if (opt[3]) {
            struct rl_v2x_span *sp = &v->connectsTo;
            if (rl__per_span_begin(c, "connectsTo", &sp->first, &sp->count, &m->n_connection_pool,
                                   RL_V2X_MAP_MAX_CONNECTIONS, 1, 16))
                for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
                    rl__per_item_begin(c, i);
                    connection(c, &m->connection_pool[sp->first + i]);
                    rl__per_item_end(c);
                }
            rl__per_list_end(c);
        }
        if (opt[4])
            speed_limits(c, m, &v->speedLimits);
        if (opt[5])
            points(c, m, &v->points);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_laneWidth = opt[0];
        v->has_laneAttributes = opt[1];
        v->has_maneuvers = opt[2];
    }
}

static void movement(struct rl_per *c, struct rl_v2x_movement *v)
{
    bool opt[1] = {v->has_phaseId};
    if (rl__per_seq_begin(c, NULL, false, opt, 1)) {
        rl__v2x_node_ref(c, "remoteIntersection", &v->remoteIntersection);
        if (opt[0])
            rl__per_int(c, "phaseId", &v->phaseId, 0, 255);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_phaseId = opt[0];
}

static void link(struct rl_per *c, struct rl_v2x_map *m, struct rl_v2x_link *v)
{
    bool opt[5] = {v->has_name, v->speedLimits.count > 0, v->has_linkWidth, v->points.count > 0,
                   v->movements.count > 0};
    if (rl__per_seq_begin(c, NULL, true, opt, 5)) {
        if (opt[0])
            rl__v2x_descriptive_name(c, "name", v->name);
        rl__v2x_node_ref(c, "upstreamNodeId", &v->upstreamNodeId);
        if (opt[1])
            speed_limits(c, m, &v->speedLimits);
        if (opt[2])
            rl__per_int(c, "linkWidth", &v->linkWidth, 0, 32767);
        if (opt[3])
            points(c, m, &v->points);
        if (opt[4]) {
            struct rl_v2x_span *sp = &v->movements;
            if (rl__per_span_begin(c, "movements", &sp->first, &sp->count, &m->n_movement_pool,
                                   RL_V2X_MAP_MAX_MOVEMENTS, 1, 32))
                for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
                    rl__per_item_begin(c, i);
                    movement(c, &m->movement_pool[sp->first + i]);
                    rl__per_item_end(c);
                }
            rl__per_list_end(c);
        }
        struct rl_v2x_span *sp = &v->lanes;
        if (rl__per_span_begin(c, "lanes", &sp->first, &sp->count, &m->n_lane_pool,
                               RL_V2X_MAP_MAX_LANES, 1, 32))
            for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
                rl__per_item_begin(c, i);
                lane(c, m, &m->lane_pool[sp->first + i]);
                rl__per_item_end(c);
            }
        rl__per_list_end(c);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_name = opt[0];
        v->has_linkWidth = opt[2];
    }
}

static void node(struct rl_per *c, struct rl_v2x_map *m, struct rl_v2x_node *v)
{
    bool opt[2] = {v->has_name, v->inLinks.count > 0};
    if (rl__per_seq_begin(c, NULL, true, opt, 2)) {
        if (opt[0])
            rl__v2x_descriptive_name(c, "name", v->name);
        rl__v2x_node_ref(c, "id", &v->id);
        rl__v2x_position3d(c, "refPos", &v->refPos);
        if (opt[1]) {
            struct rl_v2x_span *sp = &v->inLinks;
            if (rl__per_span_begin(c, "inLinks", &sp->first, &sp->count, &m->n_link_pool,
                                   RL_V2X_MAP_MAX_LINKS, 1, 32))
                for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
                    rl__per_item_begin(c, i);
                    link(c, m, &m->link_pool[sp->first + i]);
                    rl__per_item_end(c);
                }
            rl__per_list_end(c);
        }
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_name = opt[0];
}

void rl__v2x_map(struct rl_per *c, const char *name, struct rl_v2x_map *v)
{
    bool opt[1] = {v->has_timeStamp};
    if (rl__per_seq_begin(c, name, true, opt, 1)) {
        rl__per_int(c, "msgCnt", &v->msgCnt, 0, RL__MSGCOUNT_UB);
        if (opt[0])
            rl__per_int(c, "timeStamp", &v->timeStamp, 0, RL__MOY_UB);
        if (rl__per_list_begin(c, "nodes", &v->n_nodes, 1, 63, RL_V2X_MAP_MAX_NODES))
            for (int i = 0; i < v->n_nodes && !rl__per_err(c); i++) {
                rl__per_item_begin(c, i);
                node(c, v, &v->nodes[i]);
                rl__per_item_end(c);
            }
        rl__per_list_end(c);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_timeStamp = opt[0];
}
