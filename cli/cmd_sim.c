/* `roadlog sim`: the test-zone simulator (sim/, docs/sim.md) on the command
 * line. Two ways to run it:
 *
 *   live   the frames go out as UDP datagrams to 127.0.0.1 (or --dest), one
 *          port per source, at the pace of their timestamps (scaled by
 *          --rate), until --duration or SIGINT/SIGTERM. Pacing uses
 *          absolute CLOCK_MONOTONIC deadlines (anchor + time / rate, slept
 *          with clock_nanosleep TIMER_ABSTIME), never summed sleeps; a
 *          signal only sets a flag, and the loop then stops and reports.
 *   file   -o OUT.mcap writes the same run straight into a log, as fast as
 *          the disk allows: one channel per source with the metadata a
 *          recorder writes for udp: sources (or for a loopback capture with
 *          --ethernet), /roadlog/markers, the roadlog.run metadata and the
 *          chassis DBC as an attachment; chunks are compressed on a worker
 *          thread (the recorder's pipeline, byte-identical output).
 *          --pcap OUT.pcapng writes the frames as Ethernet/IPv4/UDP on
 *          loopback addresses (CAN frames as SocketCAN) for other tools.
 *
 * Both end with the per-channel counts of what was sent (--json: one JSON
 * document), so a test can check that nothing was lost. The same --seed
 * (and --start-time) gives the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "roadlog/decode.h"
#include "roadlog/jsonw.h"
#include "roadlog/net.h"
#include "roadlog/pcapio.h"
#include "roadlog/pipeline.h"
#include "roadlog/sim.h"

#ifndef RL_VERSION
#define RL_VERSION "unknown"
#endif

#define CMD                      "sim"
#define TMP_SUFFIX               ".tmp"
#define NS_PER_S                 1000000000ull
#define NS_PER_MS                1000000ull
#define DEFAULT_FILE_DURATION_NS (60 * NS_PER_S)
#define RATE_MIN                 0.001
#define RATE_MAX                 1000.0
#define PORT_MAX                 65535u
#define SNDBUF_BYTES             (4 << 20)
#define SEND_RETRIES             50
#define SEND_RETRY_NS            (200 * 1000ull)
#define PROGRESS_NS              (500 * NS_PER_MS)
#define PROGRESS_FRAMES          4096
#define PIPELINE_WORKERS         1
#define JSON_LIMIT_BYTES         (1u << 20)
#define ETH_FRAME_MAX                                                                              \
    (RL_SIM_MAX_FRAME_BYTES + RL_ETH_HEADER_LEN + RL_IPV4_HEADER_LEN + RL_UDP_HEADER_LEN)
#define ETH_IFACE    "lo"
#define CAN_IFACE    "vcan0"
#define LOOPBACK_TTL 64
#define META_MAX     6
#define META_TEXT    64

enum {
    OPT_DURATION = CLI_OPT_LOCAL,
    OPT_RATE,
    OPT_SEED,
    OPT_DEST,
    OPT_PCAP,
    OPT_ETHERNET,
    OPT_START_TIME,
    OPT_PORT_OFFSET,
};

static const char help_text[] =
    "usage: roadlog sim [--duration D] [--rate X] [--seed N] [--dest HOST] [--port-offset N]\n"
    "       roadlog sim -o OUT.mcap [--ethernet] [--pcap OUT.pcapng] [--duration D] [--seed N]\n"
    "                   [--compression zstd|lz4|none] [--level N] [--chunk-size BYTES]\n"
    "       common: [--start-time T] [--json] [-q]\n"
    "\n"
    "The test-zone simulator: one vehicle driving a 2.3 km loop through Xiantao Data\n"
    "Valley (Chongqing) with its sensors, three-plus remote vehicles and an RSU at an\n"
    "intersection, every frame byte-exact (docs/sim.md):\n"
    "  /lidar/top           UDP 2368  Velodyne VLP-16 data, 753.5 packets/s\n"
    "  /lidar/top/position  UDP 8308  VLP-16 position packets ($GPRMC, PPS)\n"
    "  /lidar/front         UDP 2369  Hesai Pandar40P, 10 Hz, 1800 packets/s\n"
    "  /gnss/main           UDP 9001  NMEA: GN GGA/RMC/VTG/HDT 10 Hz, BD GGA/RMC 1 Hz\n"
    "  /v2x/obu             UDP 9101  C-V2X (T/CSAE 53) BSM, SPAT, RSM, MAP, RSI\n"
    "                                 in the Hisense OBU framing\n"
    "  /can/chassis         UDP 9301  SocketCAN frames (16 bytes, id big-endian):\n"
    "                                 speed 100 Hz, steering 50, brake 20, gear 10\n"
    "  /roadlog/markers               markers at notable moments (logs only)\n"
    "\n"
    "Live (default): sends to HOST (127.0.0.1) in real time until --duration or\n"
    "Ctrl-C, then prints the frames and bytes sent per channel.\n"
    "  --rate X             time scale: 2 runs twice as fast (default 1)\n"
    "  --dest HOST          destination address (default 127.0.0.1)\n"
    "  --port-offset N      add N to every port (default 0)\n"
    "\n"
    "Files: -o writes the run into a log as fast as the disk allows (default\n"
    "duration 60 s), with channel metadata as `roadlog record` writes for udp:\n"
    "sources, /roadlog/markers, metadata roadlog.run and the DBC attachment\n"
    "roadlog_chassis.dbc.\n"
    "  -o, --output OUT     the log to write (as OUT.tmp, renamed when complete)\n"
    "  --ethernet           store Ethernet/IPv4/UDP frames on loopback (linktype 1;\n"
    "                       CAN as linktype 227) instead of UDP payloads\n"
    "  --pcap FILE          also (or only) write the frames to a pcapng file\n"
    "                       (Ethernet/IPv4/UDP, CAN as SocketCAN)\n" CLI_WRITER_OPTS_HELP "\n"
    "  --duration D         simulated time: 90, 90s, 1m30s (live default: until\n"
    "                       interrupted)\n"
    "  --seed N             the run's seed (default 1): same seed, same bytes\n"
    "  --start-time T       UTC start, 2026-11-21T08:30:00Z (default: from the seed;\n"
    "                       live: now)\n"
    "  --json               print the counts as one JSON document\n"
    "  -q, --quiet          no progress line, no summary\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit codes: 0 ok (also when stopped by SIGINT/SIGTERM), 1 usage error,\n"
    "2 output or network error.\n";

static const struct cli_opt options[] = {
    {"help", 'h', false, CLI_OPT_HELP},
    {"quiet", 'q', false, CLI_OPT_QUIET},
    {"json", 0, false, CLI_OPT_JSON},
    {"output", 'o', true, CLI_OPT_OUTPUT},
    {"duration", 0, true, OPT_DURATION},
    {"rate", 0, true, OPT_RATE},
    {"seed", 0, true, OPT_SEED},
    {"dest", 0, true, OPT_DEST},
    {"pcap", 0, true, OPT_PCAP},
    {"ethernet", 0, false, OPT_ETHERNET},
    {"start-time", 0, true, OPT_START_TIME},
    {"port-offset", 0, true, OPT_PORT_OFFSET},
    CLI_WRITER_OPTS,
    {NULL, 0, false, 0},
};

/* Set by the SIGINT/SIGTERM handler, read by the live loop. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct counts {
    uint64_t frames, bytes;
};

struct sim_run {
    const char *out, *pcap, *dest;
    bool json, quiet, ethernet, live;
    double rate;
    uint64_t seed, duration_ns, start_ns;
    bool start_given;
    unsigned port_offset;
    struct rl_writer_options wo;
    struct rl_sim *sim;
    /* file outputs */
    char *tmp;
    bool tmp_made;
    struct rl_writer *w;
    struct rl_pipeline *pipe;
    uint16_t channel[RL_SIM_N_SOURCES];
    uint32_t seq[RL_SIM_N_SOURCES];
    struct rl_pcap_writer *pw;
    uint32_t iface_eth, iface_can;
    uint16_t ip_id;
    uint8_t eth[ETH_FRAME_MAX];
    /* live */
    int fd;
    struct sockaddr_storage to[RL_SIM_N_SOURCES];
    socklen_t to_len;
    uint64_t send_errors;
    /* results */
    struct counts count[RL_SIM_N_SOURCES];
    uint64_t sim_ns; /* simulated time covered */
    bool interrupted;
    double wall_s;
    struct cli_progress prog;
};

