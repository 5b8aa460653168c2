#!/usr/bin/python3
"""Generates the regression captures of field truth part 4 (one-sided
captures and an SNI filter's reset) into captures/field/.

Every capture is deterministic (fixed timestamps from 2026-01-01T00:00:00Z,
its own random.Random(crc32(name))) and uses documentation/private addresses
only. Built on the packet library of tools/gen_captures.py.

    tools/gen_field_oneway.py                         # all captures
    tools/gen_field_oneway.py --only sni_filter_resets.pcap
    cd captures/field && sha256sum -c SHA256SUMS

  server_side_lost.pcap   a capture of both directions where one TCP
                          connection's server packets took another path: the
                          client's ACKs acknowledge its SYN-ACK and its bytes
  oneway_client_side.pcap a tap that copies the client's direction only: TCP
                          connections whose ACKs prove the answers, one whose
                          SYN is retransmitted, DNS queries and STUN requests
                          never seen answered
  sni_filter_resets.pcap  ClientHellos answered by a reset (a forged TTL and
                          the server's own), by a fatal alert, and by a
                          ServerHello (controls)
  one_sided_interface.pcapng
                          two interfaces: the first sees both directions, the
                          second (a tap that copies one direction) the
                          client's packets alone
  split_tap.pcapng        a tap's two halves as two interfaces: the client's
                          direction on one, the server's on the other
"""
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

ms = g.ms
CAPTURES = {}
HOST = '10.1.0.20'
RESOLVER = '10.1.0.1'


def capture(name):
    def deco(fn):
        CAPTURES[name] = (fn, zlib.crc32(name.encode()))
        return fn
    return deco


def write(out, name, cap):
    frames = [(g.T0 * g.US + t, g.eth(p)) for t, p, _ in cap.sorted()]
    g.write_pcap(os.path.join(out, name), g.DLT_EN10MB, frames)


def write_interfaces(out, name, caps):
    """A pcapng file of one Ethernet interface per capture in `caps`,
    their packets merged in time order."""
    frames = sorted((g.T0 * g.US + t, i, g.eth(p)) for i, cap in enumerate(caps) for t, p, _ in cap.sorted())
    interfaces = [(g.DLT_EN10MB, 262144, 6, 'eth%d' % i) for i in range(len(caps))]
    g.write_pcapng(os.path.join(out, name), interfaces, frames)


def unanswered_syns(conn, times):
    """The client's SYN at each of `times`, the same sequence number each
    time (a retransmission), never answered."""
    for i, t in enumerate(times):
        conn.pkt('c', t, 'S', opts=g.tcpopt_syn(), seq=conn.nxt['c'] - (1 if i else 0))


def hello(rng, sni):
    return g.tls_record(22, g.tls_client_hello(rng, sni, pq=False), version=0x0301)


def tls_session(rng, c, t, sni, *, server_bytes=1400):
    """A ClientHello, the server's ServerHello flight (`server_bytes` in
    all), the client's Finished and a request: returns the time after."""
    t = c.send('c', t, hello(rng, sni))
    flight = g.tls_record(22, g.tls_server_hello(rng)) + g.tls_record(23, rng.randbytes(server_bytes - 100))
    t = c.send('s', t + ms(20), flight)
    t = c.send('c', t + ms(1), g.tls_record(23, rng.randbytes(80)))
    return c.send('s', t + ms(20), g.tls_record(23, rng.randbytes(300)))


def client_side_only(cap, t0):
    """Keeps the client's packets of what was added from index t0 on (a tap
    that copies one direction): the server's are dropped."""
    kept = cap.pkts[:t0]
    for t, p, meta in cap.pkts[t0:]:
        src, _, _ = g.ip_endpoints(p)
        if src == g.addr(HOST):
            kept.append((t, p, meta))
    cap.pkts = kept


# ---- 1. a connection whose server side took another path -----------------------------

