/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * progress.h - a one-line progress meter for long work (big replays, trace
 * generation, benchmarks).  Draws on stderr only when stderr is a terminal,
 * at most 10 times a second; silent when piped or redirected.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct vs_progress {
        bool enabled;
        bool drawn;
        uint64_t last_ns;
        uint64_t start_ns;
        const char *label;
};

void vs_progress_init(struct vs_progress *p, const char *label);
/* @total 0 = unknown (no percentage). */
void vs_progress_update(struct vs_progress *p, uint64_t done, uint64_t total, uint64_t items);
/* Erase the meter line (if drawn). */
void vs_progress_done(struct vs_progress *p);
