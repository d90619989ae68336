/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * event.h - the normalised event model.
 *
 * Owns struct vs_event: one compact, fixed-size record per KVM/scheduler
 * tracepoint hit that vschedd cares about, independent of where it came from
 * (live tracefs, a trace-cmd .dat, or ftrace text).  Every source produces
 * exactly these; everything downstream (topology, analysis, policy) consumes
 * only these.  The struct holds raw kernel values (APIC IDs, vcpu_id, TIDs);
 * mapping them to VMs and vCPU indexes is topology.h's job.
 *
 * Pure data and pure helpers: no allocation, no I/O, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum vs_event_type {
        VS_EV_NONE = 0,
        VS_EV_IPI,                  /* kvm:kvm_apic_ipi, in the sender's thread */
        VS_EV_EOI,                  /* kvm:kvm_eoi, kvm:kvm_pv_eoi, in the receiver */
        VS_EV_SWITCH,               /* sched:sched_switch */
        VS_EV_WAKEUP,               /* sched:sched_wakeup, kvm:kvm_vcpu_wakeup */
        VS_EV_EXIT_PAUSE,           /* kvm:kvm_exit with a PAUSE reason (VMX or SVM) */
        VS_EV_HYPERCALL,            /* kvm:kvm_hypercall nr 5, 10, 11 */
        VS_EV_PLE_WINDOW,           /* kvm:kvm_ple_window_update */
        VS_EV_AVIC_INCOMPLETE_IPI,  /* kvm:kvm_avic_incomplete_ipi */
        VS_EV_VCPU_ID,              /* kvm:kvm_entry / non-PAUSE kvm:kvm_exit: vcpu_id seen on a TID */
        VS_EV_DIRECTED_YIELD,       /* kvm:kvm_directed_yield (kernel/ patch), in the spinner */
        _VS_EV_MAX,
};

/* IPI delivery modes, (icr_low >> 8) & 7 */
enum {
        VS_DM_FIXED = 0,
        VS_DM_LOWPRIO = 1,
        VS_DM_SMI = 2,
        VS_DM_NMI = 4,
        VS_DM_INIT = 5,
        VS_DM_SIPI = 6,
        VS_DM_EXTINT = 7,
};

/* IPI destination shorthand, (icr_low >> 18) & 3 */
enum {
        VS_SH_NONE = 0,
        VS_SH_SELF = 1,
        VS_SH_ALL = 2,
        VS_SH_ALL_BUT_SELF = 3,
};

/* KVM hypercall numbers we decode (include/uapi/linux/kvm_para.h) */
enum {
        VS_HC_KICK_CPU = 5,
        VS_HC_SEND_IPI = 10,
        VS_HC_SCHED_YIELD = 11,
};

/* kvm_directed_yield reason (kernel/patches: enum kvm_dy_reason, fixed values) */
enum {
        VS_DY_STOCK = 0,        /* kvm_vcpu_on_spin()'s round-robin candidate scan */
        VS_DY_IPI = 1,          /* the receiver of the spinner's pending IPI */
        VS_DY_HINT = 2,         /* the target vschedd named (hint file) */
        VS_DY_PV = 3,           /* the target the guest named (hypercall 11; the first series: also 5) */
        VS_DY_KICK = 4,         /* the vCPU the guest kicked (hypercall 5) */
        _VS_DY_MAX,
};

#define VS_DY_NO_TARGET UINT32_MAX      /* a decision that tried no target */

/* "stock", "ipi", "hint", "pv", "kick", or "unknown" */
const char *vs_dy_reason_name(unsigned reason);
/* VS_DY_* for a name, or -1 */
int vs_dy_reason_from_name(const char *name, size_t len);

/* kvm_exit ISA field (arch/x86/kvm/trace.h: KVM_ISA_VMX = 1, KVM_ISA_SVM = 2) */
enum {
        VS_ISA_UNKNOWN = 0,
        VS_ISA_VMX = 1,
        VS_ISA_SVM = 2,
};

#define VS_VMX_EXIT_PAUSE_INSTRUCTION 40u
#define VS_SVM_EXIT_PAUSE 0x077u

/* vs_event.flags */
enum {
        VS_EVF_PV_EOI = 1 << 0,        /* eoi: from kvm_pv_eoi */
        VS_EVF_KVM_WAKEUP = 1 << 1,    /* wakeup: from kvm_vcpu_wakeup (tid = the vCPU itself) */
        VS_EVF_FROM_EXIT = 1 << 2,     /* vcpu_id: from kvm_exit rather than kvm_entry */
};

/* sched_switch prev_state bits we interpret; 0 = TASK_RUNNING = preempted */
#define VS_TASK_RUNNING 0
#define VS_TASK_REPORT_MAX 0x100       /* TASK_REPORT_MAX on 5.x/6.x: "R+" = preempted */

