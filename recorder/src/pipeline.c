/* The chunk pipeline (pipeline.h; architecture.md section 3, "chunk builder
 * -> zstd workers -> ordered appender"): the writer's chunk hook hands each
 * closed chunk to a ring of jobs, n worker threads compress them
 * (rl_chunk_job_compress), and one appender thread puts them back into the
 * writer (rl_writer_put_chunk) strictly in the order the hook received them.
 *
 * Threads and locks. The writer is single-threaded, so every call on it --
 * a producer's write, the hook it triggers, the appender's put -- runs under
 * wlock. Ring state runs under qlock. Lock order is wlock then qlock (the
 * hook runs inside a writer call and takes qlock); nobody waits on a
 * condition variable while holding wlock, so the appender can always get
 * wlock to make room.
 *
 * Ring. Job number s (0, 1, 2, ... in hook order) lives in ring[s % cap].
 * Three counters only move forward and always satisfy
 *     next_put <= next_work <= next_seq,   next_seq - next_put <= cap:
 * jobs [next_put, next_work) are being compressed or wait, compressed, for
 * their predecessors (slot.done tells which); jobs [next_work, next_seq)
 * wait for a worker. Workers take jobs in order; the appender puts job
 * next_put once it is done, so a job finished early waits in its slot.
 *
 * Back-pressure. A writer call closes at most two chunks (a message that
 * does not fit the open chunk closes it, and may then fill the new one).
 * Before every writer call that can close a chunk, the caller holds wlock
 * and checks that fewer than max_inflight jobs are in flight; if not, it
 * drops wlock and waits on space_cv (or returns -EAGAIN). With
 * cap = max_inflight + 2 the hook therefore always finds a free slot and
 * never blocks, which it must not: it runs with wlock held.
 *
 * Errors. The first failure of a put (which includes a failed compression:
 * the job carries its error into rl_writer_put_chunk) is kept in err and
 * returned by every later call. After a failure the appender still puts
 * every job, which frees it (the writer refuses the write once failed), so
 * flush and close never wait forever. Stopping: close sets stop; workers
 * leave once no job waits, the appender once every job is put. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/pipeline.h"

#define PL_CLOSES_PER_CALL 2u /* chunks one writer call may close */
#define PL_ERRMSG_LEN      256

struct slot {
    struct rl_chunk_job *job;
    bool done; /* compressed, ready to put */
    int rc;    /* of the compression */
};

struct rl_pipeline {
    struct rl_writer *w;
    pthread_mutex_t wlock; /* serializes every call on w */

    pthread_mutex_t qlock;   /* everything below */
    pthread_cond_t work_cv;  /* workers: a job was queued, or stop */
    pthread_cond_t done_cv;  /* appender: a job was compressed, or stop */
    pthread_cond_t space_cv; /* producers, flush: a job was put */
    struct slot *ring;
    size_t cap;
    unsigned max_inflight, peak_inflight;
    uint64_t next_seq, next_work, next_put;
    bool stop;
    int err; /* first failure of a put, or of the hook */
    char errmsg[PL_ERRMSG_LEN];

    pthread_t *workers;
    unsigned n_workers, n_started;
    pthread_t appender;
    bool appender_started;
};

/* Records the first failure and its detail, and wakes producers waiting
 * for room so they return it; qlock held. */
static void set_failed(struct rl_pipeline *p, int rc, const char *msg)
{
    if (p->err != 0)
        return;
    p->err = rc;
    snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
    pthread_cond_broadcast(&p->space_cv);
}

/* A failed call that did not fail the pipeline: keep its detail unless a
 * failure is already recorded. wlock held (the message is the writer's). */
static void note_call_error(struct rl_pipeline *p)
{
    pthread_mutex_lock(&p->qlock);
    if (p->err == 0)
        snprintf(p->errmsg, sizeof(p->errmsg), "%s", rl_writer_errmsg(p->w));
    pthread_mutex_unlock(&p->qlock);
}

/* The writer's chunk hook: runs inside a writer call, wlock held. Queues the
 * job; the reservation made before the call guarantees a free slot. */
