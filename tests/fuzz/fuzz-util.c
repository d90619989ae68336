/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-util.c - scratch file and directory, JSON round trip of the fuzz targets (fuzz.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "macro.h"

static char scratch_dir[PATH_MAX];
static char scratch_file[PATH_MAX];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        (void) remove(path);
        return 0;
}

static void cleanup(void) {
        if (scratch_dir[0])
                (void) nftw(scratch_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch_dir(void) {
        if (scratch_dir[0])
                return scratch_dir;
        /* $TMPDIR, else /dev/shm: every input is written here, and on a disk
         * filesystem (ext4 flushes a truncated-and-rewritten file on close)
         * that I/O cost fuzz-config two thirds of its speed */
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
                tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(scratch_dir, sizeof(scratch_dir), "%s/vschedd-fuzz.XXXXXX", tmp);
        if (!mkdtemp(scratch_dir)) {
                perror("mkdtemp");
                exit(EXIT_FAILURE);
        }
        atexit(cleanup);
        return scratch_dir;
}

const char *fuzz_scratch_file(const void *data, size_t size, unsigned mode) {
        int fd;

        if (!scratch_file[0]) {
                const char *dir = fuzz_scratch_dir();
                if (strlen(dir) + sizeof("/input") > sizeof(scratch_file))
                        abort();
                memcpy(scratch_file, dir, strlen(dir));
                memcpy(scratch_file + strlen(dir), "/input", sizeof("/input"));
        }
        fd = open(scratch_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return NULL;
        for (size_t off = 0; off < size;) {
                ssize_t n = write(fd, (const char *) data + off, size - off);
                if (n <= 0) {
                        close(fd);
                        return NULL;
                }
                off += (size_t) n;
        }
        if (fchmod(fd, mode) < 0) {
                close(fd);
                return NULL;
        }
        close(fd);
        return scratch_file;
}

void fuzz_unmap_scratch(void) {
        char line[PATH_MAX + 128];
        uintptr_t ranges[64][2];
        size_t n;

        if (!scratch_file[0])
                return;
        do {
                /* collect, then unmap: unmapping shifts /proc/self/maps under
                 * the reader */
                FILE *f = fopen("/proc/self/maps", "re");
                if (!f)
                        return;
                n = 0;
                while (n < ELEMENTSOF(ranges) && fgets(line, sizeof(line), f)) {
                        unsigned long lo, hi;
                        int at = -1;
                        line[strcspn(line, "\n")] = 0;
                        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &at) < 2 || at < 0 ||
                            strcmp(line + at, scratch_file) != 0)
                                continue;
                        ranges[n][0] = lo;
                        ranges[n][1] = hi;
                        n++;
                }
                fclose(f);
                for (size_t i = 0; i < n; i++)
                        (void) munmap((void *) ranges[i][0], ranges[i][1] - ranges[i][0]);
        } while (n == ELEMENTSOF(ranges));
}

void fuzz_assert_json_roundtrip(struct json_object *o, const char *what, unsigned n) {
        if (!o)
                return;
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        struct json_object *back = json_tokener_parse(s);
        FUZZ_ASSERT(back, "%s %u: invalid JSON '%s'", what, n, s);
        json_object_put(back);
        json_object_put(o);
}

uint8_t *fuzz_dat_bytes(const uint8_t *data, size_t size, size_t *ret_len) {
        static const uint8_t magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
        size_t pre = size >= sizeof(magic) && memcmp(data, magic, sizeof(magic)) == 0 ? 0 : sizeof(magic);
        uint8_t *buf = malloc(size + pre ? size + pre : 1);

        if (!buf)
                return NULL;
        memcpy(buf, magic, pre);
        if (size)
                memcpy(buf + pre, data, size);
        *ret_len = size + pre;
        return buf;
}
