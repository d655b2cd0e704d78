/* Unit tests of net.h: every link type, VLAN/QinQ, IPv6 with extension
 * headers, UDP; truncated frames at every length; corrupt fields; IPv4
 * reassembly in order, reversed, shuffled, with overlaps, duplicates,
 * missing and expired fragments, and the memory and entry bounds; the
 * builders, whose frames must parse back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roadlog/decode.h"
#include "roadlog/net.h"

#define FRAME_MAX 70000

static const uint8_t SRC_IP[4] = {192, 168, 1, 200};
static const uint8_t DST_IP[4] = {255, 255, 255, 255};
static const uint8_t SRC_MAC[6] = {0x60, 0x76, 0x88, 0x00, 0x00, 0x01};
static const uint8_t DST_MAC[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
    put16(b, (uint16_t)(v >> 16));
    put16(b + 2, (uint16_t)v);
}

static void fill_payload(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed);
}

static struct rl_net_udp_spec spec(void)
{
    struct rl_net_udp_spec s;
    memset(&s, 0, sizeof s);
    memcpy(s.eth_src, SRC_MAC, 6);
    memcpy(s.eth_dst, DST_MAC, 6);
    memcpy(s.ip_src, SRC_IP, 4);
    memcpy(s.ip_dst, DST_IP, 4);
    s.src_port = 2368;
    s.dst_port = 2368;
    s.ip_id = 0x1234;
    s.udp_checksum = true;
    return s;
}

/* An IPv4/UDP packet (no link header) with n payload bytes. */
static size_t ipv4_udp(uint8_t *out, size_t n)
{
    uint8_t pl[2048];
    fill_payload(pl, n, 1);
    struct rl_net_udp_spec s = spec();
    size_t len = 0;
    assert_int_equal(rl_net_build_udp_ipv4(&s, pl, n, out, FRAME_MAX, &len), 0);
    return len;
}

/* An IPv6/UDP packet with hop-by-hop and destination options headers. */
static size_t ipv6_udp(uint8_t *out, size_t n, bool ext)
{
    uint8_t *ip = out;
    size_t ext_len = ext ? 16 : 0;
    memset(ip, 0, RL_IPV6_HEADER_LEN);
    ip[0] = 0x60;
    put16(ip + 4, (uint16_t)(ext_len + RL_UDP_HEADER_LEN + n));
    ip[6] = ext ? 0 : RL_IPPROTO_UDP;
    ip[7] = 64;
    for (int i = 0; i < 16; i++) {
        ip[8 + i] = (uint8_t)(0x20 + i);
        ip[24 + i] = (uint8_t)(0x40 + i);
    }
    uint8_t *e = ip + RL_IPV6_HEADER_LEN;
    if (ext) {
        memset(e, 0, 16);
        e[0] = 60; /* hop-by-hop -> destination options */
        e[1] = 0;  /* 8 bytes */
        e[2] = 1;  /* PadN */
        e[3] = 4;
        e[8] = RL_IPPROTO_UDP;
        e[9] = 0;
        e[10] = 1;
        e[11] = 4;
    }
    uint8_t *u = e + ext_len;
    put16(u, 5000);
    put16(u + 2, 6000);
    put16(u + 4, (uint16_t)(RL_UDP_HEADER_LEN + n));
    put16(u + 6, 0);
    fill_payload(u + 8, n, 3);
    /* UDP checksum with the IPv6 pseudo-header (RFC 8200 section 8.1). */
    uint8_t pseudo[40 + 2048 + 8];
    memcpy(pseudo, ip + 8, 32);
    put32(pseudo + 32, (uint32_t)(RL_UDP_HEADER_LEN + n));
    pseudo[36] = pseudo[37] = pseudo[38] = 0;
    pseudo[39] = RL_IPPROTO_UDP;
    memcpy(pseudo + 40, u, RL_UDP_HEADER_LEN + n);
    uint16_t c = rl_net_inet_checksum(pseudo, 40 + RL_UDP_HEADER_LEN + n);
    put16(u + 6, c == 0 ? 0xFFFF : c);
    return RL_IPV6_HEADER_LEN + ext_len + RL_UDP_HEADER_LEN + n;
}

static size_t eth_header(uint8_t *out, uint16_t et)
{
    memcpy(out, DST_MAC, 6);
    memcpy(out + 6, SRC_MAC, 6);
    put16(out + 12, et);
    return RL_ETH_HEADER_LEN;
}

static void expect_udp_v4(const struct rl_net_frame *f, size_t n)
{
    assert_true(f->layers & RL_NET_L_IPV4);
    assert_true(f->layers & RL_NET_L_UDP);
    assert_false(f->layers & RL_NET_L_FRAGMENT);
    assert_int_equal(f->ip_version, 4);
    assert_memory_equal(f->ip_src, SRC_IP, 4);
    assert_memory_equal(f->ip_dst, DST_IP, 4);
    assert_int_equal(f->src_port, 2368);
    assert_int_equal(f->dst_port, 2368);
    assert_int_equal(f->payload_len, n);
    uint8_t want[2048];
    fill_payload(want, n, 1);
    assert_memory_equal(f->payload, want, n);
    assert_true(f->ip_checksum_ok);
    assert_int_equal(rl_net_udp_checksum_check(f), 1);
}

