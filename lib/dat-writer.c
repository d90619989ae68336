/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dat-writer.h"
#include "fileio.h"
#include "macro.h"

/* trace-cmd.h: enum TRACECMD_OPTION_* (stable numbering) */
#define OPTION_DONE 0
#define OPTION_TRACECLOCK 4
#define OPTION_UNAME 5

struct obuf {
        uint8_t *p;
        size_t len, alloc;
};

static void obuf_freep(struct obuf *b) {
        free(b->p);
}

static int obuf_put(struct obuf *b, const void *data, size_t len) {
        if (b->len + len > b->alloc) {
                size_t n = b->alloc ? b->alloc : 4096;
                uint8_t *q;

                while (n < b->len + len)
                        n *= 2;
                q = realloc(b->p, n);
                if (!q)
                        return -ENOMEM;
                b->p = q;
                b->alloc = n;
        }
        if (len)
                memcpy(b->p + b->len, data, len);
        b->len += len;
        return 0;
}

static int obuf_u16(struct obuf *b, uint16_t v) {
        return obuf_put(b, &v, sizeof(v));
}

static int obuf_u32(struct obuf *b, uint32_t v) {
        return obuf_put(b, &v, sizeof(v));
}

static int obuf_u64(struct obuf *b, uint64_t v) {
        return obuf_put(b, &v, sizeof(v));
}

static int obuf_str0(struct obuf *b, const char *s) {
        return obuf_put(b, s, strlen(s) + 1);
}

/* "<size><text>" with an 8-byte (@wide) or 4-byte size */
static int put_sized_text(struct obuf *b, const char *text, bool wide) {
        size_t len = text ? strlen(text) : 0;
        int r;

        if (wide)
                r = obuf_u64(b, len);
        else if (len > UINT32_MAX)
                return -E2BIG;
        else
                r = obuf_u32(b, (uint32_t) len);
        if (r < 0)
                return r;
        return obuf_put(b, text, len);
}

static int put_file(struct obuf *b, const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = vs_read_file(path, &text, &len);
        if (r < 0)
                return r;
        r = obuf_u64(b, len);
        if (r < 0)
                return r;
        return obuf_put(b, text, len);
}

/* Split "system:event" (or "system/event") into its parts; the system is
 * copied into @sys. */
static int split_event(const char *name, char *sys, size_t sys_len, const char **ret_event) {
        const char *sep = strpbrk(name, ":/");
        size_t n;

        if (!sep || sep == name || !sep[1] || strpbrk(sep + 1, ":/"))
                return -EINVAL;
        n = (size_t) (sep - name);
        if (n >= sys_len)
                return -EINVAL;
        memcpy(sys, name, n);
        sys[n] = 0;
        *ret_event = sep + 1;
        return 0;
}

static int put_formats(struct obuf *b, const struct vs_dat_info *info) {
        const char *const *ev = info->events;
        size_t n_events = 0, n_systems = 0, n_ftrace = 0;
        _cleanup_free_ const char **systems = NULL;
        char sys[256];
        const char *event;
        int r;

        for (size_t i = 0; ev && ev[i]; i++)
                n_events++;
        systems = calloc(n_events + 1, sizeof(char *));
        if (!systems)
                return -ENOMEM;

        /* ftrace events, then the other systems in order of first appearance */
        for (size_t i = 0; i < n_events; i++) {
                bool seen = false;

                r = split_event(ev[i], sys, sizeof(sys), &event);
                if (r < 0)
                        return r;
                if (strcmp(sys, "ftrace") == 0) {
                        n_ftrace++;
                        continue;
                }
                for (size_t j = 0; j < n_systems && !seen; j++) {
                        char other[256];
                        const char *e2;

                        (void) split_event(systems[j], other, sizeof(other), &e2);
                        seen = strcmp(other, sys) == 0;
                }
                if (!seen)
                        systems[n_systems++] = ev[i];
        }

        r = obuf_u32(b, (uint32_t) n_ftrace);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_events; i++) {
                _cleanup_free_ char *rel = NULL;

                (void) split_event(ev[i], sys, sizeof(sys), &event);
                if (strcmp(sys, "ftrace") != 0)
                        continue;
                if (asprintf(&rel, "ftrace/%s/format", event) < 0)
                        return -ENOMEM;
                r = put_file(b, info->events_dir, rel);
                if (r < 0)
                        return r;
        }

        r = obuf_u32(b, (uint32_t) n_systems);
        if (r < 0)
                return r;
        for (size_t s = 0; s < n_systems; s++) {
                char want[256];
                uint32_t count = 0;

                (void) split_event(systems[s], want, sizeof(want), &event);
                for (size_t i = 0; i < n_events; i++) {
                        (void) split_event(ev[i], sys, sizeof(sys), &event);
                        count += strcmp(sys, want) == 0;
                }
                r = obuf_str0(b, want);
                if (r < 0)
                        return r;
                r = obuf_u32(b, count);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_events; i++) {
                        _cleanup_free_ char *rel = NULL;

                        (void) split_event(ev[i], sys, sizeof(sys), &event);
                        if (strcmp(sys, want) != 0)
                                continue;
                        if (asprintf(&rel, "%s/%s/format", sys, event) < 0)
                                return -ENOMEM;
                        r = put_file(b, info->events_dir, rel);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int put_options(struct obuf *b, const struct vs_dat_info *info) {
        const struct {
                uint16_t id;
                const char *text;
        } opts[] = {
                { OPTION_TRACECLOCK, info->trace_clock },
                { OPTION_UNAME, info->uname },
        };
        int r;

        r = obuf_put(b, "options  ", 10);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                size_t len;

                if (!opts[i].text)
                        continue;
                len = strlen(opts[i].text) + 1;
                r = obuf_u16(b, opts[i].id);
                if (r < 0)
                        return r;
                r = obuf_u32(b, (uint32_t) len);
                if (r < 0)
                        return r;
                r = obuf_put(b, opts[i].text, len);
                if (r < 0)
                        return r;
        }
        return obuf_u16(b, OPTION_DONE);
}

