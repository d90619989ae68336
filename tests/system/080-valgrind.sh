#!/bin/sh
# valgrind memcheck over the integration paths: the real binaries on the
# bundled recordings (the .dat reader, the text reader, analysis, report,
# dry-run policy), a daemon serving a replay to vschedctl (every read command,
# both sides under memcheck), and a short live run on tracefs when root.
# Any memcheck error or definite leak fails the test (--error-exitcode).  The
# throwaway child that test-opens a .dat (lib/source-dat.c) is not checked:
# it only exists to absorb libtracecmd's crashes.
# Skips without valgrind and in a sanitized build (ASan and memcheck do not mix).
. "$(dirname "$0")/test-lib.sh"
command -v valgrind >/dev/null || skip "valgrind not installed"
VSCHEDCTL=${VSCHEDCTL:-$top_builddir/vschedctl}
if grep -q __asan_init "$VSCHEDD" 2>/dev/null; then skip "sanitized build"; fi

VG="valgrind --tool=memcheck --quiet --error-exitcode=99 --child-silent-after-fork=yes --leak-check=full
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-origins=yes
    --suppressions=$top_srcdir/tests/valgrind.supp"

# memcheck NAME CMD...: run under memcheck, fail on its exit code 99
memcheck() {
        name=$1
        shift
        rc=0
        # shellcheck disable=SC2086
        $VG --log-file="$TMP/vg-$name.log" "$@" >"$TMP/out-$name" 2>"$TMP/err-$name" || rc=$?
        if [ "$rc" = 99 ] || grep -q "ERROR SUMMARY: [1-9]" "$TMP/vg-$name.log" 2>/dev/null; then
                cat "$TMP/vg-$name.log" >&2
                fail "$name: memcheck found errors"
        fi
        [ "$rc" = 0 ] || { cat "$TMP/err-$name" >&2; fail "$name: exit $rc"; }
        say "$name: clean"
}

memcheck report-dat "$VSCHEDD" --replay "$DATA/bundled.dat" --report --json
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r["vms"]) >= 2' "$TMP/out-report-dat" ||
        fail "report-dat: not a report"
memcheck events-text "$VSCHEDD" --replay "$DATA/bundled.txt" --dump-events --json
expect_ge "events-text: events" "$(wc -l <"$TMP/out-events-text")" 7000
memcheck dry-run "$VSCHEDD" --config "$DATA/policy-all.conf" --replay "$DATA/bundled.dat" --dry-run --summary
expect_grep "cpu" "$TMP/out-dry-run" "dry-run decisions"
for f in "$DATA"/testbed/2to1-vschedd.dat "$DATA"/testbed/2to1-ftrace.txt; do
        [ -f "$f" ] || continue
        memcheck "testbed-$(basename "$f")" "$VSCHEDD" --replay "$f" --report --json
done

# a daemon serving a replay, and vschedctl's read commands against it
SOCK="$TMP/ctl"
# shellcheck disable=SC2086
$VG --log-file="$TMP/vg-serve.log" "$VSCHEDD" --config "$DATA/policy-all.conf" --replay "$DATA/bundled.dat" \
        --dry-run --serve --control "$SOCK" -q >"$TMP/out-serve" 2>"$TMP/err-serve" &
serve=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$SOCK" ] || { kill "$serve" 2>/dev/null; cat "$TMP/err-serve" >&2; fail "serve: no control socket"; }
memcheck ctl-status "$VSCHEDCTL" --socket "$SOCK" status
memcheck ctl-vms "$VSCHEDCTL" --socket "$SOCK" --json vms
memcheck ctl-vm "$VSCHEDCTL" --socket "$SOCK" vm web
memcheck ctl-metrics "$VSCHEDCTL" --socket "$SOCK" metrics
memcheck ctl-top "$VSCHEDCTL" --socket "$SOCK" --json top
expect_grep "web" "$TMP/out-ctl-vms" "VM list"
kill -TERM "$serve"
rc=0
wait "$serve" || rc=$?
if [ "$rc" = 99 ] || grep -q "ERROR SUMMARY: [1-9]" "$TMP/vg-serve.log"; then
        cat "$TMP/vg-serve.log" >&2
        fail "serving daemon: memcheck found errors"
fi
[ "$rc" = 0 ] || { cat "$TMP/err-serve" >&2; fail "serving daemon: exit $rc"; }
say "serving daemon: clean"

# live, on this host's tracefs
if [ "$(id -u)" = 0 ] && { [ -d "$TRACEFS/instances" ] || mount -t tracefs nodev "$TRACEFS" 2>/dev/null; }; then
        INST="vschedd-vg-$$"
        memcheck live "$VSCHEDD" --live --instance "$INST" --summary --duration 2
        [ ! -d "$TRACEFS/instances/$INST" ] || fail "live: tracefs instance left behind"
else
        say "live run skipped (needs root and tracefs)"
fi
say "ok"
