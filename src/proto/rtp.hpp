// RTP/RTCP: first-byte demultiplexing, RTP header and RTCP compound decoding
// (SRTP/SRTCP by their clear-text headers), an RTP confirmation heuristic and
// per-SSRC stream statistics (loss, reordering, duplicates, jitter).
//
// Normative references:
//   RFC 3550 §5.1 (RTP fixed header), §5.3.1 (header extension), §6.4-6.7
//     (SR, RR, SDES, BYE, APP), §6.1 (compound packets), A.1 (sequence number
//     validity, extended sequence, MAX_DROPOUT/MAX_MISORDER), A.3 (expected
//     and lost), A.8 (interarrival jitter);
//   RFC 3551 §6 tables 4-5 (static payload types and clock rates);
//   RFC 4585 §6.1 (RTPFB 205, PSFB 206), RFC 3611 (XR 207);
//   RFC 3711 §3.1 (SRTP: header in clear), §3.4 (SRTCP: E-flag + 31-bit
//     index + MKI + authentication tag after the compound packet);
//   RFC 5761 §4 (RTP/RTCP multiplexing: second byte 192-223 is RTCP);
//   RFC 7983 §7 as updated by RFC 9443 §3 (first-byte demultiplexing);
//   RFC 4733 §2.3 (telephone-event timestamps stay fixed during an event).
//
// Not supported:
//   - SRTP/SRTCP decryption or authentication (headers only).
//   - RFC 8285 header-extension element parsing (the extension is a view).
//   - RTCP report-block / SDES item parsing beyond the common header and
//     sender SSRC (the packet body is a view).
//   - Clock rates from signalling (SDP) unless the caller passes one in via
//     StreamStats::set_clock_rate().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "bytes/reader.hpp"
#include "bytes/result.hpp"

