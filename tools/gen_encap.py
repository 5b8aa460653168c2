#!/usr/bin/python3
"""Wraps every frame of an Ethernet capture in a mirror-port encapsulation.

Writes <out>/<stem>.<kind>.pcap for kind in gre, erspan2, erspan3, vxlan:
  gre      outer Ethernet/IPv4, GRE (RFC 2784) protocol 0x0800/0x86DD, inner IP packet
  erspan2  outer Ethernet/IPv4, GRE with sequence number, protocol 0x88BE,
           8-byte ERSPAN type II header (ver 1, session 7), inner Ethernet frame
  erspan3  outer Ethernet/IPv4, GRE protocol 0x22EB, 12-byte ERSPAN type III
           header (ver 2, timestamp, O=1) + 8-byte platform subheader, inner frame
  vxlan    outer Ethernet/IPv4/UDP to 4789, VXLAN (RFC 7348) VNI 4242, inner frame
Deterministic: timestamps and payloads are the input's; tunnel endpoints are
192.0.2.250 -> 192.0.2.251 (documentation range).

Usage: tools/gen_encap.py INPUT.pcap [--out captures/encap]
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
    raise ValueError(kind)


def write_pcap(path, magic, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, 1))
        for sec, usec, frame in frames:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("--out", default="captures/encap")
    args = ap.parse_args()
    magic, frames = read_pcap(args.input)
    stem = os.path.splitext(os.path.basename(args.input))[0]
    os.makedirs(args.out, exist_ok=True)
    for kind in ("gre", "erspan2", "erspan3", "vxlan"):
        wrapped = [(sec, usec, wrap(kind, fr, i + 1)) for i, (sec, usec, fr) in enumerate(frames)]
        path = os.path.join(args.out, f"{stem}.{kind}.pcap")
        write_pcap(path, magic, wrapped)
        print(path)


if __name__ == "__main__":
    main()
