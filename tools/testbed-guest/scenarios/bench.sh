# bench: the policy-effect benchmark (tools/testbed bench; issue 4 item 5).
# In this one L1 boot, for each run (TB_RUNS), density (TB_DENSITIES: number
# of 2-vCPU VMs on the 2 L1 CPUs), workload (TB_WORKLOADS) and setting
# (TB_SETTINGS, order rotated every run so that drift spreads evenly):
#   default      no vschedd, default scheduling
#   observe      vschedd --live, [daemon] mode = observe (writes nothing)
#   enf-place    vschedd enforce, placement only (classify = no)
#   enf-cosched  vschedd enforce, placement + co-scheduling (classify = no)
#   enf-shipped  vschedd enforce with the shipped configuration: only
#                mode = enforce (and state_dir) set; the classifier picks
#   enf-shipped-t40  the same with turn_ms = 40 (co-scheduling turns as long
#                as the hand-set gang's really are under TCG)
#   enf-shipped-nopin  the same with placement = no (co-scheduling without
#                pinning, as the hand-set gang runs)
#   enf-place-ovr  enforce, placement only, pin_override = yes (vschedd takes
#                the empty cpuset.cpus of a cgroup v2 vcpuK for an operator's
#                pinning and never places without it)
#   hand-place   vCPU k of every VM in cpuset k (written here)
#   hand-gang    cgroup.freeze rotation, one VM thawed at a time, TB_TURN_MS
#                turns (a shell loop here; 2+ VMs only)
# fresh VMs are started (tb-vmm -warmup -1: they wait for SIGUSR1), the
# setting is put in place (vschedd started, ready, TB_SETTLE s to act), then
# every VM's TB_SECS s measurement window starts at once.  Results:
#   /share/bench.tsv       run nvm workload setting vm ops_per_s per_vcpu rt_us
#   /share/bench-meas.tsv  one line per measurement (vschedd start time, writes
#                          by file, errors, journal left, restore check)
#   /share/logs/*.log      vschedd's stderr (VSCHEDD_DEBUG=1: one line per write)
# A measurement already in bench-meas.tsv is skipped, so a retried boot (L1
# crash) resumes where the previous one stopped.
: "${TB_SECS:=3}" "${TB_RUNS:=5}" "${TB_DENSITIES:=1 2 3}" "${TB_WORKLOADS:=pingpong holder}"
: "${TB_SETTINGS:=default observe enf-place enf-place-ovr enf-cosched enf-shipped hand-place hand-gang}"
: "${TB_SETTLE:=1.5}" "${TB_TURN_MS:=20}"
VS_STATE=/run/vschedd-bench
SCOPE_PREFIX=$CG/machine.slice/'machine-qemu\x2d'

tb_setup
mkdir -p $SHARE/logs
touch $SHARE/bench.tsv $SHARE/bench-meas.tsv
log "bench: runs=$TB_RUNS secs=$TB_SECS densities='$TB_DENSITIES' workloads='$TB_WORKLOADS' settings='$TB_SETTINGS' settle=${TB_SETTLE}s turn=${TB_TURN_MS}ms"

# vschedd configurations
vs_conf() {
        local f=/tmp/vs-$1.conf
        {
                echo "[daemon]"
                case $1 in observe) echo "mode = observe" ;; *) echo "mode = enforce" ;; esac
                echo "state_dir = $VS_STATE"
                case $1 in
                enf-shipped) ;;                 # the shipped file: nothing else
                enf-shipped-t40) printf '[policy]\nturn_ms = 40\n' ;;
                enf-shipped-nopin) printf '[policy]\nplacement = no\n' ;;
                *)
                echo "[policy]"
                echo "placement = yes"
                case $1 in enf-cosched) echo "coschedule = yes" ;; *) echo "coschedule = no" ;; esac
                echo "weights = no"
                # the levers on every trigger, as before the classifier
                echo "classify = no"
                case $1 in enf-place-ovr) echo "pin_override = yes" ;; esac
                esac
        } >$f
        chmod 0644 $f
        vschedd --config $f --test-config >/dev/null 2>&1 || { vschedd --config $f --test-config; fatal "bad config $f"; }
}
for s in observe enf-place enf-place-ovr enf-cosched enf-shipped enf-shipped-t40 enf-shipped-nopin; do vs_conf $s; done

