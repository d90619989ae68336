/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "event.h"
#include "log.h"

static int max_level = LOG_INFO;
static bool to_journal;
static bool quiet_stderr;

void vs_log_setup(int level, bool quiet) {
        max_level = level;
        quiet_stderr = quiet;
        /* Under systemd our stderr is connected to the journal (JOURNAL_STREAM
         * names it): send structured entries instead.  Elsewhere (a terminal,
         * a test, a host without journald) plain stderr. */
        to_journal = getenv("JOURNAL_STREAM") && access("/run/systemd/journal/socket", W_OK) == 0;
}

int vs_log_level(void) {
        return max_level;
}

int vs_log(int level, int error, const struct vs_log_fields *f, const char *fmt, ...) {
        char msg[1024], vcpu[16] = "";
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return error ? -error : 0;
        errno = error;                  /* so %m works */
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (f && f->vcpu >= 0)
                snprintf(vcpu, sizeof(vcpu), "%d", f->vcpu);
        if (to_journal) {
                int r = sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level, "SYSLOG_IDENTIFIER=vschedd",
                                        "ERRNO=%i", error,
                                        "VM=%s", f && f->vm ? f->vm : "",
                                        "VCPU=%s", vcpu,
                                        "CGROUP=%s", f && f->cgroup ? f->cgroup : "",
                                        "REASON=%s", f && f->reason ? f->reason : "",
                                        "MESSAGE_ID=%s", f && f->message_id ? f->message_id : "",
                                        NULL);
                if (r >= 0)
                        goto out;
        }
        if (!quiet_stderr || level <= LOG_WARNING) {
                /* names come from guests' operators: never raw control bytes on a terminal or log */
                char esc_vm[1024], esc_msg[4096];
                vs_escape(msg, esc_msg, sizeof(esc_msg));
                if (f && f->vm)
                        fprintf(stderr, "vschedd: %s%s%s: %s\n", vs_escape(f->vm, esc_vm, sizeof(esc_vm)),
                                vcpu[0] ? "/vcpu" : "", vcpu, esc_msg);
                else
                        fprintf(stderr, "vschedd: %s\n", esc_msg);
        }
out:
        errno = saved;
        return error ? -error : 0;
}
