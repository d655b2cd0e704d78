/* Link, network and transport layers of a captured frame: parsing by pcap
 * linktype down to the UDP payload, IPv4 fragment reassembly across frames,
 * and builders of Ethernet/IPv4/UDP frames for the replay engine and the
 * simulator. Bytes only: nothing here opens a socket.
 *
 * Link layers: Ethernet II (with 802.1Q/802.1ad VLAN tags, QinQ), Linux
 * cooked capture v1 (SLL) and v2 (SLL2), BSD loopback (NULL, LOOP), raw IP
 * (RAW, IPV4, IPV6). Network: IPv4 (RFC 791) with fragments, IPv6 (RFC 8200)
 * with its extension headers. Transport: UDP (RFC 768). Every byte is read
 * through a bounds-checked cursor; nothing is trusted. All functions are
 * pure except the reassembler, which owns its state; one thread per
 * reassembler. */
#ifndef ROADLOG_NET_H
#define ROADLOG_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

/* EtherType values (IEEE 802 numbers). */
#define RL_ETHERTYPE_IPV4     0x0800
#define RL_ETHERTYPE_ARP      0x0806
#define RL_ETHERTYPE_VLAN     0x8100 /* IEEE 802.1Q C-tag */
#define RL_ETHERTYPE_QINQ     0x88A8 /* IEEE 802.1ad S-tag */
#define RL_ETHERTYPE_QINQ_OLD 0x9100
#define RL_ETHERTYPE_IPV6     0x86DD

/* IP protocol numbers (IANA). */
#define RL_IPPROTO_TCP 6
#define RL_IPPROTO_UDP 17

#define RL_ETH_HEADER_LEN  14
#define RL_IPV4_HEADER_LEN 20 /* without options */
#define RL_IPV6_HEADER_LEN 40
#define RL_UDP_HEADER_LEN  8
/* Largest UDP payload in one IPv4 datagram: 65535 - 20 - 8. */
#define RL_UDP_MAX_PAYLOAD 65507

/* VLAN tags kept per frame; a frame with more is rejected. */
#define RL_NET_MAX_VLANS 4
/* IPv6 extension headers walked before giving up. */
#define RL_NET_MAX_IPV6_EXT 8

/* Bits of rl_net_frame.layers. */
enum rl_net_layer {
    RL_NET_L_ETH = 1u << 0,  /* Ethernet II header */
    RL_NET_L_VLAN = 1u << 1, /* one or more VLAN tags */
    RL_NET_L_SLL = 1u << 2,  /* Linux cooked v1 or v2 */
    RL_NET_L_LOOP = 1u << 3, /* BSD loopback family */
    RL_NET_L_IPV4 = 1u << 4,
    RL_NET_L_IPV6 = 1u << 5,
    RL_NET_L_FRAGMENT = 1u << 6, /* an IP fragment: transport not parsed */
    RL_NET_L_UDP = 1u << 7,
};

struct rl_net_frame {
    uint32_t layers; /* RL_NET_L_* found, also on error: what parsed so far */
    int linktype;

    /* Ethernet (RL_NET_L_ETH) */
    uint8_t eth_dst[6], eth_src[6];
    /* The EtherType of the network layer, after any VLAN tags; for SLL
     * the protocol field, for NULL/raw IP the implied one. */
    uint16_t ethertype;
    /* VLAN tags outermost first: 12-bit id, priority, the tag's TPID. */
    size_t n_vlans;
    uint16_t vlan_id[RL_NET_MAX_VLANS];
    uint8_t vlan_pcp[RL_NET_MAX_VLANS];
    uint16_t vlan_tpid[RL_NET_MAX_VLANS];

    /* Linux cooked (RL_NET_L_SLL) */
    uint16_t sll_pkttype, sll_hatype;
    uint32_t sll_ifindex; /* SLL2 only; 0 for SLL */
    /* BSD loopback (RL_NET_L_LOOP): the address family as found. */
    uint32_t loop_family;

