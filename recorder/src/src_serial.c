/* The serial:DEVICE[,baud=N] capture source (recorder.h): a tty put in raw
 * mode (cfmakeraw, 8N1, receiver on, modem lines ignored) at the given line
 * speed, restored on close; the byte stream is split into NMEA sentences,
 * UBX frames and RTCM 3 frames by the framer (framer.h) and each frame is
 * one message (linktype "payload"). A frame's time is the host time of the
 * read that completed it. A FIFO or other non-tty descriptor is read the
 * same way (no line settings), which the tests use.
 *
 * Kernel drops: a UART's receive overruns (TIOCGICOUNT overrun +
 * buf_overrun), counted in bytes; drivers without counters (pty, USB
 * serial) report none. Bytes the framer skips are not frames and are not
 * counted as drops. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "rec_internal.h"
#include "roadlog/decode.h"
#include "roadlog/framer.h"

#define SERIAL_READ_BYTES 4096

struct serial_impl {
    int fd;
    bool is_tty;
    struct termios saved;
    struct rl_framer framer;
};

static size_t serial_max_frame(const struct rl_source_spec *spec)
{
    (void)spec;
    return RL_FRAMER_MAX_FRAME;
}

static size_t serial_batch_bytes(const struct rl_source_spec *spec)
{
    (void)spec;
    return SERIAL_READ_BYTES;
}

static speed_t speed_of(uint32_t baud)
{
    switch (baud) {
    case 1200:
        return B1200;
    case 2400:
        return B2400;
    case 4800:
        return B4800;
    case 9600:
        return B9600;
    case 19200:
        return B19200;
    case 38400:
        return B38400;
    case 57600:
        return B57600;
    case 115200:
        return B115200;
    case 230400:
        return B230400;
    case 460800:
        return B460800;
    case 500000:
        return B500000;
    case 576000:
        return B576000;
    case 921600:
        return B921600;
    case 1000000:
        return B1000000;
    case 1152000:
        return B1152000;
    case 1500000:
        return B1500000;
    case 2000000:
        return B2000000;
    case 2500000:
        return B2500000;
    case 3000000:
        return B3000000;
    case 3500000:
        return B3500000;
    case 4000000:
        return B4000000;
    default:
        return B0;
    }
}

static int serial_open(struct rl__source *s, char *err, size_t err_len)
{
    int rc;
    struct serial_impl *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int fd = open(s->spec.target, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EISDIR || errno == ENXIO))
        fd = open(s->spec.target, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, err_len, "cannot open '%s': %s", s->spec.target, strerror(errno));
        goto fail;
    }
    if (tcgetattr(fd, &c->saved) == 0) {
        c->is_tty = true;
        struct termios t = c->saved;
        cfmakeraw(&t);
        t.c_cflag |= CLOCAL | CREAD;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        if (s->spec.baud) {
            speed_t sp = speed_of(s->spec.baud);
            if (sp == B0 || cfsetispeed(&t, sp) != 0 || cfsetospeed(&t, sp) != 0) {
                rc = -EINVAL;
                snprintf(err, err_len, "cannot set %u baud on '%s'", s->spec.baud, s->spec.target);
                goto fail;
            }
        }
        if (tcsetattr(fd, TCSANOW, &t) != 0) {
            rc = -errno;
            snprintf(err, err_len, "cannot set raw mode on '%s': %s", s->spec.target,
                     strerror(errno));
            goto fail;
        }
    } else if (errno != ENOTTY && errno != EINVAL) {
        rc = -errno;
        snprintf(err, err_len, "cannot read the line settings of '%s': %s", s->spec.target,
                 strerror(errno));
        goto fail;
    }
    rl_framer_init(&c->framer);
    c->fd = fd;
    s->linktype = RL_LINKTYPE_PAYLOAD;
    snprintf(s->interface, sizeof(s->interface), "%s", s->spec.target);
    if (s->spec.replay_dest[0])
        snprintf(s->replay_dest, sizeof(s->replay_dest), "%s", s->spec.replay_dest);
    s->impl = c;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(c);
    return rc;
}

static void emit_frames(struct rl__source *s, struct serial_impl *c, uint64_t ts)
{
    struct rl_frame fr;
    while (rl_framer_next(&c->framer, &fr) == 1)
        rl__source_push(s, ts, fr.data, fr.len);
}

static void feed(struct rl__source *s, struct serial_impl *c, const uint8_t *p, size_t n,
                 uint64_t ts)
{
    while (n > 0) {
        size_t k = rl_framer_push(&c->framer, p, n);
        p += k;
        n -= k;
        emit_frames(s, c, ts);
    }
}

static void update_overruns(struct rl__source *s, struct serial_impl *c)
{
    struct serial_icounter_struct ic;
    if (c->is_tty && ioctl(c->fd, TIOCGICOUNT, &ic) == 0 && ic.overrun >= 0 && ic.buf_overrun >= 0)
        atomic_store_explicit(&s->kernel_drops, (uint64_t)ic.overrun + (uint64_t)ic.buf_overrun,
                              memory_order_relaxed);
}

static void serial_run(struct rl__source *s)
{
    struct serial_impl *c = s->impl;
    uint64_t next_stats = 0, drain_until = 0;

    for (;;) {
        int stop = atomic_load_explicit(s->stop, memory_order_acquire);
        if (stop == RL__STOP_NOW)
            break;
        if (stop == RL__STOP_DRAIN && drain_until == 0)
            drain_until = rl__mono_ns() + RL__DRAIN_MAX_NS;
        if (drain_until == 0) {
            int w = rl__wait_readable(c->fd);
            if (w < 0 && w != -EIO) {
                rl__source_fail(s, "poll failed: %s", strerror(-w));
                break;
            }
        }
        ssize_t n = read(c->fd, s->batch, s->batch_bytes);
        uint64_t ts = rl__now_ns();
        if (n > 0) {
            feed(s, c, s->batch, (size_t)n, ts);
        } else if (n == 0) {
            /* End of stream: the writer of a FIFO left, a pty master closed. */
            rl__source_end(s);
            break;
        } else if (errno == EIO) {
            rl__source_fail(s, "the device went away (%s)", strerror(errno));
            break;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (drain_until)
                break;
        } else {
            rl__source_fail(s, "read failed: %s", strerror(errno));
            break;
        }
        uint64_t now = rl__mono_ns();
        if (now >= next_stats) {
            update_overruns(s, c);
            next_stats = now + RL__STATS_INTERVAL_NS;
        }
        if (drain_until && now >= drain_until)
            break;
    }
    /* A last sentence without its line end is still a sentence. */
    rl_framer_finish(&c->framer);
    emit_frames(s, c, rl__now_ns());
    update_overruns(s, c);
}

static void serial_close(struct rl__source *s)
{
    struct serial_impl *c = s->impl;
    if (!c)
        return;
    if (c->is_tty)
        (void)tcsetattr(c->fd, TCSANOW, &c->saved);
    close(c->fd);
    free(c);
    s->impl = NULL;
}

const struct rl__source_ops rl__src_serial = {
    "serial", serial_open, serial_run, serial_close, serial_max_frame, serial_batch_bytes,
};
