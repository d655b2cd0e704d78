/* MCAP conformance: every file of the official conformance suite under
 * <shared>/mcap-conformance/<Case>/ is
 *   - walked with rl_record_walk and turned into the record list its .json
 *     describes (chunks expanded, Chunk and MessageIndex left out, fields by
 *     snake_case name, numbers as decimal strings, bytes as arrays of decimal
 *     strings, maps as objects of strings), compared record by record;
 *   - opened with the reader, indexed and with force_scan: messages in
 *     log-time order, schemas, channels, attachments and metadata against the
 *     expected records, and rl_reader_verify() clean;
 *   - rewritten with our writer (default options, unchunked, and each
 *     compression) and read back with the walker and the reader, which must
 *     give the same logical records.
 * The shared data directory comes from argv[1] or $RL_SHARED_DATA; without
 * it the test is skipped (exit 77). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_min.h"
#include "roadlog/io.h"
#include "roadlog/reader.h"
#include "roadlog/writer.h"

#define MEMBUF_CAP ((size_t)64 << 20)

struct conf_case {
    char *mcap_path;
    char *json_path;
    char *name; /* file name without directory */
};

/* ---- records as JSON ---- */

static struct json_value *jstr(struct rl_str s)
{
    return json_new_string(s.ptr ? s.ptr : "", s.len);
}

static struct json_value *jcstr(const char *s)
{
    return json_new_string(s, strlen(s));
}

static struct json_value *jnum(uint64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    return json_new_string(buf, (size_t)n);
}

static struct json_value *jbytes(const uint8_t *p, size_t n)
{
    struct json_value *a = json_new(JSON_ARRAY);
    for (size_t i = 0; a && i < n; i++)
        if (!json_push(a, jnum(p[i]))) {
            json_free(a);
            return NULL;
        }
    return a;
}

static struct json_value *jmap_str(const struct rl_map *m)
{
    struct json_value *o = json_new(JSON_OBJECT);
    size_t pos = 0;
    struct rl_str k, v;
    while (o && rl_map_next_str_str(m, &pos, &k, &v) == 1) {
        char *key = strndup(k.ptr ? k.ptr : "", k.len);
        bool ok = key && json_put(o, key, jstr(v));
        free(key);
        if (!ok) {
            json_free(o);
            return NULL;
        }
    }
    return o;
}

static struct json_value *jmap_u16(const struct rl_map *m)
{
    struct json_value *o = json_new(JSON_OBJECT);
    size_t pos = 0;
    uint16_t k;
    uint64_t v;
    while (o && rl_map_next_u16_u64(m, &pos, &k, &v) == 1) {
        char key[8];
        snprintf(key, sizeof(key), "%u", (unsigned)k);
        if (!json_put(o, key, jnum(v))) {
            json_free(o);
            return NULL;
        }
    }
    return o;
}

/* Appends [name, value] to fields. */
static void field(struct json_value *fields, const char *name, struct json_value *value)
{
    struct json_value *pair = json_new(JSON_ARRAY);
    assert_non_null(pair);
    assert_true(json_push(pair, jcstr(name)));
    assert_true(json_push(pair, value));
    assert_true(json_push(fields, pair));
}

/* The record as the conformance .json writes it, or NULL for records the
 * .json leaves out (Chunk, MessageIndex, unknown opcodes). */
