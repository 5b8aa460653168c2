// TLS first-flight decoder: see include/callwall/proto/tls.hpp for scope and limits.
#include "callwall/proto/tls.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace callwall::proto::tls {
namespace {

// RFC 8446 §4.1.3: ServerHello.random of a HelloRetryRequest, SHA-256("HelloRetryRequest").
constexpr uint8_t kHelloRetryRandom[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
// RFC 8446 §4.1.3: last 8 bytes of ServerHello.random when a 1.3 server negotiates ≤ 1.2
// ("DOWNGRD" then 01 for 1.2, 00 for ≤ 1.1).
constexpr uint8_t kDowngradePrefix[7] = {0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44};
constexpr size_t kRandomLength = 32;
constexpr size_t kMaxSessionId = 32;  // RFC 8446 §4.1.2 legacy_session_id<0..32>

[[nodiscard]] constexpr bool record_version_ok(uint8_t major, uint8_t minor) noexcept {
    return major == 3 && minor <= 4;
}

// Orders versions for "highest": 1.3 drafts (0x7fNN, RFC 8446 history) rank between 1.2
// and 1.3; anything else (DTLS, vendor experiments) ranks 0 and is never chosen.
[[nodiscard]] constexpr uint32_t version_rank(uint16_t v) noexcept {
    if ((v >> 8) == 0x03) return uint32_t{v} << 8;
    if ((v >> 8) == 0x7f) return (uint32_t{version::kTls12} << 8) + 1 + (v & 0xff);
    return 0;
}

// TLS 1.3 drafts before -22 sent a ServerHello without legacy_session_id_echo and
// legacy_compression_method (draft-ietf-tls-tls13-21 §4.1.3), with the version in front.
[[nodiscard]] constexpr bool is_early_tls13_draft(uint16_t v) noexcept {
    return (v >> 8) == 0x7f && (v & 0xff) < 22;
}

[[nodiscard]] bool host_char_plain(uint8_t c) noexcept { return c >= 0x21 && c <= 0x7E; }

// server_name (RFC 6066 §3):
//   struct { NameType name_type (0 = host_name); opaque HostName<1..2^16-1>; } ServerName;
//   struct { ServerName server_name_list<1..2^16-1>; } ServerNameList;
void parse_server_name(ByteView data, ClientHello& ch) noexcept {
    if (data.empty()) {
        ch.anomalies |= bit(Anomaly::SniEmpty);
        return;
    }
    Reader r(data);
    const uint16_t list_len = r.u16();
    Reader list = r.sub(list_len);
    if (!r.ok() || !r.empty() || list_len == 0) {
        ch.anomalies |= bit(Anomaly::SniMalformed);
        return;
    }
    bool have = false;
    while (!list.empty()) {
        const uint8_t type = list.u8();
        const uint16_t len = list.u16();
        const ByteView name = list.bytes(len);
        if (!list.ok()) {
            ch.anomalies |= bit(Anomaly::SniMalformed);
            break;
        }
        if (type != 0) break;  // RFC 6066 §3: unknown types end what can be parsed
        if (name.empty()) {
            ch.anomalies |= bit(Anomaly::SniEmpty);
            continue;
        }
        if (have) {
            ch.anomalies |= bit(Anomaly::SniMultiple);
            continue;
        }
        have = true;
        ch.server_name = name;
        for (const uint8_t c : name) {
            if (!host_char_plain(c)) {
                ch.anomalies |= bit(Anomaly::SniOddChars);
                break;
            }
        }
    }
    if (!have) ch.anomalies |= bit(Anomaly::SniEmpty);
}

// ALPN (RFC 7301 §3.1): ProtocolName protocol_name_list<2..2^16-1>; ProtocolName<1..2^8-1>.
void parse_alpn(ByteView data, ClientHello& ch) noexcept {
    Reader r(data);
    const uint16_t list_len = r.u16();
    Reader list = r.sub(list_len);
    if (!r.ok() || !r.empty() || list_len < 2) {
        ch.anomalies |= bit(Anomaly::AlpnMalformed);
        return;
    }
    while (!list.empty()) {
        const uint8_t len = list.u8();
        const ByteView name = list.bytes(len);
        if (!list.ok() || name.empty()) {
            ch.anomalies |= bit(Anomaly::AlpnMalformed);
            return;
        }
        (void)ch.alpn.push_back(name);
    }
}

// supported_versions in a ClientHello (RFC 8446 §4.2.1): ProtocolVersion versions<2..254>.
void parse_supported_versions(ByteView data, ClientHello& ch) noexcept {
    Reader r(data);
    const uint8_t len = r.u8();
    Reader list = r.sub(len);
    if (!r.ok() || !r.empty() || len < 2 || len % 2 != 0) {
        ch.anomalies |= bit(Anomaly::SupportedVersionsMalformed);
        return;
    }
    ch.supported_versions_present = true;
    uint32_t best = 0;
    while (!list.empty()) {
        const uint16_t v = list.u16();
        if (is_grease(v)) continue;
        const uint32_t rank = version_rank(v);
        if (rank > best) {
            best = rank;
            ch.highest_version = v;
        }
        if (rank > (uint32_t{version::kTls12} << 8)) ch.tls13 = true;
    }
}

// Reads the handshake header; checks the type and that the whole message is present.
// On success `body` covers the message body.
[[nodiscard]] Result<ByteView> handshake_body(ByteView hs, uint8_t expected_type) noexcept {
    if (hs.empty()) return make_error(DecodeErrorCode::Truncated, 0);
    if (hs[0] != expected_type) return make_error(DecodeErrorCode::NotThisProtocol, 0);
    if (hs.size() < kHandshakeHeaderLength) return make_error(DecodeErrorCode::Truncated, hs.size());
    const size_t len = (size_t{hs[1]} << 16) | (size_t{hs[2]} << 8) | hs[3];
    if (hs.size() - kHandshakeHeaderLength < len) {
        return make_error(DecodeErrorCode::Truncated, hs.size());
    }
    return hs.subspan(kHandshakeHeaderLength, len);
}

// ---------------------------------------------------------------------------------------------
// Record walk shared by the stateless decoders and the assemblers.

enum class WalkStatus : uint8_t { Complete, NeedMore, NotTls, Malformed, TooBig, Alert };

struct Walk {
    WalkStatus status = WalkStatus::NeedMore;
    size_t at = 0;               // where a failure was found / bytes available for NeedMore
    size_t handshake_total = 0;  // header + body, once known
    bool single_record = false;  // Complete: the message lies in the first record's fragment
    bool other_record = false;   // NotTls: a valid record header of another type (mid-stream)
    uint8_t alert_level = 0;
    uint8_t alert_description = 0;
};

// Walks records from the start of a direction's stream (`prefix`: contiguous bytes held) until
// the first handshake message of `expected_type` is complete. A message longer than
// `capacity` is TooBig. On the server side a leading 2-byte Alert record ends the walk.
//
// TLSPlaintext (RFC 8446 §5.1):
//   +------+----------------+-----------+-----------------------------+
//   | type | legacy_version | length    | fragment[length]            |
//   | u8   | u16            | u16       | (handshake bytes, any split)|
//   +------+----------------+-----------+-----------------------------+
// Alert fragment (RFC 8446 §6), plaintext only before keys are set:
//   +-------+-------------+
//   | level | description |   level 1 warning, 2 fatal
//   | u8    | u8          |
//   +-------+-------------+
[[nodiscard]] Walk walk_records(ByteView prefix, size_t capacity, Side side) noexcept {
    Walk w;
    const uint8_t expected =
        side == Side::Client ? handshake_type::kClientHello : handshake_type::kServerHello;
    uint8_t header[kHandshakeHeaderLength] = {};
    size_t header_have = 0;
    size_t gathered = 0;  // handshake bytes seen in fragments
    size_t pos = 0;
    bool first = true;
    for (;;) {
        if (prefix.size() - pos < kRecordHeaderLength) {
            w.status = WalkStatus::NeedMore;
            w.at = prefix.size();
            return w;
        }
        const uint8_t type = prefix[pos];
        const uint8_t major = prefix[pos + 1];
        const uint8_t minor = prefix[pos + 2];
        const size_t len = load_u16(prefix, pos + 3);
        if (!record_version_ok(major, minor)) {
            w.status = first ? WalkStatus::NotTls : WalkStatus::Malformed;
            w.at = pos + 1;
            return w;
        }
        const size_t frag = pos + kRecordHeaderLength;
        if (type == content_type::kAlert && first && side == Side::Server && len == 2) {
            if (prefix.size() - frag < 2) {
                w.status = WalkStatus::NeedMore;
                w.at = prefix.size();
                return w;
            }
            w.status = WalkStatus::Alert;
            w.alert_level = prefix[frag];
            w.alert_description = prefix[frag + 1];
            return w;
        }
        if (type != content_type::kHandshake) {
            // A record of another type before the hello is complete: not a TLS start, or (RFC
            // 8446 §5.1) an interleaving that is not allowed inside a handshake message.
            w.status = first ? WalkStatus::NotTls : WalkStatus::Malformed;
            w.other_record = first && type >= content_type::kChangeCipherSpec &&
                             type <= content_type::kApplicationData;
            w.at = pos;
            return w;
        }
        if (len == 0 || len > kMaxPlaintextRecord) {  // §5.1: no empty handshake fragments
            w.status = WalkStatus::Malformed;
            w.at = pos + 3;
            return w;
        }
        const size_t avail = std::min(len, prefix.size() - frag);
        for (size_t i = 0; header_have < kHandshakeHeaderLength && i < avail; ++i) {
            header[header_have++] = prefix[frag + i];
            if (header_have == kHandshakeHeaderLength) {
                if (header[0] != expected) {
                    w.status = WalkStatus::NotTls;
                    w.at = frag;
                    return w;
                }
                w.handshake_total = kHandshakeHeaderLength + ((size_t{header[1]} << 16) |
                                                              (size_t{header[2]} << 8) | header[3]);
                if (w.handshake_total > capacity) {
                    w.status = WalkStatus::TooBig;
                    w.at = frag;
                    return w;
                }
            }
        }
        if (header_have >= 1 && header[0] != expected) {  // decide on the type byte early
            w.status = WalkStatus::NotTls;
            w.at = frag;
            return w;
        }
        gathered += avail;
        if (w.handshake_total != 0 && gathered >= w.handshake_total) {
            w.status = WalkStatus::Complete;
            w.single_record = first;
            return w;
        }
        if (avail < len) {
            w.status = WalkStatus::NeedMore;
            w.at = prefix.size();
            return w;
        }
        pos = frag + len;
        first = false;
    }
}

// Moves the fragments of a complete multi-record handshake message together, in place, so
// that it starts at kRecordHeaderLength. Only called after walk_records() said Complete, so
// every record header read here was validated.
void squeeze_records(std::span<uint8_t> buf, size_t total) noexcept {
    size_t dst = kRecordHeaderLength;
    size_t pos = 0;
    size_t gathered = 0;
    while (gathered < total) {
        const size_t len = load_u16(ByteView{buf.data(), buf.size()}, pos + 3);
        const size_t take = std::min(len, total - gathered);
        const size_t src = pos + kRecordHeaderLength;
        if (src != dst) std::memmove(buf.data() + dst, buf.data() + src, take);
        dst += take;
        gathered += take;
        pos = src + len;
    }
}

[[nodiscard]] DecodeError walk_error(const Walk& w) noexcept {
    switch (w.status) {
        case WalkStatus::NotTls: return make_error(DecodeErrorCode::NotThisProtocol, w.at);
        case WalkStatus::Malformed: return make_error(DecodeErrorCode::Malformed, w.at);
        case WalkStatus::TooBig: return make_error(DecodeErrorCode::Unsupported, w.at);
        default: return make_error(DecodeErrorCode::Truncated, w.at);
    }
}

// SSLv2-compatible ClientHello (RFC 5246 Appendix E.2): 2-byte length with the top bit set,
// msg_type 1, version major 3.
[[nodiscard]] bool looks_like_sslv2_hello(ByteView s) noexcept {
    return s.size() >= 5 && (s[0] & 0x80) != 0 && s[2] == 1 && s[3] == 3;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

bool probe(ByteView s) noexcept {
    if (s.size() < kRecordHeaderLength) return false;
    if (!record_version_ok(s[1], s[2])) return false;
    const size_t len = load_u16(s, 3);
    if (s[0] == content_type::kAlert) {
        return len == 2 && (s.size() < 6 || s[5] == 1 || s[5] == 2);
    }
    if (s[0] != content_type::kHandshake) return false;
    if (len < kHandshakeHeaderLength || len > kMaxPlaintextRecord) return false;
    if (s.size() < 6) return true;
    if (s[5] != handshake_type::kClientHello && s[5] != handshake_type::kServerHello) return false;
    if (s.size() < 9) return true;
    const size_t hs_len = (size_t{s[6]} << 16) | (size_t{s[7]} << 8) | s[8];
    if (hs_len < kMinHelloBody) return false;
    if (s.size() < 11) return true;
    return record_version_ok(s[9], s[10]);
}

size_t handshake_message_length(ByteView hs) noexcept {
    if (hs.size() < kHandshakeHeaderLength) return 0;
    return kHandshakeHeaderLength + ((size_t{hs[1]} << 16) | (size_t{hs[2]} << 8) | hs[3]);
}

// ClientHello (RFC 8446 §4.1.2), after the 4-byte handshake header:
//   +----------------+--------+----------------------+------------------------+
//   | legacy_version | random | legacy_session_id    | cipher_suites          |
//   | u16            | 32     | u8 len + 0..32 bytes | u16 len + 2..2^16-2    |
//   +----------------+--------+----------------------+------------------------+
//   | legacy_compression_methods | extensions (absent in old TLS ≤ 1.2 hellos) |
//   | u8 len + 1..255 bytes      | u16 len + { type u16, len u16, data }*      |
//   +----------------------------+---------------------------------------------+
Result<ClientHello> decode_client_hello(ByteView handshake) noexcept {
    const Result<ByteView> body_or = handshake_body(handshake, handshake_type::kClientHello);
    if (!body_or) return body_or.error();
    const ByteView body = *body_or;
    constexpr size_t kBase = kHandshakeHeaderLength;  // offsets in errors are in `handshake`

    ClientHello ch;
    ch.length = static_cast<uint32_t>(kBase + body.size());
    Reader r(body);
    ch.legacy_version = r.u16();
    if (!r.ok()) return make_error(DecodeErrorCode::Malformed, kBase);
    if (version_rank(ch.legacy_version) == 0) {
        return make_error(DecodeErrorCode::NotThisProtocol, kBase);
    }
    ch.random = r.bytes(kRandomLength);
    const uint8_t sid_len = r.u8();
    if (r.ok() && sid_len > kMaxSessionId) {
        return make_error(DecodeErrorCode::Malformed, kBase + r.offset() - 1);
    }
    ch.session_id = r.bytes(sid_len);
    const uint16_t suites_len = r.u16();
    if (r.ok() && (suites_len < 2 || suites_len % 2 != 0)) {
        return make_error(DecodeErrorCode::Malformed, kBase + r.offset() - 2);
    }
    ch.cipher_suites = r.bytes(suites_len);
    const uint8_t comp_len = r.u8();
    if (r.ok() && comp_len == 0) return make_error(DecodeErrorCode::Malformed, kBase + r.offset() - 1);
    ch.compression_methods = r.bytes(comp_len);
    if (!r.ok()) return make_error(DecodeErrorCode::Malformed, kBase + body.size());
    if (r.empty()) return ch;  // RFC 5246 §7.4.1.2: no extensions

    const uint16_t ext_len = r.u16();
    const size_t ext_at = kBase + r.offset();
    Reader exts = r.sub(ext_len);
    if (!r.ok()) return make_error(DecodeErrorCode::Malformed, ext_at - 2);
    if (!r.empty()) ch.anomalies |= bit(Anomaly::TrailingBytes);

    while (!exts.empty()) {
        const size_t at = ext_at + exts.offset();
        const uint16_t type = exts.u16();
        const uint16_t len = exts.u16();
        const ByteView data = exts.bytes(len);
        if (!exts.ok()) return make_error(DecodeErrorCode::Malformed, at);
        ++ch.extension_count;
        for (const uint16_t seen : ch.extension_types) {
            if (seen == type) {
                ch.anomalies |= bit(Anomaly::DuplicateExtension);
                break;
            }
        }
        (void)ch.extension_types.push_back(type);
        switch (type) {
            case extension::kServerName:
                if (ch.server_name.empty()) parse_server_name(data, ch);
                break;
            case extension::kAlpn:
                if (ch.alpn.empty()) parse_alpn(data, ch);
                break;
            case extension::kSupportedVersions:
                if (!ch.supported_versions_present) parse_supported_versions(data, ch);
                break;
            case extension::kEncryptedClientHello:
                ch.ech = true;
                ch.ech_type = data.empty() ? 0 : data[0];
                break;
            case extension::kEncryptedServerName:
                ch.esni = true;
                break;
            default:
                break;
        }
    }
    return ch;
}

// ServerHello (RFC 8446 §4.1.3), after the 4-byte handshake header:
//   +----------------+--------+---------------------------+--------------+------------------+
//   | legacy_version | random | legacy_session_id_echo    | cipher_suite | compression u8   |
//   | u16            | 32     | u8 len + 0..32 bytes      | u16          |                  |
//   +----------------+--------+---------------------------+--------------+------------------+
//   | extensions: u16 len + { type u16, len u16, data }*   (absent in old TLS ≤ 1.2)       |
//   +--------------------------------------------------------------------------------------+
Result<ServerHello> decode_server_hello(ByteView handshake) noexcept {
    const Result<ByteView> body_or = handshake_body(handshake, handshake_type::kServerHello);
    if (!body_or) return body_or.error();
    const ByteView body = *body_or;
    constexpr size_t kBase = kHandshakeHeaderLength;

    ServerHello sh;
    sh.length = static_cast<uint32_t>(kBase + body.size());
    Reader r(body);
    sh.legacy_version = r.u16();
    if (!r.ok()) return make_error(DecodeErrorCode::Malformed, kBase);
    if (version_rank(sh.legacy_version) == 0) {
        return make_error(DecodeErrorCode::NotThisProtocol, kBase);
    }
    sh.random = r.bytes(kRandomLength);
    if (is_early_tls13_draft(sh.legacy_version)) {
        // Drafts ≤ 21 (arkime__tls13 frame 6: 0x7f12): no session id echo, no compression.
        sh.selected_version = sh.legacy_version;
        sh.cipher_suite = r.u16();
    } else {
        const uint8_t sid_len = r.u8();
        if (r.ok() && sid_len > kMaxSessionId) {
            return make_error(DecodeErrorCode::Malformed, kBase + r.offset() - 1);
        }
        sh.session_id = r.bytes(sid_len);
        sh.cipher_suite = r.u16();
        sh.compression_method = r.u8();
    }
    if (!r.ok()) return make_error(DecodeErrorCode::Malformed, kBase + body.size());
    sh.hello_retry_request = std::memcmp(sh.random.data(), kHelloRetryRandom, kRandomLength) == 0;
    sh.downgrade_sentinel =
        std::memcmp(sh.random.data() + 24, kDowngradePrefix, sizeof kDowngradePrefix) == 0 &&
        (sh.random[31] == 0 || sh.random[31] == 1);
    if (r.empty()) return sh;

    const uint16_t ext_len = r.u16();
    const size_t ext_at = kBase + r.offset();
    Reader exts = r.sub(ext_len);
    if (!r.ok()) return make_error(DecodeErrorCode::Malformed, ext_at - 2);
    if (!r.empty()) sh.anomalies |= bit(Anomaly::TrailingBytes);
    while (!exts.empty()) {
        const size_t at = ext_at + exts.offset();
        const uint16_t type = exts.u16();
        const uint16_t len = exts.u16();
        const ByteView data = exts.bytes(len);
        if (!exts.ok()) return make_error(DecodeErrorCode::Malformed, at);
        ++sh.extension_count;
        switch (type) {
            case extension::kSupportedVersions:
                // ServerHello: selected_version only (RFC 8446 §4.2.1).
                if (data.size() == 2) {
                    sh.selected_version = load_u16(data, 0);
                } else {
                    sh.anomalies |= bit(Anomaly::SupportedVersionsMalformed);
                }
                break;
            case extension::kKeyShare:
                // ServerHello: KeyShareEntry {group, key_exchange}; HRR: selected_group.
                if (data.size() >= 2) {
                    sh.key_share_group = load_u16(data, 0);
                } else {
                    sh.anomalies |= bit(Anomaly::KeyShareMalformed);
                }
                break;
            case extension::kAlpn: {
                // RFC 7301 §3.1: the server's list holds exactly one name.
                Reader a(data);
                const uint16_t list_len = a.u16();
                const uint8_t name_len = a.u8();
                const ByteView name = a.bytes(name_len);
                if (a.ok() && a.empty() && list_len == size_t{name_len} + 1 && !name.empty()) {
                    sh.alpn = name;
                } else {
                    sh.anomalies |= bit(Anomaly::AlpnMalformed);
                }
                break;
            }
            default:
                break;
        }
    }
    return sh;
}

Result<ClientHello> decode_record_stream(ByteView client_stream) noexcept {
    if (looks_like_sslv2_hello(client_stream)) return make_error(DecodeErrorCode::Unsupported, 0);
    const Walk w = walk_records(client_stream, SIZE_MAX, Side::Client);
    if (w.status == WalkStatus::Complete && w.single_record) {
        return decode_client_hello(client_stream.subspan(kRecordHeaderLength, w.handshake_total));
    }
    if (w.status == WalkStatus::Complete) {
        return make_error(DecodeErrorCode::Truncated, client_stream.size());  // spans records
    }
    return walk_error(w);
}

Result<ServerFlight> decode_server_flight(ByteView server_stream) noexcept {
    const Walk w = walk_records(server_stream, SIZE_MAX, Side::Server);
    ServerFlight f;
    if (w.status == WalkStatus::Alert) {
        f.has_alert = true;
        f.alert_level = w.alert_level;
        f.alert_description = w.alert_description;
        return f;
    }
    if (w.status == WalkStatus::Complete && w.single_record) {
        Result<ServerHello> sh =
            decode_server_hello(server_stream.subspan(kRecordHeaderLength, w.handshake_total));
        if (!sh) return sh.error();
        f.has_server_hello = true;
        f.server_hello = *sh;
        return f;
    }
    if (w.status == WalkStatus::Complete) {
        return make_error(DecodeErrorCode::Truncated, server_stream.size());
    }
    return walk_error(w);
}

// ---------------------------------------------------------------------------------------------
// FlightAssembler

FlightAssembler::FlightAssembler(std::span<uint8_t> buffer, Side side) noexcept
    : buffer_(buffer), side_(side) {
    if (buffer_.size() > UINT32_MAX) buffer_ = buffer_.first(UINT32_MAX);
    if (buffer_.size() < kRecordHeaderLength + kHandshakeHeaderLength) {
        fail(DecodeErrorCode::Unsupported, 0);
    }
}

void FlightAssembler::anchor_syn(uint32_t syn_seq) noexcept {
    // Several SYN(-ACK)s with different sequence numbers (ndpi__tls_multiple_synack_different_
    // seq): the last one before data wins. Once data is placed the start is fixed.
    if (stats_.segments > 0) return;
    start_seq_ = syn_seq + 1;
    have_start_ = true;
    anchored_ = true;
}

size_t FlightAssembler::contiguous_bytes() const noexcept {
    return (range_count_ > 0 && ranges_[0].begin == 0) ? ranges_[0].end : 0;
}

ByteView FlightAssembler::handshake() const noexcept {
    if (status_ != AssemblyStatus::Done || handshake_length_ == 0) return {};
    return ByteView{buffer_.data() + handshake_offset_, handshake_length_};
}

void FlightAssembler::fail(DecodeErrorCode code, size_t offset) noexcept {
    status_ = AssemblyStatus::Failed;
    error_ = make_error(code, offset);
}

AssemblyStatus FlightAssembler::add_segment(uint32_t seq, ByteView payload) noexcept {
    if (status_ != AssemblyStatus::NeedMore || payload.empty()) return status_;
    ++stats_.segments;
    if (!have_start_) {
        have_start_ = true;
        start_seq_ = seq;
    }
    // RFC 793 §3.3: compare modulo 2^32; the signed difference handles wraparound.
    const int32_t delta = static_cast<int32_t>(seq - start_seq_);
    size_t offset = 0;
    if (delta < 0) {
        const size_t before = static_cast<size_t>(-static_cast<int64_t>(delta));
        if (!anchored_ && rebase(before)) {
            offset = 0;
        } else if (before >= payload.size()) {
            anomalies_ |= bit(Anomaly::BeforeStart);
            stats_.clipped_bytes += static_cast<uint32_t>(payload.size());
            return status_;
        } else {
            anomalies_ |= bit(Anomaly::BeforeStart);
            stats_.clipped_bytes += static_cast<uint32_t>(before);
            payload = payload.subspan(before);
        }
    } else {
        offset = static_cast<size_t>(delta);
    }
    const size_t before_prefix = contiguous_bytes();
    insert(offset, payload);
    if (contiguous_bytes() != before_prefix || (!anchored_ && stats_.segments > 1)) evaluate();
    return status_;
}

// Moves everything held `shift` bytes later: an earlier segment arrived and no SYN fixed the
// start. False when it does not fit (the early bytes are then dropped instead).
bool FlightAssembler::rebase(size_t shift) noexcept {
    const size_t high = range_count_ > 0 ? ranges_[range_count_ - 1].end : 0;
    if (shift > buffer_.size() || high > buffer_.size() - shift) return false;
    for (size_t i = range_count_; i-- > 0;) {
        Range& r = ranges_[i];
        std::memmove(buffer_.data() + r.begin + shift, buffer_.data() + r.begin, r.end - r.begin);
        r.begin += static_cast<uint32_t>(shift);
        r.end += static_cast<uint32_t>(shift);
    }
    start_seq_ -= static_cast<uint32_t>(shift);
    return true;
}

// Copies the bytes of [offset, offset + size) not yet held (first copy wins) and merges the
// range into the sorted, disjoint, non-adjacent range list.
void FlightAssembler::insert(size_t offset, ByteView data) noexcept {
    const size_t cap = buffer_.size();
    if (offset >= cap) {
        anomalies_ |= bit(Anomaly::BeyondBuffer);
        stats_.clipped_bytes += static_cast<uint32_t>(data.size());
        return;
    }
    if (data.size() > cap - offset) {
        anomalies_ |= bit(Anomaly::BeyondBuffer);
        stats_.clipped_bytes += static_cast<uint32_t>(data.size() - (cap - offset));
        data = data.first(cap - offset);
    }
    const auto begin = static_cast<uint32_t>(offset);
    const auto end = static_cast<uint32_t>(offset + data.size());

    // Ranges touching [begin, end] (overlapping or adjacent) merge into one.
    size_t first = 0;
    while (first < range_count_ && ranges_[first].end < begin) ++first;
    size_t last = first;  // one past the last touching range
    while (last < range_count_ && ranges_[last].begin <= end) ++last;
    const size_t new_count = range_count_ - (last - first) + 1;
    if (new_count > kMaxFilledRanges) {
        anomalies_ |= bit(Anomaly::RangeOverflow);
        ++stats_.dropped_segments;
        return;
    }

    // Fill the gaps between held ranges; compare what overlaps.
    uint32_t cur = begin;
    for (size_t i = first; i < last; ++i) {
        const Range& r = ranges_[i];
        if (r.begin > cur) {
            std::memcpy(buffer_.data() + cur, data.data() + (cur - begin), r.begin - cur);
            cur = r.begin;
        }
        const uint32_t overlap_end = std::min(end, r.end);
        if (overlap_end > cur) {
            if (std::memcmp(buffer_.data() + cur, data.data() + (cur - begin), overlap_end - cur) !=
                0) {
                anomalies_ |= bit(Anomaly::OverlapConflict);
            }
            stats_.retransmitted_bytes += overlap_end - cur;
            cur = overlap_end;
        }
        cur = std::max(cur, std::min(end, r.end));
    }
    if (cur < end) std::memcpy(buffer_.data() + cur, data.data() + (cur - begin), end - cur);

    Range merged{begin, end};
    if (last > first) {
        merged.begin = std::min(begin, ranges_[first].begin);
        merged.end = std::max(end, ranges_[last - 1].end);
    }
    if (last == first) {  // pure insertion at `first`
        for (size_t i = range_count_; i > first; --i) ranges_[i] = ranges_[i - 1];
        ranges_[first] = merged;
        ++range_count_;
        return;
    }
    ranges_[first] = merged;
    const size_t removed = last - first - 1;
    for (size_t i = first + 1; i + removed < range_count_; ++i) ranges_[i] = ranges_[i + removed];
    range_count_ = static_cast<uint8_t>(range_count_ - removed);
}

void FlightAssembler::evaluate() noexcept {
    const size_t held = contiguous_bytes();
    const Walk w = walk_records(ByteView{buffer_.data(), held}, buffer_.size() - kRecordHeaderLength,
                                side_);
    switch (w.status) {
        case WalkStatus::NeedMore:
            if (held == buffer_.size()) fail(DecodeErrorCode::Unsupported, held);
            return;
        case WalkStatus::NotTls:
            // Without the SYN the true start may still arrive (rebase): wait a little, unless
            // the bytes are a TLS record of another type (a connection seen mid-stream).
            if (!anchored_ && !w.other_record && stats_.segments < kUnanchoredPatience) return;
            fail(DecodeErrorCode::NotThisProtocol, w.at);
            return;
        case WalkStatus::Malformed:
        case WalkStatus::TooBig:
            fail(walk_error(w).code, w.at);
            return;
        case WalkStatus::Alert:
            alert_seen_ = true;
            alert_level_ = w.alert_level;
            alert_description_ = w.alert_description;
            status_ = AssemblyStatus::Done;
            return;
        case WalkStatus::Complete:
            break;
    }
    if (!w.single_record) squeeze_records(buffer_, w.handshake_total);
    handshake_offset_ = kRecordHeaderLength;
    handshake_length_ = static_cast<uint32_t>(w.handshake_total);
    const ByteView hs{buffer_.data() + handshake_offset_, handshake_length_};
    DecodeError err{};
    bool ok = false;
    if (side_ == Side::Client) {
        const Result<ClientHello> ch = decode_client_hello(hs);
        ok = ch.ok();
        err = ch.error();
    } else {
        const Result<ServerHello> sh = decode_server_hello(hs);
        ok = sh.ok();
        err = sh.error();
    }
    if (ok) {
        status_ = AssemblyStatus::Done;
    } else {
        fail(err.code, handshake_offset_ + err.offset);
    }
}

Result<ClientHello> ClientHelloAssembler::client_hello() const noexcept {
    switch (status()) {
        case AssemblyStatus::Done: return decode_client_hello(handshake());
        case AssemblyStatus::Failed: return error();
        case AssemblyStatus::NeedMore: break;
    }
    return make_error(DecodeErrorCode::Truncated, contiguous_bytes());
}

Result<ServerFlight> ServerFlightAssembler::server_flight() const noexcept {
    switch (status()) {
        case AssemblyStatus::Done: break;
        case AssemblyStatus::Failed: return error();
        case AssemblyStatus::NeedMore:
            return make_error(DecodeErrorCode::Truncated, contiguous_bytes());
    }
    ServerFlight f;
    if (alert_seen_) {
        f.has_alert = true;
        f.alert_level = alert_level_;
        f.alert_description = alert_description_;
        return f;
    }
    Result<ServerHello> sh = decode_server_hello(handshake());
    if (!sh) return sh.error();
    f.has_server_hello = true;
    f.server_hello = *sh;
    return f;
}

}  // namespace callwall::proto::tls
