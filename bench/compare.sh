#!/bin/sh
# callwall against the libpcap floor and its peers, in one run, on both
# workload profiles.
#
#   bench/compare.sh [PACKETS]        (default 2000000)
#
# For each profile of CALLWALL_COMPARE_PROFILES (default "office busy": the
# project's workload, tools/gen_workload.py --seed 1, and the busy
# mirror port, --profile busy --seed 1; cached as
# /tmp/callwall-bench-PACKETS.pcap and /tmp/callwall-busy-PACKETS.pcap), after
# building the release preset once, it measures with hyperfine, each command
# under /usr/bin/time for its peak RSS:
#   floor     build/release/pcap_floor FILE           (read every packet, touch every byte)
#   floormap  build/release/pcap_floor --mapped FILE  (the same loop, the file handed to libpcap
#             through a memory map as callwall reads pcapng; the ratios stay against the plain floor)
#   callwall  build/release/callwall analyze -q FILE --db DB   (the whole job: flows,
#             decoders, SQLite, attribution; DB deleted before each run; the file is
#             read, and the database written, beside the decoding thread: the default
#             on a machine with more than one CPU)
#   callwall1 the same with --threads 1: everything on one core
#   answer    build/release/callwall analyze FILE --db DB   (the default command as users
#             run it, without -q: the verdict table printed, output to /dev/null)
#   answer1   the same with --threads 1
#   ndpiReader -i FILE -q                              (nDPI classification of every flow;
#             single-threaded: -n is ignored for files)
#   tshark    -r FILE -n -T fields -e SNI -e DNS name -e STUN type -e RTP SSRC with the
#             RTP/RTCP/STUN heuristics enabled, output to /dev/null
# and writes a markdown table per profile (machine, date, load, the ratios
# against the speed targets of docs/performance.md) to $CALLWALL_COMPARE_DIR (default
# /tmp/callwall-compare-PACKETS)/PROFILE/table.md, both into
# $CALLWALL_COMPARE_DIR/table.md and into docs/performance.md (the README keeps a summary)
# between <!-- compare:begin --> and <!-- compare:end -->.
#
# CALLWALL_COMPARE_BASELINE=PATH also measures another callwall binary (the
# same four commands, rows "baseline", "baseline1", "baseanswer" and
# "baseanswer1", right after this build's), for before/after comparisons in one run, and then both binaries
# in turn with bench/ab.sh (interleaved medians, the figures to quote); it
# writes no docs/performance.md table then (only
# $CALLWALL_COMPARE_DIR/table.md).
# Each binary reads the catalog it finds (its own tree's, or --catalog's
# default); set CALLWALL_CATALOG_DIR=DIR to give both the same one, so
# that the comparison is of the code alone (a larger catalog costs time).
#
# Environment: CALLWALL_COMPARE_RUNS (floor, callwall; default 5),
# CALLWALL_COMPARE_PEER_RUNS (ndpiReader; default 5), CALLWALL_COMPARE_TSHARK_RUNS
# (default 5: every median of five; tshark takes 0.5-1 min a run
# on 2M packets, so 5-10 minutes of the script's time), CALLWALL_COMPARE_SKIP="tshark ndpi"
# to leave peers out, CALLWALL_COMPARE_PROFILES. Missing peers are reported, not
# fatal (Debian: apt-get install tshark libndpi-bin hyperfine).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
packets="${1:-2000000}"
top="${CALLWALL_COMPARE_DIR:-/tmp/callwall-compare-$packets}"
runs="${CALLWALL_COMPARE_RUNS:-5}"
peer_runs="${CALLWALL_COMPARE_PEER_RUNS:-5}"
tshark_runs="${CALLWALL_COMPARE_TSHARK_RUNS:-5}"
skip="${CALLWALL_COMPARE_SKIP:-}"
profiles="${CALLWALL_COMPARE_PROFILES:-office busy}"

tools/setup.sh --bench  # hyperfine, ndpiReader, /usr/bin/time (and the build's packages)
command -v hyperfine >/dev/null || { echo "compare.sh: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "compare.sh: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

workload() {  # PROFILE -> the cached file, generated when missing
    case "$1" in
        office) f="/tmp/callwall-bench-$packets.pcap" ;;
        busy) f="/tmp/callwall-busy-$packets.pcap" ;;
        *) echo "compare.sh: unknown profile $1 (office or busy)" >&2; exit 2 ;;
    esac
    if [ ! -f "$f" ]; then
        echo "compare.sh: generating $f" >&2
        /usr/bin/python3 tools/gen_workload.py --packets "$packets" --seed 1 --profile "$1" --out "$f.part" >&2
        mv "$f.part" "$f"
    fi
    echo "$f"
}

