/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-ctl.c - the control socket's commands (status, vms, vm, vm set,
 * reload, metrics, top; protocol in lib/ctl-proto.h) answered from queries
 * on the manager's model: the analysis report, the enforcer's or the
 * dry-run policy's values, the configuration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "irq-virt.h"
#include "kvm-dy.h"
#include "kvm-hook.h"
#include "log.h"
#include "manager.h"
#include "overrides.h"

/* A run delay in ns as JSON, null when there is none. */
static struct json_object *run_delay_json(bool known, uint64_t ns) {
        return known ? json_object_new_uint64(ns) : NULL;
}

/* CPU ready of VM @name (the sum over its vCPUs) into @o; with @vcpus (the
 * report's per-vCPU objects), each vCPU's own, replacing the trace's figure
 * when the table comes from schedstat. */
static void add_run_delay(struct manager *m, const char *name, struct json_object *o, struct json_object *vcpus) {
        const struct vs_run_delay *rd = manager_run_delay(m);
        uint64_t total;
        size_t n = vs_run_delay_vm_total(rd, name, &total);

        json_object_object_add(o, "run_delay_ns", run_delay_json(n > 0, total));
        for (size_t i = 0; vcpus && i < json_object_array_length(vcpus); i++) {
                struct json_object *v = json_object_array_get_idx(vcpus, i), *x;
                if (!json_object_object_get_ex(v, "vcpu", &x))
                        continue;
                const struct vs_run_delay_row *row = vs_run_delay_find(rd, name, json_object_get_int(x));
                json_object_object_add(v, "run_delay_ns", run_delay_json(row, row ? row->run_delay_ns : 0));
        }
}

static struct json_object *vm_object(struct manager *m, struct json_object *rvm, bool full) {
        struct json_object *o = json_object_new_object(), *x, *edges, *adj = json_object_new_array();
        const char *name = json_object_object_get_ex(rvm, "vm", &x) ? json_object_get_string(x) : "";
        struct vs_vm_policy vp;
        int vcpus = json_object_object_get_ex(rvm, "vcpus", &x) ? json_object_get_int(x) : 0;

        vs_config_vm(&m->cfg, name, &vp);
        json_object_object_add(o, "vm", json_object_new_string(name));
        json_object_object_add(o, "vcpus", json_object_new_int(vcpus));
        json_object_object_add(o, "mode", json_object_new_string(vs_mode_name(vp.mode)));
        json_object_object_add(o, "weight_min", json_object_new_int((int) vp.weight_min));
        json_object_object_add(o, "weight_max", json_object_new_int((int) vp.weight_max));
        json_object_object_add(o, "idle", vp.idle < 0 ? NULL : json_object_new_boolean(vp.idle));
        json_object_object_add(o, "priority", json_object_new_string(vs_priority_name(vp.priority)));
        {
                /* the companion kernel series' directed yield for this VM (directed_yield) */
                int err = 0, s = enforcer_vm_directed_yield(m->enf, name, &err);
                json_object_object_add(o, "directed_yield", json_object_new_string(vs_kvm_dy_state_name(s)));
                if (s == VS_KVM_DY_FAILED)
                        json_object_object_add(o, "directed_yield_error", json_object_new_string(strerror(-err)));
        }
        if (json_object_object_get_ex(rvm, "edges", &edges)) {
                struct json_object *top = json_object_new_array();
                size_t n = json_object_array_length(edges);
                for (size_t i = 0; i < n && (full || i < 5); i++)
                        json_object_array_add(top, json_object_get(json_object_array_get_idx(edges, i)));
                json_object_object_add(o, "edges", top);
        }
        for (int v = -1; m->enf && v < vcpus + 64; v++)
                for (int k = 0; k < _VS_KNOB_MAX; k++) {
                        const char *cur = enforcer_value(m->enf, name, v, k);
                        const char *base = enforcer_baseline(m->enf, name, v, k);
                        if (!cur || !base || strcmp(cur, base) == 0)
                                continue;
                        struct json_object *a = json_object_new_object();
                        json_object_object_add(a, "vcpu", v >= 0 ? json_object_new_int(v) : NULL);
                        json_object_object_add(a, "file", json_object_new_string(vs_knob_v2_file(k)));
                        json_object_object_add(a, "value", json_object_new_string(cur));
                        json_object_object_add(a, "baseline", json_object_new_string(base));
                        json_object_array_add(adj, a);
                }
        json_object_object_add(o, "adjustments", adj);
        struct vs_policy_vm_state st;
        const char *alone = enforcer_left_alone(m->enf, name);
        if (alone)
                json_object_object_add(o, "left_alone", json_object_new_string(alone));
        if (enforcer_vm_state(m->enf, name, &st) == 0 && st.windows > 0) {
                /* the classifier (vschedd.conf(5), WHICH VMS VSCHEDD ACTS ON) */
                json_object_object_add(o, "class", json_object_new_string(vs_vm_class_name(st.cls)));
                json_object_object_add(o, "lever", json_object_new_string(vs_lever_name(st.lever)));
                json_object_object_add(o, "halted_share", json_object_new_double(st.halt_share));
                /* what the verdict rests on: IPIs, or the signals left without them */
                struct json_object *sig = json_object_new_array();
                for (unsigned b = 1; b && b <= VS_SIG_PREEMPTION; b <<= 1)
                        if (st.signals & b)
                                json_object_array_add(sig, json_object_new_string(vs_signal_name(b)));
                json_object_object_add(o, "signals", sig);
        }
        add_run_delay(m, name, o, full && json_object_object_get_ex(rvm, "vcpu", &x) ? x : NULL);
        if (full && json_object_object_get_ex(rvm, "vcpu", &x))
                json_object_object_add(o, "vcpu", json_object_get(x));
        if (full && json_object_object_get_ex(rvm, "oscillating_pairs", &x))
                json_object_object_add(o, "oscillating_pairs", json_object_get(x));
        return o;
}

