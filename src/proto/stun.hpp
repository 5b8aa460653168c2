// STUN/TURN messages, TURN ChannelData, Microsoft multiplexed TURN, STUN stream
// framing over TCP/TLS, transaction tracking and a ChannelData validator.
//
// Normative references:
//   RFC 8489 (STUN, obsoletes RFC 5389) §5 header, §6 stream framing, §14 attributes,
//     §14.7 FINGERPRINT (CRC-32 XOR 0x5354554E);
//   RFC 3489 §11 (classic STUN: 128-bit transaction id, no magic cookie);
//   RFC 8656 (TURN, obsoletes RFC 5766) §12.4 ChannelData, §12.5 framing over TCP,
//     §18 attributes (CHANNEL-NUMBER, LIFETIME, XOR-PEER-ADDRESS, DATA,
//     XOR-RELAYED-ADDRESS, REQUESTED-TRANSPORT);
//   RFC 4571 + RFC 6544 §3 (ICE-TCP: 16-bit length prefix before each STUN/media packet);
//   RFC 7983 / RFC 9443 (first-byte demultiplexing; methods 0x100-0xFFF reserved);
//   [MS-TURN] §2.2.3 multiplexed TURN channel (Channel_ID 0xFF10, Length,
//     8-byte MTURN_Session_ID, Data) and the MAGIC-COOKIE attribute (0x000F);
//   RFC 5769 (test vectors; used by the unit tests).
//
// Not supported:
//   - MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256 verification (needs the
//     long-term or short-term credential); only presence is reported.
//   - Reassembly of STUN over TLS (TURNS): the framer works on clear-text
//     stream bytes; a TLS stream makes it give up, which is the signal for the
//     caller to try TLS instead.
//   - Classic RFC 3489 STUN over TCP (shared-secret requests): the stream
//     framer only frames messages that carry the magic cookie.
//   - The MS-TURN type 0x0115 ("Data Indication" in MS-TURN) is reported by
//     its bit layout (method 5, error-response class) when it carries the RFC
//     5389 cookie; without the cookie (legacy MS-TURN: 128-bit transaction id,
//     MAGIC-COOKIE first attribute, REMOTE-ADDRESS 0x0012 in the clear) it is
//     decoded as a Data Indication (method Data, class Indication, variant
//     MsTurn; the remote address as a peer address).
//   - Padding of MS multiplexed TURN frames over TCP: [MS-TURN] defines none,
//     so none is assumed (Wireshark pads them like ChannelData; no capture
//     available to settle it).
//
// Variant differences (cf. Wireshark packet-stun.c):
//
//  aspect          | RFC 3489 (classic)  | RFC 5389 / 8489         | MS-TURN               |
//  ----------------+---------------------+-------------------------+-----------------------+
//  bytes 4..8      | part of 128-bit id  | magic cookie 0x2112A442 | magic cookie (v18+)   |
//  transaction id  | 16 bytes            | 12 bytes                | 12 bytes              |
//  message type    | fixed set (6 types) | 2 class bits + 12-bit   | like 5389, plus the   |
//                  |                     | method; methods <=0xFF  | legacy type 0x0115    |
//  attr. padding   | none (all lengths   | value padded to 4,      | none                  |
//                  | multiple of 4)      | length excludes padding |                       |
//  REALM / NONCE   | n/a                 | 0x0014 / 0x0015         | 0x0015 / 0x0014       |
//                  |                     |                         | (MAGIC-COOKIE attr.)  |
//  XOR addresses   | n/a (MAPPED only)   | XOR with cookie (+id    | also 0x8020           |
//                  |                     | for IPv6)               | XOR-MAPPED-ADDRESS    |
//  channels        | n/a                 | 0x4000-0x7FFF (RFC 5766)| 0xFF10 multiplexed    |
//                  |                     | 0x4000-0x4FFF (RFC 8656)| TURN channel          |
//  FINGERPRINT     | n/a                 | optional, last attr.    | optional              |
//
// How this decoder decides between them: a message with the cookie is decoded
// as RFC 5389/8489 (attributes padded; if and only if the padded walk fails
// and an unpadded walk fits exactly, it is accepted with the UnpaddedAttributes
// anomaly — MS-TURN/early-draft style). A message without the cookie is
// accepted as classic RFC 3489 only under strict checks (known type, length a
// multiple of 4 and equal to the rest of the datagram, attributes walking
// exactly to the end); the one cookie-less type outside RFC 3489 accepted is
// the legacy MS-TURN Data Indication 0x0115, under the same checks and only
// when its first attribute is MAGIC-COOKIE. The MAGIC-COOKIE attribute
// switches REALM/NONCE to the MS-TURN numbering.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "bytes/reader.hpp"
#include "bytes/result.hpp"

