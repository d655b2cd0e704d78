#!/usr/bin/env bash
# --split-duration and --split-size rotate a run into parts: -O DIR names
# them RUNID-partNNN.mcap, -o FILE.mcap names them FILE-partNNN.mcap; every
# part is complete, carries the run id and its part number in roadlog.run,
# and the parts together hold every frame exactly once, in order (no frame
# lost or duplicated at a boundary); by duration, the parts' time ranges
# follow each other without overlap.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"

# parts_hold_all N FILE...: the frames of /s across the parts are 0..N-1.
parts_hold_all() {
    python3 - "$ROADLOG" "$@" <<'PYEOF' || fail "frames across parts"
import base64, json, struct, subprocess, sys
roadlog, n, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
vals, seqs, ranges, runs = [], [], [], set()
for i, p in enumerate(paths):
    info = json.loads(subprocess.run([roadlog, "info", "--json", p], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["complete"], p
    run = info["metadata"]["roadlog.run"]
    assert run["part"] == str(i + 1), (p, run["part"])
    runs.add(run["run_id"])
    out = subprocess.run([roadlog, "cat", "--json", "--channels", "^/s$", p], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    ms = [json.loads(l) for l in out]
    vals += [struct.unpack_from("<Q", base64.b64decode(m["data_b64"]))[0] for m in ms]
    seqs += [m["sequence"] for m in ms]
    if ms:
        ranges.append((ms[0]["log_time_ns"], ms[-1]["log_time_ns"]))
assert len(runs) == 1, runs
assert vals == list(range(n)), "lost or duplicated: %d frames, want %d" % (len(vals), n)
assert seqs == list(range(n)), "sequence numbers do not continue across parts"
for (a0, a1), (b0, b1) in zip(ranges, ranges[1:]):
    assert a1 < b0, "parts overlap in time"
print("%d parts, %d frames, each once, in order" % (len(paths), n))
PYEOF
}

# 1. By duration, into a directory: 3.5 s of 1000 frames/s, parts of 1 s.
mkdir "$TMP/dir"
start_rec -q -O "$TMP/dir" --source s=udp:0 --split-duration 1s --run-id test-run-7
PORT=$(port_of /s)
"$UDPSEND" --dest 127.0.0.1:$PORT --count 3500 --rate 1000 --size 200 --max-seconds 30 >/dev/null
wait_seen /s 3500
stop_rec 0
mapfile -t parts < <(ls "$TMP/dir"/*.mcap)
((${#parts[@]} >= 3)) || fail "only ${#parts[@]} parts by duration"
[[ ${parts[0]} == "$TMP/dir/test-run-7-part001.mcap" ]] || fail "part name ${parts[0]}"
parts_hold_all 3500 "${parts[@]}"

# 2. By size, -o FILE: incompressible frames, parts of at most 1 MiB.
start_rec -q -o "$TMP/big.mcap" --source s=udp:0 --split-size 1M --chunk-size 64k --level 1
PORT=$(port_of /s)
"$UDPSEND" --dest 127.0.0.1:$PORT --count 4000 --rate 4000 --size 1000 --fill random \
    --max-seconds 30 >/dev/null
wait_seen /s 4000
stop_rec 0
[[ ! -e $TMP/big.mcap ]] || fail "-o FILE with a split must write FILE-partNNN.mcap"
mapfile -t parts < <(ls "$TMP"/big-part*.mcap)
((${#parts[@]} >= 3)) || fail "only ${#parts[@]} parts by size"
for p in "${parts[@]}"; do
    size=$(stat -c %s "$p")
    ((size <= 1024 * 1024)) || fail "$p is $size bytes, over --split-size 1M"
done
parts_hold_all 4000 "${parts[@]}"
echo "PASS: split by duration and by size"
