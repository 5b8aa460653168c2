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
  ipip     outer Ethernet/IPv4, protocol 4 (IPv4 in IPv4, RFC 2003) or 41 (6in4,
           RFC 4213) by the inner packet's version, inner IP packet
  greudp   outer Ethernet/IPv4/UDP to 4754 (GRE in UDP, RFC 8086), GRE with the
           inner ethertype (a key on odd frames), inner IP packet
  ayiya    outer Ethernet/IPv4/UDP 5072 -> 5072, AYIYA (draft-massar-v6ops-ayiya):
           16-byte identity, 20-byte signature, opcode forward, next header 4/41
  teredo   IPv6 frames: outer Ethernet/IPv4/UDP (RFC 4380) from 3544 with an
           origin indication (odd frames) or to 3544 (even ones), inner IPv6
           packet; IPv4 frames as they are
  vxlangpe outer Ethernet/IPv4/UDP to 4790, VXLAN-GPE VNI 4242: next protocol
           Ethernet (odd frames, the frame) or IPv4/IPv6 (even ones, the packet)
  mplsudp  outer Ethernet/IPv4/UDP to 6635 (MPLS in UDP, RFC 7510), label 3000,
           inner IP packet
  mplsgre  outer Ethernet/IPv4, GRE protocol 0x8847 (RFC 4023), label 3000, inner IP
  etherip  outer Ethernet/IPv4, protocol 97 (EtherIP, RFC 3378), header 0x3000, frame
  chdlc    link type C_HDLC (104): 0x0F (0x8F to a broadcast MAC) 0x00 ethertype, IP
  wlan     link type IEEE802_11 (105): 802.11 data frames with LLC/SNAP (RFC 1042):
           odd frames to the AP (ToDS), even ones QoS data from it (FromDS),
           every fifth the 4-address form (ToDS and FromDS); BSSID 02:00:00:00:0a:01
  radiotap link type IEEE802_11_RADIOTAP (127): a radiotap header (TSFT, Flags,
           Rate, Channel, antenna signal), the 802.11 frame as in wlan; the FCS
           appended (Flags 0x10) on odd frames, the QoS header padded to 4
           bytes (Flags 0x20) on every fourth
  ppi      link type PPI (192): PPI header with an 802.11-Common field, DLT 105,
           the 802.11 frame as in wlan
Kinds whose inner is IP skip the input's non-IP frames (none in the captures used).
Deterministic: timestamps and payloads are the input's; tunnel endpoints are
192.0.2.250 -> 192.0.2.251 (documentation range).

