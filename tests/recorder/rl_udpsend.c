/* rl_udpsend: test traffic for the recorder tests and bench/record_bench.sh.
 * Sends sequence-numbered UDP datagrams to an address on loopback (or in a
 * namespace the test made), paced from an absolute anchor (packet i is due
 * at t0 + i / rate; no summed delays), in sendmmsg batches, bounded both in
 * count and in time.
 *
 *   rl_udpsend --dest 127.0.0.1:PORT --count N [--rate PPS] [--size BYTES]
 *              [--max-seconds S] [--velodyne] [--batch B] [--first SEQ]
 *              [--fill pattern|random|half]
 *
 * Payload: bytes 0..7 the sequence number (little-endian u64), 8..15 the
 * send time (CLOCK_REALTIME ns), the rest a fill: a constant pattern
 * (default), random bytes that do not compress (random), or random low
 * nibbles that compress about 2:1 like real sensor data (half). The socket
 * is not connected, so ICMP errors from a port nobody listens on (a pcap-only
 * test) cannot fail a send. --velodyne shapes
 * each 1206-byte datagram as a VLP-16 data packet (12 blocks of 0xFFEE +
 * azimuth + 32 returns, timestamp, factory bytes 0x37 0x22) with the
 * sequence number in the first block's first two returns, so decoders
 * detect it; its distances and reflectivities vary like a scene's. --rate 0 sends as fast as the
 * machine can. At the end it prints one JSON line: {"sent":N,"seconds":S,"rate":R,"errors":E}. Exit
 * 0 when every datagram was sent, 1 on bad arguments, 2 when time ran out first. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64
#define MAX_SIZE  65507
#define NS        1000000000ull
#define POOL      (1u << 20)

enum fill { FILL_PATTERN, FILL_RANDOM, FILL_HALF };

struct args {
    const char *dest;
    uint64_t count, first;
    double rate, max_seconds;
    size_t size;
    unsigned batch;
    bool velodyne;
    enum fill fill;
    const uint8_t *pool; /* POOL + MAX_SIZE bytes of fill */
};

static uint64_t now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (uint64_t)t.tv_sec * NS + (uint64_t)t.tv_nsec;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void fill(uint8_t *p, const struct args *a, uint64_t seq)
{
    const uint8_t *pool = a->pool;
    if (a->velodyne) {
        for (int b = 0; b < 12; b++) {
            uint8_t *blk = p + b * 100;
            blk[0] = 0xFF;
            blk[1] = 0xEE;
            put_le(blk + 2, (uint64_t)((seq * 40 + (uint64_t)b * 20) % 36000), 2);
            for (int r = 0; r < 32; r++) {
                /* A scene: distances vary smoothly with laser and azimuth
                 * plus a few bits of noise, reflectivity too, so the
                 * packets compress like real ones (about 2:1). */
                const uint8_t *n = pool + (seq * 1217 + (uint64_t)(b * 32 + r) * 2) % POOL;
                uint64_t dist = 2000 + (uint64_t)r * 150 + ((seq + (uint64_t)b) % 360) * 3 +
                                (n[0] & 0x0F) * 16 + (n[1] & 0x0F);
                put_le(blk + 4 + r * 3, dist, 2);
                blk[4 + r * 3 + 2] = (uint8_t)(20 + (n[1] >> 4) * 4);
            }
        }
        put_le(p + 4, seq & 0xFFFF, 2);
        put_le(p + 7, (seq >> 16) & 0xFFFF, 2);
        put_le(p + 1200, (seq * 1327) % 3600000000ull, 4);
        p[1204] = 0x37;
        p[1205] = 0x22;
        return;
    }
    put_le(p, seq, 8);
    put_le(p + 8, now_ns(CLOCK_REALTIME), 8);
    if (a->fill != FILL_PATTERN)
        memcpy(p + 16, pool + (seq * 1217) % POOL, a->size - 16);
}

