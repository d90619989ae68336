/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for graph-dot.c (report VM object -> dot text) and
 * graph-render.c (dot text -> SVG through the real dot(1); those tests skip
 * when Graphviz is not installed).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "graph-dot.h"
#include "graph-render.h"

/* A report VM: vCPUs 0..2 (2 has no edges), edges 0->1 (busiest, all to a
 * running vCPU) and 1->0 (half the rate, 3 of 4 to a vCPU not running). */
static const char *vm_json =
        "{\"vm\": \"web\", \"vcpus\": 3,"
        " \"vcpu\": [{\"vcpu\": 0}, {\"vcpu\": 1}, {\"vcpu\": 2}],"
        " \"edges\": [{\"src\": 0, \"dst\": 1, \"count\": 10, \"pv\": 0, \"rate_per_s\": 20.0, \"preempted_share\": 0.0},"
        "             {\"src\": 1, \"dst\": 0, \"count\": 4, \"pv\": 4, \"rate_per_s\": 10.0, \"preempted_share\": 0.75}]}";

static struct vs_graph *parse(const char *text) {
        struct json_object *o = json_tokener_parse(text);
        struct vs_graph *g = NULL;

        assert_non_null(o);
        assert_int_equal(vs_graph_from_json(o, &g), 0);
        json_object_put(o);
        return g;
}

static int parse_error(const char *text) {
        struct json_object *o = json_tokener_parse(text);
        struct vs_graph *g = NULL;
        int r;

        assert_non_null(o);
        r = vs_graph_from_json(o, &g);
        assert_null(g);
        json_object_put(o);
        return r;
}

static void test_parse(void **state) {
        struct vs_graph *g = parse(vm_json);

        assert_string_equal(g->vm, "web");
        assert_int_equal(g->n_nodes, 3);
        assert_int_equal(g->nodes[2], 2);
        assert_int_equal(g->n_edges, 2);
        assert_int_equal(g->edges[1].src, 1);
        assert_int_equal(g->edges[1].dst, 0);
        assert_int_equal(g->edges[1].count, 4);
        assert_int_equal(g->edges[1].pv, 4);
        assert_true(g->edges[1].preempted_share == 0.75);
        vs_graph_free(g);

        /* edge endpoints are nodes even without a "vcpu" list; shares are clamped */
        g = parse("{\"vm\": \"x\", \"edges\": [{\"src\": 7, \"dst\": 3, \"count\": 1, \"preempted_share\": 4}]}");
        assert_int_equal(g->n_nodes, 2);
        assert_int_equal(g->nodes[0], 3);
        assert_int_equal(g->nodes[1], 7);
        assert_true(g->edges[0].preempted_share == 1.0);
        vs_graph_free(g);

        assert_int_equal(parse_error("{\"edges\": []}"), -EBADMSG);
        assert_int_equal(parse_error("{\"vm\": \"x\", \"edges\": {}}"), -EBADMSG);
        assert_int_equal(parse_error("{\"vm\": \"x\", \"edges\": [{\"src\": -1, \"dst\": 0}]}"), -EBADMSG);
        assert_int_equal(parse_error("{\"vm\": \"x\", \"edges\": [{\"src\": 0}]}"), -EBADMSG);
        assert_int_equal(parse_error("{\"vm\": \"x\", \"edges\": [{\"src\": 0, \"dst\": 99999}]}"), -EBADMSG);
        assert_int_equal(parse_error("{\"vm\": \"x\", \"edges\": [{\"src\": 0, \"dst\": 1, \"count\": \"9\"}]}"),
                         -EBADMSG);
        assert_int_equal(parse_error("[1]"), -EBADMSG);
}

static void test_scales(void **state) {
        char c[8];

        vs_graph_share_color(0, c);
        assert_string_equal(c, "#1af21a");      /* green */
        vs_graph_share_color(0.5, c);
        assert_string_equal(c, "#f2f21a");      /* yellow */
        vs_graph_share_color(1, c);
        assert_string_equal(c, "#f21a1a");      /* red */
        vs_graph_share_color(7, c);
        assert_string_equal(c, "#f21a1a");
        assert_true(vs_graph_pen_width(20, 20) == 8.0);
        assert_true(vs_graph_pen_width(10, 20) == 4.5);
        assert_true(vs_graph_pen_width(0, 20) == 1.0);
        assert_true(vs_graph_pen_width(5, 0) == 1.0);
}

