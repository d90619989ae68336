/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for top-model.c (the numbers of `vschedctl top`): snapshots
 * from "top" answers (tolerant of missing and unknown keys, refusing a
 * malformed list), rates from two snapshots over the daemon's elapsed time,
 * the interval's preempted share and its since-start fallback, a daemon
 * restart (counters going back), sorting that keeps each VM's vCPUs under it
 * in both directions with unknown values last, cell texts (units, hostile VM
 * names, truncation), the key table; and vs_hist_merge (histogram.c), which
 * the daemon uses for the per-vCPU and per-VM EOI p99.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "histogram.h"
#include "macro.h"
#include "top-model.h"

static struct vs_top_snapshot *snap(const char *json) {
        struct json_object *o = json_tokener_parse(json);
        struct vs_top_snapshot *s = NULL;

        assert_non_null(o);
        assert_int_equal(vs_top_snapshot_from_json(o, &s), 0);
        json_object_put(o);
        return s;
}

/* Two VMs: web (2 vCPUs) and db (1 vCPU), counters scaled by @k, at @t s. */
static struct vs_top_snapshot *two_vms(double t, unsigned k) {
        char buf[2048];

        snprintf(buf, sizeof(buf),
                 "{\"uptime_s\": %g, \"mode\": \"observe\", \"dry_run\": true, \"future_key\": [1,2],"
                 " \"vms\": ["
                 "  {\"vm\": \"web\", \"mode\": \"enforce\", \"vcpus\": 2, \"ipis_in\": %u, \"ipis_out\": %u,"
                 "   \"ipis_in_not_running\": %u, \"pause_exits\": %u, \"yields_out\": %u, \"eoi_p99_ns\": 724077,"
                 "   \"weight\": null, \"weight_baseline\": 100,"
                 "   \"vcpu\": ["
                 "    {\"vcpu\": 0, \"state\": \"running\", \"ipis_in\": %u, \"ipis_out\": %u,"
                 "     \"ipis_in_not_running\": %u, \"pause_exits\": %u, \"yields_out\": %u, \"eoi_p99_ns\": 2048000,"
                 "     \"weight\": 150, \"weight_baseline\": 100},"
                 "    {\"vcpu\": 1, \"state\": \"preempted\", \"ipis_in\": %u, \"ipis_out\": %u,"
                 "     \"ipis_in_not_running\": %u, \"pause_exits\": %u, \"yields_out\": 0, \"eoi_p99_ns\": 0}]},"
                 "  {\"vm\": \"db\", \"mode\": \"observe\", \"vcpus\": 1, \"ipis_in\": %u,"
                 "   \"vcpu\": [{\"vcpu\": 0, \"state\": \"blocked\", \"ipis_in\": %u}]}]}",
                 t, 30 * k, 30 * k, 15 * k, 40 * k, 4 * k,          /* web */
                 10 * k, 20 * k, 10 * k, 30 * k, 4 * k,              /* web vcpu0 */
                 20 * k, 10 * k, 5 * k, 10 * k,                      /* web vcpu1 */
                 2 * k, 2 * k);                                      /* db */
        return snap(buf);
}

static const struct vs_top_row *row(const struct vs_top_row *rows, size_t n, const char *vm, int vcpu) {
        for (size_t i = 0; i < n; i++)
                if (rows[i].vcpu == vcpu && strcmp(rows[i].vm, vm) == 0)
                        return &rows[i];
        fail_msg("no row %s/%d", vm, vcpu);
        return NULL;
}

