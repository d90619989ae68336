#!/bin/sh
# Live: with no vCPU thread on the host, the sched events are off in the
# kernel (their filter alone would run on every task's context switch); the
# /proc scan that finds a VM turns them on within a rescan (2 s).  Other
# tests' fake VMs may run beside this one: the "off" half is checked only
# while no thread named like a vCPU exists.
. "$(dirname "$0")/test-lib.sh"
require_tracefs
FAKE="$top_builddir/tests/system/fake-vmm"
[ -x "$FAKE" ] || fail "fake-vmm not built"
INST=vschedd-idle-$$
EN="$TRACEFS/instances/$INST/events/sched/sched_switch/enable"
vcpu_threads() { cat /proc/[0-9]*/task/*/comm 2>/dev/null | grep -c '^CPU [0-9]*/KVM$' || true; }

"$VSCHEDD" --live --instance "$INST" --duration 60 --no-summary 2>"$TMP/err" &
vs=$!
fake=
cleanup_idle() { kill "$vs" $fake 2>/dev/null; wait "$vs" 2>/dev/null; }
trap 'cleanup_idle; cleanup_tmp' EXIT
# started: the instance's "started" state shows in its log line
deadline=$(( $(date +%s) + 120 ))
until grep -q "started in" "$TMP/err" 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$vs" 2>/dev/null || { cat "$TMP/err"; fail "vschedd did not start"; }
        sleep 0.1
done
checked_off=no
if [ "$(vcpu_threads)" = 0 ]; then
        sleep 0.5
        if [ "$(vcpu_threads)" = 0 ]; then
                expect_eq "sched_switch enabled with no VM" "$(cat "$EN")" 0
                checked_off=yes
        fi
fi
[ $checked_off = yes ] || say "another test's VM runs: the 'off' half is not checked this time"

"$FAKE" idlevm 2 30 >"$TMP/pid" &
fake=$!
wait_file "$TMP/pid" "fake VMM did not start"
deadline=$(( $(date +%s) + 30 ))
until [ "$(cat "$EN")" = 1 ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "sched_switch still off 30 s after a VM started"
        sleep 0.1
done
say "ok: sched events off with no VM ($checked_off checked), on once a VM runs"
