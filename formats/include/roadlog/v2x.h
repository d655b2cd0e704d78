/* C-V2X messages of the Chinese message set T/CSAE 53-2017 (phase 1, the
 * ASN.1 release of 2019-07-24; also YD/T 3709): the MessageFrame CHOICE of
 * BasicSafetyMessage, MapData, RoadsideSafetyMessage, SPAT and
 * RoadSideInformation as C structs, their unaligned-PER (X.691 UPER) decoder
 * and encoder, their JSON view, and the framings they travel in (a vendor
 * header, the DSMP network layer of YD/T 3707, or nothing).
 *
 * Conventions of the structs (they mirror the ASN.1 modules):
 * - Members carry the ASN.1 names (`long` is `lon`). INTEGERs are int32_t in
 *   the ASN.1 units (Latitude in 1e-7 degrees, Speed in 0.02 m/s, ...).
 * - An OPTIONAL member x has `bool has_x`; an OPTIONAL SEQUENCE OF that is a
 *   span or a counted array is absent when its count is 0 (every list has a
 *   lower size bound of 1 or more).
 * - ENUMERATED members are int32_t holding the enumeration value; for an
 *   extensible enumeration, n_root + k stands for unknown extension k.
 * - BIT STRING (SIZE(n)) is a uint32_t whose most significant of n bits is
 *   ASN.1 bit 0 (so maneuverStraightAllowed of AllowedManeuvers is 0x800);
 *   BIT STRING (SIZE(n, ...)) is a struct rl_v2x_bits.
 * - A SEQUENCE OF at message level is an array with a count; a SEQUENCE OF
 *   inside the items of another one is a span {first, count} into a pool
 *   array of the message (e.g. a Phase's phaseStates are
 *   spat.state_pool[first .. first+count-1]). Pools are caps on the message
 *   as a whole; a message that needs more is refused with "too many".
 *
 * Decoding never trusts the input: every read is bounds-checked, errors name
 * the field path and bit offset. Unknown extension additions of extensible
 * SEQUENCEs are skipped and counted; unknown CHOICE/ENUMERATED extensions are
 * kept as "unknown extension k", never taken for a known value. */
#ifndef ROADLOG_V2X_H
#define ROADLOG_V2X_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/decode.h"
#include "roadlog/error.h"
#include "roadlog/jsonw.h"

/* ---- shared data frames ------------------------------------------------- */

struct rl_v2x_span {
    uint16_t first, count;
};

/* BIT STRING (SIZE(root, ...)): len bits, ASN.1 bit 0 most significant. */
struct rl_v2x_bits {
    int32_t len;
    uint64_t v;
};

struct rl_v2x_position3d { /* Position3D */
    int32_t lat;           /* -900000000..900000001, 1e-7 deg */
    int32_t lon;           /* long: -1799999999..1800000001, 1e-7 deg */
    bool has_elevation;
    int32_t elevation; /* -4096..61439, 0.1 m */
};

struct rl_v2x_node_ref { /* NodeReferenceID */
    bool has_region;
    int32_t region; /* 0..65535 */
    int32_t id;     /* 0..65535 */
};

enum rl_v2x_offset_ll_kind {                   /* PositionOffsetLL alternatives */
                             RL_V2X_LL1 = 0,   /* position-LL1: OffsetLL-B12 */
                             RL_V2X_LL2,       /* B14 */
                             RL_V2X_LL3,       /* B16 */
                             RL_V2X_LL4,       /* B18 */
                             RL_V2X_LL5,       /* B22 */
                             RL_V2X_LL6,       /* B24 */
                             RL_V2X_LL_LATLON, /* position-LatLon: Longitude, Latitude */
};

enum rl_v2x_vert_kind {                      /* VerticalOffset alternatives */
                        RL_V2X_VERT_B07 = 0, /* offset1 */
                        RL_V2X_VERT_B08,
                        RL_V2X_VERT_B09,
                        RL_V2X_VERT_B10,
                        RL_V2X_VERT_B11,
                        RL_V2X_VERT_B12,       /* offset6 */
                        RL_V2X_VERT_ELEVATION, /* elevation */
};