static void test_snapshot(void **state) {
        struct vs_top_snapshot *s = two_vms(2.5, 1);

        assert_int_equal(s->n_items, 5);
        assert_true(s->dry_run);
        assert_string_equal(s->mode, "observe");
        assert_true(s->uptime_s == 2.5);
        /* order: VM, its vCPUs, next VM */
        assert_string_equal(s->items[0].vm, "web");
        assert_int_equal(s->items[0].vcpu, -1);
        assert_int_equal(s->items[1].vcpu, 0);
        assert_string_equal(s->items[1].vm, "web");
        assert_string_equal(s->items[1].mode, "enforce");      /* inherited from the VM */
        assert_string_equal(s->items[2].state, "preempted");
        assert_string_equal(s->items[3].vm, "db");
        assert_int_equal(s->items[1].weight, 150);
        assert_int_equal(s->items[0].weight, -1);               /* null */
        assert_int_equal(s->items[0].weight_baseline, 100);
        assert_int_equal(s->items[2].weight, -1);               /* missing */
        assert_int_equal(s->items[3].pause_exits, 0);           /* missing counter */
        assert_int_equal(s->items[1].eoi_p99_ns, 2048000);
        vs_top_snapshot_free(s);
        assert_null(vs_top_snapshot_free(NULL));
}

static void test_snapshot_refused(void **state) {
        static const char *const bad[] = {
                "[]",
                "{}",
                "{\"vms\": {}}",
                "{\"vms\": [1]}",
                "{\"vms\": [{\"name\": \"x\"}]}",
                "{\"vms\": [{\"vm\": 7}]}",
        };
        struct vs_top_snapshot *s = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct json_object *o = json_tokener_parse(bad[i]);
                assert_non_null(o);
                assert_int_equal(vs_top_snapshot_from_json(o, &s), -EBADMSG);
                assert_null(s);
                json_object_put(o);
        }
        assert_int_equal(vs_top_snapshot_from_json(NULL, &s), -EBADMSG);

        /* an empty list is fine: no rows */
        s = snap("{\"uptime_s\": 1, \"vms\": []}");
        assert_int_equal(s->n_items, 0);
        {
                struct vs_top_row *rows = (void *) 1;
                size_t n = 9;
                assert_int_equal(vs_top_rows(NULL, s, &rows, &n), 0);
                assert_null(rows);
                assert_int_equal(n, 0);
                assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_IPI_IN, false), 0);
        }
        vs_top_snapshot_free(s);
}

