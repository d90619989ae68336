#!/bin/sh
# The metrics HTTP listener ([metrics] listen) of the real daemon, replaying
# the bundled recording and staying up (--serve):
#  - GET /metrics is the OpenMetrics text of `vschedctl metrics` (byte for
#    byte, but for the two request counters), with the OpenMetrics
#    Content-Type; Accept: text/plain gets Prometheus text 0.0.4; HEAD works;
#    other paths 404, other methods 405;
#  - clients that connect and send nothing, or half a request, block neither
#    `vschedctl status` nor another scrape, and are closed after the idle
#    timeout; more than 8 connections from one address are refused; an
#    oversized request gets a 4xx;
#  - reload (SIGHUP) moves the listener to a new port; a port that cannot be
#    bound is logged and the old listener keeps serving; an empty address
#    stops it; bad addresses are FILE:LINE errors;
#  - a real Prometheus (Debian's package) scrapes it every second and its
#    HTTP API returns a vschedd series with the value vschedctl reports;
#  - contrib/: the dashboard and rules name only exported metrics, promtool
#    accepts the configuration and the rules, and every dashboard query runs
#    on that Prometheus.
# The test runs its own prometheus binary on free loopback ports; a packaged
# prometheus.service on :9090 (started by apt on systemd hosts) is not used.
. "$(dirname "$0")/test-lib.sh"
command -v curl >/dev/null || skip "curl not installed (tools/deps installs it)"
command -v python3 >/dev/null || skip "python3 not installed"
PROMETHEUS=$(command -v prometheus || true)
[ -n "$PROMETHEUS" ] || skip "prometheus not installed (Debian package 'prometheus'; tools/deps installs it)"
CTL="${VSCHEDCTL:-$top_builddir/vschedctl}"
SOCK="$TMP/control"

