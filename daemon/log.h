/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h - the daemon's one logging idiom: structured journald entries when
 * running under systemd, plain "vschedd: ..." lines on stderr otherwise (or
 * when the journal refuses the entry).  Fields: VM=, VCPU=, CGROUP=, REASON=
 * and MESSAGE_ID= for the main event kinds.  Only daemon/ logs; lib/ returns.
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* MESSAGE_IDs (journalctl MESSAGE_ID=...), stable */
#define VS_MSGID_STARTED   "8d0a3c1f5e6b4b0f9d7a2c4e1f3b5a70"
#define VS_MSGID_DECISION  "2f6e9b1a7c3d4e5f8a9b0c1d2e3f4a51"
#define VS_MSGID_RESTORED  "5b7c9d1e3f2a4b6c8d0e1f2a3b4c5d62"
#define VS_MSGID_EXTERNAL  "9e1d3c5b7a2f4e6d8c0b1a2f3e4d5c73"
#define VS_MSGID_SUMMARY   "c4a2e6f8b1d3c5e7a9b0d2f4e6a8c184"

struct vs_log_fields {
        const char *vm;
        int vcpu;                       /* -1 = none */
        const char *cgroup;
        const char *reason;
        const char *message_id;
};

void vs_log_setup(int max_level, bool quiet);
int vs_log_level(void);
/* Logs at @level; returns -@error when error != 0 (for "return log_...;"), else 0. */
int vs_log(int level, int error, const struct vs_log_fields *f, const char *fmt, ...) _printf_(4, 5);

#define log_error_errno(e, ...) vs_log(LOG_ERR, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) vs_log(LOG_WARNING, (e), NULL, __VA_ARGS__)
#define log_error(...) vs_log(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_warning(...) vs_log(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_notice(...) vs_log(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_info(...) vs_log(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_debug(...) vs_log(LOG_DEBUG, 0, NULL, __VA_ARGS__)
