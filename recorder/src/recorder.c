/* The recorder (recorder.h; architecture.md section 3 "Record"): capture
 * threads fill per-source rings; one builder thread merges the rings in time
 * order into the chunk pipeline (pipeline.h) of the current part, writes
 * markers and health, rotates parts and watches the disk budget; a syncer
 * thread flushes the open chunk and fdatasyncs every --fsync-interval.
 *
 * Threads.
 *   capture (one per source)  run() of its type: reads the kernel, pushes
 *                             into its ring, counts ring and kernel drops.
 *                             Never waits for anything but its descriptor.
 *   builder                   the only consumer of the rings and the only
 *                             thread that writes messages or changes parts.
 *   syncer                    every fsync interval, under part_lock:
 *                             rl_pipeline_flush() + fdatasync().
 *   pipeline workers/appender compress and append chunks (pipeline.c).
 *   caller's thread           stop, mark, stats, status, events.
 *
 * State machine (of the recorder as a whole):
 *   NEW --start--> RECORDING --stop reason--> DRAINING --> CLOSING --> DONE
 *   NEW: sources open, nothing written. RECORDING: stop_reason is RUNNING.
 *   A stop reason (rl_recorder_stop, --duration, the disk budget, a write
 *   error, every source gone) is set once (first wins) and sets
 *   stop_capture: RL__STOP_DRAIN (capture reads what the kernel already
 *   holds, then leaves) or RL__STOP_NOW (disk budget, write error).
 *   DRAINING: the builder writes everything left in the rings (nothing when
 *   a write failed) once every capture thread is done. CLOSING: the final
 *   health message, the last part finished (Summary) or, after a write
 *   error, cut back to its last whole record. DONE: `done` is set.
 *   Snapshot sub-state of the builder (--snapshot D): every frame goes
 *   through the snapshot buffer; OFF: frames older than the newest minus D
 *   fall out; ON after a marker at t: frames in [t - D, snap_end] go to the
 *   file, snap_end = t + D extended by each later marker; the first frame
 *   past snap_end turns it OFF again.
 *
 * Invariants.
 *   - Capture never blocks on the disk: a full ring drops the frame and
 *     counts it (ring_drops); the builder never holds a lock a capture
 *     thread wants (there is none).
 *   - Every frame taken from a ring is written to exactly one part, or (in
 *     snapshot mode) falls out of the buffer uncounted when outside any
 *     window, or counted when memory ran out inside one. A frame the
 *     pipeline cannot take now (-EAGAIN) stays in its ring.
 *   - Part rotation happens between two frames, on the builder: no frame is
 *     lost or written twice at a boundary; sequence numbers continue.
 *   - All memory that scales with traffic (rings, batches, snapshot buffer,
 *     pipeline jobs) is sized by the memory plan at new/start and never
 *     grows; nothing is allocated per frame.
 *   - Health counters are cumulative for the run; the last health message
 *     of the last part is written after every capture thread has finished,
 *     so it is the run's final loss account. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "rec_internal.h"
#include "snapshot.h"

#define HOLD_NS            (20 * RL__NS_PER_MS) /* merge window for time order */
#define HEALTH_INTERVAL_NS RL__NS_PER_S
#define BUDGET_INTERVAL_NS (250 * RL__NS_PER_MS)
#define IDLE_SLEEP_NS      (1 * RL__NS_PER_MS)
#define FRAMES_PER_PASS    4096
#define DEFAULT_FSYNC_NS   RL__NS_PER_S
#define MIN_FSYNC_NS       (10 * RL__NS_PER_MS)
#define MIN_FREE_CAP       ((uint64_t)1 << 30) /* default: min(1 GiB, 5%) */
#define MIN_FREE_PERCENT   5
#define JW_LIMIT           ((size_t)1 << 20)
#define SNAP_MIN_FRAME     ((size_t)64 << 10)
#define CAPTURE_NICE       (-10)

static const char *const reserved_meta[] = {
    "run_id", "part", "start_time", "host", "roadlog_version", "command", "snapshot_s", NULL,
};

/* For a status whose failure is already recorded elsewhere. */
static void ignore(int rc)
{
    (void)rc;
}

void rl_recorder_options_init(struct rl_recorder_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    rl_writer_options_init(&opts->writer);
    opts->writer.level = RL_REC_DEFAULT_LEVEL;
    opts->fsync_interval_ns = DEFAULT_FSYNC_NS;
}

/* ---- events and stop reasons ---- */