static struct json_value *record_json(const struct rl_record *rec)
{
    struct json_value *f = json_new(JSON_ARRAY);
    assert_non_null(f);
    switch (rec->opcode) {
    case RL_OP_HEADER:
        field(f, "library", jstr(rec->u.header.library));
        field(f, "profile", jstr(rec->u.header.profile));
        break;
    case RL_OP_FOOTER:
        field(f, "summary_crc", jnum(rec->u.footer.summary_crc));
        field(f, "summary_offset_start", jnum(rec->u.footer.summary_offset_start));
        field(f, "summary_start", jnum(rec->u.footer.summary_start));
        break;
    case RL_OP_SCHEMA:
        field(f, "data", jbytes(rec->u.schema.data.ptr, rec->u.schema.data.len));
        field(f, "encoding", jstr(rec->u.schema.encoding));
        field(f, "id", jnum(rec->u.schema.id));
        field(f, "name", jstr(rec->u.schema.name));
        break;
    case RL_OP_CHANNEL:
        field(f, "id", jnum(rec->u.channel.id));
        field(f, "message_encoding", jstr(rec->u.channel.message_encoding));
        field(f, "metadata", jmap_str(&rec->u.channel.metadata));
        field(f, "schema_id", jnum(rec->u.channel.schema_id));
        field(f, "topic", jstr(rec->u.channel.topic));
        break;
    case RL_OP_MESSAGE:
        field(f, "channel_id", jnum(rec->u.message.channel_id));
        field(f, "data", jbytes(rec->u.message.data.ptr, rec->u.message.data.len));
        field(f, "log_time", jnum(rec->u.message.log_time));
        field(f, "publish_time", jnum(rec->u.message.publish_time));
        field(f, "sequence", jnum(rec->u.message.sequence));
        break;
    case RL_OP_CHUNK_INDEX: {
        const struct rl_rec_chunk_index *x = &rec->u.chunk_index;
        field(f, "chunk_length", jnum(x->chunk_length));
        field(f, "chunk_start_offset", jnum(x->chunk_start_offset));
        field(f, "compressed_size", jnum(x->compressed_size));
        field(f, "compression", jstr(x->compression));
        field(f, "message_end_time", jnum(x->message_end_time));
        field(f, "message_index_length", jnum(x->message_index_length));
        field(f, "message_index_offsets", jmap_u16(&x->message_index_offsets));
        field(f, "message_start_time", jnum(x->message_start_time));
        field(f, "uncompressed_size", jnum(x->uncompressed_size));
        break;
    }
    case RL_OP_ATTACHMENT: {
        const struct rl_rec_attachment *a = &rec->u.attachment;
        field(f, "create_time", jnum(a->create_time));
        field(f, "data", jbytes(a->data.ptr, a->data.len));
        field(f, "log_time", jnum(a->log_time));
        field(f, "media_type", jstr(a->media_type));
        field(f, "name", jstr(a->name));
        break;
    }
    case RL_OP_ATTACHMENT_INDEX: {
        const struct rl_rec_attachment_index *a = &rec->u.attachment_index;
        field(f, "create_time", jnum(a->create_time));
        field(f, "data_size", jnum(a->data_size));
        field(f, "length", jnum(a->length));
        field(f, "log_time", jnum(a->log_time));
        field(f, "media_type", jstr(a->media_type));
        field(f, "name", jstr(a->name));
        field(f, "offset", jnum(a->offset));
        break;
    }
    case RL_OP_STATISTICS: {
        const struct rl_rec_statistics *s = &rec->u.statistics;
        field(f, "attachment_count", jnum(s->attachment_count));
        field(f, "channel_count", jnum(s->channel_count));
        field(f, "channel_message_counts", jmap_u16(&s->channel_message_counts));
        field(f, "chunk_count", jnum(s->chunk_count));
        field(f, "message_count", jnum(s->message_count));
        field(f, "message_end_time", jnum(s->message_end_time));
        field(f, "message_start_time", jnum(s->message_start_time));
        field(f, "metadata_count", jnum(s->metadata_count));
        field(f, "schema_count", jnum(s->schema_count));
        break;
    }
    case RL_OP_METADATA:
        field(f, "metadata", jmap_str(&rec->u.metadata.metadata));
        field(f, "name", jstr(rec->u.metadata.name));
        break;
    case RL_OP_METADATA_INDEX:
        field(f, "length", jnum(rec->u.metadata_index.length));
        field(f, "name", jstr(rec->u.metadata_index.name));
        field(f, "offset", jnum(rec->u.metadata_index.offset));
        break;
    case RL_OP_SUMMARY_OFFSET:
        field(f, "group_length", jnum(rec->u.summary_offset.group_length));
        field(f, "group_opcode", jnum(rec->u.summary_offset.group_opcode));
        field(f, "group_start", jnum(rec->u.summary_offset.group_start));
        break;
    case RL_OP_DATA_END:
        field(f, "data_section_crc", jnum(rec->u.data_end.data_section_crc));
        break;
    default: /* Chunk, MessageIndex, unknown */
        json_free(f);
        return NULL;
    }
    struct json_value *r = json_new(JSON_OBJECT);
    assert_non_null(r);
    assert_true(json_put(r, "type", jcstr(rl_opcode_name(rec->opcode))));
    assert_true(json_put(r, "fields", f));
    return r;
}

