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
