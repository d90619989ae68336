/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * topology.h - which host thread is which vCPU of which VM.
 *
 * Owns the thread table (TID -> comm, TGID, vCPU index, KVM vcpu_id/APIC ID)
 * and the VM table.  It learns from three places:
 *   - thread identities reported by sources (comms from sched_switch and the
 *     .dat cmdlines, TGIDs from a TGID column, vschedd topology markers);
 *   - events (kvm_entry/kvm_exit/ple/eoi vcpu_id fired in a TID gives that
 *     thread's APIC ID; any kvm event marks the TID as a vCPU thread);
 *   - on a live host, /proc (QEMU processes, "CPU n/KVM" thread names,
 *     -name guest=NAME, the process's cgroup).
 *
 * vCPU index = the n of QEMU's "CPU n/KVM" (also Firecracker "fc_vcpu n",
 * cloud-hypervisor "vcpuN", crosvm "crosvm_vcpuN", kvmtool "kvm-vcpu-N"),
 * else KVM's vcpu_id.  APIC IDs may be sparse: dest_id is resolved through
 * the learned vcpu_id <-> thread map, never assumed to equal the index.
 *
 * When a trace carries no TGIDs (a plain trace-cmd .dat), vCPU threads are
 * grouped into VMs from the trace's own evidence (lib/vm-infer.h: IPI -> EOI
 * and IPI -> wake-up links, vCPU index and vcpu_id clashes), never from TID
 * order: two QEMUs started together interleave their TIDs.  Such VMs are
 * flagged inferred, named "inferred-N" (N by lowest vCPU TID; no process ID
 * is claimed), and list the other inferred VMs the evidence cannot tell them
 * apart from (maybe_same).
 *
 * Live (vs_topology_set_live()): nothing is guessed.  A thread that is not
 * in the table yet and that a source names as a vCPU ("CPU n/KVM"...) or that
 * fires a kvm event is placed at once from /proc (its TGID from
 * <proc>/<tid>/status, its process scanned as below); a thread already gone
 * (or a zombie) is dropped.  VMs are only processes found in /proc; the
 * host's other threads are not kept.  vs_topology_forget_tgid() drops a
 * process that exited, vs_topology_gone() lists the ones /proc no longer has,
 * so the tables follow the VMs alive.
 *
 * No I/O except the /proc reads of vs_topology_scan_proc() and of the live
 * mode; no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct vs_topology;

#define VS_VM_NAME_MAX 128
#define VS_COMM_MAX 64

struct vs_vm {
        int32_t tgid;                   /* -1 when inferred */
        char name[VS_VM_NAME_MAX];
        char cgroup[256];               /* live: the process's cgroup path, "" when unknown */
        bool inferred;                  /* grouping from the trace's evidence, no TGID in it */
        bool named;                     /* name came from libvirt/-name/marker, not qemu-<tgid> */
        bool apics_known;               /* every vCPU thread's APIC ID is known */
        unsigned n_vcpus;
        /* inferred: how many other inferred VMs may be this same VM (nothing in
         * the trace joins or separates them; their edges are kept apart), and
         * the first names, comma-separated */
        unsigned n_maybe_same;
        char maybe_same[256];
};

struct vs_thread {
        int32_t tid;
        int32_t tgid;                   /* -1 unknown */
        char comm[VS_COMM_MAX];
        int32_t vcpu_index;             /* from the thread name, -1 unknown */
        int32_t apic_id;                /* KVM vcpu_id (= APIC ID on x86), -1 unknown */
        int32_t vm;                     /* index into the VM table, -1 none */
        bool is_vcpu;
};

int vs_topology_new(struct vs_topology **ret);
void vs_topology_free(struct vs_topology *t);

/* Learning.  Both return 0 or -ENOMEM. */
int vs_topology_learn_thread(struct vs_topology *t, const struct vs_thread_info *info);
int vs_topology_observe(struct vs_topology *t, const struct vs_event *ev);

