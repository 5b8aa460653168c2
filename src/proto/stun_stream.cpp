// STUN over streams and TURN channels: ChannelData (RFC 8656 §12.4,
// [MS-TURN]) and the stream framer that splits a TCP byte stream into STUN
// messages, ChannelData and RFC 4571 frames. See src/proto/stun.hpp.
#include "proto/stun.hpp"
#include "proto/stun_detail.hpp"

#include <algorithm>
#include <cstring>

namespace callwall::proto::stun {

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

}  // namespace callwall::proto::stun
