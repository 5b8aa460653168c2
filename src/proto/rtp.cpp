// RTP/RTCP decoding, the RTP confirmation heuristic and per-SSRC stream
// statistics. See src/proto/rtp.hpp for references.
#include "proto/rtp.hpp"

#include <cmath>

namespace callwall::proto::rtp {
namespace {

// RFC 3551 §6 tables 4 and 5; 1, 2 and 19 are the pre-RFC 3551 numbers
// (FS-1016, G721, old CN) that Wireshark's clock map still carries.
constexpr std::array<uint32_t, 96> make_clock_table() noexcept {
    std::array<uint32_t, 96> t{};
    t[0] = 8000;  // PCMU
    t[1] = 8000;  // (1016)
    t[2] = 8000;  // (G721)
    t[3] = 8000;  // GSM
    t[4] = 8000;  // G723
    t[5] = 8000;  // DVI4
    t[6] = 16000;  // DVI4
    t[7] = 8000;  // LPC
    t[8] = 8000;  // PCMA
    t[9] = 8000;  // G722 (clock 8000 by RFC 3551's historical error)
    t[10] = 44100;  // L16 stereo
    t[11] = 44100;  // L16 mono
    t[12] = 8000;  // QCELP
    t[13] = 8000;  // CN
    t[14] = 90000;  // MPA
    t[15] = 8000;  // G728
    t[16] = 11025;  // DVI4
    t[17] = 22050;  // DVI4
    t[18] = 8000;  // G729
    t[19] = 8000;  // (CN, old)
    t[25] = 90000;  // CelB
    t[26] = 90000;  // JPEG
    t[28] = 90000;  // nv
    t[31] = 90000;  // H261
    t[32] = 90000;  // MPV
    t[33] = 90000;  // MP2T
    t[34] = 90000;  // H263
    return t;
}
constexpr std::array<uint32_t, 96> kClockTable = make_clock_table();

// Minimum body (after the 4-byte common header) by type and count field.
size_t min_rtcp_body(uint8_t type, uint8_t count) noexcept {
    switch (type) {
        case rtcp_type::kSr: return 24 + 24u * count;  // SSRC + sender info + blocks
        case rtcp_type::kRr: return 4 + 24u * count;  // SSRC + blocks
        case rtcp_type::kSdes: return 8u * count;  // chunk: SSRC + END + pad
        case rtcp_type::kBye: return 4u * count;  // SSRC/CSRC list
        case rtcp_type::kApp: return 8;  // SSRC + name
        case rtcp_type::kRtpfb:
        case rtcp_type::kPsfb: return 8;  // sender + media SSRC (RFC 4585 §6.1)
        case rtcp_type::kXr: return 4;  // SSRC (RFC 3611 §2)
        default: return 0;
    }
}

}  // namespace

uint32_t static_clock_rate(uint8_t payload_type) noexcept {
    return payload_type < kClockTable.size() ? kClockTable[payload_type] : 0;
}

bool probe(ByteView b) noexcept { return b.size() >= kFixedHeaderLen && (b[0] >> 6) == 2 && !looks_like_rtcp(b); }

Result<Header> decode(ByteView b) noexcept {
    using E = DecodeErrorCode;
    if (b.empty() || (b[0] >> 6) != 2) return make_error(E::NotThisProtocol, 0);
    if (looks_like_rtcp(b)) return make_error(E::NotThisProtocol, 1);
    Reader r(b);
    Header h;
    const uint8_t b0 = r.u8();
    const uint8_t b1 = r.u8();
    h.version = static_cast<uint8_t>(b0 >> 6);
    h.padding = (b0 & 0x20) != 0;
    h.extension = (b0 & 0x10) != 0;
    h.csrc_count = b0 & 0x0F;
    h.marker = (b1 & 0x80) != 0;
    h.payload_type = b1 & 0x7F;
    h.sequence_number = r.u16();
    h.timestamp = r.u32();
    h.ssrc = r.u32();
    if (!r.ok()) return make_error(E::Truncated, b.size());
    h.csrcs = r.bytes(4u * h.csrc_count);
    if (!r.ok()) return make_error(E::Truncated, kFixedHeaderLen);
    if (h.extension) {
        const size_t ext_at = r.offset();
        h.extension_profile = r.u16();
        const uint16_t words = r.u16();
        h.extension_data = r.bytes(4u * words);
        if (!r.ok()) return make_error(E::Truncated, ext_at);
    }
    h.header_len = static_cast<uint32_t>(r.offset());
    ByteView payload = r.rest();
    if (h.padding) {
        // RFC 3550 §5.1: the last octet counts the padding, itself included.
        const uint8_t pad = payload.empty() ? 0 : payload.back();
        if (pad == 0 || pad > payload.size()) {
            h.anomalies |= bit(RtpAnomaly::BadPadding);
        } else {
            h.padding_length = pad;
            payload = payload.first(payload.size() - pad);
        }
    }
    h.payload = payload;
    if (payload.empty()) h.anomalies |= bit(RtpAnomaly::EmptyPayload);
    if (h.ssrc == 0) h.anomalies |= bit(RtpAnomaly::ZeroSsrc);
    return h;
}

// ---------------------------------------------------------------------------

bool probe_rtcp(ByteView b) noexcept {
    if (!looks_like_rtcp(b) || b.size() < 4) return false;
    return 4u + 4u * size_t{load_u16(b, 2)} <= b.size();
}

Result<Compound> decode_rtcp(ByteView b) noexcept {
    using E = DecodeErrorCode;
    const size_t n = b.size();
    if (n == 0 || (b[0] >> 6) != 2) return make_error(E::NotThisProtocol, 0);
    if (n < 2) return make_error(E::Truncated, n);
    if (b[1] < 192 || b[1] > 223) return make_error(E::NotThisProtocol, 1);
    if (n < 4) return make_error(E::Truncated, n);

    Compound c;
    size_t at = 0;
    size_t last_padded = SIZE_MAX;
    while (n - at >= 4) {
        const uint8_t v0 = b[at];
        const uint8_t type = b[at + 1];
        const uint16_t words = load_u16(b, at + 2);
        const size_t plen = 4u + 4u * size_t{words};
        const bool shaped = (v0 >> 6) == 2 && type >= 192 && type <= 223;
        if (!shaped || plen > n - at) {
            if (at == 0) return make_error(E::Truncated, 2);  // shape checked above
            break;
        }
        const uint8_t count = v0 & 0x1F;
        if (plen - 4 < min_rtcp_body(type, count)) {
            if (at == 0) return make_error(E::Malformed, 2);
            break;
        }
        RtcpPacket p;
        p.type = type;
        p.count = count;
        p.padding = (v0 & 0x20) != 0;
        p.length_words = words;
        p.body = b.subspan(at + 4, plen - 4);
        p.ssrc = p.body.size() >= 4 ? load_u32(p.body, 0) : 0;
        if (at == 0 && type != rtcp_type::kSr && type != rtcp_type::kRr) {
            c.anomalies |= bit(RtcpAnomaly::FirstNotSrRr);
        }
        if (type < rtcp_type::kSr || type > rtcp_type::kXr) c.anomalies |= bit(RtcpAnomaly::UnknownType);
        if (last_padded != SIZE_MAX) c.anomalies |= bit(RtcpAnomaly::PaddingNotLast);
        if (p.padding) last_padded = at;
        c.packets.push_back(p);
        ++c.packet_count;
        at += plen;
    }
    c.size = static_cast<uint32_t>(at);
    const size_t rest = n - at;
    if (rest >= 4) {
        c.srtcp = true;
        c.srtcp_trailer = b.subspan(at);
    } else if (rest > 0) {
        c.anomalies |= bit(RtcpAnomaly::TrailingBytes);
    }
    return c;
}

// ---------------------------------------------------------------------------
// Confirmer

void Confirmer::count_rtp_packet() noexcept {
    if (rtp_packets_ < 255) ++rtp_packets_;
    if (verdict_ == Verdict::Candidate && rtp_packets_ >= kGiveUpPackets) verdict_ = Verdict::Rejected;
}

Verdict Confirmer::on_payload(ByteView p) noexcept {
    if (verdict_ != Verdict::Candidate) return verdict_;
    if (++packets_ >= kMaxPackets) {
        verdict_ = Verdict::Rejected;
        return verdict_;
    }
    switch (classify_first_byte(p)) {
        case FirstByteClass::Stun:
        case FirstByteClass::Zrtp:
        case FirstByteClass::Dtls:
        case FirstByteClass::TurnChannel:
        case FirstByteClass::Unknown: return verdict_;  // RFC 7983 neighbours and proprietary relay framing
        case FirstByteClass::Quic:
            if (++foreign_ >= kMaxForeign) verdict_ = Verdict::Rejected;
            return verdict_;
        case FirstByteClass::RtpRtcp: break;
    }
    if (looks_like_rtcp(p)) {
        if (!decode_rtcp(p).ok()) count_rtp_packet();
        return verdict_;
    }
    HeaderFields h;
    if (!decode_fields(p, h)) {
        count_rtp_packet();
        return verdict_;
    }
    return on_header(h);
}

Verdict Confirmer::on_header(const HeaderFields& h) noexcept {
    if (verdict_ != Verdict::Candidate) return verdict_;
    Slot* s = nullptr;
    for (auto& slot : slots_) {
        if (slot.used && slot.ssrc == h.ssrc) {
            s = &slot;
            break;
        }
    }
    if (s != nullptr) {
        const uint16_t dseq = static_cast<uint16_t>(h.sequence_number - s->seq);
        const uint32_t dts = h.timestamp - s->timestamp;
        if (dseq == 0) {
            // duplicate: neutral
        } else if (dseq <= kMaxSeqStep && dts <= kMaxTimestampStep) {
            if (h.payload_type == s->pt && s->streak < 255) ++s->streak;
            s->seq = h.sequence_number;
            s->timestamp = h.timestamp;
        } else if (dseq >= 0x10000 - kMaxSeqStep) {
            // small reorder: neutral, keep the reference
        } else {
            s->seq = h.sequence_number;
            s->timestamp = h.timestamp;
            s->pt = h.payload_type;
            s->streak = 0;
        }
        if (s->streak >= kConfirmSteps) {
            verdict_ = Verdict::Confirmed;
            confirmed_ssrc_ = s->ssrc;
            confirmed_pt_ = s->pt;
        }
    } else {
        for (auto& slot : slots_) {
            if (!slot.used) {
                s = &slot;
                break;
            }
        }
        if (s == nullptr) {
            // Replace the weakest; rotate among equals so two alternating new
            // SSRCs cannot starve a third.
            s = &slots_[next_victim_];
            for (auto& slot : slots_) {
                if (slot.streak < s->streak) s = &slot;
            }
            next_victim_ = static_cast<uint8_t>((next_victim_ + 1) % kSsrcSlots);
        }
        *s = Slot{h.ssrc, h.timestamp, h.sequence_number, h.payload_type, 0, true};
    }
    count_rtp_packet();
    return verdict_;
}

// ---------------------------------------------------------------------------
// StreamStats

uint32_t StreamStats::clock_for(uint8_t pt) const noexcept {
    if (clock_override_ != 0) return clock_override_;
    if (pt < 96) return static_clock_rate(pt);
    if (first_pt_ < 96) return 0;  // auxiliary payload in a static-type stream
    return video_ ? kVideoClockHz : kDynamicAudioClockHz;
}

uint64_t StreamStats::expected() const noexcept {
    if (packets_ == 0) return 0;
    return expected_prior_ + (uint64_t{cycles_} + max_seq_) - base_seq_ + 1;
}

int64_t StreamStats::lost() const noexcept {
    return static_cast<int64_t>(expected()) - static_cast<int64_t>(received_);
}

// RFC 3550 A.1 update_seq(), without the probation (see the class comment).
void StreamStats::update_sequence(uint16_t seq) noexcept {
    const uint16_t udelta = static_cast<uint16_t>(seq - max_seq_);
    if (udelta == 0) {
        ++duplicates_;
        ++received_;
        return;
    }
    if (udelta < kMaxDropout) {
        if (seq < max_seq_) cycles_ += 0x10000;  // wrapped
        window_ = udelta >= kDupWindow ? 1 : ((window_ << udelta) | 1);
        max_seq_ = seq;
        ++received_;
        return;
    }
    if (udelta <= 0x10000 - kMaxMisorder) {
        if (seq == bad_seq_) {
            // Two sequential packets after a big jump: the source restarted.
            // Keep what was expected so far, restart at the stray packet.
            expected_prior_ = expected();
            base_seq_ = static_cast<uint16_t>(seq - 1);
            max_seq_ = seq;
            cycles_ = seq == 0 ? 0x10000 : 0;  // base 0xFFFF, max 0: one wrap
            window_ = 0x3;
            received_ += 2;
            --stray_;
            ++restarts_;
            bad_seq_ = 0x10001;
        } else {
            bad_seq_ = (uint32_t{seq} + 1) & 0xFFFF;
            ++stray_;
        }
        return;
    }
    const uint32_t behind = 0x10000u - udelta;  // 1..kMaxMisorder
    if (behind < kDupWindow) {
        const uint64_t mask = uint64_t{1} << behind;
        if (window_ & mask) {
            ++duplicates_;
        } else {
            window_ |= mask;
            ++reordered_;
        }
    } else {
        ++reordered_;
    }
    ++received_;
}

void StreamStats::reset_jitter() noexcept {
    jitter_started_ = false;
    jitter_ms_ = 0;
    max_jitter_ms_ = 0;
    min_jitter_ms_ = 0;
    jitter_sum_ms_ = 0;
    jitter_samples_ = 0;
}

void StreamStats::note_regular(bool regular) noexcept {
    if (!regular) return;
    ++jitter_samples_;
    jitter_sum_ms_ += jitter_ms_;
    if (jitter_ms_ > max_jitter_ms_) max_jitter_ms_ = jitter_ms_;
    if (jitter_samples_ == 1 || jitter_ms_ < min_jitter_ms_) min_jitter_ms_ = jitter_ms_;
}

void StreamStats::update_jitter(const PacketSample& p, double t_ms) noexcept {
    const uint32_t clock = clock_for(p.payload_type);
    const bool cn = is_comfort_noise(p.payload_type);
    const bool follows_cn = is_comfort_noise(prev_pt_);

    if (mode_ == JitterMode::Wireshark) {
        if (!jitter_started_) {
            jitter_started_ = true;
            first_ts_ = p.timestamp;
            ref_time_ms_ = t_ms;
            last_nominal_ms_ = 0;
            return;
        }
        const uint32_t since_first = p.timestamp - first_ts_;
        const bool in_seq = p.timestamp >= first_ts_ && since_first < 0x80000000u;
        const uint32_t ticks_per_ms = clock / 1000;  // integer, as tshark
        if (in_seq && ticks_per_ms != 0) {
            const double nominal = static_cast<double>(since_first) / ticks_per_ms;
            const double expected = ref_time_ms_ + (nominal - last_nominal_ms_);
            const double d = std::fabs(t_ms - expected);
            jitter_ms_ = (15.0 * jitter_ms_ + d) / 16.0;
            last_nominal_ms_ = nominal;
        }
        note_regular(in_seq && ticks_per_ms != 0 && !p.marker && !cn && !follows_cn);
        if (in_seq) ref_time_ms_ = t_ms;
        return;
    }

    // Rfc3550
    if (clock == 0) return;
    if (!jitter_started_) {
        jitter_started_ = true;
        ref_time_ms_ = t_ms;
        ref_ts_ = p.timestamp;
        return;
    }
    const auto dts = static_cast<int32_t>(p.timestamp - ref_ts_);
    const double d = std::fabs((t_ms - ref_time_ms_) - dts * 1000.0 / clock);
    ref_time_ms_ = t_ms;
    ref_ts_ = p.timestamp;
    if (d > kDiscontinuityMs) {
        ++discontinuities_;
        return;
    }
    jitter_ms_ += (d - jitter_ms_) / 16.0;
    note_regular(!p.marker && !cn && !follows_cn);
}

void StreamStats::count_payload_type(uint8_t pt) noexcept {
    for (size_t i = 0; i < pt_slots_used_; ++i) {
        if (pt_counts_[i].pt == pt) {
            ++pt_counts_[i].packets;
            return;
        }
    }
    const auto ordinal = static_cast<uint32_t>(packets_ > UINT32_MAX ? UINT32_MAX : packets_);
    if (pt_slots_used_ < pt_counts_.size()) {
        pt_counts_[pt_slots_used_++] = PtCount{1, ordinal, pt};
        return;
    }
    // Space-saving: replace the least counted type (the latest-seen of equals), inheriting
    // its count so that a type arriving late can still overtake.
    size_t victim = 0;
    for (size_t i = 1; i < pt_counts_.size(); ++i) {
        const PtCount& c = pt_counts_[i];
        const PtCount& v = pt_counts_[victim];
        if (c.packets < v.packets || (c.packets == v.packets && c.first_seen > v.first_seen)) {
            victim = i;
        }
    }
    pt_counts_[victim] = PtCount{pt_counts_[victim].packets + 1, ordinal, pt};
}

uint8_t StreamStats::payload_type() const noexcept {
    const PtCount* best = nullptr;
    for (size_t i = 0; i < pt_slots_used_; ++i) {
        const PtCount& c = pt_counts_[i];
        if (best == nullptr || c.packets > best->packets ||
            (c.packets == best->packets && c.first_seen < best->first_seen)) {
            best = &c;
        }
    }
    return best != nullptr ? best->pt : 0;
}

void StreamStats::add(const PacketSample& p) noexcept {
    ++packets_;
    if (pt_slots_used_ != 0 && pt_counts_[0].pt == p.payload_type)
        ++pt_counts_[0].packets;  // the stream's usual type: no call
    else
        count_payload_type(p.payload_type);
    if (packets_ == 1) {
        first_pt_ = p.payload_type;
        prev_pt_ = p.payload_type;
        base_seq_ = p.seq;
        max_seq_ = p.seq;
        window_ = 1;
        received_ = 1;
        first_arrival_us_ = p.arrival_us;
        update_jitter(p, 0.0);
        prev_seq_ = p.seq;
        prev_ts_ = p.timestamp;
        return;
    }
    if (p.payload_type != prev_pt_) ++pt_changes_;
    if (!video_ && clock_override_ == 0 && first_pt_ >= 96 && p.payload_type == prev_pt_ &&
        p.seq == static_cast<uint16_t>(prev_seq_ + 1) && p.timestamp == prev_ts_) {
        video_ = true;  // one frame over several packets: a video clock
        reset_jitter();
    }
    update_sequence(p.seq);
    const double t_ms = static_cast<double>(static_cast<int64_t>(p.arrival_us - first_arrival_us_)) / 1000.0;
    update_jitter(p, t_ms);
    prev_pt_ = p.payload_type;
    prev_seq_ = p.seq;
    prev_ts_ = p.timestamp;
}

}  // namespace callwall::proto::rtp
