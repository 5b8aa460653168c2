#!/usr/bin/python3
"""The lab's single source of truth: addresses, DNS zone, cloud services,
what the clients attempt, and the firewall profiles.

Everything else in tools/lab reads this module:
  * run.sh asks it for the dnsmasq configuration, the coturn command lines,
    the server lists and the nftables ruleset of each profile;
  * clients.py runs the client steps listed here;
  * truth.py decides each captured flow's firewall action with the same
    profile table (`action_for`) that produced the nftables ruleset
    (`nft_ruleset`), so the ruleset and the ground truth cannot disagree.

Command line (used by run.sh):
  labplan.py nft PROFILE            the nftables ruleset for PROFILE
  labplan.py profiles               profile names, one per line
  labplan.py dnsmasq PROFILE        dnsmasq.conf (the profile's DNS filter included)
  labplan.py coturn DIR             one shell-quoted turnserver command per line
  labplan.py tls-listeners          addr port tls|plain name, one per line
  labplan.py udp-listeners          addr port kind, one per line
  labplan.py certs                  label name... per certificate to make
  labplan.py cloud-addresses        addr/prefix, one per line (cloud loopback)
  labplan.py peer                   the remote peer's address, its link address in the cloud
  labplan.py remote-relay PROFILE   "relay" where the remote peer is relay-only, else "direct"
  labplan.py expect-sockets         proto addr port, for readiness checks
  labplan.py describe PROFILE       the profile table as Markdown
"""
import ipaddress
import shlex
import sys

# --- Addresses -------------------------------------------------------------
# 10.77.0.0/16 and fd77::/48 only. Nothing is routed to the host namespace.
CLIENT = {"4": "10.77.1.10", "6": "fd77:0:0:1::10"}
FW_INSIDE = {"4": "10.77.1.1", "6": "fd77:0:0:1::1"}     # router, client-facing
FW_OUTSIDE = {"4": "10.77.2.1", "6": "fd77:0:0:2::1"}    # router, cloud-facing
CLOUD_LINK = {"4": "10.77.2.2", "6": "fd77:0:0:2::2"}    # cloud end of the link
SERVICE_NETS = {"4": "10.77.100.0/24", "6": "fd77:0:0:100::/64"}
RESOLVER = {"4": "10.77.100.53", "6": "fd77:0:0:100::53"}
# Client ephemeral ports avoid 40000-41000, the Agora 2018 Recording SDK's
# *inbound* (local-port) range, so no client flow is matched to it by chance:
# only the step that binds local port 40100 on purpose is.
CLIENT_PORT_RANGE = (42000, 60999)


def v4(last):
    return "10.77.100.%d" % last


def v6(last):
    return "fd77:0:0:100::%d" % last


# --- DNS zone (dnsmasq) ------------------------------------------------------
# Real vendor names from the catalog, a different address per service.
# None = no record of that family (dnsmasq then answers NOERROR, empty).
HOSTS = {
    # Sendbird Calls
    "api-lab.calls.sendbird.com": (v4(11), v6(11)),     # signaling, TLS 443
    "turn-lab.calls.sendbird.com": (v4(12), v6(12)),    # coturn: UDP 5349 (STUN, TURN, DTLS)
    # Whereby
    "lab.srv.whereby.com": (v4(21), v6(21)),            # signaling, TLS 443
    "eu.turn.whereby.com": (v4(22), v6(22)),            # coturn: UDP 443/3478, TCP+TLS 443
    "browser.turn.whereby.com": (v4(23), None),         # coturn for Chromium: IPv4 only
    "media.sfu.whereby.com": (v4(24), v6(24)),          # SFU media: no catalog entry (a gap)
    # Agora
    "webrtc-lab.edge.agora.io": (v4(31), v6(31)),       # TLS on Agora's TCP ports, UDP media, coturn 3478
    "ap-web-1.agora.io": (v4(32), None),                # IPv4 only; TLS 443, 9591, 9593
    "rtm-lab.agora.io": (v4(33), v6(33)),               # RTM native: UDP 8000/1080/25000, TCP 9130/9131
    "sig-lab.agora.io": (v4(34), v6(34)),               # 2018 Signaling SDK: TCP 8100
    "qos.agoralab.co": (v4(35), None),                  # 2018 Native SDK: TCP 9700
    # Sendbird's STUN for the peer-to-peer call: IPv4 only, so Chromium's
    # IPv6 socket has no STUN server (an AAAA answer fetched over IPv4 would
    # not name an IPv6 flow, see captures/lab/README.md).
    "stun-lab.calls.sendbird.com": (v4(12), None),
}
# Names a profile's DNS filter may answer NXDOMAIN for (PROFILES[p]["dns_filter"]);
# elsewhere they resolve. Nothing listens at the address: only the lookup counts.
FILTERABLE_HOSTS = {
    "ap-web-2.agoraio.cn": (v4(36), None),
}
CNAMES = {
    "lab.sfu.whereby.com": "lab.srv.whereby.com",
}
LOCAL_TTL = 300

