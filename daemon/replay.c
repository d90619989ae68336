/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * replay.c - vschedd --replay: a recorded trace through the manager's
 * pipeline in two passes (topology first, so every event prints with its
 * final VM and vCPU; the second plays the first's events from memory,
 * lib/event-tape.h, so the trace is decoded once), the results, --svg pictures, and --auto (live when KVM
 * VMs run here, else a real testbed recording).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "event-tape.h"
#include "graph-dot.h"
#include "graph-render.h"
#include "log.h"
#include "manager.h"
#include "markup.h"
#include "output.h"
#include "progress.h"
#include "replay.h"
#include "svg-timeline.h"

/* What --auto replays without VMs: a real recording of the nested testbed
 * (tests/data/testbed/README.md), 2 VMs x 2 vCPUs spin-waiting on 2 CPUs, with
 * its KVM records; installed under the same relative path in $(pkgdatadir). */
#define AUTO_TRACE "testbed/2to1-trace-cmd.dat"

static int open_replay(const char *path, struct vs_source **ret) {
        int r = vs_source_open_file(path, ret);

        if (r < 0 && vs_source_open_error())
                log_error("%s", vs_source_open_error());
        else if (r == -EBADMSG)
                log_error("%s: not a readable trace (corrupt trace-cmd .dat or unknown format)", path);
        else if (r < 0)
                log_error("%s: cannot open: %s", path, strerror(-r));
        return r;
}

/* A replay holds the decoded events of pass 1 for pass 2 up to this much
 * memory (48 bytes an event: about 11 M events); a longer trace is decoded
 * again for pass 2. */
#define TAPE_MAX_BYTES (512ull << 20)

struct learner {
        struct vs_tape *tape;   /* NULL once over its cap */
        struct vs_topology *topo;
        int error;              /* -ENOMEM from the tape */
};

static void drop_tape(struct learner *l, int r) {
        if (r == -E2BIG)
                log_debug("more than %llu MiB of events: decoding the trace again for pass 2",
                          TAPE_MAX_BYTES >> 20);
        else if (l->error == 0)
                l->error = r;
        vs_tape_free(l->tape);
        l->tape = NULL;
}

static void learn_thread(const struct vs_thread_info *ti, void *userdata) {
        struct learner *l = userdata;

        if (l->tape) {
                int r = vs_tape_add_thread(l->tape, ti);
                if (r < 0)
                        drop_tape(l, r);
        }
        vs_topology_thread_cb(ti, l->topo);
}

/* Pass 1 learns the whole topology (thread names, TGIDs, vcpu_id <-> TID), so
 * that pass 2 prints every event with its final VM/vCPU and the same output
 * comes out whatever the order in which the trace reveals things.  What the
 * source yields is kept on a tape (*ret_tape; NULL when it grew past its cap),
 * so pass 2 does not decode the trace again; *ret_src is the spent source,
 * for its statistics. */
static int learn_topology(const char *path, struct vs_pipeline *pipe, bool quiet, struct vs_tape **ret_tape,
                          struct vs_source **ret_src) {
        _cleanup_source_ struct vs_source *src = NULL;
        struct learner l = { .topo = vs_pipeline_topology(pipe) };
        struct vs_progress p;
        struct vs_event ev;
        uint64_t n = 0;
        int r;

        r = open_replay(path, &src);
        if (r < 0)
                return r;
        r = vs_tape_new(TAPE_MAX_BYTES, &l.tape);
        if (r < 0)
                return r;
        vs_source_set_thread_cb(src, learn_thread, &l);
        vs_progress_init(&p, "learning topology");
        p.enabled = p.enabled && !quiet;
        while ((r = vs_source_next(src, &ev)) > 0) {
                r = vs_pipeline_learn(pipe, &ev);
                if (r < 0)
                        break;
                if (l.tape) {
                        r = vs_tape_add_event(l.tape, &ev);
                        if (r < 0)
                                drop_tape(&l, r);
                }
                if (l.error < 0) {
                        r = l.error;
                        break;
                }
                if ((++n & 0xffff) == 0) {
                        uint64_t total, done = vs_source_progress(src, &total);
                        vs_progress_update(&p, done, total, n);
                }
        }
        vs_progress_done(&p);
        if (r == 0 && l.error < 0)
                r = l.error;
        if (r < 0) {
                vs_tape_free(l.tape);
                return r;
        }
        /* pass 2 reads the same events again: they are no new evidence */
        vs_topology_seal_evidence(vs_pipeline_topology(pipe));
        *ret_tape = l.tape;
        *ret_src = TAKE_PTR(src);
        return 0;
}

