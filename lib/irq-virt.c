/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fileio.h"
#include "irq-virt.h"
#include "macro.h"

static const char *const names[_VS_IRQV_MAX] = {
        [VS_IRQV_NONE] = "none",
        [VS_IRQV_SOFTWARE] = "software-lapic",
        [VS_IRQV_APICV] = "apicv-no-eoi",
        [VS_IRQV_IPIV] = "ipiv",
        [VS_IRQV_AVIC] = "avic",
};

static const char *const expect[_VS_IRQV_MAX] = {
        [VS_IRQV_NONE] = "no kvm_intel or kvm_amd module: no KVM VMs on this host",
        [VS_IRQV_SOFTWARE] = "every IPI (kvm_apic_ipi) and EOI (kvm_eoi) traps: the full IPI graph and IPI->EOI latencies",
        [VS_IRQV_APICV] = "IPIs trap (kvm_apic_ipi), EOIs of edge-triggered IPIs do not: the IPI graph without latencies",
        [VS_IRQV_IPIV] = "unicast IPIs and EOIs do not trap: waits are read from stalls (vCPUs preempted while a sibling "
                         "runs), PAUSE exits and PV yields",
        [VS_IRQV_AVIC] = "IPIs to running vCPUs and EOIs do not trap, IPIs to vCPUs not running exit as "
                         "kvm_avic_incomplete_ipi: waits are read from those, stalls, PAUSE exits and PV yields",
};

const char *vs_irq_virt_mode_name(enum vs_irq_virt_mode m) {
        return (unsigned) m < _VS_IRQV_MAX ? names[m] : "?";
}

const char *vs_irq_virt_expect(enum vs_irq_virt_mode m) {
        return (unsigned) m < _VS_IRQV_MAX ? expect[m] : "?";
}

/* One boolean module parameter: 1, 0, -1 when absent; -errno on error. */
static int param(const char *root, const char *module, const char *name, int *ret) {
        char path[512], buf[16];
        int r;

        snprintf(path, sizeof(path), "%s/module/%s/parameters/%s", root, module, name);
        r = vs_read_small(path, buf, sizeof(buf));
        if (r == -ENOENT) {
                *ret = -1;
                return 0;
        }
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = 0;
        if (strcmp(buf, "Y") == 0 || strcmp(buf, "1") == 0)
                *ret = 1;
        else if (strcmp(buf, "N") == 0 || strcmp(buf, "0") == 0)
                *ret = 0;
        else
                return -EBADMSG;
        return 0;
}

static bool loaded(const char *root, const char *module) {
        char path[512];

        snprintf(path, sizeof(path), "%s/module/%s/parameters", root, module);
        return access(path, F_OK) == 0;
}

int vs_irq_virt_probe(const char *sys_root, struct vs_irq_virt *ret) {
        struct vs_irq_virt v = { .apicv = -1, .ipiv = -1, .avic = -1, .mode = VS_IRQV_NONE };
        int r;

        if (loaded(sys_root, "kvm_intel")) {
                v.module = "kvm_intel";
                if ((r = param(sys_root, "kvm_intel", "enable_apicv", &v.apicv)) < 0 ||
                    (r = param(sys_root, "kvm_intel", "enable_ipiv", &v.ipiv)) < 0)
                        return r;
                /* enable_ipiv appeared in 5.19; without it there is no IPIv */
                v.mode = v.apicv != 1 ? VS_IRQV_SOFTWARE : v.ipiv == 1 ? VS_IRQV_IPIV : VS_IRQV_APICV;
        } else if (loaded(sys_root, "kvm_amd")) {
                v.module = "kvm_amd";
                if ((r = param(sys_root, "kvm_amd", "avic", &v.avic)) < 0)
                        return r;
                v.mode = v.avic == 1 ? VS_IRQV_AVIC : VS_IRQV_SOFTWARE;
        }
        *ret = v;
        return 0;
}

static struct json_object *tri(int v) {
        return v < 0 ? NULL : json_object_new_boolean(v);
}

struct json_object *vs_irq_virt_json(const struct vs_irq_virt *v) {
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "module", v->module ? json_object_new_string(v->module) : NULL);
        json_object_object_add(o, "apicv", tri(v->apicv));
        json_object_object_add(o, "ipiv", tri(v->ipiv));
        json_object_object_add(o, "avic", tri(v->avic));
        json_object_object_add(o, "mode", json_object_new_string(vs_irq_virt_mode_name(v->mode)));
        json_object_object_add(o, "expect", json_object_new_string(vs_irq_virt_expect(v->mode)));
        return o;
}
