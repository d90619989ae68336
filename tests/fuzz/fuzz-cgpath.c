/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-cgpath - vs_cg_dir(): a process's cgroup path as the kernel prints it
 * in /proc/PID/cgroup (attacker-influenced: a guest's QEMU can be placed
 * anywhere by whoever manages it, libvirt escapes VM names into scope names)
 * -> the directory whose knobs vschedd writes.
 *
 * A fake cgroup mount is built once in a scratch dir:
 *   mnt/                                       the "mount point"
 *   mnt/machine.slice/machine-qemu\x2d1\x2dweb.scope/libvirt/{emulator,vcpu0,vcpu1}
 *   mnt/machine.slice/machine-qemu\x2d2\x2d..scope/libvirt/vcpu0  (a hostile name)
 *   mnt/hybrid.scope/libvirt/vcpu0             (process in the scope itself)
 *   mnt/evil -> ../outside                     (a symlink leaving the mount)
 *   mnt/machine.slice/loop -> .                (a symlink loop)
 *   outside/libvirt/{vcpu0,emulator}           (must never be returned)
 * The first input byte picks the knob, v1/v2, the mount's hierarchy root and
 * the vCPU; the rest is the path.
 *
 * Property: on success the returned path is the mount + "/" + something,
 * resolves (realpath) below the resolved mount, is a directory, and names
 * ".../libvirt" (vcpu < 0) or ".../libvirt/vcpuK" (vcpu = K); the input path
 * itself contains no "..", "." or "//" component and no control character.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "fuzz.h"

static char mnt[PATH_MAX], real_mnt[PATH_MAX];

static void mkdirs(const char *rel) {
        char p[PATH_MAX];
        int n = snprintf(p, sizeof(p), "%s/%s", fuzz_scratch_dir(), rel);
        for (int i = (int) strlen(fuzz_scratch_dir()) + 1; i <= n; i++)
                if (p[i] == '/' || p[i] == 0) {
                        char c = p[i];
                        p[i] = 0;
                        (void) mkdir(p, 0755);
                        p[i] = c;
                }
}

static void setup(void) {
        char p[PATH_MAX];

        if (mnt[0])
                return;
        mkdirs("mnt/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator");
        mkdirs("mnt/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/vcpu0");
        mkdirs("mnt/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/vcpu1");
        mkdirs("mnt/machine.slice/machine-qemu\\x2d2\\x2d..scope/libvirt/vcpu0");
        mkdirs("mnt/hybrid.scope/libvirt/vcpu0");
        mkdirs("outside/libvirt/vcpu0");
        mkdirs("outside/libvirt/emulator");
        snprintf(p, sizeof(p), "%s/mnt/evil", fuzz_scratch_dir());
        (void) symlink("../outside", p);
        snprintf(p, sizeof(p), "%s/mnt/machine.slice/loop", fuzz_scratch_dir());
        (void) symlink(".", p);
        snprintf(mnt, sizeof(mnt), "%s/mnt", fuzz_scratch_dir());
        if (!realpath(mnt, real_mnt))
                abort();
}

static bool bad_component(const char *p) {
        if (strstr(p, "//"))
                return true;
        for (const char *c = p; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return true;
        for (const char *c = p; *c;) {
                while (*c == '/')
                        c++;
                size_t l = strcspn(c, "/");
                if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return true;
                c += l;
        }
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const roots[] = { "/", "/machine.slice", "/evil", "/machine.slice/loop" };
        struct vs_cg_host h = {};
        char path[PATH_MAX + 64], buf[PATH_MAX], real[PATH_MAX], want[32];
        enum vs_knob k;
        int vcpu, r;

        if (size < 1)
                return 0;
        setup();
        k = (enum vs_knob) (data[0] & 3);
        vcpu = (data[0] >> 4 & 3) == 3 ? -1 : (data[0] >> 4 & 3);
        snprintf(h.mount[k], sizeof(h.mount[k]), "%s", mnt);
        h.v2[k] = data[0] & 4;
        snprintf(h.root[k], sizeof(h.root[k]), "%s", roots[data[0] >> 6 & 3]);
        data++;
        size--;
        if (size >= sizeof(path))
                size = sizeof(path) - 1;
        memcpy(path, data, size);
        path[size] = 0;

        r = vs_cg_dir(&h, k, path, vcpu, buf, sizeof(buf));
        if (r < 0)
                return 0;

        size_t ml = strlen(mnt);
        FUZZ_ASSERT(strncmp(buf, mnt, ml) == 0 && buf[ml] == '/', "'%s' -> '%s': not below the mount", path, buf);
        FUZZ_ASSERT(!bad_component(path), "accepted a hostile path '%s' -> '%s'", path, buf);
        FUZZ_ASSERT(!bad_component(buf + ml), "returned a path with a hostile component '%s'", buf);
        FUZZ_ASSERT(realpath(buf, real), "'%s' -> '%s' does not resolve", path, buf);
        size_t rl = strlen(real_mnt);
        FUZZ_ASSERT(strncmp(real, real_mnt, rl) == 0 && real[rl] == '/',
                    "'%s' -> '%s' resolves to '%s', outside the mount '%s'", path, buf, real, real_mnt);
        struct stat st;
        FUZZ_ASSERT(stat(real, &st) == 0 && S_ISDIR(st.st_mode), "'%s' is not a directory", buf);
        if (vcpu >= 0)
                snprintf(want, sizeof(want), "/libvirt/vcpu%d", vcpu);
        else
                snprintf(want, sizeof(want), "/libvirt");
        size_t bl = strlen(buf), wl = strlen(want);
        FUZZ_ASSERT(bl > wl && strcmp(buf + bl - wl, want) == 0, "'%s' -> '%s' does not end in '%s'", path, buf,
                    want);
        return 0;
}
