/* rl_reader_verify() of reader.h: the integrity check behind `roadlog check`.
 * It works on an open reader through reader_internal.h and reports every
 * problem it finds to the reader's problem callback, with the file offset it
 * concerns, rather than stopping at the first one. What is checked (MCAP
 * Format Specification, "Chunk", "Message Index", "Data End", "Footer",
 * "Attachment"):
 *   - the file ends with a Footer and the closing magic (a cut-off file is
 *     one problem: what was lost);
 *   - the data-section CRC of DataEnd and the summary CRC of the Footer;
 *   - every chunk: its record at the indexed offset with the indexed header
 *     fields, decompressed, its CRC, every record inside it well formed,
 *     every Message inside it on a known channel and within the chunk's
 *     time range;
 *   - the MessageIndex records after each chunk against the messages in it;
 *   - every attachment's CRC and its index entry.
 * Memory: one buffer for a chunk's records (the reader's), one for a record
 * read here, and one array of the messages of the current chunk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "reader_internal.h"

/* Streaming block size for the data-section and summary CRCs. */
#define CRC_BLOCK_BYTES ((size_t)1 << 20)
/* Largest MessageIndex record read. */
#define MESSAGE_INDEX_MAX_BYTES ((uint64_t)256 << 20)
/* Channel ids form a 16-bit space. */
#define CHANNEL_SET_BYTES (65536 / 8)

/* A message found in a chunk. */
struct vmsg {
    uint64_t offset; /* within the decompressed records */
    uint64_t log_time;
    uint16_t channel_id;
    bool indexed; /* a MessageIndex entry names it */
};

struct vbuf {
    uint8_t *data;
    size_t cap;
};

struct verify {
    struct rl_reader *r;
    struct rl_io *io;
    uint64_t file_size;
    int64_t problems;
    struct vbuf rec;   /* one record read from the file */
    struct vmsg *msgs; /* the current chunk's messages, by offset */
    size_t n_msgs, cap_msgs;
    uint8_t *channels_seen; /* channel ids defined by Channel records in chunks */
    uint8_t *index_seen;    /* channel ids with a MessageIndex after the current chunk */
};

