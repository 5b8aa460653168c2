// DNS: message header, first question and answer records (A, AAAA, CNAME, SVCB/HTTPS), plus
// the 2-byte framing of DNS over TCP.
//
// Normative references:
//   RFC 1035 §4.1      message format (header, question, resource records)
//   RFC 1035 §4.1.4    name compression (pointers)
//   RFC 1035 §2.3.4    size limits: labels ≤ 63 octets, names ≤ 255 octets
//   RFC 1035 §4.2.2    TCP framing: 2-byte length prefix; RFC 7766 §8 (several messages per
//                      connection, pipelining, messages split across segments)
//   RFC 3596 §2        AAAA
//   RFC 6891 §6        EDNS(0) OPT pseudo-RR (UDP payload size, extended RCODE)
//   RFC 9460 §2.2, §7  SVCB (64) / HTTPS (65) RDATA: SvcPriority, TargetName, SvcParams
//                      (alpn=1, no-default-alpn=2, port=3, ipv4hint=4, ech=5, ipv6hint=6)
//   RFC 6895 §2        opcode and rcode registries (used by probe())
//   RFC 6762 §5.4, §6, §10.2, §18  Multicast DNS (Dialect::Mdns): the top bit of a question's
//                      class is the unicast-response (QU) bit, of a record's class the
//                      cache-flush bit; responses carry no questions; OPCODE and RCODE 0
//
// Names are compressed, so they cannot be views into the packet: decode() writes each decoded
// name once, in presentation form (dots, no trailing dot, the root as ""), into a fixed arena
// inside Message and hands out NameRef handles (offset + length into that arena; copy-safe).
// A name that starts at a wire offset already decoded reuses the earlier arena bytes.
//
// Compression rules enforced (stricter than RFC 1035, which says nothing about loops):
//   - a pointer must point strictly before the label run that contains it; the labels reached
//     through it must end before that run starts. Targets therefore strictly decrease: no
//     loops, no self-pointers, no forward pointers;
//   - at most kMaxPointerHops pointers per name;
//   - label type bits 01/10 (RFC 6891 §5 extended labels, RFC 2673 bit labels) are Malformed.
// A name over 255 wire octets is cut at the last label that fits, flagged NameRef::truncated
// and Anomaly::NameTooLong; decoding continues.
//
// Error policy:
//   - header or first question broken → error (Truncated if the bytes ran out, Malformed if
//     impossible);
//   - the message ends before the sections its counts announce → Truncated (so every prefix of
//     a message is Truncated; snaplen-cut captures lose their answers);
//   - a malformed answer (bad name, RDATA that does not fit its type) stops answer decoding:
//     what was gathered is returned with answers_truncated set;
//   - authority and additional sections are walked for framing (and the EDNS OPT record) only.
//
// Not supported:
//   - answers are kept from the answer section only (authority/additional are not decoded);
//   - record types other than A, AAAA, CNAME, SVCB, HTTPS are kept as type + raw RDATA view;
//   - DNSSEC validation, TSIG, DNS cookies, EDNS options other than the OPT header fields;
//   - mDNS beyond the class bits and probe(): no known-answer or probe-conflict logic; LLMNR
//     (RFC 4795) is decoded as unicast DNS;
//   - DNS over TLS/HTTPS/QUIC (encrypted; visible only as TLS/QUIC);
//   - TcpFramer cannot resynchronise after a gap in the TCP stream (see TcpFramer::gap()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>

#include "bytes/reader.hpp"
#include "bytes/result.hpp"

