/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-config - /etc/vschedd.conf through vs_config_load() (libinih with our
 * line-counting reader, the key table, per-VM sections, cross checks).
 *
 * Properties, from vs-config.h:
 *  - a failed load leaves the config untouched (equal to the defaults here);
 *  - a successful load prints (vs_config_print) either -EINVAL (a string
 *    INI cannot carry) or text that loads back to an equal config;
 *  - every error line starts with the file name (FILE: or FILE:LINE:) and
 *    there are at most VS_CONFIG_MAX_ERRORS + 1 of them.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "vs-config.h"

static void check_errors(const char *path, const char *errors) {
        size_t pl = strlen(path);
        unsigned lines = 0;

        for (const char *l = errors; l && *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t) (nl - l) : strlen(l);
                FUZZ_ASSERT(len > pl && strncmp(l, path, pl) == 0 && l[pl] == ':',
                            "error line without FILE: prefix: '%.*s'", (int) len, l);
                lines++;
                l += len + (nl ? 1 : 0);
        }
        FUZZ_ASSERT(lines <= VS_CONFIG_MAX_ERRORS + 1, "%u error lines", lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vs_config c, defaults, back;
        char *errors = NULL;
        const char *path;
        int r;

        path = fuzz_scratch_file(data, size, 0644);
        if (!path)
                return 0;
        if (vs_config_init(&c) < 0)
                return 0;
        if (vs_config_init(&defaults) < 0) {
                vs_config_done(&c);
                return 0;
        }
        r = vs_config_load(&c, path, &errors);
        check_errors(path, errors);
        free(errors);
        errors = NULL;
        if (r < 0) {
                FUZZ_ASSERT(vs_config_equal(&c, &defaults), "a failed load (%d) changed the config", r);
                goto out;
        }

        /* round trip through --print-config */
        char *text = NULL;
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        if (!f)
                goto out;
        r = vs_config_print(&c, f);
        fclose(f);
        if (r == 0) {
                const char *p2 = fuzz_scratch_file(text, tlen, 0644);
                if (p2 && vs_config_init(&back) >= 0) {
                        r = vs_config_load(&back, p2, &errors);
                        FUZZ_ASSERT(r == 0, "printed config does not load (%d): %s\n--- printed:\n%s",
                                    r, errors ? errors : "", text);
                        FUZZ_ASSERT(vs_config_equal(&c, &back), "printed config loads back different:\n%s",
                                    text);
                        vs_config_done(&back);
                        free(errors);
                        errors = NULL;
                }
        } else
                FUZZ_ASSERT(r == -EINVAL, "vs_config_print: unexpected %d", r);
        free(text);

        /* per-VM lookups against hostile names */
        struct vs_vm_policy vp;
        vs_config_vm(&c, "web", &vp);
        vs_config_vm(&c, "", &vp);
        vs_config_vm(&c, "../x\n", &vp);
out:
        vs_config_done(&defaults);
        vs_config_done(&c);
        return 0;
}
