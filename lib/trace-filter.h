/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trace-filter.h - the kernel-side event filters of the live source.
 *
 * Owns the text of the ftrace filters that keep sched_switch and
 * sched_wakeup records to the ones the analysis reads: a switch from or to a
 * vCPU thread, a wake-up of a vCPU thread.  A vCPU thread is one named as a
 * VMM names them (the patterns of vs_vcpu_index_from_comm(), as kernel
 * globs, so a new VM's threads pass without any update) or one of an
 * explicit list of TIDs (vCPU threads with other names, learned from
 * kvm_entry).  The kernel refuses a filter of a page or more, so a list that
 * does not fit is refused here with -E2BIG and the caller decides.
 *
 * Pure string building: no tracefs access, no allocation, no logging.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The largest filter text the kernel takes (event_filter_write(): < PAGE_SIZE). */
#define VS_TRACE_FILTER_MAX 4095

enum vs_trace_filter_event {
        VS_TF_SCHED_SWITCH,     /* prev_comm/prev_pid, next_comm/next_pid */
        VS_TF_SCHED_WAKEUP,     /* comm/pid of the task woken */
};

/*
 * The fixed filter of a kvm event whose records the analysis reads only in
 * part, or NULL: kvm_exit keeps PAUSE exits (VMX 40 PAUSE_INSTRUCTION, SVM
 * 0x77 pause), kvm_hypercall the PV kick, send-IPI and sched-yield calls
 * (5, 10, 11).  Every other record of them would be decoded and dropped.
 */
const char *vs_trace_filter_fixed(const char *system, const char *event);

/* The vCPU thread-name globs (NULL-terminated). */
extern const char *const vs_trace_filter_vcpu_globs[];

/*
 * Write the filter for @event into @buf (@size bytes, NUL-terminated): vCPU
 * names, or one of @tids (@n of them, duplicates and values <= 0 skipped).
 * Returns the length written, -E2BIG when the text would not fit in @size or
 * exceed VS_TRACE_FILTER_MAX, -EINVAL on a bad event.
 */
int vs_trace_filter_vcpus(enum vs_trace_filter_event event, const int32_t *tids, size_t n, char *buf,
                          size_t size);
