#!/bin/sh
# Builds the .deb from a built tree (cpack -G DEB) and checks it without
# installing it on this machine: its control fields (dependencies from
# dpkg-shlibdeps, section, maintainer), its contents unpacked with dpkg -x
# into a throw-away root, the unpacked binary's --version, an analyze of a
# bundled capture with the unpacked catalog (verdicts checked in the database),
# and 'man -l' on every unpacked man page. Needs dpkg-dev, file, man-db and
# sqlite3 (tools/setup.sh).
# usage: packaging/check_deb.sh [BUILD_DIR]   (default build/release)
set -eu
cd "$(dirname "$0")/.."
build=$(cd "${1:-build/release}" && pwd)
tmp=$(mktemp -d /tmp/callwall-deb-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check_deb: FAIL: $*" >&2; exit 1; }

# The man pages are made from the built binary (target callwall_man, in ALL).
cmake --build "$build" -j1 --target callwall_man >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "build callwall_man"; }
(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$tmp"/out/callwall_*.deb)
echo "check_deb: built $(basename "$deb")"

dpkg-deb -I "$deb" >"$tmp/info"
sed -n '/^ Architecture:/,$p' "$tmp/info"
for field in 'Package: callwall' 'Section: net' 'Maintainer: ' 'Description: ' 'Architecture: '; do
  grep -q "^ *$field" "$tmp/info" || fail "control lacks '$field'"
done
depends=$(sed -n 's/^ *Depends: //p' "$tmp/info")
for lib in libpcap0.8 libsqlite3-0 libboost-program-options libssl libtomlplusplus libstdc++6 libc6 publicsuffix; do
  echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done

dpkg -x "$deb" "$tmp/root"
for f in usr/bin/callwall usr/share/callwall/catalog/README.md usr/share/man/man1/callwall.1.gz \
         usr/share/man/man1/callwall-capture.1.gz usr/share/bash-completion/completions/callwall \
         usr/lib/systemd/system/callwall-capture@.service; do
  [ -f "$tmp/root/$f" ] || fail "not in the package: /$f"
done
grep -qx 'ExecStart=/usr/bin/callwall capture .*' "$tmp/root/usr/lib/systemd/system/callwall-capture@.service" \
  || fail "unit does not run /usr/bin/callwall"
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
echo "check_deb: ok"
