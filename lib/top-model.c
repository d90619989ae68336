/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* top-model.c - see top-model.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "top-model.h"

static const struct {
        const char *title;
        char key;
        int width;
} cols[_VS_TOP_COL_MAX] = {
        [VS_TOP_COL_NAME] = { "VM/VCPU", 'n', 20 },
        [VS_TOP_COL_IPI_IN] = { "IPI-IN/s", 'i', 9 },
        [VS_TOP_COL_IPI_OUT] = { "IPI-OUT/s", 'o', 9 },
        [VS_TOP_COL_PREEMPTED] = { "PREEMPT%", 'p', 8 },
        [VS_TOP_COL_READY] = { "READY%", 'd', 7 },
        [VS_TOP_COL_EOI_P99] = { "EOI-P99", 'e', 8 },
        [VS_TOP_COL_PAUSE] = { "PAUSE/s", 'a', 8 },
        [VS_TOP_COL_YIELD] = { "YIELD/s", 'y', 8 },
        [VS_TOP_COL_WEIGHT] = { "WEIGHT/BASE", 'w', 11 },
        [VS_TOP_COL_MODE] = { "MODE", 'm', 7 },
        [VS_TOP_COL_STATE] = { "STATE", 's', 9 },
};

const char *vs_top_col_title(enum vs_top_col col) {
        return (unsigned) col < _VS_TOP_COL_MAX ? cols[col].title : NULL;
}

char vs_top_col_key(enum vs_top_col col) {
        return (unsigned) col < _VS_TOP_COL_MAX ? cols[col].key : 0;
}

int vs_top_col_width(enum vs_top_col col) {
        return (unsigned) col < _VS_TOP_COL_MAX ? cols[col].width : 0;
}

int vs_top_col_from_key(int key) {
        for (int c = 0; c < _VS_TOP_COL_MAX; c++)
                if (cols[c].key == key)
                        return c;
        return -1;
}

/* ---------------------------------------------------------------- snapshots */

struct vs_top_snapshot *vs_top_snapshot_free(struct vs_top_snapshot *s) {
        if (s) {
                free(s->items);
                free(s);
        }
        return NULL;
}

static void snapshot_freep(struct vs_top_snapshot **s) {
        vs_top_snapshot_free(*s);
}

static uint64_t get_u64(struct json_object *o, const char *key) {
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (json_object_is_type(v, json_type_int))
                return json_object_get_int64(v) < 0 ? 0 : json_object_get_uint64(v);
        if (json_object_is_type(v, json_type_double) && json_object_get_double(v) > 0)
                return (uint64_t) json_object_get_double(v);
        return 0;
}

static int64_t get_weight(struct json_object *o, const char *key) {
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -1;
        return json_object_get_int64(v) < 0 ? -1 : json_object_get_int64(v);
}

static void get_str(struct json_object *o, const char *key, char *buf, size_t len) {
        struct json_object *v;

        buf[0] = 0;
        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                snprintf(buf, len, "%s", json_object_get_string(v));
}

static void read_counters(struct json_object *o, struct vs_top_counters *c) {
        c->ipis_in = get_u64(o, "ipis_in");
        c->ipis_out = get_u64(o, "ipis_out");
        c->ipis_in_not_running = get_u64(o, "ipis_in_not_running");
        c->pause_exits = get_u64(o, "pause_exits");
        c->yields_out = get_u64(o, "yields_out");
        c->eoi_p99_ns = get_u64(o, "eoi_p99_ns");
        c->weight = get_weight(o, "weight");
        c->weight_baseline = get_weight(o, "weight_baseline");
        {
                struct json_object *v;
                c->has_run_delay = json_object_object_get_ex(o, "run_delay_ns", &v) &&
                                   json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0;
                c->run_delay_ns = c->has_run_delay ? get_u64(o, "run_delay_ns") : 0;
        }
}

