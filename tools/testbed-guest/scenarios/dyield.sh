# dyield: the companion kernel patch (kernel/patches) in L1: boot with
# VSCHEDD_TESTBED_KVM_MODULES=$(kernel/build).  2 VMs x 2 vCPUs on the 2 L1
# CPUs (2:1), both ping-pong, and every sender makes the PV sched-yield
# hypercall (11, a0 = the receiver's APIC ID) every 16 PAUSEs while it waits
# for the acknowledgement (tb-vmm -yield 16).  TCG's SVM has no pause filter,
# so kvm_vcpu_on_spin() never runs here: the hypercall path is the one
# exercised.
#   1. untraced 3 s measurements (both VMs' windows opened together):
#      yield off, yield on (IPI receiver first)
#   2. recordings with kvm:kvm_directed_yield: trace-cmd and vschedd --live,
#      expected reason "ipi" (the receiver of the sender's pending IPI)
#   3. dy_ipi_window_ns=0 (IPI candidates expire at once; a plain parameter,
#      no static key is flipped, see lib.sh) and a directed_yield_hint written
#      to debugfs every 100 ms for each vCPU (its ping-pong receiver, TTL
#      200 ms): recording expected to show reason "hint"; then a 3 s
#      measurement in that setting.
#   4. vschedd --live in enforce mode with every cgroup lever off writes the
#      hints itself (lib/yield-hint.c): its recording must show reason "hint".
# The scenario fails if a recording lacks the expected reason.
: "${TB_SECS:=2}"
P=/sys/module/kvm/parameters
[ -e $P/dy_hint ] && [ -e $P/dy_ipi ] ||
        fatal "kvm.ko lacks the directed-yield parameters: run with VSCHEDD_TESTBED_KVM_MODULES=\$(kernel/build)"
TB_EVENTS="$TB_EVENTS kvm:kvm_directed_yield"
log "kvm: dy_ipi=$(cat $P/dy_ipi) dy_ipi_window_ns=$(cat $P/dy_ipi_window_ns) dy_hint=$(cat $P/dy_hint)"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
tb_setup

# measure WHAT: both VMs run ping-pong for 3 s, their windows opened at once
# (tb-vmm -warmup -1 waits for SIGUSR1, as in the bench scenario)
measure() {
        log "measurement, untraced, 3 s, $1"
        TB_WARMUP=-1
        tb_start_vm vm1 2 pingpong "" 3
        tb_start_vm vm2 2 pingpong "" 3
        sleep 1
        kill -USR1 $TB_PID_vm1 $TB_PID_vm2
        tb_wait_vms
        tb_nvm=0
        unset TB_WARMUP
}

dy_count() { # FILE REASON: kvm_directed_yield lines of that reason in trace-cmd report
        trace-cmd report -N "$1" 2>/dev/null | grep -c "kvm_directed_yield:.*reason $2 "
}

measure "no PV yield"
TB_VMM_ARGS="-yield 16"
measure "PV yield every 16 PAUSEs (dy_ipi on)"

log "recordings, $TB_SECS s each"
tb_start_vm vm1 2 pingpong "" 0
tb_start_vm vm2 2 pingpong "" 0
sleep 1
tb_rec_tracecmd dyield-ipi $TB_SECS
n=$(dy_count $SHARE/dyield-ipi.dat ipi)
log "dyield-ipi.dat: $n directed yields with reason ipi ($(trace-cmd report -N $SHARE/dyield-ipi.dat 2>/dev/null | grep -c kvm_hypercall) kvm_hypercall)"
[ "${n:-0}" -gt 0 ] || fatal "no kvm_directed_yield reason ipi in dyield-ipi.dat"
tb_rec_vschedd dyield-vschedd $TB_SECS

log "hints: dy_ipi_window_ns=0, directed_yield_hint = the ping-pong receiver, rewritten every 100 ms"
old_window=$(cat $P/dy_ipi_window_ns)
echo 0 >$P/dy_ipi_window_ns
# start_hints: a background loop, as vschedd would, for the running VMs
start_hints() {
        (
                while :; do
                        for name in vm1 vm2; do
                                eval "pid=\$TB_PID_$name"
                                for v in /sys/kernel/debug/kvm/$pid-*/vcpu*; do
                                        k=${v##*/vcpu}
                                        echo "$(((k + 1) % 2)) 200000" >$v/directed_yield_hint
                                done
                        done
                        sleep 0.1
                done
        ) &
        hints=$!
}
start_hints
sleep 0.5
for v in /sys/kernel/debug/kvm/$TB_PID_vm1-*/vcpu*; do log "  $v/directed_yield_hint: $(cat $v/directed_yield_hint)"; done
tb_rec_tracecmd dyield-hint $TB_SECS
n=$(dy_count $SHARE/dyield-hint.dat hint)
log "dyield-hint.dat: $n directed yields with reason hint, $(dy_count $SHARE/dyield-hint.dat ipi) with reason ipi"
kill $hints
tb_stop_vms
tb_nvm=0
[ "${n:-0}" -gt 0 ] || fatal "no kvm_directed_yield reason hint in dyield-hint.dat"
log "measurement, untraced, 3 s, PV yield every 16 PAUSEs, hints instead of IPI tracking"
TB_WARMUP=-1
tb_start_vm vm1 2 pingpong "" 3
tb_start_vm vm2 2 pingpong "" 3
start_hints
sleep 1
kill -USR1 $TB_PID_vm1 $TB_PID_vm2
tb_wait_vms
unset TB_WARMUP
kill $hints
tb_nvm=0

# 4. vschedd itself writes the hints: enforce mode with placement,
#    co-scheduling and weights off, so hints are all it does
log "vschedd --live enforce, its own hints (dy_ipi_window_ns still 0), $TB_SECS s recorded"
mkdir -p /tmp/vs-state
printf '[daemon]\nmode = enforce\nstate_dir = /tmp/vs-state\n[policy]\nplacement = no\ncoschedule = no\nweights = no\n' \
        >/tmp/vs-hint.conf
vschedd --config /tmp/vs-hint.conf --test-config >/dev/null || fatal "bad /tmp/vs-hint.conf"
tb_start_vm vm1 2 pingpong "" 0
tb_start_vm vm2 2 pingpong "" 0
sleep 1
if VSCHEDD_DEBUG=1 vschedd --live --config /tmp/vs-hint.conf --quiet --record /tmp/dyield-vshint.dat \
        --duration $TB_SECS --no-summary >/tmp/vshint.out 2>/tmp/vshint.err; then
        cp /tmp/dyield-vshint.dat $SHARE/dyield-vshint.dat
        tb_topology $SHARE/dyield-vshint.topology.json dyield-vshint.dat "vschedd --live --record (enforce, hints)"
        n=$(vschedd --replay /tmp/dyield-vshint.dat --dump-events --json --no-summary --quiet |
                grep '"type":"directed_yield"' | grep -c '"reason":"hint"')
        log "dyield-vshint.dat: $n directed yields with reason hint (hints written by vschedd)"
        grep -ci 'yield hint' /tmp/vshint.err | sed 's/^/  hint write failures logged: /'
else
        tail -n 20 /tmp/vshint.err
        n=0
fi
cp /tmp/vshint.err $SHARE/dyield-vshint.log
tb_stop_vms
echo "$old_window" >$P/dy_ipi_window_ns
[ "${n:-0}" -gt 0 ] || fatal "vschedd's hints caused no directed yield"
log "vmm.log: measurements 1 (no yield), 2 (yield, dy_ipi), 3 (yield, hints only)"
