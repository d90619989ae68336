/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpulist.c - CPU lists in the kernel's syntax (see cpulist.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpulist.h"
#include "fileio.h"

unsigned vs_cpumask_count(const struct vs_cpumask *m) {
        unsigned n = 0;

        for (size_t i = 0; i < VS_CPU_MAX / 64; i++)
                n += (unsigned) __builtin_popcountll(m->bits[i]);
        return n;
}

void vs_cpumask_or(struct vs_cpumask *a, const struct vs_cpumask *b) {
        for (size_t i = 0; i < VS_CPU_MAX / 64; i++)
                a->bits[i] |= b->bits[i];
}

static bool blank(char c) {
        return c == ' ' || c == '\t' || c == '\n';
}

/* A CPU number at *s: digits only; advances *s. */
static int number(const char **s, unsigned *ret, const char **why) {
        unsigned long x;
        char *end;

        if (!isdigit((unsigned char) **s)) {
                *why = "expected a CPU number";
                return -EINVAL;
        }
        errno = 0;
        x = strtoul(*s, &end, 10);
        if (errno == ERANGE || x >= VS_CPU_MAX) {
                *why = "CPU number too large";
                return -ERANGE;
        }
        *s = end;
        *ret = (unsigned) x;
        return 0;
}

int vs_cpulist_parse(const char *s, struct vs_cpumask *ret, const char **ret_why) {
        struct vs_cpumask m = {};
        const char *why = NULL, **w = ret_why ? ret_why : &why;
        const char *p = s;
        int r;

        if (!s)
                return -EINVAL;
        while (blank(*p))
                p++;
        if (*p == '\0') {
                if (ret)
                        *ret = m;
                return 0;
        }
        for (;;) {
                unsigned a, b;

                while (blank(*p))
                        p++;
                r = number(&p, &a, w);
                if (r < 0)
                        return r;
                b = a;
                while (blank(*p))
                        p++;
                if (*p == '-') {
                        p++;
                        while (blank(*p))
                                p++;
                        r = number(&p, &b, w);
                        if (r < 0)
                                return r;
                        if (b < a) {
                                *w = "range ends before it starts";
                                return -EINVAL;
                        }
                        while (blank(*p))
                                p++;
                }
                for (unsigned c = a; c <= b; c++)
                        vs_cpumask_set(&m, c);
                if (*p == '\0')
                        break;
                if (*p != ',') {
                        *w = "expected ',' or '-' after a CPU number";
                        return -EINVAL;
                }
                p++;
        }
        if (ret)
                *ret = m;
        return 0;
}

int vs_cpulist_format(const struct vs_cpumask *m, char *buf, size_t len) {
        size_t o = 0;

        if (len == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (unsigned c = 0; c < VS_CPU_MAX;) {
                unsigned e;
                int n;

                if (!vs_cpumask_test(m, c)) {
                        c++;
                        continue;
                }
                for (e = c; e + 1 < VS_CPU_MAX && vs_cpumask_test(m, e + 1); e++)
                        ;
                if (e > c)
                        n = snprintf(buf + o, len - o, "%s%u-%u", o ? "," : "", c, e);
                else
                        n = snprintf(buf + o, len - o, "%s%u", o ? "," : "", c);
                if (n < 0 || (size_t) n >= len - o) {
                        buf[0] = '\0';
                        return -ENOBUFS;
                }
                o += (size_t) n;
                c = e + 1;
        }
        return 0;
}

int vs_cpulist_read_sysfs(const char *sysfs_root, const char *name, struct vs_cpumask *ret) {
        char path[PATH_MAX], buf[16384];
        int r;

        if (!sysfs_root || !name || strchr(name, '/'))
                return -EINVAL;
        if (snprintf(path, sizeof(path), "%s/devices/system/cpu/%s", sysfs_root, name) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        r = vs_read_small(path, buf, sizeof(buf));
        if (r == -ENOENT) {
                *ret = (struct vs_cpumask) {};
                return 0;
        }
        if (r < 0)
                return r;
        return vs_cpulist_parse(buf, ret, NULL);
}