struct rl_v2x_offset_llv { /* PositionOffsetLLV */
    int32_t ll_kind;       /* offsetLL: enum rl_v2x_offset_ll_kind */
    int32_t lon, lat;
    bool has_offsetV;
    int32_t v_kind; /* offsetV: enum rl_v2x_vert_kind */
    int32_t v;
};

struct rl_v2x_pos_confidence { /* PositionConfidenceSet */
    int32_t pos;               /* PositionConfidence 0..15 */
    bool has_elevation;
    int32_t elevation; /* ElevationConfidence 0..15 */
};

struct rl_v2x_pos_accuracy { /* PositionalAccuracy */
    int32_t semiMajor, semiMinor, orientation;
};

struct rl_v2x_motion_cfd { /* MotionConfidenceSet */
    bool has_speedCfd, has_headingCfd, has_steerCfd;
    int32_t speedCfd, headingCfd, steerCfd;
};

struct rl_v2x_accel4 { /* AccelerationSet4Way */
    int32_t lon;       /* long: -2000..2001, 0.01 m/s^2 */
    int32_t lat;       /* -2000..2001 */
    int32_t vert;      /* -127..127, 0.02 G */
    int32_t yaw;       /* -32767..32767, 0.01 deg/s */
};

struct rl_v2x_vehicle_size { /* VehicleSize */
    int32_t width;           /* 0..1023 cm */
    int32_t length;          /* 0..4095 cm */
    bool has_height;
    int32_t height; /* 0..127, 5 cm */
};

struct rl_v2x_vehicle_class { /* VehicleClassification */
    int32_t classification;   /* BasicVehicleClass 0..255 */
    bool has_fuelType;
    int32_t fuelType; /* 0..15 */
};

/* ---- BSM ----------------------------------------------------------------- */

#define RL_V2X_BSM_MAX_CRUMBS 23 /* PathHistoryPointList SIZE(1..23) */

struct rl_v2x_brakes { /* BrakeSystemStatus */
    bool has_brakePadel, has_wheelBrakes, has_traction, has_abs, has_scs, has_brakeBoost,
        has_auxBrakes;
    int32_t brakePadel;   /* BrakePedalStatus */
    uint32_t wheelBrakes; /* BrakeAppliedStatus, 5 bits */
    int32_t traction, abs, scs, brakeBoost, auxBrakes;
};

struct rl_v2x_ddatetime { /* DDateTime */
    bool has_year, has_month, has_day, has_hour, has_minute, has_second, has_offset;
    int32_t year, month, day, hour, minute, second, offset;
};

struct rl_v2x_full_pos { /* FullPositionVector */
    bool has_utcTime;
    struct rl_v2x_ddatetime utcTime;
    struct rl_v2x_position3d pos;
    bool has_heading, has_transmission, has_speed, has_posAccuracy, has_posConficence,
        has_timeConfidence, has_motionCfd;
    int32_t heading, transmission, speed;
    struct rl_v2x_pos_accuracy posAccuracy;
    struct rl_v2x_pos_confidence posConficence; /* sic, the ASN.1 name */
    int32_t timeConfidence;
    struct rl_v2x_motion_cfd motionCfd;
};

struct rl_v2x_path_point { /* PathHistoryPoint */
    struct rl_v2x_offset_llv llvOffset;
    int32_t timeOffset; /* 1..65535, 10 ms */
    bool has_speed, has_posAccuracy, has_heading;
    int32_t speed;
    struct rl_v2x_pos_confidence posAccuracy;
    int32_t heading; /* CoarseHeading 0..240 */
};

struct rl_v2x_path_history { /* PathHistory */
    bool has_initialPosition, has_currGNSSstatus;
    struct rl_v2x_full_pos initialPosition;
    uint32_t currGNSSstatus; /* GNSSstatus, 8 bits */
    int32_t n_crumbData;
    struct rl_v2x_path_point crumbData[RL_V2X_BSM_MAX_CRUMBS];
};

