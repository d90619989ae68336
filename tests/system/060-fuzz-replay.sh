#!/bin/sh
# Replays the fuzz seed corpora and the regression inputs (tests/fuzz/) once
# through each fuzz target built as a plain program (tests/fuzz/replay.c): in
# the plain build and, under ASan/UBSan, in the sanitized one.  Inputs of the
# open bugs listed in tests/fuzz/regress/open.list are run too, but their
# failure is reported, not fatal (VSCHEDD_STRICT_OPEN=1 makes it fatal); one
# that passes is reported as fixed.
. "$(dirname "$0")/test-lib.sh"
FUZZ="$top_srcdir/tests/fuzz"
BIN="$top_builddir/tests/fuzz"
export LSAN_OPTIONS="suppressions=$FUZZ/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export VSCHEDD_FUZZ_SKIP_OPEN=0

total=0
for t in text dat datlayout record config marker cgpath ctl; do
        [ -x "$BIN/fuzz-$t" ] || fail "$BIN/fuzz-$t not built"
        "$BIN/fuzz-$t" "$FUZZ/corpus/$t" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; fail "$t: a seed input fails"; }
        total=$((total + $(ls "$FUZZ/corpus/$t" | wc -l)))
        [ -d "$FUZZ/regress/$t" ] || continue
        for f in "$FUZZ/regress/$t"/*; do
                [ -f "$f" ] || continue
                total=$((total + 1))
                rc=0; "$BIN/fuzz-$t" "$f" >"$TMP/out" 2>&1 || rc=$?
                if grep -qxF "$t/${f##*/}" "$FUZZ/regress/open.list"; then
                        if [ $rc = 0 ]; then
                                say "FIXED? $t/${f##*/} passes: remove it from regress/open.list"
                        elif [ "${VSCHEDD_STRICT_OPEN:-0}" = 1 ]; then
                                cat "$TMP/out" >&2; fail "open bug $t/${f##*/} still fails"
                        else
                                say "OPEN BUG $t/${f##*/} (exit $rc): $(grep -m1 -E 'property violated|ERROR|SEGV' "$TMP/out" | cut -c1-160)"
                        fi
                elif [ $rc != 0 ]; then
                        cat "$TMP/out" >&2
                        fail "regression $t/${f##*/} fails again"
                fi
        done
done
say "ok ($total inputs)"
