/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tep-decode.h - binary trace records -> struct vs_event.
 *
 * Owns the per-event-type field layout resolved once from a tep_handle (the
 * format files of the kernel or of a .dat), so decoding a record is a table
 * lookup by common_type plus fixed-offset loads: no libtraceevent generic
 * field lookups per event.  Shared by the live source and the .dat source so
 * both run exactly the same decoding code.
 *
 * Does not own the tep_handle or the records.  No I/O, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "source-internal.h"

struct tep_handle;

struct vs_tep_decoder;

/* Resolve the events we decode from @tep. Missing events are fine (they just
 * never match).  Returns 0 or -ENOMEM. */
int vs_tep_decoder_new(struct tep_handle *tep, struct vs_tep_decoder **ret);
void vs_tep_decoder_free(struct vs_tep_decoder *d);

/* Whether @system:@name is an event we decode (its format is worth parsing). */
bool vs_tep_decoder_wants(const char *system, const char *name);

/* Number of event types we know that exist in this tep, and their names. */
unsigned vs_tep_decoder_known(const struct vs_tep_decoder *d, const char **names, unsigned max);

/*
 * Decode one raw record (data/size as in struct tep_record: starts at
 * common_type).  On success returns 1 and fills *ev.  Returns 0 when the
 * record produced no vs_event; then it was counted in @s->stats as unknown,
 * filtered or malformed (with @offset named in s->error for the first
 * malformed one), or it taught topology something through s->thread_cb
 * (sched comms, ftrace:print topology markers).
 */
int vs_tep_decode(struct vs_tep_decoder *d, const void *data, int size, uint64_t ts_ns, int cpu,
                  uint64_t offset, struct vs_source *s, struct vs_event *ev);
