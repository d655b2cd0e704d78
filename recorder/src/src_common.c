/* What the capture sources share (recorder/, private; rec_internal.h):
 * clocks, failure reporting, 32-bit kernel counters folded into 64 bits,
 * socket set-up (large receive buffer, kernel receive timestamps
 * SO_TIMESTAMPNS, drop counts SO_RXQ_OVFL and SO_MEMINFO), and the
 * recvmmsg capture loop of the udp: and can: sources. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "rec_internal.h"

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif
#define CMSG_SPACE_B 128

uint64_t rl__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * RL__NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t rl__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * RL__NS_PER_S + (uint64_t)ts.tv_nsec;
}

void rl__source_fail(struct rl__source *s, const char *fmt, ...)
{
    if (atomic_load(&s->state) != RL__SRC_RUNNING)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    atomic_store_explicit(&s->state, RL__SRC_FAILED, memory_order_release);
}

void rl__source_end(struct rl__source *s)
{
    int running = RL__SRC_RUNNING;
    atomic_compare_exchange_strong(&s->state, &running, RL__SRC_ENDED);
}

void rl__counter32_update(struct rl__counter32 *c, uint32_t now)
{
    if (!c->have) {
        c->have = true;
        c->total = now; /* drops since the socket was opened */
    } else {
        c->total += (uint32_t)(now - c->last);
    }
    c->last = now;
}

int rl__sock_setup(int fd, uint64_t rcvbuf_bytes, char *err, size_t err_len)
{
    int one = 1;
    if (rcvbuf_bytes > INT32_MAX / 2)
        rcvbuf_bytes = INT32_MAX / 2;
    int want = (int)rcvbuf_bytes;
    /* SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN; else the kernel
     * caps SO_RCVBUF at rmem_max, which is still the most we can have. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) != 0) {
        snprintf(err, err_len, "cannot set the receive buffer: %s", strerror(errno));
        return -errno;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0) {
        snprintf(err, err_len, "cannot enable kernel timestamps (SO_TIMESTAMPNS): %s",
                 strerror(errno));
        return -errno;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) != 0) {
        snprintf(err, err_len, "cannot enable drop counts (SO_RXQ_OVFL): %s", strerror(errno));
        return -errno;
    }
    return 0;
}

int rl__sock_drops(int fd, uint32_t *drops)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof(mem);
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0)
        return -errno;
    if (len < (socklen_t)((SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)))
        return -ENOTSUP;
    *drops = mem[SK_MEMINFO_DROPS];
    return 0;
}

int rl__wait_readable(int fd)
{
    return rl__wait_readable_ms(fd, RL__POLL_MS);
}

int rl__wait_readable_ms(int fd, int ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    int n = poll(&pfd, 1, ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    if (n > 0 && (pfd.revents & (POLLERR | POLLNVAL)) && !(pfd.revents & POLLIN))
        return -EIO;
    return n > 0;
}

/* The socket's drop counter: SO_RXQ_OVFL values seen on datagrams and
 * SO_MEMINFO read now and then are the same kernel counter (sk_drops);
 * SO_MEMINFO also covers drops after the last datagram. */
static void refresh_drops(struct rl__source *s, int fd, struct rl__counter32 *c)
{
    uint32_t d = 0;
    if (rl__sock_drops(fd, &d) == 0)
        rl__counter32_update(c, d);
    if (c->have)
        atomic_store_explicit(&s->kernel_drops, c->total, memory_order_relaxed);
}

void rl__sock_run(struct rl__source *s, int fd, size_t slot_bytes, rl__convert_fn convert)
{
    struct mmsghdr msgs[RL__SOCK_BATCH];
    struct iovec iov[RL__SOCK_BATCH];
    char cbuf[RL__SOCK_BATCH][CMSG_SPACE_B];
    struct rl__counter32 drops = {0};
    uint8_t *conv = s->batch + RL__SOCK_BATCH * slot_bytes; /* one converted frame */
    uint64_t next_stats = 0, drain_until = 0;

    refresh_drops(s, fd, &drops); /* the baseline: drops before we started */
    for (;;) {
        int stop = atomic_load_explicit(s->stop, memory_order_acquire);
        if (stop == RL__STOP_NOW)
            break;
        if (stop == RL__STOP_DRAIN && drain_until == 0)
            drain_until = rl__mono_ns() + RL__DRAIN_MAX_NS;
        if (drain_until == 0) {
            int w = rl__wait_readable(fd);
            if (w < 0) {
                rl__source_fail(s, "poll failed: %s", strerror(-w));
                break;
            }
        }
        for (unsigned i = 0; i < RL__SOCK_BATCH; i++) {
            iov[i].iov_base = s->batch + (size_t)i * slot_bytes;
            iov[i].iov_len = slot_bytes;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = cbuf[i];
            msgs[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
        }
        int n = recvmmsg(fd, msgs, RL__SOCK_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                if (drain_until)
                    break; /* drained: the kernel holds nothing more */
            } else if (errno == ENETDOWN) {
                rl__source_fail(s, "interface went down");
                break;
            } else {
                rl__source_fail(s, "receive failed: %s", strerror(errno));
                break;
            }
            n = 0;
        }
        uint64_t fallback_ts = n > 0 ? rl__now_ns() : 0;
        for (int i = 0; i < n; i++) {
            uint64_t ts = fallback_ts;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
                 c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
                if (c->cmsg_level != SOL_SOCKET)
                    continue;
                if (c->cmsg_type == SCM_TIMESTAMPNS &&
                    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
                    struct timespec t;
                    memcpy(&t, CMSG_DATA(c), sizeof(t));
                    ts = (uint64_t)t.tv_sec * RL__NS_PER_S + (uint64_t)t.tv_nsec;
                } else if (c->cmsg_type == SO_RXQ_OVFL &&
                           c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
                    uint32_t d;
                    memcpy(&d, CMSG_DATA(c), sizeof(d));
                    /* The count when this datagram was queued: never ahead
                     * of SO_MEMINFO, so only take it when it is newer. */
                    if (!drops.have || (int32_t)(d - drops.last) > 0)
                        rl__counter32_update(&drops, d);
                }
            }
            const uint8_t *data = iov[i].iov_base;
            size_t len = msgs[i].msg_len;
            if (convert) {
                int k = convert(s, data, len, conv, s->max_frame);
                if (k < 0)
                    continue;
                data = conv;
                len = (size_t)k;
            }
            rl__source_push(s, ts, data, len);
        }
        if (drops.have)
            atomic_store_explicit(&s->kernel_drops, drops.total, memory_order_relaxed);
        uint64_t now = rl__mono_ns();
        if (now >= next_stats) {
            refresh_drops(s, fd, &drops);
            next_stats = now + RL__STATS_INTERVAL_NS;
        }
        if (drain_until && now >= drain_until)
            break;
    }
    refresh_drops(s, fd, &drops);
}
