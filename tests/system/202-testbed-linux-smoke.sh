#!/bin/sh
# Nested KVM testbed, Linux guest smoke (issue 17): boots L1 (tools/testbed
# run linux-smoke --guest linux), where QEMU -accel kvm boots one 2-vCPU
# Linux L2 guest (L1's Debian kernel, the workload image of
# tools/testbed-guest/linux) in libvirt-style cgroups with "CPU n/KVM" vCPU
# threads, and runs one workload (dbench, 3 s, on tmpfs) in it.  Checked
# here: the guest answered "rc=0 RESULT <number> <unit> higher|lower", its
# vCPU threads were in libvirt/vcpuK, and it runs on KVM with its
# paravirtual features found (kvmclock at least).  A few minutes on 2 busy
# cores (mostly the L2 boot under nested TCG).  Skips (77) when not root,
# when VSCHEDD_TESTBED=0, for a sanitized build, or when the testbed or the
# Linux guest image is not prepared (`tools/testbed prepare --guest linux`;
# the test never uses the network).
. "$(dirname "$0")/test-lib.sh"
[ "${VSCHEDD_TESTBED:-1}" != 0 ] || skip "VSCHEDD_TESTBED=0"
require_root
if grep -q __asan_init "$VSCHEDD" 2>/dev/null; then
        skip "sanitized build: the testbed runs with the plain build"
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 not installed (tools/testbed prepare)"
[ -x /bin/busybox ] || skip "busybox-static not installed (tools/testbed prepare)"

testbed_run "$TMP/out" env VSCHEDD_TESTBED_OFFLINE=1 VSCHEDD="$VSCHEDD" "$top_srcdir/tools/testbed" run linux-smoke \
        --guest linux --out "$TMP/out" --secs 3 --timeout 900
[ $rc != 77 ] || skip "$(grep 'testbed: error' "$TMP/log" | head -n 1)"
testbed_crash_skip $rc "$TMP/out"
if [ $rc != 0 ]; then
        cat "$TMP/log" >&2
        tail -n 40 "$TMP/out/l2-console.log" >&2 2>/dev/null || true
        fail "tools/testbed run linux-smoke exited $rc"
fi
R="$TMP/out/linux-smoke.txt"
[ -s "$R" ] || fail "no result came back"
# dbench <value> <unit> higher|lower
read -r wl value unit dir <"$R"
expect_eq "workload" "$wl" dbench
expect_eq "direction" "$dir" higher
[ -n "$unit" ] || fail "no unit in '$(cat "$R")'"
awk -v v="$value" 'BEGIN { exit !(v + 0 > 0) }' || fail "result value '$value' is not a positive number"
# the guest: KVM below it (kvmclock), booted once
G="$TMP/out/l2-guests.tsv"
[ -s "$G" ] || fail "no l2-guests.tsv"
expect_eq "guests booted" "$(grep -c . "$G")" 1
grep -q '^vm1 .*kvmclock' "$G" || fail "guest without kvmclock (not on KVM?): $(cat "$G")"
# its vCPU threads in libvirt's cgroup layout
expect_grep 'CPU_1/KVM=/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/libvirt/vcpu1' "$TMP/out/scenario.log" "vCPU 1 cgroup"
say "ok: dbench $value $unit; guest: $(cut -d' ' -f2- "$G" | awk '{ printf "ready after %s s (L1 clock), PV %s", $1, $3 }')"
