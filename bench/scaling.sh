#!/bin/sh
# Thread scaling of `callwall analyze` on one workload, interleaved: one
# run of each configuration in turn, ROUNDS rounds, so the shared machine's
# drift falls on all of them alike. Prints the median wall, CPU (user +
# system) and peak RSS of each configuration, its speed against one thread,
# and the machine and load average before and after.
#
#   bench/scaling.sh [PACKETS] [ROUNDS] [CONFIG ...]
#
# PACKETS (default 1000000) of the busy-mirror profile (tools/gen_workload.py
# --profile busy --seed 1, cached as /tmp/callwall-busy-PACKETS.pcap; another
# file with CALLWALL_SCALING_FILE=PATH). ROUNDS default 7. A CONFIG is the
# analyze options of one column, quoted; default: "--threads 1" "--threads 2"
# "--workers 2" "--workers 3" "--workers 4".
set -eu
cd "$(dirname "$0")/.."
packets="${1:-1000000}"
rounds="${2:-7}"
[ $# -ge 2 ] && shift 2 || shift $#
bin="${CALLWALL_BIN:-build/release/callwall}"
[ -x "$bin" ] || { echo "scaling: no binary at $bin (cmake --build build/release)" >&2; exit 2; }
file="${CALLWALL_SCALING_FILE:-/tmp/callwall-busy-$packets.pcap}"
if [ ! -f "$file" ]; then
  /usr/bin/python3 tools/gen_workload.py --profile busy --seed 1 --packets "$packets" --out "$file" >/dev/null
fi
if [ $# -eq 0 ]; then
  set -- "--threads 1" "--threads 2" "--workers 2" "--workers 3" "--workers 4"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
bench/read_from_disk.sh "$file"  # in the page cache, in one known state (its comment says why)
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
r=0
while [ "$r" -lt "$rounds" ]; do
  c=0
  for config in "$@"; do
    rm -f "$tmp/db.sqlite" "$tmp/db.sqlite-wal" "$tmp/db.sqlite-shm"
    # shellcheck disable=SC2086 # a config is several options
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$bin" analyze -q $config --db "$tmp/db.sqlite" "$file" >/dev/null
    echo "$(cat "$tmp/t")" >>"$tmp/c$c"
    c=$((c + 1))
  done
  r=$((r + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "workload $file, $rounds rounds, medians"
echo "| analyze options | wall | CPU | peak RSS | speed vs first |"
echo "|---|---:|---:|---:|---:|"
c=0
base=""
for config in "$@"; do
  med() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
  wall=$(cut -d' ' -f1 "$tmp/c$c" | med)
  cpu=$(awk '{print $2 + $3}' "$tmp/c$c" | med)
  rss=$(cut -d' ' -f4 "$tmp/c$c" | med)
  [ -n "$base" ] || base="$wall"
  awk -v o="$config" -v w="$wall" -v u="$cpu" -v m="$rss" -v b="$base" \
    'BEGIN {printf "| `%s` | %.2f s | %.2f s | %.0f MiB | %.2f× |\n", o, w, u, m / 1024, b / w}'
  c=$((c + 1))
done
