// QUIC long-header decoder: versions, long and short headers, gQUIC public
// headers (see quic.hpp). Initial keys and packet protection are in
// quic_crypto.cpp; frames, the gQUIC CHLO and the ClientHello assembler in
// quic_frames.cpp.
#include "proto/quic.hpp"
#include "proto/quic_detail.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

namespace callwall::proto::quic {
namespace {

constexpr uint32_t kVersionV1 = 0x00000001;
constexpr uint32_t kVersionV2 = 0x6b3343cf;  // RFC 9369 §3.1

[[nodiscard]] bool is_digit(uint8_t c) noexcept { return c >= '0' && c <= '9'; }

[[nodiscard]] PacketType type_from_bits(const VersionInfo& v, uint8_t first_byte) noexcept {
    const unsigned bits = (first_byte >> 4) & 0x3u;
    if (v.family == VersionFamily::V2) {
        // RFC 9369 §3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
        constexpr PacketType kV2[4] = {PacketType::Retry, PacketType::Initial, PacketType::ZeroRtt,
                                       PacketType::Handshake};
        return kV2[bits];
    }
    constexpr PacketType kV1[4] = {PacketType::Initial, PacketType::ZeroRtt, PacketType::Handshake, PacketType::Retry};
    return kV1[bits];
}

// gQUIC ≤ Q043 public header (Chromium "QUIC Wire Layout" §Public Header):
//
//      0        1        ...        8        9       10       11       12
// +--------+--------+--------+--------+--------+--------+--------+--------+
// | Public |    Connection ID (64, present when flag 0x08)             ...
// |Flags(8)|
// +--------+--------+--------+--------+--------+--------+--------+--------+
// |      QUIC Version (32, flag 0x01)  | Diversification Nonce (256, 0x04)
// +--------+--------+--------+--------+--------+--------+--------+--------+
// |  Packet Number (8, 16, 32 or 48: flags 0x30)   | 12-byte hash | frames
//
// Flags: 0x01 version (client only), 0x02 public reset, 0x04 nonce (server only), 0x08 8-byte CID,
// 0x30 packet number length, 0x40 multipath (reserved, 0), 0x80 reserved (0).
[[nodiscard]] bool gquic_legacy_probe(ByteView p) noexcept {
    if (p.size() < 13) return false;
    const uint8_t flags = p[0];
    if ((flags & 0xc2) != 0 || (flags & 0x09) != 0x09) return false;
    return p[9] == 'Q' && p[10] == '0' && is_digit(p[11]) && is_digit(p[12]);
}

Result<LongHeader> decode_gquic_legacy(ByteView bytes) noexcept {
    Reader r{bytes};
    LongHeader h;
    h.first_byte = r.u8();
    h.dcid = r.bytes(8);
    h.version = classify_version(r.u32());
    // The diversification nonce comes only from the server (Wireshark's
    // packet-gquic.c reads it only there); a packet with the version flag is
    // the client's (a server sends a version only in Version Negotiation),
    // whose 0x04 flag — Chromium clients of Q039 set it — is no nonce.
    if ((h.first_byte & 0x04) != 0 && (h.first_byte & 0x01) == 0) r.skip(32);
    constexpr uint8_t kPnLengths[4] = {1, 2, 4, 6};
    h.gquic_pn_length = kPnLengths[(h.first_byte >> 4) & 0x3u];
    h.pn_offset = static_cast<uint32_t>(r.offset());
    r.skip(h.gquic_pn_length);
    if (!r.ok()) return make_error(Code::Truncated, r.offset());
    h.type = PacketType::GQuicLegacy;
    h.packet = bytes;
    return h;
}

// gQUIC Q046 long header (Chromium "IETF-invariant" header of Q044–Q049):
//
// +-+-+-+-+-+-+-+-+
// |1|1|T T|R R|P P|   T: type (0 Initial), P: packet number length − 1
// +-+-+-+-+-+-+-+-+
// |     Version (32) = "Q046"    |
// +-+-+-+-+-+-+-+-+
// |DCIL(4)|SCIL(4)|   0, or length − 3
// +-+-+-+-+-+-+-+-+
// | DCID | SCID | Packet Number (8..32) | 12-byte hash | frames (clear text) ...
Result<LongHeader> decode_gquic_long(ByteView bytes, const VersionInfo& v) noexcept {
    Reader r{bytes};
    LongHeader h;
    h.version = v;
    h.first_byte = r.u8();
    r.skip(4);
    const uint8_t cil = r.u8();
    if (!r.ok()) return make_error(Code::Truncated, r.offset());
    const auto nibble_len = [](unsigned n) -> size_t { return n == 0 ? 0 : n + 3; };
    h.dcid = r.bytes(nibble_len(cil >> 4));
    h.scid = r.bytes(nibble_len(cil & 0x0fu));
    h.gquic_pn_length = static_cast<uint8_t>((h.first_byte & 0x3u) + 1);
    h.pn_offset = static_cast<uint32_t>(r.offset());
    r.skip(h.gquic_pn_length);
    if (!r.ok()) return make_error(Code::Truncated, r.offset());
    h.type = type_from_bits(v, h.first_byte);
    h.packet = bytes;  // no Length field: the packet is the rest of the datagram
    return h;
}

// RFC 8999 §6 / RFC 9000 §17.2.1:
//
// Version Negotiation Packet {
//   Header Form (1) = 1,
//   Unused (7),
//   Version (32) = 0,
//   Destination Connection ID Length (8),
//   Destination Connection ID (0..2040),
//   Source Connection ID Length (8),
//   Source Connection ID (0..2040),
//   Supported Version (32) ...,
// }
Result<LongHeader> decode_version_negotiation(Reader& r, LongHeader h, ByteView bytes) noexcept {
    ByteView list = r.rest();
    if (list.size() < 4) return make_error(Code::Truncated, bytes.size());
    if (list.size() % 4 != 0) h.anomalies |= bit(Anomaly::VersionListRagged);
    Reader lr{list};
    while (lr.remaining() >= 4) {
        if (!h.supported_versions.push_back(lr.u32())) {
            h.anomalies |= bit(Anomaly::VersionListOverflow);
            break;
        }
    }
    h.type = PacketType::VersionNegotiation;
    h.packet = bytes;
    return h;
}

// A reserved (GREASE, 0x?a?a?a?a) version defines only the invariants. Clients that use one to
// force Version Negotiation (RFC 9000 §6.3) send their ordinary v1 Initial under it, so the
// rest is read with the v1 Initial layout (type bits 00, token, Length) when it fits: CIDs ≤ 20
// bytes, token and Length inside the datagram, room for the header-protection sample.
// Otherwise the packet stays PacketType::Unknown over the rest of the datagram. Only the AEAD
// tag (Decryptor::open with v1 keys) proves the guess.
LongHeader reserved_as_v1_initial(Reader r, LongHeader h, ByteView bytes) noexcept {
    const LongHeader invariant = h;
    if (h.dcid.size() > kMaxCidLength || h.scid.size() > kMaxCidLength) return invariant;
    if (((h.first_byte >> 4) & 0x3u) != 0) return invariant;  // v1 Initial type bits
    const uint64_t token_len = read_varint(r);
    if (!r.ok() || token_len > r.remaining()) return invariant;
    h.token = r.bytes(static_cast<size_t>(token_len));
    h.length = read_varint(r);
    if (!r.ok() || h.length > r.remaining() || h.length < kMinProtectedLength) return invariant;
    h.pn_offset = static_cast<uint32_t>(r.offset());
    h.type = PacketType::Initial;
    h.packet = bytes.first(h.pn_offset + static_cast<size_t>(h.length));
    return h;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

VersionInfo classify_version(uint32_t version) noexcept {
    VersionInfo v;
    v.version = version;
    const auto ietf = [&v](VersionFamily f, uint8_t draft) {
        v.family = f;
        v.draft = draft;
        v.ietf_long_header = true;
        v.initial_decryptable = draft >= 22 && draft <= 34;
    };
    if (version == 0) {
        v.family = VersionFamily::Negotiation;
        v.ietf_long_header = true;
    } else if (version == kVersionV1) {
        ietf(VersionFamily::V1, 34);  // draft-33/34 are wire-identical to v1
    } else if (version == kVersionV2) {
        ietf(VersionFamily::V2, 0);
        v.initial_decryptable = true;
    } else if ((version >> 8) == 0xff0000u) {
        ietf(VersionFamily::IetfDraft, static_cast<uint8_t>(version & 0xffu));
        // Drafts ≤ 21 encode the CID lengths in 4-bit fields (invariants-05 and older).
        v.ietf_long_header = v.draft >= 22;
    } else if (version == 0xfaceb001u) {
        ietf(VersionFamily::Mvfst, 22);  // nDPI/Wireshark version maps
    } else if (version == 0xfaceb002u || version == 0xfaceb00eu) {
        ietf(VersionFamily::Mvfst, 27);
    } else if ((version >> 12) == 0xfaceb) {
        ietf(VersionFamily::Mvfst, 0);  // other mvfst aliases: invariants only
    } else if ((version & 0x0f0f0f0fu) == 0x0a0a0a0au) {
        v.family = VersionFamily::Reserved;
        v.ietf_long_header = true;
        // No protection is defined for a reserved version, but clients that send one reuse
        // their v1 Initial (Wireshark decrypts these with v1 keys; tshark 4.0 with draft-29's):
        // derive_initial_keys() gives v1 keys, the assembler also tries draft-29's, and the
        // AEAD tag decides.
        v.initial_decryptable = true;
    } else {
        const uint8_t c0 = static_cast<uint8_t>(version >> 24);
        const uint8_t c1 = static_cast<uint8_t>(version >> 16);
        const uint8_t c2 = static_cast<uint8_t>(version >> 8);
        const uint8_t c3 = static_cast<uint8_t>(version);
        if ((c0 == 'Q' || c0 == 'T') && c1 == '0' && is_digit(c2) && is_digit(c3)) {
            v.family = c0 == 'Q' ? VersionFamily::GoogleQ : VersionFamily::GoogleT;
            v.gquic = static_cast<uint8_t>((c2 - '0') * 10 + (c3 - '0'));
            // Q050 and T0xx use length-prefixed (8-bit) CID lengths (Chromium
            // HasLengthPrefixedConnectionIds; nDPI is_version_with_ietf_long_header).
            v.ietf_long_header = v.family == VersionFamily::GoogleT || v.gquic >= 50;
            // T050/T051: TLS in gQUIC CRYPTO frames, Initials protected as in v1 with their
            // own salts (Wireshark packet-quic.c). Q050 (QUIC crypto in CRYPTO) is not handled.
            v.initial_decryptable = v.family == VersionFamily::GoogleT && (v.gquic == 50 || v.gquic == 51);
        }
    }
    return v;
}

// RFC 9000 §17.2:
//
// Long Header Packet {
//   Header Form (1) = 1,
//   Fixed Bit (1) = 1,
//   Long Packet Type (2),
//   Type-Specific Bits (4),
//   Version (32),
//   Destination Connection ID Length (8),
//   Destination Connection ID (0..160),
//   Source Connection ID Length (8),
//   Source Connection ID (0..160),
//   Type-Specific Payload (..),
// }
//
// Initial Packet {                       0-RTT / Handshake: no Token fields.
//   Header Form (1) = 1,
//   Fixed Bit (1) = 1,
//   Long Packet Type (2) = 0,            (v2: 1)
//   Reserved Bits (2),                   protected
//   Packet Number Length (2),            protected
//   Version (32),
//   Destination Connection ID Length (8),
//   Destination Connection ID (0..160),
//   Source Connection ID Length (8),
//   Source Connection ID (0..160),
//   Token Length (i),
//   Token (..),
//   Length (i),
//   Packet Number (8..32),               protected
//   Packet Payload (8..),                AEAD_AES_128_GCM
// }
//
// Retry Packet {
//   Header Form (1) = 1, Fixed Bit (1) = 1, Long Packet Type (2) = 3 (v2: 0), Unused (4),
//   Version (32), DCID Len (8), DCID (0..160), SCID Len (8), SCID (0..160),
//   Retry Token (..),
//   Retry Integrity Tag (128),           drafts 22–24: ODCID Len (8) + ODCID before the token
// }
Result<LongHeader> decode_long_header(ByteView bytes) noexcept {
    if (bytes.empty()) return make_error(Code::NotThisProtocol, 0);
    const uint8_t b0 = bytes[0];
    if ((b0 & 0x80) == 0) {
        if (gquic_legacy_probe(bytes)) return decode_gquic_legacy(bytes);
        return make_error(Code::NotThisProtocol, 0);
    }
    if (bytes.size() < 5) return make_error(Code::Truncated, bytes.size());
    const VersionInfo v = classify_version(load_u32(bytes, 1));
    if (v.family == VersionFamily::Unknown) return make_error(Code::NotThisProtocol, 1);
    if (v.family == VersionFamily::GoogleQ && !v.ietf_long_header) {
        return decode_gquic_long(bytes, v);
    }
    if (!v.ietf_long_header) return make_error(Code::Unsupported, 1);  // drafts ≤ 21

    const bool known = known_ietf_layout(v);
    const size_t cid_limit = known ? kMaxCidLength : kMaxInvariantCidLength;

    Reader r{bytes};
    LongHeader h;
    h.version = v;
    h.first_byte = r.u8();
    r.skip(4);
    const uint8_t dcil = r.u8();
    if (r.ok() && dcil > cid_limit) return make_error(Code::Malformed, 5);
    h.dcid = r.bytes(dcil);
    const uint8_t scil = r.u8();
    if (r.ok() && scil > cid_limit) return make_error(Code::Malformed, r.offset() - 1);
    h.scid = r.bytes(scil);
    if (!r.ok()) return make_error(Code::Truncated, bytes.size());

    if (v.family == VersionFamily::Negotiation) return decode_version_negotiation(r, h, bytes);
    if ((b0 & 0x40) == 0) h.anomalies |= bit(Anomaly::FixedBitClear);
    if (!known) {
        // Reserved/unknown-draft versions: only the invariants are defined.
        h.type = PacketType::Unknown;
        h.packet = bytes;
        if (v.family == VersionFamily::Reserved) return reserved_as_v1_initial(r, h, bytes);
        return h;
    }

    h.type = type_from_bits(v, b0);
    if (h.type == PacketType::Retry) {
        if (v.draft >= 22 && v.draft <= 24) {
            const uint8_t odcil = r.u8();
            if (r.ok() && odcil > kMaxCidLength) return make_error(Code::Malformed, r.offset() - 1);
            h.retry_odcid = r.bytes(odcil);
            if (!r.ok()) return make_error(Code::Truncated, bytes.size());
            h.token = r.rest();
        } else {
            const ByteView rest = r.rest();
            if (rest.size() < kAeadTagLength) return make_error(Code::Truncated, bytes.size());
            h.token = rest.first(rest.size() - kAeadTagLength);
            h.retry_integrity_tag = rest.last(kAeadTagLength);
        }
        h.packet = bytes;
        return h;
    }

    if (h.type == PacketType::Initial) {
        const uint64_t token_len = read_varint(r);
        if (!r.ok()) return make_error(Code::Truncated, bytes.size());
        if (token_len > r.remaining()) return make_error(Code::Truncated, bytes.size());
        h.token = r.bytes(static_cast<size_t>(token_len));
    }
    h.length = read_varint(r);
    if (!r.ok()) return make_error(Code::Truncated, bytes.size());
    h.pn_offset = static_cast<uint32_t>(r.offset());
    if (h.length > r.remaining()) return make_error(Code::Truncated, bytes.size());
    if (h.length < kMinProtectedLength) return make_error(Code::Malformed, h.pn_offset);
    h.packet = bytes.first(h.pn_offset + static_cast<size_t>(h.length));
    return h;
}

Result<Datagram> decode(ByteView udp_payload) noexcept {
    auto first = decode_long_header(udp_payload);
    if (!first) return first.error();
    Datagram d;
    d.anomalies |= first->anomalies;
    d.packets.push_back(*first);
    size_t pos = first->packet.size();
    while (pos < udp_payload.size()) {
        const ByteView rest = udp_payload.subspan(pos);
        if ((rest[0] & 0x80) == 0) {  // short header packet or padding
            d.trailing = rest;
            break;
        }
        auto next = decode_long_header(rest);
        if (!next) {
            d.anomalies |= bit(Anomaly::TrailingUndecodable);
            d.trailing = rest;
            break;
        }
        if (!equal(next->dcid, first->dcid)) d.anomalies |= bit(Anomaly::CoalescedDcidMismatch);
        if (!d.packets.push_back(*next)) {
            d.anomalies |= bit(Anomaly::CoalescedOverflow);
            d.trailing = rest;
            break;
        }
        d.anomalies |= next->anomalies;
        pos += next->packet.size();
    }
    return d;
}

bool probe(ByteView p) noexcept {
    if (p.empty()) return false;
    const uint8_t b0 = p[0];
    if ((b0 & 0x80) == 0) return gquic_legacy_probe(p);
    if (p.size() < 7) return false;
    const VersionInfo v = classify_version(load_u32(p, 1));
    switch (v.family) {
        case VersionFamily::Unknown: return false;
        case VersionFamily::Negotiation: {
            const size_t dcil = p[5];
            if (6 + dcil >= p.size()) return false;
            const size_t scil = p[6 + dcil];
            const size_t hdr = 7 + dcil + scil;
            return hdr + 4 <= p.size() && (p.size() - hdr) % 4 == 0;
        }
        default: break;
    }
    // The fixed bit is not required: RFC 9287 lets endpoints grease it once both sides
    // advertised grease_quic_bit (ndpi__quic-v2.pcapng frames 2 and 4, ndpi__quic_0RTT.pcap
    // frame 2 carry long headers with it clear). The 32-bit version is the strong signal.
    if (!v.ietf_long_header) return true;  // Q046 or drafts ≤ 21: version alone decides
    const size_t limit = known_ietf_layout(v) ? kMaxCidLength : kMaxInvariantCidLength;
    const size_t dcil = p[5];
    if (dcil > limit || 6 + dcil >= p.size()) return false;
    const size_t scil = p[6 + dcil];
    return scil <= limit && 7 + dcil + scil <= p.size();
}

// RFC 9000 §17.3.1:
//
// 1-RTT Packet {
//   Header Form (1) = 0,
//   Fixed Bit (1) = 1,
//   Spin Bit (1), Reserved Bits (2), Key Phase (1), Packet Number Length (2),
//   Destination Connection ID (0..160),
//   Packet Number (8..32),
//   Packet Payload (8..),
// }
bool matches_short_header(ByteView p, ByteView dcid) noexcept {
    if (dcid.empty() || dcid.size() > kMaxCidLength) return false;
    if (p.size() < 1 + dcid.size() + kMinProtectedLength) return false;
    if ((p[0] & 0xc0) != 0x40) return false;
    return std::memcmp(p.data() + 1, dcid.data(), dcid.size()) == 0;
}

}  // namespace callwall::proto::quic
