// DTLS record recognition and handshake facts (ClientHello / ServerHello /
// HelloVerifyRequest), for WebRTC DTLS-SRTP detection.
//
// Normative references:
//   RFC 6347 §4.1 (DTLS 1.2 record layer), §4.2.2 (handshake header),
//     §4.2.1 (HelloVerifyRequest); RFC 4347 (DTLS 1.0, version 0xFEFF);
//   RFC 9147 §4 (DTLS 1.3 unified header, first byte 001CSLEE);
//   RFC 5246 §7.4.1.2 / RFC 6347 §4.2.1 (ClientHello with cookie);
//   RFC 5764 §4.1.1 (use_srtp extension, 14), RFC 7301 (ALPN, 16),
//   RFC 6066 §3 (server_name, 0);
//   RFC 7983 / RFC 9443 (first byte 20..63 is DTLS on an RTC 5-tuple).
//
// Not supported:
//   - Handshake reassembly across records or datagrams: a ClientHello is
//     parsed only when one record holds it whole (fragment_offset 0 and
//     fragment_length == length); otherwise only its presence is reported.
//   - DTLS 1.3 ciphertext records with a connection ID (length of the CID
//     is negotiated, so the header cannot be walked); they end the walk.
//   - Anything encrypted (epoch > 0 handshake, application data).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "bytes/reader.hpp"
#include "bytes/result.hpp"

namespace callwall::proto::dtls {

inline constexpr uint16_t kVersion10 = 0xFEFF;
inline constexpr uint16_t kVersion12 = 0xFEFD;
inline constexpr uint16_t kVersion13 = 0xFEFC;  ///< only in supported_versions; records say 0xFEFD
/// RFC 6347 §4.1: type(1) version(2) epoch(2) sequence_number(6) length(2).
inline constexpr size_t kRecordHeaderLen = 13;
/// RFC 6347 §4.2.2: msg_type(1) length(3) message_seq(2) fragment_offset(3)
/// fragment_length(3).
inline constexpr size_t kHandshakeHeaderLen = 12;
/// Records kept per datagram. A server flight (ServerHello, Certificate,
/// ServerKeyExchange, CertificateRequest, ServerHelloDone) is 5 records;
/// more are walked and counted via the overflow flag.
inline constexpr size_t kMaxRecords = 8;

namespace content_type {
inline constexpr uint8_t kChangeCipherSpec = 20;
inline constexpr uint8_t kAlert = 21;
inline constexpr uint8_t kHandshake = 22;
inline constexpr uint8_t kApplicationData = 23;
inline constexpr uint8_t kHeartbeat = 24;
inline constexpr uint8_t kTls12Cid = 25;  ///< RFC 9146
}  // namespace content_type

namespace handshake_type {
inline constexpr uint8_t kClientHello = 1;
inline constexpr uint8_t kServerHello = 2;
inline constexpr uint8_t kHelloVerifyRequest = 3;
}  // namespace handshake_type

enum class Anomaly : uint8_t {
    TruncatedRecord,  ///< a record after the first runs past the datagram
    BadRecord,  ///< a record after the first has an unknown type/version
    CidCiphertext,  ///< DTLS 1.3 record with connection ID ended the walk
    BadClientHello,  ///< ClientHello body does not parse
};
[[nodiscard]] constexpr uint32_t bit(Anomaly a) noexcept { return 1u << static_cast<unsigned>(a); }

struct Record {
    uint8_t content_type = 0;  ///< 20..25, or the DTLS 1.3 unified-header first byte (0x20..0x3F)
    uint16_t version = 0;  ///< 0 for DTLS 1.3 unified-header records
    uint16_t epoch = 0;
    uint64_t sequence_number = 0;  ///< 48 bits (unified header: the low 8/16 bits)
    ByteView fragment;
};

struct ClientHello {
    uint16_t client_version = 0;
    ByteView random;  ///< 32 bytes
    ByteView session_id;
    ByteView cookie;  ///< empty on the first ClientHello, set after HelloVerifyRequest
    uint16_t cipher_suite_count = 0;
    uint16_t extension_count = 0;
    bool use_srtp = false;  ///< RFC 5764: DTLS-SRTP, i.e. WebRTC media keying
    ByteView server_name;  ///< first host_name in server_name, if any
    ByteView first_alpn;  ///< first ALPN protocol ("webrtc", "c-webrtc")
};

struct Datagram {
    StaticVector<Record, kMaxRecords> records;
    uint16_t record_count = 0;  ///< all records walked
    uint16_t version = 0;  ///< first record's version
    bool handshake = false;  ///< a handshake record (any epoch)
    bool client_hello = false;
    bool server_hello = false;
    bool hello_verify_request = false;
    bool dtls13_ciphertext = false;
    std::optional<ClientHello> client_hello_info;
    uint32_t anomalies = 0;
};

/// First record header is DTLS 1.0/1.2 plaintext (type 20..25, version
/// 0xFEFF/0xFEFD) and fits in the view.
[[nodiscard]] bool probe(ByteView bytes) noexcept;

/// Walks the records of one datagram.
///
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  | content type  |    version (0xFEFD)           |    epoch ...
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    ... epoch     |          sequence_number (48 bits) ...
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///                  ...                          |    length       ...
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    ... length    |  fragment ...
///
/// NotThisProtocol: first record's type/version not DTLS. Truncated: first
/// record header or length beyond the view.
[[nodiscard]] Result<Datagram> decode(ByteView bytes) noexcept;

}  // namespace callwall::proto::dtls
