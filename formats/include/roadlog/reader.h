/* The MCAP reader. Opening a file builds an index of it in one of two ways:
 *
 *  - indexed mode: from the Summary (Schema, Channel, ChunkIndex, Statistics,
 *    MetadataIndex, AttachmentIndex) found through the Footer;
 *  - scan mode, for a file with no Summary, a damaged one, or one cut off
 *    by a power loss: walks the record headers from the start, indexing
 *    chunks from their headers and MessageIndex records without
 *    decompressing them, and stops at the first incomplete or damaged record.
 *    Everything before that point is salvaged; what was lost is reported
 *    (rl_file_info.complete/salvaged_chunks/lost_bytes, problem callback).
 *
 * Messages come out in log-time order across channels and chunks (a k-way
 * merge where chunks overlap in time), or in file order; filtered by channel
 * and by a half-open time range [start, end); with seek. Memory stays
 * bounded by a few decompressed chunks whatever the file's size or overlap:
 * chunks waiting in the merge keep only their 16-byte-per-message index.
 *
 * Non-fatal problems (a chunk with a bad CRC, an undecodable record) go to
 * the problem callback and the reader carries on with the rest of the file.
 * A reader and its iterators are used by one thread at a time. */
#ifndef ROADLOG_READER_H
#define ROADLOG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"
#include "roadlog/io.h"
#include "roadlog/mcap.h"
#include "roadlog/writer.h"

struct rl_reader;
struct rl_iter;

/* Called for each non-fatal problem: code is an RL_E* or -errno value,
 * offset the file offset it concerns, msg one line (no newline). */
typedef void (*rl_problem_fn)(void *ud, int code, uint64_t offset, const char *msg);

struct rl_reader_options {
    bool verify_crc;    /* check chunk and attachment CRCs when read; default true */
    bool force_scan;    /* ignore the Summary and scan; default false */
    size_t chunk_cache; /* decompressed chunks kept at once; default 4, minimum 1 */
    rl_problem_fn problem;
    void *problem_ud;
};
void rl_reader_options_init(struct rl_reader_options *opts);

struct rl_schema {
    uint16_t id;
    const char *name, *encoding;
    const uint8_t *data;
    size_t len;
};

struct rl_channel {
    uint16_t id, schema_id;
    const char *topic, *message_encoding;
    const struct rl_kv *meta; /* sorted by key */
    size_t n_meta;
    const struct rl_schema *schema; /* NULL when schema_id is 0 or unknown */
    uint64_t message_count;         /* messages in the file (from Statistics or the scan) */
    uint64_t message_bytes;         /* total payload bytes, when known (scan or iteration) */
};

/* A channel's metadata value for key, or NULL. */
const char *rl_channel_meta(const struct rl_channel *ch, const char *key);

struct rl_chunk_info {
    uint64_t offset, length;   /* of the Chunk record in the file */
    uint64_t start_ns, end_ns; /* message_start_time, message_end_time */
    uint64_t compressed_size, uncompressed_size;
    enum rl_compression compression;
    bool raw_messages; /* not a Chunk: a run of unchunked Messages */
    bool salvaged;     /* found by scanning, not by the index */
};

struct rl_metadata {
    const char *name;
    const struct rl_kv *kv;
    size_t n;
};
/* The value of key in a metadata record, or NULL. */
const char *rl_metadata_get(const struct rl_metadata *md, const char *key);

struct rl_attachment_info {
    uint64_t offset, length, log_time_ns, create_time_ns, data_size;
    const char *name, *media_type;
};

struct rl_file_info {
    bool complete; /* a valid Summary and Footer were found and used */
    bool has_summary;
    uint64_t salvaged_chunks; /* chunks found by scanning rather than by index */
    uint64_t file_bytes;
    uint64_t valid_bytes; /* bytes up to the end of the last whole record read */
    uint64_t lost_bytes;  /* bytes after that, which could not be used */
    uint64_t message_count;
    uint64_t start_ns, end_ns;                     /* 0, 0 when there are no messages */
    uint64_t bytes_compressed, bytes_uncompressed; /* over all chunks' records */
    const char *compression; /* "zstd", "lz4", "none", "mixed" (of the chunks) */
    const char *profile, *library;
};

/* Opens path (or io). Fails with -errno when the file cannot be read,
 * RL_ENOTMCAP when it does not start with the MCAP magic, RL_ETRUNC when it
 * is shorter than the magic and a Header. Details in rl_reader_errmsg()
 * even on failure: pass errbuf to receive them when *out stays NULL.
 * opts may be NULL. With own_io the reader closes io, also on failure. */
int rl_reader_open(struct rl_reader **out, const char *path, const struct rl_reader_options *opts,
                   char *errbuf, size_t errbuf_len) RL_WARN_UNUSED;
int rl_reader_open_io(struct rl_reader **out, struct rl_io *io, bool own_io,
                      const struct rl_reader_options *opts, char *errbuf,
                      size_t errbuf_len) RL_WARN_UNUSED;
void rl_reader_close(struct rl_reader *r);
const char *rl_reader_errmsg(const struct rl_reader *r);

/* Counts messages per channel by reading every chunk (decompressing where
 * the file has no MessageIndex/Statistics to say), and fills in
 * message_count/message_bytes of every channel and rl_file_info. Cheap on a
 * complete file with Statistics. */
int rl_reader_count_messages(struct rl_reader *r) RL_WARN_UNUSED;

void rl_reader_file_info(const struct rl_reader *r, struct rl_file_info *out);

