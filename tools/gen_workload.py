#!/usr/bin/python3
"""Generate a large, realistic mirror-port workload for benchmarking callwall.

    tools/gen_workload.py --packets N [--seed S] --out F.pcap [--pps P] [--profile office|busy] [--stretch F]

An office during video calls, seen on a switch mirror port (Ethernet, some
hosts behind an 802.1Q tag, IPv4 plus some IPv6):

  * calls (~2/3 of all packets): RTP audio (Opus PT 111, 20 ms, one-byte
    header extension) + video (PT 96, 30 fps, bursts, marker bit) + RTCP
    (rtcp-mux, SR+SDES) both ways, either direct UDP to a vendor SFU (with an
    ICE Binding check and consent checks every 5 s), or relayed through TURN
    (Allocate/401/Allocate/CreatePermission/ChannelBind, ChannelData) on UDP
    3478, UDP 443 or TCP 443 (ChannelData padded to 4).  Each new call is
    preceded by DNS lookups and a long-lived TLS signalling connection.  Some
    calls are already running when the capture starts (mid-stream flows).
  * DNS A/AAAA with CNAME chains, NXDOMAIN, unanswered queries
  * TLS: handshake, ClientHello with SNI (post-quantum ones span 2 segments,
    some classic ones are split too), ServerHello flight, bulk encrypted data,
    FIN or RST close
  * QUIC v1 Initials on UDP 443 (freshly protected per connection; a third
    of them with a 2-packet ClientHello), server Initial, 1-RTT bulk
  * STUN Binding transactions, some unanswered with retransmissions
  * blocked traffic: unanswered SYNs with retransmissions (+1, +3, +7 s),
    SYN -> RST, UDP -> ICMP admin-prohibited / port-unreachable
  * background bulk HTTP downloads

--profile busy is a busier mirror port of a larger site, with the
mix a new user brought: at 2,000,000 packets about 37,000 flows, ~100 DNS
queries per second (~29,000 queries, ~48,000 answer records: names with
several addresses and CNAME chains, most lookups of one type), ~3,600
TLS/QUIC hellos, ~3,800 STUN messages, ~2,800 ICMP errors, ~69 % RTP of which
~15 % inside TURN, ~38 % of the frames VLAN-tagged and ~3 % IPv6, plus NTP
exchanges as small background flows. Measured with callwall on
`--packets 2000000 --seed 1 --profile busy` (340 s of traffic): 37,795 flows,
29,665 DNS queries, 44,399 answer records, 3,637 hellos, 5,474 STUN messages
(ICE consent checks of the direct calls), 2,781 ICMP errors, 68.5 % RTP
(10.8 % of it in TURN: the few calls make this share vary with the seed),
38.6 % VLAN-tagged, 2.7 % IPv6. The default profile (office) is the
workload every earlier measurement used, unchanged for a given seed.

Vendor names: *.calls.sendbird.com, whereby.com, turn.whereby.com,
turn.appearin.net, *.agora.io, *.sd-rtn.com; generic *.example.* names.

Deterministic for a given (--packets, --seed, --pps).  Frames are built from
per-connection templates with precomputed checksum partial sums and written
in a streaming fashion; sessions are generators merged by a heap.
"""

import argparse
import heapq
import os
import random
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

pack = struct.pack
M = 0xFFFF
US = 1_000_000
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
INF = float('inf')

# =============================================================================
# Address plan / names
# =============================================================================

RESOLVER, RESOLVER6 = '192.0.2.53', '2001:db8:2::53'
FIREWALL = '10.1.0.1'                      # LAN gateway / firewall (sends ICMP)

VENDORS = {
    'sendbird': dict(
        api=['api-7f3a.calls.sendbird.com', 'api-b21c.calls.sendbird.com', 'ws-7f3a.calls.sendbird.com'],
        media=['203.0.113.%d' % i for i in range(10, 20)], media_ports=(10000, 20000),
        turn=['turn-7f3a.calls.sendbird.com'], turn_ip=['203.0.113.20', '203.0.113.21'],
        realm='sendbird.com'),
    'whereby': dict(
        api=['whereby.com', 'api.whereby.com', 'meet.whereby.com'],
        media=['198.51.100.%d' % i for i in range(70, 80)], media_ports=(40000, 49999),
        turn=['turn.whereby.com', 'turn.appearin.net'], turn_ip=['198.51.100.61', '198.51.100.65'],
        realm='whereby.com'),
    'agora': dict(
        api=['ap1.agora.io', 'ap2.agora.io', 'webrtc2-1.ap.sd-rtn.com', 'webrtc2-2.ap.sd-rtn.com'],
        media=['203.0.113.%d' % i for i in range(70, 90)], media_ports=(4700, 5000),
        turn=['edge-turn.agora.io'], turn_ip=['203.0.113.95'], realm='agora.io'),
}

GENERIC = ['www.example.com', 'cdn.example.net', 'api.example.com', 'mail.example.org',
           'update.example.com', 'static.example.net', 'login.example.com', 'docs.example.org',
           'video.example.net', 'news.example.com', 'files.example.org', 'chat.example.net']
QUIC_NAMES = ['video.example.net', 'www.example.com', 'static.example.net', 'meet.whereby.com',
              'api-7f3a.calls.sendbird.com', 'webrtc2-1.ap.sd-rtn.com']
STUN_SERVERS = [('198.51.100.80', 3478), ('198.51.100.81', 19302), ('203.0.113.30', 3478)]
BLOCKED_TCP = [('203.0.113.200', 443), ('203.0.113.201', 5349), ('198.51.100.200', 443)]
REJECT_TCP = [('192.0.2.250', 3478), ('192.0.2.251', 8443)]
BLOCKED_UDP = [('203.0.113.202', 3478), ('198.51.100.202', 3478)]
UNREACH_UDP = [('192.0.2.252', 3478)]


