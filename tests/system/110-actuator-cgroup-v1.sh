#!/bin/sh
# Real cgroup v1 writes through the actuator (lib/actuator.c + lib/cgroup.c,
# driven by tests/system/actuator-driver): in child groups created here,
# /sys/fs/cgroup/cpu/vschedd-test-PID/libvirt/vcpu{0,1}, the values in
# cpu.shares / cpu.idle really change; SIGTERM restores; SIGKILL leaves a
# journal that blocks the next start until `restore` puts the originals back;
# an external change becomes the baseline; a cgroup removed mid-epoch is
# skipped.  No other cgroup of the host is read-modified; the groups are
# removed on exit, even on failure.
. "$(dirname "$0")/test-lib.sh"
require_root
CPU=/sys/fs/cgroup/cpu
[ -f "$CPU/cpu.shares" ] || skip "no cgroup v1 cpu hierarchy at $CPU"
awk -v m="$CPU" '$5 == m' /proc/self/mountinfo | grep -q ' - cgroup cgroup .*[ ,]cpu\(,\|$\)' ||
        skip "$CPU is not a cgroup v1 cpu mount"
DRIVER="$top_builddir/tests/system/actuator-driver"
[ -x "$DRIVER" ] || fail "actuator-driver not built"

G="$CPU/vschedd-test-$$"
V0="$G/libvirt/vcpu0"
V1="$G/libvirt/vcpu1"
STATE="$TMP/state"
HOLDER=
SLEEPER=

