/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * output.h - the only writer of vschedd's stdout: events, dry-run
 * decisions, the report, the summary, the decisions section, the
 * configuration, help and version,
 * as text or JSON (one object per line).  Also the configuration's error
 * list on stderr, verbatim.  Messages go through log.h, never here.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "analysis.h"
#include "decisions.h"
#include "event.h"
#include "policy.h"
#include "source.h"
#include "summary.h"
#include "topology.h"
#include "vs-config.h"

/* --json, --dump-events, --limit */
void output_setup(bool json, bool dump, uint64_t limit);
/* Whether events are printed (the progress meter stays off then on a terminal). */
bool output_dumping(void);

/* One event (when dumping, up to the limit).  Returns 0, or -EPIPE once
 * stdout is closed (| head): the caller stops like at the end of input. */
int output_event(const struct vs_event *ev, struct vs_topology *topo);
/* A dry-run decision, with the VM's cgroup when topology knows it. */
void output_decision(const struct vs_decision *d, struct vs_topology *topo);
void output_report(const struct vs_analysis *an);
/* --decisions: the decisions section (lib/decisions.h); @pol NULL: figures only. */
void output_decisions(const struct vs_decisions *d, const struct vs_analysis *an, const struct vs_policy *pol);
void output_summary(const struct vs_summary *sum, struct vs_topology *topo, const struct vs_source_stats *st);
void output_flush(void);

void output_help(const char *text);
void output_version(void);
void output_config(const struct vs_config *c);
void output_config_ok(bool defaults);
void output_config_errors(const char *errors);
void output_restored(int n);
