#!/usr/bin/env bash
# `roadlog cat`: text and JSON Lines output, log-time order (also across
# overlapping chunks), time ranges in every TIME form, @label, channel
# selection, --decode, and a reader that closes the pipe early.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python

L=$TMP/run.mcap
"$MKLOG" -o "$L" --chunk-size 65536 >/dev/null
T0=1795249800000000000

run 0 "$ROADLOG" cat "$L"
[[ $(wc -l <"$TMP/out") -eq 1103 ]] || fail "text line count"
head -n 1 "$TMP/out" | grep -qE '^2026-11-21T08:30:00\.000000000Z /lidar/top seq=0 512 bytes( [0-9a-f]{2}){16} \.\.$' ||
    fail "text line format"
cut -d' ' -f1 "$TMP/out" | sort -c || fail "text output not in time order"
[[ ! -s $TMP/err ]] || fail "cat wrote to stderr"

check_lines='
import base64, json, sys
lines = open(sys.argv[1]).read().splitlines()
want = int(sys.argv[2])
assert len(lines) == want, (len(lines), want)
prev = 0
for ln in lines:
    m = json.loads(ln)
    for k in ("channel_id", "topic", "sequence", "log_time_ns", "publish_time_ns", "size", "data_b64"):
        assert k in m, k
    assert len(base64.b64decode(m["data_b64"])) == m["size"]
    assert m["log_time_ns"] >= prev
    prev = m["log_time_ns"]
'
run 0 "$ROADLOG" cat --json "$L"
py "$check_lines" "$TMP/out" 1103
cp "$TMP/out" "$TMP/all.jsonl"

# Chunks that overlap in time still come out merged in log-time order.
"$MKLOG" -o "$TMP/ooo.mcap" --chunk-size 20000 --out-of-order >/dev/null
run 0 "$ROADLOG" cat --json "$TMP/ooo.mcap"
py "$check_lines" "$TMP/out" 1103
py 'import json,sys
a = sorted(open(sys.argv[1]).read().splitlines()); b = sorted(open(sys.argv[2]).read().splitlines())
assert a == b' "$TMP/out" "$TMP/all.jsonl"

# count_between START_NS END_NS [TOPIC_RE]: messages of the full output in [start, end).
count_between() {
    python3 -c '
import json, re, sys
s, e = int(sys.argv[2]), int(sys.argv[3])
rx = re.compile(sys.argv[4]) if len(sys.argv) > 4 else None
n = 0
for ln in open(sys.argv[1]):
    m = json.loads(ln)
    if s <= m["log_time_ns"] < e and (rx is None or rx.search(m["topic"])):
        n += 1
print(n)' "$TMP/all.jsonl" "$@"
}
lines() { wc -l <"$TMP/out"; }

# [2 s, 4 s): 200 lidar + 20 gnss + 1 marker, in every TIME form.
want=$(count_between $((T0 + 2000000000)) $((T0 + 4000000000)))
[[ $want -eq 221 ]] || fail "expected 221 messages in [2s, 4s), the log has $want"
for range in "2 4" "+2 +4.0" "2s 4s" "0m2s 0h0m4s" "2000ms 4000000us" "2.000000000 3.9999999999999" \
    "2026-11-21T08:30:02Z 2026-11-21T08:30:04.000Z"; do
    set -- $range
    run 0 "$ROADLOG" cat --json --start "$1" --end "$2" "$L"
    py "$check_lines" "$TMP/out" 221
done
run 0 "$ROADLOG" cat --start 1m30s "$L"
[[ $(lines) -eq 0 ]] || fail "start past the end"
run 0 "$ROADLOG" cat --end 0 "$L"
[[ $(lines) -eq 0 ]] || fail "empty range"
run 0 "$ROADLOG" cat --end 0.01 "$L"
[[ $(lines) -eq 2 ]] || fail "[0, 10ms) holds 2 messages"
run 0 "$ROADLOG" cat --start 1h "$L"
[[ $(lines) -eq 0 ]] || fail "start 1h"