namespace callwall::proto::rtp {

// ---------------------------------------------------------------------------
// Demultiplexing (RFC 7983 §7, RFC 9443 §3).
//
//                 +----------------+
//                 |        [0..3] -+--> forward to STUN
//                 |                |
//                 |      [16..19] -+--> forward to ZRTP
//                 |                |
//     packet -->  |      [20..63] -+--> forward to DTLS
//                 |                |
//                 |      [64..79] -+--> forward to TURN Channel
//                 |                |
//                 |     [80..127] -+--> forward to QUIC (short header)
//                 |                |
//                 |    [128..191] -+--> forward to RTP/RTCP
//                 |                |
//                 |    [192..255] -+--> forward to QUIC (long header)
//                 +----------------+
//
// RFC 9443 gives QUIC all of 64..127 and 192..255 and narrows TURN channels
// to 64..79 (channels 0x4000-0x4FFF); a first byte in 64..79 is TURN only
// when TURN is in use on the 5-tuple — context the caller has, not this
// function.

enum class FirstByteClass : uint8_t { Stun, Zrtp, Dtls, TurnChannel, Quic, RtpRtcp, Unknown };

namespace detail {
[[nodiscard]] constexpr FirstByteClass first_byte_class(uint8_t b) noexcept {
    if (b <= 3) return FirstByteClass::Stun;
    if (b >= 16 && b <= 19) return FirstByteClass::Zrtp;
    if (b >= 20 && b <= 63) return FirstByteClass::Dtls;
    if (b >= 64 && b <= 79) return FirstByteClass::TurnChannel;
    if (b >= 80 && b <= 127) return FirstByteClass::Quic;
    if (b >= 128 && b <= 191) return FirstByteClass::RtpRtcp;
    if (b >= 192) return FirstByteClass::Quic;
    return FirstByteClass::Unknown;  // 4..15
}
/// The ranges above, one entry per byte: one load on every datagram of a media flow.
inline constexpr auto kFirstByteClasses = [] {
    std::array<FirstByteClass, 256> t{};
    for (size_t b = 0; b < t.size(); ++b) t[b] = first_byte_class(static_cast<uint8_t>(b));
    return t;
}();
}  // namespace detail

[[nodiscard]] constexpr FirstByteClass classify_first_byte(uint8_t b) noexcept { return detail::kFirstByteClasses[b]; }
[[nodiscard]] constexpr FirstByteClass classify_first_byte(ByteView v) noexcept {
    return v.empty() ? FirstByteClass::Unknown : classify_first_byte(v[0]);
}

/// RFC 5761 §4: with RTP and RTCP on one port, a second byte of 192..223
/// (marker + payload type 64..95) is an RTCP packet type. Version must be 2.
[[nodiscard]] constexpr bool looks_like_rtcp(ByteView v) noexcept {
    return v.size() >= 2 && (v[0] >> 6) == 2 && v[1] >= 192 && v[1] <= 223;
}

// ---------------------------------------------------------------------------
// RTP header (RFC 3550 §5.1).

/// RFC 3550 §5.1: V/P/X/CC, M/PT, sequence number, timestamp, SSRC. The
/// CSRC list (4-bit CC, so at most 15) and the extension follow.
inline constexpr size_t kFixedHeaderLen = 12;

enum class RtpAnomaly : uint8_t {
    BadPadding,  ///< P set but the pad count is 0 or exceeds the payload
    ///< (normal for SRTP: the last byte is the auth tag)
    EmptyPayload,  ///< no payload bytes after the header
    ZeroSsrc,  ///< SSRC 0: legal but typical of non-RTP matching by luck
};
[[nodiscard]] constexpr uint32_t bit(RtpAnomaly a) noexcept { return 1u << static_cast<unsigned>(a); }

struct Header {
    uint8_t version = 0;
    bool padding = false;
    bool extension = false;
    uint8_t csrc_count = 0;
    bool marker = false;
    uint8_t payload_type = 0;
    uint16_t sequence_number = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    ByteView csrcs;  ///< 4 * csrc_count bytes
    uint16_t extension_profile = 0;  ///< "defined by profile" (0xBEDE, 0x100x: RFC 8285)
    ByteView extension_data;  ///< 4 * length bytes after the extension header
    uint8_t padding_length = 0;  ///< bytes removed from the payload's end
    ByteView payload;  ///< payload without padding (SRTP: ciphertext + tag)
    uint32_t header_len = 0;  ///< bytes before the payload
    uint32_t anomalies = 0;
};

/// Version 2, at least a fixed header, and not in RTCP's RFC 5761 range.
[[nodiscard]] bool probe(ByteView bytes) noexcept;

/// Decodes an RTP (or SRTP) packet.
///
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |                           timestamp                           |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |           synchronization source (SSRC) identifier            |
///  +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///  |            contributing source (CSRC) identifiers             |
///  |                             ....                              |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |      defined by profile       |           length              |  (X=1)
///  |                        header extension                       |
///  |                             ....                              |
///
/// NotThisProtocol: empty, version != 2, or an RTCP type byte (RFC 5761).
/// Truncated: fixed header, CSRC list or extension beyond the view. The
/// payload has no length field, so any longer prefix is a valid packet.
[[nodiscard]] Result<Header> decode(ByteView bytes) noexcept;

/// The fields of an RTP header that media statistics and confirmation read.
struct HeaderFields {
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    uint16_t sequence_number = 0;
    uint8_t payload_type = 0;
    bool marker = false;
};

/// decode()'s verdict without building the whole Header, for the packet
/// path (every RTP packet, direct or relayed): true exactly when decode(b)
/// succeeds, and then `out` holds its values (tests/unit/proto/rtp_test.cpp
/// compares the two over crafted and random datagrams).
[[nodiscard]] inline bool decode_fields(ByteView b, HeaderFields& out) noexcept {
    const size_t n = b.size();
    if (n < kFixedHeaderLen || (b[0] >> 6) != 2 || looks_like_rtcp(b)) return false;
    size_t at = kFixedHeaderLen + 4u * (b[0] & 0x0Fu);
    if (at > n) return false;
    if ((b[0] & 0x10) != 0) {  // an extension: its 4-byte header, then its words
        if (n - at < 4) return false;
        const size_t words = load_u16(b, at + 2);
        at += 4;
        if (n - at < 4 * words) return false;
    }
    out.marker = (b[1] & 0x80) != 0;
    out.payload_type = b[1] & 0x7F;
    out.sequence_number = load_u16(b, 2);
    out.timestamp = load_u32(b, 4);
    out.ssrc = load_u32(b, 8);
    return true;
}

// ---------------------------------------------------------------------------
// RTCP compound packets (RFC 3550 §6).

namespace rtcp_type {
inline constexpr uint8_t kSr = 200;
inline constexpr uint8_t kRr = 201;
inline constexpr uint8_t kSdes = 202;
inline constexpr uint8_t kBye = 203;
inline constexpr uint8_t kApp = 204;
inline constexpr uint8_t kRtpfb = 205;
inline constexpr uint8_t kPsfb = 206;
inline constexpr uint8_t kXr = 207;
}  // namespace rtcp_type

/// Packets kept per compound. Real compounds carry <= 6 (SR/RR, SDES, BYE,
/// a few feedback messages); more are walked and validated but only counted
/// via the overflow flag.
inline constexpr size_t kMaxRtcpPackets = 16;

enum class RtcpAnomaly : uint8_t {
    FirstNotSrRr,  ///< RFC 3550 §6.1 wants SR/RR first (RFC 5506 reduced-size allows others)
    UnknownType,  ///< type in 192..223 other than 200..207
    PaddingNotLast,  ///< P bit on a packet that is not the last one
    TrailingBytes,  ///< 1..3 bytes after the last packet (too short for SRTCP)
};
[[nodiscard]] constexpr uint32_t bit(RtcpAnomaly a) noexcept { return 1u << static_cast<unsigned>(a); }

struct RtcpPacket {
    uint8_t type = 0;
    uint8_t count = 0;  ///< RC / SC / FMT (5 bits)
    bool padding = false;
    uint16_t length_words = 0;  ///< length field: 32-bit words minus one
    uint32_t ssrc = 0;  ///< sender / packet SSRC (0 if the packet is 4 bytes)
    ByteView body;  ///< bytes after the 4-byte common header
};

struct Compound {
    StaticVector<RtcpPacket, kMaxRtcpPackets> packets;
    uint16_t packet_count = 0;  ///< all packets walked (>= packets.size())
    /// SRTCP (RFC 3711 §3.4): bytes follow the last packet that parses. With
    /// E=0 they are exactly E|index (4) + MKI + tag; with E=1 only the first
    /// packet's 8 bytes are in clear, so the walk stops after it and the
    /// encrypted rest plus the trailer land here. >= 4 bytes are tolerated
    /// as SRTCP; the tag length is not knowable without the crypto context.
    bool srtcp = false;
    ByteView srtcp_trailer;
    uint32_t size = 0;  ///< bytes covered by the packets walked
    uint32_t anomalies = 0;
};

/// First packet's header is RTCP-shaped and fits.
[[nodiscard]] bool probe_rtcp(ByteView bytes) noexcept;

/// Walks a compound RTCP (or SRTCP) packet.
///
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |V=2|P|  RC/FMT |      PT       |   length (words - 1)          |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |                  SSRC of sender / packet                      |
///  +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///  |                 type-specific body ...                        |
///
/// NotThisProtocol: version != 2 or type outside 192..223. Truncated: the
/// first packet's length goes past the view. Malformed: the first packet is
/// too short for its type (e.g. SR without sender info).
[[nodiscard]] Result<Compound> decode_rtcp(ByteView bytes) noexcept;

// ---------------------------------------------------------------------------
// RTP confirmation heuristic.

enum class Verdict : uint8_t { Candidate, Confirmed, Rejected };

/// Per-flow evidence that a UDP flow (any port, including 443) or a TURN
/// payload stream carries RTP/SRTP. A single RTP-looking packet proves
/// nothing (a quarter of random datagrams have version 2); confirmation needs
/// kConfirmSteps consecutive consistent transitions of one SSRC:
///   same SSRC and payload type, sequence advancing by 1..kMaxSeqStep
///   (loss), timestamp advancing by 0..kMaxTimestampStep (modulo 2^32; 0 is
///   legal: video frames span packets).
/// Duplicates and small reorders are neutral; a payload-type change on the
/// same SSRC (CN, DTMF, RED) is neutral but moves the reference; anything
/// else restarts that SSRC's streak. Up to kSsrcSlots SSRCs are followed at
/// once (BUNDLE puts audio, video and RTX on one 5-tuple).
///
/// Give-up: Rejected after kGiveUpPackets packets in the RTP range (128..191)
/// without confirmation, after kMaxForeign packets in QUIC's ranges (80..127,
/// 192..255: a QUIC flow never carries RTP), or after kMaxPackets packets of
/// any kind. STUN, DTLS, ZRTP and TURN-channel packets, valid RTCP, and first
/// bytes 4..15 are neutral: proprietary relays put their own framing there
/// next to RTP (WhatsApp's 0x08xx messages share a 5-tuple with its RTP in
/// stun_wa_call udp:5, ~60 of them before the first RTP packet).
/// Verdicts other than Candidate are sticky.
///
/// Provenance: the steps mirror RFC 3550 A.1's MIN_SEQUENTIAL probation
/// (2) plus one; tshark's rtp_udp heuristic accepts on one packet and the
/// public captures show its false positives (telegram_videocall: 13 one-packet
/// "streams").
class Confirmer {
public:
    static constexpr uint8_t kConfirmSteps = 3;  ///< 4 packets of one SSRC
    static constexpr uint8_t kGiveUpPackets = 32;  ///< ~0.6 s of 20 ms audio
    static constexpr uint8_t kMaxForeign = 8;
    /// Bounds the wait on flows that never show RTP (~10 s at 100 pps).
    static constexpr uint16_t kMaxPackets = 1000;
    static constexpr uint16_t kMaxSeqStep = 32;  ///< burst loss tolerated
    /// 2^22 ticks: ~46 s at 90 kHz, ~87 s at 48 kHz — covers DTX silences.
    static constexpr uint32_t kMaxTimestampStep = 1u << 22;
    static constexpr size_t kSsrcSlots = 4;

