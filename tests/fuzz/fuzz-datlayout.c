/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-datlayout - the .dat layout check vschedd runs before libtracecmd
 * sees a file (lib/dat-layout.c), on the input bytes in memory: libFuzzer's
 * buffer is exactly the input's size, so ASan catches any read past the end
 * (the daemon runs it on an mmap()ed file, where such a read would go
 * unnoticed up to the page end).  fuzz-dat reaches it too, but at fuzz-dat's
 * pace (a throwaway child per input that passes it).
 *
 * Inputs that do not start with the .dat magic get it prepended, as in
 * fuzz-dat, so the corpora can be shared.
 *
 * Properties:
 *  - the result is 0 or -EBADMSG, with an error text exactly when -EBADMSG,
 *    that names the problem (a section cut short or corrupt, CPU data past
 *    the end, a file too short, an unsupported version or page size, a
 *    corrupt ring-buffer page);
 *  - a v6 file that passes still passes with bytes appended (the check
 *    bounds what it reads by the sizes inside the file, not by its end);
 *  - both hold for the layout alone and for the page walk with 4- and
 *    8-byte commit words (the size libtracecmd takes from the header_page
 *    text).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dat-layout.h"
#include "macro.h"
#include "fuzz.h"

static int check(const uint8_t *buf, size_t size, unsigned page_long) {
        char err[256] = "";
        int r = vs_dat_check_layout(buf, size, page_long, NULL, err, sizeof(err));

        FUZZ_ASSERT(r == 0 || r == -EBADMSG, "vs_dat_check_layout returned %d", r);
        FUZZ_ASSERT((r == 0) == (err[0] == 0), "result %d with error text '%s'", r, err);
        if (r < 0)
                FUZZ_ASSERT(strstr(err, "cut short or corrupt") || strstr(err, "runs past the end") ||
                                    strstr(err, "too short") || strstr(err, "unsupported trace-cmd file version") ||
                                    strstr(err, "page size") || strstr(err, "ring-buffer page"),
                            "unexpected error text '%s'", err);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const unsigned page_longs[] = { 0, 4, 8 };
        size_t len;
        uint8_t *buf = fuzz_dat_bytes(data, size, &len);
        uint8_t *more;

        if (!buf)
                return 0;
        more = malloc(len + 64);
        if (more) {
                memcpy(more, buf, len);
                memset(more + len, 0xa5, 64);
        }
        /* the layout alone, then the page walk with either commit-word size
         * (a header_page text can give libtraceevent either) */
        for (size_t i = 0; i < ELEMENTSOF(page_longs); i++)
                if (check(buf, len, page_longs[i]) == 0 && more && len > 12 && buf[10] == '6')
                        FUZZ_ASSERT(check(more, len + 64, page_longs[i]) == 0,
                                    "a passing v6 file fails with bytes appended (commit words of %u)",
                                    page_longs[i]);
        free(more);
        free(buf);
        return 0;
}
