/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for pipeline.c: which models it keeps, the trace-time policy
 * epochs and their gap rule, the epoch cap, and that the whole path runs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"
#include "policy.h"

#define MS 1000000ull

static struct vs_config cfg;

static int setup(void **state) {
        assert_int_equal(vs_config_init(&cfg), 0);
        cfg.epoch_ms = 10;
        cfg.evaluate_ms = VS_POLICY_IDLE_EPOCH_MS;     /* no VM: the idle cadence */
        return 0;
}

static int teardown(void **state) {
        vs_config_done(&cfg);
        return 0;
}

static void feed(struct vs_pipeline *p, uint64_t ts) {
        struct vs_event ev = { .ts_ns = ts, .tid = 0, .cpu = 0, .type = VS_EV_SWITCH,
                               .sw = { .prev_tid = 0, .next_tid = 7, .prev_state = 0 } };

        assert_int_equal(vs_pipeline_event(p, &ev), 0);
}

static void test_models_as_asked(void **state) {
        struct vs_pipeline_options o = { .cfg = &cfg };
        struct vs_pipeline *p = NULL;

        assert_int_equal(vs_pipeline_new(&o, &p), 0);
        assert_non_null(vs_pipeline_topology(p));
        assert_non_null(vs_pipeline_summary(p));
        assert_null(vs_pipeline_analysis(p));
        assert_null(vs_pipeline_timeline(p));
        feed(p, 1 * MS);
        feed(p, 500 * MS);
        assert_null(vs_pipeline_policy(p));
        assert_int_equal(vs_pipeline_epochs(p), 0);
        vs_pipeline_free(p);

        o.policy = true;                /* implies the analysis */
        o.timeline = true;
        o.tl_len_ns = 50 * MS;
        assert_int_equal(vs_pipeline_new(&o, &p), 0);
        assert_non_null(vs_pipeline_analysis(p));
        assert_non_null(vs_pipeline_timeline(p));
        vs_pipeline_free(p);

        o.cfg = NULL;                   /* a policy needs a configuration */
        assert_int_equal(vs_pipeline_new(&o, &p), -EINVAL);
}

static void test_epochs_and_gap_rule(void **state) {
        struct vs_pipeline_options o = { .cfg = &cfg, .policy = true };
        struct vs_pipeline *p = NULL;
        /* no VM in these events: the policy knows none, its epochs come
         * evaluate_ms apart, the idle epoch here (setup) */
        const uint64_t idle = VS_POLICY_IDLE_EPOCH_MS * MS;

        assert_int_equal(vs_pipeline_new(&o, &p), 0);
        feed(p, 100 * MS);              /* starts the clock: next epoch at 110 */
        assert_non_null(vs_pipeline_policy(p));
        assert_int_equal(vs_pipeline_epochs(p), 0);
        feed(p, 105 * MS);
        assert_int_equal(vs_pipeline_epochs(p), 0);
        feed(p, 110 * MS);              /* boundary reached: one; then idle epochs */
        assert_int_equal(vs_pipeline_epochs(p), 1);
        feed(p, 110 * MS + idle - 1);
        assert_int_equal(vs_pipeline_epochs(p), 1);
        feed(p, 110 * MS + 3 * idle + 5 * MS);  /* 1, 2 and 3 idle epochs later */
        assert_int_equal(vs_pipeline_epochs(p), 4);
        /* exactly 100 epoch_ms late (the gap rule's limit): every idle epoch up to it runs */
        uint64_t next = 110 * MS + 4 * idle;
        feed(p, next + 100 * 10 * MS);
        assert_int_equal(vs_pipeline_epochs(p), 4 + 1 + 100 * 10 * MS / idle);
        unsigned n = (unsigned) vs_pipeline_epochs(p);
        feed(p, 60000 * MS);            /* a minute's gap: one epoch at its end */
        assert_int_equal(vs_pipeline_epochs(p), n + 1);
        feed(p, 60000 * MS + idle);     /* and on from there */
        assert_int_equal(vs_pipeline_epochs(p), n + 2);
        assert_int_equal(vs_pipeline_release(p, 60000 * MS + idle), 0);
        vs_pipeline_free(p);
}

