/* The MCAP writer (writer.h; MCAP Format Specification v0x30, "File
 * Structure" and "Records"). It lays a file out as magic, Header, data
 * records, DataEnd, Summary (Schema, Channel, Statistics, MetadataIndex,
 * AttachmentIndex and ChunkIndex groups, then one SummaryOffset per group),
 * Footer, magic. This file opens and closes the writer and takes schemas,
 * channels, messages, attachments and metadata; writer_job.c compresses and
 * puts chunks, writer_summary.c writes everything from DataEnd on, and
 * writer_impl.h holds the state they share.
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

#include "roadlog/writer.h"
#include "writer_impl.h"

#ifndef RL_VERSION
#define RL_VERSION "unknown"
#endif

/* ---- helpers ---- */

int rl__wbuf_reserve(struct wbuf *b, size_t extra, uint64_t limit64)
{
    size_t limit = rl__cap_size(limit64);
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

void rl__wbuf_release(struct wbuf *b)
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

int rl__writer_seterr(struct rl_writer *w, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
    return rc;
}

int rl__writer_fail(struct rl_writer *w, int rc, const char *fmt, ...)
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
        return rl__writer_seterr(w, -EINVAL, "%s is NULL", what);
    out->s = s ? s : "";
    out->n = strlen(out->s);
    if (out->n > UINT32_MAX)
        return rl__writer_seterr(w, RL_ETOOBIG, "%s is %zu bytes long", what, out->n);
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
        return rl__writer_seterr(w, -EINVAL, "map of %zu entries is NULL", n);
    if (n > UINT32_MAX / 8)
        return rl__writer_seterr(w, RL_ETOOBIG, "map of %zu entries", n);
    m->sorted = malloc(n * sizeof(*m->sorted));
    if (!m->sorted)
        return rl__writer_seterr(w, -ENOMEM, "out of memory for a map of %zu entries", n);
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].key || !kv[i].value) {
            rc = rl__writer_seterr(w, -EINVAL, "map entry %zu has a NULL key or value", i);
            goto fail;
        }
        m->bytes += 8 + (uint64_t)strlen(kv[i].key) + strlen(kv[i].value);
        m->sorted[i] = &kv[i];
    }
    if (m->bytes > UINT32_MAX) {
        rc = rl__writer_seterr(w, RL_ETOOBIG, "map of %" PRIu64 " bytes", m->bytes);
        goto fail;
    }
    qsort(m->sorted, n, sizeof(*m->sorted), kv_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(m->sorted[i - 1]->key, m->sorted[i]->key) == 0) {
            rc = rl__writer_seterr(w, RL_EDUPLICATE, "duplicate map key '%s'", m->sorted[i]->key);
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
    p = rl__put32(p, (uint32_t)m->bytes);
    for (size_t i = 0; i < m->n; i++) {
        struct wstr k = {m->sorted[i]->key, strlen(m->sorted[i]->key)};
        struct wstr v = {m->sorted[i]->value, strlen(m->sorted[i]->value)};
        p = rl__put_str(rl__put_str(p, &k), &v);
    }
    return p;
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

int rl__writer_append(struct rl_writer *w, const void *p, size_t len, bool data)
{
    if (w->failed)
        return w->failed;
    int rc = rl_io_write(w->io, p, len);
    if (rc < 0)
        return rl__writer_fail(w, rc, "write failed at offset %" PRIu64 ": %s", w->file_bytes,
                               rl_strerror(rc));
    if (data && w->opts.emit_data_crc)
        w->data_crc = rl_crc32(w->data_crc, p, len);
    w->file_bytes += len;
    return 0;
}

static int writer_free(struct rl_writer *w)
{
    int rc = 0;
    rl_chunk_job_free(w->cur);
    for (size_t i = 0; i < w->n_spare; i++)
        rl_chunk_job_free(w->spare[i]);
    for (size_t i = 0; i < w->n_schemas; i++)
        free(w->schemas[i].rec);
    for (size_t i = 0; i < w->n_chans; i++)
        free(w->chans[i].rec);
    free(w->schemas);
    free(w->chans);
    free(w->chan_slot);
    rl__wbuf_release(&w->chunk_idx);
    rl__wbuf_release(&w->attach_idx);
    rl__wbuf_release(&w->meta_idx);
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
    uint8_t *p = rl__put_raw(buf, rl_mcap_magic, RL_MCAP_MAGIC_LEN);
    p = rl__put_rec(p, RL_OP_HEADER, content);
    rl__put_str(rl__put_str(p, &profile), &library);
    rc = rl__writer_append(w, buf, len, true);
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
    return rl__writer_seterr(w, RL_ETOOBIG, "no free %s id left", schema ? "schema" : "channel");
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
        return rl__writer_seterr(w, -EINVAL, "schema '%s' has NULL data", name);
    if (len > UINT32_MAX)
        return rl__writer_seterr(w, RL_ETOOBIG, "schema '%s' is %zu bytes long", name, len);
    bool auto_id = id == 0;
    if (auto_id) {
        if ((rc = pick_id(w, w->next_schema_id, true, &id)) < 0)
            return rc;
    } else if (schema_known(w, id)) {
        return rl__writer_seterr(w, RL_EDUPLICATE, "schema id %u already registered", id);
    }
    rc = grow((void **)&w->schemas, &w->cap_schemas, w->n_schemas + 1, sizeof(*w->schemas), WR_IDS);
    if (rc < 0)
        return rl__writer_seterr(w, rc, "out of memory for schema '%s'", name);
    size_t content = 2 + 4 + n.n + 4 + e.n + 4 + len;
    size_t total = RL_MCAP_RECORD_HEADER_LEN + content;
    rec = malloc(total);
    if (!rec)
        return rl__writer_seterr(w, -ENOMEM, "out of memory for schema '%s'", name);
    uint8_t *p = rl__put16(rl__put_rec(rec, RL_OP_SCHEMA, content), id);
    p = rl__put_str(rl__put_str(p, &n), &e);
    rl__put_raw(rl__put32(p, (uint32_t)len), data, len);
    rc = rl__writer_append(w, rec, total, true);
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
        return rl__writer_seterr(w, RL_ENOTFOUND, "channel '%s': schema %u not registered", topic,
                                 schema_id);
    bool auto_id = id == 0;
    if (auto_id) {
        if ((rc = pick_id(w, w->next_channel_id, false, &id)) < 0)
            return rc;
    } else if (w->chan_slot[id] != 0) {
        return rl__writer_seterr(w, RL_EDUPLICATE, "channel id %u already registered", id);
    }
    rc = grow((void **)&w->chans, &w->cap_chans, w->n_chans + 1, sizeof(*w->chans), WR_IDS);
    if (rc < 0)
        return rl__writer_seterr(w, rc, "out of memory for channel '%s'", topic);
    if ((rc = kvmap_init(w, &m, meta, n_meta)) < 0)
        return rc;
    size_t content = 2 + 2 + 4 + t.n + 4 + e.n + 4 + (size_t)m.bytes;
    size_t total = RL_MCAP_RECORD_HEADER_LEN + content;
    rec = malloc(total);
    if (!rec) {
        rc = rl__writer_seterr(w, -ENOMEM, "out of memory for channel '%s'", topic);
        goto fail;
    }
    uint8_t *p = rl__put16(rl__put16(rl__put_rec(rec, RL_OP_CHANNEL, content), id), schema_id);
    put_map(rl__put_str(rl__put_str(p, &t), &e), &m);
    rc = rl__writer_append(w, rec, total, true);
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

/* ---- messages ---- */

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
        return rl__writer_seterr(w, RL_ENOTFOUND, "message on unknown channel %u", channel_id);
    if (!data && len > 0)
        return rl__writer_seterr(w, -EINVAL, "message on channel %u has NULL data", channel_id);
    if (len > limit - WR_MSG_HDR_LEN)
        return rl__writer_seterr(w, RL_ETOOBIG,
                                 "message of %zu bytes on channel %u exceeds %" PRIu64, len,
                                 channel_id, limit - WR_MSG_HDR_LEN);
    size_t rec = WR_MSG_HDR_LEN + len;
    if (w->cur && w->cur->records.len + rec > limit) {
        if ((rc = rl__writer_close_chunk(w, false)) < 0)
            return rc;
    }
    if (!w->cur && (rc = rl__writer_open_job(w)) < 0)
        return rc;

    struct rl_chunk_job *job = w->cur;
    rc = rl__wbuf_reserve(&job->records, rec, limit);
    if (rc < 0)
        return rl__writer_seterr(w, rc, "no room for a message of %zu bytes", len);
    struct chan *c = &w->chans[slot - 1];
    if (c->lane_gen != job->gen) {
        size_t old_cap = job->cap_lanes;
        rc = grow((void **)&job->lanes, &job->cap_lanes, job->n_lanes + 1, sizeof(*job->lanes),
                  WR_IDS);
        if (rc < 0)
            return rl__writer_seterr(w, rc, "no room for channel %u in a chunk", channel_id);
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
                  rl__cap_size(limit / WR_MSG_HDR_LEN));
        if (rc < 0)
            return rl__writer_seterr(w, rc, "no room to index a message on channel %u", channel_id);
        if (l->n > 0 && log_time_ns < l->e[l->n - 1].log_time)
            l->sorted = false;
        l->e[l->n] = (struct mi_entry){log_time_ns, job->records.len};
    }
    l->n++;

    uint8_t *p = rl__put_rec(job->records.p + job->records.len, RL_OP_MESSAGE,
                             rec - RL_MCAP_RECORD_HEADER_LEN);
    p = rl__put32(rl__put16(p, channel_id), sequence);
    rl__put_raw(rl__put64(rl__put64(p, log_time_ns), publish_time_ns), data, len);
    job->records.len += rec;
    if (job->n_msgs == 0 || log_time_ns < job->start_ns)
        job->start_ns = log_time_ns;
    if (job->n_msgs == 0 || log_time_ns > job->end_ns)
        job->end_ns = log_time_ns;
    job->n_msgs++;
    if (job->records.len >= w->opts.chunk_size_bytes)
        return rl__writer_close_chunk(w, false);
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
        return rl__writer_seterr(w, -EINVAL, "attachment '%s' has NULL data", name);
    uint64_t content = 8 + 8 + 4 + (uint64_t)n.n + 4 + m.n + 8 + (uint64_t)len + 4;
    if (content > RL_MCAP_MAX_RECORD_BYTES - RL_MCAP_RECORD_HEADER_LEN ||
        content > SIZE_MAX - RL_MCAP_RECORD_HEADER_LEN)
        return rl__writer_seterr(w, RL_ETOOBIG, "attachment '%s' of %zu bytes exceeds %" PRIu64,
                                 name, len, RL_MCAP_MAX_RECORD_BYTES);
    size_t total = RL_MCAP_RECORD_HEADER_LEN + (size_t)content;
    size_t ai_content = 8 * 5 + 4 + n.n + 4 + m.n;
    if ((rc = rl__writer_close_chunk(w, false)) < 0)
        return rc;
    if (w->opts.emit_attachment_indexes) {
        rc = rl__wbuf_reserve(&w->attach_idx, RL_MCAP_RECORD_HEADER_LEN + ai_content,
                              WR_MAX_SUMMARY_BYTES);
        if (rc < 0)
            return rl__writer_seterr(w, rc, "no room to index attachment '%s'", name);
    }
    rec = malloc(total);
    if (!rec)
        return rl__writer_seterr(w, -ENOMEM, "out of memory for attachment '%s' of %zu bytes", name,
                                 len);
    uint8_t *p = rl__put64(rl__put64(rl__put_rec(rec, RL_OP_ATTACHMENT, content), log_time_ns),
                           create_time_ns);
    p = rl__put_str(rl__put_str(p, &n), &m);
    p = rl__put_raw(rl__put64(p, len), data, len);
    rl__put32(p, rl_crc32(0, rec + RL_MCAP_RECORD_HEADER_LEN, (size_t)content - 4));
    uint64_t offset = w->file_bytes;
    rc = rl__writer_append(w, rec, total, true);
    if (rc < 0)
        goto fail;
    w->n_attachments++;
    if (w->opts.emit_attachment_indexes) {
        p = rl__put_rec(w->attach_idx.p + w->attach_idx.len, RL_OP_ATTACHMENT_INDEX, ai_content);
        p = rl__put64(rl__put64(p, offset), total);
        p = rl__put64(rl__put64(rl__put64(p, log_time_ns), create_time_ns), len);
        rl__put_str(rl__put_str(p, &n), &m);
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
    if ((rc = rl__writer_close_chunk(w, false)) < 0)
        goto fail;
    if (w->opts.emit_metadata_indexes) {
        rc = rl__wbuf_reserve(&w->meta_idx, RL_MCAP_RECORD_HEADER_LEN + mi_content,
                              WR_MAX_SUMMARY_BYTES);
        if (rc < 0) {
            rc = rl__writer_seterr(w, rc, "no room to index metadata '%s'", name);
            goto fail;
        }
    }
    rec = malloc(total);
    if (!rec) {
        rc = rl__writer_seterr(w, -ENOMEM, "out of memory for metadata '%s'", name);
        goto fail;
    }
    put_map(rl__put_str(rl__put_rec(rec, RL_OP_METADATA, content), &n), &m);
    uint64_t offset = w->file_bytes;
    rc = rl__writer_append(w, rec, total, true);
    if (rc < 0)
        goto fail;
    w->n_metadata++;
    if (w->opts.emit_metadata_indexes) {
        uint8_t *p = rl__put_rec(w->meta_idx.p + w->meta_idx.len, RL_OP_METADATA_INDEX, mi_content);
        rl__put_str(rl__put64(rl__put64(p, offset), total), &n);
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
    return rl__writer_close_chunk(w, false);
}

int rl_writer_sync(struct rl_writer *w)
{
    int rc = rl__writer_close_chunk(w, false);
    if (rc < 0)
        return rc;
    rc = rl_io_sync(w->io);
    if (rc < 0)
        return rl__writer_fail(w, rc, "sync failed at offset %" PRIu64 ": %s", w->file_bytes,
                               rl_strerror(rc));
    return 0;
}

int rl_writer_close(struct rl_writer *w)
{
    if (!w)
        return 0;
    int rc = w->failed ? w->failed : rl__writer_finish(w);
    int rc_io = writer_free(w);
    return rc < 0 ? rc : rc_io;
}

void rl_writer_abort(struct rl_writer *w)
{
    if (w)
        (void)writer_free(w);
}
