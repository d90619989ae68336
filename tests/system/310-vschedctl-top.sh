#!/bin/sh
# `vschedctl top` driven in a real terminal (tmux) against the real daemon
# serving a replay of the bundled recording (vschedd --replay --serve
# --dry-run, every policy lever on, so the policy decides weights): the
# replayed VMs and their vCPU rows with the recording's EOI p99 and decided
# weight/baseline show; sort keys reorder rows and the header says so; a
# resize redraws; 'q' and SIGTERM both end it with status 0 and give the
# terminal back (alternate screen left, cursor visible, stty settings as
# before); without a terminal it prints one table; a peer neither root nor in
# the group gets exit 3 and a plain message, before curses starts.
. "$(dirname "$0")/test-lib.sh"
command -v tmux >/dev/null || skip "tmux not installed (tools/deps installs it)"
CTL="${VSCHEDCTL:-$top_builddir/vschedctl}"
[ -x "$CTL" ] || skip "no vschedctl binary at $CTL"
SOCK="$TMP/control"
TM="tmux -L vschedd-top-$$ -f /dev/null"

cleanup() {
        rc=$?
        set +e
        if [ $rc != 0 ]; then
                [ -f "$TMP/err" ] && tail -n 20 "$TMP/err" >&2
                [ -f "$TMP/screen" ] && cat "$TMP/screen" >&2
        fi
        $TM kill-server 2>/dev/null
        [ -n "${vs:-}" ] && kill "$vs" 2>/dev/null && wait "$vs"
        rm -rf "$TMP"
}
trap cleanup EXIT

cp "$DATA/policy-all.conf" "$TMP/policy.conf"
chmod 644 "$TMP/policy.conf"
"$VSCHEDD" --config "$TMP/policy.conf" --replay "$DATA/bundled.dat" --dry-run --serve --control "$SOCK" -q \
        >/dev/null 2>"$TMP/err" &
vs=$!
i=0
until "$CTL" -s "$SOCK" --json top >"$TMP/top.json" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "the daemon never answered on $SOCK"; sleep 0.1
        kill -0 $vs 2>/dev/null || fail "the daemon exited"
done
expect_grep '"vm":"web"' "$TMP/top.json"
expect_grep '"vm":"db"' "$TMP/top.json"

screen() { $TM capture-pane -p -t "$SES" >"$TMP/screen"; }
# wait_screen PATTERN: until the pane shows it (5 s)
wait_screen() {
        i=0
        while screen; ! grep -q -e "$1" "$TMP/screen"; do
                i=$((i + 1)); [ $i -lt 50 ] || fail "the screen never showed '$1'"; sleep 0.1
        done
}
# line number of the first screen line starting with $1
line_of() { grep -n -e "^$1 " "$TMP/screen" | head -n 1 | cut -d: -f1; }
# field $2 (split at spaces) of the first screen line matching $1
col_of() { grep -e "$1" "$TMP/screen" | head -n 1 | awk -v c="$2" '{ print $c }'; }
fmt() { $TM display-message -p -t "$SES" "$1"; }

