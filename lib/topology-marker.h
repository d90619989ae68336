/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * topology-marker.h - vschedd's topology markers: one line per vCPU thread
 * ("vschedd-topology: tid=.. tgid=.. apic=.. vm=.. comm=..") that
 * `vschedd --record` writes through the instance's trace_marker, so a replay
 * of the recording names VMs and vCPUs as the live run did; every source
 * parses them back out of ftrace:print records.  Pure string work.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Parse a vschedd topology marker ("vschedd-topology: tid=.. tgid=.. apic=.. vm=.. comm=..")
 * written through trace_marker by `vschedd --record`.  Returns 1 and fills *ret
 * (strings point into the scratch buffers) when @msg is one, 0 if not. */
int vs_parse_topology_marker(const char *msg, struct vs_thread_info *ret,
                             char *vm_buf, size_t vm_len, char *comm_buf, size_t comm_len);
#define VS_TOPOLOGY_MARKER "vschedd-topology:"
/* The inverse: "vschedd-topology: tid=T tgid=G [apic=A] [vm=NAME] comm=COMM\n".
 * In vm, '%', spaces and control characters are %XX-escaped; comm (the last
 * key) keeps its spaces, control characters become '?'.  @apic < 0 and NULL
 * @vm are left out.  Returns the length, or -ENOBUFS. */
int vs_format_topology_marker(char *buf, size_t len, int32_t tid, int32_t tgid, int32_t apic, const char *vm,
                              const char *comm);
