/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * metrics-server.h - the optional HTTP listener for Prometheus: GET /metrics
 * on the daemon's sd-event loop ("[metrics] listen =" in vschedd.conf).
 *
 * Owns one listening TCP socket, the libmicrohttpd daemon that serves it
 * (in "external epoll" mode: MHD's epoll fd is an sd-event io source, a
 * one-shot timer follows MHD_get_timeout(), and MHD_run() is called on
 * either, so MHD never runs a thread or a blocking call of its own) and the
 * two event sources.  Does not own the numbers: every response's body comes
 * from the render callback (the same function that answers `vschedctl
 * metrics`), called on the loop thread.
 *
 * Protocol: GET or HEAD /metrics -> 200 with OpenMetrics 1.0.0 text, or
 * Prometheus text 0.0.4 when the Accept header prefers it (see
 * vs_metrics_negotiate()); another path -> 404; another method -> 405 with
 * "Allow: GET, HEAD"; a render failure -> 500.  No TLS and no
 * authentication: bind it to loopback or a management network (or put a
 * proxy in front), as node_exporter's default would not.
 *
 * Never blocks the loop: sockets are non-blocking (MHD's epoll mode), a
 * request's headers must fit METRICS_SERVER_REQUEST_MAX bytes (else MHD
 * answers 431), a connection idle for METRICS_SERVER_TIMEOUT_SEC seconds is
 * closed (a client that connects and sends nothing, or never reads), at most
 * METRICS_SERVER_CONNECTIONS_MAX connections at once and
 * METRICS_SERVER_CONNECTIONS_PER_IP_MAX from one address (more are accepted
 * and closed at once).  Rendering is synchronous and bounded by the number
 * of VMs (a keep-alive request for the bundled recording took 125 us median,
 * rendering included, on a loaded 2-core host).
 *
 * Why libmicrohttpd (Debian libmicrohttpd-dev) rather than a hand-written
 * server: HTTP/1.1 parsing, keep-alive, pipelining, HEAD, chunked uploads
 * and the limits above are its job and are fuzzed upstream; it runs under an
 * external event loop without threads and is clean under ASan/UBSan here.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#define METRICS_SERVER_CONNECTIONS_MAX 16u
#define METRICS_SERVER_CONNECTIONS_PER_IP_MAX 8u
#define METRICS_SERVER_TIMEOUT_SEC 5u
#define METRICS_SERVER_REQUEST_MAX (16u * 1024u)

struct metrics_server;

struct metrics_server_stats {
        uint64_t served;        /* 200 responses */
        uint64_t refused;       /* 404, 405 and 500 responses (MHD's own 4xx are not counted) */
};

/*
 * The body of a 200 response: malloc'd OpenMetrics text from lib/metrics.c
 * (ending in "# EOF\n") in *ret_text.  Returns 0 or -errno (-> 500).
 */
typedef int (*metrics_server_render_t)(void *userdata, char **ret_text);
/* Messages with a syslog priority; may be NULL (silent). */
typedef void (*metrics_server_log_t)(void *userdata, int priority, const char *message);

/*
 * metrics_server_new - bind @address (lib/metrics-http.h syntax: IPV4:PORT,
 * [IPV6]:PORT; SO_REUSEADDR, and IPV6_V6ONLY for IPv6 so "[::]" never takes
 * the IPv4 port too) and serve it on @event.  Returns 0, -EINVAL (bad
 * address), -EADDRINUSE, -EADDRNOTAVAIL, -EACCES (a privileged port) and
 * other -errno from socket()/bind()/listen(), -EIO when libmicrohttpd fails
 * to start (logged through @log), -ENOMEM.
 */
int metrics_server_new(sd_event *event, const char *address, metrics_server_render_t render,
                       metrics_server_log_t log, void *userdata, struct metrics_server **ret);

/* Closes the socket and every connection.  Accepts NULL, returns NULL. */
struct metrics_server *metrics_server_free(struct metrics_server *s);

/* The address it was created with (the configuration's spelling). */
const char *metrics_server_address(const struct metrics_server *s);

void metrics_server_get_stats(const struct metrics_server *s, struct metrics_server_stats *ret);
