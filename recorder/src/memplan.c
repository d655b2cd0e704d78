/* The recorder's memory plan (recorder.h, rl_recorder_plan_memory): how
 * --max-memory is divided, so the process stays under it at any rate.
 * Everything that scales is sized here once and allocated at start:
 *
 *   base       code, libraries, thread stacks, control socket, JSON buffers
 *   batches    each socket source's recvmmsg buffers (RL__SOCK_BATCH + 1 slots)
 *   pipeline   chunk jobs: the open one, max_inflight in flight, and two the
 *              pipeline may hold besides; each job holds its records (up to
 *              twice the chunk size as its buffer grows), the compressed
 *              output and a compression context
 *   pcap       each pcap source's kernel ring, mapped into the process
 *   rings      the rest, split evenly between the sources; with --snapshot
 *              a quarter goes to the rings and three quarters to the buffer
 *              that holds the last D seconds. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "rec_internal.h"

#define MIB                   ((uint64_t)1 << 20)
#define BASE_BYTES            (24 * MIB)
#define MIN_RING_BYTES        (1 * MIB)
#define PCAP_DEFAULT_BUFFER   (64 * MIB)
#define PCAP_MIN_BUFFER       (4 * MIB)
#define PIPELINE_SHARE        0.4  /* of what is left after base and batches */
#define PCAP_SHARE            0.25 /* of what is left after the pipeline */
#define MAX_AUTO_WORKERS      4u
#define JOBS_BESIDES_INFLIGHT 3u /* the open job and the pipeline's two spare slots */

static size_t max_frame_of(const struct rl_source_spec *s)
{
    switch (s->type) {
    case RL_SOURCE_UDP:
        return rl__src_udp.max_frame(s);
    case RL_SOURCE_PCAP:
        return rl__src_pcap.max_frame(s);
    case RL_SOURCE_CAN:
        return rl__src_can.max_frame(s);
    case RL_SOURCE_SERIAL:
        return rl__src_serial.max_frame(s);
    }
    return 0;
}

static size_t batch_of(const struct rl_source_spec *s)
{
    switch (s->type) {
    case RL_SOURCE_UDP:
        return rl__src_udp.batch_bytes(s);
    case RL_SOURCE_PCAP:
        return rl__src_pcap.batch_bytes(s);
    case RL_SOURCE_CAN:
        return rl__src_can.batch_bytes(s);
    case RL_SOURCE_SERIAL:
        return rl__src_serial.batch_bytes(s);
    }
    return 0;
}

/* A compression context's size, generously (zstd's grows with the level;
 * windows are bounded by the chunk size). */
static uint64_t context_bytes(const struct rl_writer_options *w)
{
    if (w->compression == RL_COMPRESS_NONE)
        return 0;
    if (w->compression == RL_COMPRESS_LZ4)
        return 1 * MIB;
    uint64_t window = w->chunk_size_bytes;
    if (w->level <= 3)
        return 2 * MIB + window / 2;
    if (w->level <= 9)
        return 8 * MIB + window;
    if (w->level <= 15)
        return 24 * MIB + 2 * window;
    return 64 * MIB + 4 * window;
}

int rl_recorder_plan_memory(const struct rl_recorder_options *opts, struct rl_recorder_memplan *out,
                            char *err, size_t err_len)
{
    struct rl_recorder_memplan m = {0};
    m.total_bytes = opts->max_memory_bytes ? opts->max_memory_bytes : RL_REC_DEFAULT_MEMORY;
    m.base_bytes = BASE_BYTES;
    uint64_t chunk = opts->writer.chunk_size_bytes;
    uint64_t per_job = 2 * chunk + chunk / 8 + context_bytes(&opts->writer);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = opts->workers;
    if (workers == 0) {
        /* One CPU each for capture and the builder when there are many. */
        workers = ncpu > 2 ? (unsigned)(ncpu - 2) : 1;
        if (workers > MAX_AUTO_WORKERS)
            workers = MAX_AUTO_WORKERS;
    }
    if (workers > RL_PIPELINE_MAX_WORKERS)
        workers = RL_PIPELINE_MAX_WORKERS;
    m.workers = workers;

    size_t n_pcap = 0;
    uint64_t min_rings = 0;
    for (size_t i = 0; i < opts->n_sources; i++) {
        const struct rl_source_spec *s = &opts->sources[i];
        m.batch_bytes += batch_of(s);
        uint64_t need = 4 * (uint64_t)(max_frame_of(s) + 32);
        min_rings += need > MIN_RING_BYTES ? need : MIN_RING_BYTES;
        if (s->type == RL_SOURCE_PCAP)
            n_pcap++;
    }
    uint64_t fixed = m.base_bytes + m.batch_bytes;
    uint64_t min_need =
        fixed + (1 + JOBS_BESIDES_INFLIGHT) * per_job + min_rings + n_pcap * PCAP_MIN_BUFFER;
    if (opts->snapshot_ns)
        min_need += 4 * min_rings;
    if (m.total_bytes < min_need) {
        snprintf(err, err_len,
                 "--max-memory %llu MiB is too small for these sources and --chunk-size: "
                 "at least %llu MiB are needed",
                 (unsigned long long)(m.total_bytes / MIB),
                 (unsigned long long)((min_need + MIB - 1) / MIB));
        return -EINVAL;
    }
    uint64_t left = m.total_bytes - fixed;
    uint64_t budget = (uint64_t)((double)left * PIPELINE_SHARE);
    uint64_t jobs = budget / per_job;
    unsigned inflight = jobs > JOBS_BESIDES_INFLIGHT ? (unsigned)(jobs - JOBS_BESIDES_INFLIGHT) : 1;
    if (inflight > 2 * workers + 1)
        inflight = 2 * workers + 1;
    if (inflight > RL_PIPELINE_MAX_INFLIGHT)
        inflight = RL_PIPELINE_MAX_INFLIGHT;
    m.max_inflight = inflight;
    m.pipeline_bytes = ((uint64_t)inflight + JOBS_BESIDES_INFLIGHT) * per_job;
    left -= m.pipeline_bytes;

    if (n_pcap) {
        uint64_t each = (uint64_t)((double)left * PCAP_SHARE) / n_pcap;
        if (each > PCAP_DEFAULT_BUFFER)
            each = PCAP_DEFAULT_BUFFER;
        if (each < PCAP_MIN_BUFFER)
            each = PCAP_MIN_BUFFER;
        m.pcap_buffer_bytes = each;
        for (size_t i = 0; i < opts->n_sources; i++) {
            const struct rl_source_spec *s = &opts->sources[i];
            if (s->type == RL_SOURCE_PCAP)
                left -= s->buffer_bytes && s->buffer_bytes < each ? s->buffer_bytes : each;
        }
    }
    if (opts->snapshot_ns) {
        m.snapshot_bytes = left / 4 * 3;
        left -= m.snapshot_bytes;
    }
    m.ring_bytes = opts->n_sources ? left / opts->n_sources : 0;
    if (m.ring_bytes * opts->n_sources < min_rings) {
        snprintf(err, err_len, "--max-memory %llu MiB leaves too little for the rings",
                 (unsigned long long)(m.total_bytes / MIB));
        return -EINVAL;
    }
    *out = m;
    return 0;
}
