#!/usr/bin/env bash
# scripts/demo.sh: the first README command. Installs what is missing,
# builds roadlog (Release) and runs the round trip on a generated log:
#   make a 64 MiB log of synthetic VLP-16 LiDAR packets (rl_bench_mcap),
#   roadlog info, cat, check; cut the file mid-chunk as a power loss would;
#   roadlog info and check on the cut file, roadlog recover, check again.
# The files stay in out/demo/ for a look afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${ROADLOG_BUILD:-build-release}
OUT=out/demo

bash scripts/setup-deps.sh
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD" --target roadlog rl_bench_mcap
ROADLOG=$(find "$BUILD" -type f -name roadlog -perm -u+x | head -n1)
BENCH=$(find "$BUILD" -type f -name rl_bench_mcap -perm -u+x | head -n1)
mkdir -p "$OUT"
rm -f "$OUT"/*.mcap

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# expect CODES CMD...: runs CMD and fails unless its exit code is in CODES.
expect() {
    local codes=$1 rc=0
    shift
    "$@" || rc=$?
    case " $codes " in
    *" $rc "*) ;;
    *) echo "demo: '$*' exited $rc (expected $codes)" >&2; exit 1 ;;
    esac
}

step "make a log: 64 MiB of VLP-16 packets, 754 packets/s ($OUT/demo.mcap)"
"$BENCH" --bytes 64M --repeat 1 --out "$OUT/demo.mcap"

step "roadlog info $OUT/demo.mcap"
"$ROADLOG" info "$OUT/demo.mcap"

step "roadlog cat $OUT/demo.mcap | head -n 5"
set +o pipefail
"$ROADLOG" cat "$OUT/demo.mcap" | head -n 5
st=${PIPESTATUS[0]}
set -o pipefail
# 141: cat stopped by SIGPIPE when head had its lines.
[ "$st" -eq 0 ] || [ "$st" -eq 141 ] || { echo "demo: roadlog cat exited $st" >&2; exit 1; }

step "roadlog check $OUT/demo.mcap"
expect 0 "$ROADLOG" check "$OUT/demo.mcap"

size=$(stat -c %s "$OUT/demo.mcap")
step "cut it at byte $((size * 2 / 3)) of $size, as a power loss would ($OUT/cut.mcap)"
head -c $((size * 2 / 3)) "$OUT/demo.mcap" >"$OUT/cut.mcap"
expect "0 3" "$ROADLOG" info "$OUT/cut.mcap"
echo "(check reports the damage with exit code 3)"
expect "3" "$ROADLOG" check "$OUT/cut.mcap"

step "roadlog recover $OUT/cut.mcap -o $OUT/recovered.mcap"
expect "0 3" "$ROADLOG" recover "$OUT/cut.mcap" -o "$OUT/recovered.mcap"

step "roadlog check $OUT/recovered.mcap"
expect 0 "$ROADLOG" check "$OUT/recovered.mcap"
"$ROADLOG" info "$OUT/recovered.mcap"

step "round trip done: logs in $OUT/"
