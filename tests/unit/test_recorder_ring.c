/* Unit tests of the recorder's building blocks (recorder/src): the SPSC
 * frame ring (FIFO order, pads at the wrap, full means refuse and leave the
 * ring as it was, walk without consuming, a producer and a consumer thread
 * moving a million frames with nothing lost, duplicated or reordered), the
 * --source parser (a table of good and bad arguments), the SocketCAN
 * host-order to LINKTYPE_CAN_SOCKETCAN conversion, and the memory plan
 * (within the budget, refusing a budget too small). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <linux/can.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../recorder/src/ring.h"
#include "roadlog/can.h"
#include "roadlog/recorder.h"

/* Private to rl_recorder (src_can.c). */
int rl__can_host_to_linktype(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

#define THREAD_FRAMES 1000000u

/* ---- ring ---- */

static void push_n(struct rl__ring *r, uint32_t seq, size_t len)
{
    uint8_t buf[4096];
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seq + i);
    struct rl__frame_hdr h = {0, 3, 0, seq, 0, 1000u + seq};
    assert_true(rl__ring_push(r, &h, buf, len));
}

static void pop_expect(struct rl__ring *r, uint32_t seq, size_t len)
{
    const uint8_t *d;
    const struct rl__frame_hdr *h = rl__ring_peek(r, &d);
    assert_non_null(h);
    assert_int_equal(h->seq, seq);
    assert_int_equal(h->len, len);
    assert_int_equal(h->src, 3);
    assert_int_equal(h->ts_ns, 1000u + seq);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(d[i], (uint8_t)(seq + i));
    rl__ring_pop(r);
}

static void test_ring_fifo_and_wrap(void **state)
{
    (void)state;
    struct rl__ring r;
    assert_int_equal(rl__ring_init(&r, RL__RING_MIN_CAP, 4096), 0);
    assert_null(rl__ring_peek(&r, &(const uint8_t *){NULL}));
    /* Sizes that do not divide the capacity force pads at the end. */
    uint32_t next_push = 0, next_pop = 0;
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < 7; k++, next_push++)
            push_n(&r, next_push, 1 + (next_push * 37) % 3000);
        for (int k = 0; k < 7; k++, next_pop++)
            pop_expect(&r, next_pop, 1 + (next_pop * 37) % 3000);
    }
    assert_true(rl__ring_empty(&r));
    rl__ring_release(&r);
}

static void test_ring_full_refuses(void **state)
{
    (void)state;
    struct rl__ring r;
    assert_int_equal(rl__ring_init(&r, RL__RING_MIN_CAP, 1000), 0);
    uint8_t buf[1000] = {0};
    struct rl__frame_hdr h = {0};
    unsigned n = 0;
    while (rl__ring_push(&r, &h, buf, sizeof(buf)))
        n++;
    size_t used = rl__ring_used(&r);
    assert_true(n >= RL__RING_MIN_CAP / 1024 - 1);
    assert_false(rl__ring_push(&r, &h, buf, sizeof(buf)));
    assert_int_equal(rl__ring_used(&r), used); /* unchanged */
    const uint8_t *d;
    assert_non_null(rl__ring_peek(&r, &d));
    rl__ring_pop(&r);
    assert_true(rl__ring_push(&r, &h, buf, sizeof(buf)));
    rl__ring_release(&r);
}

static void test_ring_too_large_frame(void **state)
{
    (void)state;
    struct rl__ring r;
    assert_int_equal(rl__ring_init(&r, RL__RING_MIN_CAP, 100), 0);
    uint8_t buf[200] = {0};
    struct rl__frame_hdr h = {0};
    assert_false(rl__ring_push(&r, &h, buf, 101));
    assert_true(rl__ring_push2(&r, &h, buf, 50, buf, 50));
    assert_true(rl__ring_empty(&r) == false);
    rl__ring_release(&r);
    /* Two of the largest frames must fit. */
    assert_int_equal(rl__ring_init(&r, RL__RING_MIN_CAP, RL__RING_MIN_CAP), -EINVAL);
}

static void test_ring_walk(void **state)
{
    (void)state;
    struct rl__ring r;
    assert_int_equal(rl__ring_init(&r, RL__RING_MIN_CAP, 4096), 0);
    for (uint32_t i = 0; i < 10; i++)
        push_n(&r, i, 100 + i);
    uint64_t pos = 0;
    const uint8_t *d;
    const struct rl__frame_hdr *h;
    uint32_t seen = 0;
    while ((h = rl__ring_walk(&r, &pos, &d)) != NULL) {
        assert_int_equal(h->seq, seen);
        seen++;
    }
    assert_int_equal(seen, 10);
    pop_expect(&r, 0, 100); /* walking consumed nothing */
    rl__ring_release(&r);
}

struct thread_arg {
    struct rl__ring *r;
    uint32_t dropped;
};

