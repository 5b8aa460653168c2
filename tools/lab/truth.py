#!/usr/bin/python3
"""Ground truth and expected callwall verdicts for one lab run.

Reads DIR/client.pcap (the client-facing side of the firewall) and
DIR/cloud.pcap (the cloud side) with its own small pcap decoder, never with
callwall, and writes:

  DIR/groundtruth.tsv        every flow a client started through the firewall:
                             5-tuple, the firewall's action (labplan.action_for,
                             the table the nftables ruleset was generated
                             from), the outcome callwall must report, the
                             flow's name(s), protocol evidence and the catalog
                             entries it must be counted for
  DIR/expected_verdicts.tsv  the verdict every catalog entry must get

Before writing, it checks that the firewall really did what the table says
(the "self-check"): an accepted flow is answered and appears on the cloud
side, with no ICMP error (a port-unreachable from the flow's own server after
it answered is that server closing its port, not the firewall); nothing the
client sent on a dropped one reaches the cloud, and nothing
answers it (where the profile forwards UDP to the client, the far end's own
STUN requests may arrive: a remote peer's connectivity checks); a reset one
gets a RST and an ICMP-rejected one the right ICMP error, and neither reaches
the cloud. Any violation is a lab error: exit 1, nothing written.

Flows are always seen from the client: a flow begins with the client's first
packet, whoever spoke first (the remote peer's checks may arrive before the
client's own).

The expected outcome and verdict rules (callwall's documented rules, see
DESIGN.md "Verdicts" and captures/lab/README.md):

flow name    its own TLS SNI; else the names of DNS answers the same client
             received before the flow's first packet that map the server
             address (the question and every CNAME in the answer); else a
             TURN peer relation (XOR-PEER/XOR-RELAYED-ADDRESS seen on a named
             TURN flow).
matching     name matches a destination pattern, same transport, server port
             in the entry's ports (the client's port for inbound entries).
             A flow without a name matches no named entry, whatever its port
             or protocol. Destination-ANY entries match only flows that no
             name explains (no named entry matched), with protocol evidence
             (STUN, TURN ChannelData, DTLS, RTP/RTCP) on the entry's
             transport and ports, while the vendor is active by name (a
             vendor name in a DNS query or on a flow; third-party names do
             not count).
outcome      accept -> observed; reset -> blocked:reset; ICMP reject ->
             blocked:icmp-T-C; drop -> TCP: SYN retransmitted or >= 3 s of
             capture after the first SYN -> blocked:no-answer; UDP with STUN
             requests: retransmitted or >= 3 s -> blocked:stun-timeout; other
             UDP: >= 2 datagrams and >= 3 s -> blocked:no-answer; anything
             shorter -> inconclusive.
inbound      an inbound entry (local ports the vendor sends to) is judged only
             on what the vendor sent to those ports: a flow counts for it
             only when packets came back to the client's port, and then as
             observed (what a firewall drops on the way in never reaches an
             inside capture). A failed outbound attempt from such a port is
             no evidence about it.
entry        per port: observed if any flow got through on it, blocked if
             flows were only blocked. Partial when both kinds of port exist,
             observed / blocked when only one kind, inconclusive when only
             too-short attempts, not_exercised when nothing matched. A vendor
             name that failed to resolve (NXDOMAIN, REFUSED, no answer) and
             matches the entry adds the reason dns-failure when nothing got
             through, and makes an entry with no flows blocked.

Usage: truth.py --profile NAME --dir DIR [--catalog DIR]   (default: the four seed documents)
"""
import argparse
import glob
import ipaddress
import os
import struct
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import labplan  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
NO_ANSWER_WAIT_S = 3.0
CLIENT_IPS = {labplan.CLIENT["4"], labplan.CLIENT["6"]}
SERVICE_NETS = [ipaddress.ip_network(n) for n in labplan.SERVICE_NETS.values()] + [
    ipaddress.ip_network(labplan.REMOTE_PEER + "/32")]