static int ctl_status(void *ud, struct json_object **ret) {
        struct manager *m = ud;
        struct json_object *rep = vs_analysis_report_json(vs_pipeline_analysis(m->pipe));
        struct json_object *o = json_object_new_object(), *vms, *x;
        struct json_object *out = json_object_new_array();
        const struct vs_source_stats *st = m->src ? vs_source_get_stats(m->src) : NULL;
        double up = manager_uptime_usec(m) / 1e6;

        if (!rep || !o)
                return -ENOMEM;
        json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, "mode", json_object_new_string(vs_mode_name(m->cfg.mode)));
        json_object_object_add(o, "dry_run", json_object_new_boolean(m->opts->dry_run));
        json_object_object_add(o, "uptime_s", json_object_new_double(up));
        json_object_object_add(o, "events_per_s", json_object_new_double(st && up > 0 ? st->events / up : 0));
        json_object_object_add(o, "lost", json_object_new_uint64(st ? st->lost : 0));
        json_object_object_add(o, "run_delay_source",
                               json_object_new_string(vs_run_delay_source_name(manager_run_delay(m)->source)));
        {
                /* the companion kernel patch (kernel/): which interface, which parts */
                struct vs_kvm_hook hook;
                if (vs_kvm_hook_probe("/sys", "/dev/kvm", &hook) >= 0)
                        json_object_object_add(o, "kernel_hook", vs_kvm_hook_json(&hook));
        }
        if (json_object_object_get_ex(rep, "signals", &x)) {
                /* what the host's interrupt virtualisation lets through, from
                 * KVM's module parameters, next to what the events show */
                struct vs_irq_virt iv;
                if (vs_irq_virt_probe("/sys", &iv) >= 0)
                        json_object_object_add(x, "host", vs_irq_virt_json(&iv));
                json_object_object_add(o, "signals", json_object_get(x));
        }
        if (json_object_object_get_ex(rep, "vms", &vms))
                for (size_t i = 0; i < json_object_array_length(vms); i++)
                        json_object_array_add(out, vm_object(m, json_object_array_get_idx(vms, i), false));
        json_object_object_add(o, "vms", out);
        json_object_put(rep);
        *ret = o;
        return 0;
}

static int ctl_vms(void *ud, struct json_object **ret) {
        struct json_object *st, *vms, *o = json_object_new_object(), *a = json_object_new_array();
        int r = ctl_status(ud, &st);

        if (r < 0)
                return r;
        if (json_object_object_get_ex(st, "vms", &vms))
                for (size_t i = 0; i < json_object_array_length(vms); i++) {
                        struct json_object *v = json_object_array_get_idx(vms, i), *x = json_object_new_object(), *f;
                        for (const char *const *k = (const char *const[]) { "vm", "vcpus", "mode", NULL }; *k; k++)
                                if (json_object_object_get_ex(v, *k, &f))
                                        json_object_object_add(x, *k, json_object_get(f));
                        json_object_array_add(a, x);
                }
        json_object_object_add(o, "vms", a);
        json_object_put(st);
        *ret = o;
        return 0;
}

