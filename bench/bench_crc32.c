/* rl_bench_crc32: speed of rl_crc32() (formats/src/crc32.c), the CRC-32
 * computed over every chunk the writer writes and the reader loads. It
 * times whole-buffer CRCs of a 64 MiB buffer (memory-bound, like a chunk
 * stream) and of 4 MiB pieces of it (cache-warm, like one default-size
 * chunk), each repeated and the best kept, with CLOCK_MONOTONIC. Speeds
 * are MB/s with 1 MB = 10^6 bytes. Usage: rl_bench_crc32 [repeat]. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "roadlog/mcap.h"

#define BUF_BYTES   ((size_t)64 << 20)
#define PIECE_BYTES ((size_t)4 << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Best MB/s over repeat runs of CRCs of [buf, buf + len) in piece-sized
 * calls; *crc_out gets the last run's CRCs folded together. */
static double run(const uint8_t *buf, size_t len, size_t piece, int repeat, uint32_t *crc_out)
{
    double best = 0;
    for (int r = 0; r < repeat; r++) {
        uint32_t acc = 0;
        double t0 = now_s();
        for (size_t off = 0; off < len; off += piece)
            acc ^= rl_crc32(0, buf + off, len - off < piece ? len - off : piece);
        double dt = now_s() - t0;
        double mbs = dt > 0 ? (double)len / dt / 1e6 : 0;
        if (mbs > best)
            best = mbs;
        *crc_out = acc;
    }
    return best;
}

int main(int argc, char **argv)
{
    int repeat = 10;
    if (argc > 1) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (*end != '\0' || v < 1 || v > 1000) {
            fprintf(stderr, "usage: %s [repeat 1..1000]\n", argv[0]);
            return 2;
        }
        repeat = (int)v;
    }
    uint8_t *buf = malloc(BUF_BYTES);
    if (!buf) {
        fprintf(stderr, "out of memory for %zu bytes\n", BUF_BYTES);
        return 1;
    }
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < BUF_BYTES; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    uint32_t crc_whole = 0, crc_pieces = 0;
    double whole = run(buf, BUF_BYTES, BUF_BYTES, repeat, &crc_whole);
    double pieces = run(buf, BUF_BYTES, PIECE_BYTES, repeat, &crc_pieces);
    printf("crc32 64 MiB one call:  %8.0f MB/s (crc %08" PRIx32 ")\n", whole, crc_whole);
    printf("crc32 64 MiB 4 MiB calls: %6.0f MB/s (crcs xor %08" PRIx32 ")\n", pieces, crc_pieces);
    free(buf);
    return 0;
}
