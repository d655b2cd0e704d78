/* The recorder (recorder/; architecture.md section 3, "Record"): capture
 * sources -> per-source rings -> a chunk builder that merges the sources in
 * time order -> the chunk pipeline (pipeline.h: zstd on worker threads, an
 * ordered appender) -> one log, or a run split into parts. It never makes
 * capture wait for the disk: when memory is full frames are dropped and
 * counted, and the counts go into the log (/roadlog/health).
 *
 * Sources (one Channel each, metadata as in docs/format.md):
 *   pcap:IFACE[,filter=BPF]   libpcap, ns timestamps, Ethernet/loopback/CAN
 *   can:IFACE                 SocketCAN raw socket, CAN FD, kernel timestamps
 *   serial:DEVICE[,baud=N]    tty in raw mode, framed into NMEA/UBX/RTCM 3
 *   udp:[ADDR:]PORT           UDP socket (127.0.0.1 unless ADDR is given)
 * Every source also takes decoder=NAME, replay_dest=SINK, rate=HZ (the
 * expected frame rate, for the status display) and buffer=BYTES (kernel
 * buffer); pcap takes snaplen=N, immediate=0|1, direction=in|inout.
 *
 * Lifecycle: rl_recorder_new() validates the options, plans memory and
 * opens every source (the privileged part: a caller may drop privileges
 * afterwards); rl_recorder_start() opens the first output file and starts
 * the threads; rl_recorder_stop() asks for a clean finish (any thread,
 * async-signal-safe); rl_recorder_done() says when the recorder has stopped
 * by itself or after a stop request; rl_recorder_finish() waits for the file
 * to be complete and reports why recording ended; rl_recorder_free().
 *
 * Threads: rl_recorder_mark(), rl_recorder_stop(), rl_recorder_done(),
 * rl_recorder_get_stats(), rl_recorder_status_json() and
 * rl_recorder_next_event() may be called from any thread while the
 * recorder runs. The library never prints: warnings come out through
 * rl_recorder_next_event(). */
#ifndef ROADLOG_RECORDER_H
#define ROADLOG_RECORDER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roadlog/error.h"
#include "roadlog/jsonw.h"
#include "roadlog/writer.h"

#define RL_REC_MAX_SOURCES     32
#define RL_REC_NAME_MAX        128  /* topic, with its leading '/' */
#define RL_REC_TARGET_MAX      256  /* interface, device path or address */
#define RL_REC_FILTER_MAX      1024 /* BPF filter text */
#define RL_REC_DECODER_MAX     64
#define RL_REC_SPEC_MAX        2048 /* a whole --source argument */
#define RL_REC_PATH_MAX        4096
#define RL_REC_MSG_MAX         512
#define RL_REC_DEFAULT_SNAPLEN 65535u
#define RL_REC_MAX_SNAPLEN     262144u
#define RL_REC_DEFAULT_MEMORY  ((uint64_t)256 << 20)
#define RL_REC_MARKER_QUEUE    64 /* markers waiting to be written */
/* zstd level of the recorder unless told otherwise: it must keep up with
 * the sensors (level 1 compresses about 1.5 times faster than the writer's
 * default 3, for somewhat larger files; docs/record.md). */
#define RL_REC_DEFAULT_LEVEL 1

enum rl_source_type {
    RL_SOURCE_PCAP = 1,
    RL_SOURCE_CAN,
    RL_SOURCE_SERIAL,
    RL_SOURCE_UDP,
};

/* A parsed --source NAME=SPEC. Caller storage; plain data. */
struct rl_source_spec {
    char text[RL_REC_SPEC_MAX];  /* the argument as given */
    char topic[RL_REC_NAME_MAX]; /* "/" + NAME unless NAME starts with '/' */
    enum rl_source_type type;
    char target[RL_REC_TARGET_MAX];      /* pcap/can: interface; serial: device; udp: address */
    uint16_t port;                       /* udp: port (0: any free port, for tests) */
    char filter[RL_REC_FILTER_MAX];      /* pcap: BPF filter, "" for none */
    char decoder[RL_REC_DECODER_MAX];    /* "" when to be detected */
    char replay_dest[RL_REC_TARGET_MAX]; /* "" for the default of the type */
    uint32_t snaplen;                    /* pcap: bytes kept per frame */
    uint32_t baud;                       /* serial: 0 leaves the line speed as it is */
    double expected_hz;                  /* 0 when unknown */
    uint64_t buffer_bytes;               /* kernel buffer; 0 for the default */
    int immediate;                       /* pcap: 1 libpcap immediate mode, 0 buffered (default) */
    int direction_in; /* pcap: 1 inbound only, 0 both, -1 default (in on loopback) */
};

