/* Unit tests of the chunk pipeline (recorder/src/pipeline.c): with 1, 2 and
 * 4 workers, and with back-pressure from a one-job budget, the file is byte
 * for byte the one the writer writes alone, and reads back with every
 * message identical and in order; several producers at once; -EAGAIN from
 * the try variant while the disk is stuck (a gated I/O backend, waited on
 * with condition variables, no sleeps); a write failure (ENOSPC) reported
 * by the pipeline and its close without hanging or leaking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/io.h"
#include "roadlog/pipeline.h"
#include "roadlog/reader.h"
#include "roadlog/writer.h"

#define N_MSGS      3000
#define N_CHANNELS  3
#define MAX_PAYLOAD 3000
#define CHUNK_BYTES (16u << 10)
#define FILE_CAP    (64u << 20)

/* ---- the message stream ---- */

struct msg {
    uint16_t channel; /* index 0..N_CHANNELS-1 */
    uint32_t sequence;
    uint64_t log_time, publish_time;
    size_t len;
};

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* Message i: channel, sizes from 0 to MAX_PAYLOAD, times mostly rising
 * with some going back (so chunks must sort their indexes). */
static struct msg msg_at(uint32_t i)
{
    struct msg m;
    uint32_t h = mix(i + 1);
    m.channel = (uint16_t)(h % N_CHANNELS);
    m.sequence = i;
    m.log_time = 1000000000ull + (uint64_t)i * 1000 - (h % 7 == 0 ? 2500 : 0);
    m.publish_time = m.log_time + (h >> 20);
    m.len = (h >> 8) % (MAX_PAYLOAD + 1);
    return m;
}

static void fill_payload(uint32_t i, uint8_t *buf, size_t len)
{
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)(mix(i * 7919u + (uint32_t)(k / 16)) + k);
}

/* ---- writing ---- */

static void init_opts(struct rl_writer_options *o)
{
    rl_writer_options_init(o);
    o->level = 1;
    o->chunk_size_bytes = CHUNK_BYTES;
}

static void add_channels(struct rl_writer *w, struct rl_pipeline *p, uint16_t *ids)
{
    static const char *const topics[N_CHANNELS] = {"/lidar/top", "/gnss/main", "/can/chassis"};
    const struct rl_kv meta[] = {{"linktype", "1"}, {"interface", "eth0"}};
    for (int c = 0; c < N_CHANNELS; c++) {
        if (p)
            assert_int_equal(rl_pipeline_add_channel(p, 0, 0, topics[c], "", meta, 2, &ids[c]), 0);
        else
            assert_int_equal(rl_writer_add_channel(w, 0, 0, topics[c], "", meta, 2, &ids[c]), 0);
    }
}

/* Writes messages [from, to) through p, or straight to w when p is NULL. */
static void write_range(struct rl_writer *w, struct rl_pipeline *p, const uint16_t *ids,
                        uint32_t from, uint32_t to)
{
    uint8_t buf[MAX_PAYLOAD];
    for (uint32_t i = from; i < to; i++) {
        struct msg m = msg_at(i);
        fill_payload(i, buf, m.len);
        uint16_t ch = ids[m.channel];
        if (p)
            assert_int_equal(rl_pipeline_write_message(p, ch, m.sequence, m.log_time,
                                                       m.publish_time, buf, m.len),
                             0);
        else
            assert_int_equal(
                rl_writer_write_message(w, ch, m.sequence, m.log_time, m.publish_time, buf, m.len),
                0);
    }
}

static const struct rl_kv run_meta[] = {{"site", "test-zone"}, {"vehicle", "v1"}};
static const uint8_t attachment[] = "VERSION \"\"\n";

/* The whole file: channels, the first half of the messages, a metadata
 * record, the rest, an attachment. With workers == 0 the writer alone. */
