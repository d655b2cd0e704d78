#!/usr/bin/env bash
# `roadlog sim` frames as other tools see them: `sim --pcap` writes
# Ethernet/IPv4/UDP frames on loopback and SocketCAN frames, `sim -o
# --ethernet` stores the same in a log that `roadlog export` turns into
# pcapng. tshark must read both as well-formed (no malformed packet, no
# expert warning, good IPv4 and UDP checksums) with the counted number of
# frames per port, and the Ethernet log must decode without an error.
# Needs tshark (skips with 77 without it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python
command -v tshark >/dev/null || { echo "SKIP: tshark not found (apt-get install tshark)"; exit 77; }

# check_capture FILE COUNTS.json: tshark's view of FILE against the counts.
check_capture() {
    local cap=$1 counts=$2
    tshark -r "$cap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
        -Y '_ws.malformed || _ws.expert.severity >= "Warning" || ip.checksum.status == "Bad" || udp.checksum.status == "Bad"' \
        >"$TMP/bad" 2>"$TMP/tshark.err" || fail "tshark cannot read $cap: $(tail -1 "$TMP/tshark.err")"
    [[ ! -s $TMP/bad ]] || fail "tshark finds bad frames in $cap: $(head -3 "$TMP/bad")"
    tshark -r "$cap" -o udp.check_checksum:TRUE -T fields -e frame.protocols -e udp.dstport \
        -e udp.checksum.status -e ip.src -e ip.dst >"$TMP/fields" 2>/dev/null ||
        fail "tshark cannot list $cap"
    py '
import collections, json, sys
c = json.load(open(sys.argv[1]))
n = collections.Counter()
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    protos = f[0].split(":")
    if protos[0] == "can":
        n["can"] += 1
        continue
    assert protos[:4] == ["eth", "ethertype", "ip", "udp"], protos
    assert f[2] == "1" and f[3] == "127.0.0.1" and f[4] == "127.0.0.1", f  # checksum good
    n[int(f[1])] += 1
for ch in c["channels"]:
    key = "can" if ch["topic"] == "/can/chassis" else ch["port"]
    assert n[key] == ch["frames"], (ch, n[key])
assert sum(n.values()) == c["frames"], (n, c["frames"])
' "$counts" "$TMP/fields"
}

# --pcap: the frames straight into a capture.
run 0 "$ROADLOG" sim --pcap "$TMP/s.pcapng" --duration 10s --json
cp "$TMP/out" "$TMP/s.json"
check_capture "$TMP/s.pcapng" "$TMP/s.json"
tshark -r "$TMP/s.pcapng" -Y can -T fields -e can.id 2>/dev/null | sort -u >"$TMP/ids"
[[ $(tr '\n' ' ' <"$TMP/ids") == "0x000000a0 0x000000c0 0x000000d0 0x000000e0 " ]] ||
    [[ $(tr '\n' ' ' <"$TMP/ids") == "160 192 208 224 " ]] || fail "CAN ids: $(cat "$TMP/ids")"

# -o --ethernet, then export: the same frames.
run 0 "$ROADLOG" sim -o "$TMP/e.mcap" --ethernet --duration 10s --json
cp "$TMP/out" "$TMP/e.json"
py 'import json,sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["channels"] == b["channels"], (a, b)' "$TMP/s.json" "$TMP/e.json"
run 0 "$ROADLOG" info --json "$TMP/e.mcap"
py 'import json,sys
i = json.load(open(sys.argv[1]))
lt = {c["topic"]: c["linktype"] for c in i["channels"]}
assert lt["/can/chassis"] == 227 and lt["/lidar/top"] == 1 and lt["/roadlog/markers"] is None, lt' "$TMP/out"
run 0 "$ROADLOG" export "$TMP/e.mcap" -o "$TMP/e.pcapng" -q
check_capture "$TMP/e.pcapng" "$TMP/e.json"
run 0 "$ROADLOG" cat --decode --json --exclude '^/roadlog/' "$TMP/e.mcap"
! grep -q '"error"' "$TMP/out" || fail "an Ethernet frame did not decode: $(grep -m1 '"error"' "$TMP/out" | cut -c1-300)"
# The capture and the exported log carry the same bytes at the same times.
tshark -r "$TMP/s.pcapng" -T fields -e frame.time_epoch -e frame.len 2>/dev/null | sort >"$TMP/a"
tshark -r "$TMP/e.pcapng" -T fields -e frame.time_epoch -e frame.len 2>/dev/null | sort >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || fail "--pcap and exported --ethernet log differ"
echo "sim_pcap: ok"