struct vs_event {
        uint64_t ts_ns;
        int32_t tid;            /* common_pid: the thread the event fired in */
        uint16_t cpu;
        uint8_t type;           /* enum vs_event_type */
        uint8_t flags;          /* VS_EVF_* */
        union {
                struct {
                        uint32_t dest_apic;     /* dest_id: an APIC ID, or a logical mask */
                        uint32_t icr_low;
                        uint8_t vector;
                        uint8_t delivery_mode;
                        uint8_t logical;
                        uint8_t shorthand;
                } ipi;
                struct {
                        uint32_t apic_id;       /* KVM's vcpu_id of the receiver */
                        int32_t vector;
                } eoi;
                struct {
                        int32_t prev_tid;
                        int32_t next_tid;
                        int64_t prev_state;     /* raw kernel bits; 0 or >= REPORT_MAX = runnable */
                        int32_t prev_prio;
                        int32_t next_prio;
                } sw;
                struct {
                        int32_t wakee_tid;      /* sched_wakeup pid, or the vCPU (kvm_vcpu_wakeup) */
                        int32_t target_cpu;     /* sched_wakeup only, else -1 */
                        uint64_t wait_ns;       /* kvm_vcpu_wakeup ns, else 0 */
                        uint8_t waited;         /* kvm_vcpu_wakeup: waited (1) or polled (0) */
                        uint8_t valid;
                } wakeup;
                struct {
                        uint32_t vcpu_id;
                        uint32_t exit_reason;
                        uint8_t isa;
                } pause;
                struct {
                        uint64_t a0, a1, a2, a3;
                        uint32_t nr;
                } hc;
                struct {
                        uint32_t vcpu_id;
                        uint32_t old_window;
                        uint32_t new_window;
                } ple;
                struct {
                        uint32_t vcpu_idx;      /* the sender's vcpu index as KVM numbers it */
                        uint32_t icrh, icrl;
                        uint32_t id;            /* AVIC_IPI_FAILURE_* */
                        uint32_t index;
                } avic;
                struct {
                        uint32_t vcpu_id;
                } vcpu;
                struct {
                        uint32_t spinner;       /* vcpu_id of the yielding vCPU (= the thread's) */
                        uint32_t target;        /* vcpu_id of the vCPU yielded to, or VS_DY_NO_TARGET */
                        int32_t result;         /* yield_to(): > 0 yielded, 0 not, < 0 -errno */
                        uint8_t reason;         /* VS_DY_*, may be >= _VS_DY_MAX from a newer kernel */
                        uint8_t skipped_mask;   /* 1 << VS_DY_* of the candidates rejected before */
                        uint16_t skipped;       /* how many were rejected (0 from the first series) */
                } dy;
        };
};

/* Thread identity learned from a trace (comm from sched_switch/cmdlines, tgid
 * from a TGID column or a vschedd topology marker).  Sources report these
 * through vs_source_ops.on_thread so topology can learn without bloating
 * every event. */
struct vs_thread_info {
        int32_t tid;
        int32_t tgid;           /* -1 when unknown */
        const char *comm;       /* NULL when unknown; valid only during the call */
        const char *vm_name;    /* NULL unless a topology marker named the VM */
        int32_t apic_id;        /* -1 unless a marker named it */
};

const char *vs_event_type_name(enum vs_event_type t);

/* @in for a terminal or a log line: control characters and backslash become
 * \xNN / \\ (VM names and thread names are chosen by guests' operators).
 * Returns @buf, always terminated, truncated to @len. */
const char *vs_escape(const char *in, char *buf, size_t len);

/* Decode the ICR low word of kvm_apic_ipi into the ipi fields of @ev. */
void vs_event_set_icr(struct vs_event *ev, uint32_t icr_low, uint32_t dest_id);

/* True when an exit (isa, exit_reason) is a PAUSE/PLE exit on VMX or SVM.
 * isa VS_ISA_UNKNOWN (old kernels without the isa field) accepts either code. */
bool vs_exit_is_pause(uint8_t isa, uint32_t exit_reason);

/* True when a sched_switch prev_state means "still runnable" (preempted). */
static inline bool vs_prev_state_runnable(int64_t prev_state) {
        return prev_state == 0 || (prev_state & 0xff) == 0;
}

/* True for a unicast, physical, fixed IPI with no shorthand: one sender, one receiver. */
static inline bool vs_ipi_is_unicast(const struct vs_event *ev) {
        return ev->ipi.shorthand == VS_SH_NONE && !ev->ipi.logical &&
               (ev->ipi.delivery_mode == VS_DM_FIXED || ev->ipi.delivery_mode == VS_DM_LOWPRIO);
}
