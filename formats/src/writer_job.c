/* The MCAP writer's chunk jobs (writer.h, "chunk-job API"; MCAP Format
 * Specification v0x30, "Chunk" and "Message Index" records): taking a job
 * for the open chunk, compressing it into its Chunk record and MessageIndex
 * records, putting it into the file with its ChunkIndex entry, and recycling
 * it. A job detached by rl__writer_close_chunk() may be compressed on another
 * thread (rl_chunk_job_compress() touches only the job); everything else here
 * runs on the writer's thread. The writer's state machine and the invariants
 * kept here are described at the top of writer.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "roadlog/writer.h"
#include "writer_impl.h"

/* ---- chunk jobs ---- */

static void job_free_all(struct rl_chunk_job *job)
{
    for (size_t i = 0; i < job->cap_lanes; i++)
        free(job->lanes[i].e);
    free(job->lanes);
    rl__wbuf_release(&job->records);
    rl__wbuf_release(&job->out);
    rl__compressor_free(job->cz);
    free(job);
}

void rl_chunk_job_free(struct rl_chunk_job *job)
{
    if (job)
        job_free_all(job);
}

uint64_t rl_chunk_job_bytes(const struct rl_chunk_job *job)
{
    return job->records.len;
}

int rl__writer_open_job(struct rl_writer *w)
{
    struct rl_chunk_job *job;
    if (w->n_spare > 0) {
        job = w->spare[--w->n_spare];
    } else {
        job = calloc(1, sizeof(*job));
        if (!job)
            return rl__writer_seterr(w, -ENOMEM, "out of memory for a chunk");
    }
    job->gen = ++w->gen;
    job->compression = w->opts.compression;
    job->level = w->opts.level;
    job->chunk_crc = w->opts.emit_chunk_crc;
    job->msg_index = w->opts.emit_message_indexes;
    w->cur = job;
    return 0;
}

/* Returns a put job to the spare list, emptied, or frees it. Oversized
 * buffers (from one huge message) are dropped rather than kept. */
static void job_recycle(struct rl_writer *w, struct rl_chunk_job *job)
{
    if (w->n_spare == WR_SPARE_JOBS) {
        job_free_all(job);
        return;
    }
    uint64_t chunk = w->opts.chunk_size_bytes < RL_MCAP_MAX_CHUNK_UNCOMPRESSED
                         ? w->opts.chunk_size_bytes
                         : RL_MCAP_MAX_CHUNK_UNCOMPRESSED;
    size_t keep = rl__cap_size(chunk * 2 + ((uint64_t)1 << 20));
    if (job->records.cap > keep)
        rl__wbuf_release(&job->records);
    if (job->out.cap > keep)
        rl__wbuf_release(&job->out);
    for (size_t i = 0; i < job->n_lanes; i++)
        job->lanes[i].n = 0;
    job->records.len = job->out.len = 0;
    job->n_lanes = 0;
    job->chunk_len = 0;
    job->start_ns = job->end_ns = job->n_msgs = 0;
    job->seq = 0;
    job->compressed = false;
    job->err = 0;
    w->spare[w->n_spare++] = job;
}

static int lane_cmp(const void *a, const void *b)
{
    const struct lane *x = a, *y = b;
    return (x->channel_id > y->channel_id) - (x->channel_id < y->channel_id);
}

