/* Fuzz target: rl_net_parse() on every link type and the IPv4 reassembler
 * across the frames of one input. The input is a run of records
 *     u8 link-type selector, u16 LE frame length, frame bytes
 * (a last record cut short takes what is left). Every frame is parsed from
 * an exact-size copy, so any read past its end trips ASan; what the parser
 * reports must lie inside the frame; fragments go to one reassembler per
 * input with a small memory budget; payloads that parsed are rebuilt with
 * the UDP builders and must parse back to the same payload. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "roadlog/decode.h"
#include "roadlog/net.h"

static const int linktypes[] = {
    RL_LINKTYPE_ETHERNET, RL_LINKTYPE_LINUX_SLL, RL_LINKTYPE_LINUX_SLL2,
    RL_LINKTYPE_NULL,     RL_LINKTYPE_LOOP,      RL_LINKTYPE_RAW,
    RL_LINKTYPE_IPV4,     RL_LINKTYPE_IPV6,      RL_LINKTYPE_CAN_SOCKETCAN,
};
#define N_LINKTYPES     (sizeof linktypes / sizeof linktypes[0])
#define MAX_FRAMES      64
#define FRAG_BUDGET     (2 * RL_IPFRAG_MAX_PAYLOAD)
#define FRAG_TIMEOUT_NS 1000

static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
    return n == 0 || (p >= base && n <= len && (size_t)(p - base) <= len - n);
}

static void rebuild(const struct rl_net_frame *f)
{
    if (!(f->layers & RL_NET_L_UDP) || f->payload_len > RL_UDP_MAX_PAYLOAD)
        return;
    size_t cap = RL_ETH_HEADER_LEN + RL_IPV4_HEADER_LEN + RL_UDP_HEADER_LEN + f->payload_len;
    uint8_t *out = malloc(cap);
    if (!out)
        return;
    struct rl_net_udp_spec s;
    memset(&s, 0, sizeof s);
    memcpy(s.ip_src, f->ip_src, 4);
    memcpy(s.ip_dst, f->ip_dst, 4);
    s.src_port = f->src_port;
    s.dst_port = f->dst_port;
    s.udp_checksum = f->payload_len % 2 == 0;
    size_t len = 0;
    FUZZ_CHECK(rl_net_build_udp_eth(&s, f->payload, f->payload_len, out, cap, &len) == 0);
    FUZZ_CHECK(len == cap);
    struct rl_net_frame g;
    FUZZ_CHECK(rl_net_parse(RL_LINKTYPE_ETHERNET, out, len, &g) == 0);
    FUZZ_CHECK(g.payload_len == f->payload_len);
    FUZZ_CHECK(g.ip_checksum_ok);
    FUZZ_CHECK(rl_net_udp_checksum_check(&g) == (s.udp_checksum ? 1 : -1));
    FUZZ_CHECK(f->payload_len == 0 || memcmp(g.payload, f->payload, f->payload_len) == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rl_ipfrag *q = NULL;
    if (rl_ipfrag_new(&q, FRAG_BUDGET, FRAG_TIMEOUT_NS) < 0)
        return 0;
    size_t off = 0;
    for (int n = 0; n < MAX_FRAMES && off + 3 <= size; n++) {
        int lt = linktypes[data[off] % N_LINKTYPES];
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (len > size - off)
            len = size - off;
        uint8_t *frame = malloc(len ? len : 1);
        if (!frame)
            break;
        memcpy(frame, data + off, len);
        off += len;

        struct rl_net_frame f;
        int rc = rl_net_parse(lt, frame, len, &f);
        FUZZ_CHECK(rc <= 0);
        FUZZ_CHECK(rc == 0 || f.reason[0] != '\0');
        FUZZ_CHECK(inside(f.payload, f.payload_len, frame, len));
        FUZZ_CHECK(inside(f.l4, f.l4_len, frame, len));
        if (rc == 0 && (f.layers & RL_NET_L_UDP)) {
            FUZZ_CHECK(f.payload_len + RL_UDP_HEADER_LEN == f.udp_len);
            (void)rl_net_udp_checksum_check(&f);
            rebuild(&f);
        }
        if (rc == 0 && (f.layers & RL_NET_L_IPV4) && (f.layers & RL_NET_L_FRAGMENT)) {
            /* Frames are 100 ns apart, so the timeout matters too. */
            rc = rl_ipfrag_feed(q, &f, (uint64_t)n * 100);
            FUZZ_CHECK(rc <= 1);
            if (rc == 1) {
                FUZZ_CHECK(!(f.layers & RL_NET_L_FRAGMENT));
                FUZZ_CHECK(f.l4_len <= RL_IPFRAG_MAX_PAYLOAD);
                volatile uint8_t sink = 0;
                for (size_t i = 0; i < f.l4_len; i++)
                    sink ^= f.l4[i];
                (void)sink;
                if (f.layers & RL_NET_L_UDP)
                    rebuild(&f);
            }
            struct rl_ipfrag_stats st;
            rl_ipfrag_stats(q, &st);
            FUZZ_CHECK(st.bytes <= FRAG_BUDGET);
            FUZZ_CHECK(st.pending <= RL_IPFRAG_MAX_DATAGRAMS);
        }
        free(frame);
    }
    rl_ipfrag_free(q);
    return 0;
}
