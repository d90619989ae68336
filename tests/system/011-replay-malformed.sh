#!/bin/sh
# Bad input gets a clear error naming the record, never a crash, and good
# records around it still count.
. "$(dirname "$0")/test-lib.sh"

# A text trace with broken lines in between good ones: exit 0, the good events
# printed, the malformed ones counted and the first one named by line.
"$VSCHEDD" --replay "$DATA/malformed.txt" --dump-events --json --summary >"$TMP/out" 2>"$TMP/err" ||
        { cat "$TMP/err"; fail "replay of malformed.txt failed"; }
expect_grep 'malformed record' "$TMP/err"
expect_grep 'malformed.txt:9' "$TMP/err" "first malformed line (9)"
expect_ge "good events" "$(count '"type":' "$TMP/out")" 6
expect_grep '"lost":42' "$TMP/out" "lost events counted"
expect_grep '"dst_apic":26' "$TMP/out" "hex APIC ID 1a"

# A corrupt .dat (valid magic, garbage after it): exit 1, a message naming the file.
printf '\027\010\104tracing6\000garbage' >"$TMP/corrupt.dat"
rc=0
"$VSCHEDD" --replay "$TMP/corrupt.dat" >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_eq "exit code for a corrupt .dat" "$rc" 1
expect_grep "corrupt.dat" "$TMP/err"
[ ! -s "$TMP/out" ] || fail "a corrupt .dat printed events"

# A .dat cut short anywhere: exit 1 with the section or CPU that is cut, no crash.
for n in 16 40 1000 12000 300000 524000; do
        head -c $n "$DATA/bundled.dat" >"$TMP/cut.dat"
        rc=0
        "$VSCHEDD" --replay "$TMP/cut.dat" --dump-events --json >"$TMP/out" 2>"$TMP/err" || rc=$?
        expect_eq "exit code for a .dat cut at $n bytes" "$rc" 1
        expect_grep "cut.dat: .*\(cut short\|past the end\|too short\)" "$TMP/err"
done

# Corrupt ring-buffer pages on which libtracecmd/libtraceevent would loop
# forever (found by fuzz-dat): exit 1 within seconds, naming CPU and page.
REGRESS="$top_srcdir/tests/fuzz/regress/dat"
for f in kbuffer-loop-on-backward-event kbuffer-loop-after-time-stamp-1 kbuffer-loop-after-time-stamp-2; do
        rc=0
        timeout 60 "$VSCHEDD" --replay "$REGRESS/$f.dat" >"$TMP/out" 2>"$TMP/err" || rc=$?
        expect_eq "exit code for $f.dat" "$rc" 1
        expect_grep "$f.dat: CPU 0 data: the ring-buffer page at offset [0-9]* is corrupt (event at byte" "$TMP/err"
done
rc=0
timeout 60 "$VSCHEDD" --replay "$REGRESS/partial-page-loop.dat" >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_eq "exit code for CPU data of 1 byte" "$rc" 1
expect_grep "CPU 0 data at offset 4096 (1 bytes) ends inside a 4096-byte ring-buffer page" "$TMP/err"

# An 8 KB file whose option count makes libtracecmd calloc 14.5 GB and walk
# it in its error path (found by fuzz-dat): the throwaway child's memory
# limit fails the calloc at once.  Measured as page faults, not time: 3.5 M
# without the limit, about a thousand with it.
rc=0
python3 - "$VSCHEDD" "$REGRESS/libtracecmd-huge-option-calloc.dat" >"$TMP/faults" 2>"$TMP/err" <<'PY' || rc=$?
import resource, subprocess, sys
r = subprocess.run([sys.argv[1], "--replay", sys.argv[2]], stdout=subprocess.DEVNULL, timeout=60).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt)
sys.exit(r)
PY
expect_eq "exit code for the huge option count" "$rc" 1
# (under ASan the failed calloc aborts the child instead: "fails reading it")
expect_grep "libtracecmd \(cannot open\|fails reading\) it" "$TMP/err"
faults=$(cat "$TMP/faults")
[ "$faults" -lt 200000 ] || fail "replaying it took $faults page faults: the child's memory limit is off"

# libtracecmd reads commit words with the size the header_page text gives:
# told 4 bytes in an 8-byte file, the pages no longer parse, and the file is
# refused with both sizes named (not read as garbage).
cp "$DATA/bundled.dat" "$TMP/commit4.dat"
at=$(grep -abo 'local_t commit;.offset:8;.size:8;' "$TMP/commit4.dat" | head -n 1 | cut -d: -f1)
[ -n "$at" ] || fail "no commit field in bundled.dat's header_page"
printf 4 | dd of="$TMP/commit4.dat" bs=1 seek=$((at + 31)) conv=notrunc status=none
expect_grep 'commit;.offset:8;.size:4;' "$TMP/commit4.dat" "header_page edited"
rc=0
"$VSCHEDD" --replay "$TMP/commit4.dat" >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_eq "exit code for 4-byte commit words in an 8-byte file" "$rc" 1
expect_grep "header_page gives 4-byte commit words (the file header's long is 8): CPU 0 data: the ring-buffer page" "$TMP/err"

# The other way round is what a 32-bit trace-cmd on a 64-bit kernel writes
# (long 4 in the file header, 8-byte commit words): read like the original.
cp "$DATA/bundled.dat" "$TMP/long4.dat"
printf '\004' | dd of="$TMP/long4.dat" bs=1 seek=13 conv=notrunc status=none   # "tracing6\0", endian, long
"$VSCHEDD" --replay "$TMP/long4.dat" --json --summary >"$TMP/long4.out" 2>"$TMP/err" ||
        { cat "$TMP/err" >&2; fail "a file header saying long is 4 was refused"; }
"$VSCHEDD" --replay "$DATA/bundled.dat" --json --summary >"$TMP/long8.out"
cmp -s "$TMP/long4.out" "$TMP/long8.out" || fail "long 4 in the file header changed what was read"

# Binary garbage that is not a .dat is read as text: every line malformed or unknown.
head -c 20000 /dev/urandom >"$TMP/noise.txt"
rc=0
"$VSCHEDD" --replay "$TMP/noise.txt" --json --summary >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_eq "exit code for noise" "$rc" 0
expect_grep '"events":0' "$TMP/out"

# An empty file is an empty trace.
: >"$TMP/empty.txt"
"$VSCHEDD" --replay "$TMP/empty.txt" --json --summary >"$TMP/out" || fail "empty trace failed"
expect_grep '"events":0' "$TMP/out"

# A directory is not a trace.
rc=0
"$VSCHEDD" --replay "$TMP" >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_eq "exit code for a directory" "$rc" 1
say "ok"
