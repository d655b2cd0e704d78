/* Golden checks of the C-V2X decoders on real device output from the shared
 * data folder (argv[1] or $RL_SHARED_DATA; without it the test is skipped
 * with exit 77):
 *
 * real/csae-v2x-hisense: SPAT.uper, MAP.uper, RSI.uper, RSM.uper and the
 * hex datagrams of v2x_samples_utf8.txt (Hisense 18-byte header: 8-byte id,
 * 8-byte LE epoch ms, 2-byte LE length; the BSM datagram is a batch: a count
 * byte and per frame a 2-byte LE length). Every field the vendor's decoded
 * text lists is compared with our JSON; the tables below are that text,
 * field by field (path in our JSON, the vendor's value). Six of the 306
 * values are of another transmission than the hex printed next to them:
 * the text shows SPAT msgCnt 109, moy 458304, timeStamp 9250 while the hex
 * carries 48, 458335, 5238 (458335 is exactly the minute of the year of the
 * datagram's header time, 2020-11-14T06:55:02Z, which the test checks); MAP
 * timeStamp 475988 vs 475970 (again the header's minute); and the text's
 * second BSM is the next transmission (msgCnt 118, secMark 9600) of the
 * vehicle whose frame in the hex has msgCnt 117, secMark 9500, all its
 * other 29 fields equal. For those six the table gives the hex's value as
 * well. Every frame re-encodes to the identical bytes.
 *
 * real/j2735-uper-jpo-ode: Wyoming CV Pilot OBU log records (layout after
 * jpo-ode's BsmLogFileParser: direction 1, lat/lon/elev 3 x LE32,
 * speed/heading 2 x LE16, UTC seconds LE32, ms LE16, security result 1,
 * payload length LE16, payload = IEEE 1609.2 data holding a J2735
 * MessageFrame). Every record's BSM is found and decoded; positions are
 * plausible for the pilot (about 40.57 N, 105.03 W), and for transmitted
 * records (direction 0) the BSM's own lat/long/elev/speed/heading equal
 * the record header and its secMark equals the header time's ms in the
 * minute. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "json_min.h"
#include "roadlog/v2x.h"

static const char *shared_dir;

struct expect {
    const char *path;   /* in our JSON, e.g. "intersections[0].phases[2].id" */
    const char *vendor; /* the vendor's decoded value */
    const char *hex;    /* the hex's value where the text shows another transmission */
};

/* ---- the vendor's decoded text, field by field ----------------------------- */

