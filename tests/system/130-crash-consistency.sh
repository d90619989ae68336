#!/bin/sh
# Crash consistency of the journalled actuator on real cgroups (this host's
# cgroup v1 cpu controller, like 111): the enforcing daemon is SIGKILLed at
# random points while it writes (at start, while it restores a leftover
# journal, right after a SIGHUP that flips the VM's cpu.idle), then
#   - "restart" iterations: the daemon is started again (it restores the
#     leftover journal first), runs a random while, and is stopped (SIGTERM);
#   - "restore" iterations: `vschedd --restore` runs instead of a restart;
# and after each, every value vschedd may touch (cpu.idle and cpu.shares of
# every vcpuK) must equal the original, and no journal may be left.
# Writes happen at start (idle = yes for the VM), when the restarted daemon
# restores the journal, and on SIGHUP flips between enforce and observe.
# ITERATIONS (default 100) restart iterations, RESTORE_ITERATIONS (default 20)
# restore iterations; the whole test stays under a minute.  Only groups
# created here are touched.
. "$(dirname "$0")/test-lib.sh"
require_tracefs
enforce_lock
require_v1_cpu
FAKE="$top_builddir/tests/system/fake-vmm"
TOP="$CPU/vschedd-test-$$"
SCOPE="$TOP/machine-qemu\\x2d1\\x2dcrashtest.scope"
LV="$SCOPE/libvirt"
INST=vschedd-crash-$$
STATE="$TMP/state"
ITERATIONS=${ITERATIONS:-100}
RESTORE_ITERATIONS=${RESTORE_ITERATIONS:-20}
VCPUS="vcpu0 vcpu1 vcpu2"

cleanup() {
        rc=$?
        set +e
        if [ $rc != 0 ] && [ -f "$TMP/err" ]; then
                echo "--- daemon log (last 40 lines):" >&2
                tail -n 40 "$TMP/err" >&2
        fi
        [ -n "${vs:-}" ] && kill -9 "$vs" 2>/dev/null
        [ -n "${fake:-}" ] && kill -9 "$fake" 2>/dev/null
        wait 2>/dev/null
        v1_rmtree "$TOP"
        [ -e "$TRACEFS/instances/$INST" ] && rmdir "$TRACEFS/instances/$INST" 2>/dev/null
        [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

# a random integer in [0, $1)
rnd() { echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 )); }
# sleep a random number of milliseconds in [0, $1)
rsleep() { sleep "$(printf '0.%03d' "$(rnd "$1")")"; }

mkdir -p "$LV/emulator" "$LV/vcpu0" "$LV/vcpu1" "$LV/vcpu2"
"$FAKE" crashtest 3 600 >"$TMP/pid" &
fake=$!
wait_file "$TMP/pid" "fake VMM did not start"
pid=$(cat "$TMP/pid")
sleep 0.1
v1_place_threads "$pid" "$LV"
grep -q "libvirt/emulator" /proc/"$pid"/cgroup || fail "the fake VMM is not in the test tree"
# distinct originals, so a value restored into the wrong group shows
echo 700 >"$LV/vcpu1/cpu.shares"
echo 1500 >"$LV/vcpu2/cpu.shares"
echo 1 >"$LV/vcpu2/cpu.idle"            # idle already: the daemon must not "restore" it to 0

snapshot() {
        for v in $VCPUS; do
                printf '%s idle=%s shares=%s\n' "$v" "$(cat "$LV/$v/cpu.idle")" "$(cat "$LV/$v/cpu.shares")"
        done
}
snapshot >"$TMP/orig"

# two configurations the daemon flips between on SIGHUP: enforce (cpu.idle
# of vcpu0/vcpu1 set to 1, the kernel changes their cpu.shares with it) and
# observe (the reload releases: everything written goes back)
conf() {        # enforce|observe
        cat >"$TMP/conf.new" <<EOF2
[daemon]
mode = $1
epoch_ms = 1
state_dir = $STATE
libvirt_uri =
[policy]
placement = no
write_interval_ms = 1
starvation_ms = 1
[vm "crashtest"]
idle = yes
EOF2
        chmod 644 "$TMP/conf.new"
        mv -f "$TMP/conf.new" "$TMP/vschedd.conf"
}

start() {
        VSCHEDD_DEBUG=1 "$VSCHEDD" --live --config "$TMP/vschedd.conf" --instance "$INST" \
                >/dev/null 2>>"$TMP/err" &
        vs=$!
}
# SIGHUP flips, some of them, at random moments
churn() {
        n=$(rnd 4)
        while [ "$n" -gt 0 ]; do
                rsleep 30
                if [ "$(rnd 2)" = 0 ]; then conf observe; else conf enforce; fi
                kill -HUP "$vs" 2>/dev/null || true
                n=$((n - 1))
        done
}
check() {       # WHAT
        snapshot >"$TMP/now"
        if ! cmp -s "$TMP/orig" "$TMP/now"; then
                echo "--- original:" >&2; cat "$TMP/orig" >&2
                echo "--- now:" >&2; cat "$TMP/now" >&2
                fail "$1: values differ from the originals"
        fi
        [ ! -e "$STATE/journal" ] || fail "$1: journal left behind"
}
kill_random() {
        rsleep 200
        churn
        kill -KILL "$vs" 2>/dev/null || true
        wait "$vs" 2>/dev/null || true
        vs=
}

t0=$(date +%s)
changed=0
k=0
while [ $k -lt "$ITERATIONS" ]; do
        k=$((k + 1))
        : >"$TMP/err"
        conf enforce
        start
        kill_random
        snapshot >"$TMP/killed"
        cmp -s "$TMP/orig" "$TMP/killed" || changed=$((changed + 1))
        # restart: restores what the killed one left, enforces again, SIGTERM restores
        mv "$TMP/err" "$TMP/err.killed"
        conf enforce
        start
        # SIGTERM once it is up (systemd waits for READY=1 too); before its
        # signal handlers exist, SIGTERM would simply kill it
        i=0
        until grep -q "started in enforce mode" "$TMP/err" 2>/dev/null; do
                i=$((i + 1)); [ $i -lt 500 ] || fail "restart iteration $k: the daemon did not start"
                kill -0 "$vs" 2>/dev/null || fail "restart iteration $k: the daemon exited"
                sleep 0.01
        done
        rsleep 50
        churn
        kill -TERM "$vs"; rc=0; wait "$vs" || rc=$?; vs=
        [ $rc = 0 ] || fail "restart iteration $k: exit code $rc after SIGTERM"
        check "restart iteration $k"
done
t1=$(date +%s)
k=0
while [ $k -lt "$RESTORE_ITERATIONS" ]; do
        k=$((k + 1))
        : >"$TMP/err"
        conf enforce
        start
        kill_random
        snapshot >"$TMP/killed"
        cmp -s "$TMP/orig" "$TMP/killed" || changed=$((changed + 1))
        "$VSCHEDD" --config "$TMP/vschedd.conf" --restore >"$TMP/restore.out" 2>>"$TMP/err" ||
                fail "restore iteration $k: --restore failed"
        check "restore iteration $k"
done
t2=$(date +%s)
say "restart: $ITERATIONS iterations in $((t1 - t0))s; restore: $RESTORE_ITERATIONS in $((t2 - t1))s;" \
        "the SIGKILL left changed values in $changed of $((ITERATIONS + RESTORE_ITERATIONS))"
# the kills must have hit while values were changed, or this proved nothing
expect_ge "iterations killed with values changed" "$changed" $(((ITERATIONS + RESTORE_ITERATIONS) / 4))
say "ok"