static int parse(int argc, char **argv, struct args *a)
{
    a->size = 1206;
    a->batch = 16;
    a->max_seconds = 60;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(k, "--velodyne") == 0) {
            a->velodyne = true;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(k, "--dest") == 0)
            a->dest = v;
        else if (strcmp(k, "--count") == 0)
            a->count = strtoull(v, NULL, 10);
        else if (strcmp(k, "--first") == 0)
            a->first = strtoull(v, NULL, 10);
        else if (strcmp(k, "--rate") == 0)
            a->rate = strtod(v, NULL);
        else if (strcmp(k, "--size") == 0)
            a->size = (size_t)strtoul(v, NULL, 10);
        else if (strcmp(k, "--max-seconds") == 0)
            a->max_seconds = strtod(v, NULL);
        else if (strcmp(k, "--fill") == 0)
            a->fill = strcmp(v, "random") == 0 ? FILL_RANDOM
                      : strcmp(v, "half") == 0 ? FILL_HALF
                                               : FILL_PATTERN;
        else if (strcmp(k, "--batch") == 0)
            a->batch = (unsigned)strtoul(v, NULL, 10);
        else
            return -1;
    }
    if (!a->dest || a->count == 0 || a->size < 16 || a->size > MAX_SIZE || a->batch == 0 ||
        a->batch > MAX_BATCH || a->rate < 0 || !(a->max_seconds > 0))
        return -1;
    if (a->velodyne)
        a->size = 1206;
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    if (parse(argc, argv, &a) < 0) {
        fprintf(stderr, "usage: rl_udpsend --dest HOST:PORT --count N [--rate PPS] [--size B] "
                        "[--max-seconds S] [--velodyne] [--batch B] [--first SEQ]\n");
        return 1;
    }
    char host[256];
    const char *colon = strrchr(a.dest, ':');
    if (!colon || (size_t)(colon - a.dest) >= sizeof(host))
        return 1;
    memcpy(host, a.dest, (size_t)(colon - a.dest));
    host[colon - a.dest] = '\0';
    struct addrinfo hints = {0}, *ai;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
        fprintf(stderr, "rl_udpsend: cannot resolve %s\n", a.dest);
        return 1;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("rl_udpsend: socket");
        return 1;
    }
    struct sockaddr_storage to;
    socklen_t to_len = ai->ai_addrlen;
    memcpy(&to, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    uint8_t(*buf)[MAX_SIZE] = malloc(sizeof(uint8_t[MAX_BATCH][MAX_SIZE]));
    uint8_t *pool = malloc(POOL + MAX_SIZE);
    if (!buf || !pool)
        return 1;
    a.pool = pool;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < POOL + MAX_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        pool[i] = (uint8_t)(a.fill == FILL_HALF ? (x >> 32) & 0x0F : x >> 32);
    }
    int sndbuf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

    struct mmsghdr msgs[MAX_BATCH];
    struct iovec iov[MAX_BATCH];
    memset(buf, 0x5A, sizeof(uint8_t[MAX_BATCH][MAX_SIZE]));
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    uint64_t limit = t0 + (uint64_t)(a.max_seconds * 1e9);
    uint64_t sent = 0, errors = 0;
    while (sent < a.count) {
        uint64_t now = now_ns(CLOCK_MONOTONIC);
        if (now >= limit)
            break;
        uint64_t n = a.batch;
        if (a.rate > 0) {
            /* How many are due by now, from the anchor. */
            uint64_t due = (uint64_t)((double)(now - t0) * a.rate / 1e9) + 1;
            if (due <= sent) {
                uint64_t next = t0 + (uint64_t)((double)sent * 1e9 / a.rate);
                struct timespec ts = {(time_t)(next / NS), (long)(next % NS)};
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                continue;
            }
            if (due - sent < n)
                n = due - sent;
        }
        if (a.count - sent < n)
            n = a.count - sent;
        for (unsigned i = 0; i < n; i++) {
            fill(buf[i], &a, a.first + sent + i);
            iov[i].iov_base = buf[i];
            iov[i].iov_len = a.size;
            memset(&msgs[i], 0, sizeof(msgs[i]));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &to;
            msgs[i].msg_hdr.msg_namelen = to_len;
        }
        int k = sendmmsg(fd, msgs, (unsigned)n, 0);
        if (k < 0) {
            if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) {
                errors++;
                continue; /* nothing of this batch went out; resend it */
            }
            perror("rl_udpsend: sendmmsg");
            return 2;
        }
        sent += (uint64_t)k;
    }
    double secs = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    printf("{\"sent\":%llu,\"seconds\":%.6f,\"rate\":%.1f,\"errors\":%llu}\n",
           (unsigned long long)sent, secs, secs > 0 ? (double)sent / secs : 0.0,
           (unsigned long long)errors);
    free(buf);
    free(pool);
    close(fd);
    return sent == a.count ? 0 : 2;
}
