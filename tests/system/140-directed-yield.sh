#!/bin/sh
# The companion kernel series' tracepoint kvm:kvm_directed_yield (kernel/):
# * a hand-made ftrace text trace (tests/data/directed-yield.txt) with every
#   reason, in both series' formats: events decoded, the report's
#   directed_yields counts per spinner -> target, reason and result,
#   decisions without a target and skipped candidates;
# * real recordings from the nested testbed with the series' kvm.ko in L1
#   (scenario dyield): without the per-VM capability nothing but the
#   guest's target is tried; a sched_yield (11) and a kick (5) naming a live
#   target yield to that target (reasons pv, kick) and nothing overrides it;
#   a sched_yield naming nobody falls back to the IPI receiver or the hint;
#   every yield goes to the ping-pong receiver; decisions counted as
#   trace-cmd sees them (when trace-cmd is installed);
# * vschedctl status names the interface this host's kvm.ko offers
#   (vm-file: KVM_CAP_DIRECTED_YIELD on /dev/kvm; debugfs: the first
#   series' parameters; none).
. "$(dirname "$0")/test-lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
: "${VSCHEDCTL:=$top_builddir/vschedctl}"

# --- hand-made text trace
"$VSCHEDD" --replay "$DATA/directed-yield.txt" --dump-events --json --quiet >"$TMP/ev.json" || fail "dump failed"
"$VSCHEDD" --replay "$DATA/directed-yield.txt" --report --json --quiet >"$TMP/rep.json" || fail "report failed"
"$VSCHEDD" --replay "$DATA/directed-yield.txt" --report --quiet >"$TMP/rep.txt" || fail "human report failed"
expect_eq "directed_yield events" "$(count '"type":"directed_yield"' "$TMP/ev.json")" 8
expect_grep 'directed yields 0->1 ipi  : 1 yielded, 1 failed' "$TMP/rep.txt"
expect_grep 'directed yields 1->0 stock: 0 yielded, 1 failed' "$TMP/rep.txt"
cat >"$TMP/text.py" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
dy = [e for e in ev if e.get("type") == "directed_yield"]
assert [(e["spinner"], e["target"], e["reason"], e["result"], e["yielded"], e["skipped"]) for e in dy] == [
    (0, 1, "ipi", 1, True, 0), (0, 1, "ipi", 0, False, 0), (0, 1, "hint", 1, True, 0),
    (1, 0, "pv", 1, True, 0), (1, 0, "stock", -3, False, 0),
    (0, 1, "kick", 1, True, 0), (1, -1, "pv", 0, False, 1), (1, 0, "ipi", 1, True, 1)], dy
assert all(e["dst_vcpu"] == e["target"] for e in dy if e["target"] >= 0), dy
assert all("dst_vcpu" not in e for e in dy if e["target"] < 0), dy
rep = [json.loads(l) for l in open(sys.argv[2])][-1]
vm = [v for v in rep["vms"] if v["directed_yields"]["edges"]]
assert len(vm) == 1, rep["vms"]
d = vm[0]["directed_yields"]
assert d["by_reason"] == {"stock": {"yielded": 0, "failed": 1}, "ipi": {"yielded": 2, "failed": 1},
                          "hint": {"yielded": 1, "failed": 0}, "pv": {"yielded": 1, "failed": 0},
                          "kick": {"yielded": 1, "failed": 0}}, d["by_reason"]
assert d["no_target"] == 1 and d["skipped"] == 2 and d["decisions_skipping"]["pv"] == 2, d
assert rep["signals"]["events"]["directed_yield"] == 8, rep["signals"]
EOF
python3 "$TMP/text.py" "$TMP/ev.json" "$TMP/rep.json" || fail "directed yields in the report of directed-yield.txt"
say "text trace: 8 directed yields, counted per reason and result; a decision without target; skipped candidates"

# --- real testbed recordings (the series loaded in L1, scenario dyield)
# check FILE ASSERTION WHAT: the report's directed_yields summed over the
# VMs, BY[reason] = [yielded, failed], SKIP[reason] (decisions that
# rejected a candidate of that reason), NONE (decisions without target);
# every yield goes to the ping-pong receiver (vCPU i -> i+1 mod 2).  Prints
# the number of decisions.
cat >"$TMP/check.py" <<'EOF'
import json, sys
rep = [json.loads(l) for l in open(sys.argv[1])][-1]
BY = {r: [0, 0] for r in ("stock", "ipi", "hint", "pv", "kick")}
SKIP = {r: 0 for r in BY}
NONE = 0
for v in rep["vms"]:
    d = v["directed_yields"]
    for r, x in d["by_reason"].items():
        BY[r][0] += x["yielded"]
        BY[r][1] += x["failed"]
    for r, n in d["decisions_skipping"].items():
        SKIP[r] += n
    NONE += d["no_target"]
    for e in d["edges"]:
        assert e["target"] == (e["spinner"] + 1) % 2, e