static void write_file(struct rl_io *io, unsigned workers, unsigned max_inflight)
{
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_pipeline *p = NULL;
    uint16_t ids[N_CHANNELS];

    init_opts(&o);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    if (workers > 0)
        assert_int_equal(rl_pipeline_open(&p, w, workers, max_inflight), 0);
    add_channels(w, p, ids);
    write_range(w, p, ids, 0, N_MSGS / 2);
    if (p)
        assert_int_equal(rl_pipeline_write_metadata(p, "roadlog.run", run_meta, 2), 0);
    else
        assert_int_equal(rl_writer_write_metadata(w, "roadlog.run", run_meta, 2), 0);
    write_range(w, p, ids, N_MSGS / 2, N_MSGS);
    if (p) {
        assert_int_equal(rl_pipeline_write_attachment(p, 5, 6, "car.dbc", "text/plain", attachment,
                                                      sizeof(attachment)),
                         0);
        assert_true(rl_pipeline_peak_inflight(p) >= 1);
        if (max_inflight > 0)
            assert_true(rl_pipeline_peak_inflight(p) <= max_inflight + 2);
        assert_int_equal(rl_pipeline_close(p), 0);
    } else {
        assert_int_equal(rl_writer_write_attachment(w, 5, 6, "car.dbc", "text/plain", attachment,
                                                    sizeof(attachment)),
                         0);
    }
    assert_int_equal(rl_writer_close(w), 0);
}

/* ---- reading ---- */

struct got {
    uint16_t channel_id;
    uint32_t sequence;
    uint64_t log_time, publish_time;
    uint8_t *data;
    size_t len;
};

struct stream {
    struct got *m;
    size_t n;
};

static void stream_release(struct stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->m[i].data);
    free(s->m);
}

/* Reads every message of data in the given order; the file must be
 * complete and pass rl_reader_verify(). */
static void read_stream(const uint8_t *data, size_t len, enum rl_order order, struct stream *s)
{
    struct rl_io *io;
    struct rl_reader *r;
    struct rl_iter *it;
    struct rl_iter_options io_opts;
    struct rl_file_info fi;
    struct rl_message m;
    char err[256];
    int rc;

    assert_int_equal(rl_io_mem_open(&io, data, len), 0);
    assert_int_equal(rl_reader_open_io(&r, io, true, NULL, err, sizeof(err)), 0);
    rl_reader_file_info(r, &fi);
    assert_true(fi.complete);
    assert_int_equal(rl_reader_verify(r), 0);
    rl_iter_options_init(&io_opts);
    io_opts.order = order;
    assert_int_equal(rl_iter_new(r, &io_opts, &it), 0);
    s->m = calloc(N_MSGS, sizeof(*s->m));
    assert_non_null(s->m);
    s->n = 0;
    while ((rc = rl_iter_next(it, &m)) == 1) {
        assert_true(s->n < N_MSGS);
        struct got *g = &s->m[s->n++];
        g->channel_id = m.channel_id;
        g->sequence = m.sequence;
        g->log_time = m.log_time_ns;
        g->publish_time = m.publish_time_ns;
        g->len = m.len;
        g->data = malloc(m.len + 1);
        assert_non_null(g->data);
        memcpy(g->data, m.data, m.len);
    }
    assert_int_equal(rc, 0);
    rl_iter_free(it);
    rl_reader_close(r);
}

static void assert_streams_equal(const struct stream *a, const struct stream *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->m[i].channel_id, b->m[i].channel_id);
        assert_int_equal(a->m[i].sequence, b->m[i].sequence);
        assert_int_equal(a->m[i].log_time, b->m[i].log_time);
        assert_int_equal(a->m[i].publish_time, b->m[i].publish_time);
        assert_int_equal(a->m[i].len, b->m[i].len);
        assert_memory_equal(a->m[i].data, b->m[i].data, a->m[i].len);
    }
}

/* In file order the messages are exactly those written, in write order. */
static void assert_stream_is_input(const struct stream *s)
{
    uint8_t buf[MAX_PAYLOAD];
    assert_int_equal(s->n, N_MSGS);
    for (uint32_t i = 0; i < N_MSGS; i++) {
        struct msg m = msg_at(i);
        fill_payload(i, buf, m.len);
        assert_int_equal(s->m[i].channel_id, m.channel + 1);
        assert_int_equal(s->m[i].sequence, m.sequence);
        assert_int_equal(s->m[i].log_time, m.log_time);
        assert_int_equal(s->m[i].publish_time, m.publish_time);
        assert_int_equal(s->m[i].len, m.len);
        assert_memory_equal(s->m[i].data, buf, m.len);
    }
}

/* ---- tests ---- */

