#!/bin/sh
# Signals beyond IPIs (issue 20): the testbed's recordings replayed as a host
# with hardware IPI virtualisation (Intel IPIv, AMD AVIC) would have recorded
# them, where kvm_apic_ipi and kvm_eoi stay quiet.  tools/vs-datfilter makes
# the stripped copies through lib/dat-reader and lib/dat-writer; the replay
# of a copy must hold exactly the original's other events.  Then --dry-run
# with the shipped configuration (conf/vschedd.conf):
#  - the spin-waiting testbed guests (2to1-trace-cmd.dat, 2to1-vschedd.dat:
#    tb-vmm holder and ping-pong, 2 VMs x 2 vCPUs on 2 CPUs) reach decisions
#    for both VMs without IPI records too: placement and co-scheduling turns,
#    every one of those decisions naming the signal that drove it
#    (preemption: a vCPU preempted or delayed while a sibling runs), where
#    the original's name IPIs; the report's signal mode says preemption-only;
#  - the halting guest (halt-vschedd.dat: tb-vmm hpingpong) gets no decision,
#    stripped or not;
#  - the control: with halt_share = 1 (nothing counts as halting) the
#    stripped halting recording does get decisions, so the check above can
#    fail.
. "$(dirname "$0")/test-lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
FILTER="$top_builddir/tools/vs-datfilter"
[ -x "$FILTER" ] || fail "$FILTER not built"
SHIPPED="$top_srcdir/conf/vschedd.conf"

# strip NAME: $TMP/NAME-ipiv.dat without kvm_apic_ipi and kvm_eoi; checks the
# copy holds the original's other events, none of those
strip() {
        "$FILTER" --drop kvm:kvm_apic_ipi,kvm:kvm_eoi,kvm:kvm_pv_eoi "$DATA/testbed/$1.dat" "$TMP/$1-ipiv.dat" \
                >"$TMP/$1-filter.txt" || fail "vs-datfilter $1.dat failed"
        dropped=$(awk '$1 == "kvm:kvm_apic_ipi" { print $5 }' "$TMP/$1-filter.txt")
        expect_ge "$1: kvm_apic_ipi records dropped" "${dropped:-0}" 100
        "$VSCHEDD" --replay "$DATA/testbed/$1.dat" --dump-events --json --no-summary -q 2>/dev/null |
                grep -v -e '"type":"ipi"' -e '"type":"eoi"' >"$TMP/$1-orig-ev.json" || fail "dump of $1.dat failed"
        "$VSCHEDD" --replay "$TMP/$1-ipiv.dat" --dump-events --json --no-summary -q >"$TMP/$1-ipiv-ev.json" 2>"$TMP/err" ||
                { cat "$TMP/err"; fail "dump of the stripped $1 failed"; }
        expect_eq "$1: stripped copy = original without ipi/eoi events" \
                "$(cmp -s "$TMP/$1-orig-ev.json" "$TMP/$1-ipiv-ev.json" && echo same || echo differs)" same
        expect_eq "$1: ipi/eoi events left" "$(grep -c -e '"type":"ipi"' -e '"type":"eoi"' "$TMP/$1-ipiv-ev.json")" 0
        if command -v trace-cmd >/dev/null; then
                trace-cmd report "$TMP/$1-ipiv.dat" >/dev/null 2>&1 || fail "trace-cmd cannot read the stripped $1"
        fi
}

# levers FILE: per VM "vm placements freezes named_signals ipi_reasons halts" of the dry run
levers() {
        python3 - "$1" <<'PY'
import json, sys
from collections import defaultdict
n = defaultdict(lambda: [0, 0, 0, 0, 0])
for l in open(sys.argv[1]):
    if not l.startswith("{"):
        continue
    d = json.loads(l)
    if d.get("type") != "decision":
        continue
    c = n[d["vm"]]
    r = d["reason"]
    lever = r.startswith("placement:") or r.startswith("co-scheduling: ")
    c[0] += d["file"] == "cpuset.cpus" and r.startswith("placement:")
    c[1] += d["file"] == "cgroup.freeze" and r.startswith("co-scheduling: ")
    c[2] += lever and "signals: preemption" in r
    c[3] += lever and ("IPI partners" in r or r in ("co-scheduling: this VM's turn", "co-scheduling: another VM's turn"))
    c[4] += "the guest halts" in r
for vm in sorted(n):
    print(vm, *n[vm])
PY
}

