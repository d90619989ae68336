/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * metrics-http.h - the HTTP side of the metrics exposition that needs no
 * socket: the syntax of the listen address ("[metrics] listen ="), the choice
 * of format from a request's Accept header, and the Prometheus text 0.0.4
 * rendition of lib/metrics.c's OpenMetrics text.
 *
 * Owns nothing beyond the strings it returns.  No I/O, no logging.  The
 * daemon's listener (daemon/metrics-server.c) and the configuration parser
 * (lib/vs-config.c) use it, so that both agree on what an address is.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Content-Type of the Prometheus text format 0.0.4 (the fallback). */
#define VS_METRICS_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"

/* "[" + 45-byte IPv6 text + "]:" + 5 digits + NUL, rounded up */
#define VS_LISTEN_ADDRESS_MAX 64

/*
 * vs_listen_address_parse - a numeric listen address: "IPV4:PORT" or
 * "[IPV6]:PORT" (an IPv6 zone, "[fe80::1%eth0]:PORT", is accepted), PORT
 * 1..65535 in decimal.  Host names are refused on purpose: resolving them
 * would block the event loop and make the bound address depend on DNS.
 * "0.0.0.0:PORT" / "[::]:PORT" mean every address ([::] is IPv6 only).
 * On success fills *ret and *ret_len (both may be NULL: validation only).
 * Returns 0, or -EINVAL with a static reason in *ret_reason (may be NULL).
 */
int vs_listen_address_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len,
                            const char **ret_reason);

enum vs_metrics_format {
        VS_METRICS_OPENMETRICS,         /* application/openmetrics-text; version=1.0.0 */
        VS_METRICS_TEXT_004,            /* text/plain; version=0.0.4 */
};

/*
 * vs_metrics_negotiate - pick the format for a request's Accept header
 * (RFC 9110 media ranges with q values; the most specific range decides for
 * each format).  OpenMetrics wins ties and is the answer when there is no
 * header, when the header names neither format (we do not answer 406: a
 * scraper that asks for something else still gets metrics), or when it is
 * malformed.  Text 0.0.4 only when the client prefers text/plain (or the text wildcard)
 * strictly over OpenMetrics, e.g. "Accept: text/plain".  A text/plain range
 * with a version other than 0.0.4 does not count as text 0.0.4.
 */
enum vs_metrics_format vs_metrics_negotiate(const char *accept);

/*
 * vs_metrics_to_text004 - rewrite OpenMetrics text from lib/metrics.c as
 * Prometheus text 0.0.4: counter families' TYPE and HELP lines take the
 * "_total" name their samples carry, HELP text drops OpenMetrics' \" escape
 * (0.0.4 escapes only \\ and \n in HELP), "# EOF" goes.  Samples are kept as
 * they are (the label escaping is the same in both formats).  Returns 0 and
 * a malloc'd string, -EINVAL when @om is not lib/metrics.c's output (no
 * final "# EOF"), -ENOMEM.
 */
int vs_metrics_to_text004(const char *om, char **ret_text);
