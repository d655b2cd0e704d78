/* rl_recover_copy() of reader.h: rewrites whatever an open reader can read
 * of a log (complete, damaged or cut off by a power loss) as a complete log
 * through a writer. It is what `roadlog recover` runs, and it goes through
 * the real reader and writer only (no parsing of its own beyond walking the
 * records of a loaded chunk with rl_mcap_parse).
 *
 * Order of work: every schema and channel the reader knows, with the same
 * ids; then every chunk in file order, loaded through the reader (damaged
 * ones are reported and counted, never fatal), its Schema and Channel
 * records registered as they appear and its Messages copied in file order;
 * then metadata records and attachments. A message on a channel nobody
 * defined is kept, on a placeholder channel with its id: raw first,
 * lossless. Only writer failures (I/O, memory) stop the copy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "reader_internal.h"

#define ID_SET_BYTES (65536 / 8)

struct recover {
    struct rl_reader *in;
    struct rl_writer *w;
    struct rl_recover_report *rep;
    uint8_t schemas_done[ID_SET_BYTES];
    uint8_t channels_done[ID_SET_BYTES];
    /* The writer reserves channel id 0 for "choose one": a channel 0 in the
     * input is written under the id the writer picks. */
    uint16_t channel0_id;
};

static bool bit_get(const uint8_t *set, uint16_t id)
{
    return set[id / 8] >> (id % 8) & 1;
}

static void bit_set(uint8_t *set, uint16_t id)
{
    set[id / 8] |= (uint8_t)(1u << (id % 8));
}

