#!/usr/bin/env bash
# `roadlog info`: text and JSON summaries of complete logs (every
# compression, out-of-order times, several logs), and of a cut-off log,
# which still opens (exit 0) and says complete=false.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python

L=$TMP/run.mcap
[[ $("$MKLOG" -o "$L" --chunk-size 65536) == 1103 ]] || fail "rl_mklog message count"

run 0 "$ROADLOG" info "$L"
contains "complete:     yes" out
contains "messages:     1103" out
contains "2026-11-21T08:30:00.000000000Z" out
contains "takeover-3" out
contains "roadlog.run: run_id=run-0001 site=xiantao-data-valley vehicle=test-car-7" out
contains "calib/lidar_top.yaml" out
grep -qE '^ +1 +/lidar/top +1000 +512000 .* 1 +velodyne\.vlp16 +0$' "$TMP/out" || fail "lidar row"
grep -qE '^ +2 +/gnss/main +100 ' "$TMP/out" || fail "gnss row"
[[ ! -s $TMP/err ]] || fail "info of a good log wrote to stderr"

check_json='
import json, sys
d = json.load(open(sys.argv[1]))
want_comp = sys.argv[2]
for k in ("path", "complete", "salvaged_chunks", "start_ns", "end_ns", "duration_s", "messages",
          "chunks", "compression", "bytes_compressed", "bytes_uncompressed", "channels",
          "markers", "metadata", "attachments"):
    assert k in d, k
assert d["complete"] is True and d["salvaged_chunks"] == 0
assert d["messages"] == 1103, d["messages"]
assert d["chunks"] > 1, d["chunks"]
assert d["compression"] == want_comp, d["compression"]
assert d["start_ns"] == 1795249800000000000, d["start_ns"]
assert d["end_ns"] == 1795249800000000000 + 999 * 10000000, d["end_ns"]
assert abs(d["duration_s"] - 9.99) < 1e-9
assert d["bytes_uncompressed"] >= d["bytes_compressed"] > 0 or want_comp == "none"
ch = {c["topic"]: c for c in d["channels"]}
assert set(ch) == {"/lidar/top", "/gnss/main", "/roadlog/markers"}, ch.keys()
for c in d["channels"]:
    for k in ("id", "topic", "messages", "bytes", "linktype", "decoder", "dropped"):
        assert k in c, k
assert ch["/lidar/top"]["messages"] == 1000 and ch["/lidar/top"]["bytes"] == 512000
assert ch["/lidar/top"]["linktype"] == 1 and ch["/lidar/top"]["decoder"] == "velodyne.vlp16"
assert ch["/gnss/main"]["messages"] == 100 and ch["/gnss/main"]["decoder"] == "nmea"
assert ch["/roadlog/markers"]["messages"] == 3
assert [m["label"] for m in d["markers"]] == ["takeover-1", "takeover-3", "end-zone"]
assert d["markers"][1]["time_ns"] == 1795249800000000000 + 500 * 10000000 + 5000000
assert d["metadata"]["roadlog.run"]["site"] == "xiantao-data-valley"
assert d["attachments"][0]["name"] == "calib/lidar_top.yaml"
assert d["attachments"][0]["size"] == 20
'
run 0 "$ROADLOG" info --json "$L"
py "$check_json" "$TMP/out" zstd

for comp in lz4 none; do
    "$MKLOG" -o "$TMP/$comp.mcap" --chunk-size 65536 --compression "$comp" >/dev/null
    run 0 "$ROADLOG" info "$TMP/$comp.mcap" --json
    py "$check_json" "$TMP/out" "$comp"
done
"$MKLOG" -o "$TMP/ooo.mcap" --chunk-size 20000 --out-of-order >/dev/null
run 0 "$ROADLOG" info --json "$TMP/ooo.mcap"
py "$check_json" "$TMP/out" zstd

# Several logs: a JSON array, in argument order.
run 0 "$ROADLOG" info --json "$L" "$TMP/lz4.mcap"
py 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["compression"] for x in d] == ["zstd","lz4"]' "$TMP/out"
run 0 "$ROADLOG" info "$L" "$TMP/lz4.mcap"
[[ $(grep -c '^path:' "$TMP/out") -eq 2 ]] || fail "two text summaries"

# One unreadable log among good ones: exit 2, the others still listed.
: >"$TMP/empty.mcap"
run 2 "$ROADLOG" info --json "$L" "$TMP/empty.mcap"
one_stderr_line
py 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d) == 1' "$TMP/out"

# A recording cut off by a crash: info opens it and says what was salvaged.
D=$("$MKLOG" -o "$TMP/crash.mcap" --chunk-size 65536 --abort-after 700)
[[ $D -gt 0 && $D -lt 700 ]] || fail "durable count $D"
run 0 "$ROADLOG" info "$TMP/crash.mcap"
contains "complete:     no" out
contains "messages:     $D" out
contains "incomplete" err
run 0 "$ROADLOG" info --json "$TMP/crash.mcap"
py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["complete"] is False
assert d["salvaged_chunks"] == d["chunks"] > 0, d
assert d["messages"] == int(sys.argv[2]), d["messages"]
assert sum(c["messages"] for c in d["channels"]) == d["messages"]
assert d["metadata"] == {} and d["attachments"] == []
' "$TMP/out" "$D"

# Cut in the middle of a chunk: the chunks before it are salvaged.
size=$(stat -c %s "$L")
head -c $((size / 2)) "$L" >"$TMP/half.mcap"
run 0 "$ROADLOG" info --json "$TMP/half.mcap"
py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["complete"] is False and 0 < d["messages"] < 1103 and d["lost_bytes"] > 0, d
' "$TMP/out"
echo "PASS"
