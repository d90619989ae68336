/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-dat - trace-cmd .dat files through vs_source_open_file(): the magic
 * sniffing, our v6 layout check (dat-layout.c), the child's page walk,
 * libtracecmd open, per-CPU merge and tep-decode.c (source-dat.c: all in a
 * child, whose coverage the fuzzer does not see), the stream it hands back,
 * then the event pipeline (lib/pipeline.c: topology, summary, analysis, as a
 * replay runs it).  Beyond no sanitizer report: never a hang (libFuzzer's
 * -timeout, 10 s in tools/fuzz), whatever the pages hold.
 *
 * Inputs that do not start with the .dat magic get it prepended, so the
 * campaign does not drift into the text parser (fuzz-text covers that).
 */
#include <string.h>

#include "fuzz.h"
#include "pipeline.h"
#include "source.h"

#define MAX_EVENTS 20000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vs_source *src = NULL;
        struct vs_pipeline_options po = { .analysis = true };
        struct vs_pipeline *pipe = NULL;
        struct vs_event ev;
        const char *path;
        unsigned n = 0;
        int r;

        size_t len;
        uint8_t *buf = fuzz_dat_bytes(data, size, &len);

        if (!buf)
                return 0;
        path = fuzz_scratch_file(buf, len, 0600);
        free(buf);
        if (!path)
                return 0;
        if (vs_source_open_file(path, &src) < 0)
                goto out;
        if (vs_pipeline_new(&po, &pipe) < 0)
                goto out;
        vs_source_set_thread_cb(src, vs_topology_thread_cb, vs_pipeline_topology(pipe));
        /* (the merge keeps one peeked record per CPU; libtracecmd's own
         * record order inside a CPU is not ours to assert) */
        while (n < MAX_EVENTS && (r = vs_source_next(src, &ev)) > 0) {
                n++;
                if (vs_pipeline_event(pipe, &ev) < 0)
                        break;
        }
        uint64_t total;
        (void) vs_source_progress(src, &total);
        vs_pipeline_finish(pipe);
out:
        vs_pipeline_free(pipe);
        vs_source_free(src);
        fuzz_unmap_scratch();
        return 0;
}
