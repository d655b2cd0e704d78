/* The MCAP writer (writer.h; MCAP Format Specification v0x30, "File
 * Structure" and "Records"). It lays a file out as magic, Header, data
 * records, DataEnd, Summary (Schema, Channel, Statistics, MetadataIndex,
 * AttachmentIndex and ChunkIndex groups, then one SummaryOffset per group),
 * Footer, magic.
 *
 * State machine. A writer is OPEN from rl_writer_open_io() until close or
 * abort frees it; the first failed write, sync or chunk compression moves it
 * to FAILED for good (w->failed holds the code, w->err the detail) and every
 * later call returns that code. Bad arguments (unknown channel, duplicate id,
 * too big) are reported without failing the writer. Messages collect in the
 * open chunk job w->cur (NULL when none is open). Closing a chunk detaches
 * the job and gives it a sequence number; it is then compressed (inline, or
 * by whoever the chunk hook gave it to) and put back with
 * rl_writer_put_chunk(), which appends the chunk and its MessageIndex records
 * in one write. Put jobs are recycled (up to WR_SPARE_JOBS) so their buffers
 * and zstd context serve the next chunk.
 *
 * Invariants. w->file_bytes is the exact number of bytes in the file, and
 * w->data_crc the CRC-32 of all of them while in the data section. Schema and
 * Channel records reach the file the moment they are registered, before any
 * chunk that may hold their messages. Statistics, chunk counts and per-channel
 * message counts cover only what reached the file (accounted when a job is
 * put), so a job abandoned with rl_chunk_job_free() leaves no trace in the
 * summary. A job owns all its buffers; the writer never touches a job after
 * handing it to the hook until it comes back through rl_writer_put_chunk().
 * Jobs must come back in increasing sequence order (skipping an abandoned one
 * is allowed). rl_writer_close() compresses the last chunk inline even with
 * a hook; jobs not put back by then are lost and close says so (RL_ESTATE)
 * after finishing the file without them. Without use_chunks the open job's
 * records are written raw into the data section and no chunk or message
 * indexes exist. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "cursor.h"
#include "roadlog/writer.h"

#ifndef RL_VERSION
#define RL_VERSION "unknown"
#endif

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

struct schema_rec {
    uint16_t id;
    uint8_t *rec;
    size_t len;
};

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

/* ---- helpers ---- */

static size_t cap_size(uint64_t v)
{
    return v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

static int wbuf_reserve(struct wbuf *b, size_t extra, uint64_t limit64)
{
    size_t limit = cap_size(limit64);
    if (extra > limit || b->len > limit - extra)
        return RL_ETOOBIG;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : WR_MIN_BUF;
    while (cap < need)
        cap = cap > limit / 2 ? limit : cap * 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void wbuf_release(struct wbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Grows an array to hold at least need elements of size elem. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem, size_t limit)
{
    if (need <= *cap)
        return 0;
    if (need > limit || need > SIZE_MAX / elem)
        return RL_ETOOBIG;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n = n > limit / 2 ? limit : n * 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

static uint8_t *put8(uint8_t *p, uint8_t v)
{
    *p = v;
    return p + 1;
}
static uint8_t *put16(uint8_t *p, uint16_t v)
{
    rl__put_u16le(p, v);
    return p + 2;
}
static uint8_t *put32(uint8_t *p, uint32_t v)
{
    rl__put_u32le(p, v);
    return p + 4;
}
static uint8_t *put64(uint8_t *p, uint64_t v)
{
    rl__put_u64le(p, v);
    return p + 8;
}
static uint8_t *put_raw(uint8_t *p, const void *d, size_t n)
{
    if (n > 0)
        memcpy(p, d, n);
    return p + n;
}
static uint8_t *put_rec(uint8_t *p, uint8_t opcode, uint64_t content_len)
{
    return put64(put8(p, opcode), content_len);
}

/* A string argument with its length checked to fit a u32 length prefix. */
struct wstr {
    const char *s;
    size_t n;
};

static uint8_t *put_str(uint8_t *p, const struct wstr *s)
{
    return put_raw(put32(p, (uint32_t)s->n), s->s, s->n);
}

__attribute__((format(printf, 3, 4))) static int seterr(struct rl_writer *w, int rc,
                                                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
    return rc;
}

/* Moves the writer to FAILED with rc. */
__attribute__((format(printf, 3, 4))) static int failerr(struct rl_writer *w, int rc,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
    w->failed = rc;
    return rc;
}

static int text(struct rl_writer *w, struct wstr *out, const char *s, bool required,
                const char *what)
{
    out->s = "";
    out->n = 0;
    if (!s && required)
        return seterr(w, -EINVAL, "%s is NULL", what);
    out->s = s ? s : "";
    out->n = strlen(out->s);
    if (out->n > UINT32_MAX)
        return seterr(w, RL_ETOOBIG, "%s is %zu bytes long", what, out->n);
    return 0;
}

/* A map<string,string> argument, sorted by key and checked. */
struct kvmap {
    const struct rl_kv **sorted;
    size_t n;
    uint64_t bytes; /* serialized entries, without the u32 length prefix */
};

static int kv_cmp(const void *a, const void *b)
{
    const struct rl_kv *x = *(const struct rl_kv *const *)a;
    const struct rl_kv *y = *(const struct rl_kv *const *)b;
    return strcmp(x->key, y->key);
}

static int kvmap_init(struct rl_writer *w, struct kvmap *m, const struct rl_kv *kv, size_t n)
{
    int rc;
    m->sorted = NULL;
    m->n = n;
    m->bytes = 0;
    if (n == 0)
        return 0;
    if (!kv)
        return seterr(w, -EINVAL, "map of %zu entries is NULL", n);
    if (n > UINT32_MAX / 8)
        return seterr(w, RL_ETOOBIG, "map of %zu entries", n);
    m->sorted = malloc(n * sizeof(*m->sorted));
    if (!m->sorted)
        return seterr(w, -ENOMEM, "out of memory for a map of %zu entries", n);
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].key || !kv[i].value) {
            rc = seterr(w, -EINVAL, "map entry %zu has a NULL key or value", i);
            goto fail;
        }
        m->bytes += 8 + (uint64_t)strlen(kv[i].key) + strlen(kv[i].value);
        m->sorted[i] = &kv[i];
    }
    if (m->bytes > UINT32_MAX) {
        rc = seterr(w, RL_ETOOBIG, "map of %" PRIu64 " bytes", m->bytes);
        goto fail;
    }
    qsort(m->sorted, n, sizeof(*m->sorted), kv_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(m->sorted[i - 1]->key, m->sorted[i]->key) == 0) {
            rc = seterr(w, RL_EDUPLICATE, "duplicate map key '%s'", m->sorted[i]->key);
            goto fail;
        }
    }
    return 0;