static void test_dot_text(void **state) {
        struct vs_graph *g = parse(vm_json);
        char *dot = NULL;

        assert_int_equal(vs_graph_dot(g, &dot), 0);
        assert_non_null(strstr(dot, "\"v2\" [label=\"vCPU 2\", id=\"vcpu2\"];"));
        assert_non_null(strstr(dot, "\"v0\" -> \"v1\" [id=\"e0_1\", penwidth=8.00, arrowsize=1.40, color=\"#1af21a\""));
        assert_non_null(strstr(dot, "\"v1\" -> \"v0\" [id=\"e1_0\", penwidth=4.50, arrowsize=1.05, color=\"#f2861a\""));
        assert_non_null(strstr(dot, "label=\"4 IPIs (pv)\\n10.0/s\\n75 % not running\""));
        assert_non_null(strstr(dot, "<B>VM web</B>: IPI graph, 2 edges, 14 IPIs"));
        free(dot);
        vs_graph_free(g);
}

static void test_dot_hostile_name(void **state) {
        struct json_object *o = json_object_new_object();
        struct vs_graph *g = NULL;
        char *dot = NULL;

        json_object_object_add(o, "vm", json_object_new_string("</B>\"];\n\"evil\" -> \"v0\";<&"));
        assert_int_equal(vs_graph_from_json(o, &g), 0);
        assert_int_equal(vs_graph_dot(g, &dot), 0);
        /* only in the HTML-like label, XML-escaped; no line break and no quote from the name */
        assert_non_null(strstr(dot, "<B>VM &lt;/B&gt;&quot;];\\\\x0a&quot;evil&quot; -&gt; &quot;v0&quot;;&lt;&amp;</B>"));
        assert_null(strstr(dot, "\"evil\""));
        assert_null(strstr(dot, "->"));         /* no edges at all */
        free(dot);
        vs_graph_free(g);
        json_object_put(o);
}

static bool have_dot(void) {
        char *svg = NULL;
        size_t len;
        int r = vs_graph_render("digraph { }", "svg", &svg, &len, NULL);
        free(svg);
        return r == 0;
}

static void test_render(void **state) {
        struct vs_graph *g;
        char *dot = NULL, *svg = NULL, *err = NULL;
        size_t len = 0;

        if (!have_dot())
                skip();         /* Graphviz (dot) not installed */
        g = parse(vm_json);
        assert_int_equal(vs_graph_dot(g, &dot), 0);
        assert_int_equal(vs_graph_render(dot, "svg", &svg, &len, &err), 0);
        assert_int_equal(strlen(svg), len);
        assert_non_null(strstr(svg, "<svg"));
        assert_non_null(strstr(svg, "<g id=\"e0_1\" class=\"edge\">"));
        assert_non_null(strstr(svg, "<g id=\"e1_0\" class=\"edge\">"));
        assert_non_null(strstr(svg, "<title>v0&#45;&gt;v1</title>"));
        assert_non_null(strstr(svg, "stroke=\"#f2861a\""));
        assert_null(err);
        free(svg);
        free(dot);
        vs_graph_free(g);
}

static void test_render_errors(void **state) {
        char *out = NULL, *err = NULL;
        size_t len;

        if (!have_dot())
                skip();
        assert_int_equal(vs_graph_render("digraph { a -> ", "svg", &out, &len, &err), -EBADMSG);
        assert_null(out);
        assert_non_null(err);
        assert_non_null(strstr(err, "syntax error"));
        free(err);
        err = NULL;
        assert_int_equal(vs_graph_render("digraph { }", "svg;rm -rf /", &out, &len, &err), -EINVAL);
        assert_int_equal(vs_graph_render("digraph { }", "", &out, &len, &err), -EINVAL);
        /* a "dot" that exits without reading: an error, not a SIGPIPE that kills us */
        {
                size_t big = 4u << 20;
                char *text = malloc(big + 1);
                assert_non_null(text);
                memset(text, ' ', big);
                text[big] = 0;
                assert_int_equal(setenv("VSCHEDD_DOT", "true", 1), 0);
                assert_int_equal(vs_graph_render(text, "svg", &out, &len, &err), -EBADMSG);
                assert_null(out);
                free(text);
        }
        assert_int_equal(setenv("VSCHEDD_DOT", "/nonexistent/dot", 1), 0);
        assert_int_equal(vs_graph_render("digraph { }", "svg", &out, &len, &err), -ENOENT);
        assert_int_equal(unsetenv("VSCHEDD_DOT"), 0);
        assert_null(out);
        free(err);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_scales),
                cmocka_unit_test(test_dot_text),
                cmocka_unit_test(test_dot_hostile_name),
                cmocka_unit_test(test_render),
                cmocka_unit_test(test_render_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
