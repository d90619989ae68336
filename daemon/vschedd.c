/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vschedd - entry point.  Wires a source (live tracefs or a recorded trace)
 * through topology into the event dump and the summary.  All logic lives in
 * lib/; this file parses flags, owns the sd-event loop for live capture and
 * prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "analysis.h"
#include "cgroup.h"
#include "control.h"
#include "ctl-proto.h"
#include "enforce.h"
#include "metrics.h"
#include "metrics-server.h"
#include "log.h"
#include "vs-config.h"
#include "event-json.h"
#include "graph-dot.h"
#include "graph-render.h"
#include "kvm-hook.h"
#include "yield-hint.h"
#include "markup.h"
#include "svg-timeline.h"
#include "timeline.h"
#include "macro.h"
#include "mono-clock.h"
#include "policy.h"
#include "pipeline.h"
#include "progress.h"
#include "source.h"
#include "summary.h"
#include "topology.h"
#include "vmwatch.h"

#define BUNDLED_TRACE "bundled.dat"

enum mode {
        MODE_NONE,
        MODE_REPLAY,
        MODE_LIVE,
        MODE_AUTO,
};

static struct {
        enum mode mode;
        const char *replay;
        bool dump;
        bool json;
        bool report;
        bool dry_run;
        const char *config;             /* NULL = the default file, optional */
        bool test_config;
        bool print_config;
        bool restore;
        const char *control;            /* control socket path */
        int summary;            /* -1 = default (on unless dumping) */
        double duration;        /* live: seconds, 0 = until signalled */
        uint64_t limit;         /* max events to print, 0 = all */
        const char *tracefs;
        const char *instance;
        unsigned buffer_kb;
        const char *record;
        unsigned record_max_mb;
        bool quiet;
        bool serve;             /* replay: keep answering on the control socket afterwards */
        const char *svg_dir;    /* replay: pictures per VM */
        uint64_t svg_start_ns, svg_len_ns;      /* their timeline window */
        bool svg_window;
} arg = {
        .svg_len_ns = 50 * 1000000ull,
        .record_max_mb = 512,
        .summary = -1,
};

