#!/bin/bash
# The service checks inside the systemd-booted L1 of tools/testbed-systemd
# (vschedd-testbed.service, after multi-user.target).  vschedd was installed
# by `make install DESTDIR=` and is driven only as an operator would: its
# unit, /etc/vschedd.conf, systemctl, journalctl and vschedctl.
#
#  1. a real KVM VM "sdtest" (tb-vmm, 2 vCPUs ping-ponging IPIs) in a systemd
#     scope machine.slice/machine-qemu\x2d1\x2dsdtest.scope with Delegate=yes
#     (as machined makes them for libvirt), its threads in libvirt's layout
#     libvirt/{emulator,vcpu0,vcpu1} (threaded cgroups, cpu + cpuset);
#  2. /etc/vschedd.conf (vschedd.conf here): enforce, `idle = yes` for sdtest
#     (a write vschedd must make), a drop-in with VSCHEDD_DEBUG=1 (debug.conf:
#     decisions are debug lines);
#  3. systemctl start (blocks until READY=1): active/running, STATUS= text;
#     the cpu.idle of both vCPU cgroups becomes 1; vschedctl status answers;
#  4. systemctl reload with a changed good file (exit 0), then with a bad one
#     (fails, the service stays active): both seen in the journal;
#  5. systemctl stop: inactive (success), every cgroup file vschedd may write
#     back to its value from before the start, no journal of changes left;
#  6. journalctl -u vschedd -o json to /share/journal.json.
# Results in /share (the host's results dir): status (OK or FAIL ...),
# scenario.log, show-*.txt, cgroup-{before,during,after}.txt, journal.*,
# vschedctl-status.json, security.txt.  Then the machine powers off.
set -u
SHARE=/share
CG=/sys/fs/cgroup
TRACEFS=/sys/kernel/tracing
BIN=/usr/lib/vschedd-testbed
VM=sdtest
SCOPE_UNIT='machine-qemu\x2d1\x2dsdtest.scope'
SCOPE=$CG/machine.slice/$SCOPE_UNIT
LV=$SCOPE/libvirt
. $BIN/env
exec >>$SHARE/scenario.log 2>&1
failures=0

log() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
console() { echo "TESTBED: $*" >/dev/console; log "$*"; }
check() {       # check WHAT COND...: log the result, count failures
        local what=$1
        shift
        if "$@"; then log "ok: $what"; else log "FAIL: $what"; failures=$((failures + 1)); fi
}
finish() {
        journalctl -u vschedd -o json --no-pager >$SHARE/journal.json 2>&1
        journalctl -u vschedd -o short-monotonic --no-pager >$SHARE/journal.txt 2>&1
        journalctl -b -o short-monotonic --no-pager >$SHARE/journal-boot.txt 2>&1
        cp /run/vm-$VM.log $SHARE/vm.log 2>/dev/null
        if [ "$failures" = 0 ] && [ -z "${1:-}" ]; then
                echo OK >$SHARE/status
        else
                echo "FAIL ${1:-$failures check(s) failed}" >$SHARE/status
        fi
        console "checks done ($(cat $SHARE/status)) after $(cut -d' ' -f1 /proc/uptime) s"
        rmdir $SHARE/.mounted 2>/dev/null
        sync
        systemctl --no-block poweroff
        exit 0
}
fatal() { log "FATAL: $*"; finish "$*"; }
# wait_for SECONDS CMD...: poll every 0.2 s until CMD succeeds, SECONDS of uptime at most
wait_for() {
        local end
        end=$(awk -v s="$1" '{ printf "%d", $1 + s }' /proc/uptime)
        shift
        while ! "$@"; do
                [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ] || return 1
                sleep 0.2
        done
}
# nonempty FILE...: each has a line (cgroupfs files have size 0 for test -s)
nonempty() {
        local f
        for f; do grep -q . "$f" || return 1; done
}
# restored BEFORE AFTER: every "path value" line equal, except that an empty
# cpuset.cpus may come back as the parent's effective CPUs: the kernel
# refuses to empty the cpuset.cpus of a populated cgroup (ENOSPC), and
# vs_cg_write() writes that same set of CPUs instead (lib/cgroup.c)
restored() {
        local eff f v a ok=0
        eff=$(sed -n 's|.*/cpuset.cpus.effective \(.*\)|\1|p' "$1" | tail -n 1)
        while read -r f v; do
                a=$(grep -F "$f " "$2" | head -n 1 | cut -d' ' -f2-)
                [ "$a" = "$v" ] && continue
                if [ "${f##*/}" = cpuset.cpus ] && [ -z "$v" ] && [ "$a" = "$eff" ]; then
                        log "note: $f was empty, is now '$a' (the parent's effective CPUs)"
                        continue
                fi
                log "not restored: $f '$v' -> '$a'"
                ok=1
        done <"$1"
        return $ok
}
show() { systemctl show -p ActiveState,SubState,Result,StatusText,MainPID,NRestarts vschedd; }
prop() { systemctl show -p "$1" --value vschedd; }
journal_has() { journalctl -u vschedd -o cat --no-pager | grep -q -- "$1"; }
# every cgroup file vschedd may write for the VM, "path value" a line
snapshot() {
        local f
        echo "$LV/cgroup.freeze $(cat "$LV/cgroup.freeze")"
        echo "$LV/cpuset.cpus.effective $(cat "$LV/cpuset.cpus.effective")"
        for f in "$LV"/vcpu*/cpuset.cpus "$LV"/vcpu*/cpu.weight "$LV"/vcpu*/cpu.idle "$LV"/vcpu*/cpu.max; do
                echo "$f $(cat "$f")"
        done
}

