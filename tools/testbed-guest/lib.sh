# shellcheck shell=dash
# Helpers for the testbed scenarios (busybox sh, sourced by init before
# /testbed/scenarios/NAME.sh).  Results go to /share (the host's --out dir).
#
# Pitfalls handled here (see shared/research/spike-userspace-levers.md):
# flipping a kernel static key while the other L1 CPU runs the patched code
# can crash L1 under MTTCG.  tb_setup therefore keeps one idle VM alive for
# the whole session (first VM created / last destroyed flip KVM's keys) and
# keeps every tracepoint we use enabled in a parked tracefs instance (enabling
# a tracepoint's first probe flips its static key); recordings then only add
# probes.  No cpu.max writes.
set -u
TRACEFS=/sys/kernel/tracing
CG=/sys/fs/cgroup
SHARE=/share
TB_EVENTS="kvm:kvm_apic_ipi kvm:kvm_eoi kvm:kvm_pv_eoi kvm:kvm_entry kvm:kvm_exit kvm:kvm_hypercall kvm:kvm_vcpu_wakeup sched:sched_switch sched:sched_wakeup"
# kvm_exit is kept only for PAUSE and HLT (SVM exit codes 0x77, 0x78; VMX 40, 12)
TB_EXIT_FILTER='exit_reason==0x77 || exit_reason==0x78 || exit_reason==40 || exit_reason==12'
TB_PARK_SCHED="sched:sched_waking sched:sched_wakeup_new sched:sched_process_fork sched:sched_process_free"
TB_VMS=""
tb_nvm=0

log() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
fatal() { log "FATAL: $*"; exit 1; }