namespace callwall::proto::stun {

/// RFC 8489 §5: fixed value in bytes 4..8 of every RFC 5389/8489 message.
inline constexpr uint32_t kMagicCookie = 0x2112A442;
/// RFC 8489 §14.7: the FINGERPRINT value is CRC-32 XOR this constant.
inline constexpr uint32_t kFingerprintXor = 0x5354554E;
/// [MS-TURN] MAGIC-COOKIE attribute value.
inline constexpr uint32_t kMsTurnMagicCookie = 0x72C64BC6;
/// RFC 8489 §5: type(2) length(2) cookie(4) transaction id(12).
inline constexpr size_t kHeaderLen = 20;
/// RFC 8656 §12.4: channel number(2) length(2).
inline constexpr size_t kChannelHeaderLen = 4;
/// [MS-TURN]: Channel_ID of multiplexed TURN frames.
inline constexpr uint16_t kMsMultiplexedChannel = 0xFF10;
/// [MS-TURN]: MTURN_Session_ID length.
inline constexpr size_t kMsSessionIdLen = 8;

/// Peer addresses kept per message. A CreatePermission request may carry
/// several XOR-PEER-ADDRESS attributes (RFC 8656 §9.1); captures show at most
/// 2. More are counted via the StaticVector overflow flag.
inline constexpr size_t kMaxPeerAddresses = 8;
/// RFC 8656 §7.1 dual allocation: at most one IPv4 and one IPv6 relayed address.
inline constexpr size_t kMaxRelayedAddresses = 2;
/// Attribute types recorded in order (for golden output and fingerprinting of
/// implementations). Real messages have <= 12; the walk itself is bounded by
/// the 16-bit message length, not by this.
inline constexpr size_t kMaxRecordedAttributes = 32;

enum class Method : uint16_t {
    Binding = 0x001,
    SharedSecret = 0x002,  // RFC 3489 only
    Allocate = 0x003,
    Refresh = 0x004,
    Send = 0x006,
    Data = 0x007,
    CreatePermission = 0x008,
    ChannelBind = 0x009,
    Connect = 0x00A,  // RFC 6062
    ConnectionBind = 0x00B,  // RFC 6062
    ConnectionAttempt = 0x00C,  // RFC 6062
    GoogPing = 0x080,  // IANA, Google
    // Any other value up to 0xFF is carried by number.
};

enum class MessageClass : uint8_t { Request = 0, Indication = 1, SuccessResponse = 2, ErrorResponse = 3 };

enum class Variant : uint8_t {
    Rfc5389,  ///< magic cookie present (RFC 5389/8489)
    MsTurn,  ///< MS-TURN MAGIC-COOKIE attribute seen (with the magic cookie, or a legacy 0x0115)
    Classic3489,  ///< no magic cookie, accepted under the strict classic checks
};

/// Attribute type numbers (IANA STUN Attributes registry).
namespace attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kChannelNumber = 0x000C;
inline constexpr uint16_t kLifetime = 0x000D;
inline constexpr uint16_t kMsMagicCookie = 0x000F;
inline constexpr uint16_t kXorPeerAddress = 0x0012;
inline constexpr uint16_t kData = 0x0013;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kXorRelayedAddress = 0x0016;
inline constexpr uint16_t kRequestedTransport = 0x0019;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;  // RFC 8445 §16.1
inline constexpr uint16_t kUseCandidate = 0x0025;  // RFC 8445 §16.1
inline constexpr uint16_t kIceControlled = 0x8029;  // RFC 8445 §16.1
inline constexpr uint16_t kIceControlling = 0x802A;  // RFC 8445 §16.1
inline constexpr uint16_t kMsXorMappedAddress = 0x8020;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kFingerprint = 0x8028;
}  // namespace attr

