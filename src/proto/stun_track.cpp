// STUN transaction tracking (answered, unanswered, retransmitted requests)
// and the ChannelData validator (channels bound by ChannelBind). See
// src/proto/stun.hpp.
#include "proto/stun.hpp"

#include <cstring>

namespace callwall::proto::stun {

// ---------------------------------------------------------------------------
// TransactionTracker

namespace {
constexpr size_t method_index(uint16_t m) noexcept { return m < kTrackedMethods ? m : 0; }

bool same_id(const PendingTransaction& p, ByteView id) noexcept {
    return p.id_len == id.size() && std::memcmp(p.id.data(), id.data(), id.size()) == 0;
}
}  // namespace

void TransactionTracker::count_unanswered(PendingTransaction& p) noexcept {
    if (p.state == PendingTransaction::kPending) {
        ++stats_.unanswered;
        ++stats_.unanswered_by_method[method_index(p.method)];
    }
    p = PendingTransaction{};
}

TrackResult TransactionTracker::on_message(const Message& m, uint64_t ts_us) noexcept {
    TrackResult res;
    res.method = static_cast<uint16_t>(m.method);
    const ByteView id = m.transaction_id;
    if (id.empty() || id.size() > 16) return res;

    PendingTransaction* found = nullptr;
    for (auto& p : slots_) {
        if (p.state != PendingTransaction::kFree && p.method == res.method && same_id(p, id)) {
            found = &p;
            break;
        }
    }

    switch (m.msg_class) {
        case MessageClass::Indication: res.event = TrackEvent::Indication; return res;
        case MessageClass::Request: {
            if (found != nullptr) {
                ++found->retransmissions;
                ++stats_.retransmissions;
                res.event = TrackEvent::Retransmission;
                return res;
            }
            // A "request" of another method carrying an outstanding request's
            // transaction id is that request's answer in a server's own
            // dialect: Zoom's 3478/3479 answer classic Binding Requests with
            // type 0x0002 and the same 128-bit id (ndpi__zoom.pcap frames
            // 34 and 60). Transaction ids are random (RFC 3489 §10.1, RFC 8489
            // §6): no new request of the far end's would reuse ours.
            for (auto& p : slots_) {
                if (p.state == PendingTransaction::kFree || p.method == res.method || !same_id(p, id)) continue;
                if (p.state == PendingTransaction::kAnswered) {  // the answer to a retransmission
                    ++stats_.duplicate_responses;
                    res.event = TrackEvent::DuplicateResponse;
                    return res;
                }
                p.state = PendingTransaction::kAnswered;
                res.rtt_us = ts_us >= p.first_seen_us ? ts_us - p.first_seen_us : 0;
                ++stats_.answered;
                res.event = TrackEvent::Answered;
                return res;
            }
            PendingTransaction* slot = nullptr;
            PendingTransaction* oldest_answered = nullptr;
            PendingTransaction* oldest = nullptr;
            for (auto& p : slots_) {
                if (p.state == PendingTransaction::kFree) {
                    slot = &p;
                    break;
                }
                if (p.state == PendingTransaction::kAnswered &&
                    (oldest_answered == nullptr || p.first_seen_us < oldest_answered->first_seen_us)) {
                    oldest_answered = &p;
                }
                if (oldest == nullptr || p.first_seen_us < oldest->first_seen_us) oldest = &p;
            }
            if (slot == nullptr) slot = oldest_answered;
            if (slot == nullptr && oldest != nullptr) {
                ++stats_.evicted;
                slot = oldest;
            }
            ++stats_.requests;
            ++stats_.requests_by_method[method_index(res.method)];
            res.event = TrackEvent::Request;
            if (slot == nullptr) return res;  // zero-size table: count only
            *slot = PendingTransaction{};
            std::memcpy(slot->id.data(), id.data(), id.size());
            slot->id_len = static_cast<uint8_t>(id.size());
            slot->method = res.method;
            slot->state = PendingTransaction::kPending;
            slot->first_seen_us = ts_us;
            return res;
        }
        case MessageClass::SuccessResponse:
        case MessageClass::ErrorResponse: {
            const bool error = m.msg_class == MessageClass::ErrorResponse;
            if (error) {
                res.error_code = m.error_code ? m.error_code->code : 0;
                ++stats_.errors_by_method[method_index(res.method)];
                bool counted = false;
                for (auto& ec : stats_.error_codes) {
                    if (ec.code == res.error_code) {
                        ++ec.count;
                        counted = true;
                    }
                }
                if (!counted) stats_.error_codes.push_back(ErrorCount{res.error_code, 1});
            }
            if (found == nullptr) {
                ++stats_.unmatched_responses;
                res.event = TrackEvent::UnmatchedResponse;
                return res;
            }
            if (found->state == PendingTransaction::kAnswered) {
                ++stats_.duplicate_responses;
                res.event = TrackEvent::DuplicateResponse;
                return res;
            }
            found->state = PendingTransaction::kAnswered;
            res.rtt_us = ts_us >= found->first_seen_us ? ts_us - found->first_seen_us : 0;
            if (error) {
                ++stats_.error_answered;
                res.event = TrackEvent::ErrorAnswered;
            } else {
                ++stats_.answered;
                res.event = TrackEvent::Answered;
            }
            return res;
        }
    }
    return res;
}

void TransactionTracker::expire(uint64_t now_us, uint64_t timeout_us) noexcept {
    for (auto& p : slots_) {
        if (p.state != PendingTransaction::kFree && now_us >= p.first_seen_us &&
            now_us - p.first_seen_us >= timeout_us) {
            count_unanswered(p);
        }
    }
}

void TransactionTracker::finish() noexcept {
    for (auto& p : slots_) {
        if (p.state != PendingTransaction::kFree) count_unanswered(p);
    }
}

size_t TransactionTracker::outstanding() const noexcept {
    size_t n = 0;
    for (const auto& p : slots_) n += p.state == PendingTransaction::kPending ? 1 : 0;
    return n;
}

// ---------------------------------------------------------------------------
// ChannelValidator

void ChannelValidator::on_message(const Message& m) noexcept {
    if (m.method == Method::ChannelBind && m.channel_number &&
        (m.msg_class == MessageClass::Request || m.msg_class == MessageClass::SuccessResponse)) {
        bind(*m.channel_number);
    }
}

void ChannelValidator::bind(uint16_t channel) noexcept {
    if (channel < 0x4000 || channel > 0x7FFF || is_accepted(channel)) return;
    accepted_.push_back(channel);
    for (auto& c : candidates_) {
        if (c.channel == channel) c = Candidate{};
    }
}

bool ChannelValidator::is_accepted(uint16_t channel) const noexcept {
    for (uint16_t c : accepted_) {
        if (c == channel) return true;
    }
    return false;
}

void ChannelValidator::on_other_datagram() noexcept {
    for (auto& c : candidates_) c = Candidate{};
}

bool ChannelValidator::has_candidates() const noexcept {
    for (const auto& c : candidates_)
        if (c.streak > 0) return true;
    return false;
}

ChannelVerdict ChannelValidator::on_datagram(ByteView datagram) noexcept {
    const auto cd = decode_channel_data(datagram, false);
    if (!cd || cd->kind != ChannelKind::Rfc) {
        on_other_datagram();
        return ChannelVerdict::Rejected;
    }
    const uint16_t ch = cd->channel;
    if (is_accepted(ch)) return ChannelVerdict::Accepted;
    if (ch > 0x4FFF) {
        on_other_datagram();
        return ChannelVerdict::Rejected;
    }
    for (auto& c : candidates_) {
        if (c.streak > 0 && c.channel == ch) {
            if (++c.streak >= kConfirmPackets) {
                c = Candidate{};
                accepted_.push_back(ch);
                return ChannelVerdict::Accepted;
            }
            return ChannelVerdict::Candidate;
        }
    }
    Candidate* slot = nullptr;
    for (auto& c : candidates_) {
        if (c.streak == 0) {
            slot = &c;
            break;
        }
    }
    if (slot == nullptr) {
        slot = &candidates_[next_victim_];
        next_victim_ = static_cast<uint8_t>((next_victim_ + 1) % kMaxCandidates);
    }
    slot->channel = ch;
    slot->streak = 1;
    if (kConfirmPackets <= 1) {
        *slot = Candidate{};
        accepted_.push_back(ch);
        return ChannelVerdict::Accepted;
    }
    return ChannelVerdict::Candidate;
}

}  // namespace callwall::proto::stun
