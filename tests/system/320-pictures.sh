#!/bin/sh
# Pictures (issue 11 part 3), through the real binaries and real Graphviz /
# librsvg:
#  - `vschedd --replay F --report --json --svg DIR` on the bundled recording
#    and on a real testbed recording writes, per VM of the report, exactly
#    NAME-graph.dot, NAME-graph.svg and NAME-timeline.svg (NAME escaped as
#    man vschedd documents); every SVG renders to a real PNG with
#    rsvg-convert; the set of edges (src->dst) in the graph SVG and in the
#    dot text equals the report's edges for that VM; the timeline's IPI
#    arrows are exactly the unicast/PV IPIs the event dump shows in the
#    window (default 0:50 ms, and --svg-window 10:5);
#  - hostile VM names ('..', '/', a newline, markup, non-ASCII, 120 bytes)
#    give file names inside DIR only, well-formed XML that shows the name
#    escaped, and PNGs;
#  - `vschedctl graph NAME [--format dot]` against `vschedd --replay --serve`
#    draws the same edges; unknown VM exit 1, bad format exit 2.
. "$(dirname "$0")/test-lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
command -v dot >/dev/null || skip "Graphviz dot not installed (Debian package graphviz)"
command -v rsvg-convert >/dev/null || skip "rsvg-convert not installed (Debian package librsvg2-bin)"
CTL="${VSCHEDCTL:-$top_builddir/vschedctl}"

