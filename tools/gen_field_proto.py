#!/usr/bin/python3
"""Regression captures (field truth): decoder cases seen on real calls.

    tools/gen_field_proto.py [--out captures/field] [--only NAME ...] [--list]

Reuses the packet builders of tools/gen_captures.py (same fixed start time
2026-01-01T00:00:00Z, fixed per-capture seeds, documentation / private
addresses only), so the output is byte-identical on every run.  QUIC Initial
protection goes through gen_captures.quic_long_packet(), the code path of the
v1/v2 captures; the salts of the extra versions are added to its tables here:

  0x1a2a3a4a (reserved, RFC 9000 §15)  v1 salt and labels (what current Wireshark tries)
  0xfafafafa (reserved)                draft-29 salt, v1 labels (what tshark 4.0 tries)
  T050 (0x54303530)                    7ff579e5acd0729155 80304c43a2367c60488310
  T051 (0x54303531)                    7a4edef4e7ccee5fa4506c19124fc8ccda6e033d
  (Wireshark epan/dissectors/packet-quic.c, quic_derive_initial_secrets)

Captures (see captures/field/README.md):
  mdns_cache_flush.pcap   mDNS answers with the cache-flush class bit
  quic_rare_versions.pcap QUIC Initials of a GREASE version, T050, T051, and
                          gQUIC Q035/Q038 clear-text CHLOs
  rtp_cn_first.pcap       RTP streams whose first packets are comfort noise
"""

import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

QUIC_GREASE = 0x1A2A3A4A
QUIC_GREASE_D29 = 0xFAFAFAFA
SALT_DRAFT29 = bytes.fromhex('afbfec289993d24c9e9786f19c6111e04390a899')
QUIC_T050 = 0x54303530
QUIC_T051 = 0x54303531
g.QUIC_SALT[QUIC_GREASE] = g.QUIC_SALT[g.QUIC_V1]
g.QUIC_SALT[QUIC_GREASE_D29] = SALT_DRAFT29
g.QUIC_SALT[QUIC_T050] = bytes.fromhex('7ff579e5acd072915580304c43a2367c60488310')
g.QUIC_SALT[QUIC_T051] = bytes.fromhex('7a4edef4e7ccee5fa4506c19124fc8ccda6e033d')
for _v in (QUIC_GREASE, QUIC_GREASE_D29, QUIC_T050, QUIC_T051):
    g.QUIC_LABEL[_v] = b'quic'
    g.QUIC_INITIAL_TYPE[_v] = 0

CAPTURES = {}


def capture(name):
    def deco(fn):
        CAPTURES[name] = (fn, zlib.crc32(name.encode()))
        return fn
    return deco


# ---- mDNS ---------------------------------------------------------------------

MDNS4 = '224.0.0.251'
MDNS6 = 'ff02::fb'
CACHE_FLUSH = 0x8001          # class IN | cache-flush (RFC 6762 §10.2)


def mdns_query_qu(name, qtype):
    """mDNS query (ID 0, no flags) with the unicast-response bit in QCLASS."""
    m = bytearray(g.dns_msg(0, 0x0000, [(name, qtype)]))
    m[-2:] = g.u16(0x8001)    # the question is last: QCLASS = IN | QU
    return bytes(m)