void rl__rec_event(struct rl_recorder *r, const char *fmt, ...)
{
    pthread_mutex_lock(&r->event_lock);
    if (r->ev_n == RL__EVENTS) { /* drop the oldest */
        r->ev_head = (r->ev_head + 1) % RL__EVENTS;
        r->ev_n--;
    }
    char *slot = r->events[(r->ev_head + r->ev_n) % RL__EVENTS];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot, RL__EVENT_LEN, fmt, ap);
    va_end(ap);
    r->ev_n++;
    pthread_mutex_unlock(&r->event_lock);
}

int rl_recorder_next_event(struct rl_recorder *r, char *buf, size_t len)
{
    int got = 0;
    pthread_mutex_lock(&r->event_lock);
    if (r->ev_n > 0) {
        snprintf(buf, len, "%s", r->events[r->ev_head]);
        r->ev_head = (r->ev_head + 1) % RL__EVENTS;
        r->ev_n--;
        got = 1;
    }
    pthread_mutex_unlock(&r->event_lock);
    return got;
}

static bool is_failure(enum rl_rec_stop why)
{
    return why == RL_REC_STOP_DISK || why == RL_REC_STOP_WRITE_ERROR || why == RL_REC_STOP_SOURCES;
}

void rl__rec_set_stop(struct rl_recorder *r, enum rl_rec_stop why, int error, const char *fmt, ...)
{
    int expected = RL_REC_RUNNING;
    bool first = atomic_compare_exchange_strong(&r->stop_reason, &expected, (int)why);
    pthread_mutex_lock(&r->stat_lock);
    /* The first failure keeps its message, even when a plain stop came first. */
    if (fmt && (first || (is_failure(why) && r->error == 0))) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof(r->message), fmt, ap);
        va_end(ap);
        r->error = error;
    }
    pthread_mutex_unlock(&r->stat_lock);
    int mode =
        why == RL_REC_STOP_DISK || why == RL_REC_STOP_WRITE_ERROR ? RL__STOP_NOW : RL__STOP_DRAIN;
    int cur = atomic_load(&r->stop_capture);
    while (cur < mode && !atomic_compare_exchange_weak(&r->stop_capture, &cur, mode))
        ;
}

static void write_failed(struct rl_recorder *r, int rc)
{
    char detail[RL_REC_MSG_MAX / 2];
    if (r->part.p)
        rl_pipeline_errmsg(r->part.p, detail, sizeof(detail));
    else
        detail[0] = '\0';
    atomic_store(&r->write_failed, true);
    rl__rec_set_stop(r, RL_REC_STOP_WRITE_ERROR, rc, "writing '%s' failed: %s", r->part.path,
                     detail[0] ? detail : rl_strerror(rc));
}

/* ---- writing ---- */

/* Blocking write of a roadlog message (health, marker, snapshot flush at
 * the end): waits for room in the pipeline. */
static int write_wait(struct rl_recorder *r, uint16_t channel_id, uint32_t seq, uint64_t ts,
                      const void *data, size_t len)
{
    return rl_pipeline_write_message(r->part.p, channel_id, seq, ts, ts, data, len);
}

int rl__emit_to_file(struct rl_recorder *r, uint16_t idx, uint32_t seq, uint64_t ts,
                     const uint8_t *data, size_t len, bool wait)
{
    int rc;
    uint16_t id;
    if (idx < r->n_src) {
        struct rl__source *s = &r->src[idx];
        if ((rc = rl__channel_ensure(r, s)) < 0)
            return rc;
        id = s->channel_id;
    } else {
        if ((rc = rl__internal_channel_ensure(r, false)) < 0)
            return rc;
        id = r->health_id;
    }
    return wait ? write_wait(r, id, seq, ts, data, len) : rl__write(r, id, seq, ts, data, len);
}

static int write_health(struct rl_recorder *r, uint64_t now_mono, bool direct)
{
    rl__update_rates(r, now_mono);
    rl__health_json(r, &r->jw);
    if (rl_jw_failed(&r->jw))
        return 0; /* cannot happen below the cap; skip rather than stop */
    size_t len;
    const char *js = rl_jw_str_out(&r->jw, &len);
    uint64_t ts = rl__now_ns();
    uint32_t seq = r->health_seq++;
    if (r->opts.snapshot_ns && !direct) {
        rl__snap_push(r, (uint16_t)r->n_src, seq, ts, (const uint8_t *)js, len);
        return 0;
    }
    return rl__emit_to_file(r, (uint16_t)r->n_src, seq, ts, (const uint8_t *)js, len, true);
}

