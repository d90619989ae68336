/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "mono-clock.h"

void vs_progress_init(struct vs_progress *p, const char *label) {
        *p = (struct vs_progress) {
                .enabled = isatty(STDERR_FILENO) == 1 && !getenv("VSCHEDD_NO_PROGRESS"),
                .label = label,
                .start_ns = vs_mono_ns(),
        };
}

void vs_progress_update(struct vs_progress *p, uint64_t done, uint64_t total, uint64_t items) {
        uint64_t now;
        double secs;

        if (!p->enabled)
                return;
        now = vs_mono_ns();
        if (p->drawn && now - p->last_ns < 100000000ull)
                return;
        p->last_ns = now;
        p->drawn = true;
        secs = (now - p->start_ns) / 1e9;
        if (total > 0)
                fprintf(stderr, "\r\033[K%s: %3u%%  %" PRIu64 " events  %.1f s", p->label,
                        (unsigned) (done * 100 / (total ? total : 1)), items, secs);
        else
                fprintf(stderr, "\r\033[K%s: %" PRIu64 " events  %.1f s", p->label, items, secs);
        fflush(stderr);
}

void vs_progress_done(struct vs_progress *p) {
        if (p->enabled && p->drawn) {
                fprintf(stderr, "\r\033[K");
                fflush(stderr);
        }
        p->drawn = false;
}