struct rl_v2x_safety_ext { /* VehicleSafetyExtensions */
    bool has_events, has_pathHistory, has_pathPrediction, has_lights;
    struct rl_v2x_bits events; /* VehicleEventFlags SIZE(13, ...) */
    struct rl_v2x_path_history pathHistory;
    int32_t radiusOfCurve;     /* pathPrediction: -32767..32767, 10 cm */
    int32_t confidence;        /* pathPrediction: 0..200, 0.5 % */
    struct rl_v2x_bits lights; /* ExteriorLights SIZE(9, ...) */
};

struct rl_v2x_emergency_ext { /* VehicleEmergencyExtensions */
    bool has_responseType, has_sirenUse, has_lightsUse;
    int32_t responseType, sirenUse, lightsUse;
};

struct rl_v2x_bsm { /* BasicSafetyMessage */
    int32_t msgCnt;
    uint8_t id[8];
    int32_t secMark; /* DSecond, ms */
    bool has_timeConfidence;
    int32_t timeConfidence;
    struct rl_v2x_position3d pos;
    bool has_posAccuracy, has_posConfidence;
    struct rl_v2x_pos_accuracy posAccuracy;
    struct rl_v2x_pos_confidence posConfidence;
    int32_t transmission; /* TransmissionState */
    int32_t speed;        /* 0..8191, 0.02 m/s */
    int32_t heading;      /* 0..28800, 0.0125 deg */
    bool has_angle, has_motionCfd;
    int32_t angle; /* SteeringWheelAngle -126..127 */
    struct rl_v2x_motion_cfd motionCfd;
    struct rl_v2x_accel4 accelSet;
    struct rl_v2x_brakes brakes;
    struct rl_v2x_vehicle_size size;
    struct rl_v2x_vehicle_class vehicleClass;
    bool has_safetyExt, has_emergencyExt;
    struct rl_v2x_safety_ext safetyExt;
    struct rl_v2x_emergency_ext emergencyExt;
};

/* ---- SPAT ---------------------------------------------------------------- */

#define RL_V2X_SPAT_MAX_INTERSECTIONS 32  /* IntersectionStateList SIZE(1..32) */
#define RL_V2X_SPAT_MAX_PHASES        128 /* pool, all intersections */
#define RL_V2X_SPAT_MAX_STATES        512 /* pool, all phases */

enum rl_v2x_light { /* LightState */
                    RL_V2X_LIGHT_UNAVAILABLE = 0,
                    RL_V2X_LIGHT_DARK,
                    RL_V2X_LIGHT_FLASHING_RED,
                    RL_V2X_LIGHT_RED,
                    RL_V2X_LIGHT_FLASHING_GREEN,
                    RL_V2X_LIGHT_PERMISSIVE_GREEN,
                    RL_V2X_LIGHT_PROTECTED_GREEN,
                    RL_V2X_LIGHT_YELLOW,
                    RL_V2X_LIGHT_FLASHING_YELLOW,
};

enum rl_v2x_timing_kind {                             /* TimeChangeDetails alternatives */
                          RL_V2X_TIMING_COUNTING = 0, /* counting: TimeCountingDown */
                          RL_V2X_TIMING_UTC,          /* utcTiming: UTCTiming */
};

/* TimeChangeDetails. Both alternatives have the same shape; the names are
 * TimeCountingDown's (startTime, minEndTime, maxEndTime, likelyEndTime,
 * timeConfidence, nextStartTime, nextDuration) or UTCTiming's
 * (startUTCTime, ..., nextEndUTCTime). All TimeMark 0..36001 (0.1 s). */
struct rl_v2x_timing {
    int32_t kind; /* enum rl_v2x_timing_kind; 2 + k: unknown extension k */
    int32_t start;
    bool has_minEnd, has_maxEnd, has_timeConfidence, has_nextStart, has_nextEnd;
    int32_t minEnd, maxEnd, likelyEnd, timeConfidence /* Confidence 0..200 */, nextStart, nextEnd;
};

