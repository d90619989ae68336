/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enforce.h - wires the policy to the host: reads baselines from the VMs'
 * cgroups, applies each decision through the journalled actuator (or only
 * logs it in dry-run/observe), adopts values an operator changed, and
 * restores everything on release; writes the companion kernel patch's yield
 * hints.  Owns the cgroup host layout, the policy and the actuator; reads
 * topology and analysis.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "histogram.h"
#include "analysis.h"
#include "policy.h"
#include "topology.h"
#include "vs-config.h"

struct enforcer;

struct enforcer_stats {
        uint64_t decisions, writes, write_errors, vanished, external, skipped_busy;
        size_t journalled;
        /* decision latency: from the event that set the epoch off (the newest
         * one read before it, on CLOCK_MONOTONIC) to the return of each
         * successful cgroup write of that epoch */
        struct vs_lat_hist latency;
};

/* @cfg and @topo must outlive the enforcer.  Restores a journal left by a
 * previous run first (crash, SIGKILL).  With @dry_run nothing is ever written. */
int enforcer_new(const struct vs_config *cfg, struct vs_topology *topo, bool dry_run, struct enforcer **ret);
/* Read the CPUs the kernel isolates again and hand them, with [policy]
 * reserved_cpus, to the policy (start and reload); logs the reserved set. */
void enforcer_reserved_cpus(struct enforcer *e);
/* Restores every value (like enforcer_release) and frees. */
void enforcer_free(struct enforcer *e);

/* One policy epoch at trace time @now; @trigger_mono: CLOCK_MONOTONIC ns of
 * the event that set it off (0: unknown, no latency recorded).  Returns 0 or
 * -errno (fatal only: ENOMEM). */
int enforcer_epoch(struct enforcer *e, struct vs_analysis *an, uint64_t now, uint64_t trigger_mono);

/* Microseconds to the next epoch: epoch_ms while the policy holds something,
 * its idle epoch otherwise (vs_policy_next_epoch_ns()). */
uint64_t enforcer_next_epoch_usec(const struct enforcer *e);

/* Why the policy runs at epoch_ms (vs_policy_holds()), or NULL. */
const char *enforcer_policy_holds(const struct enforcer *e, char *buf, size_t len);
/* Yield hints for the spinning vCPUs of enforced VMs (the companion kernel
 * patch, when loaded; never in a dry run), from the model at trace time @now. */
void enforcer_yield_hints(struct enforcer *e, struct vs_analysis *an, uint64_t now);
/* The companion kernel series' directed yield (KVM_CAP_DIRECTED_YIELD) on
 * for every enforced VM with directed_yield = yes whose VMM did not turn it
 * on, off again where that no longer holds; looks once a second (never in a
 * dry run).  enforcer_release() turns off what it turned on. */
void enforcer_directed_yield(struct enforcer *e);
/* For status: enum vs_kvm_dy_state of @vm; *err: the error when it failed. */
int enforcer_vm_directed_yield(const struct enforcer *e, const char *vm, int *err);
/* Everything back to baseline now (stop, reload to observe). */
int enforcer_release(struct enforcer *e, uint64_t now);
void enforcer_get_stats(const struct enforcer *e, struct enforcer_stats *ret);
/* The VM @vm is gone: forget its policy state and baselines (a VM of that
 * name later is read anew).  The journal keeps what it restores at stop. */
void enforcer_forget_vm(struct enforcer *e, const char *vm);

/* The classifier's view of @vm (classify = yes): 0, or -ENOENT (no
 * enforcer, classify off, or the VM was never seen). */
int enforcer_vm_state(const struct enforcer *e, const char *vm, struct vs_policy_vm_state *ret);
/* Why the policy leaves @vm alone whatever it does (every CPU it may use is
 * reserved), or NULL. */
const char *enforcer_left_alone(const struct enforcer *e, const char *vm);
/* For status: the value vschedd currently holds for a knob, or NULL. */
const char *enforcer_value(const struct enforcer *e, const char *vm, int vcpu, enum vs_knob k);

const char *enforcer_baseline(const struct enforcer *e, const char *vm, int vcpu, enum vs_knob k);

/* `vschedd --restore`: restore a leftover journal in @state_dir. Returns entries restored or -errno. */
int enforcer_restore_journal(const char *state_dir);
