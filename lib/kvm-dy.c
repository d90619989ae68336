/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm-dy.h"
#include "macro.h"

/* <linux/kvm.h> */
#define VS_KVMIO 0xAE
struct vs_kvm_enable_cap {
        uint32_t cap;
        uint32_t flags;
        uint64_t args[4];
        uint8_t pad[64];
};
_Static_assert(sizeof(struct vs_kvm_enable_cap) == 104, "struct kvm_enable_cap");
#define VS_KVM_ENABLE_CAP _IOW(VS_KVMIO, 0xa3, struct vs_kvm_enable_cap)
/* kernel/patches */
#define VS_KVM_CAP_DIRECTED_YIELD_ 1024
#define VS_KVM_DIRECTED_YIELD_HINT_ 0x2u
#define VS_KVM_DIRECTED_YIELD_EXPECT 0x1u
#define VS_KVM_GET_DIRECTED_YIELD_FD _IO(VS_KVMIO, 0xd6)

const char *vs_kvm_dy_state_name(enum vs_kvm_dy_state s) {
        switch (s) {
        case VS_KVM_DY_ON:
                return "on";
        case VS_KVM_DY_VMM:
                return "vmm";
        case VS_KVM_DY_FAILED:
                return "failed";
        default:
                return "off";
        }
}

int vs_kvm_dy_parse_line(const char *line, pid_t *pid, uint64_t *starttime, uint32_t *features) {
        unsigned long long p, st, f;
        int n = 0;

        if (sscanf(line, "%llu %llu %llu%n", &p, &st, &f, &n) != 3)
                return -EINVAL;
        line += n;
        line += strspn(line, " \t\n");
        if (*line || p == 0 || p > INT32_MAX || f == 0 || f > 255)
                return -EINVAL;
        *pid = (pid_t) p;
        *starttime = st;
        *features = (uint32_t) f;
        return 0;
}

int vs_kvm_dy_starttime(const char *proc_root, pid_t pid, uint64_t *ret) {
        char path[4096], buf[1024], *p;
        _cleanup_close_ int fd = -1;
        unsigned long long st;
        ssize_t n;

        snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ESRCH ? -ENOENT : negative_errno();
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return errno == ESRCH ? -ENOENT : negative_errno();
        buf[n] = 0;
        /* the name may hold blanks and parentheses: fields start after the last ')' */
        p = strrchr(buf, ')');
        if (!p)
                return -EINVAL;
        p++;
        /* field 3 (state) is the first after ')'; the start time is field 22 */
        for (int field = 3; field < 22; field++) {
                p += strspn(p, " ");
                p += strcspn(p, " ");
        }
        if (sscanf(p, " %llu", &st) != 1)
                return -EINVAL;
        *ret = st;
        return 0;
}

static int pidfd_open_(pid_t pid) {
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? (errno == ESRCH ? -ENOENT : negative_errno()) : fd;
}

/* A copy of the VM file of process @pid (through @pidfd): a new fd, -ENOENT
 * (none) or -errno. */
static int take_vm_file(const char *proc_root, pid_t pid, int pidfd) {
        char dir[4096], link[64];
        _cleanup_(closedirp_) DIR *d = NULL;
        struct dirent *de;

        snprintf(dir, sizeof(dir), "%s/%d/fd", proc_root, (int) pid);
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? -ENOENT : negative_errno();
        while ((de = readdir(d))) {
                char *end;
                long target;
                ssize_t n;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
                if (n < 0)
                        continue;       /* closed meanwhile */
                link[n] = 0;
                if (strcmp(link, VS_KVM_VM_FILE_LINK) != 0)
                        continue;
                errno = 0;
                target = strtol(de->d_name, &end, 10);
                if (errno || *end || target < 0 || target > INT32_MAX)
                        continue;
                n = syscall(SYS_pidfd_getfd, pidfd, (int) target, 0);
                return n < 0 ? negative_errno() : (int) n;
        }
        return -ENOENT;
}

/* KVM_ENABLE_CAP(KVM_CAP_DIRECTED_YIELD, @features, KVM's window) on @vm_fd,
 * only if @expect is on now: 0, -EBUSY (something else is on) or -errno. */
static int set_features(int vm_fd, uint32_t features, uint32_t expect) {
        struct vs_kvm_enable_cap cap = {
                .cap = VS_KVM_CAP_DIRECTED_YIELD_,
                .flags = VS_KVM_DIRECTED_YIELD_EXPECT,
                .args = { features, 0, expect, 0 },
        };

        return ioctl(vm_fd, VS_KVM_ENABLE_CAP, &cap) < 0 ? negative_errno() : 0;
}

struct dy_vm {
        pid_t pid;
        int pidfd;              /* the VMM process (liveness, pidfd_getfd) */
        uint64_t starttime;
        enum vs_kvm_dy_state state;
        uint32_t features;      /* ON: what vschedd turned on */
        int err;                /* FAILED: why */
        uint64_t failed_usec;   /* FAILED: when */
        int hint_fd;            /* ON with hints: the hint file vschedd made, else -1 */
};

