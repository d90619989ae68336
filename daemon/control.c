/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control.c - the control socket on sd-event (see control.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "control-socket.h"
#include "control.h"
#include "ctl-proto.h"
#include "macro.h"

struct connection {
        struct control *control;
        struct connection *prev, *next;
        int fd;
        uid_t uid;
        gid_t gid;
        pid_t pid;
        bool writable;
        sd_event_source *io;
        sd_event_source *timer;
        char *out;              /* a response waiting for EPOLLOUT */
        size_t out_len;
};

struct control {
        sd_event *event;
        sd_event_source *listen_source;
        sd_event_source *retry_source;  /* re-enables accepting after EMFILE */
        int fd;
        char *path;
        bool activated;
        bool unlink_on_free;
        dev_t dev;
        ino_t ino;
        bool have_group;
        gid_t gid;
        const struct control_ops *ops;
        void *userdata;
        struct connection *conns;
        struct control_stats stats;
        char *buf;              /* VS_CTL_MSG_MAX + 1 */
};

static void control_log(struct control *c, int priority, const char *fmt, ...) _printf_(3, 4);
static void control_log(struct control *c, int priority, const char *fmt, ...) {
        char msg[256];
        va_list ap;

        if (!c->ops->log)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        c->ops->log(c->userdata, priority, msg);
}

static void connection_free(struct connection *conn) {
        struct control *c;

        if (!conn)
                return;
        c = conn->control;
        if (conn->prev)
                conn->prev->next = conn->next;
        else
                c->conns = conn->next;
        if (conn->next)
                conn->next->prev = conn->prev;
        c->stats.connections--;

        sd_event_source_disable_unref(conn->io);
        sd_event_source_disable_unref(conn->timer);
        if (conn->fd >= 0)
                (void) close(conn->fd);
        free(conn->out);
        free(conn);
}

/* Serialize @resp, or an error response in its place when it does not fit. */
static int response_bytes(struct json_object *resp, char **ret, size_t *ret_len) {
        struct json_object *err;
        int r;

        r = vs_ctl_serialize(resp, ret, ret_len);
        if (r != -EMSGSIZE)
                return r;
        err = vs_ctl_response_new(VS_CTL_ERROR, "response exceeds the maximum message size", NULL);
        if (!err)
                return -ENOMEM;
        r = vs_ctl_serialize(err, ret, ret_len);
        json_object_put(err);
        return r;
}

/* One response to a peer we will not keep: best effort, never waits. */
static void refuse(int fd, enum vs_ctl_status status, const char *text) {
        _cleanup_free_ char *wire = NULL;
        struct json_object *resp;
        size_t len;

        resp = vs_ctl_response_new(status, text, NULL);
        if (!resp)
                return;
        if (vs_ctl_serialize(resp, &wire, &len) >= 0)
                (void) send(fd, wire, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        json_object_put(resp);
}

static int arm_idle_timer(struct connection *conn) {
        int r = sd_event_source_set_time_relative(conn->timer, CONTROL_IDLE_TIMEOUT_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(conn->timer, SD_EVENT_ONESHOT);
}

/* Returns 0 when sent or queued, < 0 when the connection must be closed. */
static int connection_send(struct connection *conn, char *wire, size_t len) {
        ssize_t n;

        n = send(conn->fd, wire, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                int r;
                free(conn->out);
                conn->out = wire;
                conn->out_len = len;
                r = sd_event_source_set_io_events(conn->io, EPOLLOUT);
                return r < 0 ? r : 0;
        }
        free(wire);
        if (n < 0)
                return -errno;
        return 0;
}

/* Handle one datagram of @len bytes (the real size, may exceed the buffer). */
static int connection_handle(struct connection *conn, size_t len) {
        struct control *c = conn->control;
        struct vs_ctl_request req = {};
        struct json_object *resp = NULL;
        char *wire = NULL;
        size_t wire_len;
        int r;

        r = vs_ctl_request_parse(c->buf, len, &req, &resp);
        if (r < 0)
                return r;
        if (r > 0) {
                c->stats.bad_requests++;
                control_log(c, LOG_DEBUG, "Refused control request from uid %u (pid %d): %s", (unsigned) conn->uid,
                            (int) conn->pid, vs_ctl_status_to_string(r));
        } else if (req.command->needs_write && !conn->writable) {
                c->stats.bad_requests++;
                control_log(c, LOG_INFO, "Refused '%s' from read-only uid %u (pid %d)", req.command->name,
                            (unsigned) conn->uid, (int) conn->pid);
                resp = vs_ctl_response_new(VS_CTL_UNAUTH, "permission denied: this command needs root", NULL);
        } else {
                char failed[512];
                c->stats.requests++;
                resp = control_dispatch(c->ops, c->userdata, &req, failed, sizeof(failed));
                if (failed[0])
                        control_log(c, LOG_DEBUG, "Control request '%s' from uid %u failed: %s", req.command->name,
                                    (unsigned) conn->uid, failed);
        }
        vs_ctl_request_done(&req);
        if (!resp)
                return -ENOMEM;

        r = response_bytes(resp, &wire, &wire_len);
        json_object_put(resp);
        if (r < 0)
                return r;
        return connection_send(conn, wire, wire_len);
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct connection *conn = userdata;
        struct control *c = conn->control;
        ssize_t n;
        int r;

        if (conn->out) {
                if (!(revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                        return 0;
                n = send(fd, conn->out, conn->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0)
                        goto close;
                conn->out = mfree(conn->out);
                r = sd_event_source_set_io_events(conn->io, EPOLLIN);
                if (r < 0)
                        goto close;
                r = arm_idle_timer(conn);
                if (r < 0)
                        goto close;
                return 0;
        }

        if (!(revents & EPOLLIN))
                goto close; /* EPOLLHUP/EPOLLERR with nothing to read */

        n = recv(fd, c->buf, VS_CTL_MSG_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0)
                goto close; /* EOF or error */

        r = connection_handle(conn, (size_t) n);
        if (r < 0) {
                control_log(c, r == -ENOMEM ? LOG_ERR : LOG_DEBUG, "Control connection of uid %u: %s, closing",
                            (unsigned) conn->uid, strerror(-r));
                goto close;
        }
        if (!conn->out) {
                r = arm_idle_timer(conn);
                if (r < 0)
                        goto close;
        }
        return 0;

close:
        connection_free(conn);
        return 0;
}

static int on_connection_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct connection *conn = userdata;

        conn->control->stats.timeouts++;
        control_log(conn->control, LOG_DEBUG, "Control connection of uid %u (pid %d) idle, closing",
                    (unsigned) conn->uid, (int) conn->pid);
        connection_free(conn);
        return 0;
}

static int accept_one(struct control *c, int fd) {
        struct ucred cred = {};
        socklen_t sl = sizeof(cred);
        struct connection *conn = NULL;
        unsigned per_uid = 0;
        bool writable;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) < 0) {
                r = -errno;
                (void) close(fd);
                return r;
        }

        for (struct connection *i = c->conns; i; i = i->next)
                if (i->uid == cred.uid)
                        per_uid++;
        if (c->stats.connections >= CONTROL_CONNECTIONS_MAX ||
            (cred.uid != 0 && (c->stats.connections >= CONTROL_CONNECTIONS_MAX - CONTROL_CONNECTIONS_RESERVED_ROOT ||
                               per_uid >= CONTROL_CONNECTIONS_PER_UID_MAX))) {
                c->stats.refused_limit++;
                control_log(c, LOG_WARNING, "Too many control connections, refusing uid %u (pid %d)",
                            (unsigned) cred.uid, (int) cred.pid);
                refuse(fd, VS_CTL_ERROR, "too many connections, try again later");
                (void) close(fd);
                return 0;
        }

        if (cred.uid == 0)
                writable = true;
        else if (c->have_group && control_peer_in_group(fd, &cred, c->gid))
                writable = false;
        else {
                c->stats.refused_unauth++;
                control_log(c, LOG_NOTICE, "Refused control connection from uid %u (pid %d): not root or in the "
                            "control group", (unsigned) cred.uid, (int) cred.pid);
                refuse(fd, VS_CTL_UNAUTH, c->have_group ? "permission denied: needs root or group " VS_CTL_GROUP
                                                        : "permission denied: needs root");
                (void) close(fd);
                return 0;
        }

        conn = calloc(1, sizeof(*conn));
        if (!conn) {
                (void) close(fd);
                return -ENOMEM;
        }
        *conn = (struct connection) {
                .control = c,
                .fd = fd,
                .uid = cred.uid,
                .gid = cred.gid,
                .pid = cred.pid,
                .writable = writable,
                .next = c->conns,
        };
        if (c->conns)
                c->conns->prev = conn;
        c->conns = conn;
        c->stats.connections++;

        r = sd_event_add_io(c->event, &conn->io, fd, EPOLLIN, on_connection_io, conn);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(conn->io, "control-connection");
        r = sd_event_add_time_relative(c->event, &conn->timer, CLOCK_MONOTONIC, CONTROL_IDLE_TIMEOUT_USEC, 0,
                                       on_connection_timeout, conn);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(conn->timer, "control-idle");
        c->stats.accepted++;
        return 0;

fail:
        connection_free(conn);
        return r;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        struct control *c = userdata;

        c->retry_source = sd_event_source_disable_unref(c->retry_source);
        (void) sd_event_source_set_enabled(c->listen_source, SD_EVENT_ON);
        return 0;
}

static int on_listen(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct control *c = userdata;
        int r;

        /* bounded, so a flood of connects cannot monopolise the loop */
        for (unsigned i = 0; i < 64; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        if (errno == ECONNABORTED)
                                continue;
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                /* level-triggered: pause accepting for a second instead of spinning */
                                control_log(c, LOG_WARNING, "Cannot accept control connections: %s, pausing",
                                            strerror(errno));
                                (void) sd_event_source_set_enabled(c->listen_source, SD_EVENT_OFF);
                                if (!c->retry_source) {
                                        r = sd_event_add_time_relative(c->event, &c->retry_source, CLOCK_MONOTONIC,
                                                                       1000000, 0, on_retry, c);
                                        if (r < 0)
                                                return 0;
                                        (void) sd_event_source_set_description(c->retry_source, "control-retry");
                                }
                                return 0;
                        }
                        control_log(c, LOG_WARNING, "accept() on the control socket failed: %s", strerror(errno));
                        return 0;
                }
                r = accept_one(c, cfd);
                if (r < 0)
                        control_log(c, LOG_WARNING, "Cannot serve a control connection: %s", strerror(-r));
        }
        return 0;
}

