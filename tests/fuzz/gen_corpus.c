/* Writes the seed corpus of the fuzz targets: small MCAP files made with our
 * own writer (each feature switched on and off, every compression, chunks
 * overlapping in time, unchunked messages, attachments and metadata), and
 * damaged copies of them (cut at interesting offsets, bits flipped). The
 * conformance files of ../shared are not copied: they stay outside the
 * project.
 *
 * Usage: fuzz_gen_corpus <dir>; writes <dir>/seed-*.mcap (each < 20 KB).
 * Deterministic: the same build writes the same bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roadlog/io.h"
#include "roadlog/reader.h"
#include "roadlog/writer.h"

#define CAP_BYTES      ((size_t)1 << 20)
#define MAX_SEED_BYTES ((size_t)20000)

struct variant {
    const char *name;
    enum rl_compression compression;
    bool use_chunks, indexes, summary, crcs, overlap, extras;
    int chunks, msgs_per_chunk;
};

static const struct variant variants[] = {
    {"zstd", RL_COMPRESS_ZSTD, true, true, true, true, false, true, 3, 8},
    {"lz4", RL_COMPRESS_LZ4, true, true, true, true, false, true, 3, 8},
    {"none", RL_COMPRESS_NONE, true, true, true, true, false, true, 3, 8},
    {"unchunked", RL_COMPRESS_NONE, false, true, true, true, false, true, 2, 6},
    {"nosummary", RL_COMPRESS_ZSTD, true, true, false, true, false, true, 3, 6},
    {"noindex", RL_COMPRESS_NONE, true, false, true, true, false, false, 3, 6},
    {"nocrc", RL_COMPRESS_ZSTD, true, true, true, false, false, true, 2, 6},
    {"overlap", RL_COMPRESS_ZSTD, true, true, true, true, true, false, 6, 5},
    {"empty", RL_COMPRESS_ZSTD, true, true, true, true, false, false, 0, 0},
};

static int save(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[4096];
    if (len > MAX_SEED_BYTES) {
        fprintf(stderr, "gen_corpus: %s would be %zu bytes, over the limit\n", name, len);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/seed-%s.mcap", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "gen_corpus: cannot create '%s': %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || n != len) {
        fprintf(stderr, "gen_corpus: cannot write '%s'\n", path);
        return -1;
    }
    return 0;
}

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ < 0) {                                                                             \
            fprintf(stderr, "gen_corpus: %s: %s\n", #call, rl_strerror(rc_));                      \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Writes one variant into a fresh membuf; returns it or NULL. */
static struct rl_io *build(const struct variant *v)
{
    struct rl_io *io = NULL;
    struct rl_writer *w = NULL;
    struct rl_writer_options o;
    rl_writer_options_init(&o);
    o.compression = v->compression;
    o.use_chunks = v->use_chunks;
    o.emit_message_indexes = v->indexes;
    o.emit_chunk_indexes = v->indexes;
    o.emit_summary = v->summary;
    o.emit_statistics = v->summary;
    o.emit_attachment_indexes = v->summary;
    o.emit_metadata_indexes = v->summary;
    o.emit_summary_offsets = v->summary;
    o.emit_chunk_crc = v->crcs;
    o.emit_data_crc = v->crcs;
    o.profile = "fuzz";
    o.library = "roadlog-gen-corpus";
    CHECK(rl_io_membuf_open(&io, CAP_BYTES));
    CHECK(rl_writer_open_io(&w, io, false, &o));
    static const uint8_t schema[] = "uint32 id\nfloat64 x\n";
    uint16_t sid;
    CHECK(rl_writer_add_schema(w, 0, "roadlog/Test", "ros2msg", schema, sizeof(schema) - 1, &sid));
    struct rl_kv meta[] = {{"interface", "eth0"}, {"linktype", "1"}, {"snaplen", "65535"}};
    CHECK(rl_writer_add_channel(w, 1, sid, "/lidar/top", "cdr", meta, 3, NULL));
    CHECK(rl_writer_add_channel(w, 2, 0, "/can/chassis", "raw", NULL, 0, NULL));
    CHECK(rl_writer_add_channel(w, 7, sid, "/gnss/main", "cdr", meta, 1, NULL));
    if (v->extras) {
        struct rl_kv run[] = {{"run_id", "r-0001"}, {"site", "zone-a"}};
        CHECK(rl_writer_write_metadata(w, "roadlog.run", run, 2));
    }
    uint32_t seq = 0;
    for (int k = 0; k < v->chunks; k++) {
        for (int i = 0; i < v->msgs_per_chunk; i++) {
            uint8_t data[40];
            size_t len = (size_t)(1 + (k * 13 + i * 5) % (int)sizeof(data));
            for (size_t b = 0; b < len; b++)
                data[b] = (uint8_t)(b * 3 + (size_t)i + (size_t)k * 17);
            uint64_t t = v->overlap ? (uint64_t)(k + v->chunks * i) * 1000u
                                    : (uint64_t)(k * v->msgs_per_chunk + i) * 1000u;
            static const uint16_t chans[] = {1, 2, 7};
            CHECK(rl_writer_write_message(w, chans[i % 3], seq++, t + 1000000, t + 999000, data,
                                          len));
        }
        CHECK(rl_writer_flush(w));
        if (v->extras && k == 0) {
            static const uint8_t dbc[] = "VERSION \"\"\nBO_ 256 ENGINE: 8 ECU\n";
            CHECK(rl_writer_write_attachment(w, 1500000, 1400000, "chassis.dbc", "text/plain", dbc,
                                             sizeof(dbc) - 1));
        }
    }
    int rc = rl_writer_close(w);
    w = NULL;
    CHECK(rc);
    return io;
fail:
    rl_writer_abort(w);
    (void)rl_io_close(io);
    return NULL;
}

