/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.h - what each enforced VM's cgroups should hold, decided per epoch
 * from the analysis model, the configuration and the previous decisions.
 *
 * Owns only its decisions: the desired value of every (VM, vCPU, knob) it
 * manages, the baselines it returns to, and per-VM epoch bookkeeping.  It
 * performs no I/O: every change is handed to a callback as a vs_decision
 * (the daemon writes it through the actuator; replay prints it).  Given the
 * same model, configuration and history it makes the same decisions.
 *
 * Levers (each switchable in [policy] and per VM), escalated only while a
 * VM keeps waiting, i.e. while its IPIs reach receivers that are not running
 * (share >= trigger_preempted_share at >= trigger_ipi_rate IPIs/s), and the
 * cause is vCPU contention (trigger_vcpu_contention): the host has more
 * vCPU threads than CPUs, and one of the VM's vCPU threads was preempted by
 * another vCPU thread (any VM) within the last decay_half_life_ms.  VMs that
 * fit on their CPUs, preempted only by host tasks, are left alone: no lever
 * helps there, and in the testbed at 1:1 each one cost throughput:
 *  - placement (cpuset): the VM's vCPUs are spread over disjoint groups of
 *    the CPUs it may use, so vCPUs that exchange IPIs never share a CPU when
 *    there is room; when there is not, a greedy colouring keeps the heaviest
 *    edges apart.  Never on a vCPU whose baseline cpuset is narrower than the
 *    VM's CPUs (the operator pinned it) unless pin_override.
 *  - reserved CPUs ([policy] reserved_cpus and vs_policy_set_host_reserved(),
 *    the kernel's isolated CPUs): never in a cpuset the policy decides (only
 *    a return to the baseline found may hold them); the CPUs placement,
 *    co-scheduling and the oversubscription test count are the others.  A VM
 *    whose baselines hold only reserved CPUs gets nothing at all (its state's
 *    skipped says why).  Cpusets are only ever decided for vCPUs (vcpu >= 0),
 *    never for the VM's own cgroup: the emulator's group is not touched.
 *  - co-scheduling (cgroup.freeze): enforced, coschedule-enabled VMs that
 *    wait and fit their CPUs take turns (turn_ms, one VM thawed at a time);
 *    no VM stays frozen longer than max_frozen_ms (turns shrink to
 *    max_frozen_ms / (VMs - 1)); all thawed when fewer than two contend.
 *    Not for a VM whose guest makes at least one directed PV yield
 *    (hypercall 11) per IPI it sends (within decay_half_life_ms): it steers
 *    its own waiting, and turns measured worse there (coschedule_yielding).
 *  - weights (cpu.weight of vcpuK), the debooster's intent without its
 *    unfairness.  INVARIANT: the sum of one VM's vCPU weights always equals
 *    the sum of their baselines, so no other VM or host task gains or loses
 *    share (bounds permitting; weights stay within [weight_min, weight_max]).
 *    A vCPU whose IPIs others wait on (cause) is raised, by at most the cap of
 *    the host's run-queue depth (2: 6x, 3: 4x, 4-6: 2.5x, 7-8: 2x, 9-12:
 *    1.5x, >12: 1x); the strength is halved while the VM's yields oscillate;
 *    a preempted receiver never ends below the vCPUs waiting for it (unless
 *    the starvation guard holds such a waiter at its baseline: the guard wins); changes
 *    smaller than hysteresis_pct are skipped; without signal weights decay
 *    to baseline with decay_half_life_ms.
 *  - starvation guard: a vCPU runnable but not running for longer than
 *    starvation_ms gets at least its baseline weight at once, and a frozen
 *    VM is thawed at once.
 *  - idle (cpu.idle) only as configured per VM, never automatically.
 *  - classes ([vm] priority, factor priority_factor; all normal = none of
 *    this): VMs are placed high first, a VM's CPU groups taken least claimed
 *    by higher-class placed VMs first (claims: each vCPU's share of its VM's
 *    IPI traffic, over its CPUs), and lower-class placed VMs are placed again
 *    after a higher one (never the reverse); a rotation starts with the
 *    highest class, turns are in the classes' ratio (factor from one class
 *    to the next, the lowest class present taking turn_ms), in whole
 *    epochs, the longest shrunk until no VM waits more than max_frozen_ms
 *    (one class only: as without classes); weights target
 *    the baselines x or / factor (the weights INVARIANT above holds for the
 *    class baselines), within the bounds, the starvation guard restoring
 *    the real baseline.
 * Rate limit: a knob of a cgroup changes at most once per write_interval_ms.
 *
 * Do no harm (classify = yes, the default): the triggers above only say a VM
 * waits; whether a lever fits depends on how its guest waits.  Every
 * evaluate_ms the policy classifies each VM (enum vs_vm_class below) and
 * engages a lever only on a spin-waiting one; the windows before are the
 * "before" figure (only windows halted under half of halt_share count: the
 * class's hysteresis; answered IPIs per second, i.e. IPIs closed by an EOI; the
 * PAUSE + PV-yield rate when it sends none), the windows with the lever the
 * "after", each summed until it holds 30 answered IPIs (before: at most 3
 * windows, also the longest a VM that could take turns waits for a partner
 * being classified; after: at most 5).  A lever that did not raise it by min_gain_pct is released and
 * not tried again on that VM for retry_ms (doubled with each further failure
 * of that lever on that VM, up to 32x; the next lever may be); one under
 * which the VM did worse than before is released at the end of its first
 * window however few IPIs it holds; one that helped is kept until the VM
 * stops being contended or starts halting.  A halting VM's levers are
 * released at the end of the window that says so, and it gets none for
 * retry_ms after any window that classified it halting.
 * classify = no: the levers follow the triggers alone (before 2026-12).
 *
 * Without IPI records (no unicast IPI seen yet on the host: Intel IPIv, AMD
 * AVIC), classify = yes reads the waits from what stays visible: AVIC's
 * target-not-running exits, PV kicks and stalls (analysis.h: a vCPU delayed
 * while a sibling runs) at trigger_ipi_rate or for a tenth of the window,
 * PAUSE exits and PV yields as spinning; a trial is then judged on spinning,
 * or on the stalled share.  Each verdict records the signals it rested on
 * (VS_SIG_*), and the lever decisions of a VM not driven by IPIs name them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "cgroup.h"
