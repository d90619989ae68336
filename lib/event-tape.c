/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * event-tape.c - record a source's output once, play it back as a source
 * (see event-tape.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event-tape.h"
#include "macro.h"
#include "source-internal.h"

#define BLOCK_SHIFT 16
#define BLOCK_LEN (1u << BLOCK_SHIFT)
/* An entry whose type is this is an announcement: tid indexes threads[]. */
#define TAPE_THREAD 0xffu
#define NO_STRING UINT32_MAX

struct tape_thread {
        int32_t tid, tgid, apic_id;
        uint32_t comm, vm;      /* offsets into strings, or NO_STRING */
};

struct vs_tape {
        struct vs_event **blocks;
        size_t n_blocks, alloc_blocks;
        size_t n;               /* entries */
        struct tape_thread *threads;
        size_t n_threads, alloc_threads;
        char *strings;
        size_t strings_len, strings_alloc;
        size_t max_bytes;
};

int vs_tape_new(size_t max_bytes, struct vs_tape **ret) {
        struct vs_tape *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->max_bytes = max_bytes;
        *ret = t;
        return 0;
}

void vs_tape_free(struct vs_tape *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n_blocks; i++)
                free(t->blocks[i]);
        free(t->blocks);
        free(t->threads);
        free(t->strings);
        free(t);
}

size_t vs_tape_bytes(const struct vs_tape *t) {
        return t->n_blocks * BLOCK_LEN * sizeof(struct vs_event) + t->alloc_threads * sizeof(struct tape_thread) +
               t->strings_alloc;
}

size_t vs_tape_entries(const struct vs_tape *t) {
        return t->n;
}

static struct vs_event *slot(struct vs_tape *t) {
        size_t b = t->n >> BLOCK_SHIFT;

        if (b == t->n_blocks) {
                if (vs_tape_bytes(t) + BLOCK_LEN * sizeof(struct vs_event) > t->max_bytes) {
                        errno = E2BIG;
                        return NULL;
                }
                if (t->n_blocks == t->alloc_blocks) {
                        size_t na = t->alloc_blocks ? t->alloc_blocks * 2 : 16;
                        struct vs_event **nb = realloc(t->blocks, na * sizeof(*nb));
                        if (!nb)
                                return NULL;
                        t->blocks = nb;
                        t->alloc_blocks = na;
                }
                t->blocks[b] = malloc(BLOCK_LEN * sizeof(struct vs_event));
                if (!t->blocks[b])
                        return NULL;
                t->n_blocks++;
        }
        return &t->blocks[b][t->n & (BLOCK_LEN - 1)];
}

int vs_tape_add_event(struct vs_tape *t, const struct vs_event *ev) {
        struct vs_event *e = slot(t);

        if (!e)
                return errno == E2BIG ? -E2BIG : -ENOMEM;
        *e = *ev;
        t->n++;
        return 0;
}

/* Copy @s (NULL: none) into the string arena; the offset in *ret. */
static int add_string(struct vs_tape *t, const char *s, uint32_t *ret) {
        size_t len;

        if (!s) {
                *ret = NO_STRING;
                return 0;
        }
        len = strlen(s) + 1;
        if (t->strings_len + len > t->strings_alloc) {
                size_t na = t->strings_alloc ? t->strings_alloc * 2 : 4096;
                while (na < t->strings_len + len)
                        na *= 2;
                if (na >= NO_STRING || vs_tape_bytes(t) - t->strings_alloc + na > t->max_bytes)
                        return -E2BIG;
                char *ns = realloc(t->strings, na);
                if (!ns)
                        return -ENOMEM;
                t->strings = ns;
                t->strings_alloc = na;
        }
        memcpy(t->strings + t->strings_len, s, len);
        *ret = (uint32_t) t->strings_len;
        t->strings_len += len;
        return 0;
}

int vs_tape_add_thread(struct vs_tape *t, const struct vs_thread_info *ti) {
        struct tape_thread *th;
        struct vs_event *e;
        int r;

        if (t->n_threads == t->alloc_threads) {
                size_t na = t->alloc_threads ? t->alloc_threads * 2 : 256;
                if (na > INT32_MAX || vs_tape_bytes(t) + (na - t->alloc_threads) * sizeof(*th) > t->max_bytes)
                        return -E2BIG;
                th = realloc(t->threads, na * sizeof(*th));
                if (!th)
                        return -ENOMEM;
                t->threads = th;
                t->alloc_threads = na;
        }
        th = &t->threads[t->n_threads];
        *th = (struct tape_thread) { .tid = ti->tid, .tgid = ti->tgid, .apic_id = ti->apic_id };
        r = add_string(t, ti->comm, &th->comm);
        if (r >= 0)
                r = add_string(t, ti->vm_name, &th->vm);
        if (r < 0)
                return r;
        e = slot(t);
        if (!e)
                return errno == E2BIG ? -E2BIG : -ENOMEM;
        *e = (struct vs_event) { .type = TAPE_THREAD, .tid = (int32_t) t->n_threads };
        t->n_threads++;
        t->n++;
        return 0;
}

struct tape_source {
        struct vs_source s;     /* must be first */
        const struct vs_tape *t;
        size_t pos;
};

static int tape_next(struct vs_source *src, struct vs_event *ev) {
        struct tape_source *p = (struct tape_source *) src;
        const struct vs_tape *t = p->t;

        while (p->pos < t->n) {
                const struct vs_event *e = &t->blocks[p->pos >> BLOCK_SHIFT][p->pos & (BLOCK_LEN - 1)];
                p->pos++;
                if (e->type != TAPE_THREAD) {
                        *ev = *e;
                        return 1;
                }
                const struct tape_thread *th = &t->threads[e->tid];
                struct vs_thread_info ti = {
                        .tid = th->tid,
                        .tgid = th->tgid,
                        .apic_id = th->apic_id,
                        .comm = th->comm == NO_STRING ? NULL : t->strings + th->comm,
                        .vm_name = th->vm == NO_STRING ? NULL : t->strings + th->vm,
                };
                vs_source_emit_thread(&p->s, &ti);
        }
        return 0;
}

static uint64_t tape_progress(struct vs_source *src, uint64_t *total) {
        struct tape_source *p = (struct tape_source *) src;

        *total = p->t->n;
        return p->pos;
}

static void tape_free(struct vs_source *src) {
        free(src);
}

static const struct vs_source_ops tape_ops = {
        .next = tape_next,
        .free = tape_free,
        .progress = tape_progress,
};

int vs_tape_source_new(const struct vs_tape *t, const struct vs_source *from, struct vs_source **ret) {
        struct tape_source *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->s.ops = &tape_ops;
        p->s.kind = from->kind;
        p->s.stats = from->stats;
        memcpy(p->s.error, from->error, sizeof(p->s.error));
        p->s.first_malformed_at = from->first_malformed_at;
        p->t = t;
        *ret = &p->s;
        return 0;
}
