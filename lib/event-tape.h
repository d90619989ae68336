/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * event-tape.h - a recording of what a source yielded, played back as a
 * source: so a two-pass replay (topology first, then everything) decodes its
 * input once.
 *
 * Owns the recorded entries: every vs_event and every thread announcement
 * (struct vs_thread_info, strings copied) in the order the source gave them,
 * in blocks of 64 k entries (48 bytes an event), and a cap on their size
 * past which recording stops (-E2BIG: the caller reads its input again
 * instead).  The playing source announces the recorded threads through its
 * own thread callback at the point they came, and carries the recorded
 * source's kind, final statistics and error, so a consumer of pass 2 sees
 * what it would have seen decoding the input again.
 *
 * Pure memory: no I/O, no logging.
 */
#pragma once

#include <stddef.h>

#include "event.h"
#include "source.h"

struct vs_tape;

/* An empty tape that refuses entries past @max_bytes of memory. */
int vs_tape_new(size_t max_bytes, struct vs_tape **ret);
void vs_tape_free(struct vs_tape *t);

/* Append.  Returns 0, -E2BIG past the cap (the tape keeps what it had), or
 * -ENOMEM. */
int vs_tape_add_event(struct vs_tape *t, const struct vs_event *ev);
int vs_tape_add_thread(struct vs_tape *t, const struct vs_thread_info *ti);

/* Memory the entries hold, in bytes; entries (events + announcements). */
size_t vs_tape_bytes(const struct vs_tape *t);
size_t vs_tape_entries(const struct vs_tape *t);

/* A source that plays @t from its start: events from vs_source_next(),
 * announcements through its thread callback in between, kind, stats, error
 * and first_malformed_at copied from @from (the recorded source, at its end).
 * @t must outlive the source.  Progress counts entries. */
int vs_tape_source_new(const struct vs_tape *t, const struct vs_source *from, struct vs_source **ret);
