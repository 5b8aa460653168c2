#!/bin/sh
# The tree is clean under .clang-format: every C++ file of src/, include/,
# tests/ and bench/ is as clang-format writes it. Exit 0 clean; 1 with the
# files that are not (fix: clang-format -i FILE); 77 clang-format missing.
#   tools/check_format.sh
cd "$(dirname "$0")/.." || exit 1
command -v clang-format >/dev/null 2>&1 || { echo "SKIP: clang-format is not installed (apt-get install clang-format)"; exit 77; }
bad=$(find src include tests bench \( -name '*.cpp' -o -name '*.hpp' \) -print | sort | while read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -n "$bad" ]; then
  echo "not formatted (clang-format -i):"; echo "$bad"; exit 1
fi
echo "clang-format: $(find src include tests bench \( -name '*.cpp' -o -name '*.hpp' \) | wc -l) files clean"
