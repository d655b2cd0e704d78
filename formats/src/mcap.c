/* The MCAP record codec: the one parser of record contents in the tree
 * (MCAP Format Specification v0x30, "Records"), and the names of opcodes
 * and compressions (CRC-32 is in crc32.c). Every field goes through the
 * bounds-checked cursor; a parsed record borrows the content bytes it came
 * from. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "roadlog/mcap.h"

const uint8_t rl_mcap_magic[RL_MCAP_MAGIC_LEN] = {0x89, 'M', 'C', 'A', 'P', 0x30, '\r', '\n'};

_Static_assert(RL_MCAP_FOOTER_CONTENT_LEN == 8 + 8 + 4, "footer layout");
_Static_assert(RL_MCAP_RECORD_HEADER_LEN == 1 + 8, "record header layout");

const char *rl_opcode_name(uint8_t opcode)
{
    static const char *const names[] = {
        "Invalid",  "Header",        "Footer",        "Schema",     "Channel",         "Message",
        "Chunk",    "MessageIndex",  "ChunkIndex",    "Attachment", "AttachmentIndex", "Statistics",
        "Metadata", "MetadataIndex", "SummaryOffset", "DataEnd",
    };
    if (opcode < sizeof(names) / sizeof(names[0]))
        return names[opcode];
    return "Unknown";
}

const char *rl_compression_name(enum rl_compression c)
{
    switch (c) {
    case RL_COMPRESS_ZSTD:
        return "zstd";
    case RL_COMPRESS_LZ4:
        return "lz4";
    case RL_COMPRESS_NONE:
        break;
    }
    return "";
}

int rl_compression_parse(const char *name, enum rl_compression *out)
{
    if (strcmp(name, "zstd") == 0)
        *out = RL_COMPRESS_ZSTD;
    else if (strcmp(name, "lz4") == 0)
        *out = RL_COMPRESS_LZ4;
    else if (strcmp(name, "none") == 0 || name[0] == '\0')
        *out = RL_COMPRESS_NONE;
    else
        return -EINVAL;
    return 0;
}

/* ---- field readers ---- */

static struct rl_str get_str(struct rl_cursor *c)
{
    struct rl_str s = {NULL, 0};
    uint32_t n = rl__cursor_u32(c);
    const uint8_t *b;
    if (rl__cursor_take(c, n, &b)) {
        s.ptr = (const char *)b;
        s.len = n;
    }
    return s;
}

static struct rl_bytes get_bytes32(struct rl_cursor *c)
{
    struct rl_bytes s = {NULL, 0};
    uint32_t n = rl__cursor_u32(c);
    const uint8_t *b;
    if (rl__cursor_take(c, n, &b)) {
        s.ptr = b;
        s.len = n;
    }
    return s;
}

static struct rl_bytes get_bytes64(struct rl_cursor *c)
{
    struct rl_bytes s = {NULL, 0};
    uint64_t n = rl__cursor_u64(c);
    const uint8_t *b;
    if (n > c->left) {
        c->failed = true;
        return s;
    }
    if (rl__cursor_take(c, (size_t)n, &b)) {
        s.ptr = b;
        s.len = (size_t)n;
    }
    return s;
}

enum map_kind { MAP_STR_STR, MAP_U16_U64, MAP_U64_U64 };

/* Reads a length-prefixed map or array and checks every entry fits. */
static struct rl_map get_map(struct rl_cursor *c, enum map_kind kind)
{
    struct rl_map m = {NULL, 0, 0};
    uint32_t n = rl__cursor_u32(c);
    const uint8_t *b;
    if (!rl__cursor_take(c, n, &b))
        return m;
    struct rl_cursor in;
    rl__cursor_init(&in, b, n);
    uint32_t count = 0;
    while (in.left > 0 && !in.failed) {
        switch (kind) {
        case MAP_STR_STR:
            (void)get_str(&in);
            (void)get_str(&in);
            break;
        case MAP_U16_U64:
            (void)rl__cursor_u16(&in);
            (void)rl__cursor_u64(&in);
            break;
        case MAP_U64_U64:
            (void)rl__cursor_u64(&in);
            (void)rl__cursor_u64(&in);
            break;
        }
        count++;
    }
    if (in.failed) {
        c->failed = true;
        return m;
    }
    m.ptr = b;
    m.len = n;
    m.count = count;
    return m;
}

