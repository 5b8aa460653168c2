// ICMP and ICMPv6: echoes keyed like ports, errors with the packet they
// quote. See decode/layers.hpp.
#include "decode/layers.hpp"

namespace callwall::decode::detail {
namespace {

using C = DecodeErrorCode;

// Parses the IP header quoted in an ICMP error: addresses, protocol and the
// first 4 bytes of the transport header (the ports), whatever the lengths in
// the quoted header claim (the quote is usually cut after 8 bytes).
void parse_quoted(ByteView v, QuotedPacket& q) noexcept {
    Reader r{v};
    const uint8_t vihl = load_u8(v, 0);
    if ((vihl >> 4) == 4) {
        r.skip(9);
        q.proto = r.u8();
        r.skip(2);
        const ByteView src = r.bytes(4), dst = r.bytes(4);
        if (!r.ok()) return;  // both addresses or neither: half a pair attaches to nothing
        q.src = IpAddr::from_bytes(src);
        q.dst = IpAddr::from_bytes(dst);
        const size_t ihl = static_cast<size_t>(vihl & 0x0F) * 4;
        if (ihl < 20) return;
        const uint16_t frag = load_u16(v, 6);
        if ((frag & 0x1FFF) != 0) return;  // a later fragment quotes no ports
        r.seek(ihl);
    } else if ((vihl >> 4) == 6) {
        r.skip(6);
        uint8_t nh = r.u8();
        r.skip(1);
        const ByteView src = r.bytes(16), dst = r.bytes(16);
        if (!r.ok()) return;
        q.src = IpAddr::from_bytes(src);
        q.dst = IpAddr::from_bytes(dst);
        for (int i = 0; i < kMaxExtHeaders; ++i) {
            if (nh == 0 || nh == 43 || nh == 60) {
                const uint8_t next = r.u8();
                const uint8_t len = r.u8();
                r.skip(size_t{len} * 8 + 6);
                nh = next;
            } else if (nh == 44) {
                const uint8_t next = r.u8();
                r.skip(1);
                const uint16_t off = r.u16();
                r.skip(4);
                if ((off & 0xFFF8) != 0) {
                    q.proto = next;
                    return;
                }
                nh = next;
            } else {
                break;
            }
        }
        q.proto = nh;
        if (!r.ok()) return;
    } else {
        return;
    }
    if (q.proto == kProtoTcp || q.proto == kProtoUdp) {
        q.sport = r.u16();
        q.dport = r.u16();
        q.has_ports = r.ok();
        if (!q.has_ports) q.sport = q.dport = 0;
    } else if (q.proto == kProtoIcmp || q.proto == kProtoIcmp6) {
        // A quoted echo request/reply: type (1) | code (1) | checksum (2) |
        // identifier (2) | sequence (2), keyed as parse_icmp keys echoes so
        // the error finds the ping's flow. Other quoted ICMP (errors about
        // errors are forbidden, RFC 1122 §3.2.2) quotes no "ports".
        const uint8_t type = r.u8();
        r.skip(3);
        const uint16_t ident = r.u16();
        if (!r.ok()) return;
        const bool v6 = q.proto == kProtoIcmp6;
        const bool request = v6 ? type == 128 : type == 8;
        const bool reply = v6 ? type == 129 : type == 0;
        if (!request && !reply) return;
        q.sport = request ? ident : 0;
        q.dport = request ? 0 : ident;
        q.has_ports = true;
    }
}

/*
   ICMP error (RFC 792) / ICMPv6 error (RFC 4443 §2.1):
    0                   1                   2                   3
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |     Type      |     Code      |          Checksum             |
   |             unused / MTU / pointer                            |
   |      Internet Header + leading octets of the original datagram|
*/
}  // namespace

LayerStatus parse_icmp(Reader r, bool v6, PacketMeta& out) noexcept {
    out.icmp_type = r.u8();
    out.icmp_code = r.u8();
    r.skip(2);
    const uint16_t w1 = r.u16();
    r.skip(2);
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    const uint8_t t = out.icmp_type;
    out.icmp_error = v6 ? (t >= 1 && t <= 4) : (t == 3 || t == 11 || t == 12 || t == 4);
    if (out.icmp_error) {
        out.payload = r.rest();
        parse_quoted(out.payload, out.quoted);
    } else if (v6 ? (t == 128 || t == 129) : (t == 8 || t == 0)) {
        // Echo request/reply: the identifier plays the role of the
        // requester's port and 0 the responder's, so a request (id → 0) and
        // its reply (0 → id) share one canonical flow key, and an ICMP error
        // quoting the request finds it (parse_quoted keys the quote alike).
        const bool request = v6 ? t == 128 : t == 8;
        out.sport = request ? w1 : 0;
        out.dport = request ? 0 : w1;
        out.payload = r.rest();
    } else {
        out.payload = r.rest();
    }
    out.payload_wire_len = static_cast<uint32_t>(out.payload.size());
    return {};
}

}  // namespace callwall::decode::detail