/* SPAT (vendor text "SPAT解析"). msgCnt, moy and timeStamp: another transmission. */
static const struct expect spat_expect[] = {
    {"msgCnt", "109", "48"},
    {"moy", "458304", "458335"},
    {"timeStamp", "9250", "5238"},
    {"intersections[0].intersectionId.region", "255", NULL},
    {"intersections[0].intersectionId.id", "9", NULL},
    {"intersections[0].status", "0400", NULL},
    {"intersections[0].phases[0].id", "33", NULL},
    {"intersections[0].phases[0].phaseStates[0].light", "permissive-green", NULL},
    {"intersections[0].phases[0].phaseStates[0].timing.counting.startTime", "0", NULL},
    {"intersections[0].phases[0].phaseStates[0].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[0].phaseStates[0].timing.counting.nextStartTime", "30", NULL},
    {"intersections[0].phases[0].phaseStates[0].timing.counting.nextDuration", "30", NULL},
    {"intersections[0].phases[0].phaseStates[1].light", "yellow", NULL},
    {"intersections[0].phases[0].phaseStates[1].timing.counting.startTime", "30", NULL},
    {"intersections[0].phases[0].phaseStates[1].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[0].phaseStates[1].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[0].phaseStates[1].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[0].phaseStates[2].light", "red", NULL},
    {"intersections[0].phases[0].phaseStates[2].timing.counting.startTime", "30", NULL},
    {"intersections[0].phases[0].phaseStates[2].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[0].phaseStates[2].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[0].phaseStates[2].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[1].id", "35", NULL},
    {"intersections[0].phases[1].phaseStates[0].light", "permissive-green", NULL},
    {"intersections[0].phases[1].phaseStates[0].timing.counting.startTime", "0", NULL},
    {"intersections[0].phases[1].phaseStates[0].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[1].phaseStates[0].timing.counting.nextStartTime", "30", NULL},
    {"intersections[0].phases[1].phaseStates[0].timing.counting.nextDuration", "30", NULL},
    {"intersections[0].phases[1].phaseStates[1].light", "yellow", NULL},
    {"intersections[0].phases[1].phaseStates[1].timing.counting.startTime", "30", NULL},
    {"intersections[0].phases[1].phaseStates[1].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[1].phaseStates[1].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[1].phaseStates[1].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[1].phaseStates[2].light", "red", NULL},
    {"intersections[0].phases[1].phaseStates[2].timing.counting.startTime", "30", NULL},
    {"intersections[0].phases[1].phaseStates[2].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[1].phaseStates[2].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[1].phaseStates[2].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[2].id", "41", NULL},
    {"intersections[0].phases[2].phaseStates[0].light", "red", NULL},
    {"intersections[0].phases[2].phaseStates[0].timing.counting.startTime", "0", NULL},
    {"intersections[0].phases[2].phaseStates[0].timing.counting.likelyEndTime", "460", NULL},
    {"intersections[0].phases[2].phaseStates[0].timing.counting.nextStartTime", "460", NULL},
    {"intersections[0].phases[2].phaseStates[0].timing.counting.nextDuration", "460", NULL},
    {"intersections[0].phases[2].phaseStates[1].light", "permissive-green", NULL},
    {"intersections[0].phases[2].phaseStates[1].timing.counting.startTime", "460", NULL},
    {"intersections[0].phases[2].phaseStates[1].timing.counting.likelyEndTime", "460", NULL},
    {"intersections[0].phases[2].phaseStates[1].timing.counting.nextStartTime", "920", NULL},
    {"intersections[0].phases[2].phaseStates[1].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[2].phaseStates[2].light", "yellow", NULL},
    {"intersections[0].phases[2].phaseStates[2].timing.counting.startTime", "460", NULL},
    {"intersections[0].phases[2].phaseStates[2].timing.counting.likelyEndTime", "460", NULL},
    {"intersections[0].phases[2].phaseStates[2].timing.counting.nextStartTime", "920", NULL},
    {"intersections[0].phases[2].phaseStates[2].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[3].id", "43", NULL},
    {"intersections[0].phases[3].phaseStates[0].light", "red", NULL},
    {"intersections[0].phases[3].phaseStates[0].timing.counting.startTime", "0", NULL},
    {"intersections[0].phases[3].phaseStates[0].timing.counting.likelyEndTime", "60", NULL},
    {"intersections[0].phases[3].phaseStates[0].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[3].phaseStates[0].timing.counting.nextDuration", "60", NULL},
    {"intersections[0].phases[3].phaseStates[1].light", "permissive-green", NULL},
    {"intersections[0].phases[3].phaseStates[1].timing.counting.startTime", "60", NULL},
    {"intersections[0].phases[3].phaseStates[1].timing.counting.likelyEndTime", "60", NULL},
    {"intersections[0].phases[3].phaseStates[1].timing.counting.nextStartTime", "120", NULL},
    {"intersections[0].phases[3].phaseStates[1].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[3].phaseStates[2].light", "yellow", NULL},
    {"intersections[0].phases[3].phaseStates[2].timing.counting.startTime", "60", NULL},
    {"intersections[0].phases[3].phaseStates[2].timing.counting.likelyEndTime", "60", NULL},
    {"intersections[0].phases[3].phaseStates[2].timing.counting.nextStartTime", "120", NULL},
    {"intersections[0].phases[3].phaseStates[2].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[4].id", "49", NULL},
    {"intersections[0].phases[4].phaseStates[0].light", "permissive-green", NULL},
    {"intersections[0].phases[4].phaseStates[0].timing.counting.startTime", "0", NULL},
    {"intersections[0].phases[4].phaseStates[0].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[4].phaseStates[0].timing.counting.nextStartTime", "30", NULL},
    {"intersections[0].phases[4].phaseStates[0].timing.counting.nextDuration", "30", NULL},
    {"intersections[0].phases[4].phaseStates[1].light", "yellow", NULL},
    {"intersections[0].phases[4].phaseStates[1].timing.counting.startTime", "30", NULL},
    {"intersections[0].phases[4].phaseStates[1].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[4].phaseStates[1].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[4].phaseStates[1].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[4].phaseStates[2].light", "red", NULL},
    {"intersections[0].phases[4].phaseStates[2].timing.counting.startTime", "30", NULL},
    {"intersections[0].phases[4].phaseStates[2].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[4].phaseStates[2].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[4].phaseStates[2].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[5].id", "51", NULL},
    {"intersections[0].phases[5].phaseStates[0].light", "permissive-green", NULL},
    {"intersections[0].phases[5].phaseStates[0].timing.counting.startTime", "0", NULL},
    {"intersections[0].phases[5].phaseStates[0].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[5].phaseStates[0].timing.counting.nextStartTime", "30", NULL},
    {"intersections[0].phases[5].phaseStates[0].timing.counting.nextDuration", "30", NULL},
    {"intersections[0].phases[5].phaseStates[1].light", "yellow", NULL},
    {"intersections[0].phases[5].phaseStates[1].timing.counting.startTime", "30", NULL},
    {"intersections[0].phases[5].phaseStates[1].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[5].phaseStates[1].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[5].phaseStates[1].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[5].phaseStates[2].light", "red", NULL},
    {"intersections[0].phases[5].phaseStates[2].timing.counting.startTime", "30", NULL},
    {"intersections[0].phases[5].phaseStates[2].timing.counting.likelyEndTime", "30", NULL},
    {"intersections[0].phases[5].phaseStates[2].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[5].phaseStates[2].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[6].id", "57", NULL},
    {"intersections[0].phases[6].phaseStates[0].light", "red", NULL},
    {"intersections[0].phases[6].phaseStates[0].timing.counting.startTime", "0", NULL},
    {"intersections[0].phases[6].phaseStates[0].timing.counting.likelyEndTime", "460", NULL},
    {"intersections[0].phases[6].phaseStates[0].timing.counting.nextStartTime", "460", NULL},
    {"intersections[0].phases[6].phaseStates[0].timing.counting.nextDuration", "460", NULL},
    {"intersections[0].phases[6].phaseStates[1].light", "permissive-green", NULL},
    {"intersections[0].phases[6].phaseStates[1].timing.counting.startTime", "460", NULL},
    {"intersections[0].phases[6].phaseStates[1].timing.counting.likelyEndTime", "460", NULL},
    {"intersections[0].phases[6].phaseStates[1].timing.counting.nextStartTime", "920", NULL},
    {"intersections[0].phases[6].phaseStates[1].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[6].phaseStates[2].light", "yellow", NULL},
    {"intersections[0].phases[6].phaseStates[2].timing.counting.startTime", "460", NULL},
    {"intersections[0].phases[6].phaseStates[2].timing.counting.likelyEndTime", "460", NULL},
    {"intersections[0].phases[6].phaseStates[2].timing.counting.nextStartTime", "920", NULL},
    {"intersections[0].phases[6].phaseStates[2].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[7].id", "59", NULL},
    {"intersections[0].phases[7].phaseStates[0].light", "red", NULL},
    {"intersections[0].phases[7].phaseStates[0].timing.counting.startTime", "0", NULL},
    {"intersections[0].phases[7].phaseStates[0].timing.counting.likelyEndTime", "60", NULL},
    {"intersections[0].phases[7].phaseStates[0].timing.counting.nextStartTime", "60", NULL},
    {"intersections[0].phases[7].phaseStates[0].timing.counting.nextDuration", "60", NULL},
    {"intersections[0].phases[7].phaseStates[1].light", "permissive-green", NULL},
    {"intersections[0].phases[7].phaseStates[1].timing.counting.startTime", "60", NULL},
    {"intersections[0].phases[7].phaseStates[1].timing.counting.likelyEndTime", "60", NULL},
    {"intersections[0].phases[7].phaseStates[1].timing.counting.nextStartTime", "120", NULL},
    {"intersections[0].phases[7].phaseStates[1].timing.counting.nextDuration", "0", NULL},
    {"intersections[0].phases[7].phaseStates[2].light", "yellow", NULL},
    {"intersections[0].phases[7].phaseStates[2].timing.counting.startTime", "60", NULL},
    {"intersections[0].phases[7].phaseStates[2].timing.counting.likelyEndTime", "60", NULL},
    {"intersections[0].phases[7].phaseStates[2].timing.counting.nextStartTime", "120", NULL},
    {"intersections[0].phases[7].phaseStates[2].timing.counting.nextDuration", "0", NULL},
};

