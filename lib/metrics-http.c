/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * metrics-http.c - listen address syntax, Accept negotiation and the text
 * 0.0.4 rendition (see metrics-http.h).  Pure string work.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "metrics-http.h"

static int reason(const char **ret_reason, const char *why) {
        if (ret_reason)
                *ret_reason = why;
        return -EINVAL;
}

static int parse_port(const char *s, uint16_t *ret) {
        unsigned long v = 0;

        if (!*s || strlen(s) > 5)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned long) (*p - '0');
        }
        if (v < 1 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

int vs_listen_address_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len,
                            const char **ret_reason) {
        struct sockaddr_storage ss = {};
        char host[VS_LISTEN_ADDRESS_MAX];
        const char *colon;
        socklen_t len;
        uint16_t port;

        if (!s || !*s)
                return reason(ret_reason, "empty address");
        if (strlen(s) >= sizeof(host))
                return reason(ret_reason, "address too long");

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
                char *zone;

                if (!close || close[1] != ':')
                        return reason(ret_reason, "expected [IPV6]:PORT");
                memcpy(host, s + 1, (size_t) (close - s - 1));
                host[close - s - 1] = '\0';
                colon = close + 1;
                zone = strchr(host, '%');
                if (zone) {
                        *zone++ = '\0';
                        sin6->sin6_scope_id = if_nametoindex(zone);
                        if (sin6->sin6_scope_id == 0)
                                return reason(ret_reason, "unknown interface in the IPv6 zone");
                }
                if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
                        return reason(ret_reason, "not a numeric IPv6 address (host names are not accepted)");
                sin6->sin6_family = AF_INET6;
                len = sizeof(*sin6);
        } else {
                struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

                colon = strrchr(s, ':');
                if (!colon)
                        return reason(ret_reason, "expected IPV4:PORT or [IPV6]:PORT");
                if (memchr(s, ':', (size_t) (colon - s)))
                        return reason(ret_reason, "an IPv6 address needs brackets: [IPV6]:PORT");
                memcpy(host, s, (size_t) (colon - s));
                host[colon - s] = '\0';
                /* inet_pton, not inet_aton: no "127.1" or octal shorthands */
                if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
                        return reason(ret_reason, "not a numeric IPv4 address (host names are not accepted)");
                sin->sin_family = AF_INET;
                len = sizeof(*sin);
        }

        if (parse_port(colon + 1, &port) < 0)
                return reason(ret_reason, "port must be a number from 1 to 65535");
        if (ss.ss_family == AF_INET6)
                ((struct sockaddr_in6 *) &ss)->sin6_port = htons(port);
        else
                ((struct sockaddr_in *) &ss)->sin_port = htons(port);

        if (ret)
                *ret = ss;
        if (ret_len)
                *ret_len = len;
        return 0;
}

/* ---------------------------------------------------------------- Accept */

/* Specificity of the best range seen so far for one format: 0 none, 1 any type, 2 type wildcard, 3 exact. */
struct pick {
        int specificity;
        double q;
};

static void consider(struct pick *p, int specificity, double q) {
        if (specificity > p->specificity) {
                p->specificity = specificity;
                p->q = q;
        } else if (specificity == p->specificity && q > p->q)
                p->q = q;       /* the same range listed twice (two versions): the better q */
}

static char *trim(char *s) {
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                *--e = '\0';
        return s;
}

/* Strip optional double quotes from a parameter value. */
static char *unquote(char *v) {
        size_t n = strlen(v);

        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v[n - 1] = '\0';
                return v + 1;
        }
        return v;
}

enum vs_metrics_format vs_metrics_negotiate(const char *accept) {
        _cleanup_free_ char *copy = NULL;
        struct pick om = {}, text = {};
        char *save = NULL;

        if (!accept || !*accept)
                return VS_METRICS_OPENMETRICS;
        copy = strdup(accept);
        if (!copy)
                return VS_METRICS_OPENMETRICS;

