/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * analysis-report.c - renders the analysis model (analysis.h) as the replay
 * report: one stable JSON document (schema in man/vschedd.8) or a table.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "event-json.h"
#include "topology.h"
#include "macro.h"

static int cmp_pair(const void *x, const void *y) {
        const struct vs_an_pair *a = *(const struct vs_an_pair *const *) x, *b = *(const struct vs_an_pair *const *) y;

        if (a->ipis != b->ipis)
                return a->ipis < b->ipis ? 1 : -1;
        if (a->src != b->src)
                return a->src - b->src;
        return a->dst - b->dst;
}

/* The VM's IPI edges (pairs with IPIs), most IPIs first. Caller frees. */
static const struct vs_an_pair **sorted_edges(const struct vs_an_vm *vm, unsigned *ret_n) {
        const struct vs_an_pair **e = malloc((vm->n_pairs + 1) * sizeof(*e));
        unsigned n = 0;

        if (!e)
                return NULL;
        for (unsigned i = 0; i < vm->n_pairs; i++)
                if (vm->pairs[i].ipis > 0)
                        e[n++] = &vm->pairs[i];
        qsort(e, n, sizeof(*e), cmp_pair);
        *ret_n = n;
        return e;
}

static struct json_object *u64(uint64_t v) {
        return json_object_new_uint64(v);
}

static struct json_object *us(uint64_t ns) {
        return json_object_new_double((double) ns / 1000.0);
}

/* kvm:kvm_directed_yield (kernel/ patch): totals by reason and the
 * spinner -> target edges, most yields first (edge order = pair order). */
static struct json_object *directed_yields_json(const struct vs_an_vm *vm) {
        struct json_object *o = json_object_new_object(), *by = json_object_new_object();
        struct json_object *edges = json_object_new_array();
        uint64_t tot[_VS_DY_MAX][2] = { { 0 } };

        for (unsigned k = 0; k < vm->n_pairs; k++) {
                const struct vs_an_pair *p = &vm->pairs[k];
                for (unsigned r = 0; r < _VS_DY_MAX; r++) {
                        if (!p->dy[r][0] && !p->dy[r][1])
                                continue;
                        struct json_object *x = json_object_new_object();
                        json_object_object_add(x, "spinner", json_object_new_int(p->src));
                        json_object_object_add(x, "target", json_object_new_int(p->dst));
                        json_object_object_add(x, "reason", json_object_new_string(vs_dy_reason_name(r)));
                        json_object_object_add(x, "yielded", u64(p->dy[r][0]));
                        json_object_object_add(x, "failed", u64(p->dy[r][1]));
                        json_object_array_add(edges, x);
                        tot[r][0] += p->dy[r][0];
                        tot[r][1] += p->dy[r][1];
                }
        }
        for (unsigned r = 0; r < _VS_DY_MAX; r++) {
                struct json_object *x = json_object_new_object();
                json_object_object_add(x, "yielded", u64(tot[r][0]));
                json_object_object_add(x, "failed", u64(tot[r][1]));
                json_object_object_add(by, vs_dy_reason_name(r), x);
        }
        json_object_object_add(o, "by_reason", by);
        json_object_object_add(o, "edges", edges);
        /* the current series: decisions without a target, rejected candidates */
        json_object_object_add(o, "no_target", u64(vm->dy_no_target));
        json_object_object_add(o, "skipped", u64(vm->dy_skipped_total));
        by = json_object_new_object();
        for (unsigned r = 0; r < _VS_DY_MAX; r++)
                json_object_object_add(by, vs_dy_reason_name(r), u64(vm->dy_skipped[r]));
        json_object_object_add(o, "decisions_skipping", by);
        return o;
}

static struct json_object *signals_json(const struct vs_analysis *a) {
        struct json_object *o = json_object_new_object(), *seen = json_object_new_object();
        bool ipi = vs_analysis_seen(a, VS_EV_IPI) > 0, eoi = vs_analysis_seen(a, VS_EV_EOI) > 0;
        bool avic = vs_analysis_seen(a, VS_EV_AVIC_INCOMPLETE_IPI) > 0;
        const char *mode, *why;

