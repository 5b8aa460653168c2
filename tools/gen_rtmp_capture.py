#!/usr/bin/python3
"""Generate captures/rtmp_handshake.pcap: a client resolving Agora's RTMP
converter and opening an RTMP connection to it on TCP 30011.

    tools/gen_rtmp_capture.py [--out captures]

Built with the packet-building part of tools/gen_captures.py (same fixed
start time, documentation addresses, deterministic seed), so the output is
byte-identical on every run.

The exchange (Adobe RTMP specification 1.0, section 5.2):
  1. DNS: rtmp-converter.edge.agora.io A 203.0.113.61 (UDP 53)
  2. TCP 10.1.0.10:45100 -> 203.0.113.61:30011, three-way handshake
  3. C0+C1 (1537 bytes: version 3, time, zero, 1528 random bytes), split by
     the 1460-byte MSS into 1460 + 77
  4. S0+S1+S2 (3073 bytes: version 3, S1, S2 echoing C1)
  5. C2 (1536 bytes, echoing S1), then one RTMP chunk: Set Chunk Size 4096
     (chunk stream 2, message type 1)
  6. FIN close
"""

import argparse
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures as g  # noqa: E402

NAME = 'rtmp_handshake.pcap'
SERVER = '203.0.113.61'
HOST = 'rtmp-converter.edge.agora.io'


def handshake_block(rng, time_ms, second):
    """C1/S1 (second = 0) or C2/S2 (second = the peer's time): 1536 bytes."""
    return struct.pack('!II', time_ms, second) + rng.randbytes(1528)


def build(out):
    rng = random.Random(30011)
    cap = g.Cap()
    txid = rng.getrandbits(16)
    cap.udp(0, g.CLIENT, g.RESOLVER, 40110, 53, g.dns_query(txid, HOST))
    cap.udp(g.ms(12), g.RESOLVER, g.CLIENT, 53, 40110,
            g.dns_msg(txid, 0x8180, [(HOST, 'A')], [(HOST, 'A', 300, g.a4(SERVER))]))
    c = g.TcpConn(cap, g.CLIENT, SERVER, 45100, 30011, rng=rng)
    t = c.handshake(g.ms(20))
    c1 = handshake_block(rng, 0, 0)
    t = c.send('c', t + g.ms(1), b'\x03' + c1)
    s1 = handshake_block(rng, 1000, 0)
    s2 = c1[:4] + struct.pack('!I', 1000) + c1[8:]
    t = c.send('s', t + g.ms(5), b'\x03' + s1 + s2)
    c2 = s1[:4] + struct.pack('!I', 20) + s1[8:]
    # Basic header fmt 0 / csid 2, timestamp 0, length 4, type 1 (Set Chunk Size), stream 0.
    set_chunk_size = bytes([0x02]) + b'\0\0\0' + b'\0\0\x04' + b'\x01' + b'\0\0\0\0' + struct.pack('!I', 4096)
    t = c.send('c', t + g.ms(2), c2 + set_chunk_size)
    c.close(t + g.ms(30))
    g.write_pcap(os.path.join(out, NAME), g.DLT_EN10MB, cap.frames())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'captures'))
    args = ap.parse_args(argv)
    build(args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