static void test_rates(void **state) {
        struct vs_top_snapshot *a = two_vms(10.0, 1), *b = two_vms(12.0, 3);   /* counters x3 in 2 s */
        struct vs_top_row *rows = NULL;
        const struct vs_top_row *r;
        size_t n = 0;

        /* first snapshot: no rates, share since start */
        assert_int_equal(vs_top_rows(NULL, a, &rows, &n), 0);
        assert_int_equal(n, 5);
        r = row(rows, n, "web", 0);
        assert_true(isnan(r->ipi_in_rate) && isnan(r->ipi_out_rate) && isnan(r->pause_rate) && isnan(r->yield_rate));
        assert_true(fabs(r->preempted_share - 1.0) < 1e-9);     /* 10 of 10 */
        assert_true(isnan(row(rows, n, "web", 1)->preempted_share) == false);
        free(rows);

        assert_int_equal(vs_top_rows(a, b, &rows, &n), 0);
        r = row(rows, n, "web", -1);
        assert_true(fabs(r->ipi_in_rate - 30.0) < 1e-9);        /* (90 - 30) / 2 */
        assert_true(fabs(r->ipi_out_rate - 30.0) < 1e-9);
        assert_true(fabs(r->pause_rate - 40.0) < 1e-9);         /* (120 - 40) / 2 */
        assert_true(fabs(r->yield_rate - 4.0) < 1e-9);
        assert_true(fabs(r->preempted_share - 0.5) < 1e-9);     /* 30 of 60 in the interval */
        assert_int_equal(r->eoi_p99_ns, 724077);
        assert_int_equal(r->weight_baseline, 100);
        r = row(rows, n, "web", 1);
        assert_true(fabs(r->ipi_in_rate - 20.0) < 1e-9);
        assert_true(fabs(r->preempted_share - 0.25) < 1e-9);    /* 10 of 40 */
        assert_string_equal(r->state, "preempted");
        assert_string_equal(r->mode, "enforce");
        r = row(rows, n, "db", 0);
        assert_true(r->pause_rate == 0.0);                       /* 0 -> 0: a rate of 0, not unknown */
        free(rows);

        /* the same counters again: rates 0, the share falls back to since start */
        assert_int_equal(vs_top_rows(b, b, &rows, &n), 0);
        r = row(rows, n, "web", 1);
        assert_true(isnan(r->ipi_in_rate));     /* no time passed: unknown, no division by zero */
        free(rows);
        {
                struct vs_top_snapshot *c = two_vms(13.0, 3);
                assert_int_equal(vs_top_rows(b, c, &rows, &n), 0);
                r = row(rows, n, "web", 1);
                assert_true(r->ipi_in_rate == 0.0);
                assert_true(fabs(r->preempted_share - 0.25) < 1e-9);    /* 15 of 60 since start */
                free(rows);
                vs_top_snapshot_free(c);
        }

        /* daemon restarted: counters went back -> unknown, not huge */
        assert_int_equal(vs_top_rows(b, a, &rows, &n), 0);
        assert_true(isnan(row(rows, n, "web", 0)->ipi_in_rate));
        free(rows);
        vs_top_snapshot_free(a);
        vs_top_snapshot_free(b);

        /* a VM that appears: its rows have no rates yet */
        a = snap("{\"uptime_s\": 1, \"vms\": []}");
        b = snap("{\"uptime_s\": 2, \"vms\": [{\"vm\": \"new\", \"ipis_in\": 5}]}");
        assert_int_equal(vs_top_rows(a, b, &rows, &n), 0);
        assert_int_equal(n, 1);
        assert_true(isnan(rows[0].ipi_in_rate));
        free(rows);
        vs_top_snapshot_free(a);
        vs_top_snapshot_free(b);
}

static void names(const struct vs_top_row *rows, size_t n, char *buf, size_t len) {
        size_t off = 0;

        buf[0] = 0;
        for (size_t i = 0; i < n && off < len; i++)
                off += (size_t) snprintf(buf + off, len - off, "%s%s/%d", i ? " " : "", rows[i].vm, rows[i].vcpu);
}

static void test_sort(void **state) {
        struct vs_top_snapshot *a = two_vms(10.0, 1), *b = two_vms(11.0, 2);
        struct vs_top_row *rows = NULL;
        size_t n = 0;
        char order[256];

        assert_int_equal(vs_top_rows(a, b, &rows, &n), 0);

        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_NAME, false), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "db/-1 db/0 web/-1 web/0 web/1");
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_NAME, true), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "web/-1 web/1 web/0 db/-1 db/0");

        /* IPIs in: web (30/s) before db (2/s); within web vcpu1 (20) before vcpu0 (10) */
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_IPI_IN, false), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "web/-1 web/1 web/0 db/-1 db/0");
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_IPI_IN, true), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "db/-1 db/0 web/-1 web/0 web/1");

        /* weight: neither VM row has one (a tie, so by name); web/1's is
         * unknown -> after web/0 in both directions */
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_WEIGHT, false), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "db/-1 db/0 web/-1 web/0 web/1");
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_WEIGHT, true), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "db/-1 db/0 web/-1 web/0 web/1");

        /* EOI p99: 0 = unknown goes last */
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_EOI_P99, true), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "web/-1 web/0 web/1 db/-1 db/0");

        /* state, text A..Z: preempted before running; VM rows have none (by name) */
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_STATE, false), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "db/-1 db/0 web/-1 web/1 web/0");

        /* mode: enforce (web) before observe (db) */
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_MODE, false), 0);
        names(rows, n, order, sizeof(order));
        assert_string_equal(order, "web/-1 web/0 web/1 db/-1 db/0");
        free(rows);
        vs_top_snapshot_free(a);
        vs_top_snapshot_free(b);
}

