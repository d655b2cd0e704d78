#!/usr/bin/env bash
# `roadlog check`: clean logs pass (exit 0, one ok line each); a flipped
# byte inside a chunk and a cut-off file are damage (exit 3) reported with
# file offsets; an unreadable log is exit 2, which wins over 3.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python

for comp in zstd lz4 none; do
    "$MKLOG" -o "$TMP/$comp.mcap" --chunk-size 65536 --compression "$comp" \
        --chunk-map "$TMP/$comp.map" >/dev/null
done
"$MKLOG" -o "$TMP/ooo.mcap" --chunk-size 20000 --out-of-order >/dev/null
n_chunks=$(wc -l <"$TMP/zstd.map")

run 0 "$ROADLOG" check "$TMP/zstd.mcap"
[[ $(cat "$TMP/out") == "$TMP/zstd.mcap: ok, 1103 messages in $n_chunks chunks" ]] || fail "ok line"
[[ ! -s $TMP/err ]] || fail "check of a clean log wrote to stderr"
run 0 "$ROADLOG" check -q "$TMP/zstd.mcap" "$TMP/lz4.mcap" "$TMP/none.mcap" "$TMP/ooo.mcap"
[[ $(grep -c ': ok, 1103 messages in ' "$TMP/out") -eq 4 ]] || fail "four ok lines"

# A flipped byte inside chunk 3: damage, named with the chunk's offset.
for comp in none zstd lz4; do
    read -r start _ _ _ <<<"$(chunk_line "$TMP/$comp.map" 3)"
    flip_in_chunk "$TMP/$comp.mcap" "$TMP/flip-$comp.mcap" "$start"
    run 3 "$ROADLOG" check "$TMP/flip-$comp.mcap"
    contains "roadlog check: $TMP/flip-$comp.mcap: "
    contains "offset $start"
    contains "DAMAGED" out
done
contains "crc"   # lz4 and none store a CRC that no longer matches

# Damage in one log of several: exit 3; the clean one still says ok.
run 3 "$ROADLOG" check "$TMP/zstd.mcap" "$TMP/flip-none.mcap"
contains "$TMP/zstd.mcap: ok" out

# A cut-off file is damage even though what is left reads cleanly.
read -r start _ _ _ <<<"$(chunk_line "$TMP/zstd.map" 4)"
head -c $((start + 20)) "$TMP/zstd.mcap" >"$TMP/cut.mcap"
run 3 "$ROADLOG" check "$TMP/cut.mcap"
contains "$start"
size=$(stat -c %s "$TMP/zstd.mcap")
head -c $((size - 1)) "$TMP/zstd.mcap" >"$TMP/cut1.mcap"
run 3 "$ROADLOG" check "$TMP/cut1.mcap"

# Unreadable input: exit 2 with one line, and 2 wins over 3.
: >"$TMP/empty.mcap"
run 2 "$ROADLOG" check "$TMP/empty.mcap"; one_stderr_line
run 2 "$ROADLOG" check "$TMP/flip-none.mcap" "$TMP/empty.mcap"
run 2 "$ROADLOG" check "$TMP/zstd.mcap" "$TMP/no-such.mcap"
contains "no-such.mcap"
echo "PASS"
