#!/bin/sh
# Performance regression guard: instruction counts (valgrind callgrind), not
# seconds, of a fixed small replay through the whole pipeline must stay within
# the budget in tests/data/perf-budget.  The pipeline is the one that ships
# (lib/pipeline.c, as `vschedd --replay --dry-run` drives it) and the guarded
# replay must make decisions: as many as vschedd prints for the same input and
# configuration, and at least one (a policy that decides nothing costs less
# and would pass any budget).  The budget was re-measured on this pipeline
# (see tests/data/perf-budget).  Skips for sanitized or unoptimised builds
# (their counts mean nothing) and without valgrind.
. "$(dirname "$0")/test-lib.sh"
command -v valgrind >/dev/null || skip "valgrind not installed"
BENCH="$top_builddir/bench/bench-decode"
[ -x "$BENCH" ] || fail "bench-decode not built"
if grep -q __asan_init "$BENCH" 2>/dev/null; then skip "sanitized build"; fi
case " ${CFLAGS:-} $(sed -n 's/^CFLAGS = //p' "$top_builddir/Makefile" 2>/dev/null) " in
*" -O0 "*) skip "unoptimised build" ;;
esac
budget=$(awk '$1 == "budget" {print $2}' "$DATA/perf-budget")
CONF="$DATA/policy-all.conf"
valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "$BENCH" pipeline "$DATA/bundled.txt" "$CONF" \
        >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "callgrind run failed"; }
got=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/err" | head -n 1)
[ -n "$got" ] || { cat "$TMP/err" >&2; fail "no instruction count from callgrind"; }
expect_grep "^events 7170$" "$TMP/out"
decisions=$(awk '$1 == "decisions" {print $2}' "$TMP/out")
want=$("$VSCHEDD" -q --config "$CONF" --replay "$DATA/bundled.txt" --dry-run | wc -l)
expect_ge "decisions of the guarded replay" "${decisions:-0}" 1
expect_eq "decisions of the guarded replay vs vschedd --dry-run" "$decisions" "$want"
say "pipeline over bundled.txt: $got instructions, $decisions decisions (budget $budget)"
[ "$got" -le "$budget" ] || fail "instruction count $got exceeds the budget $budget: a performance regression?"
say "ok"
