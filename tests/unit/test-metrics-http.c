/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for metrics-http.c: listen addresses accepted and refused (with
 * the bytes of the sockaddr), Accept negotiation with the headers real
 * scrapers send, and the exact text 0.0.4 rendition of metrics.c's output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "metrics-http.h"
#include "metrics.h"

static void test_address_ok(void **state) {
        struct sockaddr_storage ss;
        socklen_t len = 0;
        const struct sockaddr_in *sin = (const struct sockaddr_in *) &ss;
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) &ss;
        const char *why = NULL;
        char buf[INET6_ADDRSTRLEN];

        assert_int_equal(vs_listen_address_parse("127.0.0.1:9641", &ss, &len, &why), 0);
        assert_int_equal(ss.ss_family, AF_INET);
        assert_int_equal(len, sizeof(struct sockaddr_in));
        assert_int_equal(ntohs(sin->sin_port), 9641);
        assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);

        assert_int_equal(vs_listen_address_parse("0.0.0.0:1", &ss, &len, NULL), 0);
        assert_int_equal(ntohs(sin->sin_port), 1);
        assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));

        assert_int_equal(vs_listen_address_parse("[::1]:65535", &ss, &len, NULL), 0);
        assert_int_equal(ss.ss_family, AF_INET6);
        assert_int_equal(len, sizeof(struct sockaddr_in6));
        assert_int_equal(ntohs(sin6->sin6_port), 65535);
        assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));

        assert_int_equal(vs_listen_address_parse("[2001:db8::5]:9641", &ss, &len, NULL), 0);
        assert_string_equal(inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)), "2001:db8::5");

        assert_int_equal(vs_listen_address_parse("[fe80::1%lo]:9641", &ss, &len, NULL), 0);
        assert_int_not_equal(sin6->sin6_scope_id, 0);

        /* validation only */
        assert_int_equal(vs_listen_address_parse("[::]:9641", NULL, NULL, NULL), 0);
}

static void test_address_refused(void **state) {
        static const char *const bad[] = {
                "", "9641", ":9641", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                "127.0.0.1:+80", "127.0.0.1:-1", "127.0.0.1:80x", "127.0.0.1:009641", "127.1:80",
                "localhost:9641", "example.org:80", "::1:9641", "[::1]", "[::1]9641", "[::1:9641",
                "[127.0.0.1]:80", "[fe80::1%nosuchif0]:80", "256.0.0.1:80", " 127.0.0.1:80",
                "127.0.0.1:80 ", "[]:80",
                "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:80",
        };
        struct sockaddr_storage ss = { .ss_family = 12345 };
        socklen_t len = 77;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = NULL;
                int r = vs_listen_address_parse(bad[i], &ss, &len, &why);
                if (r != -EINVAL)
                        fail_msg("'%s' was accepted", bad[i]);
                assert_non_null(why);
                /* outputs untouched on failure */
                assert_int_equal(ss.ss_family, 12345);
                assert_int_equal(len, 77);
        }
        assert_int_equal(vs_listen_address_parse(NULL, NULL, NULL, NULL), -EINVAL);
}

