/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-decode - events/s of replaying a recorded trace through vschedd's
 * own code: "decode" (source -> normalised events) or "pipeline" (decode +
 * topology + analysis + the policy in dry-run, every VM enforced).
 *
 *   bench-decode decode|pipeline FILE
 *
 * Prints: mode, events, seconds (CPU time of this process), events/s.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "policy.h"
#include "source.h"
#include "topology.h"
#include "vs-config.h"

static double cpu_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_decision(const struct vs_decision *d, void *userdata) {
        (*(uint64_t *) userdata)++;
}

int main(int argc, char **argv) {
        struct vs_source *src;
        struct vs_event ev;
        uint64_t n = 0, decisions = 0, next_epoch = 0;
        bool pipeline;
        double t0, t;
        int r;

        if (argc != 3 || (strcmp(argv[1], "decode") && strcmp(argv[1], "pipeline"))) {
                fprintf(stderr, "usage: bench-decode decode|pipeline FILE\n");
                return 2;
        }
        pipeline = strcmp(argv[1], "pipeline") == 0;
        t0 = cpu_s();
        r = vs_source_open_file(argv[2], &src);
        if (r < 0) {
                fprintf(stderr, "bench-decode: %s: %s\n", argv[2], strerror(-r));
                return 1;
        }
        if (!pipeline) {
                while (vs_source_next(src, &ev) > 0)
                        n++;
        } else {
                struct vs_topology *topo;
                struct vs_analysis *an;
                struct vs_policy *pol = NULL;
                struct vs_config cfg;
                unsigned cpus[] = { 0, 1, 2, 3, 4, 5, 6, 7 };

                vs_config_init(&cfg);
                cfg.weights = true;
                vs_topology_new(&topo);
                vs_analysis_new(NULL, topo, &an);
                vs_policy_new(&cfg, cpus, 8, &pol);
                vs_policy_enforce_observed(pol, true);
                vs_source_set_thread_cb(src, vs_topology_thread_cb, topo);
                while (vs_source_next(src, &ev) > 0) {
                        n++;
                        vs_topology_observe(topo, &ev);
                        vs_analysis_event(an, &ev);
                        if (!next_epoch)
                                next_epoch = ev.ts_ns + 20000000;
                        if (ev.ts_ns >= next_epoch) {
                                vs_policy_epoch(pol, an, next_epoch, on_decision, &decisions);
                                next_epoch += 20000000;
                        }
                }
                vs_policy_free(pol);
                vs_analysis_free(an);
                vs_topology_free(topo);
                vs_config_done(&cfg);
        }
        t = cpu_s() - t0;
        vs_source_free(src);
        printf("mode %s\nevents %" PRIu64 "\nseconds %.3f\nrate %.0f\ndecisions %" PRIu64 "\n", argv[1], n, t,
               n / (t > 0 ? t : 1e-9), decisions);
        return 0;
}
