/* Link, network and transport parsing of captured frames, IPv4 reassembly,
 * and UDP frame builders (net.h). Sits under the decoders: decode.c peels a
 * frame here down to its application payload.
 *
 * Implements: Ethernet II and the IEEE 802.1Q tag (TPID 0x8100, TCI =
 * PCP:3 DEI:1 VID:12), 802.1ad S-tags (0x88A8, and 0x9100 as found in older
 * QinQ gear); the tcpdump.org link-layer header types LINKTYPE_NULL (4-byte
 * family in the capturing host's byte order), LINKTYPE_LOOP (the same in
 * network order), LINKTYPE_LINUX_SLL (16 bytes: packet type, ARPHRD type,
 * address length, 8 address bytes, protocol) and LINKTYPE_LINUX_SLL2
 * (20 bytes: protocol, reserved, interface index, ARPHRD type, packet type,
 * address length, 8 address bytes), LINKTYPE_RAW/IPV4/IPV6; IPv4 per
 * RFC 791 section 3.1 (header) and 3.2 (fragmentation and reassembly, with
 * the hole bookkeeping of RFC 815 done as a bitmap of 8-octet units), the
 * RFC 1071 checksum; IPv6 per RFC 8200 sections 3 and 4 (extension header
 * chain, Fragment header 4.5); UDP per RFC 768 with the checksum's
 * pseudo-header (RFC 768 for IPv4, RFC 8200 section 8.1 for IPv6). All
 * multi-byte fields are big-endian ("network order"). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "roadlog/decode.h"
#include "roadlog/net.h"

#define SLL_HEADER_LEN       16
#define SLL2_HEADER_LEN      20
#define LOOP_HEADER_LEN      4
#define VLAN_TAG_LEN         4
#define IPV6_FRAG_HEADER_LEN 8
/* An EtherType field at or below this is an IEEE 802.3 length. */
#define ETH_MAX_LENGTH_FIELD 1500
/* Below this an SLL protocol field is a Linux pseudo-protocol, not an
 * EtherType. */
#define ETHERTYPE_MIN 0x0600

/* BSD address families found in LINKTYPE_NULL/LOOP headers. */
#define BSD_AF_INET          2
#define BSD_AF_INET6_BSD     24 /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN  30

/* IPv6 next-header values of extension headers (IANA). */
#define IP6_HOPOPTS  0
#define IP6_ROUTING  43
#define IP6_FRAGMENT 44
#define IP6_AH       51
#define IP6_NONE     59
#define IP6_DSTOPTS  60
#define IP6_MOBILITY 135
#define IP6_HIP      139
#define IP6_SHIM6    140

#define IPV4_FLAG_DF     0x4000
#define IPV4_FLAG_MF     0x2000
#define IPV4_OFFSET_MASK 0x1FFF
#define FRAG_UNIT        8
#define DEFAULT_TTL      64

_Static_assert(RL_ETH_HEADER_LEN == 6 + 6 + 2, "Ethernet II header is dst, src, type");
_Static_assert(RL_IPV4_HEADER_LEN == 20, "IPv4 header without options");
_Static_assert(RL_IPV6_HEADER_LEN == 40, "IPv6 fixed header");
_Static_assert(RL_UDP_HEADER_LEN == 8, "UDP header");
_Static_assert(RL_UDP_MAX_PAYLOAD == 65535 - 20 - 8, "UDP payload limit");
_Static_assert(SLL_HEADER_LEN == 2 + 2 + 2 + 8 + 2, "LINKTYPE_LINUX_SLL header");
_Static_assert(SLL2_HEADER_LEN == 2 + 2 + 4 + 2 + 1 + 1 + 8, "LINKTYPE_LINUX_SLL2 header");

/* ---- helpers ---- */

