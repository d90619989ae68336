# linux-smoke: one Linux L2 guest (tools/testbed run linux-smoke --guest
# linux; tests/system/202): QEMU -accel kvm in L1 boots L1's Debian kernel
# with the workload initramfs in libvirt-style cgroups, runs one workload
# (TB_SMOKE_WORKLOAD from /testbed/linux/workloads, default dbench: ends on time) for
# TB_SECS s and checks its answer: exit 0 and a last line
# "RESULT <value> <unit> higher|lower".  /share/linux-smoke.txt gets
# "workload value unit direction", the guest's line in /share/l2-guests.tsv
# its boot time and PV features.  The guest's boot under nested TCG took 2-4
# minutes on a busy 2-core host:
# testbed-timeout: 900
: "${TB_SECS:=3}" "${TB_SMOKE_WORKLOAD:=dbench}"
[ -f /testbed/linux/initramfs.gz ] || fatal "no Linux guest in this L1 (tools/testbed run linux-smoke --guest linux)"
log "Linux guest: $(tr '\n' ' ' </testbed/linux/info.txt)"
tb_setup
cmd=$(sed -n "s/^$TB_SMOKE_WORKLOAD //p" /testbed/linux/workloads)
[ -n "$cmd" ] || fatal "no workload $TB_SMOKE_WORKLOAD in /testbed/linux/workloads"
tb_linux_boot vm1
tb_linux_ready vm1
log "vm1 threads: $(for t in /proc/$TB_PID_vm1/task/*; do printf '%s=%s ' "$(tr ' ' _ <$t/comm)" "$(cut -d: -f3 $t/cgroup)"; done)"
tb_linux_send vm1 smoke $TB_SECS "$cmd"
tb_linux_wait vm1 smoke $((TB_SECS * 3 + 120)) || { tail -n 30 /tmp/l2-vm1.console; fatal "no answer from the guest"; }
log "vm1: $TB_REPLY"
grep 'L2OUT smoke:' /tmp/l2-vm1.console | tail -n 5
case $TB_REPLY in
"rc=0 RESULT "*) ;;
*) fatal "workload $TB_SMOKE_WORKLOAD: unexpected answer '$TB_REPLY'" ;;
esac
set -- ${TB_REPLY#rc=0 RESULT }
case $1 in [0-9]*) ;; *) fatal "result value '$1' is not a number" ;; esac
case ${3:-} in higher|lower) ;; *) fatal "result direction '${3:-}' is not higher|lower" ;; esac
echo "$TB_SMOKE_WORKLOAD $1 $2 $3" >$SHARE/linux-smoke.txt
tb_linux_stop
log "linux-smoke ok: $TB_SMOKE_WORKLOAD $1 $2"
