#!/usr/bin/python3
"""Known traffic for the live-capture test, run inside the test's namespaces.

  traffic.py server ADDR     DNS responder (UDP 53), STUN responder (UDP 3478),
                             TCP 443 listener, RTP sink (UDP 40000); stops after 60 s
  traffic.py client SERVER   a DNS query, a TLS ClientHello with SNI, a STUN
                             Binding request/response, 3 s of RTP, a SYN to a
                             dropped port (6443); bounded in time
"""
import os
import select
import socket
import ssl
import struct
import sys
import time

NAME = "media.calls.sendbird.com"
MAGIC = 0x2112A442


def dns_answer(query, addr):
    qid = query[:2]
    # Question section runs from byte 12 to the end of the query.
    question = query[12:]
    header = qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
    return header + question + answer


def stun_success(req, src):
    txid = req[8:20]
    port = src[1] ^ (MAGIC >> 16)
    ip = struct.unpack("!I", socket.inet_aton(src[0]))[0] ^ MAGIC
    attr = struct.pack("!HHBBHI", 0x0020, 8, 0, 1, port, ip)
    return struct.pack("!HHI", 0x0101, len(attr), MAGIC) + txid + attr


def server(addr):
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((addr, 53))
    stun = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stun.bind((addr, 3478))
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind((addr, 40000))
    tls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tls.bind((addr, 443))
    tls.listen(4)
    conns = []
    end = time.time() + 60
    while time.time() < end:
        r, _, _ = select.select([dns, stun, rtp, tls] + conns, [], [], 0.5)
        for s in r:
            if s is dns:
                q, src = dns.recvfrom(2048)
                dns.sendto(dns_answer(q, addr), src)
            elif s is stun:
                q, src = stun.recvfrom(2048)
                if len(q) >= 20 and struct.unpack("!I", q[4:8])[0] == MAGIC:
                    stun.sendto(stun_success(q, src), src)
            elif s is rtp:
                # The far end of the call sends media back (its own SSRC).
                q, src = rtp.recvfrom(2048)
                if len(q) >= 12:
                    rtp.sendto(q[:8] + struct.pack("!I", 0xBEEF0002) + q[12:], src)
            elif s is tls:
                c, _ = tls.accept()
                conns.append(c)
            else:
                if not s.recv(4096):
                    conns.remove(s)
                    s.close()


def client(server_addr):
    # DNS
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in NAME.split(".")) + b"\0"
    s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + labels + b"\x00\x01\x00\x01", (server_addr, 53))
    s.recvfrom(2048)
    # TLS ClientHello with SNI (the listener never answers the handshake)
    t = socket.create_connection((server_addr, 443), timeout=2)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        w = ctx.wrap_socket(t, server_hostname=NAME, do_handshake_on_connect=False)
        w.settimeout(1)
        w.do_handshake()
    except (ssl.SSLError, OSError):
        pass
    # STUN Binding request / success
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.sendto(struct.pack("!HHI", 0x0001, 0, MAGIC) + os.urandom(12), (server_addr, 3478))
    u.recvfrom(2048)
    # RTP: PCMU, 20 ms, 3 s
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seq, ts = 1000, 5000
    for _ in range(150):
        r.sendto(struct.pack("!BBHII", 0x80, 0, seq, ts, 0xCAFE0001) + b"\xff" * 160, (server_addr, 40000))
        seq += 1
        ts += 160
        time.sleep(0.02)
    # A SYN the firewall in the server namespace drops: retransmitted, unanswered
    # (6443 is one of Agora's ports, so the catalog-derived kernel filter passes it).
    try:
        socket.create_connection((server_addr, 6443), timeout=4)
    except OSError:
        pass


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]](sys.argv[2])
