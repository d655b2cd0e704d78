#!/usr/bin/env bash
# The pcap: source on lo: VLP-16-shaped packets to port 2368 at 2000/s for
# 3 s are all recorded once (PACKET_IGNORE_OUTGOING: lo carries each packet
# twice), as Ethernet frames (linktype 1) with the channel metadata of
# docs/format.md (interface, filter, snaplen, replay_dest iface:lo) and the
# decoder detected from the first frames ("velodyne"); `cat --decode`
# decodes them. A bad filter is a usage error naming the filter.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"

N=6000
OUT=$TMP/pcap.mcap
start_rec -q -o "$OUT" --source "lidar/top=pcap:lo,filter=udp dst port 2368"
"$UDPSEND" --dest 127.0.0.1:2368 --count $N --rate 2000 --velodyne --max-seconds 30 >/dev/null ||
    fail "sender"
wait_seen /lidar/top $N
stop_rec 0
$CHECK seq "$OUT" /lidar/top $N --offset 42 --velodyne || fail "pcap frames"
$CHECK health "$OUT" /lidar/top >"$TMP/h"
py 'import json,sys
h = json.load(open(sys.argv[1]))
assert h["kernel_drops"] == 0 and h["ring_drops"] == 0 and h["frames"] == 6000, h' "$TMP/h"
run 0 "$ROADLOG" info --json "$OUT"
py 'import json,sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["channels"] if c["topic"] == "/lidar/top"][0]
assert c["linktype"] in (1, "1") and c["decoder"].startswith("velodyne"), c' "$TMP/out"
"$ROADLOG" cat --decode --json "$OUT" --channels '^/lidar/top$' | head -1 >"$TMP/dec"
py 'import json,sys
d = json.loads(open(sys.argv[1]).read())["decoded"]
assert d["type"].startswith("velodyne"), d' "$TMP/dec"
$CHECK meta "$OUT" /lidar/top >"$TMP/meta"
py 'import json,sys
m = json.load(open(sys.argv[1]))
assert m == {"decoder": "velodyne", "filter": "udp dst port 2368", "interface": "lo",
             "linktype": "1", "replay_dest": "iface:lo", "snaplen": "65535"}, m' "$TMP/meta"

run 1 "$ROADLOG" record -q -o "$TMP/bad.mcap" --control "$TMP/bad.sock" \
    --source "x=pcap:lo,filter=udp prot 1"
one_stderr_line
contains "bad filter 'udp prot 1'"
echo "PASS: pcap:lo recorded every packet once, detected velodyne"
