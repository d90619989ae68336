/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control-socket.h - the control socket's file system and credential side:
 * binding the listening socket (parents created, a stale socket of a dead
 * daemon removed, a live one left alone, the control group given access),
 * taking a socket-activated one from systemd, and whether a peer belongs to
 * the control group.  control.c serves the connections.
 */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

struct control_socket {
        int fd;                         /* listening, non-blocking, -1 when not */
        bool bound;                     /* the path is ours: unlink it at the end */
        dev_t dev;                      /* what we bound, to unlink only that */
        ino_t ino;
        int group_errno;                /* != 0: chown to the group failed (root-only then) */
};

/* Bind and listen on @path (absolute); with @gid the socket is 0660 and
 * group-owned.  -EADDRINUSE when a daemon answers there, -EEXIST when
 * something else than a socket is in the way. */
int control_socket_bind(const char *path, const gid_t *gid, struct control_socket *ret);
/* A socket-activated SOCK_SEQPACKET listener on @path: its fd, 0 when none, or -errno. */
int control_socket_activated(const char *path);
/* Whether the peer on @fd with @cred is in group @gid: its primary group, its
 * supplementary groups at connect(), or its user's groups in the database. */
bool control_peer_in_group(int fd, const struct ucred *cred, gid_t gid);
