#!/bin/sh
# --record: the live capture written as a trace-cmd .dat replays to exactly
# the events the live run printed (same decoder, same topology, VM names
# from the recorded markers), and trace-cmd itself reads the file.
. "$(dirname "$0")/test-lib.sh"
require_tracefs
FAKE="$top_builddir/tests/system/fake-vmm"
INST=vschedd-rec-$$

"$FAKE" "db prod%1" 3 6 >"$TMP/pid" &
fake=$!
wait_file "$TMP/pid" "fake VMM did not start"     # its vCPU threads are named then

"$VSCHEDD" --live --instance "$INST" --record "$TMP/rec.dat" --dump-events --json --duration 1.5 \
        >"$TMP/live.json" 2>"$TMP/err" || { cat "$TMP/err"; fail "live --record failed"; }
kill "$fake" 2>/dev/null || true
wait "$fake" 2>/dev/null || true
[ ! -e "$TRACEFS/instances/$INST" ] || fail "instance left behind"
expect_grep "recorded to" "$TMP/err"

"$VSCHEDD" --replay "$TMP/rec.dat" --dump-events --json >"$TMP/replay.json" 2>"$TMP/err2" ||
        { cat "$TMP/err2"; fail "replay of the recording failed"; }
n=$(wc -l <"$TMP/live.json")
expect_ge "live events" "$n" 100
# Within a CPU the order is the kernel's; across CPUs the live merge works on
# the pages read so far, so compare the event sets.  Other tests may start
# VMs meanwhile, which live learns only at its next /proc scan while the
# replay knows them from the start: compare our VM's events exactly and the
# totals.
expect_eq "events live vs replay" "$(wc -l <"$TMP/replay.json")" "$n"
# (fields naming the other side of a switch or wakeup may belong to those VMs)
strip() { grep '"vm":"db prod%1"' "$1" | sed -e 's/"next_vm":[^,]*,"next_vcpu":[^,]*,//' \
        -e 's/"wakee_vm":[^,]*,"wakee_vcpu":[^,]*,//' | sort; }
strip "$TMP/live.json" >"$TMP/a"
strip "$TMP/replay.json" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || { diff "$TMP/a" "$TMP/b" | head >&2; fail "replay of the recording differs from live"; }
# the VM name (with a space and a %) came through the trace_marker intact
expect_ge "events of VM 'db prod%1' in the replay" "$(count '"vm":"db prod%1"' "$TMP/replay.json")" 3

if command -v trace-cmd >/dev/null; then
        trace-cmd report "$TMP/rec.dat" >"$TMP/report.txt" 2>/dev/null || fail "trace-cmd cannot read the recording"
        expect_eq "sched_switch records per trace-cmd" "$(grep -c ' sched_switch: ' "$TMP/report.txt")" \
                "$(count '"type":"switch"' "$TMP/live.json")"
        expect_grep "vschedd-topology: tid=" "$TMP/report.txt"
fi
say "ok: $n events, live == replay"
