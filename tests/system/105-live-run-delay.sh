#!/bin/sh
# Live CPU ready: a QEMU-looking process (fake-vmm, two "CPU n/KVM" threads
# passing a token) and a CPU hog pinned to one CPU, so each vCPU thread waits
# for that CPU at every wakeup.  The real daemon (observe mode) must report,
# for both vCPUs, a run delay that is > 0, that grows, that comes from the
# kernel's schedstat (between what this script reads from
# /proc/PID/task/TID/schedstat just before and just after asking), in
# `vschedctl status`, `vschedctl vm`, `vschedctl top` (READY%) and on the
# metrics HTTP endpoint (vschedd_vcpu_run_delay_seconds_total and
# vschedd_vm_run_delay_seconds_total).
. "$(dirname "$0")/test-lib.sh"
require_tracefs
command -v python3 >/dev/null || skip "python3 not installed"
command -v curl >/dev/null || skip "curl not installed (tools/deps installs it)"
command -v taskset >/dev/null || skip "taskset not installed (util-linux)"
[ -r /proc/self/schedstat ] || skip "kernel without CONFIG_SCHED_INFO (no /proc/PID/schedstat)"
FAKE="$top_builddir/tests/system/fake-vmm"
[ -x "$FAKE" ] || fail "fake-vmm not built"
CTL="${VSCHEDCTL:-$top_builddir/vschedctl}"
SOCK="$TMP/control"
INST=vschedd-rd-$$

cleanup() {
        rc=$?
        set +e
        [ $rc != 0 ] && [ -f "$TMP/err" ] && tail -n 20 "$TMP/err" >&2
        for p in ${vs:-} ${fake:-} ${hog:-}; do kill "$p" 2>/dev/null; done
        sleep 0.2
        for p in ${vs:-} ${fake:-} ${hog:-}; do kill -9 "$p" 2>/dev/null; done
        wait 2>/dev/null
        [ -e "$TRACEFS/instances/$INST" ] && rmdir "$TRACEFS/instances/$INST"
        rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CPU0=$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')

"$FAKE" rdtest 2 120 >"$TMP/pid" &
fake=$!
wait_file "$TMP/pid" "fake VMM did not start"
pid=$(cat "$TMP/pid")
# the VMM and a busy loop share one CPU: the token's every wakeup waits
taskset -a -p -c "$CPU0" "$pid" >/dev/null || fail "cannot pin the fake VMM to CPU $CPU0"
taskset -c "$CPU0" sh -c 'while :; do :; done' &
hog=$!
tids=$(for t in /proc/"$pid"/task/*; do
        case "$(cat "$t/comm" 2>/dev/null)" in "CPU "*/KVM) echo "${t##*/}" ;; esac
done)
[ "$(echo "$tids" | wc -w)" = 2 ] || fail "fake VMM vCPU threads: got '$tids'"

printf '[daemon]\nmode = observe\nstate_dir = %s\nlibvirt_uri =\n[policy]\nplacement = no\n[metrics]\nlisten = 127.0.0.1:%s\n' \
        "$TMP/state" "$PORT" >"$TMP/vschedd.conf"
chmod 644 "$TMP/vschedd.conf"
"$VSCHEDD" --live --config "$TMP/vschedd.conf" --instance "$INST" --control "$SOCK" >/dev/null 2>"$TMP/err" &
vs=$!
i=0
until "$CTL" -s "$SOCK" --json vm rdtest >"$TMP/vm.json" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "VM rdtest never showed up"
        kill -0 $vs 2>/dev/null || fail "the daemon exited"
        sleep 0.1
done

# run_delay (field 2) of every vCPU thread, as "TID NS" lines
schedstat() { for t in $tids; do echo "$t $(cut -d' ' -f2 /proc/"$pid"/task/"$t"/schedstat)"; done; }

# vm: per vCPU, from schedstat, between the kernel's values just before and after
check_vm() {
        schedstat >"$TMP/before"
        sleep 0.1       # older cached reads (one epoch) are older than "before"
        "$CTL" -s "$SOCK" --json vm rdtest >"$TMP/vm.json" || fail "vschedctl vm failed"
        schedstat >"$TMP/after"
        python3 - "$TMP/vm.json" "$TMP/before" "$TMP/after" "$pid" <<'PY' || fail "vm rdtest: run delay not right"
import json, sys
vm = json.load(open(sys.argv[1]))
before = dict(map(int, l.split()) for l in open(sys.argv[2]))
after = dict(map(int, l.split()) for l in open(sys.argv[3]))
assert vm["run_delay_source"] == "schedstat", vm.get("run_delay_source")
tid_of = {}
for t in before:
    comm = open(f"/proc/{sys.argv[4]}/task/{t}/comm").read().strip()
    tid_of[int(comm.split()[1].split("/")[0])] = t
total = 0
for v in vm["vcpu"]:
    t = tid_of[v["vcpu"]]
    rd = v["run_delay_ns"]
    assert v["tid"] == t, (v, t)
    assert rd > 0, v
    assert before[t] <= rd <= after[t], (v["vcpu"], before[t], rd, after[t])
    total += rd
assert len(vm["vcpu"]) == 2, vm["vcpu"]
assert vm["run_delay_ns"] == total, (vm["run_delay_ns"], total)
print(" ".join(f'vcpu{v["vcpu"]}={v["run_delay_ns"] / 1e6:.1f}ms' for v in vm["vcpu"]))
PY
}
first=$(check_vm)
sleep 1
second=$(check_vm)
say "vm rdtest run delay: $first, one second later $second"
python3 - "$first" "$second" <<'PY' || fail "the run delay did not grow: $first -> $second"
import sys
a = [float(x.split("=")[1][:-2]) for x in sys.argv[1].split()]
b = [float(x.split("=")[1][:-2]) for x in sys.argv[2].split()]
assert all(y > x for x, y in zip(a, b)), (a, b)
PY