# Addresses with no name: the peer of the Sendbird P2P check, the TURN relay
# peer and the TURN servers' relay addresses.
P2P_PEER = v4(90)                        # coturn STUN on UDP 53210, never in DNS
RELAY_PEER = {"4": v4(40), "6": v6(40)}  # turnutils_peer, UDP 3480
RELAY_IPS = {
    "sendbird": (v4(112), v6(112)),
    "whereby": (v4(122), v6(122)),
    "agora": (v4(131), v6(131)),
}
TURN_USER, TURN_PASS, TURN_REALM = "lab", "labpass", "lab.callwall"

# The remote party of the peer-to-peer call: a second Chromium in a fourth
# namespace ("peer") behind the cloud, beyond the firewall. Its address is a
# documentation prefix (RFC 5737 TEST-NET-3, never routed outside the lab
# namespaces) rather than 10.77/16 on purpose: it stands for a peer on the
# Internet, and callwall orients a peer-to-peer leg by its inside (private)
# end, so both ends private would make the far end ambiguous. No name.
REMOTE_PEER = "203.0.113.91"
REMOTE_PEER_NET = "203.0.113.0/24"
REMOTE_PEER_GW = "203.0.113.1"            # the cloud's end of the peer link
# Signaling of the peer-to-peer call: long polling over HTTPS on Sendbird's
# signaling name (tools/lab/servers/tls_server.py, paths /p2p/...).
P2P_SIGNAL_NAME = "api-lab.calls.sendbird.com"
P2P_STUN = ("stun-lab.calls.sendbird.com", 5349)
# Where a profile makes the remote peer relay-only (PROFILES[p]["remote_relay_only"]):
# its TURN server, Sendbird's coturn on UDP 3478, given by address (the remote
# end resolves nothing), and the relay address its checks then come from.
# The remote reaches the cloud without crossing the firewall, so only the
# relay's side of its call is in the captures.
REMOTE_TURN = (v4(12), 3478)
REMOTE_RELAY = RELAY_IPS["sendbird"][0]


def addr_of(name, family):
    name = CNAMES.get(name, name)
    a = {**HOSTS, **FILTERABLE_HOSTS}[name][0 if family == "4" else 1]
    if a is None:
        raise KeyError("%s has no IPv%s address" % (name, family))
    return a


# --- Cloud services ------------------------------------------------------------
def _both(name):
    return [a for a in HOSTS[name] if a]


# coturn instances: (label, listening IPs, listening-port, tls-listening-port, relay IPs, extra args)
COTURN = [
    ("sendbird", _both("turn-lab.calls.sendbird.com"), 3478, 5349, RELAY_IPS["sendbird"], []),
    ("whereby", _both("eu.turn.whereby.com") + _both("browser.turn.whereby.com"), 3478, 443,
     RELAY_IPS["whereby"], []),
    ("agora", _both("webrtc-lab.edge.agora.io"), 3478, 5349, RELAY_IPS["agora"], []),
    ("p2p-peer", [P2P_PEER], 53210, 53211, (P2P_PEER,), ["--no-tls", "--no-dtls"]),
]
# Certificate names of each coturn instance (RSA: coturn's DTLS needs it here).
COTURN_CERT = {
    "sendbird": ["turn-lab.calls.sendbird.com"],
    "whereby": ["eu.turn.whereby.com", "browser.turn.whereby.com"],
    "agora": ["webrtc-lab.edge.agora.io"],
    "p2p-peer": ["p2p-peer.lab"],
}

