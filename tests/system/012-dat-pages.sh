#!/bin/sh
# The page-level .dat reader (lib/dat-reader.c: kbuffer over the file's
# pages, only the formats we decode) yields exactly what libtracecmd's
# record-by-record reading does (VSCHEDD_DAT_LIBTRACECMD=1): every .dat in
# tests/data, the testbed's trace-cmd recordings as written (v7, zstd) and
# converted by trace-cmd to v6 and to uncompressed v7 (Debian 12's trace-cmd
# writes no zlib, so that decompressor is not covered); and it is the one used
# (far fewer instructions where valgrind is there to count them).
. "$(dirname "$0")/test-lib.sh"

set -- "$DATA"/bundled.dat "$DATA"/testbed/*.dat
if command -v trace-cmd >/dev/null; then
        for f in "$DATA"/testbed/*trace-cmd*.dat "$DATA"/testbed/interleave-plain.dat; do
                b=$(basename "$f" .dat)
                trace-cmd convert -i "$f" -o "$TMP/$b-v6.dat" --file-version 6 --compression none >/dev/null 2>&1 ||
                        fail "trace-cmd convert of $b to v6"
                trace-cmd convert -i "$f" -o "$TMP/$b-v7none.dat" --file-version 7 --compression none \
                        >/dev/null 2>&1 || fail "trace-cmd convert of $b to uncompressed v7"
                set -- "$@" "$TMP/$b-v6.dat" "$TMP/$b-v7none.dat"
        done
else
        say "trace-cmd missing: no v6 and uncompressed v7 conversions"
fi
n=0
for f in "$@"; do
        "$VSCHEDD" --replay "$f" --dump-events --json --summary >"$TMP/pages.json" 2>"$TMP/pages.err" ||
                { cat "$TMP/pages.err" >&2; fail "replay of $f failed"; }
        VSCHEDD_DAT_LIBTRACECMD=1 "$VSCHEDD" --replay "$f" --dump-events --json --summary >"$TMP/tc.json" \
                2>"$TMP/tc.err" || { cat "$TMP/tc.err" >&2; fail "replay of $f through libtracecmd failed"; }
        expect_ge "events from $(basename "$f")" "$(wc -l <"$TMP/pages.json")" 100
        if ! cmp -s "$TMP/pages.json" "$TMP/tc.json" || ! cmp -s "$TMP/pages.err" "$TMP/tc.err"; then
                diff "$TMP/pages.json" "$TMP/tc.json" | head -10 >&2
                diff "$TMP/pages.err" "$TMP/tc.err" | head -10 >&2
                fail "$f: the page reader and libtracecmd disagree"
        fi
        n=$((n + 1))
done
say "$n files read alike"

# the page reader is what runs: the decoding child costs a fraction of the
# libtracecmd way on a v7 zstd recording
# (not in a sanitized build: ASan and valgrind do not mix)
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null &&
        ! grep -q __asan_init "$VSCHEDD" 2>/dev/null; then
        child_insns() {
                rm -f "$TMP"/cg.*
                valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$TMP/cg.%p" \
                        "$VSCHEDD" --replay "$DATA/testbed/2to1-trace-cmd.dat" --summary >/dev/null 2>&1
                for c in "$TMP"/cg.*; do
                        callgrind_annotate --inclusive=yes "$c" 2>/dev/null |
                                awk '/:child_main /{gsub(",", "", $1); print $1; exit}'
                done | head -n 1
        }
        pages=$(child_insns)
        tc=$(VSCHEDD_DAT_LIBTRACECMD=1 child_insns)
        [ -n "$pages" ] && [ -n "$tc" ] || fail "no instruction count of the decoding child"
        say "decoding child: $pages instructions (libtracecmd: $tc)"
        [ $((pages * 10)) -lt $((tc * 8)) ] || fail "the page reader is not what runs ($pages vs $tc)"
fi