static void *producer(void *p)
{
    struct thread_arg *a = p;
    uint8_t buf[256];
    for (uint32_t i = 0; i < THREAD_FRAMES; i++) {
        size_t len = 1 + i % 250;
        memset(buf, (int)(i & 0xFF), len);
        struct rl__frame_hdr h = {0, 0, 0, i, 0, i};
        while (!rl__ring_push(a->r, &h, buf, len))
            ; /* the test wants every frame; a recorder would count a drop */
    }
    return NULL;
}

static void test_ring_threads(void **state)
{
    (void)state;
    struct rl__ring r;
    assert_int_equal(rl__ring_init(&r, RL__RING_MIN_CAP, 256), 0);
    struct thread_arg a = {&r, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, &a), 0);
    uint32_t next = 0;
    bool ok = true;
    while (next < THREAD_FRAMES) {
        const uint8_t *d;
        const struct rl__frame_hdr *h = rl__ring_peek(&r, &d);
        if (!h)
            continue;
        size_t len = 1 + next % 250;
        ok = ok && h->seq == next && h->len == len && d[0] == (uint8_t)next &&
             d[len - 1] == (uint8_t)next;
        rl__ring_pop(&r);
        next++;
    }
    pthread_join(t, NULL);
    assert_true(ok);
    assert_true(rl__ring_empty(&r));
    rl__ring_release(&r);
}

/* ---- --source ---- */

struct spec_case {
    const char *arg;
    int rc;
    enum rl_source_type type;
    const char *topic, *target, *filter, *decoder;
    unsigned port;
};

static const struct spec_case spec_cases[] = {
    {"lidar=udp:2368", 0, RL_SOURCE_UDP, "/lidar", "127.0.0.1", "", "", 2368},
    {"lidar/top=udp:0.0.0.0:2368,decoder=velodyne", 0, RL_SOURCE_UDP, "/lidar/top", "0.0.0.0", "",
     "velodyne", 2368},
    {"/v2x/obu=udp:[::1]:5000", 0, RL_SOURCE_UDP, "/v2x/obu", "::1", "", "", 5000},
    {"eth=pcap:eth1,filter=udp and (port 1 or port 2),decoder=hesai", 0, RL_SOURCE_PCAP, "/eth",
     "eth1", "udp and (port 1 or port 2)", "hesai", 0},
    {"x=pcap:lo,filter=ether[0:2] = 1, or what,snaplen=128", 0, RL_SOURCE_PCAP, "/x", "lo",
     "ether[0:2] = 1, or what", "", 0},
    {"chassis=can:vcan0", 0, RL_SOURCE_CAN, "/chassis", "vcan0", "", "", 0},
    {"gnss=serial:/dev/ttyUSB0,baud=115200,rate=10", 0, RL_SOURCE_SERIAL, "/gnss", "/dev/ttyUSB0",
     "", "", 0},
    {"lidar=udp:70000", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"lidar=udp:", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"lidar=tcp:80", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"=udp:80", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"lidar udp:80", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"a b=udp:80", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"l=udp:2368,decoder=nosuch", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"l=udp:2368,filter=udp", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"l=udp:2368,bogus=1", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"g=serial:/dev/x,baud=12345", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"p=pcap:lo,snaplen=5", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"r=udp:1,rate=-3", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
    {"roadlog/health=udp:1", -EINVAL, 0, NULL, NULL, NULL, NULL, 0},
};

static void test_spec_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(spec_cases) / sizeof(spec_cases[0]); i++) {
        const struct spec_case *c = &spec_cases[i];
        struct rl_source_spec s;
        char err[256] = "";
        int rc = rl_source_spec_parse(c->arg, &s, err, sizeof(err));
        if (rc != c->rc)
            fail_msg("'%s': rc %d, expected %d (%s)", c->arg, rc, c->rc, err);
        if (rc < 0) {
            assert_true(err[0] != '\0');
            continue;
        }
        assert_int_equal(s.type, c->type);
        assert_string_equal(s.topic, c->topic);
        assert_string_equal(s.target, c->target);
        assert_string_equal(s.filter, c->filter);
        assert_string_equal(s.decoder, c->decoder);
        assert_int_equal(s.port, c->port);
    }
}

static void test_spec_options(void **state)
{
    (void)state;
    struct rl_source_spec s;
    char err[256];
    assert_int_equal(rl_source_spec_parse("g=serial:/dev/ttyS0,baud=9600,rate=5,buffer=64k,"
                                          "replay_dest=udp:127.0.0.1:9",
                                          &s, err, sizeof(err)),
                     0);
    assert_int_equal(s.baud, 9600);
    assert_true(s.expected_hz == 5.0);
    assert_int_equal(s.buffer_bytes, 65536);
    assert_string_equal(s.replay_dest, "udp:127.0.0.1:9");
    assert_int_equal(rl_source_spec_parse("p=pcap:any", &s, err, sizeof(err)), 0);
    assert_int_equal(s.immediate, 0); /* buffered by default */
    assert_int_equal(s.direction_in, -1);
    assert_int_equal(rl_source_spec_parse("p=pcap:any,immediate=1,direction=inout,snaplen=2048", &s,
                                          err, sizeof(err)),
                     0);
    assert_int_equal(s.immediate, 1);
    assert_int_equal(s.direction_in, 0);
    assert_int_equal(s.snaplen, 2048);
}

