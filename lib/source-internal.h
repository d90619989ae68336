/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source-internal.h - the base every source backend shares (source-live.c,
 * source-dat.c, source-text.c, and tep-decode.c decoding into them): the
 * struct vs_source layout, the ops table, the thread callback and the open
 * error.  Not for users of sources: they have source.h.
 */
#pragma once

#include "source.h"

enum vs_source_kind {
        VS_SOURCE_LIVE,
        VS_SOURCE_DAT,
        VS_SOURCE_TEXT,
};

struct vs_source_ops {
        /* Fetch the next event. Returns 1 with *ret filled, 0 at end of input
         * (replay) or when nothing is buffered right now (live), -errno on error. */
        int (*next)(struct vs_source *s, struct vs_event *ret);
        /* Live only: a pollable fd, or -1. */
        int (*fd)(struct vs_source *s);
        void (*free)(struct vs_source *s);
        /* Replay only: bytes consumed so far, total in *total. */
        uint64_t (*progress)(struct vs_source *s, uint64_t *total);
};

struct vs_source {
        const struct vs_source_ops *ops;
        enum vs_source_kind kind;
        struct vs_source_stats stats;
        vs_thread_cb thread_cb;
        void *thread_userdata;
        char error[256];        /* last error, "file:line: reason" style */
        uint64_t first_malformed_at; /* line (text) or offset (dat) of the first malformed record */
};

void vs_source_set_open_error(const char *path, const char *reason);

/* Record a thread learned from the trace. */
static inline void vs_source_emit_thread(struct vs_source *s, const struct vs_thread_info *info) {
        if (s->thread_cb)
                s->thread_cb(info, s->thread_userdata);
}