static void test_negotiate(void **state) {
        /* Prometheus 2.42's scrape Accept header */
        assert_int_equal(vs_metrics_negotiate("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                                              "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                         VS_METRICS_OPENMETRICS);
        /* Prometheus with OpenMetrics scraping switched off (older servers) */
        assert_int_equal(vs_metrics_negotiate("text/plain;version=0.0.4;q=1,*/*;q=0.1"), VS_METRICS_TEXT_004);
        assert_int_equal(vs_metrics_negotiate("text/plain"), VS_METRICS_TEXT_004);
        assert_int_equal(vs_metrics_negotiate("TEXT/Plain ; version=\"0.0.4\""), VS_METRICS_TEXT_004);
        assert_int_equal(vs_metrics_negotiate("text/*"), VS_METRICS_TEXT_004);
        /* curl and browsers */
        assert_int_equal(vs_metrics_negotiate(NULL), VS_METRICS_OPENMETRICS);
        assert_int_equal(vs_metrics_negotiate(""), VS_METRICS_OPENMETRICS);
        assert_int_equal(vs_metrics_negotiate("*/*"), VS_METRICS_OPENMETRICS);
        assert_int_equal(vs_metrics_negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                         VS_METRICS_OPENMETRICS);
        /* q values decide; ties go to OpenMetrics */
        assert_int_equal(vs_metrics_negotiate("application/openmetrics-text;q=0.3, text/plain;q=0.7"),
                         VS_METRICS_TEXT_004);
        assert_int_equal(vs_metrics_negotiate("application/openmetrics-text;q=0.7, text/plain;q=0.3"),
                         VS_METRICS_OPENMETRICS);
        assert_int_equal(vs_metrics_negotiate("text/plain, application/openmetrics-text"), VS_METRICS_OPENMETRICS);
        /* a specific range beats the wildcard for its format */
        assert_int_equal(vs_metrics_negotiate("*/*;q=0.9, application/openmetrics-text;q=0"), VS_METRICS_TEXT_004);
        assert_int_equal(vs_metrics_negotiate("text/plain;q=0, */*"), VS_METRICS_OPENMETRICS);
        /* text/plain of another version is not text 0.0.4 */
        assert_int_equal(vs_metrics_negotiate("text/plain;version=1.0.0"), VS_METRICS_OPENMETRICS);
        /* neither acceptable, or garbage: OpenMetrics rather than 406 */
        assert_int_equal(vs_metrics_negotiate("application/json"), VS_METRICS_OPENMETRICS);
        assert_int_equal(vs_metrics_negotiate(",,;;=,text/plain;q=abc"), VS_METRICS_OPENMETRICS);
        assert_int_equal(vs_metrics_negotiate("text/plain;q=2"), VS_METRICS_OPENMETRICS);
}

static void test_text004(void **state) {
        struct vs_metrics *m = NULL;
        struct vs_metric_label vm = { "vm", "we\"b\\1" };
        _cleanup_free_ char *om = NULL, *t = NULL;

        assert_int_equal(vs_metrics_new(&m), 0);
        assert_int_equal(vs_metrics_family(m, "vschedd_events", VS_METRIC_COUNTER, "Events \"seen\" a\\b"), 0);
        assert_int_equal(vs_metrics_sample_u64(m, &vm, 1, 3), 0);
        assert_int_equal(vs_metrics_family(m, "vschedd_share", VS_METRIC_GAUGE, "Share"), 0);
        assert_int_equal(vs_metrics_sample_double(m, &vm, 1, 0.5), 0);
        assert_int_equal(vs_metrics_family(m, "vschedd_lost", VS_METRIC_COUNTER, NULL), 0);
        assert_int_equal(vs_metrics_sample_u64(m, NULL, 0, 0), 0);
        /* a gauge whose name looks like a counter's family */
        assert_int_equal(vs_metrics_family(m, "vschedd_events_rate", VS_METRIC_GAUGE, "Rate"), 0);
        assert_int_equal(vs_metrics_finish(m, &om), 0);
        vs_metrics_free(m);

        assert_int_equal(vs_metrics_to_text004(om, &t), 0);
        assert_string_equal(t,
                            "# TYPE vschedd_events_total counter\n"
                            "# HELP vschedd_events_total Events \"seen\" a\\\\b\n"
                            "vschedd_events_total{vm=\"we\\\"b\\\\1\"} 3\n"
                            "# TYPE vschedd_share gauge\n"
                            "# HELP vschedd_share Share\n"
                            "vschedd_share{vm=\"we\\\"b\\\\1\"} 0.5\n"
                            "# TYPE vschedd_lost_total counter\n"
                            "vschedd_lost_total 0\n"
                            "# TYPE vschedd_events_rate gauge\n"
                            "# HELP vschedd_events_rate Rate\n");
}

static void test_text004_refused(void **state) {
        char *t = NULL;

        assert_int_equal(vs_metrics_to_text004("", &t), -EINVAL);
        assert_int_equal(vs_metrics_to_text004("x 1\n", &t), -EINVAL);
        assert_int_equal(vs_metrics_to_text004("x 1\n# EOF\nx 2\n", &t), -EINVAL);
        assert_int_equal(vs_metrics_to_text004("x 1# EOF\n", &t), -EINVAL);
        assert_null(t);
        assert_int_equal(vs_metrics_to_text004("# EOF\n", &t), 0);
        assert_string_equal(t, "");
        free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_address_ok),
                cmocka_unit_test(test_address_refused),
                cmocka_unit_test(test_negotiate),
                cmocka_unit_test(test_text004),
                cmocka_unit_test(test_text004_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