@capture('mdns_cache_flush.pcap')
def cap_mdns(out, rng):
    """mDNS (UDP 5353): a QU query from 10.1.0.20 for printer-3.local; the
    printer (10.1.0.30) answers by unicast and then announces to 224.0.0.251
    (no question, A + AAAA of class 0x8001: IN with the cache-flush bit); an
    IPv6 host announces to ff02::fb the same way; plus a unicast DNS answer of
    class 0x8001 on port 53 (not mDNS: stays without an address)."""
    cap = g.Cap()
    q, printer, v6host = '10.1.0.20', '10.1.0.30', '2001:db8:1::31'
    name, name6 = 'printer-3.local', 'cam-7.local'
    an = [(name, 'A', 120, g.a4('10.1.0.30'), CACHE_FLUSH),
          (name, 'AAAA', 120, g.a6('2001:db8:1::30'), CACHE_FLUSH)]
    cap.udp(0, q, MDNS4, 5353, 5353, mdns_query_qu(name, 'A'))
    # Unicast response to the QU question (RFC 6762 §5.4): to the querier's port 5353.
    cap.udp(g.ms(3), printer, q, 5353, 5353, g.dns_msg(0, 0x8400, [], an))
    # Announcement (RFC 6762 §8.3): no question, cache-flush records.
    cap.udp(g.ms(250), printer, MDNS4, 5353, 5353, g.dns_msg(0, 0x8400, [], an))
    cap.udp(g.ms(500), v6host, MDNS6, 5353, 5353,
            g.dns_msg(0, 0x8400, [], [(name6, 'AAAA', 120, g.a6('2001:db8:1::31'), CACHE_FLUSH)]))
    # Unicast DNS with the same class value: 0x8001 is no class there, no address taken.
    txid = rng.getrandbits(16)
    cap.udp(g.ms(700), g.CLIENT, g.RESOLVER, 53100, 53, g.dns_query(txid, 'odd-class.example.com'))
    cap.udp(g.ms(712), g.RESOLVER, g.CLIENT, 53, 53100,
            g.dns_msg(txid, 0x8180, [('odd-class.example.com', 'A')],
                      [('odd-class.example.com', 'A', 60, g.a4('192.0.2.99'), CACHE_FLUSH)]))
    g.write_pcap(os.path.join(out, 'mdns_cache_flush.pcap'), g.DLT_EN10MB, cap.frames())


# ---- QUIC -----------------------------------------------------------------------

def gquic_crypto_frame(offset, data):
    """Google QUIC CRYPTO frame (type 0x08, as used in T05x Initials)."""
    return b'\x08' + g.varint(offset) + g.varint(len(data)) + data


def gquic_chlo(tags):
    """QUIC crypto handshake message: tag, LE entry count, 2 bytes padding,
    (tag, LE end offset) entries in tag order, then the values."""
    tags = sorted(tags, key=lambda kv: struct.unpack('<I', kv[0])[0])
    head, vals, end = b'', b'', 0
    for tag, val in tags:
        end += len(val)
        head += tag + struct.pack('<I', end)
        vals += val
    return b'CHLO' + struct.pack('<HH', len(tags), 0) + head + vals


def gquic_legacy_chlo_packet(version, cid, pn, chlo, size=1350, flags=0x09):
    """gQUIC <= Q043 public header (flags 0x09: version + 8-byte CID, 1-byte
    packet number), 12-byte message hash, STREAM frame 0xa0 (data length
    present, no offset, 1-byte stream id 1) carrying the CHLO, PADDING.
    Up to Q038 the frame's integers are little-endian (Wireshark
    packet-gquic.c), from Q039 on big-endian."""
    le = int(version[1:]) < 39
    length = struct.pack('<H' if le else '>H', len(chlo))
    hdr = bytes([flags]) + cid + version.encode() + bytes([pn])
    body = b'\xa0\x01' + length + chlo
    msg_hash = zlib.crc32(body).to_bytes(4, 'big') * 3     # opaque to decoders (not FNV)
    pkt = hdr + msg_hash + body
    return pkt + b'\x00' * (size - len(pkt))


def quic_vn(dcid, scid, versions):
    return (b'\x80' + g.u32(0) + g.vec8(dcid) + g.vec8(scid)
            + b''.join(g.u32(v) for v in versions))


