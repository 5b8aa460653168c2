// RTMP analyzer: recognises the plain RTMP handshake over TCP so the flow's
// app column says "rtmp" (Agora's RTMP converter uses TCP 30011-30013, the
// catalog's agora-2020.rtc-web.tcp-rtmp entry; 1935 is RTMP's own port).
//
// Normative reference: Adobe, "Real-Time Messaging Protocol (RTMP)
// specification" 1.0 (2012), §5.2 Handshake:
//   C0/S0   1 byte: version, 3 for plain RTMP
//   C1/S1   1536 bytes: time (4), zero (4), random bytes (1528)
//   C2/S2   1536 bytes: echo of S1/C1 (time, time2, random echo)
// The client sends C0+C1 and waits for S0+S1 (+S2) before C2, so its first
// payload is at most 1537 bytes.
//
// Not supported: RTMPE/RTMPTE (version 6, encrypted), RTMPT (HTTP
// tunnelling), RTMPS (RTMP inside TLS: the TLS analyzer owns that flow);
// nothing after the handshake is decoded (chunk stream, AMF commands).
#pragma once

#include "pipeline/app_analyzer.hpp"

namespace callwall::pipeline {

inline constexpr size_t kRtmpHandshakeLen = 1536;  ///< C1, S1, C2, S2 (spec §5.2.3)
inline constexpr uint8_t kRtmpVersion = 3;  ///< C0/S0 of plain RTMP (spec §5.2.2)

struct RtmpFlow {
    bool server_seen = false;  ///< the server's first byte (S0) was checked
};

class RtmpAnalyzer final : public AppAnalyzer {
public:
    explicit RtmpAnalyzer(DissectShared&) {}
    void on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) override;
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override;
    void describe(flow::Flow&, FlowApp&, FlowColumns&, bool) override {}
    void release(FlowApp&) noexcept override {}
};

/// The client's first payload is C0 = 3 followed by C1: exactly C0+C1 on any
/// port; on a hinted port also the first segment of a C0+C1 split by the
/// MSS (at least C0 and C1's time and zero fields).
[[nodiscard]] bool probe_rtmp(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_rtmp(DissectShared& shared);

inline constexpr PortRange kRtmpPorts[] = {{1935, 1935}, {30011, 30013}};
inline constexpr std::string_view kRtmpLabels[] = {"rtmp"};
inline constexpr uint16_t kRtmpLabel = 1u << 0;
inline constexpr AnalyzerRow kRtmpRow{"rtmp", L4::Tcp, PortUse::Hint, kRtmpPorts, probe_rtmp, kRtmpLabels, make_rtmp};

}  // namespace callwall::pipeline
