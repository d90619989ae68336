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
 * vs_source_free().  No logging above debug; errors are returned.
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

enum vs_source_kind {
        VS_SOURCE_LIVE,
        VS_SOURCE_DAT,
        VS_SOURCE_TEXT,
};

struct vs_source_ops {
        /* Fetch the next event. Returns 1 with *ret filled, 0 at end of input
         * (replay) or when nothing is buffered right now (live), -errno on error. */
        int (*next)(struct vs_source *s, struct vs_event *ret);
        /* Live only: a pollable fd, or -1. */
        int (*fd)(struct vs_source *s);
        void (*free)(struct vs_source *s);
        /* Replay only: bytes consumed so far, total in *total. */
        uint64_t (*progress)(struct vs_source *s, uint64_t *total);
};

struct vs_source {
        const struct vs_source_ops *ops;
        enum vs_source_kind kind;
        struct vs_source_stats stats;
        vs_thread_cb thread_cb;
        void *thread_userdata;
        char error[256];        /* last error, "file:line: reason" style */
        uint64_t first_malformed_at; /* line (text) or offset (dat) of the first malformed record */
};

/* Why the last vs_source_*_open() of this thread failed ("file: reason"),
 * or NULL when it set no detail beyond its -errno. */
const char *vs_source_open_error(void);
void vs_source_set_open_error(const char *path, const char *reason);

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
        bool all_tasks;         /* record every task's sched events, not only vCPU threads' */
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
/* Live only: whether sched events are filtered to vCPU threads in the kernel. */
bool vs_source_live_sched_filtered(struct vs_source *s);
/* Live only: refresh the lost-events counter from the per-CPU stats. */
int vs_source_live_update_lost(struct vs_source *s);

/* Replay progress: bytes consumed so far and the total (0 if unknown). */
uint64_t vs_source_progress(struct vs_source *s, uint64_t *total);

static inline int vs_source_next(struct vs_source *s, struct vs_event *ret) {
        return s->ops->next(s, ret);
}

static inline int vs_source_fd(struct vs_source *s) {
        return s->ops->fd ? s->ops->fd(s) : -1;
}

static inline const struct vs_source_stats *vs_source_get_stats(const struct vs_source *s) {
        return &s->stats;
}

static inline const char *vs_source_error(const struct vs_source *s) {
        return s->error[0] ? s->error : NULL;
}

static inline void vs_source_set_thread_cb(struct vs_source *s, vs_thread_cb cb, void *userdata) {
        s->thread_cb = cb;
        s->thread_userdata = userdata;
}

void vs_source_free(struct vs_source *s);
static inline void vs_source_freep(struct vs_source **s) {
        if (*s)
                vs_source_free(*s);
}
#define _cleanup_source_ __attribute__((cleanup(vs_source_freep)))

/* Internal helper for implementations: record a thread learned from the trace. */
static inline void vs_source_emit_thread(struct vs_source *s, const struct vs_thread_info *info) {
        if (s->thread_cb)
                s->thread_cb(info, s->thread_userdata);
}

/* Parse a vschedd topology marker ("vschedd-topology: tid=.. tgid=.. apic=.. vm=.. comm=..")
 * written through trace_marker by `vschedd --record`.  Returns 1 and fills *ret
 * (strings point into the scratch buffers) when @msg is one, 0 if not. */
int vs_parse_topology_marker(const char *msg, struct vs_thread_info *ret,
                             char *vm_buf, size_t vm_len, char *comm_buf, size_t comm_len);
#define VS_TOPOLOGY_MARKER "vschedd-topology:"
/* The inverse: "vschedd-topology: tid=T tgid=G [apic=A] [vm=NAME] comm=COMM\n".
 * In vm, '%', spaces and control characters are %XX-escaped; comm (the last
 * key) keeps its spaces, control characters become '?'.  @apic < 0 and NULL
 * @vm are left out.  Returns the length, or -ENOBUFS. */
int vs_format_topology_marker(char *buf, size_t len, int32_t tid, int32_t tgid, int32_t apic, const char *vm,
                              const char *comm);
