/* Counting messages per channel (from MessageIndex records where a file has
 * them, else by decompressing) and reading chunks for the iterator, verify
 * and recover. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "cursor.h"
#include "reader_impl.h"

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

/* One channel's MessageIndex entries within the entry array. */
#define MERGE_MAX_SEGMENTS 64
struct seg {
    size_t at, end;
    struct rl_channel *ch;
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
    size_t count = 0, n_seg = 0;
    struct seg segs[MERGE_MAX_SEGMENTS];
    bool mergeable = true; /* every channel's offsets ascending, few channels */
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
        rc = rl__buf_reserve(ents, (count + m->count) * sizeof(struct idx_entry), SIZE_MAX / 2);
        if (rc < 0)
            return rc;
        struct idx_entry *e = (struct idx_entry *)(void *)ents->data;
        size_t pos = 0, first = count;
        uint64_t t, off;
        while (rl_map_next_u64_u64(m, &pos, &t, &off) == 1) {
            if (count > first && off < e[count - 1].offset)
                mergeable = false;
            e[count].offset = off;
            e[count].channel_id = rec.u.message_index.channel_id;
            count++;
        }
        if (n_seg == MERGE_MAX_SEGMENTS)
            mergeable = false;
        else if (count > first)
            segs[n_seg++] = (struct seg){
                first, count,
                (struct rl_channel *)rl_reader_channel(r, rec.u.message_index.channel_id)};
    }
    struct idx_entry *e = (struct idx_entry *)(void *)ents->data;
    const uint64_t overhead = RL_MCAP_RECORD_HEADER_LEN + 22;
    if (!mergeable) {
        /* Any order: sort, then each message ends where the next begins. */
        if (count > 1)
            qsort(e, count, sizeof(*e), idx_entry_cmp);
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
    } else {
        /* The usual case (offsets ascending per channel): merge the
         * channels' lists by offset, O(n * channels), no sort. */
        struct seg *prev = NULL;
        uint64_t prev_off = 0;
        for (;;) {
            struct seg *best = NULL;
            for (size_t j = 0; j < n_seg; j++)
                if (segs[j].at < segs[j].end &&
                    (!best || e[segs[j].at].offset < e[best->at].offset))
                    best = &segs[j];
            uint64_t off = best ? e[best->at].offset : k->info.uncompressed_size;
            if (prev && prev->ch) {
                if (!r->stats_known)
                    prev->ch->message_count++;
                prev->ch->message_bytes +=
                    off > prev_off + overhead ? off - prev_off - overhead : 0;
            }
            if (!best)
                break;
            prev = best;
            prev_off = off;
            best->at++;
        }
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
            rl__reader_seterr(r, "read failed at offset %llu: %s", (unsigned long long)ci->offset,
                              rl_strerror(rc));
            return rc;
        }
        out->len = (size_t)ci->length;
        return 0;
    }
    struct rl_record rec;
    rc = rl__reader_read_record(r, ci->offset, RL_MCAP_MAX_RECORD_BYTES, raw, &rec);
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
    rc =
        rl__buf_reserve(out, (size_t)ch->uncompressed_size + 1, RL_MCAP_MAX_CHUNK_UNCOMPRESSED + 1);
    if (rc < 0)
        return rc;
    rc = rl__decompress(ch->compression, ch->records.ptr, ch->records.len, out->data,
                        (size_t)ch->uncompressed_size);
    if (rc < 0) {
        rl__reader_seterr(r,
                          "chunk at offset %llu does not decompress (%.*s, %llu -> %llu "
                          "bytes): %s",
                          (unsigned long long)ci->offset, (int)ch->compression.len,
                          ch->compression.ptr ? ch->compression.ptr : "",
                          (unsigned long long)ch->records.len,
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