/* ---- link types ---- */

static void test_ethernet(void **state)
{
    (void)state;
    uint8_t fr[FRAME_MAX];
    struct rl_net_udp_spec s = spec();
    uint8_t pl[1206];
    fill_payload(pl, sizeof pl, 1);
    size_t len = 0;
    assert_int_equal(rl_net_build_udp_eth(&s, pl, sizeof pl, fr, sizeof fr, &len), 0);
    assert_int_equal(len, 14 + 20 + 8 + 1206);
    struct rl_net_frame f;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, len, &f), 0);
    assert_true(f.layers & RL_NET_L_ETH);
    assert_memory_equal(f.eth_src, SRC_MAC, 6);
    assert_memory_equal(f.eth_dst, DST_MAC, 6);
    assert_int_equal(f.ethertype, RL_ETHERTYPE_IPV4);
    assert_int_equal(f.n_vlans, 0);
    assert_string_equal(f.reason, "");
    expect_udp_v4(&f, sizeof pl);
}

static void test_ethernet_padding(void **state)
{
    (void)state;
    /* A 4-byte payload makes a 46-byte frame, padded to the 60-byte
     * Ethernet minimum: the padding is not payload. */
    uint8_t fr[64];
    struct rl_net_udp_spec s = spec();
    uint8_t pl[4];
    fill_payload(pl, 4, 1);
    size_t len = 0;
    memset(fr, 0xEE, sizeof fr);
    assert_int_equal(rl_net_build_udp_eth(&s, pl, 4, fr, sizeof fr, &len), 0);
    struct rl_net_frame f;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, 60, &f), 0);
    expect_udp_v4(&f, 4);
    assert_int_equal(f.ip_total_len, 32);
}

static void test_vlan_qinq(void **state)
{
    (void)state;
    static const uint16_t tpids[][4] = {
        {RL_ETHERTYPE_VLAN},
        {RL_ETHERTYPE_QINQ, RL_ETHERTYPE_VLAN},
        {RL_ETHERTYPE_QINQ_OLD, RL_ETHERTYPE_VLAN},
        {RL_ETHERTYPE_QINQ, RL_ETHERTYPE_VLAN, RL_ETHERTYPE_VLAN, RL_ETHERTYPE_VLAN},
    };
    static const size_t counts[] = {1, 2, 2, 4};
    for (size_t t = 0; t < 4; t++) {
        uint8_t fr[FRAME_MAX];
        size_t n = eth_header(fr, tpids[t][0]) - 2;
        for (size_t i = 0; i < counts[t]; i++) {
            put16(fr + n, tpids[t][i]);
            put16(fr + n + 2, (uint16_t)(5u << 13 | (100 + i)));
            n += 4;
        }
        put16(fr + n, RL_ETHERTYPE_IPV4);
        n += 2;
        n += ipv4_udp(fr + n, 100);
        struct rl_net_frame f;
        assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), 0);
        assert_true(f.layers & RL_NET_L_VLAN);
        assert_int_equal(f.n_vlans, counts[t]);
        for (size_t i = 0; i < counts[t]; i++) {
            assert_int_equal(f.vlan_id[i], 100 + i);
            assert_int_equal(f.vlan_pcp[i], 5);
            assert_int_equal(f.vlan_tpid[i], tpids[t][i]);
        }
        expect_udp_v4(&f, 100);
    }
    /* One tag too many. */
    uint8_t fr[FRAME_MAX];
    size_t n = 12;
    eth_header(fr, 0);
    for (int i = 0; i <= RL_NET_MAX_VLANS; i++) {
        put16(fr + n, RL_ETHERTYPE_VLAN);
        put16(fr + n + 2, 1);
        n += 4;
    }
    put16(fr + n, RL_ETHERTYPE_IPV4);
    n += 2;
    n += ipv4_udp(fr + n, 10);
    struct rl_net_frame f;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), RL_EUNSUPPORTED);
    assert_true(strlen(f.reason) > 0);
}

static size_t sll_frame(uint8_t *fr, uint16_t proto)
{
    memset(fr, 0, 16);
    put16(fr, 4);     /* sent by us */
    put16(fr + 2, 1); /* ARPHRD_ETHER */
    put16(fr + 4, 6);
    memcpy(fr + 6, SRC_MAC, 6);
    put16(fr + 14, proto);
    return 16;
}

static size_t sll2_frame(uint8_t *fr, uint16_t proto)
{
    memset(fr, 0, 20);
    put16(fr, proto);
    put32(fr + 4, 3); /* ifindex */
    put16(fr + 8, 1);
    fr[10] = 0;
    fr[11] = 6;
    memcpy(fr + 12, SRC_MAC, 6);
    return 20;
}