@capture('quic_rare_versions.pcap')
def cap_quic_rare(out, rng):
    """One client Initial per less common QUIC version, each on its own flow
    to 198.51.100.110:443, SNI naming the version:
    GREASE 0x1a2a3a4a and 0xfafafafa (a v1 Initial under a reserved version,
    protected with the v1 resp. draft-29 salt; the server answers Version
    Negotiation), Google T050 and T051 (TLS ClientHello in a
    gQUIC CRYPTO frame 0x08, own salts), and gQUIC Q035 and Q038 clear-text
    CHLOs (STREAM data length little-endian) with an SNI tag."""
    cap = g.Cap()
    srv = '198.51.100.110'
    t = 0
    # GREASE versions: a v1 Initial under a reserved number, protected with the v1 salt (how
    # current Wireshark reads it) and, on a second flow, with the draft-29 salt (how tshark 4.0
    # reads it); IETF frames.  The server answers Version Negotiation.
    for port, version, salt, sni in ((47001, QUIC_GREASE, g.QUIC_SALT[g.QUIC_V1], 'grease-v1.quic.example.net'),
                                     (47006, QUIC_GREASE_D29, SALT_DRAFT29, 'grease-d29.quic.example.net')):
        g.QUIC_SALT[version] = salt
        dcid, scid = rng.randbytes(8), rng.randbytes(8)
        ch = g.quic_client_hello(rng, sni, scid, pq=False)
        cap.udp(t, g.CLIENT, srv, port, 443,
                g.quic_initial(version, dcid, scid, 0, g.quic_crypto_frame(0, ch), dcid, True, pad_to=1200))
        cap.udp(t + g.ms(20), srv, g.CLIENT, 443, port, quic_vn(scid, dcid, [g.QUIC_V1, 0x3a4a5a6a]))
        t += g.ms(100)
    # T050 / T051: gQUIC frames inside an IETF-protected Initial.
    for port, version, sni in ((47002, QUIC_T050, 't050.quic.example.net'),
                               (47003, QUIC_T051, 't051.quic.example.net')):
        dcid, scid = rng.randbytes(8), rng.randbytes(8)
        ch = g.tls_client_hello(rng, sni, alpn=('h3-' + ('T050' if version == QUIC_T050 else 'T051'),),
                                pq=False, tls12=False, session_id=False,
                                quic_tp=g.quic_transport_params(scid, rng))
        cap.udp(t, g.CLIENT, srv, port, 443,
                g.quic_initial(version, dcid, scid, 0, gquic_crypto_frame(0, ch), dcid, True, pad_to=1350))
        t += g.ms(100)
    # Q035 / Q038: clear-text CHLO.
    for port, version, sni in ((47004, 'Q035', 'q035.quic.example.net'),
                               (47005, 'Q038', 'q038.quic.example.net')):
        chlo = gquic_chlo([(b'PAD\x00', b'-' * 200), (b'SNI\x00', sni.encode()),
                           (b'VER\x00', version.encode()), (b'UAID', b'Chrome/58.0.3029.110 Linux x86_64'),
                           (b'PDMD', b'X509'), (b'KEXS', b'C255'), (b'AEAD', b'AESG')])
        cap.udp(t, g.CLIENT, srv, port, 443, gquic_legacy_chlo_packet(version, rng.randbytes(8), 1, chlo))
        t += g.ms(100)
    g.write_pcap(os.path.join(out, 'quic_rare_versions.pcap'), g.DLT_EN10MB, cap.frames())


@capture('gquic_client_nonce_flag.pcap')
def cap_gquic_client_nonce_flag(out, rng):
    """A gQUIC Q039 client CHLO whose public flags are 0x0d: version, 8-byte
    CID and 0x04, which names the diversification nonce only in a server's
    packets (Wireshark packet-gquic.c): no nonce follows, the SNI
    q039.quic.example.net is read right after the packet number."""
    cap = g.Cap()
    chlo = gquic_chlo([(b'PAD\x00', b'-' * 200), (b'SNI\x00', b'q039.quic.example.net'), (b'VER\x00', b'Q039'),
                       (b'UAID', b'Chrome/60.0.3112.113 Linux x86_64'), (b'PDMD', b'X509'), (b'KEXS', b'C255'),
                       (b'AEAD', b'AESG')])
    cap.udp(0, g.CLIENT, '198.51.100.111', 47039, 443,
            gquic_legacy_chlo_packet('Q039', rng.randbytes(8), 1, chlo, flags=0x0d))
    g.write_pcap(os.path.join(out, 'gquic_client_nonce_flag.pcap'), g.DLT_EN10MB, cap.frames())