console "systemd up: $(systemctl is-system-running) after $(cut -d' ' -f1 /proc/uptime) s ($(systemctl --version | head -n 1))"
{
        echo "host_kernel=$HOST_KERNEL"
        echo "host_qemu=$HOST_QEMU"
        echo "l1_kernel=$(uname -r)"
        echo "l1_cpus=$(nproc)"
        echo "l1_systemd=$(systemctl --version | head -n 1)"
        echo "vschedd=$VSCHEDD_VERSION"
        echo "l1_cmdline=$(cat /proc/cmdline)"
        echo "kvm_amd_nested=$(cat /sys/module/kvm_amd/parameters/nested)"
} >$SHARE/l1-info.txt
systemctl --failed --no-legend --plain >$SHARE/failed-units.txt
check "vschedd.service installed by make install" test -f /usr/lib/systemd/system/vschedd.service
check "group vschedd created by systemd-sysusers" getent group vschedd

# ---- 1. the VM, in a delegated scope like machined's, libvirt's layout inside
# Enabling a tracepoint's first probe or creating the first VM flips kernel
# static keys; under MTTCG that can crash L1 while the other CPU runs the
# patched code (see tools/testbed-guest/lib.sh).  Flip them all now, before
# vschedd runs: the VM first, then every tracepoint vschedd uses (with those
# its pid filter hooks: sched_waking, sched_wakeup_new, sched_process_fork and
# _free), parked in an instance of their own.
systemd-run --quiet --scope --unit="$SCOPE_UNIT" --slice=machine -p Delegate=yes \
        $BIN/tb-vmm -name $VM -smp 2 -workload pingpong -warmup 0.5 -duration 0 -topology /run/topo-$VM.json \
        >/run/vm-$VM.log 2>&1 &
vmpid=$!
wait_for 20 test -s /run/topo-$VM.json || { cat /run/vm-$VM.log; fatal "VM $VM did not start"; }
log "VM $VM: pid $vmpid, scope $(cut -d: -f3 /proc/$vmpid/cgroup)"
park=$TRACEFS/instances/tb-park
mkdir -p $park
echo 0 >$park/tracing_on
for ev in sched/sched_switch sched/sched_wakeup kvm/kvm_apic_ipi kvm/kvm_eoi kvm/kvm_pv_eoi kvm/kvm_exit \
          kvm/kvm_entry kvm/kvm_hypercall kvm/kvm_ple_window_update kvm/kvm_avic_incomplete_ipi kvm/kvm_vcpu_wakeup \
          sched/sched_waking sched/sched_wakeup_new sched/sched_process_fork sched/sched_process_free; do
        [ -e $park/events/$ev/enable ] && { echo 1 >$park/events/$ev/enable || log "cannot park $ev"; }
