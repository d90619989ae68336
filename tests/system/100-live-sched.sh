#!/bin/sh
# Live: real sched_switch events from this host's tracefs, through the same
# pipeline as replay, attributed to the VM and vCPU of a QEMU-looking process
# found in /proc; the private tracefs instance is gone afterwards.
. "$(dirname "$0")/test-lib.sh"
require_tracefs
FAKE="$top_builddir/tests/system/fake-vmm"
[ -x "$FAKE" ] || fail "fake-vmm not built"
INST=vschedd-test-$$

"$FAKE" livetest 3 6 >"$TMP/pid" &
fake=$!
wait_file "$TMP/pid" "fake VMM did not start"     # its vCPU threads are named then
vm_pid=$(cat "$TMP/pid")

"$VSCHEDD" --live --instance "$INST" --dump-events --json --duration 2 >"$TMP/ev.json" 2>"$TMP/err" ||
        { cat "$TMP/err"; fail "live run failed"; }
kill "$fake" 2>/dev/null || true
wait "$fake" 2>/dev/null || true

[ ! -e "$TRACEFS/instances/$INST" ] || fail "tracefs instance $INST left behind"
if ! grep -q '"prev_vm":"livetest"' "$TMP/ev.json"; then
        # diagnostics for a failure under load
        say "fake VMM pid $vm_pid; its events:" >&2
        grep -c "\"tid\":$vm_pid\|\"prev_tid\":$(( vm_pid + 1 ))," "$TMP/ev.json" >&2 || true
        grep "\"prev_tid\":$(( vm_pid + 1 ))," "$TMP/ev.json" | head -n 3 >&2 || true
        cat "$TMP/err" >&2
fi
expect_ge "live sched_switch events" "$(count '"type":"switch"' "$TMP/ev.json")" 10
# the fake VM's vCPU threads are recognised from /proc: name from -name guest=
expect_ge "switches of VM livetest" "$(grep '"type":"switch"' "$TMP/ev.json" | grep -c '"prev_vm":"livetest"' || true)" 3
for v in 0 1 2; do
        expect_ge "events of livetest vCPU $v" \
                "$(grep '"prev_vm":"livetest"' "$TMP/ev.json" | grep -c "\"prev_vcpu\":$v," || true)" 1
done
# timestamps are non-decreasing per CPU
for c in 0 1 2 3; do
        grep "\"cpu\":$c," "$TMP/ev.json" | sed 's/.*"ts_ns":\([0-9]*\).*/\1/' >"$TMP/ts.$c"
        sort -n -c "$TMP/ts.$c" 2>/dev/null || fail "timestamps on CPU $c go backwards"
done
expect_grep "events:.*sched_switch" "$TMP/err"
say "ok: $(count '"type":"switch"' "$TMP/ev.json") switches"
