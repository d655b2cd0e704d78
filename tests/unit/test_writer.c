/* Unit tests of the MCAP writer (formats/src/writer.c) and of chunk
 * compression (formats/src/compress.c). Files are written to the memory
 * backend and checked byte by byte with the one record parser
 * (rl_mcap_parse): magic, Header bytes, DataEnd and summary CRCs, summary
 * offsets, chunk and message indexes, chunk splitting, every compression,
 * id rules, the chunk-job pipeline, and write failures at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "cursor.h"
#include "roadlog/io.h"
#include "roadlog/mcap.h"
#include "roadlog/writer.h"

#define MAX_RECS 4096

/* One record of a file: where it is and its parsed form. */
struct rec {
    uint8_t op;
    size_t off, len; /* whole record, opcode included */
    struct rl_record r;
};

struct file {
    uint8_t *data;
    size_t len;
    struct rec recs[MAX_RECS];
    size_t n;
};

/* Walks a complete file's records (after the leading magic, through the
 * Footer), parsing each. */
static void walk(struct file *f)
{
    size_t off = RL_MCAP_MAGIC_LEN;
    f->n = 0;
    assert_true(f->len >= 2 * RL_MCAP_MAGIC_LEN);
    while (off < f->len - RL_MCAP_MAGIC_LEN) {
        assert_true(f->n < MAX_RECS);
        assert_true(off + RL_MCAP_RECORD_HEADER_LEN <= f->len);
        struct rec *r = &f->recs[f->n++];
        r->op = f->data[off];
        uint64_t clen = rl__get_u64le(f->data + off + 1);
        assert_true(clen <= f->len - off - RL_MCAP_RECORD_HEADER_LEN);
        r->off = off;
        r->len = RL_MCAP_RECORD_HEADER_LEN + (size_t)clen;
        assert_int_equal(rl_mcap_parse(r->op, f->data + off + RL_MCAP_RECORD_HEADER_LEN,
                                       (size_t)clen, &r->r, NULL, 0),
                         0);
        off += r->len;
        if (r->op == RL_OP_FOOTER)
            break;
    }
    assert_int_equal(off, f->len - RL_MCAP_MAGIC_LEN);
}

/* The record at a file offset; fails the test when there is none (so the
 * result is never NULL). */
static const struct rec *find_at(const struct file *f, uint64_t off)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->recs[i].off == off)
            return &f->recs[i];
    fail_msg("no record starts at offset %llu", (unsigned long long)off);
    return &f->recs[0];
}

static size_t count_op(const struct file *f, uint8_t op)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += f->recs[i].op == op;
    return n;
}

/* The k-th record with opcode op; fails the test when there is none. */
static const struct rec *nth_op(const struct file *f, uint8_t op, size_t k)
{
    size_t seen = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->recs[i].op == op && seen++ == k)
            return &f->recs[i];
    fail_msg("no %s record number %zu", rl_opcode_name(op), k);
    return &f->recs[0];
}

static struct file *file_from(struct rl_io *io)
{
    size_t len;
    const uint8_t *d = rl_io_membuf_data(io, &len);
    struct file *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->data = malloc(len ? len : 1);
    assert_non_null(f->data);
    memcpy(f->data, d, len);
    f->len = len;
    return f;
}

static void file_free(struct file *f)
{
    free(f->data);
    free(f);
}

static bool str_is(struct rl_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((i * 31 + seed * 7) % 251 / 3);
}

/* ---- a small complete file, checked byte by byte ---- */

static void write_tiny(struct rl_writer *w, int *first_err)
{
    /* Stops at the first error and reports it (for the fault test). */
    static const struct rl_kv meta[] = {{"zeta", "2"}, {"alpha", "1"}};
    static const struct rl_kv md[] = {{"site", "zone-a"}, {"run", "42"}};
    uint8_t payload[300];
    uint16_t sid = 0, cid = 0, cid2 = 0;
    int rc;

    *first_err = 0;
    fill(payload, sizeof(payload), 1);
    if ((rc = rl_writer_add_schema(w, 0, "pkt", "raw", "S", 1, &sid)) < 0)
        goto fail;
    if ((rc = rl_writer_add_channel(w, 0, sid, "/lidar/top", "raw", meta, 2, &cid)) < 0)
        goto fail;
    if ((rc = rl_writer_add_channel(w, 0, 0, "/can/chassis", "can", NULL, 0, &cid2)) < 0)
        goto fail;
    for (unsigned i = 0; i < 40; i++) {
        uint16_t ch = i % 3 == 0 ? cid2 : cid;
        /* log times go backwards now and then, to exercise index sorting */
        uint64_t t = 1000 + i * 10 - (i % 5 == 4 ? 35 : 0);
        if ((rc = rl_writer_write_message(w, ch, i, t, t + 1, payload, 50 + i * 5)) < 0)
            goto fail;
    }
    if ((rc = rl_writer_write_metadata(w, "roadlog.run", md, 2)) < 0)
        goto fail;
    if ((rc = rl_writer_write_attachment(w, 5, 6, "car.dbc", "text/plain", "BO_ 1", 5)) < 0)
        goto fail;
    if ((rc = rl_writer_write_message(w, cid, 99, 2000, 2000, payload, 10)) < 0)
        goto fail;
    return;
fail:
    *first_err = rc;
}

