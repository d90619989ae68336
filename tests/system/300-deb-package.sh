#!/bin/sh
# The Debian package: `dpkg-buildpackage -us -uc -b` builds vschedd's .deb
# (with the unit tests, as debian/rules runs them) from a copy of the source
# tree (the tracked and the untracked-but-not-ignored files; the source dir
# is never built in), lintian reports no error, and the .deb holds the
# binaries, the unit, the sysusers/tmpfiles snippets, /etc/vschedd.conf as a
# conffile and the man pages.
#
# Then a real `dpkg -i`, `dpkg -r` and `dpkg --purge` in a throwaway root:
# an overlayfs over this host's / (writes go to a tmpfs that vanishes with a
# private mount namespace, so the host's dpkg database, /etc/group, /etc and
# /run never change and a concurrently running test sees nothing), with
# /proc, /sys and /dev bound in and a fresh tmpfs /run as on a booted host.
# Inside it, the package's own maintainer scripts run for real: sysusers
# creates group vschedd, tmpfiles creates /run/vschedd, deb-systemd-helper
# enables the unit (systemd is not PID 1 here, so nothing starts: that is the
# "no systemd" case the postinst must survive).  The installed
# /usr/sbin/vschedd is started with the shipped configuration (observe) and
# the installed /usr/bin/vschedctl must answer `status` on the default
# socket, for root and for a member of group vschedd (read-only).  The only
# deviation from the unit's ExecStart: a tracefs instance name of its own,
# as every live test uses (without tracefs: a replay with --serve).  A
# journal left as after a crash (tests/system/actuator-driver) must be
# restored by prerm on `dpkg -r`; purge must remove the conffile and
# /run/vschedd, and nothing named vschedd may remain but the system group
# (Debian keeps system groups).
#
# Skips (77) when not root, in the sanitizer pass (the package is built with
# Debian's flags either way), when dpkg-buildpackage, lintian, unshare,
# overlayfs or the build dependencies are missing (tools/deps installs them),
# or when vschedd is installed on this host (that would be an upgrade test).
# About 2-3 minutes on 2 cores: most of it is the package build.
. "$(dirname "$0")/test-lib.sh"
require_root
if grep -q __asan_init "$VSCHEDD" 2>/dev/null; then
        skip "sanitized build: the package test runs with the plain build"
fi
for t in dpkg-buildpackage dpkg-checkbuilddeps dpkg-parsechangelog dh lintian unshare chroot setpriv; do
        command -v "$t" >/dev/null 2>&1 || skip "$t not installed (tools/deps)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "no overlayfs"
grep -qw overlay /proc/filesystems || skip "no overlayfs"
st=$(dpkg-query -W -f='${Status}' vschedd 2>/dev/null || true)
case "$st" in
*" installed"|*config-files) skip "vschedd is installed on this host ($st)" ;;
esac
ACT="$top_builddir/tests/system/actuator-driver"
[ -x "$ACT" ] || fail "$ACT not built (make check builds it)"

INST=vschedd-deb-$$
cleanup() {
        rc=$?
        set +e
        [ -e "$TRACEFS/instances/$INST" ] && rmdir "$TRACEFS/instances/$INST"
        rm -rf "$TMP"
        exit $rc
}
trap cleanup EXIT