static uint16_t get_be16(const uint8_t *b)
{
    return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static uint32_t get_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put_be16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static uint16_t cur_be16(struct rl_cursor *c)
{
    const uint8_t *b;
    return rl__cursor_take(c, 2, &b) ? get_be16(b) : 0;
}

static uint32_t cur_be32(struct rl_cursor *c)
{
    const uint8_t *b;
    return rl__cursor_take(c, 4, &b) ? get_be32(b) : 0;
}

static void cur_copy(struct rl_cursor *c, void *dst, size_t n)
{
    const uint8_t *b;
    if (rl__cursor_take(c, n, &b))
        memcpy(dst, b, n);
}

static int fail(struct rl_net_frame *f, int code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct rl_net_frame *f, int code, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
    f->reason_offset = offset;
    return code;
}

static size_t at(const struct rl_cursor *c, const uint8_t *frame)
{
    return (size_t)(c->p - frame);
}

/* One's-complement sum of p as big-endian 16-bit words, an odd last byte
 * padded with zero (RFC 1071 section 4.1), added to sum. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += get_be16(p + i);
    if (i < len)
        sum += (uint64_t)p[i] << 8;
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t rl_net_inet_checksum(const uint8_t *p, size_t len)
{
    return csum_fold(csum_add(0, p, len));
}

/* ---- layers ---- */

static int parse_eth(struct rl_cursor *c, struct rl_net_frame *f, uint16_t *et)
{
    if (c->left < RL_ETH_HEADER_LEN)
        return fail(f, RL_ETRUNC, 0, "Ethernet header: %zu of %d bytes", c->left,
                    RL_ETH_HEADER_LEN);
    cur_copy(c, f->eth_dst, 6);
    cur_copy(c, f->eth_src, 6);
    *et = cur_be16(c);
    f->layers |= RL_NET_L_ETH;
    return 0;
}

static int parse_sll(struct rl_cursor *c, struct rl_net_frame *f, uint16_t *et)
{
    if (c->left < SLL_HEADER_LEN)
        return fail(f, RL_ETRUNC, 0, "Linux cooked header: %zu of %d bytes", c->left,
                    SLL_HEADER_LEN);
    f->sll_pkttype = cur_be16(c);
    f->sll_hatype = cur_be16(c);
    (void)cur_be16(c); /* address length */
    uint8_t addr[8];
    cur_copy(c, addr, sizeof addr);
    *et = cur_be16(c);
    f->layers |= RL_NET_L_SLL;
    return 0;
}

static int parse_sll2(struct rl_cursor *c, struct rl_net_frame *f, uint16_t *et)
{
    if (c->left < SLL2_HEADER_LEN)
        return fail(f, RL_ETRUNC, 0, "Linux cooked v2 header: %zu of %d bytes", c->left,
                    SLL2_HEADER_LEN);
    *et = cur_be16(c);
    (void)cur_be16(c); /* reserved */
    f->sll_ifindex = cur_be32(c);
    f->sll_hatype = cur_be16(c);
    f->sll_pkttype = rl__cursor_u8(c);
    (void)rl__cursor_u8(c); /* address length */
    uint8_t addr[8];
    cur_copy(c, addr, sizeof addr);
    f->layers |= RL_NET_L_SLL;
    return 0;
}

static int parse_loop(struct rl_cursor *c, struct rl_net_frame *f, bool network_order, uint16_t *et)
{
    const uint8_t *b;
    if (!rl__cursor_take(c, LOOP_HEADER_LEN, &b))
        return fail(f, RL_ETRUNC, 0, "loopback header: %zu of %d bytes", c->left, LOOP_HEADER_LEN);
    uint32_t fam;
    if (network_order) {
        fam = get_be32(b);
    } else {
        /* Written in the capturing host's order, unknown to us: the
         * families are all small, so a value only in the high half was
         * written big-endian. */
        fam = rl__get_u32le(b);
        if ((fam & 0xFFFF) == 0 && fam != 0)
            fam = get_be32(b);
    }
    f->loop_family = fam;
    f->layers |= RL_NET_L_LOOP;
    switch (fam) {
    case BSD_AF_INET:
        *et = RL_ETHERTYPE_IPV4;
        return 0;
    case BSD_AF_INET6_BSD:
    case BSD_AF_INET6_FREEBSD:
    case BSD_AF_INET6_DARWIN:
        *et = RL_ETHERTYPE_IPV6;
        return 0;
    default:
        return fail(f, RL_EUNSUPPORTED, 0, "loopback address family %u", fam);
    }
}

static int parse_raw(struct rl_cursor *c, struct rl_net_frame *f, uint16_t *et)
{
    if (c->left < 1)
        return fail(f, RL_ETRUNC, 0, "raw IP frame is empty");
    unsigned ver = c->p[0] >> 4;
    if (ver == 4)
        *et = RL_ETHERTYPE_IPV4;
    else if (ver == 6)
        *et = RL_ETHERTYPE_IPV6;
    else
        return fail(f, RL_ECORRUPT, 0, "raw IP version %u", ver);
    return 0;
}

static bool is_vlan_tpid(uint16_t et)
{
    return et == RL_ETHERTYPE_VLAN || et == RL_ETHERTYPE_QINQ || et == RL_ETHERTYPE_QINQ_OLD;
}

static int parse_vlans(struct rl_cursor *c, const uint8_t *frame, struct rl_net_frame *f,
                       uint16_t *et)
{
    while (is_vlan_tpid(*et)) {
        if (f->n_vlans == RL_NET_MAX_VLANS)
            return fail(f, RL_EUNSUPPORTED, at(c, frame), "more than %d VLAN tags",
                        RL_NET_MAX_VLANS);
        if (c->left < VLAN_TAG_LEN)
            return fail(f, RL_ETRUNC, at(c, frame), "VLAN tag: %zu of %d bytes", c->left,
                        VLAN_TAG_LEN);
        uint16_t tci = cur_be16(c);
        f->vlan_tpid[f->n_vlans] = *et;
        f->vlan_id[f->n_vlans] = tci & 0x0FFF;
        f->vlan_pcp[f->n_vlans] = (uint8_t)(tci >> 13);
        f->n_vlans++;
        *et = cur_be16(c);
        f->layers |= RL_NET_L_VLAN;
    }
    return 0;
}

static int parse_ipv4(struct rl_cursor *c, const uint8_t *frame, struct rl_net_frame *f)
{
    const uint8_t *ip = c->p;
    size_t off = at(c, frame), avail = c->left;
    if (avail < RL_IPV4_HEADER_LEN)
        return fail(f, RL_ETRUNC, off, "IPv4 header: %zu of %d bytes", avail, RL_IPV4_HEADER_LEN);
    unsigned ver = ip[0] >> 4;
    size_t ihl = (size_t)(ip[0] & 0x0F) * 4;
    if (ver != 4)
        return fail(f, RL_ECORRUPT, off, "IPv4 header has version %u", ver);
    if (ihl < RL_IPV4_HEADER_LEN)
        return fail(f, RL_ECORRUPT, off, "IPv4 header length %zu < %d", ihl, RL_IPV4_HEADER_LEN);
    if (ihl > avail)
        return fail(f, RL_ETRUNC, off, "IPv4 options: header length %zu, %zu bytes left", ihl,
                    avail);
    size_t total = get_be16(ip + 2);
    /* A total length of 0 is what segmentation offload leaves in frames
     * captured on the sending host: the frame's own length stands. */
    if (total == 0)
        total = avail;
    if (total < ihl)
        return fail(f, RL_ECORRUPT, off, "IPv4 total length %zu < header length %zu", total, ihl);
    if (total > avail) {
        /* Cut by the capture (snaplen) or sent short (some LiDARs' position
         * packets claim more than they carry): parse what is there. */
        f->truncated = true;
        f->claimed_len = total;
        total = avail;
    }
    uint16_t ff = get_be16(ip + 6);
    f->ip_version = 4;
    f->frag_id = get_be16(ip + 4);
    f->ip_dont_fragment = (ff & IPV4_FLAG_DF) != 0;
    f->frag_more = (ff & IPV4_FLAG_MF) != 0;
    f->frag_offset = (uint32_t)(ff & IPV4_OFFSET_MASK) * FRAG_UNIT;
    f->ip_ttl = ip[8];
    f->ip_proto = ip[9];
    memcpy(f->ip_src, ip + 12, 4);
    memcpy(f->ip_dst, ip + 16, 4);
    f->ip_header = ip;
    f->ip_header_len = ihl;
    f->ip_total_len = total;
    f->ip_checksum_ok = rl_net_inet_checksum(ip, ihl) == 0;
    f->l4 = ip + ihl;
    f->l4_len = total - ihl;
    f->payload = f->l4;
    f->payload_len = f->l4_len;
    f->layers |= RL_NET_L_IPV4;
    if (f->frag_more || f->frag_offset != 0)
        f->layers |= RL_NET_L_FRAGMENT;
    return 0;
}

static bool is_ipv6_ext(uint8_t nh)
{
    switch (nh) {
    case IP6_HOPOPTS:
    case IP6_ROUTING:
    case IP6_FRAGMENT:
    case IP6_AH:
    case IP6_DSTOPTS:
    case IP6_MOBILITY:
    case IP6_HIP:
    case IP6_SHIM6:
        return true;
    default:
        return false;
    }
}

static int parse_ipv6(struct rl_cursor *c, const uint8_t *frame, struct rl_net_frame *f)
{
    const uint8_t *ip = c->p;
    size_t off = at(c, frame), avail = c->left;
    if (avail < RL_IPV6_HEADER_LEN)
        return fail(f, RL_ETRUNC, off, "IPv6 header: %zu of %d bytes", avail, RL_IPV6_HEADER_LEN);
    unsigned ver = ip[0] >> 4;
    if (ver != 6)
        return fail(f, RL_ECORRUPT, off, "IPv6 header has version %u", ver);
    size_t plen = get_be16(ip + 4);
    uint8_t nh = ip[6];
    if (plen == 0 && nh == IP6_HOPOPTS)
        return fail(f, RL_EUNSUPPORTED, off + 4, "IPv6 jumbogram");
    if (RL_IPV6_HEADER_LEN + plen > avail)
        return fail(f, RL_ETRUNC, off + 4, "IPv6 payload length %zu, only %zu bytes captured", plen,
                    avail - RL_IPV6_HEADER_LEN);
    f->ip_version = 6;
    f->ip_ttl = ip[7];
    memcpy(f->ip_src, ip + 8, 16);
    memcpy(f->ip_dst, ip + 24, 16);
    f->ip_header = ip;
    f->ip_total_len = RL_IPV6_HEADER_LEN + plen;
    f->ip_checksum_ok = true;
    f->layers |= RL_NET_L_IPV6;

    struct rl_cursor e;
    rl__cursor_init(&e, ip + RL_IPV6_HEADER_LEN, plen);
    int n_ext = 0;
    while (is_ipv6_ext(nh)) {
        size_t eoff = at(&e, frame);
        if (n_ext++ == RL_NET_MAX_IPV6_EXT)
            return fail(f, RL_EUNSUPPORTED, eoff, "more than %d IPv6 extension headers",
                        RL_NET_MAX_IPV6_EXT);
        if (e.left < 2)
            return fail(f, RL_ETRUNC, eoff, "IPv6 extension header %u: %zu of 2 bytes", nh, e.left);
        uint8_t next = e.p[0];
        size_t hlen;
        if (nh == IP6_FRAGMENT)
            hlen = IPV6_FRAG_HEADER_LEN;
        else if (nh == IP6_AH)
            hlen = ((size_t)e.p[1] + 2) * 4;
        else
            hlen = ((size_t)e.p[1] + 1) * 8;
        const uint8_t *h;
        if (!rl__cursor_take(&e, hlen, &h))
            return fail(f, RL_ETRUNC, eoff, "IPv6 extension header %u: %zu of %zu bytes", nh,
                        e.left, hlen);
        if (nh == IP6_FRAGMENT) {
            uint16_t of = get_be16(h + 2);
            f->frag_offset = (uint32_t)(of >> 3) * FRAG_UNIT;
            f->frag_more = (of & 1) != 0;
            f->frag_id = get_be32(h + 4);
            nh = next;
            /* An atomic fragment (offset 0, M clear; RFC 6946) is a whole
             * datagram; anything else stops here, as what follows is
             * fragment data. */
            if (f->frag_offset != 0 || f->frag_more) {
                f->layers |= RL_NET_L_FRAGMENT;
                break;
            }
            continue;
        }
        nh = next;
    }
    f->ip_proto = nh;
    f->ip_header_len = RL_IPV6_HEADER_LEN + (plen - e.left);
    f->l4 = e.p;
    f->l4_len = nh == IP6_NONE ? 0 : e.left;
    f->payload = f->l4;
    f->payload_len = f->l4_len;
    return 0;
}

/* Parses the UDP header at f->l4 (l4_len bytes); off is its frame offset. */
static int parse_udp(struct rl_net_frame *f, size_t off)
{
    if (f->l4_len < RL_UDP_HEADER_LEN)
        return fail(f, RL_ETRUNC, off, "UDP header: %zu of %d bytes", f->l4_len, RL_UDP_HEADER_LEN);
    const uint8_t *u = f->l4;
    uint16_t ulen = get_be16(u + 4);
    if (ulen == 0 && f->ip_version == 6)
        return fail(f, RL_EUNSUPPORTED, off + 4, "UDP jumbogram (length 0)");
    if (ulen < RL_UDP_HEADER_LEN)
        return fail(f, RL_ECORRUPT, off + 4, "UDP length %u < %d", ulen, RL_UDP_HEADER_LEN);
    if (ulen > f->l4_len && !f->truncated)
        return fail(f, RL_ECORRUPT, off + 4, "UDP length %u exceeds the IP payload of %zu", ulen,
                    f->l4_len);
    if (ulen > f->l4_len)
        ulen = (uint16_t)f->l4_len;
    f->src_port = get_be16(u);
    f->dst_port = get_be16(u + 2);
    f->udp_len = ulen;
    f->udp_checksum = get_be16(u + 6);
    f->payload = u + RL_UDP_HEADER_LEN;
    f->payload_len = (size_t)ulen - RL_UDP_HEADER_LEN;
    f->layers |= RL_NET_L_UDP;
    return 0;
}

int rl_net_parse(int linktype, const uint8_t *frame, size_t len, struct rl_net_frame *out)
{
    memset(out, 0, sizeof *out);
    out->linktype = linktype;
    struct rl_cursor c;
    rl__cursor_init(&c, frame, len);
    uint16_t et = 0;
    int rc;
    switch (linktype) {
    case RL_LINKTYPE_ETHERNET:
        rc = parse_eth(&c, out, &et);
        break;
    case RL_LINKTYPE_LINUX_SLL:
        rc = parse_sll(&c, out, &et);
        break;
    case RL_LINKTYPE_LINUX_SLL2:
        rc = parse_sll2(&c, out, &et);
        break;
    case RL_LINKTYPE_NULL:
        rc = parse_loop(&c, out, false, &et);
        break;
    case RL_LINKTYPE_LOOP:
        rc = parse_loop(&c, out, true, &et);
        break;
    case RL_LINKTYPE_RAW:
        rc = parse_raw(&c, out, &et);
        break;
    case RL_LINKTYPE_IPV4:
        et = RL_ETHERTYPE_IPV4;
        rc = 0;
        break;
    case RL_LINKTYPE_IPV6:
        et = RL_ETHERTYPE_IPV6;
        rc = 0;
        break;
    default:
        return fail(out, RL_EUNSUPPORTED, 0, "link type %d is not parsed", linktype);
    }
    if (rc != 0)
        return rc;
    rc = parse_vlans(&c, frame, out, &et);
    if (rc != 0)
        return rc;
    out->ethertype = et;
    out->payload = c.p;
    out->payload_len = c.left;
    if ((out->layers & RL_NET_L_ETH) && et <= ETH_MAX_LENGTH_FIELD)
        return 0; /* IEEE 802.3 length field: LLC follows, not IP */
    if (et == RL_ETHERTYPE_IPV4)
        rc = parse_ipv4(&c, frame, out);
    else if (et == RL_ETHERTYPE_IPV6)
        rc = parse_ipv6(&c, frame, out);
    else
        return 0;
    if (rc != 0)
        return rc;
    if ((out->layers & RL_NET_L_FRAGMENT) || out->ip_proto != RL_IPPROTO_UDP)
        return 0;
    return parse_udp(out, (size_t)(out->l4 - frame));
}

int rl_net_udp_checksum_check(const struct rl_net_frame *f)
{
    if (!(f->layers & RL_NET_L_UDP) || (f->layers & RL_NET_L_FRAGMENT))
        return -1;
    if (f->ip_version == 4 && f->udp_checksum == 0)
        return -1;
    uint8_t pseudo[40];
    size_t n;
    if (f->ip_version == 4) {
        memcpy(pseudo, f->ip_src, 4);
        memcpy(pseudo + 4, f->ip_dst, 4);
        pseudo[8] = 0;
        pseudo[9] = RL_IPPROTO_UDP;
        put_be16(pseudo + 10, f->udp_len);
        n = 12;
    } else {
        memcpy(pseudo, f->ip_src, 16);
        memcpy(pseudo + 16, f->ip_dst, 16);
        rl__put_u32le(pseudo + 32, 0);
        put_be16(pseudo + 34, f->udp_len);
        memset(pseudo + 36, 0, 3);
        pseudo[39] = RL_IPPROTO_UDP;
        n = 40;
    }
    uint64_t sum = csum_add(0, pseudo, n);
    sum = csum_add(sum, f->l4, f->udp_len);
    return csum_fold(sum) == 0 ? 1 : 0;
}

/* ---- builders ---- */

int rl_net_build_udp_ipv4(const struct rl_net_udp_spec *s, const uint8_t *payload, size_t len,
                          uint8_t *out, size_t cap, size_t *out_len)
{
    if (len > RL_UDP_MAX_PAYLOAD)
        return RL_ETOOBIG;
    size_t total = RL_IPV4_HEADER_LEN + RL_UDP_HEADER_LEN + len;
    if (cap < total)
        return -ENOBUFS;
    uint8_t *ip = out, *u = out + RL_IPV4_HEADER_LEN;
    ip[0] = 0x45; /* version 4, 5 words */
    ip[1] = 0;
    put_be16(ip + 2, (uint16_t)total);
    put_be16(ip + 4, s->ip_id);
    put_be16(ip + 6, s->dont_fragment ? IPV4_FLAG_DF : 0);
    ip[8] = s->ttl ? s->ttl : DEFAULT_TTL;
    ip[9] = RL_IPPROTO_UDP;
    put_be16(ip + 10, 0);
    memcpy(ip + 12, s->ip_src, 4);
    memcpy(ip + 16, s->ip_dst, 4);
    put_be16(ip + 10, rl_net_inet_checksum(ip, RL_IPV4_HEADER_LEN));

    uint16_t ulen = (uint16_t)(RL_UDP_HEADER_LEN + len);
    put_be16(u, s->src_port);
    put_be16(u + 2, s->dst_port);
    put_be16(u + 4, ulen);
    put_be16(u + 6, 0);
    if (len > 0)
        memcpy(u + RL_UDP_HEADER_LEN, payload, len);
    if (s->udp_checksum) {
        uint8_t pseudo[12];
        memcpy(pseudo, s->ip_src, 4);
        memcpy(pseudo + 4, s->ip_dst, 4);
        pseudo[8] = 0;
        pseudo[9] = RL_IPPROTO_UDP;
        put_be16(pseudo + 10, ulen);
        uint16_t sum = csum_fold(csum_add(csum_add(0, pseudo, sizeof pseudo), u, ulen));
        /* RFC 768: a computed zero is sent as all ones. */
        put_be16(u + 6, sum == 0 ? 0xFFFF : sum);
    }
    *out_len = total;
    return 0;
}

int rl_net_build_udp_eth(const struct rl_net_udp_spec *s, const uint8_t *payload, size_t len,
                         uint8_t *out, size_t cap, size_t *out_len)
{
    if (len > RL_UDP_MAX_PAYLOAD)
        return RL_ETOOBIG;
    if (cap < RL_ETH_HEADER_LEN)
        return -ENOBUFS;
    memcpy(out, s->eth_dst, 6);
    memcpy(out + 6, s->eth_src, 6);
    put_be16(out + 12, RL_ETHERTYPE_IPV4);
    size_t n = 0;
    int rc = rl_net_build_udp_ipv4(s, payload, len, out + RL_ETH_HEADER_LEN,
                                   cap - RL_ETH_HEADER_LEN, &n);
    if (rc != 0)
        return rc;
    *out_len = RL_ETH_HEADER_LEN + n;
    return 0;
}

/* ---- IPv4 reassembly ---- */

#define FRAG_MAX_UNITS     ((RL_IPFRAG_MAX_PAYLOAD + FRAG_UNIT - 1) / FRAG_UNIT)
#define DEFAULT_TIMEOUT_NS (30ull * 1000000000ull)
#define DEFAULT_MAX_BYTES  ((size_t)RL_IPFRAG_MAX_DATAGRAMS * 65536)
/* Buffers grow in steps of this (or to the known total). */
#define FRAG_GROW_STEP 2048

struct frag_entry {
    uint8_t src[4], dst[4];
    uint8_t proto;
    uint16_t id;
    uint64_t first_ns; /* frame time of the first fragment seen */
    uint64_t order;    /* creation order, for evicting the oldest */
    uint8_t *buf;
    size_t cap;
    size_t max_end; /* highest fragment end seen */
    size_t total;   /* payload length, once the last fragment is seen */
    bool have_last;
    size_t n_covered; /* 8-octet units held */
    uint8_t covered[(FRAG_MAX_UNITS + 7) / 8];
};

struct rl_ipfrag {
    size_t max_bytes;
    uint64_t timeout_ns;
    struct frag_entry *entries[RL_IPFRAG_MAX_DATAGRAMS];
    size_t n_entries;
    size_t bytes;
    uint64_t next_order;
    uint8_t *done; /* the last completed datagram, handed out by feed */
    struct rl_ipfrag_stats st;
};

int rl_ipfrag_new(struct rl_ipfrag **out, size_t max_bytes, uint64_t timeout_ns)
{
    *out = NULL;
    if (max_bytes != 0 && max_bytes < RL_IPFRAG_MAX_PAYLOAD)
        return -EINVAL;
    struct rl_ipfrag *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
    f->timeout_ns = timeout_ns ? timeout_ns : DEFAULT_TIMEOUT_NS;
    *out = f;
    return 0;
}

static void drop_entry(struct rl_ipfrag *f, size_t i)
{
    struct frag_entry *e = f->entries[i];
    f->bytes -= e->cap;
    free(e->buf);
    free(e);
    f->entries[i] = f->entries[--f->n_entries];
    f->entries[f->n_entries] = NULL;
}

void rl_ipfrag_free(struct rl_ipfrag *f)
{
    if (!f)
        return;
    while (f->n_entries > 0)
        drop_entry(f, f->n_entries - 1);
    free(f->done);
    free(f);
}

size_t rl_ipfrag_expire(struct rl_ipfrag *f, uint64_t now_ns)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_entries;) {
        const struct frag_entry *e = f->entries[i];
        if (now_ns > e->first_ns && now_ns - e->first_ns > f->timeout_ns) {
            drop_entry(f, i);
            n++;
        } else {
            i++;
        }
    }
    f->st.expired += n;
    return n;
}

