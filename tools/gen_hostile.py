#!/usr/bin/python3
"""Write a capture crafted to blow up callwall's per-run state.

    tools/gen_hostile.py --out F.pcap --packets N [--kind KIND] [--seed S]

KIND (default mix: the kinds below interleaved, one packet of each in turn):

  flows   every packet a new flow: UDP datagrams and TCP SYNs to distinct
          5-tuples, never answered (flow table)
  dns     DNS responses, each for a new name resolving to a new address
          (interned names, the address -> name map)
  tls     TCP connections (handshake completed) whose client sends the first
          76 bytes of a 2 KiB TLS record holding a ClientHello, then never the
          rest (TLS reassembly buffers)
  stun    UDP flows each sending 40 STUN Binding requests with distinct
          transaction ids, never answered (STUN transaction tables)
  peers   one TURN client flow (its server named by a DNS answer) sending
          CreatePermission requests with 8 new XOR-PEER-ADDRESS values each
          (the TURN peer -> server name map)

Raw IPv4 link type (101), 1 microsecond between packets, so nothing idles
out: every bound has to hold by itself. Checksums are zero (callwall does not
verify them). Deterministic for given arguments.
"""

import argparse
import random
import struct
import sys

pack = struct.pack
LINKTYPE_RAW = 101
T0 = 1_700_000_000 * 1_000_000  # capture start, microseconds

MAGIC_COOKIE = 0x2112A442
RESOLVER = 0xC0000235   # 192.0.2.53
TURN_SERVER = 0xC6336409  # 198.51.100.9
TURN_CLIENT = 0x0A090001  # 10.9.0.1


def ipv4(src, dst, proto, payload):
    return pack('!BBHHHBBHII', 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, src, dst) + payload


def udp(src, dst, sport, dport, payload):
    return ipv4(src, dst, 17, pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b''):
    return ipv4(src, dst, 6, pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload)


def dns_name(name):
    out = b''
    for label in name.split('.'):
        out += bytes([len(label)]) + label.encode()
    return out + b'\0'


def dns_response(txid, name, address):
    q = dns_name(name) + pack('!HH', 1, 1)
    a = pack('!HHHIHI', 0xC00C, 1, 1, 300, 4, address)
    return pack('!HHHHHH', txid, 0x8180, 1, 1, 0, 0) + q + a


def stun(method, txid, attrs=b''):
    return pack('!HHI', method, len(attrs), MAGIC_COOKIE) + txid + attrs


def xor_peer(addr, port):
    return pack('!HHBBHI', 0x0012, 8, 0, 1, port ^ (MAGIC_COOKIE >> 16), addr ^ MAGIC_COOKIE)


SYN, ACK, PSH = 0x02, 0x10, 0x08


class Hostile:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.n_flow = 0
        self.n_dns = 0
        self.n_tls = 0
        self.n_stun = 0
        self.n_peer = 0

    # Each generator yields raw IPv4 packets forever.
    def flows(self):
        while True:
            i = self.n_flow
            self.n_flow += 1
            src = 0x0A000000 | (i >> 8)                             # 10.x.x.x
            sport = 1024 + (i & 0xFF)
            dst = 0xC6120000 | (i * 2654435761 & 0xFFFF)          # 198.18.x.x
            if i & 1:
                yield udp(src, dst, sport, 20000 + (i % 40000), b'\0\0\0\0')
            else:
                yield tcp(src, dst, sport, 1 + (i % 60000), i, 0, SYN)

    def dns(self):
        client = 0x0A080001
        while True:
            i = self.n_dns
            self.n_dns += 1
            name = 'n%08x.%s.hostile.example' % (i, 'abcdefghijklmnop'[i % 16] * (1 + i % 7))
            yield udp(RESOLVER, client, 53, 40000 + (i % 20000), dns_response(i & 0xFFFF, name, 0x64400000 + i))

    def tls(self):
        # A 2 KiB record (fits any reassembly buffer, so the assembler waits for it) of which 76 bytes come.
        record = bytes([0x16, 0x03, 0x01, 0x08, 0x00, 0x01, 0x00, 0x07, 0xFC, 0x03, 0x03]) + bytes(range(32)) + b'\x20' + bytes(32)
        while True:
            i = self.n_tls
            self.n_tls += 1
            c = 0x0B000000 | (i >> 8)                   # 11.x.x.x
            s = 0xCB007100 | (i & 0x3F)                 # 203.0.113.x
            cport = 1024 + (i & 0xFF)
            yield tcp(c, s, cport, 443, 1000, 0, SYN)
            yield tcp(s, c, 443, cport, 5000, 1001, SYN | ACK)
            yield tcp(c, s, cport, 443, 1001, 5001, ACK)
            yield tcp(c, s, cport, 443, 1001, 5001, PSH | ACK, record)

    def stun(self):
        while True:
            i = self.n_stun
            self.n_stun += 1
            c = 0x0C000000 | (i >> 8)                   # 12.x.x.x
            cport = 30000 + (i & 0xFF)
            for k in range(40):
                txid = pack('!III', i, k, 0x5EED)
                yield udp(c, 0xCB007180 | (i & 0x3F), cport, 3478, stun(0x0001, txid))

    def peers(self):
        # The TURN server's name, as the client resolved it.
        yield udp(RESOLVER, TURN_CLIENT, 53, 40001, dns_response(7, 'turn.hostile.example', TURN_SERVER))
        while True:
            i = self.n_peer
            self.n_peer += 1
            attrs = b''.join(xor_peer(0x2D000000 + i * 8 + k, 1024 + k) for k in range(8))
            yield udp(TURN_CLIENT, TURN_SERVER, 50000, 3478, stun(0x0008, pack('!III', i, 0, 0x7EE7), attrs))


def main(argv=None):
    ap = argparse.ArgumentParser(description='write a capture that stresses callwall bounds')
    ap.add_argument('--out', required=True)
    ap.add_argument('--packets', type=int, required=True)
    ap.add_argument('--kind', default='mix', choices=['mix', 'flows', 'dns', 'tls', 'stun', 'peers'])
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args(argv)

    h = Hostile(a.seed)
    kinds = ['flows', 'dns', 'tls', 'stun', 'peers'] if a.kind == 'mix' else [a.kind]
    gens = [getattr(h, k)() for k in kinds]
    with open(a.out, 'wb', buffering=1 << 20) as f:
        f.write(pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_RAW))
        t = T0
        w = f.write
        n = 0
        while n < a.packets:
            for g in gens:
                p = next(g)
                ln = len(p)
                w(pack('<IIII', t // 1_000_000, t % 1_000_000, ln, ln))
                w(p)
                t += 1
                n += 1
                if n >= a.packets:
                    break
    print('%s: %d packets (%s): %d flows, %d DNS names, %d stalled ClientHellos, %d STUN flows, %d TURN peer messages'
          % (a.out, n, a.kind, h.n_flow, h.n_dns, h.n_tls, h.n_stun, h.n_peer), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
