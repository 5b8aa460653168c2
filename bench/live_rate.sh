#!/bin/sh
# Kernel drops of a live capture at fixed packet rates.
#
#   bench/live_rate.sh [SECONDS] [RATE...]     (default 60 s at 25000 50000 100000 150000 packets/s)
#
# Makes the busy mirror-port mix once (tools/gen_workload.py --profile busy
# --packets 1000000 --seed 1, cached as /tmp/callwall-busy-1000000.pcap),
# creates two network namespaces of its own joined by a veth pair, and for
# each rate replays the mix with tcpreplay (--pps RATE --loop 0 --duration
# SECONDS) from one namespace into the veth while, on the other end, in turn:
#   tcpdump      tcpdump -w /dev/null -B 65536 (the baseline: libpcap's own loop,
#                with callwall's 64 MiB kernel buffer)
#   filter       callwall capture with the catalog's default filter
#   nofilter     callwall capture --no-filter
#   base-*       the same two with the binary CALLWALL_LIVE_BASELINE (before/after
#                in one run), when that is set
# Each is judged by its own kernel counters: tcpdump's "received by filter" /
# "dropped by kernel", callwall's run.kernel_received / run.kernel_dropped.
# The rate tcpreplay reached is reported too (it shares the 2 CPUs).
#   workers-*    the same two with --workers N, when CALLWALL_LIVE_WORKERS=N is set
#                (decoding workers behind the reader, against one thread in one run)
# CALLWALL_LIVE_ARGS: more arguments for every callwall capture (e.g. --no-immediate).
# Writes a markdown table to $CALLWALL_LIVE_DIR (default /tmp/callwall-live-rate)/table.md.
#
# Needs root (namespaces), tcpreplay and tcpdump (installed with apt-get when
# missing), and build/release/callwall (tools/test.sh or cmake --build --preset release).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
seconds="${1:-60}"
[ $# -gt 0 ] && shift
rates="${*:-25000 50000 100000 150000}"
dir="${CALLWALL_LIVE_DIR:-/tmp/callwall-live-rate}"
file=/tmp/callwall-busy-1000000.pcap
cw="$root/build/release/callwall"
base="${CALLWALL_LIVE_BASELINE:-}"
workers="${CALLWALL_LIVE_WORKERS:-}"

[ "$(id -u)" = 0 ] || { echo "live_rate.sh: needs root (network namespaces)" >&2; exit 77; }
[ -x "$cw" ] || { echo "live_rate.sh: $cw is missing: build the release preset first" >&2; exit 1; }
for tool in tcpreplay tcpdump; do
    command -v "$tool" >/dev/null 2>&1 || apt-get install -y "$tool" >/dev/null
done
[ -f "$file" ] || /usr/bin/python3 tools/gen_workload.py --profile busy --packets 1000000 --seed 1 --out "$file"
mkdir -p "$dir"

tag=$$
nsa="cwlrA$tag" nsb="cwlrB$tag" va="lra$tag" vb="lrb$tag"
cleanup() {
    ip netns del "$nsa" 2>/dev/null || true
    ip netns del "$nsb" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$nsa"
ip netns add "$nsb"
ip link add "$va" netns "$nsa" type veth peer name "$vb" netns "$nsb"
ip -n "$nsa" link set "$va" up
ip -n "$nsb" link set "$vb" up

# replay RATE LOG: sends for $seconds s; prints the rate tcpreplay reached.
replay() {
    ip netns exec "$nsa" tcpreplay -i "$va" --pps "$1" --loop 0 --duration "$seconds" "$file" >"$2" 2>&1 || true
    sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' "$2" | tail -1
}

# callwall_run BINARY LOG DB [ARGS...]: prints "received dropped achieved".
callwall_run() {
    bin="$1" log="$2" db="$3"
    shift 3
    rm -f "$db" "$db-wal" "$db-shm"
    # shellcheck disable=SC2086 # CALLWALL_LIVE_ARGS is a list of words
    ip netns exec "$nsb" "$bin" capture -i "$vb" --db "$db" --duration $((seconds + 6)) -q "$@" ${CALLWALL_LIVE_ARGS:-} >"$log" 2>&1 &
    pid=$!
    sleep 3
    achieved=$(replay "$rate" "$log.replay")
    wait "$pid" || true
    /usr/bin/python3 - "$db" "$achieved" <<'EOF'
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("SELECT kernel_received, kernel_dropped FROM run ORDER BY id DESC LIMIT 1").fetchone()
print(r[0], r[1], sys.argv[2] or "?")
EOF
}

tcpdump_run() {
    log="$1"
    ip netns exec "$nsb" timeout -s INT $((seconds + 6)) tcpdump -n -i "$vb" -B 65536 -w /dev/null >"$log" 2>&1 &
    pid=$!
    sleep 3
    achieved=$(replay "$rate" "$log.replay")
    wait "$pid" || true
    received=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$log")
    dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$log")
    echo "${received:-?} ${dropped:-?} ${achieved:-?}"
}

{
    echo "Live capture on a veth, busy mix replayed by tcpreplay for $seconds s per cell ($(nproc) CPUs, $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg))."
    echo "Each cell: kernel drops / packets the kernel passed to the capture (drop %), and the rate tcpreplay reached."
    echo
    header="| rate (pps) | tcpdump | callwall | callwall --no-filter |"
    sep="|---:|---:|---:|---:|"
    if [ -n "$base" ]; then
        header="$header baseline | baseline --no-filter |"
        sep="$sep---:|---:|"
    fi
    if [ -n "$workers" ]; then
        header="$header callwall --workers $workers | callwall --no-filter --workers $workers |"
        sep="$sep---:|---:|"
    fi
    echo "$header"
    echo "$sep"
} >"$dir/table.md"

cell() {  # "received dropped achieved" -> markdown cell
    set -- $1
    if [ "$1" = "?" ] || [ "$2" = "?" ]; then echo "n/a"; return; fi
    pct=$(awk -v d="$2" -v r="$1" 'BEGIN { t = d + r; printf "%.2f", t ? 100 * d / t : 0 }')
    echo "$2 / $1 ($pct %) at $3 pps"
}

for rate in $rates; do
    row="| $rate | $(cell "$(tcpdump_run "$dir/tcpdump-$rate.log")")"
    row="$row | $(cell "$(callwall_run "$cw" "$dir/filter-$rate.log" "$dir/filter-$rate.sqlite")")"
    row="$row | $(cell "$(callwall_run "$cw" "$dir/nofilter-$rate.log" "$dir/nofilter-$rate.sqlite" --no-filter)")"
    if [ -n "$base" ]; then
        row="$row | $(cell "$(callwall_run "$base" "$dir/base-filter-$rate.log" "$dir/base-filter-$rate.sqlite")")"
        row="$row | $(cell "$(callwall_run "$base" "$dir/base-nofilter-$rate.log" "$dir/base-nofilter-$rate.sqlite" --no-filter)")"
    fi
    if [ -n "$workers" ]; then
        row="$row | $(cell "$(callwall_run "$cw" "$dir/workers-filter-$rate.log" "$dir/workers-filter-$rate.sqlite" --workers "$workers")")"
        row="$row | $(cell "$(callwall_run "$cw" "$dir/workers-nofilter-$rate.log" "$dir/workers-nofilter-$rate.sqlite" --no-filter --workers "$workers")")"
    fi
    echo "$row |" >>"$dir/table.md"
    echo "$row |"
done
echo
cat "$dir/table.md"
