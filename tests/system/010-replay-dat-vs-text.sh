#!/bin/sh
# The same recording as trace-cmd .dat and as text (`trace-cmd report -N -t`)
# gives exactly the same normalised events, with VMs and vCPUs resolved.
. "$(dirname "$0")/test-lib.sh"

"$VSCHEDD" --replay "$DATA/bundled.dat" --dump-events --json >"$TMP/dat.json" 2>"$TMP/dat.err" ||
        { cat "$TMP/dat.err"; fail "replay of .dat failed"; }
"$VSCHEDD" --replay "$DATA/bundled.txt" --dump-events --json >"$TMP/txt.json" 2>"$TMP/txt.err" ||
        { cat "$TMP/txt.err"; fail "replay of text failed"; }
# text from stdin goes through the same parser
"$VSCHEDD" --replay - --dump-events --json <"$DATA/bundled.txt" >"$TMP/stdin.json" ||
        fail "replay of text on stdin failed"

n=$(wc -l <"$TMP/dat.json")
expect_ge "events from the .dat" "$n" 5000
if ! cmp -s "$TMP/dat.json" "$TMP/txt.json"; then
        diff "$TMP/dat.json" "$TMP/txt.json" | head -20 >&2
        fail ".dat and text replays differ"
fi
# stdin cannot be read twice (no topology pre-pass), so only the event set is compared
expect_eq "events from stdin" "$(wc -l <"$TMP/stdin.json")" "$n"

# every event type of the model is present in the bundled recording
for t in ipi eoi switch wakeup exit_pause hypercall ple_window avic_incomplete_ipi vcpu_id; do
        expect_ge "events of type $t" "$(count "\"type\":\"$t\"" "$TMP/dat.json")" 1
done
# both VMs are named from the recording's topology markers
expect_ge "events in VM web" "$(count '"vm":"web"' "$TMP/dat.json")" 100
expect_ge "events in VM db" "$(count '"vm":"db"' "$TMP/dat.json")" 100
# sparse APIC IDs: in "db", APIC 2 is vCPU 1 and no IPI ever names a vCPU 2
expect_ge "db IPIs to APIC 2 resolved to vCPU 1" \
        "$(grep '"type":"ipi"' "$TMP/dat.json" | grep '"vm":"db"' | grep -c '"dst_vcpu":1,"dst_apic":2,' || true)" 1
expect_eq "db IPIs resolved to a nonexistent vCPU 2" \
        "$(grep '"vm":"db"' "$TMP/dat.json" | grep -c '"dst_vcpu":2,' || true)" 0
# logical and shorthand IPIs are recognised and not turned into edges
expect_ge "logical IPIs" "$(grep '"type":"ipi"' "$TMP/dat.json" | grep -c '"logical":true' || true)" 1
expect_ge "all-but-self IPIs" "$(grep -c '"shorthand":"all-but-self"' "$TMP/dat.json" || true)" 1
expect_eq "multicast IPIs with a dst_vcpu" \
        "$(grep '"shorthand":"all-but-self"' "$TMP/dat.json" | grep -vc '"dst_vcpu":null' || true)" 0
# preempted vCPU threads (prev_state R+) are visible
expect_ge "preempted switches" "$(grep -c '"prev_state_str":"R+"' "$TMP/dat.json" || true)" 1

# the summary agrees between the two formats as well
"$VSCHEDD" --replay "$DATA/bundled.dat" --summary --json >"$TMP/dat.sum"
"$VSCHEDD" --replay "$DATA/bundled.txt" --summary --json >"$TMP/txt.sum"
cmp -s "$TMP/dat.sum" "$TMP/txt.sum" || { diff "$TMP/dat.sum" "$TMP/txt.sum" >&2; fail "summaries differ"; }
expect_grep '"vm":"db"' "$TMP/dat.sum"
say "ok: $n identical events"
