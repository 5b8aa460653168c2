#!/usr/bin/python3
"""A capture of many short flows, for flow setup rate and memory.

    tools/gen_many_flows.py --flows N --out F.pcap [--rate R] [--answered P]

Each flow is one UDP request and, for P percent of them (default 90), one
answer, on a 5-tuple no other flow uses: clients in 10.0.0.0/8 (source ports
1024-65535), servers in 198.18.0.0/15 (RFC 2544's benchmarking range) on a
few dozen ports. New flows start at R per second (default 20000: 10 M flows
span 500 s of capture time), so with callwall's 120 s UDP idle timeout about
2.4 M flows are live at once — more than the default --max-flows of
1,048,576, so the table's bound is exercised too (pass --max-flows to stay
under it). Deterministic: the same arguments give the same bytes.
Ethernet, classic pcap, microsecond timestamps from 2026-01-01T00:00:00Z.
"""
import argparse
import struct
import sys

T0 = 1767225600  # 2026-01-01T00:00:00Z
SERVER_PORTS = [53, 123, 443, 3478, 5349, 8801, 10000, 19302] + list(range(20000, 20040))
PAYLOAD_REQ = b"\x00" * 28
PAYLOAD_ANS = b"\x01" * 44


def csum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(src, dst, sport, dport, payload):
    udp_len = 8 + len(payload)
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0,
                               src.to_bytes(4, "big"), dst.to_bytes(4, "big")))
    struct.pack_into("!H", ip, 10, csum(bytes(ip)))
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
    return eth + bytes(ip) + struct.pack("!HHHH", sport, dport, udp_len, 0) + payload


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rate", type=float, default=20000.0, help="new flows per second of capture time")
    ap.add_argument("--answered", type=float, default=90.0, help="percent of flows answered")
    a = ap.parse_args(argv)
    if a.flows < 1 or a.rate <= 0 or not 0 <= a.answered <= 100:
        ap.error("--flows >= 1, --rate > 0, 0 <= --answered <= 100")
    per_mille = round(a.answered * 10)  # answered flows per thousand
    out = open(a.out, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    buf = bytearray()
    step_us = 1e6 / a.rate
    for i in range(a.flows):
        # A distinct 5-tuple per flow: the client address and port walk
        # through 10/8 x 1024-65535 (far more than 10 M pairs); the server
        # is one of 131,072 addresses and a few dozen ports.
        client = (10 << 24) | (1 + i // 64512 % ((1 << 24) - 2))
        sport = 1024 + i % 64512
        server = (198 << 24) | (18 << 16) | (i * 7919 % (1 << 17))
        dport = SERVER_PORTS[i % len(SERVER_PORTS)]
        t = int(i * step_us)
        req = frame(client, server, sport, dport, PAYLOAD_REQ)
        buf += struct.pack("<IIII", T0 + t // 1000000, t % 1000000, len(req), len(req)) + req
        if (i + 1) * per_mille // 1000 > i * per_mille // 1000:  # exactly --answered percent
            t2 = t + int(step_us / 2)  # answered before the next flow starts: time never goes back
            ans = frame(server, client, dport, sport, PAYLOAD_ANS)
            buf += struct.pack("<IIII", T0 + t2 // 1000000, t2 % 1000000, len(ans), len(ans)) + ans
        if len(buf) > 1 << 22:
            out.write(buf)
            buf.clear()
    out.write(buf)
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