static int write_markers(struct rl_recorder *r)
{
    for (;;) {
        struct rl__marker m;
        pthread_mutex_lock(&r->mark_lock);
        bool have = r->mark_n > 0;
        if (have) {
            m = r->marks[r->mark_head];
            r->mark_head = (r->mark_head + 1) % RL_REC_MARKER_QUEUE;
            r->mark_n--;
        }
        pthread_mutex_unlock(&r->mark_lock);
        if (!have)
            return 0;
        if (r->opts.snapshot_ns)
            rl__snap_trigger(r, m.ts_ns);
        rl_jw_reset(&r->jw);
        rl_jw_obj_begin(&r->jw);
        rl_jw_kstr(&r->jw, "label", m.label);
        rl_jw_kstr(&r->jw, "note", m.note);
        rl_jw_kstr(&r->jw, "by", m.by);
        rl_jw_obj_end(&r->jw);
        size_t len;
        const char *js = rl_jw_str_out(&r->jw, &len);
        int rc = rl__internal_channel_ensure(r, true);
        if (rc == 0)
            rc = write_wait(r, r->markers_id, r->marker_seq++, m.ts_ns, js, len);
        if (rc < 0)
            return rc;
        atomic_fetch_add(&r->markers_written, 1);
    }
}

/* ---- parts ---- */

static int rotate(struct rl_recorder *r, uint64_t start_ns, uint64_t now_mono)
{
    int rc = write_health(r, now_mono, true);
    unsigned next = r->part.number + 1;
    if (rc == 0)
        rc = rl__part_close(r, true);
    else
        ignore(rl__part_close(r, false));
    if (rc < 0) {
        write_failed(r, rc);
        return rc;
    }
    char err[RL_REC_MSG_MAX];
    rc = rl__part_open(r, next, start_ns, err, sizeof(err));
    if (rc < 0) {
        atomic_store(&r->write_failed, true);
        rl__rec_set_stop(r, RL_REC_STOP_WRITE_ERROR, rc, "%s", err);
        return rc;
    }
    return 0;
}

/* The next split window after end that is still current at now. */
static uint64_t next_window(const struct rl_recorder *r, uint64_t end, uint64_t now)
{
    uint64_t d = r->opts.split_ns;
    if (now > end + d)
        end += (now - end) / d * d;
    return end;
}

/* ---- the merge ---- */

static bool ring_pressed(struct rl__source *s)
{
    return rl__ring_used(&s->ring) > s->ring.cap / 2;
}

/* Takes up to FRAMES_PER_PASS frames from the rings in time order and
 * writes them (or moves them into the snapshot buffer). Frames younger than
 * HOLD_NS wait, so a slower source's older frames can still come first,
 * unless flush_all or a ring is half full. Returns how many were taken, or
 * <0 on a write error. *blocked is set when the pipeline was full. */
static int merge_pass(struct rl_recorder *r, uint64_t now_rt, uint64_t now_mono, bool flush_all,
                      bool *blocked)
{
    int taken = 0;
    *blocked = false;
    while (taken < FRAMES_PER_PASS) {
        if (r->opts.snapshot_ns) {
            int rc = rl__snap_drain(r, false);
            if (rc == -EAGAIN) {
                *blocked = true;
                return taken;
            }
            if (rc < 0)
                return rc;
        }
        struct rl__source *best = NULL;
        const struct rl__frame_hdr *bh = NULL;
        const uint8_t *bdata = NULL;
        bool pressed = false;
        for (size_t i = 0; i < r->n_src; i++) {
            const uint8_t *d;
            const struct rl__frame_hdr *h = rl__ring_peek(&r->src[i].ring, &d);
            if (!h)
                continue;
            pressed = pressed || ring_pressed(&r->src[i]);
            if (!bh || h->ts_ns < bh->ts_ns) {
                best = &r->src[i];
                bh = h;
                bdata = d;
            }
        }
        if (!bh)
            break;
        /* A timestamp ahead of the clock means the clock stepped back: no
         * point waiting for it. */
        bool young = bh->ts_ns + HOLD_NS > now_rt && bh->ts_ns <= now_rt + HOLD_NS;
        if (young && !flush_all && !pressed)
            break;
        if (r->part.end_ns != UINT64_MAX && bh->ts_ns >= r->part.end_ns && !r->opts.snapshot_ns) {
            int rc = rotate(r, next_window(r, r->part.end_ns, bh->ts_ns), now_mono);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!best->seen)
            rl__decide_decoder(r, best);
        if (r->opts.snapshot_ns) {
            rl__snap_push(r, best->index, bh->seq, bh->ts_ns, bdata, bh->len);
        } else {
            int rc = rl__emit_to_file(r, best->index, bh->seq, bh->ts_ns, bdata, bh->len, false);
            if (rc == -EAGAIN) {
                *blocked = true;
                return taken;
            }
            if (rc < 0)
                return rc;
        }
        r->bytes_since_budget += bh->len;
        rl__ring_pop(&best->ring);
        taken++;
    }
    return taken;
}

