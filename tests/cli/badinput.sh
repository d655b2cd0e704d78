#!/usr/bin/env bash
# Inputs that are not MCAP logs: empty, random bytes (fixed seed), a first
# record longer than the file, only the magic, a directory, a missing file.
# Every command exits 2 with exactly one stderr line and does not crash.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_python

python3 - "$TMP" <<'PY'
import random, struct, sys
d = sys.argv[1]
magic = b"\x89MCAP0\r\n"
random.seed(1)
open(d + "/random.mcap", "wb").write(bytes(random.getrandbits(8) for _ in range(4096)))
open(d + "/empty.mcap", "wb").write(b"")
open(d + "/magic.mcap", "wb").write(magic)
open(d + "/halfmagic.mcap", "wb").write(magic[:5])
# First record (the Header) claims more bytes than the file has.
open(d + "/biglen.mcap", "wb").write(magic + b"\x01" + struct.pack("<Q", 1 << 40) + bytes(32))
open(d + "/len1000.mcap", "wb").write(magic + b"\x01" + struct.pack("<Q", 1000) + bytes(32))
open(d + "/lenmax.mcap", "wb").write(magic + b"\x01" + b"\xff" * 8 + bytes(32))
# Random bytes after a valid magic.
random.seed(2)
open(d + "/magicrandom.mcap", "wb").write(magic + bytes(random.getrandbits(8) for _ in range(4096)))
PY
mkdir "$TMP/dir.mcap"

for f in empty random magic halfmagic biglen len1000 lenmax magicrandom dir no-such; do
    p=$TMP/$f.mcap
    for cmd in info "info --json" cat "cat --json" check "recover -o $TMP/out.mcap"; do
        # shellcheck disable=SC2086
        run 2 "$ROADLOG" $cmd "$p"
        one_stderr_line
        contains "$p"
        [[ ! -s $TMP/out ]] || fail "$cmd $f wrote to stdout"
        [[ ! -e $TMP/out.mcap && ! -e $TMP/out.mcap.tmp ]] || fail "recover $f left output"
    done
done
echo "PASS"
