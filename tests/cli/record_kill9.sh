#!/usr/bin/env bash
# kill -9 of the recorder at 20 random moments while a stream runs (2000
# datagrams/s): every file opens without a repair step, holds a gap-free
# prefix of what the recorder had captured, loses at most the chunk in
# flight plus the fsync interval (0.5 s here, plus 1 s of slack for a loaded
# or sanitized build), and `roadlog recover` completes it into a file that
# passes `check` with the same messages. The moments are random points in
# the stream (the recorder is killed once it has seen a random number of
# frames), so nothing waits for a fixed time. Bounded: 20 runs of at most
# 8000 frames each.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"

RATE=2000
FSYNC_S=0.5
SLACK_S=1.0
RUNS=20
PORT=$((20000 + RANDOM % 20000))
"$UDPSEND" --dest 127.0.0.1:$PORT --count $((RATE * 240)) --rate $RATE --size 500 --fill half \
    --max-seconds 240 >/dev/null &
SENDER=$!
disown $SENDER
trap 'kill -9 $SENDER 2>/dev/null || true; if [[ -n $REC_PID ]]; then kill -9 $REC_PID 2>/dev/null || true; fi; rm -rf "$TMP"' EXIT

for i in $(seq 1 $RUNS); do
    out=$TMP/k$i.mcap
    start_rec -q -o "$out" --source "s=udp:$PORT" --fsync-interval ${FSYNC_S}s --chunk-size 64k
    want=$((1 + RANDOM % 8000))
    wait_seen /s $want
    kill -9 "$REC_PID"
    wait "$REC_PID" 2>/dev/null || true
    REC_PID=
    # Opens as it is, no repair step.
    run 0 "$ROADLOG" info --json "$out"
    cp "$TMP/out" "$TMP/info$i.json"
    # A gap-free prefix of the stream, and no more lost than allowed.
    python3 - "$ROADLOG" "$out" "$want" "$RATE" "$FSYNC_S" "$SLACK_S" <<'EOF' || fail "run $i: $out"
import base64, json, struct, subprocess, sys
roadlog, log, seen, rate, fsync_s, slack_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
out = subprocess.run([roadlog, "cat", "--json", "--channels", "^/s$", log], check=True,
                     capture_output=True, text=True).stdout.splitlines()
seqs = [json.loads(l)["sequence"] for l in out]
vals = [struct.unpack_from("<Q", base64.b64decode(json.loads(l)["data_b64"]))[0] for l in out]
assert seqs == list(range(len(seqs))), "recorder sequence numbers have a gap"
assert all(b == a + 1 for a, b in zip(vals, vals[1:])), "the stream has a hole"
allowed = int(rate * (fsync_s + slack_s))
assert len(seqs) >= seen - allowed, \
    "kept %d of at least %d captured frames (allowed loss %d)" % (len(seqs), seen, allowed)
print("run: captured >= %d, kept %d" % (seen, len(seqs)))
EOF
    # recover completes it: same messages, a complete file.
    "$ROADLOG" recover "$out" -o "$TMP/fixed$i.mcap" >"$TMP/out" 2>"$TMP/err" || rc=$?
    [[ ${rc:-0} -eq 0 || ${rc:-0} -eq 3 ]] || fail "recover of run $i exit ${rc:-0}"
    rc=0
    run 0 "$ROADLOG" check "$TMP/fixed$i.mcap"
    run 0 "$ROADLOG" info --json "$TMP/fixed$i.mcap"
    py 'import json,sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["complete"], "recovered file not complete"
assert a["messages"] == b["messages"], (a["messages"], b["messages"])' "$TMP/info$i.json" "$TMP/out"
    rm -f "$out" "$TMP/fixed$i.mcap"
done
echo "PASS: $RUNS kill -9 runs, every file opened and recovered within the loss bound"