void rl_ipfrag_stats(const struct rl_ipfrag *f, struct rl_ipfrag_stats *out)
{
    *out = f->st;
    out->pending = f->n_entries;
    out->bytes = f->bytes;
}

/* Index of the oldest entry other than keep (SIZE_MAX for none). */
static size_t oldest_entry(const struct rl_ipfrag *f, const struct frag_entry *keep)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < f->n_entries; i++) {
        if (f->entries[i] == keep)
            continue;
        if (best == SIZE_MAX || f->entries[i]->order < f->entries[best]->order)
            best = i;
    }
    return best;
}

static size_t entry_index(const struct rl_ipfrag *f, const struct frag_entry *e)
{
    for (size_t i = 0; i < f->n_entries; i++)
        if (f->entries[i] == e)
            return i;
    return SIZE_MAX;
}

static struct frag_entry *find_entry(const struct rl_ipfrag *f, const struct rl_net_frame *fr)
{
    for (size_t i = 0; i < f->n_entries; i++) {
        struct frag_entry *e = f->entries[i];
        if (e->id == fr->frag_id && e->proto == fr->ip_proto && !memcmp(e->src, fr->ip_src, 4) &&
            !memcmp(e->dst, fr->ip_dst, 4))
            return e;
    }
    return NULL;
}

