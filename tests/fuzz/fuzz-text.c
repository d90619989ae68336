/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-text - the ftrace text parser (source-text.c) and everything an
 * offline replay runs on its events: topology (threads, markers, VM
 * grouping), analysis (IPI graph, yield statistics), the policy at epoch
 * boundaries (what-if mode, every observed VM enforced): the one event path
 * of lib/pipeline.c, as vschedd --replay --dry-run drives it; and both event
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
#include "pipeline.h"
#include "source.h"
#include "vs-config.h"

#define MAX_EVENTS 20000u
#define MAX_EPOCHS 64u

static void on_decision(const struct vs_decision *d, void *userdata) {
        (void) d;
        (void) userdata;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vs_source *src = NULL;
        struct vs_pipeline *pipe = NULL;
        struct vs_config cfg;
        struct vs_event ev;
        unsigned n = 0;
        uint64_t last_ts = 0;
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
        if (vs_config_init(&cfg) < 0)
                goto out;
        /* the policy at trace-time epoch boundaries, as --dry-run does (on 4 CPUs) */
        struct vs_pipeline_options po = {
                .cfg = &cfg,
                .analysis = true,
                .policy = true,
                .enforce_observed = true,
                .n_cpus = 4,
                .max_epochs = MAX_EPOCHS,
                .on_decision = on_decision,
        };
        if (vs_pipeline_new(&po, &pipe) < 0)
                goto done;
        struct vs_topology *topo = vs_pipeline_topology(pipe);
        struct vs_analysis *an = vs_pipeline_analysis(pipe);
        vs_source_set_thread_cb(src, vs_topology_thread_cb, topo);

        while (n < MAX_EVENTS && (r = vs_source_next(src, &ev)) > 0) {
                char line[512];

                n++;
                if (vs_pipeline_event(pipe, &ev) < 0)
                        break;
                last_ts = ev.ts_ns;

                /* (regress/text/newline-in-vm-name: VM names from markers) */
                if (vs_event_format(&ev, topo, line, sizeof(line)) >= 0)
                        FUZZ_ASSERT(!strchr(line, '\n'), "event %u rendered with a newline: '%s'", n, line);
                if (full)
                        fuzz_assert_json_roundtrip(vs_event_to_json(&ev, topo), "event", n);
        }

        const struct vs_source_stats *st = vs_source_get_stats(src);
        FUZZ_ASSERT(st->events <= st->records, "events %llu > records %llu",
                    (unsigned long long) st->events, (unsigned long long) st->records);

        vs_pipeline_finish(pipe);
        if (full)
                fuzz_assert_json_roundtrip(vs_analysis_report_json(an), "analysis report after event", n);
        (void) vs_pipeline_release(pipe, last_ts);
done:
        vs_pipeline_free(pipe);
        vs_config_done(&cfg);
out:
        vs_source_free(src);
        return 0;
}
