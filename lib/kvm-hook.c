/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "kvm-hook.h"
#include "macro.h"

/* <linux/kvm.h> */
#define VS_KVMIO 0xAE
#define VS_KVM_CHECK_EXTENSION _IO(VS_KVMIO, 0x03)

/* kernel/patches: struct kvm_directed_yield_hint */
struct vs_kvm_dy_hint_rec {
        uint32_t vcpu_id, target_id, ttl_us, flags;
};
#define VS_KVM_DY_NO_TARGET 0xffffffffu

/* One parameter file: 1 read, 0 absent, -errno. */
static int read_param(const char *sys_root, const char *name, char *buf, size_t len) {
        char path[4096];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        snprintf(path, sizeof(path), "%s/module/kvm/parameters/%s", sys_root, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        n = read(fd, buf, len - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 1;
}

static bool is_yes(const char *s) {
        return s[0] == 'Y' || s[0] == 'y' || s[0] == '1';
}

/* The first series' module parameters: 1 present, 0 absent, -errno. */
static int probe_debugfs(const char *sys_root, struct vs_kvm_hook *h) {
        char ipi[32], hint[32], win[32];
        int r1, r2, r3;

        r1 = read_param(sys_root, "dy_ipi", ipi, sizeof(ipi));
        r2 = read_param(sys_root, "dy_hint", hint, sizeof(hint));
        r3 = read_param(sys_root, "dy_ipi_window_ns", win, sizeof(win));
        if (r1 < 0)
                return r1;
        if (r2 < 0)
                return r2;
        if (r3 < 0)
                return r3;
        if (r1 == 0 || r2 == 0)
                return 0;
        h->iface = VS_KVM_HOOK_DEBUGFS;
        h->present = true;
        h->ipi = is_yes(ipi);
        h->hint = is_yes(hint);
        if (r3 > 0) {
                char *end;
                errno = 0;
                h->ipi_window_ns = strtoull(win, &end, 10);
                if (errno || end == win)
                        h->ipi_window_ns = 0;
        }
        return 1;
}

int vs_kvm_hook_probe(const char *sys_root, const char *kvm_dev, struct vs_kvm_hook *ret) {
        struct vs_kvm_hook h = { .iface = VS_KVM_HOOK_NONE };
        int r;

        if (kvm_dev) {
                _cleanup_close_ int fd = open(kvm_dev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                int caps = fd >= 0 ? ioctl(fd, VS_KVM_CHECK_EXTENSION, VS_KVM_CAP_DIRECTED_YIELD) : -1;

                if (caps > 0) {
                        h.iface = VS_KVM_HOOK_VM_FILE;
                        h.present = true;
                        h.ipi = caps & VS_KVM_DIRECTED_YIELD_IPI;
                        h.hint = caps & VS_KVM_DIRECTED_YIELD_HINT;
                        *ret = h;
                        return 0;
                }
        }
        r = probe_debugfs(sys_root, &h);
        if (r < 0)
                return r;
        *ret = h;
        return 0;
}

bool vs_kvm_hook_active(const struct vs_kvm_hook *h) {
        if (!h->present)
                return false;
        if (h->iface == VS_KVM_HOOK_VM_FILE)
                return h->ipi || h->hint;
        return (h->ipi && h->ipi_window_ns > 0) || h->hint;
}

const char *vs_kvm_hook_iface_name(enum vs_kvm_hook_iface i) {
        switch (i) {
        case VS_KVM_HOOK_VM_FILE:
                return "vm-file";
        case VS_KVM_HOOK_DEBUGFS:
                return "debugfs";
        default:
                return "none";
        }
}

struct json_object *vs_kvm_hook_json(const struct vs_kvm_hook *h) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "present", json_object_new_boolean(h->present));
        json_object_object_add(o, "active", json_object_new_boolean(vs_kvm_hook_active(h)));
        json_object_object_add(o, "interface", json_object_new_string(vs_kvm_hook_iface_name(h->iface)));
        json_object_object_add(o, "per_vm", json_object_new_boolean(h->iface == VS_KVM_HOOK_VM_FILE));
        json_object_object_add(o, "ipi", json_object_new_boolean(h->present && h->ipi));
        json_object_object_add(o, "hint", json_object_new_boolean(h->present && h->hint));
        json_object_object_add(o, "ipi_window_ns", json_object_new_uint64(h->ipi_window_ns));
        return o;
}

/* <debugfs>/kvm/<pid>-<fd>: the first directory of the VM process (one VM fd
 * per QEMU).  Writes it into @buf.  0 or -ENOENT. */
static int vm_dir(const char *debugfs_root, pid_t pid, char *buf, size_t len) {
        char kvm[4096], prefix[32];
        _cleanup_(closedirp_) DIR *d = NULL;
        struct dirent *de;
        size_t pl;

        snprintf(kvm, sizeof(kvm), "%s/kvm", debugfs_root);
        d = opendir(kvm);
        if (!d)
                return errno == ENOENT || errno == EACCES ? -ENOENT : negative_errno();
        pl = (size_t) snprintf(prefix, sizeof(prefix), "%d-", (int) pid);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, pl) == 0 && de->d_name[pl] >= '0' && de->d_name[pl] <= '9') {
                        int n = snprintf(buf, len, "%.*s/%s", (int) (len - 300), kvm, de->d_name);
                        return n > 0 && (size_t) n < len ? 0 : -ENAMETOOLONG;
                }
        return -ENOENT;
}