static void test_sll(void **state)
{
    (void)state;
    uint8_t fr[FRAME_MAX];
    size_t n = sll_frame(fr, RL_ETHERTYPE_IPV4);
    n += ipv4_udp(fr + n, 200);
    struct rl_net_frame f;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_LINUX_SLL, fr, n, &f), 0);
    assert_true(f.layers & RL_NET_L_SLL);
    assert_int_equal(f.sll_pkttype, 4);
    assert_int_equal(f.sll_hatype, 1);
    expect_udp_v4(&f, 200);

    /* SLL with a VLAN tag left in. */
    n = sll_frame(fr, RL_ETHERTYPE_VLAN);
    put16(fr + n, 42);
    put16(fr + n + 2, RL_ETHERTYPE_IPV4);
    n += 4;
    n += ipv4_udp(fr + n, 20);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_LINUX_SLL, fr, n, &f), 0);
    assert_int_equal(f.n_vlans, 1);
    assert_int_equal(f.vlan_id[0], 42);
    expect_udp_v4(&f, 20);

    /* A Linux pseudo-protocol (802.2 LLC): no IP, not an error. */
    n = sll_frame(fr, 0x0004);
    fr[n++] = 0x42;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_LINUX_SLL, fr, n, &f), 0);
    assert_int_equal(f.ip_version, 0);
    assert_int_equal(f.payload_len, 1);
}

static void test_sll2(void **state)
{
    (void)state;
    uint8_t fr[FRAME_MAX];
    size_t n = sll2_frame(fr, RL_ETHERTYPE_IPV6);
    n += ipv6_udp(fr + n, 300, false);
    struct rl_net_frame f;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_LINUX_SLL2, fr, n, &f), 0);
    assert_true(f.layers & RL_NET_L_SLL);
    assert_int_equal(f.sll_ifindex, 3);
    assert_true(f.layers & RL_NET_L_IPV6);
    assert_true(f.layers & RL_NET_L_UDP);
    assert_int_equal(f.src_port, 5000);
    assert_int_equal(f.dst_port, 6000);
    assert_int_equal(f.payload_len, 300);
    assert_int_equal(rl_net_udp_checksum_check(&f), 1);
}

static void test_loopback(void **state)
{
    (void)state;
    struct {
        int linktype;
        uint8_t fam[4];
        int ipver;
    } cases[] = {
        {RL_LINKTYPE_NULL, {2, 0, 0, 0}, 4},  /* little-endian host */
        {RL_LINKTYPE_NULL, {0, 0, 0, 2}, 4},  /* big-endian host */
        {RL_LINKTYPE_NULL, {24, 0, 0, 0}, 6}, /* NetBSD/OpenBSD */
        {RL_LINKTYPE_NULL, {28, 0, 0, 0}, 6}, /* FreeBSD */
        {RL_LINKTYPE_NULL, {0, 0, 0, 30}, 6}, /* Darwin, big-endian */
        {RL_LINKTYPE_LOOP, {0, 0, 0, 2}, 4},  {RL_LINKTYPE_LOOP, {0, 0, 0, 24}, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t fr[FRAME_MAX];
        memcpy(fr, cases[i].fam, 4);
        size_t n = 4 + (cases[i].ipver == 4 ? ipv4_udp(fr + 4, 50) : ipv6_udp(fr + 4, 50, true));
        struct rl_net_frame f;
        assert_int_equal(rl_net_parse(cases[i].linktype, fr, n, &f), 0);
        assert_true(f.layers & RL_NET_L_LOOP);
        assert_int_equal(f.ip_version, cases[i].ipver);
        assert_true(f.layers & RL_NET_L_UDP);
        assert_int_equal(f.payload_len, 50);
    }
    uint8_t fr[8] = {99, 0, 0, 0, 0x45};
    struct rl_net_frame f;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_NULL, fr, sizeof fr, &f), RL_EUNSUPPORTED);
    assert_non_null(strstr(f.reason, "family"));
}

static void test_raw_ip(void **state)
{
    (void)state;
    uint8_t fr[FRAME_MAX];
    struct rl_net_frame f;
    size_t n = ipv4_udp(fr, 64);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_RAW, fr, n, &f), 0);
    expect_udp_v4(&f, 64);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV4, fr, n, &f), 0);
    expect_udp_v4(&f, 64);
    n = ipv6_udp(fr, 64, true);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_RAW, fr, n, &f), 0);
    assert_int_equal(f.ip_version, 6);
    assert_int_equal(f.ip_header_len, 56);
    assert_int_equal(f.payload_len, 64);
    assert_int_equal(rl_net_udp_checksum_check(&f), 1);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV6, fr, n, &f), 0);
    assert_int_equal(f.ip_version, 6);
    /* IPv6 data on an IPv4 link type. */
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV4, fr, n, &f), RL_ECORRUPT);
    fr[0] = 0x50;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_RAW, fr, n, &f), RL_ECORRUPT);
    assert_int_equal(rl_net_parse(12345, fr, n, &f), RL_EUNSUPPORTED);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_CAN_SOCKETCAN, fr, n, &f), RL_EUNSUPPORTED);
}

