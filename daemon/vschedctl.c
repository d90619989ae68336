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
 *                     "adjustments": [{"vcpu", "file", "value", "baseline"}],
 *                     "class": str, "lever": str, "halted_share": num}]}   (classify = yes)
 *   vms:    {"vms": [{"vm": str, "vcpus": int, "mode": str, ...scalars}]}
 *   vm:     {"vm", "vcpus", "mode", "weight_min", "weight_max", "idle", "priority",
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
#include "json-util.h"
#include "macro.h"
#include "vschedctl-print.h"
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
          "mode=off|observe|enforce weight-min=1..10000\nweight-max=1..10000 idle=0|1\npriority=high|normal|low" },
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
        _cleanup_json_ struct json_object *req = NULL, *data = NULL;
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

static int output(struct json_object *data, unsigned top_n) {
        return vschedctl_print(data, top_n, arg_json) < 0 ? EXIT_ERROR : EXIT_OK;
}

/* ------------------------------------------------------------------ verbs */

static int run_status(const struct verb *v, char **args, unsigned n) {
        _cleanup_json_ struct json_object *data = NULL;
        int r = call("status", NULL, &data);
        return r != EXIT_OK ? r : output(data, TOP_EDGES);
}

static int run_vms(const struct verb *v, char **args, unsigned n) {
        _cleanup_json_ struct json_object *data = NULL;
        int r = call("vms", NULL, &data);
        return r != EXIT_OK ? r : output(data, 0);
}

/* {"name": NAME}, or NULL without memory. */
static struct json_object *name_object(const char *name) {
        struct json_object *a = json_object_new_object();

        if (a && json_object_object_add(a, "name", json_object_new_string(name)) < 0) {
                json_object_put(a);
                a = NULL;
        }
        return a;
}

/* The verb's command for VM @name, validated first (@what names it in a
 * usage error); vschedctl's exit code. */
static int call_vm(const struct verb *v, const char *name, const char *what, struct json_object **ret_data) {
        _cleanup_json_ struct json_object *a = name_object(name);
        _cleanup_free_ char *err = NULL;
        const struct vs_ctl_command_info *ci = vs_ctl_command_by_id(v->command);

        if (!a)
                return EXIT_ERROR;
        if (vs_ctl_validate_args(ci, a, &err) < 0)
                return usage_error("%s: %s", what, err ?: "invalid VM name");
        return call(ci->name, a, ret_data);
}

static int run_vm(const struct verb *v, char **args, unsigned n) {
        _cleanup_json_ struct json_object *data = NULL;
        int r = call_vm(v, args[0], "vm", &data);

        return r != EXIT_OK ? r : output(data, 0);
}

/* The "vm" answer (the report's VM object) drawn through lib/graph-dot. */
static int run_graph(const struct verb *v, char **args, unsigned n) {
        _cleanup_json_ struct json_object *data = NULL;
        _cleanup_free_ char *err = NULL, *dot = NULL, *svg = NULL;
        const char *format = arg_format ?: "svg";
        struct vs_graph *g = NULL;
        size_t len = 0;
        int r;

        if (strcmp(format, "svg") != 0 && strcmp(format, "dot") != 0)
                return usage_error("graph: --format must be svg or dot, not '%s'", format);
        if (arg_json)
                return usage_error("graph: --json does not apply (try --format dot, or 'vschedctl --json vm %s')",
                                   args[0]);
        r = call_vm(v, args[0], "graph", &data);
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
        _cleanup_json_ struct json_object *data = NULL, *a = name_object(args[0]);
        _cleanup_free_ char *err = NULL;
        const struct vs_ctl_command_info *ci = vs_ctl_command_by_id(v->command);
        int r;

        if (!a)
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
                        return usage_error("vm set: unknown key '%.*s' (mode, weight-min, weight-max, idle, priority)",
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
        _cleanup_json_ struct json_object *data = NULL;
        int r = call(vs_ctl_command_by_id(v->command)->name, NULL, &data);
        return r != EXIT_OK ? r : (arg_json ? output(data, 0) : EXIT_OK);
}

static int run_metrics(const struct verb *v, char **args, unsigned n) {
        _cleanup_json_ struct json_object *data = NULL;
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
                _cleanup_json_ struct json_object *data = NULL;
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
