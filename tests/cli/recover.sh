#!/usr/bin/env bash
# `roadlog recover`: a complete log is rewritten unchanged in content
# (exit 0); cut-off, crashed and damaged logs are salvaged (exit 3) into a
# complete log that passes `check` and holds exactly the messages of the
# whole chunks; failures leave no output behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python

L=$TMP/run.mcap
"$MKLOG" -o "$L" --chunk-size 65536 --chunk-map "$TMP/run.map" >/dev/null
"$ROADLOG" cat --json "$L" >"$TMP/all.jsonl"

# same_messages OUT N: OUT holds exactly the first N messages of the original
# (the log is written in time order, so whole chunks are a prefix), no more.
same_messages() {
    "$ROADLOG" cat --json "$1" >"$TMP/got.jsonl" || fail "cat $1"
    python3 -c '
import sys
got = open(sys.argv[1]).read().splitlines()
want = open(sys.argv[2]).read().splitlines()[: int(sys.argv[3])]
assert got == want, "%d messages, expected %d" % (len(got), len(want))' \
        "$TMP/got.jsonl" "$TMP/all.jsonl" "$2" || fail "messages of $1"
}

# Complete and clean: exit 0, same messages, metadata and attachments kept.
run 0 "$ROADLOG" recover "$L" -o "$TMP/copy.mcap"
contains "1103 messages" out
[[ ! -e $TMP/copy.mcap.tmp ]] || fail "temporary file left"
run 0 "$ROADLOG" check "$TMP/copy.mcap"
same_messages "$TMP/copy.mcap" 1103
run 0 "$ROADLOG" info --json "$TMP/copy.mcap"
py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["complete"] and d["metadata"]["roadlog.run"]["run_id"] == "run-0001"
assert [a["name"] for a in d["attachments"]] == ["calib/lidar_top.yaml"]
assert [m["label"] for m in d["markers"]] == ["takeover-1", "takeover-3", "end-zone"]' "$TMP/out"
# Writer options apply to the output.
run 0 "$ROADLOG" recover "$L" -o "$TMP/lz4.mcap" --compression lz4 --chunk-size 100k
run 0 "$ROADLOG" info --json "$TMP/lz4.mcap"
py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["compression"] == "lz4" and d["chunks"] > 3, d' "$TMP/out"
same_messages "$TMP/lz4.mcap" 1103

# Cut inside chunk K (just past its record header, and in its middle):
# every message of chunks 1..K-1 comes back, nothing else.
for k in 1 2 5 $(wc -l <"$TMP/run.map"); do
    read -r start end before _ <<<"$(chunk_line "$TMP/run.map" "$k")"
    for cut in $((start + 20)) $(((start + end) / 2)); do
        head -c "$cut" "$L" >"$TMP/cut.mcap"
        run 0 "$ROADLOG" info --json "$TMP/cut.mcap"
        py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["complete"] is False and d["messages"] == int(sys.argv[2]), d' "$TMP/out" "$before"
        rm -f "$TMP/out.mcap"
        run 3 "$ROADLOG" recover "$TMP/cut.mcap" -o "$TMP/out.mcap"
        contains "$before messages" out
        contains "incomplete" out
        run 0 "$ROADLOG" check "$TMP/out.mcap"
        contains ": ok, $before messages" out
        same_messages "$TMP/out.mcap" "$before"
    done
done

# Cut in the summary: all messages, metadata and attachments, still exit 3.
size=$(stat -c %s "$L")
head -c $((size - 10)) "$L" >"$TMP/cut.mcap"
run 3 "$ROADLOG" recover "$TMP/cut.mcap" -o "$TMP/out.mcap"
run 0 "$ROADLOG" check "$TMP/out.mcap"
same_messages "$TMP/out.mcap" 1103

# A crash (the writer dies with a chunk in memory): the durable messages.
D=$("$MKLOG" -o "$TMP/crash.mcap" --chunk-size 30000 --abort-after 800 --compression lz4)
run 3 "$ROADLOG" recover "$TMP/crash.mcap" -o "$TMP/out.mcap"
run 0 "$ROADLOG" check "$TMP/out.mcap"
same_messages "$TMP/out.mcap" "$D"

# A damaged chunk: skipped and reported, the rest kept.
read -r start _ before after <<<"$(chunk_line "$TMP/run.map" 3)"
flip_in_chunk "$L" "$TMP/flip.mcap" "$start"
run 3 "$ROADLOG" recover "$TMP/flip.mcap" -o "$TMP/out.mcap"
contains "1 damaged" out
contains "offset $start"
run 0 "$ROADLOG" check "$TMP/out.mcap"
contains ": ok, $((1103 - (after - before))) messages" out

# The middle chunk's length field says more than the file holds: scanning
# stops there and keeps the chunks before it.
read -r start _ before _ <<<"$(chunk_line "$TMP/run.map" 4)"
python3 -c '
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<Q", d, int(sys.argv[3]) + 1, 1 << 50)
open(sys.argv[2], "wb").write(d)' "$L" "$TMP/biglen.mcap" "$start"
run 3 "$ROADLOG" recover "$TMP/biglen.mcap" -o "$TMP/out.mcap" --compression none
run 0 "$ROADLOG" check "$TMP/out.mcap"
"$ROADLOG" cat --json "$TMP/out.mcap" | python3 -c '
import sys
n = sum(1 for _ in sys.stdin)
assert n >= int(sys.argv[1]), n' "$before" || fail "chunks before a bad length are kept"

# Failures leave nothing behind: unreadable input, unwritable output.
head -c 12 "$L" >"$TMP/stub.mcap"
run 2 "$ROADLOG" recover "$TMP/stub.mcap" -o "$TMP/none.mcap"; one_stderr_line
[[ ! -e $TMP/none.mcap && ! -e $TMP/none.mcap.tmp ]] || fail "output left after a failure"
run 2 "$ROADLOG" recover "$L" -o "$TMP/no-such-dir/x.mcap"; one_stderr_line
contains "no-such-dir"
echo "PASS"
