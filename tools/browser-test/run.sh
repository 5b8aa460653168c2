#!/usr/bin/env bash
# Browser test of the HTML report: renders the reports of the scenario and
# lab captures, and of the runs of a database merged from two of them, and
# checks them in headless Chromium at 1400 px and 420 px (blocked colours,
# nothing wider than the viewport, the answer first and the verdicts on
# screen, distinct lane labels cut between words, catalog gaps grouped, a
# merged run's origin, "N more" where evidence is cut; see cdp_check.py).
#
#   tools/browser-test/run.sh [--build DIR] [--shots DIR] [--keep DIR]
#
#   --build DIR  where the callwall binary is (default build/release)
#   --shots DIR  also write a full-page PNG of every report at both widths
#                (CALLWALL_SHOTS_ONLY=name,name and CALLWALL_SHOT_HEIGHT=px
#                limit them: tools/browser-test/docs_shots.sh)
#   --keep DIR   write the databases and reports there instead of a temp dir
#
# Needs python3 (standard library only: DevTools protocol over a pipe) and
# Debian's chromium (installed with apt-get when run as root and missing).
# Exit 0 all passed, or skipped because Chromium cannot start (the message
# says so); 1 an assertion failed; 2 usage or setup error.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$here/../.." && pwd)
build=$root/build/release
shots=
keep=
while [[ $# -gt 0 ]]; do
    case $1 in
        --build) build=$2; shift 2 ;;
        --shots) shots=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        *) echo "usage: $0 [--build DIR] [--shots DIR] [--keep DIR]" >&2; exit 2 ;;
    esac
done
callwall=$(cd -- "$build" 2>/dev/null && pwd)/callwall
if [[ ! -x $callwall ]]; then
    echo "$0: no $callwall: build first (cmake --build --preset release)" >&2
    exit 2
fi

# CHROMIUM overrides the binary (e.g. to check the skip path with /bin/false).
chromium=${CHROMIUM:-/usr/lib/chromium/chromium}
if [[ ! -x $chromium ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "$0: installing chromium" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2 || true
    fi
    if [[ ! -x $chromium ]]; then
        echo "SKIP: $chromium is missing (apt-get install chromium as root); browser test not run" >&2
        exit 0
    fi
fi

if [[ -n $keep ]]; then
    work=$keep
    mkdir -p -- "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/callwall-browser.XXXXXX")
    trap 'rm -rf -- "$work"' EXIT
fi

reports=()
render() {  # render NAME PCAP
    local db=$work/$1.db html=$work/$1.html
    rm -f -- "$db"
    "$callwall" analyze "$2" --db "$db" >"$work/$1.analyze.log" 2>&1 || {
        echo "$0: callwall analyze $2 failed:" >&2
        tail -n 5 "$work/$1.analyze.log" >&2
        exit 2
    }
    "$callwall" report --db "$db" --format html -o "$html" >/dev/null
    reports+=("$html:$db")
}
for pcap in "$root"/captures/scenarios/*.pcap; do
    render "scenario-$(basename -- "$pcap" .pcap)" "$pcap"
done
for pcap in "$root"/captures/lab/*/client.pcap; do
    render "lab-$(basename -- "$(dirname -- "$pcap")")" "$pcap"
done

# A merged database (callwall merge): the Whereby scenario and the lab's
# corporate capture as two sites; each run's page must say where it came from.
merged=$work/merged.db
rm -f -- "$merged"
(cd "$work" && "$callwall" merge -q scenario-whereby.db lab-corporate.db --db merged.db) || {
    echo "$0: callwall merge failed" >&2
    exit 2
}
for run in 1 2; do
    "$callwall" report --db "$merged" --run "$run" --format html -o "$work/merged-run$run.html" >/dev/null
    reports+=("$work/merged-run$run.html:$merged:$run")
done
"$callwall" report --db "$merged" --across-runs --format html -o "$work/merged-across.html" >/dev/null

status=0
python3 "$here/cdp_check.py" --chromium "$chromium" --widths 1400,420 ${shots:+--shots "$shots"} \
    --shot-height "${CALLWALL_SHOT_HEIGHT:-0}" --only-shots "${CALLWALL_SHOTS_ONLY:-}" "${reports[@]}" ||
    status=$?
if [[ $status -eq 3 ]]; then
    echo "SKIP: headless Chromium could not start; browser test not run" >&2
    exit 0
fi
exit "$status"