# Marker labels: the marker itself is the first message at or after it.
run 0 "$ROADLOG" cat --json --start @takeover-3 "$L"
want=$(count_between $((T0 + 5005000000)) 18446744073709551615)
py "$check_lines" "$TMP/out" "$want"
head -n 1 "$TMP/out" | grep -q '"topic":"/roadlog/markers"' || fail "@label starts at the marker"
run 0 "$ROADLOG" cat --json --start @takeover-1 --end @end-zone "$L"
py "$check_lines" "$TMP/out" "$(count_between $((T0 + 2505000000)) $((T0 + 7505000000)))"

# Channel selection.
run 0 "$ROADLOG" cat --json --channels '^/gnss' "$L"
py "$check_lines" "$TMP/out" 100
run 0 "$ROADLOG" cat --json --exclude lidar "$L"
py "$check_lines" "$TMP/out" 103
run 0 "$ROADLOG" cat --json --channels 'lidar|markers' --exclude 'markers$' "$L"
py "$check_lines" "$TMP/out" 1000
run 0 "$ROADLOG" cat --json --channels gnss --start 2 --end 4 "$L"
py "$check_lines" "$TMP/out" "$(count_between $((T0 + 2000000000)) $((T0 + 4000000000)) gnss)"
run 0 "$ROADLOG" cat --channels '^/nothing' "$L"
[[ $(lines) -eq 0 ]] || fail "no channel selected"
contains "no channel matches"

# --decode on frames no decoder knows (mklog writes random bytes): every
# message still gets "decoded", an object with an "error".
run 0 "$ROADLOG" cat --json --decode --end 1 "$L"
py 'import json,sys
n = 0
for ln in open(sys.argv[1]):
    d = json.loads(ln)["decoded"]
    assert isinstance(d, dict) and ("type" in d or "error" in d), d
    n += 1
assert n > 0' "$TMP/out"
run 0 "$ROADLOG" cat --decode --end 1 "$L"
contains "decoded=" out
run 2 "$ROADLOG" cat --decode --dbc "$TMP/missing.dbc" "$L"
one_stderr_line

# --decode on real captures: every VLP-16 frame decodes (84 data packets,
# 16 position packets), and the Ford CAN log decodes with its DBC.
if [[ -d $DATA/real ]]; then
    run 0 "$ROADLOG" import "$DATA/real/velodyne-vlp16/velodyne_vlp16.pcap" -o "$TMP/v16.mcap"
    run 0 "$ROADLOG" cat --json --decode "$TMP/v16.mcap"
    py 'import json,sys,collections
c = collections.Counter(json.loads(ln)["decoded"].get("type", "error") for ln in open(sys.argv[1]))
assert c == {"velodyne.data": 84, "velodyne.position": 16}, c' "$TMP/out"
    run 0 "$ROADLOG" import "$DATA/real/candump-ford-falcon/candump-2021-01-22_135811.log" \
        -o "$TMP/can.mcap"
    run 0 "$ROADLOG" cat --json --decode --dbc "$DATA/real/candump-ford-falcon/falcon.dbc" \
        "$TMP/can.mcap"
    py 'import json,sys
frames = named = 0
for ln in open(sys.argv[1]):
    d = json.loads(ln)["decoded"]
    assert d["type"] == "can.frame", d
    frames += 1
    named += "message" in d
assert frames == 11694 and named == 10732, (frames, named)' "$TMP/out"
else
    echo "SKIP (part): $DATA/real not found; real-capture decode not checked"
fi

# A reader that stops early: exit 0, nothing on stderr.
"$MKLOG" -o "$TMP/big.mcap" --messages 5000 >/dev/null
set +o pipefail
"$ROADLOG" cat --json "$TMP/big.mcap" 2>"$TMP/err" | head -n 1 >/dev/null
st=${PIPESTATUS[0]}
"$ROADLOG" cat "$TMP/big.mcap" 2>>"$TMP/err" | head -c 10 >/dev/null
st2=${PIPESTATUS[0]}
set -o pipefail
[[ $st -eq 0 && $st2 -eq 0 ]] || fail "cat | head exited $st/$st2"
[[ ! -s $TMP/err ]] || fail "cat | head wrote to stderr"

# A stdout that cannot take the output is an error (exit 2, one line), not a crash.
if [[ -w /dev/full ]]; then
    st=0
    "$ROADLOG" cat --json "$L" >/dev/full 2>"$TMP/err" || st=$?
    [[ $st -eq 2 ]] || fail "cat >/dev/full exited $st"
    one_stderr_line
    contains "standard output"
fi
echo "PASS"