/// Recoverable oddities; the caller counts them (bit i = 1u << Anomaly).
enum class Anomaly : uint8_t {
    TrailingBytes,  ///< bytes after the message in the given view
    UnpaddedAttributes,  ///< attributes not padded to 4 (MS-TURN / early drafts)
    AttributeAfterIntegrity,  ///< attribute other than FINGERPRINT after MESSAGE-INTEGRITY
    AttributeAfterFingerprint,  ///< FINGERPRINT not last
    BadAttributeLength,  ///< known attribute with a length its format forbids
    BadAddressFamily,  ///< address family not 0x01/0x02
    DuplicateAttribute,  ///< a single-valued attribute repeated; first one kept
    FingerprintMismatch,  ///< FINGERPRINT present but CRC does not match
    NonZeroPadding,  ///< RFC 8489 §14: padding MBZ (RFC 5389 allowed any)
    ReservedChannel,  ///< channel outside RFC 8656's 0x4000-0x4FFF
    LengthNotMultipleOf4,  ///< header length not a multiple of 4
};
[[nodiscard]] constexpr uint32_t bit(Anomaly a) noexcept { return 1u << static_cast<unsigned>(a); }

/// A transport address from (XOR-)MAPPED/PEER/RELAYED-ADDRESS, already de-XORed.
struct Address {
    uint8_t family = 0;  ///< 4 or 6
    uint16_t port = 0;
    std::array<uint8_t, 16> addr{};  ///< IPv4 in the first 4 bytes

    friend constexpr bool operator==(const Address&, const Address&) = default;
};

struct ErrorCode {
    uint16_t code = 0;  ///< class * 100 + number (RFC 8489 §14.8)
    ByteView reason;  ///< UTF-8 reason phrase, view into the packet
};

/// A decoded STUN message. Views point into the decoded buffer.
struct Message {
    Variant variant = Variant::Rfc5389;
    uint16_t type = 0;  ///< raw 16-bit message type
    Method method = Method::Binding;
    MessageClass msg_class = MessageClass::Request;
    uint16_t length = 0;  ///< header length field (attributes, bytes)
    ByteView transaction_id;  ///< 12 bytes (RFC 5389/8489) or 16 bytes (RFC 3489)

    std::optional<Address> mapped_address;
    std::optional<Address> xor_mapped_address;
    StaticVector<Address, kMaxRelayedAddresses> xor_relayed_addresses;
    StaticVector<Address, kMaxPeerAddresses> xor_peer_addresses;
    ByteView username;
    ByteView realm;
    ByteView nonce;
    ByteView software;
    std::optional<ErrorCode> error_code;
    std::optional<uint16_t> channel_number;
    std::optional<uint32_t> lifetime_s;
    std::optional<uint8_t> requested_transport;  ///< IANA protocol number (17 = UDP)
    std::optional<ByteView> data;  ///< DATA value (relayed payload)
    bool message_integrity = false;
    bool message_integrity_sha256 = false;
    bool fingerprint = false;  ///< FINGERPRINT attribute present
    bool fingerprint_ok = false;  ///< present and CRC matches
    uint16_t attribute_count = 0;
    StaticVector<uint16_t, kMaxRecordedAttributes> attribute_types;  ///< in wire order
    uint32_t anomalies = 0;  ///< bit(Anomaly)
    uint32_t size = 0;  ///< bytes of the message (header + attributes)