static void hook(void *ud, struct rl_chunk_job *job)
{
    struct rl_pipeline *p = ud;

    pthread_mutex_lock(&p->qlock);
    if (p->next_seq - p->next_put >= p->cap) {
        /* Cannot happen while every writer call reserves first; losing the
         * job is better than blocking under wlock. The writer accepts the
         * gap (an abandoned job leaves no trace in the summary). */
        set_failed(p, RL_ESTATE, "chunk pipeline ring overflow: a chunk was dropped");
        pthread_mutex_unlock(&p->qlock);
        rl_chunk_job_free(job);
        return;
    }
    struct slot *s = &p->ring[p->next_seq % p->cap];
    s->job = job;
    s->done = false;
    p->next_seq++;
    unsigned inflight = (unsigned)(p->next_seq - p->next_put);
    if (inflight > p->peak_inflight)
        p->peak_inflight = inflight;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->qlock);
}

static void *worker_main(void *arg)
{
    struct rl_pipeline *p = arg;

    pthread_mutex_lock(&p->qlock);
    for (;;) {
        while (!p->stop && p->next_work == p->next_seq)
            pthread_cond_wait(&p->work_cv, &p->qlock);
        if (p->next_work == p->next_seq)
            break; /* stop, and nothing left to compress */
        uint64_t seq = p->next_work++;
        struct rl_chunk_job *job = p->ring[seq % p->cap].job;
        pthread_mutex_unlock(&p->qlock);

        /* A failure also stays in the job, and rl_writer_put_chunk()
         * reports it with detail and fails the writer. */
        int rc = rl_chunk_job_compress(job);

        pthread_mutex_lock(&p->qlock);
        p->ring[seq % p->cap].done = true;
        p->ring[seq % p->cap].rc = rc;
        if (seq == p->next_put)
            pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->qlock);
    return NULL;
}

static void *appender_main(void *arg)
{
    struct rl_pipeline *p = arg;
    char msg[PL_ERRMSG_LEN];

    pthread_mutex_lock(&p->qlock);
    for (;;) {
        while (!(p->next_put < p->next_seq && p->ring[p->next_put % p->cap].done) &&
               !(p->stop && p->next_put == p->next_seq))
            pthread_cond_wait(&p->done_cv, &p->qlock);
        if (p->next_put == p->next_seq)
            break; /* stop, and every job is in the file */
        struct slot *s = &p->ring[p->next_put % p->cap];
        struct rl_chunk_job *job = s->job;
        int compress_rc = s->rc;
        pthread_mutex_unlock(&p->qlock);

        pthread_mutex_lock(&p->wlock);
        int rc = rl_writer_put_chunk(p->w, job); /* frees the job */
        if (rc == 0 && compress_rc < 0)
            rc = compress_rc; /* put must have refused it; never ignore it */
        if (rc < 0)
            snprintf(msg, sizeof(msg), "%s", rl_writer_errmsg(p->w));
        pthread_mutex_unlock(&p->wlock);

        pthread_mutex_lock(&p->qlock);
        s->job = NULL;
        s->done = false;
        s->rc = 0;
        p->next_put++;
        if (rc < 0)
            set_failed(p, rc, msg);
        pthread_cond_broadcast(&p->space_cv);
    }
    pthread_mutex_unlock(&p->qlock);
    return NULL;
}

/* Takes wlock with room for the chunks one writer call may close. Returns 0
 * holding wlock, or the pipeline's error / -EAGAIN (nonblocking) without. */
static int reserve(struct rl_pipeline *p, bool nonblocking)
{
    if (nonblocking) {
        /* Look before taking wlock: when the ring is full the appender may
         * hold wlock for a slow write, and a try must not wait for it. */
        pthread_mutex_lock(&p->qlock);
        int rc = p->err;
        if (rc == 0 && p->next_seq - p->next_put >= p->max_inflight)
            rc = -EAGAIN;
        pthread_mutex_unlock(&p->qlock);
        if (rc != 0)
            return rc;
    }
    for (;;) {
        pthread_mutex_lock(&p->wlock);
        pthread_mutex_lock(&p->qlock);
        int rc = p->err;
        if (rc == 0 && p->next_seq - p->next_put < p->max_inflight) {
            pthread_mutex_unlock(&p->qlock);
            return 0;
        }
        pthread_mutex_unlock(&p->wlock);
        if (rc == 0 && nonblocking)
            rc = -EAGAIN;
        if (rc != 0) {
            pthread_mutex_unlock(&p->qlock);
            return rc;
        }
        while (p->err == 0 && p->next_seq - p->next_put >= p->max_inflight)
            pthread_cond_wait(&p->space_cv, &p->qlock);
        pthread_mutex_unlock(&p->qlock);
    }
}

