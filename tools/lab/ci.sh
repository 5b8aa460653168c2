#!/bin/sh
# CI hook for the real-traffic firewall lab (called from .ci/run).
#
# Where this machine can run the lab (root, network namespaces, veth pairs and
# nftables inside them), it installs the lab's Debian packages
# (tools/setup.sh --lab), builds callwall and its tests, runs every profile of
# the lab into a fresh directory (tools/lab/run.sh) and checks those fresh
# captures exactly as the committed ones are checked: the Lab tests of
# callwall_tests, pointed at them with CALLWALL_LAB_DIR.
# Elsewhere it prints why it skipped and exits 0.
#
# Usage: tools/lab/ci.sh
set -eu
cd "$(dirname "$0")/../.."

skip() { echo "lab: skipped: $*"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "not root (the lab needs network namespaces, nftables and tcpdump)"
tools/setup.sh --lab
probe="cwlabprobe$$"
ip netns add "$probe" 2>/dev/null || skip "cannot create network namespaces here (ip netns add failed)"
ok=1
ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null || ok=0
ip netns exec "$probe" nft -f - 2>/dev/null <<'EOF' || ok=0
table inet probe {
  chain f {
    type filter hook forward priority filter; policy accept;
  }
}
EOF
ip netns del "$probe"
[ "$ok" -eq 1 ] || skip "network namespaces work, but not veth pairs or nftables inside them"

cmake --preset release >/dev/null
cmake --build --preset release -j2 --target callwall callwall_tests

out="$(mktemp -d /tmp/cwlab-ci.XXXXXX)"
trap 'rm -rf "$out"' EXIT
tools/lab/run.sh --out "$out"
echo "lab: checking the fresh captures in $out"
CALLWALL_LAB_DIR="$out" build/release/callwall_tests --gtest_filter='Profiles/Lab.*:LabCaptures.*:LabStrict.*:LabHighPorts.*'
# `callwall probe` against the lab's servers (probe_matrix.py --against
# servers) is the release tests' probe_lab_servers: .ci/run installs the
# lab's packages before those tests, so it ran there.
