/* The pcap:IFACE capture source (recorder.h): libpcap on an Ethernet,
 * loopback, "any" or CAN interface, with nanosecond timestamps
 * (pcap_set_tstamp_precision), a large kernel buffer (pcap_set_buffer_size)
 * and an optional BPF filter.
 *
 * Delivery: by default libpcap's buffered mode (TPACKET_V3: packets packed
 * into blocks, a block handed over when full or after PCAP_TIMEOUT_MS), so
 * a packet reaches the ring within a few milliseconds at a fraction of the
 * CPU; immediate=1 selects libpcap's immediate mode (TPACKET_V2, a wakeup
 * per packet, one slot of snaplen bytes per packet: on lo, whose MTU is
 * 64 KiB, a 64 MiB buffer holds only 1000 packets). Measured on loopback at
 * 150000 packets/s: the capture thread used 4 to 6 times the CPU in
 * immediate mode and the kernel dropped packets; buffered mode dropped none.
 * At a stop the drain waits for the kernel to hand over the last, partly
 * filled block, so nothing the kernel accepted is left behind.
 *
 * Loopback: every packet crosses lo twice (sent and received), so the
 * source takes inbound packets only there by default (direction=in), with
 * PACKET_IGNORE_OUTGOING on the packet socket (Linux >= 4.20) so the kernel
 * does not even queue (nor count as dropped) the second copy; on older
 * kernels the filter gets "inbound" in front. Kernel drops are pcap_stats'
 * ps_drop + ps_ifdrop. CAN interfaces give LINKTYPE_CAN_SOCKETCAN frames
 * with the id already big-endian (libpcap converts), stored as they come. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rec_internal.h"
#include "roadlog/decode.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#define PCAP_DEFAULT_BUFFER ((uint64_t)64 << 20)
#define PCAP_MIN_BUFFER     ((uint64_t)2 << 20)
#define PCAP_TIMEOUT_MS     5 /* buffered mode: a block is handed over within this */
#define DRAIN_WAIT_MS       (4 * PCAP_TIMEOUT_MS)
#define PCAP_DLT_RAW_LINUX  12 /* DLT_RAW on Linux; its LINKTYPE is 101 */

struct pcap_impl {
    pcap_t *p;
    int fd;
    bool nano;
};

static size_t pcap_max_frame(const struct rl_source_spec *spec)
{
    return spec->snaplen;
}

static size_t pcap_batch_bytes(const struct rl_source_spec *spec)
{
    (void)spec;
    return 0;
}

static bool is_loopback(const char *iface)
{
    struct ifreq ifr;
    if (strlen(iface) >= sizeof(ifr.ifr_name))
        return false;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return strcmp(iface, "lo") == 0;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, iface, strlen(iface));
    bool lo = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK);
    close(fd);
    return lo;
}

static int linktype_of(int dlt)
{
    return dlt == PCAP_DLT_RAW_LINUX ? RL_LINKTYPE_RAW : dlt;
}

