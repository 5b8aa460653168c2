#!/bin/sh
# The main job: builds callwall, analyses the bundled captures with the bundled
# catalog into a SQLite database (one run per scenario capture) and prints the
# verdicts. Installs what is missing first (tools/setup.sh).
# Usage: tools/run.sh [DB]   (default out/callwall.sqlite, recreated)
set -eu
cd "$(dirname "$0")/.."
db="${1:-out/callwall.sqlite}"
tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target callwall >/dev/null
mkdir -p "$(dirname "$db")"
rm -f "$db" "$db-wal" "$db-shm"
for f in captures/scenarios/*.pcap; do
  echo "=================================================================="
  echo "callwall analyze $f --db $db"
  echo "=================================================================="
  build/release/callwall analyze "$f" --db "$db"
  echo
done
echo "database: $db  (callwall report --db $db --run N --format text|json|csv|html)"