#include "cpulist.h"
#include "vs-config.h"

#define VS_VALUE_MAX 64

struct vs_decision {
        uint64_t ts_ns;
        const char *vm;
        int32_t vcpu;                   /* -1: the VM's own cgroup */
        enum vs_knob knob;
        char old[VS_VALUE_MAX];
        char new[VS_VALUE_MAX];
        const char *reason;             /* static string */
};

typedef void (*vs_decision_cb)(const struct vs_decision *d, void *userdata);

struct vs_policy;

/* @cpus: the host's CPUs (e.g. {0, 1}); copied.  The CPUs of [policy]
 * reserved_cpus (read from @cfg at every epoch, so a reload applies) and of
 * vs_policy_set_host_reserved() are taken out of them for vCPUs. */
int vs_policy_new(const struct vs_config *cfg, const unsigned *cpus, unsigned n_cpus, struct vs_policy **ret);
void vs_policy_free(struct vs_policy *p);

/* Reserved CPUs found on the host (the kernel's isolated CPUs), on top of
 * [policy] reserved_cpus: no vCPU is placed there.  NULL: none.  Copied;
 * applies from the next epoch. */
void vs_policy_set_host_reserved(struct vs_policy *p, const struct vs_cpumask *cpus);

/* The value a knob holds when vschedd does not act (read from the cgroup when
 * live; default: weight 100, idle 0, freeze 0, cpuset = all CPUs).  Also how
 * an operator's change is adopted.  Returns 0 or -ENOMEM. */
