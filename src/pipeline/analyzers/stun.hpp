// STUN/TURN on a media flow (RFC 8489 STUN, RFC 8656 TURN incl. ChannelData
// §12, MS-TURN; ICE checks RFC 8445): every message is a fact; requests are
// matched to their answers by a bounded transaction tracker (the flow's
// counts, and the answered mark of the request's fact); ChannelData is
// validated against the channels the flow bound; XOR-PEER-ADDRESS and
// XOR-RELAYED-ADDRESS values become TURN peers named after the server; media
// carried inside TURN goes to RTP/RTCP or DTLS.
#pragma once

#include <array>
#include <optional>

#include "proto/stun.hpp"
#include "pipeline/analyzers/rtc_flow.hpp"
#include "pipeline/analyzers/rtp.hpp"
#include "pipeline/app_analyzer.hpp"
#include "pipeline/buffer_pool.hpp"

namespace callwall::pipeline {

class StunTurn {
public:
    // Outstanding STUN transactions per flow (ICE paces checks, see proto/stun.hpp).
    static constexpr size_t kTxnSlots = 32;
    static constexpr size_t kSlots = 16384;

    StunTurn(DissectShared& shared, RtpMedia& rtp) : s_(shared), rtp_(rtp) {}

    void on_message(const flow::Flow& f, FlowApp& a, RtcFlow& r, flow::Dir d, const proto::stun::Message& msg,
                    int64_t ts_us, facts::Carrier carried);
    /// A ChannelData frame (already accepted by the validator over UDP).
    void on_channel_data(const flow::Flow& f, FlowApp& a, RtcFlow& r, flow::Dir d, ByteView frame, int64_t ts_us,
                         bool over_tcp);
    /// Media carried inside TURN (ChannelData, Send/Data indications), or
    /// RFC 4571 frames of ICE-TCP (`via_turn` false: direct between peers).
    void on_relayed(const flow::Flow& f, FlowApp& a, RtcFlow& r, flow::Dir d, ByteView payload, int64_t ts_us,
                    bool via_turn = true);
    /// Over UDP: is this datagram starting 0x40..0x7F a ChannelData frame of the flow's channels?
    [[nodiscard]] bool accept_channel_datagram(RtcFlow& r, ByteView datagram);
    /// A datagram that is neither STUN nor ChannelData (the validator's evidence).
    void on_other_datagram(RtcFlow& r) noexcept {
        if (!r.channel_candidates) return;  // nothing to break: the slot stays untouched
        r.channel_candidates = false;
        if (r.stun >= 0) pool_.at(r.stun).validator.on_other_datagram();
    }
    /// Transaction counts; `final` counts outstanding requests as unanswered.
    void describe(RtcFlow& r, FlowColumns& out, bool final);
    void release(RtcFlow& r) noexcept;
    /// Room for `flows` flows' transactions at once (AppAnalyzer::size_for_flows).
    void size_for_flows(size_t flows) noexcept { pool_.raise_capacity(flows); }

private:
    struct Slot {
        std::array<proto::stun::PendingTransaction, kTxnSlots> txns{};
        std::optional<proto::stun::TransactionTracker> tracker;
        proto::stun::ChannelValidator validator;
        uint32_t ice_checks = 0;  // new requests that are ICE connectivity checks
        // The responder's own transactions (a peer checking back, RFC 8445
        // §7.3.1.4): requests it sent, retransmitted, and got answered.
        uint32_t server_requests = 0, server_retransmissions = 0, server_answered = 0;
        void reset() noexcept {
            tracker.reset();
            txns = {};
            validator = {};
            ice_checks = server_requests = server_retransmissions = server_answered = 0;
        }
    };
    Slot* slot(RtcFlow& r);
    void add_peers(const flow::Flow& f, const FlowApp& a, const proto::stun::Message& msg, int64_t ts_us);

    DissectShared& s_;
    RtpMedia& rtp_;
    Pool<Slot> pool_{kSlots};
};

}  // namespace callwall::pipeline