struct rl_v2x_phase_state { /* PhaseState */
    int32_t light;          /* enum rl_v2x_light */
    bool has_timing;
    struct rl_v2x_timing timing;
};

struct rl_v2x_phase {               /* Phase */
    int32_t id;                     /* PhaseID 0..255 */
    struct rl_v2x_span phaseStates; /* state_pool, SIZE(1..16) */
};

struct rl_v2x_intersection_state { /* IntersectionState */
    struct rl_v2x_node_ref intersectionId;
    uint32_t status; /* IntersectionStatusObject, 16 bits */
    bool has_moy, has_timeStamp, has_timeConfidence;
    int32_t moy, timeStamp, timeConfidence;
    struct rl_v2x_span phases; /* phase_pool, SIZE(1..16) */
};

struct rl_v2x_spat { /* SPAT */
    int32_t msgCnt;
    bool has_moy, has_timeStamp, has_name;
    int32_t moy;       /* MinuteOfTheYear 0..527040 */
    int32_t timeStamp; /* DSecond */
    char name[64];     /* DescriptiveName, IA5 1..63 */
    int32_t n_intersections;
    struct rl_v2x_intersection_state intersections[RL_V2X_SPAT_MAX_INTERSECTIONS];
    uint16_t n_phase_pool, n_state_pool;
    struct rl_v2x_phase phase_pool[RL_V2X_SPAT_MAX_PHASES];
    struct rl_v2x_phase_state state_pool[RL_V2X_SPAT_MAX_STATES];
};

/* ---- MAP ----------------------------------------------------------------- */

#define RL_V2X_MAP_MAX_NODES        63  /* NodeList SIZE(1..63) */
#define RL_V2X_MAP_MAX_LINKS        64  /* pool, all nodes */
#define RL_V2X_MAP_MAX_LANES        256 /* pool, all links */
#define RL_V2X_MAP_MAX_POINTS       640 /* pool, links and lanes */
#define RL_V2X_MAP_MAX_MOVEMENTS    256 /* pool */
#define RL_V2X_MAP_MAX_CONNECTIONS  384 /* pool */
#define RL_V2X_MAP_MAX_SPEED_LIMITS 256 /* pool, links and lanes */

enum rl_v2x_lane_type_kind {                          /* LaneTypeAttributes alternatives */
                             RL_V2X_LANE_VEHICLE = 0, /* LaneAttributes-Vehicle SIZE(8, ...) */
                             RL_V2X_LANE_CROSSWALK,   /* the others are SIZE(16) */
                             RL_V2X_LANE_BIKE,
                             RL_V2X_LANE_SIDEWALK,
                             RL_V2X_LANE_MEDIAN,
                             RL_V2X_LANE_STRIPING,
                             RL_V2X_LANE_TRACKED,
                             RL_V2X_LANE_PARKING,
};

struct rl_v2x_speed_limit { /* RegulatorySpeedLimit */
    int32_t type;           /* SpeedLimitType (extensible, 13 root values) */
    int32_t speed;          /* 0..8191, 0.02 m/s */
};

struct rl_v2x_movement { /* Movement */
    struct rl_v2x_node_ref remoteIntersection;
    bool has_phaseId;
    int32_t phaseId;
};

struct rl_v2x_connection { /* Connection */
    struct rl_v2x_node_ref remoteIntersection;
    bool has_connectingLane, has_maneuver, has_phaseId;
    int32_t lane;      /* connectingLane.lane */
    uint32_t maneuver; /* connectingLane.maneuver: AllowedManeuvers, 12 bits */
    int32_t phaseId;
};

