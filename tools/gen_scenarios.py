#!/usr/bin/python3
"""Generate callwall's verdict scenario captures and their intended verdicts.

    tools/gen_scenarios.py [--out captures/scenarios] [--only NAME ...] [--list]

Each capture plays one vendor situation end to end, as a mirror port inside the
firewall would see it: clients resolve vendor names, connect (TLS with SNI,
TURN, STUN/ICE, DTLS, RTP, the vendors' own UDP), and the firewall lets some
of it through and blocks the rest (silent drops with real retransmission
timing, RSTs, ICMP errors, a DNS filter answering NXDOMAIN).

Next to every capture NAME.pcap the script writes NAME.expected.tsv: one line
per catalog entry of the vendor documents the capture exercises,
``entry_id<TAB>verdict<TAB>reasons`` (reasons sorted, comma-separated, empty
when none).  These tables are the verdicts the scenario was DESIGNED to
produce; they are written from the design below, never from callwall's output.
captures/scenarios/README.md explains every flow and every verdict.

The packet builders come from tools/gen_captures.py (imported, not changed).
Output is byte-identical on every run: timestamps start at
2026-01-01T00:00:00Z, every capture has its own random.Random(crc32(name)),
nothing depends on dict/set order or the clock.  Only documentation and
private addresses are used.
"""

import argparse
import hashlib
import os
import random
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402
from gen_captures import (  # noqa: E402
    Cap, TcpConn, Name, a4, a6, ms, sec, u16, u24, u32, vec8, vec16,
    dns_query, dns_msg, dns_soa, tls_client_hello, tls_record, tls_ext,
    tcpopt_syn, stun_msg, stun_xor_addr, stun_error_code, turn_long_term_key,
    rtp, ip_icmp_error, write_pcap, DLT_EN10MB)

RESOLVER = g.RESOLVER            # 192.0.2.53
RESOLVER6 = g.RESOLVER6          # 2001:db8:2::53
ROUTER = '198.51.100.1'          # upstream router / firewall sending ICMP errors
NAT_PUBLIC = '192.0.2.200'       # the site's public address in STUN answers
SERVER_TTL = 52                  # TTL of packets from vendor servers (as seen inside)
FIREWALL_TTL = 63                # TTL of packets forged by the firewall (one hop away)
ROUTER_TTL = 254

# STUN client retransmission schedule (RFC 8489 RTO 500 ms, doubling)
STUN_RETX = (0, 0.5, 1.5, 3.5, 7.5)
# Linux SYN retransmissions (RTO 1 s, doubling): +1 s, +3 s, +7 s after the first
SYN_RETX = (0, 1, 3, 7)

SCENARIOS = {}                   # name -> (function, seed); registration order kept


def scenario(name):
    def deco(fn):
        SCENARIOS[name] = (fn, zlib.crc32(name.encode()))
        return fn
    return deco


# =============================================================================
# Catalog entry ids (in file order), for the expected tables
# =============================================================================

AGORA_2018 = [
    'agora-2018.native.tcp', 'agora-2018.native.udp',
    'agora-2018.web.tcp', 'agora-2018.web.udp',
    'agora-2018.signaling.tcp', 'agora-2018.signaling.udp',
    'agora-2018.recording.tcp', 'agora-2018.recording.udp-duplex', 'agora-2018.recording.udp-downstream',
    'agora-2018.gaming.tcp', 'agora-2018.gaming.udp',
]
AGORA_2020 = [
    'agora-2020.rtc-web.tcp', 'agora-2020.rtc-web.tcp-rtmp', 'agora-2020.rtc-web.udp',
    'agora-2020.rtc-web.udp-v2.9', 'agora-2020.rtc-web.udp-pre-2.9',
    'agora-2020.rtm-native.tcp', 'agora-2020.rtm-native.udp', 'agora-2020.rtm-web.tcp',
]
SENDBIRD = ['sendbird-calls.signal.tcp', 'sendbird-calls.media-direct-call.udp', 'sendbird-calls.p2p-stun.udp']
WHEREBY = ['whereby.signaling.tcp', 'whereby.turn.tcp', 'whereby.turn.udp',
           'whereby.turn-sfu-highport.udp', 'whereby.third-party.tcp']
DOCS = {'agora_2018': AGORA_2018, 'agora_2020': AGORA_2020, 'sendbird_calls': SENDBIRD, 'whereby': WHEREBY}
VERDICTS = ('observed', 'blocked', 'partial', 'inconclusive', 'not_exercised')
REASONS = ('no-answer', 'reset', 'stun-timeout', 'dns-failure')


def write_expected(path, docs, verdicts):
    """docs: catalog file stems in file-name order; verdicts: {entry_id:
    (verdict, [reasons])}.  Every other entry of those documents is
    not_exercised."""
    known = [e for d in docs for e in DOCS[d]]
    unknown = set(verdicts) - set(known)
    assert not unknown, unknown
    lines = []
    for e in known:
        v, reasons = verdicts.get(e, ('not_exercised', []))
        assert v in VERDICTS, (e, v)
        for r in reasons:
            assert r in REASONS or r.startswith('icmp-'), (e, r)
        assert (v in ('blocked', 'partial')) == bool(reasons), (e, v, reasons)
        lines.append(f'{e}\t{v}\t{",".join(sorted(reasons))}\n')
    with open(path, 'w') as f:
        f.writelines(lines)


# =============================================================================
# Extra payload builders: DTLS 1.2, the vendors' proprietary UDP
# =============================================================================

def dtls_record(ctype, epoch, seq, fragment, version=0xFEFD):
    return struct.pack('!BHH', ctype, version, epoch) + seq.to_bytes(6, 'big') + vec16(fragment)


def dtls_handshake(mtype, mseq, body):
    """one unfragmented DTLS handshake message"""
    return bytes([mtype]) + u24(len(body)) + u16(mseq) + u24(0) + u24(len(body)) + body


def dtls_client_hello(rng):
    """A WebRTC-like DTLS 1.2 ClientHello (use_srtp, ECDHE-ECDSA suites)."""
    suites = [0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0xC009, 0xC013, 0xC00A, 0xC014, 0x009C, 0x002F, 0x0035]
    exts = (tls_ext(23, b'') + tls_ext(0xFF01, b'\x00')
            + tls_ext(10, vec16(b''.join(u16(x) for x in (0x001D, 0x0017, 0x0018))))
            + tls_ext(11, b'\x01\x00')
            + tls_ext(13, vec16(b''.join(u16(x) for x in (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501))))
            + tls_ext(14, vec16(u16(0x0007) + u16(0x0001)) + b'\x00'))
    body = (u16(0xFEFD) + rng.randbytes(32) + vec8(b'') + vec8(b'')
            + vec16(b''.join(u16(s) for s in suites)) + b'\x01\x00' + vec16(exts))
    return dtls_handshake(1, 0, body)


def dtls_server_flight(rng):
    """ServerHello + ServerKeyExchange (ECDHE x25519) + ServerHelloDone"""
    exts = (tls_ext(23, b'') + tls_ext(0xFF01, b'\x00') + tls_ext(11, b'\x01\x00')
            + tls_ext(14, vec16(u16(0x0007)) + b'\x00'))
    sh = u16(0xFEFD) + rng.randbytes(32) + vec8(rng.randbytes(32)) + u16(0xC02B) + b'\x00' + vec16(exts)
    ske = b'\x03' + u16(0x001D) + vec8(rng.randbytes(32)) + u16(0x0403) + vec16(b'\x30\x45' + rng.randbytes(69))
    return [dtls_handshake(2, 0, sh), dtls_handshake(12, 1, ske), dtls_handshake(14, 2, b'')]


def agora_udp(rng, uri, size):
    """Stand-in for Agora's own (undocumented) framing, used over UDP and
    TCP: a marker byte 0xF5, a version byte, little-endian length and URI,
    then an opaque body.  The first byte keeps it from looking like STUN
    (top bits 00), DTLS (20-63), RTP/RTCP (top bits 10), TURN ChannelData
    (0x40-0x7F) or a QUIC long header (bytes 1-4 are no QUIC version)."""
    body = rng.randbytes(size - 6)
    return struct.pack('<BBHH', 0xF5, 0x02, size, uri) + body


# =============================================================================
# Scenario builder
# =============================================================================