def build_name_table():
    """name -> (cname chain, [ipv4], [ipv6])"""
    t = {}
    api_net = {'sendbird': '203.0.113.%d', 'whereby': '198.51.100.%d', 'agora': '203.0.113.%d'}
    api_base = {'sendbird': 40, 'whereby': 40, 'agora': 60}
    for vn, v in VENDORS.items():
        for i, n in enumerate(v['api']):
            t[n] = ([], [api_net[vn] % (api_base[vn] + i)], ['2001:db8:2::%x' % (0x100 + len(t))])
        for i, n in enumerate(v['turn']):
            t[n] = ([], [v['turn_ip'][i % len(v['turn_ip'])]], [])
    t['turn.whereby.com'] = (['turn-eu.whereby.com'], ['198.51.100.61'], [])
    t['ap2.agora.io'] = (['ap-web-1.agora.io', 'ap-web-1-ga.agora.io'], t['ap2.agora.io'][1], [])
    t['ws-7f3a.calls.sendbird.com'] = (['edge-1.calls.sendbird.com'], t['ws-7f3a.calls.sendbird.com'][1],
                                       t['ws-7f3a.calls.sendbird.com'][2])
    for i, n in enumerate(GENERIC):
        t[n] = ([], ['192.0.2.%d' % (10 + i)], ['2001:db8:2::%x' % (0x10 + i)])
    t['cdn.example.net'] = (['cdn.example.net.edge.example.org'], ['192.0.2.11', '192.0.2.111'],
                            ['2001:db8:2::11'])
    return t


NAMES = build_name_table()

# Per-profile knobs. Session rates are per second at --pps 6000 (they scale
# with --pps); the rest are probabilities and shapes.
PROFILES = {
    'office': dict(
        rates={'call': 0.19, 'tls': 14.0, 'quic': 5.0, 'dns': 8.0, 'stun': 0.5, 'blocked_syn': 0.3,
               'reject': 0.3, 'icmp': 0.3, 'bulk': 0.12},
        v6=0.1, vlan_hosts=(1, 5), direct_calls=0.5, dns_one_type=0.0, dns_before_tls=0.5, busy_names=False),
    'busy': dict(
        rates={'call': 0.12, 'tls': 7.6, 'quic': 2.9, 'dns': 66.0, 'stun': 0.2, 'blocked_syn': 0.4,
               'reject': 0.4, 'icmp': 2.7, 'bulk': 0.14, 'ntp': 27.0},
        v6=0.03, vlan_hosts=(3, 8), direct_calls=0.78, dns_one_type=0.75, dns_before_tls=0.3, busy_names=True),
}
NTP_SERVERS = ['192.0.2.123', '192.0.2.124', '198.51.100.123']


def busy_name_table():
    """The busy profile's DNS: the same names, but CDN-like answers (one or
    two addresses) and more CNAME chains, as a large site's resolver sees."""
    t = dict(NAMES)
    for i, n in enumerate(GENERIC):
        chain, a4s, a6s = t[n]
        if not chain and i % 3 == 0:
            chain = ['%s.cdn-%d.example.org' % (n.split('.')[0], i)]
        a4s = ['192.0.2.%d' % (10 + i)] + ['192.0.2.%d' % (130 + 4 * i + k) for k in range(i % 2)]
        t[n] = (chain, a4s, a6s + ['2001:db8:2::%x' % (0x400 + i)])
    return t


# =============================================================================
# Fast frame builders
# =============================================================================

