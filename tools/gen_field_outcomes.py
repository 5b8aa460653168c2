#!/usr/bin/python3
"""Generates the "no false blocked" regression captures of field truth part 3
into captures/field/: flows that expect no answer, hold only answers, lost
their SYN-ACK from the capture, are a tunnel's outer legs, or were refused by
the destination itself.

Every capture is deterministic (fixed timestamps from 2026-01-01T00:00:00Z,
its own random.Random(crc32(name))) and uses documentation/private addresses
only. Built on the packet library of tools/gen_captures.py.

    tools/gen_field_outcomes.py                      # all captures
    tools/gen_field_outcomes.py --only tunnel_legs.pcap
    cd captures/field && sha256sum -c SHA256SUMS

  broadcast_subnet.pcap      NetBIOS, Dropbox LAN sync and Spotify sent to a
                             network's broadcast address (link-layer and IP)
  answers_only.pcap          STUN success responses, unicast mDNS and LLMNR
                             answers whose questions were not captured
  synack_lost.pcap           a TCP connection whose SYN-ACK is missing while
                             the server sends data
  tunnel_legs.pcap           VXLAN, Geneve and GTP-U outer flows, one way each
  destination_refusals.pcap  a resolver that answers A and PTR, never SRV; an
                             ICMP port unreachable from the server itself
"""
import os
import random
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

ms = g.ms
g.QT.setdefault('SRV', 33)
BROADCAST_MAC = b'\xff' * 6
CAPTURES = {}


def capture(name):
    def deco(fn):
        CAPTURES[name] = (fn, zlib.crc32(name.encode()))
        return fn
    return deco


def eth_to(dst_mac):
    """Ethernet framing with a fixed destination MAC (a broadcast), the
    source MAC derived from the sender's address as g.eth does."""
    def link(pkt):
        src, _, et = g.ip_endpoints(pkt)
        f = dst_mac + g.host_mac(src) + g.u16(et) + pkt
        return f + b'\0' * max(0, 60 - len(f))
    return link


def write(out, name, frames):
    g.write_pcap(os.path.join(out, name), g.DLT_EN10MB, sorted(frames, key=lambda x: x[0]))


def frames_of(cap, link=g.eth):
    return [(g.T0 * g.US + t, link(p)) for t, p, _ in cap.sorted()]


def netbios_name_query(txid, name):
    """NetBIOS name service query (RFC 1002 §4.2.12), first-level encoded name."""
    enc = b''.join(bytes([0x41 + (c >> 4), 0x41 + (c & 0xF)]) for c in name.ljust(15).encode()[:15] + b'\0')
    return struct.pack('!HHHHHH', txid, 0x0110, 1, 0, 0, 0) + bytes([32]) + enc + b'\0' + struct.pack('!HH', 0x20, 1)


# ---- 1. broadcasts --------------------------------------------------------------

@capture('broadcast_subnet.pcap')
def cap_broadcast_subnet(out, rng):
    """Subnet-directed broadcasts from 10.1.0.20 that nothing answers, each
    repeated over seconds: NetBIOS name queries to 10.1.0.255:137 and Dropbox
    LAN sync to 10.1.0.255:17500 (Ethernet ff:ff:ff:ff:ff:ff); Spotify's
    discovery to 10.1.0.127:57621 on a /25 (told by the link layer alone);
    a datagram to 10.1.255.255:57621 behind a router (unicast MAC: told by the
    address alone). The control: the same repeated datagrams to
    198.51.100.255:9999, another network's address by unicast, stay blocked.
    One NTP exchange with 10.1.0.1 holds the other direction (a capture with
    no packet from any server would make every silent flow inconclusive)."""
    bcast, uni = g.Cap(), g.Cap()
    host = '10.1.0.20'
    for i in range(3):
        t = i * ms(1500)
        bcast.udp(t, host, '10.1.0.255', 137, 137, netbios_name_query(0x7100 + i, 'WORKGROUP'))
        bcast.udp(t + ms(100), host, '10.1.0.255', 17500, 17500,
                  b'{"host_int": 7, "version": [2, 0], "displayname": "", "port": 17500}')
        bcast.udp(t + ms(200), host, '10.1.0.127', 57621, 57621, b'SpotUdp0' + bytes(rng.getrandbits(8) for _ in range(36)))
        uni.udp(t + ms(300), host, '10.1.255.255', 57621, 57621, b'SpotUdp0' + bytes(rng.getrandbits(8) for _ in range(36)))
        uni.udp(t + ms(400), host, '198.51.100.255', 40123, 9999, b'hello' + bytes([i]))
    uni.udp(ms(5000), host, '198.51.100.255', 40123, 9999, b'hello\x09')
    uni.udp(ms(4800), host, '10.1.0.1', 40200, 123, b'\x23' + bytes(47))
    uni.udp(ms(4801), '10.1.0.1', host, 123, 40200, b'\x24\x02' + bytes(46))
    write(out, 'broadcast_subnet.pcap', frames_of(bcast, eth_to(BROADCAST_MAC)) + frames_of(uni))


