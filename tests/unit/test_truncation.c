/* Cut-off and damaged logs: what a power loss, a full disk or a bad sector
 * leaves behind must open, iterate and recover without losing more than the
 * chunk in flight (architecture.md, "The log file is MCAP").
 *
 * A small multi-chunk log (3 channels, 6 chunks, a metadata record and an
 * attachment) is built in memory, zstd-compressed, uncompressed and
 * unchunked, and
 *   - every prefix of it, byte by byte, is opened, iterated, walked and
 *     recovered: prefixes shorter than magic + Header fail cleanly; longer
 *     ones return exactly the messages of the chunks (or, unchunked, the
 *     Message records) wholly inside the prefix, and recover into a
 *     complete file that verifies clean;
 *   - a bit flipped inside each chunk's compressed bytes is reported by
 *     rl_reader_verify() at that chunk's offset, and every other chunk's
 *     messages still come out;
 *   - junk (empty, one byte, random bytes, a record longer than the file)
 *     fails to open with a message and leaks nothing (run under ASan). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "roadlog/io.h"
#include "roadlog/reader.h"
#include "roadlog/writer.h"

#define N_CHANNELS     3
#define N_CHUNKS       6
#define MSGS_PER_CHUNK 12
#define N_MSGS         (N_CHUNKS * MSGS_PER_CHUNK)
#define MAX_DATA       48
#define MEMBUF_CAP     ((size_t)16 << 20)

struct msg {
    uint16_t channel_id;
    uint32_t sequence;
    uint64_t log_time, publish_time;
    uint8_t data[MAX_DATA];
    size_t len;
    uint64_t chunk_offset;
};

struct log {
    uint8_t *data;
    size_t len;
    size_t header_end; /* magic + Header record */
    size_t n_chunks;
    uint64_t chunk_off[N_CHUNKS], chunk_end[N_CHUNKS];
    struct msg msgs[N_MSGS]; /* all messages, log-time order */
    size_t n_msgs;
    /* Where each message becomes readable: the end of its chunk, or of its
     * own record when the log is unchunked. */
    uint64_t msg_end[N_MSGS];
};

struct problems {
    int count;
    uint64_t offsets[64];
    char first[300];
};

static void on_problem(void *ud, int code, uint64_t offset, const char *msg)
{
    struct problems *p = ud;
    if (p->count < 64)
        p->offsets[p->count] = offset;
    if (p->count++ == 0)
        snprintf(p->first, sizeof(p->first), "%s (%s)", msg, rl_strerror(code));
}

static void reader_opts(struct rl_reader_options *o, struct problems *p)
{
    rl_reader_options_init(o);
    memset(p, 0, sizeof(*p));
    o->problem = on_problem;
    o->problem_ud = p;
}

/* Iterates all messages of r in log-time order into out (cap n). */
static size_t read_all(struct rl_reader *r, struct msg *out, size_t cap)
{
    struct rl_iter *it;
    struct rl_message m;
    size_t n = 0;
    int rc;
    assert_int_equal(rl_iter_new(r, NULL, &it), 0);
    while ((rc = rl_iter_next(it, &m)) == 1) {
        assert_true(n < cap);
        assert_true(m.len <= MAX_DATA);
        out[n].channel_id = m.channel_id;
        out[n].sequence = m.sequence;
        out[n].log_time = m.log_time_ns;
        out[n].publish_time = m.publish_time_ns;
        out[n].len = m.len;
        memcpy(out[n].data, m.data, m.len);
        out[n].chunk_offset = m.chunk_offset;
        n++;
    }
    if (rc < 0)
        fail_msg("rl_iter_next: %s (%s)", rl_reader_errmsg(r), rl_strerror(rc));
    rl_iter_free(it);
    return n;
}

