#!/usr/bin/python3
"""Generates the regression captures of link types and tunnels beyond the
mirror port into captures/field/ (the wrapped copies of whole scenarios are
tools/gen_encap.py's):

  wlan_radiotap_mixed.pcap  link type IEEE802_11_RADIOTAP (127), as an access
      point's monitor interface sees a station: a beacon, a probe request,
      an ACK, an RTS, a null function and a QoS null frame (skipped and
      counted), an EAPOL key frame (not IP), three protected data frames
      (encrypted: not decoded, said once), an A-MSDU of two packets (not
      decoded), then data frames with LLC/SNAP carrying a DNS exchange and a
      TLS connection (SNI wifi.calls.example.net) in plain, QoS and
      4-address form.
  tunnels_mixed.pcap  Ethernet: a DNS exchange and a TLS connection inside
      6in4 (IPv6 in IPv4, protocol 41; SNI six.in.four.example.net), GRE in
      UDP (4754; SNI gre.udp.example.net), AYIYA (5072, IPv6; SNI
      ayiya.example.net) and Teredo with an authentication header (3544,
      IPv6; SNI teredo.example.net); then tunnels whose content callwall does
      not read, two packets each, counted and named in the run's notes: GRE
      with protocol 0x88B5 (local experimental), VXLAN-GPE carrying NSH;
      EtherIP and IP in IP (protocol 4 holding an IPv6 packet: read by the
      inner version, as tshark does); and a UDP datagram to 4754 that is not
      GRE (a UDP flow; tshark calls it malformed GRE).

Deterministic (fixed timestamps from 2026-01-01T00:00:00Z,
random.Random(crc32(name))); documentation/private addresses only. Built on
the packet library of tools/gen_captures.py.

    tools/gen_field_links.py
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


def tls_session(cap, rng, cli, srv, cport, t, sni):
    """A TCP connection with a ClientHello and the server's flight."""
    c = g.TcpConn(cap, cli, srv, cport, 443, rng=rng)
    t = c.handshake(t)
    ch = g.tls_client_hello(rng, sni, pq=False, pad_to=512)
    t = c.send('c', t + ms(1), g.tls_record(22, ch, 0x0301))
    sh = g.tls_server_hello(rng, g.client_hello_session_id(ch))
    t = c.send('s', t + ms(3), g.tls_record(22, sh) + g.tls_record(20, b'\x01') + g.tls_record(23, rng.randbytes(300)))
    return c.close(t + ms(20))


def dns_exchange(cap, rng, cli, resolver, t, name, qtype, answer):
    txid = rng.getrandbits(16)
    cap.udp(t, cli, resolver, 53100 + (txid % 100), 53, g.dns_query(txid, name, qtype))
    cap.udp(t + ms(10), resolver, cli, 53, 53100 + (txid % 100),
            g.dns_msg(txid, 0x8180, [(name, qtype)], [(name, qtype, 300, answer)]))
    return t + ms(10)


# ---- 802.11 ------------------------------------------------------------------

BSSID = g.mac('02:00:00:00:0a:01')
STA = g.mac('02:00:00:00:0b:02')
GW = g.mac('02:00:5e:00:00:01')
SNAP = b'\xaa\xaa\x03\x00\x00\x00'


def radiotap(frame, seq):
    fields = struct.pack('<QBBHHb', seq * 1000, 0, 108, 5180, 0x0140, -42)
    return struct.pack('<BBHI', 0, 0, 8 + len(fields), 0x2F) + fields + frame


def dot11(fc0, flags, a1, a2, a3, seq, body=b'', a4=None, qos=None):
    hdr = struct.pack('<BBH', fc0, flags, 44) + a1 + a2 + a3 + struct.pack('<H', (seq & 0xFFF) << 4)
    if a4 is not None:
        hdr += a4
    if qos is not None:
        hdr += struct.pack('<H', qos)
    return hdr + body


def data_frame(pkt, seq):
    """An IP packet from or to the station as an 802.11 data frame."""
    body = SNAP + (b'\x86\xdd' if pkt[0] >> 4 == 6 else b'\x08\x00') + pkt
    from_sta = pkt[12:16] == g.a4(g.CLIENT)
    if seq % 3 == 0:      # 4-address QoS data (a mesh or WDS hop)
        src, dst = (STA, GW) if from_sta else (GW, STA)
        return dot11(0x88, 0x03, BSSID, BSSID, dst, seq, body, a4=src, qos=0)
    if from_sta:          # station to AP: BSSID, SA, DA
        return dot11(0x08, 0x01, BSSID, STA, GW, seq, body)
    return dot11(0x88, 0x02, STA, BSSID, GW, seq, body, qos=5)   # QoS data from the AP