static void test_non_udp(void **state)
{
    (void)state;
    uint8_t fr[FRAME_MAX];
    struct rl_net_frame f;
    /* ARP: Ethernet only. */
    size_t n = eth_header(fr, RL_ETHERTYPE_ARP);
    memset(fr + n, 0, 28);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n + 28, &f), 0);
    assert_int_equal(f.layers, RL_NET_L_ETH);
    assert_int_equal(f.payload_len, 28);
    /* 802.3 length field. */
    n = eth_header(fr, 46);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n + 46, &f), 0);
    assert_int_equal(f.layers, RL_NET_L_ETH);
    /* TCP: IP layer, payload is the segment. */
    n = eth_header(fr, RL_ETHERTYPE_IPV4);
    size_t ip = ipv4_udp(fr + n, 40);
    fr[n + 9] = RL_IPPROTO_TCP;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n + ip, &f), 0);
    assert_true(f.layers & RL_NET_L_IPV4);
    assert_false(f.layers & RL_NET_L_UDP);
    assert_false(f.ip_checksum_ok); /* the protocol byte changed under it */
    assert_int_equal(f.payload_len, 48);
    assert_int_equal(rl_net_udp_checksum_check(&f), -1);
    /* IPv6 with No Next Header. */
    n = ipv6_udp(fr, 0, false);
    fr[6] = 59;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV6, fr, n, &f), 0);
    assert_int_equal(f.payload_len, 0);
}

static void test_ipv6_fragment_header(void **state)
{
    (void)state;
    uint8_t fr[FRAME_MAX];
    size_t n = ipv6_udp(fr, 32, false);
    /* Insert a Fragment header: offset 0, M set, id 0xdeadbeef. */
    memmove(fr + 48, fr + 40, n - 40);
    fr[40] = RL_IPPROTO_UDP;
    fr[41] = 0;
    put16(fr + 42, 0x0001);
    put32(fr + 44, 0xdeadbeef);
    fr[6] = 44;
    put16(fr + 4, (uint16_t)(n - 40 + 8));
    struct rl_net_frame f;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV6, fr, n + 8, &f), 0);
    assert_true(f.layers & RL_NET_L_FRAGMENT);
    assert_false(f.layers & RL_NET_L_UDP);
    assert_int_equal(f.frag_id, 0xdeadbeef);
    assert_true(f.frag_more);
    assert_int_equal(f.ip_proto, RL_IPPROTO_UDP);
    /* An atomic fragment (offset 0, M clear) is a whole datagram. */
    put16(fr + 42, 0);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV6, fr, n + 8, &f), 0);
    assert_false(f.layers & RL_NET_L_FRAGMENT);
    assert_true(f.layers & RL_NET_L_UDP);
    assert_int_equal(f.payload_len, 32);
    /* An IPv6 fragment is not for the IPv4 reassembler. */
    put16(fr + 42, 0x0001);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV6, fr, n + 8, &f), 0);
    struct rl_ipfrag *q;
    assert_int_equal(rl_ipfrag_new(&q, 0, 0), 0);
    assert_int_equal(rl_ipfrag_feed(q, &f, 0), -EINVAL);
    rl_ipfrag_free(q);
}

/* ---- truncation and corruption ---- */

static void expect_all_cuts_fail(int linktype, const uint8_t *fr, size_t n)
{
    struct rl_net_frame f;
    assert_int_equal(rl_net_parse(linktype, fr, n, &f), 0);
    for (size_t cut = 0; cut < n; cut++) {
        /* A copy of exactly cut bytes, so ASan sees any read past it. */
        uint8_t *c = malloc(cut ? cut : 1);
        assert_non_null(c);
        memcpy(c, fr, cut);
        int rc = rl_net_parse(linktype, c, cut, &f);
        /* Cut inside the IP payload, past the UDP header: parsed as a
         * truncated capture, the payload cut to what is there. */
        if (rc == 0 && f.truncated && (f.layers & RL_NET_L_UDP)) {
            assert_true(f.claimed_len > f.ip_total_len);
            assert_true(f.payload + f.payload_len <= c + cut);
            free(c);
            continue;
        }
        if (rc != RL_ETRUNC)
            fail_msg("linktype %d cut at %zu of %zu: rc %d (%s)", linktype, cut, n, rc, f.reason);
        assert_true(strlen(f.reason) > 0);
        free(c);
    }
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    uint8_t fr[FRAME_MAX];
    size_t n = eth_header(fr, RL_ETHERTYPE_IPV4);
    n += ipv4_udp(fr + n, 30);
    expect_all_cuts_fail(RL_LINKTYPE_ETHERNET, fr, n);

    n = eth_header(fr, RL_ETHERTYPE_QINQ) - 2;
    put16(fr + n, RL_ETHERTYPE_QINQ);
    put16(fr + n + 2, 7);
    put16(fr + n + 4, RL_ETHERTYPE_VLAN);
    put16(fr + n + 6, 8);
    put16(fr + n + 8, RL_ETHERTYPE_IPV6);
    n += 10;
    n += ipv6_udp(fr + n, 30, true);
    expect_all_cuts_fail(RL_LINKTYPE_ETHERNET, fr, n);

    n = sll_frame(fr, RL_ETHERTYPE_IPV4);
    n += ipv4_udp(fr + n, 30);
    expect_all_cuts_fail(RL_LINKTYPE_LINUX_SLL, fr, n);

    n = sll2_frame(fr, RL_ETHERTYPE_IPV6);
    n += ipv6_udp(fr + n, 30, true);
    expect_all_cuts_fail(RL_LINKTYPE_LINUX_SLL2, fr, n);

    memcpy(fr, (uint8_t[]){2, 0, 0, 0}, 4);
    n = 4 + ipv4_udp(fr + 4, 30);
    expect_all_cuts_fail(RL_LINKTYPE_NULL, fr, n);

    memcpy(fr, (uint8_t[]){0, 0, 0, 24}, 4);
    n = 4 + ipv6_udp(fr + 4, 30, false);
    expect_all_cuts_fail(RL_LINKTYPE_LOOP, fr, n);

    n = ipv4_udp(fr, 30);
    fr[0] = 0x46; /* one word of options */
    memmove(fr + 24, fr + 20, n - 20);
    memset(fr + 20, 1, 4); /* NOP options */
    n += 4;
    put16(fr + 2, (uint16_t)n);
    expect_all_cuts_fail(RL_LINKTYPE_RAW, fr, n);
}

