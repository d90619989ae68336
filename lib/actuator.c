/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * actuator.c - journalled cgroup writes.
 *
 * The journal, STATE_DIR/journal, is text:
 *
 *      vschedd-journal 1
 *      DIR<TAB>FILE<TAB>ORIGINAL
 *      ...
 *
 * one line per (dir, file) vschedd changed, oldest first, each field with
 * '\\' -> "\\\\", TAB -> "\\t", newline -> "\\n" (so a libvirt path holding a
 * literal "\x2d" is stored as "\\x2d" and read back exactly).  It is rewritten
 * whole for every change (STATE_DIR/journal.tmp, fsync, rename, fsync the
 * directory), so a reader sees either the old or the new journal, never a
 * torn one; only after that does the cgroup write happen.  ORIGINAL is the
 * value as vs_cg_normalize() gives it, i.e. something that can be written
 * back.  The state directory is flock()ed while an actuator (or a journal
 * restore) uses it, so a `vschedd --restore` cannot race a running daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actuator.h"
#include "cgroup.h"
#include "fileio.h"
#include "macro.h"

#define JOURNAL "journal"
#define JOURNAL_TMP "journal.tmp"
#define JOURNAL_MAGIC "vschedd-journal 1"
#define VALUE_MAX 4096

struct entry {
        char *dir, *file;
        char *original;         /* what restore writes back (journalled) */
        char *last;             /* what the file held after our last write (memory only) */
};

struct vs_actuator {
        int dfd;                /* the state directory, flock()ed */
        struct entry *e;        /* oldest first */
        size_t n, cap;
        size_t *slots;          /* hash (dir, file) -> entry index + 1, 0 = empty */
        size_t n_slots;         /* power of two, >= 2 * n */
};

static void entry_done(struct entry *e) {
        free(e->dir);
        free(e->file);
        free(e->original);
        free(e->last);
}

static uint64_t hash_key(const char *dir, const char *file) {
        uint64_t h = 14695981039346656037ULL;

        for (const char *p = dir; *p; p++)
                h = (h ^ (unsigned char) *p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
        for (const char *p = file; *p; p++)
                h = (h ^ (unsigned char) *p) * 1099511628211ULL;
        return h;
}

static void insert_slot(size_t *slots, size_t n_slots, const struct entry *e, size_t idx) {
        size_t h = hash_key(e->dir, e->file) & (n_slots - 1);

        while (slots[h])
                h = (h + 1) & (n_slots - 1);
        slots[h] = idx + 1;
}

/* Rebuild the index in place (after entries were removed); never allocates. */
static void reindex(struct vs_actuator *a) {
        if (!a->n_slots)
                return;
        memset(a->slots, 0, a->n_slots * sizeof(*a->slots));
        for (size_t i = 0; i < a->n; i++)
                insert_slot(a->slots, a->n_slots, &a->e[i], i);
}

static int rehash(struct vs_actuator *a, size_t n_slots) {
        size_t *s = calloc(n_slots, sizeof(*s));

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < a->n; i++)
                insert_slot(s, n_slots, &a->e[i], i);
        free(a->slots);
        a->slots = s;
        a->n_slots = n_slots;
        return 0;
}

static struct entry *find(const struct vs_actuator *a, const char *dir, const char *file) {
        if (!a->n_slots)
                return NULL;
        for (size_t h = hash_key(dir, file) & (a->n_slots - 1);; h = (h + 1) & (a->n_slots - 1)) {
                size_t s = a->slots[h];
                if (!s)
                        return NULL;
                if (strcmp(a->e[s - 1].dir, dir) == 0 && strcmp(a->e[s - 1].file, file) == 0)
                        return &a->e[s - 1];
        }
}

