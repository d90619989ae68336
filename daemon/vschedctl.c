/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vschedctl - control and inspect a running vschedd over its control socket
 * (lib/ctl-proto.h; one request, one response, SOCK_SEQPACKET).
 *
 * A command table drives parsing, dispatch and the help text; the protocol's
 * own table says which commands need root and which arguments "vm set"
 * takes, so the two cannot disagree.  --json prints the response's "data"
 * verbatim (one line) for scripts and tests; the human output is a rendering
 * of whatever keys the daemon sends, with a few known keys formatted.
 *
 * Schema the human output knows about (others are shown generically):
 *
 *   status: {"mode": str, "uptime_s": int,
 *            "signals": {"mode": str, "events": {TYPE: count, ...}},
 *            "events_per_s": num, "lost": int,
 *            "vms": [{"vm": str, "vcpus": int, "mode": str,
 *                     "edges": [{"src", "dst", "count", "preempted_share"}],
 *                     "adjustments": [{"vcpu", "file", "value", "baseline"}]}]}
 *   vms:    {"vms": [{"vm": str, "vcpus": int, "mode": str, ...scalars}]}
 *   vm:     {"vm", "vcpus", "mode", "weight_min", "weight_max", "idle",
 *            "edges": [...], "adjustments": [...], ...}
 *   metrics:{"text": OpenMetrics text}   (printed raw without --json)
 *   graph:  the "vm" answer drawn through lib/graph-dot (dot text) and
 *           dot(1) (SVG); --json does not apply
 *
 * Keys ending in "_share" are fractions (printed as percentages); "edges"
 * are sorted by "count" and, in "status", cut to the top 5.
 *
 * Exit status: 0 ok, 1 error (incl. daemon not running), 2 usage or invalid
 * arguments, 3 not authorised.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl-proto.h"
#include "graph-dot.h"
#include "graph-render.h"
#include "macro.h"
#include "vschedctl-top.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

enum {
        EXIT_OK = 0,
        EXIT_ERROR = 1,
        EXIT_USAGE = 2,
        EXIT_UNAUTH = 3,
};

#define TIMEOUT_SEC 10
#define TOP_EDGES 5

static const char *arg_socket = VS_CTL_SOCKET_PATH;
static bool arg_json;
static const char *arg_format;  /* graph: "svg" (default) or "dot" */

struct verb {
        const char *syntax;     /* for help */
        const char *words;      /* the fixed words that select it */
        unsigned min_args, max_args;
        enum vs_ctl_command command;
        int (*run)(const struct verb *v, char **args, unsigned n);
        const char *help;
};

static int run_status(const struct verb *v, char **args, unsigned n);
static int run_vms(const struct verb *v, char **args, unsigned n);
static int run_vm(const struct verb *v, char **args, unsigned n);
static int run_graph(const struct verb *v, char **args, unsigned n);
static int run_vm_set(const struct verb *v, char **args, unsigned n);
static int run_simple(const struct verb *v, char **args, unsigned n);
static int run_metrics(const struct verb *v, char **args, unsigned n);
static int run_top(const struct verb *v, char **args, unsigned n);

/* Order matters: "vm set" before "vm NAME". */
static const struct verb verbs[] = {
        { "status", "status", 0, 0, VS_CTL_CMD_STATUS, run_status,
          "Mode, host signal mode, events/s, lost events,\nVMs, top edges, current adjustments" },
        { "vms", "vms", 0, 0, VS_CTL_CMD_VMS, run_vms, "List the VMs vschedd watches" },
        { "vm set NAME key=value...", "vm set", 2, UINT_MAX, VS_CTL_CMD_VM_SET, run_vm_set,
          "Per-VM override, kept across restarts; keys:\n"
          "mode=off|observe|enforce weight-min=1..10000\nweight-max=1..10000 idle=0|1" },
        { "vm NAME", "vm", 1, 1, VS_CTL_CMD_VM, run_vm, "One VM: its IPI graph, weights and adjustments" },
        { "graph NAME", "graph", 1, 1, VS_CTL_CMD_VM, run_graph,
          "The VM's IPI graph as SVG (Graphviz dot(1); edge\nwidth = rate, colour = share to a vCPU not\n"
          "running), or as dot text with --format dot" },
        { "reload", "reload", 0, 0, VS_CTL_CMD_RELOAD, run_simple,
          "Re-read /etc/vschedd.conf (a bad file is refused whole)" },
        { "metrics", "metrics", 0, 0, VS_CTL_CMD_METRICS, run_metrics, "Counters and gauges as OpenMetrics text" },
        { "top [SECONDS]", "top", 0, 1, VS_CTL_CMD_TOP, run_top,
          "Live view per VM and vCPU: IPI rates, preempted\nshare, EOI p99, PAUSE/yield rates, weight vs\n"
          "baseline, mode; keys sort, q quits" },
};

