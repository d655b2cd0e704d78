#!/usr/bin/env bash
# --snapshot D: nothing is written until a marker; a marker at t writes the
# frames of [t - D, t + D] (the last D seconds kept in memory, then what
# follows until D after the last marker) and nothing else; every frame of
# the window, in order, no gap. Without a marker no frame is written.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"

# 1. A marker in the middle of 5 s at 1000 frames/s, D = 1 s.
OUT=$TMP/snap.mcap
start_rec -q -o "$OUT" --source s=udp:0 --snapshot 1s
PORT=$(port_of /s)
"$UDPSEND" --dest 127.0.0.1:$PORT --count 5000 --rate 1000 --size 200 --max-seconds 30 >/dev/null &
SENDER=$!
wait_seen /s 2500
run 0 "$ROADLOG" mark --control "$SOCK" near-miss "pedestrian at the crossing"
wait "$SENDER" || fail "sender"
wait_seen /s 5000
stop_rec 0
python3 - "$ROADLOG" "$OUT" <<'PYEOF' || fail "snapshot window"
import base64, json, struct, subprocess, sys
roadlog, log = sys.argv[1:3]
ms = [json.loads(l) for l in subprocess.run([roadlog, "cat", "--json", log], check=True,
      capture_output=True, text=True).stdout.splitlines()]
mark = [m for m in ms if m["topic"] == "/roadlog/markers"]
assert len(mark) == 1, mark
t = mark[0]["log_time_ns"]
fr = [m for m in ms if m["topic"] == "/s"]
vals = [struct.unpack_from("<Q", base64.b64decode(m["data_b64"]))[0] for m in fr]
times = [m["log_time_ns"] for m in fr]
D = 1000000000
assert fr, "no frames written"
assert min(times) >= t - D and max(times) <= t + D, "frames outside [t-D, t+D]"
assert vals == list(range(vals[0], vals[0] + len(vals))), "a gap in the window"
# The window is full on both sides: the buffer kept the past second (the
# sender runs at 1000/s; 100 ms of slack for a loaded machine).
assert min(times) - (t - D) < 100000000 and (t + D) - max(times) < 100000000, \
    (min(times) - (t - D), (t + D) - max(times))
assert 1500 <= len(vals) <= 2500, len(vals)
print("window of %d frames around the marker" % len(vals))
PYEOF

# 2. No marker: no frame.
start_rec -q -o "$TMP/none.mcap" --source s=udp:0 --snapshot 1s
PORT=$(port_of /s)
"$UDPSEND" --dest 127.0.0.1:$PORT --count 500 --rate 1000 --size 200 --max-seconds 30 >/dev/null
wait_seen /s 500
stop_rec 0
[[ $($CHECK count "$TMP/none.mcap" /s) -eq 0 ]] || fail "frames written without a marker"
run 0 "$ROADLOG" check "$TMP/none.mcap"
echo "PASS: snapshot writes exactly the window around the marker"