# TCP services of tls_server.py: name -> [(port, "tls"|"plain")]
TCP_SERVICES = {
    "api-lab.calls.sendbird.com": [(443, "tls")],
    "lab.srv.whereby.com": [(443, "tls")],
    "webrtc-lab.edge.agora.io": [(80, "plain"), (443, "tls"), (5668, "tls"), (5669, "tls"), (5888, "tls"),
                                 (5950, "tls"), (6443, "tls"), (8667, "tls"), (9667, "tls")],
    "ap-web-1.agora.io": [(443, "tls"), (9591, "tls"), (9593, "tls")],
    "rtm-lab.agora.io": [(9130, "plain"), (9131, "plain")],
    "sig-lab.agora.io": [(8100, "plain")],
    "qos.agoralab.co": [(9700, "plain")],
}
# UDP services of udp_server.py: name -> [(port, kind)]
#   rtp: answers RTP with RTCP receiver reports, RTCP with RTCP (rtcp-mux style,
#        on the same 5-tuple); echo: echoes each datagram (Agora stand-in protocol)
UDP_SERVICES = {
    "webrtc-lab.edge.agora.io": [(5888, "rtp"), (5889, "rtp"), (5950, "rtp"), (5951, "rtp"),
                                 (12000, "rtp"), (12001, "rtp")],
    "media.sfu.whereby.com": [(47000, "rtp"), (47001, "rtp")],
    "rtm-lab.agora.io": [(8000, "echo"), (1080, "echo"), (25000, "echo")],
}


def tcp_listeners():
    for name, ports in TCP_SERVICES.items():
        for a in _both(name):
            for port, kind in ports:
                yield a, port, kind, name


def udp_listeners():
    for name, ports in UDP_SERVICES.items():
        for a in _both(name):
            for port, kind in ports:
                yield a, port, kind


def listening():
    """{(addr, proto, port): what takes new flows there}, every server of the
    lab's cloud: "coturn" (STUN/TURN on UDP, TURN or TLS on TCP), "tls" or
    "plain" (tls_server.py), "rtp" or "echo" (udp_server.py). Anywhere else
    nothing listens: the cloud answers TCP with a RST, UDP with ICMP port
    unreachable. (The TURN relay peers and relay addresses are left out: no
    name leads to them.)"""
    out = {}
    for label, ips, port, tls_port, relays, extra in COTURN:
        for ip in ips:
            out[(ip, "udp", port)] = out[(ip, "tcp", port)] = "coturn"
            if "--no-tls" not in extra:
                out[(ip, "tcp", tls_port)] = "coturn"
            if "--no-dtls" not in extra:
                out[(ip, "udp", tls_port)] = "coturn"
    for a, port, kind, name in tcp_listeners():
        out[(a, "tcp", port)] = kind
    for a, port, kind in udp_listeners():
        out[(a, "udp", port)] = kind
    return out


def cloud_addresses():
    out = []
    for name, (a4, a6) in HOSTS.items():
        out += [a4 + "/32"] + ([a6 + "/128"] if a6 else [])
    out += [RESOLVER["4"] + "/32", RESOLVER["6"] + "/128", P2P_PEER + "/32",
            RELAY_PEER["4"] + "/32", RELAY_PEER["6"] + "/128"]
    for a4, a6 in RELAY_IPS.values():
        out += [a4 + "/32", a6 + "/128"]
    return sorted(set(out), key=lambda s: (":" in s, ipaddress.ip_interface(s)))


def coturn_commands(workdir):
    cmds = []
    for label, ips, port, tls_port, relays, extra in COTURN:
        cmd = ["turnserver", "-n", "--no-cli", "--no-rfc5780", "--simple-log", "--log-file=stdout",
               "--listening-port=%d" % port, "--tls-listening-port=%d" % tls_port,
               "--realm=" + TURN_REALM, "--lt-cred-mech", "--user=%s:%s" % (TURN_USER, TURN_PASS),
               "--cert=%s/certs/coturn-%s.crt" % (workdir, label), "--pkey=%s/certs/rsa.key" % workdir,
               "--pidfile=%s/coturn-%s.pid" % (workdir, label), "--min-port=49152", "--max-port=65535",
               "--no-multicast-peers"]
        cmds.append((label, cmd + ["--listening-ip=" + ip for ip in ips]
                     + ["--relay-ip=" + ip for ip in relays] + extra))
    return cmds


def expect_sockets():
    """(proto, addr, port) that must be listening before clients start."""
    out = [("udp", RESOLVER["4"], 53), ("udp", RESOLVER["6"], 53)]
    for label, ips, port, tls_port, relays, extra in COTURN:
        for ip in ips:
            out += [("udp", ip, port), ("tcp", ip, port)]
            if "--no-tls" not in extra:
                out += [("tcp", ip, tls_port)]
    for a, port, kind, name in tcp_listeners():
        out.append(("tcp", a, port))
    for a, port, kind in udp_listeners():
        out.append(("udp", a, port))
    out += [("udp", RELAY_PEER["4"], 3480), ("udp", RELAY_PEER["6"], 3480)]
    return out


