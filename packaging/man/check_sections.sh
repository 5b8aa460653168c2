#!/bin/sh
# Checks that each man page (callwall*.1.gz, as built by make_man.py) has the
# sections a reader looks for: NAME, SYNOPSIS, DESCRIPTION, EXIT STATUS,
# ENVIRONMENT, FILES, EXAMPLES and SEE ALSO; SIGNALS for the commands that
# handle signals (analyze, capture, probe, reflect, and callwall(1));
# CALLWALL_REFLECT_KEY under ENVIRONMENT for probe and reflect; DATABASE
# (the tables) in callwall(1).
# usage: check_sections.sh PAGE.1.gz...
set -eu
[ $# -gt 0 ] || { echo "usage: check_sections.sh PAGE.1.gz..." >&2; exit 2; }
status=0
for page in "$@"; do
  name=$(basename "$page" .1.gz)
  heads=$(zcat "$page" | sed -n 's/^\.SH  *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p')
  need="NAME SYNOPSIS DESCRIPTION EXIT_STATUS ENVIRONMENT FILES EXAMPLES SEE_ALSO"
  case $name in
    callwall) need="$need SIGNALS DATABASE" ;;
    callwall-analyze|callwall-capture|callwall-probe|callwall-reflect) need="$need SIGNALS" ;;
  esac
  for s in $need; do
    title=$(echo "$s" | tr _ ' ')
    echo "$heads" | grep -qx "$title" || { echo "check_sections: $name(1) has no $title section" >&2; status=1; }
  done
  case $name in
    callwall-probe|callwall-reflect)
      zcat "$page" | sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' | grep -q 'CALLWALL_REFLECT_KEY' \
        || { echo "check_sections: $name(1): ENVIRONMENT does not name CALLWALL_REFLECT_KEY" >&2; status=1; } ;;
  esac
  if [ "$name" = callwall ]; then
    for t in run flow verdict catalog_entry flow_match; do
      zcat "$page" | sed -n '/^\.SH DATABASE/,/^\.SH /p' | grep -q "^\.B.* $t\b" \
        || { echo "check_sections: callwall(1): DATABASE does not describe the table $t" >&2; status=1; }
    done
  fi
done
[ $status -eq 0 ] && echo "check_sections: $# pages: every section there"
exit $status
