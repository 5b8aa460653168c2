#!/bin/sh
# Installs callwall with 'cmake --install' into a temporary prefix, moves the
# whole tree elsewhere and checks that the moved binary still finds its bundled
# catalog (CALLWALL_CATALOG_DIR unset): 'analyze' on a bundled capture gives the
# expected verdicts. Also: the layout (man pages gzipped, bash completion, the
# systemd unit naming the installed binary), a binary with no catalog beside it
# fails with exit 4 naming every place it looked, CALLWALL_CATALOG_DIR still
# overrides, and every option the completion offers is one the binary accepts.
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
zcat "$tmp/prefix/share/man/man1/callwall-capture.1.gz" | grep -q 'refresh' || fail "capture page lacks --refresh"

# The unit runs the installed binary, unprivileged, with CAP_NET_RAW only.
unit="$tmp/prefix/lib/systemd/system/callwall-capture@.service"
grep -qx "ExecStart=$tmp/prefix/bin/callwall capture --interface %I .*" "$unit" || fail "unit ExecStart: $(grep ExecStart "$unit")"
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

# Every option the bash completion offers is in the binary's help.
help="$tmp/help.txt"
for c in analyze capture report catalog; do "$tmp/prefix/bin/callwall" "$c" --help; done >"$help"
for o in $(grep -o -- '--[a-z][a-z-]*' "$src/packaging/bash-completion/callwall" | sort -u); do
  case $o in --version) continue ;; esac
  grep -q -- "$o\b" "$help" || fail "completion offers $o, which no command's --help lists"
done
bash -n "$tmp/prefix/share/bash-completion/completions/callwall" || fail "completion: syntax"

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
echo "install test: ok"
