/* The recorder's output (recorder/, private; the state machine is at the
 * top of recorder.c): parts of a run and their names, the channels with
 * their metadata (docs/format.md "Channels"), the roadlog.run metadata,
 * decoder detection from a source's first frames, and the disk budget
 * (--min-free, the file size limit, --split-size). Everything here runs on
 * the builder thread, except that part open/close hold part_lock against
 * the syncer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "rec_internal.h"
#include "roadlog/decode.h"
#include "roadlog/net.h"

#ifndef RL_VERSION
#define RL_VERSION "unknown"
#endif

#define DETECT_FRAMES    16
#define DETECT_MIN_SCORE 50
#define SUMMARY_RESERVE  ((uint64_t)256 << 10) /* DataEnd, Summary, Footer */
#define SUMMARY_PER_GIB  ((uint64_t)64 << 10)  /* chunk indexes per GiB of file */
#define RATE_SMOOTHING   0.3

/* ---- names ---- */

static int part_path(struct rl_recorder *r, unsigned number, char *buf, size_t len)
{
    int n;
    if (r->out_dir) {
        n = snprintf(buf, len, "%s/%s-part%03u.mcap", r->out_dir, r->run_id, number);
    } else if (r->opts.split_bytes || r->opts.split_ns) {
        size_t base = strlen(r->out_path);
        if (base > 5 && strcmp(r->out_path + base - 5, ".mcap") == 0)
            base -= 5;
        n = snprintf(buf, len, "%.*s-part%03u.mcap", (int)base, r->out_path, number);
    } else {
        n = snprintf(buf, len, "%s", r->out_path);
    }
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int sync_dir_of(const char *path)
{
    char tmp[RL_REC_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : -errno;
    close(fd);
    return rc;
}

static const char *human(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

/* ---- metadata ---- */

static int write_run_metadata(struct rl_recorder *r, struct rl_writer *w, unsigned number)
{
    enum { AUTO_KEYS = 7 };
    struct rl_kv kv[RL_REC_MAX_SOURCES + 64 + AUTO_KEYS];
    size_t n = 0;
    char part[16], start[40], snap[32];
    time_t t = (time_t)(r->start_ns / RL__NS_PER_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t k = strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(start + k, sizeof(start) - k, ".%03uZ",
             (unsigned)((r->start_ns % RL__NS_PER_S) / RL__NS_PER_MS));
    snprintf(part, sizeof(part), "%u", number);
    for (size_t i = 0; i < r->opts.n_meta && n < sizeof(kv) / sizeof(kv[0]) - AUTO_KEYS; i++)
        kv[n++] = r->opts.meta[i];
    kv[n++] = (struct rl_kv){"run_id", r->run_id};
    kv[n++] = (struct rl_kv){"part", part};
    kv[n++] = (struct rl_kv){"start_time", start};
    kv[n++] = (struct rl_kv){"host", r->host};
    kv[n++] = (struct rl_kv){"roadlog_version", RL_VERSION};
    if (r->command_line)
        kv[n++] = (struct rl_kv){"command", r->command_line};
    if (r->opts.snapshot_ns) {
        snprintf(snap, sizeof(snap), "%.3f", (double)r->opts.snapshot_ns / 1e9);
        kv[n++] = (struct rl_kv){"snapshot_s", snap};
    }
    return rl_writer_write_metadata(w, "roadlog.run", kv, n);
}

/* ---- channels ---- */

int rl__channel_ensure(struct rl_recorder *r, struct rl__source *s)
{
    if (s->in_part)
        return 0;
    struct rl_kv kv[6];
    size_t n = 0;
    char linktype[16], snaplen[16];
    if (s->linktype == RL_LINKTYPE_PAYLOAD)
        snprintf(linktype, sizeof(linktype), "payload");
    else
        snprintf(linktype, sizeof(linktype), "%d", s->linktype);
    const char *decoder = s->spec.decoder[0] ? s->spec.decoder : s->decoder;
    if (decoder[0])
        kv[n++] = (struct rl_kv){"decoder", decoder};
    if (s->filter[0])
        kv[n++] = (struct rl_kv){"filter", s->filter};
    kv[n++] = (struct rl_kv){"interface", s->interface};
    kv[n++] = (struct rl_kv){"linktype", linktype};
    const char *dest = s->spec.replay_dest[0] ? s->spec.replay_dest : s->replay_dest;
    if (dest[0])
        kv[n++] = (struct rl_kv){"replay_dest", dest};
    if (s->spec.type == RL_SOURCE_PCAP) {
        snprintf(snaplen, sizeof(snaplen), "%u", s->snaplen);
        kv[n++] = (struct rl_kv){"snaplen", snaplen};
    }
    int rc = rl_pipeline_add_channel(r->part.p, s->channel_id, 0, s->spec.topic, "", kv, n, NULL);
    if (rc == 0)
        s->in_part = true;
    return rc;
}

int rl__internal_channel_ensure(struct rl_recorder *r, bool markers)
{
    bool *in = markers ? &r->part.markers_in_part : &r->part.health_in_part;
    if (*in)
        return 0;
    int rc = rl_pipeline_add_channel(r->part.p, markers ? r->markers_id : r->health_id, 0,
                                     markers ? "/roadlog/markers" : "/roadlog/health", "json", NULL,
                                     0, NULL);
    if (rc == 0)
        *in = true;
    return rc;
}

int rl__write(struct rl_recorder *r, uint16_t channel_id, uint32_t seq, uint64_t ts_ns,
              const void *data, size_t len)
{
    return rl_pipeline_try_write_message(r->part.p, channel_id, seq, ts_ns, ts_ns, data, len);
}

/* ---- decoder detection ---- */

void rl__decide_decoder(struct rl_recorder *r, struct rl__source *s)
{
    (void)r;
    s->seen = true;
    if (s->spec.decoder[0] || s->decoder[0])
        return;
    const struct rl_decoder *agreed = NULL;
    unsigned frames = 0, decided = 0;
    uint64_t pos = 0;
    const uint8_t *data;
    const struct rl__frame_hdr *h;
    while (frames < DETECT_FRAMES && (h = rl__ring_walk(&s->ring, &pos, &data)) != NULL) {
        frames++;
        struct rl_payload pl = {data, h->len, s->linktype, 0, s->port, h->ts_ns, NULL};
        if (s->linktype != RL_LINKTYPE_PAYLOAD) {
            struct rl_net_frame nf;
            if (rl_net_parse(s->linktype, data, h->len, &nf) < 0 || !(nf.layers & RL_NET_L_UDP) ||
                (nf.layers & RL_NET_L_FRAGMENT))
                continue;
            pl.data = nf.payload;
            pl.len = nf.payload_len;
            pl.src_port = nf.src_port;
            pl.dst_port = nf.dst_port;
        }
        const struct rl_decoder *best = NULL;
        int best_score = DETECT_MIN_SCORE - 1;
        for (size_t i = 0; rl_decoders[i]; i++) {
            int sc = rl_decoders[i]->detect(&pl);
            if (sc > best_score) {
                best_score = sc;
                best = rl_decoders[i];
            }
        }
        if (!best)
            continue;
        if (agreed && agreed != best)
            return; /* mixed content: leave it to per-frame detection on read */
        agreed = best;
        decided++;
    }
    if (agreed && 2 * decided >= frames)
        snprintf(s->decoder, sizeof(s->decoder), "%s", agreed->name);
}

/* ---- parts ---- */

int rl__part_open(struct rl_recorder *r, unsigned number, uint64_t start_ns, char *err,
                  size_t err_len)
{
    struct rl__part *pt = &r->part;
    struct rl_writer *w = NULL;
    struct rl_pipeline *p = NULL;
    int fd = -1, rc;
    char path[RL_REC_PATH_MAX];

    if ((rc = part_path(r, number, path, sizeof(path))) < 0) {
        snprintf(err, err_len, "output path too long");
        return rc;
    }
    if ((rc = rl_writer_open(&w, path, &r->opts.writer)) < 0) {
        snprintf(err, err_len, "cannot create '%s': %s", path, rl_strerror(rc));
        return rc;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, err_len, "cannot open '%s': %s", path, strerror(errno));
        goto fail;
    }
    /* The new name must survive a power cut too, not only the data. */
    if ((rc = sync_dir_of(path)) < 0) {
        snprintf(err, err_len, "cannot sync the directory of '%s': %s", path, strerror(-rc));
        goto fail;
    }
    if ((rc = write_run_metadata(r, w, number)) < 0) {
        snprintf(err, err_len, "cannot write to '%s': %s", path, rl_writer_errmsg(w));
        goto fail;
    }
    if ((rc = rl_pipeline_open(&p, w, r->plan.workers, r->plan.max_inflight)) < 0) {
        snprintf(err, err_len, "cannot start the compression threads: %s", rl_strerror(rc));
        goto fail;
    }
    pthread_mutex_lock(&r->part_lock);
    memset(pt, 0, sizeof(*pt));
    pt->w = w;
    pt->p = p;
    pt->fd = fd;
    pt->number = number;
    pt->start_ns = start_ns;
    pt->end_ns = r->opts.split_ns ? start_ns + r->opts.split_ns : UINT64_MAX;
    snprintf(pt->path, sizeof(pt->path), "%s", path);
    pt->open = true;
    pthread_mutex_unlock(&r->part_lock);

    pthread_mutex_lock(&r->stat_lock);
    r->pub_part = number;
    snprintf(r->pub_path, sizeof(r->pub_path), "%s", path);
    pthread_mutex_unlock(&r->stat_lock);

    for (size_t i = 0; i < r->n_src; i++)
        r->src[i].in_part = false;
    /* Every part names the health channel and each source already seen,
     * so its channel list does not depend on what arrives first. */
    if ((rc = rl__internal_channel_ensure(r, false)) < 0)
        goto fail_open;
    for (size_t i = 0; i < r->n_src; i++)
        if (r->src[i].seen && (rc = rl__channel_ensure(r, &r->src[i])) < 0)
            goto fail_open;
    return 0;
fail_open:
    snprintf(err, err_len, "cannot write to '%s': %s", path, rl_strerror(rc));
    return rc; /* the part is open: the caller closes it as failed */
fail:
    if (p && rl_pipeline_close(p) < 0)
        rc = rc < 0 ? rc : -EIO;
    rl_writer_abort(w);
    if (fd >= 0)
        close(fd);
    return rc;
}

int rl__part_close(struct rl_recorder *r, bool ok)
{
    struct rl__part *pt = &r->part;
    if (!pt->open)
        return 0;
    int rc = 0;
    if (ok) {
        /* A file names every source, also those that sent nothing. */
        for (size_t i = 0; i < r->n_src && rc == 0; i++)
            rc = rl__channel_ensure(r, &r->src[i]);
    }
    pthread_mutex_lock(&r->part_lock);
    int rc_p = rl_pipeline_close(pt->p);
    if (rc == 0)
        rc = rc_p;
    pt->p = NULL;
    uint64_t data_end = rl_writer_file_bytes(pt->w);
    bool complete = false;
    if (ok && rc == 0) {
        rc = rl_writer_close(pt->w);
        complete = rc == 0;
    } else {
        rl_writer_abort(pt->w);
    }
    pt->w = NULL;
    if (!complete) {
        /* Cut back to the last whole record (before a chunk or a summary
         * that did not fit): the file then opens without repair. */
        if (truncate(pt->path, (off_t)data_end) != 0 && rc == 0)
            rc = -errno;
    }
    if (fdatasync(pt->fd) != 0 && rc == 0)
        rc = -errno;
    struct stat st;
    if (fstat(pt->fd, &st) == 0)
        r->closed_bytes += (uint64_t)st.st_size;
    close(pt->fd);
    pt->fd = -1;
    pt->open = false;
    r->parts_closed++;
    if (!complete)
        r->all_complete = false;
    snprintf(r->last_path, sizeof(r->last_path), "%s", pt->path);
    pthread_mutex_unlock(&r->part_lock);
    return rc;
}

/* ---- disk budget ---- */

static uint64_t reserve_bytes(struct rl_recorder *r, uint64_t file_size)
{
    uint64_t chunk = r->opts.writer.chunk_size_bytes;
    uint64_t rings = 0;
    for (size_t i = 0; i < r->n_src; i++)
        rings += rl__ring_used(&r->src[i].ring);
    unsigned inflight = r->part.p ? rl_pipeline_inflight(r->part.p) : 0;
    /* What may still reach the file before it is closed: the chunks in
     * flight, the open one, the frames waiting in the rings, the summary. */
    return ((uint64_t)inflight + 1) * chunk + rings + SUMMARY_RESERVE +
           (file_size >> 30) * SUMMARY_PER_GIB;
}

bool rl__split_due_size(struct rl_recorder *r)
{
    if (!r->opts.split_bytes || !r->part.open)
        return false;
    struct stat st;
    if (fstat(r->part.fd, &st) != 0)
        return false;
    unsigned inflight = rl_pipeline_inflight(r->part.p);
    uint64_t projected = (uint64_t)st.st_size +
                         ((uint64_t)inflight + 1) * r->opts.writer.chunk_size_bytes +
                         SUMMARY_RESERVE;
    return projected >= r->opts.split_bytes;
}

int rl__budget_check(struct rl_recorder *r, uint64_t now_mono)
{
    struct statvfs vfs;
    struct stat st;
    if (!r->part.open || fstat(r->part.fd, &st) != 0 || statvfs(r->dir, &vfs) != 0)
        return 0;
    uint64_t size = (uint64_t)st.st_size;
    uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    uint64_t reserve = reserve_bytes(r, size);
    uint64_t total = r->closed_bytes + size;

    /* File growth rate, smoothed. */
    double rate = 0;
    pthread_mutex_lock(&r->stat_lock);
    if (r->write_rate_mono && now_mono > r->write_rate_mono) {
        double dt = (double)(now_mono - r->write_rate_mono) / 1e9;
        if (dt >= 0.5) {
            double inst = (double)(total - r->write_rate_bytes) / dt;
            r->pub_write_rate = r->pub_write_rate > 0 ? RATE_SMOOTHING * inst +
                                                            (1 - RATE_SMOOTHING) * r->pub_write_rate
                                                      : inst;
            r->write_rate_mono = now_mono;
            r->write_rate_bytes = total;
        }
    } else {
        r->write_rate_mono = now_mono;
        r->write_rate_bytes = total;
    }
    rate = r->pub_write_rate;
    r->pub_file_bytes = total;
    r->pub_disk_free = avail;
    uint64_t usable = avail > r->min_free_bytes + reserve ? avail - r->min_free_bytes - reserve : 0;
    if (r->fsize_limit != UINT64_MAX) {
        uint64_t left = r->fsize_limit > size + reserve ? r->fsize_limit - size - reserve : 0;
        if (left < usable)
            usable = left;
    }
    r->pub_disk_seconds = rate > 1 ? (double)usable / rate : -1;
    pthread_mutex_unlock(&r->stat_lock);

    char a[32], b[32];
    if (avail < r->min_free_bytes + reserve) {
        char c[32];
        rl__rec_set_stop(r, RL_REC_STOP_DISK, -ENOSPC,
                         "only %s free on the file system of '%s' (--min-free %s, and up to %s "
                         "still to write)",
                         human(avail, a, sizeof(a)), r->dir, human(r->min_free_bytes, b, sizeof(b)),
                         human(reserve, c, sizeof(c)));
        return 1;
    }
    if (r->fsize_limit != UINT64_MAX && size + reserve >= r->fsize_limit) {
        rl__rec_set_stop(r, RL_REC_STOP_DISK, -EFBIG,
                         "'%s' reached the file size limit of %s (ulimit -f)", r->part.path,
                         human(r->fsize_limit, a, sizeof(a)));
        return 1;
    }
    return 0;
}