int rl_map_next_str_str(const struct rl_map *m, size_t *pos, struct rl_str *key, struct rl_str *val)
{
    if (*pos >= m->len)
        return 0;
    struct rl_cursor c;
    rl__cursor_init(&c, m->ptr + *pos, m->len - *pos);
    *key = get_str(&c);
    *val = get_str(&c);
    if (c.failed)
        return 0;
    *pos = m->len - c.left;
    return 1;
}

int rl_map_next_u16_u64(const struct rl_map *m, size_t *pos, uint16_t *key, uint64_t *val)
{
    if (*pos >= m->len)
        return 0;
    struct rl_cursor c;
    rl__cursor_init(&c, m->ptr + *pos, m->len - *pos);
    *key = rl__cursor_u16(&c);
    *val = rl__cursor_u64(&c);
    if (c.failed)
        return 0;
    *pos = m->len - c.left;
    return 1;
}

int rl_map_next_u64_u64(const struct rl_map *m, size_t *pos, uint64_t *a, uint64_t *b)
{
    if (*pos >= m->len)
        return 0;
    struct rl_cursor c;
    rl__cursor_init(&c, m->ptr + *pos, m->len - *pos);
    *a = rl__cursor_u64(&c);
    *b = rl__cursor_u64(&c);
    if (c.failed)
        return 0;
    *pos = m->len - c.left;
    return 1;
}

/* ---- records ---- */

