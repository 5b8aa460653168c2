// STUN/TURN decoder, ChannelData, stream framer, transaction tracker and
// ChannelData validator. See include/callwall/proto/stun.hpp for references
// and the variant table.
#include "callwall/proto/stun.hpp"

#include <algorithm>
#include <cstring>

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

constexpr size_t pad4(size_t n) noexcept { return (n + 3u) & ~size_t{3}; }

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

bool parse_attributes(ByteView msg, size_t attrs_len, bool padded, Message& m) noexcept {
    const ByteView key = msg.subspan(4, 16);
    Reader r(msg.subspan(kHeaderLen, attrs_len));
    bool after_integrity = false;
    bool after_fingerprint = false;
    bool ms_turn = false;
    bool seen_xma = false;
    bool seen_ms_xma = false;
    std::optional<ByteView> a14;
    std::optional<ByteView> a15;
    auto once = [&m](bool already) {
        if (already) m.anomalies |= bit(Anomaly::DuplicateAttribute);
        return !already;
    };
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

        ++m.attribute_count;
        m.attribute_types.push_back(type);
        if (after_fingerprint) m.anomalies |= bit(Anomaly::AttributeAfterFingerprint);
        if (after_integrity && type != attr::kFingerprint && type != attr::kMessageIntegritySha256) {
            m.anomalies |= bit(Anomaly::AttributeAfterIntegrity);
        }

        switch (type) {
            case attr::kMappedAddress: {
                const AddrResult a = parse_address(v, false, key, m.anomalies);
                if (a.ok && once(m.mapped_address.has_value())) m.mapped_address = a.a;
                break;
            }
            case attr::kXorMappedAddress:
            case attr::kMsXorMappedAddress: {
                // MS-TURN sends 0x8020 alongside or instead of 0x0020; the
                // first one seen wins and the other is not a duplicate.
                bool& seen = type == attr::kXorMappedAddress ? seen_xma : seen_ms_xma;
                if (!once(seen)) break;
                seen = true;
                const AddrResult a = parse_address(v, true, key, m.anomalies);
                if (a.ok && !m.xor_mapped_address) m.xor_mapped_address = a.a;
                break;
            }
            case attr::kXorPeerAddress: {
                const AddrResult a = parse_address(v, true, key, m.anomalies);
                if (a.ok) m.xor_peer_addresses.push_back(a.a);
                break;
            }
            case attr::kXorRelayedAddress: {
                const AddrResult a = parse_address(v, true, key, m.anomalies);
                if (a.ok) m.xor_relayed_addresses.push_back(a.a);
                break;
            }
            case attr::kUsername:
                if (once(!m.username.empty())) m.username = v;
                break;
            case attr::kRealm:
                if (!a14) a14 = v; else m.anomalies |= bit(Anomaly::DuplicateAttribute);
                break;
            case attr::kNonce:
                if (!a15) a15 = v; else m.anomalies |= bit(Anomaly::DuplicateAttribute);
                break;
            case attr::kSoftware:
                if (once(!m.software.empty())) m.software = v;
                break;
            case attr::kErrorCode: {
                //  0                   1                   2                   3
                //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
                // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
                // |           Reserved, should be 0         |Class|     Number    |
                // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
                // |      Reason Phrase (variable)                                ..
                if (v.size() < 4) {
                    m.anomalies |= bit(Anomaly::BadAttributeLength);
                    break;
                }
                if (once(m.error_code.has_value())) {
                    ErrorCode e;
                    e.code = static_cast<uint16_t>((v[2] & 0x07) * 100 + v[3]);
                    e.reason = v.subspan(4);
                    m.error_code = e;
                }
                break;
            }
            case attr::kChannelNumber:
                if (v.size() != 4) {
                    m.anomalies |= bit(Anomaly::BadAttributeLength);
                } else if (once(m.channel_number.has_value())) {
                    m.channel_number = load_u16(v, 0);
                }
                break;
            case attr::kLifetime:
                if (v.size() != 4) {
                    m.anomalies |= bit(Anomaly::BadAttributeLength);
                } else if (once(m.lifetime_s.has_value())) {
                    m.lifetime_s = load_u32(v, 0);
                }
                break;
            case attr::kRequestedTransport:
                if (v.size() != 4) {
                    m.anomalies |= bit(Anomaly::BadAttributeLength);
                } else if (once(m.requested_transport.has_value())) {
                    m.requested_transport = v[0];
                }
                break;
            case attr::kData:
                if (once(m.data.has_value())) m.data = v;
                break;
            case attr::kMessageIntegrity:
                if (v.size() != 20) m.anomalies |= bit(Anomaly::BadAttributeLength);
                if (once(m.message_integrity)) m.message_integrity = true;
                after_integrity = true;
                break;
            case attr::kMessageIntegritySha256:
                // RFC 8489 §14.6: 16..32 bytes, multiple of 4.
                if (v.size() < 16 || v.size() > 32 || v.size() % 4 != 0) {
                    m.anomalies |= bit(Anomaly::BadAttributeLength);
                }
                m.message_integrity_sha256 = true;
                after_integrity = true;
                break;
            case attr::kFingerprint: {
                if (v.size() != 4) {
                    m.anomalies |= bit(Anomaly::BadAttributeLength);
                    break;
                }
                if (!once(m.fingerprint)) break;
                m.fingerprint = true;
                after_fingerprint = true;
                // CRC over the message up to this attribute, with the header
                // length as it was when FINGERPRINT was appended (= the real
                // length when FINGERPRINT is last, as it must be).
                const uint16_t len_then = static_cast<uint16_t>(attr_off + 8 - kHeaderLen);
                const uint8_t len_bytes[2] = {static_cast<uint8_t>(len_then >> 8),
                                              static_cast<uint8_t>(len_then & 0xFF)};
                uint32_t crc = crc32(msg.subspan(0, 2));
                crc = crc32(ByteView{len_bytes, 2}, crc);
                crc = crc32(msg.subspan(4, attr_off - 4), crc);
                m.fingerprint_ok = (crc ^ kFingerprintXor) == load_u32(v, 0);
                if (!m.fingerprint_ok) m.anomalies |= bit(Anomaly::FingerprintMismatch);
                break;
            }
            case attr::kMsMagicCookie:
                if (v.size() == 4 && load_u32(v, 0) == kMsTurnMagicCookie) ms_turn = true;
                break;
            default:
                break;  // unknown attributes are skipped (RFC 8489 §14)
        }
    }
    if (ms_turn) {
        // [MS-TURN]: REALM and NONCE numbers are swapped.
        m.realm = a15.value_or(ByteView{});
        m.nonce = a14.value_or(ByteView{});
        if (m.variant == Variant::Rfc5389) m.variant = Variant::MsTurn;
    } else {
        m.realm = a14.value_or(ByteView{});
        m.nonce = a15.value_or(ByteView{});
    }
    return true;
}

}  // namespace