/* Walks an MCAP image and returns its records as the .json lists them. */
static struct json_value *walk_records(struct rl_io *io, const char *what)
{
    struct rl_record_walk *w;
    char err[256];
    int rc = rl_record_walk_new(io, &w, err, sizeof(err));
    if (rc < 0)
        fail_msg("%s: rl_record_walk_new: %s (%s)", what, err, rl_strerror(rc));
    struct json_value *list = json_new(JSON_ARRAY);
    assert_non_null(list);
    struct rl_walk_item item;
    while ((rc = rl_record_walk_next(w, &item)) == 1) {
        struct json_value *r = record_json(&item.rec);
        if (r)
            assert_true(json_push(list, r));
    }
    if (rc < 0)
        fail_msg("%s: walk failed after %zu records: %s (%s)", what, list->n,
                 rl_record_walk_errmsg(w), rl_strerror(rc));
    rl_record_walk_free(w);
    return list;
}

static const char *rec_type(const struct json_value *r)
{
    const struct json_value *t = json_get(r, "type");
    return t && t->type == JSON_STRING ? t->text : "?";
}

/* The value of field name in a record object, or NULL. */
static const struct json_value *rec_field(const struct json_value *r, const char *name)
{
    const struct json_value *f = json_get(r, "fields");
    for (size_t i = 0; f && i < f->n; i++) {
        const struct json_value *pair = f->items[i];
        const struct json_value *k = json_at(pair, 0);
        if (k && k->type == JSON_STRING && strcmp(k->text, name) == 0)
            return json_at(pair, 1);
    }
    return NULL;
}

static uint64_t field_u64(const struct json_value *r, const char *name)
{
    const struct json_value *v = rec_field(r, name);
    assert_non_null(v);
    assert_true(v->type == JSON_STRING || v->type == JSON_NUMBER);
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v->text, &end, 10);
    assert_true(errno == 0 && *end == '\0' && end != v->text);
    return x;
}

/* Decodes a bytes field into buf (malloc'd). */
static uint8_t *field_bytes(const struct json_value *r, const char *name, size_t *len)
{
    const struct json_value *v = rec_field(r, name);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_ARRAY);
    uint8_t *p = malloc(v->n + 1);
    assert_non_null(p);
    for (size_t i = 0; i < v->n; i++) {
        char *end;
        unsigned long x = strtoul(v->items[i]->text, &end, 10);
        assert_true(*end == '\0' && x < 256);
        p[i] = (uint8_t)x;
    }
    *len = v->n;
    return p;
}

static const char *field_str(const struct json_value *r, const char *name)
{
    const struct json_value *v = rec_field(r, name);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_STRING);
    return v->text;
}

/* Compares two record lists; fails with file, record index and field. */
static void compare_records(const char *what, const struct json_value *expected,
                            const struct json_value *actual)
{
    char ebuf[300], abuf[300], why[400];
    for (size_t i = 0; i < expected->n && i < actual->n; i++) {
        const struct json_value *e = expected->items[i], *a = actual->items[i];
        if (strcmp(rec_type(e), rec_type(a)) != 0)
            fail_msg("%s: record %zu: expected a %s record, got %s", what, i, rec_type(e),
                     rec_type(a));
        const struct json_value *ef = json_get(e, "fields"), *af = json_get(a, "fields");
        assert_non_null(ef);
        for (size_t j = 0; j < ef->n; j++) {
            const struct json_value *name = json_at(ef->items[j], 0);
            const struct json_value *ev = json_at(ef->items[j], 1);
            assert_non_null(name);
            assert_non_null(ev);
            const struct json_value *av = rec_field(a, name->text);
            if (!av)
                fail_msg("%s: record %zu (%s): field '%s' missing", what, i, rec_type(e),
                         name->text);
            if (!json_equal(ev, av, why, sizeof(why))) {
                json_format(ev, ebuf, sizeof(ebuf));
                json_format(av, abuf, sizeof(abuf));
                fail_msg("%s: record %zu (%s): field '%s' differs (%s): expected %s, got %s", what,
                         i, rec_type(e), name->text, why, ebuf, abuf);
            }
        }
        for (size_t j = 0; j < af->n; j++) {
            const struct json_value *name = json_at(af->items[j], 0);
            if (!rec_field(e, name->text))
                fail_msg("%s: record %zu (%s): unexpected field '%s'", what, i, rec_type(e),
                         name->text);
        }
    }
    if (expected->n != actual->n) {
        size_t i = expected->n < actual->n ? expected->n : actual->n;
        fail_msg("%s: expected %zu records, got %zu (first extra/missing: record %zu, %s)", what,
                 expected->n, actual->n, i,
                 expected->n > actual->n ? rec_type(expected->items[i])
                                         : rec_type(actual->items[i]));
    }
}