# the cgroup files vschedd may write, with their values, one "path value" a line
snapshot() {
        local n=$1 i=1 lv f
        while [ $i -le $n ]; do
                eval "lv=\$LV$i"
                echo "$lv/cgroup.freeze $(cat "$lv/cgroup.freeze" 2>/dev/null)"
                for f in "$lv"/vcpu*/cpuset.cpus "$lv"/vcpu*/cpu.weight "$lv"/vcpu*/cpu.idle; do
                        echo "$f $(cat "$f" 2>/dev/null)"
                done
                i=$((i + 1))
        done
}

gang_loop() {
        local n=$1 i=0 k d usec=$((TB_TURN_MS * 1000)) turns=0 t0
        t0=$(cut -d' ' -f1 /proc/uptime)
        while [ ! -e /tmp/gang.stop ]; do
                i=$((i % n + 1))
                turns=$((turns + 1))
                eval "d=\$LV$i"
                echo 0 >"$d/cgroup.freeze"
                k=1
                while [ $k -le $n ]; do
                        if [ $k != $i ]; then eval "d=\$LV$k"; echo 1 >"$d/cgroup.freeze"; fi
                        k=$((k + 1))
                done
                usleep $usec
        done
        k=1
        while [ $k -le $n ]; do eval "d=\$LV$k"; echo 0 >"$d/cgroup.freeze"; k=$((k + 1)); done
        echo "$turns turns in $(awk -v a=$t0 -v b=$(cut -d' ' -f1 /proc/uptime) 'BEGIN { printf "%.2f", b - a }') s" >/tmp/gang.out
}

cleanup_cgroups() {
        local n=$1 i=1 lv scope
        while [ $i -le $n ]; do
                eval "lv=\$LV$i"
                scope=${lv%/libvirt}
                echo 0 >"$lv/cgroup.freeze" 2>/dev/null
                for d in "$lv"/vcpu* "$lv"/emulator; do rmdir "$d" 2>/dev/null; done
                rmdir "$lv" "$scope" 2>/dev/null || log "cannot remove $scope"
                i=$((i + 1))
        done
}