static void test_corrupt_fields(void **state)
{
    (void)state;
    uint8_t base[FRAME_MAX], fr[FRAME_MAX];
    size_t n = ipv4_udp(base, 30);
    struct rl_net_frame f;
    struct {
        size_t at;
        uint8_t val;
        int want;
    } cases[] = {
        {0, 0x44, RL_ECORRUPT},  /* IHL 4 words */
        {0, 0x4F, RL_ETRUNC},    /* IHL 60 bytes, more than the frame has */
        {2, 0x00, RL_ECORRUPT},  /* total length 0x00NN: below the header */
        {2, 0xFF, 0},            /* total length past the capture: parsed, truncated */
        {24, 0x00, RL_ECORRUPT}, /* UDP length (high byte 0 -> 0x0000 low? see below) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(fr, base, n);
        fr[cases[i].at] = cases[i].val;
        if (cases[i].at == 2)
            fr[3] = cases[i].val == 0 ? 0x10 : 0xFF;
        if (cases[i].at == 24)
            fr[25] = 4; /* UDP length 4 < 8 */
        int rc = rl_net_parse(RL_LINKTYPE_RAW, fr, n, &f);
        if (rc != cases[i].want)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].want, f.reason);
        if (cases[i].want == 0)
            assert_true(f.truncated);
        else
            assert_true(strlen(f.reason) > 0);
    }
    /* UDP length longer than the IP payload. */
    memcpy(fr, base, n);
    put16(fr + 24, 200);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_RAW, fr, n, &f), RL_ECORRUPT);
    assert_true(f.layers & RL_NET_L_IPV4);
    assert_false(f.layers & RL_NET_L_UDP);
    /* A bad header checksum is reported, not an error (offload). */
    memcpy(fr, base, n);
    fr[10] ^= 0xFF;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_RAW, fr, n, &f), 0);
    assert_false(f.ip_checksum_ok);
    /* A bad UDP checksum is found by the check. */
    memcpy(fr, base, n);
    fr[n - 1] ^= 0x01;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_RAW, fr, n, &f), 0);
    assert_int_equal(rl_net_udp_checksum_check(&f), 0);
    /* IPv6 jumbogram and too many extension headers. */
    n = ipv6_udp(fr, 10, false);
    put16(fr + 4, 0);
    fr[6] = 0;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV6, fr, n, &f), RL_EUNSUPPORTED);
    uint8_t big[RL_IPV6_HEADER_LEN + 8 * (RL_NET_MAX_IPV6_EXT + 1)];
    memset(big, 0, sizeof big);
    big[0] = 0x60;
    put16(big + 4, 8 * (RL_NET_MAX_IPV6_EXT + 1));
    big[6] = 60;
    for (int i = 0; i <= RL_NET_MAX_IPV6_EXT; i++)
        big[RL_IPV6_HEADER_LEN + 8 * i] = 60;
    assert_int_equal(rl_net_parse(RL_LINKTYPE_IPV6, big, sizeof big, &f), RL_EUNSUPPORTED);
    /* TSO: total length 0 means the frame's length. */
    n = ipv4_udp(fr, 30);
    put16(fr + 2, 0);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_RAW, fr, n, &f), 0);
    assert_int_equal(f.payload_len, 30);
}

/* ---- reassembly ---- */

#define DGRAM_PAYLOAD 4000

#define MAX_FRAGS 512

struct frags {
    uint8_t frames[MAX_FRAGS][1600];
    size_t len[MAX_FRAGS];
    size_t n;
    uint8_t udp[DGRAM_PAYLOAD + 8]; /* the whole IP payload */
    size_t udp_len;
};

/* One Ethernet/IPv4 fragment holding len bytes of data, claiming to be
 * at payload offset off. */