# ---------------------------------------------------------------- the source copy
version=$(sed -n 's/^AC_INIT(\[vschedd\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
[ -n "$version" ] || fail "no version in configure.ac's AC_INIT"
SRC="$TMP/src/vschedd-$version"
mkdir -p "$SRC"
srcdir_abs=$(cd "$top_srcdir" && pwd -P)
gittop=$(git -C "$top_srcdir" -c safe.directory="$srcdir_abs" rev-parse --show-toplevel 2>/dev/null || true)
if [ -n "$gittop" ] && [ "$(cd "$gittop" && pwd -P)" = "$srcdir_abs" ]; then
        git -C "$top_srcdir" -c safe.directory="$srcdir_abs" ls-files -z --cached --others --exclude-standard \
                >"$TMP/files" || fail "git ls-files failed"
        # tracked files deleted in the work tree are not part of it
        (cd "$top_srcdir" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh \
                <"$TMP/files" | tar --null -T - -cf -) | tar -C "$SRC" -xf - || fail "copying the source tree failed"
else
        # a release tarball (or make distcheck's copy inside some other work
        # tree): its contents are what `make distdir` writes
        make -s -C "$top_builddir" distdir distdir="$SRC" >"$TMP/distdir.log" 2>&1 ||
                { cat "$TMP/distdir.log" >&2; fail "make distdir failed"; }
fi
[ -f "$SRC/debian/control" ] || fail "no debian/control in the source copy"

# debian/changelog carries configure.ac's version; debian/control has every
# library configure.ac requires
expect_eq "debian/changelog version" "$(cd "$SRC" && dpkg-parsechangelog -S Version)" "$version"
sed -n 's/^VS_REQUIRE(\[[^]]*\], *\[[^]]*\], *\[\([^]]*\)\]).*/\1/p' "$SRC/configure.ac" >"$TMP/required"
expect_ge "VS_REQUIRE lines in configure.ac" "$(wc -l <"$TMP/required")" 5
sed -n '/^Build-Depends:/,/^[A-Z]/p' "$SRC/debian/control" >"$TMP/bdeps"
while read -r p; do
        grep -q "[ ,]$p\( \|,\|$\)" "$TMP/bdeps" || fail "configure.ac requires $p, debian/control's Build-Depends lacks it"
done <"$TMP/required"
(cd "$SRC" && dpkg-checkbuilddeps) >"$TMP/bdeps.log" 2>&1 || skip "$(tail -n 1 "$TMP/bdeps.log") (tools/deps)"

# ---------------------------------------------------------------- build + lintian
t0=$(date +%s)
# a clean environment: not make check's MAKEFLAGS (TESTS=...) nor this suite's variables
(cd "$SRC" && env -i PATH="$PATH" HOME="$TMP" LC_ALL=C.UTF-8 DEB_BUILD_OPTIONS=parallel=2 \
        dpkg-buildpackage -us -uc -b) >"$TMP/build.log" 2>&1 ||
        { tail -n 60 "$TMP/build.log" >&2; fail "dpkg-buildpackage failed"; }
t1=$(date +%s)
say "dpkg-buildpackage: $((t1 - t0)) s"
ARCH=$(dpkg --print-architecture)
DEB="$TMP/src/vschedd_${version}_$ARCH.deb"
CHANGES="$TMP/src/vschedd_${version}_$ARCH.changes"
[ -f "$DEB" ] || { ls -l "$TMP/src" >&2; fail "no $DEB"; }
expect_grep '^PASS: tests/unit/test-' "$TMP/build.log" "unit tests in the package build"
if grep -q '^PASS: tests/system/' "$TMP/build.log"; then fail "the package build ran system tests"; fi

rc=0
env -i PATH="$PATH" HOME="$TMP" LC_ALL=C.UTF-8 lintian --fail-on error "$CHANGES" >"$TMP/lintian" 2>&1 || rc=$?
if [ $rc != 0 ] || grep -q '^E: ' "$TMP/lintian"; then
        cat "$TMP/lintian" >&2
        fail "lintian reports errors (exit $rc)"
fi
say "lintian: $(grep -c '^W: ' "$TMP/lintian" || true) warning(s), $(($(date +%s) - t1)) s"

# ---------------------------------------------------------------- contents
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$TMP/contents"
for f in /usr/sbin/vschedd /usr/bin/vschedctl /lib/systemd/system/vschedd.service \
        /usr/lib/sysusers.d/vschedd.conf /usr/lib/tmpfiles.d/vschedd.conf /etc/vschedd.conf \
        /usr/share/man/man8/vschedd.8.gz /usr/share/man/man8/vschedctl.8.gz \
        /usr/share/man/man5/vschedd.conf.5.gz /usr/share/vschedd/bundled.dat \
        /usr/share/vschedd/testbed/2to1-trace-cmd.dat \
        /usr/share/doc/vschedd/copyright; do
        grep -qx "$f" "$TMP/contents" || fail "the .deb lacks $f"
done
mkdir "$TMP/ctl"
dpkg-deb -e "$DEB" "$TMP/ctl"
expect_eq "conffiles" "$(cat "$TMP/ctl/conffiles")" /etc/vschedd.conf
expect_grep 'systemd-sysusers' "$TMP/ctl/postinst" "postinst"
expect_grep 'systemd-tmpfiles' "$TMP/ctl/postinst" "postinst"

# ---------------------------------------------------------------- install, run, remove, purge
LIVE=0
[ -d "$TRACEFS/instances" ] && [ -e "$TRACEFS/events/sched/sched_switch/enable" ] && LIVE=1
cat >"$TMP/in-root.sh" <<'EOF'
# Runs in a private mount namespace.  $R: the throwaway root; $O/upper: what
# it changed.  test-lib.sh's helpers, minus its temp dir and trap.
set -eu
say()  { printf '300-deb-package.sh: %s\n' "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
expect_grep() { grep -q -e "$1" "$2" || { cat "$2" >&2; fail "${3:-pattern} '$1' not found in $2"; }; }
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
R="$TMP/root"
O="$TMP/ovl"
mkdir -p "$R" "$O"
mount -t tmpfs -o mode=0755 tmpfs "$O"
mkdir "$O/upper" "$O/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$O/upper,workdir=$O/work" "$R"
mount --rbind /proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
# the .deb and the fixture, wherever $TMP lives (the overlay only has /'s own filesystem)
mkdir -p "$R$TMP"
mount --bind "$TMP" "$R$TMP"
unset VSCHEDD_CONTROL
in_root() { chroot "$R" "$@"; }
vs=""
stop_daemon() { [ -z "$vs" ] || { kill "$vs" 2>/dev/null; wait "$vs" 2>/dev/null; vs=""; }; }
trap 'rc=$?; set +e; stop_daemon; [ $rc = 0 ] || tail -n 20 "$TMP/daemon.err" >&2 2>/dev/null; exit $rc' EXIT
# a stray unpackaged config of this host would make dpkg ask
rm -f "$R/etc/vschedd.conf"

in_root dpkg -i "$DEB" >"$TMP/dpkg-i.log" 2>&1 || { cat "$TMP/dpkg-i.log" >&2; fail "dpkg -i failed"; }
expect_eq "status after install" "$(in_root dpkg-query -W -f='${Status}' vschedd)" "install ok installed"
in_root dpkg-query -W -f='${Conffiles}\n' vschedd | grep -q '^ /etc/vschedd.conf [0-9a-f]\{32\}$' ||
        fail "/etc/vschedd.conf is not a registered conffile"
gid=$(in_root getent group vschedd | cut -d: -f3)
[ -n "$gid" ] || fail "postinst did not create group vschedd (sysusers)"
[ -d "$R/run/vschedd" ] || fail "postinst did not create /run/vschedd (tmpfiles)"
[ -L "$R/etc/systemd/system/multi-user.target.wants/vschedd.service" ] ||
        fail "postinst did not enable vschedd.service"
expect_grep '^ExecStart=/usr/sbin/vschedd ' "$R/lib/systemd/system/vschedd.service" "installed unit"
in_root /usr/sbin/vschedd --test-config >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; fail "shipped config rejected"; }
in_root /usr/sbin/vschedd --print-config >"$TMP/config" 2>&1 || fail "--print-config failed"
expect_grep '^mode = observe' "$TMP/config" "shipped mode"

# the installed daemon, the shipped configuration, the default socket
# (chroot execs the daemon: $! is the daemon's pid)
if [ "$LIVE" = 1 ]; then
        chroot "$R" /usr/sbin/vschedd --live --quiet --instance "$INST" >/dev/null 2>"$TMP/daemon.err" &
else
        chroot "$R" /usr/sbin/vschedd --replay /usr/share/vschedd/bundled.dat --serve --quiet \
                >/dev/null 2>"$TMP/daemon.err" &
fi
vs=$!
i=0
until in_root /usr/bin/vschedctl status >"$TMP/status" 2>&1; do
        kill -0 "$vs" 2>/dev/null || fail "the installed vschedd exited"
        i=$((i + 1)); [ $i -lt 100 ] || fail "the installed vschedd never answered on /run/vschedd/control"
        sleep 0.1
done
expect_grep '^Mode: *observe' "$TMP/status" "vschedctl status"
[ -S "$R/run/vschedd/control" ] || fail "no control socket at /run/vschedd/control"
expect_eq "control socket group id" "$(stat -c %g "$R/run/vschedd/control")" "$gid"
# group vschedd reads, but may not change anything; others are refused
rc=0; in_root setpriv --reuid=65534 --regid=65534 --groups="$gid" /usr/bin/vschedctl status >"$TMP/status-ro" 2>&1 || rc=$?
expect_eq "vschedctl status as a member of group vschedd" "$rc" 0
expect_grep '^Mode: *observe' "$TMP/status-ro" "read-only status"
rc=0; in_root setpriv --reuid=65534 --regid=65534 --groups="$gid" /usr/bin/vschedctl reload >/dev/null 2>&1 || rc=$?
expect_eq "vschedctl reload as a member of group vschedd" "$rc" 3
rc=0; in_root setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/vschedctl status >/dev/null 2>&1 || rc=$?
expect_eq "vschedctl status as nobody" "$rc" 3
kill "$vs"
rc=0; wait "$vs" || rc=$?
vs=""
expect_eq "installed vschedd exit status on SIGTERM" "$rc" 0
[ ! -e "$TRACEFS/instances/$INST" ] || fail "the daemon left its tracefs instance"

# a journal as a crashed daemon leaves it; prerm must restore it
mkdir -p "$R/tmp/vschedd-deb-cg"
echo 100 >"$R/tmp/vschedd-deb-cg/cpu.weight"
in_root "$ACT" set /run/vschedd /tmp/vschedd-deb-cg cpu.weight 500 >/dev/null || fail "actuator-driver set failed"
expect_eq "weight before remove" "$(cat "$R/tmp/vschedd-deb-cg/cpu.weight")" 500
[ -s "$R/run/vschedd/journal" ] || fail "no journal in /run/vschedd"

in_root dpkg -r vschedd >"$TMP/dpkg-r.log" 2>&1 || { cat "$TMP/dpkg-r.log" >&2; fail "dpkg -r failed"; }
expect_eq "status after remove" "$(in_root dpkg-query -W -f='${Status}' vschedd)" "deinstall ok config-files"
expect_eq "weight after remove (restored by prerm)" "$(cat "$R/tmp/vschedd-deb-cg/cpu.weight")" 100
[ ! -e "$R/run/vschedd/journal" ] || fail "the journal survived the restore"
[ ! -e "$R/usr/sbin/vschedd" ] || fail "remove left /usr/sbin/vschedd"
[ -f "$R/etc/vschedd.conf" ] || fail "remove deleted the conffile (only purge may)"

in_root dpkg --purge vschedd >"$TMP/dpkg-p.log" 2>&1 || { cat "$TMP/dpkg-p.log" >&2; fail "dpkg --purge failed"; }
st=$(in_root dpkg-query -W -f='${Status}' vschedd 2>/dev/null || true)
case "$st" in ""|*not-installed) ;; *) fail "status after purge: $st" ;; esac
[ ! -e "$R/etc/vschedd.conf" ] || fail "purge left /etc/vschedd.conf"
[ ! -e "$R/run/vschedd" ] || fail "purge left /run/vschedd"
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/vschedd.service" ] || fail "purge left the unit enabled"
# whatever the package ever touched, beyond dpkg's own records and logs and
# the system group
find "$O/upper" "$R/run" -name '*vschedd*' \
        ! -path "$O/upper/var/lib/dpkg/*" ! -path "$O/upper/var/log/*" \
        ! -path "$O/upper/tmp/vschedd-deb-cg*" ! -path "$O/upper$TMP" ! -path "$O/upper$TMP/*" \
        >"$TMP/leftovers" || true
if [ -s "$TMP/leftovers" ]; then cat "$TMP/leftovers" >&2; fail "purge left files behind"; fi
grep -q '^vschedd:' "$R/etc/group" || fail "group vschedd vanished (Debian keeps system groups)"
say "in the throwaway root: installed, status answered ($([ "$LIVE" = 1 ] && echo live || echo replay)), removed with restore, purged"
EOF
cp "$ACT" "$TMP/actuator-driver"
ACT="$TMP/actuator-driver"
export TMP DEB INST LIVE ACT TRACEFS
unshare --mount --propagation private sh "$TMP/in-root.sh" ||
        fail "install/run/remove/purge in the throwaway root failed"
say "ok"
