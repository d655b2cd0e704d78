#!/usr/bin/env bash
# Overload: a sequence-numbered stream faster than the machine can keep.
# Whatever is lost is counted, exactly: frames in the log + kernel drops +
# ring drops == frames sent, for a udp: source and for a pcap: source on lo
# (which sees each packet once: PACKET_IGNORE_OUTGOING), with no frame
# twice and sequence gaps equal to the ring drops. A small kernel buffer and
# zstd level 19 on one worker make both kinds of loss happen. Bounded: at
# most 600000 datagrams and 20 s of sending per run.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"

SENT_MAX=600000
overload() { # NAME SOURCE OFFSET
    local name=$1 src=$2 off=$3 port=$4
    local out=$TMP/$name.mcap
    start_rec -q -o "$out" --source "$src" --level 19 --workers 1 --chunk-size 1M \
        --max-memory 400M
    "$UDPSEND" --dest 127.0.0.1:"$port" --count $SENT_MAX --rate 0 --size 1206 --fill random \
        --max-seconds 20 >"$TMP/sent" || true
    local sent
    sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$TMP/sent")
    ((sent > 0)) || fail "nothing sent"
    wait_seen /ov "$sent" 60
    stop_rec 0 120
    $CHECK account "$out" /ov "$sent" --offset "$off" | tee "$TMP/account" ||
        fail "$name: loss not accounted exactly"
    $CHECK health "$out" /ov >"$TMP/h"
    py 'import json,sys
h = json.load(open(sys.argv[1]))
assert h["kernel_drops"] + h["ring_drops"] > 0, "no overload happened: %s" % h' "$TMP/h"
    run 0 "$ROADLOG" check "$out"
}

PORT=$((20000 + RANDOM % 20000))
overload udp "ov=udp:$PORT,buffer=256k" 0 "$PORT"
overload pcap "ov=pcap:lo,filter=udp dst port $PORT,buffer=4M" 42 "$PORT"
echo "PASS: overload accounted exactly on udp: and pcap:lo"
