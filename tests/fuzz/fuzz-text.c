/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-text - the ftrace text parser (source-text.c) and everything an
 * offline replay runs on its events: topology (threads, markers, VM
 * grouping), analysis (IPI graph, yield statistics), the policy at epoch
 * boundaries (what-if mode, every observed VM enforced), and both event
 * renderings.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *  - every event's JSON (vs_event_to_json) parses back with json-c;
 *  - the human rendering (vs_event_format) is one line: no '\n'
 *    (VM names come from hostile markers: vm=a%0ab);
 *  - the stats add up: events <= records.
 * The JSON checks run on every input, or one in VSCHEDD_FUZZ_SAMPLE (fuzz.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "event-json.h"
#include "fuzz.h"
#include "policy.h"
#include "source.h"
#include "topology.h"
#include "vs-config.h"

#define MAX_EVENTS 20000u
#define MAX_EPOCHS 64u

static void on_decision(const struct vs_decision *d, void *userdata) {
        (void) d;
        (*(unsigned *) userdata)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vs_source *src = NULL;
        struct vs_topology *topo = NULL;
        struct vs_analysis *an = NULL;
        struct vs_policy *pol = NULL;
        struct vs_analysis_config acfg;
        struct vs_config cfg;
        struct vs_event ev;
        unsigned n = 0, epochs = 0, decisions = 0;
        uint64_t next_epoch = 0, last_ts = 0;
        FILE *f;
        int r;

        if (size == 0)
                return 0;               /* fmemopen() refuses an empty buffer */
        const int full = fuzz_full_checks(data, size);
        f = fmemopen((void *) data, size, "r");
        if (!f)
                return 0;
        if (vs_source_text_open_stream(f, "fuzz", &src) < 0) {
                fclose(f);
                return 0;
        }
        if (vs_topology_new(&topo) < 0)
                goto out;
        vs_analysis_config_default(&acfg);
        if (vs_analysis_new(&acfg, topo, &an) < 0)
                goto out;
        if (vs_config_init(&cfg) < 0)
                goto out;
        vs_source_set_thread_cb(src, vs_topology_thread_cb, topo);

        while (n < MAX_EVENTS && (r = vs_source_next(src, &ev)) > 0) {
                char line[512];

                n++;
                if (vs_topology_observe(topo, &ev) < 0 || vs_analysis_event(an, &ev) < 0)
                        break;
                last_ts = ev.ts_ns;

                /* (regress/text/newline-in-vm-name: VM names from markers) */
                if (vs_event_format(&ev, topo, line, sizeof(line)) >= 0)
                        FUZZ_ASSERT(!strchr(line, '\n'), "event %u rendered with a newline: '%s'", n, line);
                if (full)
                        fuzz_assert_json_roundtrip(vs_event_to_json(&ev, topo), "event", n);

                /* the policy at trace-time epoch boundaries, as --dry-run does */
                uint64_t epoch = (uint64_t) cfg.epoch_ms * 1000000ull;
                if (!pol) {
                        unsigned cpus[] = { 0, 1, 2, 3 };
                        if (vs_policy_new(&cfg, cpus, sizeof(cpus) / sizeof(cpus[0]), &pol) < 0)
                                break;
                        vs_policy_enforce_observed(pol, true);
                        next_epoch = ev.ts_ns + epoch;
                } else if (ev.ts_ns >= next_epoch && epochs < MAX_EPOCHS) {
                        if (ev.ts_ns - next_epoch > 100 * epoch)
                                next_epoch = ev.ts_ns;
                        while (next_epoch <= ev.ts_ns && epochs < MAX_EPOCHS) {
                                if (vs_policy_epoch(pol, an, next_epoch, on_decision, &decisions) < 0)
                                        break;
                                next_epoch += epoch;
                                epochs++;
                        }
                }
        }

        const struct vs_source_stats *st = vs_source_get_stats(src);
        FUZZ_ASSERT(st->events <= st->records, "events %llu > records %llu",
                    (unsigned long long) st->events, (unsigned long long) st->records);

        vs_analysis_finish(an, vs_analysis_last_ts(an) > last_ts ? vs_analysis_last_ts(an) : last_ts);
        if (full)
                fuzz_assert_json_roundtrip(vs_analysis_report_json(an), "analysis report after event", n);
        if (pol)
                (void) vs_policy_release(pol, last_ts, on_decision, &decisions);
        vs_config_done(&cfg);
out:
        vs_policy_free(pol);
        vs_analysis_free(an);
        vs_topology_free(topo);
        vs_source_free(src);
        return 0;
}
