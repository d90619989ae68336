/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup.c - host cgroup layout, knob spelling and single-file I/O.
 *
 * Why plain file I/O on cgroupfs and not libcgroup: libcgroup's API is built
 * around its own model (cgconfig/cgrules daemons, struct cgroup objects that
 * are created, populated and committed as a whole, v1-controller-centric
 * names), while all we do is read and write one documented file per knob in
 * cgroups that libvirt created.  One open/write/close per value is what the
 * kernel documents (Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/),
 * gives us the kernel's own errno (EBUSY, EINVAL, ENODEV for a removed
 * cgroup) untranslated, and works unchanged on the fake trees in temp dirs
 * that the unit tests use.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "fileio.h"
#include "macro.h"

/* v1 controller that carries each knob */
static const char *const v1_controller[_VS_KNOB_MAX] = {
        [VS_KNOB_WEIGHT] = "cpu",
        [VS_KNOB_IDLE] = "cpu",
        [VS_KNOB_CPUSET] = "cpuset",
        [VS_KNOB_FREEZE] = "freezer",
};

static const char *const knob_file_v1[_VS_KNOB_MAX] = {
        [VS_KNOB_WEIGHT] = "cpu.shares",
        [VS_KNOB_IDLE] = "cpu.idle",
        [VS_KNOB_CPUSET] = "cpuset.cpus",
        [VS_KNOB_FREEZE] = "freezer.state",
};

static const char *const knob_file_v2[_VS_KNOB_MAX] = {
        [VS_KNOB_WEIGHT] = "cpu.weight",
        [VS_KNOB_IDLE] = "cpu.idle",
        [VS_KNOB_CPUSET] = "cpuset.cpus",
        [VS_KNOB_FREEZE] = "cgroup.freeze",
};

static const char *const knob_name[_VS_KNOB_MAX] = {
        [VS_KNOB_WEIGHT] = "weight",
        [VS_KNOB_IDLE] = "idle",
        [VS_KNOB_CPUSET] = "cpuset",
        [VS_KNOB_FREEZE] = "freeze",
};

static void closedirp(DIR **d) {
        closedirp_(d);
}

const char *vs_knob_name(enum vs_knob k) {
        if ((unsigned) k >= _VS_KNOB_MAX)
                return NULL;
        return knob_name[k];
}

static bool knob_ok(const struct vs_cg_host *h, enum vs_knob k) {
        return h && (unsigned) k < _VS_KNOB_MAX && h->mount[k][0];
}

const char *vs_knob_v2_file(enum vs_knob k) {
        return (unsigned) k < _VS_KNOB_MAX ? knob_file_v2[k] : "?";
}

const char *vs_cg_knob_file(const struct vs_cg_host *h, enum vs_knob k) {
        if (!knob_ok(h, k))
                return NULL;
        return h->v2[k] ? knob_file_v2[k] : knob_file_v1[k];
}

/* ------------------------------------------------------------ detection */

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape_octal(char *s) {
        char *w = s;

        for (char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = 0;
}

static bool list_has(const char *list, const char *sep, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; *p;) {
                size_t l = strcspn(p, sep);
                if (l == n && strncmp(p, word, n) == 0)
                        return true;
                p += l;
                p += strspn(p, sep);
        }
        return false;
}

/* cgroup.freeze exists in every non-root cgroup since 5.2 (the root has none):
 * look at the mount's own directory, then its first-level children. */
static bool v2_has_freeze(const char *mnt) {
        _cleanup_(closedirp) DIR *d = NULL;
        char p[PATH_MAX];
        struct dirent *de;

        if (snprintf(p, sizeof(p), "%s/cgroup.freeze", mnt) < (int) sizeof(p) && access(p, F_OK) == 0)
                return true;
        d = opendir(mnt);
        if (!d)
                return false;
        while ((de = readdir(d))) {
                struct stat st;
                if (de->d_name[0] == '.')
                        continue;
                if (snprintf(p, sizeof(p), "%s/%s", mnt, de->d_name) >= (int) sizeof(p))
                        continue;
                if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (snprintf(p, sizeof(p), "%s/%s/cgroup.freeze", mnt, de->d_name) < (int) sizeof(p) &&
                    access(p, F_OK) == 0)
                        return true;
        }
        return false;
}