        for (char *range = strtok_r(copy, ",", &save); range; range = strtok_r(NULL, ",", &save)) {
                char *psave = NULL, *type, *param;
                const char *version = NULL;
                double q = 1.0;

                type = strtok_r(range, ";", &psave);
                if (!type)
                        continue;
                type = trim(type);
                while ((param = strtok_r(NULL, ";", &psave))) {
                        char *eq = strchr(param, '=');
                        if (!eq)
                                continue;
                        *eq = '\0';
                        param = trim(param);
                        char *value = unquote(trim(eq + 1));
                        if (strcasecmp(param, "q") == 0) {
                                char *end;
                                q = strtod(value, &end);
                                if (end == value || *end || q < 0 || q > 1)
                                        q = 0;  /* malformed: as if not acceptable */
                        } else if (strcasecmp(param, "version") == 0)
                                version = value;
                }

                if (strcmp(type, "*/*") == 0) {
                        consider(&om, 1, q);
                        consider(&text, 1, q);
                } else if (strcasecmp(type, "application/*") == 0)
                        consider(&om, 2, q);
                else if (strcasecmp(type, "text/*") == 0)
                        consider(&text, 2, q);
                else if (strcasecmp(type, "application/openmetrics-text") == 0)
                        consider(&om, 3, q);    /* any version: 1.0.0 is what we have */
                else if (strcasecmp(type, "text/plain") == 0 && (!version || strcmp(version, "0.0.4") == 0))
                        consider(&text, 3, q);
        }

        if (text.specificity > 0 && text.q > 0 && (om.specificity == 0 || text.q > om.q))
                return VS_METRICS_TEXT_004;
        return VS_METRICS_OPENMETRICS;
}

/* ---------------------------------------------------------------- 0.0.4 */

static bool is_counter_family(const char *om, const char *name, size_t len) {
        /* "# TYPE NAME counter\n" somewhere in the text */
        for (const char *p = om; (p = strstr(p, "# TYPE ")); p++) {
                if ((p == om || p[-1] == '\n') && strncmp(p + 7, name, len) == 0 && p[7 + len] == ' ')
                        return strncmp(p + 8 + len, "counter\n", 8) == 0;
        }
        return false;
}

int vs_metrics_to_text004(const char *om, char **ret_text) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, n;
        FILE *f;

        if (!om || !ret_text)
                return -EINVAL;
        n = strlen(om);
        if (n < 6 || strcmp(om + n - 6, "# EOF\n") != 0 || (n > 6 && om[n - 7] != '\n'))
                return -EINVAL;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (const char *line = om; *line;) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t) (eol - line) : strlen(line);
                bool type = strncmp(line, "# TYPE ", 7) == 0, help = strncmp(line, "# HELP ", 7) == 0;

                if (len == 5 && strncmp(line, "# EOF", 5) == 0)
                        break;
                if (type || help) {
                        const char *name = line + 7, *sp = memchr(name, ' ', len - 7);
                        size_t nlen = sp ? (size_t) (sp - name) : len - 7;
                        bool counter = type ? sp && (size_t) (line + len - sp) == 8 && strncmp(sp, " counter", 8) == 0
                                            : is_counter_family(om, name, nlen);

                        fprintf(f, "# %s %.*s%s", type ? "TYPE" : "HELP", (int) nlen, name, counter ? "_total" : "");
                        for (const char *p = name + nlen; p < line + len; p++) {
                                if (help && p[0] == '\\' && p + 1 < line + len) {
                                        /* \\ and \n stay escaped; \" becomes a plain quote */
                                        if (p[1] != '"')
                                                fputc('\\', f);
                                        fputc(p[1], f);
                                        p++;
                                        continue;
                                }
                                fputc(*p, f);
                        }
                        fputc('\n', f);
                } else
                        fprintf(f, "%.*s\n", (int) len, line);
                line += len + (eol ? 1 : 0);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret_text = TAKE_PTR(buf);
        return 0;
}
