/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * analysis.h - the per-VM model: IPI graph, preemption, spin and yield
 * statistics, and critical-path scores, fed by normalised events.
 *
 * Owns, per VM (keyed by its name, stable while topology regroups), one
 * vs_an_vcpu per vCPU index and one vs_an_pair per ordered (src, dst) pair
 * that ever interacted (IPIs, yields), found through an index matrix sized by the VM's vCPU
 * count; per host CPU, the run-queue depth of waiting vCPU threads.  Work per
 * event is O(1) (a PV send-IPI: O(bits set)); memory grows only when a new VM,
 * vCPU or pair first appears, never per event, and shrinks when a VM is
 * forgotten (vs_analysis_forget_vm()); the TID cache is bounded.  Reads topology.h, never
 * changes it.  No I/O, no logging (the report printers take a FILE).
 *
 * Definitions (what the numbers mean):
 *  - unicast IPI: kvm_apic_ipi with fixed/lowest-priority delivery, physical
 *    destination and no shorthand; an edge src -> dst with dst resolved from
 *    the APIC ID through topology.  Logical and shorthand IPIs are counted per
 *    VM and per sender as multicast, never guessed into edges.  KVM_HC_SEND_IPI
 *    (nr 10) bitmaps are expanded into edges flagged pv.
 *  - receiver state at send: running (on a CPU), preempted (last switched out
 *    runnable, prev_state R/R+, not back yet), woken (woken up, not on a CPU
 *    yet), blocked (switched out sleeping and not woken), unknown.
 *  - preempted wait of a pair: the sum of IPI->EOI latencies of the IPIs
 *    that found the receiver runnable but not on a CPU (preempted or woken):
 *    how long the sender waited on a receiver the host scheduler kept off.
 *  - IPI -> EOI latency: from the IPI to the next kvm_eoi/kvm_pv_eoi of the
 *    receiver with the same vector (an EOI closes every pending IPI of its
 *    vector: the IRR coalesces them).  Pending IPIs expire after ipi_window_ns
 *    (default 50 ms, upstream's ipi_window_ns); up to VS_AN_PENDING per vCPU,
 *    the oldest is dropped (counted as expired) beyond that.
 *  - directed yield a -> b: KVM_HC_KICK_CPU (nr 5, a1 = target APIC; KVM also
 *    yields to it) and KVM_HC_SCHED_YIELD (nr 11, a0 = target APIC).
 *    Oscillation: a yield a -> b at t when b -> a yielded at t' with
 *    t - t' <= yield_window_ns (default 600 us, inclusive); counted once per
 *    reversal on the unordered pair.
 *  - preempted_ns: time a vCPU thread spent switched out runnable (R/R+)
 *    until it next ran; waiting_ns: time from a wakeup to running;
 *    running_ns: time on a CPU; blocked_ns: time switched out sleeping
 *    (a halted vCPU: HLT, PV spinlock wait, idle; or frozen).  Totals count
 *    closed intervals; vs_an_vcpu_times() adds the open one.
 *  - run-queue depth of a host CPU: vCPU threads preempted on it or woken
 *    onto it and not running yet, time-averaged.
 *  - stall (what stays visible when IPIs and EOIs do not trap: Intel IPIv,
 *    AMD AVIC): a vCPU of a VM is delayed (preempted, or woken and not on a
 *    CPU yet) while a sibling runs.  A sibling that spin-waits for it (lock
 *    holder, IPI receiver) burns its time then; one that does not loses
 *    nothing.  Per VM: stalls counts the overlaps that start (a vCPU is
 *    delayed while a sibling runs, or starts running while a sibling is
 *    delayed), stalled_ns the time at least one vCPU was delayed while
 *    another ran; per vCPU, stalled_ns is the time it was delayed while a
 *    sibling ran (the vCPU its siblings may have waited for).  No pairs: the
 *    waiter is not known.  O(1) per event (running/delayed counts per VM).
 *  - critical-path score, per vCPU (totals and last complete epoch):
 *        cause_ns = sum of IPI->EOI latencies of IPIs it received while not
 *                   running (preempted, woken or blocked)
 *                 + yields_in  * yield_cost_ns
 *        waste_ns = pause_exits * pause_cost_ns + yields_out * yield_cost_ns
 *    cause says how much of its VM's waiting the vCPU causes, waste how much
 *    CPU it burns waiting for others.  Costs are config (defaults 50 us per
 *    yield, 20 us per PAUSE exit: a PLE window's worth of spinning).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "event.h"
#include "histogram.h"
#include "topology.h"

#define VS_AN_PENDING 8
#define VS_AN_MAX_VCPUS 1024

struct vs_analysis_config {
        uint64_t ipi_window_ns;         /* pending IPI expiry, default 50 ms */
        uint64_t yield_window_ns;       /* oscillation window, default 600 us */
        uint64_t rate_half_life_ns;     /* decayed IPI rate, default 1 s */
        uint64_t epoch_ns;              /* scoring epoch, default 20 ms */
        uint64_t yield_cost_ns;         /* default 50 us */
        uint64_t pause_cost_ns;         /* default 20 us */
};

void vs_analysis_config_default(struct vs_analysis_config *c);

enum vs_an_state {
        VS_AN_UNKNOWN = 0,
        VS_AN_RUNNING,
        VS_AN_PREEMPTED,
        VS_AN_WOKEN,
        VS_AN_BLOCKED,
        VS_AN_EXITED,
};

struct vs_an_pending {
        uint64_t ts;
        int32_t pair;                   /* index into the VM's pairs, -1 = free slot */
        uint8_t vector;
        uint8_t not_running;            /* receiver was not on a CPU at send */
        uint8_t runnable;               /* ... because it was preempted or woken (not halted) */
};

/* 160 bytes: counters that cannot reach 2^32 in any realistic run are 32-bit
 * and saturate; the pair total and the latency sums are 64-bit. */
struct vs_an_pair {
        uint16_t src, dst;
        uint32_t ipis_pv;               /* of the ipis, from KVM_HC_SEND_IPI */
        uint64_t ipis;                  /* unicast IPIs src -> dst (incl. PV) */
        uint32_t at_state[VS_AN_EXITED + 1];    /* receiver state at send */
        uint32_t eoi_matched, expired;
        uint64_t lat_sum_ns;
        uint64_t preempted_wait_ns;     /* IPI->EOI latencies of IPIs that found dst preempted or woken */
        uint32_t lat_max_ns;
        float rate_acc;                 /* decayed count, see vs_analysis_pair_rate() */
        uint64_t rate_ts;
        struct vs_hist lat;
        uint32_t avic_not_running;      /* kvm_avic_incomplete_ipi, target not running */
        uint32_t kicks, yields;         /* hypercall 5 / 11 src -> dst (kicks count as yields too) */
        uint32_t oscillations;          /* kept on the pair with src < dst */
        uint64_t yield_last_ts;
        /* kvm:kvm_directed_yield (kernel/ patch) src -> dst, by VS_DY_* reason:
         * [reason][0] yielded (result > 0), [reason][1] not */
        uint32_t dy[_VS_DY_MAX][2];
};

struct vs_an_vcpu {
        bool present;
        int32_t tid;
        enum vs_an_state state;
        uint64_t state_since;
        int32_t queue_cpu;              /* CPU counted in the run-queue depth, -1 = none */
        uint64_t preempted_ns, waiting_ns;
        uint64_t running_ns, blocked_ns;        /* on a CPU; switched out sleeping (halted, in HLT or a host wait) */
        uint64_t preemptions;           /* switched out runnable */
        uint64_t vcpu_preemptions;      /* ... with another vCPU thread switched in: vCPU contention */
        uint64_t ipis_out, ipis_in, multicast_out, unresolved_out;
        uint64_t pause_exits, ple_grows;
        uint32_t ple_max;
        uint64_t yields_out, yields_in;
        uint64_t eois;
        uint64_t stalled_ns;            /* delayed while a sibling ran (closed intervals; see "stall") */
        uint64_t stall_mark;            /* the VM's any_run_ns when it became delayed */
        uint64_t cause_ns, waste_ns;            /* totals */
        uint64_t epoch_cause_ns, epoch_waste_ns;  /* current epoch */
        uint64_t last_cause_ns, last_waste_ns;    /* last complete epoch */
        struct vs_an_pending pending[VS_AN_PENDING];
};

struct vs_an_vm {
        char name[VS_VM_NAME_MAX];
        bool inferred;
        unsigned n_maybe_same;          /* topology's vs_vm.n_maybe_same, maybe_same */
        char maybe_same[256];
        unsigned n_vcpus;               /* highest vCPU index seen + 1 */
        unsigned cap_vcpus;
        struct vs_an_vcpu *vcpus;
        int32_t *pair_idx;              /* cap_vcpus x cap_vcpus, -1 = no pair */
        struct vs_an_pair *pairs;
        unsigned n_pairs, cap_pairs;
        uint64_t multicast;             /* logical/shorthand IPIs */
        uint64_t unresolved;            /* unicast IPIs to an APIC ID no vCPU has */
        /* kvm:kvm_directed_yield (kernel/ patch) beyond the per-pair counts */
        uint64_t dy_no_target;          /* decisions that tried no target */
        uint64_t dy_skipped[_VS_DY_MAX];/* decisions that rejected candidates of that reason */
        uint64_t dy_skipped_total;      /* candidates rejected, all reasons */
        /* stalls (see above) */
        uint64_t stalls;                /* overlaps started */
        uint64_t stalled_ns;            /* time with a vCPU delayed while another runs */
        uint64_t any_run_ns;            /* time with a vCPU running (a delayed vCPU's stall clock) */
        uint64_t stall_ts;              /* integrated up to here */
        unsigned n_running, n_delayed;  /* vCPUs running / delayed now */
};

struct vs_an_cpu {
        bool started;
        bool queued;                    /* a vCPU thread waited here at least once */
        uint32_t depth;
        uint64_t last_ts;
        double depth_ns;                /* integral of depth over time */
        double epoch_depth_ns;
        double last_epoch_avg;
};

struct vs_analysis;

int vs_analysis_new(const struct vs_analysis_config *c, struct vs_topology *topo, struct vs_analysis **ret);
void vs_analysis_free(struct vs_analysis *a);

/* Account one event.  Returns 0, or -ENOMEM (nothing is half-applied). */
int vs_analysis_event(struct vs_analysis *a, const struct vs_event *ev);
/* End of input at @ts_ns: close open preempted/waiting intervals, expire
 * pending IPIs older than the window, close the current epoch. */
void vs_analysis_finish(struct vs_analysis *a, uint64_t ts_ns);

/* The VM @name is gone (its VMM exited): drop its model (vCPUs, pairs,
 * pending IPIs; its vCPUs leave the run-queue depth), so memory and the
 * report follow the VMs alive.  A VM of that name seen later starts anew.
 * Returns 1 when it was known, 0 when not. */
int vs_analysis_forget_vm(struct vs_analysis *a, const char *name);

unsigned vs_analysis_n_vms(const struct vs_analysis *a);
const struct vs_an_vm *vs_analysis_vm(const struct vs_analysis *a, unsigned i);
const struct vs_an_vm *vs_analysis_vm_by_name(const struct vs_analysis *a, const char *name);
const struct vs_an_pair *vs_analysis_pair(const struct vs_an_vm *vm, unsigned src, unsigned dst);
/* IPIs of a pair that found the receiver not running: preempted, woken
 * (not on a CPU yet) or blocked at send.  The one definition every report,
 * metric and policy trigger uses. */
uint64_t vs_an_pair_not_running(const struct vs_an_pair *p);
/* A vCPU's time running, delayed (preempted or woken, not on a CPU yet) and
 * blocked up to @now, the interval still open included. */
void vs_an_vcpu_times(const struct vs_an_vcpu *v, uint64_t now, uint64_t *run, uint64_t *delay, uint64_t *blocked);
/* Decayed IPI rate of a pair in IPIs/s at @ts_ns. */
double vs_analysis_pair_rate(const struct vs_analysis *a, const struct vs_an_pair *p, uint64_t ts_ns);
unsigned vs_analysis_n_cpus(const struct vs_analysis *a);
/* Host CPU @cpu's run-queue bookkeeping (depth_ns integral, current depth), or NULL. */
const struct vs_an_cpu *vs_analysis_cpu(const struct vs_analysis *a, unsigned cpu);
/* Time-averaged run-queue depth of host CPU @cpu over the whole input. */
double vs_analysis_cpu_depth(const struct vs_analysis *a, unsigned cpu);
/* Timestamp of the newest event accounted. */
uint64_t vs_analysis_last_ts(const struct vs_analysis *a);
/* Timestamp of the first event accounted (0 before any). */
uint64_t vs_analysis_first_ts(const struct vs_analysis *a);
/* Events seen per type (for the signal report). */
uint64_t vs_analysis_seen(const struct vs_analysis *a, enum vs_event_type t);

/* The report (see man/vschedd.8 for the JSON schema). */
struct json_object *vs_analysis_report_json(const struct vs_analysis *a);
void vs_analysis_report_print(const struct vs_analysis *a, FILE *f);
