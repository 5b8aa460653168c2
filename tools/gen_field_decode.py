#!/usr/bin/python3
"""Generate the regression captures for the decode-layer defects seen
on real captures (field truth): IPv4 total length 0 (TSO super-frames), DNS answers in IP
fragments, capture clocks that jump backwards, ICMP errors quoting an echo.

    tools/gen_field_decode.py [--out captures/field]

Built with the packet library of tools/gen_captures.py; deterministic bytes
(fixed timestamps from 2026-01-01T00:00:00Z, fixed seeds), documentation and
private addresses only.  See captures/field/README.md.
"""

import argparse
import os
import random
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

ms, sec, US, T0 = g.ms, g.sec, g.US, g.T0
CLIENT, CLIENT6 = g.CLIENT, g.CLIENT6
RESOLVER, RESOLVER6 = g.RESOLVER, g.RESOLVER6
g.QT.setdefault('RRSIG', 46)

CAPTURES = {}


def capture(name):
    def deco(fn):
        CAPTURES[name] = fn
        return fn
    return deco


def write_unsorted(path, frames):
    """frames: (t_us relative to T0, ethernet frame) in FILE order (not sorted)."""
    g.write_pcap(path, g.DLT_EN10MB, [(T0 * US + t, f) for t, f in frames])


# ---- 1. IPv4 total length 0 ------------------------------------------------------

def zero_total_length(pkt):
    """The IPv4 packet with its total length field set to 0, as a sending
    host's capture shows a TCP/UDP segmentation-offload super-frame (the
    header checksum is left as it was: offloaded too)."""
    assert pkt[0] >> 4 == 4
    return pkt[:2] + b'\0\0' + pkt[4:]


@capture('tso_zero_total_length.pcap')
def cap_tso(out, rng):
    """A DNS answer (UDP) and a TLS ClientHello (TCP, 1 segment larger than
    any MTU) whose IPv4 total length is 0, as Npcap/Windows captures of TSO
    super-frames show them.  The SNI and the answer must be decoded."""
    cap = g.Cap()
    name, srv = 'tso.whereby.com', '198.51.100.70'
    txid = rng.getrandbits(16)
    cap.udp(0, CLIENT, RESOLVER, 41001, 53, g.dns_query(txid, name))
    resp = g.dns_msg(txid, 0x8180, [(name, 'A')], [(name, 'A', 300, g.a4(srv))])
    cap.add(ms(12), zero_total_length(g.ip_udp(RESOLVER, CLIENT, 53, 41001, resp, ident=cap.ident(RESOLVER))))
    c = g.TcpConn(cap, CLIENT, srv, 41002, 443, rng=rng)
    t = c.handshake(ms(30))
    hello = g.tls_record(22, g.tls_client_hello(rng, name, pq=True), 0x0301)
    assert len(hello) > 1500, len(hello)
    # One super-frame for the whole ClientHello, total length 0.
    i = len(cap.pkts)
    t = c.send('c', t + ms(1), hello, seg=len(hello))
    seg_t, seg, meta = cap.pkts[i]
    assert seg[0] == 0x45 and len(seg) > 1500
    cap.pkts[i] = (seg_t, zero_total_length(seg), meta)
    t = c.send('s', t + ms(1), g.tls_alert(2, 40))
    c.close(t + ms(1))
    g.write_pcap(os.path.join(out, 'tso_zero_total_length.pcap'), g.DLT_EN10MB, cap.frames())


# ---- 2. DNS answers in IP fragments -------------------------------------------------

def rrsig(rng, size):
    """An RRSIG-sized blob (type covered A, algorithm 13, ...) to push the
    next answer past the first fragment, as DNSSEC answers do."""
    fixed = struct.pack('!HBBIIIH', 1, 13, 3, 300, 1769904000, 1767225600, 12345)
    signer = b'\x07whereby\x03com\x00'
    return fixed + signer + rng.randbytes(size - len(fixed) - len(signer))


