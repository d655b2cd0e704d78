/* MCAP records: on-disk constants, the parsed forms of every record type of
 * the MCAP Format Specification (version 0x30 "0"), and the one codec that
 * turns bytes into records and records into bytes. The writer, the reader,
 * `check`, `recover` and the tests all go through these functions: there is
 * exactly one MCAP parser in the tree.
 *
 * Parsed records borrow: every pointer in an rl_rec_* points into the bytes
 * given to rl_mcap_parse() and is valid as long as those bytes are. Strings
 * are not NUL-terminated (rl_str has a length). */
#ifndef ROADLOG_MCAP_H
#define ROADLOG_MCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

#define RL_MCAP_MAGIC_LEN 8
extern const uint8_t rl_mcap_magic[RL_MCAP_MAGIC_LEN];

/* opcode (1) + length (8) */
#define RL_MCAP_RECORD_HEADER_LEN 9
/* Footer content: summary_start, summary_offset_start, summary_crc. */
#define RL_MCAP_FOOTER_CONTENT_LEN 20
#define RL_MCAP_FOOTER_RECORD_LEN  (RL_MCAP_RECORD_HEADER_LEN + RL_MCAP_FOOTER_CONTENT_LEN)

/* Limits on lengths read from files, checked before anything is allocated. */
#define RL_MCAP_MAX_RECORD_BYTES       ((uint64_t)4 << 30) /* 4 GiB, any one record */
#define RL_MCAP_MAX_CHUNK_UNCOMPRESSED ((uint64_t)1 << 30) /* 1 GiB decompressed chunk */

enum rl_opcode {
    RL_OP_HEADER = 0x01,
    RL_OP_FOOTER = 0x02,
    RL_OP_SCHEMA = 0x03,
    RL_OP_CHANNEL = 0x04,
    RL_OP_MESSAGE = 0x05,
    RL_OP_CHUNK = 0x06,
    RL_OP_MESSAGE_INDEX = 0x07,
    RL_OP_CHUNK_INDEX = 0x08,
    RL_OP_ATTACHMENT = 0x09,
    RL_OP_ATTACHMENT_INDEX = 0x0A,
    RL_OP_STATISTICS = 0x0B,
    RL_OP_METADATA = 0x0C,
    RL_OP_METADATA_INDEX = 0x0D,
    RL_OP_SUMMARY_OFFSET = 0x0E,
    RL_OP_DATA_END = 0x0F,
};

/* Returns the spec's name of an opcode ("Chunk"), or "Unknown". */
const char *rl_opcode_name(uint8_t opcode);

struct rl_str {
    const char *ptr;
    size_t len;
};

struct rl_bytes {
    const uint8_t *ptr;
    size_t len;
};

/* A serialized map<K,V> (or array) as found in a record: the raw bytes
 * between its length prefix and its end, already validated by the parser,
 * and the number of entries. Walk it with the rl_map_* functions. */
struct rl_map {
    const uint8_t *ptr;
    size_t len;
    uint32_t count;
};

