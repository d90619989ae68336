/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * metrics-server.c - GET /metrics over libmicrohttpd on sd-event (see
 * metrics-server.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <microhttpd.h>

#include "dlib.h"
#include "macro.h"
#include "metrics-http.h"
#include "metrics-server.h"
#include "metrics.h"

/*
 * libmicrohttpd, loaded when a listener starts: linked, it (with GnuTLS)
 * cost every vschedd start 3.7 M instructions in the dynamic linker, more
 * than a third of a --version.  The calls below go through this table (the
 * macros after it).
 */
#define MHD_FUNCS(X) \
        X(MHD_add_response_header) \
        X(MHD_create_response_from_buffer) \
        X(MHD_destroy_response) \
        X(MHD_get_daemon_info) \
        X(MHD_get_timeout) \
        X(MHD_lookup_connection_value) \
        X(MHD_queue_response) \
        X(MHD_run) \
        X(MHD_start_daemon) \
        X(MHD_stop_daemon)

static struct {
#define MHD_PTR(f) __typeof__(f) *f;
        MHD_FUNCS(MHD_PTR)
#undef MHD_PTR
} mhd;

/* 0, or -ENOENT / -ENOSYS with the reason in @err. */
static int mhd_load(char *err, size_t len) {
        static int state;       /* 1 loaded, < 0 failed */
        static const struct vs_dlib_sym syms[] = {
#define MHD_SYM(f) { #f, (void **) &mhd.f },
                MHD_FUNCS(MHD_SYM)
#undef MHD_SYM
        };
        int r;

        if (state > 0)
                return 0;
        r = vs_dlib_load("libmicrohttpd.so.12", "libmicrohttpd12", syms, ELEMENTSOF(syms), NULL, err, len);
        state = r < 0 ? r : 1;
        return r;
}

#define MHD_add_response_header (*mhd.MHD_add_response_header)
#define MHD_create_response_from_buffer (*mhd.MHD_create_response_from_buffer)
#define MHD_destroy_response (*mhd.MHD_destroy_response)
#define MHD_get_daemon_info (*mhd.MHD_get_daemon_info)
#define MHD_get_timeout (*mhd.MHD_get_timeout)
#define MHD_lookup_connection_value (*mhd.MHD_lookup_connection_value)
#define MHD_queue_response (*mhd.MHD_queue_response)
#define MHD_run (*mhd.MHD_run)
#define MHD_start_daemon (*mhd.MHD_start_daemon)
#define MHD_stop_daemon (*mhd.MHD_stop_daemon)

struct metrics_server {
        sd_event *event;
        struct MHD_Daemon *mhd;
        sd_event_source *io;            /* MHD's epoll fd */
        sd_event_source *timer;         /* MHD_get_timeout() */
        char address[VS_LISTEN_ADDRESS_MAX];
        metrics_server_render_t render;
        metrics_server_log_t log;
        void *userdata;
        struct metrics_server_stats stats;
};

_printf_(3, 4)
static void slog(struct metrics_server *s, int priority, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        if (!s->log)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        s->log(s->userdata, priority, msg);
}

/* MHD's own messages (a peer's bad request, a failed accept): debug only, a
 * remote peer must not be able to flood the journal.  Startup failures are
 * reported by metrics_server_new()'s caller from the returned error. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
        struct metrics_server *s = cls;
        char msg[512];
        size_t n;

        if (!s->log)
                return;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
                msg[--n] = '\0';
        s->log(s->userdata, LOG_DEBUG, msg);
}

static int update_timer(struct metrics_server *s) {
        MHD_UNSIGNED_LONG_LONG ms = 0;

        if (MHD_get_timeout(s->mhd, &ms) != MHD_YES)
                return sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        /* MHD's timeouts are whole seconds; 0 = work pending (run again now) */
        int r = sd_event_source_set_time_relative(s->timer, ms * 1000u);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

static int run_mhd(struct metrics_server *s) {
        int r;

        if (MHD_run(s->mhd) != MHD_YES)
                slog(s, LOG_DEBUG, "metrics: MHD_run failed");
        r = update_timer(s);
        if (r < 0)
                slog(s, LOG_WARNING, "metrics: cannot arm the HTTP timer: %s", strerror(-r));
        return 0;
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        return run_mhd(userdata);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        return run_mhd(userdata);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *text, const char *allow) {
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(strlen(text), (void *) text, MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return MHD_NO;
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        if (allow)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        ret = MHD_queue_response(c, code, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
        struct metrics_server *s = cls;
        _cleanup_free_ char *text = NULL, *alt = NULL;
        struct MHD_Response *resp;
        enum vs_metrics_format fmt;
        enum MHD_Result ret;
        char *body;
        int r;

        /* Errors are answered at the first call, before any request body:
         * MHD then closes the connection after the reply. */
        if (strcmp(url, "/metrics") != 0) {
                s->stats.refused++;
                return reply(c, MHD_HTTP_NOT_FOUND, "Not found: vschedd serves /metrics only\n", NULL);
        }
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
                s->stats.refused++;
                return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed: use GET or HEAD\n", "GET, HEAD");
        }

        /* A GET without a body is answered at the second call: MHD closes
         * the connection after a response queued at the first one, and a
         * scraper's keep-alive connection is worth keeping.  A GET with a
         * body (odd) is answered at once and the connection closed, so we
         * never read a body. */
        if (!*req_cls && !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH) &&
            !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
                *req_cls = s;
                return MHD_YES;
        }

        r = s->render(s->userdata, &text);
        if (r < 0) {
                s->stats.refused++;
                slog(s, LOG_WARNING, "metrics: cannot render the metrics, answering 500: %s", strerror(-r));
                return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error: cannot render the metrics\n", NULL);
        }
        fmt = vs_metrics_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
        if (fmt == VS_METRICS_TEXT_004) {
                r = vs_metrics_to_text004(text, &alt);
                if (r < 0) {
                        s->stats.refused++;
                        slog(s, LOG_WARNING, "metrics: cannot convert to text 0.0.4: %s", strerror(-r));
                        return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error: cannot render the metrics\n",
                                     NULL);
                }
        }

        body = fmt == VS_METRICS_TEXT_004 ? alt : text;
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
                return MHD_NO;
        /* MHD frees the body with free() when the response is destroyed */
        if (fmt == VS_METRICS_TEXT_004)
                alt = NULL;
        else
                text = NULL;
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                       fmt == VS_METRICS_TEXT_004 ? VS_METRICS_CONTENT_TYPE_TEXT
                                                                  : VS_METRICS_CONTENT_TYPE);
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT);
        ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        if (ret == MHD_YES)
                s->stats.served++;
        return ret;
}

