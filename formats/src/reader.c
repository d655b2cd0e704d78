/* The MCAP reader: opening a file and building its index (reader.h).
 *
 * State machine of rl_reader_open():
 *   MAGIC   -> the first 8 bytes must be the MCAP magic, then a Header record;
 *   SUMMARY -> unless force_scan, the last 8 bytes must be the magic and the
 *              29 before them a Footer; the Summary it points to is read whole,
 *              its CRC checked, and its Schema, Channel, Statistics, ChunkIndex,
 *              MetadataIndex and AttachmentIndex records taken in;
 *   SCAN    -> when there is no usable Summary (cut-off file, damaged footer,
 *              no chunk indexes, counts that do not add up), the data section
 *              is walked record header by record header from the Header on.
 *              Chunks are indexed from their headers and the MessageIndex
 *              records after them, never decompressed; the walk stops at
 *              DataEnd, at a Footer, or at the first record that does not fit
 *              in the file, and everything before that point is kept.
 * Invariants once open: chunks[] is in file order and every entry lies wholly
 * inside the file; channels[] is sorted by id; every pointer handed out stays
 * valid until rl_reader_close() (schemas and channels are allocated one by
 * one, so discovering more of them later moves nothing). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "cursor.h"
#include "reader_impl.h"

/* Largest summary section read into memory at once. */
#define SUMMARY_MAX_BYTES ((uint64_t)256 << 20)
/* Largest non-chunk record (schema, channel, metadata) read during a scan. */
#define SMALL_RECORD_MAX_BYTES ((uint64_t)64 << 20)
/* Unchunked messages are grouped into runs of at most this many bytes. */
#define RAW_RUN_MAX_BYTES ((uint64_t)4 << 20)
/* Scan read-ahead window. */
#define SCAN_WINDOW (256u * 1024u)

/* ---- small helpers ---- */

int rl__buf_reserve(struct rl__buf *b, size_t n, size_t limit)
{
    if (n <= b->cap)
        return 0;
    if (n > limit)
        return RL_ETOOBIG;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < n)
        cap = cap > limit / 2 ? limit : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void rl__buf_release(struct rl__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void rl__reader_seterr(struct rl_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
}

void rl__reader_problem(struct rl_reader *r, int code, uint64_t offset, const char *fmt, ...)
{
    if (!r->opts.problem)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->opts.problem(r->opts.problem_ud, code, offset, msg);
}

struct rl_io *rl__reader_io(struct rl_reader *r)
{
    return r->io;
}

void rl__reader_layout(const struct rl_reader *r, struct rl__reader_layout *out)
{
    *out = r->layout;
}

static char *dup_str(struct rl_str s)
{
    char *p = malloc(s.len + 1);
    if (!p)
        return NULL;
    if (s.len)
        memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rl_kv *)a)->key, ((const struct rl_kv *)b)->key);
}

static void free_kv(struct rl_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)kv[i].key);
        free((char *)kv[i].value);
    }
    free(kv);
}

/* Copies a validated map<string,string> into a sorted, owned kv array. */
static int copy_kv(const struct rl_map *m, struct rl_kv **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (m->count == 0)
        return 0;
    struct rl_kv *kv = calloc(m->count, sizeof(*kv));
    if (!kv)
        return -ENOMEM;
    size_t pos = 0, n = 0;
    struct rl_str k, v;
    while (n < m->count && rl_map_next_str_str(m, &pos, &k, &v) == 1) {
        kv[n].key = dup_str(k);
        kv[n].value = dup_str(v);
        n++;
        if (!kv[n - 1].key || !kv[n - 1].value) {
            free_kv(kv, n);
            return -ENOMEM;
        }
    }
    qsort(kv, n, sizeof(*kv), kv_cmp);
    *out = kv;
    *n_out = n;
    return 0;
}

