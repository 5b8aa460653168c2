#!/bin/sh
# Peak RSS against capture length: the same flow mix at the same packet rate,
# only longer, should need about the same memory (memory follows live flows,
# not packets).
#
#   bench/rss_scaling.sh [PACKETS...]     (default 2000000 8000000)
#
# Workloads are tools/gen_workload.py --seed 1 of the profile
# CALLWALL_RSS_PROFILE (office, the default: cached as
# /tmp/callwall-bench-N.pcap; busy, the busy mirror port: cached as
# /tmp/callwall-busy-N.pcap). 8M packets is about 5 GB, 20M about 13 GB: the
# script checks the free space of /tmp first and halves every size when the
# missing files would not fit, saying so. Each file is analysed
# CALLWALL_RSS_RUNS times (default 3, after one read of the file to warm the
# page cache) by `callwall analyze -q FILE --db DB` under /usr/bin/time -v;
# medians go to $CALLWALL_RSS_DIR (default /tmp/callwall-rss)/rss.md and into
# docs/performance.md between <!-- rss:begin --> and <!-- rss:end --> (office)
# or <!-- rss-busy:begin --> and <!-- rss-busy:end --> (busy).
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- 2000000 8000000
sizes="$*"
profile="${CALLWALL_RSS_PROFILE:-office}"
runs="${CALLWALL_RSS_RUNS:-3}"
dir="${CALLWALL_RSS_DIR:-/tmp/callwall-rss}"
db="$dir/callwall.sqlite"
note=""
case "$profile" in
    office) prefix=/tmp/callwall-bench; marker=rss ;;
    busy) prefix=/tmp/callwall-busy; marker=rss-busy ;;
    *) echo "rss_scaling.sh: unknown profile $profile (office or busy)" >&2; exit 2 ;;
esac

bytes_per_packet=700  # both mixes average ~600-660 bytes per record
need_mb=0
for n in $sizes; do
    [ -f "$prefix-$n.pcap" ] || need_mb=$(( need_mb + n * bytes_per_packet / 1000000 ))
done
free_mb=$(df -Pm /tmp | awk 'NR == 2 { print $4 }')
if [ "$need_mb" -gt 0 ] && [ $(( need_mb + 2000 )) -gt "$free_mb" ]; then
    halved=""
    for n in $sizes; do halved="$halved $((n / 2))"; done
    note="Only ${free_mb} MB free in /tmp for ${need_mb} MB of workloads: measured$halved packets instead of $sizes."
    echo "rss_scaling.sh: $note" >&2
    sizes="$halved"
fi

for n in $sizes; do
    f="$prefix-$n.pcap"
    if [ ! -f "$f" ]; then
        echo "rss_scaling.sh: generating $f" >&2
        /usr/bin/python3 tools/gen_workload.py --packets "$n" --seed 1 --profile "$profile" --out "$f.part"
        mv "$f.part" "$f"
    fi
done

cmake --preset release >/dev/null
# Retried once: a concurrent build of the same tree can race on the link.
cmake --build --preset release -j2 --target callwall >/dev/null ||
    { sleep 5; cmake --build --preset release -j2 --target callwall >/dev/null; }

rm -rf "$dir"
mkdir -p "$dir"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    rev=$(bench/revision.sh)
    echo "callwall: $rev"
    echo "note: $note"
    echo "profile: $profile"
} >"$dir/machine.txt"

for n in $sizes; do
    f="$prefix-$n.pcap"
    rss="" wall=""
    cat "$f" >/dev/null  # page cache warm, as in compare.sh
    i=0
    while [ "$i" -lt "$runs" ]; do
        rm -f "$db" "$db-wal" "$db-shm"
        /usr/bin/time -v -o "$dir/time-$n-$i.txt" build/release/callwall analyze -q "$f" --db "$db"
        rss="$rss $(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$dir/time-$n-$i.txt")"
        # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:12.34"
        w=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time-$n-$i.txt" |
            awk -F: '{ s = 0; for (k = 1; k <= NF; ++k) s = s * 60 + $k; print s }')
        wall="$wall $w"
        echo "rss_scaling.sh: $n packets: peak RSS $(echo "$rss" | awk '{ print $NF }') KiB, $w s" >&2
        i=$((i + 1))
    done
    flows=$(/usr/bin/python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from flow').fetchone()[0])" "$db")
    size="$(du -m "$f" | cut -f1) MB"
    span=$(capinfos -u -M "$f" 2>/dev/null | sed -n 's/^Capture duration:[[:space:]]*\([0-9]*\).*/\1 s/p' || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$size" "${span:-?}" "$flows" "$rss" "$wall" >>"$dir/rows.txt"
done
rm -f "$db" "$db-wal" "$db-shm"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$dir/machine.txt"

/usr/bin/python3 bench/bench_report.py rss "$dir"
mkdir -p docs
/usr/bin/python3 bench/bench_report.py splice docs/performance.md "$marker" "$dir/rss.md"
echo "rss_scaling.sh: table in $dir/rss.md and docs/performance.md" >&2
