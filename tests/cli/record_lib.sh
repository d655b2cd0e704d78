# Shared helpers of the recorder tests (tests/cli/record_*.sh), sourced
# instead of lib.sh (it sources lib.sh itself). Network traffic stays on
# loopback: when `unshare -n -m` works (root) the test re-runs itself in a
# private network namespace with its own lo, so other tests' traffic cannot
# touch its counters (and in a private mount namespace, so a file system it
# mounts goes away with it); otherwise it uses the host's lo and says so.
# Helper programs (rl_udpsend, rl_ctl, rl_ptyfeed, rl_cansend) are built in
# <build>/tests/recorder, next to the roadlog binary's build tree.
if [[ -z ${RL_TEST_NETNS:-} ]]; then
    export RL_TEST_NETNS=host
    if command -v unshare >/dev/null && command -v ip >/dev/null &&
        unshare -n -m true 2>/dev/null; then
        RL_TEST_NETNS=private exec unshare -n -m bash "$0" "$@"
    fi
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_python
if [[ $RL_TEST_NETNS == private ]]; then
    ip link set lo up || fail "cannot bring lo up in the test's network namespace"
fi
echo "network: ${RL_TEST_NETNS/private/a private network namespace made by the test}"

HELPERS=$(cd "$(dirname "$ROADLOG")" && pwd)/tests/recorder
UDPSEND=$HELPERS/rl_udpsend
CTL=$HELPERS/rl_ctl
PTYFEED=$HELPERS/rl_ptyfeed
CANSEND=$HELPERS/rl_cansend
CHECK="python3 $(dirname "${BASH_SOURCE[0]}")/record_check.py $ROADLOG"
[[ -x $UDPSEND && -x $CTL ]] || { echo "SKIP: helpers not built in $HELPERS"; exit 77; }
SOCK=$TMP/ctl.sock
REC_PID=

# The recorder must not outlive the test.
trap 'if [[ -n $REC_PID ]]; then kill -9 $REC_PID 2>/dev/null || true; fi; rm -rf "$TMP"' EXIT

# start_rec ARGS...: starts `roadlog record ARGS --control $SOCK` in the
# background (stderr in $TMP/rec.err) and waits until its control socket
# answers, with a deadline; fails at once if the recorder exits first.
start_rec() {
    rm -f "$SOCK"
    "$ROADLOG" record --control "$SOCK" "$@" >"$TMP/rec.out" 2>"$TMP/rec.err" &
    REC_PID=$!
    local deadline=$((SECONDS + 20))
    until "$CTL" "$SOCK" status 0.1 >/dev/null 2>&1; do
        if ! kill -0 "$REC_PID" 2>/dev/null; then
            wait "$REC_PID" || true
            REC_PID=
            cat "$TMP/rec.err" >&2
            fail "the recorder exited at start: roadlog record $*"
        fi
        ((SECONDS < deadline)) || fail "the recorder did not answer on $SOCK within 20 s"
    done
}

# stop_rec [CODE]: asks the recorder to quit and waits (bounded); fails
# unless it exits with CODE (default 0).
stop_rec() {
    "$CTL" "$SOCK" quit >/dev/null 2>&1 || true
    wait_rec "${1:-0}" "${2:-60}"
}

# wait_rec [CODE] [SECONDS]: waits for the recorder to exit, at most
# SECONDS (then it is killed and the test fails); fails unless it exits
# with CODE.
wait_rec() {
    local want=${1:-0} limit=${2:-60} got=0 which=
    sleep "$limit" &
    local dog=$!
    wait -n -p which "$REC_PID" "$dog" || got=$?
    if [[ $which == "$dog" ]]; then
        kill -9 "$REC_PID" 2>/dev/null || true
        wait "$REC_PID" 2>/dev/null || true
        REC_PID=
        fail "the recorder did not stop within $limit s"
    fi
    kill "$dog" 2>/dev/null || true
    wait "$dog" 2>/dev/null || true
    REC_PID=
    [[ $got -eq $want ]] || { cat "$TMP/rec.err" >&2; fail "recorder exit $got, expected $want"; }
}

# port_of TOPIC: the port the recorder bound for a udp: source given as udp:0.
port_of() {
    "$CTL" "$SOCK" status | python3 -c '
import json, sys
d = json.loads(sys.stdin.read()[3:])
s = [s for s in d["sources"] if s["topic"] == sys.argv[1]][0]
print(s["interface"].rsplit(":", 1)[1])' "$1" || fail "no port for $1"
}

# wait_seen TOPIC N [SECONDS]: until the recorder has accounted for N frames
# of TOPIC (captured + kernel drops + ring drops), with a deadline.
wait_seen() {
    "$CTL" "$SOCK" --until-seen "$1" "$2" "${3:-30}" || fail "frames of $1 missing"
}
