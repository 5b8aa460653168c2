#!/bin/sh
# ThreadSanitizer check of `analyze --workers` and `capture --workers`
# (run/shards/shards.*): builds callwall and callwall_tests with
# -fsanitize=thread in BUILD_DIR (default build/tsan; a full build, ~20 min
# on 2 CPUs), runs `analyze --detail --workers 3` over every committed
# capture (and ../shared/captures/public when present), and plain `analyze`
# with its default threads (the reading thread, the store's writer thread
# finishing the rows while attribution runs from memory), then the live
# refresh's barrier across workers (the Snapshot.Workers* tests) and the
# kept flows' attribution on one Store with a second core (KeptFlows.*), then a
# live capture whose workers read a PACKET_FANOUT group (root, tcpreplay).
# Fails on the first ThreadSanitizer report. Not part of CI (a second full
# build); run it after changing the workers, the merger or what they share.
#
#   tools/tsan_shards.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
build="${1:-build/tsan}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALLWALL_TESTS=ON -DCALLWALL_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1 -g" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$build" -j2 --target callwall callwall_tests >/dev/null
bin="$build/callwall"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
for cap in $(find captures ../shared/captures/public -type f \( -name '*.pcap' -o -name '*.pcapng' \) 2>/dev/null | LC_ALL=C sort); do
  for opts in "--detail --workers 3" "--threads 2"; do
    rm -f "$tmp"/db.sqlite*
    rc=0
    # shellcheck disable=SC2086  # the options are two words each
    TSAN_OPTIONS="halt_on_error=1:exitcode=66" "$bin" analyze -q $opts --db "$tmp/db.sqlite" "$cap" \
      >"$tmp/out" 2>&1 || rc=$?
    if [ "$rc" -eq 66 ] || grep -q ThreadSanitizer "$tmp/out"; then
      cat "$tmp/out" >&2
      echo "tsan_shards: a ThreadSanitizer report on $cap (analyze $opts)" >&2
      exit 1
    fi
  done
  n=$((n + 1))
done
rc=0
TSAN_OPTIONS="halt_on_error=1:exitcode=66" "$build/callwall_tests" --gtest_filter='Snapshot.Workers*:KeptFlows.*' \
  >"$tmp/out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] || grep -q ThreadSanitizer "$tmp/out"; then
  cat "$tmp/out" >&2
  echo "tsan_shards: the live refresh tests failed or ThreadSanitizer reported (exit $rc)" >&2
  exit 1
fi
# capture --workers on a PACKET_FANOUT group (run/shards/shards_fanout.cpp):
# traffic of many address pairs replayed into a veth of namespaces made
# here, read by three workers with a refresh every second and a rotation
# every 4 s. Needs root and tcpreplay; skipped (said so) without them.
live="skipped (needs root and tcpreplay)"
if [ "$(id -u)" = 0 ] && command -v tcpreplay >/dev/null 2>&1; then
  tag=$$
  nsa="cwtsA$tag" nsb="cwtsB$tag" va="tsa$tag" vb="tsb$tag"
  trap 'ip netns del "$nsa" 2>/dev/null; ip netns del "$nsb" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
  ip netns add "$nsa" && ip netns add "$nsb"
  ip link add "$va" netns "$nsa" type veth peer name "$vb" netns "$nsb"
  ip -n "$nsa" link set "$va" up && ip -n "$nsb" link set "$vb" up
  /usr/bin/python3 tools/gen_workload.py --packets 60000 --seed 5 --out "$tmp/w.pcap" >/dev/null
  rc=0
  TSAN_OPTIONS="halt_on_error=1:exitcode=66" ip netns exec "$nsa" "$bin" capture -q -i "$va" --no-filter \
    --workers 3 --refresh 1 --rotate 4s --duration 16 --user root --db "$tmp/live.sqlite" >"$tmp/out" 2>&1 &
  pid=$!
  sleep 2
  ip netns exec "$nsb" tcpreplay -q -i "$vb" --pps 5000 "$tmp/w.pcap" >/dev/null 2>&1 || true
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ] || grep -q ThreadSanitizer "$tmp/out"; then
    cat "$tmp/out" >&2
    echo "tsan_shards: capture --workers 3 failed or ThreadSanitizer reported (exit $rc)" >&2
    exit 1
  fi
  live="$(sqlite3 "$tmp/live.sqlite" 'SELECT count(*) || " runs, " || sum(packets) || " packets" FROM run' 2>/dev/null || echo "?")"
fi
echo "tsan_shards: $n captures, the live refresh tests and capture --workers 3 ($live), no ThreadSanitizer report"