echo "compare.sh: building (release)" >&2
cmake --preset release >/dev/null
# Retried once: a concurrent build of the same tree can race on the link.
cmake --build --preset release -j2 --target callwall pcap_floor >/dev/null ||
    { sleep 5; cmake --build --preset release -j2 --target callwall pcap_floor >/dev/null; }

rm -rf "$top"
mkdir -p "$top"
have() { command -v "$1" >/dev/null 2>&1 && case " $skip " in *" $2 "*) false ;; *) true ;; esac; }

for profile in $profiles; do
file=$(workload "$profile")
bench/read_from_disk.sh "$file"  # one known state of the page cache (its comment says why)
dir="$top/$profile"
db="$dir/callwall.sqlite"
mkdir -p "$dir"

# --- machine ---------------------------------------------------------------
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc: $(nproc)"
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "os: $(uname -sr)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    rev=$(bench/revision.sh)
    echo "callwall: $(build/release/callwall --version 2>/dev/null | head -1 | sed 's/^callwall //') ($rev, RelWithDebInfo)"
    if have tshark tshark; then echo "tshark: $(tshark --version 2>/dev/null | head -1 | sed 's/ (Git.*//')"; fi
    if have ndpiReader ndpi; then echo "ndpi: $(ndpiReader -h 2>&1 | sed -n 's/.*Welcome to \(nDPI [^ ]*\).*/\1/p' | head -1)"; fi
    if [ -n "${CALLWALL_COMPARE_BASELINE:-}" ]; then
        echo "baseline: $("$CALLWALL_COMPARE_BASELINE" --version 2>/dev/null | head -1 | sed 's/^callwall //') ($CALLWALL_COMPARE_BASELINE)"
    fi
    echo "hyperfine: $(hyperfine --version)"
    echo "file size: $(du -m "$file" | cut -f1) MB"
    if command -v capinfos >/dev/null; then
        echo "capture span: $(capinfos -u -M "$file" | sed -n 's/^Capture duration:[[:space:]]*\([0-9]*\).*/\1 s/p')"
    fi
} >"$dir/machine.txt"

# The floor reads the file once first: page cache warm, packet count checked.
floor_out=$(build/release/pcap_floor "$file")
echo "compare.sh: $floor_out" >&2
counted=$(echo "$floor_out" | sed -n 's/^packets \([0-9]*\) .*/\1/p')
[ "$counted" = "$packets" ] || echo "compare.sh: warning: the file holds $counted packets, not $packets" >&2

floor_cmd="$root/build/release/pcap_floor $file"
floormap_cmd="$root/build/release/pcap_floor --mapped $file"
callwall_cmd="$root/build/release/callwall analyze -q $file --db $db"
callwall1_cmd="$root/build/release/callwall analyze -q $file --db $db --threads 1"
answer_cmd="$root/build/release/callwall analyze $file --db $db"
answer1_cmd="$root/build/release/callwall analyze $file --db $db --threads 1"
ndpi_cmd="ndpiReader -i $file -q"
tshark_cmd="tshark -r $file -n -T fields -e frame.number -e tls.handshake.extensions_server_name -e dns.qry.name -e stun.type -e rtp.ssrc --enable-heuristic rtp_udp --enable-heuristic rtcp_udp --enable-heuristic stun_udp --enable-heuristic stun_tcp"
printf 'floor\t%s\nfloormap\t%s\ncallwall\t%s\ncallwall1\t%s\nanswer\t%s\nanswer1\t%s\nndpi\t%s\ntshark\t%s\n' \
    "bench/pcap_floor FILE" "bench/pcap_floor --mapped FILE" "callwall analyze -q FILE --db DB" "callwall analyze -q FILE --db DB --threads 1" \
    "callwall analyze FILE --db DB" "callwall analyze FILE --db DB --threads 1" \
    "ndpiReader -i FILE -q" \
    "$(echo "$tshark_cmd" | sed "s|$file|FILE|")" >"$dir/commands.txt"