# ---- 2. answers without their questions -----------------------------------------

@capture('answers_only.pcap')
def cap_answers_only(out, rng):
    """Flows holding only answers, repeated over seconds: STUN Binding success
    responses from 198.51.100.10:3480 to 10.1.0.20:50000 (the requests were not
    captured; 3480 is no port the flow table knows a server by); unicast mDNS
    answers from 10.1.0.30:5353 to 10.1.0.20:5353 (the question went to
    224.0.0.251, not captured); LLMNR answers from 10.1.0.30:5355 to
    10.1.0.20:53111. The control: a DNS query to 192.0.2.99:53, retransmitted
    and never answered, stays blocked."""
    cap = g.Cap()
    host, stun_srv, peer = '10.1.0.20', '198.51.100.10', '10.1.0.30'
    for i in range(3):
        t = i * ms(1500)
        tid = bytes(rng.getrandbits(8) for _ in range(12))
        cap.udp(t, stun_srv, host, 3480, 50000,
                g.stun_msg('BindingSuccess', tid, [('XOR-MAPPED-ADDRESS', g.stun_xor_addr('203.0.113.7', 50000, tid))]))
        an = [('nas-1.local', 'A', 120, g.a4(peer))]
        cap.udp(t + ms(100), peer, host, 5353, 5353, g.dns_msg(0, 0x8400, [], an))
        cap.udp(t + ms(200), peer, host, 5355, 53111,
                g.dns_msg(0x4c00 + i, 0x8000, [('nas-1', 'A')], [('nas-1', 'A', 30, g.a4(peer))]))
        cap.udp(t + ms(300), host, '192.0.2.99', 40000, 53, g.dns_query(0x2200, 'updates.example.net'))
    write(out, 'answers_only.pcap', frames_of(cap))


# ---- 3. SYN-ACK lost from the capture ---------------------------------------------

