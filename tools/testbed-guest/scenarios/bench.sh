# bench: the policy-effect benchmark (tools/testbed bench; issue 4 item 5).
# In this one L1 boot, for each run (TB_RUNS), density (TB_DENSITIES: number
# of 2-vCPU VMs on the 2 L1 CPUs), workload (TB_WORKLOADS) and setting
# (TB_SETTINGS, order rotated every run so that drift spreads evenly):
#   default      no vschedd, default scheduling
#   observe      vschedd --live, the shipped configuration with [daemon]
#                mode = observe (writes nothing)
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
#   enf-weights  enf-shipped with [policy] weights = yes
#   hook-off, hook-on  the companion kernel series (kernel/patches, L1 booted
#                with VSCHEDD_TESTBED_KVM_MODULES=$(kernel/build)): enf-shipped
#                with [policy] directed_yield = no / yes, i.e. the same daemon
#                without and with the per-VM directed yield
#                (KVM_CAP_DIRECTED_YIELD) that vschedd turns on itself for the
#                VMs (QEMU does not); vschedd prints its report at the end
#                (logs/*.report.json: directed yields by reason).  Skipped, with
#                a note in /share/skipped.txt, when L1's kvm.ko lacks the
#                series.  directed_yield = no is the shipped default, so
#                hook-off runs what enf-shipped runs on the same L1: the
#                Linux default list measures enf-shipped only (with the
#                report when the series is loaded) and the tables take it for
#                hook-off
# TB_GUEST=tb-vmm (default): fresh tb-vmm VMs for every measurement.
# TB_GUEST=linux (tools/testbed bench --guest linux): Linux L2 guests (QEMU,
# lib.sh tb_linux_*), booted together once per density and kept booted;
# order density, round, workload, setting; every guest runs the workload
# (TB_WORKLOADS names in /testbed/linux/workloads) for TB_SECS s, the
# requests sent to all guests back to back; a guest that does not answer
# within 2 x TB_SECS + TB_WATCHDOG s is killed (the per-run watchdog), the
# measurement dropped and the guests booted again.  After TB_RUNS rounds of a
# density, a setting whose rounds disagree (above default in one round and
# below in another) gets TB_EXTRA_RUNS more rounds, each with its own default.
# fresh VMs are started (tb-vmm -warmup -1: they wait for SIGUSR1), the
# setting is put in place (vschedd started, ready, TB_SETTLE s to act), then
# every VM's TB_SECS s measurement window starts at once.  Results:
#   /share/bench.tsv       run nvm workload setting vm ops_per_s per_vcpu rt_us
#                          (linux: the RESULT value in ops_per_s, "- -" after it)
#   /share/workloads.tsv   (linux) workload unit higher|lower
#   /share/l2-guests.tsv   (linux) guest, L1 s to READY, guest uptime, PV features
#   /share/bench-meas.tsv  one line per measurement (vschedd start time, writes
#                          by file, errors, journal left, restore check)
#   /share/logs/*.log      vschedd's stderr (VSCHEDD_DEBUG=1: one line per write)
# A measurement already in bench-meas.tsv is skipped, so a retried boot (L1
# crash) resumes where the previous one stopped.
: "${TB_GUEST:=tb-vmm}"
if [ $TB_GUEST = linux ]; then
        : "${TB_SECS:=10}" "${TB_RUNS:=3}" "${TB_WORKLOADS:=dbench vips pbzip2}"
        : "${TB_SETTINGS:=default observe enf-shipped enf-cosched enf-weights hook-on hand-place hand-gang}"
else
        : "${TB_SECS:=3}" "${TB_RUNS:=5}" "${TB_WORKLOADS:=pingpong holder}"
        : "${TB_SETTINGS:=default observe enf-place enf-place-ovr enf-cosched enf-shipped hand-place hand-gang}"
fi
: "${TB_DENSITIES:=1 2 3}" "${TB_SETTLE:=1.5}" "${TB_TURN_MS:=20}" "${TB_WATCHDOG:=120}" "${TB_EXTRA_RUNS:=2}"
VS_STATE=/run/vschedd-bench
SCOPE_PREFIX=$CG/machine.slice/'machine-qemu\x2d'

