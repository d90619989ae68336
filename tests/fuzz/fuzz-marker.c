/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-marker - the vschedd topology marker written by `vschedd --record`
 * (vs_format_topology_marker) and read back by every replay
 * (vs_parse_topology_marker).
 *
 * Two properties:
 *  1. parsing arbitrary text never crashes and yields bounded strings;
 *  2. round trip: the input is split into (tid, tgid, apic, vm, comm); what
 *     the formatter writes, the parser reads back equal: same tid, tgid and
 *     apic (or none), the same VM name (or none), and comm with control
 *     characters as '?' (the documented lossy part).
 */
#include <string.h>

#include "fuzz.h"
#include "source.h"

static void parse_raw(const uint8_t *data, size_t size) {
        char *msg = malloc(size + 1);
        char vm[64], comm[32];
        struct vs_thread_info ti;

        if (!msg)
                return;
        memcpy(msg, data, size);
        msg[size] = 0;
        if (vs_parse_topology_marker(msg, &ti, vm, sizeof(vm), comm, sizeof(comm)) == 1) {
                FUZZ_ASSERT(ti.tid > 0, "tid %d", ti.tid);
                FUZZ_ASSERT(!ti.vm_name || strlen(ti.vm_name) < sizeof(vm), "vm overflow");
                FUZZ_ASSERT(!ti.comm || strlen(ti.comm) < sizeof(comm), "comm overflow");
        }
        free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char vm_in[128], comm_in[64], buf[1024], vm[3 * 128 + 1], comm[128], want_comm[64];
        struct vs_thread_info ti;
        int32_t tid, tgid, apic;
        size_t vl, cl;
        uint8_t flags;

        parse_raw(data, size);

        /* layout: 4 tid, 4 tgid, 4 apic, 1 flags, 1 vm length, then vm bytes, rest comm */
        if (size < 14)
                return 0;
        memcpy(&tid, data, 4);
        memcpy(&tgid, data + 4, 4);
        memcpy(&apic, data + 8, 4);
        flags = data[12];
        vl = data[13];
        data += 14;
        size -= 14;
        if (tid <= 0 || tgid <= 0)
                return 0;               /* the recorder only writes real ids */
        if (vl > size)
                vl = size;
        if (vl >= sizeof(vm_in))
                vl = sizeof(vm_in) - 1;
        memcpy(vm_in, data, vl);
        vm_in[vl] = 0;
        cl = size - vl;
        if (cl >= sizeof(comm_in))
                cl = sizeof(comm_in) - 1;
        memcpy(comm_in, data + vl, cl);
        comm_in[cl] = 0;
        if (!(flags & 1))
                apic = -1;
        else
                apic &= INT32_MAX;

        int n = vs_format_topology_marker(buf, sizeof(buf), tid, tgid, apic, (flags & 2) ? vm_in : NULL, comm_in);
        FUZZ_ASSERT(n > 0, "format failed: %d", n);
        FUZZ_ASSERT((size_t) n == strlen(buf) && buf[n - 1] == '\n',
                    "bad length/termination");
        FUZZ_ASSERT(strchr(buf, '\n') == buf + n - 1, "marker is not one line: '%s'", buf);

        FUZZ_ASSERT(vs_parse_topology_marker(buf, &ti, vm, sizeof(vm), comm, sizeof(comm)) == 1,
                    "own marker not recognised: '%s'", buf);
        FUZZ_ASSERT(ti.tid == tid, "tid %d != %d in '%s'", ti.tid, tid, buf);
        FUZZ_ASSERT(ti.tgid == tgid, "tgid %d != %d in '%s'", ti.tgid, tgid, buf);
        FUZZ_ASSERT(ti.apic_id == apic, "apic %d != %d in '%s'", ti.apic_id, apic, buf);
        if ((flags & 2) && vm_in[0])
                FUZZ_ASSERT(ti.vm_name && strcmp(ti.vm_name, vm_in) == 0, "vm '%s' != '%s' in '%s'",
                            ti.vm_name ? ti.vm_name : "(none)", vm_in, buf);
        else
                FUZZ_ASSERT(!ti.vm_name, "vm '%s' appeared from '%s'", ti.vm_name, buf);

        for (size_t i = 0; i <= cl; i++) {
                unsigned char c = (unsigned char) comm_in[i];
                want_comm[i] = c && (c < ' ' || c == 0x7f) ? '?' : (char) c;
        }
        if (want_comm[0])
                FUZZ_ASSERT(ti.comm && strcmp(ti.comm, want_comm) == 0, "comm '%s' != '%s' in '%s'",
                            ti.comm ? ti.comm : "(none)", want_comm, buf);
        else
                FUZZ_ASSERT(!ti.comm, "comm '%s' appeared from '%s'", ti.comm, buf);
        return 0;
}
