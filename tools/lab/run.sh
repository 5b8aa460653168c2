#!/bin/bash
# callwall real-traffic firewall lab. One command, as root:
#
#   tools/lab/run.sh [--out DIR] [--profiles open,restrictive,corporate,udp-egress,strict] [--keep-work]
#   tools/lab/run.sh down [--all]     remove what a killed run left behind
#
# For each firewall profile it builds three network namespaces of its own
#   client  (10.77.1.10, fd77:0:0:1::10)
#     └─veth─ router/firewall (IP forwarding, nftables forward chain)
#               └─veth─ vendor cloud (10.77.100.0/24, fd77:0:0:100::/64)
#                         └─veth─ remote peer (203.0.113.91, IPv4 only)
# starts real servers in the cloud (dnsmasq, four coturn instances, a TURN
# relay peer, TLS/HTTP and UDP media services), loads the profile's ruleset,
# captures both sides of the firewall with tcpdump, runs the real clients
# (tools/lab/clients.py: dig, curl, openssl, turnutils, GStreamer, headless
# Chromium, and a second Chromium as the remote peer of a peer-to-peer call),
# and tears everything down again. Then tools/lab/truth.py writes
# the ground truth and the expected callwall verdicts next to the captures.
#
# Output in DIR (default: captures/lab): versions.txt (tools and kernel of
# each run, with the profiles it wrote),
# SHA256SUMS (every file but README.md), and per profile, in DIR/PROFILE/:
#   client.pcap          the client-facing side of the firewall (a mirror port inside)
#   cloud.pcap           the cloud side (what got through)
#   ruleset.nft          the nftables ruleset of the profile (from labplan.py)
#   nft-counters.txt     the ruleset with its counters after the run
#   steps.jsonl          what each client step did
#   chromium.log         the browser call's progress (call.html)
#   p2p-local.log, p2p-remote.log  the peer-to-peer call's progress (p2p.html), both ends
#   dnsmasq.log          the resolver's query log
#   groundtruth.tsv      every attempted flow, the firewall's action, the expected outcome
#   expected_verdicts.tsv  the expected verdict of every catalog entry
#
# Nothing connects to the host's namespace: the veth pairs are created inside
# the lab namespaces and only lab addresses (10.77.0.0/16, fd77::/48, and the
# remote peer's 203.0.113.0/24, a documentation prefix) are used. Every
# process is recorded and stopped by PID; any exit (including SIGTERM and
# SIGINT) removes the namespaces and /etc/netns/<client ns, peer ns>.
set -euo pipefail

LAB="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$LAB/../.." && pwd)"
PY=/usr/bin/python3
OUT="$REPO/captures/lab"
PROFILES=""
KEEP_WORK=0

usage() { sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; }

# kill_ns_procs NS: SIGKILL every process in the lab namespace NS, until none
# is left (a dying parent may have started a child meanwhile). Bounded: 3 s.
kill_ns_procs() {
  local ns="$1" i pids
  for i in $(seq 30); do
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    [ -n "$pids" ] || return 0
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
}

# `run.sh down [--all]`: remove what a lab run that could not clean up after
# itself (SIGKILL, power loss) left behind: its namespaces, every process in
# them, /etc/netns/<ns>. Runs whose run.sh is still alive are left alone
# unless --all.
if [ "${1:-}" = down ]; then
  [ "$(id -u)" -eq 0 ] || { echo "lab: error: run as root" >&2; exit 1; }
  all=0; [ "${2:-}" = --all ] && all=1
  n=0
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^cwlab[0-9]+-(client|fw|cloud|peer)$' || true); do
    owner="${ns#cwlab}"; owner="${owner%%-*}"
    if [ "$all" -eq 0 ] && kill -0 "$owner" 2>/dev/null && tr '\0' ' ' <"/proc/$owner/cmdline" | grep -q 'lab/run.sh'; then
      echo "lab: $ns belongs to a running lab (pid $owner): left alone (use down --all)" >&2
      continue
    fi
    kill_ns_procs "$ns"
    ip netns del "$ns" && n=$((n + 1))
    rm -rf "/etc/netns/$ns"
    rm -rf /tmp/cwlab."$owner".*
  done
  rmdir /etc/netns 2>/dev/null || true
  echo "lab: down: removed $n namespace(s)" >&2
  exit 0