fail:
    free(m->sorted);
    m->sorted = NULL;
    return rc;
}

static uint8_t *put_map(uint8_t *p, const struct kvmap *m)
{
    p = put32(p, (uint32_t)m->bytes);
    for (size_t i = 0; i < m->n; i++) {
        struct wstr k = {m->sorted[i]->key, strlen(m->sorted[i]->key)};
        struct wstr v = {m->sorted[i]->value, strlen(m->sorted[i]->value)};
        p = put_str(put_str(p, &k), &v);
    }
    return p;
}

/* ---- chunk jobs ---- */

static void job_free_all(struct rl_chunk_job *job)
{
    for (size_t i = 0; i < job->cap_lanes; i++)
        free(job->lanes[i].e);
    free(job->lanes);
    wbuf_release(&job->records);
    wbuf_release(&job->out);
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

/* Takes a spare job or makes one, and makes it the open chunk. */
static int job_open(struct rl_writer *w)
{
    struct rl_chunk_job *job;
    if (w->n_spare > 0) {
        job = w->spare[--w->n_spare];
    } else {
        job = calloc(1, sizeof(*job));
        if (!job)
            return seterr(w, -ENOMEM, "out of memory for a chunk");
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
    size_t keep = cap_size(chunk * 2 + ((uint64_t)1 << 20));
    if (job->records.cap > keep)
        wbuf_release(&job->records);
    if (job->out.cap > keep)
        wbuf_release(&job->out);
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
    rc = wbuf_reserve(&job->out, hdr + bound + mi_bytes, WR_MAX_JOB_OUT);
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

    uint8_t *p = put_rec(job->out.p, RL_OP_CHUNK, hdr - RL_MCAP_RECORD_HEADER_LEN + clen);
    p = put64(p, job->start_ns);
    p = put64(p, job->end_ns);
    p = put64(p, job->records.len);
    p = put32(p, crc);
    p = put_str(p, &cname);
    put64(p, clen);
    job->chunk_len = hdr + clen;
    job->out.len = job->chunk_len;

    for (size_t i = 0; job->msg_index && i < job->n_lanes; i++) {
        struct lane *l = &job->lanes[i];
        if (l->n == 0)
            continue;
        l->rel = job->out.len;
        size_t arr = l->n * WR_MI_ENTRY_LEN;
        p = put_rec(job->out.p + job->out.len, RL_OP_MESSAGE_INDEX, 2 + 4 + arr);
        p = put16(p, l->channel_id);
        p = put32(p, (uint32_t)arr);
        for (size_t k = 0; k < l->n; k++)
            p = put64(put64(p, l->e[k].log_time), l->e[k].offset);
        job->out.len += WR_MI_HDR_LEN + arr;
    }
    rc = 0;
fail:
    job->err = rc;
    job->compressed = true;
    return rc;
}

/* ---- writer basics ---- */

void rl_writer_options_init(struct rl_writer_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->profile = "";
    opts->library = NULL;
    opts->compression = RL_COMPRESS_ZSTD;
    opts->level = 3;
    opts->chunk_size_bytes = (uint64_t)4 << 20;
    opts->use_chunks = true;
    opts->emit_message_indexes = true;
    opts->emit_statistics = true;
    opts->emit_summary = true;
    opts->emit_chunk_indexes = true;
    opts->emit_attachment_indexes = true;
    opts->emit_metadata_indexes = true;
    opts->emit_summary_offsets = true;
    opts->emit_data_crc = true;
    opts->emit_chunk_crc = true;
}

const char *rl_writer_errmsg(const struct rl_writer *w)
{
    return w->err;
}

uint64_t rl_writer_file_bytes(const struct rl_writer *w)
{
    return w->file_bytes;
}

uint64_t rl_writer_pending_bytes(const struct rl_writer *w)
{
    return w->cur ? w->cur->records.len : 0;
}

void rl_writer_set_chunk_hook(struct rl_writer *w, rl_chunk_hook_fn hook, void *ud)
{
    w->hook = hook;
    w->hook_ud = ud;
}

/* Appends bytes to the file; data-section bytes also feed the data CRC. */
static int io_append(struct rl_writer *w, const void *p, size_t len, bool data)
{
    if (w->failed)
        return w->failed;
    int rc = rl_io_write(w->io, p, len);
    if (rc < 0)
        return failerr(w, rc, "write failed at offset %" PRIu64 ": %s", w->file_bytes,
                       rl_strerror(rc));
    if (data && w->opts.emit_data_crc)
        w->data_crc = rl_crc32(w->data_crc, p, len);
    w->file_bytes += len;
    return 0;
}

static int writer_free(struct rl_writer *w)
{
    int rc = 0;
    if (w->cur)
        job_free_all(w->cur);
    for (size_t i = 0; i < w->n_spare; i++)
        job_free_all(w->spare[i]);
    for (size_t i = 0; i < w->n_schemas; i++)
        free(w->schemas[i].rec);
    for (size_t i = 0; i < w->n_chans; i++)
        free(w->chans[i].rec);
    free(w->schemas);
    free(w->chans);
    free(w->chan_slot);
    wbuf_release(&w->chunk_idx);
    wbuf_release(&w->attach_idx);
    wbuf_release(&w->meta_idx);
    if (w->own_io)
        rc = rl_io_close(w->io);
    free(w);
    return rc;
}

int rl_writer_open_io(struct rl_writer **out, struct rl_io *io, bool own_io,
                      const struct rl_writer_options *opts)
{
    struct rl_writer *w = NULL;
    uint8_t *buf = NULL;
    struct wstr profile, library;
    int rc;

    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (!w) {
        rc = -ENOMEM;
        goto fail;
    }
    w->io = io;
    w->own_io = own_io;
    if (opts)
        w->opts = *opts;
    else
        rl_writer_options_init(&w->opts);
    if (w->opts.compression != RL_COMPRESS_NONE && w->opts.compression != RL_COMPRESS_ZSTD &&
        w->opts.compression != RL_COMPRESS_LZ4) {
        rc = -EINVAL;
        goto fail;
    }
    w->next_schema_id = w->next_channel_id = 1;
    w->chan_slot = calloc(WR_IDS, sizeof(*w->chan_slot));
    if (!w->chan_slot) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = text(w, &profile, w->opts.profile, false, "profile");
    if (rc < 0)
        goto fail;
    rc = text(w, &library, w->opts.library ? w->opts.library : "roadlog " RL_VERSION, false,
              "library");
    if (rc < 0)
        goto fail;
    w->opts.profile = w->opts.library = NULL; /* caller memory: not kept */

    size_t content = 4 + profile.n + 4 + library.n;
    size_t len = RL_MCAP_MAGIC_LEN + RL_MCAP_RECORD_HEADER_LEN + content;
    buf = malloc(len);
    if (!buf) {
        rc = -ENOMEM;
        goto fail;
    }
    uint8_t *p = put_raw(buf, rl_mcap_magic, RL_MCAP_MAGIC_LEN);
    p = put_rec(p, RL_OP_HEADER, content);
    put_str(put_str(p, &profile), &library);
    rc = io_append(w, buf, len, true);
    if (rc < 0)
        goto fail;
    free(buf);
    *out = w;
    return 0;
fail:
    free(buf);
    if (w)
        (void)writer_free(w);
    else if (own_io)
        (void)rl_io_close(io);
    return rc;
}

int rl_writer_open(struct rl_writer **out, const char *path, const struct rl_writer_options *opts)
{
    struct rl_io *io = NULL;
    *out = NULL;
    int rc = rl_io_file_open(&io, path, RL_IO_CREATE);
    if (rc < 0)
        return rc;
    return rl_writer_open_io(out, io, true, opts);
}

/* ---- schemas and channels ---- */

static bool schema_known(const struct rl_writer *w, uint16_t id)
{
    return (w->schema_used[id / 8] >> (id % 8)) & 1;
}

/* Picks the first free id at or after next (ids 1..65535, wrapping). The
 * caller advances its counter only once the id is taken for good. */
static int pick_id(struct rl_writer *w, uint16_t next, bool schema, uint16_t *id)
{
    uint16_t cand = next;
    for (uint32_t i = 0; i < WR_IDS - 1; i++) {
        bool taken = schema ? schema_known(w, cand) : w->chan_slot[cand] != 0;
        if (!taken) {
            *id = cand;
            return 0;
        }
        cand = cand == UINT16_MAX ? 1 : (uint16_t)(cand + 1);
    }
    return seterr(w, RL_ETOOBIG, "no free %s id left", schema ? "schema" : "channel");
}

static uint16_t after(uint16_t id)
{
    return id == UINT16_MAX ? 1 : (uint16_t)(id + 1);
}

int rl_writer_add_schema(struct rl_writer *w, uint16_t id, const char *name, const char *encoding,
                         const void *data, size_t len, uint16_t *id_out)
{
    struct wstr n, e;
    uint8_t *rec = NULL;
    int rc;

    if (w->failed)
        return w->failed;
    if ((rc = text(w, &n, name, true, "schema name")) < 0 ||
        (rc = text(w, &e, encoding, false, "schema encoding")) < 0)
        return rc;
    if (!data && len > 0)
        return seterr(w, -EINVAL, "schema '%s' has NULL data", name);
    if (len > UINT32_MAX)
        return seterr(w, RL_ETOOBIG, "schema '%s' is %zu bytes long", name, len);
    bool auto_id = id == 0;
    if (auto_id) {
        if ((rc = pick_id(w, w->next_schema_id, true, &id)) < 0)
            return rc;
    } else if (schema_known(w, id)) {
        return seterr(w, RL_EDUPLICATE, "schema id %u already registered", id);
    }
    rc = grow((void **)&w->schemas, &w->cap_schemas, w->n_schemas + 1, sizeof(*w->schemas), WR_IDS);
    if (rc < 0)
        return seterr(w, rc, "out of memory for schema '%s'", name);
    size_t content = 2 + 4 + n.n + 4 + e.n + 4 + len;
    size_t total = RL_MCAP_RECORD_HEADER_LEN + content;
    rec = malloc(total);
    if (!rec)
        return seterr(w, -ENOMEM, "out of memory for schema '%s'", name);
    uint8_t *p = put16(put_rec(rec, RL_OP_SCHEMA, content), id);
    p = put_str(put_str(p, &n), &e);
    put_raw(put32(p, (uint32_t)len), data, len);
    rc = io_append(w, rec, total, true);
    if (rc < 0)
        goto fail;
    w->schemas[w->n_schemas++] = (struct schema_rec){id, rec, total};
    w->schema_used[id / 8] |= (uint8_t)(1u << (id % 8));
    if (auto_id)
        w->next_schema_id = after(id);
    if (id_out)
        *id_out = id;
    return 0;
fail:
    free(rec);
    return rc;
}

int rl_writer_add_channel(struct rl_writer *w, uint16_t id, uint16_t schema_id, const char *topic,
                          const char *message_encoding, const struct rl_kv *meta, size_t n_meta,
                          uint16_t *id_out)
{
    struct wstr t, e;
    struct kvmap m = {NULL, 0, 0};
    uint8_t *rec = NULL;
    int rc;

    if (w->failed)
        return w->failed;
    if ((rc = text(w, &t, topic, true, "channel topic")) < 0 ||
        (rc = text(w, &e, message_encoding, false, "message encoding")) < 0)
        return rc;
    if (schema_id != 0 && !schema_known(w, schema_id))
        return seterr(w, RL_ENOTFOUND, "channel '%s': schema %u not registered", topic, schema_id);
    bool auto_id = id == 0;
    if (auto_id) {
        if ((rc = pick_id(w, w->next_channel_id, false, &id)) < 0)
            return rc;
    } else if (w->chan_slot[id] != 0) {
        return seterr(w, RL_EDUPLICATE, "channel id %u already registered", id);
    }
    rc = grow((void **)&w->chans, &w->cap_chans, w->n_chans + 1, sizeof(*w->chans), WR_IDS);
    if (rc < 0)
        return seterr(w, rc, "out of memory for channel '%s'", topic);
    if ((rc = kvmap_init(w, &m, meta, n_meta)) < 0)
        return rc;
    size_t content = 2 + 2 + 4 + t.n + 4 + e.n + 4 + (size_t)m.bytes;
    size_t total = RL_MCAP_RECORD_HEADER_LEN + content;
    rec = malloc(total);
    if (!rec) {
        rc = seterr(w, -ENOMEM, "out of memory for channel '%s'", topic);
        goto fail;
    }
    uint8_t *p = put16(put16(put_rec(rec, RL_OP_CHANNEL, content), id), schema_id);
    put_map(put_str(put_str(p, &t), &e), &m);
    rc = io_append(w, rec, total, true);
    if (rc < 0)
        goto fail;
    w->chans[w->n_chans] = (struct chan){.id = id, .rec = rec, .len = total};
    w->chan_slot[id] = (uint16_t)(++w->n_chans);
    if (auto_id)
        w->next_channel_id = after(id);
    free(m.sorted);
    if (id_out)
        *id_out = id;
    return 0;
fail:
    free(m.sorted);
    free(rec);
    return rc;
}

/* ---- messages and chunks ---- */

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

/* Closes the open chunk: raw records without chunks, else hands the job to
 * the hook or compresses and puts it inline. */
static int close_chunk(struct rl_writer *w, bool inline_only)
{
    struct rl_chunk_job *job = w->cur;
    int rc;

    if (w->failed)
        return w->failed;
    if (!job || job->records.len == 0)
        return 0;
    w->cur = NULL;
    if (!w->opts.use_chunks) {
        rc = io_append(w, job->records.p, job->records.len, true);
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
        return seterr(w, -EINVAL, "no chunk job to put");
    if (w->failed) {
        rc = w->failed;
        goto done;
    }
    if (job->seq == 0 || job->seq <= w->last_put || job->seq > w->issued) {
        rc = failerr(w, RL_ESTATE, "chunk job %" PRIu64 " put out of order (last put %" PRIu64 ")",
                     job->seq, w->last_put);
        goto done;
    }
    rc = rl_chunk_job_compress(job);
    if (rc < 0) {
        rc = failerr(w, rc, "compressing chunk %" PRIu64 " (%zu bytes) failed: %s", job->seq,
                     job->records.len, rl_strerror(rc));
        goto done;
    }
    const char *name = rl_compression_name(job->compression);
    struct wstr cname = {name, strlen(name)};
    size_t n_idx = 0;
    for (size_t i = 0; job->msg_index && i < job->n_lanes; i++)
        n_idx += job->lanes[i].n > 0;
    size_t ci_content = 8 * 4 + 4 + n_idx * 10 + 8 + 4 + cname.n + 8 + 8;
    if (w->opts.emit_chunk_indexes) {
        rc = wbuf_reserve(&w->chunk_idx, RL_MCAP_RECORD_HEADER_LEN + ci_content,
                          WR_MAX_SUMMARY_BYTES);
        if (rc < 0) {
            rc = failerr(w, rc, "chunk index at offset %" PRIu64 ": %s", start, rl_strerror(rc));
            goto done;
        }
    }
    rc = io_append(w, job->out.p, job->out.len, true);
    if (rc < 0)
        goto done;
    w->last_put = job->seq;
    w->n_put++;
    w->n_chunks++;
    account(w, job);
    if (w->opts.emit_chunk_indexes) {
        uint8_t *p = put_rec(w->chunk_idx.p + w->chunk_idx.len, RL_OP_CHUNK_INDEX, ci_content);
        p = put64(put64(p, job->start_ns), job->end_ns);
        p = put64(put64(p, start), job->chunk_len);
        p = put32(p, (uint32_t)(n_idx * 10));
        for (size_t i = 0; job->msg_index && i < job->n_lanes; i++) {
            if (job->lanes[i].n > 0)
                p = put64(put16(p, job->lanes[i].channel_id), start + job->lanes[i].rel);
        }
        p = put64(p, job->out.len - job->chunk_len);
        p = put_str(p, &cname);
        put64(put64(p, job->chunk_len - (WR_CHUNK_FIXED_LEN + cname.n)), job->records.len);
        w->chunk_idx.len += RL_MCAP_RECORD_HEADER_LEN + ci_content;
    }
done:
    job_recycle(w, job);
    return rc;
}

int rl_writer_write_message(struct rl_writer *w, uint16_t channel_id, uint32_t sequence,
                            uint64_t log_time_ns, uint64_t publish_time_ns, const void *data,
                            size_t len)
{
    const uint64_t limit = RL_MCAP_MAX_CHUNK_UNCOMPRESSED;
    int rc;

    if (w->failed)
        return w->failed;
    uint16_t slot = w->chan_slot[channel_id];
    if (slot == 0)
        return seterr(w, RL_ENOTFOUND, "message on unknown channel %u", channel_id);
    if (!data && len > 0)
        return seterr(w, -EINVAL, "message on channel %u has NULL data", channel_id);
    if (len > limit - WR_MSG_HDR_LEN)
        return seterr(w, RL_ETOOBIG, "message of %zu bytes on channel %u exceeds %" PRIu64, len,
                      channel_id, limit - WR_MSG_HDR_LEN);
    size_t rec = WR_MSG_HDR_LEN + len;
    if (w->cur && w->cur->records.len + rec > limit) {
        if ((rc = close_chunk(w, false)) < 0)
            return rc;
    }
    if (!w->cur && (rc = job_open(w)) < 0)
        return rc;

    struct rl_chunk_job *job = w->cur;
    rc = wbuf_reserve(&job->records, rec, limit);
    if (rc < 0)
        return seterr(w, rc, "no room for a message of %zu bytes", len);
    struct chan *c = &w->chans[slot - 1];
    if (c->lane_gen != job->gen) {
        size_t old_cap = job->cap_lanes;
        rc = grow((void **)&job->lanes, &job->cap_lanes, job->n_lanes + 1, sizeof(*job->lanes),
                  WR_IDS);
        if (rc < 0)
            return seterr(w, rc, "no room for channel %u in a chunk", channel_id);
        if (job->cap_lanes > old_cap)
            memset(&job->lanes[old_cap], 0, (job->cap_lanes - old_cap) * sizeof(*job->lanes));
        struct lane *l = &job->lanes[job->n_lanes];
        l->channel_id = channel_id;
        l->sorted = true;
        l->n = 0;
        c->lane = job->n_lanes++;
        c->lane_gen = job->gen;
    }
    struct lane *l = &job->lanes[c->lane];
    if (job->msg_index && w->opts.use_chunks) {
        rc = grow((void **)&l->e, &l->cap, l->n + 1, sizeof(*l->e),
                  cap_size(limit / WR_MSG_HDR_LEN));
        if (rc < 0)
            return seterr(w, rc, "no room to index a message on channel %u", channel_id);
        if (l->n > 0 && log_time_ns < l->e[l->n - 1].log_time)
            l->sorted = false;
        l->e[l->n] = (struct mi_entry){log_time_ns, job->records.len};
    }
    l->n++;

    uint8_t *p =
        put_rec(job->records.p + job->records.len, RL_OP_MESSAGE, rec - RL_MCAP_RECORD_HEADER_LEN);
    p = put32(put16(p, channel_id), sequence);
    put_raw(put64(put64(p, log_time_ns), publish_time_ns), data, len);
    job->records.len += rec;
    if (job->n_msgs == 0 || log_time_ns < job->start_ns)
        job->start_ns = log_time_ns;
    if (job->n_msgs == 0 || log_time_ns > job->end_ns)
        job->end_ns = log_time_ns;
    job->n_msgs++;
    if (job->records.len >= w->opts.chunk_size_bytes)
        return close_chunk(w, false);
    return 0;
}

/* ---- attachments and metadata ---- */

int rl_writer_write_attachment(struct rl_writer *w, uint64_t log_time_ns, uint64_t create_time_ns,
                               const char *name, const char *media_type, const void *data,
                               size_t len)
{
    struct wstr n, m;
    uint8_t *rec = NULL;
    int rc;

    if (w->failed)
        return w->failed;
    if ((rc = text(w, &n, name, true, "attachment name")) < 0 ||
        (rc = text(w, &m, media_type, false, "attachment media type")) < 0)
        return rc;
    if (!data && len > 0)
        return seterr(w, -EINVAL, "attachment '%s' has NULL data", name);
    uint64_t content = 8 + 8 + 4 + (uint64_t)n.n + 4 + m.n + 8 + (uint64_t)len + 4;
    if (content > RL_MCAP_MAX_RECORD_BYTES - RL_MCAP_RECORD_HEADER_LEN ||
        content > SIZE_MAX - RL_MCAP_RECORD_HEADER_LEN)
        return seterr(w, RL_ETOOBIG, "attachment '%s' of %zu bytes exceeds %" PRIu64, name, len,
                      RL_MCAP_MAX_RECORD_BYTES);
    size_t total = RL_MCAP_RECORD_HEADER_LEN + (size_t)content;
    size_t ai_content = 8 * 5 + 4 + n.n + 4 + m.n;
    if ((rc = close_chunk(w, false)) < 0)
        return rc;
    if (w->opts.emit_attachment_indexes) {
        rc = wbuf_reserve(&w->attach_idx, RL_MCAP_RECORD_HEADER_LEN + ai_content,
                          WR_MAX_SUMMARY_BYTES);
        if (rc < 0)
            return seterr(w, rc, "no room to index attachment '%s'", name);
    }
    rec = malloc(total);
    if (!rec)
        return seterr(w, -ENOMEM, "out of memory for attachment '%s' of %zu bytes", name, len);
    uint8_t *p = put64(put64(put_rec(rec, RL_OP_ATTACHMENT, content), log_time_ns), create_time_ns);
    p = put_str(put_str(p, &n), &m);
    p = put_raw(put64(p, len), data, len);
    put32(p, rl_crc32(0, rec + RL_MCAP_RECORD_HEADER_LEN, (size_t)content - 4));
    uint64_t offset = w->file_bytes;
    rc = io_append(w, rec, total, true);
    if (rc < 0)
        goto fail;
    w->n_attachments++;
    if (w->opts.emit_attachment_indexes) {
        p = put_rec(w->attach_idx.p + w->attach_idx.len, RL_OP_ATTACHMENT_INDEX, ai_content);
        p = put64(put64(p, offset), total);
        p = put64(put64(put64(p, log_time_ns), create_time_ns), len);
        put_str(put_str(p, &n), &m);
        w->attach_idx.len += RL_MCAP_RECORD_HEADER_LEN + ai_content;
    }
fail:
    free(rec);
    return rc;
}

int rl_writer_write_metadata(struct rl_writer *w, const char *name, const struct rl_kv *kv,
                             size_t n_kv)
{
    struct wstr n;
    struct kvmap m = {NULL, 0, 0};
    uint8_t *rec = NULL;
    int rc;

    if (w->failed)
        return w->failed;
    if ((rc = text(w, &n, name, true, "metadata name")) < 0)
        return rc;
    if ((rc = kvmap_init(w, &m, kv, n_kv)) < 0)
        return rc;
    size_t content = 4 + n.n + 4 + (size_t)m.bytes;
    size_t total = RL_MCAP_RECORD_HEADER_LEN + content;
    size_t mi_content = 8 + 8 + 4 + n.n;
    if ((rc = close_chunk(w, false)) < 0)
        goto fail;
    if (w->opts.emit_metadata_indexes) {
        rc = wbuf_reserve(&w->meta_idx, RL_MCAP_RECORD_HEADER_LEN + mi_content,
                          WR_MAX_SUMMARY_BYTES);
        if (rc < 0) {
            rc = seterr(w, rc, "no room to index metadata '%s'", name);
            goto fail;
        }
    }
    rec = malloc(total);
    if (!rec) {
        rc = seterr(w, -ENOMEM, "out of memory for metadata '%s'", name);
        goto fail;
    }
    put_map(put_str(put_rec(rec, RL_OP_METADATA, content), &n), &m);
    uint64_t offset = w->file_bytes;
    rc = io_append(w, rec, total, true);
    if (rc < 0)
        goto fail;
    w->n_metadata++;
    if (w->opts.emit_metadata_indexes) {
        uint8_t *p = put_rec(w->meta_idx.p + w->meta_idx.len, RL_OP_METADATA_INDEX, mi_content);
        put_str(put64(put64(p, offset), total), &n);
        w->meta_idx.len += RL_MCAP_RECORD_HEADER_LEN + mi_content;
    }
fail:
    free(m.sorted);
    free(rec);
    return rc;
}

/* ---- flush, sync, close ---- */

int rl_writer_flush(struct rl_writer *w)
{
    return close_chunk(w, false);
}

int rl_writer_sync(struct rl_writer *w)
{
    int rc = close_chunk(w, false);
    if (rc < 0)
        return rc;
    rc = rl_io_sync(w->io);
    if (rc < 0)
        return failerr(w, rc, "sync failed at offset %" PRIu64 ": %s", w->file_bytes,
                       rl_strerror(rc));
    return 0;
}

/* A summary group, for its SummaryOffset record. */
struct group {
    uint8_t opcode;
    uint64_t start, len;
};

static int sum_put(struct wbuf *b, const void *p, size_t n)
{
    int rc = wbuf_reserve(b, n, WR_MAX_SUMMARY_BYTES * 4);
    if (rc < 0)
        return rc;
    put_raw(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int schema_cmp(const void *a, const void *b)
{
    const struct schema_rec *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int put_statistics(struct rl_writer *w, struct wbuf *b)
{
    size_t n_counts = 0;
    for (size_t i = 0; i < w->n_chans; i++)
        n_counts += w->chans[i].count > 0;
    size_t content = 8 + 2 + 4 * 4 + 8 + 8 + 4 + n_counts * 10;
    int rc = wbuf_reserve(b, RL_MCAP_RECORD_HEADER_LEN + content, WR_MAX_SUMMARY_BYTES * 4);
    if (rc < 0)
        return rc;
    uint8_t *p = put64(put_rec(b->p + b->len, RL_OP_STATISTICS, content), w->n_messages);
    p = put32(put16(p, (uint16_t)w->n_schemas), (uint32_t)w->n_chans);
    p = put32(put32(put32(p, w->n_attachments), w->n_metadata), w->n_chunks);
    p = put64(put64(p, w->start_ns), w->end_ns);
    p = put32(p, (uint32_t)(n_counts * 10));
    for (uint32_t id = 1; id < WR_IDS; id++) {
        uint16_t slot = w->chan_slot[id];
        if (slot != 0 && w->chans[slot - 1].count > 0)
            p = put64(put16(p, (uint16_t)id), w->chans[slot - 1].count);
    }
    b->len += RL_MCAP_RECORD_HEADER_LEN + content;
    return 0;
}

/* Writes the last chunk, DataEnd, the Summary, SummaryOffsets, Footer and
 * magic. The summary through the magic goes out in one write. */
static int finish(struct rl_writer *w)
{
    struct wbuf b = {NULL, 0, 0};
    struct group g[6];
    size_t ng = 0;
    int state_rc = 0;
    int rc;

    rc = close_chunk(w, true);
    if (rc < 0)
        goto fail;
    if (w->n_put != w->issued)
        state_rc = seterr(w, RL_ESTATE,
                          "%" PRIu64 " chunk jobs were not put back before close; "
                          "their messages are not in the file",
                          w->issued - w->n_put);
    uint8_t de[RL_MCAP_RECORD_HEADER_LEN + 4];
    put32(put_rec(de, RL_OP_DATA_END, 4), w->opts.emit_data_crc ? w->data_crc : 0);
    rc = io_append(w, de, sizeof(de), false);
    if (rc < 0)
        goto fail;
    uint64_t sum_start = w->file_bytes;

    if (w->opts.emit_summary) {
        g[ng] = (struct group){RL_OP_SCHEMA, b.len, 0};
        if (w->n_schemas > 1)
            qsort(w->schemas, w->n_schemas, sizeof(*w->schemas), schema_cmp);
        for (size_t i = 0; i < w->n_schemas; i++)
            if ((rc = sum_put(&b, w->schemas[i].rec, w->schemas[i].len)) < 0)
                goto nomem;
        if (b.len > g[ng].start)
            ng++;
        g[ng] = (struct group){RL_OP_CHANNEL, b.len, 0};
        for (uint32_t id = 1; id < WR_IDS; id++) {
            const struct chan *c = w->chan_slot[id] ? &w->chans[w->chan_slot[id] - 1] : NULL;
            if (c && (rc = sum_put(&b, c->rec, c->len)) < 0)
                goto nomem;
        }
        if (b.len > g[ng].start)
            ng++;
    }
    if (w->opts.emit_statistics) {
        g[ng] = (struct group){RL_OP_STATISTICS, b.len, 0};
        if ((rc = put_statistics(w, &b)) < 0)
            goto nomem;
        ng++;
    }
    const struct {
        bool on;
        uint8_t opcode;
        const struct wbuf *buf;
    } idx[] = {
        {w->opts.emit_metadata_indexes, RL_OP_METADATA_INDEX, &w->meta_idx},
        {w->opts.emit_attachment_indexes, RL_OP_ATTACHMENT_INDEX, &w->attach_idx},
        {w->opts.emit_chunk_indexes, RL_OP_CHUNK_INDEX, &w->chunk_idx},
    };
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        if (!idx[i].on || idx[i].buf->len == 0)
            continue;
        g[ng++] = (struct group){idx[i].opcode, b.len, 0};
        if ((rc = sum_put(&b, idx[i].buf->p, idx[i].buf->len)) < 0)
            goto nomem;
    }
    for (size_t i = 0; i < ng; i++)
        g[i].len = (i + 1 < ng ? g[i + 1].start : b.len) - g[i].start;

    uint64_t offsets_start = 0;
    if (w->opts.emit_summary_offsets && ng > 0) {
        offsets_start = sum_start + b.len;
        for (size_t i = 0; i < ng; i++) {
            uint8_t so[WR_SUMMARY_OFFSET_LEN];
            uint8_t *p =
                put8(put_rec(so, RL_OP_SUMMARY_OFFSET, WR_SUMMARY_OFFSET_LEN - 9), g[i].opcode);
            put64(put64(p, sum_start + g[i].start), g[i].len);
            if ((rc = sum_put(&b, so, sizeof(so))) < 0)
                goto nomem;
        }
    }
    size_t footer = b.len;
    rc = wbuf_reserve(&b, RL_MCAP_FOOTER_RECORD_LEN + RL_MCAP_MAGIC_LEN, WR_MAX_SUMMARY_BYTES * 5);
    if (rc < 0)
        goto nomem;
    uint8_t *p = put_rec(b.p + footer, RL_OP_FOOTER, RL_MCAP_FOOTER_CONTENT_LEN);
    p = put64(put64(p, footer > 0 ? sum_start : 0), offsets_start);
    /* The summary CRC runs from the summary start (or the Footer when there
     * is no summary: the buffer starts there either way) through the
     * footer's summary_offset_start field. */
    p = put32(p, rl_crc32(0, b.p, (size_t)(p - b.p)));
    put_raw(p, rl_mcap_magic, RL_MCAP_MAGIC_LEN);
    b.len += RL_MCAP_FOOTER_RECORD_LEN + RL_MCAP_MAGIC_LEN;
    rc = io_append(w, b.p, b.len, false);
    goto fail;
nomem:
    rc = failerr(w, rc, "building the summary at offset %" PRIu64 ": %s", w->file_bytes,
                 rl_strerror(rc));
fail:
    wbuf_release(&b);
    return rc < 0 ? rc : state_rc;
}

int rl_writer_close(struct rl_writer *w)
{
    if (!w)
        return 0;
    int rc = w->failed ? w->failed : finish(w);
    int rc_io = writer_free(w);
    return rc < 0 ? rc : rc_io;
}

void rl_writer_abort(struct rl_writer *w)
{
    if (w)
        (void)writer_free(w);
}