static void test_format(void **state) {
        struct vs_top_row r = {
                .vm = "web",
                .vcpu = -1,
                .mode = "observe",
                .ipi_in_rate = 12.34,
                .ipi_out_rate = 4567.0,
                .preempted_share = 0.426,
                .eoi_p99_ns = 1448154,
                .pause_rate = 2.5e6,
                .yield_rate = NAN,
                .weight = 150,
                .weight_baseline = 100,
        };
        char buf[64], tiny[4];

        vs_top_format_cell(&r, VS_TOP_COL_NAME, buf, sizeof(buf));
        assert_string_equal(buf, "web");
        vs_top_format_cell(&r, VS_TOP_COL_IPI_IN, buf, sizeof(buf));
        assert_string_equal(buf, "12.3");
        vs_top_format_cell(&r, VS_TOP_COL_IPI_OUT, buf, sizeof(buf));
        assert_string_equal(buf, "4.6k");
        vs_top_format_cell(&r, VS_TOP_COL_PAUSE, buf, sizeof(buf));
        assert_string_equal(buf, "2.5M");
        vs_top_format_cell(&r, VS_TOP_COL_YIELD, buf, sizeof(buf));
        assert_string_equal(buf, "-");
        vs_top_format_cell(&r, VS_TOP_COL_PREEMPTED, buf, sizeof(buf));
        assert_string_equal(buf, "43%");
        vs_top_format_cell(&r, VS_TOP_COL_EOI_P99, buf, sizeof(buf));
        assert_string_equal(buf, "1.4ms");
        vs_top_format_cell(&r, VS_TOP_COL_WEIGHT, buf, sizeof(buf));
        assert_string_equal(buf, "150/100");
        vs_top_format_cell(&r, VS_TOP_COL_MODE, buf, sizeof(buf));
        assert_string_equal(buf, "observe");
        vs_top_format_cell(&r, VS_TOP_COL_STATE, buf, sizeof(buf));
        assert_string_equal(buf, "-");

        r.eoi_p99_ns = 724;
        vs_top_format_cell(&r, VS_TOP_COL_EOI_P99, buf, sizeof(buf));
        assert_string_equal(buf, "724ns");
        r.eoi_p99_ns = 90509;
        vs_top_format_cell(&r, VS_TOP_COL_EOI_P99, buf, sizeof(buf));
        assert_string_equal(buf, "90us");
        r.eoi_p99_ns = 0;
        vs_top_format_cell(&r, VS_TOP_COL_EOI_P99, buf, sizeof(buf));
        assert_string_equal(buf, "-");
        r.weight = -1;
        vs_top_format_cell(&r, VS_TOP_COL_WEIGHT, buf, sizeof(buf));
        assert_string_equal(buf, "-/100");
        r.weight_baseline = -1;
        vs_top_format_cell(&r, VS_TOP_COL_WEIGHT, buf, sizeof(buf));
        assert_string_equal(buf, "-");
        r.preempted_share = NAN;
        vs_top_format_cell(&r, VS_TOP_COL_PREEMPTED, buf, sizeof(buf));
        assert_string_equal(buf, "-");

        /* a hostile VM name cannot move the cursor or change colours */
        snprintf(r.vm, sizeof(r.vm), "a\033[2J\nb\xc3\xa9");
        vs_top_format_cell(&r, VS_TOP_COL_NAME, buf, sizeof(buf));
        assert_string_equal(buf, "a?[2J?b??");
        r.vcpu = 3;
        vs_top_format_cell(&r, VS_TOP_COL_NAME, buf, sizeof(buf));
        assert_string_equal(buf, "  vcpu3");
        vs_top_format_cell(&r, VS_TOP_COL_NAME, tiny, sizeof(tiny));
        assert_string_equal(tiny, "  v");
        vs_top_format_cell(&r, _VS_TOP_COL_MAX, buf, sizeof(buf));
        assert_string_equal(buf, "?");
}

