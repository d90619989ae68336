/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * decisions.c - the decisions section (see decisions.h).  The JSON document
 * is built once; the text printer prints its "text" fields, so both say the
 * same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"
#include "event.h"
#include "macro.h"

enum family {
        FAM_OTHER = 0,          /* reason kept as the policy gave it (releases, guards, ...) */
        FAM_PLACE,              /* cpuset.cpus, "placement: ..." */
        FAM_TURNS,              /* cgroup.freeze, "co-scheduling: ..." (both turn reasons) */
        FAM_WEIGHTS,            /* cpu.weight, "weights..." */
};

struct dval {
        int32_t vcpu;           /* -1: the VM's own cgroup */
        char old[VS_VALUE_MAX]; /* before the group's first decision there */
        char new[VS_VALUE_MAX]; /* after its last */
};

struct dgroup {
        char vm[VS_VM_NAME_MAX];
        enum vs_knob knob;
        enum family fam;
        char reason[192];       /* the first decision's, copied: the policy's text may be
                                 * built per VM and live only as long as the callback */
        uint64_t count, frozen; /* decisions; of them freezes (new value "1") */
        uint64_t first_ts, last_ts;
        struct dval *vals;
        unsigned n_vals;
};

struct vs_decisions {
        struct dgroup *g;
        unsigned n, cap;
        uint64_t total;
};

