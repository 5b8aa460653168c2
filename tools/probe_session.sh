#!/usr/bin/env bash
# The probe session of docs/probe.md (shortened in the README), made again: three network namespaces of its
# own (a client 10.202.1.2, a firewall between it and a "cloud" host
# 10.202.2.2), `callwall reflect` in the cloud, a firewall that passes TCP
# 443 and UDP 443 and drops new UDP to ports 1024-65535, and
# `callwall probe --vendor whereby` from the client. Needs root (ip netns).
# Everything it makes is removed at the end, also on failure.
#
#   tools/probe_session.sh [CALLWALL_BINARY]   (default build/release/callwall)
set -euo pipefail
bin=$(realpath "${1:-build/release/callwall}")
tag=$$
c=cwpsC$tag f=cwpsF$tag s=cwpsS$tag
dir=$(mktemp -d /tmp/callwall-probe-session-XXXXXX)
chmod 755 "$dir"  # the probe drops to nobody once its files are open
reflector=
cleanup() {
    [ -n "$reflector" ] && kill "$reflector" 2>/dev/null && wait "$reflector" 2>/dev/null || true
    for ns in "$c" "$f" "$s"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
for ns in "$c" "$f" "$s"; do ip netns add "$ns"; done
ip link add cwpc0 netns "$c" type veth peer name cwpf0 netns "$f"
ip link add cwps0 netns "$s" type veth peer name cwpf1 netns "$f"
ip -n "$c" addr add 10.202.1.2/24 dev cwpc0
ip -n "$f" addr add 10.202.1.1/24 dev cwpf0
ip -n "$f" addr add 10.202.2.1/24 dev cwpf1
ip -n "$s" addr add 10.202.2.2/24 dev cwps0
for l in "$c cwpc0" "$f cwpf0" "$f cwpf1" "$s cwps0" "$c lo" "$f lo" "$s lo"; do
    set -- $l
    ip -n "$1" link set "$2" up
done
ip -n "$c" route add default via 10.202.1.1
ip -n "$s" route add default via 10.202.2.1
ip netns exec "$f" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$f" nft -f - <<'EOF'
table inet cwp {
    chain cwpfwd {
        type filter hook forward priority 0;
        ct state established,related accept
        udp dport 1024-65535 drop
    }
}
EOF
(umask 077 && printf 'K1\n' >"$dir/reflect.key")
ip netns exec "$s" "$bin" reflect --listen 10.202.2.2 --tcp 443 --udp 443,1024-65535 --key-file "$dir/reflect.key" \
    --nft --duration 300 >"$dir/reflect.log" 2>&1 &
reflector=$!
for _ in $(seq 50); do grep -q "answering on" "$dir/reflect.log" && break; sleep 0.1; done
echo "cloud#    callwall reflect --listen 10.202.2.2 --tcp 443 --udp 443,1024-65535 --key-file reflect.key --nft"
echo "firewall# nft list chain inet cwp cwpfwd"
ip netns exec "$f" nft list chain inet cwp cwpfwd | grep -E "ct state|dport"
echo "client#   callwall probe --vendor whereby --db probe.sqlite --reflector 10.202.2.2 --key-file reflect.key --fail-on blocked"
cd "$dir"
rc=0
ip netns exec "$c" "$bin" probe --vendor whereby --db probe.sqlite --reflector 10.202.2.2 \
    --key-file "$dir/reflect.key" --fail-on blocked || rc=$?
echo "client#   echo \$?"
echo "$rc"