tb_setup
mkdir -p $SHARE/logs
touch $SHARE/bench.tsv $SHARE/bench-meas.tsv
log "bench: guest=$TB_GUEST runs=$TB_RUNS secs=$TB_SECS densities='$TB_DENSITIES' workloads='$TB_WORKLOADS' settings='$TB_SETTINGS' settle=${TB_SETTLE}s turn=${TB_TURN_MS}ms"

# vschedd configurations
vs_conf() {
        local f=/tmp/vs-$1.conf
        {
                echo "[daemon]"
                case $1 in observe) echo "mode = observe" ;; *) echo "mode = enforce" ;; esac
                echo "state_dir = $VS_STATE"
                case $1 in
                # the shipped file: nothing else (the hook below); observe is
                # the shipped file in observe mode (before 2026-12-07 17:50 UTC
                # it was the classify = no trigger policy below, in observe mode)
                observe|enf-shipped|hook-off|hook-on) ;;
                enf-shipped-t40) printf '[policy]\nturn_ms = 40\n' ;;
                enf-shipped-nopin) printf '[policy]\nplacement = no\n' ;;
                enf-weights) printf '[policy]\nweights = yes\n' ;;
                *)
                echo "[policy]"
                echo "placement = yes"
                case $1 in enf-cosched) echo "coschedule = yes" ;; *) echo "coschedule = no" ;; esac
                echo "weights = no"
                # the levers on every trigger, as before the classifier
                echo "classify = no"
                case $1 in enf-place-ovr) echo "pin_override = yes" ;; esac
                esac
                case $1 in hook-off) printf '[policy]\ndirected_yield = no\n' ;; hook-on) printf '[policy]\ndirected_yield = yes\n' ;; esac
        } >$f
        chmod 0644 $f
        vschedd --config $f --test-config >/dev/null 2>&1 || { vschedd --config $f --test-config; fatal "bad config $f"; }
}
for s in observe enf-place enf-place-ovr enf-cosched enf-shipped enf-shipped-t40 enf-shipped-nopin enf-weights hook-off hook-on; do vs_conf $s; done

# the companion kernel series (hook-off, hook-on): vschedd turns its per-VM
# directed yield on for the VMs (directed_yield = yes); without the series in
# L1's kvm.ko both settings are skipped, and said so
HOOK_OK=0
if [ -d $TRACEFS/events/kvm/kvm_directed_yield ]; then
        HOOK_OK=1
        log "kernel series loaded (kvm:kvm_directed_yield): hook-off and hook-on measured"
else
        case " $TB_SETTINGS " in *" hook-"*)
                echo "hook-off hook-on: skipped: L1's kvm.ko lacks the companion kernel series (boot L1 with VSCHEDD_TESTBED_KVM_MODULES=\$(kernel/build))" >$SHARE/skipped.txt
                log "$(cat $SHARE/skipped.txt)" ;;
        esac
fi

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
        local run=$1 n=$2 wl=$3 set=$4 i pid line ops per rt name
        failed=0
        tb_nvm=0
        TB_WARMUP=-1
        i=1
        while [ $i -le $n ]; do
                d="$SCOPE_PREFIX$i"'\x2d'"vm$i.scope/libvirt"
                eval "LV$i=\$d"
                tb_start_vm vm$i 2 $wl "" $TB_SECS
                i=$((i + 1))
        done
        setting_on $run $n $wl $set
        # every VM's measurement window starts now
        for name in $TB_VMS; do eval "kill -USR1 \$TB_PID_$name"; done
        for name in $TB_VMS; do
                eval "pid=\$TB_PID_$name"
                wait $pid || { log "VM $name failed:"; cat /tmp/vm-$name.log; failed=1; }
                cat /tmp/vm-$name.log >>$SHARE/vmm.log
        done
        setting_off $run $n $wl $set
        # results (only complete measurements are written: a resumed boot redoes the rest)
        if [ $failed = 0 ]; then
                for name in $TB_VMS; do
                        line=$(grep -h 'tb-vmm: vm=' /tmp/vm-$name.log)
                        ops=$(echo "$line" | sed -n 's/.* ops_per_s=\([0-9.]*\).*/\1/p')
                        per=$(echo "$line" | sed -n 's/.* per_vcpu=\([0-9,]*\).*/\1/p')
                        rt=$(echo "$line" | sed -n 's/.* rt_us=\([0-9.]*\).*/\1/p')
                        echo "$run $n $wl $set $name ${ops:-0} ${per:--} ${rt:-0}" >>$SHARE/bench.tsv
                done
                meas_line $run $n $wl $set
                log "r$run ${n}VM $wl $set: $(for name in $TB_VMS; do sed -n 's/.* ops_per_s=\([0-9.]*\).*/\1/p' /tmp/vm-$name.log; done | tr '\n' ' ')ops/s  [vs_start=$vs_start cpuset=$w_cpuset freeze=$w_freeze err=$errs journal=$journal]"
        fi
        TB_VMS=""
        cleanup_cgroups $n
        sync
}