static void json_putp(struct json_object **o) {
        if (*o)
                json_object_put(*o);
}

static void help(FILE *f) {
        fprintf(f,
                "Usage: vschedctl [OPTIONS] COMMAND [ARGS...]\n"
                "\n"
                "Inspect and control a running vschedd.\n"
                "\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const struct vs_ctl_command_info *ci = vs_ctl_command_by_id(verbs[i].command);
                const char *h = verbs[i].help;

                /* help texts may hold '\n': continuation lines line up under the first */
                fprintf(f, "  %-26s ", verbs[i].syntax);
                for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
                        fprintf(f, "%.*s\n%29s", (int) (nl - h), h, "");
                fprintf(f, "%s%s\n", h, ci && ci->needs_write ? " (root)" : "");
        }
        fprintf(f,
                "\n"
                "Options:\n"
                "  -s, --socket PATH          control socket (default %s)\n"
                "  -j, --json                 print the daemon's data as JSON (one line)\n"
                "  -f, --format svg|dot       graph: SVG picture (default) or dot text\n"
                "  -h, --help                 show this help\n"
                "  -V, --version              show the version\n"
                "\n"
                "Read commands need root or membership of group '%s'; changes need root.\n"
                "Exit status: 0 ok, 1 error, 2 usage, 3 not authorised.\n",
                VS_CTL_SOCKET_PATH, VS_CTL_GROUP);
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;
        fputs("vschedctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'vschedctl --help'.\n", stderr);
        return EXIT_USAGE;
}

/* ------------------------------------------------------------------ transport */

static int exit_for_status(enum vs_ctl_status s) {
        switch (s) {
        case VS_CTL_OK:
                return EXIT_OK;
        case VS_CTL_UNAUTH:
                return EXIT_UNAUTH;
        case VS_CTL_INVALID:
                return EXIT_USAGE;
        default:
                return EXIT_ERROR;
        }
}

/* Send one request, receive one response.  Returns an exit code; on EXIT_OK
 * *ret_data is the response's data (or NULL when it had none). */
