#!/usr/bin/env bash
# bench/run.sh: roadlog's MCAP write and read speed beside the zstd
# command-line tool's compress and decompress speed, at the same level, on
# the same payload bytes (synthetic VLP-16 packets from rl_bench_mcap).
#
#   bash bench/run.sh [--bytes N[K|M|G]] [--level N] [--repeat N] [--keep]
#
# How it measures (best of --repeat runs on each side, hot page cache):
#   roadlog  rl_bench_mcap: write = rl_writer_open .. rl_writer_close to a
#            file, from packets already in memory; read = rl_reader_open ..
#            close, every message in log-time order; 2-worker write = the
#            same through the chunk pipeline (recorder/pipeline.h).
#   zstd     wall time of `zstd -LEVEL -T1 -f payload -o payload.zst` (a
#            file written, as roadlog writes one) and of
#            `zstd -d -c payload.zst > /dev/null` (nothing written, as
#            roadlog's read); the tool as a user runs it, with its default
#            content checksum, like roadlog's CRC-32s.
#   zstd -b  for reference only (no target): the tool's in-memory benchmark
#            `zstd -bLEVEL -i3 -B4194304` on the same payload, the bare codec
#            on 4 MiB blocks like roadlog's chunks: no file I/O, no framing.
#   info     wall time of `roadlog info LOG` on the log just written
#            (hyperfine when installed, else the median of 20 runs).
# MB/s is payload bytes (10^6) per second. The figures in README.md come from
# the default 1 GiB.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${ROADLOG_BENCH_BUILD:-$ROOT/build-release}
BYTES=1G
LEVEL=3
REPEAT=3
KEEP=0

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --bytes) BYTES=${2:?--bytes needs a value}; shift 2 ;;
    --level) LEVEL=${2:?--level needs a value}; shift 2 ;;
    --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1'" >&2; usage >&2; exit 1 ;;
    esac
done
case "$LEVEL" in '' | *[!0-9]*) echo "bench/run.sh: bad --level '$LEVEL'" >&2; exit 1 ;; esac
case "$REPEAT" in '' | *[!0-9]* | 0) echo "bench/run.sh: bad --repeat '$REPEAT'" >&2; exit 1 ;; esac
command -v zstd >/dev/null || { echo "bench/run.sh: the zstd tool is missing (bash scripts/setup-deps.sh)" >&2; exit 2; }

