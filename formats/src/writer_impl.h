/* The MCAP writer's private state, shared by writer.c (open/close, schemas,
 * channels, messages, attachments, metadata), writer_job.c (chunk jobs:
 * taking, compressing, putting into the file, recycling) and writer_summary.c
 * (DataEnd, Summary, Footer). Not used outside those three files; the state
 * machine and invariants these structs keep are described at the top of
 * writer.c. Record layouts follow the MCAP Format Specification v0x30,
 * "Records". */
#ifndef RL_WRITER_IMPL_H
#define RL_WRITER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "roadlog/writer.h"

#define WR_IDS                65536u /* u16 id space; id 0 is "none"/"choose" */
#define WR_SPARE_JOBS         8      /* recycled jobs kept for reuse */
#define WR_MSG_HDR_LEN        31     /* opcode, length, channel, sequence, log and publish time */
#define WR_MI_ENTRY_LEN       16     /* log_time, offset */
#define WR_MI_HDR_LEN         15     /* opcode, length, channel, array length */
#define WR_CHUNK_FIXED_LEN    49     /* record header, 3 times, crc, name length, records length */
#define WR_SUMMARY_OFFSET_LEN 26
#define WR_MAX_SUMMARY_BYTES  ((uint64_t)1 << 30) /* each summary index buffer */
#define WR_MAX_JOB_OUT        (RL_MCAP_MAX_RECORD_BYTES + RL_MCAP_MAX_CHUNK_UNCOMPRESSED)
#define WR_MIN_BUF            4096

_Static_assert(WR_MSG_HDR_LEN == RL_MCAP_RECORD_HEADER_LEN + 2 + 4 + 8 + 8, "message layout");
_Static_assert(WR_MI_HDR_LEN == RL_MCAP_RECORD_HEADER_LEN + 2 + 4, "message index layout");
_Static_assert(WR_CHUNK_FIXED_LEN == RL_MCAP_RECORD_HEADER_LEN + 8 * 3 + 4 + 4 + 8, "chunk layout");
_Static_assert(WR_SUMMARY_OFFSET_LEN == RL_MCAP_RECORD_HEADER_LEN + 1 + 8 + 8, "summary offset");

/* A growable byte buffer with a hard cap given at each reserve. */
struct wbuf {
    uint8_t *p;
    size_t len, cap;
};

struct mi_entry {
    uint64_t log_time, offset;
};

/* One channel's messages in a chunk job: count, and (with message indexes)
 * their log times and offsets in the uncompressed records. */
struct lane {
    uint16_t channel_id;
    bool sorted; /* entries are in log_time order */
    struct mi_entry *e;
    size_t n, cap;
    size_t rel; /* offset of its MessageIndex record in job->out */
};

/* A chunk being filled (w->cur), or detached for compression and put. */
struct rl_chunk_job {
    uint64_t seq, gen;
    enum rl_compression compression;
    int level;
    bool chunk_crc, msg_index;
    bool compressed;
    int err;
    struct wbuf records;
    uint64_t start_ns, end_ns, n_msgs;
    struct lane *lanes;
    size_t n_lanes, cap_lanes;
    struct wbuf out; /* the Chunk record, then its MessageIndex records */
    size_t chunk_len;
    struct rl__compressor *cz;
};

/* A registered schema, with its record kept for the summary. */
struct schema_rec {
    uint16_t id;
    uint8_t *rec;
    size_t len;
};

/* A registered channel, with its record kept for the summary. */
struct chan {
    uint16_t id;
    uint64_t count;    /* messages in the file */
    uint64_t lane_gen; /* == w->cur->gen when lane is valid */
    size_t lane;
    uint8_t *rec;
    size_t len;
};

struct rl_writer {
    struct rl_io *io;
    bool own_io;
    struct rl_writer_options opts;
    int failed;
    char err[256];
    uint64_t file_bytes;
    uint32_t data_crc;

