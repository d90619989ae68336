# dyield: the companion kernel series (kernel/patches) in L1: boot with
# VSCHEDD_TESTBED_KVM_MODULES=$(kernel/build).  2 VMs x 2 vCPUs on the 2 L1
# CPUs (2:1), both ping-pong; every sender makes a PV hypercall every 16
# PAUSEs while it waits for the acknowledgement.  TCG's SVM has no pause
# filter, so kvm_vcpu_on_spin() never runs here: the hypercall paths are the
# ones exercised.  Each phase records kvm:kvm_directed_yield with trace-cmd
# ($TB_SECS s) and checks who was yielded to, and why:
#   off    no KVM_CAP_DIRECTED_YIELD, sched_yield (11) naming an APIC ID no
#          vCPU has: the guest's target fails and nothing else is tried (off
#          by default: no reason ipi/hint)
#   pv     -dy ipi, sched_yield (11) naming the receiver, which is live: every
#          yield goes to that target with reason pv; the IPI receiver (the
#          same vCPU) is never tried on top
#   kick   -dy ipi, kick (5) naming the receiver: every yield goes to the
#          kicked vCPU with reason kick, none to another candidate
#   ipi    -dy ipi, sched_yield naming nobody: KVM falls back to the receiver
#          of the pending IPI, reason ipi (the failed guest target counted as
#          skipped)
#   hint   -dy hint, tb-vmm writes hints (its receiver) every 100 ms through
#          the hint file (KVM_GET_DIRECTED_YIELD_FD), sched_yield naming
#          nobody: reason hint
#   vshint as hint, but vschedd --live in enforce mode (every cgroup lever
#          off) takes the VMs' hint files (pidfd_getfd) and writes the hints
#          itself (lib/yield-hint.c): its recording must show reason hint
#   vsdy   tb-vmm without -dy (a stock VMM), vschedd enforce with
#          directed_yield = yes turns the capability on itself (patch 4):
#          its recording must show reason ipi; after it stopped, a trace-cmd
#          recording none (turned off again); killed with SIGKILL, `vschedd
#          --restore` turns it off (recorded again); with tb-vmm -dy ipi, the
#          VMM's own setting is left on (recorded)
# Yields with result > 0 must all go to the ping-pong receiver (vCPU i ->
# i+1 mod 2).  The scenario fails if a phase lacks what it expects.
# Each phase takes about a minute under TCG (trace-cmd is slow there):
# testbed-timeout: 2400
: "${TB_SECS:=2}"
tb-vmm -name probe -dy foo 2>&1 | grep -q -- '-dy ipi' ||
        fatal "tb-vmm lacks -dy (a stale tb-vmm in the testbed cache?)"
TB_EVENTS="$TB_EVENTS kvm:kvm_directed_yield"
tb_setup

# dy_check FILE: "reason:yielded-to-receiver:yielded-elsewhere:tried-not-yielded" per reason seen,
# and "none:N" decisions that tried no target
dy_check() {
        trace-cmd report -N "$1" 2>/dev/null | awk '
                /kvm_directed_yield:/ {
                        for (i = 1; i <= NF; i++) {
                                if ($i == "spinner") s = $(i + 1)
                                if ($i == "target") t = $(i + 1)
                                if ($i == "reason") r = $(i + 1)
                                if ($i == "result") res = $(i + 1)
                        }
                        if (t == -1) { none++; next }
                        seen[r] = 1
                        if (res > 0 && t == (s + 1) % 2) ok[r]++
                        else if (res > 0) bad[r]++
                        else fail[r]++
                }
                END {
                        for (r in seen) printf "%s:%d:%d:%d ", r, ok[r], bad[r], fail[r]
                        printf "none:%d\n", none
                }'
}
# yielded FILE REASON: yields of that reason to the receiver
yielded() { dy_check "$1" | tr ' ' '\n' | awk -F: -v r="$2" '$1 == r { print $2 }'; }
# tried FILE REASON: decisions of that reason that tried a target
tried() { dy_check "$1" | tr ' ' '\n' | awk -F: -v r="$2" '$1 == r { print $2 + $3 + $4 }'; }
# elsewhere FILE: yields (any reason) to a vCPU other than the receiver
elsewhere() { dy_check "$1" | tr ' ' '\n' | awk -F: 'NF == 4 { n += $3 } END { print n + 0 }'; }

