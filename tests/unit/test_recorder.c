/* Unit tests of the recorder (recorder.h) in one process, on loopback:
 * a udp: source on a free port records every datagram sent, in order, with
 * sequence numbers, channel metadata, run metadata, a marker and the health
 * account; a run split by size into parts loses and duplicates nothing at
 * the boundaries; a write failure (the file size limit lowered under the
 * recorder's feet) stops it with a file that opens without repair; bad
 * options are refused with a reason. Waiting is on events with deadlines
 * (the recorder's counters), never a fixed sleep. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "roadlog/reader.h"
#include "roadlog/recorder.h"

#define DEADLINE_S 20.0
#define PAYLOAD    1000

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void short_pause(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

struct fixture {
    char dir[256];
    char path[300];
    struct rl_source_spec spec;
    struct rl_recorder_options opts;
    struct rl_recorder *rec;
    int tx;
    struct sockaddr_in to;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/rl-test-recorder.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/run.mcap", f->dir);
    char err[256];
    if (rl_source_spec_parse("test/udp=udp:0", &f->spec, err, sizeof(err)) != 0)
        return -1;
    rl_recorder_options_init(&f->opts);
    f->opts.sources = &f->spec;
    f->opts.n_sources = 1;
    f->opts.output_path = f->path;
    f->opts.max_memory_bytes = 128u << 20;
    f->opts.fsync_interval_ns = 50000000;
    f->opts.writer.chunk_size_bytes = 64u << 10;
    f->opts.min_free_set = true;
    f->opts.min_free_bytes = 0;
    f->tx = socket(AF_INET, SOCK_DGRAM, 0);
    *state = f;
    return f->tx < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rl_recorder_free(f->rec);
    close(f->tx);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void start(struct fixture *f)
{
    char err[512];
    int rc = rl_recorder_new(&f->rec, &f->opts, err, sizeof(err));
    if (rc != 0)
        fail_msg("rl_recorder_new: %s", err);
    rc = rl_recorder_start(f->rec, err, sizeof(err));
    if (rc != 0)
        fail_msg("rl_recorder_start: %s", err);
    struct rl_recorder_stats st;
    rl_recorder_get_stats(f->rec, &st);
    const char *colon = strrchr(st.sources[0].interface, ':');
    assert_non_null(colon);
    memset(&f->to, 0, sizeof(f->to));
    f->to.sin_family = AF_INET;
    f->to.sin_port = htons((uint16_t)atoi(colon + 1));
    f->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void send_seq(struct fixture *f, uint32_t first, uint32_t n)
{
    uint8_t buf[PAYLOAD];
    for (uint32_t i = first; i < first + n; i++) {
        memset(buf, (int)(i * 7), sizeof(buf));
        memcpy(buf, &i, 4);
        assert_int_equal(
            sendto(f->tx, buf, sizeof(buf), 0, (struct sockaddr *)&f->to, sizeof(f->to)),
            (ssize_t)sizeof(buf));
    }
}

static void wait_frames(struct fixture *f, uint64_t n)
{
    double deadline = now_s() + DEADLINE_S;
    struct rl_recorder_stats st;
    for (;;) {
        rl_recorder_get_stats(f->rec, &st);
        if (st.sources[0].frames + st.sources[0].kernel_drops + st.sources[0].ring_drops >= n)
            break;
        if (now_s() > deadline)
            fail_msg("only %llu of %llu frames arrived", (unsigned long long)st.sources[0].frames,
                     (unsigned long long)n);
        short_pause();
    }
    assert_int_equal(st.sources[0].frames, n);
}

/* Reads every message of the files in order: the sequence numbers of
 * /test/udp (and the payload's counter) must be 0..n-1. Returns the
 * number of health messages and checks the last one's frames. */
