/* State shared by the recorder's files (recorder/, private): the capture
 * source (one per --source, its ring and counters), the part being written,
 * and the recorder itself. recorder.c describes the threads, the state
 * machine and the invariants; the source files (src_*.c) implement one
 * capture type each behind struct rl__source_ops. */
#ifndef ROADLOG_RECORDER_INTERNAL_H
#define ROADLOG_RECORDER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "roadlog/jsonw.h"
#include "roadlog/pipeline.h"
#include "roadlog/recorder.h"

#define RL__NS_PER_S   UINT64_C(1000000000)
#define RL__NS_PER_MS  UINT64_C(1000000)
#define RL__ERR_MAX    256
#define RL__STOP_RUN   0 /* capture runs */
#define RL__STOP_DRAIN 1 /* stop; first read what the kernel already holds */
#define RL__STOP_NOW   2 /* stop without reading more (disk budget, write error) */
/* Bound on the drain at RL__STOP_DRAIN, so a source that never goes quiet
 * cannot hold the recorder open. */
#define RL__DRAIN_MAX_NS (500 * RL__NS_PER_MS)
/* How often capture threads look at the stop flag and refresh kernel drop
 * counters when no frame arrives. */
#define RL__POLL_MS           50
#define RL__STATS_INTERVAL_NS (200 * RL__NS_PER_MS)
/* Datagrams per recvmmsg call of the socket sources; their batch buffer
 * holds RL__SOCK_BATCH + 1 slots (the last for a converted frame). */
#define RL__SOCK_BATCH 32u

enum rl__src_state {
    RL__SRC_RUNNING = 0,
    RL__SRC_ENDED,  /* end of stream (FIFO writer gone, device removed) */
    RL__SRC_FAILED, /* error in s->error */
};

struct rl__source;

/* One capture type. open() runs in rl_recorder_new() (with the caller's
 * privileges) and sets linktype, interface and the defaults of the
 * metadata; run() is the body of the source's thread: it captures until
 * *stop is set, then (RL__STOP_DRAIN) reads what the kernel holds, updates
 * kernel_drops one last time and returns; close() releases everything
 * open() took. */
struct rl__source_ops {
    const char *type;
    int (*open)(struct rl__source *s, char *err, size_t err_len);
    void (*run)(struct rl__source *s);
    void (*close)(struct rl__source *s);
    size_t (*max_frame)(const struct rl_source_spec *spec);   /* largest frame */
    size_t (*batch_bytes)(const struct rl_source_spec *spec); /* receive buffers */
};

extern const struct rl__source_ops rl__src_udp, rl__src_pcap, rl__src_can, rl__src_serial;

struct rl__source {
    struct rl_source_spec spec;
    const struct rl__source_ops *ops;
    uint16_t index;
    uint16_t channel_id;
    /* Channel metadata (docs/format.md), set by open(). */
    int linktype; /* enum rl_linktype */
    char interface[RL_REC_TARGET_MAX + 16];
    char replay_dest[RL_REC_TARGET_MAX + 16];
    uint32_t snaplen;               /* pcap: as granted */
    char filter[RL_REC_FILTER_MAX]; /* pcap: as applied */
    uint16_t port;                  /* udp: bound port (detection hint) */

    struct rl__ring ring;
    uint8_t *batch; /* receive buffers, batch_bytes */
    size_t batch_bytes;
    size_t max_frame;
    uint64_t kbuf_bytes;     /* kernel buffer to ask for */
    void *impl;              /* the type's own state */
    const _Atomic int *stop; /* RL__STOP_* */

    pthread_t thread;
    bool thread_started;
    bool low_priority; /* could not raise the thread's priority */
    _Atomic bool done; /* run() returned: no more pushes */

    /* Written by the capture thread only (relaxed loads elsewhere). */
    uint32_t seq;
    uint64_t last_ts; /* of the previous frame */
    _Atomic uint64_t frames, bytes, ring_drops, kernel_drops;
    _Atomic uint64_t snap_lost; /* builder: lost in a --snapshot window */
    _Atomic int state;          /* enum rl__src_state */
    char error[RL__ERR_MAX];    /* before state becomes FAILED */

    /* The builder's. */
    bool seen; /* the decoder has been decided */
    char decoder[RL_REC_DECODER_MAX];
    bool in_part;                     /* channel registered in the current part */
    bool reported;                    /* state change turned into an event */
    uint64_t rate_frames, rate_bytes; /* counters at the last rate update */
    double rate_hz, bytes_per_s;      /* published under stat_lock */
};

