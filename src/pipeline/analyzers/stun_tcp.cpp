// STUN/TURN over TCP. See pipeline/analyzers/stun_tcp.hpp.
#include "pipeline/analyzers/stun_tcp.hpp"

namespace callwall::pipeline {

namespace stun = proto::stun;

bool probe_stun_tcp(const ProbeInput& in) noexcept {
    const ByteView p = in.payload;
    if (stun::probe(p)) return true;
    if (p.size() >= 8 && p[0] >= 0x40 && p[0] <= 0x4F) {
        const size_t framed = 4 + ((load_u16(p, 2) + 3u) & ~size_t{3});
        if (framed == p.size()) return true;
    }
    return p.size() >= 2 + stun::kHeaderLen && stun::probe(p.subspan(2));
}

std::unique_ptr<AppAnalyzer> make_stun_tcp(DissectShared& shared) { return std::make_unique<StunTcpAnalyzer>(shared); }

void StunTcpAnalyzer::bind(DissectShared& shared) { rtc_ = static_cast<RtcAnalyzer*>(shared.find(kRtcRow.name)); }

void StunTcpAnalyzer::on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
    StunTcpFlow& st = flow_state<StunTcpFlow>(a);
    if (st.slot < 0) {
        st.slot = s_.lend(pool_);
        if (st.slot < 0) return;
    }
    Sink sink(*this, f, a, d);
    s_.tcp.add(f, pool_.at(st.slot).stream[d], d, m, ts_us, sink);
}

// An RFC 4571-framed STUN Binding indication (zero transaction id): fed to a
// framer restarted after a gap on an ICE-TCP stream, so it keeps RFC 4571
// framing even when the first frame after the gap is media, not STUN
// (StreamFramer decides the framing on its first frame). Discarded.
constexpr uint8_t kRfc4571Primer[22] = {0x00, 0x14, 0x00, 0x11, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 0,
                                        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0};

void StunTcpAnalyzer::bytes(flow::Flow& f, FlowApp& a, flow::Dir d, ByteView p, int64_t ts_us) {
    const int32_t slot = flow_state<StunTcpFlow>(a).slot;
    if (slot < 0) return;
    Slot& s = pool_.at(slot);
    TcpStream& st = s.stream[d];
    if (st.resync) {
        const bool rfc4571 = s.framing[d] == stun::StreamFraming::Rfc4571;
        if (!s_.tcp.resync(st, rfc4571 ? FrameSync::Rfc4571 : FrameSync::StunDirect, p)) return;
        s.framer[d].emplace(std::span<uint8_t>(s.buf[d]));
        if (rfc4571) {
            s.framer[d]->feed(ByteView(kRfc4571Primer));
            while (s.framer[d]->next()) {}
        }
    }
    if (!s.framer[d]) s.framer[d].emplace(std::span<uint8_t>(s.buf[d]));
    stun::StreamFramer& fr = *s.framer[d];
    fr.feed(p);
    while (auto frame = fr.next()) on_frame(f, a, d, *frame, ts_us);
    if (fr.framing() != stun::StreamFraming::Unknown) s.framing[d] = fr.framing();
    if (fr.gave_up()) st.resync = true;
}

void StunTcpAnalyzer::on_frame(flow::Flow& f, FlowApp& a, flow::Dir d, const stun::Frame& frame, int64_t ts_us) {
    RtcFlow& r = flow_state<StunTcpFlow>(a).rtc;
    switch (frame.kind) {
        case stun::FrameKind::Stun: {
            auto msg = stun::decode(frame.bytes);
            if (msg) rtc_->stun().on_message(f, a, r, d, *msg, ts_us, facts::Carrier::Tcp);
            break;
        }
        case stun::FrameKind::ChannelData: rtc_->stun().on_channel_data(f, a, r, d, frame.bytes, ts_us, true); break;
        case stun::FrameKind::MsMultiplexed: a.labels |= kMsTurnLabel; break;
        case stun::FrameKind::Rfc4571Payload:
            // ICE-TCP (RFC 6544) carries media directly between the peers:
            // relayed only on a flow with TURN evidence.
            rtc_->stun().on_relayed(f, a, r, d, frame.bytes, ts_us, (a.labels & kTurnLabel) != 0);
            break;
    }
}

void StunTcpAnalyzer::on_flow_end(flow::Flow& f, FlowApp& a) {
    for (flow::Dir d : {flow::kFromClient, flow::kFromServer}) {
        const int32_t slot = flow_state<StunTcpFlow>(a).slot;  // again each time: delivery may release it
        if (slot < 0) return;
        Sink sink(*this, f, a, d);
        s_.tcp.flush(pool_.at(slot).stream[d], sink);
    }
}

void StunTcpAnalyzer::release(FlowApp& a) noexcept {
    StunTcpFlow& st = flow_state<StunTcpFlow>(a);
    if (st.slot >= 0) {
        s_.tcp.release(pool_.at(st.slot).stream);
        pool_.release(st.slot);
        st.slot = -1;
    }
    rtc_->release_media(st.rtc);
}

}  // namespace callwall::pipeline
