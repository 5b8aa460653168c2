#!/usr/bin/env bash
# Takes a PNG screenshot of a local HTML file (a callwall HTML report) with
# headless Chromium, to check how the page reads without opening a browser.
#
#   tools/screenshot_report.sh REPORT.html OUT.png [WIDTH,HEIGHT]
#
# The window defaults to 1400,1800; the screenshot is of the window, not the
# whole page (pass a taller window for more). Installs Debian's chromium package if it is missing (needs root).
# Chromium runs with a throwaway profile, HOME and TMPDIR, with background
# networking, updates and sync off, bounded by `timeout 60`.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]" >&2
    exit 2
fi
html=$1
out=$2

size=${3:-1400,1800}
if [[ ! -f $html ]]; then
    echo "$0: no such file: $html" >&2
    exit 2
fi
if [[ ! $size =~ ^[0-9]+,[0-9]+$ ]]; then
    echo "$0: size must be WIDTH,HEIGHT, got: $size" >&2
    exit 2
fi

# The real binary: /usr/bin/chromium is a wrapper script that reads user
# configuration and adds flags of its own.
chromium=/usr/lib/chromium/chromium
if [[ ! -x $chromium ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "$0: $chromium missing; install it with: apt-get install -y chromium" >&2
        exit 1
    fi
    echo "$0: installing chromium" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2
fi

abs_html=$(realpath -- "$html")
abs_out=$(realpath -m -- "$out")
mkdir -p -- "$(dirname -- "$abs_out")"
rm -f -- "$abs_out"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/callwall-shot.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
mkdir -p "$scratch"/{home,tmp,profile,config,cache,data,runtime}
chmod 700 "$scratch/runtime"

# Chromium logs noise to stderr (D-Bus, GPU); keep it, show it only on failure.
status=0
env HOME="$scratch/home" TMPDIR="$scratch/tmp" \
    XDG_CONFIG_HOME="$scratch/config" XDG_CACHE_HOME="$scratch/cache" \
    XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/runtime" \
    timeout 60 "$chromium" \
    --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-extensions --mute-audio \
    --user-data-dir="$scratch/profile" --hide-scrollbars \
    --window-size="$size" --screenshot="$abs_out" "file://$abs_html" \
    >"$scratch/chromium.log" 2>&1 || status=$?

if [[ $status -ne 0 || ! -s $abs_out ]]; then
    [[ $status -eq 124 ]] && echo "$0: chromium timed out after 60 s" >&2
    echo "$0: screenshot failed (exit $status); chromium said:" >&2
    tail -n 20 "$scratch/chromium.log" >&2
    exit 1
fi
echo "$abs_out"
