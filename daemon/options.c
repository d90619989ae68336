/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * options.c - vschedd's command line (see options.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-proto.h"
#include "macro.h"
#include "options.h"

const char *options_help_text(void) {
        return "Usage: vschedd [OPTIONS]\n"
                "\n"
                "Watch KVM and scheduler tracepoints and report, per VM, who interrupts whom.\n"
                "\n"
                "Sources (one of):\n"
                "  -r, --replay=FILE        read a recorded trace: trace-cmd .dat, ftrace text\n"
                "                           (trace, trace_pipe, with or without TGID column) or\n"
                "                           `trace-cmd report` output; '-' reads text from stdin\n"
                "  -l, --live               read live from a private tracefs instance\n"
                "      --auto               live when KVM VMs run on this host, else replay a real\n"
                "                           recording of the nested testbed (tools/quickstart)\n"
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
                "      --decisions          end with, per VM, the vCPUs preempted while a sibling\n"
                "                           waited on them and the decisions mode = enforce would\n"
                "                           take (a dry run: nothing written), each with its reason\n"
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
                "  -V, --version            show the version\n";
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

int options_parse(int argc, char **argv, struct options *ret) {
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
                ARG_DECISIONS,
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
                { "decisions", no_argument, NULL, ARG_DECISIONS },
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
        struct options arg = {
                .svg_len_ns = 50 * 1000000ull,
                .record_max_mb = 512,
        };
        int summary = -1;               /* -1 = default (on unless dumping) */
        int c;

        *ret = arg;
        arg.control = getenv("VSCHEDD_CONTROL");        /* tests: one socket each */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":r:ldjn:qt:c:hV", options, NULL)) >= 0) {
                uint64_t v;
                char *end;

                switch (c) {
                case 'r':
                case 'l':
                case ARG_AUTO: {
                        enum run_mode m = c == 'r' ? MODE_REPLAY : c == 'l' ? MODE_LIVE : MODE_AUTO;
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
                        summary = 1;
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
                case ARG_DECISIONS:
                        arg.decisions = true;
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
                        summary = 0;
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
                        ret->help = true;
                        return 0;
                case 'V':
                        ret->version = true;
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
        arg.summary = summary < 0 ? !arg.dump && !arg.report && !arg.dry_run : summary;
        *ret = arg;
        return 1;
}

const char *options_config_path(const struct options *o) {
        return o->config ? o->config : SYSCONFDIR "/vschedd.conf";
}

const char *options_control_path(const struct options *o) {
        return o->control ? o->control : VS_CTL_SOCKET_PATH;
}
