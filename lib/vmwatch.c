/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmwatch.c - libvirt domain discovery and lifecycle events on sd-event.
 * See vmwatch.h for ownership, threading and the process-wide side effects.
 *
 * Layout:
 *   1. ev_*: libvirt's event loop implemented on sd-event (process-global,
 *      because libvirt's is);
 *   2. errors: virError -> -errno, message kept in the watcher;
 *   3. the domain table and its diff;
 *   4. connection, libvirt callbacks, reconnect with backoff;
 *   5. public API.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "macro.h"
#include "dlib.h"
#include "vmwatch.h"

#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL
#define VMWATCH_BACKOFF_MIN_USEC (1 * USEC_PER_SEC)
#define VMWATCH_BACKOFF_MAX_USEC (60 * USEC_PER_SEC)
#define VMWATCH_KEEPALIVE_INTERVAL 5    /* s; libvirtd declared dead after 5 * (1 + 3) s of silence */
#define VMWATCH_KEEPALIVE_COUNT 3

static bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ------------------------------------------------------------------ 0. libvirt, loaded when first needed
 *
 * Linked at build time, libvirt's sixty-odd libraries cost every vschedd
 * start (a --replay, a --version) about 33 M instructions of symbol lookups
 * in the dynamic linker: three times what replaying a small trace costs.
 * So the daemon dlopen()s libvirt.so.0 when it first attaches a watcher, and
 * the calls below go through this table (the macros after it). */
#define LV_FUNCS(X) \
        X(virInitialize) \
        X(virSetErrorFunc) \
        X(virEventRegisterImpl) \
        X(virGetLastError) \
        X(virResetLastError) \
        X(virDomainGetName) \
        X(virDomainGetUUIDString) \
        X(virDomainGetInfo) \
        X(virDomainGetID) \
        X(virConnectListAllDomains) \
        X(virDomainFree) \
        X(virConnectDomainEventDeregisterAny) \
        X(virConnectClose) \
        X(virConnectOpenReadOnly) \
        X(virConnectGetURI) \
        X(virConnectSetKeepAlive) \
        X(virConnectRegisterCloseCallback) \
        X(virConnectDomainEventRegisterAny) \
        X(virConnectUnregisterCloseCallback)

static struct {
#define LV_PTR(f) __typeof__(f) *f;
        LV_FUNCS(LV_PTR)
#undef LV_PTR
} lv;

static char lv_error[256];

/* 0, or -ENOENT / -ENOSYS with the reason in lv_error. */
static int lv_load(void) {
        static int state;       /* 1 loaded, < 0 failed */
        static const struct vs_dlib_sym syms[] = {
#define LV_SYM(f) { #f, (void **) &lv.f },
                LV_FUNCS(LV_SYM)
#undef LV_SYM
        };

        if (state)
                return state < 0 ? state : 0;
        state = vs_dlib_load("libvirt.so.0", "libvirt0", syms, ELEMENTSOF(syms), "libvirt older than 9.0?",
                             lv_error, sizeof(lv_error));
        if (state == 0)
                state = 1;
        return state < 0 ? state : 0;
}

#define virInitialize (*lv.virInitialize)
#define virSetErrorFunc (*lv.virSetErrorFunc)
#define virEventRegisterImpl (*lv.virEventRegisterImpl)
#define virGetLastError (*lv.virGetLastError)
#define virResetLastError (*lv.virResetLastError)
#define virDomainGetName (*lv.virDomainGetName)
#define virDomainGetUUIDString (*lv.virDomainGetUUIDString)
#define virDomainGetInfo (*lv.virDomainGetInfo)
#define virDomainGetID (*lv.virDomainGetID)
#define virConnectListAllDomains (*lv.virConnectListAllDomains)
#define virDomainFree (*lv.virDomainFree)
#define virConnectDomainEventDeregisterAny (*lv.virConnectDomainEventDeregisterAny)
#define virConnectClose (*lv.virConnectClose)
#define virConnectOpenReadOnly (*lv.virConnectOpenReadOnly)
#define virConnectGetURI (*lv.virConnectGetURI)
#define virConnectSetKeepAlive (*lv.virConnectSetKeepAlive)
#define virConnectRegisterCloseCallback (*lv.virConnectRegisterCloseCallback)
#define virConnectDomainEventRegisterAny (*lv.virConnectDomainEventRegisterAny)
#define virConnectUnregisterCloseCallback (*lv.virConnectUnregisterCloseCallback)

/* ------------------------------------------------------------------ 1. libvirt event loop on sd-event */

