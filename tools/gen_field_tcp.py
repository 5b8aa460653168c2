#!/usr/bin/python3
"""Generates the TCP stream regression captures (field truth: cases seen on
real captures) into captures/field/.

Every capture is deterministic (fixed timestamps from 2026-01-01T00:00:00Z,
its own random.Random(crc32(name))) and uses documentation/private addresses
only. Built on the packet library of tools/gen_captures.py.

    tools/gen_field_tcp.py                      # all captures
    tools/gen_field_tcp.py --only turn_tcp_hole.pcap
    cd captures/field && sha256sum -c SHA256SUMS
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

ms = g.ms
CAPTURES = {}


def capture(name):
    def deco(fn):
        CAPTURES[name] = (fn, zlib.crc32(name.encode()))
        return fn
    return deco


class Stream:
    """Lays out one direction of a TCP connection as segments with explicit
    sequence numbers, so segments can be delayed (retransmitted later) or
    dropped (never captured)."""

    def __init__(self, conn, side):
        self.c, self.side = conn, side
        self.base = conn.nxt[side]
        self.off = 0
        self.segs = []                 # (t, seq, data)

    def add(self, t, data):
        self.segs.append((t, (self.base + self.off) & 0xffffffff, data))
        self.off += len(data)
        return len(self.segs) - 1

    def emit(self, *, delay=None, drop=()):
        """delay: {index: extra_us} sends that segment late (its original
        copy is lost); drop: indexes never sent (lost for good)."""
        delay = delay or {}
        for i, (t, seq, data) in enumerate(self.segs):
            if i in drop:
                continue
            self.c.pkt(self.side, t + delay.get(i, 0), 'PA', data, seq=seq)
        self.c.nxt[self.side] = (self.base + self.off) & 0xffffffff


def turn_tcp_streams(rng, c, t0, *, cd_per_seg=1):
    """The TURN session of gen_captures.turn_session over TCP as two Streams
    (STUN messages one per segment, ChannelData padded, cd_per_seg frames
    coalesced per client segment). Returns (client, server, last_t, index
    lists of ChannelData segments per side, index of the Refresh success)."""
    cs, ss = Stream(c, 'c'), Stream(c, 's')
    chan = {'c': [], 's': []}
    refresh_ok = None
    pend, pend_t = [], 0
    last_t = t0
    for t, side, msg, kind in g.turn_session(rng):
        t += t0 + ms(1)
        last_t = t
        st = cs if side == 'c' else ss
        if kind == 'chan':
            data = g.channel_data(g.TURN_CHANNEL, msg, pad=True)
            if side == 'c' and cd_per_seg > 1:
                pend.append(data)
                pend_t = t
                if len(pend) == cd_per_seg:
                    chan['c'].append(cs.add(t, b''.join(pend)))
                    pend = []
                continue
            chan[side].append(st.add(t, data))
            continue
        if pend:
            chan['c'].append(cs.add(pend_t + 100, b''.join(pend)))
            pend = []
        i = st.add(t, msg)
        if side == 's' and struct.unpack('!H', msg[:2])[0] == 0x0104:   # Refresh success
            refresh_ok = i
    if pend:
        chan['c'].append(cs.add(last_t + 100, b''.join(pend)))
    return cs, ss, last_t, chan, refresh_ok


@capture('turn_tcp_hole.pcap')
def cap_turn_tcp_hole(out, rng):
    """TURN over TCP 3478 (the turn_tcp session): one client ChannelData
    segment and one server ChannelData segment are lost and retransmitted
    after the next three segments of their direction arrived; the server's
    last ChannelData segment before the Refresh success is retransmitted
    after it. Every ChannelData (100) and the Refresh answer must be seen."""
    cap = g.Cap()
    c = g.TcpConn(cap, g.CLIENT, g.TURN_SERVER, 47201, 3478, rng=rng)
    t0 = c.handshake(0)
    cs, ss, last_t, chan, refresh_ok = turn_tcp_streams(rng, c, t0)
    late_c = chan['c'][10]
    late_s = chan['s'][20]
    last_s = max(i for i in chan['s'] if i < refresh_ok)
    # Retransmitted after the next three segments of the direction (RTO-ish).
    rto = lambda st, i: st.segs[i + 3][0] - st.segs[i][0] + 200
    cs.emit(delay={late_c: rto(cs, late_c)})
    ss.emit(delay={late_s: rto(ss, late_s), last_s: ss.segs[refresh_ok][0] - ss.segs[last_s][0] + 300})
    c.pkt('s', last_t + ms(50), 'A')
    c.close(last_t + ms(60))
    g.write_pcap(os.path.join(out, 'turn_tcp_hole.pcap'), g.DLT_EN10MB, cap.frames())


def dns_tcp_exchange(rng, n):
    qs, rs = [], []
    for i in range(n):
        txid = rng.getrandbits(16)
        name = 'q%d.calls.sendbird.com' % i
        qs.append(g.vec16(g.dns_query(txid, name, 'A')))
        rs.append(g.vec16(g.dns_msg(txid, 0x8180, [(name, 'A')],
                                    [(name, 'A', 60, g.a4('203.0.113.%d' % (60 + i)))])))
    return qs, rs


@capture('dns_tcp_hole.pcap')
def cap_dns_tcp_hole(out, rng):
    """DNS over TCP 53, five pipelined queries on one connection, one answer
    per segment: the segment of answer 2 is lost and retransmitted after
    answers 3 and 4 arrived. All five answers must be recorded."""
    cap = g.Cap()
    c = g.TcpConn(cap, g.CLIENT, g.RESOLVER, 44201, 53, rng=rng)
    t = c.handshake(0)
    qs, rs = dns_tcp_exchange(rng, 5)
    cs, ss = Stream(c, 'c'), Stream(c, 's')
    for i, q in enumerate(qs):
        cs.add(t + ms(1) + i * 100, q)
    for i, r in enumerate(rs):
        ss.add(t + ms(10) + i * ms(2), r)
    cs.emit()
    ss.emit(delay={1: ms(30)})
    c.pkt('c', t + ms(60), 'A')
    c.close(t + ms(70))
    g.write_pcap(os.path.join(out, 'dns_tcp_hole.pcap'), g.DLT_EN10MB, cap.frames())


@capture('tcp_gap_resync.pcap')
def cap_tcp_gap_resync(out, rng):
    """Holes that are never filled (capture loss), then resynchronisation.
    Flow 1, TURN over TCP 3478, ChannelData coalesced 3 per client segment:
    a client segment carrying the tail of one ChannelData frame is lost, so
    the next segment starts mid-frame (resync at the first frame whose chain
    reaches the segment end); a server ChannelData segment is lost (resync at
    the next frame). The Refresh request and its answer after the gaps must be
    seen, and every ChannelData not in a lost segment.
    Flow 2, DNS over TCP 53: the segment holding the second half of answer 2
    and the first half of answer 3 is lost; answers 1, 4 and 5 must be
    recorded, queries 2 and 3 stay unanswered.
    Flow 3, ICE-TCP (RFC 4571 framing, no TURN): the client segment holding
    the tail of RTP frame 12 and the head of frame 13 is lost, and server
    RTP frame 20 is lost; the framing is kept after the gap although the
    next frame is media, not STUN (28 + 29 RTP packets, direct).
    Flow 4, DNS over TCP: junk bytes between two answers (no hole) break the
    framing; answers after the next decodable header are recorded."""
    cap = g.Cap()
    c = g.TcpConn(cap, g.CLIENT, g.TURN_SERVER, 47301, 3478, rng=rng)
    t0 = c.handshake(0)
    cs, ss, last_t, chan, refresh_ok = turn_tcp_streams(rng, c, t0, cd_per_seg=3)
    # Re-cut client segments k, k+1 so the lost bytes end inside a frame.
    k = chan['c'][5]
    (ta, sa, da), (tb, sb, db) = cs.segs[k], cs.segs[k + 1]
    cut = len(da) - 30                    # the last 30 bytes of segment k (tail of its third frame) ...
    cs.segs[k] = (ta, sa, da[:cut])
    cs.segs.insert(k + 1, (ta + 10, (sa + cut) & 0xffffffff, da[cut:] + db[:50]))   # ... plus the head of k+1: lost
    cs.segs[k + 2] = (tb, (sb + 50) & 0xffffffff, db[50:])   # starts mid-frame
    lost_s = chan['s'][25]
    cs.emit(drop={k + 1})
    ss.emit(drop={lost_s})
    c.pkt('s', last_t + ms(50), 'A')
    c.close(last_t + ms(60))

    d = g.TcpConn(cap, g.CLIENT, g.RESOLVER, 44301, 53, rng=rng)
    t = d.handshake(ms(5))
    qs, rs = dns_tcp_exchange(rng, 5)
    dq, dr = Stream(d, 'c'), Stream(d, 's')
    for i, q in enumerate(qs):
        dq.add(t + ms(1) + i * 100, q)
    r2, r3 = rs[1], rs[2]
    h2, h3 = len(r2) // 2, len(r3) // 2
    plan = [rs[0], r2[:h2], r2[h2:] + r3[:h3], r3[h3:], rs[3], rs[4]]
    for i, r in enumerate(plan):
        dr.add(t + ms(10) + i * ms(2), r)
    dq.emit()
    dr.emit(drop={2})
    d.pkt('c', t + ms(60), 'A')
    d.close(t + ms(70))

    ice_tcp_session(cap, rng, ms(10), 9001, drop_c=12, drop_s=20)

    # Flow 4, DNS over TCP: a 3-byte junk segment (a length prefix of 12 and
    # one byte) between answers 1 and 2 shifts the framing: the "message" it
    # starts does not decode, and the framer must look for the next header.
    d = g.TcpConn(cap, g.CLIENT, g.RESOLVER, 44302, 53, rng=rng)
    t = d.handshake(ms(15))
    qs, rs = dns_tcp_exchange(rng, 4)
    dq, dr = Stream(d, 'c'), Stream(d, 's')
    for i, q in enumerate(qs):
        dq.add(t + ms(1) + i * 100, q)
    for i, r in enumerate([rs[0], b'\x00\x0c\xff', rs[1], rs[2], rs[3]]):
        dr.add(t + ms(10) + i * ms(2), r)
    dq.emit()
    dr.emit()
    d.pkt('c', t + ms(60), 'A')
    d.close(t + ms(70))
    g.write_pcap(os.path.join(out, 'tcp_gap_resync.pcap'), g.DLT_EN10MB, cap.frames())


PROXY = '192.0.2.80'


def tls_after(c, rng, t, sni, *, client_prefix=b'', server_prefix=b''):
    """ClientHello (optionally behind preamble bytes in the same segment),
    then the server flight (optionally behind the proxy reply)."""
    ch = g.tls_client_hello(rng, sni, pq=False, pad_to=512)
    t = c.send('c', t, client_prefix + g.tls_record(22, ch, 0x0301))
    sh = g.tls_server_hello(rng, g.client_hello_session_id(ch))
    t = c.send('s', t + ms(3), server_prefix + g.tls_record(22, sh) + g.tls_record(20, b'\x01') +
               g.tls_record(23, rng.randbytes(600)))
    t = c.send('c', t + ms(2), g.tls_record(20, b'\x01') + g.tls_record(23, rng.randbytes(64)))
    return t


@capture('tls_sslv2_hello.pcap')
def cap_tls_sslv2_hello(out, rng):
    """A legacy client's SSLv2-compatible ClientHello (RFC 5246 Appendix E.2:
    2-byte length with the top bit set, version 3.1, 3 cipher specs, a
    32-byte challenge) to 198.51.100.120:443, answered by a ServerHello in
    3.1 records: the hello is recorded (tls, version TLS1.0, no SNI: SSLv2
    hellos have no extensions), the flow is tls."""
    cap = g.Cap()
    c = g.TcpConn(cap, g.CLIENT, '198.51.100.120', 45401, 443, rng=rng)
    t = c.handshake(0)
    specs = bytes.fromhex('000035' '00002f' '000005')
    body = b'\x01' + struct.pack('!HHHH', 0x0301, len(specs), 0, 32) + specs + rng.randbytes(32)
    t = c.send('c', t + ms(1), struct.pack('!H', 0x8000 | len(body)) + body)
    sh = g.tls_server_hello(rng, b'', cipher=0x002f, tls13=False)
    t = c.send('s', t + ms(20), g.tls_record(22, sh, 0x0301) + g.tls_record(20, b'\x01', 0x0301))
    t = c.send('c', t + ms(2), g.tls_record(20, b'\x01', 0x0301) + g.tls_record(23, rng.randbytes(48), 0x0301))
    c.close(t + ms(20))
    g.write_pcap(os.path.join(out, 'tls_sslv2_hello.pcap'), g.DLT_EN10MB, cap.frames())


HRR_RANDOM = bytes.fromhex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c')


def tls_hello_retry_request(session_id, group=0x0017):
    """A HelloRetryRequest (RFC 8446 §4.1.3-4): a ServerHello whose random is
    SHA-256("HelloRetryRequest"), selecting TLS 1.3 and asking for a key share
    of `group`."""
    exts = g.tls_ext(43, g.u16(0x0304)) + g.tls_ext(51, g.u16(group))
    b = g.u16(0x0303) + HRR_RANDOM + g.vec8(session_id) + g.u16(0x1301) + b'\x00' + g.vec16(exts)
    return b'\x02' + g.vec24(b)


@capture('tls_hello_retry.pcap')
def cap_tls_hello_retry(out, rng):
    """Three TLS 1.3 connections to api-hrr.calls.sendbird.com
    (198.51.100.122:443) whose server answers the first ClientHello with a
    HelloRetryRequest (+ ChangeCipherSpec). (1) The client sends
    ChangeCipherSpec + a second ClientHello in one segment; the server
    answers with its ServerHello and encrypted records: two tls_hello rows,
    the second answered by TLS1.3. (2) The second ClientHello (with a
    padding extension: 2,000 bytes) comes in two segments, the second one
    first; the server answers it with a fatal handshake_failure alert (40):
    the second row has no server hello and alert 40, the flow's tls_alert is
    40. (3) The client never sends a second hello and closes: one row."""
    cap = g.Cap()
    sni = 'api-hrr.calls.sendbird.com'
    server = '198.51.100.122'
    for i, kind in enumerate(('answered', 'refused', 'abandoned')):
        c = g.TcpConn(cap, g.CLIENT, server, 45410 + i, 443, rng=rng)
        t = c.handshake(ms(400) * i)
        ch = g.tls_client_hello(rng, sni, pq=False, pad_to=512)
        t = c.send('c', t + ms(1), g.tls_record(22, ch, 0x0301))
        hrr = tls_hello_retry_request(g.client_hello_session_id(ch))
        t = c.send('s', t + ms(20), g.tls_record(22, hrr) + g.tls_record(20, b'\x01'))
        if kind == 'abandoned':
            c.close(t + ms(30))
            continue
        ch2 = g.tls_client_hello(rng, sni, pq=False, pad_to=512 if kind == 'answered' else 2000)
        second = g.tls_record(20, b'\x01') + g.tls_record(22, ch2)
        if kind == 'answered':
            t = c.send('c', t + ms(2), second)
            sh = g.tls_server_hello(rng, g.client_hello_session_id(ch2))
            t = c.send('s', t + ms(20), g.tls_record(22, sh) + g.tls_record(23, rng.randbytes(600)))
            t = c.send('c', t + ms(2), g.tls_record(23, rng.randbytes(64)))
        else:
            st = Stream(c, 'c')
            st.add(t + ms(2), second[:1200])
            st.add(t + ms(2), second[1200:])
            st.emit(delay={0: ms(5)})
            t = c.send('s', t + ms(30), g.tls_alert(2, 40))
        c.close(t + ms(20))
    g.write_pcap(os.path.join(out, 'tls_hello_retry.pcap'), g.DLT_EN10MB, cap.frames())


@capture('tls_proxy_preambles.pcap')
def cap_tls_proxy_preambles(out, rng):
    """TLS through proxies at 192.0.2.80 (no SNI visible to a naive decoder):
    (1) SOCKS5 (RFC 1928) with username/password (RFC 1929), CONNECT to the
    domain api-xyz.calls.sendbird.com:443, each message in its own segment;
    (2) SOCKS4a to whereby.com:443, the ClientHello in the same segment as
    the request and the ServerHello in the same segment as the 8-byte reply;
    (3) HTTP CONNECT abc.calls.sendbird.com:443 (RFC 9110 §9.3.6) with two
    headers, answered 200; (4) SOCKS5 CONNECT to an IPv4 address (no name).
    Each carries a full ClientHello / ServerHello after the preamble."""
    cap = g.Cap()
    # (1) SOCKS5 + RFC 1929
    c = g.TcpConn(cap, g.CLIENT, PROXY, 45301, 1080, rng=rng)
    t = c.handshake(0)
    t = c.send('c', t + ms(1), b'\x05\x02\x00\x02')
    t = c.send('s', t + ms(2), b'\x05\x02')
    t = c.send('c', t + ms(1), b'\x01\x05alice\x06secret')
    t = c.send('s', t + ms(2), b'\x01\x00')
    host = b'api-xyz.calls.sendbird.com'
    t = c.send('c', t + ms(1), b'\x05\x01\x00\x03' + bytes([len(host)]) + host + struct.pack('!H', 443))
    t = c.send('s', t + ms(30), b'\x05\x00\x00\x01' + g.a4('192.0.2.80') + struct.pack('!H', 40001))
    t = tls_after(c, rng, t + ms(1), 'api-xyz.calls.sendbird.com')
    c.close(t + ms(20))
    # (2) SOCKS4a, optimistic data in the same segments
    c = g.TcpConn(cap, g.CLIENT, PROXY, 45302, 1080, rng=rng)
    t = c.handshake(ms(100))
    req = b'\x04\x01' + struct.pack('!H', 443) + bytes([0, 0, 0, 1]) + b'bob\x00' + b'whereby.com\x00'
    rep = b'\x00\x5a' + struct.pack('!H', 443) + bytes([0, 0, 0, 0])
    t = tls_after(c, rng, t + ms(1), 'whereby.com', client_prefix=req, server_prefix=rep)
    c.close(t + ms(20))
    # (3) HTTP CONNECT
    c = g.TcpConn(cap, g.CLIENT, PROXY, 45303, 3128, rng=rng)
    t = c.handshake(ms(200))
    t = c.send('c', t + ms(1), b'CONNECT abc.calls.sendbird.com:443 HTTP/1.1\r\n'
                               b'Host: abc.calls.sendbird.com:443\r\nUser-Agent: test\r\n\r\n')
    t = c.send('s', t + ms(40), b'HTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\n\r\n')
    t = tls_after(c, rng, t + ms(1), 'abc.calls.sendbird.com')
    c.close(t + ms(20))
    # (4) SOCKS5 to an address: the tunnel is followed, no proxy name
    c = g.TcpConn(cap, g.CLIENT, PROXY, 45304, 1080, rng=rng)
    t = c.handshake(ms(300))
    t = c.send('c', t + ms(1), b'\x05\x01\x00')
    t = c.send('s', t + ms(2), b'\x05\x00')
    t = c.send('c', t + ms(1), b'\x05\x01\x00\x01' + g.a4('203.0.113.50') + struct.pack('!H', 443))
    t = c.send('s', t + ms(30), b'\x05\x00\x00\x01' + g.a4('192.0.2.80') + struct.pack('!H', 40002))
    t = tls_after(c, rng, t + ms(1), 'edge-1.calls.sendbird.com')
    c.close(t + ms(20))
    g.write_pcap(os.path.join(out, 'tls_proxy_preambles.pcap'), g.DLT_EN10MB, cap.frames())


def ice_tcp_session(cap, rng, t, cport, *, drop_c=None, drop_s=None):
    """ICE-TCP (RFC 6544) between two peers, no TURN: RFC 4571-framed STUN
    Binding request/success, then 30 RTP (Opus, PT 111) packets each way.
    drop_c: the client's RTP frames drop_c and drop_c+1 are re-cut so that
    the segment between them (tail of one, head of the other) is lost;
    drop_s: the server's RTP frame of that index is lost."""
    peer = '203.0.113.90'
    c = g.TcpConn(cap, g.CLIENT, peer, cport, 50000, rng=rng)
    t = c.handshake(t)
    f = lambda m: struct.pack('!H', len(m)) + m
    tid = rng.randbytes(12)
    rpass = b'remotepassword123456789'
    req = g.stun_msg('BindingRequest', tid, [('USERNAME', b'Xk9p:Lq3x'), ('PRIORITY', g.u32(1853824767)),
                                             ('ICE-CONTROLLING', rng.randbytes(8)), ('USE-CANDIDATE', b'')],
                     key=rpass)
    ok = g.stun_msg('BindingSuccess', tid, [('XOR-MAPPED-ADDRESS', g.stun_xor_addr(g.CLIENT, cport, tid))], key=rpass)
    t = c.send('c', t + ms(1), f(req))
    t = c.send('s', t + ms(20), f(ok))
    ssrc_c, ssrc_s = rng.getrandbits(32), rng.getrandbits(32)
    seq_c, seq_s = rng.getrandbits(16), rng.getrandbits(16)
    ts_c, ts_s = rng.getrandbits(32), rng.getrandbits(32)
    cs, ss = Stream(c, 'c'), Stream(c, 's')
    for i in range(30):
        cs.add(t + i * ms(20), f(g.rtp(111, seq_c + i, ts_c + 960 * i, ssrc_c, rng.randbytes(80))))
        ss.add(t + i * ms(20) + ms(7), f(g.rtp(111, seq_s + i, ts_s + 960 * i, ssrc_s, rng.randbytes(80))))
    drop = set()
    if drop_c is not None:
        (ta, sa, da), (tb, sb, db) = cs.segs[drop_c], cs.segs[drop_c + 1]
        cs.segs[drop_c] = (ta, sa, da[:-20])
        cs.segs[drop_c + 1] = (tb, (sb + 30) & 0xffffffff, db[30:])
        cs.segs.insert(drop_c + 1, (ta + 10, (sa + len(da) - 20) & 0xffffffff, da[-20:] + db[:30]))
        drop.add(drop_c + 1)
    cs.emit(drop=drop)
    ss.emit(drop={drop_s} if drop_s is not None else ())
    t += 30 * ms(20)
    c.close(t + ms(10))