int vs_policy_set_baseline(struct vs_policy *p, const char *vm, int32_t vcpu, enum vs_knob k, const char *value);

/* Replay what-if: treat every VM whose mode is observe as enforce (off stays off). */
void vs_policy_enforce_observed(struct vs_policy *p, bool on);

/* One epoch at @now: compare the model with the previous epoch, decide, and
 * report each change through @cb.  Returns the number of decisions or -ENOMEM. */
int vs_policy_epoch(struct vs_policy *p, const struct vs_analysis *a, uint64_t now, vs_decision_cb cb, void *userdata);

/* An idle policy's epochs (VS_POLICY_IDLE_EPOCH_MS apart, never closer than
 * epoch_ms, never further than evaluate_ms; evaluate_ms apart while the
 * policy knows no VM at all).  Idle: no VM holds a lever, is
 * on trial, frozen, placed, weighted or active, no co-scheduling rotation
 * runs.  Such a policy can only engage something, and a lever 80 ms later
 * costs nothing next to the evaluate_ms window that decides it; an idle
 * daemon then wakes 10 times a second instead of 50 (each wakeup costs more
 * than the events it reads, bench/README.md).  The holds are in trace time,
 * so the decisions do not depend on the cadence beyond that delay. */
#define VS_POLICY_IDLE_EPOCH_MS 100u

/* The trace time from an epoch to the next: epoch_ms while the policy holds
 * anything, the idle epoch otherwise.  Replay (pipeline.c) and the live
 * daemon's timer both follow it. */
uint64_t vs_policy_next_epoch_ns(const struct vs_policy *p);

/* What keeps the policy at epoch_ms, in words ("vm1: placed"), written to
 * @buf; NULL when it holds nothing (the idle cadence). */
const char *vs_policy_holds(const struct vs_policy *p, char *buf, size_t len);

/* Return everything to baseline (stop, reload, mode change): decisions for
 * every value that differs.  Returns the number of decisions. */
int vs_policy_release(struct vs_policy *p, uint64_t now, vs_decision_cb cb, void *userdata);

/* The cgroup could not take a decided value: record what it still holds, so
 * the policy decides (and writes) again instead of believing it applied. */
int vs_policy_set_current(struct vs_policy *p, const char *vm, int32_t vcpu, enum vs_knob k, const char *value);

/* The VM @vm is gone (its VMM exited): drop its decisions, baselines and
 * bookkeeping without deciding anything (its cgroups went with it; values
 * journalled for them are the actuator's business).  Returns 1 when it was
 * known, 0 when not. */
int vs_policy_forget_vm(struct vs_policy *p, const char *vm);

/* The baseline of a knob (NULL when none was set or defaulted yet). */
const char *vs_policy_baseline(const struct vs_policy *p, const char *vm, int32_t vcpu, enum vs_knob k);

/* What the classifier (classify = yes) makes of a VM, decided once per
 * evaluate_ms window from the figures of that window:
 *  - VS_CLASS_SPIN: under vCPU contention its vCPUs wait on vCPUs that are
 *    not running while they themselves stay runnable: its IPIs find the
 *    receiver preempted (trigger_preempted_share of them), at
 *    trigger_ipi_rate or with their IPI->EOI waits summing to a tenth of the
 *    window (a starved VM sends few IPIs, each waits long), or it spins
 *    (PAUSE exits + PV yields >= trigger_spin_rate), and its vCPUs are halted
 *    less than halt_share of their (unfrozen) time.  Levers fit.
 *  - VS_CLASS_HALT: the same contention, but its vCPUs halt (blocked >=
 *    halt_share of their time, or any PV kick hypercall: a PV-spinlock
 *    waiter halted and was kicked): PV spinlocks, idle, I/O.  A gang leaves
 *    its CPUs idle and a pin stops load balancing: no lever, held ones
 *    released, and none for retry_ms after the window.
 *  - VS_CLASS_NONE: not contended (or no evidence): nothing to do. */
