// STUN/TURN on a media flow. See pipeline/analyzers/stun.hpp.
#include "pipeline/analyzers/stun.hpp"

#include <cstring>

#include "pipeline/analyzers/dtls.hpp"

namespace callwall::pipeline {

namespace stun = proto::stun;
namespace rtp = proto::rtp;

namespace {
decode::IpAddr from_stun(const stun::Address& a) noexcept {
    decode::IpAddr r;
    r.family = a.family;
    std::memcpy(r.bytes.data(), a.addr.data(), a.family == 4 ? 4 : 16);
    return r;
}
}  // namespace

StunTurn::Slot* StunTurn::slot(RtcFlow& r) {
    if (r.stun < 0) {
        r.stun = s_.lend(pool_);
        if (r.stun < 0) return nullptr;
        Slot& s = pool_.at(r.stun);
        s.tracker.emplace(std::span<stun::PendingTransaction>(s.txns));
    }
    return &pool_.at(r.stun);
}

void StunTurn::on_message(const flow::Flow& f, FlowApp& a, RtcFlow& r, flow::Dir d, const stun::Message& msg,
                          int64_t ts_us, facts::Carrier carried) {
    ++s_.stats.stun_messages;
    a.labels |= kStunLabel;
    if (msg.method != stun::Method::Binding) a.labels |= kTurnLabel;
    if (msg.variant == stun::Variant::MsTurn) a.labels |= kMsTurnLabel;
    if (msg.msg_class != stun::MessageClass::Indication)
        a.roles |= flow::role_bit(d, msg.msg_class != stun::MessageClass::Request);
    stun::TrackResult tr;
    if (Slot* s = slot(r)) {
        s->validator.on_message(msg);
        tr = s->tracker->on_message(msg, static_cast<uint64_t>(ts_us));
        if (tr.event == stun::TrackEvent::Request && stun::is_ice_check(msg)) ++s->ice_checks;
        switch (tr.event) {
            case stun::TrackEvent::Request: s->server_requests += d == flow::kFromServer; break;
            case stun::TrackEvent::Retransmission: s->server_retransmissions += d == flow::kFromServer; break;
            case stun::TrackEvent::Answered:
            case stun::TrackEvent::ErrorAnswered: s->server_answered += d == flow::kFromClient; break;
            default: break;
        }
    }
    facts::StunFact fact;
    fact.flow_id = f.id;
    fact.ts_us = ts_us;
    fact.dir = d;
    fact.method = msg.method;
    fact.msg_class = msg.msg_class;
    fact.transaction_id = msg.transaction_id;
    fact.error_code = msg.error_code ? msg.error_code->code : 0;
    fact.carried = carried;
    fact.answers_request = tr.event == stun::TrackEvent::Answered || tr.event == stun::TrackEvent::ErrorAnswered;
    s_.sink->write(&fact);
    add_peers(f, a, msg, ts_us);
    if (msg.data) on_relayed(f, a, r, d, *msg.data, ts_us);
}

// TURN peers: addresses this client talks to through the relay, and the
// relay's own address, are named after the TURN server.
void StunTurn::add_peers(const flow::Flow& f, const FlowApp& a, const stun::Message& msg, int64_t ts_us) {
    if (msg.xor_peer_addresses.empty() && msg.xor_relayed_addresses.empty()) return;
    if (s_.naming_out) {
        const std::string_view sni = a.sni ? s_.naming.get(a.sni) : std::string_view();
        for (const auto& p : msg.xor_peer_addresses) s_.naming_out->turn_peer(f, sni, ts_us, from_stun(p));
        for (const auto& p : msg.xor_relayed_addresses) s_.naming_out->turn_peer(f, sni, ts_us, from_stun(p));
        return;
    }
    const uint32_t server_name = a.sni ? a.sni : s_.naming.dns_name_of(f, ts_us);
    if (!server_name) return;
    for (const auto& p : msg.xor_peer_addresses) s_.naming.add_turn_peer(from_stun(p), server_name);
    for (const auto& p : msg.xor_relayed_addresses) s_.naming.add_turn_peer(from_stun(p), server_name);
}

void StunTurn::on_relayed(const flow::Flow& f, FlowApp& a, RtcFlow& r, flow::Dir d, ByteView payload, int64_t ts_us,
                          bool via_turn) {
    if (payload.empty()) return;
    switch (rtp::classify_first_byte(payload[0])) {
        case rtp::FirstByteClass::RtpRtcp: rtp_.on_packet(f, a, r, d, payload, ts_us, via_turn); break;
        case rtp::FirstByteClass::Dtls: on_dtls(s_, a, r, payload); break;
        default: break;
    }
}

void StunTurn::on_channel_data(const flow::Flow& f, FlowApp& a, RtcFlow& r, flow::Dir d, ByteView frame, int64_t ts_us,
                               bool over_tcp) {
    auto cd = stun::decode_channel_data(frame, over_tcp);
    if (!cd) return;
    ++r.channel_data;
    ++s_.stats.channel_data;
    a.labels |= kTurnLabel;
    on_relayed(f, a, r, d, cd->payload, ts_us);
}

bool StunTurn::accept_channel_datagram(RtcFlow& r, ByteView datagram) {
    Slot* s = slot(r);
    if (!s) return false;
    const bool accepted = s->validator.on_datagram(datagram) == stun::ChannelVerdict::Accepted;
    r.channel_candidates = s->validator.has_candidates();
    return accepted;
}

void StunTurn::describe(RtcFlow& r, FlowColumns& out, bool final) {
    if (r.stun < 0) return;
    Slot& slot = pool_.at(r.stun);
    if (final) slot.tracker->finish();
    const auto& s = slot.tracker->stats();
    out.stun_requests = s.requests;
    out.stun_answered = s.answered + s.error_answered;
    out.stun_errors = s.error_answered;
    out.stun_retransmissions = s.retransmissions;
    out.stun_ice_checks = slot.ice_checks;
    out.stun_requests_s2c = slot.server_requests;
    out.stun_answered_s2c = slot.server_answered;
    out.stun_retransmissions_s2c = slot.server_retransmissions;
    if (!s.error_codes.empty()) out.stun_last_error = s.error_codes[s.error_codes.size() - 1].code;
}

void StunTurn::release(RtcFlow& r) noexcept {
    if (r.stun >= 0) pool_.release(r.stun);
    r.stun = -1;
}

}  // namespace callwall::pipeline