static void tiny_opts(struct rl_writer_options *o)
{
    rl_writer_options_init(o);
    o->profile = "ros2";
    o->library = "lib";
    o->chunk_size_bytes = 2048;
}

static struct file *make_tiny(void)
{
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_io *io;
    int err;
    tiny_opts(&o);
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    write_tiny(w, &err);
    assert_int_equal(err, 0);
    assert_int_equal(rl_writer_close(w), 0);
    struct file *f = file_from(io);
    assert_int_equal(rl_io_close(io), 0);
    walk(f);
    return f;
}

static void test_tiny_bytes(void **state)
{
    (void)state;
    struct file *f = make_tiny();

    /* Magic at both ends. */
    assert_memory_equal(f->data, rl_mcap_magic, RL_MCAP_MAGIC_LEN);
    assert_memory_equal(f->data + f->len - RL_MCAP_MAGIC_LEN, rl_mcap_magic, RL_MCAP_MAGIC_LEN);

    /* Header record, exactly. */
    static const uint8_t header[] = {0x01, 15,  0,   0,   0,   0, 0, 0, 0, 4,   0,   0,
                                     0,    'r', 'o', 's', '2', 3, 0, 0, 0, 'l', 'i', 'b'};
    assert_memory_equal(f->data + RL_MCAP_MAGIC_LEN, header, sizeof(header));
    assert_int_equal(f->recs[0].op, RL_OP_HEADER);

    /* Schema and channels come before the first chunk, outside chunks. */
    assert_int_equal(f->recs[1].op, RL_OP_SCHEMA);
    assert_int_equal(f->recs[2].op, RL_OP_CHANNEL);
    assert_int_equal(f->recs[3].op, RL_OP_CHANNEL);
    assert_int_equal(f->recs[4].op, RL_OP_CHUNK);

    /* Channel metadata sorted by key. */
    struct rl_map m = f->recs[2].r.u.channel.metadata;
    struct rl_str k, v;
    size_t pos = 0;
    assert_int_equal(rl_map_next_str_str(&m, &pos, &k, &v), 1);
    assert_true(str_is(k, "alpha") && str_is(v, "1"));
    assert_int_equal(rl_map_next_str_str(&m, &pos, &k, &v), 1);
    assert_true(str_is(k, "zeta") && str_is(v, "2"));
    assert_int_equal(rl_map_next_str_str(&m, &pos, &k, &v), 0);

    /* DataEnd CRC = CRC of every byte before it. */
    const struct rec *de = nth_op(f, RL_OP_DATA_END, 0);
    assert_non_null(de);
    assert_int_equal(de->r.u.data_end.data_section_crc, rl_crc32(0, f->data, de->off));

    /* Footer: summary starts right after DataEnd; CRC from there through
     * summary_offset_start. */
    const struct rec *ft = &f->recs[f->n - 1];
    assert_int_equal(ft->op, RL_OP_FOOTER);
    assert_int_equal(ft->off + RL_MCAP_FOOTER_RECORD_LEN + RL_MCAP_MAGIC_LEN, f->len);
    const struct rl_rec_footer *fo = &ft->r.u.footer;
    assert_int_equal(fo->summary_start, de->off + de->len);
    size_t crc_end = ft->off + RL_MCAP_RECORD_HEADER_LEN + 16;
    assert_int_equal(fo->summary_crc,
                     rl_crc32(0, f->data + fo->summary_start, crc_end - fo->summary_start));

    /* Summary offsets: one per group, in the fixed order, each pointing at a
     * run of records of that opcode, the runs tiling the summary. */
    static const uint8_t order[] = {RL_OP_SCHEMA,           RL_OP_CHANNEL,
                                    RL_OP_STATISTICS,       RL_OP_METADATA_INDEX,
                                    RL_OP_ATTACHMENT_INDEX, RL_OP_CHUNK_INDEX};
    assert_int_equal(count_op(f, RL_OP_SUMMARY_OFFSET), 6);
    const struct rec *so0 = nth_op(f, RL_OP_SUMMARY_OFFSET, 0);
    assert_int_equal(so0->off, fo->summary_offset_start);
    uint64_t expect_start = fo->summary_start;
    for (size_t g = 0; g < 6; g++) {
        const struct rl_rec_summary_offset *so =
            &nth_op(f, RL_OP_SUMMARY_OFFSET, g)->r.u.summary_offset;
        assert_int_equal(so->group_opcode, order[g]);
        assert_int_equal(so->group_start, expect_start);
        uint64_t off = so->group_start;
        while (off < so->group_start + so->group_length) {
            const struct rec *r = find_at(f, off);
            assert_non_null(r);
            assert_int_equal(r->op, order[g]);
            off += r->len;
        }
        assert_int_equal(off, so->group_start + so->group_length);
        expect_start = off;
    }
    assert_int_equal(expect_start, fo->summary_offset_start);

    /* Statistics. */
    const struct rl_rec_statistics *st = &nth_op(f, RL_OP_STATISTICS, 0)->r.u.statistics;
    size_t n_chunks = count_op(f, RL_OP_CHUNK);
    assert_true(n_chunks >= 3);
    assert_int_equal(st->message_count, 41);
    assert_int_equal(st->schema_count, 1);
    assert_int_equal(st->channel_count, 2);
    assert_int_equal(st->attachment_count, 1);
    assert_int_equal(st->metadata_count, 1);
    assert_int_equal(st->chunk_count, n_chunks);
    assert_int_equal(st->message_start_time, 1000);
    assert_int_equal(st->message_end_time, 2000);
    uint16_t ch;
    uint64_t cnt;
    pos = 0;
    assert_int_equal(rl_map_next_u16_u64(&st->channel_message_counts, &pos, &ch, &cnt), 1);
    assert_int_equal(ch, 1);
    assert_int_equal(cnt, 27);
    assert_int_equal(rl_map_next_u16_u64(&st->channel_message_counts, &pos, &ch, &cnt), 1);
    assert_int_equal(ch, 2);
    assert_int_equal(cnt, 14);

    /* Chunk indexes point at their chunks and message indexes; each message
     * index entry points at a Message of its channel with its log time, in
     * log-time order. */
    assert_int_equal(count_op(f, RL_OP_CHUNK_INDEX), n_chunks);
    uint64_t msgs = 0;
    for (size_t c = 0; c < n_chunks; c++) {
        const struct rl_rec_chunk_index *ci = &nth_op(f, RL_OP_CHUNK_INDEX, c)->r.u.chunk_index;
        const struct rec *ck = find_at(f, ci->chunk_start_offset);
        assert_non_null(ck);
        assert_int_equal(ck->op, RL_OP_CHUNK);
        assert_int_equal(ck->len, ci->chunk_length);
        const struct rl_rec_chunk *chunk = &ck->r.u.chunk;
        assert_true(str_is(chunk->compression, "zstd"));
        assert_true(str_is(ci->compression, "zstd"));
        assert_int_equal(ci->compressed_size, chunk->records.len);
        assert_int_equal(ci->uncompressed_size, chunk->uncompressed_size);
        assert_int_equal(ci->message_start_time, chunk->message_start_time);
        assert_int_equal(ci->message_end_time, chunk->message_end_time);
        uint8_t *raw = malloc(chunk->uncompressed_size);
        assert_non_null(raw);
        assert_int_equal(rl__decompress(chunk->compression, chunk->records.ptr, chunk->records.len,
                                        raw, chunk->uncompressed_size),
                         0);
        assert_int_equal(chunk->uncompressed_crc, rl_crc32(0, raw, chunk->uncompressed_size));

        uint64_t mi_bytes = 0;
        size_t mpos = 0;
        uint16_t prev_ch = 0;
        uint64_t mi_off;
        while (rl_map_next_u16_u64(&ci->message_index_offsets, &mpos, &ch, &mi_off) == 1) {
            assert_true(ch > prev_ch);
            prev_ch = ch;
            const struct rec *mi = find_at(f, mi_off);
            assert_non_null(mi);
            assert_int_equal(mi->op, RL_OP_MESSAGE_INDEX);
            assert_int_equal(mi->r.u.message_index.channel_id, ch);
            assert_true(mi->off >= ck->off + ck->len);
            mi_bytes += mi->len;
            size_t epos = 0;
            uint64_t t, o, prev_t = 0;
            while (rl_map_next_u64_u64(&mi->r.u.message_index.records, &epos, &t, &o) == 1) {
                struct rl_record msg;
                assert_true(o + RL_MCAP_RECORD_HEADER_LEN <= chunk->uncompressed_size);
                assert_int_equal(raw[o], RL_OP_MESSAGE);
                uint64_t ml = rl__get_u64le(raw + o + 1);
                assert_int_equal(rl_mcap_parse(RL_OP_MESSAGE, raw + o + 9, ml, &msg, NULL, 0), 0);
                assert_int_equal(msg.u.message.channel_id, ch);
                assert_int_equal(msg.u.message.log_time, t);
                assert_true(t >= prev_t);
                assert_true(t >= chunk->message_start_time && t <= chunk->message_end_time);
                prev_t = t;
                msgs++;
            }
        }
        assert_int_equal(mi_bytes, ci->message_index_length);
        free(raw);
    }
    assert_int_equal(msgs, 41);

    /* Attachment CRC and index; metadata index. */
    const struct rec *at = nth_op(f, RL_OP_ATTACHMENT, 0);
    assert_int_equal(at->r.u.attachment.crc, at->r.u.attachment.computed_crc);
    const struct rl_rec_attachment_index *ai =
        &nth_op(f, RL_OP_ATTACHMENT_INDEX, 0)->r.u.attachment_index;
    assert_int_equal(ai->offset, at->off);
    assert_int_equal(ai->length, at->len);
    assert_int_equal(ai->data_size, 5);
    assert_true(str_is(ai->name, "car.dbc") && str_is(ai->media_type, "text/plain"));
    const struct rl_rec_metadata_index *mdi =
        &nth_op(f, RL_OP_METADATA_INDEX, 0)->r.u.metadata_index;
    const struct rec *md = find_at(f, mdi->offset);
    assert_non_null(md);
    assert_int_equal(md->op, RL_OP_METADATA);
    assert_int_equal(md->len, mdi->length);
    assert_true(str_is(mdi->name, "roadlog.run"));
    file_free(f);
}