struct rl_rec_header {
    struct rl_str profile, library;
};
struct rl_rec_footer {
    uint64_t summary_start, summary_offset_start;
    uint32_t summary_crc;
};
struct rl_rec_schema {
    uint16_t id;
    struct rl_str name, encoding;
    struct rl_bytes data;
};
struct rl_rec_channel {
    uint16_t id, schema_id;
    struct rl_str topic, message_encoding;
    struct rl_map metadata; /* map<string, string> */
};
struct rl_rec_message {
    uint16_t channel_id;
    uint32_t sequence;
    uint64_t log_time, publish_time;
    struct rl_bytes data;
};
struct rl_rec_chunk {
    uint64_t message_start_time, message_end_time, uncompressed_size;
    uint32_t uncompressed_crc;
    struct rl_str compression;
    struct rl_bytes records; /* compressed */
};
struct rl_rec_message_index {
    uint16_t channel_id;
    struct rl_map records; /* array<tuple<uint64 log_time, uint64 offset>> */
};
struct rl_rec_chunk_index {
    uint64_t message_start_time, message_end_time, chunk_start_offset, chunk_length;
    struct rl_map message_index_offsets; /* map<uint16, uint64> */
    uint64_t message_index_length;
    struct rl_str compression;
    uint64_t compressed_size, uncompressed_size;
};
struct rl_rec_attachment {
    uint64_t log_time, create_time;
    struct rl_str name, media_type;
    struct rl_bytes data;
    uint32_t crc;
    uint32_t computed_crc; /* CRC-32 of the fields before crc, computed by the parser */
};
struct rl_rec_attachment_index {
    uint64_t offset, length, log_time, create_time, data_size;
    struct rl_str name, media_type;
};
struct rl_rec_statistics {
    uint64_t message_count;
    uint16_t schema_count;
    uint32_t channel_count, attachment_count, metadata_count, chunk_count;
    uint64_t message_start_time, message_end_time;
    struct rl_map channel_message_counts; /* map<uint16, uint64> */
};
struct rl_rec_metadata {
    struct rl_str name;
    struct rl_map metadata; /* map<string, string> */
};
struct rl_rec_metadata_index {
    uint64_t offset, length;
    struct rl_str name;
};
struct rl_rec_summary_offset {
    uint8_t group_opcode;
    uint64_t group_start, group_length;
};
struct rl_rec_data_end {
    uint32_t data_section_crc;
};

/* One parsed record. `opcode` selects the member of the union; records with
 * an unknown opcode have only `content`. */
struct rl_record {
    uint8_t opcode;
    struct rl_bytes content; /* the record's content bytes (after opcode+length) */
    union {
        struct rl_rec_header header;
        struct rl_rec_footer footer;
        struct rl_rec_schema schema;
        struct rl_rec_channel channel;
        struct rl_rec_message message;
        struct rl_rec_chunk chunk;
        struct rl_rec_message_index message_index;
        struct rl_rec_chunk_index chunk_index;
        struct rl_rec_attachment attachment;
        struct rl_rec_attachment_index attachment_index;
        struct rl_rec_statistics statistics;
        struct rl_rec_metadata metadata;
        struct rl_rec_metadata_index metadata_index;
        struct rl_rec_summary_offset summary_offset;
        struct rl_rec_data_end data_end;
    } u;
};

/* Parses the content of one record (the bytes after opcode and length).
 * Extra bytes after the known fields are ignored, as the spec requires.
 * Unknown opcodes parse to a record with only `content` set.
 * Returns 0, or RL_ECORRUPT when a field runs past the content (the detail,
 * naming the field, goes into errbuf when it is not NULL). */
int rl_mcap_parse(uint8_t opcode, const uint8_t *content, size_t len, struct rl_record *rec,
                  char *errbuf, size_t errbuf_len) RL_WARN_UNUSED;

/* Map and array walking over a validated rl_map. `pos` starts at 0. Each
 * returns 1 with the next entry, 0 at the end. */
int rl_map_next_str_str(const struct rl_map *m, size_t *pos, struct rl_str *key,
                        struct rl_str *val);
int rl_map_next_u16_u64(const struct rl_map *m, size_t *pos, uint16_t *key, uint64_t *val);
int rl_map_next_u64_u64(const struct rl_map *m, size_t *pos, uint64_t *a, uint64_t *b);

/* Compression names as they appear in Chunk records. */
enum rl_compression { RL_COMPRESS_NONE = 0, RL_COMPRESS_ZSTD, RL_COMPRESS_LZ4 };
const char *rl_compression_name(enum rl_compression c); /* "", "zstd", "lz4" */
/* Parses "zstd", "lz4", "none" or "" (none). Returns 0 or -EINVAL. */
int rl_compression_parse(const char *name, enum rl_compression *out) RL_WARN_UNUSED;

/* Standard CRC-32 (ISO-HDLC, as zlib and MCAP use). Start with crc = 0 and
 * feed the running value back in to continue over several buffers. */
uint32_t rl_crc32(uint32_t crc, const void *data, size_t len);

#endif
