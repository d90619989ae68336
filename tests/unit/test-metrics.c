/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for metrics.c: exact OpenMetrics text for counters and gauges,
 * escaping of hostile label values (a VM name with quotes, backslashes and
 * newlines, invalid UTF-8) and of HELP, number formatting, refused names.
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

#include "macro.h"
#include "histogram.h"
#include "metrics.h"

static void test_families(void **state) {
        static const struct vs_metric_label ipi[] = { { "type", "ipi" } };
        static const struct vs_metric_label eoi[] = { { "type", "eoi" } };
        static const struct vs_metric_label vm_a[] = { { "vm", "web1" }, { "vcpu", "0" } };
        const struct vs_metric_sample events[] = {
                { .labels = ipi, .n_labels = 1, .u64 = 18446744073709551615ull },
                { .labels = eoi, .n_labels = 1, .u64 = 0 },
        };
        const struct vs_metric_sample share[] = {
                { .labels = vm_a, .n_labels = 2, .is_double = true, .d = 0.25 },
        };
        const struct vs_metric_sample lost[] = { { .u64 = 7 } };
        const struct vs_metric_family fams[] = {
                { "vschedd_events", VS_METRIC_COUNTER, "Trace events by type.", events, ELEMENTSOF(events) },
                { "vschedd_preempted_receiver_share", VS_METRIC_GAUGE, NULL, share, ELEMENTSOF(share) },
                { "vschedd_lost_events", VS_METRIC_COUNTER, "Events the kernel dropped.", lost, 1 },
                { "vschedd_empty", VS_METRIC_GAUGE, "No samples.", NULL, 0 },
        };
        char *text = NULL;

        assert_int_equal(vs_metrics_format(fams, ELEMENTSOF(fams), &text), 0);
        assert_string_equal(text,
                            "# TYPE vschedd_events counter\n"
                            "# HELP vschedd_events Trace events by type.\n"
                            "vschedd_events_total{type=\"ipi\"} 18446744073709551615\n"
                            "vschedd_events_total{type=\"eoi\"} 0\n"
                            "# TYPE vschedd_preempted_receiver_share gauge\n"
                            "vschedd_preempted_receiver_share{vm=\"web1\",vcpu=\"0\"} 0.25\n"
                            "# TYPE vschedd_lost_events counter\n"
                            "# HELP vschedd_lost_events Events the kernel dropped.\n"
                            "vschedd_lost_events_total 7\n"
                            "# TYPE vschedd_empty gauge\n"
                            "# HELP vschedd_empty No samples.\n"
                            "# EOF\n");
        free(text);

        /* nothing at all is still a valid exposition */
        assert_int_equal(vs_metrics_format(NULL, 0, &text), 0);
        assert_string_equal(text, "# EOF\n");
        free(text);
}

static void test_escaping(void **state) {
        struct vs_metrics *m = NULL;
        char *text = NULL;
        const struct vs_metric_label hostile[] = {
                { "vm", "evil\"} 1\nvschedd_fake_total 999\n# EOF\n\\" },
        };
        const struct vs_metric_label bad_utf8[] = { { "vm", "a\xff" "b\xc3\xa9" "\xe2\x82" } };

        assert_int_equal(vs_metrics_new(&m), 0);
        assert_int_equal(vs_metrics_family(m, "vschedd_ipis", VS_METRIC_COUNTER, "IPIs \"sent\"\nby VM \\ sender"), 0);
        assert_int_equal(vs_metrics_sample_u64(m, hostile, 1, 3), 0);
        assert_int_equal(vs_metrics_sample_u64(m, bad_utf8, 1, 4), 0);
        assert_int_equal(vs_metrics_finish(m, &text), 0);
        assert_string_equal(text,
                            "# TYPE vschedd_ipis counter\n"
                            "# HELP vschedd_ipis IPIs \\\"sent\\\"\\nby VM \\\\ sender\n"
                            "vschedd_ipis_total{vm=\"evil\\\"} 1\\nvschedd_fake_total 999\\n# EOF\\n\\\\\"} 3\n"
                            "vschedd_ipis_total{vm=\"a\xef\xbf\xbd" "b\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\"} 4\n"
                            "# EOF\n");
        /* the hostile name did not create lines of its own */
        {
                unsigned lines = 0;
                for (const char *p = text; *p; p++)
                        lines += *p == '\n';
                assert_int_equal(lines, 5);
        }
        free(text);
        /* nothing is accepted after finish */
        assert_int_equal(vs_metrics_family(m, "x", VS_METRIC_GAUGE, NULL), -EINVAL);
        assert_int_equal(vs_metrics_finish(m, &text), -EINVAL);
        assert_null(vs_metrics_free(m));
}

static void test_numbers(void **state) {
        struct vs_metrics *m = NULL;
        char *text = NULL;

        assert_int_equal(vs_metrics_new(&m), 0);
        assert_int_equal(vs_metrics_family(m, "g", VS_METRIC_GAUGE, NULL), 0);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, 0.1), 0);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, -2.5), 0);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, 1e300), 0);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, NAN), 0);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, INFINITY), 0);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, -INFINITY), 0);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, 1.0 / 3.0), 0);
        assert_int_equal(vs_metrics_family(m, "c", VS_METRIC_COUNTER, NULL), 0);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, -1), -EINVAL);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, NAN), -EINVAL);
        assert_int_equal(vs_metrics_sample_double(m, NULL, 0, 12.5), 0);
        assert_int_equal(vs_metrics_finish(m, &text), 0);
        assert_string_equal(text,
                            "# TYPE g gauge\n"
                            "g 0.1\n"
                            "g -2.5\n"
                            "g 1e+300\n"
                            "g NaN\n"
                            "g +Inf\n"
                            "g -Inf\n"
                            "g 0.33333333333333331\n"
                            "# TYPE c counter\n"
                            "c_total 12.5\n"
                            "# EOF\n");
        free(text);
        vs_metrics_free(m);
}