int vs_decisions_new(struct vs_decisions **ret) {
        struct vs_decisions *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

void vs_decisions_free(struct vs_decisions *d) {
        if (!d)
                return;
        for (unsigned i = 0; i < d->n; i++)
                free(d->g[i].vals);
        free(d->g);
        free(d);
}

unsigned vs_decisions_forget_vm(struct vs_decisions *d, const char *vm) {
        unsigned kept = 0, n;

        if (!d || !vm)
                return 0;
        n = d->n;
        for (unsigned i = 0; i < n; i++) {
                if (strcmp(d->g[i].vm, vm) == 0) {
                        free(d->g[i].vals);
                        continue;
                }
                d->g[kept++] = d->g[i];
        }
        d->n = kept;
        return n - kept;
}

uint64_t vs_decisions_count(const struct vs_decisions *d) {
        return d->total;
}

static bool prefix(const char *s, const char *p) {
        return s && strncmp(s, p, strlen(p)) == 0;
}

static enum family family_of(enum vs_knob k, const char *reason) {
        if (k == VS_KNOB_CPUSET && prefix(reason, "placement: "))
                return FAM_PLACE;
        if (k == VS_KNOB_FREEZE && prefix(reason, "co-scheduling: "))
                return FAM_TURNS;
        if (k == VS_KNOB_WEIGHT && (prefix(reason, "weights: ") || prefix(reason, "weights, ")))
                return FAM_WEIGHTS;
        return FAM_OTHER;
}

static struct dgroup *group_get(struct vs_decisions *d, const struct vs_decision *dec) {
        enum family fam = family_of(dec->knob, dec->reason);
        const char *reason = dec->reason ? dec->reason : "";

        for (unsigned i = 0; i < d->n; i++) {
                struct dgroup *g = &d->g[i];
                if (g->knob == dec->knob && g->fam == fam && strcmp(g->vm, dec->vm) == 0 &&
                    (fam != FAM_OTHER || strncmp(g->reason, reason, sizeof(g->reason) - 1) == 0))
                        return g;
        }
        if (d->n == d->cap) {
                unsigned cap = d->cap ? d->cap * 2 : 8;
                struct dgroup *n = realloc(d->g, cap * sizeof(*n));
                if (!n)
                        return NULL;
                d->g = n;
                d->cap = cap;
        }
        struct dgroup *g = &d->g[d->n++];
        *g = (struct dgroup) { .knob = dec->knob, .fam = fam, .first_ts = dec->ts_ns };
        snprintf(g->vm, sizeof(g->vm), "%s", dec->vm);
        snprintf(g->reason, sizeof(g->reason), "%s", reason);
        return g;
}

int vs_decisions_add(struct vs_decisions *d, const struct vs_decision *dec) {
        struct dgroup *g;
        struct dval *v = NULL;

        if (!d || !dec || !dec->vm)
                return -EINVAL;
        g = group_get(d, dec);
        if (!g)
                return -ENOMEM;
        unsigned at = 0;

        /* kept in vCPU order */
        for (; at < g->n_vals && g->vals[at].vcpu <= dec->vcpu; at++)
                if (g->vals[at].vcpu == dec->vcpu)
                        v = &g->vals[at];
        if (!v) {
                struct dval *n = realloc(g->vals, (g->n_vals + 1) * sizeof(*n));
                if (!n) {
                        if (g->count == 0)      /* a group just made: nothing in it */
                                d->n--;
                        return -ENOMEM;
                }
                g->vals = n;
                memmove(&n[at + 1], &n[at], (g->n_vals - at) * sizeof(*n));
                g->n_vals++;
                v = &n[at];
                v->vcpu = dec->vcpu;
                snprintf(v->old, sizeof(v->old), "%s", dec->old);
        }
        snprintf(v->new, sizeof(v->new), "%s", dec->new);
        g->count++;
        g->frozen += dec->knob == VS_KNOB_FREEZE && strcmp(dec->new, "1") == 0;
        g->last_ts = dec->ts_ns;
        d->total++;
        return 0;
}

/* ---------------------------------------------------------------- rendering */

/* A string built with appends, truncated (never overflowing) past its size. */
struct text {
        char buf[2048];
        size_t len;
};

static void add(struct text *t, const char *fmt, ...) _printf_(2, 3);
static void add(struct text *t, const char *fmt, ...) {
        va_list ap;
        int n;

        if (t->len >= sizeof(t->buf) - 1)
                return;
        va_start(ap, fmt);
        n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
        va_end(ap);
        if (n > 0)
                t->len = (size_t) n < sizeof(t->buf) - t->len ? t->len + (size_t) n : sizeof(t->buf) - 1;
}

/* "0-1,3" from sorted indexes */
static void index_list(struct text *t, const int32_t *v, unsigned n) {
        for (unsigned i = 0; i < n;) {
                unsigned j = i;
                while (j + 1 < n && v[j + 1] == v[j] + 1)
                        j++;
                if (j > i)
                        add(t, "%s%d-%d", i ? "," : "", v[i], v[j]);
                else
                        add(t, "%s%d", i ? "," : "", v[i]);
                i = j + 1;
        }
}

struct ctx {
        const struct vs_analysis *a;
        unsigned a_n;           /* its VMs */
        const struct vs_policy *pol;    /* NULL: none ran */
        uint64_t t0;            /* the run's first event */
        double secs;            /* its length */
};

static double rel(const struct ctx *c, uint64_t ts) {
        return ts > c->t0 ? (double) (ts - c->t0) / 1e9 : 0;
}

static void fmt_dur(struct text *t, uint64_t ns) {
        if (ns >= 10000000000ull)
                add(t, "%.0f s", ns / 1e9);
        else if (ns >= 1000000000ull)
                add(t, "%.1f s", ns / 1e9);
        else if (ns >= 1000000)
                add(t, "%.0f ms", ns / 1e6);
        else
                add(t, "%.0f us", ns / 1e3);
}

static uint64_t runnable_ipis(const struct vs_an_pair *p) {
        return (uint64_t) p->at_state[VS_AN_PREEMPTED] + p->at_state[VS_AN_WOKEN];
}

static int cmp_wait(const void *x, const void *y) {
        const struct vs_an_pair *a = *(const struct vs_an_pair *const *) x, *b = *(const struct vs_an_pair *const *) y;

        if (a->preempted_wait_ns != b->preempted_wait_ns)
                return a->preempted_wait_ns < b->preempted_wait_ns ? 1 : -1;
        if (runnable_ipis(a) != runnable_ipis(b))
                return runnable_ipis(a) < runnable_ipis(b) ? 1 : -1;
        if (a->dst != b->dst)
                return a->dst - b->dst;
        return a->src - b->src;
}

/* The VM's edges whose IPIs found the receiver preempted, longest wait first. Caller frees. */
static const struct vs_an_pair **waited_edges(const struct vs_an_vm *vm, unsigned *ret_n) {
        const struct vs_an_pair **e = malloc((vm->n_pairs + 1) * sizeof(*e));
        unsigned n = 0;

        if (!e)
                return NULL;
        for (unsigned i = 0; i < vm->n_pairs; i++)
                if (runnable_ipis(&vm->pairs[i]) > 0 && vm->pairs[i].src != vm->pairs[i].dst)
                        e[n++] = &vm->pairs[i];
        qsort(e, n, sizeof(*e), cmp_wait);
        *ret_n = n;
        return e;
}

static double per_s(const struct ctx *c, uint64_t n) {
        return c->secs > 0 ? (double) n / c->secs : 0;
}

/* a rate: one decimal below 10/s, so a rare event does not read "0 times/s" */
static void fmt_rate(struct text *t, double r) {
        add(t, r < 9.95 ? "%.1f times/s" : "%.0f times/s", r);
}

static double share(const struct ctx *c, uint64_t ns) {
        return c->secs > 0 ? (double) ns / 1e9 / c->secs : 0;
}

/* "vCPU 1 was preempted 312 times/s while vCPU 0 waited on it (41 % of its time)" */
static void evidence(struct text *t, const struct ctx *c, const struct vs_an_pair *p) {
        add(t, "vCPU %u was preempted ", p->dst);
        fmt_rate(t, per_s(c, runnable_ipis(p)));
        add(t, " while vCPU %u waited on it (%.0f %% of its time)", p->src, 100.0 * share(c, p->preempted_wait_ns));
}

static struct json_object *waited_json(const struct ctx *c, const struct vs_an_pair *p) {
        struct json_object *o = json_object_new_object();
        struct text t = {};

        add(&t, "vCPU %u was preempted when vCPU %u needed it: ", p->dst, p->src);
        fmt_rate(&t, per_s(c, runnable_ipis(p)));
        add(&t, " (%" PRIu64 " of %" PRIu64 " IPIs), vCPU %u waited ", runnable_ipis(p), p->ipis, p->src);
        fmt_dur(&t, p->preempted_wait_ns);
        add(&t, " on it (%.0f %% of its time)", 100.0 * share(c, p->preempted_wait_ns));
        json_object_object_add(o, "vcpu", json_object_new_int(p->dst));
        json_object_object_add(o, "waiter", json_object_new_int(p->src));
        json_object_object_add(o, "times", json_object_new_uint64(runnable_ipis(p)));
        json_object_object_add(o, "ipis", json_object_new_uint64(p->ipis));
        json_object_object_add(o, "per_s", json_object_new_double(per_s(c, runnable_ipis(p))));
        json_object_object_add(o, "wait_ns", json_object_new_uint64(p->preempted_wait_ns));
        json_object_object_add(o, "wait_share", json_object_new_double(share(c, p->preempted_wait_ns)));
        json_object_object_add(o, "text", json_object_new_string(t.buf));
        return o;
}

static void verdict(struct text *t, const struct vs_policy *pol, const char *vm) {
        struct vs_policy_vm_state st;

        if (!pol || vs_policy_vm_state(pol, vm, &st) < 0 || st.windows == 0) {
                add(t, "not classified (classify = no, or the run was shorter than one evaluation window)");
                return;
        }
        switch (st.cls) {
        case VS_CLASS_SPIN:
                add(t, "spin-waiting: its vCPUs stay runnable while they wait on vCPUs that are not running");
                if (st.trial == VS_TRIAL_KEPT)
                        add(t, "; %s kept: %.0f answered IPIs/s before it, %.0f with it", vs_lever_name(st.lever),
                            st.before, st.after);
                else if (st.trial == VS_TRIAL_RUNNING)
                        add(t, "; %s on trial against %.0f answered IPIs/s before it", vs_lever_name(st.lever),
                            st.before);
                else
                        add(t, "; no lever held at the end");
                break;
        case VS_CLASS_HALT:
                add(t, "halting: its vCPUs were halted %.0f %% of their time (they sleep when they wait), so no "
                       "lever helps",
                    100.0 * st.halt_share);
                break;
        default:
                add(t, "not contended: nothing to do");
        }
}

/* The values of a group, "vCPU 0 on CPU 0, vCPU 1 on CPU 1" style. */
static void values(struct text *t, const struct dgroup *g, bool place) {
        for (unsigned i = 0; i < g->n_vals; i++) {
                const struct dval *v = &g->vals[i];
                add(t, "%s", i ? ", " : " ");
                if (v->vcpu >= 0)
                        add(t, "vCPU %d ", v->vcpu);
                if (place)
                        add(t, "on CPU%s %s", strpbrk(v->new, ",-") ? "s" : "", v->new);
                else
                        add(t, "%s -> %s", v->old, v->new);
        }
}

static void when(struct text *t, const struct ctx *c, const struct dgroup *g) {
        if (g->first_ts == g->last_ts)
                add(t, "at %.2f s", rel(c, g->first_ts));
        else
                add(t, "from %.2f s to %.2f s", rel(c, g->first_ts), rel(c, g->last_ts));
}

/* What a turn's reason says beyond "co-scheduling: this/another VM's turn":
 * its parenthesis, e.g. the signals that drove it when there were no IPIs
 * ("no IPI records; signals: stalls"), into @buf; NULL when none. */
static const char *turn_why(const char *reason, char *buf, size_t len) {
        const char *o = strstr(reason, " (");
        size_t n;

        if (!o || !*(o += 2))
                return NULL;
        n = strlen(o);
        if (o[n - 1] == ')')
                n--;
        snprintf(buf, len, "%.*s", (int) n, o);
        return n ? buf : NULL;
}

static struct json_object *group_json(const struct vs_decisions *d, const struct ctx *c, const struct dgroup *g,
                                      const struct vs_an_vm *vm, const struct vs_an_pair *top) {
        struct json_object *o = json_object_new_object(), *vals = json_object_new_array();
        struct json_object *with = json_object_new_array();
        const char *action = "change", *why = g->reason;
        char esc[VS_VM_NAME_MAX * 4], paren[sizeof(g->reason)];
        struct text t = {};

        vs_escape(g->vm, esc, sizeof(esc));
        switch (g->fam) {
        case FAM_PLACE:
                action = "place";
                why = g->reason + strlen("placement: ");
                add(&t, "place %s", esc);
                values(&t, g, true);
                add(&t, " (%s, ", vs_knob_v2_file(g->knob));
                when(&t, c, g);
                add(&t, ")");
                break;
        case FAM_TURNS: {
                _cleanup_free_ int32_t *idx = malloc((vm->n_vcpus + 1) * sizeof(*idx));
                unsigned n = 0, partners = 0;

                action = "coschedule";
                why = turn_why(g->reason, paren, sizeof(paren));
                for (unsigned k = 0; idx && k < vm->n_vcpus; k++)
                        if (vm->vcpus[k].present)
                                idx[n++] = (int32_t) k;
                add(&t, "co-schedule %s vCPU%s ", esc, n == 1 ? "" : "s");
                if (idx)
                        index_list(&t, idx, n);
                /* the VMs it takes turns with: co-scheduled ones (a VM whose
                 * turn it was when the run ended may have no decision yet) */
                for (unsigned i = 0; i < c->a_n; i++) {
                        const struct vs_an_vm *ov = vs_analysis_vm(c->a, i);
                        struct vs_policy_vm_state st;
                        bool turns = c->pol && vs_policy_vm_state(c->pol, ov->name, &st) >= 0 &&
                                     st.lever == VS_LEVER_COSCHEDULE;
                        char e2[VS_VM_NAME_MAX * 4];

                        for (unsigned k = 0; !turns && k < d->n; k++)
                                turns = d->g[k].fam == FAM_TURNS && strcmp(d->g[k].vm, ov->name) == 0;
                        if (!turns || strcmp(ov->name, g->vm) == 0)
                                continue;
                        add(&t, "%s%s", partners++ ? ", " : " in turns with ", vs_escape(ov->name, e2, sizeof(e2)));
                        json_object_array_add(with, json_object_new_string(ov->name));
                }
                add(&t, " (%s: frozen for another VM's turn %" PRIu64 " time%s, ", vs_knob_v2_file(g->knob),
                    g->frozen, g->frozen == 1 ? "" : "s");
                when(&t, c, g);
                add(&t, ")");
                break;
        }
        case FAM_WEIGHTS:
                action = "weights";
                why = prefix(g->reason, "weights: ") ? g->reason + strlen("weights: ") : g->reason;
                add(&t, "weight %s", esc);
                values(&t, g, false);
                add(&t, " (%s, %" PRIu64 " change%s ", vs_knob_v2_file(g->knob), g->count, g->count == 1 ? "" : "s");
                when(&t, c, g);
                add(&t, ")");
                break;
        default:
                add(&t, "%s of %s", vs_knob_v2_file(g->knob), esc);
                values(&t, g, false);
                add(&t, " (%" PRIu64 " change%s ", g->count, g->count == 1 ? "" : "s");
                when(&t, c, g);
                add(&t, ")");
        }
        add(&t, ": ");
        if (why)
                add(&t, "%s", why);
        if (g->fam != FAM_OTHER) {
                if (top) {
                        add(&t, "%s", why ? "; " : "");
                        evidence(&t, c, top);
                } else if (!why)
                        add(&t, "the classifier found it spin-waiting");
        }
        for (unsigned i = 0; i < g->n_vals; i++) {
                struct json_object *x = json_object_new_object();
                json_object_object_add(x, "vcpu", g->vals[i].vcpu >= 0 ? json_object_new_int(g->vals[i].vcpu) : NULL);
                json_object_object_add(x, "old", json_object_new_string(g->vals[i].old));
                json_object_object_add(x, "new", json_object_new_string(g->vals[i].new));
                json_object_array_add(vals, x);
        }
        json_object_object_add(o, "action", json_object_new_string(action));
        json_object_object_add(o, "file", json_object_new_string(vs_knob_v2_file(g->knob)));
        json_object_object_add(o, "reason", json_object_new_string(g->reason));
        json_object_object_add(o, "count", json_object_new_uint64(g->count));
        json_object_object_add(o, "first_ts_ns", json_object_new_uint64(g->first_ts));
        json_object_object_add(o, "last_ts_ns", json_object_new_uint64(g->last_ts));
        json_object_object_add(o, "values", vals);
        if (g->fam == FAM_TURNS)
                json_object_object_add(o, "with", with);
        else
                json_object_put(with);
        json_object_object_add(o, "text", json_object_new_string(t.buf));
        return o;
}

static struct json_object *vm_json(const struct vs_decisions *d, const struct ctx *c, const struct vs_an_vm *vm,
                                   const struct vs_policy *pol) {
        struct json_object *o = json_object_new_object(), *w = json_object_new_array();
        struct json_object *decs = json_object_new_array();
        struct vs_policy_vm_state st;
        unsigned n = 0, present = 0;
        _cleanup_free_ const struct vs_an_pair **e = waited_edges(vm, &n);
        struct text t = {};

        if (!e) {
                json_object_put(o);
                json_object_put(w);
                json_object_put(decs);
                return NULL;
        }
        for (unsigned k = 0; k < vm->n_vcpus; k++)
                present += vm->vcpus[k].present;
        json_object_object_add(o, "vm", json_object_new_string(vm->name));
        json_object_object_add(o, "vcpus", json_object_new_int((int) present));
        if (pol && vs_policy_vm_state(pol, vm->name, &st) >= 0 && st.windows > 0) {
                json_object_object_add(o, "class", json_object_new_string(vs_vm_class_name(st.cls)));
                json_object_object_add(o, "lever", json_object_new_string(vs_lever_name(st.lever)));
                json_object_object_add(o, "trial", json_object_new_string(st.trial == VS_TRIAL_KEPT ? "kept" :
                                                                          st.trial == VS_TRIAL_RUNNING ? "running" :
                                                                                                         "none"));
        } else {
                json_object_object_add(o, "class", NULL);
                json_object_object_add(o, "lever", NULL);
                json_object_object_add(o, "trial", NULL);
        }
        verdict(&t, pol, vm->name);
        json_object_object_add(o, "verdict", json_object_new_string(t.buf));
        for (unsigned k = 0; k < n; k++)
                json_object_array_add(w, waited_json(c, e[k]));
        json_object_object_add(o, "preempted_while_waited", w);
        for (unsigned i = 0; i < d->n; i++)
                if (strcmp(d->g[i].vm, vm->name) == 0)
                        json_object_array_add(decs, group_json(d, c, &d->g[i], vm, n ? e[0] : NULL));
        json_object_object_add(o, "decisions", decs);
        return o;
}

/* What a dry run cannot show: a lever's effect.  The policy judges a trial
 * on the figures of the windows with the lever; in a dry run (replay or
 * live, nothing written) those are the figures of VMs the lever never
 * touched. */
#define DRY_RUN_NOTE                                                                                                 \
        "a dry run writes nothing, so a lever's trial is judged on figures the lever did not change: from a "      \
        "trial's end on (kept, or released as no help), enforce mode measures the lever itself and may decide "    \
        "otherwise"

/* Did a lever's trial play a part: one on trial or kept at the end, or one
 * released on its trial's figures? */
static bool judged(const struct vs_decisions *d, const struct vs_analysis *a, const struct vs_policy *pol) {
        if (!pol)
                return false;
        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                struct vs_policy_vm_state st;
                if (vs_policy_vm_state(pol, vs_analysis_vm(a, i)->name, &st) >= 0 && st.trial != VS_TRIAL_NONE)
                        return true;
        }
        for (unsigned i = 0; d && i < d->n; i++)
                if (strcmp(d->g[i].reason, "lever released: it did not help") == 0 ||
                    strcmp(d->g[i].reason, "lever released: the VM did worse with it") == 0)
                        return true;
        return false;
}

