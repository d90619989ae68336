/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control.h - the daemon's control socket: an AF_UNIX SOCK_SEQPACKET socket
 * on the daemon's sd-event loop, speaking lib/ctl-proto.h.
 *
 * Owns the listening socket (and the socket file when it bound it itself),
 * the accepted connections, their event sources and timers.  Does not own
 * the daemon's state: every answer comes from the control_ops callbacks,
 * called on the event loop thread, one request at a time.  Never blocks the
 * loop: all I/O is non-blocking, a peer that does not read its response is
 * put on hold (EPOLLOUT) and one that sends nothing is closed after
 * CONTROL_IDLE_TIMEOUT_USEC.
 *
 * Access (SO_PEERCRED at accept): uid 0 = read-write; a uid whose primary or
 * supplementary groups (SO_PEERGROUPS, and getgrouplist() for the uid's
 * user, so a fresh group membership counts without a new login) include the
 * control group ("vschedd") = read-only; anyone else gets one "unauth"
 * response and is disconnected.  Read-only peers asking a command with
 * needs_write get "unauth".  getgrouplist() goes through NSS and may block on
 * a network directory: acceptable for a local admin socket.
 *
 * Limits: CONTROL_CONNECTIONS_MAX at once, CONTROL_CONNECTIONS_PER_UID_MAX
 * per non-root uid, the last CONTROL_CONNECTIONS_RESERVED_ROOT slots only
 * for root; over the limit a peer gets an "error" response and is closed.
 *
 * Socket file: if the process inherited (sd_listen_fds) a listening unix
 * SOCK_SEQPACKET socket bound to @path it is used and never unlinked.
 * Otherwise control binds @path itself: creates missing parent directories
 * 0755, refuses with -EADDRINUSE when connect() to an existing socket
 * succeeds (another vschedd is running), -EEXIST when @path is not a socket,
 * unlinks a stale socket, binds under umask 0177, then, when the group
 * exists, chgrp + chmod 0660 (otherwise 0600), and unlinks the file again in
 * control_free() if it is still the one it created.  umask() is process-wide:
 * call control_new() from the single daemon thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#define CONTROL_CONNECTIONS_MAX 32u
#define CONTROL_CONNECTIONS_PER_UID_MAX 8u
#define CONTROL_CONNECTIONS_RESERVED_ROOT 4u
#define CONTROL_IDLE_TIMEOUT_USEC (5ull * 1000000ull)

/*
 * The daemon's answers.  Each returns 0 or -errno; on success the data
 * outputs are owned by control (a json object, or malloc'd text).  A NULL
 * callback answers "error: not supported".
 *   -ENOENT   unknown VM                   -> status "error", "no such VM 'NAME'"
 *   -EINVAL   a value the daemon refuses   -> status "invalid", *ret_error or a default
 *   -EPERM/-EACCES                         -> status "unauth"
 *   other                                  -> status "error", *ret_error or strerror
 * *ret_error (malloc'd) is optional for vm_set and reload, and read on
 * failure only.  status/vms/vm/top must return a JSON object (the response's
 * "data"); metrics returns OpenMetrics text, sent as data {"text": TEXT}.
 * vm_set gets the validated "args" object (name plus at least one of mode,
 * weight_min, weight_max, idle); it does not take a reference.
 *
 * log is optional (NULL = silent): one message per refused peer, bad request
 * or socket failure, with a syslog priority (LOG_DEBUG..LOG_ERR).
 */
struct control_ops {
        int (*status)(void *ud, struct json_object **ret);
        int (*vms)(void *ud, struct json_object **ret);
        int (*vm)(void *ud, const char *name, struct json_object **ret);
        int (*vm_set)(void *ud, const char *name, struct json_object *args, char **ret_error);
        int (*reload)(void *ud, char **ret_error);
        int (*metrics)(void *ud, char **ret_text);
        void (*log)(void *ud, int priority, const char *message);
        int (*top)(void *ud, struct json_object **ret);         /* JSON object, schema in ctl-proto.h */
};

/* Counters for the daemon's metrics. */
struct control_stats {
        unsigned connections;           /* open now */
        uint64_t accepted;              /* connections served (authorised) */
        uint64_t refused_unauth;        /* peers neither root nor in the group */
        uint64_t refused_limit;         /* over a connection limit */
        uint64_t requests;              /* valid requests dispatched */
        uint64_t bad_requests;          /* refused by validation, incl. write commands from read-only peers */
        uint64_t timeouts;              /* idle connections closed */
};

struct control;

/*
 * control_new - listen on @path (VS_CTL_SOCKET_PATH when NULL) for the group
 * VS_CTL_GROUP.  @ops must outlive the control.  Returns 0, -EADDRINUSE
 * (another daemon answers on @path), -EEXIST (@path exists and is not a
 * socket), -ENAMETOOLONG, -ENOMEM or another -errno from the socket calls.
 */
int control_new(sd_event *e, const char *path, const struct control_ops *ops, void *userdata,
                struct control **ret);
/* As control_new() with another read-only group (tests). */
int control_new_with_group(sd_event *e, const char *path, const char *group, const struct control_ops *ops,
                           void *userdata, struct control **ret);
/* Close every connection and the socket.  Accepts NULL, returns NULL. */
struct control *control_free(struct control *c);

void control_get_stats(const struct control *c, struct control_stats *ret);
/* True when the listening socket came from socket activation. */
bool control_is_socket_activated(const struct control *c);

/* control-dispatch.c: the response to a validated request from @ops; when a
 * handler failed, @failed says why (for the log), else it is "". */
struct vs_ctl_request;
struct json_object *control_dispatch(const struct control_ops *ops, void *userdata, const struct vs_ctl_request *req,
                                     char *failed, size_t failed_len);
