#!/bin/sh
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for SECONDS
# (default 60), seeded from the bundled captures and the committed
# regressions. Crashing inputs land in tests/fuzz/regressions/<target>/.
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
secs="${1:-60}"
[ $# -gt 0 ] && shift
tools/setup.sh --fuzz
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null
targets="$*"
[ -z "$targets" ] && targets=$(ls tests/fuzz/*_fuzz.cpp | xargs -n1 basename | sed 's/_fuzz.cpp//')
printf '%-10s %12s %8s\n' target executions findings
for t in $targets; do
  reg="tests/fuzz/regressions/$t"
  corpus="build/fuzz/corpus/$t"
  mkdir -p "$reg" "$corpus"
  log="build/fuzz/$t.log"
  build/fuzz/${t}_fuzz "$corpus" "$reg" captures -max_total_time="$secs" -max_len=65536 \
    -artifact_prefix="$reg/" -print_final_stats=1 >"$log" 2>&1 || true
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  crashes=$(find "$reg" -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' | wc -l)
  printf '%-10s %12s %8s\n' "$t" "${execs:-?}" "$crashes"
done
