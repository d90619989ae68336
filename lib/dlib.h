/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dlib.h - loading an optional shared library when first needed: dlopen()
 * of one soname and dlsym() of a fixed table of symbols into the caller's
 * function pointers, all or nothing, with the reason for a failure in words
 * (which Debian package is missing, which symbol an old version lacks).
 *
 * Why: libvirt (lib/vmwatch.c) and libmicrohttpd (daemon/metrics-server.c)
 * cost every vschedd start when linked (tens of millions of instructions of
 * symbol lookups for libvirt's sixty-odd libraries) and are needed only by
 * some runs.  No state here: each caller keeps its own "loaded" flag.
 */
#pragma once

#include <stddef.h>

struct vs_dlib_sym {
        const char *name;
        void **slot;            /* where the address goes (a function pointer, cast) */
};

/* dlopen() @soname (RTLD_NOW | RTLD_LOCAL) and resolve every one of @syms.
 * 0 when all resolved; -ENOENT when the library cannot be loaded (@err names
 * Debian package @package and dlerror()); -ENOSYS when a symbol is missing
 * (@err names it, with @too_old_hint when not NULL, e.g. "libvirt older
 * than 9.0?").  On failure no slot is left set and the library is closed. */
int vs_dlib_load(const char *soname, const char *package, const struct vs_dlib_sym *syms, size_t n,
                 const char *too_old_hint, char *err, size_t errlen);
