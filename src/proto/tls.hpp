// TLS: ClientHello (SNI, ALPN, supported_versions, ECH), the server's first answer (ServerHello
// or a plaintext Alert), and reassembly of a first flight spread over TCP segments and records.
//
// Normative references:
//   RFC 8446 §5.1       record layer (TLSPlaintext; length ≤ 2^14; no zero-length handshake
//                       fragments; handshake messages may span records)
//   RFC 8446 §4         handshake header (msg_type u8, length u24)
//   RFC 8446 §4.1.2     ClientHello;  §4.1.3 ServerHello, HelloRetryRequest (special random),
//                       downgrade sentinels;  §4.2 extensions (no duplicates)
//   RFC 8446 §4.2.1     supported_versions (43);  §4.2.8 key_share (51)
//   RFC 8446 §6         Alert (level u8, description u8); level 2 = fatal
//   RFC 5246 §7.4.1.2   TLS 1.2 ClientHello (extensions optional)
//   RFC 6066 §3         server_name (0): ServerNameList of {name_type, HostName}
//   RFC 7301 §3.1       application_layer_protocol_negotiation (16)
//   RFC 8701            GREASE values (0x?a?a), ignored when picking versions
//   draft-ietf-tls-esni-18 §5  encrypted_client_hello (0xfe0d): ECHClientHello type u8
//                       (0 outer, 1 inner); older drafts' encrypted_server_name 0xffce
//   RFC 793 §3.3        sequence numbers (modulo 2^32 comparison)
//
// Variants seen in first flights:
//
//   what                      record version   hello legacy_version   real version in
//   TLS 1.0–1.2 client        0x0301–0x0303    0x0301–0x0303          legacy_version
//   TLS 1.3 client            0x0301 (mostly)  0x0303                 supported_versions (list)
//   TLS 1.3 server            0x0303           0x0303                 supported_versions (one)
//   TLS 1.3 draft ≤ 21 server 0x0301/0x0303    0x7fNN; no session id  legacy_version
//                                              echo, no compression
//   HelloRetryRequest         0x0303           0x0303 (SH, random =   supported_versions
//                                              SHA-256("HelloRetryRequest"))
//   ECH (outer) client        as TLS 1.3       as TLS 1.3             SNI = public name; the
//                                                                     real name is encrypted
//
// Not supported:
//   - SSLv2-compatible ClientHellos (RFC 5246 Appendix E.2) are read for their version,
//     session id and challenge only (they have no extensions: no SNI, no ALPN); the SSLv2
//     protocol itself (version 0x0002) is not; DTLS (different record and hello layout);
//   - anything encrypted: TLS 1.3 EncryptedExtensions (the server's ALPN choice), encrypted
//     alerts, ECH inner hellos, ESNI; GREASE ECH cannot be told from real ECH by design;
//   - alerts after the ServerHello (only the server's first record is looked at);
//   - record-layer compression (never negotiated in practice; RFC 8446 forbids it);
//   - fingerprints (JA3/JA4): extension types are kept, nothing is hashed here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bytes/reader.hpp"
#include "bytes/result.hpp"

