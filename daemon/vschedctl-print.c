/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vschedctl-print.c - vschedctl's rendering of the daemon's answers (see
 * vschedctl-print.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json-util.h"
#include "macro.h"
#include "vschedctl-print.h"

/* Untrusted text (VM names) for a terminal: control characters escaped. */
static void sanitize(const char *s, char *out, size_t outsz) {
        size_t n = 0;
        for (; *s && n + 5 < outsz; s++) {
                unsigned char c = (unsigned char) *s;
                if (c < 0x20 || c == 0x7f)
                        n += (size_t) snprintf(out + n, outsz - n, "\\x%02x", c);
                else
                        out[n++] = (char) c;
        }
        out[n] = 0;
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool is_scalar(struct json_object *v) {
        return !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array);
}

/* A duration in ns, e.g. "0", "850us", "12.3ms", "4.567s". */
static void format_ns(uint64_t ns, char *out, size_t outsz) {
        if (ns >= 1000000000u)
                snprintf(out, outsz, "%.3fs", ns / 1e9);
        else if (ns >= 1000000u)
                snprintf(out, outsz, "%.1fms", ns / 1e6);
        else if (ns >= 1000u)
                snprintf(out, outsz, "%.0fus", ns / 1e3);
        else
                snprintf(out, outsz, "%" PRIu64 "%s", ns, ns ? "ns" : "");
}

static void format_value(const char *key, struct json_object *v, char *out, size_t outsz) {
        switch (json_object_get_type(v)) {
        case json_type_null:
                snprintf(out, outsz, "-");
                return;
        case json_type_boolean:
                snprintf(out, outsz, "%s", json_object_get_boolean(v) ? "yes" : "no");
                return;
        case json_type_double:
                if (has_suffix(key, "_share"))
                        snprintf(out, outsz, "%.1f%%", 100.0 * json_object_get_double(v));
                else
                        snprintf(out, outsz, "%.1f", json_object_get_double(v));
                return;
        case json_type_int:
                if (strcmp(key, "uptime_s") == 0) {
                        int64_t s = json_object_get_int64(v);
                        if (s >= 86400)
                                snprintf(out, outsz, "%" PRId64 "d %02" PRId64 "h %02" PRId64 "m", s / 86400,
                                         s / 3600 % 24, s / 60 % 60);
                        else
                                snprintf(out, outsz, "%" PRId64 "h %02" PRId64 "m %02" PRId64 "s", s / 3600,
                                         s / 60 % 60, s % 60);
                } else if (has_suffix(key, "_share"))
                        snprintf(out, outsz, "%.1f%%", 100.0 * (double) json_object_get_int64(v));
                else if (has_suffix(key, "_ns"))
                        format_ns(json_object_get_uint64(v), out, outsz);
                else
                        snprintf(out, outsz, "%s", json_object_get_string(v));
                return;
        case json_type_string:
                sanitize(json_object_get_string(v), out, outsz);
                return;
        default: {
                /* a nested value in a table cell: show its size */
                size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v)
                                                                   : (size_t) json_object_object_length(v);
                snprintf(out, outsz, "(%zu)", n);
                return;
        }
        }
}

static const struct {
        const char *key, *label;
} labels[] = {
        { "mode", "Mode" },
        { "uptime_s", "Uptime" },
        { "signals", "Signals" },
        { "events", "Events" },
        { "events_per_s", "Events/s" },
        { "lost", "Lost events" },
        { "run_delay_source", "Run delay from" },
        { "run_delay_ns", "Run delay" },
        { "preempted_ns", "Preempted time" },
        { "waiting_ns", "Woken wait" },
        { "cause_ns", "Cause" },
        { "waste_ns", "Waste" },
        { "vms", "VMs" },
        { "vm", "VM" },
        { "vcpus", "vCPUs" },
        { "weight_min", "Weight min" },
        { "weight_max", "Weight max" },
        { "idle", "Idle" },
        { "priority", "Priority" },
        { "left_alone", "Left alone" },
        { "directed_yield", "Directed yield" },
        { "edges", "Top edges" },
        { "adjustments", "Adjustments" },
        { "preempted_share", "Preempted" },
        { "src", "From vCPU" },
        { "dst", "To vCPU" },
        { "vcpu", "vCPU" },
        { "count", "IPIs" },
        { "file", "File" },
        { "value", "Value" },
        { "baseline", "Baseline" },
};