def dnsmasq_conf(profile):
    lines = [
        "# generated by tools/lab/labplan.py",
        "no-resolv", "no-hosts", "no-poll", "bind-interfaces",
        "listen-address=%s" % RESOLVER["4"], "listen-address=%s" % RESOLVER["6"],
        "port=53",
        "local=/#/",            # nothing is forwarded: every other name is NXDOMAIN
        "local-ttl=%d" % LOCAL_TTL,
        "log-queries",
    ]
    for name, (a4, a6) in HOSTS.items():
        lines.append("host-record=" + ",".join([name] + [a for a in (a4, a6) if a]))
    for name, (a4, a6) in FILTERABLE_HOSTS.items():
        if name not in PROFILES[profile].get("dns_filter", []):
            lines.append("host-record=" + ",".join([name] + [a for a in (a4, a6) if a]))
    for alias, target in CNAMES.items():
        lines.append("cname=%s,%s" % (alias, target))
    return "\n".join(lines) + "\n"


def cert_specs():
    """(file label, [names]): one certificate per TLS server name (the server
    picks it by SNI), one per coturn instance."""
    out = [(n, [n]) for n in sorted(set(TCP_SERVICES) | set(CNAMES))]
    out += [("coturn-" + label, names) for label, names in COTURN_CERT.items()]
    return out


