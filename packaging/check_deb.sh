#!/bin/sh
# Builds the .deb from a built tree (cpack -G DEB) and checks it without
# installing it on this machine: its control fields (dependencies from
# dpkg-shlibdeps, section, maintainer), its contents unpacked with dpkg -x
# into a throw-away root, the unpacked binary's --version, an analyze of a
# bundled capture with the unpacked catalog (verdicts checked in the database),
# and 'man -l' on every unpacked man page (and the sections each must have);
# then lintian on the .deb (any error or warning fails) and
# 'systemd-analyze verify' on the unit (skipped, with a message, where
# systemd-analyze is missing). Needs dpkg-dev, file, man-db, sqlite3 and
# lintian (tools/setup.sh).
# usage: packaging/check_deb.sh [BUILD_DIR]   (default build/release)
set -eu
cd "$(dirname "$0")/.."
build=$(cd "${1:-build/release}" && pwd)
tmp=$(mktemp -d /tmp/callwall-deb-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check_deb: FAIL: $*" >&2; exit 1; }

# The man pages are made from the built binary (target callwall_man, in ALL).
# The changelog is gzipped at build time too (target callwall_doc).
cmake --build "$build" -j1 --target callwall_man callwall_doc >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "build callwall_man callwall_doc"; }
(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$tmp"/out/callwall_*.deb)
echo "check_deb: built $(basename "$deb")"

dpkg-deb -I "$deb" >"$tmp/info"
sed -n '/^ Architecture:/,$p' "$tmp/info"
for field in 'Package: callwall' 'Section: net' 'Maintainer: ' 'Description: ' 'Architecture: '; do
  grep -q "^ *$field" "$tmp/info" || fail "control lacks '$field'"
done
depends=$(sed -n 's/^ *Depends: //p' "$tmp/info")
for lib in libpcap0.8 libsqlite3-0 libboost-program-options libssl libtomlplusplus libstdc++6 libc6 publicsuffix \
           zlib1g libzstd1 liblzma5 libnftables1; do
  echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done
# The description names every vendor of the bundled catalog (read from the
# catalog files, as CMakeLists.txt writes it), each whole on one line.
description=$(dpkg-deb -f "$deb" Description)
for vendor in $(sed -n 's/^vendor = "\([^"]*\)".*/\1/p' catalog/*.toml | sort -u | tr ' ' '_'); do
  name=$(echo "$vendor" | tr '_' ' ')
  echo "$description" | grep -qF "$name" || fail "the package description does not name $name"
done
echo "check_deb: the description names every bundled vendor"

dpkg -x "$deb" "$tmp/root"
for f in usr/bin/callwall usr/share/callwall/catalog/README.md usr/share/man/man1/callwall.1.gz \
         usr/share/man/man1/callwall-capture.1.gz usr/share/bash-completion/completions/callwall \
         usr/lib/systemd/system/callwall-capture@.service usr/share/doc/callwall/copyright \
         usr/share/doc/callwall/changelog.Debian.gz; do
  [ -f "$tmp/root/$f" ] || fail "not in the package: /$f"
done
grep -qx 'ExecStart=/usr/bin/callwall capture .*' "$tmp/root/usr/lib/systemd/system/callwall-capture@.service" \
  || fail "unit does not run /usr/bin/callwall"
unit="$tmp/root/usr/lib/systemd/system/callwall-capture@.service"
# An interface with a dash, as the unit's comment says to enable it: the
# instance is systemd-escape's, the device unit the path's escaped name, the
# interface and database its own (%i and %I expanded as systemd does).
if command -v systemd-escape >/dev/null; then
  inst=$(systemd-escape br-lan)
  want_dev=$(systemd-escape --path --suffix=device /sys/subsystem/net/devices/br-lan)
  plain=$(systemd-escape --unescape "$inst")
  expand() { grep "^$1=" "$unit" | sed "s/%i/$(printf '%s' "$inst" | sed 's/\\/\\\\/g')/g; s/%I/$plain/g"; }
  [ "$(expand BindsTo)" = "BindsTo=$want_dev" ] \
    || fail "callwall-capture@$inst binds to '$(expand BindsTo)', not the device unit $want_dev"
  expand ExecStart | grep -q -- "--interface br-lan --db /var/lib/callwall/br-lan.sqlite " \
    || fail "callwall-capture@$inst does not capture on br-lan into br-lan.sqlite: $(expand ExecStart)"
  echo "check_deb: callwall-capture@$inst.service binds to $want_dev and captures on br-lan"
fi
dpkg-deb -c "$deb" | awk '{print $2}' | grep -vqx 'root/root' && fail "files not owned by root/root"

ver=$(env -u CALLWALL_CATALOG_DIR "$tmp/root/usr/bin/callwall" --version) || fail "callwall --version"
echo "check_deb: unpacked binary: $ver"
env -u CALLWALL_CATALOG_DIR "$tmp/root/usr/bin/callwall" catalog check >"$tmp/check" \
  || fail "the unpacked binary does not find the unpacked catalog: $(cat "$tmp/check")"
grep -q "^  $tmp/root/usr/share/callwall/catalog/whereby.toml\$" "$tmp/check" \
  || fail "catalog check read other files: $(cat "$tmp/check")"
echo "check_deb: unpacked catalog: $(head -1 "$tmp/check")"
env -u CALLWALL_CATALOG_DIR "$tmp/root/usr/bin/callwall" analyze captures/scenarios/whereby.pcap \
  --db "$tmp/run.sqlite" --quiet || fail "analyze with the unpacked binary and catalog: exit $?"
verdicts=$(sqlite3 "$tmp/run.sqlite" "SELECT verdict || ' ' || count(*) FROM verdict
  WHERE entry_id LIKE 'whereby.%' AND verdict != 'not_exercised' GROUP BY verdict ORDER BY verdict")
[ "$(echo "$verdicts" | tr '\n' ' ')" = "blocked 2 observed 3 " ] \
  || fail "whereby.pcap verdicts with the unpacked catalog: $verdicts"
echo "check_deb: analyze whereby.pcap: $(echo "$verdicts" | tr '\n' ' ')"
pages=""
for m in "$tmp"/root/usr/share/man/man1/*.1.gz; do
  out=$(MANWIDTH=80 man -l "$m" 2>"$tmp/man.err") || fail "man -l $(basename "$m")"
  [ -s "$tmp/man.err" ] && { cat "$tmp/man.err"; fail "man -l $(basename "$m") warns"; }
  echo "$out" | grep -q '^NAME' || fail "man -l $(basename "$m"): no NAME section"
  pages="$pages $(basename "$m" .1.gz)"
done
echo "check_deb: man -l ok:$pages"
sh packaging/man/check_sections.sh "$tmp"/root/usr/share/man/man1/*.1.gz || fail "man page sections"

# lintian: no error and no warning (informational tags are shown, not fatal;
# the one override, packaging/debian/lintian-overrides, says why).
command -v lintian >/dev/null || fail "lintian is not installed (tools/setup.sh installs it)"
lintian --display-level '>=info' --tag-display-limit 0 "$deb" >"$tmp/lintian" 2>"$tmp/lintian.err" || true
grep -v '^running with root privileges' "$tmp/lintian.err" >&2 || true
sed 's/^/check_deb: lintian: /' "$tmp/lintian"
grep -q '^[EW]: ' "$tmp/lintian" && fail "lintian reports errors or warnings (above)"
echo "check_deb: lintian: no error, no warning"

# The unit as systemd reads it, for an instance whose name has a dash. Its
# copy runs the unpacked binary (ExecStart= must name an executable, and
# /usr/bin/callwall is not installed here; its path is checked above).
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/units"
  name=$(systemd-escape --template=callwall-capture@.service br-lan)
  sed "s#/usr/bin/callwall #$tmp/root/usr/bin/callwall #" "$unit" >"$tmp/units/$name"
  if ! systemd-analyze verify --man=no "$tmp/units/$name" >"$tmp/verify" 2>&1; then
    cat "$tmp/verify"; fail "systemd-analyze verify $name"
  fi
  [ -s "$tmp/verify" ] && { cat "$tmp/verify"; fail "systemd-analyze verify warns"; }
  echo "check_deb: systemd-analyze verify $name: ok"
else
  echo "check_deb: systemd-analyze not found: the unit is not verified (SKIPPED)"
fi
echo "check_deb: ok"
