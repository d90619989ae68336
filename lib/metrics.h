/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * metrics.h - OpenMetrics 1.0 text exposition: families of counters and
 * gauges with labelled samples, and histograms, rendered with the escaping the format
 * requires and the trailing "# EOF".
 *
 * Owns only the text it builds.  Does not know where the numbers come from
 * (the daemon collects them) or where the text goes (vschedctl metrics, an
 * optional listen socket).  Label values are untrusted (VM names): they are
 * escaped (backslash, double quote, newline) and invalid UTF-8 is replaced by
 * U+FFFD, so any input gives a parseable exposition.  Names (metric and
 * label) are ours and are checked, not escaped: a bad one is -EINVAL.
 *
 * Two ways in:
 *  - a builder: vs_metrics_family() then vs_metrics_sample*() for each of its
 *    samples, next family, ..., vs_metrics_finish();
 *  - vs_metrics_format() over a constant array of struct vs_metric_family.
 *
 * Counter families are named without "_total"; their samples get the suffix
 * (family "vschedd_events", sample "vschedd_events_total{type="ipi"} 3").
 * The output uses "." as decimal separator as long as LC_NUMERIC is "C"
 * (the daemon never calls setlocale()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Content-Type for an HTTP exposition of vs_metrics_finish()'s text. */
#define VS_METRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

enum vs_metric_type {
        VS_METRIC_COUNTER,
        VS_METRIC_GAUGE,
};

struct vs_metric_label {
        const char *name;       /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
        const char *value;      /* any text, escaped on output */
};

struct vs_metric_sample {
        const struct vs_metric_label *labels;
        size_t n_labels;
        bool is_double;         /* false: u64 is the value; true: d is */
        uint64_t u64;
        double d;
};

struct vs_metric_family {
        const char *name;       /* [a-zA-Z_:][a-zA-Z0-9_:]* */
        enum vs_metric_type type;
        const char *help;       /* may be NULL; escaped on output */
        const struct vs_metric_sample *samples;
        size_t n_samples;
};

struct vs_metrics;

/* Returns 0 or -ENOMEM. */
int vs_metrics_new(struct vs_metrics **ret);
/* Accepts NULL, returns NULL. */
struct vs_metrics *vs_metrics_free(struct vs_metrics *m);

/*
 * vs_metrics_family - start a family.  Returns 0, -EINVAL (bad name, a
 * counter named "*_total", or after vs_metrics_finish), -EEXIST (a family
 * of that name was already started), -ENOMEM.
 */
int vs_metrics_family(struct vs_metrics *m, const char *name, enum vs_metric_type type, const char *help);

/*
 * vs_metrics_sample_u64 / vs_metrics_sample_double - one sample of the
 * current family.  Returns 0, -EINVAL (no family yet, bad or duplicate label
 * name, a negative or NaN counter), -ENOMEM.
 */
int vs_metrics_sample_u64(struct vs_metrics *m, const struct vs_metric_label *labels, size_t n_labels,
                          uint64_t value);
int vs_metrics_sample_double(struct vs_metrics *m, const struct vs_metric_label *labels, size_t n_labels,
                             double value);

/*
 * vs_metrics_histogram - a whole histogram family: "# TYPE NAME histogram",
 * NAME_bucket{le="B"} with the cumulative count for each of the @n_bounds
 * ascending upper bounds (@bounds, in the unit of the name, e.g. seconds)
 * and le="+Inf", then NAME_count and NAME_sum.  @counts holds @n_bounds + 1
 * per-bucket (not cumulative) counts, the last above every bound.  Returns 0,
 * -EINVAL (bad name, bounds not ascending, a negative or NaN sum, after
 * vs_metrics_finish), -EEXIST, -ENOMEM.
 */
int vs_metrics_histogram(struct vs_metrics *m, const char *name, const char *help, const double *bounds,
                         const uint64_t *counts, size_t n_bounds, double sum);

/* Add whole families from arrays.  Same returns as above; stops at the first error. */
int vs_metrics_add_families(struct vs_metrics *m, const struct vs_metric_family *families, size_t n);

/*
 * vs_metrics_finish - append "# EOF" and hand out the text (malloc'd,
 * NUL-terminated).  The builder accepts nothing afterwards.  Returns 0,
 * -EINVAL when called twice, -ENOMEM.
 */
int vs_metrics_finish(struct vs_metrics *m, char **ret_text);

/* vs_metrics_format - the whole exposition of @families in one call.  Returns as above. */
int vs_metrics_format(const struct vs_metric_family *families, size_t n, char **ret_text);