struct rl_v2x_lane { /* Lane */
    int32_t laneID;
    bool has_laneWidth, has_laneAttributes, has_shareWith, has_maneuvers;
    int32_t laneWidth;  /* 0..32767 cm */
    uint32_t shareWith; /* laneAttributes.shareWith: LaneSharing, 10 bits */
    int32_t laneType;   /* laneAttributes.laneType: enum rl_v2x_lane_type_kind; 8 + k: unknown */
    struct rl_v2x_bits laneTypeBits; /* the alternative's bit string */
    uint32_t maneuvers;              /* AllowedManeuvers, 12 bits */
    struct rl_v2x_span connectsTo;   /* connection_pool, SIZE(1..16) */
    struct rl_v2x_span speedLimits;  /* speed_limit_pool, SIZE(1..9) */
    struct rl_v2x_span points;       /* point_pool, SIZE(2..31) */
};

struct rl_v2x_link { /* Link */
    bool has_name, has_linkWidth;
    char name[64];
    struct rl_v2x_node_ref upstreamNodeId;
    int32_t linkWidth;
    struct rl_v2x_span speedLimits; /* SIZE(1..9) */
    struct rl_v2x_span points;      /* SIZE(2..31) */
    struct rl_v2x_span movements;   /* SIZE(1..32) */
    struct rl_v2x_span lanes;       /* lane_pool, SIZE(1..32), never absent */
};

struct rl_v2x_node { /* Node */
    bool has_name;
    char name[64];
    struct rl_v2x_node_ref id;
    struct rl_v2x_position3d refPos;
    struct rl_v2x_span inLinks; /* link_pool, SIZE(1..32) */
};

struct rl_v2x_map { /* MapData */
    int32_t msgCnt;
    bool has_timeStamp;
    int32_t timeStamp; /* MinuteOfTheYear */
    int32_t n_nodes;
    struct rl_v2x_node nodes[RL_V2X_MAP_MAX_NODES];
    uint16_t n_link_pool, n_lane_pool, n_point_pool, n_movement_pool, n_connection_pool,
        n_speed_limit_pool;
    struct rl_v2x_link link_pool[RL_V2X_MAP_MAX_LINKS];
    struct rl_v2x_lane lane_pool[RL_V2X_MAP_MAX_LANES];
    struct rl_v2x_offset_llv point_pool[RL_V2X_MAP_MAX_POINTS]; /* RoadPoint.posOffset */
    struct rl_v2x_movement movement_pool[RL_V2X_MAP_MAX_MOVEMENTS];
    struct rl_v2x_connection connection_pool[RL_V2X_MAP_MAX_CONNECTIONS];
    struct rl_v2x_speed_limit speed_limit_pool[RL_V2X_MAP_MAX_SPEED_LIMITS];
};

/* ---- RSI ----------------------------------------------------------------- */

#define RL_V2X_RSI_MAX_RTES        8   /* RTEList SIZE(1..8) */
#define RL_V2X_RSI_MAX_RTSS        16  /* RTSList SIZE(1..16) */
#define RL_V2X_RSI_MAX_PATHS       64  /* pool of ReferencePath */
#define RL_V2X_RSI_MAX_PATH_POINTS 512 /* pool of activePath points */
#define RL_V2X_RSI_MAX_LINKS       128 /* pool of ReferenceLink */
#define RL_V2X_DESCRIPTION_MAX     512

enum rl_v2x_description_kind { RL_V2X_TEXT_IA5 = 0, RL_V2X_TEXT_GB2312 };

struct rl_v2x_description { /* Description */
    int32_t kind;           /* textString (IA5 1..512) / textGB2312 (octets 2..512) */
    int32_t len;
    uint8_t text[RL_V2X_DESCRIPTION_MAX + 1]; /* NUL-terminated for textString */
};

struct rl_v2x_rsi_time { /* RSITimeDetails */
    bool has_startTime, has_endTime, has_endTimeConfidence;
    int32_t startTime, endTime, endTimeConfidence;
};

struct rl_v2x_ref_path {           /* ReferencePath */
    struct rl_v2x_span activePath; /* path_point_pool, SIZE(1..32) */
    int32_t pathRadius;            /* 0.1 m */
};

struct rl_v2x_ref_link { /* ReferenceLink */
    struct rl_v2x_node_ref upstreamNodeId, downstreamNodeId;
    bool has_referenceLanes;
    uint32_t referenceLanes; /* 16 bits */
};

