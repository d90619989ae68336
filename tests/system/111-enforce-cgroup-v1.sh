#!/bin/sh
# The real daemon in enforce mode on real cgroups (this host's v1 cpu
# controller): a QEMU-looking process in a libvirt-style tree gets the
# configured cpu.idle on its vCPU cgroups; SIGTERM restores; SIGKILL leaves
# the journal, and both `vschedd --restore` and the next start restore; a vCPU
# cgroup removed mid-run is skipped; a value changed by someone else is
# adopted.  Only groups created here are touched.
. "$(dirname "$0")/test-lib.sh"
require_tracefs
enforce_lock
require_v1_cpu
FAKE="$top_builddir/tests/system/fake-vmm"
TOP="$CPU/vschedd-test-$$"
SCOPE="$TOP/machine-qemu\\x2d1\\x2denforcetest.scope"
LV="$SCOPE/libvirt"
INST=vschedd-enf-$$
STATE="$TMP/state"

cleanup() {
        rc=$?
        set +e
        if [ $rc != 0 ] && [ -f "$TMP/err" ]; then
                echo "--- daemon log:" >&2
                tail -n 30 "$TMP/err" >&2
        fi
        [ -n "${vs:-}" ] && kill -9 "$vs" 2>/dev/null
        [ -n "${fake:-}" ] && kill -9 "$fake" 2>/dev/null
        wait 2>/dev/null
        v1_rmtree "$TOP"
        [ -e "$TRACEFS/instances/$INST" ] && rmdir "$TRACEFS/instances/$INST" 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$LV/emulator" "$LV/vcpu0" "$LV/vcpu1"
"$FAKE" enforcetest 2 120 >"$TMP/pid" &
fake=$!
wait_file "$TMP/pid" "fake VMM did not start"
pid=$(cat "$TMP/pid")          # its vCPU threads are named then
v1_place_threads "$pid" "$LV"
grep -q "libvirt/emulator" /proc/"$pid"/cgroup || fail "the fake VMM is not in the test tree"
echo 700 >"$LV/vcpu1/cpu.shares"

cat >"$TMP/vschedd.conf" <<EOF2
[daemon]
mode = enforce
state_dir = $STATE
[policy]
placement = no
[vm "enforcetest"]
idle = yes
EOF2
chmod 644 "$TMP/vschedd.conf"

start() {
        VSCHEDD_DEBUG=1 "$VSCHEDD" --live --config "$TMP/vschedd.conf" --instance "$INST" >"$TMP/out" 2>>"$TMP/err" &
        vs=$!
}
wait_value() {  # FILE VALUE
        i=0
        while [ "$(cat "$1")" != "$2" ]; do
                i=$((i + 1))
                [ $i -lt 300 ] || fail "$1 never became $2 (is $(cat "$1"))"
                sleep 0.1
        done
}

# 1. enforce, then SIGTERM restores
start
wait_value "$LV/vcpu0/cpu.idle" 1
wait_value "$LV/vcpu1/cpu.idle" 1
[ -s "$STATE/journal" ] || fail "no journal while values are changed"
kill -TERM $vs; rc=0; wait $vs || rc=$?; vs=
expect_eq "exit code after SIGTERM" "$rc" 0
expect_eq "vcpu0 cpu.idle after SIGTERM" "$(cat "$LV/vcpu0/cpu.idle")" 0
expect_eq "vcpu1 cpu.idle after SIGTERM" "$(cat "$LV/vcpu1/cpu.idle")" 0
expect_eq "vcpu1 cpu.shares after SIGTERM" "$(cat "$LV/vcpu1/cpu.shares")" 700
[ ! -e "$STATE/journal" ] || fail "journal left after a clean stop"

# 2. SIGKILL leaves the journal; --restore puts the originals back
start
wait_value "$LV/vcpu0/cpu.idle" 1
kill -KILL $vs; wait $vs 2>/dev/null || true; vs=
expect_eq "vcpu0 cpu.idle after SIGKILL (premise)" "$(cat "$LV/vcpu0/cpu.idle")" 1
[ -s "$STATE/journal" ] || fail "journal missing after SIGKILL"
"$VSCHEDD" --config "$TMP/vschedd.conf" --restore >"$TMP/restore.out" || fail "--restore failed"
expect_grep "restored [1-9]" "$TMP/restore.out"
expect_eq "vcpu0 cpu.idle after --restore" "$(cat "$LV/vcpu0/cpu.idle")" 0
expect_eq "vcpu1 cpu.shares after --restore" "$(cat "$LV/vcpu1/cpu.shares")" 700

# 3. SIGKILL, then the next start restores the leftover journal first
start
wait_value "$LV/vcpu0/cpu.idle" 1
wait_value "$LV/vcpu1/cpu.idle" 1
kill -KILL $vs; wait $vs 2>/dev/null || true; vs=
before=$(grep -c "vcpu1: cpu.idle 0 -> 1" "$TMP/err" || true)
start
# the values are still 1 from the killed daemon: wait for the new one to
# restore them and set them again, as its log says
i=0
while [ "$(grep -c "vcpu1: cpu.idle 0 -> 1" "$TMP/err" || true)" -le "$before" ]; do
        i=$((i + 1)); [ $i -lt 300 ] || fail "the restarted daemon never set vcpu1 again"; sleep 0.1
done
expect_grep "restored [1-9][0-9]* cgroup value(s) left by a previous run" "$TMP/err"
wait_value "$LV/vcpu0/cpu.idle" 1
wait_value "$LV/vcpu1/cpu.idle" 1
# those writes' decision latency (the newest event read before the epoch ->
# the write's return) is in the metrics: an OpenMetrics histogram, cumulative
"$top_builddir/vschedctl" --socket "$VSCHEDD_CONTROL" metrics >"$TMP/metrics" || fail "vschedctl metrics failed"
expect_grep "^# TYPE vschedd_decision_latency_seconds histogram" "$TMP/metrics"
n=$(awk '$1 == "vschedd_decision_latency_seconds_count" {print $2}' "$TMP/metrics")
[ "${n:-0}" -ge 2 ] || fail "decision latencies recorded for the two writes: ${n:-none}"
expect_grep "^vschedd_decision_latency_seconds_bucket{le=\"+Inf\"} $n\$" "$TMP/metrics"
awk '/^vschedd_decision_latency_seconds_bucket/ { if ($2 < prev) bad = 1; prev = $2 } END { exit bad }' \
        "$TMP/metrics" || fail "decision latency buckets are not cumulative"
# 4. someone else changes a value we set: adopted as the baseline, not
# fought.  The actuator notices at its next write there, at the latest the
# release: its log line says it saw the change.
set0=$(grep -c "vcpu0: cpu.idle 0 -> 1" "$TMP/err" || true)
echo 0 >"$LV/vcpu0/cpu.idle"
# 5. a vCPU cgroup vanishes mid-run: skipped, the daemon keeps going
while read -r t; do echo "$t" >"$LV/tasks"; done <"$LV/vcpu1/tasks"
rmdir "$LV/vcpu1"
# the daemon still answers (its event loop runs) after both
"$top_builddir/vschedctl" --socket "$VSCHEDD_CONTROL" status >"$TMP/status" 2>&1 ||
        { cat "$TMP/status" >&2; fail "the daemon does not answer after a cgroup vanished"; }
expect_grep "enforce" "$TMP/status" "vschedctl status:"
kill -TERM $vs; rc=0; wait $vs || rc=$?; vs=
expect_eq "exit code after SIGTERM" "$rc" 0
expect_grep "enforcetest/vcpu0: cpu.idle was changed by someone else to 0: that is the baseline now" "$TMP/err" \
        "the operator's change seen:"
expect_eq "writes of vcpu0 cpu.idle after the operator's change" \
        "$(grep -c "vcpu0: cpu.idle 0 -> 1" "$TMP/err" || true)" "$set0"
expect_eq "vcpu0 cpu.idle at the end (the operator's)" "$(cat "$LV/vcpu0/cpu.idle")" 0
expect_grep "enforcetest/vcpu1: no cgroup for cpu.idle .*skipping" "$TMP/err" "the vanished cgroup skipped:"
expect_grep "restored [0-9]* cgroup value(s), [1-9][0-9]* gone" "$TMP/err" "the vanished cgroup's journal entries:"
grep -q "vcpu1: cannot write" "$TMP/err" && fail "a write to the vanished cgroup failed instead of being skipped"
[ ! -e "$STATE/journal" ] || fail "journal left after the final stop"
[ ! -e "$TRACEFS/instances/$INST" ] || fail "tracefs instance left"
say "ok"