Usage: tools/gen_encap.py INPUT.pcap [--out captures/encap] [--kinds K,K,...]
"""
import argparse
import os
import struct
import zlib


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
    if kind in ("ipip", "greudp", "ayiya", "teredo", "vxlangpe", "mplsudp", "mplsgre", "etherip", "chdlc"):
        return wrap_tunnel(kind, frame, ip, ethertype, seq)
    if kind in ("wlan", "radiotap", "ppi"):
        return wrap_wlan(kind, frame, seq)
    raise ValueError(kind)


def outer_udp(sport, dport, payload, seq):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return outer_ether(outer_ipv4(udp, 17, seq))


def wrap_tunnel(kind, frame, ip, ethertype, seq):
    v6 = ethertype == 0x86DD
    if kind == "ipip":
        return outer_ether(outer_ipv4(ip, 41 if v6 else 4, seq))
    if kind == "greudp":
        gre = struct.pack("!HHI", 0x2000, ethertype, 77) if seq % 2 else struct.pack("!HH", 0, ethertype)
        return outer_udp(49152 + (seq % 1000), 4754, gre + ip, seq)
    if kind == "ayiya":
        # IDLen 4 (16 bytes), IDType 1 (integer); SigLen 5 (20 bytes), HshMeth 2 (SHA1); AutMeth 1, OpCode 1 (forward)
        hdr = struct.pack("!BBBBI", 0x41, 0x52, 0x11, 41 if v6 else 4, 1767225600 + seq)
        return outer_udp(5072, 5072, hdr + bytes(range(16)) + bytes(20) + ip, seq)
    if kind == "teredo":
        if not v6:
            return frame
        if seq % 2:
            origin = b"\x00\x00" + struct.pack("!H", 0xFFFF ^ 40000) + bytes(b ^ 0xFF for b in (198, 51, 100, 7))
            return outer_udp(3544, 40000, origin + ip, seq)
        return outer_udp(40000, 3544, ip, seq)
    if kind == "vxlangpe":
        if seq % 2:
            return outer_udp(49152 + (seq % 1000), 4790, struct.pack("!BHBI", 0x0C, 0, 3, 4242 << 8) + frame, seq)
        return outer_udp(49152 + (seq % 1000), 4790, struct.pack("!BHBI", 0x0C, 0, 2 if v6 else 1, 4242 << 8) + ip,
                         seq)
    if kind == "mplsudp":
        return outer_udp(49152 + (seq % 1000), 6635, struct.pack("!I", (3000 << 12) | 0x100 | 64) + ip, seq)
    if kind == "mplsgre":
        return outer_ether(outer_ipv4(struct.pack("!HHI", 0, 0x8847, (3000 << 12) | 0x100 | 64) + ip, 47, seq))
    if kind == "etherip":
        return outer_ether(outer_ipv4(b"\x30\x00" + frame, 97, seq))
    if kind == "chdlc":
        return (b"\x8f" if frame[0] & 1 else b"\x0f") + b"\x00" + struct.pack("!H", ethertype) + ip
    raise ValueError(kind)


BSSID = bytes.fromhex("02000000 0a01".replace(" ", ""))


def wlan_frame(frame, seq):
    """The Ethernet frame as an 802.11 data frame; returns (frame, QoS header)."""
    dst, src, body = frame[0:6], frame[6:12], b"\xaa\xaa\x03\x00\x00\x00" + frame[12:]
    sc = struct.pack("<H", (seq & 0xFFF) << 4)
    if seq % 5 == 0:   # WDS / mesh: RA, TA, DA, SA; QoS data
        hdr = struct.pack("<BBH", 0x88, 0x03, 0) + BSSID + BSSID[:5] + b"\x02" + dst + sc + src + b"\x00\x00"
        return hdr, body, True
    if seq % 2:        # station to AP: BSSID, SA, DA
        return struct.pack("<BBH", 0x08, 0x01, 44) + BSSID + src + dst + sc, body, False
    # AP to station, QoS data (TID 5): DA, BSSID, SA
    return struct.pack("<BBH", 0x88, 0x02, 44) + dst + BSSID + src + sc + b"\x05\x00", body, True


def wrap_wlan(kind, frame, seq):
    hdr, body, qos = wlan_frame(frame, seq)
    if kind == "wlan":
        return hdr + body
    if kind == "ppi":
        common = struct.pack("<QHHHHBBbb", seq * 1000, 0x0000, 108, 5180, 0x0140, 0, 0, -40, -95)
        field = struct.pack("<HH", 2, len(common)) + common
        return struct.pack("<BBHI", 0, 0, 8 + len(field), 105) + field + hdr + body
    fcs = seq % 2 == 1
    pad = qos and seq % 4 == 2
    flags = (0x10 if fcs else 0) | (0x20 if pad else 0)
    # present: TSFT, Flags, Rate, Channel, dBm antenna signal; TSFT at 8, then 16, 17, 18-21, 22
    fields = struct.pack("<QBBHHb", seq * 1000, flags, 108, 5180, 0x0140, -40)
    rt = struct.pack("<BBHI", 0, 0, 8 + len(fields), 0x2F) + fields
    dot11 = hdr + (b"\x00" * (-len(hdr) % 4) if pad else b"") + body
    if fcs:
        dot11 += struct.pack("<I", zlib.crc32(hdr + body))
    return rt + dot11


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


LINKTYPE = {"ppp": 9, "ppphdlc": 50, "pppether": 51, "nflog": 239, "chdlc": 104, "wlan": 105, "radiotap": 127,
            "ppi": 192}
IP_INSIDE = {"gtpu", "mpls", "pppoe", "pptp", "ppp", "ppphdlc", "pppether", "nflog", "ipip", "greudp", "ayiya",
             "teredo", "vxlangpe", "mplsudp", "mplsgre", "chdlc"}


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
