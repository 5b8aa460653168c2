#!/usr/bin/env bash
# The screenshots in docs/screenshots/ (docs/screenshots.md): the HTML report
# of a scenario, a lab capture and a merged database at 1400 and 420 px, made
# by the browser test's own run (so they are pages that passed its checks).
#
#   tools/browser-test/docs_shots.sh [--build DIR]
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$here/../.." && pwd)
out=$root/docs/screenshots
mkdir -p -- "$out"
CALLWALL_SHOTS_ONLY=scenario-whereby,lab-corporate,merged-run1 CALLWALL_SHOT_HEIGHT=2600 \
    "$here/run.sh" --shots "$out" "$@"
ls -l -- "$out"