    [[nodiscard]] bool has(Anomaly a) const noexcept { return (anomalies & bit(a)) != 0; }
};

/// An ICE connectivity check (RFC 8445 §7.1.1, RFC 5245 §7.1.2): a Binding
/// request carrying PRIORITY or ICE-CONTROLLED/ICE-CONTROLLING, which only
/// ICE agents send (a plain server-reflexive Binding request carries none).
/// Looks at the recorded attribute types (the first kMaxRecordedAttributes).
[[nodiscard]] bool is_ice_check(const Message& m) noexcept;

/// Cheap check: does this look like a STUN message (RFC 5389/8489 by its
/// cookie, or classic RFC 3489 under the strict checks)? No side effects.
[[nodiscard]] bool probe(ByteView bytes) noexcept;

/// Decodes one STUN message starting at bytes[0]. Bytes after the message are
/// allowed (TrailingBytes anomaly) so stream slices and datagrams both work.
/// Errors: NotThisProtocol (not STUN; includes cookie-less data failing the
/// classic checks), Truncated (header or declared length beyond the view),
/// Malformed (an attribute runs past the declared message length).
[[nodiscard]] Result<Message> decode(ByteView bytes) noexcept;

[[nodiscard]] std::string_view to_string(Method m) noexcept;  ///< "Binding"...; "" if unnamed
[[nodiscard]] std::string_view to_string(MessageClass c) noexcept;
[[nodiscard]] std::string_view attribute_name(uint16_t type) noexcept;  ///< "" if unnamed

/// CRC-32 (IEEE 802.3, reflected, as zlib's crc32). `crc` is the running
/// value (0 to start).
[[nodiscard]] uint32_t crc32(ByteView bytes, uint32_t crc = 0) noexcept;

// ---------------------------------------------------------------------------
// TURN ChannelData (RFC 8656 §12.4) and MS multiplexed TURN ([MS-TURN]).

enum class ChannelKind : uint8_t {
    Rfc,  ///< RFC 5766/8656 ChannelData, channel 0x4000-0x7FFF
    MsMultiplexed,  ///< [MS-TURN] multiplexed TURN channel, Channel_ID 0xFF10
};

struct ChannelData {
    ChannelKind kind = ChannelKind::Rfc;
    uint16_t channel = 0;
    uint16_t length = 0;  ///< length field
    ByteView session_id;  ///< MsMultiplexed only: 8-byte MTURN_Session_ID
    ByteView payload;  ///< application data (what the peer sent/receives)
    uint32_t size = 0;  ///< bytes consumed including padding
    uint32_t anomalies = 0;
};

/// Decodes a ChannelData (first two bits 01) or MS multiplexed TURN frame.
///
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |         Channel Number        |            Length             |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  /                       Application Data                        /
///  |                               +-------------------------------+
///  |                               |        padding (TCP)          |
///  +-------------------------------+
///
/// Over UDP the view is the whole datagram: it must hold the data and may hold
/// padding up to the next multiple of 4, nothing more (else Malformed). Over
/// TCP the frame is padded to 4 and more bytes may follow (size says where
/// the next frame starts). A length beyond the view is Truncated.
[[nodiscard]] Result<ChannelData> decode_channel_data(ByteView bytes, bool over_tcp) noexcept;

// ---------------------------------------------------------------------------
// Stream framing over TCP / TLS-443 (RFC 8656 §12.5, RFC 6544 §3).

enum class FrameKind : uint8_t {
    Stun,  ///< a STUN message (decode with stun::decode)
    ChannelData,  ///< RFC ChannelData (decode_channel_data(bytes, true))
    MsMultiplexed,  ///< [MS-TURN] multiplexed TURN frame
    Rfc4571Payload,  ///< ICE-TCP frame whose payload is not STUN (RTP/RTCP/DTLS)
};