/* Capture thread: stores one frame (data in up to two pieces) or counts a
 * ring drop. Never blocks, never allocates.
 *
 * A source's log times follow its kernel queue order: a timestamp up to
 * RL__CLAMP_NS earlier than the previous frame's is raised to it. This
 * happens only when the kernel stamped a frame at read time instead of
 * arrival (the first frames after the system's first timestamping socket
 * is opened, while the kernel switches timestamps on). A larger step back
 * is the clock being set, and is kept as it is. */
#define RL__CLAMP_NS (50 * RL__NS_PER_MS)
static inline void rl__source_push2(struct rl__source *s, uint64_t ts_ns, const void *a,
                                    size_t a_len, const void *b, size_t b_len)
{
    if (ts_ns < s->last_ts && s->last_ts - ts_ns < RL__CLAMP_NS)
        ts_ns = s->last_ts;
    s->last_ts = ts_ns;
    struct rl__frame_hdr h = {0, s->index, 0, s->seq++, 0, ts_ns};
    if (rl__ring_push2(&s->ring, &h, a, a_len, b, b_len)) {
        atomic_store_explicit(&s->frames,
                              atomic_load_explicit(&s->frames, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        atomic_store_explicit(&s->bytes,
                              atomic_load_explicit(&s->bytes, memory_order_relaxed) + a_len + b_len,
                              memory_order_relaxed);
    } else {
        atomic_store_explicit(&s->ring_drops,
                              atomic_load_explicit(&s->ring_drops, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    }
}
static inline void rl__source_push(struct rl__source *s, uint64_t ts_ns, const void *data,
                                   size_t len)
{
    rl__source_push2(s, ts_ns, data, len, NULL, 0);
}

/* src_common.c */
uint64_t rl__now_ns(void);  /* CLOCK_REALTIME */
uint64_t rl__mono_ns(void); /* CLOCK_MONOTONIC */
void rl__source_fail(struct rl__source *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rl__source_end(struct rl__source *s);
/* A 32-bit kernel counter folded into a 64-bit total (wrap-safe). */
struct rl__counter32 {
    bool have;
    uint32_t last;
    uint64_t total;
};
void rl__counter32_update(struct rl__counter32 *c, uint32_t now);
/* Socket helpers: kernel receive buffer (SO_RCVBUFFORCE, else SO_RCVBUF up
 * to rmem_max), SO_TIMESTAMPNS and SO_RXQ_OVFL on; drops from SO_MEMINFO. */
int rl__sock_setup(int fd, uint64_t rcvbuf_bytes, char *err, size_t err_len);
int rl__sock_drops(int fd, uint32_t *drops);
/* Generic recvmmsg capture loop of the socket sources. convert() turns one
 * datagram into the stored frame (out has room for s->max_frame bytes);
 * returns its length, or <0 to skip it. */
typedef int (*rl__convert_fn)(struct rl__source *s, const uint8_t *in, size_t len, uint8_t *out,
                              size_t cap);
void rl__sock_run(struct rl__source *s, int fd, size_t slot_bytes, rl__convert_fn convert);
/* Waits up to RL__POLL_MS (or ms) for fd; 1 readable, 0 not, <0 -errno. */
int rl__wait_readable(int fd);
int rl__wait_readable_ms(int fd, int ms);

/* src_can.c: a struct can_frame / canfd_frame as read from a CAN_RAW
 * socket (host byte order, len 16 or 72) to a LINKTYPE_CAN_SOCKETCAN frame
 * (big-endian id). Returns the length or <0. */
int rl__can_host_to_linktype(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* ---- the part being written ---- */
struct rl__part {
    bool open;
    struct rl_writer *w;
    struct rl_pipeline *p;
    int fd; /* read-only descriptor: fdatasync, fstat */
    char path[RL_REC_PATH_MAX];
    unsigned number;           /* from 1 */
    uint64_t start_ns, end_ns; /* --split-duration window [start, end) */
    bool markers_in_part, health_in_part;
};

struct rl__marker {
    uint64_t ts_ns;
    char label[128];
    char note[1024];
    char by[32];
};

#define RL__EVENTS    16
#define RL__EVENT_LEN 256

struct rl_recorder {
    struct rl_recorder_options opts; /* strings point at the copies below */
    char *out_path, *out_dir, *command_line, *meta_store;
    struct rl_kv *meta;
    struct rl_recorder_memplan plan;
    size_t n_src;
    struct rl__source *src;
    uint16_t markers_id, health_id;
    char run_id[64];
    char host[256];
    char dir[RL_REC_PATH_MAX]; /* output directory (statvfs) */
    uint64_t min_free_bytes;
    uint64_t fsize_limit; /* RLIMIT_FSIZE soft limit, UINT64_MAX when none */
    uint64_t start_ns, start_mono_ns;
    bool started;

    _Atomic int stop_capture;    /* RL__STOP_*, read by capture threads */
    _Atomic bool stop_requested; /* rl_recorder_stop() */
    _Atomic int stop_reason;     /* enum rl_rec_stop, first one wins */
    _Atomic bool done;
    _Atomic bool write_failed; /* nothing more can be written */

    pthread_t builder, syncer;
    bool builder_started, syncer_started;

    /* The current part: changed by the builder under part_lock; the syncer
     * reads it under part_lock. */
    pthread_mutex_t part_lock;
    pthread_cond_t sync_cv;
    bool syncer_quit;
    struct rl__part part;
    unsigned parts_closed;
    bool all_complete;
    uint64_t closed_bytes; /* bytes of the parts already closed */
    char last_path[RL_REC_PATH_MAX];

    pthread_mutex_t mark_lock;
    struct rl__marker marks[RL_REC_MARKER_QUEUE];
    unsigned mark_head, mark_n;

    pthread_mutex_t stat_lock; /* the published figures and the failure */
    int error;
    char message[RL_REC_MSG_MAX];
    uint64_t pub_file_bytes, pub_disk_free;
    double pub_write_rate, pub_disk_seconds;
    unsigned pub_part;
    char pub_path[RL_REC_PATH_MAX];
    bool pub_draining;
    _Atomic uint64_t markers_written, snapshots;

    pthread_mutex_t event_lock;
    char events[RL__EVENTS][RL__EVENT_LEN];
    unsigned ev_head, ev_n;

    /* The builder's own. */
    struct rl_jw jw;
    uint32_t marker_seq, health_seq;
    uint64_t next_health_mono, next_stats_mono, next_budget_mono;
    uint64_t bytes_since_budget;
    uint64_t rate_mono, write_rate_bytes, write_rate_mono;
    struct rl__ring snap; /* --snapshot: the last D seconds */
    bool snap_on;         /* frames up to snap_end_ns go to the file */
    uint64_t snap_start_ns, snap_end_ns;
};

/* recorder.c */
void rl__rec_event(struct rl_recorder *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Records why recording stops (the first reason wins) and tells capture
 * to stop. */
void rl__rec_set_stop(struct rl_recorder *r, enum rl_rec_stop why, int error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* output.c: parts, channels, metadata, disk budget. */
int rl__part_open(struct rl_recorder *r, unsigned number, uint64_t start_ns, char *err,
                  size_t err_len) RL_WARN_UNUSED;
/* Closes the current part: a complete file when ok, else (after a write
 * error) the file cut back to its last whole record. Returns 0 or the
 * first error. */
int rl__part_close(struct rl_recorder *r, bool ok) RL_WARN_UNUSED;
int rl__channel_ensure(struct rl_recorder *r, struct rl__source *s) RL_WARN_UNUSED;
int rl__internal_channel_ensure(struct rl_recorder *r, bool markers) RL_WARN_UNUSED;
/* Writes one message on the current part without waiting: 0, -EAGAIN when
 * the pipeline is full (try again later), or a write error. */
int rl__write(struct rl_recorder *r, uint16_t channel_id, uint32_t seq, uint64_t ts_ns,
              const void *data, size_t len) RL_WARN_UNUSED;
/* Disk budget: 0 fine, 1 stop (message set with rl__rec_set_stop). Also
 * publishes file size, free space and rate. */
int rl__budget_check(struct rl_recorder *r, uint64_t now_mono);
/* 1 when the current part should be closed by size. */
bool rl__split_due_size(struct rl_recorder *r);
void rl__decide_decoder(struct rl_recorder *r, struct rl__source *s);

/* health.c */
void rl__health_json(struct rl_recorder *r, struct rl_jw *w);
void rl__update_rates(struct rl_recorder *r, uint64_t now_mono);

#endif