static size_t frag_frame_at(uint8_t *fr, const uint8_t *data, size_t off, size_t len, bool more,
                            uint16_t id)
{
    size_t n = eth_header(fr, RL_ETHERTYPE_IPV4);
    uint8_t *ip = fr + n;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + len));
    put16(ip + 4, id);
    put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
    ip[8] = 64;
    ip[9] = RL_IPPROTO_UDP;
    memcpy(ip + 12, SRC_IP, 4);
    memcpy(ip + 16, DST_IP, 4);
    put16(ip + 10, rl_net_inet_checksum(ip, 20));
    memcpy(ip + 20, data, len);
    return n + 20 + len;
}

/* One Ethernet/IPv4 fragment of ip payload bytes [off, off+len). */
static size_t frag_frame(uint8_t *fr, const uint8_t *l4, size_t off, size_t len, bool more,
                         uint16_t id)
{
    return frag_frame_at(fr, l4 + off, off, len, more, id);
}

/* A UDP datagram with DGRAM_PAYLOAD bytes split into pieces of step bytes. */
static void make_frags(struct frags *q, size_t step, uint16_t id)
{
    uint8_t whole[FRAME_MAX];
    uint8_t pl[DGRAM_PAYLOAD];
    fill_payload(pl, sizeof pl, (unsigned)id);
    struct rl_net_udp_spec s = spec();
    s.ip_id = id;
    size_t len = 0;
    assert_int_equal(rl_net_build_udp_ipv4(&s, pl, sizeof pl, whole, sizeof whole, &len), 0);
    q->udp_len = len - 20;
    memcpy(q->udp, whole + 20, q->udp_len);
    q->n = 0;
    for (size_t off = 0; off < q->udp_len; off += step) {
        size_t l = q->udp_len - off < step ? q->udp_len - off : step;
        assert_true(q->n < MAX_FRAGS);
        q->len[q->n] = frag_frame(q->frames[q->n], q->udp, off, l, off + l < q->udp_len, id);
        q->n++;
    }
}

/* Feeds fragment i; returns the feed result. */
static int feed(struct rl_ipfrag *r, struct frags *q, size_t i, uint64_t t, struct rl_net_frame *f)
{
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, q->frames[i], q->len[i], f), 0);
    assert_true(f->layers & RL_NET_L_FRAGMENT);
    return rl_ipfrag_feed(r, f, t);
}

static void expect_whole(const struct rl_net_frame *f, uint16_t id)
{
    assert_true(f->layers & RL_NET_L_UDP);
    assert_false(f->layers & RL_NET_L_FRAGMENT);
    assert_int_equal(f->payload_len, DGRAM_PAYLOAD);
    uint8_t pl[DGRAM_PAYLOAD];
    fill_payload(pl, sizeof pl, id);
    assert_memory_equal(f->payload, pl, DGRAM_PAYLOAD);
    assert_int_equal(rl_net_udp_checksum_check(f), 1);
}

static void run_order(const size_t *order, size_t n_order, size_t step)
{
    struct frags *q = malloc(sizeof *q);
    assert_non_null(q);
    make_frags(q, step, 77);
    struct rl_ipfrag *r;
    assert_int_equal(rl_ipfrag_new(&r, 0, 0), 0);
    struct rl_net_frame f;
    int done = 0;
    for (size_t k = 0; k < n_order; k++) {
        int rc = feed(r, q, order[k], 1000 + k, &f);
        assert_true(rc >= 0);
        if (rc == 1) {
            expect_whole(&f, 77);
            done++;
            assert_int_equal(k, n_order - 1);
        }
    }
    assert_int_equal(done, 1);
    struct rl_ipfrag_stats st;
    rl_ipfrag_stats(r, &st);
    assert_int_equal(st.completed, 1);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.bytes, 0);
    rl_ipfrag_free(r);
    free(q);
}

static void test_frag_orders(void **state)
{
    (void)state;
    /* 4008 bytes in 1480-byte pieces: 3 fragments. */
    run_order((size_t[]){0, 1, 2}, 3, 1480);
    run_order((size_t[]){2, 1, 0}, 3, 1480);
    run_order((size_t[]){1, 2, 0}, 3, 1480);
    /* 8-byte pieces: 501 fragments, reversed and interleaved. */
    run_order((size_t[]){0, 2, 4, 6, 1, 3, 5}, 7, 600);
    size_t order[501];
    for (size_t i = 0; i < 501; i++)
        order[i] = 500 - i;
    run_order(order, 501, 8);
    /* Evens up, then odds down. */
    size_t k = 0;
    for (size_t i = 0; i < 501; i += 2)
        order[k++] = i;
    for (size_t i = 499;; i -= 2) {
        order[k++] = i;
        if (i == 1)
            break;
    }
    run_order(order, 501, 8);
}

