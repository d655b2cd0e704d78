/* The reader's memory bound (reader.h): reading in log-time order holds at
 * most chunk_cache decompressed chunks at once, and chunks waiting in the
 * merge keep only their 16-byte-per-message index, whatever the overlap.
 *
 * The worst case is built on purpose: 400 chunks written so that every
 * chunk overlaps every other in time (chunk k holds log_time k + 400*i).
 * Every message must come out in order, with rl_iter_peak_chunks() within
 * chunk_cache and rl_iter_peak_bytes() within a small multiple of the chunk
 * size plus 16 bytes per message. A plain in-order log needs at most two
 * chunks at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/io.h"
#include "roadlog/reader.h"
#include "roadlog/writer.h"

#define N_CHUNKS       400
#define MSGS_PER_CHUNK 50
#define N_MSGS         ((uint64_t)N_CHUNKS * MSGS_PER_CHUNK)
#define PAYLOAD        100
#define MEMBUF_CAP     ((size_t)256 << 20)
/* Slack for fixed-size state (heap, cursor arrays) in the bound. */
#define SLACK_BYTES ((size_t)64 << 10)

struct built {
    struct rl_io *io;         /* membuf holding the log */
    uint64_t max_chunk_bytes; /* largest compressed + uncompressed size of one chunk */
};

static void fill(uint8_t *p, uint64_t t)
{
    for (size_t i = 0; i < PAYLOAD; i++)
        p[i] = (uint8_t)(t * 131 + i);
}

/* overlapped: chunk k holds k + N_CHUNKS*i; else chunk k holds the k-th
 * run of consecutive times. */
static void build(struct built *b, bool overlapped)
{
    struct rl_writer *w;
    struct rl_writer_options o;
    rl_writer_options_init(&o);
    assert_int_equal(rl_io_membuf_open(&b->io, MEMBUF_CAP), 0);
    assert_int_equal(rl_writer_open_io(&w, b->io, false, &o), 0);
    assert_int_equal(rl_writer_add_channel(w, 1, 0, "/a", "raw", NULL, 0, NULL), 0);
    assert_int_equal(rl_writer_add_channel(w, 2, 0, "/b", "raw", NULL, 0, NULL), 0);
    uint8_t data[PAYLOAD];
    for (uint64_t k = 0; k < N_CHUNKS; k++) {
        for (uint64_t i = 0; i < MSGS_PER_CHUNK; i++) {
            uint64_t t = overlapped ? k + N_CHUNKS * i : k * MSGS_PER_CHUNK + i;
            fill(data, t);
            assert_int_equal(rl_writer_write_message(w, (uint16_t)(1 + t % 2), (uint32_t)t, t, t,
                                                     data, sizeof(data)),
                             0);
        }
        assert_int_equal(rl_writer_flush(w), 0);
    }
    assert_int_equal(rl_writer_close(w), 0);

    struct rl_reader *r;
    assert_int_equal(rl_reader_open_io(&r, b->io, false, NULL, NULL, 0), 0);
    assert_int_equal(rl_reader_chunk_count(r), N_CHUNKS);
    b->max_chunk_bytes = 0;
    for (size_t i = 0; i < rl_reader_chunk_count(r); i++) {
        const struct rl_chunk_info *ci = rl_reader_chunk_at(r, i);
        uint64_t n = ci->compressed_size + ci->uncompressed_size;
        if (n > b->max_chunk_bytes)
            b->max_chunk_bytes = n;
    }
    rl_reader_close(r);
}

/* Reads everything in time order; checks order, content and the bounds. */
static void read_bounded(const struct built *b, size_t cache, bool force_scan, size_t max_chunks)
{
    struct rl_reader_options o;
    rl_reader_options_init(&o);
    if (cache)
        o.chunk_cache = cache;
    o.force_scan = force_scan;
    size_t want_cache = cache ? cache : 4;
    struct rl_reader *r;
    char err[256] = "";
    int rc = rl_reader_open_io(&r, b->io, false, &o, err, sizeof(err));
    if (rc < 0)
        fail_msg("open: %s", err);
    struct rl_iter *it;
    assert_int_equal(rl_iter_new(r, NULL, &it), 0);
    struct rl_message m;
    uint64_t n = 0;
    uint8_t data[PAYLOAD];
    while ((rc = rl_iter_next(it, &m)) == 1) {
        if (m.log_time_ns != n)
            fail_msg("message %llu has log_time %llu", (unsigned long long)n,
                     (unsigned long long)m.log_time_ns);
        fill(data, n);
        assert_int_equal(m.len, PAYLOAD);
        assert_memory_equal(m.data, data, PAYLOAD);
        assert_int_equal(m.channel_id, 1 + n % 2);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, N_MSGS);

    size_t peak_chunks = rl_iter_peak_chunks(it);
    size_t peak_bytes = rl_iter_peak_bytes(it);
    size_t limit_chunks = max_chunks ? max_chunks : want_cache;
    /* Every held chunk with its compressed and decompressed buffers, grown
     * geometrically (x2), plus 16 bytes per message of index. */
    size_t limit_bytes =
        2 * (want_cache + 1) * (size_t)b->max_chunk_bytes + 16 * (size_t)N_MSGS + SLACK_BYTES;
    print_message("cache %zu%s: peak %zu chunks, %zu bytes (limits %zu, %zu; chunk %llu "
                  "bytes)\n",
                  want_cache, force_scan ? " scan" : "", peak_chunks, peak_bytes, limit_chunks,
                  limit_bytes, (unsigned long long)b->max_chunk_bytes);
    if (peak_chunks > limit_chunks)
        fail_msg("peak of %zu decompressed chunks, limit %zu", peak_chunks, limit_chunks);
    if (peak_bytes > limit_bytes)
        fail_msg("peak of %zu bytes, limit %zu", peak_bytes, limit_bytes);
    if (peak_chunks == 0 || peak_bytes == 0)
        fail_msg("peak counters not maintained (%zu chunks, %zu bytes)", peak_chunks, peak_bytes);
    rl_iter_free(it);
    rl_reader_close(r);
}

static void test_overlapped(void **state)
{
    (void)state;
    struct built b;
    build(&b, true);
    read_bounded(&b, 0, false, 0);
    read_bounded(&b, 1, false, 0);
    read_bounded(&b, 8, false, 0);
    read_bounded(&b, 0, true, 0);
    assert_int_equal(rl_io_close(b.io), 0);
}

static void test_in_order(void **state)
{
    (void)state;
    struct built b;
    build(&b, false);
    read_bounded(&b, 0, false, 2);
    read_bounded(&b, 0, true, 2);
    assert_int_equal(rl_io_close(b.io), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlapped),
        cmocka_unit_test(test_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
