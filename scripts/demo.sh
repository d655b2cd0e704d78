#!/usr/bin/env bash
# scripts/demo.sh: the first README command. Installs what is missing,
# builds roadlog (Release) and runs the round trip on the built-in simulator:
#   roadlog sim -o: 20 s of the test zone (VLP-16, Pandar40P, GNSS, C-V2X,
#   CAN) straight into a log; roadlog info, cat --decode, check; cut the
#   file mid-chunk as a power loss would;
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
cmake --build "$BUILD" --target roadlog
ROADLOG=$(find "$BUILD" -type f -name roadlog -perm -u+x | head -n1)
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

step "roadlog sim -o $OUT/demo.mcap: 20 s of the test zone, written straight into a log"
"$ROADLOG" sim --duration 20s --seed 1 -o "$OUT/demo.mcap"

step "roadlog info $OUT/demo.mcap"
"$ROADLOG" info "$OUT/demo.mcap"

step "roadlog cat --decode $OUT/demo.mcap (a frame of each source)"
set +o pipefail
for topic in /lidar/top /lidar/front /gnss/main /v2x/obu /can/chassis; do
    "$ROADLOG" cat --decode --channels "^$topic\$" "$OUT/demo.mcap" | head -n 1 | cut -c1-300
done
set -o pipefail

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
