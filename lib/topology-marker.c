/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * topology-marker.c - vschedd's topology markers (see topology-marker.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology-marker.h"

/* Copy the value after "key=" up to the next space (or to the end for the
 * last key, which may hold spaces: comm=CPU 0/KVM). */
static const char *find_key(const char *msg, const char *end, const char *key) {
        size_t kl = strlen(key);

        for (const char *p = msg; p && p < end; p += kl) {
                p = strstr(p, key);
                if (!p || p >= end)
                        return NULL;
                if ((p == msg || p[-1] == ' ') && p[kl] == '=')
                        return p;
        }
        return NULL;
}

static const char *marker_value(const char *msg, const char *key, bool to_end, char *buf, size_t len) {
        size_t kl = strlen(key);
        const char *comm = find_key(msg, msg + strlen(msg), "comm");
        /* comm is last and free text: every other key is looked up before it,
         * so a thread named "x vm=prod" cannot claim a VM */
        const char *p = find_key(msg, strcmp(key, "comm") == 0 || !comm ? msg + strlen(msg) : comm, key);

        if (!p)
                return NULL;
        p += kl + 1;
        size_t n = to_end ? strcspn(p, "\n") : strcspn(p, " \n");
        if (n >= len)
                n = len - 1;
        memcpy(buf, p, n);
        buf[n] = 0;
        return buf;
}

/* Undo the %XX escapes of vs_format_topology_marker() in place. */
static void unescape(char *s) {
        char *w = s;

        for (const char *r = s; *r; r++) {
                if (r[0] == '%' && isxdigit((unsigned char) r[1]) && isxdigit((unsigned char) r[2])) {
                        char hex[3] = { r[1], r[2], 0 };
                        unsigned char c = (unsigned char) strtoul(hex, NULL, 16);
                        if (c == 0)
                                c = '?';
                        *w++ = (char) c;
                        r += 2;
                } else
                        *w++ = *r;
        }
        *w = 0;
}

int vs_format_topology_marker(char *buf, size_t len, int32_t tid, int32_t tgid, int32_t apic, const char *vm,
                              const char *comm) {
        size_t n;
        int k;

        k = snprintf(buf, len, VS_TOPOLOGY_MARKER " tid=%d tgid=%d", tid, tgid);
        if (k < 0 || (size_t) k >= len)
                return -ENOBUFS;
        n = k;
        if (apic >= 0) {
                k = snprintf(buf + n, len - n, " apic=%d", apic);
                if (k < 0 || (size_t) k >= len - n)
                        return -ENOBUFS;
                n += k;
        }
        if (vm) {
                if (n + 4 >= len)
                        return -ENOBUFS;
                memcpy(buf + n, " vm=", 4);
                n += 4;
                for (const unsigned char *p = (const unsigned char *) vm; *p; p++) {
                        if (*p == '%' || *p <= ' ' || *p == 0x7f) {
                                if (n + 3 >= len)
                                        return -ENOBUFS;
                                snprintf(buf + n, 4, "%%%02x", *p);
                                n += 3;
                        } else {
                                if (n + 1 >= len)
                                        return -ENOBUFS;
                                buf[n++] = (char) *p;
                        }
                }
        }
        k = snprintf(buf + n, len - n, " comm=");
        if (k < 0 || (size_t) k >= len - n)
                return -ENOBUFS;
        n += k;
        for (const unsigned char *p = (const unsigned char *) (comm ? comm : ""); *p; p++) {
                if (n + 1 >= len)
                        return -ENOBUFS;
                buf[n++] = *p < ' ' || *p == 0x7f ? '?' : (char) *p;
        }
        if (n + 1 >= len)
                return -ENOBUFS;
        buf[n++] = '\n';
        buf[n] = 0;
        return (int) n;
}

static bool parse_int(const char *s, long min, long max, int32_t *ret) {
        char *end;
        long v;

        if (!s || !*s)
                return false;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return false;
        *ret = (int32_t) v;
        return true;
}

int vs_parse_topology_marker(const char *msg, struct vs_thread_info *ret,
                             char *vm_buf, size_t vm_len, char *comm_buf, size_t comm_len) {
        const char *p;
        char num[32];
        struct vs_thread_info ti = { .tgid = -1, .apic_id = -1 };

        if (!msg || !ret || vm_len == 0 || comm_len == 0)
                return 0;
        p = strstr(msg, VS_TOPOLOGY_MARKER);
        if (!p)
                return 0;
        p += strlen(VS_TOPOLOGY_MARKER);
        while (*p == ' ')
                p++;

        if (!parse_int(marker_value(p, "tid", false, num, sizeof(num)), 1, INT32_MAX, &ti.tid))
                return 0;
        (void) parse_int(marker_value(p, "tgid", false, num, sizeof(num)), 1, INT32_MAX, &ti.tgid);
        (void) parse_int(marker_value(p, "apic", false, num, sizeof(num)), 0, INT32_MAX, &ti.apic_id);
        if (marker_value(p, "vm", false, vm_buf, vm_len) && vm_buf[0]) {
                unescape(vm_buf);
                ti.vm_name = vm_buf;
        }
        if (marker_value(p, "comm", true, comm_buf, comm_len) && comm_buf[0])
                ti.comm = comm_buf;
        *ret = ti;
        return 1;
}