cleanup() {
        set +e
        [ -z "$HOLDER" ] || { kill -KILL "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; }
        [ -z "$SLEEPER" ] || { kill -KILL "$SLEEPER" 2>/dev/null; wait "$SLEEPER" 2>/dev/null; }
        for d in "$V1" "$V0" "$G/libvirt" "$G"; do
                [ -d "$d" ] || continue
                # a killed task leaves its cgroup asynchronously: retry
                for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
        done
        [ ! -d "$G" ] || say "WARNING: could not remove $G" >&2
        cleanup_tmp
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ ! -e "$G" ] || fail "$G already exists"
mkdir "$G" "$G/libvirt" "$V0" "$V1"
[ -f "$V0/cpu.idle" ] || skip "kernel without cpu.idle on cgroup v1 (< 5.15)"

# a task in vcpu0, as a vCPU thread would be (its cgroup must still be writable)
sleep 600 &
SLEEPER=$!
echo "$SLEEPER" >"$V0/cgroup.procs"

now_ms() { date +%s%3N; }
# wait_for FILE PATTERN [tenths]
wait_for() {
        n=${3:-50}
        while ! grep -q -e "$2" "$1" 2>/dev/null; do
                n=$((n - 1))
                [ "$n" -gt 0 ] || { cat "$1" >&2; fail "timed out waiting for '$2' in $1"; }
                sleep 0.1
        done
}
# wait_value FILE VALUE: poll until the cgroup file reads VALUE (5 s)
wait_value() {
        n=50
        while [ "$(cat "$1")" != "$2" ]; do
                n=$((n - 1))
                [ "$n" -gt 0 ] || fail "$1: got '$(cat "$1")', want '$2'"
                sleep 0.1
        done
}

root_shares=$(cat "$CPU/cpu.shares")
s0=$(cat "$V0/cpu.shares"); i0=$(cat "$V0/cpu.idle")
s1=$(cat "$V1/cpu.shares"); i1=$(cat "$V1/cpu.idle")
say "originals: vcpu0 shares=$s0 idle=$i0, vcpu1 shares=$s1 idle=$i1"

# --- cgroup.c on the real host: where the knobs live, the VM's directories
expect_eq "weight dir (vcpu0)" "$("$DRIVER" dir /proc/self/mountinfo weight "/vschedd-test-$$/libvirt/emulator" 0)" \
        "$V0 cpu.shares v1"
expect_eq "idle dir (VM)" "$("$DRIVER" dir /proc/self/mountinfo idle "/vschedd-test-$$/libvirt/vcpu1" -1)" \
        "$G/libvirt cpu.idle v1"
expect_eq "weight dir from the scope" "$("$DRIVER" dir /proc/self/mountinfo weight "/vschedd-test-$$" 1)" \
        "$V1 cpu.shares v1"
expect_eq "dir with .." "$("$DRIVER" dir /proc/self/mountinfo weight "/vschedd-test-$$/../libvirt" 0 || true)" \
        "error Invalid argument"
expect_eq "no such vCPU" "$("$DRIVER" dir /proc/self/mountinfo weight "/vschedd-test-$$/libvirt/emulator" 7 || true)" \
        "error No such file or directory"

# --- 1. writes happen (journal first), restore puts the originals back.
# vcpu1 gets a non-default weight first: cpu.idle=1 makes the kernel show
# shares 3 and refuse shares writes (EINVAL), and clearing it resets shares to
# 1024, so only a correctly ordered restore brings 2000 back.
echo 2000 >"$V1/cpu.shares"
s1=2000
rc=0
"$DRIVER" set "$STATE" "$V0" cpu.shares 512 "$V1" cpu.shares 10 "$V1" cpu.idle 1 "$V1" cpu.shares 20 \
        >"$TMP/set.out" || rc=$?
expect_eq "set exit status (last write refused)" "$rc" 1
expect_grep "^set $V0/cpu.shares 512: ok" "$TMP/set.out"
expect_grep "^set $V1/cpu.idle 1: ok" "$TMP/set.out"
expect_grep "^set $V1/cpu.shares 20: Device or resource busy" "$TMP/set.out"
expect_eq "vcpu0 cpu.shares" "$(cat "$V0/cpu.shares")" 512
expect_eq "vcpu1 cpu.idle" "$(cat "$V1/cpu.idle")" 1
expect_eq "vcpu1 cpu.shares while idle (kernel)" "$(cat "$V1/cpu.shares")" 3
[ -f "$STATE/journal" ] || fail "no journal after set"
expect_eq "journal lines" "$(wc -l <"$STATE/journal")" 4
expect_grep "^$V0	cpu.shares	$s0\$" "$STATE/journal" "journal entry"
expect_grep "^$V1	cpu.shares	2000\$" "$STATE/journal" "journal entry"
expect_grep "^$V1	cpu.idle	0\$" "$STATE/journal" "journal entry"
"$DRIVER" restore "$STATE" >"$TMP/restore.out"
expect_eq "restore (1)" "$(cat "$TMP/restore.out")" "restored 3 skipped 0"
expect_eq "vcpu0 cpu.shares restored" "$(cat "$V0/cpu.shares")" "$s0"
expect_eq "vcpu1 cpu.idle restored" "$(cat "$V1/cpu.idle")" "$i1"
expect_eq "vcpu1 cpu.shares restored" "$(cat "$V1/cpu.shares")" "$s1"
[ ! -e "$STATE/journal" ] || fail "journal left after restore"
say "ok: set + restore"

# --- 2. SIGTERM: the holder restores on its way out
"$DRIVER" hold "$STATE" "$V0" cpu.shares 2048 "$V1" cpu.idle 1 >"$TMP/hold2.out" 2>&1 &
HOLDER=$!
wait_for "$TMP/hold2.out" '^ready'
expect_eq "held vcpu0 cpu.shares" "$(cat "$V0/cpu.shares")" 2048
expect_eq "held vcpu1 cpu.idle" "$(cat "$V1/cpu.idle")" 1
t0=$(now_ms)
kill -TERM "$HOLDER"
rc=0; wait "$HOLDER" || rc=$?
t1=$(now_ms)
HOLDER=
expect_eq "holder exit status after SIGTERM" "$rc" 0
# 3: vcpu1's cpu.shares is journalled with its cpu.idle (the kernel resets it)
expect_grep '^restored 3 skipped 0' "$TMP/hold2.out"
expect_eq "vcpu0 cpu.shares after SIGTERM" "$(cat "$V0/cpu.shares")" "$s0"
expect_eq "vcpu1 cpu.idle after SIGTERM" "$(cat "$V1/cpu.idle")" "$i1"
expect_eq "vcpu1 cpu.shares after SIGTERM" "$(cat "$V1/cpu.shares")" "$s1"
[ ! -e "$STATE/journal" ] || fail "journal left after SIGTERM"
say "ok: SIGTERM restored in $((t1 - t0)) ms"

# --- 3. SIGKILL: values and journal stay; the next start refuses; restore
"$DRIVER" hold "$STATE" "$V0" cpu.shares 4096 "$V1" cpu.idle 1 >"$TMP/hold3.out" 2>&1 &
HOLDER=$!
wait_for "$TMP/hold3.out" '^ready'
kill -KILL "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
HOLDER=
expect_eq "vcpu0 cpu.shares after SIGKILL" "$(cat "$V0/cpu.shares")" 4096
expect_eq "vcpu1 cpu.idle after SIGKILL" "$(cat "$V1/cpu.idle")" 1
[ -f "$STATE/journal" ] || fail "no journal after SIGKILL"
rc=0; "$DRIVER" set "$STATE" "$V0" cpu.shares 100 >"$TMP/restart.out" || rc=$?
expect_eq "start over a leftover journal" "$rc" 1
expect_grep "File exists" "$TMP/restart.out"
expect_eq "vcpu0 cpu.shares untouched by the refused start" "$(cat "$V0/cpu.shares")" 4096
t0=$(now_ms)
"$DRIVER" restore "$STATE" >"$TMP/restore3.out"
t1=$(now_ms)
expect_eq "restore after SIGKILL" "$(cat "$TMP/restore3.out")" "restored 3 skipped 0"
expect_eq "vcpu0 cpu.shares after restore" "$(cat "$V0/cpu.shares")" "$s0"
expect_eq "vcpu1 cpu.idle after restore" "$(cat "$V1/cpu.idle")" "$i1"
expect_eq "vcpu1 cpu.shares after restore" "$(cat "$V1/cpu.shares")" "$s1"
[ ! -e "$STATE/journal" ] || fail "journal left after restore"
expect_eq "second restore is a no-op" "$("$DRIVER" restore "$STATE")" "restored 0 skipped 0"
say "ok: SIGKILL + restore ($((t1 - t0)) ms)"

# --- 4. someone else (virsh schedinfo) changes a value we hold
"$DRIVER" hold "$STATE" "$V0" cpu.shares 2048 >"$TMP/hold4.out" 2>&1 &
HOLDER=$!
wait_for "$TMP/hold4.out" '^ready'
echo 300 >"$V0/cpu.shares"
wait_for "$TMP/hold4.out" "^external change $V0/cpu.shares: baseline now 300"
wait_value "$V0/cpu.shares" 2048         # the next epoch applies again
kill -TERM "$HOLDER"
wait "$HOLDER" || fail "holder failed"
HOLDER=
expect_eq "operator's value restored" "$(cat "$V0/cpu.shares")" 300
echo "$s0" >"$V0/cpu.shares"            # our own test group
say "ok: external change adopted as baseline"

# --- 5. a vCPU cgroup removed mid-epoch (VM shut down)
"$DRIVER" hold "$STATE" "$V0" cpu.shares 512 "$V1" cpu.shares 512 "$V1" cpu.idle 1 >"$TMP/hold5.out" 2>&1 &
HOLDER=$!
wait_for "$TMP/hold5.out" '^ready'
expect_eq "vcpu1 cpu.idle held" "$(cat "$V1/cpu.idle")" 1
rmdir "$V1"
wait_for "$TMP/hold5.out" "^gone $V1/cpu.shares"
kill -TERM "$HOLDER"
wait "$HOLDER" || { cat "$TMP/hold5.out" >&2; fail "holder failed"; }
HOLDER=
expect_grep '^restored 1 skipped 2' "$TMP/hold5.out"
expect_eq "vcpu0 cpu.shares after VM removal" "$(cat "$V0/cpu.shares")" "$s0"
[ ! -e "$STATE/journal" ] || fail "journal left after restore with a removed cgroup"
# and after a crash
mkdir "$V1"
"$DRIVER" set "$STATE" "$V0" cpu.shares 512 "$V1" cpu.shares 512 >/dev/null
rmdir "$V1"
expect_eq "crash restore with a removed cgroup" "$("$DRIVER" restore "$STATE")" "restored 1 skipped 1"
expect_eq "vcpu0 cpu.shares" "$(cat "$V0/cpu.shares")" "$s0"
say "ok: removed cgroups skipped"

# the host root group was never written
expect_eq "root cpu.shares" "$(cat "$CPU/cpu.shares")" "$root_shares"
say "ok: all"