@capture('wlan_radiotap_mixed.pcap')
def cap_wlan_radiotap_mixed(out, rng):
    """802.11 behind radiotap: frames skipped, protected and aggregated, then DNS and TLS in data frames."""
    frames = []
    t = 0
    ssid = b'callwall-lab'
    beacon_body = struct.pack('<QHH', 123456, 100, 0x0411) + b'\x00' + bytes([len(ssid)]) + ssid + b'\x01\x01\x8c'
    frames.append((t, dot11(0x80, 0, b'\xff' * 6, BSSID, BSSID, 1, beacon_body)))
    frames.append((t + ms(1), dot11(0x40, 0, b'\xff' * 6, STA, b'\xff' * 6, 2, b'\x00' + bytes([len(ssid)]) + ssid)))
    frames.append((t + ms(2), struct.pack('<BBH', 0xD4, 0, 0) + STA))                       # ACK
    frames.append((t + ms(3), struct.pack('<BBH', 0xB4, 0, 100) + BSSID + STA))             # RTS
    frames.append((t + ms(4), dot11(0x48, 0x11, BSSID, STA, BSSID, 3)))                     # null function, PM
    frames.append((t + ms(5), dot11(0xC8, 0x01, BSSID, STA, BSSID, 4, qos=0)))              # QoS null
    eapol = SNAP + b'\x88\x8e' + bytes.fromhex('0203005f02008a0010') + rng.randbytes(86)
    frames.append((t + ms(6), dot11(0x88, 0x02, STA, BSSID, BSSID, 5, eapol, qos=7)))      # EAPOL key 1/4
    for i in range(3):                                                                      # CCMP-protected
        ccmp = struct.pack('<BBBBBBBB', i + 1, 0, 0, 0x20, 0, 0, 0, 0) + rng.randbytes(120) + rng.randbytes(8)
        frames.append((t + ms(7 + i), dot11(0x88, 0x41, BSSID, STA, GW, 6 + i, ccmp, qos=0)))
    sub = []
    for n in range(2):                                                                      # A-MSDU of two
        pkt = g.ip_udp(g.CLIENT, '203.0.113.9', 40000 + n, 9, b'amsdu-%d' % n)
        s = STA + GW + struct.pack('!H', 8 + len(pkt)) + SNAP + b'\x08\x00' + pkt
        sub.append(s + b'\x00' * (-len(s) % 4 if n == 0 else 0))
    frames.append((t + ms(10), dot11(0x88, 0x01, BSSID, STA, GW, 9, b''.join(sub), qos=0x80)))
    cap = g.Cap()
    t2 = dns_exchange(cap, rng, g.CLIENT, g.RESOLVER, ms(20), 'wifi.calls.example.net', 'A', g.a4('203.0.113.80'))
    tls_session(cap, rng, g.CLIENT, '203.0.113.80', 47001, t2 + ms(5), 'wifi.calls.example.net')
    for i, (tp, pkt, _) in enumerate(cap.sorted()):
        frames.append((tp, data_frame(pkt, 20 + i)))
    g.write_pcap(os.path.join(out, 'wlan_radiotap_mixed.pcap'), 127,
                 [(g.T0 * g.US + tp, radiotap(f, i)) for i, (tp, f) in enumerate(frames)])


# ---- tunnels -----------------------------------------------------------------

TUN_A, TUN_B = '192.0.2.1', '198.51.100.41'


def outer(proto, payload, src=TUN_A, dst=TUN_B, ident=1):
    return g.eth(g.ipv4(g.a4(src), g.a4(dst), proto, payload, ident=ident))


def outer_udp(sport, dport, payload, ident, src=TUN_A, dst=TUN_B):
    return g.eth(g.ip_udp(src, dst, sport, dport, payload, ident=ident))


def ayiya(pkt, seq):
    nh = 41 if pkt[0] >> 4 == 6 else 4
    return struct.pack('!BBBBI', 0x41, 0x52, 0x11, nh, g.T0 + seq) + bytes(range(16)) + bytes(20) + pkt