namespace callwall::proto::dns {

// ---------------------------------------------------------------------------------------------
// Limits

/// RFC 1035 §4.1.1: the fixed header.
inline constexpr size_t kHeaderLength = 12;
/// RFC 1035 §2.3.4: a label is at most 63 octets (the two top length bits are type bits).
inline constexpr size_t kMaxLabelLength = 63;
/// RFC 1035 §2.3.4: a name is at most 255 octets on the wire (length octets and root included).
inline constexpr size_t kMaxNameWireLength = 255;
/// Presentation form of the longest legal name: 255 − 1 (root) − 1 (first length octet).
inline constexpr size_t kMaxNameTextLength = 253;
/// Pointers followed per name. A compressor needs one hop per earlier name its suffix passes
/// through; resolvers in the public captures use at most 2. 16 bounds adversarial chains.
inline constexpr size_t kMaxPointerHops = 16;
/// Answer records kept. The largest answer section in the public captures has 12 records
/// (suricata-verify google.com A); CDN answers reach ~16. More are walked for framing and
/// counted (answers.overflowed()).
inline constexpr size_t kMaxAnswers = 32;
/// Bytes of decoded names kept per message. Owner names are almost always pointers to the
/// question (decoded once); the public captures need ≤ 200 bytes. 2 KiB holds 8 maximum-length
/// names. Names that do not fit are cut and flagged (Anomaly::NameArenaFull).
inline constexpr size_t kNameArenaBytes = 2048;
/// Wire offsets remembered for reusing decoded names (compression targets seen so far).
inline constexpr size_t kMaxNameCache = 32;
/// ALPN ids returned by alpn_ids() from one SVCB/HTTPS alpn SvcParam (h3, h2, http/1.1…).
inline constexpr size_t kMaxAlpnIds = 8;
/// probe(): queries carry at most an OPT and a TSIG/SIG(0) record in the additional section
/// (RFC 6891 §6.1.1, RFC 8945 §4.2); more in a query is not DNS as stub resolvers send it.
inline constexpr uint16_t kMaxQueryAdditional = 2;
/// TcpFramer buffer: DNS over TCP carries responses that did not fit the UDP payload size
/// (typically 1232 B since DNS Flag Day 2020) — DNSSEC-signed and many-address answers of
/// 1.2–4 KB. A message larger than this that arrives split over several segments is skipped
/// and counted; one contained in a single fed segment is still delivered (zero-copy).
inline constexpr size_t kTcpFramerBufferBytes = 4096;

// ---------------------------------------------------------------------------------------------
// Registries (RFC 6895 §2.2, §2.3; IANA "Domain Name System (DNS) Parameters")

namespace opcode {
inline constexpr uint8_t kQuery = 0;
inline constexpr uint8_t kIQuery = 1;  ///< obsolete (RFC 3425), still seen (nDPI capture)
inline constexpr uint8_t kStatus = 2;
inline constexpr uint8_t kNotify = 4;  ///< RFC 1996
inline constexpr uint8_t kUpdate = 5;  ///< RFC 2136
inline constexpr uint8_t kDso = 6;  ///< RFC 8490 DNS Stateful Operations
}  // namespace opcode

namespace rrtype {
inline constexpr uint16_t kA = 1;
inline constexpr uint16_t kNs = 2;
inline constexpr uint16_t kCname = 5;
inline constexpr uint16_t kPtr = 12;
inline constexpr uint16_t kMx = 15;
inline constexpr uint16_t kTxt = 16;
inline constexpr uint16_t kAaaa = 28;
inline constexpr uint16_t kOpt = 41;
inline constexpr uint16_t kSvcb = 64;
inline constexpr uint16_t kHttps = 65;
}  // namespace rrtype

namespace svc_key {
inline constexpr uint16_t kMandatory = 0;
inline constexpr uint16_t kAlpn = 1;
inline constexpr uint16_t kNoDefaultAlpn = 2;
inline constexpr uint16_t kPort = 3;
inline constexpr uint16_t kIpv4Hint = 4;
inline constexpr uint16_t kEch = 5;
inline constexpr uint16_t kIpv6Hint = 6;
}  // namespace svc_key

// ---------------------------------------------------------------------------------------------
// Dialects

/// Wire-format dialect, chosen by the caller from the ports (the bytes cannot tell).
///
///   dialect  question CLASS bit 15     record CLASS bit 15   QDCOUNT in responses
///   Dns      part of the class         part of the class     1 (0 only for errors)
///   Mdns     unicast-response (QU)     cache-flush           0 (RFC 6762 §6)
///
/// In Mdns, Question::qclass and Answer::rrclass hold the 15-bit class (IN = 1 for
/// class 0x8001) and the bit goes to Question::unicast_response / Answer::cache_flush.
enum class Dialect : uint8_t { Dns, Mdns };

// ---------------------------------------------------------------------------------------------
// Result types

/// Recoverable oddities; Message::anomalies holds their bits.
enum class Anomaly : uint32_t {
    NameTooLong = 1u << 0,  ///< a name over 255 wire octets (cut, NameRef::truncated)
    NameArenaFull = 1u << 1,  ///< the name arena ran out (name cut, NameRef::truncated)
    NameOddChars = 1u << 2,  ///< a label held '.' (shown '?'), a control byte or non-ASCII (kept as sent)
    MultipleQuestions = 1u << 3,  ///< QDCOUNT > 1 (RFC 9619: must be ≤ 1); only the first kept
    TrailingBytes = 1u << 4,  ///< bytes after the last counted record
    ExtraSectionMalformed = 1u << 5,  ///< authority/additional unparseable (answers kept)
    SvcParamsUnordered = 1u << 6,  ///< RFC 9460 §2.2: SvcParamKeys must strictly increase
    SvcParamMalformed = 1u << 7,  ///< a known SvcParam with an impossible value (ignored)
    CompressedTarget = 1u << 8,  ///< RFC 9460 §2.2: SVCB TargetName must not be compressed
    MultipleOpt = 1u << 9,  ///< RFC 6891 §6.1.1: more than one OPT record
    UnknownOpcode = 1u << 10,  ///< opcode 3 or 7..15
    ZBitSet = 1u << 11,  ///< RFC 1035 §4.1.1: Z must be zero
};
[[nodiscard]] constexpr uint32_t bit(Anomaly a) noexcept { return static_cast<uint32_t>(a); }

/// Handle of a decoded name in Message's arena. Copy-safe (no pointer).
struct NameRef {
    uint16_t offset = 0;
    uint8_t length = 0;  ///< presentation length, ≤ kMaxNameTextLength
    bool truncated = false;  ///< name was cut (over 255 octets, or the arena was full)
};

/// RFC 1035 §4.1.1.
struct Header {
    uint16_t id = 0;
    bool qr = false;  ///< response
    uint8_t opcode = 0;
    bool aa = false, tc = false, rd = false, ra = false, z = false, ad = false, cd = false;
    uint8_t rcode = 0;  ///< 4-bit header RCODE (see Message::extended_rcode)
    uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};

struct Question {
    NameRef qname{};
    uint16_t qtype = 0;
    uint16_t qclass = 0;  ///< Mdns: the low 15 bits
    bool unicast_response = false;  ///< Mdns: QU bit (RFC 6762 §5.4)
};

/// One answer-section record. Fields past rdata are filled for the types named beside them.
struct Answer {
    NameRef name{};
    uint16_t type = 0;
    uint16_t rrclass = 0;  ///< Mdns: the low 15 bits
    bool cache_flush = false;  ///< Mdns: cache-flush bit (RFC 6762 §10.2)
    uint32_t ttl_s = 0;
    ByteView rdata{};  ///< raw RDATA, a view into the message (all types)
    ByteView address{};  ///< A: 4 bytes, AAAA: 16 bytes (network order), view into the message
    NameRef target{};  ///< CNAME: canonical name; SVCB/HTTPS: TargetName ("" is the root ".")
    uint16_t svc_priority = 0;  ///< SVCB/HTTPS: 0 = AliasMode
    uint16_t port = 0;  ///< SVCB/HTTPS port SvcParam (0 when absent)
    bool no_default_alpn = false;
    bool has_ech = false;  ///< SVCB/HTTPS carries an ech SvcParam (ECHConfigList)
    ByteView alpn{};  ///< SVCB/HTTPS alpn SvcParam value, validated; iterate with alpn_ids()
    ByteView ipv4hint{};  ///< SVCB/HTTPS: n × 4 bytes, validated
    ByteView ipv6hint{};  ///< SVCB/HTTPS: n × 16 bytes, validated
};

/// A decoded message. Views (rdata, address, alpn, hints) point into the decoded packet and are
/// valid only while it is; names live in the message itself (see name()).
struct Message {
    Header header{};
    bool has_question = false;  ///< QDCOUNT ≥ 1 (the first question is in `question`)
    Question question{};
    /// Answer records in order. overflowed(): more than kMaxAnswers (the rest was walked).
    StaticVector<Answer, kMaxAnswers> answers{};
    /// A malformed answer stopped decoding; `answers` holds those before it.
    bool answers_truncated = false;
    /// EDNS(0) (RFC 6891 §6.1.2): an OPT record was in the additional section.
    bool has_edns = false;
    uint16_t edns_udp_payload_size = 0;
    uint8_t edns_version = 0;
    bool edns_do = false;
    /// 12-bit RCODE: OPT's upper 8 bits combined with the header's 4 (RFC 6891 §6.1.3).
    uint16_t extended_rcode = 0;
    /// Bytes consumed by the counted sections (≤ the input length); when answers_truncated,
    /// the offset of the answer that stopped decoding.
    uint32_t length = 0;
    uint32_t anomalies = 0;  ///< Anomaly bits