/* ---- reading through the reader ---- */

struct problems {
    int count;
    char first[300];
};

static void on_problem(void *ud, int code, uint64_t offset, const char *msg)
{
    struct problems *p = ud;
    if (p->count++ == 0)
        snprintf(p->first, sizeof(p->first), "%s (%s, offset %llu)", msg, rl_strerror(code),
                 (unsigned long long)offset);
}

/* Records of one type out of a list, in order. */
static size_t select_type(const struct json_value *list, const char *type,
                          const struct json_value **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(rec_type(list->items[i]), type) == 0) {
            assert_true(n < cap);
            out[n++] = list->items[i];
        }
    return n;
}

/* Stable sort of message records by log_time (insertion sort: lists are short). */
static void sort_by_log_time(const struct json_value **m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const struct json_value *x = m[i];
        uint64_t t = field_u64(x, "log_time");
        size_t j = i;
        while (j > 0 && field_u64(m[j - 1], "log_time") > t) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = x;
    }
}

static void check_map_kv(const char *what, const struct json_value *expected_obj,
                         const struct rl_kv *kv, size_t n)
{
    assert_non_null(expected_obj);
    if (expected_obj->n != n)
        fail_msg("%s: expected %zu entries, reader has %zu", what, expected_obj->n, n);
    for (size_t i = 0; i < expected_obj->n; i++) {
        const char *val = NULL;
        for (size_t j = 0; j < n; j++)
            if (strcmp(kv[j].key, expected_obj->keys[i]) == 0)
                val = kv[j].value;
        if (!val || strcmp(val, expected_obj->items[i]->text) != 0)
            fail_msg("%s: key '%s': expected '%s', got '%s'", what, expected_obj->keys[i],
                     expected_obj->items[i]->text, val ? val : "(missing)");
    }
}

#define MAX_RECS 4096

static const struct json_value *find_channel(const struct json_value *list, uint64_t id)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(rec_type(list->items[i]), "Channel") == 0 &&
            field_u64(list->items[i], "id") == id)
            return list->items[i];
    return NULL;
}

/* Checks what the reader makes of an MCAP image against the expected
 * logical records (a list in the .json format). */
