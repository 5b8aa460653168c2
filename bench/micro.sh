#!/bin/sh
# Stage micro-benchmarks (Google Benchmark, target callwall_bench) with the
# floor and the store-less pipeline, on the 1M-packet workload, medians of 3
# repetitions, rendered as markdown into $CALLWALL_MICRO_DIR (default
# /tmp/callwall-micro)/micro.md and docs/performance.md between
# <!-- micro:begin --> and <!-- micro:end -->.
#
#   bench/micro.sh [FILTER]     (default: the decode, flow table, store,
#                                preloaded-analyzer, floor and pipeline benchmarks)
#
# The decoder and catalog benchmarks (proto_*_bench.cpp, catalog_bench.cpp)
# run with e.g. bench/micro.sh 'BM_Dns|BM_Tls|BM_Quic|BM_Stun|BM_Rtp|BM_Match'.
set -eu
cd "$(dirname "$0")/.."
filter="${1:-BM_LibpcapFloor|BM_PipelineNoStore|BM_AnalyzerPreloaded|BM_ParseFrame|BM_FlowTable|BM_StoreAddFlow}"
packets=1000000
file="/tmp/callwall-bench-$packets.pcap"
dir="${CALLWALL_MICRO_DIR:-/tmp/callwall-micro}"
if [ ! -f "$file" ]; then
    /usr/bin/python3 tools/gen_workload.py --packets "$packets" --seed 1 --out "$file.part"
    mv "$file.part" "$file"
fi
cmake --preset release >/dev/null
# Retried once: a concurrent build of the same tree can race on the link.
cmake --build --preset release -j2 --target callwall_bench >/dev/null ||
    { sleep 5; cmake --build --preset release -j2 --target callwall_bench >/dev/null; }
mkdir -p "$dir"
cat "$file" >/dev/null
CALLWALL_BENCH_PCAP="$file" build/release/callwall_bench --benchmark_filter="$filter" \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_out="$dir/micro.json" --benchmark_out_format=json
/usr/bin/python3 bench/bench_report.py micro "$dir/micro.json" "$dir/micro.md" >/dev/null
mkdir -p docs
/usr/bin/python3 bench/bench_report.py splice docs/performance.md micro "$dir/micro.md"
echo "micro.sh: table in $dir/micro.md and docs/performance.md" >&2
