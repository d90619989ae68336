/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rb-page.h - encoder for the kernel ring-buffer page ("sub-buffer") format.
 *
 * Owns struct vs_rb_writer: a growable run of page_size pages laid out exactly
 * as the kernel's ring buffer writes them (events/header_page and
 * events/header_event): an 8-byte page timestamp, an 8-byte commit (bytes of
 * event data on the page, 64-bit local_t), then events with a 32-bit header
 * (type_len:5 low bits, time_delta:27).  Data of 1..112 bytes uses
 * type_len = len/4; longer data uses type_len 0 with the length (+4) in the
 * next word; deltas that do not fit 27 bits get a time-extend (type 30).
 * The output is what per_cpu/cpuN/trace_pipe_raw hands out and what
 * libtraceevent's kbuffer and trace-cmd's flyrecord readers consume.
 *
 * Host byte order, 64-bit kernel long.  Pure memory: no I/O, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_RB_PAGE_HEADER_SIZE 16u     /* u64 timestamp + local_t commit (64-bit) */
#define VS_RB_MAX_SMALL_DATA 112u      /* RB_ALIGNMENT(4) * RB_MAX_SMALL_DATA_TYPE_LEN(28) */
#define VS_RB_TS_SHIFT 27

struct vs_rb_writer {
        size_t page_size;
        uint8_t *buf;           /* n_pages * page_size bytes */
        size_t n_pages;
        size_t alloc_pages;
        size_t used;            /* event bytes on the last page */
        uint64_t last_ts;       /* timestamp of the last event written */
        uint64_t n_records;
        bool finished;
};

/* Prepare an empty writer for pages of @page_size bytes (a power of two >= 64).
 * Returns 0 or -EINVAL. */
int vs_rb_writer_init(struct vs_rb_writer *w, size_t page_size);

/* Append one record (the raw event payload, starting at common_type) at
 * absolute time @ts_ns.  Timestamps must not go backwards (-ERANGE).
 * Starts a new page when the record does not fit (-E2BIG if it never fits).
 * Returns 0 or -errno. */
int vs_rb_writer_add(struct vs_rb_writer *w, uint64_t ts_ns, const void *data, size_t len);

/* Seal the last page.  ret_data and ret_size (optional) describe all pages,
 * size a multiple of page_size (0 when nothing was added); the memory stays
 * owned by @w.  Further adds fail with -ESTALE. */
int vs_rb_writer_finish(struct vs_rb_writer *w, const void **ret_data, size_t *ret_size);

/* Take ownership of the page buffer (after finish); @w is left empty. */
void *vs_rb_writer_steal(struct vs_rb_writer *w, size_t *ret_size);

/* Free the buffer; @w may be re-initialised afterwards. */
void vs_rb_writer_done(struct vs_rb_writer *w);
#define _cleanup_rb_writer_ __attribute__((cleanup(vs_rb_writer_done)))