/* The same calls give the same bytes (deterministic output). */
static void test_deterministic(void **state)
{
    (void)state;
    struct file *a = make_tiny(), *b = make_tiny();
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
    file_free(a);
    file_free(b);
}

/* An empty file: no summary groups but Statistics; the footer CRC then
 * starts at the summary (Statistics). With everything off, it starts at the
 * Footer. */
static void test_empty_files(void **state)
{
    (void)state;
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_io *io;
    rl_writer_options_init(&o);
    o.emit_statistics = false;
    o.emit_summary_offsets = false;
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    assert_int_equal(rl_writer_flush(w), 0);
    assert_int_equal(rl_writer_close(w), 0);
    struct file *f = file_from(io);
    assert_int_equal(rl_io_close(io), 0);
    walk(f);
    assert_int_equal(f->n, 3); /* Header, DataEnd, Footer */
    const struct rl_rec_footer *fo = &f->recs[2].r.u.footer;
    assert_int_equal(fo->summary_start, 0);
    assert_int_equal(fo->summary_offset_start, 0);
    assert_int_equal(fo->summary_crc,
                     rl_crc32(0, f->data + f->recs[2].off, RL_MCAP_RECORD_HEADER_LEN + 16));
    assert_int_equal(f->recs[1].r.u.data_end.data_section_crc,
                     rl_crc32(0, f->data, f->recs[1].off));
    file_free(f);
}