# phase NAME TB_VMM_ARGS: record both VMs running with these tb-vmm options
phase() {
        log "phase $1: tb-vmm $2"
        TB_VMM_ARGS="$2"
        tb_start_vm vm1 2 pingpong "" 0
        tb_start_vm vm2 2 pingpong "" 0
        sleep 1
        tb_rec_tracecmd dyield-$1 $TB_SECS
        tb_stop_vms
        tb_nvm=0
        log "dyield-$1.dat: $(dy_check $SHARE/dyield-$1.dat) (reason:to-receiver:elsewhere:not-yielded)"
        trace-cmd report -N $SHARE/dyield-$1.dat 2>/dev/null | grep -m 3 'kvm_directed_yield:' | sed 's/^/  /'
}

phase off "-yield 16 -yield-to none"
F=$SHARE/dyield-off.dat
[ "$(tried $F ipi)$(tried $F hint)" = "" ] || fatal "dyield-off: ipi/hint candidates tried without KVM_CAP_DIRECTED_YIELD"
[ "$(dy_check $F | sed 's/.*none://')" -gt 0 ] || fatal "dyield-off: no decision without a target (sched_yield to nobody)"

phase pv "-dy ipi -yield 16"
F=$SHARE/dyield-pv.dat
[ "$(yielded $F pv)" -gt 0 ] 2>/dev/null || fatal "dyield-pv: no yield with reason pv to the live guest target"
[ "$(tried $F ipi)$(tried $F hint)" = "" ] || fatal "dyield-pv: the guest's live target was overridden (ipi/hint tried)"
[ "$(elsewhere $F)" = 0 ] || fatal "dyield-pv: yields to a vCPU other than the guest's target"

phase kick "-dy ipi -kick 16"
F=$SHARE/dyield-kick.dat
[ "$(yielded $F kick)" -gt 0 ] 2>/dev/null || fatal "dyield-kick: no yield with reason kick to the kicked vCPU"
[ "$(tried $F ipi)$(tried $F hint)$(tried $F pv)" = "" ] || fatal "dyield-kick: a kick fell back to another candidate"
[ "$(elsewhere $F)" = 0 ] || fatal "dyield-kick: yields to a vCPU other than the kicked one"

phase ipi "-dy ipi -yield 16 -yield-to none"
F=$SHARE/dyield-ipi.dat
[ "$(yielded $F ipi)" -gt 0 ] 2>/dev/null || fatal "dyield-ipi: no fallback yield to the IPI receiver"
[ "$(elsewhere $F)" = 0 ] || fatal "dyield-ipi: yields to a vCPU other than the IPI receiver"

phase hint "-dy hint -hints 100 -yield 16 -yield-to none"
F=$SHARE/dyield-hint.dat
[ "$(yielded $F hint)" -gt 0 ] 2>/dev/null || fatal "dyield-hint: no fallback yield to the hinted vCPU"
[ "$(tried $F ipi)" = "" ] || fatal "dyield-hint: the IPI candidate was tried while only hints are enabled"
[ "$(elsewhere $F)" = 0 ] || fatal "dyield-hint: yields to a vCPU other than the hinted one"

# vschedd itself writes the hints: enforce mode with placement,
# co-scheduling and weights off, so hints are all it does
log "phase vshint: vschedd --live enforce, its own hints through the VMs' hint files, $TB_SECS s recorded"
mkdir -p /tmp/vs-state
printf '[daemon]\nmode = enforce\nstate_dir = /tmp/vs-state\n[policy]\nplacement = no\ncoschedule = no\nweights = no\n' \
        >/tmp/vs-hint.conf
