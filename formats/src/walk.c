/* The record walk of reader.h: a streaming pass over an MCAP file in file
 * order, record by record, as the spec's "Streaming" reader model describes
 * it (MCAP Format Specification, "Records" and "Chunk"). Used by the
 * conformance tests and `check`, which need every record as written rather
 * than the reader's index.
 *
 * State machine of rl_record_walk_next():
 *   FILE     -> the next record is read from the file at w->off; a Chunk is
 *               reported as is and moves to CHUNK_PENDING; a Footer moves to
 *               MAGIC;
 *   CHUNK_PENDING -> the chunk reported last is decompressed (and its CRC
 *               checked) into the chunk buffer, then CHUNK;
 *   CHUNK    -> records come from the chunk buffer at w->chunk_pos until it
 *               is used up, then back to FILE;
 *   MAGIC    -> the closing magic must follow the Footer; then DONE;
 *   DONE / FAILED -> every call returns 0 / the first error again.
 * Invariants: at most two buffers are allocated per walk (record content and
 * decompressed chunk), each grown geometrically under a hard cap from
 * mcap.h; every length read from the file is checked against what is left
 * of the file (or chunk) before anything is allocated for it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "cursor.h"
#include "roadlog/reader.h"

enum walk_state { WALK_FILE, WALK_CHUNK_PENDING, WALK_CHUNK, WALK_MAGIC, WALK_DONE, WALK_FAILED };

/* A growable buffer with a hard cap. */
struct walk_buf {
    uint8_t *data;
    size_t cap;
};

struct rl_record_walk {
    struct rl_io *io;
    uint64_t file_size;
    uint64_t off;       /* next record in the file */
    uint64_t chunk_off; /* file offset of the chunk being expanded */
    enum walk_state state;
    int status; /* the error returned in WALK_FAILED */
    bool seen_header;
    struct walk_buf rec;   /* content of the last file record */
    struct walk_buf chunk; /* decompressed records of the current chunk */
    size_t chunk_len, chunk_pos;
    char *errbuf; /* the caller's buffer, also given the detail of an error */
    size_t errbuf_len;
    char err[256];
};

static int buf_reserve(struct walk_buf *b, uint64_t n, uint64_t limit)
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

/* Records an error: the walk stays failed and returns rc from now on. */
__attribute__((format(printf, 3, 4))) static int walk_fail(struct rl_record_walk *w, int rc,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
    if (w->errbuf && w->errbuf_len)
        snprintf(w->errbuf, w->errbuf_len, "%s", w->err);
    w->state = WALK_FAILED;
    w->status = rc;
    return rc;
}

int rl_record_walk_new(struct rl_io *io, struct rl_record_walk **out, char *errbuf,
                       size_t errbuf_len)
{
    uint8_t magic[RL_MCAP_MAGIC_LEN];
    int rc;
    *out = NULL;
    if (errbuf && errbuf_len)
        errbuf[0] = '\0';
    struct rl_record_walk *w = calloc(1, sizeof(*w));
    if (!w) {
        rc = -ENOMEM;
        goto fail;
    }
    w->io = io;
    w->errbuf = errbuf;
    w->errbuf_len = errbuf_len;
    rc = rl_io_size(io, &w->file_size);
    if (rc < 0) {
        (void)walk_fail(w, rc, "cannot get the file size: %s", rl_strerror(rc));
        goto fail;
    }
    if (w->file_size < RL_MCAP_MAGIC_LEN) {
        rc = walk_fail(w, RL_ETRUNC, "file of %llu bytes is too short for the MCAP magic",
                       (unsigned long long)w->file_size);
        goto fail;
    }
    rc = rl_io_pread_full(io, magic, sizeof(magic), 0);
    if (rc < 0) {
        (void)walk_fail(w, rc, "cannot read the magic: %s", rl_strerror(rc));
        goto fail;
    }
    if (memcmp(magic, rl_mcap_magic, sizeof(magic)) != 0) {
        rc = walk_fail(w, RL_ENOTMCAP, "not an MCAP file: bad magic at offset 0");
        goto fail;
    }
    w->off = RL_MCAP_MAGIC_LEN;
    w->state = WALK_FILE;
    *out = w;
    return 0;
fail:
    free(w);
    return rc;
}

