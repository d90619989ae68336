# halt: a halting guest at 2:1 (issue 17): 2 VMs x 2 vCPUs on the 2 L1 CPUs,
# both tb-vmm hpingpong (each vCPU works, IPIs its partner, then halts until
# an IPI of its own comes: the waiters sleep instead of spinning, as Linux
# guests do).  First untraced 3 s measurements of one VM alone and of two
# (does the workload contend?), then the two VMs again while vschedd --live
# --record records TB_SECS (--secs) s: tests/data/testbed/halt-vschedd.dat.
: "${TB_SECS:=2}"
tb_setup
log "measurement, untraced, 3 s: one VM alone"
tb_start_vm vmh1 2 hpingpong "" 3
tb_wait_vms
tb_nvm=0
log "measurement, untraced, 3 s: two VMs"
tb_start_vm vmh1 2 hpingpong "" 3
tb_start_vm vmh2 2 hpingpong "" 3
tb_wait_vms
tb_nvm=0
log "recording, $TB_SECS s"
tb_start_vm vmh1 2 hpingpong "" 0
tb_start_vm vmh2 2 hpingpong "" 0
sleep 1
tb_rec_vschedd halt-vschedd $TB_SECS
tb_stop_vms