/* ---- chunk splitting ---- */

static void test_chunk_split(void **state)
{
    (void)state;
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_io *io;
    uint8_t data[100];
    uint16_t cid;
    rl_writer_options_init(&o);
    o.chunk_size_bytes = 1000; /* message records are 131 bytes: 8 per chunk */
    fill(data, sizeof(data), 2);
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/a", "raw", NULL, 0, &cid), 0);
    uint64_t before = rl_writer_file_bytes(w);
    for (unsigned i = 0; i < 20; i++) {
        assert_int_equal(rl_writer_write_message(w, cid, i, i, i, data, sizeof(data)), 0);
        uint64_t pending = rl_writer_pending_bytes(w);
        assert_int_equal(pending, ((i + 1) % 8) * 131);
        if ((i + 1) % 8 == 0)
            assert_true(rl_writer_file_bytes(w) > before);
        before = rl_writer_file_bytes(w);
    }
    assert_int_equal(rl_writer_flush(w), 0);
    assert_int_equal(rl_writer_pending_bytes(w), 0);
    assert_int_equal(rl_writer_close(w), 0);
    struct file *f = file_from(io);
    assert_int_equal(rl_io_close(io), 0);
    walk(f);
    assert_int_equal(count_op(f, RL_OP_CHUNK), 3);
    static const uint64_t sizes[] = {8 * 131, 8 * 131, 4 * 131};
    static const uint64_t starts[] = {0, 8, 16}, ends[] = {7, 15, 19};
    for (size_t c = 0; c < 3; c++) {
        const struct rec *ck = nth_op(f, RL_OP_CHUNK, c);
        assert_int_equal(ck->r.u.chunk.uncompressed_size, sizes[c]);
        assert_int_equal(ck->r.u.chunk.message_start_time, starts[c]);
        assert_int_equal(ck->r.u.chunk.message_end_time, ends[c]);
        /* the chunk's MessageIndex follows it directly */
        const struct rec *mi = find_at(f, ck->off + ck->len);
        assert_non_null(mi);
        assert_int_equal(mi->op, RL_OP_MESSAGE_INDEX);
        assert_int_equal(mi->r.u.message_index.records.count, sizes[c] / 131);
    }
    file_free(f);
}

/* ---- compression ---- */