/* RTEData and RTSData share this shape; rte-only members are marked. */
struct rl_v2x_rsi_item {
    int32_t itemId;      /* rteId / rtsId */
    int32_t type;        /* eventType / signType */
    int32_t eventSource; /* RTE only: EventSource */
    bool has_pos, has_eventRadius, has_description, has_timeDetails, has_priority,
        has_eventConfidence;
    struct rl_v2x_offset_llv pos; /* eventPos / signPos */
    int32_t eventRadius;          /* RTE only */
    struct rl_v2x_description description;
    struct rl_v2x_rsi_time timeDetails;
    uint8_t priority;                  /* RSIPriority, one octet */
    struct rl_v2x_span referencePaths; /* path_pool, SIZE(1..8) */
    struct rl_v2x_span referenceLinks; /* link_pool, SIZE(1..16) */
    int32_t eventConfidence;           /* RTE only */
};

struct rl_v2x_rsi { /* RoadSideInformation */
    int32_t msgCnt;
    bool has_moy;
    int32_t moy;
    uint8_t id[8];
    struct rl_v2x_position3d refPos;
    int32_t n_rtes, n_rtss;
    struct rl_v2x_rsi_item rtes[RL_V2X_RSI_MAX_RTES];
    struct rl_v2x_rsi_item rtss[RL_V2X_RSI_MAX_RTSS];
    uint16_t n_path_pool, n_path_point_pool, n_link_pool;
    struct rl_v2x_ref_path path_pool[RL_V2X_RSI_MAX_PATHS];
    struct rl_v2x_offset_llv path_point_pool[RL_V2X_RSI_MAX_PATH_POINTS];
    struct rl_v2x_ref_link link_pool[RL_V2X_RSI_MAX_LINKS];
};

/* ---- RSM ----------------------------------------------------------------- */

#define RL_V2X_RSM_MAX_PARTICIPANTS 16 /* ParticipantList SIZE(1..16) */

struct rl_v2x_participant { /* ParticipantData */
    int32_t ptcType;        /* ParticipantType (extensible) */
    int32_t ptcId;          /* 0..65535 */
    int32_t source;         /* SourceType (extensible) */
    bool has_id;
    uint8_t id[8];
    int32_t secMark;
    struct rl_v2x_offset_llv pos;
    struct rl_v2x_pos_confidence posConfidence;
    bool has_transmission, has_angle, has_motionCfd, has_accelSet, has_vehicleClass;
    int32_t transmission;
    int32_t speed, heading, angle;
    struct rl_v2x_motion_cfd motionCfd;
    struct rl_v2x_accel4 accelSet;
    struct rl_v2x_vehicle_size size;
    struct rl_v2x_vehicle_class vehicleClass;
};

struct rl_v2x_rsm { /* RoadsideSafetyMessage */
    int32_t msgCnt;
    uint8_t id[8];
    struct rl_v2x_position3d refPos;
    int32_t n_participants;
    struct rl_v2x_participant participants[RL_V2X_RSM_MAX_PARTICIPANTS];
};

/* ---- MessageFrame -------------------------------------------------------- */

enum rl_v2x_kind {                  /* MessageFrame alternatives, in ASN.1 order */
                   RL_V2X_BSM = 0,  /* bsmFrame */
                   RL_V2X_MAP,      /* mapFrame */
                   RL_V2X_RSM,      /* rsmFrame */
                   RL_V2X_SPAT,     /* spatFrame */
                   RL_V2X_RSI,      /* rsiFrame */
                   RL_V2X_KIND_EXT, /* an extension alternative this decoder does not know */
};

struct rl_v2x_msg {
    int32_t kind;         /* enum rl_v2x_kind, or RL_V2X_KIND_EXT + k for extension k */
    uint32_t ext_skipped; /* decode: unknown SEQUENCE extension additions skipped */
    union {
        struct rl_v2x_bsm bsm;
        struct rl_v2x_map map;
        struct rl_v2x_rsm rsm;
        struct rl_v2x_spat spat;
        struct rl_v2x_rsi rsi;
    } u;
};