/* ---- the builder's periodic work ---- */

static void check_sources(struct rl_recorder *r)
{
    size_t gone = 0, failed = 0;
    for (size_t i = 0; i < r->n_src; i++) {
        struct rl__source *s = &r->src[i];
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == RL__SRC_RUNNING)
            continue;
        gone++;
        failed += st == RL__SRC_FAILED;
        if (!s->reported) {
            s->reported = true;
            if (st == RL__SRC_FAILED)
                rl__rec_event(r, "source %s (%s) failed: %s", s->spec.topic, s->spec.text,
                              s->error);
            else
                rl__rec_event(r, "source %s (%s) ended", s->spec.topic, s->spec.text);
        }
    }
    if (gone == r->n_src && failed)
        rl__rec_set_stop(r, RL_REC_STOP_SOURCES, -EIO, "every source failed or ended");
    else if (gone == r->n_src)
        rl__rec_set_stop(r, RL_REC_STOP_ENDED, 0, "every source ended");
}

static int periodic(struct rl_recorder *r, uint64_t now_rt, uint64_t now_mono)
{
    int rc;
    if (atomic_load(&r->stop_requested))
        rl__rec_set_stop(r, RL_REC_STOP_REQUEST, 0, NULL);
    if (r->opts.duration_ns && now_mono >= r->start_mono_ns + r->opts.duration_ns)
        rl__rec_set_stop(r, RL_REC_STOP_DURATION, 0, NULL);
    check_sources(r);
    if ((rc = write_markers(r)) < 0)
        return rc;
    if (now_mono >= r->next_health_mono) {
        if ((rc = write_health(r, now_mono, false)) < 0)
            return rc;
        r->next_health_mono = now_mono + HEALTH_INTERVAL_NS;
    }
    if (now_mono >= r->next_budget_mono ||
        r->bytes_since_budget >= r->opts.writer.chunk_size_bytes / 2) {
        r->bytes_since_budget = 0;
        r->next_budget_mono = now_mono + BUDGET_INTERVAL_NS;
        rl__update_rates(r, now_mono);
        if (atomic_load(&r->stop_reason) != RL_REC_STOP_DISK)
            (void)rl__budget_check(r, now_mono);
        if (rl__split_due_size(r) && (rc = rotate(r, now_rt, now_mono)) < 0)
            return rc;
    }
    /* A split by time also happens while nothing arrives. */
    if (r->part.end_ns != UINT64_MAX && now_rt >= r->part.end_ns + HOLD_NS &&
        (rc = rotate(r, next_window(r, r->part.end_ns, now_rt), now_mono)) < 0)
        return rc;
    return 0;
}

static bool captures_done(struct rl_recorder *r)
{
    for (size_t i = 0; i < r->n_src; i++)
        if (!atomic_load_explicit(&r->src[i].done, memory_order_acquire))
            return false;
    return true;
}

static bool rings_empty(struct rl_recorder *r)
{
    for (size_t i = 0; i < r->n_src; i++)
        if (!rl__ring_empty(&r->src[i].ring))
            return false;
    return true;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / RL__NS_PER_S), (long)(ns % RL__NS_PER_S)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void finish_output(struct rl_recorder *r)
{
    bool ok = !atomic_load(&r->write_failed);
    int rc = 0;
    if (ok) {
        uint64_t now_mono = rl__mono_ns();
        if ((rc = write_markers(r)) == 0 && r->opts.snapshot_ns)
            rc = rl__snap_drain(r, true);
        if (rc == 0)
            rc = write_health(r, now_mono, true);
        if (rc < 0) {
            write_failed(r, rc);
            ok = false;
        }
    }
    rc = rl__part_close(r, ok);
    if (rc < 0 && ok) {
        atomic_store(&r->write_failed, true);
        rl__rec_set_stop(r, RL_REC_STOP_WRITE_ERROR, rc, "finishing '%s' failed: %s", r->last_path,
                         rl_strerror(rc));
    }
    pthread_mutex_lock(&r->stat_lock);
    r->pub_file_bytes = r->closed_bytes;
    pthread_mutex_unlock(&r->stat_lock);
}