# status: the VM's total and the source, in JSON and for people
"$CTL" -s "$SOCK" --json status >"$TMP/status.json" || fail "vschedctl status failed"
python3 - "$TMP/status.json" <<'PY' || fail "status: no run delay for rdtest"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["run_delay_source"] == "schedstat", s.get("run_delay_source")
vm = [v for v in s["vms"] if v["vm"] == "rdtest"]
assert vm and vm[0]["run_delay_ns"] > 0, vm
PY
"$CTL" -s "$SOCK" status >"$TMP/status.txt" || fail "vschedctl status failed"
expect_grep "^Run delay from: *schedstat" "$TMP/status.txt"
expect_grep "RUN DELAY" "$TMP/status.txt"
grep '^ *rdtest ' "$TMP/status.txt" | grep -q -E ' [0-9.]+(us|ms|s)( |$)' ||
        { cat "$TMP/status.txt" >&2; fail "status: rdtest's run delay not shown as a duration"; }

# top without a terminal: READY% of the VM and its vCPUs over the interval
"$CTL" -s "$SOCK" top 0.5 </dev/null >"$TMP/top.txt" || fail "vschedctl top failed"
expect_grep "READY%" "$TMP/top.txt"
col=$(head -n 1 "$TMP/top.txt" | awk '{ for (i = 1; i <= NF; i++) if ($i == "READY%") print i }')
for row in '^rdtest ' '^  vcpu0 ' '^  vcpu1 '; do
        # the first matching line below rdtest's own
        v=$(sed -n '/^rdtest /,$p' "$TMP/top.txt" | grep -m 1 -e "$row" | awk -v c="$col" '{ print $c }')
        python3 -c 'import sys; v = sys.argv[1]; assert v.endswith("%") and float(v[:-1]) > 0, v' "$v" ||
                { cat "$TMP/top.txt" >&2; fail "top: READY% of '$row' is '$v'"; }
done
say "top: $(sed -n '/^rdtest /p' "$TMP/top.txt" | head -n 1)"

# the metrics endpoint: the counters exist for both vCPUs and grow
scrape() {
        curl -sS "http://127.0.0.1:$PORT/metrics" >"$1" || fail "scrape failed"
}
scrape "$TMP/m1"
sleep 1
scrape "$TMP/m2"
python3 - "$TMP/m1" "$TMP/m2" <<'PY' || fail "metrics: run delay counters missing or not growing"
import re, sys
def read(p):
    vals = {}
    for l in open(p):
        m = re.match(r'^(vschedd_(?:vcpu|vm)_run_delay_seconds_total)\{vm="rdtest"(?:,vcpu="(\d+)")?\} (\S+)$', l)
        if m:
            vals[(m.group(1), m.group(2))] = float(m.group(3))
    return vals
a, b = read(sys.argv[1]), read(sys.argv[2])
keys = {("vschedd_vcpu_run_delay_seconds_total", "0"), ("vschedd_vcpu_run_delay_seconds_total", "1"),
        ("vschedd_vm_run_delay_seconds_total", None)}
assert keys <= set(a) and keys <= set(b), (a, b)
for k in keys:
    assert a[k] > 0 and b[k] > a[k], (k, a[k], b[k])
vm = b[("vschedd_vm_run_delay_seconds_total", None)]
vc = b[("vschedd_vcpu_run_delay_seconds_total", "0")] + b[("vschedd_vcpu_run_delay_seconds_total", "1")]
assert abs(vm - vc) < 1e-6, (vm, vc)
print(f"scrapes 1 s apart: vm {a[('vschedd_vm_run_delay_seconds_total', None)]:.3f} s -> {vm:.3f} s")
PY
expect_grep '^# TYPE vschedd_vcpu_run_delay_seconds counter' "$TMP/m2"

kill -TERM $vs; rc=0; wait $vs || rc=$?; vs=
expect_eq "daemon exit code" "$rc" 0
say "ok"
