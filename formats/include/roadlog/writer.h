/* The MCAP writer: Header, Schema/Channel/Message records grouped into
 * compressed Chunks with their MessageIndex records, Attachments, Metadata,
 * DataEnd with the data-section CRC, the Summary (Schema, Channel, Statistics,
 * MetadataIndex, AttachmentIndex, ChunkIndex groups, then SummaryOffset
 * records) and the Footer with the summary CRC.
 *
 * Crash-friendly by construction: messages collect in memory and a chunk
 * reaches the file in one append, whole, so a file cut at any byte holds
 * every chunk written before the cut intact and a reader in scan mode
 * recovers them. rl_writer_flush() closes the open chunk; rl_writer_sync()
 * also makes the file durable (fdatasync).
 *
 * A writer is used by one thread at a time. */
#ifndef ROADLOG_WRITER_H
#define ROADLOG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"
#include "roadlog/io.h"
#include "roadlog/mcap.h"

struct rl_writer;

struct rl_writer_options {
    const char *profile;             /* Header profile; default "" */
    const char *library;             /* Header library; default "roadlog <version>" */
    enum rl_compression compression; /* default zstd */
    int level;                       /* compression level; default 3 (zstd), ignored by lz4 */
    uint64_t chunk_size_bytes;       /* close a chunk once its records reach this; default 4 MiB */
    bool use_chunks;                 /* default true; false writes messages unchunked */
    bool emit_message_indexes;       /* default true */
    bool emit_statistics;            /* default true */
    bool emit_summary;               /* default true: repeat schemas/channels in the summary */
    bool emit_chunk_indexes;         /* default true */
    bool emit_attachment_indexes;    /* default true */
    bool emit_metadata_indexes;      /* default true */
    bool emit_summary_offsets;       /* default true */
    bool emit_data_crc;              /* default true; false writes 0 in DataEnd */
    bool emit_chunk_crc;             /* default true; false writes 0 in each Chunk */
};

/* Fills in the defaults listed above. */
void rl_writer_options_init(struct rl_writer_options *opts);

/* Key/value pair for channel and metadata maps. Keys must be unique; the
 * writer sorts them by key so output is deterministic. */
struct rl_kv {
    const char *key;
    const char *value;
};

/* Opens a writer on io and writes the magic and Header. When own_io is true
 * the writer closes io in rl_writer_close()/rl_writer_abort(), also on
 * failure here. opts may be NULL for the defaults. */
int rl_writer_open_io(struct rl_writer **out, struct rl_io *io, bool own_io,
                      const struct rl_writer_options *opts) RL_WARN_UNUSED;
/* Creates (or truncates) path and opens a writer on it. */
int rl_writer_open(struct rl_writer **out, const char *path,
                   const struct rl_writer_options *opts) RL_WARN_UNUSED;

/* Registers a schema. id 0 asks the writer to choose the next free id; any
 * other id is used as given (RL_EDUPLICATE if taken). *id_out may be NULL. */
int rl_writer_add_schema(struct rl_writer *w, uint16_t id, const char *name, const char *encoding,
                         const void *data, size_t len, uint16_t *id_out) RL_WARN_UNUSED;

/* Registers a channel; schema_id 0 means no schema. id 0 lets the writer
 * choose (ids start at 1). meta may be NULL when n_meta is 0. */
int rl_writer_add_channel(struct rl_writer *w, uint16_t id, uint16_t schema_id, const char *topic,
                          const char *message_encoding, const struct rl_kv *meta, size_t n_meta,
                          uint16_t *id_out) RL_WARN_UNUSED;

/* Appends a message to the open chunk (which is written out when it reaches
 * chunk_size_bytes). The channel must have been added. Messages may come in
 * any time order; the chunk records its time range. */
int rl_writer_write_message(struct rl_writer *w, uint16_t channel_id, uint32_t sequence,
                            uint64_t log_time_ns, uint64_t publish_time_ns, const void *data,
                            size_t len) RL_WARN_UNUSED;

/* Writes an Attachment record (closing the open chunk first). */
int rl_writer_write_attachment(struct rl_writer *w, uint64_t log_time_ns, uint64_t create_time_ns,
                               const char *name, const char *media_type, const void *data,
                               size_t len) RL_WARN_UNUSED;

/* Writes a Metadata record (closing the open chunk first). */
int rl_writer_write_metadata(struct rl_writer *w, const char *name, const struct rl_kv *kv,
                             size_t n) RL_WARN_UNUSED;

/* Writes the open chunk, if any, to the file. */
int rl_writer_flush(struct rl_writer *w) RL_WARN_UNUSED;

/* rl_writer_flush() and then makes the file durable (fdatasync). */
int rl_writer_sync(struct rl_writer *w) RL_WARN_UNUSED;

/* Bytes written to the file so far (not counting the open chunk). */
uint64_t rl_writer_file_bytes(const struct rl_writer *w);
/* Bytes of records waiting in the open chunk, uncompressed. */
uint64_t rl_writer_pending_bytes(const struct rl_writer *w);

/* Finishes the file (last chunk, DataEnd, Summary, Footer, magic), closes io
 * if owned, and frees the writer, also on failure. Returns 0 or the first
 * error met. */
int rl_writer_close(struct rl_writer *w) RL_WARN_UNUSED;

/* Frees the writer without finishing the file, as a crash would leave it
 * (the open chunk is lost). Closes io if owned. NULL is fine. */
void rl_writer_abort(struct rl_writer *w);

/* Parallel compression, for a pipeline that compresses chunks on worker
 * threads (recorder/). The writer itself never starts threads.
 *
 * With a chunk hook set, a chunk that becomes full (or is closed by
 * flush/attachment/metadata/close) is not compressed inline: the writer
 * detaches it as an rl_chunk_job and passes it to hook(). The owner then
 * calls rl_chunk_job_compress() on any thread, and hands every job back in
 * the order the hook received them with rl_writer_put_chunk(), which appends
 * the chunk and its MessageIndex records and frees the job. Before
 * rl_writer_close() every job must have been put back. The writer itself
 * stays single-threaded: callers serialize calls on it. */
struct rl_chunk_job;
typedef void (*rl_chunk_hook_fn)(void *ud, struct rl_chunk_job *job);
void rl_writer_set_chunk_hook(struct rl_writer *w, rl_chunk_hook_fn hook, void *ud);
/* Compresses the job's records; thread-safe across different jobs. */
int rl_chunk_job_compress(struct rl_chunk_job *job) RL_WARN_UNUSED;
/* Appends a compressed job (jobs in hook order) and frees it, also on failure. */
int rl_writer_put_chunk(struct rl_writer *w, struct rl_chunk_job *job) RL_WARN_UNUSED;
/* Frees a job that will not be written. */
void rl_chunk_job_free(struct rl_chunk_job *job);
/* Uncompressed size of the job's records. */
uint64_t rl_chunk_job_bytes(const struct rl_chunk_job *job);

/* Detail of the last failure, e.g. "write failed at offset 123: No space left". */
const char *rl_writer_errmsg(const struct rl_writer *w);

#endif