static const char *kv_get(const struct rl_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

const char *rl_channel_meta(const struct rl_channel *ch, const char *key)
{
    return kv_get(ch->meta, ch->n_meta, key);
}

const char *rl_metadata_get(const struct rl_metadata *md, const char *key)
{
    return kv_get(md->kv, md->n, key);
}

/* ---- schemas and channels ---- */

static struct rl_schema *find_schema(const struct rl_reader *r, uint16_t id)
{
    for (size_t i = 0; i < r->n_schemas; i++)
        if (r->schemas[i]->id == id)
            return r->schemas[i];
    return NULL;
}

int rl__reader_add_schema(struct rl_reader *r, const struct rl_rec_schema *s)
{
    if (s->id == 0 || find_schema(r, s->id))
        return 0;
    if (grow((void **)&r->schemas, &r->cap_schemas, r->n_schemas + 1, sizeof(*r->schemas)) < 0)
        return -ENOMEM;
    struct rl_schema *sc = calloc(1, sizeof(*sc) + s->data.len + 1);
    if (!sc)
        return -ENOMEM;
    sc->id = s->id;
    sc->name = dup_str(s->name);
    sc->encoding = dup_str(s->encoding);
    uint8_t *data = (uint8_t *)(sc + 1);
    if (s->data.len)
        memcpy(data, s->data.ptr, s->data.len);
    sc->data = data;
    sc->len = s->data.len;
    if (!sc->name || !sc->encoding) {
        free((char *)sc->name);
        free((char *)sc->encoding);
        free(sc);
        return -ENOMEM;
    }
    r->schemas[r->n_schemas++] = sc;
    for (size_t i = 0; i < r->n_channels; i++)
        if (r->channels[i]->schema_id == sc->id)
            r->channels[i]->schema = sc;
    return 0;
}

static size_t channel_slot(const struct rl_reader *r, uint16_t id)
{
    size_t lo = 0, hi = r->n_channels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->channels[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct rl_channel *rl_reader_channel(const struct rl_reader *r, uint16_t id)
{
    size_t i = channel_slot(r, id);
    if (i < r->n_channels && r->channels[i]->id == id)
        return r->channels[i];
    return NULL;
}

int rl__reader_add_channel(struct rl_reader *r, const struct rl_rec_channel *c)
{
    size_t slot = channel_slot(r, c->id);
    if (slot < r->n_channels && r->channels[slot]->id == c->id)
        return 0;
    if (grow((void **)&r->channels, &r->cap_channels, r->n_channels + 1, sizeof(*r->channels)) <
        0)
        return -ENOMEM;
    struct rl_channel *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return -ENOMEM;
    ch->id = c->id;
    ch->schema_id = c->schema_id;
    ch->topic = dup_str(c->topic);
    ch->message_encoding = dup_str(c->message_encoding);
    struct rl_kv *kv = NULL;
    size_t n_kv = 0;
    if (!ch->topic || !ch->message_encoding || copy_kv(&c->metadata, &kv, &n_kv) < 0) {
        free((char *)ch->topic);
        free((char *)ch->message_encoding);
        free(ch);
        return -ENOMEM;
    }
    ch->meta = kv;
    ch->n_meta = n_kv;
    ch->schema = find_schema(r, c->schema_id);
    memmove(r->channels + slot + 1, r->channels + slot,
            (r->n_channels - slot) * sizeof(*r->channels));
    r->channels[slot] = ch;
    r->n_channels++;
    return 0;
}

static int add_metadata(struct rl_reader *r, const struct rl_rec_metadata *m)
{
    if (grow((void **)&r->metadata, &r->cap_metadata, r->n_metadata + 1, sizeof(*r->metadata)) <
        0)
        return -ENOMEM;
    struct rl_metadata *md = &r->metadata[r->n_metadata];
    md->name = dup_str(m->name);
    if (!md->name)
        return -ENOMEM;
    struct rl_kv *kv;
    if (copy_kv(&m->metadata, &kv, &md->n) < 0) {
        free((char *)md->name);
        return -ENOMEM;
    }
    md->kv = kv;
    r->n_metadata++;
    return 0;
}

static int add_attachment(struct rl_reader *r, const struct rl_rec_attachment_index *a)
{
    if (grow((void **)&r->attachments, &r->cap_attachments, r->n_attachments + 1,
             sizeof(*r->attachments)) < 0)
        return -ENOMEM;
    struct rl_attachment_info *ai = &r->attachments[r->n_attachments];
    ai->offset = a->offset;
    ai->length = a->length;
    ai->log_time_ns = a->log_time;
    ai->create_time_ns = a->create_time;
    ai->data_size = a->data_size;
    ai->name = dup_str(a->name);
    ai->media_type = dup_str(a->media_type);
    if (!ai->name || !ai->media_type) {
        free((char *)ai->name);
        free((char *)ai->media_type);
        return -ENOMEM;
    }
    r->n_attachments++;
    return 0;
}

static int add_chunk(struct rl_reader *r, const struct rl__chunk *k)
{
    if (grow((void **)&r->chunks, &r->cap_chunks, r->n_chunks + 1, sizeof(*r->chunks)) < 0)
        return -ENOMEM;
    r->chunks[r->n_chunks++] = *k;
    return 0;
}

/* ---- reading records ---- */

/* Reads the record at off whose content is at most max bytes into buf and
 * parses it. Returns 0, RL_ETRUNC (runs past the file), RL_ETOOBIG, or
 * RL_ECORRUPT, with detail in r->err. */
static int read_record(struct rl_reader *r, uint64_t off, uint64_t max, struct rl__buf *buf,
                       struct rl_record *rec)
{
    uint8_t hdr[RL_MCAP_RECORD_HEADER_LEN];
    if (off > r->file_size || r->file_size - off < sizeof(hdr)) {
        rl__reader_seterr(r, "record at offset %llu runs past the end of the file",
                          (unsigned long long)off);
        return RL_ETRUNC;
    }
    int rc = rl_io_pread_full(r->io, hdr, sizeof(hdr), off);
    if (rc < 0) {
        rl__reader_seterr(r, "read failed at offset %llu: %s", (unsigned long long)off,
                          rl_strerror(rc));
        return rc;
    }
    uint64_t len = rl__get_u64le(hdr + 1);
    if (len > r->file_size - off - sizeof(hdr)) {
        rl__reader_seterr(r, "%s record at offset %llu has length %llu, past the end of the file",
                          rl_opcode_name(hdr[0]), (unsigned long long)off,
                          (unsigned long long)len);
        return RL_ETRUNC;
    }
    if (len > max) {
        rl__reader_seterr(r, "%s record at offset %llu is too large (%llu bytes)",
                          rl_opcode_name(hdr[0]), (unsigned long long)off,
                          (unsigned long long)len);
        return RL_ETOOBIG;
    }
    rc = rl__buf_reserve(buf, (size_t)len + 1, (size_t)max + 1);
    if (rc < 0)
        return rc;
    rc = rl_io_pread_full(r->io, buf->data, (size_t)len, off + sizeof(hdr));
    if (rc < 0) {
        rl__reader_seterr(r, "read failed at offset %llu: %s", (unsigned long long)off,
                          rl_strerror(rc));
        return rc;
    }
    buf->len = (size_t)len;
    char why[200];
    rc = rl_mcap_parse(hdr[0], buf->data, buf->len, rec, why, sizeof(why));
    if (rc < 0) {
        rl__reader_seterr(r, "bad record at offset %llu: %s", (unsigned long long)off, why);
        return rc;
    }
    return 0;
}

/* ---- summary ---- */

struct summary_scan {
    bool has_stats;
    struct rl_rec_statistics stats;
    size_t n_chunk_index, n_mdx, n_ax;
};

static int take_summary_record(struct rl_reader *r, const struct rl_record *rec,
                               struct summary_scan *ss, struct rl__buf *tmp)
{
    int rc = 0;
    switch (rec->opcode) {
    case RL_OP_SCHEMA:
        rc = rl__reader_add_schema(r, &rec->u.schema);
        break;
    case RL_OP_CHANNEL:
        rc = rl__reader_add_channel(r, &rec->u.channel);
        break;
    case RL_OP_STATISTICS:
        ss->has_stats = true;
        ss->stats = rec->u.statistics;
        break;
    case RL_OP_CHUNK_INDEX: {
        const struct rl_rec_chunk_index *x = &rec->u.chunk_index;
        struct rl__chunk k;
        memset(&k, 0, sizeof(k));
        k.info.offset = x->chunk_start_offset;
        k.info.length = x->chunk_length;
        k.info.start_ns = x->message_start_time;
        k.info.end_ns = x->message_end_time;
        k.info.compressed_size = x->compressed_size;
        k.info.uncompressed_size = x->uncompressed_size;
        char name[16];
        snprintf(name, sizeof(name), "%.*s", (int)(x->compression.len < 15 ? x->compression.len : 15),
                 x->compression.ptr ? x->compression.ptr : "");
        if (rl_compression_parse(name, &k.info.compression) < 0)
            k.info.compression = RL_COMPRESS_NONE;
        if (x->chunk_start_offset > r->file_size ||
            x->chunk_length > r->file_size - x->chunk_start_offset) {
            rl__reader_problem(r, RL_ECORRUPT, x->chunk_start_offset,
                               "chunk index points past the end of the file (offset %llu, "
                               "length %llu)",
                               (unsigned long long)x->chunk_start_offset,
                               (unsigned long long)x->chunk_length);
            return 0;
        }
        k.index_start = x->chunk_start_offset + x->chunk_length;
        k.index_end = k.index_start + x->message_index_length;
        if (k.index_end > r->file_size)
            k.index_end = k.index_start;
        ss->n_chunk_index++;
        rc = add_chunk(r, &k);
        break;
    }
    case RL_OP_METADATA_INDEX: {
        ss->n_mdx++;
        struct rl_record md;
        uint64_t off = rec->u.metadata_index.offset;
        int mrc = read_record(r, off, SMALL_RECORD_MAX_BYTES, tmp, &md);
        if (mrc == 0 && md.opcode == RL_OP_METADATA)
            rc = add_metadata(r, &md.u.metadata);
        else if (mrc == -ENOMEM)
            rc = mrc;
        else
            rl__reader_problem(r, RL_ECORRUPT, off, "metadata index points at no metadata "
                                                    "record (offset %llu)",
                               (unsigned long long)off);
        break;
    }
    case RL_OP_ATTACHMENT_INDEX:
        ss->n_ax++;
        rc = add_attachment(r, &rec->u.attachment_index);
        break;
    default:
        break;
    }
    return rc;
}

static int chunk_cmp_offset(const void *a, const void *b)
{
    const struct rl__chunk *x = a, *y = b;
    return x->info.offset < y->info.offset ? -1 : x->info.offset > y->info.offset;
}

/* Returns 1 when the Summary was read and is enough to index the file, 0
 * when the file must be scanned (r->layout says whether a footer exists),
 * <0 on a fatal error. */
static int read_summary(struct rl_reader *r)
{
    const uint64_t tail = RL_MCAP_FOOTER_RECORD_LEN + RL_MCAP_MAGIC_LEN;
    uint8_t buf[RL_MCAP_FOOTER_RECORD_LEN + RL_MCAP_MAGIC_LEN];
    uint64_t min_size = RL_MCAP_MAGIC_LEN + RL_MCAP_RECORD_HEADER_LEN + tail;
    if (r->file_size < min_size)
        return 0;
    uint64_t foff = r->file_size - tail;
    int rc = rl_io_pread_full(r->io, buf, sizeof(buf), foff);
    if (rc < 0)
        return rc;
    if (memcmp(buf + RL_MCAP_FOOTER_RECORD_LEN, rl_mcap_magic, RL_MCAP_MAGIC_LEN) != 0 ||
        buf[0] != RL_OP_FOOTER || rl__get_u64le(buf + 1) != RL_MCAP_FOOTER_CONTENT_LEN)
        return 0;
    struct rl_record frec;
    if (rl_mcap_parse(RL_OP_FOOTER, buf + RL_MCAP_RECORD_HEADER_LEN, RL_MCAP_FOOTER_CONTENT_LEN,
                      &frec, NULL, 0) < 0)
        return 0;
    const struct rl_rec_footer *f = &frec.u.footer;
    uint64_t sstart = f->summary_start ? f->summary_start : foff;
    if (sstart < RL_MCAP_MAGIC_LEN || sstart > foff) {
        rl__reader_problem(r, RL_ECORRUPT, foff, "footer's summary start %llu is outside the "
                                                 "file",
                           (unsigned long long)f->summary_start);
        return 0;
    }
    uint64_t slen = foff - sstart;
    if (slen > SUMMARY_MAX_BYTES) {
        rl__reader_problem(r, RL_ETOOBIG, sstart, "summary of %llu bytes is too large to read",
                           (unsigned long long)slen);
        return 0;
    }
    struct rl__buf sum = {0}, tmp = {0};
    int result = 0;
    rc = rl__buf_reserve(&sum, (size_t)slen + RL_MCAP_RECORD_HEADER_LEN + 16, SUMMARY_MAX_BYTES + 64);
    if (rc < 0)
        goto fail;
    rc = rl_io_pread_full(r->io, sum.data, (size_t)slen, sstart);
    if (rc < 0)
        goto fail;
    if (f->summary_crc != 0 && r->opts.verify_crc) {
        uint32_t crc = rl_crc32(0, sum.data, (size_t)slen);
        crc = rl_crc32(crc, buf, RL_MCAP_RECORD_HEADER_LEN + 16);
        if (crc != f->summary_crc) {
            rl__reader_problem(r, RL_ECRC, sstart,
                               "bad summary crc at offset %llu (stored 0x%08x, computed 0x%08x)",
                               (unsigned long long)sstart, (unsigned)f->summary_crc,
                               (unsigned)crc);
            result = 0;
            goto done;
        }
    }
    r->layout.has_footer = true;
    r->layout.footer_offset = foff;
    r->layout.summary_start = f->summary_start;
    r->layout.summary_offset_start = f->summary_offset_start;
    r->layout.summary_crc = f->summary_crc;

    /* The DataEnd record sits right before the summary (or the footer). */
    if (sstart >= RL_MCAP_MAGIC_LEN + 13) {
        uint8_t de[13];
        if (rl_io_pread_full(r->io, de, sizeof(de), sstart - sizeof(de)) == 0 &&
            de[0] == RL_OP_DATA_END && rl__get_u64le(de + 1) == 4) {
            r->layout.has_data_end = true;
            r->layout.data_end_offset = sstart - sizeof(de);
            r->layout.data_section_crc = rl__get_u32le(de + 9);
        }
    }

    struct summary_scan ss;
    memset(&ss, 0, sizeof(ss));
    struct rl_cursor c;
    rl__cursor_init(&c, sum.data, (size_t)slen);
    while (c.left > 0) {
        uint64_t roff = sstart + ((size_t)slen - c.left);
        uint8_t op = rl__cursor_u8(&c);
        uint64_t len = rl__cursor_u64(&c);
        const uint8_t *content;
        if (c.failed || len > c.left || !rl__cursor_take(&c, (size_t)len, &content)) {
            rl__reader_problem(r, RL_ECORRUPT, roff, "summary record at offset %llu runs past "
                                                     "the footer",
                               (unsigned long long)roff);
            result = 0;
            goto done;
        }
        struct rl_record rec;
        char why[200];
        if (rl_mcap_parse(op, content, (size_t)len, &rec, why, sizeof(why)) < 0) {
            rl__reader_problem(r, RL_ECORRUPT, roff, "bad summary record at offset %llu: %s",
                               (unsigned long long)roff, why);
            result = 0;
            goto done;
        }
        rc = take_summary_record(r, &rec, &ss, &tmp);
        if (rc < 0)
            goto fail;
    }
    if (r->n_chunks > 1)
        qsort(r->chunks, r->n_chunks, sizeof(*r->chunks), chunk_cmp_offset);

    /* Enough to index the file? Statistics must be there to vouch for the
     * metadata/attachment counts, and messages must be reachable through
     * chunk indexes. */
    if (!ss.has_stats)
        goto done;
    if (ss.n_chunk_index == 0 && ss.stats.message_count > 0)
        goto done;
    if (ss.stats.chunk_count != ss.n_chunk_index || ss.stats.metadata_count != ss.n_mdx ||
        ss.stats.attachment_count != ss.n_ax)
        goto done;
    r->stats_known = true;
    r->info.message_count = ss.stats.message_count;
    if (ss.stats.message_count > 0) {
        r->info.start_ns = ss.stats.message_start_time;
        r->info.end_ns = ss.stats.message_end_time;
    }
    {
        size_t pos = 0;
        uint16_t id;
        uint64_t n;
        while (rl_map_next_u16_u64(&ss.stats.channel_message_counts, &pos, &id, &n) == 1) {
            struct rl_channel *ch = (struct rl_channel *)rl_reader_channel(r, id);
            if (ch)
                ch->message_count = n;
        }
    }
    result = 1;
done:
    rl__buf_release(&sum);
    rl__buf_release(&tmp);
    return result;
fail:
    rl__buf_release(&sum);
    rl__buf_release(&tmp);
    rl__reader_seterr(r, "reading the summary failed: %s", rl_strerror(rc));
    return rc;
}

/* Forgets what a rejected summary added, before a scan starts afresh.
 * Schemas and channels stay: the data section repeats them or they stay
 * useful for messages whose channel records live only in the summary. */
static void drop_summary_index(struct rl_reader *r)
{
    r->n_chunks = 0;
    for (size_t i = 0; i < r->n_metadata; i++) {
        free((char *)r->metadata[i].name);
        free_kv((struct rl_kv *)r->metadata[i].kv, r->metadata[i].n);
    }
    r->n_metadata = 0;
    for (size_t i = 0; i < r->n_attachments; i++) {
        free((char *)r->attachments[i].name);
        free((char *)r->attachments[i].media_type);
    }
    r->n_attachments = 0;
    for (size_t i = 0; i < r->n_channels; i++)
        r->channels[i]->message_count = 0;
    r->stats_known = false;
    r->info.message_count = 0;
    r->info.start_ns = r->info.end_ns = 0;
}

/* ---- scan ---- */

/* A read-ahead window over the file for the record-header walk. */
struct scanwin {
    struct rl_reader *r;
    uint8_t *buf;
    uint64_t base;
    size_t len;
};

/* Makes [off, off+n) available; returns a pointer or NULL (past the end or
 * I/O error, *err set). */
static const uint8_t *win_get(struct scanwin *w, uint64_t off, size_t n, int *err)
{
    *err = 0;
    if (n > SCAN_WINDOW || off > w->r->file_size || w->r->file_size - off < n)
        return NULL;
    if (off >= w->base && off + n <= w->base + w->len)
        return w->buf + (off - w->base);
    size_t got = 0;
    int rc = rl_io_pread(w->r->io, w->buf, SCAN_WINDOW, off, &got);
    if (rc < 0) {
        *err = rc;
        return NULL;
    }
    w->base = off;
    w->len = got;
    return got >= n ? w->buf : NULL;
}

/* Reads the MessageIndex record content at off into the chunk's counts. */
static int count_index_record(struct rl_reader *r, struct rl__chunk *k, const struct rl_record *rec)
{
    const struct rl_rec_message_index *mi = &rec->u.message_index;
    k->n_messages += mi->records.count;
    if (mi->records.count > 0 && !rl_reader_channel(r, mi->channel_id))
        k->unknown_channels = true;
    return 0;
}

/* Walks the data section. Fills chunks, schemas, channels, metadata and
 * attachments; sets valid_bytes. Returns 0 or a fatal error. */
static int scan(struct rl_reader *r, uint64_t start)
{
    struct scanwin w = {r, NULL, 0, 0};
    struct rl__buf tmp = {0};
    int rc = 0;
    w.buf = malloc(SCAN_WINDOW);
    if (!w.buf)
        return -ENOMEM;

    uint64_t off = start;
    struct rl__chunk *last = NULL; /* chunk whose MessageIndex records may follow */
    struct rl__chunk run;          /* open run of unchunked messages */
    bool in_run = false;
    uint64_t stop_reason_off = 0;
    bool stopped_early = true;

    for (;;) {
        int err;
        const uint8_t *h = win_get(&w, off, RL_MCAP_RECORD_HEADER_LEN, &err);
        if (!h) {
            if (err < 0) {
                rc = err;
                goto fail;
            }
            if (off < r->file_size)
                rl__reader_problem(r, RL_ETRUNC, off,
                                   "file ends inside a record header at offset %llu",
                                   (unsigned long long)off);
            break;
        }
        uint8_t op = h[0];
        uint64_t len = rl__get_u64le(h + 1);
        uint64_t content = off + RL_MCAP_RECORD_HEADER_LEN;
        if (len > r->file_size - content) {
            rl__reader_problem(r, RL_ETRUNC, off,
                               "%s record at offset %llu is cut off (length %llu, %llu bytes "
                               "left)",
                               rl_opcode_name(op), (unsigned long long)off,
                               (unsigned long long)len,
                               (unsigned long long)(r->file_size - content));
            break;
        }
        uint64_t next = content + len;
        if (op == 0 || op == RL_OP_HEADER) {
            rl__reader_problem(r, RL_ECORRUPT, off, "invalid record (opcode 0x%02x) at offset %llu",
                               op, (unsigned long long)off);
            break;
        }
        if (in_run && (op != RL_OP_MESSAGE || next - run.info.offset > RAW_RUN_MAX_BYTES)) {
            rc = add_chunk(r, &run);
            if (rc < 0)
                goto fail;
            in_run = false;
        }
        if (op != RL_OP_MESSAGE_INDEX)
            last = NULL;

        if (op == RL_OP_CHUNK) {
            /* Fixed fields + the compression string + the records length. */
            const uint8_t *p = win_get(&w, content, 32, &err);
            if (!p || len < 40) {
                if (err < 0) {
                    rc = err;
                    goto fail;
                }
                rl__reader_problem(r, RL_ECORRUPT, off, "chunk at offset %llu is too short",
                                   (unsigned long long)off);
                break;
            }
            uint32_t clen = rl__get_u32le(p + 28);
            if (clen > 64 || 32 + (uint64_t)clen + 8 > len) {
                rl__reader_problem(r, RL_ECORRUPT, off,
                                   "chunk at offset %llu has a bad compression name length",
                                   (unsigned long long)off);
                break;
            }
            p = win_get(&w, content, 32 + clen + 8, &err);
            if (!p) {
                rc = err < 0 ? err : RL_ETRUNC;
                goto fail;
            }
            struct rl__chunk k;
            memset(&k, 0, sizeof(k));
            k.info.offset = off;
            k.info.length = RL_MCAP_RECORD_HEADER_LEN + len;
            k.info.start_ns = rl__get_u64le(p);
            k.info.end_ns = rl__get_u64le(p + 8);
            k.info.uncompressed_size = rl__get_u64le(p + 16);
            k.info.compressed_size = rl__get_u64le(p + 32 + clen);
            k.info.salvaged = true;
            char name[65];
            memcpy(name, p + 32, clen);
            name[clen] = '\0';
            if (rl_compression_parse(name, &k.info.compression) < 0)
                k.info.compression = RL_COMPRESS_NONE;
            if (k.info.compressed_size > len - 32 - clen - 8) {
                rl__reader_problem(r, RL_ECORRUPT, off,
                                   "chunk at offset %llu: records length %llu exceeds the record",
                                   (unsigned long long)off,
                                   (unsigned long long)k.info.compressed_size);
                break;
            }
            k.index_start = k.index_end = next;
            k.counted = true; /* until proven otherwise: no index records -> not counted */
            rc = add_chunk(r, &k);
            if (rc < 0)
                goto fail;
            last = &r->chunks[r->n_chunks - 1];
            last->counted = false;
        } else if (op == RL_OP_MESSAGE_INDEX) {
            struct rl_record rec;
            rc = read_record(r, off, SMALL_RECORD_MAX_BYTES, &tmp, &rec);
            if (rc == -ENOMEM)
                goto fail;
            if (rc < 0) {
                rl__reader_problem(r, rc, off, "%s", r->err);
                rc = 0;
                break;
            }
            if (last) {
                last->counted = true;
                last->index_end = next;
                (void)count_index_record(r, last, &rec);
            }
        } else if (op == RL_OP_MESSAGE) {
            const uint8_t *p = win_get(&w, content, 22, &err);
            if (!p || len < 22) {
                if (err < 0) {
                    rc = err;
                    goto fail;
                }
                rl__reader_problem(r, RL_ECORRUPT, off, "message at offset %llu is too short",
                                   (unsigned long long)off);
                break;
            }
            uint64_t t = rl__get_u64le(p + 6);
            if (!in_run) {
                memset(&run, 0, sizeof(run));
                run.info.offset = off;
                run.info.raw_messages = true;
                run.info.salvaged = true;
                run.info.start_ns = run.info.end_ns = t;
                run.counted = true;
                in_run = true;
            }
            run.info.length = next - run.info.offset;
            run.info.compressed_size = run.info.uncompressed_size = run.info.length;
            if (t < run.info.start_ns)
                run.info.start_ns = t;
            if (t > run.info.end_ns)
                run.info.end_ns = t;
            run.n_messages++;
            if (!rl_reader_channel(r, rl__get_u16le(p)))
                run.unknown_channels = true;
        } else if (op == RL_OP_SCHEMA || op == RL_OP_CHANNEL || op == RL_OP_METADATA) {
            struct rl_record rec;
            rc = read_record(r, off, SMALL_RECORD_MAX_BYTES, &tmp, &rec);
            if (rc == -ENOMEM)
                goto fail;
            if (rc < 0) {
                rl__reader_problem(r, rc, off, "%s", r->err);
                rc = 0;
                break;
            }
            if (op == RL_OP_SCHEMA)
                rc = rl__reader_add_schema(r, &rec.u.schema);
            else if (op == RL_OP_CHANNEL)
                rc = rl__reader_add_channel(r, &rec.u.channel);
            else
                rc = add_metadata(r, &rec.u.metadata);
            if (rc < 0)
                goto fail;
        } else if (op == RL_OP_ATTACHMENT) {
            /* Read the fields before the data: times, name, media type. */
            const uint8_t *p = win_get(&w, content, 20, &err);
            if (!p || len < 20) {
                rl__reader_problem(r, RL_ECORRUPT, off, "attachment at offset %llu is too short",
                                   (unsigned long long)off);
                break;
            }
            uint32_t nlen = rl__get_u32le(p + 16);
            uint64_t need = 20 + (uint64_t)nlen + 4;
            p = need <= len && need <= 65536 ? win_get(&w, content, (size_t)need, &err) : NULL;
            uint32_t mlen = p ? rl__get_u32le(p + 20 + nlen) : 0;
            uint64_t need2 = need + mlen + 8;
            const uint8_t *q =
                p && need2 + 4 <= len && need2 <= 65536 ? win_get(&w, content, (size_t)need2, &err)
                                                        : NULL;
            if (!q) {
                rl__reader_problem(r, RL_ECORRUPT, off, "attachment at offset %llu is malformed",
                                   (unsigned long long)off);
                break;
            }
            struct rl_rec_attachment_index ai;
            ai.offset = off;
            ai.length = RL_MCAP_RECORD_HEADER_LEN + len;
            ai.log_time = rl__get_u64le(q);
            ai.create_time = rl__get_u64le(q + 8);
            ai.name.ptr = (const char *)q + 20;
            ai.name.len = nlen;
            ai.media_type.ptr = (const char *)q + 24 + nlen;
            ai.media_type.len = mlen;
            ai.data_size = rl__get_u64le(q + need + mlen);
            if (ai.data_size > len - need2 - 4) {
                rl__reader_problem(r, RL_ECORRUPT, off,
                                   "attachment at offset %llu: data length exceeds the record",
                                   (unsigned long long)off);
                break;
            }
            rc = add_attachment(r, &ai);
            if (rc < 0)
                goto fail;
        } else if (op == RL_OP_DATA_END) {
            const uint8_t *p = win_get(&w, content, 4, &err);
            if (p) {
                r->layout.has_data_end = true;
                r->layout.data_end_offset = off;
                r->layout.data_section_crc = rl__get_u32le(p);
            }
            off = next;
            stopped_early = false;
            break;
        } else if (op == RL_OP_FOOTER) {
            stopped_early = false;
            break;
        }
        /* Anything else (unknown opcodes, summary records met early) is skipped. */
        off = next;
    }
    if (in_run) {
        rc = add_chunk(r, &run);
        if (rc < 0)
            goto fail;
    }
    (void)stop_reason_off;
    r->info.valid_bytes = off;
    if (stopped_early && !r->layout.has_footer)
        r->info.lost_bytes = r->file_size - off;
    free(w.buf);
    rl__buf_release(&tmp);
    return 0;
fail:
    free(w.buf);
    rl__buf_release(&tmp);
    rl__reader_seterr(r, "scanning failed at offset %llu: %s", (unsigned long long)off,
                      rl_strerror(rc));
    return rc;
}

/* ---- open / close ---- */

void rl_reader_options_init(struct rl_reader_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->verify_crc = true;
    opts->chunk_cache = 4;
}

static void finish_info(struct rl_reader *r)
{
    struct rl_file_info *fi = &r->info;
    fi->file_bytes = r->file_size;
    fi->profile = r->profile;
    fi->library = r->library;
    fi->has_summary = r->layout.has_footer && r->layout.summary_start != 0;
    fi->salvaged_chunks = 0;
    fi->bytes_compressed = fi->bytes_uncompressed = 0;
    bool seen[3] = {false, false, false};
    uint64_t start = UINT64_MAX, end = 0;
    for (size_t i = 0; i < r->n_chunks; i++) {
        const struct rl_chunk_info *ci = &r->chunks[i].info;
        if (ci->salvaged)
            fi->salvaged_chunks++;
        if (ci->raw_messages)
            continue;
        fi->bytes_compressed += ci->compressed_size;
        fi->bytes_uncompressed += ci->uncompressed_size;
        seen[ci->compression] = true;
        if (ci->start_ns < start)
            start = ci->start_ns;
        if (ci->end_ns > end)
            end = ci->end_ns;
    }
    int kinds = seen[0] + seen[1] + seen[2];
    if (kinds > 1)
        fi->compression = "mixed";
    else if (seen[RL_COMPRESS_ZSTD])
        fi->compression = "zstd";
    else if (seen[RL_COMPRESS_LZ4])
        fi->compression = "lz4";
    else
        fi->compression = "none";
    if (!r->stats_known) {
        uint64_t n = 0;
        for (size_t i = 0; i < r->n_chunks; i++) {
            const struct rl__chunk *k = &r->chunks[i];
            n += k->n_messages;
            if (k->info.raw_messages) {
                if (k->info.start_ns < start)
                    start = k->info.start_ns;
                if (k->info.end_ns > end)
                    end = k->info.end_ns;
            }
        }
        fi->message_count = n;
        if (start != UINT64_MAX) {
            fi->start_ns = start;
            fi->end_ns = end;
        }
    }
    if (fi->complete)
        fi->valid_bytes = r->file_size;
    if (fi->valid_bytes > r->file_size)
        fi->valid_bytes = r->file_size;
    fi->lost_bytes = fi->complete ? 0 : r->file_size - fi->valid_bytes;
}

int rl_reader_open_io(struct rl_reader **out, struct rl_io *io, bool own_io,
                      const struct rl_reader_options *opts, char *errbuf, size_t errbuf_len)
{
    int rc;
    *out = NULL;
    struct rl_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        if (own_io)
            (void)rl_io_close(io);
        if (errbuf && errbuf_len)
            snprintf(errbuf, errbuf_len, "out of memory");
        return -ENOMEM;
    }
    r->io = io;
    r->own_io = own_io;
    if (opts)
        r->opts = *opts;
    else
        rl_reader_options_init(&r->opts);
    if (r->opts.chunk_cache < 1)
        r->opts.chunk_cache = 1;
    r->unknown_channel.topic = "";
    r->unknown_channel.message_encoding = "";

    rc = rl_io_size(io, &r->file_size);
    if (rc < 0) {
        rl__reader_seterr(r, "cannot get file size: %s", rl_strerror(rc));
        goto fail;
    }
    if (r->file_size == 0) {
        rl__reader_seterr(r, "empty file (0 bytes): not an MCAP log");
        rc = RL_ETRUNC;
        goto fail;
    }
    uint8_t magic[RL_MCAP_MAGIC_LEN];
    size_t got = 0;
    rc = rl_io_pread(io, magic, sizeof(magic), 0, &got);
    if (rc < 0) {
        rl__reader_seterr(r, "read failed: %s", rl_strerror(rc));
        goto fail;
    }
    if (memcmp(magic, rl_mcap_magic, got) != 0) {
        rl__reader_seterr(r, "not an MCAP file (bad magic at offset 0)");
        rc = RL_ENOTMCAP;
        goto fail;
    }
    if (got < sizeof(magic)) {
        rl__reader_seterr(r, "file ends after %zu bytes, inside the MCAP magic", got);
        rc = RL_ETRUNC;
        goto fail;
    }
    struct rl__buf hb = {0};
    struct rl_record hrec;
    rc = read_record(r, RL_MCAP_MAGIC_LEN, SMALL_RECORD_MAX_BYTES, &hb, &hrec);
    if (rc == 0 && hrec.opcode != RL_OP_HEADER) {
        rl__reader_seterr(r, "expected a Header record at offset 8, found %s (opcode 0x%02x)",
                          rl_opcode_name(hrec.opcode), hrec.opcode);
        rc = RL_ECORRUPT;
    }
    if (rc == 0) {
        r->profile = dup_str(hrec.u.header.profile);
        r->library = dup_str(hrec.u.header.library);
        if (!r->profile || !r->library)
            rc = -ENOMEM;
    }
    rl__buf_release(&hb);
    if (rc < 0)
        goto fail;
    uint64_t data_start = RL_MCAP_MAGIC_LEN + RL_MCAP_RECORD_HEADER_LEN;
    {
        uint8_t lb[8];
        rc = rl_io_pread_full(io, lb, 8, RL_MCAP_MAGIC_LEN + 1);
        if (rc < 0)
            goto fail;
        data_start += rl__get_u64le(lb);
    }

    /* force_scan still reads the footer, to tell a complete file. */
    int summary = read_summary(r);
    if (summary < 0) {
        rc = summary;
        goto fail;
    }
    if (summary == 1 && !r->opts.force_scan) {
        r->info.complete = true;
    } else {
        bool footer = r->layout.has_footer;
        drop_summary_index(r);
        rc = scan(r, data_start);
        if (rc < 0)
            goto fail;
        r->info.complete = footer;
    }
    finish_info(r);
    *out = r;
    return 0;
fail:
    if (errbuf && errbuf_len)
        snprintf(errbuf, errbuf_len, "%s", r->err[0] ? r->err : rl_strerror(rc));
    rl_reader_close(r);
    return rc;
}

int rl_reader_open(struct rl_reader **out, const char *path, const struct rl_reader_options *opts,
                   char *errbuf, size_t errbuf_len)
{
    struct rl_io *io;
    *out = NULL;
    int rc = rl_io_file_open(&io, path, RL_IO_READ);
    if (rc < 0) {
        if (errbuf && errbuf_len)
            snprintf(errbuf, errbuf_len, "cannot open '%s': %s", path, rl_strerror(rc));
        return rc;
    }
    return rl_reader_open_io(out, io, true, opts, errbuf, errbuf_len);
}

void rl_reader_close(struct rl_reader *r)
{
    if (!r)
        return;
    drop_summary_index(r);
    for (size_t i = 0; i < r->n_schemas; i++) {
        free((char *)r->schemas[i]->name);
        free((char *)r->schemas[i]->encoding);
        free(r->schemas[i]);
    }
    free(r->schemas);
    for (size_t i = 0; i < r->n_channels; i++) {
        struct rl_channel *ch = r->channels[i];
        free((char *)ch->topic);
        free((char *)ch->message_encoding);
        free_kv((struct rl_kv *)ch->meta, ch->n_meta);
        free(ch);
    }
    free(r->channels);
    free(r->metadata);
    free(r->attachments);
    free(r->chunks);
    free(r->profile);
    free(r->library);
    rl__buf_release(&r->load_raw);
    rl__buf_release(&r->load_out);
    if (r->own_io)
        (void)rl_io_close(r->io);
    free(r);
}

const char *rl_reader_errmsg(const struct rl_reader *r)
{
    return r->err;
}

void rl_reader_file_info(const struct rl_reader *r, struct rl_file_info *out)
{
    *out = r->info;
}

size_t rl_reader_schema_count(const struct rl_reader *r)
{
    return r->n_schemas;
}

const struct rl_schema *rl_reader_schema_at(const struct rl_reader *r, size_t i)
{
    return i < r->n_schemas ? r->schemas[i] : NULL;
}

size_t rl_reader_channel_count(const struct rl_reader *r)
{
    return r->n_channels;
}

const struct rl_channel *rl_reader_channel_at(const struct rl_reader *r, size_t i)
{
    return i < r->n_channels ? r->channels[i] : NULL;
}

const struct rl_channel *rl_reader_channel_by_topic(const struct rl_reader *r, const char *topic)
{
    for (size_t i = 0; i < r->n_channels; i++)
        if (strcmp(r->channels[i]->topic, topic) == 0)
            return r->channels[i];
    return NULL;
}

size_t rl_reader_chunk_count(const struct rl_reader *r)
{
    return r->n_chunks;
}

const struct rl_chunk_info *rl_reader_chunk_at(const struct rl_reader *r, size_t i)
{
    return i < r->n_chunks ? &r->chunks[i].info : NULL;
}

size_t rl_reader_metadata_count(const struct rl_reader *r)
{
    return r->n_metadata;
}

const struct rl_metadata *rl_reader_metadata_at(const struct rl_reader *r, size_t i)
{
    return i < r->n_metadata ? &r->metadata[i] : NULL;
}

size_t rl_reader_attachment_count(const struct rl_reader *r)
{
    return r->n_attachments;
}

const struct rl_attachment_info *rl_reader_attachment_at(const struct rl_reader *r, size_t i)
{
    return i < r->n_attachments ? &r->attachments[i] : NULL;
}

int rl_reader_read_attachment(struct rl_reader *r, size_t i, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (i >= r->n_attachments)
        return RL_ENOTFOUND;
    const struct rl_attachment_info *ai = &r->attachments[i];
    struct rl__buf buf = {0};
    struct rl_record rec;
    int rc = read_record(r, ai->offset, RL_MCAP_MAX_RECORD_BYTES, &buf, &rec);
    if (rc < 0)
        goto fail;
    if (rec.opcode != RL_OP_ATTACHMENT) {
        rl__reader_seterr(r, "attachment index points at a %s record (offset %llu)",
                          rl_opcode_name(rec.opcode), (unsigned long long)ai->offset);
        rc = RL_ECORRUPT;
        goto fail;
    }
    if (r->opts.verify_crc && rec.u.attachment.crc != 0 &&
        rec.u.attachment.crc != rec.u.attachment.computed_crc) {
        rl__reader_seterr(r, "bad attachment crc at offset %llu (stored 0x%08x, computed 0x%08x)",
                          (unsigned long long)ai->offset, (unsigned)rec.u.attachment.crc,
                          (unsigned)rec.u.attachment.computed_crc);
        rc = RL_ECRC;
        goto fail;
    }
    size_t n = rec.u.attachment.data.len;
    uint8_t *p = malloc(n ? n : 1);
    if (!p) {
        rc = -ENOMEM;
        goto fail;
    }
    if (n)
        memcpy(p, rec.u.attachment.data.ptr, n);
    *data = p;
    *len = n;
    rl__buf_release(&buf);
    return 0;
fail:
    rl__buf_release(&buf);
    return rc;
}

/* ---- counting ---- */

/* Counts messages and payload bytes of one loaded chunk's records,
 * registering the schemas and channels found inside. */
static int count_loaded(struct rl_reader *r, struct rl__chunk *k, const uint8_t *p, size_t n)
{
    struct rl_cursor c;
    rl__cursor_init(&c, p, n);
    k->n_messages = 0;
    while (c.left >= RL_MCAP_RECORD_HEADER_LEN) {
        uint8_t op = rl__cursor_u8(&c);
        uint64_t len = rl__cursor_u64(&c);
        const uint8_t *content;
        if (len > c.left || !rl__cursor_take(&c, (size_t)len, &content))
            break;
        if (op != RL_OP_MESSAGE && op != RL_OP_SCHEMA && op != RL_OP_CHANNEL)
            continue;
        struct rl_record rec;
        if (rl_mcap_parse(op, content, (size_t)len, &rec, NULL, 0) < 0)
            continue;
        int rc = 0;
        if (op == RL_OP_SCHEMA)
            rc = rl__reader_add_schema(r, &rec.u.schema);
        else if (op == RL_OP_CHANNEL)
            rc = rl__reader_add_channel(r, &rec.u.channel);
        if (rc < 0)
            return rc;
        if (op != RL_OP_MESSAGE)
            continue;
        k->n_messages++;
        struct rl_channel *ch = (struct rl_channel *)rl_reader_channel(r, rec.u.message.channel_id);
        if (ch) {
            if (!r->stats_known)
                ch->message_count++;
            ch->message_bytes += rec.u.message.data.len;
        }
    }
    k->counted = true;
    k->unknown_channels = false;
    return 0;
}

struct idx_entry {
    uint64_t offset;
    uint16_t channel_id;
};

static int idx_entry_cmp(const void *a, const void *b)
{
    const struct idx_entry *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Counts a chunk from its MessageIndex records alone, without decompressing
 * it: counts per channel, and payload bytes from the distance between
 * consecutive message offsets (exact when the chunk holds only messages, as
 * roadlog writes them). Returns 1 when counted, 0 when the index could not
 * be used, <0 on a fatal error. */
static int count_from_index(struct rl_reader *r, struct rl__chunk *k, struct rl__buf *raw,
                            struct rl__buf *ents)
{
    uint64_t n = k->index_end - k->index_start;
    if (n == 0 || k->unknown_channels || n > SMALL_RECORD_MAX_BYTES)
        return 0;
    int rc = rl__buf_reserve(raw, (size_t)n, SMALL_RECORD_MAX_BYTES);
    if (rc < 0)
        return rc;
    rc = rl_io_pread_full(r->io, raw->data, (size_t)n, k->index_start);
    if (rc < 0)
        return rc == RL_ETRUNC ? 0 : rc;
    size_t count = 0;
    struct rl_cursor c;
    rl__cursor_init(&c, raw->data, (size_t)n);
    while (c.left >= RL_MCAP_RECORD_HEADER_LEN) {
        uint8_t op = rl__cursor_u8(&c);
        uint64_t len = rl__cursor_u64(&c);
        const uint8_t *content;
        if (len > c.left || !rl__cursor_take(&c, (size_t)len, &content))
            return 0;
        if (op != RL_OP_MESSAGE_INDEX)
            continue;
        struct rl_record rec;
        if (rl_mcap_parse(op, content, (size_t)len, &rec, NULL, 0) < 0)
            return 0;
        const struct rl_map *m = &rec.u.message_index.records;
        rc = rl__buf_reserve(ents, (count + m->count) * sizeof(struct idx_entry),
                             SIZE_MAX / 2);
        if (rc < 0)
            return rc;
        struct idx_entry *e = (struct idx_entry *)(void *)ents->data;
        size_t pos = 0;
        uint64_t t, off;
        while (rl_map_next_u64_u64(m, &pos, &t, &off) == 1) {
            e[count].offset = off;
            e[count].channel_id = rec.u.message_index.channel_id;
            count++;
        }
    }
    struct idx_entry *e = (struct idx_entry *)(void *)ents->data;
    if (count > 1)
        qsort(e, count, sizeof(*e), idx_entry_cmp);
    const uint64_t overhead = RL_MCAP_RECORD_HEADER_LEN + 22;
    for (size_t i = 0; i < count; i++) {
        uint64_t end = i + 1 < count ? e[i + 1].offset : k->info.uncompressed_size;
        uint64_t bytes = end > e[i].offset + overhead ? end - e[i].offset - overhead : 0;
        struct rl_channel *ch = (struct rl_channel *)rl_reader_channel(r, e[i].channel_id);
        if (!ch)
            continue;
        if (!r->stats_known)
            ch->message_count++;
        ch->message_bytes += bytes;
    }
    k->n_messages = count;
    k->counted = true;
    return 1;
}

int rl_reader_count_messages(struct rl_reader *r)
{
    struct rl__buf raw = {0}, out = {0};
    int rc = 0;
    for (size_t i = 0; i < r->n_channels; i++) {
        r->channels[i]->message_bytes = 0;
        if (!r->stats_known)
            r->channels[i]->message_count = 0;
    }
    for (size_t i = 0; i < r->n_chunks; i++) {
        struct rl__chunk *k = &r->chunks[i];
        if (k->damaged)
            continue;
        if (!k->info.raw_messages) {
            rc = count_from_index(r, k, &raw, &out);
            if (rc < 0)
                goto done;
            if (rc == 1)
                continue;
        }
        rc = rl__chunk_read(r, k, r->opts.verify_crc, &raw, &out);
        if (rc == -ENOMEM || (rc < 0 && rc > -4000))
            goto done;
        if (rc < 0) {
            k->damaged = true;
            rl__reader_problem(r, rc, k->info.offset, "%s", r->err);
            rc = 0;
            continue;
        }
        rc = count_loaded(r, k, out.data, out.len);
        if (rc < 0)
            goto done;
    }
    if (!r->stats_known) {
        uint64_t n = 0;
        for (size_t i = 0; i < r->n_chunks; i++)
            if (!r->chunks[i].damaged)
                n += r->chunks[i].n_messages;
        r->info.message_count = n;
    }
done:
    rl__buf_release(&raw);
    rl__buf_release(&out);
    if (rc < 0 && !r->err[0])
        rl__reader_seterr(r, "counting messages failed: %s", rl_strerror(rc));
    return rc < 0 ? rc : 0;
}

/* ---- loading chunks ---- */

int rl__chunk_read(struct rl_reader *r, const struct rl__chunk *k, bool crc, struct rl__buf *raw,
                   struct rl__buf *out)
{
    const struct rl_chunk_info *ci = &k->info;
    int rc;
    if (ci->raw_messages) {
        rc = rl__buf_reserve(out, (size_t)ci->length, RAW_RUN_MAX_BYTES + SMALL_RECORD_MAX_BYTES);
        if (rc < 0)
            return rc;
        rc = rl_io_pread_full(r->io, out->data, (size_t)ci->length, ci->offset);
        if (rc < 0) {
            rl__reader_seterr(r, "read failed at offset %llu: %s",
                              (unsigned long long)ci->offset, rl_strerror(rc));
            return rc;
        }
        out->len = (size_t)ci->length;
        return 0;
    }
    struct rl_record rec;
    rc = read_record(r, ci->offset, RL_MCAP_MAX_RECORD_BYTES, raw, &rec);
    if (rc < 0)
        return rc;
    if (rec.opcode != RL_OP_CHUNK) {
        rl__reader_seterr(r, "expected a chunk at offset %llu, found %s (opcode 0x%02x)",
                          (unsigned long long)ci->offset, rl_opcode_name(rec.opcode), rec.opcode);
        return RL_ECORRUPT;
    }
    const struct rl_rec_chunk *ch = &rec.u.chunk;
    if (ch->uncompressed_size > RL_MCAP_MAX_CHUNK_UNCOMPRESSED) {
        rl__reader_seterr(r, "chunk at offset %llu: uncompressed size %llu exceeds the limit",
                          (unsigned long long)ci->offset,
                          (unsigned long long)ch->uncompressed_size);
        return RL_ETOOBIG;
    }
    rc = rl__buf_reserve(out, (size_t)ch->uncompressed_size + 1,
                         RL_MCAP_MAX_CHUNK_UNCOMPRESSED + 1);
    if (rc < 0)
        return rc;
    rc = rl__decompress(ch->compression, ch->records.ptr, ch->records.len, out->data,
                        (size_t)ch->uncompressed_size);
    if (rc < 0) {
        rl__reader_seterr(r, "chunk at offset %llu does not decompress (%.*s, %llu -> %llu "
                             "bytes): %s",
                          (unsigned long long)ci->offset, (int)ch->compression.len,
                          ch->compression.ptr ? ch->compression.ptr : "", (unsigned long long)ch->records.len,
                          (unsigned long long)ch->uncompressed_size, rl_strerror(rc));
        return rc;
    }
    out->len = (size_t)ch->uncompressed_size;
    if (crc && ch->uncompressed_crc != 0) {
        uint32_t got = rl_crc32(0, out->data, out->len);
        if (got != ch->uncompressed_crc) {
            rl__reader_seterr(r, "bad chunk crc at offset %llu (stored 0x%08x, computed 0x%08x)",
                              (unsigned long long)ci->offset, (unsigned)ch->uncompressed_crc,
                              (unsigned)got);
            return RL_ECRC;
        }
    }
    return 0;
}

int rl__reader_load_chunk(struct rl_reader *r, size_t i, bool crc, const uint8_t **records,
                          size_t *len)
{
    *records = NULL;
    *len = 0;
    if (i >= r->n_chunks)
        return RL_ENOTFOUND;
    int rc = rl__chunk_read(r, &r->chunks[i], crc, &r->load_raw, &r->load_out);
    if (rc < 0)
        return rc;
    *records = r->load_out.data;
    *len = r->load_out.len;
    return 0;
}