        for (int t = 1; t < _VS_EV_MAX; t++)
                json_object_object_add(seen, vs_event_type_name(t), u64(vs_analysis_seen(a, t)));
        json_object_object_add(o, "events", seen);
        if (ipi && eoi) {
                mode = "software-lapic";
                why = "IPIs and EOIs both trap: the full IPI graph and EOI latencies are visible";
        } else if (avic) {
                mode = "avic";
                why = "kvm_avic_incomplete_ipi seen: AMD AVIC, IPIs to running vCPUs are invisible";
        } else if (ipi) {
                mode = "apicv-no-eoi";
                why = "IPIs seen but no EOIs: APICv-style EOI virtualisation, no IPI->EOI latencies";
        } else if (vs_analysis_seen(a, VS_EV_EXIT_PAUSE) || vs_analysis_seen(a, VS_EV_HYPERCALL)) {
                mode = "no-ipi-exits";
                why = "no kvm_apic_ipi: IPI virtualisation (Intel IPIv/AVIC) or none sent; PAUSE exits and PV hypercalls remain";
        } else if (vs_analysis_seen(a, VS_EV_VCPU_ID) && vs_analysis_seen(a, VS_EV_SWITCH)) {
                mode = "preemption-only";
                why = "vCPUs run (kvm_entry) but no IPI, EOI, PAUSE exit or hypercall records: IPI virtualisation "
                      "(Intel IPIv, AMD AVIC) with no pause filter or quiet guests; the policy reads waits from "
                      "stalls (a vCPU preempted or delayed while a sibling runs)";
        } else if (vs_analysis_seen(a, VS_EV_SWITCH)) {
                mode = "scheduler-only";
                why = "only scheduler events: no KVM tracepoints fired (no VM ran, or kvm events not recorded)";
        } else {
                mode = "none";
                why = "no events";
        }
        json_object_object_add(o, "mode", json_object_new_string(mode));
        json_object_object_add(o, "explanation", json_object_new_string(why));
        return o;
}

struct json_object *vs_analysis_report_json(const struct vs_analysis *a) {
        struct json_object *root = json_object_new_object(), *vms = json_object_new_array(), *cpus;

        json_object_object_add(root, "version", json_object_new_int(1));
        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(a, i);
                struct json_object *v = json_object_new_object(), *edges = json_object_new_array();
                struct json_object *vcpus = json_object_new_array(), *osc = json_object_new_array();
                unsigned n = 0, present = 0;
                _cleanup_free_ const struct vs_an_pair **e = sorted_edges(vm, &n);

