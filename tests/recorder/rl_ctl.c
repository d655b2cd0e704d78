/* rl_ctl: a control-socket client for the recorder tests (control.h).
 *
 *   rl_ctl PATH LINE [WAIT_SECONDS]
 *       Sends LINE, prints the reply line and exits 0 when it starts with
 *       "ok", 1 when it starts with "error", 2 when nobody answered. With
 *       WAIT_SECONDS it keeps trying every 20 ms until the socket answers
 *       or the deadline passes: how a test waits for a recorder to be up.
 *   rl_ctl PATH --until-seen TOPIC N SECONDS
 *       Asks `status` every 20 ms until the recorder has accounted for N
 *       frames of TOPIC (frames + kernel_drops + ring_drops); exit 0, or 2
 *       at the deadline (printing the last status).
 * Both wait on an event with a deadline, never for a fixed time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roadlog/control.h"

#define POLL_NS 20000000L

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pause_poll(void)
{
    struct timespec ts = {0, POLL_NS};
    nanosleep(&ts, NULL);
}

static long long field(const char *obj, const char *key)
{
    char k[64];
    snprintf(k, sizeof(k), "\"%s\":", key);
    const char *p = strstr(obj, k);
    return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

static int until_seen(const char *path, const char *topic, long long n, double secs)
{
    double deadline = now_s() + secs;
    char reply[RL_CTL_MAX_LINE], key[300];
    snprintf(key, sizeof(key), "\"topic\":\"%s\"", topic);
    for (;;) {
        reply[0] = '\0';
        if (rl_ctl_request(path, "status", reply, sizeof(reply), 5000) == 0) {
            const char *t = strstr(reply, key);
            if (t) {
                long long seen =
                    field(t, "frames") + field(t, "kernel_drops") + field(t, "ring_drops");
                if (seen >= n)
                    return 0;
            }
        }
        if (now_s() >= deadline) {
            fprintf(stderr, "rl_ctl: %lld frames of %s not seen in %.0f s; last status: %s\n", n,
                    topic, secs, reply);
            return 2;
        }
        pause_poll();
    }
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[2], "--until-seen") == 0)
        return until_seen(argv[1], argv[3], strtoll(argv[4], NULL, 10), strtod(argv[5], NULL));
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: rl_ctl PATH LINE [WAIT_SECONDS] | PATH --until-seen TOPIC N S\n");
        return 2;
    }
    double deadline = now_s() + (argc == 4 ? strtod(argv[3], NULL) : 0);
    char reply[RL_CTL_MAX_LINE];
    for (;;) {
        int rc = rl_ctl_request(argv[1], argv[2], reply, sizeof(reply), 5000);
        if (rc == 0 || rc == 1) {
            printf("%s\n", reply);
            return rc;
        }
        if (now_s() >= deadline) {
            if (argc == 4)
                fprintf(stderr, "rl_ctl: %s: %s\n", argv[1], strerror(-rc));
            return 2;
        }
        pause_poll();
    }
}