# bad input: a clear error naming the file, nothing written
if "$FILTER" --drop kvm:kvm_eoi "$DATA/bundled.txt" "$TMP/bad.dat" 2>"$TMP/err"; then
        fail "vs-datfilter took a text file"
fi
expect_grep "bundled.txt: not a valid trace-cmd .dat" "$TMP/err"
[ ! -e "$TMP/bad.dat" ] || fail "vs-datfilter wrote an output for bad input"

for t in 2to1-trace-cmd 2to1-vschedd; do
        strip "$t"
        "$VSCHEDD" --config "$SHIPPED" --replay "$DATA/testbed/$t.dat" --dry-run --json >"$TMP/o.json" 2>"$TMP/err" ||
                { cat "$TMP/err"; fail "dry run of $t.dat failed"; }
        "$VSCHEDD" --config "$SHIPPED" --replay "$TMP/$t-ipiv.dat" --dry-run --json >"$TMP/s.json" 2>"$TMP/err" ||
                { cat "$TMP/err"; fail "dry run of the stripped $t failed"; }
        levers "$TMP/o.json" >"$TMP/o.txt"
        levers "$TMP/s.json" >"$TMP/s.txt"
        say "$t: original: $(tr '\n' ';' <"$TMP/o.txt")  stripped: $(tr '\n' ';' <"$TMP/s.txt")"
        expect_eq "$t: VMs with decisions (original)" "$(wc -l <"$TMP/o.txt")" 2
        expect_eq "$t: VMs with decisions (stripped)" "$(wc -l <"$TMP/s.txt")" 2
        while read -r vm place freeze named ipi halts; do
                expect_ge "$t: $vm placement decisions (original)" "$place" 2
                expect_eq "$t: $vm decisions naming preemption (original)" "$named" 0
                expect_ge "$t: $vm decisions naming IPIs (original)" "$ipi" 2
        done <"$TMP/o.txt"
        while read -r vm place freeze named ipi halts; do
                expect_ge "$t: $vm placement decisions (stripped)" "$place" 2
                expect_ge "$t: $vm co-scheduling turns (stripped)" "$freeze" 10
                expect_eq "$t: $vm lever decisions naming preemption (stripped)" "$named" $((place + freeze))
                expect_eq "$t: $vm decisions naming IPIs (stripped)" "$ipi" 0
                expect_eq "$t: $vm released as halting (stripped)" "$halts" 0
        done <"$TMP/s.txt"
        "$VSCHEDD" --replay "$TMP/$t-ipiv.dat" --report --json --no-summary -q >"$TMP/r.json" || fail "report failed"
        mode=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signals"]["mode"])' "$TMP/r.json")
        expect_eq "$t: signal mode (stripped)" "$mode" preemption-only
        python3 - "$TMP/r.json" <<'PY' || fail "$t: the stripped report has no stalls"
import json, sys
r = json.load(open(sys.argv[1]))
for v in r["vms"]:
    assert v["edges"] == [], v["vm"]
    assert v["stalled_ns"] > 0 and v["stalls"] > 0, v["vm"]
    assert sum(c["stalled_ns"] for c in v["vcpu"]) >= v["stalled_ns"], v["vm"]
PY
done

# the halting guest: nothing, stripped or not
strip halt-vschedd
for f in "$DATA/testbed/halt-vschedd.dat" "$TMP/halt-vschedd-ipiv.dat"; do
        "$VSCHEDD" --config "$SHIPPED" --replay "$f" --dry-run --json >"$TMP/h.json" 2>"$TMP/err" ||
                { cat "$TMP/err"; fail "dry run of $f failed"; }
        expect_eq "$(basename "$f") (halting guest): decisions, shipped config" "$(count '"type":"decision"' "$TMP/h.json")" 0
done
# ... and it is the halting that spares it
sed 's/^#halt_share = 0.1$/halt_share = 1/' "$SHIPPED" >"$TMP/h1.conf"
chmod 644 "$TMP/h1.conf"
grep -q '^halt_share = 1$' "$TMP/h1.conf" || fail "conf/vschedd.conf has no '#halt_share = 0.1' line"
"$VSCHEDD" --config "$TMP/h1.conf" --replay "$TMP/halt-vschedd-ipiv.dat" --dry-run --json >"$TMP/h1.json" ||
        fail "dry run failed"
expect_ge "stripped halt-vschedd: decisions with halt_share = 1" "$(count '"type":"decision"' "$TMP/h1.json")" 1
say "ok"