/* Decodes one UPER MessageFrame of len bytes (trailing bits after it must be
 * the padding of its last octet) into *out (caller storage, under 64 KB;
 * zeroed first). Returns 0, or RL_ETRUNC (input ends early),
 * RL_ECORRUPT (invalid encoding), RL_ETOOBIG (more items than the caps
 * above), RL_EUNSUPPORTED (fragmented lengths), with "<path>: <what> at bit
 * N" in err. An unknown MessageFrame extension decodes successfully with
 * kind RL_V2X_KIND_EXT + k. Thread-safe (no shared state). */
RL_WARN_UNUSED int rl_v2x_decode(const uint8_t *p, size_t len, struct rl_v2x_msg *out, char *err,
                                 size_t errlen);

/* Encodes *m as a UPER MessageFrame into out (cap bytes), the length in
 * *len. Returns 0, -EINVAL (a value outside its ASN.1 range, a list size
 * outside its bounds, a span outside its pool, an unknown extension) or
 * RL_ETOOBIG (cap too small), with the field path in err. Extension
 * additions skipped on decode are not reproduced. */
RL_WARN_UNUSED int rl_v2x_encode(const struct rl_v2x_msg *m, uint8_t *out, size_t cap, size_t *len,
                                 char *err, size_t errlen);

/* Writes the message's members into the JSON object the caller has opened:
 * "type" first ("v2x.csae53.BSM" / MAP / RSM / SPAT / RSI, or
 * "v2x.csae53.unknown" with "messageFrameExtension": k), then the ASN.1
 * members by their ASN.1 names and nesting (ASN.1 JSON encoding rules:
 * enumerations as identifiers, BIT/OCTET STRING as hex, CHOICE as a
 * one-member object), plus "unknownExtensions": n when n > 0 extension
 * additions were skipped. Returns 0 or -EINVAL with err (inconsistent spans
 * in a hand-built message). */
RL_WARN_UNUSED int rl_v2x_to_json(const struct rl_v2x_msg *m, struct rl_jw *out, char *err,
                                  size_t errlen);

/* "BSM", "MAP", "RSM", "SPAT", "RSI" or "unknown". */
const char *rl_v2x_kind_name(int32_t kind);

/* ---- framing and configuration (v2x_framing.c) ---------------------------- */

enum rl_v2x_framing {
    RL_V2X_FRAMING_AUTO = 0, /* try vendor header, then DSMP, then raw */
    RL_V2X_FRAMING_RAW,      /* the datagram is one UPER MessageFrame */
    RL_V2X_FRAMING_VENDOR,   /* vendor header (Hisense layout below) */
    RL_V2X_FRAMING_DSMP,     /* YD/T 3707 DSM message */
};

#define RL_V2X_CONFIG_MAX_PORTS 16
#define RL_V2X_CONFIG_MAX_AIDS  16
#define RL_V2X_VENDOR_ID_LEN    8

/* Which framing arrives on which UDP port, which DSMP AIDs carry the
 * message set, and the vendor header's layout. Built by
 * rl_v2x_config_default() and edited by the caller (flags, attachments);
 * nothing about it is hard-wired in the decoders. */
struct rl_v2x_config {
    int n_ports;
    struct {
        uint16_t port;   /* UDP source or destination port */
        int32_t framing; /* enum rl_v2x_framing */
    } ports[RL_V2X_CONFIG_MAX_PORTS];
    /* DSMP AIDs accepted as carrying a MessageFrame; none listed: any AID. */
    int n_aids;
    uint32_t aids[RL_V2X_CONFIG_MAX_AIDS];
    /* Vendor header: id_len ASCII id bytes, 8-byte LE epoch ms, 2-byte LE
     * length (Hisense RSU/OBU output: id_len 8, 18 bytes in all). The same
     * header followed by a count byte and count x (2-byte LE length, frame)
     * carries a batch of frames (Hisense OBU BSM output). */
    size_t vendor_id_len;
    bool vendor_batches;
};