cleanup() {
        rc=$?
        set +e
        [ $rc != 0 ] && [ -f "$TMP/err" ] && tail -n 20 "$TMP/err" >&2
        [ -n "${vs:-}" ] && kill -9 "$vs" 2>/dev/null
        wait 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

# check.py REPORT DUMP DIR START_MS LEN_MS: the pictures of every VM against
# the report (edges) and the event dump (IPIs in the window); renders PNGs.
cat >"$TMP/check.py" <<'PY'
import json, os, re, struct, subprocess, sys
import xml.etree.ElementTree as ET

report, dump, d, start_ms, len_ms = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
SVG = "{http://www.w3.org/2000/svg}"

def safe(name):
    """The file-name escaping man vschedd(8) documents for --svg."""
    raw = name.encode("utf-8", "surrogateescape")
    keep = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
    if not raw:
        return "%"
    out, h, cut = "", 0xcbf29ce484222325, False
    for i, b in enumerate(raw):
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
        if cut:
            continue
        piece = chr(b) if b in keep or (b == ord(".") and i > 0) else "%%%02X" % b
        if len(out) + len(piece) > 160:
            cut = True
            continue
        out += piece
    return out + ("~%016x" % h if cut else "")

def png_ok(svg):
    png = svg[:-4] + ".png"
    subprocess.run(["rsvg-convert", "-o", png, svg], check=True)
    data = open(png, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", png
    w, h = struct.unpack(">II", data[16:24])
    assert w >= 200 and h >= 100 and len(data) > 3000, (png, w, h, len(data))
    os.unlink(png)

rep = json.load(open(report))
vms = rep["vms"]
assert vms, "no VMs in the report"
expected = set()
for vm in vms:
    s = safe(vm["vm"])
    assert "/" not in s and not s.startswith("."), s
    expected |= {s + "-graph.dot", s + "-graph.svg", s + "-timeline.svg"}
got = set(os.listdir(d))
assert got == expected, ("files", sorted(got ^ expected))

events = [json.loads(l) for l in open(dump)]
first = events[0]["ts_ns"]
w0, w1 = first + int(start_ms * 1e6), first + int((start_ms + len_ms) * 1e6)
for vm in vms:
    s = safe(vm["vm"])
    edges = {(e["src"], e["dst"]) for e in vm["edges"]}
    # the graph SVG: <g class="edge"><title>vS->vD</title>
    root = ET.parse(os.path.join(d, s + "-graph.svg")).getroot()
    svg_edges = set()
    for g in root.iter(SVG + "g"):
        if g.get("class") == "edge":
            m = re.fullmatch(r"v(\d+)->v(\d+)", g.find(SVG + "title").text)
            svg_edges.add((int(m.group(1)), int(m.group(2))))
    assert svg_edges == edges, (vm["vm"], "svg", sorted(svg_edges ^ edges))
    dot = open(os.path.join(d, s + "-graph.dot")).read()
    dot_edges = {(int(a), int(b)) for a, b in re.findall(r'"v(\d+)" -> "v(\d+)"', dot)}
    assert dot_edges == edges, (vm["vm"], "dot", sorted(dot_edges ^ edges))
    png_ok(os.path.join(d, s + "-graph.svg"))

    # the timeline: IPI arrows = the unicast and PV IPIs of the dump in the window
    want = []
    for e in events:
        if e.get("vm") != vm["vm"] or not (w0 <= e["ts_ns"] < w1):
            continue
        if e["type"] == "ipi" and e["dst_vcpu"] is not None and not e["logical"] and \
           e["shorthand"] == "none" and e["delivery_mode"] in ("fixed", "lowest"):
            want.append((e["ts_ns"], e["vcpu"], e["dst_vcpu"]))
        if e["type"] == "hypercall" and e["nr"] == 10:
            want += [(e["ts_ns"], e["vcpu"], v) for v in e["dst_vcpus"] if v is not None]
    root = ET.parse(os.path.join(d, s + "-timeline.svg")).getroot()
    have = [(int(l.get("data-ts-ns")), int(l.get("data-src")), int(l.get("data-dst")))
            for l in root.iter(SVG + "line") if l.get("class") == "ipi"]
    assert sorted(have) == sorted(want), (vm["vm"], "timeline IPIs", len(have), len(want))
    lanes = [t.text for t in root.iter(SVG + "text") if (t.text or "").startswith("vCPU ")]
    assert len(lanes) >= 1 or not want, (vm["vm"], "no lanes")
    title = "".join(root.find(SVG + "title").itertext())
    assert title.endswith(" vCPU timeline"), title
    png_ok(os.path.join(d, s + "-timeline.svg"))
    print("%s: %d edges, %d IPIs in the window" % (vm["vm"].encode("unicode_escape").decode(), len(edges), len(want)))
PY

pictures() {    # TRACE DIR [vschedd options...]
        trace=$1 dir=$2
        shift 2
        "$VSCHEDD" --replay "$trace" --report --json --no-summary -q --svg "$dir" "$@" >"$TMP/report.json" \
                2>>"$TMP/err" || fail "vschedd --svg failed on $trace"
        "$VSCHEDD" --replay "$trace" --dump-events --json --no-summary -q >"$TMP/dump.json" 2>>"$TMP/err" ||
                fail "vschedd --dump-events failed on $trace"
}

pictures "$DATA/bundled.dat" "$TMP/bundled"
python3 "$TMP/check.py" "$TMP/report.json" "$TMP/dump.json" "$TMP/bundled" 0 50 || fail "bundled.dat pictures"
expect_grep '0.000 to 50.000 ms of the trace' "$TMP/bundled/web-timeline.svg"
[ "$(grep -c 'class="ipi"' "$TMP/bundled/web-timeline.svg")" -gt 10 ] || fail "too few IPIs drawn for web"

pictures "$DATA/bundled.dat" "$TMP/window" --svg-window 10:5
python3 "$TMP/check.py" "$TMP/report.json" "$TMP/dump.json" "$TMP/window" 10 5 || fail "--svg-window 10:5"
expect_grep '10.000 to 15.000 ms of the trace' "$TMP/window/db-timeline.svg"

pictures "$DATA/testbed/2to1-vschedd.dat" "$TMP/testbed"
python3 "$TMP/check.py" "$TMP/report.json" "$TMP/dump.json" "$TMP/testbed" 0 50 || fail "testbed pictures"
[ -s "$TMP/testbed/vm2-graph.svg" ] || fail "no picture for the testbed's vm2"

# hostile names through the recording's topology markers (%XX escapes)
long=$(printf '%0100d' 0 | tr 0 /)
sed -e "s|vm=web |vm=..%2F..%2Fetc%0A<b>\"\&'\xc3\xa9\\\\$long |" -e 's|vm=db |vm=.. |' "$DATA/bundled.txt" >"$TMP/hostile.txt"
grep -q 'vm=\.\. ' "$TMP/hostile.txt" || fail "could not build the hostile trace"
mkdir "$TMP/h"
pictures "$TMP/hostile.txt" "$TMP/h/out"
python3 "$TMP/check.py" "$TMP/report.json" "$TMP/dump.json" "$TMP/h/out" 0 50 || fail "hostile names"
[ "$(ls -A "$TMP/h")" = out ] || fail "files written outside the --svg directory: $(ls -A "$TMP/h")"
ls "$TMP/h/out" | grep -q '^%2E\.-graph\.svg$' || fail "VM '..' not written as %2E.-graph.svg"
ls "$TMP/h/out" | grep -q '~[0-9a-f]\{16\}-timeline\.svg$' || fail "the long name was not cut and hashed"
python3 - "$TMP/h/out" <<'PY' || fail "the hostile name is not shown escaped in its pictures"
import os, sys
import xml.etree.ElementTree as ET
shown = "VM ../../etc\\x0a<b>\"&'\u00e9\\\\" + "/" * 100    # display text: \x0a for the newline, \\ for \
files = [f for f in os.listdir(sys.argv[1]) if "etc" in f and f.endswith(".svg")]
assert len(files) == 2, files
for f in files:
    text = "".join(ET.parse(os.path.join(sys.argv[1], f)).getroot().itertext())
    assert shown in text, (f, shown, text[:300])
PY

# vschedctl graph against a daemon serving a replay
SOCK="$TMP/control"
"$VSCHEDD" --replay "$DATA/bundled.dat" --serve --control "$SOCK" --no-summary -q 2>>"$TMP/err" &
vs=$!
i=0
until "$CTL" -s "$SOCK" status >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "the daemon never answered on $SOCK"; sleep 0.1
done
"$CTL" -s "$SOCK" --json vm web >"$TMP/vm.json" || fail "vschedctl vm web"
"$CTL" -s "$SOCK" graph web --format dot >"$TMP/web.dot" || fail "vschedctl graph --format dot"
"$CTL" -s "$SOCK" graph web >"$TMP/web.svg" || fail "vschedctl graph"
python3 - "$TMP/vm.json" "$TMP/web.dot" "$TMP/web.svg" "$TMP/bundled/web-graph.dot" <<'PY' || fail "vschedctl graph edges"
import json, re, subprocess, sys
import xml.etree.ElementTree as ET
vm = json.load(open(sys.argv[1]))
edges = {(e["src"], e["dst"]) for e in vm["edges"]}
assert len(edges) > 3, edges
dot = {(int(a), int(b)) for a, b in re.findall(r'"v(\d+)" -> "v(\d+)"', open(sys.argv[2]).read())}
assert dot == edges, ("dot", dot ^ edges)
root = ET.parse(sys.argv[3]).getroot()
svg = set()
for g in root.iter("{http://www.w3.org/2000/svg}g"):
    if g.get("class") == "edge":
        a, b = re.fullmatch(r"v(\d+)->v(\d+)", g.find("{http://www.w3.org/2000/svg}title").text).groups()
        svg.add((int(a), int(b)))
assert svg == edges, ("svg", svg ^ edges)
# the same drawing as the replay's --svg (same model, same code)
assert open(sys.argv[2]).read() == open(sys.argv[4]).read(), "vschedctl graph differs from --svg's dot"
subprocess.run(["rsvg-convert", "-o", sys.argv[3] + ".png", sys.argv[3]], check=True)
PY
rc=0; "$CTL" -s "$SOCK" graph nosuchvm >/dev/null 2>&1 || rc=$?
expect_eq "exit code for an unknown VM" "$rc" 1
rc=0; "$CTL" -s "$SOCK" graph web --format png >/dev/null 2>&1 || rc=$?
expect_eq "exit code for --format png" "$rc" 2
rc=0; VSCHEDD_DOT=/nonexistent/dot "$CTL" -s "$SOCK" graph web >/dev/null 2>"$TMP/nodot" || rc=$?
expect_eq "exit code without dot(1)" "$rc" 1
expect_grep "install Graphviz" "$TMP/nodot"
kill -TERM $vs; rc=0; wait $vs || rc=$?; vs=
expect_eq "daemon exit code" "$rc" 0
[ ! -e "$SOCK" ] || fail "the control socket was left behind"
say "ok"
