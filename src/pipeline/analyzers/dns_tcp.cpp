// DNS over TCP. See pipeline/analyzers/dns_tcp.hpp.
#include "pipeline/analyzers/dns_tcp.hpp"

namespace callwall::pipeline {

bool probe_dns_tcp(const ProbeInput& in) noexcept { return proto::dns::probe_tcp(in.payload); }

std::unique_ptr<AppAnalyzer> make_dns_tcp(DissectShared& shared) { return std::make_unique<DnsTcpAnalyzer>(shared); }

void DnsTcpAnalyzer::bind(DissectShared& shared) { dns_ = static_cast<DnsAnalyzer*>(shared.find(kDnsRow.name)); }

void DnsTcpAnalyzer::on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
    DnsTcpFlow& st = flow_state<DnsTcpFlow>(a);
    if (st.slot < 0) {
        st.slot = s_.lend(pool_);
        if (st.slot < 0) return;
    }
    Sink sink(*this, f, a, d);
    s_.tcp.add(f, pool_.at(st.slot).stream[d], d, m, ts_us, sink);
}

void DnsTcpAnalyzer::bytes(flow::Flow& f, FlowApp& a, flow::Dir d, ByteView p, int64_t ts_us) {
    DnsTcpFlow& fs = flow_state<DnsTcpFlow>(a);
    if (fs.slot < 0) return;
    Slot& s = pool_.at(fs.slot);
    TcpStream& st = s.stream[d];
    if (st.resync) {
        if (!s_.tcp.resync(st, FrameSync::Dns, p)) return;
        s.framer[d].reset();  // the next byte is a length prefix
    }
    bool malformed = false;
    s.framer[d].feed(p, [&](ByteView msg) {
        if (!dns_->on_message(f, a, d, fs.dns, msg, ts_us)) malformed = true;
    });
    if (malformed) st.resync = true;
}

void DnsTcpAnalyzer::on_flow_end(flow::Flow& f, FlowApp& a) {
    for (flow::Dir d : {flow::kFromClient, flow::kFromServer}) {
        const int32_t slot = flow_state<DnsTcpFlow>(a).slot;  // again each time: delivery may release it
        if (slot < 0) return;
        Sink sink(*this, f, a, d);
        s_.tcp.flush(pool_.at(slot).stream[d], sink);
    }
}

void DnsTcpAnalyzer::release(FlowApp& a) noexcept {
    DnsTcpFlow& st = flow_state<DnsTcpFlow>(a);
    if (st.slot >= 0) {
        s_.tcp.release(pool_.at(st.slot).stream);
        pool_.release(st.slot);
        st.slot = -1;
    }
    dns_->release_state(st.dns);
}

}  // namespace callwall::pipeline
