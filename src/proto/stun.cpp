// STUN/TURN message decoder (header, attributes, FINGERPRINT). ChannelData and
// the stream framer are in stun_stream.cpp, the transaction tracker and the
// ChannelData validator in stun_track.cpp. See src/proto/stun.hpp
// for references and the variant table.
#include "proto/stun.hpp"
#include "proto/stun_detail.hpp"

#include <array>
#include <optional>

namespace callwall::proto::stun {
namespace {

// CRC-32 (reflected polynomial 0xEDB88320), "slicing-by-8": table k holds
// the CRC of a byte followed by k zero bytes, so 8 input bytes cost 8 lookups
// with no serial dependency between them (~4x the byte-wise loop; every ICE
// check carries a FINGERPRINT).
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;
constexpr CrcTables make_crc_tables() noexcept {
    CrcTables t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        t[0][i] = c;
    }
    for (size_t k = 1; k < 8; ++k) {
        for (size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFu];
    }
    return t;
}
constexpr CrcTables kCrc = make_crc_tables();

// RFC 8489 §5: the message type interleaves the class bits with the method.
//
//    0                 1
//    2  3  4 5 6 7 8 9 0 1 2 3 4 5
//   +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
//   |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
//   |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
//   +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
constexpr uint16_t method_of(uint16_t type) noexcept {
    return static_cast<uint16_t>((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
}
constexpr uint8_t class_of(uint16_t type) noexcept {
    return static_cast<uint8_t>(((type >> 7) & 0x2) | ((type >> 4) & 0x1));
}

// RFC 3489 §11.1: the only message types of classic STUN.
constexpr bool is_classic_type(uint16_t t) noexcept {
    return t == 0x0001 || t == 0x0101 || t == 0x0111 || t == 0x0002 || t == 0x0102 || t == 0x0112;
}

// A legacy [MS-TURN] Data Indication (type 0x0115, 128-bit transaction id, no
// RFC 5389 cookie) opens with the MAGIC-COOKIE attribute: type 0x000F,
// length 4, value 0x72C64BC6 (ndpi__teams.pcap frames 1416-1439, where
// tshark's classic-STUN dissector names it "Data Indication").
constexpr uint16_t kMsLegacyDataIndication = 0x0115;
bool opens_with_ms_cookie(ByteView b) noexcept {
    return b.size() >= kHeaderLen + 8 && load_u16(b, kHeaderLen) == attr::kMsMagicCookie &&
           load_u16(b, kHeaderLen + 2) == 4 && load_u32(b, kHeaderLen + 4) == kMsTurnMagicCookie;
}

// Walks attribute TLVs checking lengths only. Returns the offset (within
// `attrs`) where the walk failed, or attrs.size() when it ended exactly.
size_t validate_walk(ByteView attrs, bool padded) noexcept {
    Reader r(attrs);
    while (!r.empty()) {
        const size_t at = r.offset();
        (void)r.u16();
        const uint16_t len = r.u16();
        if (!r.ok()) return at;
        const size_t step = padded ? pad4(len) : len;
        if (!r.can_read(step)) {
            // RFC 8489 §14: the last attribute's padding is part of the
            // message; a message length that omits it is malformed, but the
            // unpadded walk (tried by the caller) may still fit.
            return at;
        }
        r.skip(step);
    }
    return attrs.size();
}

struct AddrResult {
    bool ok = false;
    Address a;
};

//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |0 0 0 0 0 0 0 0|    Family     |         (X-)Port              |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                 (X-)Address (32 bits or 128 bits)             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// XOR (RFC 8489 §14.2): port ^ top 16 bits of the cookie, IPv4 ^ cookie,
// IPv6 ^ (cookie || transaction id). `key` is header bytes 4..20, which is
// exactly that for RFC 5389 and the 128-bit id for classic/draft messages.
AddrResult parse_address(ByteView v, bool xored, ByteView key, uint32_t& anomalies) noexcept {
    AddrResult out;
    Reader r(v);
    (void)r.u8();
    const uint8_t family = r.u8();
    uint16_t port = r.u16();
    if (!r.ok()) {
        anomalies |= bit(Anomaly::BadAttributeLength);
        return out;
    }
    size_t alen = 0;
    if (family == 0x01) {
        alen = 4;
    } else if (family == 0x02) {
        alen = 16;
    } else {
        anomalies |= bit(Anomaly::BadAddressFamily);
        return out;
    }
    if (r.remaining() != alen) {
        anomalies |= bit(Anomaly::BadAttributeLength);
        return out;
    }
    const ByteView raw = r.bytes(alen);
    if (xored) port = static_cast<uint16_t>(port ^ ((key[0] << 8) | key[1]));
    out.a.family = family == 0x01 ? 4 : 6;
    out.a.port = port;
    for (size_t i = 0; i < alen; ++i) {
        out.a.addr[i] = static_cast<uint8_t>(raw[i] ^ (xored ? key[i] : 0));
    }
    out.ok = true;
    return out;
}

// One walk over a message's attributes: what was seen so far (order rules,
// duplicates, MS-TURN's swapped REALM/NONCE) and one handler per group of
// attribute types. Each handler returns false when the type is not its own.
class AttrWalk {
public:
    AttrWalk(ByteView msg, Message& m, bool plain_peer) noexcept
        : msg_(msg), key_(msg.subspan(4, 16)), m_(m), plain_peer_(plain_peer) {}

    void on_attribute(uint16_t type, ByteView v, size_t attr_off) noexcept {
        ++m_.attribute_count;
        m_.attribute_types.push_back(type);
        if (after_fingerprint_) m_.anomalies |= bit(Anomaly::AttributeAfterFingerprint);
        if (after_integrity_ && type != attr::kFingerprint && type != attr::kMessageIntegritySha256) {
            m_.anomalies |= bit(Anomaly::AttributeAfterIntegrity);
        }
        // Unknown attributes are skipped (RFC 8489 §14).
        if (!address(type, v) && !text(type, v) && !number(type, v)) integrity(type, v, attr_off);
    }

    void finish() noexcept {
        if (ms_turn_) {
            // [MS-TURN]: REALM and NONCE numbers are swapped.
            m_.realm = a15_.value_or(ByteView{});
            m_.nonce = a14_.value_or(ByteView{});
            if (m_.variant == Variant::Rfc5389) m_.variant = Variant::MsTurn;
        } else {
            m_.realm = a14_.value_or(ByteView{});
            m_.nonce = a15_.value_or(ByteView{});
        }
    }

private:
    bool once(bool already) noexcept {
        if (already) m_.anomalies |= bit(Anomaly::DuplicateAttribute);
        return !already;
    }

    bool address(uint16_t type, ByteView v) noexcept {
        switch (type) {
            case attr::kMappedAddress: {
                const AddrResult a = parse_address(v, false, key_, m_.anomalies);
                if (a.ok && once(m_.mapped_address.has_value())) m_.mapped_address = a.a;
                return true;
            }
            case attr::kXorMappedAddress:
            case attr::kMsXorMappedAddress: {
                // MS-TURN sends 0x8020 alongside or instead of 0x0020; the
                // first one seen wins and the other is not a duplicate.
                bool& seen = type == attr::kXorMappedAddress ? seen_xma_ : seen_ms_xma_;
                if (!once(seen)) return true;
                seen = true;
                const AddrResult a = parse_address(v, true, key_, m_.anomalies);
                if (a.ok && !m_.xor_mapped_address) m_.xor_mapped_address = a.a;
                return true;
            }
            case attr::kXorPeerAddress: {
                // Legacy MS-TURN: 0x0012 is REMOTE-ADDRESS, in the clear.
                const AddrResult a = parse_address(v, !plain_peer_, key_, m_.anomalies);
                if (a.ok) m_.xor_peer_addresses.push_back(a.a);
                return true;
            }
            case attr::kXorRelayedAddress: {
                const AddrResult a = parse_address(v, true, key_, m_.anomalies);
                if (a.ok) m_.xor_relayed_addresses.push_back(a.a);
                return true;
            }
            default: return false;
        }
    }

    bool text(uint16_t type, ByteView v) noexcept {
        switch (type) {
            case attr::kUsername:
                if (once(!m_.username.empty())) m_.username = v;
                return true;
            case attr::kRealm:
                if (!a14_)
                    a14_ = v;
                else
                    m_.anomalies |= bit(Anomaly::DuplicateAttribute);
                return true;
            case attr::kNonce:
                if (!a15_)
                    a15_ = v;
                else
                    m_.anomalies |= bit(Anomaly::DuplicateAttribute);
                return true;
            case attr::kSoftware:
                if (once(!m_.software.empty())) m_.software = v;
                return true;
            case attr::kData:
                if (once(m_.data.has_value())) m_.data = v;
                return true;
            case attr::kErrorCode: {
                //  0                   1                   2                   3
                //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
                // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
                // |           Reserved, should be 0         |Class|     Number    |
                // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
                // |      Reason Phrase (variable)                                ..
                if (v.size() < 4) {
                    m_.anomalies |= bit(Anomaly::BadAttributeLength);
                    return true;
                }
                if (once(m_.error_code.has_value())) {
                    ErrorCode e;
                    e.code = static_cast<uint16_t>((v[2] & 0x07) * 100 + v[3]);
                    e.reason = v.subspan(4);
                    m_.error_code = e;
                }
                return true;
            }
            default: return false;
        }
    }

    // Four-byte values: CHANNEL-NUMBER, LIFETIME, REQUESTED-TRANSPORT.
    bool number(uint16_t type, ByteView v) noexcept {
        if (type != attr::kChannelNumber && type != attr::kLifetime && type != attr::kRequestedTransport) {
            return false;
        }
        if (v.size() != 4) {
            m_.anomalies |= bit(Anomaly::BadAttributeLength);
        } else if (type == attr::kChannelNumber) {
            if (once(m_.channel_number.has_value())) m_.channel_number = load_u16(v, 0);
        } else if (type == attr::kLifetime) {
            if (once(m_.lifetime_s.has_value())) m_.lifetime_s = load_u32(v, 0);
        } else if (once(m_.requested_transport.has_value())) {
            m_.requested_transport = v[0];
        }
        return true;
    }

    // MESSAGE-INTEGRITY(-SHA256), FINGERPRINT and the MS-TURN magic cookie.
    void integrity(uint16_t type, ByteView v, size_t attr_off) noexcept {
        switch (type) {
            case attr::kMessageIntegrity:
                if (v.size() != 20) m_.anomalies |= bit(Anomaly::BadAttributeLength);
                if (once(m_.message_integrity)) m_.message_integrity = true;
                after_integrity_ = true;
                break;
            case attr::kMessageIntegritySha256:
                // RFC 8489 §14.6: 16..32 bytes, multiple of 4.
                if (v.size() < 16 || v.size() > 32 || v.size() % 4 != 0) {
                    m_.anomalies |= bit(Anomaly::BadAttributeLength);
                }
                m_.message_integrity_sha256 = true;
                after_integrity_ = true;
                break;
            case attr::kFingerprint: fingerprint(v, attr_off); break;
            case attr::kMsMagicCookie:
                if (v.size() == 4 && load_u32(v, 0) == kMsTurnMagicCookie) ms_turn_ = true;
                break;
            default: break;
        }
    }

    void fingerprint(ByteView v, size_t attr_off) noexcept {
        if (v.size() != 4) {
            m_.anomalies |= bit(Anomaly::BadAttributeLength);
            return;
        }
        if (!once(m_.fingerprint)) return;
        m_.fingerprint = true;
        after_fingerprint_ = true;
        // CRC over the message up to this attribute, with the header length as
        // it was when FINGERPRINT was appended (= the real length when
        // FINGERPRINT is last, as it must be).
        const uint16_t len_then = static_cast<uint16_t>(attr_off + 8 - kHeaderLen);
        const uint8_t len_bytes[2] = {static_cast<uint8_t>(len_then >> 8), static_cast<uint8_t>(len_then & 0xFF)};
        uint32_t crc = crc32(msg_.subspan(0, 2));
        crc = crc32(ByteView{len_bytes, 2}, crc);
        crc = crc32(msg_.subspan(4, attr_off - 4), crc);
        m_.fingerprint_ok = (crc ^ kFingerprintXor) == load_u32(v, 0);
        if (!m_.fingerprint_ok) m_.anomalies |= bit(Anomaly::FingerprintMismatch);
    }

    ByteView msg_;
    ByteView key_;  ///< magic cookie + transaction id: the XOR key of addresses
    Message& m_;
    bool plain_peer_ = false;
    bool after_integrity_ = false;
    bool after_fingerprint_ = false;
    bool ms_turn_ = false;
    bool seen_xma_ = false;
    bool seen_ms_xma_ = false;
    std::optional<ByteView> a14_;  ///< attribute 0x0014 (REALM, or NONCE in MS-TURN)
    std::optional<ByteView> a15_;  ///< attribute 0x0015 (NONCE, or REALM in MS-TURN)
};

bool parse_attributes(ByteView msg, size_t attrs_len, bool padded, Message& m, bool plain_peer = false) noexcept {
    Reader r(msg.subspan(kHeaderLen, attrs_len));
    AttrWalk walk(msg, m, plain_peer);
    while (!r.empty()) {
        const size_t attr_off = kHeaderLen + r.offset();
        const uint16_t type = r.u16();
        const uint16_t len = r.u16();
        const ByteView v = r.bytes(len);
        if (padded) {
            const ByteView pad = r.bytes(pad4(len) - len);
            for (uint8_t p : pad) {
                if (p != 0) m.anomalies |= bit(Anomaly::NonZeroPadding);
            }
        }
        if (!r.ok()) return false;  // validate_walk() said it fits
        walk.on_attribute(type, v, attr_off);
    }
    walk.finish();
    return true;
}

}  // namespace

uint32_t crc32(ByteView bytes, uint32_t crc) noexcept {
    uint32_t c = ~crc;
    const uint8_t* p = bytes.data();
    size_t n = bytes.size();
    for (; n >= 8; n -= 8, p += 8) {
        const uint32_t one =
            c ^ (uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24));
        c = kCrc[7][one & 0xFFu] ^ kCrc[6][(one >> 8) & 0xFFu] ^ kCrc[5][(one >> 16) & 0xFFu] ^ kCrc[4][one >> 24] ^
            kCrc[3][p[4]] ^ kCrc[2][p[5]] ^ kCrc[1][p[6]] ^ kCrc[0][p[7]];
    }
    for (; n > 0; --n, ++p) c = kCrc[0][(c ^ *p) & 0xFFu] ^ (c >> 8);
    return ~c;
}

// RFC 8489 §5 header:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |0 0|     STUN Message Type     |         Message Length        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Magic Cookie                          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                                                               |
//  |                     Transaction ID (96 bits)                  |
//  |                                                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Attributes (§14), each padded to 4 bytes; Length excludes the padding:
//
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |         Type                  |            Length             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Value (variable)                ....
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Result<Message> decode(ByteView b) noexcept {
    using E = DecodeErrorCode;
    const size_t n = b.size();
    // RFC 7983/9443: STUN's first byte is 0..3. That is the "0 0" prefix plus
    // methods <= 0xFF (0x100-0xFFF are reserved for DTLS-SRTP demux).
    if (n == 0 || b[0] > 3) return make_error(E::NotThisProtocol, 0);
    if (n < 8) return make_error(E::Truncated, n);

    Message m;
    m.type = load_u16(b, 0);
    m.length = load_u16(b, 2);
    m.method = static_cast<Method>(method_of(m.type));
    m.msg_class = static_cast<MessageClass>(class_of(m.type));

    if (load_u32(b, 4) == kMagicCookie) {
        if (n < kHeaderLen) return make_error(E::Truncated, n);
        if (kHeaderLen + size_t{m.length} > n) return make_error(E::Truncated, 2);
        m.variant = Variant::Rfc5389;
        m.transaction_id = b.subspan(8, 12);
        const ByteView attrs = b.subspan(kHeaderLen, m.length);
        bool padded = true;
        const size_t fail = validate_walk(attrs, true);
        if (fail != attrs.size()) {
            if (validate_walk(attrs, false) != attrs.size()) {
                return make_error(E::Malformed, kHeaderLen + fail);
            }
            padded = false;
            m.anomalies |= bit(Anomaly::UnpaddedAttributes);
        }
        if (m.length % 4 != 0) m.anomalies |= bit(Anomaly::LengthNotMultipleOf4);
        if (!parse_attributes(b, m.length, padded, m)) return make_error(E::Malformed, kHeaderLen);
    } else {
        // Classic RFC 3489, or a legacy MS-TURN Data Indication: no cookie, so
        // accept only when everything fits.
        const bool ms_data = m.type == kMsLegacyDataIndication && opens_with_ms_cookie(b);
        if (n < kHeaderLen || !(is_classic_type(m.type) || ms_data) || m.length % 4 != 0 ||
            kHeaderLen + size_t{m.length} != n) {
            return make_error(E::NotThisProtocol, 0);
        }
        const ByteView attrs = b.subspan(kHeaderLen, m.length);
        if (validate_walk(attrs, false) != attrs.size()) return make_error(E::NotThisProtocol, 0);
        m.variant = ms_data ? Variant::MsTurn : Variant::Classic3489;
        m.transaction_id = b.subspan(4, 16);
        if (ms_data) {  // by its name, not its bits (which read method 5, error response)
            m.method = Method::Data;
            m.msg_class = MessageClass::Indication;
        }
        if (!parse_attributes(b, m.length, false, m, ms_data)) return make_error(E::NotThisProtocol, 0);
    }
    m.size = static_cast<uint32_t>(kHeaderLen + m.length);
    if (n > m.size) m.anomalies |= bit(Anomaly::TrailingBytes);
    return m;
}

bool is_ice_check(const Message& m) noexcept {
    if (m.method != Method::Binding || m.msg_class != MessageClass::Request) return false;
    for (uint16_t t : m.attribute_types)
        if (t == attr::kPriority || t == attr::kIceControlled || t == attr::kIceControlling) return true;
    return false;
}

bool probe(ByteView b) noexcept {
    if (b.size() < kHeaderLen || b[0] > 3) return false;
    if (load_u32(b, 4) == kMagicCookie) return kHeaderLen + size_t{load_u16(b, 2)} <= b.size();
    return decode(b).ok();  // classic: the strict checks are the probe
}

std::string_view to_string(Method m) noexcept {
    switch (m) {
        case Method::Binding: return "Binding";
        case Method::SharedSecret: return "SharedSecret";
        case Method::Allocate: return "Allocate";
        case Method::Refresh: return "Refresh";
        case Method::Send: return "Send";
        case Method::Data: return "Data";
        case Method::CreatePermission: return "CreatePermission";
        case Method::ChannelBind: return "ChannelBind";
        case Method::Connect: return "Connect";
        case Method::ConnectionBind: return "ConnectionBind";
        case Method::ConnectionAttempt: return "ConnectionAttempt";
        case Method::GoogPing: return "GOOG-PING";
    }
    return "";
}

std::string_view to_string(MessageClass c) noexcept {
    switch (c) {
        case MessageClass::Request: return "Request";
        case MessageClass::Indication: return "Indication";
        case MessageClass::SuccessResponse: return "SuccessResponse";
        case MessageClass::ErrorResponse: return "ErrorResponse";
    }
    return "";
}

std::string_view attribute_name(uint16_t type) noexcept {
    switch (type) {
        case 0x0001: return "MAPPED-ADDRESS";
        case 0x0002: return "RESPONSE-ADDRESS";
        case 0x0003: return "CHANGE-REQUEST";
        case 0x0004: return "SOURCE-ADDRESS";
        case 0x0005: return "CHANGED-ADDRESS";
        case 0x0006: return "USERNAME";
        case 0x0007: return "PASSWORD";
        case 0x0008: return "MESSAGE-INTEGRITY";
        case 0x0009: return "ERROR-CODE";
        case 0x000A: return "UNKNOWN-ATTRIBUTES";
        case 0x000B: return "REFLECTED-FROM";
        case 0x000C: return "CHANNEL-NUMBER";
        case 0x000D: return "LIFETIME";
        case 0x000F: return "MAGIC-COOKIE";
        case 0x0010: return "BANDWIDTH";
        case 0x0012: return "XOR-PEER-ADDRESS";
        case 0x0013: return "DATA";
        case 0x0014: return "REALM";
        case 0x0015: return "NONCE";
        case 0x0016: return "XOR-RELAYED-ADDRESS";
        case 0x0017: return "REQUESTED-ADDRESS-FAMILY";
        case 0x0018: return "EVEN-PORT";
        case 0x0019: return "REQUESTED-TRANSPORT";
        case 0x001A: return "DONT-FRAGMENT";
        case 0x001C: return "MESSAGE-INTEGRITY-SHA256";
        case 0x001D: return "PASSWORD-ALGORITHM";
        case 0x001E: return "USERHASH";
        case 0x0020: return "XOR-MAPPED-ADDRESS";
        case 0x0022: return "RESERVATION-TOKEN";
        case 0x0024: return "PRIORITY";
        case 0x0025: return "USE-CANDIDATE";
        case 0x0026: return "PADDING";
        case 0x0027: return "RESPONSE-PORT";
        case 0x002A: return "CONNECTION-ID";
        case 0x8000: return "ADDITIONAL-ADDRESS-FAMILY";
        case 0x8001: return "ADDRESS-ERROR-CODE";
        case 0x8002: return "PASSWORD-ALGORITHMS";
        case 0x8003: return "ALTERNATE-DOMAIN";
        case 0x8004: return "ICMP";
        case 0x8008: return "MS-VERSION";
        case 0x8020: return "XOR-MAPPED-ADDRESS";
        case 0x8022: return "SOFTWARE";
        case 0x8023: return "ALTERNATE-SERVER";
        case 0x8025: return "TRANSACTION_TRANSMIT_COUNTER";
        case 0x8027: return "CACHE-TIMEOUT";
        case 0x8028: return "FINGERPRINT";
        case 0x8029: return "ICE-CONTROLLED";
        case 0x802A: return "ICE-CONTROLLING";
        case 0x802B: return "RESPONSE-ORIGIN";
        case 0x802C: return "OTHER-ADDRESS";
        case 0x8050: return "MS-SEQUENCE-NUMBER";
        case 0x8054: return "CANDIDATE-IDENTIFIER";
        case 0x8055: return "MS-SERVICE-QUALITY";
        case 0x8070: return "MS-IMPLEMENTATION-VERSION";
        case 0xC057: return "GOOG-NETWORK-INFO";
        case 0xC059: return "GOOG-MISC-INFO";
        default: return "";
    }
}

}  // namespace callwall::proto::stun
