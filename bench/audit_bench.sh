#!/bin/sh
# The audit of the whole catalog against a large ruleset (it must
# finish in seconds). Generates a RULES-rule nftables ruleset (bench/gen_ruleset.py,
# a fixed seed: random ports, ranges, port sets, prefixes, interfaces, user
# chains, a named set and a verdict map), then times, in the same run:
#   callwall audit --nft FILE --no-fix            (RUNS times, median)
#   callwall audit --nft FILE --no-fix --patient  (PATIENT_RUNS times: every
#       batch waited out, the reference the early ending is checked against)
# and checks that both wrote the same verdicts, reasons and passing/blocked
# ports (the deciding-rule texts are compared and counted, not required). Needs nft and namespaces
# (unprivileged user namespaces, or root).
#
# With --ranges N it times instead the audit of one vendor entry that
# publishes N address ranges against the same entry with one range (a
# catalog of the bench's own, CALLWALL_CATALOG_DIR), RUNS times each, and
# prints the ratio: every range is tried, grouped where the ruleset cannot
# tell ranges apart, so the ratio stays near 1 (at most 2) for hundreds.
#
# usage: bench/audit_bench.sh [--rules N] [--runs N] [--patient-runs N] [--seed S] [--ranges N]
set -eu
cd "$(dirname "$0")/.."
RULES=500 RUNS=5 PATIENT_RUNS=1 SEED=1 RANGES=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rules) RULES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --patient-runs) PATIENT_RUNS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --ranges) RANGES=$2; shift 2 ;;
    *) echo "usage: $0 [--rules N] [--runs N] [--patient-runs N] [--seed S] [--ranges N]" >&2; exit 2 ;;
  esac
done
[ "$RUNS" -ge 1 ] && [ "$PATIENT_RUNS" -ge 1 ] || { echo "--runs and --patient-runs take N >= 1" >&2; exit 2; }
BIN=${CALLWALL_BIN:-build/release/callwall}  # CALLWALL_BIN: another build (a before/after comparison)
[ -x "$BIN" ] || { echo "build first: cmake --build --preset release" >&2; exit 2; }
work=$(mktemp -d /tmp/cw-audit-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/gen_ruleset.py --rules "$RULES" --seed "$SEED" >"$work/ruleset.nft"

# seconds of one audit; its verdicts into $work/$2.tsv
one() {
  rm -f "$work/$2.sqlite"
  t0=$(date +%s.%N)
  "$BIN" audit --nft "$work/ruleset.nft" --inside lan0 --outside wan0 --no-fix --db "$work/$2.sqlite" $1 >"$work/$2.out"
  t1=$(date +%s.%N)
  sqlite3 "$work/$2.sqlite" "select entry_id, verdict, reasons, ports_observed, ports_blocked from verdict order by entry_id" >"$work/$2.tsv"
  sqlite3 "$work/$2.sqlite" "select entry_id, why from verdict order by entry_id" >"$work/$2.why"
  echo "$t0 $t1" | awk '{printf "%.2f\n", $2 - $1}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

if [ "$RANGES" -gt 0 ]; then
  # A catalog of one entry with N ranges (the first 13.107.64.0/18, then /16s
  # no rule names), and the same entry with its first range only.
  catalog() {
    mkdir -p "$work/cat$1"
    printf 'schema = 2\n[document]\nvendor = "Bench Ranges"\ntitle = "bench"\nurl = "https://bench.invalid/"\nundated = true\ntranscribed = 2026-11-27\ndirection = "outbound"\n\n[[entry]]\nid = "bench.media.udp"\nproduct = "Bench"\nservice = "media"\ntransport = "udp"\nports = [[3478, 3481]]\nrequired = true\naddresses = ["13.107.64.0/18"' >"$work/cat$1/bench.toml"
    i=1; while [ $i -lt "$1" ]; do printf ', "20.%d.0.0/16"' $((i % 250)) >>"$work/cat$1/bench.toml"; i=$((i+1)); done
    printf ']\n\n[entry.source]\nsection = "bench"\n' >>"$work/cat$1/bench.toml"
  }
  catalog 1
  catalog "$RANGES"
  cat >"$work/ranges.nft" <<'NFT'
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" oifname "wan0" ip daddr 13.107.64.0/18 udp dport 3478-3481 accept comment "media"
	}
}
NFT
  ranged() {
    rm -f "$work/r.sqlite"
    t0=$(date +%s.%N)
    CALLWALL_CATALOG_DIR="$work/cat$1" "$BIN" audit --nft "$work/ranges.nft" --no-fix --db "$work/r.sqlite" >"$work/r$1.out"
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.2f\n", $2 - $1}'
  }
  : >"$work/one.times"; : >"$work/many.times"
  i=0; while [ $i -lt "$RUNS" ]; do ranged 1 >>"$work/one.times"; ranged "$RANGES" >>"$work/many.times"; i=$((i+1)); done
  o=$(median <"$work/one.times"); m=$(median <"$work/many.times")
  echo "one range:    median $o s of $RUNS ($(tr '\n' ' ' <"$work/one.times")); $(sed -n 's/.*[; ]\([0-9][0-9]*\) probes$/\1/p' "$work/r1.out") probes"
  echo "$RANGES ranges: median $m s of $RUNS ($(tr '\n' ' ' <"$work/many.times")); $(sed -n 's/.*[; ]\([0-9][0-9]*\) probes$/\1/p' "$work/r$RANGES.out") probes"
  echo "ratio: $(echo "$m $o" | awk '{printf "%.2f", $1 / $2}')x"
  exit 0
fi

: >"$work/early.times"
: >"$work/patient.times"
i=0; while [ $i -lt "$RUNS" ]; do one "" early >>"$work/early.times"; i=$((i+1)); done
i=0; while [ $i -lt "$PATIENT_RUNS" ]; do one --patient patient >>"$work/patient.times"; i=$((i+1)); done
probes=$(sed -n 's/.*[; ]\([0-9][0-9]*\) probes$/\1/p' "$work/early.out")
entries=$(grep -c '^[a-z]' "$work/early.out" | awk '{print $1 - 2}')
e=$(median <"$work/early.times")
p=$(median <"$work/patient.times")
same=no
cmp -s "$work/early.tsv" "$work/patient.tsv" && same=yes
echo "ruleset: $RULES rules (bench/gen_ruleset.py --seed $SEED), $(wc -l <"$work/ruleset.nft") lines; $probes probes"
echo "audit (early ending):   median $e s of $RUNS ($(tr '\n' ' ' <"$work/early.times"))"
echo "audit --patient:        median $p s of $PATIENT_RUNS ($(tr '\n' ' ' <"$work/patient.times"))"
whys=$(diff "$work/early.why" "$work/patient.why" | grep -c '^<' || true)
echo "ratio patient/early: $(echo "$p $e" | awk '{printf "%.1f", $1 / $2}')x; same verdicts and ports: $same; entries whose deciding-rule text differs: $whys"
[ "$same" = yes ]