static char *dup_str(struct rl_str s)
{
    char *p = malloc(s.len + 1);
    if (!p)
        return NULL;
    if (s.len)
        memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

static int writer_error(struct recover *c, int rc, const char *what, unsigned id)
{
    rl__reader_problem(c->in, rc, 0, "recover: writing %s %u failed: %s", what, id,
                       rl_writer_errmsg(c->w));
    return rc;
}

static int put_schema(struct recover *c, uint16_t id, const char *name, const char *encoding,
                      const uint8_t *data, size_t len)
{
    if (id == 0 || bit_get(c->schemas_done, id))
        return 0;
    int rc = rl_writer_add_schema(c->w, id, name, encoding, data, len, NULL);
    if (rc < 0)
        return writer_error(c, rc, "schema", id);
    bit_set(c->schemas_done, id);
    return 0;
}

/* Registers schema id with the writer if the reader knows it. Returns the
 * schema id to give the channel: 0 when the schema is nowhere to be found. */
static int ensure_schema(struct recover *c, uint16_t id, uint16_t *use)
{
    *use = id;
    if (id == 0 || bit_get(c->schemas_done, id))
        return 0;
    size_t n = rl_reader_schema_count(c->in);
    for (size_t i = 0; i < n; i++) {
        const struct rl_schema *s = rl_reader_schema_at(c->in, i);
        if (s->id == id)
            return put_schema(c, s->id, s->name, s->encoding, s->data, s->len);
    }
    rl__reader_problem(c->in, RL_ENOTFOUND, 0,
                       "recover: schema %u is not in the file; its channels are written without "
                       "a schema",
                       (unsigned)id);
    *use = 0;
    return 0;
}

static int put_channel(struct recover *c, uint16_t id, uint16_t schema_id, const char *topic,
                       const char *encoding, const struct rl_kv *meta, size_t n_meta)
{
    uint16_t sid;
    if (bit_get(c->channels_done, id))
        return 0;
    int rc = ensure_schema(c, schema_id, &sid);
    if (rc < 0)
        return rc;
    uint16_t got = 0;
    rc = rl_writer_add_channel(c->w, id, sid, topic, encoding, meta, n_meta, &got);
    if (rc < 0)
        return writer_error(c, rc, "channel", id);
    if (id == 0) {
        c->channel0_id = got;
        rl__reader_problem(c->in, RL_EUNSUPPORTED, 0,
                           "recover: channel 0 ('%s') is written as channel %u", topic,
                           (unsigned)got);
    }
    bit_set(c->channels_done, id);
    return 0;
}

/* Makes sure channel id exists in the writer before a message on it. */
static int ensure_channel(struct recover *c, uint16_t id)
{
    if (bit_get(c->channels_done, id))
        return 0;
    const struct rl_channel *ch = rl_reader_channel(c->in, id);
    if (ch)
        return put_channel(c, ch->id, ch->schema_id, ch->topic, ch->message_encoding, ch->meta,
                           ch->n_meta);
    char topic[32];
    snprintf(topic, sizeof(topic), "/unknown/%u", (unsigned)id);
    rl__reader_problem(c->in, RL_ENOTFOUND, 0,
                       "recover: channel %u is not in the file; its messages go to '%s'",
                       (unsigned)id, topic);
    return put_channel(c, id, 0, topic, "", NULL, 0);
}

/* A Schema record met inside a chunk. */
static int chunk_schema(struct recover *c, const struct rl_rec_schema *s)
{
    if (s->id == 0 || bit_get(c->schemas_done, s->id))
        return 0;
    char *name = dup_str(s->name), *enc = dup_str(s->encoding);
    int rc = -ENOMEM;
    if (!name || !enc)
        goto fail;
    rc = put_schema(c, s->id, name, enc, s->data.ptr, s->data.len);
fail:
    free(name);
    free(enc);
    return rc;
}

/* A Channel record met inside a chunk. */
static int chunk_channel(struct recover *c, const struct rl_rec_channel *ch)
{
    if (bit_get(c->channels_done, ch->id))
        return 0;
    const struct rl_channel *known = rl_reader_channel(c->in, ch->id);
    if (known)
        return ensure_channel(c, ch->id);
    char *topic = dup_str(ch->topic), *enc = dup_str(ch->message_encoding);
    struct rl_kv *kv = NULL;
    size_t n = 0;
    int rc = -ENOMEM;
    if (!topic || !enc)
        goto fail;
    if (ch->metadata.count > 0) {
        kv = calloc(ch->metadata.count, sizeof(*kv));
        if (!kv)
            goto fail;
        size_t pos = 0;
        struct rl_str k, v;
        while (n < ch->metadata.count && rl_map_next_str_str(&ch->metadata, &pos, &k, &v) == 1) {
            kv[n].key = dup_str(k);
            kv[n].value = dup_str(v);
            n++;
            if (!kv[n - 1].key || !kv[n - 1].value)
                goto fail;
        }
    }
    rc = put_channel(c, ch->id, ch->schema_id, topic, enc, kv, n);
fail:
    for (size_t i = 0; i < n; i++) {
        free((char *)kv[i].key);
        free((char *)kv[i].value);
    }
    free(kv);
    free(topic);
    free(enc);
    return rc;
}

/* Copies the records of one loaded chunk. A malformed record ends the
 * chunk: what came before it is kept. */
static int copy_chunk(struct recover *c, const struct rl_chunk_info *ci, const uint8_t *recs,
                      size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        struct rl_record rec;
        char why[160];
        uint64_t rlen = 0;
        if (len - pos >= RL_MCAP_RECORD_HEADER_LEN)
            rlen = rl__get_u64le(recs + pos + 1);
        if (len - pos < RL_MCAP_RECORD_HEADER_LEN || rlen > len - pos - RL_MCAP_RECORD_HEADER_LEN) {
            rl__reader_problem(c->in, RL_ECORRUPT, ci->offset,
                               "recover: chunk at offset %llu: record at offset %zu runs past "
                               "its end; the rest of the chunk is lost",
                               (unsigned long long)ci->offset, pos);
            return 0;
        }
        if (rl_mcap_parse(recs[pos], recs + pos + RL_MCAP_RECORD_HEADER_LEN, (size_t)rlen, &rec,
                          why, sizeof(why)) < 0) {
            rl__reader_problem(c->in, RL_ECORRUPT, ci->offset,
                               "recover: chunk at offset %llu: bad record at offset %zu (%s); "
                               "the rest of the chunk is lost",
                               (unsigned long long)ci->offset, pos, why);
            return 0;
        }
        pos += RL_MCAP_RECORD_HEADER_LEN + (size_t)rlen;
        int rc = 0;
        if (rec.opcode == RL_OP_SCHEMA) {
            rc = chunk_schema(c, &rec.u.schema);
        } else if (rec.opcode == RL_OP_CHANNEL) {
            rc = chunk_channel(c, &rec.u.channel);
        } else if (rec.opcode == RL_OP_MESSAGE) {
            const struct rl_rec_message *m = &rec.u.message;
            rc = ensure_channel(c, m->channel_id);
            if (rc < 0)
                return rc;
            uint16_t id = m->channel_id ? m->channel_id : c->channel0_id;
            rc = rl_writer_write_message(c->w, id, m->sequence, m->log_time, m->publish_time,
                                         m->data.ptr, m->data.len);
            if (rc < 0)
                return writer_error(c, rc, "a message on channel", m->channel_id);
            c->rep->messages++;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int copy_chunks(struct recover *c)
{
    size_t n = rl_reader_chunk_count(c->in);
    for (size_t i = 0; i < n; i++) {
        const struct rl_chunk_info *ci = rl_reader_chunk_at(c->in, i);
        const uint8_t *recs;
        size_t len;
        int rc = rl__reader_load_chunk(c->in, i, true, &recs, &len);
        if (rc < 0 && rc > -4000) /* -errno: I/O or memory, not damage */
            return rc;
        if (rc < 0) {
            rl__reader_problem(c->in, rc, ci->offset,
                               "recover: skipping the damaged chunk at offset %llu: %s",
                               (unsigned long long)ci->offset, rl_reader_errmsg(c->in));
            c->rep->chunks_damaged++;
            continue;
        }
        c->rep->chunks_read++;
        rc = copy_chunk(c, ci, recs, len);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int copy_metadata(struct recover *c)
{
    size_t n = rl_reader_metadata_count(c->in);
    for (size_t i = 0; i < n; i++) {
        const struct rl_metadata *md = rl_reader_metadata_at(c->in, i);
        int rc = rl_writer_write_metadata(c->w, md->name, md->kv, md->n);
        if (rc < 0)
            return writer_error(c, rc, "metadata record", (unsigned)i);
        c->rep->metadata++;
    }
    return 0;
}

static int copy_attachments(struct recover *c)
{
    size_t n = rl_reader_attachment_count(c->in);
    for (size_t i = 0; i < n; i++) {
        const struct rl_attachment_info *ai = rl_reader_attachment_at(c->in, i);
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = rl_reader_read_attachment(c->in, i, &data, &len);
        if (rc < 0 && rc > -4000)
            return rc;
        if (rc < 0) {
            rl__reader_problem(c->in, rc, ai->offset,
                               "recover: skipping the damaged attachment '%s' at offset %llu: %s",
                               ai->name, (unsigned long long)ai->offset, rl_reader_errmsg(c->in));
            continue;
        }
        rc = rl_writer_write_attachment(c->w, ai->log_time_ns, ai->create_time_ns, ai->name,
                                        ai->media_type, data, len);
        free(data);
        if (rc < 0)
            return writer_error(c, rc, "attachment", (unsigned)i);
        c->rep->attachments++;
    }
    return 0;
}

int rl_recover_copy(struct rl_reader *in, struct rl_writer *w, struct rl_recover_report *rep)
{
    struct rl_recover_report dummy;
    if (!rep)
        rep = &dummy;
    memset(rep, 0, sizeof(*rep));
    struct recover *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->in = in;
    c->w = w;
    c->rep = rep;
    int rc = 0;

    size_t n = rl_reader_schema_count(in);
    for (size_t i = 0; i < n; i++) {
        const struct rl_schema *s = rl_reader_schema_at(in, i);
        rc = put_schema(c, s->id, s->name, s->encoding, s->data, s->len);
        if (rc < 0)
            goto fail;
    }
    /* Channel 0 goes last, so the id the writer picks for it does not take
     * one that a channel of the input already has. */
    n = rl_reader_channel_count(in);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const struct rl_channel *ch = rl_reader_channel_at(in, i);
            if ((ch->id == 0) != (pass == 1))
                continue;
            /* A channel whose schema lives only inside a chunk is written
             * when the chunk has brought its schema (ensure_channel). */
            if (ch->schema_id != 0 && !ch->schema)
                continue;
            rc = put_channel(c, ch->id, ch->schema_id, ch->topic, ch->message_encoding, ch->meta,
                             ch->n_meta);
            if (rc < 0)
                goto fail;
        }
    }
    rc = copy_chunks(c);
    if (rc < 0)
        goto fail;
    /* Channels that had no message to bring them in. */
    n = rl_reader_channel_count(in);
    for (size_t i = 0; i < n; i++) {
        rc = ensure_channel(c, rl_reader_channel_at(in, i)->id);
        if (rc < 0)
            goto fail;
    }
    rc = copy_metadata(c);
    if (rc < 0)
        goto fail;
    rc = copy_attachments(c);
    if (rc < 0)
        goto fail;
    free(c);
    return 0;
fail:
    free(c);
    return rc;
}
