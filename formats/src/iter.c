/* Message iteration over an open reader (reader.h: rl_iter_*).
 *
 * Log-time order is a k-way merge. Candidate chunks (those that can hold a
 * message in the iterator's time range) are sorted by message_start_time.
 * A chunk is opened only when the merge could need it: when no open chunk
 * has a message earlier than the chunk's start time. Opening a chunk
 * decompresses it once and keeps just its list of (log_time, offset) entries
 * for the selected messages, sorted; the decompressed bytes live in a small
 * cache of `chunk_cache` slots and are evicted least-recently-used. When the
 * merge needs an entry of an evicted chunk, the chunk is decompressed again.
 *
 * Invariants: at most `chunk_cache` decompressed chunks are held at any
 * moment, whatever the overlap of chunks in time; open chunks cost 12 bytes
 * per selected message; the heap top is the next message to return (ties in
 * log_time go to the chunk earlier in the file, then to the earlier record).
 * File order is the same machine with chunks opened one at a time by offset
 * and entries kept in record order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "reader_impl.h"

#define CHANNEL_SET_BYTES (65536 / 8)

struct entry {
    uint64_t log_time;
    uint32_t offset; /* of the Message record within the chunk's records */
};

struct cursor {
    size_t chunk; /* index into r->chunks */
    struct entry *e;
    size_t n, pos;
};

struct slot {
    size_t chunk;
    bool used;
    uint64_t last_use;
    struct rl__buf buf;
};

struct rl_iter {
    struct rl_reader *r;
    struct rl_iter_options opts;
    uint8_t *chan_set;
    uint64_t from_ns; /* max(start_ns, seek time) */
    size_t *order;
    size_t n_order, next;
    struct cursor *heap;
    size_t n_heap, cap_heap;
    struct slot *slots;
    size_t n_slots;
    struct rl__buf raw;
    uint64_t tick;
    size_t peak_chunks, peak_bytes, entry_bytes;
};

void rl_iter_options_init(struct rl_iter_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->end_ns = UINT64_MAX;
    opts->order = RL_ORDER_LOG_TIME;
}

/* ---- heap ---- */

static bool cursor_less(const struct rl_iter *it, const struct cursor *a, const struct cursor *b)
{
    const struct entry *x = &a->e[a->pos], *y = &b->e[b->pos];
    if (it->opts.order == RL_ORDER_LOG_TIME && x->log_time != y->log_time)
        return x->log_time < y->log_time;
    if (a->chunk != b->chunk)
        return a->chunk < b->chunk; /* chunks[] is in file order */
    return x->offset < y->offset;
}

static void sift_down(struct rl_iter *it, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < it->n_heap && cursor_less(it, &it->heap[l], &it->heap[m]))
            m = l;
        if (r < it->n_heap && cursor_less(it, &it->heap[r], &it->heap[m]))
            m = r;
        if (m == i)
            return;
        struct cursor t = it->heap[i];
        it->heap[i] = it->heap[m];
        it->heap[m] = t;
        i = m;
    }
}

static void sift_up(struct rl_iter *it, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cursor_less(it, &it->heap[i], &it->heap[p]))
            return;
        struct cursor t = it->heap[i];
        it->heap[i] = it->heap[p];
        it->heap[p] = t;
        i = p;
    }
}

static void pop_top(struct rl_iter *it)
{
    /* A finished chunk's slot is free for the next load; its buffer (and
     * the message just returned from it) stays until then. */
    for (size_t i = 0; i < it->n_slots; i++)
        if (it->slots[i].used && it->slots[i].chunk == it->heap[0].chunk)
            it->slots[i].used = false;
    it->entry_bytes -= it->heap[0].n * sizeof(struct entry);
    free(it->heap[0].e);
    it->heap[0] = it->heap[--it->n_heap];
    if (it->n_heap > 0)
        sift_down(it, 0);
}

static void clear_heap(struct rl_iter *it)
{
    for (size_t i = 0; i < it->n_heap; i++)
        free(it->heap[i].e);
    it->n_heap = 0;
    it->entry_bytes = 0;
}

/* ---- chunk cache ---- */

