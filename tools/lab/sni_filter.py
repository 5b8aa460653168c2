#!/usr/bin/python3
"""A transparent SNI filter, as a next-generation firewall has one.

Runs on a router whose nftables redirects the clients' TLS connections to it
(`tcp dport 443 redirect to :PORT`). For each connection it reads the
ClientHello, and when its server_name ends with one of the forbidden suffixes
it resets the connection (SO_LINGER 0: an RST, as such filters do); otherwise
it connects to the original destination (SO_ORIGINAL_DST) and relays both
ways.

    sni_filter.py --port PORT --forbid SUFFIX... [--duration S]

Bounded: at most 256 connections at once, each relay thread ends with its
connection, the whole program after --duration seconds (default 300).
"""
import argparse
import socket
import struct
import sys
import threading
import time

SO_ORIGINAL_DST = 80


def sni_of(hello):
    """The server_name of a TLS ClientHello record, or "" (bounds-checked)."""
    try:
        if len(hello) < 5 or hello[0] != 22:
            return ""
        body = hello[5:]
        if len(body) < 4 or body[0] != 1:
            return ""
        p = 4 + 2 + 32  # handshake header, version, random
        p += 1 + body[p]  # session id
        p += 2 + struct.unpack("!H", body[p:p + 2])[0]  # cipher suites
        p += 1 + body[p]  # compression methods
        end = p + 2 + struct.unpack("!H", body[p:p + 2])[0]
        p += 2
        while p + 4 <= min(end, len(body)):
            etype, elen = struct.unpack("!HH", body[p:p + 4])
            p += 4
            if etype == 0 and elen >= 5:
                nlen = struct.unpack("!H", body[p + 3:p + 5])[0]
                return body[p + 5:p + 5 + nlen].decode("ascii", "replace").lower()
            p += elen
    except (IndexError, struct.error):
        return ""
    return ""


def relay(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def handle(conn, forbid, slots):
    try:
        raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
        port = struct.unpack("!H", raw[2:4])[0]
        addr = socket.inet_ntoa(raw[4:8])
        conn.settimeout(5)
        hello = b""
        while len(hello) < 5 or len(hello) < 5 + struct.unpack("!H", hello[3:5])[0]:
            chunk = conn.recv(16384)
            if not chunk or len(hello) > 65536:
                break
            hello += chunk
        name = sni_of(hello)
        if any(name == s or name.endswith("." + s) for s in forbid):
            print("reset %s:%d sni %s" % (addr, port, name), flush=True)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        up = socket.create_connection((addr, port), timeout=5)
        up.sendall(hello)
        conn.settimeout(None)
        up.settimeout(None)
        t = threading.Thread(target=relay, args=(up, conn), daemon=True)
        t.start()
        relay(conn, up)
        t.join(10)
        up.close()
        conn.close()
    except OSError:
        conn.close()
    finally:
        slots.release()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--forbid", nargs="+", required=True)
    ap.add_argument("--duration", type=float, default=300)
    a = ap.parse_args()
    forbid = [s.lower().lstrip(".") for s in a.forbid]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", a.port))
    srv.listen(64)
    srv.settimeout(0.5)
    print("filtering on %d" % a.port, flush=True)
    slots = threading.BoundedSemaphore(256)
    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        if not slots.acquire(blocking=False):
            conn.close()
            continue
        threading.Thread(target=handle, args=(conn, forbid, slots), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
