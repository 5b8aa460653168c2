// Real-time media over UDP: STUN/TURN, ChannelData, DTLS and RTP/RTCP share
// one 5-tuple and are told apart per datagram by the first byte (RFC 7983,
// RFC 9443), so one registry row owns them and hands each datagram to its
// part (pipeline/analyzers/stun.hpp, rtp.hpp, dtls.hpp). A flow with none of
// them confirmed after kGiveUpPackets datagrams is given up.
#pragma once

#include "pipeline/analyzers/rtc_flow.hpp"
#include "pipeline/analyzers/rtp.hpp"
#include "pipeline/analyzers/stun.hpp"

namespace callwall::pipeline {

class RtcAnalyzer final : public AppAnalyzer {
public:
    // The RTP confirmer rejects within 32 packets.
    static constexpr uint16_t kGiveUpPackets = 64;

    explicit RtcAnalyzer(DissectShared& shared) : s_(shared), rtp_(shared), stun_(shared, rtp_) {}
    void on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) override { start_state<RtcFlow>(a); }
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override;
    void describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) override {
        describe_media(f, flow_state<RtcFlow>(a), out, final);
    }
    void release(FlowApp& a) noexcept override { release_media(flow_state<RtcFlow>(a)); }
    /// Every STUN flow needs its transaction slot (a swept port's request and
    /// its answer, or their absence, are the flow's outcome).
    void size_for_flows(size_t flows) override { stun_.size_for_flows(flows); }

    /// The parts, shared with STUN over TCP.
    [[nodiscard]] StunTurn& stun() noexcept { return stun_; }
    void describe_media(const flow::Flow& f, RtcFlow& r, FlowColumns& out, bool final);
    void release_media(RtcFlow& r) noexcept;

private:
    DissectShared& s_;
    RtpMedia rtp_;
    StunTurn stun_;
};

/// STUN, DTLS, a ChannelData candidate (first byte 0x40..0x7F, 4 bytes or
/// more: validated per datagram later), RTP or RTCP.
[[nodiscard]] bool probe_rtc(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_rtc(DissectShared& shared);

inline constexpr AnalyzerRow kRtcRow{"rtc", L4::Udp, PortUse::Any, {}, probe_rtc, kRtcLabels, make_rtc};

}  // namespace callwall::pipeline