enum class StreamFraming : uint8_t {
    Unknown,  ///< nothing seen yet
    Direct,  ///< STUN and ChannelData back to back (RFC 8656 §12.5)
    Rfc4571,  ///< 16-bit length prefix per packet (RFC 4571, ICE-TCP RFC 6544)
};

enum class GiveUpReason : uint8_t {
    None,
    NotStunFramed,  ///< a frame boundary did not start a STUN/ChannelData frame
    BadLength,  ///< STUN length not a multiple of 4, or an empty RFC 4571 frame
    BufferFull,  ///< buffer < kMinBuffer, or feed() again without draining next()
};

/// One complete frame. `bytes` is the frame as it appears on the wire
/// (for Rfc4571 framing: without the 2-byte prefix). Valid until the next
/// call to feed() or next().
struct Frame {
    FrameKind kind = FrameKind::Stun;
    ByteView bytes;
};

/// Per-direction framer for STUN/TURN over a byte stream. Fed in-order bytes
/// (the caller does TCP reassembly); yields complete frames, zero-copy when a
/// frame lies inside one segment and copied into the caller's buffer when it
/// spans segments. Never allocates. A frame larger than the buffer is skipped
/// (counted in oversize_skipped()) without losing sync, since its length is
/// known from its header.
///
/// Gives up for good when a frame boundary does not begin with a STUN header
/// carrying the magic cookie, a ChannelData header or an MS multiplexed TURN
/// header — a stream has no resynchronisation point. The first frame decides
/// between direct and RFC 4571 framing (cookie at offset 6 instead of 4).
class StreamFramer {
public:
    /// Smallest useful buffer: the largest frame header this framer must see
    /// before it knows the frame length (RFC 4571 prefix + STUN header).
    static constexpr size_t kMinBuffer = 2 + kHeaderLen;
    /// A stream that starts with ChannelData (capture began mid-call) is
    /// believed only with a channel in 0x4000-0x4FFF and at most this length:
    /// relayed datagrams are MTU-sized, while text protocols starting with
    /// '@'..'O' put printable bytes (>= 0x2000) in the length field.
    static constexpr uint16_t kMaxFirstChannelData = 4096;

    /// `buffer` is owned by the caller and must outlive the framer; size it
    /// for the largest frame to reassemble across segments (1500-4096 bytes
    /// covers STUN/TURN in practice). Smaller than kMinBuffer: gives up at once.
    explicit StreamFramer(std::span<uint8_t> buffer) noexcept : buf_(buffer) {}

    /// Sets the next in-order stream bytes (borrowed until the next feed()).
    /// Call next() until it returns nullopt before feeding again; any frame
    /// returned earlier is invalidated. Undrained bytes are carried over into
    /// the buffer if they fit, else the framer gives up (BufferFull).
    void feed(ByteView bytes) noexcept;
    /// The next complete frame, or nullopt when more bytes are needed (or the
    /// framer gave up).
    [[nodiscard]] std::optional<Frame> next() noexcept;

    [[nodiscard]] bool gave_up() const noexcept { return reason_ != GiveUpReason::None; }
    [[nodiscard]] GiveUpReason give_up_reason() const noexcept { return reason_; }
    [[nodiscard]] StreamFraming framing() const noexcept { return framing_; }
    [[nodiscard]] uint32_t frames() const noexcept { return frames_; }
    [[nodiscard]] uint32_t oversize_skipped() const noexcept { return oversize_skipped_; }
    /// Bytes of an incomplete frame currently held in the buffer.
    [[nodiscard]] size_t buffered() const noexcept { return buf_len_; }

private:
    enum class Need : uint8_t { More, Frame, GiveUp };
    struct Head {
        Need need = Need::More;
        FrameKind kind = FrameKind::Stun;
        size_t frame_len = 0;  ///< bytes on the wire, incl. prefix/padding
        size_t skip_front = 0;  ///< RFC 4571 prefix not part of Frame::bytes
    };
    Head inspect(ByteView head) noexcept;
    void stash_segment() noexcept;