static int ctl_vm(void *ud, const char *name, struct json_object **ret) {
        struct manager *m = ud;
        struct json_object *rep = vs_analysis_report_json(vs_pipeline_analysis(m->pipe)), *vms;
        int r = -ENOENT;

        if (!rep)
                return -ENOMEM;
        if (json_object_object_get_ex(rep, "vms", &vms))
                for (size_t i = 0; i < json_object_array_length(vms); i++) {
                        struct json_object *v = json_object_array_get_idx(vms, i), *n;
                        if (json_object_object_get_ex(v, "vm", &n) && strcmp(json_object_get_string(n), name) == 0) {
                                *ret = vm_object(m, v, true);
                                json_object_object_add(*ret, "run_delay_source",
                                                       json_object_new_string(vs_run_delay_source_name(
                                                               manager_run_delay(m)->source)));
                                r = 0;
                                break;
                        }
                }
        json_object_put(rep);
        return r;
}

static int ctl_vm_set(void *ud, const char *name, struct json_object *args, char **ret_error) {
        struct manager *m = ud;
        int r = override_apply(&m->cfg, name, args, ret_error);

        if (r < 0)
                return r;
        r = override_save(m->cfg.state_dir, name, args);
        if (r < 0)
                log_warning_errno(r, "Cannot save the override for %s in %s (active until restart): %m", name,
                                  m->cfg.state_dir);
        struct vs_log_fields f = { .vm = name, .vcpu = -1 };
        vs_log(LOG_INFO, 0, &f, "override set through the control socket");
        return 0;
}

static int ctl_reload(void *ud, char **ret_error) {
        int r = manager_reload(ud);
        if (r < 0 && ret_error)
                *ret_error = strdup("the new configuration was rejected (see the journal); the running one is kept");
        return r;
}

static void ctl_log(void *ud, int priority, const char *message) {
        vs_log(priority, 0, NULL, "control: %s", message);
}

/* The cpu.weight held (enforcer) or decided in a dry-m replay (policy),
 * and its baseline, as numbers; null when unknown. */
static void top_weight(struct manager *m, const char *vm, int vcpu, struct json_object *o) {
        const char *cur = NULL, *base = NULL;

        if (m->enf) {
                cur = enforcer_value(m->enf, vm, vcpu, VS_KNOB_WEIGHT);
                base = enforcer_baseline(m->enf, vm, vcpu, VS_KNOB_WEIGHT);
        } else if (vs_pipeline_policy(m->pipe)) {
                cur = vs_policy_value(vs_pipeline_policy(m->pipe), vm, vcpu, VS_KNOB_WEIGHT);
                base = vs_policy_baseline(vs_pipeline_policy(m->pipe), vm, vcpu, VS_KNOB_WEIGHT);
        }
        json_object_object_add(o, "weight", cur ? json_object_new_int64(strtoll(cur, NULL, 10)) : NULL);
        json_object_object_add(o, "weight_baseline", base ? json_object_new_int64(strtoll(base, NULL, 10)) : NULL);
}

static void top_counters(struct json_object *o, uint64_t in, uint64_t out, uint64_t in_nr, uint64_t pause,
                         uint64_t yields, const struct vs_hist *lat) {
        json_object_object_add(o, "ipis_in", json_object_new_uint64(in));
        json_object_object_add(o, "ipis_out", json_object_new_uint64(out));
        json_object_object_add(o, "ipis_in_not_running", json_object_new_uint64(in_nr));
        json_object_object_add(o, "pause_exits", json_object_new_uint64(pause));
        json_object_object_add(o, "yields_out", json_object_new_uint64(yields));
        json_object_object_add(o, "eoi_p99_ns", json_object_new_uint64(vs_hist_percentile(lat, 99)));
}

