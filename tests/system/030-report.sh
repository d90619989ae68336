#!/bin/sh
# The analysis report on the bundled recording agrees with an independent
# re-computation (in Python, from the normalised event dump) of every edge's
# IPI count, receiver state at send, EOI matches and expiries, and every
# vCPU's preempted time, run delay (CPU ready: preempted or woken until it
# runs), PAUSE exits and yields.
. "$(dirname "$0")/test-lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"

check() {
        "$VSCHEDD" --replay "$1" --dump-events --json >"$TMP/ev.json" || fail "dump of $1 failed"
        "$VSCHEDD" --replay "$1" --report --json >"$TMP/report.json" || fail "report of $1 failed"
        "$VSCHEDD" --replay "$1" --report >"$TMP/report.txt" || fail "human report of $1 failed"
        expect_grep "signal mode:" "$TMP/report.txt"
        python3 - "$TMP/ev.json" "$TMP/report.json" <<'PY' || fail "report of $1 disagrees with the independent computation"
import json, sys
from collections import defaultdict

WINDOW = 50_000_000
events = [json.loads(l) for l in open(sys.argv[1])]
report = json.load(open(sys.argv[2]))

state = {}                       # (vm, vcpu) -> running/preempted/woken/blocked/exited
since = {}
preempted_ns = defaultdict(int)
run_delay_ns = defaultdict(int)  # CPU ready: preempted or woken, until running
edges = defaultdict(lambda: defaultdict(int))
pending = defaultdict(list)      # receiver -> [(ts, vector, edge)]
pause = defaultdict(int)
yields = defaultdict(int)

def leave(k, ts):
    if state.get(k) == "preempted":
        preempted_ns[k] += ts - since[k]
    if state.get(k) in ("preempted", "woken"):
        run_delay_ns[k] += ts - since[k]

def setst(k, st, ts):
    leave(k, ts)
    state[k] = st
    since[k] = ts

def send(vm, src, dst, vector, ts, pv=False):
    e = edges[(vm, src, dst)]
    e["count"] += 1
    st = state.get((vm, dst), "unknown")
    e[st] += 1
    r = (vm, dst)
    keep = []
    for p in pending[r]:
        if ts - p[0] > WINDOW:
            edges[p[2]]["expired"] += 1
        else:
            keep.append(p)
    pending[r] = keep
    pending[r].append((ts, vector, (vm, src, dst)))

for ev in events:
    t, ts = ev["type"], ev["ts_ns"]
    if t == "switch":
        if ev["prev_vm"] is not None and ev["prev_vcpu"] is not None:
            k = (ev["prev_vm"], ev["prev_vcpu"])
            st = ev["prev_state"]
            if st & 0x30:
                setst(k, "exited", ts)
            else:
                setst(k, "preempted" if ev["preempted"] else "blocked", ts)
        if ev["next_vm"] is not None and ev["next_vcpu"] is not None:
            setst((ev["next_vm"], ev["next_vcpu"]), "running", ts)
    elif t == "wakeup" and ev["source"] == "sched_wakeup":
        if ev["wakee_vm"] is not None and ev["wakee_vcpu"] is not None:
            k = (ev["wakee_vm"], ev["wakee_vcpu"])
            if state.get(k) not in ("running", "preempted", "woken"):
                setst(k, "woken", ts)
    elif t == "ipi" and ev["vm"] is not None:
        if ev["shorthand"] == "none" and not ev["logical"] and ev["delivery_mode"] in ("fixed", "lowprio") \
                and ev["dst_vcpu"] is not None:
            send(ev["vm"], ev["vcpu"], ev["dst_vcpu"], ev["vector"], ts)
    elif t == "hypercall" and ev["vm"] is not None:
        if ev["hypercall"] == "send_ipi":
            for d in ev["dst_vcpus"]:
                if d is not None:
                    send(ev["vm"], ev["vcpu"], d, ev["vector"], ts, True)
        elif ev.get("dst_vcpu") is not None:
            yields[(ev["vm"], ev["vcpu"])] += 1
    elif t == "eoi" and ev["vm"] is not None:
        r = (ev["vm"], ev["vcpu"])
        keep = []
        for p in pending[r]:
            if p[1] == ev["vector"]:
                edges[p[2]]["expired" if ts - p[0] > WINDOW else "matched"] += 1
            else:
                keep.append(p)
        pending[r] = keep
    elif t == "exit_pause" and ev["vm"] is not None:
        pause[(ev["vm"], ev["vcpu"])] += 1

end = max(e["ts_ns"] for e in events)
for k in list(state):
    leave(k, end)
    since[k] = end
for r, ps in pending.items():
    for p in ps:
        if end - p[0] > WINDOW:
            edges[p[2]]["expired"] += 1

bad = 0
def expect(what, got, want):
    global bad
    if got != want:
        print(f"MISMATCH {what}: report {got}, independent {want}")
        bad += 1

seen_edges = 0
for vm in report["vms"]:
    name = vm["vm"]
    for e in vm["edges"]:
        ind = edges[(name, e["src"], e["dst"])]
        key = f"{name} {e['src']}->{e['dst']}"
        expect(key + " count", e["count"], ind["count"])
        expect(key + " preempted", e["preempted"], ind["preempted"])
        expect(key + " blocked", e["blocked"], ind["blocked"])
        expect(key + " running", e["running"], ind["running"])
        expect(key + " eoi_matched", e["eoi_matched"], ind["matched"])
        expect(key + " expired", e["expired"], ind["expired"])
        seen_edges += 1
    for v in vm["vcpu"]:
        k = (name, v["vcpu"])
        expect(f"{name} vcpu{v['vcpu']} preempted_ns", v["preempted_ns"], preempted_ns[k])
        expect(f"{name} vcpu{v['vcpu']} run_delay_ns", v["run_delay_ns"], run_delay_ns[k])
        expect(f"{name} vcpu{v['vcpu']} pause_exits", v["pause_exits"], pause[k])
        expect(f"{name} vcpu{v['vcpu']} yields", v["yields"], yields[k])
want_edges = sum(1 for k, v in edges.items() if v["count"])
expect("number of edges", seen_edges, want_edges)
if seen_edges == 0:
    print("no edges at all")
    bad += 1
print(f"{seen_edges} edges compared, {bad} mismatches")
sys.exit(1 if bad else 0)
PY
}

check "$DATA/bundled.dat"
for f in "$DATA"/testbed/*.dat; do
        [ -e "$f" ] && check "$f"
done
say "ok"