/* Keep the first mount of a hierarchy, but prefer one that shows its root "/"
 * (a bind mount of a sub-tree sees less). */
static bool better_mount(const char *have_mnt, const char *have_root, const char *root) {
        if (!have_mnt[0])
                return true;
        return strcmp(have_root, "/") != 0 && strcmp(root, "/") == 0;
}

/*
 * Knob placement: v2 when the cgroup2 root lists the knob's controller (cpu
 * for weight and idle, cpuset), else the v1 hierarchy that carries it.  Freeze
 * is the exception: cgroup.freeze is core v2 (no controller), but on a hybrid
 * host whose v1 freezer is mounted libvirt only builds its vcpuK/emulator
 * tree in the v1 hierarchies, so v1 freezer.state wins whenever mounted and
 * cgroup.freeze is used on hosts without one.
 */
int vs_cg_host_detect(const char *mountinfo, struct vs_cg_host *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        struct vs_cg_host h = {};
        char v1_root[_VS_KNOB_MAX][PATH_MAX] = {};
        char v1_mount[_VS_KNOB_MAX][PATH_MAX] = {};
        char v2_mount[PATH_MAX] = "", v2_root[PATH_MAX] = "";

        if (!ret)
                return -EINVAL;
        f = fopen(mountinfo ?: "/proc/self/mountinfo", "re");
        if (!f)
                return negative_errno();

        while (getline(&line, &cap, f) > 0) {
                char *fields[6] = {}, *fstype, *superopts, *sep, *save = NULL, *tok;
                unsigned n = 0;

                line[strcspn(line, "\n")] = 0;
                sep = strstr(line, " - ");
                if (!sep)
                        continue;
                *sep = 0;
                for (tok = strtok_r(line, " ", &save); tok && n < ELEMENTSOF(fields);
                     tok = strtok_r(NULL, " ", &save))
                        fields[n++] = tok;
                if (n < 5)
                        continue;
                save = NULL;
                fstype = strtok_r(sep + 3, " ", &save);
                (void) strtok_r(NULL, " ", &save);              /* source */
                superopts = strtok_r(NULL, " ", &save);
                if (!fstype || !superopts)
                        continue;

                char *root = fields[3], *mnt = fields[4];
                unescape_octal(root);
                unescape_octal(mnt);
                if (strlen(mnt) >= PATH_MAX || strlen(root) >= PATH_MAX)
                        continue;

                if (strcmp(fstype, "cgroup2") == 0) {
                        if (better_mount(v2_mount, v2_root, root)) {
                                strcpy(v2_mount, mnt);
                                strcpy(v2_root, root);
                        }
                } else if (strcmp(fstype, "cgroup") == 0) {
                        for (unsigned k = 0; k < _VS_KNOB_MAX; k++)
                                if (list_has(superopts, ",", v1_controller[k]) &&
                                    better_mount(v1_mount[k], v1_root[k], root)) {
                                        strcpy(v1_mount[k], mnt);
                                        strcpy(v1_root[k], root);
                                }
                }
        }
        if (ferror(f))
                return -EIO;

        bool v2_ctl[_VS_KNOB_MAX] = {};
        if (v2_mount[0]) {
                char p[PATH_MAX], ctl[1024];
                if (snprintf(p, sizeof(p), "%s/cgroup.controllers", v2_mount) < (int) sizeof(p) &&
                    vs_read_small(p, ctl, sizeof(ctl)) >= 0) {
                        v2_ctl[VS_KNOB_WEIGHT] = v2_ctl[VS_KNOB_IDLE] = list_has(ctl, " \t\n", "cpu");
                        v2_ctl[VS_KNOB_CPUSET] = list_has(ctl, " \t\n", "cpuset");
                }
                v2_ctl[VS_KNOB_FREEZE] = !v1_mount[VS_KNOB_FREEZE][0] && v2_has_freeze(v2_mount);
        }

        for (unsigned k = 0; k < _VS_KNOB_MAX; k++) {
                if (v2_ctl[k]) {
                        strcpy(h.mount[k], v2_mount);
                        strcpy(h.root[k], v2_root);
                        h.v2[k] = true;
                } else if (v1_mount[k][0]) {
                        strcpy(h.mount[k], v1_mount[k]);
                        strcpy(h.root[k], v1_root[k]);
                }
        }
        *ret = h;
        return 0;
}