static void note_peak(struct rl_iter *it)
{
    size_t used = 0, bytes = it->raw.cap + it->entry_bytes;
    for (size_t i = 0; i < it->n_slots; i++) {
        used += it->slots[i].used;
        bytes += it->slots[i].buf.cap;
    }
    if (used > it->peak_chunks)
        it->peak_chunks = used;
    if (bytes > it->peak_bytes)
        it->peak_bytes = bytes;
}

static bool chunk_has_cursor(const struct rl_iter *it, size_t chunk)
{
    for (size_t i = 0; i < it->n_heap; i++)
        if (it->heap[i].chunk == chunk)
            return true;
    return false;
}

/* Returns the slot holding chunk ci, loading it if needed. On a damaged
 * chunk the problem is reported, the chunk marked damaged, and 1 returned
 * with *out NULL; fatal errors return <0. */
static int load(struct rl_iter *it, size_t ci, struct slot **out)
{
    struct rl_reader *r = it->r;
    *out = NULL;
    struct slot *victim = NULL;
    for (size_t i = 0; i < it->n_slots; i++) {
        struct slot *s = &it->slots[i];
        if (s->used && s->chunk == ci) {
            s->last_use = ++it->tick;
            *out = s;
            return 0;
        }
    }
    /* Prefer an empty slot, then one whose chunk is finished, then LRU. */
    for (size_t i = 0; i < it->n_slots && !victim; i++)
        if (!it->slots[i].used)
            victim = &it->slots[i];
    for (size_t i = 0; i < it->n_slots && !victim; i++)
        if (!chunk_has_cursor(it, it->slots[i].chunk))
            victim = &it->slots[i];
    if (!victim) {
        victim = &it->slots[0];
        for (size_t i = 1; i < it->n_slots; i++)
            if (it->slots[i].last_use < victim->last_use)
                victim = &it->slots[i];
    }
    victim->used = false;
    int rc = rl__chunk_read(r, &r->chunks[ci], r->opts.verify_crc, &it->raw, &victim->buf);
    if (rc < 0) {
        if (rc > -4000) /* -errno: the file, not the chunk, is the problem */
            return rc;
        r->chunks[ci].damaged = true;
        rl__reader_problem(r, rc, r->chunks[ci].info.offset, "%s", r->err);
        return 1;
    }
    victim->used = true;
    victim->chunk = ci;
    victim->last_use = ++it->tick;
    note_peak(it);
    *out = victim;
    return 0;
}

/* ---- opening chunks ---- */

static bool channel_selected(const struct rl_iter *it, uint16_t id)
{
    return !it->chan_set || (it->chan_set[id / 8] >> (id % 8)) & 1;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->log_time != y->log_time)
        return x->log_time < y->log_time ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Builds the entry list of chunk ci and pushes it on the heap. */
