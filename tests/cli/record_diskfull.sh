#!/usr/bin/env bash
# A recording into a small file system stops cleanly before the disk is
# full: exit 2, one clear line on stderr (with -q), and a complete file
# (Summary and Footer) that passes `check`. Three ways:
#   - a file size limit (ulimit -f): needs no privileges, always runs;
#   - an 8 MiB tmpfs the test mounts (root; skipped with a note otherwise),
#     with the default --min-free (5% of the file system);
#   - the same tmpfs filled behind the recorder's back, so a write fails
#     with ENOSPC: exit 2, one line, and the file still opens without
#     repair and `recover` completes it.
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"

# record_until_stopped OUT [ARGS...]: records an endless incompressible
# stream (5000 datagrams/s, bounded to 60 s) until the recorder stops by
# itself; expects exit 2.
record_until_stopped() {
    local out=$1
    shift
    local port=$((20000 + RANDOM % 20000))
    start_rec -q -o "$out" --source "s=udp:$port" --chunk-size 64k "$@"
    "$UDPSEND" --dest 127.0.0.1:$port --count 300000 --rate 5000 --size 1000 --fill random \
        --max-seconds 60 >/dev/null &
    local sender=$!
    wait_rec 2 90
    kill "$sender" 2>/dev/null || true
    wait "$sender" 2>/dev/null || true
    cp "$TMP/rec.err" "$TMP/err"
    one_stderr_line
}

complete_file() {
    run 0 "$ROADLOG" check "$1"
    run 0 "$ROADLOG" info --json "$1"
    py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["complete"], "not complete"
ch = {c["topic"]: c for c in d["channels"]}
assert ch["/s"]["messages"] > 100, ch' "$TMP/out"
}

# 1. RLIMIT_FSIZE, in a subshell so only the recorder gets it.
(
    ulimit -f 4096 # 4 MiB in 1024-byte blocks
    record_until_stopped "$TMP/limit.mcap"
    contains "file size limit"
    contains "is complete"
    complete_file "$TMP/limit.mcap"
    size=$(stat -c %s "$TMP/limit.mcap")
    ((size <= 4 * 1024 * 1024)) || fail "file of $size bytes beyond the limit"
) || exit 1
echo "ok: file size limit: stopped cleanly with a complete file"

# 2. and 3. need a small file system.
mkdir -p "$TMP/mnt"
if ! mount -t tmpfs -o size=8m tmpfs "$TMP/mnt" 2>/dev/null; then
    echo "SKIP (part): cannot mount a tmpfs here (not root); full-disk runs not done"
    exit 0
fi
trap 'if [[ -n $REC_PID ]]; then kill -9 $REC_PID 2>/dev/null || true; fi; umount "$TMP/mnt" 2>/dev/null || true; rm -rf "$TMP"' EXIT

record_until_stopped "$TMP/mnt/full.mcap"
contains "free on the file system"
contains "is complete"
complete_file "$TMP/mnt/full.mcap"
echo "ok: 8 MiB tmpfs: stopped cleanly before full ($(df -k --output=avail "$TMP/mnt" | tail -1) KiB left)"
rm -f "$TMP/mnt/full.mcap"

# 3. A write error: the disk fills behind the recorder's back.
port=$((20000 + RANDOM % 20000))
start_rec -q -o "$TMP/mnt/cut.mcap" --source "s=udp:$port" --chunk-size 64k --min-free 0
"$UDPSEND" --dest 127.0.0.1:$port --count 300000 --rate 5000 --size 1000 --fill random \
    --max-seconds 60 >/dev/null &
sender=$!
wait_seen /s 2000
dd if=/dev/zero of="$TMP/mnt/filler" bs=64k 2>/dev/null || true
wait_rec 2 60
kill "$sender" 2>/dev/null || true
wait "$sender" 2>/dev/null || true
cp "$TMP/rec.err" "$TMP/err"
one_stderr_line
grep -qE "No space left on device|free on the file system" "$TMP/err" || fail "unclear message"
rm -f "$TMP/mnt/filler"
run 0 "$ROADLOG" info --json "$TMP/mnt/cut.mcap"
py 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["messages"] > 100 and d.get("lost_bytes", 0) == 0, d' "$TMP/out"
"$ROADLOG" recover "$TMP/mnt/cut.mcap" -o "$TMP/fixed.mcap" >/dev/null 2>&1 || rc=$?
[[ ${rc:-0} -eq 0 || ${rc:-0} -eq 3 ]] || fail "recover exit ${rc:-0}"
run 0 "$ROADLOG" check "$TMP/fixed.mcap"
echo "ok: ENOSPC: exit 2, one line, the file opens and recovers"
echo "PASS: full disks and file size limits stop cleanly"
