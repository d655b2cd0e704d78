/* The bounded SPSC frame ring of the recorder (ring.h: layout, invariants
 * and memory order are described there). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "ring.h"

#define HDR_LEN sizeof(struct rl__frame_hdr)

static size_t align_up(size_t n)
{
    return (n + RL__RING_ALIGN - 1) & ~(size_t)(RL__RING_ALIGN - 1);
}

static size_t record_len(size_t frame_len)
{
    return align_up(HDR_LEN + frame_len);
}

int rl__ring_init(struct rl__ring *r, size_t cap_bytes, size_t max_frame)
{
    memset(r, 0, sizeof(*r));
    if (cap_bytes < RL__RING_MIN_CAP)
        cap_bytes = RL__RING_MIN_CAP;
    if (cap_bytes > SIZE_MAX / 2 || max_frame > UINT32_MAX - 1)
        return -EINVAL;
    cap_bytes = align_up(cap_bytes);
    /* A record may also need a pad before it: two of the largest must fit. */
    if (2 * record_len(max_frame) > cap_bytes)
        return -EINVAL;
    void *p = mmap(NULL, cap_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    r->buf = p;
    r->cap = cap_bytes;
    r->max_frame = max_frame;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void rl__ring_release(struct rl__ring *r)
{
    if (r->buf)
        (void)munmap(r->buf, r->cap);
    r->buf = NULL;
    r->cap = 0;
}

static void put_len(uint8_t *at, uint32_t len)
{
    memcpy(at, &len, sizeof(len));
}

static uint32_t get_len(const uint8_t *at)
{
    uint32_t len;
    memcpy(&len, at, sizeof(len));
    return len;
}

bool rl__ring_push2(struct rl__ring *r, const struct rl__frame_hdr *h, const void *a, size_t a_len,
                    const void *b, size_t b_len)
{
    size_t len = a_len + b_len;
    if (len > r->max_frame)
        return false;
    size_t need = record_len(len);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t off = (size_t)(head % r->cap);
    size_t to_end = r->cap - off;
    size_t total = need <= to_end ? need : to_end + need;
    if (head + total - r->tail_cache > r->cap) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head + total - r->tail_cache > r->cap)
            return false;
    }
    if (need > to_end) {
        put_len(r->buf + off, RL__RING_PAD);
        head += to_end;
        off = 0;
    }
    struct rl__frame_hdr hdr = *h;
    hdr.len = (uint32_t)len;
    memcpy(r->buf + off, &hdr, HDR_LEN);
    if (a_len)
        memcpy(r->buf + off + HDR_LEN, a, a_len);
    if (b_len)
        memcpy(r->buf + off + HDR_LEN + a_len, b, b_len);
    atomic_store_explicit(&r->head, head + need, memory_order_release);
    return true;
}

/* The record at position pos (skipping a pad mark), or NULL at head. */
static const struct rl__frame_hdr *record_at(struct rl__ring *r, uint64_t *pos, uint64_t head,
                                             const uint8_t **data)
{
    if (*pos == head)
        return NULL;
    size_t off = (size_t)(*pos % r->cap);
    if (get_len(r->buf + off) == RL__RING_PAD) {
        *pos += r->cap - off;
        if (*pos == head)
            return NULL;
        off = 0;
    }
    const struct rl__frame_hdr *h = (const struct rl__frame_hdr *)(const void *)(r->buf + off);
    *data = r->buf + off + HDR_LEN;
    return h;
}

const struct rl__frame_hdr *rl__ring_peek(struct rl__ring *r, const uint8_t **data)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail == r->head_cache)
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t pos = tail;
    const struct rl__frame_hdr *h = record_at(r, &pos, r->head_cache, data);
    if (pos != tail) /* skipped a pad mark: give its room back now */
        atomic_store_explicit(&r->tail, pos, memory_order_release);
    return h;
}

void rl__ring_pop(struct rl__ring *r)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t off = (size_t)(tail % r->cap);
    uint32_t len = get_len(r->buf + off);
    atomic_store_explicit(&r->tail, tail + record_len(len), memory_order_release);
}

const struct rl__frame_hdr *rl__ring_walk(struct rl__ring *r, uint64_t *pos, const uint8_t **data)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
    if (*pos < tail)
        *pos = tail;
    const struct rl__frame_hdr *h = record_at(r, pos, r->head_cache, data);
    if (h)
        *pos += record_len(h->len);
    return h;
}

size_t rl__ring_used(struct rl__ring *r)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    return head >= tail ? (size_t)(head - tail) : 0;
}

bool rl__ring_empty(struct rl__ring *r)
{
    return rl__ring_used(r) == 0;
}
