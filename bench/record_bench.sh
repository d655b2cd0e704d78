#!/usr/bin/env bash
# bench/record_bench.sh: how fast `roadlog record` keeps up, beside
# `tcpdump -w`, on loopback with 1206-byte packets (a VLP-16's size).
#
#   bash bench/record_bench.sh [--rates "50000 100000 ..."] [--seconds S]
#                              [--max-memory BYTES] [--build DIR]
#
# For each rate (packets per second) rl_udpsend (tests/recorder) sends
# rate x S VLP-16 data packets (1206 bytes: the real layout, with distances
# and reflectivities that vary like a scene's, so they compress about 1.5:1
# at zstd level 1, as real ones do) to a port on lo, and
#   roadlog  records them with `--source lidar=pcap:lo,filter=udp dst port P`
#            (zstd, the recorder's default level 1, --max-memory), and again
#            with a udp: source;
#            drops = kernel drops + ring drops from the log's last
#            /roadlog/health, checked against the frames in the log;
#            memory = VmHWM of the recorder from /proc, read before it exits,
#            which must stay under --max-memory;
#   tcpdump  `tcpdump -i lo -w F -B <same kernel buffer> 'inbound and udp dst
#            port P'` (no compression); drops = what tcpdump reports as
#            "dropped by kernel"; beside it, how many packets sent are not in
#            F (tcpdump 4.99 / libpcap 1.10 here always miss the first 196:
#            its first ring block, counted "received by filter", never
#            written, not counted as dropped either).
# Between runs the page cache is written back (sync), so one run's
# writeback does not slow the next.
# Each run is bounded in count and time. When `unshare -n` works (root) the
# whole bench runs in a private network namespace, so nothing else shares
# its lo. Prints a table (with the rate the sender achieved in each run: on
# a small machine the sender, the kernel and the recorder share the CPUs)
# and, for each recorder, the highest rate before the first one with drops.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${ROADLOG_BENCH_BUILD:-$ROOT/build}
RATES="50000 100000 150000 200000 250000 300000 350000 400000"
SECONDS_PER_RUN=3
MAXMEM=256M
PCAP_BUF_KIB=65536

while [ $# -gt 0 ]; do
    case "$1" in
    --rates) RATES=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --max-memory) MAXMEM=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 1 ;;
    esac
done

if [[ -z ${RL_BENCH_NETNS:-} ]] && command -v unshare >/dev/null && command -v ip >/dev/null &&
    unshare -n true 2>/dev/null; then
    RL_BENCH_NETNS=1 ROADLOG_BENCH_BUILD=$BUILD exec unshare -n bash "$0" --rates "$RATES" \
        --seconds "$SECONDS_PER_RUN" --max-memory "$MAXMEM" --build "$BUILD"
fi
[[ -n ${RL_BENCH_NETNS:-} ]] && ip link set lo up

ROADLOG=$BUILD/roadlog
SEND=$BUILD/tests/recorder/rl_udpsend
CTL=$BUILD/tests/recorder/rl_ctl
for f in "$ROADLOG" "$SEND" "$CTL"; do
    [[ -x $f ]] || { echo "missing $f (build first)" >&2; exit 2; }