timed() {  # NAME COMMAND -> the command under /usr/bin/time, peak RSS appended to rss-NAME.txt
    echo "/usr/bin/time -f %M -a -o $dir/rss-$1.txt $2"
}
bench() {  # NAME WARMUP RUNS PREPARE COMMAND
    echo "compare.sh: measuring $1 ($3 runs)" >&2
    hyperfine --style basic --warmup "$2" --runs "$3" --prepare "$4" --export-json "$dir/$1.json" \
        -n "$1" "$(timed "$1" "$5")" >&2 || echo "compare.sh: $1 failed" >&2
}

# One at a time; floor and callwall back to back so their ratio sees the same load.
bench floor 1 "$runs" true "$floor_cmd"
bench floormap 1 "$runs" true "$floormap_cmd"
bench callwall 1 "$runs" "rm -f $db $db-wal $db-shm" "$callwall_cmd"
bench callwall1 1 "$runs" "rm -f $db $db-wal $db-shm" "$callwall1_cmd"
bench answer 1 "$runs" "rm -f $db $db-wal $db-shm" "$answer_cmd"
bench answer1 1 "$runs" "rm -f $db $db-wal $db-shm" "$answer1_cmd"
if [ -n "${CALLWALL_COMPARE_BASELINE:-}" ]; then
    base="$CALLWALL_COMPARE_BASELINE"
    printf 'baseline\t%s analyze -q FILE --db DB\nbaseline1\t%s analyze -q FILE --db DB --threads 1\n' "$base" "$base" >>"$dir/commands.txt"
    bench baseline 1 "$runs" "rm -f $db $db-wal $db-shm" "$base analyze -q $file --db $db"
    bench baseline1 1 "$runs" "rm -f $db $db-wal $db-shm" "$base analyze -q $file --db $db --threads 1"
    printf 'baseanswer\t%s analyze FILE --db DB\nbaseanswer1\t%s analyze FILE --db DB --threads 1\n' "$base" "$base" >>"$dir/commands.txt"
    bench baseanswer 1 "$runs" "rm -f $db $db-wal $db-shm" "$base analyze $file --db $db"
    bench baseanswer1 1 "$runs" "rm -f $db $db-wal $db-shm" "$base analyze $file --db $db --threads 1"
fi
if have ndpiReader ndpi; then
    bench ndpi 1 "$peer_runs" true "$ndpi_cmd"
else
    echo "compare.sh: ndpiReader skipped or not installed (apt-get install libndpi-bin)" >&2
fi
if have tshark tshark; then
    bench tshark 0 "$tshark_runs" true "$tshark_cmd"
else
    echo "compare.sh: tshark skipped or not installed (apt-get install tshark)" >&2
fi
# The floor once more, after the peers: if the machine got busier or quieter,
# the two floor medians say so (rss-floor2 and floor2.json, not in the table).
bench floor2 1 "$runs" true "$floor_cmd"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$dir/machine.txt"
rm -f "$db" "$db-wal" "$db-shm"

/usr/bin/python3 bench/bench_report.py compare "$dir" "$packets" "$profile" >/dev/null
done

# Both profiles' tables, one after the other.
for profile in $profiles; do cat "$top/$profile/table.md"; echo; done >"$top/table.md"
cat "$top/table.md"
if [ -n "${CALLWALL_COMPARE_BASELINE:-}" ]; then
    # The rows above run each binary's runs back to back: a neighbour's build
    # during one of them moves that one alone (two such runs here put one core
    # at -8 % and at +38 %). bench/ab.sh runs the two in turn; its medians
    # are the before/after figures to quote.
    for profile in $profiles; do
        printf '\n**Before and after, interleaved, %s profile** (`bench/ab.sh`, %s rounds):\n\n' "$profile" "$runs"
        CALLWALL_AB_FILE="$(workload "$profile")" bench/ab.sh "$CALLWALL_COMPARE_BASELINE" "$packets" "$runs" |
            sed -n '/^| threads/,$p'
    done >>"$top/table.md"
    echo "compare.sh: table in $top/table.md (a before/after run: docs/performance.md left as it is)" >&2
    exit 0
fi
mkdir -p docs
/usr/bin/python3 bench/bench_report.py splice docs/performance.md compare "$top/table.md"
echo "compare.sh: table in $top/table.md and docs/performance.md" >&2