/* Reads and parses the file record at w->off. */
static int next_file_record(struct rl_record_walk *w, struct rl_walk_item *item)
{
    uint8_t hdr[RL_MCAP_RECORD_HEADER_LEN];
    uint64_t off = w->off;
    if (off == w->file_size)
        return walk_fail(w, RL_ETRUNC, "file ends at offset %llu before the Footer",
                         (unsigned long long)off);
    if (w->file_size - off < sizeof(hdr))
        return walk_fail(w, RL_ETRUNC,
                         "record header at offset %llu runs past end of file (%llu bytes left)",
                         (unsigned long long)off, (unsigned long long)(w->file_size - off));
    int rc = rl_io_pread_full(w->io, hdr, sizeof(hdr), off);
    if (rc < 0)
        return walk_fail(w, rc, "read failed at offset %llu: %s", (unsigned long long)off,
                         rl_strerror(rc));
    uint8_t op = hdr[0];
    uint64_t len = rl__get_u64le(hdr + 1);
    uint64_t left = w->file_size - off - sizeof(hdr);
    if (len > left)
        return walk_fail(w, RL_ETRUNC, "record at offset %llu runs past end of file (length %llu)",
                         (unsigned long long)off, (unsigned long long)len);
    if (len > RL_MCAP_MAX_RECORD_BYTES)
        return walk_fail(w, RL_ETOOBIG, "%s record at offset %llu is too large (length %llu)",
                         rl_opcode_name(op), (unsigned long long)off, (unsigned long long)len);
    if (!w->seen_header && op != RL_OP_HEADER)
        return walk_fail(w, RL_ECORRUPT, "first record at offset %llu is %s (0x%02x), not a Header",
                         (unsigned long long)off, rl_opcode_name(op), op);
    /* One spare byte so an empty record still has a valid pointer. */
    rc = buf_reserve(&w->rec, len + 1, RL_MCAP_MAX_RECORD_BYTES + 1);
    if (rc < 0)
        return walk_fail(w, rc, "no memory for the %s record of %llu bytes at offset %llu",
                         rl_opcode_name(op), (unsigned long long)len, (unsigned long long)off);
    rc = rl_io_pread_full(w->io, w->rec.data, (size_t)len, off + sizeof(hdr));
    if (rc < 0)
        return walk_fail(w, rc, "read failed at offset %llu: %s", (unsigned long long)off,
                         rl_strerror(rc));
    char why[160];
    rc = rl_mcap_parse(op, w->rec.data, (size_t)len, &item->rec, why, sizeof(why));
    if (rc < 0)
        return walk_fail(w, rc, "bad record at offset %llu: %s", (unsigned long long)off, why);
    item->offset = off;
    item->in_chunk = false;
    w->seen_header = true;
    w->off = off + sizeof(hdr) + len;
    if (op == RL_OP_CHUNK) {
        w->chunk_off = off;
        w->state = WALK_CHUNK_PENDING;
    } else if (op == RL_OP_FOOTER) {
        w->state = WALK_MAGIC;
    }
    return 1;
}

/* Decompresses the chunk whose record is still in w->rec. */
static int expand_chunk(struct rl_record_walk *w)
{
    struct rl_record rec;
    uint64_t off = w->chunk_off;
    size_t len = (size_t)(w->off - off - RL_MCAP_RECORD_HEADER_LEN);
    /* The record was parsed when it was reported; parse it again to get at
     * its fields rather than keeping a copy of them. */
    int rc = rl_mcap_parse(RL_OP_CHUNK, w->rec.data, len, &rec, NULL, 0);
    if (rc < 0)
        return walk_fail(w, rc, "bad chunk at offset %llu", (unsigned long long)off);
    const struct rl_rec_chunk *k = &rec.u.chunk;
    if (k->uncompressed_size > RL_MCAP_MAX_CHUNK_UNCOMPRESSED)
        return walk_fail(w, RL_ETOOBIG,
                         "chunk at offset %llu is too large (uncompressed size %llu)",
                         (unsigned long long)off, (unsigned long long)k->uncompressed_size);
    rc = buf_reserve(&w->chunk, k->uncompressed_size + 1, RL_MCAP_MAX_CHUNK_UNCOMPRESSED + 1);
    if (rc < 0)
        return walk_fail(w, rc, "no memory for the chunk at offset %llu (%llu bytes)",
                         (unsigned long long)off, (unsigned long long)k->uncompressed_size);
    rc = rl__decompress(k->compression, k->records.ptr, k->records.len, w->chunk.data,
                        (size_t)k->uncompressed_size);
    if (rc < 0)
        return walk_fail(w, rc, "cannot decompress the chunk at offset %llu ('%.*s'): %s",
                         (unsigned long long)off,
                         (int)(k->compression.len > 32 ? 32 : k->compression.len),
                         k->compression.ptr ? k->compression.ptr : "", rl_strerror(rc));
    if (k->uncompressed_crc != 0) {
        uint32_t crc = rl_crc32(0, w->chunk.data, (size_t)k->uncompressed_size);
        if (crc != k->uncompressed_crc)
            return walk_fail(w, RL_ECRC,
                             "bad chunk crc at offset %llu (stored 0x%08x, computed 0x%08x)",
                             (unsigned long long)off, (unsigned)k->uncompressed_crc, (unsigned)crc);
    }
    w->chunk_len = (size_t)k->uncompressed_size;
    w->chunk_pos = 0;
    w->state = WALK_CHUNK;
    return 0;
}

