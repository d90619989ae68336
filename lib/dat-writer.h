/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dat-writer.h - writes trace-cmd .dat files, version 6 (trace-cmd.dat.v6(5)).
 *
 * Owns the on-disk layout only: magic, header_page/header_event, ftrace and
 * per-system event formats, kallsyms, printk formats, cmdlines, options and
 * the flyrecord section with page-aligned per-CPU ring-buffer pages.  The
 * caller provides the pages (from the kernel via tools/recorder.h, or encoded with
 * tools/rb-page.h) and a directory laid out like tracefs events/ (header_page,
 * header_event, <system>/<event>/format) from which the format texts are
 * copied verbatim, e.g. /sys/kernel/tracing/events or tests/data/formats.
 *
 * We write the format ourselves because libtracecmd 3.1.6 exports its output
 * API (tracecmd_output_create() & co.) only through a private header whose
 * signatures changed between releases; the v6 layout itself is stable and
 * every trace-cmd/libtracecmd since 2.x reads it.
 *
 * Host byte order and long size.  No logging: errors are returned.
 */
#pragma once

#include <stddef.h>

struct vs_dat_cpu {
        const void *data;       /* whole ring-buffer pages, NULL when size is 0 */
        size_t size;            /* a multiple of page_size */
};

struct vs_dat_info {
        const char *events_dir;         /* format source, laid out like tracefs events/ */
        const char *const *events;      /* NULL-terminated "system:event"; "ftrace:*" go to
                                         * the ftrace section (e.g. "ftrace:print") */
        size_t page_size;
        unsigned n_cpus;
        const struct vs_dat_cpu *cpus;  /* n_cpus entries */
        const char *cmdlines;           /* saved_cmdlines text ("pid comm\n"...), NULL = empty */
        const char *kallsyms;           /* /proc/kallsyms lines, NULL = empty */
        const char *printk_formats;     /* printk_formats text, NULL = empty */
        const char *trace_clock;        /* trace_clock contents ("[local] global ..."), NULL = omit */
        const char *uname;              /* "sysname release version machine", NULL = omit */
};

/* Write the whole file to @fd at its current position (which must be 0 for the
 * flyrecord offsets to be right; -EINVAL otherwise).  Returns 0 or -errno;
 * -ENOENT when a format file is missing, -EINVAL for sizes that are not whole pages. */
int vs_dat_write_fd(int fd, const struct vs_dat_info *info);

/* Write to @path atomically (a temporary file renamed into place). */
int vs_dat_write(const char *path, const struct vs_dat_info *info);