    /// Feeds one UDP payload (or TURN ChannelData/DATA payload).
    Verdict on_payload(ByteView payload) noexcept;
    /// Feeds the fields of a header the caller decoded anyway (decode_fields).
    Verdict on_header(const HeaderFields& h) noexcept;

    [[nodiscard]] Verdict verdict() const noexcept { return verdict_; }
    [[nodiscard]] uint32_t ssrc() const noexcept { return confirmed_ssrc_; }
    [[nodiscard]] uint8_t payload_type() const noexcept { return confirmed_pt_; }
    [[nodiscard]] uint8_t rtp_packets() const noexcept { return rtp_packets_; }

private:
    struct Slot {
        uint32_t ssrc = 0;
        uint32_t timestamp = 0;
        uint16_t seq = 0;
        uint8_t pt = 0;
        uint8_t streak = 0;
        bool used = false;
    };
    void count_rtp_packet() noexcept;
    std::array<Slot, kSsrcSlots> slots_{};
    uint32_t confirmed_ssrc_ = 0;
    uint8_t confirmed_pt_ = 0;
    uint8_t rtp_packets_ = 0;
    uint8_t foreign_ = 0;
    uint8_t next_victim_ = 0;
    uint16_t packets_ = 0;
    Verdict verdict_ = Verdict::Candidate;
};

// ---------------------------------------------------------------------------
// Per-SSRC stream statistics.

/// RFC 3551 tables 4/5 (plus the pre-RFC 3551 assignments 1, 2 and 19 that
/// Wireshark still maps): the RTP clock rate of a static payload type, 0 when
/// unknown or dynamic.
[[nodiscard]] uint32_t static_clock_rate(uint8_t payload_type) noexcept;
/// RFC 3389 comfort noise (13) and its pre-RFC 3551 number (19).
[[nodiscard]] constexpr bool is_comfort_noise(uint8_t pt) noexcept { return pt == 13 || pt == 19; }

struct PacketSample {
    uint64_t arrival_us = 0;
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint8_t payload_type = 0;
    bool marker = false;
};

/// How interarrival jitter picks its reference packet. Both use RFC 3550
/// A.8's estimator J += (|D| - J) / 16 with D = (Rj - Ri) - (Sj - Si) / clock,
/// in milliseconds.
enum class JitterMode : uint8_t {
    /// tshark 4.0 `-z rtp,streams` (ui/tap-rtp-analysis.c rtppacket_analyse),
    /// reproduced so numbers compare 1:1 with Wireshark:
    ///  - Si is taken relative to the stream's FIRST timestamp; a packet whose
    ///    timestamp is below the first one or 2^31+ above it is "wrong
    ///    timestamp": no jitter update, not a reference. (So a timestamp wrap
    ///    or a backward jump ends jitter accounting, as in tshark 4.0.)
    ///  - the clock is divided as integers (clock/1000), so 44.1 kHz counts as
    ///    44 ticks/ms, 11025 Hz as 11;
    ///  - a packet without a known clock (e.g. RFC 4733 events) still becomes
    ///    the arrival-time reference while the timestamp reference stays on
    ///    the last clocked packet — inflating D for the next packet (the DTMF
    ///    packets of FAX-Call frame 1163 show it).
    Wireshark,
    /// Plain RFC 3550 A.8 in arrival order against the previous clocked
    /// packet; packets without a clock are ignored, and |D| above
    /// kDiscontinuityMs re-anchors the reference without an update
    /// (timestamp reset / SSRC reuse) instead of poisoning J for ~100 packets.
    Rfc3550,
};

/// Loss, reordering, duplicates and jitter of one SSRC in fixed-size state
/// (216 bytes on x86-64), no allocation.
///
/// Sequence accounting follows RFC 3550 A.1 without probation (a capture
/// starts wherever it starts; Confirmer does the probation): base = first
/// sequence number; extended max with 2^16 cycles; jumps of kMaxDropout or
/// more are "stray" until a second packet continues them (then the sequence
/// restarts there, the earlier span's expected count is kept); up to
/// kMaxMisorder behind the max is reordered or, if already seen in the
/// kDupWindow-packet bitmap, a duplicate. lost = expected - received, where
/// received counts duplicates (RFC 3550 A.3 — and tshark), so lost can go
/// negative with duplication.
///
/// tshark computes expected from the LAST packet's sequence number rather
/// than the highest; both agree unless the last packet was reordered.
///
/// Jitter clock rate: static payload types per RFC 3551. For dynamic types
/// (96..127): if the stream's first payload type is static, dynamic packets
/// are auxiliary (RFC 4733 events, RFC 2198 RED) and get no clock — as in
/// tshark without SDP. If the first payload type is dynamic the stream is
/// assumed to be 48 kHz audio (Opus, RFC 7587: the WebRTC default), switched
/// to 90 kHz video (and jitter restarted) once two packets with consecutive
/// sequence numbers carry the same timestamp — a video frame split across
/// packets; audio codecs never do that. tshark without SDP reports no jitter
/// for dynamic types at all. set_clock_rate() overrides every rule.
///
/// Max/min/mean jitter consider only "regular" packets, as tshark does: not
/// the first, not marker packets (talk-spurt / frame starts), not comfort
/// noise nor the packet right after it, and not "wrong timestamp" ones.
/// The mean is the mean of J over those packets (tshark 4.0's "Mean Jitter"
/// is a running average of |D| with an off-by-one divisor; not reproduced).
///
/// payload_type() is the stream's dominant payload type: the one with the most
/// packets, counted in kPayloadTypeSlots counters. A stream usually carries one
/// codec plus comfort noise (RFC 3389), telephone events (RFC 4733) or RED/FEC;
/// a further type takes the slot with the fewest packets and inherits its count
/// + 1 (the "space-saving" top-k counter: any type carrying more than 1/k of
/// the packets is never evicted, and its count is exact while the slots were
/// never full). Ties go to the type seen first in the stream, so a stream of two
/// equally frequent types reports the one it started with.
class StreamStats {
public:
    static constexpr size_t kPayloadTypeSlots = 4;
    static constexpr uint16_t kMaxDropout = 3000;  ///< RFC 3550 A.1 MAX_DROPOUT
    static constexpr uint16_t kMaxMisorder = 100;  ///< RFC 3550 A.1 MAX_MISORDER
    static constexpr uint16_t kDupWindow = 64;  ///< duplicate-detection bitmap
    static constexpr uint32_t kDynamicAudioClockHz = 48000;
    static constexpr uint32_t kVideoClockHz = 90000;
    static constexpr double kDiscontinuityMs = 2000.0;  ///< Rfc3550 mode only

