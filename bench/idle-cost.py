#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/idle-cost.py - what vschedd costs while there is little to do: its own
CPU time and wakeups beside no VM, an idle VM and a lightly busy one, for one
build or two side by side (--baseline: e.g. the previous commit's build).

Run by `tools/bench idle`.  A host runs vschedd for days and most of that
time its VMs wait or halt: then the daemon's fixed costs (timers, drains, /proc
scans) are what watching costs, not its per-event work (bench/README.md: 0.2
us per event, but 0.85 % of a core at 50 events/s before the idle cadence).
Under the nested testbed's emulated L1 those fixed costs weigh 10-30x more,
because they run at the same wall-clock rate while everything is emulated.

Per round, every (VM setting, build) pair runs once, in an order that rotates
from round to round: `vschedd --live` in observe mode for --secs seconds
beside tests/system/fake-vmm (threads "CPU n/KVM" passing a token, paused
FAKE_VMM_PAUSE_US between passes).  From wait4(): CPU seconds (user + system)
and voluntary context switches (the daemon's wakeups); from its summary: the
events it read.  Printed: medians (min-max) per setting and build, and with
--baseline the ratio build / baseline within each round.

Exit status 0, or 77 when it cannot run here (not root, no tracefs).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

SETTINGS = [            # name, fake-vmm pause in us (None: no VM)
    ("no VM", None),
    ("idle VM (token every 100 ms)", 100000),
    ("light VM (token every 1 ms)", 1000),
]


def run_one(binary, conf, fake, pause, secs, vcpus):
    """One vschedd run; (its rusage, events read, wall s)."""
    vm = None
    if pause is not None:
        env = dict(os.environ, FAKE_VMM_PAUSE_US=str(pause))
        vm = subprocess.Popen([fake, "idlecost", str(vcpus), str(int(secs) + 30)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        vm.stdout.readline()            # its pid: every vCPU thread is named
    try:
        t0 = time.monotonic()
        with tempfile.TemporaryFile() as err:
            p = subprocess.Popen([binary, "--live", "--config", conf, "--duration", str(secs), "--quiet"],
                                 stdout=subprocess.PIPE, stderr=err)
            out = p.stdout.read()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            errtext = err.read().decode(errors="replace")
        wall = time.monotonic() - t0
    finally:
        if vm:
            vm.kill()
            vm.wait()
    if p.returncode != 0:
        sys.exit(f"idle-cost: {binary} exited {p.returncode}:\n{errtext}")
    m = re.search(rb"^(\d+) events over", out, re.M)
    return ru, int(m.group(1)) if m else 0, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vschedd", required=True)
    ap.add_argument("--baseline", help="another vschedd build, measured side by side")
    ap.add_argument("--fake-vmm", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=float, default=15)
    ap.add_argument("--vcpus", type=int, default=2)
    a = ap.parse_args()
    if os.geteuid() != 0 or not os.path.isdir("/sys/kernel/tracing/events"):
        print("idle-cost: SKIP: needs root and tracefs", file=sys.stderr)
        return 77
    builds = [("build", a.vschedd)] + ([("baseline", a.baseline)] if a.baseline else [])
    tmp = tempfile.mkdtemp(prefix="vschedd-idle-cost.")
    conf = os.path.join(tmp, "observe.conf")
    with open(conf, "w") as f:
        f.write(f"[daemon]\nmode = observe\nstate_dir = {tmp}/state\n")
    pairs = [(s, b) for s in range(len(SETTINGS)) for b in range(len(builds))]
    res = {}                            # (setting, build) -> list of (cpu %, wakeups/s, events/s)
    tty = sys.stderr.isatty()
    for r in range(a.rounds):
        k = r % len(pairs)
        for i, (s, b) in enumerate(pairs[k:] + pairs[:k]):
            if tty:
                print(f"\ridle-cost: round {r + 1}/{a.rounds}, run {i + 1}/{len(pairs)}\033[K",
                      end="", file=sys.stderr, flush=True)
            ru, events, wall = run_one(builds[b][1], conf, a.fake_vmm, SETTINGS[s][1], a.secs, a.vcpus)
            cpu = ru.ru_utime + ru.ru_stime
            res.setdefault((s, b), []).append((r, 100 * cpu / wall, ru.ru_nvcsw / wall, events / wall))
    if tty:
        print("\r\033[K", end="", file=sys.stderr)

    def fmt(v, spec):
        return f"{statistics.median(v):{spec}} ({min(v):{spec}}-{max(v):{spec}})"
    print(f"vschedd --live (observe) for {a.secs:g} s beside tests/system/fake-vmm ({a.vcpus} vCPU threads); "
          f"{a.rounds} interleaved rounds, median (min-max)")
    print(f"{'VM':<30} {'build':<9} {'CPU % of a core':<22} {'wakeups/s':<24} {'events/s':<24}")
    for s, (name, _) in enumerate(SETTINGS):
        for b, (bname, _) in enumerate(builds):
            v = res[(s, b)]
            print(f"{name:<30} {bname:<9} {fmt([x[1] for x in v], '.2f'):<22} "
                  f"{fmt([x[2] for x in v], '.1f'):<24} {fmt([x[3] for x in v], '.0f'):<24}")
        if a.baseline:
            new = {x[0]: x for x in res[(s, 0)]}
            old = {x[0]: x for x in res[(s, 1)]}
            rc = [new[r][1] / old[r][1] for r in new if r in old and old[r][1] > 0]
            rw = [new[r][2] / old[r][2] for r in new if r in old and old[r][2] > 0]
            print(f"{'':<30} {'x base':<9} {fmt(rc, '.2f') if rc else '-':<22} {fmt(rw, '.2f') if rw else '-':<24}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
