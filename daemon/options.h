/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * options.h - vschedd's command line: the options struct, parsing, the help
 * text.  Nothing else reads argv; the parsed options are const afterwards
 * (what changes at run time lives in the manager).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum run_mode {
        MODE_NONE,
        MODE_REPLAY,
        MODE_LIVE,
        MODE_AUTO,
};

struct options {
        enum run_mode mode;
        const char *replay;
        bool dump;
        bool json;
        bool report;
        bool dry_run;
        bool decisions;                 /* the decisions section at the end (runs the policy as a dry run) */
        const char *config;             /* NULL = the default file, optional */
        bool test_config;
        bool print_config;
        bool restore;
        const char *control;            /* control socket path, NULL = the default */
        bool summary;                   /* default: on unless dumping, reporting or dry-running */
        double duration;                /* live: seconds, 0 = until signalled */
        uint64_t limit;                 /* max events to print, 0 = all */
        const char *tracefs;
        const char *instance;
        unsigned buffer_kb;
        const char *record;
        unsigned record_max_mb;
        bool quiet;
        bool serve;                     /* replay: keep answering on the control socket afterwards */
        const char *svg_dir;            /* replay: pictures per VM */
        uint64_t svg_start_ns, svg_len_ns;      /* their timeline window */
        bool svg_window;
        bool help, version;             /* print that and exit */
};

/* Parse @argv (and VSCHEDD_CONTROL) into @ret.  Returns 1: run; 0: print
 * the help or the version (ret->help, ret->version) and exit; -EINVAL: a
 * usage error, already printed on stderr. */
int options_parse(int argc, char **argv, struct options *ret);
const char *options_help_text(void);

/* The configuration file: --config, or the default (which may be missing). */
const char *options_config_path(const struct options *o);
/* The control socket: --control, VSCHEDD_CONTROL, or the default. */
const char *options_control_path(const struct options *o);
