#!/bin/sh
# --dry-run over recorded traces: the policy's decisions are deterministic and
# keep its invariants, recomputed here from the printed decisions after every
# epoch: every VM's vCPU weights sum to their baselines and stay within the
# bounds; placed vCPUs that exchange IPIs never share a CPU when there is
# room; while a co-scheduling rotation runs exactly one of its VMs is thawed
# (two only when the frozen-time bound thawed one) and no VM stays frozen
# longer than the bound (at epoch granularity).  Each trace must make a
# minimum number of decisions of each kind, the 2:1 testbed traces a
# rotation, so a policy that decides nothing fails instead of passing.
. "$(dirname "$0")/test-lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
CONF="$TMP/policy.conf"
cp "$DATA/policy-all.conf" "$CONF"
chmod 644 "$CONF"

# check TRACE MIN_DECISIONS MIN_FREEZE [FILE,...]: at least MIN_DECISIONS
# decisions, at least MIN_FREEZE co-scheduling ones, and at least one on each
# cgroup FILE named (a replay that decides nothing checks nothing).
check() {
        "$VSCHEDD" --config "$CONF" --replay "$1" --dry-run --json >"$TMP/d1.json" 2>"$TMP/err" ||
                { cat "$TMP/err"; fail "dry run of $1 failed"; }
        "$VSCHEDD" --config "$CONF" --replay "$1" --dry-run --json >"$TMP/d2.json" || fail "second dry run failed"
        cmp -s "$TMP/d1.json" "$TMP/d2.json" || fail "$1: decisions differ between two runs"
        "$VSCHEDD" --config "$CONF" --replay "$1" --dump-events --json >"$TMP/ev.json" || fail "dump failed"
        python3 - "$TMP/d1.json" "$TMP/ev.json" "$2" "$3" "${4:-}" <<'PY' || fail "$1: an invariant does not hold"
import json, sys
from collections import defaultdict
dec = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ev = [json.loads(l) for l in open(sys.argv[2])]
min_dec, min_freeze = int(sys.argv[3]), int(sys.argv[4])
kinds = [k for k in sys.argv[5].split(",") if k]
# policy-all.conf's bounds; epoch_ms, max_frozen_ms: the defaults
WMIN, WMAX, EPOCH, MAXFROZEN = 20, 500, 20_000_000, 100_000_000
vcpus = defaultdict(set)
edges = set()
for e in ev:
    if e["vm"] is not None and e["vcpu"] is not None:
        vcpus[e["vm"]].add(e["vcpu"])
    if e["type"] == "ipi" and e.get("dst_vcpu") is not None and e["vm"]:
        edges.add((e["vm"], e["vcpu"], e["dst_vcpu"]))
cpus = 1 + max(e["cpu"] for e in ev)
bad = 0
def err(m):
    global bad
    bad += 1
    if bad <= 20:
        print(m)
def cpulist(s):
    r = set()
    for part in s.split(","):
        lo, _, hi = part.partition("-")
        r.update(range(int(lo), int(hi or lo) + 1))
    return r
files = defaultdict(int)
for d in dec:
    assert d["type"] == "decision"
    files[d["file"]] += 1
if len(dec) < min_dec or any(not files[k] for k in kinds):
    err(f"too few decisions to check anything: {len(dec)} (want >= {min_dec}, on each of {kinds}), by file {dict(files)}")
if files["cgroup.freeze"] < min_freeze:
    err(f"{files['cgroup.freeze']} co-scheduling decisions, want >= {min_freeze}")
by_ts = defaultdict(list)
for d in dec:
    by_ts[d["ts_ns"]].append(d)
# A rotation runs from its first freeze to the epoch that leaves no VM frozen
# with a reason other than a turn ("co-scheduling off", a release).  A VM is
# a member from the rotation's start (the VM running then is frozen only
# later) to its last freeze decision in it, the epoch of a last thaw
# excluded (a VM that stopped contending leaves).
epochs = sorted(by_ts)
TURN = "co-scheduling: this VM's turn"
rotations, cur, frozen = [], None, {}
for ts in epochs:
    for d in by_ts[ts]:
        if d["file"] != "cgroup.freeze":
            continue
        if cur is None and d["new"] == "1":
            cur = {"start": ts, "end": None, "last": {}}
            rotations.append(cur)
        frozen[d["vm"]] = d["new"] == "1"
        if cur is not None:
            cur["last"][d["vm"]] = (ts, d["new"])
    if cur is not None and not any(frozen.values()) and \
            any(d["file"] == "cgroup.freeze" and d["reason"] != TURN for d in by_ts[ts]):
        cur["end"] = ts
        cur = None
def members(ts):
    for r in rotations:
        if r["start"] <= ts and (r["end"] is None or ts < r["end"]):
            return {vm for vm, (last, new) in r["last"].items() if ts < last or new == "1"}
    return set()
weights = defaultdict(dict); cpuset = defaultdict(dict); frozen = {}; frozen_since = {}
turns = 0
for ts in epochs:
    bound_thaws = 0
    for d in by_ts[ts]:
        vm, v, f, new = d["vm"], d["vcpu"], d["file"], d["new"]
        if f == "cpu.weight":
            w = int(new)
            if not WMIN <= w <= WMAX: err(f"{vm}/vcpu{v} weight {w} out of bounds")
            weights[vm][v] = w
        elif f == "cpuset.cpus":
            cpuset[vm][v] = cpulist(new)
        elif f == "cgroup.freeze":
            if new == "1" and not frozen.get(vm):
                frozen_since[vm] = ts
            if new == "0" and frozen.get(vm) and ts - frozen_since[vm] >= MAXFROZEN:
                bound_thaws += 1        # the frozen-time bound wins over the rotation
            frozen[vm] = new == "1"
    # after each epoch's decisions: conservation over the VM's weighted vCPUs
    for vm, ws in weights.items():
        n = len(ws)
        if n and sum(ws.values()) != 100 * n:
            err(f"{ts}: {vm} weights {ws} sum {sum(ws.values())} != {100*n}")
    # placed vCPUs that exchange IPIs never share a CPU when there is room
    for vm, cs in cpuset.items():
        if len(vcpus[vm]) > cpus:
            continue
        for (m, a, b) in edges:
            if m == vm and a != b and a in cs and b in cs and cs[a] & cs[b]:
                err(f"{ts}: {vm}: vCPUs {a} and {b} exchange IPIs but share CPUs {sorted(cs[a] & cs[b])}")
    # co-scheduling: while a rotation runs, exactly one of its VMs is thawed
    # (more only when the frozen-time bound thawed one); none stays frozen
    # longer than the bound
    m = members(ts)
    if len(m) >= 2:
        thawed = sorted(vm for vm in m if not frozen.get(vm))
        turns += 1
        if len(thawed) > 1 + bound_thaws:
            err(f"{ts}: {len(thawed)} VMs of the rotation {sorted(m)} thawed at once: {thawed}")
        if not thawed:
            err(f"{ts}: every VM of the rotation {sorted(m)} frozen")
    for vm, f in frozen.items():
        if f and ts - frozen_since[vm] > MAXFROZEN + EPOCH:
            err(f"{ts}: {vm} frozen for {(ts - frozen_since[vm]) / 1e6} ms")
# nobody stays frozen to the end beyond the bound either
if epochs:
    for vm, f in frozen.items():
        if f and epochs[-1] - frozen_since[vm] > MAXFROZEN + EPOCH:
            err(f"{vm} still frozen for {(epochs[-1] - frozen_since[vm]) / 1e6} ms at the end")
print(f"{len(dec)} decisions ({dict(files)}) in {len(epochs)} epochs, {turns} co-scheduling epochs checked, {bad} problems")
sys.exit(1 if bad else 0)
PY
}