enum vs_vm_class {
        VS_CLASS_NONE = 0,
        VS_CLASS_SPIN,
        VS_CLASS_HALT,
        _VS_CLASS_MAX,
};

/* The lever a spin-waiting VM gets: co-scheduling when it fits its CPUs and
 * at least one other spin-waiting VM can take turns with it (with placement
 * too when enabled), else placement alone, else (both off) weights alone.
 * Weights, when enabled, go with any lever. */
enum vs_lever {
        VS_LEVER_NONE = 0,
        VS_LEVER_COSCHEDULE,
        VS_LEVER_PLACEMENT,
        VS_LEVER_WEIGHTS,               /* weights alone (placement and co-scheduling off) */
        _VS_LEVER_MAX,
};

enum vs_trial {
        VS_TRIAL_NONE = 0,              /* no lever */
        VS_TRIAL_RUNNING,               /* lever on, its first window being measured */
        VS_TRIAL_KEPT,                  /* it raised the VM's answered IPIs/s by >= min_gain_pct */
};

/* The signals a classifier verdict rests on (vs_policy_vm_state.signals). */
enum {
        VS_SIG_IPI = 1 << 0,            /* kvm_apic_ipi (or PV send-IPI) edges to receivers not running */
        VS_SIG_EOI = 1 << 1,            /* ... answered: kvm_eoi / kvm_pv_eoi */
        VS_SIG_PAUSE = 1 << 2,          /* kvm_exit PAUSE (PLE) */
        VS_SIG_PV_YIELD = 1 << 3,       /* kvm_hypercall 11, SCHED_YIELD to a named vCPU */
        VS_SIG_AVIC = 1 << 4,           /* kvm_avic_incomplete_ipi: the target was not running */
        VS_SIG_PREEMPTION = 1 << 5,     /* stalls: a vCPU preempted or delayed while a sibling runs */
        /* PV kicks (hypercall 5) are no waiting signal: they make a VM halting */
};

/* "ipi", "eoi", "pause", "pv-yield", "avic", "preemption" for one bit */
const char *vs_signal_name(unsigned bit);
/* The names of the bits set in @signals, ", "-separated, into @buf; returns @buf. */
const char *vs_signals_format(unsigned signals, char *buf, size_t len);

/* What a trial's before and after figures count */
enum vs_figure {
        VS_FIGURE_ANSWERED = 0,         /* answered IPIs/s (higher is better) */
        VS_FIGURE_SPIN,                 /* PAUSE exits + PV yields/s (lower is better) */
        VS_FIGURE_STALLED,              /* share of the time a vCPU was delayed while a sibling ran (lower) */
};

struct vs_policy_vm_state {
        enum vs_vm_class cls;
        enum vs_lever lever;
        enum vs_trial trial;
        double halt_share;              /* of the last window, unfrozen intervals */
        double kick_rate;               /* PV kick hypercalls (nr 5) per second in the last window */
        double before, after;           /* the figure: the window before the lever, the trial window */
        enum vs_figure figure;
        unsigned signals;               /* VS_SIG_*: what the last verdict with evidence rested on */
        uint64_t banned_until[_VS_LEVER_MAX];   /* a lever that did not help waits retry_ms (doubling) */
        unsigned failed[_VS_LEVER_MAX];         /* trials of that lever released on this VM */
        uint64_t halted_until;          /* classified halting: no lever before this (retry_ms later) */
        unsigned windows;               /* windows closed for this VM */
        const char *skipped;            /* why the policy leaves the VM alone whatever its
                                         * class (static string), NULL when it may act */
};

const char *vs_vm_class_name(enum vs_vm_class c);
const char *vs_lever_name(enum vs_lever l);

/* The classifier's view of @vm.  Returns 0, or -ENOENT when unknown. */
int vs_policy_vm_state(const struct vs_policy *p, const char *vm, struct vs_policy_vm_state *ret);

/* The value the policy currently wants (NULL when it manages nothing there). */
const char *vs_policy_value(const struct vs_policy *p, const char *vm, int32_t vcpu, enum vs_knob k);
