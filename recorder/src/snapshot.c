/* The --snapshot buffer (snapshot.h; the sub-state machine is at the top of
 * recorder.c): every frame passes through one ring that keeps the last D
 * seconds; a marker at t opens the window [t - D, t + D] (a later marker
 * extends its end) and the frames in it are written, the buffered past ones
 * first, then the following ones as they come; the first frame after the
 * window closes it. "Pause" is therefore D seconds without a marker. When
 * the buffer is full the oldest frames go; those due in an open window are
 * counted as lost (reported with the ring drops of their source). */
#include "snapshot.h"

#include "rec_internal.h"

static bool due(const struct rl_recorder *r, uint64_t ts)
{
    return r->snap_on && ts >= r->snap_start_ns && ts <= r->snap_end_ns;
}

static void evict_old(struct rl_recorder *r, uint64_t newest)
{
    const uint8_t *d;
    const struct rl__frame_hdr *h;
    while ((h = rl__ring_peek(&r->snap, &d)) != NULL) {
        if (due(r, h->ts_ns))
            break; /* waiting to be written */
        bool before_window = r->snap_on && h->ts_ns < r->snap_start_ns;
        if (!before_window && h->ts_ns + r->opts.snapshot_ns >= newest)
            break;
        rl__ring_pop(&r->snap);
    }
}

void rl__snap_push(struct rl_recorder *r, uint16_t idx, uint32_t seq, uint64_t ts,
                   const uint8_t *data, size_t len)
{
    struct rl__frame_hdr h = {0, idx, 0, seq, 0, ts};
    evict_old(r, ts);
    while (!rl__ring_push(&r->snap, &h, data, len)) {
        const uint8_t *d;
        const struct rl__frame_hdr *t = rl__ring_peek(&r->snap, &d);
        if (!t)
            return; /* larger than the buffer: cannot happen, frames are bounded */
        if (due(r, t->ts_ns) && t->src < r->n_src)
            atomic_fetch_add(&r->src[t->src].snap_lost, 1);
        rl__ring_pop(&r->snap);
    }
}

void rl__snap_trigger(struct rl_recorder *r, uint64_t t_ns)
{
    uint64_t d = r->opts.snapshot_ns;
    if (!r->snap_on) {
        r->snap_on = true;
        r->snap_start_ns = t_ns > d ? t_ns - d : 0;
        r->snap_end_ns = t_ns + d;
        atomic_fetch_add(&r->snapshots, 1);
    } else if (t_ns + d > r->snap_end_ns) {
        r->snap_end_ns = t_ns + d;
    }
}

int rl__snap_drain(struct rl_recorder *r, bool wait)
{
    const uint8_t *d;
    const struct rl__frame_hdr *h;
    while (r->snap_on && (h = rl__ring_peek(&r->snap, &d)) != NULL) {
        if (h->ts_ns < r->snap_start_ns) {
            rl__ring_pop(&r->snap);
            continue;
        }
        if (h->ts_ns > r->snap_end_ns) {
            r->snap_on = false;
            break;
        }
        int rc = rl__emit_to_file(r, h->src, h->seq, h->ts_ns, d, h->len, wait);
        if (rc < 0)
            return rc;
        rl__ring_pop(&r->snap);
    }
    return 0;
}
