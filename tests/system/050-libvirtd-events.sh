#!/bin/sh
# lib/vmwatch against a REAL libvirtd (Debian libvirt-daemon), private to this
# test: started in session mode with its own XDG runtime/config/cache dirs
# (as user nobody when we are root, so it never touches /run/libvirt), reached
# through the remote driver as test+unix:///default?socket=... .  The daemon
# serves its own test:///default instance (one running domain "test").
# Checks: domains created/destroyed with virsh appear and disappear through
# lifecycle events; killing libvirtd gives "disconnected"; restarting it gives
# "reconnected" and a diff against the new daemon's domain list (a domain that
# was running before the kill is gone: "stopped").
. "$(dirname "$0")/test-lib.sh"
: "${VMWATCH_DRIVER:=$top_builddir/tests/system/vmwatch-driver}"
LIBVIRTD=${LIBVIRTD:-/usr/sbin/libvirtd}
[ -x "$LIBVIRTD" ] || skip "libvirtd not installed (Debian package libvirt-daemon)"
command -v virsh >/dev/null || skip "virsh not installed (Debian package libvirt-clients)"
[ -x "$VMWATCH_DRIVER" ] || skip "$VMWATCH_DRIVER not built"

D="$TMP/libvirt"
mkdir -p "$D/run" "$D/home" "$D/config" "$D/cache"
SOCK="$D/run/libvirt/libvirt-sock"
URI="test+unix:///default?socket=$SOCK"
as_user=""
if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || skip "setpriv (util-linux) needed to drop root for libvirtd"
        chown -R nobody "$D"
        chmod 755 "$TMP"
        as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all"
fi

LVD_PID=""
DRV_PID=""
cleanup() {
        [ -z "$DRV_PID" ] || kill "$DRV_PID" 2>/dev/null || true
        [ -z "$LVD_PID" ] || kill "$LVD_PID" 2>/dev/null || true
        [ -z "$DRV_PID" ] || wait "$DRV_PID" 2>/dev/null || true
        [ -z "$LVD_PID" ] || wait "$LVD_PID" 2>/dev/null || true
        cleanup_tmp
}
trap cleanup EXIT

start_libvirtd() {
        rm -f "$SOCK"
        # shellcheck disable=SC2086
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$D/home" XDG_RUNTIME_DIR="$D/run" \
                XDG_CONFIG_HOME="$D/config" XDG_CACHE_HOME="$D/cache" LIBVIRT_LOG_OUTPUTS="1:file:$D/libvirtd.log" \
                $as_user "$LIBVIRTD" --timeout 0 >>"$D/libvirtd.out" 2>&1 &
        LVD_PID=$!
        i=0
        until virsh -q -c "$URI" list >/dev/null 2>&1; do
                i=$((i + 1))
                [ $i -lt 100 ] || { tail -20 "$D/libvirtd.out" >&2; fail "libvirtd did not come up"; }
                kill -0 "$LVD_PID" 2>/dev/null || { tail -20 "$D/libvirtd.out" >&2; fail "libvirtd exited"; }
                sleep 0.1
        done
}

stop_libvirtd() {
        kill "$LVD_PID"
        wait "$LVD_PID" 2>/dev/null || true
        LVD_PID=""
}

OUT="$TMP/events"
# wait_line PATTERN [SECONDS]: until the driver printed a line matching PATTERN
wait_line() {
        i=0
        limit=$(( ${2:-10} * 10 ))
        until grep -q -e "$1" "$OUT"; do
                i=$((i + 1))
                [ $i -lt $limit ] || { cat "$OUT" >&2; fail "no line '$1' from vmwatch-driver"; }
                kill -0 "$DRV_PID" 2>/dev/null || { cat "$OUT" "$TMP/driver.err" >&2; fail "vmwatch-driver exited"; }
                sleep 0.1
        done
}

domain_xml() {
        cat >"$TMP/$1.xml" <<EOF
<domain type='test'><name>$1</name><memory>65536</memory><vcpu>$2</vcpu><os><type>hvm</type></os></domain>
EOF
        echo "$TMP/$1.xml"
}

start_libvirtd
"$VMWATCH_DRIVER" "$URI" 120 >"$OUT" 2>"$TMP/driver.err" &
DRV_PID=$!
wait_line "^attached 1 test+unix:///default"
wait_line "^vm test 1 2 0 running$"

# the driver holds test:///default open in the daemon; virsh's connections share it
virsh -q -c "$URI" create "$(domain_xml vm1 3)" >/dev/null || fail "virsh create vm1"
wait_line "^started vm1 [0-9]* 3 0 running$"
virsh -q -c "$URI" suspend vm1 >/dev/null || fail "virsh suspend"
wait_line "^state-changed vm1 .* paused$"
virsh -q -c "$URI" destroy vm1 >/dev/null || fail "virsh destroy vm1"
wait_line "^stopped vm1 "
say "lifecycle events through libvirtd: ok"

virsh -q -c "$URI" create "$(domain_xml gone 1)" >/dev/null || fail "virsh create gone"
wait_line "^started gone "

# libvirtd goes away: EOF on the socket -> close callback
stop_libvirtd
wait_line "^disconnected$"
say "disconnection seen"

# back after a while: the watcher's backoff (1 s, 2 s, ...) finds it
sleep 2
start_libvirtd
wait_line "^reconnected$" 20
# the new daemon's test:///default has only "test": "gone" vanished meanwhile
wait_line "^stopped gone "
[ "$(count '^started test ' "$OUT")" = 0 ] || fail "'test' reported again after the reconnect"

# and events flow on the new connection
virsh -q -c "$URI" create "$(domain_xml vm2 2)" >/dev/null || fail "virsh create vm2"
wait_line "^started vm2 [0-9]* 2 "
virsh -q -c "$URI" destroy vm2 >/dev/null || fail "virsh destroy vm2"
wait_line "^stopped vm2 "
say "reconnect with a fresh list: ok"

kill "$DRV_PID"
wait "$DRV_PID" || fail "vmwatch-driver exited with $?"
DRV_PID=""
if grep -q -e 'ERROR: AddressSanitizer\|runtime error\|LeakSanitizer' "$TMP/driver.err"; then
        cat "$TMP/driver.err" >&2
        fail "sanitizer report from vmwatch-driver"
fi
cat "$OUT"
