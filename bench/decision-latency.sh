#!/bin/bash
# bench/decision-latency.sh - the decision latency of the real daemon in
# enforce mode on this host's cgroup v1 cpu controller (tools/bench runs it;
# root, tracefs, a v1 cpu hierarchy with cpu.idle).
#
# VMS fake VMMs (tests/system/fake-vmm: threads named "CPU n/KVM" passing a
# token, so their sched events flow) in libvirt-style trees under a group
# made here; vschedd --live --config C with `idle = yes` for each; then the
# configuration flips between idle yes and no FLIPS times (SIGHUP), each flip
# a policy epoch writing every vCPU's cpu.idle.  Prints the daemon's
# vschedd_decision_latency_seconds histogram from `vschedctl metrics` as
# "count N", "p50 S", "p99 S", "max_bucket S" (upper bounds of the buckets
# holding them; +Inf above 1 s).  Only groups made here are touched, and
# removed at the end.
#
# usage: decision-latency.sh VSCHEDD VSCHEDCTL FAKE_VMM [VMS [VCPUS [FLIPS]]]
set -euo pipefail
vschedd=$1 vschedctl=$2 fake=$3 vms=${4:-8} vcpus=${5:-2} flips=${6:-10}
CPU=/sys/fs/cgroup/cpu
[[ -w $CPU/cgroup.procs && -e $CPU/cpu.idle ]] || { echo "no cgroup v1 cpu hierarchy with cpu.idle at $CPU" >&2; exit 2; }
TMP=$(mktemp -d)
TOP="$CPU/vschedd-bench-$$"
INST="vschedd-bench-$$"
pids=() vs=

cleanup() {
        set +e
        [[ -n $vs ]] && kill -TERM "$vs" 2>/dev/null && wait "$vs" 2>/dev/null
        for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
        wait 2>/dev/null
        if [[ -d $TOP ]]; then
                find "$TOP" -depth -type d | while read -r d; do
                        while read -r t; do echo "$t" >"$CPU/tasks" 2>/dev/null; done <"$d/tasks"
                        rmdir "$d" 2>/dev/null
                done
        fi
        [[ -e /sys/kernel/tracing/instances/$INST ]] && rmdir "/sys/kernel/tracing/instances/$INST" 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

conf() {        # IDLE
        {
                printf '[daemon]\nmode = enforce\nstate_dir = %s/state\n[policy]\nplacement = no\n' "$TMP"
                for ((v = 0; v < vms; v++)); do printf '[vm "bench%d"]\nidle = %s\n' "$v" "$1"; done
        } >"$TMP/vschedd.conf.new"
        chmod 644 "$TMP/vschedd.conf.new"
        mv "$TMP/vschedd.conf.new" "$TMP/vschedd.conf"
}

for ((v = 0; v < vms; v++)); do
        lv="$TOP/machine-qemu\\x2d$((v + 1))\\x2dbench$v.scope/libvirt"
        mkdir -p "$lv/emulator"
        for ((k = 0; k < vcpus; k++)); do mkdir -p "$lv/vcpu$k"; done
        FAKE_VMM_PAUSE_US=200 "$fake" "bench$v" "$vcpus" 600 >"$TMP/pid$v" &
        pids+=($!)
        for ((i = 0; i < 50; i++)); do [[ -s $TMP/pid$v ]] && break; sleep 0.1; done
        pid=$(cat "$TMP/pid$v")
        for t in /proc/"$pid"/task/*; do
                c=$(cat "$t/comm" 2>/dev/null) || continue
                case "$c" in
                "CPU "*/KVM) k=${c#CPU }; echo "${t##*/}" >"$lv/vcpu${k%/KVM}/tasks" ;;
                *) echo "${t##*/}" >"$lv/emulator/tasks" ;;
                esac
        done
done

idle_sum() { cat "$TOP"/*/libvirt/vcpu*/cpu.idle | awk '{s += $1} END {print s}'; }
wait_idle() {   # SUM
        for ((i = 0; i < 300; i++)); do
                [[ $(idle_sum) == "$1" ]] && return 0
                sleep 0.1
        done
        echo "cpu.idle never summed to $1 (is $(idle_sum))" >&2
        exit 1
}

conf yes
export VSCHEDD_CONTROL="$TMP/control"
"$vschedd" --live --config "$TMP/vschedd.conf" --instance "$INST" >/dev/null 2>"$TMP/err" &
vs=$!
wait_idle $((vms * vcpus))
for ((f = 0; f < flips; f++)); do
        if ((f % 2 == 0)); then conf no; want=0; else conf yes; want=$((vms * vcpus)); fi
        kill -HUP "$vs"
        wait_idle "$want"
done
"$vschedctl" --socket "$VSCHEDD_CONTROL" metrics >"$TMP/metrics"
[[ -z ${BENCH_KEEP:-} ]] || cp "$TMP/metrics" "$TMP/err" "$BENCH_KEEP"/
awk '
$1 ~ /^vschedd_decision_latency_seconds_bucket/ {
        le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
        n++; bound[n] = le; cum[n] = $2
}
$1 == "vschedd_decision_latency_seconds_count" { count = $2 }
END {
        if (!count) { print "count 0"; exit 1 }
        print "count", count
        split("50 99 100", q, " ")
        name[1] = "p50"; name[2] = "p99"; name[3] = "max_bucket"
        for (j = 1; j <= 3; j++) {
                want = count * q[j] / 100
                for (i = 1; i <= n; i++) if (cum[i] >= want) { print name[j], bound[i]; break }
        }
}' "$TMP/metrics"