/* ------------------------------------------------------------ values */

static int copy_out(const char *s, char *buf, size_t len) {
        size_t n = strlen(s);

        if (!buf || n >= len)
                return -ENOBUFS;
        memcpy(buf, s, n + 1);
        return 0;
}

/* Trim leading/trailing whitespace of @s into @out (at most @len bytes). */
static int trim_copy(const char *s, char *out, size_t len) {
        size_t n;

        while (isspace((unsigned char) *s))
                s++;
        n = strlen(s);
        while (n && isspace((unsigned char) s[n - 1]))
                n--;
        if (n >= len)
                return -ENOBUFS;
        memcpy(out, s, n);
        out[n] = 0;
        return 0;
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

struct range {
        unsigned a, b;
};

static int cmp_range(const void *x, const void *y) {
        const struct range *p = x, *q = y;

        return p->a < q->a ? -1 : p->a > q->a;
}

/* "0-3,8" (any order, overlaps allowed) -> the kernel's canonical "0-3,8";
 * "" stays "".  -EINVAL for anything else. */
static int cpulist_canon(const char *s, char *buf, size_t len) {
        _cleanup_free_ struct range *r = NULL;
        size_t n = 0, cap = 0, off = 0;
        const char *p = s;

        if (!*s)
                return copy_out("", buf, len);
        for (;;) {
                char *end;
                unsigned long a, b;

                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                errno = 0;
                a = strtoul(p, &end, 10);
                if (errno || a > INT_MAX)
                        return -EINVAL;
                b = a;
                p = end;
                if (*p == '-') {
                        p++;
                        if (!isdigit((unsigned char) *p))
                                return -EINVAL;
                        b = strtoul(p, &end, 10);
                        if (errno || b > INT_MAX || b < a)
                                return -EINVAL;
                        p = end;
                }
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 8;
                        struct range *t = realloc(r, nc * sizeof(*r));
                        if (!t)
                                return -ENOMEM;
                        r = t;
                        cap = nc;
                }
                r[n++] = (struct range) { a, b };
                if (!*p)
                        break;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
        qsort(r, n, sizeof(*r), cmp_range);
        if (!buf || len == 0)
                return -ENOBUFS;
        buf[0] = 0;
        for (size_t i = 0; i < n;) {
                unsigned a = r[i].a, b = r[i].b;
                int w;

                for (i++; i < n && r[i].a <= b + 1; i++)
                        if (r[i].b > b)
                                b = r[i].b;
                if (a == b)
                        w = snprintf(buf + off, len - off, "%s%u", off ? "," : "", a);
                else
                        w = snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "", a, b);
                if (w < 0 || (size_t) w >= len - off)
                        return -ENOBUFS;
                off += w;
        }
        return 0;
}

static int parse_bool01(const char *s) {
        if (strcmp(s, "0") == 0)
                return 0;
        if (strcmp(s, "1") == 0)
                return 1;
        return -EINVAL;
}

int vs_cg_format(const struct vs_cg_host *h, enum vs_knob k, const char *logical, char *buf, size_t len) {
        char out[64];
        uint64_t w;
        int r;

        if (!logical)
                return -EINVAL;
        if (!knob_ok(h, k))
                return -EOPNOTSUPP;

        switch (k) {
        case VS_KNOB_WEIGHT:
                r = parse_u64(logical, &w);
                if (r < 0)
                        return r;
                if (w < 1 || w > 10000)
                        return -ERANGE;
                (void) snprintf(out, sizeof(out), "%" PRIu64, h->v2[k] ? w : w * 1024 / 100);
                return copy_out(out, buf, len);
        case VS_KNOB_IDLE:
                r = parse_bool01(logical);
                if (r < 0)
                        return r;
                return copy_out(logical, buf, len);
        case VS_KNOB_CPUSET:
                /* "" on v2 means "inherit the parent's CPUs" (the state of a fresh
                 * vcpuK group): a valid value to restore.  v1 has no such value. */
                if (!*logical)
                        return h->v2[k] ? copy_out("", buf, len) : -EINVAL;
                return cpulist_canon(logical, buf, len);
        case VS_KNOB_FREEZE:
                r = parse_bool01(logical);
                if (r < 0)
                        return r;
                if (h->v2[k])
                        return copy_out(logical, buf, len);
                return copy_out(r ? "FROZEN" : "THAWED", buf, len);
        default:
                return -EINVAL;
        }
}