static void roundtrip_file(enum rl_compression comp, const char *name)
{
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_io *io;
    uint8_t data[1000];
    uint16_t cid;
    rl_writer_options_init(&o);
    o.compression = comp;
    o.chunk_size_bytes = 16 * 1024;
    assert_int_equal(rl_io_membuf_open(&io, 4 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/a", "raw", NULL, 0, &cid), 0);
    for (unsigned i = 0; i < 100; i++) {
        fill(data, sizeof(data), i);
        assert_int_equal(rl_writer_write_message(w, cid, i, i, i, data, 100 + i * 9), 0);
    }
    assert_int_equal(rl_writer_close(w), 0);
    struct file *f = file_from(io);
    assert_int_equal(rl_io_close(io), 0);
    walk(f);
    unsigned seen = 0;
    for (size_t c = 0; c < count_op(f, RL_OP_CHUNK); c++) {
        const struct rl_rec_chunk *ck = &nth_op(f, RL_OP_CHUNK, c)->r.u.chunk;
        assert_true(str_is(ck->compression, name));
        uint8_t *raw = malloc(ck->uncompressed_size);
        assert_non_null(raw);
        assert_int_equal(rl__decompress(ck->compression, ck->records.ptr, ck->records.len, raw,
                                        ck->uncompressed_size),
                         0);
        assert_int_equal(ck->uncompressed_crc, rl_crc32(0, raw, ck->uncompressed_size));
        size_t off = 0;
        while (off < ck->uncompressed_size) {
            struct rl_record m;
            uint64_t ml = rl__get_u64le(raw + off + 1);
            assert_int_equal(raw[off], RL_OP_MESSAGE);
            assert_int_equal(rl_mcap_parse(RL_OP_MESSAGE, raw + off + 9, ml, &m, NULL, 0), 0);
            assert_int_equal(m.u.message.sequence, seen);
            assert_int_equal(m.u.message.data.len, 100 + seen * 9);
            fill(data, sizeof(data), seen);
            assert_memory_equal(m.u.message.data.ptr, data, m.u.message.data.len);
            off += 9 + ml;
            seen++;
        }
        free(raw);
    }
    assert_int_equal(seen, 100);
    file_free(f);
}

static void test_compressions_roundtrip(void **state)
{
    (void)state;
    roundtrip_file(RL_COMPRESS_NONE, "");
    roundtrip_file(RL_COMPRESS_ZSTD, "zstd");
    roundtrip_file(RL_COMPRESS_LZ4, "lz4");
}

static void test_compress_buffers(void **state)
{
    (void)state;
    static const struct {
        enum rl_compression c;
        const char *name;
    } cases[] = {
        {RL_COMPRESS_NONE, ""},
        {RL_COMPRESS_NONE, "none"},
        {RL_COMPRESS_ZSTD, "zstd"},
        {RL_COMPRESS_LZ4, "lz4"},
    };
    static const size_t lens[] = {0, 1, 1000, 300000};
    uint8_t *src = malloc(300000), *back = malloc(300001);
    assert_non_null(src);
    assert_non_null(back);
    fill(src, 300000, 9);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rl_str name = {cases[i].name, strlen(cases[i].name)};
        for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
            size_t len = lens[j], clen = 0;
            size_t bound = rl__compress_bound(cases[i].c, len);
            uint8_t *dst = malloc(2 * bound + 16);
            assert_non_null(dst);
            assert_int_equal(rl__compress(cases[i].c, 3, src, len, dst, bound, &clen), 0);
            assert_true(clen <= bound);
            assert_int_equal(rl__decompress(name, dst, clen, back, len), 0);
            assert_memory_equal(back, src, len);
            /* a wrong size either way is corrupt */
            assert_int_equal(rl__decompress(name, dst, clen, back, len + 1), RL_ECORRUPT);
            if (len > 0) {
                assert_int_equal(rl__decompress(name, dst, clen, back, len - 1), RL_ECORRUPT);
                assert_int_equal(rl__decompress(name, dst, clen - 1, back, len), RL_ECORRUPT);
            }
            /* two lz4 frames back to back decode as one stream */
            if (cases[i].c == RL_COMPRESS_LZ4 && len > 0 && len < 300000) {
                size_t clen2 = 0;
                assert_int_equal(
                    rl__compress(cases[i].c, 3, src + len, len, dst + clen, bound, &clen2), 0);
                assert_int_equal(rl__decompress(name, dst, clen + clen2, back, 2 * len), 0);
                assert_memory_equal(back, src, 2 * len);
            }
            free(dst);
        }
    }
    uint8_t junk[64];
    memset(junk, 0x5a, sizeof(junk));
    assert_int_equal(rl__decompress((struct rl_str){"zstd", 4}, junk, 64, back, 64), RL_ECORRUPT);
    assert_int_equal(rl__decompress((struct rl_str){"lz4", 3}, junk, 64, back, 64), RL_ECORRUPT);
    assert_int_equal(rl__decompress((struct rl_str){"bz2", 3}, junk, 64, back, 64),
                     RL_EUNSUPPORTED);
    free(src);
    free(back);
}

/* ---- ids ---- */