/* Fills *cfg with the defaults: no port table (framing detected from the
 * content), any AID, Hisense vendor header (8-byte id), batches accepted. */
void rl_v2x_config_default(struct rl_v2x_config *cfg);

#define RL_V2X_MAX_FRAMES 16

/* The MessageFrames found in one datagram. Pointers are borrowed from the
 * datagram passed to rl_v2x_unframe. */
struct rl_v2x_frames {
    int32_t framing; /* enum rl_v2x_framing that matched */
    bool batch;      /* vendor batch layout */
    char vendor_id[RL_V2X_VENDOR_ID_LEN + 1];
    uint64_t vendor_time_ms;
    uint32_t aid; /* DSMP only */
    int n;
    struct {
        const uint8_t *p;
        size_t len;
    } f[RL_V2X_MAX_FRAMES];
};

/* Strips the framing off a datagram received on port (0: unknown): the
 * configured framing for the port, else detection (vendor header whose
 * length matches, DSMP whose length matches, raw). cfg NULL: defaults.
 * Returns 0, RL_ECORRUPT / RL_ETRUNC (the framing configured for the port
 * does not fit), RL_EUNSUPPORTED (DSMP extension fields on a DSMP port),
 * RL_ENOTFOUND (DSMP AID not configured) with err. */
RL_WARN_UNUSED int rl_v2x_unframe(const struct rl_v2x_config *cfg, uint16_t port, const uint8_t *p,
                                  size_t len, struct rl_v2x_frames *out, char *err, size_t errlen);

/* Builds the vendor header (id: RL_V2X_VENDOR_ID_LEN bytes, padded with
 * NULs if shorter) + frame into out. Returns 0 or RL_ETOOBIG. */
RL_WARN_UNUSED int rl_v2x_vendor_build(const char *id, uint64_t time_ms, const uint8_t *frame,
                                       size_t frame_len, uint8_t *out, size_t cap, size_t *len);

/* Builds a DSM message (YD/T 3707 4.3: version 0, no extension fields) with
 * the AID (0..2^28-1, p-encoded in 1..4 octets) around frame. Returns 0,
 * -EINVAL or RL_ETOOBIG. */
RL_WARN_UNUSED int rl_v2x_dsmp_build(uint32_t aid, const uint8_t *frame, size_t frame_len,
                                     uint8_t *out, size_t cap, size_t *len);

/* ---- SAE J2735 (v2x_j2735.c) ---------------------------------------------- */

/* Finds a J2735 MessageFrame in payload (bare, inside IEEE 1609.2
 * Ieee1609Dot2Data, or after any header): *off and *frame_len give where,
 * *message_id its DSRCmsgID. Returns 0 or RL_ENOTFOUND. */
RL_WARN_UNUSED int rl_j2735_find_frame(const uint8_t *p, size_t len, size_t *off, size_t *frame_len,
                                       uint32_t *message_id);

/* BSMcoreData of J2735 (2016): a fixed layout of 290 bits. */
struct rl_j2735_bsm_core {
    int32_t msgCnt;
    uint8_t id[4];
    int32_t secMark, lat, lon, elev;
    int32_t semiMajor, semiMinor, orientation; /* accuracy */
    int32_t transmission, speed, heading, angle;
    int32_t accelLong, accelLat, accelVert, accelYaw;
    uint32_t wheelBrakes; /* 5 bits */
    int32_t traction, abs, scs, brakeBoost, auxBrakes;
    int32_t width, length;
};

/* Decodes a J2735 MessageFrame at p (len bytes). Returns 0 with
 * *message_id, and *bsm filled when the id is 20 (BSM); RL_ETRUNC or
 * RL_ECORRUPT with err. */
RL_WARN_UNUSED int rl_j2735_decode(const uint8_t *p, size_t len, uint32_t *message_id,
                                   struct rl_j2735_bsm_core *bsm, char *err, size_t errlen);

#endif
