#!/usr/bin/python3
"""UDP services of the lab's vendor cloud, on some of the catalog's media ports.

Listens on every (address, port, kind) of `labplan.udp_listeners()`:
  rtp   a media server end point. RTP is answered with an RTCP receiver
        report (RFC 3550 6.4.2) about the sender's SSRC, at most one per
        second per source; RTCP sender reports are answered at once with a
        receiver report carrying LSR/DLSR. Replies go back on the same 5-tuple
        (as with rtcp-mux), so the firewall sees the flow answered.
  echo  Agora-like request/response: each datagram is echoed.

Usage: udp_server.py   (runs until SIGTERM)
"""
import asyncio
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import labplan  # noqa: E402

OUR_SSRC = 0x1ab5e7e5


def rtcp_rr(src_ssrc, ext_seq=0, lost=0, jitter=0, lsr=0, dlsr=0):
    header = struct.pack("!BBHI", 0x81, 201, 7, OUR_SSRC)
    block = struct.pack("!IIIIII", src_ssrc, lost & 0xFFFFFF, ext_seq, jitter, lsr, dlsr)
    return header + block


class Media(asyncio.DatagramProtocol):
    def __init__(self, kind):
        self.kind = kind
        self.state = {}  # source address -> (ssrc, first_seq, max_seq, count, last_reply)

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if self.kind == "echo" or len(data) < 8 or data[0] >> 6 != 2:
            self.transport.sendto(data, addr)
            return
        if 200 <= data[1] <= 204:  # RTCP (SR, RR, SDES, BYE, APP)
            ssrc = struct.unpack("!I", data[4:8])[0]
            lsr = 0
            if data[1] == 200 and len(data) >= 20:  # SR: NTP timestamp middle 32 bits
                lsr = struct.unpack("!I", data[10:14])[0]
            self.transport.sendto(rtcp_rr(ssrc, lsr=lsr, dlsr=1), addr)
            return
        if len(data) < 12:
            self.transport.sendto(data, addr)
            return
        seq = struct.unpack("!H", data[2:4])[0]
        ssrc = struct.unpack("!I", data[8:12])[0]
        st = self.state.get(addr)
        now = time.monotonic()
        if st is None or st[0] != ssrc:
            st = [ssrc, seq, seq, 0, 0.0]
            self.state[addr] = st
        st[2] = max(st[2], seq)
        st[3] += 1
        if now - st[4] >= 1.0:
            expected = st[2] - st[1] + 1
            self.transport.sendto(rtcp_rr(ssrc, ext_seq=st[2], lost=max(0, expected - st[3])), addr)
            st[4] = now


async def main():
    loop = asyncio.get_running_loop()
    transports = []
    for addr, port, kind in labplan.udp_listeners():
        t, _ = await loop.create_datagram_endpoint(lambda kind=kind: Media(kind), local_addr=(addr, port))
        transports.append(t)
    print("udp_server: %d listeners" % len(transports), flush=True)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    for t in transports:
        t.close()


if __name__ == "__main__":
    asyncio.run(main())