int rl_mcap_parse(uint8_t opcode, const uint8_t *content, size_t len, struct rl_record *rec,
                  char *errbuf, size_t errbuf_len)
{
    struct rl_cursor c;
    rl__cursor_init(&c, content, len);
    memset(rec, 0, sizeof(*rec));
    rec->opcode = opcode;
    rec->content.ptr = content;
    rec->content.len = len;

    switch (opcode) {
    case RL_OP_HEADER:
        rec->u.header.profile = get_str(&c);
        rec->u.header.library = get_str(&c);
        break;
    case RL_OP_FOOTER:
        rec->u.footer.summary_start = rl__cursor_u64(&c);
        rec->u.footer.summary_offset_start = rl__cursor_u64(&c);
        rec->u.footer.summary_crc = rl__cursor_u32(&c);
        break;
    case RL_OP_SCHEMA:
        rec->u.schema.id = rl__cursor_u16(&c);
        rec->u.schema.name = get_str(&c);
        rec->u.schema.encoding = get_str(&c);
        rec->u.schema.data = get_bytes32(&c);
        break;
    case RL_OP_CHANNEL:
        rec->u.channel.id = rl__cursor_u16(&c);
        rec->u.channel.schema_id = rl__cursor_u16(&c);
        rec->u.channel.topic = get_str(&c);
        rec->u.channel.message_encoding = get_str(&c);
        rec->u.channel.metadata = get_map(&c, MAP_STR_STR);
        break;
    case RL_OP_MESSAGE: {
        struct rl_rec_message *m = &rec->u.message;
        m->channel_id = rl__cursor_u16(&c);
        m->sequence = rl__cursor_u32(&c);
        m->log_time = rl__cursor_u64(&c);
        m->publish_time = rl__cursor_u64(&c);
        if (!c.failed) {
            m->data.ptr = c.p;
            m->data.len = c.left;
        }
        break;
    }
    case RL_OP_CHUNK: {
        struct rl_rec_chunk *k = &rec->u.chunk;
        k->message_start_time = rl__cursor_u64(&c);
        k->message_end_time = rl__cursor_u64(&c);
        k->uncompressed_size = rl__cursor_u64(&c);
        k->uncompressed_crc = rl__cursor_u32(&c);
        k->compression = get_str(&c);
        k->records = get_bytes64(&c);
        break;
    }
    case RL_OP_MESSAGE_INDEX:
        rec->u.message_index.channel_id = rl__cursor_u16(&c);
        rec->u.message_index.records = get_map(&c, MAP_U64_U64);
        break;
    case RL_OP_CHUNK_INDEX: {
        struct rl_rec_chunk_index *x = &rec->u.chunk_index;
        x->message_start_time = rl__cursor_u64(&c);
        x->message_end_time = rl__cursor_u64(&c);
        x->chunk_start_offset = rl__cursor_u64(&c);
        x->chunk_length = rl__cursor_u64(&c);
        x->message_index_offsets = get_map(&c, MAP_U16_U64);
        x->message_index_length = rl__cursor_u64(&c);
        x->compression = get_str(&c);
        x->compressed_size = rl__cursor_u64(&c);
        x->uncompressed_size = rl__cursor_u64(&c);
        break;
    }
    case RL_OP_ATTACHMENT: {
        struct rl_rec_attachment *a = &rec->u.attachment;
        a->log_time = rl__cursor_u64(&c);
        a->create_time = rl__cursor_u64(&c);
        a->name = get_str(&c);
        a->media_type = get_str(&c);
        a->data = get_bytes64(&c);
        if (!c.failed)
            a->computed_crc = rl_crc32(0, content, len - c.left);
        a->crc = rl__cursor_u32(&c);
        break;
    }
    case RL_OP_ATTACHMENT_INDEX: {
        struct rl_rec_attachment_index *a = &rec->u.attachment_index;
        a->offset = rl__cursor_u64(&c);
        a->length = rl__cursor_u64(&c);
        a->log_time = rl__cursor_u64(&c);
        a->create_time = rl__cursor_u64(&c);
        a->data_size = rl__cursor_u64(&c);
        a->name = get_str(&c);
        a->media_type = get_str(&c);
        break;
    }
    case RL_OP_STATISTICS: {
        struct rl_rec_statistics *s = &rec->u.statistics;
        s->message_count = rl__cursor_u64(&c);
        s->schema_count = rl__cursor_u16(&c);
        s->channel_count = rl__cursor_u32(&c);
        s->attachment_count = rl__cursor_u32(&c);
        s->metadata_count = rl__cursor_u32(&c);
        s->chunk_count = rl__cursor_u32(&c);
        s->message_start_time = rl__cursor_u64(&c);
        s->message_end_time = rl__cursor_u64(&c);
        s->channel_message_counts = get_map(&c, MAP_U16_U64);
        break;
    }
    case RL_OP_METADATA:
        rec->u.metadata.name = get_str(&c);
        rec->u.metadata.metadata = get_map(&c, MAP_STR_STR);
        break;
    case RL_OP_METADATA_INDEX:
        rec->u.metadata_index.offset = rl__cursor_u64(&c);
        rec->u.metadata_index.length = rl__cursor_u64(&c);
        rec->u.metadata_index.name = get_str(&c);
        break;
    case RL_OP_SUMMARY_OFFSET:
        rec->u.summary_offset.group_opcode = rl__cursor_u8(&c);
        rec->u.summary_offset.group_start = rl__cursor_u64(&c);
        rec->u.summary_offset.group_length = rl__cursor_u64(&c);
        break;
    case RL_OP_DATA_END:
        rec->u.data_end.data_section_crc = rl__cursor_u32(&c);
        break;
    default:
        /* Unknown opcodes are skipped by readers (spec: "Opcodes"). */
        break;
    }
    if (c.failed) {
        if (errbuf && errbuf_len)
            snprintf(errbuf, errbuf_len, "%s record of %zu bytes is too short for its fields",
                     rl_opcode_name(opcode), len);
        return RL_ECORRUPT;
    }
    return 0;
}
