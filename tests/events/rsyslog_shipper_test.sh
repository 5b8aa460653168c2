#!/bin/sh
# A real log shipper reads callwall's event stream: rsyslog (Debian's) tails
# the --events file with imfile, parses each line with mmjsonparse and writes
# chosen fields out. Every line must arrive, parsed, with the same event kind,
# run id, flow id and Community ID as callwall wrote them.
#
#   tests/events/rsyslog_shipper_test.sh CALLWALL_BINARY CAPTURE
#
# Exit 0 pass; 1 fail; 77 skip (no rsyslogd with imfile and mmjsonparse).
set -u
CALLWALL=$1
CAPTURE=$2
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
if [ ! -x "$RSYSLOGD" ]; then echo "SKIP: rsyslogd is not installed (apt-get install rsyslog)"; exit 77; fi
MODDIR=$(dirname "$(find /usr/lib -name imfile.so -path '*rsyslog*' 2>/dev/null | head -n1)")
if [ ! -f "$MODDIR/imfile.so" ] || [ ! -f "$MODDIR/mmjsonparse.so" ]; then
  echo "SKIP: rsyslog's imfile/mmjsonparse modules are missing"; exit 77
fi

TMP=$(mktemp -d)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$CALLWALL" analyze --quiet --db "$TMP/run.db" --events "$TMP/events.jsonl" "$CAPTURE" || {
  echo "FAIL: callwall analyze exited $?"; exit 1; }
LINES=$(wc -l < "$TMP/events.jsonl")
[ "$LINES" -gt 0 ] || { echo "FAIL: no event lines"; exit 1; }

mkdir "$TMP/work"
cat > "$TMP/rsyslog.conf" <<CONF
global(workDirectory="$TMP/work")
module(load="imfile" mode="polling" PollingInterval="1")
module(load="mmjsonparse")
template(name="callwall" type="string" string="%\$!event%\t%\$!run_id%\t%\$!flow_id%\t%\$!community_id%\n")
ruleset(name="callwall") {
  action(type="mmjsonparse" cookie="")
  if \$parsesuccess == "OK" then {
    action(type="omfile" file="$TMP/shipped.tsv" template="callwall")
  } else {
    action(type="omfile" file="$TMP/unparsed.txt")
  }
}
input(type="imfile" File="$TMP/events.jsonl" Tag="callwall" ruleset="callwall" freshStartTail="off")
CONF
"$RSYSLOGD" -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslog.pid" >"$TMP/rsyslog.log" 2>&1 &
PID=$!
# Bounded wait: every line shipped, at most 30 s.
i=0
while [ $i -lt 60 ]; do
  if [ -f "$TMP/shipped.tsv" ] && [ "$(wc -l < "$TMP/shipped.tsv")" -ge "$LINES" ]; then break; fi
  sleep 0.5
  i=$((i + 1))
done
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""

if [ -s "$TMP/unparsed.txt" ]; then echo "FAIL: rsyslog could not parse:"; head -3 "$TMP/unparsed.txt"; exit 1; fi
[ -f "$TMP/shipped.tsv" ] || { echo "FAIL: rsyslog shipped nothing"; cat "$TMP/rsyslog.log"; exit 1; }
/usr/bin/python3 - "$TMP/events.jsonl" "$TMP/shipped.tsv" <<'PY'
import json, sys
wrote = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    wrote.append("\t".join(str(e.get(k, "")) for k in ("event", "run_id", "flow_id", "community_id")))
shipped = [l.rstrip("\n") for l in open(sys.argv[2])]
if shipped != wrote:
    for i, (a, b) in enumerate(zip(wrote, shipped)):
        if a != b:
            print(f"FAIL: line {i + 1}: wrote {a!r}, rsyslog shipped {b!r}")
            break
    print(f"FAIL: {len(wrote)} lines written, {len(shipped)} shipped")
    sys.exit(1)
kinds = sorted({l.split('\t')[0] for l in wrote})
print(f"rsyslog shipped all {len(wrote)} lines ({', '.join(kinds)}), fields intact")
PY
