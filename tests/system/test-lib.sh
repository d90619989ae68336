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
# see, including other tests' fake VMs: they take turns.
enforce_lock() {
        exec 9>"${TMPDIR:-/tmp}/vschedd-tests-enforce.lock"
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

# testbed_crash_skip RC OUTDIR: tools/testbed exits 3 when L1 could not be
# booted twice.  When every try's console shows a kernel oops or panic (the
# known MTTCG static-key oops in svm_vcpu_run under QEMU TCG: an emulator
# problem, not a vschedd result), skip; a timeout without one is a failure
# (it could be vschedd hanging).
testbed_crashed() {
        [ "$1" = 3 ] || return 1
        n=0
        for f in "$2"/console.try*.log; do
                [ -f "$f" ] || continue
                grep -qE 'Kernel panic|Oops|BUG:|general protection fault' "$f" || return 1
                n=$((n + 1))
        done
        [ $n -gt 0 ]
}
testbed_crash_skip() {
        testbed_crashed "$1" "$2" || return 0
        skip "L1's kernel crashed in all $n boots (QEMU TCG oops: $(grep -hm1 -oE 'RIP: 0010:[^ ]+' "$2"/console.try*.log | head -n 1)); no vschedd result"
}

# testbed_run OUTDIR CMD...: run a testbed command (its output in $TMP/log,
# its exit status in $rc); when L1 oopsed in every boot under multi-threaded
# TCG, once more on a single TCG thread (slower, free of that oops).
testbed_run() {
        tb_out=$1
        shift
        rc=0
        "$@" >"$TMP/log" 2>&1 || rc=$?
        if testbed_crashed $rc "$tb_out" && [ "${VSCHEDD_TESTBED_TCG:-multi}" = multi ]; then
                say "L1 oopsed under multi-threaded TCG in every boot; again on one TCG thread"
                mv "$TMP/log" "$TMP/log.multi"
                rc=0
                VSCHEDD_TESTBED_TCG=single "$@" >"$TMP/log" 2>&1 || rc=$?
        fi
}