struct ev_entry {
        int id;
        bool is_timer;
        int fd;
        int interval_ms;                /* timers: -1 off, 0 every iteration, >0 period */
        sd_event_source *source;
        virEventHandleCallback handle_cb;
        virEventTimeoutCallback timer_cb;
        void *opaque;
        virFreeCallback ff;
        struct ev_entry *next;
};

static struct {
        bool registered;                /* virEventRegisterImpl() done (once per process) */
        sd_event *event;                /* bound loop, not referenced: the caller keeps it alive */
        unsigned n_users;               /* attached watchers */
        int next_id;
        struct ev_entry *live;
        struct ev_entry *dead;          /* removed; ff() still to run, from the reaper */
        sd_event_source *reaper;
} ev = { .next_id = 1 };

static uint32_t ev_to_epoll(int events) {
        uint32_t r = 0;

        if (events & VIR_EVENT_HANDLE_READABLE)
                r |= EPOLLIN;
        if (events & VIR_EVENT_HANDLE_WRITABLE)
                r |= EPOLLOUT;
        return r;
}

static int ev_from_epoll(uint32_t revents) {
        int r = 0;

        if (revents & (EPOLLIN | EPOLLPRI))
                r |= VIR_EVENT_HANDLE_READABLE;
        if (revents & EPOLLOUT)
                r |= VIR_EVENT_HANDLE_WRITABLE;
        if (revents & EPOLLERR)
                r |= VIR_EVENT_HANDLE_ERROR;
        if (revents & (EPOLLHUP | EPOLLRDHUP))
                r |= VIR_EVENT_HANDLE_HANGUP;
        return r;
}

static struct ev_entry *ev_find(int id, bool is_timer) {
        for (struct ev_entry *x = ev.live; x; x = x->next)
                if (x->id == id && x->is_timer == is_timer)
                        return x;
        return NULL;
}

static void ev_reap(void) {
        while (ev.dead) {
                struct ev_entry *x = ev.dead;

                ev.dead = x->next;
                if (x->ff)
                        x->ff(x->opaque);
                free(x);
        }
}

static int ev_on_reap(sd_event_source *s, void *userdata) {
        ev_reap();
        return 0;
}

/* libvirt forbids calling ff() from inside the Remove function: defer it. */
static int ev_retire(struct ev_entry *x) {
        struct ev_entry **p;

        for (p = &ev.live; *p && *p != x; p = &(*p)->next)
                ;
        if (!*p)
                return -1;
        *p = x->next;
        x->source = sd_event_source_disable_unref(x->source);
        x->next = ev.dead;
        ev.dead = x;
        if (ev.reaper)
                (void) sd_event_source_set_enabled(ev.reaper, SD_EVENT_ONESHOT);
        return 0;
}

static int ev_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct ev_entry *x = userdata;

        /* x stays allocated even if the callback removes it (ff and free are deferred) */
        x->handle_cb(x->id, fd, ev_from_epoll(revents), x->opaque);
        return 0;
}