/* ---- CAN ---- */

static void test_can_conversion(void **state)
{
    (void)state;
    struct can_frame cf;
    memset(&cf, 0, sizeof(cf));
    cf.can_id = 0x123;
    cf.len = 3;
    cf.data[0] = 0xDE;
    cf.data[1] = 0xAD;
    cf.data[2] = 0xBE;
    uint8_t out[RL_SOCKETCAN_FD_MTU];
    int n = rl__can_host_to_linktype((const uint8_t *)&cf, CAN_MTU, out, sizeof(out));
    assert_int_equal(n, RL_SOCKETCAN_MTU);
    static const uint8_t want[] = {0, 0, 0x01, 0x23, 3, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0, 0, 0, 0, 0};
    assert_memory_equal(out, want, sizeof(want));
    struct rl_can_frame f;
    assert_int_equal(rl_socketcan_parse(out, (size_t)n, &f), 0);
    assert_int_equal(f.id, 0x123);

    struct canfd_frame fd;
    memset(&fd, 0, sizeof(fd));
    fd.can_id = 0x18DA00F1u | CAN_EFF_FLAG;
    fd.len = 64;
    fd.flags = CANFD_BRS;
    for (int i = 0; i < 64; i++)
        fd.data[i] = (uint8_t)i;
    n = rl__can_host_to_linktype((const uint8_t *)&fd, CANFD_MTU, out, sizeof(out));
    assert_int_equal(n, RL_SOCKETCAN_FD_MTU);
    assert_int_equal(out[0], 0x98); /* EFF flag and id, big-endian */
    assert_int_equal(out[3], 0xF1);
    assert_int_equal(rl_socketcan_parse(out, (size_t)n, &f), 0);
    assert_true(f.fd && f.extended);
    assert_int_equal(f.id, 0x18DA00F1u);
    assert_int_equal(f.len, 64);
    assert_int_equal(f.fd_flags & RL_CANFD_BRS, RL_CANFD_BRS);
    assert_int_equal(f.data[63], 63);
    assert_true(rl__can_host_to_linktype((const uint8_t *)&fd, 20, out, sizeof(out)) < 0);
}

/* ---- memory plan ---- */

static void test_memplan(void **state)
{
    (void)state;
    struct rl_source_spec specs[3];
    char err[256];
    assert_int_equal(rl_source_spec_parse("a=udp:1", &specs[0], err, sizeof(err)), 0);
    assert_int_equal(rl_source_spec_parse("b=pcap:lo", &specs[1], err, sizeof(err)), 0);
    assert_int_equal(rl_source_spec_parse("c=serial:/dev/null", &specs[2], err, sizeof(err)), 0);
    struct rl_recorder_options o;
    rl_recorder_options_init(&o);
    o.sources = specs;
    o.n_sources = 3;
    struct rl_recorder_memplan m;
    for (uint64_t mib = 128; mib <= 4096; mib *= 2) {
        o.max_memory_bytes = mib << 20;
        assert_int_equal(rl_recorder_plan_memory(&o, &m, err, sizeof(err)), 0);
        uint64_t sum = m.base_bytes + m.pipeline_bytes + 3 * m.ring_bytes + m.batch_bytes +
                       m.pcap_buffer_bytes + m.snapshot_bytes;
        assert_true(sum <= o.max_memory_bytes);
        assert_true(m.max_inflight >= 1 && m.workers >= 1);
        assert_true(m.ring_bytes >= (1u << 20));
    }
    o.snapshot_ns = 5000000000ull;
    o.max_memory_bytes = 512u << 20;
    assert_int_equal(rl_recorder_plan_memory(&o, &m, err, sizeof(err)), 0);
    assert_true(m.snapshot_bytes > 3 * m.ring_bytes);
    o.max_memory_bytes = 16u << 20;
    assert_int_equal(rl_recorder_plan_memory(&o, &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--max-memory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_fifo_and_wrap),
        cmocka_unit_test(test_ring_full_refuses),
        cmocka_unit_test(test_ring_too_large_frame),
        cmocka_unit_test(test_ring_walk),
        cmocka_unit_test(test_ring_threads),
        cmocka_unit_test(test_spec_table),
        cmocka_unit_test(test_spec_options),
        cmocka_unit_test(test_can_conversion),
        cmocka_unit_test(test_memplan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
