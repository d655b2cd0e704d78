#!/usr/bin/env bash
# `roadlog sim` live on loopback: a receiver of our own (sim_recv.py) binds
# the simulator's ports, shifted by an offset it finds free, on 127.0.0.1;
# the simulator runs for 2 s (then once more until SIGINT, and once until
# SIGTERM) and the datagrams and bytes received per port must equal the
# counts it prints. Everything is bounded in time: the receiver's start is
# an event read from a FIFO with a deadline, the simulator runs under
# timeout(1), the receiver stops by itself at its own deadline.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python
HERE=$(cd "$(dirname "$0")" && pwd)
DEADLINE_S=20

# The ports, from a short file run.
run 0 "$ROADLOG" sim -o "$TMP/p.mcap" --duration 0.1s --json
PORTS=$(python3 -c 'import json,sys; print(",".join(str(c["port"]) for c in json.load(open(sys.argv[1]))["channels"]))' "$TMP/out")

# live_run NAME SIM-ARGS...: starts a receiver, runs the simulator with the
# receiver's port offset, stops the receiver, compares the counts.
live_run() {
    local name=$1
    shift
    local fifo=$TMP/$name.fifo done=$TMP/$name.done counts=$TMP/$name.counts
    mkfifo "$fifo"
    exec 3<>"$fifo" # read-write: opening does not wait for the writer
    timeout -k 5 90 python3 "$HERE/sim_recv.py" --ports "$PORTS" --ready "$fifo" \
        --done "$done" --counts "$counts" --timeout 60 &
    local recv=$!
    local off=""
    read -r -t "$DEADLINE_S" -u 3 off || fail "$name: the receiver did not start"
    exec 3<&-
    [[ $off =~ ^[0-9]+$ ]] || fail "$name: bad offset '$off'"
    local rc=0
    "$@" --port-offset "$off" --json >"$TMP/$name.json" 2>"$TMP/err" || rc=$?
    touch "$done"
    wait "$recv" || fail "$name: the receiver failed or timed out"
    [[ $rc -eq 0 ]] || fail "$name: roadlog sim exited $rc"
    cp "$TMP/$name.json" "$TMP/out"
    py '
import json, sys
c = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2])); mode = sys.argv[3]
assert c["mode"] == "live" and c["dest"] == "127.0.0.1" and c["send_errors"] == 0, c
assert not r["timed_out"]
for ch in c["channels"]:
    got = r["ports"][str(ch["port"])]
    assert ch["port"] - r["offset"] in (2368, 8308, 2369, 9001, 9101, 9301), ch
    assert got == {"frames": ch["frames"], "bytes": ch["bytes"]}, (ch, got)
    assert ch["frames"] > 0, ch
if mode == "duration":
    assert not c["interrupted"] and c["duration_s"] == 2, c
    assert 1.9 < c["wall_s"] < 10, c  # paced in real time
    lidar = [x for x in c["channels"] if x["topic"] == "/lidar/top"][0]
    assert lidar["frames"] == 1508, lidar  # 2 s / 1327.104 us
else:
    assert c["interrupted"] and 0.5 < c["duration_s"] < 30, c
' "$TMP/$name.json" "$counts" "$name"
}

# 2 s at the real pace.
live_run duration "$ROADLOG" sim --duration 2s
# Until Ctrl-C (SIGINT), then until SIGTERM, at twice the pace: a clean stop,
# exit 0, the counts of what was sent.
live_run sigint timeout --preserve-status -s INT -k 10 1.5 "$ROADLOG" sim --rate 2
live_run sigterm timeout --preserve-status -s TERM -k 10 1.5 "$ROADLOG" sim
echo "sim_live: ok"