@capture('dns_fragments.pcap')
def cap_dns_fragments(out, rng):
    """A DNSSEC-sized answer over IPv4 (2 fragments, delivered 2,1) and over
    IPv6 (2 fragments of 1232, in order) whose last A/AAAA answer lies in the
    second fragment; then hostile and lost fragments: an IPv6 datagram with
    overlapping fragments (RFC 5722: dropped), a later fragment whose first
    never came (orphan), and a DNS answer whose last fragment is lost (its
    first fragment alone is decoded after the 30 s timeout)."""
    cap = g.Cap()
    # IPv4, fragments out of order
    name4 = 'frag4.whereby.com'
    txid = rng.getrandbits(16)
    cap.udp(0, CLIENT, RESOLVER, 42001, 53, g.dns_query(txid, name4))
    resp = g.dns_msg(txid, 0x8180, [(name4, 'A')],
                     [(name4, 'A', 300, g.a4('198.51.100.71')),
                      (name4, 'RRSIG', 300, rrsig(rng, 1500)),
                      (name4, 'A', 300, g.a4('198.51.100.72'))],
                     ar=[('', 'OPT', 0, b'', 1232)])
    s, d = g.a4(RESOLVER), g.a4(CLIENT)
    l4 = g.udp(s, d, 53, 42001, resp)
    frags = g.fragment_ipv4(s, d, g.PROTO_UDP, l4, 1480, ident=0x5A01, ttl=58)
    assert len(frags) == 2
    cap.add(ms(20), frags[1])
    cap.add(ms(21), frags[0])
    # IPv6, in order
    name6 = 'frag6.whereby.com'
    txid = rng.getrandbits(16)
    cap.udp(ms(100), CLIENT6, RESOLVER6, 42002, 53, g.dns_query(txid, name6, 'AAAA'))
    resp = g.dns_msg(txid, 0x8180, [(name6, 'AAAA')],
                     [(name6, 'AAAA', 300, g.a6('2001:db8:2::71')),
                      (name6, 'RRSIG', 300, rrsig(rng, 1300)),
                      (name6, 'AAAA', 300, g.a6('2001:db8:2::72'))],
                     ar=[('', 'OPT', 0, b'', 1232)])
    s6, d6 = g.a6(RESOLVER6), g.a6(CLIENT6)
    l4 = g.udp(s6, d6, 53, 42002, resp)
    frags = g.fragment_ipv6(s6, d6, g.PROTO_UDP, l4, 1232, ident=0x6B000002, hlim=58)
    assert len(frags) == 2
    cap.add(ms(120), frags[0])
    cap.add(ms(121), frags[1])
    # IPv6 overlapping fragments: the second starts 8 bytes inside the first.
    srv6 = '2001:db8:2::80'
    sa, da = g.a6(CLIENT6), g.a6(srv6)
    l4 = g.udp(sa, da, 42003, 5000, rng.randbytes(2000))
    first = g.ipv6(sa, da, g.PROTO_UDP, l4[:1232], ext=[g.ip6_frag(0, True, 0x6B000003)])
    second = g.ipv6(sa, da, g.PROTO_UDP, l4[1224:], ext=[g.ip6_frag(1224, False, 0x6B000003)])
    cap.add(ms(200), first)
    cap.add(ms(201), second)
    # A later fragment whose first fragment was never captured.
    s, d = g.a4('203.0.113.81'), g.a4(CLIENT)
    l4 = g.udp(s, d, 5001, 42004, rng.randbytes(2000))
    frags = g.fragment_ipv4(s, d, g.PROTO_UDP, l4, 1480, ident=0x5A04)
    cap.add(ms(300), frags[1])
    # A DNS answer whose second (last) fragment is lost.
    name_lost = 'lost.whereby.com'
    txid = rng.getrandbits(16)
    cap.udp(ms(400), CLIENT, RESOLVER, 42005, 53, g.dns_query(txid, name_lost))
    resp = g.dns_msg(txid, 0x8180, [(name_lost, 'A')],
                     [(name_lost, 'A', 300, g.a4('198.51.100.75')),
                      (name_lost, 'RRSIG', 300, rrsig(rng, 1500)),
                      (name_lost, 'A', 300, g.a4('198.51.100.76'))])
    s, d = g.a4(RESOLVER), g.a4(CLIENT)
    l4 = g.udp(s, d, 53, 42005, resp)
    frags = g.fragment_ipv4(s, d, g.PROTO_UDP, l4, 1480, ident=0x5A05, ttl=58)
    cap.add(ms(420), frags[0])
    # Capture time moves on past the reassembly timeout (30 s).
    cap.udp(sec(40), CLIENT, RESOLVER, 42006, 53, g.dns_query(0x4242, 'later.whereby.com'))
    g.write_pcap(os.path.join(out, 'dns_fragments.pcap'), g.DLT_EN10MB, cap.frames())


# ---- 3. capture clock jumping backwards ------------------------------------------