static void check_files(char paths[][400], size_t n_paths, uint32_t n, const char *run_id)
{
    uint32_t next = 0;
    unsigned health = 0;
    for (size_t p = 0; p < n_paths; p++) {
        struct rl_reader *r;
        assert_int_equal(rl_reader_open(&r, paths[p], NULL, NULL, 0), 0);
        struct rl_file_info info;
        rl_reader_file_info(r, &info);
        assert_true(info.complete);
        const struct rl_channel *ch = rl_reader_channel_by_topic(r, "/test/udp");
        assert_non_null(ch);
        assert_string_equal(rl_channel_meta(ch, "linktype"), "payload");
        assert_non_null(rl_channel_meta(ch, "interface"));
        assert_non_null(strstr(rl_channel_meta(ch, "replay_dest"), "udp:127.0.0.1:"));
        assert_int_equal(rl_reader_metadata_count(r), 1);
        const struct rl_metadata *md = rl_reader_metadata_at(r, 0);
        assert_string_equal(md->name, "roadlog.run");
        char part[16];
        snprintf(part, sizeof(part), "%zu", p + 1);
        assert_string_equal(rl_metadata_get(md, "part"), part);
        if (run_id)
            assert_string_equal(rl_metadata_get(md, "run_id"), run_id);
        assert_string_equal(rl_metadata_get(md, "site"), "test-zone");
        struct rl_iter *it;
        assert_int_equal(rl_iter_new(r, NULL, &it), 0);
        struct rl_message m;
        int rc;
        while ((rc = rl_iter_next(it, &m)) == 1) {
            if (strcmp(m.channel->topic, "/roadlog/health") == 0) {
                health++;
                continue;
            }
            if (strcmp(m.channel->topic, "/test/udp") != 0)
                continue;
            uint32_t v;
            memcpy(&v, m.data, 4);
            if (m.sequence != next || v != next || m.len != PAYLOAD)
                fail_msg("message %u: sequence %u, payload %u, %zu bytes", next, m.sequence, v,
                         m.len);
            next++;
        }
        assert_int_equal(rc, 0);
        rl_iter_free(it);
        rl_reader_close(r);
    }
    assert_int_equal(next, n);
    assert_true(health >= n_paths);
}

static void test_udp_record(void **state)
{
    struct fixture *f = *state;
    struct rl_kv meta[] = {{"site", "test-zone"}, {"vehicle", "car-7"}};
    f->opts.meta = meta;
    f->opts.n_meta = 2;
    f->opts.run_id = "unit-run-1";
    start(f);
    uint64_t t;
    assert_int_equal(rl_recorder_mark(f->rec, "takeover-1", "at the gate", "unit test", &t), 0);
    assert_int_equal(rl_recorder_mark(f->rec, "", NULL, NULL, NULL), -EINVAL);
    send_seq(f, 0, 5000);
    wait_frames(f, 5000);
    rl_recorder_stop(f->rec);
    struct rl_recorder_result res;
    assert_int_equal(rl_recorder_finish(f->rec, &res), 0);
    assert_int_equal(res.stop, RL_REC_STOP_REQUEST);
    assert_true(res.complete);
    assert_int_equal(res.parts, 1);
    assert_true(rl_recorder_done(f->rec));
    assert_int_equal(rl_recorder_mark(f->rec, "late", NULL, NULL, NULL), RL_ESTATE);
    char paths[1][400];
    snprintf(paths[0], sizeof(paths[0]), "%s", f->path);
    check_files(paths, 1, 5000, "unit-run-1");

    /* The marker and the final health account. */
    struct rl_reader *r;
    assert_int_equal(rl_reader_open(&r, f->path, NULL, NULL, 0), 0);
    struct rl_iter *it;
    assert_int_equal(rl_iter_new(r, NULL, &it), 0);
    struct rl_message m;
    char last_health[4096] = "", marker[512] = "";
    while (rl_iter_next(it, &m) == 1) {
        if (strcmp(m.channel->topic, "/roadlog/health") == 0 && m.len < sizeof(last_health))
            snprintf(last_health, sizeof(last_health), "%.*s", (int)m.len, (const char *)m.data);
        if (strcmp(m.channel->topic, "/roadlog/markers") == 0 && m.len < sizeof(marker)) {
            snprintf(marker, sizeof(marker), "%.*s", (int)m.len, (const char *)m.data);
            assert_int_equal(m.log_time_ns, t);
        }
    }
    rl_iter_free(it);
    rl_reader_close(r);
    assert_string_equal(marker,
                        "{\"label\":\"takeover-1\",\"note\":\"at the gate\",\"by\":\"unit test\"}");
    assert_non_null(strstr(last_health, "\"topic\":\"/test/udp\",\"frames\":5000,\"bytes\":5000000,"
                                        "\"kernel_drops\":0,\"ring_drops\":0"));
}

static void test_split_by_size(void **state)
{
    struct fixture *f = *state;
    struct rl_kv meta[] = {{"site", "test-zone"}};
    f->opts.meta = meta;
    f->opts.n_meta = 1;
    f->opts.output_path = NULL;
    f->opts.output_dir = f->dir;
    f->opts.split_bytes = 4 * f->opts.writer.chunk_size_bytes;
    f->opts.writer.level = 1;
    start(f);
    /* Incompressible payloads so the parts fill up. */
    uint8_t buf[PAYLOAD];
    uint32_t x = 12345;
    const uint32_t n = 3000;
    for (uint32_t i = 0; i < n; i++) {
        for (size_t k = 4; k < sizeof(buf); k++) {
            x = x * 1103515245u + 12345u;
            buf[k] = (uint8_t)(x >> 24);
        }
        memcpy(buf, &i, 4);
        assert_int_equal(
            sendto(f->tx, buf, sizeof(buf), 0, (struct sockaddr *)&f->to, sizeof(f->to)),
            (ssize_t)sizeof(buf));
        if (i % 500 == 499)
            wait_frames(f, i + 1); /* let parts rotate as they would live */
    }
    wait_frames(f, n);
    struct rl_recorder_stats st;
    rl_recorder_get_stats(f->rec, &st);
    rl_recorder_stop(f->rec);
    struct rl_recorder_result res;
    assert_int_equal(rl_recorder_finish(f->rec, &res), 0);
    assert_true(res.parts >= 3);
    char paths[64][400];
    assert_true(res.parts <= 64);
    for (unsigned p = 0; p < res.parts; p++) {
        snprintf(paths[p], sizeof(paths[p]), "%s/%s-part%03u.mcap", f->dir, st.run_id, p + 1);
        assert_int_equal(access(paths[p], R_OK), 0);
    }
    check_files(paths, res.parts, n, st.run_id);
}

