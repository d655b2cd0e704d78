/* rl_mklog: writes a deterministic multi-chunk test log through the real
 * writer, for the CLI tests (the tests/cli shell scripts). Same arguments, same bytes.
 *
 * Content for N = --messages (default 1000), time base T0 = 2026-11-21T08:30:00Z:
 *   /lidar/top        N messages at T0 + i*10 ms, 512 pseudo-random bytes each
 *                     (incompressible), metadata linktype=1, decoder=velodyne.vlp16
 *   /gnss/main        one NMEA GGA sentence every 10th i (N/10 messages), at
 *                     T0 + i*10 ms + 1 ms; with --out-of-order written 25 steps late
 *                     so chunks overlap in time
 *   /roadlog/markers  3 JSON markers at i = N/4, N/2, 3N/4 (+5 ms):
 *                     takeover-1, takeover-3, end-zone
 *   Metadata roadlog.run, one Attachment calib/lidar_top.yaml.
 *
 * --chunk-map FILE writes one line per chunk as it reaches the file:
 *   <chunk start offset> <end offset incl. its message indexes> <messages before> <messages after>
 * so a test knows where chunks are and how many messages a cut keeps.
 * --abort-after M stops after M messages as a crash would (no summary). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/writer.h"

#define T0_NS          UINT64_C(1795249800000000000) /* 2026-11-21T08:30:00Z */
#define STEP_NS        UINT64_C(10000000)
#define LIDAR_BYTES    512
#define GNSS_EVERY     10
#define GNSS_LAG_STEPS 25

struct mk {
    struct rl_writer *w;
    FILE *map;
    uint64_t written;     /* messages handed to the writer */
    uint64_t durable;     /* messages in chunks that reached the file */
    uint64_t abort_after; /* 0: never */
};