int vs_cg_parse(const struct vs_cg_host *h, enum vs_knob k, const char *text, char *buf, size_t len) {
        char t[4096], out[64];
        uint64_t v;
        int r;

        if (!text)
                return -EINVAL;
        if (!knob_ok(h, k))
                return -EOPNOTSUPP;
        r = trim_copy(text, t, sizeof(t));
        if (r < 0)
                return r;

        switch (k) {
        case VS_KNOB_WEIGHT:
                r = parse_u64(t, &v);
                if (r < 0)
                        return r;
                if (!h->v2[k]) {
                        /* shares -> nearest weight; w*1024/100 rounds back to w */
                        if (v > UINT64_MAX / 100)
                                return -ERANGE;
                        v = (v * 100 + 512) / 1024;
                        if (v < 1)
                                v = 1;
                        if (v > 10000)
                                v = 10000;
                } else if (v < 1 || v > 10000)
                        return -ERANGE;
                (void) snprintf(out, sizeof(out), "%" PRIu64, v);
                return copy_out(out, buf, len);
        case VS_KNOB_IDLE:
                r = parse_bool01(t);
                if (r < 0)
                        return r;
                return copy_out(t, buf, len);
        case VS_KNOB_CPUSET:
                return cpulist_canon(t, buf, len);
        case VS_KNOB_FREEZE:
                if (h->v2[k]) {
                        r = parse_bool01(t);
                        if (r < 0)
                                return r;
                        return copy_out(t, buf, len);
                }
                /* FREEZING: asked to freeze, not all tasks stopped yet */
                if (strcmp(t, "FROZEN") == 0 || strcmp(t, "FREEZING") == 0)
                        return copy_out("1", buf, len);
                if (strcmp(t, "THAWED") == 0)
                        return copy_out("0", buf, len);
                return -EINVAL;
        default:
                return -EINVAL;
        }
}

static bool is_cpulist_file(const char *file) {
        return strcmp(file, "cpuset.cpus") == 0 || strcmp(file, "cpuset.mems") == 0 ||
               strcmp(file, "cpuset.cpus.exclusive") == 0;
}

int vs_cg_normalize(const char *file, const char *text, char *buf, size_t len) {
        char t[4096];
        int r;

        if (!file || !text)
                return -EINVAL;
        r = trim_copy(text, t, sizeof(t));
        if (r < 0)
                return r;
        if (strcmp(file, "freezer.state") == 0 && strcmp(t, "FREEZING") == 0)
                return copy_out("FROZEN", buf, len);
        if (is_cpulist_file(file)) {
                r = cpulist_canon(t, buf, len);
                if (r != -EINVAL)
                        return r;
        }
        return copy_out(t, buf, len);
}

static bool is_weight_file(const char *file) {
        return strcmp(file, "cpu.shares") == 0 || strcmp(file, "cpu.weight") == 0 ||
               strcmp(file, "cpu.weight.nice") == 0;
}

/*
 * cpu.idle = 1 (v1 and v2, kernel sched_group_set_idle()) gives the group the
 * minimum weight (cpu.shares then reads 3, cpu.weight 1), makes writes to its
 * weight fail with EINVAL, and clearing it resets the weight to the default
 * (1024 / 100), not to what it was.
 */
const char *const *vs_cg_affected_files(const char *written) {
        static const char *const by_idle[] = { "cpu.shares", "cpu.weight", "cpu.weight.nice", NULL };

        if (written && strcmp(written, "cpu.idle") == 0)
                return by_idle;
        return NULL;
}

int vs_cg_weight_blocked(const char *dir, const char *file) {
        char v[16];
        int r;

        if (!dir || !file)
                return -EINVAL;
        if (!is_weight_file(file))
                return 0;
        r = vs_cg_read(dir, "cpu.idle", v, sizeof(v));
        if (r == -ENOENT)
                return 0;       /* kernel < 5.15, or the cgroup is gone: the weight read says */
        if (r < 0)
                return r;
        return strcmp(v, "1") == 0;
}