static void *builder_main(void *arg)
{
    struct rl_recorder *r = arg;
    for (;;) {
        uint64_t now_rt = rl__now_ns(), now_mono = rl__mono_ns();
        bool failed = atomic_load(&r->write_failed);
        bool stopping = atomic_load(&r->stop_reason) != RL_REC_RUNNING;
        bool all_done = stopping && captures_done(r);
        if (stopping) {
            pthread_mutex_lock(&r->stat_lock);
            r->pub_draining = true;
            pthread_mutex_unlock(&r->stat_lock);
        }
        int taken = 0;
        bool blocked = false;
        if (!failed) {
            taken = merge_pass(r, now_rt, now_mono, stopping, &blocked);
            int rc = taken < 0 ? taken : periodic(r, now_rt, now_mono);
            if (rc < 0 && !atomic_load(&r->write_failed))
                write_failed(r, rc);
        }
        if (all_done && (atomic_load(&r->write_failed) || (rings_empty(r) && !blocked)))
            break;
        if (taken <= 0 || blocked)
            sleep_ns(IDLE_SLEEP_NS);
    }
    finish_output(r);
    atomic_store(&r->done, true);
    return NULL;
}

/* ---- the syncer ---- */

static void *syncer_main(void *arg)
{
    struct rl_recorder *r = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&r->part_lock);
    while (!r->syncer_quit) {
        uint64_t ns = (uint64_t)next.tv_nsec + r->opts.fsync_interval_ns;
        next.tv_sec += (time_t)(ns / RL__NS_PER_S);
        next.tv_nsec = (long)(ns % RL__NS_PER_S);
        int w = 0;
        while (!r->syncer_quit && w != ETIMEDOUT)
            w = pthread_cond_timedwait(&r->sync_cv, &r->part_lock, &next);
        if (r->syncer_quit)
            break;
        if (!r->part.open || atomic_load(&r->write_failed))
            continue;
        int rc = rl_pipeline_flush(r->part.p);
        if (rc == 0 && fdatasync(r->part.fd) != 0)
            rc = -errno;
        if (rc < 0)
            write_failed(r, rc);
        /* Missed periods are not made up: the next one starts now. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
            next = now;
    }
    pthread_mutex_unlock(&r->part_lock);
    return NULL;
}

/* ---- capture threads ---- */

static void *capture_main(void *arg)
{
    struct rl__source *s = arg;
    /* Capture goes before compression when the CPUs are busy: a frame the
     * kernel drops is gone, a chunk compressed late is not. Needs
     * CAP_SYS_NICE; without it the thread keeps the default priority. */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), CAPTURE_NICE) != 0)
        s->low_priority = true; /* shown nowhere yet; the status could */
    s->ops->run(s);
    atomic_store_explicit(&s->done, true, memory_order_release);
    return NULL;
}

/* ---- lifecycle ---- */

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int copy_options(struct rl_recorder *r, const struct rl_recorder_options *o)
{
    r->opts = *o;
    r->out_path = dup_str(o->output_path);
    r->out_dir = dup_str(o->output_dir);
    r->command_line = dup_str(o->command_line);
    if ((o->output_path && !r->out_path) || (o->output_dir && !r->out_dir) ||
        (o->command_line && !r->command_line))
        return -ENOMEM;
    r->opts.output_path = r->out_path;
    r->opts.output_dir = r->out_dir;
    r->opts.command_line = r->command_line;
    r->opts.sources = NULL;
    size_t bytes = 0;
    for (size_t i = 0; i < o->n_meta; i++)
        bytes += strlen(o->meta[i].key) + strlen(o->meta[i].value) + 2;
    r->meta = calloc(o->n_meta ? o->n_meta : 1, sizeof(*r->meta));
    r->meta_store = malloc(bytes ? bytes : 1);
    if (!r->meta || !r->meta_store)
        return -ENOMEM;
    char *p = r->meta_store;
    for (size_t i = 0; i < o->n_meta; i++) {
        size_t k = strlen(o->meta[i].key) + 1, v = strlen(o->meta[i].value) + 1;
        memcpy(p, o->meta[i].key, k);
        r->meta[i].key = p;
        p += k;
        memcpy(p, o->meta[i].value, v);
        r->meta[i].value = p;
        p += v;
    }
    r->opts.meta = r->meta;
    return 0;
}