static void test_frag_overlap_duplicate(void **state)
{
    (void)state;
    struct frags *q = malloc(sizeof *q);
    assert_non_null(q);
    make_frags(q, 1480, 9);
    struct rl_ipfrag *r;
    assert_int_equal(rl_ipfrag_new(&r, 0, 0), 0);
    struct rl_net_frame f;
    uint8_t fr[2048];
    /* Duplicate of the first fragment, then an overlapping piece with
     * the same bytes [1000, 2000), then the rest. */
    assert_int_equal(feed(r, q, 0, 1, &f), 0);
    assert_int_equal(feed(r, q, 0, 2, &f), 0);
    size_t n = frag_frame(fr, q->udp, 1000, 1000, true, 9);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), 0);
    assert_int_equal(rl_ipfrag_feed(r, &f, 3), 0);
    assert_int_equal(feed(r, q, 2, 4, &f), 0);
    assert_int_equal(feed(r, q, 1, 5, &f), 1);
    expect_whole(&f, 9);
    struct rl_ipfrag_stats st;
    rl_ipfrag_stats(r, &st);
    assert_int_equal(st.duplicates, 1); /* the repeat; the overlap added bytes */
    /* A late duplicate after completion starts a new datagram; it is
     * never completed and expires. */
    assert_int_equal(feed(r, q, 2, 6, &f), 0);
    rl_ipfrag_stats(r, &st);
    assert_int_equal(st.pending, 1);
    assert_int_equal(rl_ipfrag_expire(r, 6 + 31000000000ull), 1);

    /* Overlap with different bytes: the datagram is dropped. */
    assert_int_equal(feed(r, q, 0, 100, &f), 0);
    uint8_t bad[DGRAM_PAYLOAD + 8];
    memcpy(bad, q->udp, q->udp_len);
    bad[1200] ^= 0x55;
    n = frag_frame(fr, bad, 1000, 1000, true, 9);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), 0);
    assert_int_equal(rl_ipfrag_feed(r, &f, 101), RL_ECORRUPT);
    assert_non_null(strstr(f.reason, "overlap"));
    rl_ipfrag_stats(r, &st);
    assert_int_equal(st.conflicts, 1);
    assert_int_equal(st.pending, 0);

    /* A last fragment that ends before data already seen. */
    assert_int_equal(feed(r, q, 1, 200, &f), 0);
    n = frag_frame(fr, q->udp, 1480, 8, false, 9);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), 0);
    assert_int_equal(rl_ipfrag_feed(r, &f, 201), RL_ECORRUPT);
    /* A fragment past the end given by the last one. */
    assert_int_equal(feed(r, q, 2, 300, &f), 0);
    n = frag_frame_at(fr, q->udp, 4096, 8, true, 9);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), 0);
    assert_int_equal(rl_ipfrag_feed(r, &f, 301), RL_ECORRUPT);
    /* A middle fragment whose length is not a multiple of 8. */
    n = frag_frame(fr, q->udp, 0, 13, true, 9);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), 0);
    assert_int_equal(rl_ipfrag_feed(r, &f, 400), RL_ECORRUPT);
    /* Ping of death: offset + length past 65515. */
    n = frag_frame_at(fr, q->udp, 65528, 100, false, 10);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), 0);
    assert_int_equal(f.frag_offset, 65528);
    assert_int_equal(rl_ipfrag_feed(r, &f, 500), RL_ETOOBIG);
    rl_ipfrag_free(r);
    free(q);
}

static void test_frag_missing_expired(void **state)
{
    (void)state;
    struct frags *q = malloc(sizeof *q);
    assert_non_null(q);
    make_frags(q, 1480, 5);
    struct rl_ipfrag *r;
    const uint64_t timeout = 1000000000ull;
    assert_int_equal(rl_ipfrag_new(&r, 0, timeout), 0);
    struct rl_net_frame f;
    /* Missing middle fragment: nothing completes. */
    assert_int_equal(feed(r, q, 0, 0, &f), 0);
    assert_int_equal(feed(r, q, 2, 10, &f), 0);
    struct rl_ipfrag_stats st;
    rl_ipfrag_stats(r, &st);
    assert_int_equal(st.pending, 1);
    assert_int_equal(st.completed, 0);
    /* The missing one arrives too late: the first two expired. */
    assert_int_equal(feed(r, q, 1, timeout + 1, &f), 0);
    rl_ipfrag_stats(r, &st);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.pending, 1);
    /* Time going backwards does not expire anything. */
    assert_int_equal(rl_ipfrag_expire(r, 0), 0);
    assert_int_equal(rl_ipfrag_expire(r, 2 * timeout + 2), 1);
    rl_ipfrag_free(r);
    free(q);
}