static void log_err(const char *fmt, ...) _printf_(1, 2);
static void log_err(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fputs("vschedd: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static void help(FILE *f) {
        fprintf(f,
                "Usage: vschedd [OPTIONS]\n"
                "\n"
                "Watch KVM and scheduler tracepoints and report, per VM, who interrupts whom.\n"
                "\n"
                "Sources (one of):\n"
                "  -r, --replay=FILE        read a recorded trace: trace-cmd .dat, ftrace text\n"
                "                           (trace, trace_pipe, with or without TGID column) or\n"
                "                           `trace-cmd report` output; '-' reads text from stdin\n"
                "  -l, --live               read live from a private tracefs instance\n"
                "      --auto               live when KVM VMs run on this host, else replay the\n"
                "                           bundled recording (what tools/quickstart runs)\n"
                "\n"
                "Output:\n"
                "  -d, --dump-events        print every normalised event\n"
                "  -j, --json               JSON, one object per line\n"
                "      --report             print the analysis report at the end: per VM, IPI\n"
                "                           edges with preempted share and EOI latency, spinners,\n"
                "                           yields, oscillating pairs, preempted time, signal mode\n"
                "      --svg=DIR            replay: per VM, DIR/NAME-graph.svg (IPI graph, also\n"
                "                           NAME-graph.dot) and DIR/NAME-timeline.svg (vCPU states\n"
                "                           and IPIs); NAME escaped for the file system\n"
                "      --svg-window=START:LEN  the timeline's window in ms from the trace's first\n"
                "                           event (default 0:50)\n"
                "      --summary            print the per-VM summary at the end (default unless\n"
                "                           --dump-events or --report)\n"
                "      --no-summary         do not print the summary\n"
                "  -n, --limit=N            print at most N events\n"
                "  -q, --quiet              no progress meter, fewer messages\n"
                "\n"
                "Live:\n"
                "  -t, --duration=SEC       stop after SEC seconds (default: until SIGINT/SIGTERM)\n"
                "      --tracefs=DIR        tracefs mount point (default: found or mounted)\n"
                "      --instance=NAME      tracefs instance name (default: vschedd)\n"
                "      --buffer-kb=KB       per-CPU ring buffer size\n"
                "      --record=FILE        also write everything read to FILE as a trace-cmd .dat\n"
                "                           (readable by trace-cmd report and vschedd --replay)\n"
                "      --record-max-mb=MB   stop recording after MB MiB of pages (default 512)\n"
                "\n"
                "Policy:\n"
                "  -c, --config=FILE        configuration (default " SYSCONFDIR "/vschedd.conf)\n"
                "      --dry-run            run the policy and print its decisions, write nothing\n"
                "                           (replay: as enforce would for every VM not 'off')\n"
                "      --test-config        check the configuration and exit\n"
                "      --print-config       print the effective configuration and exit\n"
                "      --control=PATH       control socket (default " VS_CTL_SOCKET_PATH ")\n"
                "      --restore            restore the cgroup values a stopped or crashed\n"
                "                           vschedd left changed (its journal) and exit\n"
                "      --serve              replay: after the replay, keep answering vschedctl on\n"
                "                           the control socket until SIGINT/SIGTERM\n"
                "\n"
                "  -h, --help               show this help\n"
                "  -V, --version            show the version\n");
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fputs("vschedd: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputs("\nTry 'vschedd --help' for more information.\n", stderr);
        va_end(ap);
        return -EINVAL;
}

/* A decimal integer option in [min, max]: no sign, no suffix, no blanks. */
static bool parse_uint_arg(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!*s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return false;
        *ret = v;
        return true;
}

static int parse_args(int argc, char **argv) {
        enum {
                ARG_AUTO = 0x100,
                ARG_SUMMARY,
                ARG_NO_SUMMARY,
                ARG_TRACEFS,
                ARG_INSTANCE,
                ARG_BUFFER_KB,
                ARG_RECORD,
                ARG_RECORD_MAX_MB,
                ARG_REPORT,
                ARG_DRY_RUN,
                ARG_TEST_CONFIG,
                ARG_PRINT_CONFIG,
                ARG_RESTORE,
                ARG_CONTROL,
                ARG_SERVE,
                ARG_SVG,
                ARG_SVG_WINDOW,
        };
        static const struct option options[] = {
                { "replay", required_argument, NULL, 'r' },
                { "live", no_argument, NULL, 'l' },
                { "auto", no_argument, NULL, ARG_AUTO },
                { "dump-events", no_argument, NULL, 'd' },
                { "json", no_argument, NULL, 'j' },
                { "summary", no_argument, NULL, ARG_SUMMARY },
                { "report", no_argument, NULL, ARG_REPORT },
                { "config", required_argument, NULL, 'c' },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "test-config", no_argument, NULL, ARG_TEST_CONFIG },
                { "print-config", no_argument, NULL, ARG_PRINT_CONFIG },
                { "restore", no_argument, NULL, ARG_RESTORE },
                { "control", required_argument, NULL, ARG_CONTROL },
                { "serve", no_argument, NULL, ARG_SERVE },
                { "svg", required_argument, NULL, ARG_SVG },
                { "svg-window", required_argument, NULL, ARG_SVG_WINDOW },
                { "no-summary", no_argument, NULL, ARG_NO_SUMMARY },
                { "limit", required_argument, NULL, 'n' },
                { "quiet", no_argument, NULL, 'q' },
                { "duration", required_argument, NULL, 't' },
                { "tracefs", required_argument, NULL, ARG_TRACEFS },
                { "instance", required_argument, NULL, ARG_INSTANCE },
                { "buffer-kb", required_argument, NULL, ARG_BUFFER_KB },
                { "record", required_argument, NULL, ARG_RECORD },
                { "record-max-mb", required_argument, NULL, ARG_RECORD_MAX_MB },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        int c;

        arg.control = getenv("VSCHEDD_CONTROL");        /* tests: one socket each */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":r:ldjn:qt:c:hV", options, NULL)) >= 0) {
                uint64_t v;
                char *end;

                switch (c) {
                case 'r':
                case 'l':
                case ARG_AUTO: {
                        enum mode m = c == 'r' ? MODE_REPLAY : c == 'l' ? MODE_LIVE : MODE_AUTO;
                        if (arg.mode != MODE_NONE && arg.mode != m)
                                return usage_error("--replay, --live and --auto are mutually exclusive");
                        arg.mode = m;
                        if (c == 'r')
                                arg.replay = optarg;
                        break;
                }
                case 'd':
                        arg.dump = true;
                        break;
                case 'j':
                        arg.json = true;
                        break;
                case ARG_SUMMARY:
                        arg.summary = 1;
                        break;
                case ARG_REPORT:
                        arg.report = true;
                        break;
                case 'c':
                        arg.config = optarg;
                        break;
                case ARG_DRY_RUN:
                        arg.dry_run = true;
                        break;
                case ARG_TEST_CONFIG:
                        arg.test_config = true;
                        break;
                case ARG_PRINT_CONFIG:
                        arg.print_config = true;
                        break;
                case ARG_RESTORE:
                        arg.restore = true;
                        break;
                case ARG_CONTROL:
                        if (optarg[0] != '/')
                                return usage_error("--control needs an absolute path");
                        arg.control = optarg;
                        break;
                case ARG_SERVE:
                        arg.serve = true;
                        break;
                case ARG_SVG:
                        if (!*optarg)
                                return usage_error("--svg needs a directory");
                        arg.svg_dir = optarg;
                        break;
                case ARG_SVG_WINDOW: {
                        double a, b;
                        int k = -1;
                        if (sscanf(optarg, "%lf:%lf%n", &a, &b, &k) != 2 || k != (int) strlen(optarg) ||
                            !(a >= 0 && a <= 1e9) || !(b > 0 && b <= 1e9))
                                return usage_error("invalid --svg-window '%s' (START:LEN in ms, LEN > 0)", optarg);
                        arg.svg_start_ns = (uint64_t) (a * 1e6);
                        arg.svg_len_ns = (uint64_t) (b * 1e6) ? (uint64_t) (b * 1e6) : 1;
                        arg.svg_window = true;
                        break;
                }
                case ARG_NO_SUMMARY:
                        arg.summary = 0;
                        break;
                case 'n':
                        if (!parse_uint_arg(optarg, 0, UINT64_MAX, &arg.limit))
                                return usage_error("invalid --limit '%s'", optarg);
                        break;
                case 'q':
                        arg.quiet = true;
                        break;
                case 't':
                        errno = 0;
                        arg.duration = strtod(optarg, &end);
                        if (errno || *end || !*optarg || !(arg.duration > 0) || arg.duration > 1e7)
                                return usage_error("invalid --duration '%s' (seconds, > 0)", optarg);
                        break;
                case ARG_TRACEFS:
                        arg.tracefs = optarg;
                        break;
                case ARG_INSTANCE:
                        if (!*optarg || strchr(optarg, '/') || strcmp(optarg, ".") == 0 || strcmp(optarg, "..") == 0)
                                return usage_error("invalid --instance '%s'", optarg);
                        arg.instance = optarg;
                        break;
                case ARG_BUFFER_KB:
                        if (!parse_uint_arg(optarg, 1, 1024 * 1024, &v))
                                return usage_error("invalid --buffer-kb '%s'", optarg);
                        arg.buffer_kb = (unsigned) v;
                        break;
                case ARG_RECORD:
                        if (!*optarg)
                                return usage_error("--record needs a file name");
                        arg.record = optarg;
                        break;
                case ARG_RECORD_MAX_MB:
                        if (!parse_uint_arg(optarg, 1, 1024 * 1024, &v))
                                return usage_error("invalid --record-max-mb '%s'", optarg);
                        arg.record_max_mb = (unsigned) v;
                        break;
                case 'h':
                        help(stdout);
                        return 0;
                case 'V':
                        printf("vschedd %s\n", PACKAGE_VERSION);
                        return 0;
                case ':':
                        return usage_error("option '%s' needs an argument", argv[optind - 1]);
                default:
                        return usage_error("unrecognized option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return usage_error("unexpected argument '%s'", argv[optind]);
        if (arg.mode == MODE_NONE && !arg.test_config && !arg.print_config && !arg.restore)
                return usage_error("nothing to do: give --replay FILE, --live or --auto");
        if (arg.duration > 0 && arg.mode == MODE_REPLAY)
                return usage_error("--duration applies to --live");
        if (arg.record && arg.mode != MODE_LIVE)
                return usage_error("--record applies to --live");
        if (arg.serve && arg.mode != MODE_REPLAY)
                return usage_error("--serve applies to --replay");
        if (arg.svg_dir && arg.mode != MODE_REPLAY)
                return usage_error("--svg applies to --replay");
        if (arg.svg_window && !arg.svg_dir)
                return usage_error("--svg-window needs --svg");
        if (arg.summary < 0)
                arg.summary = !arg.dump && !arg.report && !arg.dry_run;
        return 1;
}

/* ---------------------------------------------------------------- output */

struct run {
        struct vs_pipeline *pipe;
        struct vs_config cfg;
        struct enforcer *enf;           /* live */
        int64_t trace_offset;           /* trace clock - CLOCK_MONOTONIC, live */
        bool have_offset;
        sd_event_source *epoch_src;
        struct vs_vmwatch *vmwatch;
        struct control *ctl;
        sd_event *event;                /* the loop, while one runs (for the metrics listener) */
        struct metrics_server *http;    /* [metrics] listen */
        uint64_t loop_wakeups;          /* epoch timer firings */
        uint64_t loop_late_usec;        /* sum of how late they fired */
        uint64_t loop_late_max[2];      /* worst lateness: this window, the previous one */
        uint64_t loop_window_start;
        uint64_t started_usec;
        struct vs_source *src;
        struct vs_progress progress;
        uint64_t printed;
        int32_t *marked;        /* --record: TIDs already described by a marker */
        size_t n_marked, cap_marked;
        int r;
};

/* The libvirt cgroup of a VM (or its vCPU) when topology knows it, else "<vm>[/vcpuK]". */
static void decision_cgroup(struct run *run, const struct vs_decision *d, char *buf, size_t len) {
        const char *cg = NULL;

        for (unsigned i = 0; i < vs_topology_n_vms(vs_pipeline_topology(run->pipe)); i++) {
                const struct vs_vm *vm = vs_topology_vm(vs_pipeline_topology(run->pipe), (int32_t) i);
                if (vm && strcmp(vm->name, d->vm) == 0 && vm->cgroup[0])
                        cg = vm->cgroup;
        }
        if (cg) {
                /* ".../libvirt/emulator" -> ".../libvirt" */
                size_t n = strlen(cg);
                const char *lv = strstr(cg, "/libvirt/");
                if (lv)
                        n = (size_t) (lv - cg) + strlen("/libvirt");
                if (d->vcpu >= 0)
                        snprintf(buf, len, "%.*s/vcpu%d", (int) n, cg, d->vcpu);
                else
                        snprintf(buf, len, "%.*s", (int) n, cg);
        } else if (d->vcpu >= 0)
                snprintf(buf, len, "%s/vcpu%d", d->vm, d->vcpu);
        else
                snprintf(buf, len, "%s", d->vm);
}

static void on_decision(const struct vs_decision *d, void *userdata) {
        struct run *run = userdata;
        char cg[512];

        decision_cgroup(run, d, cg, sizeof(cg));
        if (arg.json) {
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "ts_ns", json_object_new_uint64(d->ts_ns));
                json_object_object_add(o, "type", json_object_new_string("decision"));
                json_object_object_add(o, "vm", json_object_new_string(d->vm));
                json_object_object_add(o, "vcpu", d->vcpu >= 0 ? json_object_new_int(d->vcpu) : NULL);
                json_object_object_add(o, "cgroup", json_object_new_string(cg));
                json_object_object_add(o, "file", json_object_new_string(vs_knob_v2_file(d->knob)));
                json_object_object_add(o, "old", json_object_new_string(d->old));
                json_object_object_add(o, "new", json_object_new_string(d->new));
                json_object_object_add(o, "reason", json_object_new_string(d->reason));
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else {
                char esc[2048];
                printf("%6" PRIu64 ".%09" PRIu64 " %-28s %-13s %6s -> %-6s %s\n", (uint64_t) (d->ts_ns / 1000000000u),
                       (uint64_t) (d->ts_ns % 1000000000u), vs_escape(cg, esc, sizeof(esc)), vs_knob_v2_file(d->knob), d->old, d->new, d->reason);
        }
}

static int emit(struct run *run, const struct vs_event *ev) {
        int r;

        r = vs_pipeline_event(run->pipe, ev);
        if (r < 0)
                return r;
        if (!arg.dump || (arg.limit && run->printed >= arg.limit))
                return 0;
        run->printed++;
        if (arg.json) {
                struct json_object *o = vs_event_to_json(ev, vs_pipeline_topology(run->pipe));
                if (!o)
                        return -ENOMEM;
                r = puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else {
                char line[512];
                vs_event_format(ev, vs_pipeline_topology(run->pipe), line, sizeof(line));
                r = puts(line);
        }
        /* stdout closed (| head): stop like a normal end of input */
        return r == EOF ? -EPIPE : 0;
}

static void print_report(struct run *run) {
        if (!vs_pipeline_analysis(run->pipe) || !arg.report)
                return;
        vs_pipeline_finish(run->pipe);
        if (arg.json) {
                struct json_object *o = vs_analysis_report_json(vs_pipeline_analysis(run->pipe));
                if (o) {
                        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(o);
                }
        } else
                vs_analysis_report_print(vs_pipeline_analysis(run->pipe), stdout);
        fflush(stdout);
}

static void print_summary(struct run *run) {
        const struct vs_source_stats *st = run->src ? vs_source_get_stats(run->src) : NULL;

        if (arg.dry_run && !arg.json && !arg.quiet)
                fprintf(stderr, "vschedd: dry run: %" PRIu64 " decision(s), nothing written\n", vs_pipeline_decisions(run->pipe));
        print_report(run);
        fflush(stdout);
        if (!arg.summary)
                return;
        if (arg.json) {
                struct json_object *o = vs_summary_json(vs_pipeline_summary(run->pipe), vs_pipeline_topology(run->pipe), st);
                if (o) {
                        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(o);
                }
        } else
                vs_summary_print(vs_pipeline_summary(run->pipe), vs_pipeline_topology(run->pipe), st, stdout);
        fflush(stdout);
}

static void report_source_problems(struct vs_source *src, const char *name) {
        const struct vs_source_stats *st = vs_source_get_stats(src);

        if (st->malformed > 0)
                log_err("%s: %" PRIu64 " malformed record(s) skipped; first: %s", name, st->malformed,
                        vs_source_error(src) ? vs_source_error(src) : "(no detail)");
        if (st->lost > 0)
                log_err("%s: the kernel dropped %" PRIu64 " event(s) (ring buffer overrun)", name, st->lost);
}

/* ---------------------------------------------------------------- replay */

static int open_replay(const char *path, struct vs_source **ret) {
        int r = vs_source_open_file(path, ret);

        if (r < 0 && vs_source_open_error())
                log_err("%s", vs_source_open_error());
        else if (r == -EBADMSG)
                log_err("%s: not a readable trace (corrupt trace-cmd .dat or unknown format)", path);
        else if (r < 0)
                log_err("%s: cannot open: %s", path, strerror(-r));
        return r;
}

/* Pass 1 learns the whole topology (thread names, TGIDs, vcpu_id <-> TID), so
 * that pass 2 prints every event with its final VM/vCPU and the same output
 * comes out whatever the order in which the trace reveals things. */
static int learn_topology(const char *path, struct vs_pipeline *pipe) {
        _cleanup_source_ struct vs_source *src = NULL;
        struct vs_progress p;
        struct vs_event ev;
        uint64_t n = 0;
        int r;

        r = open_replay(path, &src);
        if (r < 0)
                return r;
        vs_source_set_thread_cb(src, vs_topology_thread_cb, vs_pipeline_topology(pipe));
        vs_progress_init(&p, "learning topology");
        p.enabled = p.enabled && !arg.quiet;
        while ((r = vs_source_next(src, &ev)) > 0) {
                r = vs_pipeline_learn(pipe, &ev);
                if (r < 0)
                        return r;
                if ((++n & 0xffff) == 0) {
                        uint64_t total, done = vs_source_progress(src, &total);
                        vs_progress_update(&p, done, total, n);
                }
        }
        vs_progress_done(&p);
        return r;
}

/* Write @len bytes (or, with @vm, the timeline of @vm) to @dir/@name; never
 * through a symlink planted there. */
static int write_picture(int dir, const char *name, const char *data, size_t len, const struct vs_tl_vm *vm,
                         struct vs_timeline *tl) {
        _cleanup_fclose_ FILE *f = NULL;
        int fd, r;

        fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                return r;
        }
        r = vm ? vs_svg_timeline_write(tl, vm, f) : (fwrite(data, 1, len, f) == len ? 0 : -EIO);
        if (fflush(f) != 0 && r >= 0)
                r = -errno;
        return r;
}

/* --svg DIR: for every VM of the report, its IPI graph (dot text and SVG
 * through dot(1)) and its timeline; all pictures are attempted, the first
 * error is returned. */
static int write_pictures(struct run *run) {
        _cleanup_close_ int dir = -1;
        struct json_object *rep, *vms;
        unsigned written = 0;
        int r = 0;

        if (!arg.svg_dir || !vs_pipeline_analysis(run->pipe) || !vs_pipeline_timeline(run->pipe))
                return 0;
        vs_pipeline_finish(run->pipe);
        if (mkdir(arg.svg_dir, 0755) < 0 && errno != EEXIST)
                return log_err("%s: cannot create: %m", arg.svg_dir), -errno;
        dir = open(arg.svg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return log_err("%s: cannot open: %m", arg.svg_dir), -errno;
        rep = vs_analysis_report_json(vs_pipeline_analysis(run->pipe));
        if (!rep || !json_object_object_get_ex(rep, "vms", &vms)) {
                json_object_put(rep);
                return -ENOMEM;
        }
        for (size_t i = 0; i < json_object_array_length(vms); i++) {
                struct json_object *v = json_object_array_get_idx(vms, i), *n;
                const char *name = json_object_object_get_ex(v, "vm", &n) ? json_object_get_string(n) : "";
                const struct vs_tl_vm *tv = vs_timeline_vm_by_name(vs_pipeline_timeline(run->pipe), name);
                struct vs_tl_vm empty = {};
                _cleanup_free_ char *dot = NULL, *svg = NULL, *err = NULL;
                struct vs_graph *g = NULL;
                char safe[VS_SAFE_NAME_MAX], file[VS_SAFE_NAME_MAX + 32], shown[512];
                size_t len = 0;
                int k;

                vs_markup_display(name, shown, sizeof(shown));
                (void) vs_markup_file_name(name, safe, sizeof(safe));
                k = vs_graph_from_json(v, &g);
                if (k >= 0)
                        k = vs_graph_dot(g, &dot);
                vs_graph_free(g);
                if (k >= 0) {
                        snprintf(file, sizeof(file), "%s-graph.dot", safe);
                        k = write_picture(dir, file, dot, strlen(dot), NULL, NULL);
                }
                if (k >= 0) {
                        k = vs_graph_render(dot, "svg", &svg, &len, &err);
                        if (k == -ENOENT)
                                log_err("VM %s: dot(1) not found: install Graphviz (Debian package graphviz)", shown);
                        else if (k < 0)
                                log_err("VM %s: dot(1) failed: %s", shown, err ? err : strerror(-k));
                }
                if (k >= 0) {
                        snprintf(file, sizeof(file), "%s-graph.svg", safe);
                        k = write_picture(dir, file, svg, len, NULL, NULL);
                        written += k >= 0;
                }
                if (k < 0 && r == 0)
                        r = k;
                if (!tv) {
                        snprintf(empty.name, sizeof(empty.name), "%s", name);
                        tv = &empty;
                }
                snprintf(file, sizeof(file), "%s-timeline.svg", safe);
                k = write_picture(dir, file, NULL, 0, tv, vs_pipeline_timeline(run->pipe));
                written += k >= 0;
                if (k < 0) {
                        log_err("%s/%s: %s", arg.svg_dir, file, strerror(-k));
                        if (r == 0)
                                r = k;
                }
        }
        json_object_put(rep);
        if (!arg.quiet)
                fprintf(stderr, "vschedd: wrote %u picture(s) to %s\n", written, arg.svg_dir);
        return r;
}

static int run_replay(struct run *run, const char *path) {
        struct stat st;
        struct vs_event ev;
        uint64_t n = 0;
        int r;

        if (strcmp(path, "-") != 0) {
                if (stat(path, &st) < 0) {
                        log_err("%s: cannot open: %m", path);
                        return -errno;
                }
                if (S_ISREG(st.st_mode)) {
                        r = learn_topology(path, run->pipe);
                        if (r < 0) {
                                if (r != -EBADMSG && r != -ENOENT)
                                        log_err("%s: %s", path, strerror(-r));
                                return r;
                        }
                }
        }
        r = open_replay(path, &run->src);
        if (r < 0)
                return r;
        vs_source_set_thread_cb(run->src, vs_topology_thread_cb, vs_pipeline_topology(run->pipe));
        vs_progress_init(&run->progress, "replaying");
        run->progress.enabled = run->progress.enabled && !arg.quiet && !(arg.dump && isatty(STDOUT_FILENO));
        while ((r = vs_source_next(run->src, &ev)) > 0) {
                r = emit(run, &ev);
                if (r == -EPIPE)
                        return 0;
                if (r < 0)
                        break;
                if ((++n & 0xffff) == 0) {
                        uint64_t total, done = vs_source_progress(run->src, &total);
                        vs_progress_update(&run->progress, done, total, n);
                }
        }
        vs_progress_done(&run->progress);
        if (r < 0) {
                log_err("%s: %s", path, vs_source_error(run->src) ? vs_source_error(run->src) : strerror(-r));
                return r;
        }
        report_source_problems(run->src, path);
        print_summary(run);
        return write_pictures(run);
}

/* ---------------------------------------------------------------- live */

/* --record: tell the recording which thread is which vCPU of which VM, through
 * the instance's trace_marker, so a replay of the file names VMs as we do. */
static void mark_topology(struct run *run) {
        unsigned n = vs_topology_n_threads(vs_pipeline_topology(run->pipe));

        if (!arg.record)
                return;
        for (unsigned i = 0; i < n; i++) {
                const struct vs_thread *th = vs_topology_thread_at(vs_pipeline_topology(run->pipe), i);
                const struct vs_vm *vm = th ? vs_topology_vm(vs_pipeline_topology(run->pipe), th->vm) : NULL;
                char msg[512];
                bool seen = false;

                if (!th || !th->is_vcpu || th->tgid <= 0 || !vm)
                        continue;
                for (size_t k = 0; k < run->n_marked; k++)
                        if (run->marked[k] == th->tid)
                                seen = true;
                if (seen)
                        continue;
                if (run->n_marked == run->cap_marked) {
                        size_t cap = run->cap_marked ? run->cap_marked * 2 : 64;
                        int32_t *m = realloc(run->marked, cap * sizeof(*m));
                        if (!m)
                                return;
                        run->marked = m;
                        run->cap_marked = cap;
                }
                run->marked[run->n_marked++] = th->tid;
                if (vs_format_topology_marker(msg, sizeof(msg), th->tid, th->tgid, th->apic_id,
                                              vm->named ? vm->name : NULL, th->comm) < 0)
                        continue;
                (void) vs_source_live_mark(run->src, msg);
        }
}

static int write_recording(struct run *run) {
        _cleanup_free_ char *extra = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&extra, &len);
        bool truncated = false;
        int r;

        if (!f)
                return -ENOMEM;
        /* thread names from /proc: the kernel's saved_cmdlines may have evicted them */
        for (unsigned i = 0; i < vs_topology_n_threads(vs_pipeline_topology(run->pipe)); i++) {
                const struct vs_thread *th = vs_topology_thread_at(vs_pipeline_topology(run->pipe), i);
                if (th && th->comm[0] && !strchr(th->comm, '\n'))
                        fprintf(f, "%d %s\n", th->tid, th->comm);
        }
        fclose(f);
        r = vs_source_live_write_dat(run->src, arg.record, extra, &truncated);
        if (r < 0)
                return log_err("cannot write %s: %s", arg.record, strerror(-r)), r;
        if (truncated)
                log_err("%s: recording stopped at --record-max-mb=%u MiB; later events are not in the file",
                        arg.record, arg.record_max_mb);
        if (!arg.quiet)
                fprintf(stderr, "vschedd: recorded to %s\n", arg.record);
        return 0;
}

/* Timer sources fire once; set the next expiry and switch them on again. */
static int rearm(sd_event_source *s, uint64_t usec) {
        int r = sd_event_source_set_time_relative(s, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void notify_status(struct run *run);
static int reload_config(struct run *run);
static void metrics_listener_apply(struct run *run);
static void apply_saved_overrides(struct run *run);

static uint64_t mono_usec(void) {
        return vs_mono_ns() / 1000;
}

/* "now" on the trace clock (the kernel's local clock, close to but not the
 * same as CLOCK_MONOTONIC): learned from the first event read. */
static uint64_t trace_now(struct run *run) {
        int64_t now = (int64_t) vs_mono_ns();
        return run->have_offset ? (uint64_t) (now + run->trace_offset) : (uint64_t) now;
}

static int drain(struct run *run) {
        struct vs_event ev;
        int r;

        while ((r = vs_source_next(run->src, &ev)) > 0) {
                if (!run->have_offset) {
                        run->trace_offset = (int64_t) ev.ts_ns - (int64_t) vs_mono_ns();
                        run->have_offset = true;
                }
                r = emit(run, &ev);
                if (r < 0)
                        return r;
        }
        if (arg.dump)
                fflush(stdout);
        return r;
}

static int on_trace_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct run *run = userdata;
        int r = drain(run);

        if (r < 0) {
                run->r = r;
                return sd_event_exit(sd_event_source_get_event(s), r);
        }
        return 0;
}

/* Poll the buffers on a timer too: trace_pipe_raw only wakes pollers once a
 * page (or buffer_percent) fills, and a quiet host may take long for that. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        struct run *run = userdata;
        int r = drain(run);

        if (r < 0) {
                run->r = r;
                return sd_event_exit(sd_event_source_get_event(s), r);
        }
        (void) vs_source_live_update_lost(run->src);
        return rearm(s, 100 * 1000);
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata) {
        struct run *run = userdata;

        (void) vs_topology_scan_proc(vs_pipeline_topology(run->pipe), "/proc");
        mark_topology(run);
        notify_status(run);
        return rearm(s, 2 * 1000 * 1000);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        if (si->ssi_signo == SIGHUP) {
                (void) reload_config(userdata);
                return 0;
        }
        if (!arg.quiet)
                fprintf(stderr, "vschedd: %s received, stopping\n", strsignal(si->ssi_signo));
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void notify_status(struct run *run) {
        unsigned vms = 0, vcpus = 0;

        for (unsigned i = 0; i < vs_topology_n_vms(vs_pipeline_topology(run->pipe)); i++) {
                const struct vs_vm *vm = vs_topology_vm(vs_pipeline_topology(run->pipe), (int32_t) i);
                if (vm) {
                        vms++;
                        vcpus += vm->n_vcpus;
                }
        }
        (void) sd_notifyf(false, "STATUS=watching %u VM%s, %u vCPU%s, %s%s", vms, vms == 1 ? "" : "s", vcpus,
                          vcpus == 1 ? "" : "s", vs_mode_name(run->cfg.mode), arg.dry_run ? " (dry run)" : "");
}

/* Event loop latency: how late the epoch timer fires (its 0.5 ms accuracy
 * included), as a sum and count plus the worst over the last 10-20 s. */
static void note_loop_latency(struct run *run, sd_event_source *s, uint64_t scheduled) {
        uint64_t now, late;

        if (sd_event_now(sd_event_source_get_event(s), CLOCK_MONOTONIC, &now) < 0)
                return;
        late = now > scheduled ? now - scheduled : 0;
        run->loop_wakeups++;
        run->loop_late_usec += late;
        if (now - run->loop_window_start >= 10 * 1000 * 1000) {
                run->loop_late_max[1] = run->loop_late_max[0];
                run->loop_late_max[0] = 0;
                run->loop_window_start = now;
        }
        if (late > run->loop_late_max[0])
                run->loop_late_max[0] = late;
}

/* Companion kernel patch (kernel/): point each spinning vCPU of an enforced
 * VM at its strongest waiting edge through the per-vCPU debugfs hint.  Hints
 * expire in the kernel (TTL: two epochs), so they are not journalled. */
struct hint_ctx {
        struct run *run;
        uint32_t ttl_us;
        unsigned written;
};

static void write_hint(const struct vs_yield_hint *h, void *userdata) {
        struct hint_ctx *c = userdata;
        struct vs_topology *t = vs_pipeline_topology(c->run->pipe);
        struct vs_vm_policy vp;
        int32_t vm = -1, src = -1, dst = -1;
        int r;

        vs_config_vm(&c->run->cfg, h->vm, &vp);
        if (vp.mode != VS_MODE_ENFORCE)
                return;
        for (unsigned i = 0; i < vs_topology_n_vms(t) && vm < 0; i++)
                if (strcmp(vs_topology_vm(t, (int32_t) i)->name, h->vm) == 0 && vs_topology_vm(t, (int32_t) i)->tgid > 0)
                        vm = (int32_t) i;
        for (unsigned i = 0; vm >= 0 && i < vs_topology_n_threads(t); i++) {
                const struct vs_thread *th = vs_topology_thread_at(t, i);
                int32_t idx = th->vm == vm ? vs_topology_vcpu_of(t, th->tid) : -1;
                if (idx >= 0 && (unsigned) idx == h->src)
                        src = th->apic_id;
                else if (idx >= 0 && (unsigned) idx == h->dst)
                        dst = th->apic_id;
        }
        if (src < 0 || dst < 0)
                return;
        r = vs_kvm_hook_write_hint("/sys/kernel/debug", vs_topology_vm(t, vm)->tgid, (uint32_t) src, dst, c->ttl_us);
        if (r < 0)
                log_debug("yield hint %s vCPU %u -> %u: %s, ignoring", h->vm, h->src, h->dst, strerror(-r));
        else
                c->written++;
}

static void write_yield_hints(struct run *run) {
        static struct vs_kvm_hook hook;
        static uint64_t probed_usec;
        struct hint_ctx c = { .run = run };
        uint64_t now = mono_usec();

        if (arg.mode != MODE_LIVE || arg.dry_run || !run->enf)
                return;
        if (!probed_usec || now - probed_usec > 5 * 1000000ull) {
                if (vs_kvm_hook_probe("/sys", &hook) < 0)
                        hook.present = false;
                probed_usec = now;
        }
        if (!hook.present || !hook.hint)
                return;
        c.ttl_us = 2 * run->cfg.epoch_ms * 1000u;
        if (c.ttl_us > VS_KVM_HOOK_HINT_MAX_TTL_US)
                c.ttl_us = VS_KVM_HOOK_HINT_MAX_TTL_US;
        (void) vs_yield_hints(vs_pipeline_analysis(run->pipe), trace_now(run), 1.0, write_hint, &c);
}

static int on_epoch(sd_event_source *s, uint64_t usec, void *userdata) {
        struct run *run = userdata;
        int r;

        note_loop_latency(run, s, usec);
        r = drain(run);

        if (r >= 0 && run->enf)
                r = enforcer_epoch(run->enf, vs_pipeline_analysis(run->pipe), trace_now(run));
        if (r >= 0)
                write_yield_hints(run);
        if (r < 0) {
                run->r = r;
                return sd_event_exit(sd_event_source_get_event(s), r);
        }
        return rearm(s, (uint64_t) run->cfg.epoch_ms * 1000);
}

static int reload_config(struct run *run) {
        const char *path = arg.config ? arg.config : SYSCONFDIR "/vschedd.conf";
        _cleanup_free_ char *errors = NULL;
        enum vs_mode before = run->cfg.mode;
        int r;

        (void) sd_notify(false, "RELOADING=1");
        r = vs_config_load(&run->cfg, path, &errors);
        if (r == -ENOENT && !arg.config)
                r = 0;          /* the default file went away: keep what we run with */
        if (r < 0) {
                log_error_errno(r, "Reload rejected, keeping the running configuration: %s",
                                errors && *errors ? errors : strerror(-r));
        } else {
                apply_saved_overrides(run);
                log_info("configuration reloaded from %s (mode %s)", path, vs_mode_name(run->cfg.mode));
                metrics_listener_apply(run);
                if (before == VS_MODE_ENFORCE && run->cfg.mode != VS_MODE_ENFORCE && run->enf)
                        (void) enforcer_release(run->enf, trace_now(run));
        }
        (void) sd_notify(false, "READY=1");
        notify_status(run);
        return r;
}

static void on_vm_change(struct vs_vmwatch *w, const struct vs_vm_info *vm, enum vs_vm_change c, void *userdata) {
        struct run *run = userdata;
        struct vs_log_fields f = { .vm = vm ? vm->name : NULL, .vcpu = -1 };

        switch (c) {
        case VS_VM_STARTED:
        case VS_VM_VCPUS_CHANGED:
                vs_log(LOG_INFO, 0, &f, "libvirt: %s (pid %d, %d vCPUs)", vs_vm_change_to_string(c), vm->pid,
                       vm->nvcpus);
                (void) vs_topology_scan_proc(vs_pipeline_topology(run->pipe), "/proc");
                mark_topology(run);
                notify_status(run);
                break;
        case VS_VM_STOPPED:
        case VS_VM_MIGRATED:
                vs_log(LOG_INFO, 0, &f, "libvirt: %s", vs_vm_change_to_string(c));
                notify_status(run);
                break;
        case VS_VM_DISCONNECTED:
                log_warning("libvirt connection lost (%s); following VMs through /proc until it is back",
                            vs_vmwatch_last_error(w, NULL) ? vs_vmwatch_last_error(w, NULL) : "closed");
                break;
        case VS_VM_RECONNECTED:
                log_info("libvirt connection back");
                break;
        default:
                vs_log(LOG_DEBUG, 0, &f, "libvirt: %s", vs_vm_change_to_string(c));
        }
}


/* ---------------------------------------------------------------- control */

static struct json_object *vm_object(struct run *run, struct json_object *rvm, bool full) {
        struct json_object *o = json_object_new_object(), *x, *edges, *adj = json_object_new_array();
        const char *name = json_object_object_get_ex(rvm, "vm", &x) ? json_object_get_string(x) : "";
        struct vs_vm_policy vp;
        int vcpus = json_object_object_get_ex(rvm, "vcpus", &x) ? json_object_get_int(x) : 0;

        vs_config_vm(&run->cfg, name, &vp);
        json_object_object_add(o, "vm", json_object_new_string(name));
        json_object_object_add(o, "vcpus", json_object_new_int(vcpus));
        json_object_object_add(o, "mode", json_object_new_string(vs_mode_name(vp.mode)));
        json_object_object_add(o, "weight_min", json_object_new_int((int) vp.weight_min));
        json_object_object_add(o, "weight_max", json_object_new_int((int) vp.weight_max));
        json_object_object_add(o, "idle", vp.idle < 0 ? NULL : json_object_new_boolean(vp.idle));
        if (json_object_object_get_ex(rvm, "edges", &edges)) {
                struct json_object *top = json_object_new_array();
                size_t n = json_object_array_length(edges);
                for (size_t i = 0; i < n && (full || i < 5); i++)
                        json_object_array_add(top, json_object_get(json_object_array_get_idx(edges, i)));
                json_object_object_add(o, "edges", top);
        }
        for (int v = -1; run->enf && v < vcpus + 64; v++)
                for (int k = 0; k < _VS_KNOB_MAX; k++) {
                        const char *cur = enforcer_value(run->enf, name, v, k);
                        const char *base = enforcer_baseline(run->enf, name, v, k);
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
        if (full && json_object_object_get_ex(rvm, "vcpu", &x))
                json_object_object_add(o, "vcpu", json_object_get(x));
        if (full && json_object_object_get_ex(rvm, "oscillating_pairs", &x))
                json_object_object_add(o, "oscillating_pairs", json_object_get(x));
        return o;
}

static int ctl_status(void *ud, struct json_object **ret) {
        struct run *run = ud;
        struct json_object *rep = vs_analysis_report_json(vs_pipeline_analysis(run->pipe)), *o = json_object_new_object(), *vms, *x;
        struct json_object *out = json_object_new_array();
        const struct vs_source_stats *st = run->src ? vs_source_get_stats(run->src) : NULL;
        double up = (mono_usec() - run->started_usec) / 1e6;

        if (!rep || !o)
                return -ENOMEM;
        json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, "mode", json_object_new_string(vs_mode_name(run->cfg.mode)));
        json_object_object_add(o, "dry_run", json_object_new_boolean(arg.dry_run));
        json_object_object_add(o, "uptime_s", json_object_new_double(up));
        json_object_object_add(o, "events_per_s", json_object_new_double(st && up > 0 ? st->events / up : 0));
        json_object_object_add(o, "lost", json_object_new_uint64(st ? st->lost : 0));
        {
                /* the companion kernel patch (kernel/): loaded, which parts on */
                struct vs_kvm_hook hook;
                if (vs_kvm_hook_probe("/sys", &hook) >= 0)
                        json_object_object_add(o, "kernel_hook", vs_kvm_hook_json(&hook));
        }
        if (json_object_object_get_ex(rep, "signals", &x))
                json_object_object_add(o, "signals", json_object_get(x));
        if (json_object_object_get_ex(rep, "vms", &vms))
                for (size_t i = 0; i < json_object_array_length(vms); i++)
                        json_object_array_add(out, vm_object(run, json_object_array_get_idx(vms, i), false));
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
        struct run *run = ud;
        struct json_object *rep = vs_analysis_report_json(vs_pipeline_analysis(run->pipe)), *vms;
        int r = -ENOENT;

        if (!rep)
                return -ENOMEM;
        if (json_object_object_get_ex(rep, "vms", &vms))
                for (size_t i = 0; i < json_object_array_length(vms); i++) {
                        struct json_object *v = json_object_array_get_idx(vms, i), *n;
                        if (json_object_object_get_ex(v, "vm", &n) && strcmp(json_object_get_string(n), name) == 0) {
                                *ret = vm_object(run, v, true);
                                r = 0;
                                break;
                        }
                }
        json_object_put(rep);
        return r;
}

/* Runtime overrides (vschedctl vm set) live in STATE_DIR/overrides.json and
 * are applied over the configuration at start and after every reload, so they
 * survive a restart of the daemon (not a reboot: /run is a tmpfs). */
static int apply_override(struct vs_config *c, const char *name, struct json_object *args, char **ret_error) {
        struct vs_vm_override *o = NULL;
        struct json_object *x;

        for (size_t i = 0; i < c->n_vms; i++)
                if (strcmp(c->vms[i].pattern, name) == 0)
                        o = &c->vms[i];
        if (!o) {
                struct vs_vm_override *n = realloc(c->vms, (c->n_vms + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                c->vms = n;
                memmove(c->vms + 1, c->vms, c->n_vms * sizeof(*n));
                c->n_vms++;
                o = &c->vms[0];
                *o = (struct vs_vm_override) { .mode = VS_MODE_INHERIT, .placement = VS_DEFAULT,
                                               .coschedule = VS_DEFAULT, .weights = VS_DEFAULT, .idle = -1 };
                o->pattern = strdup(name);
                if (!o->pattern)
                        return -ENOMEM;
        }
        struct vs_vm_override saved = *o;
        if (json_object_object_get_ex(args, "mode", &x)) {
                int m = vs_mode_from_name(json_object_get_string(x));
                if (m < 0) {
                        if (ret_error)
                                *ret_error = strdup("mode must be off, observe or enforce");
                        return -EINVAL;
                }
                o->mode = m;
        }
        if (json_object_object_get_ex(args, "weight_min", &x))
                o->weight_min = (uint32_t) json_object_get_int(x);
        if (json_object_object_get_ex(args, "weight_max", &x))
                o->weight_max = (uint32_t) json_object_get_int(x);
        if (json_object_object_get_ex(args, "idle", &x))
                o->idle = json_object_get_boolean(x) ? 1 : 0;
        struct vs_vm_policy vp;
        vs_config_vm(c, name, &vp);
        if (vp.weight_min > vp.weight_max) {
                *o = saved;
                if (ret_error)
                        *ret_error = strdup("weight-min is larger than weight-max");
                return -EINVAL;
        }
        return 0;
}

static void apply_saved_overrides(struct run *run) {
        char path[PATH_MAX];
        struct json_object *all;

        snprintf(path, sizeof(path), "%s/overrides.json", run->cfg.state_dir);
        all = json_object_from_file(path);
        if (!all)
                return;
        json_object_object_foreach(all, name, args)
                if (apply_override(&run->cfg, name, args, NULL) < 0)
                        log_warning("%s: ignoring the saved override for '%s'", path, name);
        json_object_put(all);
}

static int save_override(struct run *run, const char *name, struct json_object *args) {
        char path[PATH_MAX], tmp[PATH_MAX];
        struct json_object *all, *cur;

        snprintf(path, sizeof(path), "%s/overrides.json", run->cfg.state_dir);
        snprintf(tmp, sizeof(tmp), "%s/.overrides.json.tmp", run->cfg.state_dir);
        (void) mkdir(run->cfg.state_dir, 0755);
        all = json_object_from_file(path);
        if (!all || !json_object_is_type(all, json_type_object)) {
                json_object_put(all);
                all = json_object_new_object();
        }
        if (!json_object_object_get_ex(all, name, &cur)) {
                cur = json_object_new_object();
                json_object_object_add(all, name, cur);
        }
        json_object_object_foreach(args, k, v)
                if (strcmp(k, "name") != 0)
                        json_object_object_add(cur, k, json_object_get(v));
        int r = json_object_to_file_ext(tmp, all, JSON_C_TO_STRING_PRETTY) < 0 ? -EIO : 0;
        json_object_put(all);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        return r;
}

static int ctl_vm_set(void *ud, const char *name, struct json_object *args, char **ret_error) {
        struct run *run = ud;
        int r = apply_override(&run->cfg, name, args, ret_error);

        if (r < 0)
                return r;
        r = save_override(run, name, args);
        if (r < 0)
                log_warning_errno(r, "Cannot save the override for %s in %s (active until restart): %m", name,
                                  run->cfg.state_dir);
        struct vs_log_fields f = { .vm = name, .vcpu = -1 };
        vs_log(LOG_INFO, 0, &f, "override set through the control socket");
        return 0;
}

static int ctl_reload(void *ud, char **ret_error) {
        int r = reload_config(ud);
        if (r < 0 && ret_error)
                *ret_error = strdup("the new configuration was rejected (see the journal); the running one is kept");
        return r;
}

static int ctl_metrics(void *ud, char **ret_text) {
        struct run *run = ud;
        struct vs_metrics *m = NULL;
        const struct vs_source_stats *st = run->src ? vs_source_get_stats(run->src) : NULL;
        struct enforcer_stats es = {};
        struct control_stats cs = {};
        int r = vs_metrics_new(&m);

        if (r < 0)
                return r;
        if (run->enf)
                enforcer_get_stats(run->enf, &es);
        if (run->ctl)
                control_get_stats(run->ctl, &cs);
        vs_metrics_family(m, "vschedd_events", VS_METRIC_COUNTER, "Normalised events by type");
        for (int t = 1; t < _VS_EV_MAX; t++) {
                struct vs_metric_label l = { "type", vs_event_type_name(t) };
                vs_metrics_sample_u64(m, &l, 1, vs_analysis_seen(vs_pipeline_analysis(run->pipe), t));
        }
        vs_metrics_family(m, "vschedd_lost_events", VS_METRIC_COUNTER, "Events the kernel dropped (ring buffer overruns)");
        vs_metrics_sample_u64(m, NULL, 0, st ? st->lost : 0);
        vs_metrics_family(m, "vschedd_malformed_records", VS_METRIC_COUNTER, "Records that could not be decoded");
        vs_metrics_sample_u64(m, NULL, 0, st ? st->malformed : 0);
        vs_metrics_family(m, "vschedd_vm_ipis", VS_METRIC_COUNTER, "Unicast IPIs between vCPUs, per VM");
        for (unsigned i = 0; i < vs_analysis_n_vms(vs_pipeline_analysis(run->pipe)); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(vs_pipeline_analysis(run->pipe), i);
                uint64_t n = 0;
                for (unsigned p = 0; p < vm->n_pairs; p++)
                        n += vm->pairs[p].ipis;
                struct vs_metric_label l = { "vm", vm->name };
                vs_metrics_sample_u64(m, &l, 1, n);
        }
        vs_metrics_family(m, "vschedd_vm_preempted_receiver_share", VS_METRIC_GAUGE,
                          "Share of a VM's IPIs sent to a vCPU that was not running");
        for (unsigned i = 0; i < vs_analysis_n_vms(vs_pipeline_analysis(run->pipe)); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(vs_pipeline_analysis(run->pipe), i);
                uint64_t n = 0, nr = 0;
                for (unsigned p = 0; p < vm->n_pairs; p++) {
                        n += vm->pairs[p].ipis;
                        nr += vs_an_pair_not_running(&vm->pairs[p]);
                }
                struct vs_metric_label l = { "vm", vm->name };
                vs_metrics_sample_double(m, &l, 1, n ? (double) nr / n : 0);
        }
        vs_metrics_family(m, "vschedd_decisions", VS_METRIC_COUNTER, "Policy decisions");
        vs_metrics_sample_u64(m, NULL, 0, es.decisions);
        vs_metrics_family(m, "vschedd_cgroup_writes", VS_METRIC_COUNTER, "cgroup values written");
        vs_metrics_sample_u64(m, NULL, 0, es.writes);
        vs_metrics_family(m, "vschedd_cgroup_write_errors", VS_METRIC_COUNTER, "cgroup writes that failed");
        vs_metrics_sample_u64(m, NULL, 0, es.write_errors);
        vs_metrics_family(m, "vschedd_external_changes", VS_METRIC_COUNTER, "Values someone else changed (adopted)");
        vs_metrics_sample_u64(m, NULL, 0, es.external);
        vs_metrics_family(m, "vschedd_adjusted_values", VS_METRIC_GAUGE, "cgroup values currently changed by vschedd");
        vs_metrics_sample_u64(m, NULL, 0, es.journalled);
        vs_metrics_family(m, "vschedd_control_requests", VS_METRIC_COUNTER, "Control socket requests served");
        vs_metrics_sample_u64(m, NULL, 0, cs.requests);
        vs_metrics_family(m, "vschedd_control_refused", VS_METRIC_COUNTER, "Control socket peers refused");
        vs_metrics_sample_u64(m, NULL, 0, cs.refused_unauth + cs.refused_limit);
        vs_metrics_family(m, "vschedd_loop_latency_seconds", VS_METRIC_COUNTER,
                          "Sum of how late the policy epoch timer fired (event loop latency)");
        vs_metrics_sample_double(m, NULL, 0, run->loop_late_usec / 1e6);
        vs_metrics_family(m, "vschedd_loop_wakeups", VS_METRIC_COUNTER, "Policy epoch timer firings");
        vs_metrics_sample_u64(m, NULL, 0, run->loop_wakeups);
        vs_metrics_family(m, "vschedd_loop_latency_max_seconds", VS_METRIC_GAUGE,
                          "Worst epoch timer lateness over the last 10 to 20 seconds");
        vs_metrics_sample_double(m, NULL, 0, (run->loop_late_max[0] > run->loop_late_max[1] ? run->loop_late_max[0]
                                                                                         : run->loop_late_max[1]) / 1e6);
        {
                struct metrics_server_stats hs = {};
                struct vs_metric_label ok = { "result", "served" }, bad = { "result", "refused" };
                metrics_server_get_stats(run->http, &hs);
                vs_metrics_family(m, "vschedd_http_requests", VS_METRIC_COUNTER,
                                  "Requests to the metrics HTTP listener");
                vs_metrics_sample_u64(m, &ok, 1, hs.served);
                vs_metrics_sample_u64(m, &bad, 1, hs.refused);
        }
        r = vs_metrics_finish(m, ret_text);
        vs_metrics_free(m);
        return r;
}

static void ctl_log(void *ud, int priority, const char *message) {
        vs_log(priority, 0, NULL, "control: %s", message);
}

static void http_log(void *ud, int priority, const char *message) {
        vs_log(priority, 0, NULL, "%s", message);
}

/* [metrics] listen: start, move or stop the HTTP listener (at start and
 * after a reload).  A failed bind keeps the listener that runs, or at start
 * runs without one: metrics must not stop scheduling. */
static void metrics_listener_apply(struct run *run) {
        const char *want = run->cfg.metrics_listen ? run->cfg.metrics_listen : "";
        struct metrics_server *n = NULL;
        int r;

        if (!run->event || (run->http && strcmp(metrics_server_address(run->http), want) == 0))
                return;
        if (!want[0]) {
                if (run->http)
                        log_info("metrics: HTTP listener on %s stopped", metrics_server_address(run->http));
                run->http = metrics_server_free(run->http);
                return;
        }
        r = metrics_server_new(run->event, want, ctl_metrics, http_log, run, &n);
        if (r == -EADDRINUSE && run->http) {
                /* the new address overlaps the old one (same port, wider
                 * address): let go of the old first, take it back on failure */
                _cleanup_free_ char *old = strdup(metrics_server_address(run->http));
                run->http = metrics_server_free(run->http);
                r = metrics_server_new(run->event, want, ctl_metrics, http_log, run, &n);
                if (r < 0 && old && metrics_server_new(run->event, old, ctl_metrics, http_log, run, &run->http) < 0)
                        log_error("metrics: cannot listen on %s again either; no HTTP listener now", old);
        }
        if (r < 0) {
                if (run->http)
                        log_error_errno(r, "metrics: cannot listen on %s, keeping the listener on %s: %m", want,
                                        metrics_server_address(run->http));
                else
                        log_error_errno(r, "metrics: cannot listen on %s, continuing without an HTTP listener: %m",
                                        want);
                return;
        }
        run->http = metrics_server_free(run->http);
        run->http = n;
        log_info("metrics: serving http://%s/metrics", want);
}

/* The cpu.weight held (enforcer) or decided in a dry-run replay (policy),
 * and its baseline, as numbers; null when unknown. */
static void top_weight(struct run *run, const char *vm, int vcpu, struct json_object *o) {
        const char *cur = NULL, *base = NULL;

        if (run->enf) {
                cur = enforcer_value(run->enf, vm, vcpu, VS_KNOB_WEIGHT);
                base = enforcer_baseline(run->enf, vm, vcpu, VS_KNOB_WEIGHT);
        } else if (vs_pipeline_policy(run->pipe)) {
                cur = vs_policy_value(vs_pipeline_policy(run->pipe), vm, vcpu, VS_KNOB_WEIGHT);
                base = vs_policy_baseline(vs_pipeline_policy(run->pipe), vm, vcpu, VS_KNOB_WEIGHT);
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
        struct run *run = ud;
        struct json_object *o = json_object_new_object(), *vms = json_object_new_array();

        if (!o || !vms) {
                json_object_put(o);
                json_object_put(vms);
                return -ENOMEM;
        }
        json_object_object_add(o, "uptime_s", json_object_new_double((mono_usec() - run->started_usec) / 1e6));
        json_object_object_add(o, "mode", json_object_new_string(vs_mode_name(run->cfg.mode)));
        json_object_object_add(o, "dry_run", json_object_new_boolean(arg.dry_run));
        for (unsigned i = 0; vs_pipeline_analysis(run->pipe) && i < vs_analysis_n_vms(vs_pipeline_analysis(run->pipe)); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(vs_pipeline_analysis(run->pipe), i);
                struct json_object *v = json_object_new_object(), *vcpus = json_object_new_array();
                uint64_t t_in = 0, t_out = 0, t_nr = 0, t_pause = 0, t_yields = 0;
                struct vs_hist t_lat = {};
                struct vs_vm_policy vp;

                vs_config_vm(&run->cfg, vm->name, &vp);
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
                        top_weight(run, vm->name, (int) c, x);
                        json_object_array_add(vcpus, x);
                        t_in += in;
                        t_out += out;
                        t_nr += nr;
                        t_pause += vc->pause_exits;
                        t_yields += vc->yields_out;
                        vs_hist_merge(&t_lat, &lat);
                }
                top_counters(v, t_in, t_out, t_nr, t_pause, t_yields, &t_lat);
                top_weight(run, vm->name, -1, v);
                json_object_object_add(v, "vcpu", vcpus);
                json_object_array_add(vms, v);
        }
        json_object_object_add(o, "vms", vms);
        *ret = o;
        return 0;
}

static const struct control_ops ctl_ops = {
        .status = ctl_status,
        .vms = ctl_vms,
        .vm = ctl_vm,
        .vm_set = ctl_vm_set,
        .reload = ctl_reload,
        .metrics = ctl_metrics,
        .log = ctl_log,
        .top = ctl_top,
};

/* --replay --serve: the replayed model stays up behind the control socket
 * (vschedctl status/vm/graph/metrics against a recording) until a signal. */
static int serve_replay(struct run *run) {
        sd_event *e = NULL;
        sd_event_source *sigs[3] = {};
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        vs_pipeline_finish(run->pipe);
        r = sd_event_new(&e);
        if (r < 0)
                goto out;
        run->started_usec = mono_usec();
        apply_saved_overrides(run);
        r = control_new(e, arg.control, &ctl_ops, run, &run->ctl);
        if (r < 0) {
                log_err("--serve: no control socket at %s: %s", arg.control ? arg.control : VS_CTL_SOCKET_PATH,
                        r == -EADDRINUSE ? "another vschedd answers there" : strerror(-r));
                goto out;
        }
        run->event = e;
        metrics_listener_apply(run);
        r = sd_event_add_signal(e, &sigs[0], SIGINT, on_signal, run);
        if (r >= 0)
                r = sd_event_add_signal(e, &sigs[1], SIGTERM, on_signal, run);
        if (r >= 0)
                r = sd_event_add_signal(e, &sigs[2], SIGHUP, on_signal, run);
        if (r < 0)
                goto out;
        (void) sd_notify(false, "READY=1");
        if (!arg.quiet)
                fprintf(stderr, "vschedd: replay done; serving on %s until SIGINT/SIGTERM\n",
                        arg.control ? arg.control : VS_CTL_SOCKET_PATH);
        r = sd_event_loop(e);
out:
        if (r < 0)
                log_err("--serve: %s", strerror(-r));
        run->http = metrics_server_free(run->http);
        run->event = NULL;
        run->ctl = control_free(run->ctl);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sd_event_source_unref(sigs[i]);
        sd_event_unref(e);
        return r;
}

static int run_live(struct run *run) {
        struct vs_live_options o = {
                .instance = arg.instance,
                .tracefs = arg.tracefs,
                .buffer_kb = arg.buffer_kb,
                .record_max_mb = arg.record ? arg.record_max_mb : 0,
        };
        sd_event *e = NULL;
        sd_event_source *io = NULL, *tick = NULL, *rescan = NULL, *deadline = NULL, *sigs[3] = {};
        char err[256] = "";
        sigset_t mask;
        int r, n;

        /* Signals first: a SIGTERM that arrives while the instance exists must
         * still go through cleanup. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        n = vs_topology_scan_proc(vs_pipeline_topology(run->pipe), "/proc");
        r = vs_source_live_open(&o, &run->src, err, sizeof(err));
        if (r < 0) {
                log_err("cannot start live tracing: %s", err[0] ? err : strerror(-r));
                if (r == -EACCES || r == -EPERM)
                        log_err("live tracing needs root (CAP_SYS_ADMIN or CAP_PERFMON on tracefs)");
                return r;
        }
        vs_source_set_thread_cb(run->src, vs_topology_thread_cb, vs_pipeline_topology(run->pipe));
        mark_topology(run);
        if (!arg.quiet) {
                const char *const *evs = vs_source_live_events(run->src);
                fprintf(stderr, "vschedd: live on tracefs instance '%s', %d VM(s) found in /proc; events:",
                        arg.instance ? arg.instance : "vschedd", n > 0 ? n : 0);
                for (; evs && *evs; evs++)
                        fprintf(stderr, " %s", *evs);
                fputc('\n', stderr);
        }

        r = enforcer_new(&run->cfg, vs_pipeline_topology(run->pipe), arg.dry_run, &run->enf);
        if (r < 0) {
                log_err("cannot set up enforcement: %s", strerror(-r));
                goto out;
        }

        r = sd_event_new(&e);
        if (r < 0)
                goto out;
        /* WatchdogSec= in the unit: sd-event pings the watchdog for us */
        (void) sd_event_set_watchdog(e, true);
        run->started_usec = mono_usec();
        apply_saved_overrides(run);
        r = control_new(e, arg.control, &ctl_ops, run, &run->ctl);
        if (r == -EADDRINUSE) {
                /* A one-shot run (--duration, --dump-events, --record) next to the
                 * service is fine without a socket; a second service is not. */
                bool one_shot = arg.duration > 0 || arg.dump || arg.record;
                log_err("another vschedd answers on %s%s", arg.control ? arg.control : VS_CTL_SOCKET_PATH,
                        one_shot ? "; continuing without a control socket" : "");
                if (!one_shot)
                        goto out;
        }
        if (r < 0)
                log_warning_errno(r, "No control socket at %s (vschedctl will not reach this daemon): %m",
                                  arg.control ? arg.control : VS_CTL_SOCKET_PATH);
        r = 0;
        run->event = e;
        metrics_listener_apply(run);
        if (run->cfg.libvirt_uri && run->cfg.libvirt_uri[0]) {
                r = vs_vmwatch_new(run->cfg.libvirt_uri, &run->vmwatch);
                if (r >= 0)
                        r = vs_vmwatch_attach(run->vmwatch, e, on_vm_change, run);
                if (r == 0)
                        log_info("libvirt (%s) not reachable yet (%s); retrying, /proc scan meanwhile",
                                 run->cfg.libvirt_uri,
                                 vs_vmwatch_last_error(run->vmwatch, NULL) ? vs_vmwatch_last_error(run->vmwatch, NULL) : "?");
                else if (r < 0) {
                        log_warning_errno(r, "Cannot follow libvirt (%s), using /proc only: %m", run->cfg.libvirt_uri);
                        vs_vmwatch_free(run->vmwatch);
                        run->vmwatch = NULL;
                }
                r = 0;
        }
        r = sd_event_add_io(e, &io, vs_source_fd(run->src), EPOLLIN, on_trace_io, run);
        if (r < 0)
                goto out;
        r = sd_event_add_time_relative(e, &tick, CLOCK_MONOTONIC, 100 * 1000, 10 * 1000, on_tick, run);
        if (r < 0)
                goto out;
        r = sd_event_add_time_relative(e, &rescan, CLOCK_MONOTONIC, 2 * 1000 * 1000, 100 * 1000, on_rescan, run);
        if (r < 0)
                goto out;
        if (arg.duration > 0) {
                r = sd_event_add_time_relative(e, &deadline, CLOCK_MONOTONIC, (uint64_t) (arg.duration * 1e6), 1000,
                                               on_deadline, run);
                if (r < 0)
                        goto out;
        }
        r = sd_event_add_signal(e, &sigs[0], SIGINT, on_signal, run);
        if (r >= 0)
                r = sd_event_add_signal(e, &sigs[1], SIGTERM, on_signal, run);
        if (r >= 0)
                r = sd_event_add_signal(e, &sigs[2], SIGHUP, on_signal, run);
        if (r < 0)
                goto out;
        r = sd_event_add_time_relative(e, &run->epoch_src, CLOCK_MONOTONIC, (uint64_t) run->cfg.epoch_ms * 1000, 500,
                                       on_epoch, run);
        if (r < 0)
                goto out;
        (void) sd_event_source_set_enabled(tick, SD_EVENT_ON);
        (void) sd_event_source_set_enabled(rescan, SD_EVENT_ON);
        (void) sd_event_source_set_enabled(run->epoch_src, SD_EVENT_ON);

        (void) sd_notify(false, "READY=1");
        notify_status(run);
        {
                struct vs_log_fields f = { .vcpu = -1, .message_id = VS_MSGID_STARTED };
                vs_log(LOG_INFO, 0, &f, "started in %s mode%s, %d VM(s)", vs_mode_name(run->cfg.mode),
                       arg.dry_run ? " (dry run: nothing is written)" : "", n > 0 ? n : 0);
        }

        r = sd_event_loop(e);
        (void) sd_notify(false, "STOPPING=1");
        if (r >= 0 && run->r >= 0)
                r = drain(run);         /* what arrived between the last tick and stop */
        if (r >= 0 && run->r < 0)
                r = run->r;
        if (r == -EPIPE) {
                /* the reader went away: a normal stop, no summary to a closed pipe */
                r = 0;
                arg.summary = 0;
        }
out:
        if (r < 0)
                log_err("live: %s", strerror(-r));
        /* every value we changed goes back before anything else is torn down */
        if (run->enf) {
                (void) enforcer_release(run->enf, trace_now(run));
                enforcer_free(run->enf);
                run->enf = NULL;
        }
        run->epoch_src = sd_event_source_unref(run->epoch_src);
        vs_vmwatch_free(run->vmwatch);
        run->vmwatch = NULL;
        run->http = metrics_server_free(run->http);
        run->event = NULL;
        run->ctl = control_free(run->ctl);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sd_event_source_unref(sigs[i]);
        sd_event_source_unref(deadline);
        sd_event_source_unref(rescan);
        sd_event_source_unref(tick);
        sd_event_source_unref(io);
        sd_event_unref(e);
        if (run->src) {
                (void) vs_source_live_update_lost(run->src);
                report_source_problems(run->src, "live");
                if (arg.record) {
                        int k = write_recording(run);
                        if (k < 0 && r >= 0)
                                r = k;
                }
        }
        if (r >= 0)
                print_summary(run);
        return r;
}

/* ---------------------------------------------------------------- auto */

/* The event path; @replay: a --dry-run runs the policy on trace time (live,
 * the enforcer runs it on wall time). */
static int new_pipeline(struct run *run, bool replay) {
        struct vs_pipeline_options po = {
                .cfg = &run->cfg,
                .analysis = arg.report || arg.dry_run || arg.serve || arg.svg_dir || arg.mode != MODE_REPLAY,
                .timeline = arg.svg_dir,
                .tl_start_ns = arg.svg_start_ns,
                .tl_len_ns = arg.svg_len_ns,
                .policy = replay && arg.dry_run,
                .enforce_observed = arg.mode == MODE_REPLAY,
                .on_decision = on_decision,
                .userdata = run,
        };

        return vs_pipeline_new(&po, &run->pipe);
}

static const char *bundled_trace(char *buf, size_t len) {
        const char *dirs[] = { getenv("VSCHEDD_DATA_DIR"), PKGDATADIR, NULL };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (!dirs[i])
                        continue;
                snprintf(buf, len, "%s/%s", dirs[i], BUNDLED_TRACE);
                if (access(buf, R_OK) == 0)
                        return buf;
        }
        return NULL;
}

static bool kvm_tracepoints_fire(void) {
        /* /dev/kvm plus kvm tracepoints are not enough (a PVM-backed /dev/kvm
         * has both): require running VMs with vCPU threads. */
        return access("/sys/kernel/tracing/events/kvm/kvm_apic_ipi", F_OK) == 0 ||
               access("/sys/kernel/debug/tracing/events/kvm/kvm_apic_ipi", F_OK) == 0;
}

static int run_auto(struct run *run) {
        char path[4096];
        int n = vs_topology_scan_proc(vs_pipeline_topology(run->pipe), "/proc");

        if (n > 0 && kvm_tracepoints_fire()) {
                if (!arg.quiet)
                        fprintf(stderr, "vschedd: %d KVM VM(s) running here: watching live for %g s\n", n,
                                arg.duration > 0 ? arg.duration : 10.0);
                if (arg.duration <= 0)
                        arg.duration = 10;
                return run_live(run);
        }
        if (!bundled_trace(path, sizeof(path))) {
                log_err("no KVM VMs on this host and no bundled trace found (set VSCHEDD_DATA_DIR)");
                return -ENOENT;
        }
        if (!arg.quiet)
                fprintf(stderr, "vschedd: no KVM VMs running here; replaying the bundled recording %s\n", path);
        /* the /proc scan must not leak into the replay's topology */
        run->pipe = vs_pipeline_free(run->pipe);
        if (new_pipeline(run, true) < 0)
                return -ENOMEM;
        return run_replay(run, path);
}

/* Load the configuration: an explicit --config must exist; the default file may not. */
static int load_config(struct vs_config *c) {
        const char *path = arg.config ? arg.config : SYSCONFDIR "/vschedd.conf";
        _cleanup_free_ char *errors = NULL;
        int r;

        r = vs_config_init(c);
        if (r < 0)
                return r;
        r = vs_config_load(c, path, &errors);
        if (r == -ENOENT && !arg.config)
                return 0;
        if (r < 0) {
                if (errors && *errors)
                        fprintf(stderr, "%s\n", errors);
                else
                        log_err("%s: %s", path, strerror(-r));
                return r;
        }
        return 1;
}

int main(int argc, char **argv) {
        struct run run = {};
        int r;

        r = parse_args(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        /* A closed stdout must end the run through the normal cleanup path
         * (which removes the tracefs instance), not kill us. */
        signal(SIGPIPE, SIG_IGN);

        vs_log_setup(getenv("VSCHEDD_DEBUG") ? LOG_DEBUG : LOG_INFO, arg.quiet);
        r = load_config(&run.cfg);
        if (r < 0) {
                vs_config_done(&run.cfg);
                return 1;
        }
        if (arg.restore) {
                r = enforcer_restore_journal(run.cfg.state_dir);
                if (r >= 0 && !arg.quiet)
                        printf("restored %d value(s)\n", r);
                vs_config_done(&run.cfg);
                return r < 0 ? 1 : 0;
        }
        if (arg.test_config || arg.print_config) {
                if (arg.print_config)
                        (void) vs_config_print(&run.cfg, stdout);
                else
                        printf("configuration OK%s\n", r == 0 ? " (no file: defaults)" : "");
                vs_config_done(&run.cfg);
                return 0;
        }

        if (new_pipeline(&run, arg.mode == MODE_REPLAY) < 0) {
                log_err("out of memory");
                return 1;
        }
        switch (arg.mode) {
        case MODE_REPLAY:
                r = run_replay(&run, arg.replay);
                if (r >= 0 && arg.serve)
                        r = serve_replay(&run);
                break;
        case MODE_LIVE:
                r = run_live(&run);
                break;
        case MODE_AUTO:
                r = run_auto(&run);
                break;
        default:
                r = -EINVAL;
        }
        vs_source_free(run.src);
        free(run.marked);
        vs_pipeline_free(run.pipe);
        vs_config_done(&run.cfg);
        return r < 0 ? 1 : 0;
}
