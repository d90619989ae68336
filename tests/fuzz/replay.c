/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * replay.c - main() for a fuzz target built without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once per file named on the command line (a
 * directory stands for the regular files in it, in name order).  Exits 0 when
 * every input ran (a property violation aborts), 1 when an input could not be
 * read, 2 on usage.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, unsigned *count) {
        FILE *f = fopen(path, "rbe");
        uint8_t *buf = NULL;
        size_t size = 0, cap = 0;

        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        for (;;) {
                if (size == cap) {
                        cap = cap ? cap * 2 : 65536;
                        uint8_t *nb = realloc(buf, cap);
                        if (!nb) {
                                free(buf);
                                fclose(f);
                                return -1;
                        }
                        buf = nb;
                }
                size_t n = fread(buf + size, 1, cap - size, f);
                if (n == 0)
                        break;
                size += n;
        }
        if (ferror(f)) {
                fprintf(stderr, "%s: read error\n", path);
                free(buf);
                fclose(f);
                return -1;
        }
        fclose(f);
        /* libFuzzer hands over an exact-size heap copy: do the same, so ASan
         * sees reads past the end */
        uint8_t *exact = malloc(size ? size : 1);
        if (!exact) {
                free(buf);
                return -1;
        }
        if (size)
                memcpy(exact, buf, size);
        free(buf);
        (void) LLVMFuzzerTestOneInput(exact, size);
        free(exact);
        (*count)++;
        return 0;
}

static int filter(const struct dirent *d) {
        return d->d_name[0] != '.' && strcmp(d->d_name, "README") != 0 && strcmp(d->d_name, "README.md") != 0;
}

int main(int argc, char **argv) {
        unsigned count = 0;
        int failed = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        failed = 1;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        failed |= run_file(argv[i], &count) < 0;
                        continue;
                }
                struct dirent **list;
                int n = scandir(argv[i], &list, filter, alphasort);
                if (n < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        failed = 1;
                        continue;
                }
                for (int j = 0; j < n; j++) {
                        char path[4096];
                        snprintf(path, sizeof(path), "%s/%s", argv[i], list[j]->d_name);
                        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                                failed |= run_file(path, &count) < 0;
                        free(list[j]);
                }
                free(list);
        }
        printf("%s: %u inputs replayed\n", argv[0], count);
        return failed;
}
