#!/bin/sh
# Writes a canonical dump of what callwall makes of every committed capture:
# the whole database (`sqlite3 .dump`, with the run's wall-clock, command-line
# and writer columns blanked), the text, JSON, CSV and HTML reports, and the
# database of an `analyze --detail` (every message's row), one file each
# under OUTDIR. Two OUTDIRs made before and after a change that must
# not change behaviour are compared with `diff -r`.
#
# Usage: tools/dump_captures.sh OUTDIR [BUILD_DIR]    (BUILD_DIR: build/release)
#        tools/dump_captures.sh --compare BEFORE AFTER
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--compare" ]; then
  [ $# -eq 3 ] || { echo "usage: $0 --compare BEFORE AFTER" >&2; exit 2; }
  if diff -r "$2" "$3" >/dev/null; then
    echo "dump_captures: $(ls "$2" | wc -l) files identical"
    exit 0
  fi
  diff -r "$2" "$3" | head -40
  echo "dump_captures: DIFFERENT ($(diff -rq "$2" "$3" | wc -l) files)" >&2
  exit 1
fi
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [BUILD_DIR]" >&2; exit 2; }
out="$1"
bin="${2:-build/release}/callwall"
[ -x "$bin" ] || { echo "dump_captures: no binary at $bin" >&2; exit 2; }
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
# CALLWALL_DUMP_DIRS: the directories searched (default: captures; e.g.
# "captures ../shared/captures/public" for the public captures as well).
find ${CALLWALL_DUMP_DIRS:-captures} -type f \( -name '*.pcap' -o -name '*.pcapng' \) | LC_ALL=C sort | while read -r cap; do
  name="$(echo "$cap" | sed 's|^\(\.\./\)*||; s|^captures/||; s|/|__|g')"
  db="$tmp/$name.sqlite"
  # Exit codes other than 0 (e.g. a damaged capture) are part of the output.
  rc=0
  "$bin" analyze --quiet --db "$db" "$cap" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
  {
    echo "exit $rc"
    sed "s|$tmp/||g" "$tmp/stderr"
  } >"$out/$name.exit"
  [ -f "$db" ] || continue
  # Wall-clock and process columns differ between any two runs: blanked
  # before the reports are rendered from the database.
  sqlite3 "$db" "UPDATE run SET started_at = 0, ended_at = CASE WHEN ended_at IS NULL THEN NULL ELSE 0 END,
                   command_line = '', writer_pid = NULL, writer_start = NULL, writer_boot_id = NULL;" 2>/dev/null || true
  for f in text json csv html; do
    "$bin" report --db "$db" --format "$f" 2>&1 | sed "s|$tmp/||g" >"$out/$name.report.$f" || true
  done
  sqlite3 "$db" .dump | sed "s|$tmp/||g" >"$out/$name.dump.sql"
  rm -f "$db" "$db-wal" "$db-shm"
  # With --detail: every DNS, TLS and STUN message's row as well.
  "$bin" analyze --quiet --detail --db "$db" "$cap" >/dev/null 2>&1 || true
  [ -f "$db" ] || continue
  sqlite3 "$db" "UPDATE run SET started_at = 0, ended_at = CASE WHEN ended_at IS NULL THEN NULL ELSE 0 END,
                   command_line = '', writer_pid = NULL, writer_start = NULL, writer_boot_id = NULL;" 2>/dev/null || true
  sqlite3 "$db" .dump | sed "s|$tmp/||g" >"$out/$name.detail.dump.sql"
  rm -f "$db" "$db-wal" "$db-shm"
done
echo "dump_captures: $(ls "$out" | wc -l) files in $out"
