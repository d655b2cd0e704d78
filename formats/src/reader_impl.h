/* The reader's private state, shared by reader.c (opening and indexing),
 * iter.c (message iteration) and chunkload.c (reading chunks). Not used
 * outside those files; the rest of formats/ goes through reader_internal.h. */
#ifndef RL_READER_IMPL_H
#define RL_READER_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "reader_internal.h"
#include "roadlog/reader.h"

/* Largest summary section read into memory at once. */
#define SUMMARY_MAX_BYTES ((uint64_t)256 << 20)
/* Largest non-chunk record (schema, channel, metadata) read during a scan. */
#define SMALL_RECORD_MAX_BYTES ((uint64_t)64 << 20)
/* Unchunked messages are grouped into runs of at most this many bytes. */
#define RAW_RUN_MAX_BYTES ((uint64_t)4 << 20)
/* Scan read-ahead window. */
#define SCAN_WINDOW (256u * 1024u)

/* A growable byte buffer with a hard cap. */
struct rl__buf {
    uint8_t *data;
    size_t len, cap;
};
int rl__buf_reserve(struct rl__buf *b, size_t n, size_t limit) RL_WARN_UNUSED;
void rl__buf_release(struct rl__buf *b);

/* One chunk (or run of unchunked messages) the reader knows of. */
struct rl__chunk {
    struct rl_chunk_info info;
    uint64_t index_start, index_end; /* MessageIndex records after it, [start, end) */
    uint64_t n_messages;             /* from its MessageIndex records, if counted */
    bool counted;                    /* n_messages and per-channel counts known */
    bool unknown_channels;           /* its index names channels not yet known */
    bool damaged;                    /* a load failed: reported once, skipped since */
};

struct rl_reader {
    struct rl_io *io;
    bool own_io;
    struct rl_reader_options opts;
    char err[512];
    uint64_t file_size;
    char *profile, *library;

    struct rl_schema **schemas;
    size_t n_schemas, cap_schemas;
    struct rl_channel **channels; /* sorted by id */
    size_t n_channels, cap_channels;
    struct rl_channel unknown_channel;

    struct rl__chunk *chunks; /* in file order */
    size_t n_chunks, cap_chunks;

    struct rl_metadata *metadata;
    size_t n_metadata, cap_metadata;
    struct rl_attachment_info *attachments;
    size_t n_attachments, cap_attachments;

    struct rl_file_info info;
    struct rl__reader_layout layout;
    bool stats_known; /* message counts come from Statistics */

    /* Buffers of rl__reader_load_chunk(). */
    struct rl__buf load_raw, load_out;
};

/* Adds the schema or channel of a parsed record unless its id is known. */
int rl__reader_add_schema(struct rl_reader *r, const struct rl_rec_schema *s) RL_WARN_UNUSED;
int rl__reader_add_channel(struct rl_reader *r, const struct rl_rec_channel *c) RL_WARN_UNUSED;

/* Reads chunk k's record and decompresses its records into out (raw runs:
 * the file bytes). raw is scratch space for the compressed bytes. Returns
 * 0 or an error with detail in r->err. */
int rl__chunk_read(struct rl_reader *r, const struct rl__chunk *k, bool crc, struct rl__buf *raw,
                   struct rl__buf *out) RL_WARN_UNUSED;

/* Shared between reader.c, reader_index.c and reader_count.c. */
int rl__reader_add_chunk(struct rl_reader *r, const struct rl__chunk *k) RL_WARN_UNUSED;
int rl__reader_add_metadata(struct rl_reader *r, const struct rl_rec_metadata *m) RL_WARN_UNUSED;
int rl__reader_add_attachment(struct rl_reader *r,
                              const struct rl_rec_attachment_index *a) RL_WARN_UNUSED;
void rl__kv_free(struct rl_kv *kv, size_t n);
/* Reads and parses the record at off (content at most max bytes) into buf.
 * Returns 0, RL_ETRUNC, RL_ETOOBIG, RL_ECORRUPT or -errno; detail in r->err. */
int rl__reader_read_record(struct rl_reader *r, uint64_t off, uint64_t max, struct rl__buf *buf,
                           struct rl_record *rec) RL_WARN_UNUSED;
/* 1: the Summary indexes the file; 0: scan needed; <0: fatal. */
int rl__reader_read_summary(struct rl_reader *r) RL_WARN_UNUSED;
/* Forgets chunks, metadata and attachments taken from a rejected Summary. */
void rl__reader_drop_index(struct rl_reader *r);
/* Walks the data section from start; see reader_index.c. */
int rl__reader_scan(struct rl_reader *r, uint64_t start) RL_WARN_UNUSED;

/* Formats r->err. */
void rl__reader_seterr(struct rl_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