static void test_refused(void **state) {
        struct vs_metrics *m = NULL;
        const struct vs_metric_label bad_name[] = { { "1vm", "x" } };
        const struct vs_metric_label reserved[] = { { "__name__", "x" } };
        const struct vs_metric_label dup[] = { { "vm", "x" }, { "vm", "y" } };
        const struct vs_metric_label null_value[] = { { "vm", NULL } };
        const struct vs_metric_label ok[] = { { "vm", "x" } };

        assert_int_equal(vs_metrics_new(&m), 0);
        /* a sample before any family */
        assert_int_equal(vs_metrics_sample_u64(m, NULL, 0, 1), -EINVAL);
        assert_int_equal(vs_metrics_family(m, "", VS_METRIC_GAUGE, NULL), -EINVAL);
        assert_int_equal(vs_metrics_family(m, "9lives", VS_METRIC_GAUGE, NULL), -EINVAL);
        assert_int_equal(vs_metrics_family(m, "has space", VS_METRIC_GAUGE, NULL), -EINVAL);
        assert_int_equal(vs_metrics_family(m, "has\"quote", VS_METRIC_GAUGE, NULL), -EINVAL);
        assert_int_equal(vs_metrics_family(m, "x_total", VS_METRIC_COUNTER, NULL), -EINVAL);
        assert_int_equal(vs_metrics_family(m, "x", 7, NULL), -EINVAL);
        assert_int_equal(vs_metrics_family(m, "ns:x_total", VS_METRIC_GAUGE, NULL), 0);
        assert_int_equal(vs_metrics_sample_u64(m, bad_name, 1, 1), -EINVAL);
        assert_int_equal(vs_metrics_sample_u64(m, reserved, 1, 1), -EINVAL);
        assert_int_equal(vs_metrics_sample_u64(m, dup, 2, 1), -EINVAL);
        assert_int_equal(vs_metrics_sample_u64(m, null_value, 1, 1), -EINVAL);
        assert_int_equal(vs_metrics_sample_u64(m, NULL, 1, 1), -EINVAL);
        assert_int_equal(vs_metrics_sample_u64(m, ok, 1, 1), 0);
        assert_int_equal(vs_metrics_family(m, "ns:x_total", VS_METRIC_GAUGE, NULL), -EEXIST);
        vs_metrics_free(m);
        assert_null(vs_metrics_free(NULL));
}

/* A histogram family: cumulative buckets, +Inf, count and sum; and the
 * latency accumulator behind vschedd_decision_latency_seconds. */
static void test_histogram(void **state) {
        const double bounds[] = { 0.0005, 0.001, 0.25 };
        const uint64_t counts[] = { 3, 0, 2, 1 };
        const double bad[] = { 0.001, 0.001 };
        struct vs_metrics *m = NULL;
        struct vs_lat_hist h = {};
        char *text = NULL;

        (void) state;
        assert_int_equal(vs_metrics_new(&m), 0);
        assert_int_equal(vs_metrics_histogram(m, "lat_seconds", "How long", bounds, counts, 3, 1.5), 0);
        assert_int_equal(vs_metrics_histogram(m, "lat_seconds", NULL, bounds, counts, 3, 1.5), -EEXIST);
        assert_int_equal(vs_metrics_histogram(m, "other", NULL, bad, counts, 2, 0), -EINVAL);
        assert_int_equal(vs_metrics_histogram(m, "other", NULL, bounds, counts, 3, -1), -EINVAL);
        /* no plain sample lands in a histogram */
        assert_int_equal(vs_metrics_sample_u64(m, NULL, 0, 1), -EINVAL);
        assert_int_equal(vs_metrics_finish(m, &text), 0);
        assert_string_equal(text, "# TYPE lat_seconds histogram\n"
                                  "# HELP lat_seconds How long\n"
                                  "lat_seconds_bucket{le=\"0.0005\"} 3\n"
                                  "lat_seconds_bucket{le=\"0.001\"} 3\n"
                                  "lat_seconds_bucket{le=\"0.25\"} 5\n"
                                  "lat_seconds_bucket{le=\"+Inf\"} 6\n"
                                  "lat_seconds_count 6\n"
                                  "lat_seconds_sum 1.5\n"
                                  "# EOF\n");
        free(text);
        vs_metrics_free(m);

        assert_int_equal(vs_lat_hist_percentile(&h, 99), 0);
        for (int i = 0; i < 98; i++)
                vs_lat_hist_add(&h, 40000);     /* <= 50 us */
        vs_lat_hist_add(&h, 1000000);           /* exactly 1 ms: le="0.001" */
        vs_lat_hist_add(&h, 2000000000);        /* above every bound */
        assert_int_equal(h.count, 100);
        assert_int_equal(h.sum_ns, 98 * 40000ull + 1000000 + 2000000000ull);
        assert_int_equal(h.b[0], 98);
        assert_int_equal(h.b[4], 1);
        assert_int_equal(VS_LAT_BOUNDS_NS[4], 1000000);
        assert_int_equal(h.b[VS_LAT_BUCKETS], 1);
        assert_int_equal(vs_lat_hist_percentile(&h, 50), 50000);
        assert_int_equal(vs_lat_hist_percentile(&h, 99), 1000000);
        assert_true(vs_lat_hist_percentile(&h, 100) == UINT64_MAX);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_histogram),
                cmocka_unit_test(test_families),
                cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