/* Ends a writer call made after reserve(): notes a failed call's detail and
 * drops wlock. */
static int release(struct rl_pipeline *p, int rc)
{
    if (rc < 0)
        note_call_error(p);
    pthread_mutex_unlock(&p->wlock);
    return rc;
}

/* Waits until every job numbered below target is in the file; returns the
 * pipeline's error. */
static int wait_put(struct rl_pipeline *p, uint64_t target)
{
    pthread_mutex_lock(&p->qlock);
    while (p->next_put < target)
        pthread_cond_wait(&p->space_cv, &p->qlock);
    int rc = p->err;
    pthread_mutex_unlock(&p->qlock);
    return rc;
}

/* Stops and joins the threads started so far; no writer call may be running. */
static void stop_threads(struct rl_pipeline *p)
{
    pthread_mutex_lock(&p->qlock);
    p->stop = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->qlock);
    for (unsigned i = 0; i < p->n_started; i++)
        pthread_join(p->workers[i], NULL);
    p->n_started = 0;
    if (p->appender_started)
        pthread_join(p->appender, NULL);
    p->appender_started = false;
}

static void pipeline_free(struct rl_pipeline *p)
{
    pthread_cond_destroy(&p->space_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->qlock);
    pthread_mutex_destroy(&p->wlock);
    free(p->workers);
    free(p->ring);
    free(p);
}