    /* IP (RL_NET_L_IPV4 / RL_NET_L_IPV6) */
    int ip_version;                 /* 4, 6, or 0 when there is no IP layer */
    uint8_t ip_src[16], ip_dst[16]; /* IPv4 in the first 4 bytes */
    uint8_t ip_proto;               /* IPv4 protocol / IPv6 last next-header */
    uint8_t ip_ttl;                 /* TTL / hop limit */
    const uint8_t *ip_header;       /* start of the IP header in the frame */
    size_t ip_header_len;           /* incl. IPv4 options / IPv6 extension headers */
    size_t ip_total_len;            /* header + payload, padding after it dropped */
    bool ip_checksum_ok;            /* IPv4 header checksum verified (always true for v6) */

    /* Fragment (RL_NET_L_FRAGMENT; for IPv6 from the Fragment header) */
    uint32_t frag_id;      /* IPv4 identification (16 bits) or IPv6 32-bit id */
    uint32_t frag_offset;  /* of this fragment's data, bytes */
    bool frag_more;        /* MF flag */
    bool ip_dont_fragment; /* IPv4 DF flag */

    /* UDP (RL_NET_L_UDP) */
    uint16_t src_port, dst_port;
    uint16_t udp_len;      /* UDP length field */
    uint16_t udp_checksum; /* as found; 0 = not computed by the sender */
    const uint8_t *l4;     /* transport header + payload (or fragment data) */
    size_t l4_len;

    /* The frame holds fewer bytes than its IPv4 header claims (claimed_len):
     * cut by the capture's snaplen, or sent short. What was captured is
     * parsed and reported; the UDP payload is cut to match. */
    bool truncated;
    size_t claimed_len;

    /* The innermost payload found: the UDP payload; else the IP payload
     * (TCP segment, fragment data); else what follows the link header.
     * Points into the frame, or into the reassembler's buffer after
     * rl_ipfrag_feed() returned 1. */
    const uint8_t *payload;
    size_t payload_len;

    /* On error: what was wrong and at which byte offset of the frame
     * ("IPv4 header length 12 < 20"). Empty on success. */
    char reason[96];
    size_t reason_offset;
};

/* Parses frame as the given pcap linktype (enum rl_linktype of decode.h)
 * into out (fully overwritten). Returns 0 when the frame parsed as far as
 * this file knows layers (a non-IP EtherType or a TCP segment is not an
 * error: the deepest layer found is reported); RL_ETRUNC when a header or
 * a length field runs past the end of the captured bytes; RL_ECORRUPT when
 * a field is impossible (bad version, header length, UDP length);
 * RL_EUNSUPPORTED for an unknown linktype or loopback family, a jumbogram,
 * or more than RL_NET_MAX_VLANS tags. On error out->reason says why and
 * out->layers keeps the layers parsed before it. The frame is borrowed:
 * the pointers in out point into it. */
int rl_net_parse(int linktype, const uint8_t *frame, size_t len,
                 struct rl_net_frame *out) RL_WARN_UNUSED;

/* Checks the UDP checksum of a frame parsed with RL_NET_L_UDP (not a
 * fragment): 1 valid, 0 wrong, -1 not checkable (IPv4 checksum 0). */
int rl_net_udp_checksum_check(const struct rl_net_frame *f);

/* The RFC 1071 Internet checksum of len bytes (the final complemented
 * 16-bit value, in host order). */
uint16_t rl_net_inet_checksum(const uint8_t *p, size_t len);

/* ---- IPv4 fragment reassembly (RFC 791 section 3.2, RFC 815) ----
 *
 * Datagrams are keyed by (source, destination, protocol, identification).
 * Fragments may arrive in any order. An exact or partial duplicate whose
 * bytes agree with what is already held is ignored; an overlap whose bytes
 * differ, or a fragment past the end given by the last fragment, drops the
 * datagram (RL_ECORRUPT): overlapping fragments with different data are
 * the classic evasion trick and no correct sender produces them (the rule
 * RFC 5722 makes for IPv6). Memory is bounded by max_bytes over all
 * datagrams being assembled and by RL_IPFRAG_MAX_DATAGRAMS of them; when
 * either would be exceeded the oldest datagram is dropped. A datagram
 * whose first fragment is older than timeout_ns (by the frames' own
 * timestamps) is dropped. IPv6 fragments are not reassembled. */
