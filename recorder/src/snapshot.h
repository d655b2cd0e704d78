/* The --snapshot buffer of the recorder (recorder/, private; the snapshot
 * sub-state is described at the top of recorder.c). Builder thread only. */
#ifndef ROADLOG_RECORDER_SNAPSHOT_H
#define ROADLOG_RECORDER_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rl_recorder;

/* Writes one frame of source idx (idx == n_src: the health channel) to the
 * current part, waiting for room when wait, else -EAGAIN when full. */
int rl__emit_to_file(struct rl_recorder *r, uint16_t idx, uint32_t seq, uint64_t ts,
                     const uint8_t *data, size_t len, bool wait);

/* Puts a frame into the buffer, dropping the oldest frames to make room
 * (counted as lost when they were due in the file). */
void rl__snap_push(struct rl_recorder *r, uint16_t idx, uint32_t seq, uint64_t ts,
                   const uint8_t *data, size_t len);
/* A marker at t: opens (or extends) the window [t - D, t + D]. */
void rl__snap_trigger(struct rl_recorder *r, uint64_t t_ns);
/* Writes buffered frames that are due while a window is open; drops those
 * before it; closes the window at the first frame after it. With wait, a
 * full pipeline is waited for; without, returns -EAGAIN. 0 or an error. */
int rl__snap_drain(struct rl_recorder *r, bool wait);

#endif