                for (unsigned k = 0; k < vm->n_vcpus; k++)
                        present += vm->vcpus[k].present;
                json_object_object_add(v, "vm", json_object_new_string(vm->name));
                vs_json_add_grouping(v, vm->inferred, vm->n_maybe_same, vm->maybe_same);
                json_object_object_add(v, "vcpus", json_object_new_int((int) present));
                for (unsigned k = 0; e && k < n; k++) {
                        const struct vs_an_pair *p = e[k];
                        struct json_object *x = json_object_new_object(), *lat = json_object_new_object();
                        json_object_object_add(x, "src", json_object_new_int(p->src));
                        json_object_object_add(x, "dst", json_object_new_int(p->dst));
                        json_object_object_add(x, "count", u64(p->ipis));
                        json_object_object_add(x, "pv", u64(p->ipis_pv));
                        json_object_object_add(x, "preempted", u64(p->at_state[VS_AN_PREEMPTED]));
                        json_object_object_add(x, "woken", u64(p->at_state[VS_AN_WOKEN]));
                        json_object_object_add(x, "blocked", u64(p->at_state[VS_AN_BLOCKED]));
                        json_object_object_add(x, "running", u64(p->at_state[VS_AN_RUNNING]));
                        json_object_object_add(x, "preempted_share",
                                               json_object_new_double(p->ipis ? (double) vs_an_pair_not_running(p) / p->ipis : 0));
                        json_object_object_add(x, "rate_per_s",
                                               json_object_new_double(vs_analysis_pair_rate(a, p, vs_analysis_last_ts(a))));
                        json_object_object_add(x, "eoi_matched", u64(p->eoi_matched));
                        json_object_object_add(x, "expired", u64(p->expired));
                        json_object_object_add(lat, "p50", us(vs_hist_percentile(&p->lat, 50)));
                        json_object_object_add(lat, "p90", us(vs_hist_percentile(&p->lat, 90)));
                        json_object_object_add(lat, "p99", us(vs_hist_percentile(&p->lat, 99)));
                        json_object_object_add(lat, "mean",
                                               us(p->eoi_matched ? p->lat_sum_ns / p->eoi_matched : 0));
                        json_object_object_add(lat, "max", us(p->lat_max_ns));
                        json_object_object_add(x, "eoi_latency_us", lat);
                        json_object_array_add(edges, x);
                }
                json_object_object_add(v, "edges", edges);
                json_object_object_add(v, "multicast", u64(vm->multicast));
                json_object_object_add(v, "unresolved", u64(vm->unresolved));
                for (unsigned k = 0; k < vm->n_vcpus; k++) {
                        const struct vs_an_vcpu *c = &vm->vcpus[k];
                        if (!c->present)
                                continue;
                        struct json_object *x = json_object_new_object();
                        json_object_object_add(x, "vcpu", json_object_new_int((int) k));
                        json_object_object_add(x, "tid", c->tid > 0 ? json_object_new_int(c->tid) : NULL);
                        json_object_object_add(x, "preempted_ns", u64(c->preempted_ns));
                        json_object_object_add(x, "preemptions", u64(c->preemptions));
                        json_object_object_add(x, "waiting_ns", u64(c->waiting_ns));
                        /* CPU ready: runnable without a CPU (preempted or woken) */
                        json_object_object_add(x, "run_delay_ns", u64(c->preempted_ns + c->waiting_ns));
                        json_object_object_add(x, "ipis_out", u64(c->ipis_out));
                        json_object_object_add(x, "ipis_in", u64(c->ipis_in));
                        json_object_object_add(x, "multicast_out", u64(c->multicast_out));
                        json_object_object_add(x, "pause_exits", u64(c->pause_exits));
                        json_object_object_add(x, "ple_grows", u64(c->ple_grows));
                        json_object_object_add(x, "yields", u64(c->yields_out));
                        json_object_object_add(x, "yields_in", u64(c->yields_in));
                        json_object_object_add(x, "cause_ns", u64(c->cause_ns));
                        json_object_object_add(x, "waste_ns", u64(c->waste_ns));
                        json_object_object_add(x, "stalled_ns", u64(c->stalled_ns));
                        json_object_array_add(vcpus, x);
                }
                json_object_object_add(v, "vcpu", vcpus);
                for (unsigned k = 0; k < vm->n_pairs; k++) {
                        const struct vs_an_pair *p = &vm->pairs[k];
                        if (!p->oscillations)
                                continue;
                        struct json_object *x = json_object_new_object();
                        json_object_object_add(x, "a", json_object_new_int(p->src));
                        json_object_object_add(x, "b", json_object_new_int(p->dst));
                        json_object_object_add(x, "count", u64(p->oscillations));
                        json_object_array_add(osc, x);
                }
                json_object_object_add(v, "oscillating_pairs", osc);
                json_object_object_add(v, "stalled_ns", u64(vm->stalled_ns));
                json_object_object_add(v, "stalls", u64(vm->stalls));
                json_object_object_add(v, "directed_yields", directed_yields_json(vm));
                json_object_array_add(vms, v);
        }
        json_object_object_add(root, "vms", vms);
        cpus = json_object_new_array();
        /* only the CPUs a vCPU thread waited on: CPU numbers are sparse (a
         * VM pinned to CPUs 64-71, or one hostile "[65535]" in a trace) */
        for (unsigned c = 0; c < vs_analysis_n_cpus(a); c++) {
                const struct vs_an_cpu *ac = vs_analysis_cpu(a, c);
                if (!ac || !ac->queued)
                        continue;
                struct json_object *x = json_object_new_object();
                json_object_object_add(x, "cpu", json_object_new_int((int) c));
                json_object_object_add(x, "runqueue_depth", json_object_new_double(vs_analysis_cpu_depth(a, c)));
                json_object_array_add(cpus, x);
        }
        json_object_object_add(root, "cpus", cpus);
        json_object_object_add(root, "signals", signals_json(a));
        return root;
}

static void fmt_us(char *buf, size_t len, uint64_t ns) {
        if (ns >= 10000000)
                snprintf(buf, len, "%.0fms", ns / 1e6);
        else if (ns >= 1000000)
                snprintf(buf, len, "%.1fms", ns / 1e6);
        else
                snprintf(buf, len, "%.0fus", ns / 1e3);
}

