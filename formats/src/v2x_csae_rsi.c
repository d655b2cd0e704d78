/* RoadSideInformation of T/CSAE 53-2017 (module RSI): road traffic events
 * (RTEData) and road traffic signs (RTSData) with their positions,
 * descriptions, validity times, priorities, reference paths and reference
 * links, coded by the UPER walker (uper.h). Reference paths, their points
 * and reference links live in the pools of struct rl_v2x_rsi. */
#include <string.h>

#include "v2x_csae_internal.h"

static const char *const event_source_ids[] = {
    "unknown", "police", "government", "meteorological", "internet", "detection",
};

static const char *const description_alts[] = {"textString", "textGB2312"};

static void description(struct rl_per *c, struct rl_v2x_description *v)
{
    int32_t k = v->kind;
    if (rl__per_choice_begin(c, "description", &k, 2, false)) {
        if (k == RL_V2X_TEXT_IA5) {
            rl__per_ia5(c, description_alts[k], (char *)v->text, 1, RL_V2X_DESCRIPTION_MAX);
            if (rl__per_decoding(c))
                v->len = (int32_t)strnlen((const char *)v->text, RL_V2X_DESCRIPTION_MAX);
        } else {
            rl__per_octets(c, description_alts[k], v->text, &v->len, 2, RL_V2X_DESCRIPTION_MAX);
        }
    }
    rl__per_choice_end(c);
    if (rl__per_decoding(c))
        v->kind = k;
}

static void time_details(struct rl_per *c, struct rl_v2x_rsi_time *v)
{
    bool opt[3] = {v->has_startTime, v->has_endTime, v->has_endTimeConfidence};
    if (rl__per_seq_begin(c, "timeDetails", false, opt, 3)) {
        if (opt[0])
            rl__per_int(c, "startTime", &v->startTime, 0, RL__MOY_UB);
        if (opt[1])
            rl__per_int(c, "endTime", &v->endTime, 0, RL__MOY_UB);
        if (opt[2])
            rl__per_enum(c, "endTimeConfidence", &v->endTimeConfidence, rl__v2x_time_confidence_ids,
                         40, false);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_startTime = opt[0];
        v->has_endTime = opt[1];
        v->has_endTimeConfidence = opt[2];
    }
}

/* ReferencePathList ::= SEQUENCE (SIZE(1..8)) OF ReferencePath */
static void reference_paths(struct rl_per *c, struct rl_v2x_rsi *m, struct rl_v2x_span *sp)
{
    if (rl__per_span_begin(c, "referencePaths", &sp->first, &sp->count, &m->n_path_pool,
                           RL_V2X_RSI_MAX_PATHS, 1, 8))
        for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
            struct rl_v2x_ref_path *v = &m->path_pool[sp->first + i];
            rl__per_item_begin(c, i);
            if (rl__per_seq_begin(c, NULL, false, NULL, 0)) {
                struct rl_v2x_span *ap = &v->activePath;
                if (rl__per_span_begin(c, "activePath", &ap->first, &ap->count,
                                       &m->n_path_point_pool, RL_V2X_RSI_MAX_PATH_POINTS, 1, 32))
                    for (int j = 0; j < ap->count && !rl__per_err(c); j++) {
                        rl__per_item_begin(c, j);
                        rl__v2x_offset_llv(c, NULL, &m->path_point_pool[ap->first + j]);
                        rl__per_item_end(c);
                    }
                rl__per_list_end(c);
                rl__per_int(c, "pathRadius", &v->pathRadius, 0, 65535);
            }
            rl__per_seq_end(c);
            rl__per_item_end(c);
        }
    rl__per_list_end(c);
}

/* ReferenceLinkList ::= SEQUENCE (SIZE(1..16)) OF ReferenceLink */
static void reference_links(struct rl_per *c, struct rl_v2x_rsi *m, struct rl_v2x_span *sp)
{
    if (rl__per_span_begin(c, "referenceLinks", &sp->first, &sp->count, &m->n_link_pool,
                           RL_V2X_RSI_MAX_LINKS, 1, 16))
        for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
            struct rl_v2x_ref_link *v = &m->link_pool[sp->first + i];
            bool opt[1] = {v->has_referenceLanes};
            rl__per_item_begin(c, i);
            if (rl__per_seq_begin(c, NULL, false, opt, 1)) {
                rl__v2x_node_ref(c, "upstreamNodeId", &v->upstreamNodeId);
                rl__v2x_node_ref(c, "downstreamNodeId", &v->downstreamNodeId);
                if (opt[0])
                    rl__per_bits(c, "referenceLanes", &v->referenceLanes, 16);
            }
            rl__per_seq_end(c);
            if (rl__per_decoding(c))
                v->has_referenceLanes = opt[0];
            rl__per_item_end(c);
        }
    rl__per_list_end(c);
}

