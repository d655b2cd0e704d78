#!/usr/bin/env bash
# CAN capture on a vcan interface the test creates in its own network
# namespace: the can: source (CAN_RAW socket) and the pcap: source on the
# same interface both record every frame, classic and CAN FD, as
# LINKTYPE_CAN_SOCKETCAN (227) with the CAN id big-endian, decoder "can",
# replay_dest can:vcan0. Skipped, saying so, where the kernel has no vcan
# (module missing) or namespaces cannot be made.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"
[[ -x $CANSEND ]] || { echo "SKIP: rl_cansend not built"; exit 77; }
if [[ $RL_TEST_NETNS != private ]]; then
    echo "SKIP: CAN capture NOT tested: no network namespace of our own (needs root) to add vcan0"
    exit 77
fi
if ! ip link add dev vcan0 type vcan 2>"$TMP/vcan.err"; then
    echo "SKIP: CAN capture NOT tested: this kernel offers no vcan interface ($(head -1 "$TMP/vcan.err"))"
    exit 77
fi
ip link set vcan0 mtu 72 up # CAN FD
echo "vcan0 created in the test's namespace"

N=1000
OUT=$TMP/can.mcap
start_rec -q -o "$OUT" --source chassis=can:vcan0 --source chassis_pcap=pcap:vcan0
"$CANSEND" vcan0 $N || fail "rl_cansend"
wait_seen /chassis $N
wait_seen /chassis_pcap $N
stop_rec 0
python3 - "$ROADLOG" "$OUT" $N <<'PYEOF' || fail "CAN frames"
import base64, json, struct, subprocess, sys
roadlog, log, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = subprocess.run([roadlog, "cat", "--json", log], check=True, capture_output=True,
                     text=True).stdout.splitlines()
for topic in ("/chassis", "/chassis_pcap"):
    frames = [base64.b64decode(json.loads(l)["data_b64"]) for l in out
              if json.loads(l)["topic"] == topic]
    assert len(frames) == n, "%s: %d frames" % (topic, len(frames))
    for i, f in enumerate(frames):
        cid = struct.unpack_from(">I", f)[0]
        if i % 2 == 0:
            assert len(f) == 16 and cid == 0x100 + i % 16 and f[4] == 8, (topic, i, f.hex())
        else:
            assert len(f) == 72 and cid == (0x18DA00F1 | 0x80000000) and f[4] == 64, (topic, i, f.hex())
        assert struct.unpack_from("<I", f, 8)[0] == i, (topic, i)
print("%d classic + FD frames on each of can: and pcap:" % n)
PYEOF
run 0 "$ROADLOG" info --json "$OUT"
py 'import json,sys
d = json.load(open(sys.argv[1]))
ch = {c["topic"]: c for c in d["channels"]}
for t in ("/chassis", "/chassis_pcap"):
    assert ch[t]["linktype"] in (227, "227"), ch[t]
    assert ch[t]["decoder"] == "can", ch[t]' "$TMP/out"
"$ROADLOG" cat --decode --json "$OUT" --channels '^/chassis$' | head -2 >"$TMP/dec"
py 'import json,sys
d = [json.loads(l)["decoded"] for l in open(sys.argv[1])]
assert d[0]["type"] == "can.frame", d' "$TMP/dec"
echo "PASS: CAN recorded on vcan0 through can: and pcap:"
