#!/usr/bin/env bash
# `roadlog import` / `roadlog export` on the real captures of ../shared/data:
# every pcap and pcapng imported and exported back (as pcapng and as pcap)
# gives the same packets, bytes and timestamps as `tshark -r` shows for the
# original; a classic pcap comes back byte for byte; the Ford candump log
# comes back line for line (direction flags included); NMEA/UBX byte logs
# import one message per frame; cut-off and garbage inputs are reported
# with the documented exit codes. Needs tshark (skips with 77 without it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python

REAL=${RL_REAL_DATA:-$DATA/real}
[[ -d $REAL ]] || { echo "SKIP: $REAL not found"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not found (apt-get install tshark)"; exit 77; }

# The packets of a capture as tshark sees them: time, wire length, captured
# length, and a hex dump of every frame.
packets() {
    tshark -r "$1" -T fields -e frame.time_epoch -e frame.len -e frame.cap_len 2>/dev/null \
        >"$2.fields" || fail "tshark cannot read $1"
    tshark -r "$1" -x 2>/dev/null | grep -E '^[0-9a-f]{4}  ' >"$2.hex" || true
    [[ -s $2.fields ]] || fail "tshark shows no packets in $1"
}

same_packets() {
    local orig=$1 copy=$2
    packets "$orig" "$TMP/a"
    packets "$copy" "$TMP/b"
    cmp -s "$TMP/a.fields" "$TMP/b.fields" ||
        { diff "$TMP/a.fields" "$TMP/b.fields" | head -5 >&2; fail "$copy: times or lengths differ from $orig"; }
    cmp -s "$TMP/a.hex" "$TMP/b.hex" || fail "$copy: packet bytes differ from $orig"
}

captures=(
    "$REAL/velodyne-vlp16/velodyne_vlp16.pcap"
    "$REAL/velodyne-vlp32c/velodyne_vlp32.pcap"
    "$REAL/hesai-pandar40p/lidar_20Hz.pcapng"
    "$REAL/hesai-pandar40p/sample_packet.pcapng"
)
for f in "${captures[@]}"; do
    [[ -f $f ]] || { echo "SKIP: $f not found"; exit 77; }
    b=$(basename "$f")
    run 0 "$ROADLOG" import "$f" -o "$TMP/$b.mcap"
    contains "1 channel" out
    run 0 "$ROADLOG" info --json "$TMP/$b.mcap"
    n=$(tshark -r "$f" 2>/dev/null | wc -l)
    py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["messages"] == int(sys.argv[2]), (d["messages"], sys.argv[2])
assert len(d["channels"]) == 1
c = d["channels"][0]
assert c["linktype"] == 1, c
assert c["decoder"] in ("velodyne", "hesai"), c' "$TMP/out" "$n"
    for ext in pcapng pcap; do
        run 0 "$ROADLOG" export "$TMP/$b.mcap" -o "$TMP/$b.$ext"
        [[ ! -e $TMP/$b.$ext.tmp ]] || fail "export left its temporary file"
        same_packets "$f" "$TMP/$b.$ext"
    done
    if [[ $f == *.pcap ]]; then
        cmp -s "$f" "$TMP/$b.pcap" || fail "$b: the classic pcap did not come back byte for byte"
    fi
done

# Several interfaces of different link types in one pcapng, out of time
# order across interfaces (when mergecap is there to build one).
if command -v mergecap >/dev/null; then
    run 0 "$ROADLOG" export "$TMP/velodyne_vlp16.pcap.mcap" -o "$TMP/v.pcapng"
    mergecap -a -I none -w "$TMP/multi.pcapng" "$REAL/hesai-pandar40p/lidar_20Hz.pcapng" \
        "$REAL/velodyne-vlp16/velodyne_vlp16.pcap" 2>/dev/null || fail "mergecap failed"
    run 0 "$ROADLOG" import "$TMP/multi.pcapng" -o "$TMP/multi.mcap" --source-name lidar
    contains "2 channels" out
    run 0 "$ROADLOG" info --json "$TMP/multi.mcap"
    py 'import json,sys
d = json.load(open(sys.argv[1]))
t = sorted(c["topic"] for c in d["channels"])
assert t == ["/lidar/en9", "/lidar/if1"], t' "$TMP/out"
    run 0 "$ROADLOG" export "$TMP/multi.mcap" -o "$TMP/multi2.pcapng"
    same_packets "$TMP/multi.pcapng" "$TMP/multi2.pcapng"
    run 0 "$ROADLOG" export "$TMP/multi.mcap" -o "$TMP/one.pcapng" --channels 'if1$'
    same_packets "$REAL/velodyne-vlp16/velodyne_vlp16.pcap" "$TMP/one.pcapng"
fi

# CAN: candump -l -> log -> candump -l, identical lines, direction kept.
CAN=$REAL/candump-ford-falcon/candump-2021-01-22_135811.log
[[ -f $CAN ]] || { echo "SKIP: $CAN not found"; exit 77; }
run 0 "$ROADLOG" import "$CAN" -o "$TMP/can.mcap" --source-name can/chassis --compression lz4
run 0 "$ROADLOG" info --json "$TMP/can.mcap"
py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["messages"] == 11694, d["messages"]
c = d["channels"][0]
assert c["topic"] == "/can/chassis" and c["linktype"] == 227 and c["decoder"] == "can", c' "$TMP/out"
run 0 "$ROADLOG" export "$TMP/can.mcap" -o "$TMP/can.log"
cmp -s "$CAN" "$TMP/can.log" || { diff "$CAN" "$TMP/can.log" | head -5 >&2; fail "candump lines differ"; }
# The same frames as a pcapng of SocketCAN frames.
run 0 "$ROADLOG" export "$TMP/can.mcap" -o "$TMP/can.pcapng"
[[ $(tshark -r "$TMP/can.pcapng" 2>/dev/null | grep -c 'CAN') == 11694 ]] || fail "tshark CAN count"
# A bad line is reported with its number; every good line is imported.
{ head -n 10 "$CAN"; echo "(1611284291.6) can0 XYZ#00"; tail -n +11 "$CAN"; } >"$TMP/bad.log"
run 3 "$ROADLOG" import "$TMP/bad.log" -o "$TMP/bad.mcap"
contains "bad.log:11: not a candump line"
run 0 "$ROADLOG" export "$TMP/bad.mcap" -o "$TMP/bad-out.log"
cmp -s "$CAN" "$TMP/bad-out.log" || fail "good lines around a bad one were not all kept"

# A pcap and a CAN log cannot share a pcap file.
run 0 "$ROADLOG" export "$TMP/can.mcap" -o "$TMP/x.pcap"
run 1 "$ROADLOG" export "$TMP/can.mcap" -o "$TMP/x.log" --format pcapng --channels nomatch
one_stderr_line
if command -v mergecap >/dev/null; then
    mergecap -a -I none -w "$TMP/mixed.pcapng" "$REAL/velodyne-vlp16/velodyne_vlp16.pcap" \
        "$TMP/can.pcapng" 2>/dev/null || fail "mergecap failed"
    run 0 "$ROADLOG" import "$TMP/mixed.pcapng" -o "$TMP/mixed.mcap"
    run 1 "$ROADLOG" export "$TMP/mixed.mcap" -o "$TMP/mixed.pcap"
    one_stderr_line
    contains "one link type"
    [[ ! -e $TMP/mixed.pcap ]] || fail "a refused export left a file"
    run 0 "$ROADLOG" export "$TMP/mixed.mcap" -o "$TMP/mixed.log"
    contains "skipped" err
    # pcapng has no place for candump's direction flag: the rest is equal.
    sed 's/ R$//' "$CAN" >"$TMP/can-nodir.log"
    cmp -s "$TMP/can-nodir.log" "$TMP/mixed.log" || fail "candump export of a mixed log"
fi

# NMEA and UBX byte logs: one message per frame, one channel.
run 0 "$ROADLOG" import "$REAL/nmea-hdt-gpsd/hemi.log" -o "$TMP/hemi.mcap" --rate 5
run 0 "$ROADLOG" info --json "$TMP/hemi.mcap"
want=$(grep -c '^\$' "$REAL/nmea-hdt-gpsd/hemi.log")
py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["messages"] == int(sys.argv[2]), (d["messages"], sys.argv[2])
c = d["channels"][0]
assert c["decoder"] == "nmea", c
assert abs(d["duration_s"] - (d["messages"] - 1) / 5.0) < 1e-6, d["duration_s"]' "$TMP/out" "$want"
run 0 "$ROADLOG" import "$REAL/ubx-ublox-gpsd/ublox-zed-f9r.log" -o "$TMP/ubx.mcap"
run 0 "$ROADLOG" cat --json "$TMP/ubx.mcap"
py 'import json,sys,base64
msgs = [json.loads(l) for l in open(sys.argv[1])]
ubx = [m for m in msgs if base64.b64decode(m["data_b64"])[:2] == b"\xb5\x62"]
nmea = [m for m in msgs if base64.b64decode(m["data_b64"])[:1] == b"$"]
assert len(ubx) > 200 and len(nmea) > 100, (len(ubx), len(nmea))
assert [m["sequence"] for m in msgs] == list(range(len(msgs)))' "$TMP/out"
# Byte logs hold no link-layer frames: nothing to export.
run 1 "$ROADLOG" export "$TMP/ubx.mcap" -o "$TMP/ubx.pcapng"

# A capture cut inside a packet: the packets before the cut are imported,
# the damage is reported, exit 3.
V=$REAL/velodyne-vlp16/velodyne_vlp16.pcap
head -c 50000 "$V" >"$TMP/cut.pcap"
run 3 "$ROADLOG" import "$TMP/cut.pcap" -o "$TMP/cut.mcap"
contains "file ends inside packet"
run 0 "$ROADLOG" export "$TMP/cut.mcap" -o "$TMP/cut-out.pcap"
n=$(tshark -r "$TMP/cut-out.pcap" 2>/dev/null | wc -l)
[[ $n -eq 43 ]] || fail "expected the 43 whole packets before the cut, got $n"
tshark -r "$V" -c 43 -x 2>/dev/null >"$TMP/a.x"
tshark -r "$TMP/cut-out.pcap" -x 2>/dev/null >"$TMP/b.x"
cmp -s "$TMP/a.x" "$TMP/b.x" || fail "packets before the cut differ"

# A recorded log: only the link-layer channels go out, with their times; a
# time range; a log cut off before its summary exports what it holds.
"$MKLOG" -o "$TMP/mk.mcap" >/dev/null || fail "rl_mklog"
run 0 "$ROADLOG" export "$TMP/mk.mcap" -o "$TMP/mk.pcapng"
contains "1000 packets" out
contains "/gnss/main, /roadlog/markers"
[[ $(tshark -r "$TMP/mk.pcapng" -T fields -e frame.time_epoch 2>/dev/null | head -n 1) == \
   1795249800.000000000 ]] || fail "first packet time of the recorded log"
run 0 "$ROADLOG" export "$TMP/mk.mcap" -o "$TMP/mk.pcap" --start 1 --end 2 -q
[[ $(tshark -r "$TMP/mk.pcap" 2>/dev/null | wc -l) -eq 100 ]] || fail "--start 1 --end 2"
"$MKLOG" -o "$TMP/mkcut.mcap" --chunk-size 65536 --abort-after 500 >/dev/null || fail "rl_mklog --abort-after"
run 0 "$ROADLOG" export "$TMP/mkcut.mcap" -o "$TMP/mkcut.pcapng" -q
n=$(tshark -r "$TMP/mkcut.pcapng" 2>/dev/null | wc -l)
[[ $n -gt 0 && $n -le 500 ]] || fail "cut-off log exported $n packets"

# Not a capture at all; usage errors.
head -c 4096 /dev/urandom >"$TMP/junk.bin"
run 2 "$ROADLOG" import "$TMP/junk.bin" -o "$TMP/junk.mcap"
one_stderr_line
[[ ! -e $TMP/junk.mcap && ! -e $TMP/junk.mcap.tmp ]] || fail "failed import left a file"
run 2 "$ROADLOG" import "$TMP/missing.pcap" -o "$TMP/m.mcap"
one_stderr_line
run 1 "$ROADLOG" import "$V"
one_stderr_line
run 1 "$ROADLOG" import "$V" -o "$TMP/x.mcap" --format tiff
one_stderr_line
run 1 "$ROADLOG" export "$TMP/can.mcap" -o "$TMP/x.txt"
one_stderr_line
run 2 "$ROADLOG" export "$TMP/junk.bin" -o "$TMP/x.pcap"
one_stderr_line
run 0 "$ROADLOG" import --help
contains "usage: roadlog import" out
run 0 "$ROADLOG" export --help
contains "usage: roadlog export" out
echo "import_export: ok"
