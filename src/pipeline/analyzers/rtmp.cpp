// RTMP analyzer. See pipeline/analyzers/rtmp.hpp.
#include "pipeline/analyzers/rtmp.hpp"

namespace callwall::pipeline {

bool probe_rtmp(const ProbeInput& in) noexcept {
    const ByteView p = in.payload;
    if (in.dir != flow::kFromClient || p.empty() || p[0] != kRtmpVersion) return false;
    if (p.size() == 1 + kRtmpHandshakeLen) return true;
    return in.port_hinted && p.size() >= 1 + 8 && p.size() < 1 + kRtmpHandshakeLen;
}

std::unique_ptr<AppAnalyzer> make_rtmp(DissectShared& shared) { return std::make_unique<RtmpAnalyzer>(shared); }

void RtmpAnalyzer::on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) {
    start_state<RtmpFlow>(a);
    a.labels |= kRtmpLabel;
}

// A server that answers with another version than 3 in S0 is no RTMP server
// (or speaks RTMPE, which is not recognised): the flow loses its label.
void RtmpAnalyzer::on_payload(flow::Flow&, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t) {
    RtmpFlow& r = flow_state<RtmpFlow>(a);
    if (d != flow::kFromServer || r.server_seen) return;
    r.server_seen = true;
    if (m.payload[0] != kRtmpVersion) a.labels &= static_cast<uint16_t>(~kRtmpLabel);
}

}  // namespace callwall::pipeline