/* The text's first BasicSafetyMessage = frame 1 of the BSM batch. */
static const struct expect bsm_vendor1_expect[] = {
    {"msgCnt", "101", NULL},
    {"id", "0000000000000000", NULL},
    {"secMark", "9500", NULL},
    {"pos.lat", "399764498", NULL},
    {"pos.long", "1163508958", NULL},
    {"pos.elevation", "467", NULL},
    {"transmission", "unavailable", NULL},
    {"speed", "0", NULL},
    {"heading", "14239", NULL},
    {"accelSet.long", "2001", NULL},
    {"accelSet.lat", "2001", NULL},
    {"accelSet.vert", "-127", NULL},
    {"accelSet.yaw", "0", NULL},
    {"brakes.brakePadel", "off", NULL},
    {"size.width", "150", NULL},
    {"size.length", "450", NULL},
    {"vehicleClass.classification", "10", NULL},
    {"safetyExt.events.value", "0000", NULL},
    {"safetyExt.pathHistory.crumbData[0].llvOffset.offsetLL.position-LatLon.lon", "1163508849",
     NULL},
    {"safetyExt.pathHistory.crumbData[0].llvOffset.offsetLL.position-LatLon.lat", "399764591",
     NULL},
    {"safetyExt.pathHistory.crumbData[0].timeOffset", "5", NULL},
    {"safetyExt.lights.value", "0000", NULL},
};

/* The text's second BasicSafetyMessage: the next transmission of the
 * vehicle of frame 0 (msgCnt and secMark differ, all else equal). */