static int new_entry(struct rl_ipfrag *f, const struct rl_net_frame *fr, uint64_t now_ns,
                     struct frag_entry **out)
{
    if (f->n_entries == RL_IPFRAG_MAX_DATAGRAMS) {
        drop_entry(f, oldest_entry(f, NULL));
        f->st.evicted++;
    }
    struct frag_entry *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    memcpy(e->src, fr->ip_src, 4);
    memcpy(e->dst, fr->ip_dst, 4);
    e->proto = fr->ip_proto;
    e->id = (uint16_t)fr->frag_id;
    e->first_ns = now_ns;
    e->order = f->next_order++;
    f->entries[f->n_entries++] = e;
    *out = e;
    return 0;
}

/* Grows e's buffer to hold need bytes within the memory budget, evicting
 * the oldest other datagrams when needed. */
static int reserve(struct rl_ipfrag *f, struct frag_entry *e, size_t need)
{
    if (need <= e->cap)
        return 0;
    if (need > f->max_bytes)
        return RL_ETOOBIG;
    size_t want = e->have_last ? e->total : need + FRAG_GROW_STEP - need % FRAG_GROW_STEP;
    if (want > RL_IPFRAG_MAX_PAYLOAD || want > f->max_bytes)
        want = need;
    size_t extra = want - e->cap;
    while (f->bytes + extra > f->max_bytes) {
        size_t i = oldest_entry(f, e);
        if (i == SIZE_MAX)
            return RL_ETOOBIG;
        drop_entry(f, i);
        f->st.evicted++;
    }
    uint8_t *nb = realloc(e->buf, want);
    if (!nb)
        return -ENOMEM;
    e->buf = nb;
    e->cap = want;
    f->bytes += extra;
    return 0;
}