meas_line() {
        echo "$1 $2 $3 $4 vs_start=$vs_start w_cpuset=$w_cpuset w_freeze=$w_freeze w_other=$w_other errors=$errs vschedd_rc=$vrc journal=$journal restore=$restore mismatches=$mism dy_on=$dy_on vs_cpu=$vs_cpu vs_life=$vs_life l1_busy=$l1_busy" >>$SHARE/bench-meas.tsv
}

# vs_cpu_secs PID: its CPU time so far (utime + stime), in seconds
vs_cpu_secs() {
        sed 's/^.*) //' /proc/$1/stat 2>/dev/null |
                awk -v hz="$(getconf CLK_TCK 2>/dev/null || echo 100)" '{ printf "%.2f", ($12 + $13) / hz }'
}

# cpu_ticks: L1's busy and total CPU ticks so far (all CPUs, /proc/stat:
# user .. steal; guest time is already in user and nice)
cpu_ticks() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }

# setting_on RUN NVM WORKLOAD SETTING: snapshot of the cgroup files, then the
# setting put in place (vschedd started and settled, hand levers written,
# the hook's window); sets vs_pid, gang_pid, vs_start, conf, vlog, failed
setting_on() {
        local run=$1 n=$2 wl=$3 set=$4 i t0 t1 d
        vs_pid="" gang_pid="" vs_start=- w_cpuset=- w_freeze=- w_other=- errs=- journal=- restore=- mism=- vrc=- dy_on=- vs_cpu=- vs_life=- l1_busy=-
        snapshot $n >/tmp/orig.txt
        vlog=$SHARE/logs/r$run-n$n-$wl-$set.log
        case $set in
        observe|enf-*|hook-*)
                conf=/tmp/vs-$set.conf
                rm -f /tmp/vs.err
                t0=$(cut -d' ' -f1 /proc/uptime)
                vs_t0=$t0
                # hook-*: the report at the end (directed yields by reason)
                out_opt=--no-summary
                case $set in hook-*) out_opt="--report --json" ;; enf-shipped) [ $HOOK_OK = 0 ] || out_opt="--report --json" ;; esac
                # shellcheck disable=SC2086
                VSCHEDD_DEBUG=1 vschedd --live --config $conf $out_opt >/tmp/vs.out 2>/tmp/vs.err &
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
}

