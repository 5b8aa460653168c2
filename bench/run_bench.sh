#!/bin/sh
# Whole-pipeline benchmark: makes the 1M-packet workload (once) and runs the
# Google Benchmark binary, which measures the libpcap floor and callwall's
# pipeline on the same file in the same run. Usage: bench/run_bench.sh [PACKETS]
set -eu
cd "$(dirname "$0")/.."
packets="${1:-1000000}"
file="/tmp/callwall-bench-$packets.pcap"
tools/setup.sh
[ -f "$file" ] || /usr/bin/python3 tools/gen_workload.py --packets "$packets" --seed 1 --out "$file"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target callwall_bench >/dev/null
CALLWALL_BENCH_PCAP="$file" build/release/callwall_bench --benchmark_filter='BM_LibpcapFloor|BM_Pipeline' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
