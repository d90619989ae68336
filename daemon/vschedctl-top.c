/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vschedctl-top.c - see vschedctl-top.h. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "json-util.h"
#include "macro.h"
#include "mono-clock.h"
#include "top-model.h"
#include "vschedctl-top.h"

#define FIRST_ROW 3     /* title, keys, column header */

struct top {
        vschedctl_top_fetch_t fetch;
        void *userdata;
        double interval_s;
        struct vs_top_snapshot *prev, *cur;
        struct vs_top_row *rows;
        size_t n_rows;
        enum vs_top_col sort_col;
        bool reverse;
        size_t scroll;
};

static volatile sig_atomic_t stop_signal;
static bool curses_on;
static int saved_stderr = -1;
static FILE *parked_stderr;

static void on_stop_signal(int sig) {
        stop_signal = sig;
}

static double now_s(void) {
        return (double) vs_mono_ns() / 1e9;
}

/* Fetch a new snapshot; the current one becomes the previous.  Returns an
 * exit code. */
static int top_refresh(struct top *t) {
        _cleanup_json_ struct json_object *data = NULL;
        struct vs_top_snapshot *s = NULL;
        struct vs_top_row *rows = NULL;
        size_t n = 0;
        int r;

        r = t->fetch(t->userdata, &data);
        if (r != 0)
                return r;
        r = vs_top_snapshot_from_json(data, &s);
        if (r < 0) {
                fprintf(stderr, "vschedctl: top: %s\n",
                        r == -EBADMSG ? "the daemon's answer has no VM list (an older vschedd?)" : strerror(-r));
                return 1;
        }
        r = vs_top_rows(t->cur, s, &rows, &n);
        if (r >= 0)
                r = vs_top_sort(rows, n, t->sort_col, t->reverse);
        if (r < 0) {
                free(rows);
                vs_top_snapshot_free(s);
                fprintf(stderr, "vschedctl: top: %s\n", strerror(-r));
                return 1;
        }
        vs_top_snapshot_free(t->prev);
        t->prev = t->cur;
        t->cur = s;
        free(t->rows);
        t->rows = rows;
        t->n_rows = n;
        return 0;
}

static int name_width(const struct top *t) {
        int w = vs_top_col_width(VS_TOP_COL_NAME);
        char cell[VS_TOP_NAME_MAX + 16];

        for (size_t i = 0; i < t->n_rows; i++) {
                vs_top_format_cell(&t->rows[i], VS_TOP_COL_NAME, cell, sizeof(cell));
                if ((int) strlen(cell) > w)
                        w = (int) strlen(cell);
        }
        return w > 48 ? 48 : w;
}

/* One line of cells (or titles when @row is NULL) into @buf. */
static void format_line(const struct top *t, const struct vs_top_row *row, int namew, char *buf, size_t len) {
        size_t off = 0;

        buf[0] = 0;
        for (int c = 0; c < _VS_TOP_COL_MAX && off + 1 < len; c++) {
                char cell[VS_TOP_NAME_MAX + 16];
                int w = c == VS_TOP_COL_NAME ? namew : vs_top_col_width(c);
                bool left = c == VS_TOP_COL_NAME || c == VS_TOP_COL_MODE || c == VS_TOP_COL_STATE;
                int n;

                if (row)
                        vs_top_format_cell(row, c, cell, sizeof(cell));
                else
                        snprintf(cell, sizeof(cell), "%s", vs_top_col_title(c));
                if ((int) strlen(cell) > w)
                        cell[w] = 0;
                n = snprintf(buf + off, len - off, left ? "%s%-*s" : "%s%*s", c ? " " : "", w, cell);
                if (n < 0)
                        break;
                off += (size_t) n;
        }
        if (off >= len)
                off = len - 1;
        while (off > 0 && buf[off - 1] == ' ')
                off--;
        buf[off] = 0;
}