static void ev_timer_arm(struct ev_entry *x) {
        uint64_t now = 0;

        if (x->interval_ms < 0) {
                (void) sd_event_source_set_enabled(x->source, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_now(ev.event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(x->source, now + (uint64_t) x->interval_ms * USEC_PER_MSEC);
        (void) sd_event_source_set_enabled(x->source, SD_EVENT_ON);
}

static int ev_on_time(sd_event_source *s, uint64_t usec, void *userdata) {
        struct ev_entry *x = userdata;

        ev_timer_arm(x);                /* before the callback, which may update or remove it */
        x->timer_cb(x->id, x->opaque);
        return 0;
}

static int ev_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff) {
        struct ev_entry *x;
        int r;

        if (!ev.event)
                return -1;
        x = calloc(1, sizeof(*x));
        if (!x)
                return -1;
        *x = (struct ev_entry) {
                .id = ev.next_id++,
                .fd = fd,
                .handle_cb = cb,
                .opaque = opaque,
                .ff = ff,
        };
        r = sd_event_add_io(ev.event, &x->source, fd, ev_to_epoll(events), ev_on_io, x);
        if (r < 0) {
                free(x);
                return -1;
        }
        (void) sd_event_source_set_description(x->source, "vmwatch-lv-io");
        if (events == 0)
                (void) sd_event_source_set_enabled(x->source, SD_EVENT_OFF);
        x->next = ev.live;
        ev.live = x;
        return x->id;
}

static void ev_update_handle(int watch, int events) {
        struct ev_entry *x = ev_find(watch, false);

        if (!x)
                return;
        if (events == 0) {
                (void) sd_event_source_set_enabled(x->source, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_io_events(x->source, ev_to_epoll(events));
        (void) sd_event_source_set_enabled(x->source, SD_EVENT_ON);
}

static int ev_remove_handle(int watch) {
        struct ev_entry *x = ev_find(watch, false);

        return x ? ev_retire(x) : -1;
}

static int ev_add_timeout(int interval_ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff) {
        struct ev_entry *x;
        int r;

        if (!ev.event)
                return -1;
        x = calloc(1, sizeof(*x));
        if (!x)
                return -1;
        *x = (struct ev_entry) {
                .id = ev.next_id++,
                .is_timer = true,
                .fd = -1,
                .interval_ms = interval_ms,
                .timer_cb = cb,
                .opaque = opaque,
                .ff = ff,
        };
        /* accuracy 1 us: libvirt's 0 ms timeouts mean "next iteration" */
        r = sd_event_add_time(ev.event, &x->source, CLOCK_MONOTONIC, 0, 1, ev_on_time, x);
        if (r < 0) {
                free(x);
                return -1;
        }
        (void) sd_event_source_set_description(x->source, "vmwatch-lv-timer");
        ev_timer_arm(x);
        x->next = ev.live;
        ev.live = x;
        return x->id;
}

static void ev_update_timeout(int timer, int interval_ms) {
        struct ev_entry *x = ev_find(timer, true);

        if (!x)
                return;
        x->interval_ms = interval_ms;
        ev_timer_arm(x);
}

static int ev_remove_timeout(int timer) {
        struct ev_entry *x = ev_find(timer, true);

        return x ? ev_retire(x) : -1;
}

static void ev_silent_error(void *userdata, virErrorPtr error) {
        /* errors are returned to the caller, with the message, by vmwatch_error() */
}

static int ev_bind(sd_event *e) {
        int r;

        if (ev.event && ev.event != e)
                return -EBUSY;
        if (!ev.registered) {
                if (virInitialize() < 0)
                        return -EIO;
                virSetErrorFunc(NULL, ev_silent_error);
                virEventRegisterImpl(ev_add_handle, ev_update_handle, ev_remove_handle,
                                     ev_add_timeout, ev_update_timeout, ev_remove_timeout);
                ev.registered = true;
        }
        if (!ev.event) {
                if (ev.live)            /* sources of a previous loop still alive */
                        return -EBUSY;
                r = sd_event_add_defer(e, &ev.reaper, ev_on_reap, NULL);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(ev.reaper, "vmwatch-lv-reaper");
                (void) sd_event_source_set_enabled(ev.reaper, SD_EVENT_OFF);
                ev.event = e;
        }
        ev.n_users++;
        return 0;
}

static void ev_unbind(void) {
        if (ev.n_users == 0 || --ev.n_users > 0)
                return;
        /* Sources libvirt still holds (a connection leaked by someone else) are
         * cut loose: their fds and timers stop being served. */
        while (ev.live)
                (void) ev_retire(ev.live);
        ev_reap();
        ev.reaper = sd_event_source_disable_unref(ev.reaper);
        ev.event = NULL;
}

/* ------------------------------------------------------------------ 2. errors */

struct vs_vmwatch {
        char *uri;                      /* as configured; NULL = qemu:///system */
        char *conn_uri;                 /* canonical, from virConnectGetURI() */
        char *pid_dir;
        bool pid_dir_set;               /* set by vs_vmwatch_set_pid_dir(), else derived from the URI */

        sd_event *event;
        sd_event_source *retry;         /* teardown after a close, then reconnect attempts */
        uint64_t backoff_usec;
        vs_vmwatch_cb cb;
        void *userdata;

        virConnectPtr conn;
        int cb_ids[4];                  /* lifecycle, tunable, device added, device removed; -1 = none */
        bool lost;                      /* close callback fired, teardown pending */

        struct vs_vm_info *vms;
        size_t n_vms;

        int last_errno;
        char last_error[512];
};

static int vir_error_to_errno(const virError *err) {
        if (!err)
                return -EIO;
        switch (err->code) {
        case VIR_ERR_OK:
                return -EIO;            /* failure without an error: still a failure */
        case VIR_ERR_NO_MEMORY:
                return -ENOMEM;
        case VIR_ERR_SYSTEM_ERROR:
                return err->int1 > 0 ? -err->int1 : -EIO;
        case VIR_ERR_NO_DOMAIN:
                return -ENOENT;
        case VIR_ERR_NO_SUPPORT:
        case VIR_ERR_OPERATION_UNSUPPORTED:
                return -EOPNOTSUPP;
        case VIR_ERR_NO_CONNECT:
                return -EPROTONOSUPPORT;
        case VIR_ERR_INVALID_CONN:
                return -ENOTCONN;
        case VIR_ERR_AUTH_FAILED:
        case VIR_ERR_AUTH_CANCELLED:
        case VIR_ERR_AUTH_UNAVAILABLE:
        case VIR_ERR_OPERATION_DENIED:
        case VIR_ERR_ACCESS_DENIED:
                return -EACCES;
        case VIR_ERR_OPERATION_TIMEOUT:
                return -ETIMEDOUT;
        case VIR_ERR_INVALID_ARG:
        case VIR_ERR_OPERATION_INVALID:
        case VIR_ERR_XML_ERROR:
        case VIR_ERR_XML_DETAIL:
                return -EINVAL;
        default:
                return -EIO;
        }
}

/* Map libvirt's last error of this thread to -errno, keep its message, reset it. */
static int vmwatch_error(struct vs_vmwatch *w, const char *what) {
        virErrorPtr err = virGetLastError();
        int r = vir_error_to_errno(err);

        w->last_errno = r;
        (void) snprintf(w->last_error, sizeof(w->last_error), "%s: %s", what,
                        err && err->message ? err->message : strerror(-r));
        virResetLastError();
        return r;
}

/* ------------------------------------------------------------------ 3. domain table */

static enum vs_vm_state vm_state_from_virt(int s) {
        switch (s) {
        case VIR_DOMAIN_RUNNING:
        case VIR_DOMAIN_BLOCKED:
                return VS_VM_STATE_RUNNING;
        case VIR_DOMAIN_PAUSED:
        case VIR_DOMAIN_PMSUSPENDED:
                return VS_VM_STATE_PAUSED;
        case VIR_DOMAIN_SHUTDOWN:
                return VS_VM_STATE_SHUTDOWN;
        case VIR_DOMAIN_CRASHED:
                return VS_VM_STATE_CRASHED;
        default:
                return VS_VM_STATE_OTHER;
        }
}

static pid_t vm_read_pid(const struct vs_vmwatch *w, const char *name) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        long long pid;

        if (!w->pid_dir || strchr(name, '/'))
                return 0;
        if (asprintf(&path, "%s/%s.pid", w->pid_dir, name) < 0)
                return 0;
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "%lld", &pid) != 1 || pid <= 0 || pid > INT32_MAX)
                return 0;
        return (pid_t) pid;
}

static int vm_info_from_domain(struct vs_vmwatch *w, virDomainPtr dom, struct vs_vm_info *ret) {
        struct vs_vm_info vm = {};
        virDomainInfo info;
        const char *name;
        unsigned id;

        name = virDomainGetName(dom);
        if (!name)
                return vmwatch_error(w, "virDomainGetName");
        (void) snprintf(vm.name, sizeof(vm.name), "%s", name);
        if (virDomainGetUUIDString(dom, vm.uuid) < 0)
                return vmwatch_error(w, "virDomainGetUUIDString");
        if (virDomainGetInfo(dom, &info) < 0)
                return vmwatch_error(w, "virDomainGetInfo");
        id = virDomainGetID(dom);
        vm.id = id == (unsigned) -1 ? -1 : (int) id;
        vm.nvcpus = info.nrVirtCpu;
        vm.state = vm_state_from_virt(info.state);
        vm.pid = vm_read_pid(w, vm.name);
        *ret = vm;
        return 0;
}

static struct vs_vm_info *vm_find(struct vs_vm_info *vms, size_t n, const char *uuid) {
        for (size_t i = 0; i < n; i++)
                if (streq(vms[i].uuid, uuid))
                        return &vms[i];
        return NULL;
}

static void vm_emit(struct vs_vmwatch *w, const struct vs_vm_info *vm, enum vs_vm_change c) {
        struct vs_vm_info copy;

        if (!w->cb)
                return;
        if (vm) {
                copy = *vm;             /* the table may change under the callback */
                vm = &copy;
        }
        w->cb(w, vm, c, w->userdata);
}

static int vm_table_add(struct vs_vmwatch *w, const struct vs_vm_info *vm) {
        struct vs_vm_info *n;

        n = reallocarray(w->vms, w->n_vms + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        w->vms = n;
        w->vms[w->n_vms++] = *vm;
        return 0;
}

static void vm_table_remove(struct vs_vmwatch *w, struct vs_vm_info *vm) {
        size_t i = (size_t) (vm - w->vms);

        memmove(&w->vms[i], &w->vms[i + 1], (w->n_vms - i - 1) * sizeof(*vm));
        w->n_vms--;
}

/* Read every active domain.  A domain that vanishes while we look is skipped. */
static int vm_list_all(struct vs_vmwatch *w, struct vs_vm_info **ret, size_t *ret_n) {
        virDomainPtr *doms = NULL;
        _cleanup_free_ struct vs_vm_info *vms = NULL;
        size_t n = 0;
        int k, r = 0;

        k = virConnectListAllDomains(w->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (k < 0)
                return vmwatch_error(w, "virConnectListAllDomains");
        if (k > 0) {
                vms = calloc((size_t) k, sizeof(*vms));
                if (!vms)
                        r = -ENOMEM;
        }
        for (int i = 0; i < k; i++) {
                if (r >= 0) {
                        int q = vm_info_from_domain(w, doms[i], &vms[n]);

                        if (q == -ENOMEM)
                                r = q;
                        else if (q >= 0)
                                n++;    /* other failures: gone meanwhile, ignored */
                }
                virDomainFree(doms[i]);
        }
        free(doms);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(vms);
        *ret_n = n;
        return 0;
}

/* Replace the table with a fresh list and report the differences. */
static int vm_resync(struct vs_vmwatch *w) {
        _cleanup_free_ struct vs_vm_info *old = NULL, *fresh = NULL;
        size_t n_old, n_fresh = 0;
        int r, changes = 0;

        r = vm_list_all(w, &fresh, &n_fresh);
        if (r < 0)
                return r;
        /* the table gets a copy: a callback may call vs_vmwatch_refresh() and replace it */
        if (n_fresh > 0) {
                struct vs_vm_info *table = calloc(n_fresh, sizeof(*table));

                if (!table)
                        return -ENOMEM;
                memcpy(table, fresh, n_fresh * sizeof(*table));
                old = w->vms;
                w->vms = table;
        } else {
                old = w->vms;
                w->vms = NULL;
        }
        n_old = w->n_vms;
        w->n_vms = n_fresh;

        for (size_t i = 0; i < n_old; i++)
                if (!vm_find(fresh, n_fresh, old[i].uuid)) {
                        vm_emit(w, &old[i], VS_VM_STOPPED);
                        changes++;
                }
        for (size_t i = 0; i < n_fresh; i++) {
                struct vs_vm_info now = fresh[i];
                const struct vs_vm_info *was = vm_find(old, n_old, now.uuid);

                if (!was) {
                        vm_emit(w, &now, VS_VM_STARTED);
                        changes++;
                        continue;
                }
                if (was->nvcpus != now.nvcpus) {
                        vm_emit(w, &now, VS_VM_VCPUS_CHANGED);
                        changes++;
                }
                if (was->state != now.state) {
                        vm_emit(w, &now, VS_VM_STATE_CHANGED);
                        changes++;
                }
        }
        return changes;
}

/* ------------------------------------------------------------------ 4. connection and callbacks */

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        struct vs_vmwatch *w = opaque;
        struct vs_vm_info vm, *known;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (virDomainGetUUIDString(dom, uuid) < 0) {
                (void) vmwatch_error(w, "virDomainGetUUIDString");
                return 0;
        }
        known = vm_find(w->vms, w->n_vms, uuid);

        switch (event) {
        case VIR_DOMAIN_EVENT_STOPPED:
                if (!known)
                        return 0;
                vm = *known;            /* the last we knew, PID included */
                vm_table_remove(w, known);
                vm_emit(w, &vm, detail == VIR_DOMAIN_EVENT_STOPPED_MIGRATED ? VS_VM_MIGRATED : VS_VM_STOPPED);
                return 0;

        case VIR_DOMAIN_EVENT_STARTED:
        case VIR_DOMAIN_EVENT_RESUMED:
        case VIR_DOMAIN_EVENT_SUSPENDED:
        case VIR_DOMAIN_EVENT_PMSUSPENDED:
        case VIR_DOMAIN_EVENT_SHUTDOWN:
        case VIR_DOMAIN_EVENT_CRASHED:
                if (vm_info_from_domain(w, dom, &vm) < 0)
                        return 0;       /* gone again; its STOPPED event follows */
                if (!known) {
                        if (vm.id < 0)  /* an inactive domain (e.g. crashed while defined only) */
                                return 0;
                        if (vm_table_add(w, &vm) < 0) {
                                w->last_errno = -ENOMEM;
                                return 0;
                        }
                        vm_emit(w, &vm, VS_VM_STARTED);
                        return 0;
                }
                if (known->state != vm.state || known->nvcpus != vm.nvcpus || known->pid != vm.pid) {
                        bool state = known->state != vm.state, vcpus = known->nvcpus != vm.nvcpus;

                        *known = vm;
                        if (vcpus)
                                vm_emit(w, &vm, VS_VM_VCPUS_CHANGED);
                        if (state)
                                vm_emit(w, &vm, VS_VM_STATE_CHANGED);
                }
                return 0;

        default:                        /* DEFINED, UNDEFINED: not running, not ours */
                return 0;
        }
}

/* Tunable and device events: the vCPU count may have changed (hotplug). */
static void vcpus_maybe_changed(struct vs_vmwatch *w, virDomainPtr dom) {
        struct vs_vm_info vm, *known;

        if (vm_info_from_domain(w, dom, &vm) < 0)
                return;
        known = vm_find(w->vms, w->n_vms, vm.uuid);
        if (!known || known->nvcpus == vm.nvcpus)
                return;
        *known = vm;
        vm_emit(w, &vm, VS_VM_VCPUS_CHANGED);
}

static void on_tunable(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params, int nparams, void *opaque) {
        vcpus_maybe_changed(opaque, dom);
}

static void on_device(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque) {
        vcpus_maybe_changed(opaque, dom);
}

static void conn_drop(struct vs_vmwatch *w) {
        if (!w->conn)
                return;
        for (size_t i = 0; i < ELEMENTSOF(w->cb_ids); i++)
                if (w->cb_ids[i] >= 0) {
                        /* on a dead connection the local part is removed, the RPC fails: fine */
                        (void) virConnectDomainEventDeregisterAny(w->conn, w->cb_ids[i]);
                        w->cb_ids[i] = -1;
                }
        virResetLastError();
        (void) virConnectClose(w->conn);
        virResetLastError();
        w->conn = NULL;
        w->conn_uri = mfree(w->conn_uri);
}

static void on_conn_closed(virConnectPtr conn, int reason, void *opaque);

static void derive_pid_dir(struct vs_vmwatch *w) {
        const char *u = w->conn_uri;
        const char *rt;

        if (w->pid_dir_set)
                return;
        w->pid_dir = mfree(w->pid_dir);
        if (!u)
                return;
        /* local transports only: a remote host's PIDs mean nothing here */
        if (streq(u, "qemu:///system") || startswith(u, "qemu+unix:///system"))
                w->pid_dir = strdup("/run/libvirt/qemu");
        else if ((streq(u, "qemu:///session") || startswith(u, "qemu+unix:///session")) &&
                 (rt = getenv("XDG_RUNTIME_DIR")) && *rt)
                if (asprintf(&w->pid_dir, "%s/libvirt/qemu/run", rt) < 0)
                        w->pid_dir = NULL;      /* no PIDs then; not worth failing the connection */
}

/* Open, register, list.  On failure everything is undone and -errno returned. */
static int conn_open(struct vs_vmwatch *w) {
        static const int ids[] = {
                VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_ID_TUNABLE,
                VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
        };
        virConnectDomainEventGenericCallback cbs[] = {
                VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), VIR_DOMAIN_EVENT_CALLBACK(on_tunable),
                VIR_DOMAIN_EVENT_CALLBACK(on_device), VIR_DOMAIN_EVENT_CALLBACK(on_device),
        };
        char *u;
        int r;

        w->conn = virConnectOpenReadOnly(w->uri ? w->uri : "qemu:///system");
        if (!w->conn)
                return vmwatch_error(w, "virConnectOpenReadOnly");
        u = virConnectGetURI(w->conn);
        if (!u) {
                r = vmwatch_error(w, "virConnectGetURI");
                goto fail;
        }
        w->conn_uri = u;
        derive_pid_dir(w);

        /* detect a hung libvirtd; unsupported by in-process drivers (test:///), ignored */
        if (virConnectSetKeepAlive(w->conn, VMWATCH_KEEPALIVE_INTERVAL, VMWATCH_KEEPALIVE_COUNT) < 0)
                virResetLastError();

        if (virConnectRegisterCloseCallback(w->conn, on_conn_closed, w, NULL) < 0) {
                r = vmwatch_error(w, "virConnectRegisterCloseCallback");
                goto fail;
        }
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                w->cb_ids[i] = virConnectDomainEventRegisterAny(w->conn, NULL, ids[i], cbs[i], w, NULL);
                if (w->cb_ids[i] < 0) {
                        r = vmwatch_error(w, "virConnectDomainEventRegisterAny");
                        if (i == 0)
                                goto fail;      /* lifecycle events are the point */
                        w->last_errno = 0;      /* the vCPU ones are best effort */
                }
        }
        w->lost = false;
        return 0;
fail:
        (void) virConnectUnregisterCloseCallback(w->conn, on_conn_closed);
        conn_drop(w);
        return r;
}

