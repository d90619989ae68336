/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * graph-dot.c - the report's IPI graph of one VM as dot text (graph-dot.h).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "graph-dot.h"
#include "macro.h"
#include "markup.h"

struct vs_graph *vs_graph_free(struct vs_graph *g) {
        if (g) {
                free(g->vm);
                free(g->nodes);
                free(g->edges);
                free(g);
        }
        return NULL;
}

static void graph_freep(struct vs_graph **g) {
        vs_graph_free(*g);
}

/* An optional number field; false when present with a wrong type. */
static bool get_number(struct json_object *o, const char *key, double *ret) {
        struct json_object *x;

        *ret = 0;
        if (!json_object_object_get_ex(o, key, &x) || !x)
                return true;
        if (!json_object_is_type(x, json_type_int) && !json_object_is_type(x, json_type_double))
                return false;
        *ret = json_object_get_double(x);
        return isfinite(*ret);
}

static bool get_index(struct json_object *o, const char *key, unsigned *ret) {
        struct json_object *x;
        int64_t v;

        if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
                return false;
        v = json_object_get_int64(x);
        if (v < 0 || v > VS_GRAPH_MAX_VCPU)
                return false;
        *ret = (unsigned) v;
        return true;
}

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

int vs_graph_from_json(struct json_object *vm, struct vs_graph **ret) {
        _cleanup_(graph_freep) struct vs_graph *g = NULL;
        struct json_object *name, *edges = NULL, *vcpus = NULL;
        size_t n_edges = 0, n_vcpus = 0, n = 0;

        if (!json_object_is_type(vm, json_type_object) || !json_object_object_get_ex(vm, "vm", &name) ||
            !json_object_is_type(name, json_type_string))
                return -EBADMSG;
        if (json_object_object_get_ex(vm, "edges", &edges) && edges) {
                if (!json_object_is_type(edges, json_type_array))
                        return -EBADMSG;
                n_edges = json_object_array_length(edges);
        }
        if (json_object_object_get_ex(vm, "vcpu", &vcpus) && vcpus) {
                if (!json_object_is_type(vcpus, json_type_array))
                        return -EBADMSG;
                n_vcpus = json_object_array_length(vcpus);
        }
        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->vm = strdup(json_object_get_string(name));
        g->edges = calloc(n_edges + 1, sizeof(*g->edges));
        g->nodes = calloc(2 * n_edges + n_vcpus + 1, sizeof(*g->nodes));
        if (!g->vm || !g->edges || !g->nodes)
                return -ENOMEM;
        for (size_t i = 0; i < n_vcpus; i++) {
                struct json_object *v = json_object_array_get_idx(vcpus, i);
                if (!json_object_is_type(v, json_type_object) || !get_index(v, "vcpu", &g->nodes[n]))
                        return -EBADMSG;
                n++;
        }
        for (size_t i = 0; i < n_edges; i++) {
                struct json_object *e = json_object_array_get_idx(edges, i);
                struct vs_graph_edge *x = &g->edges[i];
                double count, pv;

                if (!json_object_is_type(e, json_type_object) || !get_index(e, "src", &x->src) ||
                    !get_index(e, "dst", &x->dst) || !get_number(e, "count", &count) || !get_number(e, "pv", &pv) ||
                    !get_number(e, "rate_per_s", &x->rate_per_s) ||
                    !get_number(e, "preempted_share", &x->preempted_share))
                        return -EBADMSG;
                x->count = count > 0 ? (uint64_t) count : 0;
                x->pv = pv > 0 ? (uint64_t) pv : 0;
                x->rate_per_s = fmax(x->rate_per_s, 0);
                x->preempted_share = fmin(fmax(x->preempted_share, 0), 1);
                g->nodes[n++] = x->src;
                g->nodes[n++] = x->dst;
        }
        g->n_edges = n_edges;
        qsort(g->nodes, n, sizeof(*g->nodes), cmp_unsigned);
        for (size_t i = 0; i < n; i++)
                if (g->n_nodes == 0 || g->nodes[g->n_nodes - 1] != g->nodes[i])
                        g->nodes[g->n_nodes++] = g->nodes[i];
        *ret = TAKE_PTR(g);
        return 0;
}

