#!/usr/bin/env bash
# `roadlog sim -o`: a 20 s run into a log holds every source at its rate,
# the counts printed with --json match the log, every frame decodes with
# roadlog's own decoders without one error (CAN with the attached DBC), the
# channels carry the metadata a recorder writes for udp: sources, the run
# metadata and markers are there, and the same seed gives the same bytes.
# Usage errors name the flag.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python

# ---- usage ----
run 1 "$ROADLOG" sim --rate 0
one_stderr_line
contains "--rate"
run 1 "$ROADLOG" sim -o "$TMP/x.mcap" --rate 2
one_stderr_line
run 1 "$ROADLOG" sim -o "$TMP/x.mcap" --dest 10.0.0.1
one_stderr_line
run 1 "$ROADLOG" sim --duration 0
contains "--duration"
run 1 "$ROADLOG" sim --duration 1x
run 1 "$ROADLOG" sim --ethernet
run 1 "$ROADLOG" sim --start-time 12.5
run 1 "$ROADLOG" sim --port-offset 70000
run 1 "$ROADLOG" sim --seed -1
run 1 "$ROADLOG" sim stray
run 0 "$ROADLOG" sim --help
contains "UDP 2368" out
[[ ! -e $TMP/x.mcap && ! -e $TMP/x.mcap.tmp ]] || fail "a usage error left a file behind"

# ---- a 20 s log ----
A=$TMP/a.mcap
run 0 "$ROADLOG" sim -o "$A" --duration 20s --json
cp "$TMP/out" "$TMP/a.json"
[[ $(wc -l <"$TMP/a.json") -eq 1 ]] || fail "--json printed more than one line"

# The counts: one entry per UDP source, each at its real rate.
py '
import json, sys
c = json.load(open(sys.argv[1]))
assert c["mode"] == "file" and c["duration_s"] == 20 and c["seed"] == 1, c
ch = {x["topic"]: x for x in c["channels"]}
want = {"/lidar/top": (2368, 15071), "/lidar/top/position": (8308, 1076),
        "/lidar/front": (2369, 35997), "/gnss/main": (9001, 840),
        "/can/chassis": (9301, 3600)}
for t, (port, frames) in want.items():
    assert ch[t]["port"] == port and ch[t]["frames"] == frames, (t, ch[t])
assert ch["/v2x/obu"]["port"] == 9101 and 1100 < ch["/v2x/obu"]["frames"] < 1400, ch["/v2x/obu"]
assert ch["/lidar/top"]["bytes"] == 1206 * 15071 and ch["/lidar/front"]["bytes"] == 1266 * 35997
assert ch["/can/chassis"]["bytes"] == 16 * 3600
assert c["frames"] == sum(x["frames"] for x in c["channels"])
assert c["bytes"] == sum(x["bytes"] for x in c["channels"])
assert c["markers"] >= 2, c
' "$TMP/a.json"

# The log holds exactly what was counted.
run 0 "$ROADLOG" info --json "$A"
py '
import json, sys
c = json.load(open(sys.argv[1])); i = json.load(open(sys.argv[2]))
assert i["complete"] and i["compression"] == "zstd", i
got = {x["topic"]: (x["messages"], x["bytes"], x["dropped"]) for x in i["channels"]}
for x in c["channels"]:
    assert got[x["topic"]] == (x["frames"], x["bytes"], 0), (x, got[x["topic"]])
assert got["/roadlog/markers"][0] == c["markers"]
assert i["metadata"]["roadlog.run"]["site"] == "xiantao-data-valley"
assert i["metadata"]["roadlog.run"]["seed"] == "1"
labels = [m["label"] for m in i["markers"]]
assert "intersection-approach" in labels and "road-event" in labels, labels
' "$TMP/a.json" "$TMP/out"

# Channel metadata as a recorder writes it for udp: sources, the run
# metadata and the DBC attachment, read from the records themselves.
py '
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89MCAP0\r\n"
def s(b, o):
    n = struct.unpack_from("<I", b, o)[0]; return b[o+4:o+4+n].decode(), o + 4 + n
def m(b, o):
    n = struct.unpack_from("<I", b, o)[0]; e = o + 4 + n; r = {}; o += 4
    while o < e:
        k, o = s(b, o); v, o = s(b, o); r[k] = v
    return r, e
o, chans, meta, att = 8, {}, {}, {}
while o < len(d):
    op, ln = d[o], struct.unpack_from("<Q", d, o + 1)[0]; b = d[o+9:o+9+ln]; o += 9 + ln
    if op == 0x04:
        t, p = s(b, 4); enc, p = s(b, p); md, p = m(b, p); chans[t] = (enc, md)
    elif op == 0x0C:
        n, p = s(b, 0); meta[n], p = m(b, p)
    elif op == 0x09:
        n, p = s(b, 16); mt, p = s(b, p); ln2 = struct.unpack_from("<Q", b, p)[0]
        att[n] = (mt, b[p+8:p+8+ln2])
    elif op == 0x0F:
        break
