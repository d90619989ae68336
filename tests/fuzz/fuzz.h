/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz.h - shared helpers of the fuzz targets in tests/fuzz/.
 *
 * Each fuzz-<target>.c defines LLVMFuzzerTestOneInput().  Built with
 * clang -fsanitize=fuzzer (tools/fuzz) libFuzzer supplies main(); built with
 * any compiler together with replay.c (make check) the same entry point runs
 * once per file of a corpus, so the seed and regression inputs are replayed
 * in every build, sanitized or not.
 *
 * A property violation aborts through FUZZ_ASSERT(), so libFuzzer records it
 * as a crash with the input that caused it.  No state survives between two
 * inputs except the per-process scratch file and fake trees, which each input
 * rewrites.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...)                                                  \
        do {                                                                    \
                if (!(cond)) {                                                  \
                        fprintf(stderr, "%s:%d: property violated: %s: ",       \
                                __FILE__, __LINE__, #cond);                     \
                        fprintf(stderr, __VA_ARGS__);                           \
                        fputc('\n', stderr);                                    \
                        abort();                                                \
                }                                                               \
        } while (0)

/* True when VSCHEDD_FUZZ_SKIP_OPEN=1: targets then stop checking the
 * properties of the open bugs listed in regress/README.md, so a campaign can
 * look past them (tools/fuzz sets it; the regression replay does not). */
static inline int fuzz_skip_open(void) {
        const char *e = getenv("VSCHEDD_FUZZ_SKIP_OPEN");
        return e && e[0] == '1';
}

/*
 * True when this input gets the expensive property checks (the JSON round
 * trips, some 80% of fuzz-text's instructions).  VSCHEDD_FUZZ_SAMPLE=N
 * (tools/fuzz campaigns) keeps them for one input in N, picked by a hash of
 * the input so a finding reproduces; unset (the replays of make check), every
 * input gets them.  The code under test runs on every input either way.
 */
static inline int fuzz_full_checks(const uint8_t *data, size_t size) {
        static long every = -1;
        uint32_t h = 2166136261u;

        if (every < 0) {
                const char *e = getenv("VSCHEDD_FUZZ_SAMPLE");
                every = e ? strtol(e, NULL, 10) : 1;
                if (every < 1)
                        every = 1;
        }
        if (every == 1)
                return 1;
        for (size_t i = 0; i < size; i++)
                h = (h ^ data[i]) * 16777619u;
        return h % (uint32_t) every == 0;
}

/* The path of a scratch file private to this process (created on first use,
 * removed at exit), rewritten with @data, mode @mode.  Returns the path, or
 * NULL when the file cannot be written (the input is then skipped). */
const char *fuzz_scratch_file(const void *data, size_t size, unsigned mode);

/* Unmap whatever still maps the scratch file.  libtracecmd 3.1.6's
 * tracecmd_close() frees its page-map records without munmap()ing them (the
 * list walk at its end), so every .dat input leaves mappings behind; over a
 * campaign thousands pile up and every fork (the throwaway child) and every
 * O_TRUNC of the scratch file walks them all: fuzz-dat fell from 1,250 to
 * 880 inputs/s in ten minutes.  Call after the source is freed. */
void fuzz_unmap_scratch(void);

/* Serialize @o (as vschedd prints events: plain, no slash escapes), assert
 * json-c parses the text back (naming @what @n), and put @o.  NULL: nothing. */
struct json_object;
void fuzz_assert_json_roundtrip(struct json_object *o, const char *what, unsigned n);

/* The input as a .dat file: a malloc()ed copy of exactly *@ret_len bytes,
 * with the trace-cmd magic prepended when it does not start with it (so the
 * .dat targets share corpora and do not drift into other formats).  NULL
 * when out of memory. */
uint8_t *fuzz_dat_bytes(const uint8_t *data, size_t size, size_t *ret_len);

/* A private directory created on first use and removed (recursively) at exit. */
const char *fuzz_scratch_dir(void);
