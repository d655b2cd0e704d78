# Shared helpers of the CLI tests, sourced by each tests/cli/*.sh.
# Arguments of every test: ROADLOG (the binary), DATA (../shared/data),
# MKLOG (the rl_mklog helper). Each test works in its own temporary
# directory, removed on exit.
ROADLOG=${1:?usage: $0 ROADLOG DATA MKLOG}
DATA=${2:?usage: $0 ROADLOG DATA MKLOG}
MKLOG=${3:?usage: $0 ROADLOG DATA MKLOG}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/roadlog-cli-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C

fail() {
    echo "FAIL: $*" >&2
    if [[ -s $TMP/out ]]; then echo "--- stdout:" >&2; head -c 4000 "$TMP/out" >&2; fi
    if [[ -s $TMP/err ]]; then echo "--- stderr:" >&2; head -c 4000 "$TMP/err" >&2; fi
    exit 1
}

# run CODE CMD...: runs CMD with stdout in $TMP/out and stderr in $TMP/err
# and fails unless it exits with CODE.
run() {
    local want=$1 got=0
    shift
    "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
    [[ $got -eq $want ]] || fail "exit $got, expected $want: $*"
}

# Fails unless $TMP/err holds exactly one line.
one_stderr_line() {
    local n
    n=$(wc -l <"$TMP/err")
    [[ $n -eq 1 ]] || fail "expected exactly one stderr line, got $n"
    grep -q '^roadlog [a-z]*: ' "$TMP/err" || fail "stderr line does not start with 'roadlog <cmd>: '"
}

# Fails unless $TMP/$2 (default err) contains the fixed string $1.
contains() {
    grep -qF -- "$1" "$TMP/${2:-err}" || fail "'$1' not found in ${2:-err}"
}

# py CODE ARGS...: runs a python3 snippet (for JSON checks).
py() {
    local code=$1
    shift
    python3 -c "$code" "$@" || fail "python check failed: $code"
}

need_python() {
    command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
}

# chunk_line MAP K: line K (1-based) of an rl_mklog chunk map:
# "<chunk start> <end incl. indexes> <messages before> <messages after>".
chunk_line() {
    sed -n "${2}p" "$1"
}

# flip_in_chunk LOG OUT START: copies LOG to OUT with one byte inverted
# inside the Chunk record that starts at offset START (near its end, in the
# compressed records).
flip_in_chunk() {
    python3 -c '
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
s = int(sys.argv[3])
assert d[s] == 0x06, "not a Chunk record at %d" % s
n = struct.unpack_from("<Q", d, s + 1)[0]
d[s + 9 + n - 100] ^= 0xFF
open(sys.argv[2], "wb").write(d)' "$@" || fail "flip_in_chunk $*"
}