@capture('ice_tcp_direct.pcap')
def cap_ice_tcp_direct(out, rng):
    """ICE-TCP (RFC 6544) between two peers, no TURN: RFC 4571-framed STUN
    Binding request/success (USERNAME, PRIORITY, ICE-CONTROLLING,
    USE-CANDIDATE), then 30 RTP (Opus, PT 111) packets each way, each framed
    with its 16-bit length. The RTP streams are direct (via_turn 0)."""
    cap = g.Cap()
    ice_tcp_session(cap, rng, 0, 9)
    g.write_pcap(os.path.join(out, 'ice_tcp_direct.pcap'), g.DLT_EN10MB, cap.frames())


STALLED_HEAVY = 4        # sources each opening many stalled hellos (beyond the per-source bound)
STALLED_HEAVY_EACH = 400
STALLED_LIGHT = 20       # sources under the bound, together filling the pool
STALLED_LIGHT_EACH = 100


@capture('tls_stalled_hellos.pcap')
def cap_tls_stalled_hellos(out, rng):
    """3600 TCP flows to 443 that send the first 60 bytes of a ClientHello
    and stall (no SYN captured, one segment each), from 4 heavy sources (400
    each) and 20 light ones (100 each), 1 ms apart; then two real TLS
    connections: one from a new client (SNI api-xyz.calls.sendbird.com) and
    one from a heavy source (SNI whereby.com). Both SNIs must be found."""
    cap = g.Cap()
    partial = g.tls_record(22, g.tls_client_hello(rng, 'stall.example.net', pq=False, pad_to=512), 0x0301)[:60]
    t = 0
    srcs = [('10.9.0.%d' % (i + 1), STALLED_HEAVY_EACH) for i in range(STALLED_HEAVY)]
    srcs += [('10.9.1.%d' % (i + 1), STALLED_LIGHT_EACH) for i in range(STALLED_LIGHT)]
    jobs = []
    for src, n in srcs:
        for j in range(n):
            jobs.append((src, 20000 + j))
    rng.shuffle(jobs)
    for src, port in jobs:
        cap.tcp(t, src, '203.0.113.200', port, 443, rng.getrandbits(32), rng.getrandbits(32), 'PA', partial)
        t += ms(1)
    for cli, port, sni in (('10.1.0.20', 46001, 'api-xyz.calls.sendbird.com'), ('10.9.0.1', 46002, 'whereby.com')):
        c = g.TcpConn(cap, cli, '203.0.113.50', port, 443, rng=rng)
        t2 = c.handshake(t + ms(10))
        t2 = tls_after(c, rng, t2 + ms(1), sni)
        c.close(t2 + ms(20))
        t += ms(5)
    g.write_pcap(os.path.join(out, 'tls_stalled_hellos.pcap'), g.DLT_EN10MB, cap.frames())


