# shellcheck shell=dash
# /tb/lib.sh in the Linux L2 guest: sourced before every workload command
# (tools/testbed bench --guest linux --workload NAME='COMMAND').  A workload's
# last output line must be "RESULT <value> <unit> higher|lower".
# TB_SECS is the measurement window in seconds.

tb_now() { cut -d' ' -f1 /proc/uptime; }

# tb_rate UNIT SCALE COMMAND...: runs COMMAND (output discarded) again and
# again until TB_SECS have passed; prints RESULT runs*SCALE/elapsed UNIT higher
# (elapsed includes the last run, which ends after the window).
tb_rate() {
        local unit=$1 scale=$2 t0 t1 n=0 end
        shift 2
        t0=$(tb_now)
        end=$(awk -v a="$t0" -v s="$TB_SECS" 'BEGIN { printf "%.2f", a + s }')
        while :; do
                "$@" >/dev/null 2>&1 || { echo "tb_rate: '$*' failed (run $((n + 1)))"; return 1; }
                n=$((n + 1))
                t1=$(tb_now)
                awk -v a="$t1" -v b="$end" 'BEGIN { exit !(a >= b) }' && break
        done
        awk -v n=$n -v s="$scale" -v a="$t0" -v b="$t1" -v u="$unit" \
                'BEGIN { printf "runs %d in %.2f s\nRESULT %.4f %s higher\n", n, b - a, n * s / (b - a), u }'
}

# tb_mb FILE: its size in MiB (for tb_rate's SCALE)
tb_mb() { awk -v b="$(wc -c <"$1")" 'BEGIN { printf "%.4f", b / 1048576 }'; }