uint32_t crc32(ByteView bytes, uint32_t crc) noexcept {
    uint32_t c = ~crc;
    const uint8_t* p = bytes.data();
    size_t n = bytes.size();
    for (; n >= 8; n -= 8, p += 8) {
        const uint32_t one = c ^ (uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
                                  (uint32_t{p[3]} << 24));
        c = kCrc[7][one & 0xFFu] ^ kCrc[6][(one >> 8) & 0xFFu] ^ kCrc[5][(one >> 16) & 0xFFu] ^
            kCrc[4][one >> 24] ^ kCrc[3][p[4]] ^ kCrc[2][p[5]] ^ kCrc[1][p[6]] ^ kCrc[0][p[7]];
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
        // Classic RFC 3489: no cookie, so accept only when everything fits.
        if (n < kHeaderLen || !is_classic_type(m.type) || m.length % 4 != 0 ||
            kHeaderLen + size_t{m.length} != n) {
            return make_error(E::NotThisProtocol, 0);
        }
        const ByteView attrs = b.subspan(kHeaderLen, m.length);
        if (validate_walk(attrs, false) != attrs.size()) return make_error(E::NotThisProtocol, 0);
        m.variant = Variant::Classic3489;
        m.transaction_id = b.subspan(4, 16);
        if (!parse_attributes(b, m.length, false, m)) return make_error(E::NotThisProtocol, 0);
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

// ---------------------------------------------------------------------------

Result<ChannelData> decode_channel_data(ByteView b, bool over_tcp) noexcept {
    using E = DecodeErrorCode;
    const size_t n = b.size();
    if (n == 0) return make_error(E::NotThisProtocol, 0);
    const bool rfc = (b[0] & 0xC0) == 0x40;
    if (!rfc && b[0] != 0xFF) return make_error(E::NotThisProtocol, 0);
    if (!rfc && n >= 2 && load_u16(b, 0) != kMsMultiplexedChannel) {
        return make_error(E::NotThisProtocol, 0);
    }
    if (n < kChannelHeaderLen) return make_error(E::Truncated, n);

    ChannelData cd;
    cd.channel = load_u16(b, 0);
    cd.length = load_u16(b, 2);
    const size_t data_end = kChannelHeaderLen + cd.length;
    if (data_end > n) return make_error(E::Truncated, 2);

    if (rfc) {
        // RFC 8656 §12.4: padded to 4 over TCP; over UDP padding is optional.
        cd.kind = ChannelKind::Rfc;
        if (cd.channel > 0x4FFF) cd.anomalies |= bit(Anomaly::ReservedChannel);
        const size_t padded = pad4(data_end);
        if (over_tcp) {
            if (padded > n) return make_error(E::Truncated, n);
            cd.size = static_cast<uint32_t>(padded);
        } else {
            if (n > padded) return make_error(E::Malformed, 2);
            cd.size = static_cast<uint32_t>(n);
        }
        cd.payload = b.subspan(kChannelHeaderLen, cd.length);
        return cd;
    }

    //  0                   1                   2                   3
    //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |      Channel_ID (0xFF10)      |            Length             |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                   MTURN_Session_ID (8 bytes)                  |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                         Data (variable)                     ...
    // [MS-TURN]: Length counts everything after the Length field.
    cd.kind = ChannelKind::MsMultiplexed;
    if (cd.length < kMsSessionIdLen) return make_error(E::Malformed, 2);
    if (!over_tcp && n != data_end) return make_error(E::Malformed, 2);
    cd.session_id = b.subspan(kChannelHeaderLen, kMsSessionIdLen);
    cd.payload = b.subspan(kChannelHeaderLen + kMsSessionIdLen, cd.length - kMsSessionIdLen);
    cd.size = static_cast<uint32_t>(data_end);
    return cd;
}

// ---------------------------------------------------------------------------
// StreamFramer

StreamFramer::Head StreamFramer::inspect(ByteView h) noexcept {
    Head out;
    const size_t n = h.size();
    if (framing_ == StreamFraming::Unknown) {
        // Decide the framing on the first frame. RFC 6544 §3: ICE-TCP puts
        // a 16-bit length before each packet, so the cookie sits at 6.
        if (n >= 10 && load_u32(h, 6) == kMagicCookie && h[2] <= 3) {
            framing_ = StreamFraming::Rfc4571;
        } else if (n >= 8 && load_u32(h, 4) == kMagicCookie && h[0] <= 3) {
            framing_ = StreamFraming::Direct;
        } else if ((h[0] & 0xC0) == 0x40) {
            // A capture may start mid-stream with ChannelData, but text
            // protocols look alike ("GET " = channel 0x4745, length 0x2F20):
            // at stream start only an RFC 8656 channel with a plausible length.
            if (n < 4) return out;
            if (h[0] > 0x4F || load_u16(h, 2) > kMaxFirstChannelData) {
                out.need = Need::GiveUp;
                reason_ = GiveUpReason::NotStunFramed;
                return out;
            }
            framing_ = StreamFraming::Direct;
        } else if (n >= 2 && load_u16(h, 0) == kMsMultiplexedChannel) {
            framing_ = StreamFraming::Direct;
        } else if (n < 10) {
            return out;  // More
        } else {
            out.need = Need::GiveUp;
            reason_ = GiveUpReason::NotStunFramed;
            return out;
        }
    }

    if (framing_ == StreamFraming::Rfc4571) {
        if (n < 2) return out;
        const uint16_t len = load_u16(h, 0);
        if (len == 0) {
            out.need = Need::GiveUp;
            reason_ = GiveUpReason::BadLength;
            return out;
        }
        out.need = Need::Frame;
        out.kind = FrameKind::Rfc4571Payload;  // refined once complete
        out.frame_len = 2u + len;
        out.skip_front = 2;
        return out;
    }

    // Direct framing (RFC 8656 §12.5): the first two bits tell STUN (00) and
    // ChannelData (01) apart; [MS-TURN] adds 0xFF10.
    if (n < 1) return out;
    const uint8_t b0 = h[0];
    if (b0 <= 3) {
        if (n < 8) return out;
        if (load_u32(h, 4) != kMagicCookie) {
            out.need = Need::GiveUp;
            reason_ = GiveUpReason::NotStunFramed;
            return out;
        }
        const uint16_t len = load_u16(h, 2);
        if (len % 4 != 0) {
            out.need = Need::GiveUp;
            reason_ = GiveUpReason::BadLength;
            return out;
        }
        out.need = Need::Frame;
        out.kind = FrameKind::Stun;
        out.frame_len = kHeaderLen + len;
        return out;
    }
    if ((b0 & 0xC0) == 0x40) {
        if (n < 4) return out;
        out.need = Need::Frame;
        out.kind = FrameKind::ChannelData;
        out.frame_len = pad4(kChannelHeaderLen + load_u16(h, 2));
        return out;
    }
    if (b0 == 0xFF) {
        if (n < 2) return out;
        if (load_u16(h, 0) == kMsMultiplexedChannel) {
            if (n < 4) return out;
            out.need = Need::Frame;
            out.kind = FrameKind::MsMultiplexed;
            out.frame_len = kChannelHeaderLen + load_u16(h, 2);
            return out;
        }
    }
    out.need = Need::GiveUp;
    reason_ = GiveUpReason::NotStunFramed;
    return out;
}

void StreamFramer::stash_segment() noexcept {
    const size_t room = buf_.size() - buf_len_;
    const size_t k = std::min(room, seg_.size());
    if (k > 0) std::memcpy(buf_.data() + buf_len_, seg_.data(), k);
    buf_len_ += k;
    seg_ = seg_.subspan(k);
}

void StreamFramer::feed(ByteView bytes) noexcept {
    if (consumed_ > 0) {
        std::memmove(buf_.data(), buf_.data() + consumed_, buf_len_ - consumed_);
        buf_len_ -= consumed_;
        consumed_ = 0;
    }
    if (gave_up()) return;
    if (buf_.size() < kMinBuffer) {
        reason_ = GiveUpReason::BufferFull;
        return;
    }
    if (!seg_.empty()) {
        // Caller fed again without draining: keep the bytes if they fit.
        stash_segment();
        if (!seg_.empty()) {
            reason_ = GiveUpReason::BufferFull;
            return;
        }
    }
    seg_ = bytes;
}

std::optional<Frame> StreamFramer::next() noexcept {
    if (consumed_ > 0) {
        std::memmove(buf_.data(), buf_.data() + consumed_, buf_len_ - consumed_);
        buf_len_ -= consumed_;
        consumed_ = 0;
    }
    while (!gave_up()) {
        if (skip_ > 0) {
            const size_t drop = std::min(skip_, seg_.size());
            seg_ = seg_.subspan(drop);
            skip_ -= drop;
            if (skip_ > 0) return std::nullopt;
        }
        const bool from_buf = buf_len_ > 0;
        const ByteView head = from_buf ? ByteView{buf_.data(), buf_len_} : seg_;
        if (head.empty()) return std::nullopt;
        const Head hd = inspect(head);
        if (hd.need == Need::GiveUp) return std::nullopt;
        if (hd.need == Need::More) {
            // Pull just enough to read a header; never more than one header's
            // worth, so a tiny frame's successor stays in the segment.
            if (from_buf) {
                const size_t want = kMinBuffer > buf_len_ ? kMinBuffer - buf_len_ : 0;
                const size_t k = std::min({want, seg_.size(), buf_.size() - buf_len_});
                if (k == 0) return std::nullopt;
                std::memcpy(buf_.data() + buf_len_, seg_.data(), k);
                buf_len_ += k;
                seg_ = seg_.subspan(k);
                continue;
            }
            stash_segment();
            return std::nullopt;
        }
        // A complete header: hd.frame_len bytes make the frame.
        if (hd.frame_len > buf_.size() && hd.frame_len > head.size()) {
            // Too large to reassemble: skip it, keep sync.
            ++oversize_skipped_;
            if (from_buf) {
                skip_ = hd.frame_len - buf_len_;
                buf_len_ = 0;
            } else {
                skip_ = hd.frame_len - seg_.size();
                seg_ = {};
            }
            continue;
        }
        ByteView whole;
        if (from_buf) {
            if (buf_len_ < hd.frame_len) {
                const size_t k = std::min(hd.frame_len - buf_len_, seg_.size());
                std::memcpy(buf_.data() + buf_len_, seg_.data(), k);
                buf_len_ += k;
                seg_ = seg_.subspan(k);
                if (buf_len_ < hd.frame_len) return std::nullopt;
            }
            whole = ByteView{buf_.data(), hd.frame_len};
            consumed_ = hd.frame_len;
        } else {
            if (seg_.size() < hd.frame_len) {
                stash_segment();
                return std::nullopt;
            }
            whole = seg_.first(hd.frame_len);
            seg_ = seg_.subspan(hd.frame_len);
        }
        Frame f;
        f.kind = hd.kind;
        f.bytes = whole.subspan(hd.skip_front);
        if (hd.kind == FrameKind::Rfc4571Payload && f.bytes.size() >= 8 && f.bytes[0] <= 3 &&
            load_u32(f.bytes, 4) == kMagicCookie) {
            f.kind = FrameKind::Stun;
        }
        ++frames_;
        return f;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// TransactionTracker

namespace {
constexpr size_t method_index(uint16_t m) noexcept { return m < kTrackedMethods ? m : 0; }

bool same_id(const PendingTransaction& p, ByteView id) noexcept {
    return p.id_len == id.size() && std::memcmp(p.id.data(), id.data(), id.size()) == 0;
}
}  // namespace

void TransactionTracker::count_unanswered(PendingTransaction& p) noexcept {
    if (p.state == PendingTransaction::kPending) {
        ++stats_.unanswered;
        ++stats_.unanswered_by_method[method_index(p.method)];
    }
    p = PendingTransaction{};
}

TrackResult TransactionTracker::on_message(const Message& m, uint64_t ts_us) noexcept {
    TrackResult res;
    res.method = static_cast<uint16_t>(m.method);
    const ByteView id = m.transaction_id;
    if (id.empty() || id.size() > 16) return res;

    PendingTransaction* found = nullptr;
    for (auto& p : slots_) {
        if (p.state != PendingTransaction::kFree && p.method == res.method && same_id(p, id)) {
            found = &p;
            break;
        }
    }

    switch (m.msg_class) {
        case MessageClass::Indication:
            res.event = TrackEvent::Indication;
            return res;
        case MessageClass::Request: {
            if (found != nullptr) {
                ++found->retransmissions;
                ++stats_.retransmissions;
                res.event = TrackEvent::Retransmission;
                return res;
            }
            PendingTransaction* slot = nullptr;
            PendingTransaction* oldest_answered = nullptr;
            PendingTransaction* oldest = nullptr;
            for (auto& p : slots_) {
                if (p.state == PendingTransaction::kFree) {
                    slot = &p;
                    break;
                }
                if (p.state == PendingTransaction::kAnswered &&
                    (oldest_answered == nullptr || p.first_seen_us < oldest_answered->first_seen_us)) {
                    oldest_answered = &p;
                }
                if (oldest == nullptr || p.first_seen_us < oldest->first_seen_us) oldest = &p;
            }
            if (slot == nullptr) slot = oldest_answered;
            if (slot == nullptr && oldest != nullptr) {
                ++stats_.evicted;
                slot = oldest;
            }
            ++stats_.requests;
            ++stats_.requests_by_method[method_index(res.method)];
            res.event = TrackEvent::Request;
            if (slot == nullptr) return res;  // zero-size table: count only
            *slot = PendingTransaction{};
            std::memcpy(slot->id.data(), id.data(), id.size());
            slot->id_len = static_cast<uint8_t>(id.size());
            slot->method = res.method;
            slot->state = PendingTransaction::kPending;
            slot->first_seen_us = ts_us;
            return res;
        }
        case MessageClass::SuccessResponse:
        case MessageClass::ErrorResponse: {
            const bool error = m.msg_class == MessageClass::ErrorResponse;
            if (error) {
                res.error_code = m.error_code ? m.error_code->code : 0;
                ++stats_.errors_by_method[method_index(res.method)];
                bool counted = false;
                for (auto& ec : stats_.error_codes) {
                    if (ec.code == res.error_code) {
                        ++ec.count;
                        counted = true;
                    }
                }
                if (!counted) stats_.error_codes.push_back(ErrorCount{res.error_code, 1});
            }
            if (found == nullptr) {
                ++stats_.unmatched_responses;
                res.event = TrackEvent::UnmatchedResponse;
                return res;
            }
            if (found->state == PendingTransaction::kAnswered) {
                ++stats_.duplicate_responses;
                res.event = TrackEvent::DuplicateResponse;
                return res;
            }
            found->state = PendingTransaction::kAnswered;
            res.rtt_us = ts_us >= found->first_seen_us ? ts_us - found->first_seen_us : 0;
            if (error) {
                ++stats_.error_answered;
                res.event = TrackEvent::ErrorAnswered;
            } else {
                ++stats_.answered;
                res.event = TrackEvent::Answered;
            }
            return res;
        }
    }
    return res;
}

void TransactionTracker::expire(uint64_t now_us, uint64_t timeout_us) noexcept {
    for (auto& p : slots_) {
        if (p.state != PendingTransaction::kFree && now_us >= p.first_seen_us &&
            now_us - p.first_seen_us >= timeout_us) {
            count_unanswered(p);
        }
    }
}

void TransactionTracker::finish() noexcept {
    for (auto& p : slots_) {
        if (p.state != PendingTransaction::kFree) count_unanswered(p);
    }
}

size_t TransactionTracker::outstanding() const noexcept {
    size_t n = 0;
    for (const auto& p : slots_) n += p.state == PendingTransaction::kPending ? 1 : 0;
    return n;
}

// ---------------------------------------------------------------------------
// ChannelValidator

void ChannelValidator::on_message(const Message& m) noexcept {
    if (m.method == Method::ChannelBind && m.channel_number &&
        (m.msg_class == MessageClass::Request || m.msg_class == MessageClass::SuccessResponse)) {
        bind(*m.channel_number);
    }
}

void ChannelValidator::bind(uint16_t channel) noexcept {
    if (channel < 0x4000 || channel > 0x7FFF || is_accepted(channel)) return;
    accepted_.push_back(channel);
    for (auto& c : candidates_) {
        if (c.channel == channel) c = Candidate{};
    }
}

bool ChannelValidator::is_accepted(uint16_t channel) const noexcept {
    for (uint16_t c : accepted_) {
        if (c == channel) return true;
    }
    return false;
}

void ChannelValidator::on_other_datagram() noexcept {
    for (auto& c : candidates_) c = Candidate{};
}

ChannelVerdict ChannelValidator::on_datagram(ByteView datagram) noexcept {
    const auto cd = decode_channel_data(datagram, false);
    if (!cd || cd->kind != ChannelKind::Rfc) {
        on_other_datagram();
        return ChannelVerdict::Rejected;
    }
    const uint16_t ch = cd->channel;
    if (is_accepted(ch)) return ChannelVerdict::Accepted;
    if (ch > 0x4FFF) {
        on_other_datagram();
        return ChannelVerdict::Rejected;
    }
    for (auto& c : candidates_) {
        if (c.streak > 0 && c.channel == ch) {
            if (++c.streak >= kConfirmPackets) {
                c = Candidate{};
                accepted_.push_back(ch);
                return ChannelVerdict::Accepted;
            }
            return ChannelVerdict::Candidate;
        }
    }
    Candidate* slot = nullptr;
    for (auto& c : candidates_) {
        if (c.streak == 0) {
            slot = &c;
            break;
        }
    }
    if (slot == nullptr) {
        slot = &candidates_[next_victim_];
        next_victim_ = static_cast<uint8_t>((next_victim_ + 1) % kMaxCandidates);
    }
    slot->channel = ch;
    slot->streak = 1;
    if (kConfirmPackets <= 1) {
        *slot = Candidate{};
        accepted_.push_back(ch);
        return ChannelVerdict::Accepted;
    }
    return ChannelVerdict::Candidate;
}

}  // namespace callwall::proto::stun