tb_setup() {
        log "keepalive: idle VM + parked tracepoints"
        tb-vmm -name keepalive -smp 1 -workload idle -warmup 0 -duration 0 >/tmp/keepalive.log 2>&1 &
        TB_KEEPALIVE=$!
        sleep 1
        kill -0 $TB_KEEPALIVE 2>/dev/null || { cat /tmp/keepalive.log; fatal "keepalive VM died"; }
        local inst=$TRACEFS/instances/tb-keepalive ev
        mkdir -p $inst
        echo 0 >$inst/tracing_on
        echo 4 >$inst/buffer_size_kb
        for ev in $TB_EVENTS; do
                echo 1 >$inst/events/${ev%%:*}/${ev#*:}/enable || fatal "cannot enable $ev"
        done
        # events only vschedd --live enables (its first enable would flip the key)
        : "${TB_PARK_EXTRA=kvm:kvm_ple_window_update kvm:kvm_avic_incomplete_ipi}"
        for ev in $TB_PARK_EXTRA; do
                [ -e $inst/events/${ev%%:*}/${ev#*:}/enable ] || continue
                echo 1 >$inst/events/${ev%%:*}/${ev#*:}/enable || log "cannot park $ev"
        done
        # tracepoints vschedd --live hooks without an event of its own: its
        # pid filter (set_event_pid) adds probes to sched_waking and
        # sched_wakeup_new, and event-fork to sched_process_fork/free; the
        # first probe on sched_waking flips a key in try_to_wake_up (an L1
        # panicked there under MTTCG before these were parked)
        for ev in $TB_PARK_SCHED; do
                [ -e $inst/events/${ev%%:*}/${ev#*:}/enable ] || continue
                echo 1 >$inst/events/${ev%%:*}/${ev#*:}/enable || log "cannot park $ev"
        done
        # ... and a second parked probe on each: going from one probe to two
        # and back switches the tracepoint's static call, patching call sites
        # (kvm_apic_send_ipi, svm_vcpu_run) the other L1 CPU may be running:
        # L1 oopses or soft-locks there under MTTCG (seen in the cgroup-v2
        # crash loop and in a benchmark).  With two parked, vschedd's is the third.
        mkdir -p $TRACEFS/instances/tb-keepalive2
        echo 0 >$TRACEFS/instances/tb-keepalive2/tracing_on
        echo 4 >$TRACEFS/instances/tb-keepalive2/buffer_size_kb
        for ev in $TB_EVENTS $TB_PARK_EXTRA $TB_PARK_SCHED; do
                [ -e $TRACEFS/instances/tb-keepalive2/events/${ev%%:*}/${ev#*:}/enable ] || continue
                echo 1 >$TRACEFS/instances/tb-keepalive2/events/${ev%%:*}/${ev#*:}/enable ||
                        log "cannot park $ev twice"
        done
        # cgroup v2: cpu and cpuset down to machine.slice, as systemd + libvirt
        echo "+cpu +cpuset" >$CG/cgroup.subtree_control || fatal "cannot enable cpu,cpuset at the cgroup root"
        mkdir -p $CG/machine.slice
        echo "+cpu +cpuset" >$CG/machine.slice/cgroup.subtree_control || fatal "machine.slice subtree_control"
        log "cgroup controllers: $(cat $CG/machine.slice/cgroup.subtree_control)"
}

# tb_start_vm NAME SMP WORKLOAD [APIC_IDS] [DURATION]: start a VM in the
# background, in its libvirt-style cgroups; sets TB_PID_<NAME>.
tb_start_vm() {
        tb_spawn_vm "$@"
        tb_started_vm $1
}

# tb_spawn_vm NAME SMP WORKLOAD [APIC_IDS] [DURATION]: start a VM in the
# background and return at once (several VMs starting together); then
# tb_started_vm NAME for each, in the same order.
tb_spawn_vm() {
        local name=$1 smp=$2 wl=$3 apic=${4:-} dur=${5:-0} args pid
        args="-name $name -smp $smp -workload $wl -warmup ${TB_WARMUP:-0.5} -duration $dur -topology /tmp/topo-$name.json"
        # more tb-vmm options for every VM (e.g. "-yield 16")
        args="$args ${TB_VMM_ARGS:-}"
        [ -n "$apic" ] && args="$args -apic-ids $apic"
        rm -f /tmp/topo-$name.json
        # shellcheck disable=SC2086
        tb-vmm $args >/tmp/vm-$name.log 2>&1 &
        pid=$!
        eval "TB_PID_$name=$pid"
        TB_VMS="$TB_VMS $name"
}

# tb_started_vm NAME: wait until VM NAME's vCPU threads exist, put it in its cgroups
tb_started_vm() {
        local name=$1 pid i=0
        eval "pid=\$TB_PID_$name"
        while [ ! -s /tmp/topo-$name.json ]; do
                kill -0 $pid 2>/dev/null || { cat /tmp/vm-$name.log; fatal "VM $name died at start"; }
                i=$((i + 1))
                [ $i -lt 1000 ] || fatal "VM $name: no topology after 10 s"
                sleep 0.01
        done
        tb_nvm=$((tb_nvm + 1))
        eval "TB_NUM_$name=$tb_nvm"
        tb_cgroup_vm $tb_nvm $name $pid
}

# tb_cgroup_vm N NAME PID: machine.slice/machine-qemu\x2dN\x2dNAME.scope/libvirt/{emulator,vcpuK}
# vCPU threads of one process in different cgroups need a threaded subtree:
# libvirt/ is the threaded domain, emulator and vcpuK are "threaded".
tb_cgroup_vm() {
        local n=$1 name=$2 pid=$3 scope lv t comm k
        scope=$CG/machine.slice/'machine-qemu\x2d'$n'\x2d'$name.scope
        lv=$scope/libvirt
        mkdir -p "$lv"
        echo "+cpu +cpuset" >"$scope/cgroup.subtree_control" || fatal "$scope: subtree_control"
        mkdir -p "$lv/emulator"
        for t in /proc/$pid/task/*; do
                comm=$(cat $t/comm)
                case $comm in "CPU "*/KVM) k=${comm#CPU }; k=${k%/KVM}; mkdir -p "$lv/vcpu$k" ;; esac
        done
        for t in "$lv"/emulator "$lv"/vcpu*; do
                echo threaded >"$t/cgroup.type" || fatal "$t: cannot make threaded"
        done
        echo "+cpu +cpuset" >"$lv/cgroup.subtree_control" || fatal "$lv: subtree_control (threaded domain)"
        # the whole process into the threaded domain, then each thread where it belongs
        echo $pid >"$lv/cgroup.procs" || fatal "$lv: cannot move process $pid"
        for t in /proc/$pid/task/*; do
                # short-lived threads (KVM's kvm-nx-lpage-recovery worker) may be gone already
                comm=$(cat $t/comm 2>/dev/null) || continue
                case $comm in
                "CPU "*/KVM) k=${comm#CPU }; k=${k%/KVM}; echo ${t##*/} >"$lv/vcpu$k/cgroup.threads" ||
                        fatal "cannot move thread ${t##*/} to vcpu$k" ;;
                *) echo ${t##*/} 2>/dev/null >"$lv/emulator/cgroup.threads" || [ ! -e $t ] ||
                        fatal "cannot move thread ${t##*/} to emulator" ;;
                esac
        done
        log "VM $name (pid $pid): $(for t in /proc/$pid/task/*; do printf '%s=%s ' "$(cat $t/comm | tr ' ' _)" "$(cut -d: -f3 $t/cgroup)"; done)"
}

# tb_stop_vms: SIGTERM every started VM, collect their ops/s lines
tb_stop_vms() {
        local name pid
        for name in $TB_VMS; do
                eval "pid=\$TB_PID_$name"
                kill -TERM $pid 2>/dev/null
        done
        for name in $TB_VMS; do
                eval "pid=\$TB_PID_$name"
                wait $pid 2>/dev/null
                grep -h 'tb-vmm' /tmp/vm-$name.log | sed 's/^/  /'
                cat /tmp/vm-$name.log >>$SHARE/vmm.log
        done
        TB_VMS=""
}

# tb_wait_vms: wait for VMs started with a finite duration
tb_wait_vms() {
        local name pid
        for name in $TB_VMS; do
                eval "pid=\$TB_PID_$name"
                wait $pid || { cat /tmp/vm-$name.log; fatal "VM $name failed"; }
                grep -h 'tb-vmm' /tmp/vm-$name.log | sed 's/^/  /'
                cat /tmp/vm-$name.log >>$SHARE/vmm.log
        done
        TB_VMS=""
}

# tb_topology FILE RECORDING: sidecar JSON for the running VMs
tb_topology() {
        local out=$1 rec=$2 how=$3 name sep="" n=0 scope
        {
                printf '{"recording":"%s","made_by":"%s","scenario":"%s","l1_kernel":"%s","l1_cpus":%s,"vms":[' \
                        "$rec" "$how" "$SCENARIO" "$(uname -r)" "$(grep -c ^processor /proc/cpuinfo)"
                for name in $TB_VMS; do
                        n=$((n + 1))
                        eval "n=\${TB_NUM_$name:-$n}"    # the N of its scope (tb_started_vm)
                        scope='machine.slice/machine-qemu\\x2d'$n'\\x2d'$name.scope
                        printf '%s{"cgroup":"/%s/libvirt",%s' "$sep" "$scope" "$(sed 's/^{//' /tmp/topo-$name.json)"
                        sep=","
                done
                printf ']}\n'
        } >"$out"
}

# tb_markers FILE: vschedd-topology markers of the running VMs into a trace_marker
tb_markers() {
        local marker=$1 name f
        for name in $TB_VMS; do
                f=/tmp/topo-$name.json
                # {"index":0,"tid":123,"apic_id":0,"comm":"CPU 0/KVM"}
                tgid=$(sed 's/.*"tgid":\([0-9]*\).*/\1/' $f)
                sed 's/},{/}\n{/g' $f | sed -n 's/.*"tid":\([0-9]*\),"apic_id":\([0-9]*\),"comm":"\([^"]*\)".*/\1 \2 \3/p' |
                        while read -r tid apic comm; do
                                echo "vschedd-topology: tid=$tid tgid=$tgid apic=$apic vm=$name comm=$comm" >$marker
                        done
        done
}

tb_size() { wc -c <"$1" | tr -d ' '; }

# tb_rec_tracecmd BASE SECS: trace-cmd record, with topology markers.  If the
# recording holds no kvm_apic_ipi (trace-cmd 3.1.6 in L1 left the data in the
# ring buffer, see below), fall back to trace-cmd start / extract, which reads
# the buffers after the fact; the sidecar says which one made the file.
tb_rec_tracecmd() {
        local base=$1 secs=$2 args="" ev n how="trace-cmd record"
        for ev in $TB_EVENTS; do
                args="$args -e $ev"
                [ "$ev" = kvm:kvm_exit ] && args="$args -f \"$TB_EXIT_FILTER\""
        done
        log "trace-cmd record ($secs s)"
        # the recorded command writes the markers once tracing is on, then waits
        printf '. /testbed/lib.sh\nTB_VMS="%s"\ntb_markers %s/trace_marker\nsleep %s\n' \
                "$TB_VMS" $TRACEFS "$secs" >/tmp/$base.cmd.sh
        # Kernel 6.x wakes ring-buffer readers only at buffer_percent (50 %):
        # wake them on any data.  trace-cmd saves all of /proc/kallsyms
        # (7.8 MB here): show it only the symbol the markers need
        # (tracing_mark_write), so recordings stay small.
        echo 0 >$TRACEFS/buffer_percent 2>/dev/null
        grep -E ' tracing_mark_write$' /proc/kallsyms >/tmp/kallsyms.min
        mount --bind /tmp/kallsyms.min /proc/kallsyms || log "cannot shrink kallsyms"
        # shellcheck disable=SC2086
        eval trace-cmd record -b 2048 -o /tmp/$base.dat $args sh /tmp/$base.cmd.sh >/tmp/$base.log 2>&1 ||
                { log "trace-cmd record FAILED:"; tail -n 20 /tmp/$base.log; }
        n=$(trace-cmd report -N /tmp/$base.dat 2>/dev/null | grep -c kvm_apic_ipi)
        log "trace-cmd record: $(tb_size /tmp/$base.dat 2>/dev/null) bytes, $n kvm_apic_ipi"
        if [ "${n:-0}" = 0 ]; then
                grep -E 'entries|CPU' /tmp/$base.log | tr '\n' ' ' | sed 's/^/  record left in the ring buffer: /'
                echo
                cp /tmp/$base.log $SHARE/$base.record-failed.log
                how="trace-cmd start/extract"
                log "trace-cmd start/extract ($secs s)"
                # shellcheck disable=SC2086
                eval trace-cmd start -b 2048 $args >/tmp/$base.log 2>&1 || { tail -n 20 /tmp/$base.log; }
                sh /tmp/$base.cmd.sh
                trace-cmd stop
                rm -f /tmp/$base.dat
                trace-cmd extract -o /tmp/$base.dat >>/tmp/$base.log 2>&1 || { tail -n 20 /tmp/$base.log; }
                trace-cmd reset >/dev/null 2>&1
                n=$(trace-cmd report -N /tmp/$base.dat 2>/dev/null | grep -c kvm_apic_ipi)
                log "trace-cmd extract: $(tb_size /tmp/$base.dat 2>/dev/null) bytes, $n kvm_apic_ipi"
        fi
        umount /proc/kallsyms 2>/dev/null
        if [ -s /tmp/$base.dat ]; then
                cp /tmp/$base.dat $SHARE/$base.dat
                tb_topology $SHARE/$base.topology.json $base.dat "$how"
        fi
        rm -f /tmp/$base.dat
}

# tb_rec_ftrace BASE SECS: ftrace text of a private instance, TGID column on
tb_rec_ftrace() {
        local base=$1 secs=$2 inst=$TRACEFS/instances/tb-text ev f
        log "ftrace text ($secs s)"
        mkdir -p $inst
        echo 0 >$inst/tracing_on
        echo 4096 >$inst/buffer_size_kb
        echo 1 >$inst/options/record-tgid 2>/dev/null || echo 1 >$TRACEFS/options/record-tgid ||
                log "cannot set record-tgid"
        for ev in $TB_EVENTS; do
                f=$inst/events/${ev%%:*}/${ev#*:}
                [ "$ev" = kvm:kvm_exit ] && echo "$TB_EXIT_FILTER" >$f/filter
                echo 1 >$f/enable
        done
        echo >$inst/trace
        echo 1 >$inst/tracing_on
        sleep $secs
        echo 0 >$inst/tracing_on
        cat $inst/trace >/tmp/$base.txt
        # instance removed only after the parked instance holds the probes
        for ev in $TB_EVENTS; do echo 0 >$inst/events/${ev%%:*}/${ev#*:}/enable; done
        rmdir $inst 2>/dev/null
        cp /tmp/$base.txt $SHARE/$base.txt
        tb_topology $SHARE/$base.topology.json $base.txt "ftrace instance tb-text, options/record-tgid, cat trace"
        log "ftrace: $base.txt $(tb_size /tmp/$base.txt) bytes, $(grep -c kvm_apic_ipi /tmp/$base.txt) kvm_apic_ipi"
        rm -f /tmp/$base.txt
}

# tb_rec_vschedd BASE SECS: our own live recorder (topology markers from /proc)
tb_rec_vschedd() {
        local base=$1 secs=$2
        log "vschedd --live --record ($secs s)"
        if vschedd --live --quiet --record /tmp/$base.dat --duration $secs --dump-events --json --no-summary \
                >/tmp/$base.live.json 2>/tmp/$base.err; then
                cp /tmp/$base.dat $SHARE/$base.dat
                cp /tmp/$base.live.json $SHARE/$base.live.json
                tb_topology $SHARE/$base.topology.json $base.dat "vschedd --live --record"
                log "vschedd: $base.dat $(tb_size /tmp/$base.dat) bytes, $(grep -c '"type":"ipi"' /tmp/$base.live.json) ipi events live"
        else
                log "vschedd --live FAILED:"
                cat /tmp/$base.err
                cp /tmp/$base.err $SHARE/$base.failed.log
        fi
        rm -f /tmp/$base.dat /tmp/$base.live.json
}

# tb_rec_plain BASE SECS [EVENT OPTIONS]: the README's first example as a user
# types it: `trace-cmd record -e kvm -e sched:sched_switch -e sched:sched_wakeup`
# (or the -e options given), no topology markers, no TGID option: the .dat
# names threads (cmdlines) but says nothing of which process owns them.  The sidecar (from the VMs' own
# getpid()/gettid(), written at start) holds the truth for tests.  Every kvm
# event must be parked first (TB_PARK_EXTRA, see tb_setup).
tb_rec_plain() {
        local base=$1 secs=$2 ev=${3:--e kvm -e sched:sched_switch -e sched:sched_wakeup} n
        log "plain trace-cmd record $ev ($secs s)"
        echo 0 >$TRACEFS/buffer_percent 2>/dev/null
        # trace-cmd saves all of /proc/kallsyms (7.8 MB here): nothing here needs it
        : >/tmp/kallsyms.empty
        mount --bind /tmp/kallsyms.empty /proc/kallsyms || log "cannot shrink kallsyms"
        # shellcheck disable=SC2086
        trace-cmd record -o /tmp/$base.dat $ev sleep "$secs" \
                >/tmp/$base.log 2>&1 || { log "trace-cmd record FAILED:"; tail -n 20 /tmp/$base.log; }
        umount /proc/kallsyms 2>/dev/null
        n=$(trace-cmd report -N /tmp/$base.dat 2>/dev/null | grep -c kvm_apic_ipi)
        log "trace-cmd record: $(tb_size /tmp/$base.dat 2>/dev/null) bytes, $n kvm_apic_ipi"
        [ "${n:-0}" -gt 0 ] || { tail -n 20 /tmp/$base.log; fatal "$base: no kvm_apic_ipi recorded"; }
        cp /tmp/$base.dat $SHARE/$base.dat
        tb_topology $SHARE/$base.topology.json $base.dat "trace-cmd record $ev sleep $secs (trace-cmd $(trace-cmd --version 2>/dev/null | sed -n 's/^trace-cmd version \([^ ]*\).*/\1/p'), no markers)"
        rm -f /tmp/$base.dat
}

# ---------------------------------------------------------------- Linux L2 guests
# tools/testbed --guest linux ships qemu-system-x86_64 (with its libraries) in
# /testbed/bin, its firmware in /testbed/qemu, and the guest (L1's kernel,
# the initramfs of tools/testbed-guest/linux) in /testbed/linux.  A guest is
# driven over its second serial port: requests into the FIFO
# /tmp/l2-NAME.in, answers from /tmp/l2-NAME.out appended to
# /tmp/l2-NAME.replies by a reader (QEMU opens both FIFOs read-write, so
# neither side ever sees end of file); its console is /tmp/l2-NAME.console.
# (boot timeout: one guest took 110 s to boot on 2 host cores at load 12)
: "${TB_L2_MEM:=384}" "${TB_L2_BOOT_TIMEOUT:=900}"

# tb_linux_boot NAME...: start 2-vCPU Linux guests together (QEMU -accel kvm
# -cpu host, vCPU threads "CPU n/KVM"), each in its libvirt-style cgroups as
# soon as its vCPU threads exist; tb_linux_ready waits for them.
tb_linux_boot() {
        local name pid i
        for name in "$@"; do
                rm -f /tmp/l2-$name.in /tmp/l2-$name.out /tmp/l2-$name.replies /tmp/l2-$name.console
                mkfifo /tmp/l2-$name.in /tmp/l2-$name.out
                : >/tmp/l2-$name.replies
                qemu-system-x86_64 -accel kvm -cpu host -smp 2 -m $TB_L2_MEM -name "$name,debug-threads=on" \
                        -L /testbed/qemu -kernel /testbed/linux/vmlinuz -initrd /testbed/linux/initramfs.gz \
                        -append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init" \
                        -display none -nodefaults -no-reboot -serial file:/tmp/l2-$name.console \
                        -serial pipe:/tmp/l2-$name </dev/null >/tmp/l2-$name.qemu.log 2>&1 &
                pid=$!
                eval "TB_PID_$name=$pid"
                cat /tmp/l2-$name.out >>/tmp/l2-$name.replies &
                eval "TB_RPID_$name=$!"
                eval "TB_T0_$name=$(cut -d' ' -f1 /proc/uptime)"
                TB_VMS="$TB_VMS $name"
        done
        for name in "$@"; do
                eval "pid=\$TB_PID_$name"
                i=0
                while ! grep -q 'CPU 1/KVM' /proc/$pid/task/*/comm 2>/dev/null; do
                        kill -0 $pid 2>/dev/null || { cat /tmp/l2-$name.qemu.log; fatal "guest $name: QEMU exited at start"; }
                        i=$((i + 1))
                        [ $i -lt 600 ] || fatal "guest $name: no vCPU threads after 30 s"
                        sleep 0.05
                done
                tb_nvm=$((tb_nvm + 1))
                tb_cgroup_vm $tb_nvm $name $pid
        done
}

# tb_linux_ready NAME...: wait until every guest said READY; one line per
# guest in $SHARE/l2-guests.tsv: name L1-seconds-to-READY guest-uptime pv
tb_linux_ready() {
        local name pid t0 now line up pv
        for name in "$@"; do
                eval "pid=\$TB_PID_$name; t0=\$TB_T0_$name"
                while ! grep -qx 'END ready' /tmp/l2-$name.replies; do
                        kill -0 $pid 2>/dev/null ||
                                { tail -n 20 /tmp/l2-$name.console /tmp/l2-$name.qemu.log; fatal "guest $name died while booting"; }
                        now=$(cut -d' ' -f1 /proc/uptime)
                        if awk -v a="$t0" -v b="$now" -v t=$TB_L2_BOOT_TIMEOUT 'BEGIN { exit !(b - a > t) }'; then
                                tail -n 20 /tmp/l2-$name.console
                                fatal "guest $name not ready after $TB_L2_BOOT_TIMEOUT s"
                        fi
                        case $now in
                        *[05].[0-4]*) log "waiting for guest $name ($(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.0f", b - a }') s): $(tail -n 1 /tmp/l2-$name.console 2>/dev/null | cut -c1-100)" ;;
                        esac
                        sleep 0.5
                done
                now=$(cut -d' ' -f1 /proc/uptime)
                line=$(grep -m1 '^READY' /tmp/l2-$name.replies)
                up=$(echo "$line" | sed -n 's/.* up=\([0-9.]*\).*/\1/p')
                pv=$(echo "$line" | sed -n 's/.* pv=\([^ ]*\).*/\1/p')
                echo "$name $(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }') ${up:--} ${pv:--}" >>$SHARE/l2-guests.tsv
                log "guest $name ready after $(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }') s (its own uptime $up s), pv: $pv"
        done
}

# tb_linux_send NAME ID SECS COMMAND: start COMMAND in the guest (returns at once)
tb_linux_send() {
        local name=$1 id=$2 secs=$3
        shift 3
        printf 'RUN %s %s %s\n' "$id" "$secs" "$*" >/tmp/l2-$name.in
}

# tb_linux_wait NAME ID TIMEOUT: wait for "DONE ID" (the per-run watchdog);
# sets TB_REPLY to the answer's rest ("rc=N <last line>").  1 on timeout or
# when the guest died.
tb_linux_wait() {
        local name=$1 id=$2 limit=$3 pid i=0
        eval "pid=\$TB_PID_$name"
        TB_REPLY=""
        # complete once its END line is there (the serial port comes in pieces)
        while ! grep -qx "END $id" /tmp/l2-$name.replies; do
                kill -0 $pid 2>/dev/null || { log "guest $name died during $id"; return 1; }
                i=$((i + 1))
                [ $i -le $((limit * 5)) ] || { log "guest $name: no answer to $id after $limit s (watchdog)"; return 1; }
                sleep 0.2
        done
        TB_REPLY=$(grep -m1 "^DONE $id " /tmp/l2-$name.replies | cut -d' ' -f3-)
}

# tb_linux_stop: power every guest off (HALT, then SIGKILL after 20 s) and
# remove its cgroups' processes; TB_VMS emptied
tb_linux_stop() {
        local name pid rpid i
        for name in $TB_VMS; do
                eval "pid=\$TB_PID_$name"
                kill -0 $pid 2>/dev/null && timeout 5 sh -c "echo HALT >/tmp/l2-$name.in"
        done
        for name in $TB_VMS; do
                eval "pid=\$TB_PID_$name; rpid=\$TB_RPID_$name"
                i=0
                while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.2; done
                kill -KILL $pid 2>/dev/null
                wait $pid 2>/dev/null
                kill $rpid 2>/dev/null
                wait $rpid 2>/dev/null
                cat /tmp/l2-$name.console >>$SHARE/l2-console.log 2>/dev/null
        done
        TB_VMS=""
        tb_nvm=0
}
