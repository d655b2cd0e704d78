/* The can:IFACE capture source (recorder.h): a SocketCAN CAN_RAW socket
 * with CAN FD frames enabled and every error frame class received, kernel
 * receive timestamps (SO_TIMESTAMPNS) and the socket's drop counter
 * (SO_RXQ_OVFL, SO_MEMINFO). A raw socket hands out struct can_frame /
 * canfd_frame with the CAN id in host byte order; each is stored as a
 * LINKTYPE_CAN_SOCKETCAN frame (big-endian id, can.h) through
 * rl_socketcan_format(), so the log reads the same as a pcap capture. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rec_internal.h"
#include "roadlog/can.h"
#include "roadlog/decode.h"

#define CAN_DEFAULT_RCVBUF ((uint64_t)4 << 20)

struct can_impl {
    int fd;
};

int rl__can_host_to_linktype(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    struct canfd_frame cf;
    if (len != CAN_MTU && len != CANFD_MTU)
        return -EINVAL;
    memset(&cf, 0, sizeof(cf));
    memcpy(&cf, in, len);
    struct rl_can_frame f;
    memset(&f, 0, sizeof(f));
    bool fd = len == CANFD_MTU;
    f.extended = (cf.can_id & CAN_EFF_FLAG) != 0;
    f.rtr = (cf.can_id & CAN_RTR_FLAG) != 0;
    f.error = (cf.can_id & CAN_ERR_FLAG) != 0;
    f.id = cf.can_id & (f.error ? CAN_ERR_MASK : f.extended ? CAN_EFF_MASK : CAN_SFF_MASK);
    f.fd = fd;
    size_t max = fd ? RL_CANFD_MAX_DLEN : RL_CAN_MAX_DLEN;
    f.len = cf.len <= max ? cf.len : (uint8_t)max;
    if (fd) {
        f.fd_flags = cf.flags & (RL_CANFD_BRS | RL_CANFD_ESI);
    } else {
        const struct can_frame *cc = (const struct can_frame *)(const void *)&cf;
        if (cc->len == CAN_MAX_DLEN && cc->len8_dlc > CAN_MAX_DLEN && cc->len8_dlc <= 15)
            f.len8_dlc = cc->len8_dlc;
    }
    memcpy(f.data, cf.data, f.len);
    return rl_socketcan_format(&f, out, cap);
}

static int convert(struct rl__source *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    (void)s;
    return rl__can_host_to_linktype(in, len, out, cap);
}

static size_t can_max_frame(const struct rl_source_spec *spec)
{
    (void)spec;
    return RL_SOCKETCAN_FD_MTU;
}

static size_t can_batch_bytes(const struct rl_source_spec *spec)
{
    (void)spec;
    return (size_t)(RL__SOCK_BATCH + 1) * CANFD_MTU;
}

static int can_open(struct rl__source *s, char *err, size_t err_len)
{
    int rc;
    struct can_impl *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, err_len, "cannot open a CAN socket: %s", strerror(errno));
        goto fail;
    }
    unsigned idx = if_nametoindex(s->spec.target);
    if (idx == 0) {
        rc = -ENODEV;
        snprintf(err, err_len, "no CAN interface '%s'", s->spec.target);
        goto fail;
    }
    int one = 1;
    if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &one, sizeof(one)) != 0) {
        rc = -errno;
        snprintf(err, err_len, "cannot enable CAN FD frames: %s", strerror(errno));
        goto fail;
    }
    can_err_mask_t errs = CAN_ERR_MASK;
    if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &errs, sizeof(errs)) != 0) {
        rc = -errno;
        snprintf(err, err_len, "cannot receive CAN error frames: %s", strerror(errno));
        goto fail;
    }
    if ((rc = rl__sock_setup(fd, s->kbuf_bytes ? s->kbuf_bytes : CAN_DEFAULT_RCVBUF, err,
                             err_len)) < 0)
        goto fail;
    struct sockaddr_can addr;
    memset(&addr, 0, sizeof(addr));
    addr.can_family = AF_CAN;
    addr.can_ifindex = (int)idx;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        rc = -errno;
        snprintf(err, err_len, "cannot bind to '%s': %s", s->spec.target, strerror(errno));
        goto fail;
    }
    s->linktype = RL_LINKTYPE_CAN_SOCKETCAN;
    snprintf(s->interface, sizeof(s->interface), "%s", s->spec.target);
    if (!s->spec.replay_dest[0])
        snprintf(s->replay_dest, sizeof(s->replay_dest), "can:%s", s->spec.target);
    if (!s->spec.decoder[0])
        snprintf(s->decoder, sizeof(s->decoder), "can");
    c->fd = fd;
    s->impl = c;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(c);
    return rc;
}

static void can_run(struct rl__source *s)
{
    struct can_impl *c = s->impl;
    rl__sock_run(s, c->fd, CANFD_MTU, convert);
}

static void can_close(struct rl__source *s)
{
    struct can_impl *c = s->impl;
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    s->impl = NULL;
}

const struct rl__source_ops rl__src_can = {
    "can", can_open, can_run, can_close, can_max_frame, can_batch_bytes,
};