static int entry_cmp(const void *a, const void *b)
{
    const struct mi_entry *x = a, *y = b;
    if (x->log_time != y->log_time)
        return x->log_time < y->log_time ? -1 : 1;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

int rl_chunk_job_compress(struct rl_chunk_job *job)
{
    if (!job)
        return -EINVAL;
    if (job->compressed)
        return job->err;
    const char *name = rl_compression_name(job->compression);
    struct wstr cname = {name, strlen(name)};
    size_t hdr = WR_CHUNK_FIXED_LEN + cname.n;
    size_t mi_bytes = 0;
    size_t clen = 0;
    int rc;

    if (job->n_lanes > 1)
        qsort(job->lanes, job->n_lanes, sizeof(*job->lanes), lane_cmp);
    if (job->msg_index) {
        for (size_t i = 0; i < job->n_lanes; i++) {
            struct lane *l = &job->lanes[i];
            if (l->n == 0)
                continue;
            if (!l->sorted)
                qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
            mi_bytes += WR_MI_HDR_LEN + l->n * WR_MI_ENTRY_LEN;
        }
    }
    size_t bound = rl__compress_bound(job->compression, job->records.len);
    job->out.len = 0;
    rc = rl__wbuf_reserve(&job->out, hdr + bound + mi_bytes, WR_MAX_JOB_OUT);
    if (rc < 0)
        goto fail;
    if (!job->cz) {
        rc = rl__compressor_new(&job->cz);
        if (rc < 0)
            goto fail;
    }
    uint32_t crc = job->chunk_crc ? rl_crc32(0, job->records.p, job->records.len) : 0;
    rc = rl__compress_ctx(job->cz, job->compression, job->level, job->records.p, job->records.len,
                          job->out.p + hdr, bound, &clen);
    if (rc < 0)
        goto fail;

    uint8_t *p = rl__put_rec(job->out.p, RL_OP_CHUNK, hdr - RL_MCAP_RECORD_HEADER_LEN + clen);
    p = rl__put64(p, job->start_ns);
    p = rl__put64(p, job->end_ns);
    p = rl__put64(p, job->records.len);
    p = rl__put32(p, crc);
    p = rl__put_str(p, &cname);
    rl__put64(p, clen);
    job->chunk_len = hdr + clen;
    job->out.len = job->chunk_len;

    for (size_t i = 0; job->msg_index && i < job->n_lanes; i++) {
        struct lane *l = &job->lanes[i];
        if (l->n == 0)
            continue;
        l->rel = job->out.len;
        size_t arr = l->n * WR_MI_ENTRY_LEN;
        p = rl__put_rec(job->out.p + job->out.len, RL_OP_MESSAGE_INDEX, 2 + 4 + arr);
        p = rl__put16(p, l->channel_id);
        p = rl__put32(p, (uint32_t)arr);
        for (size_t k = 0; k < l->n; k++)
            p = rl__put64(rl__put64(p, l->e[k].log_time), l->e[k].offset);
        job->out.len += WR_MI_HDR_LEN + arr;
    }
    rc = 0;
fail:
    job->err = rc;
    job->compressed = true;
    return rc;
}

/* ---- closing and putting chunks ---- */

/* Adds a put job's messages to the statistics. */
static void account(struct rl_writer *w, const struct rl_chunk_job *job)
{
    if (job->n_msgs == 0)
        return;
    if (w->n_messages == 0 || job->start_ns < w->start_ns)
        w->start_ns = job->start_ns;
    if (w->n_messages == 0 || job->end_ns > w->end_ns)
        w->end_ns = job->end_ns;
    w->n_messages += job->n_msgs;
    for (size_t i = 0; i < job->n_lanes; i++) {
        uint16_t slot = w->chan_slot[job->lanes[i].channel_id];
        if (slot != 0)
            w->chans[slot - 1].count += job->lanes[i].n;
    }
}

int rl__writer_close_chunk(struct rl_writer *w, bool inline_only)
{
    struct rl_chunk_job *job = w->cur;
    int rc;

    if (w->failed)
        return w->failed;
    if (!job || job->records.len == 0)
        return 0;
    w->cur = NULL;
    if (!w->opts.use_chunks) {
        rc = rl__writer_append(w, job->records.p, job->records.len, true);
        if (rc == 0)
            account(w, job);
        job_recycle(w, job);
        return rc;
    }
    job->seq = ++w->issued;
    if (w->hook && !inline_only) {
        w->hook(w->hook_ud, job);
        return w->failed;
    }
    return rl_writer_put_chunk(w, job);
}

int rl_writer_put_chunk(struct rl_writer *w, struct rl_chunk_job *job)
{
    uint64_t start = w->file_bytes;
    int rc;

    if (!job)
        return rl__writer_seterr(w, -EINVAL, "no chunk job to put");
    if (w->failed) {
        rc = w->failed;
        goto done;
    }
    if (job->seq == 0 || job->seq <= w->last_put || job->seq > w->issued) {
        rc = rl__writer_fail(w, RL_ESTATE,
                             "chunk job %" PRIu64 " put out of order (last put %" PRIu64 ")",
                             job->seq, w->last_put);
        goto done;
    }
    rc = rl_chunk_job_compress(job);
    if (rc < 0) {
        rc = rl__writer_fail(w, rc, "compressing chunk %" PRIu64 " (%zu bytes) failed: %s",
                             job->seq, job->records.len, rl_strerror(rc));
        goto done;
    }
    const char *name = rl_compression_name(job->compression);
    struct wstr cname = {name, strlen(name)};
    size_t n_idx = 0;
    for (size_t i = 0; job->msg_index && i < job->n_lanes; i++)
        n_idx += job->lanes[i].n > 0;
    size_t ci_content = 8 * 4 + 4 + n_idx * 10 + 8 + 4 + cname.n + 8 + 8;
    if (w->opts.emit_chunk_indexes) {
        rc = rl__wbuf_reserve(&w->chunk_idx, RL_MCAP_RECORD_HEADER_LEN + ci_content,
                              WR_MAX_SUMMARY_BYTES);
        if (rc < 0) {
            rc = rl__writer_fail(w, rc, "chunk index at offset %" PRIu64 ": %s", start,
                                 rl_strerror(rc));
            goto done;
        }
    }
    rc = rl__writer_append(w, job->out.p, job->out.len, true);
    if (rc < 0)
        goto done;
    w->last_put = job->seq;
    w->n_put++;
    w->n_chunks++;
    account(w, job);
    if (w->opts.emit_chunk_indexes) {
        uint8_t *p = rl__put_rec(w->chunk_idx.p + w->chunk_idx.len, RL_OP_CHUNK_INDEX, ci_content);
        p = rl__put64(rl__put64(p, job->start_ns), job->end_ns);
        p = rl__put64(rl__put64(p, start), job->chunk_len);
        p = rl__put32(p, (uint32_t)(n_idx * 10));
        for (size_t i = 0; job->msg_index && i < job->n_lanes; i++) {
            if (job->lanes[i].n > 0)
                p = rl__put64(rl__put16(p, job->lanes[i].channel_id), start + job->lanes[i].rel);
        }
        p = rl__put64(p, job->out.len - job->chunk_len);
        p = rl__put_str(p, &cname);
        rl__put64(rl__put64(p, job->chunk_len - (WR_CHUNK_FIXED_LEN + cname.n)), job->records.len);
        w->chunk_idx.len += RL_MCAP_RECORD_HEADER_LEN + ci_content;
    }
done:
    job_recycle(w, job);
    return rc;
}