static void test_columns(void **state) {
        char seen[128] = {};

        for (int c = 0; c < _VS_TOP_COL_MAX; c++) {
                char k = vs_top_col_key(c);
                assert_non_null(vs_top_col_title(c));
                assert_true(vs_top_col_width(c) >= (int) strlen(vs_top_col_title(c)));
                /* unique keys, and none taken by the view's own keys */
                assert_true(k > ' ' && (unsigned char) k < 128);
                assert_false(seen[(int) k]);
                seen[(int) k] = 1;
                assert_true(k != 'q' && k != 'r');
                assert_int_equal(vs_top_col_from_key(k), c);
        }
        assert_int_equal(vs_top_col_from_key('q'), -1);
        assert_null(vs_top_col_title(_VS_TOP_COL_MAX));
        assert_int_equal(vs_top_col_key(_VS_TOP_COL_MAX), 0);
}

static void test_hist_merge(void **state) {
        struct vs_hist a = {}, b = {}, m = {};

        for (int i = 0; i < 98; i++)
                vs_hist_add(&a, 10000);         /* 10 us */
        vs_hist_add(&b, 5000000);               /* 5 ms */
        vs_hist_add(&b, 5000000);
        vs_hist_merge(&m, &a);
        vs_hist_merge(&m, &b);
        assert_int_equal(vs_hist_count(&m), 100);
        assert_int_equal(vs_hist_percentile(&m, 98), vs_hist_bucket_lo(vs_hist_bucket(10000) + 1));
        assert_int_equal(vs_hist_percentile(&m, 99), vs_hist_bucket_lo(vs_hist_bucket(5000000) + 1));

        /* a sum that would overflow a 16-bit counter halves both first */
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        a.b[3] = 60000;
        a.b[4] = 2;
        b.b[3] = 60000;
        vs_hist_merge(&a, &b);
        assert_int_equal(a.b[3], 60000);
        assert_int_equal(a.b[4], 1);
}

/* A VM that exited between two answers has no row: rows follow the daemon's
 * current answer, the previous one only gives rates. */
static void test_gone_vm_no_row(void **state) {
        struct vs_top_snapshot *a = two_vms(10, 1);
        struct vs_top_snapshot *b = snap("{\"uptime_s\": 12, \"vms\": [{\"vm\": \"db\", \"vcpus\": 1, \"ipis_in\": 6,"
                                         " \"vcpu\": [{\"vcpu\": 0, \"state\": \"blocked\", \"ipis_in\": 6}]}]}");
        struct vs_top_row *rows = NULL;
        size_t n = 0;

        assert_int_equal(vs_top_rows(a, b, &rows, &n), 0);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(rows[i].vm, "db");
        assert_float_equal(row(rows, n, "db", -1)->ipi_in_rate, 2.0, 1e-9);
        free(rows);
        vs_top_snapshot_free(a);
        vs_top_snapshot_free(b);
}

/* CPU ready: the run delay gained over the interval's wall time; a VM's
 * row (its vCPUs summed) may pass 100%; unknown when either answer lacks
 * the counter (null, missing, an older daemon) or it went back. */
static struct vs_top_snapshot *ready_snap(double t, const char *vm_rd, const char *v0_rd, const char *v1_rd) {
        char buf[1024];

        snprintf(buf, sizeof(buf),
                 "{\"uptime_s\": %g, \"vms\": [{\"vm\": \"web\", \"vcpus\": 2%s%s, \"vcpu\": ["
                 "{\"vcpu\": 0%s%s}, {\"vcpu\": 1%s%s}]}]}",
                 t, vm_rd ? ", \"run_delay_ns\": " : "", vm_rd ? vm_rd : "", v0_rd ? ", \"run_delay_ns\": " : "",
                 v0_rd ? v0_rd : "", v1_rd ? ", \"run_delay_ns\": " : "", v1_rd ? v1_rd : "");
        return snap(buf);
}