done

[ -d "$SCOPE" ] || fatal "no scope cgroup $SCOPE"
grep -qw cpu "$SCOPE/cgroup.controllers" && grep -qw cpuset "$SCOPE/cgroup.controllers" ||
        fatal "Delegate=yes gave the scope no cpu/cpuset: $(cat "$SCOPE/cgroup.controllers")"
mkdir "$LV" || fatal "mkdir $LV"
echo $vmpid >"$LV/cgroup.procs" || fatal "cannot move $vmpid to $LV"
echo "+cpu +cpuset" >"$SCOPE/cgroup.subtree_control" || fatal "$SCOPE: subtree_control"
mkdir "$LV/emulator"
for t in /proc/$vmpid/task/*; do
        case $(cat $t/comm) in "CPU "*/KVM) k=$(cat $t/comm); k=${k#CPU }; mkdir -p "$LV/vcpu${k%/KVM}" ;; esac
done
for d in "$LV"/emulator "$LV"/vcpu*; do echo threaded >"$d/cgroup.type" || fatal "$d: threaded"; done
echo "+cpu +cpuset" >"$LV/cgroup.subtree_control" || fatal "$LV: subtree_control"
for t in /proc/$vmpid/task/*; do
        c=$(cat $t/comm)
        case $c in
        "CPU "*/KVM) k=${c#CPU }; echo ${t##*/} >"$LV/vcpu${k%/KVM}/cgroup.threads" || fatal "thread $c" ;;
        *) echo ${t##*/} >"$LV/emulator/cgroup.threads" || fatal "thread $c" ;;
        esac
done
log "VM $VM threads: $(for t in /proc/$vmpid/task/*; do printf '%s=%s ' "$(tr ' ' _ <$t/comm)" "$(cut -d: -f3 $t/cgroup)"; done)"
check "vCPU threads in libvirt/vcpu0 and vcpu1" nonempty "$LV/vcpu0/cgroup.threads" "$LV/vcpu1/cgroup.threads"
snapshot >$SHARE/cgroup-before.txt

# ---- 2. configuration: /etc/vschedd.conf and a drop-in with VSCHEDD_DEBUG=1
# come with the image (tools/testbed-guest/systemd/{vschedd,debug}.conf)
check "VM $VM configured in /etc/vschedd.conf" grep -q "^\[vm \"$VM\"\]" /etc/vschedd.conf
check "vschedd --test-config accepts it" /usr/sbin/vschedd --test-config
check "the debug drop-in is in force" sh -c 'systemctl show -p Environment --value vschedd | grep -q VSCHEDD_DEBUG=1'

# ---- 3. start
t0=$(cut -d' ' -f1 /proc/uptime)
systemctl start vschedd
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
console "systemctl start vschedd: exit $rc, start took $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.2f", b - a }') s"
check "systemctl start exits 0" test $rc = 0
[ $rc = 0 ] || { systemctl status vschedd --no-pager; fatal "systemctl start vschedd failed"; }
# the first /proc scan may come after READY=1: the STATUS= line follows
wait_for 15 sh -c 'systemctl show -p StatusText --value vschedd | grep -q "^watching 1 VM, 2 vCPUs, enforce"'
show >$SHARE/show-started.txt
log "started: $(tr '\n' ' ' <$SHARE/show-started.txt)"
check "active/running after start" test "$(prop ActiveState)/$(prop SubState)" = active/running
check "STATUS= says 1 VM, 2 vCPUs, enforce" grep -q '^StatusText=watching 1 VM, 2 vCPUs, enforce' $SHARE/show-started.txt
check "journal: started (MESSAGE_ID)" sh -c 'journalctl -u vschedd MESSAGE_ID=8d0a3c1f5e6b4b0f9d7a2c4e1f3b5a70 -o cat | grep -q .'
check "vcpu0 cpu.idle becomes 1 (enforce)" wait_for 20 grep -qx 1 "$LV/vcpu0/cpu.idle"
check "vcpu1 cpu.idle becomes 1 (enforce)" wait_for 20 grep -qx 1 "$LV/vcpu1/cpu.idle"
sleep 2         # a few epochs with IPIs flowing (placement may act too)
snapshot >$SHARE/cgroup-during.txt
check "a journal of original values in /run/vschedd while enforcing" test -s /run/vschedd/journal
vschedctl --json status >$SHARE/vschedctl-status.json 2>$SHARE/vschedctl-status.err
check "vschedctl status over /run/vschedd/control" grep -q '"enforce"' $SHARE/vschedctl-status.json
ls -l /run/vschedd >>$SHARE/scenario.log