static int validate(const struct rl_recorder_options *o, char *err, size_t err_len)
{
    if ((o->output_path == NULL) == (o->output_dir == NULL)) {
        snprintf(err, err_len, "give exactly one of -o FILE and -O DIR");
        return -EINVAL;
    }
    if (o->n_sources == 0 || o->n_sources > RL_REC_MAX_SOURCES) {
        snprintf(err, err_len, "give 1 to %d sources (--source NAME=SPEC)", RL_REC_MAX_SOURCES);
        return -EINVAL;
    }
    for (size_t i = 0; i < o->n_sources; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->sources[i].topic, o->sources[j].topic) == 0) {
                snprintf(err, err_len, "two sources named '%s'", o->sources[i].topic);
                return -EINVAL;
            }
    if (!o->writer.use_chunks || o->writer.chunk_size_bytes == 0) {
        snprintf(err, err_len, "the recorder writes chunked files");
        return -EINVAL;
    }
    if (o->split_bytes && o->split_bytes < 4 * o->writer.chunk_size_bytes) {
        snprintf(err, err_len, "--split-size must be at least 4 times --chunk-size");
        return -EINVAL;
    }
    if (o->fsync_interval_ns && o->fsync_interval_ns < MIN_FSYNC_NS) {
        snprintf(err, err_len, "--fsync-interval must be at least 10ms");
        return -EINVAL;
    }
    for (size_t i = 0; i < o->n_meta; i++) {
        if (!o->meta[i].key[0]) {
            snprintf(err, err_len, "--meta needs KEY=VALUE");
            return -EINVAL;
        }
        for (size_t k = 0; reserved_meta[k]; k++)
            if (strcmp(o->meta[i].key, reserved_meta[k]) == 0) {
                snprintf(err, err_len, "--meta key '%s' is set by roadlog", o->meta[i].key);
                return -EINVAL;
            }
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->meta[i].key, o->meta[j].key) == 0) {
                snprintf(err, err_len, "--meta key '%s' given twice", o->meta[i].key);
                return -EINVAL;
            }
    }
    return 0;
}