static int open_chunk(struct rl_iter *it, size_t ci)
{
    struct rl_reader *r = it->r;
    struct slot *s;
    int rc = load(it, ci, &s);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    struct entry *e = NULL;
    size_t n = 0, cap = 0;
    bool sorted = true;
    struct rl_cursor c;
    rl__cursor_init(&c, s->buf.data, s->buf.len);
    while (c.left > 0) {
        size_t off = s->buf.len - c.left;
        uint8_t op = rl__cursor_u8(&c);
        uint64_t len = rl__cursor_u64(&c);
        const uint8_t *content;
        if (c.failed || len > c.left || !rl__cursor_take(&c, (size_t)len, &content)) {
            rl__reader_problem(r, RL_ECORRUPT, r->chunks[ci].info.offset,
                               "chunk at offset %llu: record at %zu runs past the chunk's end",
                               (unsigned long long)r->chunks[ci].info.offset, off);
            break;
        }
        if (op == RL_OP_MESSAGE) {
            if (len < 22) {
                rl__reader_problem(r, RL_ECORRUPT, r->chunks[ci].info.offset,
                                   "chunk at offset %llu: message at %zu is too short",
                                   (unsigned long long)r->chunks[ci].info.offset, off);
                continue;
            }
            uint16_t ch = rl__get_u16le(content);
            uint64_t t = rl__get_u64le(content + 6);
            if (!channel_selected(it, ch) || t < it->from_ns ||
                (t >= it->opts.end_ns && it->opts.end_ns != UINT64_MAX))
                continue;
            const struct rl_chunk_info *ki = &r->chunks[ci].info;
            if (it->opts.order == RL_ORDER_LOG_TIME && (t < ki->start_ns || t > ki->end_ns)) {
                /* The merge opens chunks by their declared start time; a
                 * message outside the declared range could come out of
                 * order, so the damaged chunk's stray message is left out
                 * (file order and recover still have it). */
                rl__reader_problem(r, RL_ECORRUPT, ki->offset,
                                   "chunk at offset %llu: message at %zu has log time %llu "
                                   "outside the chunk's range [%llu, %llu]; skipped",
                                   (unsigned long long)ki->offset, off, (unsigned long long)t,
                                   (unsigned long long)ki->start_ns,
                                   (unsigned long long)ki->end_ns);
                continue;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                struct entry *ne = realloc(e, ncap * sizeof(*e));
                if (!ne) {
                    free(e);
                    return -ENOMEM;
                }
                e = ne;
                cap = ncap;
            }
            if (n > 0 && t < e[n - 1].log_time)
                sorted = false;
            e[n].log_time = t;
            e[n].offset = (uint32_t)off;
            n++;
        } else if (op == RL_OP_SCHEMA || op == RL_OP_CHANNEL) {
            struct rl_record rec;
            if (rl_mcap_parse(op, content, (size_t)len, &rec, NULL, 0) < 0)
                continue;
            rc = op == RL_OP_SCHEMA ? rl__reader_add_schema(r, &rec.u.schema)
                                    : rl__reader_add_channel(r, &rec.u.channel);
            if (rc < 0) {
                free(e);
                return rc;
            }
        }
    }
    if (n == 0) {
        free(e);
        return 0;
    }
    if (!sorted && it->opts.order == RL_ORDER_LOG_TIME)
        qsort(e, n, sizeof(*e), entry_cmp);
    if (it->n_heap == it->cap_heap) {
        size_t ncap = it->cap_heap ? it->cap_heap * 2 : 16;
        struct cursor *nh = realloc(it->heap, ncap * sizeof(*nh));
        if (!nh) {
            free(e);
            return -ENOMEM;
        }
        it->heap = nh;
        it->cap_heap = ncap;
    }
    it->heap[it->n_heap].chunk = ci;
    it->heap[it->n_heap].e = e;
    it->heap[it->n_heap].n = n;
    it->heap[it->n_heap].pos = 0;
    it->n_heap++;
    sift_up(it, it->n_heap - 1);
    it->entry_bytes += n * sizeof(*e);
    note_peak(it);
    return 0;
}

/* ---- public ---- */

static int order_cmp_time(const void *a, const void *b, const struct rl_reader *r)
{
    const struct rl__chunk *x = &r->chunks[*(const size_t *)a];
    const struct rl__chunk *y = &r->chunks[*(const size_t *)b];
    if (x->info.start_ns != y->info.start_ns)
        return x->info.start_ns < y->info.start_ns ? -1 : 1;
    return x->info.offset < y->info.offset ? -1 : x->info.offset > y->info.offset;
}

/* Insertion-merge sort of chunk indices by start time, without qsort_r. */
static void sort_order(size_t *v, size_t n, const struct rl_reader *r, size_t *tmp)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_order(v, h, r, tmp);
    sort_order(v + h, n - h, r, tmp);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = order_cmp_time(&v[j], &v[i], r) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

