/* Capture health as data (recorder/, private; docs/format.md
 * "/roadlog/health"): the periodic JSON message
 *   {"sources":[{"topic","frames","bytes","kernel_drops","ring_drops","rate_hz"}]}
 * whose counters are cumulative since the start of the run (so the latest
 * message of a file, or of the last part, is the run's loss account), the
 * per-source rates, the live statistics, and the control socket's `status`
 * reply. */
#include <stdio.h>
#include <string.h>

#include "rec_internal.h"

#define RATE_MIN_INTERVAL_NS (250 * RL__NS_PER_MS)

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

void rl__update_rates(struct rl_recorder *r, uint64_t now_mono)
{
    if (r->rate_mono && now_mono < r->rate_mono + RATE_MIN_INTERVAL_NS)
        return;
    double dt = r->rate_mono ? (double)(now_mono - r->rate_mono) / 1e9 : 0;
    pthread_mutex_lock(&r->stat_lock);
    for (size_t i = 0; i < r->n_src; i++) {
        struct rl__source *s = &r->src[i];
        uint64_t f = load(&s->frames), b = load(&s->bytes);
        if (dt > 0) {
            s->rate_hz = (double)(f - s->rate_frames) / dt;
            s->bytes_per_s = (double)(b - s->rate_bytes) / dt;
        }
        s->rate_frames = f;
        s->rate_bytes = b;
    }
    pthread_mutex_unlock(&r->stat_lock);
    r->rate_mono = now_mono;
}

void rl__health_json(struct rl_recorder *r, struct rl_jw *w)
{
    rl_jw_reset(w);
    rl_jw_obj_begin(w);
    rl_jw_key(w, "sources");
    rl_jw_arr_begin(w);
    pthread_mutex_lock(&r->stat_lock);
    for (size_t i = 0; i < r->n_src; i++) {
        struct rl__source *s = &r->src[i];
        rl_jw_obj_begin(w);
        rl_jw_kstr(w, "topic", s->spec.topic);
        rl_jw_ku64(w, "frames", load(&s->frames));
        rl_jw_ku64(w, "bytes", load(&s->bytes));
        rl_jw_ku64(w, "kernel_drops", load(&s->kernel_drops));
        rl_jw_ku64(w, "ring_drops", load(&s->ring_drops) + load(&s->snap_lost));
        rl_jw_kdouble(w, "rate_hz", s->rate_hz, 6);
        rl_jw_obj_end(w);
    }
    pthread_mutex_unlock(&r->stat_lock);
    rl_jw_arr_end(w);
    rl_jw_obj_end(w);
}

void rl_recorder_get_stats(struct rl_recorder *r, struct rl_recorder_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->stop = (enum rl_rec_stop)atomic_load(&r->stop_reason);
    uint64_t now_mono = rl__mono_ns();
    out->elapsed_ns =
        r->start_mono_ns && now_mono > r->start_mono_ns ? now_mono - r->start_mono_ns : 0;
    out->start_ns = r->start_ns;
    snprintf(out->run_id, sizeof(out->run_id), "%s", r->run_id);
    out->markers = atomic_load(&r->markers_written);
    out->snapshots = atomic_load(&r->snapshots);
    out->n_sources = r->n_src;
    pthread_mutex_lock(&r->stat_lock);
    out->draining = r->pub_draining;
    out->part = r->pub_part;
    snprintf(out->path, sizeof(out->path), "%s", r->pub_path);
    out->file_bytes = r->pub_file_bytes;
    out->disk_free_bytes = r->pub_disk_free;
    out->write_bytes_per_s = r->pub_write_rate;
    out->disk_seconds_left = r->pub_disk_seconds;
    for (size_t i = 0; i < r->n_src; i++) {
        struct rl__source *s = &r->src[i];
        struct rl_recorder_source_stats *o = &out->sources[i];
        snprintf(o->topic, sizeof(o->topic), "%s", s->spec.topic);
        snprintf(o->spec, sizeof(o->spec), "%s", s->spec.text);
        snprintf(o->interface, sizeof(o->interface), "%s", s->interface);
        o->rate_hz = s->rate_hz;
        o->bytes_per_s = s->bytes_per_s;
    }
    pthread_mutex_unlock(&r->stat_lock);
    for (size_t i = 0; i < r->n_src; i++) {
        struct rl__source *s = &r->src[i];
        struct rl_recorder_source_stats *o = &out->sources[i];
        o->frames = load(&s->frames);
        o->bytes = load(&s->bytes);
        o->kernel_drops = load(&s->kernel_drops);
        o->ring_drops = load(&s->ring_drops) + load(&s->snap_lost);
        o->expected_hz = s->spec.expected_hz;
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        o->failed = st == RL__SRC_FAILED;
        o->ended = st == RL__SRC_ENDED;
    }
}

static const char *state_name(const struct rl_recorder_stats *st, bool done)
{
    if (done)
        return "stopped";
    if (st->stop != RL_REC_RUNNING || st->draining)
        return "stopping";
    return "recording";
}

void rl_recorder_status_json(struct rl_recorder *r, struct rl_jw *w)
{
    struct rl_recorder_stats st;
    rl_recorder_get_stats(r, &st);
    rl_jw_obj_begin(w);
    rl_jw_kstr(w, "state", state_name(&st, rl_recorder_done(r)));
    rl_jw_kstr(w, "file", st.path);
    rl_jw_ku64(w, "part", st.part);
    rl_jw_kstr(w, "run_id", st.run_id);
    rl_jw_kdouble(w, "elapsed_s", (double)st.elapsed_ns / 1e9, 6);
    rl_jw_ku64(w, "bytes_written", st.file_bytes);
    rl_jw_ku64(w, "disk_free_bytes", st.disk_free_bytes);
    rl_jw_key(w, "disk_seconds_left");
    if (st.disk_seconds_left >= 0)
        rl_jw_u64(w, (uint64_t)st.disk_seconds_left);
    else
        rl_jw_null(w);
    rl_jw_ku64(w, "markers", st.markers);
    if (r->opts.snapshot_ns)
        rl_jw_ku64(w, "snapshots", st.snapshots);
    rl_jw_key(w, "sources");
    rl_jw_arr_begin(w);
    for (size_t i = 0; i < st.n_sources; i++) {
        const struct rl_recorder_source_stats *s = &st.sources[i];
        rl_jw_obj_begin(w);
        rl_jw_kstr(w, "topic", s->topic);
        rl_jw_kstr(w, "source", s->spec);
        rl_jw_kstr(w, "interface", s->interface);
        rl_jw_ku64(w, "frames", s->frames);
        rl_jw_ku64(w, "bytes", s->bytes);
        rl_jw_ku64(w, "kernel_drops", s->kernel_drops);
        rl_jw_ku64(w, "ring_drops", s->ring_drops);
        rl_jw_kdouble(w, "rate_hz", s->rate_hz, 6);
        if (s->expected_hz > 0)
            rl_jw_kdouble(w, "expected_hz", s->expected_hz, 6);
        rl_jw_kstr(w, "state", s->failed ? "failed" : s->ended ? "ended" : "ok");
        rl_jw_obj_end(w);
    }
    rl_jw_arr_end(w);
    rl_jw_obj_end(w);
}
