// STUN/TURN over TCP (RFC 8489 §6.2.2, RFC 8656 §12.5 ChannelData padding)
// and ICE-TCP's RFC 4571 framing (RFC 6544), MS-TURN multiplexed frames:
// frames are cut from the in-order stream (proto::stun::StreamFramer) and
// handed to the media parts of the UDP analyzer (pipeline/analyzers/rtc.hpp).
// Junk where a frame should start (a frame lost to a snaplen cut, a broken
// stack) makes the direction look for the next frame instead of giving up.
#pragma once

#include "pipeline/analyzers/framed_stream_sink.hpp"
#include "pipeline/analyzers/rtc.hpp"

namespace callwall::pipeline {

struct StunTcpFlow {
    RtcFlow rtc;
    int32_t slot = -1;  ///< framing Slot lent while the flow is framed
};

class StunTcpAnalyzer final : public AppAnalyzer {
public:
    // Buffer for one TCP direction of STUN/TURN framing: a TURN message or
    // ChannelData frame carrying media fits well within it.
    static constexpr size_t kFramerBuffer = 4096;
    static constexpr size_t kSlots = 1024;

    explicit StunTcpAnalyzer(DissectShared& shared) : s_(shared) {}
    void bind(DissectShared& shared) override;
    void on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) override { start_state<StunTcpFlow>(a); }
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override;
    void on_flow_end(flow::Flow& f, FlowApp& a) override;
    void describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) override {
        rtc_->describe_media(f, flow_state<StunTcpFlow>(a).rtc, out, final);
    }
    void release(FlowApp& a) noexcept override;

private:
    struct Slot {
        std::array<std::array<uint8_t, kFramerBuffer>, 2> buf;
        std::array<std::optional<proto::stun::StreamFramer>, 2> framer;
        // The framing each direction used before a gap (kept for resynchronisation).
        std::array<proto::stun::StreamFraming, 2> framing{};
        std::array<TcpStream, 2> stream;
        void reset() noexcept { framer[0].reset(), framer[1].reset(), framing = {}, stream = {}; }
    };
    using Sink = FramedStreamSink<StunTcpAnalyzer, StunTcpFlow>;
    friend Sink;
    void bytes(flow::Flow& f, FlowApp& a, flow::Dir d, ByteView p, int64_t ts_us);
    void on_frame(flow::Flow& f, FlowApp& a, flow::Dir d, const proto::stun::Frame& frame, int64_t ts_us);

    DissectShared& s_;
    RtcAnalyzer* rtc_ = nullptr;
    Pool<Slot> pool_{kSlots};
};

/// STUN; a segment that is exactly one padded ChannelData frame (a TURN-TCP
/// capture starting mid-call: a 2^-14-ish coincidence otherwise); or RFC 4571
/// framing (a 2-byte length, then STUN).
[[nodiscard]] bool probe_stun_tcp(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_stun_tcp(DissectShared& shared);

inline constexpr AnalyzerRow kStunTcpRow{"stun-tcp",     L4::Tcp,    PortUse::Any, {},
                                         probe_stun_tcp, kRtcLabels, make_stun_tcp};

}  // namespace callwall::pipeline