static void check_against_writer(unsigned workers, unsigned max_inflight)
{
    struct rl_io *ref, *out;
    size_t ref_len, out_len;

    assert_int_equal(rl_io_membuf_open(&ref, FILE_CAP), 0);
    assert_int_equal(rl_io_membuf_open(&out, FILE_CAP), 0);
    write_file(ref, 0, 0);
    write_file(out, workers, max_inflight);
    const uint8_t *a = rl_io_membuf_data(ref, &ref_len);
    const uint8_t *b = rl_io_membuf_data(out, &out_len);

    /* Jobs are appended in order with the same compression: same bytes. */
    assert_int_equal(ref_len, out_len);
    assert_memory_equal(a, b, ref_len);

    for (int order = 0; order < 2; order++) {
        struct stream sa, sb;
        enum rl_order o = order == 0 ? RL_ORDER_FILE : RL_ORDER_LOG_TIME;
        read_stream(a, ref_len, o, &sa);
        read_stream(b, out_len, o, &sb);
        assert_streams_equal(&sa, &sb);
        if (o == RL_ORDER_FILE)
            assert_stream_is_input(&sb);
        for (size_t i = 1; o == RL_ORDER_LOG_TIME && i < sb.n; i++)
            assert_true(sb.m[i - 1].log_time <= sb.m[i].log_time);
        stream_release(&sa);
        stream_release(&sb);
    }
    assert_int_equal(rl_io_close(ref), 0);
    assert_int_equal(rl_io_close(out), 0);
}

static void test_one_worker(void **state)
{
    (void)state;
    check_against_writer(1, 0);
}

static void test_two_workers(void **state)
{
    (void)state;
    check_against_writer(2, 0);
}

static void test_four_workers(void **state)
{
    (void)state;
    check_against_writer(4, 0);
}

static void test_back_pressure(void **state)
{
    (void)state;
    check_against_writer(4, 1);
    check_against_writer(2, 2);
}

static void test_open_bad_args(void **state)
{
    struct rl_writer *w;
    struct rl_io *io;
    struct rl_pipeline *p = NULL;

    (void)state;
    assert_int_equal(rl_io_membuf_open(&io, FILE_CAP), 0);
    assert_int_equal(rl_writer_open_io(&w, io, true, NULL), 0);
    assert_int_equal(rl_pipeline_open(&p, w, 0, 0), -EINVAL);
    assert_null(p);
    assert_int_equal(rl_pipeline_open(&p, w, RL_PIPELINE_MAX_WORKERS + 1, 0), -EINVAL);
    assert_int_equal(rl_pipeline_open(&p, w, 1, RL_PIPELINE_MAX_INFLIGHT + 1), -EINVAL);
    assert_int_equal(rl_pipeline_close(NULL), 0);
    /* A pipeline opened and closed with nothing written leaves the writer usable. */
    assert_int_equal(rl_pipeline_open(&p, w, 2, 0), 0);
    assert_int_equal(rl_pipeline_inflight(p), 0);
    assert_int_equal(rl_pipeline_close(p), 0);
    assert_int_equal(rl_writer_close(w), 0);
}

/* Several producers at once, each on its own channel: every message
 * arrives, and each channel's messages keep their order. */
struct producer {
    struct rl_pipeline *p;
    uint16_t channel_id;
    uint32_t count;
};

static void *producer_main(void *arg)
{
    struct producer *pr = arg;
    uint8_t buf[512];
    for (uint32_t i = 0; i < pr->count; i++) {
        memset(buf, (int)(i & 0xff), sizeof(buf));
        if (rl_pipeline_write_message(pr->p, pr->channel_id, i, 1000 + i, 1000 + i, buf,
                                      sizeof(buf)) != 0)
            return pr;
    }
    return NULL;
}

