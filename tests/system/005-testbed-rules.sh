#!/bin/sh
# The testbeds' skip and retry rules, without booting anything (tests 200,
# 201 and 210 rely on them, and a rule too wide turns a vschedd fault into a
# SKIP or a retried pass):
#  - tools/testbed-known-oops accepts only the known MTTCG oops (an oops
#    whose RIP is svm_vcpu_run, or an int3 oops on a breakpoint memory no
#    longer holds), not a soft lockup there, another oops, an int3 whose
#    0xcc is still in memory or a timeout;
#  - tools/testbed's boot() retries a boot only after that oops, never after
#    a timeout or another crash (except in a Linux-guest benchmark, which
#    gives figures, not a pass: there an early stop other than the timeout
#    is booted again and listed);
#  - test-lib.sh's testbed_run/testbed_crash_skip rerun on one TCG thread
#    only after that oops in every boot, fail when the rerun crashes or times
#    out, fail on any other crash or timeout, and skip only on that oops
#    with the rerun turned off.
# Fake testbeds write console logs; nothing needs root.
. "$(dirname "$0")/test-lib.sh"
KNOWN="$top_srcdir/tools/testbed-known-oops"

console() {     # KIND FILE: a console log of that kind
        case $1 in
        known) printf '[ 1.0] TESTBED: /dev/kvm ready\n[ 12.3] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n[ 12.3] CPU: 1 PID: 77 Comm: tb-vmm\n[ 12.3] RIP: 0010:svm_vcpu_run+0x4d/0x8a0 [kvm_amd]\n[ 12.4] Kernel panic - not syncing: Fatal exception in interrupt\n' ;;
        soft) printf '[ 1.0] TESTBED: /dev/kvm ready\n[ 48.0] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [tb-vmm:88]\n[ 48.0] RIP: 0010:svm_vcpu_run+0x4d/0x8a0 [kvm_amd]\n' ;;
        other) printf '[ 12.3] BUG: kernel NULL pointer dereference, address: 0000000000000008\n[ 12.3] Oops: 0000 [#1] PREEMPT SMP NOPTI\n[ 12.3] RIP: 0010:trace_event_buffer_commit+0x10/0x80\n[ 12.3] Call Trace:\n[ 12.3]  svm_vcpu_run+0x4d/0x8a0 [kvm_amd]\n' ;;
        # the same fault at another patched site: the int3 is gone from memory
        stale) printf '[ 7.8] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n[ 7.8] RIP: 0010:try_to_wake_up+0x33f/0x680\n[ 7.8] Code: 48 8b 78 08 48 89 de e8 <fd> 0b ff ff 65 ff 0d\n[ 7.8] Call Trace:\n[ 7.8] RIP: 0033:0x47b7a0\n[ 7.8] Code: 00 b8 01 00 00 00 0f 05 <48> 3d 00 f0\n[ 7.9] Kernel panic - not syncing: Fatal exception in interrupt\n' ;;
        # an int3 whose 0xcc is still there (a real breakpoint), and one
        # without its Code: line: not the emulator's
        int3cc) printf '[ 7.8] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n[ 7.8] RIP: 0010:try_to_wake_up+0x33f/0x680\n[ 7.8] Code: 48 8b 78 08 48 89 de cc <fd> 0b ff ff 65 ff 0d\n[ 7.8] RIP: 0033:0x47b7a0\n[ 7.8] Code: 00 b8 01 00 00 00 e8 <48> 3d 00 f0\n' ;;
        int3nocode) printf '[ 7.8] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n[ 7.8] RIP: 0010:try_to_wake_up+0x33f/0x680\n[ 7.8] Call Trace:\n[ 7.8] RIP: 0033:0x47b7a0\n[ 7.8] Code: 00 b8 01 00 00 00 e8 <48> 3d 00 f0\n' ;;
        # a GP fault mid-call is not an int3: not it either
        gpcall) printf '[ 7.8] Oops: general protection fault: 0000 [#1] PREEMPT SMP NOPTI\n[ 7.8] RIP: 0010:try_to_wake_up+0x33f/0x680\n[ 7.8] Code: 48 8b 78 08 48 89 de e8 <fd> 0b ff ff 65 ff 0d\n' ;;
        timeout) printf '[ 1.0] TESTBED: /dev/kvm ready\n[ 2.0] TESTBED: scenario smoke\n' ;;
        esac >"$2"
}

# 1. the signature
for k in known stale soft other int3cc int3nocode gpcall timeout; do
        console $k "$TMP/$k.log"
done
"$KNOWN" "$TMP/known.log" || fail "the known oops not recognised"
"$KNOWN" "$TMP/stale.log" || fail "the known oops at another site (a stale int3) not recognised"
"$KNOWN" "$TMP/known.log" "$TMP/known.log" || fail "two known oopses not recognised"
"$KNOWN" "$TMP/known.log" "$TMP/stale.log" || fail "the known oops at two sites not recognised"
for k in soft other int3cc int3nocode gpcall timeout; do
        ! "$KNOWN" "$TMP/$k.log" || fail "a console of kind $k taken for the known oops"
        ! "$KNOWN" "$TMP/known.log" "$TMP/$k.log" || fail "known + $k taken for the known oops in every boot"
