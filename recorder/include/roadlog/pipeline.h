/* The chunk pipeline (recorder/): parallel compression for an rl_writer.
 *
 * A pipeline wraps a writer and takes over its chunk hook. Producers write
 * messages through the pipeline; each chunk the writer closes becomes a job
 * that one of n worker threads compresses, and an appender thread hands the
 * jobs back to the writer in the order the writer closed them, so the file
 * is the same, byte for byte, as one the writer would have written alone.
 *
 * In-flight jobs (closed but not yet in the file) are bounded. When the
 * bound is reached rl_pipeline_write_message() blocks until the appender
 * has written a job, and rl_pipeline_try_write_message() returns -EAGAIN
 * at once (the recorder drops and counts instead of blocking capture).
 *
 * Threads: every function here may be called from any thread, and several
 * producers may write at once (their messages are serialized on the writer).
 * While the pipeline is open, the writer must be used only through it;
 * after rl_pipeline_close() it is the caller's again (to rl_writer_close()).
 * rl_pipeline_close() must not run concurrently with other calls. */
#ifndef ROADLOG_PIPELINE_H
#define ROADLOG_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"
#include "roadlog/writer.h"

struct rl_pipeline;

/* Upper limits on the arguments of rl_pipeline_open(). */
#define RL_PIPELINE_MAX_WORKERS  64u
#define RL_PIPELINE_MAX_INFLIGHT 1024u

/* Starts n_workers (1..RL_PIPELINE_MAX_WORKERS) compression threads and the
 * appender on w, keeping at most max_inflight_jobs (1..RL_PIPELINE_MAX_INFLIGHT)
 * closed chunks in memory besides the writer's open one; 0 picks
 * 2 * n_workers + 1. The writer is borrowed, not owned: it must outlive the
 * pipeline. Returns 0, -EINVAL, -ENOMEM or a pthread error as -errno. */
int rl_pipeline_open(struct rl_pipeline **out, struct rl_writer *w, unsigned n_workers,
                     unsigned max_inflight_jobs) RL_WARN_UNUSED;

/* rl_writer_write_message() through the pipeline (same arguments, same
 * codes). Blocks while max_inflight_jobs jobs are in flight. After a worker
 * or the appender has failed, returns that first error. */
int rl_pipeline_write_message(struct rl_pipeline *p, uint16_t channel_id, uint32_t sequence,
                              uint64_t log_time_ns, uint64_t publish_time_ns, const void *data,
                              size_t len) RL_WARN_UNUSED;

/* The same, but returns -EAGAIN without writing instead of blocking when
 * max_inflight_jobs jobs are in flight. It does not wait for the disk then;
 * with room in the ring it may still wait for the writer's lock while
 * another thread is in a writer call (the appender's write of one chunk). */
int rl_pipeline_try_write_message(struct rl_pipeline *p, uint16_t channel_id, uint32_t sequence,
                                  uint64_t log_time_ns, uint64_t publish_time_ns, const void *data,
                                  size_t len) RL_WARN_UNUSED;

/* rl_writer_add_schema() / rl_writer_add_channel() through the pipeline
 * (their records go straight to the file; no chunk is closed). */
int rl_pipeline_add_schema(struct rl_pipeline *p, uint16_t id, const char *name,
                           const char *encoding, const void *data, size_t len,
                           uint16_t *id_out) RL_WARN_UNUSED;
int rl_pipeline_add_channel(struct rl_pipeline *p, uint16_t id, uint16_t schema_id,
                            const char *topic, const char *message_encoding,
                            const struct rl_kv *meta, size_t n_meta,
                            uint16_t *id_out) RL_WARN_UNUSED;

/* rl_writer_write_metadata() / rl_writer_write_attachment() after
 * rl_pipeline_flush(), so the record lands after every chunk closed before
 * the call (as with the writer alone). */
int rl_pipeline_write_metadata(struct rl_pipeline *p, const char *name, const struct rl_kv *kv,
                               size_t n) RL_WARN_UNUSED;
int rl_pipeline_write_attachment(struct rl_pipeline *p, uint64_t log_time_ns,
                                 uint64_t create_time_ns, const char *name, const char *media_type,
                                 const void *data, size_t len) RL_WARN_UNUSED;

/* Closes the writer's open chunk and waits until it and every job closed
 * before it are in the file. Returns 0 or the first error of the pipeline. */
int rl_pipeline_flush(struct rl_pipeline *p) RL_WARN_UNUSED;

/* rl_pipeline_flush() and then rl_writer_sync(): everything written before
 * the call is durable when it returns 0. */
int rl_pipeline_sync(struct rl_pipeline *p) RL_WARN_UNUSED;

/* Closed chunks not yet in the file, now and at the most. */
unsigned rl_pipeline_inflight(struct rl_pipeline *p);
unsigned rl_pipeline_peak_inflight(struct rl_pipeline *p);

/* Copies into buf (NUL-terminated, cut at len) the detail of the first
 * failure of a worker or the appender, or else of the last failed call
 * ("" when none). */
void rl_pipeline_errmsg(struct rl_pipeline *p, char *buf, size_t len);

/* Flushes, stops and joins the threads, gives the writer back (chunk hook
 * removed: it compresses inline again) and frees the pipeline, also on
 * failure. Does not close the writer. Returns 0 or the first error met
 * since rl_pipeline_open(). NULL is fine. */
int rl_pipeline_close(struct rl_pipeline *p) RL_WARN_UNUSED;

#endif