class Scene:
    """A capture under construction: packets (via gen_captures.Cap), the
    per-client ephemeral port counters, and helpers for each kind of
    exchange.  Times are microseconds relative to T0."""

    def __init__(self, rng):
        self.cap = Cap()
        self.rng = rng
        self._ports = {}

    def port(self, cli):
        p = self._ports.get(cli, 49152 + (zlib.crc32(cli.encode()) % 4000))
        self._ports[cli] = p + 1 + self.rng.randrange(7)
        return p

    # ---- DNS ----
    def dns(self, t, cli, qname, answers, *, qtype='A', rcode=0, rtt=ms(14), ns=(), answered=True,
            resolver=None):
        """One query and (unless answered=False) its response `rtt` later.
        answers: list of (owner, type, ttl, rdata) with rdata an address
        string (A/AAAA) or Name (CNAME).  Returns the time of the response."""
        resolver = resolver or (RESOLVER6 if ':' in cli else RESOLVER)
        sport = self.port(cli)
        txid = self.rng.getrandbits(16)
        self.cap.udp(t, cli, resolver, sport, 53, dns_query(txid, qname, qtype))
        if answered:
            an = []
            for owner, rt, ttl, rd in answers:
                if rt == 'A':
                    rd = a4(rd)
                elif rt == 'AAAA':
                    rd = a6(rd)
                an.append((owner, rt, ttl, rd))
            resp = dns_msg(txid, 0x8180 | rcode, [(qname, qtype)], an, list(ns),
                           ar=[('', 'OPT', 0, b'', 1232)])
            self.cap.udp(t + rtt, resolver, cli, 53, sport, resp, ttl=61)
        return t + rtt

    def resolve(self, t, cli, name, address, *, ttl=60, cname=None, rtt=ms(14)):
        """A / AAAA lookup of `name`; with cname the answer is name CNAME
        cname, cname A address."""
        qt = 'AAAA' if ':' in address else 'A'
        if cname:
            ans = [(name, 'CNAME', 300, Name(cname)), (cname, qt, ttl, address)]
        else:
            ans = [(name, qt, ttl, address)]
        return self.dns(t, cli, name, ans, qtype=qt, rtt=rtt)

    # ---- TCP ----
    def conn(self, cli, srv, sport, *, sttl=SERVER_TTL, cport=None):
        return TcpConn(self.cap, cli, srv, cport or self.port(cli), sport, rng=self.rng,
                       skw={'ttl': sttl})

    def tls(self, t, cli, srv, sni, *, sport=443, alpn=('h2', 'http/1.1'), exchanges=((420, 2600),),
            rtt=ms(24), close_at=None, sttl=SERVER_TTL):
        """TCP handshake, ClientHello (SNI), server flight, client Finished,
        request/response exchanges (sizes of TLS application data), and a
        FIN close at close_at (absolute) or right after (None), or never
        (close_at=False).  Returns (conn, time after the last exchange)."""
        c = self.conn(cli, srv, sport, sttl=sttl)
        t = c.handshake(t, rtt=rtt)
        ch = tls_client_hello(self.rng, sni, alpn=alpn, pq=False, pad_to=512)
        t = c.send('c', t + ms(1), tls_record(22, ch, 0x0301), rtt=rtt)
        t = c.send('s', t + rtt // 2 + ms(2), g._tls_server_flight(self.rng, ch), rtt=rtt)
        t = c.send('c', t + ms(2), tls_record(20, b'\x01') + tls_record(23, self.rng.randbytes(53)), rtt=rtt)
        for up, down in exchanges:
            t = c.send('c', t + ms(3), tls_record(23, self.rng.randbytes(up)), rtt=rtt, ack=False)
            t = c.send('s', t + rtt + ms(6), tls_record(23, self.rng.randbytes(down)), rtt=rtt)
        if close_at is None:
            c.close(t + ms(40), rtt=rtt)
        elif close_at is not False:
            c.close(close_at, rtt=rtt)
        return c, t

    def tls_ping(self, c, t, up=31, down=31, rtt=ms(24)):
        """a websocket ping/pong inside an established TLS connection"""
        t2 = c.send('c', t, tls_record(23, self.rng.randbytes(up)), rtt=rtt, ack=False)
        c.send('s', t2 + rtt, tls_record(23, self.rng.randbytes(down)), rtt=rtt)

    def tcp_plain(self, t, cli, srv, sport, exchanges, *, rtt=ms(30), sttl=SERVER_TTL):
        """a non-TLS TCP connection (vendor binary protocol) kept open"""
        c = self.conn(cli, srv, sport, sttl=sttl)
        t = c.handshake(t, rtt=rtt)
        for up, down in exchanges:
            t = c.send('c', t + ms(2), agora_udp(self.rng, 0x0100 + up % 7, up), rtt=rtt, ack=False)
            t = c.send('s', t + rtt, agora_udp(self.rng, 0x0200 + down % 7, down), rtt=rtt)
        return c, t

    def tcp_heartbeat(self, c, t, size=22, rtt=ms(30)):
        t2 = c.send('c', t, agora_udp(self.rng, 0x0301, size), rtt=rtt, ack=False)
        c.send('s', t2 + rtt, agora_udp(self.rng, 0x0302, size), rtt=rtt)

    def syn_no_answer(self, t, cli, srv, sport, retx=SYN_RETX):
        """SYN retransmitted (Linux timing), never answered: a silent drop"""
        c = self.conn(cli, srv, sport)
        isn = c.nxt['c']
        for dt in retx:
            c.pkt('c', t + sec(dt), 'S', seq=isn, opts=tcpopt_syn())
        return c

    def syn_reset(self, t, cli, srv, sport, *, rst_ttl=FIREWALL_TTL, delay=ms(2)):
        """SYN answered by RST/ACK (by default forged by the firewall one hop
        away: TTL 63, 2 ms, unlike the server's own packets)"""
        c = self.conn(cli, srv, sport, sttl=rst_ttl)
        c.pkt('c', t, 'S', opts=tcpopt_syn())
        c.pkt('s', t + delay, 'RA', seq=0)
        return c

    def single_syn(self, t, cli, srv, sport):
        c = self.conn(cli, srv, sport)
        c.pkt('c', t, 'S', opts=tcpopt_syn())
        return c

    # ---- UDP ----
    def udp(self, t, src, dst, sport, dport, payload, **kw):
        if 'ttl' not in kw and not g.is_local(g.addr(src)):
            kw['ttl'] = SERVER_TTL
        return self.cap.udp(t, src, dst, sport, dport, payload, **kw)

    def udp_retx(self, t, cli, srv, cport, sport, payload, schedule):
        """the same datagram sent at t + each offset (seconds), unanswered"""
        pkts = []
        for dt in schedule:
            pkts.append(self.udp(t + sec(dt), cli, srv, cport, sport, payload))
        return pkts

    def icmp(self, t, orig_pkt, typ, code, *, sender=ROUTER, ttl=ROUTER_TTL, quote=None):
        self.cap.add(t, ip_icmp_error(sender, orig_pkt, typ, code, ttl=ttl, quote=quote))

    # ---- STUN / ICE / TURN ----
    def stun_binding(self, t, cli, srv, cport, sport, *, rtt=ms(30), mapped=(NAT_PUBLIC, None)):
        """plain STUN Binding (server-reflexive discovery), answered"""
        tid = self.rng.randbytes(12)
        self.udp(t, cli, srv, cport, sport, stun_msg('BindingRequest', tid, []))
        mport = mapped[1] or (cport + 10000) % 65536
        self.udp(t + rtt, srv, cli, sport, cport,
                 stun_msg('BindingSuccess', tid, [('XOR-MAPPED-ADDRESS', stun_xor_addr(mapped[0], mport, tid))]))
        return t + rtt

    def ice_request(self, tid, ufrag_remote, ufrag_local, pwd, *, controlling=True, use=False):
        attrs = [('USERNAME', f'{ufrag_remote}:{ufrag_local}'.encode()),
                 ('ICE-CONTROLLING' if controlling else 'ICE-CONTROLLED', self.rng.randbytes(8)),
                 ('PRIORITY', u32(1845501695))]
        if use:
            attrs.append(('USE-CANDIDATE', b''))
        return stun_msg('BindingRequest', tid, attrs, key=pwd)

    def ice_success(self, tid, mapped_ip, mapped_port, pwd):
        return stun_msg('BindingSuccess', tid, [('XOR-MAPPED-ADDRESS', stun_xor_addr(mapped_ip, mapped_port, tid))],
                        key=pwd)

    def ice_unanswered(self, t, cli, srv, cport, sport, schedule=STUN_RETX):
        """an ICE connectivity check retransmitted (same transaction) with no
        response"""
        tid = self.rng.randbytes(12)
        req = self.ice_request(tid, self.ufrag(), self.ufrag(), self.rng.randbytes(22))
        return self.udp_retx(t, cli, srv, cport, sport, req, schedule)

    def ufrag(self):
        return ''.join(self.rng.choice('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')
                       for _ in range(4))

    def webrtc_media(self, t, cli, srv, cport, sport, *, seconds=3.0, rtt=ms(40), mapped=(NAT_PUBLIC, None),
                     peer_checks=True, dtls=True, video=False):
        """ICE check both ways (answered), DTLS handshake, then SRTP (RTP
        header + opaque payload) both ways every 20 ms, RTCP every second."""
        rng = self.rng
        lu, ru = self.ufrag(), self.ufrag()
        lpwd, rpwd = rng.randbytes(22), rng.randbytes(22)
        tid = rng.randbytes(12)
        mport = mapped[1] or (cport + 10000) % 65536
        self.udp(t, cli, srv, cport, sport, self.ice_request(tid, ru, lu, rpwd, use=True))
        self.udp(t + rtt, srv, cli, sport, cport, self.ice_success(tid, mapped[0], mport, rpwd))
        t += rtt
        if peer_checks:
            tid = rng.randbytes(12)
            self.udp(t + ms(3), srv, cli, sport, cport, self.ice_request(tid, lu, ru, lpwd, controlling=False))
            self.udp(t + ms(4), cli, srv, cport, sport, self.ice_success(tid, srv, sport, lpwd))
            t += ms(4)
        if dtls:
            t += ms(2)
            self.udp(t, cli, srv, cport, sport, dtls_record(22, 0, 0, dtls_client_hello(rng), version=0xFEFF))
            t += rtt
            self.udp(t, srv, cli, sport, cport, b''.join(dtls_record(22, 0, i, m) for i, m in
                                                          enumerate(dtls_server_flight(rng))))
            t += ms(3)
            self.udp(t, cli, srv, cport, sport,
                     dtls_record(22, 0, 1, dtls_handshake(16, 1, vec8(rng.randbytes(32))))
                     + dtls_record(20, 0, 2, b'\x01') + dtls_record(22, 1, 0, rng.randbytes(40)))
            t += rtt
            self.udp(t, srv, cli, sport, cport, dtls_record(20, 0, 3, b'\x01') + dtls_record(22, 1, 0, rng.randbytes(40)))
        t += ms(5)
        n = int(seconds * 50)
        ssrc_c, ssrc_s = rng.getrandbits(32), rng.getrandbits(32)
        seq_c, seq_s = rng.getrandbits(16), rng.getrandbits(16)
        ts_c, ts_s = rng.getrandbits(32), rng.getrandbits(32)
        for i in range(n):
            tc = t + i * ms(20)
            pt, clock = 111, 960
            size_c = rng.randrange(70, 130)
            size_s = rng.randrange(70, 130)
            self.udp(tc, cli, srv, cport, sport,
                     rtp(pt, seq_c + i, ts_c + clock * i, ssrc_c, rng.randbytes(size_c) + rng.randbytes(10), marker=i == 0))
            self.udp(tc + ms(11) + rng.randrange(0, 3000), srv, cli, sport, cport,
                     rtp(pt, seq_s + i, ts_s + clock * i, ssrc_s, rng.randbytes(size_s) + rng.randbytes(10), marker=i == 0))
            if i % 50 == 25:
                # SRTCP: RTCP header in clear, encrypted rest + index + tag
                sr = g.rtcp_sr(ssrc_c, g.T0 * g.US + tc, ts_c + clock * i, i, i * 100)
                self.udp(tc + ms(5), cli, srv, cport, sport, sr[:8] + rng.randbytes(len(sr) - 8)
                         + u32(0x80000000 | (i // 50)) + rng.randbytes(10))
        return t + n * ms(20)

    def turn_allocate(self, t, cli, srv, cport, sport, *, relay, mapped, user, realm, password, rtt=ms(30)):
        """TURN Allocate over UDP: 401 (REALM/NONCE), authenticated retry,
        success with XOR-RELAYED-ADDRESS / XOR-MAPPED-ADDRESS / LIFETIME."""
        rng = self.rng
        sw = [('SOFTWARE', b'Chrome WebRTC')]
        tid = rng.randbytes(12)
        self.udp(t, cli, srv, cport, sport, stun_msg('AllocateRequest', tid, [('REQUESTED-TRANSPORT', b'\x11\0\0\0')]))
        nonce = rng.randbytes(12).hex().encode()
        self.udp(t + rtt, srv, cli, sport, cport,
                 stun_msg('AllocateError', tid, [('ERROR-CODE', stun_error_code(401, 'Unauthorized')),
                                                 ('REALM', realm.encode()), ('NONCE', nonce)]))
        t += rtt + ms(2)
        key = turn_long_term_key(user, realm, password)
        tid = rng.randbytes(12)
        auth = [('USERNAME', user.encode()), ('REALM', realm.encode()), ('NONCE', nonce)]
        self.udp(t, cli, srv, cport, sport,
                 stun_msg('AllocateRequest', tid, [('REQUESTED-TRANSPORT', b'\x11\0\0\0')] + auth + sw, key=key))
        self.udp(t + rtt, srv, cli, sport, cport,
                 stun_msg('AllocateSuccess', tid, [('XOR-RELAYED-ADDRESS', stun_xor_addr(*relay, tid)),
                                                   ('LIFETIME', u32(600)),
                                                   ('XOR-MAPPED-ADDRESS', stun_xor_addr(*mapped, tid))], key=key))
        return t + rtt

    # ---- vendor UDP (not STUN/RTP) ----
    def vendor_udp_exchange(self, t, cli, srv, cport, sport, rounds, *, rtt=ms(35), sizes=(64, 120)):
        for i in range(rounds):
            self.udp(t, cli, srv, cport, sport, agora_udp(self.rng, 0x0010 + i, sizes[0] + self.rng.randrange(24)))
            self.udp(t + rtt, srv, cli, sport, cport, agora_udp(self.rng, 0x0090 + i, sizes[1] + self.rng.randrange(40)))
            t += rtt + ms(180)
        return t

    def write(self, path):
        frames = self.cap.frames()
        write_pcap(path, DLT_EN10MB, frames)
        return len(frames)


# =============================================================================
# 1. Sendbird Calls
# =============================================================================

@scenario('sendbird_calls')
def sc_sendbird(s):
    """Sendbird Calls in a browser: REST API over IPv6 and the websocket
    over IPv4 get through (TCP 443, SNI *.calls.sendbird.com); the Direct
    Call media server on UDP 5349 never answers its TURN Allocate (STUN
    retransmitted 0/0.5/1.5/3.5/7.5 s); the call then goes peer to peer:
    ICE check answered, DTLS, SRTP both ways with the other party's
    address (no name at all)."""
    C, C6 = '10.1.0.10', '2001:db8:1::10'
    API, API6, WS = '203.0.113.10', '2001:db8:2::10', '203.0.113.11'
    MEDIA, PEER, PEER_PORT = '198.51.100.20', '203.0.113.77', 53210
    # REST API: A over IPv4 and AAAA over IPv6 (happy eyeballs: IPv6 wins)
    s.resolve(0, C, 'api-4c1d.calls.sendbird.com', API)
    t = s.resolve(ms(1), C6, 'api-4c1d.calls.sendbird.com', API6)
    s.tls(t + ms(2), C6, API6, 'api-4c1d.calls.sendbird.com', exchanges=((380, 1900), (260, 700)))
    # websocket, kept open to the end with pings
    t = s.resolve(ms(400), C, 'ws-4c1d.calls.sendbird.com', WS)
    ws, _ = s.tls(t + ms(2), C, WS, 'ws-4c1d.calls.sendbird.com', alpn=('http/1.1',),
                  exchanges=((310, 220), (180, 640)), close_at=False)
    for k in range(6):
        s.tls_ping(ws, sec(2.5 + 2 * k))
    # Direct Call: media server on UDP 5349, TURN Allocate never answered
    t = s.resolve(sec(3), C, 'media-ap2.calls.sendbird.com', MEDIA)
    tid = s.rng.randbytes(12)
    alloc = stun_msg('AllocateRequest', tid, [('REQUESTED-TRANSPORT', b'\x11\0\0\0'),
                                              ('SOFTWARE', b'Chrome WebRTC')])
    s.udp_retx(t + ms(3), C, MEDIA, s.port(C), 5349, alloc, STUN_RETX)
    # P2P: the peer's server-reflexive candidate, learned over the websocket
    s.webrtc_media(sec(3.4), C, PEER, s.port(C), PEER_PORT, seconds=3.0, rtt=ms(38))
    # the capture ends with the last websocket pong (~12.5 s)
    write_expected_for = {
        'sendbird-calls.signal.tcp': ('observed', []),
        'sendbird-calls.media-direct-call.udp': ('blocked', ['stun-timeout']),
        'sendbird-calls.p2p-stun.udp': ('observed', []),
    }
    return ['sendbird_calls'], write_expected_for


# =============================================================================
# 2. Whereby
# =============================================================================

@scenario('whereby')
def sc_whereby(s):
    """Whereby in a browser behind a firewall that rejects UDP 443 with ICMP
    3/13 and silently drops other UDP: page load (whereby.com, not a catalog
    name), signaling wss (SNI signal.srv.whereby.com) and Sentry (third
    party) get through; TURN over UDP 443 is rejected by ICMP
    admin-prohibited from a router; TURN over TLS/TCP 443 works (fallback,
    relayed media inside TLS); ICE checks to the remote party's relayed
    candidate on the TURN server's high port 54321 are never answered."""
    C = '10.1.0.10'
    WEB, SIG, SENTRY, TURN = '192.0.2.80', '198.51.100.30', '192.0.2.90', '198.51.100.50'
    t = s.resolve(0, C, 'whereby.com', WEB, ttl=300)
    s.tls(t + ms(2), C, WEB, 'whereby.com', exchanges=((510, 5200), (450, 2400)))
    t = s.resolve(ms(420), C, 'signal.srv.whereby.com', SIG, cname='signal-eu-west-1.srv.whereby.com')
    sig, _ = s.tls(t + ms(2), C, SIG, 'signal.srv.whereby.com', alpn=('http/1.1',),
                   exchanges=((350, 260), (220, 900)), close_at=False)
    for k in range(5):
        s.tls_ping(sig, sec(2.2 + 2 * k))
    t = s.resolve(ms(600), C, 'o417.ingest.sentry.io', SENTRY)
    s.tls(t + ms(2), C, SENTRY, 'o417.ingest.sentry.io', exchanges=((900, 120),))
    # TURN: UDP 443 first, rejected with ICMP 3/13 by the router
    t = s.resolve(sec(1), C, 'turn-eu1.turn.whereby.com', TURN)
    cport = s.port(C)
    tid = s.rng.randbytes(12)
    alloc = stun_msg('AllocateRequest', tid, [('REQUESTED-TRANSPORT', b'\x11\0\0\0'),
                                              ('SOFTWARE', b'Chrome WebRTC')])
    for dt in (0, 0.5):
        p = s.udp(t + ms(3) + sec(dt), C, TURN, cport, 443, alloc)
        s.icmp(t + ms(7) + sec(dt), p, 3, 13)
    # TURN over TLS on TCP 443: works; relayed media inside TLS records
    tt, t2 = s.tls(t + ms(700), C, TURN, 'turn-eu1.turn.whereby.com', alpn=('http/1.1',),
                   exchanges=((220, 260), (180, 140)), close_at=False)
    t2 += ms(10)
    for i in range(90):                       # ~40 ms of audio per record, both ways
        tt.pkt('c', t2 + i * ms(40), 'PA', tls_record(23, s.rng.randbytes(s.rng.randrange(180, 260))))
        tt.pkt('s', t2 + i * ms(40) + ms(17), 'PA', tls_record(23, s.rng.randbytes(s.rng.randrange(180, 260))))
    tt.close(t2 + 90 * ms(40) + ms(30))
    # ICE checks to the remote party's relayed candidate (TURN server, high port)
    s.ice_unanswered(sec(2.2), C, TURN, s.port(C), 54321)
    # the capture ends with the last signaling pong (~10.2 s)
    return ['whereby'], {
        'whereby.signaling.tcp': ('observed', []),
        'whereby.turn.tcp': ('observed', []),
        'whereby.turn.udp': ('blocked', ['icmp-3-13']),
        'whereby.turn-sfu-highport.udp': ('blocked', ['stun-timeout']),
        'whereby.third-party.tcp': ('observed', []),
    }


# =============================================================================
# 3. Agora 2020 RTC Web SDK
# =============================================================================

@scenario('agora_2020_rtc_web')
def sc_agora_rtc_web(s):
    """Agora RTC Web SDK (4.x, so >= 2.9) in a browser: the access point
    (TLS 443, SNI webrtc2-ap-web-1.agora.io, CNAME to ap-web-1.edge.agora.io)
    and the gateway websocket on TCP 5668 get through; TCP 8667 to the same
    gateway is reset by the firewall (RST TTL 63, the gateway's own packets
    have TTL 52); STUN on UDP 3478 is answered; of the two UDP gateway ports
    in 5866-6000, 5889 carries ICE + DTLS + SRTP and 5930 never answers its
    ICE checks."""
    C = '10.1.0.10'
    AP, GW = '203.0.113.100', '203.0.113.101'
    t = s.resolve(0, C, 'webrtc2-ap-web-1.agora.io', AP, cname='ap-web-1.edge.agora.io')
    s.tls(t + ms(2), C, AP, 'webrtc2-ap-web-1.agora.io', exchanges=((600, 1400),))
    t = s.resolve(ms(450), C, '203-0-113-101.edge.agora.io', GW)
    gw, _ = s.tls(t + ms(2), C, GW, '203-0-113-101.edge.agora.io', sport=5668, alpn=('http/1.1',),
                  exchanges=((420, 380), (300, 900)), close_at=False)
    for k in range(5):
        s.tls_ping(gw, sec(2.5 + 2 * k))
    s.syn_reset(t + ms(3), C, GW, 8667)
    t = s.stun_binding(sec(1.0), C, GW, s.port(C), 3478)
    s.ice_unanswered(sec(1.2), C, GW, s.port(C), 5930)
    s.webrtc_media(sec(1.21), C, GW, s.port(C), 5889, seconds=3.0, rtt=ms(36))
    # the capture ends with the last websocket pong (~10.5 s)
    return ['agora_2018', 'agora_2020'], {
        'agora-2020.rtc-web.tcp': ('partial', ['reset']),
        'agora-2020.rtc-web.udp': ('observed', []),
        'agora-2020.rtc-web.udp-v2.9': ('partial', ['stun-timeout']),
        'agora-2020.rtm-web.tcp': ('observed', []),
        'agora-2018.web.tcp': ('partial', ['reset']),
        'agora-2018.web.udp': ('observed', []),
    }


# =============================================================================
# 4. Agora 2020 RTM Native + RTM Web
# =============================================================================

@scenario('agora_2020_rtm')
def sc_agora_rtm(s):
    """Agora RTM: a native app (10.1.0.31) and a browser (10.1.0.32).
    Native: UDP 8000 answered, UDP 1080 rejected by ICMP 3/10 from the
    router, UDP 25000 silently dropped (Agora's own UDP, resent at 1, 2, 4
    s); TCP 9130 works, TCP 9131 silently dropped (SYN resent at 1, 3, 7 s).
    Web: TLS 443 to ap-web-1.agora.io and logservice-rtm.agora.io, wss on
    TCP 9591 to the edge work; TCP 9593 silently dropped."""
    N, W = '10.1.0.31', '10.1.0.32'
    AP, EDGE_N = '203.0.113.110', '203.0.113.111'
    AP_W, LOG_W, EDGE_W = '203.0.113.120', '203.0.113.125', '203.0.113.121'
    # --- RTM Native ---
    t = s.resolve(0, N, 'rtm-ap1.agora.io', AP)
    s.vendor_udp_exchange(t + ms(2), N, AP, s.port(N), 8000, 3)
    cport = s.port(N)
    for dt in (0, 1):
        p = s.udp(t + ms(4) + sec(dt), N, AP, cport, 1080, agora_udp(s.rng, 0x0011, 72))
        s.icmp(t + ms(8) + sec(dt), p, 3, 10)
    s.udp_retx(t + ms(6), N, AP, s.port(N), 25000, agora_udp(s.rng, 0x0012, 80), (0, 1, 2, 4))
    t = s.resolve(ms(700), N, 'rtm-edge-3.agora.io', EDGE_N)
    rtm, _ = s.tcp_plain(t + ms(2), N, EDGE_N, 9130, ((180, 96), (64, 240)))
    for k in range(3):
        s.tcp_heartbeat(rtm, sec(3 + 2.5 * k))
    s.syn_no_answer(t + ms(3), N, EDGE_N, 9131)
    # --- RTM Web ---
    t = s.resolve(sec(1), W, 'ap-web-1.agora.io', AP_W)
    s.tls(t + ms(2), W, AP_W, 'ap-web-1.agora.io', exchanges=((560, 1300),))
    t = s.resolve(sec(1.3), W, 'logservice-rtm.agora.io', LOG_W)
    s.tls(t + ms(2), W, LOG_W, 'logservice-rtm.agora.io', exchanges=((1400, 90),))
    t = s.resolve(sec(1.6), W, '203-0-113-121.edge.agora.io', EDGE_W)
    ws, _ = s.tls(t + ms(2), W, EDGE_W, '203-0-113-121.edge.agora.io', sport=9591, alpn=('http/1.1',),
                  exchanges=((330, 270),), close_at=False)
    for k in range(3):
        s.tls_ping(ws, sec(3.5 + 2.5 * k))
    s.syn_no_answer(t + ms(3), W, EDGE_W, 9593)
    # the capture ends with the last heartbeat (~9.6 s)
    blocked_udp = ['icmp-3-10', 'no-answer']
    return ['agora_2018', 'agora_2020'], {
        'agora-2020.rtc-web.tcp': ('observed', []),
        'agora-2020.rtc-web.udp-pre-2.9': ('blocked', ['no-answer']),
        'agora-2020.rtm-native.tcp': ('partial', ['no-answer']),
        'agora-2020.rtm-native.udp': ('partial', blocked_udp),
        'agora-2020.rtm-web.tcp': ('partial', ['no-answer']),
        'agora-2018.native.udp': ('partial', blocked_udp),
        'agora-2018.web.tcp': ('observed', []),
        'agora-2018.web.udp': ('blocked', ['no-answer']),
        'agora-2018.recording.udp-duplex': ('partial', blocked_udp),
        'agora-2018.gaming.udp': ('partial', blocked_udp),
    }


# =============================================================================
# 5. Agora 2018, one capture per SDK
# =============================================================================

@scenario('agora_2018_native')
def sc_agora_2018_native(s):
    """Agora Native SDK (2018): UDP works (AP ap2.agora.io on 8000, voice
    server vocs3.agora.io on 4001); the TCP fallback is blocked: TCP 9700 to
    qoslbs.agoralab.co silently dropped, TCP 8000 to ap2.agora.io reset by
    the firewall."""
    C = '10.1.0.41'
    AP, QOS, VOCS = '203.0.113.130', '198.51.100.131', '203.0.113.132'
    t = s.resolve(0, C, 'ap2.agora.io', AP)
    s.vendor_udp_exchange(t + ms(2), C, AP, s.port(C), 8000, 2)
    s.syn_reset(t + ms(3), C, AP, 8000)
    t = s.resolve(ms(150), C, 'qoslbs.agoralab.co', QOS)
    s.syn_no_answer(t + ms(2), C, QOS, 9700)
    t = s.resolve(ms(600), C, 'vocs3.agora.io', VOCS)
    t = s.vendor_udp_exchange(t + ms(2), C, VOCS, s.port(C), 4001, 2)
    # voice: Agora's own media framing, 20 ms both ways for 6 s, ends the capture
    cport = s.port(C)
    for i in range(300):
        tc = t + ms(20) * i
        s.udp(tc, C, VOCS, cport, 4001, agora_udp(s.rng, 0x0500, 96 + s.rng.randrange(40)))
        if i % 2 == 0:      # the server bundles two frames
            s.udp(tc + ms(13), VOCS, C, 4001, cport, agora_udp(s.rng, 0x0501, 180 + s.rng.randrange(60)))
    return ['agora_2018', 'agora_2020'], {
        'agora-2018.native.tcp': ('blocked', ['no-answer', 'reset']),
        'agora-2018.native.udp': ('observed', []),
        'agora-2018.recording.tcp': ('blocked', ['reset']),
        'agora-2018.recording.udp-duplex': ('observed', []),
        'agora-2018.gaming.tcp': ('blocked', ['reset']),
        'agora-2018.gaming.udp': ('observed', []),
        'agora-2020.rtm-native.udp': ('observed', []),
    }


@scenario('agora_2018_web')
def sc_agora_2018_web(s):
    """Agora Web SDK 2.x (2018 edition, before 2.9): TLS 443 to the access
    point and wss on TCP 5669 to the gateway work; UDP does not: STUN to the
    gateway's 3478 is rejected with ICMP 3/13 by the router and ICE checks
    to its media port 10012 are never answered."""
    C = '10.1.0.42'
    AP, GW = '203.0.113.140', '203.0.113.141'
    t = s.resolve(0, C, 'webrtc2-ap-web-3.agora.io', AP)
    s.tls(t + ms(2), C, AP, 'webrtc2-ap-web-3.agora.io', exchanges=((580, 1250),))
    t = s.resolve(ms(400), C, '203-0-113-141.edge.agora.io', GW)
    gw, _ = s.tls(t + ms(2), C, GW, '203-0-113-141.edge.agora.io', sport=5669, alpn=('http/1.1',),
                  exchanges=((400, 350), (280, 760)), close_at=False)
    for k in range(10):                  # websocket messages, end the capture (~10.5 s)
        s.tls_ping(gw, sec(1.5 + k), up=31 + s.rng.randrange(120), down=31 + s.rng.randrange(300))
    cport = s.port(C)
    tid = s.rng.randbytes(12)
    req = stun_msg('BindingRequest', tid, [])
    for dt in (0, 0.5):
        p = s.udp(sec(1) + sec(dt), C, GW, cport, 3478, req)
        s.icmp(sec(1) + ms(4) + sec(dt), p, 3, 13)
    s.ice_unanswered(sec(1.1), C, GW, s.port(C), 10012)
    return ['agora_2018', 'agora_2020'], {
        'agora-2018.web.tcp': ('observed', []),
        'agora-2018.web.udp': ('blocked', ['icmp-3-13', 'stun-timeout']),
        'agora-2020.rtc-web.tcp': ('observed', []),
        'agora-2020.rtc-web.udp': ('blocked', ['icmp-3-13']),
        'agora-2020.rtc-web.udp-pre-2.9': ('blocked', ['stun-timeout']),
        'agora-2020.rtm-web.tcp': ('observed', []),
    }


@scenario('agora_2018_signaling')
def sc_agora_2018_signaling(s):
    """Agora Signaling SDK (2018): TCP 8001 to signal-lbs.agora.io works
    (login, heartbeats); its UDP ports 8181 and 8195 are silently dropped
    (Agora's own UDP, resent at 1, 2, 4 s)."""
    C = '10.1.0.43'
    SIG = '203.0.113.150'
    t = s.resolve(0, C, 'signal-lbs.agora.io', SIG)
    c, _ = s.tcp_plain(t + ms(2), C, SIG, 8001, ((140, 88), (60, 310)))
    for k in range(24):                  # channel messages and heartbeats, ends the capture (~10.7 s)
        s.tcp_heartbeat(c, sec(1.2 + 0.4 * k) + s.rng.randrange(0, 90000), size=40 + s.rng.randrange(200))
    s.udp_retx(t + ms(4), C, SIG, s.port(C), 8181, agora_udp(s.rng, 0x0021, 60), (0, 1, 2, 4))
    s.udp_retx(t + ms(5), C, SIG, s.port(C), 8195, agora_udp(s.rng, 0x0021, 60), (0, 1, 2, 4))
    return ['agora_2018', 'agora_2020'], {
        'agora-2018.signaling.tcp': ('observed', []),
        'agora-2018.signaling.udp': ('blocked', ['no-answer']),
    }


@scenario('agora_2018_recording')
def sc_agora_2018_recording(s):
    """Agora Recording SDK (2018) on a recording server (10.1.0.44): the
    duplex port UDP 4001 to vocs.agora.io works; TCP 8000 to qoslbs.agora.io
    is silently dropped; vocs.agora.io then streams the channel's audio and
    video DOWN to the recorder's local UDP ports 40000 and 40002 (first
    packet from Agora: inbound, the recorder never sends on those ports)."""
    C = '10.1.0.44'
    VOCS, QOS = '198.51.100.160', '198.51.100.161'
    t = s.resolve(0, C, 'vocs.agora.io', VOCS)
    t2 = s.resolve(ms(5), C, 'qoslbs.agora.io', QOS)
    cport = s.port(C)
    t = s.vendor_udp_exchange(t + ms(3), C, VOCS, cport, 4001, 4)
    s.syn_no_answer(t2 + ms(3), C, QOS, 8000)
    # downstream: audio (50 pps) to 40000 and video (30 pps, bigger) to 40002
    t0 = sec(1.2)
    for i in range(150):
        s.udp(t0 + i * ms(20), VOCS, C, 4001, 40000, agora_udp(s.rng, 0x0600, 110 + s.rng.randrange(50)))
    for i in range(90):
        s.udp(t0 + ms(7) + i * ms(33), VOCS, C, 4001, 40002, agora_udp(s.rng, 0x0601, 700 + s.rng.randrange(500)))
    # duplex keepalive every 2 s until the end (~9.2 s)
    for k in range(4):
        s.vendor_udp_exchange(sec(3.2 + 2 * k), C, VOCS, cport, 4001, 1, sizes=(40, 40))
    return ['agora_2018', 'agora_2020'], {
        'agora-2018.native.tcp': ('blocked', ['no-answer']),
        'agora-2018.native.udp': ('observed', []),
        'agora-2018.recording.tcp': ('blocked', ['no-answer']),
        'agora-2018.recording.udp-duplex': ('observed', []),
        'agora-2018.recording.udp-downstream': ('observed', []),
        'agora-2018.gaming.tcp': ('blocked', ['no-answer']),
        'agora-2018.gaming.udp': ('observed', []),
    }


@scenario('agora_2018_gaming')
def sc_agora_2018_gaming(s):
    """Agora Gaming SDK (2018): UDP is blocked (UDP 4002 to vocs.agora.io
    silently dropped; UDP 9700 to qos.agora.io answered by ICMP 3/3 port
    unreachable from qos.agora.io itself); the TCP fallback on 1080 to
    vocs.agora.io works."""
    C = '10.1.0.45'
    VOCS, QOS = '203.0.113.170', '203.0.113.171'
    t = s.resolve(0, C, 'vocs.agora.io', VOCS)
    t2 = s.resolve(ms(5), C, 'qos.agora.io', QOS)
    s.udp_retx(t + ms(3), C, VOCS, s.port(C), 4002, agora_udp(s.rng, 0x0031, 96), (0, 1, 2, 4))
    cport = s.port(C)
    for dt in (0, 1):
        p = s.udp(t2 + ms(3) + sec(dt), C, QOS, cport, 9700, agora_udp(s.rng, 0x0032, 48))
        s.icmp(t2 + ms(33) + sec(dt), p, 3, 3, sender=QOS, ttl=SERVER_TTL, quote=28)
    c, t3 = s.tcp_plain(sec(4.5), C, VOCS, 1080, ((200, 96), (96, 160)))
    for i in range(60):                  # voice over TCP, 100 ms bundles, ends the capture (~11 s)
        s.tcp_heartbeat(c, t3 + ms(100) * (i + 1), size=300)
    return ['agora_2018', 'agora_2020'], {
        'agora-2018.native.tcp': ('observed', []),
        'agora-2018.native.udp': ('blocked', ['icmp-3-3', 'no-answer']),
        'agora-2018.signaling.tcp': ('observed', []),
        'agora-2018.recording.tcp': ('observed', []),
        'agora-2018.recording.udp-duplex': ('blocked', ['icmp-3-3', 'no-answer']),
        'agora-2018.gaming.tcp': ('observed', []),
        'agora-2018.gaming.udp': ('blocked', ['icmp-3-3', 'no-answer']),
    }


# =============================================================================
# 6. Inconclusive attempts and DNS edge cases
# =============================================================================

@scenario('inconclusive_and_dns')
def sc_inconclusive_and_dns(s):
    """Two clients (10.1.0.21 = C1, 10.1.0.22 = C2), four situations:
    - one address (203.0.113.60) answers for a Sendbird name AND an Agora
      name (C1 resolved both): TLS with SNI api-7d21.calls.sendbird.com to
      it, and Agora RTM on TCP 9130 to it;
    - C1 and C2 resolve turn-eu1.turn.whereby.com to different addresses
      (198.51.100.41 / .42) and both allocate on UDP 443; C1 also SYNs
      C2's address (198.51.100.42) on TCP 443 (learned by IP, never resolved
      by C1), silently dropped;
    - C2 SYNs 198.51.100.31:443 at 3.0 s (silently dropped) while its DNS
      answer eu-west-1.srv.whereby.com -> 198.51.100.31 only arrives at
      3.3 s; at 9.95 s C2 SYNs it again, 50 ms before the capture ends;
    - C2's lookup of media-ap2.calls.sendbird.com is answered NXDOMAIN
      (twice), and nothing is sent to that name."""
    C1, C2 = '10.1.0.21', '10.1.0.22'
    SHARED, T1, T2, W = '203.0.113.60', '198.51.100.41', '198.51.100.42', '198.51.100.31'
    # one address, two vendors' names
    s.resolve(0, C1, 'api-7d21.calls.sendbird.com', SHARED)
    t = s.resolve(ms(20), C1, 'rtm-shared.agora.io', SHARED)
    s.tls(t + ms(60), C1, SHARED, 'api-7d21.calls.sendbird.com', exchanges=((400, 1600),))
    rtm, _ = s.tcp_plain(ms(300), C1, SHARED, 9130, ((180, 96),))
    for k in range(3):
        s.tcp_heartbeat(rtm, sec(3.4 + 3 * k))
    # two clients, one name, two addresses
    t1 = s.resolve(sec(1), C1, 'turn-eu1.turn.whereby.com', T1)
    t2 = s.resolve(sec(1) + ms(10), C2, 'turn-eu1.turn.whereby.com', T2)
    user, realm, pw = '1767229200:c1', 'whereby.com', 'turn-secret-1'
    s.turn_allocate(t1 + ms(80), C1, T1, s.port(C1), 443, relay=('198.51.100.141', 50001),
                    mapped=(NAT_PUBLIC, 61021), user=user, realm=realm, password=pw)
    s.turn_allocate(t2 + ms(120), C2, T2, s.port(C2), 443, relay=('198.51.100.142', 50002),
                    mapped=(NAT_PUBLIC, 61022), user='1767229200:c2', realm=realm, password='turn-secret-2')
    s.syn_no_answer(sec(2), C1, T2, 443, retx=(0, 1, 3))
    # the flow starts before the DNS answer that names its address
    s.dns(sec(2.95), C2, 'eu-west-1.srv.whereby.com', [('eu-west-1.srv.whereby.com', 'A', 60, W)],
          rtt=ms(350))
    s.syn_no_answer(sec(3), C2, W, 443, retx=(0, 1, 3))
    # NXDOMAIN from the DNS filter, retried once
    soa = [('calls.sendbird.com', 'SOA', 300, dns_soa('ns1.calls.sendbird.com', 'hostmaster.sendbird.com'))]
    for dt in (0, 1):
        s.dns(sec(5 + dt), C2, 'media-ap2.calls.sendbird.com', [], rcode=3, ns=soa)
    # a single SYN 50 ms before the end; the last RTM heartbeat defines the end (10.000 s)
    s.single_syn(sec(9.95), C2, W, 443)
    s.tcp_heartbeat(rtm, sec(10) - ms(45), rtt=ms(30))
    return ['agora_2018', 'agora_2020', 'sendbird_calls', 'whereby'], {
        'sendbird-calls.signal.tcp': ('observed', []),
        'sendbird-calls.media-direct-call.udp': ('blocked', ['dns-failure']),
        'whereby.signaling.tcp': ('inconclusive', []),
        'whereby.turn.udp': ('observed', []),
        'agora-2020.rtm-native.tcp': ('observed', []),
    }


# =============================================================================
# 7. Field truth: what real calls made by other software do
# =============================================================================

def multicast_noise(s, t, cli):
    """What every LAN carries and no firewall answers: DHCP discover to the
    limited broadcast, DHCPv6 solicit, mDNS and SSDP queries to their
    groups, each repeated as their clients do."""
    for dt in (0, 2.0, 4.0):           # DHCP DISCOVER (op 1, xid), padded BOOTP
        s.udp(t + sec(dt), '0.0.0.0', '255.255.255.255', 68, 67,
              b'\x01\x01\x06\x00' + u32(0x3903F326) + bytes(228) + b'\x63\x82\x53\x63\x35\x01\x01\xff', ttl=64)
    for dt in (0.5, 1.5, 3.5):         # DHCPv6 SOLICIT (type 1, transaction id)
        s.udp(t + sec(dt), 'fe80::200:aff:fe01:c', 'ff02::1:2', 546, 547, b'\x01\x5a\x1e\x07' + u16(8) + u16(2) + u16(0))
    for dt in (0.2, 1.2, 3.2):         # mDNS query (QU bit clear), SSDP M-SEARCH
        s.udp(t + sec(dt), cli, '224.0.0.251', 5353, 5353, dns_query(0, '_googlecast._tcp.local', 'PTR', edns=False),
              ttl=255)
        s.udp(t + sec(dt) + ms(3), cli, '239.255.255.250', 51900, 1900,
              b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\n'
              b'ST: ssdp:all\r\n\r\n', ttl=4)


def ice_check_once(s, t, cli, cport, peer, pport):
    """one ICE connectivity check (USERNAME, ICE-CONTROLLING, PRIORITY,
    MESSAGE-INTEGRITY), sent once and never repeated: the pair its agent
    let go once another pair was nominated (RFC 8445 §7.2.5.3, §8)"""
    req = s.ice_request(s.rng.randbytes(12), s.ufrag(), s.ufrag(), s.rng.randbytes(22))
    s.udp(t, cli, peer, cport, pport, req)


@scenario('field_p2p_abandoned')
def sc_field_p2p_abandoned(s):
    """A Sendbird peer-to-peer call as libwebrtc makes it (10.1.0.12): the
    websocket (TLS 443) works; ICE checks go to three of the peer's
    candidates from local port 50000: the server-reflexive one
    (203.0.113.77:53210) answers and carries DTLS and SRTP both ways for
    3 s; the check to the peer's host candidate (192.168.7.20:50001, a
    private address of the far LAN) and the one to its second reflexive
    address (203.0.113.78:53300) are each sent once and abandoned when the
    first pair is nominated. The LAN also carries DHCP, DHCPv6, mDNS and
    SSDP multicast/broadcast, which expects no answer. The capture runs
    ~6 s past the abandoned checks: nothing here is blocked."""
    C = '10.1.0.12'
    WS, PEER, HOST_CAND, SRFLX2 = '203.0.113.11', '203.0.113.77', '192.168.7.20', '203.0.113.78'
    t = s.resolve(0, C, 'ws-4c1d.calls.sendbird.com', WS)
    ws, _ = s.tls(t + ms(2), C, WS, 'ws-4c1d.calls.sendbird.com', alpn=('http/1.1',),
                  exchanges=((310, 220),), close_at=False)
    ice_check_once(s, sec(1.0), C, 50000, HOST_CAND, 50001)
    ice_check_once(s, sec(1.0) + ms(2), C, 50000, SRFLX2, 53300)
    t = s.webrtc_media(sec(1.0) + ms(4), C, PEER, 50000, 53210, seconds=3.0)
    multicast_noise(s, sec(0.3), C)
    for k in range(4):
        s.tls_ping(ws, sec(2.0 + 2 * k))
    return ['sendbird_calls'], {
        'sendbird-calls.signal.tcp': ('observed', []),
        'sendbird-calls.p2p-stun.udp': ('observed', []),
    }


@scenario('field_p2p_all_failed')
def sc_field_p2p_all_failed(s):
    """A Sendbird peer-to-peer call whose every ICE pair fails (10.1.0.14):
    the websocket works; ICE checks from local port 50100 to the peer's
    three candidates (203.0.113.81:40000, 203.0.113.82:40002,
    203.0.113.83:40004) are each sent once and never answered, and no STUN
    exchange of this host succeeds anywhere in the capture, which runs
    ~7 s past them: every pair failed, so the silence is a block even
    though no check was retransmitted."""
    C = '10.1.0.14'
    WS = '203.0.113.12'
    t = s.resolve(0, C, 'ws-4c1d.calls.sendbird.com', WS)
    ws, _ = s.tls(t + ms(2), C, WS, 'ws-4c1d.calls.sendbird.com', alpn=('http/1.1',),
                  exchanges=((310, 220),), close_at=False)
    for i, peer in enumerate(('203.0.113.81', '203.0.113.82', '203.0.113.83')):
        ice_check_once(s, sec(1.0) + ms(2 * i), C, 50100, peer, 40000 + 2 * i)
    for k in range(4):
        s.tls_ping(ws, sec(2.0 + 2 * k))
    return ['sendbird_calls'], {
        'sendbird-calls.signal.tcp': ('observed', []),
        'sendbird-calls.p2p-stun.udp': ('blocked', ['stun-timeout']),
    }


@scenario('field_inbound_recording')
def sc_field_inbound_recording(s):
    """Agora Recording SDK (2018) on a recorder (10.1.0.46) whose duplex
    traffic is dropped on the way out: it sends from local port 40010 -
    inside its downstream range 40000-41000 - to vocs.agora.io UDP 4001,
    retransmitted, never answered. That attempt is no evidence about the
    inbound downstream entry, which is judged only on what Agora sends to
    the local ports: vocs.agora.io streams audio to local port 40000
    (first packet from Agora), which reaches the recorder."""
    C = '10.1.0.46'
    VOCS = '198.51.100.165'
    t = s.resolve(0, C, 'vocs.agora.io', VOCS)
    s.udp_retx(t + ms(3), C, VOCS, 40010, 4001, agora_udp(s.rng, 0x0021, 80), (0, 1, 2, 4))
    t0 = sec(1.0)
    for i in range(150):
        s.udp(t0 + i * ms(20), VOCS, C, 4001, 40000, agora_udp(s.rng, 0x0600, 110 + s.rng.randrange(50)))
    s.udp(sec(6.5), VOCS, C, 4001, 40000, agora_udp(s.rng, 0x0600, 120))
    return ['agora_2018', 'agora_2020'], {
        'agora-2018.native.udp': ('blocked', ['no-answer']),
        'agora-2018.recording.udp-duplex': ('blocked', ['no-answer']),
        'agora-2018.recording.udp-downstream': ('observed', []),
        'agora-2018.gaming.udp': ('blocked', ['no-answer']),
    }


@scenario('field_p2p_remote_first')
def sc_field_p2p_remote_first(s):
    """A Sendbird peer-to-peer leg seen from the inside when the far end
    speaks first (10.1.0.16, local port 50200): the peer's checks from
    203.0.113.95:61000 arrive first (four, every 0.5 s) and the local agent
    answers each, but the local agent's own check to the peer, retransmitted
    at 0.5, 1.5 and 3.5 s, is never answered: the firewall drops it on the
    way out. The leg is judged by the local agent's own transactions, at the
    peer's port: blocked, although the peer's checks got in."""
    C, WS, PEER = '10.1.0.16', '203.0.113.13', '203.0.113.95'
    t = s.resolve(0, C, 'ws-4c1d.calls.sendbird.com', WS)
    ws, _ = s.tls(t + ms(2), C, WS, 'ws-4c1d.calls.sendbird.com', alpn=('http/1.1',),
                  exchanges=((310, 220),), close_at=False)
    lu, ru, lpwd, rpwd = s.ufrag(), s.ufrag(), s.rng.randbytes(22), s.rng.randbytes(22)
    for k in range(4):                 # theirs, answered by us
        tid = s.rng.randbytes(12)
        s.udp(sec(1.0 + 0.5 * k), PEER, C, 61000, 50200, s.ice_request(tid, lu, ru, lpwd, controlling=False))
        s.udp(sec(1.0 + 0.5 * k) + ms(1), C, PEER, 50200, 61000, s.ice_success(tid, PEER, 61000, lpwd))
    tid = s.rng.randbytes(12)          # ours, retransmitted, never answered
    req = s.ice_request(tid, ru, lu, rpwd)
    for dt in STUN_RETX[:4]:
        s.udp(sec(1.02 + dt), C, PEER, 50200, 61000, req)
    for k in range(4):
        s.tls_ping(ws, sec(2.0 + 2 * k))
    return ['sendbird_calls'], {
        'sendbird-calls.signal.tcp': ('observed', []),
        'sendbird-calls.p2p-stun.udp': ('blocked', ['stun-timeout']),
    }


@scenario('field_p2p_relay_remote_first')
def sc_field_p2p_relay_remote_first(s):
    """A Sendbird peer-to-peer call from 10.1.0.18 (local port 50300)
    behind a firewall that drops every outbound UDP datagram while UDP from
    outside comes in: the remote peer's checks arrive through its relay,
    172.16.40.50:61500, an address in private space like the local host's
    (so the addresses cannot tell which end is inside), four of them every
    0.5 s before anything of ours, each answered by the local agent; the
    local agent's own check to the relay, retransmitted at 0.5, 1.5 and
    3.5 s, is never answered. Its check to the peer's own address
    203.0.113.96:61001 is never answered either. Both legs are blocked, so
    the P2P entry is blocked, not partial: each side is judged by its own
    transactions."""
    C, WS, RELAY, PEER = '10.1.0.18', '203.0.113.14', '172.16.40.50', '203.0.113.96'
    t = s.resolve(0, C, 'ws-4c1d.calls.sendbird.com', WS)
    ws, _ = s.tls(t + ms(2), C, WS, 'ws-4c1d.calls.sendbird.com', alpn=('http/1.1',),
                  exchanges=((310, 220),), close_at=False)
    lu, ru, lpwd, rpwd = s.ufrag(), s.ufrag(), s.rng.randbytes(22), s.rng.randbytes(22)
    for k in range(4):                 # theirs through the relay, answered by us
        tid = s.rng.randbytes(12)
        s.udp(sec(1.0 + 0.5 * k), RELAY, C, 61500, 50300, s.ice_request(tid, lu, ru, lpwd, controlling=False),
              ttl=60)
        s.udp(sec(1.0 + 0.5 * k) + ms(1), C, RELAY, 50300, 61500, s.ice_success(tid, RELAY, 61500, lpwd))
    tid = s.rng.randbytes(12)          # ours to the relay, retransmitted, never answered
    req = s.ice_request(tid, ru, lu, rpwd)
    for dt in STUN_RETX[:4]:
        s.udp(sec(1.02 + dt), C, RELAY, 50300, 61500, req)
    tid = s.rng.randbytes(12)          # ours to the peer's own address, never answered
    req = s.ice_request(tid, ru, lu, rpwd)
    for dt in STUN_RETX[:4]:
        s.udp(sec(1.04 + dt), C, PEER, 50300, 61001, req)
    for k in range(4):
        s.tls_ping(ws, sec(2.0 + 2 * k))
    return ['sendbird_calls'], {
        'sendbird-calls.signal.tcp': ('observed', []),
        'sendbird-calls.p2p-stun.udp': ('blocked', ['stun-timeout']),
    }


@scenario('field_inbound_not_vendor')
def sc_field_inbound_not_vendor(s):
    """Traffic to a local port in Agora 2018 Recording's inbound range
    (40000-41000) from far ends that are not Agora, on a host (10.1.0.47)
    where Agora is active by name: the host allocates a relay on Agora's
    TURN server webrtc-2a.edge.agora.io (UDP 3478, answered) and permits the
    peer 203.0.113.120 there (CreatePermission, answered), so that peer's
    address carries Agora's name only as a TURN peer; the host then talks
    to the peer directly from local port 40300 (ICE check, DTLS, SRTP both
    ways). A second peer, 203.0.113.121, with no name at all, sends RTP to
    local port 40400 and gets RTCP back. Neither is the vendor: the inbound
    entry is judged only on traffic from Agora's own names, and stays not
    exercised. The TURN peer leg counts for the outbound entries whose
    ports hold the peer's port 53400, as a TURN peer relation does."""
    C, TURN, RELAY, PEER, OTHER = '10.1.0.47', '198.51.100.170', '198.51.100.171', '203.0.113.120', '203.0.113.121'
    t = s.resolve(0, C, 'webrtc-2a.edge.agora.io', TURN)
    cport = s.port(C)
    user, realm, password = 'agora-user', 'agora.io', 'secret'
    t = s.turn_allocate(t + ms(3), C, TURN, cport, 3478, relay=(RELAY, 50000), mapped=(NAT_PUBLIC, 40123),
                        user=user, realm=realm, password=password)
    tid = s.rng.randbytes(12)
    key = turn_long_term_key(user, realm, password)
    s.udp(t + ms(5), C, TURN, cport, 3478,
          stun_msg('CreatePermissionRequest', tid, [('XOR-PEER-ADDRESS', stun_xor_addr(PEER, 53400, tid)),
                                                    ('USERNAME', user.encode()), ('REALM', realm.encode())],
                   key=key))
    s.udp(t + ms(35), TURN, C, 3478, cport, stun_msg('CreatePermissionSuccess', tid, [], key=key))
    s.webrtc_media(sec(1.0), C, PEER, 40300, 53400, seconds=2.0, rtt=ms(42))
    ssrc, seq, ts = s.rng.getrandbits(32), s.rng.getrandbits(16), s.rng.getrandbits(32)
    for i in range(60):
        at = sec(1.5) + i * ms(20)
        s.udp(at, OTHER, C, 61000, 40400, rtp(111, seq + i, ts + 960 * i, ssrc, s.rng.randbytes(90)))
        if i % 25 == 10:
            s.udp(at + ms(3), C, OTHER, 40400, 61000, g.rtcp_sr(s.rng.getrandbits(32), g.T0 * g.US + at, i, i, i * 90))
    return ['agora_2018', 'agora_2020'], {
        'agora-2018.web.udp': ('observed', []),
        'agora-2020.rtc-web.udp': ('observed', []),
        'agora-2020.rtc-web.udp-pre-2.9': ('observed', []),
    }


@scenario('field_third_party_and_cname')
def sc_field_third_party_and_cname(s):
    """Names that are not the vendor's own (10.1.0.17): a browser fetches
    from a CDN on Whereby's third-party list (d1x.cloudfront.net, TLS 443,
    works) with no Whereby name anywhere in the capture - that says nothing
    about Whereby. It also resolves media-eu.agora.io, which is a CNAME to
    edge7.cdn-agora.example.net, and connects to the address on TCP 7777,
    a port no Agora requirement lists: a catalog gap of Agora's, named by
    the Agora name that led to it, not by the CNAME target."""
    C, CDN, EDGE = '10.1.0.17', '203.0.113.140', '198.51.100.177'
    t = s.resolve(0, C, 'd1x.cloudfront.net', CDN)
    s.tls(t + ms(2), C, CDN, 'd1x.cloudfront.net', exchanges=((300, 4000),))
    t = s.resolve(sec(1), C, 'media-eu.agora.io', EDGE, cname='edge7.cdn-agora.example.net')
    c, _ = s.tcp_plain(t + ms(3), C, EDGE, 7777, ((120, 300), (80, 90)))
    c.close(sec(4))
    return ['agora_2018', 'agora_2020', 'whereby'], {}


@scenario('field_table_overflow')
def sc_field_table_overflow(s):
    """A busy mirror port in miniature (10.1.0.15): Whereby's TURN server
    (turn-eu1.turn.whereby.com) answers an Allocate on UDP 443 within
    40 ms, while twelve other hosts start DNS lookups in between; TLS to
    the signaling server works. With the default flow table every exchange
    is whole; the field test replays it with a flow table of four flows,
    where the Allocate's flow is evicted before its answer arrives and the
    answer comes back as a flow of its own: that split must never read as
    "blocked"."""
    C = '10.1.0.15'
    T, W = '198.51.100.51', '198.51.100.52'
    t = s.resolve(0, C, 'turn-eu1.turn.whereby.com', T)
    cport = s.port(C)
    tid = s.rng.randbytes(12)
    s.udp(t + ms(5), C, T, cport, 443, stun_msg('AllocateRequest', tid, [('REQUESTED-TRANSPORT', b'\x11\0\0\0')]))
    for i in range(12):
        s.dns(t + ms(6) + ms(2) * i, f'10.1.0.{100 + i}', f'host{i}.example.net', [], rtt=ms(60))
    nonce = s.rng.randbytes(12).hex().encode()
    s.udp(t + ms(45), T, C, 443, cport,
          stun_msg('AllocateError', tid, [('ERROR-CODE', stun_error_code(401, 'Unauthorized')),
                                          ('REALM', b'whereby.com'), ('NONCE', nonce)]))
    t = s.resolve(sec(1), C, 'eu-west-1.srv.whereby.com', W)
    s.tls(t + ms(2), C, W, 'eu-west-1.srv.whereby.com', exchanges=((300, 900),), close_at=sec(5))
    return ['whereby'], {
        'whereby.signaling.tcp': ('observed', []),
        'whereby.turn.udp': ('observed', []),
    }


# =============================================================================

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                                                  'captures', 'scenarios'))
    ap.add_argument('--only', nargs='*', help='scenario names to build (default: all)')
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args(argv)
    if a.list:
        for n, (fn, _) in SCENARIOS.items():
            print(f'{n + ".pcap":28s} {fn.__doc__.strip().splitlines()[0]}')
        return 0
    os.makedirs(a.out, exist_ok=True)
    sums = []
    for name, (fn, seed) in SCENARIOS.items():
        if a.only and name not in a.only:
            continue
        s = Scene(random.Random(seed))
        docs, verdicts = fn(s)
        pcap = os.path.join(a.out, name + '.pcap')
        n = s.write(pcap)
        write_expected(os.path.join(a.out, name + '.expected.tsv'), docs, verdicts)
        size = os.path.getsize(pcap)
        assert size < 300_000, (name, size)
        print(f'{name + ".pcap":32s} {n:5d} packets {size:7d} bytes')
        for f in (name + '.pcap', name + '.expected.tsv'):
            with open(os.path.join(a.out, f), 'rb') as fh:
                sums.append(f'{hashlib.sha256(fh.read()).hexdigest()}  {f}\n')
    if not a.only:
        with open(os.path.join(a.out, 'SHA256SUMS'), 'w') as f:
            f.writelines(sums)
    return 0


if __name__ == '__main__':
    sys.exit(main())