static void check_reader(const char *what, struct rl_io *io, const struct json_value *expected,
                         bool force_scan)
{
    static const struct json_value *sel[MAX_RECS];
    struct rl_reader_options o;
    struct problems probs = {0, ""};
    rl_reader_options_init(&o);
    o.force_scan = force_scan;
    o.problem = on_problem;
    o.problem_ud = &probs;
    struct rl_reader *r;
    char err[256] = "";
    int rc = rl_reader_open_io(&r, io, false, &o, err, sizeof(err));
    if (rc < 0)
        fail_msg("%s: rl_reader_open_io%s: %s (%s)", what, force_scan ? " (scan)" : "", err,
                 rl_strerror(rc));

    /* Messages, in log-time order. */
    size_t n = select_type(expected, "Message", sel, MAX_RECS);
    sort_by_log_time(sel, n);
    struct rl_iter *it;
    assert_int_equal(rl_iter_new(r, NULL, &it), 0);
    struct rl_message m;
    size_t got = 0;
    while ((rc = rl_iter_next(it, &m)) == 1) {
        if (got >= n)
            fail_msg("%s: reader returns more than the %zu expected messages", what, n);
        const struct json_value *e = sel[got];
        size_t len;
        uint8_t *data = field_bytes(e, "data", &len);
        if (m.channel_id != field_u64(e, "channel_id") || m.sequence != field_u64(e, "sequence") ||
            m.log_time_ns != field_u64(e, "log_time") ||
            m.publish_time_ns != field_u64(e, "publish_time") || m.len != len ||
            (len && memcmp(m.data, data, len) != 0))
            fail_msg("%s: message %zu differs: channel %u seq %u log %llu publish %llu len %zu",
                     what, got, m.channel_id, m.sequence, (unsigned long long)m.log_time_ns,
                     (unsigned long long)m.publish_time_ns, m.len);
        free(data);
        const struct json_value *ech = find_channel(expected, m.channel_id);
        if (ech && strcmp(m.channel->topic, field_str(ech, "topic")) != 0)
            fail_msg("%s: message %zu: channel %u has topic '%s', expected '%s'", what, got,
                     m.channel_id, m.channel->topic, field_str(ech, "topic"));
        got++;
    }
    if (rc < 0)
        fail_msg("%s: rl_iter_next: %s (%s)", what, rl_reader_errmsg(r), rl_strerror(rc));
    if (got != n)
        fail_msg("%s: reader returned %zu messages, expected %zu", what, got, n);
    rl_iter_free(it);

    /* Schemas and channels: after the iteration, since a reader learns of
     * the ones written only inside chunks when it reads those chunks. */
    n = select_type(expected, "Schema", sel, MAX_RECS);
    for (size_t i = 0; i < n; i++) {
        uint64_t id = field_u64(sel[i], "id");
        const struct rl_schema *s = NULL;
        for (size_t j = 0; j < rl_reader_schema_count(r); j++)
            if (rl_reader_schema_at(r, j)->id == id)
                s = rl_reader_schema_at(r, j);
        if (!s)
            fail_msg("%s: schema %llu not found by the reader", what, (unsigned long long)id);
        size_t len;
        uint8_t *data = field_bytes(sel[i], "data", &len);
        assert_string_equal(s->name, field_str(sel[i], "name"));
        assert_string_equal(s->encoding, field_str(sel[i], "encoding"));
        assert_int_equal(s->len, len);
        assert_memory_equal(s->data, data, len);
        free(data);
    }
    n = select_type(expected, "Channel", sel, MAX_RECS);
    for (size_t i = 0; i < n; i++) {
        uint64_t id = field_u64(sel[i], "id");
        const struct rl_channel *ch = rl_reader_channel(r, (uint16_t)id);
        if (!ch)
            fail_msg("%s: channel %llu not found by the reader", what, (unsigned long long)id);
        assert_string_equal(ch->topic, field_str(sel[i], "topic"));
        assert_string_equal(ch->message_encoding, field_str(sel[i], "message_encoding"));
        assert_int_equal(ch->schema_id, field_u64(sel[i], "schema_id"));
        check_map_kv(what, rec_field(sel[i], "metadata"), ch->meta, ch->n_meta);
    }

    /* Attachments, in file order. */
    n = select_type(expected, "Attachment", sel, MAX_RECS);
    if (rl_reader_attachment_count(r) != n)
        fail_msg("%s: reader lists %zu attachments, expected %zu", what,
                 rl_reader_attachment_count(r), n);
    for (size_t i = 0; i < n; i++) {
        const struct rl_attachment_info *ai = rl_reader_attachment_at(r, i);
        assert_string_equal(ai->name, field_str(sel[i], "name"));
        assert_string_equal(ai->media_type, field_str(sel[i], "media_type"));
        assert_int_equal(ai->log_time_ns, field_u64(sel[i], "log_time"));
        assert_int_equal(ai->create_time_ns, field_u64(sel[i], "create_time"));
        size_t len, glen;
        uint8_t *data = field_bytes(sel[i], "data", &len), *gdata;
        rc = rl_reader_read_attachment(r, i, &gdata, &glen);
        if (rc < 0)
            fail_msg("%s: rl_reader_read_attachment(%zu): %s", what, i, rl_reader_errmsg(r));
        assert_int_equal(glen, len);
        assert_memory_equal(gdata, data, len);
        free(gdata);
        free(data);
    }

    /* Metadata, in file order. */
    n = select_type(expected, "Metadata", sel, MAX_RECS);
    if (rl_reader_metadata_count(r) != n)
        fail_msg("%s: reader lists %zu metadata records, expected %zu", what,
                 rl_reader_metadata_count(r), n);
    for (size_t i = 0; i < n; i++) {
        const struct rl_metadata *md = rl_reader_metadata_at(r, i);
        assert_string_equal(md->name, field_str(sel[i], "name"));
        check_map_kv(what, rec_field(sel[i], "metadata"), md->kv, md->n);
    }

    int64_t bad = rl_reader_verify(r);
    if (bad != 0)
        fail_msg("%s: rl_reader_verify%s = %lld: %s", what, force_scan ? " (scan)" : "",
                 (long long)bad, probs.first);
    if (probs.count)
        fail_msg("%s: %d problems reported on a valid file%s: %s", what, probs.count,
                 force_scan ? " (scan)" : "", probs.first);
    rl_reader_close(r);
}

