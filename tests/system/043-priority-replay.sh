#!/bin/sh
# [vm "PATTERN"] priority through the real binary: --dry-run replays of the
# 2:1 testbed recording (two 2-vCPU VMs taking turns on 2 CPUs) with every
# lever on.  The frozen time of each VM is recomputed from the printed
# cgroup.freeze decisions.  Control (no priority): the two VMs are frozen
# about as long as each other.  One VM high (or the other low): it is frozen
# clearly less than the other, takes the first turn, and neither is ever
# frozen longer than max_frozen_ms.  The same run twice gives the same
# decisions.
. "$(dirname "$0")/test-lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
CONF="$TMP/prio.conf"
TRACE="$DATA/testbed/2to1-vschedd.dat"

# run EXTRA: the decisions with policy-all.conf plus EXTRA appended
run() {
        cp "$DATA/policy-all.conf" "$CONF"
        printf '%b' "$1" >>"$CONF"
        chmod 644 "$CONF"
        "$VSCHEDD" --config "$CONF" --replay "$TRACE" --dry-run --json >"$TMP/d.json" 2>"$TMP/err" ||
                { cat "$TMP/err"; fail "dry run failed ($1)"; }
}

# frozen NAME: "vm1_frozen_ms vm2_frozen_ms longest_vm1 longest_vm2 first_thawed"
frozen() {
        python3 - "$TMP/d.json" <<'PY'
import json, sys
dec = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
dec = [d for d in dec if d["file"] == "cgroup.freeze"]
EPOCH = 20_000_000
since, total, longest = {}, {"vm1": 0, "vm2": 0}, {"vm1": 0, "vm2": 0}
first = None
for d in dec:
    vm, ts = d["vm"], d["ts_ns"]
    if d["new"] == "1":
        since[vm] = ts
        if first is None:
            first = "vm2" if vm == "vm1" else "vm1"
    elif vm in since:
        t = ts - since.pop(vm)
        total[vm] += t
        longest[vm] = max(longest[vm], t)
end = dec[-1]["ts_ns"] if dec else 0
for vm, t in since.items():
    total[vm] += end - t
    longest[vm] = max(longest[vm], end - t)
print(total["vm1"] // 1_000_000, total["vm2"] // 1_000_000, longest["vm1"] // 1_000_000,
      longest["vm2"] // 1_000_000, first)
PY
}

run ""
set -- $(frozen)
say "no priority: frozen vm1 $1 ms, vm2 $2 ms (longest $3, $4 ms), first turn $5"
expect_ge "frozen time to compare (vm1, ms)" "$1" 500
ctl1=$1 ctl2=$2
# about even: within a third of each other
[ $((ctl1 * 3)) -ge $((ctl2 * 2)) ] && [ $((ctl2 * 3)) -ge $((ctl1 * 2)) ] || fail "control not even: $ctl1 vs $ctl2 ms"

# EXTRA|FAVOURED: the VM that must run longer and take the first turn
for c in '[vm "vm1"]\npriority = high\n|vm1' '[vm "vm2"]\npriority = high\n|vm2' \
         '[vm "vm1"]\npriority = low\n|vm2' '[vm "vm2"]\npriority = low\n|vm1'; do
        extra=${c%|*} fav=${c##*|}
        run "$extra"
        cp "$TMP/d.json" "$TMP/first.json"
        run "$extra"
        cmp -s "$TMP/d.json" "$TMP/first.json" || fail "decisions differ between two runs"
        set -- $(frozen)
        say "$(printf '%b' "$extra" | tr '\n' ' '): frozen vm1 $1 ms, vm2 $2 ms (longest $3, $4 ms), first turn $5"
        # the favoured VM is frozen clearly less (the turns are 2:1)
        if [ $fav = vm1 ]; then f=$1 o=$2; else f=$2 o=$1; fi
        [ $((f * 3)) -le $((o * 2)) ] || fail "$fav not favoured: frozen $f ms vs the other's $o ms"
        expect_eq "first turn" "$5" $fav
        # max_frozen_ms 100 (policy-all.conf: the default), both VMs
        [ "$3" -le 100 ] && [ "$4" -le 100 ] || fail "a VM frozen longer than max_frozen_ms: $3, $4 ms"
done
say "ok"