# --- Client steps ------------------------------------------------------------------
# What the clients attempt: the same in every profile; only the firewall
# changes. `at` is the start offset in seconds. clients.py runs them.
#   curl/openssl: real TLS (with SNI, verified against the lab CA) or HTTP
#   stun:    turnutils_stunclient (after `dig` for the address)
#   uclient: turnutils_uclient through TURN to the relay peer
#   gst:     GStreamer RTP + RTCP sender (Opus or VP8), stopped by `timeout`
#   udp:     Agora-like UDP datagrams (stand-in protocol, answered by echo)
#   chromium: headless Chromium WebRTC call, relay-only through TURN
#   p2p:     headless Chromium WebRTC call to the remote peer (a second
#            Chromium beyond the firewall, started by run.sh): direct, no TURN
STEPS = [
    # DNS only: an Agora name the profile's DNS filter may refuse (NXDOMAIN), an empty AAAA.
    dict(id="dns-nx-agoraio", at=0.0, kind="dig", name="ap-web-2.agoraio.cn", rrtype="A"),
    dict(id="dns-aaaa-v4only", at=0.1, kind="dig", name="ap-web-1.agora.io", rrtype="AAAA"),
    # Chromium first: it takes the longest.
    dict(id="chromium-call", at=0.3, kind="chromium", turn_name="browser.turn.whereby.com", duration=16),
    # Sendbird
    dict(id="sb-api-v4", at=0.5, kind="curl", url="https://api-lab.calls.sendbird.com/", family="4"),
    dict(id="sb-api-v6", at=0.8, kind="curl", url="https://api-lab.calls.sendbird.com/", family="6"),
    dict(id="sb-stun-5349", at=1.0, kind="stun", name="turn-lab.calls.sendbird.com", family="4", port=5349),
    dict(id="sb-turn-dtls-5349", at=1.5, kind="uclient", name="turn-lab.calls.sendbird.com", family="4",
         port=5349, flags=["-S"]),
    dict(id="sb-turn-udp6-5349", at=2.0, kind="uclient", name="turn-lab.calls.sendbird.com", family="6",
         port=5349, flags=[]),
    dict(id="sb-p2p-stun", at=2.5, kind="stun_ip", ip=P2P_PEER, port=53210),
    dict(id="sb-p2p-call", at=6.0, kind="p2p", duration=12),
    # Whereby
    dict(id="wb-signal", at=1.1, kind="curl", url="https://lab.srv.whereby.com/", family="4"),
    dict(id="wb-signal-cname", at=1.4, kind="curl", url="https://lab.sfu.whereby.com/", family="4"),
    dict(id="wb-stun-443", at=3.0, kind="stun", name="eu.turn.whereby.com", family="4", port=443),
    dict(id="wb-turn-udp-443", at=3.5, kind="uclient", name="eu.turn.whereby.com", family="4", port=443,
         flags=[]),
    dict(id="wb-turn-udp6-443-send", at=4.0, kind="uclient", name="eu.turn.whereby.com", family="6",
         port=443, flags=["-s"]),
    dict(id="wb-turn-tcp-443", at=4.5, kind="uclient", name="eu.turn.whereby.com", family="4", port=443,
         flags=["-t"]),
    dict(id="wb-turn-tls-443", at=5.0, kind="uclient", name="eu.turn.whereby.com", family="4", port=443,
         flags=["-t", "-S"]),
    dict(id="wb-turn-udp-3478", at=5.5, kind="uclient", name="eu.turn.whereby.com", family="4", port=3478,
         flags=[]),
    dict(id="wb-sfu-vp8", at=2.2, kind="gst", name="media.sfu.whereby.com", family="4", port=47000,
         codec="vp8", duration=8),
    # Agora: TLS on the Web SDK's TCP ports
    dict(id="ag-tls-443", at=0.6, kind="curl", url="https://webrtc-lab.edge.agora.io/", family="4"),
    dict(id="ag-http-80", at=0.7, kind="curl", url="http://webrtc-lab.edge.agora.io/", family="4"),
    dict(id="ag-tls-5668", at=0.9, kind="curl", url="https://webrtc-lab.edge.agora.io:5668/", family="4"),
    dict(id="ag-tls6-5668", at=1.2, kind="openssl", name="webrtc-lab.edge.agora.io", family="6", port=5668),
    dict(id="ag-tls-5669", at=1.3, kind="openssl", name="webrtc-lab.edge.agora.io", family="4", port=5669),
    dict(id="ag-tls-5888", at=1.6, kind="curl", url="https://webrtc-lab.edge.agora.io:5888/", family="4"),
    dict(id="ag-tls-5950", at=1.7, kind="curl", url="https://webrtc-lab.edge.agora.io:5950/", family="4"),
    dict(id="ag-tls6-6443", at=1.8, kind="curl", url="https://webrtc-lab.edge.agora.io:6443/", family="6"),
    dict(id="ag-tls-8667", at=1.9, kind="curl", url="https://webrtc-lab.edge.agora.io:8667/", family="4"),
    dict(id="ag-tls6-8667", at=2.0, kind="curl", url="https://webrtc-lab.edge.agora.io:8667/", family="6"),
    dict(id="ag-tls-9667", at=2.1, kind="curl", url="https://webrtc-lab.edge.agora.io:9667/", family="4"),
    dict(id="ag-tls6-9667", at=2.3, kind="curl", url="https://webrtc-lab.edge.agora.io:9667/", family="6"),
    dict(id="ag-rtm-web-443", at=2.4, kind="curl", url="https://ap-web-1.agora.io/", family="4"),
    dict(id="ag-rtm-web-9591", at=2.6, kind="curl", url="https://ap-web-1.agora.io:9591/", family="4"),
    dict(id="ag-rtm-web-9593", at=2.7, kind="curl", url="https://ap-web-1.agora.io:9593/", family="4"),
    dict(id="ag-rtm-native-9130", at=2.8, kind="curl", url="http://rtm-lab.agora.io:9130/", family="4"),
    dict(id="ag-rtm-native-9131", at=2.9, kind="curl", url="http://rtm-lab.agora.io:9131/", family="4"),
    dict(id="ag-native-2018-9700", at=3.1, kind="curl", url="http://qos.agoralab.co:9700/", family="4"),
    # Agora: UDP
    dict(id="ag-stun-3478", at=3.3, kind="stun", name="webrtc-lab.edge.agora.io", family="4", port=3478),
    dict(id="ag-opus-5888", at=3.6, kind="gst", name="webrtc-lab.edge.agora.io", family="4", port=5888,
         codec="opus", duration=8),
    dict(id="ag-opus6-5950", at=3.8, kind="gst", name="webrtc-lab.edge.agora.io", family="6", port=5950,
         codec="opus", duration=8),
    dict(id="ag-vp8-12000", at=4.2, kind="gst", name="webrtc-lab.edge.agora.io", family="4", port=12000,
         codec="vp8", duration=8),
    dict(id="ag-rtm-udp-8000", at=4.6, kind="udp", name="rtm-lab.agora.io", family="4", port=8000, count=5),
    dict(id="ag-rtm-udp-1080", at=4.8, kind="udp", name="rtm-lab.agora.io", family="4", port=1080, count=5),
    dict(id="ag-rtm-udp-25000", at=5.0, kind="udp", name="rtm-lab.agora.io", family="4", port=25000,
         count=5),
    # A recording process on its simplex downstream port (Agora 2018
    # Recording, lowUdpPort..highUdpPort, an *inbound* entry): it sends from
    # local port 40100, and what comes back to that port is the evidence.
    dict(id="ag-rec-downstream-40100", at=5.3, kind="udp", name="rtm-lab.agora.io", family="4", port=8000,
         count=5, lport=40100),
]
# Started after everything else has finished and the capture has run on for
# TAIL_S more seconds; the capture stops LATE_STOP_S after it, before the first
# SYN retransmission (~1 s), so where the firewall drops it the attempt is
# too short to judge: callwall must call it inconclusive, not blocked.
LATE_STEP = dict(id="ag-sig-2018-late", kind="curl", url="http://sig-lab.agora.io:8100/", family="4")
TAIL_S = 4.0
LATE_STOP_S = 0.6


