/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dlib.c - optional shared libraries loaded when first needed (see dlib.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "dlib.h"

int vs_dlib_load(const char *soname, const char *package, const struct vs_dlib_sym *syms, size_t n,
                 const char *too_old_hint, char *err, size_t errlen) {
        void *h;

        if (!soname || (n && !syms))
                return -EINVAL;
        if (err && errlen)
                err[0] = '\0';
        h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                if (err && errlen)
                        snprintf(err, errlen, "cannot load %s%s%s%s: %s", soname, package ? " (Debian package " : "",
                                 package ? package : "", package ? ")" : "", dlerror());
                return -ENOENT;
        }
        for (size_t i = 0; i < n; i++) {
                void *a;

                (void) dlerror();
                a = dlsym(h, syms[i].name);
                if (!a) {
                        if (err && errlen)
                                snprintf(err, errlen, "%s has no %s%s%s", soname, syms[i].name,
                                         too_old_hint ? ": " : "", too_old_hint ? too_old_hint : "");
                        for (size_t k = 0; k < i; k++)
                                *syms[k].slot = NULL;
                        dlclose(h);
                        return -ENOSYS;
                }
                *syms[i].slot = a;
        }
        return 0;       /* the handle stays open for the process's life: its symbols are in use */
}
