#!/bin/sh
# vschedd under systemd (issue 7): tools/testbed-systemd boots an L1 guest
# whose PID 1 is systemd (Debian rootfs, journald) with vschedd installed by
# `make install DESTDIR=` of a --prefix=/usr build of this tree and a real KVM
# L2 VM in a delegated machine.slice scope in libvirt's cgroup layout.  In L1:
# `systemctl start vschedd` returns with the unit active/running and STATUS=
# "watching 1 VM, 2 vCPUs, enforce"; the configured cpu.idle is written;
# `systemctl reload` succeeds with a good file and fails (service still
# running) with a bad one; `systemctl stop` leaves every cgroup file as it was
# before the start.  Here: the guest's verdict, then the same facts again
# from the files it brought back, including `journalctl -u vschedd -o json`
# entries with MESSAGE_ID=, VM=, VCPU=, CGROUP= and REASON=.
# About 2-3 minutes on 2 idle cores (TCG).  Skips (77) when not root, when
# VSCHEDD_TESTBED=0, or when the rootfs, kernel or packages are not prepared
# (run `tools/testbed-systemd prepare` once; the test never downloads).
. "$(dirname "$0")/test-lib.sh"
[ "${VSCHEDD_TESTBED:-1}" != 0 ] || skip "VSCHEDD_TESTBED=0"
require_root
# the L1 runs its own build of this tree (for /usr); one plain pass is enough
if grep -q __asan_init "$VSCHEDD" 2>/dev/null; then
        skip "sanitized build: the systemd testbed runs in the plain pass"
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 not installed (tools/testbed prepare)"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

testbed_run "$TMP/out" env VSCHEDD_TESTBED_OFFLINE=1 "$top_srcdir/tools/testbed-systemd" run --out "$TMP/out" \
        --timeout 900     # a hang is still caught; a loaded host (CI runs two tests at once) boots slowly
[ $rc != 77 ] || skip "$(grep 'testbed-systemd: error\|testbed: error' "$TMP/log" | head -n 1)"
testbed_crash_skip $rc "$TMP/out"
if [ $rc != 0 ]; then
        cat "$TMP/log" >&2
        [ -f "$TMP/out/scenario.log" ] && { echo "--- L1 scenario.log:" >&2; cat "$TMP/out/scenario.log" >&2; }
        fail "tools/testbed-systemd run exited $rc"
fi
out="$TMP/out"

# the guest's own checks, every one passed
expect_eq "L1 status" "$(cat "$out/status")" OK
expect_ge "checks passed in L1" "$(count '^\[[0-9.]*\] ok: ' "$out/scenario.log")" 20
expect_eq "checks failed in L1" "$(count '^\[[0-9.]*\] FAIL: ' "$out/scenario.log")" 0

# systemctl show after start / stop
expect_grep '^ActiveState=active$' "$out/show-started.txt"
expect_grep '^SubState=running$' "$out/show-started.txt"
expect_grep '^StatusText=watching 1 VM, 2 vCPUs, enforce' "$out/show-started.txt"
expect_grep '^NRestarts=0$' "$out/show-started.txt"
expect_grep '^ActiveState=inactive$' "$out/show-stopped.txt"
expect_grep '^Result=success$' "$out/show-stopped.txt"

# cgroup values: cpu.idle 0 -> 1 while running, everything back after stop
for k in 0 1; do
        expect_grep "libvirt/vcpu$k/cpu.idle 0\$" "$out/cgroup-before.txt"
        expect_grep "libvirt/vcpu$k/cpu.idle 1\$" "$out/cgroup-during.txt"
done
expect_ge "cgroup files compared" "$(wc -l <"$out/cgroup-before.txt")" 10
# Equal, except that an empty cpuset.cpus (libvirt's default: all the parent's
# CPUs) may come back as the parent's effective CPUs: the kernel refuses to
# empty the cpuset.cpus of a populated cgroup, and lib/cgroup.c writes that
# same set of CPUs instead.  Reported, not hidden: see the note line.
eff=$(sed -n 's|.*/libvirt/cpuset.cpus.effective ||p' "$out/cgroup-before.txt")
while read -r f v; do
        a=$(grep -F "$f " "$out/cgroup-after.txt" | cut -d' ' -f2-)
        [ "$a" = "$v" ] && continue
        if [ "${f##*/}" = cpuset.cpus ] && [ -z "$v" ] && [ -n "$a" ] && [ "$a" = "$eff" ]; then
                say "note: ${f#*/libvirt/} was empty before the start, is '$a' (the parent's effective CPUs) after stop"
                continue
        fi
        fail "systemctl stop did not restore $f: '$v' before, '$a' after"
done <"$out/cgroup-before.txt"

# journald: structured fields of the decisions, start, restore, reloads
python3 - "$out/journal.json" >"$TMP/fields" <<'EOF' || { cat "$TMP/fields" >&2; fail "journal fields"; }
import json, sys
ents = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
dec = [e for e in ents if e.get("MESSAGE_ID") == "2f6e9b1a7c3d4e5f8a9b0c1d2e3f4a51"]
idle = [e for e in dec if e.get("VM") == "sdtest" and e.get("VCPU") in ("0", "1") and e.get("REASON")
        and e.get("CGROUP", "").endswith("/libvirt/vcpu" + e.get("VCPU", "?")) and "cpu.idle 0 -> 1" in e.get("MESSAGE", "")]
vcpus = sorted({e["VCPU"] for e in idle})
started = [e for e in ents if e.get("MESSAGE_ID") == "8d0a3c1f5e6b4b0f9d7a2c4e1f3b5a70"]
restored = [e for e in ents if e.get("MESSAGE_ID") == "5b7c9d1e3f2a4b6c8d0e1f2a3b4c5d62"]
msgs = [e.get("MESSAGE", "") for e in ents]
ok = vcpus == ["0", "1"] and started and restored \
    and any(m.startswith("configuration reloaded from /etc/vschedd.conf") for m in msgs) \
    and any(m.startswith("Reload rejected") and "epoch_ms" in m for m in msgs)
print("entries=%d decisions=%d cpu.idle-decisions-vcpus=%s started=%d restored=%d" % (
    len(ents), len(dec), ",".join(vcpus), len(started), len(restored)))
if idle:
    e = idle[0]
    print("example: " + " ".join("%s=%s" % (k, e.get(k)) for k in ("MESSAGE_ID", "VM", "VCPU", "CGROUP", "REASON", "PRIORITY")))
sys.exit(0 if ok else 1)
EOF
say "ok: $(head -n 1 "$TMP/fields"); $(grep -o 'start took [0-9.]* s\|stop took [0-9.]* s' "$out/console.log" | tr '\n' ' ')"