# ---- RTP ---------------------------------------------------------------------------

@capture('rtp_cn_first.pcap')
def cap_rtp_cn_first(out, rng):
    """One UDP flow 10.1.0.10:50010 <-> 203.0.113.95:50020 with one RTP stream
    each way.  Client -> server: 4 comfort-noise packets (PT 13, 1-byte
    payload) open the stream, then 40 Opus packets (PT 111), then 2 CN again:
    the dominant type is 111.  Server -> client: 30 PCMU packets (PT 0) with
    6 RFC 4733 events (PT 101) in the middle: the dominant (and first) type
    is 0."""
    cap = g.Cap()
    cli, srv, cport, sport = g.CLIENT, '203.0.113.95', 50010, 50020
    ssrc_c, ssrc_s = 0x11C0FFEE, 0x22BADA55
    seq, ts, t = 2000, 160000, 0
    plan = [13] * 4 + [111] * 40 + [13] * 2
    for i, pt in enumerate(plan):
        payload = b'\x28' if pt == 13 else rng.randbytes(rng.randrange(70, 150))
        cap.udp(t, cli, srv, cport, sport, g.rtp(pt, seq, ts, ssrc_c, payload, marker=(i == 4)))
        seq, ts, t = seq + 1, ts + 960, t + g.ms(20)
    seq, ts, t = 7000, 8000, g.ms(5)
    event_ts = ts + 12 * 160
    for i in range(30):
        if 12 <= i < 18:     # RFC 4733 event "1": timestamp stays at the event start
            pt, pts = 101, event_ts
            payload = bytes([1, 0x0a]) + g.u16(160 * (i - 11))
        else:
            pt, pts, payload = 0, ts, rng.randbytes(160)
        cap.udp(t, srv, cli, sport, cport, g.rtp(pt, seq, pts, ssrc_s, payload))
        seq, ts, t = seq + 1, ts + 160, t + g.ms(20)
    g.write_pcap(os.path.join(out, 'rtp_cn_first.pcap'), g.DLT_EN10MB, cap.frames())


@capture('rtp_after_app_opening.pcap')
def cap_rtp_after_app_opening(out, rng):
    """One UDP flow 10.1.0.10:50030 <-> 203.0.113.96:50040 where a calling
    app opens with its own protocol: 12 client and 12 server datagrams of a
    made-up session exchange (first byte 0x05, a 4-byte session id and
    text; nothing STUN, DTLS, ChannelData or RTP could take), then Opus RTP
    (PT 111) both ways, 40 packets each: the flow is rtp, both streams found."""
    cap = g.Cap()
    cli, srv, cport, sport = g.CLIENT, '203.0.113.96', 50030, 50040
    t = 0
    for i in range(12):
        for src, dst, sp, dp, who in ((cli, srv, cport, sport, b'hello'), (srv, cli, sport, cport, b'ready')):
            msg = b'\x05' + g.u16(0x5E55) + g.u16(i) + who + b' session step ' + str(i).encode()
            cap.udp(t, src, dst, sp, dp, msg)
            t += g.ms(10)
    seq_c, seq_s, ts_c, ts_s = 100, 900, 48000, 96000
    for i in range(40):
        cap.udp(t, cli, srv, cport, sport, g.rtp(111, seq_c + i, ts_c + 960 * i, 0x0A110CA1,
                                                rng.randbytes(rng.randrange(60, 120)), marker=(i == 0)))
        cap.udp(t + g.ms(5), srv, cli, sport, cport, g.rtp(111, seq_s + i, ts_s + 960 * i, 0x0B0B0B0B,
                                                          rng.randbytes(rng.randrange(60, 120)), marker=(i == 0)))
        t += g.ms(20)
    g.write_pcap(os.path.join(out, 'rtp_after_app_opening.pcap'), g.DLT_EN10MB, cap.frames())


def main(argv=None):
    return g.run_field_generator(__doc__, CAPTURES, argv)


if __name__ == '__main__':
    sys.exit(main())