# --- Firewall profiles -----------------------------------------------------------
# One table. nft_ruleset() turns it into the forward chain, and truth.py
# calls action_for() on every captured flow. A rule is
#   (proto, ports, action, note); ports: "443" or "5866-6000"; first match wins.
# Actions: accept, drop, reset (TCP RST), icmp-port-unreachable,
# icmp-admin-prohibited (ICMP 3/3, 3/13; ICMPv6 1/4, 1/1 via nft's icmpx).
# Optional keys:
#   stateless_udp       the UDP rules are a stateless egress ACL: applied to
#                       every outbound UDP packet before connection tracking,
#                       so even answers to packets that came in are dropped
#   inbound_udp_to_client  UDP from the cloud side to the client is forwarded
#                       (a port-forward for media), so a remote peer's checks arrive
#   inbound_udp_from_cloud  UDP to the client is forwarded only from the vendor
#                       cloud's range (SERVICE_NETS: an allow-list for the
#                       vendor's media relays); from anywhere else it is dropped
#   remote_relay_only   the remote peer of the P2P call gathers relay
#                       candidates only (iceTransportPolicy "relay", REMOTE_TURN):
#                       its checks reach the client from REMOTE_RELAY
#   far_end_first       the P2P call's local end takes the remote end's
#                       candidates 2.5 s after its answer, so the remote's
#                       checks reach the client before the client's own
#   probe_as            the profile's outbound rules are those of another
#                       profile: probe_matrix.py probes through it only when
#                       asked by name (the probes see the outbound rules only)
#   dns_filter          names of FILTERABLE_HOSTS the resolver answers NXDOMAIN for
ACTIONS = ("accept", "drop", "reset", "icmp-port-unreachable", "icmp-admin-prohibited")
PROFILES = {
    "open": dict(
        summary="Everything the clients start is forwarded.",
        rules=[], default="accept"),
    "restrictive": dict(
        summary="Some ports dropped silently, some rejected with a TCP reset, some with ICMP "
                "port-unreachable or administratively-prohibited; the rest is forwarded.",
        rules=[
            ("udp", "443", "icmp-admin-prohibited", "TURN over UDP 443 (Whereby) refused"),
            ("udp", "3478", "drop", "STUN/TURN 3478 dropped"),
            ("udp", "5349", "drop", "Sendbird TURN/DTLS 5349 dropped"),
            ("udp", "5866-6000", "icmp-port-unreachable", "Agora Web SDK >= 2.9 media rejected"),
            ("udp", "1080", "icmp-port-unreachable", "Agora RTM UDP 1080 rejected"),
            ("udp", "25000", "drop", "Agora RTM UDP 25000 dropped"),
            ("tcp", "5668", "reset", "Agora 5668 reset"),
            ("tcp", "6443", "drop", "Agora 6443 dropped"),
            ("tcp", "8667", "icmp-admin-prohibited", "Agora 8667 refused by ICMP"),
            ("tcp", "9667", "icmp-port-unreachable", "Agora 9667 rejected by ICMP port unreachable"),
            ("tcp", "9593", "reset", "Agora RTM Web 9593 reset"),
            ("tcp", "9131", "drop", "Agora RTM native 9131 dropped"),
            ("tcp", "8001-8199", "drop", "Agora 2018 signaling dropped"),
        ],
        default="accept", dns_filter=["ap-web-2.agoraio.cn"]),
    "corporate": dict(
        summary="Only DNS and TCP 443 leave the network; everything else is dropped silently.",
        rules=[
            ("udp", "53", "accept", "DNS"),
            ("tcp", "53", "accept", "DNS over TCP"),
            ("tcp", "443", "accept", "HTTPS and TURN over TCP/TLS 443"),
        ],
        default="drop", dns_filter=["ap-web-2.agoraio.cn"]),
    "udp-egress": dict(
        summary="A stateless egress ACL drops every outbound UDP datagram but DNS, answers included; "
                "TCP leaves freely; UDP from outside to the client is forwarded (a media port-forward), "
                "so a remote peer's checks arrive while the client's own checks and answers die on the way out.",
        rules=[
            ("udp", "53", "accept", "DNS"),
            ("udp", "1-65535", "drop", "all other outbound UDP, stateless"),
        ],
        default="accept", stateless_udp=True, inbound_udp_to_client=True),
    "strict": dict(
        summary="A stateless egress ACL drops every outbound UDP datagram but DNS, answers included; "
                "TCP leaves freely; UDP to the client is let in only from the vendor cloud's range "
                "(an allow-list for its media relays; from anywhere else it is dropped). The remote peer "
                "is relay-only through Sendbird's TURN server, so its checks arrive from its relay "
                "address and the client answers them, while the client's answers and its own checks "
                "die on the way out.",
        rules=[
            ("udp", "53", "accept", "DNS"),
            ("udp", "1-65535", "drop", "all other outbound UDP, stateless"),
        ],
        default="accept", stateless_udp=True, inbound_udp_from_cloud=True, remote_relay_only=True,
        probe_as="udp-egress"),
    "high-ports": dict(
        summary="Outbound UDP leaves only for DNS and the dynamic ports 49152-65535; STUN/TURN's 3478 is "
                "refused with ICMP port unreachable and any other UDP port dropped; TCP leaves freely; UDP to the "
                "client is let in only from the vendor cloud's range. The remote peer is relay-only, so the far "
                "end speaks first: its relay's checks (from a port of coturn's 49152-65535) reach the client's "
                "ephemeral port, and the client's own checks to the relay pass because the relay's port is high.",
        rules=[
            ("udp", "53", "accept", "DNS"),
            ("udp", "3478", "icmp-port-unreachable", "STUN/TURN 3478 refused"),
            ("udp", "49152-65535", "accept", "UDP to dynamic ports"),
            ("udp", "1-65535", "drop", "all other outbound UDP"),
        ],
        default="accept", inbound_udp_from_cloud=True, remote_relay_only=True, far_end_first=True),
}
PROFILE_ORDER = ["open", "restrictive", "corporate", "udp-egress", "strict", "high-ports"]