/* ---- the three tests per file ---- */

static struct json_value *load_expected(const struct conf_case *c)
{
    char err[256];
    struct json_value *doc = json_parse_file(c->json_path, err, sizeof(err));
    if (!doc)
        fail_msg("%s: %s", c->json_path, err);
    return doc;
}

static void test_walk(void **state)
{
    const struct conf_case *c = *state;
    struct json_value *doc = load_expected(c);
    const struct json_value *expected = json_get(doc, "records");
    assert_non_null(expected);
    struct rl_io *io;
    assert_int_equal(rl_io_file_open(&io, c->mcap_path, RL_IO_READ), 0);
    struct json_value *actual = walk_records(io, c->name);
    compare_records(c->name, expected, actual);
    json_free(actual);
    assert_int_equal(rl_io_close(io), 0);
    json_free(doc);
}

static void test_reader(void **state)
{
    const struct conf_case *c = *state;
    struct json_value *doc = load_expected(c);
    const struct json_value *expected = json_get(doc, "records");
    assert_non_null(expected);
    struct rl_io *io;
    assert_int_equal(rl_io_file_open(&io, c->mcap_path, RL_IO_READ), 0);
    check_reader(c->name, io, expected, false);
    check_reader(c->name, io, expected, true);
    assert_int_equal(rl_io_close(io), 0);
    json_free(doc);
}

/* The logical content of a record list: schemas and channels (first of
 * each id), messages, attachments and metadata, all before DataEnd. */
static struct json_value *logical_records(const struct json_value *list)
{
    struct json_value *out = json_new(JSON_ARRAY);
    char seen_schema[65536] = {0}, seen_channel[65536] = {0};
    char buf[1 << 14];
    assert_non_null(out);
    for (size_t i = 0; i < list->n; i++) {
        const struct json_value *r = list->items[i];
        const char *t = rec_type(r);
        if (strcmp(t, "DataEnd") == 0)
            break;
        if (strcmp(t, "Schema") == 0) {
            uint64_t id = field_u64(r, "id");
            if (seen_schema[id]++)
                continue;
        } else if (strcmp(t, "Channel") == 0) {
            uint64_t id = field_u64(r, "id");
            if (seen_channel[id]++)
                continue;
        } else if (strcmp(t, "Message") != 0 && strcmp(t, "Attachment") != 0 &&
                   strcmp(t, "Metadata") != 0) {
            continue;
        }
        /* Deep copy through text: simple and only for small test files. */
        json_format(r, buf, sizeof(buf));
        assert_true(strlen(buf) + 1 < sizeof(buf));
        char err[128];
        struct json_value *copy = json_parse(buf, strlen(buf), err, sizeof(err));
        assert_non_null(copy);
        assert_true(json_push(out, copy));
    }
    return out;
}

/* Order the writer emits: schemas, then channels, then the rest in order. */
static int type_rank(const char *t)
{
    if (strcmp(t, "Schema") == 0)
        return 0;
    if (strcmp(t, "Channel") == 0)
        return 1;
    return 2;
}