static void sort_line(const struct top *t, char *buf, size_t len) {
        bool text = t->sort_col == VS_TOP_COL_NAME || t->sort_col == VS_TOP_COL_MODE || t->sort_col == VS_TOP_COL_STATE;
        snprintf(buf, len, "sort: %s %s", vs_top_col_title(t->sort_col),
                 text != t->reverse ? "ascending" : "descending");
}

static unsigned count_vms(const struct top *t) {
        unsigned n = 0;
        for (size_t i = 0; i < t->n_rows; i++)
                n += t->rows[i].vcpu < 0;
        return n;
}

static void draw(struct top *t) {
        char line[1024], keys[512], sort[96];
        size_t visible = LINES > FIRST_ROW ? (size_t) (LINES - FIRST_ROW) : 0, off = 0;
        int namew = name_width(t);

        erase();
        sort_line(t, sort, sizeof(sort));
        snprintf(line, sizeof(line), "vschedd top: mode %s%s, %u VM(s), up %.0fs, every %.1fs    %s",
                 t->cur && t->cur->mode[0] ? t->cur->mode : "?", t->cur && t->cur->dry_run ? " (dry run)" : "",
                 count_vms(t), t->cur ? t->cur->uptime_s : 0.0, t->interval_s, sort);
        mvaddnstr(0, 0, line, COLS);

        for (int c = 0; c < _VS_TOP_COL_MAX && off + 1 < sizeof(keys); c++) {
                int n = snprintf(keys + off, sizeof(keys) - off, "%c %s  ", vs_top_col_key(c), vs_top_col_title(c));
                if (n < 0)
                        break;
                off += (size_t) n;
        }
        if (off < sizeof(keys))
                snprintf(keys + off, sizeof(keys) - off, "r reverse  q quit");
        mvaddnstr(1, 0, keys, COLS);

        format_line(t, NULL, namew, line, sizeof(line));
        attron(A_REVERSE);
        mvaddnstr(2, 0, line, COLS);
        for (int x = (int) strlen(line); x < COLS; x++)
                mvaddch(2, x, ' ');
        attroff(A_REVERSE);

        if (t->scroll + visible > t->n_rows)
                t->scroll = t->n_rows > visible ? t->n_rows - visible : 0;
        for (size_t i = 0; i < visible && t->scroll + i < t->n_rows; i++) {
                const struct vs_top_row *r = &t->rows[t->scroll + i];
                format_line(t, r, namew, line, sizeof(line));
                if (r->vcpu < 0)
                        attron(A_BOLD);
                mvaddnstr(FIRST_ROW + (int) i, 0, line, COLS);
                if (r->vcpu < 0)
                        attroff(A_BOLD);
        }
        if (t->n_rows == 0)
                mvaddnstr(FIRST_ROW, 0, "(no VMs yet)", COLS);
        refresh();
}

/* Returns true when the key ends the view. */
static bool handle_key(struct top *t, int ch) {
        int col;

        switch (ch) {
        case 'q':
        case 'Q':
                return true;
        case 'r':
                t->reverse = !t->reverse;
                break;
        case KEY_UP:
                if (t->scroll > 0)
                        t->scroll--;
                return false;
        case KEY_DOWN:
                t->scroll++;
                return false;
        case KEY_PPAGE:
                t->scroll = t->scroll > (size_t) LINES ? t->scroll - (size_t) LINES : 0;
                return false;
        case KEY_NPAGE:
                t->scroll += (size_t) LINES;
                return false;
        case KEY_RESIZE:
                return false;   /* ncurses updated LINES/COLS; the next draw uses them */
        default:
                col = vs_top_col_from_key(ch);
                if (col < 0)
                        return false;
                /* the same key again flips the order, as in htop */
                if ((enum vs_top_col) col == t->sort_col)
                        t->reverse = !t->reverse;
                else {
                        t->sort_col = (enum vs_top_col) col;
                        t->reverse = false;
                }
        }
        (void) vs_top_sort(t->rows, t->n_rows, t->sort_col, t->reverse);
        return false;
}

/* Give the terminal back; replay what went to stderr meanwhile.  Safe to
 * call twice (atexit and the normal path). */
