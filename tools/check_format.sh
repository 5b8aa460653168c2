#!/bin/sh
# The tree is clean under .clang-format: every C++ file of src/,
# tests/ and bench/ is as clang-format writes it. Exit 0 clean; 1 with the
# files that are not (fix: clang-format -i FILE); 77 (a skip for ctest) when
# clang-format is missing or is not version 14 (Debian 12's, which the tree
# is formatted with: other versions format some constructs differently).
#   tools/check_format.sh
cd "$(dirname "$0")/.." || exit 1
command -v clang-format >/dev/null 2>&1 || { echo "SKIP: clang-format is not installed (tools/setup.sh installs it)"; exit 77; }
major=$(clang-format --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
[ "$major" = 14 ] || { echo "SKIP: clang-format $major is not 14, the version the tree is formatted with"; exit 77; }
files=$(find src tests bench \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)
# One process for all files; each file that is not clean is named in a warning.
bad=$(clang-format --dry-run $files 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: code should be clang-formatted.*/\1/p' | sort -u)
if [ -n "$bad" ]; then
  echo "not formatted (clang-format -i FILE):"; echo "$bad"; exit 1
fi
echo "clang-format: $(echo "$files" | wc -l) files clean"