static void make_run_id(struct rl_recorder *r, uint64_t now_ns)
{
    if (r->run_id[0])
        return; /* given with the options */
    time_t t = (time_t)(now_ns / RL__NS_PER_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    uint16_t rnd = (uint16_t)(now_ns ^ (now_ns >> 17) ^ (uint64_t)getpid());
    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
        rnd = (uint16_t)(rnd * 40503u);
    snprintf(r->run_id, sizeof(r->run_id), "%s-%04x", stamp, rnd);
}

static const struct rl__source_ops *ops_of(enum rl_source_type t)
{
    switch (t) {
    case RL_SOURCE_PCAP:
        return &rl__src_pcap;
    case RL_SOURCE_CAN:
        return &rl__src_can;
    case RL_SOURCE_SERIAL:
        return &rl__src_serial;
    case RL_SOURCE_UDP:
        return &rl__src_udp;
    }
    return NULL;
}

static int setup_output_dir(struct rl_recorder *r, char *err, size_t err_len)
{
    if (r->out_dir) {
        snprintf(r->dir, sizeof(r->dir), "%s", r->out_dir);
    } else {
        char tmp[RL_REC_PATH_MAX];
        snprintf(tmp, sizeof(tmp), "%s", r->out_path);
        snprintf(r->dir, sizeof(r->dir), "%s", dirname(tmp));
    }
    struct statvfs vfs;
    if (statvfs(r->dir, &vfs) != 0) {
        int e = errno;
        snprintf(err, err_len, "cannot use output directory '%s': %s", r->dir, strerror(e));
        return -e;
    }
    if (r->opts.min_free_set) {
        r->min_free_bytes = r->opts.min_free_bytes;
    } else {
        uint64_t size = (uint64_t)vfs.f_blocks * (uint64_t)vfs.f_frsize;
        uint64_t pct = size / 100 * MIN_FREE_PERCENT;
        r->min_free_bytes = pct < MIN_FREE_CAP ? pct : MIN_FREE_CAP;
    }
    struct rlimit rl;
    r->fsize_limit = getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                         ? (uint64_t)rl.rlim_cur
                         : UINT64_MAX;
    return 0;
}

static int open_source(struct rl_recorder *r, size_t i, const struct rl_source_spec *spec,
                       char *err, size_t err_len)
{
    struct rl__source *s = &r->src[i];
    char why[RL__ERR_MAX] = "";
    s->spec = *spec;
    s->ops = ops_of(spec->type);
    if (!s->ops) {
        snprintf(err, err_len, "source %s: unknown type", spec->topic);
        return -EINVAL;
    }
    s->index = (uint16_t)i;
    s->channel_id = (uint16_t)(i + 1);
    s->stop = &r->stop_capture;
    atomic_init(&s->done, false);
    atomic_init(&s->state, RL__SRC_RUNNING);
    s->max_frame = s->ops->max_frame(spec);
    s->kbuf_bytes = spec->buffer_bytes;
    if (spec->type == RL_SOURCE_PCAP &&
        (!s->kbuf_bytes || s->kbuf_bytes > r->plan.pcap_buffer_bytes))
        s->kbuf_bytes = r->plan.pcap_buffer_bytes;
    int rc = rl__ring_init(&s->ring, r->plan.ring_bytes, s->max_frame);
    if (rc < 0) {
        snprintf(err, err_len, "source %s: cannot allocate its ring: %s", spec->topic,
                 strerror(-rc));
        return rc;
    }
    s->batch_bytes = s->ops->batch_bytes(spec);
    if (s->batch_bytes) {
        void *p = mmap(NULL, s->batch_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (p == MAP_FAILED) {
            snprintf(err, err_len, "source %s: out of memory", spec->topic);
            return -ENOMEM;
        }
        s->batch = p;
    }
    rc = s->ops->open(s, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, err_len, "cannot open source %s (%s): %s", spec->topic, spec->text, why);
        return rc;
    }
    return 0;
}

static void free_source(struct rl__source *s)
{
    if (s->ops && s->impl)
        s->ops->close(s);
    rl__ring_release(&s->ring);
    if (s->batch)
        (void)munmap(s->batch, s->batch_bytes);
    s->batch = NULL;
}

int rl_recorder_new(struct rl_recorder **out, const struct rl_recorder_options *opts, char *err,
                    size_t err_len)
{
    int rc;
    *out = NULL;
    if ((rc = validate(opts, err, err_len)) < 0)
        return rc;
    struct rl_recorder *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, err_len, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&r->part_lock, NULL);
    pthread_mutex_init(&r->mark_lock, NULL);
    pthread_mutex_init(&r->stat_lock, NULL);
    pthread_mutex_init(&r->event_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->sync_cv, &ca);
    pthread_condattr_destroy(&ca);
    rl_jw_init(&r->jw, JW_LIMIT);
    r->all_complete = true;
    r->part.fd = -1;
    atomic_init(&r->stop_capture, RL__STOP_RUN);
    atomic_init(&r->stop_reason, RL_REC_RUNNING);
    if ((rc = copy_options(r, opts)) < 0) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    if (opts->run_id)
        snprintf(r->run_id, sizeof(r->run_id), "%s", opts->run_id);
    r->opts.run_id = NULL;
    if (!r->opts.fsync_interval_ns)
        r->opts.fsync_interval_ns = DEFAULT_FSYNC_NS;
    if ((rc = rl_recorder_plan_memory(opts, &r->plan, err, err_len)) < 0)
        goto fail;
    if ((rc = setup_output_dir(r, err, err_len)) < 0)
        goto fail;
    r->n_src = opts->n_sources;
    r->markers_id = (uint16_t)(r->n_src + 1);
    r->health_id = (uint16_t)(r->n_src + 2);
    r->src = calloc(r->n_src, sizeof(*r->src));
    if (!r->src) {
        rc = -ENOMEM;
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    if (r->opts.snapshot_ns) {
        size_t max = SNAP_MIN_FRAME;
        for (size_t i = 0; i < r->n_src; i++) {
            const struct rl__source_ops *ops = ops_of(opts->sources[i].type);
            size_t m = ops ? ops->max_frame(&opts->sources[i]) : 0;
            if (m > max)
                max = m;
        }
        if ((rc = rl__ring_init(&r->snap, r->plan.snapshot_bytes, max)) < 0) {
            snprintf(err, err_len, "cannot allocate the --snapshot buffer");
            goto fail;
        }
    }
    for (size_t i = 0; i < r->n_src; i++)
        if ((rc = open_source(r, i, &opts->sources[i], err, err_len)) < 0)
            goto fail;
    if (gethostname(r->host, sizeof(r->host)) != 0)
        snprintf(r->host, sizeof(r->host), "unknown");
    r->host[sizeof(r->host) - 1] = '\0';
    *out = r;
    return 0;
fail:
    rl_recorder_free(r);
    return rc;
}

int rl_recorder_start(struct rl_recorder *r, char *err, size_t err_len)
{
    int rc;
    if (r->started)
        return RL_ESTATE;
    r->start_ns = rl__now_ns();
    r->start_mono_ns = rl__mono_ns();
    make_run_id(r, r->start_ns);
    if ((rc = rl__part_open(r, 1, r->start_ns, err, err_len)) < 0) {
        if (r->part.open)
            ignore(rl__part_close(r, false));
        return rc;
    }
    r->started = true;
    if ((rc = -pthread_create(&r->syncer, NULL, syncer_main, r)) < 0)
        goto fail;
    r->syncer_started = true;
    if ((rc = -pthread_create(&r->builder, NULL, builder_main, r)) < 0)
        goto fail;
    r->builder_started = true;
    for (size_t i = 0; i < r->n_src; i++) {
        struct rl__source *s = &r->src[i];
        if ((rc = -pthread_create(&s->thread, NULL, capture_main, s)) < 0)
            goto fail;
        s->thread_started = true;
    }
    return 0;
fail:
    snprintf(err, err_len, "cannot start a thread: %s", strerror(-rc));
    for (size_t i = 0; i < r->n_src; i++)
        if (!r->src[i].thread_started)
            atomic_store(&r->src[i].done, true);
    rl__rec_set_stop(r, RL_REC_STOP_REQUEST, rc, NULL);
    if (!r->builder_started) {
        ignore(rl__part_close(r, true));
        atomic_store(&r->done, true);
    }
    return rc;
}

int rl_recorder_mark(struct rl_recorder *r, const char *label, const char *note, const char *by,
                     uint64_t *time_ns)
{
    struct rl__marker *m;
    if (!label || !label[0] || strlen(label) >= sizeof(m->label))
        return -EINVAL;
    if (!r->started || atomic_load(&r->stop_reason) != RL_REC_RUNNING)
        return RL_ESTATE;
    int rc = 0;
    pthread_mutex_lock(&r->mark_lock);
    if (r->mark_n == RL_REC_MARKER_QUEUE) {
        rc = -EAGAIN;
    } else {
        m = &r->marks[(r->mark_head + r->mark_n) % RL_REC_MARKER_QUEUE];
        m->ts_ns = rl__now_ns();
        snprintf(m->label, sizeof(m->label), "%s", label);
        snprintf(m->note, sizeof(m->note), "%s", note ? note : "");
        snprintf(m->by, sizeof(m->by), "%s", by ? by : "");
        if (time_ns)
            *time_ns = m->ts_ns;
        r->mark_n++;
    }
    pthread_mutex_unlock(&r->mark_lock);
    return rc;
}

void rl_recorder_stop(struct rl_recorder *r)
{
    atomic_store(&r->stop_requested, true);
}

bool rl_recorder_done(struct rl_recorder *r)
{
    return atomic_load(&r->done);
}

int rl_recorder_finish(struct rl_recorder *r, struct rl_recorder_result *res)
{
    memset(res, 0, sizeof(*res));
    if (r->builder_started) {
        pthread_join(r->builder, NULL);
        r->builder_started = false;
    }
    for (size_t i = 0; i < r->n_src; i++) {
        struct rl__source *s = &r->src[i];
        if (s->thread_started) {
            pthread_join(s->thread, NULL);
            s->thread_started = false;
        }
        if (atomic_load(&s->state) == RL__SRC_FAILED)
            res->failed_sources++;
    }
    if (r->syncer_started) {
        pthread_mutex_lock(&r->part_lock);
        r->syncer_quit = true;
        pthread_cond_signal(&r->sync_cv);
        pthread_mutex_unlock(&r->part_lock);
        pthread_join(r->syncer, NULL);
        r->syncer_started = false;
    }
    res->stop = (enum rl_rec_stop)atomic_load(&r->stop_reason);
    pthread_mutex_lock(&r->stat_lock);
    res->error = r->error;
    snprintf(res->message, sizeof(res->message), "%s", r->message);
    pthread_mutex_unlock(&r->stat_lock);
    res->parts = r->parts_closed;
    res->complete = r->all_complete && r->parts_closed > 0;
    snprintf(res->last_path, sizeof(res->last_path), "%s", r->last_path);
    if (atomic_load(&r->write_failed) && res->stop != RL_REC_STOP_DISK)
        res->stop = RL_REC_STOP_WRITE_ERROR;
    if (is_failure(res->stop) || atomic_load(&r->write_failed))
        return res->error ? res->error : -EIO;
    return 0;
}

void rl_recorder_free(struct rl_recorder *r)
{
    if (!r)
        return;
    if (r->builder_started || r->syncer_started) {
        struct rl_recorder_result res;
        rl_recorder_stop(r);
        ignore(rl_recorder_finish(r, &res));
    }
    for (size_t i = 0; r->src && i < r->n_src; i++)
        free_source(&r->src[i]);
    rl__ring_release(&r->snap);
    free(r->src);
    rl_jw_release(&r->jw);
    free(r->out_path);
    free(r->out_dir);
    free(r->command_line);
    free(r->meta);
    free(r->meta_store);
    pthread_cond_destroy(&r->sync_cv);
    pthread_mutex_destroy(&r->event_lock);
    pthread_mutex_destroy(&r->stat_lock);
    pthread_mutex_destroy(&r->mark_lock);
    pthread_mutex_destroy(&r->part_lock);
    free(r);
}