static void retry_arm(struct vs_vmwatch *w, uint64_t usec) {
        (void) sd_event_source_set_time_relative(w->retry, usec);
        (void) sd_event_source_set_enabled(w->retry, SD_EVENT_ONESHOT);
}

/* libvirt calls this from inside its own I/O handling: only flag and defer. */
static void on_conn_closed(virConnectPtr conn, int reason, void *opaque) {
        struct vs_vmwatch *w = opaque;

        if (conn != w->conn || w->lost)
                return;
        w->lost = true;
        w->last_errno = -ECONNRESET;
        (void) snprintf(w->last_error, sizeof(w->last_error), "connection to libvirt closed (%s)",
                        reason == VIR_CONNECT_CLOSE_REASON_EOF ? "EOF" :
                        reason == VIR_CONNECT_CLOSE_REASON_KEEPALIVE ? "keepalive timeout" :
                        reason == VIR_CONNECT_CLOSE_REASON_CLIENT ? "closed by client" : "error");
        retry_arm(w, 0);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        struct vs_vmwatch *w = userdata;
        int r;

        if (w->conn) {
                /* the close callback fired: tear down, report, retry after the first backoff */
                (void) virConnectUnregisterCloseCallback(w->conn, on_conn_closed);
                conn_drop(w);
                w->backoff_usec = VMWATCH_BACKOFF_MIN_USEC;
                retry_arm(w, w->backoff_usec);
                vm_emit(w, NULL, VS_VM_DISCONNECTED);
                return 0;
        }

        r = conn_open(w);
        if (r < 0) {
                w->backoff_usec = w->backoff_usec * 2 > VMWATCH_BACKOFF_MAX_USEC ?
                                  VMWATCH_BACKOFF_MAX_USEC : w->backoff_usec * 2;
                retry_arm(w, w->backoff_usec);
                return 0;
        }
        w->backoff_usec = VMWATCH_BACKOFF_MIN_USEC;
        vm_emit(w, NULL, VS_VM_RECONNECTED);
        if (w->conn && !w->lost)        /* the callback may have seen another close */
                (void) vm_resync(w);
        return 0;
}

