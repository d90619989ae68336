# Shared helpers for tests/system/*.sh (sourced).  Exit 77 = automake SKIP.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${VSCHEDD:=$top_builddir/vschedd}"
DATA="$top_srcdir/tests/data"
TRACEFS=/sys/kernel/tracing
export VSCHEDD_NO_PROGRESS=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vschedd-test.XXXXXX")
cleanup_tmp() { rm -rf "$TMP"; }
trap cleanup_tmp EXIT
# each test's daemons get their own control socket
VSCHEDD_CONTROL="$TMP/control"
export VSCHEDD_CONTROL

say()  { printf '%s: %s\n' "$(basename "$0")" "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
skip() { say "SKIP: $*" >&2; exit 77; }

require_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }

require_tracefs() {
        require_root
        if [ ! -d "$TRACEFS/instances" ]; then
                mount -t tracefs nodev "$TRACEFS" 2>/dev/null || skip "tracefs not available"
        fi
        [ -e "$TRACEFS/events/sched/sched_switch/enable" ] || skip "no sched_switch tracepoint"
}

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
# expect_ge WHAT GOT MIN
expect_ge() { [ "$2" -ge "$3" ] || fail "$1: got $2, want >= $3"; }
# expect_grep PATTERN FILE [what]
expect_grep() { grep -q -e "$1" "$2" || { cat "$2" >&2; fail "${3:-pattern} '$1' not found in $2"; }; }

count() { grep -c -e "$1" "$2" || true; }

# Tests that run an enforcing daemon act on every QEMU-looking process they
# see, including other tests' fake VMs: they take turns.  The lock lives in
# /dev/shm, which a chroot of tools/test-bare shares with the host (its /tmp
# is its own), so a suite in the chroot and one beside it take turns too.
enforce_lock() {
        lockdir=/dev/shm
        [ -d "$lockdir" ] && [ -w "$lockdir" ] || lockdir=${TMPDIR:-/tmp}
        exec 9>"$lockdir/vschedd-tests-enforce.lock"
        flock 9 || fail "cannot take the enforce-tests lock"
}

# The cgroup v1 cpu hierarchy of this host, for tests that actuate real
# cgroups in a tree of their own: sets CPU, skips without it or cpu.idle.
require_v1_cpu() {
        CPU=/sys/fs/cgroup/cpu
        [ -w "$CPU/cgroup.procs" ] || skip "no cgroup v1 cpu hierarchy at $CPU"
        [ -e "$CPU/cpu.idle" ] || skip "kernel without cpu.idle"
}

# v1_rmtree DIR: remove a v1 tree this test made, deepest first, moving its
# tasks back to the root group (quiet: runs from cleanup traps).
v1_rmtree() {
        [ -d "$1" ] || return 0
        find "$1" -depth -type d | while read -r d; do
                while read -r t; do echo "$t" >"$CPU/tasks" 2>/dev/null; done <"$d/tasks"
                rmdir "$d" 2>/dev/null
        done
}

# v1_place_threads PID LV: the threads of a fake VMM into LV/vcpuK (comm
# "CPU K/KVM") or LV/emulator (the rest), as libvirt places QEMU's.
v1_place_threads() {
        for t in /proc/"$1"/task/*; do
                c=$(cat "$t/comm" 2>/dev/null) || continue
                case "$c" in
                "CPU "*/KVM) k=${c#CPU }; echo "${t##*/}" >"$2/vcpu${k%/KVM}/tasks" ;;
                *) echo "${t##*/}" >"$2/emulator/tasks" ;;
                esac
        done
}

# wait_file FILE WHAT: until FILE is not empty (5 s at most).
wait_file() {
        i=0
        while [ ! -s "$1" ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "$2"; sleep 0.05; done
}

# The testbeds (tools/testbed, tools/testbed-systemd) exit 3 when L1 could
# not be booted; their console logs are OUTDIR/console.try*.log.
# testbed_known_oops OUTDIR: every boot's console shows the one known
# emulator fault (the MTTCG int3 oops on a stale breakpoint, see
# tools/testbed-known-oops); any other crash, a soft lockup or a timeout is
# not it (vschedd enables the tracepoints that could cause those).
testbed_known_oops() {
        set -- "$1"/console.try*.log
        [ -f "$1" ] && "$top_srcdir/tools/testbed-known-oops" "$@"
}

# testbed_run OUTDIR CMD...: run a testbed command (its output in $TMP/log,
# its exit status in $rc).  When L1 hit the known oops in every boot under
# multi-threaded TCG, once more on a single TCG thread (slower, free of that
# oops) unless VSCHEDD_TESTBED_RERUN=0; tb_tcg says which ran last.
testbed_run() {
        tb_out=$1
        shift
        rc=0
        tb_tcg=${VSCHEDD_TESTBED_TCG:-multi}
        "$@" >"$TMP/log" 2>&1 || rc=$?
        if [ $rc = 3 ] && [ "$tb_tcg" = multi ] && [ "${VSCHEDD_TESTBED_RERUN:-1}" != 0 ] &&
           testbed_known_oops "$tb_out"; then
                say "L1 hit the known MTTCG oops in every boot; again on one TCG thread"
                mv "$TMP/log" "$TMP/log.multi"
                mkdir -p "$TMP/multi" && cp "$tb_out"/console.try*.log "$TMP/multi/"    # the rerun empties OUTDIR
                rc=0
                tb_tcg=single
                VSCHEDD_TESTBED_TCG=single "$@" >"$TMP/log" 2>&1 || rc=$?
        fi
}

# testbed_crash_skip RC OUTDIR: after testbed_run.  L1 could not be booted
# (3): a skip only when every boot hit the known oops under multi-threaded
# TCG and no single-thread rerun followed (VSCHEDD_TESTBED_RERUN=0); a
# single-thread run that crashed or timed out, or any other crash
# or timeout, is a failure.
testbed_crash_skip() {
        [ "$1" = 3 ] || return 0
        if [ "$tb_tcg" = multi ] && testbed_known_oops "$2"; then
                skip "L1 hit the known MTTCG oops (a stale int3) in every boot (an emulator fault; no vschedd result)"
        fi
        cat "$TMP/log" >&2
        for f in "$2"/console.try*.log; do
                [ -f "$f" ] || continue
                # the oops header and its first lines: the tail alone can
                # miss what kind of fault it was
                echo "--- $f (first oops, 12 lines)" >&2
                grep -m1 -A11 -E 'Oops: |int3: |general protection fault|invalid opcode: |BUG: ' "$f" >&2 || echo "(no oops)" >&2
                echo "--- $f (last 40 lines)" >&2
                tail -n 40 "$f" >&2
        done
        [ "$tb_tcg" = single ] && fail "L1 failed on one TCG thread (free of the known MTTCG oops): a timeout or crash with vschedd"
        fail "L1 failed without the known MTTCG oops (a timeout or another crash): not an emulator fault to skip"
}