int control_new_with_group(sd_event *e, const char *path, const char *group, const struct control_ops *ops,
                           void *userdata, struct control **ret) {
        struct control *c;
        struct group grbuf, *gr = NULL;
        _cleanup_free_ char *buf = NULL;
        long grsize;
        int r;

        if (!e || !ops || !ret)
                return -EINVAL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = -1;
        c->ops = ops;
        c->userdata = userdata;
        c->event = sd_event_ref(e);
        c->path = strdup(path ?: VS_CTL_SOCKET_PATH);
        c->buf = malloc(VS_CTL_MSG_MAX + 1);
        if (!c->path || !c->buf) {
                r = -ENOMEM;
                goto fail;
        }

        if (group) {
                grsize = sysconf(_SC_GETGR_R_SIZE_MAX);
                if (grsize <= 0)
                        grsize = 16384;
                buf = malloc((size_t) grsize);
                if (!buf) {
                        r = -ENOMEM;
                        goto fail;
                }
                if (getgrnam_r(group, &grbuf, buf, (size_t) grsize, &gr) == 0 && gr) {
                        c->have_group = true;
                        c->gid = gr->gr_gid;
                } else
                        control_log(c, LOG_DEBUG, "No group '%s': control socket for root only", group);
        }

        r = control_socket_activated(c->path);
        if (r > 0) {
                c->fd = r;
                c->activated = true;
        } else if (r == 0) {
                struct control_socket cs;
                r = control_socket_bind(c->path, c->have_group ? &c->gid : NULL, &cs);
                c->fd = cs.fd;
                c->dev = cs.dev;
                c->ino = cs.ino;
                c->unlink_on_free = cs.bound;
                if (cs.group_errno)
                        control_log(c, LOG_WARNING, "Cannot give %s to the control group, keeping it root-only: %s",
                                    c->path, strerror(cs.group_errno));
        }
        if (r < 0)
                goto fail;

        r = sd_event_add_io(e, &c->listen_source, c->fd, EPOLLIN, on_listen, c);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(c->listen_source, "control-listen");
        /* serve (and reap hung-up) connections before accepting new ones */
        (void) sd_event_source_set_priority(c->listen_source, SD_EVENT_PRIORITY_NORMAL + 1);

        *ret = c;
        return 0;

fail:
        control_free(c);
        return r;
}

int control_new(sd_event *e, const char *path, const struct control_ops *ops, void *userdata,
                struct control **ret) {
        return control_new_with_group(e, path, VS_CTL_GROUP, ops, userdata, ret);
}

struct control *control_free(struct control *c) {
        struct stat st;

        if (!c)
                return NULL;
        while (c->conns)
                connection_free(c->conns);
        sd_event_source_disable_unref(c->listen_source);
        sd_event_source_disable_unref(c->retry_source);
        if (c->fd >= 0 && !c->activated)
                (void) close(c->fd);
        /* remove the socket file only if it is still the one we bound */
        if (c->unlink_on_free && lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
                (void) unlink(c->path);
        sd_event_unref(c->event);
        free(c->path);
        free(c->buf);
        free(c);
        return NULL;
}

void control_get_stats(const struct control *c, struct control_stats *ret) {
        if (!c || !ret)
                return;
        *ret = c->stats;
}

bool control_is_socket_activated(const struct control *c) {
        return c && c->activated;
}
