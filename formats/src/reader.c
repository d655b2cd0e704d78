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

void rl__kv_free(struct rl_kv *kv, size_t n)
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
            rl__kv_free(kv, n);
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
    if (grow((void **)&r->channels, &r->cap_channels, r->n_channels + 1, sizeof(*r->channels)) < 0)
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

int rl__reader_add_metadata(struct rl_reader *r, const struct rl_rec_metadata *m)
{
    if (grow((void **)&r->metadata, &r->cap_metadata, r->n_metadata + 1, sizeof(*r->metadata)) < 0)
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

int rl__reader_add_attachment(struct rl_reader *r, const struct rl_rec_attachment_index *a)
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

int rl__reader_add_chunk(struct rl_reader *r, const struct rl__chunk *k)
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
int rl__reader_read_record(struct rl_reader *r, uint64_t off, uint64_t max, struct rl__buf *buf,
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
                          rl_opcode_name(hdr[0]), (unsigned long long)off, (unsigned long long)len);
        return RL_ETRUNC;
    }
    if (len > max) {
        rl__reader_seterr(r, "%s record at offset %llu is too large (%llu bytes)",
                          rl_opcode_name(hdr[0]), (unsigned long long)off, (unsigned long long)len);
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
    rc = rl__reader_read_record(r, RL_MCAP_MAGIC_LEN, SMALL_RECORD_MAX_BYTES, &hb, &hrec);
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
    int summary = rl__reader_read_summary(r);
    if (summary < 0) {
        rc = summary;
        goto fail;
    }
    if (summary == 1 && !r->opts.force_scan) {
        r->info.complete = true;
    } else {
        bool footer = r->layout.has_footer;
        rl__reader_drop_index(r);
        rc = rl__reader_scan(r, data_start);
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
    rl__reader_drop_index(r);
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
        rl__kv_free((struct rl_kv *)ch->meta, ch->n_meta);
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
    int rc = rl__reader_read_record(r, ai->offset, RL_MCAP_MAX_RECORD_BYTES, &buf, &rec);
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