static void expect_same(const char *what, const struct msg *want, size_t n_want,
                        const struct msg *got, size_t n_got)
{
    if (n_want != n_got)
        fail_msg("%s: expected %zu messages, got %zu", what, n_want, n_got);
    for (size_t i = 0; i < n_want; i++) {
        const struct msg *a = &want[i], *b = &got[i];
        if (a->channel_id != b->channel_id || a->sequence != b->sequence ||
            a->log_time != b->log_time || a->publish_time != b->publish_time || a->len != b->len ||
            memcmp(a->data, b->data, a->len) != 0)
            fail_msg("%s: message %zu differs: expected ch %u seq %u t %llu, got ch %u seq %u "
                     "t %llu",
                     what, i, a->channel_id, a->sequence, (unsigned long long)a->log_time,
                     b->channel_id, b->sequence, (unsigned long long)b->log_time);
    }
}

static uint64_t chunk_end_of(const struct log *lg, uint64_t chunk_offset);

static void build_log(struct log *lg, enum rl_compression comp, bool chunked)
{
    memset(lg, 0, sizeof(*lg));
    struct rl_io *io;
    struct rl_writer *w;
    struct rl_writer_options o;
    rl_writer_options_init(&o);
    o.compression = comp;
    o.use_chunks = chunked;
    o.profile = "roadlog-test";
    assert_int_equal(rl_io_membuf_open(&io, MEMBUF_CAP), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    static const uint8_t schema[] = "{\"type\":\"object\"}";
    uint16_t sid;
    assert_int_equal(
        rl_writer_add_schema(w, 0, "test.Frame", "jsonschema", schema, sizeof(schema) - 1, &sid),
        0);
    static const char *const topics[N_CHANNELS] = {"/lidar/top", "/can/chassis", "/gnss/main"};
    struct rl_kv meta[2] = {{"interface", "eth0"}, {"linktype", "1"}};
    for (int c = 0; c < N_CHANNELS; c++)
        assert_int_equal(rl_writer_add_channel(w, (uint16_t)(c + 1), c == 2 ? 0 : sid, topics[c],
                                               "raw", meta, c == 0 ? 2 : 0, NULL),
                         0);
    struct rl_kv run[2] = {{"site", "test-zone"}, {"vehicle", "car-7"}};
    assert_int_equal(rl_writer_write_metadata(w, "roadlog.run", run, 2), 0);
    uint32_t seq[N_CHANNELS] = {0};
    for (int k = 0; k < N_CHUNKS; k++) {
        for (int j = 0; j < MSGS_PER_CHUNK; j++) {
            uint16_t ch = (uint16_t)(j % N_CHANNELS + 1);
            uint8_t data[MAX_DATA];
            size_t len = (size_t)(5 + (j * 7 + k * 3) % (MAX_DATA - 5));
            for (size_t b = 0; b < len; b++)
                data[b] = (uint8_t)(k * 31 + j * 7 + b);
            uint64_t t = 1000000u * (uint64_t)(k + 1) + 1000u * (uint64_t)j;
            assert_int_equal(rl_writer_write_message(w, ch, seq[ch - 1]++, t, t - 5, data, len), 0);
        }
        assert_int_equal(rl_writer_flush(w), 0);
        if (k == 2) {
            static const uint8_t dbc[] = "BO_ 256 ENGINE: 8 ECU";
            assert_int_equal(rl_writer_write_attachment(w, 2500000, 2400000, "chassis.dbc",
                                                        "text/plain", dbc, sizeof(dbc) - 1),
                             0);
        }
    }
    assert_int_equal(rl_writer_close(w), 0);
    size_t len;
    const uint8_t *data = rl_io_membuf_data(io, &len);
    lg->data = malloc(len);
    assert_non_null(lg->data);
    memcpy(lg->data, data, len);
    lg->len = len;
    assert_int_equal(rl_io_close(io), 0);

    /* magic + Header */
    assert_true(len > RL_MCAP_MAGIC_LEN + RL_MCAP_RECORD_HEADER_LEN);
    assert_int_equal(lg->data[RL_MCAP_MAGIC_LEN], RL_OP_HEADER);
    lg->header_end = RL_MCAP_MAGIC_LEN + RL_MCAP_RECORD_HEADER_LEN +
                     (size_t)rl__get_u64le(lg->data + RL_MCAP_MAGIC_LEN + 1);

    /* The reference: the complete file through the reader. */
    struct rl_reader *r;
    struct rl_reader_options ro;
    struct problems p;
    reader_opts(&ro, &p);
    assert_int_equal(rl_io_mem_open(&io, lg->data, lg->len), 0);
    assert_int_equal(rl_reader_open_io(&r, io, true, &ro, NULL, 0), 0);
    struct rl_file_info info;
    rl_reader_file_info(r, &info);
    assert_true(info.complete);
    lg->n_chunks = rl_reader_chunk_count(r);
    if (chunked)
        assert_int_equal(lg->n_chunks, N_CHUNKS);
    assert_true(lg->n_chunks <= N_CHUNKS);
    for (size_t i = 0; i < lg->n_chunks; i++) {
        const struct rl_chunk_info *ci = rl_reader_chunk_at(r, i);
        assert_int_equal(ci->raw_messages, !chunked);
        lg->chunk_off[i] = ci->offset;
        lg->chunk_end[i] = ci->offset + ci->length;
    }
    lg->n_msgs = read_all(r, lg->msgs, N_MSGS);
    assert_int_equal(lg->n_msgs, N_MSGS);
    if (chunked) {
        for (size_t i = 0; i < lg->n_msgs; i++)
            lg->msg_end[i] = chunk_end_of(lg, lg->msgs[i].chunk_offset);
    } else {
        /* Messages were written in time order: the k-th Message record of
         * the data section is msgs[k]. */
        struct rl_io *wio;
        struct rl_record_walk *wk;
        struct rl_walk_item item;
        size_t k = 0;
        int wrc;
        assert_int_equal(rl_io_mem_open(&wio, lg->data, lg->len), 0);
        assert_int_equal(rl_record_walk_new(wio, &wk, NULL, 0), 0);
        while ((wrc = rl_record_walk_next(wk, &item)) == 1) {
            if (item.rec.opcode == RL_OP_DATA_END)
                break;
            if (item.rec.opcode != RL_OP_MESSAGE)
                continue;
            assert_true(k < lg->n_msgs);
            assert_int_equal(item.rec.u.message.log_time, lg->msgs[k].log_time);
            lg->msg_end[k++] = item.offset + RL_MCAP_RECORD_HEADER_LEN + item.rec.content.len;
        }
        assert_true(wrc >= 0);
        assert_int_equal(k, lg->n_msgs);
        rl_record_walk_free(wk);
        assert_int_equal(rl_io_close(wio), 0);
    }
    assert_int_equal(rl_reader_verify(r), 0);
    assert_int_equal(p.count, 0);
    rl_reader_close(r);
}

static uint64_t chunk_end_of(const struct log *lg, uint64_t chunk_offset)
{
    for (size_t i = 0; i < lg->n_chunks; i++)
        if (lg->chunk_off[i] == chunk_offset)
            return lg->chunk_end[i];
    fail_msg("message from an unknown chunk at offset %llu", (unsigned long long)chunk_offset);
    return 0;
}

/* Recovers r into a fresh file and checks it is complete, clean and holds
 * want[]. */
static void check_recover(const char *what, struct rl_reader *r, const struct msg *want,
                          size_t n_want, uint64_t damaged)
{
    static struct msg got[N_MSGS];
    struct rl_io *io;
    struct rl_writer *w;
    struct rl_recover_report rep;
    assert_int_equal(rl_io_membuf_open(&io, MEMBUF_CAP), 0);
    assert_int_equal(rl_writer_open_io(&w, io, false, NULL), 0);
    int rc = rl_recover_copy(r, w, &rep);
    if (rc < 0)
        fail_msg("%s: rl_recover_copy: %s", what, rl_strerror(rc));
    assert_int_equal(rl_writer_close(w), 0);
    if (rep.messages != n_want || rep.chunks_damaged != damaged)
        fail_msg("%s: recover copied %llu messages (%llu damaged chunks), expected %zu (%llu)",
                 what, (unsigned long long)rep.messages, (unsigned long long)rep.chunks_damaged,
                 n_want, (unsigned long long)damaged);

    struct rl_reader *r2;
    struct rl_reader_options ro;
    struct problems p;
    char err[256] = "";
    reader_opts(&ro, &p);
    rc = rl_reader_open_io(&r2, io, false, &ro, err, sizeof(err));
    if (rc < 0)
        fail_msg("%s: reopening the recovered file: %s", what, err);
    struct rl_file_info info;
    rl_reader_file_info(r2, &info);
    if (!info.complete)
        fail_msg("%s: the recovered file is not complete", what);
    int64_t bad = rl_reader_verify(r2);
    if (bad != 0 || p.count != 0)
        fail_msg("%s: the recovered file has %lld problems: %s", what, (long long)bad, p.first);
    size_t n = read_all(r2, got, N_MSGS);
    expect_same(what, want, n_want, got, n);
    rl_reader_close(r2);
    assert_int_equal(rl_io_close(io), 0);
}

static void check_prefix(const struct log *lg, size_t cut)
{
    static struct msg want[N_MSGS], got[N_MSGS];
    char what[96];
    snprintf(what, sizeof(what), "prefix of %zu of %zu bytes", cut, lg->len);
    struct rl_io *io;
    struct rl_reader *r;
    struct rl_reader_options ro;
    struct problems p;
    char err[256] = "";
    reader_opts(&ro, &p);

    /* The walker never reads past the prefix and fails cleanly. */
    struct rl_record_walk *wk;
    assert_int_equal(rl_io_mem_open(&io, lg->data, cut), 0);
    if (rl_record_walk_new(io, &wk, err, sizeof(err)) == 0) {
        struct rl_walk_item item;
        int rc;
        while ((rc = rl_record_walk_next(wk, &item)) == 1)
            ;
        if (cut < lg->len && rc != RL_ETRUNC)
            fail_msg("%s: walk ended with %d (%s), not RL_ETRUNC", what, rc,
                     rl_record_walk_errmsg(wk));
        if (cut == lg->len && rc != 0)
            fail_msg("%s: walk failed: %s", what, rl_record_walk_errmsg(wk));
        rl_record_walk_free(wk);
    } else if (cut >= RL_MCAP_MAGIC_LEN) {
        fail_msg("%s: rl_record_walk_new failed: %s", what, err);
    }
    assert_int_equal(rl_io_close(io), 0);

    assert_int_equal(rl_io_mem_open(&io, lg->data, cut), 0);
    err[0] = '\0';
    int rc = rl_reader_open_io(&r, io, true, &ro, err, sizeof(err));
    if (cut < lg->header_end) {
        if (rc >= 0)
            fail_msg("%s: opened, but it is shorter than magic + Header", what);
        if (err[0] == '\0')
            fail_msg("%s: open failed (%s) without a message", what, rl_strerror(rc));
        return;
    }
    if (rc < 0)
        fail_msg("%s: open failed: %s (%s)", what, err, rl_strerror(rc));

    size_t n_want = 0;
    for (size_t i = 0; i < lg->n_msgs; i++)
        if (lg->msg_end[i] <= cut)
            want[n_want++] = lg->msgs[i];
    size_t n = read_all(r, got, N_MSGS);
    expect_same(what, want, n_want, got, n);

    struct rl_file_info info;
    rl_reader_file_info(r, &info);
    if (cut < lg->len) {
        assert_false(info.complete);
        /* The cut itself is a problem verify reports. */
        int64_t bad = rl_reader_verify(r);
        if (bad < 1)
            fail_msg("%s: verify found %lld problems in a cut-off file", what, (long long)bad);
    }
    check_recover(what, r, want, n_want, 0);
    rl_reader_close(r);
}

static void run_prefixes(enum rl_compression comp, bool chunked)
{
    static struct log lg;
    build_log(&lg, comp, chunked);
    print_message("%s log: %zu bytes, %zu chunks ending at %llu..%llu, Header ends at %zu\n",
                  !chunked                   ? "unchunked"
                  : comp == RL_COMPRESS_NONE ? "uncompressed"
                                             : "zstd",
                  lg.len, lg.n_chunks, (unsigned long long)lg.chunk_end[0],
                  (unsigned long long)lg.chunk_end[lg.n_chunks - 1], lg.header_end);
    for (size_t cut = 0; cut <= lg.len; cut++)
        check_prefix(&lg, cut);
    free(lg.data);
}

static void test_prefixes_zstd(void **state)
{
    (void)state;
    run_prefixes(RL_COMPRESS_ZSTD, true);
}

static void test_prefixes_none(void **state)
{
    (void)state;
    run_prefixes(RL_COMPRESS_NONE, true);
}

static void test_prefixes_unchunked(void **state)
{
    (void)state;
    run_prefixes(RL_COMPRESS_NONE, false);
}

/* ---- flipped bits ---- */

static void run_bitflips(enum rl_compression comp)
{
    static struct log lg;
    static struct msg want[N_MSGS], got[N_MSGS];
    build_log(&lg, comp, true);
    uint8_t *copy = malloc(lg.len);
    assert_non_null(copy);
    for (size_t k = 0; k < lg.n_chunks; k++) {
        char what[96];
        snprintf(what, sizeof(what), "bit flipped in chunk %zu at offset %llu", k,
                 (unsigned long long)lg.chunk_off[k]);
        memcpy(copy, lg.data, lg.len);
        /* Find the chunk's compressed bytes through the parser. */
        const uint8_t *content = copy + lg.chunk_off[k] + RL_MCAP_RECORD_HEADER_LEN;
        size_t clen = (size_t)(lg.chunk_end[k] - lg.chunk_off[k] - RL_MCAP_RECORD_HEADER_LEN);
        struct rl_record rec;
        assert_int_equal(rl_mcap_parse(RL_OP_CHUNK, content, clen, &rec, NULL, 0), 0);
        assert_true(rec.u.chunk.records.len > 4);
        size_t at = (size_t)(rec.u.chunk.records.ptr - copy) + rec.u.chunk.records.len / 2;
        copy[at] ^= 0x10;

        struct rl_io *io;
        struct rl_reader *r;
        struct rl_reader_options ro;
        struct problems p;
        char err[256] = "";
        reader_opts(&ro, &p);
        assert_int_equal(rl_io_mem_open(&io, copy, lg.len), 0);
        int rc = rl_reader_open_io(&r, io, true, &ro, err, sizeof(err));
        if (rc < 0)
            fail_msg("%s: open failed: %s", what, err);

        int64_t bad = rl_reader_verify(r);
        if (bad < 1)
            fail_msg("%s: verify found no problem", what);
        bool named = false;
        for (int i = 0; i < p.count && i < 64; i++)
            named = named || p.offsets[i] == lg.chunk_off[k];
        if (!named)
            fail_msg("%s: no problem names the chunk's offset (first: %s)", what, p.first);

        size_t n_want = 0;
        for (size_t i = 0; i < lg.n_msgs; i++)
            if (lg.msgs[i].chunk_offset != lg.chunk_off[k])
                want[n_want++] = lg.msgs[i];
        size_t n = read_all(r, got, N_MSGS);
        expect_same(what, want, n_want, got, n);
        check_recover(what, r, want, n_want, 1);
        rl_reader_close(r);
    }
    free(copy);
    free(lg.data);
}

static void test_bitflip_zstd(void **state)
{
    (void)state;
    run_bitflips(RL_COMPRESS_ZSTD);
}

static void test_bitflip_none(void **state)
{
    (void)state;
    run_bitflips(RL_COMPRESS_NONE);
}

/* ---- junk ---- */

/* xorshift64*: a fixed-seed PRNG so failures reproduce. */
static uint64_t prng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Opens data; expects failure with a message when must_fail. Whatever
 * opens is iterated, verified and recovered without crashing. */
static void poke(const char *what, const uint8_t *data, size_t len, bool must_fail)
{
    struct rl_io *io;
    struct rl_reader *r;
    struct rl_reader_options ro;
    struct problems p;
    char err[256] = "";
    reader_opts(&ro, &p);
    assert_int_equal(rl_io_mem_open(&io, data, len), 0);
    int rc = rl_reader_open_io(&r, io, true, &ro, err, sizeof(err));
    if (must_fail) {
        if (rc >= 0)
            fail_msg("%s: opened", what);
        if (err[0] == '\0')
            fail_msg("%s: failed (%s) without a message", what, rl_strerror(rc));
    }
    if (rc == 0) {
        static struct msg got[4096];
        (void)read_all(r, got, 4096);
        assert_true(rl_reader_verify(r) >= 0);
        struct rl_io *out;
        struct rl_writer *w;
        struct rl_recover_report rep;
        assert_int_equal(rl_io_membuf_open(&out, MEMBUF_CAP), 0);
        assert_int_equal(rl_writer_open_io(&w, out, true, NULL), 0);
        assert_int_equal(rl_recover_copy(r, w, &rep), 0);
        assert_int_equal(rl_writer_close(w), 0);
        rl_reader_close(r);
    }

    /* The walker too. */
    assert_int_equal(rl_io_mem_open(&io, data, len), 0);
    struct rl_record_walk *wk;
    if (rl_record_walk_new(io, &wk, err, sizeof(err)) == 0) {
        struct rl_walk_item item;
        while ((rc = rl_record_walk_next(wk, &item)) == 1)
            ;
        if (must_fail && rc == 0)
            fail_msg("%s: the walk succeeded", what);
        rl_record_walk_free(wk);
    }
    assert_int_equal(rl_io_close(io), 0);
}

static void test_junk(void **state)
{
    (void)state;
    static uint8_t buf[8192];
    uint64_t seed = 0x9E3779B97F4A7C15ULL;

    poke("empty file", buf, 0, true);
    buf[0] = 0x89;
    poke("one byte", buf, 1, true);
    for (int round = 0; round < 64; round++) {
        size_t len = (size_t)(prng(&seed) % sizeof(buf));
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)prng(&seed);
        poke("random bytes", buf, len, true);
        /* The same after a valid magic: no Header there, so it must fail
         * unless the random record happens to be one. */
        if (len > RL_MCAP_MAGIC_LEN) {
            memcpy(buf, rl_mcap_magic, RL_MCAP_MAGIC_LEN);
            poke("magic + random bytes", buf, len, false);
        }
    }

    /* Valid magic, then a Header whose length runs past the file. */
    memcpy(buf, rl_mcap_magic, RL_MCAP_MAGIC_LEN);
    buf[8] = RL_OP_HEADER;
    rl__put_u64le(buf + 9, 99999);
    memset(buf + 17, 0, 64);
    poke("magic + oversized header", buf, 17 + 64, true);
    rl__put_u64le(buf + 9, UINT64_MAX);
    poke("magic + header of length 2^64-1", buf, 17 + 64, true);

    /* Valid magic and Header, then random records. */
    static struct log lg;
    build_log(&lg, RL_COMPRESS_ZSTD, true);
    for (int round = 0; round < 64; round++) {
        size_t len = lg.header_end + (size_t)(prng(&seed) % 2048);
        memcpy(buf, lg.data, lg.header_end);
        for (size_t i = lg.header_end; i < len; i++)
            buf[i] = (uint8_t)prng(&seed);
        poke("header + random bytes", buf, len, false);
    }
    /* A real log with one huge record length after the Header. */
    memcpy(buf, lg.data, lg.len < sizeof(buf) ? lg.len : sizeof(buf));
    rl__put_u64le(buf + lg.header_end + 1, (uint64_t)1 << 40);
    poke("record longer than the file", buf, lg.len < sizeof(buf) ? lg.len : sizeof(buf), false);
    free(lg.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_junk),          cmocka_unit_test(test_bitflip_zstd),
        cmocka_unit_test(test_bitflip_none),  cmocka_unit_test(test_prefixes_zstd),
        cmocka_unit_test(test_prefixes_none), cmocka_unit_test(test_prefixes_unchunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