/* Append an entry (takes the strings); the hash always has room afterwards. */
static int add(struct vs_actuator *a, char *dir, char *file, char *original, char *last) {
        int r;

        if (a->n == a->cap) {
                size_t nc = a->cap ? a->cap * 2 : 16;
                struct entry *t = realloc(a->e, nc * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                a->e = t;
                a->cap = nc;
        }
        if (2 * (a->n + 1) > a->n_slots) {
                r = rehash(a, a->n_slots ? a->n_slots * 2 : 32);
                if (r < 0)
                        return r;
        }
        a->e[a->n] = (struct entry) { dir, file, original, last };
        insert_slot(a->slots, a->n_slots, &a->e[a->n], a->n);
        a->n++;
        return 0;
}

static int add_copy(struct vs_actuator *a, const char *dir, const char *file, const char *value) {
        char *d = strdup(dir), *f = strdup(file), *o = strdup(value), *l = strdup(value);
        int r = -ENOMEM;

        if (d && f && o && l)
                r = add(a, d, f, o, l);
        if (r < 0)
                free(d), free(f), free(o), free(l);
        return r;
}

/* Drop the newest entry (one add() just appended). */
static void drop_last(struct vs_actuator *a) {
        entry_done(&a->e[--a->n]);
        reindex(a);
}

/* ------------------------------------------------------------ journal */

static void put_escaped(FILE *f, const char *s) {
        for (; *s; s++)
                switch (*s) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

/* In place; -EBADMSG on an unknown escape. */
static int unescape(char *s) {
        char *w = s;

        for (char *r = s; *r; r++) {
                if (*r != '\\') {
                        *w++ = *r;
                        continue;
                }
                switch (*++r) {
                case '\\':
                        *w++ = '\\';
                        break;
                case 't':
                        *w++ = '\t';
                        break;
                case 'n':
                        *w++ = '\n';
                        break;
                default:
                        return -EBADMSG;
                }
        }
        *w = 0;
        return 0;
}

/* The errors the header promises for "the journal cannot be made durable". */
static int journal_errno(int r) {
        return r == -ENOSPC || r == -EDQUOT ? -ENOSPC : r == -ENOMEM ? -ENOMEM : -EIO;
}

static int fsync_dir(int dfd) {
        return fsync(dfd) < 0 ? negative_errno() : 0;
}

/* Make the journal say exactly what a->e says, durably. */
static int journal_save(struct vs_actuator *a) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        size_t size = 0;
        FILE *f;
        int r;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fputs(JOURNAL_MAGIC "\n", f);
        for (size_t i = 0; i < a->n; i++) {
                put_escaped(f, a->e[i].dir);
                fputc('\t', f);
                put_escaped(f, a->e[i].file);
                fputc('\t', f);
                put_escaped(f, a->e[i].original);
                fputc('\n', f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;

        fd = openat(a->dfd, JOURNAL_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return journal_errno(negative_errno());
        r = vs_write_all(fd, text, size);
        if (r == 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r == 0) {
                int fd2 = TAKE_FD(fd);
                if (close(fd2) < 0 && errno != EINTR)
                        r = negative_errno();
        }
        if (r == 0 && renameat(a->dfd, JOURNAL_TMP, a->dfd, JOURNAL) < 0)
                r = negative_errno();
        if (r == 0)
                r = fsync_dir(a->dfd);
        if (r < 0) {
                (void) unlinkat(a->dfd, JOURNAL_TMP, 0);
                return journal_errno(r);
        }
        return 0;
}

static int journal_remove(struct vs_actuator *a) {
        if (unlinkat(a->dfd, JOURNAL, 0) < 0 && errno != ENOENT)
                return negative_errno();
        return fsync_dir(a->dfd);
}

static bool journal_exists(int dfd) {
        return faccessat(dfd, JOURNAL, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Read STATE_DIR/journal into @a (empty before).  -ENOENT when there is none,
 * -EBADMSG when it is not one of ours (nothing is taken from it then). */
static int journal_load(struct vs_actuator *a) {
        _cleanup_close_ int fd = -1;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        bool first = true;
        int r;

        fd = openat(a->dfd, JOURNAL, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "r");
        if (!f)
                return negative_errno();
        TAKE_FD(fd);

        while ((len = getline(&line, &cap, f)) > 0) {
                char *field[3], *p = line;

                if (line[len - 1] != '\n')
                        return -EBADMSG;        /* torn: not written by journal_save() */
                line[len - 1] = 0;
                if (first) {
                        if (strcmp(line, JOURNAL_MAGIC) != 0)
                                return -EBADMSG;
                        first = false;
                        continue;
                }
                for (unsigned i = 0; i < 3; i++) {
                        field[i] = p;
                        p += strcspn(p, "\t");
                        if (i < 2) {
                                if (*p != '\t')
                                        return -EBADMSG;
                                *p++ = 0;
                        }
                }
                if (*p)
                        return -EBADMSG;
                for (unsigned i = 0; i < 3; i++)
                        if (unescape(field[i]) < 0)
                                return -EBADMSG;
                if (field[0][0] != '/' || !field[1][0] || strchr(field[1], '/'))
                        return -EBADMSG;
                if (find(a, field[0], field[1]))
                        continue;               /* keep the oldest original */

                r = add_copy(a, field[0], field[1], field[2]);
                if (r < 0)
                        return r;
        }
        if (ferror(f))
                return -EIO;
        if (first)
                return -EBADMSG;                /* empty file */
        return 0;
}

/* ------------------------------------------------------------ public */

static int open_state_dir(const char *state_dir, int *ret_fd) {
        _cleanup_close_ int dfd = -1;

        if (!state_dir || !*state_dir)
                return -EINVAL;
        if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        if (flock(dfd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : negative_errno();
        *ret_fd = TAKE_FD(dfd);
        return 0;
}

static struct vs_actuator *actuator_alloc(int dfd) {
        struct vs_actuator *a = calloc(1, sizeof(*a));

        if (a)
                a->dfd = dfd;
        return a;
}

int vs_actuator_new(const char *state_dir, struct vs_actuator **ret) {
        _cleanup_close_ int dfd = -1;
        struct vs_actuator *a;
        int r;

        if (!ret)
                return -EINVAL;
        r = open_state_dir(state_dir, &dfd);
        if (r < 0)
                return r;
        if (journal_exists(dfd))
                return -EEXIST;
        (void) unlinkat(dfd, JOURNAL_TMP, 0);           /* an unfinished save never counted */
        a = actuator_alloc(dfd);
        if (!a)
                return -ENOMEM;
        TAKE_FD(dfd);
        *ret = a;
        return 0;
}

void vs_actuator_free(struct vs_actuator *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n; i++)
                entry_done(&a->e[i]);
        free(a->e);
        free(a->slots);
        if (a->dfd >= 0)
                (void) close(a->dfd);   /* drops the flock */
        free(a);
}

static int read_norm(const char *dir, const char *file, char *buf, size_t len) {
        char raw[VALUE_MAX];
        int r;

        r = vs_cg_read(dir, file, raw, sizeof(raw));
        if (r < 0)
                return r;
        return vs_cg_normalize(file, raw, buf, len);
}

static int replace_str(char **p, const char *s) {
        char *t = strdup(s);

        if (!t)
                return -ENOMEM;
        free(*p);
        *p = t;
        return 0;
}

/*
 * Journal (dir, file) with its current value @cur before our first write to
 * it.  Files the kernel changes as a side effect of that write (cpu.idle
 * resets the weight) are journalled too, and before it, so that a
 * newest-first restore puts them back after it.  All or nothing: on failure
 * nothing new is in memory or in the journal.
 */
static int journal_first_write(struct vs_actuator *a, const char *dir, const char *file, const char *cur) {
        size_t added = 0;
        int r = 0;

        for (const char *const *aff = vs_cg_affected_files(file); aff && *aff && r == 0; aff++) {
                char v[VALUE_MAX];
                if (find(a, dir, *aff) || vs_cg_weight_blocked(dir, *aff) != 0 ||
                    read_norm(dir, *aff, v, sizeof(v)) < 0)
                        continue;
                r = add_copy(a, dir, *aff, v);
                if (r == 0)
                        added++;
        }
        if (r == 0) {
                r = add_copy(a, dir, file, cur);
                if (r == 0)
                        added++;
        }
        if (r == 0)
                r = journal_save(a);
        if (r < 0)
                while (added--)
                        drop_last(a);
        return r;
}

int vs_actuator_set(struct vs_actuator *a, const char *dir, const char *file, const char *value) {
        char cur[VALUE_MAX], want[VALUE_MAX];
        struct entry *e;
        int r;

        if (!a || !dir || dir[0] != '/' || !file || !*file || strchr(file, '/') || !value)
                return -EINVAL;
        r = vs_cg_normalize(file, value, want, sizeof(want));
        if (r < 0)
                return r;
        /* an idle group has no weight of its own: neither adopt the 3 it reads
         * as an operator's baseline nor try a write the kernel refuses */
        r = vs_cg_weight_blocked(dir, file);
        if (r < 0)
                return r;
        if (r > 0)
                return -EBUSY;
        r = read_norm(dir, file, cur, sizeof(cur));
        if (r < 0)
                return r;

        e = find(a, dir, file);
        if (e && strcmp(cur, e->last) != 0) {
                /* someone else wrote it: their value is the new baseline */
                _cleanup_free_ char *old_original = e->original, *old_last = e->last;

                e->original = strdup(cur);
                e->last = strdup(cur);
                if (!e->original || !e->last) {
                        free(e->original), free(e->last);
                        e->original = TAKE_PTR(old_original);
                        e->last = TAKE_PTR(old_last);
                        return -ENOMEM;
                }
                r = journal_save(a);
                if (r < 0) {
                        /* memory keeps matching the journal; we notice again next time */
                        free(e->original), free(e->last);
                        e->original = TAKE_PTR(old_original);
                        e->last = TAKE_PTR(old_last);
                        return r;
                }
                return 1;
        }
        if (strcmp(cur, want) == 0)
                return 0;

        if (!e) {
                r = journal_first_write(a, dir, file, cur);
                if (r < 0)
                        return r;       /* fail safe: the cgroup is not touched */
                e = &a->e[a->n - 1];
        }

        r = vs_cg_write(dir, file, want);
        if (r < 0)
                return r;       /* entry stays: its original is still what the file holds */

        /* remember what the kernel made of it ("0,1,2" reads back as "0-2") */
        if (read_norm(dir, file, cur, sizeof(cur)) < 0)
                (void) snprintf(cur, sizeof(cur), "%s", want);
        r = replace_str(&e->last, cur);
        if (r < 0)
                return r;

        /* and of the files this write changed as a side effect (cpu.idle ->
         * the weight): that change is ours, not someone else's */
        const char *const *aff = vs_cg_affected_files(file);
        for (; aff && *aff; aff++) {
                struct entry *o = find(a, dir, *aff);
                if (o && read_norm(dir, *aff, cur, sizeof(cur)) == 0) {
                        r = replace_str(&o->last, cur);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

const char *vs_actuator_original(struct vs_actuator *a, const char *dir, const char *file) {
        struct entry *e;

        if (!a || !dir || !file)
                return NULL;
        e = find(a, dir, file);
        return e ? e->original : NULL;
}

size_t vs_actuator_n_changed(const struct vs_actuator *a) {
        return a ? a->n : 0;
}

#define RESTORE_UNTRIED 1
#define RESTORE_BLOCKED 2       /* a weight while cpu.idle is 1 */

/* 0 restored (or already equal), -ENOENT vanished, RESTORE_BLOCKED, else -errno */
static int restore_one(const struct entry *e) {
        char cur[VALUE_MAX];
        int r;

        r = vs_cg_weight_blocked(e->dir, e->file);
        if (r > 0)
                return RESTORE_BLOCKED;
        r = read_norm(e->dir, e->file, cur, sizeof(cur));
        if (r == -ENOENT)
                return r;
        if (r == 0 && strcmp(cur, e->original) == 0)
                return 0;
        return vs_cg_write(e->dir, e->file, e->original);
}

int vs_actuator_restore(struct vs_actuator *a, size_t *ret_restored, size_t *ret_skipped) {
        _cleanup_free_ int *res = NULL;
        size_t restored = 0, skipped = 0, left;
        int r = 0;

        if (!a)
                return -EINVAL;
        if (a->n == 0)
                goto finish;
        res = malloc(a->n * sizeof(*res));
        if (!res)
                return -ENOMEM;
        for (size_t i = 0; i < a->n; i++)
                res[i] = RESTORE_UNTRIED;

        /* newest first; entries the kernel refused are retried while others
         * make progress (v1 cpuset: a child's wider original only fits once
         * the parent, written earlier, is restored; a weight once our
         * cpu.idle is cleared) */
        left = a->n;
        for (bool progress = true; left && progress;) {
                progress = false;
                for (size_t i = a->n; i-- > 0;) {
                        if (res[i] == 0 || res[i] == -ENOENT)
                                continue;
                        res[i] = restore_one(&a->e[i]);
                        if (res[i] == 0)
                                restored++;
                        else if (res[i] == -ENOENT)
                                skipped++;
                        else
                                continue;
                        left--;
                        progress = true;
                }
        }

        /* keep only what could not be restored, in order; a weight still
         * blocked by an idle we did not set has nothing to restore: the
         * kernel resets it to the default when that idle is cleared */
        size_t w = 0;
        for (size_t i = 0; i < a->n; i++) {
                if (res[i] == RESTORE_BLOCKED) {
                        res[i] = 0;
                        restored++;
                }
                if (res[i] == 0 || res[i] == -ENOENT) {
                        entry_done(&a->e[i]);
                        continue;
                }
                r = res[i];     /* ends as the newest (first tried) failure's errno */
                a->e[w++] = a->e[i];
        }
        a->n = w;
        reindex(a);

finish:
        if (a->n == 0) {
                int q = journal_remove(a);
                if (r == 0)
                        r = q;
        } else {
                int q = journal_save(a);
                if (r == 0)
                        r = q;
        }
        if (ret_restored)
                *ret_restored = restored;
        if (ret_skipped)
                *ret_skipped = skipped;
        return r;
}

int vs_journal_restore(const char *state_dir, size_t *ret_skipped) {
        struct vs_actuator *a;
        size_t restored = 0, skipped = 0;
        int dfd, r;

        r = open_state_dir(state_dir, &dfd);
        if (r < 0)
                return r;
        a = actuator_alloc(dfd);
        if (!a) {
                (void) close(dfd);
                return -ENOMEM;
        }
        r = journal_load(a);
        if (r == -ENOENT) {
                vs_actuator_free(a);
                if (ret_skipped)
                        *ret_skipped = 0;
                return 0;
        }
        if (r >= 0)
                r = vs_actuator_restore(a, &restored, &skipped);
        vs_actuator_free(a);
        if (r < 0)
                return r;
        if (ret_skipped)
                *ret_skipped = skipped;
        return restored > INT_MAX ? INT_MAX : (int) restored;
}
