#!/usr/bin/python3
"""Generate the pcapng captures of captures/field/: files shaped like the ones
Wireshark and mergecap write, which libpcap 1.10 refuses.

    tools/gen_field_pcapng.py [--out captures/field]

Packets come from the builders of tools/gen_captures.py; output is
byte-identical on every run (fixed times from 2026-01-01T00:00:00Z, fixed
seeds). Only private / documentation addresses. See captures/field/README.md.
"""

import argparse
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL = 1, 101, 113


def shb(app):
    body = struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) + g._pcapng_opts([(4, app.encode())])
    return g._pcapng_block(0x0A0D0D0A, body)


def idb(linktype, snaplen, name, tsresol=None):
    """tsresol: the if_tsresol byte (None: the default, microseconds)."""
    opts = [(2, name.encode())]
    if tsresol is not None:
        opts.append((9, bytes([tsresol])))
    return g._pcapng_block(1, struct.pack('<HHI', linktype, 0, snaplen) + g._pcapng_opts(opts))


def units_per_s(tsresol):
    if tsresol is None:
        return 10 ** 6
    return 2 ** (tsresol & 0x7f) if tsresol & 0x80 else 10 ** tsresol


def epb(ifi, tsresol, t_us, frame):
    ts = t_us * units_per_s(tsresol) // g.US
    body = struct.pack('<IIIII', ifi, ts >> 32, ts & 0xffffffff, len(frame), len(frame)) + frame
    return g._pcapng_block(6, body)


def isb(ifi, tsresol, t_us, recv, drop):
    """Interface Statistics Block (type 5) with isb_ifrecv / isb_ifdrop:
    Wireshark writes one per interface at the end; callwall skips it."""
    ts = t_us * units_per_s(tsresol) // g.US
    opts = g._pcapng_opts([(4, struct.pack('<Q', recv)), (5, struct.pack('<Q', drop))])
    return g._pcapng_block(5, struct.pack('<III', ifi, ts >> 32, ts & 0xffffffff) + opts)


def mixed_linktypes(path):
    """Three interfaces with three link types, packets interleaved in time:
    0 eth0 Ethernet (microseconds): a DNS A query and its answer;
    1 tun0 raw IPv4 (nanoseconds, if_tsresol 9): a TCP connection to 443
      with a TLS ClientHello naming call.example.net;
    2 any  Linux SLL (2^-20 s, if_tsresol 0x94): an HTTP connection (handshake,
      request, response, close) that overlaps the TLS one;
    then one Interface Statistics Block per interface."""
    rng = random.Random(16)
    name, srv, web = 'call.example.net', '192.0.2.10', '192.0.2.11'
    ifaces = [(LINKTYPE_ETHERNET, 262144, 'eth0', None, g.eth),
              (LINKTYPE_RAW, 65535, 'tun0', 9, lambda p: p),
              (LINKTYPE_LINUX_SLL, 262144, 'any', 0x94, g.sll)]

    dns = g.Cap()
    txid = rng.getrandbits(16)
    dns.udp(0, g.CLIENT, g.RESOLVER, 53101, 53, g.dns_query(txid, name))
    dns.udp(g.ms(12), g.RESOLVER, g.CLIENT, 53, 53101,
            g.dns_msg(txid, 0x8180, [(name, 'A')], [(name, 'A', 300, g.a4(srv))]))

    tls = g.Cap()
    c = g.TcpConn(tls, g.CLIENT, srv, 49400, 443, rng=rng)
    t = c.handshake(g.ms(20))
    hello = g.tls_record(22, g.tls_client_hello(rng, name, pq=False))
    t = c.send('c', t + g.ms(1), hello)
    c.close(t + g.ms(30), first='c')

    web_cap = g.Cap()
    w = g.TcpConn(web_cap, g.CLIENT, web, 49401, 80, rng=rng)
    t = w.handshake(g.ms(25))
    t = w.send('c', t + g.ms(1), b'GET / HTTP/1.1\r\nHost: web.example.net\r\n\r\n')
    t = w.send('s', t + g.ms(3), b'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n')
    w.close(t + g.ms(2), first='s')

    packets = []
    for ifi, cap in enumerate((dns, tls, web_cap)):
        for t_rel, pkt, _ in cap.sorted():
            packets.append((g.T0 * g.US + t_rel, ifi, ifaces[ifi][4](pkt)))
    packets.sort(key=lambda p: (p[0], p[1]))  # stable: interleaved by time

    out = shb('callwall tools/gen_field_pcapng.py')
    out += b''.join(idb(lt, snap, n, res) for lt, snap, n, res, _ in ifaces)
    for t_us, ifi, frame in packets:
        out += epb(ifi, ifaces[ifi][3], t_us, frame)
    last = packets[-1][0]
    for ifi, (_, _, _, res, _) in enumerate(ifaces):
        out += isb(ifi, res, last, sum(1 for p in packets if p[1] == ifi), 0)
    with open(path, 'wb') as f:
        f.write(out)
    return len(packets)


CAPTURES = {'pcapng_mixed_linktypes.pcapng': mixed_linktypes}


def block(btype, body, big=False):
    body += b'\0' * (-len(body) % 4)
    e = '>' if big else '<'
    return struct.pack(e + 'II', btype, 12 + len(body)) + body + struct.pack(e + 'I', 12 + len(body))


def fuzz_seed(path):
    """A seed for tests/fuzz/pcapng_fuzz.cpp touching every block kind: a
    big-endian section (Ethernet and raw IP interfaces, nanosecond and 2^-20
    if_tsresol, an if_tsoffset, EPBs on both, an SPB, an obsolete PB, an
    unknown block), then a little-endian section whose last EPB is cut."""
    be = b''
    be += block(0x0A0D0D0A, struct.pack('>IHHq', 0x1A2B3C4D, 1, 0, -1), True)
    be += block(1, struct.pack('>HHI', 1, 0, 262144) + struct.pack('>HH', 9, 1) + b'\x09\0\0\0'
                + struct.pack('>HHq', 14, 8, 100) + b'\0\0\0\0', True)
    be += block(1, struct.pack('>HHI', 101, 0, 64) + struct.pack('>HH', 9, 1) + b'\x94\0\0\0'
                + b'\0\0\0\0', True)
    frame = bytes(range(60))
    be += block(6, struct.pack('>IIIII', 0, 1, 2, 60, 60) + frame, True)
    be += block(6, struct.pack('>IIIII', 1, 3, 4, 20, 40) + frame[:20], True)
    be += block(3, struct.pack('>I', 60) + frame, True)
    be += block(2, struct.pack('>HHIIII', 1, 0, 5, 6, 8, 8) + frame[:8], True)
    be += block(0x0BAD, b'unknown', True)
    le = block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
    le += block(1, struct.pack('<HHI', 113, 0, 0))
    le += block(6, struct.pack('<IIIII', 0, 0, 7, 30, 30) + frame[:30])
    le += block(6, struct.pack('<IIIII', 0, 0, 8, 30, 30) + frame[:30])[:-10]
    with open(path, 'wb') as f:
        f.write(be + le)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--out', default=os.path.join(here, '..', 'captures', 'field'))
    ap.add_argument('--fuzz-seed', metavar='FILE', help='also write the pcapng fuzz seed to FILE')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.fuzz_seed:
        os.makedirs(os.path.dirname(os.path.abspath(args.fuzz_seed)), exist_ok=True)
        fuzz_seed(args.fuzz_seed)
    for name, fn in CAPTURES.items():
        n = fn(os.path.join(args.out, name))
        print(f'{name}: {n} packets')


if __name__ == '__main__':
    main()