#define RL_IPFRAG_MAX_DATAGRAMS 256
/* Largest reassembled IPv4 payload: 65535 - the minimal 20-byte header. */
#define RL_IPFRAG_MAX_PAYLOAD 65515

struct rl_ipfrag;

struct rl_ipfrag_stats {
    uint64_t completed;  /* datagrams reassembled */
    uint64_t expired;    /* dropped by timeout */
    uint64_t evicted;    /* dropped for memory or entry limits */
    uint64_t conflicts;  /* dropped for overlaps with different bytes, bad ends */
    uint64_t duplicates; /* fragments that added nothing */
    size_t pending;      /* datagrams being assembled now */
    size_t bytes;        /* buffer bytes held now */
};

/* Creates a reassembler holding at most max_bytes of fragment data
 * (0: RL_IPFRAG_MAX_DATAGRAMS * 64 KiB) and dropping datagrams older than
 * timeout_ns (0: 30 s, the RFC 791 suggestion of 15 s doubled as Linux
 * does). Returns 0, -ENOMEM, or -EINVAL for max_bytes below one datagram's
 * worth when given. */
int rl_ipfrag_new(struct rl_ipfrag **out, size_t max_bytes, uint64_t timeout_ns) RL_WARN_UNUSED;
void rl_ipfrag_free(struct rl_ipfrag *f);

/* Feeds one frame parsed by rl_net_parse() with RL_NET_L_IPV4 and
 * RL_NET_L_FRAGMENT, observed at now_ns. Returns
 *   1  the datagram is complete: *fr is rewritten to describe it (the
 *      fragment flag cleared, frag_offset 0, l4/payload pointing into the
 *      reassembler, valid until the next feed or free; UDP parsed when the
 *      protocol is UDP, with ip_total_len the reassembled length);
 *   0  the fragment is held, waiting for the others;
 *   <0 RL_ECORRUPT (conflicting overlap, bad fragment size; the datagram
 *      is dropped), RL_ETOOBIG (larger than RL_IPFRAG_MAX_PAYLOAD or than
 *      max_bytes), -EINVAL (not an IPv4 fragment), -ENOMEM.
 * fr->reason says why on errors. */
int rl_ipfrag_feed(struct rl_ipfrag *f, struct rl_net_frame *fr, uint64_t now_ns) RL_WARN_UNUSED;

/* Drops datagrams older than timeout at now_ns; returns how many. */
size_t rl_ipfrag_expire(struct rl_ipfrag *f, uint64_t now_ns);
void rl_ipfrag_stats(const struct rl_ipfrag *f, struct rl_ipfrag_stats *out);

/* ---- builders ---- */

struct rl_net_udp_spec {
    uint8_t eth_src[6], eth_dst[6]; /* Ethernet builder only */
    uint8_t ip_src[4], ip_dst[4];   /* network order */
    uint16_t src_port, dst_port;
    uint8_t ttl; /* 0: 64 */
    uint16_t ip_id;
    bool dont_fragment;
    bool udp_checksum; /* compute it; false writes 0 (RFC 768: none) */
};

/* Writes IPv4 + UDP + payload into out (cap bytes): a 20-byte IPv4 header
 * with a correct header checksum, the UDP header, the payload. *out_len
 * receives the frame length. Returns 0, RL_ETOOBIG when the payload exceeds
 * RL_UDP_MAX_PAYLOAD, -ENOBUFS when cap is too small. */
int rl_net_build_udp_ipv4(const struct rl_net_udp_spec *s, const uint8_t *payload, size_t len,
                          uint8_t *out, size_t cap, size_t *out_len) RL_WARN_UNUSED;

/* The same preceded by a 14-byte Ethernet II header (EtherType IPv4). */
int rl_net_build_udp_eth(const struct rl_net_udp_spec *s, const uint8_t *payload, size_t len,
                         uint8_t *out, size_t cap, size_t *out_len) RL_WARN_UNUSED;

#endif
