/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * graph-render.c - dot text -> SVG through dot(1) (graph-render.h).
 *
 * Why the dot command and not libgvc in process: Debian 12's Graphviz 2.42
 * fails AddressSanitizer on the first render of any labelled graph (a
 * heap-use-after-free in textspan_size -> libgvplugin_pango, which compares
 * a cached font name that Graphviz already freed; found with a probe of
 * gvLayout + gvRenderData).  A use-after-free cannot be suppressed like a
 * leak, and our sanitizer builds must stay clean; a child process keeps
 * Graphviz's memory out of ours, and a crash or hang of it becomes an error
 * value (the child is killed after VS_GRAPH_RENDER_TIMEOUT_MS).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1          /* pipe2(); config.h defines it in the real build */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "graph-render.h"
#include "macro.h"
#include "mono-clock.h"

extern char **environ;

struct buf {
        char *p;
        size_t n, cap;
};

static int buf_read(struct buf *b, int fd, size_t max) {
        if (b->cap - b->n < 65536) {
                size_t cap = b->cap ? b->cap * 2 : 65536 * 2;
                char *p;
                if (cap > max + 65536 * 2)
                        return -EFBIG;
                p = realloc(b->p, cap + 1);
                if (!p)
                        return -ENOMEM;
                b->p = p;
                b->cap = cap;
        }
        ssize_t k = read(fd, b->p + b->n, b->cap - b->n);
        if (k < 0)
                return errno == EINTR || errno == EAGAIN ? 1 : -errno;
        b->n += (size_t) k;
        if (b->n > max)
                return -EFBIG;
        b->p[b->n] = 0;
        return k > 0;           /* 0 = end of file */
}

/* Writing to a dot that died early must be an EPIPE, not a SIGPIPE that kills
 * the caller (vschedctl does not ignore it): block it for the call and
 * swallow one we caused. */
struct sigpipe_guard {
        sigset_t old;
        bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g) {
        sigset_t set, pending;

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigpending(&pending);
        g->was_pending = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g) {
        sigset_t set, pending;
        struct timespec zero = {};

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigpending(&pending);
        if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1)
                (void) sigtimedwait(&set, NULL, &zero);
        pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static bool format_ok(const char *format) {
        if (!format || !*format || strlen(format) > 32)
                return false;
        for (const char *p = format; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == ':'))
                        return false;
        return true;
}

int vs_graph_render(const char *dot, const char *format, char **ret, size_t *ret_len, char **ret_error) {
        const char *bin = getenv("VSCHEDD_DOT") ?: "dot";
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
        struct buf o = {}, e = {};
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        char targ[40];
        size_t len = strlen(dot), off = 0;
        uint64_t deadline = vs_mono_ns() / 1000000u + VS_GRAPH_RENDER_TIMEOUT_MS;
        pid_t pid = -1;
        struct sigpipe_guard guard;
        int r = 0, status;

        if (!format_ok(format))
                return -EINVAL;
        sigpipe_block(&guard);
        snprintf(targ, sizeof(targ), "-T%s", format);
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                goto out;
        }
        if (posix_spawn_file_actions_init(&fa) != 0) {
                r = -ENOMEM;
                goto out;
        }
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
        /* dot gets the caller's signal mask and a default SIGPIPE (vschedd ignores it) */
        if (posix_spawnattr_init(&attr) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                r = -ENOMEM;
                goto out;
        }
        {
                sigset_t def;
                sigemptyset(&def);
                sigaddset(&def, SIGPIPE);
                posix_spawnattr_setsigmask(&attr, &guard.old);
                posix_spawnattr_setsigdefault(&attr, &def);
                posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        }
        r = -posix_spawnp(&pid, bin, &fa, &attr, (char *const[]) { (char *) bin, targ, NULL }, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        if (r < 0) {
                pid = -1;
                goto out;
        }
        closep(&in[0]), in[0] = -1;
        closep(&out[1]), out[1] = -1;
        closep(&err[1]), err[1] = -1;
        (void) fcntl(in[1], F_SETFL, O_NONBLOCK);

        /* feed stdin while draining stdout and stderr: no pipe can fill up and stall dot */
        while (out[0] >= 0 || err[0] >= 0) {
                struct pollfd p[3] = {
                        { .fd = in[1], .events = POLLOUT },
                        { .fd = out[0], .events = POLLIN },
                        { .fd = err[0], .events = POLLIN },
                };
                uint64_t now = vs_mono_ns() / 1000000u;
                int k;

                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        goto out;
                }
                k = poll(p, 3, (int) (deadline - now));
                if (k < 0 && errno != EINTR) {
                        r = -errno;
                        goto out;
                }
                if (k <= 0)
                        continue;
                if (in[1] >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
                        ssize_t w = write(in[1], dot + off, len - off);
                        if (w > 0)
                                off += (size_t) w;
                        if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
                                closep(&in[1]);         /* EPIPE: dot quit early, its stderr says why */
                                in[1] = -1;
                        }
                }
                for (int i = 1; i <= 2; i++) {
                        int *fd = i == 1 ? &out[0] : &err[0];
                        if (*fd < 0 || !(p[i].revents & (POLLIN | POLLERR | POLLHUP)))
                                continue;
                        k = buf_read(i == 1 ? &o : &e, *fd, i == 1 ? VS_GRAPH_RENDER_MAX : 65536);
                        if (k < 0) {
                                r = k;
                                goto out;
                        }
                        if (k == 0) {
                                closep(fd);
                                *fd = -1;
                        }
                }
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        goto out;
                }
        pid = -1;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                r = -ENOENT;    /* posix_spawnp's child could not exec */
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || o.n == 0)
                r = -EBADMSG;
        if (r == 0) {
                *ret = o.p;
                *ret_len = o.n;
                o.p = NULL;
        }
out:
        if (pid > 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
        }
        for (int i = 0; i < 2; i++) {
                closep(&in[i]);
                closep(&out[i]);
                closep(&err[i]);
        }
        if (r < 0 && ret_error && e.n > 0)
                *ret_error = TAKE_PTR(e.p);
        free(o.p);
        free(e.p);
        sigpipe_restore(&guard);
        return r;
}