/* Write @len bytes (or, with @vm, the timeline of @vm) to @dir/@name; never
 * through a symlink planted there. */
static int write_picture(int dir, const char *name, const char *data, size_t len, const struct vs_tl_vm *vm,
                         struct vs_timeline *tl) {
        _cleanup_fclose_ FILE *f = NULL;
        int fd, r;

        fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                return r;
        }
        r = vm ? vs_svg_timeline_write(tl, vm, f) : (fwrite(data, 1, len, f) == len ? 0 : -EIO);
        if (fflush(f) != 0 && r >= 0)
                r = -errno;
        return r;
}

/* --svg DIR: for every VM of the report, its IPI graph (dot text and SVG
 * through dot(1)) and its timeline; all pictures are attempted, the first
 * error is returned. */
static int write_pictures(struct manager *m) {
        _cleanup_close_ int dir = -1;
        struct json_object *rep, *vms;
        unsigned written = 0;
        int r = 0;

        if (!m->opts->svg_dir || !vs_pipeline_analysis(m->pipe) || !vs_pipeline_timeline(m->pipe))
                return 0;
        vs_pipeline_finish(m->pipe);
        if (mkdir(m->opts->svg_dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "%s: cannot create: %m", m->opts->svg_dir);
        dir = open(m->opts->svg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return log_error_errno(errno, "%s: cannot open: %m", m->opts->svg_dir);
        rep = vs_analysis_report_json(vs_pipeline_analysis(m->pipe));
        if (!rep || !json_object_object_get_ex(rep, "vms", &vms)) {
                json_object_put(rep);
                return -ENOMEM;
        }
        for (size_t i = 0; i < json_object_array_length(vms); i++) {
                struct json_object *v = json_object_array_get_idx(vms, i), *n;
                const char *name = json_object_object_get_ex(v, "vm", &n) ? json_object_get_string(n) : "";
                const struct vs_tl_vm *tv = vs_timeline_vm_by_name(vs_pipeline_timeline(m->pipe), name);
                struct vs_tl_vm empty = {};
                _cleanup_free_ char *dot = NULL, *svg = NULL, *err = NULL;
                struct vs_graph *g = NULL;
                char safe[VS_SAFE_NAME_MAX], file[VS_SAFE_NAME_MAX + 32], shown[512];
                size_t len = 0;
                int k;

                vs_markup_display(name, shown, sizeof(shown));
                (void) vs_markup_file_name(name, safe, sizeof(safe));
                k = vs_graph_from_json(v, &g);
                if (k >= 0)
                        k = vs_graph_dot(g, &dot);
                vs_graph_free(g);
                if (k >= 0) {
                        snprintf(file, sizeof(file), "%s-graph.dot", safe);
                        k = write_picture(dir, file, dot, strlen(dot), NULL, NULL);
                }
                if (k >= 0) {
                        k = vs_graph_render(dot, "svg", &svg, &len, &err);
                        if (k == -ENOENT)
                                log_error("VM %s: dot(1) not found: install Graphviz (Debian package graphviz)", shown);
                        else if (k < 0)
                                log_error("VM %s: dot(1) failed: %s", shown, err ? err : strerror(-k));
                }
                if (k >= 0) {
                        snprintf(file, sizeof(file), "%s-graph.svg", safe);
                        k = write_picture(dir, file, svg, len, NULL, NULL);
                        written += k >= 0;
                }
                if (k < 0 && r == 0)
                        r = k;
                if (!tv) {
                        snprintf(empty.name, sizeof(empty.name), "%s", name);
                        tv = &empty;
                }
                snprintf(file, sizeof(file), "%s-timeline.svg", safe);
                k = write_picture(dir, file, NULL, 0, tv, vs_pipeline_timeline(m->pipe));
                written += k >= 0;
                if (k < 0) {
                        log_error("%s/%s: %s", m->opts->svg_dir, file, strerror(-k));
                        if (r == 0)
                                r = k;
                }
        }
        json_object_put(rep);
        log_info("wrote %u picture(s) to %s", written, m->opts->svg_dir);
        return r;
}

static void tape_freep(struct vs_tape **t) {
        vs_tape_free(*t);
}

int replay_run(struct manager *m, const char *path) {
        __attribute__((cleanup(tape_freep))) struct vs_tape *tape = NULL;
        _cleanup_source_ struct vs_source *learnt = NULL;
        struct vs_progress progress;
        struct stat st;
        struct vs_event ev;
        uint64_t n = 0;
        int r;

        if (strcmp(path, "-") != 0) {
                if (stat(path, &st) < 0)
                        return log_error_errno(errno, "%s: cannot open: %m", path);
                if (S_ISREG(st.st_mode)) {
                        r = learn_topology(path, m->pipe, m->opts->quiet, &tape, &learnt);
                        if (r < 0) {
                                if (r != -EBADMSG && r != -ENOENT)
                                        log_error("%s: %s", path, strerror(-r));
                                return r;
                        }
                }
        }
        /* pass 2 plays pass 1's tape, or decodes the trace (again) */
        r = tape ? vs_tape_source_new(tape, learnt, &m->src) : open_replay(path, &m->src);
        if (r < 0)
                return r;
        vs_source_set_thread_cb(m->src, vs_topology_thread_cb, vs_pipeline_topology(m->pipe));
        vs_progress_init(&progress, "replaying");
        progress.enabled = progress.enabled && !m->opts->quiet && !(output_dumping() && isatty(STDOUT_FILENO));
        while ((r = vs_source_next(m->src, &ev)) > 0) {
                r = manager_event(m, &ev);
                if (r == -EPIPE)
                        return 0;
                if (r < 0)
                        break;
                if ((++n & 0xffff) == 0) {
                        uint64_t total, done = vs_source_progress(m->src, &total);
                        vs_progress_update(&progress, done, total, n);
                }
        }
        vs_progress_done(&progress);
        if (r < 0) {
                log_error("%s: %s", path, vs_source_error(m->src) ? vs_source_error(m->src) : strerror(-r));
                return r;
        }
        manager_source_problems(m, path);
        manager_print_results(m);
        return write_pictures(m);
}

/* ---------------------------------------------------------------- auto */

static const char *auto_trace(char *buf, size_t len) {
        const char *dirs[] = { getenv("VSCHEDD_DATA_DIR"), PKGDATADIR, NULL };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (!dirs[i])
                        continue;
                snprintf(buf, len, "%s/%s", dirs[i], AUTO_TRACE);
                if (access(buf, R_OK) == 0)
                        return buf;
        }
        return NULL;
}

static bool kvm_tracepoints_fire(void) {
        /* /dev/kvm plus kvm tracepoints are not enough (a PVM-backed /dev/kvm
         * has both): require running VMs with vCPU threads. */
        return access("/sys/kernel/tracing/events/kvm/kvm_apic_ipi", F_OK) == 0 ||
               access("/sys/kernel/debug/tracing/events/kvm/kvm_apic_ipi", F_OK) == 0;
}

int replay_auto(struct manager *m) {
        char path[4096];
        int n = vs_topology_scan_proc(vs_pipeline_topology(m->pipe), "/proc");

        if (n > 0 && kvm_tracepoints_fire()) {
                log_info("%d KVM VM(s) running here: watching live for %g s", n,
                         m->duration > 0 ? m->duration : 10.0);
                if (m->duration <= 0)
                        m->duration = 10;
                return manager_run_live(m);
        }
        if (!auto_trace(path, sizeof(path))) {
                log_error("no KVM VMs on this host and no %s found in $VSCHEDD_DATA_DIR or %s", AUTO_TRACE,
                          PKGDATADIR);
                return -ENOENT;
        }
        log_info("no KVM VMs running here; replaying %s, a real recording from the nested testbed "
                 "(2 VMs x 2 vCPUs on 2 CPUs, tests/data/testbed/README.md)", path);
        /* the /proc scan must not leak into the replay's topology */
        m->pipe = vs_pipeline_free(m->pipe);
        if (manager_new_pipeline(m, true) < 0)
                return -ENOMEM;
        return replay_run(m, path);
}