struct vs_kvm_dy {
        char *proc_root, *state_dir;
        struct dy_vm *vms;
        unsigned n, cap;
};

int vs_kvm_dy_new(const char *proc_root, const char *state_dir, struct vs_kvm_dy **ret) {
        struct vs_kvm_dy *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->proc_root = strdup(proc_root);
        d->state_dir = strdup(state_dir);
        if (!d->proc_root || !d->state_dir) {
                vs_kvm_dy_free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

static void dy_vm_close(struct dy_vm *v) {
        if (v->hint_fd >= 0)
                close(v->hint_fd);
        if (v->pidfd >= 0)
                close(v->pidfd);
        v->hint_fd = v->pidfd = -1;
}

void vs_kvm_dy_free(struct vs_kvm_dy *d) {
        if (!d)
                return;
        for (unsigned i = 0; i < d->n; i++)
                dy_vm_close(&d->vms[i]);
        free(d->vms);
        free(d->proc_root);
        free(d->state_dir);
        free(d);
}

static struct dy_vm *find(const struct vs_kvm_dy *d, pid_t pid) {
        for (unsigned i = 0; i < d->n; i++)
                if (d->vms[i].pid == pid)
                        return &d->vms[i];
        return NULL;
}

/* The state file: every VM on by vschedd, plus @pending (may be NULL) about
 * to be turned on.  Written to a temporary file, synced and renamed; removed
 * when there is nothing to list.  0 or -errno. */
static int write_state(const struct vs_kvm_dy *d, const struct dy_vm *pending) {
        char path[4096], tmp[4200];
        _cleanup_fclose_ FILE *f = NULL;
        unsigned n = 0;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", d->state_dir, VS_KVM_DY_STATE_FILE);
        for (unsigned i = 0; i < d->n; i++)
                n += d->vms[i].state == VS_KVM_DY_ON && &d->vms[i] != pending;
        if (n == 0 && !pending) {
                if (unlink(path) < 0 && errno != ENOENT)
                        return negative_errno();
                return 0;
        }
        if (mkdir(d->state_dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "w");
        if (!f) {
                int r = negative_errno();
                close(fd);
                return r;
        }
        for (unsigned i = 0; i < d->n; i++) {
                const struct dy_vm *v = &d->vms[i];
                if ((v->state == VS_KVM_DY_ON && v != pending) || v == pending)
                        fprintf(f, "%d %" PRIu64 " %" PRIu32 "\n", (int) v->pid, v->starttime, v->features);
        }
        if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
                int r = negative_errno();
                (void) unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0) {
                int r = negative_errno();
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int vs_kvm_dy_on(struct vs_kvm_dy *d, pid_t pid, uint32_t features, uint64_t now_usec, uint64_t retry_usec) {
        _cleanup_close_ int vm_fd = -1;
        struct dy_vm *v;
        int r;

        if (pid <= 0 || features == 0 || features > 255)
                return -EINVAL;
        v = find(d, pid);
        if (v && (v->state == VS_KVM_DY_ON || v->state == VS_KVM_DY_VMM))
                return (int) v->state;
        if (v && v->state == VS_KVM_DY_FAILED && now_usec < v->failed_usec + retry_usec)
                return -EAGAIN;
        if (!v) {
                uint64_t st;
                int pidfd;

                r = vs_kvm_dy_starttime(d->proc_root, pid, &st);
                if (r < 0)
                        return r;
                if (d->n == d->cap) {
                        unsigned cap = d->cap ? 2 * d->cap : 8;
                        struct dy_vm *n = reallocarray(d->vms, cap, sizeof(*n));
                        if (!n)
                                return -ENOMEM;
                        d->vms = n;
                        d->cap = cap;
                }
                pidfd = pidfd_open_(pid);
                if (pidfd < 0)
                        return pidfd;
                v = &d->vms[d->n++];
                *v = (struct dy_vm){ .pid = pid, .pidfd = pidfd, .starttime = st, .hint_fd = -1 };
        }
        v->features = features;
        r = take_vm_file(d->proc_root, pid, v->pidfd);
        if (r >= 0) {
                vm_fd = r;
                /* write-ahead: a run killed after the ioctl leaves the entry behind */
                r = write_state(d, v);
        }
        if (r >= 0)
                r = set_features(vm_fd, features, 0);
        if (r == -EBUSY) {
                v->state = VS_KVM_DY_VMM;
                v->features = 0;
                (void) write_state(d, NULL);
                return VS_KVM_DY_VMM;
        }
        if (r < 0) {
                v->state = VS_KVM_DY_FAILED;
                v->err = r;
                v->failed_usec = now_usec;
                v->features = 0;
                (void) write_state(d, NULL);
                return r;
        }
        v->state = VS_KVM_DY_ON;
        v->err = 0;
        if (features & VS_KVM_DIRECTED_YIELD_HINT_) {
                r = ioctl(vm_fd, VS_KVM_GET_DIRECTED_YIELD_FD, 0);
                v->hint_fd = r >= 0 ? r : -1;   /* hints are optional: on without them */
        }
        return VS_KVM_DY_ON;
}

/* Turn @features off in the VM of @pid (through @pidfd, @proc_root) if they
 * are what is on: 0, -EBUSY or -errno. */
static int turn_off(const char *proc_root, pid_t pid, int pidfd, uint32_t features) {
        _cleanup_close_ int vm_fd = take_vm_file(proc_root, pid, pidfd);

        if (vm_fd < 0)
                return vm_fd;
        return set_features(vm_fd, 0, features);
}

int vs_kvm_dy_off(struct vs_kvm_dy *d, pid_t pid) {
        struct dy_vm *v = find(d, pid);
        int r;

        if (!v || v->state != VS_KVM_DY_ON) {
                if (v && v->state == VS_KVM_DY_FAILED)
                        v->state = VS_KVM_DY_OFF;       /* a later on tries again at once */
                return 0;
        }
        r = turn_off(d->proc_root, pid, v->pidfd, v->features);
        if (r == -ENOENT)
                r = 0;          /* the VM is gone: nothing is on */
        if (v->hint_fd >= 0) {
                close(v->hint_fd);
                v->hint_fd = -1;
        }
        /* turned off, or changed by someone else: either way no longer ours */
        v->state = r == -EBUSY ? VS_KVM_DY_VMM : VS_KVM_DY_OFF;
        v->features = 0;
        (void) write_state(d, NULL);
        return r;
}

unsigned vs_kvm_dy_off_all(struct vs_kvm_dy *d, unsigned *failed) {
        unsigned off = 0, bad = 0;

        for (unsigned i = 0; i < d->n; i++) {
                if (d->vms[i].state != VS_KVM_DY_ON)
                        continue;
                if (vs_kvm_dy_off(d, d->vms[i].pid) < 0)
                        bad++;
                else
                        off++;
        }
        if (failed)
                *failed = bad;
        return off;
}

enum vs_kvm_dy_state vs_kvm_dy_state(const struct vs_kvm_dy *d, pid_t pid, int *err, uint32_t *features) {
        const struct dy_vm *v = find(d, pid);

        if (err)
                *err = v && v->state == VS_KVM_DY_FAILED ? v->err : 0;
        if (features)
                *features = v && v->state == VS_KVM_DY_ON ? v->features : 0;
        return v ? v->state : VS_KVM_DY_OFF;
}

int vs_kvm_dy_hint_fd(const struct vs_kvm_dy *d, pid_t pid) {
        const struct dy_vm *v = find(d, pid);
        return v && v->state == VS_KVM_DY_ON ? v->hint_fd : -1;
}

unsigned vs_kvm_dy_gc(struct vs_kvm_dy *d) {
        unsigned gone = 0, j = 0;
        bool changed = false;

        for (unsigned i = 0; i < d->n; i++) {
                struct dy_vm *v = &d->vms[i];

                if (syscall(SYS_pidfd_send_signal, v->pidfd, 0, NULL, 0) < 0 && errno == ESRCH) {
                        changed = changed || v->state == VS_KVM_DY_ON;
                        dy_vm_close(v);
                        gone++;
                        continue;
                }
                d->vms[j++] = *v;
        }
        d->n = j;
        if (changed)
                (void) write_state(d, NULL);
        return gone;
}

unsigned vs_kvm_dy_n_on(const struct vs_kvm_dy *d) {
        unsigned n = 0;

        for (unsigned i = 0; i < d->n; i++)
                n += d->vms[i].state == VS_KVM_DY_ON;
        return n;
}

int vs_kvm_dy_recover(const char *proc_root, const char *state_dir, unsigned *gone, unsigned *failed) {
        char path[4096], line[256];
        _cleanup_fclose_ FILE *f = NULL;
        unsigned n_gone = 0, n_failed = 0;
        int off = 0;

        snprintf(path, sizeof(path), "%s/%s", state_dir, VS_KVM_DY_STATE_FILE);
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        while (fgets(line, sizeof(line), f)) {
                _cleanup_close_ int pidfd = -1;
                uint32_t features;
                uint64_t st, now_st;
                pid_t pid;
                int r;

                if (vs_kvm_dy_parse_line(line, &pid, &st, &features) < 0) {
                        n_failed++;
                        continue;
                }
                /* the pidfd first: the start time read after it is of the process it holds */
                pidfd = pidfd_open_(pid);
                if (pidfd < 0 || vs_kvm_dy_starttime(proc_root, pid, &now_st) < 0 || now_st != st) {
                        n_gone++;
                        continue;
                }
                r = turn_off(proc_root, pid, pidfd, features);
                if (r == -ENOENT)
                        n_gone++;
                else if (r < 0)
                        n_failed++;
                else
                        off++;
        }
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        if (gone)
                *gone = n_gone;
        if (failed)
                *failed = n_failed;
        return off;
}
