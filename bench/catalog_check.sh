#!/bin/sh
# `callwall catalog check` on one catalog file of N destinations (names), and
# on one of N destinations plus N address ranges, as a user runs it.
#
#   bench/catalog_check.sh [BINARY [N...]]   (default build/release/callwall, 64000 200000)
#
# For each N: the files are written once (names h<i>.big.example; ranges
# 10.x.y.z/32 and 2001:db8:x:y::/64), then the command runs RUNS times (5,
# or $RUNS); the script prints min / median / max wall seconds. The
# destinations are checked for duplicates by lookup, so the time grows as
# n log n at worst: 200,000 destinations are checked in well under a second.
set -eu
cd "$(dirname "$0")/.."
bin="${1:-build/release/callwall}"
[ $# -ge 1 ] && shift
[ $# -ge 1 ] || set -- 64000 200000
runs="${RUNS:-5}"
dir=$(mktemp -d /tmp/callwall-catalog-check-XXXXXX)
trap 'rm -rf "$dir"' EXIT
for n in "$@"; do
  for ranges in 0 "$n"; do
    python3 - "$n" "$dir/big$n.toml" "$ranges" <<'PY'
import sys
n, out, nranges = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
names = ','.join(f'"h{i}.big.example"' for i in range(n))
v4 = [f'"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32"' for i in range(nranges // 2)]
v6 = [f'"2001:db8:{i >> 16:x}:{i & 0xffff:x}::/64"' for i in range(nranges - nranges // 2)]
with open(out, 'w') as f:
    f.write('schema = 2\n[document]\nvendor = "Big"\ntitle = "Big"\nurl = "https://big.example/"\n'
            'undated = true\ntranscribed = 2026-11-27\ndirection = "outbound"\n\n')
    f.write('[[entry]]\nid = "big.names.tcp"\nproduct = "Big"\nservice = "Many names"\ntransport = "tcp"\n'
            f'ports = [443]\nrequired = true\ndestinations = [{names}]\n[entry.source]\nsection = "Names"\n\n')
    if nranges:
        f.write('[[entry]]\nid = "big.ranges.udp"\nproduct = "Big"\nservice = "Many ranges"\ntransport = "udp"\n'
                f'ports = [3478]\nrequired = true\naddresses = [{",".join(v4 + v6)}]\n[entry.source]\nsection = "Ranges"\n')
PY
    "$bin" catalog check --no-bundled-catalog "$dir/big$n.toml" >/dev/null || {
        echo "catalog_check.sh: the generated file does not load:" >&2
        "$bin" catalog check --no-bundled-catalog "$dir/big$n.toml" | head -5 >&2
        exit 1
    }
    python3 - "$bin" "$dir/big$n.toml" "$n" "$runs" "$ranges" <<'PY'
import os, subprocess, sys, time
binary, path, n, runs, nranges = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
times = []
for _ in range(runs):
    t0 = time.monotonic()
    subprocess.run([binary, 'catalog', 'check', '--no-bundled-catalog', path], check=True, stdout=subprocess.DEVNULL)
    times.append(time.monotonic() - t0)
times.sort()
print(f'catalog check, {n} destinations + {nranges} ranges ({os.path.getsize(path)} bytes): '
      f'min {times[0]:.3f} s, median {times[len(times) // 2]:.3f} s, max {times[-1]:.3f} s ({runs} runs)')
PY
  done
done
