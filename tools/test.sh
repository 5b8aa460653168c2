#!/bin/sh
# Builds callwall and runs every test. Usage: tools/test.sh [release|asan]
# Installs what is missing first (tools/setup.sh).
set -eu
cd "$(dirname "$0")/.."
preset="${1:-release}"
tools/setup.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
# Busy tests take three slots, waiting ones one (CMakeLists.txt, "Scheduling"):
# one busy test per core, and two waiting tests beside them.
ctest --preset "$preset" -j "$(( 3 * $(nproc) + 2 ))"
