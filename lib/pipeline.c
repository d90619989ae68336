/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pipeline.c - topology -> summary -> analysis -> timeline -> policy epochs
 * (see pipeline.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "pipeline.h"

#define GAP_EPOCHS 100          /* a longer gap runs one epoch at its end */
#define MAX_POLICY_CPUS 1024

struct vs_pipeline {
        struct vs_pipeline_options o;
        struct vs_topology *topo;
        struct vs_summary *sum;
        struct vs_analysis *an;
        bool an_finished;
        struct vs_timeline *tl;
        struct vs_policy *pol;
        unsigned cpus_seen;
        uint64_t next_epoch;            /* trace time of the next policy epoch */
        uint64_t epochs, decisions;
};

void vs_pipeline_analysis_config(const struct vs_config *c, struct vs_analysis_config *ret) {
        vs_analysis_config_default(ret);
        if (!c)
                return;
        ret->ipi_window_ns = (uint64_t) c->ipi_window_us * 1000ull;
        ret->yield_window_ns = (uint64_t) c->yield_window_us * 1000ull;
        ret->rate_half_life_ns = (uint64_t) c->rate_half_life_ms * 1000000ull;
        ret->epoch_ns = (uint64_t) c->epoch_ms * 1000000ull;
}

static void drop_model(struct vs_pipeline *p) {
        p->pol = (vs_policy_free(p->pol), NULL);
        p->tl = (vs_timeline_free(p->tl), NULL);
        p->an = (vs_analysis_free(p->an), NULL);
        p->sum = (vs_summary_free(p->sum), NULL);
        p->topo = (vs_topology_free(p->topo), NULL);
}

static int make_model(struct vs_pipeline *p) {
        struct vs_analysis_config acfg;
        int r;

        r = vs_topology_new(&p->topo);
        if (r < 0)
                return r;
        r = vs_summary_new(&p->sum);
        if (r < 0)
                return r;
        if (p->o.analysis || p->o.policy) {
                vs_pipeline_analysis_config(p->o.cfg, &acfg);
                r = vs_analysis_new(&acfg, p->topo, &p->an);
                if (r < 0)
                        return r;
        }
        if (p->o.timeline) {
                r = vs_timeline_new(p->topo, p->o.tl_start_ns, p->o.tl_len_ns, &p->tl);
                if (r < 0)
                        return r;
        }
        p->an_finished = false;
        p->cpus_seen = 0;
        p->next_epoch = 0;
        p->epochs = 0;
        return 0;
}

int vs_pipeline_new(const struct vs_pipeline_options *o, struct vs_pipeline **ret) {
        struct vs_pipeline *p;
        int r;

        if (!o || !ret || (o->policy && !o->cfg))
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->o = *o;
        r = make_model(p);
        if (r < 0) {
                vs_pipeline_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

struct vs_pipeline *vs_pipeline_free(struct vs_pipeline *p) {
        if (!p)
                return NULL;
        drop_model(p);
        free(p);
        return NULL;
}

int vs_pipeline_learn(struct vs_pipeline *p, const struct vs_event *ev) {
        if ((unsigned) ev->cpu + 1 > p->cpus_seen)
                p->cpus_seen = ev->cpu + 1u;
        return vs_topology_observe(p->topo, ev);
}

static void on_decision(const struct vs_decision *d, void *userdata) {
        struct vs_pipeline *p = userdata;

        p->decisions++;
        if (p->o.on_decision)
                p->o.on_decision(d, p->o.userdata);
}

static int start_policy(struct vs_pipeline *p, uint64_t ts) {
        unsigned cpus[MAX_POLICY_CPUS], n = p->cpus_seen > p->o.n_cpus ? p->cpus_seen : p->o.n_cpus;
        int r;

        if (n == 0)
                n = 1;
        if (n > MAX_POLICY_CPUS)
                n = MAX_POLICY_CPUS;
        for (unsigned i = 0; i < n; i++)
                cpus[i] = i;
        r = vs_policy_new(p->o.cfg, cpus, n, &p->pol);
        if (r < 0)
                return r;
        vs_policy_enforce_observed(p->pol, p->o.enforce_observed);
        p->next_epoch = ts + (uint64_t) p->o.cfg->epoch_ms * 1000000ull;
        return 0;
}

/* Run the policy at every epoch boundary the trace time crossed. */
static int policy_tick(struct vs_pipeline *p, uint64_t ts) {
        uint64_t epoch = (uint64_t) p->o.cfg->epoch_ms * 1000000ull;

        if (!p->pol)
                return start_policy(p, ts);
        if (ts < p->next_epoch)
                return 0;
        if (ts - p->next_epoch > GAP_EPOCHS * epoch)
                p->next_epoch = ts;
        while (p->next_epoch <= ts) {
                int r;

                if (p->o.max_epochs && p->epochs >= p->o.max_epochs)
                        return 0;
                r = vs_policy_epoch(p->pol, p->an, p->next_epoch, on_decision, p);
                if (r < 0)
                        return r;
                p->epochs++;
                p->next_epoch += vs_policy_next_epoch_ns(p->pol);
        }
        return 0;
}

int vs_pipeline_event(struct vs_pipeline *p, const struct vs_event *ev) {
        int r;

        r = vs_topology_observe(p->topo, ev);
        if (r < 0)
                return r;
        r = vs_summary_add(p->sum, ev, p->topo);
        if (r < 0)
                return r;
        if (p->an) {
                r = vs_analysis_event(p->an, ev);
                if (r < 0)
                        return r;
        }
        if (p->tl) {
                r = vs_timeline_event(p->tl, ev);
                if (r < 0)
                        return r;
        }
        if (p->o.policy)
                return policy_tick(p, ev->ts_ns);
        return 0;
}

void vs_pipeline_finish(struct vs_pipeline *p) {
        if (p->an && !p->an_finished)
                vs_analysis_finish(p->an, vs_analysis_last_ts(p->an));
        p->an_finished = true;
        if (p->tl)
                vs_timeline_finish(p->tl);
}

int vs_pipeline_release(struct vs_pipeline *p, uint64_t ts_ns) {
        return p->pol ? vs_policy_release(p->pol, ts_ns, on_decision, p) : 0;
}

int vs_pipeline_forget_tgid(struct vs_pipeline *p, int32_t tgid, char *ret_name, size_t len) {
        int32_t vm = vs_topology_vm_of_tgid(p->topo, tgid);
        const struct vs_vm *v = vm >= 0 ? vs_topology_vm(p->topo, vm) : NULL;
        char name[VS_VM_NAME_MAX] = "";

        if (v)
                snprintf(name, sizeof(name), "%s", v->name);
        (void) vs_topology_forget_tgid(p->topo, tgid);
        if (ret_name && len > 0)
                snprintf(ret_name, len, "%s", name);
        if (!name[0])
                return 0;
        (void) vs_summary_forget_vm(p->sum, name);
        if (p->an)
                (void) vs_analysis_forget_vm(p->an, name);
        if (p->pol)
                (void) vs_policy_forget_vm(p->pol, name);
        return 1;
}

struct vs_topology *vs_pipeline_topology(const struct vs_pipeline *p) {
        return p->topo;
}

const struct vs_summary *vs_pipeline_summary(const struct vs_pipeline *p) {
        return p->sum;
}

struct vs_analysis *vs_pipeline_analysis(const struct vs_pipeline *p) {
        return p->an;
}

struct vs_timeline *vs_pipeline_timeline(const struct vs_pipeline *p) {
        return p->tl;
}

const struct vs_policy *vs_pipeline_policy(const struct vs_pipeline *p) {
        return p->pol;
}

uint64_t vs_pipeline_decisions(const struct vs_pipeline *p) {
        return p->decisions;
}

uint64_t vs_pipeline_epochs(const struct vs_pipeline *p) {
        return p->epochs;
}