void vs_graph_share_color(double share, char buf[static 8]) {
        /* hue 120 (green) at 0 % to 0 (red) at 100 %, through yellow */
        double s = isfinite(share) ? fmin(fmax(share, 0), 1) : 0;
        double h = (1 - s) * 120.0 / 60.0, c = 0.85, x = c * (1 - fabs(fmod(h, 2) - 1)), m = 0.1;
        double r = h < 1 ? c : x, gr = h < 1 ? x : c;

        snprintf(buf, 8, "#%02x%02x%02x", (unsigned) lround((r + m) * 255), (unsigned) lround((gr + m) * 255),
                 (unsigned) lround(m * 255));
}

double vs_graph_pen_width(double rate, double max_rate) {
        if (!(max_rate > 0) || !(rate > 0))
                return 1.0;
        return 1.0 + 7.0 * fmin(rate / max_rate, 1.0);
}

int vs_graph_write_dot(const struct vs_graph *g, FILE *f) {
        double max_rate = 0;
        uint64_t total = 0;

        for (size_t i = 0; i < g->n_edges; i++) {
                max_rate = fmax(max_rate, g->edges[i].rate_per_s);
                total += g->edges[i].count;
        }
        fputs("digraph \"ipi\" {\n"
              "  graph [fontname=\"sans-serif\", labelloc=t, nodesep=1.2, ranksep=0.9, pad=0.3];\n"
              "  node [shape=circle, style=filled, fillcolor=\"#dde6f3\", color=\"#4a5d7e\", fontname=\"sans-serif\"];\n"
              "  edge [fontname=\"sans-serif\", fontsize=10];\n", f);
        /* the legend: an HTML-like label (XML escaping), colour scale in cells */
        fputs("  label=<<TABLE BORDER=\"0\" CELLSPACING=\"2\"><TR><TD COLSPAN=\"5\"><B>VM ", f);
        vs_markup_dot_html(f, g->vm);
        fprintf(f, "</B>: IPI graph, %zu edge%s, %llu IPIs</TD></TR>\n", g->n_edges, g->n_edges == 1 ? "" : "s",
                (unsigned long long) total);
        fprintf(f, "    <TR><TD COLSPAN=\"5\">edge width: IPI rate (widest %.1f/s); colour: IPIs to a vCPU not running</TD></TR>\n    <TR>",
                max_rate);
        for (int k = 0; k <= 4; k++) {
                char col[8];
                vs_graph_share_color(k / 4.0, col);
                fprintf(f, "<TD BGCOLOR=\"%s\"> %d %% </TD>", col, k * 25);
        }
        fputs("</TR></TABLE>>;\n", f);
        for (size_t i = 0; i < g->n_nodes; i++)
                fprintf(f, "  \"v%u\" [label=\"vCPU %u\", id=\"vcpu%u\"];\n", g->nodes[i], g->nodes[i], g->nodes[i]);
        for (size_t i = 0; i < g->n_edges; i++) {
                const struct vs_graph_edge *e = &g->edges[i];
                char col[8];

                vs_graph_share_color(e->preempted_share, col);
                fprintf(f,
                        "  \"v%u\" -> \"v%u\" [id=\"e%u_%u\", penwidth=%.2f, arrowsize=%.2f, color=\"%s\", "
                        "fontcolor=\"#303030\", label=\"%llu IPI%s%s\\n%.1f/s\\n%.0f %% not running\"];\n",
                        e->src, e->dst, e->src, e->dst, vs_graph_pen_width(e->rate_per_s, max_rate),
                        0.6 + 0.1 * vs_graph_pen_width(e->rate_per_s, max_rate), col,
                        (unsigned long long) e->count, e->count == 1 ? "" : "s", e->pv ? " (pv)" : "", e->rate_per_s,
                        100.0 * e->preempted_share);
        }
        fputs("}\n", f);
        return ferror(f) ? -EIO : 0;
}

int vs_graph_dot(const struct vs_graph *g, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int r;

        if (!f)
                return -ENOMEM;
        r = vs_graph_write_dot(g, f);
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}
