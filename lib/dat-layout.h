/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dat-layout.h - the trace-cmd .dat layout check vschedd runs before handing
 * a file to libtracecmd.
 *
 * Walks the v6 file layout (trace-cmd.dat.v6(5)) and checks that every
 * section size and every CPU's data lies inside the file: libtracecmd 3.1.6
 * crashes in its error paths on a file cut short.  v7 (section-based) files
 * are left to libtracecmd.  Pure: bytes in memory, no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* @buf: the whole file (@size bytes), starting with the .dat magic (the
 * caller checked it).  Returns 0, or -EBADMSG with the reason and the offset
 * in @err ("X section at offset N is cut short or corrupt", an unsupported
 * version, CPU data past the end). */
int vs_dat_check_layout(const void *buf, uint64_t size, char *err, size_t errlen);