struct json_object *vs_decisions_json(const struct vs_decisions *d, const struct vs_analysis *a,
                                      const struct vs_policy *pol) {
        struct json_object *root = json_object_new_object(), *vms = json_object_new_array();
        struct ctx c = { .a = a, .a_n = vs_analysis_n_vms(a), .pol = pol, .t0 = vs_analysis_first_ts(a) };

        if (!root || !vms) {
                json_object_put(root);
                json_object_put(vms);
                return NULL;
        }
        c.secs = (double) (vs_analysis_last_ts(a) - c.t0) / 1e9;
        json_object_object_add(root, "type", json_object_new_string("decisions"));
        json_object_object_add(root, "policy", json_object_new_boolean(pol != NULL));
        json_object_object_add(root, "span_ns", json_object_new_uint64(vs_analysis_last_ts(a) - c.t0));
        json_object_object_add(root, "ipi_records", json_object_new_uint64(vs_analysis_seen(a, VS_EV_IPI)));
        json_object_object_add(root, "decisions", json_object_new_uint64(d ? d->total : 0));
        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                struct vs_decisions none = {};
                struct json_object *v = vm_json(d ? d : &none, &c, vs_analysis_vm(a, i), pol);
                if (!v) {
                        json_object_put(root);
                        json_object_put(vms);
                        return NULL;
                }
                json_object_array_add(vms, v);
        }
        json_object_object_add(root, "vms", vms);
        json_object_object_add(root, "note", judged(d, a, pol) ? json_object_new_string(DRY_RUN_NOTE) : NULL);
        return root;
}