static void test_ready_share(void **state) {
        /* 2 s apart: vCPU 0 waited 1.5 s more (75%), vCPU 1 50 ms (2.5%),
         * the VM 1.55 s (77.5%); in the next 2 s the vCPUs waited 2 s and
         * 1.8 s: the VM's row sums them to 190% */
        struct vs_top_snapshot *a = ready_snap(10, "1000000000", "600000000", "400000000");
        struct vs_top_snapshot *b = ready_snap(12, "2550000000", "2100000000", "450000000");
        struct vs_top_snapshot *c = ready_snap(14, "6350000000", "4100000000", "2250000000");
        struct vs_top_snapshot *d = ready_snap(16, "null", "100", NULL);
        struct vs_top_row *rows = NULL;
        size_t n = 0;
        char buf[32];

        assert_true(a->items[0].has_run_delay);
        assert_int_equal(a->items[1].run_delay_ns, 600000000);
        assert_int_equal(vs_top_rows(NULL, a, &rows, &n), 0);
        assert_true(isnan(row(rows, n, "web", 0)->ready_share));      /* first answer: no interval */
        vs_top_format_cell(row(rows, n, "web", 0), VS_TOP_COL_READY, buf, sizeof(buf));
        assert_string_equal(buf, "-");
        free(rows);

        assert_int_equal(vs_top_rows(a, b, &rows, &n), 0);
        assert_float_equal(row(rows, n, "web", 0)->ready_share, 0.75, 1e-9);
        assert_float_equal(row(rows, n, "web", 1)->ready_share, 0.025, 1e-9);
        assert_float_equal(row(rows, n, "web", -1)->ready_share, 0.775, 1e-9);
        vs_top_format_cell(row(rows, n, "web", 0), VS_TOP_COL_READY, buf, sizeof(buf));
        assert_string_equal(buf, "75%");
        vs_top_format_cell(row(rows, n, "web", 1), VS_TOP_COL_READY, buf, sizeof(buf));
        assert_string_equal(buf, "2.5%");
        /* sorted by READY%: vCPU 0 above vCPU 1; reversed: below */
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_READY, false), 0);
        assert_int_equal(rows[1].vcpu, 0);
        assert_int_equal(vs_top_sort(rows, n, VS_TOP_COL_READY, true), 0);
        assert_int_equal(rows[1].vcpu, 1);
        free(rows);

        assert_int_equal(vs_top_rows(b, c, &rows, &n), 0);
        assert_float_equal(row(rows, n, "web", -1)->ready_share, 1.9, 1e-9);
        vs_top_format_cell(row(rows, n, "web", -1), VS_TOP_COL_READY, buf, sizeof(buf));
        assert_string_equal(buf, "190%");
        free(rows);

        /* null, missing, and a counter that went back (thread restarted) */
        assert_false(d->items[0].has_run_delay);
        assert_false(d->items[2].has_run_delay);
        assert_int_equal(vs_top_rows(c, d, &rows, &n), 0);
        assert_true(isnan(row(rows, n, "web", -1)->ready_share));
        assert_true(isnan(row(rows, n, "web", 0)->ready_share));
        assert_true(isnan(row(rows, n, "web", 1)->ready_share));
        free(rows);
        vs_top_snapshot_free(a);
        vs_top_snapshot_free(b);
        vs_top_snapshot_free(c);
        vs_top_snapshot_free(d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ready_share),
                cmocka_unit_test(test_snapshot),
                cmocka_unit_test(test_snapshot_refused),
                cmocka_unit_test(test_rates),
                cmocka_unit_test(test_sort),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_columns),
                cmocka_unit_test(test_hist_merge),
                cmocka_unit_test(test_gone_vm_no_row),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
