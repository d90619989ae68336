# smoke: /dev/kvm works, one 2-vCPU ping-pong VM in libvirt-style cgroups,
# 2 s of vschedd --live --record.  Fast: meant for make check.
tb_setup
tb_start_vm smoke 2 pingpong "" 0
sleep 1
tb_rec_vschedd smoke-vschedd 2
tb_stop_vms