static void write_logical(struct rl_writer *w, const struct json_value *logical)
{
    for (int rank = 0; rank < 3; rank++) {
        for (size_t i = 0; i < logical->n; i++) {
            const struct json_value *r = logical->items[i];
            const char *t = rec_type(r);
            if (type_rank(t) != rank)
                continue;
            size_t len;
            uint8_t *data = NULL;
            int rc = 0;
            if (strcmp(t, "Schema") == 0) {
                data = field_bytes(r, "data", &len);
                rc = rl_writer_add_schema(w, (uint16_t)field_u64(r, "id"), field_str(r, "name"),
                                          field_str(r, "encoding"), data, len, NULL);
            } else if (strcmp(t, "Channel") == 0) {
                const struct json_value *md = rec_field(r, "metadata");
                struct rl_kv kv[64];
                assert_true(md->n <= 64);
                for (size_t j = 0; j < md->n; j++) {
                    kv[j].key = md->keys[j];
                    kv[j].value = md->items[j]->text;
                }
                rc = rl_writer_add_channel(
                    w, (uint16_t)field_u64(r, "id"), (uint16_t)field_u64(r, "schema_id"),
                    field_str(r, "topic"), field_str(r, "message_encoding"), kv, md->n, NULL);
            } else if (strcmp(t, "Message") == 0) {
                data = field_bytes(r, "data", &len);
                rc = rl_writer_write_message(
                    w, (uint16_t)field_u64(r, "channel_id"), (uint32_t)field_u64(r, "sequence"),
                    field_u64(r, "log_time"), field_u64(r, "publish_time"), data, len);
            } else if (strcmp(t, "Attachment") == 0) {
                data = field_bytes(r, "data", &len);
                rc = rl_writer_write_attachment(w, field_u64(r, "log_time"),
                                                field_u64(r, "create_time"), field_str(r, "name"),
                                                field_str(r, "media_type"), data, len);
            } else if (strcmp(t, "Metadata") == 0) {
                const struct json_value *md = rec_field(r, "metadata");
                struct rl_kv kv[64];
                assert_true(md->n <= 64);
                for (size_t j = 0; j < md->n; j++) {
                    kv[j].key = md->keys[j];
                    kv[j].value = md->items[j]->text;
                }
                rc = rl_writer_write_metadata(w, field_str(r, "name"), kv, md->n);
            }
            free(data);
            if (rc < 0)
                fail_msg("writing a %s record: %s (%s)", t, rl_writer_errmsg(w), rl_strerror(rc));
        }
    }
}

/* Logical records in writer order (schemas, channels, then the rest). */
static struct json_value *writer_order(const struct json_value *logical)
{
    struct json_value *out = json_new(JSON_ARRAY);
    char buf[1 << 14], err[128];
    assert_non_null(out);
    for (int rank = 0; rank < 3; rank++)
        for (size_t i = 0; i < logical->n; i++) {
            if (type_rank(rec_type(logical->items[i])) != rank)
                continue;
            json_format(logical->items[i], buf, sizeof(buf));
            struct json_value *copy = json_parse(buf, strlen(buf), err, sizeof(err));
            assert_non_null(copy);
            assert_true(json_push(out, copy));
        }
    return out;
}

struct variant {
    const char *name;
    bool use_chunks;
    enum rl_compression compression;
};

static void test_roundtrip(void **state)
{
    static const struct variant variants[] = {
        {"default", true, RL_COMPRESS_ZSTD},
        {"unchunked", false, RL_COMPRESS_ZSTD},
        {"none", true, RL_COMPRESS_NONE},
        {"lz4", true, RL_COMPRESS_LZ4},
    };
    const struct conf_case *c = *state;
    struct json_value *doc = load_expected(c);
    const struct json_value *expected = json_get(doc, "records");
    assert_non_null(expected);
    struct json_value *logical = logical_records(expected);
    struct json_value *want = writer_order(logical);

    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        char what[512];
        snprintf(what, sizeof(what), "%s rewritten (%s)", c->name, variants[v].name);
        struct rl_writer_options o;
        rl_writer_options_init(&o);
        if (v > 0) {
            o.use_chunks = variants[v].use_chunks;
            o.compression = variants[v].compression;
        }
        struct rl_io *io;
        assert_int_equal(rl_io_membuf_open(&io, MEMBUF_CAP), 0);
        struct rl_writer *w;
        int rc = rl_writer_open_io(&w, io, false, &o);
        if (rc < 0)
            fail_msg("%s: rl_writer_open_io: %s", what, rl_strerror(rc));
        write_logical(w, logical);
        rc = rl_writer_close(w);
        if (rc < 0)
            fail_msg("%s: rl_writer_close: %s", what, rl_strerror(rc));

        struct json_value *walked = walk_records(io, what);
        struct json_value *got = logical_records(walked);
        compare_records(what, want, got);
        check_reader(what, io, want, false);
        check_reader(what, io, want, true);
        json_free(got);
        json_free(walked);
        assert_int_equal(rl_io_close(io), 0);
    }
    json_free(want);
    json_free(logical);
    json_free(doc);
}

