# interleave: two VMs started together, so their vCPU TIDs interleave (as two
# QEMUs started at once by a host's management do), recorded with a plain
# `trace-cmd record` (no TGIDs, no topology markers): the case where grouping
# vCPU threads into VMs by TID order mixes the VMs (issue 18).  Each tb-vmm
# creates its vCPU thread k only when told to (-vcpu-gate), and the scenario
# alternates between the two VMs: TIDs A/0 < B/0 < A/1 < B/1.  All VMs use
# APIC IDs 0,1, so every IPI destination exists in both VMs of a pair.
#   1. vma ping-pong (both directions), vmb holder (vCPU1 -> vCPU0 only),
#      `trace-cmd record -e kvm -e sched:sched_switch -e sched:sched_wakeup`;
#   2. vmc and vmd both "pinghalt" (a vCPU halts while it is not its turn,
#      so each IPI wakes a sleeping vCPU thread, as with real idle guests),
#      recorded without kvm_eoi, as on an APICv/AVIC host where EOIs do not
#      trap: the IPI -> wake-up evidence alone.
: "${TB_SECS:=2}"
# `-e kvm` enables every kvm tracepoint: park them all (see tb_setup)
TB_PARK_EXTRA=$(for e in $TRACEFS/events/kvm/*/; do e=${e%/}; printf 'kvm:%s ' "${e##*/}"; done)
tb_setup
tids() { sed 's/},{/}\n{/g' /tmp/topo-$1.json | sed -n 's/.*"tid":\([0-9]*\).*/\1/p' | tr '\n' ' '; }
gate_wait() {
        local i=0
        while [ ! -e "$1" ]; do
                i=$((i + 1))
                [ $i -lt 3000 ] || fatal "no $1 after 30 s"
                sleep 0.01
        done
}
# two_vms A WA B WB: start both, their vCPU threads created alternately
two_vms() {
        local a=$1 b=$3 k g
        rm -rf /tmp/gate-$a /tmp/gate-$b
        mkdir -p /tmp/gate-$a /tmp/gate-$b
        TB_VMM_ARGS="-vcpu-gate /tmp/gate-$a"
        tb_spawn_vm $a 2 $2 "" 0
        TB_VMM_ARGS="-vcpu-gate /tmp/gate-$b"
        tb_spawn_vm $b 2 $4 "" 0
        TB_VMM_ARGS=""
        for k in 0 1; do
                for g in $a $b; do
                        : >/tmp/gate-$g/go-$k
                        gate_wait /tmp/gate-$g/made-$k
                done
        done
        tb_started_vm $a
        tb_started_vm $b
        log "$a: tgid $(sed 's/.*"tgid":\([0-9]*\).*/\1/' /tmp/topo-$a.json) vCPU TIDs $(tids $a)"
        log "$b: tgid $(sed 's/.*"tgid":\([0-9]*\).*/\1/' /tmp/topo-$b.json) vCPU TIDs $(tids $b)"
        # shellcheck disable=SC2046
        set -- $a $b $(tids $a) $(tids $b)
        [ "$3" -lt "$5" ] && [ "$5" -lt "$4" ] && [ "$4" -lt "$6" ] ||
                fatal "vCPU TIDs do not interleave: $1 $3 $4, $2 $5 $6"
        sleep 1
}
two_vms vma pingpong vmb holder
tb_rec_plain interleave-plain $TB_SECS
tb_stop_vms
two_vms vmc pinghalt vmd pinghalt
tb_rec_plain interleave-halt $TB_SECS "-e kvm:kvm_apic_ipi -e kvm:kvm_entry -e kvm:kvm_exit -e kvm:kvm_vcpu_wakeup -e kvm:kvm_hypercall -e sched:sched_switch -e sched:sched_wakeup"
tb_stop_vms