/* "top": per VM and vCPU counters straight from the analysis (schema in ctl-proto.h). */
static int ctl_top(void *ud, struct json_object **ret) {
        static const char *const states[] = {
                [VS_AN_UNKNOWN] = "unknown", [VS_AN_RUNNING] = "running", [VS_AN_PREEMPTED] = "preempted",
                [VS_AN_WOKEN] = "woken",     [VS_AN_BLOCKED] = "blocked", [VS_AN_EXITED] = "exited",
        };
        struct manager *m = ud;
        struct vs_analysis *an = vs_pipeline_analysis(m->pipe);
        const struct vs_run_delay *rd = manager_run_delay(m);
        struct json_object *o = json_object_new_object(), *vms = json_object_new_array();

        if (!o || !vms) {
                json_object_put(o);
                json_object_put(vms);
                return -ENOMEM;
        }
        json_object_object_add(o, "uptime_s", json_object_new_double(manager_uptime_usec(m) / 1e6));
        json_object_object_add(o, "mode", json_object_new_string(vs_mode_name(m->cfg.mode)));
        json_object_object_add(o, "dry_run", json_object_new_boolean(m->opts->dry_run));
        json_object_object_add(o, "run_delay_source", json_object_new_string(vs_run_delay_source_name(rd->source)));
        for (unsigned i = 0; an && i < vs_analysis_n_vms(an); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(an, i);
                struct json_object *v = json_object_new_object(), *vcpus = json_object_new_array();
                uint64_t t_in = 0, t_out = 0, t_nr = 0, t_pause = 0, t_yields = 0;
                struct vs_hist t_lat = {};
                struct vs_vm_policy vp;

                vs_config_vm(&m->cfg, vm->name, &vp);
                json_object_object_add(v, "vm", json_object_new_string(vm->name));
                json_object_object_add(v, "mode", json_object_new_string(vs_mode_name(vp.mode)));
                json_object_object_add(v, "vcpus", json_object_new_int((int) vm->n_vcpus));
                for (unsigned c = 0; c < vm->n_vcpus; c++) {
                        const struct vs_an_vcpu *vc = &vm->vcpus[c];
                        struct json_object *x;
                        uint64_t in = 0, out = 0, nr = 0;
                        struct vs_hist lat = {};

                        if (!vc->present)
                                continue;
                        for (unsigned p = 0; p < vm->n_pairs; p++) {
                                const struct vs_an_pair *pr = &vm->pairs[p];
                                if (pr->src == c)
                                        out += pr->ipis;
                                if (pr->dst != c)
                                        continue;
                                in += pr->ipis;
                                nr += vs_an_pair_not_running(pr);
                                vs_hist_merge(&lat, &pr->lat);
                        }
                        x = json_object_new_object();
                        json_object_object_add(x, "vcpu", json_object_new_int((int) c));
                        json_object_object_add(x, "state", json_object_new_string(
                                (unsigned) vc->state < ELEMENTSOF(states) ? states[vc->state] : "unknown"));
                        top_counters(x, in, out, nr, vc->pause_exits, vc->yields_out, &lat);
                        top_weight(m, vm->name, (int) c, x);
                        const struct vs_run_delay_row *row = vs_run_delay_find(rd, vm->name, (int32_t) c);
                        json_object_object_add(x, "run_delay_ns", run_delay_json(row, row ? row->run_delay_ns : 0));
                        json_object_array_add(vcpus, x);
                        t_in += in;
                        t_out += out;
                        t_nr += nr;
                        t_pause += vc->pause_exits;
                        t_yields += vc->yields_out;
                        vs_hist_merge(&t_lat, &lat);
                }
                top_counters(v, t_in, t_out, t_nr, t_pause, t_yields, &t_lat);
                top_weight(m, vm->name, -1, v);
                {
                        uint64_t total;
                        size_t n = vs_run_delay_vm_total(rd, vm->name, &total);
                        json_object_object_add(v, "run_delay_ns", run_delay_json(n > 0, total));
                }
                json_object_object_add(v, "vcpu", vcpus);
                json_object_array_add(vms, v);
        }
        json_object_object_add(o, "vms", vms);
        *ret = o;
        return 0;
}

const struct control_ops manager_ctl_ops = {
        .status = ctl_status,
        .vms = ctl_vms,
        .vm = ctl_vm,
        .vm_set = ctl_vm_set,
        .reload = ctl_reload,
        .metrics = manager_metrics_render,
        .log = ctl_log,
        .top = ctl_top,
};