void vs_analysis_report_print(const struct vs_analysis *a, FILE *f) {
        struct json_object *sig = signals_json(a), *mode, *why;

        json_object_object_get_ex(sig, "mode", &mode);
        json_object_object_get_ex(sig, "explanation", &why);
        fprintf(f, "signal mode: %s (%s)\n", json_object_get_string(mode), json_object_get_string(why));
        json_object_put(sig);

        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(a, i);
                unsigned n = 0, present = 0;
                _cleanup_free_ const struct vs_an_pair **e = sorted_edges(vm, &n);

                for (unsigned k = 0; k < vm->n_vcpus; k++)
                        present += vm->vcpus[k].present;
                char esc[VS_VM_NAME_MAX * 4], note[512];
                fprintf(f, "\nVM %s: %u vCPUs%s%s%s, %" PRIu64 " multicast IPIs, %" PRIu64 " unresolved\n",
                        vs_escape(vm->name, esc, sizeof(esc)), present, vm->inferred ? " (" : "",
                        vs_grouping_note(vm->inferred, vm->n_maybe_same, vm->maybe_same, note, sizeof(note)),
                        vm->inferred ? ")" : "", vm->multicast, vm->unresolved);
                if (n) {
                        fprintf(f, "  %-10s %8s %10s %8s %8s %8s %8s\n", "edge", "IPIs", "notrunning", "EOI p50",
                                "p90", "p99", "expired");
                        for (unsigned k = 0; e && k < n; k++) {
                                const struct vs_an_pair *p = e[k];
                                char edge[32], p50[16], p90[16], p99[16], share[16];
                                snprintf(edge, sizeof(edge), "%u->%u%s", p->src, p->dst, p->ipis_pv ? " pv" : "");
                                snprintf(share, sizeof(share), "%.0f%%", 100.0 * vs_an_pair_not_running(p) / p->ipis);
                                fmt_us(p50, sizeof(p50), vs_hist_percentile(&p->lat, 50));
                                fmt_us(p90, sizeof(p90), vs_hist_percentile(&p->lat, 90));
                                fmt_us(p99, sizeof(p99), vs_hist_percentile(&p->lat, 99));
                                fprintf(f, "  %-10s %8" PRIu64 " %10s %8s %8s %8s %8" PRIu32 "\n", edge, p->ipis, share,
                                        p->eoi_matched ? p50 : "-", p->eoi_matched ? p90 : "-",
                                        p->eoi_matched ? p99 : "-", p->expired);
                        }
                }
                fprintf(f, "  %-6s %11s %6s %9s %6s %6s %6s %7s %10s %10s\n", "vcpu", "preempted", "times", "ready",
                        "PAUSE", "yields", "y-in", "IPIs-in", "cause", "waste");
                for (unsigned k = 0; k < vm->n_vcpus; k++) {
                        const struct vs_an_vcpu *c = &vm->vcpus[k];
                        char pre[16], ready[16], cause[16], waste[16];
                        if (!c->present)
                                continue;
                        fmt_us(pre, sizeof(pre), c->preempted_ns);
                        fmt_us(ready, sizeof(ready), c->preempted_ns + c->waiting_ns);
                        fmt_us(cause, sizeof(cause), c->cause_ns);
                        fmt_us(waste, sizeof(waste), c->waste_ns);
                        fprintf(f, "  %-6u %11s %6" PRIu64 " %9s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %7" PRIu64
                                   " %10s %10s\n",
                                k, pre, c->preemptions, ready, c->pause_exits, c->yields_out, c->yields_in, c->ipis_in,
                                cause, waste);
                }
                for (unsigned k = 0; k < vm->n_pairs; k++)
                        if (vm->pairs[k].oscillations)
                                fprintf(f, "  oscillating yields %u<->%u: %" PRIu32 "\n", vm->pairs[k].src,
                                        vm->pairs[k].dst, vm->pairs[k].oscillations);
                for (unsigned k = 0; k < vm->n_pairs; k++)
                        for (unsigned r = 0; r < _VS_DY_MAX; r++)
                                if (vm->pairs[k].dy[r][0] || vm->pairs[k].dy[r][1])
                                        fprintf(f, "  directed yields %u->%u %-5s: %" PRIu32 " yielded, %" PRIu32
                                                   " failed\n",
                                                vm->pairs[k].src, vm->pairs[k].dst, vs_dy_reason_name(r),
                                                vm->pairs[k].dy[r][0], vm->pairs[k].dy[r][1]);
        }
        if (vs_analysis_n_cpus(a)) {
                fprintf(f, "\nrun-queue depth (waiting vCPU threads, time average):");
                for (unsigned c = 0; c < vs_analysis_n_cpus(a); c++) {
                        const struct vs_an_cpu *ac = vs_analysis_cpu(a, c);
                        if (ac && ac->queued)
                                fprintf(f, " cpu%u=%.2f", c, vs_analysis_cpu_depth(a, c));
                }
                fprintf(f, "\n");
        }
}
