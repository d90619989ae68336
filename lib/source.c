/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source.c - what every source shares (see source.h): opening a file by its
 * format, the open error of this thread, and the calls through the ops table.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "source-internal.h"

/* trace-cmd .dat magic: 0x17 0x08 0x44 "tracing" (all versions). */
static const char dat_magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };

static _Thread_local char open_error[512];

const char *vs_source_open_error(void) {
        return open_error[0] ? open_error : NULL;
}

void vs_source_set_open_error(const char *path, const char *reason) {
        snprintf(open_error, sizeof(open_error), "%s: %s", path ? path : "(null)", reason ? reason : "");
}

int vs_source_open_file(const char *path, struct vs_source **ret) {
        _cleanup_close_ int fd = -1;
        char head[sizeof(dat_magic)];
        ssize_t n;

        open_error[0] = 0;
        if (!path || !ret)
                return -EINVAL;
        if (strcmp(path, "-") == 0)
                return vs_source_text_open_stream(stdin, "<stdin>", ret);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = read(fd, head, sizeof(head));
        if (n < 0)
                return negative_errno();
        if ((size_t) n == sizeof(head) && memcmp(head, dat_magic, sizeof(head)) == 0)
                return vs_source_dat_open(path, ret);
        return vs_source_text_open(path, ret);
}

void vs_source_free(struct vs_source *s) {
        if (!s)
                return;
        s->ops->free(s);
}

uint64_t vs_source_progress(struct vs_source *s, uint64_t *total) {
        *total = 0;
        if (!s->ops->progress)
                return 0;
        return s->ops->progress(s, total);
}

int vs_source_next(struct vs_source *s, struct vs_event *ret) {
        return s->ops->next(s, ret);
}

int vs_source_fd(struct vs_source *s) {
        return s->ops->fd ? s->ops->fd(s) : -1;
}

const struct vs_source_stats *vs_source_get_stats(const struct vs_source *s) {
        return &s->stats;
}

const char *vs_source_error(const struct vs_source *s) {
        return s->error[0] ? s->error : NULL;
}

void vs_source_set_thread_cb(struct vs_source *s, vs_thread_cb cb, void *userdata) {
        s->thread_cb = cb;
        s->thread_userdata = userdata;
}
