// QUIC long-header decoder, Initial decryption and ClientHello reassembly (see quic.hpp).

// SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but still shipped in every 3.x
// build with deprecated APIs (Debian's included). They keep the hash state on the stack;
// EVP_DigestInit_ex2 allocates a provider context on every call in OpenSSL 3.0.22 (measured:
// one malloc per init, also with EVP_MD_CTX_copy_ex and EVP_MAC HMAC), which would put a heap
// allocation on the packet path of every new flow.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "callwall/proto/quic.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>

namespace callwall::proto::quic {
namespace {

using Code = DecodeErrorCode;

constexpr uint32_t kVersionV1 = 0x00000001;
constexpr uint32_t kVersionV2 = 0x6b3343cf;  // RFC 9369 §3.1
constexpr uint32_t kVersionDraft29 = 0xff00001d;

// Protected packets must leave room for the header-protection sample, taken 4 bytes after the
// start of the packet number whatever its length (RFC 9001 §5.4.2).
constexpr size_t kMinProtectedLength = 4 + kHpSampleLength;
// gQUIC ≤ Q046 "null encryption": a 12-byte message authentication hash (FNV-1a-128
// truncated to 96 bits) precedes the frames of unencrypted packets.
constexpr size_t kGQuicHashLength = 12;
// RFC 9000 §19.6: offset + length of CRYPTO data cannot exceed 2^62 − 1.
constexpr uint64_t kMaxVarint = (uint64_t{1} << 62) - 1;

// RFC 9001 §5.2 and the drafts' §5.2; RFC 9369 §3.3.1.
constexpr std::array<uint8_t, 20> kSaltV1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
                                             0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
                                             0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr std::array<uint8_t, 20> kSaltV2 = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6,
                                             0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
                                             0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
constexpr std::array<uint8_t, 20> kSaltDraft29 = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2,
                                                  0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61,
                                                  0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
constexpr std::array<uint8_t, 20> kSaltDraft23 = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb,
                                                  0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4,
                                                  0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
constexpr std::array<uint8_t, 20> kSaltDraft22 = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb,
                                                  0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51,
                                                  0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};
// Google QUIC T050/T051 (TLS handshake, IETF long header): Chromium's own Initial salts, as
// listed in Wireshark packet-quic.c quic_derive_initial_secrets().
constexpr std::array<uint8_t, 20> kSaltT050 = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72,
                                               0x91, 0x55, 0x80, 0x30, 0x4c, 0x43, 0xa2,
                                               0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
constexpr std::array<uint8_t, 20> kSaltT051 = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee,
                                               0x5f, 0xa4, 0x50, 0x6c, 0x19, 0x12, 0x4f,
                                               0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};

