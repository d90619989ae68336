/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dat-layout.h - the trace-cmd .dat layout check vschedd runs before handing
 * a file to libtracecmd.
 *
 * Walks the v6 file layout (trace-cmd.dat.v6(5)) and checks that every
 * section size and every CPU's data lies inside the file (libtracecmd 3.1.6
 * crashes in its error paths on a file cut short), that the data comes in
 * whole pages, and walks every page's events the way libtraceevent's kbuffer
 * will (which loops forever on some corrupt pages).  v7 (section-based)
 * files are left to libtracecmd.  Pure: bytes in memory, no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What the check learnt on its way (zero where it did not get that far). */
struct vs_dat_info {
        unsigned version;               /* 7: sections left to libtracecmd */
        unsigned long_size;             /* the file header's "long" */
        uint64_t header_page_off, header_page_len; /* the header_page text */
};

/* @buf: the whole file (@size bytes), starting with the .dat magic (the
 * caller checked it).  @page_long: 0 to check only the layout, or 4 or 8 to
 * walk every ring-buffer page too, reading its commit word with that size:
 * the size libtraceevent will use, which libtracecmd takes from the
 * header_page text (tep_parse_header_page()), not from the file header's
 * long size (a 32-bit trace-cmd on a 64-bit kernel writes 4 and 8).  @info
 * may be NULL.  Returns 0, or -EBADMSG with the reason and the offset in
 * @err ("X section at offset N is cut short or corrupt", an unsupported
 * version, CPU data past the end or not in whole pages, a corrupt
 * ring-buffer page), -EINVAL for a @page_long other than 0, 4, 8. */
int vs_dat_check_layout(const void *buf, uint64_t size, unsigned page_long, struct vs_dat_info *info, char *err,
                        size_t errlen);