int rl_pipeline_open(struct rl_pipeline **out, struct rl_writer *w, unsigned n_workers,
                     unsigned max_inflight_jobs)
{
    struct rl_pipeline *p = NULL;
    int rc;

    *out = NULL;
    if (!w || n_workers == 0 || n_workers > RL_PIPELINE_MAX_WORKERS ||
        max_inflight_jobs > RL_PIPELINE_MAX_INFLIGHT)
        return -EINVAL;
    if (max_inflight_jobs == 0)
        max_inflight_jobs = 2 * n_workers + 1;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->w = w;
    p->max_inflight = max_inflight_jobs;
    p->cap = (size_t)max_inflight_jobs + PL_CLOSES_PER_CALL;
    p->n_workers = n_workers;
    pthread_mutex_init(&p->wlock, NULL);
    pthread_mutex_init(&p->qlock, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    pthread_cond_init(&p->space_cv, NULL);
    p->ring = calloc(p->cap, sizeof(*p->ring));
    p->workers = calloc(n_workers, sizeof(*p->workers));
    if (!p->ring || !p->workers) {
        rc = -ENOMEM;
        goto fail;
    }
    for (; p->n_started < n_workers; p->n_started++) {
        rc = -pthread_create(&p->workers[p->n_started], NULL, worker_main, p);
        if (rc < 0)
            goto fail;
    }
    rc = -pthread_create(&p->appender, NULL, appender_main, p);
    if (rc < 0)
        goto fail;
    p->appender_started = true;
    rl_writer_set_chunk_hook(w, hook, p);
    *out = p;
    return 0;
fail:
    stop_threads(p);
    pipeline_free(p);
    return rc;
}

static int write_message(struct rl_pipeline *p, bool nonblocking, uint16_t channel_id,
                         uint32_t sequence, uint64_t log_time_ns, uint64_t publish_time_ns,
                         const void *data, size_t len)
{
    int rc = reserve(p, nonblocking);
    if (rc < 0)
        return rc;
    rc = rl_writer_write_message(p->w, channel_id, sequence, log_time_ns, publish_time_ns, data,
                                 len);
    return release(p, rc);
}

int rl_pipeline_write_message(struct rl_pipeline *p, uint16_t channel_id, uint32_t sequence,
                              uint64_t log_time_ns, uint64_t publish_time_ns, const void *data,
                              size_t len)
{
    return write_message(p, false, channel_id, sequence, log_time_ns, publish_time_ns, data, len);
}

int rl_pipeline_try_write_message(struct rl_pipeline *p, uint16_t channel_id, uint32_t sequence,
                                  uint64_t log_time_ns, uint64_t publish_time_ns, const void *data,
                                  size_t len)
{
    return write_message(p, true, channel_id, sequence, log_time_ns, publish_time_ns, data, len);
}

int rl_pipeline_add_schema(struct rl_pipeline *p, uint16_t id, const char *name,
                           const char *encoding, const void *data, size_t len, uint16_t *id_out)
{
    int rc = reserve(p, false);
    if (rc < 0)
        return rc;
    rc = rl_writer_add_schema(p->w, id, name, encoding, data, len, id_out);
    return release(p, rc);
}

int rl_pipeline_add_channel(struct rl_pipeline *p, uint16_t id, uint16_t schema_id,
                            const char *topic, const char *message_encoding,
                            const struct rl_kv *meta, size_t n_meta, uint16_t *id_out)
{
    int rc = reserve(p, false);
    if (rc < 0)
        return rc;
    rc = rl_writer_add_channel(p->w, id, schema_id, topic, message_encoding, meta, n_meta, id_out);
    return release(p, rc);
}

int rl_pipeline_flush(struct rl_pipeline *p)
{
    int rc = reserve(p, false);
    if (rc < 0)
        return rc;
    rc = rl_writer_flush(p->w);
    pthread_mutex_lock(&p->qlock);
    uint64_t target = p->next_seq;
    pthread_mutex_unlock(&p->qlock);
    rc = release(p, rc);
    int rc_wait = wait_put(p, target);
    return rc < 0 ? rc : rc_wait;
}

int rl_pipeline_sync(struct rl_pipeline *p)
{
    int rc = rl_pipeline_flush(p);
    if (rc < 0)
        return rc;
    /* Another producer may have closed a chunk since: it goes to the hook
     * and is not covered, as it came after this call began. */
    if ((rc = reserve(p, false)) < 0)
        return rc;
    rc = rl_writer_sync(p->w);
    return release(p, rc);
}

int rl_pipeline_write_metadata(struct rl_pipeline *p, const char *name, const struct rl_kv *kv,
                               size_t n)
{
    int rc = rl_pipeline_flush(p);
    if (rc < 0)
        return rc;
    if ((rc = reserve(p, false)) < 0)
        return rc;
    rc = rl_writer_write_metadata(p->w, name, kv, n);
    return release(p, rc);
}

int rl_pipeline_write_attachment(struct rl_pipeline *p, uint64_t log_time_ns,
                                 uint64_t create_time_ns, const char *name, const char *media_type,
                                 const void *data, size_t len)
{
    int rc = rl_pipeline_flush(p);
    if (rc < 0)
        return rc;
    if ((rc = reserve(p, false)) < 0)
        return rc;
    rc = rl_writer_write_attachment(p->w, log_time_ns, create_time_ns, name, media_type, data, len);
    return release(p, rc);
}

unsigned rl_pipeline_inflight(struct rl_pipeline *p)
{
    pthread_mutex_lock(&p->qlock);
    unsigned n = (unsigned)(p->next_seq - p->next_put);
    pthread_mutex_unlock(&p->qlock);
    return n;
}

unsigned rl_pipeline_peak_inflight(struct rl_pipeline *p)
{
    pthread_mutex_lock(&p->qlock);
    unsigned n = p->peak_inflight;
    pthread_mutex_unlock(&p->qlock);
    return n;
}

void rl_pipeline_errmsg(struct rl_pipeline *p, char *buf, size_t len)
{
    if (len == 0)
        return;
    pthread_mutex_lock(&p->qlock);
    snprintf(buf, len, "%s", p->errmsg);
    pthread_mutex_unlock(&p->qlock);
}

int rl_pipeline_close(struct rl_pipeline *p)
{
    if (!p)
        return 0;
    int rc = rl_pipeline_flush(p);
    stop_threads(p);
    /* Every job is put (the appender left only with none in flight). */
    rl_writer_set_chunk_hook(p->w, NULL, NULL);
    if (rc == 0)
        rc = p->err;
    pipeline_free(p);
    return rc;
}