/* Parses "NAME=TYPE:ARGS[,key=value...]". A comma starts a new option
 * only when followed by a known key and '=', so a BPF filter may hold
 * commas. Returns 0, or -EINVAL with the reason in err ("unknown source
 * type 'foo' in 'x=foo:1'"). */
int rl_source_spec_parse(const char *arg, struct rl_source_spec *out, char *err,
                         size_t err_len) RL_WARN_UNUSED;

struct rl_recorder_options {
    /* Exactly one of output_path (-o FILE) and output_dir (-O DIR). With a
     * split, -o FILE.mcap writes FILE-partNNN.mcap; -O DIR always writes
     * DIR/RUNID-partNNN.mcap. */
    const char *output_path;
    const char *output_dir;
    struct rl_writer_options writer; /* compression, level, chunk size */
    const struct rl_source_spec *sources;
    size_t n_sources;           /* 1..RL_REC_MAX_SOURCES */
    uint64_t duration_ns;       /* 0: until stopped */
    uint64_t split_bytes;       /* 0: no split by size */
    uint64_t split_ns;          /* 0: no split by time */
    uint64_t fsync_interval_ns; /* default 1 s; 0 keeps the default */
    bool min_free_set;          /* else min(1 GiB, 5% of the file system) */
    uint64_t min_free_bytes;
    uint64_t max_memory_bytes; /* 0: RL_REC_DEFAULT_MEMORY */
    uint64_t snapshot_ns;      /* 0: record everything */
    const struct rl_kv *meta;  /* --meta KEY=VALUE, written in roadlog.run */
    size_t n_meta;
    const char *command_line; /* for roadlog.run "command" */
    const char *run_id;       /* NULL: generated (UTC time + random) */
    unsigned workers;         /* compression threads; 0: from the CPU count */
};
/* Zeroes opts and fills in the writer defaults, with compression level
 * RL_REC_DEFAULT_LEVEL. */
void rl_recorder_options_init(struct rl_recorder_options *opts);

/* Why recording ended. */
enum rl_rec_stop {
    RL_REC_RUNNING = 0,
    RL_REC_STOP_REQUEST,     /* rl_recorder_stop(): a signal, `quit`, a key */
    RL_REC_STOP_DURATION,    /* --duration reached */
    RL_REC_STOP_DISK,        /* free space (or the file size limit) below the budget */
    RL_REC_STOP_WRITE_ERROR, /* a write or sync failed (ENOSPC, EFBIG, EIO) */
    RL_REC_STOP_SOURCES,     /* every source is gone, at least one failed */
    RL_REC_STOP_ENDED,       /* every source ended (end of stream), none failed */
};

struct rl_recorder_source_stats {
    char topic[RL_REC_NAME_MAX];
    char spec[RL_REC_SPEC_MAX];
    char interface[RL_REC_TARGET_MAX + 16]; /* as bound/opened: "127.0.0.1:2368", "eth1" */
    uint64_t frames;                        /* captured into the ring */
    uint64_t bytes;
    uint64_t kernel_drops; /* pcap ps_drop + ps_ifdrop; socket drops (SO_RXQ_OVFL); UART overruns */
    uint64_t ring_drops;   /* dropped because the ring was full */
    double rate_hz;        /* frames per second over the last second */
    double bytes_per_s;
    double expected_hz; /* 0 when unknown */
    bool failed;        /* the source stopped with an error */
    bool ended;         /* the source ended (end of a FIFO, device gone) */
};

struct rl_recorder_stats {
    enum rl_rec_stop stop; /* RL_REC_RUNNING while recording */
    bool draining;
    uint64_t elapsed_ns;
    uint64_t start_ns;          /* UTC, ns */
    unsigned part;              /* current part number, from 1 */
    char path[RL_REC_PATH_MAX]; /* current file */
    char run_id[64];
    uint64_t file_bytes;      /* bytes in every part so far */
    uint64_t disk_free_bytes; /* available to us on the output file system */
    double write_bytes_per_s; /* file growth over the last seconds */
    double disk_seconds_left; /* until --min-free at that rate; < 0 unknown */
    uint64_t markers;
    uint64_t snapshots; /* --snapshot: windows written */
    size_t n_sources;
    struct rl_recorder_source_stats sources[RL_REC_MAX_SOURCES];
};

