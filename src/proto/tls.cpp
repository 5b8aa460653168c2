// TLS first-flight decoder: see src/proto/tls.hpp for scope and limits.
#include "proto/tls.hpp"
#include "proto/tls_records.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace callwall::proto::tls {
namespace {

// RFC 8446 §4.1.3: ServerHello.random of a HelloRetryRequest, SHA-256("HelloRetryRequest").
constexpr uint8_t kHelloRetryRandom[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                                           0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                                           0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
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
[[nodiscard]] constexpr bool is_early_tls13_draft(uint16_t v) noexcept { return (v >> 8) == 0x7f && (v & 0xff) < 22; }

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

}  // namespace

// ---------------------------------------------------------------------------------------------
// Record walk shared by the stateless decoders and the assemblers.

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
Walk walk_records(ByteView prefix, size_t capacity, Side side, bool ccs_may_lead) noexcept {
    Walk w;
    const uint8_t expected = side == Side::Client ? handshake_type::kClientHello : handshake_type::kServerHello;
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
        // The middlebox-compatibility ChangeCipherSpec (one byte, 0x01) before a second flight.
        if (ccs_may_lead && first && pos == 0 && type == content_type::kChangeCipherSpec && len == 1) {
            if (prefix.size() - frag < 1) {
                w.status = WalkStatus::NeedMore;
                w.at = prefix.size();
                return w;
            }
            if (prefix[frag] != 1) {
                w.status = WalkStatus::Malformed;
                w.at = frag;
                return w;
            }
            pos = frag + 1;
            w.start = pos;
            continue;
        }
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
            w.other_record = first && type >= content_type::kChangeCipherSpec && type <= content_type::kApplicationData;
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
                w.handshake_total =
                    kHandshakeHeaderLength + ((size_t{header[1]} << 16) | (size_t{header[2]} << 8) | header[3]);
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
            w.records_end = frag + len;
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

DecodeError walk_error(const Walk& w) noexcept {
    switch (w.status) {
        case WalkStatus::NotTls: return make_error(DecodeErrorCode::NotThisProtocol, w.at);
        case WalkStatus::Malformed: return make_error(DecodeErrorCode::Malformed, w.at);
        case WalkStatus::TooBig: return make_error(DecodeErrorCode::Unsupported, w.at);
        default: return make_error(DecodeErrorCode::Truncated, w.at);
    }
}

/*
   SSLv2-compatible ClientHello (RFC 5246 Appendix E.2, RFC 6101 Appendix E):
   | 1 | length (15 bits) | msg_type = 1 | version (2) | cipher_spec_length (2) |
   | session_id_length (2) | challenge_length (2) | cipher_specs (3 bytes each) |
   | session_id | challenge (16..32 bytes) |
*/
bool looks_like_sslv2_hello(ByteView s) noexcept {
    if (s.size() < 5 || (s[0] & 0x80) == 0 || s[2] != 1 || s[3] != 3 || s[4] > 4) return false;
    const size_t len = (size_t{s[0] & 0x7Fu} << 8) | s[1];
    return len >= 9 + 3 + 16;  // header fields, one cipher spec, the shortest challenge
}

Result<ClientHello> decode_sslv2_client_hello(ByteView msg) noexcept {
    Reader r{msg};
    const uint8_t type = r.u8();
    ClientHello ch;
    ch.legacy_version = r.u16();
    const uint16_t specs_len = r.u16(), session_len = r.u16(), challenge_len = r.u16();
    if (!r.ok()) return make_error(DecodeErrorCode::Truncated, r.offset());
    if (type != 1 || (ch.legacy_version >> 8) != 3) return make_error(DecodeErrorCode::NotThisProtocol, 0);
    if (specs_len == 0 || specs_len % 3 != 0 || (session_len != 0 && session_len != 16) || challenge_len < 16 ||
        challenge_len > 32)
        return make_error(DecodeErrorCode::Malformed, 3);
    r.skip(specs_len);
    ch.session_id = r.bytes(session_len);
    ch.random = r.bytes(challenge_len);
    if (!r.ok()) return make_error(DecodeErrorCode::Truncated, r.offset());
    ch.length = static_cast<uint32_t>(r.offset());
    ch.anomalies |= bit(Anomaly::Sslv2Hello);
    if (r.remaining() != 0) ch.anomalies |= bit(Anomaly::TrailingBytes);
    return ch;
}

// ---------------------------------------------------------------------------------------------

bool probe(ByteView s) noexcept {
    if (looks_like_sslv2_hello(s)) return true;
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
            case extension::kEncryptedServerName: ch.esni = true; break;
            default: break;
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
    sh.downgrade_sentinel = std::memcmp(sh.random.data() + 24, kDowngradePrefix, sizeof kDowngradePrefix) == 0 &&
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
            default: break;
        }
    }
    return sh;
}

Result<ClientHello> decode_record_stream(ByteView client_stream) noexcept {
    if (looks_like_sslv2_hello(client_stream)) {
        const size_t len = (size_t{client_stream[0] & 0x7Fu} << 8) | client_stream[1];
        return decode_sslv2_client_hello(client_stream.subspan(2, std::min(len, client_stream.size() - 2)));
    }
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
        Result<ServerHello> sh = decode_server_hello(server_stream.subspan(kRecordHeaderLength, w.handshake_total));
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

}  // namespace callwall::proto::tls