@capture('server_side_lost.pcap')
def cap_server_side_lost(out, rng):
    """Both directions captured: a DNS query for eu.sfu.whereby.com answered
    by 10.1.0.1, and a TLS connection 10.1.0.20:52000 -> 198.51.100.30:443
    (SNI eu.sfu.whereby.com) whose server packets (SYN-ACK, ServerHello
    flight, FIN) are missing: the server answered along another path
    (asymmetric routing), and the client's ACKs acknowledge its SYN-ACK and
    its 1,705 bytes and FIN. Port 52001: the SYN-ACK alone acknowledged, then the
    client's request; nothing more. The control: port 52002's SYN to
    198.51.100.31, retransmitted, never answered, stays blocked."""
    cap = g.Cap()
    srv = '198.51.100.30'
    cap.udp(0, HOST, RESOLVER, 41000, 53, g.dns_query(0x5101, 'eu.sfu.whereby.com'))
    cap.udp(ms(8), RESOLVER, HOST, 53, 41000,
            g.dns_msg(0x5101, 0x8180, [('eu.sfu.whereby.com', 'A')], [('eu.sfu.whereby.com', 'A', 60, g.a4(srv))]))
    at = len(cap.pkts)
    c = g.TcpConn(cap, HOST, srv, 52000, 443, rng=rng, skw={'ttl': 52})
    t = c.handshake(ms(20))
    t = tls_session(rng, c, t + ms(1), 'eu.sfu.whereby.com')
    c.close(t + ms(100))
    d = g.TcpConn(cap, HOST, srv, 52001, 443, rng=rng, skw={'ttl': 52})
    t = d.handshake(ms(500))
    d.send('c', t + ms(1), hello(rng, 'eu.sfu.whereby.com'), ack=False)
    client_side_only(cap, at)
    dead = g.TcpConn(cap, HOST, '198.51.100.31', 52002, 443, rng=rng)
    unanswered_syns(dead, (ms(1000), ms(2000), ms(4000)))
    write(out, 'server_side_lost.pcap', cap)


# ---- 2. a capture of one direction -----------------------------------------------------

@capture('oneway_client_side.pcap')
def cap_oneway_client_side(out, rng):
    """A tap that copies 10.1.0.20's direction only: DNS queries for
    eu.sfu.whereby.com and a.turn.whereby.com (no answer can be seen); a
    TLS connection to 198.51.100.30:443 (SNI eu.sfu.whereby.com) whose ACKs
    acknowledge the server's flight; one to 198.51.100.32:443 (SNI
    a.turn.whereby.com) whose ACK acknowledges the SYN-ACK alone; a SYN to
    198.51.100.33:443 retransmitted at 1 and 3 s, no ACK after it; STUN
    Binding requests to 198.51.100.34:3478 retransmitted (RFC 8489 §6.2.1);
    QUIC Initials to 198.51.100.35:443 (SNI b.turn.whereby.com), sent
    again after 1 s: a named flow nothing is seen to answer."""
    cap = g.Cap()
    for i, name in enumerate(('eu.sfu.whereby.com', 'a.turn.whereby.com')):
        for k, t in enumerate((0, ms(1000), ms(3000))):
            cap.udp(ms(5) * i + t, HOST, RESOLVER, 41100 + i, 53, g.dns_query(0x5200 + i, name))
    c = g.TcpConn(cap, HOST, '198.51.100.30', 52100, 443, rng=rng)
    t = c.handshake(ms(100))
    t = tls_session(rng, c, t + ms(1), 'eu.sfu.whereby.com')
    c.close(t + ms(100))
    d = g.TcpConn(cap, HOST, '198.51.100.32', 52101, 443, rng=rng)
    t = d.handshake(ms(600))
    d.send('c', t + ms(1), hello(rng, 'a.turn.whereby.com'), ack=False)
    dead = g.TcpConn(cap, HOST, '198.51.100.33', 52102, 443, rng=rng)
    unanswered_syns(dead, (ms(700), ms(1700), ms(3700)))
    tid = rng.randbytes(12)
    for t in (ms(800), ms(1300), ms(2300), ms(4300)):
        cap.udp(t, HOST, '198.51.100.34', 50000, 3478, g.stun_msg('BindingRequest', tid, []))
    dcid, scid = rng.randbytes(8), rng.randbytes(8)
    ch = g.quic_client_hello(rng, 'b.turn.whereby.com', scid, pq=False)
    for pn, t in enumerate((ms(900), ms(1900))):
        cap.udp(t, HOST, '198.51.100.35', 50001, 443,
                g.quic_initial(g.QUIC_V1, dcid, scid, pn, g.quic_crypto_frame(0, ch), dcid, True, pad_to=1200))
    client_side_only(cap, 0)
    write(out, 'oneway_client_side.pcap', cap)