struct rl_recorder_result {
    enum rl_rec_stop stop;
    int error;                    /* status of the failure, 0 when none */
    char message[RL_REC_MSG_MAX]; /* why it stopped, for DISK/WRITE_ERROR/SOURCES */
    unsigned parts;
    char last_path[RL_REC_PATH_MAX];
    bool complete; /* every file was finished with a Summary */
    size_t failed_sources;
};

struct rl_recorder;

/* Validates opts, plans memory (rings, pipeline, kernel buffers within
 * max_memory_bytes) and opens every source. Nothing is written yet. On
 * failure returns -EINVAL (bad option), -ENOMEM, or the -errno of the
 * source that could not be opened, with one line in err naming it. */
int rl_recorder_new(struct rl_recorder **out, const struct rl_recorder_options *opts, char *err,
                    size_t err_len) RL_WARN_UNUSED;

/* Opens the first output file and starts the capture, builder and sync
 * threads. Returns 0 or -errno with err filled. */
int rl_recorder_start(struct rl_recorder *r, char *err, size_t err_len) RL_WARN_UNUSED;

/* Queues a marker stored on /roadlog/markers as {"label","note","by"} at
 * the current time (note and by may be NULL). Returns 0, -EINVAL for an
 * empty or too long label, -EAGAIN when RL_REC_MARKER_QUEUE markers wait,
 * RL_ESTATE when the recorder is not recording. *time_ns (may be NULL)
 * receives the marker's time. */
int rl_recorder_mark(struct rl_recorder *r, const char *label, const char *note, const char *by,
                     uint64_t *time_ns) RL_WARN_UNUSED;

/* Asks for a clean finish: capture stops, every captured frame is written,
 * the file is completed. Only stores an atomic flag. */
void rl_recorder_stop(struct rl_recorder *r);

/* True once recording has ended and the files are complete (then
 * rl_recorder_finish() returns at once). */
bool rl_recorder_done(struct rl_recorder *r);

/* A copy of the live counters. */
void rl_recorder_get_stats(struct rl_recorder *r, struct rl_recorder_stats *out);

/* Writes the `status` reply object of the control socket:
 * {"state","file","part","run_id","elapsed_s","bytes_written",
 *  "disk_free_bytes","disk_seconds_left","markers","sources":[...]}. */
void rl_recorder_status_json(struct rl_recorder *r, struct rl_jw *w);

/* Copies the next warning ("source /gnss: read failed: ...") into buf.
 * Returns 1 when one was copied, 0 when none waits. */
int rl_recorder_next_event(struct rl_recorder *r, char *buf, size_t len);

/* Waits until recording has ended (it does not stop it: call
 * rl_recorder_stop() first, unless it ends by itself), joins every thread
 * and fills res. Returns 0 when recording ended as asked (stop request or
 * duration) with complete files, or the error (RL_REC_STOP_* in res). */
int rl_recorder_finish(struct rl_recorder *r, struct rl_recorder_result *res) RL_WARN_UNUSED;

/* Closes the sources and frees everything; stops and finishes first when
 * still running. NULL is fine. */
void rl_recorder_free(struct rl_recorder *r);

/* How the memory budget was divided (for --help, --status, tests). */
struct rl_recorder_memplan {
    uint64_t total_bytes;
    uint64_t base_bytes;     /* code, stacks, buffers that do not scale */
    uint64_t pipeline_bytes; /* chunk jobs: open, in flight, compressed */
    unsigned workers, max_inflight;
    uint64_t ring_bytes;        /* each source's ring */
    uint64_t batch_bytes;       /* all receive batch buffers */
    uint64_t pcap_buffer_bytes; /* each pcap source's kernel ring (mapped into us) */
    uint64_t snapshot_bytes;    /* --snapshot buffer */
};
/* Plans memory for opts. Returns 0, or -EINVAL with err saying how much
 * --max-memory the options need. */
int rl_recorder_plan_memory(const struct rl_recorder_options *opts, struct rl_recorder_memplan *out,
                            char *err, size_t err_len) RL_WARN_UNUSED;

#endif