/* RTEData (rte) or RTSData (!rte): the same members in the same order,
 * RTEData adding eventSource, eventRadius and eventConfidence. */
static void item(struct rl_per *c, struct rl_v2x_rsi *m, struct rl_v2x_rsi_item *v, bool rte)
{
    bool o8[8] = {v->has_pos,
                  v->has_eventRadius,
                  v->has_description,
                  v->has_timeDetails,
                  v->has_priority,
                  v->referencePaths.count > 0,
                  v->referenceLinks.count > 0,
                  v->has_eventConfidence};
    bool o6[6] = {v->has_pos,      v->has_description,          v->has_timeDetails,
                  v->has_priority, v->referencePaths.count > 0, v->referenceLinks.count > 0};
    /* Presence in RTEData order: pos, radius, description, time, priority,
     * paths, links, confidence; RTSData lacks radius and confidence. */
    bool *pos = rte ? &o8[0] : &o6[0], *rad = rte ? &o8[1] : NULL, *desc = rte ? &o8[2] : &o6[1],
         *tim = rte ? &o8[3] : &o6[2], *pri = rte ? &o8[4] : &o6[3], *pth = rte ? &o8[5] : &o6[4],
         *lnk = rte ? &o8[6] : &o6[5], *cfd = rte ? &o8[7] : NULL;
    if (rl__per_seq_begin(c, NULL, true, rte ? o8 : o6, rte ? 8 : 6)) {
        rl__per_int(c, rte ? "rteId" : "rtsId", &v->itemId, 0, 255);
        rl__per_int(c, rte ? "eventType" : "signType", &v->type, 0, 65535);
        if (rte)
            rl__per_enum(c, "eventSource", &v->eventSource, event_source_ids,
                         RL__NIDS(event_source_ids), true);
        if (*pos)
            rl__v2x_offset_llv(c, rte ? "eventPos" : "signPos", &v->pos);
        if (rad && *rad)
            rl__per_int(c, "eventRadius", &v->eventRadius, 0, 65535);
        if (*desc)
            description(c, &v->description);
        if (*tim)
            time_details(c, &v->timeDetails);
        if (*pri)
            rl__per_octets(c, "priority", &v->priority, NULL, 1, 1);
        if (*pth)
            reference_paths(c, m, &v->referencePaths);
        if (*lnk)
            reference_links(c, m, &v->referenceLinks);
        if (cfd && *cfd)
            rl__per_int(c, "eventConfidence", &v->eventConfidence, 0, 200);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_pos = *pos;
        v->has_eventRadius = rad && *rad;
        v->has_description = *desc;
        v->has_timeDetails = *tim;
        v->has_priority = *pri;
        v->has_eventConfidence = cfd && *cfd;
    }
}

void rl__v2x_rsi(struct rl_per *c, const char *name, struct rl_v2x_rsi *v)
{
    bool opt[3] = {v->has_moy, v->n_rtes > 0, v->n_rtss > 0};
    if (rl__per_seq_begin(c, name, true, opt, 3)) {
        rl__per_int(c, "msgCnt", &v->msgCnt, 0, RL__MSGCOUNT_UB);
        if (opt[0])
            rl__per_int(c, "moy", &v->moy, 0, RL__MOY_UB);
        rl__per_octets(c, "id", v->id, NULL, 8, 8);
        rl__v2x_position3d(c, "refPos", &v->refPos);
        if (opt[1]) {
            if (rl__per_list_begin(c, "rtes", &v->n_rtes, 1, 8, RL_V2X_RSI_MAX_RTES))
                for (int i = 0; i < v->n_rtes && !rl__per_err(c); i++) {
                    rl__per_item_begin(c, i);
                    item(c, v, &v->rtes[i], true);
                    rl__per_item_end(c);
                }
            rl__per_list_end(c);
        }
        if (opt[2]) {
            if (rl__per_list_begin(c, "rtss", &v->n_rtss, 1, 16, RL_V2X_RSI_MAX_RTSS))
                for (int i = 0; i < v->n_rtss && !rl__per_err(c); i++) {
                    rl__per_item_begin(c, i);
                    item(c, v, &v->rtss[i], false);
                    rl__per_item_end(c);
                }
            rl__per_list_end(c);
        }
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_moy = opt[0];
}