static int usage(void)
{
    fprintf(stderr, "usage: rl_mklog -o OUT [--messages N] [--compression zstd|lz4|none]\n"
                    "       [--chunk-size BYTES] [--out-of-order] [--chunk-map FILE]\n"
                    "       [--abort-after M]\n");
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* Writes one message and notes chunk boundaries. Returns 0, 1 when the
 * abort point was reached, <0 on error. */
static int put(struct mk *m, uint16_t ch, uint32_t seq, uint64_t t, const void *data, size_t len)
{
    uint64_t before = rl_writer_file_bytes(m->w);
    int rc = rl_writer_write_message(m->w, ch, seq, t, t, data, len);
    if (rc < 0) {
        fprintf(stderr, "rl_mklog: write failed: %s\n", rl_writer_errmsg(m->w));
        return rc;
    }
    m->written++;
    uint64_t after = rl_writer_file_bytes(m->w);
    if (after != before) {
        /* A chunk went out: with this message when nothing is pending now,
         * else it was closed before this message was added. */
        uint64_t prev = m->durable;
        m->durable = rl_writer_pending_bytes(m->w) == 0 ? m->written : m->written - 1;
        if (m->map)
            fprintf(m->map, "%llu %llu %llu %llu\n", (unsigned long long)before,
                    (unsigned long long)after, (unsigned long long)prev,
                    (unsigned long long)m->durable);
    }
    if (m->abort_after && m->written >= m->abort_after)
        return 1;
    return 0;
}

static int flush(struct mk *m)
{
    uint64_t before = rl_writer_file_bytes(m->w);
    int rc = rl_writer_flush(m->w);
    if (rc < 0)
        return rc;
    uint64_t after = rl_writer_file_bytes(m->w);
    if (after != before && m->map)
        fprintf(m->map, "%llu %llu %llu %llu\n", (unsigned long long)before,
                (unsigned long long)after, (unsigned long long)m->durable,
                (unsigned long long)m->written);
    m->durable = m->written;
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *map_path = NULL;
    uint64_t n = 1000;
    bool ooo = false;
    struct mk m = {0};
    struct rl_writer_options wo;
    rl_writer_options_init(&wo);
    wo.profile = "roadlog";
    wo.library = "rl_mklog";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (strcmp(a, "-o") == 0 && v) {
            out = v;
            i++;
        } else if (strcmp(a, "--messages") == 0 && v && parse_u64(v, &n) == 0 && n >= 4) {
            i++;
        } else if (strcmp(a, "--compression") == 0 && v &&
                   rl_compression_parse(v, &wo.compression) == 0) {
            i++;
        } else if (strcmp(a, "--chunk-size") == 0 && v && parse_u64(v, &x) == 0 && x > 0) {
            wo.chunk_size_bytes = x;
            i++;
        } else if (strcmp(a, "--out-of-order") == 0) {
            ooo = true;
        } else if (strcmp(a, "--chunk-map") == 0 && v) {
            map_path = v;
            i++;
        } else if (strcmp(a, "--abort-after") == 0 && v && parse_u64(v, &m.abort_after) == 0) {
            i++;
        } else {
            return usage();
        }
    }
    if (!out)
        return usage();
    if (map_path && !(m.map = fopen(map_path, "w"))) {
        fprintf(stderr, "rl_mklog: cannot create '%s': %s\n", map_path, strerror(errno));
        return 1;
    }

    int rc = rl_writer_open(&m.w, out, &wo);
    if (rc < 0) {
        fprintf(stderr, "rl_mklog: cannot create '%s': %s\n", out, rl_strerror(rc));
        return 1;
    }
    const struct rl_kv lidar_meta[] = {
        {"decoder", "velodyne.vlp16"}, {"interface", "eth1"}, {"linktype", "1"}};
    const struct rl_kv gnss_meta[] = {{"decoder", "nmea"}, {"linktype", "payload"}};
    uint16_t lidar, gnss, markers;
    if ((rc = rl_writer_add_channel(m.w, 0, 0, "/lidar/top", "", lidar_meta, 3, &lidar)) < 0 ||
        (rc = rl_writer_add_channel(m.w, 0, 0, "/gnss/main", "", gnss_meta, 2, &gnss)) < 0 ||
        (rc = rl_writer_add_channel(m.w, 0, 0, "/roadlog/markers", "json", NULL, 0, &markers)) < 0)
        goto fail;

    static const char *const labels[] = {"takeover-1", "takeover-3", "end-zone"};
    uint8_t data[LIDAR_BYTES];
    uint32_t gnss_seq = 0, marker_seq = 0;
    uint64_t lag = ooo ? GNSS_LAG_STEPS : 0;
    for (uint64_t i = 0; i < n + lag; i++) {
        if (i < n) {
            uint32_t s = (uint32_t)i * 2654435761u + 1;
            for (size_t k = 0; k < LIDAR_BYTES; k += 4) {
                uint32_t x = xorshift(&s);
                memcpy(data + k, &x, 4);
            }
            rc = put(&m, lidar, (uint32_t)i, T0_NS + i * STEP_NS, data, sizeof(data));
            if (rc)
                goto stop;
            for (int k = 0; k < 3; k++) {
                if (i != (uint64_t)(k + 1) * n / 4)
                    continue;
                char js[128];
                int len = snprintf(js, sizeof(js), "{\"label\":\"%s\",\"note\":\"marker %d\"}",
                                   labels[k], k + 1);
                rc = put(&m, markers, marker_seq++, T0_NS + i * STEP_NS + 5000000, js, (size_t)len);
                if (rc)
                    goto stop;
            }
        }
        /* gnss sample j (every 10th step) is written `lag` steps late. */
        if (i >= lag && (i - lag) % GNSS_EVERY == 0 && i - lag < n) {
            uint64_t j = i - lag;
            char nmea[96];
            int len =
                snprintf(nmea, sizeof(nmea),
                         "$GPGGA,0830%02u.%02u,3030.000,N,11400.000,E,1,12,0.8,20.0,M,,,*00\r\n",
                         (unsigned)(j / 100 % 60), (unsigned)(j % 100));
            rc = put(&m, gnss, gnss_seq++, T0_NS + j * STEP_NS + 1000000, nmea, (size_t)len);
            if (rc)
                goto stop;
        }
    }
    if ((rc = flush(&m)) < 0)
        goto fail;
    const struct rl_kv run[] = {
        {"run_id", "run-0001"}, {"site", "xiantao-data-valley"}, {"vehicle", "test-car-7"}};
    if ((rc = rl_writer_write_metadata(m.w, "roadlog.run", run, 3)) < 0)
        goto fail;
    static const char calib[] = "lasers: 16\nrpm: 600\n";
    if ((rc = rl_writer_write_attachment(m.w, T0_NS, T0_NS, "calib/lidar_top.yaml",
                                         "application/yaml", calib, sizeof(calib) - 1)) < 0)
        goto fail;
    rc = rl_writer_close(m.w);
    m.w = NULL;
    if (rc < 0) {
        fprintf(stderr, "rl_mklog: closing '%s' failed: %s\n", out, rl_strerror(rc));
        return 1;
    }
    printf("%llu\n", (unsigned long long)m.written);
    return m.map && fclose(m.map) != 0 ? 1 : 0;
stop:
    if (rc < 0)
        goto fail;
    rl_writer_abort(m.w);
    printf("%llu\n", (unsigned long long)m.durable);
    return m.map && fclose(m.map) != 0 ? 1 : 0;
fail:
    fprintf(stderr, "rl_mklog: writing '%s' failed: %s\n", out,
            m.w ? rl_writer_errmsg(m.w) : rl_strerror(rc));
    rl_writer_abort(m.w);
    if (m.map)
        (void)fclose(m.map);
    return 1;
}