int vs_kvm_hook_write_hint(const char *debugfs_root, pid_t vm_pid, uint32_t vcpu_id, int32_t target_vcpu_id,
                           uint32_t ttl_us) {
        char dir[4096], path[4200], val[48];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int r, len;

        if (vm_pid <= 0 || target_vcpu_id < -1 || target_vcpu_id > 0xffff ||
            (target_vcpu_id >= 0 && (ttl_us == 0 || ttl_us > VS_KVM_HOOK_HINT_MAX_TTL_US)))
                return -EINVAL;
        r = vm_dir(debugfs_root, vm_pid, dir, sizeof(dir));
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/vcpu%" PRIu32 "/directed_yield_hint", dir, vcpu_id);
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : negative_errno();
        if (target_vcpu_id < 0)
                len = snprintf(val, sizeof(val), "-1\n");
        else
                len = snprintf(val, sizeof(val), "%" PRId32 " %" PRIu32 "\n", target_vcpu_id, ttl_us);
        n = write(fd, val, (size_t) len);
        if (n < 0)
                return negative_errno();
        return n == len ? 0 : -EIO;
}

/* ------------------------------------------------------------ vm-file */

static int pidfd_open_(pid_t pid) {
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? negative_errno() : fd;
}

/* The hint file of @pid through @pidfd: a new fd or -errno. */
static int take_file(const char *proc_root, pid_t pid, int pidfd) {
        char dir[4096], link[64];
        _cleanup_(closedirp_) DIR *d = NULL;
        struct dirent *de;

        snprintf(dir, sizeof(dir), "%s/%d/fd", proc_root, (int) pid);
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? -ENOENT : negative_errno();
        while ((de = readdir(d))) {
                ssize_t n;
                char *end;
                long target;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
                if (n < 0)
                        continue;       /* closed meanwhile */
                link[n] = 0;
                if (strcmp(link, VS_KVM_HINT_FILE_LINK) != 0)
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

int vs_kvm_hook_take_hint_file(const char *proc_root, pid_t pid) {
        _cleanup_close_ int pidfd = -1;

        if (pid <= 0)
                return -EINVAL;
        pidfd = pidfd_open_(pid);
        if (pidfd < 0)
                return pidfd == -ESRCH ? -ENOENT : pidfd;
        return take_file(proc_root, pid, pidfd);
}

int vs_kvm_hook_write_hint_fd(int fd, uint32_t vcpu_id, int32_t target_vcpu_id, uint32_t ttl_us) {
        struct vs_kvm_dy_hint_rec rec = { .vcpu_id = vcpu_id };
        ssize_t n;

        if (fd < 0 || target_vcpu_id < -1 ||
            (target_vcpu_id >= 0 && (ttl_us == 0 || ttl_us > VS_KVM_HOOK_HINT_MAX_TTL_US)))
                return -EINVAL;
        rec.target_id = target_vcpu_id < 0 ? VS_KVM_DY_NO_TARGET : (uint32_t) target_vcpu_id;
        rec.ttl_us = target_vcpu_id < 0 ? 0 : ttl_us;
        n = write(fd, &rec, sizeof(rec));
        if (n < 0)
                return negative_errno();
        return n == (ssize_t) sizeof(rec) ? 0 : -EIO;
}

#define HINT_RETRY_USEC (5 * 1000000ull)        /* a VM without a hint file is asked again after */

struct hint_file {
        pid_t pid;
        int pidfd;              /* the VMM process (liveness, pidfd_getfd) */
        int fd;                 /* its hint file, or -1 */
        uint64_t retry_usec;    /* fd < 0: look again from then on */
};

struct vs_kvm_hints {
        char *proc_root, *debugfs_root;
        struct hint_file *files;
        unsigned n, cap;
};

int vs_kvm_hints_new(const char *proc_root, const char *debugfs_root, struct vs_kvm_hints **ret) {
        struct vs_kvm_hints *h = calloc(1, sizeof(*h));

        if (!h)
                return -ENOMEM;
        h->proc_root = strdup(proc_root);
        h->debugfs_root = strdup(debugfs_root);
        if (!h->proc_root || !h->debugfs_root) {
                vs_kvm_hints_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

static void hint_file_close(struct hint_file *f) {
        if (f->fd >= 0)
                close(f->fd);
        if (f->pidfd >= 0)
                close(f->pidfd);
        f->fd = f->pidfd = -1;
}

void vs_kvm_hints_free(struct vs_kvm_hints *h) {
        if (!h)
                return;
        for (unsigned i = 0; i < h->n; i++)
                hint_file_close(&h->files[i]);
        free(h->files);
        free(h->proc_root);
        free(h->debugfs_root);
        free(h);
}

/* The entry of @pid, made (file not looked for yet) if new; NULL on ENOMEM
 * or when the process is gone (*err set). */
static struct hint_file *hint_file_get(struct vs_kvm_hints *h, pid_t pid, int *err) {
        struct hint_file *f;
        int pidfd;

        for (unsigned i = 0; i < h->n; i++)
                if (h->files[i].pid == pid)
                        return &h->files[i];
        if (h->n == h->cap) {
                unsigned cap = h->cap ? 2 * h->cap : 8;
                f = reallocarray(h->files, cap, sizeof(*f));
                if (!f)
                        return *err = -ENOMEM, NULL;
                h->files = f;
                h->cap = cap;
        }
        pidfd = pidfd_open_(pid);
        if (pidfd < 0)
                return *err = pidfd == -ESRCH ? -ENOENT : pidfd, NULL;
        f = &h->files[h->n++];
        *f = (struct hint_file){ .pid = pid, .pidfd = pidfd, .fd = -1, .retry_usec = 0 };
        return f;
}

int vs_kvm_hints_write(struct vs_kvm_hints *h, const struct vs_kvm_hook *hook, pid_t vm_pid, uint32_t vcpu_id,
                       int32_t target_vcpu_id, uint32_t ttl_us, uint64_t now_usec) {
        struct hint_file *f;
        int r = 0;

        if (!hook->present || !hook->hint)
                return -EOPNOTSUPP;
        if (hook->iface == VS_KVM_HOOK_DEBUGFS)
                return vs_kvm_hook_write_hint(h->debugfs_root, vm_pid, vcpu_id, target_vcpu_id, ttl_us);
        if (vm_pid <= 0)
                return -EINVAL;
        f = hint_file_get(h, vm_pid, &r);
        if (!f)
                return r;
        if (f->fd < 0) {
                if (f->retry_usec && now_usec < f->retry_usec)
                        return -ENOENT;
                r = take_file(h->proc_root, vm_pid, f->pidfd);
                if (r < 0) {
                        f->retry_usec = now_usec + HINT_RETRY_USEC;
                        return r;
                }
                f->fd = r;
        }
        return vs_kvm_hook_write_hint_fd(f->fd, vcpu_id, target_vcpu_id, ttl_us);
}

unsigned vs_kvm_hints_gc(struct vs_kvm_hints *h) {
        unsigned closed = 0, j = 0;

        for (unsigned i = 0; i < h->n; i++) {
                struct hint_file *f = &h->files[i];

                if (syscall(SYS_pidfd_send_signal, f->pidfd, 0, NULL, 0) < 0 && errno == ESRCH) {
                        hint_file_close(f);
                        closed++;
                        continue;
                }
                h->files[j++] = *f;
        }
        h->n = j;
        return closed;
}

unsigned vs_kvm_hints_n_files(const struct vs_kvm_hints *h) {
        unsigned n = 0;

        for (unsigned i = 0; i < h->n; i++)
                n += h->files[i].fd >= 0;
        return n;
}