cleanup() {
        rc=$?
        set +e
        if [ $rc != 0 ]; then
                [ -f "$TMP/err" ] && tail -n 20 "$TMP/err" >&2
                [ -f "$TMP/prom.log" ] && tail -n 20 "$TMP/prom.log" >&2
        fi
        for p in ${vs:-} ${prom:-} ${holder:-} ${idle:-}; do kill "$p" 2>/dev/null; done
        sleep 0.2
        for p in ${vs:-} ${prom:-} ${holder:-} ${idle:-}; do kill -9 "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

# free loopback ports, chosen by the kernel (a small race with other tests)
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
P1=$(free_port); P2=$(free_port); P3=$(free_port); PPROM=$(free_port)

conf() {
        printf '[daemon]\nstate_dir = %s\nlibvirt_uri =\n[metrics]\nlisten = %s\n' "$TMP/state" "$1" >"$TMP/vschedd.conf"
        chmod 644 "$TMP/vschedd.conf"
}

# ---------------------------------------------------------------- config
printf '[metrics]\nlisten = localhost:9641\n' >"$TMP/bad.conf"; chmod 644 "$TMP/bad.conf"
rc=0; "$VSCHEDD" --config "$TMP/bad.conf" --test-config >"$TMP/out" 2>&1 || rc=$?
expect_eq "exit code for a host name" "$rc" 1
expect_grep "bad.conf:2: key 'listen': invalid listen address 'localhost:9641': not a numeric IPv4 address" "$TMP/out"
printf '[metrics]\nlisten = ::1:9641\n' >"$TMP/bad.conf"
rc=0; "$VSCHEDD" --config "$TMP/bad.conf" --test-config >"$TMP/out" 2>&1 || rc=$?
expect_eq "exit code for IPv6 without brackets" "$rc" 1
expect_grep "bad.conf:2: key 'listen': .*needs brackets" "$TMP/out"
printf '[metrics]\nlisten = [::1]:9641\n' >"$TMP/ok.conf"; chmod 644 "$TMP/ok.conf"
"$VSCHEDD" --config "$TMP/ok.conf" --print-config >"$TMP/printed" || fail "--print-config failed"
expect_grep '^listen = \[::1\]:9641$' "$TMP/printed"

# ---------------------------------------------------------------- daemon
conf "127.0.0.1:$P1"
"$VSCHEDD" --replay "$DATA/bundled.dat" --serve --no-summary --config "$TMP/vschedd.conf" --control "$SOCK" \
        >/dev/null 2>"$TMP/err" &
vs=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$P1/metrics"; do
        i=$((i + 1)); [ $i -lt 150 ] || fail "the daemon never answered on port $P1"
        kill -0 $vs 2>/dev/null || fail "the daemon exited"
        sleep 0.1
done
expect_grep "metrics: serving http://127.0.0.1:$P1/metrics" "$TMP/err"

url="http://127.0.0.1:$P1/metrics"
curl -sS -D "$TMP/headers" -o "$TMP/http.txt" "$url" || fail "curl $url failed"
"$CTL" -s "$SOCK" metrics >"$TMP/ctl.txt" || fail "vschedctl metrics failed"
expect_grep '^HTTP/1.1 200 OK' "$TMP/headers"
expect_grep '^Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8' "$TMP/headers"
# the same exposition; only the request counters move between the two reads
strip() { grep -v -e '^vschedd_control_requests_total ' -e '^vschedd_http_requests_total' "$1"; }
strip "$TMP/http.txt" >"$TMP/a"; strip "$TMP/ctl.txt" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || { diff "$TMP/a" "$TMP/b" >&2; fail "HTTP and vschedctl metrics differ"; }
expect_eq "last line" "$(tail -n 1 "$TMP/http.txt")" "# EOF"
ipis=$(sed -n 's/^vschedd_events_total{type="ipi"} //p' "$TMP/ctl.txt")
expect_ge "IPI events in the replay" "${ipis:-0}" 1
expect_grep '^vschedd_vm_ipis_total{vm="' "$TMP/http.txt"

# text 0.0.4 when asked for; HEAD; 404; 405
curl -sS -D "$TMP/h2" -o "$TMP/t004.txt" -H 'Accept: text/plain;version=0.0.4' "$url" || fail "curl text failed"
expect_grep '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$TMP/h2"
expect_grep '^# TYPE vschedd_events_total counter$' "$TMP/t004.txt"
grep -q '^# EOF' "$TMP/t004.txt" && fail "text 0.0.4 output has '# EOF'"
expect_eq "0.0.4 samples" "$(grep -v -e '^#' -e requests_total "$TMP/t004.txt")" \
        "$(grep -v -e '^#' -e requests_total "$TMP/http.txt")"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "HEAD /metrics" "$(code -I "$url")" 200
expect_eq "GET /" "$(code "http://127.0.0.1:$P1/")" 404
expect_eq "GET /metrics/x" "$(code "http://127.0.0.1:$P1/metrics/x")" 404
expect_eq "POST /metrics" "$(code -X POST -d x=1 "$url")" 405
expect_eq "DELETE /metrics" "$(code -X DELETE "$url")" 405
curl -s -D "$TMP/h3" -o /dev/null -X PUT "$url"
expect_grep '^Allow: GET, HEAD' "$TMP/h3"

# ---------------------------------------------------------------- slow clients
# Two idle clients (one silent, one with half a request line) held open while
# the control socket and another scrape are served; both closed by the server
# within its 5 s idle timeout.
python3 - "$P1" >"$TMP/idle.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port))
b = socket.create_connection(("127.0.0.1", port))
b.sendall(b"GET /metr")
print("connected", flush=True)
t0 = time.monotonic()
for s in (a, b):
    s.settimeout(30)
    data = s.recv(100)
    print("closed after %.1f s, %d bytes" % (time.monotonic() - t0, len(data)), flush=True)
PY
idle=$!
i=0
until grep -q connected "$TMP/idle.out"; do i=$((i + 1)); [ $i -lt 50 ] || fail "idle client never connected"; sleep 0.1; done
# Not blocked = both answered while the idle clients still wait for the 5 s
# timeout (an ordering, not a wall-clock bound a loaded host can miss)
start_ns=$(date +%s%N)
timeout 20 "$CTL" -s "$SOCK" status >/dev/null || fail "vschedctl status failed with idle HTTP clients"
timeout 20 curl -sS -o /dev/null "$url" || fail "a scrape failed with idle HTTP clients"
took_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
say "status + scrape with two idle clients: $took_ms ms"
grep -q '^closed after' "$TMP/idle.out" &&
        fail "status + scrape answered only after an idle client was dropped ($took_ms ms): blocked behind it"
wait $idle || fail "idle client script failed: $(cat "$TMP/idle.out")"
idle=
[ "$(grep -c '^closed after' "$TMP/idle.out")" = 2 ] || fail "idle clients not closed: $(cat "$TMP/idle.out")"
python3 - "$TMP/idle.out" <<'PY' || fail "idle timeout out of range: $(cat "$TMP/idle.out")"
import re, sys
times = [float(m) for m in re.findall(r"closed after ([0-9.]+) s", open(sys.argv[1]).read())]
# the 5 s idle timeout: not before; later only by load (20 s: 4x, busy 2-core host)
assert all(3.5 <= t <= 20 for t in times), times
PY

# connection limit: 8 per address; the 9th is closed at once, unanswered
python3 - "$P1" <<'PY' || fail "the per-address connection limit did not hold"
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
time.sleep(0.3)
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(3)
try:
    extra.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    data = extra.recv(100)
except (ConnectionResetError, BrokenPipeError):
    data = b""
assert data == b"", data
for s in held:
    s.close()
PY
expect_eq "scrape after the held connections closed" "$(code "$url")" 200

# a request larger than the 16 KiB limit: a 4xx, and the daemon lives on
python3 - "$P1" <<'PY' || fail "oversized request not refused"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
# generous: under a loaded host (make distcheck beside a testbed) 5 s was
# once too short; a daemon that stalled until its 5 s idle timeout would
# close without the 4xx and still fail the assertion below
s.settimeout(20)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
data = s.recv(100)
assert data.startswith(b"HTTP/1.1 4"), data
PY
kill -0 $vs || fail "the daemon died"

# ---------------------------------------------------------------- reload
conf "127.0.0.1:$P2"
kill -HUP $vs
i=0
until [ "$(code "http://127.0.0.1:$P2/metrics")" = 200 ]; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "no listener on the new port $P2 after reload"; sleep 0.1
done
[ "$(code "$url")" = 000 ] || fail "the old port $P1 still answers after the move"
# a port someone else holds: the error is logged, the listener stays on P2
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("ok", flush=True); time.sleep(60)' "$P3" >"$TMP/holder" &
holder=$!
i=0; until grep -q ok "$TMP/holder"; do i=$((i + 1)); [ $i -lt 50 ] || fail "port holder did not start"; sleep 0.1; done
conf "127.0.0.1:$P3"
"$CTL" -s "$SOCK" reload >/dev/null 2>&1 || true
expect_grep "metrics: cannot listen on 127.0.0.1:$P3, keeping the listener on 127.0.0.1:$P2" "$TMP/err"
expect_eq "scrape on the kept listener" "$(code "http://127.0.0.1:$P2/metrics")" 200
kill $holder; wait $holder 2>/dev/null || true; holder=
# empty: the listener stops
conf ""
kill -HUP $vs
i=0
until [ "$(code "http://127.0.0.1:$P2/metrics")" = 000 ]; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "the listener did not stop"; sleep 0.1
done
expect_grep "metrics: HTTP listener on 127.0.0.1:$P2 stopped" "$TMP/err"
# IPv6 loopback, when the host has it
if python3 -c 'import socket,sys; socket.socket(socket.AF_INET6).bind(("::1", int(sys.argv[1])))' "$P3" 2>/dev/null; then
        conf "[::1]:$P3"
        kill -HUP $vs
        i=0
        until [ "$(code -g "http://[::1]:$P3/metrics")" = 200 ]; do
                i=$((i + 1)); [ $i -lt 50 ] || fail "no listener on [::1]:$P3"; sleep 0.1
        done
        curl -sS -g "http://[::1]:$P3/metrics" | grep -q '^vschedd_events_total{type="ipi"} ' || fail "IPv6 scrape"
else
        say "no IPv6 loopback here: [::1] not tested"
fi
conf "127.0.0.1:$P2"
kill -HUP $vs
i=0
until [ "$(code "http://127.0.0.1:$P2/metrics")" = 200 ]; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "no listener after re-enabling"; sleep 0.1
done

# ---------------------------------------------------------------- Prometheus
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vschedd
    static_configs:
      - targets: ['127.0.0.1:$P2']
EOF
"$PROMETHEUS" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
        --web.listen-address="127.0.0.1:$PPROM" >"$TMP/prom.log" 2>&1 &
prom=$!
query() {
        curl -sS -G --max-time 5 "http://127.0.0.1:$PPROM/api/v1/query" --data-urlencode "query=$1" 2>/dev/null || true
}
value_of() {    # JSON answer -> the first sample's value, or nothing
        python3 -c '
import json, sys
try:
    d = json.loads(sys.stdin.read())
except ValueError:
    sys.exit(0)
r = d.get("data", {}).get("result", [])
if d.get("status") == "success" and r:
    print(r[0]["value"][1])'
}
start_s=$(date +%s)
got=
while [ $(( $(date +%s) - start_s )) -lt 60 ]; do
        kill -0 $prom 2>/dev/null || fail "prometheus exited"
        got=$(query 'vschedd_events_total{job="vschedd",type="ipi"}' | value_of)
        [ -n "$got" ] && break
        sleep 1
done
[ -n "$got" ] || fail "Prometheus returned no vschedd series within 60 s"
say "Prometheus returned vschedd_events_total{type=\"ipi\"} = $got after $(( $(date +%s) - start_s )) s"
expect_eq "IPI events through Prometheus" "$got" "$ipis"
expect_eq "up{job=vschedd}" "$(query 'up{job="vschedd"}' | value_of)" 1
# the per-VM series came through with their label
n=$(query 'count(vschedd_vm_ipis_total)' | value_of)
expect_ge "VMs seen by Prometheus" "${n:-0}" 1

# ---------------------------------------------------------------- contrib
# every metric the dashboard and the rules name is one the daemon exports
# (counters as NAME_total, as Prometheus stores them; recording rules aside)
grep -v '^#' "$TMP/http.txt" | sed 's/[{ ].*//' | sort -u >"$TMP/exported"
for f in "$top_srcdir/contrib/grafana/vschedd-dashboard.json" "$top_srcdir/contrib/prometheus/vschedd-rules.yml"; do
        grep -v -e "record:" "$f" | grep -o 'vschedd_[a-z_]*' | sort -u >"$TMP/named"
        [ -s "$TMP/named" ] || fail "$f names no vschedd metric"
        missing=$(comm -23 "$TMP/named" "$TMP/exported")
        [ -z "$missing" ] || fail "$f names metrics vschedd does not export: $missing"
done
PROMTOOL=$(command -v promtool || true)
if [ -n "$PROMTOOL" ]; then
        "$PROMTOOL" check config "$top_srcdir/contrib/prometheus/vschedd.yml" >"$TMP/promtool" 2>&1 ||
                { cat "$TMP/promtool" >&2; fail "promtool rejects contrib/prometheus/vschedd.yml"; }
        "$PROMTOOL" check rules "$top_srcdir/contrib/prometheus/vschedd-rules.yml" >"$TMP/promtool" 2>&1 ||
                { cat "$TMP/promtool" >&2; fail "promtool rejects contrib/prometheus/vschedd-rules.yml"; }
fi
# each dashboard query runs on the real Prometheus (variables filled in);
# the events, preempted-share and CPU-ready panels return series
sleep 3         # a few scrapes, for rate()
python3 - "$top_srcdir/contrib/grafana/vschedd-dashboard.json" "$PPROM" <<'PY' || fail "a dashboard query failed"
import json, sys, urllib.parse, urllib.request
dash = json.load(open(sys.argv[1]))
base = "http://127.0.0.1:%s/api/v1/query?query=" % sys.argv[2]
titles = {}
n = 0
for panel in dash["panels"]:
    for t in panel.get("targets", []):
        q = t["expr"]
        for var, val in (("$__rate_interval", "10s"), ("$job", ".*"), ("$instance", ".*"), ("$vm", ".*")):
            q = q.replace(var, val)
        assert "$" not in q, q
        d = json.load(urllib.request.urlopen(base + urllib.parse.quote(q), timeout=5))
        assert d["status"] == "success", (q, d)
        titles.setdefault(panel["title"], []).append(len(d["data"]["result"]))
        n += 1
for title in ("Events/s by type", "Preempted-receiver share by VM", "IPIs/s by VM", "Event loop latency",
              "CPU ready by VM", "CPU ready, 10 worst vCPUs"):
    assert title in titles and titles[title][0] > 0, (title, titles.get(title))
print("%d dashboard queries ok" % n)
PY

kill -0 $vs || fail "the daemon died"
kill -TERM $vs; rc=0; wait $vs || rc=$?; vs=
expect_eq "daemon exit code" "$rc" 0
say "ok"