static const char *str(struct json_object *o, const char *key) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

void vs_decisions_print(const struct vs_decisions *d, const struct vs_analysis *a, const struct vs_policy *pol,
                        FILE *f) {
        struct json_object *root = vs_decisions_json(d, a, pol), *vms, *x;
        uint64_t span = vs_analysis_last_ts(a) - vs_analysis_first_ts(a);

        if (!root)
                return;
        fprintf(f, "\n== Decisions%s over %.1f s of trace: per VM, the vCPUs preempted while a sibling waited on "
                   "them, and what vschedd would change\n",
                pol ? " (mode = enforce, dry run: nothing written)" : " (none: no policy ran)", span / 1e9);
        if (json_object_object_get_ex(root, "note", &x) && x)
                fprintf(f, "Note: %s.\n", json_object_get_string(x));
        json_object_object_get_ex(root, "vms", &vms);
        if (json_object_array_length(vms) == 0)
                fprintf(f, "no VM seen\n");
        for (size_t i = 0; i < json_object_array_length(vms); i++) {
                struct json_object *v = json_object_array_get_idx(vms, i), *w, *decs, *n;
                char esc[VS_VM_NAME_MAX * 4];

                json_object_object_get_ex(v, "vcpus", &n);
                fprintf(f, "\nVM %s (%d vCPU%s)%s%s\n", vs_escape(str(v, "vm"), esc, sizeof(esc)),
                        json_object_get_int(n), json_object_get_int(n) == 1 ? "" : "s", pol ? ": " : "",
                        pol ? str(v, "verdict") : "");
                json_object_object_get_ex(v, "preempted_while_waited", &w);
                if (json_object_array_length(w) == 0 && vs_analysis_seen(a, VS_EV_IPI) == 0)
                        fprintf(f, "  who waited on whom is not visible: no IPI records (IPIs virtualised, e.g. "
                                   "IPIv or AVIC, or none sent)\n");
                else if (json_object_array_length(w) == 0)
                        fprintf(f, "  no vCPU was preempted while a sibling waited on it\n");
                for (size_t k = 0; k < json_object_array_length(w); k++)
                        fprintf(f, "  %s\n", str(json_object_array_get_idx(w, k), "text"));
                json_object_object_get_ex(v, "decisions", &decs);
                if (pol && json_object_array_length(decs) == 0)
                        fprintf(f, "  decisions: none\n");
                for (size_t k = 0; k < json_object_array_length(decs); k++) {
                        x = json_object_array_get_idx(decs, k);
                        fprintf(f, "  decision: %s\n", str(x, "text"));
                }
        }
        json_object_put(root);
}