def teredo_auth(pkt, seq):
    # authentication indicator: ID-len 4, AU-len 8, client id, auth value, nonce, confirmation
    return b'\x00\x01' + bytes([4, 8]) + b'cw01' + bytes(8) + struct.pack('!Q', seq) + b'\x00' + pkt


def inner_traffic(rng, cli, resolver, srv, t, name, qtype, answer, cport):
    cap = g.Cap()
    t = dns_exchange(cap, rng, cli, resolver, t, name, qtype, answer)
    tls_session(cap, rng, cli, srv, cport, t + ms(5), name)
    return cap.sorted()


@capture('tunnels_mixed.pcap')
def cap_tunnels_mixed(out, rng):
    """DNS and TLS inside 6in4, GRE in UDP, AYIYA and Teredo; tunnels whose content is not read."""
    frames = []
    seq = 0
    # 6in4
    for tp, pkt, _ in inner_traffic(rng, g.CLIENT6, g.RESOLVER6, '2001:db8:2::441', 0, 'six.in.four.example.net',
                                    'AAAA', g.a6('2001:db8:2::441'), 47101):
        seq += 1
        up = pkt[8:24] == g.a6(g.CLIENT6)
        frames.append((tp, outer(41, pkt, *((TUN_A, TUN_B) if up else (TUN_B, TUN_A)), ident=seq)))
    # GRE in UDP
    for tp, pkt, _ in inner_traffic(rng, g.CLIENT, g.RESOLVER, '203.0.113.54', ms(200), 'gre.udp.example.net', 'A',
                                    g.a4('203.0.113.54'), 47102):
        seq += 1
        frames.append((tp, outer_udp(50000 + seq, 4754, struct.pack('!HH', 0, 0x0800) + pkt, seq)))
    # AYIYA
    for tp, pkt, _ in inner_traffic(rng, g.CLIENT6, g.RESOLVER6, '2001:db8:2::5072', ms(400), 'ayiya.example.net',
                                    'AAAA', g.a6('2001:db8:2::5072'), 47103):
        seq += 1
        up = pkt[8:24] == g.a6(g.CLIENT6)
        frames.append((tp, outer_udp(5072, 5072, ayiya(pkt, seq), seq, *((TUN_A, TUN_B) if up else (TUN_B, TUN_A)))))
    # Teredo with an authentication header
    for tp, pkt, _ in inner_traffic(rng, g.CLIENT6, g.RESOLVER6, '2001:db8:2::3544', ms(600), 'teredo.example.net',
                                    'AAAA', g.a6('2001:db8:2::3544'), 47104):
        seq += 1
        up = pkt[8:24] == g.a6(g.CLIENT6)
        frames.append((tp, outer_udp(40001, 3544, teredo_auth(pkt, seq), seq) if up else
                       outer_udp(3544, 40001, teredo_auth(pkt, seq), seq, TUN_B, TUN_A)))
    # Tunnels whose content is not read
    inner = g.ip_udp(g.CLIENT, '203.0.113.77', 40100, 9, b'inner-data')
    t = ms(800)
    for i in range(2):
        seq += 1
        frames.append((t, outer(47, struct.pack('!HH', 0, 0x88B5) + inner, ident=seq)))                # GRE, 0x88B5
        frames.append((t + 1, outer_udp(50100, 4790, struct.pack('!BHBI', 0x0C, 0, 4, 4242 << 8) +
                                        bytes.fromhex('0006010200000101') + inner, seq)))               # VXLAN-GPE NSH
        frames.append((t + 2, outer(97, b'\x30\x00' + g.eth(inner), ident=seq)))                       # EtherIP
        src6, dst6 = g.a6(g.CLIENT6), g.a6('2001:db8:2::9')
        frames.append((t + 3, outer(4, g.ipv6(src6, dst6, 17, g.udp(src6, dst6, 40200, 9, b'v6-in-4')), ident=seq)))
        frames.append((t + 4, outer_udp(50200, 4754, b'\x45\x00\xff\xff' + rng.randbytes(40), seq)))  # not GRE
        t += ms(10)
    g.write_pcap(os.path.join(out, 'tunnels_mixed.pcap'), g.DLT_EN10MB,
                 [(g.T0 * g.US + tp, f) for tp, f in sorted(frames, key=lambda x: x[0])])


def main(argv=None):
    return g.run_field_generator(__doc__, CAPTURES, argv)


if __name__ == '__main__':
    sys.exit(main())