namespace callwall::proto::tls {

// ---------------------------------------------------------------------------------------------
// Limits

/// RFC 8446 §5.1 TLSPlaintext header: type u8, legacy_record_version u16, length u16.
inline constexpr size_t kRecordHeaderLength = 5;
/// RFC 8446 §4: msg_type u8, length u24.
inline constexpr size_t kHandshakeHeaderLength = 4;
/// RFC 8446 §5.1: plaintext fragments are at most 2^14 bytes.
inline constexpr size_t kMaxPlaintextRecord = 16384;
/// RFC 5246 §6.2.3: ciphertext may add 2048 bytes; probe() accepts up to this.
inline constexpr size_t kMaxCiphertextRecord = 16384 + 2048;
/// Smallest ClientHello/ServerHello body: version 2 + random 32 + session id length 1 +
/// one suite 2 (SH: suite 2) + compression 1.
inline constexpr size_t kMinHelloBody = 38;
/// ALPN protocols kept from a ClientHello. Browsers offer 2–3 (h2, http/1.1; h3 for QUIC);
/// more are counted (alpn.overflowed()).
inline constexpr size_t kMaxAlpn = 8;
/// Extension types kept, in order (for debugging and later fingerprints). Chrome sends ~18,
/// Firefox ~17; 48 covers padding-heavy stacks. extension_count counts them all.
inline constexpr size_t kMaxExtensionTypes = 48;
/// Smallest buffer to lend a flight assembler: a first flight of 16 KiB covers ClientHellos
/// with post-quantum key shares (~1.8 KB, zeek chrome-1250 capture), large PSK tickets and the
/// 11.4 KB hello of ndpi__tls_with_huge_ch. Larger hellos fail with Unsupported.
inline constexpr size_t kMinFlightBuffer = 16 * 1024;
/// Disjoint filled byte ranges an assembler tracks. Each hole costs one range; a hello spans
/// 1–9 segments, so 8 tolerates heavy reordering. A segment that would need a ninth range is
/// dropped (counted) and must come again as a retransmission.
inline constexpr size_t kMaxFilledRanges = 8;
/// Without the SYN, the first segment seen is taken as the stream start. If it does not start
/// a TLS record, this many segments are waited for (an earlier segment may still arrive and
/// move the start back) before giving up with NotThisProtocol. A valid record header of
/// another type (application data, encrypted alert: a connection seen mid-stream) fails at
/// once. Public captures: the reordered first segment, when it happens, is the next one.
inline constexpr uint32_t kUnanchoredPatience = 4;

namespace content_type {
inline constexpr uint8_t kChangeCipherSpec = 20;
inline constexpr uint8_t kAlert = 21;
inline constexpr uint8_t kHandshake = 22;
inline constexpr uint8_t kApplicationData = 23;
}  // namespace content_type

namespace handshake_type {
inline constexpr uint8_t kClientHello = 1;
inline constexpr uint8_t kServerHello = 2;
}  // namespace handshake_type

namespace extension {
inline constexpr uint16_t kServerName = 0;
inline constexpr uint16_t kSupportedGroups = 10;
inline constexpr uint16_t kAlpn = 16;
inline constexpr uint16_t kPadding = 21;
inline constexpr uint16_t kSupportedVersions = 43;
inline constexpr uint16_t kKeyShare = 51;
inline constexpr uint16_t kEncryptedClientHello = 0xfe0d;
inline constexpr uint16_t kEncryptedServerName = 0xffce;  ///< ESNI drafts
}  // namespace extension

namespace version {
inline constexpr uint16_t kSsl30 = 0x0300;
inline constexpr uint16_t kTls10 = 0x0301;
inline constexpr uint16_t kTls11 = 0x0302;
inline constexpr uint16_t kTls12 = 0x0303;
inline constexpr uint16_t kTls13 = 0x0304;
}  // namespace version

/// RFC 8701: 0x0a0a, 0x1a1a, …, 0xfafa.
[[nodiscard]] constexpr bool is_grease(uint16_t v) noexcept { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

// ---------------------------------------------------------------------------------------------
// Result types

enum class Anomaly : uint32_t {
    SniEmpty = 1u << 0,  ///< server_name without a (non-empty) host_name
    SniMultiple = 1u << 1,  ///< RFC 6066 §3: more than one host_name (first kept)
    SniOddChars = 1u << 2,  ///< host_name with bytes outside printable ASCII
    SniMalformed = 1u << 3,  ///< ServerNameList framing broken (ignored after that)
    AlpnMalformed = 1u << 4,  ///< ProtocolNameList framing broken or empty name
    SupportedVersionsMalformed = 1u << 5,
    DuplicateExtension = 1u << 6,  ///< RFC 8446 §4.2: an extension type appears twice
    TrailingBytes = 1u << 7,  ///< bytes after the extensions inside the hello body
    KeyShareMalformed = 1u << 8,  ///< ServerHello key_share too short
    Sslv2Hello = 1u << 9,  ///< an SSLv2-compatible ClientHello (no extensions to read)
    // Assembler (FlightAssembler::anomalies()):
    OverlapConflict = 1u << 16,  ///< a retransmission disagreed with bytes held (first kept)
    BeyondBuffer = 1u << 17,  ///< bytes past the lent buffer were dropped
    RangeOverflow = 1u << 18,  ///< a segment needing > kMaxFilledRanges ranges was dropped
    BeforeStart = 1u << 19,  ///< bytes before the stream start were dropped
};
[[nodiscard]] constexpr uint32_t bit(Anomaly a) noexcept { return static_cast<uint32_t>(a); }

/// A ClientHello. Views point into the bytes given to decode_client_hello() (a packet, the
/// QUIC CRYPTO buffer or an assembler's buffer) and are valid as long as those are.
struct ClientHello {
    uint16_t legacy_version = 0;
    ByteView random{};
    ByteView session_id{};
    ByteView cipher_suites{};  ///< 2 bytes per suite
    ByteView compression_methods{};
    /// First host_name of server_name (RFC 6066), empty when absent. With ECH this is the
    /// outer (public) name.
    ByteView server_name{};
    /// ALPN protocol names in offered order. overflowed(): more than kMaxAlpn.
    StaticVector<ByteView, kMaxAlpn> alpn{};
    bool supported_versions_present = false;
    /// Highest non-GREASE version offered in supported_versions (TLS 1.3 drafts 0x7fNN rank
    /// between 1.2 and 1.3); 0 when the extension is absent.
    uint16_t highest_version = 0;
    /// TLS 1.3 (or a 1.3 draft) is offered in supported_versions.
    bool tls13 = false;
    /// encrypted_client_hello (0xfe0d) present: real or GREASE ECH. ech_type: 0 outer, 1 inner.
    bool ech = false;
    uint8_t ech_type = 0;
    /// encrypted_server_name (0xffce, ESNI drafts) present.
    bool esni = false;
    uint16_t extension_count = 0;
    /// Extension types in order. overflowed(): more than kMaxExtensionTypes.
    StaticVector<uint16_t, kMaxExtensionTypes> extension_types{};
    /// Whole handshake message, 4-byte header included.
    uint32_t length = 0;
    uint32_t anomalies = 0;  ///< Anomaly bits

    /// The version the client is asking for: highest_version, else legacy_version.
    [[nodiscard]] uint16_t offered_version() const noexcept {
        return highest_version != 0 ? highest_version : legacy_version;
    }
};

/// A ServerHello (or HelloRetryRequest). Views into the decoded bytes.
struct ServerHello {
    uint16_t legacy_version = 0;
    ByteView random{};
    ByteView session_id{};
    uint16_t cipher_suite = 0;
    uint8_t compression_method = 0;
    /// supported_versions (RFC 8446 §4.2.1) selected_version; 0 when absent (TLS ≤ 1.2).
    uint16_t selected_version = 0;
    /// key_share group (RFC 8446 §4.2.8; HRR: the requested group); 0 when absent.
    uint16_t key_share_group = 0;
    /// ALPN protocol the server chose, when sent in the clear (TLS ≤ 1.2).
    ByteView alpn{};
    /// random is the HelloRetryRequest value (RFC 8446 §4.1.3).
    bool hello_retry_request = false;
    /// random ends with "DOWNGRD\x01"/"\x00": a TLS 1.3-capable server negotiated ≤ 1.2.
    bool downgrade_sentinel = false;
    uint16_t extension_count = 0;
    uint32_t length = 0;
    uint32_t anomalies = 0;

    /// The negotiated version: selected_version, else legacy_version.
    [[nodiscard]] uint16_t version() const noexcept {
        return selected_version != 0 ? selected_version : legacy_version;
    }
};

/// What the server's first record says: it answered (ServerHello) or refused (Alert).
struct ServerFlight {
    bool has_server_hello = false;
    ServerHello server_hello{};
    bool has_alert = false;
    uint8_t alert_level = 0;  ///< 1 warning, 2 fatal
    uint8_t alert_description = 0;  ///< RFC 8446 §6 AlertDescription (40 handshake_failure…)

    [[nodiscard]] bool fatal_alert() const noexcept { return has_alert && alert_level == 2; }
};

// ---------------------------------------------------------------------------------------------
// Stateless decoding

/// Cheap check of the first bytes of a TCP direction: a Handshake record (22) carrying a
/// ClientHello or ServerHello, or an unencrypted Alert record (21, length 2, level 1 or 2);
/// record version 0x0300–0x0304; plausible lengths; or an SSLv2-compatible ClientHello
/// (looks_like_sslv2_hello). No side effects.
[[nodiscard]] bool probe(ByteView stream_start) noexcept;

/// An SSLv2-compatible ClientHello at the start of a client's stream (RFC 5246 Appendix E.2):
/// a 2-byte length with the top bit set, msg_type 1, version major 3, plausible lengths.
[[nodiscard]] bool looks_like_sslv2_hello(ByteView stream_start) noexcept;

/// Decodes an SSLv2-compatible ClientHello; `msg` starts at its msg_type (after the 2-byte
/// length). legacy_version is the version offered; random is the challenge; cipher_suites is
/// empty (SSLv2 cipher specs are 3 bytes each); no extensions. length: the message's.
[[nodiscard]] Result<ClientHello> decode_sslv2_client_hello(ByteView msg) noexcept;

/// Total length (header included) of the handshake message at the start of `handshake`, or 0
/// when fewer than 4 bytes are given. For callers that gather CRYPTO/record bytes.
[[nodiscard]] size_t handshake_message_length(ByteView handshake) noexcept;

/// Decodes a ClientHello handshake message; `handshake` starts at its 4-byte header (also the
/// form QUIC CRYPTO frames carry). Bytes after the message are ignored.
/// NotThisProtocol: msg_type ≠ 1 or legacy_version major ≠ 3. Truncated: the message is longer
/// than the bytes given. Malformed: fields or extension framing impossible.
[[nodiscard]] Result<ClientHello> decode_client_hello(ByteView handshake) noexcept;

/// Decodes a ServerHello handshake message (4-byte header included). Errors as above.
[[nodiscard]] Result<ServerHello> decode_server_hello(ByteView handshake) noexcept;

/// Decodes the ClientHello at the start of a client's TCP stream (records), without copying:
/// works when the whole hello is inside the first record of `client_stream`. Truncated: it is
/// not (needs more segments or spans records) — feed a ClientHelloAssembler. NotThisProtocol:
/// not a TLS handshake record. An SSLv2-compatible hello is decoded as
/// decode_sslv2_client_hello does.
[[nodiscard]] Result<ClientHello> decode_record_stream(ByteView client_stream) noexcept;

/// Decodes the server's first record(s): a ServerHello inside the first record, or a plaintext
/// Alert as the first record. Truncated: incomplete (feed a ServerFlightAssembler).
[[nodiscard]] Result<ServerFlight> decode_server_flight(ByteView server_stream) noexcept;

// ---------------------------------------------------------------------------------------------
// First-flight reassembly

enum class AssemblyStatus : uint8_t {
    NeedMore,  ///< keep feeding segments of this direction
    Done,  ///< the first handshake message (or alert) is complete and decoded
    Failed,  ///< sticky: not TLS, malformed, or larger than the buffer (see error())
};

enum class Side : uint8_t { Client, Server };

/// Reassembles the first bytes of one TCP direction into a caller-lent buffer until its first
/// handshake message (ClientHello / ServerHello) — or, on the server side, a leading Alert —
/// is complete, across segments (any order, retransmissions, overlaps: first copy wins) and
/// across records. Sequence numbers are taken relative to the stream start, modulo 2^32.
///
/// Memory: the buffer belongs to the caller (e.g. a bounded pool in the flow table) and must
/// outlive the assembler and any view obtained from it; ≥ kMinFlightBuffer is recommended.
/// Only the contiguous filled prefix is ever parsed, so the buffer need not be initialised.
/// When a hello spans records, the record headers are squeezed out in place once it is
/// complete (no second buffer); after Done/Failed further segments are ignored.
class FlightAssembler {
public:
    struct Stats {
        uint32_t segments = 0;  ///< non-empty segments fed
        uint32_t retransmitted_bytes = 0;  ///< bytes that were already held
        uint32_t dropped_segments = 0;  ///< range list full (RangeOverflow)
        uint32_t clipped_bytes = 0;  ///< before the start or past the buffer
    };

    FlightAssembler(std::span<uint8_t> buffer, Side side) noexcept;

    /// The SYN of this direction was seen: data starts at syn_seq + 1. Call for every SYN (or
    /// SYN-ACK) of the direction before its first data (the last call wins); ignored after.
    /// Without it the first segment fed is taken as the start (and may move back if an
    /// earlier one arrives and fits).
    void anchor_syn(uint32_t syn_seq) noexcept;

    /// This assembler reads a direction's second flight (after a
    /// HelloRetryRequest): data starts at `seq`, which may open with a
    /// ChangeCipherSpec record (RFC 8446 Appendix D.4). Call before the first
    /// segment; ignored after.
    void start_second_flight(uint32_t seq) noexcept;

    /// Done with a handshake message: the sequence number just past the
    /// record that holds its last byte (where this direction's next flight
    /// starts). False otherwise (not done, an alert, an SSLv2 hello).
    [[nodiscard]] bool next_flight_seq(uint32_t& seq) const noexcept;

    /// Feeds one TCP segment's payload with its sequence number.
    AssemblyStatus add_segment(uint32_t seq, ByteView payload) noexcept;

    [[nodiscard]] AssemblyStatus status() const noexcept { return status_; }
    /// Failed: why (NotThisProtocol, Malformed, Unsupported = larger than the buffer).
    [[nodiscard]] DecodeError error() const noexcept { return error_; }
    /// Done: the first handshake message, header included (empty when Done by an alert).
    [[nodiscard]] ByteView handshake() const noexcept;
    /// Contiguous bytes held from the stream start (at most the buffer).
    [[nodiscard]] size_t contiguous_bytes() const noexcept;
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
    [[nodiscard]] uint32_t anomalies() const noexcept { return anomalies_; }

protected:
    bool alert_seen_ = false;
    uint8_t alert_level_ = 0;
    uint8_t alert_description_ = 0;

private:
    struct Range {
        uint32_t begin = 0;
        uint32_t end = 0;  // exclusive
    };

    void insert(size_t offset, ByteView data) noexcept;
    bool rebase(size_t shift) noexcept;
    void evaluate() noexcept;
    void fail(DecodeErrorCode code, size_t offset) noexcept;

    std::span<uint8_t> buffer_;
    Range ranges_[kMaxFilledRanges]{};
    uint8_t range_count_ = 0;
    Side side_;
    AssemblyStatus status_ = AssemblyStatus::NeedMore;
    bool anchored_ = false;
    bool have_start_ = false;
    uint32_t start_seq_ = 0;
    uint32_t handshake_offset_ = 0;
    uint32_t handshake_length_ = 0;
    uint32_t records_end_ = 0;  ///< Done: stream offset past the message's last record
    bool second_flight_ = false;

protected:
    bool sslv2_ = false;  ///< the client's hello is SSLv2-compatible (handshake() is its message)

private:
    DecodeError error_{};
    Stats stats_{};
    uint32_t anomalies_ = 0;
};

/// Client side: Done means a ClientHello that decodes.
class ClientHelloAssembler : public FlightAssembler {
public:
    explicit ClientHelloAssembler(std::span<uint8_t> buffer) noexcept : FlightAssembler(buffer, Side::Client) {}
    /// Done: the hello (views into the lent buffer). NeedMore: Truncated. Failed: error().
    [[nodiscard]] Result<ClientHello> client_hello() const noexcept;
};

/// Server side: Done means a ServerHello that decodes, or a leading plaintext Alert.
class ServerFlightAssembler : public FlightAssembler {
public:
    explicit ServerFlightAssembler(std::span<uint8_t> buffer) noexcept : FlightAssembler(buffer, Side::Server) {}
    /// Done: the flight (views into the lent buffer). NeedMore: Truncated. Failed: error().
    [[nodiscard]] Result<ServerFlight> server_flight() const noexcept;
};

}  // namespace callwall::proto::tls