static void test_ids(void **state)
{
    (void)state;
    struct rl_writer *w;
    struct rl_io *io;
    uint16_t id = 0;
    static const struct rl_kv dup[] = {{"k", "1"}, {"k", "2"}};
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, true, NULL), 0);

    assert_int_equal(rl_writer_add_schema(w, 0, "a", "e", NULL, 0, &id), 0);
    assert_int_equal(id, 1);
    assert_int_equal(rl_writer_add_schema(w, 3, "b", "e", "x", 1, &id), 0);
    assert_int_equal(id, 3);
    assert_int_equal(rl_writer_add_schema(w, 3, "c", "e", NULL, 0, &id), RL_EDUPLICATE);
    assert_non_null(strstr(rl_writer_errmsg(w), "3"));
    assert_int_equal(rl_writer_add_schema(w, 0, "d", "e", NULL, 0, &id), 0);
    assert_int_equal(id, 2);
    assert_int_equal(rl_writer_add_schema(w, 0, "e", "e", NULL, 0, &id), 0);
    assert_int_equal(id, 4);
    assert_int_equal(rl_writer_add_schema(w, 0, NULL, "e", NULL, 0, &id), -EINVAL);

    assert_int_equal(rl_writer_add_channel(w, 0, 3, "/a", "raw", NULL, 0, &id), 0);
    assert_int_equal(id, 1);
    assert_int_equal(rl_writer_add_channel(w, 7, 0, "/b", "raw", NULL, 0, &id), 0);
    assert_int_equal(id, 7);
    assert_int_equal(rl_writer_add_channel(w, 7, 0, "/c", "raw", NULL, 0, &id), RL_EDUPLICATE);
    assert_int_equal(rl_writer_add_channel(w, 0, 99, "/d", "raw", NULL, 0, &id), RL_ENOTFOUND);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/e", "raw", dup, 2, &id), RL_EDUPLICATE);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, NULL, "raw", NULL, 0, &id), -EINVAL);
    assert_int_equal(rl_writer_add_channel(w, 65535, 0, "/max", "raw", NULL, 0, NULL), 0);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/f", "raw", NULL, 0, &id), 0);
    assert_int_equal(id, 2);

    /* unknown channel, too big: rejected, writer still healthy */
    assert_int_equal(rl_writer_write_message(w, 5, 0, 1, 1, "x", 1), RL_ENOTFOUND);
    assert_non_null(strstr(rl_writer_errmsg(w), "unknown channel 5"));
    assert_int_equal(
        rl_writer_write_message(w, 1, 0, 1, 1, "x", (size_t)RL_MCAP_MAX_CHUNK_UNCOMPRESSED),
        RL_ETOOBIG);
    assert_int_equal(rl_writer_write_message(w, 1, 0, 1, 1, NULL, 1), -EINVAL);
    assert_int_equal(rl_writer_write_message(w, 1, 0, 1, 1, "x", 1), 0);
    assert_int_equal(rl_writer_write_message(w, 65535, 0, 1, 1, "x", 1), 0);
    assert_int_equal(rl_writer_close(w), 0);
}

/* ---- unchunked ---- */

static void test_unchunked(void **state)
{
    (void)state;
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_io *io;
    uint16_t cid;
    rl_writer_options_init(&o);
    o.use_chunks = false;
    o.chunk_size_bytes = 100;
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/a", "raw", NULL, 0, &cid), 0);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(rl_writer_write_message(w, cid, i, 10 - i, i, "abcdefgh", 8), 0);
    assert_int_equal(rl_writer_close(w), 0);
    struct file *f = file_from(io);
    assert_int_equal(rl_io_close(io), 0);
    walk(f);
    assert_int_equal(count_op(f, RL_OP_CHUNK), 0);
    assert_int_equal(count_op(f, RL_OP_MESSAGE_INDEX), 0);
    assert_int_equal(count_op(f, RL_OP_CHUNK_INDEX), 0);
    assert_int_equal(count_op(f, RL_OP_MESSAGE), 10);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(nth_op(f, RL_OP_MESSAGE, i)->r.u.message.sequence, i);
    const struct rl_rec_statistics *st = &nth_op(f, RL_OP_STATISTICS, 0)->r.u.statistics;
    assert_int_equal(st->message_count, 10);
    assert_int_equal(st->chunk_count, 0);
    assert_int_equal(st->message_start_time, 1);
    assert_int_equal(st->message_end_time, 10);
    const struct rec *de = nth_op(f, RL_OP_DATA_END, 0);
    assert_int_equal(de->r.u.data_end.data_section_crc, rl_crc32(0, f->data, de->off));
    file_free(f);
}

/* ---- write failures ---- */

/* Fails the file at every byte count up to and past the full size: the
 * writer reports the error (and keeps reporting it), never crashes or leaks,
 * and what reached the file is a prefix of the good file, so every chunk
 * written before the failure is intact. */
