#!/usr/bin/python3
"""Wraps every frame of an Ethernet capture in a mirror-port encapsulation.

Writes <out>/<stem>.<kind>.pcap for kind in gre, erspan2, erspan3, vxlan:
  gre      outer Ethernet/IPv4, GRE (RFC 2784) protocol 0x0800/0x86DD, inner IP packet
  erspan2  outer Ethernet/IPv4, GRE with sequence number, protocol 0x88BE,
           8-byte ERSPAN type II header (ver 1, session 7), inner Ethernet frame
  erspan3  outer Ethernet/IPv4, GRE protocol 0x22EB, 12-byte ERSPAN type III
           header (ver 2, timestamp, O=1) + 8-byte platform subheader, inner frame
  vxlan    outer Ethernet/IPv4/UDP to 4789, VXLAN (RFC 7348) VNI 4242, inner frame
and, with --kinds (tunnels, label stacks and link types beyond the mirror port):
  geneve   outer Ethernet/IPv4/UDP to 6081, Geneve (RFC 8926) VNI 4242 with one
           8-byte option (class 0x0103, type 0x80), protocol 0x6558, inner frame
  gtpu     outer Ethernet/IPv4/UDP 2152 -> 2152, GTPv1-U G-PDU (3GPP TS 29.281),
           TEID 0x1000; odd frames with a sequence number, even ones with a PDU
           session container extension header (type 0x85); inner IP packet
  mpls     Ethernet 0x8847, label 1000 then label 2000 (bottom of stack), inner IP
  mplspw   Ethernet 0x8847, labels 16 and 17, pseudowire control word (RFC 4385)
           0x00000000, inner Ethernet frame
  pppoe    Ethernet 0x8864, PPPoE session 0x1234 (RFC 2516), PPP 0x0021/0x0057, inner IP
  pptp     outer Ethernet/IPv4, enhanced GRE version 1 (RFC 2637) protocol 0x880B,
           call id 7, with a sequence number (and an acknowledgement on every third
           frame); PPP with the address/control field and a 2-byte protocol on odd
           frames, protocol-field-compressed without it on even ones; inner IP
  ppp      link type PPP (9): FF 03, 2-byte protocol, inner IP
  ppphdlc  link type PPP_HDLC (50): odd frames PPP in HDLC-like framing, even ones
           Cisco HDLC (0x0F 0x00 ethertype)
  pppether link type PPP_ETHER (51): PPPoE session header, PPP protocol, inner IP
  nflog    link type NFLOG (239): family, version 0, resource id 5, then TLVs
           NFULA_PACKET_HDR, NFULA_PREFIX "callwall", NFULA_PAYLOAD (little-endian)
  grefrag, erspan2frag
           gre and erspan2 with the outer IPv4 packets fragmented at an MTU of
           200 bytes (fragments in order, one record each, the datagram's time)
Kinds whose inner is IP skip the input's non-IP frames (none in the captures used).
Deterministic: timestamps and payloads are the input's; tunnel endpoints are
192.0.2.250 -> 192.0.2.251 (documentation range).

Usage: tools/gen_encap.py INPUT.pcap [--out captures/encap] [--kinds K,K,...]
"""
import argparse
import os
import struct


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit(f"{path}: expected a little-endian classic pcap")
    linktype = struct.unpack("<I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: expected Ethernet (link type 1), got {linktype}")
    off = 24
    frames = []
    while off + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack("<IIII", data[off:off + 16])
        frames.append((sec, usec, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return magic, frames


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def outer_ipv4(payload, proto, ident):
    src = bytes([192, 0, 2, 250])
    dst = bytes([192, 0, 2, 251])
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def outer_ether(ip_packet):
    return bytes.fromhex("020000000251") + bytes.fromhex("020000000250") + b"\x08\x00" + ip_packet


def wrap(kind, frame, seq):
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if kind == "gre":
        inner = frame[14:]
        gre = struct.pack("!HH", 0x0000, ethertype)
        return outer_ether(outer_ipv4(gre + inner, 47, seq))
    if kind == "erspan2":
        gre = struct.pack("!HHI", 0x1000, 0x88BE, seq)
        erspan = struct.pack("!HHI", (1 << 12) | 0, (0 << 13) | 7, 0)
        return outer_ether(outer_ipv4(gre + erspan + frame, 47, seq))
    if kind == "erspan3":
        gre = struct.pack("!HHI", 0x1000, 0x22EB, seq)
        # ver=2, vlan=0, cos/bso/t/session=7, timestamp, sgt=0, P/FT/HW/D/Gra/O with O=1
        erspan = struct.pack("!HHIHH", (2 << 12) | 0, 7, seq * 1000, 0, 0x0001)
        platform = struct.pack("!II", 0x00000000, seq)
        return outer_ether(outer_ipv4(gre + erspan + platform + frame, 47, seq))
    if kind == "vxlan":
        vx = struct.pack("!II", 0x08000000, 4242 << 8)
        udp_payload = vx + frame
        udp = struct.pack("!HHHH", 49152 + (seq % 1000), 4789, 8 + len(udp_payload), 0) + udp_payload
        return outer_ether(outer_ipv4(udp, 17, seq))
    ip = frame[14:]
    if kind == "geneve":
        option = struct.pack("!HBB", 0x0103, 0x80, 1) + struct.pack("!I", seq)
        gen = struct.pack("!BBHI", len(option) // 4, 0, 0x6558, 4242 << 8) + option
        udp_payload = gen + frame
        udp = struct.pack("!HHHH", 49152 + (seq % 1000), 6081, 8 + len(udp_payload), 0) + udp_payload
        return outer_ether(outer_ipv4(udp, 17, seq))
    if kind == "gtpu":
        if seq % 2:
            opt = struct.pack("!HBB", seq & 0xFFFF, 0, 0)  # S: sequence number, no extension
            flags = 0x32
        else:
            # E: PDU session container (TS 38.415), 1 unit: PDU type/QFI, then no next header
            opt = struct.pack("!HBB", 0, 0, 0x85) + bytes([1, 0x00, 0x09, 0])
            flags = 0x34
        gtp = struct.pack("!BBHI", flags, 0xFF, len(opt) + len(ip), 0x1000) + opt + ip
        udp = struct.pack("!HHHH", 2152, 2152, 8 + len(gtp), 0) + gtp
        return outer_ether(outer_ipv4(udp, 17, seq))
    if kind == "mpls":
        labels = struct.pack("!II", (1000 << 12) | 64, (2000 << 12) | 0x100 | 64)
        return frame[:12] + b"\x88\x47" + labels + ip
    if kind == "mplspw":
        labels = struct.pack("!II", (16 << 12) | 64, (17 << 12) | 0x100 | 64)
        return bytes.fromhex("020000000251020000000250") + b"\x88\x47" + labels + b"\0\0\0\0" + frame
    if kind == "pppoe":
        return frame[:12] + b"\x88\x64" + pppoe_session(ethertype, ip)
    if kind == "pptp":
        if seq % 2:
            ppp = b"\xff\x03" + struct.pack("!H", ppp_protocol(ethertype)) + ip
        else:
            ppp = bytes([ppp_protocol(ethertype)]) + ip
        ack = seq % 3 == 0
        flags = 0x3001 | (0x0080 if ack else 0)
        gre = struct.pack("!HHHHI", flags, 0x880B, len(ppp), 7, seq) + (struct.pack("!I", seq - 1) if ack else b"")
        return outer_ether(outer_ipv4(gre + ppp, 47, seq))
    if kind == "ppp":
        return b"\xff\x03" + struct.pack("!H", ppp_protocol(ethertype)) + ip
    if kind == "ppphdlc":
        if seq % 2:
            return b"\xff\x03" + struct.pack("!H", ppp_protocol(ethertype)) + ip
        return b"\x0f\x00" + struct.pack("!H", ethertype) + ip
    if kind == "pppether":
        return pppoe_session(ethertype, ip)
    if kind == "nflog":
        family = 2 if ethertype == 0x0800 else 10

        def tlv(t, v):
            pad = b"\0" * (-len(v) % 4)
            return struct.pack("<HH", 4 + len(v), t) + v + pad

        tlvs = tlv(1, struct.pack("!HBB", ethertype, 3, 0)) + tlv(10, b"callwall\0") + tlv(9, ip)
        return struct.pack("!BBH", family, 0, 5) + tlvs
    raise ValueError(kind)


def ppp_protocol(ethertype):
    return {0x0800: 0x0021, 0x86DD: 0x0057}[ethertype]


def pppoe_session(ethertype, ip):
    ppp = struct.pack("!H", ppp_protocol(ethertype)) + ip
    return struct.pack("!BBHH", 0x11, 0x00, 0x1234, len(ppp)) + ppp


FRAG_MTU = 200


def fragment_outer(frame):
    """The outer IPv4 packet of an Ethernet frame cut into fragments of at most FRAG_MTU bytes."""
    eth, ip = frame[:14], frame[14:]
    if len(ip) <= FRAG_MTU:
        return [frame]
    ihl = (ip[0] & 0x0F) * 4
    header, data = ip[:ihl], ip[ihl:]
    step = (FRAG_MTU - ihl) // 8 * 8
    out = []
    for off in range(0, len(data), step):
        chunk = data[off:off + step]
        more = off + step < len(data)
        h = bytearray(header)
        struct.pack_into("!H", h, 2, ihl + len(chunk))
        struct.pack_into("!H", h, 6, (0x2000 if more else 0) | (off // 8))
        struct.pack_into("!H", h, 10, 0)
        struct.pack_into("!H", h, 10, checksum(bytes(h)))
        out.append(eth + bytes(h) + chunk)
    return out


LINKTYPE = {"ppp": 9, "ppphdlc": 50, "pppether": 51, "nflog": 239}
IP_INSIDE = {"gtpu", "mpls", "pppoe", "pptp", "ppp", "ppphdlc", "pppether", "nflog"}


def write_pcap(path, magic, frames, linktype=1):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
        for sec, usec, frame in frames:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("--out", default="captures/encap")
    ap.add_argument("--kinds", default="gre,erspan2,erspan3,vxlan")
    args = ap.parse_args()
    magic, frames = read_pcap(args.input)
    stem = os.path.splitext(os.path.basename(args.input))[0]
    os.makedirs(args.out, exist_ok=True)
    for kind in args.kinds.split(","):
        kept = [(i, sec, usec, fr) for i, (sec, usec, fr) in enumerate(frames)
                if kind not in IP_INSIDE or fr[12:14] in (b"\x08\x00", b"\x86\xdd")]
        if kind.endswith("frag"):
            wrapped = [(sec, usec, piece) for i, sec, usec, fr in kept
                       for piece in fragment_outer(wrap(kind[:-len("frag")], fr, i + 1))]
        else:
            wrapped = [(sec, usec, wrap(kind, fr, i + 1)) for i, sec, usec, fr in kept]
        path = os.path.join(args.out, f"{stem}.{kind}.pcap")
        write_pcap(path, magic, wrapped, LINKTYPE.get(kind, 1))
        print(path)


if __name__ == "__main__":
    main()
