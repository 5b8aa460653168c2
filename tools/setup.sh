#!/bin/sh
# Installs the Debian packages callwall needs. Idempotent and quiet when all
# is there. Usage: tools/setup.sh [--lab] [--fuzz] [--bench]
#   (default)  build, tests (incl. the namespace tests: iproute2, nftables, iptables (audit --iptables), ipset (the
#              iptables export's sets), dnsmasq-base; the event
#              shipper test: rsyslog; the rotation test: tcpreplay; the --metrics parser: python3-prometheus-client), benchmarks and the .deb and its check (dpkg-dev and file
#              for dpkg-shlibdeps, man-db, lintian, bash-completion to exercise the completion; clang-format
#              for the format_clean test)
#   --fuzz     clang and its sanitizer runtime, for the libFuzzer targets
#   --lab      the real-traffic firewall lab (namespaces, servers, clients)
#   --bench    the peers and timers of bench/compare.sh (hyperfine, ndpiReader, time) and the profilers of
#              bench/stages.py (valgrind's callgrind, linux-perf)
set -eu

PKGS="build-essential cmake pkg-config libpcap-dev libboost-program-options-dev libsqlite3-dev \
libtomlplusplus-dev libssl-dev libnftables-dev zlib1g-dev libzstd-dev liblzma-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev \
sqlite3 tshark python3 python3-cryptography python3-jsonschema nftables iptables ipset iproute2 dnsmasq-base rsyslog \
dpkg-dev file man-db lintian bash-completion tcpreplay python3-prometheus-client clang-format publicsuffix"
for arg in "$@"; do
  case "$arg" in
    --fuzz) PKGS="$PKGS clang libclang-rt-14-dev" ;;
    --lab) PKGS="$PKGS iproute2 nftables dnsmasq coturn tcpdump dnsutils openssl curl chromium \
gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good" ;;
    --bench) PKGS="$PKGS hyperfine libndpi-bin time valgrind linux-perf" ;;
    *) echo "setup.sh: unknown option $arg (expected --lab, --fuzz or --bench)" >&2; exit 2 ;;
  esac
done

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing$missing" >&2
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
