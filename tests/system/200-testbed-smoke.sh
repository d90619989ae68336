#!/bin/sh
# Nested KVM testbed, smoke scenario: boots an L1 guest under QEMU TCG (-cpu
# max: AMD SVM) with tools/testbed, runs one 2-vCPU ping-pong L2 VM in
# libvirt-style cgroups and records 2 s with vschedd --live --record inside
# L1; here the recording must replay with IPIs, EOIs and vCPU switches of the
# L2 vCPU threads mapped to the VM and its vCPUs.  About 20 s on 2 cores.
# Skips (77) when not root, when VSCHEDD_TESTBED=0, or when qemu, busybox-static,
# cpio or the L1 kernel are not available offline (run `tools/testbed prepare`
# once to fetch them; the test never uses the network).
. "$(dirname "$0")/test-lib.sh"
[ "${VSCHEDD_TESTBED:-1}" != 0 ] || skip "VSCHEDD_TESTBED=0"
require_root
# A sanitized vschedd (the second pass of tools/test) would carry its ASan
# runtime into L1; the plain pass covers the testbed.
if grep -q __asan_init "$VSCHEDD" 2>/dev/null; then
        skip "sanitized build: the testbed smoke runs with the plain build"
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 not installed (tools/testbed prepare)"
[ -x /bin/busybox ] || skip "busybox-static not installed (tools/testbed prepare)"

testbed_run "$TMP/out" env VSCHEDD_TESTBED_OFFLINE=1 VSCHEDD="$VSCHEDD" "$top_srcdir/tools/testbed" run smoke \
        --out "$TMP/out" --timeout 240
[ $rc != 77 ] || skip "$(grep 'testbed: error' "$TMP/log" | head -n 1)"
testbed_crash_skip $rc "$TMP/out"
[ $rc = 0 ] || { cat "$TMP/log" >&2; fail "tools/testbed run smoke exited $rc"; }

rec="$TMP/out/smoke-vschedd.dat"
[ -s "$rec" ] || fail "no recording came back"
"$VSCHEDD" --replay "$rec" --dump-events --json --no-summary >"$TMP/ev.json" 2>"$TMP/err" ||
        { cat "$TMP/err" >&2; fail "replay of the L1 recording failed"; }
grep '"type":"ipi"' "$TMP/ev.json" | grep '"vm":"smoke"' >"$TMP/ipi" || true
expect_ge "IPIs of VM smoke" "$(count '"dst_vcpu":[01],' "$TMP/ipi")" 20
for v in 0 1; do
        expect_ge "IPIs sent by smoke vCPU $v" "$(count "\"vcpu\":$v," "$TMP/ipi")" 10
done
expect_ge "EOIs of VM smoke" "$(grep '"type":"eoi"' "$TMP/ev.json" | grep -c '"vm":"smoke","vcpu":[01],' || true)" 20
expect_ge "switches of smoke vCPUs" \
        "$(grep '"type":"switch"' "$TMP/ev.json" | grep -c '"prev_vm":"smoke","prev_vcpu":[01],\|"next_vm":"smoke","next_vcpu":[01],' || true)" 5
# the L1 side: libvirt-style cgroups held the vCPU threads
expect_grep 'libvirt/vcpu1' "$TMP/out/scenario.log" "vCPU cgroup"
say "ok: $(wc -l <"$TMP/ipi") IPIs of VM smoke; $(grep -o 'round_trips=[0-9]* ops_per_s=[0-9.]*' "$TMP/out/vmm.log" | head -n 1)"
