#!/usr/bin/env bash
# Stopping and steering `roadlog record`: SIGINT, SIGTERM and SIGHUP each
# finish the file cleanly (exit 0, complete, every captured frame in it);
# --duration stops by itself; the `m` and `q` keys on a terminal set a
# marker and stop, and the terminal's mode is restored; `status` over the
# control socket; usage errors are one line with exit 1; `mark` without a
# recorder and a second recorder on the same socket are exit 2; -Z drops
# to another user after opening the sources (root only).
set -euo pipefail
source "$(dirname "$0")/record_lib.sh"

for sig in INT TERM HUP; do
    OUT=$TMP/$sig.mcap
    start_rec -q -o "$OUT" --source s=udp:0
    PORT=$(port_of /s)
    "$UDPSEND" --dest 127.0.0.1:$PORT --count 3000 --rate 3000 --size 500 --max-seconds 30 >/dev/null
    wait_seen /s 3000
    kill -$sig "$REC_PID"
    wait_rec 0 30
    $CHECK seq "$OUT" /s 3000 >/dev/null || fail "SIG$sig: frames"
    run 0 "$ROADLOG" check "$OUT"
    echo "ok: SIG$sig finished the file cleanly"
done

# --duration, and status while it runs.
start_rec -q -o "$TMP/dur.mcap" --source s=udp:0,rate=50 --duration 2s --meta site=x
"$CTL" "$SOCK" status >"$TMP/status"
py 'import json,sys
d = json.loads(open(sys.argv[1]).read()[3:])
for k in ("state", "file", "part", "run_id", "elapsed_s", "bytes_written", "disk_free_bytes",
          "disk_seconds_left", "markers", "sources"):
    assert k in d, k
s = d["sources"][0]
for k in ("topic", "source", "interface", "frames", "bytes", "kernel_drops", "ring_drops",
          "rate_hz", "expected_hz", "state"):
    assert k in s, k
assert d["state"] == "recording" and s["expected_hz"] == 50' "$TMP/status"
run 1 "$CTL" "$SOCK" "pause"
contains "error" out
wait_rec 0 30
run 0 "$ROADLOG" check "$TMP/dur.mcap"
echo "ok: --duration and status"

# Keys on a terminal: m marks, q stops; the terminal mode comes back.
python3 - "$ROADLOG" "$TMP" "$CTL" <<'PYEOF' || fail "terminal keys"
import fcntl, json, os, subprocess, sys, termios, time
roadlog, tmp, ctl = sys.argv[1:4]
sock = tmp + "/keys.sock"
master, slave = os.openpty()
before = termios.tcgetattr(slave)
def ctty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen([roadlog, "record", "-o", tmp + "/keys.mcap", "--source", "s=udp:0",
                      "--control", sock], stdin=slave, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, preexec_fn=ctty)
def status(wait):
    r = subprocess.run([ctl, sock, "status", str(wait)], capture_output=True, text=True)
    return json.loads(r.stdout[3:]) if r.returncode == 0 else None
assert status(20) is not None, "recorder did not start"
deadline = time.monotonic() + 20
os.write(master, b"m")
while status(0)["markers"] < 1:
    assert time.monotonic() < deadline, "the m key set no marker"
os.write(master, b"q")
assert p.wait(timeout=30) == 0, "exit %s" % p.returncode
after = termios.tcgetattr(slave)
assert after[3] == before[3], "terminal local modes not restored"
out = subprocess.run([roadlog, "info", "--json", tmp + "/keys.mcap"], check=True,
                     capture_output=True, text=True).stdout
assert [m["label"] for m in json.loads(out)["markers"]] == ["mark-1"]
print("ok: keys m and q, terminal restored")
PYEOF

# Usage errors: one line, exit 1.
run 1 "$ROADLOG" record --source s=udp:0
one_stderr_line
contains "give -o FILE or -O DIR"
run 1 "$ROADLOG" record -o "$TMP/x.mcap"
one_stderr_line
run 1 "$ROADLOG" record -o "$TMP/x.mcap" --source s=tcp:1
one_stderr_line
contains "unknown source type 'tcp'"
run 1 "$ROADLOG" record -o "$TMP/x.mcap" --source s=udp:1 --meta run_id=x --control "$TMP/u.sock"
one_stderr_line
run 2 "$ROADLOG" record -o "$TMP/x.mcap" --source s=pcap:nosuchif0 --control "$TMP/u.sock"
one_stderr_line
contains "nosuchif0"
run 0 "$ROADLOG" record --help
contains "--snapshot D" out

# mark: no recorder, bad label.
run 2 "$ROADLOG" mark --control "$TMP/nobody.sock" x
one_stderr_line
contains "no recorder is listening"
run 1 "$ROADLOG" mark --control "$TMP/nobody.sock" "two words"
one_stderr_line

# A second recorder on the same control socket.
start_rec -q -o "$TMP/first.mcap" --source s=udp:0
run 2 "$ROADLOG" record -q -o "$TMP/second.mcap" --source t=udp:0 --control "$SOCK"
one_stderr_line
contains "another recorder is running"
stop_rec 0

# -Z: after opening the sources, the file is written as that user.
if [[ $(id -u) -eq 0 ]] && id nobody >/dev/null 2>&1; then
    mkdir -m 0777 "$TMP/z"
    chmod 0711 "$TMP"
    SOCK=$TMP/z/ctl.sock
    start_rec -q -o "$TMP/z/z.mcap" --source "s=pcap:lo,filter=udp port 9" -Z nobody
    stop_rec 0
    [[ $(stat -c %U "$TMP/z/z.mcap") == nobody ]] || fail "-Z: file not owned by nobody"
    echo "ok: -Z nobody"
else
    echo "note: -Z not tested (not root or no user 'nobody')"
fi
echo "PASS: signals, duration, keys, status, usage errors"