static int vbuf_reserve(struct vbuf *b, uint64_t n, uint64_t limit)
{
    if (n <= b->cap)
        return 0;
    if (n > limit || n > SIZE_MAX)
        return RL_ETOOBIG;
    uint64_t cap = b->cap ? b->cap : 4096;
    while (cap < n)
        cap = cap > limit / 2 ? limit : cap * 2;
    uint8_t *p = realloc(b->data, (size_t)cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = (size_t)cap;
    return 0;
}

#define PROBLEM(v, code, off, ...)                                                                 \
    do {                                                                                           \
        (v)->problems++;                                                                           \
        rl__reader_problem((v)->r, (code), (off), __VA_ARGS__);                                    \
    } while (0)

/* Reads the record at off (content at most max bytes) into v->rec and parses
 * it. Returns 0; RL_ETRUNC/RL_ETOOBIG/RL_ECORRUPT when the record is not
 * there or malformed (detail in why); -errno on I/O errors. */
static int read_record(struct verify *v, uint64_t off, uint64_t max, struct rl_record *rec,
                       char *why, size_t why_len)
{
    uint8_t hdr[RL_MCAP_RECORD_HEADER_LEN];
    why[0] = '\0';
    if (off > v->file_size || v->file_size - off < sizeof(hdr)) {
        snprintf(why, why_len, "record header runs past end of file");
        return RL_ETRUNC;
    }
    int rc = rl_io_pread_full(v->io, hdr, sizeof(hdr), off);
    if (rc < 0)
        return rc;
    uint64_t len = rl__get_u64le(hdr + 1);
    if (len > v->file_size - off - sizeof(hdr)) {
        snprintf(why, why_len, "record runs past end of file (length %llu)",
                 (unsigned long long)len);
        return RL_ETRUNC;
    }
    if (len > max) {
        snprintf(why, why_len, "%s record too large (length %llu)", rl_opcode_name(hdr[0]),
                 (unsigned long long)len);
        return RL_ETOOBIG;
    }
    rc = vbuf_reserve(&v->rec, len + 1, max + 1);
    if (rc < 0)
        return rc == RL_ETOOBIG ? -ENOMEM : rc;
    rc = rl_io_pread_full(v->io, v->rec.data, (size_t)len, off + sizeof(hdr));
    if (rc < 0)
        return rc;
    return rl_mcap_parse(hdr[0], v->rec.data, (size_t)len, rec, why, why_len);
}

static bool is_fatal(int rc)
{
    return rc < 0 && rc > -4000; /* -errno: I/O or memory, not the file's fault */
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* CRC-32 of [start, end) of the file. */
static int crc_range(struct verify *v, uint64_t start, uint64_t end, uint32_t *out)
{
    uint8_t *block = malloc(CRC_BLOCK_BYTES);
    int rc = 0;
    uint32_t crc = 0;
    if (!block)
        return -ENOMEM;
    for (uint64_t off = start; off < end;) {
        size_t n = (size_t)min_u64(end - off, CRC_BLOCK_BYTES);
        rc = rl_io_pread_full(v->io, block, n, off);
        if (rc < 0)
            goto fail;
        crc = rl_crc32(crc, block, n);
        off += n;
    }
    *out = crc;
fail:
    free(block);
    return rc;
}

/* Footer and closing magic, read here rather than taken from the reader so
 * a reader opened in scan mode is checked the same way. */
struct tail {
    bool ok;
    uint64_t footer_offset;
    struct rl_rec_footer footer;
};

static int read_tail(struct verify *v, struct tail *t)
{
    uint8_t buf[RL_MCAP_FOOTER_RECORD_LEN + RL_MCAP_MAGIC_LEN];
    memset(t, 0, sizeof(*t));
    if (v->file_size < RL_MCAP_MAGIC_LEN + sizeof(buf))
        return 0;
    uint64_t foff = v->file_size - sizeof(buf);
    int rc = rl_io_pread_full(v->io, buf, sizeof(buf), foff);
    if (rc < 0)
        return rc;
    if (memcmp(buf + RL_MCAP_FOOTER_RECORD_LEN, rl_mcap_magic, RL_MCAP_MAGIC_LEN) != 0 ||
        buf[0] != RL_OP_FOOTER || rl__get_u64le(buf + 1) != RL_MCAP_FOOTER_CONTENT_LEN)
        return 0;
    struct rl_record rec;
    if (rl_mcap_parse(RL_OP_FOOTER, buf + RL_MCAP_RECORD_HEADER_LEN, RL_MCAP_FOOTER_CONTENT_LEN,
                      &rec, NULL, 0) < 0)
        return 0;
    t->ok = true;
    t->footer_offset = foff;
    t->footer = rec.u.footer;
    return 0;
}

/* Finds the DataEnd record by walking record headers from the Header on;
 * *found stays false when the walk meets the end, a Footer or a bad record
 * first. */
static int find_data_end(struct verify *v, uint64_t *off_out, uint32_t *crc_out, bool *found)
{
    uint8_t hdr[RL_MCAP_RECORD_HEADER_LEN + 4];
    uint64_t off = RL_MCAP_MAGIC_LEN;
    *found = false;
    while (off < v->file_size && v->file_size - off >= RL_MCAP_RECORD_HEADER_LEN) {
        size_t n = (size_t)min_u64(sizeof(hdr), v->file_size - off);
        int rc = rl_io_pread_full(v->io, hdr, n, off);
        if (rc < 0)
            return rc;
        uint64_t len = rl__get_u64le(hdr + 1);
        if (len > v->file_size - off - RL_MCAP_RECORD_HEADER_LEN || hdr[0] == RL_OP_FOOTER)
            return 0;
        if (hdr[0] == RL_OP_DATA_END) {
            if (len < 4)
                return 0;
            *off_out = off;
            *crc_out = rl__get_u32le(hdr + RL_MCAP_RECORD_HEADER_LEN);
            *found = true;
            return 0;
        }
        off += RL_MCAP_RECORD_HEADER_LEN + len;
    }
    return 0;
}

static int check_file_crcs(struct verify *v)
{
    struct rl__reader_layout lay;
    struct rl_file_info info;
    struct tail t;
    int rc = read_tail(v, &t);
    if (rc < 0)
        return rc;
    rl__reader_layout(v->r, &lay);
    rl_reader_file_info(v->r, &info);

    if (!t.ok) {
        uint64_t cut = info.valid_bytes ? info.valid_bytes : v->file_size;
        PROBLEM(v, RL_ETRUNC, cut, "no summary: file was cut off at byte %llu; %llu bytes lost",
                (unsigned long long)cut, (unsigned long long)(v->file_size - cut));
    }

    /* Data section: from the start of the file to the DataEnd record. */
    uint64_t de_off = lay.data_end_offset;
    uint32_t de_crc = lay.data_section_crc;
    bool have_de = lay.has_data_end;
    if (!have_de) {
        rc = find_data_end(v, &de_off, &de_crc, &have_de);
        if (rc < 0)
            return rc;
    }
    if (have_de && de_crc != 0) {
        uint32_t crc;
        rc = crc_range(v, 0, de_off, &crc);
        if (rc < 0)
            return rc;
        if (crc != de_crc)
            PROBLEM(v, RL_ECRC, de_off,
                    "bad data section crc at offset %llu (stored 0x%08x, computed 0x%08x)",
                    (unsigned long long)de_off, (unsigned)de_crc, (unsigned)crc);
    }

    /* Summary: from its start (or the Footer when there is none) through
     * the Footer's summary_offset_start field. */
    if (t.ok && t.footer.summary_crc != 0) {
        uint64_t start = t.footer.summary_start ? t.footer.summary_start : t.footer_offset;
        if (start < RL_MCAP_MAGIC_LEN || start > t.footer_offset) {
            PROBLEM(v, RL_ECORRUPT, t.footer_offset,
                    "footer at offset %llu has summary start %llu outside the file",
                    (unsigned long long)t.footer_offset,
                    (unsigned long long)t.footer.summary_start);
        } else {
            uint32_t crc;
            rc = crc_range(v, start, t.footer_offset + RL_MCAP_RECORD_HEADER_LEN + 16, &crc);
            if (rc < 0)
                return rc;
            if (crc != t.footer.summary_crc)
                PROBLEM(v, RL_ECRC, start,
                        "bad summary crc at offset %llu (stored 0x%08x, computed 0x%08x)",
                        (unsigned long long)start, (unsigned)t.footer.summary_crc, (unsigned)crc);
        }
    }
    return 0;
}

/* Checks the Chunk record at the chunk's indexed offset against the index.
 * Sets *crc_out to its stored CRC. Returns 0 (problems reported) or a fatal
 * error. */
static int check_chunk_header(struct verify *v, const struct rl_chunk_info *ci, uint32_t *crc_out,
                              bool *ok)
{
    struct rl_record rec;
    char why[160];
    *ok = false;
    *crc_out = 0;
    int rc = read_record(v, ci->offset, RL_MCAP_MAX_RECORD_BYTES, &rec, why, sizeof(why));
    if (is_fatal(rc))
        return rc;
    if (rc < 0) {
        PROBLEM(v, rc, ci->offset, "no valid chunk at offset %llu: %s",
                (unsigned long long)ci->offset, why);
        return 0;
    }
    if (rec.opcode != RL_OP_CHUNK) {
        PROBLEM(v, RL_ECORRUPT, ci->offset, "chunk index points at a %s record at offset %llu",
                rl_opcode_name(rec.opcode), (unsigned long long)ci->offset);
        return 0;
    }
    const struct rl_rec_chunk *k = &rec.u.chunk;
    enum rl_compression comp = RL_COMPRESS_NONE;
    char name[32];
    snprintf(name, sizeof(name), "%.*s", (int)min_u64(k->compression.len, sizeof(name) - 1),
             k->compression.ptr ? k->compression.ptr : "");
    if (rl_compression_parse(name, &comp) < 0)
        PROBLEM(v, RL_EUNSUPPORTED, ci->offset, "chunk at offset %llu has unknown compression '%s'",
                (unsigned long long)ci->offset, name);
    uint64_t length = RL_MCAP_RECORD_HEADER_LEN + (uint64_t)rec.content.len;
    const char *field = NULL;
    uint64_t want = 0, have = 0;
    if (length != ci->length)
        field = "length", want = ci->length, have = length;
    else if (k->message_start_time != ci->start_ns)
        field = "message_start_time", want = ci->start_ns, have = k->message_start_time;
    else if (k->message_end_time != ci->end_ns)
        field = "message_end_time", want = ci->end_ns, have = k->message_end_time;
    else if (k->uncompressed_size != ci->uncompressed_size)
        field = "uncompressed_size", want = ci->uncompressed_size, have = k->uncompressed_size;
    else if (k->records.len != ci->compressed_size)
        field = "compressed_size", want = ci->compressed_size, have = k->records.len;
    else if (comp != ci->compression)
        field = "compression", want = (uint64_t)ci->compression, have = (uint64_t)comp;
    if (field) {
        PROBLEM(v, RL_ECORRUPT, ci->offset,
                "chunk at offset %llu does not match its index: %s is %llu, index says %llu",
                (unsigned long long)ci->offset, field, (unsigned long long)have,
                (unsigned long long)want);
        return 0;
    }
    *crc_out = k->uncompressed_crc;
    *ok = true;
    return 0;
}

static bool bit_get(const uint8_t *set, uint16_t id)
{
    return set[id / 8] >> (id % 8) & 1;
}

static void bit_set(uint8_t *set, uint16_t id)
{
    set[id / 8] |= (uint8_t)(1u << (id % 8));
}

static int add_msg(struct verify *v, uint64_t offset, uint64_t log_time, uint16_t channel_id)
{
    if (v->n_msgs == v->cap_msgs) {
        size_t n = v->cap_msgs ? v->cap_msgs * 2 : 256;
        struct vmsg *p = realloc(v->msgs, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        v->msgs = p;
        v->cap_msgs = n;
    }
    struct vmsg *m = &v->msgs[v->n_msgs++];
    m->offset = offset;
    m->log_time = log_time;
    m->channel_id = channel_id;
    m->indexed = false;
    return 0;
}

/* Walks the records of a loaded chunk: well-formed, known channels, times in
 * range. Fills v->msgs (in offset order). */
static int check_chunk_records(struct verify *v, const struct rl_chunk_info *ci,
                               const uint8_t *recs, size_t len)
{
    const char *what = ci->raw_messages ? "message run" : "chunk";
    size_t pos = 0;
    v->n_msgs = 0;
    while (pos < len) {
        if (len - pos < RL_MCAP_RECORD_HEADER_LEN) {
            PROBLEM(v, RL_ECORRUPT, ci->offset,
                    "%s at offset %llu: record header at offset %zu runs past its end", what,
                    (unsigned long long)ci->offset, pos);
            return 0;
        }
        uint8_t op = recs[pos];
        uint64_t rlen = rl__get_u64le(recs + pos + 1);
        if (rlen > len - pos - RL_MCAP_RECORD_HEADER_LEN) {
            PROBLEM(v, RL_ECORRUPT, ci->offset,
                    "%s at offset %llu: record at offset %zu runs past its end (length %llu)", what,
                    (unsigned long long)ci->offset, pos, (unsigned long long)rlen);
            return 0;
        }
        struct rl_record rec;
        char why[160];
        if (rl_mcap_parse(op, recs + pos + RL_MCAP_RECORD_HEADER_LEN, (size_t)rlen, &rec, why,
                          sizeof(why)) < 0) {
            PROBLEM(v, RL_ECORRUPT, ci->offset, "%s at offset %llu: bad record at offset %zu: %s",
                    what, (unsigned long long)ci->offset, pos, why);
            return 0;
        }
        if (op == RL_OP_CHANNEL) {
            bit_set(v->channels_seen, rec.u.channel.id);
        } else if (op == RL_OP_MESSAGE) {
            const struct rl_rec_message *m = &rec.u.message;
            if (!rl_reader_channel(v->r, m->channel_id) &&
                !bit_get(v->channels_seen, m->channel_id))
                PROBLEM(v, RL_ENOTFOUND, ci->offset,
                        "%s at offset %llu: message at offset %zu on unknown channel %u", what,
                        (unsigned long long)ci->offset, pos, (unsigned)m->channel_id);
            if (m->log_time < ci->start_ns || m->log_time > ci->end_ns)
                PROBLEM(v, RL_ECORRUPT, ci->offset,
                        "%s at offset %llu: message at offset %zu has log_time %llu outside "
                        "the chunk's range [%llu, %llu]",
                        what, (unsigned long long)ci->offset, pos, (unsigned long long)m->log_time,
                        (unsigned long long)ci->start_ns, (unsigned long long)ci->end_ns);
            int rc = add_msg(v, pos, m->log_time, m->channel_id);
            if (rc < 0)
                return rc;
        }
        pos += RL_MCAP_RECORD_HEADER_LEN + (size_t)rlen;
    }
    return 0;
}

static struct vmsg *find_msg(struct verify *v, uint64_t offset)
{
    size_t lo = 0, hi = v->n_msgs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->msgs[mid].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->n_msgs && v->msgs[lo].offset == offset ? &v->msgs[lo] : NULL;
}

/* Checks the MessageIndex records that follow a chunk against v->msgs. */
static int check_message_indexes(struct verify *v, const struct rl_chunk_info *ci)
{
    uint64_t off = ci->offset + ci->length;
    bool any = false;
    int rc;
    memset(v->index_seen, 0, CHANNEL_SET_BYTES);
    while (off < v->file_size && v->file_size - off >= RL_MCAP_RECORD_HEADER_LEN) {
        uint8_t op;
        rc = rl_io_pread_full(v->io, &op, 1, off);
        if (rc < 0)
            return rc;
        if (op != RL_OP_MESSAGE_INDEX)
            break;
        struct rl_record rec;
        char why[160];
        rc = read_record(v, off, MESSAGE_INDEX_MAX_BYTES, &rec, why, sizeof(why));
        if (is_fatal(rc))
            return rc;
        if (rc < 0) {
            PROBLEM(v, rc, off,
                    "bad message index at offset %llu after the chunk at offset "
                    "%llu: %s",
                    (unsigned long long)off, (unsigned long long)ci->offset, why);
            break;
        }
        any = true;
        const struct rl_rec_message_index *mi = &rec.u.message_index;
        if (bit_get(v->index_seen, mi->channel_id))
            PROBLEM(v, RL_ECORRUPT, off,
                    "second message index for channel %u after the chunk at offset %llu",
                    (unsigned)mi->channel_id, (unsigned long long)ci->offset);
        bit_set(v->index_seen, mi->channel_id);
        size_t pos = 0;
        uint64_t t, moff;
        bool reported = false;
        while (rl_map_next_u64_u64(&mi->records, &pos, &t, &moff) == 1) {
            struct vmsg *m = find_msg(v, moff);
            if (reported)
                continue;
            if (!m || m->channel_id != mi->channel_id || m->log_time != t) {
                PROBLEM(v, RL_ECORRUPT, off,
                        "message index at offset %llu (channel %u) lists offset %llu, log_time "
                        "%llu, which holds no such message in the chunk at offset %llu",
                        (unsigned long long)off, (unsigned)mi->channel_id, (unsigned long long)moff,
                        (unsigned long long)t, (unsigned long long)ci->offset);
                reported = true;
            } else if (m->indexed) {
                PROBLEM(v, RL_ECORRUPT, off,
                        "message index at offset %llu (channel %u) lists offset %llu twice",
                        (unsigned long long)off, (unsigned)mi->channel_id,
                        (unsigned long long)moff);
                reported = true;
            } else {
                m->indexed = true;
            }
        }
        off += RL_MCAP_RECORD_HEADER_LEN + (uint64_t)rec.content.len;
    }
    if (any) {
        /* Every message of the chunk must be indexed. */
        for (size_t i = 0; i < v->n_msgs; i++) {
            const struct vmsg *m = &v->msgs[i];
            if (m->indexed)
                continue;
            PROBLEM(v, RL_ECORRUPT, ci->offset,
                    "message at offset %llu in the chunk at offset %llu (channel %u) is missing "
                    "from the chunk's message indexes",
                    (unsigned long long)m->offset, (unsigned long long)ci->offset,
                    (unsigned)m->channel_id);
            break;
        }
    }
    return 0;
}

static int check_chunks(struct verify *v)
{
    size_t n = rl_reader_chunk_count(v->r);
    for (size_t i = 0; i < n; i++) {
        const struct rl_chunk_info *ci = rl_reader_chunk_at(v->r, i);
        uint32_t stored_crc = 0;
        bool ok = true;
        int rc;
        if (!ci->raw_messages) {
            rc = check_chunk_header(v, ci, &stored_crc, &ok);
            if (rc < 0)
                return rc;
            if (!ok)
                continue;
        }
        const uint8_t *recs;
        size_t len;
        /* The CRC is checked here rather than by the loader so the problem
         * can name both values. */
        rc = rl__reader_load_chunk(v->r, i, false, &recs, &len);
        if (is_fatal(rc))
            return rc;
        if (rc < 0) {
            PROBLEM(v, rc, ci->offset, "cannot load the chunk at offset %llu: %s",
                    (unsigned long long)ci->offset, rl_reader_errmsg(v->r));
            continue;
        }
        if (stored_crc != 0) {
            uint32_t crc = rl_crc32(0, recs, len);
            if (crc != stored_crc) {
                PROBLEM(v, RL_ECRC, ci->offset,
                        "bad chunk crc at offset %llu (stored 0x%08x, computed 0x%08x)",
                        (unsigned long long)ci->offset, (unsigned)stored_crc, (unsigned)crc);
                continue;
            }
        }
        rc = check_chunk_records(v, ci, recs, len);
        if (rc < 0)
            return rc;
        if (!ci->raw_messages) {
            rc = check_message_indexes(v, ci);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int check_attachments(struct verify *v)
{
    size_t n = rl_reader_attachment_count(v->r);
    for (size_t i = 0; i < n; i++) {
        const struct rl_attachment_info *ai = rl_reader_attachment_at(v->r, i);
        struct rl_record rec;
        char why[160];
        int rc = read_record(v, ai->offset, RL_MCAP_MAX_RECORD_BYTES, &rec, why, sizeof(why));
        if (is_fatal(rc))
            return rc;
        if (rc < 0) {
            PROBLEM(v, rc, ai->offset, "no valid attachment at offset %llu: %s",
                    (unsigned long long)ai->offset, why);
            continue;
        }
        if (rec.opcode != RL_OP_ATTACHMENT) {
            PROBLEM(v, RL_ECORRUPT, ai->offset,
                    "attachment index points at a %s record at offset %llu",
                    rl_opcode_name(rec.opcode), (unsigned long long)ai->offset);
            continue;
        }
        const struct rl_rec_attachment *a = &rec.u.attachment;
        if (a->crc != 0 && a->crc != a->computed_crc) {
            PROBLEM(v, RL_ECRC, ai->offset,
                    "bad attachment crc at offset %llu (stored 0x%08x, computed 0x%08x)",
                    (unsigned long long)ai->offset, (unsigned)a->crc, (unsigned)a->computed_crc);
            continue;
        }
        size_t name_len = strlen(ai->name);
        if (RL_MCAP_RECORD_HEADER_LEN + (uint64_t)rec.content.len != ai->length ||
            a->data.len != ai->data_size || a->log_time != ai->log_time_ns ||
            a->create_time != ai->create_time_ns || a->name.len != name_len ||
            (name_len && memcmp(a->name.ptr, ai->name, name_len) != 0))
            PROBLEM(v, RL_ECORRUPT, ai->offset,
                    "attachment at offset %llu does not match its index entry '%s'",
                    (unsigned long long)ai->offset, ai->name);
    }
    return 0;
}

int64_t rl_reader_verify(struct rl_reader *r)
{
    struct verify v;
    memset(&v, 0, sizeof(v));
    v.r = r;
    v.io = rl__reader_io(r);
    int rc = rl_io_size(v.io, &v.file_size);
    if (rc < 0)
        goto fail;
    v.channels_seen = calloc(1, CHANNEL_SET_BYTES);
    v.index_seen = calloc(1, CHANNEL_SET_BYTES);
    if (!v.channels_seen || !v.index_seen) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = check_file_crcs(&v);
    if (rc < 0)
        goto fail;
    rc = check_chunks(&v);
    if (rc < 0)
        goto fail;
    rc = check_attachments(&v);
    if (rc < 0)
        goto fail;
    free(v.rec.data);
    free(v.msgs);
    free(v.channels_seen);
    free(v.index_seen);
    return v.problems;
fail:
    free(v.rec.data);
    free(v.msgs);
    free(v.channels_seen);
    free(v.index_seen);
    return rc;
}