static void test_fault_every_byte(void **state)
{
    (void)state;
    struct file *good = make_tiny();
    for (size_t n = 0; n <= good->len + 1; n++) {
        struct rl_writer_options o;
        struct rl_writer *w = NULL;
        struct rl_io *inner, *io;
        int err, rc;
        tiny_opts(&o);
        assert_int_equal(rl_io_membuf_open(&inner, 1 << 20), 0);
        assert_int_equal(rl_io_fault_open(&io, inner, n, -ENOSPC), 0);
        rc = rl_writer_open_io(&w, io, false, &o);
        if (rc == 0) {
            write_tiny(w, &err);
            if (err != 0) {
                assert_int_equal(err, -ENOSPC);
                assert_non_null(strstr(rl_writer_errmsg(w), "write failed at offset"));
                assert_non_null(strstr(rl_writer_errmsg(w), "No space left on device"));
                /* sticky */
                assert_int_equal(rl_writer_write_message(w, 1, 0, 0, 0, "x", 1), -ENOSPC);
                assert_int_equal(rl_writer_flush(w), -ENOSPC);
                assert_int_equal(rl_writer_add_channel(w, 0, 0, "/z", "", NULL, 0, NULL), -ENOSPC);
            }
            rc = rl_writer_close(w);
            if (err != 0)
                assert_int_equal(rc, -ENOSPC);
        } else {
            assert_null(w);
        }
        if (n >= good->len)
            assert_int_equal(rc, 0);
        else
            assert_int_equal(rc, -ENOSPC);
        size_t len;
        const uint8_t *d = rl_io_membuf_data(inner, &len);
        assert_int_equal(len, n < good->len ? n : good->len);
        assert_memory_equal(d, good->data, len);
        assert_int_equal(rl_io_close(io), 0);
    }
    /* owned io is closed on failure too (ASan checks the leak) */
    {
        struct rl_io *inner, *io;
        struct rl_writer *w;
        assert_int_equal(rl_io_membuf_open(&inner, 1 << 20), 0);
        assert_int_equal(rl_io_fault_open(&io, inner, 3, -EIO), 0);
        assert_int_equal(rl_writer_open_io(&w, io, true, NULL), -EIO);
    }
    file_free(good);
}

/* rl_writer_abort leaves the file as a crash would. */
static void test_abort(void **state)
{
    (void)state;
    struct rl_writer *w;
    struct rl_io *io;
    uint16_t cid;
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, NULL), 0);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/a", "raw", NULL, 0, &cid), 0);
    assert_int_equal(rl_writer_write_message(w, cid, 0, 1, 1, "abc", 3), 0);
    assert_int_equal(rl_writer_sync(w), 0);
    assert_int_equal(rl_writer_write_message(w, cid, 1, 2, 2, "def", 3), 0);
    uint64_t bytes = rl_writer_file_bytes(w);
    rl_writer_abort(w);
    rl_writer_abort(NULL);
    size_t len;
    (void)rl_io_membuf_data(io, &len);
    assert_int_equal(len, bytes);
    assert_int_equal(rl_io_close(io), 0);
}

/* ---- the chunk-job pipeline ---- */

struct pipe {
    struct rl_chunk_job *jobs[64];
    size_t n;
    struct rl_writer *w; /* set: put back at once from inside the hook */
    int put_rc;
};

static void hook(void *ud, struct rl_chunk_job *job)
{
    struct pipe *p = ud;
    if (p->w) {
        if (rl_chunk_job_compress(job) < 0)
            p->put_rc = -1;
        int rc = rl_writer_put_chunk(p->w, job);
        if (rc < 0)
            p->put_rc = rc;
        return;
    }
    assert_true(p->n < 64);
    p->jobs[p->n++] = job;
}

static struct file *pipeline_file(int mode)
{
    /* mode 0: inline; 1: hook, compress in reverse order, put in order;
     * 2: hook puts back from inside the hook */
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_io *io;
    struct pipe p = {{NULL}, 0, NULL, 0};
    uint8_t data[500];
    uint16_t cid;
    rl_writer_options_init(&o);
    o.chunk_size_bytes = 4000;
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    if (mode > 0)
        rl_writer_set_chunk_hook(w, hook, &p);
    if (mode == 2)
        p.w = w;
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/a", "raw", NULL, 0, &cid), 0);
    for (unsigned i = 0; i < 60; i++) {
        fill(data, sizeof(data), i);
        assert_int_equal(rl_writer_write_message(w, cid, i, i, i, data, sizeof(data)), 0);
    }
    assert_int_equal(rl_writer_flush(w), 0);
    if (mode == 1) {
        assert_true(p.n >= 5);
        for (size_t i = p.n; i-- > 0;) {
            assert_true(rl_chunk_job_bytes(p.jobs[i]) > 0);
            assert_int_equal(rl_chunk_job_compress(p.jobs[i]), 0);
        }
        for (size_t i = 0; i < p.n; i++)
            assert_int_equal(rl_writer_put_chunk(w, p.jobs[i]), 0);
    }
    assert_int_equal(p.put_rc, 0);
    assert_int_equal(rl_writer_close(w), 0);
    struct file *f = file_from(io);
    assert_int_equal(rl_io_close(io), 0);
    walk(f);
    return f;
}

