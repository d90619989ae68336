# 2to1: 2 VMs x 2 vCPUs on the 2 L1 CPUs.  vm1 runs holder (vCPU0 busy, vCPU1
# sends it IPIs and spins), vm2 runs ping-pong with sparse APIC IDs 0,2 (so
# IPIs go to dest_id 2 = vCPU 1).  First an untraced 3 s measurement, then the
# same VMs again while recording, one after the other, with trace-cmd, ftrace
# text (TGID column) and vschedd --live --record, TB_SECS (--secs) each.
: "${TB_SECS:=2}"
tb_setup
log "measurement, untraced, 3 s"
tb_start_vm vm1 2 holder "" 3
tb_start_vm vm2 2 pingpong 0,2 3
tb_wait_vms
tb_nvm=0
log "recordings, $TB_SECS s each"
tb_start_vm vm1 2 holder "" 0
tb_start_vm vm2 2 pingpong 0,2 0
sleep 1
tb_rec_tracecmd 2to1-trace-cmd $TB_SECS
tb_rec_ftrace 2to1-ftrace $TB_SECS
tb_rec_vschedd 2to1-vschedd $TB_SECS
tb_stop_vms