# The pane records its terminal settings, runs top, then records the exit
# status and the settings again, and stays open for inspection.
# Each run gets a new session (killing the last one would end the tmux
# server, and a new-session racing with its exit fails).
SES=
start_top() {
        rm -f "$TMP/rc" "$TMP/stty.before" "$TMP/stty.after"
        SES=top${SES#top}x
        $TM new-session -d -s "$SES" -x 200 -y 50 \
                "stty -a >'$TMP/stty.before'; '$CTL' -s '$SOCK' top; echo \$? >'$TMP/rc'; stty -a >'$TMP/stty.after'; exec sleep 600"
        wait_screen "sort: VM/VCPU ascending"
}
wait_exit() {
        i=0
        until [ -s "$TMP/rc" ] && [ -s "$TMP/stty.after" ]; do
                i=$((i + 1)); [ $i -lt 50 ] || { screen; fail "vschedctl top did not exit ($1)"; }; sleep 0.1
        done
        expect_eq "exit status after $1" "$(cat "$TMP/rc")" 0
        # (the size may differ: the test resizes the window)
        for f in before after; do
                sed 's/rows [0-9]*; columns [0-9]*;//' "$TMP/stty.$f" >"$TMP/stty.$f.nosize"
        done
        cmp -s "$TMP/stty.before.nosize" "$TMP/stty.after.nosize" ||
                { diff "$TMP/stty.before" "$TMP/stty.after" >&2; fail "terminal settings not restored after $1"; }
        expect_eq "alternate screen after $1" "$(fmt '#{alternate_on}')" 0
        expect_eq "cursor visible after $1" "$(fmt '#{cursor_flag}')" 1
}

start_top
expect_eq "alternate screen while running" "$(fmt '#{alternate_on}')" 1
# both VMs, every vCPU row, the column titles and key help
wait_screen "^  vcpu3 "
for pat in "^web " "^db " "^  vcpu0 " "^  vcpu1 " "^  vcpu2 " "IPI-IN/s" "PREEMPT%" "READY%" "EOI-P99" "PAUSE/s" \
           "YIELD/s" "WEIGHT/BASE" "MODE" "q quit"; do
        expect_grep "$pat" "$TMP/screen" "screen line"
done
expect_eq "vCPU rows" "$(count '^  vcpu[0-9]' "$TMP/screen")" 6
# the recording's figures (tests/system/030 and the --report agree on these)
expect_eq "web EOI p99" "$(col_of '^web ' 6)" "1.0ms"
expect_eq "db EOI p99" "$(col_of '^db ' 6)" "724us"
expect_eq "db preempted share" "$(col_of '^db ' 4)" "99%"
# the dry-run policy's weights against their baseline, and the mode
grep -q -e '^  vcpu[0-9] .* [0-9][0-9]*/100 enforce ' "$TMP/screen" || fail "no vCPU shows weight/baseline"
# name order: db before web
[ "$(line_of db)" -lt "$(line_of web)" ] || fail "not sorted by name at start"
# rates need two snapshots: "-" first, then numbers (a finished replay: 0.0)
i=0
while screen; [ "$(col_of '^web ' 2)" != "0.0" ]; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "web's IPI-in rate never became 0.0"; sleep 0.1
done
# CPU ready of a finished replay: the trace's run delay no longer grows
expect_eq "web ready share" "$(col_of '^web ' 5)" "0.0%"

# 'e': EOI p99, biggest first -> web (1.0ms) above db (724us)
$TM send-keys -t "$SES" e
wait_screen "sort: EOI-P99 descending"
[ "$(line_of web)" -lt "$(line_of db)" ] || fail "'e' did not put web (higher EOI p99) first"
# 'e' again flips it
$TM send-keys -t "$SES" e
wait_screen "sort: EOI-P99 ascending"
[ "$(line_of db)" -lt "$(line_of web)" ] || fail "a second 'e' did not reverse the order"
# 'w': weight; web's vCPUs in decreasing weight
$TM send-keys -t "$SES" w
wait_screen "sort: WEIGHT/BASE descending"
grep -A4 '^web ' "$TMP/screen" | sed -n 's|.* \([0-9][0-9]*\)/100 .*|\1|p' >"$TMP/weights"
expect_eq "web vCPU weights shown" "$(wc -l <"$TMP/weights")" 4
sort -rn "$TMP/weights" | cmp -s - "$TMP/weights" || { cat "$TMP/weights" >&2; fail "'w' did not order by weight"; }

# a smaller terminal: redrawn to the new size, still usable
$TM resize-window -t "$SES" -x 90 -y 12
i=0
while screen; [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$TMP/screen")" -gt 90 ] ||
        ! grep -q "^web " "$TMP/screen"; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "no redraw after the resize"; sleep 0.1
done
expect_eq "lines after the resize" "$(wc -l <"$TMP/screen")" 12
expect_grep "sort: WEIGHT/BASE" "$TMP/screen"

$TM send-keys -t "$SES" q
wait_exit "q"

# SIGTERM: the same clean exit
start_top
pane=$(fmt '#{pane_pid}')
top_pid=$(ps -o pid= --ppid "$pane" | tr -d ' ' | head -n 1)
[ -n "$top_pid" ] || fail "cannot find vschedctl's pid under the pane's shell ($pane)"
kill -TERM "$top_pid"
wait_exit "SIGTERM"

# no terminal: one plain table
"$CTL" -s "$SOCK" top 0.2 </dev/null >"$TMP/plain" || fail "top without a terminal failed"
expect_grep "^VM/VCPU *IPI-IN/s" "$TMP/plain"
expect_eq "plain rows" "$(wc -l <"$TMP/plain")" 9
grep -q "$(printf '\033')" "$TMP/plain" && fail "escape sequences in the plain output"

# bad interval: usage error, before anything is drawn
rc=0; "$CTL" -s "$SOCK" top 0 >/dev/null 2>&1 || rc=$?
expect_eq "exit status for a zero interval" "$rc" 2

# not root and not in the group: refused with exit 3 and a readable message
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        chmod 755 "$TMP"
        rc=0
        setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$SOCK" top >/dev/null 2>"$TMP/unauth" || rc=$?
        expect_eq "exit status for nobody" "$rc" 3
        expect_grep "vschedctl: " "$TMP/unauth"
fi
kill -0 $vs || fail "the daemon died"
say "ok"
