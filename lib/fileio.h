/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fileio.h - the few file reads and writes lib/ modules share: a small
 * kernel file (/proc, /sys, cgroup files) into a buffer, a whole file into
 * memory, and a write that finishes.  No state; errors as -errno.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Read at most @len - 1 bytes of @path into @buf, NUL-terminated (one
 * read(2): what a kernel file gives at once).  Returns the bytes read. */
int vs_read_small(const char *path, char *buf, size_t len);
/* The whole of @path in a NUL-terminated buffer the caller frees; its
 * length (without the NUL) in @ret_len (may be NULL). */
int vs_read_file(const char *path, char **ret, size_t *ret_len);
/* All @len bytes of @data to @fd (short writes and EINTR continued). */
int vs_write_all(int fd, const void *data, size_t len);
