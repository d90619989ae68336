/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control-socket.c - the control socket's file system and credential side
 * (see control-socket.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "control-socket.h"
#include "macro.h"

static bool gid_in(gid_t g, const gid_t *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (list[i] == g)
                        return true;
        return false;
}

bool control_peer_in_group(int fd, const struct ucred *cred, gid_t gid) {
        gid_t small[64];
        _cleanup_free_ gid_t *groups = NULL;
        _cleanup_free_ char *pwbuf = NULL;
        struct passwd pw, *pwr = NULL;
        socklen_t sl = sizeof(small);
        long pwsize;
        int n;

        if (cred->gid == gid)
                return true;

        /* the peer's supplementary groups at connect() */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, small, &sl) == 0 &&
            gid_in(gid, small, sl / sizeof(gid_t)))
                return true;

        /* the groups of the peer's user in the group database */
        pwsize = sysconf(_SC_GETPW_R_SIZE_MAX);
        if (pwsize <= 0)
                pwsize = 16384;
        pwbuf = malloc((size_t) pwsize);
        if (!pwbuf)
                return false;
        if (getpwuid_r(cred->uid, &pw, pwbuf, (size_t) pwsize, &pwr) != 0 || !pwr)
                return false;
        n = (int) ELEMENTSOF(small);
        if (getgrouplist(pw.pw_name, pw.pw_gid, small, &n) >= 0)
                return gid_in(gid, small, (size_t) n);
        if (n <= 0 || n > 65536)
                return false;
        groups = calloc((size_t) n, sizeof(gid_t));
        if (!groups)
                return false;
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
                return false;
        return gid_in(gid, groups, (size_t) n);
}

static int make_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        char *slash;

        if (!p)
                return -ENOMEM;
        for (slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = 0;
                if (mkdir(p, 0755) == 0)
                        (void) chmod(p, 0755); /* whatever the umask */
                else if (errno != EEXIST)
                        return -errno;
                *slash = '/';
        }
        return 0;
}

/* -EADDRINUSE when something answers on @sa, 0 when nothing is there (a stale socket removed). */
static int clear_stale(const char *path, const struct sockaddr_un *sa, socklen_t salen) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) sa, salen) == 0)
                return -EADDRINUSE;
        if (errno == EAGAIN || errno == EPROTOTYPE || errno == EINPROGRESS)
                return -EADDRINUSE; /* a listener with a full backlog, or one of another socket type */
        if (errno != ECONNREFUSED)
                return -errno;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int control_socket_bind(const char *path, const gid_t *gid, struct control_socket *ret) {
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t salen;
        struct stat st;
        mode_t old;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        if (path[0] != '/')
                return -EINVAL;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);

        r = make_parents(path);
        if (r < 0)
                return r;
        r = clear_stale(path, &sa, salen);
        if (r < 0)
                return r;

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        old = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, salen);
        umask(old);
        if (r < 0)
                return -errno;

        *ret = (struct control_socket) { .fd = -1 };
        if (gid) {
                if (chown(path, (uid_t) -1, *gid) == 0)
                        (void) chmod(path, 0660);
                else
                        ret->group_errno = errno;
        }
        if (lstat(path, &st) == 0) {
                ret->dev = st.st_dev;
                ret->ino = st.st_ino;
        }
        ret->bound = true;

        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        ret->fd = TAKE_FD(fd);
        return 0;
}

int control_socket_activated(const char *path) {
        int n = sd_listen_fds(0);

        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, path, 0) <= 0)
                        continue;
                if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                        return -errno;
                return fd;
        }
        return 0;
}
