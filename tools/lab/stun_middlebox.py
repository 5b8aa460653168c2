#!/usr/bin/python3
"""A STUN server on the path, answering on the real server's behalf.

Some firewalls and carrier NATs answer STUN themselves: a Binding request
gets a success with the mapped address, an Allocate a 401 with a realm and a
nonce, whoever the request was sent to. The router DNATs the clients' UDP to
it. It knows STUN (RFC 8489) but not the reflector's key, so its answers
carry no reflector token: a probe must read them as intercepted.

    stun_middlebox.py --listen ADDR --port PORT [--duration S]

Bounded: one datagram answered per datagram read, the whole program ends
after --duration seconds (default 300) or at SIGTERM (exit 0). Prints
"answering on" when ready.
"""
import argparse
import os
import select
import signal
import socket
import struct
import sys
import time

MAGIC = 0x2112A442


def attribute(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def answer(req, src):
    """The answer to a STUN request `req` from `src` (address, port), or None."""
    if len(req) < 20:
        return None
    kind, length, magic = struct.unpack("!HHI", req[:8])
    if magic != MAGIC or (kind & 0x0110) != 0 or 20 + length > len(req):
        return None  # not an RFC 8489 request
    tid = req[8:20]
    method = kind & 0x3EEF
    family = 2 if ":" in src[0] else 1
    if method == 0x001:  # Binding: success with XOR-MAPPED-ADDRESS
        raw = socket.inet_pton(socket.AF_INET6 if family == 2 else socket.AF_INET, src[0])
        mask = struct.pack("!I", MAGIC) + tid
        xaddr = bytes(b ^ mask[i] for i, b in enumerate(raw))
        body = attribute(0x0020, struct.pack("!BBH", 0, family, src[1] ^ (MAGIC >> 16)) + xaddr)
        head = 0x0101
    elif method == 0x003:  # Allocate: 401 with REALM and NONCE
        body = (attribute(0x0009, struct.pack("!HBB", 0, 4, 1) + b"Unauthorized") +
                attribute(0x0014, b"middlebox") + attribute(0x0015, os.urandom(8).hex().encode()))
        head = 0x0113
    else:
        return None
    return struct.pack("!HHI", head, len(body), MAGIC) + tid + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--duration", type=float, default=300)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a clean stop, exit 0
    s = socket.socket(socket.AF_INET6 if ":" in a.listen else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.listen, a.port))
    print("stun_middlebox.py: answering on %s:%d" % (a.listen, a.port), flush=True)
    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        ready, _, _ = select.select([s], [], [], 0.2)
        if not ready:
            continue
        req, src = s.recvfrom(2048)
        out = answer(req, src)
        if out:
            s.sendto(out, src)
    return 0


if __name__ == "__main__":
    sys.exit(main())
