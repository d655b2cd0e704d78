#!/usr/bin/env bash
# The official MCAP conformance files (../shared/data/mcap-conformance):
# info, cat and check read every variant (exit 0, exactly the expected
# number of messages), and recover rewrites each into a log with the same
# messages (exit 0: the inputs are complete and clean).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python

CONF=$DATA/mcap-conformance
if [[ ! -d $CONF ]]; then
    echo "SKIP: $CONF not found (the shared test data is not checked out next to the project)"
    exit 77
fi
n=0
for f in "$CONF"/*/*.mcap; do
    want=$(python3 -c '
import json, sys
print(sum(1 for r in json.load(open(sys.argv[1]))["records"] if r["type"] == "Message"))' "${f%.mcap}.json")
    run 0 "$ROADLOG" check "$f"
    contains "ok, $want messages" out
    run 0 "$ROADLOG" info --json "$f"
    py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["messages"] == int(sys.argv[2]) and d["complete"], d' "$TMP/out" "$want"
    run 0 "$ROADLOG" cat --json "$f"
    [[ $(wc -l <"$TMP/out") -eq $want ]] || fail "cat $f: expected $want messages"
    cp "$TMP/out" "$TMP/in.jsonl"
    rm -f "$TMP/re.mcap"
    run 0 "$ROADLOG" recover "$f" -o "$TMP/re.mcap"
    run 0 "$ROADLOG" check "$TMP/re.mcap"
    run 0 "$ROADLOG" cat --json "$TMP/re.mcap"
    cmp -s "$TMP/out" "$TMP/in.jsonl" || fail "recover $f changed the messages"
    n=$((n + 1))
done
[[ $n -gt 0 ]] || fail "no conformance files in $CONF"
echo "PASS ($n files)"
