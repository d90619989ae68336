#!/bin/sh
# Golden outputs: what vschedd and vschedctl print must not change by
# accident.  Every case below is run and its stdout, stderr and exit code are
# compared byte for byte with tests/data/golden/ (large outputs stored
# gzipped): --help texts, usage errors, --print-config/--test-config, and
# replays of the recorded traces in tests/data as event dumps (text and JSON),
# summaries, reports, dry-run decisions, the decisions section and --svg pictures.
#
# A change of output on purpose: regenerate with
#   tests/system/015-golden.sh --update     (VSCHEDD=build/vschedd etc. as for make check)
# and say in the commit message which output changed and why.
. "$(dirname "$0")/test-lib.sh"
: "${VSCHEDCTL:=$top_builddir/vschedctl}"
GOLDEN="$top_srcdir/tests/data/golden"
update=0
[ "${1:-}" = --update ] && update=1

# Relative paths only, so that file names in messages are the same in every checkout.
OUT="$TMP/out"
mkdir -p "$OUT" "$TMP/run"
cd "$TMP/run"
ln -s "$DATA" d
ln -s "$top_srcdir/conf" c
unset VSCHEDD_DEBUG VSCHEDD_DATA_DIR VSCHEDD_DOT JOURNAL_STREAM || true

# case NAME PROGRAM ARGS...: NAME.out (stdout), NAME.err (stderr + "exit N")
case_() {
        name=$1
        shift
        rc=0
        "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" <"${STDIN:-/dev/null}" || rc=$?
        echo "exit $rc" >>"$OUT/$name.err"
}

# ---- command line
case_ help "$VSCHEDD" --help
case_ help-short "$VSCHEDD" -h
case_ no-args "$VSCHEDD"
case_ bad-option "$VSCHEDD" --bogus
case_ bad-short "$VSCHEDD" -x
case_ extra-arg "$VSCHEDD" -r d/bundled.txt extra
case_ modes-exclusive "$VSCHEDD" -r d/bundled.txt --live
case_ missing-arg "$VSCHEDD" --replay
case_ bad-limit "$VSCHEDD" -r d/bundled.txt -n -1
case_ bad-duration "$VSCHEDD" --live -t 0
case_ duration-replay "$VSCHEDD" -r d/bundled.txt -t 1
case_ record-replay "$VSCHEDD" -r d/bundled.txt --record=x.dat
case_ serve-live "$VSCHEDD" --live --serve
case_ svg-live "$VSCHEDD" --live --svg=x
case_ svg-window-alone "$VSCHEDD" -r d/bundled.txt --svg-window=0:10
case_ bad-svg-window "$VSCHEDD" -r d/bundled.txt --svg=x --svg-window=1:0
case_ bad-instance "$VSCHEDD" --live --instance=a/b
case_ bad-buffer "$VSCHEDD" --live --buffer-kb=0
case_ bad-record-max "$VSCHEDD" --live --record=x --record-max-mb=x
case_ control-relative "$VSCHEDD" -r d/bundled.txt --control=rel
case_ missing-file "$VSCHEDD" -r d/no-such-file
case_ missing-config "$VSCHEDD" -c d/no-such.conf --print-config
case_ ctl-help "$VSCHEDCTL" --help
case_ ctl-no-args "$VSCHEDCTL"
case_ ctl-bad-option "$VSCHEDCTL" --bogus

# ---- configuration
case_ print-config-all "$VSCHEDD" -c d/policy-all.conf --print-config
case_ print-config-shipped "$VSCHEDD" -c c/vschedd.conf --print-config
case_ test-config-all "$VSCHEDD" -c d/policy-all.conf --test-config

