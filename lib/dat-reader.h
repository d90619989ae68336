/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dat-reader.h - the page-level trace-cmd .dat reader: a file's ring-buffer
 * pages per CPU, and a tep_handle with only the event formats asked for.
 *
 * Owns the parse of the file's metadata (trace-cmd.dat.v6(5) and
 * trace-cmd.dat.v7(5): header, options, the header_page / header_event
 * texts, the ftrace and event format files, saved cmdlines, the flyrecord
 * data of the top instance, v7 sections and data chunks compressed with zstd
 * or zlib, both loaded with dlopen() when a file needs them), the tep_handle
 * it builds from them, and the decompressed chunk of each CPU being read.
 * libtracecmd parses every format of a file and hands out records one
 * allocation each; this parses only the formats @want accepts, and hands
 * out whole pages for libtraceevent's kbuffer.
 *
 * What only libtracecmd does is -EOPNOTSUPP, for the caller to use it
 * instead: timestamp corrections (OFFSET, TSC2NSEC, TIME_SHIFT options),
 * more than one trace instance, latency (text) data, another compression,
 * the old ring-buffer header format.  Bounds are checked on every read, but
 * the format texts go to libtraceevent's parser and the pages to kbuffer, so
 * run it where a crash or a hang on a hostile file is survivable (the child
 * of source-dat.c).  No I/O beyond the caller's mapping, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct tep_handle;
struct vs_dat_reader;

typedef bool (*vs_dat_want_fn)(const char *system, const char *name);

/* @buf: the whole file (@size bytes, starting with the .dat magic), which
 * must outlive the reader.  Returns 0, -EOPNOTSUPP (see above), -EBADMSG
 * (corrupt), -ENOMEM. */
int vs_dat_reader_open(const void *buf, uint64_t size, vs_dat_want_fn want, struct vs_dat_reader **ret);
void vs_dat_reader_free(struct vs_dat_reader *r);

/* The metadata texts as the file holds them, for a tool that rewrites a file
 * (tools/vs-datfilter): each callback gets a text valid during the call only
 * and returns 0 or -errno (which the open returns).  header: "header_page" or
 * "header_event"; format: every event format file of @system ("ftrace" for the
 * ftrace section), also those @want does not take; cmdlines: the saved
 * cmdlines ("pid comm\n" lines).  Any callback may be NULL. */
struct vs_dat_meta_ops {
        int (*header)(void *userdata, const char *name, const void *text, uint64_t len);
        int (*format)(void *userdata, const char *system, const void *text, uint64_t len);
        int (*cmdlines)(void *userdata, const void *text, uint64_t len);
};

/* vs_dat_reader_open() that also hands the metadata texts to @meta (NULL: none). */
int vs_dat_reader_open_meta(const void *buf, uint64_t size, vs_dat_want_fn want, const struct vs_dat_meta_ops *meta,
                            void *userdata, struct vs_dat_reader **ret);

struct tep_handle *vs_dat_reader_tep(struct vs_dat_reader *r);
/* CPUs with data; the CPU number of the i-th. */
unsigned vs_dat_reader_n_cpus(const struct vs_dat_reader *r);
int vs_dat_reader_cpu_id(const struct vs_dat_reader *r, unsigned i);
unsigned vs_dat_reader_page_size(const struct vs_dat_reader *r);
/* kbuffer_alloc()'s arguments for these pages. */
int vs_dat_reader_kbuffer_long(const struct vs_dat_reader *r);
int vs_dat_reader_kbuffer_endian(const struct vs_dat_reader *r);

/* The next page of the i-th CPU: 1 with *ret_page (page_size bytes) and
 * *ret_offset (its file offset; in compressed data, that of its chunk), 0
 * after the last, -EBADMSG (a chunk that does not
 * decompress, data cut short), -ENOMEM.  The page stays valid until the next
 * call for that CPU. */
int vs_dat_reader_next_page(struct vs_dat_reader *r, unsigned i, const void **ret_page, uint64_t *ret_offset);
