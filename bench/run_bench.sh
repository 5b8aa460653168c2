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
json="$(mktemp /tmp/callwall-bench-XXXXXX.json)"
CALLWALL_BENCH_PCAP="$file" build/release/callwall_bench --benchmark_filter='BM_LibpcapFloor|BM_Pipeline' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_out="$json" --benchmark_out_format=json
# The two medians, measured in this one run, and their ratio.
/usr/bin/python3 - "$json" <<'PY'
import json, sys
runs = {b["run_name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"}
floor = next(v for k, v in runs.items() if k.startswith("BM_LibpcapFloor"))
pipe = next(v for k, v in runs.items() if k.startswith("BM_PipelineNoStore"))
print(f"median: floor {floor['real_time']:.0f} ms ({floor['items_per_second'] / 1e6:.2f} M packets/s), "
      f"pipeline {pipe['real_time']:.0f} ms ({pipe['items_per_second'] / 1e6:.2f} M packets/s), "
      f"ratio {pipe['real_time'] / floor['real_time']:.2f}x")
PY
rm -f "$json"