static void test_pipeline_same_bytes(void **state)
{
    (void)state;
    struct file *a = pipeline_file(0), *b = pipeline_file(1), *c = pipeline_file(2);
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
    assert_int_equal(a->len, c->len);
    assert_memory_equal(a->data, c->data, a->len);
    assert_true(count_op(a, RL_OP_CHUNK) >= 5);
    file_free(a);
    file_free(b);
    file_free(c);
}

static void test_pipeline_misuse(void **state)
{
    (void)state;
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_io *io;
    struct pipe p = {{NULL}, 0, NULL, 0};
    uint16_t cid;
    rl_writer_options_init(&o);
    o.chunk_size_bytes = 10;

    /* out of order: writer fails */
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, true, &o), 0);
    rl_writer_set_chunk_hook(w, hook, &p);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/a", "raw", NULL, 0, &cid), 0);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(rl_writer_write_message(w, cid, i, i, i, "0123456789", 10), 0);
    assert_int_equal(p.n, 3);
    assert_int_equal(rl_writer_put_chunk(w, p.jobs[1]), 0); /* skips job 0: abandoned */
    assert_int_equal(rl_writer_put_chunk(w, p.jobs[0]), RL_ESTATE);
    assert_non_null(strstr(rl_writer_errmsg(w), "out of order"));
    assert_int_equal(rl_writer_put_chunk(w, p.jobs[2]), RL_ESTATE); /* sticky */
    assert_int_equal(rl_writer_close(w), RL_ESTATE);

    /* a job never put back: close finishes the file and says so */
    p.n = 0;
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    rl_writer_set_chunk_hook(w, hook, &p);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/a", "raw", NULL, 0, &cid), 0);
    assert_int_equal(rl_writer_write_message(w, cid, 0, 5, 5, "0123456789", 10), 0);
    assert_int_equal(rl_writer_write_message(w, cid, 1, 6, 6, "0123456789", 10), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(rl_writer_put_chunk(w, p.jobs[1]), 0);
    assert_int_equal(rl_writer_close(w), RL_ESTATE);
    rl_chunk_job_free(p.jobs[0]);
    rl_chunk_job_free(NULL);
    struct file *f = file_from(io);
    assert_int_equal(rl_io_close(io), 0);
    walk(f);
    assert_int_equal(count_op(f, RL_OP_CHUNK), 1);
    const struct rl_rec_statistics *st = &nth_op(f, RL_OP_STATISTICS, 0)->r.u.statistics;
    assert_int_equal(st->message_count, 1);
    assert_int_equal(st->message_start_time, 6);
    file_free(f);
}

/* Options that turn parts off leave them out. */
static void test_options_off(void **state)
{
    (void)state;
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_io *io;
    uint16_t cid;
    rl_writer_options_init(&o);
    o.emit_message_indexes = false;
    o.emit_chunk_crc = false;
    o.emit_data_crc = false;
    o.emit_summary = false;
    o.emit_summary_offsets = false;
    o.compression = RL_COMPRESS_LZ4;
    assert_int_equal(rl_io_membuf_open(&io, 1 << 20), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    assert_int_equal(rl_writer_add_channel(w, 0, 0, "/a", "raw", NULL, 0, &cid), 0);
    assert_int_equal(rl_writer_write_message(w, cid, 0, 1, 1, "abc", 3), 0);
    assert_int_equal(rl_writer_close(w), 0);
    struct file *f = file_from(io);
    assert_int_equal(rl_io_close(io), 0);
    walk(f);
    assert_int_equal(count_op(f, RL_OP_MESSAGE_INDEX), 0);
    assert_int_equal(count_op(f, RL_OP_CHANNEL), 1); /* data section only */
    assert_int_equal(count_op(f, RL_OP_SUMMARY_OFFSET), 0);
    assert_int_equal(count_op(f, RL_OP_CHUNK_INDEX), 1);
    assert_int_equal(nth_op(f, RL_OP_CHUNK_INDEX, 0)->r.u.chunk_index.message_index_length, 0);
    assert_int_equal(nth_op(f, RL_OP_CHUNK, 0)->r.u.chunk.uncompressed_crc, 0);
    assert_int_equal(nth_op(f, RL_OP_DATA_END, 0)->r.u.data_end.data_section_crc, 0);
    file_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_bytes),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_empty_files),
        cmocka_unit_test(test_chunk_split),
        cmocka_unit_test(test_compressions_roundtrip),
        cmocka_unit_test(test_compress_buffers),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_unchunked),
        cmocka_unit_test(test_fault_every_byte),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_pipeline_same_bytes),
        cmocka_unit_test(test_pipeline_misuse),
        cmocka_unit_test(test_options_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