static void test_epoch_cap(void **state) {
        struct vs_pipeline_options o = { .cfg = &cfg, .policy = true, .max_epochs = 3 };
        struct vs_pipeline *p = NULL;

        assert_int_equal(vs_pipeline_new(&o, &p), 0);
        feed(p, 0);
        feed(p, 500 * MS);
        assert_int_equal(vs_pipeline_epochs(p), 3);
        feed(p, 900 * MS);
        assert_int_equal(vs_pipeline_epochs(p), 3);
        vs_pipeline_free(p);
}

/* The CPUs the first pass saw size the policy; events go through every model. */
static void test_learn_then_replay(void **state) {
        struct vs_pipeline_options o = { .cfg = &cfg, .policy = true, .analysis = true };
        struct vs_pipeline *p = NULL;
        struct vs_event ev = { .ts_ns = MS, .tid = 0, .cpu = 5, .type = VS_EV_SWITCH,
                               .sw = { .prev_tid = 0, .next_tid = 7 } };

        assert_int_equal(vs_pipeline_new(&o, &p), 0);
        assert_int_equal(vs_pipeline_learn(p, &ev), 0);
        assert_int_equal(vs_analysis_last_ts(vs_pipeline_analysis(p)), 0);     /* learning is topology only */
        assert_int_equal(vs_pipeline_event(p, &ev), 0);
        assert_int_equal(vs_analysis_last_ts(vs_pipeline_analysis(p)), MS);
        vs_pipeline_finish(p);
        vs_pipeline_finish(p);          /* once is enough, twice is harmless */
        assert_int_equal(vs_pipeline_decisions(p), 0);
        vs_pipeline_free(p);
}

/* A VMM that exits leaves no trace in any model the pipeline owns. */
static void test_forget_tgid(void **state) {
        struct vs_pipeline_options o = { .cfg = &cfg, .policy = true };
        struct vs_pipeline *p = NULL;
        char name[64];

        assert_int_equal(vs_pipeline_new(&o, &p), 0);
        for (int32_t vm = 0; vm < 2; vm++)
                for (int32_t k = 0; k < 2; k++) {
                        char comm[16];
                        snprintf(comm, sizeof(comm), "CPU %d/KVM", k);
                        struct vs_thread_info ti = { .tid = 101 + 100 * vm + k, .tgid = 100 + 100 * vm, .comm = comm,
                                                     .apic_id = k, .vm_name = vm ? "b" : "a" };
                        assert_int_equal(vs_topology_learn_thread(vs_pipeline_topology(p), &ti), 0);
                }
        for (uint64_t t = 1; t < 50; t++) {
                struct vs_event ev = { .ts_ns = t * MS, .cpu = 0, .type = VS_EV_SWITCH,
                                       .sw = { .prev_tid = 101 + 100 * (int32_t) (t % 2), .prev_state = 1,
                                               .next_tid = 101 + 100 * (int32_t) ((t + 1) % 2) } };
                ev.tid = ev.sw.prev_tid;
                assert_int_equal(vs_pipeline_event(p, &ev), 0);
        }
        assert_int_equal(vs_analysis_n_vms(vs_pipeline_analysis(p)), 2);

        assert_int_equal(vs_pipeline_forget_tgid(p, 100, name, sizeof(name)), 1);
        assert_string_equal(name, "a");
        assert_int_equal(vs_pipeline_forget_tgid(p, 100, name, sizeof(name)), 0);
        assert_string_equal(name, "");
        assert_int_equal(vs_topology_n_vms(vs_pipeline_topology(p)), 1);
        assert_null(vs_topology_thread(vs_pipeline_topology(p), 101));
        assert_int_equal(vs_analysis_n_vms(vs_pipeline_analysis(p)), 1);
        assert_null(vs_analysis_vm_by_name(vs_pipeline_analysis(p), "a"));
        assert_null(vs_policy_baseline(vs_pipeline_policy(p), "a", -1, VS_KNOB_WEIGHT));
        struct json_object *j = vs_summary_json(vs_pipeline_summary(p), vs_pipeline_topology(p), NULL);
        assert_null(strstr(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), "\"vm\":\"a\""));
        assert_non_null(strstr(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), "\"vm\":\"b\""));
        json_object_put(j);
        vs_pipeline_free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_models_as_asked),
                cmocka_unit_test(test_epochs_and_gap_rule),
                cmocka_unit_test(test_epoch_cap),
                cmocka_unit_test(test_learn_then_replay),
                cmocka_unit_test(test_forget_tgid),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
