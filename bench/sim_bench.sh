#!/usr/bin/env bash
# bench/sim_bench.sh: how much faster than real time `roadlog sim -o` writes a
# run with all sources (two LiDARs, GNSS, V2X, CAN; about 3.2 MB/s of frames)
# into a zstd log, on this machine.
#
#   bash bench/sim_bench.sh [--duration D] [--repeat N] [--min X] [--keep]
#
#   --duration D  simulated time (default 10m)
#   --repeat N    runs; the fastest counts (default 1)
#   --min X       exit 3 when the factor is below X (default 20; 0: never)
#   --keep        keep the log
#
# The time is the wall-clock time of the whole command as a user runs it:
# start-up, simulation, compression (one worker thread), the writes and the
# final fsync. The factor is simulated seconds per wall-clock second.
# ROADLOG=path/to/roadlog uses that binary; else the script builds
# build-release (Release) like bench/run.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${ROADLOG_BENCH_BUILD:-$ROOT/build-release}
DURATION=10m
REPEAT=1
MIN=20
KEEP=0

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --duration) DURATION=${2:?--duration needs a value}; shift 2 ;;
    --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
    --min) MIN=${2:?--min needs a value}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/sim_bench.sh: unknown option '$1'" >&2; usage >&2; exit 1 ;;
    esac
done
case "$REPEAT" in '' | *[!0-9]* | 0) echo "bench/sim_bench.sh: bad --repeat '$REPEAT'" >&2; exit 1 ;; esac
case "$MIN" in '' | *[!0-9.]*) echo "bench/sim_bench.sh: bad --min '$MIN'" >&2; exit 1 ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roadlog-sim-bench.XXXXXX")
cleanup() {
    if [ "$KEEP" = 1 ]; then
        echo "log kept in $WORK/sim.mcap" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${ROADLOG:-}" ]; then
    if [ ! -f "$BUILD/CMakeCache.txt" ]; then
        gen=()
        command -v ninja >/dev/null && gen=(-G Ninja)
        cmake -S "$ROOT" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release >"$WORK/build.log" 2>&1 ||
            { cat "$WORK/build.log" >&2; exit 2; }
    fi
    cmake --build "$BUILD" --target roadlog >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 2; }
    ROADLOG=$BUILD/roadlog
fi
[ -x "$ROADLOG" ] || { echo "bench/sim_bench.sh: no roadlog binary at $ROADLOG" >&2; exit 2; }

best=""
for i in $(seq "$REPEAT"); do
    rm -f "$WORK/sim.mcap"
    t0=$(date +%s%N)
    "$ROADLOG" sim -o "$WORK/sim.mcap" --duration "$DURATION" --json >"$WORK/run.json"
    t1=$(date +%s%N)
    dt=$((t1 - t0))
    if [ -z "$best" ] || [ "$dt" -lt "$best" ]; then best=$dt; fi
done

read -r SIM_S FRAMES BYTES < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["duration_s"], c["frames"], c["bytes"])' "$WORK/run.json")
FILE=$(stat -c %s "$WORK/sim.mcap")
awk -v sim="$SIM_S" -v ns="$best" -v frames="$FRAMES" -v bytes="$BYTES" -v file="$FILE" \
    -v cpus="$(nproc 2>/dev/null || echo ?)" -v rep="$REPEAT" -v min="$MIN" 'BEGIN {
    wall = ns / 1e9
    printf "roadlog sim -o: %.0f s simulated (all sources) in %.2f s wall, best of %d, %s CPUs\n", sim, wall, rep, cpus
    printf "  frames %d, payload %.1f MB, log %.1f MB (zstd level 3)\n", frames, bytes / 1e6, file / 1e6
    printf "  factor: %.1fx faster than real time (target: %sx)\n", sim / wall, min
    exit (min > 0 && sim / wall < min) ? 3 : 0
}'