# setting_off RUN NVM WORKLOAD SETTING: the setting undone; the checks (writes,
# journal, restore, cgroup files back to the snapshot) in w_*, errs, journal,
# restore, vrc, mism
setting_off() {
        local run=$1 n=$2 wl=$3 set=$4
        # kept guests (linux): the hand-set cpusets back to their values before
        # (the kernel refuses to empty a populated cpuset: then the parent's CPUs)
        [ $set = hand-place ] && grep '/cpuset.cpus ' /tmp/orig.txt | while read -r f v; do
                echo "$v" 2>/dev/null >"$f" || cat "${f%/*}/../cpuset.cpus.effective" >"$f"
        done
        if [ -n "$gang_pid" ]; then
                touch /tmp/gang.stop
                wait $gang_pid
                w_freeze="gang:$(tr ' ' _ </tmp/gang.out)"
        fi
        if [ -n "$vs_pid" ]; then
                # what watching cost: vschedd's CPU time (user + system, from
                # start through the window) and how long it ran
                vs_cpu=$(vs_cpu_secs $vs_pid)
                vs_life=$(awk -v a=$vs_t0 -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.2f", b - a }')
                kill -TERM $vs_pid
                wait $vs_pid
                vrc=$?
                head -c 400000 /tmp/vs.err >$vlog
                [ "$out_opt" = --no-summary ] || cp /tmp/vs.out "${vlog%.log}.report.json"
                # guests vschedd turned directed yield on for (hook-on: every
                # one; L1's idle keepalive VM is not counted)
                dy_on=$(grep -c ' vm[0-9]*: directed yield on (KVM_CAP_DIRECTED_YIELD' /tmp/vs.err)
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

# ---------------------------------------------------------------- Linux guests
L2_UP=0         # guests booted (vm1..vmL2_UP), 0 = none

# ensure_guests N: exactly vm1..vmN booted, alive and ready; else all of them
# stopped and N booted together
ensure_guests() {
        local n=$1 i ok=1 pid names="" d name
        if [ $L2_UP = $n ]; then
                for name in $TB_VMS; do
                        eval "pid=\$TB_PID_$name"
                        kill -0 $pid 2>/dev/null || ok=0
                done
                [ $ok = 1 ] && return 0
                log "a guest died: booting all $n again"
        fi
        if [ $L2_UP != 0 ]; then
                tb_linux_stop
                cleanup_cgroups $L2_UP
                L2_UP=0
        fi
        i=1
        while [ $i -le $n ]; do
                d="$SCOPE_PREFIX$i"'\x2d'"vm$i.scope/libvirt"
                eval "LV$i=\$d"
                names="$names vm$i"
                i=$((i + 1))
        done
        # shellcheck disable=SC2086
        tb_linux_boot $names
        # shellcheck disable=SC2086
        tb_linux_ready $names
        L2_UP=$n
}

# wl_cmd NAME: the workload's command (TB_WORKLOADS names, /testbed/linux/workloads)
wl_cmd() { sed -n "s/^$1 //p" /testbed/linux/workloads | tail -n 1; }

nreq=0
# measure_linux RUN NVM WORKLOAD SETTING
measure_linux() {
        local run=$1 n=$2 wl=$3 set=$4 id name v unit dir vals="" cmd
        failed=0
        cmd=$(wl_cmd $wl)
        ensure_guests $n
        nreq=$((nreq + 1))
        id=r$run-n$n-$wl-$set-$nreq
        setting_on $run $n $wl $set
        log "r$run ${n}VM $wl $set: window $TB_SECS s"
        # L1's CPUs busy over the window (every setting, default included)
        busy0=$(cpu_ticks)
        # every guest's window starts now (requests back to back)
        for name in $TB_VMS; do tb_linux_send $name $id $TB_SECS "$cmd"; done
        for name in $TB_VMS; do
                if tb_linux_wait $name $id $((2 * TB_SECS + TB_WATCHDOG)); then
                        eval "R_$name=\$TB_REPLY"
                else
                        failed=1
                        eval "kill -KILL \$TB_PID_$name" 2>/dev/null
                        echo "$id $name no answer (guest killed)" >>$SHARE/watchdog.txt
                fi
        done
        l1_busy=$(echo "$busy0 $(cpu_ticks)" | awk '{ printf "%.3f", ($4 > $2 ? ($3 - $1) / ($4 - $2) : 0) }')
        setting_off $run $n $wl $set
        if [ $failed = 0 ]; then
                for name in $TB_VMS; do
                        eval "set -- \$R_$name"
                        if [ "$1" != rc=0 ] || [ "${2:-}" != RESULT ]; then
                                log "$name: $wl failed: $*"
                                grep "L2OUT $id:" /tmp/l2-$name.console | tail -n 10
                                failed=1
                                continue
                        fi
                        v=$3 unit=${4:-?} dir=${5:-?}
                        case $dir in higher|lower) ;; *) log "$name: bad RESULT direction '$dir'"; failed=1 ;; esac
                        case $v in [0-9]*) ;; *) log "$name: bad RESULT value '$v'"; failed=1 ;; esac
                        vals="$vals $name=$v"
                        eval "V_$name=\$v"
                done
        fi
        grep -q "^$wl " $SHARE/workloads.tsv 2>/dev/null || [ $failed = 1 ] || echo "$wl $unit $dir" >>$SHARE/workloads.tsv
        if [ $failed = 0 ]; then
                for name in $TB_VMS; do eval "echo \"$run $n $wl $set $name \$V_$name - -\"" >>$SHARE/bench.tsv; done
                meas_line $run $n $wl $set
                log "r$run ${n}VM $wl $set:$vals $unit  [vs_start=$vs_start cpuset=$w_cpuset freeze=$w_freeze err=$errs journal=$journal]"
        else
                log "r$run ${n}VM $wl $set: dropped"
        fi
        sync
}