static int call(const char *command, struct json_object *args, struct json_object **ret_data) {
        _cleanup_(json_putp) struct json_object *req = NULL, *data = NULL;
        _cleanup_free_ char *wire = NULL, *buf = NULL, *error = NULL;
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = TIMEOUT_SEC };
        enum vs_ctl_status status;
        size_t len;
        ssize_t n;
        int r;

        if (strlen(arg_socket) >= sizeof(sa.sun_path))
                return usage_error("socket path too long: %s", arg_socket);
        strcpy(sa.sun_path, arg_socket);

        req = vs_ctl_request_new(command, args);
        if (!req || vs_ctl_serialize(req, &wire, &len) < 0) {
                fprintf(stderr, "vschedctl: out of memory or request too large\n");
                return EXIT_ERROR;
        }
        buf = malloc(VS_CTL_MSG_MAX + 1);
        if (!buf) {
                fprintf(stderr, "vschedctl: out of memory\n");
                return EXIT_ERROR;
        }

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                fprintf(stderr, "vschedctl: socket: %m\n");
                return EXIT_ERROR;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                if (errno == ENOENT || errno == ECONNREFUSED) {
                        fprintf(stderr, "vschedctl: vschedd is not running (no socket at %s)\n", arg_socket);
                        return EXIT_ERROR;
                }
                if (errno == EACCES || errno == EPERM) {
                        fprintf(stderr, "vschedctl: permission denied on %s: needs root or group %s\n", arg_socket,
                                VS_CTL_GROUP);
                        return EXIT_UNAUTH;
                }
                fprintf(stderr, "vschedctl: cannot connect to %s: %m\n", arg_socket);
                return EXIT_ERROR;
        }

        /* A refused peer gets its answer at once and the connection closed: a
         * failed send is not the end, the answer may be waiting. */
        if (send(fd, wire, len, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET) {
                if (errno == EAGAIN)
                        fprintf(stderr, "vschedctl: timed out sending to vschedd\n");
                else
                        fprintf(stderr, "vschedctl: cannot send to vschedd: %m\n");
                return EXIT_ERROR;
        }

        n = recv(fd, buf, VS_CTL_MSG_MAX + 1, MSG_TRUNC);
        if (n < 0 && errno == ECONNRESET) {
                /* The daemon answered and closed while our request was still
                 * unread: the reset is reported (and cleared) first, the
                 * answer is still queued behind it. */
                n = recv(fd, buf, VS_CTL_MSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
                if (n < 0 && errno == EAGAIN)
                        n = 0;
        }
        if (n < 0) {
                if (errno == EAGAIN)
                        fprintf(stderr, "vschedctl: no answer from vschedd within %d s\n", TIMEOUT_SEC);
                else
                        fprintf(stderr, "vschedctl: cannot receive from vschedd: %m\n");
                return EXIT_ERROR;
        }
        if (n == 0) {
                fprintf(stderr, "vschedctl: vschedd closed the connection without answering\n");
                return EXIT_ERROR;
        }

        r = vs_ctl_response_parse(buf, (size_t) n, &status, &error, &data);
        if (r == -EMSGSIZE) {
                fprintf(stderr, "vschedctl: response of %zd bytes exceeds the maximum of %u\n", n, VS_CTL_MSG_MAX);
                return EXIT_ERROR;
        }
        if (r < 0) {
                fprintf(stderr, "vschedctl: malformed response from vschedd (a different protocol version?)\n");
                return EXIT_ERROR;
        }
        if (status != VS_CTL_OK) {
                fprintf(stderr, "vschedctl: %s: %s\n", command, error ?: vs_ctl_status_to_string(status));
                return exit_for_status(status);
        }
        *ret_data = TAKE_PTR(data);
        return EXIT_OK;
}

/* ------------------------------------------------------------------ rendering */

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
        { "vms", "VMs" },
        { "vm", "VM" },
        { "vcpus", "vCPUs" },
        { "weight_min", "Weight min" },
        { "weight_max", "Weight max" },
        { "idle", "Idle" },
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

static int output(struct json_object *data, unsigned top_n) {
        if (arg_json) {
                puts(data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                          : "{}");
        } else if (data)
                print_object(data, 0, top_n);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
}

/* ------------------------------------------------------------------ verbs */

static int run_status(const struct verb *v, char **args, unsigned n) {
        _cleanup_(json_putp) struct json_object *data = NULL;
        int r = call("status", NULL, &data);
        return r != EXIT_OK ? r : output(data, TOP_EDGES);
}

static int run_vms(const struct verb *v, char **args, unsigned n) {
        _cleanup_(json_putp) struct json_object *data = NULL;
        int r = call("vms", NULL, &data);
        return r != EXIT_OK ? r : output(data, 0);
}

static int run_vm(const struct verb *v, char **args, unsigned n) {
        _cleanup_(json_putp) struct json_object *data = NULL, *a = json_object_new_object();
        _cleanup_free_ char *err = NULL;
        const struct vs_ctl_command_info *ci = vs_ctl_command_by_id(v->command);
        int r;

        if (!a || json_object_object_add(a, "name", json_object_new_string(args[0])) < 0)
                return EXIT_ERROR;
        if (vs_ctl_validate_args(ci, a, &err) < 0)
                return usage_error("vm: %s", err ?: "invalid VM name");
        r = call(ci->name, a, &data);
        return r != EXIT_OK ? r : output(data, 0);
}

/* The "vm" answer (the report's VM object) drawn through lib/graph-dot. */
static int run_graph(const struct verb *v, char **args, unsigned n) {
        _cleanup_(json_putp) struct json_object *data = NULL, *a = json_object_new_object();
        _cleanup_free_ char *err = NULL, *dot = NULL, *svg = NULL;
        const struct vs_ctl_command_info *ci = vs_ctl_command_by_id(v->command);
        const char *format = arg_format ?: "svg";
        struct vs_graph *g = NULL;
        size_t len = 0;
        int r;

        if (strcmp(format, "svg") != 0 && strcmp(format, "dot") != 0)
                return usage_error("graph: --format must be svg or dot, not '%s'", format);
        if (arg_json)
                return usage_error("graph: --json does not apply (try --format dot, or 'vschedctl --json vm %s')",
                                   args[0]);
        if (!a || json_object_object_add(a, "name", json_object_new_string(args[0])) < 0)
                return EXIT_ERROR;
        if (vs_ctl_validate_args(ci, a, &err) < 0)
                return usage_error("graph: %s", err ?: "invalid VM name");
        r = call(ci->name, a, &data);
        if (r != EXIT_OK)
                return r;
        r = vs_graph_from_json(data, &g);
        if (r >= 0)
                r = vs_graph_dot(g, &dot);
        vs_graph_free(g);
        if (r < 0) {
                fprintf(stderr, "vschedctl: graph: unexpected answer from vschedd: %s\n", strerror(-r));
                return EXIT_ERROR;
        }
        if (strcmp(format, "dot") == 0) {
                fputs(dot, stdout);
                return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
        }
        r = vs_graph_render(dot, "svg", &svg, &len, &err);
        if (r == -ENOENT) {
                fprintf(stderr, "vschedctl: graph: dot(1) not found: install Graphviz (Debian package graphviz), "
                                "or use --format dot\n");
                return EXIT_ERROR;
        }
        if (r < 0) {
                fprintf(stderr, "vschedctl: graph: dot(1) failed: %s\n", err ?: strerror(-r));
                return EXIT_ERROR;
        }
        fwrite(svg, 1, len, stdout);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
}

static int run_vm_set(const struct verb *v, char **args, unsigned n) {
        _cleanup_(json_putp) struct json_object *data = NULL, *a = json_object_new_object();
        _cleanup_free_ char *err = NULL;
        const struct vs_ctl_command_info *ci = vs_ctl_command_by_id(v->command);
        int r;

        if (!a || json_object_object_add(a, "name", json_object_new_string(args[0])) < 0)
                return EXIT_ERROR;
        for (unsigned i = 1; i < n; i++) {
                const char *eq = strchr(args[i], '=');
                const struct vs_ctl_arg *arg;
                struct json_object *val = NULL;
                char key[64];
                size_t klen;

                if (!eq || eq == args[i])
                        return usage_error("vm set: expected key=value, got '%s'", args[i]);
                klen = (size_t) (eq - args[i]);
                if (klen >= sizeof(key))
                        return usage_error("vm set: unknown key '%.*s'", (int) klen, args[i]);
                for (size_t j = 0; j < klen; j++)
                        key[j] = args[i][j] == '-' ? '_' : args[i][j];
                key[klen] = 0;
                arg = vs_ctl_command_arg(ci, key);
                if (!arg || arg->required)
                        return usage_error("vm set: unknown key '%.*s' (mode, weight-min, weight-max, idle)",
                                           (int) klen, args[i]);
                if (json_object_object_get_ex(a, key, NULL))
                        return usage_error("vm set: '%s' given twice", key);
                if (vs_ctl_arg_from_string(arg, eq + 1, &val, &err) < 0)
                        return usage_error("vm set: %s", err ?: "invalid value");
                json_object_object_add(a, key, val);
        }
        if (vs_ctl_validate_args(ci, a, &err) < 0)
                return usage_error("vm set: %s", err ?: "invalid arguments");

        r = call(ci->name, a, &data);
        return r != EXIT_OK ? r : (arg_json ? output(data, 0) : EXIT_OK);
}

static int run_simple(const struct verb *v, char **args, unsigned n) {
        _cleanup_(json_putp) struct json_object *data = NULL;
        int r = call(vs_ctl_command_by_id(v->command)->name, NULL, &data);
        return r != EXIT_OK ? r : (arg_json ? output(data, 0) : EXIT_OK);
}

static int run_metrics(const struct verb *v, char **args, unsigned n) {
        _cleanup_(json_putp) struct json_object *data = NULL;
        struct json_object *text;
        int r = call("metrics", NULL, &data);

        if (r != EXIT_OK || arg_json)
                return r != EXIT_OK ? r : output(data, 0);
        if (!data || !json_object_object_get_ex(data, "text", &text) || !json_object_is_type(text, json_type_string)) {
                fprintf(stderr, "vschedctl: metrics: the daemon sent no text\n");
                return EXIT_ERROR;
        }
        fputs(json_object_get_string(text), stdout);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
}

static int top_fetch(void *userdata, struct json_object **ret_data) {
        return call("top", NULL, ret_data);
}

static int run_top(const struct verb *v, char **args, unsigned n) {
        double interval = 1.0;
        char *end;

        if (n > 0) {
                errno = 0;
                interval = strtod(args[0], &end);
                if (errno != 0 || end == args[0] || *end || !(interval >= 0.1 && interval <= 3600))
                        return usage_error("top: the refresh interval must be 0.1..3600 seconds, got '%s'", args[0]);
        }
        if (arg_json) {         /* scripts: the daemon's counters, once */
                _cleanup_(json_putp) struct json_object *data = NULL;
                int r = call("top", NULL, &data);
                return r != EXIT_OK ? r : output(data, 0);
        }
        return vschedctl_top(top_fetch, NULL, interval);
}

/* ------------------------------------------------------------------ main */

/* How many of @words (space separated) match argv[0..]; 0 when not all do. */
static unsigned match_words(const char *words, char **argv, int argc) {
        unsigned n = 0;
        const char *p = words;

        while (*p) {
                size_t len = strcspn(p, " ");
                if ((int) n >= argc || strlen(argv[n]) != len || strncmp(argv[n], p, len) != 0)
                        return 0;
                n++;
                p += len;
                p += *p == ' ';
        }
        return n;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const struct verb *partial = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "s:jf:hV", options, NULL)) >= 0)
                switch (c) {
                case 's':
                        arg_socket = optarg;
                        break;
                case 'j':
                        arg_json = true;
                        break;
                case 'f':
                        arg_format = optarg;
                        break;
                case 'h':
                        help(stdout);
                        return EXIT_OK;
                case 'V':
                        printf("vschedctl %s (protocol %d)\n", PACKAGE_VERSION, VS_CTL_PROTO_VERSION);
                        return EXIT_OK;
                default:
                        fputs("Try 'vschedctl --help'.\n", stderr);
                        return EXIT_USAGE;
                }

        argv += optind;
        argc -= optind;
        if (argc == 0)
                return usage_error("missing command");

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                unsigned w = match_words(verbs[i].words, argv, argc), rest;
                if (w == 0)
                        continue;
                rest = (unsigned) argc - w;
                if (rest < verbs[i].min_args || rest > verbs[i].max_args) {
                        if (!partial)
                                partial = &verbs[i];
                        continue;
                }
                return verbs[i].run(&verbs[i], argv + w, rest);
        }
        if (partial)
                return usage_error("usage: vschedctl %s", partial->syntax);
        return usage_error("unknown command '%s'", argv[0]);
}