static const char *label_for(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(labels); i++)
                if (strcmp(labels[i].key, key) == 0)
                        return labels[i].label;
        return key;
}

static int cmp_count_desc(const void *a, const void *b) {
        struct json_object *x = *(struct json_object *const *) a, *y = *(struct json_object *const *) b;
        struct json_object *cx = NULL, *cy = NULL;
        int64_t vx, vy;

        json_object_object_get_ex(x, "count", &cx);
        json_object_object_get_ex(y, "count", &cy);
        vx = cx ? json_object_get_int64(cx) : 0;
        vy = cy ? json_object_get_int64(cy) : 0;
        return vx < vy ? 1 : vx > vy ? -1 : 0;
}

#define MAX_COLS 16
#define CELL 96

static void print_table(struct json_object *arr, const char *key, unsigned indent, unsigned top_n);

/* A table of the scalar fields of an array of objects; nested arrays of
 * objects (e.g. each VM's edges) follow as sub-tables per row. */
static void print_table(struct json_object *arr, const char *key, unsigned indent, unsigned top_n) {
        size_t n = json_object_array_length(arr), shown = n;
        const char *cols[MAX_COLS];
        size_t ncols = 0, width[MAX_COLS];
        _cleanup_free_ struct json_object **rows = NULL;
        char cell[CELL];

        if (n == 0) {
                printf("%*s(none)\n", (int) indent, "");
                return;
        }
        rows = calloc(n, sizeof(*rows));
        if (!rows)
                return;
        for (size_t i = 0; i < n; i++)
                rows[i] = json_object_array_get_idx(arr, i);
        if (strcmp(key, "edges") == 0)
                qsort(rows, n, sizeof(*rows), cmp_count_desc);
        if (top_n > 0 && n > top_n)
                shown = top_n;

        /* columns: scalar keys in order of first appearance */
        for (size_t i = 0; i < shown; i++) {
                if (!json_object_is_type(rows[i], json_type_object))
                        continue;
                json_object_object_foreach(rows[i], k, v) {
                        bool seen = false;
                        if (!is_scalar(v))
                                continue;
                        for (size_t c = 0; c < ncols; c++)
                                seen = seen || strcmp(cols[c], k) == 0;
                        if (!seen && ncols < MAX_COLS) {
                                cols[ncols] = k;
                                width[ncols] = strlen(label_for(k));
                                ncols++;
                        }
                }
        }
        for (size_t i = 0; i < shown; i++)
                for (size_t c = 0; c < ncols; c++) {
                        struct json_object *v;
                        if (json_object_object_get_ex(rows[i], cols[c], &v)) {
                                format_value(cols[c], v, cell, sizeof(cell));
                                if (strlen(cell) > width[c])
                                        width[c] = strlen(cell);
                        }
                }

        printf("%*s", (int) indent, "");
        for (size_t c = 0; c < ncols; c++) {
                char up[CELL];
                size_t j;
                for (j = 0; label_for(cols[c])[j] && j + 1 < sizeof(up); j++)
                        up[j] = (char) (label_for(cols[c])[j] >= 'a' && label_for(cols[c])[j] <= 'z'
                                                ? label_for(cols[c])[j] - 'a' + 'A'
                                                : label_for(cols[c])[j]);
                up[j] = 0;
                printf("%-*s%s", c + 1 < ncols ? (int) width[c] : 0, up, c + 1 < ncols ? "  " : "\n");
        }
        for (size_t i = 0; i < shown; i++) {
                printf("%*s", (int) indent, "");
                for (size_t c = 0; c < ncols; c++) {
                        struct json_object *v = NULL;
                        if (json_object_is_type(rows[i], json_type_object) &&
                            json_object_object_get_ex(rows[i], cols[c], &v))
                                format_value(cols[c], v, cell, sizeof(cell));
                        else
                                snprintf(cell, sizeof(cell), "-");
                        printf("%-*s%s", c + 1 < ncols ? (int) width[c] : 0, cell, c + 1 < ncols ? "  " : "\n");
                }
        }
        if (shown < n)
                printf("%*s... %zu more (see --json)\n", (int) indent, "", n - shown);

        /* nested arrays of objects, per row */
        for (size_t i = 0; i < shown; i++) {
                struct json_object *id = NULL;
                if (!json_object_is_type(rows[i], json_type_object))
                        continue;
                if (ncols > 0)
                        json_object_object_get_ex(rows[i], cols[0], &id);
                json_object_object_foreach(rows[i], k, v) {
                        if (!json_object_is_type(v, json_type_array))
                                continue;
                        format_value(ncols > 0 ? cols[0] : "", id, cell, sizeof(cell));
                        printf("\n%*s%s %s, %s:\n", (int) indent, "", ncols > 0 ? label_for(cols[0]) : "#",
                               id ? cell : "?", label_for(k));
                        print_table(v, k, indent + 2, strcmp(k, "edges") == 0 ? top_n : 0);
                }
        }
}

