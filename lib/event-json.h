/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * event-json.h - one normalised event as a JSON object (json-c).
 *
 * Owns the JSON field names of the event dump (`vschedd --dump-events
 * --json`), a documented interface: ts_ns, cpu, tid, type, vm, vcpu, then the
 * type's fields (see man/vschedd.8).  Resolves TIDs and APIC IDs through
 * topology.h.  JSON through json-c so escaping of VM names is never ours.
 */
#pragma once

#include <json-c/json.h>

#include "event.h"
#include "topology.h"

/* A new json_object (caller puts it), or NULL on ENOMEM. @topo may be NULL. */
struct json_object *vs_event_to_json(const struct vs_event *ev, struct vs_topology *topo);

/* The same event as one human-readable line (no newline) into buf. */
int vs_event_format(const struct vs_event *ev, struct vs_topology *topo, char *buf, size_t len);

/* Add a VM's grouping to @o: "inferred" (bool) and, when inferred,
 * "maybe_same_vm" (the other inferred VMs the trace cannot tell it apart
 * from: array of names, with "maybe_same_vm_count" when there are more than
 * listed).  @maybe_same is the
 * comma-separated list of vs_vm.maybe_same, @n their count. */
void vs_json_add_grouping(struct json_object *o, bool inferred, unsigned n, const char *maybe_same);

/* "R", "R+", "S", "D|W"... for a sched_switch prev_state. */
const char *vs_prev_state_str(int64_t prev_state, char *buf, size_t len);
