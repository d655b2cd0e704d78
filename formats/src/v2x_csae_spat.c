/* SPAT of T/CSAE 53-2017 (modules SignalPhaseAndTiming and
 * SPATIntersectionState): intersections, their phases, the phase states with
 * light and timing (TimeCountingDown or UTCTiming), coded by the UPER walker
 * (uper.h). Phases and phase states live in the pools of struct
 * rl_v2x_spat. */
#include "v2x_csae_internal.h"

static const char *const light_ids[] = {
    "unavailable",     "dark",   "flashing-red",    "red", "flashing-green", "permissive-green",
    "protected-green", "yellow", "flashing-yellow",
};

static const char *const timing_alts[] = {"counting", "utcTiming"};

/* Member names of TimeCountingDown and UTCTiming, in ASN.1 order. */
static const char *const counting_names[7] = {
    "startTime",      "minEndTime",    "maxEndTime",   "likelyEndTime",
    "timeConfidence", "nextStartTime", "nextDuration",
};
static const char *const utc_names[7] = {
    "startUTCTime",   "minEndUTCTime",    "maxEndUTCTime",  "likelyEndUTCTime",
    "timeConfidence", "nextStartUTCTime", "nextEndUTCTime",
};

#define TIMEMARK_UB 36001

/* TimeCountingDown / UTCTiming: same shape, different names. */
static void timing_body(struct rl_per *c, const char *name, const char *const *n,
                        struct rl_v2x_timing *v)
{
    bool opt[5] = {v->has_minEnd, v->has_maxEnd, v->has_timeConfidence, v->has_nextStart,
                   v->has_nextEnd};
    if (rl__per_seq_begin(c, name, false, opt, 5)) {
        rl__per_int(c, n[0], &v->start, 0, TIMEMARK_UB);
        if (opt[0])
            rl__per_int(c, n[1], &v->minEnd, 0, TIMEMARK_UB);
        if (opt[1])
            rl__per_int(c, n[2], &v->maxEnd, 0, TIMEMARK_UB);
        rl__per_int(c, n[3], &v->likelyEnd, 0, TIMEMARK_UB);
        if (opt[2])
            rl__per_int(c, n[4], &v->timeConfidence, 0, 200);
        if (opt[3])
            rl__per_int(c, n[5], &v->nextStart, 0, TIMEMARK_UB);
        if (opt[4])
            rl__per_int(c, n[6], &v->nextEnd, 0, TIMEMARK_UB);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_minEnd = opt[0];
        v->has_maxEnd = opt[1];
        v->has_timeConfidence = opt[2];
        v->has_nextStart = opt[3];
        v->has_nextEnd = opt[4];
    }
}

static void time_change(struct rl_per *c, const char *name, struct rl_v2x_timing *v)
{
    int32_t k = v->kind;
    if (rl__per_choice_begin(c, name, &k, 2, true))
        timing_body(c, timing_alts[k], k == RL_V2X_TIMING_COUNTING ? counting_names : utc_names, v);
    rl__per_choice_end(c);
    if (rl__per_decoding(c))
        v->kind = k;
}

static void phase_state(struct rl_per *c, struct rl_v2x_phase_state *v)
{
    bool opt[1] = {v->has_timing};
    if (rl__per_seq_begin(c, NULL, true, opt, 1)) {
        rl__per_enum(c, "light", &v->light, light_ids, RL__NIDS(light_ids), true);
        if (opt[0])
            time_change(c, "timing", &v->timing);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c))
        v->has_timing = opt[0];
}

static void phase(struct rl_per *c, struct rl_v2x_spat *s, struct rl_v2x_phase *v)
{
    if (rl__per_seq_begin(c, NULL, false, NULL, 0)) {
        rl__per_int(c, "id", &v->id, 0, 255);
        struct rl_v2x_span *sp = &v->phaseStates;
        if (rl__per_span_begin(c, "phaseStates", &sp->first, &sp->count, &s->n_state_pool,
                               RL_V2X_SPAT_MAX_STATES, 1, 16))
            for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
                rl__per_item_begin(c, i);
                phase_state(c, &s->state_pool[sp->first + i]);
                rl__per_item_end(c);
            }
        rl__per_list_end(c);
    }
    rl__per_seq_end(c);
}

static void intersection(struct rl_per *c, struct rl_v2x_spat *s,
                         struct rl_v2x_intersection_state *v)
{
    bool opt[3] = {v->has_moy, v->has_timeStamp, v->has_timeConfidence};
    if (rl__per_seq_begin(c, NULL, true, opt, 3)) {
        rl__v2x_node_ref(c, "intersectionId", &v->intersectionId);
        rl__per_bits(c, "status", &v->status, 16);
        if (opt[0])
            rl__per_int(c, "moy", &v->moy, 0, RL__MOY_UB);
        if (opt[1])
            rl__per_int(c, "timeStamp", &v->timeStamp, 0, RL__DSECOND_UB);
        if (opt[2])
            rl__per_enum(c, "timeConfidence", &v->timeConfidence, rl__v2x_time_confidence_ids, 40,
                         false);
        struct rl_v2x_span *sp = &v->phases;
        if (rl__per_span_begin(c, "phases", &sp->first, &sp->count, &s->n_phase_pool,
                               RL_V2X_SPAT_MAX_PHASES, 1, 16))
            for (int i = 0; i < sp->count && !rl__per_err(c); i++) {
                rl__per_item_begin(c, i);
                phase(c, s, &s->phase_pool[sp->first + i]);
                rl__per_item_end(c);
            }
        rl__per_list_end(c);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_moy = opt[0];
        v->has_timeStamp = opt[1];
        v->has_timeConfidence = opt[2];
    }
}

void rl__v2x_spat(struct rl_per *c, const char *name, struct rl_v2x_spat *v)
{
    bool opt[3] = {v->has_moy, v->has_timeStamp, v->has_name};
    if (rl__per_seq_begin(c, name, true, opt, 3)) {
        rl__per_int(c, "msgCnt", &v->msgCnt, 0, RL__MSGCOUNT_UB);
        if (opt[0])
            rl__per_int(c, "moy", &v->moy, 0, RL__MOY_UB);
        if (opt[1])
            rl__per_int(c, "timeStamp", &v->timeStamp, 0, RL__DSECOND_UB);
        if (opt[2])
            rl__v2x_descriptive_name(c, "name", v->name);
        if (rl__per_list_begin(c, "intersections", &v->n_intersections, 1, 32,
                               RL_V2X_SPAT_MAX_INTERSECTIONS))
            for (int i = 0; i < v->n_intersections && !rl__per_err(c); i++) {
                rl__per_item_begin(c, i);
                intersection(c, v, &v->intersections[i]);
                rl__per_item_end(c);
            }
        rl__per_list_end(c);
    }
    rl__per_seq_end(c);
    if (rl__per_decoding(c)) {
        v->has_moy = opt[0];
        v->has_timeStamp = opt[1];
        v->has_name = opt[2];
    }
}