/* ------------------------------------------------------------ paths */

/* A kernel cgroup path: absolute, no "//", no "." or ".." component, no
 * control character. */
static bool cg_path_ok(const char *p) {
        if (p[0] != '/')
                return false;
        for (const char *c = p; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return false;
        if (strstr(p, "//"))
                return false;
        for (const char *c = p + 1; *c;) {
                size_t l = strcspn(c, "/");
                if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += l;
                if (*c == '/')
                        c++;
        }
        return true;
}

static bool is_vcpu_name(const char *s, size_t l) {
        if (l < 5 || strncmp(s, "vcpu", 4) != 0)
                return false;
        for (size_t i = 4; i < l; i++)
                if (!isdigit((unsigned char) s[i]))
                        return false;
        return true;
}

/* The libvirt sub-tree root of @p (relative to the hierarchy root), copied
 * into @out; "" when @p has no "libvirt" component; -ENOENT when it has one
 * but sits somewhere libvirt never puts a process. */
static int libvirt_base(const char *p, char *out, size_t len) {
        const char *last = NULL;

        for (const char *c = p; (c = strstr(c, "/libvirt")); c += 8)
                if (c[8] == '/' || c[8] == 0)
                        last = c;
        if (!last) {
                out[0] = 0;
                return 0;
        }
        const char *rest = last + 8;
        if (*rest) {
                rest++;
                size_t l = strlen(rest);
                if (!(l == 8 && strcmp(rest, "emulator") == 0) && !is_vcpu_name(rest, l))
                        return -ENOENT;
        }
        size_t n = (size_t) (last - p) + 8;
        if (n >= len)
                return -ENAMETOOLONG;
        memcpy(out, p, n);
        out[n] = 0;
        return 0;
}

int vs_cg_dir(const struct vs_cg_host *h, enum vs_knob k, const char *proc_cgroup, int vcpu, char *buf,
              size_t len) {
        char rel[PATH_MAX], full[PATH_MAX], real_full[PATH_MAX], real_mnt[PATH_MAX];
        const char *p = proc_cgroup, *root;
        size_t n, rl;
        int r;

        if (!proc_cgroup || !buf)
                return -EINVAL;
        if (!knob_ok(h, k))
                return -EOPNOTSUPP;
        if (!cg_path_ok(p))
                return -EINVAL;

        /* the mount may show a sub-tree of the hierarchy (mountinfo root) */
        root = h->root[k][0] ? h->root[k] : "/";
        rl = strlen(root);
        if (strcmp(root, "/") != 0) {
                if (strncmp(p, root, rl) != 0 || (p[rl] != '/' && p[rl] != 0))
                        return -ENOENT;
                p += rl;
        }
        if (*p == 0 || strcmp(p, "/") == 0)
                return -ENOENT;                 /* the hierarchy root is nobody's VM */
        n = strlen(p);
        if (p[n - 1] == '/')
                n--;

        char trimmed[PATH_MAX];
        if (n >= sizeof(trimmed))
                return -ENAMETOOLONG;
        memcpy(trimmed, p, n);
        trimmed[n] = 0;

        r = libvirt_base(trimmed, rel, sizeof(rel));
        if (r < 0)
                return r;
        if (!rel[0]) {
                /* the process sits in the scope itself (hybrid hosts): use the
                 * scope's libvirt child if there is one */
                if (snprintf(rel, sizeof(rel), "%s/libvirt", trimmed) >= (int) sizeof(rel))
                        return -ENAMETOOLONG;
        }
        if (vcpu >= 0) {
                size_t m = strlen(rel);
                if (snprintf(rel + m, sizeof(rel) - m, "/vcpu%d", vcpu) >= (int) (sizeof(rel) - m))
                        return -ENAMETOOLONG;
        }
        if (snprintf(full, sizeof(full), "%s%s", h->mount[k], rel) >= (int) sizeof(full))
                return -ENAMETOOLONG;

        if (!realpath(h->mount[k], real_mnt))
                return negative_errno();
        if (!realpath(full, real_full))
                return errno == ENOTDIR ? -ENOENT : negative_errno();
        rl = strlen(real_mnt);
        if (strcmp(real_mnt, "/") != 0 && (strncmp(real_full, real_mnt, rl) != 0 || real_full[rl] != '/'))
                return -EINVAL;

        struct stat st;
        if (stat(real_full, &st) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode))
                return -ENOENT;
        return copy_out(full, buf, len);
}

