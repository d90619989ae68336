#!/bin/sh
# [policy] reserved_cpus through the real binary, in --dry-run replays of the
# recorded traces (2 CPUs) with every lever on: the control (nothing
# reserved) places vCPUs on CPU 0; with CPU 0 reserved no cpuset decision
# puts a vCPU there (only a return to the cpuset found may hold it) and none
# is for a VM's own cgroup (the libvirt directory above the emulator group);
# with both CPUs reserved nothing at all is decided and each VM is named as
# left alone; a bad list is refused with file, line and key.
. "$(dirname "$0")/test-lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
CONF="$TMP/reserved.conf"

conf() {
        cp "$DATA/policy-all.conf" "$CONF"
        [ -n "$1" ] && printf 'reserved_cpus = %s\n' "$1" >>"$CONF"
        chmod 644 "$CONF"
}

# check TRACE RESERVED MIN_PLACEMENTS: every cpuset decision keeps off the
# reserved CPUs (a return to the baseline excepted), at least MIN_PLACEMENTS
# of them placements
check() {
        "$VSCHEDD" --config "$CONF" --replay "$1" --dry-run --json >"$TMP/d.json" 2>"$TMP/err" ||
                { cat "$TMP/err"; fail "dry run of $1 failed"; }
        python3 - "$TMP/d.json" "$2" "$3" <<'PY' || fail "$1 (reserved '$2'): a vCPU was put on a reserved CPU"
import json, sys
dec = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def cpulist(s):
    r = set()
    for part in filter(None, s.split(",")):
        lo, _, hi = part.partition("-")
        r.update(range(int(lo), int(hi or lo) + 1))
    return r
reserved, want = cpulist(sys.argv[2]), int(sys.argv[3])
first = {}
placed = bad = 0
for d in dec:
    if d["file"] != "cpuset.cpus":
        continue
    if d["vcpu"] is None:
        print("a cpuset decision for the VM's own cgroup:", d); bad += 1; continue
    key = (d["vm"], d["vcpu"])
    first.setdefault(key, d["old"])
    if d["new"] == first[key]:
        continue                        # back to the cpuset found
    placed += 1
    if cpulist(d["new"]) & reserved:
        print("on a reserved CPU:", d); bad += 1
print(f"{placed} placements, {bad} problems")
if placed < want:
    print(f"want >= {want} placements"); bad += 1
sys.exit(1 if bad else 0)
PY
}

for f in "$DATA/bundled.dat" "$DATA/testbed/2to1-vschedd.dat"; do
        conf ""
        "$VSCHEDD" --config "$CONF" --replay "$f" --dry-run --json >"$TMP/c.json" || fail "control run failed"
        # the control: without reserved CPUs, placement uses CPU 0
        expect_ge "$f: placements on CPU 0 without reserved_cpus" "$(count '"file":"cpuset.cpus".*"new":"0"' "$TMP/c.json")" 1
        conf "0"
        check "$f" 0 2
        conf "0-1"
        "$VSCHEDD" --config "$CONF" --replay "$f" --dry-run --json >"$TMP/d.json" 2>"$TMP/err" || fail "dry run failed"
        expect_eq "$f: decisions with every CPU reserved" "$(count '"type":"decision"' "$TMP/d.json")" 0
        expect_ge "$f: VMs named as left alone" "$(count 'left alone: every CPU it may use is reserved' "$TMP/err")" 2
done

printf '[policy]\nplacement = yes\nreserved_cpus = 1-0\n' >"$CONF"
chmod 644 "$CONF"
"$VSCHEDD" --config "$CONF" --test-config >"$TMP/out" 2>&1 && fail "a bad reserved_cpus was accepted"
expect_grep "$CONF:3: key 'reserved_cpus': invalid CPU list '1-0': range ends before it starts" "$TMP/out"
say "ok"
