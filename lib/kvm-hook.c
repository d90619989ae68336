/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "kvm-hook.h"
#include "macro.h"

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

int vs_kvm_hook_probe(const char *sys_root, struct vs_kvm_hook *ret) {
        struct vs_kvm_hook h = { 0 };
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
        if (r1 > 0 && r2 > 0) {
                h.present = true;
                h.ipi = is_yes(ipi);
                h.hint = is_yes(hint);
                if (r3 > 0) {
                        char *end;
                        errno = 0;
                        h.ipi_window_ns = strtoull(win, &end, 10);
                        if (errno || end == win)
                                h.ipi_window_ns = 0;
                }
        }
        *ret = h;
        return 0;
}

bool vs_kvm_hook_active(const struct vs_kvm_hook *h) {
        return h->present && ((h->ipi && h->ipi_window_ns > 0) || h->hint);
}

struct json_object *vs_kvm_hook_json(const struct vs_kvm_hook *h) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "present", json_object_new_boolean(h->present));
        json_object_object_add(o, "active", json_object_new_boolean(vs_kvm_hook_active(h)));
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