    std::span<uint8_t> buf_;
    size_t buf_len_ = 0;
    size_t consumed_ = 0;  ///< leading buffer bytes already returned as a frame
    ByteView seg_;  ///< unconsumed part of the current feed()
    size_t skip_ = 0;  ///< bytes still to drop (oversize frame)
    StreamFraming framing_ = StreamFraming::Unknown;
    GiveUpReason reason_ = GiveUpReason::None;
    uint32_t frames_ = 0;
    uint32_t oversize_skipped_ = 0;
};

// ---------------------------------------------------------------------------
// Transaction tracking (RFC 8489 §6.3: responses echo the request's
// transaction id and method).

/// One tracked request. Storage is provided by the caller. Answered requests
/// stay until their slot is needed so retransmitted responses are recognised.
struct PendingTransaction {
    static constexpr uint8_t kFree = 0;
    static constexpr uint8_t kPending = 1;
    static constexpr uint8_t kAnswered = 2;
    std::array<uint8_t, 16> id{};
    uint8_t id_len = 0;
    uint8_t state = kFree;
    uint16_t method = 0;
    uint16_t retransmissions = 0;
    uint64_t first_seen_us = 0;
};

/// What a message meant to the tracker.
enum class TrackEvent : uint8_t {
    Request,  ///< new request, now outstanding
    Retransmission,  ///< request already outstanding
    Answered,  ///< success response matched an outstanding request
    ErrorAnswered,  ///< error response matched an outstanding request
    UnmatchedResponse,  ///< response with no outstanding request (capture
    ///< started mid-transaction, or request not seen)
    DuplicateResponse,  ///< response to a request already answered
    Indication,  ///< indications are not tracked
};

struct TrackResult {
    TrackEvent event = TrackEvent::Indication;
    uint16_t method = 0;
    uint16_t error_code = 0;  ///< ErrorAnswered / error UnmatchedResponse
    uint64_t rtt_us = 0;  ///< Answered / ErrorAnswered: first request to response
};

/// Counters a flow keeps as facts. Per-method arrays are indexed by method
/// number for methods 0..15 (every method IANA has named below GOOG-PING);
/// index 0 collects all others.
inline constexpr size_t kTrackedMethods = 16;
/// Distinct error codes remembered with counts (401, 403, 437, 438, 441, 442,
/// 486, 508 are the TURN codes seen in practice); further codes count in
/// error_codes.overflowed() only.
inline constexpr size_t kTrackedErrorCodes = 8;

struct ErrorCount {
    uint16_t code = 0;
    uint32_t count = 0;
};

struct TransactionStats {
    uint32_t requests = 0;
    uint32_t retransmissions = 0;
    uint32_t answered = 0;
    uint32_t error_answered = 0;
    uint32_t unmatched_responses = 0;
    uint32_t duplicate_responses = 0;
    uint32_t unanswered = 0;  ///< expired or still open at finish()
    uint32_t evicted = 0;  ///< dropped for lack of space (outcome unknown)
    std::array<uint32_t, kTrackedMethods> requests_by_method{};
    std::array<uint32_t, kTrackedMethods> unanswered_by_method{};
    std::array<uint32_t, kTrackedMethods> errors_by_method{};
    StaticVector<ErrorCount, kTrackedErrorCodes> error_codes;
};

/// Matches requests to responses by transaction id (plus method) in a table
/// the caller sizes (e.g. 64 slots per flow). When full, the oldest request
/// is evicted and counted. Not copyable: it refers to the caller's storage.
class TransactionTracker {
public:
    /// Default for one flow: ICE checks keep well under 64 requests in
    /// flight (RFC 8445 paces checks at Ta >= 5 ms with RTO ~500 ms).
    static constexpr size_t kDefaultSlots = 64;

