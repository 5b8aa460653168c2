// Tunnels, label stacks and the link layers beyond Ethernet: GRE (and
// ERSPAN, PPTP's enhanced GRE), VXLAN, Geneve, GTP-U, MPLS, IP in IP,
// EtherIP, the UDP tunnels (GRE in UDP, VXLAN-GPE, MPLS in UDP, AYIYA,
// Teredo), PPP and NFLOG.
// See decode/packet.hpp.
#include <algorithm>

#include "decode/packet.hpp"
#include "decode/layers.hpp"

namespace callwall::decode::detail {

using C = DecodeErrorCode;

namespace {

// A failure inside encapsulation `in`: named for the run's notes.
LayerStatus fail_in(Encap in, DecodeErrorCode c, size_t off, PacketMeta& out) noexcept {
    out.undecoded_in = in;
    return LayerStatus::fail(c, off);
}

constexpr uint16_t kGreErspanII = 0x88BE;
constexpr uint16_t kGreErspanIII = 0x22EB;
constexpr uint16_t kGreWccp = 0x883E;
constexpr uint16_t kGrePpp = 0x880B;
constexpr uint8_t kGtpGpdu = 0xFF;
// GTP-U extension headers in practice: the 5G PDU session container, a
// PDCP PDU number, a UDP port: one or two per packet; a longer chain is
// refused so a hostile packet cannot make us walk it.
constexpr int kMaxGtpExtHeaders = 8;
// Label stacks on provider networks hold 2-4 entries (transport, service,
// an entropy label pair); a few more are tolerated, beyond that the frame
// is refused so a hostile frame cannot make us walk a long stack.
constexpr int kMaxMplsLabels = 8;
constexpr uint16_t kNflogPayload = 9;
// NFLOG defines about twenty attributes (prefix, marks, uid, gid,
// timestamp, hardware header …); more than this is no NFLOG record.
constexpr int kMaxNflogAttributes = 32;

}  // namespace

// parse_ip on the rest of `r`, error offsets counted from the start of `r`'s view.
LayerStatus parse_ip_at(Reader& r, size_t base, PacketMeta& out) noexcept {
    const size_t ip_off = r.offset();
    const LayerStatus st = parse_ip(r.rest(), out);
    if (!st.ok) return LayerStatus::fail(st.error.code, base + ip_off + st.error.offset);
    return {};
}

/*
   PPP (RFC 1661 §2), in HDLC-like framing (RFC 1662 §3.1):
   | Address 0xFF | Control 0x03 | Protocol (1 or 2) | Information ...
   The address and control field may be absent (LCP's ACFC option); the
   protocol is one byte when its first byte is odd (PFC, RFC 1661 §6.5).
   Leaves `r` at the IP packet. NotThisProtocol: a control protocol (LCP,
   NCPs, authentication: 0x8000 and up); Unsupported: another network-layer
   protocol (compressed or encrypted datagrams, CCP/ECP 0x00FD, 0x0053 …).
*/
LayerStatus ppp_to_ip(Reader& r) noexcept {
    const ByteView ac = r.peek(2);
    if (ac.empty()) return LayerStatus::fail(C::Truncated, r.offset());
    if (ac[0] == 0xFF && ac[1] == 0x03) r.skip(2);
    uint16_t proto = r.u8();
    if ((proto & 1) == 0) proto = static_cast<uint16_t>((proto << 8) | r.u8());
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if (proto == kPppIpv4 || proto == kPppIpv6) return {};
    return LayerStatus::fail(proto >= 0x8000 ? C::NotThisProtocol : C::Unsupported, r.offset());
}

/*
   MPLS label stack entry (RFC 3032 §2.1), repeated up to the bottom (S=1):
    0                   1                   2                   3
   |                Label                  | TC  |S|       TTL     |
   After the bottom: IPv4 or IPv6 by the first nibble (RFC 4928 §2), or a
   pseudowire control word (RFC 4385 §3: first nibble 0, 4 bytes) and the
   Ethernet frame it carries (RFC 4448 §4.4).
*/
LayerStatus parse_mpls(Reader& r, size_t base, PacketMeta& out) noexcept {
    for (int i = 0;; ++i) {
        if (i >= kMaxMplsLabels) return fail_in(Encap::Mpls, C::Malformed, base + r.offset(), out);
        const uint32_t entry = r.u32();
        if (!r.ok()) return fail_in(Encap::Mpls, C::Truncated, base + r.offset(), out);
        if (entry & 0x100) break;
    }
    const ByteView first = r.peek(1);
    if (first.empty()) return fail_in(Encap::Mpls, C::Truncated, base + r.offset(), out);
    if (out.encap == Encap::None) out.encap = Encap::Mpls;
    switch (first[0] >> 4) {
        case 4:
        case 6: return parse_ip_at(r, base, out);
        case 0: {
            r.skip(4);
            if (!r.ok()) return fail_in(Encap::Mpls, C::Truncated, base + r.offset(), out);
            if (out.encap_depth + 1 > kMaxEncapDepth) {
                out.anomalies |= kAnomalyEncapTooDeep;
                return fail_in(Encap::Mpls, C::Malformed, base + r.offset(), out);
            }
            ++out.encap_depth;
            const size_t eth_off = r.offset();
            const LayerStatus st = parse_ethernet(r.rest(), out);
            if (!st.ok) return LayerStatus::fail(st.error.code, base + eth_off + st.error.offset);
            return {};
        }
        default: return fail_in(Encap::Mpls, C::Unsupported, base + r.offset(), out);
    }
}

namespace {

enum class Inner : uint8_t { Ip, Ethernet, Mpls };

// Replaces `out` with the decode of the inner packet, keeping the outermost
// tunnel's identity. `what` selects the inner parser.
LayerStatus decode_inner(ByteView inner, Inner what, Encap kind, PacketMeta& out) noexcept {
    if (out.encap_depth + 1 > kMaxEncapDepth) {
        out.anomalies |= kAnomalyEncapTooDeep;
        return fail_in(kind, C::Malformed, 0, out);
    }
    PacketMeta inner_meta;
    inner_meta.encap_depth = static_cast<uint8_t>(out.encap_depth + 1);
    LayerStatus st;
    switch (what) {
        case Inner::Ip: st = parse_ip(inner, inner_meta); break;
        case Inner::Ethernet: st = parse_ethernet(inner, inner_meta); break;
        case Inner::Mpls: {
            Reader r{inner};
            st = parse_mpls(r, 0, inner_meta);
            break;
        }
    }
    if (!st.ok) {
        // A tunnel inside whose content is unknown, or tunnels too deep: named.
        out.undecoded_in = inner_meta.undecoded_in;
        out.anomalies |= inner_meta.anomalies;  // why it failed (a limit) reaches the caller
        return st;
    }
    if (out.encap == Encap::None) {
        inner_meta.tunnel_src = out.src;
        inner_meta.tunnel_dst = out.dst;
        inner_meta.encap = kind;
    } else {
        inner_meta.tunnel_src = out.tunnel_src;
        inner_meta.tunnel_dst = out.tunnel_dst;
        inner_meta.encap = out.encap;
    }
    inner_meta.anomalies |= out.anomalies;
    inner_meta.snap_truncated |= out.snap_truncated;
    out = inner_meta;
    return {};
}

LayerStatus decode_inner(ByteView inner, bool inner_is_ethernet, Encap kind, PacketMeta& out) noexcept {
    return decode_inner(inner, inner_is_ethernet ? Inner::Ethernet : Inner::Ip, kind, out);
}

/*
   GRE (RFC 2784, RFC 2890):
    0                   1                   2                   3
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |C| |K|S| Reserved0       | Ver |         Protocol Type         |
   |      Checksum (optional)      |       Reserved1 (Optional)    |
   |                         Key (optional)                        |
   |                 Sequence Number (Optional)                    |
   ERSPAN type II (GRE 0x88BE, S set): 8-byte header, then the mirrored frame:
   | Ver=1 |          VLAN         | COS |En|T|     Session ID    |
   |      Reserved         |                 Index                 |
   ERSPAN type III (GRE 0x22EB): 12-byte header (Ver=2, VLAN, COS, BSO, T,
   session, timestamp, SGT, P, FT, HW ID, D, Gra, O); O=1 adds an 8-byte
   platform-specific subheader. ERSPAN type I: 0x88BE without S, no header.
   PPTP's enhanced GRE (RFC 2637 §4.1), version 1, protocol 0x880B:
   |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
   |    Key (HW) Payload Length    |       Key (LW) Call ID        |
   |                  Sequence Number (Optional: S)                |
   |               Acknowledgment Number (Optional: A)             |
   then Payload Length bytes of PPP; without S, an acknowledgement alone.
*/
LayerStatus parse_pptp_gre(Reader r, uint16_t flags, uint16_t proto, PacketMeta& out) noexcept {
    if (proto != kGrePpp || !(flags & 0x2000)) return fail_in(Encap::Pptp, C::Unsupported, 2, out);
    const uint16_t payload_len = r.u16();
    r.skip(2);  // call id
    if (flags & 0x1000) r.skip(4);
    if (flags & 0x0080) r.skip(4);
    if (!r.ok()) return fail_in(Encap::Pptp, C::Truncated, r.offset(), out);
    // An acknowledgement alone carries no packet: nothing to decode, as ARP.
    if (!(flags & 0x1000) || payload_len == 0) return LayerStatus::fail(C::NotThisProtocol, r.offset());
    const ByteView rest = r.rest();
    Reader ppp{rest.first(std::min<size_t>(rest.size(), payload_len))};
    const LayerStatus st = ppp_to_ip(ppp);
    if (!st.ok) {
        if (st.error.code != C::NotThisProtocol) out.undecoded_in = Encap::Pptp;  // data, not PPP's control
        return st;
    }
    return decode_inner(ppp.rest(), false, Encap::Pptp, out);
}

}  // namespace

LayerStatus parse_gre(Reader r, PacketMeta& out, Encap kind) noexcept {
    const uint16_t flags = r.u16();
    const uint16_t proto = r.u16();
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if ((flags & 0x7) == 1 && kind == Encap::Gre) return parse_pptp_gre(r, flags, proto, out);
    if ((flags & 0x7) != 0) return fail_in(kind, C::Unsupported, 0, out);  // no GRE version 2+ is defined
    const bool has_csum = flags & 0x8000, has_key = flags & 0x2000, has_seq = flags & 0x1000;
    if (has_csum) r.skip(4);
    if (has_key) r.skip(4);
    if (has_seq) r.skip(4);
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if (proto == kGreWccp) {
        // WCCP redirection to a cache or WAN optimiser: version 2 puts a
        // 4-byte redirect header before the IPv4 packet, version 1 none;
        // told apart, as Wireshark does, by whether an IPv4 header follows.
        const ByteView first = r.peek(1);
        if (first.empty() || (first[0] & 0xF0) != 0x40) r.skip(4);
        if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
        return decode_inner(r.rest(), false, kind, out);
    }
    if (proto == kEtherCiscoMetadata) {
        // Inside GRE the inner ethertype comes first (then version, length,
        // option and SGT, as Wireshark reads it); IP follows.
        const uint16_t inner = r.u16();
        r.skip(6);
        if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
        if (inner != kEtherIpv4 && inner != kEtherIpv6) return fail_in(kind, C::Unsupported, 2, out);
        return decode_inner(r.rest(), false, kind, out);
    }
    switch (proto) {
        case kEtherIpv4:
        case kEtherIpv6: return decode_inner(r.rest(), false, kind, out);
        case kGreTransparentEthernet: return decode_inner(r.rest(), true, kind, out);
        case kEtherMpls:
        case kEtherMplsMulticast: return decode_inner(r.rest(), Inner::Mpls, kind, out);  // RFC 4023 §3
        case kGrePpp: {
            // PPP in GRE version 0 (as Wireshark reads it): the PPP header, then IP.
            const LayerStatus st = ppp_to_ip(r);
            if (!st.ok) {
                if (st.error.code != C::NotThisProtocol) out.undecoded_in = kind;
                return st;
            }
            return decode_inner(r.rest(), false, kind, out);
        }
        case kGreErspanII:
            if (!has_seq) return decode_inner(r.rest(), true, Encap::ErspanI, out);
            r.skip(8);
            if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
            return decode_inner(r.rest(), true, Encap::ErspanII, out);
        case kGreErspanIII: {
            const ByteView hdr = r.bytes(12);
            if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
            if (hdr[11] & 0x01) r.skip(8);  // O: platform-specific subheader follows
            if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
            return decode_inner(r.rest(), true, Encap::ErspanIII, out);
        }
        case kEtherArp: return LayerStatus::fail(C::NotThisProtocol, 2);  // not IP, as on a bare link
        default: return fail_in(kind, C::Unsupported, 2, out);
    }
}

/*
   VXLAN (RFC 7348), UDP destination port 4789:
   |R|R|R|R|I|R|R|R|            Reserved                           |
   |                VXLAN Network Identifier (VNI) |   Reserved    |
*/
LayerStatus parse_vxlan(PacketMeta& out) noexcept {
    const ByteView p = out.payload;
    if (p.size() < 8 + 14 || !(p[0] & 0x08) || p[7] != 0) return {};  // not VXLAN: a UDP datagram to its port
    return decode_inner(p.subspan(8), true, Encap::Vxlan, out);
}

/*
   Geneve (RFC 8926 §3.4), UDP destination port 6081:
    0                   1                   2                   3
   |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
   |        Virtual Network Identifier (VNI)       |    Reserved   |
   |                    Variable-Length Options                    |
   Opt Len counts 4-byte words. Protocol Type is an ethertype: 0x6558 an
   Ethernet frame, 0x0800/0x86DD an IP packet. Shorter than the fixed
   header, of another version or with the last reserved byte set: a UDP
   datagram to that port, left as it is.
*/
LayerStatus parse_geneve(PacketMeta& out) noexcept {
    Reader r{out.payload};
    const uint8_t ver_opt = r.u8();
    r.skip(1);
    const uint16_t proto = r.u16();
    r.skip(3);  // VNI
    const uint8_t reserved = r.u8();
    // Only version 0 exists, and its last reserved byte is sent as zero (as
    // VXLAN's, checked the same way): anything else is a UDP datagram to
    // that port — a STUN request's magic cookie (0x2112A442) sits there.
    if (!r.ok() || (ver_opt >> 6) != 0 || reserved != 0) return {};
    r.skip(size_t{ver_opt & 0x3Fu} * 4);
    if (!r.ok()) return fail_in(Encap::Geneve, C::Truncated, r.offset(), out);
    switch (proto) {
        case kGreTransparentEthernet: return decode_inner(r.rest(), true, Encap::Geneve, out);
        case kEtherIpv4:
        case kEtherIpv6: return decode_inner(r.rest(), false, Encap::Geneve, out);
        default: return fail_in(Encap::Geneve, C::Unsupported, 2, out);
    }
}

/*
   GTPv1-U (3GPP TS 29.281 §5.1), UDP destination port 2152:
    0                   1                   2                   3
   |Ver=1|PT|*|E|S|PN| Message Type  |            Length             |
   |                 Tunnel Endpoint Identifier                    |
   |        Sequence Number        | N-PDU Number  |Next Ext. Type | (any of E, S, PN)
   Extension header (§5.2): length in 4-octet units | content | next type.
   Length counts the octets after the first 8. Message type 255 (G-PDU)
   carries the user's IP packet; the others (echo, error indication, end
   marker) and GTP' (PT=0) are the tunnel's own: left as UDP datagrams.
*/
LayerStatus parse_gtpu(PacketMeta& out) noexcept {
    Reader r{out.payload};
    const uint8_t flags = r.u8();
    const uint8_t type = r.u8();
    const uint16_t len = r.u16();
    r.skip(4);  // TEID
    if (!r.ok() || (flags & 0xF0) != 0x30 || type != kGtpGpdu) return {};
    const ByteView after = r.rest();
    Reader body{after.first(std::min<size_t>(after.size(), len))};
    if (flags & 0x07) {
        body.skip(3);  // sequence number, N-PDU number
        uint8_t next = body.u8();
        for (int i = 0; next != 0; ++i) {
            if (i >= kMaxGtpExtHeaders) return fail_in(Encap::Gtpu, C::Malformed, 8 + body.offset(), out);
            const uint8_t units = body.u8();
            if (units == 0) return fail_in(Encap::Gtpu, C::Malformed, 8 + body.offset(), out);
            body.skip(size_t{units} * 4 - 2);
            next = body.u8();
            if (!body.ok()) return fail_in(Encap::Gtpu, C::Truncated, 8 + body.offset(), out);
        }
        if (!body.ok()) return fail_in(Encap::Gtpu, C::Truncated, 8 + body.offset(), out);
    }
    const ByteView inner = body.rest();
    if (inner.empty()) return fail_in(Encap::Gtpu, C::Truncated, 8 + body.offset(), out);
    const uint8_t version = inner[0] >> 4;
    if (version != 4 && version != 6) return fail_in(Encap::Gtpu, C::Unsupported, 8 + body.offset(), out);
    return decode_inner(inner, false, Encap::Gtpu, out);
}

/*
   IP in IP (RFC 2003), IPv6 in IPv4 "6in4" (RFC 4213 §3.5), and either in
   IPv6 (RFC 2473): protocol 4 says IPv4 follows, 41 IPv6; the inner
   header's version decides, as Wireshark's does.
   EtherIP (RFC 3378 §3), IP protocol 97:
   | Version=3 |       Reserved (12 bits, 0)      |  then an Ethernet frame
   (the version is not checked, as Wireshark does not).
   MPLS in IP (RFC 4023 §2), IP protocol 137: a label stack.
*/
LayerStatus parse_ip_tunnel(Reader r, PacketMeta& out) noexcept {
    switch (out.proto) {
        case kProtoIpip:
        case kProtoIpv6: return decode_inner(r.rest(), false, Encap::IpInIp, out);
        case kProtoEtherIp:
            r.skip(2);
            if (!r.ok()) return fail_in(Encap::EtherIp, C::Truncated, r.offset(), out);
            return decode_inner(r.rest(), true, Encap::EtherIp, out);
        case kProtoMplsInIp: return decode_inner(r.rest(), Inner::Mpls, Encap::Mpls, out);
        default: return {};
    }
}

namespace {

/*
   GRE in UDP (RFC 8086), UDP destination port 4754: a GRE header (RFC 2784
   version 0, RFC 2890 key and sequence number) as the payload. Taken as
   GRE only when the reserved bits are clear and the protocol is one GRE
   carries here (IP, Ethernet, MPLS, ERSPAN); otherwise a UDP datagram.
*/
LayerStatus parse_gre_udp(PacketMeta& out) noexcept {
    const ByteView p = out.payload;
    if (p.size() < 4 + 20) return {};
    const uint16_t flags = load_u16(p, 0), proto = load_u16(p, 2);
    if ((flags & 0x4FFF) != 0) return {};  // routing (RFC 1701), reserved0, version
    switch (proto) {
        case kEtherIpv4:
        case kEtherIpv6:
        case kGreTransparentEthernet:
        case kEtherMpls:
        case kEtherMplsMulticast:
        case kGreErspanII:
        case kGreErspanIII: return parse_gre(Reader{p}, out, Encap::GreUdp);
        default: return {};
    }
}

/*
   VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-12 §3.3), UDP destination port 4790:
   |R|R|Ver|I|P|B|O|       Reserved                |  Next Protocol  |
   |                VXLAN Network Identifier (VNI) |    Reserved     |
   Next Protocol: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS. Taken as
   VXLAN-GPE with P set, version 0 and the last byte clear.
*/
LayerStatus parse_vxlan_gpe(PacketMeta& out) noexcept {
    const ByteView p = out.payload;
    if (p.size() < 8 + 20 || (p[0] & 0x34) != 0x04 || p[7] != 0) return {};
    const ByteView inner = p.subspan(8);
    switch (p[3]) {
        case 1:
        case 2: return decode_inner(inner, Inner::Ip, Encap::VxlanGpe, out);
        case 3: return decode_inner(inner, Inner::Ethernet, Encap::VxlanGpe, out);
        case 5: return decode_inner(inner, Inner::Mpls, Encap::VxlanGpe, out);
        default: return fail_in(Encap::VxlanGpe, C::Unsupported, 3, out);  // NSH, or a protocol to come
    }
}

/*
   MPLS in UDP (RFC 7510), UDP destination port 6635: a label stack. Taken
   as MPLS when the stack ends (S=1) within kMaxMplsLabels entries on an IP
   packet or a pseudowire control word, and what it carries decodes;
   otherwise a UDP datagram. The port is all that announces the tunnel, and
   any UDP may use it: a STUN request to port 6635 (a probe sweeping the
   high ports) often has a bottom-of-stack bit and a 4 in its transaction
   id, and must stay the UDP flow it is.
*/
LayerStatus parse_mpls_udp(PacketMeta& out) noexcept {
    const ByteView p = out.payload;
    for (size_t i = 0; i < static_cast<size_t>(kMaxMplsLabels); ++i) {
        const size_t off = i * 4;
        if (off + 5 > p.size()) return {};
        if ((p[off + 2] & 0x01) == 0) continue;
        const uint8_t nibble = p[off + 4] >> 4;
        if (nibble != 4 && nibble != 6 && nibble != 0) return {};
        PacketMeta inner = out;
        if (!decode_inner(p, Inner::Mpls, Encap::Mpls, inner).ok) return {};
        out = inner;
        return {};
    }
    return {};
}

/*
   AYIYA, Anything In Anything (draft-massar-v6ops-ayiya-02 §4), UDP port 5072:
   | IDLen | IDType | SigLen | HshMeth | AutMeth | OpCode |  Next Header  |
   |                          Epoch Time                               |
   | Identity (2^IDLen bytes) | Signature (SigLen * 4 bytes) | payload
   OpCode 1 (forward) carries a packet of protocol Next Header; IP (4, 41)
   is read. Other opcodes (echo, MOTD, query) are the tunnel's own: a UDP
   datagram, as is a header whose next protocol's packet does not follow.
*/
LayerStatus parse_ayiya(PacketMeta& out) noexcept {
    const ByteView p = out.payload;
    if (p.size() < 8) return {};
    const size_t id_len = size_t{1} << (p[0] >> 4);
    const size_t sig_len = size_t{p[1]} / 16 * 4;
    const uint8_t opcode = p[2] & 0x0F, next = p[3];
    const size_t hdr = 8 + id_len + sig_len;
    if (opcode != 1 || hdr >= p.size()) return {};
    const uint8_t version = p[hdr] >> 4;
    if ((next == kProtoIpip && version == 4) || (next == kProtoIpv6 && version == 6))
        return decode_inner(p.subspan(hdr), Inner::Ip, Encap::Ayiya, out);
    return {};
}

/*
   Teredo (RFC 4380 §5.1.1), UDP port 3544 at either end: an IPv6 packet,
   optionally after an authentication indicator
   | 0x0001 | ID-len | AU-len | Client identifier | Authentication value |
   | Nonce (8) | Confirmation (1) |
   and/or an origin indication | 0x0000 | Origin port (2) | Origin IPv4 (4) |.
   Taken as Teredo when exactly one IPv6 packet fills the rest (its payload
   length says so); otherwise a UDP datagram.
*/
LayerStatus parse_teredo(PacketMeta& out) noexcept {
    Reader r{out.payload};
    const ByteView auth = r.peek(4);
    if (auth.size() == 4 && auth[0] == 0 && auth[1] == 1) r.skip(4 + size_t{auth[2]} + auth[3] + 9);
    const ByteView origin = r.peek(2);
    if (origin.size() == 2 && origin[0] == 0 && origin[1] == 0) r.skip(8);
    const ByteView ip6 = r.peek(40);
    if (!r.ok() || ip6.size() < 40 || (ip6[0] >> 4) != 6) return {};
    if (40 + size_t{load_u16(ip6, 4)} != r.remaining()) return {};
    return decode_inner(r.rest(), Inner::Ip, Encap::Teredo, out);
}

}  // namespace

LayerStatus parse_udp_tunnel(PacketMeta& out) noexcept {
    switch (out.dport) {
        case kGreUdpPort: return parse_gre_udp(out);
        case kVxlanGpePort: return parse_vxlan_gpe(out);
        case kMplsUdpPort: return parse_mpls_udp(out);
        case kAyiyaPort: return parse_ayiya(out);
        case kTeredoPort: return parse_teredo(out);
        default: break;
    }
    if (out.sport == kAyiyaPort) return parse_ayiya(out);
    if (out.sport == kTeredoPort) return parse_teredo(out);
    return {};
}

/*
   NFLOG (LINKTYPE_NFLOG, as tcpdump's print-nflog.c and Wireshark's
   packet-nflog.c read it):
   | family (1) | version (1) | resource id (2, big-endian) |
   then netlink attributes: length (2) | type (2) | value, each padded to 4
   bytes; the length counts the 4-byte attribute header, and length and
   type are in the capturing host's byte order. NFULA_PAYLOAD (9) holds
   the IP packet.
*/

LayerStatus parse_nflog(ByteView frame, PacketMeta& out) noexcept {
    Reader r{frame};
    const uint8_t family = r.u8();
    r.skip(3);
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if (family != 2 && family != 10) return LayerStatus::fail(C::NotThisProtocol, 0);  // AF_INET, AF_INET6 (Linux)
    // The host's byte order: the first attribute's length read little-endian
    // (x86, ARM) unless that reading cannot fit the record.
    const ByteView first = r.peek(2);
    if (first.empty()) return LayerStatus::fail(C::Truncated, r.offset());
    const size_t first_le = first[0] | (size_t{first[1]} << 8);
    const bool big_endian = first_le < 4 || first_le > r.remaining();
    for (int i = 0; i < kMaxNflogAttributes; ++i) {
        const ByteView h = r.bytes(4);
        if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
        const size_t len = big_endian ? load_u16(h, 0) : h[0] | (size_t{h[1]} << 8);
        const uint16_t type = (big_endian ? load_u16(h, 2) : static_cast<uint16_t>(h[2] | (h[3] << 8))) & 0x3FFF;
        if (len < 4) return LayerStatus::fail(C::Malformed, r.offset() - 4);
        if (type == kNflogPayload) {
            const ByteView rest = r.rest();
            const size_t ip_off = frame.size() - rest.size();
            const LayerStatus st = parse_ip(rest.first(std::min(rest.size(), len - 4)), out);
            if (!st.ok) return LayerStatus::fail(st.error.code, ip_off + st.error.offset);
            return {};
        }
        if (len - 4 > r.remaining()) return LayerStatus::fail(C::Truncated, r.offset());
        r.skip(std::min(r.remaining(), (len - 4 + 3) & ~size_t{3}));  // the last attribute may be unpadded
        if (r.empty()) return LayerStatus::fail(C::NotThisProtocol, r.offset());  // no packet logged
    }
    return LayerStatus::fail(C::Malformed, r.offset());
}

}  // namespace callwall::decode::detail