exec(sys.argv[2])
print(sum(y + f for y, f in BY.values()) + NONE)
EOF
check() {
        F="$DATA/testbed/$1"
        [ -f "$F" ] || fail "$F missing"
        "$VSCHEDD" --replay "$F" --report --json --quiet >"$TMP/tb.json" || fail "report of $F failed"
        python3 "$TMP/check.py" "$TMP/tb.json" "$2" || fail "report of $F: $3"
}

# off by default: sched_yield to nobody without KVM_CAP_DIRECTED_YIELD: nothing else tried
n=$(check dyield-off.dat 'assert NONE > 0 and BY["ipi"] == [0, 0] and BY["hint"] == [0, 0], (BY, NONE)' \
        "candidates tried without the capability") || exit 1
say "dyield-off.dat: $n decisions, no IPI receiver or hint tried without the capability"
# sched_yield (11) naming the live receiver: reason pv, never overridden (when
# the target is tried in vain, the IPI receiver, the same vCPU, is counted
# as skipped, not tried again)
n=$(check dyield-pv.dat \
        'assert BY["pv"][0] > 0 and BY["ipi"] == [0, 0] and BY["hint"] == [0, 0], (BY, SKIP)' \
        "the guest's live sched_yield target was not the one yielded to") || exit 1
say "dyield-pv.dat: $n decisions, sched_yield yields to the guest's live target (reason pv) only"
if command -v trace-cmd >/dev/null; then
        tc=$(trace-cmd report -N "$DATA/testbed/dyield-pv.dat" 2>/dev/null | grep -c 'kvm_directed_yield:' || true)
        expect_eq "directed-yield decisions in dyield-pv.dat (vschedd vs trace-cmd)" "$n" "$tc"
fi
# kick (5): reason kick, to the kicked vCPU, no fallback
n=$(check dyield-kick.dat 'assert BY["kick"][0] > 0 and all(BY[r] == [0, 0] for r in ("ipi", "hint", "pv")), BY' \
        "a kick did not yield to the kicked vCPU only") || exit 1
say "dyield-kick.dat: $n decisions, kicks yield to the kicked vCPU (reason kick) only"
# sched_yield naming nobody: the fallback to the IPI receiver
n=$(check dyield-ipi.dat 'assert BY["ipi"][0] > 0 and SKIP["pv"] > 0 and BY["hint"] == [0, 0], (BY, SKIP)' \
        "no fallback to the IPI receiver") || exit 1
say "dyield-ipi.dat: $n decisions, the failed guest target skipped, then the IPI receiver"
# the same with hints only (tb-vmm writes them through its hint file)
n=$(check dyield-hint.dat 'assert BY["hint"][0] > 0 and BY["ipi"] == [0, 0] and SKIP["ipi"] == 0, (BY, SKIP)' \
        "no fallback to the hinted vCPU") || exit 1
say "dyield-hint.dat: $n decisions, the failed guest target skipped, then the hinted vCPU"

# --- vschedctl status: kernel_hook
SOCK="$TMP/ctl.sock"
"$VSCHEDD" --replay "$DATA/directed-yield.txt" --serve --control "$SOCK" -q >"$TMP/serve.out" 2>"$TMP/serve.err" &
serve=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$SOCK" ] || { kill "$serve" 2>/dev/null; cat "$TMP/serve.err" >&2; fail "no control socket"; }
"$VSCHEDCTL" --socket "$SOCK" --json status >"$TMP/status.json" || { kill "$serve"; fail "vschedctl status failed"; }
"$VSCHEDCTL" --socket "$SOCK" status >"$TMP/status.txt" || { kill "$serve"; fail "vschedctl status (human) failed"; }
kill -TERM "$serve"
wait "$serve" || fail "serving daemon: exit $?"
# what this host's kvm.ko offers: KVM_CHECK_EXTENSION(KVM_CAP_DIRECTED_YIELD)
# on /dev/kvm (the current series), else the first series' parameters
want=$(python3 - <<'EOF'
import fcntl, os
try:
    fd = os.open("/dev/kvm", os.O_RDONLY)
    caps = fcntl.ioctl(fd, 0xAE03, 1024)
except OSError:
    caps = 0
p = "/sys/module/kvm/parameters/"
if caps > 0:
    print("vm-file")
elif os.path.exists(p + "dy_hint") and os.path.exists(p + "dy_ipi"):
    print("debugfs")
else:
    print("none")
EOF
)
present=true
[ "$want" = none ] && present=false
got=$(python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["kernel_hook"]; print(h["interface"], str(h["present"]).lower())' \
        "$TMP/status.json") || fail "no kernel_hook in vschedctl status"
expect_eq "kernel_hook interface, present" "$got" "$want $present"
expect_grep 'kernel_hook' "$TMP/status.txt"
expect_grep "interface.*$want" "$TMP/status.txt"
say "vschedctl status: kernel_hook interface=$want present=$present"
