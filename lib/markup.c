/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * markup.c - escaping untrusted text for XML, dot and file names (markup.h).
 * Hand-written: no Debian library in our dependency set escapes to exactly
 * these rules (libxml2 would add a large dependency for one function and
 * passes control characters through, which makes invalid XML).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "markup.h"

/* Length of the valid, printable UTF-8 character at @p, or 0 if the byte at
 * @p must be shown as \xNN. */
static size_t printable_char(const unsigned char *p) {
        uint32_t cp;
        size_t n;

        if (p[0] < 0x20 || p[0] == 0x7f)
                return 0;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
                n = 2;
                cp = p[0] & 0x1f;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                n = 3;
                cp = p[0] & 0x0f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                n = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;       /* also stops at the terminating NUL */
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;               /* overlong or beyond Unicode */
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
                return 0;               /* surrogates and non-characters: not XML */
        return n;
}

enum quoting {
        Q_NONE,
        Q_XML,
        Q_DOT,
        Q_DOT_HTML,
};

static void put_display(FILE *f, const char *s, enum quoting q) {
        for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p;) {
                size_t n = printable_char(p);

                if (n == 0) {
                        fprintf(f, q == Q_DOT || q == Q_DOT_HTML ? "\\\\x%02x" : "\\x%02x", *p);
                        p++;
                        continue;
                }
                if (n > 1) {
                        fwrite(p, 1, n, f);
                        p += n;
                        continue;
                }
                switch (*p) {
                case '\\':
                        fputs(q == Q_DOT || q == Q_DOT_HTML ? "\\\\\\\\" : "\\\\", f);
                        break;
                case '&':
                        fputs(q == Q_XML || q == Q_DOT_HTML ? "&amp;" : "&", f);
                        break;
                case '<':
                        fputs(q == Q_XML || q == Q_DOT_HTML ? "&lt;" : "<", f);
                        break;
                case '>':
                        fputs(q == Q_XML || q == Q_DOT_HTML ? "&gt;" : ">", f);
                        break;
                case '\'':
                        fputs(q == Q_XML || q == Q_DOT_HTML ? "&#39;" : "'", f);
                        break;
                case '"':
                        fputs(q == Q_XML || q == Q_DOT_HTML ? "&quot;" : q == Q_DOT ? "\\\"" : "\"", f);
                        break;
                default:
                        fputc(*p, f);
                }
                p++;
        }
}

void vs_markup_xml(FILE *f, const char *s) {
        put_display(f, s, Q_XML);
}

void vs_markup_dot(FILE *f, const char *s) {
        put_display(f, s, Q_DOT);
}

void vs_markup_dot_html(FILE *f, const char *s) {
        put_display(f, s, Q_DOT_HTML);
}

const char *vs_markup_display(const char *s, char *buf, size_t len) {
        size_t o = 0;

        if (len == 0)
                return buf;
        for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p;) {
                size_t n = printable_char(p);
                char tmp[8];
                size_t k;

                if (n == 0)
                        k = (size_t) snprintf(tmp, sizeof(tmp), "\\x%02x", *p), n = 1;
                else if (*p == '\\')
                        k = 2, memcpy(tmp, "\\\\", 2);
                else
                        k = n, memcpy(tmp, p, n);
                if (o + k + 1 > len)
                        break;
                memcpy(buf + o, tmp, k);
                o += k;
                p += n;
        }
        buf[o] = 0;
        return buf;
}

static bool keep_byte(unsigned char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               (c == '.' && !first);
}

int vs_markup_file_name(const char *name, char *buf, size_t len) {
        static const char hex[] = "0123456789ABCDEF";
        const size_t cut = 160;
        uint64_t h = 0xcbf29ce484222325ull;
        size_t o = 0;
        bool truncated = false;

        if (len < VS_SAFE_NAME_MAX)
                return -ENOBUFS;
        if (!name || !*name) {
                strcpy(buf, "%");
                return 0;
        }
        for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
                h = (h ^ *p) * 0x100000001b3ull;
                if (truncated)
                        continue;
                size_t need = keep_byte(*p, p == (const unsigned char *) name) ? 1 : 3;
                if (o + need > cut) {
                        truncated = true;
                        continue;
                }
                if (need == 1)
                        buf[o++] = (char) *p;
                else {
                        buf[o++] = '%';
                        buf[o++] = hex[*p >> 4];
                        buf[o++] = hex[*p & 15];
                }
        }
        if (truncated)
                o += (size_t) snprintf(buf + o, len - o, "~%016llx", (unsigned long long) h);
        buf[o] = 0;
        return 0;
}