static bool all_numbers(struct json_object *o) {
        json_object_object_foreach(o, k, v) {
                (void) k;
                if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
                        return false;
        }
        return true;
}

/* "Key: value" lines for scalars, then nested objects, then tables. */
static void print_object(struct json_object *o, unsigned indent, unsigned top_n) {
        char cell[CELL];
        size_t w = 0;
        bool printed = false;

        json_object_object_foreach(o, k0, v0) {
                (void) v0;
                if (strlen(label_for(k0)) > w)
                        w = strlen(label_for(k0));
        }
        w += 2;

        json_object_object_foreach(o, k1, v1) {
                if (json_object_is_type(v1, json_type_array) && json_object_array_length(v1) > 0 &&
                    json_object_is_type(json_object_array_get_idx(v1, 0), json_type_object))
                        continue; /* tables last */
                printed = true;
                if (json_object_is_type(v1, json_type_array)) {
                        printf("%*s%s:%*s", (int) indent, "", label_for(k1), (int) (w - strlen(label_for(k1)) - 1), "");
                        for (size_t i = 0; i < json_object_array_length(v1); i++) {
                                format_value(k1, json_object_array_get_idx(v1, i), cell, sizeof(cell));
                                printf("%s%s", i ? ", " : "", cell);
                        }
                        printf("%s\n", json_object_array_length(v1) ? "" : "(none)");
                } else if (json_object_is_type(v1, json_type_object)) {
                        printf("%*s%s:", (int) indent, "", label_for(k1));
                        if (all_numbers(v1)) {
                                bool first = true;
                                printf("%*s", (int) (w - strlen(label_for(k1)) - 1), "");
                                json_object_object_foreach(v1, k2, v2) {
                                        char name[CELL];
                                        sanitize(k2, name, sizeof(name));
                                        format_value(k2, v2, cell, sizeof(cell));
                                        printf("%s%s %s", first ? "" : ", ", name, cell);
                                        first = false;
                                }
                                printf("%s\n", first ? "(none)" : "");
                        } else {
                                printf("\n");
                                print_object(v1, indent + 2, top_n);
                        }
                } else {
                        format_value(k1, v1, cell, sizeof(cell));
                        printf("%*s%s:%*s%s\n", (int) indent, "", label_for(k1), (int) (w - strlen(label_for(k1)) - 1),
                               "", cell);
                }
        }

        json_object_object_foreach(o, k3, v3) {
                if (!json_object_is_type(v3, json_type_array) || json_object_array_length(v3) == 0 ||
                    !json_object_is_type(json_object_array_get_idx(v3, 0), json_type_object))
                        continue;
                printf("%s%*s%s:\n", printed ? "\n" : "", (int) indent, "", label_for(k3));
                print_table(v3, k3, indent + 2, top_n);
                printed = true;
        }
}

int vschedctl_print(struct json_object *data, unsigned top_n, bool json) {
        if (json) {
                puts(data ? vs_json_line(data, NULL) : "{}");
        } else if (data)
                print_object(data, 0, top_n);
        return fflush(stdout) == 0 ? 0 : -EIO;
}
