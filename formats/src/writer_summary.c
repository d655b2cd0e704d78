/* The end of an MCAP file as the writer lays it out (MCAP Format
 * Specification v0x30, "File Structure", "Summary Section", "Data End",
 * "Statistics", "Summary Offset" and "Footer"): after the last chunk,
 * DataEnd with the data-section CRC, then the Summary groups (Schema,
 * Channel, Statistics, MetadataIndex, AttachmentIndex, ChunkIndex), one
 * SummaryOffset per group, the Footer with the summary CRC, and the closing
 * magic. This is rl_writer_close()'s finish path; the index records it
 * copies were collected as the data section was written (writer.c,
 * writer_job.c). */
#include <inttypes.h>
#include <stdlib.h>

#include "roadlog/writer.h"
#include "writer_impl.h"

/* A summary group, for its SummaryOffset record. */
struct group {
    uint8_t opcode;
    uint64_t start, len;
};

static int sum_put(struct wbuf *b, const void *p, size_t n)
{
    int rc = rl__wbuf_reserve(b, n, WR_MAX_SUMMARY_BYTES * 4);
    if (rc < 0)
        return rc;
    rl__put_raw(b->p + b->len, p, n);
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
    int rc = rl__wbuf_reserve(b, RL_MCAP_RECORD_HEADER_LEN + content, WR_MAX_SUMMARY_BYTES * 4);
    if (rc < 0)
        return rc;
    uint8_t *p = rl__put64(rl__put_rec(b->p + b->len, RL_OP_STATISTICS, content), w->n_messages);
    p = rl__put32(rl__put16(p, (uint16_t)w->n_schemas), (uint32_t)w->n_chans);
    p = rl__put32(rl__put32(rl__put32(p, w->n_attachments), w->n_metadata), w->n_chunks);
    p = rl__put64(rl__put64(p, w->start_ns), w->end_ns);
    p = rl__put32(p, (uint32_t)(n_counts * 10));
    for (uint32_t id = 1; id < WR_IDS; id++) {
        uint16_t slot = w->chan_slot[id];
        if (slot != 0 && w->chans[slot - 1].count > 0)
            p = rl__put64(rl__put16(p, (uint16_t)id), w->chans[slot - 1].count);
    }
    b->len += RL_MCAP_RECORD_HEADER_LEN + content;
    return 0;
}

/* The summary through the magic goes out in one write. */
int rl__writer_finish(struct rl_writer *w)
{
    struct wbuf b = {NULL, 0, 0};
    struct group g[6];
    size_t ng = 0;
    int state_rc = 0;
    int rc;

    rc = rl__writer_close_chunk(w, true);
    if (rc < 0)
        goto fail;
    if (w->n_put != w->issued)
        state_rc = rl__writer_seterr(w, RL_ESTATE,
                                     "%" PRIu64 " chunk jobs were not put back before close; "
                                     "their messages are not in the file",
                                     w->issued - w->n_put);
    uint8_t de[RL_MCAP_RECORD_HEADER_LEN + 4];
    rl__put32(rl__put_rec(de, RL_OP_DATA_END, 4), w->opts.emit_data_crc ? w->data_crc : 0);
    rc = rl__writer_append(w, de, sizeof(de), false);
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
            uint8_t *p = rl__put8(rl__put_rec(so, RL_OP_SUMMARY_OFFSET, WR_SUMMARY_OFFSET_LEN - 9),
                                  g[i].opcode);
            rl__put64(rl__put64(p, sum_start + g[i].start), g[i].len);
            if ((rc = sum_put(&b, so, sizeof(so))) < 0)
                goto nomem;
        }
    }
    size_t footer = b.len;
    rc = rl__wbuf_reserve(&b, RL_MCAP_FOOTER_RECORD_LEN + RL_MCAP_MAGIC_LEN,
                          WR_MAX_SUMMARY_BYTES * 5);
    if (rc < 0)
        goto nomem;
    uint8_t *p = rl__put_rec(b.p + footer, RL_OP_FOOTER, RL_MCAP_FOOTER_CONTENT_LEN);
    p = rl__put64(rl__put64(p, footer > 0 ? sum_start : 0), offsets_start);
    /* The summary CRC runs from the summary start (or the Footer when there
     * is no summary: the buffer starts there either way) through the
     * footer's summary_offset_start field. */
    p = rl__put32(p, rl_crc32(0, b.p, (size_t)(p - b.p)));
    rl__put_raw(p, rl_mcap_magic, RL_MCAP_MAGIC_LEN);
    b.len += RL_MCAP_FOOTER_RECORD_LEN + RL_MCAP_MAGIC_LEN;
    rc = rl__writer_append(w, b.p, b.len, false);
    goto fail;
nomem:
    rc = rl__writer_fail(w, rc, "building the summary at offset %" PRIu64 ": %s", w->file_bytes,
                         rl_strerror(rc));
fail:
    rl__wbuf_release(&b);
    return rc < 0 ? rc : state_rc;
}
