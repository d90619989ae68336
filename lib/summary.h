/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * summary.h - what an operator wants to see at the end of a replay or a live
 * capture: per VM, its vCPUs, IPIs (unicast edges vs multicast), EOIs,
 * preemptions of its vCPU threads, PAUSE exits, PV hypercalls; and per
 * source the record/unknown/malformed/lost counters.
 *
 * Owns only counters keyed by VM name (stable while topology regroups).
 * This is a report, not the analysis model (IPI graph, latency histograms
 * and oscillation belong to the analysis modules).
 */
#pragma once

#include <stdio.h>

#include <json-c/json.h>

#include "event.h"
#include "source.h"
#include "topology.h"

struct vs_summary;

int vs_summary_new(struct vs_summary **ret);
void vs_summary_free(struct vs_summary *s);
/* Account one event.  Returns 0 or -ENOMEM. */
int vs_summary_add(struct vs_summary *s, const struct vs_event *ev, struct vs_topology *topo);
/* Drop the counters of VM @name (a long-running daemon's VM that exited).
 * Returns 1 when it was known, 0 when not. */
int vs_summary_forget_vm(struct vs_summary *s, const char *name);
void vs_summary_print(const struct vs_summary *s, struct vs_topology *topo, const struct vs_source_stats *st,
                      FILE *f);
struct json_object *vs_summary_json(const struct vs_summary *s, struct vs_topology *topo,
                                    const struct vs_source_stats *st);
