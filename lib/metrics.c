/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * metrics.c - OpenMetrics text builder (see metrics.h).  No I/O besides an
 * in-memory stream, no logging.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"

struct vs_metrics {
        FILE *f;
        char *buf;
        size_t size;
        bool finished;
        /* current family */
        char *name;
        enum vs_metric_type type;
        /* names of every family so far, to refuse duplicates */
        char **names;
        size_t n_names;
};

int vs_metrics_new(struct vs_metrics **ret) {
        struct vs_metrics *m;

        if (!ret)
                return -EINVAL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->f = open_memstream(&m->buf, &m->size);
        if (!m->f) {
                free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

struct vs_metrics *vs_metrics_free(struct vs_metrics *m) {
        if (!m)
                return NULL;
        if (m->f)
                (void) fclose(m->f);
        free(m->buf);
        for (size_t i = 0; i < m->n_names; i++)
                free(m->names[i]);
        free(m->names);
        free(m);
        return NULL;
}

static bool name_char(char c, bool first, bool colon) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
                return true;
        if (colon && c == ':')
                return true;
        return !first && c >= '0' && c <= '9';
}

static bool metric_name_valid(const char *s) {
        if (!s || !*s)
                return false;
        for (size_t i = 0; s[i]; i++)
                if (!name_char(s[i], i == 0, true))
                        return false;
        return true;
}

static bool label_name_valid(const char *s) {
        if (!s || !*s || strncmp(s, "__", 2) == 0)
                return false;
        for (size_t i = 0; s[i]; i++)
                if (!name_char(s[i], i == 0, false))
                        return false;
        return true;
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s) {
        unsigned char c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                cp = c & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

/* Write @s escaped as an OpenMetrics escaped-string: \\ \" \n; invalid UTF-8 -> U+FFFD. */
static void put_escaped(FILE *f, const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                size_t n;
                switch (*p) {
                case '\\':
                        fputs("\\\\", f);
                        p++;
                        continue;
                case '"':
                        fputs("\\\"", f);
                        p++;
                        continue;
                case '\n':
                        fputs("\\n", f);
                        p++;
                        continue;
                }
                n = utf8_seq_len(p);
                if (n == 0) {
                        fputs("\xef\xbf\xbd", f);
                        p++;
                        continue;
                }
                fwrite(p, 1, n, f);
                p += n;
        }
}

/* Register @name (unique) as the current family and write its TYPE and HELP. */
static int family_begin(struct vs_metrics *m, const char *name, const char *type, const char *help) {
        char **names;
        char *copy;

        for (size_t i = 0; i < m->n_names; i++)
                if (strcmp(m->names[i], name) == 0)
                        return -EEXIST;

        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        names = realloc(m->names, (m->n_names + 1) * sizeof(*names));
        if (!names) {
                free(copy);
                return -ENOMEM;
        }
        m->names = names;
        m->names[m->n_names++] = copy;
        m->name = copy;

        fprintf(m->f, "# TYPE %s %s\n", name, type);
        if (help) {
                fprintf(m->f, "# HELP %s ", name);
                put_escaped(m->f, help);
                fputc('\n', m->f);
        }
        return 0;
}

int vs_metrics_family(struct vs_metrics *m, const char *name, enum vs_metric_type type, const char *help) {
        int r;

        if (!m || m->finished || !metric_name_valid(name))
                return -EINVAL;
        if (type != VS_METRIC_COUNTER && type != VS_METRIC_GAUGE)
                return -EINVAL;
        if (type == VS_METRIC_COUNTER && has_suffix(name, "_total"))
                return -EINVAL;
        r = family_begin(m, name, type == VS_METRIC_COUNTER ? "counter" : "gauge", help);
        if (r < 0)
                return r;
        m->type = type;
        return 0;
}

/* @v as OpenMetrics wants a number: the shortest of %.15g / %.17g that reads back exactly. */
static void format_double(double v, char *num, size_t len) {
        if (isnan(v))
                snprintf(num, len, "NaN");
        else if (isinf(v))
                snprintf(num, len, "%sInf", v > 0 ? "+" : "-");
        else {
                snprintf(num, len, "%.15g", v);
                if (strtod(num, NULL) != v)
                        snprintf(num, len, "%.17g", v);
        }
}

int vs_metrics_histogram(struct vs_metrics *m, const char *name, const char *help, const double *bounds,
                         const uint64_t *counts, size_t n_bounds, double sum) {
        char num[64];
        uint64_t cum = 0;
        int r;

        if (!m || m->finished || !metric_name_valid(name) || (n_bounds && !bounds) || !counts || isnan(sum) ||
            sum < 0)
                return -EINVAL;
        for (size_t i = 0; i < n_bounds; i++)
                if (isnan(bounds[i]) || isinf(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
                        return -EINVAL;
        r = family_begin(m, name, "histogram", help);
        if (r < 0)
                return r;
        m->name = NULL;         /* no vs_metrics_sample*() into a histogram */
        for (size_t i = 0; i <= n_bounds; i++) {
                cum += counts[i];
                if (i < n_bounds)
                        format_double(bounds[i], num, sizeof(num));
                else
                        snprintf(num, sizeof(num), "+Inf");
                fprintf(m->f, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, num, cum);
        }
        fprintf(m->f, "%s_count %" PRIu64 "\n", name, cum);
        format_double(sum, num, sizeof(num));
        fprintf(m->f, "%s_sum %s\n", name, num);
        return 0;
}

static int sample_begin(struct vs_metrics *m, const struct vs_metric_label *labels, size_t n_labels) {
        if (!m || m->finished || !m->name || (n_labels > 0 && !labels))
                return -EINVAL;
        for (size_t i = 0; i < n_labels; i++) {
                if (!label_name_valid(labels[i].name) || !labels[i].value)
                        return -EINVAL;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(labels[i].name, labels[j].name) == 0)
                                return -EINVAL;
        }

        fputs(m->name, m->f);
        if (m->type == VS_METRIC_COUNTER)
                fputs("_total", m->f);
        if (n_labels > 0) {
                fputc('{', m->f);
                for (size_t i = 0; i < n_labels; i++) {
                        fprintf(m->f, "%s%s=\"", i > 0 ? "," : "", labels[i].name);
                        put_escaped(m->f, labels[i].value);
                        fputc('"', m->f);
                }
                fputc('}', m->f);
        }
        return 0;
}

int vs_metrics_sample_u64(struct vs_metrics *m, const struct vs_metric_label *labels, size_t n_labels,
                          uint64_t value) {
        int r = sample_begin(m, labels, n_labels);
        if (r < 0)
                return r;
        fprintf(m->f, " %" PRIu64 "\n", value);
        return 0;
}

int vs_metrics_sample_double(struct vs_metrics *m, const struct vs_metric_label *labels, size_t n_labels,
                             double value) {
        char num[64];
        int r;

        if (m && m->type == VS_METRIC_COUNTER && (isnan(value) || value < 0))
                return -EINVAL;
        r = sample_begin(m, labels, n_labels);
        if (r < 0)
                return r;

        format_double(value, num, sizeof(num));
        fprintf(m->f, " %s\n", num);
        return 0;
}

int vs_metrics_add_families(struct vs_metrics *m, const struct vs_metric_family *families, size_t n) {
        int r;

        if (!m || (n > 0 && !families))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                const struct vs_metric_family *fam = &families[i];

                r = vs_metrics_family(m, fam->name, fam->type, fam->help);
                if (r < 0)
                        return r;
                if (fam->n_samples > 0 && !fam->samples)
                        return -EINVAL;
                for (size_t j = 0; j < fam->n_samples; j++) {
                        const struct vs_metric_sample *s = &fam->samples[j];
                        r = s->is_double ? vs_metrics_sample_double(m, s->labels, s->n_labels, s->d)
                                         : vs_metrics_sample_u64(m, s->labels, s->n_labels, s->u64);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int vs_metrics_finish(struct vs_metrics *m, char **ret_text) {
        char *text;
        int r;

        if (!m || !ret_text || m->finished)
                return -EINVAL;
        m->finished = true;
        fputs("# EOF\n", m->f);
        r = ferror(m->f) ? -ENOMEM : 0;
        if (fclose(m->f) != 0 && r == 0)
                r = -ENOMEM;
        m->f = NULL;
        if (r < 0)
                return r;
        text = TAKE_PTR(m->buf);
        *ret_text = text;
        return 0;
}

int vs_metrics_format(const struct vs_metric_family *families, size_t n, char **ret_text) {
        struct vs_metrics *m = NULL;
        int r;

        r = vs_metrics_new(&m);
        if (r < 0)
                return r;
        r = vs_metrics_add_families(m, families, n);
        if (r >= 0)
                r = vs_metrics_finish(m, ret_text);
        vs_metrics_free(m);
        return r;
}
