#!/bin/sh
# Peak memory of `callwall analyze` on hostile captures (tools/gen_hostile.py)
# at two sizes: if every per-run table is bounded, the peak stops growing
# with the input once the bounds are reached.
#
#   bench/bounds.sh [-b BINARY] [-s SMALL] [-l LARGE] [-f MAX_FLOWS] [-k "KINDS"]
#
# Defaults: build/release/callwall, 1200000 and 2400000 packets (the small size
# already past every bound: 1M names, 20000 flows, 16384 STUN slots, 2048 TLS
# slots), --max-flows 20000, kinds "mix flows dns tls stun peers". For each kind
# and size it prints
#   packet_rss   the largest RSS sampled (every 50 ms) while the run row is still
#                'running', i.e. the packet path: flow table, dissect pools, name
#                tables, store batches (the end-of-run flush included)
#   total_rss    peak RSS of the whole command (/usr/bin/time), i.e. with the
#                attribution step that follows
#   growth       large / small of each, as a percentage
# and the run's flow, eviction and damage counters. Needs /usr/bin/time,
# /usr/bin/python3 and sqlite3.
set -eu
cd "$(dirname "$0")/.."

bin=build/release/callwall
small=1200000
large=2400000
maxflows=20000
kinds="mix flows dns tls stun peers"
while getopts b:s:l:f:k: o; do
    case $o in
        b) bin=$OPTARG ;;
        s) small=$OPTARG ;;
        l) large=$OPTARG ;;
        f) maxflows=$OPTARG ;;
        k) kinds=$OPTARG ;;
        *) echo "usage: $0 [-b BINARY] [-s SMALL] [-l LARGE] [-f MAX_FLOWS] [-k KINDS]" >&2; exit 2 ;;
    esac
done
for tool in /usr/bin/time /usr/bin/python3 sqlite3; do
    command -v "$tool" >/dev/null || { echo "bounds.sh: $tool is missing" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "bounds.sh: $bin is not built" >&2; exit 2; }

tmp=$(mktemp -d /tmp/callwall-bounds-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# measure KIND PACKETS -> sets packet_kb total_kb loop_s total_s counters
measure() {
    /usr/bin/python3 tools/gen_hostile.py --kind "$1" --packets "$2" --out "$tmp/h.pcap" 2>/dev/null
    rm -f "$tmp/h.db" "$tmp/h.db-wal" "$tmp/h.db-shm"
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M %e' -o "$tmp/time" "$bin" analyze -q "$tmp/h.pcap" --db "$tmp/h.db" --max-flows "$maxflows" &
    tpid=$!
    # The callwall child of /usr/bin/time.
    pid=""
    while [ -z "$pid" ] && kill -0 "$tpid" 2>/dev/null; do
        pid=$(pgrep -P "$tpid" || true)
        [ -n "$pid" ] || sleep 0.01
    done
    packet_kb=0
    loop_s=""
    while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
        rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        st=$(sqlite3 -readonly "$tmp/h.db" "SELECT status FROM run ORDER BY id DESC LIMIT 1" 2>/dev/null || true)
        if [ -z "$loop_s" ] && [ -n "$rss" ] && [ "$st" != completed ] && [ "$st" != interrupted ] && [ "$st" != failed ]; then
            [ "$rss" -gt "$packet_kb" ] && packet_kb=$rss
        elif [ -z "$loop_s" ]; then
            loop_s=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
        fi
        sleep 0.05
    done
    wait "$tpid" || { echo "bounds.sh: callwall failed on $1 x $2" >&2; exit 1; }
    read -r total_kb total_s < "$tmp/time"
    [ "$packet_kb" -gt 0 ] || packet_kb=$total_kb
    counters=$(sqlite3 -readonly "$tmp/h.db" \
        "SELECT 'flows=' || flows || ' evicted_full=' || flows_evicted_full FROM run ORDER BY id DESC LIMIT 1")
    notes=$(sqlite3 -readonly "$tmp/h.db" "SELECT replace(notes, char(10), '; ') FROM run ORDER BY id DESC LIMIT 1")
    rm -f "$tmp/h.pcap" "$tmp/h.db" "$tmp/h.db-wal" "$tmp/h.db-shm"
}

mb() { echo $(( $1 / 1024 )); }
pct() { echo $(( ($2 - $1) * 100 / $1 )); }

printf '%-6s %9s %12s %11s %9s %9s  %s\n' kind packets packet_rss total_rss loop_s total_s counters
for kind in $kinds; do
    measure "$kind" "$small"
    s_packet=$packet_kb
    s_total=$total_kb
    printf '%-6s %9s %9s MB %8s MB %9s %9s  %s %s\n' "$kind" "$small" "$(mb "$packet_kb")" "$(mb "$total_kb")" \
        "$loop_s" "$total_s" "$counters" "$notes"
    measure "$kind" "$large"
    printf '%-6s %9s %9s MB %8s MB %9s %9s  %s %s\n' "$kind" "$large" "$(mb "$packet_kb")" "$(mb "$total_kb")" \
        "$loop_s" "$total_s" "$counters" "$notes"
    printf '%-6s %9s %11s%% %10s%%\n' "" growth "+$(pct "$s_packet" "$packet_kb")" "+$(pct "$s_total" "$total_kb")"
done
