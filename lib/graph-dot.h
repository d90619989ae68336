/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * graph-dot.h - one VM's IPI graph as Graphviz dot text: a node per vCPU, an
 * edge per (src, dst) pair with IPIs; edge width = IPI rate (relative to the
 * VM's busiest edge), colour = share of the IPIs that found the receiver not
 * running (green 0 % -> red 100 %), with a legend in the graph label.
 *
 * Input is the VM object of the analysis report JSON (analysis.h,
 * vs_analysis_report_json(); man vschedd(8)), which is also what the control
 * socket's "vm" command returns, so the daemon's --svg pictures and
 * `vschedctl graph` draw the same model from the same fields ("vm", "vcpu"
 * [{"vcpu"}], "edges" [{"src", "dst", "count", "pv", "rate_per_s",
 * "preempted_share"}]).  Owns the parsed vs_graph (vs_graph_free()); no I/O
 * except writing to the FILE given, no logging.
 *
 * Graphviz ids: node "vN" for vCPU N, edge id "eS_D" (in the SVG, the edge's
 * <g id="eS_D" class="edge"> with <title>vS-&gt;vD</title>).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#define VS_GRAPH_MAX_VCPU 65535

struct vs_graph_edge {
        unsigned src, dst;
        uint64_t count, pv;
        double rate_per_s;              /* >= 0 */
        double preempted_share;         /* 0..1 */
};

struct vs_graph {
        char *vm;
        unsigned *nodes;                /* vCPU indexes, ascending, unique */
        size_t n_nodes;
        struct vs_graph_edge *edges;
        size_t n_edges;
};

/* Parse a report VM object.  Returns 0, -EBADMSG (missing "vm", an edge
 * without integer src/dst in 0..VS_GRAPH_MAX_VCPU, wrong types) or -ENOMEM.
 * Every edge endpoint is a node even if "vcpu" does not list it. */
int vs_graph_from_json(struct json_object *vm, struct vs_graph **ret);
struct vs_graph *vs_graph_free(struct vs_graph *g);

/* #RRGGBB for a preempted share (clamped to 0..1): green -> yellow -> red. */
void vs_graph_share_color(double share, char buf[static 8]);
/* Pen width for @rate on a graph whose busiest edge has @max_rate: 1..8. */
double vs_graph_pen_width(double rate, double max_rate);

/* Write the dot text.  Returns 0 or -EIO when the stream failed. */
int vs_graph_write_dot(const struct vs_graph *g, FILE *f);
/* The same into a malloc'd string. Returns 0, -ENOMEM or -EIO. */
int vs_graph_dot(const struct vs_graph *g, char **ret);
