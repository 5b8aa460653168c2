// RTP/RTCP on a media flow (RFC 3550; RFC 5761 multiplexing): RTP is believed
// only once a Confirmer has seen a consistent sequence (direct and
// TURN-relayed media are confirmed apart); streams are kept per SSRC and
// direction with loss/jitter statistics and emitted at the flow's end. RTCP
// is counted.
#pragma once

#include <array>

#include "proto/rtp.hpp"
#include "pipeline/analyzers/rtc_flow.hpp"
#include "pipeline/app_analyzer.hpp"
#include "pipeline/buffer_pool.hpp"

namespace callwall::pipeline {

class RtpMedia {
public:
    // Streams per flow: audio + video + RTX in each direction, plus TURN-carried.
    static constexpr size_t kStreamsPerFlow = 8;
    // RTP streams with fewer packets are not reported (one or two stray
    // RTP-looking packets on a flow that is RTP for other SSRCs).
    static constexpr uint64_t kMinStreamPackets = 2;
    static constexpr size_t kSlots = 16384;

    explicit RtpMedia(DissectShared& shared) : s_(shared) {}
    /// A datagram or relayed payload whose first byte says RTP/RTCP.
    void on_packet(const flow::Flow& f, FlowApp& a, RtcFlow& r, flow::Dir d, ByteView payload, int64_t ts_us,
                   bool via_turn);
    /// Packets of confirmed streams; when `final`, each stream is emitted.
    uint64_t describe(const flow::Flow& f, RtcFlow& r, bool final);
    void release(RtcFlow& r) noexcept;

private:
    struct Stream {
        bool used = false;
        bool via_turn = false;
        uint8_t dir = 0;
        uint32_t ssrc = 0;
        int64_t first_us = 0, last_us = 0;
        proto::rtp::StreamStats stats{proto::rtp::JitterMode::Wireshark};
    };
    struct Slot {
        proto::rtp::Confirmer direct, turn;
        std::array<Stream, kStreamsPerFlow> streams;
        uint32_t streams_dropped = 0;
        void reset() noexcept { *this = Slot{}; }
    };
    inline Stream* stream_for(Slot& s, const proto::rtp::HeaderFields& h, flow::Dir d, bool via_turn,
                              int64_t ts_us) noexcept;

    DissectShared& s_;
    Pool<Slot> pool_{kSlots};
};

}  // namespace callwall::pipeline
