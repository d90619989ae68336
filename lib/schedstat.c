/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * schedstat.c - a thread's schedstat line (see schedstat.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "schedstat.h"

/* One decimal number at *@pos (no sign, no spaces). */
static int parse_u64(const char *text, size_t len, size_t *pos, uint64_t *ret) {
        uint64_t v = 0;
        size_t i = *pos;

        if (i >= len || text[i] < '0' || text[i] > '9')
                return -EBADMSG;
        for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
                unsigned d = (unsigned) (text[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *pos = i;
        *ret = v;
        return 0;
}

int vs_schedstat_parse(const char *text, size_t len, struct vs_schedstat *ret) {
        uint64_t v[3];
        size_t pos = 0;
        int r;

        if (!text)
                return -EBADMSG;
        for (unsigned k = 0; k < 3; k++) {
                if (k > 0) {
                        if (pos >= len || text[pos] != ' ')
                                return -EBADMSG;
                        while (pos < len && text[pos] == ' ')
                                pos++;
                }
                r = parse_u64(text, len, &pos, &v[k]);
                if (r < 0)
                        return r;
        }
        /* what a later kernel may append: more numbers; then the newline */
        while (pos < len && text[pos] == ' ') {
                uint64_t ignored;
                while (pos < len && text[pos] == ' ')
                        pos++;
                if (pos < len && text[pos] == '\n')
                        break;
                r = parse_u64(text, len, &pos, &ignored);
                if (r < 0)
                        return r;
        }
        if (pos < len && text[pos] == '\n')
                pos++;
        if (pos != len)
                return -EBADMSG;
        *ret = (struct vs_schedstat) { .cpu_ns = v[0], .run_delay_ns = v[1], .timeslices = v[2] };
        return 0;
}

int vs_schedstat_read(const char *proc_root, int32_t tgid, int32_t tid, struct vs_schedstat *ret) {
        char path[4096], buf[256];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        int k;

        if (tid <= 0)
                return -EINVAL;
        if (tgid <= 0)
                tgid = tid;
        k = snprintf(path, sizeof(path), "%s/%d/task/%d/schedstat", proc_root ? proc_root : "/proc", (int) tgid,
                     (int) tid);
        if (k < 0 || (size_t) k >= sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = negative_errno();
                struct stat st;

                if (r != -ENOENT)
                        return r == -ESRCH ? -ESRCH : r;
                /* no file: the thread is gone, or the kernel has none */
                path[k - (int) sizeof("/schedstat") + 1] = 0;
                return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? -EOPNOTSUPP : -ESRCH;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0)
                return negative_errno();
        if ((size_t) n >= sizeof(buf))
                return -EBADMSG;        /* longer than any schedstat line */
        return vs_schedstat_parse(buf, (size_t) n, ret);
}