    explicit StreamStats(JitterMode mode = JitterMode::Wireshark) noexcept : mode_(mode) {}

    /// Clock rate from signalling (SDP a=rtpmap) for every payload type of
    /// this stream; 0 restores the inference rules.
    void set_clock_rate(uint32_t hz) noexcept { clock_override_ = hz; }
    void add(const PacketSample& p) noexcept;

    [[nodiscard]] uint64_t packets() const noexcept { return packets_; }
    [[nodiscard]] uint64_t received() const noexcept { return received_; }
    [[nodiscard]] uint64_t expected() const noexcept;
    [[nodiscard]] int64_t lost() const noexcept;
    [[nodiscard]] uint32_t reordered() const noexcept { return reordered_; }
    [[nodiscard]] uint32_t duplicates() const noexcept { return duplicates_; }
    [[nodiscard]] uint32_t stray() const noexcept { return stray_; }
    [[nodiscard]] uint32_t seq_restarts() const noexcept { return restarts_; }
    [[nodiscard]] uint32_t seq_cycles() const noexcept { return cycles_ >> 16; }
    [[nodiscard]] uint32_t extended_max_seq() const noexcept { return cycles_ + max_seq_; }
    /// Dominant payload type (see the class comment); 0 before the first packet.
    [[nodiscard]] uint8_t payload_type() const noexcept;
    /// Payload type of the first packet (drives the clock inference).
    [[nodiscard]] uint8_t first_payload_type() const noexcept { return first_pt_; }
    [[nodiscard]] uint32_t payload_type_changes() const noexcept { return pt_changes_; }
    /// Clock rate used for the first payload type (0: no jitter computed).
    [[nodiscard]] uint32_t clock_rate_hz() const noexcept { return clock_for(first_pt_); }
    [[nodiscard]] bool video_inferred() const noexcept { return video_; }

