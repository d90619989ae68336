/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recorder.h - live capture of raw ring-buffer pages into a trace-cmd .dat.
 *
 * Owns a private tracefs instance (never the top-level buffer): creates it,
 * enables the requested events that exist on this kernel, drains the raw
 * per-CPU pages (trace_pipe_raw via libtracefs' tracefs_cpu) into memory, and
 * removes the instance again in vs_recorder_free() - also after errors.
 * ftrace:print is always part of the recording: anything written to the
 * instance's trace_marker (vs_recorder_mark()) lands in the trace.
 *
 * The captured pages plus the instance's format files and the kernel's
 * saved_cmdlines are handed to dat-writer.h by vs_recorder_write_dat(), or
 * can be taken with vs_recorder_cpu_data() for post-processing.
 *
 * Signals are the caller's business: install a handler that sets a flag and
 * pass it to vs_recorder_run(); then vs_recorder_free() cleans up.
 * No logging: functions return 0 (or a count) or -errno.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

struct vs_recorder;

struct vs_recorder_options {
        const char *instance;           /* tracefs instance name, required, e.g. "vschedd-rec" */
        const char *const *events;      /* NULL-terminated "system:event"; missing ones are skipped */
        unsigned buffer_kb;             /* per-CPU buffer size, 0 = kernel default */
        bool replace_stale;             /* an instance of that name exists: take it over
                                         * (it is removed on free) instead of failing -EEXIST */
};

/* Create the instance (tracing stays off until vs_recorder_start()) and enable
 * the events.  Returns 0, -EEXIST (instance exists), -ENOENT (no tracefs),
 * -ENOMEDIUM (none of the events exist) or another -errno. */
int vs_recorder_new(const struct vs_recorder_options *opts, struct vs_recorder **ret);

/* Remove the instance (if still there) and free everything. NULL is fine. */
void vs_recorder_free(struct vs_recorder *r);
static inline void vs_recorder_freep(struct vs_recorder **r) {
        if (*r)
                vs_recorder_free(*r);
}
#define _cleanup_recorder_ _cleanup_(vs_recorder_freep)

int vs_recorder_start(struct vs_recorder *r);

/* Write @text (no newline needed) into the instance's trace_marker: an
 * ftrace:print record in the calling thread's context. */
int vs_recorder_mark(struct vs_recorder *r, const char *text);
int vs_recorder_markf(struct vs_recorder *r, const char *fmt, ...) _printf_(2, 3);
/* The trace_marker fd (owned by @r), e.g. for forked children. */
int vs_recorder_marker_fd(struct vs_recorder *r);

/* Move whatever full pages are buffered now into memory, without blocking.
 * Returns the number of pages read. */
int vs_recorder_poll(struct vs_recorder *r);

/* Poll every @interval_ms until @duration_ns passed (0 = no limit) or *stop
 * becomes non-zero (may be NULL).  Returns pages read or -errno. */
int vs_recorder_run(struct vs_recorder *r, uint64_t duration_ns, unsigned interval_ms,
                    const volatile sig_atomic_t *stop);

/* Turn tracing off and flush the partial pages.  Idempotent. */
int vs_recorder_stop(struct vs_recorder *r);

/* Remove the tracefs instance now (vs_recorder_free() does it too); the
 * captured pages and copies of nothing else stay available. */
int vs_recorder_destroy_instance(struct vs_recorder *r);

unsigned vs_recorder_n_cpus(const struct vs_recorder *r);
size_t vs_recorder_page_size(const struct vs_recorder *r);
/* Captured pages of @cpu (owned by @r; size a multiple of the page size). */
int vs_recorder_cpu_data(const struct vs_recorder *r, unsigned cpu, const void **ret_data, size_t *ret_size);
/* Events actually enabled, "system:event", ftrace:print included (NULL-terminated, owned by @r). */
const char *const *vs_recorder_events(const struct vs_recorder *r);
/* The instance's events/ directory (format files), valid until free. */
const char *vs_recorder_events_dir(const struct vs_recorder *r);
/* The kernel's saved_cmdlines and the instance's trace_clock, read at creation time
 * and refreshed by vs_recorder_stop(). */
const char *vs_recorder_cmdlines(const struct vs_recorder *r);
const char *vs_recorder_trace_clock(const struct vs_recorder *r);
/* Just the /proc/kallsyms lines that name ftrace:print's ip (tracing_mark_write),
 * NULL when hidden or unknown. */
const char *vs_recorder_kallsyms(const struct vs_recorder *r);
/* Pages lost so far: events the kernel dropped ("overrun" in per_cpu/cpuN/stats),
 * refreshed by vs_recorder_stop(). */
uint64_t vs_recorder_lost(const struct vs_recorder *r);

/* Write the capture as .dat: the pages, the format of every enabled event
 * (from the instance's events/), the saved cmdlines plus @extra_cmdlines
 * ("pid comm\n" lines, may be NULL), the trace_marker kallsyms lines. */
int vs_recorder_write_dat(struct vs_recorder *r, const char *path, const char *extra_cmdlines);