static void test_concurrent_producers(void **state)
{
    (void)state;
    struct rl_io *io;
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_pipeline *p;
    uint16_t ids[N_CHANNELS];
    pthread_t th[N_CHANNELS];
    struct producer pr[N_CHANNELS];
    const uint32_t per = 2000;

    assert_int_equal(rl_io_membuf_open(&io, FILE_CAP), 0);
    init_opts(&o);
    assert_int_equal(rl_writer_open_io(&w, io, false, &o), 0);
    assert_int_equal(rl_pipeline_open(&p, w, 2, 2), 0);
    add_channels(w, p, ids);
    for (int c = 0; c < N_CHANNELS; c++) {
        pr[c] = (struct producer){p, ids[c], per};
        assert_int_equal(pthread_create(&th[c], NULL, producer_main, &pr[c]), 0);
    }
    for (int c = 0; c < N_CHANNELS; c++) {
        void *res;
        assert_int_equal(pthread_join(th[c], &res), 0);
        assert_null(res);
    }
    assert_int_equal(rl_pipeline_close(p), 0);
    assert_int_equal(rl_writer_close(w), 0);

    size_t len;
    const uint8_t *data = rl_io_membuf_data(io, &len);
    struct rl_io *rio;
    struct rl_reader *r;
    struct rl_iter *it;
    struct rl_iter_options io_opts;
    struct rl_message m;
    uint32_t next[N_CHANNELS] = {0};
    char err[256];
    int rc;
    assert_int_equal(rl_io_mem_open(&rio, data, len), 0);
    assert_int_equal(rl_reader_open_io(&r, rio, true, NULL, err, sizeof(err)), 0);
    assert_int_equal(rl_reader_verify(r), 0);
    rl_iter_options_init(&io_opts);
    io_opts.order = RL_ORDER_FILE;
    assert_int_equal(rl_iter_new(r, &io_opts, &it), 0);
    while ((rc = rl_iter_next(it, &m)) == 1) {
        int c = m.channel_id - ids[0];
        assert_true(c >= 0 && c < N_CHANNELS);
        assert_int_equal(m.sequence, next[c]);
        assert_int_equal(m.len, 512);
        assert_int_equal(m.data[511], next[c] & 0xff);
        next[c]++;
    }
    assert_int_equal(rc, 0);
    for (int c = 0; c < N_CHANNELS; c++)
        assert_int_equal(next[c], per);
    rl_iter_free(it);
    rl_reader_close(r);
    assert_int_equal(rl_io_close(io), 0);
}

/* ---- a disk that stops: an I/O backend whose writes wait at a gate ---- */

struct gate_io {
    struct rl_io base;
    struct rl_io *inner;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool closed;  /* writes wait while set */
    bool waiting; /* a write is waiting at the gate */
};

static int gate_pread(struct rl_io *io, void *buf, size_t len, uint64_t off, size_t *got)
{
    struct gate_io *g = (struct gate_io *)io;
    return rl_io_pread(g->inner, buf, len, off, got);
}

static int gate_write(struct rl_io *io, const void *buf, size_t len)
{
    struct gate_io *g = (struct gate_io *)io;
    pthread_mutex_lock(&g->mu);
    while (g->closed) {
        g->waiting = true;
        pthread_cond_broadcast(&g->cv);
        pthread_cond_wait(&g->cv, &g->mu);
    }
    g->waiting = false;
    pthread_mutex_unlock(&g->mu);
    return rl_io_write(g->inner, buf, len);
}

static int gate_size(struct rl_io *io, uint64_t *size)
{
    struct gate_io *g = (struct gate_io *)io;
    return rl_io_size(g->inner, size);
}

static int gate_sync(struct rl_io *io)
{
    struct gate_io *g = (struct gate_io *)io;
    return rl_io_sync(g->inner);
}

static int gate_close(struct rl_io *io)
{
    (void)io;
    return 0; /* the test owns the gate and inner */
}

static const struct rl_io_ops gate_ops = {gate_pread, gate_write, gate_size, gate_sync, gate_close};

