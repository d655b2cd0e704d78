/* The udp:[ADDR:]PORT capture source (recorder.h): a plain UDP socket, no
 * privileges needed, bound to 127.0.0.1 unless an address is given (an
 * IPv4 multicast address is joined on the default interface). Each
 * datagram's payload is one message (linktype "payload"), stamped with the
 * kernel's receive time (SO_TIMESTAMPNS); the socket's drop counter
 * (SO_RXQ_OVFL, SO_MEMINFO) is the source's kernel_drops. Datagrams are
 * read in batches with recvmmsg (src_common.c). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rec_internal.h"
#include "roadlog/decode.h"

#define UDP_MAX_PAYLOAD    65535u
#define UDP_DEFAULT_RCVBUF ((uint64_t)32 << 20)

struct udp_impl {
    int fd;
};

static size_t udp_max_frame(const struct rl_source_spec *spec)
{
    (void)spec;
    return UDP_MAX_PAYLOAD;
}

static size_t udp_batch_bytes(const struct rl_source_spec *spec)
{
    (void)spec;
    return (size_t)(RL__SOCK_BATCH + 1) * UDP_MAX_PAYLOAD;
}

static int udp_open(struct rl__source *s, char *err, size_t err_len)
{
    struct addrinfo hints, *ai = NULL;
    char port[8];
    int rc, fd = -1;
    struct udp_impl *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", s->spec.port);
    int g = getaddrinfo(s->spec.target, port, &hints, &ai);
    if (g != 0) {
        snprintf(err, err_len, "cannot resolve '%s': %s", s->spec.target, gai_strerror(g));
        rc = -EINVAL;
        goto fail;
    }
    fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, err_len, "socket: %s", strerror(errno));
        goto fail;
    }
    if ((rc = rl__sock_setup(fd, s->kbuf_bytes ? s->kbuf_bytes : UDP_DEFAULT_RCVBUF, err,
                             err_len)) < 0)
        goto fail;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        rc = -errno;
        snprintf(err, err_len, "cannot bind %s:%u: %s", s->spec.target, s->spec.port,
                 strerror(errno));
        goto fail;
    }
    if (ai->ai_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ai->ai_addr;
        if (IN_MULTICAST(ntohl(sin->sin_addr.s_addr))) {
            struct ip_mreq mreq;
            memset(&mreq, 0, sizeof(mreq));
            mreq.imr_multiaddr = sin->sin_addr;
            mreq.imr_interface.s_addr = htonl(INADDR_ANY);
            if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
                rc = -errno;
                snprintf(err, err_len, "cannot join multicast group %s: %s", s->spec.target,
                         strerror(errno));
                goto fail;
            }
        }
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        rc = -errno;
        snprintf(err, err_len, "getsockname: %s", strerror(errno));
        goto fail;
    }
    s->port = bound.ss_family == AF_INET6
                  ? ntohs(((const struct sockaddr_in6 *)(const void *)&bound)->sin6_port)
                  : ntohs(((const struct sockaddr_in *)(const void *)&bound)->sin_port);
    s->linktype = RL_LINKTYPE_PAYLOAD;
    bool v6 = strchr(s->spec.target, ':') != NULL;
    snprintf(s->interface, sizeof(s->interface), v6 ? "[%s]:%u" : "%s:%u", s->spec.target, s->port);
    if (!s->spec.replay_dest[0]) {
        bool any = strcmp(s->spec.target, "0.0.0.0") == 0 || strcmp(s->spec.target, "::") == 0;
        snprintf(s->replay_dest, sizeof(s->replay_dest), v6 && !any ? "udp:[%s]:%u" : "udp:%s:%u",
                 any ? "127.0.0.1" : s->spec.target, s->port);
    }
    freeaddrinfo(ai);
    u->fd = fd;
    s->impl = u;
    return 0;
fail:
    if (ai)
        freeaddrinfo(ai);
    if (fd >= 0)
        close(fd);
    free(u);
    return rc;
}

static void udp_run(struct rl__source *s)
{
    struct udp_impl *u = s->impl;
    rl__sock_run(s, u->fd, UDP_MAX_PAYLOAD, NULL);
}

static void udp_close(struct rl__source *s)
{
    struct udp_impl *u = s->impl;
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    free(u);
    s->impl = NULL;
}

const struct rl__source_ops rl__src_udp = {
    "udp", udp_open, udp_run, udp_close, udp_max_frame, udp_batch_bytes,
};