# ---- 3. an SNI filter's resets ---------------------------------------------------------

@capture('sni_filter_resets.pcap')
def cap_sni_filter_resets(out, rng):
    """10.1.0.20 to 198.51.100.40:443, whose packets arrive with TTL 52,
    every connection's handshake answered: (1) port 52200, SNI
    eu.sfu.whereby.com, its ClientHello answered by a RST with TTL 61 (a
    filter nearer than the server forging it), retransmitted once; (2)
    port 52201, SNI a.turn.whereby.com, a RST with TTL 52 (the server's, or
    a filter beside it); (3) port 52202, SNI eu.sfu.whereby.com, a fatal
    access_denied alert (49) in place of the ServerHello, then the server's
    FIN. Controls: (4) port 52203, SNI eu.sfu.whereby.com, a full
    handshake; (5) port 52204, the same, reset by the server after its
    ServerHello flight. The names resolve (answered DNS)."""
    cap = g.Cap()
    srv = '198.51.100.40'
    for i, name in enumerate(('eu.sfu.whereby.com', 'a.turn.whereby.com')):
        cap.udp(ms(5) * i, HOST, RESOLVER, 41200 + i, 53, g.dns_query(0x5300 + i, name))
        cap.udp(ms(5) * i + ms(3), RESOLVER, HOST, 53, 41200 + i,
                g.dns_msg(0x5300 + i, 0x8180, [(name, 'A')], [(name, 'A', 60, g.a4(srv))]))
    for port, name, ttl, start in ((52200, 'eu.sfu.whereby.com', 61, ms(100)),
                                   (52201, 'a.turn.whereby.com', 52, ms(300))):
        c = g.TcpConn(cap, HOST, srv, port, 443, rng=rng, skw={'ttl': 52})
        t = c.handshake(start)
        t = c.send('c', t + ms(1), hello(rng, name), ack=False)
        c.cap.tcp(t + ms(8), srv, HOST, 443, port, c.nxt['s'], c.nxt['c'], 'RA', win=0, ttl=ttl)
        if port == 52200:
            c.cap.tcp(t + ms(9), srv, HOST, 443, port, c.nxt['s'], c.nxt['c'], 'RA', win=0, ttl=ttl)
    c = g.TcpConn(cap, HOST, srv, 52202, 443, rng=rng, skw={'ttl': 52})
    t = c.handshake(ms(500))
    t = c.send('c', t + ms(1), hello(rng, 'eu.sfu.whereby.com'))
    t = c.send('s', t + ms(8), g.tls_alert(2, 49))
    c.close(t + ms(1), first='s')
    c = g.TcpConn(cap, HOST, srv, 52203, 443, rng=rng, skw={'ttl': 52})
    t = c.handshake(ms(700))
    t = tls_session(rng, c, t + ms(1), 'eu.sfu.whereby.com')
    c.close(t + ms(100))
    c = g.TcpConn(cap, HOST, srv, 52204, 443, rng=rng, skw={'ttl': 52})
    t = c.handshake(ms(900))
    t = tls_session(rng, c, t + ms(1), 'eu.sfu.whereby.com')
    c.pkt('s', t + ms(30), 'RA')
    write(out, 'sni_filter_resets.pcap', cap)