/* Lookups; pointers are valid until rl_reader_close(). */
size_t rl_reader_schema_count(const struct rl_reader *r);
const struct rl_schema *rl_reader_schema_at(const struct rl_reader *r, size_t i);
size_t rl_reader_channel_count(const struct rl_reader *r);
const struct rl_channel *rl_reader_channel_at(const struct rl_reader *r, size_t i);
const struct rl_channel *rl_reader_channel(const struct rl_reader *r, uint16_t id);
const struct rl_channel *rl_reader_channel_by_topic(const struct rl_reader *r, const char *topic);
size_t rl_reader_chunk_count(const struct rl_reader *r);
const struct rl_chunk_info *rl_reader_chunk_at(const struct rl_reader *r, size_t i);
size_t rl_reader_metadata_count(const struct rl_reader *r);
const struct rl_metadata *rl_reader_metadata_at(const struct rl_reader *r, size_t i);
size_t rl_reader_attachment_count(const struct rl_reader *r);
const struct rl_attachment_info *rl_reader_attachment_at(const struct rl_reader *r, size_t i);

/* Reads attachment i's data into a malloc'd buffer the caller frees,
 * checking its CRC when verify_crc is set. */
int rl_reader_read_attachment(struct rl_reader *r, size_t i, uint8_t **data,
                              size_t *len) RL_WARN_UNUSED;

enum rl_order {
    RL_ORDER_LOG_TIME, /* by log_time, ties by position in the file */
    RL_ORDER_FILE      /* as written */
};

struct rl_iter_options {
    uint64_t start_ns;   /* inclusive; default 0 */
    uint64_t end_ns;     /* exclusive; UINT64_MAX (the default) means no end */
    enum rl_order order; /* default RL_ORDER_LOG_TIME */
    /* Channel selection: NULL for all; else a 65536-bit set indexed by
     * channel id (bit id%8 of byte id/8), copied by rl_iter_new(). */
    const uint8_t *channel_set;
};
void rl_iter_options_init(struct rl_iter_options *opts);

struct rl_message {
    const struct rl_channel *channel; /* never NULL: unknown ids get a placeholder */
    uint16_t channel_id;
    uint32_t sequence;
    uint64_t log_time_ns, publish_time_ns;
    const uint8_t *data; /* valid until the next rl_iter_next()/seek/free */
    size_t len;
    uint64_t chunk_offset; /* file offset of the chunk holding it */
};

/* Creates an iterator; several may be open on one reader. */
int rl_iter_new(struct rl_reader *r, const struct rl_iter_options *opts,
                struct rl_iter **out) RL_WARN_UNUSED;
/* 1 with the next message, 0 at the end, <0 on a fatal error (I/O).
 * Damaged chunks are reported to the problem callback and skipped. */
int rl_iter_next(struct rl_iter *it, struct rl_message *msg) RL_WARN_UNUSED;
/* Positions the iterator so the next message is the first with
 * log_time >= time_ns (within the iterator's range and channels). */
int rl_iter_seek(struct rl_iter *it, uint64_t time_ns) RL_WARN_UNUSED;
void rl_iter_free(struct rl_iter *it);
/* Peak number of decompressed chunks this iterator has held at once. */
size_t rl_iter_peak_chunks(const struct rl_iter *it);
/* Peak bytes this iterator has held (chunk buffers + per-chunk indexes). */
size_t rl_iter_peak_bytes(const struct rl_iter *it);

/* Integrity check of the whole file: every chunk decompressed and its CRC
 * checked, the data-section and summary CRCs, the Summary's indexes against
 * what the file holds, MessageIndex records against chunk contents, message
 * times against their chunk's range, attachment CRCs. Each problem goes to
 * the problem callback with its offset. Returns the number of problems
 * found (0 = clean) or <0 when the check itself failed (I/O). */
int64_t rl_reader_verify(struct rl_reader *r) RL_WARN_UNUSED;

/* A record-by-record walk over a file in file order, as a streaming reader
 * sees it: Chunks are expanded into the records inside them (the Chunk
 * itself is also reported first, with in_chunk false), MessageIndex
 * records are reported too. Used by the conformance tests and `check`. */
struct rl_record_walk;
struct rl_walk_item {
    struct rl_record rec; /* borrowed until the next call */
    uint64_t offset;      /* of the record in the file; for records inside a
                             chunk, offset within the decompressed chunk */
    bool in_chunk;
};
int rl_record_walk_new(struct rl_io *io, struct rl_record_walk **out, char *errbuf,
                       size_t errbuf_len) RL_WARN_UNUSED;
/* 1 item / 0 end (after the closing magic) / <0 error with detail in errbuf. */
int rl_record_walk_next(struct rl_record_walk *w, struct rl_walk_item *item) RL_WARN_UNUSED;
const char *rl_record_walk_errmsg(const struct rl_record_walk *w);
void rl_record_walk_free(struct rl_record_walk *w);

/* Rewrites whatever can be read from in (a complete, damaged or cut-off
 * log) as a complete log through w: schemas, channels, every message of
 * every readable chunk in file order, metadata and attachments. Problems go
 * to the reader's problem callback. The writer is not closed. */
struct rl_recover_report {
    uint64_t messages, chunks_read, chunks_damaged, attachments, metadata;
};
int rl_recover_copy(struct rl_reader *in, struct rl_writer *w,
                    struct rl_recover_report *rep) RL_WARN_UNUSED;

#endif
