#!/usr/bin/python3
"""Generate callwall's small, deterministic test captures.

    tools/gen_captures.py [--out captures] [--only NAME ...] [--list]

Every capture is built from scratch with the standard library (struct) by the
small packet-building module in the first half of this file; QUIC Initial
protection uses python3-cryptography (AES-128-GCM / AES-ECB; HKDF is done with
hmac).  Output is byte-identical on every run: fixed timestamps starting at
2026-01-01T00:00:00Z, fixed per-capture seeds, no dict/set ordering effects.
Only private / documentation addresses are used (10/8, 192.0.2/24,
198.51.100/24, 203.0.113/24, 2001:db8::/32).

The packet-building part (everything above "CAPTURES") is also imported by
tools/gen_workload.py.  See captures/README.md for what each capture
exercises and how it was checked with tshark.
"""

import argparse
import hashlib
import hmac
import os
import random
import socket
import struct
import sys
import zlib

T0 = 1767225600          # 2026-01-01T00:00:00Z, seconds
US = 1_000_000           # microseconds per second


def ms(v):
    """milliseconds -> integer microseconds"""
    return int(round(v * 1000))


def sec(v):
    """seconds -> integer microseconds"""
    return int(round(v * US))


# =============================================================================
# Basic encoders
# =============================================================================

def a4(s):
    return socket.inet_pton(socket.AF_INET, s)


def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def addr(s):
    """textual IPv4/IPv6 address -> packed bytes"""
    return a6(s) if ':' in s else a4(s)


def mac(s):
    return bytes.fromhex(s.replace(':', ''))


def u16(v):
    return struct.pack('!H', v)


def u24(v):
    return v.to_bytes(3, 'big')


def u32(v):
    return struct.pack('!I', v)


def vec8(b):
    return bytes([len(b)]) + b


def vec16(b):
    return struct.pack('!H', len(b)) + b


def vec24(b):
    return u24(len(b)) + b


def csum(*parts):
    """Internet checksum (RFC 1071) over the concatenation of parts.

    Uses the identity  sum(16-bit words) == N mod 0xffff  where N is the data
    read as one big-endian integer (65536 == 1 mod 0xffff); fast in CPython
    for any length.  (-N) mod 0xffff is the canonical one's complement of the
    sum: 0x0000 rather than 0xffff when the sum is 0xffff (RFC 1624).  UDP
    maps a computed 0 to 0xffff itself."""
    data = b''.join(parts)
    if len(data) & 1:
        data += b'\0'
    return (-int.from_bytes(data, 'big')) % 0xffff


def pseudo_header(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack('!BBH', 0, proto, length)
    return src + dst + struct.pack('!IxxxB', length, proto)


# =============================================================================
# Layer 3: IPv4 / IPv6
# =============================================================================

PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58
IPV6_HBH, IPV6_ROUTING, IPV6_FRAGMENT, IPV6_DSTOPTS, IPV6_NONXT = 0, 43, 44, 60, 59


def ipv4(src, dst, proto, payload, *, ttl=64, ident=0, df=True, mf=False,
         frag_off=0, tos=0, options=b'', total_len=None):
    """IPv4 header + payload.  src/dst are packed 4-byte addresses.
    frag_off is in bytes (must be a multiple of 8)."""
    if len(options) % 4:
        options += b'\0' * (4 - len(options) % 4)
    ihl = 5 + len(options) // 4
    tl = total_len if total_len is not None else ihl * 4 + len(payload)
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag_off >> 3)
    hdr = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, tos, tl, ident, flags, ttl,
                      proto, 0, src, dst) + options
    c = csum(hdr)
    return hdr[:10] + u16(c) + hdr[12:] + payload


def ip4opt_record_route(slots=9, filled=()):
    """Record Route option (type 7); `filled` are textual addresses already
    recorded."""
    data = b''.join(a4(a) for a in filled) + b'\0' * 4 * (slots - len(filled))
    return bytes([7, 3 + 4 * slots, 4 + 4 * len(filled)]) + data


def ip4opt_router_alert():
    return b'\x94\x04\x00\x00'


def ip6_hbh(options=None):
    """(header type, content) for a Hop-by-Hop header; content excludes the
    next-header / length bytes.  Default: Router Alert (MLD) + PadN."""
    if options is None:
        options = b'\x05\x02\x00\x00' + b'\x01\x00'      # RA(0) + PadN(2)
    return (IPV6_HBH, _pad_ext(options))


def ip6_dstopts(options=None):
    if options is None:
        # experimental option type 0x1e (skip if unknown), 4 data bytes
        options = b'\x1e\x04\xca\x11\xa1\x1a'
    return (IPV6_DSTOPTS, _pad_ext(options))


def ip6_srh(segments):
    """Segment Routing Header (routing type 4) with Segments Left = 0, so the
    IPv6 destination already is the final one (checksums use it).
    `segments` are textual addresses, Segment List[0] = final destination."""
    segs = b''.join(a6(s) for s in segments)
    n = len(segments)
    content = struct.pack('!BBBBH', 4, 0, n - 1, 0, 0) + segs
    return (IPV6_ROUTING, content)


def ip6_frag(offset, more, ident):
    return (IPV6_FRAGMENT, struct.pack('!BxHI', 0, (offset & ~7) | (1 if more else 0), ident)[1:])


def _pad_ext(options):
    """pad TLV options so that 2 + len is a multiple of 8"""
    rem = (2 + len(options)) % 8
    if rem:
        need = 8 - rem
        options += b'\x00' if need == 1 else b'\x01' + bytes([need - 2]) + b'\0' * (need - 2)
    return options