int vs_cg_proc_cgroup(const struct vs_cg_host *h, enum vs_knob k, const char *proc_cgroup_file, char *buf,
                      size_t len) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;

        if (!proc_cgroup_file || !buf)
                return -EINVAL;
        if (!knob_ok(h, k))
                return -EOPNOTSUPP;
        f = fopen(proc_cgroup_file, "re");
        if (!f)
                return negative_errno();
        while ((n = getline(&line, &cap, f)) > 0) {
                char *c1, *c2;

                if (line[n - 1] == '\n')
                        line[n - 1] = 0;
                c1 = strchr(line, ':');
                if (!c1)
                        continue;
                c2 = strchr(c1 + 1, ':');
                if (!c2)
                        continue;
                *c2 = 0;
                if (h->v2[k] ? (strcmp(line, "0:") == 0 && c1[1] == 0)
                             : (c1[1] != 0 && list_has(c1 + 1, ",", v1_controller[k])))
                        return copy_out(c2 + 1, buf, len);
        }
        return -ENOENT;
}

/* ------------------------------------------------------------ file I/O */

static bool file_name_ok(const char *file) {
        return file && *file && !strchr(file, '/') && strcmp(file, ".") != 0 && strcmp(file, "..") != 0;
}

/* a removed cgroup answers ENODEV on an fd opened before the rmdir */
static int cg_errno(void) {
        return errno == ENODEV ? -ENOENT : negative_errno();
}

int vs_cg_read(const char *dir, const char *file, char *buf, size_t len) {
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX];
        size_t off = 0;

        if (!dir || !file_name_ok(file) || !buf || len == 0)
                return -EINVAL;
        if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return cg_errno();
        for (;;) {
                ssize_t n;

                if (off >= len - 1) {
                        char c;
                        n = read(fd, &c, 1);
                        if (n < 0)
                                return cg_errno();
                        if (n > 0)
                                return -ENOBUFS;
                        break;
                }
                n = read(fd, buf + off, len - 1 - off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return cg_errno();
                }
                if (n == 0)
                        break;
                off += n;
        }
        while (off && (buf[off - 1] == '\n' || buf[off - 1] == ' '))
                off--;
        buf[off] = 0;
        return 0;
}

int vs_cg_write(const char *dir, const char *file, const char *value) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *line = NULL;
        char path[PATH_MAX];
        size_t n;
        ssize_t w;

        if (!dir || !file_name_ok(file) || !value)
                return -EINVAL;
        if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        /* one write(2) of "value\n", as echo(1) does: the kernel parses each
         * write as a whole; no O_CREAT: a missing file is a missing cgroup */
        n = strlen(value);
        line = malloc(n + 2);
        if (!line)
                return -ENOMEM;
        memcpy(line, value, n);
        line[n] = '\n';
        line[n + 1] = 0;
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return cg_errno();
        do
                w = write(fd, line, n + 1);
        while (w < 0 && errno == EINTR);
        if (w < 0) {
                int r = cg_errno();
                /* cgroup v2 refuses to empty cpuset.cpus (back to "inherit") while the
                 * group has tasks (ENOSPC): write the parent's effective CPUs instead,
                 * which is the same set of CPUs (found by the testbed benchmark) */
                if (n == 0 && strcmp(file, "cpuset.cpus") == 0 && (r == -ENOSPC || r == -EINVAL)) {
                        char parent[PATH_MAX], cpus[4096];
                        char *slash;
                        snprintf(parent, sizeof(parent), "%s", dir);
                        slash = strrchr(parent, '/');
                        if (slash && slash != parent) {
                                *slash = 0;
                                if (vs_cg_read(parent, "cpuset.cpus.effective", cpus, sizeof(cpus)) >= 0 && cpus[0])
                                        return vs_cg_write(dir, file, cpus);
                        }
                }
                return r;
        }
        if ((size_t) w != n + 1)
                return -EIO;
        return 0;
}