static int bind_socket(const char *address, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_storage ss;
        socklen_t len;
        int one = 1, r;

        r = vs_listen_address_parse(address, &ss, &len, NULL);
        if (r < 0)
                return r;
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* restart right after a stop: the old connections' TIME_WAIT must not block the bind */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &ss, len) < 0)
                return -errno;
        if (listen(fd, (int) METRICS_SERVER_CONNECTIONS_MAX) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int metrics_server_new(sd_event *event, const char *address, metrics_server_render_t render,
                       metrics_server_log_t log, void *userdata, struct metrics_server **ret) {
        struct metrics_server *s = NULL;
        const union MHD_DaemonInfo *info;
        int fd = -EBADF, r;

        if (!event || !address || !render || !ret || strlen(address) >= VS_LISTEN_ADDRESS_MAX)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        snprintf(s->address, sizeof(s->address), "%s", address);
        s->render = render;
        s->log = log;
        s->userdata = userdata;

        char why[256];
        r = mhd_load(why, sizeof(why));
        if (r < 0) {
                slog(s, LOG_ERR, "metrics: %s", why);
                goto fail;
        }

        r = bind_socket(address, &fd);
        if (r < 0)
                goto fail;

        /* MHD owns @fd from here: MHD_stop_daemon() closes it, and so does a failed start */
        s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
                                  MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned) METRICS_SERVER_CONNECTIONS_MAX,
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned) METRICS_SERVER_CONNECTIONS_PER_IP_MAX,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) METRICS_SERVER_TIMEOUT_SEC,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) METRICS_SERVER_REQUEST_MAX,
                                  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                                  MHD_OPTION_END);
        if (!s->mhd) {
                /* some of MHD's failure paths close the socket, some do not;
                 * single-threaded, so the number cannot have been reused */
                if (fcntl(fd, F_GETFD) >= 0)
                        (void) close(fd);
                slog(s, LOG_ERR, "metrics: libmicrohttpd did not start on %s", address);
                r = -EIO;
                goto fail;
        }

        info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info || info->epoll_fd < 0) {
                r = -EIO;
                goto fail;
        }
        r = sd_event_add_io(event, &s->io, info->epoll_fd, EPOLLIN, on_io, s);
        if (r < 0)
                goto fail;
        /* after the trace and the control socket: scrapes can wait a little */
        (void) sd_event_source_set_priority(s->io, 10);
        (void) sd_event_source_set_description(s->io, "metrics-http");
        r = sd_event_add_time_relative(event, &s->timer, CLOCK_MONOTONIC, UINT64_MAX / 2, 100 * 1000, on_timer, s);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_priority(s->timer, 10);
        (void) sd_event_source_set_description(s->timer, "metrics-http-timer");
        r = update_timer(s);
        if (r < 0)
                goto fail;

        *ret = s;
        return 0;
fail:
        metrics_server_free(s);
        return r;
}

struct metrics_server *metrics_server_free(struct metrics_server *s) {
        if (!s)
                return NULL;
        s->io = sd_event_source_disable_unref(s->io);
        s->timer = sd_event_source_disable_unref(s->timer);
        if (s->mhd)
                MHD_stop_daemon(s->mhd);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

const char *metrics_server_address(const struct metrics_server *s) {
        return s ? s->address : NULL;
}

void metrics_server_get_stats(const struct metrics_server *s, struct metrics_server_stats *ret) {
        *ret = s ? s->stats : (struct metrics_server_stats) {};
}