static void test_frag_bounds(void **state)
{
    (void)state;
    struct frags *q = malloc(sizeof *q);
    assert_non_null(q);
    struct rl_ipfrag *r;
    assert_int_equal(rl_ipfrag_new(&r, 100, 0), -EINVAL);
    /* Entry bound: many datagrams that never complete. */
    assert_int_equal(rl_ipfrag_new(&r, 0, 0), 0);
    struct rl_net_frame f;
    for (unsigned id = 0; id < RL_IPFRAG_MAX_DATAGRAMS + 50; id++) {
        make_frags(q, 1480, (uint16_t)id);
        assert_int_equal(feed(r, q, 0, id, &f), 0);
    }
    struct rl_ipfrag_stats st;
    rl_ipfrag_stats(r, &st);
    assert_int_equal(st.pending, RL_IPFRAG_MAX_DATAGRAMS);
    assert_int_equal(st.evicted, 50);
    /* The newest are kept: the last datagram still completes. */
    make_frags(q, 1480, RL_IPFRAG_MAX_DATAGRAMS + 49);
    assert_int_equal(feed(r, q, 1, 1000, &f), 0);
    assert_int_equal(feed(r, q, 2, 1001, &f), 1);
    expect_whole(&f, RL_IPFRAG_MAX_DATAGRAMS + 49);
    rl_ipfrag_free(r);

    /* Memory bound: room for one datagram; a second evicts the first. */
    assert_int_equal(rl_ipfrag_new(&r, RL_IPFRAG_MAX_PAYLOAD, 0), 0);
    make_frags(q, 1480, 1);
    assert_int_equal(feed(r, q, 2, 0, &f), 0); /* last first: buffer = whole datagram */
    /* A datagram that would take more than the budget with both held. */
    uint8_t fr[2048];
    const uint8_t big[8] = {0};
    size_t n = frag_frame_at(fr, big, RL_IPFRAG_MAX_PAYLOAD - 3, 3, false, 3);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, n, &f), 0);
    assert_int_equal(rl_ipfrag_feed(r, &f, 1), 0);
    rl_ipfrag_stats(r, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.pending, 1);
    assert_true(st.bytes <= RL_IPFRAG_MAX_PAYLOAD);
    rl_ipfrag_free(r);
    free(q);
}

/* ---- builders ---- */

static void test_builders(void **state)
{
    (void)state;
    uint8_t fr[FRAME_MAX];
    struct rl_net_udp_spec s = spec();
    uint8_t pl[RL_UDP_MAX_PAYLOAD + 1];
    fill_payload(pl, sizeof pl, 1);
    size_t len = 0;
    struct rl_net_frame f;
    /* Every size class, with and without checksum. */
    static const size_t sizes[] = {0, 1, 2, 7, 8, 1206, 1472, 1473, 9000, RL_UDP_MAX_PAYLOAD};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int cs = 0; cs < 2; cs++) {
            s.udp_checksum = cs;
            assert_int_equal(rl_net_build_udp_eth(&s, pl, sizes[i], fr, sizeof fr, &len), 0);
            assert_int_equal(len, 42 + sizes[i]);
            assert_int_equal(rl_net_parse(RL_LINKTYPE_ETHERNET, fr, len, &f), 0);
            assert_true(f.ip_checksum_ok);
            assert_int_equal(f.payload_len, sizes[i]);
            assert_memory_equal(f.payload, pl, sizes[i]);
            assert_int_equal(rl_net_udp_checksum_check(&f), cs ? 1 : -1);
            assert_int_equal(f.ip_ttl, 64);
            assert_int_equal(f.frag_id, 0x1234);
        }
    }
    s.udp_checksum = true;
    s.dont_fragment = true;
    s.ttl = 3;
    assert_int_equal(rl_net_build_udp_ipv4(&s, pl, 100, fr, sizeof fr, &len), 0);
    assert_int_equal(rl_net_parse(RL_LINKTYPE_RAW, fr, len, &f), 0);
    assert_true(f.ip_dont_fragment);
    assert_int_equal(f.ip_ttl, 3);
    assert_int_equal(rl_net_udp_checksum_check(&f), 1);
    /* Limits. */
    assert_int_equal(rl_net_build_udp_eth(&s, pl, RL_UDP_MAX_PAYLOAD + 1, fr, sizeof fr, &len),
                     RL_ETOOBIG);
    assert_int_equal(rl_net_build_udp_eth(&s, pl, 100, fr, 141, &len), -ENOBUFS);
    assert_int_equal(rl_net_build_udp_eth(&s, pl, 100, fr, 10, &len), -ENOBUFS);
    assert_int_equal(rl_net_build_udp_ipv4(&s, pl, 100, fr, 127, &len), -ENOBUFS);
    assert_int_equal(rl_net_build_udp_ipv4(&s, pl, 100, fr, 128, &len), 0);
    /* The RFC 1071 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    static const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(rl_net_inet_checksum(ex, sizeof ex), (uint16_t)~0xddf2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet),
        cmocka_unit_test(test_ethernet_padding),
        cmocka_unit_test(test_vlan_qinq),
        cmocka_unit_test(test_sll),
        cmocka_unit_test(test_sll2),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_raw_ip),
        cmocka_unit_test(test_non_udp),
        cmocka_unit_test(test_ipv6_fragment_header),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_corrupt_fields),
        cmocka_unit_test(test_frag_orders),
        cmocka_unit_test(test_frag_overlap_duplicate),
        cmocka_unit_test(test_frag_missing_expired),
        cmocka_unit_test(test_frag_bounds),
        cmocka_unit_test(test_builders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
