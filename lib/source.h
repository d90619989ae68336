/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source.h - one interface over every place events come from.
 *
 * A vs_source yields normalised vs_events (event.h) in timestamp order per
 * CPU (and, for replay sources, merged across CPUs).  Implementations:
 *   source-live.c  private tracefs instance "vschedd" (libtracefs + libtraceevent)
 *   source-dat.c   trace-cmd .dat files (libtracecmd, in a child that streams events)
 *   source-text.c  ftrace text: trace / trace_pipe (with or without TGID) and
 *                  `trace-cmd report` output
 * vs_source_open_file() sniffs a file and picks .dat or text.
 *
 * Unknown and malformed records are counted in vs_source_stats and skipped;
 * they are never fatal.  A file that cannot be read at all fails open or
 * vs_source_next() with -EBADMSG/-EIO and a message in vs_source_error().
 *
 * The source owns its buffers; the caller owns the vs_source and frees it with
 * vs_source_free().  No logging above debug; errors are returned.  The
 * handle is opaque; the backends' shared base is in source-internal.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct vs_source;

struct vs_source_stats {
        uint64_t records;       /* raw records seen (lines for text) */
        uint64_t events;        /* vs_events produced */
        uint64_t unknown;       /* records of events we do not decode */
        uint64_t malformed;     /* records/lines we could not parse */
        uint64_t filtered;      /* decodable but irrelevant (e.g. other hypercalls, non-PAUSE exits w/o vcpu) */
        uint64_t lost;          /* events the kernel dropped (buffer overrun), when known */
};

/* Called by sources when they learn a thread's comm / tgid / marker data. */
typedef void (*vs_thread_cb)(const struct vs_thread_info *info, void *userdata);

/* Why the last vs_source_*_open() of this thread failed ("file: reason"),
 * or NULL when it set no detail beyond its -errno. */
const char *vs_source_open_error(void);

/* Open a recorded trace, auto-detecting .dat vs text. */
int vs_source_open_file(const char *path, struct vs_source **ret);

int vs_source_dat_open(const char *path, struct vs_source **ret);
int vs_source_text_open(const char *path, struct vs_source **ret);
/* Text from an already-open stream (e.g. stdin, a pipe); takes ownership. */
int vs_source_text_open_stream(void *file, const char *name, struct vs_source **ret);

struct vs_live_options {
        const char *instance;   /* default "vschedd" */
        const char *tracefs;    /* tracefs mount, default: found or mounted at /sys/kernel/tracing */
        unsigned buffer_kb;     /* per-CPU buffer size, 0 = leave the kernel default */
        bool keep_instance;     /* debug: do not remove the instance on free */
        unsigned record_max_mb; /* keep a copy of every page read, up to this many MiB (0 = off) */
};
/* On failure, a one-line reason is written to @err (may be NULL). */
int vs_source_live_open(const struct vs_live_options *opts, struct vs_source **ret, char *err, size_t errlen);
/* Live only: write @text into the instance's trace_marker (it comes back as ftrace:print). */
int vs_source_live_mark(struct vs_source *s, const char *text);
/* Live only, with record_max_mb: write every page read so far as a trace-cmd
 * .dat (v6) at @path; @extra_cmdlines ("pid comm\n"...) adds thread names the
 * kernel's saved_cmdlines may lack.  *ret_truncated tells whether the cap was hit. */
int vs_source_live_write_dat(struct vs_source *s, const char *path, const char *extra_cmdlines,
                             bool *ret_truncated);
/* Live only: re-enable kvm_entry for @ms to learn vcpu_id <-> TID of new vCPU threads. */
int vs_source_live_relearn(struct vs_source *s, unsigned ms);
/* Live only: names of the events actually enabled (NULL-terminated, owned by s). */
const char *const *vs_source_live_events(struct vs_source *s);
/* Live only: besides threads named as VMMs name vCPU threads, keep the sched
 * events of these TIDs (vCPU threads with other names).  Rewrites the kernel
 * filters only when the set changed.  -E2BIG: too many for a filter, every
 * task's sched events are recorded until a smaller set is given. */
int vs_source_live_watch_tids(struct vs_source *s, const int32_t *tids, size_t n);
/* Live only: make sure every one of @tids (all vCPU threads) is in the
 * instance's pid filter (set_event_pid, with the event-fork option so the
 * kernel drops a thread when it exits): then a context switch or wake-up of
 * two other tasks costs a bitmap test, not the name filters.  Reads the
 * kernel's list and appends only what is missing (the list is never emptied,
 * which would let every task's events through).  A thread not listed yet (a
 * VM started since the last call) is not seen until the next call. */
int vs_source_live_watch_pids(struct vs_source *s, const int32_t *tids, size_t n);
/* Live only: turn the sched events off (@paused) or on again, e.g. while no
 * vCPU thread exists: no filter runs on any context switch then.  Idempotent. */
int vs_source_live_sched_pause(struct vs_source *s, bool paused);
/* Live only: whether sched events are filtered to vCPU threads in the kernel. */
bool vs_source_live_sched_filtered(struct vs_source *s);
/* Live only: stop the kernel writing into the instance (what is in the
 * buffers can still be read), e.g. before a last read at shutdown. */
int vs_source_live_stop(struct vs_source *s);
/* Live only: refresh the lost-events counter from the per-CPU stats. */
int vs_source_live_update_lost(struct vs_source *s);

/* Replay progress: bytes consumed so far and the total (0 if unknown). */
uint64_t vs_source_progress(struct vs_source *s, uint64_t *total);

/* Fetch the next event. Returns 1 with *ret filled, 0 at end of input
 * (replay) or when nothing is buffered right now (live), -errno on error. */
int vs_source_next(struct vs_source *s, struct vs_event *ret);
/* Live only: a pollable fd, or -1. */
int vs_source_fd(struct vs_source *s);
const struct vs_source_stats *vs_source_get_stats(const struct vs_source *s);
/* The last error ("file:line: reason" style), or NULL. */
const char *vs_source_error(const struct vs_source *s);
/* Threads learned from the trace (comm, tgid, markers) go to @cb. */
void vs_source_set_thread_cb(struct vs_source *s, vs_thread_cb cb, void *userdata);

void vs_source_free(struct vs_source *s);
static inline void vs_source_freep(struct vs_source **s) {
        if (*s)
                vs_source_free(*s);
}
#define _cleanup_source_ __attribute__((cleanup(vs_source_freep)))

#include "topology-marker.h"     /* its markers were declared here before */