def garbage_initial(rng):
    """A QUIC v1 long-header Initial (RFC 9000 §17.2.2) whose protected
    payload is random: it parses, never decrypts, never completes."""
    dcid, scid = rng.randbytes(8), rng.randbytes(8)
    body = rng.randbytes(80)
    return (bytes([0xC1]) + g.u32(1) + bytes([8]) + dcid + bytes([8]) + scid + b'\x00' +
            struct.pack('!H', 0x4000 | len(body)) + body)


@capture('quic_junk_initials.pcap')
def cap_quic_junk_initials(out, rng):
    """1300 UDP flows to 443 each sending one garbage QUIC Initial (valid
    header, undecryptable payload: the ClientHello never completes), 700 from
    3 heavy sources and 600 from 40 light ones, 1 ms apart; then two real QUIC
    connections: from a new client (SNI api-xyz.calls.sendbird.com) and from a
    heavy source (SNI whereby.com). Both SNIs must be found."""
    cap = g.Cap()
    jobs = [('10.9.2.%d' % (i + 1), 30000 + j) for i in range(3) for j in range(700 // 3 + (i == 0))]
    jobs += [('10.9.3.%d' % (i + 1), 31000 + j) for i in range(40) for j in range(15)]
    rng.shuffle(jobs)
    t = 0
    for src, port in jobs:
        cap.udp(t, src, '203.0.113.201', port, 443, garbage_initial(rng))
        t += ms(1)
    g.quic_connection(cap, rng, t + ms(10), 1, '10.1.0.21', '203.0.113.51', 52001, 'api-xyz.calls.sendbird.com',
                      pq=False)
    g.quic_connection(cap, rng, t + ms(20), 1, '10.9.2.1', '203.0.113.51', 52002, 'whereby.com', pq=False)
    g.write_pcap(os.path.join(out, 'quic_junk_initials.pcap'), g.DLT_EN10MB, cap.frames())


@capture('hellos_cut_by_flood.pcap')
def cap_hellos_cut_by_flood(out, rng):
    """What the handshake-buffer bound costs, which run.notes must count and
    nothing else. TLS: a connection from 10.9.4.1 to 203.0.113.200 sends the
    first 100 bytes of its ClientHello (SNI api-xyz.calls.sendbird.com) and
    pauses while the same address opens 140 stalled partial hellos to the
    same server (the per-source bound is 128: the paused hello, the least
    recently progressed, loses its buffer); the first stalled flow, also
    reclaimed, retransmits its 60 bytes (nothing new: not counted); then the
    connection sends the rest of its hello and gets a ServerHello: its SNI is
    lost, one handshake cut. QUIC: a two-Initial ClientHello from 10.9.5.1 to
    203.0.113.201 (SNI whereby.com) whose first Initial is followed by 40
    junk Initials from the same address (bound 32), then the rest of the
    connection: a second cut. One server per flood, so that every flow of a
    source shares its address pair (and a decoding worker)."""
    cap = g.Cap()
    srv = '203.0.113.200'
    c = g.TcpConn(cap, '10.9.4.1', srv, 46001, 443, rng=rng)
    t = c.handshake(0)
    hs = g.tls_client_hello(rng, 'api-xyz.calls.sendbird.com', pq=False, pad_to=512)
    ch = g.tls_record(22, hs, 0x0301)
    t = c.send('c', t + ms(1), ch[:100], ack=False)
    partial = g.tls_record(22, g.tls_client_hello(rng, 'stall.example.net', pq=False, pad_to=512), 0x0301)[:60]
    first = None
    for j in range(140):
        seq = rng.getrandbits(32)
        first = first or (20000 + j, seq)
        cap.tcp(t + ms(5 + j), '10.9.4.1', srv, 20000 + j, 443, seq, rng.getrandbits(32), 'PA', partial)
    t += ms(200)
    cap.tcp(t, '10.9.4.1', srv, first[0], 443, first[1], 0, 'PA', partial)  # a retransmission
    t = c.send('c', t + ms(5), ch[100:])
    sh = g.tls_server_hello(rng, g.client_hello_session_id(hs))
    t = c.send('s', t + ms(3), g.tls_record(22, sh) + g.tls_record(20, b'\x01'))
    c.close(t + ms(20))

    quic = g.Cap()
    g.quic_connection(quic, rng, 0, 1, '10.9.5.1', '203.0.113.201', 52001, 'whereby.com', pq=True)
    t0 = t + ms(100)
    (dt, pkt, meta), rest = quic.pkts[0], quic.pkts[1:]
    cap.add(t0 + dt, pkt, **meta)
    for j in range(40):
        cap.udp(t0 + ms(1 + j), '10.9.5.1', '203.0.113.201', 31000 + j, 443, garbage_initial(rng))
    for dt, pkt, meta in rest:
        cap.add(t0 + ms(100) + dt, pkt, **meta)
    g.write_pcap(os.path.join(out, 'hellos_cut_by_flood.pcap'), g.DLT_EN10MB, cap.frames())


def main(argv=None):
    return g.run_field_generator(__doc__, CAPTURES, argv)


if __name__ == '__main__':
    sys.exit(main())
