#!/bin/sh
# Before and after in one run, interleaved: this build's `callwall analyze`
# against a BASELINE binary on the same workload, one of each in turn for
# ROUNDS rounds, on one core (--threads 1) and with the default threads.
# Interleaving puts the shared machine's drift on both sides alike (hyperfine
# in bench/compare.sh runs each command's runs back to back: a neighbour's
# build during one of them moves that one alone). Prints the median wall and
# CPU (user + system) of each, in milliseconds (bench/time_run.py), and the
# change.
#
#   bench/ab.sh BASELINE [PACKETS] [ROUNDS]     (defaults 2000000, 7)
#
# The workload is bench/compare.sh's (tools/gen_workload.py --seed 1, cached
# as /tmp/callwall-bench-PACKETS.pcap); `--profile busy` workloads are taken
# with CALLWALL_AB_FILE=PATH.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/ab.sh BASELINE [PACKETS] [ROUNDS]" >&2; exit 2; }
base="$1"
packets="${2:-2000000}"
rounds="${3:-7}"
[ -x "$base" ] || { echo "ab.sh: $base is not an executable" >&2; exit 2; }
file="${CALLWALL_AB_FILE:-/tmp/callwall-bench-$packets.pcap}"
if [ ! -f "$file" ]; then
    echo "ab.sh: generating $file" >&2
    /usr/bin/python3 tools/gen_workload.py --packets "$packets" --seed 1 --out "$file.part"
    mv "$file.part" "$file"
fi
bench/read_from_disk.sh "$file"  # one known state of the page cache (its comment says why)
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target callwall >/dev/null
head="build/release/callwall"
# Like with like: the release preset builds RelWithDebInfo (-O2 -g); a
# baseline built Release (-O3, no debug info) differs by several per cent
# on its own (measured 2026-11-24).
has_debug() { readelf -S "$1" 2>/dev/null | grep -q '\.debug_info'; }
if has_debug "$head" && ! has_debug "$base"; then
    echo "ab.sh: warning: $base has no debug info: built Release? build it with the release preset (RelWithDebInfo)" >&2
fi
work=$(mktemp -d /tmp/callwall-ab-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in 1 default; do
    opt=""
    [ "$mode" = 1 ] && opt="--threads 1"
    i=0
    while [ "$i" -lt "$rounds" ]; do
        for who in baseline this; do
            bin="$head"
            [ "$who" = baseline ] && bin="$base"
            rm -f "$work/db.sqlite" "$work/db.sqlite-wal" "$work/db.sqlite-shm"
            # shellcheck disable=SC2086  # $opt is one option or none
            /usr/bin/python3 bench/time_run.py "$work/times" "$mode" "$who" -- "$bin" analyze -q "$file" --db "$work/db.sqlite" $opt
        done
        i=$((i + 1))
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$work/times" "$file" "$rounds" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    mode, who, wall, user, system = line.split()
    rows.setdefault((mode, who), []).append((float(wall), float(user) + float(system)))
print(f"workload {sys.argv[2]}, {sys.argv[3]} rounds, medians")
print("| threads | baseline wall | this wall | change | baseline CPU | this CPU | change |")
print("|---|---:|---:|---:|---:|---:|---:|")
for mode in ("1", "default"):
    b, t = rows[(mode, "baseline")], rows[(mode, "this")]
    bw, tw = statistics.median(x[0] for x in b), statistics.median(x[0] for x in t)
    bc, tc = statistics.median(x[1] for x in b), statistics.median(x[1] for x in t)
    print(f"| {mode} | {bw * 1e3:.0f} ms | {tw * 1e3:.0f} ms | {100 * (tw / bw - 1):+.1f} % | {bc * 1e3:.0f} ms | {tc * 1e3:.0f} ms | {100 * (tc / bc - 1):+.1f} % |")
PY