# ---- 4. several interfaces, one of them one-sided ---------------------------------------

@capture('one_sided_interface.pcapng')
def cap_one_sided_interface(out, rng):
    """Interface 0 sees both directions: a DNS query for eu.sfu.whereby.com
    answered, a TLS connection 10.1.0.20:52300 -> 198.51.100.30:443 (SNI
    eu.sfu.whereby.com) answered, and a SYN to 198.51.100.31:443 sent
    three times and never answered (blocked: this interface shows
    answers). Interface 1 copies one direction only (10.1.0.21's packets):
    a SYN to 198.51.100.33:443 sent three times, STUN Binding requests to
    198.51.100.34:3478 retransmitted: its silence is the capture's."""
    both, one = g.Cap(), g.Cap()
    srv = '198.51.100.30'
    both.udp(0, HOST, RESOLVER, 41300, 53, g.dns_query(0x5401, 'eu.sfu.whereby.com'))
    both.udp(ms(4), RESOLVER, HOST, 53, 41300,
             g.dns_msg(0x5401, 0x8180, [('eu.sfu.whereby.com', 'A')], [('eu.sfu.whereby.com', 'A', 60, g.a4(srv))]))
    c = g.TcpConn(both, HOST, srv, 52300, 443, rng=rng)
    t = c.handshake(ms(20))
    t = tls_session(rng, c, t + ms(1), 'eu.sfu.whereby.com')
    c.close(t + ms(100))
    dead = g.TcpConn(both, HOST, '198.51.100.31', 52301, 443, rng=rng)
    unanswered_syns(dead, (ms(200), ms(1200), ms(3200)))
    other = '10.1.0.21'
    silent = g.TcpConn(one, other, '198.51.100.33', 52302, 443, rng=rng)
    unanswered_syns(silent, (ms(300), ms(1300), ms(3300)))
    tid = rng.randbytes(12)
    for t in (ms(400), ms(900), ms(1900), ms(3900)):
        one.udp(t, other, '198.51.100.34', 50100, 3478, g.stun_msg('BindingRequest', tid, []))
    write_interfaces(out, 'one_sided_interface.pcapng', [both, one])


@capture('split_tap.pcapng')
def cap_split_tap(out, rng):
    """A tap's two halves as two interfaces: interface 0 holds 10.1.0.20's
    packets, interface 1 those to it. A TLS connection to
    198.51.100.30:443 (SNI eu.sfu.whereby.com) answered, a STUN Binding
    request to 198.51.100.34:3478 answered; a SYN to 198.51.100.31:443
    sent three times, never answered: together the halves show both
    directions, so it is blocked."""
    cap = g.Cap()
    c = g.TcpConn(cap, HOST, '198.51.100.30', 52400, 443, rng=rng)
    t = c.handshake(ms(20))
    t = tls_session(rng, c, t + ms(1), 'eu.sfu.whereby.com')
    c.close(t + ms(100))
    tid = rng.randbytes(12)
    cap.udp(ms(300), HOST, '198.51.100.34', 50200, 3478, g.stun_msg('BindingRequest', tid, []))
    cap.udp(ms(330), '198.51.100.34', HOST, 3478, 50200,
            g.stun_msg('BindingSuccess', tid, [('XOR-MAPPED-ADDRESS', g.stun_xor_addr('203.0.113.9', 50200, tid))]))
    dead = g.TcpConn(cap, HOST, '198.51.100.31', 52401, 443, rng=rng)
    unanswered_syns(dead, (ms(400), ms(1400), ms(3400)))
    out_half, in_half = g.Cap(), g.Cap()
    for t, p, meta in cap.pkts:
        src, _, _ = g.ip_endpoints(p)
        (out_half if src == g.addr(HOST) else in_half).pkts.append((t, p, meta))
    write_interfaces(out, 'split_tap.pcapng', [out_half, in_half])


def main(argv=None):
    return g.run_field_generator(__doc__, CAPTURES, argv)


if __name__ == '__main__':
    sys.exit(main())
