#!/usr/bin/env bash
# --help of every command, --version, `help CMD`, unknown commands and bad
# flags: exit codes 0 and 1, and usage errors name the flag or value.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

run 0 "$ROADLOG" --help
contains "usage: roadlog" out
for c in info cat check recover; do
    contains "$c" out
done
run 0 "$ROADLOG" --version
grep -qE '^roadlog [0-9]+\.[0-9]+' "$TMP/out" || fail "--version output"

for c in info cat check recover; do
    run 0 "$ROADLOG" "$c" --help
    contains "usage: roadlog $c" out
    [[ ! -s $TMP/err ]] || fail "$c --help wrote to stderr"
    run 0 "$ROADLOG" "$c" -h
    run 0 "$ROADLOG" help "$c"
    contains "usage: roadlog $c" out
done

run 1 "$ROADLOG"
run 1 "$ROADLOG" frobnicate
contains "frobnicate"
run 1 "$ROADLOG" help frobnicate
contains "frobnicate"

"$MKLOG" -o "$TMP/a.mcap" --messages 40 >/dev/null

# Bad flags and values: exit 1, one stderr line naming the flag.
run 1 "$ROADLOG" info --bogus "$TMP/a.mcap"; one_stderr_line; contains "--bogus"
run 1 "$ROADLOG" cat --bogus=1 "$TMP/a.mcap"; one_stderr_line; contains "--bogus"
run 1 "$ROADLOG" check -z "$TMP/a.mcap"; one_stderr_line; contains "-z"
run 1 "$ROADLOG" info; one_stderr_line
run 1 "$ROADLOG" cat; one_stderr_line
run 1 "$ROADLOG" cat "$TMP/a.mcap" "$TMP/a.mcap"; one_stderr_line
run 1 "$ROADLOG" cat "$TMP/a.mcap" --start; one_stderr_line; contains "--start"
run 1 "$ROADLOG" cat "$TMP/a.mcap" --json=yes; one_stderr_line; contains "--json"
for bad in abc 1x 1s1m -3 12.5.5 2026-13-01T00:00:00Z 2026-11-21T08:30:00 @ 1h2h; do
    run 1 "$ROADLOG" cat "$TMP/a.mcap" --start "$bad"; one_stderr_line; contains "--start"
    contains "'$bad'"
done
run 1 "$ROADLOG" cat "$TMP/a.mcap" --end nope; one_stderr_line; contains "--end"
run 1 "$ROADLOG" cat "$TMP/a.mcap" --start @no-such-label; one_stderr_line; contains "--start"
contains "no-such-label"
run 1 "$ROADLOG" cat "$TMP/a.mcap" --start 5 --end 1; one_stderr_line; contains "--end"
run 1 "$ROADLOG" cat "$TMP/a.mcap" --channels '(' ; one_stderr_line; contains "--channels"
run 1 "$ROADLOG" cat "$TMP/a.mcap" --exclude '[a' ; one_stderr_line; contains "--exclude"
run 1 "$ROADLOG" recover "$TMP/a.mcap"; one_stderr_line; contains "-o"
run 1 "$ROADLOG" recover "$TMP/a.mcap" -o "$TMP/b.mcap" --compression brotli; one_stderr_line
contains "--compression"; contains "brotli"
run 1 "$ROADLOG" recover "$TMP/a.mcap" -o "$TMP/b.mcap" --level 99; one_stderr_line
contains "--level"
run 1 "$ROADLOG" recover "$TMP/a.mcap" -o "$TMP/b.mcap" --chunk-size 4X; one_stderr_line
contains "--chunk-size"
run 1 "$ROADLOG" recover "$TMP/a.mcap" -o "$TMP/b.mcap" --chunk-size 0; one_stderr_line
[[ ! -e $TMP/b.mcap && ! -e $TMP/b.mcap.tmp ]] || fail "usage error left an output file"

# Refuse to recover a log onto itself, by name or through a link.
run 1 "$ROADLOG" recover "$TMP/a.mcap" -o "$TMP/a.mcap"; one_stderr_line
ln -s a.mcap "$TMP/link.mcap"
run 1 "$ROADLOG" recover "$TMP/a.mcap" -o "$TMP/link.mcap"; one_stderr_line
"$MKLOG" -o "$TMP/a2.mcap" --messages 40 >/dev/null
cmp "$TMP/a.mcap" "$TMP/a2.mcap" || fail "recover onto itself changed the input"

# Writer options are accepted in all their forms.
run 0 "$ROADLOG" recover "$TMP/a.mcap" -o "$TMP/c.mcap" --compression lz4 --level=5 --chunk-size 64k -q
run 0 "$ROADLOG" recover "$TMP/a.mcap" -o"$TMP/d.mcap" --compression none --chunk-size 1MiB --level -1
run 0 "$ROADLOG" check "$TMP/c.mcap" "$TMP/d.mcap"
echo "PASS"