static int pcap_open_src(struct rl__source *s, char *err, size_t err_len)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    int rc;
    struct pcap_impl *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    const char *iface = s->spec.target;
    pcap_t *p = pcap_create(iface, ebuf);
    if (!p) {
        snprintf(err, err_len, "%s", ebuf);
        free(c);
        return -ENODEV;
    }
    uint64_t buf = s->kbuf_bytes ? s->kbuf_bytes : PCAP_DEFAULT_BUFFER;
    if (buf < PCAP_MIN_BUFFER)
        buf = PCAP_MIN_BUFFER;
    if (pcap_set_snaplen(p, (int)s->spec.snaplen) != 0 || pcap_set_promisc(p, 1) != 0 ||
        pcap_set_buffer_size(p, (int)buf) != 0 || pcap_set_timeout(p, PCAP_TIMEOUT_MS) != 0 ||
        pcap_set_immediate_mode(p, s->spec.immediate) != 0) {
        snprintf(err, err_len, "cannot configure capture: %s", pcap_geterr(p));
        rc = -EINVAL;
        goto fail;
    }
    c->nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int a = pcap_activate(p);
    if (a < 0) {
        const char *why = pcap_geterr(p);
        if (!why || !*why)
            why = pcap_statustostr(a);
        snprintf(err, err_len, "%s", why);
        rc = a == PCAP_ERROR_PERM_DENIED ? -EPERM : a == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV : -EIO;
        goto fail;
    }
    c->nano = c->nano && pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    c->fd = pcap_get_selectable_fd(p);
    if (c->fd < 0) {
        snprintf(err, err_len, "no selectable descriptor for '%s'", iface);
        rc = -EINVAL;
        goto fail;
    }

    bool inbound = s->spec.direction_in < 0 ? is_loopback(iface) : s->spec.direction_in == 1;
    const char *filter = s->spec.filter;
    char fbuf[RL_REC_FILTER_MAX + 32];
    if (inbound) {
        int one = 1;
        if (setsockopt(c->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0) {
            /* Older kernel: let BPF drop the outgoing copies instead. */
            if (filter[0])
                snprintf(fbuf, sizeof(fbuf), "inbound and (%s)", filter);
            else
                snprintf(fbuf, sizeof(fbuf), "inbound");
            filter = fbuf;
        }
    }
    if (filter[0]) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, err_len, "bad filter '%s': %s", filter, pcap_geterr(p));
            rc = -EINVAL;
            goto fail;
        }
        int f = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (f != 0) {
            snprintf(err, err_len, "cannot set filter '%s': %s", filter, pcap_geterr(p));
            rc = -EINVAL;
            goto fail;
        }
    }
    if (pcap_setnonblock(p, 1, ebuf) != 0) {
        snprintf(err, err_len, "cannot make capture non-blocking: %s", ebuf);
        rc = -EINVAL;
        goto fail;
    }
    s->linktype = linktype_of(pcap_datalink(p));
    s->snaplen = (uint32_t)pcap_snapshot(p);
    if (s->snaplen == 0 || s->snaplen > s->spec.snaplen)
        s->snaplen = s->spec.snaplen;
    snprintf(s->filter, sizeof(s->filter), "%s", s->spec.filter);
    snprintf(s->interface, sizeof(s->interface), "%s", iface);
    if (!s->spec.replay_dest[0])
        snprintf(s->replay_dest, sizeof(s->replay_dest), "%s:%s",
                 s->linktype == RL_LINKTYPE_CAN_SOCKETCAN ? "can" : "iface", iface);
    if (!s->spec.decoder[0] && s->linktype == RL_LINKTYPE_CAN_SOCKETCAN)
        snprintf(s->decoder, sizeof(s->decoder), "can");
    c->p = p;
    s->impl = c;
    return 0;
fail:
    pcap_close(p);
    free(c);
    return rc;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct rl__source *s = (struct rl__source *)(void *)user;
    const struct pcap_impl *c = s->impl;
    uint64_t frac = (uint64_t)h->ts.tv_usec * (c->nano ? 1u : 1000u);
    uint64_t ts = (uint64_t)h->ts.tv_sec * RL__NS_PER_S + frac;
    rl__source_push(s, ts, bytes, h->caplen);
}

static void update_stats(struct rl__source *s, struct pcap_impl *c, struct rl__counter32 *drop,
                         struct rl__counter32 *ifdrop)
{
    struct pcap_stat st;
    if (pcap_stats(c->p, &st) != 0)
        return;
    rl__counter32_update(drop, st.ps_drop);
    rl__counter32_update(ifdrop, st.ps_ifdrop);
    atomic_store_explicit(&s->kernel_drops, drop->total + ifdrop->total, memory_order_relaxed);
}

static void pcap_run(struct rl__source *s)
{
    struct pcap_impl *c = s->impl;
    struct rl__counter32 drop = {0}, ifdrop = {0};
    uint64_t next_stats = 0, drain_until = 0;

    for (;;) {
        int stop = atomic_load_explicit(s->stop, memory_order_acquire);
        if (stop == RL__STOP_NOW)
            break;
        if (stop == RL__STOP_DRAIN && drain_until == 0)
            drain_until = rl__mono_ns() + RL__DRAIN_MAX_NS;
        /* Draining, wait a few block timeouts: the kernel hands over a
         * partly filled block only when its timer fires. */
        int w = drain_until ? rl__wait_readable_ms(c->fd, DRAIN_WAIT_MS) : rl__wait_readable(c->fd);
        if (w < 0) {
            rl__source_fail(s, "poll failed: %s", strerror(-w));
            break;
        }
        int n = pcap_dispatch(c->p, -1, on_packet, (u_char *)(void *)s);
        if (n < 0) {
            rl__source_fail(s, "capture failed: %s", pcap_geterr(c->p));
            break;
        }
        uint64_t now = rl__mono_ns();
        if (now >= next_stats) {
            update_stats(s, c, &drop, &ifdrop);
            next_stats = now + RL__STATS_INTERVAL_NS;
        }
        if (drain_until && ((n == 0 && w == 0) || now >= drain_until))
            break;
    }
    update_stats(s, c, &drop, &ifdrop);
}

static void pcap_close_src(struct rl__source *s)
{
    struct pcap_impl *c = s->impl;
    if (!c)
        return;
    pcap_close(c->p);
    free(c);
    s->impl = NULL;
}

const struct rl__source_ops rl__src_pcap = {
    "pcap", pcap_open_src, pcap_run, pcap_close_src, pcap_max_frame, pcap_batch_bytes,
};
