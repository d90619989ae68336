#!/bin/sh
# The companion kernel patch's tracepoint kvm:kvm_directed_yield (kernel/):
# * a hand-made ftrace text trace (tests/data/directed-yield.txt) with every
#   reason: events decoded, the report's directed_yields counts per
#   spinner -> target, reason and result;
# * real recordings from the nested testbed with the patched kvm.ko in L1
#   (scenario dyield): dyield-ipi.dat, the report shows directed yields to
#   the IPI receiver, as many as trace-cmd sees (when trace-cmd is
#   installed); dyield-hint.dat (IPI candidate off, debugfs hints on): only
#   reason hint;
# * vschedctl status says whether the hook is loaded on this host, as
#   /sys/module/kvm/parameters says.
. "$(dirname "$0")/test-lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
: "${VSCHEDCTL:=$top_builddir/vschedctl}"

# --- hand-made text trace
"$VSCHEDD" --replay "$DATA/directed-yield.txt" --dump-events --json --quiet >"$TMP/ev.json" || fail "dump failed"
"$VSCHEDD" --replay "$DATA/directed-yield.txt" --report --json --quiet >"$TMP/rep.json" || fail "report failed"
"$VSCHEDD" --replay "$DATA/directed-yield.txt" --report --quiet >"$TMP/rep.txt" || fail "human report failed"
expect_eq "directed_yield events" "$(count '"type":"directed_yield"' "$TMP/ev.json")" 5
expect_grep 'directed yields 0->1 ipi  : 1 yielded, 1 failed' "$TMP/rep.txt"
expect_grep 'directed yields 1->0 stock: 0 yielded, 1 failed' "$TMP/rep.txt"
python3 - "$TMP/ev.json" "$TMP/rep.json" <<'PY' || fail "directed yields in the report of directed-yield.txt"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
dy = [e for e in ev if e.get("type") == "directed_yield"]
assert [(e["spinner"], e["target"], e["reason"], e["result"], e["yielded"]) for e in dy] == [
    (0, 1, "ipi", 1, True), (0, 1, "ipi", 0, False), (0, 1, "hint", 1, True),
    (1, 0, "pv", 1, True), (1, 0, "stock", -3, False)], dy
assert all(e["dst_vcpu"] == e["target"] for e in dy), dy
rep = [json.loads(l) for l in open(sys.argv[2])][-1]
vm = [v for v in rep["vms"] if v["directed_yields"]["edges"]]
assert len(vm) == 1, rep["vms"]
by = vm[0]["directed_yields"]["by_reason"]
assert by == {"stock": {"yielded": 0, "failed": 1}, "ipi": {"yielded": 1, "failed": 1},
              "hint": {"yielded": 1, "failed": 0}, "pv": {"yielded": 1, "failed": 0}}, by
assert rep["signals"]["events"]["directed_yield"] == 5, rep["signals"]
PY
say "text trace: 5 directed yields, counted per reason and result"

# --- real testbed recording (patched kvm.ko in L1)
F="$DATA/testbed/dyield-ipi.dat"
[ -f "$F" ] || fail "$F missing"
"$VSCHEDD" --replay "$F" --report --json --quiet >"$TMP/tb.json" || fail "report of $F failed"
n=$(python3 - "$TMP/tb.json" <<'PY'
import json, sys
rep = [json.loads(l) for l in open(sys.argv[1])][-1]
tot = sum(r["yielded"] + r["failed"] for v in rep["vms"] for r in v["directed_yields"]["by_reason"].values())
ipi = sum(v["directed_yields"]["by_reason"]["ipi"]["yielded"] for v in rep["vms"])
# every ipi edge: the spinner yields to the vCPU it sent its IPI to (ping-pong: i -> i+1 mod 2)
for v in rep["vms"]:
    for e in v["directed_yields"]["edges"]:
        if e["reason"] == "ipi":
            assert e["target"] == (e["spinner"] + 1) % 2, e
            assert any(x["src"] == e["spinner"] and x["dst"] == e["target"] for x in v["edges"]), (e, v["edges"])
assert ipi > 0, rep
print(tot)
PY
) || fail "report of $F: no directed yields to the IPI receiver"
if command -v trace-cmd >/dev/null; then
        tc=$(trace-cmd report -N "$F" 2>/dev/null | grep -c 'kvm_directed_yield:' || true)
        expect_eq "directed yields in $F (vschedd vs trace-cmd)" "$n" "$tc"
fi
say "testbed recording: $n directed yields, all mapped to VMs and vCPUs"

# same, with dy_ipi_window_ns=0 and debugfs hints naming the receiver: only hints
F="$DATA/testbed/dyield-hint.dat"
[ -f "$F" ] || fail "$F missing"
"$VSCHEDD" --replay "$F" --report --json --quiet >"$TMP/tbh.json" || fail "report of $F failed"
python3 - "$TMP/tbh.json" <<'PY' || fail "report of $F: not only hint (and pv) directed yields"
import json, sys
rep = [json.loads(l) for l in open(sys.argv[1])][-1]
by = [v["directed_yields"]["by_reason"] for v in rep["vms"]]
assert sum(b["hint"]["yielded"] for b in by) > 0, by
assert sum(b["ipi"]["yielded"] + b["ipi"]["failed"] for b in by) == 0, by
for v in rep["vms"]:
    for e in v["directed_yields"]["edges"]:
        assert e["target"] == (e["spinner"] + 1) % 2, e
PY
say "testbed recording with hints: directed yields with reason hint, none with reason ipi"

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
want=false
[ -e /sys/module/kvm/parameters/dy_hint ] && [ -e /sys/module/kvm/parameters/dy_ipi ] && want=true
got=$(python3 -c 'import json,sys; print(str(json.load(open(sys.argv[1]))["kernel_hook"]["present"]).lower())' \
        "$TMP/status.json") || fail "no kernel_hook in vschedctl status"
expect_eq "kernel_hook.present" "$got" "$want"
expect_grep 'kernel_hook' "$TMP/status.txt"
say "vschedctl status: kernel_hook present=$got"
