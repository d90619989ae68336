#!/bin/sh
# tools/quickstart's run, the README's first command, without its build: the
# vschedd command line the script runs (taken from the script itself), on
# the recording --auto replays when no VM runs here.  Its output must end
# with what an operator needs: per VM, the vCPUs preempted while a sibling
# waited on them (rate and time), and at least one decision mode = enforce
# would take, with its reason in words.  Also with --json added: the last
# line is the decisions section, with the same figures as numbers.
. "$(dirname "$0")/test-lib.sh"

script="$top_srcdir/tools/quickstart"
# the line that runs vschedd: "VSCHEDD_DATA_DIR=... ./vschedd ARGS"
args=$(sed -n 's|^VSCHEDD_DATA_DIR=[^ ]* \./vschedd \(.*\)$|\1|p' "$script")
[ -n "$args" ] || fail "no vschedd command line found in $script"
case " $args " in
*" --auto "*) ;;
*) fail "tools/quickstart does not run vschedd --auto: $args" ;;
esac

# the recording --auto replays is a real testbed one, with KVM records
expect_grep '^| `2to1-trace-cmd.dat` |' "$DATA/testbed/README.md" "its provenance"

unset VSCHEDD_DEBUG || true
# --auto goes live when something here looks like a KVM VM (other tests' fake
# VMMs, a testbed): then the same command with --auto's recording given by
# --replay, so the output is checked whatever runs on this host
auto=true
run() {
        if $auto; then
                # the script's arguments, word-split as the script does; should
                # it go live: briefly, on a tracefs instance of its own
                # (as non-root that fails: the same fallback)
                rc=0
                # shellcheck disable=SC2086
                VSCHEDD_DATA_DIR=$DATA "$VSCHEDD" $args --duration 1 --instance "vschedd-test-$$" "$@" \
                        >"$TMP/out" 2>"$TMP/err" || rc=$?
                if grep -q "watching live" "$TMP/err"; then
                        say "KVM VMs (or fake ones) run here: --auto went live; checking --replay of its recording"
                        auto=false
                elif [ "$rc" != 0 ]; then
                        cat "$TMP/err" >&2
                        fail "vschedd $args $* exited $rc"
                fi
        fi
        if $auto; then
                expect_grep "replaying .*/testbed/2to1-trace-cmd.dat, a real recording" "$TMP/err" "the replay's message"
        else
                # shellcheck disable=SC2086
                "$VSCHEDD" $(echo " $args " | sed "s| --auto | --replay $DATA/testbed/2to1-trace-cmd.dat |") "$@" \
                        >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "vschedd --replay failed"; }
        fi
}

# ---- text
run
# the section is the last thing printed: its header, then VM blocks only
hdr=$(grep -n '^== Decisions (mode = enforce, dry run: nothing written) over [0-9.]* s of trace' "$TMP/out" |
        cut -d: -f1)
[ -n "$hdr" ] || { cat "$TMP/out" >&2; fail "no decisions section"; }
tail -n +"$((hdr + 1))" "$TMP/out" >"$TMP/section"
bad=$(grep -v -e '^$' -e '^VM ' -e '^  ' -e '^Note: a dry run writes nothing' "$TMP/section" || true)
[ -z "$bad" ] || fail "the output does not end with the decisions section; after it: $bad"
# the 25 events and the summary came before it
[ "$(head -n "$hdr" "$TMP/out" | grep -c '^ *[0-9][0-9]*\.[0-9]\{9\} ')" -ge 25 ] ||
        fail "fewer than 25 events before the decisions section"

for vm in vm1 vm2; do
        # the VM's block: from its "VM" line to the next empty line
        sed -n "/^VM $vm (2 vCPUs): spin-waiting/,/^\$/p" "$TMP/section" >"$TMP/$vm"
        [ -s "$TMP/$vm" ] || { cat "$TMP/section" >&2; fail "no spin-waiting block for $vm"; }
        # preempted while waited on: rate and time, e.g.
        #   vCPU 0 was preempted when vCPU 1 needed it: 93 times/s (212 of 682 IPIs), vCPU 1 waited 724 ms on it (32 % of its time)
        re='^  vCPU [01] was preempted when vCPU [01] needed it: [0-9.]* times/s ([0-9]* of [0-9]* IPIs), vCPU [01] waited [0-9.]* m\{0,1\}s on it ([0-9]* % of its time)$'
        expect_grep "$re" "$TMP/$vm" "$vm's preempted-while-waited figures"
        rate=$(grep "$re" "$TMP/$vm" | head -n 1 | sed 's/.*needed it: \([0-9.]*\) times.*/\1/')
        awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "$vm: rate $rate, want > 0"
        # at least one decision with its reason: what, on which cgroup file, when, and why
        re='^  decision: .* (\(cgroup.freeze\|cpuset.cpus\|cpu.weight\)[,:] .*): .*vCPU [01] was preempted [0-9.]* times/s while vCPU [01] waited on it ([0-9]* % of its time)$'
        expect_grep "$re" "$TMP/$vm" "$vm's decisions with a reason"
done
# the what and the why of both levers the policy takes here
expect_grep '^  decision: place vm2 vCPU 0 on CPU 0, vCPU 1 on CPU 1 (cpuset.cpus, at [0-9.]* s): IPI partners apart; ' \
        "$TMP/vm2"
expect_grep '^  decision: co-schedule vm1 vCPUs 0-1 in turns with vm2 (cgroup.freeze: ' "$TMP/vm1"

# ---- JSON: the last line is the section
run --json
tail -n 1 "$TMP/out" >"$TMP/last.json"
python3 - "$TMP/last.json" <<'EOF' || fail "the JSON decisions section is not what the text says"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["type"] == "decisions" and d["policy"], d.get("type")
assert d["span_ns"] > 10**9, d["span_ns"]
assert d["note"].startswith("a dry run writes nothing"), d["note"]
vms = {v["vm"]: v for v in d["vms"]}
assert set(vms) == {"vm1", "vm2"}, sorted(vms)
for name, v in vms.items():
    assert v["class"] == "spin-waiting", (name, v["class"])
    w = v["preempted_while_waited"]
    assert w and all(x["times"] > 0 and x["per_s"] > 0 and x["wait_ns"] > 0 and 0 < x["wait_share"] < 1 for x in w), (name, w)
    decs = v["decisions"]
    assert any(x["reason"] and x["count"] > 0 and "was preempted" in x["text"] for x in decs), (name, decs)
print("json ok")
EOF
say "ok"