vschedd --config /tmp/vs-hint.conf --test-config >/dev/null || fatal "bad /tmp/vs-hint.conf"
TB_VMM_ARGS="-dy hint -yield 16 -yield-to none"
tb_start_vm vm1 2 pingpong "" 0
tb_start_vm vm2 2 pingpong "" 0
sleep 1
ls -l /proc/$TB_PID_vm1/fd | grep -q 'anon_inode:kvm-directed-yield' || fatal "vm1 has no hint file open"
if VSCHEDD_DEBUG=1 vschedd --live --config /tmp/vs-hint.conf --quiet --record /tmp/dyield-vshint.dat \
        --duration $TB_SECS --no-summary >/tmp/vshint.out 2>/tmp/vshint.err; then
        cp /tmp/dyield-vshint.dat $SHARE/dyield-vshint.dat
        tb_topology $SHARE/dyield-vshint.topology.json dyield-vshint.dat "vschedd --live --record (enforce, hints)"
        n=$(vschedd --replay /tmp/dyield-vshint.dat --dump-events --json --no-summary --quiet |
                grep '"type":"directed_yield"' | grep '"reason":"hint"' | grep -c '"yielded":true')
        log "dyield-vshint.dat: $n directed yields with reason hint (hints written by vschedd)"
        grep -i 'yield hint\|hint file' /tmp/vshint.err | head -n 5 | sed 's/^/  /'
else
        tail -n 20 /tmp/vshint.err
        n=0
fi
cp /tmp/vshint.err $SHARE/dyield-vshint.log
tb_stop_vms
[ "${n:-0}" -gt 0 ] || fatal "vschedd's hints caused no directed yield"

# vschedd turns the capability on itself (directed_yield = yes; patch 4 lets
# a process holding a copy of the VM file do it): tb-vmm without -dy, as a
# stock VMM; every cgroup lever off
log "phase vsdy: vschedd --live enforce, directed_yield = yes, tb-vmm without -dy"
rm -rf /tmp/vs-state
printf '[daemon]\nmode = enforce\nstate_dir = /tmp/vs-state\n[policy]\nplacement = no\ncoschedule = no\nweights = no\ndirected_yield = yes\n' \
        >/tmp/vs-dy.conf
vschedd --config /tmp/vs-dy.conf --test-config >/dev/null || fatal "bad /tmp/vs-dy.conf"
TB_VMM_ARGS="-yield 16 -yield-to none"
tb_start_vm vm1 2 pingpong "" 0
tb_start_vm vm2 2 pingpong "" 0
sleep 1
VSCHEDD_DEBUG=1 vschedd --live --config /tmp/vs-dy.conf --record /tmp/dyield-vsdy.dat \
        --duration $((TB_SECS + 2)) --no-summary >/tmp/vsdy.out 2>/tmp/vsdy.err || { tail -n 20 /tmp/vsdy.err; fatal "vschedd (vsdy) failed"; }
cp /tmp/vsdy.err $SHARE/dyield-vsdy.log
cp /tmp/dyield-vsdy.dat $SHARE/dyield-vsdy.dat
tb_topology $SHARE/dyield-vsdy.topology.json dyield-vsdy.dat "vschedd --live --record (enforce, directed_yield)"
grep -i 'directed yield' /tmp/vsdy.err | sed 's/^/  /'
# (the testbed's idle keepalive VM is a VM too: turned on and off as well)
for vm in vm1 vm2; do
        grep -q "$vm: directed yield on (KVM_CAP_DIRECTED_YIELD" /tmp/vsdy.err ||
                fatal "vsdy: vschedd did not turn directed yield on in $vm"
