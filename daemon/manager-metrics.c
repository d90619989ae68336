/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-metrics.c - the OpenMetrics families (vschedctl metrics and the
 * [metrics] HTTP listener) from queries on the manager's model, the
 * listener's life cycle, and the event loop's latency bookkeeping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "mono-clock.h"

/* Event loop latency: how late the epoch timer fires (its 0.5 ms accuracy
 * included), as a sum and count plus the worst over the last 10-20 s. */
void manager_note_loop_latency(struct manager *m, sd_event_source *s, uint64_t scheduled) {
        uint64_t now, late;

        if (sd_event_now(sd_event_source_get_event(s), CLOCK_MONOTONIC, &now) < 0)
                return;
        late = now > scheduled ? now - scheduled : 0;
        m->loop_wakeups++;
        m->loop_late_usec += late;
        if (now - m->loop_window_start >= 10 * 1000 * 1000) {
                m->loop_late_max[1] = m->loop_late_max[0];
                m->loop_late_max[0] = 0;
                m->loop_window_start = now;
        }
        if (late > m->loop_late_max[0])
                m->loop_late_max[0] = late;
}

const struct vs_run_delay *manager_run_delay(struct manager *m) {
        struct vs_analysis *an = vs_pipeline_analysis(m->pipe);
        uint64_t now = vs_mono_ns() / 1000;
        struct vs_run_delay rd;
        int r = -EOPNOTSUPP;

        if (m->run_delay_usec && now - m->run_delay_usec < (uint64_t) m->cfg.epoch_ms * 1000)
                return &m->run_delay;
        if (m->opts->mode == MODE_LIVE && !m->no_schedstat) {
                r = vs_run_delay_from_schedstat(vs_pipeline_topology(m->pipe), "/proc", &rd);
                if (r >= 0 && rd.n_rows == 0 && rd.unsupported > 0) {
                        log_warning("run delay: this kernel has no /proc/PID/task/TID/schedstat (CONFIG_SCHED_INFO); "
                                    "CPU ready comes from the traced sched events instead");
                        m->no_schedstat = true;
                        vs_run_delay_done(&rd);
                        r = -EOPNOTSUPP;
                }
        }
        if (r < 0)
                r = vs_run_delay_from_trace(an, m->opts->mode == MODE_LIVE ? manager_trace_now(m)
                                                                           : vs_analysis_last_ts(an), &rd);
        if (r < 0) {
                log_warning_errno(r, "run delay: cannot build the table, keeping the last one: %m");
                return &m->run_delay;
        }
        vs_run_delay_done(&m->run_delay);
        m->run_delay = rd;
        m->run_delay_usec = now;
        return &m->run_delay;
}

