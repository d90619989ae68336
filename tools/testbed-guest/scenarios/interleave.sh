# interleave: two VMs started together, so their vCPU TIDs interleave (as two
# QEMUs started at once by a host's management do), recorded with a plain
# `trace-cmd record` (no TGIDs, no topology markers): the case where grouping
# vCPU threads into VMs by TID order mixes the VMs (issue 18).  Each tb-vmm
# sleeps 0.4 s before creating each vCPU thread and vmb starts 0.2 s after
# vma: TIDs vma/0 < vmb/0 < vma/1 < vmb/1.  Both VMs use APIC IDs 0,1, so
# every IPI destination exists in both.  vma: ping-pong (both directions),
# vmb: holder (vCPU1 -> vCPU0 only).  Fails unless the TIDs interleave.
: "${TB_SECS:=2}"
# `-e kvm` enables every kvm tracepoint: park them all (see tb_setup)
TB_PARK_EXTRA=$(for e in $TRACEFS/events/kvm/*/; do e=${e%/}; printf 'kvm:%s ' "${e##*/}"; done)
tb_setup
TB_VMM_ARGS="-vcpu-gap 0.4"
tb_spawn_vm vma 2 pingpong "" 0
sleep 0.2
tb_spawn_vm vmb 2 holder "" 0
tb_started_vm vma
tb_started_vm vmb
TB_VMM_ARGS=""
tids() { sed 's/},{/}\n{/g' /tmp/topo-$1.json | sed -n 's/.*"tid":\([0-9]*\).*/\1/p' | tr '\n' ' '; }
log "vma: tgid $(sed 's/.*"tgid":\([0-9]*\).*/\1/' /tmp/topo-vma.json) vCPU TIDs $(tids vma)"
log "vmb: tgid $(sed 's/.*"tgid":\([0-9]*\).*/\1/' /tmp/topo-vmb.json) vCPU TIDs $(tids vmb)"
set -- $(tids vma) $(tids vmb)
[ "$1" -lt "$3" ] && [ "$3" -lt "$2" ] && [ "$2" -lt "$4" ] || fatal "vCPU TIDs do not interleave: vma $1 $2, vmb $3 $4"
sleep 1
tb_rec_plain interleave-plain $TB_SECS
tb_stop_vms