static void restore_terminal(void) {
        if (curses_on) {
                endwin();
                curses_on = false;
        }
        if (saved_stderr >= 0) {
                char buf[4096];
                size_t n;

                fflush(stderr);
                (void) dup2(saved_stderr, STDERR_FILENO);
                close(saved_stderr);
                saved_stderr = -1;
                if (parked_stderr) {
                        rewind(parked_stderr);
                        while ((n = fread(buf, 1, sizeof(buf), parked_stderr)) > 0)
                                (void) !write(STDERR_FILENO, buf, n);
                        fclose(parked_stderr);
                        parked_stderr = NULL;
                }
        }
}

/* Messages written while curses owns the screen would be drawn over (and
 * then lost with the alternate screen): keep them in a temporary file. */
static void park_stderr(void) {
        fflush(stderr);
        parked_stderr = tmpfile();
        if (!parked_stderr)
                return;
        saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (saved_stderr < 0 || dup2(fileno(parked_stderr), STDERR_FILENO) < 0) {
                if (saved_stderr >= 0)
                        close(saved_stderr);
                saved_stderr = -1;
                fclose(parked_stderr);
                parked_stderr = NULL;
        }
}

static int print_once(struct top *t) {
        char line[1024];
        int namew, r;

        (void) nanosleep(&(struct timespec) { .tv_sec = (time_t) t->interval_s,
                                              .tv_nsec = (long) (fmod(t->interval_s, 1.0) * 1e9) },
                         NULL);
        r = top_refresh(t);
        if (r != 0)
                return r;
        namew = name_width(t);
        format_line(t, NULL, namew, line, sizeof(line));
        printf("%s\n", line);
        for (size_t i = 0; i < t->n_rows; i++) {
                format_line(t, &t->rows[i], namew, line, sizeof(line));
                printf("%s\n", line);
        }
        return fflush(stdout) == 0 ? 0 : 1;
}

static int run_curses(struct top *t) {
        struct sigaction sa = { .sa_handler = on_stop_signal };
        double next = now_s() + t->interval_s;
        int r = 0;

        sigemptyset(&sa.sa_mask);
        /* no SA_RESTART: a signal wakes getch() */
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
        atexit(restore_terminal);

        park_stderr();
        if (!initscr()) {
                restore_terminal();
                fprintf(stderr, "vschedctl: top: cannot set up the terminal (TERM=%s)\n", getenv("TERM") ?: "");
                return 1;
        }
        curses_on = true;
        cbreak();
        noecho();
        keypad(stdscr, TRUE);
        (void) curs_set(0);

        while (!stop_signal) {
                double left;
                int ch;

                draw(t);
                left = next - now_s();
                if (left > 0) {
                        timeout((int) (left * 1000.0) + 1);
                        ch = getch();
                        if (ch != ERR) {
                                if (handle_key(t, ch))
                                        break;
                                continue;
                        }
                }
                if (now_s() < next || stop_signal)
                        continue;
                r = top_refresh(t);
                if (r != 0)
                        break;
                next += t->interval_s;
                if (next < now_s())
                        next = now_s() + t->interval_s;  /* a slow answer: no burst of catch-up fetches */
        }
        restore_terminal();
        return r;
}

int vschedctl_top(vschedctl_top_fetch_t fetch, void *userdata, double interval_s) {
        struct top t = {
                .fetch = fetch,
                .userdata = userdata,
                .interval_s = interval_s > 0 ? interval_s : 1.0,
                .sort_col = VS_TOP_COL_NAME,
        };
        int r;

        (void) setlocale(LC_ALL, "");
        /* the first answer outside curses: "not running" or "not authorised"
         * are plain messages on a normal terminal */
        r = top_refresh(&t);
        if (r == 0)
                r = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) ? run_curses(&t) : print_once(&t);
        free(t.rows);
        vs_top_snapshot_free(t.prev);
        vs_top_snapshot_free(t.cur);
        return r;
}
