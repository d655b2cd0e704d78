/* rl_ptyfeed: a GNSS receiver on a pseudo-terminal, for the serial: source
 * test. Opens a pty pair, prints the slave's path on the first line of
 * stdout, waits until the recorder's control socket answers, then writes
 * NMEA sentences and UBX NAV-PVT frames alternately (with a few bytes of
 * line noise in between, which the framer must skip), and keeps the pty
 * open until the recorder reports that it captured them all (or the
 * deadline passes). Every frame it wrote is listed, one hex string per
 * line, in the --expect file.
 *
 *   rl_ptyfeed --control PATH --topic TOPIC --frames N --expect FILE
 *              [--deadline SECONDS]
 * Exit 0 when the recorder reported N frames, 2 otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <pty.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "roadlog/control.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static size_t nmea(uint8_t *out, unsigned seq)
{
    char body[128];
    snprintf(body, sizeof(body),
             "GPGGA,%02u%02u%02u.%02u,3958.1234,N,11620.5678,E,1,08,0.9,%u.0,M,-5.0,M,,",
             seq / 360000 % 24, seq / 6000 % 60, seq / 100 % 60, seq % 100, 40 + seq % 20);
    uint8_t cs = 0;
    for (const char *c = body; *c; c++)
        cs ^= (uint8_t)*c;
    return (size_t)sprintf((char *)out, "$%s*%02X\r\n", body, cs);
}

static size_t ubx(uint8_t *out, unsigned seq)
{
    const size_t plen = 92;
    out[0] = 0xB5;
    out[1] = 0x62;
    out[2] = 0x01; /* NAV */
    out[3] = 0x07; /* PVT */
    out[4] = (uint8_t)plen;
    out[5] = 0;
    memset(out + 6, 0, plen);
    uint32_t itow = seq * 100;
    memcpy(out + 6, &itow, 4);
    out[6 + 4] = 0xEA; /* year 2026 */
    out[6 + 5] = 0x07;
    out[6 + 6] = 11;
    out[6 + 7] = 21;
    out[6 + 20] = 3; /* fixType */
    uint8_t a = 0, b = 0;
    for (size_t i = 2; i < 6 + plen; i++) {
        a = (uint8_t)(a + out[i]);
        b = (uint8_t)(b + a);
    }
    out[6 + plen] = a;
    out[7 + plen] = b;
    return 8 + plen;
}

/* Frames the recorder reports for topic in its status, or -1. */
static long recorder_frames(const char *ctl, const char *topic)
{
    char reply[RL_CTL_MAX_LINE], key[256];
    if (rl_ctl_request(ctl, "status", reply, sizeof(reply), 2000) != 0)
        return -1;
    snprintf(key, sizeof(key), "\"topic\":\"%s\"", topic);
    const char *t = strstr(reply, key);
    const char *f = t ? strstr(t, "\"frames\":") : NULL;
    return f ? strtol(f + 9, NULL, 10) : -1;
}

int main(int argc, char **argv)
{
    const char *ctl = NULL, *topic = NULL, *expect = NULL;
    unsigned frames = 0;
    double deadline_s = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--control") == 0)
            ctl = argv[i + 1];
        else if (strcmp(argv[i], "--topic") == 0)
            topic = argv[i + 1];
        else if (strcmp(argv[i], "--frames") == 0)
            frames = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--expect") == 0)
            expect = argv[i + 1];
        else if (strcmp(argv[i], "--deadline") == 0)
            deadline_s = strtod(argv[i + 1], NULL);
    }
    if (!ctl || !topic || !expect || frames == 0) {
        fprintf(stderr, "usage: rl_ptyfeed --control PATH --topic T --frames N --expect FILE\n");
        return 2;
    }
    int master, slave;
    char name[256];
    if (openpty(&master, &slave, name, NULL, NULL) != 0) {
        perror("rl_ptyfeed: openpty");
        return 2;
    }
    struct termios t;
    if (tcgetattr(slave, &t) == 0) {
        cfmakeraw(&t);
        (void)tcsetattr(slave, TCSANOW, &t);
    }
    printf("%s\n", name);
    fflush(stdout);
    double deadline = now_s() + deadline_s;
    while (recorder_frames(ctl, topic) < 0) {
        if (now_s() > deadline) {
            fprintf(stderr, "rl_ptyfeed: the recorder did not answer on %s\n", ctl);
            return 2;
        }
        pause_ms(20);
    }
    FILE *ex = fopen(expect, "w");
    if (!ex)
        return 2;
    static const uint8_t noise[] = {0x00, 0xFF, 'x', '\n', 0xB5, 0x00};
    uint8_t buf[256];
    for (unsigned i = 0; i < frames; i++) {
        size_t n = i % 2 ? ubx(buf, i) : nmea(buf, i);
        if (i % 50 == 7 && write_all(master, noise, sizeof(noise)) < 0)
            return 2;
        if (write_all(master, buf, n) < 0) {
            perror("rl_ptyfeed: write");
            return 2;
        }
        for (size_t k = 0; k < n; k++)
            fprintf(ex, "%02x", buf[k]);
        fputc('\n', ex);
    }
    fclose(ex);
    long got = -1;
    while ((got = recorder_frames(ctl, topic)) < (long)frames && now_s() < deadline)
        pause_ms(20);
    printf("{\"written\":%u,\"recorded\":%ld}\n", frames, got);
    fflush(stdout);
    close(slave);
    close(master);
    return got == (long)frames ? 0 : 2;
}