static const struct expect bsm_vendor2_expect[] = {
    {"msgCnt", "118", "117"},
    {"id", "bea9423838383838", NULL},
    {"secMark", "9600", "9500"},
    {"pos.lat", "399764645", NULL},
    {"pos.long", "1163509503", NULL},
    {"pos.elevation", "375", NULL},
    {"transmission", "unavailable", NULL},
    {"speed", "0", NULL},
    {"heading", "6161", NULL},
    {"accelSet.long", "2001", NULL},
    {"accelSet.lat", "2001", NULL},
    {"accelSet.vert", "-127", NULL},
    {"accelSet.yaw", "0", NULL},
    {"brakes.brakePadel", "off", NULL},
    {"size.width", "150", NULL},
    {"size.length", "450", NULL},
    {"vehicleClass.classification", "10", NULL},
    {"safetyExt.events.value", "0000", NULL},
    {"safetyExt.pathHistory.crumbData[0].llvOffset.offsetLL.position-LatLon.lon", "1163507578",
     NULL},
    {"safetyExt.pathHistory.crumbData[0].llvOffset.offsetLL.position-LatLon.lat", "399764215",
     NULL},
    {"safetyExt.pathHistory.crumbData[0].timeOffset", "5", NULL},
    {"safetyExt.pathHistory.crumbData[1].llvOffset.offsetLL.position-LatLon.lon", "1163508439",
     NULL},
    {"safetyExt.pathHistory.crumbData[1].llvOffset.offsetLL.position-LatLon.lat", "399764399",
     NULL},
    {"safetyExt.pathHistory.crumbData[1].timeOffset", "5", NULL},
    {"safetyExt.pathHistory.crumbData[2].llvOffset.offsetLL.position-LatLon.lon", "1163508715",
     NULL},
    {"safetyExt.pathHistory.crumbData[2].llvOffset.offsetLL.position-LatLon.lat", "399764418",
     NULL},
    {"safetyExt.pathHistory.crumbData[2].timeOffset", "5", NULL},
    {"safetyExt.pathHistory.crumbData[3].llvOffset.offsetLL.position-LatLon.lon", "1163508893",
     NULL},
    {"safetyExt.pathHistory.crumbData[3].llvOffset.offsetLL.position-LatLon.lat", "399764388",
     NULL},
    {"safetyExt.pathHistory.crumbData[3].timeOffset", "5", NULL},
    {"safetyExt.lights.value", "0000", NULL},
};

/* RoadsideSafetyMessage (vendor text "RSM解析"). */
static const struct expect rsm_expect[] = {
    {"msgCnt", "1", NULL},
    {"id", "3132333435000000", NULL},
    {"refPos.lat", "390000000", NULL},
    {"refPos.long", "1160000000", NULL},
    {"participants[0].ptcType", "non-motor", NULL},
    {"participants[0].ptcId", "1", NULL},
    {"participants[0].source", "video", NULL},
    {"participants[0].secMark", "12902", NULL},
    {"participants[0].pos.offsetLL.position-LatLon.lon", "1074134465", NULL},
    {"participants[0].pos.offsetLL.position-LatLon.lat", "297241937", NULL},
    {"participants[0].posConfidence.pos", "unavailable", NULL},
    {"participants[0].speed", "258", NULL},
    {"participants[0].heading", "13556", NULL},
    {"participants[0].size.width", "0", NULL},
    {"participants[0].size.length", "0", NULL},
};

/* RoadSideInformation (vendor text "RSI解析"). */
static const struct expect rsi_expect[] = {
    {"msgCnt", "18", NULL},
    {"id", "3132333435000000", NULL},
    {"refPos.lat", "280988051", NULL},
    {"refPos.long", "1129829511", NULL},
    {"refPos.elevation", "0", NULL},
    {"rtes[0].rteId", "123", NULL},
    {"rtes[0].eventType", "9902", NULL},
    {"rtes[0].eventSource", "unknown", NULL},
    {"rtes[0].eventPos.offsetLL.position-LL1.lon", "0", NULL},
    {"rtes[0].eventPos.offsetLL.position-LL1.lat", "0", NULL},
    {"rtes[0].eventPos.offsetV", "0", NULL},
    {"rtes[0].eventRadius", "1000", NULL},
    {"rtes[0].priority", "01", NULL},
    {"rtes[0].referencePaths[0].activePath[0].offsetLL.position-LatLon.lon", "1129828181", NULL},
    {"rtes[0].referencePaths[0].activePath[0].offsetLL.position-LatLon.lat", "281005997", NULL},
    {"rtes[0].referencePaths[0].activePath[0].offsetV", "0", NULL},
    {"rtes[0].referencePaths[0].activePath[1].offsetLL.position-LatLon.lon", "1129828313", NULL},
    {"rtes[0].referencePaths[0].activePath[1].offsetLL.position-LatLon.lat", "281004053", NULL},
    {"rtes[0].referencePaths[0].activePath[1].offsetV", "0", NULL},
    {"rtes[0].referencePaths[0].activePath[2].offsetLL.position-LatLon.lon", "1129828884", NULL},
    {"rtes[0].referencePaths[0].activePath[2].offsetLL.position-LatLon.lat", "280996026", NULL},
    {"rtes[0].referencePaths[0].activePath[2].offsetV", "0", NULL},
    {"rtes[0].referencePaths[0].activePath[3].offsetLL.position-LatLon.lon", "1129829511", NULL},
    {"rtes[0].referencePaths[0].activePath[3].offsetLL.position-LatLon.lat", "280988051", NULL},
    {"rtes[0].referencePaths[0].activePath[3].offsetV", "0", NULL},
    {"rtes[0].referencePaths[0].pathRadius", "200", NULL},
};

/* MapData (vendor text "MAP解析", which ends mid-message: every field it
 * lists). timeStamp: another transmission. */