static void test_write_error(void **state)
{
    struct fixture *f = *state;
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    if (old.rlim_max != RLIM_INFINITY && old.rlim_max < (1u << 20))
        skip();
    signal(SIGXFSZ, SIG_IGN);
    char err[512];
    f->opts.writer.level = 1;
    assert_int_equal(rl_recorder_new(&f->rec, &f->opts, err, sizeof(err)), 0);
    /* Lowered after the recorder looked: it cannot see the limit coming, so
     * the write fails (EFBIG) instead of the budget stopping it. */
    struct rlimit lim = old;
    lim.rlim_cur = 300u << 10;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(rl_recorder_start(f->rec, err, sizeof(err)), 0);
    struct rl_recorder_stats st;
    rl_recorder_get_stats(f->rec, &st);
    const char *colon = strrchr(st.sources[0].interface, ':');
    f->to.sin_family = AF_INET;
    f->to.sin_port = htons((uint16_t)atoi(colon + 1));
    f->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint8_t buf[PAYLOAD];
    uint32_t x = 99;
    double deadline = now_s() + DEADLINE_S;
    for (uint32_t i = 0; !rl_recorder_done(f->rec) && now_s() < deadline; i++) {
        for (size_t k = 0; k < sizeof(buf); k++) {
            x = x * 1103515245u + 12345u;
            buf[k] = (uint8_t)(x >> 24);
        }
        (void)sendto(f->tx, buf, sizeof(buf), 0, (struct sockaddr *)&f->to, sizeof(f->to));
        if (i % 64 == 0)
            short_pause();
    }
    struct rl_recorder_result res;
    int rc = rl_recorder_finish(f->rec, &res);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(rc, -EFBIG);
    assert_int_equal(res.stop, RL_REC_STOP_WRITE_ERROR);
    assert_false(res.complete);
    assert_non_null(strstr(res.message, "run.mcap"));
    /* The file opens as it is, cut at a record boundary: nothing lost
     * beyond what did not fit. */
    struct rl_reader *r;
    assert_int_equal(rl_reader_open(&r, f->path, NULL, NULL, 0), 0);
    struct rl_file_info info;
    rl_reader_file_info(r, &info);
    assert_false(info.complete);
    assert_int_equal(info.lost_bytes, 0);
    assert_true(info.file_bytes <= (300u << 10));
    assert_true(info.message_count > 0);
    rl_reader_close(r);
}

static void test_bad_options(void **state)
{
    struct fixture *f = *state;
    char err[512];
    struct rl_recorder_options o = f->opts;
    o.output_dir = f->dir; /* and output_path: both */
    assert_int_equal(rl_recorder_new(&f->rec, &o, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-o FILE"));
    o = f->opts;
    o.n_sources = 0;
    assert_int_equal(rl_recorder_new(&f->rec, &o, err, sizeof(err)), -EINVAL);
    struct rl_source_spec two[2] = {f->spec, f->spec};
    o = f->opts;
    o.sources = two;
    o.n_sources = 2;
    assert_int_equal(rl_recorder_new(&f->rec, &o, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "two sources named"));
    struct rl_kv meta[] = {{"run_id", "x"}};
    o = f->opts;
    o.meta = meta;
    o.n_meta = 1;
    assert_int_equal(rl_recorder_new(&f->rec, &o, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "set by roadlog"));
    o = f->opts;
    o.split_bytes = 1000;
    assert_int_equal(rl_recorder_new(&f->rec, &o, err, sizeof(err)), -EINVAL);
    o = f->opts;
    o.max_memory_bytes = 8u << 20;
    assert_int_equal(rl_recorder_new(&f->rec, &o, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--max-memory"));
    o = f->opts;
    o.output_path = "/nonexistent-dir-rl/x.mcap";
    assert_true(rl_recorder_new(&f->rec, &o, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "nonexistent-dir-rl"));
    assert_null(f->rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_udp_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_by_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