int manager_metrics_render(void *ud, char **ret_text) {
        struct manager *mgr = ud;
        struct vs_analysis *an = vs_pipeline_analysis(mgr->pipe);
        struct vs_metrics *m = NULL;
        const struct vs_source_stats *st = mgr->src ? vs_source_get_stats(mgr->src) : NULL;
        struct enforcer_stats es = {};
        struct control_stats cs = {};
        int r = vs_metrics_new(&m);

        if (r < 0)
                return r;
        if (mgr->enf)
                enforcer_get_stats(mgr->enf, &es);
        if (mgr->ctl)
                control_get_stats(mgr->ctl, &cs);
        vs_metrics_family(m, "vschedd_events", VS_METRIC_COUNTER, "Normalised events by type");
        for (int t = 1; t < _VS_EV_MAX; t++) {
                struct vs_metric_label l = { "type", vs_event_type_name(t) };
                vs_metrics_sample_u64(m, &l, 1, vs_analysis_seen(an, t));
        }
        vs_metrics_family(m, "vschedd_lost_events", VS_METRIC_COUNTER, "Events the kernel dropped (ring buffer overruns)");
        vs_metrics_sample_u64(m, NULL, 0, st ? st->lost : 0);
        vs_metrics_family(m, "vschedd_malformed_records", VS_METRIC_COUNTER, "Records that could not be decoded");
        vs_metrics_sample_u64(m, NULL, 0, st ? st->malformed : 0);
        vs_metrics_family(m, "vschedd_vm_ipis", VS_METRIC_COUNTER, "Unicast IPIs between vCPUs, per VM");
        for (unsigned i = 0; i < vs_analysis_n_vms(an); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(an, i);
                uint64_t n = 0;
                for (unsigned p = 0; p < vm->n_pairs; p++)
                        n += vm->pairs[p].ipis;
                struct vs_metric_label l = { "vm", vm->name };
                vs_metrics_sample_u64(m, &l, 1, n);
        }
        vs_metrics_family(m, "vschedd_vm_preempted_receiver_share", VS_METRIC_GAUGE,
                          "Share of a VM's IPIs sent to a vCPU that was not running");
        for (unsigned i = 0; i < vs_analysis_n_vms(an); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(an, i);
                uint64_t n = 0, nr = 0;
                for (unsigned p = 0; p < vm->n_pairs; p++) {
                        n += vm->pairs[p].ipis;
                        nr += vs_an_pair_not_running(&vm->pairs[p]);
                }
                struct vs_metric_label l = { "vm", vm->name };
                vs_metrics_sample_double(m, &l, 1, n ? (double) nr / n : 0);
        }
        {
                const struct vs_run_delay *rd = manager_run_delay(mgr);
                char idx[16];

                vs_metrics_family(m, "vschedd_vm_run_delay_seconds", VS_METRIC_COUNTER,
                                  "CPU ready: time the VM's vCPU threads were runnable but waiting for a host CPU, "
                                  "summed over its vCPUs (the guests' steal time)");
                for (size_t i = 0; i < rd->n_rows; i++) {
                        uint64_t total;
                        if (i > 0 && strcmp(rd->rows[i - 1].vm, rd->rows[i].vm) == 0)
                                continue;
                        (void) vs_run_delay_vm_total(rd, rd->rows[i].vm, &total);
                        struct vs_metric_label l = { "vm", rd->rows[i].vm };
                        vs_metrics_sample_double(m, &l, 1, total / 1e9);
                }
                vs_metrics_family(m, "vschedd_vcpu_run_delay_seconds", VS_METRIC_COUNTER,
                                  "CPU ready: time a vCPU thread was runnable but waiting for a host CPU "
                                  "(the guest's steal time)");
                for (size_t i = 0; i < rd->n_rows; i++) {
                        snprintf(idx, sizeof(idx), "%d", (int) rd->rows[i].vcpu);
                        struct vs_metric_label l[2] = { { "vm", rd->rows[i].vm }, { "vcpu", idx } };
                        vs_metrics_sample_double(m, l, 2, rd->rows[i].run_delay_ns / 1e9);
                }
        }
        vs_metrics_family(m, "vschedd_decisions", VS_METRIC_COUNTER, "Policy decisions");
        vs_metrics_sample_u64(m, NULL, 0, es.decisions);
        vs_metrics_family(m, "vschedd_cgroup_writes", VS_METRIC_COUNTER, "cgroup values written");
        vs_metrics_sample_u64(m, NULL, 0, es.writes);
        vs_metrics_family(m, "vschedd_cgroup_write_errors", VS_METRIC_COUNTER, "cgroup writes that failed");
        vs_metrics_sample_u64(m, NULL, 0, es.write_errors);
        vs_metrics_family(m, "vschedd_external_changes", VS_METRIC_COUNTER, "Values someone else changed (adopted)");
        vs_metrics_sample_u64(m, NULL, 0, es.external);
        vs_metrics_family(m, "vschedd_adjusted_values", VS_METRIC_GAUGE, "cgroup values currently changed by vschedd");
        vs_metrics_sample_u64(m, NULL, 0, es.journalled);
        double bounds[VS_LAT_BUCKETS];
        for (unsigned i = 0; i < VS_LAT_BUCKETS; i++)
                bounds[i] = VS_LAT_BOUNDS_NS[i] / 1e9;
        vs_metrics_histogram(m, "vschedd_decision_latency_seconds",
                             "From the newest trace event read before a policy epoch (CLOCK_MONOTONIC) to the "
                             "return of each cgroup write that epoch made",
                             bounds, es.latency.b, VS_LAT_BUCKETS, es.latency.sum_ns / 1e9);
        vs_metrics_family(m, "vschedd_control_requests", VS_METRIC_COUNTER, "Control socket requests served");
        vs_metrics_sample_u64(m, NULL, 0, cs.requests);
        vs_metrics_family(m, "vschedd_control_refused", VS_METRIC_COUNTER, "Control socket peers refused");
        vs_metrics_sample_u64(m, NULL, 0, cs.refused_unauth + cs.refused_limit);
        vs_metrics_family(m, "vschedd_loop_latency_seconds", VS_METRIC_COUNTER,
                          "Sum of how late the policy epoch timer fired (event loop latency)");
        vs_metrics_sample_double(m, NULL, 0, mgr->loop_late_usec / 1e6);
        vs_metrics_family(m, "vschedd_loop_wakeups", VS_METRIC_COUNTER, "Policy epoch timer firings");
        vs_metrics_sample_u64(m, NULL, 0, mgr->loop_wakeups);
        vs_metrics_family(m, "vschedd_loop_latency_max_seconds", VS_METRIC_GAUGE,
                          "Worst epoch timer lateness over the last 10 to 20 seconds");
        vs_metrics_sample_double(m, NULL, 0, (mgr->loop_late_max[0] > mgr->loop_late_max[1] ? mgr->loop_late_max[0]
                                                                                         : mgr->loop_late_max[1]) / 1e6);
        {
                struct metrics_server_stats hs = {};
                struct vs_metric_label ok = { "result", "served" }, bad = { "result", "refused" };
                metrics_server_get_stats(mgr->http, &hs);
                vs_metrics_family(m, "vschedd_http_requests", VS_METRIC_COUNTER,
                                  "Requests to the metrics HTTP listener");
                vs_metrics_sample_u64(m, &ok, 1, hs.served);
                vs_metrics_sample_u64(m, &bad, 1, hs.refused);
        }
        r = vs_metrics_finish(m, ret_text);
        vs_metrics_free(m);
        return r;
}

