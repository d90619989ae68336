/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-delay.h - "CPU ready" per VM and vCPU: how long each vCPU thread was
 * runnable but waiting for a host CPU, as one table of totals (nanoseconds
 * since the thread started, or since the trace began).
 *
 * Two sources, one meaning:
 *  - schedstat (a live host): the kernel's own counter, run_delay of
 *    <proc>/<tgid>/task/<tid>/schedstat (lib/schedstat.h), for every vCPU
 *    thread topology knows, whether or not it fired a traced event, and
 *    whatever the interrupt virtualisation (IPIv/AVIC silence the IPI
 *    tracepoints, not this).  One file read per vCPU thread per call;
 *  - trace (a recording): from the sched_switch/sched_wakeup events the
 *    analysis saw: preempted_ns + waiting_ns of lib/analysis.h (switched out
 *    runnable, or woken, until it next ran), the interval still open at @now
 *    included.  The same quantity, as far as the trace saw the thread: time
 *    before its first event is missing, and lost events shorten it.
 *
 * Steal: the guest's steal time is this run delay (lib/schedstat.h says
 * why); there is no other steal figure the host could give.
 *
 * Owns its rows (free with vs_run_delay_done()); reads topology and
 * analysis, never changes them.  No logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "topology.h"

enum vs_run_delay_source {
        VS_RUN_DELAY_TRACE,
        VS_RUN_DELAY_SCHEDSTAT,
};

struct vs_run_delay_row {
        char vm[VS_VM_NAME_MAX];
        int32_t vcpu;                   /* vCPU index */
        int32_t tid;
        uint64_t run_delay_ns;
};

struct vs_run_delay {
        enum vs_run_delay_source source;
        struct vs_run_delay_row *rows;  /* sorted by VM name, then vCPU; one row per (VM, vCPU) */
        size_t n_rows;
        /* schedstat: vCPU threads skipped, by reason */
        unsigned gone;                  /* exited since topology saw them */
        unsigned unsupported;           /* no schedstat file (kernel without CONFIG_SCHED_INFO) */
        unsigned failed;                /* other read or parse errors */
};

/*
 * vs_run_delay_from_schedstat - one row per vCPU thread of @topo (a thread
 * with is_vcpu, a VM and a vCPU index), its run delay read under
 * @proc_root (normally "/proc").  A thread that cannot be read is skipped
 * and counted in gone/unsupported/failed; a second thread claiming a
 * (VM, vCPU) already seen is skipped too (counted as failed).  Returns 0
 * with *@ret filled (call vs_run_delay_done()), or -ENOMEM.
 */
int vs_run_delay_from_schedstat(struct vs_topology *topo, const char *proc_root, struct vs_run_delay *ret);

/*
 * vs_run_delay_from_trace - one row per present vCPU of every VM of @an,
 * preempted + waiting time up to @now_ns (vs_an_vcpu_times()).  Returns 0
 * with *@ret filled, or -ENOMEM.
 */
int vs_run_delay_from_trace(const struct vs_analysis *an, uint64_t now_ns, struct vs_run_delay *ret);

/* Free the rows; *@rd is empty (and reusable) afterwards. */
void vs_run_delay_done(struct vs_run_delay *rd);

/* The row of vCPU @vcpu of VM @vm, or NULL. */
const struct vs_run_delay_row *vs_run_delay_find(const struct vs_run_delay *rd, const char *vm, int32_t vcpu);

/* The sum over VM @vm's rows in *@ret.  Returns how many rows (0: none,
 * *@ret = 0). */
size_t vs_run_delay_vm_total(const struct vs_run_delay *rd, const char *vm, uint64_t *ret);

/* "schedstat" or "trace". */
const char *vs_run_delay_source_name(enum vs_run_delay_source s);