# --- pcap ------------------------------------------------------------------------------
def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError("%s: link type %d, expected Ethernet" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _wirelen = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield sec + frac / (1e9 if nano else 1e6), data[off:off + caplen]
        off += caplen


class Pkt:
    __slots__ = ("ts", "fam", "src", "dst", "proto", "sport", "dport", "flags", "seq", "payload", "icmp")


def decode(ts, frame):
    """Ethernet -> IPv4/IPv6 -> TCP/UDP/ICMP. Returns Pkt or None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    off = 14
    while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
        etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    ip = frame[off:]
    p = Pkt()
    p.ts = ts
    p.icmp = None
    p.flags = 0
    p.seq = 0
    p.sport = p.dport = 0
    if etype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        frag = struct.unpack("!H", ip[6:8])[0]
        if frag & 0x1FFF:
            return None
        p.fam = "4"
        p.proto = ip[9]
        p.src = str(ipaddress.IPv4Address(ip[12:16]))
        p.dst = str(ipaddress.IPv4Address(ip[16:20]))
        l4 = ip[ihl:total]
    elif etype == 0x86DD and len(ip) >= 40:
        p.fam = "6"
        nxt = ip[6]
        p.src = str(ipaddress.IPv6Address(ip[8:24]))
        p.dst = str(ipaddress.IPv6Address(ip[24:40]))
        plen = struct.unpack("!H", ip[4:6])[0]
        l4 = ip[40:40 + plen]
        while nxt in (0, 43, 60, 44) and len(l4) >= 8:
            if nxt == 44:
                if struct.unpack("!H", l4[2:4])[0] & 0xFFF8:
                    return None
                nxt, l4 = l4[0], l4[8:]
            else:
                nxt, l4 = l4[0], l4[(l4[1] + 1) * 8:]
        p.proto = nxt
    else:
        return None
    if p.proto == 6 and len(l4) >= 20:
        p.sport, p.dport, p.seq = struct.unpack("!HHI", l4[:8])
        doff = (l4[12] >> 4) * 4
        p.flags = l4[13]
        p.payload = bytes(l4[doff:])
    elif p.proto == 17 and len(l4) >= 8:
        p.sport, p.dport = struct.unpack("!HH", l4[:4])
        p.payload = bytes(l4[8:])
    elif (p.proto == 1 and len(l4) >= 8 and l4[0] in (3, 11)) or (p.proto == 58 and len(l4) >= 8 and l4[0] in (1, 3)):
        p.icmp = (l4[0], l4[1], quoted(bytes(l4[8:]), p.fam))
        p.payload = b""
    else:
        p.payload = bytes(l4)
    return p


def quoted(q, fam):
    """(proto, src, sport, dst, dport) of the packet an ICMP error quotes."""
    try:
        if fam == "4":
            ihl = (q[0] & 15) * 4
            proto = q[9]
            src, dst = str(ipaddress.IPv4Address(q[12:16])), str(ipaddress.IPv4Address(q[16:20]))
            l4 = q[ihl:]
        else:
            proto = q[6]
            src, dst = str(ipaddress.IPv6Address(q[8:24])), str(ipaddress.IPv6Address(q[24:40]))
            l4 = q[40:]
        sport, dport = struct.unpack("!HH", l4[:4])
        return proto, src, sport, dst, dport
    except (IndexError, struct.error, ValueError):
        return None


# --- application parsing -------------------------------------------------------------------
def dns_name(msg, off, depth=0):
    labels = []
    while off < len(msg) and depth < 20:
        n = msg[off]
        if n == 0:
            return ".".join(labels), off + 1
        if n & 0xC0 == 0xC0:
            ptr = struct.unpack("!H", msg[off:off + 2])[0] & 0x3FFF
            name, _ = dns_name(msg, ptr, depth + 1)
            return ".".join(labels + ([name] if name else [])), off + 2
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    raise ValueError("bad name")


def parse_dns(msg):
    """(id, is_response, rcode, qname, qtype, answers[(name, type, value)])."""
    if len(msg) < 12:
        return None
    qid, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    if qd < 1:
        return None
    try:
        qname, off = dns_name(msg, 12)
        qtype = struct.unpack("!H", msg[off:off + 2])[0]
        off += 4
        answers = []
        for _ in range(an):
            name, off = dns_name(msg, off)
            rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            rdata = msg[off:off + rdlen]
            if rtype == 1 and rdlen == 4:
                answers.append((name.lower(), "A", str(ipaddress.IPv4Address(rdata))))
            elif rtype == 28 and rdlen == 16:
                answers.append((name.lower(), "AAAA", str(ipaddress.IPv6Address(rdata))))
            elif rtype == 5:
                answers.append((name.lower(), "CNAME", dns_name(msg, off)[0].lower()))
            off += rdlen
    except (ValueError, IndexError, struct.error):
        return None
    return qid, bool(flags & 0x8000), flags & 15, qname.lower().rstrip("."), qtype, answers


def tls_sni(stream):
    """SNI of a TLS ClientHello at the start of a client byte stream, or None."""
    hs = b""
    off = 0
    while off + 5 <= len(stream) and stream[off] == 22:
        rlen = struct.unpack("!H", stream[off + 3:off + 5])[0]
        hs += stream[off + 5:off + 5 + rlen]
        off += 5 + rlen
        if len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
            break
    if len(hs) < 4 or hs[0] != 1:
        return None
    try:
        p = 4 + 2 + 32
        p += 1 + hs[p]
        p += 2 + struct.unpack("!H", hs[p:p + 2])[0]
        p += 1 + hs[p]
        end = p + 2 + struct.unpack("!H", hs[p:p + 2])[0]
        p += 2
        while p + 4 <= end:
            et, el = struct.unpack("!HH", hs[p:p + 4])
            if et == 0:
                q = p + 4 + 2
                if hs[q] == 0:
                    n = struct.unpack("!H", hs[q + 1:q + 3])[0]
                    return hs[q + 3:q + 3 + n].decode("ascii", "replace").lower().rstrip(".")
            p += 4 + el
    except (IndexError, struct.error):
        return None
    return None


MAGIC = 0x2112A442


def stun(payload):
    """(class, method, txid, attrs{type: [value]}) for a STUN message, else None."""
    if len(payload) < 20 or payload[0] & 0xC0:
        return None
    mtype, mlen, cookie = struct.unpack("!HHI", payload[:8])
    if cookie != MAGIC or mlen % 4 or 20 + mlen > len(payload):
        return None
    cls = ((mtype >> 4) & 1) | ((mtype >> 7) & 2)
    method = (mtype & 0xF) | ((mtype >> 1) & 0x70) | ((mtype >> 2) & 0xF80)
    attrs = {}
    p = 20
    while p + 4 <= 20 + mlen:
        at, al = struct.unpack("!HH", payload[p:p + 4])
        attrs.setdefault(at, []).append(payload[p + 4:p + 4 + al])
        p += 4 + al + (-al % 4)
    return cls, method, payload[8:20], attrs


def xor_address(v, txid):
    try:
        fam = v[1]
        if fam == 1:
            a = bytes(b ^ m for b, m in zip(v[4:8], struct.pack("!I", MAGIC)))
            return str(ipaddress.IPv4Address(a))
        if fam == 2:
            a = bytes(b ^ m for b, m in zip(v[4:20], struct.pack("!I", MAGIC) + txid))
            return str(ipaddress.IPv6Address(a))
    except (IndexError, ValueError):
        pass
    return None


def udp_kind(payload):
    """stun | channeldata | dtls | rtcp | rtp | None (lab payloads only)."""
    if not payload:
        return None
    b0 = payload[0]
    if b0 < 4 and stun(payload):
        return "stun"
    if 0x40 <= b0 <= 0x7F and len(payload) >= 4 and struct.unpack("!H", payload[2:4])[0] <= len(payload) - 4:
        return "channeldata"
    if 20 <= b0 <= 25 and len(payload) >= 13 and payload[1] == 0xFE and payload[2] in (0xFD, 0xFF):
        return "dtls"
    if b0 >> 6 == 2 and len(payload) >= 8:
        return "rtcp" if 200 <= payload[1] <= 204 else ("rtp" if len(payload) >= 12 else None)
    return None


# --- flows ---------------------------------------------------------------------------------------
class Flow:
    def __init__(self, key, ts):
        self.proto, self.cip, self.cport, self.sip, self.sport = key
        self.first = self.last = ts
        self.c2s = self.s2c = 0
        self.syns = 0
        self.first_syn = None
        self.synack = False
        self.rst_from_server = False
        self.icmp = []            # (type, code, from)
        self.icmp_closed = 0      # port-unreachable from the server itself after it answered
        self.kinds = set()        # protocol kinds seen on UDP (either direction)
        self.stun_req = {}        # txid -> count (client requests)
        self.stun_ok = 0          # success responses to the client's requests
        self.s2c_req = 0          # the far end's own STUN requests (a peer's checks)
        self.c2s_ok = 0           # the client's success responses to them
        self.cstream = {}         # TCP client payload by seq
        self.isn = None
        self.sni = None
        self.peer_addrs = set()   # XOR-PEER / XOR-RELAYED addresses seen

    @property
    def transport(self):
        return "tcp" if self.proto == 6 else "udp"

    def key(self):
        return (self.transport, self.cip, self.cport, self.sip, self.sport)


# ICMP "port unreachable" for IPv4 and IPv6 (type, code).
PORT_UNREACHABLE = {(3, 3), (1, 4)}


def in_cloud(addr):
    a = ipaddress.ip_address(addr)
    return any(a in n for n in SERVICE_NETS)


def collect(path):
    """Flows started by the lab client, DNS transactions, capture end."""
    flows = {}
    dns = []  # (ts, client, qname, rcode or None, answers)
    dns_pending = {}
    cap_end = 0.0
    for ts, frame in read_pcap(path):
        cap_end = max(cap_end, ts)
        p = decode(ts, frame)
        if p is None:
            continue
        if p.icmp:
            t, c, q = p.icmp
            if q:
                qproto, qsrc, qsport, qdst, qdport = q
                f = flows.get((qproto, qsrc, qsport, qdst, qdport))
                if f and f.s2c and p.src == f.sip and (t, c) in PORT_UNREACHABLE:
                    # The server had answered and its port has closed since
                    # (its side of the call ended): not the firewall's doing.
                    f.icmp_closed += 1
                elif f:
                    f.icmp.append((t, c, p.src))
            continue
        if p.proto not in (6, 17):
            continue
        if p.src in CLIENT_IPS:
            key, c2s = (p.proto, p.src, p.sport, p.dst, p.dport), True
        elif p.dst in CLIENT_IPS:
            key, c2s = (p.proto, p.dst, p.dport, p.src, p.sport), False
        else:
            continue
        f = flows.get(key)
        if f is None:
            if not c2s:
                continue  # not started by the client
            if p.proto == 6 and not (p.flags & 0x02 and not p.flags & 0x10):
                continue  # TCP without the initial SYN
            f = flows[key] = Flow(key, ts)
        f.last = ts
        if c2s:
            f.c2s += 1
        else:
            f.s2c += 1
        if p.proto == 6:
            syn, ack, rst = p.flags & 0x02, p.flags & 0x10, p.flags & 0x04
            if c2s and syn and not ack:
                f.syns += 1
                f.first_syn = f.first_syn if f.first_syn is not None else ts
                f.isn = p.seq
            if not c2s and syn and ack:
                f.synack = True
            if not c2s and rst:
                f.rst_from_server = True
            if c2s and p.payload and f.isn is not None and len(f.cstream) < 64:
                f.cstream.setdefault((p.seq - f.isn - 1) & 0xFFFFFFFF, p.payload)
        else:
            if f.sport == 53:
                if c2s:
                    d = parse_dns(p.payload)
                    if d and not d[1]:
                        dns_pending.setdefault((f.cip, f.cport, d[0]), (ts, d[3]))
                else:
                    d = parse_dns(p.payload)
                    if d and d[1]:
                        dns.append((ts, f.cip, d[3], d[2], d[5]))
                        dns_pending.pop((f.cip, f.cport, d[0]), None)
                continue
            k = udp_kind(p.payload)
            if k:
                f.kinds.add(k)
            if k == "stun":
                cls, method, txid, attrs = stun(p.payload)
                if c2s and cls == 0:
                    f.stun_req[txid] = f.stun_req.get(txid, 0) + 1
                if not c2s and cls == 0:
                    f.s2c_req += 1
                if c2s and cls == 2:
                    f.c2s_ok += 1
                if not c2s and cls == 2 and txid in f.stun_req:
                    f.stun_ok += 1
                for at in (0x0012, 0x0016):
                    for v in attrs.get(at, []):
                        a = xor_address(v, txid)
                        if a:
                            f.peer_addrs.add(a)
    for (cip, _cport, _qid), (ts, qname) in dns_pending.items():
        dns.append((ts, cip, qname, None, []))
    for f in flows.values():
        if f.proto == 6 and f.cstream:
            stream, pos = b"", 0
            while pos in f.cstream and len(stream) < 16384:
                stream += f.cstream[pos]
                pos += len(f.cstream[pos])
            f.sni = tls_sni(stream)
    return flows, dns, cap_end


def cloud_view(path):
    """5-tuples seen on the cloud side (client's view) -> whether a packet the
    client sent is among them (a far end's packets towards the client appear
    there before the firewall decides on them)."""
    seen = {}
    for ts, frame in read_pcap(path):
        p = decode(ts, frame)
        if p is None or p.icmp or p.proto not in (6, 17):
            continue
        if p.src in CLIENT_IPS:
            seen[("tcp" if p.proto == 6 else "udp", p.src, p.sport, p.dst, p.dport)] = True
        elif p.dst in CLIENT_IPS:
            seen.setdefault(("tcp" if p.proto == 6 else "udp", p.dst, p.dport, p.src, p.sport), False)
    return seen


# --- catalog ------------------------------------------------------------------------------------
def address_range(text):
    """A catalog `addresses` item ("52.112.0.0/14", "10.1.0.5-10.1.0.9") as (first, last)."""
    if "-" in text:
        lo, hi = text.split("-", 1)
        return ipaddress.ip_address(lo.strip()), ipaddress.ip_address(hi.strip())
    net = ipaddress.ip_network(text, strict=True)
    return net.network_address, net.broadcast_address


class Entry:
    def __init__(self, vendor, d):
        self.id = d["id"]
        self.vendor = vendor
        self.transport = d["transport"]
        self.ports = [(p, p) if isinstance(p, int) else (p[0], p[1]) for p in d["ports"]]
        # Either list may be absent (catalog schema 2): an entry names its
        # destinations, its address ranges, or both (either satisfies it).
        self.dests = [x.lower().rstrip(".") for x in d.get("destinations", [])]
        self.ranges = [address_range(x) for x in d.get("addresses", [])]
        self.inbound = d.get("direction", "outbound") == "inbound"
        self.third_party = d.get("third_party", False)
        self.any = self.dests == ["any"]

    def matches_addr(self, ip):
        a = ipaddress.ip_address(ip)
        return any(lo.version == a.version and lo <= a <= hi for lo, hi in self.ranges)

    def has_port(self, port):
        return any(lo <= port <= hi for lo, hi in self.ports)

    def matches_host(self, host):
        host = host.lower().rstrip(".")
        for d in self.dests:
            if d == "any":
                continue
            if d.startswith("*."):
                if host.endswith(d[1:]) and len(host) > len(d) - 1:
                    return True
            elif d.startswith("."):
                if host == d[1:] or host.endswith(d):
                    return True
            elif host == d:
                return True
        return False


# The vendor documents the lab is built around (its clients speak to these
# vendors only), as the tests' callwall loads them: the four seed files of
# the bundled catalog. --catalog DIR takes every *.toml of DIR instead.
SEED_FILES = ("agora_2018.toml", "agora_2020.toml", "sendbird_calls.toml", "whereby.toml")


def load_catalog(catdir):
    entries = []
    paths = (sorted(os.path.join(REPO, "catalog", f) for f in SEED_FILES) if catdir is None
             else sorted(glob.glob(os.path.join(catdir, "*.toml"))))
    for path in paths:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        vendor = doc["document"]["vendor"]
        for e in doc.get("entry", []):
            entries.append(Entry(vendor, e))
    return entries


def vendors_for_host(entries, host):
    return {e.vendor for e in entries if not e.third_party and not e.any and e.matches_host(host)}


# --- the truth ------------------------------------------------------------------------------------
def expected_outcome(f, action, cap_end):
    if action == "accept":
        return "observed"
    if action == "reset":
        return "blocked:reset"
    if action.startswith("icmp-"):
        t, c = {("4", "icmp-port-unreachable"): (3, 3), ("4", "icmp-admin-prohibited"): (3, 13),
                ("6", "icmp-port-unreachable"): (1, 4), ("6", "icmp-admin-prohibited"): (1, 1)}[
            ("6" if ":" in f.sip else "4", action)]
        return "blocked:icmp-%d-%d" % (t, c)
    assert action == "drop"
    if f.transport == "tcp":
        if f.syns >= 2 or cap_end - f.first_syn >= NO_ANSWER_WAIT_S:
            return "blocked:no-answer"
        return "inconclusive"
    if f.stun_req:
        if max(f.stun_req.values()) >= 2 or cap_end - f.first >= NO_ANSWER_WAIT_S:
            return "blocked:stun-timeout"
        return "inconclusive"
    if f.c2s >= 2 and cap_end - f.first >= NO_ANSWER_WAIT_S:
        return "blocked:no-answer"
    return "inconclusive"


def self_check(f, action, outcome, cloud, inbound_udp):
    """What the firewall must have done to this flow, checked on both captures.
    inbound_udp: the profile forwards UDP that this flow's far end starts
    towards the client (labplan.inbound_udp_allowed)."""
    errs = []
    on_cloud = cloud.get(f.key(), False)
    if action == "accept":
        if f.transport == "tcp" and not f.synack:
            errs.append("accepted but no SYN-ACK")
        if f.s2c == 0:
            errs.append("accepted but never answered")
        if not on_cloud:
            errs.append("accepted but absent from the cloud side")
        if f.icmp:
            errs.append("accepted but got ICMP type %d code %d from %s" % f.icmp[0])
    else:
        if on_cloud:
            errs.append("%s but seen on the cloud side" % action)
        # Where UDP to the client is forwarded, a far end's own STUN requests
        # arrive (a remote peer's checks); nothing else may.
        arrived = f.s2c - (f.s2c_req if inbound_udp and f.transport == "udp" else 0)
        if action == "drop" and (arrived or f.stun_ok or f.icmp):
            errs.append("dropped but answered (%d packets, %d ICMP)" % (arrived, len(f.icmp)))
        if action == "reset" and not f.rst_from_server:
            errs.append("reset expected, no RST seen")
        if action.startswith("icmp-"):
            want = outcome.split(":")[1]
            got = sorted({"icmp-%d-%d" % (t, c) for t, c, _ in f.icmp})
            if got != [want]:
                errs.append("%s expected, ICMP seen: %s" % (want, got or "none"))
            if f.s2c:
                errs.append("ICMP-rejected but answered")
    return errs


def p2p_targets():
    """The peer-to-peer call's flows besides its media leg (to the remote
    peer, or its relay: labplan.p2p_far_ends): to the STUN server, to the
    signaling server."""
    stun_name, stun_port = labplan.P2P_STUN
    return {(labplan.addr_of(stun_name, "4"), stun_port, "udp"), (labplan.addr_of(labplan.P2P_SIGNAL_NAME, "4"), 443, "tcp")}


def step_label(f, steps, far_ends):
    if f.sport == 53:
        return "dns"
    labels = []
    lports = {s["lport"] for s in steps if "lport" in s}
    for s in steps:
        ip, port, tr = s.get("_target", (None, None, None))
        if s.get("lport", f.cport if f.cport not in lports else None) != f.cport:
            continue  # a step that sends from a fixed local port, or another step's port
        if s["kind"] == "p2p":
            if f.sip in far_ends or (f.sip, f.sport, f.transport) in p2p_targets():
                labels.append(s["id"])
            continue
        if s["kind"] == "chromium":
            if f.sip == labplan.addr_of(s["turn_name"], "4"):
                labels.append(s["id"])
            continue
        if ip == f.sip and tr == f.transport and port is not None and (
                port == f.sport or (s["kind"] == "gst" and f.sport == port + 1)):
            labels.append(s["id"])
    return ",".join(labels) or "?"


def step_targets(steps):
    import urllib.parse
    for s in steps:
        fam = s.get("family", "4")
        if s["kind"] in ("curl",):
            u = urllib.parse.urlsplit(s["url"])
            port = u.port or (443 if u.scheme == "https" else 80)
            s["_target"] = (labplan.addr_of(u.hostname, fam), port, "tcp")
        elif s["kind"] == "openssl":
            s["_target"] = (labplan.addr_of(s["name"], fam), s["port"], "tcp")
        elif s["kind"] in ("stun", "uclient", "gst", "udp"):
            tr = "tcp" if "-t" in s.get("flags", []) else "udp"
            s["_target"] = (labplan.addr_of(s["name"], fam), s["port"], tr)
        elif s["kind"] == "stun_ip":
            s["_target"] = (s["ip"], s["port"], "udp")
    return steps


def derive(profile, d, catdir):
    flows, dns, cap_end = collect(os.path.join(d, "client.pcap"))
    cloud = cloud_view(os.path.join(d, "cloud.pcap"))
    entries = load_catalog(catdir)
    steps = step_targets([dict(s) for s in labplan.STEPS] + [dict(labplan.LATE_STEP)])
    far_ends = labplan.p2p_far_ends(profile)

    through = sorted((f for f in flows.values() if in_cloud(f.sip)), key=lambda f: (f.first, f.key()))
    errors = []
    # The cloud side must show nothing the client side does not.
    client_keys = {f.key() for f in through}
    for k in cloud:
        if k not in client_keys:
            errors.append("%s seen on the cloud side only" % (k,))

    # Names from DNS: per client, (answer time, address, names of the chain).
    dns_names = []
    failed = {}
    resolved = set()
    active = set()
    for ts, cip, qname, rcode, answers in dns:
        active |= vendors_for_host(entries, qname)
        addrs = [v for _n, t, v in answers if t in ("A", "AAAA")]
        if rcode == 0 and addrs:
            resolved.add(qname)
        if rcode is None or rcode not in (0,):
            failed[qname] = failed.get(qname, 0) + 1
        chain = [qname] + [x for n, t, v in answers if t == "CNAME" for x in (n, v)]
        chain = list(dict.fromkeys(c.rstrip(".") for c in chain))
        for a in addrs:
            dns_names.append((ts, cip, a, chain))
    failed = {q: n for q, n in failed.items() if q not in resolved}

    # TURN peer relations learnt on named flows.
    peers = {}

    rows = []
    for f in through:
        names = []
        if f.sni:
            names, source = [f.sni], "sni"
        else:
            for ts, cip, a, chain in dns_names:
                if cip == f.cip and a == f.sip and ts <= f.first:
                    names += [c for c in chain if c not in names]
            source = "dns" if names else ""
        f.names, f.source = names, source
        if names:
            for a in f.peer_addrs:
                peers.setdefault(a, names[0])
    for f in through:
        if not f.names and f.sip in peers:
            f.names, f.source = [peers[f.sip]], "turn-peer"
        for n in f.names:
            active |= vendors_for_host(entries, n)

    for f in through:
        action = labplan.action_for(profile, f.transport, f.sport)
        outcome = expected_outcome(f, action, cap_end)
        for e in self_check(f, action, outcome, cloud, labplan.inbound_udp_allowed(profile, f.sip)):
            errors.append("%s %s:%d > %s:%d (%s): %s" % (f.transport, f.cip, f.cport, f.sip, f.sport,
                                                       step_label(f, steps, far_ends), e))
        evidence = sorted(f.kinds) if f.transport == "udp" else []
        matched = []
        for e in entries:
            if e.transport != f.transport or e.any:
                continue
            port = f.cport if e.inbound else f.sport
            if e.has_port(port) and (any(e.matches_host(n) for n in f.names) or e.matches_addr(f.sip)):
                if e.inbound and f.s2c == 0:
                    continue  # nothing the vendor sent reached the local port
                matched.append(e.id)
        if not matched and evidence:
            # Destination-ANY entries: only for flows no name explains.
            for e in entries:
                if e.any and e.transport == f.transport and e.has_port(f.sport) and e.vendor in active:
                    matched.append(e.id)
        rows.append(dict(f=f, action=action, outcome=outcome, evidence=evidence, entries=matched,
                         step=step_label(f, steps, far_ends), port_for={}))

    # Every client step must have produced its flow: a step that never got
    # its first packet out (a client that failed to start, the late step
    # stopped too early) would silently shrink the test.
    for s in steps:
        if s["kind"] == "chromium":
            want = lambda f, s=s: f.sip == labplan.addr_of(s["turn_name"], "4")
        elif s["kind"] == "p2p":
            want = lambda f: f.sip in far_ends
        elif "_target" in s:
            ip, port, tr = s["_target"]
            want = lambda f, ip=ip, port=port, tr=tr, lp=s.get("lport"): (
                (f.sip, f.sport, f.transport) == (ip, port, tr) and lp in (None, f.cport))
        else:
            continue
        if not any(want(r["f"]) for r in rows):
            errors.append("step %s produced no flow through the firewall" % s["id"])
    # Where the remote peer is relay-only, the run shows what it is for only
    # if the remote's checks arrived from its relay and the client answered
    # them (the answers then die at the firewall, as the self-check says).
    if labplan.PROFILES[profile].get("remote_relay_only") and not any(
            r["f"].sip in far_ends and r["f"].s2c_req and r["f"].c2s_ok for r in rows):
        errors.append("the remote peer's checks never arrived from its relay %s, answered by the client"
                      % ", ".join(sorted(far_ends)))

    # Entry verdicts.
    verdicts = []
    for e in entries:
        obs_ports, blk_ports, reasons = set(), set(), set()
        n_obs = n_blk = n_inc = 0
        for r in rows:
            if e.id not in r["entries"]:
                continue
            port = r["f"].cport if e.inbound else r["f"].sport
            if r["outcome"] == "observed" or e.inbound:
                n_obs += 1
                obs_ports.add(port)
            elif r["outcome"].startswith("blocked:"):
                n_blk += 1
                blk_ports.add(port)
                reasons.add(r["outcome"].split(":", 1)[1])
            else:
                n_inc += 1
        dns_fail = 0 if e.any else sum(n for q, n in failed.items() if e.matches_host(q))
        if dns_fail and not n_obs:
            reasons.add("dns-failure")
        only_blocked = blk_ports - obs_ports
        if n_obs and only_blocked:
            v = "partial"
        elif n_obs:
            v = "observed"
        elif n_blk:
            v = "blocked"
        elif dns_fail:
            v = "blocked"
        elif n_inc:
            v = "inconclusive"
        else:
            v = "not_exercised"
        verdicts.append(dict(entry=e.id, verdict=v, reasons=",".join(sorted(reasons)) or "-", obs=n_obs, blk=n_blk,
                             inc=n_inc, ports_obs=",".join(map(str, sorted(obs_ports))) or "-",
                             ports_blk=",".join(map(str, sorted(blk_ports))) or "-"))
    return rows, verdicts, errors, dict(cap_end=cap_end, dns_failed=failed, active=sorted(active),
                                         flows=len(rows), local_flows=len(flows) - len(rows))


def write(d, profile, rows, verdicts, meta):
    with open(os.path.join(d, "groundtruth.tsv"), "w") as out:
        out.write("# callwall lab ground truth, profile %s: every flow the client started through the firewall.\n"
                  "# action: the firewall's (labplan.py profile table); expected: the outcome callwall must report;\n"
                  "# entries: catalog entries the flow must be counted for. Made by tools/lab/truth.py.\n" % profile)
        cols = ["transport", "client_ip", "client_port", "server_ip", "server_port", "first_ts", "action",
                "expected", "names", "name_source", "evidence", "entries", "step"]
        out.write("\t".join(cols) + "\n")
        for r in rows:
            f = r["f"]
            out.write("\t".join([f.transport, f.cip, str(f.cport), f.sip, str(f.sport), "%.6f" % f.first, r["action"],
                                 r["outcome"], ",".join(f.names) or "-", f.source or "-",
                                 ",".join(r["evidence"]) or "-", ",".join(r["entries"]) or "-", r["step"]]) + "\n")
    with open(os.path.join(d, "expected_verdicts.tsv"), "w") as out:
        out.write("# callwall lab expected verdicts, profile %s: derived from groundtruth.tsv by tools/lab/truth.py.\n"
                  "# Vendors active by name: %s. Failed vendor-relevant lookups: %s.\n"
                  % (profile, ", ".join(meta["active"]) or "none",
                     ", ".join("%s (%d)" % kv for kv in sorted(meta["dns_failed"].items())) or "none"))
        cols = ["entry_id", "verdict", "reasons", "flows_observed", "flows_blocked", "flows_inconclusive",
                "ports_observed", "ports_blocked"]
        out.write("\t".join(cols) + "\n")
        for v in verdicts:
            out.write("\t".join([v["entry"], v["verdict"], v["reasons"], str(v["obs"]), str(v["blk"]), str(v["inc"]),
                                 v["ports_obs"], v["ports_blk"]]) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", required=True, choices=sorted(labplan.PROFILES))
    ap.add_argument("--dir", required=True)
    ap.add_argument("--catalog", default=None,
                    help="every *.toml of DIR (default: the bundled catalog's four seed documents)")
    a = ap.parse_args()
    rows, verdicts, errors, meta = derive(a.profile, a.dir, a.catalog)
    if errors:
        print("truth: LAB ERROR, profile %s: the firewall did not do what the table says:" % a.profile, file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    write(a.dir, a.profile, rows, verdicts, meta)
    by = {}
    for r in rows:
        by[r["outcome"]] = by.get(r["outcome"], 0) + 1
    vby = {}
    for v in verdicts:
        vby[v["verdict"]] = vby.get(v["verdict"], 0) + 1
    print("truth: %s: %d flows through the firewall (%s); entries: %s" % (
        a.profile, len(rows), ", ".join("%s %d" % kv for kv in sorted(by.items())),
        ", ".join("%s %d" % kv for kv in sorted(vby.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