/* The whole trace has been observed (replay's topology pass): events seen
 * from now on no longer add grouping evidence, so a second pass over the same
 * trace neither counts it twice nor regroups halfway. */
void vs_topology_seal_evidence(struct vs_topology *t);

/* A vs_thread_cb adapter: pass the topology as userdata. */
void vs_topology_thread_cb(const struct vs_thread_info *info, void *userdata);

/*
 * Scan a /proc tree (normally "/proc") for VMM processes and their vCPU
 * threads; names VMs from libvirt's "-name guest=NAME" (or "-name NAME").
 * Returns the number of VMs found, or -errno when @proc_root is unreadable.
 */
int vs_topology_scan_proc(struct vs_topology *t, const char *proc_root);

/*
 * Live mode: never infer VMs; place unknown vCPU threads from @proc_root
 * (normally "/proc") at once.  NULL switches back to trace mode (replay:
 * TGIDs may be missing, inference as documented above).  Returns 0 or -ENOMEM.
 */
int vs_topology_set_live(struct vs_topology *t, const char *proc_root);

/*
 * Drop every thread of process @tgid and its name (the VMM exited).  VM
 * indices may change.  Returns the number of threads dropped (0 when none).
 */
int vs_topology_forget_tgid(struct vs_topology *t, int32_t tgid);

/*
 * Live mode: the processes the table holds that /proc no longer has (or
 * that are zombies), for a caller without exit notifications; the caller
 * forgets each.  *@ret is malloc()ed (NULL when none).  Returns how many,
 * 0 when none or not live, or -ENOMEM.
 */
int vs_topology_gone(struct vs_topology *t, int32_t **ret, size_t *ret_n);

/* The VM index of process @tgid, -1 when it is none. */
int32_t vs_topology_vm_of_tgid(struct vs_topology *t, int32_t tgid);

/* Parse a vCPU index out of a VMM thread name; -1 when it is not a vCPU name. */
int vs_vcpu_index_from_comm(const char *comm);

/* "grouping inferred; may be one VM with inferred-2: nothing in the trace
 * joins or separates them, their edges are kept apart" for an inferred VM
 * (its inferred, n_maybe_same, maybe_same), "" otherwise; always terminated.
 * Returns @buf. */
const char *vs_grouping_note(bool inferred, unsigned n_maybe_same, const char *maybe_same, char *buf, size_t len);

/* Queries.  Pointers stay valid until the next learn/observe/scan call. */
const struct vs_thread *vs_topology_thread(struct vs_topology *t, int32_t tid);
const struct vs_vm *vs_topology_vm(struct vs_topology *t, int32_t vm);
unsigned vs_topology_n_vms(struct vs_topology *t);
unsigned vs_topology_n_threads(const struct vs_topology *t);
const struct vs_thread *vs_topology_thread_at(struct vs_topology *t, unsigned i);

/* Changes whenever the VM grouping or any thread's identity was recomputed:
 * caches of (tid -> VM, vCPU) must be refreshed when it moves. */
uint64_t vs_topology_generation(struct vs_topology *t);

/* vCPU index of @tid (thread-name index, else vcpu_id), -1 if not a known vCPU. */
int32_t vs_topology_vcpu_of(struct vs_topology *t, int32_t tid);
/* The vCPU thread of VM @vm whose APIC ID is @apic, or NULL. */
const struct vs_thread *vs_topology_by_apic(struct vs_topology *t, int32_t vm, uint32_t apic);
/* vCPU index for APIC @apic in @vm: the mapped thread's index; -1 when every
 * vCPU's APIC ID is known and none is @apic, or when another vCPU holds index
 * @apic under a different APIC ID; else @apic itself (KVM's vcpu_id). */
int32_t vs_topology_vcpu_of_apic(struct vs_topology *t, int32_t vm, uint32_t apic);