/* ------------------------------------------------------------------ 5. public API */

int vs_vmwatch_new(const char *uri, struct vs_vmwatch **ret) {
        struct vs_vmwatch *w;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(w->cb_ids); i++)
                w->cb_ids[i] = -1;
        w->backoff_usec = VMWATCH_BACKOFF_MIN_USEC;
        if (uri) {
                w->uri = strdup(uri);
                if (!w->uri) {
                        free(w);
                        return -ENOMEM;
                }
        }
        *ret = w;
        return 0;
}

int vs_vmwatch_set_pid_dir(struct vs_vmwatch *w, const char *dir) {
        char *d = NULL;

        if (dir) {
                d = strdup(dir);
                if (!d)
                        return -ENOMEM;
        }
        free(w->pid_dir);
        w->pid_dir = d;
        w->pid_dir_set = true;
        return 0;
}

int vs_vmwatch_attach(struct vs_vmwatch *w, sd_event *e, vs_vmwatch_cb cb, void *userdata) {
        struct vs_vm_info *vms = NULL;
        size_t n = 0;
        int r;

        if (w->event)
                return -EBUSY;
        r = lv_load();
        if (r < 0) {
                w->last_errno = r;
                (void) snprintf(w->last_error, sizeof(w->last_error), "%s", lv_error);
                return r;
        }
        r = ev_bind(e);
        if (r < 0)
                return r;
        r = sd_event_add_time(e, &w->retry, CLOCK_MONOTONIC, 0, 100 * USEC_PER_MSEC, on_retry, w);
        if (r < 0) {
                ev_unbind();
                return r;
        }
        (void) sd_event_source_set_description(w->retry, "vmwatch-reconnect");
        (void) sd_event_source_set_enabled(w->retry, SD_EVENT_OFF);
        w->event = e;
        w->cb = cb;
        w->userdata = userdata;

        r = conn_open(w);
        if (r == -ENOMEM)
                goto fail;
        if (r < 0) {
                retry_arm(w, w->backoff_usec);
                return 0;
        }
        r = vm_list_all(w, &vms, &n);
        if (r == -ENOMEM)
                goto fail;
        if (r < 0) {
                /* connected but cannot list: treat as a lost connection */
                (void) virConnectUnregisterCloseCallback(w->conn, on_conn_closed);
                conn_drop(w);
                retry_arm(w, w->backoff_usec);
                return 0;
        }
        w->vms = vms;
        w->n_vms = n;
        return 1;
fail:
        if (w->conn) {
                (void) virConnectUnregisterCloseCallback(w->conn, on_conn_closed);
                conn_drop(w);
        }
        w->retry = sd_event_source_disable_unref(w->retry);
        w->event = NULL;
        ev_unbind();
        return r;
}