/* Offset of the end of the first chunk and the start of the summary, via
 * the reader, for cutting and flipping at interesting places. */
static void landmarks(struct rl_io *io, uint64_t *chunk0_mid, uint64_t *chunk0_end,
                      uint64_t *summary)
{
    struct rl_reader *r;
    *chunk0_mid = *chunk0_end = *summary = 0;
    if (rl_reader_open_io(&r, io, false, NULL, NULL, 0) < 0)
        return;
    if (rl_reader_chunk_count(r) > 0) {
        const struct rl_chunk_info *ci = rl_reader_chunk_at(r, 0);
        *chunk0_mid = ci->offset + ci->length / 2;
        *chunk0_end = ci->offset + ci->length;
    }
    struct rl_file_info info;
    rl_reader_file_info(r, &info);
    *summary = info.file_bytes > 100 ? info.file_bytes - 100 : 0;
    rl_reader_close(r);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <dir>\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    uint8_t *copy = malloc(MAX_SEED_BYTES);
    if (!copy)
        return 1;
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        const struct variant *v = &variants[i];
        struct rl_io *io = build(v);
        if (!io)
            goto fail;
        size_t len;
        const uint8_t *data = rl_io_membuf_data(io, &len);
        if (save(dir, v->name, data, len) < 0) {
            (void)rl_io_close(io);
            goto fail;
        }
        if (i == 0 || i == 3 || i == 7) {
            /* Damaged copies: cut inside and after the first chunk, inside
             * the summary, inside the closing magic; bits flipped in the
             * first chunk, in the summary and in the Header's length. */
            uint64_t mid, end, sum;
            landmarks(io, &mid, &end, &sum);
            struct {
                const char *what;
                uint64_t cut, flip;
            } dmg[] = {
                {"cut-chunk", mid, 0},    {"cut-after-chunk", end + 3, 0},
                {"cut-summary", sum, 0},  {"cut-magic", len - 3, 0},
                {"flip-chunk", len, mid}, {"flip-summary", len, sum},
                {"flip-header", len, 12},
            };
            for (size_t d = 0; d < sizeof(dmg) / sizeof(dmg[0]); d++) {
                if (dmg[d].cut == 0 || dmg[d].cut > len || (dmg[d].flip && dmg[d].flip >= len))
                    continue;
                memcpy(copy, data, len);
                if (dmg[d].flip)
                    copy[dmg[d].flip] ^= 0x04;
                char name[128];
                snprintf(name, sizeof(name), "%s-%s", v->name, dmg[d].what);
                if (save(dir, name, copy, (size_t)dmg[d].cut) < 0) {
                    (void)rl_io_close(io);
                    goto fail;
                }
            }
        }
        if (rl_io_close(io) < 0)
            goto fail;
    }
    free(copy);
    return 0;
fail:
    free(copy);
    return 1;
}