    [[nodiscard]] bool has_jitter() const noexcept { return jitter_samples_ > 0; }
    [[nodiscard]] double jitter_ms() const noexcept { return jitter_ms_; }
    [[nodiscard]] double max_jitter_ms() const noexcept { return max_jitter_ms_; }
    [[nodiscard]] double min_jitter_ms() const noexcept { return has_jitter() ? min_jitter_ms_ : 0.0; }
    [[nodiscard]] double mean_jitter_ms() const noexcept {
        return has_jitter() ? jitter_sum_ms_ / jitter_samples_ : 0.0;
    }
    [[nodiscard]] uint32_t jitter_samples() const noexcept { return jitter_samples_; }
    [[nodiscard]] uint32_t timestamp_discontinuities() const noexcept { return discontinuities_; }

private:
    [[nodiscard]] uint32_t clock_for(uint8_t pt) const noexcept;
    void update_sequence(uint16_t seq) noexcept;
    void update_jitter(const PacketSample& p, double t_ms) noexcept;
    void note_regular(bool regular) noexcept;
    void reset_jitter() noexcept;
    void count_payload_type(uint8_t pt) noexcept;

    JitterMode mode_;
    uint32_t clock_override_ = 0;
    // sequence (RFC 3550 A.1)
    uint64_t packets_ = 0;
    uint64_t received_ = 0;
    uint64_t expected_prior_ = 0;
    uint64_t window_ = 0;  ///< bit k: max_seq - k received
    uint32_t cycles_ = 0;  ///< count of wraps << 16
    uint32_t bad_seq_ = 0x10001;
    uint32_t reordered_ = 0;
    uint32_t duplicates_ = 0;
    uint32_t stray_ = 0;
    uint32_t restarts_ = 0;
    uint16_t base_seq_ = 0;
    uint16_t max_seq_ = 0;
    // payload types
    uint8_t first_pt_ = 0;
    uint8_t prev_pt_ = 0;
    uint32_t pt_changes_ = 0;
    struct PtCount {
        uint32_t packets = 0;
        uint32_t first_seen = 0;  ///< packet ordinal of the type's first packet (ties)
        uint8_t pt = 0;
    };
    std::array<PtCount, kPayloadTypeSlots> pt_counts_{};
    uint8_t pt_slots_used_ = 0;
    bool video_ = false;
    uint16_t prev_seq_ = 0;
    uint32_t prev_ts_ = 0;
    // jitter
    uint64_t first_arrival_us_ = 0;
    bool jitter_started_ = false;
    uint32_t first_ts_ = 0;  ///< Wireshark mode
    double ref_time_ms_ = 0;  ///< arrival of the reference packet
    double last_nominal_ms_ = 0;  ///< Wireshark mode
    uint32_t ref_ts_ = 0;  ///< Rfc3550 mode
    double jitter_ms_ = 0;
    double max_jitter_ms_ = 0;
    double min_jitter_ms_ = 0;
    double jitter_sum_ms_ = 0;
    uint32_t jitter_samples_ = 0;
    uint32_t discontinuities_ = 0;
};

}  // namespace callwall::proto::rtp
