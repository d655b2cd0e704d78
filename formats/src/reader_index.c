/* Building the reader's index (reader.c describes the states): from the
 * Summary found through the Footer, or by walking the data section's record
 * headers when there is no usable Summary. The walk never decompresses a
 * chunk: it takes each chunk's time range and sizes from the Chunk record's
 * fixed fields and its message counts from the MessageIndex records after
 * it, and stops at the first record that does not fit in the file. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "cursor.h"
#include "reader_impl.h"

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
        snprintf(name, sizeof(name), "%.*s",
                 (int)(x->compression.len < 15 ? x->compression.len : 15),
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
        rc = rl__reader_add_chunk(r, &k);
        break;
    }
    case RL_OP_METADATA_INDEX: {
        ss->n_mdx++;
        struct rl_record md;
        uint64_t off = rec->u.metadata_index.offset;
        int mrc = rl__reader_read_record(r, off, SMALL_RECORD_MAX_BYTES, tmp, &md);
        if (mrc == 0 && md.opcode == RL_OP_METADATA)
            rc = rl__reader_add_metadata(r, &md.u.metadata);
        else if (mrc == -ENOMEM)
            rc = mrc;
        else
            rl__reader_problem(r, RL_ECORRUPT, off,
                               "metadata index points at no metadata "
                               "record (offset %llu)",
                               (unsigned long long)off);
        break;
    }
    case RL_OP_ATTACHMENT_INDEX:
        ss->n_ax++;
        rc = rl__reader_add_attachment(r, &rec->u.attachment_index);
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
int rl__reader_read_summary(struct rl_reader *r)
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
        rl__reader_problem(r, RL_ECORRUPT, foff,
                           "footer's summary start %llu is outside the "
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
    rc = rl__buf_reserve(&sum, (size_t)slen + RL_MCAP_RECORD_HEADER_LEN + 16,
                         SUMMARY_MAX_BYTES + 64);
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
                               (unsigned long long)sstart, (unsigned)f->summary_crc, (unsigned)crc);
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
            rl__reader_problem(r, RL_ECORRUPT, roff,
                               "summary record at offset %llu runs past "
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
void rl__reader_drop_index(struct rl_reader *r)
{
    r->n_chunks = 0;
    for (size_t i = 0; i < r->n_metadata; i++) {
        free((char *)r->metadata[i].name);
        rl__kv_free((struct rl_kv *)r->metadata[i].kv, r->metadata[i].n);
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
int rl__reader_scan(struct rl_reader *r, uint64_t start)
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
                               rl_opcode_name(op), (unsigned long long)off, (unsigned long long)len,
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
            rc = rl__reader_add_chunk(r, &run);
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
            rc = rl__reader_add_chunk(r, &k);
            if (rc < 0)
                goto fail;
            last = &r->chunks[r->n_chunks - 1];
            last->counted = false;
        } else if (op == RL_OP_MESSAGE_INDEX) {
            struct rl_record rec;
            rc = rl__reader_read_record(r, off, SMALL_RECORD_MAX_BYTES, &tmp, &rec);
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
            rc = rl__reader_read_record(r, off, SMALL_RECORD_MAX_BYTES, &tmp, &rec);
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
                rc = rl__reader_add_metadata(r, &rec.u.metadata);
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
            const uint8_t *q = p && need2 + 4 <= len && need2 <= 65536
                                   ? win_get(&w, content, (size_t)need2, &err)
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
            rc = rl__reader_add_attachment(r, &ai);
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
        rc = rl__reader_add_chunk(r, &run);
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
