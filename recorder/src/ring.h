/* A bounded single-producer single-consumer ring of variable-size frames
 * (recorder/, private): a capture thread pushes, the chunk builder peeks
 * and pops. Memory is one mapping made (and pre-faulted) at init and never
 * grown: push copies into it or fails, it never allocates or waits. The
 * same ring serves the --snapshot buffer, where one thread does both.
 *
 * Layout. Positions head (next byte to write) and tail (next byte to read)
 * only grow; the byte at position x is buf[x % cap]. A record is a header
 * and the frame bytes, padded to RL__RING_ALIGN; records never wrap: when
 * the space left before the end of buf is too small, a pad mark (a header
 * whose len is RL__RING_PAD, of which only len is read) fills it and the
 * record starts at buf[0]. Invariant: tail <= head <= tail + cap; head and
 * tail are multiples of RL__RING_ALIGN; cap is too, so a pad mark always
 * has room for its len field.
 *
 * Memory order: the producer writes the record, then stores head with
 * release; the consumer loads head with acquire before reading records and
 * stores tail with release after it is done with them. */
#ifndef ROADLOG_RECORDER_RING_H
#define ROADLOG_RECORDER_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"

#define RL__RING_ALIGN   8u
#define RL__RING_PAD     UINT32_MAX
#define RL__RING_MIN_CAP ((size_t)1 << 16)

/* Record header; 24 bytes, a multiple of RL__RING_ALIGN. */
struct rl__frame_hdr {
    uint32_t len; /* frame bytes that follow; RL__RING_PAD for a pad mark */
    uint16_t src; /* source index (snapshot buffer: channel index) */
    uint16_t flags;
    uint32_t seq; /* per-source sequence number */
    uint32_t reserved;
    uint64_t ts_ns; /* capture time, ns since the Unix epoch */
};
_Static_assert(sizeof(struct rl__frame_hdr) == 24, "ring header is 24 bytes");
_Static_assert(sizeof(struct rl__frame_hdr) % RL__RING_ALIGN == 0, "header keeps alignment");

struct rl__ring {
    uint8_t *buf;
    size_t cap;       /* bytes, a multiple of RL__RING_ALIGN */
    size_t max_frame; /* largest frame push accepts */
    _Alignas(64) _Atomic uint64_t head;
    uint64_t tail_cache; /* producer's last view of tail */
    _Alignas(64) _Atomic uint64_t tail;
    uint64_t head_cache; /* consumer's last view of head */
};

/* Maps cap_bytes (rounded up to the alignment, at least RL__RING_MIN_CAP)
 * and touches every page, so capture never page-faults into fresh memory.
 * Frames up to max_frame bytes fit (cap must hold at least two of them).
 * Returns 0, -EINVAL, or -ENOMEM. */
int rl__ring_init(struct rl__ring *r, size_t cap_bytes, size_t max_frame) RL_WARN_UNUSED;
void rl__ring_release(struct rl__ring *r);

/* Producer: copies one frame (header fields from h, len bytes of data
 * possibly in two pieces: a then b) into the ring. Returns false, leaving
 * the ring as it was, when it does not fit (full) or is too large. */
bool rl__ring_push2(struct rl__ring *r, const struct rl__frame_hdr *h, const void *a, size_t a_len,
                    const void *b, size_t b_len);
static inline bool rl__ring_push(struct rl__ring *r, const struct rl__frame_hdr *h,
                                 const void *data, size_t len)
{
    return rl__ring_push2(r, h, data, len, NULL, 0);
}

/* Consumer: the oldest frame, or NULL when empty. *data receives its bytes.
 * Valid until rl__ring_pop(). */
const struct rl__frame_hdr *rl__ring_peek(struct rl__ring *r, const uint8_t **data);
/* Consumer: drops the frame rl__ring_peek() returned. */
void rl__ring_pop(struct rl__ring *r);

/* Consumer: walks frames without removing them. Start with *pos = 0; each
 * call returns the next frame or NULL at the end of what was there. */
const struct rl__frame_hdr *rl__ring_walk(struct rl__ring *r, uint64_t *pos, const uint8_t **data);

/* Bytes in use (either side; a snapshot of a moving value). */
size_t rl__ring_used(struct rl__ring *r);
bool rl__ring_empty(struct rl__ring *r);

#endif