int vs_vmwatch_list(struct vs_vmwatch *w, struct vs_vm_info **ret, size_t *ret_n) {
        struct vs_vm_info *copy = NULL;

        if (w->n_vms > 0) {
                copy = calloc(w->n_vms, sizeof(*copy));
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, w->vms, w->n_vms * sizeof(*copy));
        }
        *ret = copy;
        *ret_n = w->n_vms;
        return 0;
}

int vs_vmwatch_refresh(struct vs_vmwatch *w) {
        if (!w->conn || w->lost)
                return -ENOTCONN;
        return vm_resync(w);
}

int vs_vmwatch_is_connected(const struct vs_vmwatch *w) {
        return w->conn && !w->lost;
}

const char *vs_vmwatch_uri(const struct vs_vmwatch *w) {
        return w->conn_uri ? w->conn_uri : w->uri ? w->uri : "qemu:///system";
}

const char *vs_vmwatch_last_error(const struct vs_vmwatch *w, int *ret_errno) {
        if (ret_errno)
                *ret_errno = w->last_errno;
        return w->last_error;
}

const char *vs_vm_change_to_string(enum vs_vm_change c) {
        static const char *const t[] = {
                [VS_VM_STARTED] = "started",
                [VS_VM_STOPPED] = "stopped",
                [VS_VM_MIGRATED] = "migrated",
                [VS_VM_VCPUS_CHANGED] = "vcpus-changed",
                [VS_VM_STATE_CHANGED] = "state-changed",
                [VS_VM_DISCONNECTED] = "disconnected",
                [VS_VM_RECONNECTED] = "reconnected",
        };

        return (unsigned) c < ELEMENTSOF(t) ? t[c] : "unknown";
}