# ---- work files ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/roadlog-bench.XXXXXX")
cleanup() {
    if [ "$KEEP" = 1 ]; then
        echo "work files kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build (Release) if needed ----
# quietly CMD...: runs CMD, showing its output only when it fails.
quietly() {
    "$@" >"$WORK/build.log" 2>&1 || {
        cat "$WORK/build.log" >&2
        echo "bench/run.sh: '$*' failed" >&2
        exit 2
    }
}
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    gen=()
    command -v ninja >/dev/null && gen=(-G Ninja)
    quietly cmake -S "$ROOT" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release
fi
quietly cmake --build "$BUILD" --target rl_bench_mcap roadlog
BENCH=$(find "$BUILD" -type f -name rl_bench_mcap -perm -u+x | head -n1)
ROADLOG=$(find "$BUILD" -type f -name roadlog -perm -u+x | head -n1)
[ -n "$BENCH" ] && [ -n "$ROADLOG" ] || { echo "bench/run.sh: build did not produce rl_bench_mcap and roadlog" >&2; exit 2; }

now_ns() { date +%s%N; }
# best_of N CMD...: the fastest of N runs, in seconds; output to /dev/null.
best_of() {
    local n=$1 best="" t0 t1 dt
    shift
    for _ in $(seq "$n"); do
        t0=$(now_ns)
        "$@" >/dev/null
        t1=$(now_ns)
        dt=$((t1 - t0))
        if [ -z "$best" ] || [ "$dt" -lt "$best" ]; then best=$dt; fi
    done
    awk -v ns="$best" 'BEGIN { printf "%.4f", ns / 1e9 }'
}
# jget KEY FILE: a number from rl_bench_mcap's flat JSON object.
jget() { sed -n "s/.*\"$1\": \([-0-9.eE+]*\).*/\1/p" "$2" | head -n1; }

echo "roadlog bench: $BYTES of VLP-16 packets, zstd level $LEVEL, best of $REPEAT" >&2
"$BENCH" --bytes "$BYTES" --level "$LEVEL" --repeat "$REPEAT" --threads 2 \
    --out "$WORK/bench.mcap" --dump-payload "$WORK/payload.bin" --dir "$WORK" --json >"$WORK/bench.json"

ultra=()
[ "$LEVEL" -gt 19 ] && ultra=(--ultra)
zstd_c() { zstd -q "${ultra[@]}" "-$LEVEL" -T1 -f "$WORK/payload.bin" -o "$WORK/payload.zst"; }
zstd_d() { zstd -q -d -c "$WORK/payload.zst"; }
ZC_S=$(best_of "$REPEAT" zstd_c)
ZD_S=$(best_of "$REPEAT" zstd_d)
# "... (x1.296),  190.1 MB/s,  852.9 MB/s" on its last progress line.
read -r ZB_C ZB_D < <(zstd "${ultra[@]}" "-b$LEVEL" -i3 -B4194304 "$WORK/payload.bin" 2>&1 | tr '\r' '\n' |
    sed -n 's/.*), *\([0-9.]*\) MB\/s, *\([0-9.]*\) MB\/s.*/\1 \2/p' | tail -n1)

INFO_HOW="median of 20 runs"
if command -v hyperfine >/dev/null; then
    hyperfine -N -w 3 -r 20 --export-json "$WORK/info.json" "$ROADLOG info $WORK/bench.mcap" >/dev/null 2>&1
    INFO_MS=$(sed -n 's/.*"median": \([0-9.eE+-]*\).*/\1/p' "$WORK/info.json" | head -n1 |
        awk '{ printf "%.2f", $1 * 1e3 }')
    INFO_HOW="hyperfine median of 20 runs"
else
    "$ROADLOG" info "$WORK/bench.mcap" >/dev/null
    for _ in $(seq 20); do
        t0=$(now_ns)
        "$ROADLOG" info "$WORK/bench.mcap" >/dev/null
        t1=$(now_ns)
        echo $((t1 - t0))
    done | sort -n | sed -n '10p' >"$WORK/info.ns"
    INFO_MS=$(awk '{ printf "%.2f", $1 / 1e6 }' "$WORK/info.ns")
fi

J=$WORK/bench.json
PAYLOAD=$(jget payload_bytes "$J")
MSGS=$(jget messages "$J")
FILE=$(jget file_bytes "$J")
ZFILE=$(stat -c %s "$WORK/payload.zst")

awk -v payload="$PAYLOAD" -v msgs="$MSGS" -v level="$LEVEL" -v rep="$REPEAT" \
    -v file="$FILE" -v zfile="$ZFILE" \
    -v w="$(jget write_s "$J")" -v r="$(jget read_s "$J")" -v mt="$(jget write_mt_s "$J")" \
    -v zc="$ZC_S" -v zd="$ZD_S" -v zbc="${ZB_C:-0}" -v zbd="${ZB_D:-0}" -v info="$INFO_MS" -v info_lib="$(jget info_ms_median "$J")" \
    -v info_how="$INFO_HOW" -v zver="$(zstd -V | sed -n 's/.* v\([0-9.]*\).*/\1/p')" '
function mb(s) { return payload / 1e6 / s }
function row(name, rs, zname, zs, target,   ratio) {
    ratio = zs / rs
    printf "| %s | %.0f MB/s, %.0f msg/s | %s %.0f MB/s | %.2fx | %s %s |\n",
        name, mb(rs), msgs / rs, zname, mb(zs), ratio, target, (ratio >= substr(target, 4) + 0) ? "ok" : "MISSED"
}
BEGIN {
    printf "%.0f MB of VLP-16 packets (%d x 1206 B), zstd level %d, 4 MiB chunks, best of %d; ", payload / 1e6, msgs, level, rep
    printf "log %.0f MB (zstd tool: %.0f MB); zstd %s\n\n", file / 1e6, zfile / 1e6, zver
    print "| | roadlog | zstd CLI, same level, same bytes | ratio | target |"
    print "|---|---|---|---|---|"
    row("write, 1 thread", w, "compress -T1", zc, ">= 0.9")
    row("read, log-time order", r, "decompress", zd, ">= 0.9")
    row("write, 2 compression workers", mt, "compress -T1", zc, ">= 1.6")
    if (zbc > 0 && zbd > 0)
        printf "| (reference: `zstd -b%d`, in memory, 4 MiB blocks) | write %.2fx, read %.2fx of it | compress %.0f MB/s, decompress %.0f MB/s | | no target |\n", level, mb(w) / zbc, mb(r) / zbd, zbc, zbd
    printf "| `roadlog info` on this log | %.2f ms (%s; library alone %.2f ms) | | | < 50 ms %s |\n", info, info_how, info_lib, (info < 50) ? "ok" : "MISSED"
}'