    /// The text of a decoded name (presentation form, no trailing dot, root = "").
    [[nodiscard]] std::string_view name(NameRef ref) const noexcept {
        return {name_arena.data() + ref.offset, ref.length};
    }

    // Decoder-owned storage behind name(); exposed only so Message stays an aggregate.
    std::array<char, kNameArenaBytes> name_arena{};
    uint16_t name_arena_used = 0;

    /// As a new Message, but for the arena's bytes (only name_arena_used
    /// makes them readable) and the answers' slots beyond answers.size():
    /// what decode_into() starts from, instead of zeroing ~5 KiB.
    void reset() noexcept {
        header = {};
        has_question = false;
        question = {};
        answers.clear();
        answers_truncated = false;
        has_edns = false;
        edns_udp_payload_size = 0;
        edns_version = 0;
        edns_do = false;
        extended_rcode = 0;
        length = 0;
        anomalies = 0;
        name_arena_used = 0;
    }
};

// ---------------------------------------------------------------------------------------------
// Decoding

/// Cheap plausibility check of one complete DNS message (a UDP payload, or one message from
/// TcpFramer): known opcode; QDCOUNT 1 (0 only for DSO, an inverse query, or a question-less
/// error response); a well-formed uncompressed first QNAME (for an inverse query: the answer's
/// owner) followed by TYPE ≠ 0 and a known CLASS; standard queries without answer/authority
/// records and with ≤ kMaxQueryAdditional additional ones; RCODE 0 in queries; RCODE ≤ 11 in
/// responses; at least 11 bytes left per counted record. No side effects.
/// NBNS (UDP 137), mDNS and LLMNR use the DNS wire format and pass: ports must route them.
/// Dialect::Mdns (RFC 6762 §18) instead requires OPCODE 0 and RCODE 0, allows any section
/// counts (responses without questions, queries with known answers or probe authority
/// records) as long as at least one record is announced, and checks the first name (the
/// question's, or the first answer's owner) and its TYPE/CLASS the same way.
[[nodiscard]] bool probe(ByteView msg, Dialect dialect = Dialect::Dns) noexcept;

/// probe() for the start of a DNS-over-TCP stream: a 2-byte length ≥ 12 followed by (a prefix
/// of) a plausible message. Accepts a message cut by the segment end.
[[nodiscard]] bool probe_tcp(ByteView stream_start) noexcept;

/// Decodes one complete DNS message (no TCP length prefix). See the file header for the error
/// policy. NotThisProtocol only for an empty view. `dialect` decides what the top CLASS bit
/// means (see Dialect).
[[nodiscard]] Result<Message> decode(ByteView msg, Dialect dialect = Dialect::Dns) noexcept;

/// decode() into a Message the caller keeps and reuses (the packet path:
/// decode() zeroes a new ~5 KiB Message and copies it out once more). True
/// with `out` as decode() would return it; false with `*error` (when given)
/// as decode()'s error, `out` then unspecified.
[[nodiscard]] bool decode_into(ByteView msg, Dialect dialect, Message& out, DecodeError* error = nullptr) noexcept;

/// Splits an SVCB/HTTPS alpn SvcParam value (as in Answer::alpn, already validated) into its
/// alpn-ids. overflowed(): more than kMaxAlpnIds.
[[nodiscard]] StaticVector<ByteView, kMaxAlpnIds> alpn_ids(ByteView alpn_param) noexcept;

// ---------------------------------------------------------------------------------------------
// DNS over TCP

/// Per-direction framing state for DNS over TCP (RFC 1035 §4.2.2, RFC 7766 §8):
///
///    0                   1
///    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
///   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///   |        message length         |   then `message length` bytes of DNS message,
///   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   then the next length, ...
///
/// Feed the in-order TCP payload of one direction, from its first byte; complete messages are
/// handed to the callback as views, valid only during the call. A message that lies entirely
/// within the bytes of one feed() is handed over in place (no copy); otherwise it is gathered in
/// a fixed kTcpFramerBufferBytes buffer. No allocation, noexcept; the callback must not throw.
class TcpFramer {
public:
    struct Stats {
        uint32_t messages = 0;  ///< handed to the callback
        uint32_t empty_messages = 0;  ///< length prefix 0 (skipped)
        uint32_t oversize_messages = 0;  ///< > buffer and split across feeds (skipped)
        uint64_t bytes_skipped = 0;  ///< bytes of oversize messages, and after gap()
    };