# ---- 4. reload, good then bad (ExecReload= waits for the daemon's answer)
sed -i 's/^mode = enforce/mode = enforce\nepoch_ms = 25/' /etc/vschedd.conf
systemctl reload vschedd
check "systemctl reload exits 0" test $? = 0
check "journal: configuration reloaded" wait_for 10 journal_has "configuration reloaded from /etc/vschedd.conf (mode enforce)"
sed -i "s/^epoch_ms = 25$/epoch_ms = 99999/" /etc/vschedd.conf
systemctl reload vschedd 2>$SHARE/reload-bad.err
check "systemctl reload of a bad file fails" test $? != 0
check "journal: reload rejected with the reason" wait_for 10 journal_has "Reload rejected, keeping the running configuration: .*epoch_ms"
check "still active/running after the bad reload" test "$(prop ActiveState)/$(prop SubState)" = active/running
check "cpu.idle still 1 after the reloads" test "$(cat "$LV/vcpu0/cpu.idle")$(cat "$LV/vcpu1/cpu.idle")" = 11
show >$SHARE/show-reloaded.txt
sed -i 's/^epoch_ms = 99999$/epoch_ms = 25/' /etc/vschedd.conf

check "VM $VM still running" kill -0 $vmpid

# ---- 5. stop
t0=$(cut -d' ' -f1 /proc/uptime)
systemctl stop vschedd
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
console "systemctl stop vschedd: exit $rc, stop took $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.2f", b - a }') s"
check "systemctl stop exits 0" test $rc = 0
show >$SHARE/show-stopped.txt
check "inactive, result success after stop" test "$(prop ActiveState)/$(prop Result)" = inactive/success
snapshot >$SHARE/cgroup-after.txt
check "every cgroup value restored by systemctl stop" restored $SHARE/cgroup-before.txt $SHARE/cgroup-after.txt
diff $SHARE/cgroup-before.txt $SHARE/cgroup-after.txt
check "no journal of changed values left" test ! -e /run/vschedd/journal
check "journal: restored (MESSAGE_ID)" sh -c 'journalctl -u vschedd MESSAGE_ID=5b7c9d1e3f2a4b6c8d0e1f2a3b4c5d62 -o cat | grep -q .'
check "journal: decisions with VM=, VCPU=, CGROUP=, REASON=" sh -c \
        "journalctl -u vschedd MESSAGE_ID=2f6e9b1a7c3d4e5f8a9b0c1d2e3f4a51 VM=$VM -o json | grep '\"VCPU\":\"[01]\"' 2>/dev/null | grep '\"CGROUP\":\"[^\"]*/libvirt/vcpu[01]\"' | grep -q '\"REASON\":\"[^\"]'"
# errors other than the bad reload: a sandboxing problem shows up here
journalctl -u vschedd -p err -o cat --no-pager | grep -v '^Reload rejected\|^Reload failed for vschedd' >$SHARE/journal-errors.txt
check "no other error lines from vschedd (sandboxing)" test ! -s $SHARE/journal-errors.txt
systemd-analyze security vschedd --no-pager >$SHARE/security.txt 2>&1 || true
log "systemd-analyze security: $(tail -n 1 $SHARE/security.txt)"
finish