const char *vs_vm_state_to_string(enum vs_vm_state s) {
        static const char *const t[] = {
                [VS_VM_STATE_OTHER] = "other",
                [VS_VM_STATE_RUNNING] = "running",
                [VS_VM_STATE_PAUSED] = "paused",
                [VS_VM_STATE_SHUTDOWN] = "shutdown",
                [VS_VM_STATE_CRASHED] = "crashed",
        };

        return (unsigned) s < ELEMENTSOF(t) ? t[s] : "unknown";
}

struct vs_vmwatch *vs_vmwatch_free(struct vs_vmwatch *w) {
        if (!w)
                return NULL;
        if (w->conn) {
                (void) virConnectUnregisterCloseCallback(w->conn, on_conn_closed);
                conn_drop(w);
        }
        if (w->event) {
                w->retry = sd_event_source_disable_unref(w->retry);
                ev_unbind();
        }
        free(w->vms);
        free(w->pid_dir);
        free(w->conn_uri);
        free(w->uri);
        free(w);
        return NULL;
}

/* (test-vmwatch.c includes this file and calls libvirt itself) */
#undef virInitialize
#undef virSetErrorFunc
#undef virEventRegisterImpl
#undef virGetLastError
#undef virResetLastError
#undef virDomainGetName
#undef virDomainGetUUIDString
#undef virDomainGetInfo
#undef virDomainGetID
#undef virConnectListAllDomains
#undef virDomainFree
#undef virConnectDomainEventDeregisterAny
#undef virConnectClose
#undef virConnectOpenReadOnly
#undef virConnectGetURI
#undef virConnectSetKeepAlive
#undef virConnectRegisterCloseCallback
#undef virConnectDomainEventRegisterAny
#undef virConnectUnregisterCloseCallback
