// Real-time media over UDP. See pipeline/analyzers/rtc.hpp.
#include "pipeline/analyzers/rtc.hpp"

#include "proto/dtls.hpp"
#include "pipeline/analyzers/dtls.hpp"

namespace callwall::pipeline {

namespace rtp = proto::rtp;
namespace stun = proto::stun;

bool probe_rtc(const ProbeInput& in) noexcept {
    const ByteView p = in.payload;
    if (stun::probe(p) || proto::dtls::probe(p)) return true;
    if (!p.empty() && p[0] >= 0x40 && p[0] <= 0x7F && p.size() >= 4) return true;  // ChannelData candidate
    return rtp::probe(p) || rtp::probe_rtcp(p);
}

std::unique_ptr<AppAnalyzer> make_rtc(DissectShared& shared) { return std::make_unique<RtcAnalyzer>(shared); }

namespace {

// A STUN datagram decoded into its message (attribute arrays filled from the
// packet's bytes, so its frame keeps the stack protector's guard) in a
// function of its own: the far more common RTP datagrams go through
// on_payload without setting up that frame.
[[gnu::noinline]] void on_stun_datagram(StunTurn& stun, flow::Flow& f, FlowApp& a, RtcFlow& r, flow::Dir d,
                                        ByteView payload, int64_t ts_us) {
    auto msg = stun::decode(payload);
    if (msg) stun.on_message(f, a, r, d, *msg, ts_us, facts::Carrier::Udp);
}

}  // namespace

void RtcAnalyzer::on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
    const ByteView payload = m.payload;
    RtcFlow& r = flow_state<RtcFlow>(a);
    ++r.packets;
    switch (rtp::classify_first_byte(payload[0])) {
        case rtp::FirstByteClass::Stun: on_stun_datagram(stun_, f, a, r, d, payload, ts_us); break;
        case rtp::FirstByteClass::TurnChannel:
            if (stun_.accept_channel_datagram(r, payload)) stun_.on_channel_data(f, a, r, d, payload, ts_us, false);
            break;
        case rtp::FirstByteClass::Dtls:
            stun_.on_other_datagram(r);
            on_dtls(s_, a, r, payload);
            break;
        case rtp::FirstByteClass::RtpRtcp:
            stun_.on_other_datagram(r);
            rtp_.on_packet(f, a, r, d, payload, ts_us, false);
            break;
        default: stun_.on_other_datagram(r); break;
    }
    // Nothing confirmed after a while: not an RTC flow after all.
    if (r.packets >= kGiveUpPackets && !(a.labels & (kStunLabel | kTurnLabel | kDtlsLabel | kRtpLabel | kRtcpLabel))) {
        release_media(r);
        a.analyzer = FlowApp::kUnknown;
    }
}

void RtcAnalyzer::describe_media(const flow::Flow& f, RtcFlow& r, FlowColumns& out, bool final) {
    stun_.describe(r, out, final);
    out.rtp_packets = rtp_.describe(f, r, final);
    out.channel_data = r.channel_data;
    out.rtcp_packets = r.rtcp_packets;
    out.dtls_handshake = r.dtls_handshake;
}

void RtcAnalyzer::release_media(RtcFlow& r) noexcept {
    stun_.release(r);
    rtp_.release(r);
}

}  // namespace callwall::pipeline