@capture('clock_backwards.pcap')
def cap_clock_backwards(out, rng):
    """Two machines' captures concatenated: frames in file order whose clock
    jumps back 400 s (the other machine's frames of the same flows) and then
    forward again.  A UDP flow and a TCP connection that each get a packet
    stamped in the past must stay one flow each."""
    cap = g.Cap()
    peer = '203.0.113.90'
    other_machine = set()  # indices of packets the second machine captured
    for k in range(3):
        cap.udp(sec(k), CLIENT, peer, 43001, 3478, rng.randbytes(60))
        cap.udp(sec(k) + ms(20), peer, CLIENT, 3478, 43001, rng.randbytes(60))
    c = g.TcpConn(cap, CLIENT, '198.51.100.90', 43002, 443, rng=rng)
    t = c.handshake(sec(3))
    t = c.send('c', t + ms(1), b'\x17\x03\x03\x00\x10' + rng.randbytes(16))
    other_machine.add(len(cap.pkts))
    cap.udp(sec(3) + ms(50), CLIENT, peer, 43001, 3478, rng.randbytes(60))
    other_machine.add(len(cap.pkts))
    c.send('s', sec(3) + ms(80), b'\x17\x03\x03\x00\x10' + rng.randbytes(16))
    cap.udp(sec(4), CLIENT, peer, 43001, 3478, rng.randbytes(60))
    cap.udp(sec(4) + ms(20), peer, CLIENT, 3478, 43001, rng.randbytes(60))
    c.close(sec(5))
    cap.udp(sec(6), CLIENT, peer, 43001, 3478, rng.randbytes(60))
    split = sec(3) + ms(100)
    a = [(t_, p) for i, (t_, p, _) in enumerate(cap.pkts) if i not in other_machine]
    b = [(t_ - sec(400), p) for i, (t_, p, _) in enumerate(cap.pkts) if i in other_machine]
    ordered = sorted([x for x in a if x[0] < split], key=lambda x: x[0]) + sorted(b, key=lambda x: x[0]) + \
        sorted([x for x in a if x[0] >= split], key=lambda x: x[0])
    write_unsorted(os.path.join(out, 'clock_backwards.pcap'), [(t_, g.eth(p)) for t_, p in ordered])


# ---- 4. ICMP errors quoting an echo request ----------------------------------------

def echo4(src, dst, typ, ident, seq, data=b'callwall-ping-data-0123456789abcdef', ttl=64):
    s, d = g.addr(src), g.addr(dst)
    return g.ip(s, d, g.PROTO_ICMP, g.icmp4(typ, 0, struct.pack('!HH', ident, seq), data), ttl=ttl)


def echo6(src, dst, typ, ident, seq, data=b'callwall-ping-data-0123456789abcdef', hlim=64):
    s, d = g.addr(src), g.addr(dst)
    return g.ip(s, d, g.PROTO_ICMPV6, g.icmp6(s, d, typ, 0, struct.pack('!HH', ident, seq), data), hlim=hlim)


@capture('icmp_echo_errors.pcap')
def cap_icmp_echo_errors(out, rng):
    """Pings answered by ICMP errors: IPv4 echo requests refused by a firewall
    (3/13 administratively prohibited) and by the gateway (3/1 host
    unreachable), an IPv6 echo request refused (1/1); and a v4 and a v6 ping
    answered by echo replies (request and reply are one flow)."""
    cap = g.Cap()
    p = cap.add(0, echo4(CLIENT, '203.0.113.60', 8, 0x1234, 1))
    cap.add(ms(5), g.ip_icmp_error('198.51.100.1', p, 3, 13, ttl=62))
    p = cap.add(sec(1), echo4(CLIENT, '203.0.113.60', 8, 0x1234, 2))
    cap.add(sec(1) + ms(5), g.ip_icmp_error('198.51.100.1', p, 3, 13, ttl=62))
    p = cap.add(sec(2), echo4(CLIENT, '203.0.113.61', 8, 0x1235, 1))
    cap.add(sec(2) + ms(3), g.ip_icmp_error('10.1.0.1', p, 3, 1, ttl=64))
    p = cap.add(sec(3), echo6(CLIENT6, '2001:db8:2::60', 128, 0x2345, 1))
    cap.add(sec(3) + ms(5), g.ip_icmp_error('2001:db8:ff::1', p, 1, 1, ttl=62))
    cap.add(sec(4), echo4(CLIENT, '203.0.113.62', 8, 0x1236, 1))
    cap.add(sec(4) + ms(30), echo4('203.0.113.62', CLIENT, 0, 0x1236, 1, ttl=55))
    cap.add(sec(5), echo6(CLIENT6, '2001:db8:2::62', 128, 0x2346, 1))
    cap.add(sec(5) + ms(30), echo6('2001:db8:2::62', CLIENT6, 129, 0x2346, 1, hlim=55))
    g.write_pcap(os.path.join(out, 'icmp_echo_errors.pcap'), g.DLT_EN10MB, cap.frames())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'captures', 'field'))
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    for name, fn in CAPTURES.items():
        fn(a.out, random.Random(zlib.crc32(name.encode())))
        print(f'{name:28s} {os.path.getsize(os.path.join(a.out, name)):7d} bytes')
    return 0


if __name__ == '__main__':
    sys.exit(main())