/* Parses the next record inside the decompressed chunk. */
static int next_chunk_record(struct rl_record_walk *w, struct rl_walk_item *item)
{
    size_t pos = w->chunk_pos;
    size_t left = w->chunk_len - pos;
    if (left < RL_MCAP_RECORD_HEADER_LEN)
        return walk_fail(w, RL_ECORRUPT,
                         "record header at offset %zu in the chunk at offset %llu runs past "
                         "the end of the chunk (%zu bytes left)",
                         pos, (unsigned long long)w->chunk_off, left);
    const uint8_t *h = w->chunk.data + pos;
    uint8_t op = h[0];
    uint64_t len = rl__get_u64le(h + 1);
    left -= RL_MCAP_RECORD_HEADER_LEN;
    if (len > left)
        return walk_fail(w, RL_ECORRUPT,
                         "record at offset %zu in the chunk at offset %llu runs past the end of "
                         "the chunk (length %llu)",
                         pos, (unsigned long long)w->chunk_off, (unsigned long long)len);
    char why[160];
    int rc =
        rl_mcap_parse(op, h + RL_MCAP_RECORD_HEADER_LEN, (size_t)len, &item->rec, why, sizeof(why));
    if (rc < 0)
        return walk_fail(w, rc, "bad record at offset %zu in the chunk at offset %llu: %s", pos,
                         (unsigned long long)w->chunk_off, why);
    item->offset = pos;
    item->in_chunk = true;
    w->chunk_pos = pos + RL_MCAP_RECORD_HEADER_LEN + (size_t)len;
    return 1;
}

static int check_closing_magic(struct rl_record_walk *w)
{
    uint8_t magic[RL_MCAP_MAGIC_LEN];
    uint64_t off = w->off;
    if (w->file_size - off < sizeof(magic))
        return walk_fail(w, RL_ETRUNC,
                         "closing magic at offset %llu runs past end of file (%llu bytes left)",
                         (unsigned long long)off, (unsigned long long)(w->file_size - off));
    int rc = rl_io_pread_full(w->io, magic, sizeof(magic), off);
    if (rc < 0)
        return walk_fail(w, rc, "read failed at offset %llu: %s", (unsigned long long)off,
                         rl_strerror(rc));
    if (memcmp(magic, rl_mcap_magic, sizeof(magic)) != 0)
        return walk_fail(w, RL_ECORRUPT, "bad closing magic at offset %llu",
                         (unsigned long long)off);
    w->off = off + sizeof(magic);
    w->state = WALK_DONE;
    return 0;
}

int rl_record_walk_next(struct rl_record_walk *w, struct rl_walk_item *item)
{
    int rc;
    for (;;) {
        switch (w->state) {
        case WALK_FILE:
            return next_file_record(w, item);
        case WALK_CHUNK_PENDING:
            rc = expand_chunk(w);
            if (rc < 0)
                return rc;
            break;
        case WALK_CHUNK:
            if (w->chunk_pos < w->chunk_len)
                return next_chunk_record(w, item);
            w->state = WALK_FILE;
            break;
        case WALK_MAGIC:
            rc = check_closing_magic(w);
            if (rc < 0)
                return rc;
            break;
        case WALK_DONE:
            return 0;
        case WALK_FAILED:
            return w->status;
        }
    }
}

const char *rl_record_walk_errmsg(const struct rl_record_walk *w)
{
    return w->err;
}

void rl_record_walk_free(struct rl_record_walk *w)
{
    if (!w)
        return;
    free(w->rec.data);
    free(w->chunk.data);
    free(w);
}
