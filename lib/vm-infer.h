/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm-infer.h - which vCPU threads form one VM when the trace does not say.
 *
 * A plain `trace-cmd record` names threads but not their processes (no TGID),
 * and two QEMUs started together interleave their vCPU TIDs, so TID order
 * proves nothing.  This module owns the evidence the trace itself holds and
 * the grouping made from it:
 *
 *   - links between two threads, each worth 1 when unambiguous:
 *       * IPI -> EOI: kvm_apic_ipi (unicast, physical) in the sender's thread
 *         to APIC ID D, vector V, then kvm_eoi (or kvm_pv_eoi) of V with
 *         apicid D in the receiver's thread.  When IPIs of several senders to
 *         (D, V) are pending at that EOI, each gets 1/k (the VMs' vCPUs with
 *         APIC ID D all look alike);
 *       * IPI -> wake-up: the sender of an IPI (kvm_apic_ipi, or the PV
 *         send-IPI / kick hypercalls) that wakes a thread on the same CPU
 *         within 1 ms (kvm_vcpu_kick of a halted receiver: sched_wakeup in the
 *         sender's context);
 *       * IPI -> polled wake-up: a unicast IPI to APIC ID D, then within 1 ms
 *         kvm_vcpu_wakeup "poll" (halt polling ended, no sleep, so no
 *         sched_wakeup) in a thread whose vcpu_id is D (the caller says);
 *         shared as for EOIs when several senders wait at D.  On APICv/AVIC
 *         hosts EOIs do not trap: the wake-ups are what is left;
 *   - separations, given by the caller per thread: two threads with the same
 *     vCPU index (QEMU's "CPU n/KVM") or the same KVM vcpu_id (kvm_entry) are
 *     never one VM.
 *
 * Grouping: every thread starts alone.  A link may join only when it stands
 * out: worth two observations at least, twice its strongest rival's and more
 * than all its rivals' together (a rival: the link of one end to another
 * thread with the other end's vCPU index or vcpu_id, i.e. the same vCPU of
 * another VM, which shared EOIs give a share).  Such links are taken
 * strongest first and join two groups unless that would put two threads with
 * one vCPU index or one vcpu_id together.  Two groups left apart that no
 * separation keeps apart may still be one VM (no evidence either way, or
 * evidence that does not stand out): vs_vm_infer_group() reports those pairs
 * (up to 4096 groups), so the caller can say so; their edges stay apart.
 *
 * A second pass over the same trace must not count the evidence twice:
 * vs_vm_infer_seal() freezes it.  Pure logic: no I/O, no logging.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct vs_vm_infer;

int vs_vm_infer_new(struct vs_vm_infer **ret);
void vs_vm_infer_free(struct vs_vm_infer *vi);

/* Learn from one event; @vcpu_id is the KVM vcpu_id of the thread it fired
 * in when known, else -1 (used by kvm_vcpu_wakeup).  Returns 1 when the
 * links changed enough that a grouping made before may differ (a new link,
 * or one whose weight doubled), 0 when not, -ENOMEM. */
int vs_vm_infer_observe(struct vs_vm_infer *vi, const struct vs_event *ev, int32_t vcpu_id);

/* The whole trace was observed: later events are ignored. */
void vs_vm_infer_seal(struct vs_vm_infer *vi);

/* Weight of the link between two threads (0 when none). */
double vs_vm_infer_link(const struct vs_vm_infer *vi, int32_t a, int32_t b);

#define VS_VM_INFER_MAYBE_MAX 4

struct vs_vm_infer_thread {
        int32_t tid;
        int32_t vcpu_index;     /* -1 unknown */
        int32_t apic_id;        /* KVM vcpu_id, -1 unknown */
        int32_t group;          /* out: 0 .. groups - 1, numbered by lowest TID */
};

struct vs_vm_infer_group {
        unsigned n_threads;
        /* other groups that may be this same VM: nothing separates them and no
         * link joins them; n_maybe counts all of them, maybe[] holds the first
         * VS_VM_INFER_MAYBE_MAX */
        unsigned n_maybe;
        int32_t maybe[VS_VM_INFER_MAYBE_MAX];
};

/*
 * Group @n threads (distinct TIDs).  Sets each thread's group; @groups (room
 * for @n, may be NULL) receives per group its size and the groups it may be
 * one VM with.  Returns the number of groups, or -ENOMEM.
 */
int vs_vm_infer_group(const struct vs_vm_infer *vi, struct vs_vm_infer_thread *th, size_t n,
                      struct vs_vm_infer_group *groups);