int vs_top_snapshot_from_json(struct json_object *data, struct vs_top_snapshot **ret) {
        _cleanup_(snapshot_freep) struct vs_top_snapshot *s = NULL;
        struct json_object *vms, *v;
        size_t n = 0;

        if (!json_object_is_type(data, json_type_object) || !json_object_object_get_ex(data, "vms", &vms) ||
            !json_object_is_type(vms, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(vms); i++) {
                struct json_object *vm = json_object_array_get_idx(vms, i), *name, *vcpus;
                if (!json_object_is_type(vm, json_type_object) || !json_object_object_get_ex(vm, "vm", &name) ||
                    !json_object_is_type(name, json_type_string))
                        return -EBADMSG;
                n++;
                if (json_object_object_get_ex(vm, "vcpu", &vcpus) && json_object_is_type(vcpus, json_type_array))
                        n += json_object_array_length(vcpus);
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (n > 0) {
                s->items = calloc(n, sizeof(*s->items));
                if (!s->items)
                        return -ENOMEM;
        }
        if (json_object_object_get_ex(data, "uptime_s", &v))
                s->uptime_s = json_object_get_double(v);
        get_str(data, "mode", s->mode, sizeof(s->mode));
        s->dry_run = json_object_object_get_ex(data, "dry_run", &v) && json_object_get_boolean(v);

        for (size_t i = 0; i < json_object_array_length(vms); i++) {
                struct json_object *vm = json_object_array_get_idx(vms, i), *vcpus;
                struct vs_top_counters *c = &s->items[s->n_items++];

                get_str(vm, "vm", c->vm, sizeof(c->vm));
                get_str(vm, "mode", c->mode, sizeof(c->mode));
                c->vcpu = -1;
                read_counters(vm, c);
                if (!json_object_object_get_ex(vm, "vcpu", &vcpus) || !json_object_is_type(vcpus, json_type_array))
                        continue;
                for (size_t j = 0; j < json_object_array_length(vcpus); j++) {
                        struct json_object *vc = json_object_array_get_idx(vcpus, j), *idx;
                        struct vs_top_counters *cc = &s->items[s->n_items++];

                        memcpy(cc->vm, c->vm, sizeof(cc->vm));
                        memcpy(cc->mode, c->mode, sizeof(cc->mode));
                        cc->vcpu = (int) j;
                        if (json_object_object_get_ex(vc, "vcpu", &idx) && json_object_is_type(idx, json_type_int))
                                cc->vcpu = json_object_get_int(idx);
                        get_str(vc, "state", cc->state, sizeof(cc->state));
                        read_counters(vc, cc);
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---------------------------------------------------------------- rows */

static const struct vs_top_counters *find(const struct vs_top_snapshot *s, const struct vs_top_counters *c) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_items; i++)
                if (s->items[i].vcpu == c->vcpu && strcmp(s->items[i].vm, c->vm) == 0)
                        return &s->items[i];
        return NULL;
}

static double rate(uint64_t now, uint64_t before, double dt) {
        return now >= before ? (double) (now - before) / dt : NAN;
}

int vs_top_rows(const struct vs_top_snapshot *prev, const struct vs_top_snapshot *cur, struct vs_top_row **ret_rows,
                size_t *ret_n) {
        struct vs_top_row *rows = NULL;
        double dt = prev ? cur->uptime_s - prev->uptime_s : 0;

        if (cur->n_items > 0) {
                rows = calloc(cur->n_items, sizeof(*rows));
                if (!rows)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < cur->n_items; i++) {
                const struct vs_top_counters *c = &cur->items[i], *p = dt > 0 ? find(prev, c) : NULL;
                struct vs_top_row *r = &rows[i];

                memcpy(r->vm, c->vm, sizeof(r->vm));
                memcpy(r->mode, c->mode, sizeof(r->mode));
                memcpy(r->state, c->state, sizeof(r->state));
                r->vcpu = c->vcpu;
                r->eoi_p99_ns = c->eoi_p99_ns;
                r->weight = c->weight;
                r->weight_baseline = c->weight_baseline;
                r->ipi_in_rate = r->ipi_out_rate = r->pause_rate = r->yield_rate = r->ready_share = NAN;
                r->preempted_share = c->ipis_in > 0 ? (double) c->ipis_in_not_running / (double) c->ipis_in : NAN;
                if (!p)
                        continue;
                r->ipi_in_rate = rate(c->ipis_in, p->ipis_in, dt);
                r->ipi_out_rate = rate(c->ipis_out, p->ipis_out, dt);
                r->pause_rate = rate(c->pause_exits, p->pause_exits, dt);
                r->yield_rate = rate(c->yields_out, p->yields_out, dt);
                if (c->has_run_delay && p->has_run_delay)
                        r->ready_share = rate(c->run_delay_ns, p->run_delay_ns, dt) / 1e9;
                if (c->ipis_in > p->ipis_in && c->ipis_in_not_running >= p->ipis_in_not_running)
                        r->preempted_share = (double) (c->ipis_in_not_running - p->ipis_in_not_running) /
                                             (double) (c->ipis_in - p->ipis_in);
        }
        *ret_rows = rows;
        *ret_n = cur->n_items;
        return 0;
}

/* ---------------------------------------------------------------- sorting */

struct sort_ctx {
        enum vs_top_col col;
        bool reverse;
};

/* glibc's qsort_r would do; a file-level context keeps this portable C11 and
 * the sort is single-threaded (vschedctl). */
static struct sort_ctx sort_ctx;

static int cmp_name(const struct vs_top_row *a, const struct vs_top_row *b) {
        int c = strcmp(a->vm, b->vm);
        return c ? c : (a->vcpu > b->vcpu) - (a->vcpu < b->vcpu);
}

/* <0: a first.  Unknown last, then by value, ties by name. */
static int cmp_num(double a, double b, bool a_known, bool b_known, bool reverse) {
        if (a_known != b_known)
                return a_known ? -1 : 1;
        if (!a_known || a == b)
                return 0;
        return (a > b) == !reverse ? -1 : 1;
}

static int cmp_text(const char *a, const char *b, bool reverse) {
        if (!*a != !*b)
                return *a ? -1 : 1;
        return reverse ? strcmp(b, a) : strcmp(a, b);
}

static int cmp_rows(const void *pa, const void *pb) {
        const struct vs_top_row *a = pa, *b = pb;
        bool rev = sort_ctx.reverse;
        int c = 0;

        switch (sort_ctx.col) {
        case VS_TOP_COL_NAME:
                c = rev ? cmp_name(b, a) : cmp_name(a, b);
                break;
        case VS_TOP_COL_IPI_IN:
                c = cmp_num(a->ipi_in_rate, b->ipi_in_rate, !isnan(a->ipi_in_rate), !isnan(b->ipi_in_rate), rev);
                break;
        case VS_TOP_COL_IPI_OUT:
                c = cmp_num(a->ipi_out_rate, b->ipi_out_rate, !isnan(a->ipi_out_rate), !isnan(b->ipi_out_rate), rev);
                break;
        case VS_TOP_COL_PREEMPTED:
                c = cmp_num(a->preempted_share, b->preempted_share, !isnan(a->preempted_share),
                            !isnan(b->preempted_share), rev);
                break;
        case VS_TOP_COL_READY:
                c = cmp_num(a->ready_share, b->ready_share, !isnan(a->ready_share), !isnan(b->ready_share), rev);
                break;
        case VS_TOP_COL_EOI_P99:
                c = cmp_num((double) a->eoi_p99_ns, (double) b->eoi_p99_ns, a->eoi_p99_ns > 0, b->eoi_p99_ns > 0, rev);
                break;
        case VS_TOP_COL_PAUSE:
                c = cmp_num(a->pause_rate, b->pause_rate, !isnan(a->pause_rate), !isnan(b->pause_rate), rev);
                break;
        case VS_TOP_COL_YIELD:
                c = cmp_num(a->yield_rate, b->yield_rate, !isnan(a->yield_rate), !isnan(b->yield_rate), rev);
                break;
        case VS_TOP_COL_WEIGHT:
                c = cmp_num((double) a->weight, (double) b->weight, a->weight >= 0, b->weight >= 0, rev);
                break;
        case VS_TOP_COL_MODE:
                c = cmp_text(a->mode, b->mode, rev);
                break;
        case VS_TOP_COL_STATE:
                c = cmp_text(a->state, b->state, rev);
                break;
        default:
                break;
        }
        return c ? c : cmp_name(a, b);
}

int vs_top_sort(struct vs_top_row *rows, size_t n, enum vs_top_col col, bool reverse) {
        _cleanup_free_ struct vs_top_row *out = NULL;
        _cleanup_free_ size_t *start = NULL, *count = NULL, *order = NULL;
        size_t n_groups = 0, o = 0;

        if (n == 0)
                return 0;
        out = calloc(n, sizeof(*out));
        start = calloc(n, sizeof(*start));
        count = calloc(n, sizeof(*count));
        order = calloc(n, sizeof(*order));
        if (!out || !start || !count || !order)
                return -ENOMEM;

        /* groups: a VM row and the vCPU rows that follow it (vCPU rows before
         * the first VM row, which vs_top_rows() never makes, form a group) */
        for (size_t i = 0; i < n; i++) {
                if (rows[i].vcpu < 0 || n_groups == 0) {
                        start[n_groups] = i;
                        order[n_groups] = n_groups;
                        n_groups++;
                }
                count[n_groups - 1]++;
        }
        sort_ctx = (struct sort_ctx) { col, reverse };
        /* groups by their first row; insertion sort: stable, and VMs are few */
        for (size_t a = 1; a < n_groups; a++)
                for (size_t b = a; b > 0 && cmp_rows(&rows[start[order[b - 1]]], &rows[start[order[b]]]) > 0; b--) {
                        size_t t = order[b];
                        order[b] = order[b - 1];
                        order[b - 1] = t;
                }
        for (size_t g = 0; g < n_groups; g++) {
                size_t s = start[order[g]], k = count[order[g]], head = rows[s].vcpu < 0;
                memcpy(&out[o], &rows[s], k * sizeof(*rows));
                qsort(&out[o + head], k - head, sizeof(*rows), cmp_rows);
                o += k;
        }
        memcpy(rows, out, n * sizeof(*rows));
        return 0;
}

/* ---------------------------------------------------------------- formatting */

static void fmt_rate(double v, char *buf, size_t len) {
        if (isnan(v) || v < 0)
                snprintf(buf, len, "-");
        else if (v < 1000)
                snprintf(buf, len, "%.1f", v);
        else if (v < 1e6)
                snprintf(buf, len, "%.1fk", v / 1e3);
        else
                snprintf(buf, len, "%.1fM", v / 1e6);
}

static void fmt_ns(uint64_t ns, char *buf, size_t len) {
        if (ns == 0)
                snprintf(buf, len, "-");
        else if (ns < 1000)
                snprintf(buf, len, "%uns", (unsigned) ns);
        else if (ns < 1000000)
                snprintf(buf, len, "%uus", (unsigned) (ns / 1000));
        else if (ns < 1000000000)
                snprintf(buf, len, "%.1fms", (double) ns / 1e6);
        else
                snprintf(buf, len, "%.1fs", (double) ns / 1e9);
}

static void fmt_text(const char *s, char *buf, size_t len) {
        size_t i;

        if (len == 0)
                return;
        for (i = 0; s[i] && i + 1 < len; i++)
                buf[i] = (unsigned char) s[i] >= 0x20 && (unsigned char) s[i] < 0x7f ? s[i] : '?';
        buf[i] = 0;
        if (i == 0 && len > 1)
                snprintf(buf, len, "-");
}

void vs_top_format_cell(const struct vs_top_row *row, enum vs_top_col col, char *buf, size_t len) {
        char name[VS_TOP_NAME_MAX];

        if (len == 0)
                return;
        switch (col) {
        case VS_TOP_COL_NAME:
                fmt_text(row->vm, name, sizeof(name));
                if (row->vcpu < 0)
                        snprintf(buf, len, "%s", name);
                else
                        snprintf(buf, len, "  vcpu%d", row->vcpu);
                break;
        case VS_TOP_COL_IPI_IN:
                fmt_rate(row->ipi_in_rate, buf, len);
                break;
        case VS_TOP_COL_IPI_OUT:
                fmt_rate(row->ipi_out_rate, buf, len);
                break;
        case VS_TOP_COL_PREEMPTED:
                if (isnan(row->preempted_share))
                        snprintf(buf, len, "-");
                else
                        snprintf(buf, len, "%.0f%%", row->preempted_share * 100.0);
                break;
        case VS_TOP_COL_READY:
                if (isnan(row->ready_share) || row->ready_share < 0)
                        snprintf(buf, len, "-");
                else if (row->ready_share < 0.1)
                        snprintf(buf, len, "%.1f%%", row->ready_share * 100.0);
                else
                        snprintf(buf, len, "%.0f%%", row->ready_share * 100.0);
                break;
        case VS_TOP_COL_EOI_P99:
                fmt_ns(row->eoi_p99_ns, buf, len);
                break;
        case VS_TOP_COL_PAUSE:
                fmt_rate(row->pause_rate, buf, len);
                break;
        case VS_TOP_COL_YIELD:
                fmt_rate(row->yield_rate, buf, len);
                break;
        case VS_TOP_COL_WEIGHT:
                if (row->weight < 0 && row->weight_baseline < 0)
                        snprintf(buf, len, "-");
                else if (row->weight < 0)
                        snprintf(buf, len, "-/%lld", (long long) row->weight_baseline);
                else if (row->weight_baseline < 0)
                        snprintf(buf, len, "%lld/-", (long long) row->weight);
                else
                        snprintf(buf, len, "%lld/%lld", (long long) row->weight, (long long) row->weight_baseline);
                break;
        case VS_TOP_COL_MODE:
                fmt_text(row->mode, buf, len);
                break;
        case VS_TOP_COL_STATE:
                fmt_text(row->state, buf, len);
                break;
        default:
                snprintf(buf, len, "?");
        }
}
