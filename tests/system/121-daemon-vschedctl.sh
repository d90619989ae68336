#!/bin/sh
# The real daemon driven only through vschedctl: status and vms show a
# QEMU-looking VM found in /proc, status the host's interrupt virtualisation
# as /sys/module says; `vm set` switches it to enforce with idle on
# and priority high (shown by `vm`, saved, a bad class refused); with every
# CPU reserved (a reload) the VM is left alone and its idle goes back,
# which lands in its (test) cgroups and survives a daemon restart; reload with
# a good and a bad configuration (the bad one is rejected, the daemon keeps
# running); metrics parse as OpenMetrics; an unprivileged peer is refused.
. "$(dirname "$0")/test-lib.sh"
require_tracefs
enforce_lock
require_v1_cpu
command -v python3 >/dev/null || skip "python3 not installed"
FAKE="$top_builddir/tests/system/fake-vmm"
CTL="${VSCHEDCTL:-$top_builddir/vschedctl}"
LV="$CPU/vschedd-ctl-$$/machine-qemu\\x2d1\\x2dctltest.scope/libvirt"
SOCK="$TMP/control"
INST=vschedd-ctl-$$

cleanup() {
        rc=$?
        set +e
        [ $rc != 0 ] && [ -f "$TMP/err" ] && tail -n 20 "$TMP/err" >&2
        [ -n "${vs:-}" ] && kill -9 "$vs" 2>/dev/null
        [ -n "${fake:-}" ] && kill -9 "$fake" 2>/dev/null
        wait 2>/dev/null
        v1_rmtree "$CPU/vschedd-ctl-$$"
        [ -e "$TRACEFS/instances/$INST" ] && rmdir "$TRACEFS/instances/$INST"
        rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$LV/emulator" "$LV/vcpu0" "$LV/vcpu1"
"$FAKE" ctltest 2 120 >"$TMP/pid" &
fake=$!
wait_file "$TMP/pid" "fake VMM did not start"
pid=$(cat "$TMP/pid")
sleep 0.1
v1_place_threads "$pid" "$LV"
printf '[daemon]\nmode = observe\nstate_dir = %s\n[policy]\nplacement = no\n' "$TMP/state" >"$TMP/vschedd.conf"
chmod 644 "$TMP/vschedd.conf"

start() {
        "$VSCHEDD" --live --config "$TMP/vschedd.conf" --instance "$INST" --control "$SOCK" >/dev/null 2>>"$TMP/err" &
        vs=$!
        i=0
        until "$CTL" -s "$SOCK" status >/dev/null 2>&1; do
                i=$((i + 1)); [ $i -lt 100 ] || fail "the daemon never answered on $SOCK"; sleep 0.1
        done
}
wait_value() {
        i=0
        while [ "$(cat "$1")" != "$2" ]; do
                i=$((i + 1)); [ $i -lt 100 ] || fail "$1 never became $2"; sleep 0.1
        done
}

start
"$CTL" -s "$SOCK" status >"$TMP/status" || fail "vschedctl status failed"
expect_grep "observe" "$TMP/status"
# the host's interrupt virtualisation, as KVM's module parameters on this host say
"$CTL" -s "$SOCK" --json status >"$TMP/status.json" || fail "vschedctl --json status failed"
python3 - "$TMP/status.json" <<'PY' || fail "status: signals.host does not match /sys/module"
import json, os, sys
def p(mod, name):
    try:
        return open(f"/sys/module/{mod}/parameters/{name}").read().strip() in ("Y", "1")
    except FileNotFoundError:
        return False
if os.path.isdir("/sys/module/kvm_intel/parameters"):
    want = "ipiv" if p("kvm_intel", "enable_apicv") and p("kvm_intel", "enable_ipiv") else \
           "apicv-no-eoi" if p("kvm_intel", "enable_apicv") else "software-lapic"
elif os.path.isdir("/sys/module/kvm_amd/parameters"):
    want = "avic" if p("kvm_amd", "avic") else "software-lapic"
else:
    want = "none"
h = json.load(open(sys.argv[1]))["signals"]["host"]
assert h["mode"] == want and h["expect"], (h, want)
PY
i=0
until "$CTL" -s "$SOCK" --json vms | grep -q '"vm":"ctltest"'; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "VM ctltest never showed up in vms"; sleep 0.1
done
"$CTL" -s "$SOCK" --json vm ctltest >"$TMP/vm.json" || fail "vschedctl vm failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["vm"]=="ctltest" and d["vcpus"]==2, d' "$TMP/vm.json" ||
        fail "vm ctltest: unexpected answer"
rc=0; "$CTL" -s "$SOCK" vm nosuchvm >/dev/null 2>&1 || rc=$?
expect_eq "exit code for an unknown VM" "$rc" 1

# unprivileged peers: refused (exit 3), for reads and writes
rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$SOCK" status >/dev/null 2>&1 || rc=$?
expect_eq "exit code for nobody" "$rc" 3

# enforce with idle through vschedctl: the VM's vCPU cgroups follow
"$CTL" -s "$SOCK" vm set ctltest mode=enforce idle=yes priority=high || fail "vm set failed"
wait_value "$LV/vcpu0/cpu.idle" 1
wait_value "$LV/vcpu1/cpu.idle" 1
[ -s "$TMP/state/overrides.json" ] || fail "the override was not saved"
grep -q '"priority":"high"' "$TMP/state/overrides.json" || grep -q '"priority": *"high"' "$TMP/state/overrides.json" ||
        fail "the priority was not saved"
"$CTL" -s "$SOCK" --json vm ctltest >"$TMP/vm.json" || fail "vschedctl vm failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["priority"]=="high", d' "$TMP/vm.json" ||
        fail "vm ctltest: the priority override did not take"
rc=0; "$CTL" -s "$SOCK" vm set ctltest priority=urgent >/dev/null 2>&1 || rc=$?
expect_eq "exit code for a bad priority" "$rc" 2
rc=0; "$CTL" -s "$SOCK" vm set ctltest weight-min=500 weight-max=100 >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "weight-min > weight-max was accepted"

# reload: a bad file is rejected and the daemon keeps running
printf '[policy]\nweight_min = 99999\n' >"$TMP/vschedd.conf"
rc=0; "$CTL" -s "$SOCK" reload >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a bad configuration was accepted on reload"
kill -0 $vs || fail "the daemon died on a bad reload"
expect_grep "vschedd.conf:2: key 'weight_min'" "$TMP/err"
printf '[daemon]\nmode = observe\nstate_dir = %s\n[policy]\nplacement = no\n' "$TMP/state" >"$TMP/vschedd.conf"
"$CTL" -s "$SOCK" reload || fail "a good reload failed"
wait_value "$LV/vcpu0/cpu.idle" 1      # the saved override still applies after the reload

# metrics are OpenMetrics text
"$CTL" -s "$SOCK" metrics >"$TMP/metrics" || fail "metrics failed"
python3 - "$TMP/metrics" <<'PY' || fail "metrics are not valid OpenMetrics"
import re, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "" and lines[-2] == "# EOF", "no # EOF"
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$')
for l in lines[:-2]:
    assert l.startswith("# TYPE ") or l.startswith("# HELP ") or sample.match(l), l
assert any(l.startswith('vschedd_vm_ipis_total{vm="ctltest"}') for l in lines)
PY

# every online CPU reserved: the VM is left alone (vm says why, the log
# too) and what vschedd held there (cpu.idle of the override) goes back
cp "$TMP/vschedd.conf" "$TMP/vschedd.conf.keep"
printf 'reserved_cpus = %s\n' "$(cat /sys/devices/system/cpu/online)" >>"$TMP/vschedd.conf"
"$CTL" -s "$SOCK" reload || fail "the reload with reserved_cpus failed"
i=0
until "$CTL" -s "$SOCK" --json vm ctltest | grep -q '"left_alone":"every CPU it may use is reserved"'; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "vm ctltest: no left_alone with every CPU reserved"; sleep 0.1
done
wait_value "$LV/vcpu0/cpu.idle" 0
expect_grep "ctltest: leaving the VM alone: every CPU it may use is reserved" "$TMP/err"
mv "$TMP/vschedd.conf.keep" "$TMP/vschedd.conf"
"$CTL" -s "$SOCK" reload || fail "the reload without reserved_cpus failed"
wait_value "$LV/vcpu0/cpu.idle" 1
"$CTL" -s "$SOCK" --json vm ctltest | grep -q '"left_alone"' && fail "still left alone without reserved CPUs"

# the override survives a restart; the stop restores the cgroups
kill -TERM $vs; wait $vs || true; vs=
expect_eq "cpu.idle after stop" "$(cat "$LV/vcpu0/cpu.idle")" 0
start
wait_value "$LV/vcpu0/cpu.idle" 1
kill -TERM $vs; rc=0; wait $vs || rc=$?; vs=
expect_eq "exit code" "$rc" 0
expect_eq "cpu.idle after the final stop" "$(cat "$LV/vcpu1/cpu.idle")" 0
say "ok"