# disagree N WL: the settings whose rounds so far disagree at this density and
# workload (above default in one round, below in another), on one line
disagree() {
        awk -v n=$1 -v wl=$2 'NR == FNR { if ($1 == wl) dir = $3; next }
                $2 == n && $3 == wl { t[$1 " " $4] += $6; runs[$1] = 1; sets[$4] = 1 }
                END {
                        for (s in sets) {
                                if (s == "default") continue
                                up = 0; down = 0
                                for (r in runs) {
                                        if (!((r " " s) in t) || !((r " default") in t)) continue
                                        x = t[r " " s] / t[r " default"]
                                        if (dir == "lower") x = 1 / x
                                        if (x > 1) up = 1; else if (x < 1) down = 1
                                }
                                if (up && down) out = out " " s
                        }
                        print out
                }' $SHARE/workloads.tsv $SHARE/bench.tsv
}

# linux_round R N WL [SETTING...]: one round of every setting (rotated by R),
# or of default and the SETTINGs named (the extra rounds)
linux_round() {
        local r=$1 n=$2 wl=$3 set only
        shift 3
        only=" $* "
        # shellcheck disable=SC2086
        for set in $(rotate $(((r - 1) % nset)) $TB_SETTINGS); do
                [ $set = hand-gang ] && [ $n -lt 2 ] && continue
                case $set in hook-*) [ $HOOK_OK = 1 ] || continue ;; esac
                [ "$only" = "  " ] || [ $set = default ] || case $only in *" $set "*) ;; *) continue ;; esac
                grep -q "^$r $n $wl $set " $SHARE/bench-meas.tsv && continue
                measure_linux $r $n $wl $set
        done
}

if [ $TB_GUEST = linux ]; then
        [ -f /testbed/linux/initramfs.gz ] || fatal "no Linux guest in this L1"
        log "Linux guest: $(tr '\n' ' ' </testbed/linux/info.txt)"
        cp /testbed/linux/info.txt $SHARE/l2-image.txt
        for wl in $TB_WORKLOADS; do
                [ -n "$(wl_cmd $wl)" ] || fatal "no workload $wl in /testbed/linux/workloads"
        done
        for n in $TB_DENSITIES; do
                r=1
                while [ $r -le $TB_RUNS ]; do
                        for wl in $TB_WORKLOADS; do linux_round $r $n $wl; done
                        r=$((r + 1))
                done
                # more rounds where the rounds disagree (only with 3 or more)
                [ $TB_RUNS -ge 3 ] || continue
                # (default and the settings that disagree: the others keep their
                # rounds, so that the whole benchmark stays within its time)
                for wl in $TB_WORKLOADS; do
                        dis=$(disagree $n $wl)
                        [ -n "$dis" ] || continue
                        log "${n}VM $wl: rounds disagree for$dis: $TB_EXTRA_RUNS more of them (with default)"
                        r=$((TB_RUNS + 1))
                        # shellcheck disable=SC2086
                        while [ $r -le $((TB_RUNS + TB_EXTRA_RUNS)) ]; do linux_round $r $n $wl $dis; r=$((r + 1)); done
                done
        done
        [ $L2_UP = 0 ] || { tb_linux_stop; cleanup_cgroups $L2_UP; }
        log "bench done: $(wc -l <$SHARE/bench-meas.tsv) measurements"
        return 0
fi

r=1
while [ $r -le $TB_RUNS ]; do
        for n in $TB_DENSITIES; do
                for wl in $TB_WORKLOADS; do
                        # shellcheck disable=SC2086
                        for set in $(rotate $(((r - 1) % nset)) $TB_SETTINGS); do
                                [ $set = hand-gang ] && [ $n -lt 2 ] && continue
                                case $set in hook-*) [ $HOOK_OK = 1 ] || continue ;; esac
                                grep -q "^$r $n $wl $set " $SHARE/bench-meas.tsv && continue
                                measure $r $n $wl $set
                        done
                done
        done
        r=$((r + 1))
done
log "bench done: $(wc -l <$SHARE/bench-meas.tsv) measurements"
