#!/usr/bin/env bash
# `roadlog record` with udp: sources at realistic rates for 10 s on loopback:
# every datagram sent is in the log, once, in order, with its channel's
# sequence numbers; zero kernel and ring drops in /roadlog/health; markers
# from `roadlog mark`; channel and run metadata; the control socket's status.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"

OUT=$TMP/run.mcap
start_rec -q -o "$OUT" \
    --source lidar/top=udp:0,decoder=velodyne.vlp16,rate=1800 \
    --source lidar/front=udp:0,rate=1500 \
    --source v2x/obu=udp:0,rate=100 \
    --source gnss/main=udp:0,rate=20,replay_dest=udp:127.0.0.1:9999 \
    --meta site=xiantao-data-valley --meta vehicle=car-7 --meta driver=wang \
    --meta route=loop-a --meta weather=dry --meta software=stack-4.2.1

# status answers with every source
"$CTL" "$SOCK" status >"$TMP/status" || fail "status"
py 'import json,sys
d = json.loads(open(sys.argv[1]).read()[3:])
assert d["state"] == "recording" and d["part"] == 1, d
assert [s["topic"] for s in d["sources"]] == ["/lidar/top", "/lidar/front", "/v2x/obu", "/gnss/main"]
assert d["sources"][0]["expected_hz"] == 1800' "$TMP/status"

# 10 s of traffic: LiDAR 1206-byte packets at 1800/s and 1080-byte at
# 1500/s, V2X 300 bytes at 100/s, GNSS 100 bytes at 20/s.
declare -A N=([/lidar/top]=18000 [/lidar/front]=15000 [/v2x/obu]=1000 [/gnss/main]=200)
"$UDPSEND" --dest 127.0.0.1:"$(port_of /lidar/top)" --count 18000 --rate 1800 --size 1206 \
    --fill half --max-seconds 30 >"$TMP/s1" &
S1=$!
"$UDPSEND" --dest 127.0.0.1:"$(port_of /lidar/front)" --count 15000 --rate 1500 --size 1080 \
    --fill half --max-seconds 30 >"$TMP/s2" &
S2=$!
"$UDPSEND" --dest 127.0.0.1:"$(port_of /v2x/obu)" --count 1000 --rate 100 --size 300 \
    --max-seconds 30 >"$TMP/s3" &
S3=$!
"$UDPSEND" --dest 127.0.0.1:"$(port_of /gnss/main)" --count 200 --rate 20 --size 100 \
    --max-seconds 30 >"$TMP/s4" &
S4=$!

# Markers while it records.
wait_seen /lidar/top 3600
run 0 "$ROADLOG" mark --control "$SOCK" takeover-1 "driver took over" at the gate
wait_seen /lidar/top 9000
run 0 "$ROADLOG" mark --control "$SOCK" end-zone

for p in $S1 $S2 $S3 $S4; do wait "$p" || fail "a sender did not send everything"; done
for t in "${!N[@]}"; do wait_seen "$t" "${N[$t]}"; done
stop_rec 0
[[ ! -s $TMP/rec.err ]] || fail "the recorder printed with -q: $(cat "$TMP/rec.err")"

# Every frame, once, in order.
for t in "${!N[@]}"; do $CHECK seq "$OUT" "$t" "${N[$t]}" || fail "frames of $t"; done
# Zero drops in the health account.
for t in "${!N[@]}"; do
    $CHECK health "$OUT" "$t" >"$TMP/h"
    py 'import json,sys
h = json.load(open(sys.argv[1]))
assert h["kernel_drops"] == 0 and h["ring_drops"] == 0, h
assert h["frames"] == int(sys.argv[2]), h' "$TMP/h" "${N[$t]}"
done

run 0 "$ROADLOG" check "$OUT"
run 0 "$ROADLOG" info --json "$OUT"
py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["complete"] and d["salvaged_chunks"] == 0
ch = {c["topic"]: c for c in d["channels"]}
assert ch["/lidar/top"]["messages"] == 18000 and ch["/gnss/main"]["messages"] == 200
assert ch["/lidar/top"]["decoder"] == "velodyne.vlp16"
for t in ("/lidar/top", "/lidar/front", "/v2x/obu", "/gnss/main"):
    assert ch[t].get("dropped", 0) == 0, ch[t]
assert "/roadlog/health" in ch
assert [m["label"] for m in d["markers"]] == ["takeover-1", "end-zone"], d["markers"]
run = d["metadata"]["roadlog.run"]
for k, v in (("site", "xiantao-data-valley"), ("vehicle", "car-7"), ("driver", "wang"),
             ("route", "loop-a"), ("weather", "dry"), ("software", "stack-4.2.1"), ("part", "1")):
    assert run[k] == v, (k, run)
for k in ("run_id", "host", "start_time", "roadlog_version", "command"):
    assert run[k], k
assert "--source lidar/top=udp:0" in run["command"]' "$TMP/out"

# Channel metadata (docs/format.md) and the marker record.
"$ROADLOG" cat --json "$OUT" --channels '^/roadlog/markers$' >"$TMP/markers"
py 'import json,sys,base64
m = [json.loads(l) for l in open(sys.argv[1])]
assert json.loads(base64.b64decode(m[0]["data_b64"])) == \
    {"label": "takeover-1", "note": "driver took over at the gate", "by": "control"}, m[0]' "$TMP/markers"
$CHECK meta "$OUT" /gnss/main >"$TMP/meta"
py 'import json,sys
g = json.load(open(sys.argv[1]))
assert g["linktype"] == "payload" and g["replay_dest"] == "udp:127.0.0.1:9999", g
assert g["interface"].startswith("127.0.0.1:") and "decoder" not in g, g' "$TMP/meta"
$CHECK meta "$OUT" /lidar/top >"$TMP/meta"
py 'import json,sys
l = json.load(open(sys.argv[1]))
assert l["decoder"] == "velodyne.vlp16" and l["replay_dest"].startswith("udp:127.0.0.1:"), l' "$TMP/meta"
echo "PASS: 34200 frames from 4 sources in 10 s, all recorded, zero drops"
