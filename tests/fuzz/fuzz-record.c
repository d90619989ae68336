/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-record - the binary record path we own, in process: raw trace records
 * (as the live ring buffer and a .dat file hand them over) through
 * tep-decode.c against real kernels' event formats, then topology (markers,
 * comms) and analysis on the decoded events.
 *
 * fuzz-dat feeds whole .dat files, but libtracecmd parses those, and each
 * open costs a throwaway child (lib/source-dat.c), so it runs at ~150 inputs
 * a second.  This target reaches the code that decides what a hostile record
 * means (field offsets and sizes, __data_loc strings, byte order, unknown
 * ids, short records, topology markers in ftrace:print) a hundred times
 * faster, with the formats loaded once at start.
 *
 * Formats (the first input byte picks one):
 *  0  tests/data/formats (kernel 6.18 plus the kernel/ patch's
 *     kvm_directed_yield), little endian;
 *  1  the same formats read as a big-endian file (every field byte-swapped);
 *  2  the formats inside tests/data/testbed/2to1-trace-cmd.dat (the testbed's
 *     L1 kernel, written by trace-cmd: another kernel's layout).
 * Then records: u8 cpu, u8 event (< number of known events: its id is
 * written into common_type; else the payload's own common_type stands),
 * u16 timestamp delta (us), u16 payload length (mod 1024), payload.
 *
 * Properties beyond "no crash, no sanitizer report":
 *  - every decoded event renders as one line (vs_event_format) and as JSON
 *    that json-c parses back (vs_event_to_json);
 *  - the stats add up: every record is counted, every decoded one as an
 *    event, and events + unknown + malformed + filtered <= records (the rest
 *    only taught topology: comms, markers);
 *  - malformed records leave an error text naming the first one.
 * The JSON check runs on every input, or one in VSCHEDD_FUZZ_SAMPLE (fuzz.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event-parse.h>
#include <trace-cmd.h>

#include "analysis.h"
#include "pipeline.h"
#include "event-json.h"
#include "fuzz.h"
#include "source.h"
#include "tep-decode.h"
#include "topology.h"

#ifndef TEST_DATADIR
#error "TEST_DATADIR must name tests/data"
#endif

#define MAX_RECORDS 4096u

static const char *const events[][2] = {
        { "sched", "sched_switch" },  { "sched", "sched_wakeup" },          { "kvm", "kvm_apic_ipi" },
        { "kvm", "kvm_eoi" },         { "kvm", "kvm_pv_eoi" },              { "kvm", "kvm_exit" },
        { "kvm", "kvm_entry" },       { "kvm", "kvm_hypercall" },           { "kvm", "kvm_ple_window_update" },
        { "kvm", "kvm_avic_incomplete_ipi" }, { "kvm", "kvm_vcpu_wakeup" }, { "ftrace", "print" },
        { "kvm", "kvm_directed_yield" },
};
#define N_EVENTS (sizeof(events) / sizeof(events[0]))

struct fmt {
        struct tep_handle *tep;
        struct tracecmd_input *in;      /* owner of tep for the .dat one */
        struct vs_tep_decoder *dec;
        bool big_endian;
        int ids[N_EVENTS];              /* -1: not in this kernel */
};

static struct fmt fmts[3];
static unsigned n_fmts;

static char *slurp(const char *path, size_t *len) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        long n;

        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t) n + 1)) && fread(buf, 1, (size_t) n, f) == (size_t) n)
                buf[n] = 0, *len = (size_t) n;
        else
                free(buf), buf = NULL;
        fclose(f);
        return buf;
}

static void die(const char *what) {
        fprintf(stderr, "fuzz-record: cannot load %s\n", what);
        exit(EXIT_FAILURE);
}

static struct tep_handle *tep_from_formats(bool big_endian) {
        struct tep_handle *tep = tep_alloc();
        char path[4096];