done
n_on=$(grep -c 'directed yield on (KVM_CAP_DIRECTED_YIELD' /tmp/vsdy.err)
grep -q "directed yield turned off again in $n_on VM" /tmp/vsdy.err || fatal "vsdy: vschedd did not turn it off in all $n_on VMs at stop"
[ -z "$(ls -A /tmp/vs-state 2>/dev/null)" ] || fatal "vsdy: vschedd left $(ls /tmp/vs-state) in its state_dir"
n=$(vschedd --replay /tmp/dyield-vsdy.dat --dump-events --json --no-summary --quiet |
        grep '"type":"directed_yield"' | grep '"reason":"ipi"' | grep -c '"yielded":true')
log "dyield-vsdy.dat: $n directed yields with reason ipi (capability turned on by vschedd)"
[ "$n" -gt 0 ] || fatal "vsdy: no yield to the IPI receiver while vschedd had the capability on"
# turned off again: the same VMs, recorded with trace-cmd
tb_rec_tracecmd dyield-vsdy-after $TB_SECS
F=$SHARE/dyield-vsdy-after.dat
log "dyield-vsdy-after.dat: $(dy_check $F) (reason:to-receiver:elsewhere:not-yielded)"
[ "$(tried $F ipi)$(tried $F hint)" = "" ] || fatal "vsdy: ipi/hint candidates still tried after vschedd stopped"

# killed with the capability on: the next start (here vschedd --restore) turns it off
VSCHEDD_DEBUG=1 vschedd --live --config /tmp/vs-dy.conf --no-summary >/tmp/vsdy2.out 2>/tmp/vsdy2.err &
vs=$!
i=0
while [ "$(grep -c 'directed yield on (KVM_CAP' /tmp/vsdy2.err)" != $n_on ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL $vs
wait $vs 2>/dev/null
[ "$(wc -l </tmp/vs-state/directed-yield 2>/dev/null)" = $n_on ] || fatal "vsdy: no state file listing all $n_on VMs after SIGKILL"
vschedd --restore --config /tmp/vs-dy.conf >/tmp/vsdy-restore.out 2>&1 || { cat /tmp/vsdy-restore.out; fatal "vsdy: vschedd --restore failed"; }
sed 's/^/  /' /tmp/vsdy-restore.out
grep -q "turned off directed yield in $n_on VM" /tmp/vsdy-restore.out || fatal "vsdy: --restore did not turn it off in all $n_on VMs"
[ ! -e /tmp/vs-state/directed-yield ] || fatal "vsdy: state file left after --restore"
tb_rec_tracecmd dyield-vsdy-restored $TB_SECS
F=$SHARE/dyield-vsdy-restored.dat
log "dyield-vsdy-restored.dat: $(dy_check $F) (reason:to-receiver:elsewhere:not-yielded)"
[ "$(tried $F ipi)$(tried $F hint)" = "" ] || fatal "vsdy: ipi/hint candidates still tried after --restore"
tb_stop_vms

# a VMM that turned it on itself is left as it set it
TB_VMM_ARGS="-dy ipi -yield 16 -yield-to none"
tb_start_vm vm1 2 pingpong "" 0
tb_start_vm vm2 2 pingpong "" 0
sleep 1
vschedd --live --config /tmp/vs-dy.conf --no-summary --duration 3 >/dev/null 2>/tmp/vsdy3.err ||
        { tail -n 20 /tmp/vsdy3.err; fatal "vschedd (vsdy, VMM's own) failed"; }
for vm in vm1 vm2; do
        grep -q "$vm: directed yield already on by its VMM" /tmp/vsdy3.err || { cat /tmp/vsdy3.err; fatal "vsdy: the VMM's own setting not recognised in $vm"; }
done
tb_rec_tracecmd dyield-vsdy-vmm $TB_SECS
F=$SHARE/dyield-vsdy-vmm.dat
log "dyield-vsdy-vmm.dat: $(dy_check $F) (reason:to-receiver:elsewhere:not-yielded)"
[ "$(yielded $F ipi)" -gt 0 ] 2>/dev/null || fatal "vsdy: vschedd turned off the VMM's own setting"
tb_stop_vms
log "dyield: all phases passed"