    explicit TransactionTracker(std::span<PendingTransaction> slots) noexcept : slots_(slots) {}
    TransactionTracker(const TransactionTracker&) = delete;
    TransactionTracker& operator=(const TransactionTracker&) = delete;

    /// Feeds a decoded message seen at ts_us (either direction). Error
    /// responses count in error_codes/errors_by_method whether matched or not.
    TrackResult on_message(const Message& m, uint64_t ts_us) noexcept;
    /// Requests older than timeout_us at now_us become "unanswered".
    /// RFC 8489 §6.2.1: a UDP transaction gives up after Rc=7 sends, 39.5 s
    /// with the default RTO; a 40 s timeout is the natural choice.
    void expire(uint64_t now_us, uint64_t timeout_us) noexcept;
    /// End of flow: everything still open is unanswered.
    void finish() noexcept;

    [[nodiscard]] const TransactionStats& stats() const noexcept { return stats_; }
    [[nodiscard]] size_t outstanding() const noexcept;

private:
    void count_unanswered(PendingTransaction& p) noexcept;
    std::span<PendingTransaction> slots_;
    TransactionStats stats_;
};

// ---------------------------------------------------------------------------
// ChannelData validation for captures that start mid-call.

enum class ChannelVerdict : uint8_t {
    Accepted,  ///< bound by a ChannelBind seen in this flow, or confirmed
    Candidate,  ///< consistent so far, not enough evidence yet
    Rejected,  ///< not ChannelData (bad framing, or reserved range while unbound)
};

/// Decides whether datagrams starting with 0x40-0x7F on a flow are TURN
/// ChannelData. Channels bound by a ChannelBind request/success response seen
/// on the flow are accepted at once. Otherwise a channel is accepted only
/// after kConfirmPackets consecutive datagrams of that channel whose length
/// field matches the datagram exactly (padding allowed); a datagram that fails
/// those checks resets every unconfirmed streak.
///
/// Why 3: the length check alone passes random bytes with p ~ 2^-14 (16-bit
/// length, up to 4 padded sizes), so three consecutive matches on the same
/// channel number are ~2^-42 for random payloads, while a real mid-call relay
/// (20-50 datagrams/s) confirms within ~100 ms. Unbound channels must be in
/// RFC 8656's 0x4000-0x4FFF; the rest of 0x4000-0x7FFF is only accepted when
/// bound (RFC 5766 servers).
class ChannelValidator {
public:
    static constexpr uint8_t kConfirmPackets = 3;
    /// Bound or confirmed channels remembered per flow; TURN clients bind one
    /// channel per peer and calls have few peers.
    static constexpr size_t kMaxChannels = 8;
    /// Unconfirmed candidates tracked at once (several peers starting at once).
    static constexpr size_t kMaxCandidates = 4;

    /// A ChannelBind request or success response with CHANNEL-NUMBER binds it.
    void on_message(const Message& m) noexcept;
    void bind(uint16_t channel) noexcept;
    /// A datagram of the flow whose first byte is 0x40-0x7F.
    ChannelVerdict on_datagram(ByteView datagram) noexcept;
    /// Any other non-STUN datagram of the flow: breaks unconfirmed streaks.
    void on_other_datagram() noexcept;

    [[nodiscard]] bool is_accepted(uint16_t channel) const noexcept;
    /// A channel is on its way to confirmation: on_other_datagram() would change something.
    [[nodiscard]] bool has_candidates() const noexcept;

private:
    struct Candidate {
        uint16_t channel = 0;
        uint8_t streak = 0;
    };
    StaticVector<uint16_t, kMaxChannels> accepted_;
    std::array<Candidate, kMaxCandidates> candidates_{};
    uint8_t next_victim_ = 0;
};

}  // namespace callwall::proto::stun
