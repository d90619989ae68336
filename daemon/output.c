/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * output.c - vschedd's stdout (see output.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "event-json.h"
#include "json-util.h"
#include "output.h"

static struct {
        bool json, dump;
        uint64_t limit, printed;
} out;

void output_setup(bool json, bool dump, uint64_t limit) {
        out.json = json;
        out.dump = dump;
        out.limit = limit;
}

bool output_dumping(void) {
        return out.dump;
}

static int put_json(struct json_object *o) {
        int r;

        if (!o)
                return -ENOMEM;
        r = puts(vs_json_line(o, NULL));
        json_object_put(o);
        return r == EOF ? -EPIPE : 0;
}

int output_event(const struct vs_event *ev, struct vs_topology *topo) {
        char line[512];

        if (!out.dump || (out.limit && out.printed >= out.limit))
                return 0;
        out.printed++;
        if (out.json)
                return put_json(vs_event_to_json(ev, topo));
        vs_event_format(ev, topo, line, sizeof(line));
        /* stdout closed (| head): stop like a normal end of input */
        return puts(line) == EOF ? -EPIPE : 0;
}

/* The libvirt cgroup of a VM (or its vCPU) when topology knows it, else "<vm>[/vcpuK]". */
static void decision_cgroup(struct vs_topology *topo, const struct vs_decision *d, char *buf, size_t len) {
        const char *cg = NULL;

        for (unsigned i = 0; i < vs_topology_n_vms(topo); i++) {
                const struct vs_vm *vm = vs_topology_vm(topo, (int32_t) i);
                if (vm && strcmp(vm->name, d->vm) == 0 && vm->cgroup[0])
                        cg = vm->cgroup;
        }
        if (cg) {
                /* ".../libvirt/emulator" -> ".../libvirt" */
                size_t n = strlen(cg);
                const char *lv = strstr(cg, "/libvirt/");
                if (lv)
                        n = (size_t) (lv - cg) + strlen("/libvirt");
                if (d->vcpu >= 0)
                        snprintf(buf, len, "%.*s/vcpu%d", (int) n, cg, d->vcpu);
                else
                        snprintf(buf, len, "%.*s", (int) n, cg);
        } else if (d->vcpu >= 0)
                snprintf(buf, len, "%s/vcpu%d", d->vm, d->vcpu);
        else
                snprintf(buf, len, "%s", d->vm);
}

void output_decision(const struct vs_decision *d, struct vs_topology *topo) {
        char cg[512], esc[2048];

        decision_cgroup(topo, d, cg, sizeof(cg));
        if (out.json) {
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "ts_ns", json_object_new_uint64(d->ts_ns));
                json_object_object_add(o, "type", json_object_new_string("decision"));
                json_object_object_add(o, "vm", json_object_new_string(d->vm));
                json_object_object_add(o, "vcpu", d->vcpu >= 0 ? json_object_new_int(d->vcpu) : NULL);
                json_object_object_add(o, "cgroup", json_object_new_string(cg));
                json_object_object_add(o, "file", json_object_new_string(vs_knob_v2_file(d->knob)));
                json_object_object_add(o, "old", json_object_new_string(d->old));
                json_object_object_add(o, "new", json_object_new_string(d->new));
                json_object_object_add(o, "reason", json_object_new_string(d->reason));
                (void) put_json(o);
        } else
                printf("%6" PRIu64 ".%09" PRIu64 " %-28s %-13s %6s -> %-6s %s\n", (uint64_t) (d->ts_ns / 1000000000u),
                       (uint64_t) (d->ts_ns % 1000000000u), vs_escape(cg, esc, sizeof(esc)), vs_knob_v2_file(d->knob),
                       d->old, d->new, d->reason);
}

void output_report(const struct vs_analysis *an) {
        if (out.json)
                (void) put_json(vs_analysis_report_json(an));
        else
                vs_analysis_report_print(an, stdout);
        fflush(stdout);
}

void output_decisions(const struct vs_decisions *d, const struct vs_analysis *an, const struct vs_policy *pol) {
        if (out.json)
                (void) put_json(vs_decisions_json(d, an, pol));
        else
                vs_decisions_print(d, an, pol, stdout);
        fflush(stdout);
}

void output_summary(const struct vs_summary *sum, struct vs_topology *topo, const struct vs_source_stats *st) {
        if (out.json)
                (void) put_json(vs_summary_json(sum, topo, st));
        else
                vs_summary_print(sum, topo, st, stdout);
        fflush(stdout);
}

void output_flush(void) {
        fflush(stdout);
}

void output_help(const char *text) {
        fputs(text, stdout);
}

void output_version(void) {
        printf("vschedd %s\n", PACKAGE_VERSION);
}

void output_config(const struct vs_config *c) {
        (void) vs_config_print(c, stdout);
}

void output_config_ok(bool defaults) {
        printf("configuration OK%s\n", defaults ? " (no file: defaults)" : "");
}

void output_config_errors(const char *errors) {
        fprintf(stderr, "%s\n", errors);
}

void output_restored(int n) {
        printf("restored %d value(s)\n", n);
}