static bool unit_covered(const struct frag_entry *e, size_t u)
{
    return (e->covered[u / 8] >> (u % 8)) & 1;
}

int rl_ipfrag_feed(struct rl_ipfrag *f, struct rl_net_frame *fr, uint64_t now_ns)
{
    if (fr->ip_version != 4 || !(fr->layers & RL_NET_L_IPV4) || !(fr->layers & RL_NET_L_FRAGMENT))
        return fail(fr, -EINVAL, 0, "not an IPv4 fragment");
    free(f->done);
    f->done = NULL;
    (void)rl_ipfrag_expire(f, now_ns);

    size_t off = fr->frag_offset, len = fr->l4_len, end = off + len;
    bool more = fr->frag_more;
    struct frag_entry *e = find_entry(f, fr);
    int rc;
    if (end > RL_IPFRAG_MAX_PAYLOAD) {
        rc = fail(fr, RL_ETOOBIG, 0, "IPv4 fragment at %zu + %zu bytes passes %d", off, len,
                  RL_IPFRAG_MAX_PAYLOAD);
        goto drop;
    }
    if (more && (len == 0 || len % FRAG_UNIT != 0)) {
        rc = fail(fr, RL_ECORRUPT, 0, "IPv4 fragment of %zu bytes with more to come", len);
        goto drop;
    }
    if (!e) {
        rc = new_entry(f, fr, now_ns, &e);
        if (rc != 0)
            return fail(fr, rc, 0, "out of memory");
    }
    if (!more) {
        if ((e->have_last && e->total != end) || e->max_end > end) {
            rc = fail(fr, RL_ECORRUPT, 0, "IPv4 last fragment ends at %zu, data seen to %zu", end,
                      e->max_end > e->total ? e->max_end : e->total);
            goto drop;
        }
        e->total = end;
        e->have_last = true;
    } else if (e->have_last && end > e->total) {
        rc = fail(fr, RL_ECORRUPT, 0, "IPv4 fragment ends at %zu, past the last one at %zu", end,
                  e->total);
        goto drop;
    }
    rc = reserve(f, e, end);
    if (rc != 0) {
        fail(fr, rc, 0, "IPv4 datagram of %zu bytes exceeds the %zu-byte reassembly budget", end,
             f->max_bytes);
        goto drop;
    }
    /* Check every unit already held before writing any. */
    size_t u0 = off / FRAG_UNIT, u1 = (end + FRAG_UNIT - 1) / FRAG_UNIT;
    size_t fresh = 0;
    for (size_t u = u0; u < u1; u++) {
        size_t b = u * FRAG_UNIT, n = (b + FRAG_UNIT < end ? b + FRAG_UNIT : end) - b;
        if (!unit_covered(e, u)) {
            fresh++;
            continue;
        }
        if (memcmp(e->buf + b, fr->l4 + (b - off), n) != 0) {
            rc = fail(fr, RL_ECORRUPT, 0,
                      "IPv4 fragments overlap with different data at payload byte %zu", b);
            goto drop;
        }
    }
    if (fresh == 0) {
        f->st.duplicates++;
    } else {
        for (size_t u = u0; u < u1; u++) {
            if (unit_covered(e, u))
                continue;
            size_t b = u * FRAG_UNIT, n = (b + FRAG_UNIT < end ? b + FRAG_UNIT : end) - b;
            memcpy(e->buf + b, fr->l4 + (b - off), n);
            e->covered[u / 8] |= (uint8_t)(1u << (u % 8));
            e->n_covered++;
        }
    }
    if (end > e->max_end)
        e->max_end = end;
    if (!e->have_last || e->n_covered != (e->total + FRAG_UNIT - 1) / FRAG_UNIT)
        return 0;

    /* Complete: hand the buffer out and forget the entry. */
    size_t total = e->total;
    f->done = e->buf;
    e->buf = NULL;
    f->bytes -= e->cap;
    e->cap = 0;
    drop_entry(f, entry_index(f, e));
    f->st.completed++;
    fr->layers &= ~(uint32_t)RL_NET_L_FRAGMENT;
    fr->frag_offset = 0;
    fr->frag_more = false;
    fr->l4 = f->done;
    fr->l4_len = total;
    fr->payload = f->done;
    fr->payload_len = total;
    fr->ip_total_len = fr->ip_header_len + total;
    if (fr->ip_proto == RL_IPPROTO_UDP) {
        rc = parse_udp(fr, 0);
        if (rc != 0)
            return rc;
    }
    return 1;

drop:
    if (e) {
        size_t i = entry_index(f, e);
        if (i != SIZE_MAX)
            drop_entry(f, i);
        if (rc == RL_ECORRUPT)
            f->st.conflicts++;
    }
    return rc;
}
