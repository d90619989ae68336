/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vschedd - entry point: options, configuration, then the manager (a live
 * run, or a replay and --serve, or --auto).  The one-shot actions
 * (--restore, --test-config, --print-config) end here.  What each part owns:
 * options.c the command line, output.c stdout, manager*.c the running
 * daemon and its loop, replay.c recorded traces, enforce.c the host's
 * cgroups, overrides.c runtime overrides, log.c messages; the logic itself
 * is in lib/.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "enforce.h"
#include "log.h"
#include "manager.h"
#include "options.h"
#include "output.h"
#include "replay.h"
#include "vs-config.h"

/* Load the configuration: an explicit --config must exist; the default file
 * may not.  Returns 1 loaded, 0 no file (defaults), or -errno (printed). */
static int load_config(const struct options *o, struct vs_config *c) {
        const char *path = options_config_path(o);
        _cleanup_free_ char *errors = NULL;
        int r;

        r = vs_config_init(c);
        if (r < 0)
                return r;
        r = vs_config_load(c, path, &errors);
        if (r == -ENOENT && !o->config)
                return 0;
        if (r < 0) {
                if (errors && *errors)
                        output_config_errors(errors);
                else
                        log_error("%s: %s", path, strerror(-r));
                return r;
        }
        return 1;
}

/* --restore, --test-config, --print-config: act and exit. */
static int one_shot(const struct options *o, struct vs_config *cfg, int loaded) {
        int r = 0;

        if (o->restore) {
                r = enforcer_restore_journal(cfg->state_dir);
                if (r >= 0 && !o->quiet)
                        output_restored(r);
        } else if (o->print_config)
                output_config(cfg);
        else
                output_config_ok(loaded == 0);
        return r < 0 ? 1 : 0;
}

static int run(const struct options *o, struct vs_config *cfg) {
        struct manager *m = NULL;
        int r;

        r = manager_new(o, cfg, &m);
        if (r >= 0)
                r = manager_new_pipeline(m, o->mode == MODE_REPLAY);
        if (r < 0) {
                log_error("out of memory");
                manager_free(m);
                return r;
        }
        switch (o->mode) {
        case MODE_REPLAY:
                r = replay_run(m, o->replay);
                if (r >= 0 && o->serve)
                        r = manager_serve(m);
                break;
        case MODE_LIVE:
                r = manager_run_live(m);
                break;
        case MODE_AUTO:
                r = replay_auto(m);
                break;
        default:
                r = -EINVAL;
        }
        manager_free(m);
        return r;
}

int main(int argc, char **argv) {
        struct options o;
        struct vs_config cfg;
        int r;

        r = options_parse(argc, argv, &o);
        if (r < 0)
                return 2;
        if (r == 0) {
                if (o.help)
                        output_help(options_help_text());
                else
                        output_version();
                return 0;
        }
        output_setup(o.json, o.dump, o.limit);

        /* A closed stdout must end the run through the normal cleanup path
         * (which removes the tracefs instance), not kill us. */
        signal(SIGPIPE, SIG_IGN);

        vs_log_setup(getenv("VSCHEDD_DEBUG") ? LOG_DEBUG : LOG_INFO, o.quiet);
        r = load_config(&o, &cfg);
        if (r < 0) {
                vs_config_done(&cfg);
                return 1;
        }
        if (o.restore || o.test_config || o.print_config) {
                r = one_shot(&o, &cfg, r);
                vs_config_done(&cfg);
                return r;
        }
        return run(&o, &cfg) < 0 ? 1 : 0;
}