check "$DATA/bundled.dat" 10 0 cpu.weight,cpuset.cpus
n=0
for f in "$DATA"/testbed/*.dat; do
        [ -e "$f" ] || continue
        # halting guests, one VM's two vCPU threads kept apart (016): 2
        # cpuset decisions, no weight one, nothing to check here
        case $f in */interleave-halt.dat) continue ;; esac
        n=$((n + 1))
        case $f in
        */2to1-*) check "$f" 100 100 cpuset.cpus ;;    # two contending VMs on 2 CPUs: a rotation
        *) check "$f" 10 0 ;;
        esac
done
expect_ge "testbed traces checked" "$n" 4
# observe mode in live would write nothing; in replay every VM not 'off' is
# treated as enforced, and 'off' stays off:
printf '[daemon]\nmode = observe\n[policy]\nweights = yes\nclassify = no\n[vm "web"]\nmode = off\n' >"$CONF"
chmod 644 "$CONF"
"$VSCHEDD" --config "$CONF" --replay "$DATA/bundled.dat" --dry-run --json >"$TMP/d.json" || fail "dry run failed"
expect_eq "decisions for VM web (mode off)" "$(count '"vm":"web"' "$TMP/d.json")" 0
expect_ge "decisions for VM db (observe, replayed as enforce)" "$(count '"vm":"db"' "$TMP/d.json")" 1
say "ok"
