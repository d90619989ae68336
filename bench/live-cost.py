#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/live-cost.py - what watching costs: a scheduler-heavy load on this
machine's own kernel, side by side with and without `vschedd --live`, with and
without a VM's vCPU threads present (tests/system/fake-vmm: a process that
looks like QEMU, threads named "CPU n/KVM" passing a token around).

Run by `tools/bench live`.  Every round runs each (load, VM, vschedd)
combination once, in an order that rotates from round to round, so slow
drifts of a shared machine fall on every setting alike.  Per combination:

  throughput   operations of the load per second of wall time
  CPU/op       CPU seconds per operation: the load's own (user + system, from
               wait4) plus, when it runs, vschedd's over the load's window
               (/proc/PID/stat before and after)
  events       records vschedd read during its run, and lost ones (its summary)

and prints, per load and VM setting, the medians (min-max) of the ratios
"with vschedd / without" taken within each round.

Exit status 0, or 77 when it cannot run here (not root, no perf, no tracefs).
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid):
    """utime + stime of a live process in seconds, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError, ValueError):
        return None


def run_load(cmd):
    """Run a load; (wall s, CPU s, stdout)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"live-cost: {' '.join(cmd)} failed:\n{out}")
    return wall, ru.ru_utime + ru.ru_stime, out


class Vschedd:
    def __init__(self, binary, instance, tracefs):
        self.inst_dir = os.path.join(tracefs, "instances", instance)
        self.p = subprocess.Popen([binary, "--live", "--instance", instance, "--json", "-q"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # ready once its instance has the sched filter in place (or 10 s)
        f = os.path.join(self.inst_dir, "events/sched/sched_switch/enable")
        for _ in range(200):
            try:
                with open(f) as fh:
                    if fh.read().strip() == "1":
                        break
            except OSError:
                pass
            if self.p.poll() is not None:
                sys.exit("live-cost: vschedd exited at start: " + self.p.stderr.read().decode())
            time.sleep(0.05)
        time.sleep(0.3)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        out, err = self.p.communicate(timeout=60)
        summary = {}
        for line in out.decode(errors="replace").splitlines():
            if line.startswith('{"type":"summary"'):
                summary = json.loads(line)
        src = summary.get("source", {})
        return src.get("records", 0), src.get("lost", 0)


def loads(args):
    return {
        "perf bench sched pipe": (["perf", "bench", "sched", "pipe", "-l", str(args.pipe_loops)],
                                  lambda out: args.pipe_loops),
        "hackbench -g 4 -l %d" % args.hack_loops: (["hackbench", "-g", "4", "-l", str(args.hack_loops)],
                                                     # 4 groups x 20 senders x 20 receivers x loops messages
                                                     lambda out: 4 * 20 * 20 * args.hack_loops),
    }


def fmt(vals, pct=False, digits=3):
    if not vals:
        return "-"
    m, lo, hi = statistics.median(vals), min(vals), max(vals)
    if pct:
        return f"{m:.2f} % ({lo:.2f}-{hi:.2f})"
    return f"{m:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vschedd", required=True)
    ap.add_argument("--fake-vmm", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pipe-loops", type=int, default=300000)
    ap.add_argument("--hack-loops", type=int, default=300)
    ap.add_argument("--vcpus", type=int, default=4)
    ap.add_argument("--tracefs", default="/sys/kernel/tracing")
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("live-cost: needs root (tracefs)", file=sys.stderr)
        return 77
    if not os.path.isdir(os.path.join(args.tracefs, "instances")):
        subprocess.run(["mount", "-t", "tracefs", "nodev", args.tracefs], check=False)
        if not os.path.isdir(os.path.join(args.tracefs, "instances")):
            print(f"live-cost: no tracefs at {args.tracefs}", file=sys.stderr)
            return 77
    tty = sys.stderr.isatty()
    ld = loads(args)
    combos = [(load, vm, watch) for load in ld for vm in (False, True) for watch in (False, True)]
    res = {}            # (load, vm, watch) -> list of dicts, one per round
    inst = f"vschedd-bench-{os.getpid()}"
    for r in range(args.rounds):
        order = combos[r % len(combos):] + combos[:r % len(combos)]
        for i, (load, vm, watch) in enumerate(order):
            if tty:
                print(f"\r\033[Klive cost: round {r + 1}/{args.rounds}, run {i + 1}/{len(order)}: "
                      f"{load}{', vCPU threads' if vm else ''}{', vschedd' if watch else ''}",
                      end="", file=sys.stderr, flush=True)
            fake = None
            if vm:
                env = dict(os.environ, FAKE_VMM_PAUSE_US="500")
                fake = subprocess.Popen([args.fake_vmm, "benchvm", str(args.vcpus), "3600"],
                                        stdout=subprocess.PIPE, env=env)
                fake.stdout.readline()          # its pid: every vCPU thread is named
            vs = Vschedd(args.vschedd, inst, args.tracefs) if watch else None
            c0 = cpu_of(vs.p.pid) if vs else 0.0
            cmd, ops_of = ld[load]
            wall, cpu, out = run_load(cmd)
            c1 = cpu_of(vs.p.pid) if vs else 0.0
            records, lost = vs.stop() if vs else (0, 0)
            if fake:
                fake.terminate()
                fake.wait()
            ops = ops_of(out)
            res.setdefault((load, vm, watch), []).append(dict(
                tput=ops / wall, cpu_op=(cpu + (c1 - c0)) / ops, vs_cpu=c1 - c0, wall=wall,
                records=records, lost=lost))
    if tty:
        print("\r\033[K", end="", file=sys.stderr)

    print(f"{'load':<26} {'vCPU threads':<13} {'throughput x':<22} {'CPU/op x':<22} "
          f"{'vschedd CPU':<22} {'events/s':<10} {'%core/100k ev/s':<16} lost")
    for load in ld:
        for vm in (False, True):
            off, on = res[(load, vm, False)], res[(load, vm, True)]
            tput = [b["tput"] / a["tput"] for a, b in zip(off, on)]
            cpu = [b["cpu_op"] / a["cpu_op"] for a, b in zip(off, on)]
            vs_pct = [100 * b["vs_cpu"] / b["wall"] for b in on]
            evs = [b["records"] / b["wall"] for b in on]
            per100k = [100 * b["vs_cpu"] / b["wall"] / (b["records"] / b["wall"] / 1e5)
                       for b in on if b["records"] > 0]
            print(f"{load:<26} {('%d' % args.vcpus) if vm else 'none':<13} {fmt(tput):<22} {fmt(cpu):<22} "
                  f"{fmt(vs_pct, pct=True):<22} {statistics.median(evs):<10.0f} "
                  f"{(fmt(per100k, digits=2) if per100k else '-'):<16} {sum(b['lost'] for b in on)}")
    print(f"targets: throughput x >= 0.99, CPU/op x <= 1.01, <= 1 %core per 100k events/s, 0 lost; "
          f"{args.rounds} interleaved rounds, median (min-max)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