static void http_log(void *ud, int priority, const char *message) {
        vs_log(priority, 0, NULL, "%s", message);
}

/* [metrics] listen: start, move or stop the HTTP listener (at start and
 * after a reload).  A failed bind keeps the listener that runs, or at start
 * runs without one: metrics must not stop scheduling. */
void manager_metrics_listener_apply(struct manager *m) {
        const char *want = m->cfg.metrics_listen ? m->cfg.metrics_listen : "";
        struct metrics_server *n = NULL;
        int r;

        if (!m->event || (m->http && strcmp(metrics_server_address(m->http), want) == 0))
                return;
        if (!want[0]) {
                if (m->http)
                        log_info("metrics: HTTP listener on %s stopped", metrics_server_address(m->http));
                m->http = metrics_server_free(m->http);
                return;
        }
        r = metrics_server_new(m->event, want, manager_metrics_render, http_log, m, &n);
        if (r == -EADDRINUSE && m->http) {
                /* the new address overlaps the old one (same port, wider
                 * address): let go of the old first, take it back on failure */
                _cleanup_free_ char *old = strdup(metrics_server_address(m->http));
                m->http = metrics_server_free(m->http);
                r = metrics_server_new(m->event, want, manager_metrics_render, http_log, m, &n);
                if (r < 0 && old && metrics_server_new(m->event, old, manager_metrics_render, http_log, m, &m->http) < 0)
                        log_error("metrics: cannot listen on %s again either; no HTTP listener now", old);
        }
        if (r < 0) {
                if (m->http)
                        log_error_errno(r, "metrics: cannot listen on %s, keeping the listener on %s: %m", want,
                                        metrics_server_address(m->http));
                else
                        log_error_errno(r, "metrics: cannot listen on %s, continuing without an HTTP listener: %m",
                                        want);
                return;
        }
        m->http = metrics_server_free(m->http);
        m->http = n;
        log_info("metrics: serving http://%s/metrics", want);
}