static uint16_t port_of(const struct sim_run *r, int s)
{
    const struct rl_sim_source_info *si = rl_sim_source_info(s);
    return si->port ? (uint16_t)(si->port + r->port_offset) : 0;
}

/* CLOCK_MONOTONIC cannot fail on Linux; 0 if it did (pacing then sends at once). */
static uint64_t mono_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ---- option values ---- */

static int parse_rate(const char *flag, const char *val, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(val, &end);
    if (errno != 0 || end == val || *end != '\0' || !(v >= RATE_MIN && v <= RATE_MAX))
        return cli_usage_err(CMD, "bad value '%s' for %s: expected a time scale from %g to %g", val,
                             flag, RATE_MIN, RATE_MAX);
    *out = v;
    return 0;
}

/* ---- frames as Ethernet/IPv4/UDP on loopback ---- */

/* The frame stored or captured for f: the UDP payload wrapped in
 * Ethernet/IPv4/UDP from and to 127.0.0.1 (zero MACs, source port = the
 * destination port, as the sensors send), or the CAN frame as it is. */
static int wrap_frame(struct sim_run *r, const struct rl_sim_frame *f, const uint8_t **data,
                      size_t *len)
{
    const struct rl_sim_source_info *si = rl_sim_source_info(f->source);
    if (si->can) {
        *data = f->data;
        *len = f->len;
        return 0;
    }
    struct rl_net_udp_spec spec;
    memset(&spec, 0, sizeof(spec));
    static const uint8_t loopback[4] = {127, 0, 0, 1};
    memcpy(spec.ip_src, loopback, 4);
    memcpy(spec.ip_dst, loopback, 4);
    spec.src_port = spec.dst_port = port_of(r, f->source);
    spec.ttl = LOOPBACK_TTL;
    spec.ip_id = r->ip_id++;
    spec.dont_fragment = true;
    spec.udp_checksum = true;
    int rc = rl_net_build_udp_eth(&spec, f->data, f->len, r->eth, sizeof(r->eth), len);
    if (rc < 0) {
        cli_err(CMD, "building the Ethernet frame of a %zu-byte %s payload failed: %s", f->len,
                si->topic, rl_strerror(rc));
        return rc;
    }
    *data = r->eth;
    return 0;
}

