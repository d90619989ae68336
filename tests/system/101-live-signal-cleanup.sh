#!/bin/sh
# SIGINT and SIGTERM stop a live run cleanly (exit 0, instance removed); after
# SIGKILL the next start removes the stale instance; the top-level buffer's
# settings are never touched.
. "$(dirname "$0")/test-lib.sh"
require_tracefs
INST=vschedd-sig-$$
top_on=$(cat "$TRACEFS/tracing_on")
top_sw=$(cat "$TRACEFS/events/sched/sched_switch/enable")

wait_instance() {
        i=0
        while [ ! -e "$TRACEFS/instances/$INST" ]; do
                i=$((i + 1)); [ $i -lt 50 ] || fail "instance never appeared"; sleep 0.1
        done
        sleep 0.3
}

for sig in INT TERM; do
        "$VSCHEDD" --live --instance "$INST" --dump-events >"$TMP/out" 2>"$TMP/err" &
        pid=$!
        wait_instance
        kill -s $sig $pid
        rc=0; wait $pid || rc=$?
        expect_eq "exit code after SIG$sig" "$rc" 0
        [ ! -e "$TRACEFS/instances/$INST" ] || fail "instance left behind after SIG$sig"
done

# a reader that goes away (| head) is a normal stop too
"$VSCHEDD" --live --instance "$INST" --dump-events --json | head -n 1 >/dev/null
[ ! -e "$TRACEFS/instances/$INST" ] || fail "instance left behind after EPIPE"

"$VSCHEDD" --live --instance "$INST" >/dev/null 2>&1 &
pid=$!
wait_instance
kill -KILL $pid; wait $pid 2>/dev/null || true
[ -e "$TRACEFS/instances/$INST" ] || fail "SIGKILL should leave the instance (test premise)"
"$VSCHEDD" --live --instance "$INST" --duration 0.5 --json --summary >"$TMP/out" 2>"$TMP/err" ||
        { cat "$TMP/err"; fail "restart over a stale instance failed"; }
[ ! -e "$TRACEFS/instances/$INST" ] || fail "stale instance not cleaned up"

expect_eq "top-level tracing_on" "$(cat "$TRACEFS/tracing_on")" "$top_on"
expect_eq "top-level sched_switch enable" "$(cat "$TRACEFS/events/sched/sched_switch/enable")" "$top_sw"
say "ok"
