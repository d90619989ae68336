/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidwatch.c - process exits through pidfds on sd-event.  See pidwatch.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "pidwatch.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434      /* the same number on every architecture */
#endif

struct watch {
        struct vs_pidwatch *w;
        pid_t pid;
        int fd;
        sd_event_source *source;
};

struct vs_pidwatch {
        sd_event *event;
        vs_pidwatch_cb cb;
        void *userdata;
        struct watch **watches;         /* entries are allocated: sources point at them */
        size_t n, cap;
};

int vs_pidwatch_new(sd_event *e, vs_pidwatch_cb cb, void *userdata, struct vs_pidwatch **ret) {
        struct vs_pidwatch *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        w->event = e;
        w->cb = cb;
        w->userdata = userdata;
        *ret = w;
        return 0;
}

static void watch_free(struct watch *x) {
        sd_event_source_disable_unref(x->source);
        if (x->fd >= 0)
                close(x->fd);
        free(x);
}

static ssize_t find(const struct vs_pidwatch *w, pid_t pid) {
        for (size_t i = 0; i < w->n; i++)
                if (w->watches[i]->pid == pid)
                        return (ssize_t) i;
        return -1;
}

/* Unlink entry @i (order is not kept) and free it. */
static void drop(struct vs_pidwatch *w, size_t i) {
        struct watch *x = w->watches[i];

        w->watches[i] = w->watches[--w->n];
        watch_free(x);
        if (w->n == 0) {
                free(w->watches);
                w->watches = NULL;
                w->cap = 0;
        }
}

static int on_exit_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct watch *x = userdata;
        struct vs_pidwatch *w = x->w;
        pid_t pid = x->pid;
        ssize_t i = find(w, pid);

        /* one-shot: gone before the callback, which may add the PID again */
        if (i >= 0)
                drop(w, (size_t) i);
        if (w->cb)
                w->cb(w, pid, w->userdata);
        return 0;
}

int vs_pidwatch_add(struct vs_pidwatch *w, pid_t pid) {
        _cleanup_close_ int fd = -1;
        struct watch *x;
        int r;

        if (pid <= 0)
                return -EINVAL;
        if (find(w, pid) >= 0)
                return 0;
        fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return negative_errno();
        if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 16;
                struct watch **n = realloc(w->watches, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                w->watches = n;
                w->cap = cap;
        }
        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->w = w;
        x->pid = pid;
        x->fd = -1;
        r = sd_event_add_io(w->event, &x->source, fd, EPOLLIN, on_exit_io, x);
        if (r < 0) {
                free(x);
                return r;
        }
        (void) sd_event_source_set_description(x->source, "pidwatch");
        x->fd = TAKE_FD(fd);
        w->watches[w->n++] = x;
        return 1;
}

int vs_pidwatch_remove(struct vs_pidwatch *w, pid_t pid) {
        ssize_t i = find(w, pid);

        if (i < 0)
                return 0;
        drop(w, (size_t) i);
        return 1;
}

bool vs_pidwatch_has(const struct vs_pidwatch *w, pid_t pid) {
        return find(w, pid) >= 0;
}

size_t vs_pidwatch_count(const struct vs_pidwatch *w) {
        return w ? w->n : 0;
}

struct vs_pidwatch *vs_pidwatch_free(struct vs_pidwatch *w) {
        if (!w)
                return NULL;
        for (size_t i = 0; i < w->n; i++)
                watch_free(w->watches[i]);
        free(w->watches);
        free(w);
        return NULL;
}