def inbound_udp_allowed(profile, src):
    """Whether the profile forwards UDP that the far end `src` starts towards the client."""
    p = PROFILES[profile]
    if p.get("inbound_udp_to_client"):
        return True
    if p.get("inbound_udp_from_cloud"):
        a = ipaddress.ip_address(src)
        return any(a in ipaddress.ip_network(n) for n in SERVICE_NETS.values())
    return False


def p2p_far_ends(profile):
    """The addresses the peer-to-peer call's media leg goes to: the remote
    peer's own, or its relay where the remote is relay-only."""
    return {REMOTE_RELAY} if PROFILES[profile].get("remote_relay_only") else {REMOTE_PEER}


def _port_range(ports):
    lo, _, hi = ports.partition("-")
    return int(lo), int(hi or lo)


def action_for(profile, proto, dport):
    """The firewall's action for a new flow: the same table as nft_ruleset()."""
    p = PROFILES[profile]
    for rproto, ports, action, _note in p["rules"]:
        lo, hi = _port_range(ports)
        if rproto == proto and lo <= dport <= hi:
            return action
    return p["default"]


def _verdict_stmt(action):
    return {
        "accept": "accept",
        "drop": "drop",
        "reset": "reject with tcp reset",
        "icmp-port-unreachable": "reject with icmpx type port-unreachable",
        "icmp-admin-prohibited": "reject with icmpx type admin-prohibited",
    }[action]