/* ---- the log ---- */

static int add_channels(struct sim_run *r)
{
    for (int s = 0; s < RL_SIM_N_SOURCES; s++) {
        const struct rl_sim_source_info *si = rl_sim_source_info(s);
        struct rl_kv kv[META_MAX];
        char iface[META_TEXT], dest[META_TEXT], filter[META_TEXT], lt[16];
        size_t n = 0;
        const char *encoding = "";
        if (s == RL_SIM_SRC_MARKERS) {
            encoding = "json";
        } else {
            uint16_t port = port_of(r, s);
            kv[n++] = (struct rl_kv){"decoder", si->decoder};
            if (r->ethernet && !si->can) {
                snprintf(filter, sizeof(filter), "udp dst port %u", port);
                kv[n++] = (struct rl_kv){"filter", filter};
            }
            if (r->ethernet)
                snprintf(iface, sizeof(iface), "%s", si->can ? CAN_IFACE : ETH_IFACE);
            else
                snprintf(iface, sizeof(iface), "udp:%u", port);
            kv[n++] = (struct rl_kv){"interface", iface};
            if (r->ethernet)
                snprintf(lt, sizeof(lt), "%d",
                         si->can ? RL_LINKTYPE_CAN_SOCKETCAN : RL_LINKTYPE_ETHERNET);
            else
                snprintf(lt, sizeof(lt), "payload");
            kv[n++] = (struct rl_kv){"linktype", lt};
            if (r->ethernet && si->can)
                snprintf(dest, sizeof(dest), "can:%s", CAN_IFACE);
            else
                snprintf(dest, sizeof(dest), "udp:127.0.0.1:%u", port);
            kv[n++] = (struct rl_kv){"replay_dest", dest};
        }
        int rc = rl_pipeline_add_channel(r->pipe, 0, 0, si->topic, encoding, kv, n, &r->channel[s]);
        if (rc < 0) {
            cli_err(CMD, "adding channel '%s' failed: %s", si->topic, rl_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int write_run_metadata(struct sim_run *r)
{
    char seed[24], start[CLI_ISO_LEN], dur[32], cmdline[256], run_id[64], ports[16];
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)r->seed);
    cli_format_iso(r->start_ns, start, sizeof(start));
    snprintf(dur, sizeof(dur), "%.3f", (double)r->duration_ns / (double)NS_PER_S);
    snprintf(cmdline, sizeof(cmdline), "roadlog sim --seed %llu --duration %ss --start-time %s%s",
             (unsigned long long)r->seed, dur, start, r->ethernet ? " --ethernet" : "");
    snprintf(run_id, sizeof(run_id), "sim-%llu-%llu", (unsigned long long)r->seed,
             (unsigned long long)(r->start_ns / NS_PER_S));
    snprintf(ports, sizeof(ports), "%u", r->port_offset);
    const struct rl_kv kv[] = {
        {"site", RL_SIM_SITE},   {"vehicle", RL_SIM_VEHICLE},
        {"route", RL_SIM_ROUTE}, {"driver", "simulated"},
        {"weather", "clear"},    {"seed", seed},
        {"run_id", run_id},      {"part", "1"},
        {"start_time", start},   {"duration_s", dur},
        {"port_offset", ports},  {"roadlog_version", RL_VERSION},
        {"command", cmdline},
    };
    int rc = rl_pipeline_write_metadata(r->pipe, "roadlog.run", kv, sizeof(kv) / sizeof(kv[0]));
    if (rc < 0) {
        cli_err(CMD, "writing metadata to '%s' failed: %s", r->tmp, rl_strerror(rc));
        return rc;
    }
    size_t dbc_len;
    const char *dbc = rl_sim_dbc(&dbc_len);
    rc = rl_pipeline_write_attachment(r->pipe, r->start_ns, r->start_ns, RL_SIM_DBC_NAME,
                                      RL_SIM_DBC_MEDIA_TYPE, dbc, dbc_len);
    if (rc < 0)
        cli_err(CMD, "writing the DBC attachment to '%s' failed: %s", r->tmp, rl_strerror(rc));
    return rc;
}

static int open_log(struct sim_run *r)
{
    size_t n = strlen(r->out);
    r->tmp = malloc(n + sizeof(TMP_SUFFIX));
    if (!r->tmp) {
        cli_err(CMD, "out of memory");
        return -ENOMEM;
    }
    memcpy(r->tmp, r->out, n);
    memcpy(r->tmp + n, TMP_SUFFIX, sizeof(TMP_SUFFIX));
    int rc = rl_writer_open(&r->w, r->tmp, &r->wo);
    if (rc < 0) {
        cli_err(CMD, "cannot create '%s': %s", r->tmp, rl_strerror(rc));
        return rc;
    }
    r->tmp_made = true;
    rc = rl_pipeline_open(&r->pipe, r->w, PIPELINE_WORKERS, 0);
    if (rc < 0) {
        cli_err(CMD, "starting the compression thread failed: %s", rl_strerror(rc));
        return rc;
    }
    rc = add_channels(r);
    if (rc == 0)
        rc = write_run_metadata(r);
    return rc;
}

/* fsync(2) of the finished file before it is renamed into place. */
static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) != 0 ? -errno : 0;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

static int close_log(struct sim_run *r)
{
    char why[256];
    int rc = rl_pipeline_close(r->pipe);
    r->pipe = NULL;
    if (rc < 0) {
        cli_err(CMD, "writing '%s' failed: %s", r->tmp, rl_strerror(rc));
        rl_writer_abort(r->w);
        r->w = NULL;
        return rc;
    }
    rc = rl_writer_close(r->w);
    if (rc < 0) {
        snprintf(why, sizeof(why), "%s", rl_strerror(rc));
        r->w = NULL;
        cli_err(CMD, "finishing '%s' failed: %s", r->tmp, why);
        return rc;
    }
    r->w = NULL;
    rc = sync_file(r->tmp);
    if (rc == 0 && rename(r->tmp, r->out) != 0)
        rc = -errno;
    if (rc < 0) {
        cli_err(CMD, "finishing '%s' failed: %s", r->out, rl_strerror(rc));
        return rc;
    }
    r->tmp_made = false;
    return 0;
}

static int open_pcap(struct sim_run *r)
{
    int rc = rl_pcap_writer_open(&r->pw, r->pcap, NULL);
    if (rc == 0)
        rc = rl_pcap_writer_add_iface(r->pw, RL_LINKTYPE_ETHERNET, 0, ETH_IFACE, &r->iface_eth);
    if (rc == 0)
        rc =
            rl_pcap_writer_add_iface(r->pw, RL_LINKTYPE_CAN_SOCKETCAN, 0, CAN_IFACE, &r->iface_can);
    if (rc < 0)
        cli_err(CMD, "cannot create '%s': %s", r->pcap,
                r->pw ? rl_pcap_writer_errmsg(r->pw) : rl_strerror(rc));
    return rc;
}

/* Writes a frame to the log and/or the capture. */
static int put_file_frame(struct sim_run *r, const struct rl_sim_frame *f)
{
    const uint8_t *data = f->data;
    size_t len = f->len;
    bool can = rl_sim_source_info(f->source)->can;
    bool wrap = f->source != RL_SIM_SRC_MARKERS && (r->ethernet || r->pcap);
    if (wrap) {
        int rc = wrap_frame(r, f, &data, &len);
        if (rc < 0)
            return rc;
    }
    if (r->pipe) {
        const uint8_t *d = r->ethernet ? data : f->data;
        size_t l = r->ethernet ? len : f->len;
        int rc = rl_pipeline_write_message(r->pipe, r->channel[f->source], r->seq[f->source]++,
                                           f->log_time_ns, f->publish_time_ns, d, l);
        if (rc < 0) {
            char why[256];
            rl_pipeline_errmsg(r->pipe, why, sizeof(why));
            cli_err(CMD, "writing '%s' failed: %s", r->tmp, why[0] ? why : rl_strerror(rc));
            return rc;
        }
    }
    if (r->pw && f->source != RL_SIM_SRC_MARKERS) {
        int rc = rl_pcap_writer_write(r->pw, can ? r->iface_can : r->iface_eth, f->log_time_ns,
                                      data, (uint32_t)len, (uint32_t)len);
        if (rc < 0) {
            cli_err(CMD, "writing '%s' failed: %s", r->pcap, rl_pcap_writer_errmsg(r->pw));
            return rc;
        }
    }
    return 0;
}

static int run_file(struct sim_run *r)
{
    int rc = 0;
    if (r->out && (rc = open_log(r)) < 0)
        return rc;
    if (r->pcap && (rc = open_pcap(r)) < 0)
        return rc;
    uint64_t t0 = mono_ns();
    struct rl_sim_frame f;
    uint64_t n = 0;
    while ((rc = rl_sim_next(r->sim, &f)) == 1) {
        r->count[f.source].frames++;
        r->count[f.source].bytes += f.len;
        rc = put_file_frame(r, &f);
        if (rc < 0)
            return rc;
        if (++n % PROGRESS_FRAMES == 0)
            cli_progress_show(&r->prog, "sim: %.1f of %.1f s simulated",
                              (double)f.time_ns / (double)NS_PER_S,
                              (double)r->duration_ns / (double)NS_PER_S);
    }
    cli_progress_clear(&r->prog);
    if (rc < 0) {
        cli_err(CMD, "simulation failed: %s", rl_sim_errmsg(r->sim));
        return rc;
    }
    r->sim_ns = r->duration_ns;
    if (r->out && (rc = close_log(r)) < 0)
        return rc;
    if (r->pw) {
        rc = rl_pcap_writer_close(r->pw);
        r->pw = NULL;
        if (rc < 0) {
            cli_err(CMD, "finishing '%s' failed: %s", r->pcap, rl_strerror(rc));
            return rc;
        }
    }
    r->wall_s = (double)(mono_ns() - t0) / (double)NS_PER_S;
    return 0;
}

/* ---- live ---- */

static int open_socket(struct sim_run *r)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    int grc = getaddrinfo(r->dest, NULL, &hints, &ai);
    if (grc != 0 || !ai) {
        cli_err(CMD, "cannot resolve '%s': %s", r->dest, gai_strerror(grc));
        if (ai)
            freeaddrinfo(ai);
        return -EINVAL;
    }
    int rc = 0;
    r->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (r->fd < 0) {
        rc = -errno;
        cli_err(CMD, "cannot open a UDP socket: %s", strerror(errno));
        goto done;
    }
    int sndbuf = SNDBUF_BYTES;
    if (setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0)
        cli_err(CMD, "warning: cannot enlarge the send buffer: %s", strerror(errno));
    r->to_len = (socklen_t)ai->ai_addrlen;
    for (int s = 0; s < RL_SIM_N_SOURCES; s++) {
        memcpy(&r->to[s], ai->ai_addr, ai->ai_addrlen);
        uint16_t port = htons(port_of(r, s));
        if (ai->ai_family == AF_INET6)
            ((struct sockaddr_in6 *)(void *)&r->to[s])->sin6_port = port;
        else
            ((struct sockaddr_in *)(void *)&r->to[s])->sin_port = port;
    }
done:
    freeaddrinfo(ai);
    return rc;
}