ports = {"/lidar/top": (2368, "velodyne.vlp16"), "/lidar/top/position": (8308, "velodyne.vlp16"),
         "/lidar/front": (2369, "hesai.pandar40p"), "/gnss/main": (9001, "nmea"),
         "/v2x/obu": (9101, "v2x.csae"), "/can/chassis": (9301, "can")}
for t, (port, dec) in ports.items():
    enc, md = chans[t]
    assert enc == "" and md == {"decoder": dec, "interface": "udp:%d" % port, "linktype": "payload",
                                "replay_dest": "udp:127.0.0.1:%d" % port}, (t, md)
assert chans["/roadlog/markers"] == ("json", {})
run = meta["roadlog.run"]
for k, v in (("site", "xiantao-data-valley"), ("vehicle", "roadlog-sim-ego"),
             ("route", "xiantao-dv-loop"), ("seed", "1"), ("part", "1")):
    assert run[k] == v, (k, run)
assert "-o" not in run["command"] and run["command"].startswith("roadlog sim --seed 1")
mt, dbc = att["roadlog_chassis.dbc"]
assert mt == "application/x-dbc" and b"BO_ 160 ESP_VehicleSpeed" in dbc
' "$A"

# Every frame decodes without an error, and each kind comes at its rate.
run 0 "$ROADLOG" cat --decode --json --exclude '^/roadlog/' "$A"
! grep -q '"error"' "$TMP/out" || fail "a frame did not decode: $(grep -m1 '"error"' "$TMP/out" | cut -c1-400)"
py '
import collections, json, sys
n = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)["decoded"]
    t = d["type"]
    if t == "can.frame":
        assert d["signals"], d
        t += ":" + d["message"]
    if t == "nmea.GGA":
        t += ":" + d["talker"]
    n[t] += 1
want = {"velodyne.data": 15071, "velodyne.position": 1076, "hesai.pandar40p": 35997,
        "nmea.GGA:GN": 200, "nmea.GGA:BD": 20, "nmea.RMC": 220, "nmea.VTG": 200, "nmea.HDT": 200,
        "can.frame:ESP_VehicleSpeed": 2000, "can.frame:EPS_SteeringAngle": 1000,
        "can.frame:IBC_Brake": 400, "can.frame:TCU_Gear": 200,
        "v2x.csae53.BSM": 800, "v2x.csae53.SPAT": 200, "v2x.csae53.MAP": 20}
for k, v in want.items():
    assert n[k] == v, (k, n[k], v)
assert n["v2x.csae53.RSM"] > 0 and n["v2x.csae53.RSI"] > 0, n
assert sum(n.values()) == sum(want.values()) + n["v2x.csae53.RSM"] + n["v2x.csae53.RSI"], n
' "$TMP/out"

# Markers are JSON with a label; --start @label finds them.
run 0 "$ROADLOG" cat --json --channels '^/roadlog/markers$' "$A"
py '
import base64, json, sys
for line in open(sys.argv[1]):
    m = json.loads(base64.b64decode(json.loads(line)["data_b64"]))
    assert m["label"] and m["by"] == "roadlog sim", m
' "$TMP/out"
run 0 "$ROADLOG" cat --start @intersection-approach --channels '^/roadlog/markers$' "$A"
grep -q "/roadlog/markers" "$TMP/out" || fail "@intersection-approach not found"

# ---- determinism ----
run 0 "$ROADLOG" sim -o "$TMP/b.mcap" --duration 20s -q
[[ ! -s $TMP/out ]] || fail "-q printed something"
cmp "$A" "$TMP/b.mcap" || fail "two runs with the same seed differ"
run 0 "$ROADLOG" sim -o "$TMP/c.mcap" --duration 2s --seed 2 -q
run 0 "$ROADLOG" sim -o "$TMP/d.mcap" --duration 2s --seed 2 -q --start-time 2026-11-21T08:30:00Z
! cmp -s "$TMP/c.mcap" "$TMP/d.mcap" || fail "--start-time had no effect"
run 0 "$ROADLOG" sim -o "$TMP/e.mcap" --duration 2s --seed 2 -q --start-time 2026-11-21T08:30:00Z
cmp "$TMP/d.mcap" "$TMP/e.mcap" || fail "same seed and start time, different bytes"
run 0 "$ROADLOG" info --json "$TMP/d.mcap"
py 'import json,sys; i=json.load(open(sys.argv[1])); assert i["start_ns"] >= 1795249800000000000, i["start_ns"]' "$TMP/out"

# Writer options apply; a log that cannot be created is an environment error.
run 0 "$ROADLOG" sim -o "$TMP/f.mcap" --duration 1s -q --compression lz4 --chunk-size 256k
run 0 "$ROADLOG" info --json "$TMP/f.mcap"
py 'import json,sys; i=json.load(open(sys.argv[1])); assert i["compression"] == "lz4" and i["chunks"] > 4, i' "$TMP/out"
run 2 "$ROADLOG" sim -o "$TMP/no/such/dir/x.mcap" --duration 1s
one_stderr_line
echo "sim: ok"