def ipv6(src, dst, nh, payload, *, hlim=64, ext=(), flow=0, tclass=0):
    """IPv6 header + extension headers + payload.  `ext` is a list of
    (type, content) tuples in wire order (see ip6_hbh etc.)."""
    chain = b''
    types = [t for t, _ in ext] + [nh]
    for i, (t, content) in enumerate(ext):
        nxt = types[i + 1]
        if t == IPV6_FRAGMENT:
            chain += bytes([nxt]) + content
        else:
            total = 2 + len(content)
            assert total % 8 == 0, (t, total)
            chain += bytes([nxt, total // 8 - 1]) + content
    first = types[0]
    hdr = struct.pack('!IHBB16s16s', (6 << 28) | (tclass << 20) | flow,
                      len(chain) + len(payload), first, hlim, src, dst)
    return hdr + chain + payload


def ip(src, dst, proto, l4, **kw):
    """src/dst packed; dispatch on address size.  IPv4 keywords: ttl, ident,
    df, tos, options; IPv6 keywords: hlim, ext, flow."""
    if len(src) == 4:
        return ipv4(src, dst, proto, l4, **kw)
    if 'ttl' in kw:
        kw['hlim'] = kw.pop('ttl')
    for k in ('ident', 'df', 'options', 'tos'):
        kw.pop(k, None)
    return ipv6(src, dst, proto, l4, **kw)


# =============================================================================
# Layer 4: TCP / UDP / ICMP
# =============================================================================

TCP_FLAGS = {'F': 0x01, 'S': 0x02, 'R': 0x04, 'P': 0x08, 'A': 0x10, 'U': 0x20,
             'E': 0x40, 'C': 0x80}


def tcp_flags(s):
    v = 0
    for ch in s:
        v |= TCP_FLAGS[ch]
    return v


def tcpopt_syn(mss=1460, tsval=None, tsecr=0, wscale=7):
    o = struct.pack('!BBH', 2, 4, mss) + b'\x04\x02'
    if tsval is not None:
        o += struct.pack('!BBII', 8, 10, tsval, tsecr)
    else:
        o += b'\x01\x01'
    o += b'\x01' + struct.pack('!BBB', 3, 3, wscale)
    return o


def tcpopt_ts(tsval, tsecr):
    return b'\x01\x01' + struct.pack('!BBII', 8, 10, tsval, tsecr)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b'', *, opts=b'',
        win=64240, urg=0):
    """TCP segment with correct checksum (src/dst packed, for the pseudo
    header).  flags: string of F S R P A U E C or int."""
    if isinstance(flags, str):
        flags = tcp_flags(flags)
    if len(opts) % 4:
        opts += b'\0' * (4 - len(opts) % 4)
    off = (5 + len(opts) // 4) << 12
    hdr = struct.pack('!HHIIHHHH', sport, dport, seq & 0xffffffff,
                      ack & 0xffffffff, off | flags, win, 0, urg) + opts
    c = csum(pseudo_header(src, dst, PROTO_TCP, len(hdr) + len(payload)), hdr, payload)
    return hdr[:16] + u16(c) + hdr[18:] + payload


def udp(src, dst, sport, dport, payload, *, checksum=True):
    ln = 8 + len(payload)
    hdr = struct.pack('!HHHH', sport, dport, ln, 0)
    if not checksum:
        return hdr + payload
    c = csum(pseudo_header(src, dst, PROTO_UDP, ln), hdr, payload) or 0xffff
    return hdr[:6] + u16(c) + payload


def icmp4(typ, code, rest, data):
    body = struct.pack('!BBH', typ, code, 0) + rest + data
    return body[:2] + u16(csum(body)) + body[4:]


def icmp6(src, dst, typ, code, rest, data):
    body = struct.pack('!BBH', typ, code, 0) + rest + data
    c = csum(pseudo_header(src, dst, PROTO_ICMPV6, len(body)), body)
    return body[:2] + u16(c) + body[4:]


# convenience: whole IP packets ------------------------------------------------

def ip_udp(src, dst, sport, dport, payload, **kw):
    s, d = addr(src), addr(dst)
    return ip(s, d, PROTO_UDP, udp(s, d, sport, dport, payload), **kw)


def ip_tcp(src, dst, sport, dport, seq, ack, flags, payload=b'', *, opts=b'',
           win=64240, **kw):
    s, d = addr(src), addr(dst)
    return ip(s, d, PROTO_TCP, tcp(s, d, sport, dport, seq, ack, flags, payload,
                                   opts=opts, win=win), **kw)


def ip_icmp_error(router, orig_pkt, typ, code, *, rest=b'\0\0\0\0', quote=None, **kw):
    """ICMP/ICMPv6 error from `router` (text) to the source of orig_pkt (an IP
    packet), quoting `quote` bytes of it (None: as much as fits in 576 /
    1280 bytes, like Linux)."""
    if orig_pkt[0] >> 4 == 4:
        osrc = orig_pkt[12:16]
        q = orig_pkt[:quote] if quote is not None else orig_pkt[:576 - 28]
        return ip(addr(router), osrc, PROTO_ICMP, icmp4(typ, code, rest, q), **kw)
    osrc = orig_pkt[8:24]
    q = orig_pkt[:quote] if quote is not None else orig_pkt[:1280 - 48]
    r = addr(router)
    return ip(r, osrc, PROTO_ICMPV6, icmp6(r, osrc, typ, code, rest, q), **kw)


def fragment_ipv4(src, dst, proto, l4, frag_size, *, ident, ttl=64, options=b''):
    """Split an L4 payload into IPv4 fragments of frag_size bytes (multiple of
    8).  Returns the list of IP packets in offset order."""
    out = []
    for off in range(0, len(l4), frag_size):
        chunk = l4[off:off + frag_size]
        more = off + frag_size < len(l4)
        out.append(ipv4(src, dst, proto, chunk, ttl=ttl, ident=ident, df=False,
                        mf=more, frag_off=off, options=options if off == 0 else b''))
    return out


def fragment_ipv6(src, dst, proto, l4, frag_size, *, ident, hlim=64, unfrag=()):
    out = []
    for off in range(0, len(l4), frag_size):
        chunk = l4[off:off + frag_size]
        more = off + frag_size < len(l4)
        out.append(ipv6(src, dst, proto, chunk, hlim=hlim,
                        ext=list(unfrag) + [ip6_frag(off, more, ident)]))
    return out


# =============================================================================
# Layer 2 / link types and capture file writers
# =============================================================================

DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL = 0, 1, 101, 113
DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL2 = 228, 229, 276

GW_MAC = mac('02:00:5e:00:00:01')


def is_local(packed):
    """Inside (client) addresses: 10/8 and 2001:db8:1::/48."""
    if len(packed) == 4:
        return packed[0] == 10
    return packed[:6] == b'\x20\x01\x0d\xb8\x00\x01'


def host_mac(packed):
    return b'\x02\x00' + packed[-4:]


def ip_endpoints(pkt):
    if pkt[0] >> 4 == 4:
        return pkt[12:16], pkt[16:20], 0x0800
    return pkt[8:24], pkt[24:40], 0x86DD


def macs_for(pkt):
    s, d, et = ip_endpoints(pkt)
    if is_local(s):
        return GW_MAC, host_mac(s), et, True
    return host_mac(d), GW_MAC, et, False


def eth(pkt, vlans=(), pad=True):
    """Ethernet II frame for an IP packet; MACs derived from the addresses
    (inside host <-> gateway).  vlans: list of (tpid, vid) outermost first.
    Frames shorter than 60 bytes are zero-padded like on the wire."""
    dst, src, et, _ = macs_for(pkt)
    tags = b''.join(struct.pack('!HH', tpid, vid) for tpid, vid in vlans)
    f = dst + src + tags + u16(et) + pkt
    if pad and len(f) < 60:
        f += b'\0' * (60 - len(f))
    return f


def sll(pkt):
    _, src, et, outgoing = macs_for(pkt)
    return struct.pack('!HHH', 4 if outgoing else 0, 1, 6) + src + b'\0\0' + u16(et) + pkt


def sll2(pkt):
    _, src, et, outgoing = macs_for(pkt)
    return struct.pack('!HHIHBB', et, 0, 2, 1, 4 if outgoing else 0, 6) + src + b'\0\0' + pkt


def null_hdr(family):
    return struct.pack('<I', family)     # host-endian == the file's (LE) endian


def write_pcap(path, linktype, packets, snaplen=262144):
    """Classic pcap, little-endian, microsecond timestamps.
    packets: iterable of (t_us, frame) with t_us absolute microseconds.
    Frames longer than snaplen are truncated (caplen < len)."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for t, frame in packets:
            cap = frame[:snaplen]
            f.write(struct.pack('<IIII', t // US, t % US, len(cap), len(frame)))
            f.write(cap)


def _pcapng_opts(opts):
    out = b''
    for code, val in opts:
        out += struct.pack('<HH', code, len(val)) + val + b'\0' * (-len(val) % 4)
    if opts:
        out += b'\0\0\0\0'
    return out


def _pcapng_block(btype, body):
    body += b'\0' * (-len(body) % 4)
    ln = 12 + len(body)
    return struct.pack('<II', btype, ln) + body + struct.pack('<I', ln)


def write_pcapng(path, interfaces, packets):
    """pcapng: one SHB, one IDB per interface, EPBs.
    interfaces: list of (linktype, snaplen, tsresol_exponent, name)
    packets: (t_us, iface_index, frame); timestamps are written in the
    interface's resolution (10^-tsresol s)."""
    with open(path, 'wb') as f:
        shb = struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) + _pcapng_opts(
            [(4, b'callwall tools/gen_captures.py')])
        f.write(_pcapng_block(0x0A0D0D0A, shb))
        for lt, snap, res, name in interfaces:
            opts = [(2, name.encode())]
            if res != 6:
                opts.append((9, bytes([res])))
            f.write(_pcapng_block(1, struct.pack('<HHI', lt, 0, snap) + _pcapng_opts(opts)))
        for t, ifi, frame in packets:
            lt, snap, res, _ = interfaces[ifi]
            ts = t * 10 ** res // US
            cap = frame[:snap]
            body = struct.pack('<IIIII', ifi, ts >> 32, ts & 0xffffffff, len(cap), len(frame)) + cap
            f.write(_pcapng_block(6, body))


# =============================================================================
# Capture builder: collects (time, IP packet) and TCP connection helper
# =============================================================================

class Cap:
    """Collects IP packets with capture times (microseconds relative to T0).
    Link framing happens at write time."""

    def __init__(self):
        self.pkts = []
        self._ident = {}

    def ident(self, src):
        v = self._ident.get(src, 0x1000 + (zlib.crc32(addr(src)) & 0x3fff))
        self._ident[src] = (v + 1) & 0xffff
        return v

    def add(self, t, pkt, **meta):
        self.pkts.append((t, pkt, meta))
        return pkt

    def udp(self, t, src, dst, sport, dport, payload, **kw):
        if ':' not in src:
            kw.setdefault('ident', self.ident(src))
        return self.add(t, ip_udp(src, dst, sport, dport, payload, **kw))

    def tcp(self, t, src, dst, sport, dport, seq, ack, flags, payload=b'', **kw):
        if ':' not in src:
            kw.setdefault('ident', self.ident(src))
        return self.add(t, ip_tcp(src, dst, sport, dport, seq, ack, flags, payload, **kw))

    def sorted(self):
        return sorted(self.pkts, key=lambda p: p[0])     # stable

    def frames(self, link=eth, **linkkw):
        return [(T0 * US + t, link(p, **linkkw)) for t, p, _ in self.sorted()]


class TcpConn:
    """Tracks sequence numbers of one TCP connection.  side is 'c' (client,
    the originator) or 's' (server)."""

    def __init__(self, cap, cli, srv, cport, sport, isn_c=None, isn_s=None,
                 ckw=None, skw=None, rng=None, mss=1460):
        rng = rng or random.Random(cport * 65536 + sport)
        self.cap, self.cli, self.srv, self.cport, self.sport = cap, cli, srv, cport, sport
        self.nxt = {'c': isn_c if isn_c is not None else rng.getrandbits(32),
                    's': isn_s if isn_s is not None else rng.getrandbits(32)}
        self.kw = {'c': ckw or {}, 's': skw or {}}
        self.mss = mss
        self.win = {'c': 64240, 's': 65160}

    def pkt(self, side, t, flags, data=b'', *, seq=None, ack=None, opts=b'', win=None):
        if side == 'c':
            src, dst, sp, dp = self.cli, self.srv, self.cport, self.sport
        else:
            src, dst, sp, dp = self.srv, self.cli, self.sport, self.cport
        other = 's' if side == 'c' else 'c'
        if seq is None:
            seq = self.nxt[side]
        if ack is None:
            ack = self.nxt[other] if 'A' in flags else 0
        p = self.cap.tcp(t, src, dst, sp, dp, seq, ack, flags, data, opts=opts,
                         win=(self.win[side] if 'S' in flags else self.win[side] // 128)
                         if win is None else win, **dict(self.kw[side]))
        end = (seq + len(data) + ('S' in flags) + ('F' in flags)) & 0xffffffff
        if (end - self.nxt[side]) & 0xffffffff < 0x80000000:
            self.nxt[side] = end
        return p

    def handshake(self, t, rtt=ms(20), final_ack=True):
        self.pkt('c', t, 'S', opts=tcpopt_syn(self.mss))
        self.pkt('s', t + rtt, 'SA', opts=tcpopt_syn(self.mss))
        if final_ack:
            self.pkt('c', t + rtt + ms(0.1), 'A')
        return t + rtt + ms(0.1)

    def send(self, side, t, data, *, rtt=ms(20), ack=True, seg=None):
        """send data (PSH on the last segment) and, if ack, a pure ACK from
        the peer rtt/2 later.  Returns time after."""
        seg = seg or self.mss
        chunks = [data[i:i + seg] for i in range(0, len(data), seg)] or [b'']
        for i, c in enumerate(chunks):
            self.pkt(side, t + i * 50, 'PA' if i == len(chunks) - 1 else 'A', c)
        t += (len(chunks) - 1) * 50
        if ack:
            t += rtt // 2
            self.pkt('s' if side == 'c' else 'c', t, 'A')
        return t

    def close(self, t, first='c', rtt=ms(20)):
        other = 's' if first == 'c' else 'c'
        self.pkt(first, t, 'FA')
        self.pkt(other, t + rtt // 2, 'FA')
        self.pkt(first, t + rtt, 'A')
        return t + rtt


# =============================================================================
# Application payload builders: DNS, TLS, QUIC, STUN/TURN, RTP/RTCP
# =============================================================================

# ---- DNS ---------------------------------------------------------------------

QT = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'PTR': 12, 'MX': 15, 'TXT': 16,
      'AAAA': 28, 'OPT': 41, 'SVCB': 64, 'HTTPS': 65}


class Name(str):
    """marks a domain name inside RDATA (compressed when possible)"""


class _DnsBuf:
    def __init__(self):
        self.buf = bytearray()
        self.names = {}

    def name(self, n, compress=True):
        labels = [l for l in n.rstrip('.').split('.') if l]
        for i in range(len(labels)):
            suffix = '.'.join(labels[i:]).lower()
            if compress and suffix in self.names:
                self.buf += u16(0xC000 | self.names[suffix])
                return
            if len(self.buf) < 0x3FFF:
                self.names.setdefault(suffix, len(self.buf))
            lab = labels[i].encode()
            self.buf += bytes([len(lab)]) + lab
        self.buf.append(0)


def dns_msg(txid, flags, qd=(), an=(), ns=(), ar=()):
    """Build a DNS message.  qd: [(name, qtype)]; RRs: (name, type, ttl, rdata)
    with rdata a list of bytes / Name items, or (name, 'OPT', ttl, rdata,
    udp_size) for EDNS."""
    b = _DnsBuf()
    b.buf += struct.pack('!HHHHHH', txid, flags, len(qd), len(an), len(ns), len(ar))
    for n, qt in qd:
        b.name(n)
        b.buf += struct.pack('!HH', QT[qt], 1)
    for rr in list(an) + list(ns) + list(ar):
        n, rt, ttl, rdata = rr[:4]
        cls = rr[4] if len(rr) > 4 else 1
        b.name(n)
        b.buf += struct.pack('!HHI', QT[rt], cls, ttl)
        at = len(b.buf)
        b.buf += b'\0\0'
        for item in (rdata if isinstance(rdata, list) else [rdata]):
            if isinstance(item, Name):
                b.name(item)
            else:
                b.buf += item
        b.buf[at:at + 2] = u16(len(b.buf) - at - 2)
    return bytes(b.buf)


def dns_query(txid, name, qtype='A', edns=True):
    ar = [('', 'OPT', 0, b'', 1232)] if edns else []
    return dns_msg(txid, 0x0100, [(name, qtype)], ar=ar)


def dns_https_rdata(priority, target, alpn=(), ipv4=(), ipv6=(), port=None):
    """RFC 9460 SVCB/HTTPS RDATA (target name never compressed)."""
    tgt = b''.join(vec8(l.encode()) for l in target.rstrip('.').split('.') if l) + b'\0'
    params = b''
    if alpn:
        v = b''.join(vec8(a.encode()) for a in alpn)
        params += struct.pack('!HH', 1, len(v)) + v
    if port is not None:
        params += struct.pack('!HHH', 3, 2, port)
    if ipv4:
        v = b''.join(a4(a) for a in ipv4)
        params += struct.pack('!HH', 4, len(v)) + v
    if ipv6:
        v = b''.join(a6(a) for a in ipv6)
        params += struct.pack('!HH', 6, len(v)) + v
    return u16(priority) + tgt + params


def dns_soa(mname, rname, serial=2026010101):
    return [Name(mname), Name(rname), struct.pack('!IIIII', serial, 7200, 3600, 1209600, 300)]


# ---- TLS ---------------------------------------------------------------------

GREASE = [0x0A0A + 0x1010 * i for i in range(16)]


def tls_ext(t, data):
    return struct.pack('!HH', t, len(data)) + data


def tls_client_hello(rng, sni, *, alpn=('h2', 'http/1.1'), pq=True, quic_tp=None,
                     tls12=True, session_id=True, pad_to=None):
    """A Chrome-like ClientHello handshake message (type 1, with its 4-byte
    header).  pq: add a 1216-byte X25519MLKEM768 (0x11ec) key share (makes
    the message ~1.8 KB).  quic_tp: QUIC transport parameters (ext 0x39).
    pad_to: add a padding extension so that the handshake message has
    exactly this length."""
    g = rng.sample(GREASE, 5)
    rnd = rng.randbytes(32)
    sid = rng.randbytes(32) if session_id else b''
    suites = [g[0], 0x1301, 0x1302, 0x1303]
    if tls12:
        suites += [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
                   0x009C, 0x009D, 0x002F, 0x0035]
    exts = [tls_ext(g[1], b'')]
    exts.append(tls_ext(0, vec16(b'\x00' + vec16(sni.encode()))))
    exts.append(tls_ext(23, b''))
    exts.append(tls_ext(0xFF01, b'\x00'))
    groups = [g[2]] + ([0x11EC] if pq else []) + [0x001D, 0x0017, 0x0018]
    exts.append(tls_ext(10, vec16(b''.join(u16(x) for x in groups))))
    if tls12:
        exts.append(tls_ext(11, b'\x01\x00'))
        exts.append(tls_ext(35, b''))
    exts.append(tls_ext(16, vec16(b''.join(vec8(a.encode()) for a in alpn))))
    exts.append(tls_ext(5, b'\x01\x00\x00\x00\x00'))
    sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    exts.append(tls_ext(13, vec16(b''.join(u16(x) for x in sigalgs))))
    exts.append(tls_ext(18, b''))
    shares = struct.pack('!HH', g[2], 1) + b'\x00'
    if pq:
        shares += struct.pack('!HH', 0x11EC, 1216) + rng.randbytes(1216)
    shares += struct.pack('!HH', 0x001D, 32) + rng.randbytes(32)
    exts.append(tls_ext(51, vec16(shares)))
    exts.append(tls_ext(45, b'\x01\x01'))
    vers = [g[3], 0x0304] + ([0x0303] if tls12 else [])
    exts.append(tls_ext(43, vec8(b''.join(u16(x) for x in vers))))
    exts.append(tls_ext(27, b'\x02\x00\x02'))
    exts.append(tls_ext(17513, vec16(vec8(alpn[0].encode()))))
    if quic_tp is not None:
        exts.append(tls_ext(0x39, quic_tp))
    last = tls_ext(g[4], b'\x00')

    def body(extra=b''):
        e = b''.join(exts) + extra + last
        return (u16(0x0303) + rnd + vec8(sid) + vec16(b''.join(u16(s) for s in suites))
                + b'\x01\x00' + vec16(e))
    b = body()
    if pad_to is not None:
        need = pad_to - 4 - len(b) - 4
        assert need >= 0, (pad_to, len(b))
        b = body(tls_ext(21, b'\0' * need))
    return b'\x01' + vec24(b)


def tls_server_hello(rng, session_id=b'', cipher=0x1301, tls13=True):
    exts = b''
    if tls13:
        exts = tls_ext(43, u16(0x0304)) + tls_ext(51, struct.pack('!HH', 0x001D, 32) + rng.randbytes(32))
    else:
        exts = tls_ext(0xFF01, b'\x00') + tls_ext(23, b'')
    b = u16(0x0303) + rng.randbytes(32) + vec8(session_id) + u16(cipher) + b'\x00' + vec16(exts)
    return b'\x02' + vec24(b)


def tls_record(ctype, payload, version=0x0303):
    return bytes([ctype]) + u16(version) + vec16(payload)


def tls_alert(level, desc):
    return tls_record(21, bytes([level, desc]))


def client_hello_session_id(hs):
    """session id of a ClientHello handshake message"""
    n = hs[4 + 2 + 32]
    return hs[4 + 2 + 32 + 1:4 + 2 + 32 + 1 + n]


# ---- QUIC (RFC 9000 / 9001 / 9369) -------------------------------------------

QUIC_V1 = 0x00000001
QUIC_V2 = 0x6B3343CF
QUIC_SALT = {QUIC_V1: bytes.fromhex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a'),
             QUIC_V2: bytes.fromhex('0dede3def700a6db819381be6e269dcbf9bd2ed9')}
QUIC_LABEL = {QUIC_V1: b'quic', QUIC_V2: b'quicv2'}
QUIC_INITIAL_TYPE = {QUIC_V1: 0, QUIC_V2: 1}


def varint(v):
    if v < 0x40:
        return bytes([v])
    if v < 0x4000:
        return u16(0x4000 | v)
    if v < 0x40000000:
        return u32(0x80000000 | v)
    return struct.pack('!Q', 0xC000000000000000 | v)


def hkdf_extract(salt, ikm):
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand_label(secret, label, length, context=b''):
    full = b'tls13 ' + label
    info = u16(length) + vec8(full) + vec8(context)
    out, t, i = b'', b'', 1
    while len(out) < length:
        t = hmac.new(secret, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def quic_initial_keys(version, odcid, is_client):
    secret = hkdf_extract(QUIC_SALT[version], odcid)
    s = hkdf_expand_label(secret, b'client in' if is_client else b'server in', 32)
    lab = QUIC_LABEL[version]
    return (hkdf_expand_label(s, lab + b' key', 16), hkdf_expand_label(s, lab + b' iv', 12),
            hkdf_expand_label(s, lab + b' hp', 16))


def quic_transport_params(scid, rng):
    params = [(0x01, varint(30000)), (0x03, varint(1472)), (0x04, varint(15728640)),
              (0x05, varint(6291456)), (0x06, varint(6291456)), (0x07, varint(6291456)),
              (0x08, varint(100)), (0x09, varint(103)), (0x0F, scid)]
    return b''.join(varint(k) + varint(len(v)) + v for k, v in params)


def quic_crypto_frame(offset, data):
    return b'\x06' + varint(offset) + varint(len(data)) + data


def quic_ack_frame(largest, first_range=0, delay=0):
    return b'\x02' + varint(largest) + varint(delay) + varint(0) + varint(first_range)


def quic_long_packet(version, ptype_bits, dcid, scid, pn, frames, key_dcid, is_client,
                     token=b'', pn_len=2, pad_to=None):
    """Protected long-header packet (Initial when token is given/any).
    key_dcid: the client's original destination connection id (Initial key
    derivation).  pad_to: pad the packet (with PADDING frames) to exactly
    this many bytes."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    key, iv, hp = quic_initial_keys(version, key_dcid, is_client)
    first = 0xC0 | (ptype_bits << 4) | (pn_len - 1)
    head = (bytes([first]) + u32(version) + vec8(dcid) + vec8(scid) + varint(len(token)) + token)
    payload = frames
    if pad_to is not None:
        overhead = len(head) + 2 + pn_len + 16
        assert overhead + len(payload) <= pad_to, (overhead, len(payload), pad_to)
        payload += b'\0' * (pad_to - overhead - len(payload))
    if pn_len + len(payload) < 20:               # enough bytes for the HP sample
        payload += b'\0' * (20 - pn_len - len(payload))
    length = pn_len + len(payload) + 16
    hdr = head + u16(0x4000 | length) + pn.to_bytes(pn_len, 'big')
    nonce = bytes(a ^ b for a, b in zip(iv, pn.to_bytes(12, 'big')))
    ct = AESGCM(key).encrypt(nonce, payload, hdr)
    pn_off = len(head) + 2
    sample = ct[4 - pn_len:4 - pn_len + 16]
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    out = bytearray(hdr + ct)
    out[0] ^= mask[0] & 0x0F
    for i in range(pn_len):
        out[pn_off + i] ^= mask[1 + i]
    return bytes(out)


def quic_initial(version, dcid, scid, pn, frames, key_dcid, is_client, pad_to=None, pn_len=2):
    return quic_long_packet(version, QUIC_INITIAL_TYPE[version], dcid, scid, pn, frames,
                            key_dcid, is_client, pn_len=pn_len, pad_to=pad_to)


def quic_short_packet(dcid, rng, size):
    """1-RTT packet look-alike (cannot be decrypted: random protected bytes)."""
    return bytes([0x40 | (rng.getrandbits(8) & 0x3F)]) + dcid + rng.randbytes(size - 1 - len(dcid))


# ---- STUN / TURN -------------------------------------------------------------

MAGIC = 0x2112A442
STUN = {'BindingRequest': 0x0001, 'BindingSuccess': 0x0101, 'BindingError': 0x0111,
        'AllocateRequest': 0x0003, 'AllocateSuccess': 0x0103, 'AllocateError': 0x0113,
        'RefreshRequest': 0x0004, 'RefreshSuccess': 0x0104,
        'SendIndication': 0x0016, 'DataIndication': 0x0017,
        'CreatePermissionRequest': 0x0008, 'CreatePermissionSuccess': 0x0108,
        'ChannelBindRequest': 0x0009, 'ChannelBindSuccess': 0x0109}
ATTR = {'MAPPED-ADDRESS': 0x0001, 'USERNAME': 0x0006, 'MESSAGE-INTEGRITY': 0x0008,
        'ERROR-CODE': 0x0009, 'CHANNEL-NUMBER': 0x000C, 'LIFETIME': 0x000D,
        'XOR-PEER-ADDRESS': 0x0012, 'DATA': 0x0013, 'REALM': 0x0014, 'NONCE': 0x0015,
        'XOR-RELAYED-ADDRESS': 0x0016, 'REQUESTED-TRANSPORT': 0x0019,
        'DONT-FRAGMENT': 0x001A, 'XOR-MAPPED-ADDRESS': 0x0020, 'PRIORITY': 0x0024,
        'USE-CANDIDATE': 0x0025, 'SOFTWARE': 0x8022, 'FINGERPRINT': 0x8028,
        'ICE-CONTROLLED': 0x8029, 'ICE-CONTROLLING': 0x802A,
        'SOURCE-ADDRESS': 0x0004, 'CHANGED-ADDRESS': 0x0005}


def stun_attr(t, v):
    if isinstance(t, str):
        t = ATTR[t]
    return struct.pack('!HH', t, len(v)) + v + b'\0' * (-len(v) % 4)


def stun_xor_addr(ip_text, port, tid):
    a = addr(ip_text)
    xport = port ^ (MAGIC >> 16)
    if len(a) == 4:
        return struct.pack('!BBH', 0, 1, xport) + bytes(x ^ y for x, y in zip(a, u32(MAGIC)))
    key = u32(MAGIC) + tid
    return struct.pack('!BBH', 0, 2, xport) + bytes(x ^ y for x, y in zip(a, key))


def stun_plain_addr(ip_text, port):
    a = addr(ip_text)
    return struct.pack('!BBH', 0, 1 if len(a) == 4 else 2, port) + a


def stun_error_code(code, reason):
    return struct.pack('!HBB', 0, code // 100, code % 100) + reason.encode()


def stun_msg(mtype, tid, attrs, *, key=None, fingerprint=True):
    """STUN message (RFC 8489).  attrs: list of (name|type, value bytes).
    key: MESSAGE-INTEGRITY key (long-term: md5(user:realm:pass), short-term:
    password)."""
    if isinstance(mtype, str):
        mtype = STUN[mtype]
    body = b''.join(stun_attr(t, v) for t, v in attrs)
    if key is not None:
        hdr = struct.pack('!HHI', mtype, len(body) + 24, MAGIC) + tid
        body += stun_attr('MESSAGE-INTEGRITY', hmac.new(key, hdr + body, hashlib.sha1).digest())
    if fingerprint:
        hdr = struct.pack('!HHI', mtype, len(body) + 8, MAGIC) + tid
        body += stun_attr('FINGERPRINT', u32((zlib.crc32(hdr + body) ^ 0x5354554E) & 0xffffffff))
    return struct.pack('!HHI', mtype, len(body), MAGIC) + tid + body


def stun_msg_3489(mtype, tid16, attrs):
    """classic RFC 3489 message: 16-byte transaction id, no magic cookie"""
    body = b''.join(stun_attr(t, v) for t, v in attrs)
    return struct.pack('!HH', mtype, len(body)) + tid16 + body


def turn_long_term_key(user, realm, password):
    return hashlib.md5(f'{user}:{realm}:{password}'.encode()).digest()


def channel_data(channel, data, pad=False):
    out = struct.pack('!HH', channel, len(data)) + data
    if pad:
        out += b'\0' * (-len(data) % 4)
    return out


# ---- RTP / RTCP --------------------------------------------------------------

def rtp(pt, seq, ts, ssrc, payload, marker=False):
    return struct.pack('!BBHII', 0x80, (0x80 if marker else 0) | pt, seq & 0xffff,
                       ts & 0xffffffff, ssrc) + payload


NTP_OFFSET = 2208988800


def ntp64(t_us_abs):
    s, frac = divmod(t_us_abs, US)
    return ((s + NTP_OFFSET) << 32) | (frac * (1 << 32) // US)


def rtcp_report_block(ssrc, frac_lost, cum_lost, ext_seq, jitter, lsr, dlsr):
    return struct.pack('!IIIIII', ssrc, (frac_lost << 24) | (cum_lost & 0xFFFFFF), ext_seq,
                       jitter, lsr, dlsr)


def rtcp_sr(ssrc, t_us_abs, rtp_ts, pkts, octets, blocks=()):
    n = ntp64(t_us_abs)
    body = struct.pack('!IIIIII', ssrc, n >> 32, n & 0xffffffff, rtp_ts, pkts, octets) + b''.join(blocks)
    return struct.pack('!BBH', 0x80 | len(blocks), 200, (4 + len(body)) // 4 - 1) + body


def rtcp_rr(ssrc, blocks=()):
    body = u32(ssrc) + b''.join(blocks)
    return struct.pack('!BBH', 0x80 | len(blocks), 201, (4 + len(body)) // 4 - 1) + body


def rtcp_sdes_cname(ssrc, cname):
    chunk = u32(ssrc) + bytes([1, len(cname)]) + cname.encode() + b'\0'
    chunk += b'\0' * (-len(chunk) % 4)
    return struct.pack('!BBH', 0x81, 202, (4 + len(chunk)) // 4 - 1) + chunk


def rtp_jitter_a8(arrivals_units, timestamps):
    """RFC 3550 A.8 interarrival jitter (floating point form), inputs in RTP
    timestamp units.  Returns the list of jitter values after each packet."""
    out, jitter, prev = [], 0.0, None
    for r, s in zip(arrivals_units, timestamps):
        transit = r - s
        if prev is not None:
            d = abs(transit - prev)
            jitter += (d - jitter) / 16.0
        prev = transit
        out.append(jitter)
    return out


# =============================================================================
# CAPTURES
# =============================================================================
#
# Address plan (all documentation / private):
#   inside hosts   10.1.0.0/24, 2001:db8:1::/64   (client MACs 02:00:<ipv4>)
#   resolver       192.0.2.53, 2001:db8:2::53
#   servers        192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8:2::/64
#   routers        10.1.0.1 (LAN gw), 198.51.100.1 / .2 (upstream), 2001:db8:ff::1

CLIENT = '10.1.0.10'
CLIENT6 = '2001:db8:1::10'
RESOLVER = '192.0.2.53'
RESOLVER6 = '2001:db8:2::53'

CAPTURES = {}          # name -> function(outdir, rng) ; registration order kept


def capture(name, seed=None):
    def deco(fn):
        CAPTURES[name] = (fn, seed if seed is not None else zlib.crc32(name.encode()))
        return fn
    return deco


# ---- 1. link layers -----------------------------------------------------------

def small_exchange(v6=False, t=0):
    """The exchange shared by all link_* captures: one DNS request/response
    over UDP and one complete HTTP/1.1 TCP connection (handshake, request,
    response, FIN/FIN close)."""
    cap = Cap()
    rng = random.Random(6 if v6 else 4)
    if v6:
        cli, dns, srv, qt, ans = CLIENT6, RESOLVER6, '2001:db8:2::10', 'AAAA', a6('2001:db8:2::10')
    else:
        cli, dns, srv, qt, ans = CLIENT, RESOLVER, '192.0.2.10', 'A', a4('192.0.2.10')
    txid = rng.getrandbits(16)
    name = 'www.example.com'
    cap.udp(t, cli, dns, 53001, 53, dns_query(txid, name, qt))
    cap.udp(t + ms(12), dns, cli, 53, 53001,
            dns_msg(txid, 0x8180, [(name, qt)], [(name, qt, 300, ans)]))
    c = TcpConn(cap, cli, srv, 49200, 80, rng=rng)
    t2 = c.handshake(t + ms(20))
    req = (b'GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: callwall-test\r\n'
           b'Accept: */*\r\n\r\n')
    t2 = c.send('c', t2 + ms(1), req)
    body = b'<html><body>callwall link test</body></html>\n'
    resp = (b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: '
            + str(len(body)).encode() + b'\r\nConnection: close\r\n\r\n' + body)
    t2 = c.send('s', t2 + ms(5), resp)
    c.close(t2 + ms(2), first='s')
    return cap


def _ipv(pkt):
    return pkt[0] >> 4


@capture('link_ethernet.pcap')
def cap_link_ethernet(out, rng):
    write_pcap(os.path.join(out, 'link_ethernet.pcap'), DLT_EN10MB, small_exchange().frames(eth))


@capture('link_vlan.pcap')
def cap_link_vlan(out, rng):
    write_pcap(os.path.join(out, 'link_vlan.pcap'), DLT_EN10MB,
               small_exchange().frames(eth, vlans=[(0x8100, 100)]))


@capture('link_qinq.pcap')
def cap_link_qinq(out, rng):
    write_pcap(os.path.join(out, 'link_qinq.pcap'), DLT_EN10MB,
               small_exchange().frames(eth, vlans=[(0x88A8, 200), (0x8100, 100)]))


@capture('link_sll.pcap')
def cap_link_sll(out, rng):
    write_pcap(os.path.join(out, 'link_sll.pcap'), DLT_LINUX_SLL, small_exchange().frames(sll))


@capture('link_sll2.pcap')
def cap_link_sll2(out, rng):
    write_pcap(os.path.join(out, 'link_sll2.pcap'), DLT_LINUX_SLL2, small_exchange().frames(sll2))


def _both_exchanges():
    c4 = small_exchange()
    c6 = small_exchange(v6=True, t=sec(1))
    return sorted(c4.pkts + c6.pkts, key=lambda p: p[0])


@capture('link_raw.pcap')
def cap_link_raw(out, rng):
    write_pcap(os.path.join(out, 'link_raw.pcap'), DLT_RAW,
               [(T0 * US + t, p) for t, p, _ in _both_exchanges()])


@capture('link_null.pcap')
def cap_link_null(out, rng):
    """BSD loopback: family 2 for IPv4; IPv6 uses 24 (NetBSD/OpenBSD) for the
    DNS exchange, 30 (Darwin) for the TCP connection and 28 (FreeBSD) for an
    extra IPv6 UDP request/response on port 49500->49501."""
    frames = []
    extra = Cap()
    extra.udp(sec(2), CLIENT6, '2001:db8:2::10', 49500, 49501, b'ping-fam28')
    extra.udp(sec(2) + ms(1), '2001:db8:2::10', CLIENT6, 49501, 49500, b'pong-fam28')
    pk = _both_exchanges() + [(t, p, {'fam': 28}) for t, p, _ in extra.pkts]
    for t, p, meta in pk:
        if _ipv(p) == 4:
            fam = 2
        elif 'fam' in meta:
            fam = meta['fam']
        else:
            fam = 24 if p[6] == PROTO_UDP else 30
        frames.append((T0 * US + t, null_hdr(fam) + p))
    write_pcap(os.path.join(out, 'link_null.pcap'), DLT_NULL, frames)


@capture('link_ipv4.pcap')
def cap_link_ipv4(out, rng):
    write_pcap(os.path.join(out, 'link_ipv4.pcap'), DLT_IPV4,
               small_exchange().frames(lambda p: p))


@capture('link_ipv6.pcap')
def cap_link_ipv6(out, rng):
    write_pcap(os.path.join(out, 'link_ipv6.pcap'), DLT_IPV6,
               small_exchange(v6=True).frames(lambda p: p))


@capture('link_pcapng.pcapng')
def cap_link_pcapng(out, rng):
    """pcapng with two interfaces: 0 = Ethernet, microseconds (IPv4
    exchange); 1 = raw IP, nanosecond if_tsresol (IPv6 exchange)."""
    ifaces = [(DLT_EN10MB, 262144, 6, 'eth0'), (DLT_RAW, 65535, 9, 'tun0')]
    pk = []
    for t, p, _ in _both_exchanges():
        if _ipv(p) == 4:
            pk.append((T0 * US + t, 0, eth(p)))
        else:
            pk.append((T0 * US + t, 1, p))
    write_pcapng(os.path.join(out, 'link_pcapng.pcapng'), ifaces, pk)


# ---- 2. IPv4 options and fragments -------------------------------------------

def big_txt_response(txid, name, size, rng):
    strings = []
    total = 0
    while total < size:
        s = ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(200)).encode()
        strings.append(vec8(s))
        total += len(s) + 1
    rrs = [(name, 'TXT', 60, s) for s in strings]
    return dns_msg(txid, 0x8180, [(name, 'TXT')], rrs, ar=[('', 'OPT', 0, b'', 1232)])


@capture('ipv4_options_frag.pcap')
def cap_ipv4_options_frag(out, rng):
    """IPv4 options (Record Route on a DNS query/response, Router Alert on all
    client packets of a TCP connection) and two fragmented UDP DNS responses
    (3 fragments each): one in order, one delivered 3,1,2."""
    cap = Cap()
    # DNS with Record Route (request: empty RR slots; response: 2 recorded)
    txid = rng.getrandbits(16)
    cap.udp(0, CLIENT, RESOLVER, 40001, 53, dns_query(txid, 'whereby.com'),
            options=ip4opt_record_route(9), df=False)
    cap.udp(ms(15), RESOLVER, CLIENT, 53, 40001,
            dns_msg(txid, 0x8180, [('whereby.com', 'A')], [('whereby.com', 'A', 300, a4('198.51.100.60'))]),
            options=ip4opt_record_route(9, ['198.51.100.1', '10.1.0.1']), df=False)
    # TCP with router alert on every client packet
    c = TcpConn(cap, CLIENT, '198.51.100.60', 40002, 443, rng=rng,
                ckw={'options': ip4opt_router_alert()})
    t = c.handshake(ms(30))
    t = c.send('c', t + ms(1), tls_record(22, tls_client_hello(rng, 'whereby.com', pq=False), 0x0301))
    t = c.send('s', t + ms(1), tls_alert(2, 40))
    c.close(t + ms(1))
    # fragmented DNS response, in order
    for k, (name, port, order, t) in enumerate([
            ('txt1.whereby.com', 40003, (0, 1, 2), ms(200)),
            ('txt2.whereby.com', 40004, (2, 0, 1), ms(400))]):
        txid = rng.getrandbits(16)
        cap.udp(t, CLIENT, RESOLVER, port, 53, dns_query(txid, name, 'TXT'))
        resp = big_txt_response(txid, name, 2900, rng)
        s, d = a4(RESOLVER), a4(CLIENT)
        l4 = udp(s, d, 53, port, resp)
        assert 2 * 1480 < len(l4) <= 3 * 1480, len(l4)
        frags = fragment_ipv4(s, d, PROTO_UDP, l4, 1480, ident=0x4A00 + k, ttl=58)
        for i, idx in enumerate(order):
            cap.add(t + ms(20) + i * 30, frags[idx])
    # a later packet on the same UDP flow after the fragments
    cap.udp(ms(600), CLIENT, RESOLVER, 40004, 53, dns_query(0x7777, 'txt2.whereby.com', 'A'))
    cap.udp(ms(612), RESOLVER, CLIENT, 53, 40004,
            dns_msg(0x7777, 0x8180, [('txt2.whereby.com', 'A')], [('txt2.whereby.com', 'A', 60, a4('198.51.100.62'))]))
    write_pcap(os.path.join(out, 'ipv4_options_frag.pcap'), DLT_EN10MB, cap.frames())


# ---- 3. IPv6 extension headers -------------------------------------------------

@capture('ipv6_ext_headers.pcap')
def cap_ipv6_ext_headers(out, rng):
    """UDP (DNS) behind HBH + DestOpts + Routing(SRH, segments left 0); TCP
    connection whose client packets carry HBH + Routing + DestOpts; a
    fragmented UDP datagram (3 fragments, in order) and one with HBH in the
    unfragmentable part delivered 2,1."""
    cap = Cap()
    srv = '2001:db8:2::60'
    txid = rng.getrandbits(16)
    ext_udp = [ip6_hbh(), ip6_dstopts(), ip6_srh([RESOLVER6, '2001:db8:ff::1'])]
    cap.udp(0, CLIENT6, RESOLVER6, 40101, 53, dns_query(txid, 'whereby.com', 'AAAA'), ext=ext_udp)
    cap.udp(ms(14), RESOLVER6, CLIENT6, 53, 40101,
            dns_msg(txid, 0x8180, [('whereby.com', 'AAAA')], [('whereby.com', 'AAAA', 300, a6(srv))]))
    ext_tcp = [ip6_hbh(), ip6_srh([srv, '2001:db8:ff::1']), ip6_dstopts()]
    c = TcpConn(cap, CLIENT6, srv, 40102, 443, rng=rng, ckw={'ext': ext_tcp})
    t = c.handshake(ms(30))
    ch = tls_client_hello(rng, 'whereby.com', pq=False)
    t = c.send('c', t + ms(1), tls_record(22, ch, 0x0301))
    t = c.send('s', t + ms(1), _tls_server_flight(rng, ch))
    c.close(t + ms(1))
    # fragmented UDP datagrams (DNS TXT responses)
    for k, (name, port, order, unfrag, t) in enumerate([
            ('txt1.whereby.com', 40103, (0, 1, 2), (), ms(300)),
            ('txt2.whereby.com', 40104, (1, 0), (ip6_hbh(),), ms(500))]):
        txid = rng.getrandbits(16)
        cap.udp(t, CLIENT6, RESOLVER6, port, 53, dns_query(txid, name, 'TXT'))
        resp = big_txt_response(txid, name, 2000 if len(order) == 3 else 1500, rng)
        s, d = a6(RESOLVER6), a6(CLIENT6)
        l4 = udp(s, d, 53, port, resp)
        frags = fragment_ipv6(s, d, PROTO_UDP, l4, 1232 if len(order) == 2 else 1000,
                              ident=0x6A000000 + k, hlim=58, unfrag=unfrag)
        assert len(frags) == len(order), (len(frags), len(l4))
        for i, idx in enumerate(order):
            cap.add(t + ms(20) + i * 30, frags[idx])
    write_pcap(os.path.join(out, 'ipv6_ext_headers.pcap'), DLT_EN10MB, cap.frames())


# ---- 4. TCP connection states -------------------------------------------------

TCP_STATES_PORTS = {
    'SF': 41001, 'S0': 41002, 'REJ': 41003, 'RSTO': 41004, 'RSTR': 41005,
    'S1': 41006, 'OTH': 41007, 'SYNACK_NO_ACK': 41008, 'SH': 41009, 'S2': 41010,
    'S3': 41011, 'RSTOS0': 41012, 'LATE_SYN': 41013,
}


@capture('tcp_states.pcap')
def cap_tcp_states(out, rng):
    """One TCP connection per state, client 10.1.0.10:<port> -> server
    192.0.2.20:443 (S0 goes to 192.0.2.21, REJ to 192.0.2.22).  See
    TCP_STATES_PORTS / README."""
    cap = Cap()
    srv = '192.0.2.20'
    P = TCP_STATES_PORTS
    data_c = b'\x16\x03\x01\x00\x40' + bytes(64)
    data_s = b'\x17\x03\x03\x00\x80' + bytes(128)
    # SF: handshake, data both ways, FIN/FIN
    c = TcpConn(cap, CLIENT, srv, P['SF'], 443, rng=rng)
    t = c.handshake(0)
    t = c.send('c', t + ms(1), data_c)
    t = c.send('s', t + ms(1), data_s)
    c.close(t + ms(5))
    # S0: SYN + retransmissions at +1, +3, +7 s, never answered
    c = TcpConn(cap, CLIENT, '192.0.2.21', P['S0'], 443, rng=rng)
    for dt in (0, 1, 3, 7):
        c.pkt('c', sec(0.5 + dt), 'S', seq=c.nxt['c'] if dt == 0 else c.nxt['c'] - 1,
              opts=tcpopt_syn())
    # REJ: SYN answered by RST/ACK
    c = TcpConn(cap, CLIENT, '192.0.2.22', P['REJ'], 443, rng=rng)
    c.pkt('c', sec(1), 'S', opts=tcpopt_syn())
    c.pkt('s', sec(1) + ms(20), 'RA', seq=0)
    # RSTO: established, client resets
    c = TcpConn(cap, CLIENT, srv, P['RSTO'], 443, rng=rng)
    t = c.handshake(sec(1.5))
    t = c.send('c', t + ms(1), data_c)
    t = c.send('s', t + ms(1), data_s)
    c.pkt('c', t + ms(10), 'RA')
    # RSTR: established, server resets
    c = TcpConn(cap, CLIENT, srv, P['RSTR'], 443, rng=rng)
    t = c.handshake(sec(2))
    t = c.send('c', t + ms(1), data_c)
    c.pkt('s', t + ms(10), 'RA')
    # S1: established, data, never closed (stays open to the end)
    s1 = TcpConn(cap, CLIENT, srv, P['S1'], 443, rng=rng)
    t = s1.handshake(sec(2.5))
    t = s1.send('c', t + ms(1), data_c)
    t = s1.send('s', t + ms(1), data_s)
    # OTH: mid-stream, only data packets (no SYN seen)
    c = TcpConn(cap, CLIENT, srv, P['OTH'], 443, rng=rng)
    t = sec(3)
    for i in range(3):
        c.pkt('s', t, 'PA', data_s)
        c.pkt('c', t + ms(10), 'A')
        t += ms(100)
    # SYN, SYN-ACK, no final ACK (handshake never completes, nothing else)
    c = TcpConn(cap, CLIENT, srv, P['SYNACK_NO_ACK'], 443, rng=rng)
    c.handshake(sec(3.5), final_ack=False)
    # SH: SYN then FIN from the originator, never a SYN-ACK
    c = TcpConn(cap, CLIENT, '192.0.2.21', P['SH'], 443, rng=rng)
    c.pkt('c', sec(4), 'S', opts=tcpopt_syn())
    c.pkt('c', sec(4) + ms(200), 'F', ack=0)
    # S2: established, originator FIN, responder never closes
    c = TcpConn(cap, CLIENT, srv, P['S2'], 443, rng=rng)
    t = c.handshake(sec(4.5))
    t = c.send('c', t + ms(1), data_c)
    c.pkt('c', t + ms(5), 'FA')
    c.pkt('s', t + ms(15), 'A')
    # S3: established, responder FIN, originator never closes
    c = TcpConn(cap, CLIENT, srv, P['S3'], 443, rng=rng)
    t = c.handshake(sec(5))
    t = c.send('s', t + ms(1), data_s)
    c.pkt('s', t + ms(5), 'FA')
    c.pkt('c', t + ms(15), 'A')
    # RSTOS0: SYN, then RST from the originator, no reply
    c = TcpConn(cap, CLIENT, '192.0.2.21', P['RSTOS0'], 443, rng=rng)
    c.pkt('c', sec(5.5), 'S', opts=tcpopt_syn())
    c.pkt('c', sec(6.5), 'R', ack=0)
    # last SYN: 50 ms before the end of the capture
    t_end = sec(9)
    c = TcpConn(cap, CLIENT, '192.0.2.23', P['LATE_SYN'], 443, rng=rng)
    c.pkt('c', t_end - ms(50), 'S', opts=tcpopt_syn())
    # S1 keepalive-ish data at the very end (defines the capture end)
    s1.send('c', t_end - ms(10), b'\x17\x03\x03\x00\x10' + bytes(16), rtt=ms(20))
    write_pcap(os.path.join(out, 'tcp_states.pcap'), DLT_EN10MB, cap.frames())


# ---- 5. ICMP errors -------------------------------------------------------------

@capture('icmp_errors.pcap')
def cap_icmp_errors(out, rng):
    """Each ICMP error follows the original packet it quotes (sent first).
    3/3 from the destination itself (quotes IP + 8 bytes, RFC 792 minimum);
    3/13, 3/10, 3/9, 11/0 from upstream routers (quote up to 548 bytes, like
    Linux); ICMPv6 1/1, 1/4, 2 (MTU 1280)."""
    cap = Cap()
    rtr1, rtr2, rtr6 = '198.51.100.1', '198.51.100.2', '2001:db8:ff::1'
    stunreq = stun_msg('BindingRequest', rng.randbytes(12), [])
    # 3/3 port unreachable from the destination, quoting UDP (IP hdr + 8)
    p = cap.udp(0, CLIENT, '192.0.2.30', 42001, 3478, stunreq)
    cap.add(ms(20), ip_icmp_error('192.0.2.30', p, 3, 3, quote=28, ttl=60))
    p = cap.udp(sec(1), CLIENT, '192.0.2.30', 42001, 3478, stunreq)
    cap.add(sec(1) + ms(20), ip_icmp_error('192.0.2.30', p, 3, 3, quote=28, ttl=60))
    # 3/13 admin prohibited from a router, quoting a TCP SYN
    c = TcpConn(cap, CLIENT, '203.0.113.40', 42002, 443, rng=rng)
    p = c.pkt('c', sec(2), 'S', opts=tcpopt_syn())
    cap.add(sec(2) + ms(5), ip_icmp_error(rtr1, p, 3, 13, ttl=254))
    # 3/13 also for a UDP flow
    p = cap.udp(sec(2.5), CLIENT, '203.0.113.40', 42003, 3478, stunreq)
    cap.add(sec(2.5) + ms(5), ip_icmp_error(rtr1, p, 3, 13, ttl=254))
    # 3/10 host administratively prohibited, quoting UDP
    p = cap.udp(sec(3), CLIENT, '203.0.113.41', 42004, 3478, stunreq)
    cap.add(sec(3) + ms(5), ip_icmp_error(rtr1, p, 3, 10, ttl=254))
    # 3/9 network administratively prohibited, quoting a TCP SYN
    c = TcpConn(cap, CLIENT, '203.0.113.42', 42005, 443, rng=rng)
    p = c.pkt('c', sec(4), 'S', opts=tcpopt_syn())
    cap.add(sec(4) + ms(5), ip_icmp_error(rtr1, p, 3, 9, ttl=254))
    # 11/0 TTL exceeded in transit (traceroute-like UDP with TTL 2)
    p = cap.udp(sec(5), CLIENT, '203.0.113.43', 42006, 33434, b'\0' * 32, ttl=2)
    q = bytearray(p)                      # router 2 sees TTL 1
    q[8] = 1
    q[10:12] = b'\0\0'
    q[10:12] = u16(csum(bytes(q[:20])))
    cap.add(sec(5) + ms(8), ip_icmp_error(rtr2, bytes(q), 11, 0, ttl=253))
    # ICMPv6 1/1 admin prohibited from a router, quoting IPv6 UDP
    p = cap.udp(sec(6), CLIENT6, '2001:db8:2::30', 42007, 3478, stunreq)
    cap.add(sec(6) + ms(5), ip_icmp_error(rtr6, p, 1, 1, hlim=254))
    # ICMPv6 1/4 port unreachable from the destination
    p = cap.udp(sec(7), CLIENT6, '2001:db8:2::31', 42008, 3478, stunreq)
    cap.add(sec(7) + ms(20), ip_icmp_error('2001:db8:2::31', p, 1, 4, hlim=60))
    # ICMPv6 2 packet too big (MTU 1280) for a 1500-byte IPv6 TCP segment
    c = TcpConn(cap, CLIENT6, '2001:db8:2::32', 42009, 443, rng=rng, mss=1440)
    t = c.handshake(sec(8))
    p = c.pkt('c', t + ms(1), 'A', bytes(1440))
    cap.add(t + ms(6), ip_icmp_error(rtr6, p, 2, 0, rest=u32(1280), hlim=254))
    c.pkt('c', t + ms(7), 'A', bytes(1208), seq=c.nxt['c'] - 1440)
    c.pkt('s', t + ms(27), 'A')
    write_pcap(os.path.join(out, 'icmp_errors.pcap'), DLT_EN10MB, cap.frames())


# ---- 6. truncated packets ---------------------------------------------------------

@capture('truncated_snaplen.pcap')
def cap_truncated_snaplen(out, rng):
    """snaplen 64: ordinary packets cut in their payload, a SYN cut inside
    its TCP options, a TCP packet cut inside the fixed 20-byte TCP header
    (24 bytes of IPv4 options push it out), an IPv4 packet cut inside its
    header (QinQ + 40 bytes of options), an IPv6 packet cut inside its
    extension header chain."""
    cap = Cap()
    txid = rng.getrandbits(16)
    cap.udp(0, CLIENT, RESOLVER, 43001, 53, dns_query(txid, 'abc.calls.sendbird.com'))
    cap.udp(ms(10), RESOLVER, CLIENT, 53, 43001,
            dns_msg(txid, 0x8180, [('abc.calls.sendbird.com', 'A')],
                    [('abc.calls.sendbird.com', 'A', 60, a4('203.0.113.50'))]))
    c = TcpConn(cap, CLIENT, '203.0.113.50', 43002, 443, rng=rng)
    c.pkt('c', ms(20), 'S', opts=tcpopt_syn(tsval=1000))       # cut in TCP options
    c.pkt('s', ms(40), 'SA', opts=tcpopt_syn(tsval=5000, tsecr=1000))
    c.pkt('c', ms(41), 'A')
    c.send('c', ms(42), tls_record(22, tls_client_hello(rng, 'abc.calls.sendbird.com', pq=False)))
    # cut inside the fixed TCP header: 24 bytes of IPv4 options
    c2 = TcpConn(cap, CLIENT, '203.0.113.51', 43003, 443, rng=rng,
                 ckw={'options': ip4opt_record_route(5, ['10.1.0.1'])})
    c2.pkt('c', ms(60), 'S', opts=tcpopt_syn())
    # cut inside the IPv4 header (frame gets QinQ tags below)
    p = cap.udp(ms(80), CLIENT, '203.0.113.52', 43004, 3478,
                stun_msg('BindingRequest', rng.randbytes(12), []),
                options=ip4opt_record_route(9, ['10.1.0.1']))
    qinq_pkt = p
    # cut inside the IPv6 extension header chain
    cap.udp(ms(100), CLIENT6, '2001:db8:2::53', 43005, 53, dns_query(txid + 1, 'whereby.com', 'AAAA'),
            ext=[ip6_hbh(b'\x05\x02\x00\x00' + b'\x01\x0a' + bytes(10)), ip6_dstopts()])
    frames = []
    for t, pk, _ in cap.sorted():
        vl = [(0x88A8, 200), (0x8100, 100)] if pk is qinq_pkt else []
        frames.append((T0 * US + t, eth(pk, vlans=vl)))
    write_pcap(os.path.join(out, 'truncated_snaplen.pcap'), DLT_EN10MB, frames, snaplen=64)


# ---- 7. DNS -------------------------------------------------------------------------

def _dns_exchange(cap, t, cli, srv, sport, query, response, rtt=ms(12)):
    cap.udp(t, cli, srv, sport, 53, query)
    if response is not None:
        cap.udp(t + rtt, srv, cli, 53, sport, response)


@capture('dns_basic.pcap')
def cap_dns_basic(out, rng):
    """UDP DNS: A (2 addresses), AAAA, plain A, CNAME -> A, CNAME chain (2
    hops) -> A, HTTPS (alpn/ipv4hint/ipv6hint), NXDOMAIN (+SOA), REFUSED, a
    query never answered (retransmitted once after 1 s with the same id), and
    an AAAA over IPv6."""
    cap = Cap()
    R = 0x8180
    t = 0
    port = [44000]

    def q(name, qt, answers, rcode=0, ns=(), answered=True, cli=CLIENT, srv=RESOLVER, retrans=False):
        nonlocal t
        port[0] += 1
        txid = rng.getrandbits(16)
        query = dns_query(txid, name, qt)
        resp = dns_msg(txid, R | rcode, [(name, qt)], answers, ns,
                       ar=[('', 'OPT', 0, b'', 1232)]) if answered else None
        _dns_exchange(cap, t, cli, srv, port[0], query, resp)
        if retrans:
            cap.udp(t + sec(1), cli, srv, port[0], 53, query)
        t += ms(100)

    n = 'api-xyz.calls.sendbird.com'
    q(n, 'A', [(n, 'A', 60, a4('203.0.113.50')), (n, 'A', 60, a4('203.0.113.51'))])
    q(n, 'AAAA', [(n, 'AAAA', 60, a6('2001:db8:2::50'))])
    q('whereby.com', 'A', [('whereby.com', 'A', 300, a4('198.51.100.60'))])
    q('turn.whereby.com', 'A', [('turn.whereby.com', 'CNAME', 300, Name('turn-eu.whereby.com')),
                                ('turn-eu.whereby.com', 'A', 60, a4('198.51.100.61'))])
    q('ap1.agora.io', 'A', [('ap1.agora.io', 'CNAME', 600, Name('ap-web-1.agora.io')),
                            ('ap-web-1.agora.io', 'CNAME', 600, Name('ap-web-1-ga.agora.io')),
                            ('ap-web-1-ga.agora.io', 'A', 60, a4('203.0.113.70'))])
    q('webrtc2-1.ap.sd-rtn.com', 'A', [('webrtc2-1.ap.sd-rtn.com', 'A', 120, a4('203.0.113.71'))])
    q('whereby.com', 'HTTPS', [('whereby.com', 'HTTPS', 300,
                                dns_https_rdata(1, '.', alpn=('h3', 'h2'), ipv4=('198.51.100.60',),
                                                ipv6=('2001:db8:2::60',)))])
    q('nosuch.calls.sendbird.com', 'A', [], rcode=3,
      ns=[('calls.sendbird.com', 'SOA', 300, dns_soa('ns1.calls.sendbird.com', 'hostmaster.sendbird.com'))])
    q('internal.example.com', 'A', [], rcode=5)
    q('stun.example.org', 'A', [], answered=False, retrans=True)
    q('whereby.com', 'AAAA', [('whereby.com', 'AAAA', 300, a6('2001:db8:2::60'))], cli=CLIENT6, srv=RESOLVER6)
    q('turn.appearin.net', 'A', [('turn.appearin.net', 'A', 60, a4('198.51.100.65'))])
    write_pcap(os.path.join(out, 'dns_basic.pcap'), DLT_EN10MB, cap.frames())


@capture('dns_tcp.pcap')
def cap_dns_tcp(out, rng):
    """DNS over TCP: the client sends two length-prefixed queries in ONE
    segment; the server answers the first in one segment and splits the
    second (length prefix + message) over THREE segments."""
    cap = Cap()
    c = TcpConn(cap, CLIENT, RESOLVER, 44101, 53, rng=rng)
    t = c.handshake(0)
    id1, id2 = rng.getrandbits(16), rng.getrandbits(16)
    q1 = dns_query(id1, 'whereby.com', 'A')
    q2 = dns_query(id2, 'api-xyz.calls.sendbird.com', 'A')
    t = c.send('c', t + ms(1), vec16(q1) + vec16(q2))
    r1 = dns_msg(id1, 0x8180, [('whereby.com', 'A')], [('whereby.com', 'A', 300, a4('198.51.100.60'))])
    n = 'api-xyz.calls.sendbird.com'
    r2 = dns_msg(id2, 0x8180, [(n, 'A')], [(n, 'CNAME', 60, Name('edge-1.calls.sendbird.com'))]
                 + [('edge-1.calls.sendbird.com', 'A', 60, a4('203.0.113.%d' % (50 + i))) for i in range(4)])
    t = c.send('s', t + ms(5), vec16(r1))
    m = vec16(r2)
    parts = [m[:1], m[1:30], m[30:]]          # split inside the length prefix, too
    for i, part in enumerate(parts):
        c.pkt('s', t + ms(2) + i * ms(3), 'PA', part)
    t += ms(10)
    c.pkt('c', t + ms(1), 'A')
    c.close(t + ms(5))
    write_pcap(os.path.join(out, 'dns_tcp.pcap'), DLT_EN10MB, cap.frames())


# ---- 8. TLS -------------------------------------------------------------------------

def _tls_server_flight(rng, ch):
    sh = tls_server_hello(rng, client_hello_session_id(ch))
    return (tls_record(22, sh) + tls_record(20, b'\x01') +
            tls_record(23, rng.randbytes(1200)) + tls_record(23, rng.randbytes(80)))


@capture('tls_basic.pcap')
def cap_tls_basic(out, rng):
    """Single-segment ClientHello (SNI api-xyz.calls.sendbird.com, no PQ key
    share, ~520 bytes), TLS 1.3 ServerHello + CCS + encrypted flight,
    application data both ways, FIN close."""
    cap = Cap()
    c = TcpConn(cap, CLIENT, '203.0.113.50', 45001, 443, rng=rng)
    t = c.handshake(0)
    ch = tls_client_hello(rng, 'api-xyz.calls.sendbird.com', pq=False, pad_to=512)
    t = c.send('c', t + ms(1), tls_record(22, ch, 0x0301))
    t = c.send('s', t + ms(3), _tls_server_flight(rng, ch))
    t = c.send('c', t + ms(2), tls_record(20, b'\x01') + tls_record(23, rng.randbytes(64)))
    t = c.send('c', t + ms(1), tls_record(23, rng.randbytes(300)))
    t = c.send('s', t + ms(5), tls_record(23, rng.randbytes(2500)))
    c.close(t + ms(50))
    write_pcap(os.path.join(out, 'tls_basic.pcap'), DLT_EN10MB, cap.frames())


@capture('tls_alert.pcap')
def cap_tls_alert(out, rng):
    """ClientHello (SNI blocked.calls.sendbird.com) answered by a fatal
    handshake_failure alert (2/40), then the server closes."""
    cap = Cap()
    c = TcpConn(cap, CLIENT, '203.0.113.53', 45101, 443, rng=rng)
    t = c.handshake(0)
    ch = tls_client_hello(rng, 'blocked.calls.sendbird.com', pq=False, pad_to=512)
    t = c.send('c', t + ms(1), tls_record(22, ch, 0x0301))
    c.pkt('s', t + ms(2), 'PA', tls_alert(2, 40))
    c.pkt('s', t + ms(2) + 20, 'FA')
    c.pkt('c', t + ms(12), 'FA')
    c.pkt('s', t + ms(22), 'A')
    write_pcap(os.path.join(out, 'tls_alert.pcap'), DLT_EN10MB, cap.frames())


TLS_SPLIT_SIZES = (600, 700)       # first two segment sizes of the 1.9 KB record


@capture('tls_split_ooo.pcap')
def cap_tls_split_ooo(out, rng):
    """~1.9 KB ClientHello (SNI abc.calls.sendbird.com, X25519MLKEM768 key
    share) in one TLS record split over three TCP segments delivered in the
    order 2, 1, 3; segment 2 is then retransmitted (spurious); the server
    answers with ServerHello."""
    cap = Cap()
    c = TcpConn(cap, CLIENT, '203.0.113.54', 45201, 443, rng=rng)
    t = c.handshake(0)
    ch = tls_client_hello(rng, 'abc.calls.sendbird.com', pad_to=1900 - 5)
    rec = tls_record(22, ch, 0x0301)
    assert len(rec) == 1900
    a, b = TLS_SPLIT_SIZES
    segs = [rec[:a], rec[a:a + b], rec[a + b:]]
    base = c.nxt['c']
    offs = [0, a, a + b]
    t += ms(1)
    seq = lambda i: base + offs[i]
    c.pkt('c', t, 'A', segs[1], seq=seq(1))                 # 2 first
    c.pkt('s', t + ms(10), 'A', ack=base)                   # dup ack
    c.pkt('c', t + ms(1), 'A', segs[0], seq=seq(0))         # then 1
    c.pkt('c', t + ms(2), 'PA', segs[2], seq=seq(2))        # then 3
    c.pkt('s', t + ms(11), 'A', ack=base + a + b)
    c.pkt('s', t + ms(12), 'A', ack=base + len(rec))
    c.pkt('c', t + ms(30), 'A', segs[1], seq=seq(1))        # spurious retransmission of 2
    c.pkt('s', t + ms(40), 'A', ack=base + len(rec))        # dup ack
    t += ms(41)
    t = c.send('s', t, _tls_server_flight(rng, ch))
    t = c.send('c', t + ms(2), tls_record(20, b'\x01') + tls_record(23, rng.randbytes(64)))
    c.close(t + ms(20))
    write_pcap(os.path.join(out, 'tls_split_ooo.pcap'), DLT_EN10MB, cap.frames())


# ---- 9. QUIC Initials -------------------------------------------------------------

QUIC_SPLIT_AT = 1100     # CRYPTO offset where the 2nd Initial of the 2-packet ClientHello starts


def quic_client_hello(rng, sni, scid, pq):
    return tls_client_hello(rng, sni, alpn=('h3',), pq=pq, tls12=False, session_id=False,
                            quic_tp=quic_transport_params(scid, rng))


def quic_server_hello(rng):
    return tls_server_hello(rng, b'')


def quic_connection(cap, rng, t, version, cli, srv, cport, sni, *, pq, order=None,
                    sport=443, n_short=4):
    """Client Initial(s) carrying the ClientHello, server Initial (ACK +
    ServerHello), client Initial ACK, then a few 1-RTT short-header packets
    each way.  With pq the ClientHello (~1.5 KB) needs two Initials: CRYPTO
    offsets 0 and QUIC_SPLIT_AT, sent in `order` (default (0, 1))."""
    dcid, scid, server_cid = rng.randbytes(8), rng.randbytes(8), rng.randbytes(8)
    ch = quic_client_hello(rng, sni, scid, pq)
    if pq:
        chunks = [(0, ch[:QUIC_SPLIT_AT]), (QUIC_SPLIT_AT, ch[QUIC_SPLIT_AT:])]
    else:
        chunks = [(0, ch)]
    pkts = [quic_initial(version, dcid, scid, pn, quic_crypto_frame(off, data), dcid, True, pad_to=1200)
            for pn, (off, data) in enumerate(chunks)]
    for i, idx in enumerate(order or range(len(pkts))):
        cap.udp(t + i * 200, cli, srv, cport, sport, pkts[idx])
    t += len(pkts) * 200 + ms(25)
    sh = quic_server_hello(rng)
    sp = quic_initial(version, scid, server_cid, 0,
                      quic_ack_frame(len(pkts) - 1, len(pkts) - 1) + quic_crypto_frame(0, sh),
                      dcid, False, pad_to=1200)
    cap.udp(t, srv, cli, sport, cport, sp)
    t += ms(1)
    cap.udp(t, cli, srv, cport, sport,
            quic_initial(version, server_cid, scid, len(pkts), quic_ack_frame(0), dcid, True, pad_to=1200))
    for i in range(n_short):
        t += ms(5)
        cap.udp(t, cli, srv, cport, sport, quic_short_packet(server_cid, rng, 60 + 40 * i))
        cap.udp(t + ms(12), srv, cli, sport, cport, quic_short_packet(scid, rng, 1200 - 100 * i))
    return t + ms(20)


@capture('quic_initial_2pkts.pcap')
def cap_quic_initial_2pkts(out, rng):
    """QUIC v1, SNI meet.whereby.com, ClientHello ~1.5 KB (X25519MLKEM768
    share) spread over two Initial packets (CRYPTO at offsets 0 and 1100),
    each in its own 1200-byte datagram.  Connection 1 (port 46001) sends
    them in order; connection 2 (port 46002) sends the offset-1100 packet
    first."""
    cap = Cap()
    t = quic_connection(cap, rng, 0, QUIC_V1, CLIENT, '198.51.100.60', 46001, 'meet.whereby.com', pq=True)
    quic_connection(cap, rng, t + ms(100), QUIC_V1, CLIENT, '198.51.100.60', 46002,
                    'meet.whereby.com', pq=True, order=(1, 0))
    write_pcap(os.path.join(out, 'quic_initial_2pkts.pcap'), DLT_EN10MB, cap.frames())


@capture('quic_initial_v1.pcap')
def cap_quic_initial_v1(out, rng):
    """QUIC v1, single-packet ClientHello: IPv4 (SNI ap1.agora.io) and IPv6
    (SNI api-xyz.calls.sendbird.com)."""
    cap = Cap()
    t = quic_connection(cap, rng, 0, QUIC_V1, CLIENT, '203.0.113.70', 46101, 'ap1.agora.io', pq=False)
    quic_connection(cap, rng, t + ms(100), QUIC_V1, CLIENT6, '2001:db8:2::50', 46102,
                    'api-xyz.calls.sendbird.com', pq=False)
    write_pcap(os.path.join(out, 'quic_initial_v1.pcap'), DLT_EN10MB, cap.frames())


@capture('quic_initial_v2.pcap')
def cap_quic_initial_v2(out, rng):
    """QUIC v2 (RFC 9369, version 0x6b3343cf, v2 salt/labels, Initial long
    header type bits 01), single-packet ClientHello, SNI
    webrtc2-1.ap.sd-rtn.com."""
    cap = Cap()
    quic_connection(cap, rng, 0, QUIC_V2, CLIENT, '203.0.113.71', 46201, 'webrtc2-1.ap.sd-rtn.com', pq=False)
    write_pcap(os.path.join(out, 'quic_initial_v2.pcap'), DLT_EN10MB, cap.frames())


# ---- 10. TURN -------------------------------------------------------------------------

TURN_SERVER = '198.51.100.70'
TURN_RELAY = ('198.51.100.70', 50000)
TURN_MAPPED = ('192.0.2.200', 61001)
TURN_PEER = ('203.0.113.90', 40000)
TURN_USER, TURN_REALM, TURN_PASS = '1767229200:user42', 'whereby.com', 's3cr3t-pass'
TURN_CHANNEL = 0x4000


def opus_rtp_stream(rng, n, ssrc, seq0, ts0):
    """n Opus-like RTP packets (PT 111, 20 ms, ts step 960), varied sizes."""
    return [rtp(111, seq0 + i, ts0 + 960 * i, ssrc, rng.randbytes(rng.randrange(61, 160)), marker=(i == 0))
            for i in range(n)]


def turn_session(rng, n_rtp=50):
    """Return [(t_us, 'c'|'s', message bytes, kind)] for a TURN session:
    kind 'stun' or 'chan' (ChannelData payload = RTP, unpadded)."""
    sw = [('SOFTWARE', b'callwall-test-turn')]
    key = turn_long_term_key(TURN_USER, TURN_REALM, TURN_PASS)
    nonce = b'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA'
    auth = [('USERNAME', TURN_USER.encode()), ('REALM', TURN_REALM.encode()), ('NONCE', nonce)]
    peer = [('XOR-PEER-ADDRESS', None)]
    ev = []
    t = 0

    def tx(side, mtype, attrs, k=None, dt=ms(1)):
        nonlocal t
        tid = attrs_tid[0]
        a = [(n, stun_xor_addr(*TURN_PEER, tid) if v is None and n == 'XOR-PEER-ADDRESS' else v)
             for n, v in attrs]
        ev.append((t, side, stun_msg(mtype, tid, a, key=k), 'stun'))
        t += dt

    attrs_tid = [rng.randbytes(12)]
    tx('c', 'AllocateRequest', [('REQUESTED-TRANSPORT', b'\x11\0\0\0')] + sw, dt=ms(25))
    tx('s', 'AllocateError', [('ERROR-CODE', stun_error_code(401, 'Unauthorized')),
                              ('REALM', TURN_REALM.encode()), ('NONCE', nonce)] + sw)
    attrs_tid[0] = rng.randbytes(12)
    tid = attrs_tid[0]
    tx('c', 'AllocateRequest', [('REQUESTED-TRANSPORT', b'\x11\0\0\0')] + auth + sw, k=key, dt=ms(25))
    tx('s', 'AllocateSuccess', [('XOR-RELAYED-ADDRESS', stun_xor_addr(*TURN_RELAY, tid)),
                                ('LIFETIME', u32(600)),
                                ('XOR-MAPPED-ADDRESS', stun_xor_addr(*TURN_MAPPED, tid))] + sw, k=key)
    attrs_tid[0] = rng.randbytes(12)
    tx('c', 'CreatePermissionRequest', peer + auth + sw, k=key, dt=ms(25))
    tx('s', 'CreatePermissionSuccess', sw, k=key)
    # before the channel is bound: Send / Data indications carrying RTP
    cssrc, pssrc = 0x1C0FFEE1, 0x5EED5EED
    c_rtp = opus_rtp_stream(rng, n_rtp + 1, cssrc, rng.getrandbits(16), rng.getrandbits(32))
    p_rtp = opus_rtp_stream(rng, n_rtp + 1, pssrc, rng.getrandbits(16), rng.getrandbits(32))
    attrs_tid[0] = rng.randbytes(12)
    tx('c', 'SendIndication', peer + [('DONT-FRAGMENT', b''), ('DATA', c_rtp[0])], dt=ms(20))
    attrs_tid[0] = rng.randbytes(12)
    tx('s', 'DataIndication', peer + [('DATA', p_rtp[0])])
    attrs_tid[0] = rng.randbytes(12)
    tx('c', 'ChannelBindRequest', [('CHANNEL-NUMBER', struct.pack('!HH', TURN_CHANNEL, 0))] + peer + auth + sw,
       k=key, dt=ms(25))
    tx('s', 'ChannelBindSuccess', sw, k=key)
    for i in range(n_rtp):
        ev.append((t + i * ms(20), 'c', c_rtp[i + 1], 'chan'))
        ev.append((t + i * ms(20) + ms(7) + (i % 3) * 300, 's', p_rtp[i + 1], 'chan'))
    t += n_rtp * ms(20) + ms(10)
    attrs_tid[0] = rng.randbytes(12)
    tx('c', 'RefreshRequest', [('LIFETIME', u32(0))] + auth + sw, k=key, dt=ms(25))
    tx('s', 'RefreshSuccess', [('LIFETIME', u32(0))] + sw, k=key)
    return sorted(ev, key=lambda e: e[0])


@capture('turn_channeldata_rtp.pcap')
def cap_turn_channeldata_rtp(out, rng):
    """TURN over UDP 3478 (RFC 8656): Allocate -> 401 (REALM/NONCE) ->
    authenticated Allocate -> success (XOR-RELAYED/XOR-MAPPED/LIFETIME),
    CreatePermission, Send + Data indications with RTP, ChannelBind 0x4000,
    50 ChannelData/RTP (PT 111) each way, Refresh(lifetime 0).  All STUN
    messages carry FINGERPRINT; authenticated ones MESSAGE-INTEGRITY (key =
    MD5(user:realm:pass))."""
    cap = Cap()
    for t, side, msg, kind in turn_session(rng):
        data = channel_data(TURN_CHANNEL, msg) if kind == 'chan' else msg
        if side == 'c':
            cap.udp(t, CLIENT, TURN_SERVER, 47001, 3478, data)
        else:
            cap.udp(t, TURN_SERVER, CLIENT, 3478, 47001, data)
    write_pcap(os.path.join(out, 'turn_channeldata_rtp.pcap'), DLT_EN10MB, cap.frames())


@capture('turn_tcp.pcap')
def cap_turn_tcp(out, rng):
    """The same TURN session over TCP 3478: ChannelData padded to 4 bytes;
    the authenticated Allocate request is split across two segments, the
    Allocate success across three; ChannelData messages are coalesced 3 per
    segment on the client side, and every 10th server ChannelData is split
    across two segments."""
    cap = Cap()
    c = TcpConn(cap, CLIENT, TURN_SERVER, 47101, 3478, rng=rng)
    t0 = c.handshake(0)
    ev = turn_session(rng)
    nstun = {'c': 0, 's': 0}
    pend = []                     # client ChannelData waiting to be coalesced
    nchan_s = 0
    last_t = t0
    for t, side, msg, kind in ev:
        t += t0 + ms(1)
        last_t = t
        if kind == 'chan':
            data = channel_data(TURN_CHANNEL, msg, pad=True)
            if side == 'c':
                pend.append(data)
                if len(pend) == 3:
                    c.pkt('c', t, 'PA', b''.join(pend))
                    pend = []
            else:
                nchan_s += 1
                if nchan_s % 10 == 0:
                    c.pkt('s', t, 'A', data[:7])
                    c.pkt('s', t + 150, 'PA', data[7:])
                else:
                    c.pkt('s', t, 'PA', data)
            continue
        if pend:
            c.pkt('c', t - 100, 'PA', b''.join(pend))
            pend = []
        nstun[side] += 1
        if side == 'c' and nstun['c'] == 2:          # authenticated Allocate: 2 segments
            c.pkt('c', t, 'A', msg[:50])
            c.pkt('c', t + 300, 'PA', msg[50:])
        elif side == 's' and nstun['s'] == 2:        # Allocate success: 3 segments
            c.pkt('s', t, 'A', msg[:3])
            c.pkt('s', t + 200, 'A', msg[3:40])
            c.pkt('s', t + 400, 'PA', msg[40:])
        else:
            c.pkt(side, t, 'PA', msg)
    if pend:
        c.pkt('c', last_t + 100, 'PA', b''.join(pend))
    c.pkt('s', last_t + ms(5), 'A')
    c.close(last_t + ms(10))
    write_pcap(os.path.join(out, 'turn_tcp.pcap'), DLT_EN10MB, cap.frames())


# ---- 11. RTP loss / jitter --------------------------------------------------------------

RTP_JITTER = dict(src='203.0.113.90', sport=20000, dst=CLIENT, dport=30000,
                  ssrc=0x0BADCAFE, received=200, lost_at=100, lost=5,
                  clock=8000, spp=160, jitter_step_us=125, jitter_max_steps=40)


def rtp_gap_jitter_plan(rng):
    """Return (seqs, rtp_ts, arrival_us_rel) for the received packets and a
    dict of expected values.  Arrival offsets are multiples of 125 us (one
    8 kHz RTP tick) so arrival times in RTP units are exact integers and the
    A.8 computation is exact."""
    P = RTP_JITTER
    seq0, ts0 = rng.getrandbits(15), rng.getrandbits(31)
    sent = P['received'] + P['lost']
    lost = set(range(P['lost_at'], P['lost_at'] + P['lost']))
    seqs, tss, arr = [], [], []
    for k in range(sent):
        jit = rng.randrange(P['jitter_max_steps'] + 1) * P['jitter_step_us']
        if k in lost:
            continue
        seqs.append((seq0 + k) & 0xffff)
        tss.append(ts0 + k * P['spp'])
        arr.append(k * 20000 + jit)
    units = [a // 125 for a in arr]          # arrival in 8 kHz ticks (exact)
    assert all(a % 125 == 0 for a in arr)
    js = rtp_jitter_a8(units, tss)
    # the RFC 3550 A.8 integer variant (jitter scaled by 16)
    ji, prev = 0, None
    for r, s in zip(units, tss):
        tr = r - s
        if prev is not None:
            d = abs(tr - prev)
            ji += d - ((ji + 8) >> 4)
        prev = tr
    exp = dict(seq_first=seqs[0], seq_last=seqs[-1], expected=sent, received=len(seqs),
               lost=P['lost'], lost_seqs=[(seq0 + k) & 0xffff for k in sorted(lost)],
               jitter_final_units=js[-1], jitter_final_ms=js[-1] * 1000.0 / P['clock'],
               jitter_max_ms=max(js) * 1000.0 / P['clock'],
               jitter_mean_ms=sum(js) / len(js) * 1000.0 / P['clock'],
               jitter_int_final=ji >> 4, ts_first=tss[0], ts_last=tss[-1])
    return seqs, tss, arr, js, exp


def _fmt_expected(exp):
    P = RTP_JITTER
    lines = [
        '# rtp_gap_jitter.pcap expected values (written by tools/gen_captures.py)',
        f'stream {P["src"]}:{P["sport"]} -> {P["dst"]}:{P["dport"]} ssrc=0x{P["ssrc"]:08x} pt=0 clock=8000',
        f'packets_received {exp["received"]}',
        f'packets_expected {exp["expected"]}',
        f'packets_lost {exp["lost"]}',
        f'loss_fraction {exp["lost"] / exp["expected"]:.6f}',
        f'lost_seqs {" ".join(str(s) for s in exp["lost_seqs"])}',
        f'seq_first {exp["seq_first"]}',
        f'seq_last {exp["seq_last"]}',
        f'jitter_final_rtp_units {exp["jitter_final_units"]:.6f}',
        f'jitter_final_ms {exp["jitter_final_ms"]:.6f}',
        f'jitter_final_rtp_units_int_a8 {exp["jitter_int_final"]}',
        f'jitter_max_ms {exp["jitter_max_ms"]:.6f}',
        f'jitter_mean_ms {exp["jitter_mean_ms"]:.6f}',
        '# jitter: RFC 3550 A.8 floating-point form J += (|D| - J)/16 over consecutive',
        '# received packets (the gap does not reset it); arrival in 8 kHz units.',
        '# _int_a8 is the integer form (J scaled by 16, J += |D| - ((J+8)>>4), reported J>>4).',
        '# jitter_mean_ms = mean of J after each received packet (the first contributes 0).',
    ]
    return '\n'.join(lines) + '\n'


@capture('rtp_gap_jitter.pcap')
def cap_rtp_gap_jitter(out, rng):
    """One PCMU (PT 0) RTP stream 203.0.113.90:20000 -> 10.1.0.10:30000, 205
    packets sent every 20 ms, packets #100..#104 lost (5 consecutive seq
    numbers missing), 200 received with arrival jitter of 0..5 ms in 125 us
    steps.  RTCP on 20001/30001: SR+SDES from the sender every second,
    RR+SDES from the receiver (reporting loss and integer jitter)."""
    P = RTP_JITTER
    cap = Cap()
    seqs, tss, arr, js, exp = rtp_gap_jitter_plan(rng)
    for s, ts, a in zip(seqs, tss, arr):
        pay = bytes([0xFF ^ ((s * 7 + i) & 0x7F) for i in range(P['spp'])])
        cap.udp(a, P['src'], P['dst'], P['sport'], P['dport'], rtp(0, s, ts, P['ssrc'], pay, marker=(s == seqs[0])),
                ttl=57)
    # RTCP: sender reports from the sender, receiver reports from us
    rx_ssrc = 0x00C0FFEE
    prev_cum = prev_exp = 0
    for k, t in enumerate((sec(1) + ms(3), sec(2) + ms(3), sec(3) + ms(3), sec(4) + ms(3))):
        idx = t // 20000
        sent_pkts = min(idx + 1, len(seqs) + P['lost'])
        sr = rtcp_sr(P['ssrc'], T0 * US + t, tss[0] + idx * P['spp'], sent_pkts, sent_pkts * P['spp'])
        cap.udp(t, P['src'], P['dst'], P['sport'] + 1, P['dport'] + 1,
                sr + rtcp_sdes_cname(P['ssrc'], 'peer@203.0.113.90'), ttl=57)
        # receiver report at t + 10 ms, using what arrived before it
        tr = t + ms(10)
        got = [i for i, a in enumerate(arr) if a <= tr]
        last = got[-1]
        ext_max = seqs[0] + (last + (P['lost'] if last >= P['lost_at'] else 0))
        expected = ext_max - seqs[0] + 1
        cum = expected - len(got)
        frac = 0 if k == 0 else min(255, ((cum - prev_cum) * 256) // max(1, expected - prev_exp))
        prev_cum, prev_exp = cum, expected
        jit = int(js[last])
        rb = rtcp_report_block(P['ssrc'], frac, cum, ext_max, jit, 0, 0)
        cap.udp(tr, P['dst'], P['src'], P['dport'] + 1, P['sport'] + 1,
                rtcp_rr(rx_ssrc, [rb]) + rtcp_sdes_cname(rx_ssrc, 'callwall@10.1.0.10'))
    write_pcap(os.path.join(out, 'rtp_gap_jitter.pcap'), DLT_EN10MB, cap.frames())
    with open(os.path.join(out, 'rtp_gap_jitter.expected.txt'), 'w') as f:
        f.write(_fmt_expected(exp))


@capture('rtp_opus_udp443.pcap')
def cap_rtp_opus_udp443(out, rng):
    """RTP with dynamic PT 111 (Opus, 48 kHz, 20 ms) on UDP 443 (no STUN,
    no TURN): 100 packets 10.1.0.10:51000 -> 203.0.113.95:443 and 100 back."""
    cap = Cap()
    a = opus_rtp_stream(rng, 100, 0x0A0A0A0A, rng.getrandbits(16), rng.getrandbits(32))
    b = opus_rtp_stream(rng, 100, 0x0B0B0B0B, rng.getrandbits(16), rng.getrandbits(32))
    for i in range(100):
        cap.udp(i * ms(20), CLIENT, '203.0.113.95', 51000, 443, a[i])
        cap.udp(i * ms(20) + ms(9), '203.0.113.95', CLIENT, 443, 51000, b[i])
    write_pcap(os.path.join(out, 'rtp_opus_udp443.pcap'), DLT_EN10MB, cap.frames())


# ---- 12. STUN binding -------------------------------------------------------------------

@capture('stun_binding.pcap')
def cap_stun_binding(out, rng):
    """STUN Binding (RFC 8489) to 198.51.100.80:3478 answered (3 transactions,
    XOR-MAPPED-ADDRESS + FINGERPRINT), one over IPv6; a Binding request to
    203.0.113.81:3478 retransmitted at 0, 0.5, 1.5, 3.5 s (same transaction
    id) and never answered; a classic RFC 3489 request/response (no magic
    cookie, MAPPED-ADDRESS/SOURCE-ADDRESS/CHANGED-ADDRESS) to
    198.51.100.82:3478; an ICE connectivity check (short-term credentials,
    MESSAGE-INTEGRITY) with a peer 203.0.113.90:40000."""
    cap = Cap()
    sw = [('SOFTWARE', b'callwall-test-stun')]
    for i in range(3):
        tid = rng.randbytes(12)
        t = i * sec(1)
        cap.udp(t, CLIENT, '198.51.100.80', 48001, 3478, stun_msg('BindingRequest', tid, sw))
        cap.udp(t + ms(18), '198.51.100.80', CLIENT, 3478, 48001,
                stun_msg('BindingSuccess', tid, [('XOR-MAPPED-ADDRESS', stun_xor_addr('192.0.2.200', 61001, tid))] + sw))
    tid = rng.randbytes(12)
    cap.udp(ms(100), CLIENT6, '2001:db8:2::80', 48011, 3478, stun_msg('BindingRequest', tid, sw))
    cap.udp(ms(120), '2001:db8:2::80', CLIENT6, 3478, 48011,
            stun_msg('BindingSuccess', tid, [('XOR-MAPPED-ADDRESS', stun_xor_addr(CLIENT6, 48011, tid))] + sw))
    tid = rng.randbytes(12)
    req = stun_msg('BindingRequest', tid, sw)
    for dt in (0, 0.5, 1.5, 3.5):
        cap.udp(ms(200) + sec(dt), CLIENT, '203.0.113.81', 48002, 3478, req)
    tid16 = rng.randbytes(16)
    cap.udp(sec(4), CLIENT, '198.51.100.82', 48003, 3478, stun_msg_3489(0x0001, tid16, []))
    cap.udp(sec(4) + ms(22), '198.51.100.82', CLIENT, 3478, 48003,
            stun_msg_3489(0x0101, tid16, [('MAPPED-ADDRESS', stun_plain_addr('192.0.2.200', 61003)),
                                          ('SOURCE-ADDRESS', stun_plain_addr('198.51.100.82', 3478)),
                                          ('CHANGED-ADDRESS', stun_plain_addr('198.51.100.83', 3479))]))
    # ICE connectivity check, short-term credentials
    lu, ru, rpass = 'Lq3x', 'Xk9p', b'remotepassword123456789'
    tid = rng.randbytes(12)
    cap.udp(sec(4.5), CLIENT, '203.0.113.90', 48004, 40000,
            stun_msg('BindingRequest', tid, [('USERNAME', f'{ru}:{lu}'.encode()), ('PRIORITY', u32(1853824767)),
                                             ('ICE-CONTROLLING', rng.randbytes(8)), ('USE-CANDIDATE', b'')],
                     key=rpass))
    cap.udp(sec(4.5) + ms(30), '203.0.113.90', CLIENT, 40000, 48004,
            stun_msg('BindingSuccess', tid, [('XOR-MAPPED-ADDRESS', stun_xor_addr('192.0.2.200', 61004, tid))],
                     key=rpass))
    write_pcap(os.path.join(out, 'stun_binding.pcap'), DLT_EN10MB, cap.frames())


# ---- event stream: what Zeek's field names must mean --------------------------

@capture('zeek_fields.pcap')
def cap_zeek_fields(out, rng):
    """One flow per case the event stream's Zeek-named fields must get right
    (payload bytes, conn_state, history, ICMP "ports" and Community ID):
    TCP 49300 -> 192.0.2.10:443 full (517 payload bytes out, 1200 back,
    history ShADadFf), TCP 49301 -> 192.0.2.22:443 rejected (Sr), UDP
    53100 -> 192.0.2.53 answered (30/60 payload bytes), UDP 53101 one-way,
    ICMP echo (id 0x1234) and an echo reply seen alone (id 0x2345),
    timestamp 13/14, redirect 5/1 (one-way); ICMPv6 echo, neighbor
    solicitation/advertisement 135/136, MLDv2 report 143 (one-way)."""
    cap = Cap()
    c = TcpConn(cap, CLIENT, '192.0.2.10', 49300, 443, rng=rng)
    t = c.handshake(0)
    t = c.send('c', t + ms(1), b'\x16' + bytes(516))
    t = c.send('s', t + ms(1), b'\x17' + bytes(1199))
    c.close(t + ms(5))
    c = TcpConn(cap, CLIENT, '192.0.2.22', 49301, 443, rng=rng)
    c.pkt('c', ms(100), 'S', opts=tcpopt_syn())
    c.pkt('s', ms(120), 'RA', seq=0)
    cap.udp(ms(200), CLIENT, RESOLVER, 53100, 53, bytes(30))
    cap.udp(ms(210), RESOLVER, CLIENT, 53, 53100, bytes(60))
    cap.udp(ms(300), CLIENT, '192.0.2.30', 53101, 3478, bytes(20))
    c4, s4 = addr(CLIENT), addr('192.0.2.40')
    cap.add(ms(400), ip(c4, s4, PROTO_ICMP, icmp4(8, 0, struct.pack('!HH', 0x1234, 1), bytes(56))))
    cap.add(ms(410), ip(s4, c4, PROTO_ICMP, icmp4(0, 0, struct.pack('!HH', 0x1234, 1), bytes(56))))
    cap.add(ms(500), ip(s4, c4, PROTO_ICMP, icmp4(0, 0, struct.pack('!HH', 0x2345, 1), bytes(56))))
    s5 = addr('192.0.2.41')
    cap.add(ms(600), ip(c4, s5, PROTO_ICMP, icmp4(13, 0, struct.pack('!HH', 7, 1), bytes(12))))
    cap.add(ms(610), ip(s5, c4, PROTO_ICMP, icmp4(14, 0, struct.pack('!HH', 7, 1), bytes(12))))
    gw = addr('10.1.0.1')
    cap.add(ms(700), ip(gw, c4, PROTO_ICMP, icmp4(5, 1, addr('10.1.0.2'), bytes(28))))
    c6, s6 = addr(CLIENT6), addr('2001:db8:2::10')
    cap.add(ms(800), ip(c6, s6, PROTO_ICMPV6, icmp6(c6, s6, 128, 0, struct.pack('!HH', 0x3456, 1), bytes(56))))
    cap.add(ms(810), ip(s6, c6, PROTO_ICMPV6, icmp6(s6, c6, 129, 0, struct.pack('!HH', 0x3456, 1), bytes(56))))
    n6 = addr('2001:db8:1::20')
    cap.add(ms(900), ip(c6, n6, PROTO_ICMPV6, icmp6(c6, n6, 135, 0, bytes(4), n6), hlim=255))
    cap.add(ms(910), ip(n6, c6, PROTO_ICMPV6, icmp6(n6, c6, 136, 0, b'\x60\0\0\0', n6), hlim=255))
    m6 = addr('ff02::16')
    cap.add(ms(1000), ip(c6, m6, PROTO_ICMPV6, icmp6(c6, m6, 143, 0, bytes(4), b''), hlim=1))
    write_pcap(os.path.join(out, 'zeek_fields.pcap'), DLT_EN10MB, cap.frames())


# =============================================================================


def run_field_generator(doc, captures, argv=None):
    """The command line of a captures/field generator: --out DIR (default
    captures/field), --only NAME..., --list; `captures` maps a capture's name
    to (function(out_dir, rng), seed)."""
    ap = argparse.ArgumentParser(description=doc.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                                                  'captures', 'field'))
    ap.add_argument('--only', nargs='*', help='capture names to build (default: all)')
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args(argv)
    if a.list:
        for n, (fn, _) in captures.items():
            print(f'{n:28s} {fn.__doc__.strip().splitlines()[0]}')
        return 0
    os.makedirs(a.out, exist_ok=True)
    for name, (fn, seed) in captures.items():
        if a.only and name not in a.only:
            continue
        fn(a.out, random.Random(seed))
        print(f'{name:28s} {os.path.getsize(os.path.join(a.out, name)):7d} bytes')
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'captures'))
    ap.add_argument('--only', nargs='*', help='capture names to build (default: all)')
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args(argv)
    if a.list:
        for n, (fn, _) in CAPTURES.items():
            doc = (fn.__doc__ or 'link-layer variant of the shared DNS + HTTP exchange').strip()
            print(f'{n:28s} {doc.splitlines()[0]}')
        return 0
    os.makedirs(a.out, exist_ok=True)
    for name, (fn, seed) in CAPTURES.items():
        if a.only and name not in a.only:
            continue
        fn(a.out, random.Random(seed))
        size = os.path.getsize(os.path.join(a.out, name))
        assert size < 200_000, (name, size)
        print(f'{name:28s} {size:7d} bytes')
    return 0


if __name__ == '__main__':
    sys.exit(main())