static const struct expect map_expect[] = {
    {"msgCnt", "0", NULL},
    {"timeStamp", "475988", "475970"},
    {"nodes[0].id.region", "1", NULL},
    {"nodes[0].id.id", "149", NULL},
    {"nodes[0].refPos.lat", "280985258", NULL},
    {"nodes[0].refPos.long", "1129830304", NULL},
    {"nodes[0].inLinks[0].upstreamNodeId.region", "1", NULL},
    {"nodes[0].inLinks[0].upstreamNodeId.id", "148", NULL},
    {"nodes[0].inLinks[0].speedLimits[0].type", "vehicleMaxSpeed", NULL},
    {"nodes[0].inLinks[0].speedLimits[0].speed", "834", NULL},
    {"nodes[0].inLinks[0].speedLimits[1].type", "vehicleMinSpeed", NULL},
    {"nodes[0].inLinks[0].speedLimits[1].speed", "0", NULL},
    {"nodes[0].inLinks[0].linkWidth", "2200", NULL},
    {"nodes[0].inLinks[0].points[0].posOffset.offsetLL.position-LatLon.lon", "1129827867", NULL},
    {"nodes[0].inLinks[0].points[0].posOffset.offsetLL.position-LatLon.lat", "281010657", NULL},
    {"nodes[0].inLinks[0].points[1].posOffset.offsetLL.position-LatLon.lon", "1129828313", NULL},
    {"nodes[0].inLinks[0].points[1].posOffset.offsetLL.position-LatLon.lat", "281004053", NULL},
    {"nodes[0].inLinks[0].points[2].posOffset.offsetLL.position-LatLon.lon", "1129828884", NULL},
    {"nodes[0].inLinks[0].points[2].posOffset.offsetLL.position-LatLon.lat", "280996026", NULL},
    {"nodes[0].inLinks[0].points[3].posOffset.offsetLL.position-LatLon.lon", "1129829511", NULL},
    {"nodes[0].inLinks[0].points[3].posOffset.offsetLL.position-LatLon.lat", "280988051", NULL},
    {"nodes[0].inLinks[0].movements[0].remoteIntersection.region", "1", NULL},
    {"nodes[0].inLinks[0].movements[0].remoteIntersection.id", "1091", NULL},
    {"nodes[0].inLinks[0].movements[0].phaseId", "1", NULL},
    {"nodes[0].inLinks[0].movements[1].remoteIntersection.region", "1", NULL},
    {"nodes[0].inLinks[0].movements[1].remoteIntersection.id", "150", NULL},
    {"nodes[0].inLinks[0].movements[1].phaseId", "2", NULL},
    {"nodes[0].inLinks[0].movements[2].remoteIntersection.region", "1", NULL},
    {"nodes[0].inLinks[0].movements[2].remoteIntersection.id", "1095", NULL},
    {"nodes[0].inLinks[0].movements[2].phaseId", "3", NULL},
    {"nodes[0].inLinks[0].lanes[0].laneID", "1", NULL},
    {"nodes[0].inLinks[0].lanes[0].laneWidth", "2200", NULL},
    {"nodes[0].inLinks[0].lanes[0].maneuvers", "e000", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[0].remoteIntersection.region", "1", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[0].remoteIntersection.id", "1091", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[0].connectingLane.lane", "1", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[0].connectingLane.maneuver", "4000", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[0].phaseId", "1", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[1].remoteIntersection.region", "1", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[1].remoteIntersection.id", "150", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[1].connectingLane.lane", "1", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[1].connectingLane.maneuver", "8000", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[1].phaseId", "2", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[2].remoteIntersection.region", "1", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[2].remoteIntersection.id", "1095", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[2].connectingLane.lane", "1", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[2].connectingLane.maneuver", "2000", NULL},
    {"nodes[0].inLinks[0].lanes[0].connectsTo[2].phaseId", "3", NULL},
    {"nodes[0].inLinks[0].lanes[0].points[0].posOffset.offsetLL.position-LatLon.lon", "1129827867",
     NULL},
    {"nodes[0].inLinks[0].lanes[0].points[0].posOffset.offsetLL.position-LatLon.lat", "281010657",
     NULL},
    {"nodes[0].inLinks[0].lanes[0].points[1].posOffset.offsetLL.position-LatLon.lon", "1129828313",
     NULL},
    {"nodes[0].inLinks[0].lanes[0].points[1].posOffset.offsetLL.position-LatLon.lat", "281004053",
     NULL},
    {"nodes[0].inLinks[0].lanes[0].points[2].posOffset.offsetLL.position-LatLon.lon", "1129828884",
     NULL},
    {"nodes[0].inLinks[0].lanes[0].points[2].posOffset.offsetLL.position-LatLon.lat", "280996026",
     NULL},
    {"nodes[0].inLinks[0].lanes[0].points[3].posOffset.offsetLL.position-LatLon.lon", "1129829511",
     NULL},
    {"nodes[0].inLinks[0].lanes[0].points[3].posOffset.offsetLL.position-LatLon.lat", "280988051",
     NULL},
    {"nodes[0].inLinks[1].upstreamNodeId.region", "1", NULL},
    {"nodes[0].inLinks[1].upstreamNodeId.id", "150", NULL},
    {"nodes[0].inLinks[1].speedLimits[0].type", "vehicleMaxSpeed", NULL},
    {"nodes[0].inLinks[1].speedLimits[0].speed", "834", NULL},
    {"nodes[0].inLinks[1].speedLimits[1].type", "vehicleMinSpeed", NULL},
    {"nodes[0].inLinks[1].speedLimits[1].speed", "0", NULL},
    {"nodes[0].inLinks[1].linkWidth", "2200", NULL},
    {"nodes[0].inLinks[1].points[0].posOffset.offsetLL.position-LatLon.lon", "1129832778", NULL},
    {"nodes[0].inLinks[1].points[0].posOffset.offsetLL.position-LatLon.lat", "280959319", NULL},
    {"nodes[0].inLinks[1].points[1].posOffset.offsetLL.position-LatLon.lon", "1129832403", NULL},
    {"nodes[0].inLinks[1].points[1].posOffset.offsetLL.position-LatLon.lat", "280965964", NULL},
    {"nodes[0].inLinks[1].points[2].posOffset.offsetLL.position-LatLon.lon", "1129831923", NULL},
    {"nodes[0].inLinks[1].points[2].posOffset.offsetLL.position-LatLon.lat", "280974223", NULL},
    {"nodes[0].inLinks[1].points[3].posOffset.offsetLL.position-LatLon.lon", "1129831196", NULL},
    {"nodes[0].inLinks[1].points[3].posOffset.offsetLL.position-LatLon.lat", "280982300", NULL},
    {"nodes[0].inLinks[1].movements[0].remoteIntersection.region", "1", NULL},
    {"nodes[0].inLinks[1].movements[0].remoteIntersection.id", "1095", NULL},
    {"nodes[0].inLinks[1].movements[0].phaseId", "9", NULL},
    {"nodes[0].inLinks[1].movements[1].remoteIntersection.region", "1", NULL},
    {"nodes[0].inLinks[1].movements[1].remoteIntersection.id", "148", NULL},
    {"nodes[0].inLinks[1].movements[1].phaseId", "10", NULL},
    {"nodes[0].inLinks[1].movements[2].remoteIntersection.region", "1", NULL},
};