        if (!tep)
                die("formats: out of memory");
        tep_set_long_size(tep, 8);
        tep_set_page_size(tep, 4096);
        tep_set_file_bigendian(tep, big_endian ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
        tep_set_local_bigendian(tep, TEP_LITTLE_ENDIAN);
        for (unsigned i = 0; i < N_EVENTS; i++) {
                size_t len;
                snprintf(path, sizeof(path), "%s/formats/%s/%s/format", TEST_DATADIR, events[i][0], events[i][1]);
                char *buf = slurp(path, &len);
                if (!buf || tep_parse_event(tep, buf, len, events[i][0]) != 0)
                        die(path);
                free(buf);
        }
        return tep;
}

static void add_fmt(struct tep_handle *tep, struct tracecmd_input *in, bool big_endian) {
        struct fmt *f = &fmts[n_fmts++];

        f->tep = tep;
        f->in = in;
        f->big_endian = big_endian;
        if (vs_tep_decoder_new(tep, &f->dec) < 0)
                die("decoder");
        for (unsigned i = 0; i < N_EVENTS; i++) {
                struct tep_event *e = tep_find_event_by_name(tep, events[i][0], events[i][1]);
                f->ids[i] = e ? e->id : -1;
        }
}

static void unload(void) {
        for (unsigned i = 0; i < n_fmts; i++) {
                vs_tep_decoder_free(fmts[i].dec);
                if (fmts[i].in)
                        tracecmd_close(fmts[i].in);
                else
                        tep_free(fmts[i].tep);
        }
        n_fmts = 0;
}

static void load(void) {
        struct tracecmd_input *in;

        add_fmt(tep_from_formats(false), NULL, false);
        add_fmt(tep_from_formats(true), NULL, true);
        tracecmd_set_loglevel(TEP_LOG_NONE);
        in = tracecmd_open(TEST_DATADIR "/testbed/2to1-trace-cmd.dat", TRACECMD_FL_LOAD_NO_PLUGINS);
        if (!in)
                die(TEST_DATADIR "/testbed/2to1-trace-cmd.dat");
        add_fmt(tracecmd_get_tep(in), in, tep_is_file_bigendian(tracecmd_get_tep(in)));
        atexit(unload);
}

static void check_event(const struct vs_event *ev, struct vs_topology *topo, unsigned n, int full) {
        char line[512];

        if (vs_event_format(ev, topo, line, sizeof(line)) >= 0)
                FUZZ_ASSERT(!strchr(line, '\n'), "record %u rendered with a newline: '%s'", n, line);
        if (full)
                fuzz_assert_json_roundtrip(vs_event_to_json(ev, topo), "record", n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vs_source src = { 0 };
        struct vs_pipeline *pipe = NULL;
        struct vs_pipeline_options po = { .analysis = true };
        uint8_t rec[1024];
        uint64_t ts = 1000000000ull, decoded = 0;
        unsigned n = 0;
        size_t off = 1;

        if (!n_fmts)
                load();
        if (size < 1)
                return 0;
        const struct fmt *f = &fmts[data[0] % n_fmts];
        const int full = fuzz_full_checks(data, size);

        if (vs_pipeline_new(&po, &pipe) < 0)
                return 0;
        struct vs_topology *topo = vs_pipeline_topology(pipe);
        vs_source_set_thread_cb(&src, vs_topology_thread_cb, topo);

        while (n < MAX_RECORDS && off + 6 <= size) {
                unsigned cpu = data[off], sel = data[off + 1];
                unsigned delta = data[off + 2] | (unsigned) data[off + 3] << 8;
                size_t len = (data[off + 4] | (size_t) data[off + 5] << 8) % sizeof(rec);
                struct vs_event ev;

                off += 6;
                if (len > size - off)
                        len = size - off;
                memcpy(rec, data + off, len);
                off += len;
                ts += (uint64_t) delta * 1000;
                if (sel < N_EVENTS && f->ids[sel] >= 0 && len >= 2) {
                        unsigned id = (unsigned) f->ids[sel];
                        rec[f->big_endian ? 1 : 0] = (uint8_t) id;
                        rec[f->big_endian ? 0 : 1] = (uint8_t) (id >> 8);
                }
                n++;
                int r = vs_tep_decode(f->dec, rec, (int) len, ts, (int) cpu, off, &src, &ev);
                FUZZ_ASSERT(r == 0 || r == 1, "vs_tep_decode returned %d", r);
                FUZZ_ASSERT(src.stats.records == n, "records %llu after %u records",
                            (unsigned long long) src.stats.records, n);
                if (r == 1) {
                        decoded++;
                        FUZZ_ASSERT(ev.type > 0 && ev.type < _VS_EV_MAX, "record %u decoded to type %d", n,
                                    (int) ev.type);
                        FUZZ_ASSERT(ev.ts_ns == ts && ev.cpu == cpu, "record %u: ts/cpu not carried over", n);
                        if (vs_pipeline_event(pipe, &ev) < 0)
                                break;
                        check_event(&ev, topo, n, full);
                }
        }
        FUZZ_ASSERT(src.stats.events == decoded, "stats: %llu events, %llu decoded",
                    (unsigned long long) src.stats.events, (unsigned long long) decoded);
        FUZZ_ASSERT(src.stats.unknown + src.stats.malformed + src.stats.filtered + decoded <= src.stats.records,
                    "stats: unknown %llu + malformed %llu + filtered %llu + events %llu > records %llu",
                    (unsigned long long) src.stats.unknown, (unsigned long long) src.stats.malformed,
                    (unsigned long long) src.stats.filtered, (unsigned long long) decoded,
                    (unsigned long long) src.stats.records);
        FUZZ_ASSERT(src.stats.malformed == 0 || src.error[0], "malformed records but no error text");
        vs_pipeline_finish(pipe);
        vs_pipeline_free(pipe);
        return 0;
}