def nft_ruleset(profile):
    p = PROFILES[profile]
    out = [
        "# generated by tools/lab/labplan.py for profile %r: %s" % (profile, p["summary"]),
        "table inet cwlab {",
        "  chain forward {",
        "    type filter hook forward priority filter; policy drop;",
    ]
    stateless = lambda proto: proto == "udp" and p.get("stateless_udp", False)
    rules = []
    for i, (proto, ports, action, note) in enumerate(p["rules"]):
        if action == "reset" and proto != "tcp":
            raise ValueError("reset needs tcp")
        rules.append((stateless(proto), '%smeta l4proto %s %s dport %s counter %s comment "rule %d: %s"'
                      % ('oifname "fw-out" ' if stateless(proto) else "", proto, proto, ports,
                         _verdict_stmt(action), i, note)))
    out += ["    " + r for st, r in rules if st]
    out.append("    ct state established,related counter accept")
    if p.get("inbound_udp_to_client"):
        out.append('    iifname "fw-out" ip daddr %s meta l4proto udp counter accept comment '
                   '"UDP to the client is forwarded"' % CLIENT["4"])
        out.append('    iifname "fw-out" ip6 daddr %s meta l4proto udp counter accept comment '
                   '"UDP to the client is forwarded"' % CLIENT["6"])
    if p.get("inbound_udp_from_cloud"):
        out.append('    iifname "fw-out" ip saddr %s ip daddr %s meta l4proto udp counter accept comment '
                   '"UDP from the vendor cloud to the client is forwarded"' % (SERVICE_NETS["4"], CLIENT["4"]))
        out.append('    iifname "fw-out" ip6 saddr %s ip6 daddr %s meta l4proto udp counter accept comment '
                   '"UDP from the vendor cloud to the client is forwarded"' % (SERVICE_NETS["6"], CLIENT["6"]))
    out.append('    iifname "fw-out" counter drop comment "nothing else is started from the cloud side"')
    out += ["    " + r for st, r in rules if not st]
    out.append('    counter %s comment "default"' % _verdict_stmt(p["default"]))
    out += ["  }", "}"]
    return "\n".join(out) + "\n"


def describe(profile):
    p = PROFILES[profile]
    rows = ["| proto | ports | action | note |", "|---|---|---|---|"]
    for proto, ports, action, note in p["rules"]:
        rows.append("| %s | %s | %s | %s |" % (proto, ports, action, note))
    rows.append("| any | any | %s | default |" % p["default"])
    extra = []
    if p.get("stateless_udp"):
        extra.append("The UDP rules apply to every outbound packet, before connection tracking.")
    if p.get("inbound_udp_to_client"):
        extra.append("UDP from the cloud side to the client is forwarded.")
    if p.get("inbound_udp_from_cloud"):
        extra.append("UDP to the client is forwarded from the vendor cloud's range (%s, %s) only."
                     % (SERVICE_NETS["4"], SERVICE_NETS["6"]))
    if p.get("remote_relay_only"):
        extra.append("The remote peer of the P2P call is relay-only (TURN %s:%d, relay address %s)."
                     % (REMOTE_TURN + (REMOTE_RELAY,)))
    if p.get("dns_filter"):
        extra.append("DNS filter: NXDOMAIN for %s." % ", ".join(p["dns_filter"]))
    return p["summary"] + "\n\n" + "\n".join(rows) + "\n" + "".join(x + "\n" for x in extra)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "nft":
        sys.stdout.write(nft_ruleset(argv[2]))
    elif cmd == "profiles":
        print("\n".join(PROFILE_ORDER))
    elif cmd == "dnsmasq":
        sys.stdout.write(dnsmasq_conf(argv[2]))
    elif cmd == "coturn":
        for label, c in coturn_commands(argv[2]):
            print(label, " ".join(shlex.quote(x) for x in c))
    elif cmd == "tls-listeners":
        for a, port, kind, name in tcp_listeners():
            print(a, port, kind, name)
    elif cmd == "udp-listeners":
        for a, port, kind in udp_listeners():
            print(a, port, kind)
    elif cmd == "certs":
        for label, names in cert_specs():
            print(label, " ".join(names))
    elif cmd == "cloud-addresses":
        print("\n".join(cloud_addresses()))
    elif cmd == "expect-sockets":
        for proto, a, port in expect_sockets():
            print(proto, a, port)
    elif cmd == "peer":
        print(REMOTE_PEER, REMOTE_PEER_NET, REMOTE_PEER_GW)
    elif cmd == "remote-relay":
        print("relay" if PROFILES[argv[2]].get("remote_relay_only") else "direct")
    elif cmd == "describe":
        sys.stdout.write(describe(argv[2]))
    else:
        print("labplan.py: unknown command %r" % cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