class Conn:
    """One 5-tuple.  Direction 0 = host (inside) -> server, 1 = back.
    Checksums use precomputed partial sums (everything mod 0xffff, so 32-bit
    fields such as addresses, seq and ack can be added as plain integers);
    checksum = (-sum) mod 0xffff (canonical, see g.csum), UDP maps 0 to 0xffff."""
    __slots__ = ('eth', 'addr', 'ports', 'v6', 'isum', 'psum', 'ttl', 'ident', 'seq', 'win')

    def __init__(self, w, host, srv, sport, dport, ttl_s=None):
        hip, vlan = host
        c, s = g.addr(hip), g.addr(srv)
        self.v6 = len(c) == 16
        hm = g.host_mac(c)
        tag = pack('!HH', 0x8100, vlan) if vlan else b''
        et = b'\x86\xdd' if self.v6 else b'\x08\x00'
        self.eth = (g.GW_MAC + hm + tag + et, hm + g.GW_MAC + tag + et)
        self.addr = ((c, s), (s, c))
        self.ports = ((sport, dport), (dport, sport))
        asum = int.from_bytes(c + s, 'big')
        ttl_c = 64 if (c[-1] & 1) else 128
        ttl_s = ttl_s or w.rng.choice((49, 52, 54, 57, 58, 116, 118))
        self.ttl = (ttl_c, ttl_s)
        self.isum = tuple((0x4500 + 0x4000 + asum + t) % M for t in ((ttl_c << 8), (ttl_s << 8)))
        self.psum = (asum + sport + dport) % M
        self.ident = [w.rng.getrandbits(16), w.rng.getrandbits(16)]
        self.seq = [w.rng.getrandbits(32), w.rng.getrandbits(32)]
        self.win = (502, 509)

    def _ip(self, d, proto, l4len, l4hdr, payload):
        src, dst = self.addr[d]
        if self.v6:
            f = self.eth[d] + pack('!IHBB16s16s', 0x60000000, l4len, proto, self.ttl[d], src, dst) + l4hdr + payload
        else:
            tl = l4len + 20
            i = self.ident[d] = (self.ident[d] + 1) & M
            ck = -(self.isum[d] + proto + tl + i) % M
            f = (self.eth[d] + pack('!BBHHHBBH4s4s', 0x45, 0, tl, i, 0x4000, self.ttl[d], proto, ck, src, dst)
                 + l4hdr + payload)
        if len(f) < 60:
            f += bytes(60 - len(f))
        return f

    def udp(self, d, payload):
        n = len(payload)
        ulen = n + 8
        ps = int.from_bytes(payload, 'big')
        if n & 1:
            ps <<= 8
        ck = -(self.psum + 17 + ulen + ulen + ps) % M or M
        sp, dp = self.ports[d]
        return self._ip(d, 17, ulen, pack('!HHHH', sp, dp, ulen, ck), payload)

    def tcp(self, d, flags, payload=b'', opts=b'', seq=None):
        n = len(payload)
        hl = 20 + len(opts)
        if seq is None:
            seq = self.seq[d]
        ack = self.seq[1 - d] if flags & ACK else 0
        offfl = ((hl >> 2) << 12) | flags
        win = (64240 if d == 0 else 65160) if flags & SYN else self.win[d]
        ps = int.from_bytes(payload, 'big')
        if n & 1:
            ps <<= 8
        if opts:                       # word position is irrelevant mod 0xffff
            ps += int.from_bytes(opts, 'big')
        ck = -(self.psum + 6 + hl + n + seq + ack + offfl + win + ps) % M
        sp, dp = self.ports[d]
        end = (seq + n + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        if (end - self.seq[d]) & 0xFFFFFFFF < 0x80000000:
            self.seq[d] = end
        return self._ip(d, 6, hl + n, pack('!HHIIHHHH', sp, dp, seq, ack, offfl, win, ck, 0) + opts, payload)

    def icmp_error(self, d, router, typ, code, quoted):
        """ICMP(v4) error from `router` towards the sender of direction d"""
        src = g.addr(router)
        body = pack('!BBHI', typ, code, 0, 0) + quoted
        body = body[:2] + g.u16(g.csum(body)) + body[4:]
        dst = self.addr[d][0]
        hdr = g.ipv4(src, dst, 1, body, ttl=64, ident=self.ident[1 - d])
        f = self.eth[1 - d] + hdr
        return f + bytes(max(0, 60 - len(f)))


SYN_OPTS = pack('!BBH', 2, 4, 1460) + b'\x04\x02\x01\x01\x01\x03\x03\x07'     # MSS, SACK_PERM, NOP, NOP, NOP, WS 7


# =============================================================================
# Workload engine
# =============================================================================

class Workload:
    def __init__(self, seed, pps, profile='office'):
        self.prof = PROFILES[profile]
        self.names = busy_name_table() if self.prof['busy_names'] else NAMES
        self.rng = random.Random(seed)
        self.pool = self.rng.randbytes(1 << 20)
        self.pool2 = self.pool + self.pool[:70000]
        self.heap = []
        self.cnt = 0
        self.pps = pps
        self.hosts = []
        tagged, every = self.prof['vlan_hosts']   # `tagged` hosts in each `every` sit behind an 802.1Q tag
        for i in range(400):
            ip = '10.1.%d.%d' % (i // 200, 10 + i % 200)
            vlan = (20 if i % every < tagged else 0)
            self.hosts.append((ip, vlan))
        self.hosts6 = [('2001:db8:1::%x' % (0x10 + i), (20 if i % every < tagged else 0)) for i in range(0, 400, 7)]
        self.eph = 32768
        self.stats = {}
        self.tls_stream = self._tls_stream()

    # --- helpers ---
    def port(self):
        self.eph = 32768 + (self.eph - 32768 + self.rng.randrange(1, 50)) % 28000
        return self.eph

    def host(self, v6=False):
        return self.rng.choice(self.hosts6 if v6 else self.hosts)

    def rand(self, n):
        o = self.rng.randrange(0, 1 << 20)
        return self.pool2[o:o + n]

    def _tls_stream(self):
        rec = b''
        while len(rec) < 70000:
            rec += b'\x17\x03\x03\x40\x00' + self.pool[len(rec):len(rec) + 16384]
        return rec

    def spawn(self, gen, kind):
        for t, f in gen:
            self.cnt += 1
            heapq.heappush(self.heap, (t, self.cnt, f, gen))
            break
        self.stats[kind] = self.stats.get(kind, 0) + 1

    # --- main loop ---
    def run(self, n_packets, out, stretch=1):
        rng = self.rng
        per_s = self.pps / 6000.0          # session rates scale with the (approximate) target packet rate
        rates = {k: r * per_s for k, r in self.prof['rates'].items()}   # sessions per second
        starters = {'call': self.s_call, 'tls': self.s_tls_random, 'quic': self.s_quic,
                    'dns': self.s_dns_random, 'stun': self.s_stun, 'blocked_syn': self.s_blocked_syn,
                    'reject': self.s_reject, 'icmp': self.s_icmp, 'bulk': self.s_bulk, 'ntp': self.s_ntp}
        # calls already running when the capture starts
        for _ in range(max(1, int(22 * per_s))):
            self.s_call(rng.randrange(0, 500000), midstream=True)
        spawn_heap = [(int(rng.expovariate(r) * US), k) for k, r in rates.items()]
        heapq.heapify(spawn_heap)
        heap = self.heap
        written = 0
        t0 = g.T0 * US
        buf = []
        with open(out, 'wb') as f:
            f.write(pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            while written < n_packets:
                ttop = heap[0][0] if heap else INF
                if spawn_heap[0][0] <= ttop:
                    ts, kind = spawn_heap[0]
                    starters[kind](ts)
                    heapq.heapreplace(spawn_heap, (ts + max(1, int(rng.expovariate(rates[kind]) * US)), kind))
                    continue
                t, _, fr, gen = heap[0]
                if fr.__class__ is not bytes:
                    fr = fr()
                ta = t0 + t * stretch
                n = len(fr)
                buf.append(pack('<IIII', ta // US, ta % US, n, n))
                buf.append(fr)
                written += 1
                if len(buf) >= 16384:
                    f.write(b''.join(buf))
                    buf.clear()
                nxt = next(gen, None)
                self.cnt += 1
                if nxt is None:
                    heapq.heappop(heap)
                else:
                    heapq.heapreplace(heap, (nxt[0], self.cnt, nxt[1], gen))
            f.write(b''.join(buf))
        return written, t * stretch

    # =========================================================================
    # Sessions.  Each s_* starts sub-generators via spawn(); each g_* is a
    # generator yielding (t_us, frame or callable returning frame) in
    # non-decreasing time order.
    # =========================================================================

    # ---- DNS ----
    def g_dns(self, t, host, name, qtypes=('A', 'AAAA'), answer=True):
        rng = self.rng
        v6 = ':' in host[0]
        c = Conn(self, host, RESOLVER6 if v6 else RESOLVER, self.port(), 53, ttl_s=58)
        chain, a4s, a6s = self.names.get(name, ([], [], []))
        for qt in qtypes:
            txid = rng.getrandbits(16)
            yield t, c.udp(0, g.dns_query(txid, name, qt))
            if not answer:
                yield t + US, c.udp(0, g.dns_query(txid, name, qt))
                return
            t += rng.randrange(2000, 30000)
            an, owner = [], name
            for cn in chain:
                an.append((owner, 'CNAME', 300, g.Name(cn)))
                owner = cn
            addrs = a4s if qt == 'A' else a6s
            an += [(owner, qt, 60, g.addr(a)) for a in addrs]
            if name in self.names:
                r = g.dns_msg(txid, 0x8180, [(name, qt)], an, ar=[('', 'OPT', 0, b'', 1232)])
            else:
                r = g.dns_msg(txid, 0x8183, [(name, qt)], [],
                              [('example.com', 'SOA', 300, g.dns_soa('ns1.example.com', 'hostmaster.example.com'))])
            yield t, c.udp(1, r)
            t += rng.randrange(100, 2000)

    def s_dns_random(self, t):
        rng = self.rng
        v6 = rng.random() < self.prof['v6']
        r = rng.random()
        if r < 0.05:
            name = 'nosuch%d.example.com' % rng.randrange(1000)
        else:
            name = rng.choice(list(self.names))
        # (office draws nothing here, so its workload stays byte-identical for a seed)
        one = self.prof['dns_one_type'] > 0 and rng.random() < self.prof['dns_one_type']
        qtypes = ('A',) if one else ('A', 'AAAA')
        self.spawn(self.g_dns(t, self.host(v6), name, qtypes, answer=rng.random() > 0.02), 'dns')

    # ---- TLS ----
    def g_tls(self, t, host, srv, name, down, up=600, pq=None, split=None, close='fin',
              keepalive=None, t_end=None, sport=443):
        """TCP + TLS 1.3 session; download `down` bytes of application data
        records.  keepalive: (period_us) small records both ways until t_end
        (signalling websocket)."""
        rng = self.rng
        c = Conn(self, host, srv, self.port(), sport)
        rtt = rng.randrange(8000, 60000)
        yield t, c.tcp(0, SYN, opts=SYN_OPTS)
        t += rtt
        yield t, c.tcp(1, SYN | ACK, opts=SYN_OPTS)
        t += 100
        yield t, c.tcp(0, ACK)
        if pq is None:
            pq = rng.random() < 0.4
        ch = g.tls_record(22, g.tls_client_hello(rng, name, pq=pq), 0x0301)
        if len(ch) > 1448:
            parts = [ch[:1448], ch[1448:]]
        elif split or (split is None and rng.random() < 0.15):
            k = rng.randrange(50, len(ch) - 50)
            parts = [ch[:k], ch[k:]]
        else:
            parts = [ch]
        t += 200
        for p in parts:
            yield t, c.tcp(0, PSH | ACK, p)
            t += 30
        t += rtt // 2
        yield t, c.tcp(1, ACK)
        t += 2000
        flight = (g.tls_record(22, g.tls_server_hello(rng, g.client_hello_session_id(ch[5:]))) +
                  b'\x14\x03\x03\x00\x01\x01' + b'\x17\x03\x03' + g.u16(2800) + self.rand(2800) +
                  b'\x17\x03\x03\x00\x45' + self.rand(0x45))
        for i in range(0, len(flight), 1448):
            yield t, c.tcp(1, PSH | ACK if i + 1448 >= len(flight) else ACK, flight[i:i + 1448])
            t += 20
        t += rtt // 2
        fin = b'\x14\x03\x03\x00\x01\x01' + b'\x17\x03\x03\x00\x35' + self.rand(0x35)
        req = b'\x17\x03\x03' + g.u16(up) + self.rand(up)
        yield t, c.tcp(0, PSH | ACK, fin + req)
        t += rtt
        # download
        stream = self.tls_stream
        off, seg_gap = 0, rng.choice((120, 250, 500, 1000))
        n = 0
        while off < down:
            ln = min(1448, down - off)
            o = off % 65556
            yield t, c.tcp(1, ACK if ln == 1448 else PSH | ACK, stream[o:o + ln])
            off += ln
            n += 1
            t += seg_gap
            if n % 2 == 0:
                yield t + rtt // 2, c.tcp(0, ACK)
        if n % 2:
            yield t + rtt // 2, c.tcp(0, ACK)
        t += rtt // 2
        if keepalive:
            while t + keepalive < t_end:
                t += keepalive + rng.randrange(0, 2000000)
                yield t, c.tcp(0, PSH | ACK, b'\x17\x03\x03\x00\x20' + self.rand(0x20))
                t += rtt
                yield t, c.tcp(1, PSH | ACK, b'\x17\x03\x03\x00\x30' + self.rand(0x30))
                t += 200
                yield t, c.tcp(0, ACK)
            t = max(t, t_end)
        t += rng.randrange(1000, 200000)
        if close == 'rst':
            yield t, c.tcp(0, RST | ACK)
        else:
            yield t, c.tcp(0, FIN | ACK)
            t += rtt // 2
            yield t, c.tcp(1, FIN | ACK)
            t += rtt // 2
            yield t, c.tcp(0, ACK)

    def s_tls_random(self, t):
        rng = self.rng
        v6 = rng.random() < self.prof['v6']
        host = self.host(v6)
        name = rng.choice(GENERIC if rng.random() < 0.7 else
                          [n for v in VENDORS.values() for n in v['api']])
        chain, a4s, a6s = self.names[name]
        srv = rng.choice(a6s) if v6 and a6s else rng.choice(a4s)
        if rng.random() < self.prof['dns_before_tls']:
            self.spawn(self.g_dns(t, host, name), 'dns')
            t += 40000
        down = int(rng.paretovariate(1.2) * 8000)
        down = min(down, 3_000_000)
        self.spawn(self.g_tls(t, host, srv, name, down, close='rst' if rng.random() < 0.1 else 'fin'), 'tls')

    # ---- QUIC ----
    def g_quic(self, t, host, srv, name, npk):
        rng = self.rng
        c = Conn(self, host, srv, self.port(), 443)
        dcid, scid, server_cid = rng.randbytes(8), rng.randbytes(8), rng.randbytes(8)
        pq = rng.random() < 0.33
        ch = g.quic_client_hello(rng, name, scid, pq)
        chunks = [(0, ch[:g.QUIC_SPLIT_AT]), (g.QUIC_SPLIT_AT, ch[g.QUIC_SPLIT_AT:])] if pq else [(0, ch)]
        for pn, (o, d) in enumerate(chunks):
            yield t, c.udp(0, g.quic_initial(g.QUIC_V1, dcid, scid, pn, g.quic_crypto_frame(o, d), dcid, True,
                                             pad_to=1250))
            t += 150
        rtt = rng.randrange(8000, 60000)
        t += rtt
        sh = g.quic_server_hello(rng)
        yield t, c.udp(1, g.quic_initial(g.QUIC_V1, scid, server_cid, 0,
                                         g.quic_ack_frame(len(chunks) - 1, len(chunks) - 1) +
                                         g.quic_crypto_frame(0, sh), dcid, False, pad_to=1250))
        t += 300
        yield t, c.udp(1, bytes([0xE0 | rng.getrandbits(2)]) + b'\0\0\0\x01' + g.vec8(scid) +
                       g.vec8(server_cid) + b'\x44\xd0' + self.rand(0x4d0))      # Handshake (opaque)
        t += rtt // 2
        yield t, c.udp(0, g.quic_initial(g.QUIC_V1, server_cid, scid, len(chunks), g.quic_ack_frame(0), dcid,
                                         True, pad_to=1250))
        t += 200
        yield t, c.udp(0, bytes([0xE0]) + b'\0\0\0\x01' + g.vec8(server_cid) + g.vec8(scid) + b'\x40\x40' +
                       self.rand(0x40))
        for i in range(npk):
            t += rng.randrange(100, 1500)
            yield t, c.udp(1, bytes([0x40 | rng.getrandbits(6)]) + scid + self.rand(rng.randrange(1100, 1242)))
            if i % 4 == 3:
                yield t + rtt // 2, c.udp(0, bytes([0x40 | rng.getrandbits(6)]) + server_cid +
                                          self.rand(rng.randrange(30, 50)))

    def s_quic(self, t):
        rng = self.rng
        v6 = rng.random() < self.prof['v6']
        host = self.host(v6)
        name = rng.choice(QUIC_NAMES)
        chain, a4s, a6s = self.names[name]
        srv = rng.choice(a6s) if v6 and a6s else rng.choice(a4s)
        self.spawn(self.g_quic(t, host, srv, name, min(2000, int(rng.paretovariate(1.3) * 20))), 'quic')

    # ---- STUN ----
    def g_stun(self, t, host, srv, port, answer=True):
        rng = self.rng
        c = Conn(self, host, srv, self.port(), port)
        tid = rng.randbytes(12)
        req = g.stun_msg(0x0001, tid, [('SOFTWARE', b'office-client')])
        if answer:
            yield t, c.udp(0, req)
            t += rng.randrange(5000, 50000)
            yield t, c.udp(1, g.stun_msg(0x0101, tid, [('XOR-MAPPED-ADDRESS',
                                                        g.stun_xor_addr('192.0.2.200', rng.randrange(1024, 65535), tid))]))
        else:
            for dt in (0, 500000, 1500000, 3500000, 7500000):
                yield t + dt, c.udp(0, req)

    def s_stun(self, t):
        srv, port = self.rng.choice(STUN_SERVERS)
        self.spawn(self.g_stun(t, self.host(), srv, port, answer=self.rng.random() > 0.15), 'stun')

    # ---- blocked / rejected ----
    def g_blocked_syn(self, t, host, srv, port):
        c = Conn(self, host, srv, self.port(), port)
        f = c.tcp(0, SYN, opts=SYN_OPTS)
        for dt in (0, 1, 3, 7, 15):
            yield t + dt * US, f

    def s_blocked_syn(self, t):
        srv, port = self.rng.choice(BLOCKED_TCP)
        self.spawn(self.g_blocked_syn(t, self.host(), srv, port), 'blocked_syn')

    def g_reject(self, t, host, srv, port):
        """two connection attempts (new source port each), both answered by RST/ACK"""
        for k in range(2):
            c = Conn(self, host, srv, self.port(), port)
            yield t, c.tcp(0, SYN, opts=SYN_OPTS)
            c.seq[1] = 0
            yield t + self.rng.randrange(5000, 40000), c.tcp(1, RST | ACK)
            t += US

    def s_reject(self, t):
        srv, port = self.rng.choice(REJECT_TCP)
        self.spawn(self.g_reject(t, self.host(), srv, port), 'reject')

    def g_icmp(self, t, host, srv, port, router, typ, code):
        c = Conn(self, host, srv, self.port(), port)
        req = g.stun_msg(0x0001, self.rng.randbytes(12), [])
        for dt in (0, 500000, 1500000):
            f = c.udp(0, req)
            ip = f[len(c.eth[0]):]
            yield t + dt, f
            yield t + dt + self.rng.randrange(300, 20000), c.icmp_error(0, router, typ, code, ip[:28 + len(req)])

    def s_icmp(self, t):
        rng = self.rng
        if rng.random() < 0.6:
            srv, port = rng.choice(BLOCKED_UDP)
            self.spawn(self.g_icmp(t, self.host(), srv, port, FIREWALL, 3, 13), 'icmp')
        else:
            srv, port = rng.choice(UNREACH_UDP)
            self.spawn(self.g_icmp(t, self.host(), srv, port, srv, 3, 3), 'icmp')

    # ---- NTP (busy profile: small background flows) ----
    def g_ntp(self, t, host, srv):
        rng = self.rng
        c = Conn(self, host, srv, self.port(), 123)
        req = b'\x23' + bytes(39) + rng.randbytes(8)            # client mode, v4, transmit timestamp
        yield t, c.udp(0, req)
        if rng.random() < 0.97:
            yield t + rng.randrange(2000, 40000), c.udp(1, b'\x24\x02' + rng.randbytes(46))

    def s_ntp(self, t):
        v6 = False
        self.spawn(self.g_ntp(t, self.host(v6), self.rng.choice(NTP_SERVERS)), 'ntp')

    # ---- background bulk HTTP ----
    def g_bulk(self, t, host, srv, size):
        rng = self.rng
        c = Conn(self, host, srv, self.port(), 80)
        rtt = rng.randrange(2000, 30000)
        yield t, c.tcp(0, SYN, opts=SYN_OPTS)
        t += rtt
        yield t, c.tcp(1, SYN | ACK, opts=SYN_OPTS)
        t += 100
        yield t, c.tcp(0, ACK)
        yield t + 50, c.tcp(0, PSH | ACK, b'GET /files/%d.bin HTTP/1.1\r\nHost: files.example.org\r\n'
                            b'User-Agent: office-sync/2.1\r\nAccept: */*\r\n\r\n' % rng.randrange(10 ** 6))
        t += rtt
        hdr = b'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' % size
        off, total, n = 0, size + len(hdr), 0
        gap = rng.choice((100, 150, 300))
        while off < total:
            ln = min(1448, total - off)
            data = hdr[off:off + ln] if off < len(hdr) else b''
            if len(data) < ln:
                data += self.pool2[off % 1000000:off % 1000000 + ln - len(data)]
            yield t, c.tcp(1, ACK if ln == 1448 else PSH | ACK, data)
            off += ln
            n += 1
            t += gap
            if n % 2 == 0:
                yield t + 100, c.tcp(0, ACK)
        t += rtt
        yield t, c.tcp(0, FIN | ACK)
        yield t + rtt // 2, c.tcp(1, FIN | ACK)
        yield t + rtt, c.tcp(0, ACK)

    def s_bulk(self, t):
        size = int(min(40_000_000, self.rng.paretovariate(1.1) * 1_500_000))
        self.spawn(self.g_bulk(t, self.host(), '192.0.2.%d' % (20 + self.rng.randrange(4)), size), 'bulk')

    # ---- calls ----
    def s_call(self, t, midstream=False):
        rng = self.rng
        vend_name = rng.choice(list(VENDORS))
        v = VENDORS[vend_name]
        r = rng.random()
        d = self.prof['direct_calls']    # the rest: TURN over UDP 3478, UDP 443, TCP 443 as 2:1.04:0.96
        kind = ('direct' if r < d else 'turn_udp3478' if r < d + (1 - d) * 0.5 else
                'turn_udp443' if r < d + (1 - d) * 0.76 else 'turn_tcp443')
        v6 = kind == 'direct' and rng.random() < self.prof['v6']
        host = self.host(v6)
        dur = int(min(900, max(20, rng.expovariate(1 / 150.0))) * US)
        if midstream:
            dur = rng.randrange(10, 300) * US
        t_end = t + dur
        video = rng.random() < 0.7
        ext = rng.random() < 0.7          # WebRTC-style RTP header extensions (X bit) or plain RTP
        if not midstream:
            api = rng.choice(v['api'])
            self.spawn(self.g_dns(t, host, api), 'dns')
            chain, a4s, a6s = self.names[api]
            srv = rng.choice(a6s) if v6 and a6s else a4s[0]
            self.spawn(self.g_tls(t + 40000, host, srv, api, 6000, keepalive=15 * US, t_end=t_end + US,
                                  close='fin'), 'tls_signalling')
            t += 300000
        if kind == 'direct':
            srv = rng.choice(v['media'])
            if v6:
                srv = '2001:db8:2::%x' % (0x200 + int(srv.rsplit('.', 1)[1]))
            c = Conn(self, host, srv, self.port(), rng.randrange(*v['media_ports']))
            send = c.udp
            if not midstream:
                self.spawn(self.g_ice(t, c, t_end), 'ice')
                t += 60000
            else:
                self.spawn(self.g_ice(t + rng.randrange(0, 5 * US), c, t_end, first=False), 'ice')
        else:
            tname = rng.choice(v['turn'])
            chain, a4s, a6s = self.names[tname]
            port = 3478 if kind == 'turn_udp3478' else 443
            c = Conn(self, host, a4s[0], self.port(), port)
            chan = 0x4000 + rng.randrange(0x1000)
            tcp = kind == 'turn_tcp443'
            if tcp:
                def send(d, p, c=c, chan=chan):
                    return lambda: c.tcp(d, PSH | ACK, pack('!HH', chan, len(p)) + p + bytes(-len(p) % 4))
            else:
                def send(d, p, c=c, chan=chan):
                    return c.udp(d, pack('!HH', chan, len(p)) + p)
            if not midstream:
                self.spawn(self.g_dns(t - 200000, host, tname, ('A',)), 'dns')
                self.spawn(self.g_turn_alloc(t, c, chan, v['realm'], tcp, t_end), 'turn_alloc')
                t += 400000
            elif tcp:
                pass              # mid-stream TCP: just data (no handshake seen)
        if not midstream:
            self.stats['call_' + kind] = self.stats.get('call_' + kind, 0) + 1
        ss = [rng.getrandbits(32) for _ in range(4)]
        for d in (0, 1):
            self.spawn(self.g_audio(t + rng.randrange(0, 20000), send, d, t_end, ss[d], ext), 'rtp_audio')
            if video and (d == 1 or rng.random() < 0.8):
                self.spawn(self.g_video(t + rng.randrange(0, 33000), send, d, t_end, ss[2 + d], ext), 'rtp_video')
            self.spawn(self.g_rtcp(t + rng.randrange(200000, 1200000), send, d, t_end, ss[d], ss[1 - d]), 'rtcp')

    def g_ice(self, t, c, t_end, first=True):
        """ICE connectivity check + consent freshness every ~5 s (short-term
        credentials, MESSAGE-INTEGRITY + FINGERPRINT)."""
        rng = self.rng
        key = rng.randbytes(22)
        user = ('%s:%s' % (rng.randbytes(3).hex(), rng.randbytes(2).hex())).encode()
        rtt = rng.randrange(5000, 60000)
        while t < t_end:
            tid = rng.randbytes(12)
            attrs = [('USERNAME', user), ('PRIORITY', g.u32(1853824767)), ('ICE-CONTROLLING', rng.randbytes(8))]
            if first:
                attrs.append(('USE-CANDIDATE', b''))
                first = False
            yield t, c.udp(0, g.stun_msg(0x0001, tid, attrs, key=key))
            yield t + rtt, c.udp(1, g.stun_msg(0x0101, tid, [('XOR-MAPPED-ADDRESS', g.stun_xor_addr(
                '192.0.2.200', c.ports[0][0], tid))], key=key))
            t += rng.randrange(4 * US, 6 * US)

    def g_turn_alloc(self, t, c, chan, realm, tcp, t_end):
        rng = self.rng
        user = '%d:%s' % (g.T0 + 86400, rng.randbytes(4).hex())
        key = g.turn_long_term_key(user, realm, 'pw')
        nonce = rng.randbytes(16).hex().encode()
        auth = [('USERNAME', user.encode()), ('REALM', realm.encode()), ('NONCE', nonce)]
        peer_ip, peer_port = '203.0.113.%d' % rng.randrange(100, 200), rng.randrange(10000, 60000)
        rtt = rng.randrange(5000, 60000)

        def tx(d, data):
            return (lambda: c.tcp(d, PSH | ACK, data)) if tcp else c.udp(d, data)
        if tcp:
            yield t, (lambda: c.tcp(0, SYN, opts=SYN_OPTS))
            yield t + rtt, (lambda: c.tcp(1, SYN | ACK, opts=SYN_OPTS))
            t += rtt + 100
            yield t, (lambda: c.tcp(0, ACK))
        tid = rng.randbytes(12)
        rt = [('REQUESTED-TRANSPORT', b'\x11\0\0\0')]
        yield t, tx(0, g.stun_msg(0x0003, tid, rt))
        t += rtt
        yield t, tx(1, g.stun_msg(0x0113, tid, [('ERROR-CODE', g.stun_error_code(401, 'Unauthorized')),
                                                ('REALM', realm.encode()), ('NONCE', nonce)]))
        t += 1000
        tid = rng.randbytes(12)
        yield t, tx(0, g.stun_msg(0x0003, tid, rt + auth, key=key))
        t += rtt
        yield t, tx(1, g.stun_msg(0x0103, tid, [
            ('XOR-RELAYED-ADDRESS', g.stun_xor_addr(g.socket.inet_ntoa(c.addr[0][1]), rng.randrange(49152, 65535), tid)),
            ('LIFETIME', g.u32(600)),
            ('XOR-MAPPED-ADDRESS', g.stun_xor_addr('192.0.2.200', rng.randrange(1024, 65535), tid))], key=key))
        t += 1000
        tid = rng.randbytes(12)
        peer = [('XOR-PEER-ADDRESS', g.stun_xor_addr(peer_ip, peer_port, tid))]
        yield t, tx(0, g.stun_msg(0x0008, tid, peer + auth, key=key))
        t += rtt
        yield t, tx(1, g.stun_msg(0x0108, tid, [], key=key))
        t += 1000
        tid = rng.randbytes(12)
        peer = [('XOR-PEER-ADDRESS', g.stun_xor_addr(peer_ip, peer_port, tid))]
        yield t, tx(0, g.stun_msg(0x0009, tid, [('CHANNEL-NUMBER', pack('!HH', chan, 0))] + peer + auth, key=key))
        t += rtt
        yield t, tx(1, g.stun_msg(0x0109, tid, [], key=key))
        # refresh every 300 s, dealloc at the end
        t_ref = t + 300 * US
        while t_ref < t_end:
            tid = rng.randbytes(12)
            yield t_ref, tx(0, g.stun_msg(0x0004, tid, [('LIFETIME', g.u32(600))] + auth, key=key))
            yield t_ref + rtt, tx(1, g.stun_msg(0x0104, tid, [('LIFETIME', g.u32(600))], key=key))
            t_ref += 300 * US
        tid = rng.randbytes(12)
        t = t_end + 50000
        yield t, tx(0, g.stun_msg(0x0004, tid, [('LIFETIME', g.u32(0))] + auth, key=key))
        t += rtt
        yield t, tx(1, g.stun_msg(0x0104, tid, [('LIFETIME', g.u32(0))], key=key))
        if tcp:
            t += 1000
            yield t, (lambda: c.tcp(0, FIN | ACK))
            yield t + rtt, (lambda: c.tcp(1, FIN | ACK))
            yield t + rtt + 100, (lambda: c.tcp(0, ACK))

    def g_audio(self, t, send, d, t_end, ssrc, ext=True):
        rng = self.rng
        seq, ts = rng.getrandbits(16), rng.getrandbits(32)
        pool2 = self.pool2
        first = True
        b0 = 0x90 if ext else 0x80
        while t < t_end:
            if rng.random() > 0.005:                       # 0.5 % loss
                n = rng.randrange(60, 140)
                o = rng.randrange(0, 1 << 20)
                p = pack('!BBHII', b0, 0xEF if first else 0x6F, seq & M, ts & 0xFFFFFFFF, ssrc)
                if ext:     # one-byte header extension: ssrc-audio-level (id 1)
                    p += b'\xbe\xde\x00\x01\x10' + bytes([rng.randrange(20, 127)]) + b'\0\0'
                p += pool2[o:o + n]
                first = False
                yield t, send(d, p)
            seq += 1
            ts += 960
            t += 20000 + rng.randrange(-1500, 1500)

    def g_video(self, t, send, d, t_end, ssrc, ext=True):
        rng = self.rng
        b0 = 0x90 if ext else 0x80
        seq, ts = rng.getrandbits(16), rng.getrandbits(32)
        pool2 = self.pool2
        frame = 0
        while t < t_end:
            k = rng.randrange(8, 16) if frame % 120 == 0 else rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
            for i in range(k):
                n = rng.randrange(900, 1160) if i < k - 1 else rng.randrange(200, 1160)
                o = rng.randrange(0, 1 << 20)
                mk = 0x80 if i == k - 1 else 0
                p = pack('!BBHII', b0, mk | 96, seq & M, ts & 0xFFFFFFFF, ssrc)
                if ext:     # one-byte header extension: abs-send-time (id 3)
                    p += b'\xbe\xde\x00\x01\x32' + pool2[o:o + 3]
                p += pool2[o + 3:o + 3 + n]
                if rng.random() > 0.003:
                    yield t + i * 150, send(d, p)
                seq += 1
            frame += 1
            ts += 3000
            t += 33333 + rng.randrange(-2000, 2000)

    def g_rtcp(self, t, send, d, t_end, ssrc, remote):
        rng = self.rng
        npk = 0
        while t < t_end:
            npk += 50
            ta = g.T0 * US + t
            rb = g.rtcp_report_block(remote, rng.randrange(0, 3), rng.randrange(0, 50), rng.getrandbits(16) + 65536,
                                     rng.randrange(10, 400), 0, 0)
            p = g.rtcp_sr(ssrc, ta, rng.getrandbits(32), npk, npk * 100, [rb]) + g.rtcp_sdes_cname(ssrc, 'x%08x' % ssrc)
            yield t, send(d, p)
            t += rng.randrange(800000, 1500000)


def main(argv=None):
    ap = argparse.ArgumentParser(description='callwall benchmark workload generator')
    ap.add_argument('--packets', type=int, required=True)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', required=True)
    ap.add_argument('--pps', type=float, default=6000.0,
                    help='approximate average packet rate (scales all session arrival rates); default 6000')
    ap.add_argument('--stretch', type=int, default=1,
                    help='multiply every packet time by this (default 1): --stretch 36 spreads ~100 s of '
                         'traffic over an hour, for the rotation test')
    ap.add_argument('--profile', choices=sorted(PROFILES), default='office',
                    help='office (default; the workload of every earlier measurement) or busy')
    a = ap.parse_args(argv)
    t0 = time.time()
    w = Workload(a.seed, a.pps, a.profile)
    n, last = w.run(a.packets, a.out, a.stretch)
    el = time.time() - t0
    print(f'{a.out}: {n} packets, {last / US:.1f} s of traffic, {os.path.getsize(a.out) / 1e6:.1f} MB, '
          f'generated in {el:.1f} s ({n / el / 1000:.0f} kpps)', file=sys.stderr)
    print('sessions started: ' + ', '.join(f'{k}={v}' for k, v in sorted(w.stats.items())), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
