/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * macro.h - small helpers shared by every module: cleanup attributes,
 * array sizes, TAKE_PTR, mfree, the boolean spellings.  Owns nothing; no
 * state, no I/O.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                     \
        ({                                              \
                __typeof__(p) _ptr_ = (p);              \
                (p) = NULL;                             \
                _ptr_;                                  \
        })

#define TAKE_FD(fd)                                     \
        ({                                              \
                int _fd_ = (fd);                        \
                (fd) = -1;                              \
                _fd_;                                   \
        })

/* free() for "p = mfree(p);" */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* A boolean as configuration files and the control protocol spell it:
 * 1/yes/true/on or 0/no/false/off (any case).  1, 0, or -EINVAL. */
static inline int vs_parse_bool(const char *s) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

/* errno as a negative return value, never 0 (a failed call that forgot errno). */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

#include <dirent.h>
static inline void closedirp_(DIR **d) {
        if (*d)
                (void) closedir(*d);
}