int rl_iter_new(struct rl_reader *r, const struct rl_iter_options *opts, struct rl_iter **out)
{
    *out = NULL;
    struct rl_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return -ENOMEM;
    it->r = r;
    if (opts)
        it->opts = *opts;
    else
        rl_iter_options_init(&it->opts);
    it->from_ns = it->opts.start_ns;
    if (it->opts.channel_set) {
        it->chan_set = malloc(CHANNEL_SET_BYTES);
        if (!it->chan_set)
            goto fail;
        memcpy(it->chan_set, it->opts.channel_set, CHANNEL_SET_BYTES);
        it->opts.channel_set = NULL;
    }
    it->n_slots = r->opts.chunk_cache;
    it->slots = calloc(it->n_slots, sizeof(*it->slots));
    it->order = malloc((r->n_chunks ? r->n_chunks : 1) * sizeof(*it->order));
    if (!it->slots || !it->order)
        goto fail;
    for (size_t i = 0; i < r->n_chunks; i++) {
        const struct rl_chunk_info *ci = &r->chunks[i].info;
        if (ci->end_ns < it->opts.start_ns ||
            (ci->start_ns >= it->opts.end_ns && it->opts.end_ns != UINT64_MAX))
            continue;
        it->order[it->n_order++] = i;
    }
    if (it->opts.order == RL_ORDER_LOG_TIME && it->n_order > 1) {
        size_t *tmp = malloc(it->n_order * sizeof(*tmp));
        if (!tmp)
            goto fail;
        sort_order(it->order, it->n_order, r, tmp);
        free(tmp);
    }
    *out = it;
    return 0;
fail:
    rl_iter_free(it);
    return -ENOMEM;
}

void rl_iter_free(struct rl_iter *it)
{
    if (!it)
        return;
    clear_heap(it);
    free(it->heap);
    if (it->slots)
        for (size_t i = 0; i < it->n_slots; i++)
            rl__buf_release(&it->slots[i].buf);
    free(it->slots);
    rl__buf_release(&it->raw);
    free(it->order);
    free(it->chan_set);
    free(it);
}

int rl_iter_seek(struct rl_iter *it, uint64_t time_ns)
{
    clear_heap(it);
    it->from_ns = time_ns > it->opts.start_ns ? time_ns : it->opts.start_ns;
    it->next = 0;
    return 0;
}

int rl_iter_next(struct rl_iter *it, struct rl_message *msg)
{
    struct rl_reader *r = it->r;
    for (;;) {
        while (it->next < it->n_order) {
            size_t ci = it->order[it->next];
            const struct rl__chunk *k = &r->chunks[ci];
            if (it->n_heap > 0) {
                if (it->opts.order == RL_ORDER_FILE)
                    break;
                const struct cursor *top = &it->heap[0];
                if (k->info.start_ns > top->e[top->pos].log_time)
                    break;
            }
            it->next++;
            if (k->damaged || k->info.end_ns < it->from_ns)
                continue;
            int rc = open_chunk(it, ci);
            if (rc < 0)
                return rc;
        }
        if (it->n_heap == 0)
            return 0;
        struct cursor *top = &it->heap[0];
        struct slot *s;
        int rc = load(it, top->chunk, &s);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            pop_top(it);
            continue;
        }
        const struct entry *e = &top->e[top->pos];
        /* open_chunk() checked the record fits when it listed it. */
        const uint8_t *p = s->buf.data + e->offset;
        uint64_t len = rl__get_u64le(p + 1);
        struct rl_record rec;
        if (rl_mcap_parse(RL_OP_MESSAGE, p + RL_MCAP_RECORD_HEADER_LEN, (size_t)len, &rec, NULL,
                          0) < 0)
            return RL_ECORRUPT;
        const struct rl_rec_message *m = &rec.u.message;
        const struct rl_channel *ch = rl_reader_channel(r, m->channel_id);
        msg->channel = ch ? ch : &r->unknown_channel;
        msg->channel_id = m->channel_id;
        msg->sequence = m->sequence;
        msg->log_time_ns = m->log_time;
        msg->publish_time_ns = m->publish_time;
        msg->data = m->data.ptr;
        msg->len = m->data.len;
        msg->chunk_offset = r->chunks[top->chunk].info.offset;
        if (++top->pos == top->n)
            pop_top(it);
        else
            sift_down(it, 0);
        return 1;
    }
}

size_t rl_iter_peak_chunks(const struct rl_iter *it)
{
    return it->peak_chunks;
}

size_t rl_iter_peak_bytes(const struct rl_iter *it)
{
    return it->peak_bytes;
}
