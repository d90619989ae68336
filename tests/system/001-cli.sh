#!/bin/sh
# The command line: help, version, usage errors (exit 2), missing files (exit 1).
. "$(dirname "$0")/test-lib.sh"

"$VSCHEDD" --help >"$TMP/help" || fail "--help exited $?"
expect_grep "Usage: vschedd" "$TMP/help"
expect_grep "--replay" "$TMP/help"
expect_grep "--dump-events" "$TMP/help"

"$VSCHEDD" --version >"$TMP/ver" || fail "--version exited $?"
expect_grep "^vschedd [0-9]" "$TMP/ver"

usage() {
        rc=0
        "$VSCHEDD" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
        expect_eq "exit code of vschedd $*" "$rc" 2
        expect_grep "Try 'vschedd --help'" "$TMP/err"
        [ ! -s "$TMP/out" ] || fail "usage error printed to stdout: $*"
}
usage --bogus
usage
usage --replay
usage --replay x --live
usage --live --duration abc
usage --live --duration -1
usage --replay "$DATA/bundled.dat" --duration 2
usage --limit x --replay "$DATA/bundled.dat"
usage --replay "$DATA/bundled.dat" stray-argument
usage --instance ../etc --live
usage --replay "$DATA/bundled.dat" --record "$TMP/x.dat"
usage --live --record-max-mb 0

rc=0
"$VSCHEDD" --replay "$TMP/does-not-exist.dat" 2>"$TMP/err" || rc=$?
expect_eq "exit code for a missing file" "$rc" 1
expect_grep "does-not-exist.dat" "$TMP/err"
say "ok"