fi

while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --profiles) PROFILES="$(echo "$2" | tr ',' ' ')"; shift 2 ;;
    --keep-work) KEEP_WORK=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$PROFILES" ] || PROFILES="$($PY "$LAB/labplan.py" profiles | tr '\n' ' ')"

die() { echo "lab: error: $*" >&2; exit 1; }
log() { printf '%s lab: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, nftables, tcpdump)"
for t in ip nft tcpdump dnsmasq turnserver turnutils_peer turnutils_stunclient turnutils_uclient dig curl \
         openssl gst-launch-1.0 ss timeout /usr/lib/chromium/chromium; do
  command -v "$t" >/dev/null 2>&1 || die "missing $t: run tools/setup.sh --lab"
done

TAG="cwlab$$"
NS_C="$TAG-client"; NS_F="$TAG-fw"; NS_S="$TAG-cloud"; NS_P="$TAG-peer"
WORK="$(mktemp -d "/tmp/cwlab.$$.XXXXXX")"
PIDFILE="$WORK/pids"
: > "$PIDFILE"
mkdir -p "$WORK/logs"

# --- process bookkeeping ---------------------------------------------------------
# start_bg NAME CMD...: runs CMD in the background, logs to $WORK/logs/NAME.log,
# records its PID. CMD must be a program, not a shell function, so that $! is
# its PID; `ip netns exec` execs the command, so the PID is the server's.
start_bg() {
  local name="$1"; shift
  "$@" >"$WORK/logs/$name.log" 2>&1 &
  echo "$! $name" >>"$PIDFILE"
}

stop_pid() {  # stop_pid PID: TERM, then KILL after up to 3 s
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_all_recorded() {
  local pid name
  [ -f "$PIDFILE" ] || return 0
  tac "$PIDFILE" | while read -r pid name; do stop_pid "$pid"; done
  : >"$PIDFILE"
}

teardown_topology() {
  stop_all_recorded
  local ns
  for ns in "$NS_C" "$NS_F" "$NS_S" "$NS_P"; do
    if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
      # Anything still running in a lab namespace was started by the lab.
      kill_ns_procs "$ns"
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  rm -rf "/etc/netns/$NS_C" "/etc/netns/$NS_P"
  rmdir /etc/netns 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT TERM INT
  teardown_topology
  if [ "$KEEP_WORK" -eq 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "SIGTERM: tearing down"; exit 143' TERM
trap 'log "SIGINT: tearing down"; exit 130' INT

pause() { sleep "$1" & wait $!; }   # interruptible by the traps

# --- certificates (lab CA, RSA keys: coturn's DTLS needs RSA) ----------------------
make_certs() { "$LAB/make_certs.sh" "$WORK/certs"; }

# --- topology ----------------------------------------------------------------------------
nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

setup_topology() {
  local ns
  for ns in "$NS_C" "$NS_F" "$NS_S" "$NS_P"; do
    ip netns add "$ns"
    nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0 \
      net.ipv6.conf.default.dad_transmits=0 net.ipv6.conf.default.router_solicitations=0
    ip -n "$ns" link set lo up
  done
  # veth pairs made inside the namespaces: nothing ever appears in the host's.
  ip -n "$NS_C" link add cl0 type veth peer name fw-in netns "$NS_F"
  ip -n "$NS_F" link add fw-out type veth peer name cloud0 netns "$NS_S"
  # Wire-sized packets, as a mirror port would show them: no GSO super-packets.
  ip -n "$NS_C" link set cl0 gso_max_size 1500 gso_max_segs 1
  ip -n "$NS_F" link set fw-in gso_max_size 1500 gso_max_segs 1
  ip -n "$NS_F" link set fw-out gso_max_size 1500 gso_max_segs 1
  ip -n "$NS_S" link set cloud0 gso_max_size 1500 gso_max_segs 1

  ip -n "$NS_C" addr add 10.77.1.10/24 dev cl0
  ip -n "$NS_C" addr add fd77:0:0:1::10/64 dev cl0 nodad
  ip -n "$NS_C" link set cl0 up
  ip -n "$NS_C" route add default via 10.77.1.1
  ip -n "$NS_C" -6 route add default via fd77:0:0:1::1
  nsx "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="42000 60999"

  ip -n "$NS_F" addr add 10.77.1.1/24 dev fw-in
  ip -n "$NS_F" addr add fd77:0:0:1::1/64 dev fw-in nodad
  ip -n "$NS_F" addr add 10.77.2.1/24 dev fw-out
  ip -n "$NS_F" addr add fd77:0:0:2::1/64 dev fw-out nodad
  ip -n "$NS_F" link set fw-in up
  ip -n "$NS_F" link set fw-out up
  ip -n "$NS_F" route add 10.77.100.0/24 via 10.77.2.2
  ip -n "$NS_F" -6 route add fd77:0:0:100::/64 via fd77:0:0:2::2
  # Forwarding, and no ICMP rate limit: every rejected packet gets its error.
  nsx "$NS_F" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
    net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0

  ip -n "$NS_S" addr add 10.77.2.2/24 dev cloud0
  ip -n "$NS_S" addr add fd77:0:0:2::2/64 dev cloud0 nodad
  ip -n "$NS_S" link set cloud0 up
  ip -n "$NS_S" route add default via 10.77.2.1
  ip -n "$NS_S" -6 route add default via fd77:0:0:2::1
  local a
  for a in $($PY "$LAB/labplan.py" cloud-addresses); do
    case "$a" in *:*) ip -n "$NS_S" addr add "$a" dev lo nodad ;; *) ip -n "$NS_S" addr add "$a" dev lo ;; esac
  done

  # The remote peer of the P2P call hangs off the cloud: IPv4 only, one
  # address (so its Chromium has exactly one host candidate). It answers
  # nothing with ICMP errors, like a peer behind its own NAT: when its call
  # has ended, late packets of the local peer meet silence.
  local peer peer_net peer_gw
  read -r peer peer_net peer_gw < <($PY "$LAB/labplan.py" peer)
  ip -n "$NS_S" link add peer-gw type veth peer name peer0 netns "$NS_P"
  # Its ports (32768-39999) stay clear of every port rule of the profiles.
  nsx "$NS_P" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    net.ipv4.ip_local_port_range="32768 39999"
  ip -n "$NS_S" link set peer-gw gso_max_size 1500 gso_max_segs 1
  ip -n "$NS_P" link set peer0 gso_max_size 1500 gso_max_segs 1
  ip -n "$NS_S" addr add "$peer_gw/${peer_net#*/}" dev peer-gw
  ip -n "$NS_S" link set peer-gw up
  nsx "$NS_S" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$NS_P" addr add "$peer/${peer_net#*/}" dev peer0
  ip -n "$NS_P" link set peer0 up
  ip -n "$NS_P" route add default via "$peer_gw"
  ip -n "$NS_F" route add "$peer_net" via 10.77.2.2
  printf '%s\n' 'table inet cwlabpeer {' '  chain out {' \
    '    type filter hook output priority filter; policy accept;' \
    '    meta l4proto icmp icmp type destination-unreachable drop' '  }' '}' | nsx "$NS_P" nft -f -

  # The client's resolver (ip netns exec bind-mounts /etc/netns/NS/* over /etc).
  mkdir -p "/etc/netns/$NS_C"
  printf 'nameserver 10.77.100.53\noptions timeout:2 attempts:2\n' >"/etc/netns/$NS_C/resolv.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$NS_C/hosts"
  # The remote peer's too: its Chromium asks the lab's resolver, inside the cloud.
  mkdir -p "/etc/netns/$NS_P"
  printf 'nameserver 10.77.100.53\noptions timeout:2 attempts:2\n' >"/etc/netns/$NS_P/resolv.conf"
  printf '127.0.0.1 localhost\n' >"/etc/netns/$NS_P/hosts"
}

start_servers() {
  $PY "$LAB/labplan.py" dnsmasq "$1" >"$WORK/dnsmasq.conf"
  start_bg dnsmasq ip netns exec "$NS_S" dnsmasq --conf-file="$WORK/dnsmasq.conf" --keep-in-foreground \
    --log-facility=- --user=root --pid-file=
  local label cmd
  while read -r label cmd; do
    eval "start_bg coturn-$label ip netns exec \"\$NS_S\" $cmd"
  done < <($PY "$LAB/labplan.py" coturn "$WORK")
  start_bg relay-peer4 ip netns exec "$NS_S" turnutils_peer -L 10.77.100.40 -p 3480
  start_bg relay-peer6 ip netns exec "$NS_S" turnutils_peer -L fd77:0:0:100::40 -p 3480
  start_bg tls-server ip netns exec "$NS_S" $PY "$LAB/servers/tls_server.py" "$WORK/certs"
  start_bg udp-server ip netns exec "$NS_S" $PY "$LAB/servers/udp_server.py"
  # Ready when every expected socket listens (bounded: 20 s).
  $PY "$LAB/labplan.py" expect-sockets >"$WORK/expect"
  local i missing=""
  for i in $(seq 100); do
    nsx "$NS_S" ss -Hlntu >"$WORK/ss.txt"
    missing="$(awk 'NR==FNR { split($5, a, ":"); p=a[length(a)]; addr=$5; sub(/:[0-9]+$/, "", addr);
                              gsub(/[][]/, "", addr); have[$1" "addr" "p]=1; next }
                    !(($1" "$2" "$3) in have) { print }' "$WORK/ss.txt" "$WORK/expect")"
    [ -z "$missing" ] && break
    pause 0.2
  done
  [ -z "$missing" ] || { cat "$WORK"/logs/*.log >&2; die "servers not listening: $(echo "$missing" | head -5 | tr '\n' ';')"; }
}

start_captures() {
  local dir="$1"
  # An 8 MB ring; packets wait up to 1 s in it (stop_captures allows for that).
  start_bg tcpdump-client ip netns exec "$NS_F" tcpdump -i fw-in -n -s 0 -B 8192 -U -Z root -w "$dir/client.pcap"
  start_bg tcpdump-cloud ip netns exec "$NS_F" tcpdump -i fw-out -n -s 0 -B 8192 -U -Z root -w "$dir/cloud.pcap"
  local i
  for i in $(seq 50); do
    if grep -q "listening on" "$WORK/logs/tcpdump-client.log" && grep -q "listening on" "$WORK/logs/tcpdump-cloud.log"; then
      return 0
    fi
    pause 0.1
  done
  die "tcpdump did not start"
}

stop_captures() {
  local pid name
  # tcpdump hands packets over from the kernel ring when a block is full or
  # 1 s old: wait for the last block. (The clients have stopped: the late
  # step's process is gone, so its SYN is not retransmitted meanwhile.)
  pause 1.2
  while read -r pid name; do
    case "$name" in tcpdump-*) stop_pid "$pid" ;; esac
  done <"$PIDFILE"
}

run_profile() {
  local profile="$1" dir="$OUT/$1" t0
  t0=$(date +%s)
  log "profile $profile: building the topology"
  rm -rf "$dir"; mkdir -p "$dir"
  setup_topology
  start_servers "$profile"
  $PY "$LAB/labplan.py" nft "$profile" >"$dir/ruleset.nft"
  nsx "$NS_F" nft -f "$dir/ruleset.nft"
  start_captures "$dir"
  # The remote peer of the P2P call: it waits for the local peer's offer.
  mkdir -p "$WORK/$profile-peer"
  local relay_only=""
  [ "$($PY "$LAB/labplan.py" remote-relay "$profile")" = relay ] && relay_only=--relay-only
  start_bg p2p-remote ip netns exec "$NS_P" $PY "$LAB/peer.py" --workdir "$WORK/$profile-peer" \
    --log "$dir/p2p-remote.log" $relay_only
  pause 0.5
  log "profile $profile: clients running"
  mkdir -p "$WORK/$profile"
  ip netns exec "$NS_C" $PY "$LAB/clients.py" --workdir "$WORK/$profile" --ca "$WORK/certs/ca.crt" \
    --profile "$profile" --steps "$dir/steps.jsonl" --logs "$dir" >"$WORK/logs/clients-$profile.log" 2>&1 &
  local cpid=$!
  echo "$cpid clients" >>"$PIDFILE"
  local rc=0
  wait "$cpid" || rc=$?
  stop_captures
  [ "$rc" -eq 0 ] || { cat "$WORK/logs/clients-$profile.log" >&2; die "clients failed (exit $rc)"; }
  grep -h "dropped by kernel" "$WORK"/logs/tcpdump-*.log | grep -vq "^0 " &&
    die "tcpdump dropped packets: $(grep -h 'dropped by kernel' "$WORK"/logs/tcpdump-*.log | tr '\n' ' ')"
  sed 's/^clients: /  /' "$WORK/logs/clients-$profile.log" >&2
  grep '"id": "chromium-call"' "$dir/steps.jsonl" | grep -q '"connected": true' ||
    log "WARNING: profile $profile: the Chromium call did not connect (see $dir/chromium.log)"
  grep '"id": "sb-p2p-call"' "$dir/steps.jsonl" | grep -q '"connected": true' ||
    log "NOTE: profile $profile: the peer-to-peer call did not connect (see $dir/p2p-local.log)"
  nsx "$NS_F" nft list ruleset >"$dir/nft-counters.txt"
  cp "$WORK/logs/dnsmasq.log" "$dir/dnsmasq.log"
  teardown_topology
  log "profile $profile: deriving the ground truth"
  $PY "$LAB/truth.py" --profile "$profile" --dir "$dir"
  log "profile $profile: done in $(( $(date +%s) - t0 )) s"
}

log "work directory $WORK, namespaces $TAG-*, output $OUT"
make_certs
mkdir -p "$OUT"
{
  echo "profiles: $(echo $PROFILES)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "kernel: $(uname -r)"
  echo "coturn: $(turnserver --version 2>&1 | head -1)"
  echo "chromium: $(/usr/lib/chromium/chromium --version 2>/dev/null | head -1)"
  echo "gstreamer: $(gst-launch-1.0 --version | sed -n 2p)"
  echo "dnsmasq: $(dnsmasq --version | head -1 | cut -d' ' -f3)"
  echo "nftables: $(nft --version)"
  echo "tcpdump: $(tcpdump --version 2>&1 | head -1)"
  echo "dig: $(dig -v 2>&1)"
  echo "curl: $(curl --version | head -1 | cut -d' ' -f1-2)"
  echo "openssl: $(openssl version)"
} >"$WORK/versions.block"
for p in $PROFILES; do run_profile "$p"; done
# versions.txt: one block per run. A run of some profiles takes them out of
# the blocks of earlier runs (a block left with no profile goes) and adds its
# own, so the file keeps saying which tools made which profile.
$PY - "$OUT/versions.txt" "$WORK/versions.block" $PROFILES <<'EOF'
import os
import sys
path, block, rerun = sys.argv[1], sys.argv[2], set(sys.argv[3:])
blocks, cur = [], None
if os.path.exists(path):
    for line in open(path).read().splitlines():
        if line.startswith("profiles:"):
            cur = [line]
            blocks.append(cur)
        elif cur is not None and line:
            cur.append(line)
kept = []
for b in blocks:
    left = [p for p in b[0].split()[1:] if p not in rerun]
    if left:
        kept.append(["profiles: " + " ".join(left)] + b[1:])
with open(path, "w") as out:
    out.write("# tools and machine of the lab runs that wrote this directory: one block per run\n")
    out.write("\n".join("\n".join(b) + "\n" for b in kept + [open(block).read().splitlines()]))
EOF
(cd "$OUT" && find . -type f ! -name SHA256SUMS ! -name README.md | sed 's|^\./||' | sort | xargs sha256sum) \
  >"$OUT/SHA256SUMS"
log "all profiles done: $PROFILES"