/* ---- helpers ---------------------------------------------------------------- */

static uint8_t *load(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", shared_dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open '%s': %s", path, strerror(errno));
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    assert_int_equal(ferror(f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* The hex datagram after "<label>样例：" or "<label>发送的消息：" in the text. */
static size_t vendor_datagram(const char *label, uint8_t *out, size_t cap)
{
    size_t tlen;
    char *text = (char *)load("real/csae-v2x-hisense/v2x_samples_utf8.txt", &tlen);
    static const char colon[] = "\xef\xbc\x9a"; /* U+FF1A FULLWIDTH COLON */
    size_t n = 0;
    text[tlen < (1 << 20) ? tlen : tlen - 1] = '\0';
    for (char *p = text; (p = strstr(p, label)) != NULL; p++) {
        char *c = strstr(p, colon);
        char *nl = strchr(p, '\n');
        if (!c || (nl && c > nl) || (p != text && p[-1] != '\n'))
            continue;
        for (char *h = c + 3; n < cap && h[0] && h[1]; h += 2) {
            unsigned v;
            if (sscanf(h, "%2x", &v) != 1 || !strchr("0123456789abcdef", h[0]))
                break;
            out[n++] = (uint8_t)v;
        }
        break;
    }
    free(text);
    if (n == 0)
        fail_msg("no datagram labelled '%s' in the vendor text", label);
    return n;
}

/* Minute of the UTC year of an epoch time in ms (MinuteOfTheYear). */
static long minute_of_year(uint64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    assert_non_null(gmtime_r(&s, &tm));
    return (long)tm.tm_yday * 1440 + tm.tm_hour * 60 + tm.tm_min;
}

/* The value at a path like "a.b[2].c" ("." separates keys, "[i]" indexes). */
static const struct json_value *at_path(const struct json_value *v, const char *path)
{
    char key[128];
    const char *p = path;
    while (v && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            if (*end != ']')
                return NULL;
            v = v->type == JSON_ARRAY ? json_at(v, i) : NULL;
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        v = json_get(v, key);
        p += n;
    }
    return v;
}

static struct json_value *to_json(const struct rl_v2x_msg *m)
{
    struct rl_jw jw;
    char err[256], perr[128];
    rl_jw_init(&jw, 1 << 22);
    rl_jw_obj_begin(&jw);
    if (rl_v2x_to_json(m, &jw, err, sizeof(err)))
        fail_msg("to_json: %s", err);
    rl_jw_obj_end(&jw);
    const char *s = rl_jw_str_out(&jw, NULL);
    struct json_value *v = json_parse(s, strlen(s), perr, sizeof(perr));
    if (!v)
        fail_msg("invalid JSON (%s): %s", perr, s);
    rl_jw_release(&jw);
    return v;
}

/* Compares every table entry; returns how many equal the vendor's value. */
static size_t compare(const char *what, const struct json_value *j, const struct expect *e,
                      size_t n)
{
    size_t same = 0;
    for (size_t i = 0; i < n; i++) {
        const struct json_value *v = at_path(j, e[i].path);
        /* The vendor prints a CHOICE of an INTEGER without its alternative
         * name ("offsetV: 0"): take the one member of the CHOICE object. */
        if (v && v->type == JSON_OBJECT && v->n == 1 && v->items[0]->type != JSON_OBJECT)
            v = v->items[0];
        if (!v || !v->text)
            fail_msg("%s: %s missing", what, e[i].path);
        const char *want = e[i].hex ? e[i].hex : e[i].vendor;
        if (strcmp(v->text, want) != 0)
            fail_msg("%s: %s is %s, expected %s", what, e[i].path, v->text, want);
        same += strcmp(v->text, e[i].vendor) == 0;
    }
    print_message("%s: %zu of %zu vendor fields equal%s\n", what, same, n,
                  same < n ? " (the rest: another transmission, see the table)" : "");
    return same;
}

/* Decodes, compares with the table, and re-encodes to the same bytes. */
static void check_frame(const char *what, const uint8_t *p, size_t len, int kind,
                        const struct expect *e, size_t n)
{
    struct rl_v2x_msg *m = calloc(1, sizeof(*m));
    uint8_t *again = malloc(len + 16);
    char err[256];
    size_t n2;
    assert_non_null(m);
    assert_non_null(again);
    if (rl_v2x_decode(p, len, m, err, sizeof(err)))
        fail_msg("%s: %s", what, err);
    assert_int_equal(m->kind, kind);
    assert_int_equal(m->ext_skipped, 0);
    struct json_value *j = to_json(m);
    compare(what, j, e, n);
    json_free(j);
    if (rl_v2x_encode(m, again, len + 16, &n2, err, sizeof(err)))
        fail_msg("%s: re-encode: %s", what, err);
    assert_int_equal(n2, len);
    assert_memory_equal(again, p, len);
    free(again);
    free(m);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A single-frame vendor datagram: header fields, the .uper file equal to
 * its payload, and the frame checked. Returns the header time. */
static uint64_t check_datagram(const char *label, const char *uper, int kind,
                               const struct expect *e, size_t n)
{
    uint8_t dg[2048];
    size_t dn = vendor_datagram(label, dg, sizeof(dg)), un;
    struct rl_v2x_frames fr;
    char err[256];
    assert_int_equal(rl_v2x_unframe(NULL, 0, dg, dn, &fr, err, sizeof(err)), 0);
    assert_int_equal(fr.framing, RL_V2X_FRAMING_VENDOR);
    assert_false(fr.batch);
    assert_string_equal(fr.vendor_id, "u_id_123");
    assert_int_equal(fr.f[0].len, dn - 18);
    uint8_t *file = load(uper, &un);
    assert_int_equal(un, fr.f[0].len);
    assert_memory_equal(file, fr.f[0].p, un);
    free(file);
    check_frame(label, fr.f[0].p, fr.f[0].len, kind, e, n);
    /* The registered decoder on the whole datagram. */
    struct rl_payload pl = {.data = dg, .len = dn, .linktype = RL_LINKTYPE_PAYLOAD};
    struct rl_jw jw;
    char type[40];
    assert_int_equal(rl_decoder_v2x_csae.detect(&pl), 95);
    rl_jw_init(&jw, 1 << 22);
    rl_jw_obj_begin(&jw);
    assert_int_equal(rl_decoder_v2x_csae.decode(NULL, &pl, &jw, err, sizeof(err)), 0);
    rl_jw_obj_end(&jw);
    snprintf(type, sizeof(type), "{\"type\":\"v2x.csae53.%s\"", rl_v2x_kind_name(kind));
    assert_true(strncmp(rl_jw_str_out(&jw, NULL), type, strlen(type)) == 0);
    rl_jw_release(&jw);
    return fr.vendor_time_ms;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_spat(void **state)
{
    (void)state;
    uint64_t ms = check_datagram("SPAT", "real/csae-v2x-hisense/SPAT.uper", RL_V2X_SPAT,
                                 spat_expect, N(spat_expect));
    /* The hex's moy is the header time's minute (the text's is not). */
    assert_int_equal(minute_of_year(ms), 458335);
}

static void test_map(void **state)
{
    (void)state;
    uint64_t ms = check_datagram("MAP", "real/csae-v2x-hisense/MAP.uper", RL_V2X_MAP, map_expect,
                                 N(map_expect));
    assert_int_equal(minute_of_year(ms), 475970);
}

static void test_rsi(void **state)
{
    (void)state;
    check_datagram("RSI", "real/csae-v2x-hisense/RSI.uper", RL_V2X_RSI, rsi_expect, N(rsi_expect));
}

static void test_rsm(void **state)
{
    (void)state;
    check_datagram("RSM", "real/csae-v2x-hisense/RSM.uper", RL_V2X_RSM, rsm_expect, N(rsm_expect));
}

static void test_bsm_batch(void **state)
{
    (void)state;
    uint8_t dg[1024];
    size_t dn = vendor_datagram("BSM", dg, sizeof(dg));
    struct rl_v2x_frames fr;
    char err[256];
    assert_int_equal(dn, 160);
    assert_int_equal(rl_v2x_unframe(NULL, 0, dg, dn, &fr, err, sizeof(err)), 0);
    assert_int_equal(fr.framing, RL_V2X_FRAMING_VENDOR);
    assert_true(fr.batch);
    assert_int_equal(fr.n, 2);
    assert_int_equal(fr.f[0].len, 86);
    assert_int_equal(fr.f[1].len, 53);
    /* Frame 1 is the text's first BSM; frame 0 the vehicle of its second. */
    check_frame("BSM frame 1", fr.f[1].p, fr.f[1].len, RL_V2X_BSM, bsm_vendor1_expect,
                N(bsm_vendor1_expect));
    check_frame("BSM frame 0", fr.f[0].p, fr.f[0].len, RL_V2X_BSM, bsm_vendor2_expect,
                N(bsm_vendor2_expect));
    /* The registered decoder reports the batch. */
    struct rl_payload pl = {.data = dg, .len = dn, .linktype = RL_LINKTYPE_PAYLOAD};
    struct rl_jw jw;
    rl_jw_init(&jw, 1 << 20);
    rl_jw_obj_begin(&jw);
    assert_int_equal(rl_decoder_v2x_csae.decode(NULL, &pl, &jw, err, sizeof(err)), 0);
    rl_jw_obj_end(&jw);
    const char *s = rl_jw_str_out(&jw, NULL);
    assert_true(strncmp(s,
                        "{\"type\":\"v2x.csae53.batch\",\"messages\":[{\"type\":"
                        "\"v2x.csae53.BSM\",\"msgCnt\":117,",
                        56) == 0);
    assert_non_null(strstr(s, "{\"type\":\"v2x.csae53.BSM\",\"msgCnt\":101,"));
    rl_jw_release(&jw);
}

static int32_t le32s(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    int32_t s;
    memcpy(&s, &u, sizeof(s));
    return s;
}

/* Wyoming OBU log: every record's 1609.2 payload holds one BSM. */
static void check_wyoming(const char *rel, int want_records)
{
    size_t len, off = 0;
    uint8_t *d = load(rel, &len);
    int records = 0, bsms = 0, tx_checked = 0;
    while (off < len) {
        assert_true(len - off >= 26);
        const uint8_t *r = d + off;
        int32_t lat = le32s(r + 1), lon = le32s(r + 5), elev = le32s(r + 9);
        unsigned speed = r[13] | r[14] << 8, heading = r[15] | r[16] << 8;
        uint32_t utc = (uint32_t)le32s(r + 17);
        unsigned ms = r[21] | r[22] << 8;
        size_t plen = (size_t)(r[24] | r[25] << 8);
        assert_true(plen <= len - off - 26);
        const uint8_t *pl = r + 26;
        size_t fo, fl;
        uint32_t id;
        struct rl_j2735_bsm_core b;
        char err[256];
        assert_int_equal(rl_j2735_find_frame(pl, plen, &fo, &fl, &id), 0);
        assert_int_equal(id, 20);
        if (rl_j2735_decode(pl + fo, fl, &id, &b, err, sizeof(err)))
            fail_msg("%s record %d: %s", rel, records, err);
        bsms++;
        assert_true(b.lat > 400000000 && b.lat < 420000000);
        assert_true(b.lon > -1110000000 && b.lon < -1040000000);
        if (r[0] == 0) { /* transmitted by this vehicle: header = its own BSM */
            assert_int_equal(b.lat, lat);
            assert_int_equal(b.lon, lon);
            assert_int_equal(b.elev, elev);
            assert_int_equal(b.speed, speed);
            assert_int_equal(b.heading, heading);
            assert_int_equal(b.secMark, (utc % 60) * 1000 + ms);
            tx_checked++;
        }
        /* And through the registered decoder. */
        struct rl_payload p = {.data = pl, .len = plen, .linktype = RL_LINKTYPE_PAYLOAD};
        struct rl_jw jw;
        assert_true(rl_decoder_v2x_j2735.detect(&p) >= 80);
        rl_jw_init(&jw, 1 << 16);
        rl_jw_obj_begin(&jw);
        assert_int_equal(rl_decoder_v2x_j2735.decode(NULL, &p, &jw, err, sizeof(err)), 0);
        rl_jw_obj_end(&jw);
        assert_true(strncmp(rl_jw_str_out(&jw, NULL), "{\"type\":\"v2x.j2735.BSM\"", 23) == 0);
        rl_jw_release(&jw);
        off += 26 + plen;
        records++;
    }
    assert_int_equal(records, want_records);
    assert_int_equal(bsms, want_records);
    print_message("%s: %d records, %d BSMs, %d checked against their header\n", rel, records, bsms,
                  tx_checked);
    assert_true(tx_checked > 0);
    free(d);
}

static void test_j2735(void **state)
{
    (void)state;
    check_wyoming("real/j2735-uper-jpo-ode/bsmTx.bin", 16);
    check_wyoming("real/j2735-uper-jpo-ode/bsmLogDuringEvent.bin", 222);
}

int main(int argc, char **argv)
{
    struct stat st;
    shared_dir = argc > 1 ? argv[1] : getenv("RL_SHARED_DATA");
    if (!shared_dir)
        shared_dir = "../shared/data";
    char probe[1024];
    snprintf(probe, sizeof(probe), "%s/real/csae-v2x-hisense", shared_dir);
    if (stat(probe, &st) != 0) {
        printf("SKIP: ../shared/data not found (looked for '%s')\n", probe);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spat), cmocka_unit_test(test_map),       cmocka_unit_test(test_rsi),
        cmocka_unit_test(test_rsm),  cmocka_unit_test(test_bsm_batch), cmocka_unit_test(test_j2735),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