/* Sleeps until the absolute CLOCK_MONOTONIC deadline; false when a stop
 * was requested meanwhile. */
static bool sleep_until(uint64_t deadline_ns)
{
    struct timespec ts = {(time_t)(deadline_ns / NS_PER_S), (long)(deadline_ns % NS_PER_S)};
    while (!stop_requested) {
        int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (rc == 0)
            return !stop_requested;
        if (rc != EINTR)
            return !stop_requested; /* cannot sleep: send now */
    }
    return false;
}

static void send_frame(struct sim_run *r, const struct rl_sim_frame *f)
{
    for (int attempt = 0; attempt <= SEND_RETRIES; attempt++) {
        ssize_t n = sendto(r->fd, f->data, f->len, 0, (const struct sockaddr *)&r->to[f->source],
                           r->to_len);
        if (n == (ssize_t)f->len) {
            r->count[f->source].frames++;
            r->count[f->source].bytes += f->len;
            return;
        }
        if (n >= 0 || (errno != EINTR && errno != ENOBUFS && errno != EAGAIN))
            break;
        if (errno != EINTR && !sleep_until(mono_ns() + SEND_RETRY_NS))
            break;
    }
    r->send_errors++;
}

static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGTERM, &sa, NULL) != 0) {
        cli_err(CMD, "cannot install signal handlers: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

static int run_live(struct sim_run *r)
{
    int rc = open_socket(r);
    if (rc < 0)
        return rc;
    rc = install_signals();
    if (rc < 0)
        return rc;
    uint64_t anchor = mono_ns(), next_progress = anchor + PROGRESS_NS;
    bool exact = r->rate == 1.0;
    struct rl_sim_frame f;
    while (!stop_requested && (rc = rl_sim_next(r->sim, &f)) == 1) {
        uint64_t off = exact ? f.time_ns : (uint64_t)((double)f.time_ns / r->rate);
        uint64_t deadline = anchor + off;
        if (deadline > mono_ns() && !sleep_until(deadline))
            break;
        r->sim_ns = f.time_ns;
        if (f.source == RL_SIM_SRC_MARKERS) {
            r->count[f.source].frames++;
            r->count[f.source].bytes += f.len;
            continue;
        }
        send_frame(r, &f);
        uint64_t now = mono_ns();
        if (now >= next_progress) {
            uint64_t total = 0;
            for (int s = 0; s < RL_SIM_N_SOURCES; s++)
                total += r->count[s].frames;
            cli_progress_show(&r->prog, "sim: %.1f s simulated, %llu frames sent to %s",
                              (double)f.time_ns / (double)NS_PER_S, (unsigned long long)total,
                              r->dest);
            next_progress = now + PROGRESS_NS;
        }
    }
    cli_progress_clear(&r->prog);
    r->wall_s = (double)(mono_ns() - anchor) / (double)NS_PER_S;
    if (rc < 0) {
        cli_err(CMD, "simulation failed: %s", rl_sim_errmsg(r->sim));
        return rc;
    }
    r->interrupted = stop_requested != 0;
    if (!r->interrupted)
        r->sim_ns = r->duration_ns;
    return 0;
}

/* ---- the report ---- */

static int report_json(const struct sim_run *r)
{
    struct rl_jw w;
    char start[CLI_ISO_LEN];
    rl_jw_init(&w, JSON_LIMIT_BYTES);
    rl_jw_obj_begin(&w);
    rl_jw_kstr(&w, "mode", r->live ? "live" : "file");
    rl_jw_ku64(&w, "seed", r->seed);
    rl_jw_kstr(&w, "start_time", cli_format_iso(r->start_ns, start, sizeof(start)));
    rl_jw_ku64(&w, "start_ns", r->start_ns);
    rl_jw_kdouble(&w, "duration_s", (double)r->sim_ns / (double)NS_PER_S, 12);
    rl_jw_kdouble(&w, "wall_s", r->wall_s, 6);
    if (r->live) {
        rl_jw_kstr(&w, "dest", r->dest);
        rl_jw_kdouble(&w, "rate", r->rate, 6);
        rl_jw_kbool(&w, "interrupted", r->interrupted);
        rl_jw_ku64(&w, "send_errors", r->send_errors);
    } else {
        if (r->out)
            rl_jw_kstr(&w, "output", r->out);
        if (r->pcap)
            rl_jw_kstr(&w, "pcap", r->pcap);
        rl_jw_kdouble(&w, "speed_x", r->wall_s > 0 ? (double)r->sim_ns / 1e9 / r->wall_s : 0, 6);
    }
    uint64_t frames = 0, bytes = 0;
    rl_jw_key(&w, "channels");
    rl_jw_arr_begin(&w);
    for (int s = 0; s < RL_SIM_N_SOURCES; s++) {
        if (s == RL_SIM_SRC_MARKERS)
            continue;
        rl_jw_obj_begin(&w);
        rl_jw_kstr(&w, "topic", rl_sim_source_info(s)->topic);
        rl_jw_ku64(&w, "port", port_of(r, s));
        rl_jw_ku64(&w, "frames", r->count[s].frames);
        rl_jw_ku64(&w, "bytes", r->count[s].bytes);
        rl_jw_obj_end(&w);
        frames += r->count[s].frames;
        bytes += r->count[s].bytes;
    }
    rl_jw_arr_end(&w);
    rl_jw_ku64(&w, "frames", frames);
    rl_jw_ku64(&w, "bytes", bytes);
    rl_jw_ku64(&w, "markers", r->count[RL_SIM_SRC_MARKERS].frames);
    rl_jw_obj_end(&w);
    int rc = 0;
    size_t len;
    const char *s = rl_jw_str_out(&w, &len);
    if (rl_jw_failed(&w) || fwrite(s, 1, len, stdout) != len || fputc('\n', stdout) == EOF)
        rc = -EIO;
    rl_jw_release(&w);
    return rc;
}

static int report_text(const struct sim_run *r)
{
    char start[CLI_ISO_LEN];
    double sim_s = (double)r->sim_ns / (double)NS_PER_S;
    if (r->live)
        printf("roadlog sim: %.1f s simulated in %.1f s (rate %g) to %s%s, seed %llu, start %s\n",
               sim_s, r->wall_s, r->rate, r->dest, r->interrupted ? ", interrupted" : "",
               (unsigned long long)r->seed, cli_format_iso(r->start_ns, start, sizeof(start)));
    else
        printf("roadlog sim: %.1f s simulated in %.2f s (%.1fx) into %s%s%s, seed %llu, start %s\n",
               sim_s, r->wall_s, r->wall_s > 0 ? sim_s / r->wall_s : 0.0, r->out ? r->out : "",
               r->out && r->pcap ? " and " : "", r->pcap ? r->pcap : "",
               (unsigned long long)r->seed, cli_format_iso(r->start_ns, start, sizeof(start)));
    printf("  %-22s %6s %10s %14s\n", "topic", "port", "frames", "bytes");
    uint64_t frames = 0, bytes = 0;
    for (int s = 0; s < RL_SIM_N_SOURCES; s++) {
        uint16_t port = port_of(r, s);
        char p[8];
        snprintf(p, sizeof(p), port ? "%u" : "-", port);
        printf("  %-22s %6s %10llu %14llu\n", rl_sim_source_info(s)->topic, p,
               (unsigned long long)r->count[s].frames, (unsigned long long)r->count[s].bytes);
        if (s != RL_SIM_SRC_MARKERS) {
            frames += r->count[s].frames;
            bytes += r->count[s].bytes;
        }
    }
    printf("  %-22s %6s %10llu %14llu\n", "total (without markers)", "", (unsigned long long)frames,
           (unsigned long long)bytes);
    if (r->send_errors)
        printf("  %llu frames could not be sent\n", (unsigned long long)r->send_errors);
    return ferror(stdout) ? -EIO : 0;
}

/* ---- the command ---- */

static int parse_args(struct sim_run *r, int argc, char **argv, const char **pos)
{
    struct cli_parser p;
    cli_parser_init(&p, CMD, argc, argv, pos);
    int id, rc;
    const char *val, *flag;
    bool rate_given = false, dest_given = false, duration_given = false;
    uint64_t v;
    while ((rc = cli_parser_next(&p, options, &id, &val, &flag)) == 1) {
        switch (id) {
        case CLI_OPT_HELP:
            return -2;
        case CLI_OPT_QUIET:
            r->quiet = true;
            break;
        case CLI_OPT_JSON:
            r->json = true;
            break;
        case CLI_OPT_OUTPUT:
            r->out = val;
            break;
        case OPT_PCAP:
            r->pcap = val;
            break;
        case OPT_ETHERNET:
            r->ethernet = true;
            break;
        case OPT_DURATION:
            if (cli_parse_duration(val, &r->duration_ns) < 0 || r->duration_ns == 0)
                return cli_usage_err(CMD,
                                     "bad value '%s' for %s: expected a positive duration "
                                     "(90, 90s, 1m30s)",
                                     val, flag);
            duration_given = true;
            break;
        case OPT_RATE:
            if (parse_rate(flag, val, &r->rate) != 0)
                return CLI_EXIT_USAGE;
            rate_given = true;
            break;
        case OPT_SEED:
            if (cli_parse_u64(val, &r->seed) < 0)
                return cli_usage_err(CMD, "bad value '%s' for %s: expected an integer", val, flag);
            break;
        case OPT_DEST:
            if (!val[0])
                return cli_usage_err(CMD, "empty value for %s", flag);
            r->dest = val;
            dest_given = true;
            break;
        case OPT_START_TIME: {
            struct cli_time t;
            if (cli_parse_time(val, &t) < 0 || t.kind != CLI_TIME_ABSOLUTE || t.ns == 0)
                return cli_usage_err(CMD,
                                     "bad value '%s' for %s: expected a UTC time "
                                     "(2026-11-21T08:30:00Z)",
                                     val, flag);
            r->start_ns = t.ns;
            r->start_given = true;
            break;
        }
        case OPT_PORT_OFFSET: {
            unsigned top = rl_sim_source_info(RL_SIM_SRC_CAN)->port;
            if (cli_parse_u64(val, &v) < 0 || v > PORT_MAX - top)
                return cli_usage_err(CMD, "bad value '%s' for %s: expected 0 to %u", val, flag,
                                     PORT_MAX - top);
            r->port_offset = (unsigned)v;
            break;
        }
        default:
            if (cli_writer_opt(&r->wo, CMD, id, flag, val) < 0)
                return CLI_EXIT_USAGE;
            break;
        }
    }
    if (rc < 0)
        return CLI_EXIT_USAGE;
    if (p.n_pos > 0)
        return cli_usage_err(CMD, "unexpected argument '%s'", pos[0]);
    if ((r->out && !r->out[0]) || (r->pcap && !r->pcap[0]))
        return cli_usage_err(CMD, "empty output file name");
    r->live = !r->out && !r->pcap;
    if (r->ethernet && !r->out)
        return cli_usage_err(CMD, "--ethernet applies to -o OUT.mcap");
    if (!r->live && rate_given)
        return cli_usage_err(CMD, "--rate applies to live mode; -o and --pcap write as fast "
                                  "as they can");
    if (!r->live && dest_given)
        return cli_usage_err(CMD, "--dest applies to live mode, not to -o or --pcap");
    if (r->out && r->pcap && strcmp(r->out, r->pcap) == 0)
        return cli_usage_err(CMD, "-o and --pcap name the same file");
    if (!r->live && !duration_given)
        r->duration_ns = DEFAULT_FILE_DURATION_NS;
    return 0;
}

int cmd_sim(int argc, char **argv)
{
    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    struct sim_run *r = calloc(1, sizeof(*r));
    int exit_code = CLI_EXIT_OK;
    if (!pos || !r) {
        cli_err(CMD, "out of memory");
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    r->fd = -1;
    r->rate = 1.0;
    r->seed = 1;
    r->dest = "127.0.0.1";
    rl_writer_options_init(&r->wo);
    int prc = parse_args(r, argc, argv, pos);
    if (prc == -2) {
        exit_code = cli_help(help_text);
        goto done;
    }
    if (prc != 0) {
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    if (!r->start_given) {
        if (r->live) {
            struct timespec ts;
            if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
                cli_err(CMD, "cannot read the clock: %s", strerror(errno));
                exit_code = CLI_EXIT_INPUT;
                goto done;
            }
            r->start_ns = (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
        } else {
            r->start_ns = rl_sim_default_start_ns(r->seed);
        }
    }
    struct rl_sim_options so;
    rl_sim_options_init(&so);
    so.seed = r->seed;
    so.start_time_ns = r->start_ns;
    so.duration_ns = r->duration_ns;
    char why[256];
    int rc = rl_sim_new(&r->sim, &so, why, sizeof(why));
    if (rc < 0) {
        cli_err(CMD, "cannot start the simulator: %s", why[0] ? why : rl_strerror(rc));
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    cli_progress_init(&r->prog, r->quiet || r->json);
    rc = r->live ? run_live(r) : run_file(r);
    if (rc < 0) {
        exit_code = CLI_EXIT_INPUT;
        goto done;
    }
    if (r->json)
        rc = report_json(r);
    else if (!r->quiet)
        rc = report_text(r);
    if (rc < 0)
        exit_code = CLI_EXIT_INPUT; /* main reports the stdout failure */
done:
    if (r) {
        if (r->pipe) {
            int crc = rl_pipeline_close(r->pipe);
            (void)crc; /* already failing: the first error was reported */
        }
        rl_writer_abort(r->w);
        if (r->pw) {
            int crc = rl_pcap_writer_close(r->pw);
            (void)crc;
        }
        if (r->tmp_made && unlink(r->tmp) != 0 && errno != ENOENT)
            cli_err(CMD, "warning: removing '%s' failed: %s", r->tmp, strerror(errno));
        if (r->fd >= 0 && close(r->fd) != 0)
            cli_err(CMD, "warning: closing the socket failed: %s", strerror(errno));
        rl_sim_free(r->sim);
        free(r->tmp);
    }
    free(r);
    free(pos);
    return exit_code;
}
