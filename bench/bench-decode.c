/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-decode - events/s of replaying a recorded trace through vschedd's
 * own code: "decode" (source -> normalised events) or "pipeline": what
 * `vschedd --replay FILE --dry-run --config CONFIG` runs, through the same
 * lib/pipeline.c (a first pass learning the topology and the CPUs, keeping
 * the events on a tape (lib/event-tape.h), then, from the tape,
 * topology, summary, analysis and the policy on trace-time epochs with the
 * gap rule, every VM not 'off' enforced).  Without CONFIG: the built-in
 * defaults, as vschedd without a configuration file.
 *
 *   bench-decode decode|pipeline FILE [CONFIG]
 *
 * Prints: mode, events, seconds (CPU time of this process), events/s,
 * decisions (the policy's, as many as `vschedd --dry-run` prints).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event-tape.h"
#include "pipeline.h"
#include "source.h"
#include "vs-config.h"

static double cpu_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_or_complain(const char *path, struct vs_source **ret) {
        int r = vs_source_open_file(path, ret);

        if (r < 0)
                fprintf(stderr, "bench-decode: %s: %s\n", path, strerror(-r));
        return r;
}

struct learner {
        struct vs_tape *tape;
        struct vs_topology *topo;
        int error;
};

static void learn_thread(const struct vs_thread_info *ti, void *userdata) {
        struct learner *l = userdata;
        int r = vs_tape_add_thread(l->tape, ti);

        if (r < 0 && l->error == 0)
                l->error = r;
        vs_topology_thread_cb(ti, l->topo);
}

/* Both passes of vschedd's replay (daemon/replay.c): the first learns the
 * topology and keeps the events on a tape, the second plays the tape
 * through the pipeline; returns the events of the second. */
static int pipeline(const char *path, const struct vs_config *cfg, uint64_t *ret_events, uint64_t *ret_decisions) {
        struct vs_pipeline_options o = { .cfg = cfg, .analysis = true, .policy = true, .enforce_observed = true };
        struct vs_pipeline *p = NULL;
        struct vs_source *src = NULL, *play = NULL;
        struct learner l = {};
        struct vs_event ev;
        int r;

        r = vs_pipeline_new(&o, &p);
        if (r < 0)
                return r;
        r = open_or_complain(path, &src);
        if (r < 0)
                goto out;
        r = vs_tape_new(512u << 20, &l.tape);
        if (r < 0)
                goto out;
        l.topo = vs_pipeline_topology(p);
        vs_source_set_thread_cb(src, learn_thread, &l);
        while ((r = vs_source_next(src, &ev)) > 0)
                if ((r = vs_pipeline_learn(p, &ev)) < 0 || (r = vs_tape_add_event(l.tape, &ev)) < 0)
                        goto out;
        if (r == 0 && l.error < 0)
                r = l.error;
        if (r < 0)
                goto out;
        vs_topology_seal_evidence(vs_pipeline_topology(p));
        r = vs_tape_source_new(l.tape, src, &play);
        if (r < 0)
                goto out;
        vs_source_free(src);
        src = play;
        vs_source_set_thread_cb(src, vs_topology_thread_cb, vs_pipeline_topology(p));
        while ((r = vs_source_next(src, &ev)) > 0) {
                (*ret_events)++;
                if ((r = vs_pipeline_event(p, &ev)) < 0)
                        goto out;
        }
        vs_pipeline_finish(p);
        *ret_decisions = vs_pipeline_decisions(p);
out:
        vs_source_free(src);
        vs_tape_free(l.tape);
        vs_pipeline_free(p);
        return r;
}

int main(int argc, char **argv) {
        struct vs_source *src;
        struct vs_event ev;
        struct vs_config cfg;
        uint64_t n = 0, decisions = 0;
        bool pipe;
        double t0, t;
        int r;

        if ((argc != 3 && argc != 4) || (strcmp(argv[1], "decode") && strcmp(argv[1], "pipeline")) ||
            (argc == 4 && strcmp(argv[1], "pipeline"))) {
                fprintf(stderr, "usage: bench-decode decode FILE | pipeline FILE [CONFIG]\n");
                return 2;
        }
        pipe = strcmp(argv[1], "pipeline") == 0;
        if (vs_config_init(&cfg) < 0)
                return 1;
        if (argc == 4) {
                char *errors = NULL;
                r = vs_config_load(&cfg, argv[3], &errors);
                if (r < 0) {
                        fprintf(stderr, "bench-decode: %s: %s\n", argv[3], errors && *errors ? errors : strerror(-r));
                        free(errors);
                        return 1;
                }
                free(errors);
        }
        t0 = cpu_s();
        if (pipe)
                r = pipeline(argv[2], &cfg, &n, &decisions);
        else {
                r = open_or_complain(argv[2], &src);
                if (r >= 0) {
                        while ((r = vs_source_next(src, &ev)) > 0)
                                n++;
                        vs_source_free(src);
                }
        }
        t = cpu_s() - t0;
        vs_config_done(&cfg);
        if (r < 0)
                return 1;
        printf("mode %s\nevents %" PRIu64 "\nseconds %.3f\nrate %.0f\ndecisions %" PRIu64 "\n", argv[1], n, t,
               n / (t > 0 ? t : 1e-9), decisions);
        return 0;
}