static void gate_set(struct gate_io *g, bool closed)
{
    pthread_mutex_lock(&g->mu);
    g->closed = closed;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void gate_wait_for_writer(struct gate_io *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->waiting)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void test_try_write_eagain(void **state)
{
    (void)state;
    struct gate_io g = {.base = {&gate_ops}};
    struct rl_writer_options o;
    struct rl_writer *w;
    struct rl_pipeline *p;
    uint16_t ch;
    uint8_t big[CHUNK_BYTES];

    memset(big, 0x5a, sizeof(big));
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    assert_int_equal(rl_io_membuf_open(&g.inner, FILE_CAP), 0);
    init_opts(&o);
    assert_int_equal(rl_writer_open_io(&w, &g.base, false, &o), 0);
    assert_int_equal(rl_pipeline_open(&p, w, 1, 1), 0);
    assert_int_equal(rl_pipeline_add_channel(p, 0, 0, "/lidar/top", "", NULL, 0, &ch), 0);

    gate_set(&g, true);
    /* One message fills a chunk: job 1 goes to the worker, then to the
     * appender, whose write stops at the gate. */
    assert_int_equal(rl_pipeline_try_write_message(p, ch, 0, 10, 10, big, sizeof(big)), 0);
    gate_wait_for_writer(&g);
    assert_int_equal(rl_pipeline_inflight(p), 1);
    assert_int_equal(rl_pipeline_try_write_message(p, ch, 1, 11, 11, big, 8), -EAGAIN);
    gate_set(&g, false);
    assert_int_equal(rl_pipeline_write_message(p, ch, 2, 12, 12, big, 8), 0);
    assert_int_equal(rl_pipeline_close(p), 0);
    assert_int_equal(rl_writer_close(w), 0);

    size_t len;
    const uint8_t *data = rl_io_membuf_data(g.inner, &len);
    struct rl_io *rio;
    struct rl_reader *r;
    struct rl_file_info fi;
    char err[256];
    assert_int_equal(rl_io_mem_open(&rio, data, len), 0);
    assert_int_equal(rl_reader_open_io(&r, rio, true, NULL, err, sizeof(err)), 0);
    rl_reader_file_info(r, &fi);
    assert_true(fi.complete);
    assert_int_equal(fi.message_count, 2); /* the refused message is not there */
    rl_reader_close(r);
    assert_int_equal(rl_io_close(g.inner), 0);
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
}

/* The disk fills up mid-file: the error comes back from a later call or
 * from close, with detail, and nothing hangs or leaks. */
static void test_write_failure(void **state)
{
    (void)state;
    const uint64_t fail_at[] = {2000, 40000, 150000};
    for (size_t k = 0; k < sizeof(fail_at) / sizeof(fail_at[0]); k++) {
        struct rl_io *inner, *io;
        struct rl_writer_options o;
        struct rl_writer *w;
        struct rl_pipeline *p;
        uint16_t ids[N_CHANNELS];
        uint8_t buf[MAX_PAYLOAD];
        int rc = 0;

        assert_int_equal(rl_io_membuf_open(&inner, FILE_CAP), 0);
        assert_int_equal(rl_io_fault_open(&io, inner, fail_at[k], -ENOSPC), 0);
        init_opts(&o);
        assert_int_equal(rl_writer_open_io(&w, io, true, &o), 0);
        assert_int_equal(rl_pipeline_open(&p, w, 2, 2), 0);
        add_channels(w, p, ids);
        for (uint32_t i = 0; i < N_MSGS && rc == 0; i++) {
            struct msg m = msg_at(i);
            fill_payload(i, buf, m.len);
            rc = rl_pipeline_write_message(p, ids[m.channel], m.sequence, m.log_time,
                                           m.publish_time, buf, m.len);
        }
        assert_true(rc == 0 || rc == -ENOSPC);
        rc = rl_pipeline_close(p);
        assert_int_equal(rc, -ENOSPC);
        assert_int_equal(rl_writer_close(w), -ENOSPC);
    }
}

static void test_errmsg(void **state)
{
    (void)state;
    struct rl_io *inner, *io;
    struct rl_writer *w;
    struct rl_pipeline *p;
    uint16_t ch;
    uint8_t buf[CHUNK_BYTES];
    char msg[256];

    fill_payload(1, buf, sizeof(buf));
    assert_int_equal(rl_io_membuf_open(&inner, FILE_CAP), 0);
    assert_int_equal(rl_io_fault_open(&io, inner, 1000, -ENOSPC), 0);
    assert_int_equal(rl_writer_open_io(&w, io, true, NULL), 0);
    assert_int_equal(rl_pipeline_open(&p, w, 1, 1), 0);
    rl_pipeline_errmsg(p, msg, sizeof(msg));
    assert_string_equal(msg, "");
    /* A bad call fails alone and leaves its detail. */
    assert_int_equal(rl_pipeline_write_message(p, 77, 0, 0, 0, buf, 1), RL_ENOTFOUND);
    rl_pipeline_errmsg(p, msg, sizeof(msg));
    assert_non_null(strstr(msg, "77"));
    assert_int_equal(rl_pipeline_add_channel(p, 0, 0, "/x", "", NULL, 0, &ch), 0);
    assert_int_equal(rl_pipeline_write_message(p, ch, 0, 0, 0, buf, sizeof(buf)), 0);
    assert_int_equal(rl_pipeline_flush(p), -ENOSPC);
    rl_pipeline_errmsg(p, msg, sizeof(msg));
    assert_non_null(strstr(msg, "write failed"));
    assert_int_equal(rl_pipeline_write_message(p, ch, 1, 0, 0, buf, 1), -ENOSPC);
    assert_int_equal(rl_pipeline_close(p), -ENOSPC);
    assert_int_equal(rl_writer_close(w), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_worker),       cmocka_unit_test(test_two_workers),
        cmocka_unit_test(test_four_workers),     cmocka_unit_test(test_back_pressure),
        cmocka_unit_test(test_open_bad_args),    cmocka_unit_test(test_concurrent_producers),
        cmocka_unit_test(test_try_write_eagain), cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_errmsg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
