/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vschedctl-top.h - `vschedctl top`: the live terminal view (ncurses) of the
 * daemon's per VM and per vCPU figures, refreshed every interval.
 *
 * Owns the terminal while it runs (curses mode, signal handlers for
 * SIGINT/SIGTERM/SIGHUP, stderr parked in a temporary file so messages do not
 * scribble over the screen) and gives all of it back on every way out.  Gets
 * its data only through @fetch (vschedctl's transport, the read-only "top"
 * command), so it works for members of the vschedd group without root.  The
 * numbers, rates, sorting and cell texts come from lib/top-model.h.
 *
 * Without a terminal on stdin and stdout (a pipe, a script) it prints one
 * plain table, from two answers one interval apart, and returns.
 */
#pragma once

#include <json-c/json.h>

/* One "top" answer in *ret_data (a reference the caller puts).  Returns
 * vschedctl's exit code: 0, or 1/2/3 after printing why on stderr. */
typedef int (*vschedctl_top_fetch_t)(void *userdata, struct json_object **ret_data);

/*
 * vschedctl_top - run the view until 'q', SIGINT, SIGTERM or SIGHUP
 * (exit code 0), or until @fetch fails (its exit code).  @interval_s is the
 * refresh period (> 0).
 */
int vschedctl_top(vschedctl_top_fetch_t fetch, void *userdata, double interval_s);
