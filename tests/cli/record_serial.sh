#!/usr/bin/env bash
# The serial: source on a pseudo-terminal pair (rl_ptyfeed plays a GNSS
# receiver): NMEA sentences and UBX NAV-PVT frames, with line noise in
# between, are recorded frame by frame: one message per frame, bytes
# exactly as sent, in order, noise skipped; linktype "payload"; the mixed
# stream gets no single decoder hint, so each frame is detected on read.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"
[[ -x $PTYFEED ]] || { echo "SKIP: rl_ptyfeed not built"; exit 77; }

FRAMES=400
"$PTYFEED" --control "$SOCK" --topic /gnss/main --frames $FRAMES --expect "$TMP/expect" \
    --deadline 60 >"$TMP/feed" &
FEED=$!
deadline=$((SECONDS + 20))
until [[ -s $TMP/feed ]]; do
    ((SECONDS < deadline)) || fail "rl_ptyfeed did not open a pty"
    read -r -t 0.05 <>"$TMP/feed" || true
done
PTS=$(head -1 "$TMP/feed")
[[ -c $PTS ]] || fail "not a tty: $PTS"
OUT=$TMP/gnss.mcap
start_rec -q -o "$OUT" --source "gnss/main=serial:$PTS,baud=115200,rate=10"
wait "$FEED" || fail "rl_ptyfeed: $(cat "$TMP/feed")"
stop_rec 0

python3 - "$ROADLOG" "$OUT" "$TMP/expect" <<'PYEOF' || fail "frames differ"
import base64, json, subprocess, sys
roadlog, log, expect = sys.argv[1:4]
out = subprocess.run([roadlog, "cat", "--json", "--channels", "^/gnss/main$", log], check=True,
                     capture_output=True, text=True).stdout.splitlines()
got = [base64.b64decode(json.loads(l)["data_b64"]).hex() for l in out]
want = open(expect).read().split()
assert len(got) == len(want), "%d frames, expected %d" % (len(got), len(want))
for i, (g, w) in enumerate(zip(got, want)):
    assert g == w, "frame %d: %s != %s" % (i, g[:40], w[:40])
assert [json.loads(l)["sequence"] for l in out] == list(range(len(want)))
print("%d frames identical (NMEA and UBX)" % len(got))
PYEOF
"$ROADLOG" cat --decode --json "$OUT" --channels '^/gnss/main$' >"$TMP/dec"
py 'import json,sys
types = [json.loads(l)["decoded"].get("type") for l in open(sys.argv[1])]
assert types[0] == "nmea.GGA" and types[1] == "ubx.NAV-PVT", types[:4]' "$TMP/dec"
run 0 "$ROADLOG" info --json "$OUT"
py 'import json,sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["channels"] if c["topic"] == "/gnss/main"][0]
assert c["messages"] == 400 and c.get("dropped", 0) == 0, c' "$TMP/out"
echo "PASS: serial pty recorded frame by frame"