# ---- replays
for t in bundled.txt bundled.dat directed-yield.txt malformed.txt testbed/2to1-vschedd.dat testbed/dyield-hint.dat; do
        n=$(echo "$t" | tr / -)
        case_ "$n-summary" "$VSCHEDD" -q -c c/vschedd.conf -r "d/$t"
        case_ "$n-summary-json" "$VSCHEDD" -q -c c/vschedd.conf -r "d/$t" --json
        case_ "$n-dump" "$VSCHEDD" -c c/vschedd.conf -r "d/$t" --dump-events --summary
        case_ "$n-dump-json" "$VSCHEDD" -c c/vschedd.conf -r "d/$t" --dump-events --json
        case_ "$n-report" "$VSCHEDD" -c c/vschedd.conf -r "d/$t" --report
        case_ "$n-report-json" "$VSCHEDD" -c c/vschedd.conf -r "d/$t" --report --json
        case_ "$n-dry-run" "$VSCHEDD" -c d/policy-all.conf -r "d/$t" --dry-run
        case_ "$n-dry-run-json" "$VSCHEDD" -c d/policy-all.conf -r "d/$t" --dry-run --json --report
        case_ "$n-dry-run-shipped" "$VSCHEDD" -c c/vschedd.conf -r "d/$t" --dry-run --json
        case_ "$n-decisions" "$VSCHEDD" -q -c c/vschedd.conf -r "d/$t" --decisions --no-summary
        case_ "$n-decisions-json" "$VSCHEDD" -q -c d/policy-all.conf -r "d/$t" --decisions --json
done
case_ limit "$VSCHEDD" -c c/vschedd.conf -r d/bundled.txt -d -n 5
STDIN=d/bundled.txt case_ stdin "$VSCHEDD" -c c/vschedd.conf -r - -d -j -n 20
STDIN=d/directed-yield.txt case_ stdin-summary "$VSCHEDD" -c c/vschedd.conf -r - --summary

# ---- pictures: the graph's dot text and the timeline (the graph's SVG is dot(1)'s work, not ours)
case_ svg "$VSCHEDD" -c c/vschedd.conf -r d/bundled.dat --svg=pics --svg-window=5:40
case_ svg-testbed "$VSCHEDD" -c c/vschedd.conf -r d/testbed/2to1-vschedd.dat --svg=pics2
for f in pics/*-graph.dot pics/*-timeline.svg pics2/*-graph.dot pics2/*-timeline.svg; do
        [ -e "$f" ] || continue
        cp "$f" "$OUT/$(echo "$f" | tr / -).out"
done
# whether dot(1) is installed decides "wrote N picture(s)": keep only the line's presence
for n in svg svg-testbed; do
        sed -i 's/^vschedd: wrote [0-9]* picture(s) to /vschedd: wrote N picture(s) to /' "$OUT/$n.err"
done

# getopt names the program by its path (argv[0]), which depends on the build dir
for n in ctl-bad-option; do
        sed -i "s|^$VSCHEDCTL: |vschedctl: |" "$OUT/$n.err"
done

# Large outputs are stored gzipped (-n: no name or time, so the bytes are stable).
for f in "$OUT"/*; do
        [ "$(wc -c <"$f")" -gt 32768 ] && gzip -n -9 "$f"
done

if [ "$update" = 1 ]; then
        rm -rf "$GOLDEN"
        mkdir -p "$GOLDEN"
        cp "$OUT"/* "$GOLDEN"/
        say "updated $(ls "$GOLDEN" | wc -l) golden files in $GOLDEN"
        exit 0
fi

[ -d "$GOLDEN" ] || fail "no golden outputs in $GOLDEN"
bad=0
for g in "$GOLDEN"/*; do
        b=$(basename "$g")
        if [ ! -e "$OUT/$b" ]; then
                say "missing output: $b"
                bad=$((bad + 1))
        elif ! cmp -s "$g" "$OUT/$b"; then
                say "differs: $b"
                case "$b" in
                *.gz) diff -u "$(zcat "$g" >"$TMP/g"; echo "$TMP/g")" "$(zcat "$OUT/$b" >"$TMP/o"; echo "$TMP/o")" | head -n 20 >&2 || true ;;
                *) diff -u "$g" "$OUT/$b" | head -n 20 >&2 || true ;;
                esac
                bad=$((bad + 1))
        fi
done
for o in "$OUT"/*; do
        [ -e "$GOLDEN/$(basename "$o")" ] || { say "output without a golden file: $(basename "$o")"; bad=$((bad + 1)); }
done
[ "$bad" = 0 ] || fail "$bad output(s) differ from tests/data/golden (on purpose? see the header of this test)"
say "ok: $(ls "$GOLDEN" | wc -l) outputs byte-identical"
