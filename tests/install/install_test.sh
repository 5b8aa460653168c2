#!/bin/sh
# Installs callwall with 'cmake --install' into a temporary prefix, moves the
# whole tree elsewhere and checks that the moved binary still finds its bundled
# catalog (CALLWALL_CATALOG_DIR unset): 'analyze' on a bundled capture gives the
# expected verdicts. Also: the layout (man pages gzipped, bash completion, the
# systemd unit naming the installed binary), a binary with no catalog beside it
# fails with exit 4 naming every place it looked, CALLWALL_CATALOG_DIR still
# overrides, every option the completion offers is one the binary accepts, and
# it offers files, vendor names and entry ids where they are expected.
# usage: install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
unset CALLWALL_CATALOG_DIR
tmp=$(mktemp -d /tmp/callwall-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install"; }

# The layout.
for f in bin/callwall share/callwall/catalog/README.md share/callwall/catalog/whereby.toml \
         share/man/man1/callwall.1.gz share/man/man1/callwall-analyze.1.gz share/man/man1/callwall-capture.1.gz \
         share/man/man1/callwall-report.1.gz share/man/man1/callwall-catalog.1.gz \
         share/bash-completion/completions/callwall lib/systemd/system/callwall-capture@.service; do
  [ -f "$tmp/prefix/$f" ] || fail "not installed: $f"
done
[ -x "$tmp/prefix/bin/callwall" ] || fail "bin/callwall not executable"
ntoml=$(ls "$tmp/prefix/share/callwall/catalog" | grep -c '\.toml$')
[ "$ntoml" -eq "$(ls "$src/catalog" | grep -c '\.toml$')" ] || fail "catalog: $ntoml TOML files installed"
for m in "$tmp"/prefix/share/man/man1/*.1.gz; do
  gzip -t "$m" || fail "$m is not gzip"
  zcat "$m" | grep -q '^\.TH ' || fail "$m has no .TH"
done
zcat "$tmp/prefix/share/man/man1/callwall-capture.1.gz" | grep -q '^\.B \\-\\-refresh S$' || fail "capture page lacks --refresh"
for c in $("$tmp/prefix/bin/callwall" --help | awk '/^commands:$/ {on=1; next} on && /^$/ {exit} on {print $1}'); do
  [ -f "$tmp/prefix/share/man/man1/callwall-$c.1.gz" ] || fail "no man page for the command $c"
done

# The unit runs the installed binary, unprivileged, with CAP_NET_RAW only.
unit="$tmp/prefix/lib/systemd/system/callwall-capture@.service"
grep -qx "ExecStart=$tmp/prefix/bin/callwall capture --interface %I .*" "$unit" || fail "unit ExecStart: $(grep "^ExecStart" "$unit")"
grep -qx 'DynamicUser=yes' "$unit" || fail "unit: no DynamicUser"
grep -qx 'CapabilityBoundingSet=CAP_NET_RAW' "$unit" || fail "unit: capability bounding set"
grep -qx 'AmbientCapabilities=CAP_NET_RAW' "$unit" || fail "unit: ambient capabilities"
grep -qx 'StateDirectory=callwall' "$unit" || fail "unit: StateDirectory"
grep -qx 'Restart=on-failure' "$unit" || fail "unit: Restart"
if command -v systemd-analyze >/dev/null 2>&1; then
  # Instance units are verified through an instance; warnings about the
  # missing device unit of a made-up interface are expected here.
  cp "$unit" "$tmp/callwall-capture@eth9.service"
  if ! systemd-analyze verify --man=no "$tmp/callwall-capture@eth9.service" >"$tmp/verify.log" 2>&1; then
    grep -v 'sys-subsystem-net-devices' "$tmp/verify.log" | grep -q . && { cat "$tmp/verify.log"; fail "systemd-analyze verify"; }
  fi
  if grep -v 'sys-subsystem-net-devices' "$tmp/verify.log" | grep -q .; then cat "$tmp/verify.log"; fail "systemd-analyze verify warns"; fi
else
  echo "note: systemd-analyze not available, unit not verified"
fi

# The bash completion, as bash-completion loads it: commands, each command's
# options (those of its --help), option values, nothing after an option that
# takes a free value.
comp="$tmp/prefix/share/bash-completion/completions/callwall"
bash -n "$comp" || fail "completion: syntax"
if [ -f /usr/share/bash-completion/bash_completion ]; then
  cat >"$tmp/complete.bash" <<'EOS'
. /usr/share/bash-completion/bash_completion
. "$1"
bin=$2
complete -p callwall | grep -q -- '-F _callwall callwall$' || { echo "complete -p: $(complete -p callwall)"; exit 1; }
c() { COMP_WORDS=("$bin" "$@"); COMP_CWORD=$#; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
      COMPREPLY=(); _callwall "$bin" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
      for w in "${COMPREPLY[@]}"; do echo "$w"; done | LC_ALL=C sort | tr '\n' ' '; }
expect() { want=$1; shift; got=$(c "$@"); [ "$got" = "$want" ] || { echo "completing '$*': got '$got', want '$want'"; exit 1; }; }
cmds=$("$bin" --help | awk '/^commands:$/ {on=1; next} on && /^$/ {exit} on {print $1}' | LC_ALL=C sort)
for c in analyze capture catalog report; do
  echo "$cmds" | grep -qx "$c" || { echo "'callwall --help' does not list $c"; exit 1; }
done
expect "--help --version $(echo $cmds) " ""
expect "analyze " an
expect "--refresh " capture --re
expect "--help check export import list show " catalog ""
expect "aws-ip-ranges cidr-list o365 " catalog import --format ""
expect "json text " catalog list --format ""
expect "nft " catalog export --format n
expect "csv html json text " report --format ""
expect "blocked partial " analyze --fail-on ""
expect "" capture --status-every ""
expect "--quiet " capture --no-promisc --q
# Files after the options that name one; the catalog's vendors after --vendor
# (lower case, from 'catalog list --format json'); its ids after --entry and
# 'catalog show'.
d=$(mktemp -d /tmp/callwall-complete.XXXXXX)
touch "$d/rules.nft" "$d/rules.v4" "$d/events.jsonl"
expect "$d/rules.nft $d/rules.v4 " audit --nft "$d/r"
expect "$d/rules.nft $d/rules.v4 " audit --iptables "$d/r"
expect "$d/events.jsonl " analyze --events "$d/e"
expect "$d/events.jsonl " capture --metrics "$d/e"
# merge's sources, catalog import's file.
touch "$d/site1.sqlite" "$d/site2.sqlite" "$d/o365.json"
expect "$d/site1.sqlite $d/site2.sqlite " merge "$d/s"
expect "$d/site1.sqlite $d/site2.sqlite " merge --db out.sqlite "$d/s"
expect "$d/o365.json " catalog import --format o365 "$d/o"
rm -r "$d"
vendors=$("$bin" catalog list --format json | grep -o '"vendor":"[^"]*"' | cut -d'"' -f4 | tr 'A-Z' 'a-z' | LC_ALL=C sort -u | tr '\n' ' ')
case " $vendors" in *" whereby "*) ;; *) echo "no whereby among the vendors: $vendors"; exit 1 ;; esac
expect "$vendors" analyze --vendor ""
expect "whereby " report --vendor Wh
expect "" catalog list --no-bundled-catalog --vendor ""
expect "whereby.turn.tcp whereby.turn.udp " catalog show whereby.turn.
expect "whereby.turn.tcp whereby.turn.udp " catalog export --entry whereby.turn.
expect "" catalog show whereby.turn.udp ""
for cmd in $cmds; do
  want=$("$bin" $cmd --help | grep -o '^  \(-. \[ \)\{0,1\}--[a-z][a-z0-9-]*' | sed 's/.*\(--\)/\1/' | LC_ALL=C sort | tr '\n' ' ')
  [ -n "$want" ] || { echo "no options in $cmd --help"; exit 1; }
  [ "$cmd" = catalog ] && set -- export -- || set -- --
  expect "$want" $cmd "$@"
done
EOS
  bash "$tmp/complete.bash" "$comp" "$tmp/prefix/bin/callwall" || fail "bash completion"
else
  echo "note: bash-completion is not installed: completions not exercised"
fi

# Moved elsewhere, the tree still works.
mv "$tmp/prefix" "$tmp/moved"
bin="$tmp/moved/bin/callwall"
"$bin" --version | grep -q '^callwall ' || fail "--version"
"$bin" analyze "$src/captures/scenarios/whereby.pcap" --db "$tmp/run.sqlite" --quiet || fail "analyze exit $?"
got=$(sqlite3 "$tmp/run.sqlite" "SELECT entry_id || ' ' || verdict FROM verdict WHERE entry_id LIKE 'whereby.%' ORDER BY entry_id")
want=$(cut -f1,2 "$src/captures/scenarios/whereby.expected.tsv" | tr '\t' ' ' | LC_ALL=C sort)
[ -n "$got" ] || fail "no verdicts: the bundled catalog was not used"
[ "$(printf '%s\n' "$got" | LC_ALL=C sort)" = "$want" ] || fail "verdicts differ: got
$got
want
$want"
"$bin" catalog list --format json | grep -q "$tmp/moved/share/callwall/catalog/whereby.toml" \
  || "$bin" catalog list | grep -qi whereby || fail "catalog list from the moved tree"

# A binary with no catalog beside it: exit 4, every place named.
mkdir -p "$tmp/lone/bin"
cp "$bin" "$tmp/lone/bin/callwall"
set +e
"$tmp/lone/bin/callwall" analyze "$src/captures/scenarios/whereby.pcap" --db "$tmp/lone.sqlite" --quiet 2>"$tmp/lone.err"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "lone binary: exit $rc, expected 4"
grep -q "$tmp/lone/share/callwall/catalog" "$tmp/lone.err" || fail "error does not name <exe>/../share: $(cat "$tmp/lone.err")"
grep -q "$tmp/lone/bin/share/callwall/catalog" "$tmp/lone.err" || fail "error does not name <exe>/share: $(cat "$tmp/lone.err")"

# CALLWALL_CATALOG_DIR overrides (and is the only place looked in).
CALLWALL_CATALOG_DIR="$tmp/moved/share/callwall/catalog" "$tmp/lone/bin/callwall" catalog check >/dev/null \
  || fail "CALLWALL_CATALOG_DIR not honoured"
set +e
CALLWALL_CATALOG_DIR="$tmp/nowhere" "$bin" catalog check >/dev/null 2>"$tmp/env.err"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "CALLWALL_CATALOG_DIR=nowhere: exit $rc, expected 4 (the installed catalog must not be used)"
grep -q "$tmp/nowhere" "$tmp/env.err" || fail "error does not name CALLWALL_CATALOG_DIR: $(cat "$tmp/env.err")"
# The unit's privileges, without systemd: the moved binary as an unprivileged
# user (65534) whose only capability is CAP_NET_RAW (ambient, bounding set
# CAP_NET_RAW alone, no new privileges) captures on an interface of a network
# namespace made here (a veth pair); the same without the capability fails with exit 6.
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
  echo "note: not root or no setpriv: the CAP_NET_RAW-only capture is not checked"
elif ! ip netns add "cwinst$$" 2>/dev/null; then
  echo "note: cannot create a network namespace here: the CAP_NET_RAW-only capture is not checked"
else
  ns="cwinst$$"
  trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
  ip -n "$ns" link add cw0 type veth peer name cw1 && ip -n "$ns" link set cw0 up && ip -n "$ns" link set cw1 up \
    || fail "veth pair in $ns"
  chmod 755 "$tmp"
  mkdir "$tmp/state" && chown 65534:65534 "$tmp/state"
  unpriv() {
    caps=$1; shift
    timeout 30 ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
      --inh-caps="-all$caps" --ambient-caps="-all$caps" --bounding-set="-all$caps" "$@"
  }
  unpriv ,+net_raw "$bin" capture --interface cw0 --db "$tmp/state/cw0.sqlite" --duration 1 --quiet \
    2>"$tmp/unpriv.err" || fail "capture as 65534 with CAP_NET_RAW only: exit $?: $(cat "$tmp/unpriv.err")"
  st=$(sqlite3 "$tmp/state/cw0.sqlite" "SELECT status FROM run") || fail "no run in the unprivileged capture's database"
  [ "$st" = completed ] || fail "unprivileged capture run: $st"
  set +e
  unpriv "" "$bin" capture --interface cw0 --db "$tmp/state/none.sqlite" --duration 1 --quiet 2>"$tmp/nocap.err"
  rc=$?
  set -e
  [ "$rc" -eq 6 ] || fail "capture as 65534 without CAP_NET_RAW: exit $rc, expected 6: $(cat "$tmp/nocap.err")"
fi
echo "install test: ok"