[[nodiscard]] bool equal(ByteView a, ByteView b) noexcept {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

[[nodiscard]] bool starts_with(ByteView v, std::string_view s) noexcept {
    return v.size() >= s.size() && std::memcmp(v.data(), s.data(), s.size()) == 0;
}

// RFC 9000 §16: two high bits give the length (1, 2, 4, 8 bytes).
uint64_t read_varint(Reader& r) noexcept {
    const uint8_t b0 = r.u8();
    if (!r.ok()) return 0;
    const unsigned len = 1u << (b0 >> 6);
    uint64_t v = b0 & 0x3fu;
    for (unsigned i = 1; i < len; ++i) v = (v << 8) | r.u8();
    return r.ok() ? v : 0;
}

[[nodiscard]] bool is_digit(uint8_t c) noexcept { return c >= '0' && c <= '9'; }

// Version-specific layout facts derived from VersionInfo.
// "Known layout": the RFC 9000 long header with Initial token/Length fields (v1, v2,
// drafts 22–34, mvfst 22/27, Google Q050+/T05x which adopted it).
[[nodiscard]] bool known_ietf_layout(const VersionInfo& v) noexcept {
    switch (v.family) {
        case VersionFamily::V1:
        case VersionFamily::V2: return true;
        case VersionFamily::IetfDraft:
        case VersionFamily::Mvfst: return v.draft >= 22 && v.draft <= 34;
        case VersionFamily::GoogleQ:
        case VersionFamily::GoogleT: return v.ietf_long_header;
        default: return false;
    }
}

[[nodiscard]] PacketType type_from_bits(const VersionInfo& v, uint8_t first_byte) noexcept {
    const unsigned bits = (first_byte >> 4) & 0x3u;
    if (v.family == VersionFamily::V2) {
        // RFC 9369 §3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
        constexpr PacketType kV2[4] = {PacketType::Retry, PacketType::Initial, PacketType::ZeroRtt,
                                       PacketType::Handshake};
        return kV2[bits];
    }
    constexpr PacketType kV1[4] = {PacketType::Initial, PacketType::ZeroRtt, PacketType::Handshake,
                                   PacketType::Retry};
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
// Flags: 0x01 version, 0x02 public reset, 0x04 nonce (server only), 0x08 8-byte CID,
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
    if ((h.first_byte & 0x04) != 0) r.skip(32);
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
            v.initial_decryptable =
                v.family == VersionFamily::GoogleT && (v.gquic == 50 || v.gquic == 51);
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

// ---------------------------------------------------------------------------------------------
// Key derivation: HKDF (RFC 5869) with HMAC-SHA-256, HKDF-Expand-Label (RFC 8446 §7.1).

namespace {

using Secret = std::array<uint8_t, 32>;

void hmac_sha256(ByteView key, ByteView msg, uint8_t* out) noexcept {
    std::array<uint8_t, 64> k0{};  // block-sized key
    if (key.size() > k0.size()) {
        SHA256(key.data(), key.size(), k0.data());
    } else if (!key.empty()) {
        std::memcpy(k0.data(), key.data(), key.size());
    }
    std::array<uint8_t, 64> pad{};
    std::array<uint8_t, 32> inner{};
    SHA256_CTX c;
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = k0[i] ^ 0x36;
    SHA256_Init(&c);
    SHA256_Update(&c, pad.data(), pad.size());
    if (!msg.empty()) SHA256_Update(&c, msg.data(), msg.size());
    SHA256_Final(inner.data(), &c);
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = k0[i] ^ 0x5c;
    SHA256_Init(&c);
    SHA256_Update(&c, pad.data(), pad.size());
    SHA256_Update(&c, inner.data(), inner.size());
    SHA256_Final(out, &c);
}

// HKDF-Expand-Label(secret, label, "", out.size()) for out.size() ≤ 32 (one HMAC block):
//   struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; }
void expand_label(const Secret& secret, std::string_view label, std::span<uint8_t> out) noexcept {
    constexpr std::string_view kPrefix = "tls13 ";
    std::array<uint8_t, 2 + 1 + 32 + 1 + 1> info{};  // labels used here are ≤ 16 bytes
    size_t n = 0;
    info[n++] = static_cast<uint8_t>(out.size() >> 8);
    info[n++] = static_cast<uint8_t>(out.size());
    info[n++] = static_cast<uint8_t>(kPrefix.size() + label.size());
    std::memcpy(info.data() + n, kPrefix.data(), kPrefix.size());
    n += kPrefix.size();
    std::memcpy(info.data() + n, label.data(), label.size());
    n += label.size();
    info[n++] = 0;  // empty context
    info[n++] = 1;  // HKDF-Expand counter T(1)
    Secret t{};
    hmac_sha256(ByteView{secret.data(), secret.size()}, ByteView{info.data(), n}, t.data());
    std::memcpy(out.data(), t.data(), out.size());
}

[[nodiscard]] const std::array<uint8_t, 20>* salt_for(const VersionInfo& v) noexcept {
    if (!v.initial_decryptable) return nullptr;
    if (v.family == VersionFamily::V2) return &kSaltV2;
    if (v.family == VersionFamily::Reserved) return &kSaltV1;
    if (v.family == VersionFamily::GoogleT) return v.gquic == 50 ? &kSaltT050 : &kSaltT051;
    if (v.draft >= 33) return &kSaltV1;
    if (v.draft >= 29) return &kSaltDraft29;
    if (v.draft >= 23) return &kSaltDraft23;
    if (v.draft == 22) return &kSaltDraft22;
    return nullptr;
}

}  // namespace

struct Decryptor::State {
    EVP_CIPHER* ecb = nullptr;
    EVP_CIPHER* gcm = nullptr;
    EVP_CIPHER_CTX* ecb_ctx = nullptr;
    EVP_CIPHER_CTX* gcm_ctx = nullptr;
    uint8_t* scratch = nullptr;
    bool ok = false;
};

Decryptor::Decryptor() noexcept {
    state_ = new (std::nothrow) State{};
    if (state_ == nullptr) return;
    State& s = *state_;
    s.scratch = new (std::nothrow) uint8_t[kMaxUdpPayload];
    s.ecb = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
    s.gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    s.ecb_ctx = EVP_CIPHER_CTX_new();
    s.gcm_ctx = EVP_CIPHER_CTX_new();
    if (s.scratch == nullptr || s.ecb == nullptr || s.gcm == nullptr || s.ecb_ctx == nullptr ||
        s.gcm_ctx == nullptr) {
        return;
    }
    // Bind the ciphers now: later inits pass only a key/IV and re-key in place (no malloc).
    const std::array<uint8_t, 16> zero_key{};
    const std::array<uint8_t, 12> zero_iv{};
    s.ok = EVP_EncryptInit_ex2(s.ecb_ctx, s.ecb, zero_key.data(), nullptr, nullptr) == 1 &&
           EVP_CIPHER_CTX_set_padding(s.ecb_ctx, 0) == 1 &&
           EVP_DecryptInit_ex2(s.gcm_ctx, s.gcm, zero_key.data(), zero_iv.data(), nullptr) == 1;
}

Decryptor::~Decryptor() {
    if (state_ == nullptr) return;
    EVP_CIPHER_CTX_free(state_->ecb_ctx);
    EVP_CIPHER_CTX_free(state_->gcm_ctx);
    EVP_CIPHER_free(state_->ecb);
    EVP_CIPHER_free(state_->gcm);
    delete[] state_->scratch;
    delete state_;
}

bool Decryptor::ok() const noexcept { return state_ != nullptr && state_->ok; }

std::span<uint8_t> Decryptor::scratch() noexcept {
    if (!ok()) return {};
    return {state_->scratch, kMaxUdpPayload};
}

// RFC 9001 §5.2:
//   initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
//   client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32)
//   server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", 32)
//   key = HKDF-Expand-Label(secret, "quic key", "", 16)   (v2: "quicv2 key")
//   iv  = HKDF-Expand-Label(secret, "quic iv", "", 12)    (v2: "quicv2 iv")
//   hp  = HKDF-Expand-Label(secret, "quic hp", "", 16)    (v2: "quicv2 hp")
Result<InitialKeys> Decryptor::derive_initial_keys(uint32_t version, ByteView client_dcid,
                                                   Perspective side) noexcept {
    const VersionInfo v = classify_version(version);
    const auto* salt = salt_for(v);
    if (salt == nullptr) return make_error(Code::Unsupported, 0);
    if (client_dcid.size() > kMaxInvariantCidLength) return make_error(Code::Malformed, 0);
    Secret initial{};
    hmac_sha256(ByteView{salt->data(), salt->size()}, client_dcid, initial.data());
    Secret secret{};
    expand_label(initial, side == Perspective::Client ? "client in" : "server in", secret);
    const bool v2 = v.family == VersionFamily::V2;
    InitialKeys k;
    expand_label(secret, v2 ? "quicv2 key" : "quic key", k.key);
    expand_label(secret, v2 ? "quicv2 iv" : "quic iv", k.iv);
    expand_label(secret, v2 ? "quicv2 hp" : "quic hp", k.hp);
    return k;
}

// RFC 9001 §5.4.1 (header protection, long header):
//   sample = packet[pn_offset + 4 .. pn_offset + 4 + 16]
//   mask = AES-ECB(hp_key, sample)
//   first_byte ^= mask[0] & 0x0f
//   packet_number ^= mask[1 .. 1 + pn_length]
// §5.3: nonce = iv XOR left-padded packet number; AAD = unprotected header.
Result<Opened> Decryptor::open(const LongHeader& hdr, const InitialKeys& keys,
                               std::span<uint8_t> out) noexcept {
    if (!ok()) return make_error(Code::Unsupported, 0);
    const bool reserved_initial =
        hdr.version.family == VersionFamily::Reserved && hdr.type == PacketType::Initial;
    if ((!known_ietf_layout(hdr.version) && !reserved_initial) ||
        (hdr.type != PacketType::Initial && hdr.type != PacketType::ZeroRtt &&
         hdr.type != PacketType::Handshake)) {
        return make_error(Code::Unsupported, 0);
    }
    const ByteView pkt = hdr.packet;
    const size_t pn_off = hdr.pn_offset;
    if (pn_off > pkt.size() || pkt.size() - pn_off < kMinProtectedLength) {
        return make_error(Code::Truncated, pkt.size());
    }
    if (out.size() < pkt.size()) return make_error(Code::Unsupported, 0);  // caller's buffer

    State& s = *state_;
    std::array<uint8_t, 32> mask{};  // ECB output of one block (+ room for OpenSSL's block)
    int outl = 0;
    if (EVP_EncryptInit_ex2(s.ecb_ctx, nullptr, keys.hp.data(), nullptr, nullptr) != 1 ||
        EVP_EncryptUpdate(s.ecb_ctx, mask.data(), &outl, pkt.data() + pn_off + 4,
                          static_cast<int>(kHpSampleLength)) != 1 ||
        outl != static_cast<int>(kHpSampleLength)) {
        return make_error(Code::Unsupported, pn_off);
    }

    Opened o;
    o.first_byte = static_cast<uint8_t>(pkt[0] ^ (mask[0] & 0x0fu));
    o.pn_length = static_cast<uint8_t>((o.first_byte & 0x3u) + 1);
    if ((o.first_byte & 0x0cu) != 0) o.anomalies |= bit(Anomaly::ReservedBitsSet);
    const size_t hdr_len = pn_off + o.pn_length;
    // pkt.size() ≥ pn_off + 20 ≥ hdr_len + 16: room for the tag.
    const size_t ct_len = pkt.size() - hdr_len - kAeadTagLength;

    std::memcpy(out.data(), pkt.data(), pn_off);
    out[0] = o.first_byte;
    for (size_t i = 0; i < o.pn_length; ++i) {
        out[pn_off + i] = static_cast<uint8_t>(pkt[pn_off + i] ^ mask[1 + i]);
        o.packet_number = (o.packet_number << 8) | out[pn_off + i];
    }

    std::array<uint8_t, 12> nonce = keys.iv;
    for (size_t i = 0; i < 8; ++i) {
        nonce[nonce.size() - 1 - i] ^= static_cast<uint8_t>(o.packet_number >> (8 * i));
    }
    std::array<uint8_t, kAeadTagLength> tag{};
    std::memcpy(tag.data(), pkt.data() + hdr_len + ct_len, tag.size());

    int n = 0;
    int fin = 0;
    if (EVP_DecryptInit_ex2(s.gcm_ctx, nullptr, keys.key.data(), nonce.data(), nullptr) != 1 ||
        EVP_DecryptUpdate(s.gcm_ctx, nullptr, &n, out.data(), static_cast<int>(hdr_len)) != 1 ||
        EVP_DecryptUpdate(s.gcm_ctx, out.data() + hdr_len, &n, pkt.data() + hdr_len,
                          static_cast<int>(ct_len)) != 1 ||
        EVP_CIPHER_CTX_ctrl(s.gcm_ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()),
                            tag.data()) != 1 ||
        EVP_DecryptFinal_ex(s.gcm_ctx, out.data() + hdr_len + n, &fin) != 1) {
        return make_error(Code::Malformed, hdr_len);  // authentication failed
    }
    o.header = ByteView{out.data(), hdr_len};
    o.payload = ByteView{out.data() + hdr_len, ct_len};
    return o;
}

namespace {

// The body of a CRYPTO frame (RFC 9000 §19.6: Offset (i) | Length (i) | Crypto
// Data), recorded in `f`; the error when it is truncated or runs past 2^62.
std::optional<DecodeError> read_crypto_frame(Reader& r, ByteView plaintext, size_t frame_start,
                                             InitialFrames& f) noexcept {
    const uint64_t offset = read_varint(r);
    const uint64_t length = read_varint(r);
    if (!r.ok()) return make_error(Code::Truncated, plaintext.size());
    if (length > r.remaining()) return make_error(Code::Truncated, plaintext.size());
    if (offset > kMaxVarint - length) return make_error(Code::Malformed, frame_start);
    const ByteView data = r.bytes(static_cast<size_t>(length));
    if (!f.crypto.push_back(CryptoFrame{offset, data})) f.anomalies |= bit(Anomaly::CryptoFramesOverflow);
    return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Frames (RFC 9000 §19). Initial packets may carry only PADDING, PING, ACK, CRYPTO and
// CONNECTION_CLOSE (type 0x1c) (§12.4, table 3).
//
// CRYPTO Frame {                 ACK Frame {
//   Type (i) = 0x06,               Type (i) = 0x02..0x03,
//   Offset (i),                    Largest Acknowledged (i), ACK Delay (i),
//   Length (i),                    ACK Range Count (i), First ACK Range (i),
//   Crypto Data (..),              ACK Range (..) ...,   [Gap (i), ACK Range Length (i)]
// }                                [ECN Counts (..)],    [3 × (i)] when type 0x03
//                                }
// CONNECTION_CLOSE Frame {
//   Type (i) = 0x1c..0x1d, Error Code (i), [Frame Type (i)], Reason Phrase Length (i),
//   Reason Phrase (..),
// }
Result<InitialFrames> parse_initial_frames(ByteView plaintext) noexcept {
    InitialFrames f;
    Reader r{plaintext};
    while (!r.empty()) {
        const size_t frame_start = r.offset();
        const uint64_t type = read_varint(r);
        if (!r.ok()) return make_error(Code::Truncated, frame_start);
        switch (type) {
            case 0x00: {  // PADDING: consume the whole run at once
                size_t run = 1;
                while (!r.empty() && r.peek(1)[0] == 0) {
                    r.skip(1);
                    ++run;
                }
                f.padding_bytes += static_cast<uint32_t>(run);
                break;
            }
            case 0x01: ++f.ping_frames; break;
            case 0x02:
            case 0x03: {
                (void)read_varint(r);  // Largest Acknowledged
                (void)read_varint(r);  // ACK Delay
                const uint64_t count = read_varint(r);
                (void)read_varint(r);  // First ACK Range
                if (!r.ok()) return make_error(Code::Truncated, plaintext.size());
                // Each ACK Range takes ≥ 2 bytes: a larger count cannot fit.
                if (count > r.remaining() / 2) return make_error(Code::Truncated, plaintext.size());
                for (uint64_t i = 0; i < count; ++i) {
                    (void)read_varint(r);
                    (void)read_varint(r);
                }
                if (type == 0x03) {
                    for (int i = 0; i < 3; ++i) (void)read_varint(r);
                }
                if (!r.ok()) return make_error(Code::Truncated, plaintext.size());
                ++f.ack_frames;
                break;
            }
            case 0x06: {
                if (auto err = read_crypto_frame(r, plaintext, frame_start, f)) return *err;
                break;
            }
            case 0x1c:
            case 0x1d: {
                f.close_error_code = read_varint(r);
                if (type == 0x1c) (void)read_varint(r);  // Frame Type
                const uint64_t reason_len = read_varint(r);
                if (!r.ok() || reason_len > r.remaining()) {
                    return make_error(Code::Truncated, plaintext.size());
                }
                f.close_reason = r.bytes(static_cast<size_t>(reason_len));
                f.connection_close = true;
                f.anomalies |= bit(Anomaly::ConnectionClose);
                break;
            }
            default:
                f.stopped_on_unknown = true;
                f.unknown_frame_type = type;
                f.anomalies |= bit(Anomaly::UnknownFrame);
                return f;
        }
    }
    return f;
}

// ---------------------------------------------------------------------------------------------
// Frames of a Google QUIC T050/T051 Initial. These versions put TLS in an IETF-style Initial
// but keep Google QUIC frame types (Chromium QuicFramer for versions < IETF draft-29 frames;
// Wireshark packet-gquic.c dissect_gquic_frame_type):
//
//   0x00 PADDING   the rest of the packet is padding (no per-byte frames)
//   0x07 PING      no payload
//   0x08 CRYPTO    Offset (i) | Length (i) | Crypto Data — as RFC 9000 §19.6, varints
//   others         (RST_STREAM 0x01, CONNECTION_CLOSE 0x02, ..., ACK 0x40–0x7f, STREAM
//                  0x80–0xff): not parsed; parsing stops (stopped_on_unknown)
Result<InitialFrames> parse_gquic_initial_frames(ByteView plaintext) noexcept {
    InitialFrames f;
    Reader r{plaintext};
    while (!r.empty()) {
        const size_t frame_start = r.offset();
        const uint8_t type = r.u8();
        switch (type) {
            case 0x00:
                f.padding_bytes += static_cast<uint32_t>(1 + r.remaining());
                return f;
            case 0x07: ++f.ping_frames; break;
            case 0x08: {
                if (auto err = read_crypto_frame(r, plaintext, frame_start, f)) return *err;
                break;
            }
            default:
                f.stopped_on_unknown = true;
                f.unknown_frame_type = type;
                f.anomalies |= bit(Anomaly::UnknownFrame);
                return f;
        }
    }
    return f;
}

// ---------------------------------------------------------------------------------------------
// gQUIC CHLO (Q035–Q046, clear text). STREAM frame (Chromium "QUIC Wire Layout"; the
// integer fields are little-endian up to Q038 and big-endian from Q039 on — Wireshark
// packet-gquic.c switches its encoding at version 39):
//
//   type: 1 F D O O O S S     F fin, D 2-byte data length present,
//                             OOO offset length (0 → 0, n → n+1 bytes), SS stream id length − 1
//   Stream ID (8..32) | Offset (0..64) | Data Length (16) | Stream Data
//
// Handshake message (QUIC Crypto, little-endian):
//   Tag (32) = "CHLO" | Number of entries (16) | Padding (16) |
//   N × { Tag (32), End offset (32) } | values (each from the previous end to its end)
namespace {

Result<GQuicChlo> parse_chlo(ByteView data, uint32_t version) noexcept {
    Reader m{data};
    m.skip(4);  // "CHLO", checked by the caller
    const uint16_t n = static_cast<uint16_t>(m.u8() | (m.u8() << 8));
    m.skip(2);
    Reader entries = m.sub(size_t{n} * 8);
    if (!m.ok()) return make_error(Code::Truncated, m.offset());
    const ByteView values = m.rest();
    GQuicChlo c;
    c.version = version;
    c.tag_count = n;
    uint32_t prev = 0;
    for (uint16_t i = 0; i < n; ++i) {
        const ByteView tag = entries.bytes(4);
        const ByteView end_le = entries.bytes(4);
        if (!entries.ok()) return make_error(Code::Truncated, 8);
        const uint32_t end = uint32_t{end_le[0]} | (uint32_t{end_le[1]} << 8) |
                             (uint32_t{end_le[2]} << 16) | (uint32_t{end_le[3]} << 24);
        if (end < prev) return make_error(Code::Malformed, 8 + i * 8);
        if (end > values.size()) {
            c.truncated = true;  // CHLO continues in a later packet
            break;
        }
        const ByteView value = values.subspan(prev, end - prev);
        if (starts_with(tag, std::string_view{"SNI\0", 4})) c.sni = value;
        if (starts_with(tag, "UAID")) c.uaid = value;
        prev = end;
    }
    return c;
}

}  // namespace

Result<GQuicChlo> decode_gquic_chlo(const LongHeader& hdr) noexcept {
    if (hdr.version.family != VersionFamily::GoogleQ) return make_error(Code::NotThisProtocol, 0);
    if (hdr.version.ietf_long_header) return make_error(Code::Unsupported, 1);  // Q050+: encrypted
    // Up to Q038 the frame integers are little-endian (see above); up to Q033 a private-flags
    // byte follows the message authentication hash (Wireshark dissect_gquic_unencrypt).
    const bool little_endian = hdr.version.gquic < 39;
    Reader r{hdr.packet};
    r.skip(size_t{hdr.pn_offset} + hdr.gquic_pn_length + kGQuicHashLength +
           (hdr.version.gquic < 34 ? 1 : 0));
    if (!r.ok()) return make_error(Code::Truncated, hdr.packet.size());
    while (!r.empty()) {
        const size_t frame_start = r.offset();
        const uint8_t type = r.u8();
        if (type == 0x07) continue;                        // PING
        if ((type & 0x80) == 0) break;                     // PADDING, ACK, …: no CHLO here
        const size_t sid_len = (type & 0x03u) + 1;
        const unsigned ooo = (type >> 2) & 0x07u;
        const size_t off_len = ooo == 0 ? 0 : ooo + 1;
        uint32_t stream_id = 0;
        for (size_t i = 0; i < sid_len; ++i) {
            const uint32_t b = r.u8();
            stream_id = little_endian ? stream_id | (b << (8 * i)) : (stream_id << 8) | b;
        }
        r.skip(off_len);
        size_t data_len = r.remaining();
        if ((type & 0x20u) != 0) {
            const ByteView len = r.bytes(2);
            if (!r.ok()) return make_error(Code::Truncated, frame_start);
            data_len = little_endian ? size_t{len[0]} | (size_t{len[1]} << 8)
                                     : (size_t{len[0]} << 8) | len[1];
        }
        const ByteView data = r.bytes(data_len);
        if (!r.ok()) return make_error(Code::Truncated, frame_start);
        if (stream_id == 1 && starts_with(data, "CHLO")) {
            return parse_chlo(data, hdr.version.version);
        }
    }
    return make_error(Code::NotThisProtocol, r.offset());
}

// ---------------------------------------------------------------------------------------------
// ClientInitialAssembler

ClientInitialAssembler::ClientInitialAssembler(std::span<uint8_t> crypto_buffer) noexcept
    : buf_(crypto_buffer.size() > UINT32_MAX ? crypto_buffer.first(UINT32_MAX) : crypto_buffer) {}

void ClientInitialAssembler::reset() noexcept {
    const std::span<uint8_t> buf = buf_;
    *this = ClientInitialAssembler{buf};
}

ByteView ClientInitialAssembler::crypto_prefix() const noexcept {
    if (range_count_ == 0 || ranges_[0].begin != 0) return {};
    return ByteView{buf_.data(), ranges_[0].end};
}

ByteView ClientInitialAssembler::client_hello() const noexcept {
    if (status_ != AssemblyStatus::Done || kind_ != HandshakeKind::TlsClientHello) return {};
    return ByteView{buf_.data(), hello_len_};
}

// Copies the bytes of [offset, offset+len) not yet held, compares those already held, then
// merges the range into the sorted, disjoint, non-adjacent list.
void ClientInitialAssembler::add_crypto(uint64_t offset, ByteView data) noexcept {
    if (data.empty()) return;
    const uint64_t cap = buf_.size();
    if (offset >= cap) {
        anomalies_ |= bit(Anomaly::CryptoBeyondBuffer);
        return;
    }
    uint64_t end64 = offset + data.size();  // parse_initial_frames keeps this < 2^62
    if (end64 > cap) {
        anomalies_ |= bit(Anomaly::CryptoBeyondBuffer);
        end64 = cap;
    }
    const auto begin = static_cast<uint32_t>(offset);
    const auto end = static_cast<uint32_t>(end64);

    // Ranges that overlap or touch [begin, end) merge into one.
    size_t first = 0;
    while (first < range_count_ && ranges_[first].end < begin) ++first;
    size_t last = first;  // one past the last merged range
    while (last < range_count_ && ranges_[last].begin <= end) ++last;
    const size_t merged = last - first;
    if (merged == 0 && range_count_ == kMaxCryptoRanges) {
        anomalies_ |= bit(Anomaly::CryptoRangesOverflow);
        return;
    }

    uint32_t cur = begin;
    for (size_t i = first; i < last && cur < end; ++i) {
        const Range& rg = ranges_[i];
        if (rg.begin > cur) {
            const uint32_t gap_end = std::min(rg.begin, end);
            std::memcpy(buf_.data() + cur, data.data() + (cur - begin), gap_end - cur);
            cur = gap_end;
        }
        const uint32_t ov_end = std::min(rg.end, end);
        if (ov_end > cur) {
            if (std::memcmp(buf_.data() + cur, data.data() + (cur - begin), ov_end - cur) != 0) {
                anomalies_ |= bit(Anomaly::CryptoConflict);
            }
            cur = ov_end;
        }
    }
    if (cur < end) std::memcpy(buf_.data() + cur, data.data() + (cur - begin), end - cur);

    Range m{begin, end};
    if (merged > 0) {
        m.begin = std::min(begin, ranges_[first].begin);
        m.end = std::max(end, ranges_[last - 1].end);
        ranges_[first] = m;
        std::copy(ranges_.begin() + last, ranges_.begin() + range_count_,
                  ranges_.begin() + first + 1);
        range_count_ = static_cast<uint8_t>(range_count_ - (merged - 1));
    } else {
        std::copy_backward(ranges_.begin() + first, ranges_.begin() + range_count_,
                           ranges_.begin() + range_count_ + 1);
        ranges_[first] = m;
        ++range_count_;
    }
}

// RFC 8446 §4: Handshake { msg_type (8) = client_hello (1), length (24), body }.
void ClientInitialAssembler::check_complete() noexcept {
    if (status_ != AssemblyStatus::NeedMore) return;
    const ByteView prefix = crypto_prefix();
    if (prefix.empty()) return;
    if (prefix[0] != 1) {
        status_ = AssemblyStatus::Failed;
        error_ = make_error(Code::Malformed, 0);  // first client handshake message must be CH
        return;
    }
    if (prefix.size() < 4) return;
    const uint32_t body = (uint32_t{prefix[1]} << 16) | (uint32_t{prefix[2]} << 8) | prefix[3];
    const uint32_t total = 4 + body;
    if (total > buf_.size()) {
        status_ = AssemblyStatus::Failed;
        error_ = make_error(Code::Unsupported, 1);  // ClientHello larger than the lent buffer
        return;
    }
    if (prefix.size() >= total) {
        status_ = AssemblyStatus::Done;
        kind_ = HandshakeKind::TlsClientHello;
        hello_len_ = total;
    }
}

FeedResult ClientInitialAssembler::finish(FeedResult r) const noexcept {
    r.status = status_;
    r.kind = kind_;
    if (status_ == AssemblyStatus::Failed) r.error = error_;
    r.client_hello = client_hello();
    return r;
}

FeedResult ClientInitialAssembler::feed(Decryptor& dec, ByteView udp_payload) noexcept {
    FeedResult r;
    if (status_ == AssemblyStatus::Done || status_ == AssemblyStatus::Failed) return finish(r);

    auto d = decode(udp_payload);
    if (!d) {
        r.error = d.error();
        if (d.code() == Code::NotThisProtocol && !seen_quic_) {
            r.status = AssemblyStatus::NotQuic;
            return r;
        }
        return finish(r);
    }
    seen_quic_ = true;
    anomalies_ |= d->anomalies;
    r.packets = static_cast<uint8_t>(d->packets.size());
    r.version = d->packets[0].version.version;

    for (const LongHeader& h : d->packets) {
        if (h.type == PacketType::VersionNegotiation) {
            r.saw_version_negotiation = true;
            continue;
        }
        if (h.type == PacketType::Retry) {
            r.saw_retry = true;
            continue;
        }
        const bool gquic_tls = h.version.family == VersionFamily::GoogleT &&
                               h.version.initial_decryptable;  // T050/T051: below, as IETF
        if (!gquic_tls && (h.version.family == VersionFamily::GoogleQ ||
                           h.version.family == VersionFamily::GoogleT)) {
            if (h.version.ietf_long_header) {  // Q050, T052+: encrypted, not supported
                status_ = AssemblyStatus::Failed;
                error_ = make_error(Code::Unsupported, 1);
                version_ = h.version.version;
                return finish(r);
            }
            auto chlo = decode_gquic_chlo(h);
            if (chlo) {
                status_ = AssemblyStatus::Done;
                kind_ = HandshakeKind::GQuicChlo;
                version_ = h.version.version;
                r.gquic_sni = chlo->sni;
                return finish(r);
            }
            r.error = chlo.error();
            continue;
        }
        if ((known_ietf_layout(h.version) || h.type == PacketType::Initial) &&
            h.dcid.size() <= kMaxCidLength && h.scid.size() <= kMaxCidLength) {
            last_dcid_len_ = static_cast<uint8_t>(h.dcid.size());
            std::copy(h.dcid.begin(), h.dcid.end(), last_dcid_.begin());
            scid_len_ = static_cast<uint8_t>(h.scid.size());
            std::copy(h.scid.begin(), h.scid.end(), scid_.begin());
        }
        if (h.type == PacketType::Unknown || (h.type == PacketType::Initial &&
                                              !h.version.initial_decryptable)) {
            // Reserved (GREASE) or unknown-layout version: the server answers with Version
            // Negotiation and the client retries with a real version.
            r.error = make_error(Code::Unsupported, 1);
            continue;
        }
        if (h.type != PacketType::Initial) continue;  // 0-RTT, Handshake: not for us

        const std::span<uint8_t> out = dec.scratch();
        Result<Opened> opened = make_error(Code::Unsupported, 0);
        const bool same_attempt = have_keys_ && h.version.version == version_;
        if (same_attempt) opened = dec.open(h, keys_, out);
        bool restarted = false;
        if (!opened && !(same_attempt && equal(h.dcid, original_dcid()))) {
            // First Initial, or a new attempt (Retry / Version Negotiation): keys from this
            // packet's own DCID.
            auto k = dec.derive_initial_keys(h.version.version, h.dcid, Perspective::Client);
            if (k) {
                opened = dec.open(h, *k, out);
                if (!opened && h.version.family == VersionFamily::Reserved) {
                    // tshark 4.0 treats reserved versions as draft-29 (its salt, "quic"
                    // labels); current Wireshark as v1 (tried above). The tag decides.
                    k = dec.derive_initial_keys(kVersionDraft29, h.dcid, Perspective::Client);
                    if (k) opened = dec.open(h, *k, out);
                }
                if (opened) {
                    restarted = have_keys_;
                    keys_ = *k;
                    version_ = h.version.version;
                    dcid_len_ = static_cast<uint8_t>(h.dcid.size());  // ≤ 20 (decode checked)
                    std::copy(h.dcid.begin(), h.dcid.end(), dcid_.begin());
                    have_keys_ = true;
                }
            }
        }
        if (!opened) {
            ++decrypt_failures_;
            anomalies_ |= bit(Anomaly::DecryptFailed);
            r.error = opened.error();
            continue;
        }
        if (restarted) {
            range_count_ = 0;
            anomalies_ |= bit(Anomaly::ConnectionRestarted);
        }
        ++initials_opened_;
        ++r.initials_opened;
        anomalies_ |= opened->anomalies;
        auto frames = gquic_tls ? parse_gquic_initial_frames(opened->payload)
                                : parse_initial_frames(opened->payload);
        if (!frames) {
            r.error = frames.error();
            continue;
        }
        anomalies_ |= frames->anomalies;
        for (const CryptoFrame& cf : frames->crypto) add_crypto(cf.offset, cf.data);
    }
    check_complete();
    return finish(r);
}

}  // namespace callwall::proto::quic