/* ---- finding the cases ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Lists dir's entries (sorted), keeping those ending in suffix (NULL: all
 * but dot files). */
static char **list_dir(const char *dir, const char *suffix, size_t *n_out)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    if (!d)
        return NULL;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (suffix && (len < strlen(suffix) || strcmp(e->d_name + len - strlen(suffix), suffix)))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof(*p));
            if (!p)
                abort();
            names = p;
        }
        names[n] = strdup(e->d_name);
        if (!names[n])
            abort();
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    *n_out = n;
    return names;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

int main(int argc, char **argv)
{
    const char *shared = argc > 1 ? argv[1] : getenv("RL_SHARED_DATA");
    if (!shared)
        shared = "../shared/data";
    char *conf = join(shared, "mcap-conformance");
    if (!is_dir(conf)) {
        printf("SKIP: ../shared/data not found (looked for '%s')\n", conf);
        free(conf);
        return 77;
    }
    size_t n_dirs = 0, n_cases = 0, cap_cases = 0;
    struct conf_case *cases = NULL;
    char **dirs = list_dir(conf, NULL, &n_dirs);
    for (size_t i = 0; i < n_dirs; i++) {
        char *dir = join(conf, dirs[i]);
        size_t n_files = 0;
        char **files = is_dir(dir) ? list_dir(dir, ".mcap", &n_files) : NULL;
        for (size_t j = 0; j < n_files; j++) {
            if (n_cases == cap_cases) {
                cap_cases = cap_cases ? cap_cases * 2 : 64;
                struct conf_case *p = realloc(cases, cap_cases * sizeof(*p));
                if (!p)
                    abort();
                cases = p;
            }
            struct conf_case *c = &cases[n_cases++];
            c->mcap_path = join(dir, files[j]);
            c->name = strdup(files[j]);
            size_t len = strlen(c->mcap_path);
            c->json_path = malloc(len + 1);
            if (!c->name || !c->json_path)
                abort();
            memcpy(c->json_path, c->mcap_path, len - 5);
            strcpy(c->json_path + len - 5, ".json");
            free(files[j]);
        }
        free(files);
        free(dir);
        free(dirs[i]);
    }
    free(dirs);
    if (n_cases == 0) {
        printf("SKIP: no .mcap files under '%s'\n", conf);
        free(conf);
        free(cases);
        return 77;
    }

    struct CMUnitTest *tests = calloc(n_cases * 3, sizeof(*tests));
    char **names = calloc(n_cases * 3, sizeof(*names));
    if (!tests || !names)
        abort();
    static const char *const kinds[] = {"walk", "reader", "roundtrip"};
    static const CMUnitTestFunction funcs[] = {test_walk, test_reader, test_roundtrip};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < n_cases; i++) {
            size_t t = k * n_cases + i;
            size_t len = strlen(kinds[k]) + strlen(cases[i].name) + 2;
            names[t] = malloc(len);
            if (!names[t])
                abort();
            snprintf(names[t], len, "%s:%s", kinds[k], cases[i].name);
            tests[t].name = names[t];
            tests[t].test_func = funcs[k];
            tests[t].initial_state = &cases[i];
        }
    int failed = _cmocka_run_group_tests("conformance", tests, n_cases * 3, NULL, NULL);
    for (size_t t = 0; t < n_cases * 3; t++)
        free(names[t]);
    free(names);
    free(tests);
    for (size_t i = 0; i < n_cases; i++) {
        free(cases[i].mcap_path);
        free(cases[i].json_path);
        free(cases[i].name);
    }
    free(cases);
    free(conf);
    return failed ? 1 : 0;
}