    /// Feeds the next in-order bytes of the stream. `on_message(ByteView)` is called once per
    /// complete message, in stream order.
    template <class F>
    void feed(ByteView bytes, F&& on_message) noexcept {
        using Fn = std::remove_reference_t<F>;
        feed_impl(bytes, &TcpFramer::thunk<Fn>,
                  const_cast<void*>(static_cast<const void*>(std::addressof(on_message))));
    }

    /// Bytes were lost before the next feed (a hole in the TCP sequence): message boundaries
    /// are unknown from here on, so every later byte is skipped (counted) until reset().
    void gap() noexcept;
    /// Starts over, e.g. for a new connection: the next byte fed is a length prefix.
    void reset() noexcept;

    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
    [[nodiscard]] bool in_sync() const noexcept { return state_ != State::Desynced; }
    /// True between messages (no partial length or body pending).
    [[nodiscard]] bool at_boundary() const noexcept { return state_ == State::Length && length_bytes_ == 0; }

private:
    using Sink = void (*)(void*, ByteView) noexcept;
    template <class Fn>
    static void thunk(void* ctx, ByteView msg) noexcept {
        (*static_cast<Fn*>(ctx))(msg);
    }
    void feed_impl(ByteView bytes, Sink sink, void* ctx) noexcept;

    enum class State : uint8_t { Length, Body, Skip, Desynced };

    std::array<uint8_t, kTcpFramerBufferBytes> buffer_{};
    Stats stats_{};
    uint32_t skip_remaining_ = 0;
    uint16_t need_ = 0;  // length of the message being gathered
    uint16_t have_ = 0;  // bytes of it in buffer_
    uint8_t length_hi_ = 0;
    uint8_t length_bytes_ = 0;  // 0 or 1 length octets seen
    State state_ = State::Length;
};

}  // namespace callwall::proto::dns