done
command -v tcpdump >/dev/null || { echo "tcpdump not installed (apt-get install tcpdump)" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/roadlog-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PORT=2368
MAXMEM_BYTES=$(numfmt --from=iec "$MAXMEM")

sent_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$1"; }

# roadlog_run RATE SOURCE: prints "drops vmhwm_kib recorded"
roadlog_run() {
    local rate=$1 src=$2 count=$(($1 * SECONDS_PER_RUN))
    local sock=$TMP/ctl.sock out=$TMP/r.mcap
    rm -f "$out" "$sock"
    "$ROADLOG" record -q -o "$out" --source "$src" --max-memory "$MAXMEM" --control "$sock" \
        2>"$TMP/r.err" &
    local pid=$!
    "$CTL" "$sock" status 20 >/dev/null || { cat "$TMP/r.err" >&2; exit 2; }
    "$SEND" --dest 127.0.0.1:$PORT --count "$count" --rate "$rate" --velodyne \
        --max-seconds $((SECONDS_PER_RUN * 4)) >"$TMP/sent" || true
    local sent
    sent=$(sent_of "$TMP/sent")
    "$CTL" "$sock" --until-seen /lidar "$sent" 30 >/dev/null 2>&1 || true
    local hwm
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    "$CTL" "$sock" quit >/dev/null
    wait "$pid"
    "$ROADLOG" cat --json --channels '^/roadlog/health$' "$out" | tail -1 | python3 -c '
import base64, json, sys
h = json.loads(base64.b64decode(json.loads(sys.stdin.read())["data_b64"]))["sources"][0]
sent = int(sys.argv[1])
drops = h["kernel_drops"] + h["ring_drops"]
assert h["frames"] + drops == sent, "unaccounted: %s, sent %d" % (h, sent)
print(drops, sys.argv[2], h["frames"], sent, h["kernel_drops"], h["ring_drops"])' "$sent" "$hwm"
}

# tcpdump_run RATE: prints "drops sent" (drops = sent - packets in the file)
tcpdump_run() {
    local rate=$1 count=$(($1 * SECONDS_PER_RUN))
    rm -f "$TMP/t.pcap"
    tcpdump -i lo -w "$TMP/t.pcap" -B $PCAP_BUF_KIB "inbound and udp dst port $PORT" \
        2>"$TMP/t.err" &
    local pid=$! deadline=$((SECONDS + 20))
    until grep -q "listening on" "$TMP/t.err"; do
        ((SECONDS < deadline)) || { cat "$TMP/t.err" >&2; exit 2; }
        read -r -t 0.02 <> <(:) || true
    done
    "$SEND" --dest 127.0.0.1:$PORT --count "$count" --rate "$rate" --velodyne \
        --max-seconds $((SECONDS_PER_RUN * 4)) >"$TMP/sent" || true
    # tcpdump's blocks are handed over after its 1 s timeout: let the last
    # one come out before stopping it (else it is lost at exit, uncounted).
    read -r -t 1.5 <> <(:) || true
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" || true
    local sent got
    sent=$(sent_of "$TMP/sent")
    got=$(tcpdump -r "$TMP/t.pcap" 2>/dev/null | wc -l)
    echo "$(grep -o '[0-9]* packets dropped by kernel' "$TMP/t.err" | cut -d' ' -f1)" "$sent" \
        $((sent - got))
}

achieved() { python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["rate"]))' "$TMP/sent"; }

printf '%-9s | %-30s | %-30s | %-34s\n' "" "roadlog pcap:lo (zstd)" "roadlog udp: (zstd)" \
    "tcpdump -w (no compression)"
printf '%-9s | %-9s %-10s %-9s | %-9s %-10s %-9s | %-9s %-24s\n' "rate pps" "sent pps" "drops" \
    "VmHWM MiB" "sent pps" "drops" "VmHWM MiB" "sent pps" "drops (not in file)"
best_pcap=0 best_udp=0 best_tcpdump=0 over_mem=0
ok_pcap=1 ok_udp=1 ok_tcpdump=1
for rate in $RATES; do
    sync
    read -r d_pcap hwm_pcap _ _ kd_pcap rd_pcap < <(roadlog_run "$rate" "lidar=pcap:lo,filter=udp dst port $PORT")
    a_pcap=$(achieved)
    [[ -n ${RL_BENCH_VERBOSE:-} ]] && echo "pcap: kernel $kd_pcap ring $rd_pcap" >&2
    sync
    read -r d_udp hwm_udp _ _ kd_udp rd_udp < <(roadlog_run "$rate" "lidar=udp:$PORT")
    a_udp=$(achieved)
    [[ -n ${RL_BENCH_VERBOSE:-} ]] && echo "udp: kernel $kd_udp ring $rd_udp" >&2
    sync
    read -r d_tcp _ miss_tcp < <(tcpdump_run "$rate")
    a_tcp=$(achieved)
    printf '%-9s | %-9s %-10s %-9s | %-9s %-10s %-9s | %-9s %-24s\n' "$rate" "$a_pcap" "$d_pcap" \
        "$((hwm_pcap / 1024))" "$a_udp" "$d_udp" "$((hwm_udp / 1024))" "$a_tcp" "$d_tcp ($miss_tcp)"
    for h in $hwm_pcap $hwm_udp; do
        ((h * 1024 <= MAXMEM_BYTES)) || over_mem=1
    done
    # The highest rate before the first one with drops.
    ((d_pcap == 0 && ok_pcap)) && best_pcap=$rate || ok_pcap=0
    ((d_udp == 0 && ok_udp)) && best_udp=$rate || ok_udp=0
    ((d_tcp == 0 && ok_tcpdump)) && best_tcpdump=$rate || ok_tcpdump=0
done
echo
echo "zero drops up to (the rate before the first with drops): roadlog pcap:lo $best_pcap pps," \
    "roadlog udp: $best_udp pps, tcpdump -w $best_tcpdump pps"
echo "recorder memory (VmHWM) $( ((over_mem)) && echo "EXCEEDED" || echo "stayed under") --max-memory $MAXMEM at every rate"
((over_mem == 0))