    uint8_t schema_used[WR_IDS / 8];
    struct schema_rec *schemas;
    size_t n_schemas, cap_schemas;
    uint16_t next_schema_id, next_channel_id;
    uint16_t *chan_slot; /* id -> index + 1 into chans, 0 = unknown */
    struct chan *chans;
    size_t n_chans, cap_chans;

    struct rl_chunk_job *cur;
    struct rl_chunk_job *spare[WR_SPARE_JOBS];
    size_t n_spare;
    uint64_t gen, issued, last_put, n_put;
    rl_chunk_hook_fn hook;
    void *hook_ud;

    uint64_t n_messages, start_ns, end_ns;
    uint32_t n_chunks, n_attachments, n_metadata;
    struct wbuf chunk_idx, attach_idx, meta_idx;
};

/* A string argument with its length checked to fit a u32 length prefix. */
struct wstr {
    const char *s;
    size_t n;
};

/* Clamps a 64-bit size to size_t. */
static inline size_t rl__cap_size(uint64_t v)
{
    return v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

/* Little-endian record builders over a buffer the caller has reserved;
 * each returns the position after what it wrote. */
static inline uint8_t *rl__put8(uint8_t *p, uint8_t v)
{
    *p = v;
    return p + 1;
}
static inline uint8_t *rl__put16(uint8_t *p, uint16_t v)
{
    rl__put_u16le(p, v);
    return p + 2;
}
static inline uint8_t *rl__put32(uint8_t *p, uint32_t v)
{
    rl__put_u32le(p, v);
    return p + 4;
}
static inline uint8_t *rl__put64(uint8_t *p, uint64_t v)
{
    rl__put_u64le(p, v);
    return p + 8;
}
static inline uint8_t *rl__put_raw(uint8_t *p, const void *d, size_t n)
{
    if (n > 0)
        memcpy(p, d, n);
    return p + n;
}
static inline uint8_t *rl__put_rec(uint8_t *p, uint8_t opcode, uint64_t content_len)
{
    return rl__put64(rl__put8(p, opcode), content_len);
}

static inline uint8_t *rl__put_str(uint8_t *p, const struct wstr *s)
{
    return rl__put_raw(rl__put32(p, (uint32_t)s->n), s->s, s->n);
}

/* ---- writer.c ---- */

/* Makes room for extra more bytes in b, never past limit64 in all.
 * Returns 0, RL_ETOOBIG or -ENOMEM. */
int rl__wbuf_reserve(struct wbuf *b, size_t extra, uint64_t limit64) RL_WARN_UNUSED;
void rl__wbuf_release(struct wbuf *b);

/* Formats w->err and returns rc; the writer stays usable (bad arguments). */
int rl__writer_seterr(struct rl_writer *w, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats w->err, moves the writer to FAILED with rc and returns rc. */
int rl__writer_fail(struct rl_writer *w, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends bytes to the file; data-section bytes (data true) also feed the
 * data CRC. A failed write fails the writer. */
int rl__writer_append(struct rl_writer *w, const void *p, size_t len, bool data) RL_WARN_UNUSED;

/* ---- writer_job.c ---- */

/* Takes a spare job or makes one, and makes it the open chunk w->cur. */
int rl__writer_open_job(struct rl_writer *w) RL_WARN_UNUSED;
/* Closes the open chunk, if any: raw records without chunks, else hands the
 * job to the hook, or compresses and puts it inline (always when
 * inline_only). */
int rl__writer_close_chunk(struct rl_writer *w, bool inline_only) RL_WARN_UNUSED;

/* ---- writer_summary.c ---- */

/* Writes the last chunk, DataEnd, the Summary, SummaryOffsets, Footer and
 * magic. Returns RL_ESTATE (after finishing the file) when chunk jobs were
 * not put back. */
int rl__writer_finish(struct rl_writer *w) RL_WARN_UNUSED;

#endif
