#!/bin/sh
# Regenerates golden expected files from the current code; review the diff like code.
# Usage: tools/update_golden.sh [NAME...]   (no name: all of tests/golden/TESTLIST and every golden
# text report of tests/golden/text_report_test.cpp, tests/golden/expected/text/NAME.txt)
set -eu
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target callwall_tests >/dev/null
filter="Captures/Golden.*:Golden/TextGolden.*"
if [ $# -gt 0 ]; then
  filter=""
  for n in "$@"; do
    filter="${filter:+$filter:}Captures/Golden.MatchesExpected/$n:Golden/TextGolden.MatchesItsGoldenAndKeepsTheLayoutsPromises/$n"
  done
fi
CALLWALL_UPDATE_GOLDEN=1 build/release/callwall_tests --gtest_filter="$filter" >/dev/null
git --no-pager diff --stat -- tests/golden/expected || true