done
! "$KNOWN" || fail "no log taken for the known oops"
! "$KNOWN" "$TMP/missing.log" || fail "a missing log taken for the known oops"

# 2. tools/testbed's boot(), with a boot_once that writes the console of
# each try (KINDS: one per try, ok = the scenario ran)
cat >"$TMP/boot.sh" <<'EOF'
set -eu
srcdir=$1 out=$2; shift 2
kver=x timeout=1 n=0 stall=${STALL:-}
say() { echo "testbed: $*"; }
info() { echo "testbed: $*" >&2; }
die() { echo "testbed: error: $1" >&2; exit "${2:-1}"; }
boot_once() {
        n=$((n + 1))
        k=$(echo "$KINDS" | cut -d' ' -f$n)
        [ "$k" = ok ] && return 0
        console "$k" "$1"
        # boot_once's QEMU exit status: 137 when timeout(1) killed it
        if [ "$k" = timeout ]; then l1_rc=137; else l1_rc=0; fi
        return 3
}
eval "$(sed -n '/^boot() {/,/^}/p' "$srcdir/tools/testbed")"
boot
echo "booted after $n tries"
EOF
boot() {        # KINDS: prints the exit status and the number of tries
        mkdir -p "$TMP/bo"
        rc=0
        KINDS="$*" bash -c "$(sed -n '/^console() {/,/^}/p' "$0"); . \"$TMP/boot.sh\"" _ \
                "$top_srcdir" "$TMP/bo" >"$TMP/boot.out" 2>&1 || rc=$?
        echo "$rc $(grep -o 'booted after [0-9]*' "$TMP/boot.out" | grep -o '[0-9]*$')"
}
grep -q '^boot() {' "$top_srcdir/tools/testbed" || fail "tools/testbed has no boot() any more: update this test"
expect_eq "boot: ok" "$(boot ok)" "0 1"
expect_eq "boot: known oops, then ok (retried)" "$(boot known ok)" "0 2"
expect_eq "boot: stale int3, then ok (retried)" "$(boot stale ok)" "0 2"
expect_eq "boot: int3 still in memory, never retried" "$(boot int3cc ok)" "3 "
expect_eq "boot: known oops twice" "$(boot known known)" "3 "
expect_eq "boot: timeout, never retried" "$(boot timeout ok)" "3 "
expect_eq "boot: soft lockup, never retried" "$(boot soft ok)" "3 "
expect_eq "boot: another oops, never retried" "$(boot other ok)" "3 "
# ... but a benchmark (the host's watchdog on: stall) gives figures, not a
# pass: an L1 that stopped early for any reason but its timeout is booted
# again and the scenario resumes (listed in its tables)
expect_eq "bench: another oops, then ok (resumed)" "$(STALL=430 boot other ok)" "0 2"
expect_grep "L1 stopped without a status, QEMU exit 0" "$TMP/bo/l1-hangs.txt" "bench: the early stop listed"
expect_eq "bench: timeout, never retried" "$(STALL=430 boot timeout ok)" "3 "

# 3. test-lib.sh: a fake testbed whose boots end as MULTI under
# multi-threaded TCG and as SINGLE on one thread
cat >"$TMP/fake-testbed" <<EOF
#!/bin/sh
out=\$1
mkdir -p "\$out"
rm -f "\$out"/console.try*.log
if [ "\${VSCHEDD_TESTBED_TCG:-multi}" = single ]; then k=\$3; else k=\$2; fi
[ "\$k" = ok ] && exit 0
$(sed -n '/^console() {/,/^}/p' "$0")
console "\$k" "\$out/console.try1.log"
console "\$k" "\$out/console.try2.log"
exit 3
EOF
cat >"$TMP/case.sh" <<EOF
. "$top_srcdir/tests/system/test-lib.sh"
testbed_run "\$TMP/out" sh "$TMP/fake-testbed" "\$TMP/out" "\$1" "\$2"
testbed_crash_skip \$rc "\$TMP/out"
[ \$rc = 0 ] || fail "exited \$rc"
echo "pass on \$tb_tcg"
EOF
verdict() {     # MULTI SINGLE: pass on multi|single, skip, fail
        rc=0
        top_srcdir="$top_srcdir" sh "$TMP/case.sh" "$1" "$2" >"$TMP/case.out" 2>&1 || rc=$?
        case $rc in
        0) grep -o 'pass on [a-z]*' "$TMP/case.out" ;;
        77) echo skip ;;
        *) echo fail ;;
        esac
}
expect_eq "run: ok" "$(verdict ok ok)" "pass on multi"
expect_eq "run: known oops, single ok" "$(verdict known ok)" "pass on single"
expect_eq "run: known oops, single crashes too" "$(verdict known known)" fail
expect_eq "run: known oops, single times out" "$(verdict known timeout)" fail
expect_eq "run: known oops, single soft-locks" "$(verdict known soft)" fail
expect_eq "run: timeout" "$(verdict timeout ok)" fail
expect_eq "run: soft lockup" "$(verdict soft ok)" fail
expect_eq "run: another oops" "$(verdict other ok)" fail
VSCHEDD_TESTBED_RERUN=0; export VSCHEDD_TESTBED_RERUN
expect_eq "run: known oops, no rerun" "$(verdict known ok)" skip
expect_eq "run: timeout, no rerun" "$(verdict timeout ok)" fail
say "ok"