# measure RUN NVM WORKLOAD SETTING
measure() {
        local run=$1 n=$2 wl=$3 set=$4 i pid vs_pid="" gang_pid="" t0 t1 vs_start=- line ops per rt
        local w_cpuset=- w_freeze=- w_other=- errs=- journal=- restore=- mism=- vrc=- conf vlog failed=0
        tb_nvm=0
        TB_WARMUP=-1
        i=1
        while [ $i -le $n ]; do
                d="$SCOPE_PREFIX$i"'\x2d'"vm$i.scope/libvirt"
                eval "LV$i=\$d"
                tb_start_vm vm$i 2 $wl "" $TB_SECS
                i=$((i + 1))
        done
        snapshot $n >/tmp/orig.txt
        vlog=$SHARE/logs/r$run-n$n-$wl-$set.log
        case $set in
        observe|enf-*)
                conf=/tmp/vs-$set.conf
                rm -f /tmp/vs.err
                t0=$(cut -d' ' -f1 /proc/uptime)
                VSCHEDD_DEBUG=1 vschedd --live --config $conf --no-summary >/tmp/vs.out 2>/tmp/vs.err &
                vs_pid=$!
                i=0
                while ! grep -q 'started in' /tmp/vs.err 2>/dev/null; do
                        kill -0 $vs_pid 2>/dev/null || break
                        i=$((i + 1))
                        [ $i -lt 600 ] || break
                        sleep 0.05
                done
                t1=$(cut -d' ' -f1 /proc/uptime)
                vs_start=$(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.2f", b - a }')
                grep -q 'started in' /tmp/vs.err || { log "vschedd did not start:"; cat /tmp/vs.err; failed=1; }
                sleep $TB_SETTLE ;;
        hand-place)
                i=1
                while [ $i -le $n ]; do
                        eval "d=\$LV$i"
                        echo 0 >"$d/vcpu0/cpuset.cpus" || log "cannot write $d/vcpu0/cpuset.cpus"
                        echo 1 >"$d/vcpu1/cpuset.cpus" || log "cannot write $d/vcpu1/cpuset.cpus"
                        i=$((i + 1))
                done
                sleep 0.3 ;;
        hand-gang)
                rm -f /tmp/gang.stop
                gang_loop $n &
                gang_pid=$!
                sleep 0.3 ;;
        esac
        # every VM's measurement window starts now
        for name in $TB_VMS; do eval "kill -USR1 \$TB_PID_$name"; done
        for name in $TB_VMS; do
                eval "pid=\$TB_PID_$name"
                wait $pid || { log "VM $name failed:"; cat /tmp/vm-$name.log; failed=1; }
                cat /tmp/vm-$name.log >>$SHARE/vmm.log
        done
        if [ -n "$gang_pid" ]; then
                touch /tmp/gang.stop
                wait $gang_pid
                w_freeze="gang:$(tr ' ' _ </tmp/gang.out)"
        fi
        if [ -n "$vs_pid" ]; then
                kill -TERM $vs_pid
                wait $vs_pid
                vrc=$?
                head -c 400000 /tmp/vs.err >$vlog
                w_cpuset=$(grep -c ': cpuset.cpus .* -> ' /tmp/vs.err)
                w_freeze=$(grep -c ': cgroup.freeze .* -> ' /tmp/vs.err)
                w_other=$(grep -E ': (cpu.weight|cpu.idle) .* -> ' /tmp/vs.err | grep -c .)
                errs=$(grep -ciE 'cannot|error|fail' /tmp/vs.err)
                if [ -n "$(ls -A $VS_STATE 2>/dev/null)" ]; then
                        journal="left:$(ls $VS_STATE | tr '\n' ',')"
                        log "JOURNAL LEFT after vschedd stopped ($set): $(ls -l $VS_STATE)"
                else
                        journal=none
                fi
                vschedd --restore --config $conf >/tmp/vs-restore.out 2>&1
                restore=rc$?
                if [ -n "$(ls -A $VS_STATE 2>/dev/null)" ]; then
                        restore="$restore,left"
                        log "JOURNAL LEFT after vschedd --restore ($set): $(ls -l $VS_STATE); $(cat /tmp/vs-restore.out)"
                fi
        fi
        snapshot $n >/tmp/after.txt
        if [ $set = hand-place ]; then
                mism=-
        elif cmp -s /tmp/orig.txt /tmp/after.txt; then
                mism=0
        else
                mism=$(diff /tmp/orig.txt /tmp/after.txt | grep -c '^+[^+]')
                log "CGROUP FILES NOT BACK TO THEIR ORIGINALS after $set (run $run, $n VMs, $wl):"
                diff /tmp/orig.txt /tmp/after.txt | grep '^[-+][^-+]' | sed 's/^/    /'
        fi
        # results (only complete measurements are written: a resumed boot redoes the rest)
        if [ $failed = 0 ]; then
                for name in $TB_VMS; do
                        line=$(grep -h 'tb-vmm: vm=' /tmp/vm-$name.log)
                        ops=$(echo "$line" | sed -n 's/.* ops_per_s=\([0-9.]*\).*/\1/p')
                        per=$(echo "$line" | sed -n 's/.* per_vcpu=\([0-9,]*\).*/\1/p')
                        rt=$(echo "$line" | sed -n 's/.* rt_us=\([0-9.]*\).*/\1/p')
                        echo "$run $n $wl $set $name ${ops:-0} ${per:--} ${rt:-0}" >>$SHARE/bench.tsv
                done
                echo "$run $n $wl $set vs_start=$vs_start w_cpuset=$w_cpuset w_freeze=$w_freeze w_other=$w_other errors=$errs vschedd_rc=$vrc journal=$journal restore=$restore mismatches=$mism" >>$SHARE/bench-meas.tsv
                log "r$run ${n}VM $wl $set: $(for name in $TB_VMS; do sed -n 's/.* ops_per_s=\([0-9.]*\).*/\1/p' /tmp/vm-$name.log; done | tr '\n' ' ')ops/s  [vs_start=$vs_start cpuset=$w_cpuset freeze=$w_freeze err=$errs journal=$journal]"
        fi
        TB_VMS=""
        cleanup_cgroups $n
        sync
}

# rotate LIST by K words
rotate() {
        local k=$1 w first="" rest=""
        shift
        for w in "$@"; do
                if [ $k -gt 0 ]; then first="$first $w"; k=$((k - 1)); else rest="$rest $w"; fi
        done
        echo $rest $first
}

nset=$(echo $TB_SETTINGS | wc -w)
r=1
while [ $r -le $TB_RUNS ]; do
        for n in $TB_DENSITIES; do
                for wl in $TB_WORKLOADS; do
                        # shellcheck disable=SC2086
                        for set in $(rotate $(((r - 1) % nset)) $TB_SETTINGS); do
                                [ $set = hand-gang ] && [ $n -lt 2 ] && continue
                                grep -q "^$r $n $wl $set " $SHARE/bench-meas.tsv && continue
                                measure $r $n $wl $set
                        done
                done
        done
        r=$((r + 1))
done
log "bench done: $(wc -l <$SHARE/bench-meas.tsv) measurements"