@capture('synack_lost.pcap')
def cap_synack_lost(out, rng):
    """10.1.0.20:51000 -> 192.0.2.80:8443: the SYN, then (its SYN-ACK missing
    from the capture) the client's ACK and request, the server's data and
    the client's ACKs, and FINs both ways. A later connection from port
    51001 completes normally and carries server data too. The control:
    port 51002's SYN, retransmitted, never answered, stays blocked."""
    cap = g.Cap()
    c = g.TcpConn(cap, '10.1.0.20', '192.0.2.80', 51000, 8443, rng=rng)
    c.pkt('c', 0, 'S', opts=g.tcpopt_syn())
    c.nxt['s'] = (c.nxt['s'] + 1) & 0xffffffff   # the SYN-ACK went by, uncaptured
    t = ms(21)
    c.pkt('c', t, 'A')
    t = c.send('c', t + ms(1), b'GET /status HTTP/1.1\r\nHost: api.example.net\r\n\r\n')
    t = c.send('s', t + ms(5), b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
    c.pkt('c', t + ms(50), 'FA')
    c.pkt('s', t + ms(70), 'FA')
    c.pkt('c', t + ms(71), 'A')
    later = g.TcpConn(cap, '10.1.0.20', '192.0.2.80', 51001, 8443, rng=rng)
    t = later.handshake(ms(2000))
    t = later.send('c', t + ms(1), b'GET /again HTTP/1.1\r\nHost: api.example.net\r\n\r\n')
    t = later.send('s', t + ms(5), b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
    later.pkt('c', t + ms(50), 'FA')
    later.pkt('s', t + ms(70), 'FA')
    later.pkt('c', t + ms(71), 'A')
    dead = g.TcpConn(cap, '10.1.0.20', '192.0.2.81', 51002, 8443, rng=rng)
    for i, at in enumerate((ms(3000), ms(4000), ms(6000))):
        dead.pkt('c', at, 'S', opts=g.tcpopt_syn(), seq=dead.nxt['c'] - (1 if i else 0))
    write(out, 'synack_lost.pcap', frames_of(cap))


# ---- 4. tunnel legs ---------------------------------------------------------------

def inner_dns(src, dst, sport, txid, answer=None):
    """An inner Ethernet frame carrying a DNS query (or its answer)."""
    if answer is None:
        pkt = g.ip_udp(src, dst, sport, 53, g.dns_query(txid, 'svc.internal.example'))
    else:
        pkt = g.ip_udp(src, dst, 53, sport, g.dns_msg(txid, 0x8180, [('svc.internal.example', 'A')],
                                                       [('svc.internal.example', 'A', 60, g.a4(answer))]))
    return g.eth(pkt)


@capture('tunnel_legs.pcap')
def cap_tunnel_legs(out, rng):
    """The outer legs of three overlay tunnels between VTEPs 10.1.0.5 and
    10.1.0.6, each direction from its own source port (a hash of the inner
    flow, RFC 7348 §5: one inner flow, one port each way) so each leg is a
    one-way flow, three datagrams over three seconds: Geneve (UDP 6081,
    RFC 8926), VXLAN on Linux's old port 8472 (RFC 7348 header) and GTP-U
    (UDP 2152, 3GPP TS 29.281, G-PDU carrying IP). Inside, DNS queries that
    are answered."""
    cap = g.Cap()
    a, b = '10.1.0.5', '10.1.0.6'
    for i in range(3):
        t = i * ms(1500)
        q = inner_dns('172.16.0.10', '172.16.0.53', 40000, 0x3300 + i)
        r = inner_dns('172.16.0.53', '172.16.0.10', 40000, 0x3300 + i, answer='172.16.0.80')
        geneve = struct.pack('!BBHI', 0, 0, 0x6558, 0x00123400)
        cap.udp(t, a, b, 49152, 6081, geneve + q)
        cap.udp(t + ms(1), b, a, 55000, 6081, geneve + r)
        vxlan = struct.pack('!II', 0x08000000, 0x00004200)
        cap.udp(t + ms(10), a, b, 50152, 8472, vxlan + q)
        cap.udp(t + ms(11), b, a, 56000, 8472, vxlan + r)
        ip_q = g.ip_udp('172.16.0.10', '172.16.0.53', 41000 + i, 53, g.dns_query(0x3400 + i, 'svc.internal.example'))
        ip_r = g.ip_udp('172.16.0.53', '172.16.0.10', 53, 41000 + i,
                        g.dns_msg(0x3400 + i, 0x8180, [('svc.internal.example', 'A')],
                                  [('svc.internal.example', 'A', 60, g.a4('172.16.0.80'))]))
        cap.udp(t + ms(20), a, b, 2152, 2152, struct.pack('!BBHI', 0x30, 0xFF, len(ip_q), 0x0000A001) + ip_q)
        cap.udp(t + ms(21), b, a, 2152, 2152, struct.pack('!BBHI', 0x30, 0xFF, len(ip_r), 0x0000B002) + ip_r)
    write(out, 'tunnel_legs.pcap', frames_of(cap))


# ---- 5. refusals by the destination -----------------------------------------------

@capture('destination_refusals.pcap')
def cap_destination_refusals(out, rng):
    """10.1.0.20 asks the resolver 10.1.0.1: an A and a PTR query, each
    answered (TTL 64), and an SRV query (_sip._udp.example.net) retransmitted
    three times and never answered. Then 198.51.100.20 answers a TCP
    connection on 443 (TTL 52) and refuses a UDP datagram to 5060 with an
    ICMP port unreachable from its own address with the same TTL, twice."""
    cap = g.Cap()
    host, resolver, srv = '10.1.0.20', '10.1.0.1', '198.51.100.20'
    cap.udp(0, host, resolver, 41001, 53, g.dns_query(0x1101, 'sip.example.net'))
    cap.udp(ms(8), resolver, host, 53, 41001,
            g.dns_msg(0x1101, 0x8180, [('sip.example.net', 'A')], [('sip.example.net', 'A', 300, g.a4(srv))]))
    cap.udp(ms(20), host, resolver, 41002, 53, g.dns_query(0x1102, '20.100.51.198.in-addr.arpa', 'PTR'))
    cap.udp(ms(29), resolver, host, 53, 41002,
            g.dns_msg(0x1102, 0x8180, [('20.100.51.198.in-addr.arpa', 'PTR')],
                      [('20.100.51.198.in-addr.arpa', 'PTR', 300, [g.Name('sip.example.net')])]))
    for at in (ms(40), ms(1040), ms(3040), ms(7040)):
        cap.udp(at, host, resolver, 41003, 53, g.dns_query(0x1103, '_sip._udp.example.net', 'SRV'))
    c = g.TcpConn(cap, host, srv, 52000, 443, rng=rng, skw={'ttl': 52})
    t = c.handshake(ms(100))
    t = c.send('c', t + ms(1), b'\x16\x03\x01\x00\x05hello')
    t = c.send('s', t + ms(5), b'\x16\x03\x03\x00\x05world')
    for at in (ms(200), ms(1200)):
        probe = cap.udp(at, host, srv, 52001, 5060, b'OPTIONS sip:example.net SIP/2.0\r\n\r\n')
        cap.add(at + ms(20), g.ip_icmp_error(srv, probe, 3, 3, ttl=52))
    write(out, 'destination_refusals.pcap', frames_of(cap))


def main(argv=None):
    return g.run_field_generator(__doc__, CAPTURES, argv)


if __name__ == '__main__':
    sys.exit(main())
