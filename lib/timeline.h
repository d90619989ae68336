/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * timeline.h - per-VM, per-vCPU state intervals and IPI arrows inside one
 * time window of the event stream, for the timeline pictures.
 *
 * Owns, per VM (keyed by name, like analysis.h), one lane per vCPU index with
 * the spans of its states clipped to the window, and the IPIs sent inside the
 * window.  The window is [first event + start_ns, + len_ns): events before it
 * only advance each lane's state (so the first span starts in the right
 * state), events after it are ignored.  States follow analysis.h: running
 * (switched in), preempted (switched out runnable, R/R+), woken (woken up,
 * not on a CPU yet), halted (switched out sleeping: the guest idles in HLT);
 * before the first sched_switch of a thread its state is unknown, or running
 * from its first KVM event.  IPIs are the same unicast IPIs and expanded
 * KVM_HC_SEND_IPI bits that make the report's edges.  Memory is bounded by
 * VS_TL_MAX_ITEMS spans + IPIs per VM (beyond it: truncated).  Reads
 * topology.h, never changes it; no I/O, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "topology.h"

#define VS_TL_MAX_VCPUS 1024
#define VS_TL_MAX_ITEMS 200000

enum vs_tl_state {
        VS_TL_UNKNOWN = 0,
        VS_TL_RUNNING,
        VS_TL_PREEMPTED,
        VS_TL_WOKEN,
        VS_TL_HALTED,
        _VS_TL_STATE_MAX,
};

struct vs_tl_span {
        uint64_t start, end;            /* absolute trace ns, inside the window, start < end */
        uint8_t state;                  /* never VS_TL_UNKNOWN */
};

struct vs_tl_ipi {
        uint64_t ts;
        uint16_t src, dst;
        bool pv;                        /* a KVM_HC_SEND_IPI bit */
};

struct vs_tl_lane {
        bool present;
        uint8_t state;
        uint64_t since;
        struct vs_tl_span *spans;
        size_t n_spans, cap_spans;
};

struct vs_tl_vm {
        char name[VS_VM_NAME_MAX];
        unsigned n_lanes;               /* highest vCPU index seen + 1 */
        struct vs_tl_lane *lanes;
        struct vs_tl_ipi *ipis;
        size_t n_ipis, cap_ipis;
        size_t n_items;                 /* spans + IPIs */
        bool truncated;                 /* VS_TL_MAX_ITEMS reached: later items dropped */
};

struct vs_timeline;

/* Returns 0, -EINVAL (len_ns == 0) or -ENOMEM. */
int vs_timeline_new(struct vs_topology *topo, uint64_t start_ns, uint64_t len_ns, struct vs_timeline **ret);
void vs_timeline_free(struct vs_timeline *t);

/* Account one event (in trace order).  Returns 0 or -ENOMEM. */
int vs_timeline_event(struct vs_timeline *t, const struct vs_event *ev);
/* End of input: close open spans at the window end or the last event,
 * whichever is first.  Idempotent. */
void vs_timeline_finish(struct vs_timeline *t);

/* The window in absolute trace ns: [*ret_start, *ret_end); the first event's
 * timestamp in *ret_first.  All 0 before the first event. */
void vs_timeline_window(const struct vs_timeline *t, uint64_t *ret_first, uint64_t *ret_start, uint64_t *ret_end);

unsigned vs_timeline_n_vms(const struct vs_timeline *t);
const struct vs_tl_vm *vs_timeline_vm(const struct vs_timeline *t, unsigned i);
const struct vs_tl_vm *vs_timeline_vm_by_name(const struct vs_timeline *t, const char *name);

const char *vs_tl_state_name(enum vs_tl_state s);
