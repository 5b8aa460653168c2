#!/bin/sh
# Many flows in one run: flow setup rate and peak memory.
#
#   bench/many_flows.sh [FLOWS [RATE [ANALYZE OPTIONS...]]]   (default 10000000 20000)
#
# The capture is tools/gen_many_flows.py --flows FLOWS --rate RATE (one UDP
# request per flow, 90 % answered, on a 5-tuple no other flow uses; RATE new
# flows per second of capture time), cached as
# /tmp/callwall-flows-FLOWS-RATE.pcap (10 M flows: about 1.7 GB; the script
# checks the free space of /tmp first). `callwall analyze -q` reads it once
# under /usr/bin/time; the script prints the wall time, CPU, peak RSS, the
# run's flow count and flows written out early because the table was full
# (--max-flows), the database's size, and flows per second of wall time (the
# whole run: decoding, flow setup, rows written, indexes and attribution).
# Options after RATE go to analyze (e.g. --max-flows 4000000, --threads 1).
set -eu
cd "$(dirname "$0")/.."
flows="${1:-10000000}"
rate="${2:-20000}"
[ $# -ge 2 ] && shift 2 || shift $#
file="/tmp/callwall-flows-$flows-$rate.pcap"
dir=$(mktemp -d /tmp/callwall-many-flows-XXXXXX)
trap 'rm -rf "$dir"' EXIT
[ -x /usr/bin/time ] || { echo "many_flows.sh: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
if [ ! -f "$file" ]; then
    need_mb=$((flows * 180 / 1000000 + flows * 400 / 1000000 + 1000))  # capture + database
    free_mb=$(df -Pm /tmp | awk 'NR == 2 { print $4 }')
    [ "$free_mb" -gt "$need_mb" ] || { echo "many_flows.sh: $need_mb MB needed in /tmp, $free_mb free" >&2; exit 1; }
    echo "many_flows.sh: generating $file" >&2
    /usr/bin/python3 tools/gen_many_flows.py --flows "$flows" --rate "$rate" --out "$file.part"
    mv "$file.part" "$file"
fi
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target callwall >/dev/null
cat "$file" >/dev/null  # into the page cache
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "callwall: $(git rev-parse --short HEAD 2>/dev/null || echo '?'); capture: $file ($(du -m "$file" | cut -f1) MB)"
# shellcheck disable=SC2068  # the analyze options, word by word
/usr/bin/time -f "%e %U %S %M" -o "$dir/time" build/release/callwall analyze -q "$file" --db "$dir/db.sqlite" $@ || true
read -r wall user sys rss_kb <"$dir/time"
counts=$(sqlite3 "$dir/db.sqlite" "SELECT flows || ' ' || flows_evicted_full FROM run ORDER BY id DESC LIMIT 1" 2>/dev/null || echo "? ?")
db_mb=$(du -m "$dir/db.sqlite" | cut -f1)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$flows" "$wall" "$user" "$sys" "$rss_kb" "$counts" "$db_mb" <<'PY'
import sys
flows, wall, user, sys_s, rss_kb = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
run_flows, evicted = sys.argv[6].split()
print(f"| flows generated | flows in the run | evicted (table full) | wall | CPU | peak RSS | database | flows/s (wall) |")
print(f"|---:|---:|---:|---:|---:|---:|---:|---:|")
print(f"| {flows:,} | {int(run_flows):,} | {int(evicted):,} | {wall:.1f} s | {user + sys_s:.1f} s | {rss_kb / 1024:.0f} MiB "
      f"| {int(sys.argv[7]):,} MB | {flows / wall:,.0f} |")
PY
