// Link, IP, transport and ICMP-error decoding. See decode/packet.hpp.
#include "decode/packet.hpp"

#include <arpa/inet.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <type_traits>
#include <utility>

#include "decode/layers.hpp"

namespace callwall::decode {
namespace {

using C = DecodeErrorCode;
using namespace detail;

// Stacked VLAN tags seen in practice are 1 (802.1Q) or 2 (QinQ); a few more
// are tolerated (provider backbones), beyond that the frame is refused so a
// hostile frame cannot make us walk a long tag chain.
constexpr int kMaxVlanTags = 4;

constexpr uint16_t kEther8021Q = 0x8100;
constexpr uint16_t kEther8021AD = 0x88A8;
constexpr uint16_t kEtherQinQOld = 0x9100;
constexpr uint16_t kEtherPppoeSession = 0x8864;

/*
   Cisco MetaData (TrustSec inline SGT tagging, ethertype 0x8909), as
   Wireshark's packet-cisco-metadata.c reads it: version (1) | length (1) |
   option (2) | SGT (2) | the inner ethertype (2).
*/
LayerStatus dispatch_ethertype(uint16_t type, Reader& r, size_t base, PacketMeta& out) noexcept {
    // VLAN tags: TCI (PCP/DEI/VID) then the inner ethertype; a Cisco
    // MetaData header, in the same place, counts as one of them.
    int tags = 0;
    while (type == kEther8021Q || type == kEther8021AD || type == kEtherQinQOld || type == kEtherCiscoMetadata) {
        if (++tags > kMaxVlanTags) {
            out.anomalies |= kAnomalyTooManyVlanTags;
            return LayerStatus::fail(C::Malformed, base + r.offset());
        }
        if (type == kEtherCiscoMetadata) {
            r.skip(6);
            type = r.u16();
            if (!r.ok()) return LayerStatus::fail(C::Truncated, base + r.offset());
            continue;
        }
        const uint16_t tci = r.u16();
        type = r.u16();
        if (!r.ok()) return LayerStatus::fail(C::Truncated, base + r.offset());
        const uint16_t vid = tci & 0x0FFF;
        if (out.vlan_count == 0)
            out.vlan_outer = vid;
        else if (out.vlan_count == 1)
            out.vlan_inner = vid;
        ++out.vlan_count;
    }
    if (type == kEtherPppoeSession) {
        /* RFC 2516: ver/type (1) | code (1) | session id (2) | length (2) | PPP protocol (2) */
        r.skip(6);
        const uint16_t ppp = r.u16();
        if (!r.ok()) return LayerStatus::fail(C::Truncated, base + r.offset());
        if (ppp != kPppIpv4 && ppp != kPppIpv6) return LayerStatus::fail(C::NotThisProtocol, base + r.offset());
        type = ppp == kPppIpv4 ? kEtherIpv4 : kEtherIpv6;
    }
    if (type == 0x8847 || type == 0x8848) return parse_mpls(r, base, out);  // MPLS unicast, multicast
    if (type != kEtherIpv4 && type != kEtherIpv6) return LayerStatus::fail(C::NotThisProtocol, base + r.offset());
    const size_t ip_off = r.offset();
    const LayerStatus st = parse_ip(r.rest(), out);
    if (!st.ok) return LayerStatus::fail(st.error.code, base + ip_off + st.error.offset);
    return {};
}

}  // namespace

LayerStatus detail::parse_ethertype(uint16_t type, Reader& r, size_t base, PacketMeta& out) noexcept {
    return dispatch_ethertype(type, r, base, out);
}

namespace {

// ---- transport ----

/*
    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |          Source Port          |       Destination Port        |
   |                        Sequence Number                        |
   |                    Acknowledgment Number                      |
   |  Data |       |C|E|U|A|P|R|S|F|                               |
   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
   |           Checksum            |         Urgent Pointer        |
   |                    Options                    |    Padding    |
*/
LayerStatus parse_tcp(Reader r, uint32_t l4_wire_len, PacketMeta& out) noexcept {
    out.sport = r.u16();
    out.dport = r.u16();
    out.tcp_seq = r.u32();
    out.tcp_ack = r.u32();
    const uint8_t off_byte = r.u8();
    out.tcp_flags = r.u8();
    out.tcp_window = r.u16();
    r.skip(4);  // checksum, urgent pointer
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    const size_t hdr_len = static_cast<size_t>(off_byte >> 4) * 4;
    if (hdr_len < 20) {
        out.anomalies |= kAnomalyTcpBadOffset;
        return LayerStatus::fail(C::Malformed, 12);
    }
    if (l4_wire_len < hdr_len) {
        out.anomalies |= kAnomalyTcpBadOffset;
        return LayerStatus::fail(C::Malformed, 12);
    }
    r.skip(hdr_len - 20);  // options
    if (!r.ok()) {
        // Options cut by the snaplen: the 5-tuple and flags are known, the payload is not.
        out.snap_truncated = true;
        out.payload = {};
        out.payload_wire_len = l4_wire_len - static_cast<uint32_t>(hdr_len);
        return {};
    }
    out.payload_wire_len = l4_wire_len - static_cast<uint32_t>(hdr_len);
    const ByteView rest = r.rest();
    out.payload = rest.first(std::min<size_t>(rest.size(), out.payload_wire_len));
    return {};
}

/*
    0      7 8     15 16    23 24    31
   +--------+--------+--------+--------+
   |     Source      |   Destination   |
   |      Port       |      Port       |
   +--------+--------+--------+--------+
   |     Length      |    Checksum     |
   +--------+--------+--------+--------+
*/
LayerStatus parse_udp(Reader r, uint32_t l4_wire_len, PacketMeta& out) noexcept {
    out.sport = r.u16();
    out.dport = r.u16();
    const uint16_t len = r.u16();
    r.skip(2);
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    uint32_t payload_len = 0;
    if (out.is_fragment) {
        // First fragment: the UDP length covers the whole datagram; this
        // fragment carries only part of it.
        payload_len = l4_wire_len >= 8 ? l4_wire_len - 8 : 0;
    } else if (len == 0 && (out.anomalies & kAnomalyIpv6ZeroPayloadLength)) {
        // A jumbogram's UDP length is 0 (RFC 2675 §4; Linux BIG TCP/GSO
        // super-frames on the sending host): the datagram's length stands.
        payload_len = l4_wire_len >= 8 ? l4_wire_len - 8 : 0;
    } else if (len < 8) {
        out.anomalies |= kAnomalyUdpLengthMismatch;
        return LayerStatus::fail(C::Malformed, 4);
    } else {
        payload_len = len - 8u;
        if (len != l4_wire_len) {
            out.anomalies |= kAnomalyUdpLengthMismatch;
            if (len > l4_wire_len) payload_len = l4_wire_len >= 8 ? l4_wire_len - 8 : 0;
        }
    }
    out.payload_wire_len = payload_len;
    const ByteView rest = r.rest();
    out.payload = rest.first(std::min<size_t>(rest.size(), payload_len));
    return {};
}

LayerStatus parse_transport(Reader r, uint32_t l4_wire_len, PacketMeta& out) noexcept {
    switch (out.proto) {
        case kProtoTcp: return parse_tcp(r, l4_wire_len, out);
        case kProtoUdp: {
            const LayerStatus st = parse_udp(r, l4_wire_len, out);
            if (!st.ok || out.is_fragment) return st;
            if (out.dport == kVxlanPort) return parse_vxlan(out);
            if (out.dport == kGenevePort) return parse_geneve(out);
            if (out.dport == kGtpuPort) return parse_gtpu(out);
            return parse_udp_tunnel(out);
        }
        case kProtoGre:
            if (out.is_fragment) break;
            return parse_gre(r, out);
        case kProtoIpip:
        case kProtoIpv6:
        case kProtoEtherIp:
        case kProtoMplsInIp:
            if (out.is_fragment) break;
            return parse_ip_tunnel(r, out);
        case kProtoIcmp: return parse_icmp(r, false, out);
        case kProtoIcmp6: return parse_icmp(r, true, out);
        default: break;
    }
    out.payload = r.rest();
    out.payload_wire_len = l4_wire_len;
    return {};
}

/*
    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |Version|  IHL  |Type of Service|          Total Length         |
   |         Identification        |Flags|      Fragment Offset    |
   |  Time to Live |    Protocol   |         Header Checksum       |
   |                       Source Address                          |
   |                    Destination Address                        |
   |                    Options                    |    Padding    |
*/
LayerStatus parse_ipv4(ByteView pkt, PacketMeta& out) noexcept {
    Reader r{pkt};
    const uint8_t vihl = r.u8();
    r.skip(1);
    uint32_t total_len = r.u16();
    const uint16_t id = r.u16();
    const uint16_t frag = r.u16();
    out.ttl = r.u8();
    out.proto = r.u8();
    r.skip(2);
    const ByteView src = r.bytes(4);
    const ByteView dst = r.bytes(4);
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    const size_t ihl = static_cast<size_t>(vihl & 0x0F) * 4;
    if (ihl < 20) return LayerStatus::fail(C::Malformed, 0);
    if (total_len == 0) {
        // TCP/UDP segmentation offload: the sending host's capture (Windows
        // Npcap, Linux with TSO/GSO) holds the "super-frame" handed to the NIC
        // before segmentation, whose total length is left 0 (or is too small
        // to hold a > 64 KiB frame). Like Wireshark's packet-ip.c ("If the
        // length is zero, assume TSO"), take the captured length as the
        // datagram length — only for 0, never to override a real length
        // (Ethernet padding, if any, is then taken as payload, as there).
        out.anomalies |= kAnomalyIpv4ZeroTotalLength;
        total_len = static_cast<uint32_t>(std::min<size_t>(pkt.size(), UINT32_MAX));
    }
    if (total_len < ihl) {
        out.anomalies |= kAnomalyIpLengthBelowHeader;
        return LayerStatus::fail(C::Malformed, 2);
    }
    out.ip_version = 4;
    out.src = IpAddr::from_bytes(src);
    out.dst = IpAddr::from_bytes(dst);
    out.ip_total_len = total_len;
    out.frag_id = id;
    if (ihl > 20) {
        out.anomalies |= kAnomalyIpv4Options;
        r.skip(ihl - 20);
        if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    }
    if (total_len > pkt.size()) {
        out.anomalies |= kAnomalyIpLengthBeyondCapture;
        out.snap_truncated = true;
    }
    const uint16_t frag_off = frag & 0x1FFF;
    const bool more_frags = (frag & 0x2000) != 0;
    out.is_fragment = frag_off != 0 || more_frags;
    out.later_fragment = frag_off != 0;
    const uint32_t l4_wire_len = total_len - static_cast<uint32_t>(ihl);
    // Trim Ethernet padding: the datagram ends at total_len.
    const ByteView l4 = pkt.subspan(ihl, std::min<size_t>(pkt.size(), total_len) - ihl);
    if (out.is_fragment) out.frag_ip = pkt.first(std::min<size_t>(pkt.size(), total_len));
    if (out.later_fragment) {
        out.payload = l4;
        out.payload_wire_len = l4_wire_len;
        return {};
    }
    const LayerStatus st = parse_transport(Reader{l4}, l4_wire_len, out);
    if (!st.ok) return LayerStatus::fail(st.error.code, ihl + st.error.offset);
    return {};
}

/*
    0                   1                   2                   3
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |Version| Traffic Class |           Flow Label                  |
   |         Payload Length        |  Next Header  |   Hop Limit   |
   |                     Source Address (128)                      |
   |                  Destination Address (128)                    |
   Extension headers (RFC 8200 §4): Next Header, Hdr Ext Len (8-octet
   units, not counting the first 8), options...; Fragment: 8 bytes fixed.
*/
LayerStatus parse_ipv6(ByteView pkt, PacketMeta& out) noexcept {
    Reader r{pkt};
    r.skip(4);
    const uint16_t payload_len = r.u16();
    uint8_t nh = r.u8();
    out.ttl = r.u8();
    const ByteView src = r.bytes(16);
    const ByteView dst = r.bytes(16);
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    out.ip_version = 6;
    out.src = IpAddr::from_bytes(src);
    out.dst = IpAddr::from_bytes(dst);
    // A zero payload length means a jumbogram (RFC 2675): take what was captured.
    const size_t datagram_len = payload_len ? 40u + payload_len : pkt.size();
    if (payload_len == 0) out.anomalies |= kAnomalyIpv6ZeroPayloadLength;
    out.ip_total_len = static_cast<uint32_t>(datagram_len);
    if (datagram_len > pkt.size()) {
        out.anomalies |= kAnomalyIpLengthBeyondCapture;
        out.snap_truncated = true;
    }
    Reader body{pkt.first(std::min(datagram_len, pkt.size()))};
    body.skip(40);
    for (int i = 0;; ++i) {
        if (i >= kMaxExtHeaders) {
            out.anomalies |= kAnomalyTooManyExtHeaders;
            return LayerStatus::fail(C::Malformed, body.offset());
        }
        if (nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140) {
            out.anomalies |= kAnomalyIpv6ExtHeaders;
            const uint8_t next = body.u8();
            const uint8_t len = body.u8();
            body.skip(size_t{len} * 8 + 6);
            if (!body.ok()) return LayerStatus::fail(C::Truncated, body.offset());
            nh = next;
        } else if (nh == 51) {  // AH: length in 4-octet units minus 2
            out.anomalies |= kAnomalyIpv6ExtHeaders;
            const uint8_t next = body.u8();
            const uint8_t len = body.u8();
            body.skip((size_t{len} + 2) * 4 - 2);
            if (!body.ok()) return LayerStatus::fail(C::Truncated, body.offset());
            nh = next;
        } else if (nh == 44) {  // Fragment
            out.anomalies |= kAnomalyIpv6ExtHeaders;
            const uint8_t next = body.u8();
            body.skip(1);
            const uint16_t off_flags = body.u16();
            out.frag_id = body.u32();
            if (!body.ok()) return LayerStatus::fail(C::Truncated, body.offset());
            out.is_fragment = true;
            out.later_fragment = (off_flags & 0xFFF8) != 0;
            out.frag_ip = body.whole();
            nh = next;
            if (out.later_fragment) break;
        } else {
            break;
        }
    }
    out.proto = nh;
    const size_t l4_off = body.offset();
    const uint32_t l4_wire_len = static_cast<uint32_t>(datagram_len - std::min(datagram_len, l4_off));
    if (out.later_fragment) {
        out.payload = body.rest();
        out.payload_wire_len = l4_wire_len;
        return {};
    }
    const LayerStatus st = parse_transport(Reader{body.rest()}, l4_wire_len, out);
    if (!st.ok) return LayerStatus::fail(st.error.code, l4_off + st.error.offset);
    return {};
}

}  // namespace

IpAddr IpAddr::v4(uint32_t host_order) noexcept {
    IpAddr a;
    a.family = 4;
    a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
    a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
    a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
    a.bytes[3] = static_cast<uint8_t>(host_order);
    return a;
}

IpAddr IpAddr::from_bytes(ByteView raw) noexcept {
    IpAddr a;
    if (raw.size() == 4 || raw.size() == 16) {
        a.family = raw.size() == 4 ? 4 : 6;
        std::memcpy(a.bytes.data(), raw.data(), raw.size());
    }
    return a;
}

LayerStatus parse_ip(ByteView packet, PacketMeta& out) noexcept {
    if (packet.empty()) return LayerStatus::fail(C::Truncated, 0);
    switch (packet[0] >> 4) {
        case 4: return parse_ipv4(packet, out);
        case 6: return parse_ipv6(packet, out);
        default: return LayerStatus::fail(C::NotThisProtocol, 0);
    }
}

/*
   Ethernet II: destination (6) | source (6) | EtherType (2) | payload
   802.1Q/802.1ad tag inserted before the EtherType: TPID (2) | TCI (2)
*/
LayerStatus parse_ethernet(ByteView frame, PacketMeta& out) noexcept {
    Reader r{frame};
    r.skip(12);
    const uint16_t type = r.u16();
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if (type < 0x0600) return LayerStatus::fail(C::NotThisProtocol, 12);  // 802.3 length: LLC, not IP
    return dispatch_ethertype(type, r, 0, out);
}

namespace {

// A UDP port that carries a tunnel the general path decodes: VXLAN,
// Geneve, GTP-U, GRE in UDP, VXLAN-GPE and MPLS in UDP by the destination
// port, AYIYA and Teredo by either. Their low six bits differ, so one bit
// test per port turns away almost every other datagram before the
// comparisons.
[[gnu::always_inline]] inline bool maybe_tunnel_port(uint16_t sport, uint16_t dport) noexcept {
    static constexpr uint16_t kByDst[] = {kVxlanPort,    kGenevePort,  kGtpuPort,  kGreUdpPort,
                                          kVxlanGpePort, kMplsUdpPort, kAyiyaPort, kTeredoPort};
    constexpr uint64_t kDstBits = [] {
        uint64_t b = 0;
        for (uint16_t p : kByDst) b |= uint64_t{1} << (p & 63);
        return b;
    }();
    constexpr uint64_t kSrcBits = (uint64_t{1} << (kAyiyaPort & 63)) | (uint64_t{1} << (kTeredoPort & 63));
    static_assert(static_cast<size_t>(std::popcount(kDstBits)) == std::size(kByDst),
                  "the tunnel ports' low six bits must differ");
    if ((((kDstBits >> (dport & 63)) | (kSrcBits >> (sport & 63))) & 1) == 0) return false;
    for (uint16_t p : kByDst)
        if (dport == p) return true;
    return sport == kAyiyaPort || sport == kTeredoPort;
}

// The common case of a mirror port: Ethernet (untagged or one 802.1Q tag),
// IPv4 without options or fragmentation, a complete UDP or TCP header,
// nothing cut by the snaplen.
// Decoded with fixed offsets after one length check; anything else (and any
// frame where a field would need the general path's judgement) returns false,
// having written nothing, and goes the general way. Fills exactly what the general path fills for
// the same frame (tests/unit/decode/packet_fast_path_test.cpp checks it).
bool parse_ethernet_ipv4_fast(ByteView frame, PacketMeta& out) noexcept {
    constexpr size_t kIp = 20;
    if (frame.size() < 18 + kIp + 8) return false;
    const uint8_t* p = frame.data();
    size_t eth = 14;
    const bool tagged = p[12] == 0x81 && p[13] == 0x00;  // one 802.1Q tag
    if (tagged) {
        if (p[16] != 0x08 || p[17] != 0x00) return false;
        eth = 18;
    } else if (p[12] != 0x08 || p[13] != 0x00) {  // EtherType IPv4
        return false;
    }
    const uint8_t* ip = p + eth;
    if (ip[0] != 0x45) return false;  // version 4, IHL 5: no options
    if ((ip[6] & 0x3F) != 0 || ip[7] != 0) return false;  // MF clear, offset 0: not a fragment
    const uint32_t total_len = (uint32_t{ip[2]} << 8) | ip[3];
    if (total_len < kIp + 8 || total_len > frame.size() - eth) return false;  // short or cut by the snaplen
    const uint8_t proto = ip[9];
    const uint8_t* l4 = ip + kIp;
    const uint32_t l4_len = total_len - kIp;
    uint32_t hdr_len = 0;
    if (proto == kProtoUdp) {
        const uint32_t udp_len = (uint32_t{l4[4]} << 8) | l4[5];
        if (udp_len != l4_len) return false;  // length anomalies: the general path records them
        const uint16_t sport = static_cast<uint16_t>((l4[0] << 8) | l4[1]);
        const uint16_t dport = static_cast<uint16_t>((l4[2] << 8) | l4[3]);
        if (maybe_tunnel_port(sport, dport)) return false;  // the general path decodes tunnels
        hdr_len = 8;
    } else if (proto == kProtoTcp) {
        if (l4_len < 20) return false;
        hdr_len = static_cast<uint32_t>(l4[12] >> 4) * 4;
        if (hdr_len < 20 || hdr_len > l4_len) return false;
    } else {
        return false;
    }
    // Every check passed: only now is `out` written.
    if (tagged) {
        out.vlan_outer = static_cast<uint16_t>(((p[14] << 8) | p[15]) & 0x0FFF);
        out.vlan_count = 1;
    }
    if (proto == kProtoTcp) {
        out.tcp_seq = (uint32_t{l4[4]} << 24) | (uint32_t{l4[5]} << 16) | (uint32_t{l4[6]} << 8) | l4[7];
        out.tcp_ack = (uint32_t{l4[8]} << 24) | (uint32_t{l4[9]} << 16) | (uint32_t{l4[10]} << 8) | l4[11];
        out.tcp_flags = l4[13];
        out.tcp_window = static_cast<uint16_t>((l4[14] << 8) | l4[15]);
    }
    out.ip_version = 4;
    out.proto = proto;
    out.ttl = ip[8];
    out.ip_total_len = total_len;
    out.frag_id = (uint32_t{ip[4]} << 8) | ip[5];
    out.src.family = out.dst.family = 4;
    // Each address as one 16-byte store (the four bytes, then the reset's
    // zeros): the flow table reads it back at once, 8 and 16 bytes at a
    // time, and a load that spans two stores (a 4-byte copy over the reset)
    // waits for both to leave the store buffer instead of being forwarded.
    using Lanes = uint32_t __attribute__((vector_size(16)));  // one register, one store
    uint32_t v;
    std::memcpy(&v, ip + 12, 4);
    Lanes a{v, 0, 0, 0};
    std::memcpy(out.src.bytes.data(), &a, 16);
    std::memcpy(&v, ip + 16, 4);
    a = Lanes{v, 0, 0, 0};
    std::memcpy(out.dst.bytes.data(), &a, 16);
    out.sport = static_cast<uint16_t>((l4[0] << 8) | l4[1]);
    out.dport = static_cast<uint16_t>((l4[2] << 8) | l4[3]);
    out.payload_wire_len = l4_len - hdr_len;
    out.payload = ByteView{l4 + hdr_len, l4_len - hdr_len};
    return true;
}

}  // namespace

namespace {

// The layer-by-layer path for every link type; `out` is already reset.
[[gnu::noinline]] LayerStatus parse_general(uint32_t linktype, ByteView frame, PacketMeta& out) noexcept {
    Reader r{frame};
    switch (static_cast<LinkType>(linktype)) {
        case LinkType::Ethernet: return parse_ethernet(frame, out);
        case LinkType::LinuxSll: {
            /* packet type (2) | ARPHRD (2) | addr len (2) | addr (8) | protocol (2) */
            r.skip(14);
            const uint16_t proto = r.u16();
            if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
            return dispatch_ethertype(proto, r, 0, out);
        }
        case LinkType::LinuxSll2: {
            /* protocol (2) | reserved (2) | ifindex (4) | ARPHRD (2) | pkttype (1) | addr len (1) | addr (8) */
            const uint16_t proto = r.u16();
            r.skip(18);
            if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
            return dispatch_ethertype(proto, r, 0, out);
        }
        case LinkType::Null:
        case LinkType::Loop: {
            // The family is in the capturing host's byte order (NULL) or
            // network order (LOOP); accept either order for NULL.
            const ByteView fam_bytes = r.bytes(4);
            if (!r.ok()) return LayerStatus::fail(C::Truncated, 0);
            uint32_t fam = load_u32(fam_bytes, 0);
            if (static_cast<LinkType>(linktype) == LinkType::Null && fam > 0xFFFF) fam = __builtin_bswap32(fam);
            // AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
            if (fam != 2 && fam != 24 && fam != 28 && fam != 30 && fam != 10)
                return LayerStatus::fail(C::NotThisProtocol, 0);
            LayerStatus st = parse_ip(r.rest(), out);
            if (!st.ok) st.error.offset += 4;
            return st;
        }
        case LinkType::Raw:
        case LinkType::DltRaw:
        case LinkType::DltRawBsd:
        case LinkType::Ipv4:
        case LinkType::Ipv6: return parse_ip(frame, out);
        case LinkType::CiscoHdlc: {
            /* Cisco HDLC: address (0x0F unicast, 0x8F broadcast) | control (0) | ethertype (SLARP 0x8035, IP …) */
            r.skip(2);
            const uint16_t type = r.u16();
            if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
            return dispatch_ethertype(type, r, 0, out);
        }
        case LinkType::Ieee80211: return parse_wlan(frame, false, out);
        case LinkType::Ieee80211Radiotap: return parse_radiotap(frame, out);
        case LinkType::Ppi: {
            /* PPI (Per-Packet Information header, CACE Technologies 2007), little-endian:
               version (1, 0) | flags (1) | length (2) | DLT (4) | fields, then a frame of that DLT
               (802.11 in practice). A PPI frame inside is refused: no recursion. */
            const uint8_t version = r.u8();
            r.skip(1);
            const ByteView hdr = r.bytes(6);
            if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
            const size_t len = hdr[0] | (size_t{hdr[1]} << 8);
            const uint32_t dlt = load_u32(hdr, 2);
            const uint32_t inner = __builtin_bswap32(dlt);  // the fields are little-endian
            if (version != 0 || len < 8 || inner == static_cast<uint32_t>(LinkType::Ppi))
                return LayerStatus::fail(C::Malformed, 0);
            if (len > frame.size()) return LayerStatus::fail(C::Truncated, 2);
            LayerStatus st = parse_general(inner, frame.subspan(len), out);
            if (!st.ok) st.error.offset += static_cast<uint32_t>(len);
            return st;
        }
        case LinkType::PppHdlc: {
            // Cisco HDLC shares the link type: address 0x0F/0x8F, control 0, an ethertype.
            const ByteView hdlc = r.peek(2);
            if (hdlc.size() == 2 && (hdlc[0] == 0x0F || hdlc[0] == 0x8F) && hdlc[1] == 0x00) {
                r.skip(2);
                const uint16_t type = r.u16();
                if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
                return dispatch_ethertype(type, r, 0, out);
            }
            [[fallthrough]];
        }
        case LinkType::Ppp: {
            const LayerStatus st = ppp_to_ip(r);
            if (!st.ok) return st;
            return parse_ip_at(r, 0, out);
        }
        case LinkType::PppEther: {
            /* RFC 2516 §4: ver/type (1) | code (1, 0 in a session) | session id (2) | length (2), then PPP */
            r.skip(1);
            const uint8_t code = r.u8();
            r.skip(4);
            if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
            if (code != 0) return LayerStatus::fail(C::NotThisProtocol, 1);  // discovery (PADI, PADO, …)
            const LayerStatus st = ppp_to_ip(r);
            if (!st.ok) return st;
            return parse_ip_at(r, 0, out);
        }
        case LinkType::Nflog: return parse_nflog(frame, out);
    }
    return LayerStatus::fail(C::Unsupported, 0);
}

// Copies `from` over `to` as one 16-byte move per lane. GCC 12 makes a whole
// struct's copy (or `= PacketMeta{}`) of an all-zero constant one `rep stos`,
// whose start-up costs more than the twelve stores on every packet.
template <size_t... I>
[[gnu::always_inline]] inline void copy_lanes(const PacketMeta& from, PacketMeta& to,
                                              std::index_sequence<I...>) noexcept {
    using Lane = uint64_t __attribute__((vector_size(16), aligned(8), may_alias));
    const auto* src = reinterpret_cast<const Lane*>(&from);
    auto* dst = reinterpret_cast<Lane*>(&to);
    ((dst[I] = src[I]), ...);
}

// Resets `out` and tries the fixed-offset fast path; false: decode with
// parse_general (the fast path wrote nothing, `out` is still reset).
bool reset_and_parse_fast(uint32_t linktype, ByteView frame, PacketMeta& out) noexcept {
    static_assert(std::is_trivially_copyable_v<PacketMeta> && sizeof(PacketMeta) % 16 == 0 && alignof(PacketMeta) >= 8);
    static constexpr PacketMeta kReset{};
    copy_lanes(kReset, out, std::make_index_sequence<sizeof(PacketMeta) / 16>{});
    return linktype == static_cast<uint32_t>(LinkType::Ethernet) && parse_ethernet_ipv4_fast(frame, out);
}

}  // namespace

LayerStatus parse_frame(uint32_t linktype, ByteView frame, PacketMeta& out) noexcept {
    if (reset_and_parse_fast(linktype, frame, out)) return {};
    return parse_general(linktype, frame, out);
}

bool parse_frame_ok(uint32_t linktype, ByteView frame, PacketMeta& out) noexcept {
    if (reset_and_parse_fast(linktype, frame, out)) return true;
    return parse_general(linktype, frame, out).ok;
}

Result<PacketMeta> parse_frame(uint32_t linktype, ByteView frame) noexcept {
    PacketMeta m;
    const LayerStatus st = parse_frame(linktype, frame, m);
    if (!st.ok) return st.error;
    return m;
}

}  // namespace callwall::decode