int vs_dat_write_fd(int fd, const struct vs_dat_info *info) {
        _cleanup_(obuf_freep) struct obuf b = {};
        static const char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
        uint8_t endian = 0, long_size = sizeof(long);
        uint64_t off;
        int r;

        if (!info || !info->events_dir || info->page_size < 64 || info->page_size > UINT32_MAX ||
            (info->page_size & (info->page_size - 1)) || (info->n_cpus > 0 && !info->cpus))
                return -EINVAL;
        for (unsigned c = 0; c < info->n_cpus; c++)
                if (info->cpus[c].size % info->page_size || (info->cpus[c].size && !info->cpus[c].data))
                        return -EINVAL;
        if (lseek(fd, 0, SEEK_CUR) > 0)
                return -EINVAL;

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        endian = 1;
#endif
        r = obuf_put(&b, magic, sizeof(magic));
        if (r >= 0)
                r = obuf_str0(&b, "6");
        if (r >= 0)
                r = obuf_put(&b, &endian, 1);
        if (r >= 0)
                r = obuf_put(&b, &long_size, 1);
        if (r >= 0)
                r = obuf_u32(&b, (uint32_t) info->page_size);

        /* header info */
        if (r >= 0)
                r = obuf_str0(&b, "header_page");
        if (r >= 0)
                r = put_file(&b, info->events_dir, "header_page");
        if (r >= 0)
                r = obuf_str0(&b, "header_event");
        if (r >= 0)
                r = put_file(&b, info->events_dir, "header_event");
        if (r >= 0)
                r = put_formats(&b, info);
        if (r >= 0)
                r = put_sized_text(&b, info->kallsyms, false);
        if (r >= 0)
                r = put_sized_text(&b, info->printk_formats, false);
        if (r >= 0)
                r = put_sized_text(&b, info->cmdlines, true);
        if (r >= 0)
                r = obuf_u32(&b, info->n_cpus);
        if (r >= 0)
                r = put_options(&b, info);
        if (r >= 0)
                r = obuf_put(&b, "flyrecord", 10);
        if (r < 0)
                return r;

        /* per-CPU offset/size table, then page-aligned data */
        off = b.len + (uint64_t) info->n_cpus * 16;
        off = (off + info->page_size - 1) & ~((uint64_t) info->page_size - 1);
        for (unsigned c = 0; c < info->n_cpus; c++) {
                r = obuf_u64(&b, off);
                if (r >= 0)
                        r = obuf_u64(&b, info->cpus[c].size);
                if (r < 0)
                        return r;
                off += info->cpus[c].size;
        }
        while (b.len % info->page_size) {
                r = obuf_put(&b, "", 1);
                if (r < 0)
                        return r;
        }

        r = vs_write_all(fd, b.p, b.len);
        if (r < 0)
                return r;
        for (unsigned c = 0; c < info->n_cpus; c++) {
                r = vs_write_all(fd, info->cpus[c].data, info->cpus[c].size);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vs_dat_write(const char *path, const struct vs_dat_info *info) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (!path)
                return -EINVAL;
        if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        (void) fchmod(fd, 0644);

        r = vs_dat_write_fd(fd, info);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
