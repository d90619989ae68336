/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pipeline.h - the one event path every consumer of events drives: topology
 * -> summary -> analysis -> timeline -> policy epochs on trace time.
 * vschedd (replay and live), the benchmark and the fuzz targets feed it
 * events; nothing else chains these modules.
 *
 * Owns the topology, the summary and, when asked for, the analysis model,
 * the timeline (--svg) and a policy run on trace-time epochs (dry-run
 * replay).  Policy epochs: the first event starts the clock; every epoch
 * boundary (config epoch_ms) an event's timestamp crosses runs one epoch,
 * except across a gap in the trace longer than 100 epochs, which runs one
 * epoch at its end instead of thousands (the gap rule).  Decisions leave
 * through the callback.  No I/O, no logging: events in, callbacks out.
 * A live run feeds the same path but leaves the policy off here: its epochs
 * are wall-clock timer ticks (a quiet host must still get epochs and
 * releases), run by daemon/enforce.c on this pipeline's analysis, with
 * baselines read from and decisions written to the host.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "event.h"
#include "policy.h"
#include "summary.h"
#include "timeline.h"
#include "topology.h"
#include "vs-config.h"

struct vs_pipeline_options {
        const struct vs_config *cfg;    /* must outlive the pipeline; NULL = defaults (no policy then) */
        bool analysis;                  /* keep the analysis model (report, control, live policy) */
        bool timeline;                  /* keep the vCPU timeline (--svg) */
        uint64_t tl_start_ns, tl_len_ns;        /* its window */
        bool policy;                    /* run the policy on trace-time epochs (implies analysis) */
        bool enforce_observed;          /* ... as enforce would for every VM not 'off' */
        unsigned n_cpus;                /* CPUs the policy may use: at least this many, more if
                                         * vs_pipeline_learn() saw more (0: what it saw, at least 1) */
        unsigned max_epochs;            /* stop running epochs after this many (0 = no limit) */
        vs_decision_cb on_decision;
        void *userdata;
};

struct vs_pipeline;

int vs_pipeline_new(const struct vs_pipeline_options *o, struct vs_pipeline **ret);
struct vs_pipeline *vs_pipeline_free(struct vs_pipeline *p);

/* First pass of a two-pass replay: topology only (and the CPUs seen), so the
 * second pass knows every thread from its first event on. */
int vs_pipeline_learn(struct vs_pipeline *p, const struct vs_event *ev);
/* One event through the whole path.  Returns 0 or -errno (-ENOMEM). */
int vs_pipeline_event(struct vs_pipeline *p, const struct vs_event *ev);
/* End of input: close the analysis' open intervals and the timeline (once). */
void vs_pipeline_finish(struct vs_pipeline *p);
/* Undo the policy's changes at @ts_ns (decisions through the callback). */
int vs_pipeline_release(struct vs_pipeline *p, uint64_t ts_ns);

/* The VMM process @tgid exited: drop its threads and its VM from every model
 * the pipeline owns (topology, summary, analysis, policy; a timeline keeps
 * what it drew), so memory and reports follow the VMs alive.  Its VM's name
 * goes to @ret_name ("" when @tgid was no VM) when not NULL.  Returns 1 when
 * it was a VM, 0 when not. */
int vs_pipeline_forget_tgid(struct vs_pipeline *p, int32_t tgid, char *ret_name, size_t len);

struct vs_topology *vs_pipeline_topology(const struct vs_pipeline *p);
const struct vs_summary *vs_pipeline_summary(const struct vs_pipeline *p);
/* NULL when not asked for. */
struct vs_analysis *vs_pipeline_analysis(const struct vs_pipeline *p);
struct vs_timeline *vs_pipeline_timeline(const struct vs_pipeline *p);
const struct vs_policy *vs_pipeline_policy(const struct vs_pipeline *p);
uint64_t vs_pipeline_decisions(const struct vs_pipeline *p);
uint64_t vs_pipeline_epochs(const struct vs_pipeline *p);

/* The analysis windows and epoch from the configuration. */
void vs_pipeline_analysis_config(const struct vs_config *c, struct vs_analysis_config *ret);
