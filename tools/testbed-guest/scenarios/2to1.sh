# 2to1: 2 VMs x 2 vCPUs on the 2 L1 CPUs.  vm1 runs ping-pong (APIC IDs 0,1),
# vm2 runs holder (vCPU0 busy, vCPU1 sends and spins) with sparse APIC IDs 0,2.
# First an untraced 3 s measurement, then the same VMs again while recording
# with trace-cmd, ftrace text (TGID column) and vschedd --live --record.
: "${TB_SECS:=2}"
tb_setup
log "measurement, untraced, 3 s"
tb_start_vm vm1 2 pingpong "" 3
tb_start_vm vm2 2 holder 0,2 3
tb_wait_vms
tb_nvm=0
log "recordings, $TB_SECS s each"
tb_start_vm vm1 2 pingpong "" 0
tb_start_vm vm2 2 holder 0,2 0
sleep 1
tb_rec_tracecmd 2to1-trace-cmd $TB_SECS
tb_rec_ftrace 2to1-ftrace $TB_SECS
tb_rec_vschedd 2to1-vschedd $TB_SECS
tb_stop_vms
