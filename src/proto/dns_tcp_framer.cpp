// DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766): the two-byte length
// prefix, messages split across segments, and gaps (see dns.hpp, TcpFramer).
#include "proto/dns.hpp"

#include <algorithm>
#include <cstring>

namespace callwall::proto::dns {

void TcpFramer::gap() noexcept {
    state_ = State::Desynced;
    have_ = 0;
    need_ = 0;
    length_bytes_ = 0;
}

void TcpFramer::reset() noexcept {
    state_ = State::Length;
    have_ = 0;
    need_ = 0;
    length_bytes_ = 0;
    skip_remaining_ = 0;
}

void TcpFramer::feed_impl(ByteView in, Sink sink, void* ctx) noexcept {
    while (!in.empty()) {
        switch (state_) {
            case State::Desynced: stats_.bytes_skipped += in.size(); return;
            case State::Length: {
                uint16_t len = 0;
                if (length_bytes_ == 0 && in.size() >= 2) {
                    len = load_u16(in, 0);
                    in = in.subspan(2);
                } else if (length_bytes_ == 0) {
                    length_hi_ = in[0];
                    length_bytes_ = 1;
                    return;  // in had exactly one byte
                } else {
                    len = static_cast<uint16_t>((length_hi_ << 8) | in[0]);
                    length_bytes_ = 0;
                    in = in.subspan(1);
                }
                if (len == 0) {
                    ++stats_.empty_messages;
                    break;
                }
                if (in.size() >= len) {  // whole message in this feed: hand it over in place
                    ++stats_.messages;
                    sink(ctx, in.first(len));
                    in = in.subspan(len);
                    break;
                }
                if (len > buffer_.size()) {
                    ++stats_.oversize_messages;
                    skip_remaining_ = len;
                    state_ = State::Skip;
                    break;
                }
                need_ = len;
                have_ = 0;
                state_ = State::Body;
                break;
            }
            case State::Body: {
                const size_t n = std::min<size_t>(size_t{need_} - have_, in.size());
                std::memcpy(buffer_.data() + have_, in.data(), n);
                have_ = static_cast<uint16_t>(have_ + n);
                in = in.subspan(n);
                if (have_ == need_) {
                    state_ = State::Length;
                    ++stats_.messages;
                    sink(ctx, ByteView{buffer_.data(), need_});
                    have_ = 0;
                    need_ = 0;
                }
                break;
            }
            case State::Skip: {
                const size_t n = std::min<size_t>(skip_remaining_, in.size());
                skip_remaining_ -= static_cast<uint32_t>(n);
                stats_.bytes_skipped += n;
                in = in.subspan(n);
                if (skip_remaining_ == 0) state_ = State::Length;
                break;
            }
        }
    }
}

}  // namespace callwall::proto::dns
