/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h - the running daemon: owns the configuration, the event
 * pipeline (lib/pipeline.h), the live trace source, the enforcer, libvirt
 * VM discovery, the control socket, the metrics listener, and the sd-event
 * loop with all its sources.  One loop builder serves live runs and
 * --replay --serve.  manager-ctl.c answers the control socket and
 * manager-metrics.c the metrics listener, both from queries on the model;
 * manager-live.c reads the live source; replay.c drives the pipeline from a
 * file.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "control.h"
#include "decisions.h"
#include "enforce.h"
#include "metrics-server.h"
#include "options.h"
#include "pipeline.h"
#include "run-delay.h"
#include "source.h"
#include "vm-exits.h"
#include "vmwatch.h"
#include "vs-config.h"

struct manager {
        const struct options *opts;
        struct vs_config cfg;
        struct vs_pipeline *pipe;
        struct vs_source *src;
        bool summary;                   /* print the summary at the end (off once stdout is gone) */
        double duration;                /* live: seconds, 0 = until signalled */
        struct vs_decisions *dlog;      /* --decisions: the pipeline policy's decisions, gathered */
        bool print_decisions;           /* --dry-run replay: each decision as it comes */

        /* live */
        struct enforcer *enf;
        struct vs_vmwatch *vmwatch;
        struct vm_exits *exits;         /* VMs that exit are forgotten */
        int64_t trace_offset;           /* trace clock - CLOCK_MONOTONIC */
        bool have_offset;
        uint64_t newest_ts;             /* trace time of the newest event read */
        int64_t lat_offset;             /* trace clock - CLOCK_MONOTONIC, for the decision latency:
                                         * max over drains of newest_ts - the time the drain ended */
        bool have_lat_offset;
        int32_t *marked;                /* --record: TIDs already described by a marker */
        size_t n_marked, cap_marked;
        int watch_err;                  /* last vs_source_live_watch_tids() failure */
        int pids_err;                   /* last vs_source_live_watch_pids() failure */

        /* the loop, while one runs */
        sd_event *event;
        sd_event_source *io, *tick, *rescan, *deadline, *epoch, *sigs[3];
        struct control *ctl;
        struct metrics_server *http;    /* [metrics] listen */
        uint64_t started_usec;
        uint64_t epoch_usec;            /* the policy epoch's current interval (logged when it changes) */
        uint64_t loop_wakeups;          /* epoch timer firings */
        uint64_t loop_late_usec;        /* sum of how late they fired */
        uint64_t loop_late_max[2];      /* worst lateness: this window, the previous one */
        uint64_t loop_window_start;
        int r;                          /* why the loop stopped */

        /* CPU ready per vCPU (lib/run-delay.h): read at most once per epoch,
         * shared by the control socket's and the scrapes' answers */
        struct vs_run_delay run_delay;
        uint64_t run_delay_usec;        /* CLOCK_MONOTONIC of that read, 0 = never */
        bool no_schedstat;              /* live, and the kernel has no schedstat: the trace's figure */
};

/* Takes over @cfg (loaded by the caller; the manager frees it). */
int manager_new(const struct options *o, struct vs_config *cfg, struct manager **ret);
struct manager *manager_free(struct manager *m);

/* A new event pipeline (dropping the old one); @replay: --dry-run runs the
 * policy on trace time (live, the enforcer runs it on wall time).  With
 * --decisions the pipeline runs the policy on trace time live too, as a dry
 * run of mode = enforce (the enforcer is not involved). */
int manager_new_pipeline(struct manager *m, bool replay);
/* One event through the pipeline to the output. */
int manager_event(struct manager *m, const struct vs_event *ev);
/* Messages about what a source skipped or lost. */
void manager_source_problems(struct manager *m, const char *name);
/* The end of a run: dry-run count, report, summary, decisions section. */
void manager_print_results(struct manager *m);

int manager_run_live(struct manager *m);
/* --replay --serve: the replayed model behind the control socket until a signal. */
int manager_serve(struct manager *m);

/* SIGHUP and "reload": the configuration again, overrides over it. */
int manager_reload(struct manager *m);
uint64_t manager_uptime_usec(const struct manager *m);

/* Keep the kernel's sched filters to the vCPU threads topology knows (off with none). */
void manager_watch_vcpus(struct manager *m);

/* manager-live.c */
int manager_open_live(struct manager *m, int *ret_vms);
int manager_drain(struct manager *m);
/* The same with a time budget of @budget_ns (UINT64_MAX: until the buffers are empty). */
int manager_drain_for(struct manager *m, uint64_t budget_ns);
/* "now" on the trace clock (learned from the first live event) */
uint64_t manager_trace_now(struct manager *m);
/* CLOCK_MONOTONIC of the newest event read (0: none yet), for the decision latency */
uint64_t manager_trigger_mono(struct manager *m);
void manager_mark_topology(struct manager *m);
int manager_write_recording(struct manager *m);

/* manager-ctl.c */
extern const struct control_ops manager_ctl_ops;
/* manager-metrics.c */
int manager_metrics_render(void *userdata, char **ret_text);
void manager_metrics_listener_apply(struct manager *m);
void manager_note_loop_latency(struct manager *m, sd_event_source *s, uint64_t scheduled);
/* The run-delay table: live from schedstat (the trace's figure when the
 * kernel has none), in a replay from the trace; refreshed when older than
 * one epoch.  Never NULL (empty when nothing is known). */
const struct vs_run_delay *manager_run_delay(struct manager *m);
